/* Go's pclntab: the runtime's own table from program counter to function, file and line
 * (what panics and runtime.Callers use; it survives `-ldflags=-s -w`). Formats of Go 1.2, 1.16,
 * 1.18 (also written by Go 1.19) and 1.20+ are read; docs/go-pclntab.md has the layouts.
 *
 * Reference implementations: $GOROOT/src/debug/gosym/pclntab.go (what `go tool addr2line`
 * uses), src/runtime/symtab.go (pcHeader, pcvalue), writer: src/cmd/link/internal/ld/pcln.go.
 *
 * Addresses are link-time virtual addresses of the ELF file. A PC from a running PIE process
 * must first have the load bias subtracted (gsm_pclntab_link_base(): bias = start of the
 * executable's offset-0 mapping in /proc/PID/maps - link base); non-PIE (ET_EXEC) has bias 0. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gsm_pclntab;   /* opaque: a malloc'd copy of the table plus its parsed header */

struct gsm_symbol {
    char func[512];    /* "main.main", "runtime.mallocgc" (truncated if longer) */
    char file[1024];   /* "/src/x/main.go"; "" when the table has no file for this PC */
    int line;          /* -1 when the table has no line for this PC (as debug/gosym) */
    uint64_t entry;    /* entry PC of the function (link-time address) */
};

/* Find and parse the pclntab of an ELF file open as fd (pread only; the file offset is not used).
 * Looks for the section .gopclntab or .data.rel.ro.gopclntab (internally linked PIE); without
 * either (no section headers, or an externally linked PIE that merged it into .data.rel.ro),
 * scans the loadable segments for a header that validates (see go_pclntab.c).
 * Returns 0, -ENOEXEC (ELF but no Go table), -EINVAL (not ELF, malformed or truncated),
 * -ENOMEM or a read error. *ret is written only on success; free with gsm_pclntab_free(). */
int gsm_pclntab_open_fd(int fd, struct gsm_pclntab **ret);

/* Parse a table held in memory (copied; buf may be freed afterwards). The pure half that unit
 * tests call. text_start: the address of runtime.text, which 1.18+ function offsets are relative
 * to; 0 means "use the header's textStart field". -EINVAL for anything malformed, -ENOEXEC when
 * the magic is not a known pclntab magic. */
int gsm_pclntab_parse(const void *buf, size_t len, uint64_t text_start, struct gsm_pclntab **ret);

void gsm_pclntab_free(struct gsm_pclntab *t);

/* Map a link-time PC to its function, file and line, with debug/gosym's semantics (the function
 * whose [entry, next entry) holds pc). -ENOENT: pc is in no function. -EINVAL: the function's
 * record or its pc-value tables are malformed (every read is bounds-checked, varints are at most
 * 5 bytes, a table walk stops at the end of the buffer). */
int gsm_pclntab_lookup(const struct gsm_pclntab *t, uint64_t pc, struct gsm_symbol *ret);

/* "1.2", "1.16", "1.18" or "1.20" (the table format, not the toolchain: Go 1.19 writes "1.18"). */
const char *gsm_pclntab_version(const struct gsm_pclntab *t);

/* Number of functions and the PC range [first entry, end) the table covers. */
size_t gsm_pclntab_nfunc(const struct gsm_pclntab *t);
void gsm_pclntab_text_range(const struct gsm_pclntab *t, uint64_t *ret_start, uint64_t *ret_end);

/* ELF facts needed to turn a running process's PC into a link-time one: whether the file is
 * position independent (ET_DYN) and the virtual address its file offset 0 is linked at (the
 * PT_LOAD with p_offset 0: p_vaddr - p_offset). Both are 0/false for tables from _parse(). */
bool gsm_pclntab_is_pie(const struct gsm_pclntab *t);
uint64_t gsm_pclntab_link_base(const struct gsm_pclntab *t);

/* Where the table was found, for messages: ".gopclntab", ".data.rel.ro.gopclntab", "scan". */
const char *gsm_pclntab_source(const struct gsm_pclntab *t);
