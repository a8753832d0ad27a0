/*
 * stats_cox_robust.c - the robust (sandwich) variance of a Cox model with
 * Efron ties, clustered, as R's coxph(..., cluster = id) "robust se".
 *
 * Input: the sorted, centred and scaled data of stats_cox.c, the estimate
 * and its model-based variance V. Output: V (sum_g S_g S_g') V, with S_g
 * the sum over cluster g of the Efron score residuals (R's coxscore2; the
 * dfbeta residuals S V collapsed by cluster). The residuals use running
 * sums over event times, so the cost is O(n p + times p + clusters p^2).
 */
#include "stats_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef iop_stats__cox_data cox_data;

/*
 * Per distinct event time, the sums that R's coxscore2 spreads over the
 * risk set: H = sum_j 1/den_j, H2 = sum_j (1 - j/d)/den_j, and per column
 * M = sum_j mean_j/den_j, M2 = sum_j (1 - j/d) mean_j/den_j and
 * mbar = sum_j mean_j / d, with den_j = denom - (j/d) e_denom and
 * mean_j = (a - (j/d) a2)/den_j over the d deaths j = 0 .. d-1.
 */
typedef struct cox_haz {
    size_t ntimes;     /* distinct times (rows below) */
    size_t *block;     /* n: the distinct time of each sorted row */
    double *h, *h2;    /* ntimes */
    double *m, *m2, *mbar; /* ntimes * p */
    double *score;     /* n: exp(lp - max lp) */
} cox_haz;

static void cox_haz_release(cox_haz *h)
{
    free(h->block);
    free(h->h);
    free(h->h2);
    free(h->m);
    free(h->m2);
    free(h->mbar);
    free(h->score);
}

static int cox_haz_alloc(cox_haz *h, const cox_data *d)
{
    size_t t = 0, p = d->p;

    memset(h, 0, sizeof *h);
    for (size_t k = 0; k < d->n; k++)
        t += k == 0 || d->time[k] != d->time[k - 1];
    h->ntimes = t;
    h->block = malloc(d->n * sizeof *h->block);
    h->h = calloc(t, sizeof *h->h);
    h->h2 = calloc(t, sizeof *h->h2);
    h->m = calloc(t * p, sizeof *h->m);
    h->m2 = calloc(t * p, sizeof *h->m2);
    h->mbar = calloc(t * p, sizeof *h->mbar);
    h->score = malloc(d->n * sizeof *h->score);
    if (!h->block || !h->h || !h->h2 || !h->m || !h->m2 || !h->mbar ||
        !h->score) {
        cox_haz_release(h);
        return -1;
    }
    return 0;
}

/* Risk scores, shifted by the largest linear predictor (they cancel). */
static void cox_scores(const cox_data *d, const double *beta, cox_haz *h)
{
    double top = -INFINITY;

    for (size_t k = 0; k < d->n; k++) {
        double lp = 0;

        for (size_t i = 0; i < d->p; i++)
            lp += beta[i] * d->x[i * d->n + k];
        h->score[k] = lp;
        top = fmax(top, lp);
    }
    for (size_t k = 0; k < d->n; k++)
        h->score[k] = exp(h->score[k] - top);
}

/* Fills row b of h from the risk-set sums (a, a2 in d's scratch). */
static void cox_haz_row(const cox_data *d, cox_haz *h, size_t b,
                        double denom, double e_denom, size_t ndead)
{
    size_t p = d->p;
    double dd = (double)ndead;

    for (size_t j = 0; j < ndead; j++) {
        double w = (double)j / dd, den = denom - w * e_denom;

        h->h[b] += 1 / den;
        h->h2[b] += (1 - w) / den;
        for (size_t i = 0; i < p; i++) {
            double mean = (d->a[i] - w * d->a2[i]) / den;

            h->m[b * p + i] += mean / den;
            h->m2[b * p + i] += (1 - w) * mean / den;
            h->mbar[b * p + i] += mean / dd;
        }
    }
}

/* One pass from the largest time down, as coxscore2. */
static void cox_haz_fill(cox_data *d, cox_haz *h)
{
    size_t p = d->p, b = h->ntimes;
    double denom = 0;

    memset(d->a, 0, p * sizeof *d->a);
    for (size_t k = d->n; k > 0;) {
        double t = d->time[k - 1], e_denom = 0;
        size_t ndead = 0;

        b--;
        memset(d->a2, 0, p * sizeof *d->a2);
        while (k > 0 && d->time[k - 1] == t) {
            double r = h->score[--k];

            h->block[k] = b;
            denom += r;
            for (size_t i = 0; i < p; i++)
                d->a[i] += r * d->x[i * d->n + k];
            if (!d->status[k])
                continue;
            ndead++;
            e_denom += r;
            for (size_t i = 0; i < p; i++)
                d->a2[i] += r * d->x[i * d->n + k];
        }
        if (ndead > 0)
            cox_haz_row(d, h, b, denom, e_denom, ndead);
    }
}

/*
 * Score residuals summed by cluster into s (m * p), scaled units:
 * censored at t: -r (x CH(t) - CM(t)); event at t: x - mbar(t)
 * - r (x CH(t-) - CM(t-)) - r (x H2(t) - M2(t)), with CH, CM the
 * cumulative sums of H and M.
 */
static int cox_score_sums(const cox_data *d, const cox_haz *h, double *s)
{
    size_t p = d->p, k = 0;
    double ch = 0, *cm = calloc(p, sizeof *cm);

    if (!cm)
        return -1;
    for (size_t b = 0; b < h->ntimes; b++) {
        for (; k < d->n && h->block[k] == b; k++) {
            double r = h->score[k], *sg = s + d->cl[k] * p;

            for (size_t i = 0; i < p; i++) {
                double x = d->x[i * d->n + k];

                if (d->status[k])
                    sg[i] += x - h->mbar[b * p + i] - r * (x * ch - cm[i]) -
                             r * (x * h->h2[b] - h->m2[b * p + i]);
                else
                    sg[i] -= r * (x * (ch + h->h[b]) -
                                  (cm[i] + h->m[b * p + i]));
            }
        }
        ch += h->h[b];
        for (size_t i = 0; i < p; i++)
            cm[i] += h->m[b * p + i];
    }
    free(cm);
    return 0;
}

/* robust = V (S'S) V, all in scaled units (p * p, row-major). */
static void cox_sandwich(const double *var, const double *s, size_t m,
                         size_t p, double *robust, double *dg)
{
    memset(robust, 0, p * p * sizeof *robust);
    for (size_t g = 0; g < m; g++) {
        /* dg = S_g V, the cluster's dfbeta; robust += dg' dg. */
        for (size_t i = 0; i < p; i++) {
            dg[i] = 0;
            for (size_t k = 0; k < p; k++)
                dg[i] += s[g * p + k] * var[k * p + i];
        }
        for (size_t i = 0; i < p; i++)
            for (size_t j = 0; j < p; j++)
                robust[i * p + j] += dg[i] * dg[j];
    }
}

iop_stats_status iop_stats__cox_robust(iop_stats__cox_data *d,
                                       const double *beta, const double *var,
                                       size_t m, double *robust)
{
    double *s = calloc(m * d->p, sizeof *s);
    double *dg = malloc(d->p * sizeof *dg);
    iop_stats_status st;
    cox_haz h;

    if (!s || !dg || cox_haz_alloc(&h, d) != 0) {
        free(s);
        free(dg);
        return IOP_STATS_NOMEM;
    }
    cox_scores(d, beta, &h);
    cox_haz_fill(d, &h);
    st = cox_score_sums(d, &h, s) == 0 ? IOP_STATS_OK : IOP_STATS_NOMEM;
    if (st == IOP_STATS_OK)
        cox_sandwich(var, s, m, d->p, robust, dg);
    cox_haz_release(&h);
    free(dg);
    free(s);
    return st;
}

