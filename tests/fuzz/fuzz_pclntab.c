/* The Go pclntab (readers/go_pclntab.c: the 1.2, 1.16, 1.18 and 1.20 layouts) and look-ups of
 * PCs spread over the text range it claims, and at its ends. */
#include "fuzz.h"
#include "readers/go_pclntab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *buf = fuzz_copy(data, size);
    struct gsm_pclntab *t = NULL;
    if (gsm_pclntab_parse(buf, size, 0x401000, &t) == 0) {
        uint64_t lo, hi;
        struct gsm_symbol s;
        gsm_pclntab_text_range(t, &lo, &hi);
        (void)gsm_pclntab_nfunc(t);
        (void)gsm_pclntab_version(t);
        uint64_t span = hi > lo ? hi - lo : 0;
        for (int i = 0; i <= 16; i++)
            (void)gsm_pclntab_lookup(t, lo + span / 16 * (uint64_t)i, &s);
        (void)gsm_pclntab_lookup(t, hi - 1, &s);
        (void)gsm_pclntab_lookup(t, UINT64_MAX, &s);
        gsm_pclntab_free(t);
    }
    free(buf);
    return 0;
}
