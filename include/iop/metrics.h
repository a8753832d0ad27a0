/*
 * metrics.h - the analyse stage: every figure of metrics.md, as tidy rows.
 *
 * A figure is one iop_row: metric, dimension, group, n, estimate, lower,
 * upper, statistic, df, p_value, at, note (product.md, "metrics"). The
 * sections of metrics.md each have a module (metrics_<section>.c) that
 * reads what it needs from the database through SQL, computes with the
 * statistics library (stats.h) and appends rows. The database may be
 * pinned to a load run (store.h) before; the sections do not care.
 *
 * Sections read the TEMP table `facts`: the derived view episode_core
 * (episode_facts without the previous / next links; of the pinned run, if
 * any), with the level's `intensity`, plus `end_date`
 * (the discharge date, '9999-12-31' while open; indexed with the level,
 * so "overlaps the period" is `e.end_date >= ?1 AND e.admit_date <= ?2`,
 * one index range), made once per connection, its rows (rowids) in each
 * client's order of episodes (admit date, more intensive first,
 * episode_id). Their SQL names it `facts AS e`.
 *
 * Conventions every section follows:
 * - A figure with no population has n = 0 and no estimate; a figure that
 *   cannot be estimated has no estimate and says why in note. Never NaN.
 * - With a --by dimension, a section writes the "all" rows first, then the
 *   rows of each group in byte order of the group's name; tests across
 *   groups carry dimension = the dimension and group = "all".
 * - Identifiers and groups compare as byte strings.
 */
#ifndef IOP_METRICS_H
#define IOP_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sqlite3.h>

#include "iop/error.h"

/* Which fields of a row hold a value. */
enum {
    IOP_HAS_EST = 1, IOP_HAS_LOWER = 2, IOP_HAS_STAT = 4, IOP_HAS_DF = 8,
    IOP_HAS_P = 16, IOP_HAS_UPPER = 32,
    IOP_HAS_CI = IOP_HAS_LOWER | IOP_HAS_UPPER,   /* both limits */
};

typedef struct iop_row {
    const char *metric;        /* a catalogue name (static) */
    char dimension[32];        /* "all" or the --by dimension */
    char group[128];           /* "all" or the group's value */
    long n;
    double estimate, lower, upper, statistic, df, p_value;
    unsigned has;              /* IOP_HAS_* bits */
    char at[64];               /* place inside the metric, or "" */
    char note[128];            /* why a figure is missing, or "" */
} iop_row;

/* A growing array of rows. */
typedef struct iop_rows {
    iop_row *v;
    size_t n, cap;
} iop_rows;

/* What the figures are computed for. */
typedef struct iop_mctx {
    sqlite3 *db;
    /* A second connection to the same database, opened and pinned like
     * db, or NULL. With it, the sections of lane 1 (iop_section_lane) run
     * on it in a second thread while the others run on db: the rows and
     * their order are the same, in less time on two cores. Each section
     * always runs on its lane's connection, so what it keeps per
     * connection (month segments) serves its later calls. */
    sqlite3 *db2;
    long from, to;             /* day numbers; to is the as-of date */
    char from_s[11], to_s[11]; /* the same as YYYY-MM-DD */
    const char *level;         /* level of care, default "2.1" */
    const char *by;            /* dimension name, or NULL */
    const char *by_expr;       /* its SQL expression over facts AS e */
    /* The metrics the caller needs (NULL-terminated), or NULL for every
     * one: only the sections that write one of them run. */
    const char *const *want;
} iop_mctx;

/* ---- rows ---------------------------------------------------------- */

void iop_rows_init(iop_rows *r);
void iop_rows_release(iop_rows *r);

/*
 * Appends a row for metric in group (NULL: dimension "all", group
 * "all") and returns it with n = 0 and nothing set, or NULL when out of
 * memory. The pointer is valid until the next append.
 */
iop_row *iop_rows_add(iop_rows *r, const iop_mctx *c, const char *metric,
                      const char *group);

/* Setters: each fills its fields and sets their IOP_HAS_* bits. */
void iop_row_est(iop_row *row, double estimate);
void iop_row_ci(iop_row *row, double lower, double upper);
/* One limit of an interval whose other R gives as NA (a median's). */
void iop_row_lower(iop_row *row, double lower);
void iop_row_upper(iop_row *row, double upper);
void iop_row_test(iop_row *row, double statistic, double df, double p_value);
void iop_row_at(iop_row *row, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void iop_row_note(iop_row *row, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A count: n = estimate = count. */
void iop_row_count(iop_row *row, long count);

/* x of n with the Wilson interval (R prop.test(correct = FALSE)); n = 0
 * leaves the estimate empty with the note "no data". */
void iop_row_share(iop_row *row, long x, long n);

/* ---- the command --------------------------------------------------- */

/* The --by dimensions and their SQL over facts AS e; NULL when
 * name is not one. */
const char *iop_metrics_dimension(const char *name);

/* A NULL-terminated list of the dimension names (static). */
const char *const *iop_metrics_dimensions(void);

/*
 * Computes every figure for c into rows. Returns IOP_OK, or IOP_EIO with
 * SQLite's message, IOP_ENOMEM, in err.
 */
iop_code iop_metrics_run(const iop_mctx *c, iop_rows *rows, iop_error *err);

/*
 * Computes n calls, cs[i]'s figures into rows[i] (appended), as n calls
 * of iop_metrics_run in turn would. With a second connection (cs[0].db2,
 * the same in every call) each lane runs its sections of every call
 * without waiting for the other between calls. On error the rows are
 * incomplete.
 */
iop_code iop_metrics_run_many(const iop_mctx *cs, size_t n, iop_rows *rows, iop_error *err);

/* Writes rows as CSV (with a header) or as a JSON array to out. */
void iop_metrics_write_csv(const iop_rows *rows, FILE *out);
void iop_metrics_write_json(const iop_rows *rows, FILE *out);

/* ---- helpers the sections share -------------------------------------- */

/*
 * Prepares sql for a section. The text "$GROUP" in sql is replaced by the
 * --by dimension's expression over facts AS e ('all' without
 * one); ?1 is bound to from, ?2 to `to`, ?3 to the level, ?4 to group
 * (NULL for all groups), all as text. So a section selects one group with
 * "AND (?4 IS NULL OR $GROUP = ?4)". IOP_EIO with the message on failure.
 */
iop_code iop_mctx_prepare(const iop_mctx *c, const char *sql, const char *group,
                          sqlite3_stmt **st, iop_error *err);

/*
 * Prepares sql as iop_mctx_prepare() and steps to its first row: for the
 * many figures that are one aggregate row. On IOP_OK *st holds the row and
 * the caller finalizes it; otherwise *st is finalized and err says why.
 */
iop_code iop_mctx_row(const iop_mctx *c, const char *sql, const char *group,
                      sqlite3_stmt **st, iop_error *err);

/*
 * One query for every group. A section runs its queries for all groups,
 * then once per group of the dimension; a query that reads the whole
 * period (the episodes overlapping a month, say) then reads it once per
 * group. iop_mctx_grouped() runs such a query once with its group as an
 * extra first column and GROUP BY, keeps the rows in TEMP tables of the
 * connection (keyed by the run shown and the query's text with its
 * bound values), and serves each group's rows from them.
 *
 * all: the query for every group, prepared and bound with ?4 NULL, not
 * stepped. The query must be an aggregate whose only use of ?4 is one
 * "(?4 IS NULL OR X = ?4)", X the group's expression, and either one
 * row of aggregates (no GROUP BY, ORDER BY or LIMIT anywhere in it) or
 * rows ending "GROUP BY 1 ORDER BY 1"; its bound values must be text,
 * integers or NULL (they key the rows as SQL text). On IOP_OK *st is a
 * statement, not stepped, that yields what the query yields for group,
 * in its order; or NULL when the query has another shape, c has no
 * dimension, group is NULL, or the grouped run has no row for group (an
 * aggregate row of an empty group): the caller then prepares its own
 * query for group. all is not finalized. IOP_EIO or IOP_ENOMEM on
 * failure.
 */
iop_code iop_mctx_grouped(const iop_mctx *c, sqlite3_stmt *all, const char *group,
                          sqlite3_stmt **st, iop_error *err);

/*
 * iop_mctx_prepare() and iop_mctx_row() for a query of the shape that
 * iop_mctx_grouped() serves: the statement for group comes from the
 * grouped run when it can, else from sql itself.
 */
iop_code iop_mctx_prepare_grouped(const iop_mctx *c, const char *sql, const char *group,
                                  sqlite3_stmt **st, iop_error *err);
iop_code iop_mctx_row_grouped(const iop_mctx *c, const char *sql, const char *group,
                              sqlite3_stmt **st, iop_error *err);

/*
 * Per-connection TEMP tables that depend only on the database (as of the
 * pinned run) and, with by_dim, on the --by dimension are built once and
 * reused by later runs on the connection (the workbook's calls).
 * iop_mctx_cached() sets *hit when table `name` was kept for the same
 * run (and dimension); after building it, the caller calls
 * iop_mctx_cache_keep(). IOP_EIO with SQLite's message on failure.
 */
iop_code iop_mctx_cached(const iop_mctx *c, const char *name, bool by_dim, bool *hit,
                         iop_error *err);
iop_code iop_mctx_cache_keep(const iop_mctx *c, const char *name, bool by_dim,
                             iop_error *err);

/*
 * Month segments. A figure that adds up over calendar months (per-client
 * totals of the sessions or screens dated in the period, the pairs of the
 * episodes discharged in it) can keep its parts per month in a TEMP
 * table whose rows carry a segment key, so that a later call on the
 * connection whose period holds the same months reads them instead of
 * the base tables (the workbook's 12-month calls after its monthly ones).
 * A period of whole calendar months is split into its months; any other
 * period is one segment of its own.
 *
 * iop_mctx_segments() makes TEMP table `table` with the statements create
 * when the connection has none for the run shown, then calls build() for
 * every segment of c's period that the table lacks (for the level and
 * dimension of c), with seg = a copy of c whose period is the segment's,
 * and the key its rows must carry. It then prepares read for group, as
 * iop_mctx_prepare() does, with ?5 and ?6 bound so that
 * `seg BETWEEN ?5 AND ?6` selects the period's rows (the keys hold the
 * level and the dimension, so no other call's rows match). create and
 * read may name the table as "%s" (create up to three times). IOP_EIO
 * with SQLite's message on failure.
 */
typedef iop_code (*iop_seg_build)(const iop_mctx *seg, const char *key, void *arg,
                                  iop_error *err);
iop_code iop_mctx_segments(const iop_mctx *c, const char *table, const char *create,
                           iop_seg_build build, void *arg, const char *read,
                           const char *group, sqlite3_stmt **st, iop_error *err);

/*
 * The same for a table whose rows carry no group: one per episode (its
 * `facts` rowid), so that every dimension's calls share a month's rows.
 * build() must not read $GROUP; read joins `facts AS e` on the rowid for
 * $GROUP. The keys name dimension "*".
 */
iop_code iop_mctx_segments_episodes(const iop_mctx *c, const char *table, const char *create,
                                    iop_seg_build build, void *arg, const char *read,
                                    const char *group, sqlite3_stmt **st, iop_error *err);

/*
 * A build's INSERT: runs sql, which may name the table as "%s", as
 * iop_mctx_exec() does, with ?5 bound to key and ?6, ?7, ... to the n
 * numbers of ints.
 */
iop_code iop_mctx_exec_key(const iop_mctx *c, const char *sql, const char *table,
                           const char *key, const int *ints, int n, iop_error *err);
/*
 * Prepares sql as iop_mctx_prepare() (no group) and runs it to the end:
 * for the statements that build a section's TEMP tables.
 */
iop_code iop_mctx_exec(const iop_mctx *c, const char *sql, iop_error *err);

/*
 * A build that adds up rows episode by episode in C. Steps sql (prepared
 * as iop_mctx_prepare(); its first column is the episode's rowid in
 * facts, and an episode's rows come together) and calls add() for each
 * row, with fresh set on an episode's first row; add() then writes the
 * episode before into ins, the prepared `insert` with ?1 bound to key.
 * end() writes the last episode. Both return IOP_OK, IOP_ENOMEM when out
 * of memory or IOP_EIO when the INSERT failed; iop_mctx_episodes() then
 * returns that code with "out of memory" or SQLite's message, as it does
 * when a statement fails.
 */
typedef struct iop_episode_build {
    iop_code (*add)(void *acc, sqlite3_stmt *row, bool fresh, sqlite3_stmt *ins);
    iop_code (*end)(void *acc, sqlite3_stmt *ins);
} iop_episode_build;
iop_code iop_mctx_episodes(const iop_mctx *seg, const char *sql, const char *insert,
                           const char *key, const iop_episode_build *b, void *acc,
                           iop_error *err);
/* Replaces *dst (malloc'd or NULL) with a malloc'd copy of column j of
 * st ("" for NULL); false when out of memory. For the builds that add up
 * rows episode by episode in C. */
bool iop_column_dup(char **dst, sqlite3_stmt *st, int j);
/* FNV-1a (64 bits) of len bytes: for hash tables and short labels, not
 * for security. */
uint64_t iop_hash_bytes(const char *s, size_t len);

/* Sets err to "out of memory" and returns IOP_ENOMEM. */
iop_code iop_metrics_nomem(iop_error *err);

/* Reports a failed step of st as IOP_EIO in err. */
iop_code iop_mctx_fail(const iop_mctx *c, iop_error *err);

/* At most this many sections (metrics_sections.c checks). */
#define IOP_MAX_SECTIONS 16

/*
 * A section of metrics.md: figures() writes the rows of one group (NULL:
 * all); tests() (may be NULL) writes the comparisons across the groups of
 * the --by dimension and is called only with one. metrics lists (NULL-
 * terminated) every metric name the section may write: the frame runs
 * the section only when the caller wants one of them (iop_mctx.want) and
 * fails a run whose section writes a name not in its list.
 */
typedef struct iop_section {
    const char *name;
    iop_code (*figures)(const iop_mctx *c, const char *group, iop_rows *rows,
                        iop_error *err);
    iop_code (*tests)(const iop_mctx *c, iop_rows *rows, iop_error *err);
    const char *const *metrics;
} iop_section;

/* Whether the caller wants metric (true without a want list): for a
 * section to skip an expensive part whose rows nobody reads. */
bool iop_mctx_wants(const iop_mctx *c, const char *metric);

/* Whether the caller wants any of the n metrics in names. */
bool iop_mctx_wants_any(const iop_mctx *c, const char *const *names, size_t n);


#endif
