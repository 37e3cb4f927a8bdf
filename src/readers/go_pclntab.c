/* Reader for Go's pclntab (layouts in docs/go-pclntab.md; reference: debug/gosym/pclntab.go,
 * runtime/symtab.go; writer: cmd/link/internal/ld/pcln.go).
 *
 * The table is copied into a malloc'd buffer with pread() (no mmap: a file truncated underneath
 * us gives a short read, not SIGBUS). Every access goes through rd_u32/rd_uint/rd_cstr, which
 * check [off, off+len) against the buffer; offsets from the file are 64-bit and checked before
 * any arithmetic that could overflow. debug/gosym relies on Go's slice bounds checks and
 * recover(); this file does the same checks explicitly and returns -EINVAL instead. */
#include "readers/go_pclntab.h"
#include "readers/elf_file.h"
#include "util/cleanup.h"
#include "util/log.h"

#include <elf.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>

/* pcHeader.magic per format (debug/gosym: go12magic, go116magic, go118magic, go120magic). */
#define GO12_MAGIC 0xfffffffbu
#define GO116_MAGIC 0xfffffffau
#define GO118_MAGIC 0xfffffff0u
#define GO120_MAGIC 0xfffffff1u

/* A real table has a few hundred thousand functions at most (a 300 MB binary has ~2e5); the
 * header's nfunc is also checked against the bytes available, this is only a sanity cap. */
#define PCLN_NFUNC_MAX ((uint64_t)1 << 24)
/* Largest table read into memory (a 1 GB binary carries ~200 MB of pclntab). */
#define PCLN_SIZE_MAX ((uint64_t)1 << 30)
/* Scanning: segments are read in chunks of this size. */
#define PCLN_SCAN_CHUNK ((size_t)1 << 20)
/* Upper bound on relocation entries looked at when resolving textStart in a PIE. */
#define PCLN_RELA_SCAN_MAX ((uint64_t)1 << 24)

enum pcln_version { VER12 = 12, VER116 = 116, VER118 = 118, VER120 = 120 };

struct gsm_pclntab {
    uint8_t *data;
    size_t size;
    enum pcln_version version;
    unsigned quantum, ptrsize;
    bool big_endian;
    uint64_t nfunc, nfiletab;
    uint64_t text_start;       /* 1.18+: base of functab/_func entry offsets */
    /* Offsets into data (all < size, checked at parse time). */
    uint64_t funcnametab, cutab, filetab, pctab, funcdata, functab;
    unsigned ftab_field;       /* functab field size: 4 for 1.18+, ptrsize before */
    bool is_pie;
    uint64_t link_base;
    const char *source;
};

/* ---- bounded reads of the table ---- */

/* The readers below always write *ret (0 on failure): callers chain them with || and the
 * compiler's flow analysis cannot see through that. */
static int rd_uint(const struct gsm_pclntab *t, uint64_t off, unsigned n, uint64_t *ret) {
    *ret = 0;
    if (!gsm_range_ok(off, n, 0, t->size))
        return -EINVAL;
    *ret = gsm_elf_decode_uint(t->data + off, n, t->big_endian);
    return 0;
}

static int rd_u32(const struct gsm_pclntab *t, uint64_t off, uint32_t *ret) {
    uint64_t v;
    int r = rd_uint(t, off, 4, &v);
    *ret = (uint32_t)v;
    return r;
}

/* Copy the NUL-terminated string at off into dst (truncating to dstsz - 1). A string that runs
 * off the end of the table is malformed. */
static int rd_cstr(const struct gsm_pclntab *t, uint64_t off, char *dst, size_t dstsz) {
    if (off >= t->size)
        return -EINVAL;
    const uint8_t *s = t->data + off;
    const uint8_t *nul = memchr(s, '\0', t->size - off);
    if (!nul)
        return -EINVAL;
    size_t len = (size_t)(nul - s);
    if (len >= dstsz)
        len = dstsz - 1;
    memcpy(dst, s, len);
    dst[len] = '\0';
    return 0;
}

/* runtime.readvarint: 7 bits per byte, low group first, high bit = more. Values are uint32; a
 * varint longer than 5 bytes, or a 5th byte with bits above bit 31, is malformed (the runtime
 * would silently wrap; nothing the linker writes does that). */
static int rd_varint(const struct gsm_pclntab *t, uint64_t *pos, uint32_t *ret) {
    uint32_t v = 0;
    for (unsigned i = 0; i < 5; i++) {
        if (*pos >= t->size)
            return -EINVAL;
        uint8_t b = t->data[(*pos)++];
        if (i == 4 && b > 0x0f)
            return -EINVAL;
        v |= (uint32_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *ret = v;
            return 0;
        }
    }
    return -EINVAL;
}

/* ---- the table ---- */

/* PC of functab entry i (i == nfunc is the end sentinel). */
static int ftab_pc(const struct gsm_pclntab *t, uint64_t i, uint64_t *ret) {
    uint64_t v;
    int r = rd_uint(t, t->functab + 2 * i * t->ftab_field, t->ftab_field, &v);
    if (r < 0)
        return r;
    if (t->version >= VER118) {
        if (v > UINT64_MAX - t->text_start)
            return -EINVAL;
        v += t->text_start;
    }
    *ret = v;
    return 0;
}

static int ftab_funcoff(const struct gsm_pclntab *t, uint64_t i, uint64_t *ret) {
    return rd_uint(t, t->functab + (2 * i + 1) * t->ftab_field, t->ftab_field, ret);
}

/* Field n (1..9) of the _func record at off; field 0 (entry) is a uintptr before 1.18 and a
 * uint32 offset from textStart since, so the 4-byte fields after it shift (gosym funcData.field). */
static int func_field(const struct gsm_pclntab *t, uint64_t off, unsigned n, uint32_t *ret) {
    unsigned sz0 = t->version >= VER118 ? 4 : t->ptrsize;
    return rd_u32(t, off + sz0 + (uint64_t)(n - 1) * 4, ret);
}

static int func_entry(const struct gsm_pclntab *t, uint64_t off, uint64_t *ret) {
    if (t->version >= VER118) {
        uint32_t e;
        int r = rd_u32(t, off, &e);
        if (r < 0)
            return r;
        if (e > UINT64_MAX - t->text_start)
            return -EINVAL;
        *ret = e + t->text_start;
        return 0;
    }
    return rd_uint(t, off, t->ptrsize, ret);
}

#define FUNC_NAMEOFF 1
#define FUNC_PCFILE 5
#define FUNC_PCLN 6
#define FUNC_CUOFFSET 8

/* runtime.pcvalue / gosym.pcvalue: walk the pc-value table at pctab+off from entry until the
 * row holding target. Each row: a zig-zag varint value delta, then a varint pc delta in units of
 * the quantum; a zero value delta after the first row ends the table. *ret = -1 when the table
 * ends before target (gosym's answer). The walk consumes at least one byte per varint, so it
 * ends at the buffer's end at the latest: -EINVAL. */
static int pcvalue(const struct gsm_pclntab *t, uint32_t off, uint64_t entry, uint64_t target, int32_t *ret) {
    if (off == 0) {   /* no table (the linker writes 0 for "none") */
        *ret = -1;
        return 0;
    }
    uint64_t pos = t->pctab + off;
    if (pos >= t->size)
        return -EINVAL;
    uint32_t val = (uint32_t)-1;   /* int32 arithmetic done unsigned: wraps like Go, no UB */
    uint64_t pc = entry;
    for (;;) {
        bool first = pc == entry;
        uint32_t uv, pcd;
        int r = rd_varint(t, &pos, &uv);
        if (r < 0)
            return r;
        if (uv == 0 && !first)
            break;
        uint32_t vdelta = (uv & 1) ? ~(uv >> 1) : (uv >> 1);
        r = rd_varint(t, &pos, &pcd);
        if (r < 0)
            return r;
        uint64_t step = (uint64_t)pcd * t->quantum;
        if (step > UINT64_MAX - pc)
            return -EINVAL;
        pc += step;
        val += vdelta;
        if (target < pc) {
            *ret = (int32_t)val;
            return 0;
        }
    }
    *ret = -1;
    return 0;
}

int gsm_pclntab_lookup(const struct gsm_pclntab *t, uint64_t pc, struct gsm_symbol *ret) {
    uint64_t lo_pc, end_pc;
    int r;
    if ((r = ftab_pc(t, 0, &lo_pc)) < 0 || (r = ftab_pc(t, t->nfunc, &end_pc)) < 0)
        return r;
    if (pc < lo_pc || pc >= end_pc)
        return -ENOENT;
    /* Last i with pc(i) <= pc (functab is sorted, checked at parse time); empty functions share
     * their entry with the next one, so the non-empty one is found (gosym findFunc). */
    uint64_t lo = 0, hi = t->nfunc;   /* invariant: pc(lo) <= pc < pc(hi) */
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2, mpc;
        if ((r = ftab_pc(t, mid, &mpc)) < 0)
            return r;
        if (mpc <= pc)
            lo = mid;
        else
            hi = mid;
    }
    uint64_t fentry, funcoff;
    if ((r = ftab_pc(t, lo, &fentry)) < 0 || (r = ftab_funcoff(t, lo, &funcoff)) < 0)
        return r;
    if (funcoff > t->size - t->funcdata)
        return -EINVAL;
    uint64_t f = t->funcdata + funcoff;

    struct gsm_symbol out = {.line = -1, .entry = fentry};
    uint32_t nameoff, pcfile, pcln, cuoff = 0;
    uint64_t entry;
    if ((r = func_entry(t, f, &entry)) < 0 || (r = func_field(t, f, FUNC_NAMEOFF, &nameoff)) < 0 ||
        (r = func_field(t, f, FUNC_PCFILE, &pcfile)) < 0 || (r = func_field(t, f, FUNC_PCLN, &pcln)) < 0)
        return r;
    if (t->version >= VER116 && (r = func_field(t, f, FUNC_CUOFFSET, &cuoff)) < 0)
        return r;
    if (nameoff > t->size - t->funcnametab)
        return -EINVAL;
    if ((r = rd_cstr(t, t->funcnametab + nameoff, out.func, sizeof out.func)) < 0)
        return r;

    int32_t line, fno;
    if ((r = pcvalue(t, pcln, entry, pc, &line)) < 0 || (r = pcvalue(t, pcfile, entry, pc, &fno)) < 0)
        return r;
    out.line = line;
    if (t->version == VER12) {
        /* filetab: uint32 count, then uint32 offsets into the table; entry 0 is unused. */
        if (fno > 0 && (uint64_t)fno < t->nfiletab) {
            uint32_t soff;
            if ((r = rd_u32(t, t->filetab + 4 * (uint64_t)fno, &soff)) < 0 ||
                (r = rd_cstr(t, soff, out.file, sizeof out.file)) < 0)
                return r;
        }
    } else if (fno >= 0) {   /* 1.16+: fno indexes the function's compilation unit in cutab */
        uint32_t fnoff;
        if ((r = rd_u32(t, t->cutab + ((uint64_t)cuoff + (uint64_t)fno) * 4, &fnoff)) < 0)
            return r;
        if (fnoff != UINT32_MAX) {
            if (fnoff > t->size - t->filetab)
                return -EINVAL;
            if ((r = rd_cstr(t, t->filetab + fnoff, out.file, sizeof out.file)) < 0)
                return r;
        }
    }
    *ret = out;
    return 0;
}

/* ---- header ---- */

static int parse_header(struct gsm_pclntab *t, uint64_t text_start) {
    const uint8_t *d = t->data;
    if (t->size < 16)
        return -EINVAL;
    uint32_t le = (uint32_t)gsm_elf_decode_uint(d, 4, false), be = (uint32_t)gsm_elf_decode_uint(d, 4, true);
    uint32_t magic;
    if (le == GO12_MAGIC || le == GO116_MAGIC || le == GO118_MAGIC || le == GO120_MAGIC)
        magic = le, t->big_endian = false;
    else if (be == GO12_MAGIC || be == GO116_MAGIC || be == GO118_MAGIC || be == GO120_MAGIC)
        magic = be, t->big_endian = true;
    else
        return -ENOEXEC;
    /* Two zero pad bytes, pc quantum (minimum instruction size: 1 x86, 2 s390x, 4 arm/ppc/mips),
     * pointer size. */
    if (d[4] != 0 || d[5] != 0 || (d[6] != 1 && d[6] != 2 && d[6] != 4) || (d[7] != 4 && d[7] != 8))
        return -EINVAL;
    t->quantum = d[6];
    t->ptrsize = d[7];
    t->version = magic == GO12_MAGIC ? VER12 : magic == GO116_MAGIC ? VER116
               : magic == GO118_MAGIC ? VER118 : VER120;
    t->ftab_field = t->version >= VER118 ? 4 : t->ptrsize;

    /* Header words after the 8 fixed bytes, each ptrsize wide:
     *   1.2:        nfunc, then functab inline
     *   1.16:       nfunc, nfiles, funcname, cu, filetab, pctab, pcln (offsets from the header)
     *   1.18/1.20:  nfunc, nfiles, textStart, funcname, cu, filetab, pctab, pcln */
    uint64_t w[8] = {0};
    unsigned nwords = t->version == VER12 ? 1 : t->version == VER116 ? 7 : 8;
    for (unsigned i = 0; i < nwords; i++) {
        int r = rd_uint(t, 8 + (uint64_t)i * t->ptrsize, t->ptrsize, &w[i]);
        if (r < 0)
            return r;
    }
    uint64_t hdr_end = 8 + (uint64_t)nwords * t->ptrsize;
    t->nfunc = w[0];
    if (t->nfunc == 0 || t->nfunc > PCLN_NFUNC_MAX)
        return -EINVAL;

    if (t->version == VER12) {
        t->funcdata = t->funcnametab = t->pctab = 0;   /* everything is relative to the table */
        t->functab = hdr_end;
    } else {
        uint64_t *o = t->version == VER116 ? &w[2] : &w[3];
        t->nfiletab = w[1];
        if (t->version >= VER118)
            t->text_start = text_start ? text_start : w[2];
        for (unsigned i = 0; i < 5; i++)
            if (o[i] < hdr_end || o[i] >= t->size)
                return -EINVAL;
        t->funcnametab = o[0];
        t->cutab = o[1];
        t->filetab = o[2];
        t->pctab = o[3];
        t->funcdata = t->functab = o[4];
    }
    /* functab: nfunc (pc, funcoff) pairs and the end pc. nfunc <= 2^24, so no overflow. */
    uint64_t ftab_size = (2 * t->nfunc + 1) * t->ftab_field;
    if (!gsm_range_ok(t->functab, ftab_size, 0, t->size))
        return -EINVAL;
    if (t->version == VER12) {
        uint32_t fileoff, n;
        int r = rd_u32(t, t->functab + ftab_size, &fileoff);
        if (r < 0 || (r = rd_u32(t, fileoff, &n)) < 0)
            return r < 0 ? r : -EINVAL;
        if (!gsm_range_ok(fileoff, (uint64_t)n * 4, 0, t->size))
            return -EINVAL;
        t->filetab = fileoff;
        t->nfiletab = n;
    }
    /* functab must be sorted (lookups binary-search it) and every record must lie in the table. */
    uint64_t prev = 0;
    for (uint64_t i = 0; i <= t->nfunc; i++) {
        uint64_t pc, off;
        int r = ftab_pc(t, i, &pc);
        if (r < 0)
            return r;
        if (pc < prev)
            return -EINVAL;
        prev = pc;
        if (i < t->nfunc) {
            if ((r = ftab_funcoff(t, i, &off)) < 0)
                return r;
            if (off > t->size - t->funcdata)
                return -EINVAL;
        }
    }
    return 0;
}

int gsm_pclntab_parse(const void *buf, size_t len, uint64_t text_start, struct gsm_pclntab **ret) {
    if (len > PCLN_SIZE_MAX)
        return -EINVAL;
    struct gsm_pclntab *t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    t->data = malloc(len ? len : 1);
    if (!t->data) {
        free(t);
        return -ENOMEM;
    }
    memcpy(t->data, buf, len);
    t->size = len;
    t->source = "memory";
    int r = parse_header(t, text_start);
    if (r < 0) {
        gsm_pclntab_free(t);
        return r;
    }
    *ret = t;
    return 0;
}

void gsm_pclntab_free(struct gsm_pclntab *t) {
    if (!t)
        return;
    free(t->data);
    free(t);
}

const char *gsm_pclntab_version(const struct gsm_pclntab *t) {
    switch (t->version) {
    case VER12: return "1.2";
    case VER116: return "1.16";
    case VER118: return "1.18";
    case VER120: return "1.20";
    }
    return "?";
}

size_t gsm_pclntab_nfunc(const struct gsm_pclntab *t) { return (size_t)t->nfunc; }

void gsm_pclntab_text_range(const struct gsm_pclntab *t, uint64_t *ret_start, uint64_t *ret_end) {
    uint64_t s = 0, e = 0;
    if (ftab_pc(t, 0, &s) < 0 || ftab_pc(t, t->nfunc, &e) < 0)
        s = e = 0;
    *ret_start = s;
    *ret_end = e;
}

bool gsm_pclntab_is_pie(const struct gsm_pclntab *t) { return t->is_pie; }
uint64_t gsm_pclntab_link_base(const struct gsm_pclntab *t) { return t->link_base; }
const char *gsm_pclntab_source(const struct gsm_pclntab *t) { return t->source; }

/* ---- finding the table in an ELF file ---- */

static bool in_exec_segment(const struct gsm_elf_file *x, uint64_t addr) {
    for (size_t i = 0; i < x->phnum; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(x->elf, (int)i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
            continue;
        if (addr >= ph.p_vaddr && addr - ph.p_vaddr < ph.p_memsz)
            return true;
    }
    return false;
}

/* Read [off, off+len) of the file and parse it as a table at virtual address vaddr. The
 * textStart slot of a 1.18+ header is resolved through relocations when zero (PIE). */
static int load_at(const struct gsm_elf_file *x, uint64_t off, uint64_t len, uint64_t vaddr, struct gsm_pclntab **ret) {
    if (len > PCLN_SIZE_MAX)
        len = PCLN_SIZE_MAX;   /* a table is never that large; the rest is other data */
    if (!gsm_range_ok(off, len, 0, x->file_size))
        return -EINVAL;
    _cleanup_free_ uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return -ENOMEM;
    int r = gsm_elf_read_exact(x, buf, len, off);
    if (r < 0)
        return r;
    uint64_t text_start = 0;
    if (len >= 8 + 3 * 8 && (buf[7] == 4 || buf[7] == 8)) {
        unsigned ps = buf[7];
        bool be = buf[0] == 0xff;   /* the magic's low byte is not 0xff: tells the byte order */
        uint32_t magic = (uint32_t)gsm_elf_decode_uint(buf, 4, be);
        if (magic == GO118_MAGIC || magic == GO120_MAGIC) {
            text_start = gsm_elf_decode_uint(buf + 8 + 2 * ps, ps, be);
            uint64_t v;
            if (text_start == 0 && gsm_elf_rela_lookup(x, vaddr + 8 + 2 * ps, PCLN_RELA_SCAN_MAX, &v) == 0)
                text_start = v;
            GElf_Shdr sh;
            if (text_start == 0 && gsm_elf_section_named(x, ".text", &sh))
                text_start = sh.sh_addr;   /* what go tool addr2line uses */
            if (text_start == 0)
                return -EINVAL;
        }
    }
    struct gsm_pclntab *t = NULL;
    /* parse copies; the copy of a multi-MB table is cheap next to reading it */
    r = gsm_pclntab_parse(buf, len, text_start, &t);
    if (r < 0)
        return r;
    *ret = t;
    return 0;
}

/* Look for the header magic at 4-byte aligned positions of every PT_LOAD with file contents and
 * accept the first candidate that parses completely (sorted functab, all offsets in bounds) and
 * whose first function's entry lies in an executable segment. runtime.firstmoduledata points at
 * the same place, but finding moduledata needs the symbol table that -s removes. */
static int scan_segments(const struct gsm_elf_file *x, struct gsm_pclntab **ret) {
    _cleanup_free_ uint8_t *chunk = malloc(PCLN_SCAN_CHUNK);
    if (!chunk)
        return -ENOMEM;
    for (size_t i = 0; i < x->phnum; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(x->elf, (int)i, &ph))
            return -EINVAL;
        if (ph.p_type != PT_LOAD || ph.p_filesz == 0)
            continue;
        if (!gsm_range_ok(ph.p_offset, ph.p_filesz, 0, x->file_size))
            return -EINVAL;
        for (uint64_t pos = 0; pos < ph.p_filesz; pos += PCLN_SCAN_CHUNK - 16) {
            size_t n = ph.p_filesz - pos < PCLN_SCAN_CHUNK ? (size_t)(ph.p_filesz - pos) : PCLN_SCAN_CHUNK;
            int r = gsm_elf_read_exact(x, chunk, n, ph.p_offset + pos);
            if (r < 0)
                return r;
            for (size_t k = 0; k + 16 <= n; k += 4) {
                const uint8_t *h = chunk + k;
                bool le = h[1] == 0xff && h[2] == 0xff && h[3] == 0xff;
                bool be = h[0] == 0xff && h[1] == 0xff && h[2] == 0xff;
                if (!le && !be)
                    continue;
                uint32_t m = (uint32_t)gsm_elf_decode_uint(h, 4, !le);
                if (m != GO12_MAGIC && m != GO116_MAGIC && m != GO118_MAGIC && m != GO120_MAGIC)
                    continue;
                if (h[4] || h[5] || (h[6] != 1 && h[6] != 2 && h[6] != 4) || (h[7] != 4 && h[7] != 8))
                    continue;
                uint64_t at = pos + k;
                struct gsm_pclntab *t = NULL;
                r = load_at(x, ph.p_offset + at, ph.p_filesz - at, ph.p_vaddr + at, &t);
                if (r == -ENOMEM)
                    return r;
                if (r < 0) {
                    gsm_debug("pclntab: candidate at file offset 0x%" PRIx64 " rejected: %s",
                              ph.p_offset + at, strerror(-r));
                    continue;
                }
                uint64_t s, e;
                gsm_pclntab_text_range(t, &s, &e);
                if (x->phnum && (!in_exec_segment(x, s) || !in_exec_segment(x, e - 1))) {
                    gsm_debug("pclntab: candidate at 0x%" PRIx64 ": functions [0x%" PRIx64 ", 0x%" PRIx64
                              ") not in an executable segment", ph.p_offset + at, s, e);
                    gsm_pclntab_free(t);
                    continue;
                }
                t->source = "scan";
                *ret = t;
                return 0;
            }
            if (n < PCLN_SCAN_CHUNK)
                break;
        }
    }
    return -ENOEXEC;
}

static int find_table(const struct gsm_elf_file *x, struct gsm_pclntab **ret) {
    static const char *const names[] = {".gopclntab", ".data.rel.ro.gopclntab"};
    for (size_t i = 0; i < ELEMENTSOF(names); i++) {
        GElf_Shdr sh;
        if (!gsm_elf_section_named(x, names[i], &sh))
            continue;
        if (sh.sh_type == SHT_NOBITS || !gsm_range_ok(sh.sh_offset, sh.sh_size, 0, x->file_size))
            return -EINVAL;
        int r = load_at(x, sh.sh_offset, sh.sh_size, sh.sh_addr, ret);
        if (r == -ENOEXEC)
            r = -EINVAL;   /* a section of that name that is not a table is malformed */
        if (r == 0)
            (*ret)->source = names[i];
        return r;
    }
    return scan_segments(x, ret);
}

int gsm_pclntab_open_fd(int fd, struct gsm_pclntab **ret) {
    struct gsm_elf_file x;
    int r = gsm_elf_file_open(fd, &x);
    if (r < 0)
        return r;
    struct gsm_pclntab *t = NULL;
    r = find_table(&x, &t);
    if (r < 0)
        goto out;
    t->is_pie = x.ehdr.e_type == ET_DYN;
    /* The link address of file offset 0: p_vaddr - p_offset of the PT_LOAD that maps it. */
    for (size_t i = 0; i < x.phnum; i++) {
        GElf_Phdr ph;
        if (gelf_getphdr(x.elf, (int)i, &ph) && ph.p_type == PT_LOAD && ph.p_offset == 0) {
            t->link_base = ph.p_vaddr;
            break;
        }
    }
    gsm_debug("pclntab: %s, format %s, %" PRIu64 " functions, textStart 0x%" PRIx64, t->source,
              gsm_pclntab_version(t), t->nfunc, t->text_start);
    *ret = t;
out:
    gsm_elf_file_close(&x);
    return r;
}
