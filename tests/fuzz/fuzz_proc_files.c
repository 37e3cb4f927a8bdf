/* The small /proc/PID files (readers/proc_files.c): status, stat, statm, oom_score(_adj),
 * task/TID/syscall, task/TID/schedstat, limits. Every parser gets the same bytes. */
#include "fuzz.h"
#include "readers/proc_files.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *buf = fuzz_copy(data, size);
    struct gsm_parse_error err = {0};
    struct gsm_status st;
    struct gsm_stat sa;
    struct gsm_statm sm;
    int64_t i64;
    uint64_t u64;
    (void)gsm_parse_status(buf, size, &st, &err);
    (void)gsm_parse_stat(buf, size, &sa, &err);
    (void)gsm_parse_statm(buf, size, &sm, &err);
    (void)gsm_parse_int_file(buf, size, &i64, &err);
    (void)gsm_parse_task_syscall_sp(buf, size, &u64);
    (void)gsm_parse_limits_stack(buf, size, &u64, &err);
    uint64_t run, wait;
    (void)gsm_parse_schedstat(buf, size, &run, &wait);
    free(buf);
    return 0;
}
