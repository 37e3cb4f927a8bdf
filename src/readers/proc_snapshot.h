/* Read one process into a gsm_process: status, stat, statm, oom_score(_adj), exe (and whether it
 * is Go), tasks with stack pointers, smaps and smaps_rollup — each through the readers beside
 * this file, all relative to one root. */
#pragma once

#include "model/process.h"
#include "readers/proc_handle.h"
#include "readers/proc_smaps.h"
#include "util/root.h"

struct gsm_read_opts {
    bool smaps;          /* full per-mapping smaps (else maps only is not read either) */
    bool rollup;         /* smaps_rollup */
    bool best_effort;    /* a file we may not read is noted in p->missing instead of failing */
    struct gsm_smaps_progress smaps_progress;   /* optional hook while smaps streams in */
};

/* What failed, for the one-line error message: "<root>/proc/PID/<file>:<line>: <what>". */
struct gsm_read_error {
    char file[64];               /* "smaps", "status", ... relative to /proc/PID */
    struct gsm_parse_error parse;
};

/* Read the process behind the handle h (opened under root: a fixture tree's exe is found in it).
 * Returns 0; -ESRCH when there is no such process, it exited while being read, or its PID now
 * names another process (the start time differs from the handle's); -EACCES when a required file
 * is not readable (smaps needs the same user or CAP_SYS_PTRACE); -EBADMSG when a file is
 * malformed; -ENOMEM. err names the file in every case. */
int gsm_process_read(const struct gsm_root *root, const struct gsm_proc *h, const struct gsm_read_opts *opts,
                     struct gsm_process *p, struct gsm_read_error *err);

/* One read of a process by number: opens the handle, reads, closes it (callers that read the
 * process once). -ENOENT from the open is -ESRCH here. */
int gsm_process_read_pid(const struct gsm_root *root, pid_t pid, const struct gsm_read_opts *opts,
                         struct gsm_process *p, struct gsm_read_error *err);

/* The smaps (and smaps_rollup) part alone, for a process read earlier with opts->smaps false:
 * explain reads a Go process's runtime statistics first, then smaps, so both describe one
 * moment. status and statm are read again right after smaps, so the process's own figures
 * (the header's RSS) are of that moment too. Same returns as above. */
int gsm_process_read_smaps(const struct gsm_proc *h, const struct gsm_read_opts *opts, struct gsm_process *p,
                           struct gsm_read_error *err);
