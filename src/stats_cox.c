/*
 * stats_cox.c - Cox proportional hazards with Efron ties and a robust
 * variance clustered by client, as R's
 * coxph(Surv(t, d) ~ x, ties = "efron", cluster = id).
 *
 * Input: times, 0/1 events, an n by p design matrix (row-major) and
 * optional cluster ids. Output: an iop_stats_cox with coefficients, robust
 * and model-based standard errors, hazard ratios, intervals and Wald
 * p-values, or a status and a message that say why not.
 *
 * The fit follows R's coxfit6: columns that are not all in {-1, 0, 1} are
 * centred and scaled, Newton-Raphson starts at 0, a step that lowers the
 * log partial likelihood is halved (more each time), and iteration stops
 * when |1 - old/new| <= 1e-9 or after 20 steps. Linear systems use GSL's
 * Cholesky decomposition. Columns aliased at the start (pivot below
 * DBL_EPSILON^0.75 of the largest diagonal of the information, R's
 * toler.chol) are dropped and flagged; coefficients that may be infinite
 * are flagged with R's test |u V| > eps and > sqrt(eps) |beta|.
 * The robust variance is in stats_cox_robust.c.
 */
#include "stats_internal.h"

#include <float.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_vector.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COX_EPS 1e-9
#define COX_ITER_MAX 20

typedef iop_stats__cox_data cox_data;

static void cox_data_release(cox_data *d)
{
    free(d->time);
    free(d->status);
    free(d->cl);
    free(d->x);
    free(d->scale);
    free(d->col);
    free(d->u);
    free(d->imat);
    free(d->a);
    free(d->a2);
    free(d->cmat);
    free(d->cmat2);
    memset(d, 0, sizeof *d);
}

static int cox_data_alloc(cox_data *d, size_t n, size_t p)
{
    memset(d, 0, sizeof *d);
    d->n = n;
    d->p = p;
    d->time = malloc(n * sizeof *d->time);
    d->status = malloc(n * sizeof *d->status);
    d->x = malloc(n * p * sizeof *d->x);
    d->scale = malloc(p * sizeof *d->scale);
    d->col = malloc(p * sizeof *d->col);
    d->u = malloc(p * sizeof *d->u);
    d->imat = malloc(p * p * sizeof *d->imat);
    d->a = malloc(p * sizeof *d->a);
    d->a2 = malloc(p * sizeof *d->a2);
    d->cmat = malloc(p * p * sizeof *d->cmat);
    d->cmat2 = malloc(p * p * sizeof *d->cmat2);
    if (!d->time || !d->status || !d->x || !d->scale || !d->col || !d->u ||
        !d->imat || !d->a || !d->a2 || !d->cmat || !d->cmat2) {
        cox_data_release(d);
        return -1;
    }
    return 0;
}

/* R centres and scales a column unless all its values are -1, 0 or 1. */
static void cox_scale_column(cox_data *d, size_t j)
{
    double *x = d->x + j * d->n, mean = 0, abs_sum = 0;
    size_t n = d->n;
    bool binary = true;

    for (size_t i = 0; i < n; i++)
        if (x[i] != 0 && x[i] != 1 && x[i] != -1)
            binary = false;
    d->scale[j] = 1.0;
    if (binary)
        return;
    for (size_t i = 0; i < n; i++)
        mean += x[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++) {
        x[i] -= mean;
        abs_sum += fabs(x[i]);
    }
    d->scale[j] = abs_sum > 0 ? (double)n / abs_sum : 1.0;
    for (size_t i = 0; i < n; i++)
        x[i] *= d->scale[j];
}

/* Sorts by time and copies the design matrix column-major. */
static iop_stats_status cox_load(cox_data *d, const double *time,
                                 const int *event, const double *x,
                                 size_t n_vars, const size_t *cl)
{
    size_t *order = malloc(d->n * sizeof *order);

    d->cl = malloc(d->n * sizeof *d->cl);
    if (!order || !d->cl) {
        free(order);
        return IOP_STATS_NOMEM;
    }
    gsl_sort_index(order, time, 1, d->n);
    for (size_t k = 0; k < d->n; k++) {
        size_t i = order[k];

        d->time[k] = time[i];
        d->status[k] = event[i];
        d->cl[k] = cl[i];
        for (size_t j = 0; j < n_vars; j++)
            d->x[j * d->n + k] = x[i * n_vars + j];
    }
    free(order);
    for (size_t j = 0; j < d->p; j++) {
        d->col[j] = j;
        cox_scale_column(d, j);
    }
    return IOP_STATS_OK;
}

/* Adds one tied block's events to loglik, u and imat (Efron). */
static double cox_efron_block(cox_data *d, double *denom, double denom2,
                              size_t ndead)
{
    size_t p = d->p;
    double ll = 0;

    for (size_t k = 0; k < ndead; k++) {
        *denom += denom2 / (double)ndead;
        ll -= log(*denom);
        for (size_t i = 0; i < p; i++) {
            double mean;

            d->a[i] += d->a2[i] / (double)ndead;
            mean = d->a[i] / *denom;
            d->u[i] -= mean;
            for (size_t j = 0; j <= i; j++) {
                d->cmat[i * p + j] += d->cmat2[i * p + j] / (double)ndead;
                d->imat[j * p + i] +=
                    (d->cmat[i * p + j] - mean * d->a[j]) / *denom;
            }
        }
    }
    memset(d->a2, 0, p * sizeof *d->a2);
    memset(d->cmat2, 0, p * p * sizeof *d->cmat2);
    return ll;
}

/* Adds person k to the running sums: the dead's sums when dead. */
static double cox_add_person(cox_data *d, size_t k, const double *beta,
                             double *sum, bool dead)
{
    size_t p = d->p, n = d->n;
    double zbeta = 0, risk;
    double *a = dead ? d->a2 : d->a, *c = dead ? d->cmat2 : d->cmat;

    for (size_t i = 0; i < p; i++)
        zbeta += beta[i] * d->x[i * n + k];
    risk = exp(zbeta);
    *sum += risk;
    for (size_t i = 0; i < p; i++) {
        double xi = d->x[i * n + k];

        a[i] += risk * xi;
        if (dead)
            d->u[i] += xi;
        for (size_t j = 0; j <= i; j++)
            c[i * p + j] += risk * xi * d->x[j * n + k];
    }
    return dead ? zbeta : 0.0;
}

/*
 * The log partial likelihood at beta, with the score d->u and the
 * information d->imat (upper triangle filled, then mirrored), walking the
 * times from the largest down as coxfit6_iter does.
 */
static double cox_iter(cox_data *d, const double *beta)
{
    size_t p = d->p;
    double loglik = 0, denom = 0;

    memset(d->u, 0, p * sizeof *d->u);
    memset(d->imat, 0, p * p * sizeof *d->imat);
    memset(d->a, 0, p * sizeof *d->a);
    memset(d->a2, 0, p * sizeof *d->a2);
    memset(d->cmat, 0, p * p * sizeof *d->cmat);
    memset(d->cmat2, 0, p * p * sizeof *d->cmat2);
    for (size_t k = d->n; k > 0;) {
        double t = d->time[k - 1], denom2 = 0;
        size_t ndead = 0;

        while (k > 0 && d->time[k - 1] == t) {
            bool dead = d->status[k - 1] != 0;

            k--;
            loglik += cox_add_person(d, k, beta, dead ? &denom2 : &denom,
                                     dead);
            ndead += dead;
        }
        if (ndead > 0)
            loglik += cox_efron_block(d, &denom, denom2, ndead);
    }
    for (size_t i = 0; i < p; i++)
        for (size_t j = 0; j < i; j++)
            d->imat[i * p + j] = d->imat[j * p + i];
    return loglik;
}

/*
 * R's cholesky2 pivot test in column order: a column whose pivot falls
 * below toler times the largest diagonal is aliased with earlier ones.
 */
static size_t cox_aliased(const double *imat, size_t p, bool *aliased)
{
    double *m = malloc(p * p * sizeof *m), eps = 0;
    const double toler = pow(DBL_EPSILON, 0.75);
    size_t count = 0;

    if (!m)
        return (size_t)-1;
    memcpy(m, imat, p * p * sizeof *m);
    for (size_t i = 0; i < p; i++)
        eps = fmax(eps, fabs(m[i * p + i]));
    eps = eps == 0 ? toler : eps * toler;
    for (size_t i = 0; i < p; i++) {
        double pivot = m[i * p + i];

        aliased[i] = !isfinite(pivot) || pivot < eps;
        if (aliased[i]) {
            count++;
            continue;
        }
        for (size_t j = i + 1; j < p; j++) {
            double temp = m[j * p + i] / pivot;

            m[j * p + i] = temp;
            m[j * p + j] -= temp * temp * pivot;
            for (size_t k = j + 1; k < p; k++)
                m[k * p + j] -= temp * m[k * p + i];
        }
    }
    free(m);
    return count;
}

/* Drops the aliased columns from d (the data stay sorted). */
static void cox_drop(cox_data *d, const bool *aliased, size_t p_all)
{
    size_t q = 0;

    for (size_t j = 0; j < p_all; j++) {
        if (aliased[j])
            continue;
        if (q != j) {
            memmove(d->x + q * d->n, d->x + j * d->n, d->n * sizeof *d->x);
            d->scale[q] = d->scale[j];
            d->col[q] = d->col[j];
        }
        q++;
    }
    d->p = q;
}

/* --- GSL linear algebra on d->imat --------------------------------------- */

/* Cholesky of imat into chol (p by p); -1 when not positive definite. */
static int cox_chol(const cox_data *d, gsl_matrix *chol)
{
    size_t p = d->p;

    for (size_t i = 0; i < p; i++)
        for (size_t j = 0; j < p; j++)
            gsl_matrix_set(chol, i, j, d->imat[i * p + j]);
    return gsl_linalg_cholesky_decomp1(chol) == GSL_SUCCESS ? 0 : -1;
}

/* step = imat^-1 u; -1 when imat is not positive definite. */
static int cox_solve(const cox_data *d, gsl_matrix *chol, double *step)
{
    gsl_vector_view s = gsl_vector_view_array(step, d->p);
    gsl_vector_const_view u = gsl_vector_const_view_array(d->u, d->p);

    if (cox_chol(d, chol) != 0)
        return -1;
    return gsl_linalg_cholesky_solve(chol, &u.vector, &s.vector) ==
                   GSL_SUCCESS
               ? 0
               : -1;
}

/* var = imat^-1 (p * p, row-major); -1 when not positive definite. */
static int cox_invert(const cox_data *d, gsl_matrix *chol, double *var)
{
    size_t p = d->p;

    if (cox_chol(d, chol) != 0 || gsl_linalg_cholesky_invert(chol) !=
                                      GSL_SUCCESS)
        return -1;
    for (size_t i = 0; i < p; i++)
        for (size_t j = 0; j < p; j++)
            var[i * p + j] = gsl_matrix_get(chol, i, j);
    return 0;
}

/* --- Newton-Raphson ------------------------------------------------------ */

typedef struct cox_fit {
    double *beta;      /* p, scaled units */
    double *newbeta;   /* p */
    double *step;      /* p */
    double *var;       /* p * p, scaled units */
    double loglik0;
    double loglik;
    int iter;
    iop_stats_status status;
} cox_fit;

static bool cox_finite(const cox_data *d, double lk)
{
    if (!isfinite(lk))
        return false;
    for (size_t i = 0; i < d->p; i++)
        if (!isfinite(d->u[i]))
            return false;
    for (size_t i = 0; i < d->p * d->p; i++)
        if (!isfinite(d->imat[i]))
            return false;
    return true;
}

/* The first step from beta = 0. Returns OK, or SINGULAR. */
static iop_stats_status cox_start(cox_data *d, cox_fit *f, gsl_matrix *c)
{
    memset(f->beta, 0, d->p * sizeof *f->beta);
    f->loglik0 = f->loglik = cox_iter(d, f->beta);
    if (cox_solve(d, c, f->step) != 0)
        return IOP_STATS_SINGULAR;
    for (size_t i = 0; i < d->p; i++)
        f->newbeta[i] = f->step[i];
    return IOP_STATS_OK;
}

/*
 * coxfit6's main loop. On return f->beta and f->var hold the estimate
 * and its model-based variance (scaled units) and f->status is OK,
 * NO_CONVERGENCE or SINGULAR.
 */
static void cox_newton(cox_data *d, cox_fit *f, gsl_matrix *c)
{
    double halving = 0;

    f->status = cox_start(d, f, c);
    for (f->iter = 1; f->status == IOP_STATS_OK && f->iter <= COX_ITER_MAX;
         f->iter++) {
        double newlk = cox_iter(d, f->newbeta);
        bool finite = cox_finite(d, newlk);

        if (finite && fabs(1 - f->loglik / newlk) <= COX_EPS) {
            f->loglik = newlk;
            memcpy(f->beta, f->newbeta, d->p * sizeof *f->beta);
            if (cox_invert(d, c, f->var) != 0)
                f->status = IOP_STATS_SINGULAR;
            return;
        }
        if (!finite || newlk < f->loglik) {
            halving++;
            for (size_t i = 0; i < d->p; i++)
                f->newbeta[i] = (f->newbeta[i] + halving * f->beta[i]) /
                                (halving + 1.0);
            continue;
        }
        halving = 0;
        f->loglik = newlk;
        if (cox_solve(d, c, f->step) != 0) {
            f->status = IOP_STATS_SINGULAR;
            return;
        }
        for (size_t i = 0; i < d->p; i++) {
            f->beta[i] = f->newbeta[i];
            f->newbeta[i] += f->step[i];
        }
    }
    if (f->status == IOP_STATS_OK)
        f->status = IOP_STATS_NO_CONVERGENCE;
    f->iter = COX_ITER_MAX;
}

/* --- The result object --------------------------------------------------- */

void iop_stats_cox_free(iop_stats_cox *cox)
{
    if (!cox)
        return;
    free(cox->coef);
    free(cox->std_err);
    free(cox->naive_se);
    free(cox->hr);
    free(cox->lower);
    free(cox->upper);
    free(cox->z);
    free(cox->p_value);
    free(cox->flag);
    free(cox);
}

static iop_stats_cox *cox_result_new(size_t n_vars)
{
    iop_stats_cox *c = calloc(1, sizeof *c);
    size_t k = n_vars ? n_vars : 1;

    if (!c)
        return NULL;
    c->n_vars = n_vars;
    c->coef = calloc(k, sizeof *c->coef);
    c->std_err = calloc(k, sizeof *c->std_err);
    c->naive_se = calloc(k, sizeof *c->naive_se);
    c->hr = calloc(k, sizeof *c->hr);
    c->lower = calloc(k, sizeof *c->lower);
    c->upper = calloc(k, sizeof *c->upper);
    c->z = calloc(k, sizeof *c->z);
    c->p_value = calloc(k, sizeof *c->p_value);
    c->flag = calloc(k, sizeof *c->flag);
    if (!c->coef || !c->std_err || !c->naive_se || !c->hr || !c->lower ||
        !c->upper || !c->z || !c->p_value || !c->flag) {
        iop_stats_cox_free(c);
        return NULL;
    }
    return c;
}

static iop_stats_status cox_say(iop_stats_cox *c, iop_stats_status st,
                                const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static iop_stats_status cox_say(iop_stats_cox *c, iop_stats_status st,
                                const char *fmt, ...)
{
    va_list ap;

    c->status = st;
    va_start(ap, fmt);
    vsnprintf(c->message, sizeof c->message, fmt, ap);
    va_end(ap);
    return st;
}

/* Appends " j" for each flagged column to the message. */
static void cox_list_columns(iop_stats_cox *c, iop_stats_coef_flag which)
{
    for (size_t j = 0; j < c->n_vars; j++) {
        size_t len = strlen(c->message);

        if (c->flag[j] == which && len + 24 < sizeof c->message)
            snprintf(c->message + len, sizeof c->message - len, " %zu", j);
    }
}

/* Copies one column's estimate, in original units, into the result. */
static void cox_put(iop_stats_cox *c, size_t col, double beta, double nv,
                    double rv)
{
    double z975 = iop_stats__z975(), se = sqrt(fmax(rv, 0));

    c->coef[col] = beta;
    c->naive_se[col] = sqrt(fmax(nv, 0));
    c->std_err[col] = se;
    c->hr[col] = exp(beta);
    c->lower[col] = exp(beta - z975 * se);
    c->upper[col] = exp(beta + z975 * se);
    c->z[col] = se > 0 ? beta / se : 0;
    c->p_value[col] = se > 0 ? 2 * gsl_cdf_ugaussian_Q(fabs(beta / se)) : 0;
}

/*
 * R's test for coefficients that may be infinite: |u V| > eps and
 * > sqrt(eps) |beta|, with u the score at the estimate (scaled units
 * throughout: the test is invariant to the scaling).
 */
static void cox_flag_infinite(cox_data *d, const cox_fit *f,
                              iop_stats_cox *c)
{
    size_t p = d->p;

    cox_iter(d, f->beta);
    for (size_t i = 0; i < p; i++) {
        double uv = 0;

        for (size_t k = 0; k < p; k++)
            uv += d->u[k] * f->var[k * p + i];
        /* The |u V| part is in the column's own units: unscale it. */
        uv = fabs(uv) * d->scale[i];
        if (!isfinite(d->u[i]) ||
            (uv > COX_EPS &&
             uv > sqrt(COX_EPS) * fabs(f->beta[i] * d->scale[i])))
            c->flag[d->col[i]] = IOP_STATS_COEF_INFINITE;
    }
}

/* Fills the result from a converged fit. */
static void cox_report(cox_data *d, const cox_fit *f, const double *robust,
                       iop_stats_cox *c)
{
    size_t p = d->p;

    c->reported = 1;
    c->loglik_null = f->loglik0;
    c->loglik = f->loglik;
    c->iterations = f->iter;
    cox_flag_infinite(d, f, c);
    for (size_t i = 0; i < p; i++) {
        double s = d->scale[i];

        cox_put(c, d->col[i], f->beta[i] * s, f->var[i * p + i] * s * s,
                robust[i * p + i] * s * s);
    }
}

static void cox_zero(iop_stats_cox *c, size_t j)
{
    c->coef[j] = c->std_err[j] = c->naive_se[j] = 0;
    c->hr[j] = c->lower[j] = c->upper[j] = 0;
    c->z[j] = c->p_value[j] = 0;
}

/* Zeroes the values of flagged columns and sets the status and message. */
static iop_stats_status cox_conclude(iop_stats_cox *c)
{
    size_t inf = 0, alias = 0;

    for (size_t j = 0; j < c->n_vars; j++) {
        inf += c->flag[j] == IOP_STATS_COEF_INFINITE;
        alias += c->flag[j] == IOP_STATS_COEF_ALIASED;
        if (c->flag[j] != IOP_STATS_COEF_OK)
            cox_zero(c, j);
    }
    if (inf > 0) {
        cox_say(c, IOP_STATS_INFINITE,
                "log-likelihood converged before column(s)");
        cox_list_columns(c, IOP_STATS_COEF_INFINITE);
        strncat(c->message, ": coefficient may be infinite (no events "
                "or only events in a group?)",
                sizeof c->message - strlen(c->message) - 1);
    } else if (alias > 0) {
        cox_say(c, IOP_STATS_SINGULAR, "collinear or constant column(s)");
        cox_list_columns(c, IOP_STATS_COEF_ALIASED);
        strncat(c->message, " not estimated",
                sizeof c->message - strlen(c->message) - 1);
    } else {
        c->status = IOP_STATS_OK;
    }
    return c->status;
}

typedef struct cox_mem {
    cox_fit f;
    double *robust;
    gsl_matrix *chol;
    bool *aliased;
} cox_mem;

static void cox_mem_release(cox_mem *w)
{
    free(w->f.beta);
    free(w->f.newbeta);
    free(w->f.step);
    free(w->f.var);
    free(w->robust);
    free(w->aliased);
    gsl_matrix_free(w->chol);
}

static int cox_mem_alloc(cox_mem *w, size_t p)
{
    memset(w, 0, sizeof *w);
    w->f.beta = calloc(p, sizeof *w->f.beta);
    w->f.newbeta = calloc(p, sizeof *w->f.newbeta);
    w->f.step = calloc(p, sizeof *w->f.step);
    w->f.var = calloc(p * p, sizeof *w->f.var);
    w->robust = calloc(p * p, sizeof *w->robust);
    w->aliased = calloc(p, sizeof *w->aliased);
    w->chol = gsl_matrix_alloc(p, p);
    if (!w->f.beta || !w->f.newbeta || !w->f.step || !w->f.var ||
        !w->robust || !w->aliased || !w->chol) {
        cox_mem_release(w);
        return -1;
    }
    return 0;
}

/* Flags and drops aliased columns; SINGULAR when none is left. */
static iop_stats_status cox_screen(cox_data *d, cox_mem *w,
                                   iop_stats_cox *c)
{
    size_t p = d->p, count;

    cox_iter(d, w->f.beta);
    count = cox_aliased(d->imat, p, w->aliased);
    if (count == (size_t)-1)
        return IOP_STATS_NOMEM;
    for (size_t j = 0; j < p; j++)
        if (w->aliased[j])
            c->flag[j] = IOP_STATS_COEF_ALIASED;
    if (count == p)
        return cox_say(c, IOP_STATS_SINGULAR, "every column is constant "
                       "within the risk sets: nothing to estimate");
    cox_drop(d, w->aliased, p);
    /* The decomposition works on the columns left. */
    gsl_matrix_free(w->chol);
    w->chol = gsl_matrix_alloc(d->p, d->p);
    return w->chol ? IOP_STATS_OK : IOP_STATS_NOMEM;
}

static iop_stats_status cox_run(cox_data *d, iop_stats_cox *c, size_t m)
{
    iop_stats_status st;
    cox_mem w;

    if (cox_mem_alloc(&w, d->p) != 0)
        return IOP_STATS_NOMEM;
    st = cox_screen(d, &w, c);
    if (st == IOP_STATS_OK) {
        cox_newton(d, &w.f, w.chol);
        st = w.f.status;
        if (st == IOP_STATS_NO_CONVERGENCE)
            cox_say(c, st, "did not converge in %d iterations",
                    COX_ITER_MAX);
        else if (st == IOP_STATS_SINGULAR)
            cox_say(c, st, "information matrix not positive definite at "
                    "iteration %d", w.f.iter);
    }
    if (st == IOP_STATS_OK)
        st = iop_stats__cox_robust(d, w.f.beta, w.f.var, m, w.robust);
    if (st == IOP_STATS_OK) {
        cox_report(d, &w.f, w.robust, c);
        st = cox_conclude(c);
    }
    cox_mem_release(&w);
    return st;
}

static int cox_valid(const double *time, const int *event, const double *x,
                     size_t n, size_t n_vars)
{
    if (!time || !event || (n_vars > 0 && !x))
        return 0;
    if (!iop_stats__times_ok(time, n))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (event[i] != 0 && event[i] != 1)
            return 0;
    for (size_t i = 0; i < n * n_vars; i++)
        if (!isfinite(x[i]))
            return 0;
    return 1;
}

/* The checks that leave nothing to fit; OK when the fit can go on. */
static iop_stats_status cox_precheck(iop_stats_cox *c, size_t n_vars,
                                     size_t m)
{
    if (n_vars == 0)
        return cox_say(c, IOP_STATS_NOT_ESTIMABLE, "no covariates");
    if (c->events == 0)
        return cox_say(c, IOP_STATS_NOT_ESTIMABLE, "no events");
    if (m < 2)
        return cox_say(c, IOP_STATS_NOT_ESTIMABLE, "the robust variance "
                       "needs at least two clusters");
    return IOP_STATS_OK;
}

iop_stats_status iop_stats_cox_new(const double *time, const int *event,
                                   const double *x, size_t n, size_t n_vars,
                                   const long *cluster, iop_stats_cox **out)
{
    iop_stats_status st;
    iop_stats_cox *c;
    size_t *cl, m = 0;
    cox_data d;

    if (!out)
        return IOP_STATS_INVALID;
    *out = NULL;
    if (n == 0)
        return IOP_STATS_EMPTY;
    if (!cox_valid(time, event, x, n, n_vars))
        return IOP_STATS_INVALID;
    c = cox_result_new(n_vars);
    cl = c ? iop_stats__cluster_index(cluster, n, &m) : NULL;
    if (!cl || (n_vars > 0 && cox_data_alloc(&d, n, n_vars) != 0)) {
        free(cl);
        iop_stats_cox_free(c);
        return IOP_STATS_NOMEM;
    }
    c->n = n;
    c->n_clusters = m;
    for (size_t i = 0; i < n; i++)
        c->events += event[i] != 0;
    st = cox_precheck(c, n_vars, m);
    if (st == IOP_STATS_OK)
        st = cox_load(&d, time, event, x, n_vars, cl);
    if (st == IOP_STATS_OK)
        st = cox_run(&d, c, m);
    if (n_vars > 0)
        cox_data_release(&d);
    free(cl);
    if (st == IOP_STATS_NOMEM || st == IOP_STATS_EGSL) {
        iop_stats_cox_free(c);
        return st;
    }
    c->status = st;
    *out = c;
    return st;
}
