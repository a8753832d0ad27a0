/*
 * stats_common.c - what the statistics files share: status strings, the
 * distinct-time table behind every survival curve, cluster numbering and
 * R's log-log interval.
 *
 * Inputs are plain arrays; outputs are caller storage or malloc'd arrays
 * that the caller frees. Sorting uses gsl_sort_index (not stable, which
 * is fine: ties are grouped, never ordered).
 */
#include "stats_internal.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_sort_long.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *iop_stats_strerror(iop_stats_status status)
{
    switch (status) {
    case IOP_STATS_OK: return "ok";
    case IOP_STATS_EMPTY: return "no observations";
    case IOP_STATS_NOT_ESTIMABLE: return "not estimable";
    case IOP_STATS_INVALID: return "invalid argument";
    case IOP_STATS_NOMEM: return "out of memory";
    case IOP_STATS_EGSL: return "numerical routine failed";
    case IOP_STATS_NO_CONVERGENCE: return "did not converge";
    case IOP_STATS_INFINITE: return "a coefficient may be infinite";
    case IOP_STATS_SINGULAR: return "singular: collinear or constant data";
    }
    return "unknown status";
}

double iop_stats__z975(void)
{
    /* GSL's inverse normal is accurate to about 1e-15 here; the literal
     * is R's qnorm(0.975) and guards against a failed GSL call. */
    double z = gsl_cdf_ugaussian_Pinv(0.975);

    return isfinite(z) ? z : 1.959963984540054;
}

void iop_stats__loglog_ci(double p, double se_log, double *lower,
                          double *upper)
{
    double z, ll, w;

    if (p >= 1.0) {
        *lower = *upper = 1.0;
        return;
    }
    if (p <= 0.0) {
        *lower = *upper = 0.0;
        return;
    }
    z = iop_stats__z975();
    ll = log(-log(p));
    w = z * se_log / log(p);
    *lower = exp(-exp(ll - w));
    *upper = exp(-exp(ll + w));
}

int iop_stats__times_ok(const double *time, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(time[i]) || time[i] < 0)
            return 0;
    return 1;
}

void iop_stats__rows_release(iop_stats__rows *rows)
{
    if (!rows)
        return;
    free(rows->time);
    free(rows->n_risk);
    free(rows->n_event);
    free(rows->n_censor);
    free(rows->row_of);
    memset(rows, 0, sizeof *rows);
}

/* Counts the distinct values of the sorted times. */
static size_t count_distinct(const double *time, const size_t *order,
                             size_t n)
{
    size_t len = n > 0;

    for (size_t k = 1; k < n; k++)
        if (time[order[k]] != time[order[k - 1]])
            len++;
    return len;
}

/* Walks the sorted observations once and fills the rows. */
static void fill_rows(iop_stats__rows *rows, const double *time,
                      const int *code, const size_t *order, size_t n)
{
    size_t r = 0, before = 0;

    for (size_t k = 0; k < n; k++) {
        size_t i = order[k];

        if (k > 0 && time[i] != time[order[k - 1]]) {
            before += rows->n_event[r] + rows->n_censor[r];
            r++;
        }
        if (k == 0 || time[i] != time[order[k - 1]]) {
            rows->time[r] = time[i];
            rows->n_risk[r] = n - before;
        }
        if (code[i] != 0)
            rows->n_event[r]++;
        else
            rows->n_censor[r]++;
        rows->row_of[i] = r;
    }
}

iop_stats_status iop_stats__rows_init(iop_stats__rows *rows,
                                      const double *time, const int *code,
                                      size_t n)
{
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    size_t len;

    memset(rows, 0, sizeof *rows);
    if (!order)
        return IOP_STATS_NOMEM;
    gsl_sort_index(order, time, 1, n);
    len = count_distinct(time, order, n);
    rows->len = len;
    rows->time = calloc(len ? len : 1, sizeof *rows->time);
    rows->n_risk = calloc(len ? len : 1, sizeof *rows->n_risk);
    rows->n_event = calloc(len ? len : 1, sizeof *rows->n_event);
    rows->n_censor = calloc(len ? len : 1, sizeof *rows->n_censor);
    rows->row_of = calloc(n ? n : 1, sizeof *rows->row_of);
    if (!rows->time || !rows->n_risk || !rows->n_event || !rows->n_censor ||
        !rows->row_of) {
        free(order);
        iop_stats__rows_release(rows);
        return IOP_STATS_NOMEM;
    }
    fill_rows(rows, time, code, order, n);
    free(order);
    return IOP_STATS_OK;
}

size_t iop_stats__rows_find(const double *time, size_t len, double t)
{
    size_t lo = 0, hi = len;

    if (len == 0 || t < time[0])
        return len;
    /* Invariant: time[lo] <= t, and every row from hi on is > t. */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;

        if (time[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

size_t *iop_stats__cluster_index(const long *cluster, size_t n,
                                 size_t *n_clusters)
{
    size_t *index = malloc((n ? n : 1) * sizeof *index);
    size_t *order, m = 0;

    if (!index)
        return NULL;
    if (!cluster) {
        for (size_t i = 0; i < n; i++)
            index[i] = i;
        *n_clusters = n;
        return index;
    }
    order = malloc((n ? n : 1) * sizeof *order);
    if (!order) {
        free(index);
        return NULL;
    }
    gsl_sort_long_index(order, cluster, 1, n);
    for (size_t k = 0; k < n; k++) {
        if (k > 0 && cluster[order[k]] != cluster[order[k - 1]])
            m++;
        index[order[k]] = m;
    }
    *n_clusters = n ? m + 1 : 0;
    free(order);
    return index;
}

double iop_stats__mean(const double *x, size_t n)
{
    long double s = 0, r = 0, m;

    for (size_t i = 0; i < n; i++)
        s += x[i];
    m = s / n;
    for (size_t i = 0; i < n; i++)
        r += x[i] - m;
    return (double)(m + r / n);
}
