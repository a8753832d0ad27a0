/*
 * report.c - `iopstat report monthly`: the orchestration of the monthly
 * workbook (docs/report-monthly.md).
 *
 * Input: the options of the command, the definition in reports/ and a
 * database opened read-only (pinned to --run, or the latest run). Output:
 * one .xlsx file, written to a temporary name and renamed, so a failed
 * run leaves no half-written workbook.
 *
 * The work is in three steps: plan the `iopstat metrics` calls the sheets
 * need (each distinct period and --by once), run them, render the sheets
 * in the order of the definition. Calls that only feed the Summary keep
 * only their overall rows, so memory stays bounded by the sections shown.
 * Output is deterministic: the document's creation time is the last day
 * of the report month and nothing reads the clock.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iop/date.h"
#include "iop/report.h"
#include "iop/store.h"

long iop_rmonth_start(long day, int back)
{
    int y, m;
    iop_date_to_ymd(day, &y, &m, NULL);
    int k = y * 12 + (m - 1) - back;
    return iop_date_from_ymd(k / 12, k % 12 + 1, 1);
}

long iop_rmonth_end(long day, int back)
{
    int y, m;
    iop_date_to_ymd(iop_rmonth_start(day, back), &y, &m, NULL);
    return iop_date_from_ymd(y, m, iop_date_days_in_month(y, m));
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int iop_report_find_dir(const char *dir, const char *exe, char *out, size_t size)
{
    char self[PATH_MAX], cand[PATH_MAX + 64];
    const char *env = getenv("IOPSTAT_REPORTS");
    ssize_t n;

    if (dir || (env && *env))
        return snprintf(out, size, "%s", dir ? dir : env), is_dir(out);
    if (is_dir("reports"))
        return snprintf(out, size, "reports"), 1;
    n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0 && exe)
        n = (ssize_t)snprintf(self, sizeof self, "%s", exe);
    if (n <= 0)
        return 0;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash)
        return 0;
    *slash = '\0';
    snprintf(cand, sizeof cand, "%s/../reports", self);
    if (!is_dir(cand))
        snprintf(cand, sizeof cand, "%s/../share/iopstat/reports", self);
    snprintf(out, size, "%s", cand);
    return is_dir(cand);
}

/* ---- calls ----------------------------------------------------------- */

int iop_rcall_want(iop_rcall *c, const char *metric)
{
    if (!metric) {
        c->want_all = 1;
        return 0;
    }
    if (!metric[0])
        return 0;
    for (size_t i = 0; i < c->nwant; i++)
        if (strcmp(c->want[i], metric) == 0)
            return 0;
    if (c->nwant + 1 >= c->capwant) {
        size_t cap = c->capwant ? 2 * c->capwant : 16;
        const char **v = realloc(c->want, cap * sizeof *v);
        if (!v)
            return -1;
        c->want = v;
        c->capwant = cap;
    }
    c->want[c->nwant++] = metric;
    c->want[c->nwant] = NULL;
    return 0;
}

int iop_rctx_call(iop_rctx *r, long from, long to, const char *by, int keep_all,
                  const char *purpose, const char *metric)
{
    for (size_t i = 0; i < r->ncalls; i++) {
        iop_rcall *c = &r->calls[i];
        if (c->from != from || c->to != to || strcmp(c->by, by ? by : "") != 0)
            continue;
        c->keep_all |= keep_all;
        if (!strstr(c->purpose, purpose)) {
            size_t n = strlen(c->purpose);
            snprintf(c->purpose + n, sizeof c->purpose - n, "; %s", purpose);
        }
        return iop_rcall_want(c, metric) == 0 ? (int)i : -1;
    }
    if (r->ncalls == r->capcalls) {
        size_t cap = r->capcalls ? 2 * r->capcalls : 32;
        iop_rcall *v = realloc(r->calls, cap * sizeof *v);
        if (!v)
            return -1;
        r->calls = v;
        r->capcalls = cap;
    }
    iop_rcall *c = &r->calls[r->ncalls];
    memset(c, 0, sizeof *c);
    c->from = from;
    c->to = to;
    iop_date_format(from, c->from_s);
    iop_date_format(to, c->to_s);
    snprintf(c->by, sizeof c->by, "%s", by ? by : "");
    snprintf(c->purpose, sizeof c->purpose, "%s", purpose);
    c->keep_all = keep_all;
    iop_rows_init(&c->rows);
    r->ncalls++;
    return iop_rcall_want(c, metric) == 0 ? (int)r->ncalls - 1 : -1;
}

const iop_row *iop_rcall_find(const iop_rcall *c, const char *metric,
                              const char *dimension, const char *group, const char *at)
{
    for (size_t i = 0; i < c->rows.n; i++) {
        const iop_row *x = &c->rows.v[i];
        if (strcmp(x->metric, metric) == 0 && strcmp(x->dimension, dimension) == 0 &&
            strcmp(x->group, group) == 0 && strcmp(x->at, at) == 0)
            return x;
    }
    return NULL;
}

/* Drops the rows a Summary-only call does not need: groups and `at`. */
static void keep_overall(iop_rows *rows)
{
    size_t k = 0;
    for (size_t i = 0; i < rows->n; i++)
        if (strcmp(rows->v[i].dimension, "all") == 0 && !rows->v[i].at[0])
            rows->v[k++] = rows->v[i];
    rows->n = k;
}

static iop_code run_calls(iop_rctx *r, iop_error *err)
{
    static const char *const none[] = {NULL};
    iop_mctx *ms = calloc(r->ncalls ? r->ncalls : 1, sizeof *ms);
    iop_rows *rows = calloc(r->ncalls ? r->ncalls : 1, sizeof *rows);
    iop_code rc = ms && rows ? IOP_OK : iop_error_set(err, IOP_ENOMEM, NULL, 0, 0, "out of memory");

    for (size_t i = 0; i < r->ncalls && rc == IOP_OK; i++) {
        iop_rcall *c = &r->calls[i];
        iop_mctx *m = &ms[i];
        *m = (iop_mctx){.db = r->db, .db2 = r->db2, .from = c->from, .to = c->to,
                        .level = r->o->level,
                        .want = c->want_all ? NULL : c->nwant ? c->want : none};
        memcpy(m->from_s, c->from_s, sizeof m->from_s);
        memcpy(m->to_s, c->to_s, sizeof m->to_s);
        if (c->by[0]) {
            m->by = c->by;
            m->by_expr = iop_metrics_dimension(c->by);
        }
        rows[i] = c->rows;
    }
    if (rc == IOP_OK)
        rc = iop_metrics_run_many(ms, r->ncalls, rows, err);
    for (size_t i = 0; ms && rows && i < r->ncalls; i++) {
        r->calls[i].rows = rows[i];
        if (rc == IOP_OK && !r->calls[i].keep_all)
            keep_overall(&r->calls[i].rows);
    }
    free(ms);
    free(rows);
    return rc;
}

/* The calls of the section sheets: one per metric line's window and by. */
static iop_code plan_sections(iop_rctx *r, iop_rdef *def, iop_error *err)
{
    for (size_t s = 0; s < def->nsheets; s++) {
        iop_rsheet *sh = &def->sheets[s];
        if (sh->type == IOP_RS_SUMMARY && iop_rsummary_plan(r, sh) < 0)
            return iop_error_set(err, IOP_ENOMEM, NULL, 0, 0, "out of memory");
        if (sh->type != IOP_RS_SECTION)
            continue;
        for (size_t i = 0; i < sh->nitems; i++) {
            iop_ritem *it = &sh->items[i];
            if (it->kind != IOP_RI_METRIC)
                continue;
            int back = it->window == IOP_WIN_YEAR ? 11 : 0;
            it->call = iop_rctx_call(r, iop_rmonth_start(r->month_to, back), r->month_to,
                                     it->no_by ? "" : sh->by, 1, sh->name, it->name);
            if (it->call < 0)
                return iop_error_set(err, IOP_ENOMEM, NULL, 0, 0, "out of memory");
        }
    }
    return IOP_OK;
}

/* ---- the database ---------------------------------------------------- */

static iop_code open_db(iop_store *s, const iop_report_opts *o, long *run, iop_error *err)
{
    iop_code rc = iop_store_open(s, o->db_path, IOP_STORE_READONLY, o->busy_ms, err);
    if (rc != IOP_OK)
        return rc;
    *run = iop_store_latest_run(s);
    if (*run == 0)
        rc = iop_error_set(err, IOP_EIO, o->db_path, 0, 0, "no load run in the database yet");
    else if (o->run && (rc = iop_store_pin_run(s, o->run, err)) == IOP_OK)
        *run = o->run;
    if (rc != IOP_OK)
        iop_store_close(s);
    return rc;
}

/* One text value of a one-row query with ?1 bound to a, or "" */
static void query_text(sqlite3 *db, const char *sql, const char *a, char *out, size_t size)
{
    sqlite3_stmt *st;
    out[0] = '\0';
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
}

/* Fills the level's label and whether the month saw any activity at the
 * level: an admission, a discharge or a session dated in the month. (An
 * episode merely left open is not activity: a month after the extract
 * has none.) */
static iop_code describe(iop_rctx *r, iop_error *err)
{
    char label[96], from[11], to[11];
    static const char ACTIVE[] =
        "SELECT EXISTS (SELECT 1 FROM episodes WHERE level_of_care = ?1"
        "  AND (admit_date BETWEEN ?2 AND ?3 OR discharge_date BETWEEN ?2 AND ?3))"
        " OR EXISTS (SELECT 1 FROM sessions AS s JOIN episodes AS e USING (episode_id)"
        "  WHERE e.level_of_care = ?1 AND s.session_date BETWEEN ?2 AND ?3)";
    sqlite3_stmt *st;

    query_text(r->db, "SELECT label FROM levels WHERE code = ?1", r->o->level, label, sizeof label);
    if (!label[0])
        return iop_error_set(err, IOP_EUSAGE, NULL, 0, 0,
                             "unknown level of care '%s' in '--level'", r->o->level);
    snprintf(r->level_label, sizeof r->level_label, "level %s, %s", r->o->level, label);
    if (sqlite3_prepare_v2(r->db, ACTIVE, -1, &st, NULL) != SQLITE_OK)
        return iop_error_set(err, IOP_EIO, NULL, 0, 0, "database error: %s", sqlite3_errmsg(r->db));
    sqlite3_bind_text(st, 1, r->o->level, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, iop_date_format(r->month_from, from), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, iop_date_format(r->month_to, to), -1, SQLITE_STATIC);
    r->empty = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 0;
    sqlite3_finalize(st);
    long run;
    iop_store_extract_date(r->db, r->data_end, &run);
    r->partial = r->data_end[0] && strcmp(to, r->data_end) > 0;
    if (r->partial)
        fprintf(stderr, "iopstat: warning: %s ends after the extract date %s of load run %ld: "
                "the workbook counts no activity after %s (every sheet says so)\n",
                r->month_label, r->data_end, run, r->data_end);
    return IOP_OK;
}

static int better_lower(const char *metric)
{
    static const char *const LOWER[] = {"no_show", "cancel", "dropout", "readmit", "wait_days",
                                        "dq_", "deterioration", "watch_list", "stepup"};
    for (size_t i = 0; i < sizeof LOWER / sizeof LOWER[0]; i++)
        if (strstr(metric, LOWER[i]))
            return 1;
    return 0;
}

int iop_rtarget(iop_rctx *r, const char *metric, const char *group, double *target,
                int *higher_better)
{
    sqlite3_stmt *st;
    int found = 0;
    if (sqlite3_prepare_v2(r->db, "SELECT target, better FROM targets WHERE metric = ?1"
                           " AND program = ?2 AND target IS NOT NULL", -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(st, 1, metric, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, group, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *b = (const char *)sqlite3_column_text(st, 1);
        *target = sqlite3_column_double(st, 0);
        *higher_better = b ? strcmp(b, "lower") != 0 : !better_lower(metric);
        found = 1;
    }
    sqlite3_finalize(st);
    return found;
}

/* ---- the workbook ---------------------------------------------------- */

static void set_properties(iop_rctx *r, const char *title)
{
    char subject[256], comments[512];
    snprintf(subject, sizeof subject, "Monthly outcomes report, %s, %s", r->month_label,
             r->level_label);
    snprintf(comments, sizeof comments, "Written by iopstat %s from load run %ld. "
             "Confidential: 42 CFR Part 2.", IOP_VERSION, r->run);
    lxw_doc_properties p = {
        .title = (char *)title, .subject = subject, .author = "iopstat",
        .category = "Outcomes report", .keywords = "IOP, outcomes, ASAM, monthly",
        .comments = comments, .status = "Final",
        .created = (time_t)r->month_to * 86400,
    };
    workbook_set_properties(r->wb, &p);
}

static iop_code render(iop_rctx *r, const char *path, iop_error *err)
{
    lxw_workbook_options wo = {.constant_memory = 0, .tmpdir = NULL, .use_zip64 = 0};
    iop_code rc = IOP_OK;

    r->wb = workbook_new_opt(path, &wo);
    if (!r->wb)
        return iop_error_set(err, IOP_EIO, path, 0, 0, "cannot create the workbook");
    set_properties(r, r->def->title[0] ? r->def->title : "Monthly outcomes report");
    iop_rfmts_init(&r->f, r->wb);
    for (size_t s = 0; s < r->def->nsheets && rc == IOP_OK; s++) {
        const iop_rsheet *sh = &r->def->sheets[s];
        switch (sh->type) {
        case IOP_RS_SUMMARY: rc = iop_rsheet_summary(r, sh, err); break;
        case IOP_RS_WATCH: rc = iop_rsheet_watch(r, sh, err); break;
        case IOP_RS_DEFS: rc = iop_rsheet_defs(r, sh, err); break;
        case IOP_RS_ABOUT: rc = iop_rsheet_about(r, sh, err); break;
        default: rc = iop_rsheet_section(r, sh, err); break;
        }
    }
    lxw_error le = workbook_close(r->wb);
    r->wb = NULL;
    if (rc == IOP_OK && le != LXW_NO_ERROR)
        rc = iop_error_set(err, IOP_EIO, path, 0, 0, "cannot write the workbook: %s",
                           lxw_strerror(le));
    return rc;
}

static iop_code parse_month(const char *s, long *from, long *to, iop_error *err)
{
    char buf[16];
    if (!s || strlen(s) != 7)
        return iop_error_set(err, IOP_EUSAGE, NULL, 0, 0,
                             "expected a month (YYYY-MM) in '--month', got '%s'", s ? s : "");
    snprintf(buf, sizeof buf, "%s-01", s);
    if (!iop_date_parse(buf, 10, from))
        return iop_error_set(err, IOP_EUSAGE, NULL, 0, 0,
                             "expected a month (YYYY-MM) in '--month', got '%s'", s);
    *to = iop_rmonth_end(*from, 0);
    return IOP_OK;
}

static void default_path(const iop_report_opts *o, char *path, size_t size)
{
    if (o->out_path) {
        snprintf(path, size, "%s", o->out_path);
        return;
    }
    if (mkdir("out", 0777) != 0 && errno != EEXIST)
        errno = 0;
    snprintf(path, size, "out/iopstat-monthly-%s-level-%s.xlsx", o->month, o->level);
}

static void month_label(long day, char *out, size_t size)
{
    static const char *const NAMES[] = {"January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December"};
    int y, m;
    iop_date_to_ymd(day, &y, &m, NULL);
    snprintf(out, size, "%s %d", NAMES[m - 1], y);
}

/* Creates the temporary file the workbook will be written to, so that an
 * unwritable -o fails at once, with a reason, before the figures are
 * computed (libxlsxwriter found out only at the end, printing its own
 * "[ERROR] workbook_close()" line). */
static iop_code probe_output(const char *tmp, const char *path, iop_error *err)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (fd < 0)
        return iop_error_set(err, IOP_EIO, path, 0, 0, "cannot write the workbook here: %s",
                             strerror(errno));
    close(fd);
    return IOP_OK;
}

/* The calls run on two connections (iop_mctx.db2), when the second can
 * be had (iop_store_open_twin); it is closed once they are done, before
 * the rendering. */
static iop_code run_calls_two(iop_rctx *r, iop_store *s, iop_error *err)
{
    iop_store twin;
    r->db2 = iop_store_open_twin(&twin, s, r->o->run);
    iop_code rc = run_calls(r, err);
    if (r->db2)
        iop_store_close(&twin);
    r->db2 = NULL;
    return rc;
}

static iop_code prepare(iop_rctx *r, iop_rdef *def, iop_store *s, const char *tmp,
                        const char *path, iop_error *err)
{
    char dir[PATH_MAX];
    const iop_report_opts *o = r->o;
    iop_code rc = parse_month(o->month, &r->month_from, &r->month_to, err);

    if (rc != IOP_OK)
        return rc;
    month_label(r->month_from, r->month_label, sizeof r->month_label);
    if (!iop_report_find_dir(o->reports_dir, o->exe, dir, sizeof dir))
        return iop_error_set(err, IOP_EUSAGE, dir, 0, 0, "no report definitions folder "
                             "(use --reports DIR or IOPSTAT_REPORTS)");
    if ((rc = iop_rdef_load(def, dir, "monthly", err)) != IOP_OK)
        return rc;
    r->def = def;
    if ((rc = open_db(s, o, &r->run, err)) != IOP_OK)
        return rc;
    r->db = s->db;
    if ((rc = describe(r, err)) == IOP_OK && (rc = plan_sections(r, def, err)) == IOP_OK &&
        (rc = probe_output(tmp, path, err)) == IOP_OK)
        rc = run_calls_two(r, s, err);
    return rc;
}

iop_code iop_report_monthly(const iop_report_opts *o, char *path, size_t size,
                            iop_error *err)
{
    iop_rctx r;
    iop_rdef def;
    iop_store s;
    char tmp[PATH_MAX + 8];

    memset(&r, 0, sizeof r);
    memset(&def, 0, sizeof def);
    memset(&s, 0, sizeof s);
    r.o = o;
    default_path(o, path, size);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    iop_code rc = prepare(&r, &def, &s, tmp, path, err);
    if (rc == IOP_OK)
        rc = render(&r, tmp, err);
    if (rc == IOP_OK && rename(tmp, path) != 0)
        rc = iop_error_set(err, IOP_EIO, path, 0, 0, "cannot write: %s", strerror(errno));
    if (rc != IOP_OK)
        unlink(tmp); /* harmless when the probe never made it */
    for (size_t i = 0; i < r.ncalls; i++) {
        iop_rows_release(&r.calls[i].rows);
        free(r.calls[i].want);
    }
    free(r.calls);
    iop_rdef_release(&def);
    iop_store_close(&s);
    return rc;
}
