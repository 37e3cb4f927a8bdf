/* util/sandbox: fork-based negative tests. A child applies the sandbox as watch/serve/explain
 * do, then tries what it must not be able to do; each refusal is checked against a positive
 * control made in the same child before the sandbox (or by the unsandboxed parent). The child
 * reports with its exit code: 0 all as expected, 10 + step where it was not. */
#include "test.h"
#include "util/sandbox.h"
#include "util/proc_broker.h"
#include "readers/proc_priv.h"
#include "util/fileio.h"
#include "util/root.h"

#include <dirent.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN 1
#endif
#endif

static int run_child(int (*fn)(void *), void *arg) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        _exit(fn(arg));
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static int sandbox_on(const char *write_dir, bool exec) {
    struct gsm_sandbox sb;
    gsm_sandbox_init(&sb);
    sb.mode = GSM_SANDBOX_ON;
    sb.allow_exec = exec;
    if (write_dir)
        gsm_sandbox_allow_write(&sb, write_dir);
    return gsm_sandbox_apply(&sb, "test");
}

static int child_exec(void *arg) {
    (void)arg;
    if (!(sandbox_on(NULL, false) & GSM_SANDBOX_SECCOMP))
        return 2;
    char *const argv[] = {(char *)"/bin/true", NULL};
    execve("/bin/true", argv, NULL);
    return errno == EPERM ? 0 : 11;   /* reached only when execve failed */
}

TEST(sandbox_refuses_execve) {
    /* Positive control: the same execve works unsandboxed. */
    pid_t pid = fork();
    if (pid == 0) {
        char *const argv[] = {(char *)"/bin/true", NULL};
        execve("/bin/true", argv, NULL);
        _exit(99);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    int r = run_child(child_exec, NULL);
#ifdef GSM_HAVE_SECCOMP
    CHECK(r != 2);   /* built with libseccomp: the filter must load */
#endif
    if (r == 2)
        SKIP("seccomp not available (built without libseccomp)");
    CHECK_EQ_U64(r, 0);
}

struct dirs {
    char in[64], out[64];
};

static int child_write(void *arg) {
    const struct dirs *d = arg;
    char in[128], out[128];
    snprintf(in, sizeof in, "%s/f", d->in);
    snprintf(out, sizeof out, "%s/f", d->out);
    int done = sandbox_on(d->in, false);
    if (!(done & GSM_SANDBOX_LANDLOCK))
        return 2;
    int fd = open(in, O_WRONLY | O_CREAT | O_EXCL, 0600);   /* allowed: the write dir */
    if (fd < 0)
        return 11;
    close(fd);
    fd = open(out, O_WRONLY | O_CREAT | O_EXCL, 0600);      /* refused: anywhere else */
    if (fd >= 0 || errno != EACCES)
        return 12;
    if (mkdirat(AT_FDCWD, out, 0700) == 0 || errno != EACCES)
        return 13;
    fd = open("/proc/self/status", O_RDONLY);               /* reads stay allowed */
    if (fd < 0)
        return 14;
    close(fd);
    return 0;
}

TEST(sandbox_writes_only_beneath_its_dirs) {
    struct dirs d;
    snprintf(d.in, sizeof d.in, "/tmp/gsm-sbx-in-XXXXXX");
    snprintf(d.out, sizeof d.out, "/tmp/gsm-sbx-out-XXXXXX");
    CHECK(mkdtemp(d.in) && mkdtemp(d.out));
    int r = run_child(child_write, &d);
    char p[128];
    snprintf(p, sizeof p, "%s/f", d.in);
    unlink(p);
    snprintf(p, sizeof p, "%s/f", d.out);
    bool out_created = access(p, F_OK) == 0;
    unlink(p);
    rmdir(p);
    rmdir(d.in);
    rmdir(d.out);
    if (r == 2)
        SKIP("Landlock not applied (kernel without it, or no CAP_SYS_PTRACE)");
    CHECK_EQ_U64(r, 0);
    CHECK(!out_created);
}

#ifndef ASAN
static int child_ptrace(void *arg) {
    pid_t target = *(pid_t *)arg;
    /* Positive control before the sandbox: attach and detach work. */
    if (ptrace(PTRACE_ATTACH, target, NULL, NULL) != 0)
        return 3;
    waitpid(target, NULL, 0);
    ptrace(PTRACE_DETACH, target, NULL, NULL);
    if (!(sandbox_on(NULL, false) & GSM_SANDBOX_SECCOMP))
        return 2;
    if (ptrace(PTRACE_ATTACH, target, NULL, NULL) == 0 || errno != EPERM)
        return 11;
    char buf[8], there[8] = "";
    struct iovec l = {buf, sizeof buf}, rm = {there, sizeof there};
    if (syscall(SYS_process_vm_readv, target, &l, 1, &rm, 1, 0) >= 0 || errno != EPERM)
        return 12;
    if (syscall(SYS_pidfd_getfd, 0, 0, 0) >= 0 || errno != EPERM)
        return 13;
    /* Not on the allow-list at all: the CAP_DAC_READ_SEARCH escape. */
    if (syscall(SYS_open_by_handle_at, AT_FDCWD, NULL, 0) >= 0 || errno != ENOSYS)
        return 14;
    return 0;
}
#endif

TEST(sandbox_refuses_ptrace_and_memory_reads) {
#ifdef ASAN
    SKIP("ASan build: LeakSanitizer needs ptrace, so the sandbox allows it there");
#else
    pid_t target = fork();
    if (target == 0) {
        pause();
        _exit(0);
    }
    int r = run_child(child_ptrace, &target);
    kill(target, SIGKILL);
    waitpid(target, NULL, 0);
    if (r == 3)
        SKIP("ptrace not permitted here even without the sandbox (Yama? no CAP_SYS_PTRACE?)");
#ifdef GSM_HAVE_SECCOMP
    CHECK(r != 2);
#endif
    if (r == 2)
        SKIP("seccomp not available (built without libseccomp)");
    CHECK_EQ_U64(r, 0);
#endif
}

/* ASan builds: a sanitizer report inside the sandbox names its frames (llvm-symbolizer was
 * started before the sandbox: execve is refused inside). */
#ifdef ASAN
#include <sanitizer/common_interface_defs.h>
static __attribute__((noinline)) int symbolized_marker_fn(void) {
    return 7;
}
static int child_symbolize(void *arg) {
    (void)arg;
    if (!(sandbox_on(NULL, false) & GSM_SANDBOX_SECCOMP))
        return 2;
    char buf[256] = "";
    __sanitizer_symbolize_pc((void *)((char *)symbolized_marker_fn + 1), "%f", buf, sizeof buf);
    return strstr(buf, "symbolized_marker_fn") ? 0 : 11;
}
#endif

TEST(sandbox_asan_reports_symbolized) {
#ifndef ASAN
    SKIP("not an ASan build");
#else
    if (symbolized_marker_fn() != 7 || access("/usr/bin/llvm-symbolizer", X_OK) != 0)
        SKIP("no llvm-symbolizer");
    int r = run_child(child_symbolize, NULL);
    if (r == 2)
        SKIP("seccomp not available (built without libseccomp)");
    CHECK_EQ_U64(r, 0);
#endif
}

/* The /proc broker: inside the Landlock domain another process's exe is hidden (EACCES) and
 * readers/proc_priv gets it through the broker; the broker answers fd/ links only for sockets. */
static int child_broker(void *arg) {
    pid_t target = *(pid_t *)arg;
    char p[64];
    snprintf(p, sizeof p, "/proc/%d", (int)target);
    int procfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (procfd < 0)
        return 3;
    if (!(sandbox_on(NULL, false) & GSM_SANDBOX_LANDLOCK))
        return 2;
    if (!gsm_broker_active())
        return 11;
    int fd = openat(procfd, "exe", O_RDONLY | O_CLOEXEC);
    if (fd >= 0 || errno != EACCES)
        return 12;   /* Landlock hides it: otherwise this test proves nothing */
    fd = gsm_proc_exe_open(procfd);
    if (fd < 0)
        return 13;
    char magic[4] = "";
    bool elf = pread(fd, magic, 4, 0) == 4 && memcmp(magic, "\177ELF", 4) == 0;
    close(fd);
    if (!elf)
        return 14;
    char link[256];
    if (gsm_proc_readlink(procfd, "exe", link, sizeof link) <= 0 || link[0] != '/')
        return 15;
    if (gsm_proc_readlink(procfd, "fd/0", link, sizeof link) != -ENOTSOCK)
        return 16;   /* another process's file names are not the broker's to give */
    char sc[256];
    if (gsm_proc_task_syscall(procfd, target, sc, sizeof sc) <= 0)
        return 17;
    return 0;
}

/* --protect inside the sandbox: Landlock refuses the open of another process's oom_score_adj;
 * the broker writes it, but only a rule's value to a process whose comm the rule names, and
 * only while the caller's pidfd says the process has not exited. */
struct oom_targets {
    pid_t live, other, zombie;
};

static int child_broker_oom(void *arg) {
    const struct oom_targets *t = arg;
    char p[64];
    snprintf(p, sizeof p, "/proc/%d", (int)t->live);
    int procfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    snprintf(p, sizeof p, "/proc/%d", (int)t->other);
    int otherfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int pidfd = (int)syscall(SYS_pidfd_open, t->live, 0);
    int other_pidfd = (int)syscall(SYS_pidfd_open, t->other, 0);
    int zombie_pidfd = (int)syscall(SYS_pidfd_open, t->zombie, 0);
    if (procfd < 0 || otherfd < 0)
        return 3;
    if (pidfd < 0 || other_pidfd < 0 || zombie_pidfd < 0)
        return 4;   /* no pidfd_open */
    const struct gsm_broker_oom_rule rule = {.comm = "gsmoomtgt", .adj = 123};
    gsm_broker_allow_oom_adj(&rule, 1);
    if (!(sandbox_on(NULL, false) & GSM_SANDBOX_LANDLOCK))
        return 2;
    int fd = openat(procfd, "oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd >= 0 || errno != EACCES)
        return 11;   /* Landlock refuses it: otherwise this test proves nothing */
    if (gsm_proc_oom_score_adj_write(procfd, pidfd, 123) != 0)
        return 12;
    if (gsm_proc_oom_score_adj_write(procfd, pidfd, 124) != -EPERM)
        return 13;   /* not the rule's value */
    if (gsm_proc_oom_score_adj_write(otherfd, other_pidfd, 123) != -EPERM)
        return 14;   /* not the rule's comm */
    if (gsm_proc_oom_score_adj_write(procfd, -1, 123) != -ESRCH)
        return 15;   /* no identity to check */
    if (gsm_broker_oom_score_adj(t->zombie, zombie_pidfd, 123) != -ESRCH)
        return 16;   /* exited: its PID may be anyone's */
    return 0;
}

static pid_t named_child(const char *name) {
    int ready[2];
    if (pipe(ready) < 0)
        return -1;
    pid_t p = fork();
    if (p == 0) {
        prctl(PR_SET_NAME, name);
        (void)!write(ready[1], "r", 1);
        pause();
        _exit(0);
    }
    char c;
    if (p > 0)
        (void)!read(ready[0], &c, 1);
    close(ready[0]);
    close(ready[1]);
    return p;
}

static int read_adj(pid_t pid) {
    char p[64], b[16] = "";
    snprintf(p, sizeof p, "/proc/%d/oom_score_adj", (int)pid);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, b, sizeof b - 1);
    if (fd >= 0)
        close(fd);
    return n > 0 ? atoi(b) : -9999;
}

TEST(sandbox_broker_writes_oom_score_adj_by_rule) {
    struct oom_targets t = {named_child("gsmoomtgt"), named_child("gsmoomother"), named_child("gsmoomtgt")};
    kill(t.zombie, SIGKILL);   /* not reaped until the end: a zombie, its pidfd readable */
    siginfo_t si;
    waitid(P_PID, (id_t)t.zombie, &si, WEXITED | WNOWAIT);
    int other_before = read_adj(t.other);
    int r = run_child(child_broker_oom, &t);
    int live_adj = read_adj(t.live), other_adj = read_adj(t.other);
    pid_t all[] = {t.live, t.other, t.zombie};
    for (size_t i = 0; i < 3; i++) {
        kill(all[i], SIGKILL);
        waitpid(all[i], NULL, 0);
    }
    if (r == 2)
        SKIP("Landlock not applied (kernel without it, or no CAP_SYS_PTRACE)");
    if (r == 4)
        SKIP("no pidfd_open (Linux < 5.3)");
    CHECK_EQ_U64(r, 0);
    CHECK_EQ_U64(live_adj, 123);
    CHECK_EQ_U64(other_adj, other_before);
}

TEST(sandbox_broker_opens_what_landlock_hides) {
    pid_t target = fork();
    if (target == 0) {
        pause();
        _exit(0);
    }
    int r = run_child(child_broker, &target);
    kill(target, SIGKILL);
    waitpid(target, NULL, 0);
    if (r == 2)
        SKIP("Landlock not applied (kernel without it, or no CAP_SYS_PTRACE)");
    CHECK_EQ_U64(r, 0);
}

/* Reads: inside the domain only the read list is readable. A file in a directory on no list
 * (a stand-in for /etc/shadow) and its directory are refused with EACCES after being readable
 * before; /etc/passwd and /sys/kernel too; /proc, the cgroup mounts and a --root directory
 * (gsm_sandbox_allow_read) stay readable; the THP settings come through the broker; in trap
 * mode the refusal is named once in the trap log. */
struct reads {
    char secret_dir[64], root_dir[64], log[96];
};

static int child_reads(void *arg) {
    const struct reads *d = arg;
    char secret[128], inroot[128];
    snprintf(secret, sizeof secret, "%s/secret", d->secret_dir);
    snprintf(inroot, sizeof inroot, "%s/f", d->root_dir);
    char *buf = NULL;
    size_t len;
    if (gsm_read_file_at(AT_FDCWD, secret, 4096, &buf, &len) != 0)
        return 3;   /* positive control: readable before */
    free(buf);
    /* a cgroup file that exists here (v1 memory, v2, hybrid) */
    static const char *const cg[] = {"/sys/fs/cgroup/memory/memory.usage_in_bytes", "/sys/fs/cgroup/cgroup.controllers",
                                     "/sys/fs/cgroup/unified/cgroup.controllers", "/sys/fs/cgroup/memory.stat"};
    const char *cgf = NULL;
    for (size_t i = 0; i < sizeof cg / sizeof *cg && !cgf; i++)
        if (access(cg[i], R_OK) == 0)
            cgf = cg[i];
    bool thp = access("/sys/kernel/mm/transparent_hugepage/enabled", R_OK) == 0;
    setenv("GSMAPPER_SANDBOX_LOG", d->log, 1);
    struct gsm_sandbox sb;
    gsm_sandbox_init(&sb);
    sb.mode = GSM_SANDBOX_TRAP;
    gsm_sandbox_allow_read(&sb, d->root_dir);
    if (!(gsm_sandbox_apply(&sb, "test") & GSM_SANDBOX_LANDLOCK))   /* skipped, or failed (10) */
        return syscall(SYS_landlock_create_ruleset, NULL, 0, 1 /* _VERSION */) < 1 || geteuid() != 0 ? 2 : 10;
    int fd = open(secret, O_RDONLY | O_CLOEXEC);
    if (fd >= 0 || errno != EACCES)
        return 11;
    if (gsm_read_file_at(AT_FDCWD, secret, 4096, &buf, &len) != -EACCES)   /* named in the log */
        return 12;
    if (gsm_read_file_at(AT_FDCWD, secret, 4096, &buf, &len) != -EACCES)   /* (once) */
        return 12;
    fd = open(d->secret_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0 || errno != EACCES)
        return 13;
    fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
    if (fd >= 0 || errno != EACCES)
        return 14;
    fd = open("/sys/kernel/mm/transparent_hugepage/enabled", O_RDONLY | O_CLOEXEC);
    if (thp && (fd >= 0 || errno != EACCES))
        return 15;
    if (gsm_read_file_at(AT_FDCWD, inroot, 4096, &buf, &len) != 0 || len != 2)
        return 16;   /* --root */
    free(buf);
    if (gsm_read_file_at(AT_FDCWD, "/proc/self/status", 1 << 20, &buf, &len) != 0)
        return 17;
    free(buf);
    if (gsm_read_file_at(AT_FDCWD, "/proc/meminfo", 1 << 20, &buf, &len) != 0)
        return 18;
    free(buf);
    DIR *dir = opendir("/proc");
    if (!dir)
        return 19;
    closedir(dir);
    if (cgf && gsm_read_file_at(AT_FDCWD, cgf, 1 << 20, &buf, &len) != 0)
        return 20;
    if (cgf)
        free(buf);
    if (!(dir = opendir("/sys/fs/cgroup")))
        return 21;
    closedir(dir);
    struct gsm_root host;
    if (thp && (gsm_root_open(NULL, &host) != 0 || gsm_host_thp_read(&host, 0, &buf, &len) != 0 || !memchr(buf, '[', len)))
        return 22;   /* through the broker */
    if (thp)
        free(buf);
    return 0;
}

TEST(sandbox_reads_only_its_list) {
    struct reads d;
    snprintf(d.secret_dir, sizeof d.secret_dir, "/tmp/gsm-sbx-secret-XXXXXX");
    snprintf(d.root_dir, sizeof d.root_dir, "/tmp/gsm-sbx-root-XXXXXX");
    CHECK(mkdtemp(d.secret_dir) && mkdtemp(d.root_dir));
    snprintf(d.log, sizeof d.log, "%s/trap.log", d.root_dir);
    char p[128], q[128];
    snprintf(p, sizeof p, "%s/secret", d.secret_dir);
    snprintf(q, sizeof q, "%s/f", d.root_dir);
    FILE *f = fopen(p, "w");
    CHECK(f && fputs("s\n", f) >= 0 && fclose(f) == 0);
    CHECK((f = fopen(q, "w")) && fputs("r\n", f) >= 0 && fclose(f) == 0);
    int r = run_child(child_reads, &d);
    char *log = NULL;
    size_t len = 0;
    gsm_read_file_at(AT_FDCWD, d.log, 1 << 16, &log, &len);
    unlink(p);
    unlink(q);
    unlink(d.log);
    rmdir(d.secret_dir);
    rmdir(d.root_dir);
    if (r == 2) {
        free(log);
        SKIP("Landlock not applied (kernel without it, or no CAP_SYS_PTRACE)");
    }
    CHECK_EQ_U64(r, 0);
    /* the refusal named once, with its path */
    char want[256];
    snprintf(want, sizeof want, "gsmapper: sandbox: Landlock refused reading %s (not on the read list", p);
    CHECK(log && strstr(log, want));
    const char *first = log ? strstr(log, want) : NULL;
    CHECK(first && !strstr(first + 1, want));
    free(log);
}
