#include "test.h"
#include "readers/proc_files.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

TEST(stat_comm_with_spaces_and_parens) {
    static const char s[] = "4242 (evil) S 1 (x) ) R 1 4242 4242 0 -1 4194560 100 0 7 0 11 12 0 0 20 0 5 0 987654 "
                            "123456789 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
    struct gsm_stat st;
    struct gsm_parse_error err = {0};
    CHECK(gsm_parse_stat(s, sizeof s - 1, &st, &err) == 0);
    CHECK_STREQ(st.comm, "evil) S 1 (x) ");
    CHECK(st.state == 'R');
    CHECK_EQ_U64(st.ppid, 1);
    CHECK_EQ_U64(st.flags, 4194560);
    CHECK(!(st.flags & GSM_PF_KTHREAD));
    CHECK_EQ_U64(st.minflt, 100);
    CHECK_EQ_U64(st.majflt, 7);
    CHECK_EQ_U64(st.utime_ticks, 11);
    CHECK_EQ_U64(st.num_threads, 5);
    CHECK_EQ_U64(st.starttime_ticks, 987654);
    CHECK_EQ_U64(st.vsize_bytes, 123456789);
    CHECK_EQ_U64(st.rss_pages, 300);
}

/* A kernel thread (a real kworker's line): PF_KTHREAD in field 9, which serve --all and watch
 * --all leave out. */
TEST(stat_kernel_thread_flag) {
    static const char s[] = "12685 (kworker/0:100-events) I 2 0 0 0 -1 69238880 0 0 0 0 0 0 0 0 20 0 1 0 235312 0 0 "
                            "18446744073709551615 0 0 0 0 0 0 0 2147483647 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
    struct gsm_stat st;
    struct gsm_parse_error err = {0};
    CHECK(gsm_parse_stat(s, sizeof s - 1, &st, &err) == 0);
    CHECK_STREQ(st.comm, "kworker/0:100-events");
    CHECK(st.flags & GSM_PF_KTHREAD);
    CHECK_EQ_U64(st.ppid, 2);
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

/* Issue 12: numeric edge cases (2^64 - 1 kB, negative, 25 digits), run under UBSan in the
 * ASan build: each is refused as malformed or kept exactly, never wrapped. */
TEST(status_stat_statm_numeric_edges) {
    struct gsm_status st;
    struct gsm_parse_error err = {0};
    static const char max_kb[] = "Name:\tx\nVmRSS:\t18446744073709551615 kB\n";
    CHECK(gsm_parse_status(max_kb, sizeof max_kb - 1, &st, &err) == -EBADMSG);
    CHECK_EQ_U64(err.line, 2);
    static const char max_kb_fits[] = "Name:\tx\nVmRSS:\t18014398509481983 kB\n";   /* (2^64 - 1) / 1024 */
    CHECK(gsm_parse_status(max_kb_fits, sizeof max_kb_fits - 1, &st, &err) == 0);
    CHECK_EQ_U64(st.vm_rss_bytes, UINT64_C(18014398509481983) * 1024);
    static const char neg[] = "Name:\tx\nVmRSS:\t-4 kB\n";
    CHECK(gsm_parse_status(neg, sizeof neg - 1, &st, &err) == -EBADMSG);
    static const char max_count[] = "Name:\tx\nThreads:\t18446744073709551615\n";
    CHECK(gsm_parse_status(max_count, sizeof max_count - 1, &st, &err) == 0);
    CHECK_EQ_U64(st.threads, UINT64_MAX);
    static const char over_count[] = "Name:\tx\nThreads:\t18446744073709551616\n";
    CHECK(gsm_parse_status(over_count, sizeof over_count - 1, &st, &err) == -EBADMSG);

    struct gsm_stat sa;
    static const char stat_edges[] = "1 (x) S -1 1 1 0 -1 0 18446744073709551615 0 0 0 1 1 0 0 20 0 "
                                     "-9223372036854775808 0 18446744073709551615 1 1\n";
    CHECK(gsm_parse_stat(stat_edges, sizeof stat_edges - 1, &sa, &err) == 0);
    CHECK_EQ_U64(sa.minflt, INT64_MAX);          /* held at INT64_MAX, not wrapped */
    CHECK_EQ_U64(sa.starttime_ticks, INT64_MAX);
    static const char stat_25[] = "1 (x) S 1 1 1 0 -1 0 1234567890123456789012345 0 0 0 1 1 0 0 20 0 1 0 5 1 1\n";
    CHECK(gsm_parse_stat(stat_25, sizeof stat_25 - 1, &sa, &err) == -EBADMSG);

    struct gsm_statm sm;
    CHECK(gsm_parse_statm("1234567890123456789012345 1 1 1 0 1 0\n", 38, &sm, &err) == -EBADMSG);
    CHECK(gsm_parse_statm("-1 1 1 1 0 1 0\n", 15, &sm, &err) == -EBADMSG);
    CHECK(gsm_parse_statm("18446744073709551615 1 1 1 0 1 0\n", 33, &sm, &err) == 0);
    CHECK_EQ_U64(sm.size, UINT64_MAX);
    int64_t v;
    CHECK(gsm_parse_int_file("-9223372036854775809\n", 21, &v, &err) == -EBADMSG);
    CHECK(gsm_parse_int_file("1234567890123456789012345\n", 26, &v, &err) == -EBADMSG);
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

TEST(schedstat_and_cpu_demand) {
    uint64_t run, wait;
    CHECK(gsm_parse_schedstat("569492825 657117793 1572\n", 25, &run, &wait) == 0);
    CHECK_EQ_U64(run, 569492825);
    CHECK_EQ_U64(wait, 657117793);
    CHECK(gsm_parse_schedstat("123 ", 4, &run, &wait) == -EBADMSG);   /* unterminated, no second field */
    CHECK(gsm_parse_schedstat("1 99999999999999999999999 3\n", 28, &run, &wait) == -EBADMSG);
    /* a process with two threads, one of them spinning: it asked for about as much CPU as the
     * wall time the spin lasted (run + wait: on a busy machine it waits instead of running) */
    int fd = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    CHECK(fd >= 0);
    uint64_t a, b;
    int r = gsm_read_cpu_demand_at(fd, 256, &a);
    if (r == -ENOTSUP) {
        printf("SKIP-NOTE schedstat not kept by this kernel\n");
        close(fd);
        return;
    }
    CHECK(r == 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    volatile uint64_t x = 0;
    do {
        for (int i = 0; i < 100000; i++)
            x += (uint64_t)i;
        clock_gettime(CLOCK_MONOTONIC, &t1);
    } while ((t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec) < 200000000LL);
    (void)x;   /* the spin is the point: clang -Wunused-but-set-variable otherwise (ASan build) */
    CHECK(gsm_read_cpu_demand_at(fd, 256, &b) == 0);
    CHECK(b - a >= 150000000ull);   /* >= 0.15 s of the 0.2 s spin */
    CHECK(b - a <= 2000000000ull);
    CHECK(gsm_read_cpu_demand_at(fd, 0, &b) == -ERANGE);
    close(fd);
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

/* Issue 16: one process handle. A fixture tree whose stat start time the test rewrites between
 * two reads of one explain (status... then smaps) stands for a PID recycled in between. */
#include "readers/proc_snapshot.h"
#include "util/fileio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int write_stat_start(const char *dir, const char *start) {
    /* The captured stat of proc-c-shape with field 22 replaced. */
    char path[512], text[1024];
    snprintf(path, sizeof path, "%s/proc/1001/stat", dir);
    snprintf(text, sizeof text,
             "23842 (shape) T 23834 23790 1173 0 -1 4194304 21119 0 0 0 0 6 0 0 20 0 5 0 %s 153554944 29040 "
             "18446744073709551615 93921624170496 93921624173429 140731991009328 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n",
             start);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

static bool copy_fixture(char *dir, size_t size) {
    snprintf(dir, size, "/tmp/gsm-handle-XXXXXX");
    if (!mkdtemp(dir))
        return false;
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cp -a '%s/fixtures/proc-c-shape/.' '%s/'", gsm_test_dir(), dir);
    return system(cmd) == 0;
}

static void remove_tree(const char *dir) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

TEST(proc_handle_recycled_pid_is_gone) {
    char dir[64];
    if (!copy_fixture(dir, sizeof dir)) {
        gsm_test_skip("cannot copy tests/fixtures/proc-c-shape");
        return;
    }
    struct gsm_root root;
    CHECK(gsm_root_open(dir, &root) == 0);
    struct gsm_proc h = GSM_PROC_INIT;
    CHECK(gsm_proc_handle_open(&root, 1001, &h) == 0);
    CHECK(h.have_start);
    CHECK_EQ_U64(h.start_ticks, 96997);   /* field 22 of the captured stat */
    CHECK(h.pidfd == -1);                  /* a fixture tree has no live process */

    struct gsm_read_opts opts = {.smaps = false};
    struct gsm_read_error err;
    struct gsm_process p;
    /* Positive control: unchanged, the two reads succeed. */
    gsm_process_init(&p, 1001);
    CHECK(gsm_process_read(&root, &h, &opts, &p, &err) == 0);
    CHECK(gsm_process_read_smaps(&h, &opts, &p, &err) == 0);
    CHECK(p.have_smaps && p.n_maps > 0);
    CHECK(gsm_proc_handle_check(&h) == 0);
    gsm_process_free(&p);

    /* The same PID, a later start time between the two reads: the second read says gone. */
    gsm_process_init(&p, 1001);
    CHECK(gsm_process_read(&root, &h, &opts, &p, &err) == 0);
    CHECK(write_stat_start(dir, "123456") == 0);
    CHECK(gsm_process_read_smaps(&h, &opts, &p, &err) == -ESRCH);
    CHECK(gsm_proc_handle_check(&h) == -ESRCH);
    gsm_process_free(&p);

    /* A handle opened before the change and a read that starts after it: stat itself differs. */
    gsm_process_init(&p, 1001);
    CHECK(write_stat_start(dir, "96997") == 0);
    CHECK(gsm_proc_handle_check(&h) == 0);
    CHECK(write_stat_start(dir, "96998") == 0);
    CHECK(gsm_process_read(&root, &h, &opts, &p, &err) == -ESRCH);
    gsm_process_free(&p);

    /* Gone altogether: stat removed. */
    char path[128];
    snprintf(path, sizeof path, "%s/proc/1001/stat", dir);
    CHECK(unlink(path) == 0);
    CHECK(gsm_proc_handle_check(&h) == -ESRCH);

    gsm_proc_handle_close(&h);
    CHECK(h.dirfd == -1 && h.pidfd == -1);
    gsm_root_close(&root);
    remove_tree(dir);
}

/* On the live system: our own child, checked while it runs and after it was reaped. */
TEST(proc_handle_live_child_exit) {
    struct gsm_root root;
    CHECK(gsm_root_open(NULL, &root) == 0);
    pid_t child = fork();
    if (child == 0) {
        pause();
        _exit(0);
    }
    CHECK(child > 0);
    struct gsm_proc h = GSM_PROC_INIT;
    CHECK(gsm_proc_handle_open(&root, child, &h) == 0);
    CHECK(h.have_start);
    CHECK(gsm_proc_handle_check(&h) == 0);
    kill(child, SIGKILL);
    int st;
    CHECK(waitpid(child, &st, 0) == child);
    CHECK(gsm_proc_handle_check(&h) == -ESRCH);
    gsm_proc_handle_close(&h);
    gsm_root_close(&root);
}

#include "readers/proc_access.h"

#include <fcntl.h>
#include <sys/stat.h>

/* readers/proc_access.c over a root tree of our own: the hidepid= of the /proc mount on top
 * (proc(5): 0/off shows every process), and no hint for a caller that is root. */
static bool hidepid_of(const char *mountinfo, char *v, size_t vlen) {
    char dir[] = "/tmp/gsm-hidepid-XXXXXX", path[128];
    if (!mkdtemp(dir))
        return false;
    snprintf(path, sizeof path, "%s/proc", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/proc/self", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/proc/self/mountinfo", dir);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(mountinfo, f);
        fclose(f);
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    bool r = fd >= 0 && gsm_proc_hidepid(fd, v, vlen);
    if (fd >= 0)
        close(fd);
    unlink(path);
    snprintf(path, sizeof path, "%s/proc/self", dir);
    rmdir(path);
    snprintf(path, sizeof path, "%s/proc", dir);
    rmdir(path);
    rmdir(dir);
    return r;
}

TEST(proc_access_hidepid) {
    char v[32] = "";
    CHECK(!hidepid_of("22 1 0:20 / /proc rw,nosuid - proc proc rw\n", v, sizeof v));
    CHECK(hidepid_of("22 1 0:20 / /proc rw - proc proc rw\n"
                     "65 22 0:39 / /proc rw,nosuid - proc proc rw,hidepid=invisible,gid=4\n", v, sizeof v));
    CHECK(strcmp(v, "invisible") == 0);
    CHECK(hidepid_of("22 1 0:20 / /proc rw - proc proc rw,hidepid=2\n", v, sizeof v) && strcmp(v, "2") == 0);
    CHECK(!hidepid_of("22 1 0:20 / /proc rw - proc proc rw,hidepid=2\n65 22 0:39 / /proc rw - proc proc rw,hidepid=0\n",
                      v, sizeof v));   /* the mount on top shows all */
    CHECK(!hidepid_of("22 1 0:20 / /mnt/proc rw - proc proc rw,hidepid=2\n", v, sizeof v));   /* not /proc */
}
