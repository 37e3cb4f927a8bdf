/* The --read-env scanner over /proc/PID/environ (readers/proc_environ.c) and the value parsers
 * of GOMEMLIMIT and GOGC (model/go_env.c). Oracle: the scanner is fed the same bytes whole and
 * split at two points taken from the input; the results must be equal (its contract: "feed it
 * any split of the bytes"). */
#include "fuzz.h"
#include "readers/proc_environ.h"

static void scan(const char *buf, size_t size, size_t cut1, size_t cut2, struct gsm_go_env *ret) {
    struct gsm_go_env_scanner s;
    gsm_go_env_scan_init(&s);
    gsm_go_env_scan_feed(&s, buf, cut1);
    gsm_go_env_scan_feed(&s, buf + cut1, cut2 - cut1);
    gsm_go_env_scan_feed(&s, buf + cut2, size - cut2);
    gsm_go_env_scan_finish(&s, ret);
}

static bool var_eq(const struct gsm_go_env_var *a, const struct gsm_go_env_var *b) {
    return a->present == b->present && a->truncated == b->truncated && (!a->present || strcmp(a->value, b->value) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *buf = fuzz_copy(data, size);
    size_t cut1 = size ? data[0] % (size + 1) : 0, cut2 = size > 1 ? data[1] % (size + 1) : 0;
    if (cut1 > cut2) {
        size_t t = cut1;
        cut1 = cut2, cut2 = t;
    }
    struct gsm_go_env whole, split;
    scan(buf, size, 0, 0, &whole);
    scan(buf, size, cut1, cut2, &split);
    FUZZ_ASSERT(var_eq(&whole.gomemlimit, &split.gomemlimit) && var_eq(&whole.gogc, &split.gogc) &&
                var_eq(&whole.godebug, &split.godebug) && var_eq(&whole.gomaxprocs, &split.gomaxprocs));
    uint64_t limit;
    int32_t gogc;
    if (whole.gomemlimit.present)
        (void)gsm_parse_gomemlimit(whole.gomemlimit.value, &limit);
    if (whole.gogc.present)
        (void)gsm_parse_gogc(whole.gogc.value, &gogc);
    free(buf);
    return 0;
}
