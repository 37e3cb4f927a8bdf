/* Reader for Go's .go.buildinfo (format described in elf_go.h; reference implementation:
 * $GOROOT/src/debug/buildinfo/buildinfo.go, writer: cmd/link/internal/ld/data.go).
 *
 * The file is opened through readers/elf_file.h; every byte of the blob itself is read with
 * gsm_elf_read_exact() after an explicit bounds check against the extent of the section/segment
 * it belongs to. */
#include "readers/elf_go.h"
#include "util/sandbox.h"
#include "readers/elf_file.h"
#include "readers/proc_priv.h"
#include "util/cleanup.h"
#include "util/log.h"

#include <elf.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>

#define GO_BUILDINFO_MAGIC "\xff Go buildinf:"   /* 14 bytes */
#define GO_BUILDINFO_HDR 32                      /* magic, ptrsize, flags, 2 pointers/padding */
#define GO_BUILDINFO_ALIGN 16
#define GO_BUILDINFO_SCAN (64 * 1024)            /* debug/buildinfo reads 64 KiB of data start */
#define GO_STRING_MAX ((uint64_t)1 << 20)        /* any longer length is taken as malformed */
#define GO_FLAG_BIG_ENDIAN 0x1
#define GO_FLAG_INLINE 0x2
/* cmd/go/internal/modload/build.go: infoStart and infoEnd, 16 bytes each, frame modinfo. */
#define GO_MODINFO_SENTINEL 16
/* Upper bound on relocation entries scanned when resolving one pointer (a big PIE has ~10^5). */
#define GO_RELA_SCAN_MAX ((uint64_t)1 << 24)

/* encoding/binary.Uvarint: 7 bits per byte, low group first, high bit = more; at most 10 bytes,
 * and the 10th may only carry the last bit. */
static int decode_uvarint(const uint8_t *p, size_t avail, uint64_t *ret, size_t *ret_n) {
    uint64_t v = 0;
    for (size_t i = 0; i < avail && i < 10; i++) {
        uint8_t b = p[i];
        if (i == 9 && b > 1)
            return -EINVAL;   /* overflows 64 bits */
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *ret = v;
            *ret_n = i + 1;
            return 0;
        }
    }
    return -EINVAL;
}

static const char *goarch_of(const GElf_Ehdr *eh) {
    bool is64 = eh->e_ident[EI_CLASS] == ELFCLASS64;
    bool be = eh->e_ident[EI_DATA] == ELFDATA2MSB;
    switch (eh->e_machine) {
    case EM_X86_64: return is64 ? "amd64" : "amd64p32";
    case EM_386: return "386";
    case EM_AARCH64: return "arm64";
    case EM_ARM: return "arm";
    case EM_PPC64: return be ? "ppc64" : "ppc64le";
    case EM_S390: return "s390x";
    case EM_RISCV: return is64 ? "riscv64" : "riscv";
    case EM_MIPS: return is64 ? (be ? "mips64" : "mips64le") : (be ? "mips" : "mipsle");
    case EM_LOONGARCH: return "loong64";
    case EM_SPARCV9: return "sparc64";
    default: return "";
    }
}

/* Translate a virtual address range to a file offset: via the PT_LOAD segment whose file-backed
 * part holds it (what debug/buildinfo's elfExe.ReadData does), else via an allocated section with
 * contents (helps files whose program headers were dropped, e.g. objcopy --only-section). */
static int vaddr_to_off(const struct gsm_elf_file *x, uint64_t addr, uint64_t len, uint64_t *ret_off) {
    for (size_t i = 0; i < x->phnum; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(x->elf, (int)i, &ph) || ph.p_type != PT_LOAD)
            continue;
        if (ph.p_vaddr > UINT64_MAX - ph.p_filesz)
            continue;
        if (!gsm_range_ok(addr, len, ph.p_vaddr, ph.p_vaddr + ph.p_filesz))
            continue;
        uint64_t off = ph.p_offset + (addr - ph.p_vaddr);
        if (ph.p_offset > UINT64_MAX - ph.p_filesz || !gsm_range_ok(off, len, 0, x->file_size))
            return -EINVAL;
        *ret_off = off;
        return 0;
    }
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(x->elf, scn))) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS || !(sh.sh_flags & SHF_ALLOC))
            continue;
        if (sh.sh_addr > UINT64_MAX - sh.sh_size || !gsm_range_ok(addr, len, sh.sh_addr, sh.sh_addr + sh.sh_size))
            continue;
        uint64_t off = sh.sh_offset + (addr - sh.sh_addr);
        if (sh.sh_offset > UINT64_MAX - sh.sh_size || !gsm_range_ok(off, len, 0, x->file_size))
            return -EINVAL;
        *ret_off = off;
        return 0;
    }
    return -EINVAL;
}

/* Read a target pointer stored at virtual address addr (resolving a zero through relocations). */
static int read_ptr(const struct gsm_elf_file *x, uint64_t addr, unsigned ptrsize, bool big_endian, uint64_t *ret) {
    uint64_t off;
    uint8_t buf[8];
    int r = vaddr_to_off(x, addr, ptrsize, &off);
    if (r < 0)
        return r;
    r = gsm_elf_read_exact(x, buf, ptrsize, off);
    if (r < 0)
        return r;
    uint64_t v = gsm_elf_decode_uint(buf, ptrsize, big_endian);
    if (v == 0 && gsm_elf_rela_lookup(x, addr, GO_RELA_SCAN_MAX, &v) < 0)
        v = 0;
    *ret = v;
    return 0;
}

/* Read n bytes at file offset off into a fresh buffer with a NUL appended. Embedded NULs are
 * checked by the caller: the modinfo framing itself contains one (infoEnd = f9 32 43 31 86 18 20
 * 72 00 82 ...), only the text between the sentinels must be NUL-free. */
static int read_text(const struct gsm_elf_file *x, uint64_t off, uint64_t n, char **ret) {
    if (n > GO_STRING_MAX)
        return -EINVAL;
    _cleanup_free_ char *s = malloc(n + 1);
    if (!s)
        return -ENOMEM;
    int r = gsm_elf_read_exact(x, s, n, off);
    if (r < 0)
        return r;
    s[n] = '\0';
    *ret = TAKE_PTR(s);
    return 0;
}

/* Go >= 1.18: uvarint length, then bytes, both inside [*pos, end). */
static int read_inline_string(const struct gsm_elf_file *x, uint64_t *pos, uint64_t end, char **ret, uint64_t *ret_len) {
    uint8_t vb[10];
    if (*pos >= end)
        return -EINVAL;
    size_t avail = end - *pos < sizeof vb ? (size_t)(end - *pos) : sizeof vb;
    int r = gsm_elf_read_exact(x, vb, avail, *pos);
    if (r < 0)
        return r;
    uint64_t len;
    size_t n;
    r = decode_uvarint(vb, avail, &len, &n);
    if (r < 0)
        return r;
    if (len > GO_STRING_MAX || !gsm_range_ok(*pos + n, len, *pos, end))
        return -EINVAL;
    r = read_text(x, *pos + n, len, ret);
    if (r < 0)
        return r;
    *pos += n + len;
    *ret_len = len;
    return 0;
}

/* Go < 1.18: addr is the address of a Go string header {data *byte, len int}. */
static int read_go_string(const struct gsm_elf_file *x, uint64_t addr, unsigned ptrsize, bool big_endian,
                          char **ret, uint64_t *ret_len) {
    uint64_t data, len, off;
    int r;
    if (addr == 0 || addr > UINT64_MAX - ptrsize)
        return -EINVAL;
    r = read_ptr(x, addr, ptrsize, big_endian, &data);
    if (r < 0)
        return r;
    r = read_ptr(x, addr + ptrsize, ptrsize, big_endian, &len);   /* len is never relocated */
    if (r < 0)
        return r;
    if (len > GO_STRING_MAX)
        return -EINVAL;
    if (len == 0) {
        char *s = strdup("");
        if (!s)
            return -ENOMEM;
        *ret = s;
        *ret_len = 0;
        return 0;
    }
    r = vaddr_to_off(x, data, len, &off);
    if (r < 0)
        return r;
    r = read_text(x, off, len, ret);
    if (r < 0)
        return r;
    *ret_len = len;
    return 0;
}

/* Where to look: the .go.buildinfo section if there is one, else the first PT_LOAD that is
 * writable and not executable (debug/buildinfo's elfExe.DataStart). Returns the file extent
 * [*ret_start, *ret_end) and its virtual address; -ENOEXEC when neither exists. */
static int find_region(const struct gsm_elf_file *x, uint64_t *ret_start, uint64_t *ret_end, uint64_t *ret_vaddr) {
    if (x->have_shstrndx) {
        Elf_Scn *scn = NULL;
        while ((scn = elf_nextscn(x->elf, scn))) {
            GElf_Shdr sh;
            if (!gelf_getshdr(scn, &sh))
                return -EINVAL;
            const char *name = elf_strptr(x->elf, x->shstrndx, sh.sh_name);
            if (!name || strcmp(name, ".go.buildinfo") != 0)
                continue;
            if (sh.sh_type == SHT_NOBITS || !gsm_range_ok(sh.sh_offset, sh.sh_size, 0, x->file_size))
                return -EINVAL;
            *ret_start = sh.sh_offset;
            *ret_end = sh.sh_offset + sh.sh_size;
            *ret_vaddr = sh.sh_addr;
            return 0;
        }
    }
    for (size_t i = 0; i < x->phnum; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(x->elf, (int)i, &ph))
            return -EINVAL;
        if (ph.p_type != PT_LOAD || (ph.p_flags & (PF_X | PF_W)) != PF_W)
            continue;
        if (!gsm_range_ok(ph.p_offset, ph.p_filesz, 0, x->file_size))
            return -EINVAL;
        *ret_start = ph.p_offset;
        *ret_end = ph.p_offset + ph.p_filesz;
        *ret_vaddr = ph.p_vaddr;
        return 0;
    }
    return -ENOEXEC;
}

static void copy_field(char *dst, size_t dstsz, const char *src, size_t len) {
    if (len >= dstsz) {
        gsm_debug("elf_go: field truncated from %zu to %zu bytes", len, dstsz - 1);
        len = dstsz - 1;
    }
    memcpy(dst, src, len);
    dst[len] = '\0';
}

/* Pick "path\t<pkg>" and "mod\t<module>\t<version>[\t<sum>]" out of modinfo. */
static void parse_modinfo(const char *mod, struct gsm_go_info *g) {
    const char *p = mod;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > 5 && memcmp(p, "path\t", 5) == 0) {
            copy_field(g->main_path, sizeof g->main_path, p + 5, len - 5);
        } else if (len > 4 && memcmp(p, "mod\t", 4) == 0) {
            const char *ver = memchr(p + 4, '\t', len - 4);
            if (ver) {
                ver++;
                const char *vend = memchr(ver, '\t', (size_t)(p + len - ver));
                copy_field(g->main_version, sizeof g->main_version, ver,
                           (size_t)((vend ? vend : p + len) - ver));
            }
        }
        if (!eol)
            break;
        p = eol + 1;
    }
}

static int parse_buildinfo(const struct gsm_elf_file *x, struct gsm_go_info *g) {
    uint64_t start = 0, end = 0, vaddr = 0;
    int r = find_region(x, &start, &end, &vaddr);
    if (r < 0)
        return r;

    /* Scan the first 64 KiB of the region for the magic at 16-byte-aligned positions. */
    uint64_t scan = end - start < GO_BUILDINFO_SCAN ? end - start : GO_BUILDINFO_SCAN;
    if (scan < GO_BUILDINFO_HDR)
        return -ENOEXEC;
    _cleanup_free_ uint8_t *buf = malloc(scan);
    if (!buf)
        return -ENOMEM;
    r = gsm_elf_read_exact(x, buf, scan, start);
    if (r < 0)
        return r;
    uint64_t at = UINT64_MAX;
    for (uint64_t i = 0; i + GO_BUILDINFO_HDR <= scan; i += GO_BUILDINFO_ALIGN)
        if (memcmp(buf + i, GO_BUILDINFO_MAGIC, STRLEN(GO_BUILDINFO_MAGIC)) == 0) {
            at = i;
            break;
        }
    if (at == UINT64_MAX)
        return -ENOEXEC;

    const uint8_t *h = buf + at;
    unsigned ptrsize = h[14];
    uint8_t flags = h[15];
    if (ptrsize != 4 && ptrsize != 8)
        return -EINVAL;

    _cleanup_free_ char *vers = NULL, *mod = NULL;
    uint64_t vers_len = 0, mod_len = 0;
    if (flags & GO_FLAG_INLINE) {
        uint64_t pos = start + at + GO_BUILDINFO_HDR;
        r = read_inline_string(x, &pos, end, &vers, &vers_len);
        if (r < 0)
            return r;
        r = read_inline_string(x, &pos, end, &mod, &mod_len);
        if (r < 0)
            return r;
    } else {
        bool be = flags & GO_FLAG_BIG_ENDIAN;
        uint64_t slot = vaddr + at + 16;
        uint64_t vaddr_vers = gsm_elf_decode_uint(h + 16, ptrsize, be);
        uint64_t vaddr_mod = gsm_elf_decode_uint(h + 16 + ptrsize, ptrsize, be);
        if (vaddr_vers == 0 && gsm_elf_rela_lookup(x, slot, GO_RELA_SCAN_MAX, &vaddr_vers) < 0)
            return -ENOEXEC;   /* unrelocated and no relocation to resolve it: as `go version` */
        if (vaddr_mod == 0 && gsm_elf_rela_lookup(x, slot + ptrsize, GO_RELA_SCAN_MAX, &vaddr_mod) < 0)
            vaddr_mod = 0;
        r = read_go_string(x, vaddr_vers, ptrsize, be, &vers, &vers_len);
        if (r < 0)
            return r;
        if (vaddr_mod != 0) {
            r = read_go_string(x, vaddr_mod, ptrsize, be, &mod, &mod_len);
            if (r < 0)
                return r;
        }
    }

    if (vers_len == 0)
        return -ENOEXEC;   /* debug/buildinfo: an empty version means "not a Go executable" */
    if (memchr(vers, '\0', vers_len))
        return -EINVAL;

    struct gsm_go_info out = {0};
    copy_field(out.go_version, sizeof out.go_version, vers, vers_len);
    snprintf(out.goarch, sizeof out.goarch, "%s", goarch_of(&x->ehdr));
    out.inline_strings = flags & GO_FLAG_INLINE;
    /* Strip the sentinels exactly as debug/buildinfo does: only when the text is long enough and
     * the byte before the trailing sentinel is the last line's '\n'; otherwise there is none
     * (binaries built outside module mode). */
    if (mod && mod_len >= 2 * GO_MODINFO_SENTINEL + 1 && mod[mod_len - GO_MODINFO_SENTINEL - 1] == '\n') {
        size_t n = mod_len - 2 * GO_MODINFO_SENTINEL;
        memmove(mod, mod + GO_MODINFO_SENTINEL, n);
        mod[n] = '\0';
        if (memchr(mod, '\0', n))
            return -EINVAL;
        parse_modinfo(mod, &out);
        out.modinfo = TAKE_PTR(mod);
    }
    *g = out;
    return 0;
}

int gsm_go_info_read_fd(int fd, struct gsm_go_info *ret) {
    struct gsm_elf_file x;
    int r = gsm_elf_file_open(fd, &x);
    if (r < 0)
        return r;
    r = parse_buildinfo(&x, ret);
    gsm_elf_file_close(&x);
    return r;
}

int gsm_go_info_read_at(int dirfd, const char *path, struct gsm_go_info *ret) {
    /* /proc/PID/exe goes through readers/proc_priv (the sandbox's broker) */
    _cleanup_close_ int fd = -1;
    if (strcmp(path, "exe") == 0)
        fd = gsm_proc_exe_open(dirfd);
    else if ((fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
        if (errno == EACCES)
            gsm_sandbox_note_refused(dirfd, path);
        fd = -errno;
    }
    if (fd < 0)
        return fd;
    return gsm_go_info_read_fd(fd, ret);
}

