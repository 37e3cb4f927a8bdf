/* A Go heap profile (GET /debug/pprof/heap): gzipped profile.proto (package
 * perftools.profiles, src/proto/profile.proto), decoded from a buffer into a small model:
 * the sample types, and per sample (one per allocation stack) its values and its frames.
 *
 * Go 1.19 writes four sample types, in this order (runtime/pprof/protomem.go):
 *   alloc_objects/count, alloc_space/bytes, inuse_objects/count, inuse_space/bytes
 * with period_type space/bytes and period = MemProfileRate (524288). The in-use values are
 * as of the last completed GC (ask for /debug/pprof/heap?gc=1 to run one first) and are
 * already scaled up from the sampled allocations by runtime/pprof, so they are estimates.
 *
 * Hostile input is expected (the bytes come from a process's HTTP endpoint): inflation stops
 * at a caller-given cap, protobuf-c decodes under a memory budget, and every string, location
 * and function reference is range-checked before use. Pure: no I/O. */
#pragma once

#include "model/go_heap_profile.h"

#include <stddef.h>
#include <stdint.h>

/* Default cap on the inflated profile: 64 MiB. Real heap profiles of large services are a few
 * MiB uncompressed; the cap bounds a gzip bomb (1 GiB of zeros is ~1 MiB gzipped). */
#define GSM_HEAP_PROFILE_MAX_INFLATED ((size_t)64 << 20)
/* protobuf-c's decoded structures may use at most this many times the inflated size (a
 * message of 2 bytes becomes a struct of ~60): 4 x 64 MiB by default. */
#define GSM_HEAP_PROFILE_DECODE_FACTOR 4
/* At most this many frames over all samples (Go records at most 32 (1.19) or 128 (1.23+)
 * frames per stack; a sample may repeat a location with many lines, so this is what bounds
 * the model). */
#define GSM_HEAP_PROFILE_MAX_FRAMES ((size_t)1 << 21)

/* Decode a heap profile from `data` (gzip, or a plain protobuf when it does not start with the
 * gzip magic 1f 8b). max_inflated caps the decompressed size (0 = the default above).
 * Returns 0 and fills *ret, or: -EFBIG (inflates past the cap), -EBADMSG (truncated or corrupt
 * gzip, malformed protobuf, an out-of-range or duplicate id or string index, values that do
 * not match the sample types), -ENOMSG (no inuse_space sample type: not a heap profile),
 * -E2BIG (more frames than GSM_HEAP_PROFILE_MAX_FRAMES), -ENOMEM. */
int gsm_heap_profile_parse(const void *data, size_t len, size_t max_inflated, struct gsm_heap_profile *ret);

/* Inflate gzip (or zlib) data into a malloc'd buffer of at most max_out bytes, never
 * allocating more than that (a bomb is refused with -EFBIG after max_out bytes of output).
 * Concatenated gzip members are joined. Returns 0, -EFBIG, -EBADMSG or -ENOMEM. */
int gsm_gunzip(const void *data, size_t len, size_t max_out, void **ret_buf, size_t *ret_len);
