/*
 * metrics_retention.c - metrics.md section 2: retention of the level's
 * admission cohort.
 *
 * The cohort is the level's episodes admitted in [from, to], followed to
 * `to`: time = discharge - admit for an episode discharged on or before
 * `to` (an event, its outcome completed, dropout, transferred or other),
 * else `to` - admit, censored ("open"). Times come from the dates, not from
 * los_days, whose as-of date is the extract's.
 *   alos_discharged        mean discharge - admit of the episodes
 *                          discharged in the period (n = discharges)
 *   in_treatment_d30/60/90 Kaplan-Meier S(t), log-log interval
 *   los_median             KM median with R's interval
 *   los_rmean_365          restricted mean to 365 days, normal interval
 *   km_curve               S(t) at each event time (at = the day)
 *   cif_<outcome>_d90      Aalen-Johansen cumulative incidence at day 90
 *   cif_dropout_curve,     the incidence at each event time (any outcome)
 *   cif_completed_curve
 *   retained_d30/60/90     1 - CIF(dropout)(t), interval [1-upper, 1-lower]
 *   logrank                (tests) across the --by groups
 *   cox_hr                 with group NULL only: metrics_retention_cox.c
 * figures() of the whole population makes the TEMP table ret_episodes
 * (the cohort and the period's discharges, with their group) once per run;
 * each group then reads its episodes from it by index into arrays of
 * episodes (never sessions).
 */
#include <stdlib.h>
#include <string.h>

#include "iop/metrics.h"
#include "iop/stats.h"

/* metrics_retention_cox.c: the cox_hr rows of the whole cohort. */
iop_code iop_retention_cox(const iop_mctx *c, iop_rows *rows, iop_error *err);

/*
 * The episodes of the section, made once per run by figures() of the
 * whole population (the frame calls it before any group's): the level's
 * episodes admitted in the period (the cohort) or discharged in it, with
 * the --by group, so that each group's figures read an index, not facts.
 * end_date >= from, which both imply, lets it read the index facts_end
 * (the level's episodes that end in or after the period) rather than
 * every episode admitted before `to`. Its rows then come in that index's
 * order; no figure depends on the order of the rows (the curves and tests
 * group them by time, the mean is of whole days).
 */
static const char DROP_SQL[] = "DROP TABLE IF EXISTS temp.ret_episodes";

static const char MAKE_SQL[] =
    "CREATE TEMP TABLE ret_episodes AS SELECT $GROUP AS grp,"
    " e.admit_date >= ?1 AS in_cohort,"
    " coalesce(e.discharge_date BETWEEN ?1 AND ?2, 0) AS discharged,"
    " julianday(e.discharge_date) - julianday(e.admit_date) AS los,"
    " CASE WHEN e.discharge_date <= ?2 THEN julianday(e.discharge_date)"
    " ELSE julianday(?2) END - julianday(e.admit_date) AS time,"
    " CASE WHEN e.discharge_date <= ?2 THEN e.outcome ELSE 'open' END AS state"
    " FROM facts AS e WHERE e.level_of_care = ?3 AND e.admit_date <= ?2"
    " AND e.end_date >= ?1 AND (e.admit_date >= ?1"
    " OR (e.end_date BETWEEN ?1 AND ?2 AND e.discharge_date BETWEEN ?1 AND ?2))";

static const char INDEX_SQL[] = "CREATE INDEX temp.ret_episodes_grp ON ret_episodes (grp)";

static const char COHORT_SQL[] =
    "SELECT time, state, grp FROM temp.ret_episodes WHERE in_cohort"
    " AND (?4 IS NULL OR grp = ?4)";

static const char COHORT_BY_GROUP_SQL[] =
    "SELECT time, state, grp FROM temp.ret_episodes WHERE in_cohort ORDER BY grp";

static const char ALOS_SQL[] =
    "SELECT count(*), avg(los) FROM temp.ret_episodes WHERE discharged"
    " AND (?4 IS NULL OR grp = ?4)";

/* Outcomes in the order of the state factor; 0 (open) is censoring. */
static const char *const OUTCOMES[] = {"open", "completed", "dropout", "transferred", "other"};
#define N_CAUSES 4
#define CAUSE_COMPLETED 1
#define CAUSE_DROPOUT 2

static const char NO_COHORT[] = "no admissions in the period";
static const char PAST_FOLLOWUP[] = "insufficient follow-up";

/* The cohort: one entry per episode. */
typedef struct ret_cohort {
    size_t n, cap, n_groups;
    double *time;
    int *event;     /* discharged on or before `to` */
    int *cause;     /* index into OUTCOMES */
    size_t *group;  /* 0 .. n_groups - 1 in byte order (tests only) */
} ret_cohort;

static void cohort_release(ret_cohort *co)
{
    free(co->time);
    free(co->event);
    free(co->cause);
    free(co->group);
    memset(co, 0, sizeof *co);
}

static bool cohort_grow(ret_cohort *co)
{
    size_t cap = co->cap ? 2 * co->cap : 1024;
    double *t = realloc(co->time, cap * sizeof *t);
    if (t)
        co->time = t;
    int *e = realloc(co->event, cap * sizeof *e);
    if (e)
        co->event = e;
    int *k = realloc(co->cause, cap * sizeof *k);
    if (k)
        co->cause = k;
    size_t *g = realloc(co->group, cap * sizeof *g);
    if (g)
        co->group = g;
    if (!t || !e || !k || !g)
        return false;
    co->cap = cap;
    return true;
}

static int outcome_index(const char *s)
{
    for (int i = 1; s && i <= N_CAUSES; i++)
        if (strcmp(s, OUTCOMES[i]) == 0)
            return i;
    return 0;
}

/* Appends the current row of st; *prev holds the previous group's name
 * (malloc'd, whole: a name cut short once made every episode of a long
 * name its own group). */
static bool cohort_push(ret_cohort *co, sqlite3_stmt *st, char **prev)
{
    if (co->n == co->cap && !cohort_grow(co))
        return false;
    const char *g = (const char *)sqlite3_column_text(st, 2);
    co->time[co->n] = sqlite3_column_double(st, 0);
    co->cause[co->n] = outcome_index((const char *)sqlite3_column_text(st, 1));
    co->event[co->n] = sqlite3_column_type(st, 1) != SQLITE_NULL
                       && strcmp((const char *)sqlite3_column_text(st, 1), "open") != 0;
    if (!g)
        g = "";
    if (co->n == 0 || strcmp(*prev, g) != 0) {
        char *copy = strdup(g);
        if (!copy)
            return false;
        free(*prev);
        *prev = copy;
        co->n_groups++;
    }
    co->group[co->n++] = co->n_groups - 1;
    return true;
}

/* Reads the cohort of group (NULL: all), or of all groups in order. */
static iop_code cohort_load(const iop_mctx *c, const char *sql, const char *group,
                            ret_cohort *co, iop_error *err)
{
    sqlite3_stmt *st;
    char *prev = NULL;
    int s = SQLITE_DONE;
    iop_code rc = iop_mctx_prepare(c, sql, group, &st, err);

    memset(co, 0, sizeof *co);
    while (rc == IOP_OK && (s = sqlite3_step(st)) == SQLITE_ROW)
        if (!cohort_push(co, st, &prev))
            rc = iop_metrics_nomem(err);
    if (rc == IOP_OK && s != SQLITE_DONE)
        rc = iop_mctx_fail(c, err);
    sqlite3_finalize(st);
    free(prev);
    if (rc != IOP_OK)
        cohort_release(co);
    return rc;
}

/* (Re)makes temp.ret_episodes for the period of c. */
static iop_code make_episodes(const iop_mctx *c, iop_error *err)
{
    iop_code rc;

    if (sqlite3_exec(c->db, DROP_SQL, NULL, NULL, NULL) != SQLITE_OK)
        return iop_mctx_fail(c, err);
    if ((rc = iop_mctx_exec(c, MAKE_SQL, err)) != IOP_OK)
        return rc;
    if (sqlite3_exec(c->db, INDEX_SQL, NULL, NULL, NULL) != SQLITE_OK)
        return iop_mctx_fail(c, err);
    return IOP_OK;
}

static iop_code alos(const iop_mctx *c, const char *group, iop_rows *rows, iop_error *err)
{
    sqlite3_stmt *st;
    iop_code rc = iop_mctx_row(c, ALOS_SQL, group, &st, err);
    iop_row *r;

    if (rc != IOP_OK)
        return rc;
    long n = sqlite3_column_int64(st, 0);
    double mean = sqlite3_column_double(st, 1);
    sqlite3_finalize(st);
    if (!(r = iop_rows_add(rows, c, "alos_discharged", group)))
        return iop_metrics_nomem(err);
    r->n = n;
    if (n > 0)
        iop_row_est(r, mean);
    else
        iop_row_note(r, "no discharges in the period");
    return IOP_OK;
}

/* Fills r from a status and an interval; why says what a failure means. */
static void put_interval(iop_row *r, iop_stats_status s, const iop_stats_interval *v,
                         const char *why)
{
    if (s == IOP_STATS_OK) {
        iop_row_est(r, v->estimate);
        iop_row_ci(r, v->lower, v->upper);
    } else if (s == IOP_STATS_EMPTY || r->n == 0) {
        iop_row_note(r, "%s", NO_COHORT);
    } else if (s == IOP_STATS_NOT_ESTIMABLE) {
        iop_row_note(r, "%s", why);
    } else {
        iop_row_note(r, "not estimable: %s", iop_stats_strerror(s));
    }
}

static iop_code km_days(const iop_mctx *c, const char *group, const iop_stats_km *km,
                        long n, iop_rows *rows, iop_error *err)
{
    static const char *const names[] = {"in_treatment_d30", "in_treatment_d60", "in_treatment_d90"};
    for (int i = 0; i < 3; i++) {
        iop_stats_interval v;
        iop_stats_status s = km ? iop_stats_km_at(km, 30.0 * (i + 1), &v) : IOP_STATS_EMPTY;
        iop_row *r = iop_rows_add(rows, c, names[i], group);
        if (!r)
            return iop_metrics_nomem(err);
        r->n = n;
        put_interval(r, s, &v, PAST_FOLLOWUP);
    }
    return IOP_OK;
}

static void put_median(iop_row *r, const iop_stats_km *km)
{
    iop_stats_median m;
    if (!km) {
        iop_row_note(r, "%s", NO_COHORT);
        return;
    }
    iop_stats_km_median(km, &m);
    if (m.has_median)
        iop_row_est(r, m.median);
    if (m.has_lower) /* each limit R prints; the other stays empty (R: NA) */
        iop_row_lower(r, m.lower);
    if (m.has_upper)
        iop_row_upper(r, m.upper);
    if (!m.has_median)
        iop_row_note(r, "median not reached: more than half still in treatment");
    else if (!m.has_lower || !m.has_upper)
        iop_row_note(r, "a confidence limit is not reached");
}

static void put_rmean(iop_row *r, const iop_stats_km *km)
{
    double mean, se;
    if (!km) {
        iop_row_note(r, "%s", NO_COHORT);
        return;
    }
    if (iop_stats_km_rmean(km, 365.0, &mean, &se) != IOP_STATS_OK) {
        iop_row_note(r, "not estimable");
        return;
    }
    iop_row_est(r, mean);
    iop_row_ci(r, mean - 1.959963984540054 * se, mean + 1.959963984540054 * se);
}

static iop_code km_curve(const iop_mctx *c, const char *group, const iop_stats_km *km,
                         long n, iop_rows *rows, iop_error *err)
{
    for (size_t i = 0; km && i < km->len; i++) {
        if (km->n_event[i] == 0)
            continue;
        iop_row *r = iop_rows_add(rows, c, "km_curve", group);
        if (!r)
            return iop_metrics_nomem(err);
        r->n = n;
        iop_row_est(r, km->surv[i]);
        iop_row_ci(r, km->lower[i], km->upper[i]);
        iop_row_at(r, "%.0f", km->time[i]);
    }
    return IOP_OK;
}

static iop_code km_figures(const iop_mctx *c, const char *group, const ret_cohort *co,
                           iop_rows *rows, iop_error *err)
{
    iop_stats_km *km = NULL;
    long n = (long)co->n;
    iop_stats_status s = co->n ? iop_stats_km_new(co->time, co->event, co->n, &km)
                               : IOP_STATS_EMPTY;
    iop_code rc = s == IOP_STATS_NOMEM ? iop_metrics_nomem(err) : IOP_OK;
    iop_row *r;

    if (rc == IOP_OK)
        rc = km_days(c, group, km, n, rows, err);
    if (rc == IOP_OK && !(r = iop_rows_add(rows, c, "los_median", group)))
        rc = iop_metrics_nomem(err);
    if (rc == IOP_OK) {
        r->n = n;
        put_median(r, km);
    }
    if (rc == IOP_OK && !(r = iop_rows_add(rows, c, "los_rmean_365", group)))
        rc = iop_metrics_nomem(err);
    if (rc == IOP_OK) {
        r->n = n;
        put_rmean(r, km);
    }
    if (rc == IOP_OK)
        rc = km_curve(c, group, km, n, rows, err);
    iop_stats_km_free(km);
    return rc;
}

/* A CIF figure at day t; retained: 1 - CIF with the interval reflected. */
static void put_cif(iop_row *r, const iop_stats_cif *cif, size_t s, double t, bool retained)
{
    iop_stats_interval v = {0};
    iop_stats_status st = cif ? iop_stats_cif_at(cif, s, t, &v) : IOP_STATS_EMPTY;
    if (retained && st == IOP_STATS_OK) {
        double lo = v.lower;
        v.estimate = 1.0 - v.estimate;
        v.lower = 1.0 - v.upper;
        v.upper = 1.0 - lo;
    }
    put_interval(r, st, &v, PAST_FOLLOWUP);
}

static iop_code cif_days(const iop_mctx *c, const char *group, const iop_stats_cif *cif,
                         long n, iop_rows *rows, iop_error *err)
{
    static const char *const d90[] = {NULL, "cif_completed_d90", "cif_dropout_d90",
                                      "cif_transferred_d90", "cif_other_d90"};
    static const char *const kept[] = {"retained_d30", "retained_d60", "retained_d90"};
    for (size_t i = 1; i <= 7; i++) {
        const char *name = i <= N_CAUSES ? d90[i] : kept[i - N_CAUSES - 1];
        iop_row *r = iop_rows_add(rows, c, name, group);
        if (!r)
            return iop_metrics_nomem(err);
        r->n = n;
        if (i <= N_CAUSES)
            put_cif(r, cif, i, 90.0, false);
        else
            put_cif(r, cif, CAUSE_DROPOUT, 30.0 * (double)(i - N_CAUSES), true);
    }
    return IOP_OK;
}

static iop_code cif_curve(const iop_mctx *c, const char *group, const iop_stats_cif *cif,
                          size_t s, long n, iop_rows *rows, iop_error *err)
{
    const char *name = s == CAUSE_DROPOUT ? "cif_dropout_curve" : "cif_completed_curve";
    for (size_t i = 0; cif && i < cif->len; i++) {
        if (cif->n_event[i] == 0)
            continue;
        size_t k = i * (N_CAUSES + 1) + s;
        iop_row *r = iop_rows_add(rows, c, name, group);
        if (!r)
            return iop_metrics_nomem(err);
        r->n = n;
        iop_row_est(r, cif->estimate[k]);
        iop_row_ci(r, cif->lower[k], cif->upper[k]);
        iop_row_at(r, "%.0f", cif->time[i]);
    }
    return IOP_OK;
}

/* Each episode is its own subject, as R's survfit without id/cluster. */
static iop_code cif_figures(const iop_mctx *c, const char *group, const ret_cohort *co,
                            iop_rows *rows, iop_error *err)
{
    iop_stats_cif *cif = NULL;
    long n = (long)co->n;
    iop_stats_status s = co->n ? iop_stats_cif_new(co->time, co->cause, co->n, N_CAUSES,
                                                   NULL, &cif)
                               : IOP_STATS_EMPTY;
    iop_code rc = s == IOP_STATS_NOMEM ? iop_metrics_nomem(err) : IOP_OK;

    if (rc == IOP_OK)
        rc = cif_days(c, group, cif, n, rows, err);
    if (rc == IOP_OK)
        rc = cif_curve(c, group, cif, CAUSE_DROPOUT, n, rows, err);
    if (rc == IOP_OK)
        rc = cif_curve(c, group, cif, CAUSE_COMPLETED, n, rows, err);
    iop_stats_cif_free(cif);
    return rc;
}

static iop_code figures(const iop_mctx *c, const char *group, iop_rows *rows, iop_error *err)
{
    ret_cohort co;
    iop_code rc = group ? IOP_OK : make_episodes(c, err);

    if (rc == IOP_OK)
        rc = alos(c, group, rows, err);
    if (rc == IOP_OK)
        rc = cohort_load(c, COHORT_SQL, group, &co, err);
    if (rc != IOP_OK)
        return rc;
    rc = km_figures(c, group, &co, rows, err);
    if (rc == IOP_OK)
        rc = cif_figures(c, group, &co, rows, err);
    cohort_release(&co);
    /* The Cox model is the costly part: skipped when its rows are unwanted. */
    if (rc == IOP_OK && !group && iop_mctx_wants(c, "cox_hr"))
        rc = iop_retention_cox(c, rows, err);
    return rc;
}

/* The log-rank test of time to discharge across the --by groups. */
static iop_code tests(const iop_mctx *c, iop_rows *rows, iop_error *err)
{
    ret_cohort co;
    iop_stats_test t;
    iop_code rc = cohort_load(c, COHORT_BY_GROUP_SQL, NULL, &co, err);
    iop_stats_status s;
    iop_row *r;

    if (rc != IOP_OK)
        return rc;
    s = iop_stats_logrank(co.time, co.event, co.group, co.n, co.n_groups, &t, NULL, NULL);
    if (!(r = iop_rows_add(rows, c, "logrank", "all"))) {
        cohort_release(&co);
        return iop_metrics_nomem(err);
    }
    snprintf(r->dimension, sizeof r->dimension, "%s", c->by);
    r->n = (long)co.n;
    if (s == IOP_STATS_OK)
        iop_row_test(r, t.statistic, t.df, t.p_value);
    else if (s == IOP_STATS_EMPTY)
        iop_row_note(r, "%s", NO_COHORT);
    else if (s == IOP_STATS_NOMEM)
        rc = iop_metrics_nomem(err);
    else
        iop_row_note(r, "not estimable: fewer than two groups with discharges at risk");
    cohort_release(&co);
    return rc;
}

/* The metrics this section writes (the frame checks every row). */
static const char *const METRICS[] = {
    "alos_discharged", "cif_completed_curve", "cif_completed_d90", "cif_dropout_curve",
    "cif_dropout_d90", "cif_other_d90", "cif_transferred_d90", "cox_hr",
    "in_treatment_d30", "in_treatment_d60", "in_treatment_d90", "km_curve", "logrank",
    "los_median", "los_rmean_365", "retained_d30", "retained_d60", "retained_d90", NULL,
};

const iop_section iop_section_retention = {"retention", figures, tests, METRICS};
