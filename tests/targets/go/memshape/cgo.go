//go:build cgo

// Built only with CGO_ENABLED=1 (the memshape-cgo variant): links libc and the runtime/cgo
// thread start path, so threads get pthread stacks (8 MiB over a 4 KiB guard) instead of
// living in the Go heap arena.
package main

/*
static int gsm_cgo_touch(int x) { return x + 1; }
*/
import "C"

func init() {
	_ = C.gsm_cgo_touch(1)
}
