/* Tests for readers/elf_go.c: real Go binaries (built by tests/targets/build-go.sh, compared with
 * the `go version -m` text it saves next to each), synthetic ELF files for the pre-1.18 pointer
 * form (Go 1.19 only writes the inline form), and hostile inputs that must fail cleanly. */
#include "test.h"

#include "readers/elf_go.h"
#include "util/cleanup.h"
#include "util/fileio.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers ---------------------------------------------------------------------------- */

/* CHECK_STREQ for long strings (paths, modinfo): test.h's 512-byte message trips gcc's
 * -Wformat-truncation on 256-byte arrays, so show at most 200 bytes of each side. */
#define CHECK_STREQ_LONG(a, b)                                                  \
    do {                                                                        \
        const char *_a = (a), *_b = (b);                                        \
        if (!_a || !_b || strcmp(_a, _b) != 0) {                                \
            char _m[512];                                                       \
            snprintf(_m, sizeof _m, "%s == %s (\"%.200s\" != \"%.200s\")", #a, #b, \
                     _a ? _a : "(null)", _b ? _b : "(null)");                   \
            gsm_test_fail(__FILE__, __LINE__, _m);                              \
            return;                                                             \
        }                                                                       \
    } while (0)

static const char *targets_dir(void) {
    const char *d = getenv("GSM_TARGETS_DIR");
    return d && *d ? d : "build/targets";
}

/* An unlinked temp file holding exactly `len` bytes of `data`; -1 on failure. */
static int tmp_with(const void *data, size_t len) {
    const char *dir = getenv("TMPDIR");
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/gsm-elfgo-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    unlink(path);
    if (len > 0 && pwrite(fd, data, len, 0) != (ssize_t)len) {
        close(fd);
        return -1;
    }
    return fd;
}

static int rewrite(int fd, const void *data, size_t len) {
    if (ftruncate(fd, 0) < 0)
        return -1;
    if (len > 0 && pwrite(fd, data, len, 0) != (ssize_t)len)
        return -1;
    return 0;
}

static int read_bytes(const void *data, size_t len, struct gsm_go_info *g) {
    _cleanup_close_ int fd = tmp_with(data, len);
    if (fd < 0)
        return -EIO;
    return gsm_go_info_read_fd(fd, g);
}

/* Whole file into memory (real Go binaries are a few MiB). */
static int slurp(const char *path, uint8_t **ret, size_t *ret_len) {
    char *buf;
    size_t len;
    int r = gsm_read_file_at(AT_FDCWD, path, (size_t)256 << 20, &buf, &len);
    if (r < 0)
        return r;
    *ret = (uint8_t *)buf;
    *ret_len = len;
    return 0;
}

/* `go version -m BIN` as saved by build-go.sh:
 *   BIN: go1.19.8
 *   \tpath\tgsmapper.test/targets/memshape
 *   \tmod\tgsmapper.test/targets\t(devel)\t
 *   \tbuild\t... */
struct gover {
    char version[64], path[256], mod_version[128];
};

static int parse_gover(const char *file, struct gover *g) {
    _cleanup_free_ char *buf = NULL;
    int r = gsm_read_file_at(AT_FDCWD, file, 1 << 20, &buf, NULL);
    if (r < 0)
        return r;
    memset(g, 0, sizeof *g);
    char *save = NULL;
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *p;
        if (line[0] != '\t' && (p = strstr(line, ": ")))
            snprintf(g->version, sizeof g->version, "%s", p + 2);
        else if (strncmp(line, "\tpath\t", 6) == 0)
            snprintf(g->path, sizeof g->path, "%s", line + 6);
        else if (strncmp(line, "\tmod\t", 5) == 0 && (p = strchr(line + 5, '\t'))) {
            char *e = strchr(p + 1, '\t');
            if (e)
                *e = '\0';
            snprintf(g->mod_version, sizeof g->mod_version, "%s", p + 1);
        }
    }
    return g->version[0] ? 0 : -EINVAL;
}

/* ---- real Go binaries --------------------------------------------------------------------- */

static void check_target(const char *name, bool optional) {
    char bin[PATH_MAX], gov[PATH_MAX + 16], plain[PATH_MAX];
    snprintf(plain, sizeof plain, "%s/memshape", targets_dir());
    snprintf(bin, sizeof bin, "%s/%s", targets_dir(), name);
    snprintf(gov, sizeof gov, "%s.gover", bin);
    if (access(plain, F_OK) < 0)
        SKIP("Go targets not built (run tests/targets/build-go.sh build/targets or set GSM_TARGETS_DIR)");
    if (optional && access(bin, F_OK) < 0)
        SKIP("variant not built (no C compiler for cgo?)");

    struct gover want;
    CHECK(parse_gover(gov, &want) == 0);
    struct gsm_go_info g;
    int r = gsm_go_info_read_at(AT_FDCWD, bin, &g);
    CHECK_EQ_U64((uint64_t)(int64_t)r, 0);
    CHECK_STREQ(g.go_version, want.version);
    CHECK_STREQ_LONG(g.main_path, want.path);
    CHECK_STREQ_LONG(g.main_path, "gsmapper.test/targets/memshape");
    CHECK_STREQ_LONG(g.main_version, want.mod_version);
    CHECK(g.inline_strings);   /* Go >= 1.18 */
    CHECK(g.goarch[0] != '\0');
    CHECK(g.modinfo && strncmp(g.modinfo, "path\t", 5) == 0);
    CHECK(g.modinfo[strlen(g.modinfo) - 1] == '\n');   /* sentinels stripped, text ends a line */
    bool cgo = strstr(g.modinfo, "\tCGO_ENABLED=1\n") != NULL;
    CHECK(cgo == (strcmp(name, "memshape-cgo") == 0));
    gsm_go_info_free(&g);
    CHECK(g.modinfo == NULL);
}

TEST(elf_go_target_plain) { check_target("memshape", false); }
TEST(elf_go_target_stripped) { check_target("memshape-stripped", false); }
TEST(elf_go_target_pie) { check_target("memshape-pie", false); }
TEST(elf_go_target_cgo) { check_target("memshape-cgo", true); }

/* Section headers gone (e_shoff = e_shnum = e_shstrndx = 0): the reader must fall back to
 * scanning the first writable PT_LOAD, like debug/buildinfo. The Go linker places .go.buildinfo
 * first in the data segment, so the magic is at its start. */
TEST(elf_go_target_no_section_headers) {
    char bin[PATH_MAX];
    snprintf(bin, sizeof bin, "%s/memshape-stripped", targets_dir());
    if (access(bin, F_OK) < 0)
        SKIP("Go targets not built");
    _cleanup_free_ uint8_t *img = NULL;
    size_t len;
    CHECK(slurp(bin, &img, &len) == 0);
    CHECK(len > sizeof(Elf64_Ehdr) && img[EI_CLASS] == ELFCLASS64);
    Elf64_Ehdr eh;
    memcpy(&eh, img, sizeof eh);
    eh.e_shoff = 0;
    eh.e_shnum = 0;
    eh.e_shstrndx = 0;
    memcpy(img, &eh, sizeof eh);
    struct gsm_go_info g;
    CHECK(read_bytes(img, len, &g) == 0);
    CHECK(strncmp(g.go_version, "go1.", 4) == 0);
    CHECK_STREQ_LONG(g.main_path, "gsmapper.test/targets/memshape");
    gsm_go_info_free(&g);
}

/* The fixture helper's output (a few KiB keeping only .go.buildinfo) must read the same. */
TEST(elf_go_fixture_exe_script) {
    char bin[PATH_MAX], out[PATH_MAX], cmd[3 * PATH_MAX];
    snprintf(bin, sizeof bin, "%s/memshape-pie", targets_dir());
    if (access(bin, F_OK) < 0)
        SKIP("Go targets not built");
    if (system("command -v objcopy >/dev/null 2>&1") != 0)
        SKIP("objcopy not installed");
    snprintf(out, sizeof out, "%s/gsm-elfgo-fixture-%ld", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             (long)getpid());
    snprintf(cmd, sizeof cmd, "bash '%s/targets/go-fixture-exe.sh' '%s' '%s'", gsm_test_dir(), bin, out);
    int rc = system(cmd);
    struct stat st;
    bool made = stat(out, &st) == 0;
    struct gsm_go_info g = {0}, want = {0};
    int r = made ? gsm_go_info_read_at(AT_FDCWD, out, &g) : -ENOENT;
    unlink(out);
    CHECK(rc == 0 && made);
    CHECK(st.st_size < 64 * 1024);
    CHECK(r == 0);
    CHECK(gsm_go_info_read_at(AT_FDCWD, bin, &want) == 0);
    CHECK_STREQ(g.go_version, want.go_version);
    CHECK_STREQ_LONG(g.main_path, want.main_path);
    CHECK_STREQ_LONG(g.modinfo, want.modinfo);
    gsm_go_info_free(&g);
    gsm_go_info_free(&want);
}

/* ---- non-Go and not-ELF ------------------------------------------------------------------- */

TEST(elf_go_non_go_elf) {
    struct gsm_go_info g;
    if (access("/bin/true", R_OK) < 0)
        SKIP("/bin/true missing");
    CHECK(gsm_go_info_read_at(AT_FDCWD, "/bin/true", &g) == -ENOEXEC);
    /* this test binary is C, read through the magic link like /proc/PID/exe */
    CHECK(gsm_go_info_read_at(AT_FDCWD, "/proc/self/exe", &g) == -ENOEXEC);
}

TEST(elf_go_not_elf) {
    struct gsm_go_info g;
    CHECK(read_bytes("", 0, &g) == -EINVAL);
    CHECK(read_bytes("#!/bin/sh\necho hi\n", 18, &g) == -EINVAL);
    CHECK(read_bytes("\x7f" "ELF", 4, &g) == -EINVAL);
    uint8_t junk[4096];
    uint32_t s = 12345;
    for (size_t i = 0; i < sizeof junk; i++) {
        s = s * 1103515245u + 12345u;
        junk[i] = (uint8_t)(s >> 16);
    }
    CHECK(read_bytes(junk, sizeof junk, &g) == -EINVAL);
    memcpy(junk, "\x7f" "ELF\x02\x01\x01", 7);   /* ELF magic followed by garbage */
    int r = read_bytes(junk, sizeof junk, &g);
    CHECK(r == -EINVAL || r == -ENOEXEC);
    CHECK(gsm_go_info_read_at(AT_FDCWD, "/", &g) == -EISDIR);
    CHECK(gsm_go_info_read_at(AT_FDCWD, "/nonexistent/gsm", &g) == -ENOENT);
}

/* ---- synthetic ELF64 images --------------------------------------------------------------- *
 *
 * Layout (all offsets in the file; virtual address = VBASE + offset):
 *   0x000 Elf64_Ehdr
 *   0x040 Elf64_Phdr: one PT_LOAD, PF_R|PF_W, covering [0x100, data_end)
 *   0x100 .go.buildinfo: the 32-byte header (inline form: followed by the varint strings)
 *   0x120 (pointer form) .rodata: string header A {ptr, len} for the version, 0x130 header B for
 *         modinfo, 0x140 the version bytes, then modinfo bytes (with sentinels)
 *   data_end: .rela.dyn (pointer form with relocs: 4 R_X86_64_RELATIVE entries), .shstrtab,
 *         section headers [null, .go.buildinfo, .rodata, .rela.dyn, .shstrtab] */

#define VBASE 0x400000ull
#define OFF_PHDR 0x40
#define OFF_BI 0x100
#define OFF_HDR_A 0x120
#define OFF_HDR_B 0x130
#define OFF_STRS 0x140
#define SYN_MAX 8192

static const uint8_t info_start[16] = {0x30, 0x77, 0xaf, 0x0c, 0x92, 0x74, 0x08, 0x02,
                                       0x41, 0xe1, 0xc1, 0x07, 0xe6, 0xd6, 0x18, 0xe6};
static const uint8_t info_end[16] = {0xf9, 0x32, 0x43, 0x31, 0x86, 0x18, 0x20, 0x72,
                                     0x00, 0x82, 0x42, 0x10, 0x41, 0x16, 0xd8, 0xf2};

static const char syn_version[] = "go1.16.15";
static const char syn_mod[] = "path\texample.com/old/cmd/svc\n"
                              "mod\texample.com/old\tv1.2.3\th1:abc=\n"
                              "dep\tgolang.org/x/sys\tv0.0.1\th1:def=\n";

struct syn {
    bool big_endian;
    bool inline_form;
    bool zero_ptrs_with_rela;   /* PIE before Go 1.18: pointers 0 in the file, RELA fills them */
    bool no_sections;           /* e_shnum = 0 */
    bool no_phdrs;              /* e_phnum = 0: vaddrs resolved through sections */
    /* offsets of interesting fields, filled by syn_build for the hostile tests to patch */
    size_t off_shdrs, off_bi_shdr, data_end;
};

static void put(uint8_t *b, size_t off, unsigned size, uint64_t v, bool be) {
    for (unsigned i = 0; i < size; i++)
        b[off + (be ? size - 1 - i : i)] = (uint8_t)(v >> (8 * i));
}

static size_t put_uvarint(uint8_t *b, size_t off, uint64_t v) {
    size_t n = 0;
    while (v >= 0x80) {
        b[off + n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    b[off + n++] = (uint8_t)v;
    return n;
}

static size_t syn_build(uint8_t *b, struct syn *s) {
    bool be = s->big_endian;
    memset(b, 0, SYN_MAX);
    size_t mod_len = 16 + strlen(syn_mod) + 16, ver_len = strlen(syn_version);
    size_t end;

    /* .go.buildinfo header */
    memcpy(b + OFF_BI, "\xff Go buildinf:", 14);
    b[OFF_BI + 14] = 8;
    b[OFF_BI + 15] = (be ? 1 : 0) | (s->inline_form ? 2 : 0);
    size_t bi_size;
    if (s->inline_form) {
        size_t p = OFF_BI + 32;
        p += put_uvarint(b, p, ver_len);
        memcpy(b + p, syn_version, ver_len);
        p += ver_len;
        p += put_uvarint(b, p, mod_len);
        memcpy(b + p, info_start, 16);
        memcpy(b + p + 16, syn_mod, strlen(syn_mod));
        memcpy(b + p + 16 + strlen(syn_mod), info_end, 16);
        p += mod_len;
        end = (p + 15) & ~(size_t)15;
        bi_size = end - OFF_BI;
    } else {
        uint64_t v_ver = VBASE + OFF_STRS, v_mod = VBASE + OFF_STRS + ver_len;
        bool z = s->zero_ptrs_with_rela;
        put(b, OFF_BI + 16, 8, z ? 0 : VBASE + OFF_HDR_A, be);
        put(b, OFF_BI + 24, 8, z ? 0 : VBASE + OFF_HDR_B, be);
        put(b, OFF_HDR_A, 8, z ? 0 : v_ver, be);
        put(b, OFF_HDR_A + 8, 8, ver_len, be);
        put(b, OFF_HDR_B, 8, z ? 0 : v_mod, be);
        put(b, OFF_HDR_B + 8, 8, mod_len, be);
        memcpy(b + OFF_STRS, syn_version, ver_len);
        memcpy(b + OFF_STRS + ver_len, info_start, 16);
        memcpy(b + OFF_STRS + ver_len + 16, syn_mod, strlen(syn_mod));
        memcpy(b + OFF_STRS + ver_len + 16 + strlen(syn_mod), info_end, 16);
        end = (OFF_STRS + ver_len + mod_len + 15) & ~(size_t)15;
        bi_size = 32;
    }
    s->data_end = end;

    /* .rela.dyn: Elf64_Rela {r_offset, r_info = (sym << 32) | type, r_addend} */
    size_t off_rela = end, rela_size = 0;
    if (!s->inline_form && s->zero_ptrs_with_rela) {
        const uint64_t rel[4][2] = {
            {VBASE + OFF_BI + 16, VBASE + OFF_HDR_A},
            {VBASE + OFF_BI + 24, VBASE + OFF_HDR_B},
            {VBASE + OFF_HDR_A, VBASE + OFF_STRS},
            {VBASE + OFF_HDR_B, VBASE + OFF_STRS + ver_len},
        };
        for (int i = 0; i < 4; i++) {
            put(b, off_rela + 24 * i, 8, rel[i][0], be);
            put(b, off_rela + 24 * i + 8, 8, R_X86_64_RELATIVE, be);
            put(b, off_rela + 24 * i + 16, 8, rel[i][1], be);
        }
        rela_size = 4 * 24;
    }
    static const char shstr[] = "\0.go.buildinfo\0.rodata\0.rela.dyn\0.shstrtab";
    size_t off_shstr = off_rela + rela_size;
    memcpy(b + off_shstr, shstr, sizeof shstr);
    size_t off_sh = (off_shstr + sizeof shstr + 7) & ~(size_t)7;
    s->off_shdrs = off_sh;
    s->off_bi_shdr = off_sh + 64;

    /* section headers (64 bytes each) */
    struct { uint32_t name, type; uint64_t flags, addr, off, size, entsize; } sh[5] = {
        {0, SHT_NULL, 0, 0, 0, 0, 0},
        {1, SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, VBASE + OFF_BI, OFF_BI, bi_size, 0},
        {15, SHT_PROGBITS, SHF_ALLOC, VBASE + OFF_BI + bi_size, OFF_BI + bi_size, end - OFF_BI - bi_size, 0},
        {23, SHT_RELA, SHF_ALLOC, VBASE + off_rela, off_rela, rela_size, 24},
        {33, SHT_STRTAB, 0, 0, off_shstr, sizeof shstr, 0},
    };
    for (int i = 0; i < 5; i++) {
        size_t o = off_sh + 64 * i;
        put(b, o + 0, 4, sh[i].name, be);
        put(b, o + 4, 4, sh[i].type, be);
        put(b, o + 8, 8, sh[i].flags, be);
        put(b, o + 16, 8, sh[i].addr, be);
        put(b, o + 24, 8, sh[i].off, be);
        put(b, o + 32, 8, sh[i].size, be);
        put(b, o + 48, 8, i == 1 ? 16 : 1, be);   /* sh_addralign */
        put(b, o + 56, 8, sh[i].entsize, be);
    }
    size_t total = off_sh + 5 * 64;

    /* ELF header */
    memcpy(b, ELFMAG, SELFMAG);
    b[EI_CLASS] = ELFCLASS64;
    b[EI_DATA] = be ? ELFDATA2MSB : ELFDATA2LSB;
    b[EI_VERSION] = EV_CURRENT;
    put(b, 16, 2, ET_EXEC, be);
    put(b, 18, 2, be ? EM_PPC64 : EM_X86_64, be);
    put(b, 20, 4, EV_CURRENT, be);
    put(b, 24, 8, VBASE + 0x1000, be);               /* e_entry (unused) */
    put(b, 32, 8, s->no_phdrs ? 0 : OFF_PHDR, be);   /* e_phoff */
    put(b, 40, 8, s->no_sections ? 0 : off_sh, be);  /* e_shoff */
    put(b, 52, 2, sizeof(Elf64_Ehdr), be);
    put(b, 54, 2, sizeof(Elf64_Phdr), be);
    put(b, 56, 2, s->no_phdrs ? 0 : 1, be);
    put(b, 58, 2, 64, be);
    put(b, 60, 2, s->no_sections ? 0 : 5, be);
    put(b, 62, 2, s->no_sections ? 0 : 4, be);

    /* the PT_LOAD */
    put(b, OFF_PHDR + 0, 4, PT_LOAD, be);
    put(b, OFF_PHDR + 4, 4, PF_R | PF_W, be);
    put(b, OFF_PHDR + 8, 8, OFF_BI, be);
    put(b, OFF_PHDR + 16, 8, VBASE + OFF_BI, be);
    put(b, OFF_PHDR + 24, 8, VBASE + OFF_BI, be);
    put(b, OFF_PHDR + 32, 8, end - OFF_BI, be);
    put(b, OFF_PHDR + 40, 8, end - OFF_BI, be);
    put(b, OFF_PHDR + 48, 8, 0x1000, be);
    return total;
}

static void check_syn_ok(struct syn s, const char *goarch) {
    uint8_t img[SYN_MAX];
    size_t len = syn_build(img, &s);
    struct gsm_go_info g;
    int r = read_bytes(img, len, &g);
    CHECK_EQ_U64((uint64_t)(int64_t)r, 0);
    CHECK_STREQ(g.go_version, syn_version);
    CHECK_STREQ_LONG(g.main_path, "example.com/old/cmd/svc");
    CHECK_STREQ_LONG(g.main_version, "v1.2.3");
    CHECK_STREQ(g.goarch, goarch);
    CHECK_STREQ_LONG(g.modinfo, syn_mod);
    CHECK(g.inline_strings == s.inline_form);
    gsm_go_info_free(&g);
}

TEST(elf_go_synthetic_inline) { check_syn_ok((struct syn){.inline_form = true}, "amd64"); }
TEST(elf_go_synthetic_pointer_form) { check_syn_ok((struct syn){0}, "amd64"); }
TEST(elf_go_synthetic_pointer_form_big_endian) { check_syn_ok((struct syn){.big_endian = true}, "ppc64"); }
TEST(elf_go_synthetic_pointer_form_no_sections) { check_syn_ok((struct syn){.no_sections = true}, "amd64"); }
TEST(elf_go_synthetic_pointer_form_no_phdrs) { check_syn_ok((struct syn){.no_phdrs = true}, "amd64"); }
TEST(elf_go_synthetic_pointer_form_pie_rela) { check_syn_ok((struct syn){.zero_ptrs_with_rela = true}, "amd64"); }
TEST(elf_go_synthetic_inline_no_sections) {
    check_syn_ok((struct syn){.inline_form = true, .no_sections = true}, "amd64");
}

/* Modinfo without the sentinel framing (GOPATH-mode binaries): no modinfo, version still read. */
TEST(elf_go_synthetic_no_modinfo) {
    uint8_t img[SYN_MAX];
    struct syn s = {0};
    size_t len = syn_build(img, &s);
    put(img, OFF_HDR_B + 8, 8, 0, false);   /* modinfo length 0 */
    struct gsm_go_info g;
    CHECK(read_bytes(img, len, &g) == 0);
    CHECK_STREQ(g.go_version, syn_version);
    CHECK(g.modinfo == NULL);
    CHECK_STREQ_LONG(g.main_path, "");
    gsm_go_info_free(&g);
}

/* ---- hostile inputs ----------------------------------------------------------------------- */

#define CHECK_FAILS(expr)                                                       \
    do {                                                                        \
        struct gsm_go_info _g;                                                  \
        int _r = (expr);                                                        \
        if (_r == 0)                                                            \
            gsm_go_info_free(&_g);                                              \
        CHECK(_r == -EINVAL || _r == -ENOEXEC);                                 \
    } while (0)

/* For lies the reader can route around (a broken section table leaves the segment scan): fail
 * cleanly, or succeed with the right answer. */
#define CHECK_SAFE(expr)                                                        \
    do {                                                                        \
        struct gsm_go_info _g;                                                  \
        int _r = (expr);                                                        \
        if (_r == 0) {                                                          \
            bool _ok = strcmp(_g.go_version, syn_version) == 0;                 \
            gsm_go_info_free(&_g);                                              \
            CHECK(_ok);                                                         \
        } else                                                                  \
            CHECK(_r == -EINVAL || _r == -ENOEXEC);                             \
    } while (0)

static int syn_read_patched(struct syn s, size_t off, unsigned size, uint64_t v, struct gsm_go_info *g) {
    uint8_t img[SYN_MAX];
    size_t len = syn_build(img, &s);
    put(img, off, size, v, s.big_endian);
    return read_bytes(img, len, g);
}

TEST(elf_go_hostile_huge_varint) {
    uint8_t img[SYN_MAX];
    struct syn s = {.inline_form = true};
    size_t len = syn_build(img, &s);
    struct gsm_go_info g;
    /* 10 bytes of 0xff: overflows 64 bits */
    memset(img + OFF_BI + 32, 0xff, 10);
    CHECK(read_bytes(img, len, &g) == -EINVAL);
    /* valid varint, 2^62 */
    len = syn_build(img, &s);
    put_uvarint(img, OFF_BI + 32, (uint64_t)1 << 62);
    CHECK(read_bytes(img, len, &g) == -EINVAL);
    /* just over the 1 MiB cap */
    len = syn_build(img, &s);
    put_uvarint(img, OFF_BI + 32, ((uint64_t)1 << 20) + 1);
    CHECK(read_bytes(img, len, &g) == -EINVAL);
    /* fits the cap but runs past the section end */
    len = syn_build(img, &s);
    img[OFF_BI + 32] = 0x7f;
    CHECK(read_bytes(img, len, &g) == -EINVAL);
    /* second string's length lies (version ok, modinfo length past the end) */
    len = syn_build(img, &s);
    size_t p = OFF_BI + 32 + 1 + strlen(syn_version);
    put_uvarint(img, p, 5000);
    CHECK(read_bytes(img, len, &g) == -EINVAL);
    /* varint cut by the end of the section: all continuation bytes up to the end */
    len = syn_build(img, &s);
    memset(img + OFF_BI + 32, 0x80, s.data_end - OFF_BI - 32);
    CHECK(read_bytes(img, len, &g) == -EINVAL);
    /* empty version: "not a Go executable", as debug/buildinfo says */
    len = syn_build(img, &s);
    img[OFF_BI + 32] = 0;
    CHECK(read_bytes(img, len, &g) == -ENOEXEC);
}

TEST(elf_go_hostile_pointer_form) {
    struct syn s = {0};
    struct gsm_go_info g;
    /* buildinfo pointer outside every segment and section */
    CHECK(syn_read_patched(s, OFF_BI + 16, 8, 0xdead00000000ull, &g) == -EINVAL);
    CHECK(syn_read_patched(s, OFF_BI + 16, 8, UINT64_MAX - 3, &g) == -EINVAL);
    /* string header's data pointer outside the file */
    CHECK(syn_read_patched(s, OFF_HDR_A, 8, VBASE + 0x100000, &g) == -EINVAL);
    /* data pointer inside the segment but the length runs past its end */
    CHECK(syn_read_patched(s, OFF_HDR_A + 8, 8, 4000, &g) == -EINVAL);
    /* lengths over the cap, and absurd */
    CHECK(syn_read_patched(s, OFF_HDR_B + 8, 8, ((uint64_t)1 << 20) + 1, &g) == -EINVAL);
    CHECK(syn_read_patched(s, OFF_HDR_A + 8, 8, UINT64_MAX, &g) == -EINVAL);
    /* pointer size neither 4 nor 8 */
    uint8_t img[SYN_MAX];
    size_t len = syn_build(img, &s);
    img[OFF_BI + 14] = 3;
    CHECK(read_bytes(img, len, &g) == -EINVAL);
    /* zero pointer and no relocation for it (unrelocated PIE without .rela.dyn) */
    CHECK(syn_read_patched(s, OFF_BI + 16, 8, 0, &g) == -ENOEXEC);
    /* the PT_LOAD claims more file than there is, and no section table to fall back on */
    struct syn ns = {.no_sections = true};
    CHECK(syn_read_patched(ns, OFF_PHDR + 32, 8, 1 << 30, &g) == -EINVAL);
    CHECK(syn_read_patched(ns, OFF_PHDR + 8, 8, UINT64_MAX - 8, &g) == -EINVAL);
}

TEST(elf_go_hostile_lying_headers) {
    struct syn s = {.inline_form = true};
    uint8_t img[SYN_MAX];
    size_t len = syn_build(img, &s);
    const size_t bi = s.off_bi_shdr;
    /* .go.buildinfo section offset/size beyond the file */
    CHECK_FAILS(syn_read_patched(s, bi + 24, 8, 1 << 30, &_g));
    CHECK_FAILS(syn_read_patched(s, bi + 32, 8, 1 << 30, &_g));
    CHECK_FAILS(syn_read_patched(s, bi + 32, 8, UINT64_MAX, &_g));
    CHECK_FAILS(syn_read_patched(s, bi + 24, 8, UINT64_MAX - 16, &_g));
    /* section too small for the 32-byte header */
    CHECK_FAILS(syn_read_patched(s, bi + 32, 8, 20, &_g));
    /* section turned into NOBITS */
    CHECK_FAILS(syn_read_patched(s, bi + 4, 4, SHT_NOBITS, &_g));
    /* section header table / program header table offsets and counts lying: libelf refuses the
     * table, the segment scan may still find the blob */
    CHECK_SAFE(syn_read_patched(s, 40, 8, 1 << 30, &_g));         /* e_shoff */
    CHECK_SAFE(syn_read_patched(s, 40, 8, UINT64_MAX - 63, &_g));
    CHECK_SAFE(syn_read_patched(s, 60, 2, 0xfeff, &_g));          /* e_shnum */
    CHECK_SAFE(syn_read_patched(s, 62, 2, 0x4444, &_g));          /* e_shstrndx */
    CHECK_SAFE(syn_read_patched(s, 32, 8, 1 << 30, &_g));         /* e_phoff */
    CHECK_SAFE(syn_read_patched(s, 56, 2, 0xfffe, &_g));          /* e_phnum */
    CHECK_SAFE(syn_read_patched(s, 58, 2, 7, &_g));               /* e_shentsize */
    CHECK_SAFE(syn_read_patched(s, bi + 0, 4, 0x7fffffff, &_g));  /* sh_name */
    /* shstrtab size lying */
    CHECK_SAFE(syn_read_patched(s, s.off_shdrs + 4 * 64 + 32, 8, 1 << 30, &_g));
    (void)len;
}

/* Every truncation of the synthetic images: no crash; success only with the right answer (a
 * cut that removes only the trailing section table still leaves the segment scan). */
static void truncations(struct syn s) {
    uint8_t img[SYN_MAX];
    size_t len = syn_build(img, &s);
    _cleanup_close_ int fd = tmp_with(img, len);
    CHECK(fd >= 0);
    for (size_t n = 0; n < len; n++) {
        CHECK(rewrite(fd, img, n) == 0);
        struct gsm_go_info g;
        int r = gsm_go_info_read_fd(fd, &g);
        if (r == 0) {
            bool ok = strcmp(g.go_version, syn_version) == 0;
            gsm_go_info_free(&g);
            CHECK(ok);
        } else {
            CHECK(r == -EINVAL || r == -ENOEXEC);
        }
    }
}

TEST(elf_go_hostile_truncated_inline) { truncations((struct syn){.inline_form = true}); }
TEST(elf_go_hostile_truncated_pointer) { truncations((struct syn){0}); }
TEST(elf_go_hostile_truncated_pie_rela) { truncations((struct syn){.zero_ptrs_with_rela = true}); }

/* A real Go binary cut short at a few points (inside the headers, before and inside the blob). */
TEST(elf_go_hostile_truncated_real) {
    char bin[PATH_MAX];
    snprintf(bin, sizeof bin, "%s/memshape", targets_dir());
    if (access(bin, F_OK) < 0)
        SKIP("Go targets not built");
    _cleanup_free_ uint8_t *img = NULL;
    size_t len;
    CHECK(slurp(bin, &img, &len) == 0);
    const size_t cuts[] = {1, 16, 63, 64, 100, 4096, len / 2, len - 4096, len - 1};
    _cleanup_close_ int fd = tmp_with("", 0);
    CHECK(fd >= 0);
    for (size_t i = 0; i < ELEMENTSOF(cuts); i++) {
        CHECK(rewrite(fd, img, cuts[i]) == 0);
        struct gsm_go_info g;
        int r = gsm_go_info_read_fd(fd, &g);
        if (r == 0)
            gsm_go_info_free(&g);
        CHECK(r == 0 || r == -EINVAL || r == -ENOEXEC);
    }
}

/* Deterministic byte-flipping over the synthetic images: any outcome but a crash, a leak or an
 * error other than -EINVAL/-ENOEXEC. Run under ASan+UBSan this is the real check. */
static void flips(struct syn s, uint32_t seed) {
    uint8_t orig[SYN_MAX], img[SYN_MAX];
    size_t len = syn_build(orig, &s);
    _cleanup_close_ int fd = tmp_with(orig, len);
    CHECK(fd >= 0);
    for (int iter = 0; iter < 1500; iter++) {
        memcpy(img, orig, len);
        int nflip = 1 + iter % 4;
        for (int k = 0; k < nflip; k++) {
            seed = seed * 1664525u + 1013904223u;
            size_t at = (seed >> 8) % len;
            seed = seed * 1664525u + 1013904223u;
            img[at] = (uint8_t)(seed >> 24);
        }
        CHECK(rewrite(fd, img, len) == 0);
        struct gsm_go_info g;
        int r = gsm_go_info_read_fd(fd, &g);
        if (r == 0) {
            CHECK(strlen(g.go_version) < sizeof g.go_version);
            gsm_go_info_free(&g);
        } else {
            CHECK(r == -EINVAL || r == -ENOEXEC);
        }
    }
}

TEST(elf_go_hostile_flips_inline) { flips((struct syn){.inline_form = true}, 1); }
TEST(elf_go_hostile_flips_pointer) { flips((struct syn){0}, 2); }
TEST(elf_go_hostile_flips_pie_rela) { flips((struct syn){.zero_ptrs_with_rela = true}, 3); }
TEST(elf_go_hostile_flips_big_endian_no_sections) {
    flips((struct syn){.big_endian = true, .no_sections = true}, 4);
}
