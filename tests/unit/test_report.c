/* gsmapper report: the tree's rules (sums, USS, Go frames, the cap, the diff merge), the heat
 * map's target and rows, and the page's escaping, on small hand-written documents whose figures
 * are worked out in the comments. */
#include "renderers/report_html.h"
#include "renderers/report_series.h"
#include "renderers/report_tree.h"
#include "test.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MiB (UINT64_C(1) << 20)

static struct json_object *parse(const char *s) {
    return json_tokener_parse(s);
}

/* A mapping object as explain writes it with --mappings. */
static struct json_object *mapping(const char *start, const char *path, const char *cls, uint64_t rss, uint64_t pss,
                                   uint64_t swap, uint64_t priv_clean, uint64_t priv_dirty) {
    char buf[1024];
    snprintf(buf, sizeof buf,
             "{\"start\":\"%s\",\"end\":\"ffffffff\",\"perms\":\"rw-p\",\"path\":%s%s%s,\"class\":\"%s\","
             "\"smaps\":{\"size_bytes\":%llu,\"rss_bytes\":%llu,\"pss_bytes\":%llu,\"swap_bytes\":%llu,"
             "\"private_clean_bytes\":%llu,\"private_dirty_bytes\":%llu}}",
             start, path ? "\"" : "", path ? path : "null", path ? "\"" : "", cls, (unsigned long long)(rss + swap),
             (unsigned long long)rss, (unsigned long long)pss, (unsigned long long)swap, (unsigned long long)priv_clean,
             (unsigned long long)priv_dirty);
    return parse(buf);
}

static struct json_object *process_doc(int pid) {
    char buf[256];
    snprintf(buf, sizeof buf, "{\"schema\":\"gsmapper.explain/v1\",\"taken_ms\":1,\"target\":{\"pid\":%d,\"name\":\"app\"},"
                              "\"mappings\":[]}", pid);
    return parse(buf);
}

static void add_mapping(struct json_object *doc, struct json_object *m) {
    json_object_array_add(json_object_object_get(doc, "mappings"), m);
}

static const struct gsm_rnode *kid(const struct gsm_rnode *n, const char *name) {
    for (size_t i = 0; n && i < n->n_kids; i++)
        if (strcmp(n->kids[i]->name, name) == 0)
            return n->kids[i];
    return NULL;
}

TEST(report_tree_sums_and_merges_paths) {
    struct json_object *doc = process_doc(7);
    add_mapping(doc, mapping("1000", "/usr/lib/libc.so.6", "shared-lib", 2 * MiB, MiB, 0, 2 * MiB, 0));
    add_mapping(doc, mapping("2000", "/usr/lib/libc.so.6", "shared-lib", MiB, MiB / 2, 0, 0, MiB));
    add_mapping(doc, mapping("3000", NULL, "anon-other", 5 * MiB, 5 * MiB, 3 * MiB, 0, 5 * MiB));
    add_mapping(doc, mapping("4000", NULL, "anon-other", 0, 0, 0, 0, 0));   /* a reservation: left out */
    struct gsm_rtree t;
    const char *why = NULL;
    CHECK(gsm_rtree_from_explain(doc, &t, &why) == 0);
    CHECK_STREQ(t.root->name, "app[7]");
    CHECK_EQ_U64(t.root->v[1][GSM_RM_RSS], 8 * MiB);
    CHECK_EQ_U64(t.root->v[1][GSM_RM_PSS], 6 * MiB + MiB / 2);
    CHECK_EQ_U64(t.root->v[1][GSM_RM_SWAP], 3 * MiB);
    CHECK_EQ_U64(t.root->v[1][GSM_RM_USS], 8 * MiB);   /* private clean + private dirty */
    const struct gsm_rnode *lib = kid(kid(t.root, "shared-lib"), "/usr/lib/libc.so.6");
    CHECK(lib != NULL);
    CHECK_EQ_U64(lib->v[1][GSM_RM_RSS], 3 * MiB);      /* two mappings of one path: one node */
    CHECK_EQ_U64(lib->leaves[1], 2);
    CHECK_EQ_U64(kid(t.root, "anon-other")->n_kids, 1);   /* the empty reservation is not drawn */
    CHECK(t.have_uss && t.have_mappings && !t.have_frames);
    gsm_rtree_free(&t);
    json_object_put(doc);
}

TEST(report_tree_rejects_other_schemas) {
    struct json_object *doc = parse("{\"schema\":\"gsmapper.sample/v1\"}");
    struct gsm_rtree t;
    const char *why = NULL;
    CHECK(gsm_rtree_from_explain(doc, &t, &why) == -EINVAL);
    CHECK(why != NULL);
    json_object_put(doc);
}

/* R = 100 MiB of go-heap RSS, the profile holds H = 60 MiB: two listed stacks of 30 and 20 MiB,
 * 10 MiB in stacks explain left out, 40 MiB not in the profile. */
TEST(report_go_frames_split_exactly) {
    struct json_object *doc = process_doc(9);
    add_mapping(doc, mapping("c000000000", NULL, "go-heap", 100 * MiB, 100 * MiB, 0, 0, 100 * MiB));
    json_object_object_add(doc, "go_runtime", parse(
        "{\"heap_profile\":{\"inuse_bytes\":62914560,\"top_stacks\":["
        "{\"inuse_bytes\":31457280,\"frames\":[\"main.alloc a.go:3\",\"main.main a.go:9\",\"runtime.main proc.go:250\"]},"
        "{\"inuse_bytes\":20971520,\"frames\":[\"main.other a.go:5\",\"main.main a.go:10\",\"runtime.main proc.go:250\"]}]}}"));
    struct gsm_rtree t;
    const char *why = NULL;
    CHECK(gsm_rtree_from_explain(doc, &t, &why) == 0);
    const struct gsm_rnode *m = kid(kid(t.root, "go-heap"), "anon@c000000000");
    CHECK(m != NULL && t.have_frames);
    const struct gsm_rnode *rt = kid(m, "runtime.main proc.go:250");
    CHECK(rt != NULL);
    CHECK_EQ_U64(kid(kid(rt, "main.main a.go:9"), "main.alloc a.go:3")->v[1][GSM_RM_RSS], 30 * MiB);
    CHECK_EQ_U64(kid(kid(rt, "main.main a.go:10"), "main.other a.go:5")->v[1][GSM_RM_RSS], 20 * MiB);
    CHECK_EQ_U64(kid(m, "(other stacks)")->v[1][GSM_RM_RSS], 10 * MiB);
    CHECK_EQ_U64(kid(m, "(heap not in profile)")->v[1][GSM_RM_RSS], 40 * MiB);
    uint64_t sum = 0;
    for (size_t i = 0; i < m->n_kids; i++)
        sum += m->kids[i]->v[1][GSM_RM_USS];
    CHECK_EQ_U64(sum, 100 * MiB);
    gsm_rtree_free(&t);
    json_object_put(doc);
}

/* H = 300 MiB > R = 100 MiB (a sampled estimate): stacks are scaled by R/H. */
TEST(report_go_frames_scaled_down) {
    struct json_object *doc = process_doc(9);
    add_mapping(doc, mapping("c000000000", NULL, "go-heap", 100 * MiB, 100 * MiB, 0, 0, 100 * MiB));
    json_object_object_add(doc, "go_runtime", parse(
        "{\"heap_profile\":{\"inuse_bytes\":314572800,\"top_stacks\":["
        "{\"inuse_bytes\":314572800,\"frames\":[\"main.alloc a.go:3\"]}]}}"));
    struct gsm_rtree t;
    const char *why = NULL;
    CHECK(gsm_rtree_from_explain(doc, &t, &why) == 0);
    const struct gsm_rnode *m = kid(kid(t.root, "go-heap"), "anon@c000000000");
    CHECK_EQ_U64(kid(m, "main.alloc a.go:3")->v[1][GSM_RM_RSS], 100 * MiB);
    CHECK(kid(m, "(heap not in profile)") == NULL || kid(m, "(heap not in profile)")->v[1][GSM_RM_RSS] == 0);
    gsm_rtree_free(&t);
    json_object_put(doc);
}

/* 10 mappings of 1..10 MiB, top 4: the 3 largest stay, "other (7)" holds 1+..+7 = 28 MiB. */
TEST(report_cap_folds_the_rest_exactly) {
    struct json_object *doc = process_doc(3);
    for (int i = 1; i <= 10; i++) {
        char start[16];
        snprintf(start, sizeof start, "%x000", i);
        add_mapping(doc, mapping(start, NULL, "anon-other", (uint64_t)i * MiB, (uint64_t)i * MiB, 0, 0, (uint64_t)i * MiB));
    }
    struct gsm_rtree t;
    const char *why = NULL;
    CHECK(gsm_rtree_from_explain(doc, &t, &why) == 0);
    gsm_rtree_cap(&t, 4);
    const struct gsm_rnode *c = kid(t.root, "anon-other");
    CHECK_EQ_U64(c->n_kids, 4);
    CHECK_EQ_U64(c->kids[0]->v[1][GSM_RM_RSS], 10 * MiB);
    const struct gsm_rnode *o = kid(c, "other (7)");
    CHECK(o != NULL && o->kind == GSM_RN_OTHER);
    CHECK_EQ_U64(o->v[1][GSM_RM_RSS], 28 * MiB);
    CHECK_EQ_U64(o->leaves[1], 7);
    CHECK_EQ_U64(t.folded_nodes, 7);
    CHECK_EQ_U64(c->v[1][GSM_RM_RSS], 55 * MiB);
    gsm_rtree_free(&t);
    json_object_put(doc);
}

/* before: libc 3 MiB + anon@a000 1 MiB; after (another PID): libc 4 MiB + anon@b000 2 MiB. */
TEST(report_diff_merges_by_name) {
    struct json_object *a = process_doc(10), *b = process_doc(11);
    add_mapping(a, mapping("1000", "/lib/libc.so", "shared-lib", 3 * MiB, 3 * MiB, 0, 0, 0));
    add_mapping(a, mapping("a000", NULL, "anon-other", MiB, MiB, 0, 0, MiB));
    add_mapping(b, mapping("1000", "/lib/libc.so", "shared-lib", 4 * MiB, 4 * MiB, 0, 0, 0));
    add_mapping(b, mapping("b000", NULL, "anon-other", 2 * MiB, 2 * MiB, 0, 0, 2 * MiB));
    struct gsm_rtree ta, tb;
    const char *why = NULL;
    CHECK(gsm_rtree_from_explain(a, &ta, &why) == 0);
    CHECK(gsm_rtree_from_explain(b, &tb, &why) == 0);
    CHECK(gsm_rtree_merge_before(&tb, &ta) == 0);
    CHECK_EQ_U64(tb.root->v[0][GSM_RM_RSS], 4 * MiB);   /* the roots match whatever their PIDs */
    CHECK_EQ_U64(tb.root->v[1][GSM_RM_RSS], 6 * MiB);
    const struct gsm_rnode *lib = kid(kid(tb.root, "shared-lib"), "/lib/libc.so");
    CHECK_EQ_U64(lib->v[0][GSM_RM_RSS], 3 * MiB);
    CHECK_EQ_U64(lib->v[1][GSM_RM_RSS], 4 * MiB);
    const struct gsm_rnode *gone = kid(kid(tb.root, "anon-other"), "anon@a000");
    CHECK(gone != NULL);
    CHECK_EQ_U64(gone->v[0][GSM_RM_RSS], MiB);
    CHECK_EQ_U64(gone->v[1][GSM_RM_RSS], 0);
    const struct gsm_rnode *added = kid(kid(tb.root, "anon-other"), "anon@b000");
    CHECK_EQ_U64(added->v[0][GSM_RM_RSS], 0);
    CHECK_EQ_U64(added->v[1][GSM_RM_RSS], 2 * MiB);
    gsm_rtree_free(&tb);
    json_object_put(a);
    json_object_put(b);
}

/* A cgroup document: PSS shared out over the classes by the process's PSS/RSS, exactly. */
TEST(report_cgroup_document) {
    struct json_object *doc = parse(
        "{\"schema\":\"gsmapper.explain/v1\",\"target\":{\"cgroup\":\"/a\"},\"cgroup\":{\"path\":\"/a\","
        "\"usage_bytes\":100,\"breakdown\":{\"parts\":[{\"name\":\"slab_unreclaimable\",\"bytes\":4096,\"kernel\":true},"
        "{\"name\":\"file_active\",\"bytes\":10000,\"kernel\":false}]},\"stat\":{\"file_mapped\":3000}},"
        "\"processes\":[{\"pid\":5,\"name\":\"w\",\"rss_bytes\":3000,\"pss_bytes\":1000,\"swap_bytes\":50,"
        "\"class_rss_bytes\":{\"go-heap\":2000,\"binary\":1000}}]}");
    struct gsm_rtree t;
    const char *why = NULL;
    CHECK(gsm_rtree_from_explain(doc, &t, &why) == 0);
    CHECK(t.root->kind == GSM_RN_CGROUP && !t.have_uss);
    const struct gsm_rnode *p = kid(t.root, "w[5]");
    CHECK_EQ_U64(p->v[1][GSM_RM_RSS], 3000);
    CHECK_EQ_U64(p->v[1][GSM_RM_PSS], 1000);
    CHECK_EQ_U64(p->v[1][GSM_RM_SWAP], 50);
    CHECK_EQ_U64(kid(kid(t.root, "kernel"), "slab_unreclaimable")->v[1][GSM_RM_RSS], 4096);
    CHECK_EQ_U64(kid(t.root, "page cache (not mapped)")->v[1][GSM_RM_RSS], 7000);
    gsm_rtree_free(&t);
    json_object_put(doc);
}

/* Two targets' samples: the event's target is drawn; a figure no sample has is no row. */
TEST(report_heat_picks_the_event_target) {
    char buf[4096] = "";
    for (int i = 0; i < 5; i++) {
        char line[400];
        snprintf(line, sizeof line,
                 "{\"schema\":\"gsmapper.sample/v1\",\"time_ms\":%d,\"target\":{\"type\":\"cgroup\",\"cgroup\":\"/b\"},"
                 "\"anon_bytes\":%d,\"go_heap_goal_bytes\":null}\n"
                 "{\"schema\":\"gsmapper.sample/v1\",\"time_ms\":%d,\"target\":{\"type\":\"cgroup\",\"cgroup\":\"/c\"},"
                 "\"anon_bytes\":7}\n",
                 1000 * (5 - i), 100 * (5 - i), 1000 * i);
        strcat(buf, line);
    }
    strcat(buf, "not json\n");
    struct json_object *ev = parse("{\"time_ms\":3500,\"target\":{\"type\":\"cgroup\",\"cgroup\":\"/b\"},"
                                   "\"level\":\"warn\",\"kind\":\"eta\",\"message\":\"m\"}");
    struct json_object *heat = NULL;
    size_t skipped = 0;
    CHECK(gsm_report_heat_json(buf, strlen(buf), ev, &heat, &skipped) == 0 && heat);
    CHECK_EQ_U64(skipped, 1);
    struct json_object *rows = json_object_object_get(heat, "rows");
    CHECK_EQ_U64(json_object_array_length(rows), 1);   /* anon only */
    struct json_object *v = json_object_object_get(json_object_array_get_idx(rows, 0), "v");
    CHECK_EQ_U64(json_object_array_length(v), 5);
    CHECK_EQ_U64(json_object_get_uint64(json_object_array_get_idx(v, 0)), 100);   /* sorted by time */
    CHECK_EQ_U64(json_object_get_uint64(json_object_array_get_idx(v, 4)), 500);
    json_object_put(heat);
    json_object_put(ev);
}

TEST(report_page_escapes_names) {
    struct json_object *doc = process_doc(1);
    json_object_object_add(json_object_object_get(doc, "target"), "name",
                           json_object_new_string("</script><!--<script>alert(1)</script>"));
    add_mapping(doc, mapping("1000", "/x</SCRIPT>", "anon-other", MiB, MiB, 0, 0, MiB));
    struct gsm_report_input in = {.explain = doc, .label = "<b>"};
    struct gsm_report_opts o = {.top = 40, .now_ms = 1};
    char *page = NULL;
    size_t len = 0;
    const char *why = NULL;
    CHECK(gsm_report_html(&in, NULL, &o, &page, &len, &why) == 0);
    CHECK(strlen(page) == len);
    size_t ends = 0;
    for (const char *p = page; (p = strcasestr(p, "</script")); p++)
        ends++;
    CHECK_EQ_U64(ends, 2);   /* the data's element and the code's, nothing from the names */
    CHECK(strstr(page, "<!--") == NULL);
    CHECK(strstr(page, "<title>Memory of &lt;/script&gt;") != NULL);
    CHECK(strstr(page, "default-src 'none'") != NULL);
    free(page);
    json_object_put(doc);
}

/* A cgroup document with the process document of one of its two processes: that one reaches its
 * mappings, the other stops at its classes; USS is known only when every process has a document. */
TEST(report_cgroup_with_process_details) {
    struct json_object *doc = parse(
        "{\"schema\":\"gsmapper.explain/v1\",\"target\":{\"cgroup\":\"/a\"},\"cgroup\":{\"path\":\"/a\"},"
        "\"processes\":[{\"pid\":5,\"name\":\"w\",\"rss_bytes\":3000,\"pss_bytes\":3000,\"class_rss_bytes\":{\"anon-other\":3000}},"
        "{\"pid\":6,\"name\":\"v\",\"rss_bytes\":100,\"pss_bytes\":100,\"class_rss_bytes\":{\"binary\":100}}]}");
    struct json_object *p5 = process_doc(5);
    add_mapping(p5, mapping("7000", NULL, "anon-other", 2 * MiB, 2 * MiB, 0, 0, 2 * MiB));
    struct gsm_rtree t;
    const char *why = NULL;
    CHECK(gsm_rtree_from_explain_detailed(doc, &p5, 1, &t, &why) == 0);
    const struct gsm_rnode *w = kid(t.root, "w[5]");
    CHECK_EQ_U64(w->v[1][GSM_RM_RSS], 2 * MiB);   /* from its own document */
    CHECK(kid(kid(w, "anon-other"), "anon@7000") != NULL);
    CHECK_EQ_U64(kid(t.root, "v[6]")->v[1][GSM_RM_RSS], 100);
    CHECK_EQ_U64(t.root->v[1][GSM_RM_RSS], 2 * MiB + 100);
    CHECK(t.have_mappings && !t.have_uss);
    gsm_rtree_free(&t);
    json_object_put(doc);
    json_object_put(p5);
}
