/* /proc/PID/mountinfo (readers/mountinfo.c), the cgroup mount look-ups over the result, and
 * the octal unescape on the raw input. */
#include "fuzz.h"
#include "readers/mountinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *buf = fuzz_copy(data, size);
    struct gsm_mountinfo mi;
    if (gsm_parse_mountinfo(buf, size, &mi) == 0) {
        for (size_t n = 0; n < 3; n++) {
            (void)gsm_mountinfo_find_cgroup1(&mi, "memory", n);
            (void)gsm_mountinfo_find_cgroup2(&mi, n);
        }
        for (size_t i = 0; i < mi.n_mounts; i++)
            if (mi.mounts[i].super_options)
                (void)gsm_mount_has_option(mi.mounts[i].super_options, "memory");
        gsm_mountinfo_free(&mi);
    }
    char *u = NULL;
    if (gsm_mountinfo_unescape(buf, size, &u) == 0)
        free(u);
    free(buf);
    return 0;
}
