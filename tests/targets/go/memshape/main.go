// memshape is a Go test target with a known memory shape for gsmapper's tests:
//
//	-heap-mib N     keep N MiB of live, touched heap (1 MiB []byte chunks held in a slice)
//	-goroutines N   park N goroutines on a channel (their stacks live in the heap arena)
//	-pprof-port P   serve net/http/pprof on 127.0.0.1:P (0 = any free port; -1 = off); the
//	                same listener serves expvar's /debug/vars
//	-prom           also serve Prometheus text /metrics there (go_memstats_* etc., written by
//	                hand with client_golang's names and semantics)
//	-memstats       print runtime.ReadMemStats as one JSON line at start
//	-pool-mib N     keep N MiB of 64 KiB buffers live that were allocated by a sync.Pool's New
//	                (taken with Get and never Put back): heap held under sync.(*Pool).Get;
//	                two GCs then run before READY so the heap profile shows them
//	-settle         run two GCs before READY, as -pool-mib does: the heap profile, published at
//	                the end of a GC cycle, then holds every allocation made before
//	-churn-mib N    allocate N MiB/s of short-lived garbage (16 KiB buffers, the last 4 MiB kept):
//	                a steady service whose GC runs all the time
//	-grow-per-request N  allocate and touch N MiB more (kept live) at the start of every
//	                HTTP request: the process's RSS moves while a tool talks to it
//	-stdin-exit     exit when stdin reaches EOF (default: sleep until killed)
//
// Output protocol on stdout, one line each, in this order:
//
//	PPROF 127.0.0.1:PORT     (only with -pprof-port >= 0)
//	MEMSTATS {...}           (with -memstats, and again on every SIGUSR1)
//	READY
//
// SIGTERM/SIGINT exit 0. Stdlib only, so it builds offline.
package main

import (
	"bufio"
	"encoding/json"
	_ "expvar"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"syscall"
	"time"
)

var (
	heapMiB    = flag.Int("heap-mib", 32, "MiB of live heap to allocate and touch")
	goroutines = flag.Int("goroutines", 100, "number of parked goroutines")
	pprofPort  = flag.Int("pprof-port", -1, "serve net/http/pprof on 127.0.0.1:PORT (0 = any, -1 = off)")
	memstats   = flag.Bool("memstats", false, "print runtime.ReadMemStats as JSON at start")
	stdinExit  = flag.Bool("stdin-exit", false, "exit when stdin is closed")
	prom       = flag.Bool("prom", false, "serve Prometheus text /metrics on the pprof listener")
	poolMiB    = flag.Int("pool-mib", 0, "MiB of live 64 KiB buffers allocated through a sync.Pool's New")
	growPerReq = flag.Int("grow-per-request", 0, "MiB to allocate and keep at the start of every HTTP request")
	settle     = flag.Bool("settle", false, "run two GCs before READY (the heap profile then shows every allocation)")
	churnMiB   = flag.Int("churn-mib", 0, "MiB per second of short-lived garbage")
)

// churn allocates mibPerS MiB of 16 KiB buffers per second in 10 ms steps, keeping the last
// 256 (4 MiB) reachable.
func churn(mibPerS int) {
	var ring [256][]byte
	k := 0
	perStep := mibPerS * 64 / 100 // 16 KiB buffers per 10 ms
	if perStep < 1 {
		perStep = 1
	}
	for range time.Tick(10 * time.Millisecond) {
		for i := 0; i < perStep; i++ {
			b := make([]byte, 16<<10)
			for j := 0; j < len(b); j += 4096 {
				b[j] = 1
			}
			ring[k%len(ring)] = b
			k++
		}
	}
}

// bufPool hands out 64 KiB buffers; newPoolBuf is its New, so the heap profile shows these
// allocations under sync.(*Pool).Get.
var bufPool = sync.Pool{New: newPoolBuf}

//go:noinline
func newPoolBuf() interface{} {
	b := make([]byte, 64<<10)
	for j := 0; j < len(b); j += 4096 {
		b[j] = 1
	}
	return b
}

var pooled []interface{}

//go:noinline
func fillFromPool(mib int) {
	for i := 0; i < mib*16; i++ {
		pooled = append(pooled, bufPool.Get())
	}
}

var grown [][]byte
var grownMu sync.Mutex

// growing allocates -grow-per-request MiB before handing the request on.
func growing(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		grownMu.Lock()
		for i := 0; i < *growPerReq; i++ {
			chunk := make([]byte, 1<<20)
			for j := 0; j < len(chunk); j += 4096 {
				chunk[j] = 1
			}
			grown = append(grown, chunk)
		}
		grownMu.Unlock()
		next.ServeHTTP(w, r)
	})
}

// live keeps the heap reachable for the life of the process.
var live [][]byte

var outMu sync.Mutex

func say(format string, a ...interface{}) {
	outMu.Lock()
	defer outMu.Unlock()
	fmt.Fprintf(os.Stdout, format+"\n", a...)
}

func printMemStats() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	// PauseNs/PauseEnd (256 entries each) and BySize are noise here: the outer nil
	// fields shadow the embedded ones and omitempty drops them.
	b, err := json.Marshal(struct {
		runtime.MemStats
		PauseNs  *struct{} `json:",omitempty"`
		PauseEnd *struct{} `json:",omitempty"`
		BySize   *struct{} `json:",omitempty"`
	}{MemStats: ms})
	if err != nil {
		say("MEMSTATS {\"error\":%q}", err.Error())
		return
	}
	say("MEMSTATS %s", b)
}

func main() {
	flag.Parse()

	for i := 0; i < *heapMiB; i++ {
		chunk := make([]byte, 1<<20)
		for j := 0; j < len(chunk); j += 4096 {
			chunk[j] = byte(i + 1) // touch every page so it is resident
		}
		live = append(live, chunk)
	}

	fillFromPool(*poolMiB)
	if *poolMiB > 0 || *settle {
		// The heap profile is published at the end of a GC cycle and may lag by two: make the
		// pool's buffers part of the "as of the last GC" profile before READY.
		runtime.GC()
		runtime.GC()
	}

	if *churnMiB > 0 {
		go churn(*churnMiB)
	}

	park := make(chan struct{})
	var started sync.WaitGroup
	for i := 0; i < *goroutines; i++ {
		started.Add(1)
		go func() {
			started.Done()
			<-park
		}()
	}
	started.Wait()

	if *pprofPort >= 0 {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *pprofPort))
		if err != nil {
			fmt.Fprintln(os.Stderr, "memshape:", err)
			os.Exit(1)
		}
		if *prom {
			http.HandleFunc("/metrics", serveMetrics)
		}
		say("PPROF %s", ln.Addr().String())
		var h http.Handler = http.DefaultServeMux
		if *growPerReq > 0 {
			h = growing(h)
		}
		go func() { _ = http.Serve(ln, h) }()
	}

	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)

	if *memstats {
		printMemStats()
	}
	say("READY")

	eof := make(chan struct{})
	if *stdinExit {
		go func() {
			_, _ = io.Copy(io.Discard, bufio.NewReader(os.Stdin))
			close(eof)
		}()
	}

	for {
		select {
		case <-usr1:
			printMemStats()
		case <-stop:
			runtime.KeepAlive(live)
			runtime.KeepAlive(pooled)
			os.Exit(0)
		case <-eof:
			runtime.KeepAlive(live)
			os.Exit(0)
		}
	}
}
