/*
 * test_stats.c - unit tests of the statistics library on plain arrays:
 * published values (tests/oracle/data/README.md) and the edge cases each
 * function documents in include/iop/stats.h, bad input as often as good.
 *
 * Published values are given to 3-4 decimals, so they are checked to half
 * a unit in their last place; the exact comparison with R is in
 * test_stats_oracle.c. Run from the repository root (the Cox test reads
 * tests/oracle/data/methadone_addicts_caplehorn.csv).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "iop/stats.h"

#include <gsl/gsl_errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* |a - b| <= tol, with a message naming the figure. */
#define assert_near(a, b, tol) assert_near_((a), (b), (tol), #a, __LINE__)

static void assert_near_(double a, double b, double tol, const char *what,
                         int line)
{
    if (!(fabs(a - b) <= tol))
        fail_msg("line %d: %s = %.10g, expected %.10g (+-%g)", line, what, a,
                 b, tol);
}

/* R's tolerance for values pasted from R. */
#define assert_r(a, b) assert_near((a), (b), 1e-6 * fabs(b) + 1e-9)

/* Gehan 6-MP arm (weeks; 1 = relapse). */
static const double gehan_t[] = {10, 7, 32, 23, 22, 6, 16, 34, 32, 25, 11,
                                 20, 19, 6, 17, 35, 6, 13, 9, 6, 10};
static const int gehan_e[] = {1, 1, 0, 1, 1, 1, 1, 0, 0, 0, 0,
                              0, 0, 1, 0, 0, 1, 1, 0, 0, 0};
/* Gehan control arm: every one relapsed. */
static const double gehan_c[] = {1, 22, 3, 12, 8, 17, 2, 11, 8, 12, 2,
                                 5, 4, 15, 8, 23, 5, 11, 4, 1, 8};

/* cr_small: 12 subjects, causes 1 and 2, 0 censored. */
static const double cr_t[] = {2, 3, 3, 4, 5, 5, 6, 7, 8, 9, 10, 12};
static const int cr_c[] = {1, 2, 1, 0, 1, 2, 0, 1, 2, 0, 1, 0};

/* ---- Status ------------------------------------------------------------- */

static void test_strerror(void **state)
{
    (void)state;
    for (int s = IOP_STATS_OK; s <= IOP_STATS_SINGULAR; s++)
        assert_string_not_equal(iop_stats_strerror((iop_stats_status)s),
                                "unknown status");
    assert_string_equal(iop_stats_strerror((iop_stats_status)99),
                        "unknown status");
}

/* ---- Kaplan-Meier ------------------------------------------------------- */

static void test_km_gehan_published(void **state)
{
    static const double week[] = {6, 7, 10, 13, 16, 22, 23};
    static const double s[] = {0.857, 0.807, 0.753, 0.690, 0.627, 0.538,
                               0.448};
    static const double se[] = {0.0764, 0.0869, 0.0963, 0.1068, 0.1141,
                                0.1282, 0.1346};
    iop_stats_km *km = NULL;

    (void)state;
    assert_int_equal(iop_stats_km_new(gehan_t, gehan_e, 21, &km),
                     IOP_STATS_OK);
    assert_int_equal(km->n, 21);
    assert_int_equal(km->events, 9);
    for (size_t i = 0; i < 7; i++) {
        iop_stats_interval iv;

        assert_int_equal(iop_stats_km_at(km, week[i], &iv), IOP_STATS_OK);
        assert_near(iv.estimate, s[i], 0.0005);
        assert_near(iv.std_err, se[i], 0.00005);
        assert_true(iv.lower < iv.estimate && iv.estimate < iv.upper);
    }
    iop_stats_km_free(km);
}

/* Values printed by R: summary(fit, rmean = 365)$table, conf.type log-log. */
static void test_km_gehan_median_rmean(void **state)
{
    iop_stats_km *km = NULL;
    iop_stats_median m;
    double rm, se;

    (void)state;
    assert_int_equal(iop_stats_km_new(gehan_t, gehan_e, 21, &km),
                     IOP_STATS_OK);
    assert_int_equal(iop_stats_km_median(km, &m), IOP_STATS_OK);
    assert_true(m.has_median && m.has_lower && !m.has_upper);
    assert_near(m.median, 23, 0);
    assert_near(m.lower, 13, 0);
    assert_near(m.upper, 0, 0);
    assert_int_equal(iop_stats_km_rmean(km, 365, &rm, &se), IOP_STATS_OK);
    assert_near(rm, 171.18655, 0.00001);
    assert_near(se, 46.96752, 0.00001);
    iop_stats_km_free(km);
}

static void test_km_bad_input(void **state)
{
    const double t[] = {1, -2}, tn[] = {1, NAN};
    const int e[] = {1, 1}, e2[] = {1, 2};
    iop_stats_km *km = (iop_stats_km *)1;

    (void)state;
    assert_int_equal(iop_stats_km_new(t, e, 0, &km), IOP_STATS_EMPTY);
    assert_null(km);
    assert_int_equal(iop_stats_km_new(NULL, e, 2, &km), IOP_STATS_INVALID);
    assert_int_equal(iop_stats_km_new(t, NULL, 2, &km), IOP_STATS_INVALID);
    assert_int_equal(iop_stats_km_new(t, e, 2, NULL), IOP_STATS_INVALID);
    assert_int_equal(iop_stats_km_new(t, e, 2, &km), IOP_STATS_INVALID);
    assert_int_equal(iop_stats_km_new(tn, e, 2, &km), IOP_STATS_INVALID);
    assert_int_equal(iop_stats_km_new(gehan_t, e2, 2, &km),
                     IOP_STATS_INVALID);
    assert_null(km);
    iop_stats_km_free(NULL);
}

static void test_km_all_censored(void **state)
{
    const double t[] = {3, 5, 5, 9};
    const int e[] = {0, 0, 0, 0};
    iop_stats_km *km = NULL;
    iop_stats_interval iv;
    iop_stats_median m;
    double rm, se;

    (void)state;
    assert_int_equal(iop_stats_km_new(t, e, 4, &km), IOP_STATS_OK);
    assert_int_equal(km->len, 3);
    assert_int_equal(km->events, 0);
    for (size_t r = 0; r < km->len; r++) {
        assert_near(km->surv[r], 1, 0);
        assert_near(km->lower[r], 1, 0);
        assert_near(km->upper[r], 1, 0);
        assert_near(km->std_err[r], 0, 0);
    }
    assert_int_equal(iop_stats_km_at(km, 9, &iv), IOP_STATS_OK);
    assert_near(iv.estimate, 1, 0);
    assert_int_equal(iop_stats_km_at(km, 9.5, &iv), IOP_STATS_NOT_ESTIMABLE);
    assert_near(iv.estimate, 0, 0);
    assert_int_equal(iop_stats_km_median(km, &m), IOP_STATS_NOT_ESTIMABLE);
    assert_false(m.has_median || m.has_lower || m.has_upper);
    assert_int_equal(iop_stats_km_rmean(km, 365, &rm, &se), IOP_STATS_OK);
    assert_near(rm, 365, 0);
    assert_near(se, 0, 0);
    iop_stats_km_free(km);
}

/* One observation, and everyone at one time: S falls to 0. */
static void test_km_to_zero(void **state)
{
    const double one[] = {5}, same[] = {4, 4, 4};
    const int e[] = {1, 1, 1};
    iop_stats_km *km = NULL;
    iop_stats_interval iv;
    iop_stats_median m;

    (void)state;
    assert_int_equal(iop_stats_km_new(one, e, 1, &km), IOP_STATS_OK);
    assert_int_equal(iop_stats_km_at(km, 4.9, &iv), IOP_STATS_OK);
    assert_near(iv.estimate, 1, 0);
    assert_near(iv.lower, 1, 0);
    assert_int_equal(iop_stats_km_at(km, 5, &iv), IOP_STATS_OK);
    assert_near(iv.estimate, 0, 0);
    assert_near(iv.lower + iv.upper + iv.std_err, 0, 0);
    assert_int_equal(iop_stats_km_at(km, 6, &iv), IOP_STATS_NOT_ESTIMABLE);
    iop_stats_km_free(km);
    assert_int_equal(iop_stats_km_new(same, e, 3, &km), IOP_STATS_OK);
    assert_int_equal(km->len, 1);
    assert_near(km->se_log[0], 0, 0);
    assert_int_equal(iop_stats_km_median(km, &m), IOP_STATS_OK);
    assert_near(m.median, 4, 0);
    assert_false(m.has_lower || m.has_upper);
    iop_stats_km_free(km);
}

/* S = 0.5 exactly from day 2: midpoint to the next drop, or day 2. */
static void test_km_median_plateau(void **state)
{
    const double t[] = {1, 2, 3, 4};
    const int drop[] = {1, 1, 1, 0}, flat[] = {1, 1, 0, 0};
    iop_stats_km *km = NULL;
    iop_stats_median m;

    (void)state;
    assert_int_equal(iop_stats_km_new(t, drop, 4, &km), IOP_STATS_OK);
    assert_int_equal(iop_stats_km_median(km, &m), IOP_STATS_OK);
    assert_near(m.median, 2.5, 0);
    iop_stats_km_free(km);
    assert_int_equal(iop_stats_km_new(t, flat, 4, &km), IOP_STATS_OK);
    assert_int_equal(iop_stats_km_median(km, &m), IOP_STATS_OK);
    assert_near(m.median, 2, 0);
    iop_stats_km_free(km);
}

/* Same-day stays (time 0) are events at 0; ties: events before censorings. */
static void test_km_ties_and_zero(void **state)
{
    const double t[] = {0, 0, 2, 2, 2};
    const int e[] = {1, 0, 1, 0, 0};
    iop_stats_km *km = NULL;
    iop_stats_interval iv;
    double rm, se;

    (void)state;
    assert_int_equal(iop_stats_km_new(t, e, 5, &km), IOP_STATS_OK);
    assert_int_equal(km->len, 2);
    assert_int_equal(km->n_risk[0], 5);
    assert_int_equal(km->n_risk[1], 3);
    assert_int_equal(km->n_censor[1], 2);
    assert_near(km->surv[1], 0.8 * 2.0 / 3.0, 1e-15);
    assert_int_equal(iop_stats_km_at(km, -1, &iv), IOP_STATS_OK);
    assert_near(iv.estimate, 1, 0);
    assert_int_equal(iop_stats_km_at(km, NAN, &iv), IOP_STATS_INVALID);
    assert_int_equal(iop_stats_km_rmean(km, -1, &rm, &se), IOP_STATS_INVALID);
    assert_int_equal(iop_stats_km_rmean(km, 0, &rm, &se), IOP_STATS_OK);
    assert_near(rm, 0, 0);
    iop_stats_km_free(km);
}

/* ---- Log-rank ----------------------------------------------------------- */

static void test_logrank_gehan(void **state)
{
    double t[42], obs[2], exp[2];
    int e[42];
    size_t g[42];
    iop_stats_test r;

    (void)state;
    for (size_t i = 0; i < 21; i++) {
        t[i] = gehan_t[i];
        e[i] = gehan_e[i];
        g[i] = 0;
        t[21 + i] = gehan_c[i];
        e[21 + i] = 1;
        g[21 + i] = 1;
    }
    assert_int_equal(iop_stats_logrank(t, e, g, 42, 2, &r, obs, exp),
                     IOP_STATS_OK);
    assert_near(r.statistic, 16.79, 0.005);
    assert_r(r.statistic, 16.79294099);
    assert_near(r.df, 1, 0);
    assert_near(r.p_value, 4.2e-5, 0.05e-5);
    assert_near(obs[0], 9, 0);
    assert_near(obs[1], 21, 0);
    assert_near(obs[0] + obs[1], exp[0] + exp[1], 1e-12);
}

static void test_logrank_aml(void **state)
{
    const double t[] = {9, 13, 13, 18, 23, 28, 31, 34, 45, 48, 161, 5, 5, 8,
                        8, 12, 16, 23, 27, 30, 33, 43, 45};
    const int e[] = {1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1, 1, 1,
                     1, 1, 0, 1, 1, 1, 1, 1, 1};
    size_t g[23];
    iop_stats_test r;

    (void)state;
    for (size_t i = 0; i < 23; i++)
        g[i] = i >= 11;
    assert_int_equal(iop_stats_logrank(t, e, g, 23, 2, &r, NULL, NULL),
                     IOP_STATS_OK);
    assert_near(r.statistic, 3.396389, 0.0000005);
    assert_near(r.p_value, 0.0653, 0.00005);
}

static void test_logrank_edges(void **state)
{
    const double t[] = {1, 2, 3, 4};
    const int e[] = {1, 0, 1, 1}, none[] = {0, 0, 0, 0};
    const size_t one[] = {0, 0, 0, 0}, two[] = {0, 1, 0, 1};
    const size_t bad[] = {0, 2, 0, 1};
    const double same[] = {4, 4, 4, 4};
    const int all[] = {1, 1, 1, 1};
    double obs[2] = {-1, -1};
    iop_stats_test r;

    (void)state;
    assert_int_equal(iop_stats_logrank(t, e, one, 0, 1, &r, NULL, NULL),
                     IOP_STATS_EMPTY);
    assert_int_equal(iop_stats_logrank(t, e, one, 4, 1, &r, NULL, NULL),
                     IOP_STATS_NOT_ESTIMABLE);
    assert_int_equal(iop_stats_logrank(t, none, two, 4, 2, &r, obs, NULL),
                     IOP_STATS_NOT_ESTIMABLE);
    assert_near(obs[0] + obs[1], 0, 0);
    assert_int_equal(iop_stats_logrank(t, e, bad, 4, 2, &r, NULL, NULL),
                     IOP_STATS_INVALID);
    assert_int_equal(iop_stats_logrank(NULL, e, two, 4, 2, &r, NULL, NULL),
                     IOP_STATS_INVALID);
    /* Everyone leaves at once: the variance is 0. */
    assert_int_equal(iop_stats_logrank(same, all, two, 4, 2, &r, NULL, NULL),
                     IOP_STATS_NOT_ESTIMABLE);
    assert_near(r.statistic + r.df + r.p_value, 0, 0);
}

/* ---- Aalen-Johansen ----------------------------------------------------- */

static void test_cif_cr_small(void **state)
{
    iop_stats_cif *f = NULL;
    iop_stats_interval iv;

    (void)state;
    assert_int_equal(iop_stats_cif_new(cr_t, cr_c, 12, 2, NULL, &f),
                     IOP_STATS_OK);
    assert_int_equal(f->n_clusters, 12);
    assert_int_equal(iop_stats_cif_at(f, 1, 10, &iv), IOP_STATS_OK);
    assert_near(iv.estimate, 13.0 / 24.0, 1e-14);
    assert_near(iv.lower, 0.1818, 0.00005);
    assert_near(iv.upper, 0.8021, 0.00005);
    assert_int_equal(iop_stats_cif_at(f, 2, 10, &iv), IOP_STATS_OK);
    assert_near(iv.estimate, 139.0 / 480.0, 1e-14);
    /* naive 1 - KM for cause 1 would give 0.7083 */
    assert_int_equal(iop_stats_cif_at(f, 0, 10, &iv), IOP_STATS_OK);
    assert_near(iv.estimate, 1 - 13.0 / 24 - 139.0 / 480, 1e-14);
    assert_int_equal(iop_stats_cif_at(f, 1, 1, &iv), IOP_STATS_OK);
    assert_near(iv.estimate + iv.lower + iv.upper, 0, 0);
    assert_int_equal(iop_stats_cif_at(f, 0, 1, &iv), IOP_STATS_OK);
    assert_near(iv.estimate * iv.lower * iv.upper, 1, 0);
    assert_int_equal(iop_stats_cif_at(f, 1, 12.5, &iv),
                     IOP_STATS_NOT_ESTIMABLE);
    assert_int_equal(iop_stats_cif_at(f, 3, 5, &iv), IOP_STATS_INVALID);
    iop_stats_cif_free(f);
}

static void test_cif_edges(void **state)
{
    const double t[] = {1, 2, 3};
    const int none[] = {0, 0, 0}, bad[] = {0, 3, 1}, neg[] = {0, -1, 1};
    const int one[] = {2};
    iop_stats_cif *f = (iop_stats_cif *)1;
    iop_stats_interval iv;

    (void)state;
    assert_int_equal(iop_stats_cif_new(t, none, 0, 2, NULL, &f),
                     IOP_STATS_EMPTY);
    assert_null(f);
    assert_int_equal(iop_stats_cif_new(t, bad, 3, 2, NULL, &f),
                     IOP_STATS_INVALID);
    assert_int_equal(iop_stats_cif_new(t, neg, 3, 2, NULL, &f),
                     IOP_STATS_INVALID);
    assert_int_equal(iop_stats_cif_new(t, none, 3, 0, NULL, &f),
                     IOP_STATS_INVALID);
    assert_int_equal(iop_stats_cif_new(t, none, 3, 2, NULL, &f),
                     IOP_STATS_OK);
    assert_int_equal(iop_stats_cif_at(f, 2, 3, &iv), IOP_STATS_OK);
    assert_near(iv.estimate + iv.lower + iv.upper + iv.std_err, 0, 0);
    iop_stats_cif_free(f);
    assert_int_equal(iop_stats_cif_new(t, one, 1, 2, NULL, &f),
                     IOP_STATS_OK);
    assert_int_equal(iop_stats_cif_at(f, 2, 1, &iv), IOP_STATS_OK);
    assert_near(iv.estimate * iv.lower * iv.upper, 1, 0);
    iop_stats_cif_free(f);
    iop_stats_cif_free(NULL);
}

/* One client with every episode: its influence is the sum of theirs. */
static void test_cif_cluster(void **state)
{
    long pairs[12];
    iop_stats_cif *a = NULL, *b = NULL;

    (void)state;
    for (size_t i = 0; i < 12; i++)
        pairs[i] = (long)(100 - i / 2);
    assert_int_equal(iop_stats_cif_new(cr_t, cr_c, 12, 2, pairs, &a),
                     IOP_STATS_OK);
    assert_int_equal(iop_stats_cif_new(cr_t, cr_c, 12, 2, NULL, &b),
                     IOP_STATS_OK);
    assert_int_equal(a->n_clusters, 6);
    for (size_t i = 0; i < a->len * 3; i++)
        assert_near(a->estimate[i], b->estimate[i], 0);
    iop_stats_cif_free(a);
    iop_stats_cif_free(b);
}

/* ---- Cox ---------------------------------------------------------------- */

typedef struct addicts {
    size_t n;
    double t[300], x[900];
    int e[300];
} addicts;

/* Methadone clinics: x = (clinic 2, prison, dose). */
static void load_addicts(addicts *a)
{
    FILE *f = fopen("tests/oracle/data/methadone_addicts_caplehorn.csv", "r");
    char line[256];
    int c, d, p, days, st;

    if (!f)
        fail_msg("run the tests from the repository root");
    assert_non_null(fgets(line, sizeof line, f));
    a->n = 0;
    while (a->n < 300 &&
           fscanf(f, "%d,%d,%d,%d,%d", &c, &d, &p, &days, &st) == 5) {
        a->t[a->n] = days;
        a->e[a->n] = st;
        a->x[a->n * 3] = c == 2;
        a->x[a->n * 3 + 1] = p;
        a->x[a->n * 3 + 2] = d;
        a->n++;
    }
    fclose(f);
    assert_int_equal(a->n, 238);
}

/* R: coxph(Surv(Days_survival, Status) ~ I(Clinic == 2) + Prison + Dose,
 * cluster = seq_len(238)), summary() printed with digits = 10. */
static void test_cox_methadone(void **state)
{
    static const double coef[] = {-1.00989587356, 0.32655496710,
                                  -0.03536923433};
    static const double se[] = {0.214889388117, 0.167224812098,
                                0.006378931387};
    static const double robust[] = {0.237606610084, 0.161438133791,
                                    0.006446216631};
    static const double p[] = {2.134984319e-05, 4.309510695e-02,
                               4.092323160e-08};
    static const double lower[] = {0.2286423534, 1.0101936439, 0.9531303684};
    addicts *a = calloc(1, sizeof *a);
    iop_stats_cox *c = NULL;

    (void)state;
    assert_non_null(a);
    load_addicts(a);
    assert_int_equal(iop_stats_cox_new(a->t, a->e, a->x, a->n, 3, NULL, &c),
                     IOP_STATS_OK);
    assert_string_equal(c->message, "");
    assert_int_equal(c->events, 150);
    assert_int_equal(c->iterations, 4);
    assert_r(c->loglik, -673.2591371);
    for (size_t j = 0; j < 3; j++) {
        assert_int_equal(c->flag[j], IOP_STATS_COEF_OK);
        assert_near(c->coef[j], coef[j], 1e-9);
        assert_near(c->naive_se[j], se[j], 1e-9);
        assert_near(c->std_err[j], robust[j], 1e-9);
        assert_r(c->p_value[j], p[j]);
        assert_r(c->lower[j], lower[j]);
        assert_r(c->hr[j], exp(coef[j]));
    }
    iop_stats_cox_free(c);
    free(a);
}

static void test_cox_not_estimable(void **state)
{
    const double t[] = {1, 2, 3, 4}, x[] = {0, 1, 0, 1};
    const int none[] = {0, 0, 0, 0}, e[] = {1, 0, 1, 1};
    const long same[] = {7, 7, 7, 7};
    iop_stats_cox *c = (iop_stats_cox *)1;

    (void)state;
    assert_int_equal(iop_stats_cox_new(t, e, x, 0, 1, NULL, &c),
                     IOP_STATS_EMPTY);
    assert_null(c);
    assert_int_equal(iop_stats_cox_new(t, none, x, 4, 1, NULL, &c),
                     IOP_STATS_NOT_ESTIMABLE);
    assert_string_equal(c->message, "no events");
    assert_int_equal(c->status, IOP_STATS_NOT_ESTIMABLE);
    iop_stats_cox_free(c);
    assert_int_equal(iop_stats_cox_new(t, e, NULL, 4, 0, NULL, &c),
                     IOP_STATS_NOT_ESTIMABLE);
    assert_string_equal(c->message, "no covariates");
    iop_stats_cox_free(c);
    assert_int_equal(iop_stats_cox_new(t, e, x, 4, 1, same, &c),
                     IOP_STATS_NOT_ESTIMABLE);
    assert_non_null(strstr(c->message, "two clusters"));
    iop_stats_cox_free(c);
    iop_stats_cox_free(NULL);
}

static void test_cox_bad_input(void **state)
{
    const double t[] = {1, 2, 3, 4}, x[] = {0, 1, NAN, 1};
    const double tb[] = {1, -2, 3, 4}, xok[] = {0, 1, 0, 1};
    const int e[] = {1, 0, 1, 1}, e2[] = {1, 2, 1, 1};
    iop_stats_cox *c = (iop_stats_cox *)1;

    (void)state;
    assert_int_equal(iop_stats_cox_new(t, e, x, 4, 1, NULL, &c),
                     IOP_STATS_INVALID);
    assert_null(c);
    assert_int_equal(iop_stats_cox_new(tb, e, xok, 4, 1, NULL, &c),
                     IOP_STATS_INVALID);
    assert_int_equal(iop_stats_cox_new(t, e2, xok, 4, 1, NULL, &c),
                     IOP_STATS_INVALID);
    assert_int_equal(iop_stats_cox_new(t, e, xok, 4, 1, NULL, NULL),
                     IOP_STATS_INVALID);
}

/* A constant column is aliased; a group with no events is infinite. */
static void test_cox_degenerate(void **state)
{
    addicts *a = calloc(1, sizeof *a);
    double *x2 = calloc(238 * 2, sizeof *x2), *x3 = calloc(238 * 3, 8);
    iop_stats_cox *c = NULL;

    (void)state;
    assert_true(a && x2 && x3);
    load_addicts(a);
    for (size_t i = 0; i < a->n; i++) {
        x2[i * 2] = x3[i * 3] = a->x[i * 3];
        x2[i * 2 + 1] = 5;
        x3[i * 3 + 1] = a->e[i] == 0 && i % 3 == 0;
        x3[i * 3 + 2] = a->x[i * 3 + 2];
    }
    assert_int_equal(iop_stats_cox_new(a->t, a->e, x2, a->n, 2, NULL, &c),
                     IOP_STATS_SINGULAR);
    assert_int_equal(c->flag[0], IOP_STATS_COEF_OK);
    assert_int_equal(c->flag[1], IOP_STATS_COEF_ALIASED);
    assert_near(c->coef[1] + c->std_err[1] + c->hr[1], 0, 0);
    assert_true(c->std_err[0] > 0);
    assert_int_equal(c->reported, 1);
    assert_non_null(strstr(c->message, "column(s) 1"));
    iop_stats_cox_free(c);
    assert_int_equal(iop_stats_cox_new(a->t, a->e, x3, a->n, 3, NULL, &c),
                     IOP_STATS_INFINITE);
    assert_int_equal(c->flag[0], IOP_STATS_COEF_OK);
    assert_int_equal(c->flag[1], IOP_STATS_COEF_INFINITE);
    assert_int_equal(c->flag[2], IOP_STATS_COEF_OK);
    assert_int_equal(c->reported, 1);
    assert_non_null(strstr(c->message, "infinite"));
    iop_stats_cox_free(c);
    free(x3);
    free(x2);
    free(a);
}

/* Aliased columns dropped at the start, then an information matrix that
 * stops being positive definite during the iterations (R: "Ran out of
 * iterations and did not converge"): SINGULAR with nothing reported, not
 * the columns left with hazard ratios of 0, as the metrics once read it.
 * Found by a search of small random data sets; columns 1 and 6 are 0. */
static void test_cox_singular_after_aliased(void **state)
{
    const double t[] = {1, 6, 8, 2, 6, 1, 1};
    const int e[] = {0, 1, 1, 1, 1, 1, 0};
    const double x[] = {
        1, 0, 0, 0, 0, 1, 0,
        0, 0, 0, 0, 0, 1, 0,
        1, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 1, 0, 1, 0,
        0, 0, 0, 0, 1, 0, 0,
        0, 0, 1, 0, 0, 1, 0,
        0, 0, 0, 0, 0, 0, 0,
    };
    iop_stats_cox *c = NULL;

    (void)state;
    assert_int_equal(iop_stats_cox_new(t, e, x, 7, 7, NULL, &c), IOP_STATS_SINGULAR);
    assert_int_equal(c->reported, 0);
    assert_int_equal(c->flag[1], IOP_STATS_COEF_ALIASED);
    assert_int_equal(c->flag[6], IOP_STATS_COEF_ALIASED);
    assert_non_null(strstr(c->message, "not positive definite at iteration"));
    for (size_t j = 0; j < 7; j++)
        assert_near(c->hr[j] + c->std_err[j], 0, 0);
    iop_stats_cox_free(c);
}

/* ---- Proportions -------------------------------------------------------- */

static void test_wilson_published(void **state)
{
    iop_stats_interval iv;

    (void)state;
    assert_int_equal(iop_stats_wilson(81, 263, &iv), IOP_STATS_OK);
    assert_near(iv.estimate, 81.0 / 263, 1e-15);
    assert_near(iv.lower, 0.2553, 0.00005);
    assert_near(iv.upper, 0.3662, 0.00005);
    assert_int_equal(iop_stats_wilson(0, 20, &iv), IOP_STATS_OK);
    assert_near(iv.lower, 0, 0);
    assert_near(iv.upper, 0.1611, 0.00005);
    assert_int_equal(iop_stats_wilson(15, 148, &iv), IOP_STATS_OK);
    assert_near(iv.lower, 0.0624, 0.00005);
    assert_near(iv.upper, 0.1605, 0.00005);
    assert_int_equal(iop_stats_wilson(20, 20, &iv), IOP_STATS_OK);
    assert_near(iv.upper, 1, 0);
}

static void test_wilson_edges(void **state)
{
    iop_stats_interval iv = {1, 1, 1, 1};

    (void)state;
    assert_int_equal(iop_stats_wilson(0, 0, &iv), IOP_STATS_NOT_ESTIMABLE);
    assert_near(iv.estimate + iv.lower + iv.upper, 0, 0);
    assert_int_equal(iop_stats_wilson(3, 2, &iv), IOP_STATS_INVALID);
    assert_int_equal(iop_stats_wilson(1, 2, NULL), IOP_STATS_INVALID);
    assert_int_equal(iop_stats_wilson(1, 1, &iv), IOP_STATS_OK);
    assert_true(iv.lower > 0 && iv.upper == 1);
}

static void test_chisq_published(void **state)
{
    const size_t m[] = {762, 327, 468, 484, 239, 477};
    iop_stats_chisq_result r;
    double e[6];

    (void)state;
    assert_int_equal(iop_stats_chisq(m, 2, 3, &r, e), IOP_STATS_OK);
    assert_near(r.statistic, 30.07, 0.005);
    assert_near(r.df, 2, 0);
    assert_near(r.p_value, 2.95e-7, 0.005e-7);
    assert_near(e[0], 1557.0 * 1246 / 2757, 1e-9);
    assert_int_equal(r.cells_expected_below5, 0);
    assert_near(r.share_expected_below5, 0, 0);
}

static void test_chisq_edges(void **state)
{
    const size_t zero_row[] = {0, 0, 3, 4}, small[] = {1, 2, 3, 40};
    const size_t m[] = {1, 2, 3};
    iop_stats_chisq_result r;

    (void)state;
    assert_int_equal(iop_stats_chisq(zero_row, 2, 2, &r, NULL),
                     IOP_STATS_NOT_ESTIMABLE);
    assert_near(r.statistic + r.df + r.p_value, 0, 0);
    assert_int_equal(iop_stats_chisq(m, 1, 3, &r, NULL),
                     IOP_STATS_NOT_ESTIMABLE);
    assert_int_equal(iop_stats_chisq(NULL, 2, 2, &r, NULL),
                     IOP_STATS_INVALID);
    assert_int_equal(iop_stats_chisq(small, 2, 2, &r, NULL), IOP_STATS_OK);
    assert_int_equal(r.cells_expected_below5, 3);
    assert_near(r.share_expected_below5, 0.75, 0);
    assert_near(r.min_expected, 3.0 * 4 / 46, 1e-12);
}

static void test_fisher(void **state)
{
    const size_t tea[] = {3, 1, 1, 3}, empty[] = {0, 0, 0, 0};
    const size_t zero_row[] = {0, 0, 3, 4}, sym[] = {5, 5, 5, 5};
    iop_stats_test r;

    (void)state;
    assert_int_equal(iop_stats_fisher(tea, &r), IOP_STATS_OK);
    assert_r(r.p_value, 0.4857142857);
    assert_near(r.statistic + r.df, 0, 0);
    assert_int_equal(iop_stats_fisher(sym, &r), IOP_STATS_OK);
    assert_near(r.p_value, 1, 1e-12);
    assert_int_equal(iop_stats_fisher(zero_row, &r), IOP_STATS_OK);
    assert_near(r.p_value, 1, 0);
    assert_int_equal(iop_stats_fisher(empty, &r), IOP_STATS_NOT_ESTIMABLE);
    assert_int_equal(iop_stats_fisher(NULL, &r), IOP_STATS_INVALID);
}

/* R ?prop.trend.test: smokers of patients. */
static void test_trend(void **state)
{
    const size_t x[] = {83, 90, 129, 70}, n[] = {86, 93, 136, 82};
    const size_t x0[] = {83, 0, 90, 129, 70}, n0[] = {86, 0, 93, 136, 82};
    const size_t none[] = {0, 0, 0, 0};
    const double s[] = {1, 2, 3, 4}, s0[] = {1, 2, 2, 3, 4};
    const double flat[] = {2, 2, 2, 2}, bad[] = {1, NAN, 3, 4};
    iop_stats_test r;

    (void)state;
    assert_int_equal(iop_stats_trend(x, n, s, 4, &r), IOP_STATS_OK);
    assert_r(r.statistic, 8.224922285);
    assert_r(r.p_value, 0.004131897478);
    assert_near(r.df, 1, 0);
    /* An empty month is left out and keeps its index. */
    assert_int_equal(iop_stats_trend(x0, n0, s0, 5, &r), IOP_STATS_OK);
    assert_r(r.statistic, 8.224922285);
    assert_int_equal(iop_stats_trend(none, n, s, 4, &r),
                     IOP_STATS_NOT_ESTIMABLE);
    assert_int_equal(iop_stats_trend(n, n, s, 4, &r),
                     IOP_STATS_NOT_ESTIMABLE);
    assert_int_equal(iop_stats_trend(x, n, flat, 4, &r),
                     IOP_STATS_NOT_ESTIMABLE);
    assert_int_equal(iop_stats_trend(x, n, s, 1, &r),
                     IOP_STATS_NOT_ESTIMABLE);
    assert_int_equal(iop_stats_trend(x, n, bad, 4, &r), IOP_STATS_INVALID);
    assert_int_equal(iop_stats_trend(n, x, s, 4, &r), IOP_STATS_INVALID);
}

/* ---- Means -------------------------------------------------------------- */

static const double sleep1[] = {0.7, -1.6, -0.2, -1.2, -0.1,
                                3.4, 3.7, 0.8, 0.0, 2.0};
static const double sleep2[] = {1.9, 0.8, 1.1, 0.1, -0.1,
                                4.4, 5.5, 1.6, 4.6, 3.4};

static void test_ttest_sleep(void **state)
{
    iop_stats_ttest t;
    double dz, d[10];

    (void)state;
    assert_int_equal(iop_stats_ttest_paired(sleep2, sleep1, 10, &t),
                     IOP_STATS_OK);
    assert_near(t.statistic, 4.0621, 0.00005);
    assert_near(t.df, 9, 0);
    assert_near(t.p_value, 0.002833, 0.0000005);
    assert_near(t.mean, 1.58, 1e-12);
    assert_near(t.lower, 0.700, 0.0005);
    assert_near(t.upper, 2.460, 0.0005);
    assert_r(t.dz, 1.284557563);
    for (size_t i = 0; i < 10; i++)
        d[i] = sleep2[i] - sleep1[i];
    assert_int_equal(iop_stats_cohen_dz(d, 10, &dz), IOP_STATS_OK);
    assert_near(dz, t.dz, 1e-14);
    assert_int_equal(iop_stats_ttest_paired(d, NULL, 10, &t), IOP_STATS_OK);
    assert_near(t.statistic, 4.0621, 0.00005);
}

static void test_ttest_edges(void **state)
{
    const double one[] = {3}, same[] = {2, 2, 2}, bad[] = {1, INFINITY};
    iop_stats_ttest t;
    double dz = 1;

    (void)state;
    assert_int_equal(iop_stats_ttest_paired(one, NULL, 0, &t),
                     IOP_STATS_EMPTY);
    assert_int_equal(iop_stats_ttest_paired(one, NULL, 1, &t),
                     IOP_STATS_NOT_ESTIMABLE);
    assert_near(t.mean, 3, 0);
    assert_int_equal(t.n, 1);
    assert_near(t.statistic + t.p_value + t.lower + t.upper, 0, 0);
    assert_int_equal(iop_stats_ttest_paired(same, NULL, 3, &t),
                     IOP_STATS_NOT_ESTIMABLE);
    assert_near(t.mean, 2, 0);
    assert_near(t.sd, 0, 0);
    assert_int_equal(iop_stats_ttest_paired(bad, NULL, 2, &t),
                     IOP_STATS_INVALID);
    assert_int_equal(iop_stats_ttest_paired(NULL, NULL, 2, &t),
                     IOP_STATS_INVALID);
    assert_int_equal(iop_stats_cohen_dz(same, 3, &dz),
                     IOP_STATS_NOT_ESTIMABLE);
    assert_near(dz, 0, 0);
    assert_int_equal(iop_stats_cohen_dz(one, 1, &dz),
                     IOP_STATS_NOT_ESTIMABLE);
    assert_int_equal(iop_stats_cohen_dz(one, 0, &dz), IOP_STATS_EMPTY);
}

static void test_quantile(void **state)
{
    const double x[] = {10, 1, 9, 2, 8, 3, 7, 4, 6, 5}, one[] = {4};
    const double p[] = {0, 0.25, 0.5, 0.75, 1}, badp[] = {0.5, 1.5};
    const double nan[] = {1, NAN};
    double q[5], copy[10];

    (void)state;
    memcpy(copy, x, sizeof x);
    assert_int_equal(iop_stats_quantile(x, 10, p, 5, q), IOP_STATS_OK);
    assert_near(q[0], 1, 0);
    assert_near(q[1], 3.25, 1e-15);
    assert_near(q[2], 5.5, 1e-15);
    assert_near(q[3], 7.75, 1e-15);
    assert_near(q[4], 10, 0);
    assert_memory_equal(x, copy, sizeof x);
    assert_int_equal(iop_stats_quantile(one, 1, p, 5, q), IOP_STATS_OK);
    for (size_t j = 0; j < 5; j++)
        assert_near(q[j], 4, 0);
    assert_int_equal(iop_stats_quantile(x, 0, p, 5, q), IOP_STATS_EMPTY);
    assert_int_equal(iop_stats_quantile(x, 10, badp, 2, q),
                     IOP_STATS_INVALID);
    assert_int_equal(iop_stats_quantile(nan, 2, p, 5, q), IOP_STATS_INVALID);
}

/* ---- Ratio estimator ---------------------------------------------------- */

/* By hand: R = 3/4; z = (-0.125, 0.125); var = 2 (2 * 0.125^2) = 1/16. */
static void test_ratio_by_hand(void **state)
{
    const double y[] = {1, 0, 1, 1}, x[] = {1, 1, 1, 1};
    const long cl[] = {40, 40, 7, 7};
    iop_stats_ratio_result r;

    (void)state;
    assert_int_equal(iop_stats_ratio(y, x, cl, 4, &r), IOP_STATS_OK);
    assert_near(r.estimate, 0.75, 1e-15);
    assert_near(r.std_err, 0.25, 1e-15);
    assert_near(r.lower, 0.75 - 1.959963984540054 * 0.25, 1e-12);
    assert_int_equal(r.n_clusters, 2);
    /* Each unit its own cluster: var = 4/3 sum ((y - R x)/4)^2. */
    assert_int_equal(iop_stats_ratio(y, x, NULL, 4, &r), IOP_STATS_OK);
    assert_near(r.std_err, sqrt(4.0 / 3 * (3 * 0.25 * 0.25 + 0.75 * 0.75) /
                                16),
                1e-15);
}

static void test_ratio_edges(void **state)
{
    const double y[] = {1, 0}, zero[] = {0, 0}, bad[] = {1, NAN};
    const long one[] = {3, 3};
    iop_stats_ratio_result r;

    (void)state;
    assert_int_equal(iop_stats_ratio(y, y, NULL, 0, &r), IOP_STATS_EMPTY);
    assert_int_equal(iop_stats_ratio(y, zero, NULL, 2, &r),
                     IOP_STATS_NOT_ESTIMABLE);
    assert_near(r.estimate, 0, 0);
    assert_int_equal(iop_stats_ratio(y, y, one, 2, &r),
                     IOP_STATS_NOT_ESTIMABLE);
    assert_near(r.estimate, 1, 0);
    assert_near(r.std_err + r.lower + r.upper, 0, 0);
    assert_int_equal(r.n_clusters, 1);
    assert_int_equal(iop_stats_ratio(bad, y, NULL, 2, &r),
                     IOP_STATS_INVALID);
    assert_int_equal(iop_stats_ratio(NULL, y, NULL, 2, &r),
                     IOP_STATS_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_km_gehan_published),
        cmocka_unit_test(test_km_gehan_median_rmean),
        cmocka_unit_test(test_km_bad_input),
        cmocka_unit_test(test_km_all_censored),
        cmocka_unit_test(test_km_to_zero),
        cmocka_unit_test(test_km_median_plateau),
        cmocka_unit_test(test_km_ties_and_zero),
        cmocka_unit_test(test_logrank_gehan),
        cmocka_unit_test(test_logrank_aml),
        cmocka_unit_test(test_logrank_edges),
        cmocka_unit_test(test_cif_cr_small),
        cmocka_unit_test(test_cif_edges),
        cmocka_unit_test(test_cif_cluster),
        cmocka_unit_test(test_cox_methadone),
        cmocka_unit_test(test_cox_not_estimable),
        cmocka_unit_test(test_cox_bad_input),
        cmocka_unit_test(test_cox_degenerate),
        cmocka_unit_test(test_cox_singular_after_aliased),
        cmocka_unit_test(test_wilson_published),
        cmocka_unit_test(test_wilson_edges),
        cmocka_unit_test(test_chisq_published),
        cmocka_unit_test(test_chisq_edges),
        cmocka_unit_test(test_fisher),
        cmocka_unit_test(test_trend),
        cmocka_unit_test(test_ttest_sleep),
        cmocka_unit_test(test_ttest_edges),
        cmocka_unit_test(test_quantile),
        cmocka_unit_test(test_ratio_by_hand),
        cmocka_unit_test(test_ratio_edges),
    };

    gsl_set_error_handler_off();
    return cmocka_run_group_tests_name("stats", tests, NULL, NULL);
}
