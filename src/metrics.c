/*
 * metrics.c - what the sections of metrics.md share (see iop/metrics.h):
 * rows and their setters, dimensions, statements with $GROUP, tables kept
 * per connection, and month segments. metrics_run.c runs the sections.
 */
#include "iop/metrics.h"

#include "iop/date.h"
#include "iop/stats.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void iop_rows_init(iop_rows *r)
{
    memset(r, 0, sizeof *r);
}

void iop_rows_release(iop_rows *r)
{
    free(r->v);
    memset(r, 0, sizeof *r);
}

uint64_t iop_hash_bytes(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a, 64 bits */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211u;
    return h;
}

/* A group's name as a row's label: whole when it fits; else its first
 * bytes (cut between UTF-8 characters), "…" and " #" with 8 hex digits
 * of a hash of the whole name, so that two long names with one beginning
 * stay apart (they printed alike, cut at 127 bytes). */
static void group_label(char *out, size_t size, const char *name)
{
    size_t len = strlen(name);
    if (len < size) {
        memcpy(out, name, len + 1);
        return;
    }
    char tail[24];
    int nt = snprintf(tail, sizeof tail, "\u2026 #%08x",
                      (unsigned)(iop_hash_bytes(name, len) & 0xffffffffu));
    size_t keep = size - 1 - (size_t)nt;
    while (keep > 0 && ((unsigned char)name[keep] & 0xC0) == 0x80)
        keep--;
    memcpy(out, name, keep);
    memcpy(out + keep, tail, (size_t)nt + 1);
}

iop_row *iop_rows_add(iop_rows *r, const iop_mctx *c, const char *metric,
                      const char *group)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 256;
        iop_row *v = realloc(r->v, cap * sizeof *v);
        if (!v)
            return NULL;
        r->v = v;
        r->cap = cap;
    }
    iop_row *row = &r->v[r->n++];
    memset(row, 0, sizeof *row);
    row->metric = metric;
    snprintf(row->dimension, sizeof row->dimension, "%s", group && c->by ? c->by : "all");
    group_label(row->group, sizeof row->group, group ? group : "all");
    return row;
}

void iop_row_est(iop_row *row, double estimate)
{
    row->estimate = estimate;
    row->has |= IOP_HAS_EST;
}

void iop_row_ci(iop_row *row, double lower, double upper)
{
    iop_row_lower(row, lower);
    iop_row_upper(row, upper);
}

void iop_row_lower(iop_row *row, double lower)
{
    row->lower = lower;
    row->has |= IOP_HAS_LOWER;
}

void iop_row_upper(iop_row *row, double upper)
{
    row->upper = upper;
    row->has |= IOP_HAS_UPPER;
}

void iop_row_test(iop_row *row, double statistic, double df, double p_value)
{
    row->statistic = statistic;
    row->df = df;
    row->p_value = p_value;
    row->has |= IOP_HAS_STAT | IOP_HAS_DF | IOP_HAS_P;
}

void iop_row_at(iop_row *row, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(row->at, sizeof row->at, fmt, ap);
    va_end(ap);
}

void iop_row_note(iop_row *row, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(row->note, sizeof row->note, fmt, ap);
    va_end(ap);
}

void iop_row_count(iop_row *row, long count)
{
    row->n = count;
    iop_row_est(row, (double)count);
}

void iop_row_share(iop_row *row, long x, long n)
{
    iop_stats_interval ci;
    row->n = n;
    if (n <= 0 || iop_stats_wilson((size_t)x, (size_t)n, &ci) != IOP_STATS_OK) {
        iop_row_note(row, "no data");
        return;
    }
    iop_row_est(row, ci.estimate);
    iop_row_ci(row, ci.lower, ci.upper);
}

/* --by dimensions: a missing value is its own group, 'unknown'. */
static const char *const DIMS[][2] = {
    {"program", "coalesce(e.program, 'unknown')"},
    {"site", "coalesce(e.site, 'unknown')"},
    {"counselor", "coalesce(e.counselor_id, 'unknown')"},
    {"primary_substance", "coalesce(e.primary_substance, 'unknown')"},
    {"co_occurring", "coalesce(CAST(e.co_occurring AS TEXT), 'unknown')"},
    {"sex", "coalesce(e.sex, 'unknown')"},
    {"race", "coalesce(e.race, 'unknown')"},
    {"ethnicity", "coalesce(e.ethnicity, 'unknown')"},
    {"age_band", "e.age_band"},
    {"referral_source", "coalesce(e.referral_source, 'unknown')"},
    {"payer", "coalesce(e.payer, 'unknown')"},
    {"cohort", "substr(e.admit_date, 1, 7)"},
};

const char *iop_metrics_dimension(const char *name)
{
    for (size_t i = 0; i < sizeof DIMS / sizeof DIMS[0]; i++)
        if (strcmp(DIMS[i][0], name) == 0)
            return DIMS[i][1];
    return NULL;
}

const char *const *iop_metrics_dimensions(void)
{
    static const char *names[sizeof DIMS / sizeof DIMS[0] + 1];
    for (size_t i = 0; i < sizeof DIMS / sizeof DIMS[0]; i++)
        names[i] = DIMS[i][0];
    return names;
}

iop_code iop_metrics_nomem(iop_error *err)
{
    return iop_error_set(err, IOP_ENOMEM, NULL, 0, 0, "out of memory");
}

iop_code iop_mctx_fail(const iop_mctx *c, iop_error *err)
{
    return iop_error_set(err, IOP_EIO, NULL, 0, 0, "database error: %s",
                         sqlite3_errmsg(c->db));
}

/* sql with every "$GROUP" replaced by the dimension's expression. */
static char *expand(const iop_mctx *c, const char *sql)
{
    const char *expr = c->by_expr ? c->by_expr : "'all'";
    sqlite3_str *b = sqlite3_str_new(c->db);
    const char *p = sql, *q;

    while ((q = strstr(p, "$GROUP"))) {
        sqlite3_str_append(b, p, (int)(q - p));
        sqlite3_str_appendall(b, expr);
        p = q + 6;
    }
    sqlite3_str_appendall(b, p);
    return sqlite3_str_finish(b);
}

iop_code iop_mctx_prepare(const iop_mctx *c, const char *sql, const char *group,
                          sqlite3_stmt **st, iop_error *err)
{
    char *text = expand(c, sql);
    int rc = text ? sqlite3_prepare_v2(c->db, text, -1, st, NULL) : SQLITE_NOMEM;

    sqlite3_free(text);
    if (rc != SQLITE_OK) {
        *st = NULL;
        return iop_mctx_fail(c, err);
    }
    int np = sqlite3_bind_parameter_count(*st);
    if (np >= 1)
        sqlite3_bind_text(*st, 1, c->from_s, -1, SQLITE_STATIC);
    if (np >= 2)
        sqlite3_bind_text(*st, 2, c->to_s, -1, SQLITE_STATIC);
    if (np >= 3)
        sqlite3_bind_text(*st, 3, c->level, -1, SQLITE_STATIC);
    if (np >= 4 && group)
        sqlite3_bind_text(*st, 4, group, -1, SQLITE_TRANSIENT);
    return IOP_OK;
}

/* Steps a statement prepared with result rc to its first row. */
static iop_code first_row(const iop_mctx *c, iop_code rc, sqlite3_stmt **st, iop_error *err)
{
    if (rc == IOP_OK && sqlite3_step(*st) != SQLITE_ROW) {
        rc = iop_mctx_fail(c, err);
        sqlite3_finalize(*st);
        *st = NULL;
    }
    return rc;
}

iop_code iop_mctx_row(const iop_mctx *c, const char *sql, const char *group,
                      sqlite3_stmt **st, iop_error *err)
{
    return first_row(c, iop_mctx_prepare(c, sql, group, st, err), st, err);
}

/* ---- one query for every group (iop/metrics.h) -------------------------- */

/* The grouped runs' rows: one row per group (or per group and row of a
 * query that returns rows), its values in c0, c1, ... as the query
 * returned them (the columns have no type, so no value is converted).
 * metrics_gq names each run: the run shown, then the grouped text. */
#define GROUPED_MAX_COLS 16
static const char GROUPED_CREATE[] =
    "CREATE TEMP TABLE IF NOT EXISTS metrics_gq (id INTEGER PRIMARY KEY, qkey TEXT UNIQUE,"
    " ncol INTEGER);"
    "CREATE TEMP TABLE IF NOT EXISTS metrics_gr (id INTEGER, grp, c0, c1, c2, c3, c4, c5,"
    " c6, c7, c8, c9, c10, c11, c12, c13, c14, c15);"
    "CREATE INDEX IF NOT EXISTS temp.metrics_gr_key ON metrics_gr (id, grp)";
static const char GROUPED_FIND[] =
    "SELECT id, ncol FROM temp.metrics_gq"
    " WHERE qkey = (SELECT run_id FROM load_state) || '|' || ?1";
static const char GROUPED_KEEP[] =
    "INSERT INTO temp.metrics_gq (qkey, ncol)"
    " VALUES ((SELECT run_id FROM load_state) || '|' || ?1, ?2)";
static const char GROUPED_FILTER[] = "(?4 IS NULL OR ", GROUPED_EQ[] = " = ?4)",
                  GROUPED_ROWS[] = " GROUP BY 1 ORDER BY 1";

static int count_of(const char *s, const char *needle)
{
    int n = 0;
    size_t len = strlen(needle);

    for (const char *p = s; (p = strstr(p, needle)); p += len)
        n++;
    return n;
}

static bool ends_with(const char *s, const char *tail)
{
    size_t a = strlen(s), b = strlen(tail);
    return a >= b && memcmp(s + a - b, tail, b) == 0;
}

/* The text of all's query over every group with the group first:
 * "SELECT X, ... GROUP BY 1" for one row of aggregates, "SELECT X, ...
 * GROUP BY 1, 2 ORDER BY 1, 2" for rows "GROUP BY 1 ORDER BY 1"; its
 * bound values are written into it (sqlite3_expanded_sql), so that the
 * text is the cache's key. NULL when the query has another shape (and
 * *nomem is false) or when out of memory (*nomem set). */
static char *grouped_text(sqlite3_stmt *all, bool *nomem)
{
    const char *text = sqlite3_sql(all), *x, *xe;
    char *exp;

    *nomem = false;
    if (!text || strncmp(text, "SELECT ", 7) != 0 || strncmp(text + 7, "DISTINCT", 8) == 0
        || count_of(text, "?4") != 2 || count_of(text, GROUPED_FILTER) != 1)
        return NULL;
    x = strstr(text, GROUPED_FILTER) + strlen(GROUPED_FILTER);
    if (!(xe = strstr(x, GROUPED_EQ)))
        return NULL;
    bool rows = count_of(text, "GROUP BY") == 1 && count_of(text, "ORDER BY") == 1
                && ends_with(text, GROUPED_ROWS);
    if (!rows && (strstr(text, "GROUP BY") || strstr(text, "ORDER BY")))
        return NULL;
    if (strstr(text, "LIMIT") || strstr(text, " OVER ") || strstr(text, "UNION")
        || strstr(text, "EXCEPT") || strstr(text, "INTERSECT"))
        return NULL;
    if (!(exp = sqlite3_expanded_sql(all))) {
        *nomem = true;
        return NULL;
    }
    /* ?4 must be NULL: every group's rows */
    if (count_of(exp, "(NULL IS NULL OR ") != 1 || (rows && !ends_with(exp, GROUPED_ROWS))) {
        sqlite3_free(exp);
        return NULL;
    }
    sqlite3_str *b = sqlite3_str_new(NULL);
    size_t len = strlen(exp) - 7 - (rows ? strlen(GROUPED_ROWS) : 0);
    sqlite3_str_appendf(b, "SELECT %.*s, ", (int)(xe - x), x);
    sqlite3_str_append(b, exp + 7, (int)len);
    sqlite3_str_appendall(b, rows ? " GROUP BY 1, 2 ORDER BY 1, 2" : " GROUP BY 1");
    sqlite3_free(exp);
    char *out = sqlite3_str_finish(b);
    *nomem = out == NULL;
    return out;
}

/* Runs the grouped text once into metrics_gr under a new id (*ncol 0:
 * more columns than the table holds, not kept). */
static iop_code grouped_run(const iop_mctx *c, const char *gtext, sqlite3_int64 *id,
                            int *ncol, iop_error *err)
{
    sqlite3_stmt *g = NULL, *keep = NULL, *ins = NULL;
    sqlite3_str *b;
    char *text = NULL;
    int s = SQLITE_DONE;
    iop_code rc = IOP_OK;

    *ncol = 0;
    if (sqlite3_prepare_v2(c->db, gtext, -1, &g, NULL) != SQLITE_OK)
        return iop_mctx_fail(c, err);
    int n = sqlite3_column_count(g) - 1;
    if (n < 1 || n > GROUPED_MAX_COLS) {
        sqlite3_finalize(g);
        return IOP_OK;
    }
    b = sqlite3_str_new(NULL);
    sqlite3_str_appendall(b, "INSERT INTO temp.metrics_gr (id, grp");
    for (int j = 0; j < n; j++)
        sqlite3_str_appendf(b, ", c%d", j);
    sqlite3_str_appendall(b, ") VALUES (?1, ?2");
    for (int j = 0; j < n; j++)
        sqlite3_str_appendf(b, ", ?%d", j + 3);
    sqlite3_str_appendall(b, ")");
    if (!(text = sqlite3_str_finish(b))) {
        sqlite3_finalize(g);
        return iop_metrics_nomem(err);
    }
    if (sqlite3_exec(c->db, "SAVEPOINT iop_grouped", NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_free(text);
        sqlite3_finalize(g);
        return iop_mctx_fail(c, err);
    }
    if (sqlite3_prepare_v2(c->db, GROUPED_KEEP, -1, &keep, NULL) != SQLITE_OK
        || sqlite3_prepare_v2(c->db, text, -1, &ins, NULL) != SQLITE_OK)
        rc = iop_mctx_fail(c, err);
    if (rc == IOP_OK) {
        sqlite3_bind_text(keep, 1, gtext, -1, SQLITE_STATIC);
        sqlite3_bind_int(keep, 2, n);
        if (sqlite3_step(keep) != SQLITE_DONE)
            rc = iop_mctx_fail(c, err);
        *id = sqlite3_last_insert_rowid(c->db);
        sqlite3_bind_int64(ins, 1, *id);
    }
    while (rc == IOP_OK && (s = sqlite3_step(g)) == SQLITE_ROW) {
        for (int j = 0; j <= n; j++)
            sqlite3_bind_value(ins, j + 2, sqlite3_column_value(g, j));
        if (sqlite3_step(ins) != SQLITE_DONE)
            rc = iop_mctx_fail(c, err);
        sqlite3_reset(ins);
    }
    if (rc == IOP_OK && s != SQLITE_DONE)
        rc = iop_mctx_fail(c, err);
    sqlite3_finalize(g);
    sqlite3_finalize(keep);
    sqlite3_finalize(ins);
    sqlite3_free(text);
    if (rc != IOP_OK)
        sqlite3_exec(c->db, "ROLLBACK TO iop_grouped", NULL, NULL, NULL);
    if (sqlite3_exec(c->db, "RELEASE iop_grouped", NULL, NULL, NULL) != SQLITE_OK
        && rc == IOP_OK)
        rc = iop_mctx_fail(c, err);
    if (rc == IOP_OK)
        *ncol = n;
    return rc;
}

/* The id and column count of the kept run of gtext, running it first
 * when the connection has none (*ncol 0: not served). */
static iop_code grouped_find(const iop_mctx *c, const char *gtext, sqlite3_int64 *id,
                             int *ncol, iop_error *err)
{
    sqlite3_stmt *st;
    int s;

    *ncol = 0;
    if (sqlite3_exec(c->db, GROUPED_CREATE, NULL, NULL, NULL) != SQLITE_OK
        || sqlite3_prepare_v2(c->db, GROUPED_FIND, -1, &st, NULL) != SQLITE_OK)
        return iop_mctx_fail(c, err);
    sqlite3_bind_text(st, 1, gtext, -1, SQLITE_STATIC);
    s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        *ncol = sqlite3_column_int(st, 1);
    }
    sqlite3_finalize(st);
    if (s == SQLITE_ROW)
        return IOP_OK;
    if (s != SQLITE_DONE)
        return iop_mctx_fail(c, err);
    return grouped_run(c, gtext, id, ncol, err);
}

iop_code iop_mctx_grouped(const iop_mctx *c, sqlite3_stmt *all, const char *group,
                          sqlite3_stmt **st, iop_error *err)
{
    sqlite3_int64 id = 0;
    int ncol = 0, s;
    bool nomem;
    char *gtext;
    iop_code rc;

    *st = NULL;
    if (!c->by || !group)
        return IOP_OK;
    if (!(gtext = grouped_text(all, &nomem)))
        return nomem ? iop_metrics_nomem(err) : IOP_OK;
    rc = grouped_find(c, gtext, &id, &ncol, err);
    sqlite3_free(gtext);
    if (rc != IOP_OK || ncol == 0)
        return rc;

    sqlite3_str *b = sqlite3_str_new(NULL);
    sqlite3_str_appendall(b, "SELECT c0");
    for (int j = 1; j < ncol; j++)
        sqlite3_str_appendf(b, ", c%d", j);
    sqlite3_str_appendall(b, " FROM temp.metrics_gr WHERE id = ?1 AND grp = ?2 ORDER BY rowid");
    char *text = sqlite3_str_finish(b);
    if (!text)
        return iop_metrics_nomem(err);
    s = sqlite3_prepare_v2(c->db, text, -1, st, NULL);
    sqlite3_free(text);
    if (s != SQLITE_OK) {
        *st = NULL;
        return iop_mctx_fail(c, err);
    }
    sqlite3_bind_int64(*st, 1, id);
    sqlite3_bind_text(*st, 2, group, -1, SQLITE_TRANSIENT);
    /* a group with no row: the caller's own query says what it yields */
    s = sqlite3_step(*st);
    if (s == SQLITE_ROW) {
        sqlite3_reset(*st);
        return IOP_OK;
    }
    sqlite3_finalize(*st);
    *st = NULL;
    return s == SQLITE_DONE ? IOP_OK : iop_mctx_fail(c, err);
}

iop_code iop_mctx_prepare_grouped(const iop_mctx *c, const char *sql, const char *group,
                                  sqlite3_stmt **st, iop_error *err)
{
    if (c->by && group) {
        sqlite3_stmt *all;
        iop_code rc = iop_mctx_prepare(c, sql, NULL, &all, err);

        if (rc == IOP_OK)
            rc = iop_mctx_grouped(c, all, group, st, err);
        sqlite3_finalize(all);
        if (rc != IOP_OK || *st)
            return rc;
    }
    return iop_mctx_prepare(c, sql, group, st, err);
}

iop_code iop_mctx_row_grouped(const iop_mctx *c, const char *sql, const char *group,
                              sqlite3_stmt **st, iop_error *err)
{
    return first_row(c, iop_mctx_prepare_grouped(c, sql, group, st, err), st, err);
}

iop_code iop_mctx_exec(const iop_mctx *c, const char *sql, iop_error *err)
{
    sqlite3_stmt *st;
    iop_code rc = iop_mctx_prepare(c, sql, NULL, &st, err);

    if (rc == IOP_OK && sqlite3_step(st) != SQLITE_DONE)
        rc = iop_mctx_fail(c, err);
    sqlite3_finalize(st);
    return rc;
}

/* The key of a cached table: the run the database shows (pinned or the
 * latest) and, with by_dim, the dimension. */
static const char CACHE_SQL[] =
    "CREATE TEMP TABLE IF NOT EXISTS metrics_cache (name TEXT PRIMARY KEY, key TEXT);"
    "SELECT EXISTS (SELECT 1 FROM temp.metrics_cache WHERE name = ?1 AND key ="
    " (SELECT run_id FROM load_state) || '|' || ?2)";
static const char KEEP_SQL[] =
    "INSERT OR REPLACE INTO temp.metrics_cache"
    " SELECT ?1, (SELECT run_id FROM load_state) || '|' || ?2";

static iop_code cache_step(const iop_mctx *c, const char *sql, const char *name, bool by_dim,
                           bool *hit, iop_error *err)
{
    sqlite3_stmt *st;
    const char *tail = sql;
    iop_code rc = IOP_OK;

    /* sql may be two statements: the CREATE, then the query */
    while (rc == IOP_OK && tail && *tail) {
        if (sqlite3_prepare_v2(c->db, tail, -1, &st, &tail) != SQLITE_OK)
            return iop_mctx_fail(c, err);
        if (!st)
            break;
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, by_dim && c->by ? c->by : "", -1, SQLITE_STATIC);
        int s = sqlite3_step(st);
        if (s == SQLITE_ROW && hit)
            *hit = sqlite3_column_int(st, 0) != 0;
        else if (s != SQLITE_DONE)
            rc = iop_mctx_fail(c, err);
        sqlite3_finalize(st);
    }
    return rc;
}

iop_code iop_mctx_cached(const iop_mctx *c, const char *name, bool by_dim, bool *hit,
                         iop_error *err)
{
    *hit = false;
    return cache_step(c, CACHE_SQL, name, by_dim, hit, err);
}

iop_code iop_mctx_cache_keep(const iop_mctx *c, const char *name, bool by_dim,
                             iop_error *err)
{
    return cache_step(c, KEEP_SQL, name, by_dim, NULL, err);
}

bool iop_column_dup(char **dst, sqlite3_stmt *st, int j)
{
    const unsigned char *t = sqlite3_column_text(st, j);

    free(*dst);
    *dst = strdup(t ? (const char *)t : "");
    return *dst != NULL;
}

iop_code iop_mctx_episodes(const iop_mctx *seg, const char *sql, const char *insert,
                           const char *key, const iop_episode_build *b, void *acc,
                           iop_error *err)
{
    sqlite3_stmt *st, *ins = NULL;
    sqlite3_int64 rid = 0;
    int s = SQLITE_DONE;
    bool any = false;
    iop_code done = IOP_OK, rc = iop_mctx_prepare(seg, sql, NULL, &st, err);

    if (rc == IOP_OK && sqlite3_prepare_v2(seg->db, insert, -1, &ins, NULL) != SQLITE_OK)
        rc = iop_mctx_fail(seg, err);
    if (rc == IOP_OK)
        sqlite3_bind_text(ins, 1, key, -1, SQLITE_STATIC);
    while (rc == IOP_OK && done == IOP_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
        bool fresh = !any || sqlite3_column_int64(st, 0) != rid;
        rid = sqlite3_column_int64(st, 0);
        any = true;
        done = b->add(acc, st, fresh, ins);
    }
    if (rc == IOP_OK && done == IOP_OK && s == SQLITE_DONE)
        done = b->end(acc, ins);
    if (rc == IOP_OK && done == IOP_ENOMEM)
        rc = iop_metrics_nomem(err);
    else if (rc == IOP_OK && (done != IOP_OK || s != SQLITE_DONE))
        rc = iop_mctx_fail(seg, err);
    sqlite3_finalize(st);
    sqlite3_finalize(ins);
    return rc;
}

/* ---- month segments (iop/metrics.h) ------------------------------------ */

static const char SEGS_SQL[] =
    "CREATE TEMP TABLE IF NOT EXISTS metrics_segs (name TEXT, seg TEXT,"
    " PRIMARY KEY (name, seg)) WITHOUT ROWID";

iop_code iop_mctx_exec_key(const iop_mctx *c, const char *sql, const char *table,
                           const char *key, const int *ints, int n, iop_error *err)
{
    sqlite3_stmt *st;
    char *text = sqlite3_mprintf(sql, table);
    iop_code rc = text ? iop_mctx_prepare(c, text, NULL, &st, err) : iop_metrics_nomem(err);

    sqlite3_free(text);
    if (rc != IOP_OK)
        return rc;
    sqlite3_bind_text(st, 5, key, -1, SQLITE_STATIC);
    for (int i = 0; i < n; i++)
        sqlite3_bind_int(st, 6 + i, ints[i]);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = iop_mctx_fail(c, err);
    sqlite3_finalize(st);
    return rc;
}

/* Runs one statement with ?1 = name and ?2 = seg; *row is whether it
 * returned a row (NULL: not asked). */
static iop_code seg_step(const iop_mctx *c, const char *sql, const char *name,
                         const char *seg, bool *row, iop_error *err)
{
    sqlite3_stmt *st;

    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
        return iop_mctx_fail(c, err);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (seg)
        sqlite3_bind_text(st, 2, seg, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    sqlite3_finalize(st);
    if (s != SQLITE_ROW && s != SQLITE_DONE)
        return iop_mctx_fail(c, err);
    if (row)
        *row = s == SQLITE_ROW;
    return IOP_OK;
}

/* A fresh table `name` and no segments of it: the run shown changed, or
 * the connection never made it. */
static iop_code seg_table(const iop_mctx *c, const char *name, const char *create,
                          iop_error *err)
{
    bool hit;
    char *drop = sqlite3_mprintf("DROP TABLE IF EXISTS temp.\"%w\"", name);
    iop_code rc = iop_mctx_cached(c, name, false, &hit, err);

    if (rc == IOP_OK && !hit) {
        if (!drop)
            rc = iop_metrics_nomem(err);
        else if (sqlite3_exec(c->db, drop, NULL, NULL, NULL) != SQLITE_OK
                 || sqlite3_exec(c->db, SEGS_SQL, NULL, NULL, NULL) != SQLITE_OK
                 || sqlite3_exec(c->db, create, NULL, NULL, NULL) != SQLITE_OK)
            rc = iop_mctx_fail(c, err);
        if (rc == IOP_OK)
            rc = seg_step(c, "DELETE FROM temp.metrics_segs WHERE name = ?1", name, NULL,
                          NULL, err);
        if (rc == IOP_OK)
            rc = iop_mctx_cache_keep(c, name, false, err);
    }
    sqlite3_free(drop);
    return rc;
}

/* Builds segment key with sub when table `name` lacks it. */
static iop_code seg_build(const iop_mctx *c, const char *name, const iop_mctx *sub,
                          const char *key, iop_seg_build build, void *arg, iop_error *err)
{
    bool have;
    iop_code rc = seg_step(c, "SELECT 1 FROM temp.metrics_segs WHERE name = ?1 AND seg = ?2",
                           name, key, &have, err);

    if (rc != IOP_OK || have)
        return rc;
    /* one transaction: a build may insert row by row */
    if (sqlite3_exec(c->db, "SAVEPOINT iop_seg", NULL, NULL, NULL) != SQLITE_OK)
        return iop_mctx_fail(c, err);
    rc = build(sub, key, arg, err);
    if (rc == IOP_OK)
        rc = seg_step(c, "INSERT INTO temp.metrics_segs VALUES (?1, ?2)", name, key, NULL,
                      err);
    if (rc != IOP_OK)
        sqlite3_exec(c->db, "ROLLBACK TO iop_seg", NULL, NULL, NULL);
    if (sqlite3_exec(c->db, "RELEASE iop_seg", NULL, NULL, NULL) != SQLITE_OK && rc == IOP_OK)
        rc = iop_mctx_fail(c, err);
    return rc;
}

/* Builds every segment of c's period that table `name` lacks and sets
 * lo, hi to the keys of the period's first and last segment. */
static iop_code seg_all(const iop_mctx *c, const char *name, const char *create,
                        iop_seg_build build, void *arg, const char *by, char lo[96],
                        char hi[96], iop_error *err)
{
    char prefix[64], key[96];
    int y0, m0, d0, y1, m1, d1;
    iop_mctx sub = *c;
    iop_code rc = seg_table(c, name, create, err);

    iop_date_to_ymd(c->from, &y0, &m0, &d0);
    iop_date_to_ymd(c->to, &y1, &m1, &d1);
    /* dimension names and level codes are short (checked against their
     * lists before a run) */
    snprintf(prefix, sizeof prefix, "%.24s|%.24s|", by, c->level);
    if (d0 != 1 || d1 != iop_date_days_in_month(y1, m1) || c->to < c->from) {
        /* not whole months: the period is its own segment */
        snprintf(key, sizeof key, "%sP%s|%s", prefix, c->from_s, c->to_s);
        if (rc == IOP_OK)
            rc = seg_build(c, name, c, key, build, arg, err);
        snprintf(lo, 96, "%s", key);
        snprintf(hi, 96, "%s", key);
        return rc;
    }
    snprintf(lo, 96, "%sM%04d-%02d", prefix, y0, m0);
    snprintf(hi, 96, "%sM%04d-%02d", prefix, y1, m1);
    for (int y = y0, m = m0; rc == IOP_OK && (y < y1 || (y == y1 && m <= m1));) {
        sub.from = iop_date_from_ymd(y, m, 1);
        sub.to = iop_date_from_ymd(y, m, iop_date_days_in_month(y, m));
        iop_date_format(sub.from, sub.from_s);
        iop_date_format(sub.to, sub.to_s);
        snprintf(key, sizeof key, "%sM%04d-%02d", prefix, y, m);
        rc = seg_build(c, name, &sub, key, build, arg, err);
        if (++m > 12) {
            m = 1;
            y++;
        }
    }
    return rc;
}

/* iop_mctx_segments() and iop_mctx_segments_episodes(): the keys name the
 * dimension `by` ("" for none). */
static iop_code segments(const iop_mctx *c, const char *table, const char *create,
                         iop_seg_build build, void *arg, const char *read, const char *group,
                         const char *by, sqlite3_stmt **st, iop_error *err)
{
    char lo[96], hi[96];
    char *make = sqlite3_mprintf(create, table, table, table);
    char *text = sqlite3_mprintf(read, table);
    iop_code rc = make && text ? IOP_OK : iop_metrics_nomem(err);

    *st = NULL;
    if (rc == IOP_OK)
        rc = seg_all(c, table, make, build, arg, by, lo, hi, err);
    if (rc == IOP_OK)
        rc = iop_mctx_prepare(c, text, group, st, err);
    if (rc == IOP_OK) {
        sqlite3_bind_text(*st, 5, lo, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(*st, 6, hi, -1, SQLITE_TRANSIENT);
    }
    sqlite3_free(make);
    sqlite3_free(text);
    return rc;
}

iop_code iop_mctx_segments(const iop_mctx *c, const char *table, const char *create,
                           iop_seg_build build, void *arg, const char *read,
                           const char *group, sqlite3_stmt **st, iop_error *err)
{
    return segments(c, table, create, build, arg, read, group, c->by ? c->by : "", st, err);
}

iop_code iop_mctx_segments_episodes(const iop_mctx *c, const char *table, const char *create,
                                    iop_seg_build build, void *arg, const char *read,
                                    const char *group, sqlite3_stmt **st, iop_error *err)
{
    return segments(c, table, create, build, arg, read, group, "*", st, err);
}
