/*
 * generate.c - `iopstat generate`: write a synthetic extract folder.
 *
 * Input: iop_generate_opts (clients, months, seed, end day, folder).
 * Output: the seven CSV files of the data contract in that folder. The
 * model lives in generate_client.c (clients, pathways of episodes) and
 * generate_events.c (sessions, scores, screens, follow-ups); rows are
 * formatted by generate_write.c. This file checks the options, sizes the
 * identifiers, opens the files, runs the clients one after another and
 * closes the files, reporting the first error.
 *
 * Identifiers are a letter and a zero-padded counter, numbered in the
 * order the rows are made, so byte order is generation order and each
 * file is written in key order. The counter widths (7 digits for clients,
 * 8 for episodes and follow-ups, 9 for sessions, assessments and screens)
 * grow when the number of clients times the most rows one client can have
 * would not fit, so that this stays true for any N.
 *
 * Only one client and one episode are held at a time: memory is the
 * stdio buffers and does not grow with N. The random stream is GSL's
 * MT19937 seeded with the seed (GSL maps seed 0 to its default, 4357);
 * the clock is never read.
 */
#define IOP_GENERATE_INTERNAL
#include "iop/generate.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

static const char *const iop_gen_names[IOP_GEN_NFILES] = {
    "clients.csv", "episodes.csv", "sessions.csv", "assessments.csv",
    "drug_screens.csv", "followups.csv"
};

static const char *const iop_gen_headers[IOP_GEN_NFILES] = {
    "client_id,birth_year,sex,race,ethnicity,primary_substance,"
    "co_occurring,referral_source,payer",
    "episode_id,client_id,level_of_care,admit_date,discharge_date,"
    "discharge_reason,site,program,counselor_id,referral_date,moud",
    "session_id,episode_id,session_date,service,minutes,status,staff_id",
    "assessment_id,episode_id,assessed_on,instrument,score",
    "screen_id,episode_id,collected_on,result,substances",
    "followup_id,episode_id,contacted_on,reached,abstinent,"
    "employed_or_school,stable_housing,satisfaction",
};

/* Program goals, as a quality team might set them (metrics.md). */
static const char iop_gen_targets[] =
    "metric,program,target,better\n"
    "completion_rate,all,0.5,higher\n"
    "completion_rate,Adolescent IOP,0.45,higher\n"
    "retained_d90,all,0.7,higher\n"
    "attendance_rate,all,0.8,higher\n"
    "no_show_rate,all,0.15,lower\n"
    "uds_negative,all,0.75,higher\n"
    "followup_reach_30d,all,0.6,higher\n"
    "wait_days_median,all,7,lower\n"
    "iop_discharge_stepdown,Women's IOP,0.5,higher\n";

/* stdio buffer sizes: sessions take most of the bytes. */
#define IOP_GEN_BIG_BUFFER (4u << 20)
#define IOP_GEN_BUFFER (1u << 20)

void iop_generate_opts_init(iop_generate_opts *o)
{
    memset(o, 0, sizeof *o);
    o->clients = 1000;
    o->months = 24;
    o->seed = 1;
    memcpy(o->end, "2026-10-31", 11);
    o->outdir = NULL;
}

/* The first admission day: the day after end minus months (a day of the
 * month that the shorter month lacks becomes its last day). */
static int iop_gen_window_start(int end, int months)
{
    static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int y, m, d, last;

    iop_gen_civil(end, &y, &m, &d);
    m -= months % 12;
    y -= months / 12;
    if (m < 1) {
        m += 12;
        y--;
    }
    last = mdays[m - 1] + (m == 2 && y % 4 == 0
                           && (y % 100 != 0 || y % 400 == 0));
    return iop_gen_day(y, m, d > last ? last : d) + 1;
}

static iop_code iop_gen_check(iop_gen *g, const iop_generate_opts *o)
{
    int y, m, d;

    if (!o->outdir || !o->outdir[0])
        return iop_error_set(g->err, IOP_EUSAGE, NULL, 0, 0,
                             "missing output folder");
    if (o->clients < 1 || o->clients > 1000000000L)
        return iop_error_set(g->err, IOP_EUSAGE, NULL, 0, 0,
                             "clients must be from 1 to 1000000000, got %ld",
                             o->clients);
    if (o->months < 1 || o->months > 1200)
        return iop_error_set(g->err, IOP_EUSAGE, NULL, 0, 0,
                             "months must be from 1 to 1200, got %d",
                             o->months);
    if (memchr(o->end, '\0', sizeof o->end) == NULL
        || iop_gen_parse_date(o->end, &g->end) != 0)
        return iop_error_set(g->err, IOP_EUSAGE, NULL, 0, 0,
                             "expected an ISO date in 'end', got '%.10s'",
                             o->end);
    /* Clients are up to 84 at their first admission, and birth years
     * must not fall before 1900. */
    iop_gen_civil(g->end, &y, &m, &d);
    if (y < 1985 + o->months / 12)
        return iop_error_set(g->err, IOP_EUSAGE, NULL, 0, 0,
                             "end date '%s' is too early for %d months: "
                             "birth years would fall before 1900",
                             o->end, o->months);
    g->end_year = y;
    g->start = iop_gen_window_start(g->end, o->months);
    return IOP_OK;
}

/* Creates dir and its missing parents, like mkdir -p. */
static iop_code iop_gen_mkdirs(iop_gen *g, const char *dir)
{
    char path[4096];
    size_t n = strlen(dir);
    struct stat st;

    if (n >= sizeof path)
        return iop_error_set(g->err, IOP_EIO, dir, 0, 0,
                             "folder name too long");
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        path[i] = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST)
            return iop_error_set(g->err, IOP_EIO, dir, 0, 0,
                                 "cannot create folder '%s': %s", path,
                                 strerror(errno));
        path[i] = dir[i];
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return iop_error_set(g->err, IOP_EIO, dir, 0, 0,
                             "'%s' is not a folder", dir);
    return IOP_OK;
}

static int iop_gen_ndigits(unsigned long long v)
{
    int n = 1;

    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

/* Widths that hold clients x (most rows of one client) identifiers. */
static void iop_gen_widths(iop_gen *g, long clients)
{
    static const int base[IOP_GEN_NFILES] = { 7, 8, 9, 9, 9, 8 };
    unsigned long long per[IOP_GEN_NFILES];
    unsigned long long ep = IOP_GEN_MAX_EPISODES;

    per[IOP_GEN_CLIENTS] = 1;
    per[IOP_GEN_EPISODES] = ep;
    per[IOP_GEN_SESSIONS] = ep * iop_gen_session_bound();
    per[IOP_GEN_ASSESSMENTS] = ep * iop_gen_assessment_bound();
    per[IOP_GEN_SCREENS] = ep * iop_gen_screen_bound();
    per[IOP_GEN_FOLLOWUPS] = ep * iop_gen_followup_bound();
    for (int i = 0; i < IOP_GEN_NFILES; i++) {
        int w = iop_gen_ndigits((unsigned long long)clients * per[i]);

        g->width[i] = w > base[i] ? (w > 20 ? 20 : w) : base[i];
        g->next_id[i] = 1;
    }
}

static iop_code iop_gen_open_all(iop_gen *g, const char *dir)
{
    iop_code rc;

    for (int i = 0; i < IOP_GEN_NFILES; i++) {
        iop_gen_file *f = &g->files[i];

        rc = iop_gen_file_open(g, f, dir, iop_gen_names[i],
                               i == IOP_GEN_SESSIONS ? IOP_GEN_BIG_BUFFER
                                                     : IOP_GEN_BUFFER);
        if (rc != IOP_OK)
            return rc;
        iop_gen_put(f, iop_gen_headers[i]);
        if ((rc = iop_gen_row_end(g, f)) != IOP_OK)
            return rc;
    }
    return IOP_OK;
}

/* Closes every file; returns the first error unless one is already set. */
static iop_code iop_gen_close_all(iop_gen *g, iop_code rc)
{
    for (int i = 0; i < IOP_GEN_NFILES; i++) {
        if (rc != IOP_OK) {
            iop_gen_file_abort(&g->files[i]);
            continue;
        }
        rc = iop_gen_file_close(g, &g->files[i]);
    }
    return rc;
}

static iop_code iop_gen_write_targets(iop_gen *g, const char *dir)
{
    iop_gen_file f;
    size_t n = sizeof iop_gen_targets - 1;
    iop_code rc;

    memset(&f, 0, sizeof f);
    if ((rc = iop_gen_file_open(g, &f, dir, "targets.csv", 4096)) != IOP_OK)
        return rc;
    if (fwrite(iop_gen_targets, 1, n, f.fp) != n) {
        rc = iop_error_set(g->err, IOP_EIO, f.path, 0, 0,
                           "cannot write '%s': %s", f.path, strerror(errno));
        iop_gen_file_abort(&f);
        return rc;
    }
    return iop_gen_file_close(g, &f);
}

static iop_code iop_gen_run(iop_gen *g, const iop_generate_opts *o)
{
    iop_code rc = iop_gen_open_all(g, o->outdir);

    for (long i = 0; rc == IOP_OK && i < o->clients; i++)
        rc = iop_gen_client_run(g);
    rc = iop_gen_close_all(g, rc);
    if (rc == IOP_OK)
        rc = iop_gen_write_targets(g, o->outdir);
    return rc;
}

iop_code iop_generate(const iop_generate_opts *o, iop_error *err)
{
    iop_gen g;
    iop_code rc;

    memset(&g, 0, sizeof g);
    g.err = err;
    if ((rc = iop_gen_check(&g, o)) != IOP_OK)
        return rc;
    if ((rc = iop_gen_mkdirs(&g, o->outdir)) != IOP_OK)
        return rc;
    g.rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!g.rng)
        return iop_error_set(err, IOP_ENOMEM, NULL, 0, 0,
                             "out of memory for the random generator");
    gsl_rng_set(g.rng, o->seed);
    iop_gen_widths(&g, o->clients);
    rc = iop_gen_run(&g, o);
    gsl_rng_free(g.rng);
    return rc;
}
