/* Go build information from an executable's .go.buildinfo blob (what `go version -m` prints).
 *
 * The blob is written by the Go linker (cmd/link/internal/ld/data.go, (*Link).buildinfo) and read
 * by the standard library in src/debug/buildinfo/buildinfo.go; this reader follows the latter:
 *
 *   offset  size  field
 *   0       14    magic "\xff Go buildinf:" (16-byte aligned; \xff makes it invalid UTF-8)
 *   14      1     pointer size of the target (4 or 8)
 *   15      1     flags: bit 0 = big endian, bit 1 = "inline strings" (Go >= 1.18)
 *   16      16    Go < 1.18: two target pointers (ptrsize bytes each) to Go string headers
 *                 {data ptr, len} of runtime.buildVersion and runtime.modinfo; 32-bit targets
 *                 leave the last 8 bytes unused.  Go >= 1.18: zero.
 *   32      ...   Go >= 1.18: uvarint length + bytes of the version, then the same for modinfo,
 *                 padded to 16 bytes.
 *
 * modinfo is framed by two 16-byte sentinels (cmd/go/internal/modload/build.go infoStart and
 * infoEnd); the text between them is tab-separated lines: "path\t<main package>",
 * "mod\t<module>\t<version>\t<sum>", "dep\t...", "=>\t..." (replacement), "build\tkey=value".
 *
 * Where it is: ELF executables carry it in a section named .go.buildinfo (survives -s -w). Without a
 * section table, debug/buildinfo scans the first 64 KiB of the first writable, non-executable
 * PT_LOAD segment for the magic at 16-byte-aligned positions; so does this reader. */
#pragma once

#include "model/go_build.h"

#include <stdbool.h>

/* Read .go.buildinfo from an open ELF fd (any file offset; pread is used). Returns 0 and fills
 * *ret, -ENOEXEC when the file is ELF but not Go (no buildinfo, or an empty version), -EINVAL for
 * a malformed/truncated/garbage file (not ELF, lying headers, lengths over 1 MiB, pointers that do
 * not map into the file), or another -errno (-ENOMEM, read errors). *ret is written only on
 * success; release it with gsm_go_info_free(). */
int gsm_go_info_read_fd(int fd, struct gsm_go_info *ret);

/* Convenience: open path relative to dirfd, following symlinks (/proc/PID/exe is a magic link),
 * and read it. -ENOENT etc. from openat() are passed through. */
int gsm_go_info_read_at(int dirfd, const char *path, struct gsm_go_info *ret);

