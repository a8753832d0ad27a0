/*
 * test_stats_oracle.c - the statistics library against R, with R running
 * inside the test.
 *
 * For each routine the test builds data sets (the reference data copied
 * in tests/oracle/data/, and random sets from a fixed-seed generator with
 * ties, small groups, all-censored and other awkward shapes), writes them
 * to CSV files in a temporary directory, runs
 * "Rscript tests/oracle/<routine>.R file1 file2 ..." once per routine via
 * popen, parses R's "k name v1 v2 ..." lines (values printed with %.17g)
 * and compares every number with the C library to
 * |c - r| <= 1e-6 |r| + 1e-9. Where R prints NA the C library's documented
 * substitute is checked instead.
 *
 * IOP_ORACLE_SEED=n in the environment changes the random sets (the
 * default is one fixed set). Run from the repository root: paths are
 * relative to it. Needs Rscript
 * with the survival and survey packages (the Makefile installs them).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "iop/stats.h"

#include <dirent.h>
#include <gsl/gsl_errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- Small utilities ---------------------------------------------------- */

static char g_dir[128];      /* the temporary directory */
static int g_files;          /* files written there */
static long g_bad;           /* mismatches in the current test */
static long g_checked;       /* comparisons in the current test */

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);

    assert_non_null(p);
    return p;
}

/* xorshift64*: the same numbers on every machine. */
static uint64_t g_rng = 88172645463325252ULL;

static double rnd(void)
{
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return (double)((g_rng * 2685821657736338717ULL) >> 11) /
           9007199254740992.0;
}

static long rnd_int(long lo, long hi)
{
    return lo + (long)(rnd() * (double)(hi - lo + 1));
}

/* A new file name in the temporary directory. */
static void new_path(char *buf, size_t size, const char *stem)
{
    snprintf(buf, size, "%s/%s%03d.csv", g_dir, stem, g_files++);
}

static void near(const char *set, const char *what, size_t i, double c,
                 double r)
{
    g_checked++;
    if (c == r || fabs(c - r) <= 1e-6 * fabs(r) + 1e-9)
        return;
    g_bad++;
    print_error("%s: %s[%zu]: C %.17g, R %.17g\n", set, what, i, c, r);
}

static void fail_check(const char *set, const char *fmt, ...)
{
    va_list ap;
    char msg[256];

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    g_bad++;
    print_error("%s: %s\n", set, msg);
}

static void expect_status(const char *set, const char *what,
                          iop_stats_status got, iop_stats_status want)
{
    g_checked++;
    if (got != want)
        fail_check(set, "%s: status '%s', expected '%s'", what,
                   iop_stats_strerror(got), iop_stats_strerror(want));
}

static void begin_checks(void)
{
    g_bad = 0;
    g_checked = 0;
}

static void end_checks(long min_checked)
{
    print_message("      %ld values compared with R\n", g_checked);
    assert_true(g_checked >= min_checked);
    assert_int_equal(g_bad, 0);
}

/* ---- Reference CSV files ------------------------------------------------ */

typedef struct csv_table {
    size_t ncol, nrow;
    char **name;   /* ncol */
    char **cell;   /* nrow * ncol */
} csv_table;

/* Splits one line on commas, dropping double quotes; returns fields. */
static size_t csv_split(char *line, char **field, size_t max)
{
    size_t n = 0;
    char *p = line;

    line[strcspn(line, "\r\n")] = '\0';
    while (n < max) {
        char *end = strchr(p, ',');

        if (end)
            *end = '\0';
        if (*p == '"') {
            p++;
            p[strcspn(p, "\"")] = '\0';
        }
        field[n++] = p;
        if (!end)
            break;
        p = end + 1;
    }
    return n;
}

static void csv_add_row(csv_table *t, char **field)
{
    t->cell = realloc(t->cell, (t->nrow + 1) * t->ncol * sizeof *t->cell);
    assert_non_null(t->cell);
    for (size_t j = 0; j < t->ncol; j++)
        t->cell[t->nrow * t->ncol + j] = strdup(field[j]);
    t->nrow++;
}

static csv_table *csv_load(const char *path)
{
    FILE *f = fopen(path, "r");
    csv_table *t = xcalloc(1, sizeof *t);
    char line[4096], *field[64];

    if (!f)
        fail_msg("cannot open '%s' (run the tests from the repository root)",
                 path);
    assert_non_null(fgets(line, sizeof line, f));
    t->ncol = csv_split(line, field, 64);
    t->name = xcalloc(t->ncol, sizeof *t->name);
    for (size_t j = 0; j < t->ncol; j++)
        t->name[j] = strdup(field[j]);
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '\n' || line[0] == '\0')
            continue;
        assert_int_equal(csv_split(line, field, 64), t->ncol);
        csv_add_row(t, field);
    }
    fclose(f);
    return t;
}

static void csv_free(csv_table *t)
{
    if (!t)
        return;
    for (size_t j = 0; j < t->ncol; j++)
        free(t->name[j]);
    for (size_t i = 0; i < t->nrow * t->ncol; i++)
        free(t->cell[i]);
    free(t->name);
    free(t->cell);
    free(t);
}

static size_t csv_col(const csv_table *t, const char *name)
{
    for (size_t j = 0; j < t->ncol; j++)
        if (strcmp(t->name[j], name) == 0)
            return j;
    fail_msg("no column '%s'", name);
    return 0;
}

static const char *csv_str(const csv_table *t, size_t row, const char *name)
{
    return t->cell[row * t->ncol + csv_col(t, name)];
}

/* The number in a cell; NAN for an empty one. */
static double csv_num(const csv_table *t, size_t row, const char *name)
{
    const char *s = csv_str(t, row, name);

    return *s ? strtod(s, NULL) : NAN;
}

/* ---- Running R ---------------------------------------------------------- */

typedef struct r_value {
    int set;
    char name[48];
    size_t n;
    double *v;
} r_value;

typedef struct r_out {
    size_t count;
    r_value *val;
} r_out;

static void r_out_free(r_out *o)
{
    for (size_t i = 0; i < o->count; i++)
        free(o->val[i].v);
    free(o->val);
    memset(o, 0, sizeof *o);
}

/* Parses one "k name v1 v2 ..." line into o. */
static void r_parse_line(r_out *o, char *line)
{
    r_value *rv;
    char *tok, *save = NULL;

    tok = strtok_r(line, " \t\n", &save);
    if (!tok)
        return;
    o->val = realloc(o->val, (o->count + 1) * sizeof *o->val);
    assert_non_null(o->val);
    rv = &o->val[o->count++];
    memset(rv, 0, sizeof *rv);
    rv->set = atoi(tok);
    tok = strtok_r(NULL, " \t\n", &save);
    assert_non_null(tok);
    snprintf(rv->name, sizeof rv->name, "%s", tok);
    while ((tok = strtok_r(NULL, " \t\n", &save))) {
        rv->v = realloc(rv->v, (rv->n + 1) * sizeof *rv->v);
        assert_non_null(rv->v);
        rv->v[rv->n++] = strcmp(tok, "NA") == 0 ? NAN : strtod(tok, NULL);
    }
}

/* Runs tests/oracle/<script>.R on the files and parses its output. */
static void r_run(const char *script, char files[][256], size_t nfiles,
                  r_out *o)
{
    size_t len = 512 + nfiles * 260;
    char *cmd = xcalloc(len, 1), line[1 << 16], err[300];
    FILE *p;
    int rc;

    memset(o, 0, sizeof *o);
    snprintf(err, sizeof err, "%s/%s.err", g_dir, script);
    snprintf(cmd, len, "Rscript --vanilla tests/oracle/%s.R", script);
    for (size_t i = 0; i < nfiles; i++) {
        strcat(cmd, " ");
        strcat(cmd, files[i]);
    }
    strcat(cmd, " 2>");
    strcat(cmd, err);
    p = popen(cmd, "r");
    assert_non_null(p);
    while (fgets(line, sizeof line, p))
        r_parse_line(o, line);
    rc = pclose(p);
    free(cmd);
    if (rc != 0) {
        snprintf(line, sizeof line, "cat %s >&2", err);
        if (system(line) != 0)
            print_error("(no R error output)\n");
        fail_msg("Rscript tests/oracle/%s.R failed (status %d): is R with "
                 "survival and survey installed?", script, rc);
    }
    unlink(err);
}

static const r_value *r_get(const r_out *o, int set, const char *name)
{
    for (size_t i = 0; i < o->count; i++)
        if (o->val[i].set == set && strcmp(o->val[i].name, name) == 0)
            return &o->val[i];
    fail_msg("R printed no '%s' for data set %d", name, set);
    return NULL;
}

/* Compares n C values with R's, which must be as many. */
static void near_all(const char *set, const r_value *r, const double *c,
                     size_t n)
{
    if (r->n != n) {
        fail_check(set, "%s: C has %zu values, R %zu", r->name, n, r->n);
        return;
    }
    for (size_t i = 0; i < n; i++)
        near(set, r->name, i, c[i], r->v[i]);
}

static void near_counts(const char *set, const r_value *r, const size_t *c,
                        size_t n)
{
    double *d = xcalloc(n, sizeof *d);

    for (size_t i = 0; i < n; i++)
        d[i] = (double)c[i];
    near_all(set, r, d, n);
    free(d);
}

/* ---- Survival data sets ------------------------------------------------- */

typedef struct sdata {
    char name[64];
    size_t n, p;
    double *time;
    int *event;      /* 0/1, or the cause (0 censored) for competing risks */
    size_t *group;
    long *cluster;   /* NULL: none */
    double *x;       /* n * p, row-major */
} sdata;

static sdata *sdata_new(const char *name, size_t n, size_t p)
{
    sdata *s = xcalloc(1, sizeof *s);

    snprintf(s->name, sizeof s->name, "%s", name);
    s->n = n;
    s->p = p;
    s->time = xcalloc(n, sizeof *s->time);
    s->event = xcalloc(n, sizeof *s->event);
    s->group = xcalloc(n, sizeof *s->group);
    s->x = xcalloc(n * (p ? p : 1), sizeof *s->x);
    return s;
}

static void sdata_free(sdata *s)
{
    if (!s)
        return;
    free(s->time);
    free(s->event);
    free(s->group);
    free(s->cluster);
    free(s->x);
    free(s);
}

static void sdata_free_all(sdata **s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sdata_free(s[i]);
}

static void sdata_clusters(sdata *s)
{
    s->cluster = xcalloc(s->n, sizeof *s->cluster);
}

/*
 * Rows of a reference file (only those whose column fcol equals fval, when
 * fcol is given): time from tcol, event = ecol value (as is when
 * keep_code, else 1 when > 0), group from gcol (numbered in the order the
 * values first appear; NULL: 0).
 */
static sdata *sdata_ref(const char *name, const csv_table *t,
                        const char *tcol, const char *ecol, bool keep_code,
                        const char *gcol, const char *fcol, const char *fval)
{
    sdata *s = sdata_new(name, t->nrow, 0);
    char seen[16][64];
    size_t nseen = 0, n = 0;

    for (size_t i = 0; i < t->nrow; i++) {
        double e = csv_num(t, i, ecol);

        if (fcol && strcmp(csv_str(t, i, fcol), fval) != 0)
            continue;
        s->time[n] = csv_num(t, i, tcol);
        s->event[n] = keep_code ? (int)e : e > 0;
        if (gcol) {
            const char *g = csv_str(t, i, gcol);
            size_t k = 0;

            while (k < nseen && strcmp(seen[k], g) != 0)
                k++;
            if (k == nseen)
                snprintf(seen[nseen++], sizeof seen[0], "%s", g);
            s->group[n] = k;
        }
        n++;
    }
    s->n = n;
    return s;
}

/* n random integer times in [0, tmax]; event with probability pe. */
static sdata *sdata_random(const char *name, size_t n, long tmax, double pe,
                           size_t groups)
{
    sdata *s = sdata_new(name, n, 0);

    for (size_t i = 0; i < n; i++) {
        s->time[i] = (double)rnd_int(0, tmax);
        s->event[i] = rnd() < pe;
        s->group[i] = groups ? (size_t)rnd_int(0, (long)groups - 1) : 0;
    }
    return s;
}

static sdata *sdata_fixed(const char *name, size_t n, const double *t,
                          const int *e)
{
    sdata *s = sdata_new(name, n, 0);

    memcpy(s->time, t, n * sizeof *t);
    memcpy(s->event, e, n * sizeof *e);
    return s;
}

/* Writes the columns the R script wants: "km", "logrank", "cif", "cox". */
static void sdata_write(const sdata *s, const char *kind, char *path)
{
    FILE *f;

    new_path(path, 256, kind);
    f = fopen(path, "w");
    assert_non_null(f);
    if (strcmp(kind, "km") == 0)
        fprintf(f, "time,event\n");
    else if (strcmp(kind, "logrank") == 0)
        fprintf(f, "time,event,group\n");
    else if (strcmp(kind, "cif") == 0)
        fprintf(f, "time,cause%s\n", s->cluster ? ",cluster" : "");
    else {
        fprintf(f, "time,event,cluster");
        for (size_t j = 0; j < s->p; j++)
            fprintf(f, ",x%zu", j + 1);
        fprintf(f, "\n");
    }
    for (size_t i = 0; i < s->n; i++) {
        fprintf(f, "%.17g,%d", s->time[i], s->event[i]);
        if (strcmp(kind, "logrank") == 0)
            fprintf(f, ",%zu", s->group[i]);
        if (s->cluster && strcmp(kind, "km") != 0)
            fprintf(f, ",%ld", s->cluster[i]);
        for (size_t j = 0; strcmp(kind, "cox") == 0 && j < s->p; j++)
            fprintf(f, ",%.17g", s->x[i * s->p + j]);
        fprintf(f, "\n");
    }
    fclose(f);
}

/* ---- Kaplan-Meier ------------------------------------------------------- */

/* R's NA lower/upper are where S is 0 or 1: C gives [0, 0] or [1, 1]. */
static void near_band(const char *set, const char *what, size_t i,
                      double c, double r, double surv)
{
    if (isnan(r))
        near(set, what, i, c, surv >= 1 ? 1.0 : 0.0);
    else
        near(set, what, i, c, r);
}

static void km_check_rows(const char *set, const iop_stats_km *km,
                          const r_out *o, int k)
{
    const r_value *se = r_get(o, k, "std.err"), *lo = r_get(o, k, "lower");
    const r_value *hi = r_get(o, k, "upper");

    near_all(set, r_get(o, k, "time"), km->time, km->len);
    near_counts(set, r_get(o, k, "n.risk"), km->n_risk, km->len);
    near_counts(set, r_get(o, k, "n.event"), km->n_event, km->len);
    near_counts(set, r_get(o, k, "n.censor"), km->n_censor, km->len);
    near_all(set, r_get(o, k, "surv"), km->surv, km->len);
    if (se->n != km->len || lo->n != km->len || hi->n != km->len)
        return;
    for (size_t i = 0; i < km->len; i++) {
        /* R's std.err is Inf where S reaches 0; the C library says 0. */
        near(set, "std.err", i, km->se_log[i],
             isfinite(se->v[i]) ? se->v[i] : 0.0);
        near_band(set, "lower", i, km->lower[i], lo->v[i], km->surv[i]);
        near_band(set, "upper", i, km->upper[i], hi->v[i], km->surv[i]);
    }
}

static void near_optional(const char *set, const char *what, bool has,
                          double c, double r)
{
    g_checked++;
    if (isnan(r) != !has)
        fail_check(set, "%s: C %s, R %.17g", what, has ? "has it" : "none",
                   r);
    else if (has)
        near(set, what, 0, c, r);
}

static void km_check_summary(const char *set, const iop_stats_km *km,
                             const r_out *o, int k)
{
    const r_value *med = r_get(o, k, "median");
    const double taus[] = {365, 10};
    const char *names[] = {"rmean365", "rmean10"};
    iop_stats_median m;
    iop_stats_status st = iop_stats_km_median(km, &m);

    expect_status(set, "median", st,
                  isnan(med->v[0]) ? IOP_STATS_NOT_ESTIMABLE : IOP_STATS_OK);
    near_optional(set, "median", m.has_median, m.median, med->v[0]);
    near_optional(set, "median LCL", m.has_lower, m.lower, med->v[1]);
    near_optional(set, "median UCL", m.has_upper, m.upper, med->v[2]);
    for (size_t j = 0; j < 2; j++) {
        double c[2];

        expect_status(set, names[j],
                      iop_stats_km_rmean(km, taus[j], &c[0], &c[1]),
                      IOP_STATS_OK);
        near_all(set, r_get(o, k, names[j]), c, 2);
    }
}

/* S(t) at fixed days: R leaves out the days past the last time. */
static void km_check_at(const char *set, const iop_stats_km *km,
                        const r_out *o, int k)
{
    const double days[] = {0, 1, 5, 10, 30, 60, 90, 365};
    const r_value *at = r_get(o, k, "at.time"), *s = r_get(o, k, "at.surv");
    const r_value *se = r_get(o, k, "at.std.err");
    const r_value *lo = r_get(o, k, "at.lower");
    const r_value *hi = r_get(o, k, "at.upper");

    for (size_t d = 0; d < 8; d++) {
        iop_stats_interval iv;
        iop_stats_status st = iop_stats_km_at(km, days[d], &iv);
        size_t r = 0;

        while (r < at->n && at->v[r] != days[d])
            r++;
        expect_status(set, "S(t)", st,
                      r < at->n ? IOP_STATS_OK : IOP_STATS_NOT_ESTIMABLE);
        if (r == at->n || st != IOP_STATS_OK)
            continue;
        near(set, "at.surv", d, iv.estimate, s->v[r]);
        near(set, "at.std.err", d, iv.std_err,
             isfinite(se->v[r]) ? se->v[r] : 0.0);
        near_band(set, "at.lower", d, iv.lower, lo->v[r], iv.estimate);
        near_band(set, "at.upper", d, iv.upper, hi->v[r], iv.estimate);
    }
}

static void km_check(const sdata *s, const r_out *o, int k)
{
    iop_stats_km *km = NULL;

    expect_status(s->name, "km_new",
                  iop_stats_km_new(s->time, s->event, s->n, &km),
                  IOP_STATS_OK);
    if (!km)
        return;
    km_check_rows(s->name, km, o, k);
    km_check_summary(s->name, km, o, k);
    km_check_at(s->name, km, o, k);
    iop_stats_km_free(km);
}

/* ---- Reference tables, loaded once -------------------------------------- */

static csv_table *g_uis, *g_meth, *g_gehan, *g_aml, *g_crisk, *g_cr;

static int setup(void **state)
{
    (void)state;
    gsl_set_error_handler_off();
    /* IOP_ORACLE_SEED=n explores other random sets; the default is fixed. */
    if (getenv("IOP_ORACLE_SEED"))
        g_rng += strtoull(getenv("IOP_ORACLE_SEED"), NULL, 10) * 7919;
    snprintf(g_dir, sizeof g_dir, "%s/iop-oracle-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(g_dir))
        return -1;
    g_uis = csv_load("tests/oracle/data/uis.csv");
    g_meth = csv_load("tests/oracle/data/methadone_addicts_caplehorn.csv");
    g_gehan = csv_load("tests/oracle/data/gehan_6mp.csv");
    g_aml = csv_load("tests/oracle/data/aml.csv");
    g_crisk = csv_load("tests/oracle/data/comprisk_hlm2008.csv");
    g_cr = csv_load("tests/oracle/data/cr_small.csv");
    return 0;
}

static int teardown(void **state)
{
    DIR *dir = opendir(g_dir);
    struct dirent *ent;
    char path[400];

    (void)state;
    /* Everything in the directory is ours: the CSVs and R's error logs. */
    while (dir && (ent = readdir(dir))) {
        if (ent->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", g_dir, ent->d_name);
        unlink(path);
    }
    if (dir)
        closedir(dir);
    rmdir(g_dir);
    csv_free(g_uis);
    csv_free(g_meth);
    csv_free(g_gehan);
    csv_free(g_aml);
    csv_free(g_crisk);
    csv_free(g_cr);
    return 0;
}

/* Writes the sets, runs R once, checks each with fn. */
static void run_sets(sdata **s, size_t n, const char *kind,
                     void (*fn)(const sdata *, const r_out *, int),
                     long min_checked)
{
    char (*files)[256] = xcalloc(n, sizeof *files);
    r_out o;

    for (size_t i = 0; i < n; i++)
        sdata_write(s[i], kind, files[i]);
    r_run(kind, files, n, &o);
    begin_checks();
    for (size_t i = 0; i < n; i++)
        fn(s[i], &o, (int)i + 1);
    r_out_free(&o);
    free(files);
    sdata_free_all(s, n);
    end_checks(min_checked);
}

static size_t km_fixed_sets(sdata **s)
{
    static const double t4[] = {1, 2, 3, 4}, t8[] = {5, 5, 5, 5, 5, 5, 5, 5};
    static const double t0[] = {0, 0, 0, 1, 2, 2, 3, 5, 5, 7};
    static const int drop[] = {1, 1, 1, 0}, flat[] = {1, 1, 0, 0};
    static const int all8[] = {1, 1, 1, 1, 1, 1, 1, 1};
    static const int e0[] = {1, 0, 1, 1, 0, 1, 1, 1, 0, 1};
    static const double t1[] = {5};
    static const int one[] = {1}, none[] = {0};
    size_t n = 0;

    s[n++] = sdata_fixed("plateau at 0.5, then a drop", 4, t4, drop);
    s[n++] = sdata_fixed("plateau at 0.5 to the end", 4, t4, flat);
    s[n++] = sdata_fixed("every event at one time", 8, t8, all8);
    s[n++] = sdata_fixed("same-day stays (time 0)", 10, t0, e0);
    s[n++] = sdata_fixed("one event", 1, t1, one);
    s[n++] = sdata_fixed("one censored", 1, t1, none);
    s[n] = sdata_random("all censored", 12, 40, 0.0, 0);
    n++;
    return n;
}

static size_t km_sets(sdata **s)
{
    size_t n = km_fixed_sets(s);

    s[n++] = sdata_ref("gehan 6-MP", g_gehan, "time", "cens", false, NULL,
                       "treat", "6-MP");
    s[n++] = sdata_ref("gehan control", g_gehan, "time", "cens", false, NULL,
                       "treat", "control");
    s[n++] = sdata_ref("aml maintained", g_aml, "time", "status", false, NULL,
                       "x", "Maintained");
    s[n++] = sdata_ref("aml", g_aml, "time", "status", false, NULL, NULL,
                       NULL);
    s[n++] = sdata_ref("uis time", g_uis, "time", "censor", false, NULL,
                       NULL, NULL);
    s[n++] = sdata_ref("uis los", g_uis, "los", "censor", false, NULL,
                       NULL, NULL);
    s[n++] = sdata_ref("methadone", g_meth, "Days_survival", "Status", false,
                       NULL, NULL, NULL);
    s[n++] = sdata_ref("methadone clinic 2", g_meth, "Days_survival",
                       "Status", false, NULL, "Clinic", "2");
    s[n++] = sdata_ref("comprisk any event", g_crisk, "time", "ev_typ",
                       false, NULL, NULL, NULL);
    s[n++] = sdata_ref("cr_small any event", g_cr, "time", "status", false,
                       NULL, NULL, NULL);
    s[n++] = sdata_random("random ties", 80, 20, 0.7, 0);
    s[n++] = sdata_random("random 400 days", 400, 450, 0.6, 0);
    s[n++] = sdata_random("random heavy censoring", 50, 100, 0.15, 0);
    s[n++] = sdata_random("random small", 3, 10, 0.7, 0);
    return n;
}

static void test_km_oracle(void **state)
{
    sdata *s[32];
    size_t n;

    (void)state;
    n = km_sets(s);
    run_sets(s, n, "km", km_check, 5000);
}

/* ---- Log-rank ----------------------------------------------------------- */

static void logrank_check(const sdata *s, const r_out *o, int k)
{
    const r_value *test = r_get(o, k, "test"), *groups = r_get(o, k, "groups");
    const r_value *obs = r_get(o, k, "obs"), *exp = r_get(o, k, "exp");
    size_t ng = 0;
    double oc[16], ec[16];
    iop_stats_test t;

    for (size_t i = 0; i < s->n; i++)
        ng = s->group[i] + 1 > ng ? s->group[i] + 1 : ng;
    expect_status(s->name, "logrank",
                  iop_stats_logrank(s->time, s->event, s->group, s->n, ng,
                                    &t, oc, ec),
                  IOP_STATS_OK);
    near(s->name, "chisq", 0, t.statistic, test->v[0]);
    near(s->name, "df", 0, t.df, test->v[1]);
    near(s->name, "p", 0, t.p_value, test->v[2]);
    for (size_t g = 0; g < groups->n && g < obs->n && g < exp->n; g++) {
        size_t cg = (size_t)groups->v[g];

        near(s->name, "obs", g, oc[cg], obs->v[g]);
        near(s->name, "exp", g, ec[cg], exp->v[g]);
    }
}

/* A group of one, and a group censored before the first event. */
static void logrank_odd_groups(sdata **s, size_t *n)
{
    sdata *a = sdata_random("random 5 groups, a group of one", 60, 30, 0.6,
                            4);
    sdata *b = sdata_random("random, a group with no expected events", 40,
                            30, 0.7, 2);

    a->group[7] = 4;
    a->event[7] = 1;
    for (size_t i = 0; i < b->n; i++)
        b->time[i] += 1;
    for (size_t i = 0; i < 5; i++) {
        b->group[i] = 2;
        b->time[i] = 0;
        b->event[i] = 0;
    }
    s[(*n)++] = a;
    s[(*n)++] = b;
}

static void test_logrank_oracle(void **state)
{
    sdata *s[16];
    size_t n = 0;

    (void)state;
    s[n++] = sdata_ref("gehan", g_gehan, "time", "cens", false, "treat",
                       NULL, NULL);
    s[n++] = sdata_ref("aml", g_aml, "time", "status", false, "x", NULL,
                       NULL);
    s[n++] = sdata_ref("uis by treat", g_uis, "time", "censor", false,
                       "treat", NULL, NULL);
    s[n++] = sdata_ref("uis los by site", g_uis, "los", "censor", false,
                       "site", NULL, NULL);
    s[n++] = sdata_ref("methadone by clinic", g_meth, "Days_survival",
                       "Status", false, "Clinic", NULL, NULL);
    s[n++] = sdata_ref("comprisk by gender", g_crisk, "time", "ev_typ",
                       false, "gender", NULL, NULL);
    s[n++] = sdata_random("random 3 groups with ties", 90, 25, 0.6, 3);
    s[n++] = sdata_random("random 8 groups", 300, 200, 0.5, 8);
    logrank_odd_groups(s, &n);
    run_sets(s, n, "logrank", logrank_check, 60);
}

/* ---- Aalen-Johansen ----------------------------------------------------- */

static void cif_check_state(const sdata *s, const iop_stats_cif *f,
                            const r_out *o, int k, size_t st)
{
    char name[4][32];
    const r_value *r[4];
    size_t ns = f->n_causes + 1;

    snprintf(name[0], 32, "pstate.%zu", st);
    snprintf(name[1], 32, "std.err.%zu", st);
    snprintf(name[2], 32, "lower.%zu", st);
    snprintf(name[3], 32, "upper.%zu", st);
    for (size_t j = 0; j < 4; j++) {
        r[j] = r_get(o, k, name[j]);
        if (r[j]->n != f->len) {
            fail_check(s->name, "%s: C %zu rows, R %zu", name[j], f->len,
                       r[j]->n);
            return;
        }
    }
    for (size_t i = 0; i < f->len; i++) {
        double p = f->estimate[i * ns + st];

        near(s->name, name[0], i, p, r[0]->v[i]);
        near(s->name, name[1], i, f->std_err[i * ns + st], r[1]->v[i]);
        near_band(s->name, name[2], i, f->lower[i * ns + st], r[2]->v[i], p);
        near_band(s->name, name[3], i, f->upper[i * ns + st], r[3]->v[i], p);
    }
}

static void cif_check(const sdata *s, const r_out *o, int k)
{
    iop_stats_cif *f = NULL;
    int K = 0;

    for (size_t i = 0; i < s->n; i++)
        K = s->event[i] > K ? s->event[i] : K;
    expect_status(s->name, "cif_new",
                  iop_stats_cif_new(s->time, s->event, s->n, (size_t)K,
                                    s->cluster, &f),
                  IOP_STATS_OK);
    if (!f)
        return;
    near(s->name, "states", 0, (double)K + 1, r_get(o, k, "states")->v[0]);
    near_all(s->name, r_get(o, k, "time"), f->time, f->len);
    near_counts(s->name, r_get(o, k, "n.risk"), f->n_risk, f->len);
    near_counts(s->name, r_get(o, k, "n.event"), f->n_event, f->len);
    near_counts(s->name, r_get(o, k, "n.censor"), f->n_censor, f->len);
    for (size_t st = 0; st <= (size_t)K; st++)
        cif_check_state(s, f, o, k, st);
    iop_stats_cif_free(f);
}

/* Random competing outcomes: censored with probability pc, else 1..K. */
static sdata *cif_random(const char *name, size_t n, long tmax, double pc,
                         int K)
{
    sdata *s = sdata_random(name, n, tmax, 0, 0);

    for (size_t i = 0; i < n; i++)
        s->event[i] = rnd() < pc ? 0 : (int)rnd_int(1, K);
    s->event[0] = K;
    return s;
}

/* Episodes of clients: 1 to 3 rows share a cluster id. */
static void random_clients(sdata *s)
{
    long id = 100;

    sdata_clusters(s);
    for (size_t i = 0; i < s->n; i++) {
        if (i == 0 || rnd() < 0.55)
            id += rnd_int(1, 3);
        s->cluster[i] = id;
    }
}

static void test_cif_oracle(void **state)
{
    static const double t0[] = {0, 0, 0, 1, 2, 2, 3, 5, 5, 7};
    static const int c0[] = {1, 2, 0, 1, 2, 1, 0, 2, 2, 1};
    sdata *s[16];
    size_t n = 0;

    (void)state;
    s[n++] = sdata_ref("cr_small", g_cr, "time", "status", true, NULL, NULL,
                       NULL);
    s[n++] = sdata_ref("comprisk", g_crisk, "time", "ev_typ", true, NULL,
                       NULL, NULL);
    s[n++] = sdata_fixed("same-day outcomes (time 0)", 10, t0, c0);
    s[n++] = cif_random("random 3 causes with ties", 100, 30, 0.3, 3);
    s[n++] = cif_random("random 4 outcomes, 300 episodes", 300, 200, 0.25, 4);
    s[n++] = cif_random("random small", 6, 10, 0.3, 2);
    s[n] = cif_random("random 4 outcomes, clients", 250, 150, 0.3, 4);
    random_clients(s[n++]);
    s[n] = sdata_ref("cr_small, pairs as clients", g_cr, "time", "status",
                     true, NULL, NULL, NULL);
    sdata_clusters(s[n]);
    for (size_t i = 0; i < s[n]->n; i++)
        s[n]->cluster[i] = (long)(i / 2);
    n++;
    run_sets(s, n, "cif", cif_check, 3000);
}

/* ---- Cox ---------------------------------------------------------------- */

static bool in_list(const r_value *r, size_t j)
{
    for (size_t i = 0; i < r->n; i++)
        if ((size_t)r->v[i] == j)
            return true;
    return false;
}

/* The status R's warnings and NA coefficients call for. */
static iop_stats_status cox_expected(const sdata *s, const r_out *o, int k)
{
    const r_value *coef = r_get(o, k, "coef");

    if (r_get(o, k, "noconv")->v[0] > 0)
        return IOP_STATS_NO_CONVERGENCE;
    if (r_get(o, k, "infinite")->n > 0)
        return IOP_STATS_INFINITE;
    for (size_t j = 0; j < s->p && j < coef->n; j++)
        if (isnan(coef->v[j]))
            return IOP_STATS_SINGULAR;
    return IOP_STATS_OK;
}

static void cox_check_column(const sdata *s, const iop_stats_cox *c,
                             const r_out *o, int k, size_t j)
{
    static const char *names[] = {"coef", "se", "robust", "p", "lower",
                                  "upper"};
    const double mine[] = {c->coef[j], c->naive_se[j], c->std_err[j],
                           c->p_value[j], c->lower[j], c->upper[j]};

    for (size_t m = 0; m < 6; m++) {
        const r_value *r = r_get(o, k, names[m]);

        if (r->n != s->p)
            fail_check(s->name, "%s: R has %zu values", names[m], r->n);
        else
            near(s->name, names[m], j, mine[m], r->v[j]);
    }
}

static void cox_check(const sdata *s, const r_out *o, int k)
{
    const r_value *inf = r_get(o, k, "infinite"), *coef = r_get(o, k, "coef");
    iop_stats_status want = cox_expected(s, o, k);
    iop_stats_cox *c = NULL;

    expect_status(s->name, "cox_new",
                  iop_stats_cox_new(s->time, s->event, s->x, s->n, s->p,
                                    s->cluster, &c),
                  want);
    if (!c)
        return;
    print_message("      %s: %s%s%s\n", s->name, iop_stats_strerror(want),
                  c->message[0] ? ": " : "", c->message);
    if (want != IOP_STATS_NO_CONVERGENCE) {
        near_all(s->name, r_get(o, k, "loglik"),
                 (double[]){c->loglik_null, c->loglik}, 2);
        near(s->name, "iter", 0, c->iterations, r_get(o, k, "iter")->v[0]);
    }
    for (size_t j = 0; j < s->p && want != IOP_STATS_NO_CONVERGENCE; j++) {
        iop_stats_coef_flag fl = in_list(inf, j) ? IOP_STATS_COEF_INFINITE
                                 : isnan(coef->v[j]) ? IOP_STATS_COEF_ALIASED
                                                     : IOP_STATS_COEF_OK;

        if (c->flag[j] != fl)
            fail_check(s->name, "column %zu: flag %d, R says %d", j,
                       (int)c->flag[j], (int)fl);
        else if (fl == IOP_STATS_COEF_OK)
            cox_check_column(s, c, o, k, j);
    }
    iop_stats_cox_free(c);
}

/*
 * uis: time to discharge (los) with censor as the event, the listed
 * columns (complete cases; "ivhx2"/"ivhx3" are dummies of ivhx), clusters
 * of ids with every fifth id joined to the one before.
 */
static sdata *cox_uis(const char *name, const char **cols, size_t p)
{
    sdata *s = sdata_new(name, g_uis->nrow, p);
    size_t n = 0;

    sdata_clusters(s);
    for (size_t i = 0; i < g_uis->nrow; i++) {
        bool ok = true;

        for (size_t j = 0; j < p; j++) {
            bool dummy = strncmp(cols[j], "ivhx", 4) == 0 && cols[j][4];
            double v = csv_num(g_uis, i, dummy ? "ivhx" : cols[j]);

            ok = ok && !isnan(v);
            s->x[n * p + j] = dummy ? (v == cols[j][4] - '0') : v;
        }
        if (!ok)
            continue;
        s->time[n] = csv_num(g_uis, i, "los");
        s->event[n] = (int)csv_num(g_uis, i, "censor");
        s->cluster[n] = (long)csv_num(g_uis, i, "id");
        s->cluster[n] -= s->cluster[n] % 5 == 0;
        n++;
    }
    s->n = n;
    return s;
}

static sdata *cox_methadone(void)
{
    sdata *s = sdata_new("methadone clinic+prison+dose", g_meth->nrow, 3);

    sdata_clusters(s);
    for (size_t i = 0; i < s->n; i++) {
        s->time[i] = csv_num(g_meth, i, "Days_survival");
        s->event[i] = (int)csv_num(g_meth, i, "Status");
        s->x[i * 3] = csv_num(g_meth, i, "Clinic") == 2;
        s->x[i * 3 + 1] = csv_num(g_meth, i, "Prison");
        s->x[i * 3 + 2] = csv_num(g_meth, i, "Dose");
        s->cluster[i] = (long)(i % 150);
    }
    return s;
}

/* Heavy ties, a continuous and two dummy covariates, client clusters. */
static sdata *cox_random(const char *name, size_t n, long tmax)
{
    sdata *s = sdata_new(name, n, 3);

    for (size_t i = 0; i < n; i++) {
        double *x = s->x + i * 3;

        x[0] = 20 + 40 * rnd();
        x[1] = rnd() < 0.4;
        x[2] = rnd() < 0.3;
        s->time[i] = (double)rnd_int(1, tmax);
        s->event[i] = rnd() < 0.3 + 0.3 * x[1] - 0.2 * x[2] + x[0] / 200;
    }
    random_clients(s);
    return s;
}

static void test_cox_oracle(void **state)
{
    static const char *c2[] = {"treat", "site"};
    static const char *c8[] = {"age", "beck", "ndrugtx", "ivhx2", "ivhx3",
                               "race", "treat", "site"};
    sdata *s[16];
    size_t n = 0;

    (void)state;
    s[n++] = cox_uis("uis los ~ treat + site", c2, 2);
    s[n++] = cox_uis("uis los ~ 8 covariates", c8, 8);
    s[n++] = cox_methadone();
    s[n++] = cox_random("random ties", 200, 12);
    s[n++] = cox_random("random 600", 600, 180);
    s[n] = cox_random("random, a dummy with no events", 150, 30);
    for (size_t i = 0; i < s[n]->n; i++)
        s[n]->x[i * 3 + 2] = s[n]->event[i] == 0 && i % 4 == 0;
    n++;
    s[n] = cox_random("random, collinear column", 150, 30);
    for (size_t i = 0; i < s[n]->n; i++)
        s[n]->x[i * 3 + 2] = 1 - s[n]->x[i * 3 + 1];
    n++;
    run_sets(s, n, "cox", cox_check, 150);
}

/* ---- Tables of numbers for the other routines --------------------------- */

/* A CSV of rows x cols numbers; header NULL writes none (a bare table). */
static void write_table(const char *kind, const char *header,
                        const double *v, size_t rows, size_t cols,
                        char *path)
{
    FILE *f;

    new_path(path, 256, kind);
    f = fopen(path, "w");
    assert_non_null(f);
    if (header)
        fprintf(f, "%s\n", header);
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++)
            fprintf(f, "%.17g%s", v[i * cols + j], j + 1 < cols ? "," : "\n");
    fclose(f);
}

static void test_wilson_oracle(void **state)
{
    static const double fixed[][2] = {{81, 263}, {0, 20}, {15, 148},
                                      {20, 20}, {1, 1}, {0, 1}, {1, 2},
                                      {500, 1000}, {3, 1000000}};
    size_t nf = sizeof fixed / sizeof *fixed, n = nf + 60;
    double *v = xcalloc(n * 2, sizeof *v);
    const r_value *lo, *hi;
    char file[1][256];
    r_out o;

    (void)state;
    memcpy(v, fixed, sizeof fixed);
    for (size_t i = nf; i < n; i++) {
        v[i * 2 + 1] = (double)rnd_int(1, 500);
        v[i * 2] = (double)rnd_int(0, (long)v[i * 2 + 1]);
    }
    write_table("wilson", "x,n", v, n, 2, file[0]);
    r_run("wilson", file, 1, &o);
    begin_checks();
    lo = r_get(&o, 1, "lower");
    hi = r_get(&o, 1, "upper");
    for (size_t i = 0; i < n && i < lo->n && i < hi->n; i++) {
        iop_stats_interval iv;

        expect_status("wilson", "wilson",
                      iop_stats_wilson((size_t)v[i * 2], (size_t)v[i * 2 + 1],
                                       &iv),
                      IOP_STATS_OK);
        near("wilson", "lower", i, iv.lower, lo->v[i]);
        near("wilson", "upper", i, iv.upper, hi->v[i]);
    }
    r_out_free(&o);
    free(v);
    end_checks(2 * (long)n);
}

typedef struct table_set {
    size_t rows, cols;
    double v[64];
} table_set;

static void chisq_check(const table_set *t, const r_out *o, int k)
{
    size_t counts[64], cells = t->rows * t->cols, below = 0;
    double e[64];
    const r_value *test = r_get(o, k, "test"), *re = r_get(o, k, "expected");
    iop_stats_chisq_result c;
    char set[32];

    snprintf(set, sizeof set, "chisq table %d", k);
    for (size_t i = 0; i < cells; i++)
        counts[i] = (size_t)t->v[i];
    expect_status(set, "chisq",
                  iop_stats_chisq(counts, t->rows, t->cols, &c, e),
                  IOP_STATS_OK);
    near_all(set, test, (double[]){c.statistic, c.df, c.p_value}, 3);
    near_all(set, re, e, cells);
    for (size_t i = 0; i < re->n; i++)
        below += re->v[i] < 5;
    near(set, "cells below 5", 0, (double)c.cells_expected_below5,
         (double)below);
}

static void random_table(table_set *t, size_t rows, size_t cols, long max)
{
    t->rows = rows;
    t->cols = cols;
    for (size_t i = 0; i < rows * cols; i++)
        t->v[i] = (double)rnd_int(1, max);
}

static void test_chisq_oracle(void **state)
{
    table_set t[8] = {{2, 3, {762, 327, 468, 484, 239, 477}}};
    char files[8][256];
    size_t n = 1;
    r_out o;

    (void)state;
    random_table(&t[n++], 2, 2, 30);
    random_table(&t[n++], 3, 4, 6);
    random_table(&t[n++], 5, 6, 400);
    random_table(&t[n++], 2, 7, 12);
    random_table(&t[n], 2, 2, 4);
    t[n++].v[0] = 0;
    for (size_t i = 0; i < n; i++)
        write_table("chisq", NULL, t[i].v, t[i].rows, t[i].cols, files[i]);
    r_run("chisq", files, n, &o);
    begin_checks();
    for (size_t i = 0; i < n; i++)
        chisq_check(&t[i], &o, (int)i + 1);
    r_out_free(&o);
    end_checks(60);
}

static void test_fisher_oracle(void **state)
{
    static const double fixed[][4] = {
        {3, 1, 1, 3}, {5, 5, 5, 5}, {0, 0, 3, 4}, {0, 0, 0, 5},
        {10, 0, 0, 10}, {1, 9, 11, 3}, {100, 80, 60, 120}, {0, 7, 7, 0},
        {2, 7, 8, 2}, {1, 0, 0, 1}};
    size_t nf = sizeof fixed / sizeof *fixed, n = nf + 60;
    double *v = xcalloc(n * 4, sizeof *v);
    char file[1][256];
    const r_value *p;
    r_out o;

    (void)state;
    memcpy(v, fixed, sizeof fixed);
    for (size_t i = nf * 4; i < n * 4; i++)
        v[i] = (double)rnd_int(0, i % 3 ? 15 : 40);
    write_table("fisher", "a,b,c,d", v, n, 4, file[0]);
    r_run("fisher", file, 1, &o);
    begin_checks();
    p = r_get(&o, 1, "p");
    for (size_t i = 0; i < n && i < p->n; i++) {
        size_t tab[4];
        iop_stats_test t;

        for (size_t j = 0; j < 4; j++)
            tab[j] = (size_t)v[i * 4 + j];
        expect_status("fisher", "fisher", iop_stats_fisher(tab, &t),
                      IOP_STATS_OK);
        near("fisher", "p", i, t.p_value, p->v[i]);
    }
    r_out_free(&o);
    free(v);
    end_checks((long)n * 2);
}

/* x, n, score rows: k months, some empty, scores 1..k or uneven. */
static size_t trend_rows(double *v, size_t k, bool uneven)
{
    for (size_t i = 0; i < k; i++) {
        double nn = rnd() < 0.15 ? 0 : (double)rnd_int(1, 60);

        v[i * 3 + 1] = nn;
        v[i * 3] = (double)rnd_int(0, (long)nn);
        v[i * 3 + 2] = uneven ? (double)i * (double)i / 3.0 : (double)i + 1;
    }
    v[1] = v[1] > 0 ? v[1] : 10;  /* never all-zero nor all-success */
    v[0] = 1;
    return k;
}

static void test_trend_oracle(void **state)
{
    double v[6][60];
    size_t k[6];
    char files[6][256];
    r_out o;

    (void)state;
    for (size_t i = 0; i < 6; i++) {
        k[i] = trend_rows(v[i], 3 + 3 * i % 12, i % 2);
        write_table("trend", "x,n,score", v[i], k[i], 3, files[i]);
    }
    r_run("trend", files, 6, &o);
    begin_checks();
    for (size_t i = 0; i < 6; i++) {
        size_t x[20], nn[20];
        double sc[20];
        iop_stats_test t;

        for (size_t j = 0; j < k[i]; j++) {
            x[j] = (size_t)v[i][j * 3];
            nn[j] = (size_t)v[i][j * 3 + 1];
            sc[j] = v[i][j * 3 + 2];
        }
        expect_status("trend", "trend",
                      iop_stats_trend(x, nn, sc, k[i], &t), IOP_STATS_OK);
        near_all("trend", r_get(&o, (int)i + 1, "test"),
                 (double[]){t.statistic, t.df, t.p_value}, 3);
    }
    r_out_free(&o);
    end_checks(18);
}

/* ---- Means -------------------------------------------------------------- */

static void test_ttest_oracle(void **state)
{
    static const double sleep[10][2] = {
        {1.9, 0.7}, {0.8, -1.6}, {1.1, -0.2}, {0.1, -1.2}, {-0.1, -0.1},
        {4.4, 3.4}, {5.5, 3.7}, {1.6, 0.8}, {4.6, 0.0}, {3.4, 2.0}};
    const size_t sizes[] = {10, 2, 3, 30, 200};
    double *v[5];
    char files[5][256];
    r_out o;

    (void)state;
    for (size_t i = 0; i < 5; i++) {
        v[i] = xcalloc(sizes[i] * 2, sizeof *v[i]);
        for (size_t j = 0; j < sizes[i] * 2; j++)
            v[i][j] = i == 0 ? sleep[j / 2][j % 2]
                      : i == 4 ? (double)rnd_int(0, 27)
                               : 10 * rnd() - 3 * (double)(j % 2);
        write_table("ttest", "x,y", v[i], sizes[i], 2, files[i]);
    }
    r_run("ttest", files, 5, &o);
    begin_checks();
    for (size_t i = 0; i < 5; i++) {
        double x[200], y[200];
        iop_stats_ttest t;

        for (size_t j = 0; j < sizes[i]; j++) {
            x[j] = v[i][j * 2];
            y[j] = v[i][j * 2 + 1];
        }
        expect_status("ttest", "ttest",
                      iop_stats_ttest_paired(x, y, sizes[i], &t),
                      IOP_STATS_OK);
        near_all("ttest", r_get(&o, (int)i + 1, "test"),
                 (double[]){t.mean, t.lower, t.upper, t.statistic, t.df,
                            t.p_value, t.dz},
                 7);
        free(v[i]);
    }
    r_out_free(&o);
    end_checks(35);
}

static void test_quantile_oracle(void **state)
{
    static const double probs[] = {0, 0.1, 0.25, 1.0 / 3, 0.5, 0.75, 0.9,
                                   0.99, 1};
    const size_t sizes[] = {1, 2, 10, 101, 1000};
    double *v[5];
    char files[5][256];
    r_out o;

    (void)state;
    for (size_t i = 0; i < 5; i++) {
        v[i] = xcalloc(sizes[i], sizeof *v[i]);
        for (size_t j = 0; j < sizes[i]; j++)
            v[i][j] = i % 2 ? 100 * rnd() - 20 : (double)rnd_int(0, 60);
        write_table("quantile", "x", v[i], sizes[i], 1, files[i]);
    }
    r_run("quantile", files, 5, &o);
    begin_checks();
    for (size_t i = 0; i < 5; i++) {
        double q[9];

        expect_status("quantile", "quantile",
                      iop_stats_quantile(v[i], sizes[i], probs, 9, q),
                      IOP_STATS_OK);
        near_all("quantile", r_get(&o, (int)i + 1, "q"), q, 9);
        free(v[i]);
    }
    r_out_free(&o);
    end_checks(45);
}

/* ---- Ratio estimator ---------------------------------------------------- */

/*
 * Units of clients: kind 0 sessions (attended of eligible, some not
 * eligible), kind 1 weekly hours (hours of 1 week), kind 2 every unit its
 * own cluster.
 */
static size_t ratio_rows(double *v, size_t max, int kind)
{
    size_t n = 0;
    long client = 0;

    while (n < max) {
        long units = kind == 2 ? 1 : rnd_int(1, 30);
        double p = rnd();

        client += rnd_int(1, 4);
        for (long u = 0; u < units && n < max; u++, n++) {
            double elig = kind == 0 ? rnd() < 0.9 : 1;

            v[n * 3] = kind == 1 ? 12 * rnd() * p : elig * (rnd() < p);
            v[n * 3 + 1] = elig;
            v[n * 3 + 2] = (double)client;
        }
    }
    return n;
}

static void test_ratio_oracle(void **state)
{
    const size_t sizes[] = {400, 150, 80, 2000};
    const int kinds[] = {0, 1, 2, 0};
    double *v[4];
    char files[4][256];
    r_out o;

    (void)state;
    for (size_t i = 0; i < 4; i++) {
        v[i] = xcalloc(sizes[i] * 3, sizeof *v[i]);
        ratio_rows(v[i], sizes[i], kinds[i]);
        write_table("ratio", "y,x,cluster", v[i], sizes[i], 3, files[i]);
    }
    r_run("ratio", files, 4, &o);
    begin_checks();
    for (size_t i = 0; i < 4; i++) {
        size_t n = sizes[i];
        double *y = xcalloc(n, sizeof *y), *x = xcalloc(n, sizeof *x);
        long *cl = xcalloc(n, sizeof *cl);
        iop_stats_ratio_result r;

        for (size_t j = 0; j < n; j++) {
            y[j] = v[i][j * 3];
            x[j] = v[i][j * 3 + 1];
            cl[j] = (long)v[i][j * 3 + 2];
        }
        expect_status("ratio", "ratio", iop_stats_ratio(y, x, cl, n, &r),
                      IOP_STATS_OK);
        near_all("ratio", r_get(&o, (int)i + 1, "ratio"),
                 (double[]){r.estimate, r.std_err, r.lower, r.upper}, 4);
        free(y);
        free(x);
        free(cl);
        free(v[i]);
    }
    r_out_free(&o);
    end_checks(16);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_km_oracle),
        cmocka_unit_test(test_logrank_oracle),
        cmocka_unit_test(test_cif_oracle),
        cmocka_unit_test(test_cox_oracle),
        cmocka_unit_test(test_wilson_oracle),
        cmocka_unit_test(test_chisq_oracle),
        cmocka_unit_test(test_fisher_oracle),
        cmocka_unit_test(test_trend_oracle),
        cmocka_unit_test(test_ttest_oracle),
        cmocka_unit_test(test_quantile_oracle),
        cmocka_unit_test(test_ratio_oracle),
    };

    return cmocka_run_group_tests_name("stats_oracle", tests, setup,
                                       teardown);
}
