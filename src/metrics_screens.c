/*
 * metrics_screens.c - metrics.md sections 7 (drug screens) and 8 (after
 * discharge), for the level's episodes.
 *   uds_negative        screens collected in the period inside their
 *                       episode; negative, or positive only for substances
 *                       the episode's MOUD covers; ratio estimator
 *                       clustered by client; then one row per treatment
 *                       week (at = 1 .. 12)
 *   followup_reach_30d / _90d
 *                       a reached contact on days 23-37 / 76-104 after
 *                       discharge, among discharges whose window closed
 *   abstinent_, employed_, housed_30d / _90d
 *                       among the reached, from the first reached contact
 *                       in the window; Wilson intervals
 *   satisfaction_mean   that contact's rating (at = 30d, 90d), mean with a
 *                       t interval
 *   satisfaction_at_discharge
 *                       the same from the first reached contact on days
 *                       0-7 after discharge
 * Screens are counted per client (and week) in SQL, the follow-up
 * contacts per discharge, both per month segment of the period and for
 * every group at once (iop_mctx_segments()); each group's figures read
 * its rows. docs/metrics/screens.md documents each name.
 */
#include <stdlib.h>
#include <string.h>

#include "iop/metrics.h"
#include "iop/stats.h"

/*
 * Per segment of the period (iop_mctx_segments()), group, episode and
 * week (0 for the whole segment): the episode's client, screens and
 * negatives. A positive counts as negative when its substances are all
 * 'opioids' and the episode's MOUD is buprenorphine or methadone. The week
 * is the treatment week of the screen, so a client's totals add up over
 * the segments (and over the client's episodes).
 */
static const char UDS_SEG_CREATE[] =
    "CREATE TEMP TABLE uds_seg (seg TEXT, grp TEXT, k INTEGER, client_id TEXT,"
    " n REAL, neg REAL);"
    "CREATE INDEX temp.uds_seg_seg ON uds_seg (seg)";
static const char UDS_SEG_INSERT_SQL[] = "INSERT INTO temp.uds_seg VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

/*
 * The screens collected in [from, to] and inside their episode, episode
 * by episode (facts in rowid order: no sort), each with its day number
 * after admission and whether it counts as negative; C adds them up (a
 * GROUP BY per week and client sorted every screen twice).
 */
static const char UDS_SEG_SQL[] =
    "SELECT e.rowid, $GROUP, e.client_id,"
    " julianday(d.collected_on) - julianday(e.admit_date),"
    " (d.result = 'negative' OR (d.result = 'positive'"
    "   AND e.moud IN ('buprenorphine', 'methadone') AND d.substances IS NOT NULL"
    "   AND trim(replace(d.substances, 'opioids', ''), ';') = ''))"
    " FROM facts AS e JOIN drug_screens AS d ON d.episode_id = e.episode_id"
    " AND d.collected_on BETWEEN max(?1, e.admit_date) AND min(?2, coalesce(e.discharge_date, ?2))"
    " WHERE +e.level_of_care = ?3 AND e.admit_date <= ?2 AND e.end_date >= ?1"
    " ORDER BY e.rowid";

#define IOP_UDS_WEEKS 12

/* The period's totals of one group (?4; NULL for all) per week and
 * client, weeks in order. */
static const char UDS_SQL[] =
    "SELECT k, total(n), total(neg) FROM temp.uds_seg WHERE seg BETWEEN ?5 AND ?6"
    " AND (?4 IS NULL OR grp = ?4) GROUP BY k, client_id ORDER BY k, client_id";

/*
 * Per segment of the period (iop_mctx_segments()), one row per discharge
 * in [from - ?7, to - ?7] (every group) with the first reached contact on
 * days ?6 .. ?7 after it (by date, then followup_id): whether there is
 * one, and its three items and rating. The segments' windows of
 * discharges tile the period's, so the rows add up. One table per window
 * (%s).
 */
static const char FU_SEG_CREATE[] =
    "CREATE TEMP TABLE %s (seg TEXT, grp TEXT, discharge_date TEXT, rid INTEGER,"
    " reached INTEGER, abstinent, employed, housed, satisfaction);"
    "CREATE INDEX temp.%s_seg ON %s (seg)";
static const char FU_SEG_SQL[] =
    "INSERT INTO temp.%s"
    " WITH ix AS (SELECT e.rowid AS rid, e.episode_id, e.discharge_date, $GROUP AS grp"
    "   FROM facts AS e WHERE e.level_of_care = ?3"
    "   AND e.end_date BETWEEN date(?1, printf('-%%d days', ?7)) AND date(?2, printf('-%%d days', ?7))"
    "   AND e.discharge_date"
    "   BETWEEN date(?1, printf('-%%d days', ?7)) AND date(?2, printf('-%%d days', ?7))),"
    " fc AS (SELECT ix.*, (SELECT f.followup_id FROM followups AS f"
    "   WHERE f.episode_id = ix.episode_id AND f.reached = 1 AND f.contacted_on"
    "   BETWEEN date(ix.discharge_date, printf('+%%d days', ?6))"
    "   AND date(ix.discharge_date, printf('+%%d days', ?7))"
    "   ORDER BY f.contacted_on, f.followup_id LIMIT 1) AS fid FROM ix)"
    " SELECT ?5, fc.grp, fc.discharge_date, fc.rid, fc.fid IS NOT NULL, u.abstinent,"
    " u.employed_or_school, u.stable_housing, u.satisfaction"
    " FROM fc LEFT JOIN followups AS u ON u.followup_id = fc.fid";

/* Discharges, reached, then known and yes of the three items, of group
 * ?4 (NULL: all). */
static const char REACH_SQL[] =
    "SELECT count(*), total(reached), count(abstinent), total(abstinent = 1),"
    " count(employed), total(employed = 1), count(housed), total(housed = 1)"
    " FROM temp.%s WHERE seg BETWEEN ?5 AND ?6 AND (?4 IS NULL OR grp = ?4)";

/* The ratings of the first reached contacts that have one, in the order
 * of the discharges. */
static const char RATING_SQL[] =
    "SELECT satisfaction FROM temp.%s WHERE seg BETWEEN ?5 AND ?6"
    " AND (?4 IS NULL OR grp = ?4) AND satisfaction IS NOT NULL ORDER BY discharge_date, rid";

/* ---- drug screens ------------------------------------------------------- */

/* Per-client negatives and screens of one figure (all, or one week). */
typedef struct unit_totals {
    double *y, *x;
    size_t n, cap;
} unit_totals;

static bool unit_add(unit_totals *t, double y, double x)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 1024;
        double *ny = realloc(t->y, cap * sizeof *ny);
        if (ny)
            t->y = ny;
        double *nx = ny ? realloc(t->x, cap * sizeof *nx) : NULL;
        if (!nx)
            return false;
        t->x = nx;
        t->cap = cap;
    }
    t->y[t->n] = y;
    t->x[t->n++] = x;
    return true;
}

/* Adds the uds_negative row of t (at = week, or "" for week 0). */
static iop_code uds_row(const iop_mctx *c, const char *group, iop_rows *rows,
                        const unit_totals *t, int week, iop_error *err)
{
    iop_stats_ratio_result res;
    iop_row *r = iop_rows_add(rows, c, "uds_negative", group);
    iop_stats_status s = iop_stats_ratio(t->y, t->x, NULL, t->n, &res);

    if (!r || s == IOP_STATS_NOMEM)
        return iop_metrics_nomem(err);
    if (week)
        iop_row_at(r, "%d", week);
    for (size_t i = 0; i < t->n; i++)
        r->n += (long)t->x[i];
    if (s == IOP_STATS_OK) {
        iop_row_est(r, res.estimate);
        iop_row_ci(r, res.lower, res.upper);
    } else if (r->n == 0) {
        iop_row_note(r, "no data");
    } else if (s == IOP_STATS_NOT_ESTIMABLE) {
        iop_row_est(r, res.estimate);
        iop_row_note(r, "one client: no clustered interval");
    } else {
        iop_row_note(r, "not estimable");
    }
    return IOP_OK;
}

/* Emits the rows of weeks after `*done` up to `upto` (none for empty ones). */
static iop_code uds_flush(const iop_mctx *c, const char *group, iop_rows *rows,
                          unit_totals *t, int *done, int upto, iop_error *err)
{
    iop_code rc = IOP_OK;
    while (rc == IOP_OK && *done < upto) {
        rc = uds_row(c, group, rows, t, *done, err);
        t->n = 0;
        ++*done;
    }
    return rc;
}

/* One episode's screens (k = 0: all; 1 .. 12: per treatment week). */
typedef struct uds_acc {
    bool open;
    char *grp, *client;
    double n[IOP_UDS_WEEKS + 1], neg[IOP_UDS_WEEKS + 1];
} uds_acc;

/* Writes the episode's rows: week 0, and each week with a screen. */
static bool uds_put(sqlite3_stmt *ins, uds_acc *a)
{
    bool ok = true;

    for (int k = 0; k <= IOP_UDS_WEEKS && ok && a->open; k++) {
        if (k > 0 && a->n[k] == 0)
            continue;
        sqlite3_bind_text(ins, 2, a->grp, -1, SQLITE_STATIC);
        sqlite3_bind_int(ins, 3, k);
        sqlite3_bind_text(ins, 4, a->client, -1, SQLITE_STATIC);
        sqlite3_bind_double(ins, 5, a->n[k]);
        sqlite3_bind_double(ins, 6, a->neg[k]);
        ok = sqlite3_step(ins) == SQLITE_DONE;
        sqlite3_reset(ins);
    }
    a->open = false;
    return ok;
}

/* Adds one screen (columns 3: day after admission, 4: negative), after
 * writing the episode before on an episode's first row. */
static iop_code uds_add(void *acc, sqlite3_stmt *st, bool fresh, sqlite3_stmt *ins)
{
    uds_acc *a = acc;

    if (fresh) {
        if (!uds_put(ins, a))
            return IOP_EIO;
        if (!iop_column_dup(&a->grp, st, 1) || !iop_column_dup(&a->client, st, 2))
            return IOP_ENOMEM;
        memset(a->n, 0, sizeof a->n);
        memset(a->neg, 0, sizeof a->neg);
        a->open = true;
    }
    /* the week of a screen on day d after admission (d >= 0) */
    long k = (long)(sqlite3_column_double(st, 3) / 7) + 1;
    double neg = sqlite3_column_type(st, 4) == SQLITE_NULL ? 0 : sqlite3_column_double(st, 4);
    a->n[0] += 1;
    a->neg[0] += neg;
    if (k >= 1 && k <= IOP_UDS_WEEKS) {
        a->n[k] += 1;
        a->neg[k] += neg;
    }
    return IOP_OK;
}

static iop_code uds_end(void *acc, sqlite3_stmt *ins)
{
    return uds_put(ins, acc) ? IOP_OK : IOP_EIO;
}

/* Builds one segment of uds_seg (every group): one row per episode and
 * week. */
static iop_code build_seg(const iop_mctx *seg, const char *key, void *arg, iop_error *err)
{
    static const iop_episode_build B = {uds_add, uds_end};
    uds_acc a = {0};
    iop_code rc = iop_mctx_episodes(seg, UDS_SEG_SQL, UDS_SEG_INSERT_SQL, key, &B, &a, err);

    (void)arg;
    free(a.grp);
    free(a.client);
    return rc;
}

/* Rows arrive ordered by week: 0 (all), 1 .. 12; empty weeks get n = 0. */
static iop_code screens(const iop_mctx *c, const char *group, iop_rows *rows, iop_error *err)
{
    sqlite3_stmt *st;
    unit_totals t = {0};
    int done = 0, s = SQLITE_DONE;
    iop_code rc = iop_mctx_segments(c, "uds_seg", UDS_SEG_CREATE, build_seg, NULL, UDS_SQL,
                                    group, &st, err);

    if (rc != IOP_OK)
        return rc;
    while (rc == IOP_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
        int k = sqlite3_column_int(st, 0);
        if (k < 0)
            continue;
        rc = uds_flush(c, group, rows, &t, &done, k, err);
        if (rc == IOP_OK && !unit_add(&t, sqlite3_column_double(st, 2),
                                      sqlite3_column_double(st, 1)))
            rc = iop_metrics_nomem(err);
    }
    if (rc == IOP_OK && s != SQLITE_DONE)
        rc = iop_mctx_fail(c, err);
    sqlite3_finalize(st);
    if (rc == IOP_OK)
        rc = uds_flush(c, group, rows, &t, &done, 13, err);
    free(t.y);
    free(t.x);
    return rc;
}

static iop_code screen_figures(const iop_mctx *c, const char *group, iop_rows *rows,
                               iop_error *err)
{
    return screens(c, group, rows, err);
}

/* The metrics this section writes (the frame checks every row). */
static const char *const SCREEN_METRICS[] = {
    "uds_negative", NULL,
};

const iop_section iop_section_screens = {"screens", screen_figures, NULL, SCREEN_METRICS};

/* ---- after discharge ---------------------------------------------------- */

/* A window of days after discharge (first, last) and its segment table. */
typedef struct fu_window {
    int days[2];
    const char *table;
} fu_window;

static const fu_window W30 = {{23, 37}, "fu_seg_30d"}, W90 = {{76, 104}, "fu_seg_90d"},
                       W0 = {{0, 7}, "fu_seg_0d"};

/* Builds one segment of a window's table. */
static iop_code fu_build(const iop_mctx *seg, const char *key, void *arg, iop_error *err)
{
    const fu_window *w = arg;
    return iop_mctx_exec_key(seg, FU_SEG_SQL, w->table, key, w->days, 2, err);
}

/* Prepares sql (a read of a window's table, %s) for group over the
 * period's segments, built first where missing. */
static iop_code prepare_window(const iop_mctx *c, const char *sql, const char *group,
                               const fu_window *w, sqlite3_stmt **st, iop_error *err)
{
    return iop_mctx_segments(c, w->table, FU_SEG_CREATE, fu_build, (void *)w, sql, group, st,
                             err);
}

/* The reach and the three items of one window; names[0..3]. */
static iop_code reach(const iop_mctx *c, const char *group, iop_rows *rows,
                      const fu_window *w, const char *const names[4], iop_error *err)
{
    sqlite3_stmt *st;
    long v[8];
    iop_row *r;
    iop_code rc = prepare_window(c, REACH_SQL, group, w, &st, err);

    if (rc != IOP_OK)
        return rc;
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return iop_mctx_fail(c, err);
    }
    for (int j = 0; j < 8; j++)
        v[j] = (long)sqlite3_column_double(st, j);
    sqlite3_finalize(st);
    for (int j = 0; j < 4; j++) {
        if (!(r = iop_rows_add(rows, c, names[j], group)))
            return iop_metrics_nomem(err);
        if (j == 0)
            iop_row_share(r, v[1], v[0]);
        else
            iop_row_share(r, v[2 * j + 1], v[2 * j]);
    }
    return IOP_OK;
}

/* Reads the ratings of a window into a growing array. */
static iop_code ratings(const iop_mctx *c, const char *group, const fu_window *w,
                        double **out, size_t *n, iop_error *err)
{
    sqlite3_stmt *st;
    size_t cap = 0;
    int s = SQLITE_DONE;
    iop_code rc = prepare_window(c, RATING_SQL, group, w, &st, err);

    *out = NULL;
    *n = 0;
    while (rc == IOP_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            double *v = realloc(*out, (cap = cap ? 2 * cap : 256) * sizeof *v);
            if (!v) {
                rc = iop_metrics_nomem(err);
                break;
            }
            *out = v;
        }
        (*out)[(*n)++] = sqlite3_column_double(st, 0);
    }
    if (rc == IOP_OK && s != SQLITE_DONE)
        rc = iop_mctx_fail(c, err);
    sqlite3_finalize(st);
    return rc;
}

/* A mean rating with its t interval (R t.test(x)$conf.int). */
static iop_code rating_row(const iop_mctx *c, const char *group, iop_rows *rows,
                           const char *metric, const char *at, const fu_window *w,
                           iop_error *err)
{
    double *x;
    size_t n;
    iop_stats_ttest t;
    iop_row *r;
    iop_code rc = ratings(c, group, w, &x, &n, err);
    iop_stats_status s = rc == IOP_OK ? iop_stats_ttest_paired(x, NULL, n, &t) : IOP_STATS_EMPTY;

    free(x);
    if (rc != IOP_OK)
        return rc;
    if (!(r = iop_rows_add(rows, c, metric, group)))
        return iop_metrics_nomem(err);
    iop_row_at(r, "%s", at);
    r->n = (long)n;
    if (s == IOP_STATS_OK) {
        iop_row_est(r, t.mean);
        iop_row_ci(r, t.lower, t.upper);
    } else if (n == 0) {
        iop_row_note(r, "no data");
    } else if (s == IOP_STATS_NOT_ESTIMABLE) {
        iop_row_est(r, t.mean);
        iop_row_note(r, n == 1 ? "one rating: no interval" : "all ratings equal: no interval");
    } else {
        iop_row_note(r, "not estimable");
    }
    return IOP_OK;
}

static iop_code followup_figures(const iop_mctx *c, const char *group, iop_rows *rows,
                                 iop_error *err)
{
    static const char *const d30[4] = {"followup_reach_30d", "abstinent_30d", "employed_30d",
                                       "housed_30d"};
    static const char *const d90[4] = {"followup_reach_90d", "abstinent_90d", "employed_90d",
                                       "housed_90d"};
    bool mean = iop_mctx_wants(c, "satisfaction_mean");
    iop_code rc = IOP_OK;

    /* a part runs only when the caller wants one of its metrics */
    if (iop_mctx_wants_any(c, d30, 4))
        rc = reach(c, group, rows, &W30, d30, err);
    if (rc == IOP_OK && iop_mctx_wants_any(c, d90, 4))
        rc = reach(c, group, rows, &W90, d90, err);
    if (rc == IOP_OK && mean)
        rc = rating_row(c, group, rows, "satisfaction_mean", "30d", &W30, err);
    if (rc == IOP_OK && mean)
        rc = rating_row(c, group, rows, "satisfaction_mean", "90d", &W90, err);
    if (rc == IOP_OK && iop_mctx_wants(c, "satisfaction_at_discharge"))
        rc = rating_row(c, group, rows, "satisfaction_at_discharge", "", &W0, err);
    return rc;
}

/* The metrics this section writes (the frame checks every row). */
static const char *const FOLLOWUP_METRICS[] = {
    "abstinent_30d", "abstinent_90d", "employed_30d", "employed_90d",
    "followup_reach_30d", "followup_reach_90d", "housed_30d", "housed_90d",
    "satisfaction_at_discharge", "satisfaction_mean", NULL,
};

const iop_section iop_section_followup = {"followup", followup_figures, NULL, FOLLOWUP_METRICS};
