#include "util/sandbox.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/proc_broker.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sys/stat.h>
#include <link.h>
#include <linux/capability.h>
#include <linux/landlock.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#ifdef GSM_HAVE_SECCOMP
#include <seccomp.h>
#endif

#include "util/sanitizer.h"
#ifdef GSM_ASAN
#include <sanitizer/common_interface_defs.h>

/* An ASan report names its frames through llvm-symbolizer, a process the runtime starts at its
 * first symbolization and keeps for the rest of the run. Once restricted we could not start it
 * (execve refused; Landlock executes only our own binary), and reports showed bare addresses:
 * so in ASan builds one address is symbolized before the sandbox, which starts it now. Without
 * a symbolizer installed (or with ASAN_OPTIONS=symbolize=0) this does nothing. Not in a child
 * given our broker (GSMAPPER_BROKER_FD: the flight recorder's or report's explain): it starts
 * inside our Landlock domain, where the symbolizer cannot be executed: a failed start kills the
 * process with SIGPIPE (measured: the unit test's child exited on signal 13, report's explain
 * child likewise, report exited 1). Those children get symbolize=0 instead
 * (gsm_sandbox_child_asan_env): their reports show module+offset, symbolized offline. */
static void asan_symbolizer_start(void) {
    char buf[256];
    __sanitizer_symbolize_pc(__builtin_return_address(0), "%F", buf, sizeof buf);
}
#endif

const char *gsm_sandbox_child_asan_env(void) {
#ifdef GSM_ASAN
    static char env[512];
    const char *cur = getenv("ASAN_OPTIONS");
    if (cur && strlen(cur) > sizeof env - 64)
        cur = NULL;
    snprintf(env, sizeof env, "ASAN_OPTIONS=%s%ssymbolize=0", cur ? cur : "", cur && *cur ? ":" : "");
    return env;
#else
    return NULL;
#endif
}

void gsm_sandbox_init(struct gsm_sandbox *sb) {
    memset(sb, 0, sizeof *sb);
    const char *e = getenv("GSMAPPER_SANDBOX");
    sb->mode = e && strcmp(e, "off") == 0 ? GSM_SANDBOX_OFF : e && strcmp(e, "trap") == 0 ? GSM_SANDBOX_TRAP : GSM_SANDBOX_ON;
}

void gsm_sandbox_allow_write(struct gsm_sandbox *sb, const char *dir) {
    if (dir && sb->n_write_dirs < GSM_SANDBOX_MAX_PATHS)
        sb->write_dirs[sb->n_write_dirs++] = dir;
}

void gsm_sandbox_allow_exec(struct gsm_sandbox *sb, const char *file) {
    if (file && sb->n_exec_files < GSM_SANDBOX_MAX_PATHS)
        sb->exec_files[sb->n_exec_files++] = file;
}

void gsm_sandbox_allow_read(struct gsm_sandbox *sb, const char *path) {
    if (path && sb->n_read_paths < GSM_SANDBOX_MAX_PATHS)
        sb->read_paths[sb->n_read_paths++] = path;
}

void gsm_sandbox_allow_self_exec(struct gsm_sandbox *sb) {
    static char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        gsm_sandbox_allow_exec(sb, self);
    }
}

void gsm_sandbox_allow_write_parent(struct gsm_sandbox *sb, const char *file) {
    static char dirs[GSM_SANDBOX_MAX_PATHS][PATH_MAX];   /* the process's lifetime, no allocation */
    static size_t n_dirs;
    if (!file || n_dirs == GSM_SANDBOX_MAX_PATHS)
        return;
    const char *slash = strrchr(file, '/');
    size_t n = !slash ? 0 : slash == file ? 1 : (size_t)(slash - file);
    if (n >= PATH_MAX)
        return;
    char *dir = dirs[n_dirs++];
    if (n == 0)
        strcpy(dir, ".");
    else {
        memcpy(dir, file, n);
        dir[n] = '\0';
    }
    gsm_sandbox_allow_write(sb, dir);
}

/* ---- Landlock ------------------------------------------------------------------------------ */

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#define __NR_landlock_add_rule 445
#define __NR_landlock_restrict_self 446
#endif

static bool have_cap_sys_ptrace(void) {
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct d[2];
    if (syscall(SYS_capget, &h, d) < 0)
        return false;
    return d[CAP_TO_INDEX(CAP_SYS_PTRACE)].effective & CAP_TO_MASK(CAP_SYS_PTRACE);
}

/* The ELF interpreter (PT_INTERP) of the running program: execve opens it for execution too. */
static int find_interp(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    if (info->dlpi_name && info->dlpi_name[0])
        return 0;   /* not the main program */
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_INTERP) {
            *(const char **)data = (const char *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
            return 1;
        }
    return 1;
}

#define READ_ACCESS (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
/* The rights Landlock accepts on a rule for a file (not a directory): EINVAL otherwise. */
#ifdef LANDLOCK_ACCESS_FS_TRUNCATE
#define FILE_ACCESS (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE | \
                     LANDLOCK_ACCESS_FS_TRUNCATE)
#else
#define FILE_ACCESS (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE)
#endif

/* The read list as applied (resolved paths), for gsm_sandbox_note_refused. Filled before the
 * domain exists; the process's lifetime. */
#define MAX_READ_RULES 64
static char *read_rules[MAX_READ_RULES];
static size_t n_read_rules;
static bool reads_restricted;

/* "/", "/sys", "/sys/kernel" and anything beneath it: a read rule there would open /sys/kernel
 * (the sensitive-path rule: nothing under /sys/kernel). */
static bool covers_sys_kernel(const char *real) {
    return strcmp(real, "/") == 0 || strcmp(real, "/sys") == 0 ||
           (strncmp(real, "/sys/kernel", 11) == 0 && (real[11] == '\0' || real[11] == '/'));
}

static int add_rule(int rfd, const char *path, uint64_t access) {
    int fd = open(path, O_PATH | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    char link[64], real[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, real, sizeof real - 1);
    real[n > 0 ? n : 0] = '\0';
    if (access & READ_ACCESS) {
        if (n <= 0 || covers_sys_kernel(real)) {
            /* never readable; what else the rule gives (writes beneath "/", say) stays */
            gsm_debug("sandbox: no Landlock read rule for %s (%s): it would cover /sys/kernel", path, real);
            access &= ~(uint64_t)READ_ACCESS;
        } else if (n_read_rules < MAX_READ_RULES && (read_rules[n_read_rules] = strdup(real)))
            n_read_rules++;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode))
        access &= FILE_ACCESS;
    int r = 0;
    struct landlock_path_beneath_attr pb = {.allowed_access = access, .parent_fd = fd};
    if (access)
        r = syscall(__NR_landlock_add_rule, rfd, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0 ? -errno : 0;
    close(fd);
    return r;
}

/* What glibc, libcurl and the sanitizer runtime read after start-up (measured with strace over
 * every command that restricts itself, docs/sandbox.md "Reads"), besides /proc and the cgroup
 * mounts. A path that does not exist here is skipped. */
static const struct {
    const char *path;
    uint64_t access;
} builtin_reads[] = {
    {"/proc", READ_ACCESS},                 /* the readers */
    {"/sys/fs/cgroup", READ_ACCESS},        /* the cgroup readers (other mount points: mountinfo) */
    {"/sys/devices/system/cpu", READ_ACCESS},   /* get_nprocs() (glibc: .../online) */
    {"/usr/lib", LANDLOCK_ACCESS_FS_READ_FILE},   /* the late dlopen of libcurl (and its libraries), */
    {"/usr/lib64", LANDLOCK_ACCESS_FS_READ_FILE}, /* libmicrohttpd, gconv; the ELF interpreter and */
    {"/lib", LANDLOCK_ACCESS_FS_READ_FILE},       /* the libraries of an explain child we execute */
    {"/lib64", LANDLOCK_ACCESS_FS_READ_FILE},
    {"/etc/ld.so.cache", LANDLOCK_ACCESS_FS_READ_FILE},   /* the dynamic loader's search */
    {"/etc/localtime", LANDLOCK_ACCESS_FS_READ_FILE},     /* localtime_r: advise, serve, report */
    {"/usr/share/zoneinfo", LANDLOCK_ACCESS_FS_READ_FILE},
    {"/etc/hosts", LANDLOCK_ACCESS_FS_READ_FILE},         /* the resolver (libcurl: advise */
    {"/etc/resolv.conf", LANDLOCK_ACCESS_FS_READ_FILE},   /* --prometheus, --go-endpoint) */
    {"/etc/nsswitch.conf", LANDLOCK_ACCESS_FS_READ_FILE},
    {"/etc/host.conf", LANDLOCK_ACCESS_FS_READ_FILE},
    {"/etc/gai.conf", LANDLOCK_ACCESS_FS_READ_FILE},
    {"/dev/null", LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE},   /* children's stdio;
        * written: without the write rule report.html was silently missing from every bundle */
    {"/dev/urandom", LANDLOCK_ACCESS_FS_READ_FILE},       /* libcurl, SQLite seeds */
    /* OpenSSL under libcurl (measured: /usr/lib/ssl/openssl.cnf, a link to /etc/ssl's) and the
     * CA certificates an https URL needs (curl-config --ca); never /etc/ssl/private */
    {"/etc/ssl/openssl.cnf", LANDLOCK_ACCESS_FS_READ_FILE},
    {"/etc/ssl/certs", LANDLOCK_ACCESS_FS_READ_FILE},
    {"/usr/share/ca-certificates", LANDLOCK_ACCESS_FS_READ_FILE},
    {"/etc/pki/tls/openssl.cnf", LANDLOCK_ACCESS_FS_READ_FILE},   /* the same on Red Hat systems */
    {"/etc/pki/tls/certs", LANDLOCK_ACCESS_FS_READ_FILE},
    {"/etc/pki/ca-trust/extracted", LANDLOCK_ACCESS_FS_READ_FILE},
};

/* Every cgroup and cgroup2 mount point of /proc/self/mountinfo (cgroups can be mounted
 * elsewhere than /sys/fs/cgroup), readable. Returns 0 or -errno of a rule. */
static int add_cgroup_mounts(int rfd) {
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f)
        return 0;   /* then /sys/fs/cgroup alone */
    char *line = NULL;
    size_t cap = 0;
    int r = 0;
    while (r == 0 && getline(&line, &cap, f) > 0) {
        /* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS... - FSTYPE SOURCE SUPEROPTS" */
        const char *sep = strstr(line, " - ");
        if (!sep || (strncmp(sep + 3, "cgroup ", 7) != 0 && strncmp(sep + 3, "cgroup2 ", 8) != 0))
            continue;
        const char *p = line;
        for (int i = 0; i < 4 && p; i++)
            if ((p = strchr(p, ' ')))
                p++;
        if (!p)
            continue;
        char mp[PATH_MAX];
        size_t n = 0;
        for (; *p && *p != ' ' && n < sizeof mp - 1; p++) {   /* octal escapes: \040 a space */
            if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0' && p[3] <= '7') {
                mp[n++] = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
                p += 3;
            } else
                mp[n++] = *p;
        }
        mp[n] = '\0';
        if (strncmp(mp, "/sys/fs/cgroup/", 15) == 0)
            continue;   /* beneath the built-in rule */
        if ((r = add_rule(rfd, mp, READ_ACCESS)) == -ENOENT || r == -EACCES)
            r = 0;
    }
    free(line);
    fclose(f);
    return r;
}

/* Trap mode: the trap log (GSMAPPER_SANDBOX_LOG, else stderr) names read refusals too. */
static int note_fd = -1;

/* One line at debug level, and in trap mode on the trap log. */
static void note_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note_line(const char *fmt, ...) {
    char b[PATH_MAX + 128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, sizeof b, fmt, ap);
    va_end(ap);
    gsm_debug("%s", b);
    if (note_fd >= 0 && (note_fd != STDERR_FILENO || !gsm_debug_enabled))
        dprintf(note_fd, "gsmapper: %s\n", b);
}

void gsm_sandbox_note_refused(int dirfd, const char *path) {
    if (!reads_restricted || !path)
        return;
    int e = errno;
    char full[PATH_MAX];
    if (path[0] == '/' || dirfd == AT_FDCWD) {
        if (path[0] == '/')
            snprintf(full, sizeof full, "%s", path);
        else if (!getcwd(full, sizeof full) ||
                 (size_t)snprintf(full + strlen(full), sizeof full - strlen(full), "/%s", path) >= sizeof full)
            goto out;
    } else {
        char link[64];
        snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
        ssize_t n = readlink(link, full, sizeof full - 1);
        if (n <= 0)
            goto out;
        full[n] = '\0';
        size_t l = strlen(full);
        if ((size_t)snprintf(full + l, sizeof full - l, "%s%s", l > 1 ? "/" : "", path) >= sizeof full - l)
            goto out;
    }
    for (size_t i = 0; i < n_read_rules; i++) {
        size_t l = strlen(read_rules[i]);
        if (strncmp(full, read_rules[i], l) == 0 && (full[l] == '\0' || full[l] == '/' || l == 1))
            goto out;   /* on the list: the kernel's own refusal (permissions), not ours */
    }
    /* Once per path: a small table, then silence (said once). */
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static char *said[32];
    static size_t n_said;
    pthread_mutex_lock(&mu);
    bool seen = false;
    for (size_t i = 0; i < n_said && !seen; i++)
        seen = strcmp(said[i], full) == 0;
    if (!seen && n_said < sizeof said / sizeof *said) {
        said[n_said++] = strdup(full);
        note_line("sandbox: Landlock refused reading %s (not on the read list, docs/sandbox.md)", full);
    } else if (!seen && n_said++ == sizeof said / sizeof *said)
        note_line("sandbox: further Landlock read refusals are not named");
    pthread_mutex_unlock(&mu);
out:
    errno = e;
}

/* The Landlock ABI to apply (> 0), or 0 with the reason when it is skipped. */
static int landlock_abi(const struct gsm_sandbox *sb, const char **why) {
    if (sb->allow_any_exec) {
        *why = "--exec (the handler would inherit the restrictions)";
        return 0;
    }
    if (!have_cap_sys_ptrace()) {
        *why = "no CAP_SYS_PTRACE (a Landlock domain would hide other processes' /proc files)";
        return 0;
    }
    if (geteuid() != 0) {
        /* Measured (tests/live/test_permissions.sh): a non-root user with CAP_SYS_PTRACE and
         * CAP_DAC_READ_SEARCH inside a Landlock domain can no longer open the smaps of root's or
         * non-dumpable processes, nor see hidepid=invisible ones; as root it can. */
        *why = "not root (a Landlock domain would hide other users' smaps even with CAP_SYS_PTRACE)";
        return 0;
    }
    long abi = syscall(__NR_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    if (abi < 1) {
        *why = "not supported by the kernel";
        return 0;
    }
    return (int)abi;
}

/* Returns the ABI applied (> 0) or -errno. */
static int apply_landlock(const struct gsm_sandbox *sb, int abi) {
    uint64_t write = LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
                     LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
                     LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
                     LANDLOCK_ACCESS_FS_MAKE_SYM;
#ifdef LANDLOCK_ACCESS_FS_REFER
    if (abi >= 2)
        write |= LANDLOCK_ACCESS_FS_REFER;
#endif
#ifdef LANDLOCK_ACCESS_FS_TRUNCATE
    if (abi >= 3)
        write |= LANDLOCK_ACCESS_FS_TRUNCATE;
#endif
    struct landlock_ruleset_attr ra = {.handled_access_fs = write | LANDLOCK_ACCESS_FS_EXECUTE | READ_ACCESS};
    int rfd = (int)syscall(__NR_landlock_create_ruleset, &ra, sizeof ra, 0);
    if (rfd < 0)
        return -errno;
    int r = 0;
    for (size_t i = 0; i < sb->n_write_dirs && r == 0; i++)
        if ((r = add_rule(rfd, sb->write_dirs[i], write | READ_ACCESS)) == -ENOENT) {
            /* A directory that does not exist (report -o missing/dir/x.html): nothing is created
             * beneath it with or without the rule; the write fails with ENOENT either way (the
             * lookup fails before Landlock is asked), so the command's own error says so. */
            gsm_debug("sandbox: no Landlock write rule for %s: it does not exist", sb->write_dirs[i]);
            r = 0;
        } else if (r < 0)
            gsm_debug("sandbox: Landlock rule for %s: %s", sb->write_dirs[i], strerror(-r));
    /* Reads: the built-in list, the cgroup mounts, the caller's (--root, inputs). */
    for (size_t i = 0; i < sizeof builtin_reads / sizeof *builtin_reads && r == 0; i++)
        if ((r = add_rule(rfd, builtin_reads[i].path, builtin_reads[i].access)) == -ENOENT)
            r = 0;   /* absent here (no /lib64, no /etc/gai.conf): nothing to read there either */
        else if (r < 0)
            gsm_debug("sandbox: Landlock rule for %s: %s", builtin_reads[i].path, strerror(-r));
    if (r == 0)
        r = add_cgroup_mounts(rfd);
    for (size_t i = 0; i < sb->n_read_paths && r == 0; i++)
        if ((r = add_rule(rfd, sb->read_paths[i], READ_ACCESS)) == -ENOENT || r == -EACCES) {
            gsm_debug("sandbox: no Landlock read rule for %s: %s", sb->read_paths[i], strerror(-r));
            r = 0;   /* the read fails as it would have; the command says so */
        } else if (r < 0)
            gsm_debug("sandbox: Landlock rule for %s: %s", sb->read_paths[i], strerror(-r));
    const char *interp = NULL;
    dl_iterate_phdr(find_interp, &interp);
    for (size_t i = 0; i < sb->n_exec_files + 1 && r == 0; i++) {
        const char *f = i < sb->n_exec_files ? sb->exec_files[i] : interp;
        /* execve opens the file for reading too (FMODE_READ with __FMODE_EXEC) */
        if (f && (r = add_rule(rfd, f, LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE)) < 0)
            gsm_debug("sandbox: Landlock rule for %s: %s", f, strerror(-r));
    }
    if (r == 0 && syscall(__NR_landlock_restrict_self, rfd, 0) < 0)
        r = -errno;
    reads_restricted = r == 0;
    close(rfd);
    return r < 0 ? r : abi;
}

/* ---- seccomp ------------------------------------------------------------------------------- */

#ifdef GSM_HAVE_SECCOMP
/* Every system call gsmapper makes (glibc, libelf, json-c, zlib, protobuf-c, libcurl and
 * libmicrohttpd loaded at run time, the ASan/LSan runtime), gathered with strace over the live
 * tests and completed by reading the code; docs/sandbox.md says how to extend it. */
static const char *const allowed[] = {
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "preadv2", "pwritev2",
    "open", "openat", "openat2", "close", "close_range", "creat", "stat", "fstat", "lstat", "newfstatat", "statx",
    "statfs", "fstatfs", "lseek", "mmap", "mprotect", "munmap", "mremap", "madvise", "brk", "mincore", "msync",
    "mlock", "munlock", "membarrier", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigsuspend",
    "rt_sigtimedwait", "sigaltstack", "ioctl", "access", "faccessat", "faccessat2", "pipe", "pipe2", "select",
    "pselect6", "poll", "ppoll", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
    "epoll_pwait2", "eventfd", "eventfd2", "dup", "dup2", "dup3", "fcntl", "flock", "fsync", "fdatasync",
    "ftruncate", "fallocate", "fadvise64", "readahead", "getdents", "getdents64", "getcwd", "chdir", "fchdir",
    "rename", "renameat", "renameat2", "mkdir", "mkdirat", "rmdir", "unlink", "unlinkat", "link", "linkat",
    "readlink", "readlinkat", "chmod", "fchmod", "fchmodat", "umask",
    "utimensat", "sendfile", "copy_file_range",
    "fchown",   /* SQLite, as root, gives a -wal/-shm it creates the database's owner (advise --history) */
    "socket", "connect", "accept", "accept4", "bind", "listen", "getsockname", "getpeername", "setsockopt",
    "getsockopt", "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "shutdown", "socketpair",
    "clone", "clone3", "fork", "vfork", "wait4", "waitid", "exit", "exit_group", "kill", "tgkill", "tkill",
    "getpid", "getppid", "gettid", "getuid", "geteuid", "getgid", "getegid", "getgroups", "getresuid",
    "getresgid", "getpgrp", "getpgid", "setpgid", "getsid", "setsid", "prctl", "arch_prctl", "set_tid_address",
    "set_robust_list", "get_robust_list", "rseq", "futex", "futex_waitv", "nanosleep", "clock_nanosleep",
    "clock_gettime", "clock_getres", "gettimeofday", "time", "times", "getrusage", "getrlimit", "setrlimit",
    "prlimit64", "sched_yield", "sched_getaffinity", "sched_getparam", "sched_getscheduler", "getrandom",
    "uname", "sysinfo", "capget", "personality", "timerfd_create", "timerfd_settime", "timerfd_gettime",
    "timer_create", "timer_settime", "timer_gettime", "timer_delete", "alarm", "setitimer", "getitimer", "pause",
    "pidfd_open", "pidfd_send_signal", "memfd_create", "restart_syscall", "getcpu", "process_madvise",
    "sched_get_priority_max", "sched_get_priority_min", "inotify_init1", "inotify_add_watch", "inotify_rm_watch",
    /* a child (the flight recorder's explain) restricts itself further */
    "seccomp", "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
};
static const char *const refused[] = {"ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd",
                                      "execve", "execveat"};

#define MAX_NR 1024
static const char *nr_name[MAX_NR];   /* for the SIGSYS handler: no allocation there */
static bool nr_refused[MAX_NR];
static int trap_fd = STDERR_FILENO;   /* GSMAPPER_SANDBOX_LOG: append there instead */

static size_t put_str(char *b, size_t n, const char *s) {
    while (*s)
        b[n++] = *s++;
    return n;
}

static void on_sigsys(int sig, siginfo_t *si, void *ucv) {
    (void)sig;
    int nr = si->si_syscall;
    char msg[160], num[16];
    size_t n = put_str(msg, 0, "gsmapper: sandbox: refused system call ");
    n = put_str(msg, n, nr >= 0 && nr < MAX_NR && nr_name[nr] ? nr_name[nr] : "?");
    size_t k = 0;
    unsigned u = (unsigned)nr;
    do
        num[k++] = (char)('0' + u % 10);
    while ((u /= 10) && k < sizeof num);
    msg[n++] = ' ', msg[n++] = '(';
    while (k)
        msg[n++] = num[--k];
    msg[n++] = ')', msg[n++] = '\n';
    ssize_t w = write(trap_fd, msg, n);
    (void)w;
    long ret = nr >= 0 && nr < MAX_NR && nr_refused[nr] ? -EPERM : -ENOSYS;
    ucontext_t *uc = ucv;
#if defined(__x86_64__)
    uc->uc_mcontext.gregs[REG_RAX] = ret;
#elif defined(__aarch64__)
    uc->uc_mcontext.regs[0] = (unsigned long)ret;
#else
    (void)uc, (void)ret;
#endif
}

static int apply_seccomp(const struct gsm_sandbox *sb, size_t *ret_n) {
    bool trap = sb->mode == GSM_SANDBOX_TRAP;
    scmp_filter_ctx ctx = seccomp_init(trap ? SCMP_ACT_TRAP : SCMP_ACT_ERRNO(ENOSYS));
    if (!ctx)
        return -ENOMEM;
    int r = 0;
    size_t n = 0;
    for (size_t i = 0; i < sizeof allowed / sizeof *allowed && r == 0; i++) {
        int nr = seccomp_syscall_resolve_name(allowed[i]);
        if (nr == __NR_SCMP_ERROR || nr < 0)
            continue;   /* not on this architecture */
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
        n++;
    }
    for (size_t i = 0; i < sizeof refused / sizeof *refused && r == 0; i++) {
        int nr = seccomp_syscall_resolve_name(refused[i]);
        if (nr == __NR_SCMP_ERROR || nr < 0)
            continue;
        bool exec = strncmp(refused[i], "execve", 6) == 0;
#ifdef GSM_ASAN
        /* LeakSanitizer stops the world with ptrace on its own threads at exit. */
        if (strcmp(refused[i], "ptrace") == 0) {
            r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
            continue;
        }
#endif
        if (exec && sb->allow_exec)
            r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
        else {
            if (nr < MAX_NR)
                nr_refused[nr] = true;   /* the handler answers EPERM */
            if (!trap)                   /* trap mode: the default action already traps it (and
                                          * libseccomp refuses a rule equal to the default) */
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
        }
    }
    if (r == 0 && trap) {
        for (int nr = 0; nr < MAX_NR; nr++) {
            char *s = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
            nr_name[nr] = s;   /* kept for the handler's lifetime: the process's */
        }
        struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO | SA_RESTART};
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGSYS, &sa, NULL) < 0)
            r = -errno;
    }
    if (r == 0)
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    if (r == 0)
        r = seccomp_load(ctx);
    seccomp_release(ctx);
    if (r == 0)
        *ret_n = n;
    return r;
}
#endif

/* GSMAPPER_SANDBOX_SELFTEST=PATH (tests/live/test_sandbox.sh): once restricted, try what the
 * sandbox must refuse and say on stderr what happened, one line each: execve of /bin/true (in a
 * child), creating PATH for writing, reading PATH.read (which the test made) and
 * /proc/self/status, PTRACE_ATTACH to a child of ours. */
static void selftest(const char *who, const char *path) {
    fflush(NULL);
    pid_t c = fork();
    if (c == 0) {
        char *const argv[] = {(char *)"/bin/true", NULL};
        execve("/bin/true", argv, NULL);
        _exit(errno == EPERM ? 10 : 11);
    }
    int st = 0;
    bool ran = c > 0 && waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0;
    fprintf(stderr, "gsmapper: %s: sandbox selftest: execve %s\n", who,
            ran ? "allowed" : WIFEXITED(st) && WEXITSTATUS(st) == 10 ? "refused (EPERM)" : "failed");
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    fprintf(stderr, "gsmapper: %s: sandbox selftest: write %s %s%s%s\n", who, path, fd >= 0 ? "allowed" : "refused (",
            fd >= 0 ? "" : strerror(errno), fd >= 0 ? "" : ")");
    if (fd >= 0) {
        close(fd);
        unlink(path);
    }
    /* reads: PATH.read (the caller made it, outside every list) and /proc/self/status */
    char rd[PATH_MAX];
    snprintf(rd, sizeof rd, "%s.read", path);
    const char *const reads[] = {rd, "/proc/self/status"};
    for (size_t i = 0; i < 2; i++) {
        char *buf = NULL;
        size_t len;
        int r = gsm_read_file_at(AT_FDCWD, reads[i], 1 << 20, &buf, &len);
        free(buf);
        fprintf(stderr, "gsmapper: %s: sandbox selftest: read %s %s%s%s\n", who, reads[i],
                r == 0 ? "allowed" : r == -EACCES ? "refused (" : "failed (", r == 0 ? "" : strerror(-r), r == 0 ? "" : ")");
    }
    pid_t t = fork();
    if (t == 0) {
        pause();
        _exit(0);
    }
    long r = t > 0 ? ptrace(PTRACE_ATTACH, t, NULL, NULL) : -1;
    int e = errno;
    if (r == 0) {
        waitpid(t, NULL, 0);
        ptrace(PTRACE_DETACH, t, NULL, NULL);
    }
    if (t > 0) {
        kill(t, SIGKILL);
        waitpid(t, NULL, 0);
    }
    fprintf(stderr, "gsmapper: %s: sandbox selftest: ptrace %s%s%s\n", who, r == 0 ? "allowed" : "refused (",
            r == 0 ? "" : strerror(e), r == 0 ? "" : ")");
}

/* The one line that says what was applied. */
struct said {
    char b[512];
    size_t n;
};
static void say(struct said *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct said *s, const char *fmt, ...) {
    if (s->n >= sizeof s->b)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(s->b + s->n, sizeof s->b - s->n, fmt, ap);
    va_end(ap);
    if (k > 0)
        s->n += (size_t)k;
}

static enum gsm_sandbox_mode applied_mode = GSM_SANDBOX_OFF;

int gsm_sandbox_apply(const struct gsm_sandbox *sb, const char *who) {
    const char *probe = getenv("GSMAPPER_SANDBOX_SELFTEST");
    if (sb->mode == GSM_SANDBOX_OFF) {
        gsm_debug("%s: sandbox off (--no-sandbox or GSMAPPER_SANDBOX=off)", who);
        if (probe && probe[0] == '/')
            selftest(who, probe);   /* the control: everything allowed */
        return 0;
    }
    int done = 0;
    bool failed = false;
    struct said s = {.n = 0};
#ifdef GSM_ASAN
    if (!getenv(GSM_BROKER_FD_ENV))
        asan_symbolizer_start();
#endif
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0) {
        done |= GSM_SANDBOX_NNP;
        say(&s, "no_new_privs");
    } else {
        say(&s, "no_new_privs failed (%s)", strerror(errno));
        failed = true;
    }

#ifdef GSM_HAVE_SECCOMP
    /* Opened before Landlock, which would refuse it afterwards. */
    const char *log = sb->mode == GSM_SANDBOX_TRAP ? getenv("GSMAPPER_SANDBOX_LOG") : NULL;
    int log_fd = log ? open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600) : -1;
    if (log_fd >= 0)
        trap_fd = log_fd;
    if (sb->mode == GSM_SANDBOX_TRAP)
        note_fd = trap_fd;
#endif
    const char *why = NULL;
    bool inherited = false;
    int abi = landlock_abi(sb, &why);
    if (abi > 0) {
        /* Before the domain exists: the broker opens what the domain hides (exe, fd/, ns/). */
        int r = gsm_broker_start();
        inherited = r == 1;
        if (r < 0) {
            abi = 0;
            why = "the /proc broker could not be started";
            failed = true;
        }
    }
    if (abi > 0)
        abi = apply_landlock(sb, abi);
    if (abi > 0) {
        done |= GSM_SANDBOX_LANDLOCK;
        say(&s, ", Landlock ABI %d (writes beneath %zu director%s, execution of %zu file%s and the ELF interpreter, "
                "reads of %zu paths; /proc broker%s)", abi, sb->n_write_dirs, sb->n_write_dirs == 1 ? "y" : "ies",
            sb->n_exec_files, sb->n_exec_files == 1 ? "" : "s", n_read_rules, inherited ? " inherited" : "");
    } else if (abi == 0)
        say(&s, ", Landlock skipped: %s", why);
    else {
        say(&s, ", Landlock failed (%s)", strerror(-abi));
        failed = true;
    }

#ifdef GSM_HAVE_SECCOMP
    size_t n = 0;
    int r = apply_seccomp(sb, &n);
    if (r == 0) {
        done |= GSM_SANDBOX_SECCOMP;
        say(&s, ", seccomp allow-list of %zu system calls%s%s", n, sb->allow_exec ? " (execve allowed)" : "",
            sb->mode == GSM_SANDBOX_TRAP ? " in trap mode" : "");
    } else {
        say(&s, ", seccomp failed (%s)", strerror(-r));
        failed = true;
    }
#else
    say(&s, ", seccomp skipped: built without libseccomp");
#endif
    if (done & GSM_SANDBOX_SECCOMP)
        applied_mode = sb->mode;
    if (failed)
        gsm_warn("%s: sandbox (best effort): %s", who, s.b);
    else
        gsm_debug("%s: sandbox: %s", who, s.b);
    if (probe && probe[0] == '/')
        selftest(who, probe);
    return done;
}

int gsm_sandbox_strict(const char *who) {
    if (applied_mode == GSM_SANDBOX_OFF)
        return 0;
#ifdef GSM_HAVE_SECCOMP
    bool trap = applied_mode == GSM_SANDBOX_TRAP;
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx)
        return -ENOMEM;
    static const char *const late[] = {"bind", "listen"};
    int r = 0;
    for (size_t i = 0; i < sizeof late / sizeof *late && r == 0; i++) {
        int nr = seccomp_syscall_resolve_name(late[i]);
        if (nr == __NR_SCMP_ERROR || nr < 0)
            continue;
        if (nr < MAX_NR)
            nr_refused[nr] = true;
        r = seccomp_rule_add(ctx, trap ? SCMP_ACT_TRAP : SCMP_ACT_ERRNO(EPERM), nr, 0);
    }
    if (r == 0)
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    if (r == 0)
        r = seccomp_load(ctx);
    seccomp_release(ctx);
    if (r < 0)
        gsm_warn("%s: sandbox: the strict stage was not applied: %s", who, strerror(-r));
    else
        gsm_debug("%s: sandbox: strict stage: bind and listen refused from now on", who);
    return r;
#else
    (void)who;
    return 0;
#endif
}

int gsm_sandbox_daemon(const char *who, bool off, bool exec, const char *dump_dir, const char *history,
                       const char *root_dir) {
    struct gsm_sandbox sb;
    gsm_sandbox_init(&sb);
    if (off)
        sb.mode = GSM_SANDBOX_OFF;
    sb.allow_any_exec = exec;
    sb.allow_exec = exec || dump_dir;
    if (dump_dir) {
        gsm_sandbox_allow_write(&sb, dump_dir);
        gsm_sandbox_allow_self_exec(&sb);
    }
    /* SQLite writes the database, its -wal and -shm (and a -journal) beside it. */
    gsm_sandbox_allow_write_parent(&sb, history);
    gsm_sandbox_allow_read(&sb, root_dir);
    return gsm_sandbox_apply(&sb, who);
}
