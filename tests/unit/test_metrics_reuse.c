/*
 * test_metrics_reuse.c - figures of a connection that earlier calls left
 * month segments on (iop_mctx_segments(): the monthly workbook's 26 calls
 * share one connection) equal those of a fresh connection, value for
 * value: a period made of months that earlier calls built, after calls
 * with other dimensions, a partial period and a call that wanted only
 * some metrics.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <gsl/gsl_errno.h>

#include "iop/date.h"
#include "iop/generate.h"
#include "iop/load.h"
#include "iop/metrics.h"
#include "iop/store.h"

static char dir[64], extract[96], db[96];

static int setup(void **state)
{
    iop_generate_opts g;
    iop_load_opts o;
    iop_load_result res;
    iop_error err;

    (void)state;
    gsl_set_error_handler_off(); /* as main() does: statuses are checked */
    snprintf(dir, sizeof dir, "/tmp/iop-reuse-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(extract, sizeof extract, "%s/x", dir);
    snprintf(db, sizeof db, "%s/t.db", dir);
    iop_generate_opts_init(&g);
    g.clients = 120;
    g.months = 8;
    g.seed = 5;
    g.outdir = extract;
    if (iop_generate(&g, &err) != IOP_OK)
        return -1;
    iop_load_opts_init(&o);
    o.dir = extract;
    o.db_path = db;
    o.extract_date = "2026-10-31";
    o.now = 1780000000;
    return iop_load(&o, &res, &err) == IOP_OK ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

/* The figures for [from, to] by dimension by (NULL: none) on store s,
 * wanting only want (NULL: all). */
static void run(iop_store *s, const char *from, const char *to, const char *by,
                const char *const *want, iop_rows *rows)
{
    iop_mctx c = {.db = s->db, .level = "2.1", .want = want};
    iop_error err;

    assert_true(iop_date_parse(from, 10, &c.from));
    assert_true(iop_date_parse(to, 10, &c.to));
    snprintf(c.from_s, sizeof c.from_s, "%s", from);
    snprintf(c.to_s, sizeof c.to_s, "%s", to);
    c.by = by;
    c.by_expr = by ? iop_metrics_dimension(by) : NULL;
    iop_rows_init(rows);
    assert_int_equal(iop_metrics_run(&c, rows, &err), IOP_OK);
}

/* The same on a connection of its own, opened for this call only. */
static void run_fresh(const char *from, const char *to, const char *by, iop_rows *rows)
{
    iop_store s;
    iop_error err;

    assert_int_equal(iop_store_open(&s, db, IOP_STORE_READONLY, 1000, &err), IOP_OK);
    run(&s, from, to, by, NULL, rows);
    iop_store_close(&s);
}

/* Every field of every row is the same, doubles bit for bit. */
static void assert_same_rows(const iop_rows *a, const iop_rows *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        const iop_row *x = &a->v[i], *y = &b->v[i];
        assert_string_equal(x->metric, y->metric);
        assert_string_equal(x->dimension, y->dimension);
        assert_string_equal(x->group, y->group);
        assert_string_equal(x->at, y->at);
        assert_string_equal(x->note, y->note);
        assert_int_equal(x->n, y->n);
        assert_int_equal(x->has, y->has);
        const double *fx[] = {&x->estimate, &x->lower, &x->upper, &x->statistic, &x->df,
                              &x->p_value};
        const double *fy[] = {&y->estimate, &y->lower, &y->upper, &y->statistic, &y->df,
                              &y->p_value};
        for (size_t k = 0; k < 6; k++)
            if (memcmp(fx[k], fy[k], sizeof(double)) != 0)
                fail_msg("%s %s %s: field %zu is %.17g, fresh %.17g", x->metric, x->group,
                         x->at, k, *fx[k], *fy[k]);
    }
}

/* Figures of the sections that keep month segments (attendance, IET,
 * outcomes, screens, follow-up) and of the others. */
static void test_cached_months_equal_a_fresh_connection(void **state)
{
    static const char *const some[] = {"attendance_rate", "uds_negative", "phq9_change",
                                       "followup_reach_30d", NULL};
    iop_store a;
    iop_rows r, warm, fresh;
    iop_error err;

    (void)state;
    assert_int_equal(iop_store_open(&a, db, IOP_STORE_READONLY, 1000, &err), IOP_OK);

    /* earlier calls on a: some metrics of three months, a partial period,
     * another dimension */
    static const char *const months[][2] = {{"2026-07-01", "2026-07-31"},
                                            {"2026-08-01", "2026-08-31"},
                                            {"2026-09-01", "2026-09-30"}};
    for (size_t m = 0; m < 3; m++) {
        run(&a, months[m][0], months[m][1], NULL, some, &r);
        iop_rows_release(&r);
    }
    run(&a, "2026-08-10", "2026-09-20", "program", NULL, &r);
    iop_rows_release(&r);
    run(&a, "2026-08-01", "2026-08-31", "site", NULL, &r);
    iop_rows_release(&r);

    /* then, each against a connection of its own: the quarter without a
     * dimension (every month built before, but only for some metrics);
     * by program (August was built by program only inside the partial
     * period, its own segment); by site (August built, July and
     * September not); the partial period again, from its segment */
    static const struct { const char *from, *to, *by; } calls[] = {
        {"2026-07-01", "2026-09-30", NULL},
        {"2026-07-01", "2026-09-30", "program"},
        {"2026-07-01", "2026-09-30", "site"},
        {"2026-08-10", "2026-09-20", "program"},
    };
    for (size_t k = 0; k < sizeof calls / sizeof calls[0]; k++) {
        run(&a, calls[k].from, calls[k].to, calls[k].by, NULL, &warm);
        run_fresh(calls[k].from, calls[k].to, calls[k].by, &fresh);
        assert_true(warm.n > 100);
        assert_same_rows(&warm, &fresh);
        iop_rows_release(&warm);
        iop_rows_release(&fresh);
    }
    iop_store_close(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cached_months_equal_a_fresh_connection),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
