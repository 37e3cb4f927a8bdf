/* /proc/PID/smaps, smaps_rollup and maps (format: fs/proc/task_mmu.c, show_map_vma(),
 * show_smap(), show_smaps_rollup()).
 *
 * The parser is pure: it takes lines and appends mappings to a gsm_process. A mapping header is
 * recognised by its syntax ("start-end perms offset maj:min inode [path]"), never by the key
 * that came before it, so new kernel fields and reordered fields are harmless. Unknown
 * "Key: value [kB]" lines are kept in mapping->extra. */
#pragma once

#include "model/process.h"

#include <stddef.h>

struct gsm_parse_error {
    size_t line;          /* 1-based line number of the offending line, 0 if not a line issue */
    char what[128];
};

struct gsm_smaps_parser {
    struct gsm_process *proc;
    bool rollup;          /* parse into proc->rollup (smaps_rollup has one "[rollup]" header) */
    struct gsm_mapping *cur;
    size_t line;
    int next_field;       /* where the field-name lookup starts: the kernel prints in order */
    int prev_field;       /* the known field before this line in this mapping, -1 after a header */
    /* follow[prev_field + 1]: the field that came after prev_field last time, i.e. the one to
     * expect next (learned, so any kernel's order works; smaps skips rollup-only fields). */
    uint8_t follow[GSM_F__COUNT + 1];
    struct gsm_parse_error *err;
#define VMFLAGS_CACHE 4
    const char *vmflags_cache[VMFLAGS_CACHE];   /* VmFlags interned last, and their lengths */
    size_t vmflags_cache_len[VMFLAGS_CACHE];
    unsigned vmflags_cache_next;
    const char *last_path;      /* the interned path of the last named mapping, and its length */
    size_t last_path_len;
    /* The fields right after the current header taken so far in the kernel's exact layout, in
     * order (run_open until a line breaks the run), and the longest such run seen: the block
     * that fast_block() matches as a whole after each later header. */
    bool run_open;
    uint8_t run_n;
    uint8_t run_f[GSM_F__COUNT];
    struct {
        uint8_t n;                          /* fields; 0 until learned */
        uint8_t f[GSM_F__COUNT];
        uint16_t at[GSM_F__COUNT];          /* offset of each field's line in the block */
        uint16_t len, words;                /* bytes, and 8-byte words compared */
        uint64_t present;
        uint64_t text[GSM_F__COUNT * 28 / 8 + 1], mask[GSM_F__COUNT * 28 / 8 + 1];
    } block;
};

void gsm_smaps_parser_init(struct gsm_smaps_parser *ps, struct gsm_process *p, bool rollup,
                           struct gsm_parse_error *err);
/* Feed one line (without its '\n'). Returns 0, -EBADMSG on a malformed line (err filled), or
 * -ENOMEM. */
int gsm_smaps_parser_line(struct gsm_smaps_parser *ps, const char *line, size_t len);

/* Parse a whole buffer (smaps, smaps_rollup or maps text). */
int gsm_smaps_parse(struct gsm_process *p, const char *buf, size_t len, bool rollup,
                    struct gsm_parse_error *err);

/* Progress hook for the streaming reader: called on the calling thread after each parsed part
 * (about 64 KiB of text). Then p->maps[0, n_maps - 1) are complete; the last mapping may still
 * receive fields. Lets a caller classify mappings while the kernel is still formatting the rest. */
struct gsm_smaps_progress {
    void (*fn)(struct gsm_process *p, void *arg);
    void *arg;
};

/* Stream `name` ("smaps", "smaps_rollup" or "maps") from an open /proc/PID directory into p,
 * parsing a 64 KiB buffer at a time on the calling thread: memory stays flat however many
 * mappings there are (the text for 20,000 mappings is ~15 MB). Returns 0, -ENOENT/-ESRCH when the process is gone, -EACCES
 * when not permitted, -EBADMSG when malformed (err filled). */
int gsm_smaps_read_at(int procfd, const char *name, struct gsm_process *p,
                      const struct gsm_smaps_progress *progress, struct gsm_parse_error *err);
