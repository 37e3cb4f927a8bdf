#include "readers/elf_file.h"
#include "util/log.h"

#include <elf.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int gsm_elf_read_exact(const struct gsm_elf_file *x, void *buf, size_t len, uint64_t off) {
    if (!gsm_range_ok(off, len, 0, x->file_size))
        return -EINVAL;
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(x->fd, (char *)buf + done, len - done, (off_t)(off + done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -EINVAL;   /* the file shrank */
        done += (size_t)n;
    }
    return 0;
}

int gsm_elf_file_open(int fd, struct gsm_elf_file *ret) {
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    if (S_ISDIR(st.st_mode))
        return -EISDIR;
    if (!S_ISREG(st.st_mode))
        return -EINVAL;
    struct gsm_elf_file x = {.fd = fd, .file_size = (uint64_t)st.st_size};
    unsigned char ident[EI_NIDENT];
    int r = gsm_elf_read_exact(&x, ident, sizeof ident, 0);
    if (r < 0)
        return r;
    if (memcmp(ident, ELFMAG, SELFMAG) != 0 ||
        (ident[EI_CLASS] != ELFCLASS32 && ident[EI_CLASS] != ELFCLASS64) ||
        (ident[EI_DATA] != ELFDATA2LSB && ident[EI_DATA] != ELFDATA2MSB))
        return -EINVAL;
    if (elf_version(EV_CURRENT) == EV_NONE)
        return -EINVAL;
    x.elf = elf_begin(fd, ELF_C_READ, NULL);
    if (!x.elf) {
        gsm_debug("elf: elf_begin: %s", elf_errmsg(-1));
        return -EINVAL;
    }
    if (elf_kind(x.elf) != ELF_K_ELF || !gelf_getehdr(x.elf, &x.ehdr) || elf_getphdrnum(x.elf, &x.phnum) < 0) {
        gsm_debug("elf: headers: %s", elf_errmsg(-1));
        elf_end(x.elf);
        return -EINVAL;
    }
    x.have_shstrndx = elf_getshdrstrndx(x.elf, &x.shstrndx) == 0;
    *ret = x;
    return 0;
}

void gsm_elf_file_close(struct gsm_elf_file *x) {
    if (x->elf)
        elf_end(x->elf);
    x->elf = NULL;
}

bool gsm_elf_section_named(const struct gsm_elf_file *x, const char *want, GElf_Shdr *ret) {
    if (!x->have_shstrndx)
        return false;
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(x->elf, scn))) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh))
            return false;
        const char *name = elf_strptr(x->elf, x->shstrndx, sh.sh_name);
        if (name && strcmp(name, want) == 0) {
            *ret = sh;
            return true;
        }
    }
    return false;
}

int gsm_elf_rela_lookup(const struct gsm_elf_file *x, uint64_t addr, uint64_t max_scan, uint64_t *ret) {
    Elf_Scn *scn = NULL;
    uint64_t scanned = 0;
    while ((scn = elf_nextscn(x->elf, scn))) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA || sh.sh_entsize == 0)
            continue;
        if (!gsm_range_ok(sh.sh_offset, sh.sh_size, 0, x->file_size))
            continue;
        Elf_Data *d = elf_getdata(scn, NULL);   /* libelf checks the section lies in the file */
        if (!d)
            continue;
        uint64_t n = sh.sh_size / sh.sh_entsize;
        for (uint64_t i = 0; i < n && scanned < max_scan; i++, scanned++) {
            GElf_Rela rel;
            if (!gelf_getrela(d, (int)i, &rel))
                break;
            uint64_t sym = x->ehdr.e_ident[EI_CLASS] == ELFCLASS64 ? GELF_R_SYM(rel.r_info)
                                                                    : ELF32_R_SYM(rel.r_info);
            if (rel.r_offset == addr && sym == 0) {
                *ret = (uint64_t)rel.r_addend;
                return 0;
            }
        }
    }
    return -ENOENT;
}
