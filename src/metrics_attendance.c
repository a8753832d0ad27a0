/*
 * metrics_attendance.c - metrics.md section 5: attendance and intensity of
 * the level's episodes in the period.
 *   attendance_rate, no_show_rate, cancel_rate
 *       sessions dated in [from, to] and inside their episode (admit to
 *       discharge, or to `to` when open); denominator = sessions not
 *       cancelled by the program; ratio estimator clustered by client
 *   weekly_hours_mean, asam_hours_met, weekly_hours_over_19
 *       full treatment weeks whose last day is in the period (as of `to`);
 *       the same clustered ratio estimator over weeks
 *   iet_initiation, iet_engagement
 *       the HEDIS IET shape over index admissions whose window closed by
 *       `to` (13 and 47 days); Wilson intervals
 *   watch_list
 *       the count of clients open on `to` that meet either watch rule
 * The rates are aggregated per client in SQL, which is exact for the
 * clustered estimator (its variance uses only the clients' totals), so
 * memory grows with clients, never with sessions. The sessions are read
 * once per run: the first call (group NULL) writes each client's totals
 * per --by group into the TEMP tables attendance_rates and
 * attendance_weeks, and every group's figures, and the overall ones
 * (summed over a client's groups), read those. The other figures are one
 * aggregate SQL statement each. docs/metrics/attendance.md documents each
 * name.
 */
#include <stdlib.h>
#include <string.h>

#include "iop/metrics.h"
#include "iop/stats.h"

/* Per segment of the period (iop_mctx_segments()), group and client:
 * attended, no_show, cancelled_client, eligible sessions. */
static const char RATE_SEG_CREATE[] =
    "CREATE TEMP TABLE att_rates_seg (seg TEXT, grp TEXT, client_id TEXT,"
    " a REAL, b REAL, c REAL, d REAL);"
    "CREATE INDEX temp.att_rates_seg_seg ON att_rates_seg (seg)";
static const char RATE_SQL[] =
    "INSERT INTO temp.att_rates_seg SELECT ?5, $GROUP AS grp, e.client_id AS client_id,"
    " total(s.status = 'attended') AS a, total(s.status = 'no_show') AS b,"
    " total(s.status = 'cancelled_client') AS c, total(s.status <> 'cancelled_program') AS d"
    " FROM facts AS e JOIN sessions AS s ON s.episode_id = e.episode_id"
    " AND s.session_date BETWEEN max(?1, e.admit_date)"
    " AND min(?2, coalesce(e.discharge_date, ?2))"
    " WHERE e.level_of_care = ?3 AND e.admit_date <= ?2"
    " AND e.end_date >= ?1"
    " GROUP BY 2, 3";

/*
 * Per client: full weeks whose last day is in [from, to], their attended
 * minutes, the weeks that meet the ASAM hours (540 minutes, 360 under 18)
 * and the weeks over 1,140 minutes. k0 .. k1 are an episode's weeks in
 * the period: k0 = ceil((from - admit + 1) / 7), at least 1; k1 = the last
 * full week as of min(discharge, to).
 */
static const char WEEK_SEG_CREATE[] =
    "CREATE TEMP TABLE att_weeks_seg (seg TEXT, grp TEXT, client_id TEXT,"
    " a REAL, b REAL, c REAL, d REAL);"
    "CREATE INDEX temp.att_weeks_seg_seg ON att_weeks_seg (seg)";
static const char WEEK_SQL[] =
    "INSERT INTO temp.att_weeks_seg"
    " WITH ep AS (SELECT e.episode_id, e.client_id, $GROUP AS grp, e.admit_date,"
    "   CASE WHEN e.age < 18 THEN 360 ELSE 540 END AS need,"
    "   max(1, (CAST(julianday(?1) - julianday(e.admit_date) AS INTEGER) + 7) / 7) AS k0,"
    "   CAST((min(julianday(?2), julianday(coalesce(e.discharge_date, ?2)))"
    "     - julianday(e.admit_date) + 1) / 7 AS INTEGER) AS k1"
    " FROM facts AS e WHERE e.level_of_care = ?3 AND e.admit_date <= ?2"
    " AND e.end_date >= ?1),"
    " w AS (SELECT ep.client_id, ep.grp, ep.need,"
    "   CAST((julianday(s.session_date) - julianday(ep.admit_date)) / 7 AS INTEGER) AS k,"
    "   sum(s.minutes) AS m"
    "   FROM ep JOIN sessions AS s ON s.episode_id = ep.episode_id AND s.status = 'attended'"
    "   AND s.session_date BETWEEN date(ep.admit_date, printf('%+d days', 7 * (ep.k0 - 1)))"
    "   AND date(ep.admit_date, printf('%+d days', 7 * ep.k1 - 1))"
    "   WHERE ep.k1 >= ep.k0 GROUP BY ep.episode_id, k)"
    " SELECT ?5, grp, client_id, sum(wk) AS a, sum(m) AS b, sum(met) AS c, sum(over) AS d FROM ("
    "   SELECT grp, client_id, max(0, k1 - k0 + 1) AS wk, 0 AS m, 0 AS met, 0 AS over FROM ep"
    "   UNION ALL SELECT grp, client_id, 0, m, m >= need, m > 1140 FROM w)"
    " GROUP BY grp, client_id";

/* The period's totals per group and client, summed over its segments
 * (%s: the table made of them, then the segments' table). */
static const char TOTALS_SQL[] =
    "CREATE TEMP TABLE %s AS SELECT grp, client_id, total(a) AS a, total(b) AS b,"
    " total(c) AS c, total(d) AS d FROM temp.%s WHERE seg BETWEEN ?5 AND ?6"
    " GROUP BY grp, client_id";

/* A client's totals from one of the tables above: over all its groups
 * (?4 NULL), or in group ?4; in client order. Weeks keep the clients with
 * at least one week in the period. */
static const char RATE_READ_SQL[] =
    "SELECT total(a), total(b), total(c), total(d) FROM temp.attendance_rates"
    " WHERE ?4 IS NULL OR grp = ?4 GROUP BY client_id ORDER BY client_id";
static const char WEEK_READ_SQL[] =
    "SELECT total(a), total(b), total(c), total(d) FROM temp.attendance_weeks"
    " WHERE ?4 IS NULL OR grp = ?4 GROUP BY client_id HAVING total(a) > 0 ORDER BY client_id";

/*
 * Index admissions in [from - ?5, to - ?5]: how many, how many initiated
 * (an attended session inside the episode on the admit day or the 13
 * after) and how many engaged (attended sessions on two or more distinct
 * dates in (initiation, initiation + 34], inside the episode).
 */
static const char IET_SQL[] =
    "WITH ix AS (SELECT e.episode_id, e.admit_date,"
    "   coalesce(e.discharge_date, '9999-12-31') AS dis"
    "   FROM facts AS e WHERE e.level_of_care = ?3"
    "   AND e.admit_date BETWEEN date(?1, printf('-%d days', ?5)) AND date(?2, printf('-%d days', ?5))"
    "   AND (?4 IS NULL OR $GROUP = ?4)),"
    " init AS (SELECT ix.episode_id, ix.dis, (SELECT min(s.session_date) FROM sessions AS s"
    "   WHERE s.episode_id = ix.episode_id AND s.status = 'attended'"
    "   AND s.session_date BETWEEN ix.admit_date AND min(ix.dis, date(ix.admit_date, '+13 days'))) AS d0"
    "   FROM ix)"
    " SELECT count(*), count(d0), total((SELECT count(DISTINCT s.session_date) FROM sessions AS s"
    "   WHERE s.episode_id = init.episode_id AND s.status = 'attended'"
    "   AND s.session_date > init.d0 AND s.session_date <= min(init.dis, date(init.d0, '+34 days'))) >= 2)"
    " FROM init";

/*
 * Clients with an episode at the level open on `to` whose last two
 * sessions inside the episode up to `to` (by date, then session_id;
 * cancelled_program skipped) are both no_show, or admitted 7 or more
 * days before `to` with no attended session in [to - 6, to].
 */
static const char WATCH_SQL[] =
    "WITH op AS (SELECT e.episode_id, e.client_id, e.admit_date FROM facts AS e"
    "   WHERE e.level_of_care = ?3 AND e.admit_date <= ?2"
    "   AND e.end_date > ?2"
    "   AND (?4 IS NULL OR $GROUP = ?4))"
    " SELECT count(DISTINCT op.client_id) FROM op WHERE"
    " (SELECT count(*) FROM (SELECT s.status FROM sessions AS s"
    "   WHERE s.episode_id = op.episode_id AND s.session_date BETWEEN op.admit_date AND ?2"
    "   AND s.status <> 'cancelled_program'"
    "   ORDER BY s.session_date DESC, s.session_id DESC LIMIT 2) AS l"
    "   WHERE l.status = 'no_show') = 2"
    " OR (op.admit_date <= date(?2, '-7 days') AND NOT EXISTS (SELECT 1 FROM sessions AS s"
    "   WHERE s.episode_id = op.episode_id AND s.status = 'attended'"
    "   AND s.session_date BETWEEN date(?2, '-6 days') AND ?2))";

/* Per-client totals: k columns, one row per client, column-major. */
typedef struct totals {
    double *col[4];
    size_t n, cap;
} totals;

static void totals_release(totals *t)
{
    for (int j = 0; j < 4; j++)
        free(t->col[j]);
    memset(t, 0, sizeof *t);
}

/* Appends the current row of st (4 columns); false when out of memory. */
static bool totals_add(totals *t, sqlite3_stmt *st)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 1024;
        for (int j = 0; j < 4; j++) {
            double *v = realloc(t->col[j], cap * sizeof *v);
            if (!v)
                return false;
            t->col[j] = v;
        }
        t->cap = cap;
    }
    for (int j = 0; j < 4; j++)
        t->col[j][t->n] = sqlite3_column_double(st, j);
    t->n++;
    return true;
}

/* Runs sql for group into t: one row per client. */
static iop_code read_totals(const iop_mctx *c, const char *sql, const char *group,
                            totals *t, iop_error *err)
{
    sqlite3_stmt *st;
    iop_code rc = iop_mctx_prepare(c, sql, group, &st, err);
    int s = SQLITE_DONE;

    memset(t, 0, sizeof *t);
    while (rc == IOP_OK && (s = sqlite3_step(st)) == SQLITE_ROW)
        if (!totals_add(t, st))
            rc = iop_metrics_nomem(err);
    if (rc == IOP_OK && s != SQLITE_DONE)
        rc = iop_mctx_fail(c, err);
    sqlite3_finalize(st);
    return rc;
}

static double sum(const double *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += v[i];
    return s;
}

/*
 * Adds metric = sum(y) / sum(x) over the clients' totals with the
 * clustered interval (each row is one client, so its own cluster).
 * n = sum(x), the units of the denominator.
 */
static iop_code ratio_row(const iop_mctx *c, const char *group, iop_rows *rows,
                          const char *metric, const double *y, const double *x,
                          size_t m, iop_error *err)
{
    iop_stats_ratio_result res;
    iop_row *r = iop_rows_add(rows, c, metric, group);

    if (!r)
        return iop_metrics_nomem(err);
    r->n = m ? (long)sum(x, m) : 0;
    switch (iop_stats_ratio(y, x, NULL, m, &res)) {
    case IOP_STATS_OK:
        iop_row_est(r, res.estimate);
        iop_row_ci(r, res.lower, res.upper);
        break;
    case IOP_STATS_EMPTY:
        iop_row_note(r, "no data");
        break;
    case IOP_STATS_NOT_ESTIMABLE:
        if (r->n == 0)
            iop_row_note(r, "no data");
        else {
            iop_row_est(r, res.estimate);
            iop_row_note(r, "one client: no clustered interval");
        }
        break;
    case IOP_STATS_NOMEM:
        return iop_metrics_nomem(err);
    default:
        iop_row_note(r, "not estimable");
    }
    return IOP_OK;
}

/* Builds one segment of the period: the sessions or weeks dated in it. */
static iop_code build_seg(const iop_mctx *seg, const char *key, void *sql, iop_error *err)
{
    return iop_mctx_exec_key(seg, sql, key, err);
}

/* (Re)creates the per group and client TEMP table `table` (the first
 * call of a run) from the segments of the period in table `segs`, built
 * with sql where missing: a month that an earlier call on the connection
 * built is not read again. */
static iop_code materialize(const iop_mctx *c, const char *table, const char *segs,
                            const char *create, const char *sql, iop_error *err)
{
    iop_segs sg;
    sqlite3_stmt *st;
    char drop[64], make[sizeof TOTALS_SQL + 64];
    iop_code rc = iop_mctx_segments(c, segs, create, build_seg, (void *)sql, &sg, err);

    snprintf(drop, sizeof drop, "DROP TABLE IF EXISTS temp.%s", table);
    snprintf(make, sizeof make, TOTALS_SQL, table, segs);
    if (rc == IOP_OK && sqlite3_exec(c->db, drop, NULL, NULL, NULL) != SQLITE_OK)
        rc = iop_mctx_fail(c, err);
    if (rc == IOP_OK)
        rc = iop_mctx_prepare(c, make, NULL, &st, err);
    if (rc != IOP_OK)
        return rc;
    iop_segs_bind(&sg, st);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = iop_mctx_fail(c, err);
    sqlite3_finalize(st);
    return rc;
}

/* The metrics of the two per client tables. */
static const char *const RATES[] = {"attendance_rate", "no_show_rate", "cancel_rate"};
static const char *const WEEKS[] = {"weekly_hours_mean", "asam_hours_met",
                                    "weekly_hours_over_19"};

static iop_code rates(const iop_mctx *c, const char *group, iop_rows *rows, iop_error *err)
{
    totals t = {0};
    iop_code rc = group ? IOP_OK : materialize(c, "attendance_rates", "att_rates_seg",
                                                 RATE_SEG_CREATE, RATE_SQL, err);

    if (rc == IOP_OK)
        rc = read_totals(c, RATE_READ_SQL, group, &t, err);

    for (int j = 0; j < 3 && rc == IOP_OK; j++)
        rc = ratio_row(c, group, rows, RATES[j], t.col[j], t.col[3], t.n, err);
    totals_release(&t);
    return rc;
}

/* Hours per week: the minutes' column divided by 60, in place. */
static iop_code weeks(const iop_mctx *c, const char *group, iop_rows *rows, iop_error *err)
{
    totals t = {0};
    iop_code rc = group ? IOP_OK : materialize(c, "attendance_weeks", "att_weeks_seg",
                                                 WEEK_SEG_CREATE, WEEK_SQL, err);

    if (rc == IOP_OK)
        rc = read_totals(c, WEEK_READ_SQL, group, &t, err);

    for (size_t i = 0; i < t.n; i++)
        t.col[1][i] /= 60.0;
    for (int j = 0; j < 3 && rc == IOP_OK; j++)
        rc = ratio_row(c, group, rows, WEEKS[j], t.col[j + 1], t.col[0], t.n, err);
    totals_release(&t);
    return rc;
}

/* Index admissions, initiated, engaged for the window of w days. */
static iop_code iet_counts(const iop_mctx *c, const char *group, int w, long out[3],
                           iop_error *err)
{
    sqlite3_stmt *st;
    iop_code rc = iop_mctx_prepare(c, IET_SQL, group, &st, err);

    if (rc != IOP_OK)
        return rc;
    sqlite3_bind_int(st, 5, w);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return iop_mctx_fail(c, err);
    }
    for (int j = 0; j < 3; j++)
        out[j] = (long)sqlite3_column_double(st, j);
    sqlite3_finalize(st);
    return IOP_OK;
}

/* Initiation reads the 13-day window (numerator: initiated), engagement
 * the 47-day one (numerator: engaged); each only when wanted. */
static iop_code iet(const iop_mctx *c, const char *group, iop_rows *rows, iop_error *err)
{
    static const struct { const char *name; int days, num; } IET[] = {
        {"iet_initiation", 13, 1}, {"iet_engagement", 47, 2}};

    for (size_t i = 0; i < sizeof IET / sizeof IET[0]; i++) {
        long v[3];
        iop_row *r;
        iop_code rc;

        if (!iop_mctx_wants(c, IET[i].name))
            continue;
        if ((rc = iet_counts(c, group, IET[i].days, v, err)) != IOP_OK)
            return rc;
        if (!(r = iop_rows_add(rows, c, IET[i].name, group)))
            return iop_metrics_nomem(err);
        iop_row_share(r, v[IET[i].num], v[0]);
    }
    return IOP_OK;
}

static iop_code watch(const iop_mctx *c, const char *group, iop_rows *rows, iop_error *err)
{
    sqlite3_stmt *st;
    iop_row *r;
    iop_code rc = iop_mctx_row(c, WATCH_SQL, group, &st, err);

    if (rc != IOP_OK)
        return rc;
    long count = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (!(r = iop_rows_add(rows, c, "watch_list", group)))
        return iop_metrics_nomem(err);
    iop_row_count(r, count);
    return IOP_OK;
}

/* A part runs only when the caller wants one of its metrics. */
static iop_code figures(const iop_mctx *c, const char *group, iop_rows *rows, iop_error *err)
{
    iop_code rc = IOP_OK;

    if (iop_mctx_wants_any(c, RATES, 3))
        rc = rates(c, group, rows, err);
    if (rc == IOP_OK && iop_mctx_wants_any(c, WEEKS, 3))
        rc = weeks(c, group, rows, err);
    if (rc == IOP_OK)
        rc = iet(c, group, rows, err);
    if (rc == IOP_OK && iop_mctx_wants(c, "watch_list"))
        rc = watch(c, group, rows, err);
    return rc;
}

/* The metrics this section writes (the frame checks every row). */
static const char *const METRICS[] = {
    "asam_hours_met", "attendance_rate", "cancel_rate", "iet_engagement",
    "iet_initiation", "no_show_rate", "watch_list", "weekly_hours_mean",
    "weekly_hours_over_19", NULL,
};

const iop_section iop_section_attendance = {"attendance", figures, NULL, METRICS};
