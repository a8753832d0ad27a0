/*
 * metrics_completion.c - metrics.md section 3: completion among the
 * discharges of the period at the level.
 *   completion_rate           completed / discharges, Wilson interval
 *   completion_rate_eligible  the same without transferred, incarcerated
 *                             and death in the denominator
 *   completion_trend          one row per calendar month of the period
 *                             (at = YYYY-MM), then the Cochran-Armitage test
 *                             with score = the month's index (at empty)
 *   completion_test           across the groups of --by: Pearson chi-square
 *                             of completed / not completed, or Fisher's
 *                             exact test for a 2x2 table with an expected
 *                             count below 5
 */
#include <stdlib.h>
#include <string.h>

#include "iop/date.h"
#include "iop/metrics.h"
#include "iop/stats.h"

static const char RATE_SQL[] =
    "SELECT count(*), total(e.discharge_reason = 'completed'),"
    " total(e.discharge_reason NOT IN ('transferred', 'incarcerated', 'death'))"
    " FROM facts AS e WHERE e.level_of_care = ?3 AND e.end_date BETWEEN ?1 AND ?2"
    " AND e.discharge_date BETWEEN ?1 AND ?2"
    " AND (?4 IS NULL OR $GROUP = ?4)";

static const char MONTH_SQL[] =
    "SELECT substr(e.discharge_date, 1, 7), count(*), total(e.discharge_reason = 'completed')"
    " FROM facts AS e WHERE e.level_of_care = ?3 AND e.end_date BETWEEN ?1 AND ?2"
    " AND e.discharge_date BETWEEN ?1 AND ?2"
    " AND (?4 IS NULL OR $GROUP = ?4) GROUP BY 1 ORDER BY 1";

static const char GROUP_SQL[] =
    "SELECT $GROUP, count(*), total(e.discharge_reason = 'completed')"
    " FROM facts AS e WHERE e.level_of_care = ?3 AND e.end_date BETWEEN ?1 AND ?2"
    " AND e.discharge_date BETWEEN ?1 AND ?2"
    " GROUP BY 1 ORDER BY 1";

static iop_code rates(const iop_mctx *c, const char *group, iop_rows *rows, iop_error *err)
{
    sqlite3_stmt *st;
    iop_code rc = iop_mctx_row_grouped(c, RATE_SQL, group, &st, err);
    iop_row *r;

    if (rc != IOP_OK)
        return rc;
    long n = sqlite3_column_int64(st, 0);
    long done = (long)sqlite3_column_double(st, 1);
    long eligible = (long)sqlite3_column_double(st, 2);
    sqlite3_finalize(st);
    if (!(r = iop_rows_add(rows, c, "completion_rate", group)))
        return iop_metrics_nomem(err);
    iop_row_share(r, done, n);
    if (!(r = iop_rows_add(rows, c, "completion_rate_eligible", group)))
        return iop_metrics_nomem(err);
    iop_row_share(r, done, eligible);
    return IOP_OK;
}

/* The calendar months of the period: index of "YYYY-MM" from 1, or 0. */
static int month_index(const iop_mctx *c, const char *ym)
{
    int y0, m0, y, m;
    iop_date_to_ymd(c->from, &y0, &m0, NULL);
    if (sscanf(ym, "%4d-%2d", &y, &m) != 2)
        return 0;
    return (y - y0) * 12 + (m - m0) + 1;
}

static iop_code trend(const iop_mctx *c, const char *group, iop_rows *rows, iop_error *err)
{
    sqlite3_stmt *st;
    size_t x[1300], n[1300], k = 0;
    double score[1300];
    iop_stats_test t;
    iop_row *r;
    iop_code rc = iop_mctx_prepare_grouped(c, MONTH_SQL, group, &st, err);

    while (rc == IOP_OK && sqlite3_step(st) == SQLITE_ROW && k < 1300) {
        const char *ym = (const char *)sqlite3_column_text(st, 0);
        n[k] = (size_t)sqlite3_column_int64(st, 1);
        x[k] = (size_t)sqlite3_column_double(st, 2);
        score[k] = month_index(c, ym);
        if (!(r = iop_rows_add(rows, c, "completion_trend", group)))
            rc = iop_metrics_nomem(err);
        else {
            iop_row_share(r, (long)x[k], (long)n[k]);
            iop_row_at(r, "%s", ym);
        }
        k++;
    }
    sqlite3_finalize(st);
    if (rc != IOP_OK)
        return rc;
    if (!(r = iop_rows_add(rows, c, "completion_trend", group)))
        return iop_metrics_nomem(err);
    for (size_t i = 0; i < k; i++)
        r->n += (long)n[i];
    if (iop_stats_trend(x, n, score, k, &t) == IOP_STATS_OK)
        iop_row_test(r, t.statistic, t.df, t.p_value);
    else
        iop_row_note(r, "trend test not estimable (fewer than two months with discharges, or a rate of 0 or 1 throughout)");
    return IOP_OK;
}

static iop_code figures(const iop_mctx *c, const char *group, iop_rows *rows, iop_error *err)
{
    iop_code rc = rates(c, group, rows, err);
    return rc == IOP_OK ? trend(c, group, rows, err) : rc;
}

/* Writes the test of a groups x (completed, not) table into r. */
static void test_table(iop_row *r, const size_t *tab, size_t ng)
{
    iop_stats_chisq_result chi;
    double expected[2 * 64];
    iop_stats_test f;

    if (ng < 2 || iop_stats_chisq(tab, ng, 2, &chi, ng <= 64 ? expected : NULL) != IOP_STATS_OK) {
        iop_row_note(r, "not estimable: fewer than two groups with discharges, or no completion (or all)");
        return;
    }
    if (ng == 2 && chi.min_expected < 5 && iop_stats_fisher(tab, &f) == IOP_STATS_OK) {
        r->p_value = f.p_value;
        r->has |= IOP_HAS_P;
        iop_row_note(r, "Fisher's exact test (an expected count below 5)");
        return;
    }
    iop_row_test(r, chi.statistic, chi.df, chi.p_value);
    if (chi.cells_expected_below5)
        iop_row_note(r, "Pearson chi-square; %.0f%% of cells have an expected count below 5",
                     100.0 * chi.share_expected_below5);
    else
        iop_row_note(r, "Pearson chi-square");
}

/* Groups with no discharges are left out of the table. */
static iop_code tests(const iop_mctx *c, iop_rows *rows, iop_error *err)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 64, ng = 0, *tab = malloc(2 * cap * sizeof *tab);
    long total = 0;
    iop_code rc = tab ? iop_mctx_prepare(c, GROUP_SQL, NULL, &st, err) : iop_metrics_nomem(err);

    while (rc == IOP_OK && sqlite3_step(st) == SQLITE_ROW) {
        if (ng == cap) {
            size_t *t = realloc(tab, 2 * (cap *= 2) * sizeof *t);
            if (!t) {
                rc = iop_metrics_nomem(err);
                break;
            }
            tab = t;
        }
        size_t n = (size_t)sqlite3_column_int64(st, 1), x = (size_t)sqlite3_column_double(st, 2);
        tab[2 * ng] = x;
        tab[2 * ng + 1] = n - x;
        total += (long)n;
        ng++;
    }
    sqlite3_finalize(st);
    iop_row *r = rc == IOP_OK ? iop_rows_add(rows, c, "completion_test", "all") : NULL;
    if (rc == IOP_OK && !r)
        rc = iop_metrics_nomem(err);
    if (r) {
        snprintf(r->dimension, sizeof r->dimension, "%s", c->by);
        r->n = total;
        test_table(r, tab, ng);
    }
    free(tab);
    return rc;
}

/* The metrics this section writes (the frame checks every row). */
static const char *const METRICS[] = {
    "completion_rate", "completion_rate_eligible", "completion_test",
    "completion_trend", NULL,
};

const iop_section iop_section_completion = {"completion", figures, tests, METRICS};
