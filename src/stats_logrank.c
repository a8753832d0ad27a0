/*
 * stats_logrank.c - the log-rank test across k groups, as R's
 * survdiff(Surv(t, e) ~ g) (rho = 0).
 *
 * Input: times, 0/1 events and group numbers. Output: the statistic, its
 * degrees of freedom and p-value, and per-group observed and expected
 * events. The quadratic form uses the Moore-Penrose inverse of the
 * hypergeometric variance (GSL symmetric eigen-decomposition), which is
 * R's solve() whenever that matrix is regular.
 */
#include "stats_internal.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_vector.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Working storage of one test. */
typedef struct lr_work {
    size_t k;
    double *obs;    /* k */
    double *exp;    /* k */
    double *var;    /* k * k */
    double *risk;   /* k: at risk in each group */
    double *dead;   /* k: events in each group at the current time */
    size_t *order;  /* n */
} lr_work;

static void lr_release(lr_work *w)
{
    free(w->obs);
    free(w->exp);
    free(w->var);
    free(w->risk);
    free(w->dead);
    free(w->order);
}

static int lr_init(lr_work *w, size_t n, size_t k)
{
    memset(w, 0, sizeof *w);
    w->k = k;
    w->obs = calloc(k, sizeof *w->obs);
    w->exp = calloc(k, sizeof *w->exp);
    w->var = calloc(k * k, sizeof *w->var);
    w->risk = calloc(k, sizeof *w->risk);
    w->dead = calloc(k, sizeof *w->dead);
    w->order = malloc(n * sizeof *w->order);
    if (!w->obs || !w->exp || !w->var || !w->risk || !w->dead ||
        !w->order) {
        lr_release(w);
        return -1;
    }
    return 0;
}

/* Adds one event time: d events among nr at risk. */
static void lr_add_time(lr_work *w, double d, double nr)
{
    size_t k = w->k;
    double kk = nr > 1 ? d * (nr - d) / (nr * (nr - 1)) : 0.0;

    for (size_t i = 0; i < k; i++) {
        w->obs[i] += w->dead[i];
        w->exp[i] += d * w->risk[i] / nr;
        if (kk == 0)
            continue;
        w->var[i * k + i] += kk * w->risk[i];
        for (size_t j = 0; j < k; j++)
            w->var[i * k + j] -= kk * w->risk[i] * w->risk[j] / nr;
    }
}

/*
 * Walks the times from the largest down, so that the risk sets only grow:
 * at each distinct time, everyone with that time joins, then the time's
 * events are scored.
 */
static void lr_accumulate(lr_work *w, const double *time, const int *event,
                          const size_t *group, size_t n)
{
    double nr = 0;
    size_t k = n;

    gsl_sort_index(w->order, time, 1, n);
    while (k > 0) {
        double t = time[w->order[k - 1]], d = 0;

        memset(w->dead, 0, w->k * sizeof *w->dead);
        while (k > 0 && time[w->order[k - 1]] == t) {
            size_t i = w->order[--k];

            w->risk[group[i]] += 1;
            nr += 1;
            if (event[i]) {
                w->dead[group[i]] += 1;
                d += 1;
            }
        }
        if (d > 0)
            lr_add_time(w, d, nr);
    }
}

/*
 * x' V^+ x over the kept groups but the first, with V^+ from the eigen-
 * decomposition; eigenvalues below 1e-10 of the largest count as zero.
 * Sets *rank.
 */
static iop_stats_status lr_quadratic(const lr_work *w, const size_t *keep,
                                     size_t m, double *chi, size_t *rank)
{
    gsl_matrix *v = gsl_matrix_alloc(m, m), *evec = gsl_matrix_alloc(m, m);
    gsl_vector *eval = gsl_vector_alloc(m);
    gsl_eigen_symmv_workspace *ws = gsl_eigen_symmv_alloc(m);
    iop_stats_status st = IOP_STATS_NOMEM;
    double top = 0;

    if (!v || !evec || !eval || !ws)
        goto done;
    for (size_t a = 0; a < m; a++)
        for (size_t b = 0; b < m; b++)
            gsl_matrix_set(v, a, b, w->var[keep[a + 1] * w->k + keep[b + 1]]);
    st = IOP_STATS_EGSL;
    if (gsl_eigen_symmv(v, eval, evec, ws) != GSL_SUCCESS)
        goto done;
    for (size_t a = 0; a < m; a++)
        top = fmax(top, gsl_vector_get(eval, a));
    *chi = 0;
    *rank = 0;
    for (size_t a = 0; a < m; a++) {
        double lambda = gsl_vector_get(eval, a), proj = 0;

        if (!(lambda > top * 1e-10) || !(lambda > 0))
            continue;
        for (size_t b = 0; b < m; b++) {
            size_t g = keep[b + 1];

            proj += gsl_matrix_get(evec, b, a) * (w->obs[g] - w->exp[g]);
        }
        *chi += proj * proj / lambda;
        (*rank)++;
    }
    st = IOP_STATS_OK;
done:
    gsl_eigen_symmv_free(ws);
    gsl_vector_free(eval);
    gsl_matrix_free(evec);
    gsl_matrix_free(v);
    return st;
}

static iop_stats_status lr_test(const lr_work *w, iop_stats_test *out)
{
    size_t *keep = malloc(w->k * sizeof *keep), m = 0, rank = 0;
    iop_stats_status st;
    double chi = 0;

    if (!keep)
        return IOP_STATS_NOMEM;
    for (size_t g = 0; g < w->k; g++)
        if (w->exp[g] > 0)
            keep[m++] = g;
    if (m < 2) {
        free(keep);
        return IOP_STATS_NOT_ESTIMABLE;
    }
    st = lr_quadratic(w, keep, m - 1, &chi, &rank);
    free(keep);
    if (st != IOP_STATS_OK)
        return st;
    if (rank == 0)
        return IOP_STATS_NOT_ESTIMABLE;
    out->statistic = chi;
    out->df = (double)rank;
    out->p_value = gsl_cdf_chisq_Q(chi, (double)rank);
    if (!isfinite(out->p_value)) {
        *out = (iop_stats_test){0, 0, 0};
        return IOP_STATS_EGSL;
    }
    return IOP_STATS_OK;
}

static int lr_valid(const double *time, const int *event,
                    const size_t *group, size_t n, size_t k)
{
    if (!time || !event || !group || k == 0)
        return 0;
    if (!iop_stats__times_ok(time, n))
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((event[i] != 0 && event[i] != 1) || group[i] >= k)
            return 0;
    return 1;
}

iop_stats_status iop_stats_logrank(const double *time, const int *event,
                                   const size_t *group, size_t n,
                                   size_t n_groups, iop_stats_test *out,
                                   double *observed, double *expected)
{
    iop_stats_status st;
    lr_work w;

    if (!out)
        return IOP_STATS_INVALID;
    *out = (iop_stats_test){0, 0, 0};
    if (n == 0)
        return IOP_STATS_EMPTY;
    if (!lr_valid(time, event, group, n, n_groups))
        return IOP_STATS_INVALID;
    if (lr_init(&w, n, n_groups) != 0)
        return IOP_STATS_NOMEM;
    lr_accumulate(&w, time, event, group, n);
    st = lr_test(&w, out);
    if (st == IOP_STATS_OK || st == IOP_STATS_NOT_ESTIMABLE) {
        for (size_t g = 0; g < n_groups; g++) {
            if (observed)
                observed[g] = w.obs[g];
            if (expected)
                expected[g] = w.exp[g];
        }
    }
    lr_release(&w);
    return st;
}
