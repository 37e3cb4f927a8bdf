/* The flight recorder's bundle writer (see recorder.h for the layout and the contract). */
#include "recorder/recorder_internal.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/parse.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

__attribute__((format(printf, 2, 3))) void rec_note(struct notes *n, const char *fmt, ...) {
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (k < 0)
        return;
    size_t l = (size_t)k < sizeof line ? (size_t)k : sizeof line - 1;
    if (n->len + l + 2 > n->cap) {
        size_t ncap = n->cap ? n->cap * 2 : 512;
        while (ncap < n->len + l + 2)
            ncap *= 2;
        char *nb = realloc(n->buf, ncap);
        if (!nb)
            return;   /* the note is lost; the bundle is not */
        n->buf = nb;
        n->cap = ncap;
    }
    memcpy(n->buf + n->len, line, l);
    n->len += l;
    n->buf[n->len++] = '\n';
    n->buf[n->len] = '\0';
}


uint64_t rec_mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t rec_realtime_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int rec_write_all(int fd, const void *data, size_t len) {
    const char *p = data;
    while (len > 0) {
        ssize_t k = write(fd, p, len);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += k;
        len -= (size_t)k;
    }
    return 0;
}

/* Create `name` in dirfd (never an existing file, never through a symlink) holding data. */
int rec_write_file_at(int dirfd, const char *name, const void *data, size_t len) {
    _cleanup_close_ int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    int r = rec_write_all(fd, data, len);
    if (r < 0 || fsync(fd) < 0) {
        r = r < 0 ? r : -errno;
        unlinkat(dirfd, name, 0);
        return r;
    }
    return 0;
}

/* ---- lifecycle ------------------------------------------------------------------------ */

static int absolute_path(const char *p, char **ret) {
    if (p[0] == '/') {
        *ret = strdup(p);
    } else {
        char *a = realpath(p, NULL);
        if (!a)
            return -errno;
        *ret = a;
    }
    return *ret ? 0 : -ENOMEM;
}

void gsm_recorder_free(struct gsm_recorder *r) {
    if (!r)
        return;
    rec_writers_free(r);
    if (r->dir_fd >= 0)
        close(r->dir_fd);
    for (size_t i = 0; i < r->n_rate; i++)
        free(r->rate[i].key);
    free(r->rate);
    free(r->dump_dir);
    free(r->self_exe);
    free(r->root_dir);
    free(r);
}

int gsm_recorder_new(const struct gsm_recorder_opts *o, struct gsm_recorder **ret) {
    if (!o || !o->dump_dir || !*o->dump_dir)
        return -EINVAL;
    struct gsm_recorder *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    r->dir_fd = -1;
    int k;
    /* The dump dir itself may be a symlink the operator chose; nothing inside it is followed. */
    r->dir_fd = open(o->dump_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (r->dir_fd < 0) {
        k = -errno;
        goto fail;
    }
    if (faccessat(r->dir_fd, ".", W_OK | X_OK, AT_EACCESS) < 0) {
        k = -errno;
        goto fail;
    }
    r->quota_bytes = o->quota_bytes ? o->quota_bytes : GSM_RECORDER_QUOTA_BYTES_DEFAULT;
    r->min_interval_ms = o->min_interval_ms ? o->min_interval_ms : GSM_RECORDER_MIN_INTERVAL_MS_DEFAULT;
    r->max_bundles = o->max_bundles ? o->max_bundles : GSM_RECORDER_MAX_BUNDLES_DEFAULT;
    r->child_timeout_ms = o->child_timeout_ms ? o->child_timeout_ms : GSM_RECORDER_CHILD_TIMEOUT_MS_DEFAULT;
    if (!(r->dump_dir = strdup(o->dump_dir))) {
        k = -ENOMEM;
        goto fail;
    }
    if ((k = absolute_path(o->self_exe ? o->self_exe : "/proc/self/exe", &r->self_exe)) < 0)
        goto fail;
    if (o->root_dir && (k = absolute_path(o->root_dir, &r->root_dir)) < 0)
        goto fail;
    *ret = r;
    return 0;
fail:
    gsm_recorder_free(r);
    return k;
}

static void write_text_files(const struct gsm_bundle_request *req, int bundle_fd, struct notes *notes) {
    /* summary.txt: the engine's text, then who and when. */
    char *s = NULL;
    size_t slen = 0;
    FILE *f = open_memstream(&s, &slen);
    if (f) {
        const char *sum = req->summary && *req->summary ? req->summary : "(no summary)";
        size_t l = strlen(sum);
        fprintf(f, "%s%s\n", sum, sum[l - 1] == '\n' ? "" : "\n");
        fprintf(f, "target: %s\n", req->target_key ? req->target_key : "-");
        if (req->pid > 0)
            fprintf(f, "pid: %ld\n", (long)req->pid);
        if (req->cgroup_path)
            fprintf(f, "cgroup: %s\n", req->cgroup_path);
        fprintf(f, "time_ms: %" PRIu64 "\n", req->now_ms);
        fclose(f);
    }
    int k = s ? rec_write_file_at(bundle_fd, "summary.txt", s, slen) : -ENOMEM;
    free(s);
    if (k < 0)
        rec_note(notes, "failed summary.txt: %s", strerror(-k));

    if (req->event_json) {
        size_t l = strlen(req->event_json);
        bool nl = l > 0 && req->event_json[l - 1] == '\n';
        _cleanup_free_ char *e = malloc(l + 2);
        if (!e) {
            rec_note(notes, "failed event.json: out of memory");
        } else {
            memcpy(e, req->event_json, l);
            if (!nl)
                e[l++] = '\n';
            if ((k = rec_write_file_at(bundle_fd, "event.json", e, l)) < 0)
                rec_note(notes, "failed event.json: %s", strerror(-k));
        }
    } else {
        rec_note(notes, "failed event.json: no event given");
    }

    k = rec_write_file_at(bundle_fd, "samples.jsonl", req->samples_jsonl ? req->samples_jsonl : "",
                      req->samples_jsonl ? req->samples_len : 0);
    if (k < 0)
        rec_note(notes, "failed samples.jsonl: %s", strerror(-k));
}

/* MANIFEST: "name bytes" for every file (subdirectories as "cgroup/memory.current"), then the
 * failures. */
static int write_manifest(int bundle_fd, const struct notes *notes) {
    char *s = NULL;
    size_t slen = 0;
    FILE *f = open_memstream(&s, &slen);
    if (!f)
        return -ENOMEM;
    char **names = NULL;
    size_t n = 0;
    if (rec_list_dir(bundle_fd, &names, &n) == 0) {
        for (size_t i = 0; i < n; i++) {
            struct stat st;
            if (strcmp(names[i], "MANIFEST") == 0 || fstatat(bundle_fd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
                continue;
            if (S_ISREG(st.st_mode)) {
                fprintf(f, "%s %" PRIu64 "\n", names[i], (uint64_t)st.st_size);
            } else if (S_ISDIR(st.st_mode)) {
                _cleanup_close_ int sub = openat(bundle_fd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                char **sn = NULL;
                size_t sc = 0;
                if (sub < 0 || rec_list_dir(sub, &sn, &sc) < 0)
                    continue;
                for (size_t j = 0; j < sc; j++) {
                    struct stat s2;
                    if (fstatat(sub, sn[j], &s2, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(s2.st_mode))
                        fprintf(f, "%s/%s %" PRIu64 "\n", names[i], sn[j], (uint64_t)s2.st_size);
                }
                rec_free_names(sn, sc);
            }
        }
        rec_free_names(names, n);
    }
    if (notes->len)
        fputs(notes->buf, f);
    if (fclose(f) != 0) {
        free(s);
        return -ENOMEM;
    }
    int k = rec_write_file_at(bundle_fd, "MANIFEST", s, slen);
    free(s);
    return k;
}

/* ---- the bundle ----------------------------------------------------------------------- */

const char *rec_request_key(const struct gsm_bundle_request *req) {
    return req->target_key ? req->target_key : req->target_label ? req->target_label : "";
}

/* GSMAPPER_TEST_BUNDLE_DELAY_MS (a test aid, docs/watch.md): sleep this long before explain, as
 * a slow explain on a loaded machine would, so tests can show that watch samples meanwhile. */
static void test_delay(void) {
    const char *v = getenv("GSMAPPER_TEST_BUNDLE_DELAY_MS");
    uint64_t ms;
    if (!v || gsm_parse_u64(&v, &ms) < 0 || *v || ms == 0 || ms > 600000)
        return;
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

int gsm_recorder_write(struct gsm_recorder *r, const struct gsm_bundle_request *req, char *ret_path,
                       size_t path_len) {
    if (!r || !req)
        return -EINVAL;
    const char *key = rec_request_key(req);
    if (rec_rate_limited(r, key, req->now_ms))
        return -EAGAIN;
    return rec_write_bundle(r, req, true, ret_path, path_len);
}

int rec_write_bundle(struct gsm_recorder *r, const struct gsm_bundle_request *req, bool record_rate, char *ret_path,
                     size_t path_len) {
    const char *key = rec_request_key(req);
    char label[65];
    gsm_recorder_sanitize_label(req->target_label ? req->target_label : req->target_key, label);

    /* Make the temp dir; a name already taken (same label in the same ms) moves the time on. */
    char tmp[NAME_MAX + 1], final[NAME_MAX + 1];
    uint64_t t = req->now_ms;
    int k = -EEXIST;
    for (int i = 0; i < 16 && k == -EEXIST; i++, t++) {
        snprintf(tmp, sizeof tmp, TMP_PREFIX "%s-%" PRIu64 "-%ld", label, t, (long)getpid());
        k = mkdirat(r->dir_fd, tmp, 0700) < 0 ? -errno : 0;
    }
    if (k < 0)
        return k;
    t--;
    /* From here on the expensive work starts: count the attempt against the rate limit, so a
     * bundle that keeps failing is not retried every tick. */
    if (record_rate)
        rec_rate_record(r, key, req->now_ms);

    _cleanup_close_ int bfd = openat(r->dir_fd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (bfd < 0) {
        k = -errno;
        unlinkat(r->dir_fd, tmp, AT_REMOVEDIR);
        return k;
    }

    struct notes notes = {0};
    write_text_files(req, bfd, &notes);
    test_delay();
    rec_run_explain(r, req, bfd, &notes);
    rec_copy_cgroup(req, bfd, &notes);
    rec_fetch_go(req, bfd, &notes);
    rec_run_report(r, bfd, &notes);
    k = write_manifest(bfd, &notes);
    free(notes.buf);
    if (k < 0 || fsync(bfd) < 0) {
        k = k < 0 ? k : -errno;
        rec_rm_tree_at(r->dir_fd, tmp, 0);
        return k;
    }

    uint64_t bytes = rec_tree_bytes(bfd, 0);
    if (bytes > r->quota_bytes) {
        gsm_debug("recorder: bundle of %" PRIu64 " bytes exceeds the quota of %" PRIu64, bytes, r->quota_bytes);
        rec_rm_tree_at(r->dir_fd, tmp, 0);
        return -ENOSPC;
    }

    k = -EEXIST;
    for (int i = 0; i < 16 && k == -EEXIST; i++, t++) {
        snprintf(final, sizeof final, BUNDLE_PREFIX "%s-%" PRIu64, label, t);
        if (renameat2(r->dir_fd, tmp, r->dir_fd, final, RENAME_NOREPLACE) == 0) {
            k = 0;
        } else if (errno == EINVAL || errno == ENOSYS) {
            /* A filesystem without RENAME_NOREPLACE: check, then rename (a directory cannot
             * replace a non-empty directory or a non-directory anyway). */
            struct stat st;
            if (fstatat(r->dir_fd, final, &st, AT_SYMLINK_NOFOLLOW) == 0)
                k = -EEXIST;
            else
                k = renameat(r->dir_fd, tmp, r->dir_fd, final) < 0 ? -errno : 0;
        } else {
            k = errno == ENOTEMPTY ? -EEXIST : -errno;
        }
    }
    if (k < 0) {
        rec_rm_tree_at(r->dir_fd, tmp, 0);
        return k;
    }
    fsync(r->dir_fd);
    gsm_debug("recorder: wrote %s/%s (%" PRIu64 " bytes)", r->dump_dir, final, bytes);

    rec_enforce_limits(r, final);

    if (ret_path) {
        int w = snprintf(ret_path, path_len, "%s/%s", r->dump_dir, final);
        if (w < 0 || (size_t)w >= path_len)
            return -ENAMETOOLONG;   /* the bundle stays; only its name did not fit */
    }
    return 0;
}
