/*
 * report_about.c - the About sheet (the lineage of the workbook) and a
 * writer of SQL results as typed tables that the Watch List shares.
 *
 * About lists: the software and the exact command; the load runs behind
 * the data (up to the pinned run) with their files, SHA-256 checksums,
 * row counts and rejects (tables load_runs, load_files); and every
 * `iopstat metrics` call whose rows are on the workbook, numbered C1, C2,
 * ... as the figure rows name them, with the sheets that use it.
 */
#include <stdio.h>
#include <string.h>

#include "iop/date.h"
#include "iop/report.h"

/* Writes an ISO date or date-time text as an Excel date. */
static void write_when(iop_rctx *r, iop_rws *s, int row, int col, const char *v)
{
    lxw_datetime dt = {0};
    int n = sscanf(v, "%4d-%2d-%2dT%2d:%2d:%lf", &dt.year, &dt.month, &dt.day, &dt.hour,
                   &dt.min, &dt.sec);
    if (n == 3 && strlen(v) == 10) {
        worksheet_write_datetime(s->ws, (lxw_row_t)row, (lxw_col_t)col, &dt, r->f.date);
        iop_rws_min(s, col, 11);
    } else if (n == 6) {
        worksheet_write_datetime(s->ws, (lxw_row_t)row, (lxw_col_t)col, &dt, r->f.datetime);
        iop_rws_min(s, col, 20);
    } else {
        iop_rws_str(s, row, col, v, r->f.text);
    }
}

/* Writes the result of sql (?1, ?2 bound to bind1, bind2 when given) as
 * a table under heads at row, at most limit rows (0: all); types holds a
 * letter per column: i number, d ISO date or date-time, t text. Returns
 * the next free row, -1 on a database error; *total gets the row count. */
int iop_rws_query(iop_rctx *r, iop_rws *s, int row, const char *sql, const char *types,
                  const char *const *heads, const char *bind1, const char *bind2, long limit,
                  long *total)
{
    sqlite3_stmt *st;
    int ncol = (int)strlen(types), rc;
    long k = 0;

    for (int c = 0; c < ncol; c++)
        iop_rws_str(s, row, c, heads[c], r->f.header);
    row++;
    if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (bind1)
        sqlite3_bind_text(st, 1, bind1, -1, SQLITE_STATIC);
    if (bind2)
        sqlite3_bind_text(st, 2, bind2, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (limit > 0 && ++k > limit)
            continue;
        if (limit <= 0)
            k++;
        for (int c = 0; c < ncol; c++) {
            const char *v = (const char *)sqlite3_column_text(st, c);
            if (!v)
                continue;
            if (types[c] == 'i')
                iop_rws_num(s, row, c, sqlite3_column_double(st, c), r->f.kind[IOP_RF_COUNT]);
            else if (types[c] == 'd')
                write_when(r, s, row, c, v);
            else
                iop_rws_str(s, row, c, v, r->f.text);
        }
        row++;
    }
    if (total)
        *total = k;
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? row : -1;
}

static void kv(iop_rctx *r, iop_rws *s, int row, const char *k, const char *v)
{
    iop_rws_str(s, row, 0, k, r->f.label);
    iop_rws_str(s, row, 1, v, r->f.text);
}

/* A shell word: quoted when it holds anything but [A-Za-z0-9._/=-]. */
static void shell_word(const char *w, char *out, size_t size)
{
    if (w[strspn(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._/=-")] == '\0') {
        snprintf(out, size, "%s", w);
        return;
    }
    size_t n = 0;
    out[n++] = '\'';
    for (; *w && n + 6 < size; w++) {
        if (*w == '\'') {
            memcpy(out + n, "'\\''", 4);
            n += 4;
        } else {
            out[n++] = *w;
        }
    }
    out[n++] = '\'';
    out[n] = '\0';
}

static int report_block(iop_rctx *r, iop_rws *s, int row)
{
    char buf[512];
    kv(r, s, row++, "Software", "iopstat " IOP_VERSION);
    kv(r, s, row++, "Command", r->o->command ? r->o->command : "");
    kv(r, s, row++, "Database", r->o->db_path);
    snprintf(buf, sizeof buf, "%ld%s", r->run, r->o->run ? " (pinned with --run)" : " (the latest)");
    kv(r, s, row++, "Load run", buf);
    kv(r, s, row++, "Level of care", r->level_label);
    iop_rws_str(s, row, 0, "Report month", r->f.label);
    iop_rws_date(s, row, 1, r->month_from, r->f.date);
    iop_rws_date(s, row++, 2, r->month_to, r->f.date);
    snprintf(buf, sizeof buf, "%s", r->o->suppress > 1 ? "" : "none (internal report)");
    if (r->o->suppress > 1)
        snprintf(buf, sizeof buf, "counts and rates resting on 1 to %ld (the figure's own n), "
                 "and the next smallest cell of a set with a printed total where only one "
                 "is; the Watch List gives its count only, no clients "
                 "(docs/report-monthly.md)", r->o->suppress - 1);
    kv(r, s, row++, "Small-cell suppression", buf);
    kv(r, s, row++, "Periods", "Census, completion, step-down, attendance, drug screens, "
       "follow-up and data quality: the report month. Retention and outcomes: the 12 months "
       "ending with the report month (a one-month cohort has too little follow-up).");
    return row;
}

static const char RUNS_SQL[] =
    "SELECT run_id, started_at, finished_at, extract_date, extract_dir, options,"
    " software_version, records_read, records_loaded, records_rejected"
    " FROM load_runs WHERE run_id <= ?1 ORDER BY run_id";
static const char FILES_SQL[] =
    "SELECT run_id, file, sha256, bytes, records_read, records_loaded, records_rejected,"
    " inserted, updated, unchanged, pruned FROM load_files WHERE run_id <= ?1"
    " ORDER BY run_id, file";
static const char *const RUNS_HEAD[] = {"Run", "Started (UTC)", "Finished (UTC)",
    "Extract date", "Extract folder", "Command", "Software", "Records read", "Loaded",
    "Rejected"};
static const char *const FILES_HEAD[] = {"Run", "File", "SHA-256", "Bytes", "Records read",
    "Loaded", "Rejected", "Inserted", "Updated", "Unchanged", "Pruned"};

static int calls_block(iop_rctx *r, iop_rws *s, int row)
{
    static const char *const HEAD[] = {"Call", "Used by", "From", "To", "By", "Command"};
    char cmd[1024], db[600], buf[32];
    for (int c = 0; c < 6; c++)
        iop_rws_str(s, row, c, HEAD[c], r->f.header);
    row++;
    shell_word(r->o->db_path, db, sizeof db);
    for (size_t i = 0; i < r->ncalls; i++, row++) {
        const iop_rcall *c = &r->calls[i];
        snprintf(buf, sizeof buf, "C%zu", i + 1);
        iop_rws_str(s, row, 0, buf, r->f.label);
        iop_rws_str(s, row, 1, c->purpose, r->f.text);
        iop_rws_date(s, row, 2, c->from, r->f.date);
        iop_rws_date(s, row, 3, c->to, r->f.date);
        iop_rws_str(s, row, 4, c->by[0] ? c->by : "", r->f.text);
        snprintf(cmd, sizeof cmd, "iopstat metrics --from %s --to %s --level %s%s%s --run %ld --db %s",
                 c->from_s, c->to_s, r->o->level, c->by[0] ? " --by " : "", c->by, r->run, db);
        iop_rws_str(s, row, 5, cmd, r->f.text);
    }
    return row;
}

iop_code iop_rsheet_about(iop_rctx *r, const iop_rsheet *sh, iop_error *err)
{
    iop_rws s;
    char run[24];
    int row = iop_rws_open(r, &s, sh, sh->title), calls;

    if (row < 0)
        return iop_error_set(err, IOP_EUSAGE, NULL, 0, 0, "cannot add sheet '%s'", sh->name);
    snprintf(run, sizeof run, "%ld", r->run);
    row = report_block(r, &s, row) + 1;
    iop_rws_str(&s, row++, 0, "Load runs behind the data", r->f.label);
    row = iop_rws_query(r, &s, row, RUNS_SQL, "iddddttiii", RUNS_HEAD, run, NULL, 0, NULL);
    if (row >= 0) {
        iop_rws_str(&s, ++row, 0, "Input files of those runs", r->f.label);
        row = iop_rws_query(r, &s, row + 1, FILES_SQL, "ittiiiiiiii", FILES_HEAD, run, NULL, 0,
                            NULL);
    }
    if (row++ < 0) {
        iop_rws_release(&s);
        return iop_error_set(err, IOP_EIO, NULL, 0, 0, "database error: %s", sqlite3_errmsg(r->db));
    }
    iop_rws_str(&s, row++, 0, "The iopstat metrics call behind each figure (column Call of "
                "every sheet)", r->f.label);
    calls = row;
    row = calls_block(r, &s, row);
    iop_rws_define(r, &s, "calls", calls, 0, row - 1, 5);
    iop_rws_min(&s, 0, 22);
    s.width[1] = s.width[1] > 40 ? 40 : s.width[1];
    iop_rws_finish(r, &s, -1, row - 1, 5);
    return IOP_OK;
}
