/* The reader half of store/history.h, for `gsmapper advise`: a target's rows (minute rows,
 * and hour rows from before the first minute row) and events. */
#include "store/history_internal.h"
#include "util/cleanup.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int gsm_history_list(struct gsm_history *h, char ***ret, size_t *ret_n) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h->db, "SELECT key FROM targets ORDER BY type, key", -1, &st, NULL) != SQLITE_OK)
        return -EIO;
    char **v = NULL;
    size_t n = 0, cap = 0;
    int r = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **p = realloc(v, cap * sizeof *p);
            if (!p) {
                r = -ENOMEM;
                break;
            }
            v = p;
        }
        if (!(v[n] = strdup((const char *)sqlite3_column_text(st, 0)))) {
            r = -ENOMEM;
            break;
        }
        n++;
    }
    sqlite3_finalize(st);
    if (r < 0) {
        for (size_t i = 0; i < n; i++)
            free(v[i]);
        free(v);
        return r;
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

static uint64_t col_u64(sqlite3_stmt *st, int i) {
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return UINT64_MAX;
    sqlite3_int64 v = sqlite3_column_int64(st, i);
    return v < 0 ? UINT64_MAX : (uint64_t)v;
}

static char *col_str(sqlite3_stmt *st, int i) {
    const unsigned char *s = sqlite3_column_text(st, i);
    return strdup(s ? (const char *)s : "");
}

static int load_rows(sqlite3 *db, int64_t id, struct gsm_hist_target *t) {
    /* Minute rows, and hour rows of the hours before the first minute row. */
    static const char sql[] =
        "SELECT res,t_ms,n,value_max,value_p50,value_p95,usage_max,usage_p50,usage_p95,ws_max,ws_p50,ws_p95,"
        "unrecl_max,unrecl_p50,unrecl_p95,gonh_max,gonh_p50,gonh_p95,limit_bytes,anon_bytes,file_bytes FROM samples"
        " WHERE target=?1 AND (res=60 OR t_ms + 3600000 <= coalesce((SELECT min(t_ms) FROM samples"
        " WHERE target=?1 AND res=60), 1e18)) ORDER BY t_ms, res";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -EIO;
    sqlite3_bind_int64(st, 1, id);
    size_t cap = 0;
    int r = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (t->n_rows == cap) {
            cap = cap ? cap * 2 : 256;
            struct gsm_hist_row *p = realloc(t->rows, cap * sizeof *p);
            if (!p) {
                r = -ENOMEM;
                break;
            }
            t->rows = p;
        }
        struct gsm_hist_row *row = &t->rows[t->n_rows++];
        int k = 0;
        row->res_s = (uint32_t)sqlite3_column_int(st, k++);
        row->t_ms = col_u64(st, k++);
        row->n = col_u64(st, k++);
        for (int s = 0; s < GSM_HS__COUNT; s++) {
            row->s[s].max_bytes = col_u64(st, k++);
            row->s[s].p50_bytes = col_u64(st, k++);
            row->s[s].p95_bytes = col_u64(st, k++);
        }
        row->limit_bytes = col_u64(st, k++);
        row->anon_bytes = col_u64(st, k++);
        row->file_bytes = col_u64(st, k++);
    }
    sqlite3_finalize(st);
    return r;
}

static int load_events(sqlite3 *db, int64_t id, struct gsm_hist_target *t) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT t_ms,kind,limit_bytes,peak_before_bytes FROM events WHERE target=? ORDER BY t_ms",
                           -1, &st, NULL) != SQLITE_OK)
        return -EIO;
    sqlite3_bind_int64(st, 1, id);
    size_t cap = 0;
    int r = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (t->n_events == cap) {
            cap = cap ? cap * 2 : 16;
            struct gsm_hist_event *p = realloc(t->events, cap * sizeof *p);
            if (!p) {
                r = -ENOMEM;
                break;
            }
            t->events = p;
        }
        struct gsm_hist_event *e = &t->events[t->n_events++];
        *e = (struct gsm_hist_event){.t_ms = col_u64(st, 0), .limit_bytes = col_u64(st, 2),
                                     .peak_before_bytes = col_u64(st, 3)};
        const unsigned char *k = sqlite3_column_text(st, 1);
        snprintf(e->kind, sizeof e->kind, "%s", k ? (const char *)k : "");
    }
    sqlite3_finalize(st);
    return r;
}

int gsm_history_load(struct gsm_history *h, const char *key, struct gsm_hist_target *ret) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h->db, "SELECT id,key,type,name,cgroup,pid FROM targets WHERE key=?", -1, &st, NULL) !=
        SQLITE_OK)
        return -EIO;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return -ENOENT;
    }
    int64_t id = sqlite3_column_int64(st, 0);
    struct gsm_hist_target t = {.key = col_str(st, 1), .type = col_str(st, 2), .name = col_str(st, 3),
                                .cgroup = sqlite3_column_type(st, 4) == SQLITE_NULL ? NULL : col_str(st, 4),
                                .pid = sqlite3_column_int64(st, 5)};
    sqlite3_finalize(st);
    int r = (!t.key || !t.type || !t.name) ? -ENOMEM : 0;
    if (r == 0)
        r = load_rows(h->db, id, &t);
    if (r == 0)
        r = load_events(h->db, id, &t);
    if (r < 0) {
        gsm_hist_target_free(&t);
        return r;
    }
    *ret = t;
    return 0;
}
