/* gsmapper symbolize PID|FILE ADDR...: map program counters of a Go binary to function and
 * file:line with the binary's own pclntab (readers/go_pclntab), like `go tool addr2line`.
 * For a PID, the executable is /proc/PID/exe and, for a PIE, the load bias from /proc/PID/maps
 * is subtracted from each address first. */
#include "readers/proc_handle.h"
#include "cmd/commands.h"
#include "readers/go_pclntab.h"
#include "renderers/explain_render.h"
#include "util/text.h"
#include "util/cleanup.h"
#include "util/exitcode.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/parse.h"
#include "util/root.h"

#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static const char usage[] =
    "Usage: gsmapper symbolize [OPTIONS] PID|FILE ADDR...\n"
    "\n"
    "Map program counters of a Go executable to function and file:line, from the binary's own\n"
    "pclntab (Go 1.2, 1.16, 1.18/1.19 and 1.20+ formats; works on -s -w and PIE binaries).\n"
    "One line per address: \"0xADDR function file:line\", or \"0xADDR ?? ??:0\" when the address\n"
    "is in no Go function (as addr2line).\n"
    "\n"
    "The target is a PID when it is all digits and /proc/PID exists (under --root), else a file\n"
    "path; write ./1234 to force a file named 1234.\n"
    "  FILE: addresses are the file's link-time virtual addresses (as readelf, go tool nm and\n"
    "        go tool addr2line show them).\n"
    "  PID:  addresses are the running process's (from a stack trace, /proc/PID/task/*/syscall,\n"
    "        a profile); for a PIE the load bias (start of the executable's offset-0 mapping in\n"
    "        /proc/PID/maps minus its link address) is subtracted. Non-PIE: bias 0.\n"
    "ADDR is hexadecimal, with or without 0x.\n"
    "\n"
    "Options:\n"
    "  -o, --output FORMAT  table (default) or json (schema gsmapper.symbolize/v1)\n"
    "      --root DIR       read /proc under DIR instead of / (PID form)\n"
    "  -h, --help           this text\n"
    "\n"
    "Exit codes: 0 ok; 1 not a Go binary, malformed table, or unreadable maps; 2 usage;\n"
    "3 no such process or file; 4 permission denied (/proc/PID/exe needs the process's user or\n"
    "CAP_SYS_PTRACE).\n";

enum format { FMT_TABLE, FMT_JSON };

static bool all_digits(const char *s) {
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

static int parse_addr(const char *s, uint64_t *ret) {
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    const char *p = s;
    uint64_t v;
    if (!*p || gsm_parse_hex64(&p, p + strlen(p), &v) < 0 || *p)
        return -EINVAL;
    *ret = v;
    return 0;
}

/* One line of /proc/PID/maps:
 *   55d0c2a00000-55d0c2c80000 r-xp 00000000 fd:01 1835094    /usr/bin/memshape-pie
 * Returns true and the fields for a well-formed line. */
static bool parse_maps_line(const char *line, size_t len, uint64_t *start, uint64_t *off,
                            unsigned *maj, unsigned *min, uint64_t *ino, const char **path, size_t *path_len) {
    const char *p = line, *end = line + len;
    if (gsm_parse_hex64(&p, end, start) < 0 || p >= end || *p++ != '-')
        return false;
    uint64_t e;
    if (gsm_parse_hex64(&p, end, &e) < 0 || p >= end || *p++ != ' ')
        return false;
    while (p < end && *p != ' ')   /* perms */
        p++;
    if (p >= end)
        return false;
    p++;
    uint64_t mj, mn;
    if (gsm_parse_hex64(&p, end, off) < 0 || p >= end || *p++ != ' ')
        return false;
    if (gsm_parse_hex64(&p, end, &mj) < 0 || p >= end || *p++ != ':' || gsm_parse_hex64(&p, end, &mn) < 0)
        return false;
    if (gsm_parse_u64(&p, ino) < 0)
        return false;
    while (p < end && *p == ' ')
        p++;
    *maj = (unsigned)mj;
    *min = (unsigned)mn;
    *path = p;
    *path_len = (size_t)(end - p);
    return true;
}

/* Load bias of a PIE executable in process h: start of the lowest mapping of the file at
 * offset 0 (matched by device and inode of /proc/PID/exe, else by the exe link's path) minus
 * the link address of file offset 0. */
static int load_bias(const struct gsm_proc *h, int exefd, const struct gsm_pclntab *t, uint64_t *ret) {
    if (!gsm_pclntab_is_pie(t)) {
        *ret = 0;
        return 0;
    }
    struct stat st;
    if (fstat(exefd, &st) < 0)
        return -errno;
    char link[4096];
    ssize_t ln = readlinkat(h->dirfd, "exe", link, sizeof link - 1);
    link[ln > 0 ? ln : 0] = '\0';
    char *del = strstr(link, " (deleted)");
    if (del && del[10] == '\0')
        *del = '\0';

    _cleanup_free_ char *maps = NULL;
    size_t maps_len;
    int r = gsm_read_file_at(h->dirfd, "maps", (size_t)64 << 20, &maps, &maps_len);
    if (r == 0)
        r = gsm_proc_handle_check(h);   /* maps and exe of one process, not of a recycled PID */
    if (r < 0)
        return r;
    const char *cur = maps, *line;
    size_t len;
    uint64_t by_inode = UINT64_MAX, by_path = UINT64_MAX;
    while ((line = gsm_next_line(&cur, maps + maps_len, &len))) {
        uint64_t start, off, ino;
        unsigned mj, mn;
        const char *path;
        size_t plen;
        if (!parse_maps_line(line, len, &start, &off, &mj, &mn, &ino, &path, &plen) || off != 0)
            continue;
        if (ino == (uint64_t)st.st_ino && makedev(mj, mn) == st.st_dev && start < by_inode)
            by_inode = start;
        if (*link && plen >= strlen(link) && memcmp(path, link, strlen(link)) == 0 &&
            (plen == strlen(link) || path[strlen(link)] == ' ') && start < by_path)
            by_path = start;
    }
    uint64_t start = by_inode != UINT64_MAX ? by_inode : by_path;
    if (start == UINT64_MAX)
        return -ENODATA;
    *ret = start - gsm_pclntab_link_base(t);
    return 0;
}

static int open_target(const char *target, const char *root_dir, bool *ret_is_pid, int *ret_exefd,
                       uint64_t *ret_pid, struct gsm_proc *ret_proc) {
    if (all_digits(target)) {
        struct gsm_root root;
        int r = gsm_root_open(root_dir, &root);
        if (r < 0) {
            gsm_error("cannot open root %s: %s", root_dir ? root_dir : "/", strerror(-r));
            return r == -ENOENT || r == -ENOTDIR ? GSM_EXIT_USAGE : gsm_exit_from_errno(r);
        }
        const char *p = target;
        uint64_t pid;
        struct gsm_proc h = GSM_PROC_INIT;
        if (gsm_parse_u64(&p, &pid) == 0 && pid > 0 && pid <= INT32_MAX &&
            gsm_proc_handle_open(&root, (pid_t)pid, &h) == 0) {
            gsm_root_close(&root);
            int fd = openat(h.dirfd, "exe", O_RDONLY | O_CLOEXEC | O_NOCTTY);
            if (fd < 0) {
                int e = errno;
                gsm_proc_handle_close(&h);
                if (e == EACCES || e == EPERM) {
                    gsm_error("cannot read /proc/%" PRIu64 "/exe: permission denied (run as the process's "
                              "user, or grant CAP_SYS_PTRACE)", pid);
                    return GSM_EXIT_PERM;
                }
                gsm_error("no process %" PRIu64 " (or it has no executable: %s)", pid, strerror(e));
                return GSM_EXIT_NOTFOUND;
            }
            *ret_is_pid = true;
            *ret_exefd = fd;
            *ret_pid = pid;
            *ret_proc = h;
            return GSM_EXIT_OK;
        }
        gsm_root_close(&root);
        if (access(target, F_OK) < 0) {
            gsm_error("no process or file '%s'", target);
            return GSM_EXIT_NOTFOUND;
        }
    }
    int fd = open(target, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        int e = errno;
        gsm_error("cannot open %s: %s", target, strerror(e));
        return e == ENOENT || e == ENOTDIR ? GSM_EXIT_NOTFOUND : gsm_exit_from_errno(-e);
    }
    *ret_is_pid = false;
    *ret_exefd = fd;
    return GSM_EXIT_OK;
}

static void print_hex(struct json_object *o, const char *key, uint64_t v) {
    char buf[24];
    snprintf(buf, sizeof buf, "0x%" PRIx64, v);
    json_object_object_add(o, key, json_object_new_string(buf));
}

/* The one-line error for a failed pclntab open; returns the exit code. */
static int pclntab_error(int r, bool is_pid, uint64_t pid, const char *target) {
    char what[64];
    if (is_pid)
        snprintf(what, sizeof what, "process %" PRIu64, pid);
    else
        snprintf(what, sizeof what, "%.60s", target);
    if (r == -ENOEXEC)
        gsm_error("%s: not a Go binary (no pclntab found)", what);
    else if (r == -EINVAL)
        gsm_error("%s: not an ELF file, or its Go pclntab is malformed", what);
    else if (r == -EISDIR)
        gsm_error("%s: is a directory", what);
    else
        gsm_error("%s: reading the executable: %s", what, strerror(-r));
    return r == -EACCES || r == -EPERM ? GSM_EXIT_PERM : GSM_EXIT_FAILURE;
}

/* The one-line error for a failed load-bias computation; returns the exit code. */
static int bias_error(int r, uint64_t pid) {
    int ret;
    if (r == -ENOENT || r == -ESRCH) {
        gsm_error("no process %" PRIu64, pid);
        ret = GSM_EXIT_NOTFOUND;
    } else if (r == -ENODATA) {
        gsm_error("process %" PRIu64 ": the executable's mapping is not in /proc/%" PRIu64
                  "/maps; cannot compute the PIE load bias", pid, pid);
        ret = GSM_EXIT_FAILURE;
    } else {
        gsm_error("reading /proc/%" PRIu64 "/maps: %s", pid, strerror(-r));
        ret = gsm_exit_from_errno(r);
    }
    return ret;
}

/* Look up each address and print it (table) or add it to arr (JSON); the count of addresses
 * that fell in functions with malformed line tables. */
static size_t emit_symbols(enum format fmt, struct gsm_pclntab *t, uint64_t bias, const uint64_t *addrs, size_t naddr,
                           struct json_object *arr) {
    size_t n_malformed = 0;
    int r;
    for (size_t i = 0; i < naddr; i++) {
        struct gsm_symbol s;
        uint64_t a = addrs[i];
        r = a >= bias ? gsm_pclntab_lookup(t, a - bias, &s) : -ENOENT;
        if (r == -EINVAL) {
            n_malformed++;
            gsm_debug("symbolize: 0x%" PRIx64 ": malformed line table", a);
        }
        if (fmt == FMT_TABLE) {
            char fn[1024], file[1024];   /* names from the binary: printable text (util/text.h) */
            if (r == 0)
                printf("0x%" PRIx64 " %s %s:%d\n", a, gsm_text_printable(s.func, false, fn, sizeof fn),
                       *s.file ? gsm_text_printable(s.file, false, file, sizeof file) : "??", s.line);
            else
                printf("0x%" PRIx64 " ?? ??:0\n", a);
        } else {
            struct json_object *o = json_object_new_object();
            print_hex(o, "address", a);
            if (r == 0) {
                json_object_object_add(o, "function", json_object_new_string(s.func));
                json_object_object_add(o, "file", *s.file ? json_object_new_string(s.file) : NULL);
                json_object_object_add(o, "line", json_object_new_int(s.line));
                print_hex(o, "entry", s.entry + bias);
            } else {
                json_object_object_add(o, "function", NULL);
                json_object_object_add(o, "file", NULL);
                json_object_object_add(o, "line", json_object_new_int(0));
                json_object_object_add(o, "entry", NULL);
            }
            json_object_array_add(arr, o);
        }
    }
    return n_malformed;
}

int cmd_symbolize(int argc, char **argv) {
    enum { OPT_ROOT = 256 };
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"root", required_argument, NULL, OPT_ROOT},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    enum format fmt = FMT_TABLE;
    const char *root_dir = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            if (strcmp(optarg, "table") == 0)
                fmt = FMT_TABLE;
            else if (strcmp(optarg, "json") == 0)
                fmt = FMT_JSON;
            else {
                gsm_error("symbolize: unknown output format '%s' (table, json)", optarg);
                return GSM_EXIT_USAGE;
            }
            break;
        case OPT_ROOT: root_dir = optarg; break;
        case 'h': fputs(usage, stdout); return GSM_EXIT_OK;
        default:
            gsm_error("symbolize: see 'gsmapper symbolize --help'");
            return GSM_EXIT_USAGE;
        }
    }
    if (argc - optind < 2) {
        gsm_error("symbolize: expected PID|FILE and at least one address (see 'gsmapper symbolize --help')");
        return GSM_EXIT_USAGE;
    }
    const char *target = argv[optind];
    size_t naddr = (size_t)(argc - optind - 1);
    _cleanup_free_ uint64_t *addrs = calloc(naddr, sizeof *addrs);
    if (!addrs) {
        gsm_error("symbolize: out of memory");
        return GSM_EXIT_FAILURE;
    }
    for (size_t i = 0; i < naddr; i++)
        if (parse_addr(argv[optind + 1 + i], &addrs[i]) < 0) {
            gsm_error("symbolize: '%s' is not a hexadecimal address", argv[optind + 1 + i]);
            return GSM_EXIT_USAGE;
        }

    bool is_pid = false;
    _cleanup_close_ int exefd = -1;
    _cleanup_proc_ struct gsm_proc proc = GSM_PROC_INIT;
    uint64_t pid = 0;
    int ret = open_target(target, root_dir, &is_pid, &exefd, &pid, &proc);
    if (ret != GSM_EXIT_OK)
        return ret;
    if (!is_pid && root_dir)
        gsm_debug("symbolize: --root ignored for a file target");

    struct gsm_pclntab *t = NULL;
    int r = gsm_pclntab_open_fd(exefd, &t);
    if (r < 0)
        return pclntab_error(r, is_pid, pid, target);

    uint64_t bias = 0;
    if (is_pid) {
        r = load_bias(&proc, exefd, t, &bias);
        if (r < 0) {
            gsm_pclntab_free(t);
            return bias_error(r, pid);
        }
    }

    struct json_object *root = NULL, *arr = NULL;
    if (fmt == FMT_JSON) {
        root = json_object_new_object();
        json_object_object_add(root, "schema", json_object_new_string("gsmapper.symbolize/v1"));
        struct json_object *tg = json_object_new_object();
        if (is_pid)
            json_object_object_add(tg, "pid", json_object_new_uint64(pid));
        else
            json_object_object_add(tg, "file", json_object_new_string(target));
        json_object_object_add(tg, "pclntab_format", json_object_new_string(gsm_pclntab_version(t)));
        json_object_object_add(tg, "pie", json_object_new_boolean(gsm_pclntab_is_pie(t)));
        print_hex(tg, "load_bias", bias);
        json_object_object_add(root, "target", tg);
        arr = json_object_new_array();
        json_object_object_add(root, "symbols", arr);
    }
    size_t n_malformed = emit_symbols(fmt, t, bias, addrs, naddr, arr);
    r = 0;
    if (root) {
        r = gsm_json_print(root, stdout);
        json_object_put(root);
    }
    gsm_pclntab_free(t);
    if (r == 0 && (ferror(stdout) || fflush(stdout) != 0))
        r = -EIO;
    if (r < 0) {
        gsm_error("writing output: %s", strerror(-r));
        return GSM_EXIT_FAILURE;
    }
    if (n_malformed) {
        gsm_error("symbolize: %zu address(es) fell in functions with malformed line tables", n_malformed);
        return GSM_EXIT_FAILURE;
    }
    return GSM_EXIT_OK;
}
