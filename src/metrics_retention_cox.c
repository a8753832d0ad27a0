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

/* The cohort with its clients in order (ties: admit date, then facts'
 * order), so that the cluster numbers are the clients' ranks in byte
 * order, as a dense_rank() would give, and the fit reads its rows in one
 * defined order. Factor levels are numbered in C (level_numbers()): a
 * window and a GROUP BY per factor over the cohort took 0.3-0.5 s of a
 * 12-month cohort's model in SQL. $GROUP is the compared factor (program
 * or counselor). */
static const char COX_SQL[] =
    "SELECT e.client_id,"
    " CASE WHEN e.discharge_date <= ?2 THEN julianday(e.discharge_date) ELSE julianday(?2) END"
    " - julianday(e.admit_date),"
    " coalesce(e.discharge_date <= ?2 AND e.outcome = 'dropout', 0),"
    " e.age_band, coalesce(e.sex, 'unknown'),"
    " coalesce(CAST(e.co_occurring AS TEXT), 'unknown'),"
    " coalesce(e.primary_substance, 'unknown'),"
    " coalesce(e.referral_source, 'unknown'), $GROUP"
    " FROM facts AS e WHERE e.level_of_care = ?3 AND e.admit_date BETWEEN ?1 AND ?2"
    " ORDER BY e.client_id, e.admit_date, e.rowid";

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

/* The distinct values of one factor in order of first appearance, with
 * their episodes, found through an open-addressing hash of their bytes. */
typedef struct factor {
    char **name;
    size_t *len;
    long *count;
    size_t n, cap;
    size_t *slot;             /* value index + 1, or 0 when free */
    size_t n_slot;            /* a power of two, over twice n */
} factor;

static void factor_release(factor *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->name[i]);
    free(f->name);
    free(f->len);
    free(f->count);
    free(f->slot);
    memset(f, 0, sizeof *f);
}

static size_t *factor_find(const factor *f, const char *s, size_t len)
{
    size_t i = (size_t)iop_hash_bytes(s, len) & (f->n_slot - 1);
    while (f->slot[i]) {
        size_t v = f->slot[i] - 1;
        if (f->len[v] == len && memcmp(f->name[v], s, len) == 0)
            break;
        i = (i + 1) & (f->n_slot - 1);
    }
    return &f->slot[i];
}

static bool factor_rehash(factor *f)
{
    size_t n = f->n_slot ? 2 * f->n_slot : 64;
    size_t *slot = calloc(n, sizeof *slot);
    if (!slot)
        return false;
    free(f->slot);
    f->slot = slot;
    f->n_slot = n;
    for (size_t v = 0; v < f->n; v++)
        *factor_find(f, f->name[v], f->len[v]) = v + 1;
    return true;
}

/* The index of value s (len bytes), added with a count of one when new,
 * or -1 when out of memory. */
static long factor_value(factor *f, const char *s, size_t len)
{
    if (2 * (f->n + 1) > f->n_slot && !factor_rehash(f))
        return -1;
    size_t *slot = factor_find(f, s, len);
    if (*slot) {
        f->count[*slot - 1]++;
        return (long)(*slot - 1);
    }
    if (f->n == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 16;
        char **nm = realloc(f->name, cap * sizeof *nm);
        if (nm)
            f->name = nm;
        size_t *ln = realloc(f->len, cap * sizeof *ln);
        if (ln)
            f->len = ln;
        long *ct = realloc(f->count, cap * sizeof *ct);
        if (ct)
            f->count = ct;
        if (!nm || !ln || !ct)
            return -1;
        f->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy)
        return -1;
    memcpy(copy, s, len);
    copy[len] = '\0';
    f->name[f->n] = copy;
    f->len[f->n] = len;
    f->count[f->n] = 1;
    *slot = ++f->n;
    return (long)(f->n - 1);
}

/* A factor's value as its levels are ordered: by episodes, more first,
 * then by bytes. */
typedef struct level_key {
    long count;
    const char *name;
    size_t len, v;
} level_key;

static int by_count(const void *pa, const void *pb)
{
    const level_key *a = pa, *b = pb;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    int r = memcmp(a->name, b->name, a->len < b->len ? a->len : b->len);
    return r ? r : (a->len > b->len) - (a->len < b->len);
}

/* Numbers each factor's levels by episodes, most first (ties by name,
 * byte order): 0 is the reference. Rewrites the rows' value indices as
 * those numbers and names the compared factor's levels (moved from fs). */
static bool level_numbers(cox_data *d, factor *fs)
{
    for (int f = 0; f < N_FACTORS; f++) {
        factor *fa = &fs[f];
        size_t m = fa->n ? fa->n : 1;
        level_key *key = malloc(m * sizeof *key);
        size_t *rank = malloc(m * sizeof *rank);
        bool ok = key && rank;

        for (size_t v = 0; ok && v < fa->n; v++)
            key[v] = (level_key){fa->count[v], fa->name[v], fa->len[v], v};
        if (ok)
            qsort(key, fa->n, sizeof *key, by_count);
        for (size_t k = 0; ok && k < fa->n; k++)
            rank[key[k].v] = k;
        for (size_t i = 0; ok && i < d->n; i++)
            d->level[i * N_FACTORS + f] = (int)rank[d->level[i * N_FACTORS + f]];
        d->n_levels[f] = fa->n;
        if (ok && f == COMPARED && fa->n) {
            d->names = calloc(fa->n, sizeof *d->names);
            d->episodes = calloc(fa->n, sizeof *d->episodes);
            d->events = calloc(fa->n, sizeof *d->events);
            ok = d->names && d->episodes && d->events;
            if (ok)
                d->n_names = fa->n;
            for (size_t k = 0; ok && k < fa->n; k++) {
                d->names[k] = fa->name[key[k].v];
                fa->name[key[k].v] = NULL;
            }
            for (size_t i = 0; ok && i < d->n; i++) {
                size_t k = (size_t)d->level[i * N_FACTORS + COMPARED];
                d->episodes[k]++;
                d->events[k] += d->event[i];
            }
        }
        free(key);
        free(rank);
        if (!ok)
            return false;
    }
    return true;
}

/* Appends the row of st: its client's rank (a new one when the client
 * differs from the previous row's), time, event and the factors' value
 * indices. Rows with a NULL factor are left out, as an inner join on the
 * level would. */
static bool data_push(cox_data *d, factor *fs, char **last, long *cl, sqlite3_stmt *st)
{
    const char *client = (const char *)sqlite3_column_text(st, 0);
    long v[N_FACTORS];

    for (int f = 0; f < N_FACTORS; f++)
        if (sqlite3_column_type(st, 3 + f) == SQLITE_NULL)
            return true;
    if (!client)
        return sqlite3_column_type(st, 0) == SQLITE_NULL;
    if (d->n == d->cap && !data_grow(d))
        return false;
    for (int f = 0; f < N_FACTORS; f++) {
        const char *t = (const char *)sqlite3_column_text(st, 3 + f);
        if (!t || (v[f] = factor_value(&fs[f], t, (size_t)sqlite3_column_bytes(st, 3 + f))) < 0)
            return false;
    }
    if (!*last || strcmp(*last, client) != 0) {
        free(*last);
        if (!(*last = strdup(client)))
            return false;
        ++*cl;
    }
    size_t i = d->n;
    d->cluster[i] = *cl;
    d->time[i] = sqlite3_column_double(st, 1);
    d->event[i] = sqlite3_column_int(st, 2) != 0;
    for (int f = 0; f < N_FACTORS; f++)
        d->level[i * N_FACTORS + f] = (int)v[f];
    d->n++;
    return true;
}

static iop_code data_load(const iop_mctx *c, const char *expr, cox_data *d, iop_error *err)
{
    iop_mctx m = *c;
    sqlite3_stmt *st;
    factor fs[N_FACTORS] = {{0}};
    char *last = NULL;
    long cl = 0;
    int s = SQLITE_DONE;
    iop_code rc;

    m.by_expr = expr;
    memset(d, 0, sizeof *d);
    rc = iop_mctx_prepare(&m, COX_SQL, NULL, &st, err);
    while (rc == IOP_OK && (s = sqlite3_step(st)) == SQLITE_ROW)
        if (!data_push(d, fs, &last, &cl, st))
            rc = iop_metrics_nomem(err);
    if (rc == IOP_OK && s != SQLITE_DONE)
        rc = iop_mctx_fail(c, err);
    sqlite3_finalize(st);
    if (rc == IOP_OK && !level_numbers(d, fs))
        rc = iop_metrics_nomem(err);
    for (int f = 0; f < N_FACTORS; f++)
        factor_release(&fs[f]);
    free(last);
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

/* Why the model as a whole gives no hazard ratio, or NULL. A singular
 * fit may still report the columns that are not aliased; one that became
 * singular during its iterations reports none, even when it had flagged
 * aliased columns before them (the rows of the other columns once showed
 * hazard ratios, CIs and p-values of 0). */
static const char *model_failure(iop_stats_status s, const iop_stats_cox *fit)
{
    switch (s) {
    case IOP_STATS_OK:
    case IOP_STATS_INFINITE:
        return NULL;
    case IOP_STATS_SINGULAR:
        return fit && fit->reported ? NULL
                                    : "model not estimable: information matrix not positive definite";
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
