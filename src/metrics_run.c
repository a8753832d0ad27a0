/*
 * metrics_run.c - the analyse stage's run: which sections of metrics.md a
 * call computes, on which connection, in what order (see iop/metrics.h).
 *
 * Input: one or more calls (an open, possibly pinned database, a period,
 * a level, a dimension, the metrics wanted). Output: each call's rows, in
 * section order, then "all" before each group in byte order; the same
 * bytes on one connection or two.
 */
#include "iop/metrics.h"

#include "iop/store.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The sections, in the order of metrics.md (metrics_sections.c). */
extern const iop_section *const iop_sections[];
extern const unsigned char iop_section_lane[];

/* The groups of the dimension: those of the level's episodes that
 * overlap the period, in byte order. */
static iop_code list_groups(const iop_mctx *c, char ***out, size_t *n, iop_error *err)
{
    static const char sql[] =
        "SELECT DISTINCT $GROUP FROM facts AS e WHERE e.level_of_care = ?3 "
        "AND e.admit_date <= ?2 AND e.end_date >= ?1 "
        "ORDER BY 1";
    sqlite3_stmt *st;
    size_t cap = 0;
    iop_code rc = iop_mctx_prepare(c, sql, NULL, &st, err);

    *out = NULL;
    *n = 0;
    while (rc == IOP_OK && sqlite3_step(st) == SQLITE_ROW) {
        if (*n == cap) {
            char **v = realloc(*out, (cap = cap ? 2 * cap : 16) * sizeof *v);
            if (!v) {
                rc = iop_metrics_nomem(err);
                break;
            }
            *out = v;
        }
        (*out)[(*n)++] = strdup((const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    return rc;
}

/* With IOPSTAT_TRACE set, prints the seconds each step took to stderr:
 * the tool for finding where a slow run spends its time. */
static void trace(const char *step)
{
    static _Thread_local double last;
    struct timespec ts;
    double now;

    if (!getenv("IOPSTAT_TRACE"))
        return;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    if (step)
        fprintf(stderr, "iopstat: trace: %-12s %8.3f s\n", step, now - last);
    last = now;
}

/* The derived view episode_core (episode_facts without the links to the
 * previous and next episode, which no section reads and which cost most
 * of that view's time) as a table `facts`, which every section reads. It
 * depends only on the database (and the pinned run), not on the period,
 * level or dimension. Each load writes it into main for its run
 * (iop_store_refresh_facts: 1.3 s of work on 10M sessions that a process
 * no longer pays); a connection that cannot use that copy (pinned to an
 * earlier run, a site's edit of episodes, clients or levels since the
 * load, a database loaded by an older build) makes it once as a TEMP
 * table of the same name, which shadows main's: the monthly workbook's
 * many runs share it. The schema that holds facts gets the larger page
 * cache (SQLite's default is 2 MiB per schema): measured on 10M sessions,
 * the sections' lookups into `facts` otherwise reread its pages from the
 * file millions of times. A TEMP facts gets 64 MiB. With main's, a lone
 * connection (lane -1) gives main 48 MiB and TEMP 32 MiB for the
 * sections' segments; of two (iop_mctx.db2), lane 0, whose sections look
 * episodes up, 24 MiB and 8 MiB, and lane 1, whose sections build month
 * segments from the sessions, 8 MiB and 24 MiB. Measured on 10M sessions,
 * the workbook's peak memory varied from 175 to 198 MiB between runs with
 * 32 and 16 MiB for the lanes' larger and smaller caches (over the 200 MB
 * target), and stays at 153-161 MiB so, at about the same speed (a month
 * by program 5% slower). The rows are written
 * in each client's order of episodes (admit date, more intensive first,
 * episode_id), so a rowid is that position and an episode's neighbours
 * are one rowid away (metrics_continuity.c). There is no index on the
 * discharge date: a query for discharges in a range also states the range
 * of end_date (the discharge date, or 9999-12-31 while open), which the
 * discharge range implies, so it reads facts_end; an index that leads with
 * the level costs 0.2 s to sort on 218,288 episodes. */
static iop_code make_facts(const iop_mctx *c, int lane, iop_error *err)
{
    static const char *const caches[3] = {
        "PRAGMA temp.cache_size = -32768; PRAGMA main.cache_size = -49152;",
        "PRAGMA temp.cache_size = -8192; PRAGMA main.cache_size = -24576;",
        "PRAGMA temp.cache_size = -24576; PRAGMA main.cache_size = -8192;",
    };
    bool hit;
    iop_code rc = iop_mctx_cached(c, "facts", false, &hit, err);

    if (rc != IOP_OK || hit)
        return rc;
    if (iop_store_facts_current(c->db)) {
        if (sqlite3_exec(c->db, caches[lane + 1], NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(c->db, "DROP TABLE IF EXISTS temp.facts", NULL, NULL, NULL) != SQLITE_OK)
            return iop_mctx_fail(c, err);
        return iop_mctx_cache_keep(c, "facts", false, err);
    }
    char *sql = sqlite3_mprintf("PRAGMA temp.cache_size = -65536;"
                                "DROP TABLE IF EXISTS temp.facts;"
                                "CREATE TEMP TABLE facts AS %s;", iop_facts_select);
    char *idx = sqlite3_mprintf(iop_facts_indexes, "temp.", "temp.", "temp.", "temp.");
    if (!sql || !idx)
        rc = iop_metrics_nomem(err);
    else if (sqlite3_exec(c->db, sql, NULL, NULL, NULL) != SQLITE_OK ||
             sqlite3_exec(c->db, idx, NULL, NULL, NULL) != SQLITE_OK)
        rc = iop_mctx_fail(c, err);
    sqlite3_free(sql);
    sqlite3_free(idx);
    return rc == IOP_OK ? iop_mctx_cache_keep(c, "facts", false, err) : rc;
}

/* With IOPSTAT_TRACE=2, also every statement's milliseconds and its
 * first characters. */
static int profile(unsigned type, void *ctx, void *p, void *x)
{
    (void)ctx;
    if (type == SQLITE_TRACE_PROFILE) {
        const char *sql = sqlite3_sql((sqlite3_stmt *)p);
        fprintf(stderr, "iopstat: trace: %9.1f ms  %.110s\n",
                (double)*(sqlite3_int64 *)x / 1e6, sql ? sql : "");
    }
    return 0;
}

static bool listed(const char *const *list, const char *name)
{
    for (; list && *list; list++)
        if (strcmp(*list, name) == 0)
            return true;
    return false;
}

bool iop_mctx_wants(const iop_mctx *c, const char *metric)
{
    return !c->want || listed(c->want, metric);
}

bool iop_mctx_wants_any(const iop_mctx *c, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (iop_mctx_wants(c, names[i]))
            return true;
    return false;
}

/* Whether the caller wants a metric of sec. */
static bool wanted(const iop_mctx *c, const iop_section *sec)
{
    for (const char *const *m = sec->metrics; m && *m; m++)
        if (iop_mctx_wants(c, *m))
            return true;
    return false;
}

/* Every row from `from` on names a metric of sec's list. Callers that
 * want only some metrics (the workbook) rely on the lists, so a section
 * that writes an unlisted name fails loudly, in every test that runs it. */
static iop_code check_names(const iop_section *sec, const iop_rows *rows, size_t from,
                            iop_error *err)
{
    for (size_t i = from; i < rows->n; i++)
        if (!listed(sec->metrics, rows->v[i].metric))
            return iop_error_set(err, IOP_EIO, NULL, 0, 0,
                                 "internal error: section '%s' wrote '%s', which is not "
                                 "in its list of metrics", sec->name, rows->v[i].metric);
    return IOP_OK;
}

/* Runs section sec for the whole and each group, appending to rows. */
static iop_code run_section(const iop_mctx *c, const iop_section *sec, char **groups,
                            size_t ngroups, iop_rows *rows, iop_error *err)
{
    size_t first = rows->n;
    iop_code rc = sec->figures(c, NULL, rows, err);

    for (size_t g = 0; g < ngroups && rc == IOP_OK; g++)
        rc = sec->figures(c, groups[g], rows, err);
    if (rc == IOP_OK && c->by && sec->tests)
        rc = sec->tests(c, rows, err);
    if (rc == IOP_OK)
        rc = check_names(sec, rows, first, err);
    trace(sec->name);
    return rc;
}

static void set_profile(sqlite3 *db)
{
    const char *tr = getenv("IOPSTAT_TRACE");
    if (tr && atoi(tr) >= 2)
        sqlite3_trace_v2(db, SQLITE_TRACE_PROFILE, profile, NULL);
}

/*
 * The sections of lane `lane` (-1: every section) that c wants, on c->db:
 * facts and the groups first, then each section. With lane -1 every row
 * goes to rows[0] and an error to errs[0]; with a lane, section s writes
 * rows[s] and errs[s]. On error *failed is the failing section's index.
 */
static iop_code run_lane_call(const iop_mctx *c, int lane, iop_rows *rows, iop_error *errs,
                              size_t *failed)
{
    char **groups = NULL;
    size_t ngroups = 0;
    iop_code rc = IOP_OK;
    bool ready = false;

    for (size_t s = 0; iop_sections[s] && rc == IOP_OK; s++) {
        size_t k = lane < 0 ? 0 : s;
        if ((lane >= 0 && iop_section_lane[s] != lane) || !wanted(c, iop_sections[s]))
            continue;
        if (!ready) { /* facts (the load's copy, or built once) and the groups */
            trace(NULL);
            rc = make_facts(c, lane, &errs[k]);
            trace("facts");
            if (rc == IOP_OK && c->by)
                rc = list_groups(c, &groups, &ngroups, &errs[k]);
            trace(NULL);
            ready = true;
        }
        if (rc == IOP_OK)
            rc = run_section(c, iop_sections[s], groups, ngroups, &rows[k], &errs[k]);
        *failed = s;
    }
    for (size_t g = 0; g < ngroups; g++)
        free(groups[g]);
    free(groups);
    return rc;
}

/* One lane's work in a two-connection run of n calls: its sections of
 * each call in turn, each into its own rows (part[call * IOP_MAX_SECTIONS
 * + section]), stopping at its first error. */
typedef struct lane {
    const iop_mctx *cs;        /* the calls */
    size_t n;
    int lane;
    iop_rows *part;            /* shared by the lanes; each writes its own */
    iop_code *rc;
    iop_error *err;
} lane;

static void *run_lane(void *arg)
{
    lane *L = arg;

    if (L->n)
        set_profile(L->lane ? L->cs[0].db2 : L->cs[0].db);
    for (size_t i = 0; i < L->n; i++) {
        size_t base = i * IOP_MAX_SECTIONS, s = 0;
        iop_mctx c = L->cs[i];
        c.db = L->lane ? c.db2 : c.db;
        c.db2 = NULL;
        iop_code rc = run_lane_call(&c, L->lane, &L->part[base], &L->err[base], &s);
        if (rc != IOP_OK) {
            L->rc[base + s] = rc;
            break;
        }
    }
    return NULL;
}

/* Appends src's rows to dst. */
static bool rows_append(iop_rows *dst, const iop_rows *src)
{
    if (dst->n + src->n > dst->cap) {
        size_t cap = dst->cap ? dst->cap : 256;
        while (cap < dst->n + src->n)
            cap *= 2;
        iop_row *v = realloc(dst->v, cap * sizeof *v);
        if (!v)
            return false;
        dst->v = v;
        dst->cap = cap;
    }
    if (src->n)
        memcpy(dst->v + dst->n, src->v, src->n * sizeof *src->v);
    dst->n += src->n;
    return true;
}

/* The calls on two connections (db and db2), lane 1 in a second thread:
 * each lane runs its sections of every call in turn, with no wait between
 * calls, and the rows are gathered per call in the sections' order. The
 * error is the first failing section's, in the order of the calls and the
 * sections, as on one connection. */
static iop_code run_two(const iop_mctx *cs, size_t n, iop_rows *rows, iop_error *err)
{
    size_t np = n * IOP_MAX_SECTIONS;
    iop_rows *part = calloc(np, sizeof *part);
    iop_code *prc = calloc(np, sizeof *prc);
    iop_error *perr = calloc(np, sizeof *perr);
    lane L[2];
    pthread_t th;
    iop_code rc = IOP_OK;

    if (!part || !prc || !perr) {
        free(part);
        free(prc);
        free(perr);
        return iop_metrics_nomem(err);
    }
    for (int k = 0; k < 2; k++)
        L[k] = (lane){.cs = cs, .n = n, .lane = k, .part = part, .rc = prc, .err = perr};
    bool threaded = pthread_create(&th, NULL, run_lane, &L[1]) == 0;
    run_lane(&L[0]);
    if (threaded)
        pthread_join(th, NULL);
    else
        run_lane(&L[1]); /* no second thread: the same work, in turn */
    for (size_t i = 0; i < n && rc == IOP_OK; i++) {
        for (size_t s = 0; iop_sections[s] && rc == IOP_OK; s++) {
            size_t k = i * IOP_MAX_SECTIONS + s;
            if (prc[k] != IOP_OK) {
                *err = perr[k];
                rc = prc[k];
            } else if (!rows_append(&rows[i], &part[k])) {
                rc = iop_metrics_nomem(err);
            }
        }
    }
    for (size_t k = 0; k < np; k++)
        iop_rows_release(&part[k]);
    free(part);
    free(prc);
    free(perr);
    return rc;
}

/* One call on one connection. */
static iop_code run_one(const iop_mctx *c, iop_rows *rows, iop_error *err)
{
    size_t failed;

    set_profile(c->db);
    return run_lane_call(c, -1, rows, err, &failed);
}

iop_code iop_metrics_run_many(const iop_mctx *cs, size_t n, iop_rows *rows, iop_error *err)
{
    iop_code rc = IOP_OK;

    if (n && cs[0].db2)
        return run_two(cs, n, rows, err);
    for (size_t i = 0; i < n && rc == IOP_OK; i++)
        rc = run_one(&cs[i], &rows[i], err);
    return rc;
}

iop_code iop_metrics_run(const iop_mctx *c, iop_rows *rows, iop_error *err)
{
    return iop_metrics_run_many(c, 1, rows, err);
}
