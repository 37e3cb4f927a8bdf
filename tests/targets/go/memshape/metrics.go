package main

// A hand-written Prometheus text exposition (format 0.0.4) of the Go runtime's statistics, with
// the metric names and semantics of client_golang's Go collector (prometheus/go_collector.go):
// go_memstats_* from runtime.ReadMemStats, go_gc_duration_seconds as a summary over the recent
// PauseNs entries, go_goroutines, go_threads, go_info and go_gc_gomemlimit_bytes. Values are
// formatted like client_golang does (strconv.FormatFloat(v, 'g', -1, 64)).

import (
	"fmt"
	"math"
	"net/http"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
)

func promFloat(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, +1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func serveMetrics(w http.ResponseWriter, _ *http.Request) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	var b strings.Builder
	metric := func(name, typ, help string, v float64) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n%s %s\n", name, help, name, typ, name, promFloat(v))
	}

	// go_gc_duration_seconds: quantiles of the recent pauses (client_golang uses the PauseNs
	// ring, newest first, up to NumGC entries).
	n := int(ms.NumGC)
	if n > len(ms.PauseNs) {
		n = len(ms.PauseNs)
	}
	pauses := make([]float64, 0, n)
	for i := 0; i < n; i++ {
		pauses = append(pauses, float64(ms.PauseNs[(int(ms.NumGC)+255-i)%256])/1e9)
	}
	sort.Float64s(pauses)
	b.WriteString("# HELP go_gc_duration_seconds A summary of the pause duration of garbage collection cycles.\n")
	b.WriteString("# TYPE go_gc_duration_seconds summary\n")
	for _, q := range []float64{0, 0.25, 0.5, 0.75, 1} {
		v := math.NaN()
		if len(pauses) > 0 {
			v = pauses[int(math.Round(q*float64(len(pauses)-1)))]
		}
		fmt.Fprintf(&b, "go_gc_duration_seconds{quantile=\"%s\"} %s\n", promFloat(q), promFloat(v))
	}
	fmt.Fprintf(&b, "go_gc_duration_seconds_sum %s\n", promFloat(float64(ms.PauseTotalNs)/1e9))
	fmt.Fprintf(&b, "go_gc_duration_seconds_count %d\n", ms.NumGC)

	metric("go_goroutines", "gauge", "Number of goroutines that currently exist.", float64(runtime.NumGoroutine()))
	b.WriteString("# HELP go_info Information about the Go environment.\n# TYPE go_info gauge\n")
	fmt.Fprintf(&b, "go_info{version=%q} 1\n", runtime.Version())
	metric("go_gc_gomemlimit_bytes", "gauge", "Go runtime memory limit configured by the user, otherwise math.MaxInt64.",
		float64(debug.SetMemoryLimit(-1)))

	metric("go_memstats_alloc_bytes", "gauge", "Number of bytes allocated and still in use.", float64(ms.Alloc))
	metric("go_memstats_alloc_bytes_total", "counter", "Total number of bytes allocated, even if freed.", float64(ms.TotalAlloc))
	metric("go_memstats_buck_hash_sys_bytes", "gauge", "Number of bytes used by the profiling bucket hash table.", float64(ms.BuckHashSys))
	metric("go_memstats_frees_total", "counter", "Total number of frees.", float64(ms.Frees))
	metric("go_memstats_gc_cpu_fraction", "gauge", "The fraction of this program's available CPU time used by the GC since the program started.", ms.GCCPUFraction)
	metric("go_memstats_gc_sys_bytes", "gauge", "Number of bytes used for garbage collection system metadata.", float64(ms.GCSys))
	metric("go_memstats_heap_alloc_bytes", "gauge", "Number of heap bytes allocated and still in use.", float64(ms.HeapAlloc))
	metric("go_memstats_heap_idle_bytes", "gauge", "Number of heap bytes waiting to be used.", float64(ms.HeapIdle))
	metric("go_memstats_heap_inuse_bytes", "gauge", "Number of heap bytes that are in use.", float64(ms.HeapInuse))
	metric("go_memstats_heap_objects", "gauge", "Number of allocated objects.", float64(ms.HeapObjects))
	metric("go_memstats_heap_released_bytes", "gauge", "Number of heap bytes released to OS.", float64(ms.HeapReleased))
	metric("go_memstats_heap_sys_bytes", "gauge", "Number of heap bytes obtained from system.", float64(ms.HeapSys))
	metric("go_memstats_last_gc_time_seconds", "gauge", "Number of seconds since 1970 of last garbage collection.", float64(ms.LastGC)/1e9)
	metric("go_memstats_lookups_total", "counter", "Total number of pointer lookups.", float64(ms.Lookups))
	metric("go_memstats_mallocs_total", "counter", "Total number of mallocs.", float64(ms.Mallocs))
	metric("go_memstats_mcache_inuse_bytes", "gauge", "Number of bytes in use by mcache structures.", float64(ms.MCacheInuse))
	metric("go_memstats_mcache_sys_bytes", "gauge", "Number of bytes used for mcache structures obtained from system.", float64(ms.MCacheSys))
	metric("go_memstats_mspan_inuse_bytes", "gauge", "Number of bytes in use by mspan structures.", float64(ms.MSpanInuse))
	metric("go_memstats_mspan_sys_bytes", "gauge", "Number of bytes used for mspan structures obtained from system.", float64(ms.MSpanSys))
	metric("go_memstats_next_gc_bytes", "gauge", "Number of heap bytes when next garbage collection will take place.", float64(ms.NextGC))
	metric("go_memstats_other_sys_bytes", "gauge", "Number of bytes used for other system allocations.", float64(ms.OtherSys))
	metric("go_memstats_stack_inuse_bytes", "gauge", "Number of bytes in use by the stack allocator.", float64(ms.StackInuse))
	metric("go_memstats_stack_sys_bytes", "gauge", "Number of bytes obtained from system for stack allocator.", float64(ms.StackSys))
	metric("go_memstats_sys_bytes", "gauge", "Number of bytes obtained from system.", float64(ms.Sys))
	metric("go_threads", "gauge", "Number of OS threads created.", float64(threadCount()))

	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_, _ = w.Write([]byte(b.String()))
}

func threadCount() int {
	n, _ := runtime.ThreadCreateProfile(nil)
	return n
}
