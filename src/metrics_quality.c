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
 * Everything is one aggregate query per figure; only the waits of the
 * admissions are held in memory.
 */
#include <stdlib.h>
#include <string.h>

#include "iop/metrics.h"
#include "iop/stats.h"

/* The level's episodes in treatment at some time in the period. */
#define IOP_Q_ACTIVE                                                        \
    " e.level_of_care = ?3 AND e.admit_date <= ?2"                          \
    " AND e.end_date >= ?1"                                                 \
    " AND (?4 IS NULL OR $GROUP = ?4)"

static const char WAIT_SQL[] =
    "SELECT julianday(e.admit_date) - julianday(e.referral_date) FROM facts AS e"
    " WHERE e.level_of_care = ?3 AND e.admit_date BETWEEN ?1 AND ?2"
    " AND e.referral_date IS NOT NULL AND (?4 IS NULL OR $GROUP = ?4)";

static const char REJECTED_SQL[] =
    "SELECT f.file, f.records_read, f.records_rejected FROM load_files AS f"
    " WHERE f.run_id = (SELECT max(run_id) FROM load_runs) ORDER BY f.file";

static const char EPISODE_FIELDS_SQL[] =
    "SELECT count(*), count(e.site), count(e.program), count(e.counselor_id),"
    " count(e.referral_date), count(e.moud) FROM facts AS e WHERE" IOP_Q_ACTIVE;

static const char CLIENT_FIELDS_SQL[] =
    "SELECT count(*), count(c.birth_year), count(c.sex), count(c.race),"
    " count(c.ethnicity), count(c.primary_substance), count(c.co_occurring),"
    " count(c.referral_source), count(c.payer) FROM clients AS c"
    " WHERE c.client_id IN (SELECT e.client_id FROM facts AS e WHERE" IOP_Q_ACTIVE ")";

static const char *const EPISODE_FIELDS[] = {
    "episodes.site", "episodes.program", "episodes.counselor_id",
    "episodes.referral_date", "episodes.moud", NULL};

static const char *const CLIENT_FIELDS[] = {
    "clients.birth_year", "clients.sex", "clients.race", "clients.ethnicity",
    "clients.primary_substance", "clients.co_occurring",
    "clients.referral_source", "clients.payer", NULL};

static const char OPEN_SQL[] =
    "SELECT count(*), total(julianday(?2) - julianday(e.admit_date) > 180) FROM facts AS e"
    " WHERE e.level_of_care = ?3 AND e.admit_date <= ?2"
    " AND e.end_date > ?2 AND (?4 IS NULL OR $GROUP = ?4)";

static const char NO_SESSION_SQL[] =
    "SELECT count(*), total(NOT EXISTS (SELECT 1 FROM sessions AS s"
    " WHERE s.episode_id = e.episode_id AND s.status = 'attended'"
    " AND s.session_date BETWEEN e.admit_date AND e.discharge_date)) FROM facts AS e"
    " WHERE e.level_of_care = ?3 AND e.discharge_date BETWEEN ?1 AND ?2"
    " AND (?4 IS NULL OR $GROUP = ?4)";

/* Two narrow index ranges per episode: the period's days before
 * admission, and those after discharge. The loader rejects sessions more
 * than 30 days outside their episode, which bounds the episodes read. */
static const char OUTSIDE_SQL[] =
    "SELECT (SELECT count(*) FROM facts AS e JOIN sessions AS s ON s.episode_id = e.episode_id"
    " AND s.session_date >= ?1 AND s.session_date < min(e.admit_date, date(?2, '+1 day'))"
    " WHERE e.level_of_care = ?3 AND e.admit_date > ?1 AND e.admit_date <= date(?2, '+30 days')"
    " AND (?4 IS NULL OR $GROUP = ?4))"
    " + (SELECT count(*) FROM facts AS e JOIN sessions AS s ON s.episode_id = e.episode_id"
    " AND s.session_date > max(e.discharge_date, date(?1, '-1 day')) AND s.session_date <= ?2"
    " WHERE e.level_of_care = ?3 AND e.discharge_date >= date(?1, '-30 days')"
    " AND e.discharge_date < ?2 AND (?4 IS NULL OR $GROUP = ?4))";

/* Two episodes overlap when each is admitted before the other ends; an
 * episode open on `to` has not ended. A discharge-day handover is no
 * overlap. */
static const char OVERLAP_SQL[] =
    "SELECT count(*), total(EXISTS (SELECT 1 FROM facts AS o"
    " WHERE o.client_id = e.client_id AND o.episode_id <> e.episode_id AND o.admit_date <= ?2"
    " AND o.admit_date < CASE WHEN e.discharge_date IS NULL OR e.discharge_date > ?2"
    " THEN '9999-12-31' ELSE e.discharge_date END"
    " AND e.admit_date < CASE WHEN o.discharge_date IS NULL OR o.discharge_date > ?2"
    " THEN '9999-12-31' ELSE o.discharge_date END)) FROM facts AS e WHERE" IOP_Q_ACTIVE;

static const char BASELINE_SQL[] =
    "SELECT count(*), total(NOT EXISTS (SELECT 1 FROM assessments AS a"
    " WHERE a.episode_id = e.episode_id AND a.instrument = 'PHQ9'"
    " AND a.assessed_on BETWEEN date(e.admit_date, '-7 days') AND date(e.admit_date, '+14 days')))"
    " FROM facts AS e WHERE e.level_of_care = ?3 AND e.discharge_date BETWEEN ?1 AND ?2"
    " AND julianday(e.discharge_date) - julianday(e.admit_date) >= 14"
    " AND (?4 IS NULL OR $GROUP = ?4)";

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

/* Streams the first column of every row of sql into x. */
static iop_code stream(const iop_mctx *c, const char *sql, const char *group,
                       dvec *x, iop_error *err)
{
    sqlite3_stmt *st;
    iop_code rc = iop_mctx_prepare(c, sql, group, &st, err);
    int s = SQLITE_DONE;

    while (rc == IOP_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
        if (!dvec_push(x, sqlite3_column_double(st, 0)))
            rc = iop_metrics_nomem(err);
    }
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
    iop_code rc = stream(c, WAIT_SQL, group, &w, err);
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

/* Runs sql (one row: the count, then one count per field) and writes a
 * completeness row per field. */
static iop_code completeness(const iop_mctx *c, const char *group, const char *sql,
                             const char *const *fields, iop_rows *rows, iop_error *err)
{
    sqlite3_stmt *st;
    iop_code rc = iop_mctx_row(c, sql, group, &st, err);

    if (rc != IOP_OK)
        return rc;
    long n = sqlite3_column_int64(st, 0);
    for (int i = 0; fields[i] && rc == IOP_OK; i++)
        rc = add_share(c, group, rows, "dq_completeness", fields[i],
                       sqlite3_column_int64(st, i + 1), n, err);
    sqlite3_finalize(st);
    return rc;
}

/* A share whose SQL gives one row: denominator, numerator. */
static iop_code simple_share(const iop_mctx *c, const char *group, const char *sql,
                             const char *metric, iop_rows *rows, iop_error *err)
{
    sqlite3_stmt *st;
    iop_code rc = iop_mctx_row(c, sql, group, &st, err);

    if (rc != IOP_OK)
        return rc;
    long n = sqlite3_column_int64(st, 0), x = (long)sqlite3_column_double(st, 1);
    sqlite3_finalize(st);
    return add_share(c, group, rows, metric, NULL, x, n, err);
}

/* Sessions outside their episode: a count (n = estimate). */
static iop_code outside(const iop_mctx *c, const char *group, iop_rows *rows, iop_error *err)
{
    sqlite3_stmt *st;
    iop_code rc = iop_mctx_row(c, OUTSIDE_SQL, group, &st, err);
    iop_row *r;

    if (rc != IOP_OK)
        return rc;
    long n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (!(r = iop_rows_add(rows, c, "dq_sessions_outside_episode", group)))
        return iop_metrics_nomem(err);
    iop_row_count(r, n);
    return IOP_OK;
}

/* Each figure runs only when the caller wants it. */
static iop_code figures(const iop_mctx *c, const char *group, iop_rows *rows, iop_error *err)
{
    bool complete = iop_mctx_wants(c, "dq_completeness");
    iop_code rc = IOP_OK;

    if (iop_mctx_wants(c, "wait_days_median"))
        rc = wait_days(c, group, rows, err);
    if (rc == IOP_OK && !group && iop_mctx_wants(c, "dq_rejected"))
        rc = rejected(c, rows, err);
    if (rc == IOP_OK && complete)
        rc = completeness(c, group, EPISODE_FIELDS_SQL, EPISODE_FIELDS, rows, err);
    if (rc == IOP_OK && complete)
        rc = completeness(c, group, CLIENT_FIELDS_SQL, CLIENT_FIELDS, rows, err);
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
