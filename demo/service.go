// The `make demo` service: a small Go program with a known memory shape, so gsmapper's
// `explain` output can be checked against what we know is there:
//
//   - ~48 MiB of live heap: a map of 1536 entries x 32 KiB []byte values (every page touched)
//   - 200 goroutines parked on a channel (their stacks live in the Go heap arena)
//   - net/http/pprof on 127.0.0.1:0 (the chosen port is printed), so the heap profile is reachable
//   - a ~16 MiB file mapped read-only with syscall.Mmap and read through once (file-backed,
//     resident, clean: page cache charged to the process's cgroup, not the Go heap)
//
// It prints "PPROF 127.0.0.1:PORT", "MMAP PATH BYTES" and finally "READY" on stdout, then sleeps
// until SIGTERM/SIGINT (or until stdin is closed, with -stdin-exit). Stdlib only.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"
)

var (
	heapMiB    = flag.Int("heap-mib", 48, "MiB of live heap held in a map")
	goroutines = flag.Int("goroutines", 200, "parked goroutines")
	mmapMiB    = flag.Int("mmap-mib", 16, "size of the file to mmap, MiB")
	dataPath   = flag.String("data", "demo-data.bin", "file to create (if missing or too small) and mmap")
	stdinExit  = flag.Bool("stdin-exit", false, "exit when stdin is closed")
	leakMiBps  = flag.Int("leak-mib-per-s", 0, "after -leak-after seconds, leak this many MiB/s of heap (the watch demo)")
	leakAfter  = flag.Int("leak-after", 25, "seconds before the leak starts")
)

// cache is the "service state": live for the whole run.
var cache = map[int][]byte{}

// sink keeps the mmap'd checksum observable so the read loop is not optimized away.
var sink uint64

func ensureFile(path string, size int64) error {
	if st, err := os.Stat(path); err == nil && st.Size() >= size {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i*7 + 1)
	}
	for written := int64(0); written < size; written += int64(len(buf)) {
		if _, err := f.Write(buf); err != nil {
			return err
		}
	}
	return f.Sync()
}

func main() {
	flag.Parse()
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "demo service:", err)
		os.Exit(1)
	}

	// Heap: 32 KiB values, the largest small-object size class (runtime/sizeclasses.go,
	// _MaxSmallSize = 32768), held live by the map.
	const chunk = 32 << 10
	for i := 0; i < *heapMiB*(1<<20)/chunk; i++ {
		b := make([]byte, chunk)
		for j := 0; j < len(b); j += 4096 {
			b[j] = byte(i)
		}
		cache[i] = b
	}

	park := make(chan struct{})
	for i := 0; i < *goroutines; i++ {
		go func() { <-park }()
	}

	size := int64(*mmapMiB) << 20
	if err := ensureFile(*dataPath, size); err != nil {
		fail(err)
	}
	f, err := os.Open(*dataPath)
	if err != nil {
		fail(err)
	}
	mem, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		fail(err)
	}
	f.Close() // the mapping keeps the file referenced
	for i := 0; i < len(mem); i += 4096 {
		sink += uint64(mem[i])
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	go func() { _ = http.Serve(ln, nil) }()

	fmt.Printf("PPROF %s\n", ln.Addr())
	fmt.Printf("MMAP %s %d\n", *dataPath, size)
	fmt.Println("READY")

	if *leakMiBps > 0 {
		// The leak the watch demo catches: retained 32 KiB chunks, 10 times a second.
		go func() {
			time.Sleep(time.Duration(*leakAfter) * time.Second)
			fmt.Println("LEAKING")
			var leaked [][]byte
			per := *leakMiBps * (1 << 20) / 10 / chunk
			for range time.Tick(100 * time.Millisecond) {
				for i := 0; i < per; i++ {
					b := make([]byte, chunk)
					for j := 0; j < len(b); j += 4096 {
						b[j] = 1
					}
					leaked = append(leaked, b)
				}
			}
		}()
	}

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	eof := make(chan struct{})
	if *stdinExit {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			close(eof)
		}()
	}
	select {
	case <-stop:
	case <-eof:
	}
	runtime.KeepAlive(cache)
	runtime.KeepAlive(mem)
	close(park)
}
