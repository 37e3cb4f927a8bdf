/* The single-threaded smaps reader against the whole-buffer parser on the same text (a fixture
 * larger than its 32 KiB buffer, so lines straddle reads), and its refusal of an over-long line. */
#include "readers/proc_smaps_lean.h"
#include "test.h"
#include "util/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

static void count_progress(struct gsm_process *p, void *arg) {
    (void)p;
    (*(int *)arg)++;
}

/* A directory holding one file "smaps" with text; returns its fd (the path in dir). */
static int temp_smaps(char dir[32], const char *text, size_t len) {
    snprintf(dir, 32, "/tmp/gsm-lean-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    char path[64];
    snprintf(path, sizeof path, "%s/smaps", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fwrite(text, 1, len, f);
    fclose(f);
    return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static void temp_smaps_remove(const char *dir, int dfd) {
    char path[64];
    snprintf(path, sizeof path, "%s/smaps", dir);
    unlink(path);
    rmdir(dir);
    if (dfd >= 0)
        close(dfd);
}

TEST(smaps_lean_same_as_parse) {
    char fixture[4096];
    snprintf(fixture, sizeof fixture, "%s/fixtures/proc-c-shape/proc/1001", gsm_test_dir());
    int ffd = open(fixture, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    char *one = NULL;
    size_t one_len = 0;
    CHECK(ffd >= 0 && gsm_read_file_at(ffd, "smaps", 64 << 20, &one, &one_len) == 0);
    if (ffd >= 0)
        close(ffd);
    if (!one)
        return;
    /* four copies: larger than the buffer several times over, so lines straddle reads */
    size_t len = 4 * one_len;
    char *buf = malloc(len);
    for (int k = 0; k < 4; k++)
        memcpy(buf + (size_t)k * one_len, one, one_len);
    char dir[32];
    int dfd = temp_smaps(dir, buf, len);
    CHECK(dfd >= 0);
    CHECK(len > 3 * GSM_SMAPS_LEAN_BUF_BYTES);
    struct gsm_process a, b;
    gsm_process_init(&a, 1001);
    gsm_process_init(&b, 1001);
    struct gsm_parse_error err;
    CHECK(gsm_smaps_parse(&a, buf, len, false, &err) == 0);
    int calls = 0;
    struct gsm_smaps_progress prog = {count_progress, &calls};
    CHECK(gsm_smaps_read_lean_at(dfd, "smaps", &b, &prog, &err) == 0);
    CHECK(calls >= 3);
    CHECK(a.n_maps > 0 && a.n_maps == b.n_maps);
    for (size_t i = 0; i < a.n_maps && i < b.n_maps; i++) {
        CHECK(a.maps[i].start == b.maps[i].start && a.maps[i].end == b.maps[i].end);
        CHECK(memcmp(a.maps[i].f, b.maps[i].f, sizeof a.maps[i].f) == 0);
    }
    gsm_process_free(&a);
    gsm_process_free(&b);
    temp_smaps_remove(dir, dfd);
    free(buf);
    free(one);
}

TEST(smaps_lean_refuses_overlong_line) {
    size_t n = 40000;
    char *text = malloc(n + 128);
    int off = snprintf(text, 128, "00400000-00401000 r-xp 00000000 08:01 12 /");
    memset(text + off, 'a', n);
    size_t len = (size_t)off + n;
    len += (size_t)snprintf(text + len, 64, "\nRss: 4 kB\n");
    char dir[32];
    int dfd = temp_smaps(dir, text, len);
    CHECK(dfd >= 0);
    struct gsm_process p;
    gsm_process_init(&p, 1);
    struct gsm_parse_error err = {0};
    CHECK(gsm_smaps_read_lean_at(dfd, "smaps", &p, NULL, &err) == -EBADMSG);
    CHECK(strstr(err.what, "longer") != NULL);
    gsm_process_free(&p);
    temp_smaps_remove(dir, dfd);
    free(text);
}
