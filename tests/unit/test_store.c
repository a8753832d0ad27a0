/*
 * test_store.c - history and pinned runs: after three loads (insert,
 * change, prune), a connection pinned to run N sees the tables and the
 * derived views exactly as run N left them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "iop/load.h"
#include "iop/store.h"

static char dir[64], db[96];

static void write_file(const char *name, const char *text)
{
    char path[160];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void load(int prune)
{
    iop_load_opts o;
    iop_load_result res;
    iop_error err;
    iop_load_opts_init(&o);
    o.dir = dir;
    o.db_path = db;
    o.prune = prune;
    o.extract_date = "2026-05-31";
    o.now = 1780000000;
    assert_int_equal(iop_load(&o, &res, &err), IOP_OK);
}

static const char *CLIENTS = "client_id,birth_year\nC1,1980\nC2,1990\n";
static const char *EPISODES_1 =
    "episode_id,client_id,level_of_care,admit_date,discharge_date,discharge_reason\n"
    "E1,C1,3.5,2026-01-01,2026-01-20,completed\n"
    "E2,C1,2.1,2026-01-22,,\n"
    "E3,C2,2.1,2026-02-01,,\n";
static const char *EPISODES_2 =   /* E2 discharged */
    "episode_id,client_id,level_of_care,admit_date,discharge_date,discharge_reason\n"
    "E1,C1,3.5,2026-01-01,2026-01-20,completed\n"
    "E2,C1,2.1,2026-01-22,2026-03-01,dropped_out\n"
    "E3,C2,2.1,2026-02-01,,\n";
static const char *EPISODES_3 =   /* E3 gone */
    "episode_id,client_id,level_of_care,admit_date,discharge_date,discharge_reason\n"
    "E1,C1,3.5,2026-01-01,2026-01-20,completed\n"
    "E2,C1,2.1,2026-01-22,2026-03-01,dropped_out\n";

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/iop-store-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(db, sizeof db, "%s/t.db", dir);
    write_file("clients.csv", CLIENTS);
    write_file("episodes.csv", EPISODES_1);
    load(0);
    write_file("episodes.csv", EPISODES_2);
    load(0);
    write_file("episodes.csv", EPISODES_3);
    load(1);
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

/* Runs sql on a store pinned to run (0: not pinned); returns the first
 * column of the first row as text, "NULL" or "none". */
static void one(long run, const char *sql, char *out, size_t size)
{
    iop_store s;
    iop_error err;
    sqlite3_stmt *st;
    assert_int_equal(iop_store_open(&s, db, IOP_STORE_READONLY, 1000, &err), IOP_OK);
    if (run)
        assert_int_equal(iop_store_pin_run(&s, run, &err), IOP_OK);
    assert_int_equal(sqlite3_prepare_v2(s.db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(out, size, "%s", sqlite3_column_type(st, 0) == SQLITE_NULL
                 ? "NULL" : (const char *)sqlite3_column_text(st, 0));
    else
        snprintf(out, size, "none");
    sqlite3_finalize(st);
    iop_store_close(&s);
}

static void expect(long run, const char *sql, const char *want)
{
    char got[256];
    one(run, sql, got, sizeof got);
    assert_string_equal(got, want);
}

static void test_latest_state(void **state)
{
    (void)state;
    expect(0, "SELECT group_concat(episode_id) FROM episodes", "E1,E2");
    expect(0, "SELECT group_concat(episode_id || ':' || valid_from_run || '-' || valid_to_run) "
              "FROM (SELECT * FROM episodes_history ORDER BY 1, valid_from_run)", "E2:1-2,E3:1-3");
    expect(0, "SELECT discharge_reason FROM episodes WHERE episode_id = 'E2'", "dropped_out");
}

static void test_pinned_runs(void **state)
{
    (void)state;
    expect(1, "SELECT group_concat(episode_id) FROM (SELECT * FROM episodes ORDER BY 1)", "E1,E2,E3");
    expect(1, "SELECT discharge_reason FROM episodes WHERE episode_id = 'E2'", "NULL");
    expect(2, "SELECT discharge_reason FROM episodes WHERE episode_id = 'E2'", "dropped_out");
    expect(2, "SELECT count(*) FROM episodes", "3");
    expect(3, "SELECT count(*) FROM episodes", "2");
    /* the derived views follow the pinned tables */
    expect(1, "SELECT outcome FROM episode_facts WHERE episode_id = 'E2'", "open");
    expect(2, "SELECT outcome FROM episode_facts WHERE episode_id = 'E2'", "dropout");
    expect(1, "SELECT count(*) FROM episode_facts", "3");
    expect(3, "SELECT count(*) FROM episode_facts", "2");
    expect(1, "SELECT run_id FROM load_state", "1");
    expect(1, "SELECT los_days FROM episode_facts WHERE episode_id = 'E2'", "129");
}

/* Each index of episodes in schema S as "unique:col,col", sorted,
 * '|'-separated. */
#define INDEXES_SQL(S) \
    "SELECT group_concat(x, '|') FROM (SELECT il.\"unique\" || ':' ||" \
    " (SELECT group_concat(name, ',') FROM (SELECT ii.name FROM pragma_index_info(il.name, '" S "')" \
    " AS ii ORDER BY ii.seqno)) AS x FROM pragma_index_list('episodes', '" S "') AS il ORDER BY x)"

/* A table copied for a pinned run has the same indexes as main's, its
 * primary key as a unique one: the plans stay the same. */
static void test_pinned_copy_has_indexes(void **state)
{
    char main_ix[256], temp_ix[256];
    (void)state;
    one(1, INDEXES_SQL("main"), main_ix, sizeof main_ix);
    one(1, INDEXES_SQL("temp"), temp_ix, sizeof temp_ix);
    /* episodes: its key and three indexes (docs/schema.md) */
    assert_string_equal(main_ix, "0:admit_date|0:client_id,admit_date|0:discharge_date|1:episode_id");
    assert_string_equal(temp_ix, main_ix);
    /* run 1's episodes are a copy (E2 and E3 changed since), not a view */
    expect(1, "SELECT type FROM sqlite_temp_master WHERE name = 'episodes'", "table");
}

static void test_pin_bad_run(void **state)
{
    iop_store s;
    iop_error err;
    (void)state;
    assert_int_equal(iop_store_open(&s, db, IOP_STORE_READONLY, 1000, &err), IOP_OK);
    assert_int_equal(iop_store_pin_run(&s, 4, &err), IOP_EUSAGE);
    assert_non_null(strstr(err.message, "no load run 4"));
    iop_store_close(&s);
}

static void test_open_not_iopstat(void **state)
{
    iop_store s;
    iop_error err;
    char path[128];
    (void)state;
    snprintf(path, sizeof path, "%s/empty.db", dir);
    FILE *f = fopen(path, "w");
    fclose(f);
    assert_int_equal(iop_store_open(&s, path, IOP_STORE_READONLY, 1000, &err), IOP_EIO);
    assert_non_null(strstr(err.message, "not an iopstat database"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_latest_state), cmocka_unit_test(test_pinned_runs),
        cmocka_unit_test(test_pinned_copy_has_indexes),
        cmocka_unit_test(test_pin_bad_run), cmocka_unit_test(test_open_not_iopstat),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
