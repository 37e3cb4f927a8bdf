/* An ELF file open for the Go readers (elf_go: .go.buildinfo, go_pclntab: .gopclntab): libelf
 * parses the ELF, program and section headers (it checks that they lie inside the file); the
 * readers' own bytes are read with pread() after an explicit bounds check against the file size.
 * Nothing is mmap'd, so a file that shrinks underneath us yields a short read (-EINVAL), not
 * SIGBUS. */
#pragma once

#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gsm_elf_file {
    int fd;                  /* borrowed: not closed by gsm_elf_file_close */
    uint64_t file_size;
    Elf *elf;
    GElf_Ehdr ehdr;
    size_t phnum;
    bool have_shstrndx;      /* no (or a broken) section table is legal */
    size_t shstrndx;
};

/* Is [off, off+len) inside [start, end)? Without overflow. */
static inline bool gsm_range_ok(uint64_t off, uint64_t len, uint64_t start, uint64_t end) {
    return off >= start && off <= end && len <= end - off;
}

/* An unsigned integer of `size` bytes (<= 8) in the file's byte order. */
static inline uint64_t gsm_elf_decode_uint(const uint8_t *p, unsigned size, bool big_endian) {
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)p[big_endian ? size - 1 - i : i] << (8 * i);
    return v;
}

/* Open the ELF file fd (a regular file; any file offset, pread is used): checks the identity
 * bytes and reads the headers. Returns 0, -EISDIR, -EINVAL (not ELF, or malformed headers) or
 * a read error. Close with gsm_elf_file_close(). */
int gsm_elf_file_open(int fd, struct gsm_elf_file *ret);
void gsm_elf_file_close(struct gsm_elf_file *x);

/* Read exactly len bytes at file offset off; anything short (a truncated file) is -EINVAL. */
int gsm_elf_read_exact(const struct gsm_elf_file *x, void *buf, size_t len, uint64_t off);

/* The section header named `want`; false when none (or no section table). */
bool gsm_elf_section_named(const struct gsm_elf_file *x, const char *want, GElf_Shdr *ret);

/* A relative relocation (symbol index 0) at virtual address addr in the SHT_RELA sections,
 * looking at no more than max_scan entries: *ret = its addend. In an internally linked PIE the
 * linker leaves pointer slots for the dynamic linker (golang/go#37173), so a zero slot's
 * link-time value is the addend. Returns 0 or -ENOENT. */
int gsm_elf_rela_lookup(const struct gsm_elf_file *x, uint64_t addr, uint64_t max_scan, uint64_t *ret);
