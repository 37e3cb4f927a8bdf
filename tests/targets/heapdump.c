/* heapdump: a test program over libgsm's pprof pieces (tests/live/test_pprof.sh).
 *
 *   heapdump HEAP.pb.gz
 *       decode a Go heap profile (gsm_heap_profile_parse) and print
 *         SAMPLE_TYPES alloc_objects/count,alloc_space/bytes,...
 *         PERIOD 524288
 *         STACKS N
 *         INUSE_BYTES N
 *         INUSE_OBJECTS N
 *         TOP bytes objects leaf<-caller<-...      (the 5 largest in-use stacks)
 *   heapdump --pid PID [--heap HEAP.pb.gz] [--cgroup PATH] --pprof OUT.pb.gz --folded OUT.txt
 *       snapshot the process (smaps, classes), build the explain tree (with the Go frames of
 *       the heap profile under go-heap when given), write both outputs and print
 *         RSS N          sum of the mappings' RSS (gsm_totals)
 *         PSS N
 *         TREE_RSS N     sum of the tree's samples
 *         TREE_PSS N
 *         SAMPLES N
 * Exit 0 on success, 1 with "heapdump: ..." on stderr otherwise. */
#include "analyses/classify.h"
#include "analyses/totals.h"
#include "readers/go_heap_profile.h"
#include "readers/proc_snapshot.h"
#include "renderers/pprof_writer.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/root.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

static int die(const char *what, int r) {
    fprintf(stderr, "heapdump: %s: %s\n", what, strerror(r < 0 ? -r : r));
    return 1;
}

static int load_heap(const char *path, struct gsm_heap_profile *ret) {
    _cleanup_free_ char *buf = NULL;
    size_t len;
    int r = gsm_read_file_at(AT_FDCWD, path, (size_t)256 << 20, &buf, &len);
    if (r < 0)
        return r;
    return gsm_heap_profile_parse(buf, len, 0, ret);
}

static int cmp_stack(const void *a, const void *b) {
    const struct gsm_heap_stack *x = *(const struct gsm_heap_stack *const *)a;
    const struct gsm_heap_stack *y = *(const struct gsm_heap_stack *const *)b;
    return x->inuse_bytes < y->inuse_bytes ? 1 : x->inuse_bytes > y->inuse_bytes ? -1 : 0;
}

static int dump_heap(const char *path) {
    struct gsm_heap_profile hp;
    int r = load_heap(path, &hp);
    if (r < 0)
        return die(path, r);
    printf("SAMPLE_TYPES ");
    for (size_t i = 0; i < hp.n_sample_types; i++)
        printf("%s%s/%s", i ? "," : "", hp.sample_types[i].type, hp.sample_types[i].unit);
    printf("\nPERIOD %lld\nSTACKS %zu\nINUSE_BYTES %lld\nINUSE_OBJECTS %lld\n", (long long)hp.period, hp.n_stacks,
           (long long)hp.inuse_bytes_total, (long long)hp.inuse_objects_total);
    _cleanup_free_ const struct gsm_heap_stack **order = calloc(hp.n_stacks + 1, sizeof *order);
    if (!order) {
        gsm_heap_profile_free(&hp);
        return die("calloc", ENOMEM);
    }
    for (size_t i = 0; i < hp.n_stacks; i++)
        order[i] = &hp.stacks[i];
    qsort(order, hp.n_stacks, sizeof *order, cmp_stack);
    for (size_t i = 0; i < hp.n_stacks && i < 5 && order[i]->inuse_bytes > 0; i++) {
        printf("TOP %lld %lld ", (long long)order[i]->inuse_bytes, (long long)order[i]->inuse_objects);
        for (size_t j = 0; j < order[i]->n_frames; j++) {
            const struct gsm_heap_frame *f = &order[i]->frames[j];
            if (f->function)
                printf("%s%s", j ? "<-" : "", f->function);
            else
                printf("%s0x%llx", j ? "<-" : "", (unsigned long long)f->address);
        }
        printf("\n");
    }
    gsm_heap_profile_free(&hp);
    return 0;
}

static int write_folded(const struct gsm_pprof_builder *b, const char *path) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return -errno;
    int r = gsm_pprof_write_folded(b, f);
    if (fclose(f) != 0 && r == 0)
        r = -EIO;
    if (r == 0)
        r = gsm_write_file_atomic(path, text, len);
    free(text);
    return r;
}

static int snapshot(pid_t pid, const char *heap_path, const char *cgroup, const char *pprof_out,
                    const char *folded_out) {
    struct gsm_heap_profile hp;
    bool have_heap = false;
    if (heap_path) {
        int r = load_heap(heap_path, &hp);
        if (r < 0)
            return die(heap_path, r);
        have_heap = true;
    }
    struct gsm_root root;
    int r = gsm_root_open(NULL, &root);
    if (r < 0)
        return die("root", r);
    struct gsm_process proc;
    gsm_process_init(&proc, pid);
    struct gsm_read_opts opts = {.smaps = true};
    struct gsm_read_error err;
    int ret = 1;
    struct gsm_pprof_builder *b = NULL;
    r = gsm_process_read_pid(&root, pid, &opts, &proc, &err);
    if (r < 0) {
        die(err.file, r);
        goto out;
    }
    gsm_classify(&proc);
    struct gsm_totals t;
    gsm_totals_compute(&proc, &t);
    b = gsm_pprof_builder_new();
    if (!b) {
        die("builder", ENOMEM);
        goto out;
    }
    if ((r = gsm_explain_build_tree(b, cgroup, &proc, have_heap ? &hp : NULL)) < 0) {
        die("tree", r);
        goto out;
    }
    void *gz;
    size_t gzl;
    if ((r = gsm_pprof_encode_gzip(b, &gz, &gzl)) < 0) {
        die("encode", r);
        goto out;
    }
    r = gsm_write_file_atomic(pprof_out, gz, gzl);
    free(gz);
    if (r < 0) {
        die(pprof_out, r);
        goto out;
    }
    if ((r = write_folded(b, folded_out)) < 0) {
        die(folded_out, r);
        goto out;
    }
    printf("RSS %llu\nPSS %llu\nTREE_RSS %lld\nTREE_PSS %lld\nSAMPLES %zu\n", (unsigned long long)t.all.rss_bytes,
           (unsigned long long)t.all.pss_bytes, (long long)gsm_pprof_total_rss(b), (long long)gsm_pprof_total_pss(b),
           gsm_pprof_sample_count(b));
    ret = 0;
out:
    gsm_pprof_builder_free(b);
    gsm_process_free(&proc);
    gsm_root_close(&root);
    if (have_heap)
        gsm_heap_profile_free(&hp);
    return ret;
}

int main(int argc, char **argv) {
    if (argc == 2 && argv[1][0] != '-')
        return dump_heap(argv[1]);
    const char *pid = NULL, *heap = NULL, *cgroup = NULL, *pprof_out = NULL, *folded_out = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--pid") == 0)
            pid = argv[i + 1];
        else if (strcmp(argv[i], "--heap") == 0)
            heap = argv[i + 1];
        else if (strcmp(argv[i], "--cgroup") == 0)
            cgroup = argv[i + 1];
        else if (strcmp(argv[i], "--pprof") == 0)
            pprof_out = argv[i + 1];
        else if (strcmp(argv[i], "--folded") == 0)
            folded_out = argv[i + 1];
    }
    if (!pid || !pprof_out || !folded_out) {
        fprintf(stderr, "usage: heapdump HEAP.pb.gz\n"
                        "       heapdump --pid PID [--heap HEAP.pb.gz] [--cgroup PATH] --pprof OUT --folded OUT\n");
        return 2;
    }
    return snapshot((pid_t)atoi(pid), heap, cgroup, pprof_out, folded_out);
}
