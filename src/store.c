/*
 * store.c - open the SQLite database, apply the schema, pin a load run,
 * and upsert rows with history (see iop/store.h; the load's `facts` table
 * is store_facts.c).
 *
 * Performance: input tables are WITHOUT ROWID, keyed by their ID, so a new
 * row costs one B-tree insert. The upsert tries the plain insert first and
 * looks at the existing row only on a key conflict, so a first load pays
 * nothing for history. Keys of unchanged rows are remembered in a TEMP
 * table (for duplicates and --prune), which stays on disk, not in memory.
 */
#include "iop/store.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iop/sqltext.h"

static iop_code db_error(iop_store *s, iop_error *err, const char *what)
{
    return iop_error_set(err, IOP_EIO, s->path, 0, 0, "%s: %s", what,
                         s->db ? sqlite3_errmsg(s->db) : "cannot open");
}

iop_code iop_store_exec(iop_store *s, const char *sql, iop_error *err)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        iop_error_set(err, IOP_EIO, s->path, 0, 0, "database error: %s",
                      msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        return IOP_EIO;
    }
    return IOP_OK;
}

static int has_object(iop_store *s, const char *name)
{
    sqlite3_stmt *st;
    int found = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM sqlite_master WHERE name = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return found;
}

/* Whether the database is empty, or iopstat's: its settings table names
 * the schema version. */
static bool is_ours_or_empty(iop_store *s)
{
    sqlite3_stmt *st;
    bool ok = false;
    if (sqlite3_prepare_v2(s->db, "SELECT NOT EXISTS (SELECT 1 FROM sqlite_master)",
                           -1, &st, NULL) != SQLITE_OK)
        return false;
    ok = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (ok || !has_object(s, "settings") || !has_object(s, "load_runs"))
        return ok;
    if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM settings WHERE key = 'schema_version'",
                           -1, &st, NULL) != SQLITE_OK)
        return false;
    ok = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return ok;
}

iop_code iop_store_open(iop_store *s, const char *path, int mode, int busy_ms,
                        iop_error *err)
{
    /* One connection per thread: SQLite's connection mutex is not needed. */
    int flags = SQLITE_OPEN_NOMUTEX |
                (mode == IOP_STORE_WRITE ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                                         : SQLITE_OPEN_READONLY);
    memset(s, 0, sizeof *s);
    snprintf(s->path, sizeof s->path, "%s", path);
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        db_error(s, err, "cannot open database");
        iop_store_close(s);
        return IOP_EIO;
    }
    sqlite3_busy_timeout(s->db, busy_ms);
    sqlite3_extended_result_codes(s->db, 1);
    /* A reader sees one state of the database from its open to its close:
     * a read transaction, whose shared lock no load can commit past (the
     * load waits for it, up to its own busy timeout). Read statement by
     * statement, a metrics run could mix two load runs' rows when a load
     * committed between two of its statements. (The pragmas below read the
     * database, so the transaction comes first; foreign_keys, a no-op in a
     * transaction, is off by default, and a reader writes nothing.) */
    if (mode == IOP_STORE_READONLY &&
        sqlite3_exec(s->db, "BEGIN; SELECT count(*) FROM main.sqlite_master", NULL, NULL,
                     NULL) != SQLITE_OK) {
        db_error(s, err, "cannot read the database");
        goto fail;
    }
    /* 16 KiB pages (only a new database takes it) keep B-trees shallow;
     * 16 MiB of page cache (and as much again for sorting, when an index is built:
     * measured, a larger cache made loads no faster and twice as large); temporary tables stay in files. */
    if (iop_store_exec(s, "PRAGMA page_size = 16384; PRAGMA cache_size = -16384;"
                          "PRAGMA temp_store = FILE; PRAGMA foreign_keys = OFF;", err) != IOP_OK)
        goto fail;
    if (mode == IOP_STORE_READONLY && !has_object(s, "load_runs")) {
        iop_error_set(err, IOP_EIO, path, 0, 0,
                      "not an iopstat database (run 'iopstat load' first)");
        goto fail;
    }
    /* A load writes into a new (empty) file or an iopstat database, never
     * into another program's: a table of the same name there gave SQLite's
     * "no such column" instead of a reason. */
    if (mode == IOP_STORE_WRITE && !is_ours_or_empty(s)) {
        iop_error_set(err, IOP_EIO, path, 0, 0, "not an iopstat database: the file holds other "
                      "tables; give 'load' a new file or an iopstat database (nothing was changed)");
        goto fail;
    }
    /* A database last loaded by iopstat 0.1.0 lacks the view episode_core:
     * this connection gets today's views as TEMP views (the next load
     * writes them for good). */
    if (mode == IOP_STORE_READONLY && !has_object(s, "episode_core") &&
        iop_store_exec_views(s, 1, err) != IOP_OK)
        goto fail;
    return IOP_OK;
fail:
    iop_store_close(s);
    return IOP_EIO;
}

void iop_store_close(iop_store *s)
{
    if (s && s->db) {
        sqlite3_close_v2(s->db);
        s->db = NULL;
    }
}

iop_code iop_store_defer_indexes(iop_store *s, const char *table, char **saved,
                                 iop_error *err)
{
    sqlite3_stmt *st = NULL;
    sqlite3_str *create = sqlite3_str_new(s->db), *drop = sqlite3_str_new(s->db);
    char *sql = sqlite3_mprintf("SELECT NOT EXISTS (SELECT 1 FROM main.%s), name, sql "
                                "FROM sqlite_master WHERE type = 'index' AND tbl_name = %Q "
                                "AND sql IS NOT NULL", table, table);
    int rc = sql ? sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) : SQLITE_NOMEM;

    while (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0)) {
        sqlite3_str_appendf(create, "%s;", (const char *)sqlite3_column_text(st, 2));
        sqlite3_str_appendf(drop, "DROP INDEX main.\"%w\";", (const char *)sqlite3_column_text(st, 1));
    }
    sqlite3_finalize(st);
    sqlite3_free(sql);
    *saved = sqlite3_str_finish(create);
    sql = sqlite3_str_finish(drop);
    if (rc != SQLITE_OK) {
        sqlite3_free(*saved);
        *saved = NULL;
        sqlite3_free(sql);
        return db_error(s, err, "cannot read the schema");
    }
    iop_code ic = sql ? iop_store_exec(s, sql, err) : IOP_OK;
    sqlite3_free(sql);
    return ic;
}

/* The reference tables a site may edit with sqlite3; each load keeps its
 * copy of them in <table>_runs (schema.sql). */
static const char *const REFERENCE[] = {"instruments", "levels", "settings"};
#define N_REFERENCE (sizeof REFERENCE / sizeof REFERENCE[0])

/* The columns of main.<table>_runs but run_id, comma-separated and quoted
 * (sqlite3_malloc'd; NULL when out of memory or none). */
static char *reference_columns(iop_store *s, const char *table)
{
    sqlite3_stmt *st;
    sqlite3_str *b = sqlite3_str_new(s->db);
    char *sql = sqlite3_mprintf("SELECT name FROM pragma_table_info('%q_runs', 'main')"
                                " WHERE name <> 'run_id' ORDER BY cid", table);
    int n = 0;

    if (sql && sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW)
            sqlite3_str_appendf(b, "%s\"%w\"", n++ ? ", " : "",
                                (const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
    }
    sqlite3_free(sql);
    char *cols = sqlite3_str_finish(b);
    if (!n) {
        sqlite3_free(cols);
        return NULL;
    }
    return cols;
}

iop_code iop_store_keep_reference(iop_store *s, long run, iop_error *err)
{
    iop_code rc = IOP_OK;
    for (size_t i = 0; i < N_REFERENCE && rc == IOP_OK; i++) {
        char *cols = reference_columns(s, REFERENCE[i]);
        char *sql = cols ? sqlite3_mprintf("INSERT INTO main.\"%w_runs\" (run_id, %s)"
                                           " SELECT %ld, %s FROM main.\"%w\"", REFERENCE[i],
                                           cols, run, cols, REFERENCE[i]) : NULL;
        rc = sql ? iop_store_exec(s, sql, err) : db_error(s, err, "cannot copy a reference table");
        sqlite3_free(sql);
        sqlite3_free(cols);
    }
    return rc;
}

/* TEMP views of the reference tables as load run kept them, for a run
 * before the latest (the latest reads them as they are, like its input
 * tables, so that a site's edit shows at once and the workbook's About
 * calls, which name the run, reproduce it); a run loaded before runs kept
 * them (no copy) shows the tables as they are. */
static iop_code pin_reference(iop_store *s, long run, iop_error *err)
{
    iop_code rc = IOP_OK;
    for (size_t i = 0; i < N_REFERENCE && rc == IOP_OK; i++) {
        sqlite3_stmt *st;
        char *sql = sqlite3_mprintf("SELECT EXISTS (SELECT 1 FROM main.\"%w_runs\""
                                    " WHERE run_id = %ld)", REFERENCE[i], run);
        int kept = 0;
        if (sql && sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK) {
            kept = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0);
            sqlite3_finalize(st);
        }
        sqlite3_free(sql);
        if (!kept)
            continue;
        char *cols = reference_columns(s, REFERENCE[i]);
        sql = cols ? sqlite3_mprintf("CREATE TEMP VIEW \"%w\" AS SELECT %s FROM main.\"%w_runs\""
                                     " WHERE run_id = %ld", REFERENCE[i], cols, REFERENCE[i], run)
                   : NULL;
        rc = sql ? iop_store_exec(s, sql, err) : db_error(s, err, "cannot read a reference table");
        sqlite3_free(sql);
        sqlite3_free(cols);
    }
    return rc;
}

long iop_store_latest_run(iop_store *s)
{
    sqlite3_stmt *st;
    long run = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT coalesce(max(run_id), 0) FROM main.load_runs",
                           -1, &st, NULL) != SQLITE_OK)
        return 0;
    if (sqlite3_step(st) == SQLITE_ROW)
        run = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return run;
}

void iop_store_extract_date(sqlite3 *db, char *out, long *run)
{
    sqlite3_stmt *st;
    out[0] = '\0';
    *run = 0;
    if (sqlite3_prepare_v2(db, "SELECT extract_date, run_id FROM load_state", -1, &st,
                           NULL) != SQLITE_OK)
        return;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 10) {
        memcpy(out, sqlite3_column_text(st, 0), 10);
        out[10] = '\0';
        *run = (long)sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
}

iop_code iop_store_instruments(iop_store *s, iop_validate_ctx *ctx, iop_error *err)
{
    sqlite3_stmt *st;
    size_t cap = 8;

    ctx->ninstruments = 0;
    ctx->instruments = malloc(cap * sizeof *ctx->instruments);
    if (!ctx->instruments)
        return iop_error_set(err, IOP_ENOMEM, NULL, 0, 0, "out of memory");
    if (sqlite3_prepare_v2(s->db, "SELECT name, min, max FROM instruments ORDER BY name",
                           -1, &st, NULL) != SQLITE_OK)
        return db_error(s, err, "cannot read table instruments");
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (ctx->ninstruments == cap) {
            void *p = realloc(ctx->instruments, 2 * cap * sizeof *ctx->instruments);
            if (!p)
                break;
            ctx->instruments = p;
            cap *= 2;
        }
        struct iop_instrument *in = &ctx->instruments[ctx->ninstruments++];
        snprintf(in->name, sizeof in->name, "%s", (const char *)sqlite3_column_text(st, 0));
        in->min = sqlite3_column_double(st, 1);
        in->max = sqlite3_column_double(st, 2);
    }
    sqlite3_finalize(st);
    return IOP_OK;
}

/* How cols() writes column i of a list. */
enum { COL_NAME, COL_PARAM, COL_SAME, COL_SET, COL_KEY };

/* Appends columns [from, to) of t to b, separated by sep:
 * "name", "?N", "name IS ?N", "name = ?N", or "s.name = main.T.name". */
static void cols(sqlite3_str *b, const iop_table *t, size_t from, size_t to,
                 int how, const char *sep)
{
    for (size_t i = from; i < to; i++) {
        const char *c = t->cols[i].name;
        int p = (int)i + 1;
        if (i > from)
            sqlite3_str_appendall(b, sep);
        switch (how) {
        case COL_NAME: sqlite3_str_appendall(b, c); break;
        case COL_PARAM: sqlite3_str_appendf(b, "?%d", p); break;
        case COL_SAME: sqlite3_str_appendf(b, "%s IS ?%d", c, p); break;
        case COL_SET: sqlite3_str_appendf(b, "%s = ?%d", c, p); break;
        default: sqlite3_str_appendf(b, "s.%s = main.%s.%s", c, t->name, c); break;
        }
    }
}

/* The comma-separated column names of t, sqlite3_malloc'd. */
static char *col_names(sqlite3 *db, const iop_table *t, size_t n)
{
    sqlite3_str *b = sqlite3_str_new(db);
    cols(b, t, 0, n, COL_NAME, ", ");
    return sqlite3_str_finish(b);
}

/* *out = whether main.<table>_history holds versions valid at run (rows
 * changed or pruned after it). */
static iop_code history_visible(iop_store *s, const char *table, long run, int *out,
                                iop_error *err)
{
    sqlite3_stmt *st;
    char *sql = sqlite3_mprintf("SELECT EXISTS (SELECT 1 FROM main.\"%w_history\""
                                " WHERE valid_from_run <= %ld AND valid_to_run > %ld)",
                                table, run, run);
    int rc = sql ? sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) : SQLITE_NOMEM;

    sqlite3_free(sql);
    if (rc != SQLITE_OK)
        return db_error(s, err, "cannot read the history of a table");
    rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW && sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? IOP_OK : db_error(s, err, "cannot read the history of a table");
}

/* Appends the columns of main index `index`, in their order, quoted and
 * comma-separated, to b: 1, or 0 when it has none (an index of
 * expressions only), or -1 when SQLite fails. */
static int index_columns(iop_store *s, const char *index, sqlite3_str *b)
{
    sqlite3_stmt *st;
    int n = 0, rc;

    if (sqlite3_prepare_v2(s->db, "SELECT name FROM pragma_index_info(?1, 'main')"
                           " WHERE name IS NOT NULL ORDER BY seqno", -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, index, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        sqlite3_str_appendf(b, "%s\"%w\"", n++ ? ", " : "",
                            (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return rc != SQLITE_DONE ? -1 : n > 0;
}

/* Gives the TEMP table `table` the indexes of main.<table>, its primary
 * key as a unique one, so that the queries' plans stay the same. A
 * missing index would not change a figure, only make a pinned run's
 * queries rescan the copy for every outer row, so any failure to read or
 * copy one is an error, not a skip. */
static iop_code copy_indexes(iop_store *s, const char *table, iop_error *err)
{
    static const char what[] = "cannot read the indexes of a table";
    sqlite3_stmt *st;
    sqlite3_str *b = sqlite3_str_new(s->db);
    iop_code ec = IOP_OK;
    int k = 0, rc = SQLITE_DONE;

    if (sqlite3_prepare_v2(s->db, "SELECT name, \"unique\" FROM pragma_index_list(?1, 'main')"
                           " ORDER BY seq", -1, &st, NULL) != SQLITE_OK) {
        sqlite3_free(sqlite3_str_finish(b));
        return db_error(s, err, what);
    }
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    while (ec == IOP_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        sqlite3_str *cols = sqlite3_str_new(s->db);
        int any = index_columns(s, (const char *)sqlite3_column_text(st, 0), cols);
        char *list = sqlite3_str_finish(cols);
        if (any < 0) /* its message, before another call resets it */
            ec = db_error(s, err, what);
        else if (any > 0 && !list)
            ec = iop_error_set(err, IOP_ENOMEM, s->path, 0, 0, "out of memory");
        else if (any > 0)
            sqlite3_str_appendf(b, "CREATE %sINDEX temp.\"pin_%w_%d\" ON \"%w\" (%s);",
                                sqlite3_column_int(st, 1) ? "UNIQUE " : "", table, k++, table,
                                list);
        sqlite3_free(list);
    }
    if (ec == IOP_OK && rc != SQLITE_DONE)
        ec = db_error(s, err, what);
    sqlite3_finalize(st);
    char *sql = sqlite3_str_finish(b);
    if (ec == IOP_OK && k > 0 && !sql)
        ec = iop_error_set(err, IOP_ENOMEM, s->path, 0, 0, "out of memory");
    else if (ec == IOP_OK && sql)
        ec = iop_store_exec(s, sql, err);
    sqlite3_free(sql);
    return ec;
}

/*
 * Each input table as run N left it, as a TEMP object of the same name
 * (docs/schema.md, "History"):
 * - no version in its history is valid at N (always so for the latest
 *   run): a plain view of the current rows, with `valid_from_run <= N`
 *   unless N is the latest run. SQLite folds such a view into the query,
 *   so the table's indexes serve it.
 * - otherwise the current rows valid at N and the closed versions valid
 *   at N, copied into a TEMP table with the table's indexes. A view of
 *   the two (UNION ALL) cannot use an index inside a join or a
 *   correlated subquery: SQLite rescans it for every outer row (a
 *   12-month `metrics --run 1` on 50,000 sessions took 45 s; 0.3 s with
 *   the copy). The copy is linear: its time and temporary disk grow with
 *   the table.
 */
iop_code iop_store_pin_run(iop_store *s, long run, iop_error *err)
{
    size_t nt;
    const iop_table *t = iop_tables(&nt);
    long latest = iop_store_latest_run(s);
    int closed[16] = {0};
    iop_code rc = IOP_OK;

    if (run < 1 || run > latest)
        return iop_error_set(err, IOP_EUSAGE, NULL, 0, 0,
                             "no load run %ld in '%s'", run, s->path);
    if (nt > sizeof closed / sizeof closed[0])
        return iop_error_set(err, IOP_EIO, NULL, 0, 0, "internal error: too many tables");
    sqlite3_str *b = sqlite3_str_new(s->db);
    sqlite3_str_appendf(b, "CREATE TEMP VIEW load_runs AS "
                        "SELECT * FROM main.load_runs WHERE run_id <= %ld;", run);
    for (size_t i = 0; i < nt && rc == IOP_OK; i++) {
        char *names = col_names(s->db, &t[i], t[i].ncols);
        rc = history_visible(s, t[i].name, run, &closed[i], err);
        if (rc == IOP_OK && !closed[i]) {
            sqlite3_str_appendf(b, "CREATE TEMP VIEW %s AS SELECT %s, valid_from_run FROM main.%s",
                                t[i].name, names, t[i].name);
            if (run < latest)
                sqlite3_str_appendf(b, " WHERE valid_from_run <= %ld", run);
            sqlite3_str_appendall(b, ";");
        } else if (rc == IOP_OK) {
            sqlite3_str_appendf(b,
                "CREATE TEMP TABLE %s AS SELECT %s, valid_from_run FROM main.%s "
                "WHERE valid_from_run <= %ld UNION ALL SELECT %s, valid_from_run "
                "FROM main.%s_history WHERE valid_from_run <= %ld AND valid_to_run > %ld;",
                t[i].name, names, t[i].name, run, names, t[i].name, run, run);
        }
        sqlite3_free(names);
    }
    char *sql = sqlite3_str_finish(b);
    if (rc == IOP_OK)
        rc = sql ? iop_store_exec(s, sql, err)
                 : iop_error_set(err, IOP_ENOMEM, NULL, 0, 0, "out of memory");
    sqlite3_free(sql);
    for (size_t i = 0; i < nt && rc == IOP_OK; i++)
        if (closed[i])
            rc = copy_indexes(s, t[i].name, err);
    if (rc == IOP_OK && run < latest) /* the latest run reads them as they are */
        rc = pin_reference(s, run, err);
    return rc != IOP_OK ? rc : iop_store_exec_views(s, 1, err);
}

/* Returns a malloc'd copy of text with every `from` replaced by `to`. */
static char *replace_all(const char *text, const char *from, const char *to)
{
    size_t lf = strlen(from), lt = strlen(to), n = 0;
    for (const char *p = text; (p = strstr(p, from)); p += lf)
        n++;
    char *out = malloc(strlen(text) + n * (lt > lf ? lt - lf : 0) + 1), *w = out;
    if (!out)
        return NULL;
    for (const char *p = text, *q; ; p = q + lf) {
        q = strstr(p, from);
        size_t k = q ? (size_t)(q - p) : strlen(p);
        memcpy(w, p, k);
        w += k;
        if (!q)
            break;
        memcpy(w, to, lt);
        w += lt;
    }
    *w = '\0';
    return out;
}

iop_code iop_store_exec_views(iop_store *s, int temp, iop_error *err)
{
    if (!temp)
        return iop_store_exec(s, iop_sql_views, err);
    char *a = replace_all(iop_sql_views, "CREATE VIEW ", "CREATE TEMP VIEW ");
    char *b = a ? replace_all(a, "DROP VIEW IF EXISTS ", "DROP VIEW IF EXISTS temp.") : NULL;
    iop_code rc = b ? iop_store_exec(s, b, err)
                    : iop_error_set(err, IOP_ENOMEM, NULL, 0, 0, "out of memory");
    free(a);
    free(b);
    return rc;
}

iop_code iop_store_migrate(iop_store *s, iop_error *err)
{
    if (iop_store_exec(s, iop_sql_schema, err) != IOP_OK)
        return IOP_EIO;
    return iop_store_exec_views(s, 0, err);
}

/* ---- upsert ---------------------------------------------------------- */

enum { ST_INSERT, ST_PROBE, ST_SEEN, ST_CLOSE, ST_UPDATE, ST_COUNT };

struct iop_upsert {
    iop_store *s;
    const iop_table *t;
    long run;
    sqlite3_stmt *st[ST_COUNT];
};

/* Builds the statements of the upsert from the table description; each
 * binds ?1..?n to the columns and ?n+1 to the run. */
static char *build_sql(sqlite3 *db, const iop_table *t, int which)
{
    int runp = (int)t->ncols + 1;
    char *names = col_names(db, t, t->ncols);
    sqlite3_str *b = sqlite3_str_new(db);

    switch (which) {
    case ST_INSERT:
        sqlite3_str_appendf(b, "INSERT INTO main.%s (%s, valid_from_run) VALUES (",
                            t->name, names);
        cols(b, t, 0, t->ncols, COL_PARAM, ", ");
        sqlite3_str_appendf(b, ", ?%d) ON CONFLICT DO NOTHING", runp);
        break;
    case ST_PROBE:
        sqlite3_str_appendall(b, "SELECT valid_from_run, ");
        cols(b, t, 0, t->ncols, COL_SAME, " AND ");
        sqlite3_str_appendf(b, " FROM main.%s WHERE ", t->name);
        break;
    case ST_SEEN:
        sqlite3_str_appendf(b, "INSERT INTO temp.seen_%s VALUES (", t->name);
        cols(b, t, 0, t->nkey, COL_PARAM, ", ");
        sqlite3_str_appendall(b, ") ON CONFLICT DO NOTHING");
        break;
    case ST_CLOSE:
        sqlite3_str_appendf(b, "INSERT INTO main.%s_history (%s, valid_from_run, "
                            "valid_to_run) SELECT %s, valid_from_run, ?%d FROM main.%s WHERE ",
                            t->name, names, names, runp, t->name);
        break;
    default:
        sqlite3_str_appendf(b, "UPDATE main.%s SET ", t->name);
        cols(b, t, t->nkey, t->ncols, COL_SET, ", ");
        sqlite3_str_appendf(b, ", valid_from_run = ?%d WHERE ", runp);
        break;
    }
    if (which != ST_INSERT && which != ST_SEEN)
        cols(b, t, 0, t->nkey, COL_SET, " AND ");
    sqlite3_free(names);
    return sqlite3_str_finish(b);
}

iop_code iop_upsert_new(iop_upsert **out, iop_store *s, const iop_table *t,
                        long run, iop_error *err)
{
    iop_upsert *u = calloc(1, sizeof *u);
    char *keys, *sql;

    *out = NULL;
    if (!u)
        return iop_error_set(err, IOP_ENOMEM, NULL, 0, 0, "out of memory");
    u->s = s;
    u->t = t;
    u->run = run;
    keys = col_names(s->db, t, t->nkey);
    sql = sqlite3_mprintf("CREATE TEMP TABLE IF NOT EXISTS seen_%s (%s, "
                          "PRIMARY KEY (%s)) WITHOUT ROWID; DELETE FROM temp.seen_%s;",
                          t->name, keys, keys, t->name);
    sqlite3_free(keys);
    iop_code rc = iop_store_exec(s, sql, err);
    sqlite3_free(sql);
    if (rc != IOP_OK)
        goto fail;
    for (int i = 0; i < ST_COUNT; i++) {
        sql = build_sql(s->db, t, i);
        rc = sqlite3_prepare_v2(s->db, sql, -1, &u->st[i], NULL);
        sqlite3_free(sql);
        if (rc != SQLITE_OK) {
            db_error(s, err, "cannot prepare upsert");
            goto fail;
        }
    }
    *out = u;
    return IOP_OK;
fail:
    iop_upsert_free(u);
    return err ? err->code : IOP_EIO;
}

void iop_upsert_free(iop_upsert *u)
{
    if (!u)
        return;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(u->st[i]);
    free(u);
}

static int bind_all(iop_upsert *u, sqlite3_stmt *st, const iop_value *v)
{
    int n = sqlite3_bind_parameter_count(st), rc = SQLITE_OK;
    for (int i = 1; i <= n && rc == SQLITE_OK; i++) {
        if (i == (int)u->t->ncols + 1) {
            rc = sqlite3_bind_int64(st, i, u->run);
            continue;
        }
        const iop_value *x = &v[i - 1];
        switch (x->type) {
        case IOP_V_NULL: rc = sqlite3_bind_null(st, i); break;
        case IOP_V_INT: rc = sqlite3_bind_int64(st, i, x->i); break;
        case IOP_V_REAL: rc = sqlite3_bind_double(st, i, x->d); break;
        case IOP_V_TEXT: rc = sqlite3_bind_text(st, i, x->s, (int)x->len, SQLITE_STATIC); break;
        }
    }
    return rc;
}

/* Binds, steps once and resets st; returns the step's result code. */
static int run_stmt(iop_upsert *u, sqlite3_stmt *st, const iop_value *v)
{
    int rc = bind_all(u, st, v);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        sqlite3_reset(st);
    return rc;
}

iop_upsert_result iop_upsert_row(iop_upsert *u, const iop_value *v, iop_error *err)
{
    sqlite3 *db = u->s->db;
    long vfr;
    int same;

    if (run_stmt(u, u->st[ST_INSERT], v) != SQLITE_DONE)
        goto fail;
    if (sqlite3_changes(db) == 1)
        return IOP_UPSERT_INSERTED;
    if (run_stmt(u, u->st[ST_PROBE], v) != SQLITE_ROW)
        goto fail;
    vfr = (long)sqlite3_column_int64(u->st[ST_PROBE], 0);
    same = sqlite3_column_int(u->st[ST_PROBE], 1);
    sqlite3_reset(u->st[ST_PROBE]);
    if (vfr == u->run)
        return IOP_UPSERT_DUPLICATE;
    if (run_stmt(u, u->st[ST_SEEN], v) != SQLITE_DONE)
        goto fail;
    if (sqlite3_changes(db) == 0)
        return IOP_UPSERT_DUPLICATE;
    if (same)
        return IOP_UPSERT_UNCHANGED;
    if (run_stmt(u, u->st[ST_CLOSE], v) != SQLITE_DONE ||
        run_stmt(u, u->st[ST_UPDATE], v) != SQLITE_DONE)
        goto fail;
    return IOP_UPSERT_UPDATED;
fail:
    db_error(u->s, err, "cannot write table");
    return IOP_UPSERT_ERROR;
}

iop_code iop_upsert_seen(iop_upsert *u, const iop_value *v, iop_error *err)
{
    if (run_stmt(u, u->st[ST_SEEN], v) != SQLITE_DONE)
        return db_error(u->s, err, "cannot write temporary table");
    return IOP_OK;
}

long iop_upsert_prune(iop_upsert *u, iop_error *err)
{
    const iop_table *t = u->t;
    char *names = col_names(u->s->db, t, t->ncols);
    sqlite3_str *g = sqlite3_str_new(u->s->db);

    sqlite3_str_appendf(g, "valid_from_run < %ld AND NOT EXISTS (SELECT 1 FROM "
                        "temp.seen_%s AS s WHERE ", u->run, t->name);
    cols(g, t, 0, t->nkey, COL_KEY, " AND ");
    sqlite3_str_appendall(g, ")");
    char *gone = sqlite3_str_finish(g);
    char *sql = sqlite3_mprintf("INSERT INTO main.%s_history (%s, valid_from_run, "
        "valid_to_run) SELECT %s, valid_from_run, %ld FROM main.%s WHERE %s; "
        "DELETE FROM main.%s WHERE %s;", t->name, names, names, u->run,
        t->name, gone, t->name, gone);
    iop_code rc = sql ? iop_store_exec(u->s, sql, err)
                      : iop_error_set(err, IOP_ENOMEM, NULL, 0, 0, "out of memory");
    sqlite3_free(names);
    sqlite3_free(gone);
    sqlite3_free(sql);
    return rc == IOP_OK ? (long)sqlite3_changes(u->s->db) : -1;
}
