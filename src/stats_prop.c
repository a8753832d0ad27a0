/*
 * stats_prop.c - proportions and tables: the Wilson interval, Pearson's
 * chi-square, Fisher's exact test for 2 x 2 tables and the Cochran-
 * Armitage test for trend, each as the R call named in stats.h.
 *
 * Inputs are counts; outputs are plain structs. Limits: Fisher's test is
 * for 2 x 2 tables only (larger tables take the chi-square with the share
 * of small expected counts, as docs/statistics.md says).
 */
#include "stats_internal.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_sf_gamma.h>
#include <math.h>
#include <stdlib.h>

/* R prop.test(x, n, correct = FALSE)$conf.int, two-sided 95%. */
iop_stats_status iop_stats_wilson(size_t x, size_t n,
                                  iop_stats_interval *out)
{
    double p, z, z22n, half, lo, hi;

    if (!out || x > n)
        return IOP_STATS_INVALID;
    *out = (iop_stats_interval){0, 0, 0, 0};
    if (n == 0)
        return IOP_STATS_NOT_ESTIMABLE;
    p = (double)x / (double)n;
    z = iop_stats__z975();
    z22n = z * z / (2.0 * n);
    half = z * sqrt(p * (1 - p) / n + z22n / (2.0 * n));
    hi = p >= 1 ? 1 : (p + z22n + half) / (1 + 2 * z22n);
    lo = p <= 0 ? 0 : (p + z22n - half) / (1 + 2 * z22n);
    out->estimate = p;
    out->lower = fmax(lo, 0);
    out->upper = fmin(hi, 1);
    out->std_err = sqrt(p * (1 - p) / n);
    return IOP_STATS_OK;
}

/* Row and column sums; returns 0 when one of them is 0. */
static int margins(const size_t *counts, size_t rows, size_t cols,
                   double *rs, double *cs, double *total)
{
    *total = 0;
    for (size_t j = 0; j < cols; j++)
        cs[j] = 0;
    for (size_t i = 0; i < rows; i++) {
        rs[i] = 0;
        for (size_t j = 0; j < cols; j++) {
            rs[i] += (double)counts[i * cols + j];
            cs[j] += (double)counts[i * cols + j];
        }
        *total += rs[i];
    }
    for (size_t i = 0; i < rows; i++)
        if (rs[i] == 0)
            return 0;
    for (size_t j = 0; j < cols; j++)
        if (cs[j] == 0)
            return 0;
    return 1;
}

/* The statistic and the small-cell counts, from the margins. */
static void chisq_sum(const size_t *counts, size_t rows, size_t cols,
                      const double *rs, const double *cs, double total,
                      iop_stats_chisq_result *out, double *expected)
{
    out->min_expected = INFINITY;
    for (size_t i = 0; i < rows; i++) {
        for (size_t j = 0; j < cols; j++) {
            double e = rs[i] * cs[j] / total;
            double d = (double)counts[i * cols + j] - e;

            out->statistic += d * d / e;
            out->min_expected = fmin(out->min_expected, e);
            if (e < 5)
                out->cells_expected_below5++;
            if (expected)
                expected[i * cols + j] = e;
        }
    }
    out->share_expected_below5 =
        (double)out->cells_expected_below5 / (double)(rows * cols);
}

iop_stats_status iop_stats_chisq(const size_t *counts, size_t rows,
                                 size_t cols, iop_stats_chisq_result *out,
                                 double *expected)
{
    double *rs, *cs, total;
    iop_stats_status st = IOP_STATS_OK;

    if (!out || (!counts && rows * cols > 0))
        return IOP_STATS_INVALID;
    *out = (iop_stats_chisq_result){0};
    if (rows < 2 || cols < 2)
        return IOP_STATS_NOT_ESTIMABLE;
    rs = malloc(rows * sizeof *rs);
    cs = malloc(cols * sizeof *cs);
    if (!rs || !cs) {
        st = IOP_STATS_NOMEM;
    } else if (!margins(counts, rows, cols, rs, cs, &total)) {
        st = IOP_STATS_NOT_ESTIMABLE;
    } else {
        chisq_sum(counts, rows, cols, rs, cs, total, out, expected);
        out->df = (double)((rows - 1) * (cols - 1));
        out->p_value = gsl_cdf_chisq_Q(out->statistic, out->df);
        if (!isfinite(out->p_value))
            st = IOP_STATS_EGSL;
    }
    if (st != IOP_STATS_OK)
        *out = (iop_stats_chisq_result){0};
    free(rs);
    free(cs);
    return st;
}

/* log dhyper(i, m, n, k): choose(m, i) choose(n, k - i) / choose(m+n, k) */
static int log_dhyper(size_t i, size_t m, size_t n, size_t k, double *out)
{
    gsl_sf_result a, b, c;

    if (gsl_sf_lnchoose_e((unsigned)m, (unsigned)i, &a) != GSL_SUCCESS ||
        gsl_sf_lnchoose_e((unsigned)n, (unsigned)(k - i), &b) !=
            GSL_SUCCESS ||
        gsl_sf_lnchoose_e((unsigned)(m + n), (unsigned)k, &c) !=
            GSL_SUCCESS)
        return -1;
    *out = a.val + b.val - c.val;
    return 0;
}

/*
 * R's two-sided p for 2 x 2 tables: the support lo..hi of t[0] given the
 * margins, probabilities scaled by their maximum, summed where not above
 * the observed one times 1 + 1e-7.
 */
static iop_stats_status fisher_p(size_t x, size_t m, size_t n, size_t k,
                                 double *p)
{
    size_t lo = k > n ? k - n : 0, hi = k < m ? k : m, len = hi - lo + 1;
    double *d = malloc(len * sizeof *d), top = -INFINITY, sum = 0, sel = 0;

    if (!d)
        return IOP_STATS_NOMEM;
    for (size_t i = 0; i < len; i++) {
        if (log_dhyper(lo + i, m, n, k, &d[i]) != 0) {
            free(d);
            return IOP_STATS_EGSL;
        }
        top = fmax(top, d[i]);
    }
    for (size_t i = 0; i < len; i++) {
        d[i] = exp(d[i] - top);
        sum += d[i];
    }
    for (size_t i = 0; i < len; i++)
        if (d[i] <= d[x - lo] * (1 + 1e-7))
            sel += d[i] / sum;
    free(d);
    *p = fmin(sel, 1.0);
    return IOP_STATS_OK;
}

iop_stats_status iop_stats_fisher(const size_t t[4], iop_stats_test *out)
{
    size_t m, n, k;

    if (!t || !out)
        return IOP_STATS_INVALID;
    *out = (iop_stats_test){0, 0, 0};
    m = t[0] + t[2];  /* first column */
    n = t[1] + t[3];  /* second column */
    k = t[0] + t[1];  /* first row */
    if (m + n == 0)
        return IOP_STATS_NOT_ESTIMABLE;
    if (m + n > 2000000000u)
        return IOP_STATS_INVALID;
    return fisher_p(t[0], m, n, k, &out->p_value);
}

/*
 * R's prop.trend.test is the regression sum of squares of x/n on score
 * with weights n / (p (1 - p)); in closed form
 * [sum (x - n p)(s - sbar)]^2 / (p (1 - p) sum n (s - sbar)^2),
 * sbar the n-weighted mean score.
 */
iop_stats_status iop_stats_trend(const size_t *x, const size_t *n,
                                 const double *score, size_t k,
                                 iop_stats_test *out)
{
    double sx = 0, sn = 0, sns = 0, sbar, p, num = 0, den = 0;
    size_t used = 0;

    if (!out || (k > 0 && (!x || !n || !score)))
        return IOP_STATS_INVALID;
    *out = (iop_stats_test){0, 0, 0};
    for (size_t i = 0; i < k; i++) {
        if (x[i] > n[i] || !isfinite(score[i]))
            return IOP_STATS_INVALID;
        if (n[i] == 0)
            continue;
        sx += (double)x[i];
        sn += (double)n[i];
        sns += (double)n[i] * score[i];
        used++;
    }
    if (used < 2 || sx == 0 || sx == sn)
        return IOP_STATS_NOT_ESTIMABLE;
    p = sx / sn;
    sbar = sns / sn;
    for (size_t i = 0; i < k; i++) {
        double ds = score[i] - sbar;

        num += ((double)x[i] - (double)n[i] * p) * ds;
        den += (double)n[i] * ds * ds;
    }
    if (!(den > 1e-12 * sn * (fabs(sbar) + 1) * (fabs(sbar) + 1)))
        return IOP_STATS_NOT_ESTIMABLE;
    out->statistic = num * num / (p * (1 - p) * den);
    out->df = 1;
    out->p_value = gsl_cdf_chisq_Q(out->statistic, 1.0);
    return IOP_STATS_OK;
}
