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

/* The fixture's smaps text (malloc'd), or NULL. */
static char *fixture_smaps(size_t *ret_len) {
    char fixture[4096];
    snprintf(fixture, sizeof fixture, "%s/fixtures/proc-c-shape/proc/1001", gsm_test_dir());
    int ffd = open(fixture, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    char *text = NULL;
    if (ffd >= 0 && gsm_read_file_at(ffd, "smaps", 64 << 20, &text, ret_len) < 0)
        text = NULL;
    if (ffd >= 0)
        close(ffd);
    return text;
}

TEST(smaps_lean_same_as_parse) {
    size_t one_len = 0;
    char *one = fixture_smaps(&one_len);
    CHECK(one != NULL);
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

/* gsm_smaps_read_lean_stream over chunks of 1 to 7 bytes and a 256-byte buffer (tests/fuzz/
 * fuzz_smaps_lean.c does this with random sizes): the same mappings as the whole-buffer parser,
 * and issue 12's unterminated "a-b" (a header cut inside its hex) refused, not read past. */
struct chunks {
    const char *s;
    size_t len, off, k;
};

static ssize_t chunk_read(void *arg, char *buf, size_t len) {
    struct chunks *c = arg;
    size_t n = 1 + c->k++ % 7;
    if (n > len)
        n = len;
    if (n > c->len - c->off)
        n = c->len - c->off;
    memcpy(buf, c->s + c->off, n);
    c->off += n;
    return (ssize_t)n;
}

TEST(smaps_lean_stream_small_chunks) {
    size_t len = 0;
    char *text = fixture_smaps(&len);
    CHECK(text != NULL);
    struct gsm_process a, b;
    gsm_process_init(&a, 1001);
    gsm_process_init(&b, 1001);
    struct gsm_parse_error err;
    CHECK(gsm_smaps_parse(&a, text, len, false, &err) == 0);
    struct chunks c = {text, len, 0, 0};
    CHECK(gsm_smaps_read_lean_stream(chunk_read, &c, 256, &b, NULL, &err) == 0);
    CHECK(a.n_maps > 0 && a.n_maps == b.n_maps);
    for (size_t i = 0; i < a.n_maps && i < b.n_maps; i++)
        CHECK(a.maps[i].start == b.maps[i].start && memcmp(a.maps[i].f, b.maps[i].f, sizeof a.maps[i].f) == 0);
    gsm_process_free(&a);
    gsm_process_free(&b);
    free(text);

    char *cut = malloc(3);
    memcpy(cut, "a-b", 3);
    struct gsm_process p;
    gsm_process_init(&p, 1);
    c = (struct chunks){cut, 3, 0, 0};
    CHECK(gsm_smaps_read_lean_stream(chunk_read, &c, 64, &p, NULL, &err) == -EBADMSG);
    gsm_process_free(&p);
    free(cut);
    CHECK(gsm_smaps_read_lean_stream(chunk_read, &c, 63, &p, NULL, &err) == -EINVAL);   /* buffer too small */
}
