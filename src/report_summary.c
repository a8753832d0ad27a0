/*
 * report_summary.c - the Summary sheet: one row per key figure of the
 * definition (`key NAME WINDOW [pchart]`): this month with its 95% CI and
 * n, last month, the pooled figure of the previous 12 months, the 12-month
 * trend drawn in a cell, the program's target, the national reference
 * where the definition gives one (`national` lines: value and a short
 * label), and a plain-words p-chart flag (metrics.md section 3) or the
 * figure's note. Below it the trend as a colour-scaled strip of 12 cells
 * per figure, and a chart of the percentages.
 *
 * A `month` key takes its columns from the calls of single calendar
 * months; a `12months` key (retention and outcomes) from the 12-month
 * windows ending with this month and with last month, its trend from the
 * windows ending with each of the 12 months, and has no pooled column.
 */
#include <math.h>
#include <string.h>

#include "iop/date.h"
#include "iop/report.h"

enum {
    S_LABEL, S_METRIC, S_WINDOW, S_THIS, S_LOWER, S_UPPER, S_N, S_LAST, S_POOLED, S_TREND,
    S_TARGET, S_STATUS, S_NATIONAL, S_NAT_SOURCE, S_FLAG, S_CALLS, S_NCOLS
};

static const char *const HEADERS[S_NCOLS] = {"Figure", "Metric", "Window", "This month",
    "95% CI lower", "95% CI upper", "n", "Last month", "Previous 12 months (pooled)",
    "Trend, 12 months", "Target", "Against target", "National reference",
    "National reference: which", "Flag (p-chart, previous 12 months)", "Calls"};

/* The Summary's calls: each month and each 12-month window ending with
 * it, and the previous 12 months pooled; a call computes only the sections
 * of the keys that read it. */
int iop_rsummary_plan(iop_rctx *r, iop_rsheet *sh)
{
    char what[64], ym[11];
    for (int k = 1; k <= 12; k++) {
        long from = iop_rmonth_start(r->month_to, 12 - k), to = iop_rmonth_end(r->month_to, 12 - k);
        iop_date_format(from, ym);
        snprintf(what, sizeof what, "Summary: month %.7s", ym);
        r->call_month[k] = iop_rctx_call(r, from, to, "", 0, what, "");
        snprintf(what, sizeof what, "Summary: 12 months to %.7s", ym);
        r->call_year[k] = iop_rctx_call(r, iop_rmonth_start(to, 11), to, "", 0, what, "");
        if (r->call_month[k] < 0 || r->call_year[k] < 0)
            return -1;
    }
    r->call_pooled = iop_rctx_call(r, iop_rmonth_start(r->month_to, 12),
                                   iop_rmonth_end(r->month_to, 1), "", 0,
                                   "Summary: previous 12 months, pooled", "");
    if (r->call_pooled < 0)
        return -1;
    for (size_t i = 0; i < sh->nitems; i++) {
        const iop_ritem *it = &sh->items[i];
        if (it->kind != IOP_RI_KEY)
            continue;
        int year = it->window == IOP_WIN_YEAR;
        for (int k = 1; k <= 12; k++)
            if (iop_rcall_want(&r->calls[year ? r->call_year[k] : r->call_month[k]],
                               it->name) < 0)
                return -1;
        if (!year && iop_rcall_want(&r->calls[r->call_pooled], it->name) < 0)
            return -1;
    }
    return 0;
}

void iop_rspark(const double *v, const int *has, int n, char *out, size_t size)
{
    static const char *const BLOCKS[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
    double lo = INFINITY, hi = -INFINITY;
    size_t k = 0;
    for (int i = 0; i < n; i++)
        if (has[i]) {
            lo = v[i] < lo ? v[i] : lo;
            hi = v[i] > hi ? v[i] : hi;
        }
    out[0] = '\0';
    for (int i = 0; i < n && k + 4 < size; i++) {
        const char *b = "·";
        if (has[i]) /* no range: a flat line, at the bottom for zeros */
            b = BLOCKS[hi > lo ? (int)lround((v[i] - lo) / (hi - lo) * 7) : v[i] == 0 ? 0 : 3];
        k += (size_t)snprintf(out + k, size - k, "%s", b);
    }
}

static const iop_row *key_row(const iop_rctx *r, int call, const char *metric)
{
    return call >= 0 ? iop_rcall_find(&r->calls[call], metric, "all", "all", "") : NULL;
}

/* The plain-words p-chart flag of this month against the pooled rate. */
static void flag(iop_rctx *r, iop_rws *s, int row, const iop_row *now, const iop_row *pool)
{
    char buf[160];
    if (!now || !(now->has & IOP_HAS_EST) || now->n <= 0) {
        iop_rws_str(s, row, S_FLAG, "no data this month", r->f.text);
        return;
    }
    if (!pool || !(pool->has & IOP_HAS_EST)) {
        iop_rws_str(s, row, S_FLAG, "no data in the previous 12 months", r->f.text);
        return;
    }
    double p = pool->estimate, sd = sqrt(p * (1 - p) / (double)now->n);
    double lo = fmax(0, p - 3 * sd), hi = fmin(1, p + 3 * sd);
    if (now->estimate > hi)
        snprintf(buf, sizeof buf, "Unusually high (above %.1f%%)", 100 * hi);
    else if (now->estimate < lo)
        snprintf(buf, sizeof buf, "Unusually low (below %.1f%%)", 100 * lo);
    else
        snprintf(buf, sizeof buf, "Within usual range (%.1f%% to %.1f%%)", 100 * lo, 100 * hi);
    iop_rws_str(s, row, S_FLAG, buf, buf[0] == 'W' ? r->f.wrap : r->f.flag);
}

/* The target, and whether this month meets it unless its figure is
 * suppressed (the answer would bound it). */
static void target(iop_rctx *r, iop_rws *s, int row, const iop_ritem *it, const iop_row *now,
                   iop_rfmt_kind kind, int state)
{
    double t;
    int higher;
    if (!iop_rtarget(r, it->name, "all", &t, &higher))
        return;
    iop_rws_num(s, row, S_TARGET, t, r->f.kind[kind]);
    if (!now || !(now->has & IOP_HAS_EST) || state != IOP_SUP_SHOWN)
        return;
    int met = higher ? now->estimate >= t : now->estimate <= t;
    iop_rws_str(s, row, S_STATUS, met ? "meets target" : "misses target",
                met ? r->f.good : r->f.bad);
}

/* The figure's first national reference as a number, and every one in
 * words: its year and population, and value (the publications are on
 * the Definitions sheet). */
static void national(iop_rctx *r, iop_rws *s, int row, const char *metric, iop_rfmt_kind kind)
{
    const iop_rnational *n = iop_rdef_national(r->def, metric, 0);
    char buf[1400];
    size_t k = 0;

    if (!n)
        return;
    iop_rws_num(s, row, S_NATIONAL, n->value, r->f.kind[kind]);
    buf[0] = '\0';
    for (size_t i = 0; (n = iop_rdef_national(r->def, metric, i)) && k < sizeof buf; i++) {
        char v[48];
        if (kind == IOP_RF_PERCENT)
            snprintf(v, sizeof v, "%.1f%%", 100 * n->value);
        else if (kind == IOP_RF_DAYS)
            snprintf(v, sizeof v, "%g days", n->value);
        else
            snprintf(v, sizeof v, "%g", n->value);
        k += (size_t)snprintf(buf + k, sizeof buf - k, "%s%s: %s", i ? "; " : "", n->label, v);
    }
    iop_rws_str(s, row, S_NAT_SOURCE, buf, r->f.wrap);
}

/* Whether x is suppressed in its own right (no sets on the Summary: its
 * figures are overall rows). */
static int sup_state(const iop_rctx *r, const iop_row *x, iop_rfmt_kind kind)
{
    return iop_rsup_primary(r->o->suppress, x, kind) ? IOP_SUP_PRIMARY : IOP_SUP_SHOWN;
}

/* The 12 values of a key's trend (monthly, or 12-month windows): has[k]
 * when a value may be shown, hidden[k] when it is suppressed. */
static void trend_values(iop_rctx *r, const iop_ritem *it, iop_rfmt_kind kind, double *v,
                         int *has, int *hidden)
{
    for (int k = 1; k <= 12; k++) {
        int call = it->window == IOP_WIN_YEAR ? r->call_year[k] : r->call_month[k];
        const iop_row *x = key_row(r, call, it->name);
        hidden[k - 1] = x && sup_state(r, x, kind) != IOP_SUP_SHOWN;
        has[k - 1] = x && (x->has & IOP_HAS_EST) && !hidden[k - 1];
        v[k - 1] = has[k - 1] ? x->estimate : 0;
    }
}

static void key_line(iop_rctx *r, iop_rws *s, int row, const iop_ritem *it)
{
    const iop_rcat *cat = iop_rdef_cat(r->def, it->name);
    iop_rfmt_kind kind = cat ? cat->kind : IOP_RF_NUMBER;
    int year = it->window == IOP_WIN_YEAR;
    int c_now = year ? r->call_year[12] : r->call_month[12];
    int c_last = year ? r->call_year[11] : r->call_month[11];
    const iop_row *now = key_row(r, c_now, it->name), *last = key_row(r, c_last, it->name);
    const iop_row *pool = year ? NULL : key_row(r, r->call_pooled, it->name);
    char buf[128];
    double v[12];
    int has[12], hidden[12], st = now ? sup_state(r, now, kind) : IOP_SUP_SHOWN;

    iop_rws_str(s, row, S_LABEL, cat ? cat->label : it->name, r->f.label);
    iop_rws_str(s, row, S_METRIC, it->name, r->f.small);
    iop_rws_str(s, row, S_WINDOW, year ? "12 months" : "month", r->f.text);
    if (now) {
        iop_rws_figure(r, s, row, S_THIS, now, kind, IOP_RV_EST, st);
        iop_rws_figure(r, s, row, S_LOWER, now, kind, IOP_RV_LOWER, st);
        iop_rws_figure(r, s, row, S_UPPER, now, kind, IOP_RV_UPPER, st);
        iop_rws_n(r, s, row, S_N, now, st);
    }
    if (last)
        iop_rws_figure(r, s, row, S_LAST, last, kind, IOP_RV_EST, sup_state(r, last, kind));
    if (pool)
        iop_rws_figure(r, s, row, S_POOLED, pool, kind, IOP_RV_EST, sup_state(r, pool, kind));
    trend_values(r, it, kind, v, has, hidden);
    iop_rspark(v, has, 12, buf, sizeof buf);
    iop_rws_str(s, row, S_TREND, buf, r->f.text);
    target(r, s, row, it, now, kind, st);
    national(r, s, row, it->name, kind);
    if (!now)
        iop_rws_str(s, row, S_FLAG, "not computed by this version", r->f.text);
    else if (!(now->has & IOP_HAS_EST) && now->note[0])
        iop_rws_str(s, row, S_FLAG, now->note, r->f.wrap);
    else if (!strcmp(it->arg, "pchart") && !year && st != IOP_SUP_SHOWN)
        iop_rws_str(s, row, S_FLAG, "suppressed", r->f.text);
    else if (!strcmp(it->arg, "pchart") && !year)
        flag(r, s, row, now, pool);
    else if (now->note[0]) /* e.g. "lower and upper are the quartiles" */
        iop_rws_str(s, row, S_FLAG, now->note, r->f.wrap);
    snprintf(buf, sizeof buf, "this C%d; last C%d%s", c_now + 1, c_last + 1, year ? "" : "; pooled C");
    if (!year)
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%d", r->call_pooled + 1);
    iop_rws_str(s, row, S_CALLS, buf, r->f.small);
}

/* The trend strip: a header of months, the calls, one row per key. */
static int trend_table(iop_rctx *r, iop_rws *s, const iop_rsheet *sh, int row)
{
    char buf[32];
    int first;
    iop_rws_str(s, row++, 0, "Trend, 12 months ending with the report month", r->f.label);
    iop_rws_str(s, row, S_LABEL, "Figure", r->f.header);
    iop_rws_str(s, row, S_METRIC, "Metric", r->f.header);
    iop_rws_str(s, row, S_WINDOW, "Window", r->f.header);
    iop_rws_str(s, row + 1, S_WINDOW, "month calls", r->f.small);
    iop_rws_str(s, row + 2, S_WINDOW, "12 months calls", r->f.small);
    for (int k = 1; k <= 12; k++) {
        iop_rws_date(s, row, S_WINDOW + k, r->calls[r->call_month[k]].from, r->f.month);
        snprintf(buf, sizeof buf, "C%d", r->call_month[k] + 1);
        iop_rws_str(s, row + 1, S_WINDOW + k, buf, r->f.small);
        snprintf(buf, sizeof buf, "C%d", r->call_year[k] + 1);
        iop_rws_str(s, row + 2, S_WINDOW + k, buf, r->f.small);
    }
    worksheet_set_row(s->ws, (lxw_row_t)row, LXW_DEF_ROW_HEIGHT, r->f.header);
    row += 3;
    first = row;
    for (size_t i = 0; i < sh->nitems; i++) {
        const iop_ritem *it = &sh->items[i];
        const iop_rcat *cat = iop_rdef_cat(r->def, it->name);
        iop_rfmt_kind kind = cat ? cat->kind : IOP_RF_NUMBER;
        double v[12];
        int has[12], hidden[12];
        char text[32];
        if (it->kind != IOP_RI_KEY)
            continue;
        iop_rws_str(s, row, S_LABEL, cat ? cat->label : it->name, r->f.label);
        iop_rws_str(s, row, S_METRIC, it->name, r->f.small);
        iop_rws_str(s, row, S_WINDOW, it->window == IOP_WIN_YEAR ? "12 months" : "month", r->f.text);
        trend_values(r, it, kind, v, has, hidden);
        for (int k = 0; k < 12; k++)
            if (hidden[k])
                iop_rws_str(s, row, S_WINDOW + 1 + k, iop_rsup_text(r->o->suppress,
                            IOP_SUP_PRIMARY, kind, text, sizeof text), r->f.text);
            else if (has[k])
                iop_rws_num(s, row, S_WINDOW + 1 + k, v[k], r->f.kind[kind]);
        lxw_conditional_format cf = {.type = LXW_CONDITIONAL_2_COLOR_SCALE,
                                     .min_color = 0xFFFFFF, .max_color = 0x5B9BD5};
        worksheet_conditional_format_range(s->ws, (lxw_row_t)row, S_WINDOW + 1, (lxw_row_t)row,
                                           S_WINDOW + 12, &cf);
        row++;
    }
    iop_rws_define(r, s, "trend", first - 3, 0, row - 1, S_WINDOW + 12);
    return row;
}

/* A line chart of the month-window percentages of the trend strip. */
static void trend_chart(iop_rctx *r, iop_rws *s, const iop_rsheet *sh, int first, int row)
{
    lxw_chart *c = workbook_add_chart(r->wb, LXW_CHART_LINE);
    int k = first, nseries = 0;
    chart_title_set_name(c, "12-month trends (monthly rates)");
    for (size_t i = 0; i < sh->nitems; i++) {
        const iop_ritem *it = &sh->items[i];
        const iop_rcat *cat = iop_rdef_cat(r->def, it->name);
        if (it->kind != IOP_RI_KEY)
            continue;
        if (cat && cat->kind == IOP_RF_PERCENT && it->window == IOP_WIN_MONTH && nseries < 6) {
            lxw_chart_series *se = chart_add_series(c, NULL, NULL);
            chart_series_set_categories(se, s->name, (lxw_row_t)first - 3, S_WINDOW + 1,
                                        (lxw_row_t)first - 3, S_WINDOW + 12);
            chart_series_set_values(se, s->name, (lxw_row_t)k, S_WINDOW + 1, (lxw_row_t)k,
                                    S_WINDOW + 12);
            chart_series_set_name(se, cat->label);
            chart_series_set_marker_type(se, LXW_CHART_MARKER_CIRCLE);
            nseries++;
        }
        k++;
    }
    chart_axis_set_num_format(c->y_axis, "0%");
    chart_axis_set_num_format(c->x_axis, "mmm yy");
    chart_legend_set_position(c, LXW_CHART_LEGEND_BOTTOM);
    lxw_chart_options o = {.x_scale = 2.0, .y_scale = 1.4, .object_position = 1};
    worksheet_insert_chart_opt(s->ws, (lxw_row_t)row, 0, c, &o);
}

iop_code iop_rsheet_summary(iop_rctx *r, const iop_rsheet *sh, iop_error *err)
{
    iop_rws s;
    int row = iop_rws_open(r, &s, sh, sh->title), header;
    if (row < 0)
        return iop_error_set(err, IOP_EUSAGE, NULL, 0, 0, "cannot add sheet '%s'", sh->name);
    header = row;
    for (int c = 0; c < S_NCOLS; c++)
        iop_rws_str(&s, row, c, HEADERS[c], r->f.header);
    row++;
    for (size_t i = 0; i < sh->nitems; i++)
        if (sh->items[i].kind == IOP_RI_KEY)
            key_line(r, &s, row++, &sh->items[i]);
    iop_rws_define(r, &s, "key_figures", header, 0, row - 1, S_NCOLS - 1);
    int last = row - 1;
    row = trend_table(r, &s, sh, row + 2);
    trend_chart(r, &s, sh, row - (last - header), row + 1);
    iop_rws_min(&s, S_LABEL, 30);
    for (int c = S_THIS; c <= S_TARGET; c++)
        iop_rws_min(&s, c, 11);
    iop_rws_height(&s, header, 45);
    /* The strip below shares these columns: keep them even, wrap the flag. */
    s.width[S_FLAG] = 30;
    s.width[S_NATIONAL] = 11;
    s.width[S_NAT_SOURCE] = 30;
    s.width[S_CALLS] = 16;
    s.width[S_TREND] = 15;
    iop_rws_finish(r, &s, header, last, S_NCOLS - 1);
    return IOP_OK;
}
