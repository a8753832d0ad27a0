/*
 * metrics_outcomes.c - metrics.md section 6: measurement-based care.
 *
 * Population ("eligible"): episodes at the level discharged in the period
 * with discharge - admit >= 14 days. Per episode and instrument, baseline
 * = the first score from admit - 7 to admit + 14 days, last = the last
 * score at least 14 days after the baseline and no later than discharge;
 * same-day ties by assessment_id in byte order. Per month segment of the
 * period (iop_mctx_segments()), one SQL statement streams the eligible
 * episodes' scores from the base tables, ordered so that the pairs of
 * every instrument are found in one pass (discharge <= `to`, so the as-of
 * date never matters here), and writes the pairs to a TEMP table for
 * every group; each group then reads its pairs in episode order. Only the
 * pairs, two doubles per eligible episode and instrument, are held in
 * memory.
 *
 * Per instrument of the `instruments` table that has a prefix below
 * (<i>_ = phq9_, gad7_, ...):
 *   <i>_measured_share       eligible episodes with both scores, Wilson
 *   <i>_baseline_mean,       mean of the pairs' baselines / last scores,
 *   <i>_last_mean            95% t interval (R t.test(x)$conf.int)
 *   <i>_change               mean last - baseline, 95% CI, paired t-test
 *   <i>_dz                   mean change / SD of change
 *   <i>_reliable_improvement, _reliable_deterioration
 *                            Jacobson-Truax |RCI| > 1.96, Wilson
 *   <i>_reliable_improvement_fixed   improvement >= fixed_improvement
 *   <i>_response, _remission, _clinically_significant
 *                            among pairs with baseline >= caseness
 * AUDIT and DAST10 are descriptive: the first four only. A figure whose
 * instrument parameter is empty has no estimate and says so in note.
 * Instruments a site adds without a prefix here are not reported.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "iop/metrics.h"
#include "iop/stats.h"

/* The metric names of one instrument (static strings). */
typedef struct inst_names {
    const char *name;        /* instruments.name */
    bool descriptive;        /* means, change and measured share only */
    const char *measured, *baseline, *last, *change, *dz, *improve,
        *deteriorate, *fixed, *response, *remission, *clinical;
} inst_names;

#define IOP_INST_NAMES(p)                                                   \
    p "_measured_share", p "_baseline_mean", p "_last_mean", p "_change",   \
        p "_dz", p "_reliable_improvement", p "_reliable_deterioration",    \
        p "_reliable_improvement_fixed", p "_response", p "_remission",     \
        p "_clinically_significant"

static const inst_names NAMES[] = {
    {"PHQ9", false, IOP_INST_NAMES("phq9")},
    {"GAD7", false, IOP_INST_NAMES("gad7")},
    {"BAM_USE", false, IOP_INST_NAMES("bam_use")},
    {"BAM_RISK", false, IOP_INST_NAMES("bam_risk")},
    {"BAM_PROTECT", false, IOP_INST_NAMES("bam_protect")},
    {"AUDIT", true, IOP_INST_NAMES("audit")},
    {"DAST10", true, IOP_INST_NAMES("dast10")},
};

/* One row of the instruments table. */
typedef struct inst {
    const inst_names *names;
    bool lower_better, has_rci, has_caseness, has_remission, has_fixed;
    double rci_se, caseness, remission, fixed; /* rci_se = SD sqrt(2(1 - r)) */
} inst;

/* The eligible episodes' scores for one instrument. */
typedef struct pairs {
    double *base, *last, *diff;
    size_t n, cap;
    long eligible;
} pairs;

static const char INST_SQL[] =
    "SELECT better, norm_sd, reliability, caseness, remission_below, fixed_improvement"
    " FROM instruments WHERE name = ?1";

/* Every score of the eligible episodes that can be a baseline or a last
 * one (from admit - 7 to discharge), in the order that decides ties, with
 * the episode's group; an episode without any comes once with a NULL
 * instrument. */
static const char SCORES_SQL[] =
    "SELECT e.episode_id, a.instrument, julianday(a.assessed_on) - julianday(e.admit_date),"
    " a.score, $GROUP FROM facts AS e LEFT JOIN assessments AS a ON a.episode_id = e.episode_id"
    " AND a.assessed_on BETWEEN date(e.admit_date, '-7 days') AND e.discharge_date"
    " WHERE e.level_of_care = ?3 AND e.end_date BETWEEN ?1 AND ?2"
    " AND e.discharge_date BETWEEN ?1 AND ?2"
    " AND julianday(e.discharge_date) - julianday(e.admit_date) >= 14"
    " ORDER BY e.episode_id, a.instrument, a.assessed_on, a.assessment_id";

/* The pairs per segment of the period (iop_mctx_segments()): one row per
 * eligible episode with inst NULL, and one per pair (inst = the index in
 * NAMES). */
static const char SEG_CREATE[] =
    "CREATE TEMP TABLE outcome_seg (seg TEXT, grp TEXT, episode_id TEXT, inst INTEGER,"
    " base REAL, last REAL);"
    "CREATE INDEX temp.outcome_seg_seg ON outcome_seg (seg)";
static const char SEG_INSERT_SQL[] = "INSERT INTO temp.outcome_seg VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

/* The period's episodes and pairs of one group (?4; NULL for all), each
 * instrument's pairs in episode order. */
static const char SEG_READ_SQL[] =
    "SELECT inst, base, last FROM temp.outcome_seg WHERE seg BETWEEN ?5 AND ?6"
    " AND (?4 IS NULL OR grp = ?4) ORDER BY episode_id, inst";

#define IOP_NINST (sizeof NAMES / sizeof NAMES[0])

/* Reads the instrument's parameters; *found is false when it has no row. */
static iop_code load_inst(const iop_mctx *c, const inst_names *nm, inst *in,
                          bool *found, iop_error *err)
{
    sqlite3_stmt *st;

    *found = false;
    memset(in, 0, sizeof *in);
    in->names = nm;
    if (sqlite3_prepare_v2(c->db, INST_SQL, -1, &st, NULL) != SQLITE_OK)
        return iop_mctx_fail(c, err);
    sqlite3_bind_text(st, 1, nm->name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *better = (const char *)sqlite3_column_text(st, 0);
        *found = true;
        in->lower_better = !better || strcmp(better, "higher") != 0;
        in->has_rci = sqlite3_column_type(st, 1) != SQLITE_NULL
                      && sqlite3_column_type(st, 2) != SQLITE_NULL;
        double r = sqlite3_column_double(st, 2);
        in->rci_se = sqlite3_column_double(st, 1) * sqrt(2.0 * (1.0 - r));
        in->has_rci = in->has_rci && in->rci_se > 0 && isfinite(in->rci_se);
        in->has_caseness = sqlite3_column_type(st, 3) != SQLITE_NULL;
        in->caseness = sqlite3_column_double(st, 3);
        in->has_remission = sqlite3_column_type(st, 4) != SQLITE_NULL;
        in->remission = sqlite3_column_double(st, 4);
        in->has_fixed = sqlite3_column_type(st, 5) != SQLITE_NULL;
        in->fixed = sqlite3_column_double(st, 5);
    }
    sqlite3_finalize(st);
    return IOP_OK;
}

static void pairs_release(pairs *p)
{
    free(p->base);
    free(p->last);
    free(p->diff);
    memset(p, 0, sizeof *p);
}

static bool pairs_push(pairs *p, double base, double last)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 256;
        double *b = realloc(p->base, cap * sizeof *b);
        if (b)
            p->base = b;
        double *l = b ? realloc(p->last, cap * sizeof *l) : NULL;
        if (l)
            p->last = l;
        double *d = l ? realloc(p->diff, cap * sizeof *d) : NULL;
        if (!d)
            return false;
        p->diff = d;
        p->cap = cap;
    }
    p->base[p->n] = base;
    p->last[p->n] = last;
    p->diff[p->n++] = last - base;
    return true;
}

/* The scores of one episode and instrument while they stream by. */
typedef struct cursor {
    int inst;                  /* index in NAMES, or -1 */
    bool has_base, has_last;
    double base_day, base, last;
} cursor;

static int inst_index(const unsigned char *name)
{
    for (size_t i = 0; name && i < IOP_NINST; i++)
        if (strcmp((const char *)name, NAMES[i].name) == 0)
            return (int)i;
    return -1;
}

/* Rows come by day, then assessment_id: the first in the window is the
 * baseline, the last one 14 days or more after it is the last score. */
static void take(cursor *cur, double day, double score)
{
    if (!cur->has_base && day >= -7 && day <= 14) {
        cur->has_base = true;
        cur->base_day = day;
        cur->base = score;
    } else if (cur->has_base && day >= cur->base_day + 14) {
        cur->has_last = true;
        cur->last = score;
    }
}

/* Writes one row of the segment table: an episode (inst < 0: NULL
 * instrument and scores) or a pair. */
static bool seg_put(sqlite3_stmt *ins, const char *grp, const char *id, int which,
                    double base, double last)
{
    sqlite3_bind_text(ins, 2, grp, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins, 3, id, -1, SQLITE_STATIC);
    for (int j = 4; j <= 6; j++)
        sqlite3_bind_null(ins, j);
    if (which >= 0) {
        sqlite3_bind_int(ins, 4, which);
        sqlite3_bind_double(ins, 5, base);
        sqlite3_bind_double(ins, 6, last);
    }
    bool ok = sqlite3_step(ins) == SQLITE_DONE;
    sqlite3_reset(ins);
    return ok;
}

/* Ends the current episode-instrument: a pair when both scores exist. */
static bool flush(cursor *cur, sqlite3_stmt *ins, const char *grp, const char *id)
{
    bool ok = cur->inst < 0 || !cur->has_base || !cur->has_last
              || seg_put(ins, grp, id, cur->inst, cur->base, cur->last);
    memset(cur, 0, sizeof *cur);
    cur->inst = -1;
    return ok;
}

/* Streams the eligible episodes of one segment, every group, into the
 * segment table with their pairs. */
static iop_code build_seg(const iop_mctx *seg, const char *key, void *arg, iop_error *err)
{
    sqlite3_stmt *st, *ins = NULL;
    char *id = NULL, *grp = NULL;
    cursor cur = {.inst = -1};
    int s = SQLITE_DONE;
    bool ok = true, mem = true;
    iop_code rc = iop_mctx_prepare(seg, SCORES_SQL, NULL, &st, err);

    (void)arg;
    if (rc == IOP_OK && sqlite3_prepare_v2(seg->db, SEG_INSERT_SQL, -1, &ins, NULL) != SQLITE_OK)
        rc = iop_mctx_fail(seg, err);
    if (rc == IOP_OK)
        sqlite3_bind_text(ins, 1, key, -1, SQLITE_STATIC);
    while (rc == IOP_OK && ok && (s = sqlite3_step(st)) == SQLITE_ROW) {
        const char *eid = (const char *)sqlite3_column_text(st, 0);
        int which = inst_index(sqlite3_column_text(st, 1));
        bool fresh = !id || strcmp(id, eid) != 0;

        if (fresh || which != cur.inst) {
            ok = flush(&cur, ins, grp, id);
            cur.inst = which;
        }
        if (ok && fresh) {
            ok = mem = iop_column_dup(&id, st, 0) && iop_column_dup(&grp, st, 4);
            ok = ok && seg_put(ins, grp, id, -1, 0, 0);
        }
        if (which >= 0)
            take(&cur, sqlite3_column_double(st, 2), sqlite3_column_double(st, 3));
    }
    ok = ok && flush(&cur, ins, grp, id);
    if (rc == IOP_OK && !mem)
        rc = iop_metrics_nomem(err);
    else if (rc == IOP_OK && (!ok || s != SQLITE_DONE))
        rc = iop_mctx_fail(seg, err);
    sqlite3_finalize(st);
    sqlite3_finalize(ins);
    free(id);
    free(grp);
    return rc;
}

/* The eligible episodes of group and their pairs, one pairs per
 * instrument: from the segment table, built first where the period's
 * segments are missing (a month that an earlier call on the connection
 * built is not read again). */
static iop_code load_pairs(const iop_mctx *c, const char *group, pairs *p, iop_error *err)
{
    sqlite3_stmt *st;
    long eligible = 0;
    int s = SQLITE_DONE;
    bool ok = true;
    iop_code rc = iop_mctx_segments(c, "outcome_seg", SEG_CREATE, build_seg, NULL,
                                    SEG_READ_SQL, group, &st, err);

    if (rc != IOP_OK)
        return rc;
    while (ok && (s = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_type(st, 0) == SQLITE_NULL)
            eligible++;
        else
            ok = pairs_push(&p[sqlite3_column_int(st, 0)], sqlite3_column_double(st, 1),
                            sqlite3_column_double(st, 2));
    }
    if (!ok)
        rc = iop_metrics_nomem(err);
    else if (s != SQLITE_DONE)
        rc = iop_mctx_fail(c, err);
    for (size_t i = 0; i < IOP_NINST; i++)
        p[i].eligible = eligible;
    sqlite3_finalize(st);
    return rc;
}

/* ---- rows ------------------------------------------------------------ */

static iop_code add_share(const iop_mctx *c, const char *group, iop_rows *rows,
                          const char *metric, long x, long n, iop_error *err)
{
    iop_row *r = iop_rows_add(rows, c, metric, group);
    if (!r)
        return iop_metrics_nomem(err);
    iop_row_share(r, x, n);
    return IOP_OK;
}

/* A figure that is not computed: n, no estimate, the reason. */
static iop_code add_empty(const iop_mctx *c, const char *group, iop_rows *rows,
                          const char *metric, long n, const char *why, iop_error *err)
{
    iop_row *r = iop_rows_add(rows, c, metric, group);
    if (!r)
        return iop_metrics_nomem(err);
    r->n = n;
    iop_row_note(r, "%s", why);
    return IOP_OK;
}

/* A mean with its t interval (R t.test(x)); change = true adds the test. */
static iop_code add_mean(const iop_mctx *c, const char *group, iop_rows *rows,
                         const char *metric, const double *x, const double *y,
                         size_t n, iop_error *err)
{
    iop_stats_ttest t;
    iop_row *r = iop_rows_add(rows, c, metric, group);
    iop_stats_status s = iop_stats_ttest_paired(x, y, n, &t);

    if (!r)
        return iop_metrics_nomem(err);
    r->n = (long)n;
    if (s == IOP_STATS_EMPTY) {
        iop_row_note(r, "no data");
    } else if (s == IOP_STATS_NOT_ESTIMABLE) {
        iop_row_est(r, t.mean);
        iop_row_note(r, n < 2 ? "one episode: no interval" : "constant values: no interval or test");
    } else if (s != IOP_STATS_OK) {
        iop_row_note(r, "not estimable (%s)", iop_stats_strerror(s));
    } else {
        iop_row_est(r, t.mean);
        iop_row_ci(r, t.lower, t.upper);
        if (y)
            iop_row_test(r, t.statistic, t.df, t.p_value);
    }
    return IOP_OK;
}

static iop_code add_dz(const iop_mctx *c, const char *group, iop_rows *rows,
                       const char *metric, const pairs *p, iop_error *err)
{
    double dz;
    iop_row *r = iop_rows_add(rows, c, metric, group);
    iop_stats_status s = iop_stats_cohen_dz(p->diff, p->n, &dz);

    if (!r)
        return iop_metrics_nomem(err);
    r->n = (long)p->n;
    if (s == IOP_STATS_OK)
        iop_row_est(r, dz);
    else if (s == IOP_STATS_EMPTY)
        iop_row_note(r, "no data");
    else
        iop_row_note(r, "not estimable: fewer than two episodes or no variation in change");
    return IOP_OK;
}

/* ---- figures of one instrument --------------------------------------- */

/* Change in the better direction: positive is improvement. */
static double gain(const inst *in, double diff)
{
    return in->lower_better ? -diff : diff;
}

static iop_code fig_descriptive(const iop_mctx *c, const char *group, const inst *in,
                                const pairs *p, iop_rows *rows, iop_error *err)
{
    const inst_names *nm = in->names;
    iop_code rc = add_share(c, group, rows, nm->measured, (long)p->n, p->eligible, err);

    if (rc == IOP_OK)
        rc = add_mean(c, group, rows, nm->baseline, p->base, NULL, p->n, err);
    if (rc == IOP_OK)
        rc = add_mean(c, group, rows, nm->last, p->last, NULL, p->n, err);
    if (rc == IOP_OK)
        rc = add_mean(c, group, rows, nm->change, p->last, p->base, p->n, err);
    return rc;
}

static iop_code fig_reliable(const iop_mctx *c, const char *group, const inst *in,
                             const pairs *p, iop_rows *rows, iop_error *err)
{
    const inst_names *nm = in->names;
    long up = 0, down = 0, fixed = 0, n = (long)p->n;
    iop_code rc;

    for (size_t i = 0; i < p->n; i++) {
        double g = gain(in, p->diff[i]);
        if (in->has_rci && g / in->rci_se > 1.96)
            up++;
        if (in->has_rci && g / in->rci_se < -1.96)
            down++;
        if (in->has_fixed && g >= in->fixed)
            fixed++;
    }
    static const char no_rci[] = "no norm SD or reliability in instruments";
    rc = in->has_rci ? add_share(c, group, rows, nm->improve, up, n, err)
                     : add_empty(c, group, rows, nm->improve, n, no_rci, err);
    if (rc == IOP_OK)
        rc = in->has_rci ? add_share(c, group, rows, nm->deteriorate, down, n, err)
                         : add_empty(c, group, rows, nm->deteriorate, n, no_rci, err);
    if (rc == IOP_OK)
        rc = in->has_fixed ? add_share(c, group, rows, nm->fixed, fixed, n, err)
                           : add_empty(c, group, rows, nm->fixed, n,
                                       "no fixed improvement threshold in instruments", err);
    return rc;
}

/* Why the caseness figures of in are not computed, or NULL. */
static const char *caseness_gap(const inst *in)
{
    if (!in->lower_better)
        return "not defined for a higher-is-better instrument";
    if (!in->has_caseness)
        return "no caseness cut-off in instruments";
    return NULL;
}

static iop_code fig_caseness(const iop_mctx *c, const char *group, const inst *in,
                             const pairs *p, iop_rows *rows, iop_error *err)
{
    const inst_names *nm = in->names;
    const char *gap = caseness_gap(in);
    long cases = 0, resp = 0, remit = 0, clin = 0;

    for (size_t i = 0; i < p->n && !gap; i++) {
        if (p->base[i] < in->caseness)
            continue;
        cases++;
        resp += p->last[i] <= p->base[i] / 2;
        remit += p->last[i] < in->remission;
        clin += p->last[i] < in->caseness && in->has_rci
                && gain(in, p->diff[i]) / in->rci_se > 1.96;
    }
    if (gap) {
        iop_code rc = add_empty(c, group, rows, nm->response, (long)p->n, gap, err);
        if (rc == IOP_OK)
            rc = add_empty(c, group, rows, nm->remission, (long)p->n, gap, err);
        return rc == IOP_OK ? add_empty(c, group, rows, nm->clinical, (long)p->n, gap, err) : rc;
    }
    iop_code rc = add_share(c, group, rows, nm->response, resp, cases, err);
    if (rc == IOP_OK)
        rc = in->has_remission ? add_share(c, group, rows, nm->remission, remit, cases, err)
                               : add_empty(c, group, rows, nm->remission, cases,
                                           "no remission cut-off in instruments", err);
    if (rc == IOP_OK)
        rc = in->has_rci ? add_share(c, group, rows, nm->clinical, clin, cases, err)
                         : add_empty(c, group, rows, nm->clinical, cases,
                                     "no norm SD or reliability in instruments", err);
    return rc;
}

static iop_code fig_instrument(const iop_mctx *c, const char *group, const inst *in,
                               const pairs *p, iop_rows *rows, iop_error *err)
{
    iop_code rc = fig_descriptive(c, group, in, p, rows, err);

    if (rc == IOP_OK && !in->names->descriptive)
        rc = add_dz(c, group, rows, in->names->dz, p, err);
    if (rc == IOP_OK && !in->names->descriptive)
        rc = fig_reliable(c, group, in, p, rows, err);
    if (rc == IOP_OK && !in->names->descriptive)
        rc = fig_caseness(c, group, in, p, rows, err);
    return rc;
}

static iop_code figures(const iop_mctx *c, const char *group, iop_rows *rows, iop_error *err)
{
    pairs p[IOP_NINST];
    inst in[IOP_NINST];
    bool found[IOP_NINST];
    iop_code rc = IOP_OK;

    memset(p, 0, sizeof p);
    for (size_t i = 0; i < IOP_NINST && rc == IOP_OK; i++)
        rc = load_inst(c, &NAMES[i], &in[i], &found[i], err);
    if (rc == IOP_OK)
        rc = load_pairs(c, group, p, err);
    for (size_t i = 0; i < IOP_NINST && rc == IOP_OK; i++)
        if (found[i])
            rc = fig_instrument(c, group, &in[i], &p[i], rows, err);
    for (size_t i = 0; i < IOP_NINST; i++)
        pairs_release(&p[i]);
    return rc;
}

/* The metrics this section writes (the frame checks every row); the
 * descriptive instruments write only some of their names. */
static const char *const METRICS[] = {
    IOP_INST_NAMES("phq9"), IOP_INST_NAMES("gad7"), IOP_INST_NAMES("bam_use"),
    IOP_INST_NAMES("bam_risk"), IOP_INST_NAMES("bam_protect"), IOP_INST_NAMES("audit"),
    IOP_INST_NAMES("dast10"), NULL,
};

const iop_section iop_section_outcomes = {"outcomes", figures, NULL, METRICS};
