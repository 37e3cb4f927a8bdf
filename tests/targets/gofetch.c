/* gofetch: the test driver for readers/go_http and readers/go_discover (not part of gsmapper).
 * Prints one JSON object on stdout and exits 0 on success, 1 on a fetch error, 2 on usage.
 *
 *   gofetch [OPTIONS] URL          gsm_go_stats_fetch(URL)   -> {"rc":0,"stats":{...},...}
 *   gofetch [OPTIONS] --get URL    gsm_http_get(URL)         -> {"rc":0,"body_bytes":N,...}
 *   gofetch [OPTIONS] --pid PID    gsm_go_stats_fetch_pid()  (discovery, then fetch)
 *   gofetch --discover PID         gsm_go_discover()         -> {"rc":0,"ports":[...],...}
 *   options: --gzip --allow-remote --connect-timeout-ms N --timeout-ms N --max-bytes N
 *
 * Every answer carries rc (0 or -errno), errno_name, error, elapsed_ms and vm_hwm_bytes (this
 * process's peak RSS, from /proc/self/status), which the hostile-endpoint tests bound. */
#include "readers/go_discover.h"
#include "readers/go_stats_fetch.h"
#include "util/cleanup.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t vm_hwm_bytes(void) {
    FILE *f = fopen("/proc/self/status", "re");
    if (!f)
        return 0;
    char line[256];
    unsigned long long kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %llu kB", &kb) == 1)
            break;
    fclose(f);
    return (uint64_t)kb * 1024;
}

static const char *errno_name(int r) {
    switch (-r) {
    case 0: return "";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EFBIG: return "EFBIG";
    case ECONNREFUSED: return "ECONNREFUSED";
    case EPROTO: return "EPROTO";
    case EPERM: return "EPERM";
    case EINVAL: return "EINVAL";
    case ENOENT: return "ENOENT";
    case EXDEV: return "EXDEV";
    case EACCES: return "EACCES";
    case ENOMEM: return "ENOMEM";
    default: return "other";
    }
}

static struct json_object *stats_json(const struct gsm_go_stats *s) {
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "source", json_object_new_string(s->source));
    json_object_object_add(o, "endpoint", json_object_new_string(s->endpoint));
    json_object_object_add(o, "taken_ms", json_object_new_uint64(s->taken_ms));
#define U(field, member) \
    if (gsm_go_stats_has(s, field)) json_object_object_add(o, #member, json_object_new_uint64(s->member))
    U(GSM_GO_HEAP_ALLOC, heap_alloc_bytes);
    U(GSM_GO_HEAP_SYS, heap_sys_bytes);
    U(GSM_GO_HEAP_IDLE, heap_idle_bytes);
    U(GSM_GO_HEAP_INUSE, heap_inuse_bytes);
    U(GSM_GO_HEAP_RELEASED, heap_released_bytes);
    U(GSM_GO_HEAP_OBJECTS, heap_objects);
    U(GSM_GO_STACK_INUSE, stack_inuse_bytes);
    U(GSM_GO_STACK_SYS, stack_sys_bytes);
    U(GSM_GO_MSPAN_INUSE, mspan_inuse_bytes);
    U(GSM_GO_MSPAN_SYS, mspan_sys_bytes);
    U(GSM_GO_MCACHE_INUSE, mcache_inuse_bytes);
    U(GSM_GO_MCACHE_SYS, mcache_sys_bytes);
    U(GSM_GO_BUCK_HASH_SYS, buck_hash_sys_bytes);
    U(GSM_GO_GC_SYS, gc_sys_bytes);
    U(GSM_GO_OTHER_SYS, other_sys_bytes);
    U(GSM_GO_NEXT_GC, next_gc_bytes);
    U(GSM_GO_LAST_GC, last_gc_ms);
    U(GSM_GO_PAUSE_TOTAL, pause_total_ns);
    U(GSM_GO_NUM_GC, num_gc);
    U(GSM_GO_SYS, sys_bytes);
    U(GSM_GO_MAX_RSS, max_rss_bytes);
    U(GSM_GO_PAUSE_MAX_RECENT, pause_max_recent_ns);
    U(GSM_GO_GOROUTINES, goroutines);
    U(GSM_GO_GOMEMLIMIT, gomemlimit_bytes);
#undef U
    if (gsm_go_stats_has(s, GSM_GO_GC_CPU_FRACTION))
        json_object_object_add(o, "gc_cpu_fraction", json_object_new_double(s->gc_cpu_fraction));
    if (gsm_go_stats_has(s, GSM_GO_PAUSE_RECENT))
        json_object_object_add(o, "pause_recent_count", json_object_new_uint64(s->pause_recent_count));
    uint64_t p99;
    if (gsm_go_stats_pause_quantile_ns(s, 0.99, &p99) == 0)
        json_object_object_add(o, "pause_p99_ns", json_object_new_uint64(p99));
    return o;
}

static int usage(void) {
    fprintf(stderr, "usage: gofetch [--gzip] [--allow-remote] [--connect-timeout-ms N] [--timeout-ms N]\n"
                    "               [--max-bytes N] (URL | --get URL | --pid PID | --discover PID)\n");
    return 2;
}

int main(int argc, char **argv) {
    struct gsm_http_opts o = {0};
    const char *url = NULL, *mode = "fetch";
    pid_t pid = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool more = i + 1 < argc;
        if (strcmp(a, "--gzip") == 0)
            o.accept_gzip = true;
        else if (strcmp(a, "--allow-remote") == 0)
            o.allow_non_loopback = true;
        else if (strcmp(a, "--connect-timeout-ms") == 0 && more)
            o.connect_timeout_ms = (uint32_t)strtoul(argv[++i], NULL, 10);
        else if (strcmp(a, "--timeout-ms") == 0 && more)
            o.total_timeout_ms = (uint32_t)strtoul(argv[++i], NULL, 10);
        else if (strcmp(a, "--max-bytes") == 0 && more)
            o.max_body_bytes = (size_t)strtoull(argv[++i], NULL, 10);
        else if (strcmp(a, "--get") == 0 && more)
            mode = "get", url = argv[++i];
        else if ((strcmp(a, "--pid") == 0 || strcmp(a, "--discover") == 0) && more)
            mode = a + 2, pid = (pid_t)atoi(argv[++i]);
        else if (a[0] != '-' && !url)
            url = a;
        else
            return usage();
    }
    if (!url && pid <= 0)
        return usage();

    struct json_object *out = json_object_new_object();
    char err[512] = "";
    int r;
    uint64_t t0 = mono_ms();
    if (strcmp(mode, "get") == 0) {
        _cleanup_free_ char *body = NULL;
        size_t len = 0;
        r = gsm_http_get(url, &o, &body, &len, err, sizeof err);
        if (r == 0)
            json_object_object_add(out, "body_bytes", json_object_new_uint64(len));
    } else if (strcmp(mode, "discover") == 0) {
        struct gsm_root root;
        r = gsm_root_open("/", &root);
        struct gsm_go_ports ports;
        if (r == 0) {
            r = gsm_go_discover(&root, pid, &ports);
            gsm_root_close(&root);
        }
        if (r == 0) {
            struct json_object *arr = json_object_new_array();
            for (size_t i = 0; i < ports.n; i++) {
                struct json_object *e = json_object_new_object();
                json_object_object_add(e, "host", json_object_new_string(ports.ep[i].host));
                json_object_object_add(e, "port", json_object_new_int(ports.ep[i].port));
                json_object_array_add(arr, e);
            }
            json_object_object_add(out, "ports", arr);
            json_object_object_add(out, "same_netns", json_object_new_int(ports.same_netns));
        }
    } else {
        struct gsm_go_stats s;
        if (strcmp(mode, "pid") == 0) {
            struct gsm_root root;
            r = gsm_root_open("/", &root);
            if (r == 0) {
                r = gsm_go_stats_fetch_pid(&root, pid, &o, &s, err, sizeof err);
                gsm_root_close(&root);
            }
        } else
            r = gsm_go_stats_fetch(url, &o, &s, err, sizeof err);
        if (r == 0)
            json_object_object_add(out, "stats", stats_json(&s));
    }
    uint64_t elapsed = mono_ms() - t0;
    json_object_object_add(out, "rc", json_object_new_int(r));
    json_object_object_add(out, "errno_name", json_object_new_string(errno_name(r)));
    json_object_object_add(out, "error", json_object_new_string(err));
    json_object_object_add(out, "elapsed_ms", json_object_new_uint64(elapsed));
    json_object_object_add(out, "vm_hwm_bytes", json_object_new_uint64(vm_hwm_bytes()));
    printf("%s\n", json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN));
    json_object_put(out);
    return r == 0 ? 0 : 1;
}
