/*
 * test_metrics_reuse.c - figures of a connection that earlier calls left
 * month segments on (iop_mctx_segments(): the monthly workbook's 26 calls
 * share one connection) equal those of a fresh connection, value for
 * value: a period made of months that earlier calls built, after calls
 * with other dimensions, a partial period and a call that wanted only
 * some metrics. Calls on two connections (iop_mctx.db2) equal calls on
 * one, and report the first error in the calls' order, also when no
 * second thread can be started (the lanes run in turn; a load fails).
 * Also: a month whose build fails is rolled back, and a build's errors
 * are reported as what they are. A read-only store sees one state of the
 * database until it is closed, and its twin the same one, or none.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <gsl/gsl_errno.h>

#include "iop/date.h"
#include "iop/generate.h"
#include "iop/load.h"
#include "iop/metrics.h"
#include "iop/store.h"

static char dir[64], extract[96], db[96];

/* Linked with -Wl,--wrap=pthread_create (Makefile): while threads_fail is
 * set, the library cannot start a thread, as when a system is out of
 * them; threads_refused counts the refusals. */
int __real_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *),
                          void *arg);
int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *),
                          void *arg);
static int threads_fail, threads_refused;

int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *),
                          void *arg)
{
    if (threads_fail) {
        threads_refused++;
        return EAGAIN;
    }
    return __real_pthread_create(t, a, fn, arg);
}

static int setup(void **state)
{
    iop_generate_opts g;
    iop_load_opts o;
    iop_load_result res;
    iop_error err;

    (void)state;
    gsl_set_error_handler_off(); /* as main() does: statuses are checked */
    snprintf(dir, sizeof dir, "/tmp/iop-reuse-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(extract, sizeof extract, "%s/x", dir);
    snprintf(db, sizeof db, "%s/t.db", dir);
    iop_generate_opts_init(&g);
    g.clients = 120;
    g.months = 8;
    g.seed = 5;
    g.outdir = extract;
    if (iop_generate(&g, &err) != IOP_OK)
        return -1;
    iop_load_opts_init(&o);
    o.dir = extract;
    o.db_path = db;
    o.extract_date = "2026-10-31";
    o.now = 1780000000;
    return iop_load(&o, &res, &err) == IOP_OK ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

/* The figures for [from, to] by dimension by (NULL: none) on store s,
 * wanting only want (NULL: all). */
static void run(iop_store *s, const char *from, const char *to, const char *by,
                const char *const *want, iop_rows *rows)
{
    iop_mctx c = {.db = s->db, .level = "2.1", .want = want};
    iop_error err;

    assert_true(iop_date_parse(from, 10, &c.from));
    assert_true(iop_date_parse(to, 10, &c.to));
    snprintf(c.from_s, sizeof c.from_s, "%s", from);
    snprintf(c.to_s, sizeof c.to_s, "%s", to);
    c.by = by;
    c.by_expr = by ? iop_metrics_dimension(by) : NULL;
    iop_rows_init(rows);
    assert_int_equal(iop_metrics_run(&c, rows, &err), IOP_OK);
}

/* The same on a connection of its own, opened for this call only. */
static void run_fresh(const char *from, const char *to, const char *by, iop_rows *rows)
{
    iop_store s;
    iop_error err;

    assert_int_equal(iop_store_open(&s, db, IOP_STORE_READONLY, 1000, &err), IOP_OK);
    run(&s, from, to, by, NULL, rows);
    iop_store_close(&s);
}

/* Every field of every row is the same, doubles bit for bit. */
static void assert_same_rows(const iop_rows *a, const iop_rows *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        const iop_row *x = &a->v[i], *y = &b->v[i];
        assert_string_equal(x->metric, y->metric);
        assert_string_equal(x->dimension, y->dimension);
        assert_string_equal(x->group, y->group);
        assert_string_equal(x->at, y->at);
        assert_string_equal(x->note, y->note);
        assert_int_equal(x->n, y->n);
        assert_int_equal(x->has, y->has);
        const double *fx[] = {&x->estimate, &x->lower, &x->upper, &x->statistic, &x->df,
                              &x->p_value};
        const double *fy[] = {&y->estimate, &y->lower, &y->upper, &y->statistic, &y->df,
                              &y->p_value};
        for (size_t k = 0; k < 6; k++)
            if (memcmp(fx[k], fy[k], sizeof(double)) != 0)
                fail_msg("%s %s %s: field %zu is %.17g, fresh %.17g", x->metric, x->group,
                         x->at, k, *fx[k], *fy[k]);
    }
}

/* Figures of the sections that keep month segments (attendance, IET,
 * outcomes, screens, follow-up) and of the others. */
static void test_cached_months_equal_a_fresh_connection(void **state)
{
    static const char *const some[] = {"attendance_rate", "uds_negative", "phq9_change",
                                       "followup_reach_30d", NULL};
    iop_store a;
    iop_rows r, warm, fresh;
    iop_error err;

    (void)state;
    assert_int_equal(iop_store_open(&a, db, IOP_STORE_READONLY, 1000, &err), IOP_OK);

    /* earlier calls on a: some metrics of three months, a partial period,
     * another dimension */
    static const char *const months[][2] = {{"2026-07-01", "2026-07-31"},
                                            {"2026-08-01", "2026-08-31"},
                                            {"2026-09-01", "2026-09-30"}};
    for (size_t m = 0; m < 3; m++) {
        run(&a, months[m][0], months[m][1], NULL, some, &r);
        iop_rows_release(&r);
    }
    run(&a, "2026-08-10", "2026-09-20", "program", NULL, &r);
    iop_rows_release(&r);
    run(&a, "2026-08-01", "2026-08-31", "site", NULL, &r);
    iop_rows_release(&r);

    /* then, each against a connection of its own: the quarter without a
     * dimension (every month built before, but only for some metrics);
     * by program (August was built by program only inside the partial
     * period, its own segment); by site (August built, July and
     * September not); the partial period again, from its segment */
    static const struct { const char *from, *to, *by; } calls[] = {
        {"2026-07-01", "2026-09-30", NULL},
        {"2026-07-01", "2026-09-30", "program"},
        {"2026-07-01", "2026-09-30", "site"},
        {"2026-08-10", "2026-09-20", "program"},
    };
    for (size_t k = 0; k < sizeof calls / sizeof calls[0]; k++) {
        run(&a, calls[k].from, calls[k].to, calls[k].by, NULL, &warm);
        run_fresh(calls[k].from, calls[k].to, calls[k].by, &fresh);
        assert_true(warm.n > 100);
        assert_same_rows(&warm, &fresh);
        iop_rows_release(&warm);
        iop_rows_release(&fresh);
    }
    iop_store_close(&a);
}

/* The calls of a workbook in small: months without a dimension, one by
 * program, one wanting some metrics, a partial period by site. */
static const struct { const char *from, *to, *by; } MANY[] = {
    {"2026-07-01", "2026-07-31", NULL},
    {"2026-08-01", "2026-08-31", NULL},
    {"2026-09-01", "2026-09-30", "program"},
    {"2026-07-01", "2026-09-30", NULL},
    {"2026-08-10", "2026-09-20", "site"},
};
#define NMANY (sizeof MANY / sizeof MANY[0])

static void many_calls(iop_mctx *cs, sqlite3 *db1, sqlite3 *db2)
{
    static const char *const some[] = {"attendance_rate", "uds_negative", "phq9_change",
                                       "completion_rate", NULL};
    for (size_t i = 0; i < NMANY; i++) {
        cs[i] = (iop_mctx){.db = db1, .db2 = db2, .level = "2.1",
                           .want = i == 1 ? some : NULL, .by = MANY[i].by,
                           .by_expr = MANY[i].by ? iop_metrics_dimension(MANY[i].by) : NULL};
        assert_true(iop_date_parse(MANY[i].from, 10, &cs[i].from));
        assert_true(iop_date_parse(MANY[i].to, 10, &cs[i].to));
        snprintf(cs[i].from_s, sizeof cs[i].from_s, "%s", MANY[i].from);
        snprintf(cs[i].to_s, sizeof cs[i].to_s, "%s", MANY[i].to);
    }
}

/* Calls on two connections (each lane's sections of every call in a
 * thread of its own, or in turn when no_thread makes pthread_create fail)
 * give, call for call, the rows of one connection: the same rows in the
 * same order, doubles bit for bit. */
static void two_connections_equal_one(int no_thread)
{
    iop_store a, b, one;
    iop_mctx cs[NMANY], solo[NMANY];
    iop_rows two[NMANY], ref[NMANY];
    iop_error err;

    assert_int_equal(iop_store_open(&a, db, IOP_STORE_READONLY, 1000, &err), IOP_OK);
    assert_int_equal(iop_store_open(&b, db, IOP_STORE_READONLY, 1000, &err), IOP_OK);
    assert_int_equal(iop_store_open(&one, db, IOP_STORE_READONLY, 1000, &err), IOP_OK);
    many_calls(cs, a.db, b.db);
    many_calls(solo, one.db, NULL);
    for (size_t i = 0; i < NMANY; i++) {
        iop_rows_init(&two[i]);
        iop_rows_init(&ref[i]);
    }
    threads_fail = no_thread;
    threads_refused = 0;
    iop_code rc = iop_metrics_run_many(cs, NMANY, two, &err);
    threads_fail = 0;
    assert_int_equal(rc, IOP_OK);
    assert_int_equal(threads_refused, no_thread);
    assert_int_equal(iop_metrics_run_many(solo, NMANY, ref, &err), IOP_OK);
    for (size_t i = 0; i < NMANY; i++) {
        assert_true(two[i].n > 10);
        assert_same_rows(&two[i], &ref[i]);
        iop_rows_release(&two[i]);
        iop_rows_release(&ref[i]);
    }
    iop_store_close(&a);
    iop_store_close(&b);
    iop_store_close(&one);
}

static void test_two_connections_equal_one(void **state)
{
    (void)state;
    two_connections_equal_one(0);
}

/* Without a second thread (pthread_create fails) the two lanes run in
 * turn, each on its own connection, with the same rows, and the first
 * error in the calls' order is still the one reported. */
static void test_no_thread_runs_the_lanes_in_turn(void **state)
{
    static const char *const screens[] = {"uds_negative", NULL};
    iop_store a, b;
    iop_mctx cs[NMANY];
    iop_rows two[NMANY];
    iop_error err;

    (void)state;
    two_connections_equal_one(1);
    /* an error of lane 1 (drug screens), with no thread for it: on new
     * connections, which hold no month segments yet */
    assert_int_equal(iop_store_open(&a, db, IOP_STORE_READONLY, 1000, &err), IOP_OK);
    assert_int_equal(iop_store_open(&b, db, IOP_STORE_READONLY, 1000, &err), IOP_OK);
    assert_int_equal(sqlite3_exec(b.db, "CREATE TEMP VIEW drug_screens AS SELECT 1 AS x",
                                  NULL, NULL, NULL), SQLITE_OK);
    many_calls(cs, a.db, b.db);
    for (size_t i = 0; i < NMANY; i++) {
        cs[i].want = screens;
        iop_rows_init(&two[i]);
    }
    threads_fail = 1;
    threads_refused = 0;
    iop_error_clear(&err);
    iop_code rc = iop_metrics_run_many(cs, NMANY, two, &err);
    threads_fail = 0;
    for (size_t i = 0; i < NMANY; i++)
        iop_rows_release(&two[i]);
    iop_store_close(&a);
    iop_store_close(&b);
    assert_int_equal(rc, IOP_EIO);
    assert_int_equal(threads_refused, 1);
    assert_string_equal(err.message, "database error: no such column: d.collected_on");
}

/* A load that cannot start its reader thread fails as what it is, and a
 * first load leaves no file. */
static void test_load_without_a_thread(void **state)
{
    char fresh[128];
    iop_load_opts o;
    iop_load_result res;
    iop_error err;

    (void)state;
    snprintf(fresh, sizeof fresh, "%s/fresh.db", dir);
    iop_load_opts_init(&o);
    o.dir = extract;
    o.db_path = fresh;
    o.extract_date = "2026-10-31";
    o.now = 1780000000;
    iop_error_clear(&err);
    threads_fail = 1;
    threads_refused = 0;
    iop_code rc = iop_load(&o, &res, &err);
    threads_fail = 0;
    assert_int_equal(rc, IOP_EIO);
    assert_int_equal(threads_refused, 1);
    assert_string_equal(err.message, "cannot start a thread");
    assert_int_equal(access(fresh, F_OK), -1);
}

/* An error on either connection is the run's, and it is the first in the
 * order of the calls and sections, as on one connection: drug screens
 * (lane 1) fail in the first call, outcomes (lane 0) in the second. */
static void test_two_connections_first_error(void **state)
{
    static const char *const screens[] = {"uds_negative", NULL};
    static const char *const outcomes[] = {"phq9_change", NULL};
    iop_store a, b;
    iop_mctx cs[NMANY];
    iop_rows rows[NMANY];
    iop_error err;

    (void)state;
    assert_int_equal(iop_store_open(&a, db, IOP_STORE_READONLY, 1000, &err), IOP_OK);
    assert_int_equal(iop_store_open(&b, db, IOP_STORE_READONLY, 1000, &err), IOP_OK);
    assert_int_equal(sqlite3_exec(a.db, "CREATE TEMP VIEW assessments AS SELECT 1 AS x",
                                  NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(b.db, "CREATE TEMP VIEW drug_screens AS SELECT 1 AS x",
                                  NULL, NULL, NULL), SQLITE_OK);
    many_calls(cs, a.db, b.db);
    for (size_t i = 0; i < NMANY; i++) {
        cs[i].want = i == 0 ? screens : outcomes;
        iop_rows_init(&rows[i]);
    }
    iop_error_clear(&err);
    assert_int_equal(iop_metrics_run_many(cs, NMANY, rows, &err), IOP_EIO);
    assert_string_equal(err.message, "database error: no such column: d.collected_on");
    /* the other way round: outcomes first */
    cs[0].want = outcomes;
    cs[1].want = screens;
    for (size_t i = 0; i < NMANY; i++) {
        iop_rows_release(&rows[i]);
        iop_rows_init(&rows[i]);
    }
    iop_error_clear(&err);
    assert_int_equal(iop_metrics_run_many(cs, NMANY, rows, &err), IOP_EIO);
    assert_string_equal(err.message, "database error: no such column: a.instrument");
    for (size_t i = 0; i < NMANY; i++)
        iop_rows_release(&rows[i]);
    iop_store_close(&a);
    iop_store_close(&b);
}

/* A second connection is had while the load's facts serves the first,
 * pinned like it, and not once an edit voided that table (each would
 * build its own): then the calls run on one. */
static void test_twin_only_with_the_loads_facts(void **state)
{
    iop_store a, twin;
    iop_error err;
    sqlite3 *w;

    (void)state;
    assert_int_equal(iop_store_open(&a, db, IOP_STORE_READONLY, 1000, &err), IOP_OK);
    assert_non_null(iop_store_open_twin(&twin, &a, 0));
    iop_store_close(&twin);
    assert_non_null(iop_store_open_twin(&twin, &a, 1)); /* pinned to the latest run */
    iop_store_close(&twin);
    iop_store_close(&a); /* its read transaction would hold off the edit */
    assert_int_equal(sqlite3_open(db, &w), SQLITE_OK);
    assert_int_equal(sqlite3_exec(w, "CREATE TEMP TABLE kept AS SELECT * FROM facts_state;"
                                  "UPDATE levels SET label = label WHERE code = '2.1'",
                                  NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(iop_store_open(&a, db, IOP_STORE_READONLY, 1000, &err), IOP_OK);
    assert_null(iop_store_open_twin(&twin, &a, 0));
    iop_store_close(&a);
    assert_int_equal(sqlite3_exec(w, "INSERT INTO facts_state SELECT * FROM temp.kept",
                                  NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(w);
    assert_int_equal(iop_store_open(&a, db, IOP_STORE_READONLY, 1000, &err), IOP_OK);
    assert_non_null(iop_store_open_twin(&twin, &a, 0));
    iop_store_close(&twin);
    iop_store_close(&a);
}

/* A read-only store sees the database as it was at its open until its
 * close, and so does its twin: a writer cannot commit meanwhile (it gets
 * SQLITE_BUSY; a load waits up to its busy timeout, then fails with
 * nothing changed), so no metrics run mixes two load runs. Once the
 * readers close, the write goes through. */
static void test_reader_sees_one_state(void **state)
{
    iop_store a, twin;
    iop_error err;
    sqlite3 *w;
    char *msg = NULL;

    (void)state;
    assert_int_equal(iop_store_open(&a, db, IOP_STORE_READONLY, 1000, &err), IOP_OK);
    long run = iop_store_latest_run(&a);
    assert_non_null(iop_store_open_twin(&twin, &a, 0));
    assert_int_equal(sqlite3_open(db, &w), SQLITE_OK);
    /* a load's commit, in miniature: a new run and an edit of facts */
    static const char edit[] =
        "BEGIN IMMEDIATE;"
        "INSERT INTO load_runs SELECT run_id + 1, started_at, finished_at, extract_date,"
        " extract_dir, options, software_version, records_read, records_loaded,"
        " records_rejected FROM load_runs WHERE run_id = (SELECT max(run_id) FROM load_runs);"
        "DELETE FROM facts WHERE rowid = 1;"
        "COMMIT";
    assert_int_equal(sqlite3_exec(w, edit, NULL, NULL, &msg), SQLITE_BUSY);
    assert_non_null(strstr(msg, "locked"));
    sqlite3_free(msg);
    assert_int_equal(sqlite3_exec(w, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(iop_store_latest_run(&a), run);
    assert_int_equal(iop_store_latest_run(&twin), run);
    assert_true(iop_store_facts_current(a.db));
    assert_true(iop_store_facts_current(twin.db));
    iop_store_close(&twin);
    iop_store_close(&a);
    /* closed, the readers no longer hold the write off (undone at once) */
    assert_int_equal(sqlite3_exec(w, "BEGIN IMMEDIATE; DELETE FROM facts WHERE rowid = 1;"
                                  "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(w);
}

/* A writer that commits a no-op edit, waiting up to 5 s for the readers:
 * while it waits it holds SQLite's pending lock, which refuses new
 * readers. */
static void *commit_waiting(void *arg)
{
    sqlite3 *w = arg;
    sqlite3_busy_timeout(w, 5000);
    return (void *)(intptr_t)sqlite3_exec(w, "BEGIN IMMEDIATE;"
                                          "UPDATE settings SET value = value; COMMIT",
                                          NULL, NULL, NULL);
}

/* When the twin's lock is refused, it is not had, at once (not after the
 * busy timeout): the calls run on the first connection alone. Here a
 * writer in this process waits to commit, holding SQLite's pending lock,
 * which refuses new readers of the process; a load in another process
 * does not refuse the twin, which shares the first's lock (unix locks are
 * per process). The writer commits once the first closes. */
static void test_no_twin_while_a_load_waits(void **state)
{
    iop_store a, twin, probe;
    iop_error err;
    sqlite3 *w;
    pthread_t t;
    void *rc;

    (void)state;
    assert_int_equal(iop_store_open(&a, db, IOP_STORE_READONLY, 1000, &err), IOP_OK);
    assert_int_equal(sqlite3_open(db, &w), SQLITE_OK);
    assert_int_equal(pthread_create(&t, NULL, commit_waiting, w), 0);
    /* wait until the writer holds its pending lock: a new reader is refused */
    for (int i = 0;; i++) {
        assert_true(i < 4000);
        if (iop_store_open(&probe, db, IOP_STORE_READONLY, 0, &err) != IOP_OK) {
            assert_non_null(strstr(err.message, "database is locked"));
            break;
        }
        iop_store_close(&probe);
        usleep(1000);
    }
    assert_true(iop_store_facts_current(a.db)); /* else no twin anyway */
    assert_null(iop_store_open_twin(&twin, &a, 0));
    iop_store_close(&a);
    assert_int_equal(pthread_join(t, &rc), 0);
    assert_int_equal((intptr_t)rc, SQLITE_OK);
    sqlite3_close(w);
    /* the no-op edit touched no input: the load's facts still serves */
    assert_int_equal(iop_store_open(&a, db, IOP_STORE_READONLY, 1000, &err), IOP_OK);
    assert_non_null(iop_store_open_twin(&twin, &a, 0));
    iop_store_close(&twin);
    iop_store_close(&a);
}

/* A segment build that writes two rows, then fails for the month `fail`
 * (after its rows are written), counting its calls per month. */
typedef struct seg_probe {
    const char *fail;           /* "YYYY-MM" or NULL */
    int calls[13];
} seg_probe;

static iop_code probe_build(const iop_mctx *seg, const char *key, void *arg, iop_error *err)
{
    seg_probe *p = arg;
    int y, m, d;
    iop_code rc = IOP_OK;

    iop_date_to_ymd(seg->from, &y, &m, &d);
    p->calls[m]++;
    for (int i = 0; i < 2 && rc == IOP_OK; i++)
        rc = iop_mctx_exec_key(seg, "INSERT INTO temp.%s VALUES (?5, 1)", "probe_seg", key,
                               NULL, 0, err);
    if (rc == IOP_OK && p->fail && strncmp(seg->from_s, p->fail, 7) == 0)
        rc = iop_error_set(err, IOP_EIO, NULL, 0, 0, "probe: %s fails", p->fail);
    return rc;
}

/* The rows of months from .. to (as iop_mctx_segments reads them). */
static iop_code probe_read(iop_store *s, seg_probe *p, long *rows, long *months,
                           iop_error *err)
{
    iop_mctx c = {.db = s->db, .level = "2.1"};
    sqlite3_stmt *st;
    iop_code rc;

    assert_true(iop_date_parse("2026-07-01", 10, &c.from));
    assert_true(iop_date_parse("2026-09-30", 10, &c.to));
    snprintf(c.from_s, sizeof c.from_s, "2026-07-01");
    snprintf(c.to_s, sizeof c.to_s, "2026-09-30");
    rc = iop_mctx_segments(&c, "probe_seg", "CREATE TEMP TABLE %s (seg TEXT, v INTEGER)",
                           probe_build, p,
                           "SELECT count(*), count(DISTINCT seg) FROM temp.%s"
                           " WHERE seg BETWEEN ?5 AND ?6", NULL, &st, err);
    if (rc != IOP_OK)
        return rc;
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    *rows = sqlite3_column_int64(st, 0);
    *months = sqlite3_column_int64(st, 1);
    sqlite3_finalize(st);
    return IOP_OK;
}

/* A month whose build fails leaves none of its rows and is not recorded
 * as built: the months before it stay, and the next call builds the
 * failed month and the ones after it, once each. */
static void test_failed_segment_build_rolls_back(void **state)
{
    iop_store s;
    iop_error err;
    seg_probe p = {.fail = "2026-08"};
    long rows = -1, months = -1;
    sqlite3_stmt *st;

    (void)state;
    assert_int_equal(iop_store_open(&s, db, IOP_STORE_READONLY, 1000, &err), IOP_OK);
    assert_int_equal(probe_read(&s, &p, &rows, &months, &err), IOP_EIO);
    assert_string_equal(err.message, "probe: 2026-08 fails");
    assert_int_equal(p.calls[7], 1);
    assert_int_equal(p.calls[8], 1);
    assert_int_equal(p.calls[9], 0);  /* stopped at the failure */
    assert_int_equal(sqlite3_prepare_v2(s.db,
                         "SELECT (SELECT count(*) FROM temp.probe_seg),"
                         " (SELECT group_concat(seg) FROM temp.metrics_segs"
                         "  WHERE name = 'probe_seg')", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 2);  /* July's two rows only */
    assert_string_equal((const char *)sqlite3_column_text(st, 1), "|2.1|M2026-07");
    sqlite3_finalize(st);

    p.fail = NULL;
    assert_int_equal(probe_read(&s, &p, &rows, &months, &err), IOP_OK);
    assert_int_equal(rows, 6);
    assert_int_equal(months, 3);
    assert_int_equal(p.calls[7], 1);  /* not built again */
    assert_int_equal(p.calls[8], 2);
    assert_int_equal(p.calls[9], 1);
    iop_store_close(&s);
}

/* add() fails with the code in acc on the third row. */
static iop_code fail_add(void *acc, sqlite3_stmt *row, bool fresh, sqlite3_stmt *ins)
{
    static int seen;
    (void)row;
    (void)fresh;
    (void)ins;
    if (!acc) {
        seen = 0;
        return IOP_OK;
    }
    return ++seen == 3 ? *(iop_code *)acc : IOP_OK;
}

static iop_code ok_end(void *acc, sqlite3_stmt *ins)
{
    (void)acc;
    (void)ins;
    return IOP_OK;
}

/* iop_mctx_episodes() reports a build's out of memory as such, and an
 * INSERT that failed as a database error. */
static void test_episode_build_errors(void **state)
{
    static const iop_episode_build B = {fail_add, ok_end};
    static const iop_code codes[] = {IOP_ENOMEM, IOP_EIO};
    static const char *const msgs[] = {"out of memory", "database error: "};
    iop_store s;
    iop_error err;

    (void)state;
    assert_int_equal(iop_store_open(&s, db, IOP_STORE_READONLY, 1000, &err), IOP_OK);
    iop_mctx c = {.db = s.db, .level = "2.1"};
    assert_int_equal(sqlite3_exec(s.db, "CREATE TEMP TABLE eb (k TEXT)", NULL, NULL, NULL),
                     SQLITE_OK);
    for (size_t i = 0; i < 2; i++) {
        iop_code code = codes[i];
        fail_add(NULL, NULL, false, NULL);
        assert_int_equal(iop_mctx_episodes(&c, "SELECT 1 FROM episodes LIMIT 10",
                                           "INSERT INTO temp.eb VALUES (?1)", "k", &B,
                                           &code, &err),
                         codes[i]);
        assert_int_equal(strncmp(err.message, msgs[i], strlen(msgs[i])), 0);
    }
    iop_store_close(&s);
}

/* A call's context on store s: [from, to], level 2.1, dimension by. */
static iop_mctx ctx(iop_store *s, const char *from, const char *to, const char *by)
{
    iop_mctx c = {.db = s->db, .level = "2.1", .by = by,
                  .by_expr = by ? iop_metrics_dimension(by) : NULL};
    assert_true(iop_date_parse(from, 10, &c.from));
    assert_true(iop_date_parse(to, 10, &c.to));
    snprintf(c.from_s, sizeof c.from_s, "%s", from);
    snprintf(c.to_s, sizeof c.to_s, "%s", to);
    return c;
}

/* Steps a and b to the end: the same rows, value for value and type for
 * type; returns the number of rows. */
static int assert_same_results(sqlite3_stmt *a, sqlite3_stmt *b)
{
    int n = 0, sa, sb;

    assert_int_equal(sqlite3_column_count(a), sqlite3_column_count(b));
    while ((sa = sqlite3_step(a)) == SQLITE_ROW) {
        assert_int_equal(sb = sqlite3_step(b), SQLITE_ROW);
        for (int j = 0; j < sqlite3_column_count(a); j++) {
            assert_int_equal(sqlite3_column_type(a, j), sqlite3_column_type(b, j));
            if (sqlite3_column_type(a, j) == SQLITE_FLOAT) {
                double x = sqlite3_column_double(a, j), y = sqlite3_column_double(b, j);
                assert_memory_equal(&x, &y, sizeof x);
            } else if (sqlite3_column_type(a, j) != SQLITE_NULL) {
                assert_string_equal((const char *)sqlite3_column_text(a, j),
                                    (const char *)sqlite3_column_text(b, j));
            }
        }
        n++;
    }
    assert_int_equal(sa, SQLITE_DONE);
    assert_int_equal(sqlite3_step(b), SQLITE_DONE);
    return n;
}

static int count_rows(sqlite3 *conn, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(conn, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* The groups of dimension by in c's period, and one that has no episode. */
static size_t some_groups(const iop_mctx *c, char groups[][64], size_t max)
{
    sqlite3_stmt *st;
    size_t n = 0;
    iop_error err;

    assert_int_equal(iop_mctx_prepare(c, "SELECT DISTINCT $GROUP FROM facts AS e"
                                         " WHERE e.level_of_care = ?3 ORDER BY 1",
                                      NULL, &st, &err), IOP_OK);
    while (n + 1 < max && sqlite3_step(st) == SQLITE_ROW)
        snprintf(groups[n++], 64, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    snprintf(groups[n++], 64, "no such group");
    return n;
}

/* iop_mctx_grouped() serves each group the rows its own query gives, in
 * their order and with their types (a one-row aggregate, and rows GROUP
 * BY 1 ORDER BY 1), for two dimensions and two periods; a group without
 * rows, a query of another shape, no dimension and the overall call are
 * left to the caller's own query. Each query and period runs once per
 * connection, and a group's rows are read back from that run. */
static void test_grouped_equals_a_query_per_group(void **state)
{
    static const char *const served[] = {
        "SELECT count(*), total(e.los_days), sum(e.discharge_reason = 'completed'),"
        " max(e.discharge_date), avg(e.intensity) FROM facts AS e"
        " WHERE e.level_of_care = ?3 AND e.admit_date <= ?2 AND e.end_date >= ?1"
        " AND (?4 IS NULL OR $GROUP = ?4)",
        "SELECT substr(e.admit_date, 1, 7), count(*), total(e.los_days) FROM facts AS e"
        " WHERE e.level_of_care = ?3 AND e.admit_date BETWEEN date(?1, '-90 days') AND ?2"
        " AND (?4 IS NULL OR $GROUP = ?4) GROUP BY 1 ORDER BY 1",
    };
    static const char *const not_served[] = {
        "SELECT DISTINCT e.client_id FROM facts AS e WHERE (?4 IS NULL OR $GROUP = ?4)",
        "SELECT e.client_id, count(*) FROM facts AS e WHERE (?4 IS NULL OR $GROUP = ?4)"
        " GROUP BY 1",
        "SELECT count(*) FROM facts AS e WHERE (?4 IS NULL OR $GROUP = ?4) AND ?4 IS NULL",
        "SELECT e.episode_id FROM facts AS e WHERE (?4 IS NULL OR $GROUP = ?4) LIMIT 3",
        "SELECT count(*), sum(count(*)) OVER () FROM facts AS e"
        " WHERE (?4 IS NULL OR $GROUP = ?4)",
        /* 17 columns: more than the kept rows hold */
        "SELECT 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, count(*)"
        " FROM facts AS e WHERE (?4 IS NULL OR $GROUP = ?4)",
    };
    static const char *const periods[][2] = {{"2026-08-01", "2026-08-31"},
                                             {"2026-05-01", "2026-09-30"}};
    static const char *const dims[] = {"program", "counselor"};
    char groups[64][64];
    iop_store s;
    iop_error err;
    sqlite3_stmt *all, *own, *st;
    int rows = 0, empty = 0, nobody = 0, runs = 0;

    (void)state;
    assert_int_equal(iop_store_open(&s, db, IOP_STORE_READONLY, 1000, &err), IOP_OK);
    for (size_t d = 0; d < 2; d++) {
        for (size_t p = 0; p < 2; p++) {
            iop_mctx c = ctx(&s, periods[p][0], periods[p][1], dims[d]);
            size_t ng = some_groups(&c, groups, 64);
            assert_true(ng >= 3);
            for (size_t q = 0; q < 2; q++) {
                for (size_t g = 0; g < ng; g++) {
                    assert_int_equal(iop_mctx_prepare(&c, served[q], NULL, &all, &err),
                                     IOP_OK);
                    assert_int_equal(iop_mctx_grouped(&c, all, groups[g], &st, &err),
                                     IOP_OK);
                    sqlite3_finalize(all);
                    assert_int_equal(iop_mctx_prepare(&c, served[q], groups[g], &own, &err),
                                     IOP_OK);
                    if (!st) { /* only a group without rows in the period */
                        int sown = sqlite3_step(own);
                        if (q == 0) { /* an aggregate row of nothing */
                            assert_int_equal(sown, SQLITE_ROW);
                            assert_int_equal(sqlite3_column_int(own, 0), 0);
                        } else {
                            assert_int_equal(sown, SQLITE_DONE);
                        }
                        nobody += strcmp(groups[g], "no such group") == 0;
                        empty++;
                    } else {
                        rows += assert_same_results(own, st);
                    }
                    sqlite3_finalize(own);
                    sqlite3_finalize(st);
                    /* the helper gives the same as its own query */
                    assert_int_equal(iop_mctx_prepare_grouped(&c, served[q], groups[g], &st,
                                                              &err), IOP_OK);
                    assert_int_equal(iop_mctx_prepare(&c, served[q], groups[g], &own, &err),
                                     IOP_OK);
                    assert_same_results(own, st);
                    sqlite3_finalize(own);
                    sqlite3_finalize(st);
                }
                runs++;
                /* one run per query, period and dimension so far */
                assert_int_equal(count_rows(s.db, "SELECT count(*) FROM temp.metrics_gq"),
                                 runs);
            }
            for (size_t q = 0; q < sizeof not_served / sizeof not_served[0]; q++) {
                assert_int_equal(iop_mctx_prepare(&c, not_served[q], NULL, &all, &err),
                                 IOP_OK);
                assert_int_equal(iop_mctx_grouped(&c, all, groups[0], &st, &err), IOP_OK);
                assert_null(st);
                sqlite3_finalize(all);
            }
            /* the overall call, and a call without a dimension */
            iop_mctx none = ctx(&s, periods[p][0], periods[p][1], NULL);
            assert_int_equal(iop_mctx_prepare(&c, served[0], NULL, &all, &err), IOP_OK);
            assert_int_equal(iop_mctx_grouped(&c, all, NULL, &st, &err), IOP_OK);
            assert_null(st);
            assert_int_equal(iop_mctx_grouped(&none, all, groups[0], &st, &err), IOP_OK);
            assert_null(st);
            sqlite3_finalize(all);
        }
    }
    assert_int_equal(count_rows(s.db, "SELECT count(*) FROM temp.metrics_gq"), runs);
    assert_true(rows > 100);
    assert_int_equal(nobody, 8);
    assert_true(empty >= nobody);
    iop_store_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cached_months_equal_a_fresh_connection),
        cmocka_unit_test(test_two_connections_equal_one),
        cmocka_unit_test(test_two_connections_first_error),
        cmocka_unit_test(test_no_thread_runs_the_lanes_in_turn),
        cmocka_unit_test(test_load_without_a_thread),
        cmocka_unit_test(test_twin_only_with_the_loads_facts),
        cmocka_unit_test(test_reader_sees_one_state),
        cmocka_unit_test(test_no_twin_while_a_load_waits),
        cmocka_unit_test(test_failed_segment_build_rolls_back),
        cmocka_unit_test(test_episode_build_errors),
        cmocka_unit_test(test_grouped_equals_a_query_per_group),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
