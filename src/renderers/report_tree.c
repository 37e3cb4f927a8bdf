/* The report's ownership tree (see report_tree.h). */
#include "renderers/report_tree.h"

#include "util/cleanup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- JSON helpers ------------------------------------------------------------------------ */

uint64_t gsm_rjson_u64(struct json_object *o, const char *key) {
    struct json_object *v;
    if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v) || !v)
        return 0;
    if (json_object_is_type(v, json_type_int)) {
        int64_t i = json_object_get_int64(v);
        return i > 0 ? json_object_get_uint64(v) : 0;
    }
    if (json_object_is_type(v, json_type_double)) {
        double d = json_object_get_double(v);
        return d > 0 && d < 1.8e19 ? (uint64_t)d : 0;
    }
    return 0;
}

const char *gsm_rjson_str(struct json_object *o, const char *key) {
    struct json_object *v;
    if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static struct json_object *jget(struct json_object *o, const char *key, enum json_type type) {
    struct json_object *v;
    if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v) ||
        !json_object_is_type(v, type))
        return NULL;
    return v;
}

static bool jhas_number(struct json_object *o, const char *key) {
    return jget(o, key, json_type_int) || jget(o, key, json_type_double);
}

uint64_t gsm_rjson_mapping_uss(struct json_object *m, bool *ret_known) {
    struct json_object *sm = jget(m, "smaps", json_type_object);
    bool known = true;
    uint64_t v;
    if (jhas_number(m, "uss_bytes"))
        v = gsm_rjson_u64(m, "uss_bytes");
    else if (jhas_number(sm, "uss_bytes"))
        v = gsm_rjson_u64(sm, "uss_bytes");
    else if (jhas_number(sm, "private_clean_bytes") || jhas_number(sm, "private_dirty_bytes"))
        v = gsm_rjson_u64(sm, "private_clean_bytes") + gsm_rjson_u64(sm, "private_dirty_bytes");
    else {
        v = 0;
        known = false;
    }
    if (ret_known)
        *ret_known = known;
    return v;
}

/* Add v to the integer member key of info (created at 0). */
static void info_add(struct json_object *info, const char *key, uint64_t v) {
    struct json_object *cur = jget(info, key, json_type_int);
    uint64_t base = cur ? json_object_get_uint64(cur) : 0;
    json_object_object_add(info, key, json_object_new_uint64(base + v));
}

static void info_str(struct json_object *info, const char *key, const char *v) {
    if (v && !jget(info, key, json_type_string))
        json_object_object_add(info, key, json_object_new_string(v));
}

/* ---- nodes ------------------------------------------------------------------------------- */

static void node_free(struct gsm_rnode *n) {
    if (!n)
        return;
    for (size_t i = 0; i < n->n_kids; i++)
        node_free(n->kids[i]);
    free(n->kids);
    free(n->name);
    json_object_put(n->info);
    free(n);
}

static struct gsm_rnode *node_new(const char *name, enum gsm_rnode_kind kind) {
    struct gsm_rnode *n = calloc(1, sizeof *n);
    if (!n || !(n->name = strdup(name ? name : "?"))) {
        free(n);
        return NULL;
    }
    n->kind = kind;
    return n;
}

static int node_add(struct gsm_rnode *parent, struct gsm_rnode *kid) {
    if (parent->n_kids == parent->cap_kids) {
        size_t ncap = parent->cap_kids ? parent->cap_kids * 2 : 8;
        struct gsm_rnode **nk = realloc(parent->kids, ncap * sizeof *nk);
        if (!nk)
            return -ENOMEM;
        parent->kids = nk;
        parent->cap_kids = ncap;
    }
    parent->kids[parent->n_kids++] = kid;
    return 0;
}

/* The child named `name` of that kind, created when missing (linear: for short lists only). */
static struct gsm_rnode *node_child(struct gsm_rnode *parent, const char *name, enum gsm_rnode_kind kind) {
    for (size_t i = 0; i < parent->n_kids; i++)
        if (parent->kids[i]->kind == kind && strcmp(parent->kids[i]->name, name) == 0)
            return parent->kids[i];
    struct gsm_rnode *n = node_new(name, kind);
    if (!n || node_add(parent, n) < 0) {
        node_free(n);
        return NULL;
    }
    return n;
}

/* Inner nodes get the sums of their children, per snapshot (leaves keep their own figures). */
static void node_sum(struct gsm_rnode *n) {
    if (n->n_kids == 0)
        return;
    memset(n->v, 0, sizeof n->v);
    uint64_t leaves[2] = {0, 0};
    for (size_t i = 0; i < n->n_kids; i++) {
        struct gsm_rnode *k = n->kids[i];
        node_sum(k);
        for (int s = 0; s < 2; s++) {
            for (int m = 0; m < GSM_RM__COUNT; m++)
                n->v[s][m] += k->v[s][m];
            leaves[s] += k->leaves[s];
        }
    }
    if (n->kind != GSM_RN_MAPPING)   /* a mapping node counts its own mappings, not its frames */
        memcpy(n->leaves, leaves, sizeof leaves);
}

/* ---- one process with its mappings ------------------------------------------------------- */

struct mref {
    const char *cls;
    char name[48];       /* anon@ADDR when the mapping has no path */
    const char *path;
    struct json_object *m;
};

static const char *mref_name(const struct mref *r) {
    return r->path ? r->path : r->name;
}

static int cmp_mref(const void *a, const void *b) {
    const struct mref *x = a, *y = b;
    int c = strcmp(x->cls, y->cls);
    return c ? c : strcmp(mref_name(x), mref_name(y));
}

static void mapping_figures(struct gsm_rnode *n, struct json_object *m, bool *uss_known) {
    struct json_object *sm = jget(m, "smaps", json_type_object);
    struct json_object *src = sm ? sm : m;   /* without smaps: the short form of largest_mappings */
    bool known;
    n->v[GSM_RSNAP_AFTER][GSM_RM_RSS] += gsm_rjson_u64(src, "rss_bytes");
    n->v[GSM_RSNAP_AFTER][GSM_RM_PSS] += gsm_rjson_u64(src, "pss_bytes");
    n->v[GSM_RSNAP_AFTER][GSM_RM_SWAP] += gsm_rjson_u64(src, "swap_bytes");
    n->v[GSM_RSNAP_AFTER][GSM_RM_USS] += gsm_rjson_mapping_uss(m, &known);
    if (!known)
        *uss_known = false;
    n->leaves[GSM_RSNAP_AFTER]++;
    static const char *const keys[] = {"size_bytes", "anonymous_bytes", "lazyfree_bytes", "private_clean_bytes",
                                       "private_dirty_bytes", "shared_clean_bytes", "shared_dirty_bytes",
                                       "anon_huge_pages_bytes", "swap_pss_bytes", "locked_bytes"};
    for (size_t i = 0; i < ELEMENTSOF(keys); i++)
        if (jhas_number(src, keys[i]))
            info_add(n->info, keys[i], gsm_rjson_u64(src, keys[i]));
    info_add(n->info, "mappings", 1);
    info_str(n->info, "start", gsm_rjson_str(m, "start"));
    info_str(n->info, "perms", gsm_rjson_str(m, "perms"));
    info_str(n->info, "class_reason", gsm_rjson_str(m, "class_reason"));
    info_str(n->info, "allocator", gsm_rjson_str(m, "allocator"));
}

/* Mapping nodes under class nodes of proc, from the document's "mappings" array. Mappings with
 * nothing resident and nothing swapped are left out of the tree (the address strip shows them). */
static int add_mappings(struct gsm_rnode *proc, struct json_object *maps, bool *uss_known) {
    size_t n = json_object_array_length(maps), k = 0;
    _cleanup_free_ struct mref *refs = calloc(n ? n : 1, sizeof *refs);
    if (!refs)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        struct json_object *m = json_object_array_get_idx(maps, i);
        struct mref *r = &refs[k];
        r->m = m;
        r->cls = gsm_rjson_str(m, "class");
        if (!r->cls)
            r->cls = "unclassified";
        const char *p = gsm_rjson_str(m, "path");
        r->path = p && p[0] ? p : NULL;
        const char *start = gsm_rjson_str(m, "start");
        snprintf(r->name, sizeof r->name, "anon@%.24s", start ? start : "?");
        k++;
    }
    qsort(refs, k, sizeof *refs, cmp_mref);
    struct gsm_rnode *cls = NULL, *cur = NULL;
    for (size_t i = 0; i < k; i++) {
        struct mref *r = &refs[i];
        if (!cls || strcmp(cls->name, r->cls) != 0) {
            if (!(cls = node_child(proc, r->cls, GSM_RN_CLASS)))
                return -ENOMEM;
            cur = NULL;
        }
        if (!cur || strcmp(cur->name, mref_name(r)) != 0) {
            if (!(cur = node_new(mref_name(r), GSM_RN_MAPPING)))
                return -ENOMEM;
            if (node_add(cls, cur) < 0) {
                node_free(cur);
                return -ENOMEM;
            }
            if (!(cur->info = json_object_new_object()))
                return -ENOMEM;
        }
        mapping_figures(cur, r->m, uss_known);
    }
    /* Drop what holds nothing (reservations, guard pages): kept in the class's info count. */
    for (size_t c = 0; c < proc->n_kids; c++) {
        struct gsm_rnode *cn = proc->kids[c];
        size_t w = 0;
        for (size_t i = 0; i < cn->n_kids; i++) {
            struct gsm_rnode *mn = cn->kids[i];
            if (mn->v[1][GSM_RM_RSS] || mn->v[1][GSM_RM_SWAP] || mn->v[1][GSM_RM_PSS])
                cn->kids[w++] = mn;
            else
                node_free(mn);
        }
        cn->n_kids = w;
    }
    return 0;
}

/* Class nodes from the "classes" array alone (a document written without --mappings). */
static int add_classes(struct gsm_rnode *proc, struct json_object *classes, bool *uss_known) {
    for (size_t i = 0; i < json_object_array_length(classes); i++) {
        struct json_object *c = json_object_array_get_idx(classes, i);
        const char *name = gsm_rjson_str(c, "class");
        struct gsm_rnode *n = name ? node_child(proc, name, GSM_RN_CLASS) : NULL;
        if (!name)
            continue;
        if (!n)
            return -ENOMEM;
        n->v[1][GSM_RM_RSS] = gsm_rjson_u64(c, "rss_bytes");
        n->v[1][GSM_RM_PSS] = gsm_rjson_u64(c, "pss_bytes");
        n->v[1][GSM_RM_SWAP] = gsm_rjson_u64(c, "swap_bytes");
        if (jhas_number(c, "uss_bytes"))
            n->v[1][GSM_RM_USS] = gsm_rjson_u64(c, "uss_bytes");
        else
            *uss_known = false;
        n->leaves[1] = gsm_rjson_u64(c, "mappings");
    }
    return 0;
}

/* Class nodes carry the class totals of the document (every mapping, resident or not). */
static void class_infos(struct gsm_rnode *proc, struct json_object *classes) {
    for (size_t i = 0; classes && i < json_object_array_length(classes); i++) {
        struct json_object *c = json_object_array_get_idx(classes, i);
        const char *name = gsm_rjson_str(c, "class");
        for (size_t k = 0; name && k < proc->n_kids; k++)
            if (proc->kids[k]->kind == GSM_RN_CLASS && strcmp(proc->kids[k]->name, name) == 0 && !proc->kids[k]->info)
                proc->kids[k]->info = json_object_get(c);
    }
}

/* ---- Go frames under the go-heap mappings ------------------------------------------------ */

/* Add a chain of frames (root-most first) under n with figures f. */
static int add_frames(struct gsm_rnode *n, struct json_object *frames_leaf_first, const uint64_t f[GSM_RM__COUNT]) {
    size_t depth = json_object_array_length(frames_leaf_first);
    struct gsm_rnode *cur = n;
    for (size_t i = depth; i-- > 0;) {
        const char *name = json_object_get_string(json_object_array_get_idx(frames_leaf_first, i));
        if (!(cur = node_child(cur, name ? name : "?", GSM_RN_FRAME)))
            return -ENOMEM;
    }
    if (cur == n && !(cur = node_child(n, "(no frames)", GSM_RN_FRAME)))
        return -ENOMEM;
    for (int m = 0; m < GSM_RM__COUNT; m++)
        cur->v[1][m] += f[m];
    return 0;
}

/* The split of pprof_writer.h (which hangs the frames under the class once), per mapping here
 * so the graph keeps the mapping level: the profile's in-use total H is set against the class's
 * RSS R; every figure X of a go-heap mapping gives a stack of s bytes
 * floor(X * s * min(H,R) / (H * R));
 * the stacks the document leaves out (it keeps the largest) are "(other stacks)", and what the
 * profile does not cover (R > H: fragmentation, stacks, idle spans, garbage) plus the rounding
 * is "(heap not in profile)". So each mapping still totals exactly its own figures. */
static int add_go_frames(struct gsm_rnode *proc, struct json_object *heap) {
    struct json_object *stacks = jget(heap, "top_stacks", json_type_array);
    uint64_t H = gsm_rjson_u64(heap, "inuse_bytes");
    struct gsm_rnode *cls = NULL;
    for (size_t i = 0; i < proc->n_kids; i++)
        if (proc->kids[i]->kind == GSM_RN_CLASS && strcmp(proc->kids[i]->name, "go-heap") == 0)
            cls = proc->kids[i];
    if (!stacks || H == 0 || !cls)
        return 0;
    uint64_t R = 0, listed = 0;
    for (size_t i = 0; i < cls->n_kids; i++)
        R += cls->kids[i]->v[1][GSM_RM_RSS];
    for (size_t s = 0; s < json_object_array_length(stacks); s++)
        listed += gsm_rjson_u64(json_object_array_get_idx(stacks, s), "inuse_bytes");
    if (R == 0)
        return 0;
    long double k = (long double)(H < R ? H : R) / ((long double)H * R);
    for (size_t i = 0; i < cls->n_kids; i++) {
        struct gsm_rnode *mn = cls->kids[i];
        uint64_t used[GSM_RM__COUNT] = {0}, f[GSM_RM__COUNT];
        for (size_t s = 0; s <= json_object_array_length(stacks); s++) {
            bool rest = s == json_object_array_length(stacks);
            struct json_object *st = rest ? NULL : json_object_array_get_idx(stacks, s);
            uint64_t bytes = rest ? (H > listed ? H - listed : 0) : gsm_rjson_u64(st, "inuse_bytes");
            if (bytes == 0)
                continue;
            for (int m = 0; m < GSM_RM__COUNT; m++) {
                f[m] = (uint64_t)((long double)mn->v[1][m] * bytes * k);
                if (f[m] > mn->v[1][m] - used[m])
                    f[m] = mn->v[1][m] - used[m];
                used[m] += f[m];
            }
            int r;
            if (rest) {
                struct gsm_rnode *o = node_child(mn, "(other stacks)", GSM_RN_FRAME);
                r = o ? 0 : -ENOMEM;
                for (int m = 0; o && m < GSM_RM__COUNT; m++)
                    o->v[1][m] += f[m];
            } else {
                struct json_object *fr = jget(st, "frames", json_type_array);
                r = fr ? add_frames(mn, fr, f) : 0;
            }
            if (r < 0)
                return r;
        }
        struct gsm_rnode *o = node_child(mn, "(heap not in profile)", GSM_RN_FRAME);
        if (!o)
            return -ENOMEM;
        for (int m = 0; m < GSM_RM__COUNT; m++)
            o->v[1][m] += mn->v[1][m] - used[m];
    }
    return 0;
}

/* ---- process and cgroup documents -------------------------------------------------------- */

static char *process_label(const char *name, int64_t pid) {
    char *s = NULL;
    if (asprintf(&s, "%s[%lld]", name ? name : "?", (long long)pid) < 0)
        return NULL;
    return s;
}

static struct json_object *process_info(struct json_object *doc) {
    struct json_object *t = jget(doc, "target", json_type_object), *st = jget(doc, "status", json_type_object);
    struct json_object *go = jget(t, "go", json_type_object), *info = json_object_new_object();
    if (!info)
        return NULL;
    static const char *const tkeys[] = {"pid", "ppid", "uid", "threads", "oom_score", "oom_score_adj"};
    for (size_t i = 0; i < ELEMENTSOF(tkeys); i++)
        if (jhas_number(t, tkeys[i]))
            info_add(info, tkeys[i], gsm_rjson_u64(t, tkeys[i]));
    info_str(info, "exe", gsm_rjson_str(t, "exe"));
    info_str(info, "allocator", gsm_rjson_str(t, "allocator"));
    info_str(info, "go_version", gsm_rjson_str(go, "version"));
    static const char *const skeys[] = {"vm_rss_bytes", "vm_hwm_bytes", "vm_size_bytes", "vm_swap_bytes",
                                        "vm_pte_bytes"};
    for (size_t i = 0; i < ELEMENTSOF(skeys); i++)
        if (jhas_number(st, skeys[i]))
            info_add(info, skeys[i], gsm_rjson_u64(st, skeys[i]));
    return info;
}

static struct json_object *cgroup_info(struct json_object *cg) {
    struct json_object *info = json_object_new_object();
    if (!info || !cg)
        return info;
    info_str(info, "path", gsm_rjson_str(cg, "path"));
    info_add(info, "usage_bytes", gsm_rjson_u64(cg, "usage_bytes"));
    if (jhas_number(cg, "swap_usage_bytes"))
        info_add(info, "swap_usage_bytes", gsm_rjson_u64(cg, "swap_usage_bytes"));
    struct json_object *eff = jget(jget(cg, "effective_limit", json_type_object), "max", json_type_object);
    if (eff) {
        info_add(info, "effective_limit_bytes", gsm_rjson_u64(eff, "bytes"));
        info_str(info, "effective_limit_path", gsm_rjson_str(eff, "path"));
    }
    struct json_object *ev = jget(cg, "events", json_type_object);
    if (jhas_number(ev, "oom_kill"))
        info_add(info, "oom_kill", gsm_rjson_u64(ev, "oom_kill"));
    return info;
}

/* A process node's subtree from its own explain document: class -> mapping -> frames. */
static int fill_process(struct gsm_rnode *proc, struct json_object *doc, struct gsm_rtree *t, bool *uss) {
    json_object_put(proc->info);
    if (!(proc->info = process_info(doc)))
        return -ENOMEM;
    struct json_object *maps = jget(doc, "mappings", json_type_array);
    struct json_object *classes = jget(doc, "classes", json_type_array);
    int r = 0;
    t->have_mappings = t->have_mappings || maps != NULL;
    if (maps)
        r = add_mappings(proc, maps, uss);
    else if (classes)
        r = add_classes(proc, classes, uss);
    if (r < 0)
        return r;
    class_infos(proc, classes);
    struct json_object *heap = jget(jget(doc, "go_runtime", json_type_object), "heap_profile", json_type_object);
    if (heap && maps) {
        t->have_frames = true;
        if ((r = add_go_frames(proc, heap)) < 0)
            return r;
    }
    return 0;
}

/* A process document: [cgroup ->] process -> class -> mapping -> frames. */
static int build_process(struct json_object *doc, struct gsm_rtree *t) {
    struct json_object *target = jget(doc, "target", json_type_object);
    struct json_object *cg = jget(doc, "cgroup", json_type_object);
    const char *name = gsm_rjson_str(target, "name");
    _cleanup_free_ char *label = process_label(name ? name : gsm_rjson_str(target, "comm"),
                                               (int64_t)gsm_rjson_u64(target, "pid"));
    if (!label)
        return -ENOMEM;
    const char *cg_path = gsm_rjson_str(cg, "path");
    struct gsm_rnode *proc;
    if (cg_path) {
        if (!(t->root = node_new(cg_path, GSM_RN_CGROUP)) || !(t->root->info = cgroup_info(cg)) ||
            !(proc = node_child(t->root, label, GSM_RN_PROCESS)))
            return -ENOMEM;
    } else if (!(proc = t->root = node_new(label, GSM_RN_PROCESS)))
        return -ENOMEM;
    bool uss = true;
    int r = fill_process(proc, doc, t, &uss);
    t->have_uss = uss;
    return r;
}

/* One process of a cgroup document: its classes from class_rss_bytes (PSS shared out by the
 * process's PSS/RSS ratio, the remainder on the largest class), swap as one "swap" node. */
static int add_cgroup_process(struct gsm_rnode *root, struct json_object *p, struct gsm_rnode **ret) {
    _cleanup_free_ char *label = process_label(gsm_rjson_str(p, "name"), (int64_t)gsm_rjson_u64(p, "pid"));
    struct gsm_rnode *pn = label ? node_child(root, label, GSM_RN_PROCESS) : NULL;
    if (!pn)
        return -ENOMEM;
    json_object_put(pn->info);   /* a PID listed twice: the last entry describes it */
    if (!(pn->info = json_object_new_object()))
        return -ENOMEM;
    static const char *const keys[] = {"pid", "rss_bytes", "pss_bytes", "swap_bytes", "page_tables_bytes",
                                       "oom_score", "oom_score_adj", "oom_badness_pages"};
    for (size_t i = 0; i < ELEMENTSOF(keys); i++)
        if (jhas_number(p, keys[i]))
            info_add(pn->info, keys[i], gsm_rjson_u64(p, keys[i]));
    uint64_t rss = gsm_rjson_u64(p, "rss_bytes"), pss = gsm_rjson_u64(p, "pss_bytes"), given = 0;
    struct gsm_rnode *largest = NULL;
    struct json_object *cr = jget(p, "class_rss_bytes", json_type_object);
    if (cr) {
        json_object_object_foreach(cr, cname, cval) {
            uint64_t b = json_object_is_type(cval, json_type_int) ? json_object_get_uint64(cval) : 0;
            if (b == 0)
                continue;
            struct gsm_rnode *cn = node_child(pn, cname, GSM_RN_CLASS);
            if (!cn)
                return -ENOMEM;
            cn->v[1][GSM_RM_RSS] = b;
            cn->v[1][GSM_RM_PSS] = rss ? (uint64_t)((long double)b * pss / rss) : 0;
            given += cn->v[1][GSM_RM_PSS];
            if (!largest || b > largest->v[1][GSM_RM_RSS])
                largest = cn;
        }
    }
    if (largest && pss > given)
        largest->v[1][GSM_RM_PSS] += pss - given;
    uint64_t swap = gsm_rjson_u64(p, "swap_bytes");
    if (swap) {
        struct gsm_rnode *sn = node_child(pn, "swap", GSM_RN_CLASS);
        if (!sn)
            return -ENOMEM;
        sn->v[1][GSM_RM_SWAP] = swap;
    }
    if (pn->n_kids == 0) {
        pn->v[1][GSM_RM_RSS] = rss;
        pn->v[1][GSM_RM_PSS] = pss;
    }
    pn->leaves[1] = 1;
    *ret = pn;
    return 0;
}

static int add_part(struct gsm_rnode *parent, const char *name, uint64_t bytes) {
    if (bytes == 0)
        return 0;
    struct gsm_rnode *n = node_child(parent, name, GSM_RN_PART);
    if (!n)
        return -ENOMEM;
    n->v[1][GSM_RM_RSS] = n->v[1][GSM_RM_PSS] = n->v[1][GSM_RM_USS] = bytes;
    return 0;
}

/* The cgroup's own memory beside its processes: kernel parts, and page cache no process maps
 * (the file LRU less what is mapped, which the processes' file-backed RSS already counts). */
static int add_cgroup_parts(struct gsm_rnode *root, struct json_object *cg) {
    struct json_object *parts = jget(jget(cg, "breakdown", json_type_object), "parts", json_type_array);
    struct json_object *stat = jget(cg, "stat", json_type_object);
    uint64_t file = 0;
    struct gsm_rnode *kernel = NULL;
    for (size_t i = 0; parts && i < json_object_array_length(parts); i++) {
        struct json_object *p = json_object_array_get_idx(parts, i);
        const char *name = gsm_rjson_str(p, "name");
        uint64_t b = gsm_rjson_u64(p, "bytes");
        struct json_object *k = jget(p, "kernel", json_type_boolean);
        if (!name || b == 0)
            continue;
        if (k && json_object_get_boolean(k)) {
            if (!kernel && !(kernel = node_child(root, "kernel", GSM_RN_PART)))
                return -ENOMEM;
            if (add_part(kernel, name, b) < 0)
                return -ENOMEM;
        } else if (strncmp(name, "file", 4) == 0)
            file += b;
    }
    uint64_t mapped = gsm_rjson_u64(stat, "file_mapped") + gsm_rjson_u64(stat, "mapped_file");
    return add_part(root, "page cache (not mapped)", file > mapped ? file - mapped : 0);
}

/* The process document among details whose target has this PID, or NULL. */
static struct json_object *detail_for(struct json_object *const *details, size_t n, uint64_t pid) {
    for (size_t i = 0; i < n; i++)
        if (details[i] && gsm_rjson_u64(jget(details[i], "target", json_type_object), "pid") == pid)
            return details[i];
    return NULL;
}

/* A cgroup document: cgroup -> process (-> class -> mapping -> frames where a process document
 * of that PID is among details, else -> class from class_rss_bytes) beside the cgroup's own
 * kernel memory and unmapped page cache. */
static int build_cgroup(struct json_object *doc, struct json_object *const *details, size_t n_details,
                        struct gsm_rtree *t) {
    struct json_object *cg = jget(doc, "cgroup", json_type_object);
    const char *path = gsm_rjson_str(jget(doc, "target", json_type_object), "cgroup");
    if (!(t->root = node_new(path ? path : gsm_rjson_str(cg, "path"), GSM_RN_CGROUP)) ||
        !(t->root->info = cgroup_info(cg)))
        return -ENOMEM;
    struct json_object *procs = jget(doc, "processes", json_type_array);
    bool uss = true;
    for (size_t i = 0; procs && i < json_object_array_length(procs); i++) {
        struct json_object *p = json_object_array_get_idx(procs, i);
        struct json_object *detail = detail_for(details, n_details, gsm_rjson_u64(p, "pid"));
        struct gsm_rnode *pn = NULL;
        int r = add_cgroup_process(t->root, p, &pn);
        if (r == 0 && detail) {   /* its own document replaces the classes of the cgroup's */
            for (size_t k = 0; k < pn->n_kids; k++)
                node_free(pn->kids[k]);
            pn->n_kids = 0;
            memset(pn->v, 0, sizeof pn->v);
            r = fill_process(pn, detail, t, &uss);
            pn->leaves[1] = 0;
        } else if (r == 0)
            uss = false;
        if (r < 0)
            return r;
    }
    t->have_uss = uss && procs && json_object_array_length(procs) > 0;
    return add_cgroup_parts(t->root, cg);
}

int gsm_rtree_from_explain(struct json_object *doc, struct gsm_rtree *ret, const char **why) {
    return gsm_rtree_from_explain_detailed(doc, NULL, 0, ret, why);
}

int gsm_rtree_from_explain_detailed(struct json_object *doc, struct json_object *const *details, size_t n_details,
                                    struct gsm_rtree *ret, const char **why) {
    const char *schema = gsm_rjson_str(doc, "schema");
    if (!schema || strcmp(schema, "gsmapper.explain/v1") != 0) {
        *why = "not a gsmapper explain document (schema gsmapper.explain/v1)";
        return -EINVAL;
    }
    struct json_object *target = jget(doc, "target", json_type_object);
    if (!target) {
        *why = "the explain document has no target";
        return -EINVAL;
    }
    struct gsm_rtree t = {0};
    bool is_cgroup = gsm_rjson_str(target, "cgroup") && jget(doc, "processes", json_type_array);
    int r = is_cgroup ? build_cgroup(doc, details, n_details, &t) : build_process(doc, &t);
    if (r < 0) {
        gsm_rtree_free(&t);
        *why = "out of memory";
        return r;
    }
    node_sum(t.root);
    *ret = t;
    return 0;
}

/* ---- diff -------------------------------------------------------------------------------- */

static int cmp_node(const void *a, const void *b) {
    const struct gsm_rnode *x = *(struct gsm_rnode *const *)a, *y = *(struct gsm_rnode *const *)b;
    if (x->kind != y->kind)
        return (int)x->kind - (int)y->kind;
    return strcmp(x->name, y->name);
}

/* Move the AFTER figures of a before-only subtree into its BEFORE slot. */
static void shift_before(struct gsm_rnode *n) {
    memcpy(n->v[GSM_RSNAP_BEFORE], n->v[GSM_RSNAP_AFTER], sizeof n->v[0]);
    memset(n->v[GSM_RSNAP_AFTER], 0, sizeof n->v[0]);
    n->leaves[GSM_RSNAP_BEFORE] = n->leaves[GSM_RSNAP_AFTER];
    n->leaves[GSM_RSNAP_AFTER] = 0;
    for (size_t i = 0; i < n->n_kids; i++)
        shift_before(n->kids[i]);
}

/* b's figures become a's BEFORE figures; b's children are merged into a's by (kind, name). b is
 * freed (children moved or freed). */
static int merge_node(struct gsm_rnode *a, struct gsm_rnode *b) {
    memcpy(a->v[GSM_RSNAP_BEFORE], b->v[GSM_RSNAP_AFTER], sizeof a->v[0]);
    a->leaves[GSM_RSNAP_BEFORE] = b->leaves[GSM_RSNAP_AFTER];
    if (a->n_kids > 1)
        qsort(a->kids, a->n_kids, sizeof *a->kids, cmp_node);
    if (b->n_kids > 1)
        qsort(b->kids, b->n_kids, sizeof *b->kids, cmp_node);
    /* A lone process on each side is the same program across the two snapshots. */
    if (a->n_kids == 1 && b->n_kids == 1 && a->kids[0]->kind == GSM_RN_PROCESS && b->kids[0]->kind == GSM_RN_PROCESS) {
        free(b->kids[0]->name);
        b->kids[0]->name = strdup(a->kids[0]->name);
        if (!b->kids[0]->name)
            return -ENOMEM;
    }
    size_t na = a->n_kids, i = 0;
    int r = 0;
    for (size_t j = 0; j < b->n_kids && r == 0; j++) {
        struct gsm_rnode *bk = b->kids[j];
        while (i < na && cmp_node(&a->kids[i], &bk) < 0)
            i++;
        if (i < na && cmp_node(&a->kids[i], &bk) == 0) {
            r = merge_node(a->kids[i], bk);
            b->kids[j] = NULL;
        } else {
            shift_before(bk);
            r = node_add(a, bk);
            if (r == 0)
                b->kids[j] = NULL;
        }
    }
    node_free(b);
    return r;
}

int gsm_rtree_merge_before(struct gsm_rtree *after, struct gsm_rtree *before) {
    struct gsm_rnode *b = TAKE_PTR(before->root);
    after->have_uss = after->have_uss && before->have_uss;
    after->have_mappings = after->have_mappings || before->have_mappings;
    after->have_frames = after->have_frames || before->have_frames;
    gsm_rtree_free(before);
    if (!b)
        return 0;
    return merge_node(after->root, b);
}

/* ---- the size cap ------------------------------------------------------------------------ */

static uint64_t weight(const struct gsm_rnode *n) {
    uint64_t a = n->v[1][GSM_RM_RSS] + n->v[1][GSM_RM_SWAP], b = n->v[0][GSM_RM_RSS] + n->v[0][GSM_RM_SWAP];
    return a > b ? a : b;
}

static int cmp_weight_desc(const void *a, const void *b) {
    uint64_t x = weight(*(struct gsm_rnode *const *)a), y = weight(*(struct gsm_rnode *const *)b);
    if (x != y)
        return x < y ? 1 : -1;
    return strcmp((*(struct gsm_rnode *const *)a)->name, (*(struct gsm_rnode *const *)b)->name);
}

static size_t count_nodes(const struct gsm_rnode *n) {
    size_t c = 1;
    for (size_t i = 0; i < n->n_kids; i++)
        c += count_nodes(n->kids[i]);
    return c;
}

static void cap_node(struct gsm_rnode *n, size_t top, size_t *folded) {
    if (n->n_kids > 1)
        qsort(n->kids, n->n_kids, sizeof *n->kids, cmp_weight_desc);
    if (n->n_kids > top) {
        size_t keep = top - 1, k = n->n_kids - keep;
        char name[48];
        snprintf(name, sizeof name, "other (%zu)", k);
        struct gsm_rnode *o = node_new(name, GSM_RN_OTHER);
        if (o && (o->info = json_object_new_object())) {
            for (size_t i = keep; i < n->n_kids; i++) {
                struct gsm_rnode *x = n->kids[i];
                for (int s = 0; s < 2; s++) {
                    for (int m = 0; m < GSM_RM__COUNT; m++)
                        o->v[s][m] += x->v[s][m];
                    o->leaves[s] += x->leaves[s];
                }
                *folded += count_nodes(x);
                node_free(x);
            }
            info_add(o->info, "nodes", k);
            n->kids[keep] = o;
            n->n_kids = keep + 1;
        } else
            node_free(o);   /* out of memory: the page keeps every node, which is still right */
    }
    for (size_t i = 0; i < n->n_kids; i++)
        cap_node(n->kids[i], top, folded);
}

void gsm_rtree_cap(struct gsm_rtree *t, size_t top) {
    if (t->root)
        cap_node(t->root, top < 2 ? 2 : top, &t->folded_nodes);
}

/* ---- JSON for the page ------------------------------------------------------------------- */

static const char kind_letter[] = {
    [GSM_RN_CGROUP] = 'g', [GSM_RN_PROCESS] = 'p', [GSM_RN_CLASS] = 'c', [GSM_RN_MAPPING] = 'm',
    [GSM_RN_FRAME] = 'f', [GSM_RN_PART] = 'k', [GSM_RN_OTHER] = 'o',
};

static struct json_object *figures(const uint64_t v[GSM_RM__COUNT], uint64_t leaves) {
    struct json_object *a = json_object_new_array_ext(GSM_RM__COUNT + 1);
    for (int m = 0; a && m < GSM_RM__COUNT; m++)
        json_object_array_add(a, json_object_new_uint64(v[m]));
    if (a)
        json_object_array_add(a, json_object_new_uint64(leaves));
    return a;
}

static struct json_object *node_json(const struct gsm_rnode *n, bool diff) {
    struct json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    char k[2] = {kind_letter[n->kind], 0};
    json_object_object_add(o, "n", json_object_new_string(n->name));
    json_object_object_add(o, "k", json_object_new_string(k));
    json_object_object_add(o, "v", figures(n->v[GSM_RSNAP_AFTER], n->leaves[GSM_RSNAP_AFTER]));
    if (diff)
        json_object_object_add(o, "b", figures(n->v[GSM_RSNAP_BEFORE], n->leaves[GSM_RSNAP_BEFORE]));
    if (n->info && json_object_object_length(n->info) > 0)
        json_object_object_add(o, "i", json_object_get(n->info));
    if (n->n_kids) {
        struct json_object *c = json_object_new_array_ext((int)n->n_kids);
        for (size_t i = 0; c && i < n->n_kids; i++)
            json_object_array_add(c, node_json(n->kids[i], diff));
        json_object_object_add(o, "c", c);
    }
    return o;
}

struct json_object *gsm_rtree_to_json(const struct gsm_rtree *t, bool diff) {
    return t->root ? node_json(t->root, diff) : NULL;
}

void gsm_rtree_free(struct gsm_rtree *t) {
    node_free(t->root);
    t->root = NULL;
}
