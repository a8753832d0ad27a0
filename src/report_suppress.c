/*
 * report_suppress.c - small-cell suppression of the workbook under
 * `--suppress N` (metrics.md, "Small-cell suppression";
 * docs/report-monthly.md, "--suppress N").
 *
 * Input: the figure rows of one section sheet in table order, each with
 * the call it came from and its catalogue format, and the sheet's `parts`
 * lines. Output: a state per row: shown, primarily suppressed (a count
 * from 1 to N-1, or a rate whose n or numerator is) or complementarily
 * suppressed. Only counts and rates are ever suppressed.
 *
 * Complementary suppression works on sets: rows whose counts add up to a
 * total the sheet prints, so that one hidden row could be recovered by
 * subtraction. Within one metric of one call:
 *   groups       the group rows with the same `at` against the "all" row
 *                with that `at` (a by-group table);
 *   at parts     the rows of one group with an `at` (weeks, files,
 *                months) against the group's row without one;
 *   transitions  the rows leaving one level ("2.1>1.0", "2.1>3.5", ...):
 *                shares of that level's n (the step-down matrix's rows).
 * Across metrics of one call, a definition line `parts TOTAL PART...`:
 * the parts' rows of one group and `at` against TOTAL's row, or, with
 * TOTAL `n`, shares of the n they have in common.
 *
 * While a set whose total is printed has exactly one suppressed row, its
 * shown row with the smallest non-zero count (the first in table order
 * on a tie) is suppressed as well. The count of a row is its value for a
 * count, its n for a rate, and its numerator in a set of shares (their n
 * is the total). Hiding a row can leave another set with a single hidden
 * row, so the passes repeat until none changes.
 *
 * Limits: a count is the figure's own n, not distinct clients; sets do
 * not span calls or sheets; and a reader who knows the rule can still
 * bound a hidden cell by the others.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iop/report.h"

enum { NO_TOTAL = -1 };

/* A set: rows[mem[first .. first + n)] against rows[total], or shares of
 * one n (total NO_TOTAL). */
typedef struct rset {
    long total;
    size_t first, n;
} rset;

typedef struct rsets {
    rset *v;
    size_t n, cap;
    size_t *mem;
    size_t nmem, capmem;
    int nomem;
} rsets;

static long numerator(const iop_row *x)
{
    return lround(x->estimate * (double)x->n);
}

int iop_rsup_primary(long N, const iop_row *x, iop_rfmt_kind kind)
{
    if (N <= 1 || !(x->has & IOP_HAS_EST))
        return 0;
    if (kind == IOP_RF_COUNT) {
        long v = lround(x->estimate);
        return v >= 1 && v < N;
    }
    if (kind == IOP_RF_PERCENT) {
        long num = numerator(x);
        return (x->n >= 1 && x->n < N) || (num >= 1 && num < N);
    }
    return 0;
}

static int same(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

static int countable(const iop_rsrow *w)
{
    return w->kind == IOP_RF_COUNT || w->kind == IOP_RF_PERCENT;
}

static int is_total(const iop_row *x)
{
    return same(x->dimension, "all") && same(x->group, "all");
}

static int is_group(const iop_row *x)
{
    return !same(x->dimension, "all") && !same(x->group, "all");
}

static int same_cell(const iop_row *a, const iop_row *b)
{
    return same(a->dimension, b->dimension) && same(a->group, b->group) && same(a->at, b->at);
}

/* The level a transition leaves ("2.1" of "2.1>1.0"): its length, 0 when
 * at is not a transition. */
static size_t leaves(const char *at)
{
    const char *gt = strchr(at, '>');
    return gt && gt > at ? (size_t)(gt - at) : 0;
}

static int same_leaving(const iop_row *a, const iop_row *b)
{
    size_t k = leaves(a->at);
    return k && k == leaves(b->at) && strncmp(a->at, b->at, k) == 0 &&
           same(a->dimension, b->dimension) && same(a->group, b->group);
}

/* Whether metric is one of the words of list. */
static int listed(const char *list, const char *metric)
{
    size_t k = strlen(metric);
    for (const char *p = list; (p = strstr(p, metric)) != NULL; p += k)
        if ((p == list || p[-1] == ' ') && (p[k] == ' ' || p[k] == '\0'))
            return 1;
    return 0;
}

/* ---- building the sets ------------------------------------------------ */

static void open_set(rsets *S, long total)
{
    if (S->n == S->cap) {
        size_t cap = S->cap ? 2 * S->cap : 64;
        rset *v = realloc(S->v, cap * sizeof *v);
        if (!v) {
            S->nomem = 1;
            return;
        }
        S->v = v;
        S->cap = cap;
    }
    S->v[S->n] = (rset){.total = total, .first = S->nmem, .n = 0};
}

static void add_member(rsets *S, size_t row)
{
    if (S->nomem)
        return;
    if (S->nmem == S->capmem) {
        size_t cap = S->capmem ? 2 * S->capmem : 256;
        size_t *v = realloc(S->mem, cap * sizeof *v);
        if (!v) {
            S->nomem = 1;
            return;
        }
        S->mem = v;
        S->capmem = cap;
    }
    S->mem[S->nmem++] = row;
    S->v[S->n].n++;
}

/* Keeps the open set when it has members enough to hide one by another. */
static void close_set(rsets *S)
{
    if (S->nomem)
        return;
    rset *t = &S->v[S->n];
    if (t->n >= (t->total == NO_TOTAL ? 2u : 1u))
        S->n++;
    else
        S->nmem = t->first;
}

/* The sets inside one metric's rows [a, z) of one call. */
static void metric_sets(rsets *S, const iop_rsrow *rows, size_t a, size_t z)
{
    for (size_t i = a; i < z && !S->nomem; i++) {
        const iop_row *x = rows[i].x;
        if (!countable(&rows[i]))
            continue;
        if (is_total(x)) {
            open_set(S, (long)i);
            for (size_t j = a; j < z; j++)
                if (is_group(rows[j].x) && same(rows[j].x->at, x->at))
                    add_member(S, j);
            close_set(S);
        }
        if (!x->at[0]) {
            open_set(S, (long)i);
            for (size_t j = a; j < z; j++)
                if (j != i && rows[j].x->at[0] && !leaves(rows[j].x->at) &&
                    same(rows[j].x->dimension, x->dimension) && same(rows[j].x->group, x->group))
                    add_member(S, j);
            close_set(S);
        }
        int first = leaves(x->at) != 0;
        for (size_t j = a; j < i && first; j++)
            first = !same_leaving(rows[j].x, x);
        if (first) {
            open_set(S, NO_TOTAL);
            for (size_t j = i; j < z; j++)
                if (same_leaving(rows[j].x, x))
                    add_member(S, j);
            close_set(S);
        }
    }
}

/* The sets of one `parts TOTAL PART...` line. */
static void parts_sets(rsets *S, const iop_ritem *it, const iop_rsrow *rows, size_t n)
{
    int shares = same(it->name, "n");
    for (size_t i = 0; i < n && !S->nomem; i++) {
        const iop_row *x = rows[i].x;
        if (!countable(&rows[i]))
            continue;
        if (shares) {
            int first = listed(it->text, x->metric);
            for (size_t j = 0; j < i && first; j++)
                first = !(rows[j].call == rows[i].call && listed(it->text, rows[j].x->metric) &&
                          same_cell(rows[j].x, x));
            if (!first)
                continue;
            open_set(S, NO_TOTAL);
        } else if (same(x->metric, it->name)) {
            open_set(S, (long)i);
        } else {
            continue;
        }
        for (size_t j = shares ? i : 0; j < n; j++)
            if (rows[j].call == rows[i].call && listed(it->text, rows[j].x->metric) &&
                same_cell(rows[j].x, x) && (!shares || rows[j].x->n == x->n))
                add_member(S, j);
        close_set(S);
    }
}

/* ---- marking ----------------------------------------------------------- */

/* One pass over set t: hides the smallest shown member when exactly one
 * is hidden and the total is printed. Returns 1 when it hid one. */
static int complete(const rsets *S, const rset *t, iop_rsrow *rows)
{
    size_t hidden = 0, best = SIZE_MAX;
    long least = 0;
    if (t->total != NO_TOTAL && rows[t->total].state != IOP_SUP_SHOWN)
        return 0;
    for (size_t k = t->first; k < t->first + t->n; k++) {
        const iop_rsrow *w = &rows[S->mem[k]];
        if (w->state != IOP_SUP_SHOWN) {
            hidden++;
            continue;
        }
        if (!countable(w) || !(w->x->has & IOP_HAS_EST))
            continue;
        long c = t->total == NO_TOTAL ? numerator(w->x)
               : w->kind == IOP_RF_COUNT ? lround(w->x->estimate) : w->x->n;
        if (c > 0 && (best == SIZE_MAX || c < least)) {
            best = S->mem[k];
            least = c;
        }
    }
    if (hidden != 1 || best == SIZE_MAX)
        return 0;
    rows[best].state = IOP_SUP_COMPLEMENT;
    return 1;
}

iop_code iop_rsup_mark(long N, const iop_rsheet *sh, iop_rsrow *rows, size_t n)
{
    rsets S;
    memset(&S, 0, sizeof S);
    for (size_t i = 0; i < n; i++)
        rows[i].state = iop_rsup_primary(N, rows[i].x, rows[i].kind) ? IOP_SUP_PRIMARY
                                                                     : IOP_SUP_SHOWN;
    if (N <= 1)
        return IOP_OK;
    for (size_t a = 0, z; a < n; a = z) {
        for (z = a + 1; z < n && rows[z].call == rows[a].call &&
             same(rows[z].x->metric, rows[a].x->metric); z++)
            ;
        metric_sets(&S, rows, a, z);
    }
    for (size_t i = 0; sh && i < sh->nitems; i++)
        if (sh->items[i].kind == IOP_RI_PARTS)
            parts_sets(&S, &sh->items[i], rows, n);
    for (int changed = !S.nomem; changed;) {
        changed = 0;
        for (size_t k = 0; k < S.n; k++)
            changed |= complete(&S, &S.v[k], rows);
    }
    free(S.v);
    free(S.mem);
    return S.nomem ? IOP_ENOMEM : IOP_OK;
}

const char *iop_rsup_text(long N, int state, iop_rfmt_kind kind, char *buf, size_t size)
{
    if (state == IOP_SUP_PRIMARY && kind == IOP_RF_COUNT) {
        snprintf(buf, size, "<%ld", N);
        return buf;
    }
    return "suppressed";
}
