/*
 * metrics_census.c - metrics.md section 1, census and flow, for the
 * episodes at the level: admissions, discharges by reason, client-days,
 * average daily census, active census, and new / returning / continuing
 * admissions. Counts only: n = the count.
 */
#include <string.h>

#include "iop/date.h"
#include "iop/metrics.h"

static const char FLOW_SQL[] =
    "SELECT sum(e.admit_date BETWEEN ?1 AND ?2),"
    " sum(e.discharge_date BETWEEN ?1 AND ?2),"
    " sum(e.discharge_date BETWEEN ?1 AND ?2 AND e.discharge_reason = 'completed'),"
    " sum(e.discharge_date BETWEEN ?1 AND ?2 AND e.discharge_reason = 'dropped_out'),"
    " sum(e.discharge_date BETWEEN ?1 AND ?2 AND e.discharge_reason = 'terminated'),"
    " sum(e.discharge_date BETWEEN ?1 AND ?2 AND e.discharge_reason = 'transferred'),"
    " sum(e.discharge_date BETWEEN ?1 AND ?2 AND e.discharge_reason = 'incarcerated'),"
    " sum(e.discharge_date BETWEEN ?1 AND ?2 AND e.discharge_reason = 'death'),"
    " sum(e.discharge_date BETWEEN ?1 AND ?2 AND e.discharge_reason = 'other'),"
    /* client-days: days d in [from, to] with admit <= d < discharge, the
     * admit day alone for a same-day stay; a discharge after `to` is open */
    " total(CASE WHEN e.admit_date > ?2 THEN 0"
    "  WHEN e.discharge_date = e.admit_date THEN e.admit_date >= ?1"
    "  ELSE max(0, julianday(CASE WHEN e.discharge_date <= ?2 THEN e.discharge_date"
    "   ELSE date(?2, '+1 day') END) - julianday(max(e.admit_date, ?1))) END),"
    " count(DISTINCT CASE WHEN e.admit_date <= ?2 AND (e.discharge_date IS NULL"
    "  OR e.discharge_date > ?2 OR (e.discharge_date = e.admit_date AND e.admit_date = ?2))"
    "  THEN e.client_id END)"
    /* only episodes that overlap the period add to any of these */
    " FROM facts AS e WHERE e.level_of_care = ?3 AND e.end_date >= ?1 AND e.admit_date <= ?2"
    " AND (?4 IS NULL OR $GROUP = ?4)";

/* Per admission in the period: the client's latest earlier episode at any
 * level (in the order admit date, more intensive first, episode_id) and
 * whether it ended more than 14 days before. `facts` is written in that
 * order (metrics.c), so that episode is one rowid back, when it is the
 * same client's. */
static const char KIND_SQL[] =
    "SELECT sum(o.episode_id IS NULL), sum(o.episode_id IS NOT NULL"
    "  AND o.discharge_date IS NOT NULL"
    "  AND julianday(e.admit_date) - julianday(o.discharge_date) > 14),"
    " sum(o.episode_id IS NOT NULL AND (o.discharge_date IS NULL"
    "  OR julianday(e.admit_date) - julianday(o.discharge_date) <= 14))"
    " FROM facts AS e LEFT JOIN facts AS o ON o.rowid = e.rowid - 1"
    "  AND o.client_id = e.client_id"
    " WHERE e.level_of_care = ?3 AND e.admit_date BETWEEN ?1 AND ?2"
    " AND (?4 IS NULL OR $GROUP = ?4)";

static const char *const FLOW[] = {"admissions", "discharges", "discharges_completed",
    "discharges_dropped_out", "discharges_terminated", "discharges_transferred",
    "discharges_incarcerated", "discharges_death", "discharges_other"};

static iop_code flow(const iop_mctx *c, const char *group, iop_rows *rows, iop_error *err)
{
    sqlite3_stmt *st;
    iop_code rc = iop_mctx_row_grouped(c, FLOW_SQL, group, &st, err);
    iop_row *r;

    if (rc != IOP_OK)
        return rc;
    for (int i = 0; i < 9; i++) {
        if (!(r = iop_rows_add(rows, c, FLOW[i], group)))
            goto nomem;
        iop_row_count(r, sqlite3_column_int64(st, i));
    }
    double days = sqlite3_column_double(st, 9);
    if (!(r = iop_rows_add(rows, c, "client_days", group)))
        goto nomem;
    iop_row_count(r, (long)days);
    if (!(r = iop_rows_add(rows, c, "average_daily_census", group)))
        goto nomem;
    r->n = c->to - c->from + 1;
    iop_row_est(r, days / (double)(c->to - c->from + 1));
    if (!(r = iop_rows_add(rows, c, "active_census", group)))
        goto nomem;
    iop_row_count(r, sqlite3_column_int64(st, 10));
    sqlite3_finalize(st);
    return rc;
nomem:
    sqlite3_finalize(st);
    return iop_metrics_nomem(err);
}

static iop_code kinds(const iop_mctx *c, const char *group, iop_rows *rows, iop_error *err)
{
    static const char *const NAMES[] = {"new_clients", "returning_clients",
                                        "continuing_clients"};
    sqlite3_stmt *st;
    iop_code rc = iop_mctx_prepare_grouped(c, KIND_SQL, group, &st, err);

    if (rc != IOP_OK)
        return rc;
    if (sqlite3_step(st) != SQLITE_ROW)
        rc = iop_mctx_fail(c, err);
    for (int i = 0; i < 3 && rc == IOP_OK; i++) {
        iop_row *r = iop_rows_add(rows, c, NAMES[i], group);
        if (!r)
            rc = iop_metrics_nomem(err);
        else
            iop_row_count(r, sqlite3_column_int64(st, i));
    }
    sqlite3_finalize(st);
    return rc;
}

static iop_code figures(const iop_mctx *c, const char *group, iop_rows *rows, iop_error *err)
{
    static const char *const KINDS[] = {"new_clients", "returning_clients",
                                        "continuing_clients"};
    static const char *const MORE[] = {"client_days", "average_daily_census", "active_census"};
    iop_code rc = IOP_OK;

    /* a part runs only when the caller wants one of its metrics */
    if (iop_mctx_wants_any(c, FLOW, 9) || iop_mctx_wants_any(c, MORE, 3))
        rc = flow(c, group, rows, err);
    if (rc == IOP_OK && iop_mctx_wants_any(c, KINDS, 3))
        rc = kinds(c, group, rows, err);
    return rc;
}

/* The metrics this section writes (the frame checks every row). */
static const char *const METRICS[] = {
    "active_census", "admissions", "average_daily_census", "client_days",
    "continuing_clients", "discharges", "discharges_completed", "discharges_death",
    "discharges_dropped_out", "discharges_incarcerated", "discharges_other",
    "discharges_terminated", "discharges_transferred", "new_clients",
    "returning_clients", NULL,
};

const iop_section iop_section_census = {"census", figures, NULL, METRICS};
