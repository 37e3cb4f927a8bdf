/* `gsmapper report -o FILE.svg`: the flame graph alone, as one standalone SVG with its own
 * click-zoom and search (report_assets/report_svg.js inline), for pasting into a ticket. Drawn
 * from the same capped tree as the page (gsm_report_data), RSS widths; in a diff, coloured by
 * the change (red grew, blue shrank). Every name is XML-escaped and valid UTF-8. */
#include "renderers/report_html.h"

#include "renderers/report_assets.h"
#include "renderers/report_tree.h"
#include "util/text.h"
#include "util/units.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SVG_WIDTH 1200
#define SVG_PAD 10
#define ROW_PX 17
#define TOP_PX 40

static const struct {
    const char *cls, *rgb;
} hues[] = {
    {"go-heap", "#3aa58b"}, {"go-runtime", "#7fc4a8"}, {"thread-stack", "#e2a23b"}, {"main-stack", "#f0c05a"},
    {"native-heap", "#e0694f"}, {"anon-other", "#d9896e"}, {"binary", "#6f8fd6"}, {"shared-lib", "#93aee8"},
    {"file-mapped", "#a9b7cf"}, {"shmem", "#b08ad8"}, {"special", "#c9c9c9"}, {"hugetlb", "#c46fb0"},
    {"swap", "#8a8f99"},
};

static const char *class_rgb(const char *cls) {
    for (size_t i = 0; cls && i < sizeof hues / sizeof hues[0]; i++)
        if (strcmp(hues[i].cls, cls) == 0)
            return hues[i].rgb;
    return "#bbbbbb";
}

/* Text for XML: & < > " ' escaped, invalid UTF-8 repaired. */
static void xml_text(FILE *f, const char *s) {
    char *fixed = gsm_utf8_repair(s, strlen(s), NULL);
    for (const char *p = fixed ? fixed : "?"; *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default:
            if ((unsigned char)*p < 0x20)
                fputc(' ', f);   /* control characters are not XML 1.0 */
            else
                fputc(*p, f);
        }
    }
    free(fixed);
}

static uint64_t fig(struct json_object *n, const char *key, size_t i) {
    struct json_object *a = json_object_object_get(n, key);
    return a ? json_object_get_uint64(json_object_array_get_idx(a, i)) : 0;
}

static void fill_colour(struct json_object *n, const char *cls, bool diff, char *buf, size_t size) {
    const char *k = gsm_rjson_str(n, "k");
    if (diff) {
        double b = (double)fig(n, "b", 0), a = (double)fig(n, "v", 0), d = a - b, m = fmax(fmax(a, b), 1);
        double q = sqrt(fmin(1, fabs(d) / m)), light = 0.85 - 0.85 * q;
        int r = d > 0 ? 210 : d < 0 ? 47 : 230, g = d > 0 ? 60 : d < 0 ? 111 : 232, bl = d > 0 ? 42 : d < 0 ? 208 : 236;
        if (d != 0) {
            r += (int)((255 - r) * light);
            g += (int)((255 - g) * light);
            bl += (int)((255 - bl) * light);
        }
        snprintf(buf, size, "rgb(%d,%d,%d)", r, g, bl);
    } else if (k && (strcmp(k, "g") == 0 || strcmp(k, "p") == 0))
        snprintf(buf, size, "#c7d3e6");
    else if (k && strcmp(k, "o") == 0)
        snprintf(buf, size, "#dddddd");
    else if (k && strcmp(k, "k") == 0)
        snprintf(buf, size, "#9b7bc4");
    else
        snprintf(buf, size, "%s", class_rgb(cls));
}

struct layout {
    FILE *f;
    bool diff;
    uint64_t root_rss;
    int max_depth;
};

static void node_svg(struct layout *L, struct json_object *n, double x, double w, int depth, const char *cls) {
    const char *name = gsm_rjson_str(n, "n"), *k = gsm_rjson_str(n, "k");
    if (!name)
        return;
    if (k && strcmp(k, "c") == 0)
        cls = name;
    if (depth > L->max_depth)
        L->max_depth = depth;
    char colour[48], a[24], b[24], tip[160];
    fill_colour(n, cls, L->diff, colour, sizeof colour);
    uint64_t rss = fig(n, "v", 0);
    if (L->diff)
        snprintf(tip, sizeof tip, "RSS %s -> %s", gsm_fmt_bytes(fig(n, "b", 0), b, sizeof b), gsm_fmt_bytes(rss, a, sizeof a));
    else
        snprintf(tip, sizeof tip, "RSS %s (%.2f%%), PSS %s", gsm_fmt_bytes(rss, a, sizeof a),
                 L->root_rss ? 100.0 * rss / L->root_rss : 0.0, gsm_fmt_bytes(fig(n, "v", 1), b, sizeof b));
    fprintf(L->f, "<g class=\"n\" data-x=\"%.9f\" data-w=\"%.9f\" data-d=\"%d\" data-name=\"", x, w, depth);
    xml_text(L->f, name);
    fputs("\"><title>", L->f);
    xml_text(L->f, name);
    fprintf(L->f, " &#8212; %s</title><rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" fill=\"%s\"/>"
                  "<text x=\"%.2f\" y=\"%d\"></text></g>\n",
            tip, SVG_PAD + (SVG_WIDTH - 2 * SVG_PAD) * x, TOP_PX + depth * ROW_PX, (SVG_WIDTH - 2 * SVG_PAD) * w,
            ROW_PX - 1, colour, SVG_PAD + (SVG_WIDTH - 2 * SVG_PAD) * x + 3, TOP_PX + depth * ROW_PX + 12);
    struct json_object *kids = json_object_object_get(n, "c");
    size_t nk = json_object_is_type(kids, json_type_array) ? json_object_array_length(kids) : 0;
    double cx = x;
    for (size_t i = 0; rss && i < nk; i++) {
        struct json_object *c = json_object_array_get_idx(kids, i);
        double cw = w * (double)fig(c, "v", 0) / (double)rss;
        if (cw > 0)
            node_svg(L, c, cx, cw, depth + 1, cls);
        cx += cw;
    }
}

static void svg_head(FILE *f, int height, const char *title) {
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
               "<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
               "viewBox=\"0 0 %d %d\" data-width=\"%d\">\n"
               "<style>text{font-family:monospace;font-size:12px;fill:#111}g.n{cursor:pointer}"
               "g.n:hover rect{stroke:#222;stroke-width:0.6}g.m rect{fill:#e0309e}.btn{fill:#2557a7;cursor:pointer}"
               "#title{font-size:16px;font-family:sans-serif}</style>\n"
               "<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n<text id=\"title\" x=\"%d\" y=\"22\" "
               "text-anchor=\"middle\">",
            SVG_WIDTH, height, SVG_WIDTH, height, SVG_WIDTH, SVG_WIDTH / 2);
    xml_text(f, title);
    fprintf(f, "</text>\n<text id=\"unzoom\" class=\"btn\" x=\"%d\" y=\"22\">&#8592; reset zoom</text>\n"
               "<text id=\"search\" class=\"btn\" x=\"%d\" y=\"22\" text-anchor=\"end\">search</text>\n"
               "<text id=\"info\" x=\"%d\" y=\"%d\" text-anchor=\"end\"></text>\n<g id=\"frames\">\n",
            SVG_PAD, SVG_WIDTH - SVG_PAD, SVG_WIDTH - SVG_PAD, height - 6);
}

int gsm_report_svg(const struct gsm_report_input *after, const struct gsm_report_input *before,
                   const struct gsm_report_opts *o, char **ret_buf, size_t *ret_len, const char **why) {
    if (!after->explain) {
        *why = "an SVG is the flame graph: it needs an explain document";
        return -EINVAL;
    }
    struct json_object *data;
    int r = gsm_report_data(after, before, o, &data, why);
    if (r < 0)
        return r;
    struct json_object *tree = json_object_object_get(data, "tree");
    /* lay the nodes out once to learn the depth, then write head, nodes, script */
    char *body = NULL, *out = NULL;
    size_t body_len = 0, out_len = 0;
    FILE *bf = open_memstream(&body, &body_len);
    struct layout L = {.f = bf, .diff = before != NULL, .root_rss = fig(tree, "v", 0)};
    if (bf) {
        node_svg(&L, tree, 0, 1, 0, NULL);
        fclose(bf);
    }
    FILE *f = body ? open_memstream(&out, &out_len) : NULL;
    if (f) {
        svg_head(f, TOP_PX + (L.max_depth + 1) * ROW_PX + 24, gsm_rjson_str(data, "title"));
        fwrite(body, 1, body_len, f);
        fprintf(f, "</g>\n<script><![CDATA[\n%s]]></script>\n</svg>\n", gsm_report_asset_report_svg_js);
        fclose(f);
    }
    free(body);
    json_object_put(data);
    if (!out || strstr(gsm_report_asset_report_svg_js, "]]>")) {
        free(out);
        *why = out ? "the built-in SVG script contains ]]>" : "out of memory";
        return out ? -EINVAL : -ENOMEM;
    }
    *ret_buf = out;
    *ret_len = out_len;
    return 0;
}
