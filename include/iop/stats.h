/*
 * stats.h - the statistics of iopstat: plain arrays in, numbers out.
 *
 * Every routine here agrees with a named R call to
 * |a - b| <= 1e-6 |b| + 1e-9 (tests/unit/test_stats_oracle.c runs R to
 * check); docs/statistics.md gives each formula and the R call it matches.
 * The module does no I/O, keeps no state and knows nothing of SQL.
 *
 * Conventions shared by every function:
 *
 * - Each returns an iop_stats_status. IOP_STATS_OK means every output field
 *   holds a finite number. Any other status means the figure cannot be
 *   given (the metric prints an empty estimate); the function then says
 *   which output fields, if any, still hold something, and every other
 *   field is 0. No output is ever NaN or infinite.
 * - Input arrays are read, never kept. Objects made by a _new function
 *   belong to the caller, who releases them with the matching _free;
 *   _free(NULL) does nothing. A _new function that fails sets *out to NULL
 *   (iop_stats_cox_new is the exception: see there) and frees its partial
 *   work.
 * - GSL is used with its error handler off (the caller has called
 *   gsl_set_error_handler_off()); every GSL status is checked, and a
 *   failure inside GSL is IOP_STATS_EGSL. Nothing here aborts.
 * - Times are days (any non-negative finite double; equal times are
 *   compared exactly, which for whole days is what R's timefix does too).
 *   95% intervals use the normal quantile qnorm(0.975) unless stated.
 * - Cluster ids are arbitrary long values; rows with equal ids form one
 *   cluster (one client). A NULL cluster array makes each row its own
 *   cluster.
 */
#ifndef IOP_STATS_H
#define IOP_STATS_H

#include <stdbool.h>
#include <stddef.h>

/* ---- Status ---------------------------------------------------------- */

typedef enum iop_stats_status {
    IOP_STATS_OK = 0,
    IOP_STATS_EMPTY,          /* no observations at all (n = 0) */
    IOP_STATS_NOT_ESTIMABLE,  /* data present, figure undefined: zero
                                 denominator, no events, too few
                                 observations, constant data, a time past
                                 the follow-up */
    IOP_STATS_INVALID,        /* bad argument: NULL array with n > 0,
                                 negative or non-finite value, a code out of
                                 range, a probability outside [0, 1] */
    IOP_STATS_NOMEM,          /* out of memory */
    IOP_STATS_EGSL,           /* a GSL routine failed */
    IOP_STATS_NO_CONVERGENCE, /* Cox: ran out of iterations */
    IOP_STATS_INFINITE,       /* Cox: a coefficient may be infinite */
    IOP_STATS_SINGULAR        /* Cox: collinear or constant covariates,
                                 or an information matrix that is not
                                 positive definite */
} iop_stats_status;

/*
 * A short lowercase description of status ("not estimable", ...).
 * Returns a static string; do not free. Unknown values give "unknown
 * status".
 */
const char *iop_stats_strerror(iop_stats_status status);

/* A point estimate with its 95% interval and standard error. */
typedef struct iop_stats_interval {
    double estimate;
    double lower;
    double upper;
    double std_err;
} iop_stats_interval;

/* A test: statistic, degrees of freedom, p-value. */
typedef struct iop_stats_test {
    double statistic;
    double df;
    double p_value;
} iop_stats_test;

/* ---- Kaplan-Meier (R survfit(Surv(t, e) ~ 1, conf.type = "log-log")) - */

/*
 * One row per distinct observed time, event or censoring, ascending, as
 * the rows of R's survfit object. A row with n_event 0 is a censoring
 * time; a curve for charts keeps the rows with n_event > 0.
 *
 * surv      Kaplan-Meier estimate just after the time (events counted
 *           before censorings at the same time).
 * se_log    Greenwood standard error of -log S: sqrt(sum d/(n(n-d))),
 *           R's fit$std.err. Where S has reached 0 it is 0 (R: Inf).
 * std_err   Standard error of S itself: surv * se_log, R's
 *           summary(fit)$std.err; 0 where S is 0 (R: NaN).
 * lower,    95% interval on the log(-log S) scale. [1, 1] while S = 1
 * upper     (R: NA), [0, 0] once S = 0 (R: NA).
 */
typedef struct iop_stats_km {
    size_t n;          /* observations */
    size_t events;     /* events */
    size_t len;        /* rows */
    double *time;
    size_t *n_risk;
    size_t *n_event;
    size_t *n_censor;
    double *surv;
    double *se_log;
    double *std_err;
    double *lower;
    double *upper;
} iop_stats_km;

/*
 * Fits the Kaplan-Meier curve of n observations: time[i] >= 0, event[i]
 * 1 for an event (here: discharge) and 0 for a censoring.
 * Returns OK with *out set (also when every observation is censored: S is
 * then 1 throughout); EMPTY for n = 0, INVALID, NOMEM or EGSL with *out
 * NULL.
 */
iop_stats_status iop_stats_km_new(const double *time, const int *event,
                                  size_t n, iop_stats_km **out);

/* Frees km and its arrays. km may be NULL. */
void iop_stats_km_free(iop_stats_km *km);

/*
 * S(t) at day t: the step function's value at the last row with time <= t
 * (1 before the first row), with its std_err and interval.
 * Returns OK; NOT_ESTIMABLE when t is past the largest observed time
 * ("insufficient follow-up"); INVALID for a NULL argument or a non-finite
 * t.
 */
iop_stats_status iop_stats_km_at(const iop_stats_km *km, double t,
                                 iop_stats_interval *out);

/*
 * The median and its 95% interval as R prints them
 * (summary(fit)$table[c("median", "0.95LCL", "0.95UCL")]): the first time
 * at which the curve (for the bounds: the lower or upper band) is <= 0.5;
 * where it is exactly 0.5 (within sqrt(DBL_EPSILON)) and drops later, the
 * midpoint of that time and the time of the drop. A part that does not
 * exist has its has_ flag false and value 0 (R: NA).
 */
typedef struct iop_stats_median {
    double median;
    double lower;
    double upper;
    bool has_median;
    bool has_lower;
    bool has_upper;
} iop_stats_median;

/*
 * Fills out for km. Returns OK when the median exists (a bound may still
 * be missing: see the flags), NOT_ESTIMABLE when the curve never reaches
 * 0.5 (the bounds that exist are still filled), INVALID for NULL.
 */
iop_stats_status iop_stats_km_median(const iop_stats_km *km,
                                     iop_stats_median *out);

/*
 * The restricted mean survival time to tau, the area under the curve from
 * 0 to tau (the curve is carried flat past its last time, as R does), and
 * its standard error, as R's summary(fit, rmean = tau)$table[c("rmean",
 * "se(rmean)")]. Returns OK; INVALID for NULL, a negative or non-finite
 * tau.
 */
iop_stats_status iop_stats_km_rmean(const iop_stats_km *km, double tau,
                                    double *rmean, double *std_err);

/* ---- Log-rank (R survdiff(Surv(t, e) ~ g)) -------------------------- */

/*
 * Log-rank test of n observations in n_groups groups (group[i] in
 * 0 .. n_groups - 1) with the hypergeometric variance. Groups with no
 * expected events (no members, or all censored before the first event)
 * are left out, as R does; df = the groups kept - 1. The statistic uses
 * the Moore-Penrose inverse of the variance of the first df kept groups
 * (R: solve()); where that matrix is singular, df is its rank.
 * observed and expected (n_groups values each, may be NULL) receive each
 * group's observed and expected events; they are filled whenever the
 * status is OK or NOT_ESTIMABLE.
 * Returns OK; EMPTY for n = 0; NOT_ESTIMABLE with fewer than two groups
 * kept or a variance of rank 0 (e.g. no events); INVALID; NOMEM; EGSL.
 */
iop_stats_status iop_stats_logrank(const double *time, const int *event,
                                   const size_t *group, size_t n,
                                   size_t n_groups, iop_stats_test *out,
                                   double *observed, double *expected);

/* ---- Aalen-Johansen cumulative incidence ---------------------------- */

/*
 * Competing outcomes as R survfit(Surv(time, state) ~ 1, conf.type =
 * "log-log") with state a factor whose first level is censoring. One row
 * per distinct observed time, ascending, as R's rows. State s of row i is
 * at [i * (n_causes + 1) + s]: s = 0 is the probability of no outcome yet
 * (R's "(s0)"), s = 1 .. n_causes the cumulative incidence of cause s.
 *
 * std_err   R's infinitesimal-jackknife standard error: the square root of
 *           the sum over clusters of the squared influence. With cluster
 *           ids this is R's per-row influence (survfit(..., influence =
 *           TRUE)) summed within clusters: R 3.5's multi-state survfit
 *           itself ignores cluster =.
 * lower,    R's interval: the log-log transform applied to the state
 * upper     probability p itself, with se(log p) = std_err / p:
 *           exp(-exp(log(-log p) -/+ z se / (p log p))). [0, 0] where
 *           p = 0 and [1, 1] where p = 1 (R: NA).
 */
typedef struct iop_stats_cif {
    size_t n;          /* observations */
    size_t n_causes;   /* competing outcomes */
    size_t n_clusters; /* clusters of the variance */
    size_t len;        /* rows */
    double *time;
    size_t *n_risk;
    size_t *n_event;   /* events of any cause at the time */
    size_t *n_censor;
    double *estimate;  /* len * (n_causes + 1) */
    double *std_err;
    double *lower;
    double *upper;
} iop_stats_cif;

/*
 * Fits the Aalen-Johansen estimate of n observations: time[i] >= 0,
 * cause[i] 0 for censored or 1 .. n_causes. cluster (may be NULL) groups
 * rows for the variance, as R's cluster = argument.
 * Returns OK with *out set (also with no events: every incidence is 0);
 * EMPTY for n = 0; INVALID (n_causes = 0, a cause out of range); NOMEM;
 * the last three with *out NULL.
 */
iop_stats_status iop_stats_cif_new(const double *time, const int *cause,
                                   size_t n, size_t n_causes,
                                   const long *cluster,
                                   iop_stats_cif **out);

/* Frees cif and its arrays. cif may be NULL. */
void iop_stats_cif_free(iop_stats_cif *cif);

/*
 * State s (0 = no outcome yet, 1 .. n_causes) at day t, step function as
 * iop_stats_km_at: 0 (or 1 for s = 0) before the first row, with [0, 0]
 * ([1, 1]). Returns OK; NOT_ESTIMABLE past the largest observed time;
 * INVALID for NULL, a bad s or a non-finite t.
 */
iop_stats_status iop_stats_cif_at(const iop_stats_cif *cif, size_t s,
                                  double t, iop_stats_interval *out);

/* ---- Cox proportional hazards (R coxph(..., ties = "efron")) --------- */

/* What holds for one coefficient. */
typedef enum iop_stats_coef_flag {
    IOP_STATS_COEF_OK = 0,
    IOP_STATS_COEF_INFINITE,  /* converged before this variable: the
                                 coefficient may be infinite (e.g. a dummy
                                 whose group has no events) */
    IOP_STATS_COEF_ALIASED    /* collinear or constant: not estimated */
} iop_stats_coef_flag;

/*
 * A fitted model. Arrays have n_vars values, in the order of the design
 * matrix columns. std_err is the robust (sandwich) standard error
 * clustered as given, R's "robust se"; naive_se is the model-based one,
 * R's "se(coef)". hr = exp(coef), lower/upper = exp(coef -/+ z std_err),
 * z = coef / std_err, p_value = 2 pnorm(-|z|), R's summary(fit)
 * columns. Where flag[j] is not OK, every value of column j is 0.
 */
typedef struct iop_stats_cox {
    iop_stats_status status; /* as returned by iop_stats_cox_new */
    char message[256];       /* "" when OK, else what went wrong, in words */
    size_t n;
    size_t events;
    size_t n_vars;
    size_t n_clusters;
    int iterations;
    int reported;            /* 1 when the fit converged and its coefficients
                                are reported (OK, INFINITE, and SINGULAR
                                for aliased columns); 0 when nothing is */
    double loglik_null;      /* log partial likelihood at beta = 0 */
    double loglik;           /* at the estimate */
    double *coef;
    double *std_err;
    double *naive_se;
    double *hr;
    double *lower;
    double *upper;
    double *z;
    double *p_value;
    iop_stats_coef_flag *flag;
} iop_stats_cox;

/*
 * Fits a Cox model with Efron ties by Newton-Raphson from beta = 0 with
 * step-halving, convergence when |1 - loglik_old / loglik_new| <= 1e-9,
 * at most 20 iterations (R's coxph.control()). x is the n by n_vars design
 * matrix, row-major (x[i * n_vars + j]), built by the caller (dummies
 * against a reference level). event[i] is 1 for the event of interest, 0
 * otherwise (other outcomes are censorings for a cause-specific model).
 *
 * *out is set whenever the input is valid and memory suffices, and
 * (*out)->status equals the return value:
 *   OK               every coefficient estimated;
 *   INFINITE         converged, but flag[j] marks coefficients that may be
 *                    infinite; the others are reported;
 *   SINGULAR         some columns are aliased (flag[j]); the others are
 *                    reported. Also (reported = 0, nothing reported, and
 *                    flag[j] may still mark columns aliased at the start)
 *                    when every column is constant, or the information
 *                    matrix stops being positive definite during the
 *                    iterations;
 *   NO_CONVERGENCE   20 iterations were not enough; nothing is reported;
 *   NOT_ESTIMABLE    no events, n_vars = 0, or fewer than two clusters;
 *                    nothing is reported.
 * message says which, naming columns by their index from 0.
 * cluster (may be NULL: each row its own cluster, R's robust = TRUE)
 * groups the rows of one client for the robust variance.
 * Returns EMPTY (n = 0), INVALID, NOMEM or EGSL with *out NULL.
 */
iop_stats_status iop_stats_cox_new(const double *time, const int *event,
                                   const double *x, size_t n, size_t n_vars,
                                   const long *cluster, iop_stats_cox **out);

/* Frees cox and its arrays. cox may be NULL. */
void iop_stats_cox_free(iop_stats_cox *cox);

/* ---- Proportions ------------------------------------------------------ */

/*
 * x of n with the Wilson score interval without continuity correction
 * (R prop.test(x, n, correct = FALSE)$conf.int); std_err holds
 * sqrt(p (1 - p) / n). Returns OK; NOT_ESTIMABLE for n = 0; INVALID for
 * x > n or out NULL.
 */
iop_stats_status iop_stats_wilson(size_t x, size_t n,
                                  iop_stats_interval *out);

/* Pearson's chi-square of a table, with its expected counts. */
typedef struct iop_stats_chisq_result {
    double statistic;
    double df;
    double p_value;
    double min_expected;
    size_t cells_expected_below5;
    double share_expected_below5;  /* of all rows * cols cells */
} iop_stats_chisq_result;

/*
 * Pearson chi-square of a rows by cols table of counts (row-major), no
 * continuity correction (R chisq.test(m, correct = FALSE)); expected (may
 * be NULL) receives rows * cols expected counts, row-major.
 * Returns OK; NOT_ESTIMABLE when rows or cols < 2 or a row or column sums
 * to 0 (R gives NaN); INVALID for NULL.
 */
iop_stats_status iop_stats_chisq(const size_t *counts, size_t rows,
                                 size_t cols, iop_stats_chisq_result *out,
                                 double *expected);

/*
 * Fisher's exact test of the 2 by 2 table {{t[0], t[1]}, {t[2], t[3]}}
 * (R fisher.test(matrix(c(t[0], t[2], t[1], t[3]), 2))$p.value), two-sided:
 * the sum of the hypergeometric probabilities not above the observed
 * table's times 1 + 1e-7. Only p_value is set: statistic and df are 0
 * (R's conditional odds-ratio estimate comes from uniroot() with a
 * tolerance of 1e-4, too loose to reproduce, so it is not given).
 * Returns OK; NOT_ESTIMABLE for an empty table; INVALID for NULL or a
 * table of more than 2e9.
 */
iop_stats_status iop_stats_fisher(const size_t t[4], iop_stats_test *out);

/*
 * Chi-square test for trend in proportions, x[i] of n[i] at score[i]
 * (R prop.trend.test(x, n, score)); df = 1. Entries with n[i] = 0 are
 * left out. Returns OK; NOT_ESTIMABLE when fewer than two entries remain,
 * the pooled rate is 0 or 1, or the scores do not vary; INVALID for NULL,
 * x[i] > n[i] or a non-finite score.
 */
iop_stats_status iop_stats_trend(const size_t *x, const size_t *n,
                                 const double *score, size_t k,
                                 iop_stats_test *out);

/* ---- Means ------------------------------------------------------------ */

/* A paired t-test and the standardised mean change. */
typedef struct iop_stats_ttest {
    size_t n;         /* pairs */
    double mean;      /* mean difference */
    double sd;        /* standard deviation of the differences */
    double std_err;
    double lower;     /* 95% t interval of the mean */
    double upper;
    double statistic; /* t */
    double df;
    double p_value;   /* two-sided */
    double dz;        /* Cohen's d_z = mean / sd */
} iop_stats_ttest;

/*
 * Paired t-test of x[i] - y[i] (R t.test(x, y, paired = TRUE)); y may be
 * NULL, when x holds the differences. Returns OK; EMPTY for n = 0;
 * NOT_ESTIMABLE for n = 1 (n and mean filled) or differences that are
 * essentially constant, as R's test (n, mean and sd filled); INVALID for
 * NULL or non-finite values.
 */
iop_stats_status iop_stats_ttest_paired(const double *x, const double *y,
                                        size_t n, iop_stats_ttest *out);

/*
 * Cohen's d_z of n differences: mean / sd (sd with n - 1). Returns OK;
 * EMPTY; NOT_ESTIMABLE for n < 2 or sd = 0; INVALID.
 */
iop_stats_status iop_stats_cohen_dz(const double *diff, size_t n,
                                    double *out);

/*
 * Quantiles of type 7 (R quantile(x, probs, type = 7)) of n values into
 * out[0 .. n_probs - 1]. x is not changed. Returns OK; EMPTY for n = 0;
 * INVALID for NULL, non-finite x or a probability outside [0, 1]; NOMEM.
 */
iop_stats_status iop_stats_quantile(const double *x, size_t n,
                                    const double *probs, size_t n_probs,
                                    double *out);

/* ---- Ratio estimator for clustered rates ------------------------------ */

typedef struct iop_stats_ratio_result {
    double estimate;  /* sum y / sum x */
    double std_err;
    double lower;     /* estimate -/+ qnorm(0.975) std_err */
    double upper;
    size_t n;         /* units */
    size_t n_clusters;
} iop_stats_ratio_result;

/*
 * Ratio of totals sum(y) / sum(x) over n units with the with-replacement
 * linearisation variance clustered by cluster[i] (NULL: each unit its
 * own), as R confint(svyratio(~y, ~x, svydesign(ids = ~cluster, data =
 * d))): with z_c = sum over cluster c of (y - R x) / sum(x), var =
 * m / (m - 1) sum_c (z_c - mean z)^2 over the m clusters.
 * Returns OK; EMPTY for n = 0; NOT_ESTIMABLE when sum(x) = 0, or with one
 * cluster (R: "only one PSU"; estimate, n and n_clusters are still
 * filled); INVALID for NULL or non-finite values; NOMEM.
 */
iop_stats_status iop_stats_ratio(const double *y, const double *x,
                                 const long *cluster, size_t n,
                                 iop_stats_ratio_result *out);

#endif
