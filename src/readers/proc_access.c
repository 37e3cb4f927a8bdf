/* readers/proc_access.h. */
#include "readers/proc_access.h"
#include "readers/mountinfo.h"
#include "readers/proc_files.h"
#include "util/cleanup.h"
#include "util/fileio.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool gsm_proc_hidepid(int rootfd, char *buf, size_t len) {
    struct gsm_mountinfo mi;
    if (gsm_read_mountinfo_at(rootfd, "proc/self/mountinfo", &mi) < 0)
        return false;
    const char *v = NULL;
    size_t vl = 0;
    for (size_t i = 0; i < mi.n_mounts; i++) {   /* the last /proc mount is the one on top */
        const struct gsm_mount *m = &mi.mounts[i];
        if (strcmp(m->mount_point, "/proc") != 0 || strcmp(m->fstype, "proc") != 0)
            continue;
        v = NULL;
        for (const char *o = m->super_options; o && *o;) {
            const char *e = strchr(o, ',');
            size_t ol = e ? (size_t)(e - o) : strlen(o);
            if (ol > 8 && strncmp(o, "hidepid=", 8) == 0) {
                v = o + 8;
                vl = ol - 8;
            }
            o = e ? e + 1 : o + ol;
        }
        if (v && ((vl == 1 && *v == '0') || (vl == 3 && strncmp(v, "off", 3) == 0)))
            v = NULL;
        if (v)
            snprintf(buf, len, "%.*s", (int)vl, v);
    }
    gsm_mountinfo_free(&mi);
    return v != NULL;
}

bool gsm_proc_not_dumpable(int rootfd, pid_t pid, const char *file) {
    char path[64];
    struct stat st;
    snprintf(path, sizeof path, "proc/%d/%s", (int)pid, file);
    if (fstatat(rootfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_uid != 0)
        return false;
    snprintf(path, sizeof path, "proc/%d/status", (int)pid);
    _cleanup_free_ char *buf = NULL;
    size_t n;
    struct gsm_status s;
    struct gsm_parse_error err;
    if (gsm_read_file_at(rootfd, path, GSM_SMALL_FILE_MAX, &buf, &n) < 0 || gsm_parse_status(buf, n, &s, &err) < 0)
        return false;
    return s.uid_effective != 0;
}

void gsm_proc_notfound_hint(int rootfd, char *buf, size_t len) {
    char v[32];
    buf[0] = 0;
    if (geteuid() != 0 && gsm_proc_hidepid(rootfd, v, sizeof v))
        snprintf(buf, len, " (or hidden from this user: /proc is mounted hidepid=%s; CAP_SYS_PTRACE sees it)", v);
}
