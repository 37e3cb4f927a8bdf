#include "readers/proc_files.h"
#include "readers/proc_priv.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/parse.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

__attribute__((format(printf, 3, 4)))
static int fail(struct gsm_parse_error *err, size_t line, const char *fmt, ...) {
    if (err) {
        err->line = line;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->what, sizeof err->what, fmt, ap);
        va_end(ap);
    }
    return -EBADMSG;
}

/* Keys of status that we keep, with where they go. kB keys are converted to bytes. */
#define STATUS_KB(key, member) {key, offsetof(struct gsm_status, member), true}
#define STATUS_N(key, member) {key, offsetof(struct gsm_status, member), false}
static const struct {
    const char *key;
    size_t off;
    bool kb;
} status_keys[] = {
    STATUS_KB("VmPeak", vm_peak_bytes),   STATUS_KB("VmSize", vm_size_bytes),
    STATUS_KB("VmLck", vm_lck_bytes),     STATUS_KB("VmPin", vm_pin_bytes),
    STATUS_KB("VmHWM", vm_hwm_bytes),     STATUS_KB("VmRSS", vm_rss_bytes),
    STATUS_KB("RssAnon", rss_anon_bytes), STATUS_KB("RssFile", rss_file_bytes),
    STATUS_KB("RssShmem", rss_shmem_bytes), STATUS_KB("VmData", vm_data_bytes),
    STATUS_KB("VmStk", vm_stk_bytes),     STATUS_KB("VmExe", vm_exe_bytes),
    STATUS_KB("VmLib", vm_lib_bytes),     STATUS_KB("VmPTE", vm_pte_bytes),
    STATUS_KB("VmSwap", vm_swap_bytes),   STATUS_KB("HugetlbPages", hugetlb_pages_bytes),
    STATUS_N("Threads", threads),
};

int gsm_parse_status(const char *buf, size_t len, struct gsm_status *ret, struct gsm_parse_error *err) {
    struct gsm_status st = {0};
    const char *cursor = buf, *end = buf + len, *line;
    size_t ll, lineno = 0;
    bool have_name = false, have_anon = false;
    while ((line = gsm_next_line(&cursor, end, &ll))) {
        lineno++;
        const char *colon = memchr(line, ':', ll);
        if (!colon)
            return fail(err, lineno, "no ':' in line");
        size_t kl = (size_t)(colon - line);
        const char *v = colon + 1, *le = line + ll;
        while (v < le && (*v == '\t' || *v == ' '))
            v++;
        char val[96];
        size_t vl = (size_t)(le - v) < sizeof val - 1 ? (size_t)(le - v) : sizeof val - 1;
        memcpy(val, v, vl);
        val[vl] = '\0';

        if (kl == 4 && memcmp(line, "Name", 4) == 0) {
            size_t nl = vl < sizeof st.name - 1 ? vl : sizeof st.name - 1;
            memcpy(st.name, val, nl);
            st.name[nl] = '\0';
            have_name = true;
        } else if (kl == 5 && memcmp(line, "State", 5) == 0) {
            st.state = val[0];
        } else if ((kl == 4 && memcmp(line, "Tgid", 4) == 0) || (kl == 4 && memcmp(line, "PPid", 4) == 0)) {
            const char *p = val;
            int64_t x;
            if (gsm_parse_i64(&p, &x) < 0 || x < 0 || x > INT32_MAX)
                return fail(err, lineno, "%.*s: bad number", (int)kl, line);
            if (line[0] == 'T')
                st.tgid = (pid_t)x;
            else
                st.ppid = (pid_t)x;
        } else if (kl == 3 && memcmp(line, "Uid", 3) == 0) {
            const char *p = val;
            uint64_t r, e;
            if (gsm_parse_u64(&p, &r) < 0 || gsm_parse_u64(&p, &e) < 0 || r > UINT32_MAX || e > UINT32_MAX)
                return fail(err, lineno, "Uid: bad number");
            st.uid_real = (uint32_t)r;
            st.uid_effective = (uint32_t)e;
        } else {
            for (size_t i = 0; i < ELEMENTSOF(status_keys); i++) {
                if (strlen(status_keys[i].key) != kl || memcmp(status_keys[i].key, line, kl) != 0)
                    continue;
                const char *p = val;
                uint64_t x;
                int r = gsm_parse_u64(&p, &x);
                if (r < 0)
                    return fail(err, lineno, "%s: %s", status_keys[i].key, r == -ERANGE ? "number out of range" : "no number");
                if (status_keys[i].kb) {
                    if (x > UINT64_MAX / 1024)
                        return fail(err, lineno, "%s: number out of range", status_keys[i].key);
                    x *= 1024;
                }
                memcpy((char *)&st + status_keys[i].off, &x, sizeof x);
                if (kl == 7 && memcmp(line, "RssAnon", 7) == 0)
                    have_anon = true;
                break;
            }
        }
    }
    if (!have_name)
        return fail(err, 0, "no Name: line");
    st.has_rss_split = have_anon;
    *ret = st;
    return 0;
}

int gsm_parse_stat(const char *buf, size_t len, struct gsm_stat *ret, struct gsm_parse_error *err) {
    struct gsm_stat st = {0};
    const char *open = memchr(buf, '(', len);
    const char *close = NULL;
    for (const char *p = buf + len; p > buf; p--)
        if (p[-1] == ')') {
            close = p - 1;
            break;
        }
    if (!open || !close || close < open)
        return fail(err, 1, "no \"(comm)\"");
    size_t cl = (size_t)(close - open - 1);
    if (cl >= sizeof st.comm)
        cl = sizeof st.comm - 1;
    memcpy(st.comm, open + 1, cl);
    st.comm[cl] = '\0';

    /* After ") ": field 3 is the state, then numbers. proc(5) numbers fields from 1 (pid). */
    const char *p = close + 1;
    const char *end = buf + len;
    while (p < end && *p == ' ')
        p++;
    if (p >= end)
        return fail(err, 1, "truncated after comm");
    st.state = *p++;
    int64_t fields[52];
    int n = 0;
    while (n < (int)ELEMENTSOF(fields)) {
        while (p < end && *p == ' ')
            p++;
        if (p >= end || *p == '\n')
            break;
        int r = gsm_parse_i64_end(&p, end, &fields[n]);
        if (r < 0) {
            /* Some fields are unsigned 64-bit (e.g. rsslim = 18446744073709551615). */
            uint64_t u;
            if (gsm_parse_u64_end(&p, end, &u) < 0)
                return fail(err, 1, "field %d is not a number", n + 4);
            fields[n] = (int64_t)(u > INT64_MAX ? INT64_MAX : u);
        }
        n++;
    }
    /* fields[k] is stat field k + 4. We need up to field 24 (rss). */
    if (n < 21)
        return fail(err, 1, "only %d fields after comm", n + 3);
#define F(k) fields[(k) - 4]
    st.ppid = (pid_t)F(4);
    st.flags = (uint64_t)F(9);
    st.minflt = (uint64_t)F(10);
    st.majflt = (uint64_t)F(12);
    st.utime_ticks = (uint64_t)F(14);
    st.stime_ticks = (uint64_t)F(15);
    st.num_threads = F(20);
    st.starttime_ticks = (uint64_t)F(22);
    st.vsize_bytes = (uint64_t)F(23);
    st.rss_pages = (uint64_t)F(24);
#undef F
    *ret = st;
    return 0;
}

int gsm_parse_statm(const char *buf, size_t len, struct gsm_statm *ret, struct gsm_parse_error *err) {
    struct gsm_statm st;
    uint64_t *v[] = {&st.size, &st.resident, &st.shared, &st.text, &st.lib, &st.data, &st.dt};
    const char *p = buf, *end = buf + len;
    for (size_t i = 0; i < ELEMENTSOF(v); i++)
        if (gsm_parse_u64_end(&p, end, v[i]) < 0)
            return fail(err, 1, "field %zu is not a number", i + 1);
    *ret = st;
    return 0;
}

int gsm_parse_int_file(const char *buf, size_t len, int64_t *ret, struct gsm_parse_error *err) {
    const char *p = buf, *end = buf + len;
    int64_t v;
    if (gsm_parse_i64_end(&p, end, &v) < 0)
        return fail(err, 1, "not a number");
    while (p < end && (*p == ' ' || *p == '\n'))
        p++;
    if (p < end && *p)
        return fail(err, 1, "trailing text after the number");
    *ret = v;
    return 0;
}

int gsm_parse_task_syscall_sp(const char *buf, size_t len, uint64_t *ret_sp) {
    /* Tokens: nr [6 args] sp pc. "running" has no sp. Bounded by len: the buffer need not be
     * NUL-terminated (tests/fuzz/fuzz_proc_files.c); a NUL ends the text as the kernel's would. */
    const char *tok[10], *tok_end[10];
    size_t n = 0;
    const char *p = buf, *end = buf + len;
    while (p < end && *p && n < ELEMENTSOF(tok)) {
        while (p < end && (*p == ' ' || *p == '\n'))
            p++;
        if (p == end || !*p)
            break;
        tok[n] = p;
        while (p < end && *p && *p != ' ' && *p != '\n')
            p++;
        tok_end[n++] = p;
    }
    *ret_sp = 0;
    if (n != 9 && n != 3)
        return 0;
    const char *s = tok[n - 2], *se = tok_end[n - 2];
    if (se - s < 2 || s[0] != '0' || s[1] != 'x')
        return 0;
    s += 2;
    uint64_t sp;
    if (gsm_parse_hex64(&s, se, &sp) < 0)
        return 0;
    *ret_sp = sp;
    return 0;
}

int gsm_parse_schedstat(const char *buf, size_t len, uint64_t *ret_run_ns, uint64_t *ret_wait_ns) {
    const char *p = buf, *end = buf + len;
    uint64_t run, wait;
    if (gsm_parse_u64_end(&p, end, &run) < 0 || p == end || *p != ' ' || gsm_parse_u64_end(&p, end, &wait) < 0)
        return -EBADMSG;
    *ret_run_ns = run;
    *ret_wait_ns = wait;
    return 0;
}

int gsm_parse_limits_stack(const char *buf, size_t len, uint64_t *ret_bytes, struct gsm_parse_error *err) {
    const char *cursor = buf, *end = buf + len, *line;
    size_t ll, lineno = 0;
    static const char key[] = "Max stack size";
    while ((line = gsm_next_line(&cursor, end, &ll))) {
        lineno++;
        if (ll < STRLEN(key) || memcmp(line, key, STRLEN(key)) != 0)
            continue;
        const char *p = line + STRLEN(key);
        while (p < line + ll && *p == ' ')
            p++;
        if ((size_t)(line + ll - p) >= 9 && memcmp(p, "unlimited", 9) == 0) {
            *ret_bytes = 0;
            return 0;
        }
        uint64_t v;
        if (gsm_parse_u64_end(&p, line + ll, &v) < 0)
            return fail(err, lineno, "Max stack size: bad number");
        *ret_bytes = v;
        return 0;
    }
    return fail(err, 0, "no \"Max stack size\" line");
}

static int read_parse(int procfd, const char *name, struct gsm_parse_error *err,
                      int (*parse)(const char *, size_t, void *, struct gsm_parse_error *), void *ret) {
    _cleanup_free_ char *buf = NULL;
    size_t len;
    int r = gsm_read_file_at(procfd, name, GSM_SMALL_FILE_MAX, &buf, &len);
    if (r < 0)
        return r;
    if (len == 0)
        return -ESRCH;   /* emptied by an exiting process */
    return parse(buf, len, ret, err);
}

int gsm_read_status_at(int procfd, struct gsm_status *ret, struct gsm_parse_error *err) {
    return read_parse(procfd, "status", err, (void *)gsm_parse_status, ret);
}
int gsm_read_stat_at(int procfd, struct gsm_stat *ret, struct gsm_parse_error *err) {
    return read_parse(procfd, "stat", err, (void *)gsm_parse_stat, ret);
}
int gsm_read_statm_at(int procfd, struct gsm_statm *ret, struct gsm_parse_error *err) {
    return read_parse(procfd, "statm", err, (void *)gsm_parse_statm, ret);
}
int gsm_read_limits_stack_at(int procfd, uint64_t *ret_bytes, struct gsm_parse_error *err) {
    return read_parse(procfd, "limits", err, (void *)gsm_parse_limits_stack, ret_bytes);
}
int gsm_read_int_file_at(int procfd, const char *name, int64_t *ret, struct gsm_parse_error *err) {
    return read_parse(procfd, name, err, (void *)gsm_parse_int_file, ret);
}

/* The next thread of an open task/ directory: its TID, 0 at the end ("." and ".." skipped). */
static pid_t next_tid(DIR *d) {
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *p = de->d_name;
        uint64_t tid;
        if (gsm_parse_u64(&p, &tid) == 0 && !*p && tid > 0 && tid <= INT32_MAX)
            return (pid_t)tid;
    }
    return 0;
}

int gsm_read_tasks_at(int procfd, struct gsm_task **ret_tasks, size_t *ret_n) {
    DIR *d;
    int r = gsm_opendir_at(procfd, "task", &d);
    if (r < 0)
        return r;
    struct gsm_task *tasks = NULL;
    size_t n = 0, cap = 0;
    pid_t tid;
    while ((tid = next_tid(d))) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            struct gsm_task *t = realloc(tasks, cap * sizeof *t);
            if (!t) {
                free(tasks);
                closedir(d);
                return -ENOMEM;
            }
            tasks = t;
        }
        tasks[n].tid = tid;
        tasks[n].sp = 0;
        char buf[4096];
        /* Readable for the same user or CAP_SYS_PTRACE; an unreadable one just leaves sp 0. */
        int len = gsm_proc_task_syscall(procfd, tid, buf, sizeof buf);
        if (len >= 0)
            gsm_parse_task_syscall_sp(buf, (size_t)len, &tasks[n].sp);
        n++;
    }
    closedir(d);
    *ret_tasks = tasks;
    *ret_n = n;
    return 0;
}

int gsm_read_cpu_demand_at(int procfd, size_t max_tasks, uint64_t *ret_ns) {
    DIR *d;
    int r = gsm_opendir_at(procfd, "task", &d);
    if (r < 0)
        return r;
    uint64_t sum = 0;
    size_t n = 0;
    pid_t tid;
    while ((tid = next_tid(d))) {
        if (++n > max_tasks) {
            r = -ERANGE;
            break;
        }
        char path[48], buf[96];
        snprintf(path, sizeof path, "%d/schedstat", (int)tid);
        int fd = openat(dirfd(d), path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
            continue;   /* the thread exited meanwhile */
        ssize_t len = read(fd, buf, sizeof buf);
        close(fd);
        uint64_t run, wait;
        if (len > 0 && gsm_parse_schedstat(buf, (size_t)len, &run, &wait) == 0)
            sum += run + wait;
    }
    closedir(d);
    if (r < 0)
        return r;
    if (sum == 0)
        return n ? -ENOTSUP : -ESRCH;
    *ret_ns = sum;
    return 0;
}

int gsm_read_exe_link_at(int procfd, char *buf, size_t size, bool *ret_deleted) {
    int n = gsm_proc_readlink(procfd, "exe", buf, size);
    if (n < 0)
        return n;
    static const char deleted[] = " (deleted)";
    bool del = false;
    if ((size_t)n > STRLEN(deleted) && strcmp(buf + n - STRLEN(deleted), deleted) == 0) {
        buf[n - STRLEN(deleted)] = '\0';
        del = true;
    }
    if (ret_deleted)
        *ret_deleted = del;
    return 0;
}
