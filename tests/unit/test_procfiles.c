#include "test.h"
#include "readers/proc_files.h"

#include <errno.h>

TEST(stat_comm_with_spaces_and_parens) {
    static const char s[] = "4242 (evil) S 1 (x) ) R 1 4242 4242 0 -1 4194560 100 0 7 0 11 12 0 0 20 0 5 0 987654 "
                            "123456789 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
    struct gsm_stat st;
    struct gsm_parse_error err = {0};
    CHECK(gsm_parse_stat(s, sizeof s - 1, &st, &err) == 0);
    CHECK_STREQ(st.comm, "evil) S 1 (x) ");
    CHECK(st.state == 'R');
    CHECK_EQ_U64(st.ppid, 1);
    CHECK_EQ_U64(st.minflt, 100);
    CHECK_EQ_U64(st.majflt, 7);
    CHECK_EQ_U64(st.utime_ticks, 11);
    CHECK_EQ_U64(st.num_threads, 5);
    CHECK_EQ_U64(st.starttime_ticks, 987654);
    CHECK_EQ_U64(st.vsize_bytes, 123456789);
    CHECK_EQ_U64(st.rss_pages, 300);
}

TEST(stat_truncated) {
    struct gsm_stat st;
    struct gsm_parse_error err = {0};
    CHECK(gsm_parse_stat("12 (x) S 1 2 3", 14, &st, &err) == -EBADMSG);
    CHECK(gsm_parse_stat("12 x S 1 2 3", 12, &st, &err) == -EBADMSG);
}

TEST(status_fields) {
    static const char s[] =
        "Name:\tgo svc\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t77\nNgid:\t0\nPid:\t77\nPPid:\t1\n"
        "Uid:\t1000\t1001\t1000\t1000\nVmPeak:\t  200 kB\nVmSize:\t  180 kB\nVmHWM:\t 90 kB\nVmRSS:\t 80 kB\n"
        "RssAnon:\t 50 kB\nRssFile:\t 20 kB\nRssShmem:\t 10 kB\nVmPTE:\t 12 kB\nVmSwap:\t 4 kB\nThreads:\t9\n"
        "Cpus_allowed_list:\t0-1\n";
    struct gsm_status st;
    struct gsm_parse_error err = {0};
    CHECK(gsm_parse_status(s, sizeof s - 1, &st, &err) == 0);
    CHECK_STREQ(st.name, "go svc");
    CHECK(st.state == 'S');
    CHECK_EQ_U64(st.tgid, 77);
    CHECK_EQ_U64(st.uid_effective, 1001);
    CHECK_EQ_U64(st.vm_rss_bytes, 80 * 1024);
    CHECK_EQ_U64(st.rss_shmem_bytes, 10 * 1024);
    CHECK_EQ_U64(st.threads, 9);
    CHECK(st.has_rss_split);
}

TEST(status_hostile) {
    struct gsm_status st;
    struct gsm_parse_error err = {0};
    static const char big[] = "Name:\tx\nVmRSS:\t1234567890123456789012345 kB\n";
    CHECK(gsm_parse_status(big, sizeof big - 1, &st, &err) == -EBADMSG);
    CHECK_EQ_U64(err.line, 2);
    CHECK(gsm_parse_status("VmRSS:\t4 kB\n", 12, &st, &err) == -EBADMSG);   /* no Name */
    CHECK(gsm_parse_status("Name x\n", 7, &st, &err) == -EBADMSG);
}

TEST(statm_and_int_files) {
    struct gsm_statm sm;
    struct gsm_parse_error err = {0};
    CHECK(gsm_parse_statm("100 50 20 10 0 30 0\n", 20, &sm, &err) == 0);
    CHECK_EQ_U64(sm.resident, 50);
    CHECK_EQ_U64(sm.data, 30);
    CHECK(gsm_parse_statm("100 50\n", 7, &sm, &err) == -EBADMSG);
    int64_t v;
    CHECK(gsm_parse_int_file("-1000\n", 6, &v, &err) == 0 && v == -1000);
    CHECK(gsm_parse_int_file("12abc\n", 6, &v, &err) == -EBADMSG);
}

TEST(task_syscall_sp) {
    uint64_t sp;
    static const char in_syscall[] = "202 0x7f00 0x80 0x0 0x0 0x0 0x0 0x7ffd5a1c8e38 0x7f3e1\n";
    CHECK(gsm_parse_task_syscall_sp(in_syscall, sizeof in_syscall - 1, &sp) == 0);
    CHECK_EQ_U64(sp, 0x7ffd5a1c8e38);
    CHECK(gsm_parse_task_syscall_sp("-1 0x7ffe10 0x40100\n", 20, &sp) == 0);
    CHECK_EQ_U64(sp, 0x7ffe10);
    CHECK(gsm_parse_task_syscall_sp("running\n", 8, &sp) == 0);
    CHECK_EQ_U64(sp, 0);
}

TEST(limits_stack) {
    static const char s[] =
        "Limit                     Soft Limit           Hard Limit           Units     \n"
        "Max cpu time              unlimited            unlimited            seconds   \n"
        "Max stack size            8388608              unlimited            bytes     \n";
    uint64_t v = 1;
    struct gsm_parse_error err = {0};
    CHECK(gsm_parse_limits_stack(s, sizeof s - 1, &v, &err) == 0);
    CHECK_EQ_U64(v, 8388608);
    static const char u[] = "Max stack size            unlimited            unlimited            bytes\n";
    CHECK(gsm_parse_limits_stack(u, sizeof u - 1, &v, &err) == 0);
    CHECK_EQ_U64(v, 0);
    CHECK(gsm_parse_limits_stack("Max cpu time 1 1 s\n", 19, &v, &err) == -EBADMSG);
}
