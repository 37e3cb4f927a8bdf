/* advise --prometheus: a Prometheus server's /api/v1/query_range response body
 * (readers/prom_range.c: gsm_prom_parse_range), read as gsmapper's own series and as cAdvisor's,
 * at a minute's and at an hour's step. A body is whatever the server (or anything listening at
 * the URL given) sends: not NUL-terminated here. Invariants: a failure says why (err set) and
 * returns no targets; each target has a key "<type>:<name>", and rows whose window starts
 * before their own end. */
#include "fuzz.h"
#include "readers/prom_range.h"

static void check(const struct gsm_hist_target *t, size_t n, uint64_t step_s) {
    for (size_t i = 0; i < n; i++) {
        FUZZ_ASSERT(t[i].key && t[i].type && t[i].name);
        FUZZ_ASSERT(strncmp(t[i].key, t[i].type, strlen(t[i].type)) == 0);
        for (size_t j = 0; j < t[i].n_rows; j++) {
            const struct gsm_hist_row *r = &t[i].rows[j];
            FUZZ_ASSERT(r->n == 1 && r->res_s >= 60);
            FUZZ_ASSERT(r->t_ms <= UINT64_MAX - step_s * 1000);
            FUZZ_ASSERT(r->s[GSM_HS_WS].max_bytes == r->s[GSM_HS_WS].p50_bytes);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *buf = fuzz_copy(data, size);
    static const uint64_t steps[] = {60, 3600};
    for (int src = GSM_PROM_GSMAPPER; src <= GSM_PROM_CADVISOR; src++) {
        for (size_t s = 0; s < 2; s++) {
            struct gsm_hist_target *t = NULL;
            size_t n = 0;
            char err[256] = "";
            int r = gsm_prom_parse_range(buf, size, (enum gsm_prom_source)src, steps[s], &t, &n, err, sizeof err);
            if (r < 0) {
                FUZZ_ASSERT(err[0] && !t);
                continue;
            }
            check(t, n, steps[s]);
            for (size_t i = 0; i < n; i++)
                gsm_hist_target_free(&t[i]);
            free(t);
        }
    }
    free(buf);
    return 0;
}
