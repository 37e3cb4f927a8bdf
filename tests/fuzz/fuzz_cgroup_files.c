/* cgroup files (readers/cgroup.c): memory.stat (v1 and v2), memory.events, memory.pressure,
 * memory.oom_control, one-number files, limit files, and /proc/PID/cgroup with the container
 * identity parsed from each path (analyses/cgroup_analysis.c). */
#include "fuzz.h"
#include "analyses/cgroup_analysis.h"
#include "readers/cgroup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *buf = fuzz_copy(data, size);
    for (int v = 0; v < 2; v++) {
        struct gsm_cg_stat st;
        if (gsm_parse_cg_stat(buf, size, v ? GSM_CGROUP_V2 : GSM_CGROUP_V1, &st) == 0) {
            uint64_t x;
            (void)gsm_cg_stat_get(&st, "inactive_file", &x);
            gsm_cg_stat_free(&st);
        }
    }
    struct gsm_cg_events ev;
    if (gsm_parse_cg_events(buf, size, &ev) == 0)
        gsm_cg_events_free(&ev);
    struct gsm_cg_pressure pr;
    (void)gsm_parse_cg_pressure(buf, size, &pr);
    struct gsm_cg_oom_control oc;
    (void)gsm_parse_cg_oom_control(buf, size, &oc);
    uint64_t u;
    (void)gsm_parse_cg_u64(buf, size, &u);
    struct gsm_cg_limit lim;
    (void)gsm_parse_cg_limit(buf, size, &lim);
    struct gsm_proc_cgroup pc;
    if (gsm_parse_proc_cgroup(buf, size, &pc) == 0) {
        for (size_t i = 0; i < pc.n_entries; i++) {
            struct gsm_container_identity id;
            if (pc.entries[i].path)
                (void)gsm_container_identity_parse(pc.entries[i].path, &id);
        }
        gsm_proc_cgroup_free(&pc);
    }
    free(buf);
    return 0;
}
