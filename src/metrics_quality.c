/*
 * metrics_quality.c - metrics.md section 9: access and data quality
 * (CARF 1.M: reliable, valid, complete, accurate).
 *   wait_days_median         admit - referral_date of the level's
 *                            admissions in the period that have a referral
 *                            date; lower/upper are the quartiles (R
 *                            quantile(type = 7)), not a CI
 *   dq_rejected              per file of the current load run (at = file;
 *                            "" = all files): rejected of records read,
 *                            Wilson; written for "all" only
 *   dq_completeness          at = table.column: non-empty values of an
 *                            optional column among the level's episodes in
 *                            treatment in the period (clients: their
 *                            distinct clients), Wilson
 *   dq_open_over_180d        of the level's episodes open on `to`, those
 *                            admitted more than 180 days before, Wilson
 *   dq_discharged_without_session   of the period's discharges, those with
 *                            no attended session in [admit, discharge]
 *   dq_sessions_outside_episode     count of the sessions of the level's
 *                            episodes dated in the period outside [admit,
 *                            discharge] (n = estimate = the count)
 *   dq_overlapping_episodes  of the level's episodes in treatment in the
 *                            period, those overlapping another episode of
 *                            the client (any level)
 *   dq_missing_baseline      of section 6's eligible episodes, those with
 *                            no PHQ9 baseline, Wilson
 * Everything is one aggregate query per figure, run once for all groups
 * (below); only the waits of the admissions are held in memory.
 */
#include <stdlib.h>
#include <string.h>

#include "iop/metrics.h"
#include "iop/stats.h"

/*
 * Every query below is written per group: its first column is $GROUP and
 * it ends in GROUP BY 1. Run with no dimension ($GROUP = 'all') it gives
 * the overall row; with the --by dimension, every group's row in one pass
 * (the overall call keeps them in TEMP table quality_grp for the groups'
 * calls), where a query per group would read the same rows once per
 * group. A group (or the whole) without rows has no row: zeros.
 */

/* The level's episodes in treatment at some time in the period. */
#define IOP_Q_ACTIVE                                                        \
    " e.level_of_care = ?3 AND e.admit_date <= ?2"                          \
    " AND e.end_date >= ?1"

/* Waits: one row per admission (a list, not an aggregate). */
static const char WAIT_SQL[] =
    "SELECT $GROUP, julianday(e.admit_date) - julianday(e.referral_date) FROM facts AS e"
    " WHERE e.level_of_care = ?3 AND e.admit_date BETWEEN ?1 AND ?2"
    " AND e.referral_date IS NOT NULL";

static const char REJECTED_SQL[] =
    "SELECT f.file, f.records_read, f.records_rejected FROM load_files AS f"
    " WHERE f.run_id = (SELECT max(run_id) FROM load_runs) ORDER BY f.file";

static const char EPISODE_FIELDS_SQL[] =
    "SELECT $GROUP, count(*), count(e.site), count(e.program), count(e.counselor_id),"
    " count(e.referral_date), count(e.moud) FROM facts AS e WHERE" IOP_Q_ACTIVE " GROUP BY 1";

/* Distinct clients of the group's episodes. */
static const char CLIENT_FIELDS_SQL[] =
    "SELECT g.grp, count(*), count(c.birth_year), count(c.sex), count(c.race),"
    " count(c.ethnicity), count(c.primary_substance), count(c.co_occurring),"
    " count(c.referral_source), count(c.payer)"
    " FROM (SELECT DISTINCT $GROUP AS grp, e.client_id FROM facts AS e WHERE" IOP_Q_ACTIVE ") AS g"
    " JOIN clients AS c ON c.client_id = g.client_id GROUP BY 1";

/* The most values a quality query gives per group (count and fields). */
#define IOP_Q_MAXV 9

static const char *const EPISODE_FIELDS[] = {
    "episodes.site", "episodes.program", "episodes.counselor_id",
    "episodes.referral_date", "episodes.moud", NULL};

static const char *const CLIENT_FIELDS[] = {
    "clients.birth_year", "clients.sex", "clients.race", "clients.ethnicity",
    "clients.primary_substance", "clients.co_occurring",
    "clients.referral_source", "clients.payer", NULL};

/* The count and one value per field (the NULL's place) must fit; checked
 * here, at compile time, so that completeness()'s guard cannot fire. */
_Static_assert(sizeof EPISODE_FIELDS / sizeof EPISODE_FIELDS[0] <= IOP_Q_MAXV,
               "EPISODE_FIELDS has more fields than a quality query has values");
_Static_assert(sizeof CLIENT_FIELDS / sizeof CLIENT_FIELDS[0] <= IOP_Q_MAXV,
               "CLIENT_FIELDS has more fields than a quality query has values");

static const char OPEN_SQL[] =
    "SELECT $GROUP, count(*), total(julianday(?2) - julianday(e.admit_date) > 180) FROM facts AS e"
    " WHERE e.level_of_care = ?3 AND e.admit_date <= ?2"
    " AND e.end_date > ?2 GROUP BY 1";

static const char NO_SESSION_SQL[] =
    "SELECT $GROUP, count(*), total(NOT EXISTS (SELECT 1 FROM sessions AS s"
    " WHERE s.episode_id = e.episode_id AND s.status = 'attended'"
    " AND s.session_date BETWEEN e.admit_date AND e.discharge_date)) FROM facts AS e"
    " WHERE e.level_of_care = ?3 AND e.end_date BETWEEN ?1 AND ?2"
    " AND e.discharge_date BETWEEN ?1 AND ?2 GROUP BY 1";

/* Two narrow index ranges per episode: the period's days before
 * admission, and those after discharge. The loader rejects sessions more
 * than 30 days outside their episode, which bounds the episodes read. */
static const char OUTSIDE_SQL[] =
    "SELECT grp, total(n) FROM ("
    " SELECT $GROUP AS grp, count(*) AS n FROM facts AS e JOIN sessions AS s"
    " ON s.episode_id = e.episode_id"
    " AND s.session_date >= ?1 AND s.session_date < min(e.admit_date, date(?2, '+1 day'))"
    " WHERE e.level_of_care = ?3 AND e.admit_date > ?1 AND e.admit_date <= date(?2, '+30 days')"
    " GROUP BY 1"
    " UNION ALL SELECT $GROUP, count(*) FROM facts AS e JOIN sessions AS s"
    " ON s.episode_id = e.episode_id"
    " AND s.session_date > max(e.discharge_date, date(?1, '-1 day')) AND s.session_date <= ?2"
    " WHERE e.level_of_care = ?3 AND e.end_date >= date(?1, '-30 days') AND e.end_date < ?2"
    " AND e.discharge_date >= date(?1, '-30 days')"
    " AND e.discharge_date < ?2 GROUP BY 1) GROUP BY 1";

/* Two episodes overlap when each is admitted before the other ends; an
 * episode open on `to` has not ended. A discharge-day handover is no
 * overlap. */
static const char OVERLAP_SQL[] =
    "SELECT $GROUP, count(*), total(EXISTS (SELECT 1 FROM facts AS o"
    " WHERE o.client_id = e.client_id AND o.episode_id <> e.episode_id AND o.admit_date <= ?2"
    " AND o.admit_date < CASE WHEN e.discharge_date IS NULL OR e.discharge_date > ?2"
    " THEN '9999-12-31' ELSE e.discharge_date END"
    " AND e.admit_date < CASE WHEN o.discharge_date IS NULL OR o.discharge_date > ?2"
    " THEN '9999-12-31' ELSE o.discharge_date END)) FROM facts AS e WHERE" IOP_Q_ACTIVE
    " GROUP BY 1";

static const char BASELINE_SQL[] =
    "SELECT $GROUP, count(*), total(NOT EXISTS (SELECT 1 FROM assessments AS a"
    " WHERE a.episode_id = e.episode_id AND a.instrument = 'PHQ9'"
    " AND a.assessed_on BETWEEN date(e.admit_date, '-7 days') AND date(e.admit_date, '+14 days')))"
    " FROM facts AS e WHERE e.level_of_care = ?3 AND e.end_date BETWEEN ?1 AND ?2"
    " AND e.discharge_date BETWEEN ?1 AND ?2"
    " AND julianday(e.discharge_date) - julianday(e.admit_date) >= 14 GROUP BY 1";

/* A growing array of doubles. */
typedef struct dvec {
    double *v;
    size_t n, cap;
} dvec;

static bool dvec_push(dvec *d, double x)
{
    if (d->n == d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 256;
        double *v = realloc(d->v, cap * sizeof *v);
        if (!v)
            return false;
        d->v = v;
        d->cap = cap;
    }
    d->v[d->n++] = x;
    return true;
}

/* The TEMP tables of the groups' rows, fresh for each run with --by. */
static const char GROUP_TABLES_SQL[] =
    "DROP TABLE IF EXISTS temp.quality_grp; DROP TABLE IF EXISTS temp.quality_waits;"
    "CREATE TEMP TABLE quality_grp (q TEXT, grp TEXT, v0, v1, v2, v3, v4, v5, v6, v7, v8,"
    " PRIMARY KEY (q, grp)) WITHOUT ROWID;"
    "CREATE TEMP TABLE quality_waits (grp TEXT, w REAL);"
    "CREATE INDEX temp.quality_waits_grp ON quality_waits (grp)";
static const char GROUP_INSERT_SQL[] =
    "INSERT INTO temp.quality_grp VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
/* One group's row (?2), or the sum over the groups (?2 NULL). */
static const char GROUP_READ_SQL[] =
    "SELECT total(v0), total(v1), total(v2), total(v3), total(v4), total(v5), total(v6),"
    " total(v7), total(v8) FROM temp.quality_grp"
    " WHERE q = ?1 AND (?2 IS NULL OR grp = ?2)";

/* c without its dimension: $GROUP is 'all', so a query gives one row. */
static iop_mctx overall(const iop_mctx *c)
{
    iop_mctx o = *c;
    o.by = NULL;
    o.by_expr = NULL;
    return o;
}

/* Runs sql (group, then k values per row) for the whole, into v (zeros
 * without a row). */
static iop_code q_whole(const iop_mctx *c, const char *sql, int k, double *v, iop_error *err)
{
    iop_mctx o = overall(c);
    sqlite3_stmt *st;
    iop_code rc = iop_mctx_prepare(&o, sql, NULL, &st, err);
    int s;

    if (rc != IOP_OK)
        return rc;
    memset(v, 0, (size_t)k * sizeof *v);
    if ((s = sqlite3_step(st)) == SQLITE_ROW)
        for (int j = 0; j < k; j++)
            v[j] = sqlite3_column_double(st, j + 1);
    else if (s != SQLITE_DONE)
        rc = iop_mctx_fail(c, err);
    sqlite3_finalize(st);
    return rc;
}

/* Runs sql per group and keeps every group's row as query q. */
static iop_code q_keep(const iop_mctx *c, const char *q, const char *sql, int k, iop_error *err)
{
    sqlite3_stmt *st, *ins = NULL;
    int s = SQLITE_DONE;
    iop_code rc = iop_mctx_prepare(c, sql, NULL, &st, err);

    if (rc == IOP_OK && sqlite3_prepare_v2(c->db, GROUP_INSERT_SQL, -1, &ins, NULL) != SQLITE_OK)
        rc = iop_mctx_fail(c, err);
    while (rc == IOP_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
        sqlite3_bind_text(ins, 1, q, -1, SQLITE_STATIC);
        sqlite3_bind_value(ins, 2, sqlite3_column_value(st, 0));
        for (int j = 0; j < IOP_Q_MAXV; j++)
            sqlite3_bind_double(ins, 3 + j, j < k ? sqlite3_column_double(st, j + 1) : 0);
        if (sqlite3_step(ins) != SQLITE_DONE)
            rc = iop_mctx_fail(c, err);
        sqlite3_reset(ins);
    }
    if (rc == IOP_OK && s != SQLITE_DONE)
        rc = iop_mctx_fail(c, err);
    sqlite3_finalize(st);
    sqlite3_finalize(ins);
    return rc;
}

/* Reads group's row of query q, or the sum of every group's (group
 * NULL), into v (zeros without one). */
static iop_code q_read(const iop_mctx *c, const char *q, const char *group, int k, double *v,
                       iop_error *err)
{
    sqlite3_stmt *st;
    int s;

    if (sqlite3_prepare_v2(c->db, GROUP_READ_SQL, -1, &st, NULL) != SQLITE_OK)
        return iop_mctx_fail(c, err);
    sqlite3_bind_text(st, 1, q, -1, SQLITE_STATIC);
    if (group)
        sqlite3_bind_text(st, 2, group, -1, SQLITE_STATIC);
    if ((s = sqlite3_step(st)) == SQLITE_ROW)
        for (int j = 0; j < k; j++)
            v[j] = sqlite3_column_double(st, j);
    sqlite3_finalize(st);
    return s == SQLITE_ROW ? IOP_OK : iop_mctx_fail(c, err);
}

/* The k values of query q (sql) for group (NULL: the whole). With a
 * dimension the whole's call keeps every group's row, and the whole of a
 * count that adds up over groups (additive) is their sum; distinct
 * clients do not add up and are counted again. */
static iop_code q_values(const iop_mctx *c, const char *q, const char *sql, const char *group,
                         bool additive, int k, double *v, iop_error *err)
{
    iop_code rc;

    if (group)
        return q_read(c, q, group, k, v, err);
    if (!c->by)
        return q_whole(c, sql, k, v, err);
    rc = q_keep(c, q, sql, k, err);
    if (rc == IOP_OK && !additive)
        return q_whole(c, sql, k, v, err);
    if (rc == IOP_OK)
        rc = q_read(c, q, NULL, k, v, err);
    return rc;
}

/* The admissions' waits of group (NULL: all) into x. With a dimension
 * the whole's call keeps every group's waits and reads them all. */
static iop_code waits(const iop_mctx *c, const char *group, dvec *x, iop_error *err)
{
    iop_mctx o = overall(c);
    sqlite3_stmt *st;
    int s = SQLITE_DONE;
    iop_code rc = IOP_OK;

    if (!group && c->by) {
        char *sql = sqlite3_mprintf("INSERT INTO temp.quality_waits SELECT * FROM (%s)", WAIT_SQL);
        rc = sql ? iop_mctx_exec(c, sql, err) : iop_metrics_nomem(err);
        sqlite3_free(sql);
    }
    if (rc == IOP_OK && !c->by)
        rc = iop_mctx_prepare(&o, WAIT_SQL, NULL, &st, err);
    else if (rc == IOP_OK && sqlite3_prepare_v2(c->db, "SELECT grp, w FROM temp.quality_waits"
                                                " WHERE ?1 IS NULL OR grp = ?1", -1, &st,
                                                NULL) != SQLITE_OK)
        rc = iop_mctx_fail(c, err);
    else if (rc == IOP_OK && group)
        sqlite3_bind_text(st, 1, group, -1, SQLITE_STATIC);
    if (rc != IOP_OK)
        return rc;
    while (rc == IOP_OK && (s = sqlite3_step(st)) == SQLITE_ROW)
        if (!dvec_push(x, sqlite3_column_double(st, 1)))
            rc = iop_metrics_nomem(err);
    if (rc == IOP_OK && s != SQLITE_DONE)
        rc = iop_mctx_fail(c, err);
    sqlite3_finalize(st);
    return rc;
}

static iop_code wait_days(const iop_mctx *c, const char *group, iop_rows *rows, iop_error *err)
{
    static const double probs[3] = {0.25, 0.5, 0.75};
    dvec w = {0};
    double q[3];
    iop_code rc = waits(c, group, &w, err);
    iop_row *r = rc == IOP_OK ? iop_rows_add(rows, c, "wait_days_median", group) : NULL;

    if (rc == IOP_OK && !r)
        rc = iop_metrics_nomem(err);
    if (r) {
        r->n = (long)w.n;
        if (iop_stats_quantile(w.v, w.n, probs, 3, q) == IOP_STATS_OK) {
            iop_row_est(r, q[1]);
            iop_row_ci(r, q[0], q[2]);
            iop_row_note(r, "lower and upper are the quartiles, not a confidence interval");
        } else {
            iop_row_note(r, "no data");
        }
    }
    free(w.v);
    return rc;
}

static iop_code add_share(const iop_mctx *c, const char *group, iop_rows *rows,
                          const char *metric, const char *at, long x, long n,
                          iop_error *err)
{
    iop_row *r = iop_rows_add(rows, c, metric, group);
    if (!r)
        return iop_metrics_nomem(err);
    iop_row_share(r, x, n);
    if (at)
        iop_row_at(r, "%s", at);
    return IOP_OK;
}

/* One row per file of the current run, then the total (at ""). */
static iop_code rejected(const iop_mctx *c, iop_rows *rows, iop_error *err)
{
    sqlite3_stmt *st;
    long read = 0, rej = 0;
    int s = SQLITE_DONE;
    iop_code rc = iop_mctx_prepare(c, REJECTED_SQL, NULL, &st, err);

    while (rc == IOP_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
        long n = sqlite3_column_int64(st, 1), x = sqlite3_column_int64(st, 2);
        rc = add_share(c, NULL, rows, "dq_rejected", (const char *)sqlite3_column_text(st, 0),
                       x, n, err);
        read += n;
        rej += x;
    }
    if (rc == IOP_OK && s != SQLITE_DONE)
        rc = iop_mctx_fail(c, err);
    sqlite3_finalize(st);
    return rc == IOP_OK ? add_share(c, NULL, rows, "dq_rejected", NULL, rej, read, err) : rc;
}

/* Query q (sql: the count, then one count per field) as a completeness
 * row per field. */
static iop_code completeness(const iop_mctx *c, const char *group, const char *q,
                             const char *sql, bool additive, const char *const *fields,
                             iop_rows *rows, iop_error *err)
{
    double v[IOP_Q_MAXV];
    int k = 1;
    iop_code rc;

    while (fields[k - 1])
        k++;
    if (k > IOP_Q_MAXV)
        return iop_error_set(err, IOP_EIO, NULL, 0, 0, "internal error: %d fields", k - 1);
    if ((rc = q_values(c, q, sql, group, additive, k, v, err)) != IOP_OK)
        return rc;
    for (int i = 0; i + 1 < k && rc == IOP_OK; i++)
        rc = add_share(c, group, rows, "dq_completeness", fields[i], (long)v[i + 1],
                       (long)v[0], err);
    return rc;
}

/* A share whose query gives denominator, numerator. */
static iop_code simple_share(const iop_mctx *c, const char *group, const char *sql,
                             const char *metric, iop_rows *rows, iop_error *err)
{
    double v[2];
    iop_code rc = q_values(c, metric, sql, group, true, 2, v, err);

    return rc == IOP_OK ? add_share(c, group, rows, metric, NULL, (long)v[1], (long)v[0], err)
                        : rc;
}

/* Sessions outside their episode: a count (n = estimate). */
static iop_code outside(const iop_mctx *c, const char *group, iop_rows *rows, iop_error *err)
{
    double v[1];
    iop_row *r;
    iop_code rc = q_values(c, "dq_sessions_outside_episode", OUTSIDE_SQL, group, true, 1, v,
                           err);

    if (rc != IOP_OK)
        return rc;
    if (!(r = iop_rows_add(rows, c, "dq_sessions_outside_episode", group)))
        return iop_metrics_nomem(err);
    iop_row_count(r, (long)v[0]);
    return IOP_OK;
}

/* Each figure runs only when the caller wants it. */
static iop_code figures(const iop_mctx *c, const char *group, iop_rows *rows, iop_error *err)
{
    bool complete = iop_mctx_wants(c, "dq_completeness");
    iop_code rc = IOP_OK;

    if (!group && c->by && sqlite3_exec(c->db, GROUP_TABLES_SQL, NULL, NULL, NULL) != SQLITE_OK)
        return iop_mctx_fail(c, err);

    if (iop_mctx_wants(c, "wait_days_median"))
        rc = wait_days(c, group, rows, err);
    if (rc == IOP_OK && !group && iop_mctx_wants(c, "dq_rejected"))
        rc = rejected(c, rows, err);
    if (rc == IOP_OK && complete)
        rc = completeness(c, group, "episode_fields", EPISODE_FIELDS_SQL, true, EPISODE_FIELDS,
                          rows, err);
    if (rc == IOP_OK && complete)
        rc = completeness(c, group, "client_fields", CLIENT_FIELDS_SQL, false, CLIENT_FIELDS,
                          rows, err);
    if (rc == IOP_OK && iop_mctx_wants(c, "dq_open_over_180d"))
        rc = simple_share(c, group, OPEN_SQL, "dq_open_over_180d", rows, err);
    if (rc == IOP_OK && iop_mctx_wants(c, "dq_discharged_without_session"))
        rc = simple_share(c, group, NO_SESSION_SQL, "dq_discharged_without_session", rows, err);
    if (rc == IOP_OK && iop_mctx_wants(c, "dq_sessions_outside_episode"))
        rc = outside(c, group, rows, err);
    if (rc == IOP_OK && iop_mctx_wants(c, "dq_overlapping_episodes"))
        rc = simple_share(c, group, OVERLAP_SQL, "dq_overlapping_episodes", rows, err);
    if (rc == IOP_OK && iop_mctx_wants(c, "dq_missing_baseline"))
        rc = simple_share(c, group, BASELINE_SQL, "dq_missing_baseline", rows, err);
    return rc;
}

/* The metrics this section writes (the frame checks every row). */
static const char *const METRICS[] = {
    "dq_completeness", "dq_discharged_without_session", "dq_missing_baseline",
    "dq_open_over_180d", "dq_overlapping_episodes", "dq_rejected",
    "dq_sessions_outside_episode", "wait_days_median", NULL,
};

const iop_section iop_section_quality = {"quality", figures, NULL, METRICS};
