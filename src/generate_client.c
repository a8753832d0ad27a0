/*
 * generate_client.c - synthetic clients and their pathways of care.
 *
 * One call of iop_gen_client_run() invents a client, writes the client
 * row, then walks the client through episodes: an entry level (IOP for
 * half of the adults), an outcome drawn from rates near TEDS-D for that
 * level and moved by the client's latent engagement, a length of stay
 * drawn for that outcome, and a next step (step-down after completion,
 * step-up after a transfer out of IOP, a readmission months later after a
 * dropout). Each episode's sessions, scores, screens and follow-ups are
 * written before the next episode is drawn, so the state held is one
 * client and one episode. An episode still running on the end day is
 * written open, and the pathway stops there. docs/generate.md lists the
 * rates; the tables below are the model.
 */
#define IOP_GENERATE_INTERNAL
#include "iop/generate.h"

#include <math.h>

#include <gsl/gsl_randist.h>

/* Value tables; each weight row is parallel to its table, and an empty
 * string is the empty (unknown) value. */
static const char *const iop_gen_sexes[] = { "F", "M", "X", "U", "" };
static const double iop_gen_sex_w[] = { 38, 57.5, 1.2, 1.3, 2 };
static const char *const iop_gen_races[] = {
    "White", "Black, African American", "Asian",
    "American Indian or Alaska Native",
    "Native Hawaiian or Other Pacific Islander", "Two or more races",
    "Other", ""
};
static const double iop_gen_race_w[] = { 58, 17, 2.5, 3, 0.5, 4, 6, 9 };
static const char *const iop_gen_ethnicities[] = {
    "Not Hispanic or Latino", "Hispanic or Latino", ""
};
static const double iop_gen_ethnicity_w[] = { 76, 17, 7 };
static const char *const iop_gen_substances[] = {
    "alcohol", "opioids", "stimulants", "cannabis", "sedatives", "other", ""
};
static const double iop_gen_substance_w[2][7] = {
    { 34, 26, 18, 11, 4, 3, 4 },   /* adults */
    { 12, 4, 8, 66, 4, 3, 3 },     /* adolescents */
};
static const char *const iop_gen_flags[] = { "0", "1", "" };
static const double iop_gen_cooccurring_w[] = { 50, 46, 4 };
static const char *const iop_gen_referrals[] = {
    "self", "family", "provider", "court", "employer", "school", "other", ""
};
static const double iop_gen_referral_w[2][8] = {
    { 30, 8, 28, 22, 4, 0.5, 5, 2.5 },
    { 6, 30, 18, 16, 0, 25, 3, 2 },
};
static const char *const iop_gen_payers[] = {
    "medicaid", "medicare", "private", "self", "other", "none", ""
};
static const double iop_gen_payer_w[2][7] = {
    { 46, 5, 28, 6, 5, 7, 3 },
    { 50, 0, 42, 2, 3, 1, 2 },
};
static const char *const iop_gen_mouds[] = {
    "", "none", "buprenorphine", "methadone", "naltrexone"
};
static const double iop_gen_opioid_moud_w[] = { 4, 34, 34, 19, 9 };
static const double iop_gen_other_moud_w[] = { 30, 70, 0, 0, 0 };

static const char *const iop_gen_levels[IOP_GEN_NLEVELS] = {
    "3.7-WM", "3.2-WM", "3.7", "3.5", "2.5", "2.1", "1.0"
};
static const char *const iop_gen_reasons[IOP_GEN_NREASONS] = {
    "completed", "dropped_out", "terminated", "transferred",
    "incarcerated", "death", "other"
};
static const char *const iop_gen_programs[] = {
    "Adult IOP", "Women's IOP", "Adolescent IOP", "Evening IOP",
    "Withdrawal Management", "Residential", "Partial Hospitalization",
    "Outpatient"
};
static const char *const iop_gen_sites[] = {
    "Riverside Campus", "Northgate Clinic", "Eastside Center"
};
static const double iop_gen_site_w[] = { 45, 33, 22 };
static const char *const iop_gen_counselors[] = {
    "K01", "K02", "K03", "K04", "K05", "K06", "K07", "K08",
    "K09", "K10", "K11", "K12", "K13", "K14", "K15", "K16"
};
/* Counselors of each site: the first index and how many. */
static const int iop_gen_site_staff[3][2] = { { 0, 7 }, { 7, 5 }, { 12, 4 } };

/* Entry level of a first admission or a readmission, adults and
 * adolescents, in the order of the IOP_GEN_* levels. */
static const double iop_gen_entry_w[2][IOP_GEN_NLEVELS] = {
    { 7, 6, 6, 11, 9, 48, 13 },
    { 0, 0, 0, 8, 4, 75, 13 },
};

/* Outcome rates by level (completed, dropped out, terminated,
 * transferred, incarcerated, death, other), before engagement. */
static const double iop_gen_reason_w[IOP_GEN_NLEVELS][IOP_GEN_NREASONS] = {
    { 68, 18, 3, 7, 0.5, 0.2, 3.3 },
    { 66, 20, 3, 7, 0.5, 0.2, 3.3 },
    { 58, 22, 6, 8, 1, 0.3, 4.7 },
    { 58, 22, 6, 8, 1, 0.3, 4.7 },
    { 52, 22, 5, 14, 1, 0.2, 5.8 },
    { 45, 25, 7, 15, 2, 0.3, 5.7 },
    { 42, 30, 5, 12, 2, 0.3, 8.7 },
};

/* Length of stay by level: completion mean, SD and minimum; the gamma
 * shape and scale of a dropout's stay; the mean stay before a transfer;
 * the longest stay. */
typedef struct iop_gen_stay {
    double mean, sd, min, shape, scale, transfer;
    int max;
} iop_gen_stay;

static const iop_gen_stay iop_gen_stays[IOP_GEN_NLEVELS] = {
    { 5, 1.5, 2, 1.0, 2.0, 3, 14 },
    { 6, 2, 2, 1.0, 2.5, 4, 14 },
    { 24, 5, 10, 1.2, 6, 12, 45 },
    { 30, 6, 14, 1.2, 8, 14, 60 },
    { 21, 5, 10, 1.3, 6, 10, 45 },
    { 72, 16, 42, 1.3, 14, 26, 150 },
    { 90, 20, 45, 1.3, 20, 40, 180 },
};

/* The next level after a completion or a transfer: weights over the
 * levels and, last, no next episode; then the gap in days. */
typedef struct iop_gen_step {
    double w[IOP_GEN_NLEVELS + 1];
    int gap_lo, gap_hi;
} iop_gen_step;

static const iop_gen_step iop_gen_after_completion[IOP_GEN_NLEVELS] = {
    { { 0, 0, 25, 20, 10, 25, 0, 20 }, 0, 2 },
    { { 0, 0, 15, 25, 10, 30, 0, 20 }, 0, 3 },
    { { 0, 0, 0, 0, 15, 55, 12, 18 }, 0, 7 },
    { { 0, 0, 0, 0, 15, 55, 12, 18 }, 0, 7 },
    { { 0, 0, 0, 0, 0, 70, 10, 20 }, 0, 5 },
    { { 0, 0, 0, 0, 0, 0, 60, 40 }, 1, 14 },
    { { 0, 0, 0, 0, 0, 0, 0, 100 }, 0, 0 },
};

static const iop_gen_step iop_gen_after_transfer[IOP_GEN_NLEVELS] = {
    { { 0, 0, 60, 0, 0, 0, 0, 40 }, 0, 1 },
    { { 0, 0, 40, 20, 0, 0, 0, 40 }, 0, 1 },
    { { 0, 0, 0, 0, 40, 30, 0, 30 }, 0, 3 },
    { { 0, 0, 0, 0, 40, 30, 0, 30 }, 0, 3 },
    { { 10, 0, 0, 50, 0, 0, 0, 40 }, 0, 3 },
    { { 10, 0, 0, 35, 45, 0, 0, 10 }, 0, 3 },
    { { 0, 0, 0, 0, 10, 70, 0, 20 }, 0, 7 },
};

/* Chance of a readmission months later when no step follows, by reason. */
static const double iop_gen_readmit_p[IOP_GEN_NREASONS] = {
    0.18, 0.42, 0.38, 0.25, 0.30, 0, 0.25
};

int iop_gen_los_max(int level)
{
    return iop_gen_stays[level].max;
}

const char *iop_gen_counselor(int counselor)
{
    return iop_gen_counselors[counselor];
}

/* The counselors of a site: returns how many, and the first in *first. */
int iop_gen_site_counselors(int site, int *first)
{
    *first = iop_gen_site_staff[site][0];
    return iop_gen_site_staff[site][1];
}

/* An index drawn with weights w[0..n). */
int iop_gen_pick(iop_gen *g, const double *w, int n)
{
    double total = 0, u;

    for (int i = 0; i < n; i++)
        total += w[i];
    u = gsl_rng_uniform(g->rng) * total;
    for (int i = 0; i < n - 1; i++) {
        if (u < w[i])
            return i;
        u -= w[i];
    }
    return n - 1;
}

/* A uniform integer in [lo, hi]; lo when hi < lo. */
int iop_gen_between(iop_gen *g, int lo, int hi)
{
    if (hi <= lo)
        return lo;
    return lo + (int)gsl_rng_uniform_int(g->rng, (unsigned long)(hi - lo) + 1);
}

int iop_gen_chance(iop_gen *g, double p)
{
    return gsl_rng_uniform(g->rng) < p;
}

static int iop_gen_year_of(int day)
{
    int y, m, d;

    iop_gen_civil(day, &y, &m, &d);
    return y;
}

/* Age, sex and the other attributes; the adolescent share is 10%. */
static void iop_gen_client_draw(iop_gen *g, iop_gen_client *c, int admit)
{
    int teen = iop_gen_chance(g, 0.10);
    int age = teen ? iop_gen_between(g, 13, 17)
                   : 18 + (int)gsl_ran_gamma(g->rng, 2.2, 8.0);

    iop_gen_put_id(g, IOP_GEN_CLIENTS, c->id);
    c->birth_year = iop_gen_chance(g, 0.012) ? 0
                    : iop_gen_year_of(admit) - (age > 84 ? 84 : age);
    c->sex = iop_gen_pick(g, iop_gen_sex_w, 5);
    c->race = iop_gen_pick(g, iop_gen_race_w, 8);
    c->ethnicity = iop_gen_pick(g, iop_gen_ethnicity_w, 3);
    c->substance = iop_gen_pick(g, iop_gen_substance_w[teen], 7);
    c->co_occurring = iop_gen_pick(g, iop_gen_cooccurring_w, 3);
    c->referral = iop_gen_pick(g, iop_gen_referral_w[teen], 8);
    c->payer = iop_gen_pick(g, iop_gen_payer_w[teen], 7);
    c->site = iop_gen_pick(g, iop_gen_site_w, 3);
    c->moud = iop_gen_pick(g, c->substance == IOP_GEN_OPIOIDS
                                  ? iop_gen_opioid_moud_w
                                  : iop_gen_other_moud_w, 5);
    c->family = teen || iop_gen_chance(g, 0.35);
    c->meds = c->co_occurring == 1 || c->moud >= IOP_GEN_MOUD_BUP;
    c->engage = gsl_ran_gaussian(g->rng, 1.0) - (c->referral == 3) * 0.3;
    c->severity = gsl_ran_gaussian(g->rng, 1.0);
    if (c->sex == 0)
        c->track = iop_gen_pick(g, (const double[]){ 35, 40, 0, 25 }, 4);
    else
        c->track = iop_gen_chance(g, 0.3) ? IOP_GEN_EVENING : IOP_GEN_ADULT;
}

static iop_code iop_gen_client_write(iop_gen *g, const iop_gen_client *c)
{
    iop_gen_file *f = &g->files[IOP_GEN_CLIENTS];
    iop_code rc;

    iop_gen_put(f, c->id);
    iop_gen_put(f, ",");
    if (c->birth_year)
        iop_gen_put_uint(f, (unsigned long)c->birth_year);
    iop_gen_put(f, ",");
    iop_gen_put(f, iop_gen_sexes[c->sex]);
    iop_gen_put(f, ",");
    if ((rc = iop_gen_put_text(g, f, iop_gen_races[c->race])) != IOP_OK)
        return rc;
    iop_gen_put(f, ",");
    iop_gen_put(f, iop_gen_ethnicities[c->ethnicity]);
    iop_gen_put(f, ",");
    iop_gen_put(f, iop_gen_substances[c->substance]);
    iop_gen_put(f, ",");
    iop_gen_put(f, iop_gen_flags[c->co_occurring]);
    iop_gen_put(f, ",");
    iop_gen_put(f, iop_gen_referrals[c->referral]);
    iop_gen_put(f, ",");
    iop_gen_put(f, iop_gen_payers[c->payer]);
    return iop_gen_row_end(g, f);
}

/* The outcome of a stay at level, moved by the client's engagement. */
static int iop_gen_fate(iop_gen *g, const iop_gen_client *c, int level)
{
    double w[IOP_GEN_NREASONS];

    for (int i = 0; i < IOP_GEN_NREASONS; i++)
        w[i] = iop_gen_reason_w[level][i];
    w[IOP_GEN_COMPLETED] *= exp(0.45 * c->engage);
    w[IOP_GEN_DROPPED] *= exp(-0.6 * c->engage);
    w[IOP_GEN_TERMINATED] *= exp(-0.6 * c->engage);
    return iop_gen_pick(g, w, IOP_GEN_NREASONS);
}

/* Days from admission to discharge for a stay with that outcome. */
static int iop_gen_los(iop_gen *g, int level, int fate)
{
    const iop_gen_stay *s = &iop_gen_stays[level];
    double x;

    if (fate == IOP_GEN_COMPLETED) {
        x = s->mean + gsl_ran_gaussian(g->rng, s->sd);
        x = x < s->min ? s->min : x;
    } else if (fate == IOP_GEN_DROPPED) {
        x = gsl_ran_gamma(g->rng, s->shape, s->scale);
    } else if (fate == IOP_GEN_TERMINATED) {
        x = gsl_ran_gamma(g->rng, 2.0, s->scale * 1.2);
    } else if (fate == IOP_GEN_TRANSFERRED) {
        x = gsl_ran_gamma(g->rng, 2.0, s->transfer / 2);
    } else {
        x = gsl_rng_uniform(g->rng) * s->mean * 1.2;
    }
    x = floor(x + 0.5);
    return x > s->max ? s->max : (int)x;
}

/* The IOP program for an admission at that age (0 when unknown). */
static int iop_gen_program(const iop_gen_client *c, int level, int age)
{
    switch (level) {
    case IOP_GEN_WM37: case IOP_GEN_WM32: return IOP_GEN_PROG_WM;
    case IOP_GEN_RES37: case IOP_GEN_RES35: return IOP_GEN_PROG_RES;
    case IOP_GEN_PHP: return IOP_GEN_PROG_PHP;
    case IOP_GEN_OP: return IOP_GEN_PROG_OP;
    default:
        return age > 0 && age < 18 ? IOP_GEN_ADOLESCENT : c->track;
    }
}

/* Residential and withdrawal care are at the main campus; adolescents
 * and women from the smallest site attend Northgate's tracks. */
static int iop_gen_site(const iop_gen_client *c, int level, int program)
{
    if (level <= IOP_GEN_RES35)
        return 0;
    if (level == IOP_GEN_PHP)
        return c->site == 1 ? 1 : 0;
    if (c->site == 2 && (program == IOP_GEN_WOMEN
                         || program == IOP_GEN_ADOLESCENT))
        return 1;
    return c->site;
}

/* Where and with whom: site, program, counselor, blanks, medication. */
static void iop_gen_place(iop_gen *g, const iop_gen_client *c,
                          iop_gen_episode *e)
{
    int age = c->birth_year ? iop_gen_year_of(e->admit) - c->birth_year : 0;
    int first, n;

    e->adolescent = age > 0 && age < 18;
    e->program = iop_gen_program(c, e->level, age);
    e->site = iop_gen_site(c, e->level, e->program);
    n = iop_gen_site_counselors(e->site, &first);
    e->counselor = first + iop_gen_between(g, 0, n - 1);
    e->blank = 0;
    if (iop_gen_chance(g, 0.004))
        e->blank |= IOP_GEN_BLANK_SITE;
    if (iop_gen_chance(g, 0.006))
        e->blank |= IOP_GEN_BLANK_PROGRAM;
    if (iop_gen_chance(g, 0.02))
        e->blank |= IOP_GEN_BLANK_COUNSELOR;
    e->moud = iop_gen_chance(g, 0.04) ? IOP_GEN_MOUD_EMPTY : c->moud;
}

/* The referral: for a step from another level, a few days before the
 * previous discharge; otherwise a wait of days to weeks. */
static int iop_gen_referral(iop_gen *g, int admit, int prev_discharge)
{
    double wait;

    if (prev_discharge != IOP_GEN_NODATE && admit - prev_discharge <= 14) {
        if (!iop_gen_chance(g, 0.9))
            return IOP_GEN_NODATE;
        return prev_discharge - iop_gen_between(g, 0, 3);
    }
    if (!iop_gen_chance(g, 0.88))
        return IOP_GEN_NODATE;
    wait = floor(gsl_ran_gamma(g->rng, 1.2, 6.0));
    return admit - (wait > 90 ? 90 : (int)wait);
}

static void iop_gen_episode_draw(iop_gen *g, const iop_gen_client *c,
                                 iop_gen_episode *e, int prev_discharge)
{
    iop_gen_put_id(g, IOP_GEN_EPISODES, e->id);
    e->fate = iop_gen_fate(g, c, e->level);
    e->stop = e->admit + iop_gen_los(g, e->level, e->fate);
    e->dropout = e->fate == IOP_GEN_DROPPED || e->fate == IOP_GEN_TERMINATED;
    if (e->stop > g->end) {
        e->reason = -1;
        e->discharge = IOP_GEN_NODATE;
        e->last = g->end;
    } else {
        e->reason = e->fate;
        e->discharge = e->stop;
        e->last = e->stop;
    }
    e->referral = iop_gen_referral(g, e->admit, prev_discharge);
    iop_gen_place(g, c, e);
}

static iop_code iop_gen_episode_write(iop_gen *g, const iop_gen_client *c,
                                      const iop_gen_episode *e)
{
    iop_gen_file *f = &g->files[IOP_GEN_EPISODES];

    iop_gen_put(f, e->id);
    iop_gen_put(f, ",");
    iop_gen_put(f, c->id);
    iop_gen_put(f, ",");
    iop_gen_put(f, iop_gen_levels[e->level]);
    iop_gen_put(f, ",");
    iop_gen_put_date(f, e->admit);
    iop_gen_put(f, ",");
    iop_gen_put_date(f, e->discharge);
    iop_gen_put(f, ",");
    iop_gen_put(f, e->reason < 0 ? "" : iop_gen_reasons[e->reason]);
    iop_gen_put(f, ",");
    if (!(e->blank & IOP_GEN_BLANK_SITE))
        iop_gen_put(f, iop_gen_sites[e->site]);
    iop_gen_put(f, ",");
    if (!(e->blank & IOP_GEN_BLANK_PROGRAM))
        iop_gen_put(f, iop_gen_programs[e->program]);
    iop_gen_put(f, ",");
    if (!(e->blank & IOP_GEN_BLANK_COUNSELOR))
        iop_gen_put(f, iop_gen_counselors[e->counselor]);
    iop_gen_put(f, ",");
    iop_gen_put_date(f, e->referral);
    iop_gen_put(f, ",");
    iop_gen_put(f, iop_gen_mouds[e->moud]);
    return iop_gen_row_end(g, f);
}

/* Chooses the level and admission day of the episode after e. Returns 0
 * when the pathway ends. */
static int iop_gen_next(iop_gen *g, const iop_gen_episode *e, int *level,
                        int *admit)
{
    const iop_gen_step *s = NULL;
    double gap;

    if (e->reason == IOP_GEN_COMPLETED)
        s = &iop_gen_after_completion[e->level];
    else if (e->reason == IOP_GEN_TRANSFERRED)
        s = &iop_gen_after_transfer[e->level];
    if (s) {
        *level = iop_gen_pick(g, s->w, IOP_GEN_NLEVELS + 1);
        if (*level < IOP_GEN_NLEVELS) {
            *admit = e->discharge + iop_gen_between(g, s->gap_lo, s->gap_hi);
            return 1;
        }
    }
    if (!iop_gen_chance(g, iop_gen_readmit_p[e->reason]))
        return 0;
    gap = 30 + gsl_ran_gamma(g->rng, 1.5, 70.0);
    if (e->reason == IOP_GEN_INCARCERATED)
        gap += 60;
    *level = iop_gen_pick(g, iop_gen_entry_w[e->adolescent], IOP_GEN_NLEVELS);
    *admit = e->discharge + (int)gap;
    return 1;
}

/* The rows of one episode and of everything dated inside or after it. */
static iop_code iop_gen_episode_emit(iop_gen *g, const iop_gen_client *c,
                                     const iop_gen_episode *e)
{
    iop_code rc;

    if ((rc = iop_gen_episode_write(g, c, e)) != IOP_OK)
        return rc;
    if ((rc = iop_gen_sessions(g, c, e)) != IOP_OK)
        return rc;
    if ((rc = iop_gen_assessments(g, c, e)) != IOP_OK)
        return rc;
    if ((rc = iop_gen_screens(g, c, e)) != IOP_OK)
        return rc;
    return iop_gen_followups(g, e);
}

/* One client: the client row, then episode after episode. */
iop_code iop_gen_client_run(iop_gen *g)
{
    iop_gen_client c;
    iop_gen_episode e;
    int prev = IOP_GEN_NODATE;
    iop_code rc;

    e.admit = iop_gen_between(g, g->start, g->end);
    iop_gen_client_draw(g, &c, e.admit);
    if ((rc = iop_gen_client_write(g, &c)) != IOP_OK)
        return rc;
    e.level = iop_gen_pick(g, iop_gen_entry_w[c.birth_year
                           && iop_gen_year_of(e.admit) - c.birth_year < 18],
                           IOP_GEN_NLEVELS);
    for (int k = 0; k < IOP_GEN_MAX_EPISODES; k++) {
        iop_gen_episode_draw(g, &c, &e, prev);
        if ((rc = iop_gen_episode_emit(g, &c, &e)) != IOP_OK)
            return rc;
        if (e.reason < 0 || e.reason == IOP_GEN_DEATH)
            break;
        prev = e.discharge;
        if (!iop_gen_next(g, &e, &e.level, &e.admit) || e.admit > g->end)
            break;
    }
    return IOP_OK;
}
