/* The writer half of store/history.h: per-target accumulators of the current minute and hour
 * in memory, written by gsm_history_flush() in one transaction (rows upserted, so the current
 * minute and hour are rewritten at each flush until they close). */
#include "store/history_internal.h"
#include "util/cleanup.h"
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MINUTE_MS 60000ULL
#define HOUR_MS 3600000ULL
#define MAX_PER_MINUTE 4096          /* samples kept per minute (0.1 s ticks: 600) */
#define FORGET_AFTER_MS (3 * MINUTE_MS)

struct hist_acc {
    char *key, *name, *cgroup;
    enum gsm_watch_target_type type;
    int64_t pid;
    int64_t db_id;                   /* 0 until written */
    uint64_t minute_ms, hour_ms, last_seen_ms;
    uint64_t *vals[GSM_HS__COUNT];   /* this minute's samples per series */
    size_t n;
    uint64_t limit_bytes, anon_bytes, file_bytes, ws_best;
    struct gsm_hist_row minutes[60]; /* closed minutes of this hour (summaries) */
    size_t n_minutes;
    struct gsm_hist_row *done;       /* closed rows (minute or hour) not yet written */
    size_t n_done, cap_done;
};

void gsm_history_opts_default(struct gsm_history_opts *o) {
    *o = (struct gsm_history_opts){.flush_ms = MINUTE_MS, .retention_ms = 8 * 24 * HOUR_MS,
                                   .minute_retention_ms = 48 * HOUR_MS, .max_bytes = 256ULL << 20};
}

int gsm_history_exec(sqlite3 *db, const char *sql, char *err, size_t err_len) {
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        if (err)
            snprintf(err, err_len, "%s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -EIO;
    }
    return 0;
}

static const char schema[] =
    "PRAGMA auto_vacuum=INCREMENTAL;"
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "PRAGMA journal_size_limit=4194304;"
    /* statement journals and sorts in memory, not /var/tmp: the sandbox (docs/sandbox.md) lets
     * us write only beside the database (itself, -wal, -shm) */
    "PRAGMA temp_store=MEMORY;"
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);"
    "INSERT OR IGNORE INTO meta VALUES('schema','gsmapper.history/v1');"
    "CREATE TABLE IF NOT EXISTS targets(id INTEGER PRIMARY KEY, key TEXT UNIQUE NOT NULL, type TEXT NOT NULL,"
    " name TEXT, cgroup TEXT, pid INTEGER, first_ms INTEGER, last_ms INTEGER);"
    "CREATE TABLE IF NOT EXISTS samples(target INTEGER NOT NULL, res INTEGER NOT NULL, t_ms INTEGER NOT NULL,"
    " n INTEGER NOT NULL,"
    " value_max INTEGER, value_p50 INTEGER, value_p95 INTEGER, usage_max INTEGER, usage_p50 INTEGER, usage_p95 INTEGER,"
    " ws_max INTEGER, ws_p50 INTEGER, ws_p95 INTEGER, unrecl_max INTEGER, unrecl_p50 INTEGER, unrecl_p95 INTEGER,"
    " gonh_max INTEGER, gonh_p50 INTEGER, gonh_p95 INTEGER,"
    " limit_bytes INTEGER, anon_bytes INTEGER, file_bytes INTEGER,"
    " PRIMARY KEY(target, res, t_ms)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS events(id INTEGER PRIMARY KEY, target INTEGER NOT NULL, t_ms INTEGER NOT NULL,"
    " kind TEXT NOT NULL, limit_bytes INTEGER, peak_before_bytes INTEGER);"
    "CREATE INDEX IF NOT EXISTS events_target ON events(target, t_ms);";

/* O_NOFOLLOW and O_CREAT with mode 0600 first (SQLite would follow a symlink and create with
 * 0644), then SQLite opens the same path with SQLITE_OPEN_NOFOLLOW. */
static int create_file(const char *path, char *err, size_t err_len) {
    _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
    if (fd < 0) {
        int e = errno;
        snprintf(err, err_len, "%s: %s", path, e == ELOOP ? "is a symlink (refused)" : strerror(e));
        return -e;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, err_len, "%s: not a regular file", path);
        return -EINVAL;
    }
    return 0;
}

static int open_db(const char *path, bool ro, struct gsm_history **ret, char *err, size_t err_len) {
    sqlite3 *db = NULL;
    int flags = (ro ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOFOLLOW;
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
        snprintf(err, err_len, "%s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
        sqlite3_close(db);
        return -EIO;
    }
    sqlite3_busy_timeout(db, 2000);
    struct gsm_history *h = calloc(1, sizeof *h);
    if (!h) {
        sqlite3_close(db);
        return -ENOMEM;
    }
    h->db = db;
    h->ro = ro;
    *ret = h;
    return 0;
}

int gsm_history_open(const char *path, const struct gsm_history_opts *o, struct gsm_history **ret, char *err,
                     size_t err_len) {
    int r = create_file(path, err, err_len);
    if (r < 0)
        return r;
    struct gsm_history *h = NULL;
    if ((r = open_db(path, false, &h, err, err_len)) < 0)
        return r;
    h->o = *o;
    char e[256] = "";
    if (gsm_history_exec(h->db, schema, e, sizeof e) < 0) {
        snprintf(err, err_len, "%s: %s", path, e);
        gsm_history_close(h);
        return -EIO;
    }
    *ret = h;
    return 0;
}

int gsm_history_open_ro(const char *path, struct gsm_history **ret, char *err, size_t err_len) {
    struct stat st;
    if (lstat(path, &st) < 0) {
        int e = errno;
        snprintf(err, err_len, "%s: %s", path, strerror(e));
        return -e;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, err_len, "%s: not a regular file", path);
        return -EINVAL;
    }
    return open_db(path, true, ret, err, err_len);
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of v[0..n) (sorts v). */
static uint64_t pct(uint64_t *v, size_t n, double p) {
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, cmp_u64);
    size_t k = (size_t)(p * (double)n + 0.999999);
    return v[k == 0 ? 0 : (k > n ? n - 1 : k - 1)];
}

/* The current minute's summary (vals are sorted in place, which is harmless). */
static void minute_summary(struct hist_acc *a, struct gsm_hist_row *r) {
    *r = (struct gsm_hist_row){.t_ms = a->minute_ms, .res_s = 60, .n = a->n, .limit_bytes = a->limit_bytes,
                               .anon_bytes = a->anon_bytes, .file_bytes = a->file_bytes};
    for (int s = 0; s < GSM_HS__COUNT; s++) {
        r->s[s].p50_bytes = pct(a->vals[s], a->n, 0.50);
        r->s[s].p95_bytes = pct(a->vals[s], a->n, 0.95);
        r->s[s].max_bytes = a->n ? a->vals[s][a->n - 1] : 0;
    }
}

/* An hour from its minute summaries: max of the maxima; p50 the median of the minutes' p50,
 * p95 the p95 of the minutes' p95 (an upper estimate; docs/advise.md). */
static void hour_summary(const struct gsm_hist_row *m, size_t n, uint64_t hour_ms, struct gsm_hist_row *r) {
    *r = (struct gsm_hist_row){.t_ms = hour_ms, .res_s = 3600};
    uint64_t tmp[61];
    for (int s = 0; s < GSM_HS__COUNT; s++) {
        for (size_t i = 0; i < n; i++) {
            tmp[i] = m[i].s[s].p50_bytes;
            if (m[i].s[s].max_bytes > r->s[s].max_bytes)
                r->s[s].max_bytes = m[i].s[s].max_bytes;
        }
        r->s[s].p50_bytes = pct(tmp, n, 0.50);
        for (size_t i = 0; i < n; i++)
            tmp[i] = m[i].s[s].p95_bytes;
        r->s[s].p95_bytes = pct(tmp, n, 0.95);
    }
    for (size_t i = 0; i < n; i++) {
        r->n += m[i].n;
        if (m[i].s[GSM_HS_WS].max_bytes >= r->s[GSM_HS_WS].max_bytes) {
            r->anon_bytes = m[i].anon_bytes;
            r->file_bytes = m[i].file_bytes;
        }
        r->limit_bytes = m[i].limit_bytes;
    }
}

static int push_done(struct hist_acc *a, const struct gsm_hist_row *r) {
    if (a->n_done == a->cap_done) {
        size_t cap = a->cap_done ? a->cap_done * 2 : 4;
        struct gsm_hist_row *p = realloc(a->done, cap * sizeof *p);
        if (!p)
            return -ENOMEM;
        a->done = p;
        a->cap_done = cap;
    }
    a->done[a->n_done++] = *r;
    return 0;
}

/* Closes the current minute (and the hour when it changes) before a sample of a later one. */
static void roll(struct hist_acc *a, uint64_t minute_ms) {
    if (a->n > 0) {
        struct gsm_hist_row r;
        minute_summary(a, &r);
        push_done(a, &r);
        if (a->n_minutes < 60)
            a->minutes[a->n_minutes++] = r;
    }
    a->n = 0;
    a->ws_best = 0;
    uint64_t hour_ms = minute_ms - minute_ms % HOUR_MS;
    if (hour_ms != a->hour_ms) {
        if (a->n_minutes > 0) {
            struct gsm_hist_row hr;
            hour_summary(a->minutes, a->n_minutes, a->hour_ms, &hr);
            push_done(a, &hr);
        }
        a->n_minutes = 0;
        a->hour_ms = hour_ms;
    }
    a->minute_ms = minute_ms;
}

/* The target's key into buf when it fits, else into a new allocation (*heap, freed by the
 * caller); NULL when out of memory. */
static const char *ref_key(const struct gsm_target_ref *ref, char *buf, size_t len, char **heap) {
    /* a cgroup's name may be shortened for display: its path is the cgroup field */
    const char *cg = ref->cgroup ? ref->cgroup : ref->name ? ref->name : "";
    int n = ref->type == GSM_WT_CGROUP
                ? snprintf(buf, len, "cgroup:%s", cg)
                : snprintf(buf, len, "process:%d:%llu", (int)ref->pid, (unsigned long long)ref->starttime);
    if (n >= 0 && (size_t)n < len)
        return buf;
    *heap = NULL;
    if (asprintf(heap, "cgroup:%s", cg) < 0) {
        *heap = NULL;
        return NULL;
    }
    return *heap;
}

static void acc_free(struct hist_acc *a) {
    if (!a)
        return;
    free(a->key);
    free(a->name);
    free(a->cgroup);
    for (int s = 0; s < GSM_HS__COUNT; s++)
        free(a->vals[s]);
    free(a->done);
    free(a);
}

static char *ref_key_dup(const struct gsm_target_ref *ref) {
    char buf[256], *heap = NULL;
    const char *k = ref_key(ref, buf, sizeof buf, &heap);
    return heap ? heap : k ? strdup(k) : NULL;
}

/* The accumulator of a target, found through the key index (one hash lookup per sample, not
 * a search of every target: with --all that was quadratic), created on first sight. */
static struct hist_acc *acc_get(struct gsm_history *h, const struct gsm_target_ref *ref) {
    char buf[256];
    _cleanup_free_ char *heap = NULL;
    const char *key = ref_key(ref, buf, sizeof buf, &heap);
    if (!key)
        return NULL;
    struct hist_acc *found = gsm_strmap_get(&h->acc_index, key);
    if (found)
        return found;
    if (h->n_accs == h->cap_accs) {
        size_t cap = h->cap_accs ? h->cap_accs * 2 : 16;
        struct hist_acc **p = realloc(h->accs, cap * sizeof *p);
        if (!p)
            return NULL;
        h->accs = p;
        h->cap_accs = cap;
    }
    struct hist_acc *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->key = heap ? TAKE_PTR(heap) : strdup(key);
    a->name = strdup(ref->type == GSM_WT_CGROUP && ref->cgroup ? ref->cgroup : ref->name ? ref->name : "");
    a->cgroup = ref->cgroup ? strdup(ref->cgroup) : NULL;
    a->type = ref->type;
    a->pid = ref->pid;
    bool ok = a->name != NULL && a->key != NULL;
    for (int s = 0; s < GSM_HS__COUNT && ok; s++)
        ok = (a->vals[s] = malloc(MAX_PER_MINUTE * sizeof(uint64_t))) != NULL;
    if (!ok) {
        acc_free(a);
        return NULL;
    }
    if (gsm_strmap_put(&h->acc_index, a->key, a) < 0) {
        acc_free(a);
        return NULL;
    }
    h->accs[h->n_accs++] = a;
    return a;
}

void gsm_history_add_sample(struct gsm_history *h, const struct gsm_target_ref *ref, const struct gsm_watch_sample *s,
                            uint64_t go_nonheap_bytes) {
    if (!h || h->ro)
        return;
    struct hist_acc *a = acc_get(h, ref);
    if (!a)
        return;
    uint64_t minute_ms = s->t_ms - s->t_ms % MINUTE_MS;
    if (minute_ms != a->minute_ms)
        roll(a, minute_ms);
    a->last_seen_ms = s->t_ms;
    if (a->n == MAX_PER_MINUTE)
        return;
    const uint64_t v[GSM_HS__COUNT] = {s->value_bytes, s->usage_bytes, s->working_set_bytes, s->unreclaimable_bytes,
                                       go_nonheap_bytes};
    for (int i = 0; i < GSM_HS__COUNT; i++)
        a->vals[i][a->n] = v[i];
    a->n++;
    a->limit_bytes = s->limit_is_node ? UINT64_MAX : s->limit_bytes;
    if (s->working_set_bytes >= a->ws_best) {
        a->ws_best = s->working_set_bytes;
        a->anon_bytes = s->anon_bytes;
        a->file_bytes = s->file_bytes;
    }
}

void gsm_history_add_event(struct gsm_history *h, const struct gsm_target_ref *ref, uint64_t t_ms, const char *kind,
                           uint64_t limit_bytes, uint64_t peak_before_bytes) {
    if (!h || h->ro)
        return;
    if (h->n_events == h->cap_events) {
        size_t cap = h->cap_events ? h->cap_events * 2 : 8;
        struct pending_event *p = realloc(h->events, cap * sizeof *p);
        if (!p)
            return;
        h->events = p;
        h->cap_events = cap;
    }
    struct pending_event *e = &h->events[h->n_events];
    *e = (struct pending_event){.key = ref_key_dup(ref), .ref_copy = *ref, .name = strdup(ref->type == GSM_WT_CGROUP && ref->cgroup ? ref->cgroup : ref->name ? ref->name : ""),
                                .cgroup = ref->cgroup ? strdup(ref->cgroup) : NULL, .t_ms = t_ms,
                                .limit_bytes = limit_bytes, .peak_before_bytes = peak_before_bytes};
    e->ref_copy.name = e->ref_copy.cgroup = NULL;
    snprintf(e->kind, sizeof e->kind, "%s", kind);
    if (!e->key || !e->name) {
        free(e->key);
        free(e->name);
        free(e->cgroup);
        return;
    }
    h->n_events++;
}

static sqlite3_int64 db_u64(uint64_t v) { return v >= (uint64_t)INT64_MAX ? -1 : (sqlite3_int64)v; }

static int step_done(sqlite3 *db, sqlite3_stmt *st) {
    int r = sqlite3_step(st);
    sqlite3_reset(st);
    if (r != SQLITE_DONE && r != SQLITE_ROW) {
        gsm_debug("history: %s", sqlite3_errmsg(db));
        return -EIO;
    }
    return 0;
}

/* The target's row id, inserting it (or updating its last_ms) first. */
static int target_id(sqlite3 *db, const char *key, enum gsm_watch_target_type type, const char *name,
                     const char *cgroup, int64_t pid, uint64_t t_ms, int64_t *ret) {
    static const char sql[] =
        "INSERT INTO targets(key,type,name,cgroup,pid,first_ms,last_ms) VALUES(?1,?2,?3,?4,?5,?6,?6)"
        " ON CONFLICT(key) DO UPDATE SET last_ms=max(last_ms,excluded.last_ms) RETURNING id";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -EIO;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, type == GSM_WT_CGROUP ? "cgroup" : "process", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
    if (cgroup)
        sqlite3_bind_text(st, 4, cgroup, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, pid);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)t_ms);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW)
        *ret = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return r == SQLITE_ROW ? 0 : -EIO;
}

/* Upsert: a row rewritten by the same writer (the open minute/hour) replaces itself; a row two
 * writers share (a restart within a minute) keeps the larger maxima and the percentiles of the
 * side with more samples. */
static const char row_sql[] =
    "INSERT INTO samples VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22)"
    " ON CONFLICT(target,res,t_ms) DO UPDATE SET"
    " value_max=max(value_max,excluded.value_max), usage_max=max(usage_max,excluded.usage_max),"
    " ws_max=max(ws_max,excluded.ws_max), unrecl_max=max(unrecl_max,excluded.unrecl_max),"
    " gonh_max=max(gonh_max,excluded.gonh_max),"
    " value_p50=iif(excluded.n>=n,excluded.value_p50,value_p50), value_p95=iif(excluded.n>=n,excluded.value_p95,value_p95),"
    " usage_p50=iif(excluded.n>=n,excluded.usage_p50,usage_p50), usage_p95=iif(excluded.n>=n,excluded.usage_p95,usage_p95),"
    " ws_p50=iif(excluded.n>=n,excluded.ws_p50,ws_p50), ws_p95=iif(excluded.n>=n,excluded.ws_p95,ws_p95),"
    " unrecl_p50=iif(excluded.n>=n,excluded.unrecl_p50,unrecl_p50), unrecl_p95=iif(excluded.n>=n,excluded.unrecl_p95,unrecl_p95),"
    " gonh_p50=iif(excluded.n>=n,excluded.gonh_p50,gonh_p50), gonh_p95=iif(excluded.n>=n,excluded.gonh_p95,gonh_p95),"
    " limit_bytes=excluded.limit_bytes,"
    " anon_bytes=iif(excluded.ws_max>=ws_max,excluded.anon_bytes,anon_bytes),"
    " file_bytes=iif(excluded.ws_max>=ws_max,excluded.file_bytes,file_bytes),"
    " n=max(n,excluded.n)";

static int write_row(sqlite3 *db, sqlite3_stmt *st, int64_t id, const struct gsm_hist_row *r) {
    int k = 1;
    sqlite3_bind_int64(st, k++, id);
    sqlite3_bind_int64(st, k++, r->res_s);
    sqlite3_bind_int64(st, k++, (sqlite3_int64)r->t_ms);
    sqlite3_bind_int64(st, k++, (sqlite3_int64)r->n);
    for (int s = 0; s < GSM_HS__COUNT; s++) {
        sqlite3_bind_int64(st, k++, db_u64(r->s[s].max_bytes));
        sqlite3_bind_int64(st, k++, db_u64(r->s[s].p50_bytes));
        sqlite3_bind_int64(st, k++, db_u64(r->s[s].p95_bytes));
    }
    if (r->limit_bytes == UINT64_MAX)
        sqlite3_bind_null(st, k++);
    else
        sqlite3_bind_int64(st, k++, db_u64(r->limit_bytes));
    sqlite3_bind_int64(st, k++, db_u64(r->anon_bytes));
    sqlite3_bind_int64(st, k++, db_u64(r->file_bytes));
    return step_done(db, st);
}

static int write_acc(sqlite3 *db, sqlite3_stmt *st, struct hist_acc *a) {
    if (a->db_id == 0 &&
        target_id(db, a->key, a->type, a->name, a->cgroup, a->pid, a->last_seen_ms, &a->db_id) < 0)
        return -EIO;
    for (size_t i = 0; i < a->n_done; i++)
        if (write_row(db, st, a->db_id, &a->done[i]) < 0)
            return -EIO;
    if (a->n == 0)
        return 0;
    /* The open minute, and the open hour with it. */
    struct gsm_hist_row m, hr;
    minute_summary(a, &m);
    if (write_row(db, st, a->db_id, &m) < 0)
        return -EIO;
    struct gsm_hist_row ms[61];
    memcpy(ms, a->minutes, a->n_minutes * sizeof ms[0]);
    ms[a->n_minutes] = m;
    hour_summary(ms, a->n_minutes + 1, a->hour_ms, &hr);
    return write_row(db, st, a->db_id, &hr);
}

static int write_events(struct gsm_history *h) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h->db, "INSERT INTO events(target,t_ms,kind,limit_bytes,peak_before_bytes) VALUES(?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return -EIO;
    int r = 0;
    for (size_t i = 0; i < h->n_events && r == 0; i++) {
        struct pending_event *e = &h->events[i];
        int64_t id;
        if ((r = target_id(h->db, e->key, e->ref_copy.type, e->name, e->cgroup, e->ref_copy.pid, e->t_ms, &id)) < 0)
            break;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)e->t_ms);
        sqlite3_bind_text(st, 3, e->kind, -1, SQLITE_STATIC);
        if (e->limit_bytes == UINT64_MAX)
            sqlite3_bind_null(st, 4);
        else
            sqlite3_bind_int64(st, 4, db_u64(e->limit_bytes));
        sqlite3_bind_int64(st, 5, db_u64(e->peak_before_bytes));
        r = step_done(h->db, st);
    }
    sqlite3_finalize(st);
    return r;
}

static uint64_t db_bytes(sqlite3 *db) {
    sqlite3_stmt *st = NULL;
    uint64_t v = 0;
    if (sqlite3_prepare_v2(db, "SELECT (page_count - freelist_count) * page_size FROM pragma_page_count, "
                               "pragma_freelist_count, pragma_page_size", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Retention by age, then the size cap: the oldest tenth of the minute rows (then of the hour
 * rows) go until the used pages fit; freed pages are returned with incremental_vacuum. */
static void apply_limits(struct gsm_history *h, uint64_t now_ms) {
    char sql[512];
    uint64_t keep_min = h->o.minute_retention_ms < h->o.retention_ms ? h->o.minute_retention_ms : h->o.retention_ms;
    snprintf(sql, sizeof sql,
             "DELETE FROM samples WHERE res=60 AND t_ms<%llu; DELETE FROM samples WHERE t_ms<%llu;"
             "DELETE FROM events WHERE t_ms<%llu;"
             "DELETE FROM targets WHERE last_ms<%llu AND id NOT IN (SELECT target FROM samples)"
             " AND id NOT IN (SELECT target FROM events);",
             (unsigned long long)(now_ms > keep_min ? now_ms - keep_min : 0),
             (unsigned long long)(now_ms > h->o.retention_ms ? now_ms - h->o.retention_ms : 0),
             (unsigned long long)(now_ms > h->o.retention_ms ? now_ms - h->o.retention_ms : 0),
             (unsigned long long)(now_ms > h->o.retention_ms ? now_ms - h->o.retention_ms : 0));
    gsm_history_exec(h->db, sql, NULL, 0);
    for (int round = 0; round < 20 && h->o.max_bytes && db_bytes(h->db) > h->o.max_bytes; round++) {
        gsm_history_exec(h->db,
                         "DELETE FROM samples WHERE (res,t_ms) IN (SELECT res,t_ms FROM samples"
                         " ORDER BY res, t_ms LIMIT max(1,(SELECT count(*)/10 FROM samples)));"
                         "DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY t_ms"
                         " LIMIT (SELECT count(*)/10 FROM events));",
                         NULL, 0);
    }
    gsm_history_exec(h->db, "PRAGMA incremental_vacuum;", NULL, 0);
}

/* Drops accumulators of targets not seen for a while (their rows are written); the index is
 * rebuilt from the survivors (no allocation: the table only shrinks in use). */
static void forget_stale(struct gsm_history *h, uint64_t now_ms) {
    size_t k = 0;
    for (size_t i = 0; i < h->n_accs; i++) {
        struct hist_acc *a = h->accs[i];
        if (now_ms > a->last_seen_ms + FORGET_AFTER_MS)
            acc_free(a);
        else
            h->accs[k++] = a;
    }
    if (k == h->n_accs)
        return;
    h->n_accs = k;
    gsm_strmap_clear(&h->acc_index);
    for (size_t i = 0; i < k; i++)
        gsm_strmap_put(&h->acc_index, h->accs[i]->key, h->accs[i]);
}

int gsm_history_flush(struct gsm_history *h, uint64_t now_ms, bool force) {
    if (!h || h->ro)
        return 0;
    if (!force && now_ms < h->last_flush_ms + h->o.flush_ms)
        return 0;
    if (now_ms == 0)
        for (size_t i = 0; i < h->n_accs; i++)
            if (h->accs[i]->last_seen_ms > now_ms)
                now_ms = h->accs[i]->last_seen_ms;
    h->last_flush_ms = now_ms;
    if (gsm_history_exec(h->db, "BEGIN IMMEDIATE", NULL, 0) < 0)
        return -EBUSY;
    sqlite3_stmt *st = NULL;
    int r = sqlite3_prepare_v2(h->db, row_sql, -1, &st, NULL) == SQLITE_OK ? 0 : -EIO;
    for (size_t i = 0; i < h->n_accs && r == 0; i++)
        r = write_acc(h->db, st, h->accs[i]);
    sqlite3_finalize(st);
    if (r == 0)
        r = write_events(h);
    if (r == 0) {
        apply_limits(h, now_ms);
        r = gsm_history_exec(h->db, "COMMIT", NULL, 0);
    }
    if (r < 0) {
        gsm_warn("history: write failed: %s", sqlite3_errmsg(h->db));
        gsm_history_exec(h->db, "ROLLBACK", NULL, 0);
    }
    /* Written or not, the closed rows and events are not retried (bounded memory). */
    for (size_t i = 0; i < h->n_accs; i++)
        h->accs[i]->n_done = 0;
    for (size_t i = 0; i < h->n_events; i++) {
        free(h->events[i].key);
        free(h->events[i].name);
        free(h->events[i].cgroup);
    }
    h->n_events = 0;
    forget_stale(h, now_ms);
    return r;
}

void gsm_history_close(struct gsm_history *h) {
    if (!h)
        return;
    if (!h->ro)
        gsm_history_flush(h, 0, true);
    for (size_t i = 0; i < h->n_accs; i++)
        acc_free(h->accs[i]);
    free(h->accs);
    gsm_strmap_free(&h->acc_index);
    for (size_t i = 0; i < h->n_events; i++) {
        free(h->events[i].key);
        free(h->events[i].name);
        free(h->events[i].cgroup);
    }
    free(h->events);
    sqlite3_close(h->db);
    free(h);
}
