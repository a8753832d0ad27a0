/*
 * metrics_retention_cox.c - metrics.md section 2, `cox_hr`: the
 * case-mix-adjusted hazard of dropout by program and by counselor.
 *
 * Input: the level's admission cohort of the period (as
 * metrics_retention.c: admitted in [from, to], followed to `to`). Two
 * cause-specific Cox models of time to dropout (dropped_out or terminated
 * on or before `to`; every other outcome and open episodes censored),
 * Efron ties, robust variance clustered by client_id, covariates age_band,
 * sex, co_occurring, primary_substance and referral_source (NULL is the
 * level 'unknown'), plus program in one model and counselor in the other.
 * Each factor's reference is its largest level by episodes (ties by name,
 * byte order); the dummies of the compared factor come last, as in R's
 * formula, so aliasing falls on them as it does in R.
 * Output: one row per non-reference program / counselor, dimension
 * 'program' / 'counselor', estimate = HR, lower/upper its interval,
 * statistic = Wald z, p_value = Wald p, n = the group's episodes, note =
 * the reference (and why a figure is missing). Computed once per run,
 * for the whole cohort, whatever --by says.
 */
#include <stdlib.h>
#include <string.h>

#include "iop/metrics.h"
#include "iop/stats.h"

iop_code iop_retention_cox(const iop_mctx *c, iop_rows *rows, iop_error *err);

/* Factor levels are numbered in SQL: 0 is the reference. $GROUP is the
 * compared factor (program or counselor). */
#define COX_LEVELS(f) \
    " l" #f " AS (SELECT f" #f " AS v, row_number() OVER (ORDER BY count(*) DESC, f" #f ") - 1 AS k" \
    " FROM co GROUP BY f" #f ")"

static const char COX_SQL[] =
    "WITH co AS (SELECT dense_rank() OVER (ORDER BY e.client_id) AS cl,"
    " CASE WHEN e.discharge_date <= ?2 THEN julianday(e.discharge_date) ELSE julianday(?2) END"
    " - julianday(e.admit_date) AS t,"
    " coalesce(e.discharge_date <= ?2 AND e.outcome = 'dropout', 0) AS ev,"
    " e.age_band AS f1, coalesce(e.sex, 'unknown') AS f2,"
    " coalesce(CAST(e.co_occurring AS TEXT), 'unknown') AS f3,"
    " coalesce(e.primary_substance, 'unknown') AS f4,"
    " coalesce(e.referral_source, 'unknown') AS f5, $GROUP AS f6"
    " FROM facts AS e WHERE e.level_of_care = ?3 AND e.admit_date BETWEEN ?1 AND ?2),"
    COX_LEVELS(1) "," COX_LEVELS(2) "," COX_LEVELS(3) "," COX_LEVELS(4) ","
    COX_LEVELS(5) "," COX_LEVELS(6)
    " SELECT co.cl, co.t, co.ev, l1.k, l2.k, l3.k, l4.k, l5.k, l6.k, co.f6 FROM co"
    " JOIN l1 ON l1.v = co.f1 JOIN l2 ON l2.v = co.f2 JOIN l3 ON l3.v = co.f3"
    " JOIN l4 ON l4.v = co.f4 JOIN l5 ON l5.v = co.f5 JOIN l6 ON l6.v = co.f6";

#define N_FACTORS 6
#define COMPARED (N_FACTORS - 1)

/* The cohort of a model. */
typedef struct cox_data {
    size_t n, cap;
    long *cluster;
    double *time;
    int *event;
    int *level;               /* n * N_FACTORS level numbers */
    size_t n_levels[N_FACTORS];
    char **names;             /* of the compared factor's levels */
    long *episodes, *events;  /* per compared level */
    size_t n_names;
} cox_data;

static void data_release(cox_data *d)
{
    for (size_t i = 0; i < d->n_names; i++)
        free(d->names[i]);
    free(d->names);
    free(d->episodes);
    free(d->events);
    free(d->cluster);
    free(d->time);
    free(d->event);
    free(d->level);
    memset(d, 0, sizeof *d);
}

static bool data_grow(cox_data *d)
{
    size_t cap = d->cap ? 2 * d->cap : 1024;
    long *cl = realloc(d->cluster, cap * sizeof *cl);
    if (cl)
        d->cluster = cl;
    double *t = realloc(d->time, cap * sizeof *t);
    if (t)
        d->time = t;
    int *e = realloc(d->event, cap * sizeof *e);
    if (e)
        d->event = e;
    int *lv = realloc(d->level, cap * N_FACTORS * sizeof *lv);
    if (lv)
        d->level = lv;
    if (!cl || !t || !e || !lv)
        return false;
    d->cap = cap;
    return true;
}

/* Makes room for compared level k and names it. */
static bool data_name(cox_data *d, size_t k, const char *name)
{
    if (k >= d->n_names) {
        size_t m = k + 1;
        char **v = realloc(d->names, m * sizeof *v);
        if (v)
            d->names = v;
        long *a = realloc(d->episodes, m * sizeof *a), *b = a ? realloc(d->events, m * sizeof *b) : NULL;
        if (a)
            d->episodes = a;
        if (b)
            d->events = b;
        if (!v || !a || !b)
            return false;
        for (; d->n_names < m; d->n_names++) {
            d->names[d->n_names] = NULL;
            d->episodes[d->n_names] = d->events[d->n_names] = 0;
        }
    }
    if (!d->names[k] && !(d->names[k] = strdup(name ? name : "")))
        return false;
    return true;
}

static bool data_push(cox_data *d, sqlite3_stmt *st)
{
    if (d->n == d->cap && !data_grow(d))
        return false;
    size_t i = d->n;
    d->cluster[i] = (long)sqlite3_column_int64(st, 0);
    d->time[i] = sqlite3_column_double(st, 1);
    d->event[i] = sqlite3_column_int(st, 2) != 0;
    for (int f = 0; f < N_FACTORS; f++) {
        int k = sqlite3_column_int(st, 3 + f);
        d->level[i * N_FACTORS + f] = k;
        if ((size_t)k + 1 > d->n_levels[f])
            d->n_levels[f] = (size_t)k + 1;
    }
    size_t k = (size_t)d->level[i * N_FACTORS + COMPARED];
    if (!data_name(d, k, (const char *)sqlite3_column_text(st, 9)))
        return false;
    d->episodes[k]++;
    d->events[k] += d->event[i];
    d->n++;
    return true;
}

static iop_code data_load(const iop_mctx *c, const char *expr, cox_data *d, iop_error *err)
{
    iop_mctx m = *c;
    sqlite3_stmt *st;
    int s = SQLITE_DONE;
    iop_code rc;

    m.by_expr = expr;
    memset(d, 0, sizeof *d);
    rc = iop_mctx_prepare(&m, COX_SQL, NULL, &st, err);
    while (rc == IOP_OK && (s = sqlite3_step(st)) == SQLITE_ROW)
        if (!data_push(d, st))
            rc = iop_metrics_nomem(err);
    if (rc == IOP_OK && s != SQLITE_DONE)
        rc = iop_mctx_fail(c, err);
    sqlite3_finalize(st);
    return rc;
}

/* The design matrix: a dummy per non-reference level, factor by factor;
 * *first is the column of the compared factor's level 1. */
static double *design(const cox_data *d, size_t *n_vars, size_t *first)
{
    size_t off[N_FACTORS], p = 0;
    for (int f = 0; f < N_FACTORS; f++) {
        off[f] = p;
        p += d->n_levels[f] > 0 ? d->n_levels[f] - 1 : 0;
    }
    *n_vars = p;
    *first = off[COMPARED];
    double *x = calloc(d->n * p + 1, sizeof *x);
    for (size_t i = 0; x && i < d->n; i++)
        for (int f = 0; f < N_FACTORS; f++) {
            int k = d->level[i * N_FACTORS + f];
            if (k > 0)
                x[i * p + off[f] + (size_t)k - 1] = 1.0;
        }
    return x;
}

/* Why the model as a whole gives no hazard ratio, or NULL. */
static const char *model_failure(iop_stats_status s, const iop_stats_cox *fit)
{
    bool flagged = false;
    for (size_t j = 0; fit && j < fit->n_vars; j++)
        flagged |= fit->flag[j] != IOP_STATS_COEF_OK;
    switch (s) {
    case IOP_STATS_OK:
    case IOP_STATS_INFINITE:
        return NULL;
    case IOP_STATS_SINGULAR:
        return flagged ? NULL : "model not estimable: information matrix not positive definite";
    case IOP_STATS_NO_CONVERGENCE:
        return "model did not converge in 20 iterations";
    case IOP_STATS_NOT_ESTIMABLE:
        return "model not estimable: no dropout, or fewer than two clients";
    default:
        return "model not estimable";
    }
}

/* The row of compared level k (column j of the fit). */
static void put_hr(iop_row *r, const cox_data *d, size_t k, const iop_stats_cox *fit,
                   size_t j, const char *failure, const char *dim)
{
    const char *ref = d->names[0];
    r->n = d->episodes[k];
    if (d->events[k] == 0)
        iop_row_note(r, "no dropout in this %s: not estimable; reference '%s'", dim, ref);
    else if (failure)
        iop_row_note(r, "%s; reference '%s'", failure, ref);
    else if (fit->flag[j] == IOP_STATS_COEF_INFINITE)
        iop_row_note(r, "hazard ratio may be infinite: not estimable; reference '%s'", ref);
    else if (fit->flag[j] == IOP_STATS_COEF_ALIASED)
        iop_row_note(r, "aliased with the covariates: not estimable; reference '%s'", ref);
    else {
        iop_row_est(r, fit->hr[j]);
        iop_row_ci(r, fit->lower[j], fit->upper[j]);
        r->statistic = fit->z[j];
        r->p_value = fit->p_value[j];
        r->has |= IOP_HAS_STAT | IOP_HAS_P;
        iop_row_note(r, "reference '%s'", ref);
    }
}

/* Orders pointers to entries of names by the names' bytes. */
static int by_name(const void *a, const void *b)
{
    return strcmp(**(char **const *)a, **(char **const *)b);
}

/* The rows of one model, in byte order of the level's name; a cohort
 * with under two levels gets one row. */
static iop_code model_rows(const iop_mctx *c, const char *dim, const cox_data *d,
                           iop_stats_status s, const iop_stats_cox *fit, size_t first,
                           iop_rows *rows, iop_error *err)
{
    const char *failure = model_failure(s, fit);
    if (d->n_names < 2) {
        iop_row *r = iop_rows_add(rows, c, "cox_hr", "all");
        if (!r)
            return iop_metrics_nomem(err);
        snprintf(r->dimension, sizeof r->dimension, "%s", dim);
        r->n = (long)d->n;
        iop_row_note(r, d->n ? "fewer than two groups: no comparison" : "no admissions in the period");
        return IOP_OK;
    }
    char ***order = malloc(d->n_names * sizeof *order);
    if (!order)
        return iop_metrics_nomem(err);
    for (size_t k = 0; k < d->n_names; k++)
        order[k] = &d->names[k];
    qsort(order + 1, d->n_names - 1, sizeof *order, by_name);
    for (size_t i = 1; i < d->n_names; i++) {
        size_t k = (size_t)(order[i] - d->names);
        iop_row *r = iop_rows_add(rows, c, "cox_hr", d->names[k]);
        if (!r) {
            free(order);
            return iop_metrics_nomem(err);
        }
        snprintf(r->dimension, sizeof r->dimension, "%s", dim);
        put_hr(r, d, k, fit, first + k - 1, failure, dim);
    }
    free(order);
    return IOP_OK;
}

static iop_code model(const iop_mctx *c, const char *dim, const char *expr, iop_rows *rows,
                      iop_error *err)
{
    cox_data d;
    iop_stats_cox *fit = NULL;
    iop_stats_status s = IOP_STATS_EMPTY;
    size_t p = 0, first = 0;
    double *x = NULL;
    iop_code rc = data_load(c, expr, &d, err);

    if (rc == IOP_OK && d.n_names >= 2) {
        if (!(x = design(&d, &p, &first)))
            rc = iop_metrics_nomem(err);
        else
            s = iop_stats_cox_new(d.time, d.event, x, d.n, p, d.cluster, &fit);
        if (s == IOP_STATS_NOMEM)
            rc = iop_metrics_nomem(err);
    }
    if (rc == IOP_OK)
        rc = model_rows(c, dim, &d, s, fit, first, rows, err);
    iop_stats_cox_free(fit);
    free(x);
    data_release(&d);
    return rc;
}

iop_code iop_retention_cox(const iop_mctx *c, iop_rows *rows, iop_error *err)
{
    iop_code rc = model(c, "program", "coalesce(e.program, 'unknown')", rows, err);
    if (rc == IOP_OK)
        rc = model(c, "counselor", "coalesce(e.counselor_id, 'unknown')", rows, err);
    return rc;
}
