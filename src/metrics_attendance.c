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
 * The rates are added up per client before the estimator, which is exact
 * for the clustered estimator (its variance uses only the clients'
 * totals), so memory grows with clients, never with sessions. The sessions
 * are read once per connection and month segment
 * (iop_mctx_segments_episodes()): one row per episode and month, which
 * every --by dimension's calls share (the workbook's months overall, by
 * program and by counselor read the month's sessions once). The first call
 * of a run (group NULL) sums the period's segments into each client's
 * totals per group (TEMP tables attendance_rates and attendance_weeks);
 * every group's figures, and the overall ones (summed over a client's
 * groups), read those. IET keeps one row per index admission and segment
 * too; the watch list flags the open episodes of every group once (TEMP
 * table watch_flags).
 * docs/metrics/attendance.md documents each name.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "iop/date.h"
#include "iop/metrics.h"
#include "iop/stats.h"

/*
 * The per-episode table, per segment of the period
 * (iop_mctx_segments_episodes(); rid is the episode's rowid in facts):
 * rates a = attended, b = no_show, c = cancelled_client, d = eligible
 * sessions (not cancelled by the program), with r = 1 when the episode
 * has a session in the period (the rates read only those rows); weeks
 * wa = full weeks, wb = their attended minutes, wc = weeks that meet the
 * ASAM hours (540 minutes, 360 under 18), wd = weeks over 1,140 minutes.
 * One stream of the episode's sessions, in episode order, feeds both,
 * added up in C: a GROUP BY in SQL sorted every session of the segment,
 * which took most of the time on 10M sessions, and a stream each read
 * the month's sessions twice.
 */
static const char SEG_CREATE[] =
    "CREATE TEMP TABLE att_seg (seg TEXT, rid INTEGER, client_id TEXT, r INTEGER,"
    " a REAL, b REAL, c REAL, d REAL, wa REAL, wb REAL, wc REAL, wd REAL);"
    "CREATE INDEX temp.att_seg_seg ON att_seg (seg)";

/*
 * Every episode overlapping [from, to] with its full weeks whose last day
 * is in the period (as of `to`), then its sessions from the first day of
 * the first such week to min(discharge, to), by date. k0 .. k1 are the
 * episode's weeks in the period: k0 = ceil((from - admit + 1) / 7), at
 * least 1; k1 = the last full week as of min(discharge, to). SQL needs k0
 * for the range only; C computes k0 and k1 once per episode from the
 * dates, and each attended session's week (week 1 is the admit day to
 * day 6): julianday() in a result column runs for every session row and
 * took a third of the stream's time. Week k0 starts on or before
 * max(from, admit), so the range holds both the period's sessions inside
 * the episode (the rates; column 6 says which) and the attended sessions
 * of the weeks. An episode without such sessions comes once, with a NULL
 * date. `+e.level_of_care` scans facts in rowid order (218,288 rows on
 * 10M sessions, a few ms), so the ORDER BY costs no sort.
 */
static const char SEG_SQL[] =
    "WITH ep AS (SELECT e.rowid AS rid, e.episode_id, e.client_id, e.admit_date,"
    "   e.discharge_date, CASE WHEN e.age < 18 THEN 360 ELSE 540 END AS need,"
    "   max(1, (CAST(julianday(?1) - julianday(e.admit_date) AS INTEGER) + 7) / 7) AS k0"
    " FROM facts AS e WHERE +e.level_of_care = ?3 AND e.admit_date <= ?2"
    " AND e.end_date >= ?1)"
    " SELECT ep.rid, ep.client_id, ep.need, ep.discharge_date, ep.admit_date,"
    "   s.session_date, s.session_date >= max(?1, ep.admit_date), s.status, s.minutes"
    " FROM ep LEFT JOIN sessions AS s ON s.episode_id = ep.episode_id"
    "   AND s.session_date BETWEEN date(ep.admit_date, printf('%+d days', 7 * (ep.k0 - 1)))"
    "   AND min(?2, coalesce(ep.discharge_date, ?2))"
    " ORDER BY ep.rid, s.session_date";

static const char SEG_INSERT_SQL[] =
    "INSERT INTO temp.att_seg VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";

/* One episode's totals while its rows stream by. */
typedef struct episode_acc {
    long from, to;              /* the segment's period (day numbers) */
    bool open;                  /* an episode is being added up */
    sqlite3_int64 rid;          /* its rowid in facts */
    char *client;
    bool rated;                 /* it has a session in the period */
    double v[4], w[4];          /* the table's a .. d, wa .. wd */
    long k0, k1, need;          /* its weeks in the period; the ASAM minutes */
    long admit;                 /* the admit day */
    long week;                  /* the week being added up (0: none) */
    double minutes;
} episode_acc;

/* Ends the week being added up into w. */
static void week_end(episode_acc *a)
{
    if (a->week) {
        a->w[1] += a->minutes;
        a->w[2] += a->minutes >= (double)a->need;
        a->w[3] += a->minutes > 1140;
    }
    a->week = 0;
    a->minutes = 0;
}

/* Writes the episode being added up as one row of the segment table. */
static bool episode_put(sqlite3_stmt *ins, episode_acc *a)
{
    if (!a->open)
        return true;
    sqlite3_bind_int64(ins, 2, a->rid);
    sqlite3_bind_text(ins, 3, a->client, -1, SQLITE_STATIC);
    sqlite3_bind_int(ins, 4, a->rated);
    for (int j = 0; j < 4; j++) {
        sqlite3_bind_double(ins, 5 + j, a->v[j]);
        sqlite3_bind_double(ins, 9 + j, a->w[j]);
    }
    bool ok = sqlite3_step(ins) == SQLITE_DONE;
    sqlite3_reset(ins);
    a->open = false;
    return ok;
}

/* Column j of st as a day number; false when NULL or not a date (the
 * load stores only valid ISO dates). */
static bool column_day(sqlite3_stmt *st, int j, long *day)
{
    const char *t = (const char *)sqlite3_column_text(st, j);

    return t && iop_date_parse(t, (size_t)sqlite3_column_bytes(st, j), day);
}

/* Writes the episode before and starts the row's: its rowid, client,
 * weeks and admit day (iop_episode_build's codes). */
static iop_code episode_start(sqlite3_stmt *st, sqlite3_stmt *ins, episode_acc *a)
{
    week_end(a);
    if (!episode_put(ins, a))
        return IOP_EIO;
    a->rid = sqlite3_column_int64(st, 0);
    if (!iop_column_dup(&a->client, st, 1))
        return IOP_ENOMEM;
    memset(a->v, 0, sizeof a->v);
    memset(a->w, 0, sizeof a->w);
    a->rated = false;
    a->need = sqlite3_column_int64(st, 2);
    a->open = true;
    /* the weeks as SEG_SQL finds k0 (integer division as SQLite's) */
    long dis;
    if (!column_day(st, 4, &a->admit)) {
        a->admit = LONG_MIN;
        a->k0 = 1;
        a->k1 = 0;
        return IOP_OK;
    }
    if (!column_day(st, 3, &dis) || dis > a->to)
        dis = a->to;
    a->k0 = (a->from - a->admit + 7) / 7;
    if (a->k0 < 1)
        a->k0 = 1;
    a->k1 = (dis - a->admit + 1) / 7;
    a->w[0] = a->k1 >= a->k0 ? (double)(a->k1 - a->k0 + 1) : 0;
    return IOP_OK;
}

/* Adds one session: to the rates when it is in the period, its minutes
 * to its week when attended in one of the period's full weeks. */
static iop_code episode_add(void *acc, sqlite3_stmt *st, bool fresh, sqlite3_stmt *ins)
{
    episode_acc *a = acc;
    iop_code rc = fresh ? episode_start(st, ins, a) : IOP_OK;
    const char *status = (const char *)sqlite3_column_text(st, 7);
    long day;

    if (rc != IOP_OK || !status)
        return rc;
    bool attended = strcmp(status, "attended") == 0;
    if (sqlite3_column_int(st, 6)) {
        a->rated = true;
        a->v[0] += attended;
        a->v[1] += strcmp(status, "no_show") == 0;
        a->v[2] += strcmp(status, "cancelled_client") == 0;
        a->v[3] += strcmp(status, "cancelled_program") != 0;
    }
    if (!attended || a->admit == LONG_MIN || !column_day(st, 5, &day))
        return IOP_OK;
    long k = (day - a->admit) / 7 + 1;
    if (k < a->k0 || k > a->k1)
        return IOP_OK;
    if (k != a->week) {
        week_end(a);
        a->week = k;
    }
    a->minutes += sqlite3_column_double(st, 8);
    return IOP_OK;
}

static iop_code episode_end(void *acc, sqlite3_stmt *ins)
{
    episode_acc *a = acc;

    week_end(a);
    return episode_put(ins, a) ? IOP_OK : IOP_EIO;
}

/* Builds one segment: its rows stream by episode, each episode becomes
 * one row. */
static iop_code build_seg(const iop_mctx *seg, const char *key, void *arg, iop_error *err)
{
    static const iop_episode_build B = {episode_add, episode_end};
    episode_acc a = {.from = seg->from, .to = seg->to};
    iop_code rc;

    (void)arg;
    rc = iop_mctx_episodes(seg, SEG_SQL, SEG_INSERT_SQL, key, &B, &a, err);
    free(a.client);
    return rc;
}

/* The period's totals per group and client, summed over its segments:
 * the rates of the episodes with a session in the period, the weeks of
 * every episode; each episode's group from facts. */
static const char RATE_TOTALS_SQL[] =
    "CREATE TEMP TABLE attendance_rates AS SELECT $GROUP AS grp, s.client_id,"
    " total(s.a) AS a, total(s.b) AS b, total(s.c) AS c, total(s.d) AS d"
    " FROM temp.att_seg AS s JOIN facts AS e ON e.rowid = s.rid"
    " WHERE s.seg BETWEEN ?5 AND ?6 AND s.r GROUP BY 1, 2";
static const char WEEK_TOTALS_SQL[] =
    "CREATE TEMP TABLE attendance_weeks AS SELECT $GROUP AS grp, s.client_id,"
    " total(s.wa) AS a, total(s.wb) AS b, total(s.wc) AS c, total(s.wd) AS d"
    " FROM temp.att_seg AS s JOIN facts AS e ON e.rowid = s.rid"
    " WHERE s.seg BETWEEN ?5 AND ?6 GROUP BY 1, 2";

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
 * Per segment of the period (iop_mctx_segments_episodes()): one row per
 * index admission in [from - ?6, to - ?6] (its rowid in facts), whether it
 * initiated (an attended session inside the episode on the admit day or
 * the 13 after) and whether it engaged (attended sessions on two or more
 * distinct dates in (initiation, initiation + 34], inside the episode).
 * The segments' windows of admissions tile the period's, so the counts
 * add up; each group's are read through facts.
 */
static const char IET_SEG_CREATE[] =
    "CREATE TEMP TABLE %s (seg TEXT, rid INTEGER, init INTEGER, eng INTEGER);"
    "CREATE INDEX temp.%s_seg ON %s (seg)";
static const char IET_SQL[] =
    "INSERT INTO temp.%s"
    " WITH ix AS (SELECT e.rowid AS rid, e.episode_id, e.admit_date,"
    "   coalesce(e.discharge_date, '9999-12-31') AS dis"
    "   FROM facts AS e WHERE e.level_of_care = ?3"
    "   AND e.admit_date BETWEEN date(?1, printf('-%%d days', ?6))"
    "   AND date(?2, printf('-%%d days', ?6))),"
    " init AS (SELECT ix.rid, ix.episode_id, ix.dis,"
    "   (SELECT min(s.session_date) FROM sessions AS s"
    "   WHERE s.episode_id = ix.episode_id AND s.status = 'attended'"
    "   AND s.session_date BETWEEN ix.admit_date"
    "   AND min(ix.dis, date(ix.admit_date, '+13 days'))) AS d0"
    "   FROM ix)"
    " SELECT ?5, rid, d0 IS NOT NULL,"
    " coalesce((SELECT count(DISTINCT s.session_date) FROM sessions AS s"
    "   WHERE s.episode_id = init.episode_id AND s.status = 'attended'"
    "   AND s.session_date > init.d0"
    "   AND s.session_date <= min(init.dis, date(init.d0, '+34 days'))) >= 2, 0)"
    " FROM init";
static const char IET_READ_SQL[] =
    "SELECT count(*), total(s.init), total(s.eng) FROM temp.%s AS s"
    " JOIN facts AS e ON e.rowid = s.rid"
    " WHERE s.seg BETWEEN ?5 AND ?6 AND (?4 IS NULL OR $GROUP = ?4)";

/*
 * Episodes at the level open on `to` whose last two sessions inside the
 * episode up to `to` (by date, then session_id; cancelled_program
 * skipped) are both no_show, or admitted 7 or more days before `to` with
 * no attended session in [to - 6, to]: their group and client, for every
 * group at once (the first call of a run, group NULL, makes the table);
 * the figure counts distinct clients, overall or in group ?4.
 */
static const char WATCH_MAKE_SQL[] =
    "CREATE TEMP TABLE watch_flags AS"
    " WITH op AS (SELECT e.episode_id, e.client_id, e.admit_date, $GROUP AS grp FROM facts AS e"
    "   WHERE e.level_of_care = ?3 AND e.admit_date <= ?2 AND e.end_date > ?2)"
    " SELECT op.grp, op.client_id FROM op WHERE"
    " (SELECT count(*) FROM (SELECT s.status FROM sessions AS s"
    "   WHERE s.episode_id = op.episode_id AND s.session_date BETWEEN op.admit_date AND ?2"
    "   AND s.status <> 'cancelled_program'"
    "   ORDER BY s.session_date DESC, s.session_id DESC LIMIT 2) AS l"
    "   WHERE l.status = 'no_show') = 2"
    " OR (op.admit_date <= date(?2, '-7 days') AND NOT EXISTS (SELECT 1 FROM sessions AS s"
    "   WHERE s.episode_id = op.episode_id AND s.status = 'attended'"
    "   AND s.session_date BETWEEN date(?2, '-6 days') AND ?2))";
static const char WATCH_SQL[] =
    "SELECT count(DISTINCT client_id) FROM temp.watch_flags WHERE ?4 IS NULL OR grp = ?4";

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

/* (Re)creates the per group and client TEMP table `table` (the first
 * call of a run) with sum_sql, from the period's segments, built where
 * missing: a month that an earlier call on the connection built is not
 * read again. */
static iop_code materialize(const iop_mctx *c, const char *table, const char *sum_sql,
                            iop_error *err)
{
    sqlite3_stmt *st;
    char drop[64];
    iop_code rc = IOP_OK;

    snprintf(drop, sizeof drop, "DROP TABLE IF EXISTS temp.%s", table);
    if (sqlite3_exec(c->db, drop, NULL, NULL, NULL) != SQLITE_OK)
        return iop_mctx_fail(c, err);
    rc = iop_mctx_segments_episodes(c, "att_seg", SEG_CREATE, build_seg, NULL, sum_sql, NULL,
                                    &st, err);
    if (rc == IOP_OK && sqlite3_step(st) != SQLITE_DONE)
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
    iop_code rc = group ? IOP_OK : materialize(c, "attendance_rates", RATE_TOTALS_SQL,
                                                 err);

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
    iop_code rc = group ? IOP_OK : materialize(c, "attendance_weeks", WEEK_TOTALS_SQL,
                                                 err);

    if (rc == IOP_OK)
        rc = read_totals(c, WEEK_READ_SQL, group, &t, err);

    for (size_t i = 0; i < t.n; i++)
        t.col[1][i] /= 60.0;
    for (int j = 0; j < 3 && rc == IOP_OK; j++)
        rc = ratio_row(c, group, rows, WEEKS[j], t.col[j + 1], t.col[0], t.n, err);
    totals_release(&t);
    return rc;
}

/* One IET window: its days and its segment table. */
typedef struct iet_window {
    int days;
    const char *table;
} iet_window;

/* Builds one segment of an IET window's table (every episode). */
static iop_code iet_build(const iop_mctx *seg, const char *key, void *arg, iop_error *err)
{
    const iet_window *w = arg;
    return iop_mctx_exec_key(seg, IET_SQL, w->table, key, &w->days, 1, err);
}

/* Index admissions, initiated, engaged of group for window w. */
static iop_code iet_counts(const iop_mctx *c, const char *group, const iet_window *w,
                           long out[3], iop_error *err)
{
    sqlite3_stmt *st, *g = NULL;
    /* a group's counts come from one grouped read of every group's */
    iop_code rc = iop_mctx_segments_episodes(c, w->table, IET_SEG_CREATE, iet_build,
                                             (void *)w, IET_READ_SQL, NULL, &st, err);

    if (rc == IOP_OK && group)
        rc = iop_mctx_grouped(c, st, group, &g, err);
    if (rc == IOP_OK && group) {
        sqlite3_finalize(st);
        st = g;
        if (!st)
            rc = iop_mctx_segments_episodes(c, w->table, IET_SEG_CREATE, iet_build, (void *)w,
                                            IET_READ_SQL, group, &st, err);
    }
    if (rc == IOP_OK && sqlite3_step(st) != SQLITE_ROW)
        rc = iop_mctx_fail(c, err);
    for (int j = 0; j < 3 && rc == IOP_OK; j++)
        out[j] = (long)sqlite3_column_double(st, j);
    sqlite3_finalize(st);
    return rc;
}

/* Initiation reads the 13-day window (numerator: initiated), engagement
 * the 47-day one (numerator: engaged); each only when wanted. */
static iop_code iet(const iop_mctx *c, const char *group, iop_rows *rows, iop_error *err)
{
    static const iet_window W13 = {13, "iet_seg_13"}, W47 = {47, "iet_seg_47"};
    static const struct { const char *name; const iet_window *w; int num; } IET[] = {
        {"iet_initiation", &W13, 1}, {"iet_engagement", &W47, 2}};

    for (size_t i = 0; i < sizeof IET / sizeof IET[0]; i++) {
        long v[3];
        iop_row *r;
        iop_code rc;

        if (!iop_mctx_wants(c, IET[i].name))
            continue;
        if ((rc = iet_counts(c, group, IET[i].w, v, err)) != IOP_OK)
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
    iop_code rc = IOP_OK;

    if (!group) {
        if (sqlite3_exec(c->db, "DROP TABLE IF EXISTS temp.watch_flags", NULL, NULL, NULL)
            != SQLITE_OK)
            return iop_mctx_fail(c, err);
        rc = iop_mctx_exec(c, WATCH_MAKE_SQL, err);
    }
    if (rc == IOP_OK)
        rc = iop_mctx_row(c, WATCH_SQL, group, &st, err);

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
