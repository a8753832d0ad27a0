/*
 * store_facts.c - the metrics' episode table `facts` that each load
 * writes into main for its run (docs/schema.md, "facts"): the SQL it is
 * built from, the triggers that void it when a site edits its inputs, the
 * check that it serves a connection, and the second connection that the
 * metrics open only when it does (see iop/store.h).
 */
#include "iop/store.h"

#include <stdbool.h>
#include <stddef.h>

#include "iop/sqltext.h"

/* `+e.client_id`: one sort of the episodes as stored, 0.15 s faster on
 * 218,288 episodes than reading them in the index episodes_client's order
 * (a lookup per episode) and sorting each client's ties. */
const char iop_facts_select[] =
    "SELECT e.*, coalesce(e.discharge_date, '9999-12-31') AS end_date FROM episode_core AS e"
    " ORDER BY +e.client_id, e.admit_date, e.intensity DESC, e.episode_id";

const char iop_facts_indexes[] =
    "CREATE INDEX %sfacts_level ON facts (level_of_care, admit_date);"
    "CREATE INDEX %sfacts_end ON facts (level_of_care, end_date, admit_date);"
    "CREATE INDEX %sfacts_client ON facts (client_id, admit_date);"
    "CREATE UNIQUE INDEX %sfacts_id ON facts (episode_id);";

/* The tables episode_core reads that a site could edit after a load. */
static const char *const FACTS_INPUTS[] = {"episodes", "clients", "levels"};
static const char *const FACTS_EVENTS[] = {"insert", "update", "delete"};

/* What main.facts was built from: the select, its indexes and the views'
 * text (a build with other views, another select or other indexes does
 * not use it: another index can change a plan, and so the order of rows
 * a query leaves unordered). sqlite3_malloc'd. */
static char *facts_recipe(void)
{
    return sqlite3_mprintf("%s\n%s\n%s", iop_facts_select, iop_facts_indexes, iop_sql_views);
}

iop_code iop_store_drop_facts_triggers(iop_store *s, iop_error *err)
{
    sqlite3_str *b = sqlite3_str_new(s->db);
    for (size_t i = 0; i < sizeof FACTS_INPUTS / sizeof *FACTS_INPUTS; i++)
        for (size_t j = 0; j < sizeof FACTS_EVENTS / sizeof *FACTS_EVENTS; j++)
            sqlite3_str_appendf(b, "DROP TRIGGER IF EXISTS main.facts_void_%s_%s;",
                                FACTS_INPUTS[i], FACTS_EVENTS[j]);
    sqlite3_str_appendall(b, "DELETE FROM main.facts_state;");
    char *sql = sqlite3_str_finish(b);
    iop_code rc = sql ? iop_store_exec(s, sql, err)
                      : iop_error_set(err, IOP_ENOMEM, NULL, 0, 0, "out of memory");
    sqlite3_free(sql);
    return rc;
}

iop_code iop_store_refresh_facts(iop_store *s, long run, iop_error *err)
{
    sqlite3_str *b = sqlite3_str_new(s->db);
    char *recipe = facts_recipe();

    sqlite3_str_appendf(b, "DROP TABLE IF EXISTS main.facts;"
                        "CREATE TABLE main.facts AS %s;", iop_facts_select);
    sqlite3_str_appendf(b, iop_facts_indexes, "main.", "main.", "main.", "main.");
    sqlite3_str_appendf(b, "DELETE FROM main.facts_state;"
                        "INSERT INTO main.facts_state VALUES (%ld, %Q);", run, recipe);
    for (size_t i = 0; i < sizeof FACTS_INPUTS / sizeof *FACTS_INPUTS; i++)
        for (size_t j = 0; j < sizeof FACTS_EVENTS / sizeof *FACTS_EVENTS; j++)
            sqlite3_str_appendf(b, "CREATE TRIGGER main.facts_void_%s_%s AFTER %s ON %s"
                                " BEGIN DELETE FROM facts_state; END;", FACTS_INPUTS[i],
                                FACTS_EVENTS[j], FACTS_EVENTS[j], FACTS_INPUTS[i]);
    char *sql = sqlite3_str_finish(b);
    iop_code rc = sql && recipe ? iop_store_exec(s, sql, err)
                                : iop_error_set(err, IOP_ENOMEM, NULL, 0, 0, "out of memory");
    sqlite3_free(sql);
    sqlite3_free(recipe);
    return rc;
}

bool iop_store_facts_current(sqlite3 *db)
{
    static const char sql[] =
        "SELECT EXISTS (SELECT 1 FROM main.facts_state AS f"
        " WHERE f.run_id = (SELECT max(run_id) FROM main.load_runs)"
        " AND f.run_id = (SELECT run_id FROM load_state) AND f.recipe = ?1)"
        " AND EXISTS (SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = 'facts')";
    sqlite3_stmt *st;
    char *recipe = facts_recipe();
    bool ok = false;

    if (recipe && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, recipe, -1, SQLITE_STATIC);
        ok = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_free(recipe);
    return ok;
}

sqlite3 *iop_store_open_twin(iop_store *twin, iop_store *first, long run)
{
    iop_error err;
    /* No waiting: first's read transaction holds off every commit, so the
     * twin sees first's state. It shares this process's shared lock on the
     * file (SQLite's unix locks are per process), which even a load waiting
     * in another process does not refuse. Should its lock be refused all
     * the same (a writer in this process), one connection runs everything
     * rather than wait. */
    if (!iop_store_facts_current(first->db) ||
        iop_store_open(twin, first->path, IOP_STORE_READONLY, 0, &err) != IOP_OK)
        return NULL;
    if ((run && iop_store_pin_run(twin, run, &err) != IOP_OK) ||
        iop_store_latest_run(twin) != iop_store_latest_run(first)) {
        iop_store_close(twin);
        return NULL;
    }
    return twin->db;
}
