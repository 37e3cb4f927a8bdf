/* Releasing the library pages a long-running command touched only while starting.
 *
 * serve loads libmicrohttpd (and, for Go statistics, libcurl), which pull in GnuTLS, p11-kit,
 * OpenSSL, Kerberos... Loading them touches far more file pages than serve ever uses again:
 * relocation processing walks every library's symbol tables, their constructors initialise TLS
 * back ends serve never calls, and each page fault maps up to 16 neighbouring pages
 * (fault-around). All of it is clean page cache, counted in VmRSS (RssFile). Measured on serve
 * --all --no-go-stats: 5.9 MiB VmRSS, of which RssFile 4.8 MiB; after this, 3.3 MiB, and 24 s of
 * ticks and scrapes later still 3.4 MiB (what serve does use faults back in, once).
 *
 * MADV_PAGEOUT (Linux 5.4) reclaims the pages of a range that no other process maps; pages
 * shared with other processes (libc, usually) are left alone by the kernel. */
#pragma once

#include <stddef.h>

/* madvise(MADV_PAGEOUT) over every file-backed mapping of this process that is not writable
 * (code and read-only data; writable mappings hold relocated, private pages). Returns the
 * number of mappings advised, or -errno (-EINVAL: the kernel predates MADV_PAGEOUT). */
int gsm_release_file_pages(size_t *ret_mappings);

/* malloc settings for the long-running commands (watch, serve). glibc raises its mmap
 * threshold to the size of any mmap'd block that is freed (up to 32 MiB), after which such
 * blocks come from the brk heap and, freed, stay there behind smaller live ones: serve --all
 * was seen at a 13.9 MiB heap (7.8 MiB resident) with 1.1 MiB live (valgrind massif), after a
 * 512 KiB HTTP body buffer and the smaps reading buffers. Fixed thresholds turn the
 * adjustment off: blocks of 64 KiB and more are mmap'd and unmapped on free, and the heap top
 * is trimmed beyond 256 KiB free; one arena, shared by the HTTP server's thread (its few
 * allocations per scrape do not justify a second heap of its own). */
void gsm_malloc_tune_for_daemon(void);

/* Gives the free pages inside malloc's heap back (malloc_trim(0): not only the top), after
 * each of serve's renders; the daemons' heaps are small (a few MiB), so it costs little. */
void gsm_malloc_trim(void);
