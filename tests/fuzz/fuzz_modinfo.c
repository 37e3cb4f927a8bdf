/* The module information of a Go binary's build info (readers/go_modinfo.c): path, mod, dep,
 * => and build lines, quoted values. gsm_go_modinfo_parse takes a C string (elf_go.c hands it
 * one), so this harness NUL-terminates; the unquote helper gets the same string. */
#include "fuzz.h"
#include "readers/go_modinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *s = fuzz_cstr(data, size);
    struct gsm_go_buildinfo bi;
    size_t line;
    if (gsm_go_modinfo_parse(s, &bi, &line) == 0)
        gsm_go_buildinfo_free(&bi);
    size_t n;
    free(gsm_go_unquote_prefix(s, &n));
    free(s);
    return 0;
}
