/*
 * report_charts.c - the charts of a section sheet, drawn from the rows
 * its table already holds (docs/report-monthly.md, "Charts").
 *
 * A `chart TYPE METRIC TITLE` line of the definition names a type:
 *   curve    a line per group over `at` (km_curve, cif_dropout_curve)
 *   ci       the estimate per group with its 95% CI as high-low lines
 *            (libxlsxwriter 1.1.4 has no per-point custom error bars)
 *   column   the estimate per group
 *   trend    the estimate over `at` months (completion_trend)
 *   heatmap  the level-to-level matrix of transition_count, colour-scaled
 *   hours    weekly hours per group against the ASAM minimums (9 hours for
 *            adults, 6 for adolescents: a group may hold either)
 *   prepost  baseline and last means of instruments "phq9+gad7"
 * Heat map, hours and prepost write a small labelled block of cells
 * (copies of table figures) at the anchor, then the chart beside it.
 * Each returns the number of slots (22 rows each) it used, 0 for none.
 */
#include <stdlib.h>
#include <string.h>

#include "iop/report.h"

enum { SLOT = 22, MAXSERIES = 8 };

/* Row k of a block: the metric's rows in table order (a call writes a
 * metric's "all" rows and its groups' rows apart, so they are not
 * contiguous in the call). */
static const iop_row *brow(const iop_rblock *b, int k)
{
    return b->sup[k].x;
}

static lxw_chart *new_chart(iop_rctx *r, uint8_t type, const char *title)
{
    lxw_chart *c = workbook_add_chart(r->wb, type);
    if (!c)
        return NULL;
    chart_title_set_name(c, title);
    chart_legend_set_position(c, LXW_CHART_LEGEND_BOTTOM);
    return c;
}

static int place(iop_rws *s, lxw_chart *c, int row, int col)
{
    lxw_chart_options o = {.x_scale = 1.35, .y_scale = 1.45, .object_position = 1};
    worksheet_insert_chart_opt(s->ws, (lxw_row_t)row, (lxw_col_t)col, c, &o);
    return 1;
}

/* Runs of rows in the block with the same group: at[i] set. */
static int curve(iop_rctx *r, iop_rws *s, const iop_ritem *it, const iop_rblock *b, int row,
                 int col)
{
    lxw_chart *c = new_chart(r, LXW_CHART_SCATTER_STRAIGHT, it->text);
    int k = 0, nseries = 0;
    if (!c || !b->nsup)
        return 0;
    while (k <= b->last - b->first && nseries < MAXSERIES) {
        int j = k;
        while (j + 1 <= b->last - b->first && !strcmp(brow(b, j + 1)->group, brow(b, k)->group))
            j++;
        if (brow(b, k)->at[0]) {
            lxw_chart_series *se = chart_add_series(c, NULL, NULL);
            chart_series_set_categories(se, s->name, (lxw_row_t)(b->first + k), IOP_RC_AT,
                                        (lxw_row_t)(b->first + j), IOP_RC_AT);
            chart_series_set_values(se, s->name, (lxw_row_t)(b->first + k), IOP_RC_EST,
                                    (lxw_row_t)(b->first + j), IOP_RC_EST);
            chart_series_set_name(se, brow(b, k)->group);
            nseries++;
        }
        k = j + 1;
    }
    chart_axis_set_name(c->x_axis, "days since admission");
    chart_axis_set_num_format(c->y_axis, "0%");
    chart_axis_set_min(c->y_axis, 0);
    chart_axis_set_max(c->y_axis, 1);
    return place(s, c, row, col);
}

/* The contiguous rows of groups (not "all", no `at`): [*a, *z]. */
static int group_rows(const iop_rblock *b, int *a, int *z)
{
    *a = -1;
    for (int k = 0; b->nsup && k <= b->last - b->first; k++) {
        const iop_row *x = brow(b, k);
        int is_group = strcmp(x->dimension, "all") && strcmp(x->group, "all") && !x->at[0];
        if (is_group && *a < 0)
            *a = k;
        if (is_group)
            *z = k;
        else if (*a >= 0)
            break;
    }
    return *a >= 0;
}

static lxw_chart_series *series(lxw_chart *c, iop_rws *s, const iop_rblock *b, int a, int z,
                                int col, const char *name)
{
    lxw_chart_series *se = chart_add_series(c, NULL, NULL);
    chart_series_set_categories(se, s->name, (lxw_row_t)(b->first + a), IOP_RC_GROUP,
                                (lxw_row_t)(b->first + z), IOP_RC_GROUP);
    chart_series_set_values(se, s->name, (lxw_row_t)(b->first + a), (lxw_col_t)col,
                            (lxw_row_t)(b->first + z), (lxw_col_t)col);
    chart_series_set_name(se, name);
    return se;
}

static int ci(iop_rctx *r, iop_rws *s, const iop_ritem *it, const iop_rblock *b, int row, int col)
{
    int a, z;
    lxw_chart_line none = {.none = 1}, hl = {.color = 0x1F3864, .width = 1.5};
    if (!group_rows(b, &a, &z))
        return 0;
    lxw_chart *c = new_chart(r, LXW_CHART_LINE, it->text);
    lxw_chart_series *est = series(c, s, b, a, z, IOP_RC_EST, "estimate");
    chart_series_set_line(est, &none);
    chart_series_set_marker_type(est, LXW_CHART_MARKER_DIAMOND);
    chart_series_set_marker_size(est, 9);
    lxw_chart_series *lo = series(c, s, b, a, z, IOP_RC_LOWER, "95% CI lower");
    lxw_chart_series *hi = series(c, s, b, a, z, IOP_RC_UPPER, "95% CI upper");
    chart_series_set_line(lo, &none);
    chart_series_set_line(hi, &none);
    chart_series_set_marker_type(lo, LXW_CHART_MARKER_NONE);
    chart_series_set_marker_type(hi, LXW_CHART_MARKER_NONE);
    chart_set_high_low_lines(c, &hl);
    chart_axis_set_num_format(c->y_axis, "0%");
    chart_axis_set_min(c->y_axis, 0);
    chart_axis_set_max(c->y_axis, 1);
    return place(s, c, row, col);
}

/* A series' name for a reader: the metric's label from the catalogue. */
static const char *label_of(const iop_rctx *r, const char *metric)
{
    const iop_rcat *c = iop_rdef_cat(r->def, metric);
    return c ? c->label : metric;
}

static int column(iop_rctx *r, iop_rws *s, const iop_ritem *it, const iop_rblock *b, int row,
                  int col)
{
    int a, z;
    if (!group_rows(b, &a, &z))
        return 0;
    lxw_chart *c = new_chart(r, LXW_CHART_COLUMN, it->text);
    series(c, s, b, a, z, IOP_RC_EST, label_of(r, it->arg));
    chart_legend_set_position(c, LXW_CHART_LEGEND_NONE);
    return place(s, c, row, col);
}

/* The rows with an `at`, overall only. */
static int trend(iop_rctx *r, iop_rws *s, const iop_ritem *it, const iop_rblock *b, int row,
                 int col)
{
    int a = -1, z = -1;
    for (int k = 0; b->nsup && k <= b->last - b->first; k++) {
        if (strcmp(brow(b, k)->dimension, "all") || !brow(b, k)->at[0])
            continue;
        if (a < 0)
            a = k;
        z = k;
    }
    if (a < 0)
        return 0;
    lxw_chart *c = new_chart(r, LXW_CHART_LINE, it->text);
    lxw_chart_series *se = chart_add_series(c, NULL, NULL);
    chart_series_set_categories(se, s->name, (lxw_row_t)(b->first + a), IOP_RC_AT,
                                (lxw_row_t)(b->first + z), IOP_RC_AT);
    chart_series_set_values(se, s->name, (lxw_row_t)(b->first + a), IOP_RC_EST,
                            (lxw_row_t)(b->first + z), IOP_RC_EST);
    chart_series_set_name(se, label_of(r, it->arg));
    chart_series_set_marker_type(se, LXW_CHART_MARKER_CIRCLE);
    chart_legend_set_position(c, LXW_CHART_LEGEND_NONE);
    if (strlen(brow(b, a)->at) == 7 && brow(b, a)->at[4] == '-')
        chart_axis_set_num_format(c->x_axis, "mmm yy");
    else
        chart_axis_set_name(c->x_axis, "week of treatment");
    chart_axis_set_num_format(c->y_axis, "0%");
    return place(s, c, row, col);
}

/* hours: a block Group | mean weekly hours | ASAM minimum for adults |
 * for adolescents, and a chart with both minimums as lines: a program's
 * clients may be adults, adolescents or both, and the figure
 * asam_hours_met applies each client's own. */
static int hours(iop_rctx *r, iop_rws *s, const iop_ritem *it, const iop_rblock *b, int row,
                 int col)
{
    static const struct {
        const char *header, *series;
        double hours;
        unsigned color;
        uint8_t dash;
    } MIN[] = {
        {"ASAM minimum (adults)", "ASAM minimum, 9 hours (adults)", 9, 0xC00000,
         LXW_CHART_LINE_DASH_DASH},
        {"ASAM minimum (adolescents)", "ASAM minimum, 6 hours (adolescents)", 6, 0xED7D31,
         LXW_CHART_LINE_DASH_ROUND_DOT},
    };
    int a, z, k = row + 1;
    if (!b->nsup)
        return 0;
    if (!group_rows(b, &a, &z))
        a = z = 0;
    iop_rws_str(s, row, col, "Group", r->f.header);
    iop_rws_str(s, row, col + 1, "Mean weekly hours", r->f.header);
    for (int j = 0; j < 2; j++)
        iop_rws_str(s, row, col + 2 + j, MIN[j].header, r->f.header);
    for (int i = a; i <= z; i++, k++) {
        iop_rws_str(s, k, col, brow(b, i)->group, r->f.text);
        if (brow(b, i)->has & IOP_HAS_EST)
            iop_rws_num(s, k, col + 1, brow(b, i)->estimate, r->f.kind[IOP_RF_HOURS]);
        for (int j = 0; j < 2; j++)
            iop_rws_num(s, k, col + 2 + j, MIN[j].hours, r->f.kind[IOP_RF_HOURS]);
    }
    /* No combined charts in libxlsxwriter 1.1.4: a line chart whose
     * hours series is markers only, against the minimums as lines. */
    lxw_chart_line none = {.none = 1};
    lxw_chart *c = new_chart(r, LXW_CHART_LINE, it->text);
    lxw_chart_series *h = chart_add_series(c, NULL, NULL);
    chart_series_set_line(h, &none);
    chart_series_set_marker_type(h, LXW_CHART_MARKER_SQUARE);
    chart_series_set_marker_size(h, 9);
    chart_series_set_categories(h, s->name, (lxw_row_t)row + 1, (lxw_col_t)col, (lxw_row_t)k - 1, (lxw_col_t)col);
    chart_series_set_values(h, s->name, (lxw_row_t)row + 1, (lxw_col_t)col + 1, (lxw_row_t)k - 1, (lxw_col_t)col + 1);
    chart_series_set_name(h, "mean weekly hours");
    for (int j = 0; j < 2; j++) {
        lxw_chart_line line = {.color = MIN[j].color, .width = 2, .dash_type = MIN[j].dash};
        lxw_chart_series *m = chart_add_series(c, NULL, NULL);
        chart_series_set_line(m, &line);
        chart_series_set_marker_type(m, LXW_CHART_MARKER_NONE);
        chart_series_set_categories(m, s->name, (lxw_row_t)row + 1, (lxw_col_t)col, (lxw_row_t)k - 1, (lxw_col_t)col);
        chart_series_set_values(m, s->name, (lxw_row_t)row + 1, (lxw_col_t)col + 2 + j,
                                (lxw_row_t)k - 1, (lxw_col_t)col + 2 + j);
        chart_series_set_name(m, MIN[j].series);
    }
    chart_axis_set_min(c->y_axis, 0);
    return place(s, c, k + 1, col) + (k - row + 2) / SLOT;
}

int iop_rchart_add(iop_rctx *r, iop_rws *s, const iop_rsheet *sh, const iop_ritem *it,
                   const iop_rblock *b, int row, int col)
{
    if (!strcmp(it->name, "prepost"))
        return iop_rchart_prepost(r, s, sh, it, row, col);
    if (!b)
        return 0;
    if (!strcmp(it->name, "curve"))
        return curve(r, s, it, b, row, col);
    if (!strcmp(it->name, "ci"))
        return ci(r, s, it, b, row, col);
    if (!strcmp(it->name, "column"))
        return column(r, s, it, b, row, col);
    if (!strcmp(it->name, "trend"))
        return trend(r, s, it, b, row, col);
    if (!strcmp(it->name, "hours"))
        return hours(r, s, it, b, row, col);
    if (!strcmp(it->name, "heatmap"))
        return iop_rchart_heatmap(r, s, it, b, row, col);
    return 0;
}

/* ---- blocks of cells with a chart ------------------------------------- */

typedef struct level { char code[16]; double intensity; } level;

static int by_intensity(const void *a, const void *b)
{
    const level *x = a, *y = b;
    if (x->intensity != y->intensity)
        return x->intensity < y->intensity ? 1 : -1;
    return strcmp(x->code, y->code);
}

/* Adds code to the list once; returns its index or -1 when full. */
static int add_level(iop_rctx *r, level *v, int *n, const char *code)
{
    sqlite3_stmt *st;
    for (int i = 0; i < *n; i++)
        if (!strcmp(v[i].code, code))
            return i;
    if (*n >= 24)
        return -1;
    snprintf(v[*n].code, sizeof v[*n].code, "%s", code);
    v[*n].intensity = 0;
    if (sqlite3_prepare_v2(r->db, "SELECT intensity FROM levels WHERE code = ?1", -1, &st,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            v[*n].intensity = sqlite3_column_double(st, 0);
    }
    sqlite3_finalize(st);
    return (*n)++;
}

static int level_index(const level *v, int n, const char *code)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(v[i].code, code))
            return i;
    return -1;
}

/* The overall rows of the block with at = "FROM>TO": their levels. */
static int matrix_levels(iop_rctx *r, const iop_rblock *b, level *v)
{
    int n = 0;
    char from[16], to[16];
    for (size_t k = 0; k < b->nsup; k++) {
        const iop_row *x = b->sup[k].x;
        if (strcmp(x->dimension, "all") || sscanf(x->at, "%15[^>]>%15s", from, to) != 2)
            continue;
        add_level(r, v, &n, from);
        add_level(r, v, &n, to);
    }
    qsort(v, (size_t)n, sizeof *v, by_intensity);
    return n;
}

/* A cell of the matrix and its row's discharges, suppressed as the
 * table row they copy (the discharges are the row's total: "<N" when
 * they are 1 to N-1). */
static void matrix_cell(iop_rctx *r, iop_rws *s, int row, int col, int total_col,
                        const iop_rsrow *w)
{
    const iop_row *x = w->x;
    if (!(x->has & IOP_HAS_EST))
        return;
    if (w->state == IOP_SUP_SHOWN)
        iop_rws_num(s, row, col, x->estimate, r->f.kind[IOP_RF_PERCENT]);
    else
        iop_rws_str(s, row, col, "suppressed", r->f.text);
    iop_rws_n(r, s, row, total_col, x,
              x->n >= 1 && x->n < r->o->suppress ? IOP_SUP_PRIMARY : IOP_SUP_SHOWN);
}

int iop_rchart_heatmap(iop_rctx *r, iop_rws *s, const iop_ritem *it, const iop_rblock *b,
                       int row, int col)
{
    level v[24];
    char from[16], to[16];
    int n = matrix_levels(r, b, v);
    if (n == 0)
        return 0;
    iop_rws_str(s, row, col, it->text, r->f.label);
    iop_rws_str(s, row + 1, col, "from \\ to", r->f.header);
    for (int i = 0; i < n; i++) {
        iop_rws_str(s, row + 1, col + 1 + i, v[i].code, r->f.header);
        iop_rws_str(s, row + 2 + i, col, v[i].code, r->f.label);
    }
    iop_rws_str(s, row + 1, col + 1 + n, "transitions", r->f.header);
    for (size_t k = 0; k < b->nsup; k++) {
        const iop_row *x = b->sup[k].x;
        if (strcmp(x->dimension, "all") || sscanf(x->at, "%15[^>]>%15s", from, to) != 2)
            continue;
        int i = level_index(v, n, from), j = level_index(v, n, to);
        if (i >= 0 && j >= 0)
            matrix_cell(r, s, row + 2 + i, col + 1 + j, col + 1 + n, &b->sup[k]);
    }
    lxw_conditional_format cf = {.type = LXW_CONDITIONAL_3_COLOR_SCALE,
        .min_color = 0xFFFFFF, .mid_color = 0x9DC3E6, .max_color = 0x1F4E79};
    worksheet_conditional_format_range(s->ws, (lxw_row_t)row + 2, (lxw_col_t)col + 1,
                                       (lxw_row_t)(row + 1 + n), (lxw_col_t)(col + n), &cf);
    iop_rws_str(s, row + 3 + n, col, "Each row: a level's transitions (its discharges followed "
                "by a next episode within the continuity window), shared out by the level of that "
                "episode; discharges without one are not counted here. Darker = more.",
                r->f.small);
    return 1 + (n + 4) / SLOT;
}

/* Finds the overall row of metric in the sheet's call that lists it. */
static const iop_row *sheet_row(iop_rctx *r, const iop_rsheet *sh, const char *metric, int *call)
{
    for (size_t i = 0; i < sh->nitems; i++) {
        const iop_ritem *x = &sh->items[i];
        if (x->kind == IOP_RI_METRIC && !strcmp(x->name, metric) && x->call >= 0) {
            *call = x->call;
            return iop_rcall_find(&r->calls[x->call], metric, "all", "all", "");
        }
    }
    return NULL;
}

int iop_rchart_prepost(iop_rctx *r, iop_rws *s, const iop_rsheet *sh, const iop_ritem *it,
                       int row, int col)
{
    char list[64], name[96], buf[32];
    int k = row + 1, call = -1;
    snprintf(list, sizeof list, "%s", it->arg);
    iop_rws_str(s, row, col, "Instrument", r->f.header);
    iop_rws_str(s, row, col + 1, "Baseline mean", r->f.header);
    iop_rws_str(s, row, col + 2, "Last mean", r->f.header);
    iop_rws_str(s, row, col + 3, "Call", r->f.header);
    for (char *save = NULL, *p = strtok_r(list, "+", &save); p; p = strtok_r(NULL, "+", &save)) {
        snprintf(name, sizeof name, "%s_baseline_mean", p);
        const iop_row *base = sheet_row(r, sh, name, &call);
        snprintf(name, sizeof name, "%s_last_mean", p);
        const iop_row *last = sheet_row(r, sh, name, &call);
        for (char *q = p; *q; q++)
            *q = (char)(*q >= 'a' && *q <= 'z' ? *q - 32 : *q);
        iop_rws_str(s, k, col, p, r->f.text);
        if (base && (base->has & IOP_HAS_EST))
            iop_rws_num(s, k, col + 1, base->estimate, r->f.kind[IOP_RF_SCORE]);
        if (last && (last->has & IOP_HAS_EST))
            iop_rws_num(s, k, col + 2, last->estimate, r->f.kind[IOP_RF_SCORE]);
        snprintf(buf, sizeof buf, "C%d", call + 1);
        iop_rws_str(s, k++, col + 3, call >= 0 ? buf : "", r->f.text);
    }
    lxw_chart *c = new_chart(r, LXW_CHART_COLUMN, it->text);
    for (int j = 1; j <= 2; j++) {
        lxw_chart_series *se = chart_add_series(c, NULL, NULL);
        chart_series_set_categories(se, s->name, (lxw_row_t)row + 1, (lxw_col_t)col, (lxw_row_t)k - 1, (lxw_col_t)col);
        chart_series_set_values(se, s->name, (lxw_row_t)row + 1, (lxw_col_t)(col + j), (lxw_row_t)k - 1, (lxw_col_t)(col + j));
        chart_series_set_name(se, j == 1 ? "at baseline" : "at last measurement");
    }
    chart_axis_set_name(c->y_axis, "mean score (lower is better)");
    return place(s, c, k + 1, col) + (k - row + 2) / SLOT;
}
