/* A Go process's runtime statistics as its debug endpoints write them, parsed into
 * struct gsm_go_stats (model/go_stats.h):
 *
 *   /debug/pprof/heap?debug=1   net/http/pprof; the "# runtime.MemStats" block at the end
 *   /debug/vars                 expvar; the "memstats" object (json.Marshal of runtime.MemStats)
 *   /metrics                    Prometheus text (client_golang's go_memstats_* / go_gc_* metrics)
 *
 * Pure functions over (buf, len) buffers that need not be NUL-terminated (the bytes come from
 * the inspected process: hostile). They return 0 or -EBADMSG with a message in errbuf. */
#pragma once

#include "model/go_stats.h"

#include <stddef.h>

/* The "# runtime.MemStats" block of /debug/pprof/heap?debug=1 (runtime/pprof writeHeapInternal):
 *   # runtime.MemStats
 *   # HeapAlloc = 123
 *   # Stack = 1146880 / 1146880
 *   # PauseNs = [41583 0 0 ...]        (the 256-entry ring)
 *   # GCCPUFraction = 1.2e-05
 * Needs at least the heap and stack lines; no PauseTotalNs in this format (it is computed from
 * the ring when NumGC <= 256). */
int gsm_go_parse_pprof_memstats(const char *buf, size_t len, struct gsm_go_stats *ret, char *errbuf, size_t errlen);

/* expvar /debug/vars: {"cmdline": [...], "memstats": {"Alloc": 1, ..., "PauseNs": [...]}} */
int gsm_go_parse_expvar(const char *buf, size_t len, struct gsm_go_stats *ret, char *errbuf, size_t errlen);

/* Prometheus text exposition format 0.0.4: go_memstats_*, go_gc_duration_seconds{quantile="1"},
 * _sum and _count, go_goroutines, go_gc_gomemlimit_bytes. A malformed line fails the whole body,
 * as it fails a Prometheus scrape. NaN values (e.g. a quantile before the first GC) are absent. */
int gsm_go_parse_prometheus(const char *buf, size_t len, struct gsm_go_stats *ret, char *errbuf, size_t errlen);
