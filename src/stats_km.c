/*
 * stats_km.c - Kaplan-Meier curve, S(t) lookup, median and restricted
 * mean, as R's survfit(Surv(t, e) ~ 1, conf.type = "log-log") and
 * summary(fit, rmean = tau)$table.
 *
 * Input: times and 0/1 event flags. Output: an iop_stats_km with one row
 * per distinct time (events before censorings at equal times), Greenwood
 * standard errors and log-log intervals. Limit: no weights, no strata
 * (one curve per call; a caller with groups calls once per group).
 */
#include "stats_internal.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

void iop_stats_km_free(iop_stats_km *km)
{
    if (!km)
        return;
    free(km->time);
    free(km->n_risk);
    free(km->n_event);
    free(km->n_censor);
    free(km->surv);
    free(km->se_log);
    free(km->std_err);
    free(km->lower);
    free(km->upper);
    free(km);
}

/* Takes over the row arrays and allocates the estimate arrays. */
static iop_stats_km *km_alloc(iop_stats__rows *rows, size_t n)
{
    iop_stats_km *km = calloc(1, sizeof *km);
    size_t len = rows->len;

    if (!km)
        return NULL;
    km->n = n;
    km->len = len;
    km->time = rows->time;
    km->n_risk = rows->n_risk;
    km->n_event = rows->n_event;
    km->n_censor = rows->n_censor;
    rows->time = NULL;
    rows->n_risk = rows->n_event = rows->n_censor = NULL;
    km->surv = calloc(len, sizeof *km->surv);
    km->se_log = calloc(len, sizeof *km->se_log);
    km->std_err = calloc(len, sizeof *km->std_err);
    km->lower = calloc(len, sizeof *km->lower);
    km->upper = calloc(len, sizeof *km->upper);
    if (!km->surv || !km->se_log || !km->std_err || !km->lower ||
        !km->upper) {
        iop_stats_km_free(km);
        return NULL;
    }
    return km;
}

/*
 * The product-limit estimate and Greenwood's sum. Where everyone at risk
 * has the event S becomes 0 and the sum would be infinite; R reports Inf,
 * we report 0 and the interval [0, 0].
 */
static void km_estimate(iop_stats_km *km)
{
    double s = 1.0, g = 0.0;

    for (size_t r = 0; r < km->len; r++) {
        double d = (double)km->n_event[r], nr = (double)km->n_risk[r];

        km->events += km->n_event[r];
        if (d > 0) {
            s *= 1.0 - d / nr;
            if (nr > d)
                g += d / (nr * (nr - d));
        }
        km->surv[r] = s;
        km->se_log[r] = s > 0 ? sqrt(g) : 0.0;
        km->std_err[r] = s * km->se_log[r];
        iop_stats__loglog_ci(s, km->se_log[r], &km->lower[r],
                             &km->upper[r]);
    }
}

iop_stats_status iop_stats_km_new(const double *time, const int *event,
                                  size_t n, iop_stats_km **out)
{
    iop_stats__rows rows;
    iop_stats_status st;
    iop_stats_km *km;

    if (!out)
        return IOP_STATS_INVALID;
    *out = NULL;
    if (n == 0)
        return IOP_STATS_EMPTY;
    if (!time || !event || !iop_stats__times_ok(time, n))
        return IOP_STATS_INVALID;
    for (size_t i = 0; i < n; i++)
        if (event[i] != 0 && event[i] != 1)
            return IOP_STATS_INVALID;
    st = iop_stats__rows_init(&rows, time, event, n);
    if (st != IOP_STATS_OK)
        return st;
    km = km_alloc(&rows, n);
    iop_stats__rows_release(&rows);
    if (!km)
        return IOP_STATS_NOMEM;
    km_estimate(km);
    *out = km;
    return IOP_STATS_OK;
}

iop_stats_status iop_stats_km_at(const iop_stats_km *km, double t,
                                 iop_stats_interval *out)
{
    size_t r;

    if (!km || !out || !isfinite(t))
        return IOP_STATS_INVALID;
    *out = (iop_stats_interval){0, 0, 0, 0};
    if (km->len == 0 || t > km->time[km->len - 1])
        return IOP_STATS_NOT_ESTIMABLE;
    r = iop_stats__rows_find(km->time, km->len, t);
    if (r == km->len) {
        *out = (iop_stats_interval){1.0, 1.0, 1.0, 0.0};
        return IOP_STATS_OK;
    }
    out->estimate = km->surv[r];
    out->lower = km->lower[r];
    out->upper = km->upper[r];
    out->std_err = km->std_err[r];
    return IOP_STATS_OK;
}

/*
 * survival:::survmean's minmin(): the first time the curve y is below
 * 0.5 + tol, or the midpoint rule when it sits at 0.5 and drops later.
 * Rows where R has NA (a band where S is 0 or 1) are skipped; skip_na
 * says whether y is a band.
 */
static bool minmin(const iop_stats_km *km, const double *y, bool skip_na,
                   double *at)
{
    const double tol = sqrt(DBL_EPSILON);
    size_t first = km->len;

    for (size_t r = 0; r < km->len; r++) {
        if (skip_na && (km->surv[r] <= 0.0 || km->surv[r] >= 1.0))
            continue;
        if (!(y[r] < 0.5 + tol))
            continue;
        if (first == km->len) {
            first = r;
            *at = km->time[r];
            if (!(fabs(y[r] - 0.5) < tol))
                return true;
        } else if (y[r] < y[first]) {
            *at = (km->time[first] + km->time[r]) / 2.0;
            return true;
        }
    }
    return first < km->len;
}

iop_stats_status iop_stats_km_median(const iop_stats_km *km,
                                     iop_stats_median *out)
{
    if (!km || !out)
        return IOP_STATS_INVALID;
    *out = (iop_stats_median){0};
    out->has_median = minmin(km, km->surv, false, &out->median);
    out->has_lower = minmin(km, km->lower, true, &out->lower);
    out->has_upper = minmin(km, km->upper, true, &out->upper);
    if (!out->has_median)
        out->median = 0;
    if (!out->has_lower)
        out->lower = 0;
    if (!out->has_upper)
        out->upper = 0;
    return out->has_median ? IOP_STATS_OK : IOP_STATS_NOT_ESTIMABLE;
}

/*
 * survmean's restricted mean: rectangles under the step curve from 0 to
 * tau, and var = sum over rows r of A_r^2 d/(n(n-d)), A_r the area from
 * the row's time to tau (0 where n = d, as R).
 */
iop_stats_status iop_stats_km_rmean(const iop_stats_km *km, double tau,
                                    double *rmean, double *std_err)
{
    double area = 0.0, var = 0.0;
    size_t m = 0;

    if (!km || !rmean || !std_err || !isfinite(tau) || tau < 0)
        return IOP_STATS_INVALID;
    while (m < km->len && km->time[m] <= tau)
        m++;
    /* Walk backwards so that the area to tau is at hand for each row. */
    for (size_t r = m; r-- > 0;) {
        double t_next = r + 1 < m ? km->time[r + 1] : tau;
        double d = (double)km->n_event[r], nr = (double)km->n_risk[r];

        area += (t_next - km->time[r]) * km->surv[r];
        if (d > 0 && nr > d)
            var += area * area * d / (nr * (nr - d));
    }
    /* Before the first row the curve is 1. */
    area += m > 0 ? km->time[0] : tau;
    *rmean = area;
    *std_err = sqrt(var);
    return IOP_STATS_OK;
}
