/* The three Go runtime statistics formats (readers/go_stats_parse.c): the MemStats block of
 * /debug/pprof/heap?debug=1, expvar /debug/vars, and Prometheus text. Every parser gets the
 * same bytes. */
#include "fuzz.h"
#include "readers/go_stats_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *buf = fuzz_copy(data, size);
    char err[256];
    struct gsm_go_stats st;
    (void)gsm_go_parse_pprof_memstats(buf, size, &st, err, sizeof err);
    (void)gsm_go_parse_expvar(buf, size, &st, err, sizeof err);
    (void)gsm_go_parse_prometheus(buf, size, &st, err, sizeof err);
    free(buf);
    return 0;
}
