/*
 * report_sheets.c - the frame every sheet shares (title, subtitle, the
 * "no activity" banner, print set-up, widths from content) and the
 * section sheets: a table of the rows of the metrics the definition
 * lists, with charts beside it. Under --suppress a section's rows are
 * marked first (report_suppress.c) and a hidden row is written as text.
 *
 * Cells are written with worksheet_write_string/number/datetime only:
 * text from the input (a program, a client_id) is never a formula, even
 * when it starts with =, +, - or @. Widths and heights: libxlsxwriter
 * cannot autofit, so each write records the width its text needs, wrapped
 * text is remembered, and the frame sets the columns and then the heights
 * of rows with wrapped text at the end (iop_rws_lines(): lines of
 * 15 points, at most 409, Excel's limit).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "iop/date.h"
#include "iop/report.h"

/* ---- formats --------------------------------------------------------- */

static lxw_format *fmt(lxw_workbook *wb, const char *num, int bold, double size)
{
    lxw_format *f = workbook_add_format(wb);
    if (num)
        format_set_num_format(f, num);
    if (bold)
        format_set_bold(f);
    if (size > 0)
        format_set_font_size(f, size);
    return f;
}

void iop_rfmts_init(iop_rfmts *f, lxw_workbook *wb)
{
    f->title = fmt(wb, NULL, 1, 16);
    format_set_font_color(f->title, 0x1F3864);
    f->subtitle = fmt(wb, NULL, 0, 10);
    format_set_font_color(f->subtitle, 0x595959);
    f->prose = fmt(wb, NULL, 0, 10);
    format_set_font_color(f->prose, 0x595959);
    format_set_text_wrap(f->prose);
    format_set_align(f->prose, LXW_ALIGN_VERTICAL_TOP);
    f->banner = fmt(wb, NULL, 1, 11);
    format_set_bg_color(f->banner, 0xFCE4D6);
    format_set_font_color(f->banner, 0x833C0B);
    format_set_text_wrap(f->banner);
    format_set_align(f->banner, LXW_ALIGN_VERTICAL_TOP);
    f->header = fmt(wb, NULL, 1, 0);
    format_set_bg_color(f->header, 0x1F3864);
    format_set_font_color(f->header, LXW_COLOR_WHITE);
    format_set_text_wrap(f->header);
    format_set_align(f->header, LXW_ALIGN_VERTICAL_TOP);
    f->text = fmt(wb, "@", 0, 0);
    f->wrap = fmt(wb, "@", 0, 0);
    format_set_text_wrap(f->wrap);
    format_set_align(f->wrap, LXW_ALIGN_VERTICAL_TOP);
    f->label = fmt(wb, "@", 1, 0);
    f->label_wrap = fmt(wb, "@", 1, 0);
    format_set_text_wrap(f->label_wrap);
    format_set_align(f->label_wrap, LXW_ALIGN_VERTICAL_TOP);
    f->small = fmt(wb, "@", 0, 9);
    format_set_font_color(f->small, 0x7F7F7F);
    f->kind[IOP_RF_NUMBER] = fmt(wb, "0.00", 0, 0);
    f->kind[IOP_RF_COUNT] = fmt(wb, "#,##0", 0, 0);
    f->kind[IOP_RF_PERCENT] = fmt(wb, "0.0%", 0, 0);
    f->kind[IOP_RF_DAYS] = fmt(wb, "0.0", 0, 0);
    f->kind[IOP_RF_HOURS] = fmt(wb, "0.0", 0, 0);
    f->kind[IOP_RF_SCORE] = fmt(wb, "0.00", 0, 0);
    f->pvalue = fmt(wb, "[<0.0001]\"<0.0001\";0.0000", 0, 0); /* value kept whole */
    f->stat = fmt(wb, "0.000", 0, 0);
    f->date = fmt(wb, "yyyy-mm-dd", 0, 0);
    f->month = fmt(wb, "mmm yyyy", 0, 0);
    f->datetime = fmt(wb, "yyyy-mm-dd hh:mm:ss", 0, 0);
    f->flag = fmt(wb, "@", 1, 0);
    format_set_font_color(f->flag, 0xC00000);
    format_set_text_wrap(f->flag);
    f->good = fmt(wb, "@", 0, 0);
    format_set_font_color(f->good, 0x006100);
    f->bad = fmt(wb, "@", 0, 0);
    format_set_font_color(f->bad, 0x9C0006);
}

/* ---- cells that remember their width ---------------------------------- */

static size_t utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

void iop_rws_min(iop_rws *s, int col, double width)
{
    if (col >= 0 && col < 40 && s->width[col] < width)
        s->width[col] = width;
}

/* Remembers a cell of wrapped text (or, text NULL, a minimum height).
 * This function can't fail: out of memory, the row keeps the default
 * height. */
static void remember(iop_rws *s, int row, int col0, int col1, const char *text,
                     double height, lxw_format *f)
{
    if (s->nwraps == s->capwraps) {
        size_t cap = s->capwraps ? 2 * s->capwraps : 32;
        iop_rwrap *v = realloc(s->wraps, cap * sizeof *v);
        if (!v)
            return;
        s->wraps = v;
        s->capwraps = cap;
    }
    char *copy = text ? strdup(text) : NULL;
    if (text && !copy)
        return;
    s->wraps[s->nwraps++] = (iop_rwrap){.row = row, .col0 = col0, .col1 = col1, .text = copy,
                                        .height = height, .f = f};
}

void iop_rws_str(iop_rws *s, int row, int col, const char *v, lxw_format *f)
{
    worksheet_write_string(s->ws, (lxw_row_t)row, (lxw_col_t)col, v, f);
    iop_rws_min(s, col, (double)utf8_len(v) * 1.1 + 1.5);
    if (f && f->text_wrap)
        remember(s, row, col, col, v, 0, NULL);
}

void iop_rws_merge(iop_rws *s, int row, int col0, int col1, const char *v, lxw_format *f)
{
    worksheet_merge_range(s->ws, (lxw_row_t)row, (lxw_col_t)col0, (lxw_row_t)row,
                          (lxw_col_t)col1, v, f);
    if (f && f->text_wrap)
        remember(s, row, col0, col1, v, 0, NULL);
}

void iop_rws_height(iop_rws *s, int row, double points)
{
    remember(s, row, 0, 0, NULL, points, NULL);
}

int iop_rws_lines(const char *text, double width)
{
    size_t per = width >= 1 ? (size_t)width : 1, n = 0;
    int lines = 0;
    for (const char *p = text;; p++) {
        if (*p == '\n' || !*p) {
            lines += n ? (int)((n + per - 1) / per) : 1;
            n = 0;
            if (!*p)
                break;
        } else if (((unsigned char)*p & 0xC0) != 0x80) {
            n++;
        }
    }
    return lines;
}

void iop_rws_release(iop_rws *s)
{
    for (size_t i = 0; i < s->nwraps; i++)
        free(s->wraps[i].text);
    free(s->wraps);
    s->wraps = NULL;
    s->nwraps = s->capwraps = 0;
}

void iop_rws_num(iop_rws *s, int row, int col, double v, lxw_format *f)
{
    worksheet_write_number(s->ws, (lxw_row_t)row, (lxw_col_t)col, v, f);
    iop_rws_min(s, col, 10);
}

void iop_rws_date(iop_rws *s, int row, int col, long day, lxw_format *f)
{
    int y, m, d;
    iop_date_to_ymd(day, &y, &m, &d);
    lxw_datetime dt = {.year = y, .month = m, .day = d};
    worksheet_write_datetime(s->ws, (lxw_row_t)row, (lxw_col_t)col, &dt, f);
    iop_rws_min(s, col, 11);
}

/* Copies text into a header/footer, doubling '&' (a control character
 * there). */
static void hf_escape(const char *s, char *out, size_t size)
{
    size_t n = 0;
    for (; *s && n + 3 < size; s++) {
        if (*s == '&')
            out[n++] = '&';
        out[n++] = *s;
    }
    out[n] = '\0';
}

/* A line of prose under the title: written now in column A, and again
 * at the end merged across the table and wrapped (its width is known
 * then). */
static void text_line(iop_rws *s, int row, const char *v, lxw_format *f)
{
    worksheet_write_string(s->ws, (lxw_row_t)row, 0, v, f);
    remember(s, row, 0, -1, v, 0, f);
}

/* Opens a sheet with its title lines and, for an empty month, the banner.
 * Returns the first free row (-1 when the sheet cannot be added). */
int iop_rws_open(iop_rctx *r, iop_rws *s, const iop_rsheet *sh, const char *title)
{
    char buf[512];
    int row = 2;

    memset(s, 0, sizeof *s);
    s->name = sh->name;
    if (!(s->ws = workbook_add_worksheet(r->wb, sh->name)))
        return -1;
    iop_rws_str(s, 0, 0, title, r->f.title);
    snprintf(buf, sizeof buf, "%s · %s · load run %ld · 42 CFR Part 2: confidential",
             r->month_label, r->level_label, r->run);
    worksheet_write_string(s->ws, 1, 0, buf, r->f.subtitle);
    s->width[0] = 0;   /* the title lines overflow to the right */
    if (r->empty) {
        snprintf(buf, sizeof buf, "No activity in %s: no episode at level %s was open "
                 "during the month, so the month's figures are empty.", r->month_label,
                 r->o->level);
        text_line(s, row++, buf, r->f.banner);
    }
    if (r->partial) {
        snprintf(buf, sizeof buf, "The data end on %s (the extract date), before the end of "
                 "%s: nothing after %s is counted. Sessions, discharges and contacts of the "
                 "month's last days are missing, so open episodes look idle (the Watch List) "
                 "and figures as of the month end are incomplete.", r->data_end,
                 r->month_label, r->data_end);
        text_line(s, row++, buf, r->f.banner);
    }
    for (size_t i = 0; i < sh->nitems; i++)
        if (sh->items[i].kind == IOP_RI_TEXT)
            text_line(s, row++, sh->items[i].text, r->f.prose);
    return row + 1;
}

/* The width column c is given by iop_rws_finish(). */
static double col_width(const iop_rws *s, int c)
{
    double w = c >= 0 && c < 40 ? s->width[c] : 0;
    return w <= 0 ? LXW_DEF_COL_WIDTH : w > 60 ? 60 : w < 7 ? 7 : w;
}

static int by_row(const void *a, const void *b)
{
    const iop_rwrap *x = a, *y = b;
    if (x->row != y->row)
        return x->row < y->row ? -1 : 1;
    return (x->col0 > y->col0) - (x->col0 < y->col0);
}

/* Rewrites the text lines across columns 0..last_col, then gives each row
 * with wrapped text the height of its tallest cell (and at least its
 * minimum): rows that need no more than the default keep it. */
static void set_heights(iop_rws *s, int last_col)
{
    if (s->nwraps > 1)
        qsort(s->wraps, s->nwraps, sizeof *s->wraps, by_row);
    for (size_t i = 0; i < s->nwraps;) {
        double h = 0;
        size_t j = i;
        for (; j < s->nwraps && s->wraps[j].row == s->wraps[i].row; j++) {
            iop_rwrap *w = &s->wraps[j];
            double width = 0;
            /* Not iop_rws_merge(): it would remember the line again, and
             * s->wraps may move. */
            if (w->col1 < 0 && last_col > 0)
                worksheet_merge_range(s->ws, (lxw_row_t)w->row, 0, (lxw_row_t)w->row,
                                      (lxw_col_t)last_col, w->text, w->f);
            for (int c = w->col0; c <= (w->col1 < 0 ? last_col : w->col1); c++)
                width += col_width(s, c);
            double need = w->text ? 15.0 * iop_rws_lines(w->text, width) : 0;
            h = fmax(h, fmax(w->height, fmin(need, 409)));
        }
        if (h > LXW_DEF_ROW_HEIGHT)
            worksheet_set_row(s->ws, (lxw_row_t)s->wraps[i].row, h, NULL);
        i = j;
    }
}

/* Print set-up, frozen header, filter, widths and heights; frees what
 * the sheet held. */
void iop_rws_finish(iop_rctx *r, iop_rws *s, int header_row, int last_row, int last_col)
{
    char head[512], lvl[140], ttl[180];

    hf_escape(r->level_label, lvl, sizeof lvl);
    hf_escape(r->def->title[0] ? r->def->title : "Monthly outcomes report", ttl, sizeof ttl);
    snprintf(head, sizeof head, "&L&8%s&C&8%s, %s&R&8%s", ttl, lvl, r->month_label, s->name);
    worksheet_set_landscape(s->ws);
    worksheet_set_paper(s->ws, 1); /* US Letter: the programs are American (42 CFR Part 2) */
    worksheet_fit_to_pages(s->ws, 1, 0);
    worksheet_set_margins(s->ws, 0.4, 0.4, 0.6, 0.6);
    worksheet_set_header(s->ws, head);
    worksheet_set_footer(s->ws, "&L42 CFR Part 2: confidential&RPage &P of &N");
    if (header_row >= 0) {
        worksheet_freeze_panes(s->ws, (lxw_row_t)header_row + 1, 0);
        worksheet_repeat_rows(s->ws, (lxw_row_t)header_row, (lxw_row_t)header_row);
        if (last_row >= header_row)
            worksheet_autofilter(s->ws, (lxw_row_t)header_row, 0, (lxw_row_t)last_row,
                                 (lxw_col_t)last_col);
    }
    for (int c = 0; c < 40; c++)
        if (s->width[c] > 0)
            worksheet_set_column(s->ws, (lxw_col_t)c, (lxw_col_t)c, col_width(s, c), NULL);
    set_heights(s, last_col);
    iop_rws_release(s);
}

/* ---- figures ---------------------------------------------------------- */

void iop_rws_figure(iop_rctx *r, iop_rws *s, int row, int col, const iop_row *x,
                    iop_rfmt_kind kind, int what, int state)
{
    char text[32];
    unsigned need = what == IOP_RV_EST ? IOP_HAS_EST
                  : what == IOP_RV_LOWER ? IOP_HAS_LOWER : IOP_HAS_UPPER;
    double v = what == IOP_RV_EST ? x->estimate : what == IOP_RV_LOWER ? x->lower : x->upper;

    if (!(x->has & need))
        return;
    if (state != IOP_SUP_SHOWN) {
        if (what == IOP_RV_EST)
            iop_rws_str(s, row, col, iop_rsup_text(r->o->suppress, state, kind, text,
                                                   sizeof text), r->f.text);
        return;
    }
    iop_rws_num(s, row, col, v, r->f.kind[kind]);
}

/* The n of a hidden figure is hidden too: a count's n is the count, and
 * a rate's n could otherwise be recovered from the others of its set. */
void iop_rws_n(iop_rctx *r, iop_rws *s, int row, int col, const iop_row *x, int state)
{
    char text[32];
    if (state == IOP_SUP_SHOWN) {
        iop_rws_num(s, row, col, (double)x->n, r->f.kind[IOP_RF_COUNT]);
        return;
    }
    if (x->n >= 1 && x->n < r->o->suppress)
        snprintf(text, sizeof text, "<%ld", r->o->suppress);
    else
        snprintf(text, sizeof text, "suppressed");
    iop_rws_str(s, row, col, text, r->f.text);
}

/* `at` as a number (a day, a week), a month (YYYY-MM), or text. */
static void write_at(iop_rctx *r, iop_rws *s, int row, const char *at)
{
    char *end, buf[16];
    long day;
    if (!at[0])
        return;
    double v = strtod(at, &end);
    if (end != at && !*end) {
        iop_rws_num(s, row, IOP_RC_AT, v, NULL);
        return;
    }
    snprintf(buf, sizeof buf, "%.7s-01", at);
    if (strlen(at) == 7 && iop_date_parse(buf, 10, &day)) {
        iop_rws_date(s, row, IOP_RC_AT, day, r->f.month);
        return;
    }
    iop_rws_str(s, row, IOP_RC_AT, at, r->f.text);
}

static void write_target(iop_rctx *r, iop_rws *s, int row, const iop_row *x,
                         iop_rfmt_kind kind)
{
    double t;
    int higher;
    const char *group = strcmp(x->dimension, "all") == 0 ? "all"
                      : strcmp(x->dimension, "program") == 0 ? x->group : NULL;
    if (group && !x->at[0] && iop_rtarget(r, x->metric, group, &t, &higher))
        iop_rws_num(s, row, IOP_RC_TARGET, t, r->f.kind[kind]);
}

/* One table row. A suppressed row shows no test and no note either (a
 * note such as "one client: ..." would tell its size). */
static void write_row(iop_rctx *r, iop_rws *s, int row, const iop_row *x,
                      const iop_rcat *cat, int call, int state)
{
    char buf[32];
    iop_rfmt_kind kind = cat ? cat->kind : IOP_RF_NUMBER;
    int shown = state == IOP_SUP_SHOWN;

    iop_rws_str(s, row, IOP_RC_LABEL, cat ? cat->label : x->metric, r->f.label);
    iop_rws_str(s, row, IOP_RC_METRIC, x->metric, r->f.small);
    iop_rws_str(s, row, IOP_RC_BY, x->dimension, r->f.text);
    iop_rws_str(s, row, IOP_RC_GROUP, x->group, r->f.text);
    write_at(r, s, row, x->at);
    iop_rws_n(r, s, row, IOP_RC_N, x, state);
    iop_rws_figure(r, s, row, IOP_RC_EST, x, kind, IOP_RV_EST, state);
    iop_rws_figure(r, s, row, IOP_RC_LOWER, x, kind, IOP_RV_LOWER, state);
    iop_rws_figure(r, s, row, IOP_RC_UPPER, x, kind, IOP_RV_UPPER, state);
    if (shown && (x->has & IOP_HAS_STAT))
        iop_rws_num(s, row, IOP_RC_STAT, x->statistic, r->f.stat);
    if (shown && (x->has & IOP_HAS_DF))
        iop_rws_num(s, row, IOP_RC_DF, x->df, NULL);
    if (shown && (x->has & IOP_HAS_P))
        iop_rws_num(s, row, IOP_RC_P, x->p_value, r->f.pvalue);
    write_target(r, s, row, x, kind);
    if (shown && x->note[0])
        iop_rws_str(s, row, IOP_RC_NOTE, x->note, r->f.wrap);
    snprintf(buf, sizeof buf, "C%d", call + 1);
    iop_rws_str(s, row, IOP_RC_CALL, buf, r->f.text);
}

static const char *const HEADERS[IOP_RC_NCOLS] = {"Figure", "Metric", "By", "Group", "At",
    "n", "Estimate", "95% CI lower", "95% CI upper", "Statistic", "df", "p-value", "Target",
    "Note", "Call"};

static void write_header(iop_rctx *r, iop_rws *s, int row)
{
    for (int c = 0; c < IOP_RC_NCOLS; c++)
        iop_rws_str(s, row, c, HEADERS[c], r->f.header);
    iop_rws_min(s, IOP_RC_LABEL, 28);
    iop_rws_min(s, IOP_RC_NOTE, 24);
}

/* Appends the rows of each metric line i of the sheet to *v in table
 * order from start[i] on, and counts them in blocks[i]. IOP_ENOMEM or
 * IOP_OK. */
static iop_code collect(iop_rctx *r, const iop_rsheet *sh, iop_rblock *blocks, size_t *start,
                        iop_rsrow **v, size_t *n)
{
    size_t cap = 0;
    for (size_t i = 0; i < sh->nitems && i < 128; i++) {
        const iop_ritem *it = &sh->items[i];
        if (it->kind != IOP_RI_METRIC)
            continue;
        const iop_rcall *c = &r->calls[it->call];
        const iop_rcat *cat = iop_rdef_cat(r->def, it->name);
        start[i] = *n;
        for (size_t k = 0; k < c->rows.n; k++) {
            const iop_row *x = &c->rows.v[k];
            if (strcmp(x->metric, it->name) != 0)
                continue;
            if (*n == cap) {
                cap = cap ? 2 * cap : 256;
                iop_rsrow *w = realloc(*v, cap * sizeof *w);
                if (!w)
                    return IOP_ENOMEM;
                *v = w;
            }
            (*v)[(*n)++] = (iop_rsrow){.x = x, .call = it->call,
                                       .kind = cat ? cat->kind : IOP_RF_NUMBER};
        }
        blocks[i].nsup = *n - start[i];
    }
    return IOP_OK;
}

/* Writes the rows of one metric line (b->sup); points the block at its
 * worksheet rows. */
static int write_metric(iop_rctx *r, iop_rws *s, int row, const iop_ritem *it, iop_rblock *b)
{
    const iop_rcat *cat = iop_rdef_cat(r->def, it->name);
    int first = row;

    for (size_t k = 0; k < b->nsup; k++)
        write_row(r, s, row++, b->sup[k].x, cat, it->call, b->sup[k].state);
    if (row == first) {
        iop_row none;
        memset(&none, 0, sizeof none);
        none.metric = it->name;
        snprintf(none.dimension, sizeof none.dimension, "all");
        snprintf(none.group, sizeof none.group, "all");
        snprintf(none.note, sizeof none.note, "not computed by this version");
        write_row(r, s, row++, &none, cat, it->call, IOP_SUP_SHOWN);
    }
    b->first = first;
    b->last = row - 1;
    return row;
}

/* A defined name for a sheet's table: "Census_figures". */
void iop_rws_define(iop_rctx *r, iop_rws *s, const char *suffix, int r0, int c0, int r1, int c1)
{
    char name[80], ref[160], col0[8], col1[8];
    size_t k = 0;
    for (const char *p = s->name; *p && k < 40; p++)
        name[k++] = (*p == ' ' || *p == '-') ? '_' : *p;
    snprintf(name + k, sizeof name - k, "_%s", suffix);
    lxw_col_to_name(col0, (lxw_col_t)c0, 0); /* the $ are the format's */
    lxw_col_to_name(col1, (lxw_col_t)c1, 0);
    snprintf(ref, sizeof ref, "='%s'!$%s$%d:$%s$%d", s->name, col0, r0 + 1, col1, r1 + 1);
    workbook_define_name(r->wb, name, ref);
}

iop_code iop_rsheet_section(iop_rctx *r, const iop_rsheet *sh, iop_error *err)
{
    iop_rws s;
    iop_rblock blocks[128];
    iop_rsrow *v = NULL;
    size_t n = 0, start[128];
    int row, header, charts = 0;

    memset(blocks, 0, sizeof blocks);
    if (collect(r, sh, blocks, start, &v, &n) != IOP_OK ||
        iop_rsup_mark(r->o->suppress, sh, v, n) != IOP_OK) {
        free(v);
        return iop_error_set(err, IOP_ENOMEM, NULL, 0, 0, "out of memory");
    }
    if ((row = iop_rws_open(r, &s, sh, sh->title)) < 0) {
        free(v);
        return iop_error_set(err, IOP_EUSAGE, NULL, 0, 0, "cannot add sheet '%s'", sh->name);
    }
    header = row;
    write_header(r, &s, row++);
    for (size_t i = 0; i < sh->nitems && i < 128; i++)
        if (sh->items[i].kind == IOP_RI_METRIC) {
            blocks[i].sup = v + start[i];
            row = write_metric(r, &s, row, &sh->items[i], &blocks[i]);
        }
    for (size_t i = 0; i < sh->nitems && i < 128; i++) {
        const iop_ritem *it = &sh->items[i];
        const iop_rblock *b = NULL;
        if (it->kind != IOP_RI_CHART)
            continue;
        for (size_t j = 0; j < sh->nitems && j < 128; j++)
            if (sh->items[j].kind == IOP_RI_METRIC && !strcmp(sh->items[j].name, it->arg))
                b = &blocks[j];
        charts += iop_rchart_add(r, &s, sh, it, b, header + charts * 22, IOP_RC_NCOLS + 1);
    }
    iop_rws_define(r, &s, "figures", header, 0, row - 1, IOP_RC_NCOLS - 1);
    iop_rws_finish(r, &s, header, row - 1, IOP_RC_NCOLS - 1);
    free(v);
    return IOP_OK;
}
