/* Memory ownership as a tree of samples, written two ways from one sample stream:
 *   - a gzipped profile.proto that `go tool pprof` (and speedscope, pprof.me ...) opens,
 *     with two sample types rss/bytes (the default) and pss/bytes;
 *   - folded stacks ("frame;frame;... value"), input for flamegraph.pl and speedscope.
 *
 * The tree `gsm_explain_build_tree` builds, root to leaf:
 *   [cgroup path] -> process "name[pid]" -> class -> mapping (path or anon@ADDR)
 * and, with a heap profile, [cgroup path] -> process -> "go-heap" -> Go frames of the heap
 * profile, root-most caller first (the arena's mappings are the kernel's cut of one region, so
 * the frames hang under the class once instead of being spread over them).
 *
 * In the proto, every distinct frame is a Function (name, filename, start line) with one
 * Location (one Line) per distinct (function, line); strings are deduplicated; ids are 1-based
 * and dense; all locations belong to one Mapping that says functions, file names and line
 * numbers are present, so pprof never tries to symbolize. That mapping's file is what
 * `go tool pprof` prints as "File:" (gsm_pprof_set_main_file: the target's executable). Samples with the same stack are
 * merged (their values added): two mappings of one library become one node. */
#pragma once

#include "model/process.h"
#include "model/go_heap_profile.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct gsm_pprof_builder;

/* One frame: name (required), and for code frames a source file and line (NULL/0 otherwise). */
struct gsm_pprof_frame {
    const char *name;
    const char *file;
    int64_t line;
};

/* NULL on allocation failure. */
struct gsm_pprof_builder *gsm_pprof_builder_new(void);
void gsm_pprof_builder_free(struct gsm_pprof_builder *b);

/* Add (or add to) the sample whose stack is frames_root_first[0..n) (n >= 1). Strings are
 * copied. Returns 0, -EINVAL (n == 0 or a NULL name), -ENOMEM. */
int gsm_pprof_add_sample(struct gsm_pprof_builder *b, const char *const *frames_root_first, size_t n,
                         int64_t rss_bytes, int64_t pss_bytes);
int gsm_pprof_add_sample_frames(struct gsm_pprof_builder *b, const struct gsm_pprof_frame *frames_root_first,
                                size_t n, int64_t rss_bytes, int64_t pss_bytes);

/* Number of distinct samples, and the sums of their values. */
size_t gsm_pprof_sample_count(const struct gsm_pprof_builder *b);
int64_t gsm_pprof_total_rss(const struct gsm_pprof_builder *b);
int64_t gsm_pprof_total_pss(const struct gsm_pprof_builder *b);

/* The file name of the profile's one Mapping ("File:" in `go tool pprof`; default "gsmapper").
 * Copied. Returns 0 or -ENOMEM. */
int gsm_pprof_set_main_file(struct gsm_pprof_builder *b, const char *file);

/* Free-form comments kept in the profile (`go tool pprof -comments`). Copied. */
int gsm_pprof_add_comment(struct gsm_pprof_builder *b, const char *comment);
/* The profile's time_nanos (default: when the builder was created). */
void gsm_pprof_set_time_nanos(struct gsm_pprof_builder *b, int64_t time_nanos);

/* Encode and gzip the profile into a malloc'd buffer (for gsm_write_file_atomic). */
int gsm_pprof_encode_gzip(const struct gsm_pprof_builder *b, void **ret_buf, size_t *ret_len);
/* The same, written to a stream. Returns 0 or -errno. */
int gsm_pprof_write_gzip(const struct gsm_pprof_builder *b, FILE *out);
/* Folded stacks, one line per sample with RSS > 0, value = RSS bytes, in insertion order.
 * Frames are sanitised: ';' and control characters (newlines) become '_'. */
int gsm_pprof_write_folded(const struct gsm_pprof_builder *b, FILE *out);

/* Frame names used by the tree. */
#define GSM_PPROF_HEAP_NOT_IN_PROFILE "(heap not in profile)"

/* Add one sample per mapping of p with RSS > 0 under [cgroup_path ->] "name[pid]" -> class ->
 * mapping, values RSS and PSS. Needs p classified (analyses/classify).
 *
 * With a heap profile, the go-heap class's RSS R is split over the profile's stacks by their
 * in-use bytes, directly under the class node (no mapping level): the profile's in-use total H
 * is set against R. When H <= R every stack keeps its own bytes (they are real live objects)
 * and R - H goes to a "(heap not in profile)" frame (fragmentation, goroutine stacks, idle
 * spans not yet returned, garbage since the last GC). When H > R (the profile is a sampled
 * estimate, or objects' pages are not resident) stacks are scaled by R/H. Either way the
 * go-heap node totals exactly R (rounding remainders join "(heap not in profile)"); PSS is
 * split in the same proportions. Returns 0 or -errno. */
int gsm_explain_build_tree(struct gsm_pprof_builder *b, const char *cgroup_path, const struct gsm_process *p,
                           const struct gsm_heap_profile *heap);
