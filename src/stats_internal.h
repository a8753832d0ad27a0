/*
 * stats_internal.h - helpers shared by the src/stats_*.c files only.
 *
 * Not part of the API: include/iop/stats.h is. Names carry a double
 * underscore so that nobody mistakes them for exported functions.
 */
#ifndef IOP_STATS_INTERNAL_H
#define IOP_STATS_INTERNAL_H

#include "iop/stats.h"

#include <stddef.h>

/* qnorm(0.975), from GSL (checked against R to 1e-15 in the tests). */
double iop_stats__z975(void);

/*
 * R's log-log interval of a probability p with se = the standard error of
 * log p: [1, 1] for p >= 1, [0, 0] for p <= 0 (R: NA).
 */
void iop_stats__loglog_ci(double p, double se_log, double *lower,
                          double *upper);

/* True when every time is finite and >= 0. */
int iop_stats__times_ok(const double *time, size_t n);

/*
 * The distinct times of n observations and the counts at each, as the rows
 * of R's survfit: row_of[i] is the row of observation i. An observation
 * with code[i] != 0 is an event at its time, one with 0 a censoring.
 */
typedef struct iop_stats__rows {
    size_t len;
    double *time;
    size_t *n_risk;
    size_t *n_event;
    size_t *n_censor;
    size_t *row_of;
} iop_stats__rows;

/* Fills rows (caller storage); returns OK or NOMEM (rows then empty). */
iop_stats_status iop_stats__rows_init(iop_stats__rows *rows,
                                      const double *time, const int *code,
                                      size_t n);
void iop_stats__rows_release(iop_stats__rows *rows);

/* The last row with time <= t, or len when t is before the first row. */
size_t iop_stats__rows_find(const double *time, size_t len, double t);

/*
 * Dense cluster numbers 0 .. *n_clusters - 1 for n rows (equal ids, equal
 * numbers; numbered in increasing id order). cluster NULL: row i is
 * cluster i. Returns a malloc'd array the caller frees, or NULL on no
 * memory.
 */
size_t *iop_stats__cluster_index(const long *cluster, size_t n,
                                 size_t *n_clusters);

/* Two-pass mean as R's mean(): sum / n, then corrected by the residuals. */
double iop_stats__mean(const double *x, size_t n);

/*
 * Cox model data shared by stats_cox.c (the fit) and stats_cox_robust.c
 * (the sandwich variance).
 */
/* The sorted data and the scratch of the iterations. */
typedef struct iop_stats__cox_data {
    size_t n;
    size_t p;          /* columns in use */
    double *time;      /* n, ascending */
    int *status;       /* n */
    size_t *cl;        /* n: cluster of each sorted row */
    double *x;         /* p * n, column-major, centred and scaled */
    double *scale;     /* p */
    size_t *col;       /* p: the caller's column of each column in use */
    /* results of cox_iter() */
    double *u;         /* p */
    double *imat;      /* p * p */
    /* scratch */
    double *a, *a2, *cmat, *cmat2;
} iop_stats__cox_data;

/*
 * The robust variance V (sum_g S_g S_g') V of a fit at beta (scaled
 * units, d->p columns), with var = V the model-based variance and S_g
 * the Efron score residuals of cluster g (d->cl, m clusters) summed;
 * robust receives p * p values, row-major. Returns OK or NOMEM.
 */
iop_stats_status iop_stats__cox_robust(iop_stats__cox_data *d,
                                       const double *beta, const double *var,
                                       size_t m, double *robust);

#endif
