/*
 * stats_ratio.c - the ratio estimator of a rate over sessions, screens or
 * weeks, with its variance clustered by client, as R's survey package
 * computes confint(svyratio(~y, ~x, svydesign(ids = ~cluster, data = d))).
 *
 * Input: y and x per unit and the unit's cluster. Output: the ratio of
 * totals, its linearisation standard error (with-replacement, m/(m-1)
 * for m clusters) and the normal 95% interval. No weights, strata or
 * finite-population correction: every unit has weight 1, as in the call.
 */
#include "stats_internal.h"

#include <math.h>
#include <stdlib.h>

static int finite_all(const double *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(a[i]))
            return 0;
    return 1;
}

/* m/(m-1) sum_c (z_c - zbar)^2, z_c the cluster totals of z. */
static iop_stats_status cluster_var(const double *y, const double *x,
                                    const size_t *cl, size_t n, size_t m,
                                    double r, double sx, double *var)
{
    double *z = calloc(m, sizeof *z), zbar = 0, ss = 0;

    if (!z)
        return IOP_STATS_NOMEM;
    for (size_t i = 0; i < n; i++)
        z[cl[i]] += (y[i] - r * x[i]) / sx;
    for (size_t c = 0; c < m; c++)
        zbar += z[c];
    zbar /= (double)m;
    for (size_t c = 0; c < m; c++)
        ss += (z[c] - zbar) * (z[c] - zbar);
    free(z);
    *var = ss * (double)m / (double)(m - 1);
    return IOP_STATS_OK;
}

iop_stats_status iop_stats_ratio(const double *y, const double *x,
                                 const long *cluster, size_t n,
                                 iop_stats_ratio_result *out)
{
    double sy = 0, sx = 0, var = 0, z;
    size_t *cl, m = 0;
    iop_stats_status st;

    if (!out)
        return IOP_STATS_INVALID;
    *out = (iop_stats_ratio_result){0};
    if (n == 0)
        return IOP_STATS_EMPTY;
    if (!y || !x || !finite_all(y, n) || !finite_all(x, n))
        return IOP_STATS_INVALID;
    for (size_t i = 0; i < n; i++) {
        sy += y[i];
        sx += x[i];
    }
    if (sx == 0)
        return IOP_STATS_NOT_ESTIMABLE;
    cl = iop_stats__cluster_index(cluster, n, &m);
    if (!cl)
        return IOP_STATS_NOMEM;
    out->estimate = sy / sx;
    out->n = n;
    out->n_clusters = m;
    if (m < 2) {
        free(cl);
        return IOP_STATS_NOT_ESTIMABLE;
    }
    st = cluster_var(y, x, cl, n, m, out->estimate, sx, &var);
    free(cl);
    if (st != IOP_STATS_OK) {
        *out = (iop_stats_ratio_result){0};
        return st;
    }
    z = iop_stats__z975();
    out->std_err = sqrt(var);
    out->lower = out->estimate - z * out->std_err;
    out->upper = out->estimate + z * out->std_err;
    return IOP_STATS_OK;
}
