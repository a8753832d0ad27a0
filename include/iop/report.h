/*
 * report.h - the render stage: the monthly workbook (product.md, "The
 * monthly workbook"; docs/report-monthly.md).
 *
 * A report is described by a definition file in reports/ (monthly.def:
 * which sheets, which figures, in what order) and a catalogue
 * (catalogue.def: each figure's label, number format and definition). The
 * C code renders what they list from the rows of iop_metrics_run(), so a
 * program can add or drop a section without recompiling.
 *
 * Every figure on the workbook comes from one `iopstat metrics` call (a
 * period, the level, an optional --by, the pinned run); the About sheet
 * lists those calls and every figure row names the call it came from.
 *
 * The first part of this header is the public interface (the CLI); the
 * second part the types and functions the report_*.c modules share.
 */
#ifndef IOP_REPORT_H
#define IOP_REPORT_H

#include <stddef.h>
#include <xlsxwriter.h>

#include "iop/error.h"
#include "iop/metrics.h"

/* What `iopstat report monthly` was asked for. */
typedef struct iop_report_opts {
    const char *db_path;       /* the database (read-only) */
    const char *month;         /* "YYYY-MM" */
    const char *level;         /* level of care, default "2.1" */
    long run;                  /* load run to pin; 0: the latest */
    long suppress;             /* small-cell threshold N; 0: none */
    const char *out_path;      /* NULL: out/iopstat-monthly-LEVEL-YYYY-MM.xlsx */
    const char *reports_dir;   /* NULL: $IOPSTAT_REPORTS, then the search */
    const char *command;       /* the exact command line, for About */
    const char *exe;           /* argv[0], to find reports/ beside it */
    int busy_ms;               /* how long to wait for a load's lock */
} iop_report_opts;

/*
 * Writes the monthly workbook. On success the path written is copied into
 * path (size bytes). Returns IOP_OK; IOP_EUSAGE for a bad month, level,
 * run or definition file (with its file and line); IOP_EIO when the
 * database or the workbook cannot be read or written; IOP_ENOMEM.
 */
iop_code iop_report_monthly(const iop_report_opts *o, char *path, size_t size,
                            iop_error *err);

/*
 * Finds the folder of report definitions: dir when given, else
 * $IOPSTAT_REPORTS, else ./reports, else EXEDIR/../reports, else
 * EXEDIR/../share/iopstat/reports (an installed binary). Copies it into
 * out; returns 1 when found, 0 otherwise.
 */
int iop_report_find_dir(const char *dir, const char *exe, char *out, size_t size);

/* ==== shared by the report_*.c modules ================================ */

/* Number formats of figures (catalogue.def, column 2). */
typedef enum iop_rfmt_kind {
    IOP_RF_NUMBER, IOP_RF_COUNT, IOP_RF_PERCENT, IOP_RF_DAYS, IOP_RF_HOURS,
    IOP_RF_SCORE, IOP_RF_NKINDS
} iop_rfmt_kind;

/* One catalogue entry: all strings owned by the catalogue. */
typedef struct iop_rcat {
    char *name, *label, *definition, *population, *method, *source;
    iop_rfmt_kind kind;
} iop_rcat;

/* The windows a figure can cover. */
enum { IOP_WIN_MONTH = 0, IOP_WIN_YEAR = 1 };

/* A line inside a sheet: metric, key (Summary), chart, text, or parts
 * (figures that add up to another: suppression sets). */
enum { IOP_RI_METRIC, IOP_RI_KEY, IOP_RI_CHART, IOP_RI_TEXT, IOP_RI_PARTS };

typedef struct iop_ritem {
    int kind;
    char name[64];         /* metric, the chart type, or parts: the total */
    char arg[64];          /* chart: its metric; key: "pchart" or "" */
    char text[192];        /* chart title, text line, or parts: the parts */
    int window;            /* IOP_WIN_* */
    int no_by;             /* metric: leave the sheet's --by out */
    int call;              /* index of the call behind it (-1: none) */
} iop_ritem;

/* Kinds of sheet. */
enum { IOP_RS_SECTION, IOP_RS_SUMMARY, IOP_RS_WATCH, IOP_RS_DEFS, IOP_RS_ABOUT };

typedef struct iop_rsheet {
    char name[32];
    int type;
    int window;            /* default window of its metric lines */
    char by[32];           /* --by of its metric lines, "" for none */
    char title[160];
    long limit;            /* Watch List: rows shown */
    iop_ritem *items;
    size_t nitems, cap;
} iop_rsheet;

/* A national reference value of a figure (`national` lines). */
typedef struct iop_rnational {
    char metric[64];
    double value;
    char label[96];        /* short: year and population */
    char source[320];      /* the publication, table, caveats */
} iop_rnational;

/* A parsed definition with its catalogue. */
typedef struct iop_rdef {
    char title[160];
    iop_rsheet *sheets;
    size_t nsheets;
    iop_rcat *cat;
    size_t ncat;
    iop_rnational *national;
    size_t nnational;
} iop_rdef;

/* Reads DIR/NAME.def and DIR/catalogue.def into def. IOP_EUSAGE with the
 * file and line of a bad line; def is released on failure. */
iop_code iop_rdef_load(iop_rdef *def, const char *dir, const char *name, iop_error *err);
void iop_rdef_release(iop_rdef *def);

/* The catalogue entry of metric, or NULL. */
const iop_rcat *iop_rdef_cat(const iop_rdef *def, const char *metric);

/* The k-th national reference of metric (in the definition's order), or
 * NULL. */
const iop_rnational *iop_rdef_national(const iop_rdef *def, const char *metric, size_t k);

/* One `iopstat metrics` call and its rows. */
typedef struct iop_rcall {
    long from, to;
    char from_s[11], to_s[11];
    char by[32];
    char purpose[256];     /* the sheets and columns that use it */
    int keep_all;          /* 0: keep only overall rows without `at` */
    /* The metrics the call's users need: only their sections run. */
    const char **want;     /* NULL-terminated, names owned by the definition */
    size_t nwant, capwant;
    int want_all;          /* a user needs every metric */
    iop_rows rows;
} iop_rcall;

/* Formats of the workbook. */
typedef struct iop_rfmts {
    lxw_format *title, *subtitle, *prose, *banner, *header, *text, *wrap, *label, *label_wrap,
        *small;
    lxw_format *kind[IOP_RF_NKINDS];
    lxw_format *pvalue, *stat, *date, *month, *datetime, *flag, *good, *bad;
} iop_rfmts;

/* Everything a sheet renderer needs. */
typedef struct iop_rctx {
    const iop_report_opts *o;
    const iop_rdef *def;
    sqlite3 *db;
    sqlite3 *db2;                /* a second connection for the calls, or NULL */
    lxw_workbook *wb;
    iop_rfmts f;
    long run;                    /* the pinned (or latest) run */
    long month_from, month_to;   /* the report month */
    char month_label[32];        /* "October 2026" */
    char level_label[128];       /* "2.1 intensive outpatient (IOP)" */
    int empty;                   /* no activity in the month */
    char data_end[11];           /* the run's extract date, "" when unknown */
    int partial;                 /* the month ends after data_end */
    iop_rcall *calls;
    size_t ncalls, capcalls;
    int call_month[13];          /* monthly calls, [12] = the report month */
    int call_year[13];           /* 12-month windows ending with each month */
    int call_pooled;             /* the 12 months before the report month */
} iop_rctx;

/* A cell of wrapped text whose row needs room for it (libxlsxwriter has
 * no autofit): kept until iop_rws_finish() knows the column widths. */
typedef struct iop_rwrap {
    int row, col0, col1;   /* col1 < 0: a text line across the table */
    char *text;            /* owned; NULL for a bare minimum height */
    double height;         /* a minimum height in points, or 0 */
    lxw_format *f;         /* text lines: the format they are rewritten in */
} iop_rwrap;

/* A worksheet with the widths its columns need and the wrapped cells
 * whose rows need a height. iop_rws_open() starts it; iop_rws_finish()
 * (or iop_rws_release() on an error path) frees what it holds. */
typedef struct iop_rws {
    lxw_worksheet *ws;
    const char *name;
    double width[40];
    iop_rwrap *wraps;
    size_t nwraps, capwraps;
} iop_rws;

/* report.c: calls and periods. iop_rctx_call() returns the index of the
 * call for the window and by (a new one, or the same one again), adding
 * purpose and metric to what it is for: metric NULL means every metric,
 * "" none more. -1 when out of memory. */
int iop_rctx_call(iop_rctx *r, long from, long to, const char *by, int keep_all,
                  const char *purpose, const char *metric);
/* Adds metric to what call c computes: NULL means every metric, "" none
 * more. 0, or -1 when out of memory. */
int iop_rcall_want(iop_rcall *c, const char *metric);
const iop_row *iop_rcall_find(const iop_rcall *c, const char *metric,
                              const char *dimension, const char *group, const char *at);
long iop_rmonth_start(long day, int back);
long iop_rmonth_end(long day, int back);

/* report_sheets.c: writing cells that track widths, the common frame.
 * A string in a wrapping format is remembered: iop_rws_finish() gives its
 * row the height its lines need (iop_rws_lines()). */
void iop_rws_str(iop_rws *s, int row, int col, const char *v, lxw_format *f);
/* Text merged over columns col0..col1 (col0 < col1) of one row. */
void iop_rws_merge(iop_rws *s, int row, int col0, int col1, const char *v, lxw_format *f);
/* A row at least points high. */
void iop_rws_height(iop_rws *s, int row, double points);
/* Lines text takes in a cell width characters wide: each '\n'-separated
 * piece ceil(length / width) lines (at least one), width rounded down. */
int iop_rws_lines(const char *text, double width);
/* Frees what s holds without finishing the sheet (an error path);
 * iop_rws_finish() does it otherwise. */
void iop_rws_release(iop_rws *s);
void iop_rws_num(iop_rws *s, int row, int col, double v, lxw_format *f);
void iop_rws_date(iop_rws *s, int row, int col, long day, lxw_format *f);
void iop_rws_min(iop_rws *s, int col, double width);
int iop_rws_open(iop_rctx *r, iop_rws *s, const iop_rsheet *sh, const char *title);
void iop_rws_finish(iop_rctx *r, iop_rws *s, int header_row, int last_row, int last_col);
/* A workbook name "<Sheet>_<suffix>" for a range of the sheet. */
void iop_rws_define(iop_rctx *r, iop_rws *s, const char *suffix, int r0, int c0, int r1, int c1);
/* A figure's value (what: IOP_RV_*) in its format, or, with state not
 * IOP_SUP_SHOWN, its suppression text (estimate) or nothing (CI). */
void iop_rws_figure(iop_rctx *r, iop_rws *s, int row, int col, const iop_row *x,
                    iop_rfmt_kind kind, int what, int state);
/* A figure's n, or for a suppressed figure "<N" (1 to N-1) or
 * "suppressed". */
void iop_rws_n(iop_rctx *r, iop_rws *s, int row, int col, const iop_row *x, int state);
iop_code iop_rsheet_section(iop_rctx *r, const iop_rsheet *sh, iop_error *err);
iop_code iop_rsheet_watch(iop_rctx *r, const iop_rsheet *sh, iop_error *err);
iop_code iop_rsheet_defs(iop_rctx *r, const iop_rsheet *sh, iop_error *err);
void iop_rfmts_init(iop_rfmts *f, lxw_workbook *wb);

/* report_summary.c */
iop_code iop_rsheet_summary(iop_rctx *r, const iop_rsheet *sh, iop_error *err);
int iop_rsummary_plan(iop_rctx *r, iop_rsheet *sh);
void iop_rspark(const double *v, const int *has, int n, char *out, size_t size);

/* report_about.c */
iop_code iop_rsheet_about(iop_rctx *r, const iop_rsheet *sh, iop_error *err);
int iop_rws_query(iop_rctx *r, iop_rws *s, int row, const char *sql, const char *types,
                  const char *const *heads, const char *bind1, const char *bind2, long limit,
                  long *total);

/* report_suppress.c: small-cell suppression (docs/report-monthly.md,
 * "--suppress N"). */
enum { IOP_SUP_SHOWN, IOP_SUP_PRIMARY, IOP_SUP_COMPLEMENT };

/* A figure row of a section sheet, in table order. */
typedef struct iop_rsrow {
    const iop_row *x;      /* the call's row (not owned) */
    int call;              /* the call it came from */
    iop_rfmt_kind kind;    /* its catalogue format */
    int state;             /* IOP_SUP_*, set by iop_rsup_mark() */
} iop_rsrow;

/* 1 when x is suppressed in its own right under --suppress N: a count
 * from 1 to N-1, or a rate whose n or numerator (estimate x n) is; 0 for
 * N <= 1 and for every other format. */
int iop_rsup_primary(long N, const iop_row *x, iop_rfmt_kind kind);

/* Sets the state of rows[0..n-1] (one sheet's figure rows in table
 * order): primary suppression, then complementary suppression in the sets
 * with a printed total, including those of the sheet's `parts` lines (sh
 * may be NULL). IOP_OK, or IOP_ENOMEM with the states incomplete. */
iop_code iop_rsup_mark(long N, const iop_rsheet *sh, iop_rsrow *rows, size_t n);

/* The text of a suppressed figure: "<N" for a count suppressed in its own
 * right, else "suppressed" (static, or written into buf). */
const char *iop_rsup_text(long N, int state, iop_rfmt_kind kind, char *buf, size_t size);

/* report_charts.c: a chart of an item over table rows [first, last]. */
typedef struct iop_rblock {
    int first, last;       /* worksheet rows of the metric's rows */
    const iop_rsrow *sup;  /* the rows in table order, with their states */
    size_t nsup;
} iop_rblock;
int iop_rchart_add(iop_rctx *r, iop_rws *s, const iop_rsheet *sh, const iop_ritem *it,
                   const iop_rblock *b, int anchor_row, int anchor_col);
int iop_rchart_prepost(iop_rctx *r, iop_rws *s, const iop_rsheet *sh, const iop_ritem *it,
                       int row, int col);
int iop_rchart_heatmap(iop_rctx *r, iop_rws *s, const iop_ritem *it, const iop_rblock *b,
                       int row, int col);

/* Which value of a figure iop_rws_figure writes. */
enum { IOP_RV_EST, IOP_RV_LOWER, IOP_RV_UPPER };

/* Columns of a section table. */
enum {
    IOP_RC_LABEL, IOP_RC_METRIC, IOP_RC_BY, IOP_RC_GROUP, IOP_RC_AT, IOP_RC_N,
    IOP_RC_EST, IOP_RC_LOWER, IOP_RC_UPPER, IOP_RC_STAT, IOP_RC_DF, IOP_RC_P,
    IOP_RC_TARGET, IOP_RC_NOTE, IOP_RC_CALL, IOP_RC_NCOLS
};

/* The program's target for metric in group ("all" for overall); returns
 * 1 and fills target and higher_better when one is set. */
int iop_rtarget(iop_rctx *r, const char *metric, const char *group, double *target,
                int *higher_better);

#endif
