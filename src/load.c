/*
 * load.c - the load stage: read each file of an extract, validate its
 * records, and upsert them in one transaction (see iop/load.h).
 *
 * Per record: the reader's own faults (malformed CSV), then the field
 * count, then every value in column order (validate.c), then the rules
 * that need other rows: the parent exists, dates lie in the right order
 * and window, a discharge date comes with its reason. The first problem
 * found rejects the record; it is stored in `rejects` and, for the first
 * few of each file, printed as FILE:LINE:COLUMN: message.
 * Limits: memory holds one record and one cached parent, whatever the
 * size of the extract.
 */
#include "iop/load.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iop/date.h"
#include "iop/feed.h"
#include "iop/ingest.h"
#include "iop/progress.h"
#include "iop/store.h"
#include "iop/validate.h"

#define NO_DATE (-1000000L)

/* The state of one load. */
typedef struct loader {
    const iop_load_opts *o;
    iop_store store;
    iop_validate_ctx vctx;
    long run;
    sqlite3_stmt *reject, *client, *episode;
    /* the last parent looked up */
    char parent_id[256];
    int parent_found;
    long parent_admit, parent_discharge;
    iop_progress progress;
} loader;

/* The state of one file. */
typedef struct file_state {
    const iop_table *t;
    const char *path;
    iop_load_file *stats;
    iop_layout lay;
    int map[IOP_FIELDS_MAX];     /* field -> column, or -1 */
    int shown;                   /* reject messages printed */
    char fault[160];             /* the text of lay.file_fault, if built */
} file_state;

void iop_load_opts_init(iop_load_opts *o)
{
    memset(o, 0, sizeof *o);
    o->now = time(NULL);
    o->busy_ms = 10000;
    o->max_messages = 10;
}

static iop_code sql_fail(loader *L, iop_error *err, const char *what)
{
    return iop_error_set(err, IOP_EIO, L->o->db_path, 0, 0, "%s: %s", what,
                         sqlite3_errmsg(L->store.db));
}

/* The length of s cut at max bytes without splitting a UTF-8 character. */
static size_t cut_utf8(const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    while (n > 0 && s[n] && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

/* Stores one rejected record and prints the first few of each file. */
static iop_code reject(loader *L, file_state *f, long line, long column,
                       const char *value, const char *reason, iop_error *err)
{
    sqlite3_stmt *st = L->reject;
    const char *cname = NULL;
    if (column > 0 && (size_t)column <= f->lay.nheader && f->map[column - 1] >= 0)
        cname = f->t->cols[f->map[column - 1]].name;
    f->stats->rejected++;
    sqlite3_bind_int64(st, 1, L->run);
    sqlite3_bind_text(st, 2, f->t->file, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, line);
    sqlite3_bind_int64(st, 4, column);
    sqlite3_bind_text(st, 5, cname, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, value, value ? (int)cut_utf8(value, 256) : 0, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, reason, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return sql_fail(L, err, "cannot write table rejects");
    if (L->o->diag && f->shown++ < L->o->max_messages) {
        iop_progress_clear(&L->progress);
        fprintf(L->o->diag, "iopstat: %s:%ld:", f->path, line);
        if (column > 0)
            fprintf(L->o->diag, "%ld:", column);
        fprintf(L->o->diag, " %s", reason);
        if (value)
            fprintf(L->o->diag, ", got '%.60s%s'", value, strlen(value) > 60 ? "..." : "");
        fputc('\n', L->o->diag);
    }
    return IOP_OK;
}

/* Looks up the parent of a record, caching the last one. */
static int find_parent(loader *L, const iop_table *t, const char *id, iop_error *err)
{
    sqlite3_stmt *st = t->parent == IOP_PARENT_CLIENT ? L->client : L->episode;
    if (strcmp(id, L->parent_id) == 0)
        return L->parent_found;
    snprintf(L->parent_id, sizeof L->parent_id, "%s", id);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    L->parent_found = rc == SQLITE_ROW;
    if (L->parent_found && t->parent == IOP_PARENT_EPISODE) {
        long d;
        const char *a = (const char *)sqlite3_column_text(st, 0);
        const char *b = (const char *)sqlite3_column_text(st, 1);
        L->parent_admit = a && iop_date_parse(a, strlen(a), &d) ? d : NO_DATE;
        L->parent_discharge = b && iop_date_parse(b, strlen(b), &d) ? d : NO_DATE;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        L->parent_id[0] = '\0';
        sql_fail(L, err, "cannot look up parent");
        return -1;
    }
    return L->parent_found;
}

/* A record-level problem found by check_rules(): the column (index into
 * t->cols) it is about and why. */
typedef struct problem {
    int col;
    char why[160];
} problem;

static int episode_rules(const iop_value *v, problem *p)
{
    /* 3 admit_date, 6 discharge_date, 7 discharge_reason */
    if (v[6].type != IOP_V_NULL && v[6].i < v[3].i) {
        p->col = 6;
        snprintf(p->why, sizeof p->why, "discharge_date before admit_date");
        return 1;
    }
    if ((v[6].type == IOP_V_NULL) != (v[7].type == IOP_V_NULL)) {
        p->col = v[6].type == IOP_V_NULL ? 6 : 7;
        snprintf(p->why, sizeof p->why, v[6].type == IOP_V_NULL
                 ? "discharge_reason without discharge_date"
                 : "discharge_date without discharge_reason");
        return 1;
    }
    return 0;
}

/* A dated child of an episode: within admission - 30 days and discharge +
 * 30 days; a follow-up on or after discharge. */
static int dated_rules(const loader *L, const iop_table *t, const iop_value *v,
                       problem *p)
{
    int dc = t->date_col;
    const char *name = t->cols[dc].name;
    long day = v[dc].i;

    p->col = dc;
    if (strcmp(t->name, "followups") == 0) {
        if (L->parent_discharge != NO_DATE && day < L->parent_discharge) {
            snprintf(p->why, sizeof p->why, "%s before the episode's discharge_date", name);
            return 1;
        }
        return 0;
    }
    if (L->parent_admit != NO_DATE && day < L->parent_admit - 30) {
        snprintf(p->why, sizeof p->why, "%s more than 30 days before the episode's admit_date", name);
        return 1;
    }
    if (L->parent_discharge != NO_DATE && day > L->parent_discharge + 30) {
        snprintf(p->why, sizeof p->why, "%s more than 30 days after the episode's discharge_date", name);
        return 1;
    }
    return 0;
}

/* Rules that need other values or rows. Returns 0 (fine), 1 (problem in
 * *p) or -1 (database error in err). */
static int check_rules(loader *L, const iop_table *t, const iop_value *v,
                       problem *p, iop_error *err)
{
    if (t->parent != IOP_PARENT_NONE) {
        int found = find_parent(L, t, v[1].s, err);
        if (found < 0)
            return -1;
        if (!found) {
            p->col = 1;
            snprintf(p->why, sizeof p->why, "%s not found (absent from %s or rejected)",
                     t->parent == IOP_PARENT_CLIENT ? "client" : "episode",
                     t->parent == IOP_PARENT_CLIENT ? "clients.csv" : "episodes.csv");
            return 1;
        }
    }
    if (strcmp(t->name, "episodes") == 0)
        return episode_rules(v, p);
    if (strcmp(t->name, "assessments") == 0 &&
        !iop_validate_score(&L->vctx, v[3].s, v[4].d, p->why, sizeof p->why)) {
        p->col = 4;
        return 1;
    }
    return t->date_col >= 0 ? dated_rules(L, t, v, p) : 0;
}

static long field_no(const file_state *f, int col)
{
    return f->lay.field_of[col] >= 0 ? f->lay.field_of[col] + 1 : 0;
}

/* The text of a validated value, for a reject message. */
static const char *value_text(const iop_value *v, char *buf, size_t size)
{
    switch (v->type) {
    case IOP_V_TEXT: return v->s;
    case IOP_V_INT: snprintf(buf, size, "%lld", (long long)v->i); return buf;
    case IOP_V_REAL: snprintf(buf, size, "%.17g", v->d); return buf;
    default: return NULL;
    }
}

/* Loads one item of the feed: a record rejected by the feed, or a row to
 * check against the database and write. */
static iop_code load_item(loader *L, file_state *f, iop_upsert *u, const iop_item *it,
                          iop_error *err)
{
    problem p;
    char buf[32];
    int rc;

    f->stats->read++;
    /* A rejected record still names its row: --prune must not close it. */
    if (it->reason) {
        if (it->has_key && L->o->prune && iop_upsert_seen(u, it->v, err) != IOP_OK)
            return IOP_EIO;
        return reject(L, f, it->line, it->column, it->value, it->reason, err);
    }
    rc = check_rules(L, f->t, it->v, &p, err);
    if (rc < 0)
        return IOP_EIO;
    if (rc > 0) {
        if (p.col >= (int)f->t->nkey && L->o->prune && iop_upsert_seen(u, it->v, err) != IOP_OK)
            return IOP_EIO;
        return reject(L, f, it->line, field_no(f, p.col),
                      value_text(&it->v[p.col], buf, sizeof buf), p.why, err);
    }
    switch (iop_upsert_row(u, it->v, err)) {
    case IOP_UPSERT_INSERTED: f->stats->inserted++; break;
    case IOP_UPSERT_UPDATED: f->stats->updated++; break;
    case IOP_UPSERT_UNCHANGED: f->stats->unchanged++; break;
    case IOP_UPSERT_DUPLICATE:
        return reject(L, f, it->line, field_no(f, 0), it->v[0].s,
                      "duplicate key: an earlier record of this file has the same key", err);
    default:
        return IOP_EIO;
    }
    f->stats->loaded++;
    return IOP_OK;
}

/*
 * Maps header fields to columns. A missing required column or a column
 * named twice rejects the whole file (f->file_fault); unknown columns are
 * ignored with one warning.
 */
static void map_header(loader *L, file_state *f, const iop_record *h)
{
    char unknown[512] = "";
    const iop_table *t = f->t;

    f->lay.nheader = h->nfields;
    for (size_t c = 0; c < t->ncols; c++)
        f->lay.field_of[c] = -1;
    for (size_t k = 0; k < h->nfields; k++) {
        int c = iop_table_column(t, h->fields[k]);
        f->map[k] = c;
        if (c < 0) {
            size_t n = strlen(unknown);
            snprintf(unknown + n, sizeof unknown - n, "%s'%.40s'", n ? ", " : "", h->fields[k]);
        } else if (f->lay.field_of[c] >= 0) {
            snprintf(f->fault, sizeof f->fault, "column '%s' appears twice in the header; "
                     "no record of this file is loaded", t->cols[c].name);
            f->lay.file_fault = f->fault;
        } else {
            f->lay.field_of[c] = (int)k;
        }
    }
    for (size_t c = 0; c < t->ncols && !f->lay.file_fault; c++)
        if (t->cols[c].required && f->lay.field_of[c] < 0) {
            snprintf(f->fault, sizeof f->fault, "missing required column '%s'; no record of "
                     "this file is loaded", t->cols[c].name);
            f->lay.file_fault = f->fault;
        }
    if (L->o->diag && f->lay.file_fault)
        fprintf(L->o->diag, "iopstat: %s:%ld: %s\n", f->path, h->line, f->lay.file_fault);
    if (L->o->diag && unknown[0])
        fprintf(L->o->diag, "iopstat: %s:%ld: warning: unknown columns ignored: %s\n",
                f->path, h->line, unknown);
}

/* Whether a field of the header holds a CR: the file's lines end in CR
 * alone (old Mac files), so the whole file reads as one header line. It
 * would load nothing, silently, and --prune would then close every row
 * of the table. */
static bool header_has_cr(const iop_record *h)
{
    for (size_t k = 0; k < h->nfields; k++)
        if (memchr(h->fields[k], '\r', h->lens[k]))
            return true;
    return false;
}

static iop_code read_header(loader *L, file_state *f, iop_reader *r, iop_error *err)
{
    iop_record h;
    int rc = iop_reader_next(r, &h, err);

    if (rc < 0)
        return IOP_EIO;
    if (rc == 0) {
        f->lay.file_fault = "file is empty: no header row";
        if (L->o->diag)
            fprintf(L->o->diag, "iopstat: %s: %s\n", f->path, f->lay.file_fault);
        return IOP_OK;
    }
    if (header_has_cr(&h)) {
        f->lay.file_fault = "lines end in CR alone (old Mac files), but only LF or CRLF end "
                            "a line: no record of this file is loaded";
        if (L->o->diag)
            fprintf(L->o->diag, "iopstat: %s:%ld: %s\n", f->path, h.line, f->lay.file_fault);
        return IOP_OK;
    }
    if (h.fault) {
        f->lay.file_fault = "malformed header row; no record of this file is loaded";
        if (L->o->diag)
            fprintf(L->o->diag, "iopstat: %s:%ld: %s (%s)\n", f->path, h.line,
                    f->lay.file_fault, h.fault);
        return IOP_OK;
    }
    map_header(L, f, &h);
    return IOP_OK;
}

/* Loads the records after the header, read and validated by a feed
 * thread; stops the feed early on a database error. */
static iop_code read_records(loader *L, file_state *f, iop_reader *r, iop_upsert *u,
                             iop_error *err)
{
    iop_feed *feed;
    iop_batch *b;
    iop_code rc = iop_feed_start(&feed, r, &f->lay, &L->vctx, err);
    int last = 0;

    while (rc == IOP_OK && !last) {
        b = iop_feed_next(feed);
        for (size_t i = 0; i < b->n && rc == IOP_OK; i++)
            rc = load_item(L, f, u, &b->items[i], err);
        last = b->last;
        if (rc == IOP_OK && last && b->rc != IOP_OK) {
            *err = b->err;
            rc = b->rc;
        }
        iop_progress_update(&L->progress, f->t->file, b->offset, iop_reader_size(r),
                            f->stats->read);
        iop_feed_release(feed, b);
    }
    iop_feed_stop(feed);
    if (rc != IOP_OK && err->code == IOP_OK)
        rc = iop_error_set(err, IOP_EIO, f->path, 0, 0, "load failed");
    return rc;
}

static void print_summary(loader *L, file_state *f)
{
    long more = f->stats->rejected - L->o->max_messages;
    if (L->o->diag && more > 0)
        fprintf(L->o->diag, "iopstat: %s: %ld more rejected records not shown "
                "(SELECT * FROM rejects WHERE run_id = %ld AND file = '%s')\n",
                f->path, more, L->run, f->t->file);
}

/* Loads one input file; a missing optional file is skipped. */
static iop_code load_file(loader *L, const iop_table *t, iop_load_result *res,
                          iop_error *err)
{
    char path[4096];
    file_state f = {.t = t, .path = path, .lay = {.t = t}};
    iop_reader *r = NULL;
    iop_upsert *u = NULL;
    char *indexes = NULL;
    iop_code rc;

    snprintf(path, sizeof path, "%s/%s", L->o->dir, t->file);
    if (access(path, F_OK) != 0 && !t->required_file)
        return IOP_OK;
    if ((rc = iop_reader_open(&r, path, err)) != IOP_OK)
        return rc;
    f.stats = &res->files[res->nfiles++];
    snprintf(f.stats->file, sizeof f.stats->file, "%s", t->file);
    L->parent_id[0] = '\0';
    rc = iop_store_defer_indexes(&L->store, t->name, &indexes, err);
    if (rc == IOP_OK)
        rc = iop_upsert_new(&u, &L->store, t, L->run, err);
    if (rc == IOP_OK)
        rc = read_header(L, &f, r, err);
    if (rc == IOP_OK)
        rc = read_records(L, &f, r, u, err);
    if (rc == IOP_OK && indexes)
        rc = iop_store_exec(&L->store, indexes, err);
    if (rc == IOP_OK && L->o->prune && !f.lay.file_fault) {
        f.stats->pruned = iop_upsert_prune(u, err);
        rc = f.stats->pruned < 0 ? IOP_EIO : IOP_OK;
    }
    iop_progress_done(&L->progress, t->file, f.stats->read);
    f.stats->bytes = iop_reader_size(r);
    iop_reader_sha256(r, f.stats->sha256);
    print_summary(L, &f);
    sqlite3_free(indexes);
    iop_upsert_free(u);
    iop_reader_free(r);
    return rc;
}

static iop_code prepare(loader *L, iop_error *err)
{
    static const char *sql[] = {
        "INSERT INTO rejects (run_id, file, line, \"column\", column_name, value, reason) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        "SELECT 1 FROM main.clients WHERE client_id = ?",
        "SELECT admit_date, discharge_date FROM main.episodes WHERE episode_id = ?",
    };
    sqlite3_stmt **st[] = {&L->reject, &L->client, &L->episode};
    for (size_t i = 0; i < 3; i++)
        if (sqlite3_prepare_v2(L->store.db, sql[i], -1, st[i], NULL) != SQLITE_OK)
            return sql_fail(L, err, "cannot prepare statement");
    return IOP_OK;
}

static void iso_time(time_t t, char buf[32])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Writes load_runs and load_files for the run; sums the totals. */
static iop_code record_run(loader *L, const char *extract_date, iop_load_result *res,
                           iop_error *err)
{
    char started[32], finished[32];
    sqlite3_str *b = sqlite3_str_new(L->store.db);

    for (size_t i = 0; i < res->nfiles; i++) {
        iop_load_file *f = &res->files[i];
        res->read += f->read;
        res->loaded += f->loaded;
        res->rejected += f->rejected;
        sqlite3_str_appendf(b, "INSERT INTO load_files VALUES (%ld, %Q, %Q, %llu, %ld, "
            "%ld, %ld, %ld, %ld, %ld, %ld);", L->run, f->file, f->sha256,
            (unsigned long long)f->bytes, f->read, f->loaded, f->rejected,
            f->inserted, f->updated, f->unchanged, f->pruned);
    }
    iso_time(L->o->now, started);
    iso_time(getenv("SOURCE_DATE_EPOCH") ? L->o->now : time(NULL), finished);
    sqlite3_str_appendf(b, "INSERT INTO load_runs VALUES (%ld, %Q, %Q, %Q, %Q, %Q, %Q, "
        "%ld, %ld, %ld);", L->run, started, finished, extract_date, L->o->dir,
        L->o->options ? L->o->options : "", IOP_VERSION, res->read, res->loaded,
        res->rejected);
    char *sql = sqlite3_str_finish(b);
    iop_code rc = sql ? iop_store_exec(&L->store, sql, err)
                      : iop_error_set(err, IOP_ENOMEM, NULL, 0, 0, "out of memory");
    sqlite3_free(sql);
    /* the reference tables this run was loaded (and is reported) with */
    if (rc == IOP_OK)
        rc = iop_store_keep_reference(&L->store, L->run, err);
    /* the metrics' episode table, built once here instead of by each
     * process that reads the run (docs/schema.md, "facts") */
    return rc == IOP_OK ? iop_store_refresh_facts(&L->store, L->run, err) : rc;
}

static iop_code extract_day(const iop_load_opts *o, loader *L, char date[11],
                            iop_error *err)
{
    long day;
    if (o->extract_date) {
        if (!iop_date_parse(o->extract_date, strlen(o->extract_date), &day))
            return iop_error_set(err, IOP_EUSAGE, NULL, 0, 0,
                                 "expected date (YYYY-MM-DD) in '--extract-date', got '%s'",
                                 o->extract_date);
    } else {
        struct tm tm;
        localtime_r(&o->now, &tm);
        day = iop_date_from_ymd(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    }
    iop_date_format(day, date);
    L->vctx.extract_day = day;
    iop_date_to_ymd(day, &L->vctx.extract_year, NULL, NULL);
    return IOP_OK;
}

static iop_code load_all(loader *L, const char *date, iop_load_result *res,
                         iop_error *err)
{
    size_t nt;
    const iop_table *t = iop_tables(&nt);
    iop_code rc;

    if ((rc = iop_store_migrate(&L->store, err)) != IOP_OK ||
        (rc = iop_store_drop_facts_triggers(&L->store, err)) != IOP_OK ||
        (rc = iop_store_instruments(&L->store, &L->vctx, err)) != IOP_OK ||
        (rc = prepare(L, err)) != IOP_OK)
        return rc;
    L->run = iop_store_latest_run(&L->store) + 1;
    for (size_t i = 0; i < nt && rc == IOP_OK; i++)
        rc = load_file(L, &t[i], res, err);
    if (rc == IOP_OK)
        rc = record_run(L, date, res, err);
    return rc;
}

static void loader_release(loader *L)
{
    sqlite3_finalize(L->reject);
    sqlite3_finalize(L->client);
    sqlite3_finalize(L->episode);
    free(L->vctx.instruments);
    iop_store_close(&L->store);
}

/*
 * Whether path is still the file at_open names and that file is empty: a
 * first load that finds its new file so once it holds the write lock
 * removes it if the load fails, before it lets the lock go (load_once).
 * Another first load that opened the file meanwhile and waits for the
 * lock then writes into a file no longer there; its first write fails,
 * and it loads again into a new file (iop_load).
 */
static bool same_empty_file(const char *path, const struct stat *at_open)
{
    struct stat now;

    return stat(path, &now) == 0 && now.st_size == 0 && now.st_dev == at_open->st_dev &&
           now.st_ino == at_open->st_ino;
}

/* Whether the database file this load opened is gone from its path (or the
 * path names another file): removed by a failed first load it waited
 * for, or by hand. */
static bool file_removed(const char *path, bool opened, const struct stat *at_open)
{
    struct stat now;

    if (!opened || stat(path, &now) != 0)
        return true;
    return now.st_dev != at_open->st_dev || now.st_ino != at_open->st_ino;
}

/* One attempt at the load into o->db_path; *removed says that it failed
 * because the file it opened was removed meanwhile. */
static iop_code load_once(const iop_load_opts *o, iop_load_result *res, bool *removed,
                          iop_error *err)
{
    loader L = {.o = o};
    char date[11];
    struct stat st, at_open;
    bool fresh, opened, new_file;
    iop_code rc;

    memset(res, 0, sizeof *res);
    *removed = false;
    if ((rc = extract_day(o, &L, date, err)) != IOP_OK)
        return rc;
    if (stat(o->dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return iop_error_set(err, IOP_EIO, o->dir, 0, 0, "cannot read extract folder: %s",
                             stat(o->dir, &st) != 0 ? strerror(errno) : "not a folder");
    fresh = lstat(o->db_path, &st) != 0 && errno == ENOENT;
    if ((rc = iop_store_open(&L.store, o->db_path, IOP_STORE_WRITE, o->busy_ms, err)) != IOP_OK)
        return rc;
    opened = stat(o->db_path, &at_open) == 0;
    iop_progress_init(&L.progress, o->progress ? o->diag : NULL);
    rc = iop_store_exec(&L.store, "BEGIN IMMEDIATE", err);
    /* made by this load and still empty now that it holds the lock: no
     * other load wrote into it first */
    new_file = rc == IOP_OK && fresh && opened && same_empty_file(o->db_path, &at_open);
    if (rc == IOP_OK)
        rc = load_all(&L, date, res, err);
    if (rc == IOP_OK && o->strict && res->rejected > 0) {
        rc = iop_error_set(err, IOP_EREJECT, o->dir, 0, 0, "%ld of %ld records rejected "
                           "under --strict; nothing was committed", res->rejected, res->read);
    }
    if (rc == IOP_OK)
        rc = iop_store_exec(&L.store, "COMMIT", err);
    if (rc == IOP_OK) {
        res->run = L.run;
    } else {
        /* A failed first load leaves no file: SQLite made it, empty, at the
         * open. It goes while the lock is still held, so that no other
         * load can have written into it (the rollback then restores the
         * removed file). */
        if (new_file)
            (void)unlink(o->db_path);
        sqlite3_exec(L.store.db, "ROLLBACK", NULL, NULL, NULL);
        if (!new_file && (*removed = file_removed(o->db_path, opened, &at_open)))
            rc = iop_error_set(err, IOP_EIO, o->db_path, 0, 0,
                               "the database file was removed while this load ran (a "
                               "first load that fails removes the empty file it made); "
                               "nothing was loaded: run the load again");
    }
    loader_release(&L);
    return rc;
}

iop_code iop_load(const iop_load_opts *o, iop_load_result *res, iop_error *err)
{
    bool removed;
    iop_code rc = load_once(o, res, &removed, err);

    /* A load that waited for a first load which then failed finds the
     * file it opened removed (load_once) when it first writes,
     * before it has read or printed a record: it loads again, into a new
     * file. */
    if (rc != IOP_OK && removed && res->read == 0) {
        iop_error_clear(err);
        rc = load_once(o, res, &removed, err);
    }
    return rc;
}
