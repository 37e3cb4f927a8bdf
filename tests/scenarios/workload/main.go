// Command workload is the memory behaviour under test in gsmapper's watch scenario suite
// (tests/scenarios/run.sh). One binary, one behaviour per -mode; stdlib only.
//
// Every mode serves net/http/pprof on 127.0.0.1:0 (so `gsmapper watch` can reach the Go
// runtime's statistics; it discovers the port itself), then prints
//
//	READY pid=PID pprof=127.0.0.1:PORT mode=MODE
//
// With -wait-stdin it then waits for one line on stdin before it starts working (the harness
// moves the process into the scenario cgroup first, so every page the work touches is
// charged there). Phase changes are printed as "PHASE NAME TIME_MS" (Unix milliseconds):
// "PHASE start" when the work starts, "PHASE leak" when the memory growth under test starts
// (the leak start the harness measures lead times against), "PHASE burst"/"PHASE step"/... .
// Every 5 s a "STAT ..." line gives the Go runtime's view (heap, stacks, sys, goroutines,
// threads) for the harness log.
//
// Modes:
//
//	heapleak      -rate MiB/s of retained, touched heap, in steps every 100 ms, plus
//	              short-lived garbage (-garbage MiB/s) so there is a GC sawtooth on top
//	mmapleak      -rate MiB/s of anonymous syscall.Mmap memory (off-heap), touched
//	goroutineleak -rate goroutines/s that grow their stack (-stack KiB of recursion) and
//	              block forever
//	threadleak    -rate threads/s: goroutines that LockOSThread and block in read(2) on a
//	              pipe; debug.SetMaxThreads(-max-threads) lifts Go's default 10000 cap
//	burst         holds -base MiB, then after -at s allocates -burst MiB within -burst-secs s
//	sawtooth      benign: live set ~-base MiB (churned), garbage rate changing every 10-30 s
//	pagecache     benign: writes a -file-mib MiB file, then reads and rewrites it in a loop
//	              (page cache charged to the cgroup, reclaimable)
//	stepup        benign: holds ~-base MiB, at -at s steps up to ~-step MiB and holds
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"syscall"
	"time"
)

const mib = 1 << 20

var (
	mode       = flag.String("mode", "", "heapleak|mmapleak|goroutineleak|threadleak|burst|sawtooth|pagecache|stepup|spike")
	rate       = flag.Float64("rate", 0, "leak rate: MiB/s (heapleak, mmapleak), goroutines/s, threads/s")
	garbage    = flag.Float64("garbage", 0, "short-lived garbage MiB/s (heapleak; default 2×rate, at least 4)")
	base       = flag.Int("base", 0, "live MiB held from the start (burst, sawtooth, stepup)")
	at         = flag.Float64("at", 30, "seconds after start when the burst / step happens")
	burstMiB   = flag.Int("burst", 600, "burst MiB (burst)")
	burstSecs  = flag.Float64("burst-secs", 2, "burst duration in seconds (burst)")
	stepMiB    = flag.Int("step", 250, "usage to step up to, MiB (stepup); the spike's size (spike)")
	holdSecs   = flag.Float64("hold", 3, "seconds the spike is held before it is freed (spike)")
	stackKiB   = flag.Int("stack", 64, "stack KiB each leaked goroutine grows (goroutineleak)")
	maxThreads = flag.Int("max-threads", 100000, "debug.SetMaxThreads (threadleak)")
	leakDelay  = flag.Float64("leak-after", 0, "seconds of steady state before a leak starts")
	fileMiB    = flag.Int("file-mib", 1536, "file size MiB (pagecache)")
	dir        = flag.String("dir", "", "directory for the pagecache file (default: a temp dir)")
	waitStdin  = flag.Bool("wait-stdin", false, "wait for a line on stdin before working")
	seed       = flag.Int64("seed", 1, "random seed (sawtooth)")
)

var out = struct {
	sync.Mutex
	w *bufio.Writer
}{w: bufio.NewWriter(os.Stdout)}

func say(format string, a ...interface{}) {
	out.Lock()
	fmt.Fprintf(out.w, format+"\n", a...)
	out.w.Flush()
	out.Unlock()
}

func nowMS() int64 { return time.Now().UnixNano() / 1e6 }

func phase(name string) { say("PHASE %s %d", name, nowMS()) }

// touch writes one byte per page so the memory is resident (and charged).
func touch(b []byte) {
	for i := 0; i < len(b); i += 4096 {
		b[i] = byte(i>>12) | 1
	}
}

// ticker calls f every 100 ms with the number of seconds since the last call.
func every100ms(f func(dt float64)) {
	t := time.NewTicker(100 * time.Millisecond)
	last := time.Now()
	for now := range t.C {
		f(now.Sub(last).Seconds())
		last = now
	}
}

var sink []byte // keeps the compiler from dropping garbage allocations

// makeGarbage allocates n bytes of short-lived, touched garbage in 64 KiB pieces.
func makeGarbage(n int) {
	for n > 0 {
		sz := 64 << 10
		if n < sz {
			sz = n
		}
		b := make([]byte, sz)
		touch(b)
		sink = b
		n -= sz
	}
}

// retain allocates n bytes of touched heap in 256 KiB pieces and appends them to *keep.
func retain(keep *[][]byte, n int) {
	for n > 0 {
		sz := 256 << 10
		if n < sz {
			sz = n
		}
		b := make([]byte, sz)
		touch(b)
		*keep = append(*keep, b)
		n -= sz
	}
}

func leakDelayWait() {
	if *leakDelay > 0 {
		time.Sleep(time.Duration(*leakDelay * float64(time.Second)))
	}
	phase("leak")
}

func heapLeak() {
	g := *garbage
	if g == 0 {
		g = 2 * *rate
		if g < 4 {
			g = 4
		}
	}
	var keep [][]byte
	retain(&keep, *base*mib)
	leakDelayWait()
	var owedLeak, owedGarbage float64
	every100ms(func(dt float64) {
		owedLeak += *rate * mib * dt
		owedGarbage += g * mib * dt
		n := int(owedLeak) &^ 4095
		retain(&keep, n)
		owedLeak -= float64(n)
		n = int(owedGarbage) &^ 4095
		makeGarbage(n)
		owedGarbage -= float64(n)
	})
}

func mmapLeak() {
	var maps [][]byte
	leakDelayWait()
	var owed float64
	every100ms(func(dt float64) {
		owed += *rate * mib * dt
		n := int(owed) &^ 4095
		if n == 0 {
			return
		}
		b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
		if err != nil {
			say("ERROR mmap %d: %v", n, err)
			return
		}
		touch(b)
		maps = append(maps, b)
		owed -= float64(n)
	})
}

var block = make(chan struct{}) // never closed: leaked goroutines wait on it forever

// deep recurses until about kib KiB of stack are in use, then blocks forever at the bottom
// (so the GC never shrinks the stack: it is in use).
//
//go:noinline
func deep(kib int) int {
	var pad [1024]byte // ~1 KiB frame
	pad[kib%1024] = byte(kib)
	if kib <= 1 {
		<-block
		return int(pad[0])
	}
	return deep(kib-1) + int(pad[1])
}

func goroutineLeak() {
	leakDelayWait()
	var owed float64
	n := 0
	every100ms(func(dt float64) {
		owed += *rate * dt
		for ; owed >= 1; owed-- {
			go deep(*stackKiB)
			n++
		}
	})
}

func threadLeak() {
	debug.SetMaxThreads(*maxThreads)
	var fds [2]int
	if err := syscall.Pipe(fds[:]); err != nil { // blocking fds: read(2) parks the thread
		say("ERROR pipe: %v", err)
		os.Exit(1)
	}
	leakDelayWait()
	var owed float64
	every100ms(func(dt float64) {
		owed += *rate * dt
		for ; owed >= 1; owed-- {
			go func() {
				runtime.LockOSThread()
				var b [1]byte
				syscall.Read(fds[0], b[:]) // nobody writes: blocks forever in the kernel
				select {}
			}()
		}
	})
}

func burst() {
	var keep [][]byte
	retain(&keep, *base*mib)
	phase("steady")
	deadline := time.Now().Add(time.Duration(*at * float64(time.Second)))
	every100ms(func(dt float64) { // a steady service: some garbage
		makeGarbage(2 * mib / 10)
		if time.Now().After(deadline) {
			phase("leak")
			steps := int(*burstSecs * 10)
			if steps < 1 {
				steps = 1
			}
			per := *burstMiB * mib / steps
			for i := 0; i < steps; i++ {
				retain(&keep, per)
				time.Sleep(time.Duration(float64(time.Second) * *burstSecs / float64(steps)))
			}
			phase("burst-done")
			select {}
		}
	})
}

func sawtooth() {
	r := rand.New(rand.NewSource(*seed))
	b := *base
	if b == 0 {
		b = 110
	}
	// the live set: b MiB in 256 KiB entries, a fraction replaced each tick (a cache)
	const entry = 256 << 10
	keep := make([][]byte, b*mib/entry)
	for i := range keep {
		keep[i] = make([]byte, entry)
		touch(keep[i])
	}
	phase("steady")
	var g float64
	next := time.Now()
	var owed float64
	every100ms(func(dt float64) {
		if now := time.Now(); !now.Before(next) {
			g = []float64{5, 10, 20, 40, 60, 80}[r.Intn(6)] // MiB/s of garbage
			next = now.Add(time.Duration(10+r.Intn(21)) * time.Second)
			say("RATE garbage_mib_s=%g until=%d", g, next.UnixNano()/1e6)
		}
		owed += g * mib * dt
		n := int(owed) &^ 4095
		makeGarbage(n)
		owed -= float64(n)
		// replace ~1% of the cache per tick: the live set churns but stays the same size
		for i := 0; i < len(keep)/100+1; i++ {
			j := r.Intn(len(keep))
			keep[j] = make([]byte, entry)
			touch(keep[j])
		}
	})
}

func pageCache() {
	d := *dir
	if d == "" {
		var err error
		if d, err = os.MkdirTemp("", "gsm-scn-pagecache-"); err != nil {
			say("ERROR %v", err)
			os.Exit(1)
		}
		defer os.RemoveAll(d)
	}
	path := filepath.Join(d, "churn.dat")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		say("ERROR %v", err)
		os.Exit(1)
	}
	defer os.Remove(path)
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	size := int64(*fileMiB) * mib
	phase("steady")
	for pass := 0; ; pass++ {
		// rewrite a quarter of the file (dirty pages), then read all of it
		start := (int64(pass%4) * size / 4) &^ (mib - 1)
		for off := start; off < start+size/4 && off < size; off += mib {
			if _, err := f.WriteAt(buf, off); err != nil {
				say("ERROR write: %v", err)
				os.Exit(1)
			}
		}
		if pass%4 == 3 || pass == 0 {
			f.Sync()
		}
		for off := int64(0); off < size; off += mib {
			if _, err := f.ReadAt(buf, off); err != nil && off < size-mib {
				break // the first pass has not written the whole file yet
			}
		}
		if pass%10 == 0 {
			say("PASS %d", pass)
		}
		makeGarbage(1 * mib) // a little Go heap activity too
	}
}

func stepUp() {
	b := *base
	if b == 0 {
		b = 40
	}
	var keep [][]byte
	retain(&keep, b*mib/2) // heap ≈ 2 × live with GOGC=100 once garbage has run a cycle
	phase("steady")
	deadline := time.Now().Add(time.Duration(*at * float64(time.Second)))
	stepped := false
	every100ms(func(dt float64) {
		makeGarbage(mib / 2) // 5 MiB/s of garbage: a GC cycle every so often
		if !stepped && time.Now().After(deadline) {
			stepped = true
			phase("step")
			// one step to ~-step MiB: half of it stays live, half is dropped at once, so the
			// heap (and usage) is at the new level immediately and GOGC=100 keeps it there
			live := (*stepMiB - b) * mib / 2
			retain(&keep, live)
			var tmp [][]byte
			retain(&tmp, live)
			tmp = nil
			// one collection now, so the pacer's goal comes from the new live set (~half of
			// -step MiB: ~-step MiB with GOGC=100) rather than from a cycle that ran while
			// the dropped half was still reachable (that goal would be ~1.5 × -step)
			runtime.GC()
			phase("stepped")
		}
	})
}

// spike: a start-up spike (a config or index loaded, then dropped): -step MiB allocated at
// once, held -hold seconds, freed and returned to the OS; then a small steady service.
func spike() {
	var keep [][]byte
	retain(&keep, *base*mib)
	phase("steady")
	var tmp [][]byte
	retain(&tmp, *stepMiB*mib)
	phase("spike")
	time.Sleep(time.Duration(*holdSecs * float64(time.Second)))
	tmp = nil
	runtime.GC()
	debug.FreeOSMemory()
	phase("freed")
	every100ms(func(dt float64) { makeGarbage(mib / 2) })
}

func stats() {
	for range time.Tick(5 * time.Second) {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		th := "?"
		if b, err := os.ReadFile("/proc/self/status"); err == nil {
			var n int
			for _, l := range splitLines(string(b)) {
				if _, err := fmt.Sscanf(l, "Threads: %d", &n); err == nil {
					th = fmt.Sprint(n)
				}
			}
		}
		say("STAT t=%d heap_alloc_mib=%d heap_inuse_mib=%d heap_sys_mib=%d heap_released_mib=%d stack_inuse_mib=%d sys_mib=%d next_gc_mib=%d num_gc=%d goroutines=%d threads=%s",
			nowMS(), ms.HeapAlloc/mib, ms.HeapInuse/mib, ms.HeapSys/mib, ms.HeapReleased/mib,
			ms.StackInuse/mib, ms.Sys/mib, ms.NextGC/mib, ms.NumGC, runtime.NumGoroutine(), th)
	}
}

func splitLines(s string) []string {
	var r []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '\n' {
			i++
		}
		r = append(r, s[:i])
		if i < len(s) {
			i++
		}
		s = s[i:]
	}
	return r
}

func main() {
	flag.Parse()
	modes := map[string]func(){
		"heapleak": heapLeak, "mmapleak": mmapLeak, "goroutineleak": goroutineLeak,
		"threadleak": threadLeak, "burst": burst, "sawtooth": sawtooth,
		"pagecache": pageCache, "stepup": stepUp, "spike": spike,
	}
	run, ok := modes[*mode]
	if !ok {
		fmt.Fprintf(os.Stderr, "workload: unknown -mode %q\n", *mode)
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintf(os.Stderr, "workload: listen: %v\n", err)
		os.Exit(1)
	}
	go http.Serve(ln, nil) // DefaultServeMux carries /debug/pprof/
	say("READY pid=%d pprof=%s mode=%s", os.Getpid(), ln.Addr(), *mode)
	if *waitStdin {
		bufio.NewReader(os.Stdin).ReadString('\n')
	}
	go stats()
	phase("start")
	run()
}
