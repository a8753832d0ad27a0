/*
 * metrics_continuity.c - metrics.md section 4: step-down and continuity
 * of care.
 *   transition_count            per level pair (at = "3.5>2.1"): transitions
 *                               out of the from-level into the to-level over
 *                               all transitions out of the from-level
 *   iop_admit_stepdown          admissions at the level whose previous
 *                               episode was more intensive
 *   iop_discharge_stepdown, _stepup, _lateral, _no_continuing_care
 *                               discharges at the level by the direction of
 *                               their next episode (none: no next episode)
 *   continuity_7d, _14d, _30d   discharges from 3.x and WM levels followed
 *                               by a less intensive (non-WM, for WM) next
 *                               episode within 7, 14, 30 days
 *   days_to_next_level_median   the gap to the next episode of the
 *                               transitions above; quartiles in lower/upper
 *   readmit_30d, readmit_90d    completed episodes at the level followed by
 *                               an admission at the same or a more
 *                               intensive level within 30 / 90 days
 *
 * Input: the TEMP table `facts`. The next and previous episodes are
 * re-derived here for every window (the view's next_* columns use the
 * default window only). The links, each discharged episode with its --by
 * group and the next episode in the client's order (admit date, more
 * intensive first, episode_id), are month segments by discharge month
 * (iop_mctx_segments) in the TEMP table `continuity_links`, indexed by
 * group, so a group's figures read only its rows; a window's figures
 * then only test the gap. A month's links need not stop at `to`: a next
 * episode counts only when admitted by discharge + W, and every discharge
 * read is on or before `to` - W. So later calls on the connection (the
 * workbook's) reuse the months. Every figure that looks past a discharge
 * counts index discharges in [from - W, to - W]: W the continuity window
 * (settings), X for continuity_Xd, 30 / 90 for readmission; a call reads
 * the months from from - max(90, W) to `to`. iop_admit_stepdown reads the
 * period's admissions from `facts` with the episode one rowid before.
 * Shares carry Wilson intervals. docs/metrics/continuity.md has the
 * details.
 */
#include <stdlib.h>
#include <string.h>

#include "iop/date.h"
#include "iop/metrics.h"
#include "iop/stats.h"

#define IOP_DEFAULT_WINDOW 14

static const char WINDOW_SQL[] =
    "SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'continuity_window_days'"
    " AND value GLOB '[0-9]*' AND value NOT GLOB '*[^0-9]*'";

/* The links of one segment: the episodes discharged in the segment's
 * month (?1 to ?2), each with its group and the next episode in the
 * client's order. `facts` is written in that order (metrics.c), so its
 * rowid is the position and the next episode is one rowid further: a
 * self-join on rowid is much faster than LEAD over text. The IN over
 * levels (every episode's level is one) and the end_date range (which
 * the discharge range implies) let the index facts_end, which leads with
 * the level, read only the month. */
static const char LINKS_CREATE_SQL[] =
    "CREATE TEMP TABLE continuity_links (seg TEXT, episode_id TEXT, client_id TEXT,"
    " level_of_care TEXT, admit_date TEXT, discharge_date TEXT, discharge_reason TEXT,"
    " intensity, grp TEXT, wm, number, n_id TEXT, n_admit TEXT, n_level TEXT, n_int, n_wm);"
    "CREATE INDEX temp.continuity_links_dis ON continuity_links (discharge_date);"
    "CREATE INDEX temp.continuity_links_grp ON continuity_links (grp, discharge_date)";
static const char LINKS_SQL[] =
    "INSERT INTO %s SELECT ?5, e.episode_id, e.client_id,"
    " e.level_of_care, e.admit_date, e.discharge_date, e.discharge_reason, e.intensity,"
    " $GROUP, l.wm, l.number,"
    " n.episode_id, n.admit_date, n.level_of_care, n.intensity, m.wm"
    " FROM facts AS e JOIN levels AS l ON l.code = e.level_of_care"
    " LEFT JOIN facts AS n ON n.rowid = e.rowid + 1 AND n.client_id = e.client_id"
    " LEFT JOIN levels AS m ON m.code = n.level_of_care"
    " WHERE e.level_of_care IN (SELECT code FROM levels)"
    " AND e.end_date BETWEEN ?1 AND ?2 AND e.discharge_date BETWEEN ?1 AND ?2";

/* Each query over the links comes in two forms: [0] every group (?4
 * NULL; the form that iop_mctx_grouped() runs once for all groups), [1]
 * one group (?4), so that a group's query reads only its rows through the
 * index. They read the segments ?5 to ?6 (bound by iop_mctx_segments for
 * the months of the links), so the call's own period is ?7 to ?8 and the
 * window W is ?9. */
#define ALL " AND (?4 IS NULL OR k.grp = ?4)"
#define ONE " AND k.grp = ?4"

/* Episodes discharged in [from - W, to - W]. */
#define LINKED(g) \
    " FROM %s AS k WHERE k.discharge_date BETWEEN" \
    " date(?7, printf('-%%d days', ?9)) AND date(?8, printf('-%%d days', ?9))" g \
    " AND k.seg BETWEEN ?5 AND ?6"

/* The episode has a next episode within W days of its discharge. */
#define HAS_NEXT \
    "(k.n_id IS NOT NULL AND julianday(k.n_admit) <= julianday(k.discharge_date) + ?9)"

#define TRANSITION(g) \
    "SELECT k.level_of_care, k.n_level, count(*)," \
    " sum(count(*)) OVER (PARTITION BY k.level_of_care)" \
    LINKED(g) " AND " HAS_NEXT " GROUP BY 1, 2 ORDER BY 1, 2"
static const char *const TRANSITION_SQL[2] = {TRANSITION(ALL), TRANSITION(ONE)};

#define GAP(g) \
    "SELECT max(0, julianday(k.n_admit) - julianday(k.discharge_date))" \
    LINKED(g) " AND " HAS_NEXT
static const char *const GAP_SQL[2] = {GAP(ALL), GAP(ONE)};

#define IOP_DISCHARGE(g) \
    "SELECT count(*), total(" HAS_NEXT " AND k.n_int < k.intensity)," \
    " total(" HAS_NEXT " AND k.n_int > k.intensity)," \
    " total(" HAS_NEXT " AND k.n_int = k.intensity), total(NOT " HAS_NEXT ")" \
    LINKED(g) " AND k.level_of_care = ?3"
static const char *const IOP_DISCHARGE_SQL[2] = {IOP_DISCHARGE(ALL), IOP_DISCHARGE(ONE)};

/* Admissions in the period: not in the links (which are by discharge),
 * so read from `facts` with the episode before in the client's order
 * (one rowid back). It is the previous episode when this episode is its
 * next: discharged by `to` and within W days before this admission. */
#define IOP_ADMIT(g) \
    "SELECT count(*), total(p.discharge_date IS NOT NULL AND p.discharge_date <= ?8" \
    " AND julianday(e.admit_date) <= julianday(p.discharge_date) + ?9" \
    " AND p.intensity > e.intensity)" \
    " FROM facts AS e LEFT JOIN facts AS p ON p.rowid = e.rowid - 1" \
    " AND p.client_id = e.client_id" \
    " WHERE e.level_of_care = ?3 AND e.admit_date BETWEEN ?7 AND ?8" g
static const char *const IOP_ADMIT_SQL[2] = {IOP_ADMIT(" AND (?4 IS NULL OR $GROUP = ?4)"),
                                             IOP_ADMIT(" AND $GROUP = ?4")};

/* 3.x residential (non-WM, number 3 to 3.9) and every WM level. */
#define CONTINUITY(g) \
    "SELECT count(*), total(" HAS_NEXT \
    " AND CASE WHEN k.wm THEN k.n_wm = 0 ELSE k.n_int < k.intensity END)" \
    LINKED(g) " AND (k.wm = 1 OR (k.number >= 3 AND k.number < 4))"
static const char *const CONTINUITY_SQL[2] = {CONTINUITY(ALL), CONTINUITY(ONE)};

/* A later episode in the client's order at the same or a higher
 * intensity, admitted no later than discharge + W. A next step-down has a
 * lower intensity, so it never counts. */
#define READMIT(g) \
    "SELECT count(*), total(EXISTS (SELECT 1 FROM facts AS x" \
    "  WHERE x.client_id = k.client_id AND x.episode_id <> k.episode_id" \
    "  AND x.admit_date BETWEEN k.admit_date" \
    "   AND date(k.discharge_date, printf('+%%d days', ?9))" \
    "  AND x.intensity >= k.intensity AND (x.admit_date > k.admit_date" \
    "   OR (x.intensity = k.intensity AND x.episode_id > k.episode_id))))" \
    LINKED(g) " AND k.level_of_care = ?3 AND k.discharge_reason = 'completed'"
static const char *const READMIT_SQL[2] = {READMIT(ALL), READMIT(ONE)};

/* Builds the links of one month (see LINKS_SQL). */
static iop_code build_links(const iop_mctx *seg, const char *key, void *arg, iop_error *err)
{
    (void)arg;
    return iop_mctx_exec_key(seg, LINKS_SQL, "continuity_links", key, NULL, 0, err);
}

/* Prepares sql for group, with ?7 and ?8 bound to the period and ?9 to
 * the window w. A query over the links (links set) reads the months of
 * discharges from (from - the longest window) to `to`, which are built
 * first where the connection lacks them: every discharge a figure reads
 * is in [from - W, to - W] for a W of at most that window. */
static iop_code prepare(const iop_mctx *c, const char *const sql[2], const char *group,
                        int w, bool links, sqlite3_stmt **st, iop_error *err)
{
    iop_code rc;

    if (links) {
        int y, m, d, wide_days = w > 90 ? w : 90;
        iop_mctx wide = *c;

        iop_date_to_ymd(c->from - wide_days, &y, &m, &d);
        wide.from = iop_date_from_ymd(y, m, 1);
        iop_date_to_ymd(c->to, &y, &m, &d);
        wide.to = iop_date_from_ymd(y, m, iop_date_days_in_month(y, m));
        iop_date_format(wide.from, wide.from_s);
        iop_date_format(wide.to, wide.to_s);
        rc = iop_mctx_segments(&wide, "continuity_links", LINKS_CREATE_SQL, build_links, NULL,
                               sql[group != NULL], group, st, err);
    } else {
        rc = iop_mctx_prepare(c, sql[group != NULL], group, st, err);
    }
    if (rc == IOP_OK && (sqlite3_bind_text(*st, 7, c->from_s, -1, SQLITE_STATIC) != SQLITE_OK
                         || sqlite3_bind_text(*st, 8, c->to_s, -1, SQLITE_STATIC) != SQLITE_OK
                         || sqlite3_bind_int(*st, 9, w) != SQLITE_OK)) {
        rc = iop_mctx_fail(c, err);
        sqlite3_finalize(*st);
        *st = NULL;
    }
    return rc;
}

/* Runs a one-row query and reads its first nv columns as counts. A
 * group's row comes from one grouped run of the form for every group
 * (iop_mctx_grouped()) when it can. */
static iop_code counts(const iop_mctx *c, const char *const sql[2], const char *group, int win,
                       bool links, long *v, int nv, iop_error *err)
{
    sqlite3_stmt *st = NULL, *all;
    iop_code rc = IOP_OK;

    if (c->by && group) {
        rc = prepare(c, sql, NULL, win, links, &all, err);
        if (rc == IOP_OK)
            rc = iop_mctx_grouped(c, all, group, &st, err);
        sqlite3_finalize(all);
    }
    if (rc == IOP_OK && !st)
        rc = prepare(c, sql, group, win, links, &st, err);
    if (rc != IOP_OK)
        return rc;
    if (sqlite3_step(st) != SQLITE_ROW)
        rc = iop_mctx_fail(c, err);
    else
        for (int i = 0; i < nv; i++)
            v[i] = (long)sqlite3_column_double(st, i);
    sqlite3_finalize(st);
    return rc;
}

/* Appends a share row x of n, with at when not NULL. */
static iop_code share(const iop_mctx *c, const char *metric, const char *group,
                      long x, long n, const char *at, iop_rows *rows, iop_error *err)
{
    iop_row *r = iop_rows_add(rows, c, metric, group);
    if (!r)
        return iop_metrics_nomem(err);
    iop_row_share(r, x, n);
    if (at)
        iop_row_at(r, "%s", at);
    return IOP_OK;
}

/* The continuity window W of the settings table: a whole number of days
 * (digits only), else 14, as sql/views.sql reads it. This function can't
 * fail: a missing or bad setting means the default. */
static int window_days(const iop_mctx *c)
{
    sqlite3_stmt *st;
    int w = IOP_DEFAULT_WINDOW;

    if (sqlite3_prepare_v2(c->db, WINDOW_SQL, -1, &st, NULL) != SQLITE_OK)
        return w;
    if (sqlite3_step(st) == SQLITE_ROW)
        w = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return w;
}

static iop_code transitions(const iop_mctx *c, const char *group, int w, iop_rows *rows,
                            iop_error *err)
{
    sqlite3_stmt *st;
    char at[64];
    int seen = 0, step;
    iop_code rc = prepare(c, TRANSITION_SQL, group, w, true, &st, err);

    while (rc == IOP_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        snprintf(at, sizeof at, "%s>%s", (const char *)sqlite3_column_text(st, 0),
                 (const char *)sqlite3_column_text(st, 1));
        rc = share(c, "transition_count", group, sqlite3_column_int64(st, 2),
                   sqlite3_column_int64(st, 3), at, rows, err);
        seen = 1;
    }
    if (rc == IOP_OK && step != SQLITE_DONE)
        rc = iop_mctx_fail(c, err);
    sqlite3_finalize(st);
    if (rc == IOP_OK && !seen) {
        iop_row *r = iop_rows_add(rows, c, "transition_count", group);
        if (!r)
            return iop_metrics_nomem(err);
        iop_row_note(r, "no transitions");
    }
    return rc;
}

/* Reads the gaps of the transitions into a growing array. */
static iop_code read_gaps(const iop_mctx *c, const char *group, int w, double **v,
                          size_t *n, iop_error *err)
{
    sqlite3_stmt *st;
    size_t cap = 0;
    int step;
    iop_code rc = prepare(c, GAP_SQL, group, w, true, &st, err);

    *v = NULL;
    *n = 0;
    while (rc == IOP_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            double *g = realloc(*v, (cap = cap ? 2 * cap : 256) * sizeof *g);
            if (!g) {
                rc = iop_metrics_nomem(err);
                break;
            }
            *v = g;
        }
        (*v)[(*n)++] = sqlite3_column_double(st, 0);
    }
    if (rc == IOP_OK && step != SQLITE_DONE)
        rc = iop_mctx_fail(c, err);
    sqlite3_finalize(st);
    return rc;
}

static iop_code gap_median(const iop_mctx *c, const char *group, int w, iop_rows *rows,
                           iop_error *err)
{
    static const double probs[3] = {0.25, 0.5, 0.75};
    double *gaps, q[3];
    size_t n;
    iop_code rc = read_gaps(c, group, w, &gaps, &n, err);
    iop_row *r = rc == IOP_OK ? iop_rows_add(rows, c, "days_to_next_level_median", group) : NULL;

    if (rc == IOP_OK && !r)
        rc = iop_metrics_nomem(err);
    if (r) {
        r->n = (long)n;
        if (n == 0) {
            iop_row_note(r, "no data");
        } else if (iop_stats_quantile(gaps, n, probs, 3, q) != IOP_STATS_OK) {
            iop_row_note(r, "quantiles not estimable");
        } else {
            iop_row_est(r, q[1]);
            iop_row_ci(r, q[0], q[2]);
            iop_row_note(r, "lower/upper are quartiles, not a CI");
        }
    }
    free(gaps);
    return rc;
}

static iop_code iop_flows(const iop_mctx *c, const char *group, int w, iop_rows *rows,
                          iop_error *err)
{
    static const char *const names[4] = {"iop_discharge_stepdown", "iop_discharge_stepup",
        "iop_discharge_lateral", "iop_discharge_no_continuing_care"};
    long a[2] = {0, 0}, d[5] = {0, 0, 0, 0, 0};
    iop_code rc = IOP_OK;

    if (iop_mctx_wants(c, "iop_admit_stepdown")) {
        rc = counts(c, IOP_ADMIT_SQL, group, w, false, a, 2, err);
        if (rc == IOP_OK)
            rc = share(c, "iop_admit_stepdown", group, a[1], a[0], NULL, rows, err);
    }
    if (rc != IOP_OK || !iop_mctx_wants_any(c, names, 4))
        return rc;
    rc = counts(c, IOP_DISCHARGE_SQL, group, w, true, d, 5, err);
    for (int i = 0; i < 4 && rc == IOP_OK; i++)
        rc = share(c, names[i], group, d[i + 1], d[0], NULL, rows, err);
    return rc;
}

static iop_code continuity(const iop_mctx *c, const char *group, iop_rows *rows,
                           iop_error *err)
{
    static const char *const names[3] = {"continuity_7d", "continuity_14d", "continuity_30d"};
    static const int days[3] = {7, 14, 30};
    long v[2] = {0, 0};
    iop_code rc = IOP_OK;

    for (int i = 0; i < 3 && rc == IOP_OK; i++) {
        if (!iop_mctx_wants(c, names[i]))
            continue;
        rc = counts(c, CONTINUITY_SQL, group, days[i], true, v, 2, err);
        if (rc == IOP_OK)
            rc = share(c, names[i], group, v[1], v[0], NULL, rows, err);
    }
    return rc;
}

static iop_code readmits(const iop_mctx *c, const char *group, iop_rows *rows, iop_error *err)
{
    static const char *const names[2] = {"readmit_30d", "readmit_90d"};
    static const int days[2] = {30, 90};
    long v[2] = {0, 0};
    iop_code rc = IOP_OK;

    for (int i = 0; i < 2 && rc == IOP_OK; i++) {
        if (!iop_mctx_wants(c, names[i]))
            continue;
        rc = counts(c, READMIT_SQL, group, days[i], true, v, 2, err);
        if (rc == IOP_OK)
            rc = share(c, names[i], group, v[1], v[0], NULL, rows, err);
    }
    return rc;
}

static iop_code figures(const iop_mctx *c, const char *group, iop_rows *rows, iop_error *err)
{
    int w = window_days(c);
    iop_code rc = IOP_OK;

    /* each part runs only when the caller wants one of its metrics */
    if (rc == IOP_OK && iop_mctx_wants(c, "transition_count"))
        rc = transitions(c, group, w, rows, err);
    if (rc == IOP_OK)
        rc = iop_flows(c, group, w, rows, err);
    if (rc == IOP_OK)
        rc = continuity(c, group, rows, err);
    if (rc == IOP_OK && iop_mctx_wants(c, "days_to_next_level_median"))
        rc = gap_median(c, group, w, rows, err);
    if (rc == IOP_OK)
        rc = readmits(c, group, rows, err);
    return rc;
}

/* The metrics this section writes (the frame checks every row). */
static const char *const METRICS[] = {
    "continuity_14d", "continuity_30d", "continuity_7d", "days_to_next_level_median",
    "iop_admit_stepdown", "iop_discharge_lateral", "iop_discharge_no_continuing_care",
    "iop_discharge_stepdown", "iop_discharge_stepup", "readmit_30d", "readmit_90d",
    "transition_count", NULL,
};

const iop_section iop_section_continuity = {"continuity", figures, NULL, METRICS};
