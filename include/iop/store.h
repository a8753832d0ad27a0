/*
 * store.h - the store stage: the SQLite database of docs/schema.md.
 *
 * An iop_store is an open database with the public schema applied. Writers
 * (load) open it read-write and hold one IMMEDIATE transaction for a whole
 * load; readers (metrics, reports, query) open it read-only and may pin it
 * to the state a given load run left (iop_store_pin_run).
 *
 * An iop_upsert loads the rows of one input table: insert new keys, keep
 * unchanged rows, close a changed row's old version into <table>_history
 * and write the new one, and, with prune, close the rows this load did not
 * see. All SQL is built from the constant table descriptions of
 * validate.h, never from input text; values are always bound.
 */
#ifndef IOP_STORE_H
#define IOP_STORE_H

#include <stdbool.h>

#include <sqlite3.h>

#include "iop/error.h"
#include "iop/validate.h"

typedef struct iop_store {
    sqlite3 *db;
    char path[1024];
} iop_store;

enum { IOP_STORE_READONLY = 0, IOP_STORE_WRITE = 1 };

/*
 * Opens path. IOP_STORE_WRITE creates the file if needed and applies the
 * schema and views (in the caller's transaction if one is open later: the
 * schema statements are idempotent). IOP_STORE_READONLY requires an
 * existing iopstat database, and opens a read transaction that lasts until
 * iop_store_close: every statement on the connection sees the database as
 * it was at the open, and no load commits before the close (it waits, up
 * to its busy timeout). busy_ms is how long to wait for another writer's
 * lock. Returns IOP_OK, or IOP_EIO with the reason in err ("database is
 * locked" when a load held the database for busy_ms).
 */
iop_code iop_store_open(iop_store *s, const char *path, int mode, int busy_ms,
                        iop_error *err);

/* Closes the database; a zeroed or closed store is a no-op. */
void iop_store_close(iop_store *s);

/* Runs sql (several statements); IOP_EIO with SQLite's message on error. */
iop_code iop_store_exec(iop_store *s, const char *sql, iop_error *err);

/* Creates or updates the schema and the derived views (sql/schema.sql,
 * sql/views.sql); a writer calls it inside its transaction. */
iop_code iop_store_migrate(iop_store *s, iop_error *err);

/* Runs sql/views.sql; with temp, as TEMP views (see iop_store_pin_run). */
iop_code iop_store_exec_views(iop_store *s, int temp, iop_error *err);

/*
 * When table is empty, drops its secondary indexes and returns their
 * CREATE statements in *saved (a sqlite3_malloc'd, ';'-joined string, or
 * NULL when there is nothing to restore): building an index once after a
 * bulk insert is faster than updating it row by row. The caller runs
 * *saved after the insert, inside the same transaction, and frees it
 * with sqlite3_free().
 */
iop_code iop_store_defer_indexes(iop_store *s, const char *table, char **saved,
                                 iop_error *err);

/*
 * Copies the reference tables a site may edit (instruments, levels,
 * settings) into their <table>_runs copies under run: what that load ran
 * with, which iop_store_pin_run() shows for it.
 */
iop_code iop_store_keep_reference(iop_store *s, long run, iop_error *err);

/*
 * `facts`: episode_core with end_date (the discharge date, or 9999-12-31
 * while open), in each client's order of episodes, and its indexes; the
 * table every metric reads (metrics_run.c). A load writes it into main for
 * its run (iop_store_refresh_facts); a connection that cannot use that
 * copy builds it as a TEMP table, which shadows main's. indexes is a
 * format with one %s, the schema ("main." or "temp.").
 */
extern const char iop_facts_select[];
extern const char iop_facts_indexes[];

/*
 * Writes main.facts and its indexes for load run `run`, and the triggers
 * that void it (main.facts_state) when a site edits episodes, clients or
 * levels afterwards. Called by the load, inside its transaction; the load
 * first drops the triggers (iop_store_drop_facts_triggers) so that its
 * own writes do not fire them row by row.
 */
iop_code iop_store_refresh_facts(iop_store *s, long run, iop_error *err);
iop_code iop_store_drop_facts_triggers(iop_store *s, iop_error *err);

/*
 * Whether main.facts holds what a TEMP build would on db now: written by
 * the latest load, the connection sees that run (not pinned to an earlier
 * one), nothing voided it since, and it was built from this build's SQL
 * (the views' text, iop_facts_select and its indexes). false on any error.
 */
bool iop_store_facts_current(sqlite3 *db);

/*
 * A second read-only connection to first's database for iop_mctx.db2,
 * pinned to run when run is not 0 (as first is), into twin: its handle,
 * or NULL when the metrics cannot read the load's `facts` on first (each
 * connection would build its own, in twice the memory), or when it
 * cannot be opened at once (it never waits for a lock). first's read
 * transaction (iop_store_open) keeps any load from committing between the
 * two opens, so twin sees first's state. The caller
 * closes twin when the result is not NULL; the figures are the same on
 * one connection.
 */
sqlite3 *iop_store_open_twin(iop_store *twin, iop_store *first, long run);

/* The latest load run, 0 when none. */
long iop_store_latest_run(iop_store *s);

/*
 * The extract date (YYYY-MM-DD) of the run db shows (the latest, or the
 * pinned one) into out (11 bytes), and that run into *run; "" and 0 when
 * there is none. The data hold nothing after it: a period ending later
 * sees no activity in its last days (main.c and report.c warn).
 */
void iop_store_extract_date(sqlite3 *db, char *out, long *run);

/*
 * Pins the connection to load run `run`: TEMP views named like the input
 * tables show the rows as that run left them, and TEMP copies of the
 * derived views read those. run must exist (IOP_EUSAGE otherwise).
 */
iop_code iop_store_pin_run(iop_store *s, long run, iop_error *err);

/* Reads the instruments table into ctx (caller frees ctx->instruments). */
iop_code iop_store_instruments(iop_store *s, iop_validate_ctx *ctx, iop_error *err);

/* Outcome of one upsert. */
typedef enum iop_upsert_result {
    IOP_UPSERT_ERROR = -1, IOP_UPSERT_INSERTED, IOP_UPSERT_UPDATED,
    IOP_UPSERT_UNCHANGED, IOP_UPSERT_DUPLICATE,
} iop_upsert_result;

typedef struct iop_upsert iop_upsert;

/* Prepares the statements for table t in load run `run`. */
iop_code iop_upsert_new(iop_upsert **out, iop_store *s, const iop_table *t,
                        long run, iop_error *err);

/* Writes one record; vals holds t->ncols values in column order.
 * DUPLICATE: the key was already written or seen by this run. */
iop_upsert_result iop_upsert_row(iop_upsert *u, const iop_value *vals, iop_error *err);

/* Marks the key in vals (the first t->nkey values) as seen by this run
 * without writing the row, so that prune keeps it. */
iop_code iop_upsert_seen(iop_upsert *u, const iop_value *vals, iop_error *err);

/* Closes every current row that this run did not write or see; returns
 * the number closed, or -1 on error. */
long iop_upsert_prune(iop_upsert *u, iop_error *err);

/* Finalizes the statements; NULL is a no-op. */
void iop_upsert_free(iop_upsert *u);

#endif
