/* serve's streaming smaps reader (readers/proc_smaps_lean.c: gsm_smaps_read_lean_stream) fed the
 * input in chunks of varying sizes (1 byte to a page, from a generator seeded by the input),
 * none NUL-terminated, through the production buffer (32 KiB) and through a small one (64 B to
 * 4 KiB, from the first byte) so that lines straddle many buffer refills; in these ASan builds
 * the unused part of its buffer is poisoned. Oracle: the whole-buffer parser gsm_smaps_parse
 * (readers/proc_smaps.c, with its own fast path for field lines): where both parse, the
 * mappings and the classified totals are equal; where the whole-buffer parser refuses the
 * input, so does the streaming one; the streaming one may refuse alone only a line longer
 * than 7/8 of its buffer. */
#include "fuzz.h"
#include "analyses/classify.h"
#include "analyses/totals.h"
#include "readers/proc_smaps_lean.h"

#include <errno.h>

struct feed {
    const char *buf;
    size_t len, off;
    uint32_t rng;
};

static ssize_t feed_read(void *arg, char *out, size_t len) {
    struct feed *f = arg;
    f->rng ^= f->rng << 13, f->rng ^= f->rng >> 17, f->rng ^= f->rng << 5;
    size_t n = (f->rng & 7) == 0 ? 1 : 1 + f->rng % 4096;   /* a byte now and then, else up to a page */
    if (n > len)
        n = len;
    if (n > f->len - f->off)
        n = f->len - f->off;
    memcpy(out, f->buf + f->off, n);
    f->off += n;
    return (ssize_t)n;
}

static void on_progress(struct gsm_process *p, void *arg) {
    size_t *last = arg;
    FUZZ_ASSERT(p->n_maps >= *last);
    *last = p->n_maps;
}

static bool same_str(const char *a, const char *b) {
    return a == b || (a && b && strcmp(a, b) == 0);
}

static void compare(struct gsm_process *a, struct gsm_process *b) {
    FUZZ_ASSERT(a->n_maps == b->n_maps);
    for (size_t i = 0; i < a->n_maps; i++) {
        const struct gsm_mapping *x = &a->maps[i], *y = &b->maps[i];
        FUZZ_ASSERT(x->start == y->start && x->end == y->end && x->offset == y->offset && x->inode == y->inode);
        FUZZ_ASSERT(x->present == y->present && memcmp(x->f, y->f, sizeof x->f) == 0);
        FUZZ_ASSERT(x->deleted == y->deleted && same_str(x->path, y->path) && same_str(x->vmflags, y->vmflags));
        FUZZ_ASSERT(x->n_extra == y->n_extra);
    }
    struct gsm_totals ta, tb;
    gsm_classify(a);
    gsm_classify(b);
    gsm_totals_compute(a, &ta);
    gsm_totals_compute(b, &tb);
    FUZZ_ASSERT(memcmp(ta.cls, tb.cls, sizeof ta.cls) == 0 && memcmp(&ta.all, &tb.all, sizeof ta.all) == 0);
    FUZZ_ASSERT(ta.saturated == tb.saturated);
}

static void lean_vs_whole(char *buf, size_t size, size_t buf_bytes, uint32_t seed) {
    struct gsm_process whole, lean;
    struct gsm_parse_error ew = {0}, el = {0};
    gsm_process_init(&whole, 1);
    gsm_process_init(&lean, 1);
    int rw = gsm_smaps_parse(&whole, buf, size, false, &ew);
    struct feed f = {buf, size, 0, seed ? seed : 1};
    size_t last = 0;
    struct gsm_smaps_progress prog = {on_progress, &last};
    int rl = gsm_smaps_read_lean_stream(feed_read, &f, buf_bytes, &lean, &prog, &el);
    if (rw != -ENOMEM && rl != -ENOMEM) {
        bool too_long = rl == -EBADMSG && strncmp(el.what, "line longer than", 16) == 0;
        if (rw == 0 && rl == 0)
            compare(&whole, &lean);
        else if (rw == 0)
            FUZZ_ASSERT(too_long);   /* the only input the streaming reader may refuse alone */
        else if (!too_long)
            FUZZ_ASSERT(rl == rw && el.line == ew.line);
    }
    gsm_process_free(&whole);
    gsm_process_free(&lean);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *buf = fuzz_copy(data, size);
    uint32_t seed = (uint32_t)size * 2654435761u;
    for (size_t i = 0; i < size && i < 8; i++)
        seed = seed * 31 + data[i];
    lean_vs_whole(buf, size, GSM_SMAPS_LEAN_BUF_BYTES, seed);
    lean_vs_whole(buf, size, 64 + (size ? (size_t)data[0] * 16 : 0), seed ^ 0x9e3779b9u);
    free(buf);
    return 0;
}
