/* The flight recorder's bundle writer: a full bundle with explain run as a child (the built
 * gsmapper on the cg-v2-nested fixture: PID 7001 in /workload.slice/app.service) and a fake
 * loopback Go debug server; the rate limit; rotation and quota; symlinks and foreign entries in
 * the dump dir; stale temp dirs; a hung explain killed on time. Each test works in its own
 * mkdtemp() directory. */
#include "test.h"

#include "readers/cgroup.h"
#include "recorder/recorder.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/root.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <json-c/json.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- helpers ---- */

/* snprintf into an array, emptied when it does not fit (the result is checked, so gcc does not
 * warn about truncation). */
#define PATHF(buf, ...)                                                         \
    do {                                                                        \
        if (snprintf(buf, sizeof buf, __VA_ARGS__) >= (int)sizeof buf)          \
            buf[0] = '\0';                                                     \
    } while (0)

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}

static void rm_rf(const char *dir) {
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static uint64_t now_real_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static double mono_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The built gsmapper, absolute; NULL when it is not there. */
static const char *gsm_binary(char buf[static PATH_MAX]) {
    const char *b = getenv("GSM_BINARY");
    if (!b)
        b = "build/gsmapper";
    if (access(b, X_OK) != 0 || !realpath(b, buf))
        return NULL;
    return buf;
}

static bool exists_at(const char *dir, const char *name) {
    char p[PATH_MAX];
    struct stat st;
    PATHF(p, "%s/%s", dir, name);
    return lstat(p, &st) == 0;
}

static char *slurp(const char *dir, const char *name, size_t *ret_len) {
    char p[PATH_MAX];
    char *buf = NULL;
    PATHF(p, "%s/%s", dir, name);
    if (gsm_read_file_at(AT_FDCWD, p, (size_t)64 << 20, &buf, ret_len) < 0)
        return NULL;
    return buf;
}

/* Count entries of dir starting with prefix. */
static unsigned count_prefix(const char *dir, const char *prefix) {
    DIR *d = opendir(dir);
    unsigned n = 0;
    if (!d)
        return 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
            n++;
    closedir(d);
    return n;
}

static int new_recorder(const char *dir, uint64_t quota, uint64_t interval, unsigned max, struct gsm_recorder **ret) {
    struct gsm_recorder_opts o = {.dump_dir = dir, .quota_bytes = quota, .min_interval_ms = interval,
                                  .max_bundles = max, .self_exe = "/nonexistent/gsmapper"};
    return gsm_recorder_new(&o, ret);
}

/* A bundle request with no explain target (fast): only text files. */
static struct gsm_bundle_request text_req(const char *key, const char *label, uint64_t now_ms, const char *samples,
                                          size_t samples_len) {
    return (struct gsm_bundle_request){.target_key = key, .target_label = label, .samples_jsonl = samples,
                                       .samples_len = samples_len, .event_json = "{\"kind\":\"eta\"}",
                                       .summary = "anon grew fastest", .now_ms = now_ms};
}

/* A loopback HTTP server in a child process answering every GET until killed: the debug=1
 * heap profile for "?debug=1", a fake gzip body otherwise. Returns its pid, the port in *port. */
static const char memstats_body[] = "heap profile: 1: 8 [1: 8] @ heap/1048576\n\n# runtime.MemStats\n# HeapAlloc = 8\n";
static const char heap_body[] = "\x1f\x8b\x08\x00fake-pprof";

static pid_t fake_go_server(int *port) {
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 8) < 0 ||
        getsockname(s, (struct sockaddr *)&a, &al) < 0) {
        close(s);
        return -1;
    }
    *port = ntohs(a.sin_port);
    pid_t pid = fork();
    if (pid != 0) {
        close(s);
        return pid;
    }
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0)
            continue;
        char req[4096];
        size_t n = 0;
        while (n < sizeof req - 1) {
            ssize_t k = read(c, req + n, sizeof req - 1 - n);
            if (k <= 0)
                break;
            n += (size_t)k;
            req[n] = '\0';
            if (strstr(req, "\r\n\r\n"))
                break;
        }
        req[n] = '\0';
        bool debug1 = strstr(req, "debug=1 ") != NULL;
        const char *body = debug1 ? memstats_body : heap_body;
        size_t blen = debug1 ? sizeof memstats_body - 1 : sizeof heap_body - 1;
        char hdr[256];
        int hl = snprintf(hdr, sizeof hdr, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", blen);
        if (write(c, hdr, (size_t)hl) < 0 || write(c, body, blen) < 0) {
            /* the client went away */
        }
        close(c);
    }
}

/* ---- pure parts ---- */

TEST(recorder_label_and_name) {
    char b[65];
    CHECK_EQ_U64(gsm_recorder_sanitize_label("cg-a-b", b), 6);
    CHECK_STREQ(b, "cg-a-b");
    gsm_recorder_sanitize_label("../x/y z", b);
    CHECK_STREQ(b, "_.-x-y-z");
    gsm_recorder_sanitize_label("", b);
    CHECK_STREQ(b, "x");
    char longl[200];
    memset(longl, 'a', sizeof longl - 1);
    longl[sizeof longl - 1] = '\0';
    CHECK_EQ_U64(gsm_recorder_sanitize_label(longl, b), 64);

    uint64_t t = 0;
    CHECK(gsm_recorder_parse_bundle_name("gsmapper-pid-1234-1795312345678", &t) == 0);
    CHECK_EQ_U64(t, UINT64_C(1795312345678));
    CHECK(gsm_recorder_parse_bundle_name("gsmapper-cg-a-b-7", &t) == 0);
    CHECK_EQ_U64(t, 7);
    CHECK(gsm_recorder_parse_bundle_name("gsmapper-1", &t) == -EINVAL);          /* no label */
    CHECK(gsm_recorder_parse_bundle_name("gsmapper-x-", &t) == -EINVAL);
    CHECK(gsm_recorder_parse_bundle_name("gsmapper-x-12a", &t) == -EINVAL);
    CHECK(gsm_recorder_parse_bundle_name("gsmapper-x-99999999999999999999999", &t) == -EINVAL);
    CHECK(gsm_recorder_parse_bundle_name(".tmp-gsmapper-x-1-1", &t) == -EINVAL);
    CHECK(gsm_recorder_parse_bundle_name("other-x-1", &t) == -EINVAL);
}

/* ---- a whole bundle ---- */

TEST(recorder_bundle_full) {
    char exe[PATH_MAX], fixture[PATH_MAX], dir[] = "/tmp/gsm-rec-XXXXXX";
    if (!gsm_binary(exe))
        SKIP("no gsmapper binary (set GSM_BINARY or build build/gsmapper)");
    PATHF(fixture, "%s/fixtures/cg-v2-nested", gsm_test_dir());
    CHECK(mkdtemp(dir) != NULL);

    struct gsm_root root;
    CHECK(gsm_root_open(fixture, &root) == 0);
    struct gsm_cgroup_location loc = {0};
    CHECK(gsm_cgroup_locate_path(&root, "/workload.slice/app.service", &loc) == 0);

    int port = 0;
    pid_t srv = fake_go_server(&port);
    CHECK(srv > 0);
    char ep[128];
    PATHF(ep, "http://127.0.0.1:%d/debug/pprof/heap?debug=1", port);

    struct gsm_recorder_opts o = {.dump_dir = dir, .self_exe = exe, .root_dir = fixture};
    struct gsm_recorder *r = NULL;
    CHECK(gsm_recorder_new(&o, &r) == 0);
    static const char samples[] = "{\"schema\":\"gsmapper.sample/v1\",\"time_ms\":1}\n"
                                  "{\"schema\":\"gsmapper.sample/v1\",\"time_ms\":2}\n";
    struct gsm_bundle_request req = {
        .target_key = "pid-7001-96997", .target_label = "pid-7001", .pid = 7001,
        .cgroup_path = "/workload.slice/app.service", .cg_loc = &loc, .root = &root,
        .samples_jsonl = samples, .samples_len = sizeof samples - 1,
        .event_json = "{\"schema\":\"gsmapper.event/v1\",\"kind\":\"oom_kill\"}",
        .summary = "anon grew fastest: +12 MiB/s", .go_endpoint = ep, .now_ms = UINT64_C(1795312345678)};
    char path[PATH_MAX];
    int k = gsm_recorder_write(r, &req, path, sizeof path);
    kill(srv, SIGKILL);
    waitpid(srv, NULL, 0);
    CHECK_EQ_U64((uint64_t)-k, 0);

    char want[PATH_MAX];
    PATHF(want, "%s/gsmapper-pid-7001-1795312345678", dir);
    CHECK_STREQ(path, want);
    CHECK_EQ_U64(count_prefix(dir, ".tmp-"), 0);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0700);

    size_t len;
    _cleanup_free_ char *sum = slurp(path, "summary.txt", &len);
    CHECK(sum && strstr(sum, "anon grew fastest: +12 MiB/s\n") && strstr(sum, "pid: 7001\n"));
    _cleanup_free_ char *ev = slurp(path, "event.json", &len);
    CHECK(ev && strstr(ev, "\"oom_kill\""));
    _cleanup_free_ char *sm = slurp(path, "samples.jsonl", &len);
    CHECK(sm && len == sizeof samples - 1 && memcmp(sm, samples, len) == 0);

    _cleanup_free_ char *ej = slurp(path, "explain.json", &len);
    CHECK(ej != NULL);
    json_object *jo = json_tokener_parse(ej);
    CHECK(jo != NULL);
    json_object *schema = NULL, *target = NULL, *jpid = NULL;
    bool ok = json_object_object_get_ex(jo, "schema", &schema) &&
              strcmp(json_object_get_string(schema), "gsmapper.explain/v1") == 0 &&
              json_object_object_get_ex(jo, "target", &target) && json_object_object_get_ex(target, "pid", &jpid) &&
              json_object_get_int(jpid) == 7001;
    json_object_put(jo);
    CHECK(ok);
    CHECK(!exists_at(path, "explain.stderr"));   /* explain said nothing */

    /* cgroup/: the raw files, byte for byte. */
    char src[PATH_MAX];
    PATHF(src, "%s/sys/fs/cgroup/workload.slice/app.service", fixture);
    _cleanup_free_ char *cur_src = slurp(src, "memory.current", &len);
    _cleanup_free_ char *cur_dst = slurp(path, "cgroup/memory.current", &len);
    CHECK(cur_src && cur_dst);
    CHECK_STREQ(cur_dst, cur_src);
    CHECK(exists_at(path, "cgroup/cgroup.procs") && exists_at(path, "cgroup/memory.events.local"));
    char cgdir[PATH_MAX];
    PATHF(cgdir, "%s/cgroup", path);
    CHECK_EQ_U64(count_prefix(cgdir, "memory."), count_prefix(src, "memory."));

    /* go/: both endpoints, from the base of the URL given. */
    _cleanup_free_ char *ms = slurp(path, "go/memstats.txt", &len);
    CHECK(ms && strcmp(ms, memstats_body) == 0);
    _cleanup_free_ char *hp = slurp(path, "go/heap.pb.gz", &len);
    CHECK(hp && len == sizeof heap_body - 1 && memcmp(hp, heap_body, len) == 0);

    /* MANIFEST: every file with its size, and no failure. */
    _cleanup_free_ char *man = slurp(path, "MANIFEST", &len);
    CHECK(man != NULL);
    char line[128];
    PATHF(line, "samples.jsonl %zu\n", sizeof samples - 1);
    CHECK(strstr(man, line) != NULL);
    CHECK(strstr(man, "explain.json ") && strstr(man, "cgroup/memory.current ") && strstr(man, "go/heap.pb.gz "));
    CHECK(strstr(man, "summary.txt ") && strstr(man, "event.json "));
    CHECK(strstr(man, "failed") == NULL);
    /* report.html: the bundle drawn by `gsmapper report .`, offline (its CSP) */
    _cleanup_free_ char *page = slurp(path, "report.html", &len);
    CHECK(page && strstr(page, "default-src 'none'") && strstr(page, "gsmapper.report-data/v1"));
    CHECK(strstr(man, "report.html ") != NULL);
    CHECK_EQ_U64(count_prefix(path, ".report.html.tmp"), 0);

    gsm_recorder_free(r);
    gsm_cgroup_location_free(&loc);
    gsm_root_close(&root);
    rm_rf(dir);
}

/* A process already gone (explain exits 3): the cgroup is explained instead, and MANIFEST says so. */
TEST(recorder_gone_process_explains_cgroup) {
    char exe[PATH_MAX], fixture[PATH_MAX], dir[] = "/tmp/gsm-rec-XXXXXX";
    if (!gsm_binary(exe))
        SKIP("no gsmapper binary (set GSM_BINARY or build build/gsmapper)");
    PATHF(fixture, "%s/fixtures/cg-v2-nested", gsm_test_dir());
    CHECK(mkdtemp(dir) != NULL);
    struct gsm_recorder_opts o = {.dump_dir = dir, .self_exe = exe, .root_dir = fixture};
    struct gsm_recorder *r = NULL;
    CHECK(gsm_recorder_new(&o, &r) == 0);
    struct gsm_bundle_request req = text_req("pid-7002-1", "pid-7002", 5000, "", 0);
    req.pid = 7002;
    req.cgroup_path = "/workload.slice/app.service";
    char path[PATH_MAX];
    CHECK(gsm_recorder_write(r, &req, path, sizeof path) == 0);
    size_t len;
    _cleanup_free_ char *ej = slurp(path, "explain.json", &len);
    CHECK(ej != NULL);
    json_object *jo = json_tokener_parse(ej), *target = NULL, *cg = NULL;
    CHECK(jo != NULL);
    bool ok = json_object_object_get_ex(jo, "target", &target) && json_object_object_get_ex(target, "cgroup", &cg) &&
              strcmp(json_object_get_string(cg), "/workload.slice/app.service") == 0;
    json_object_put(jo);
    CHECK(ok);
    _cleanup_free_ char *man = slurp(path, "MANIFEST", &len);
    CHECK(man && strstr(man, "failed explain.json: process 7002 is gone"));
    CHECK(exists_at(path, "explain.stderr"));   /* "gsmapper: no process 7002" */
    gsm_recorder_free(r);
    rm_rf(dir);
}

/* ---- rate limit, rotation, quota ---- */

TEST(recorder_rate_limit) {
    char dir[] = "/tmp/gsm-rec-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    struct gsm_recorder *r = NULL;
    CHECK(new_recorder(dir, 0, 60000, 0, &r) == 0);
    struct gsm_bundle_request a = text_req("pid-1-1", "pid-1", 1000000, "", 0);
    CHECK(gsm_recorder_write(r, &a, NULL, 0) == 0);
    a.now_ms += 59999;
    CHECK(gsm_recorder_write(r, &a, NULL, 0) == -EAGAIN);
    struct gsm_bundle_request b = text_req("cgroup-/a", "cg-a", 1000500, "", 0);
    CHECK(gsm_recorder_write(r, &b, NULL, 0) == 0);   /* another key is not limited */
    a.now_ms = 1060000;
    CHECK(gsm_recorder_write(r, &a, NULL, 0) == 0);
    CHECK_EQ_U64(count_prefix(dir, "gsmapper-"), 3);

    /* No explain target: noted, not fatal. */
    char p[PATH_MAX];
    PATHF(p, "%s/gsmapper-pid-1-1000000", dir);
    size_t len;
    _cleanup_free_ char *man = slurp(p, "MANIFEST", &len);
    CHECK(man && strstr(man, "failed explain.json: no PID and no cgroup path"));
    gsm_recorder_free(r);
    rm_rf(dir);
}

TEST(recorder_rotation) {
    char dir[] = "/tmp/gsm-rec-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    struct gsm_recorder *r = NULL;
    CHECK(new_recorder(dir, 0, 1, 3, &r) == 0);
    for (uint64_t i = 1; i <= 5; i++) {
        /* Alternate labels: the time in the name orders them, not the label. */
        struct gsm_bundle_request q = text_req("k", i % 2 ? "zz" : "aa", i * 1000, "x\n", 2);
        CHECK(gsm_recorder_write(r, &q, NULL, 0) == 0);
    }
    CHECK_EQ_U64(count_prefix(dir, "gsmapper-"), 3);
    CHECK(!exists_at(dir, "gsmapper-zz-1000") && !exists_at(dir, "gsmapper-aa-2000"));
    CHECK(exists_at(dir, "gsmapper-zz-3000") && exists_at(dir, "gsmapper-aa-4000") && exists_at(dir, "gsmapper-zz-5000"));
    gsm_recorder_free(r);
    rm_rf(dir);
}

TEST(recorder_quota) {
    char dir[] = "/tmp/gsm-rec-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    struct gsm_recorder *r = NULL;
    CHECK(new_recorder(dir, 350 << 10, 1, 100, &r) == 0);
    size_t big = 100 << 10;
    char *s = malloc(400 << 10);
    CHECK(s != NULL);
    memset(s, 'x', 400 << 10);
    for (uint64_t i = 1; i <= 5; i++) {
        struct gsm_bundle_request q = text_req("k", "cg-a", i * 1000, s, big);
        CHECK(gsm_recorder_write(r, &q, NULL, 0) == 0);
    }
    CHECK_EQ_U64(count_prefix(dir, "gsmapper-"), 3);
    CHECK(exists_at(dir, "gsmapper-cg-a-3000") && exists_at(dir, "gsmapper-cg-a-5000"));

    /* One bundle bigger than the whole quota: refused, nothing left behind, nothing rotated. */
    struct gsm_bundle_request q = text_req("k2", "cg-b", 9000, s, 400 << 10);
    CHECK(gsm_recorder_write(r, &q, NULL, 0) == -ENOSPC);
    free(s);
    CHECK_EQ_U64(count_prefix(dir, "gsmapper-"), 3);
    CHECK_EQ_U64(count_prefix(dir, ".tmp-"), 0);
    gsm_recorder_free(r);
    rm_rf(dir);
}

/* ---- hostile dump dirs ---- */

TEST(recorder_symlinks_not_followed) {
    char dir[] = "/tmp/gsm-rec-XXXXXX", out[] = "/tmp/gsm-rec-out-XXXXXX";
    CHECK(mkdtemp(dir) != NULL && mkdtemp(out) != NULL);
    char p[PATH_MAX], q[PATH_MAX];
    /* Outside: a directory that looks like a bundle, with a file in it. */
    PATHF(p, "%s/gsmapper-victim-1", out);
    CHECK(mkdir(p, 0700) == 0);
    PATHF(q, "%s/precious", p);
    CHECK(gsm_write_file_atomic(q, "keep", 4) == 0);
    /* Inside: symlinks to it under bundle-like names (the oldest by name time), a symlink at
     * the very name the next bundle wants, a stale-looking .tmp symlink, a plain file, and a
     * directory of somebody else's. */
    const char *links[] = {"gsmapper-evil", "gsmapper-evil-1", "gsmapper-lbl-5000", ".tmp-gsmapper-y-1-1"};
    for (size_t i = 0; i < ELEMENTSOF(links); i++) {
        PATHF(q, "%s/%s", dir, links[i]);
        CHECK(symlink(p, q) == 0);
        struct timespec old[2] = {{1000, 0}, {1000, 0}};
        CHECK(utimensat(AT_FDCWD, q, old, AT_SYMLINK_NOFOLLOW) == 0);
    }
    PATHF(q, "%s/gsmapper-file-2", dir);
    CHECK(gsm_write_file_atomic(q, "f", 1) == 0);
    PATHF(q, "%s/notes-3", dir);
    CHECK(mkdir(q, 0700) == 0);

    struct gsm_recorder *r = NULL;
    CHECK(new_recorder(dir, 0, 1, 1, &r) == 0);
    char path[PATH_MAX];
    struct gsm_bundle_request req = text_req("k", "lbl", 5000, "", 0);
    CHECK(gsm_recorder_write(r, &req, path, sizeof path) == 0);
    /* The symlink at gsmapper-lbl-5000 was not renamed over: the bundle moved to 5001. */
    PATHF(q, "%s/gsmapper-lbl-5001", dir);
    CHECK_STREQ(path, q);
    req.now_ms = 6000;
    CHECK(gsm_recorder_write(r, &req, path, sizeof path) == 0);

    for (size_t i = 0; i < ELEMENTSOF(links); i++) {
        struct stat st;
        PATHF(q, "%s/%s", dir, links[i]);
        CHECK(lstat(q, &st) == 0 && S_ISLNK(st.st_mode));
    }
    CHECK(exists_at(dir, "gsmapper-file-2") && exists_at(dir, "notes-3"));
    CHECK(!exists_at(dir, "gsmapper-lbl-5001") && exists_at(dir, "gsmapper-lbl-6000"));
    CHECK(exists_at(p, "precious"));
    gsm_recorder_free(r);
    rm_rf(dir);
    rm_rf(out);
}

TEST(recorder_stale_tmp_removed) {
    char dir[] = "/tmp/gsm-rec-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char p[PATH_MAX], q[PATH_MAX];
    PATHF(p, "%s/.tmp-gsmapper-x-1-1", dir);
    CHECK(mkdir(p, 0700) == 0);
    PATHF(q, "%s/cgroup", p);
    CHECK(mkdir(q, 0700) == 0);
    PATHF(q, "%s/summary.txt", p);
    CHECK(gsm_write_file_atomic(q, "half", 4) == 0);
    time_t old = (time_t)(now_real_ms() / 1000) - 20 * 60;
    struct timespec ts[2] = {{old, 0}, {old, 0}};
    CHECK(utimensat(AT_FDCWD, p, ts, 0) == 0);
    /* A fresh one (another writer, mid-write) stays. */
    PATHF(p, "%s/.tmp-gsmapper-y-2-2", dir);
    CHECK(mkdir(p, 0700) == 0);

    struct gsm_recorder *r = NULL;
    CHECK(new_recorder(dir, 0, 1, 0, &r) == 0);
    struct gsm_bundle_request req = text_req("k", "lbl", 5000, "", 0);
    CHECK(gsm_recorder_write(r, &req, NULL, 0) == 0);
    CHECK(!exists_at(dir, ".tmp-gsmapper-x-1-1"));
    CHECK(exists_at(dir, ".tmp-gsmapper-y-2-2"));
    gsm_recorder_free(r);
    rm_rf(dir);
}

TEST(recorder_bad_dump_dir) {
    struct gsm_recorder *r = NULL;
    CHECK(new_recorder("/nonexistent/gsm-dumps", 0, 0, 0, &r) == -ENOENT);
    CHECK(r == NULL);
    CHECK(new_recorder("/dev/null", 0, 0, 0, &r) == -ENOTDIR);
    struct gsm_recorder_opts o = {0};
    CHECK(gsm_recorder_new(&o, &r) == -EINVAL);
}

/* ---- children that misbehave ---- */

TEST(recorder_hung_explain_killed) {
    char dir[] = "/tmp/gsm-rec-XXXXXX", bin[] = "/tmp/gsm-rec-bin-XXXXXX";
    CHECK(mkdtemp(dir) != NULL && mkdtemp(bin) != NULL);
    char script[PATH_MAX];
    PATHF(script, "%s/hang.sh", bin);
    static const char text[] = "#!/bin/sh\necho starting >&2\nsleep 60\n";
    CHECK(gsm_write_file_atomic(script, text, sizeof text - 1) == 0);
    CHECK(chmod(script, 0755) == 0);

    struct gsm_recorder_opts o = {.dump_dir = dir, .self_exe = script, .child_timeout_ms = 500};
    struct gsm_recorder *r = NULL;
    CHECK(gsm_recorder_new(&o, &r) == 0);
    struct gsm_bundle_request req = text_req("pid-42-1", "pid-42", 5000, "", 0);
    req.pid = 42;
    char path[PATH_MAX];
    double t0 = mono_s();
    CHECK(gsm_recorder_write(r, &req, path, sizeof path) == 0);
    double took = mono_s() - t0;
    CHECK(took >= 0.4 && took < 5.0);
    size_t len;
    _cleanup_free_ char *man = slurp(path, "MANIFEST", &len);
    CHECK(man && strstr(man, "failed explain.json: explain PID killed after 500 ms"));
    _cleanup_free_ char *err = slurp(path, "explain.stderr", &len);
    CHECK(err && strstr(err, "starting"));
    CHECK(!exists_at(path, "explain.json"));
    gsm_recorder_free(r);
    rm_rf(dir);
    rm_rf(bin);
}

TEST(recorder_explain_cannot_start) {
    char dir[] = "/tmp/gsm-rec-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    struct gsm_recorder *r = NULL;
    CHECK(new_recorder(dir, 0, 0, 0, &r) == 0);   /* self_exe = /nonexistent/gsmapper */
    struct gsm_bundle_request req = text_req("cgroup-/a", "cg-a", 5000, "", 0);
    req.cgroup_path = "/a";
    char path[PATH_MAX];
    CHECK(gsm_recorder_write(r, &req, path, sizeof path) == 0);
    size_t len;
    _cleanup_free_ char *man = slurp(path, "MANIFEST", &len);
    CHECK(man && strstr(man, "failed explain.json: cannot run /nonexistent/gsmapper: No such file"));
    gsm_recorder_free(r);
    rm_rf(dir);
}
