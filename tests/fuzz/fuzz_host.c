/* Host files (readers/host.c): transparent_hugepage/enabled, /proc/meminfo, one-number files
 * (max_map_count). */
#include "fuzz.h"
#include "readers/host.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *buf = fuzz_copy(data, size);
    char mode[32];
    struct gsm_meminfo mi;
    uint64_t u;
    (void)gsm_parse_thp_enabled(buf, size, mode, sizeof mode);
    (void)gsm_parse_meminfo(buf, size, &mi);
    (void)gsm_parse_host_u64(buf, size, &u);
    free(buf);
    return 0;
}
