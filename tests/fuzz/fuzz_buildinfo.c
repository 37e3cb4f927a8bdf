/* A Go binary's .go.buildinfo (readers/elf_go.c through libelf, readers/elf_file.c) and its
 * modinfo, and the ELF route to the pclntab (gsm_pclntab_open_fd): the input is the whole ELF
 * file, in a memfd as /proc/PID/exe would be. */
#include "fuzz.h"
#include "model/go_build.h"
#include "readers/elf_go.h"
#include "readers/go_modinfo.h"
#include "readers/go_pclntab.h"

#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int fd = -1;
    if (fd < 0 && (fd = memfd_create("fuzz-exe", MFD_CLOEXEC)) < 0)
        return 0;
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        return 0;
    struct gsm_go_info g;
    if (gsm_go_info_read_fd(fd, &g) == 0) {
        struct gsm_go_buildinfo bi;
        size_t line;
        if (g.modinfo && gsm_go_modinfo_parse(g.modinfo, &bi, &line) == 0)
            gsm_go_buildinfo_free(&bi);
        gsm_go_info_free(&g);
    }
    struct gsm_pclntab *t = NULL;
    if (gsm_pclntab_open_fd(fd, &t) == 0) {
        struct gsm_symbol s;
        uint64_t lo, hi;
        gsm_pclntab_text_range(t, &lo, &hi);
        (void)gsm_pclntab_lookup(t, lo + (hi - lo) / 2, &s);
        gsm_pclntab_free(t);
    }
    return 0;
}
