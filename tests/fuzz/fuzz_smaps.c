/* /proc/PID/smaps, maps and smaps_rollup (readers/proc_smaps.c: gsm_smaps_parse), then the
 * classification and totals that run over what was parsed. */
#include "fuzz.h"
#include "analyses/classify.h"
#include "analyses/totals.h"
#include "readers/proc_smaps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *buf = fuzz_copy(data, size);
    for (int rollup = 0; rollup < 2; rollup++) {
        struct gsm_process p;
        struct gsm_parse_error err = {0};
        gsm_process_init(&p, 1);
        if (gsm_smaps_parse(&p, buf, size, rollup, &err) == 0 && !rollup) {
            struct gsm_totals t;
            gsm_classify(&p);
            gsm_totals_compute(&p, &t);
            struct gsm_reconcile_row rows[GSM_F__COUNT];
            bool ok;
            (void)gsm_reconcile_rollup(&p, &t, rows, &ok);
        }
        gsm_process_free(&p);
    }
    free(buf);
    return 0;
}
