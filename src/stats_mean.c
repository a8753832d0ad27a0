/*
 * stats_mean.c - means: the paired t-test (R t.test(x, y, paired = TRUE)),
 * Cohen's d_z and type-7 quantiles (R quantile(x, type = 7)).
 *
 * Inputs are arrays of finite doubles, never modified. Outputs are plain
 * structs or caller arrays.
 */
#include "stats_internal.h"

#include <float.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_sort.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int all_finite(const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return 0;
    return 1;
}

/* The sample standard deviation around mean m (n >= 2). */
static double sample_sd(const double *d, size_t n, double m)
{
    long double ss = 0;

    for (size_t i = 0; i < n; i++)
        ss += ((long double)d[i] - m) * ((long double)d[i] - m);
    return sqrt((double)(ss / (n - 1)));
}

/* The t part, once n, mean and sd are known and sd is usable. */
static iop_stats_status ttest_finish(iop_stats_ttest *out)
{
    double q;

    out->std_err = out->sd / sqrt((double)out->n);
    out->df = (double)(out->n - 1);
    out->statistic = out->mean / out->std_err;
    out->p_value = 2 * gsl_cdf_tdist_Q(fabs(out->statistic), out->df);
    q = gsl_cdf_tdist_Qinv(0.025, out->df);
    if (!isfinite(out->p_value) || !isfinite(q)) {
        *out = (iop_stats_ttest){0};
        return IOP_STATS_EGSL;
    }
    out->lower = out->mean - q * out->std_err;
    out->upper = out->mean + q * out->std_err;
    out->dz = out->mean / out->sd;
    return IOP_STATS_OK;
}

iop_stats_status iop_stats_ttest_paired(const double *x, const double *y,
                                        size_t n, iop_stats_ttest *out)
{
    double *d;

    if (!out)
        return IOP_STATS_INVALID;
    *out = (iop_stats_ttest){0};
    if (n == 0)
        return IOP_STATS_EMPTY;
    if (!x || !all_finite(x, n) || (y && !all_finite(y, n)))
        return IOP_STATS_INVALID;
    d = malloc(n * sizeof *d);
    if (!d)
        return IOP_STATS_NOMEM;
    for (size_t i = 0; i < n; i++)
        d[i] = y ? x[i] - y[i] : x[i];
    out->n = n;
    out->mean = iop_stats__mean(d, n);
    if (n < 2) {
        free(d);
        return IOP_STATS_NOT_ESTIMABLE;
    }
    out->sd = sample_sd(d, n, out->mean);
    free(d);
    /* R stops with "data are essentially constant" here. */
    if (out->sd / sqrt((double)n) < 10 * DBL_EPSILON * fabs(out->mean) ||
        out->sd == 0)
        return IOP_STATS_NOT_ESTIMABLE;
    return ttest_finish(out);
}

iop_stats_status iop_stats_cohen_dz(const double *diff, size_t n,
                                    double *out)
{
    double m, sd;

    if (!out)
        return IOP_STATS_INVALID;
    *out = 0;
    if (n == 0)
        return IOP_STATS_EMPTY;
    if (!diff || !all_finite(diff, n))
        return IOP_STATS_INVALID;
    if (n < 2)
        return IOP_STATS_NOT_ESTIMABLE;
    m = iop_stats__mean(diff, n);
    sd = sample_sd(diff, n, m);
    if (!(sd > 0))
        return IOP_STATS_NOT_ESTIMABLE;
    *out = m / sd;
    return IOP_STATS_OK;
}

/* R: index = 1 + (n - 1) p; interpolate unless the neighbours are equal. */
static double type7(const double *s, size_t n, double p)
{
    double index = (double)(n - 1) * p, h;
    size_t lo = (size_t)floor(index), hi = (size_t)ceil(index);

    if (hi >= n)
        hi = n - 1;
    if (lo >= n)
        lo = n - 1;
    if (!(index > (double)lo) || s[hi] == s[lo])
        return s[lo];
    h = index - (double)lo;
    return (1 - h) * s[lo] + h * s[hi];
}

iop_stats_status iop_stats_quantile(const double *x, size_t n,
                                    const double *probs, size_t n_probs,
                                    double *out)
{
    double *s;

    if (n_probs > 0 && (!probs || !out))
        return IOP_STATS_INVALID;
    for (size_t j = 0; j < n_probs; j++) {
        if (!(probs[j] >= 0 && probs[j] <= 1))
            return IOP_STATS_INVALID;
        out[j] = 0;
    }
    if (n == 0)
        return IOP_STATS_EMPTY;
    if (!x || !all_finite(x, n))
        return IOP_STATS_INVALID;
    s = malloc(n * sizeof *s);
    if (!s)
        return IOP_STATS_NOMEM;
    memcpy(s, x, n * sizeof *s);
    gsl_sort(s, 1, n);
    for (size_t j = 0; j < n_probs; j++)
        out[j] = type7(s, n, probs[j]);
    free(s);
    return IOP_STATS_OK;
}
