/*
 * generate_events.c - what happens inside and after one synthetic episode:
 * sessions, assessments, drug screens and follow-up contacts.
 *
 * Sessions follow a weekly timetable per level of care (for IOP, per
 * program), from the admission day to the discharge day, or to the end
 * day for an open episode, so every event lies inside its episode.
 * Follow-ups lie 0-7, 23-37 and 76-104 days after discharge and never
 * after the end day. Rows are written as they are drawn, in date order,
 * so each file is in key order and grouped by episode. The random stream
 * is consumed in a fixed order, which makes the output a function of the
 * seed. The volume (about 90 sessions per client over 24 months) comes
 * from these timetables and from the stays drawn in generate_client.c.
 */
#define IOP_GENERATE_INTERNAL
#include "iop/generate.h"

#include <math.h>

#include <gsl/gsl_randist.h>

/* SVC_OTHER is peer recovery support. */
enum {
    SVC_INDIVIDUAL, SVC_GROUP, SVC_FAMILY, SVC_PSYCHOED, SVC_MEDICATION,
    SVC_CASE, SVC_ASSESSMENT, SVC_OTHER
};
static const char *const iop_gen_services[] = {
    "individual", "group", "family", "psychoeducation", "medication",
    "case_management", "assessment", "other"
};

enum { ST_ATTENDED, ST_NO_SHOW, ST_CANCEL_CLIENT, ST_CANCEL_PROGRAM };
static const char *const iop_gen_statuses[] = {
    "attended", "no_show", "cancelled_client", "cancelled_program"
};

enum { RES_NEGATIVE, RES_POSITIVE, RES_DILUTE, RES_REFUSED, RES_INVALID };
static const char *const iop_gen_results[] = {
    "negative", "positive", "dilute", "refused", "invalid"
};
static const char *const iop_gen_substance_codes[] = {
    "alcohol", "opioids", "stimulants", "cannabis", "sedatives", "other"
};

/* Weekdays as bits, Sunday first, as iop_gen_weekday() counts them. */
#define SU 1
#define MO 2
#define TU 4
#define WE 8
#define TH 16
#define FR 32
#define SA 64
#define WEEKDAYS (MO | TU | WE | TH | FR)
#define EVERY_DAY (WEEKDAYS | SA | SU)

/* Slot conditions: family sessions, medication management. */
#define NEED_FAMILY 1
#define NEED_MEDS 2

/* One line of a weekly timetable: on these weekdays of every n-th week
 * of the stay, one session of this service and length. */
typedef struct iop_gen_slot {
    unsigned char days, service, every, need;
    short minutes;
} iop_gen_slot;

/* Day IOP: three program days of a 180-minute group and an hour of
 * psychoeducation (12 hours a week; ASAM 2.1 asks for 9 to 19). */
static const iop_gen_slot iop_gen_adult_iop[] = {
    { MO | WE | FR, SVC_GROUP, 1, 0, 180 },
    { MO | WE | FR, SVC_PSYCHOED, 1, 0, 60 },
    { TU, SVC_INDIVIDUAL, 1, 0, 60 },
    { TU, SVC_FAMILY, 1, NEED_FAMILY, 60 },
    { TH, SVC_MEDICATION, 1, NEED_MEDS, 30 },
    { TH, SVC_CASE, 2, 0, 30 },
    { TH, SVC_OTHER, 1, 0, 60 },
    { 0, 0, 0, 0, 0 },
};
/* Evening IOP: three evenings of a 120-minute group and an hour of
 * psychoeducation (9 hours). */
static const iop_gen_slot iop_gen_evening_iop[] = {
    { MO | TU | TH, SVC_GROUP, 1, 0, 120 },
    { MO | TU | TH, SVC_PSYCHOED, 1, 0, 60 },
    { WE, SVC_INDIVIDUAL, 1, 0, 60 },
    { WE, SVC_FAMILY, 1, NEED_FAMILY, 60 },
    { TU, SVC_MEDICATION, 1, NEED_MEDS, 30 },
    { MO, SVC_CASE, 2, 0, 30 },
    { WE, SVC_OTHER, 1, 0, 60 },
    { 0, 0, 0, 0, 0 },
};
/* Adolescents: three afternoons of 90 minutes of group and an hour of
 * psychoeducation (7.5 hours; 6 is the adolescent minimum), and a
 * weekly family session. */
static const iop_gen_slot iop_gen_adolescent_iop[] = {
    { MO | WE | TH, SVC_GROUP, 1, 0, 90 },
    { MO | WE | TH, SVC_PSYCHOED, 1, 0, 60 },
    { TU, SVC_INDIVIDUAL, 1, 0, 60 },
    { FR, SVC_FAMILY, 1, 0, 60 },
    { TH, SVC_MEDICATION, 4, NEED_MEDS, 30 },
    { FR, SVC_CASE, 2, 0, 30 },
    { 0, 0, 0, 0, 0 },
};
static const iop_gen_slot iop_gen_residential[] = {
    { WEEKDAYS, SVC_GROUP, 1, 0, 90 },
    { WEEKDAYS, SVC_GROUP, 1, 0, 90 },
    { WEEKDAYS, SVC_PSYCHOED, 1, 0, 60 },
    { SA | SU, SVC_GROUP, 1, 0, 90 },
    { TU | TH, SVC_INDIVIDUAL, 1, 0, 60 },
    { WE, SVC_MEDICATION, 1, 0, 30 },
    { FR, SVC_CASE, 1, 0, 45 },
    { SU, SVC_FAMILY, 2, NEED_FAMILY, 90 },
    { 0, 0, 0, 0, 0 },
};
static const iop_gen_slot iop_gen_withdrawal[] = {
    { EVERY_DAY, SVC_MEDICATION, 1, 0, 20 },
    { EVERY_DAY, SVC_GROUP, 1, 0, 60 },
    { WEEKDAYS, SVC_PSYCHOED, 1, 0, 45 },
    { MO | TH, SVC_INDIVIDUAL, 1, 0, 30 },
    { 0, 0, 0, 0, 0 },
};
static const iop_gen_slot iop_gen_php[] = {
    { WEEKDAYS, SVC_GROUP, 1, 0, 180 },
    { WEEKDAYS, SVC_PSYCHOED, 1, 0, 60 },
    { TU | TH, SVC_INDIVIDUAL, 1, 0, 60 },
    { WE, SVC_MEDICATION, 1, 0, 30 },
    { FR, SVC_FAMILY, 2, NEED_FAMILY, 60 },
    { MO, SVC_CASE, 2, 0, 30 },
    { 0, 0, 0, 0, 0 },
};
static const iop_gen_slot iop_gen_outpatient[] = {
    { TU, SVC_GROUP, 1, 0, 90 },
    { TH, SVC_INDIVIDUAL, 1, 0, 60 },
    { TH, SVC_MEDICATION, 4, NEED_MEDS, 30 },
    { 0, 0, 0, 0, 0 },
};

static const iop_gen_slot *iop_gen_timetable(int level, int program)
{
    switch (level) {
    case IOP_GEN_WM37: case IOP_GEN_WM32: return iop_gen_withdrawal;
    case IOP_GEN_RES37: case IOP_GEN_RES35: return iop_gen_residential;
    case IOP_GEN_PHP: return iop_gen_php;
    case IOP_GEN_OP: return iop_gen_outpatient;
    default: break;
    }
    if (program == IOP_GEN_EVENING)
        return iop_gen_evening_iop;
    return program == IOP_GEN_ADOLESCENT ? iop_gen_adolescent_iop
                                         : iop_gen_adult_iop;
}

/* Most sessions one episode can have: a stay of L days touches at most
 * L / 7 + 1 weeks, and a timetable line gives at most one session per
 * weekday it names in each; plus the intake. Identifiers are sized from
 * this bound. */
unsigned long iop_gen_session_bound(void)
{
    unsigned long most = 0, n;

    for (int level = 0; level < IOP_GEN_NLEVELS; level++) {
        for (int program = 0; program <= IOP_GEN_EVENING; program++) {
            const iop_gen_slot *s = iop_gen_timetable(level, program);

            n = 0;
            for (int i = 0; s[i].days; i++)
                for (unsigned d = s[i].days; d; d &= d - 1)
                    n++;
            n = n * (unsigned long)(iop_gen_los_max(level) / 7 + 1) + 1;
            most = n > most ? n : most;
        }
    }
    return most;
}

unsigned long iop_gen_assessment_bound(void)
{
    return (IOP_GEN_MAX_LOS / 14 + 1) * 5 + 1;
}

unsigned long iop_gen_screen_bound(void)
{
    return IOP_GEN_MAX_LOS / 7 + 2;
}

unsigned long iop_gen_followup_bound(void)
{
    return 7;
}

/* ---- sessions ---- */

/* A client's no-show rate: higher for low engagement and for the
 * episodes that end in a dropout; low where clients live on site. */
static double iop_gen_no_show_rate(const iop_gen_client *c,
                                   const iop_gen_episode *e)
{
    double p = 0.08 * exp(-0.5 * c->engage) + (e->dropout ? 0.12 : 0);

    if (e->level <= IOP_GEN_RES35)
        p *= 0.25;
    return p > 0.6 ? 0.6 : p;
}

/* Outpatient dropouts stop coming in their last ten days. */
static int iop_gen_status(iop_gen *g, const iop_gen_episode *e, double ns,
                          int day)
{
    double u = gsl_rng_uniform(g->rng);

    if (e->dropout && e->level > IOP_GEN_RES35 && e->stop - day < 10)
        ns = 0.55;
    if (u < 0.02)
        return ST_CANCEL_PROGRAM;
    if (u < 0.065)
        return ST_CANCEL_CLIENT;
    return u < 0.065 + ns ? ST_NO_SHOW : ST_ATTENDED;
}

/* Groups rotate among the site's counselors; medication management,
 * case management and peer support have their own staff. */
static const char *iop_gen_staff(const iop_gen_episode *e, int service,
                                 int wday, int line)
{
    static const char *const prescribers[] = { "MD01", "MD02", "MD03" };
    static const char *const managers[] = { "CM01", "CM02", "CM03" };
    static const char *const peers[] = { "PR01", "PR02", "PR03" };
    int first, n;

    switch (service) {
    case SVC_MEDICATION: return prescribers[e->site];
    case SVC_CASE: return managers[e->site];
    case SVC_OTHER: return peers[e->site];
    case SVC_GROUP: case SVC_PSYCHOED:
        n = iop_gen_site_counselors(e->site, &first);
        return iop_gen_counselor(first + (wday * 3 + line) % n);
    default:
        return iop_gen_counselor(e->counselor);
    }
}

static iop_code iop_gen_session_row(iop_gen *g, const iop_gen_episode *e,
                                    const char *date, int service,
                                    int minutes, int status,
                                    const char *staff)
{
    iop_gen_file *f = &g->files[IOP_GEN_SESSIONS];
    char id[24];

    iop_gen_put_id(g, IOP_GEN_SESSIONS, id);
    iop_gen_put(f, id);
    iop_gen_put(f, ",");
    iop_gen_put(f, e->id);
    iop_gen_put(f, ",");
    iop_gen_put(f, date);
    iop_gen_put(f, ",");
    iop_gen_put(f, iop_gen_services[service]);
    iop_gen_put(f, ",");
    iop_gen_put_uint(f, (unsigned long)minutes);
    iop_gen_put(f, ",");
    iop_gen_put(f, iop_gen_statuses[status]);
    iop_gen_put(f, ",");
    iop_gen_put(f, staff);
    return iop_gen_row_end(g, f);
}

/* The sessions of one day of the stay, in timetable order. */
static iop_code iop_gen_session_day(iop_gen *g, const iop_gen_client *c,
                                    const iop_gen_episode *e,
                                    const iop_gen_slot *table, double ns,
                                    int day)
{
    int week = (day - e->admit) / 7, wday = iop_gen_weekday(day);
    int has = (c->family || e->adolescent ? NEED_FAMILY : 0)
              | (c->meds ? NEED_MEDS : 0);
    char date[11];
    iop_code rc;

    iop_gen_format_date(day, date);
    for (int i = 0; table[i].days; i++) {
        const iop_gen_slot *s = &table[i];
        const char *staff;
        int status;

        if (!(s->days & (1 << wday)) || week % s->every
            || (s->need & has) != s->need)
            continue;
        status = iop_gen_status(g, e, ns, day);
        staff = iop_gen_chance(g, 0.003) ? ""
                : iop_gen_staff(e, s->service, wday, i);
        rc = iop_gen_session_row(g, e, date, s->service, s->minutes, status,
                                 staff);
        if (rc != IOP_OK)
            return rc;
    }
    return IOP_OK;
}

/* An attended intake on the admission day, then the timetable. */
iop_code iop_gen_sessions(iop_gen *g, const iop_gen_client *c,
                          const iop_gen_episode *e)
{
    const iop_gen_slot *table = iop_gen_timetable(e->level, e->program);
    double ns = iop_gen_no_show_rate(c, e);
    char date[11];
    iop_code rc;

    iop_gen_format_date(e->admit, date);
    rc = iop_gen_session_row(g, e, date, SVC_ASSESSMENT,
                             e->level == IOP_GEN_OP ? 60 : 90, ST_ATTENDED,
                             iop_gen_counselor(e->counselor));
    for (int day = e->admit; rc == IOP_OK && day <= e->last; day++)
        rc = iop_gen_session_day(g, c, e, table, ns, day);
    return rc;
}

/* ---- assessments ---- */

/* One episode's symptom course: baselines and the change per fortnight
 * (PHQ-9, GAD-7) or per four weeks (BAM). Completers improve most. */
typedef struct iop_gen_course {
    double phq, gad, use, risk, protect;
    double phq_slope, gad_slope, bam_slope;
    int bam;                 /* BAM taken every four weeks */
    int tool;                /* 0 none, 1 AUDIT, 2 DAST10 at admission */
} iop_gen_course;

static void iop_gen_course_draw(iop_gen *g, const iop_gen_client *c,
                                const iop_gen_episode *e, iop_gen_course *k)
{
    double good = e->fate == IOP_GEN_COMPLETED ? 1.0
                  : e->dropout ? 0.15 : 0.5;
    double co = c->co_occurring == 1;

    k->phq = 11 + 3.5 * c->severity + 3 * co + gsl_ran_gaussian(g->rng, 2);
    k->gad = 9 + 3 * c->severity + 2.5 * co + gsl_ran_gaussian(g->rng, 1.8);
    k->use = 5 + 1.2 * c->severity + gsl_ran_gaussian(g->rng, 1.5);
    k->risk = 13 + 2 * c->severity + gsl_ran_gaussian(g->rng, 2);
    k->protect = 11 - 1.5 * c->severity + gsl_ran_gaussian(g->rng, 2);
    k->phq_slope = -1.2 * good - 0.1;
    k->gad_slope = -0.9 * good - 0.1;
    k->bam_slope = 1.5 * good + 0.2;
    k->bam = e->level > IOP_GEN_WM32 && iop_gen_chance(g, 0.35);
    k->tool = 0;
    if (iop_gen_chance(g, 0.4) && c->substance != IOP_GEN_SUBST_EMPTY)
        k->tool = c->substance == IOP_GEN_ALCOHOL ? 1 : 2;
}

/* Writes round(mean + noise), kept inside [0, max]. */
static iop_code iop_gen_score_row(iop_gen *g, const iop_gen_episode *e,
                                  const char *date, const char *instrument,
                                  double mean, double sd, int max)
{
    iop_gen_file *f = &g->files[IOP_GEN_ASSESSMENTS];
    double x = floor(mean + gsl_ran_gaussian(g->rng, sd) + 0.5);
    char id[24];

    x = x < 0 ? 0 : x > max ? max : x;
    iop_gen_put_id(g, IOP_GEN_ASSESSMENTS, id);
    iop_gen_put(f, id);
    iop_gen_put(f, ",");
    iop_gen_put(f, e->id);
    iop_gen_put(f, ",");
    iop_gen_put(f, date);
    iop_gen_put(f, ",");
    iop_gen_put(f, instrument);
    iop_gen_put(f, ",");
    iop_gen_put_uint(f, (unsigned long)x);
    return iop_gen_row_end(g, f);
}

/* The instruments given on fortnight n of the stay. */
static iop_code iop_gen_assess_day(iop_gen *g, const iop_gen_episode *e,
                                   const iop_gen_course *k, int n, int day)
{
    char date[11];
    double m = n / 2;
    iop_code rc;

    iop_gen_format_date(day, date);
    rc = iop_gen_score_row(g, e, date, "PHQ9", k->phq + k->phq_slope * n,
                           2.2, 27);
    if (rc == IOP_OK)
        rc = iop_gen_score_row(g, e, date, "GAD7",
                               k->gad + k->gad_slope * n, 1.8, 21);
    if (rc == IOP_OK && k->bam && n % 2 == 0) {
        rc = iop_gen_score_row(g, e, date, "BAM_USE",
                               k->use - k->bam_slope * m * 0.8, 1.2, 12);
        if (rc == IOP_OK)
            rc = iop_gen_score_row(g, e, date, "BAM_RISK",
                                   k->risk - k->bam_slope * m, 2, 24);
        if (rc == IOP_OK)
            rc = iop_gen_score_row(g, e, date, "BAM_PROTECT",
                                   k->protect + k->bam_slope * m, 2, 24);
    }
    if (rc == IOP_OK && n == 0 && k->tool)
        rc = k->tool == 1
             ? iop_gen_score_row(g, e, date, "AUDIT", 22, 6, 40)
             : iop_gen_score_row(g, e, date, "DAST10", 6, 1.8, 10);
    return rc;
}

/* PHQ-9 and GAD-7 within two days of admission, then every 14 days
 * (15% missed); withdrawal management scores admission only. */
iop_code iop_gen_assessments(iop_gen *g, const iop_gen_client *c,
                             const iop_gen_episode *e)
{
    iop_gen_course k;
    int span = e->last - e->admit;
    iop_code rc;

    iop_gen_course_draw(g, c, e, &k);
    rc = iop_gen_assess_day(g, e, &k, 0,
                            e->admit + iop_gen_between(g, 0, span < 2 ? span : 2));
    for (int n = 1; rc == IOP_OK && 14 * n <= span; n++) {
        if (e->level <= IOP_GEN_WM32)
            break;
        if (!iop_gen_chance(g, 0.15))
            rc = iop_gen_assess_day(g, e, &k, n, e->admit + 14 * n);
    }
    return rc;
}

/* ---- drug screens ---- */

/* The substances of a positive screen: the primary one (any, when it is
 * unknown) and, one time in five, a second. */
static unsigned iop_gen_positive_mask(iop_gen *g, const iop_gen_client *c)
{
    int s = c->substance < IOP_GEN_SUBST_EMPTY ? c->substance
            : iop_gen_between(g, 0, 5);
    unsigned mask = 1u << s;

    if (iop_gen_chance(g, 0.2))
        mask |= 1u << iop_gen_between(g, 0, 5);
    return mask;
}

/* Positives are common at admission and fade over the weeks, and stay
 * higher for dropouts; buprenorphine and methadone show as opioids. */
static int iop_gen_result(iop_gen *g, const iop_gen_client *c,
                          const iop_gen_episode *e, int week, unsigned *mask)
{
    double u = gsl_rng_uniform(g->rng);
    double refused = 0.015 + (e->dropout ? 0.04 : 0);
    double pos = 0.05 + 0.25 * exp(-week / 2.5) + (e->dropout ? 0.12 : 0)
                 + (c->engage < 0 ? -0.04 * c->engage : 0);

    if (week == 0 && e->level <= IOP_GEN_RES35)
        pos = 0.8;
    if (u < refused)
        return RES_REFUSED;
    if ((u -= refused) < 0.03)
        return RES_DILUTE;
    if ((u -= 0.03) < 0.008)
        return RES_INVALID;
    if ((u -= 0.008) < pos) {
        *mask = iop_gen_positive_mask(g, c);
        return RES_POSITIVE;
    }
    if ((e->moud == IOP_GEN_MOUD_BUP || e->moud == IOP_GEN_MOUD_METHADONE)
        && iop_gen_chance(g, 0.3)) {
        *mask = 1u << IOP_GEN_OPIOIDS;
        return RES_POSITIVE;
    }
    return RES_NEGATIVE;
}

static iop_code iop_gen_screen(iop_gen *g, const iop_gen_client *c,
                               const iop_gen_episode *e, int week, int day)
{
    iop_gen_file *f = &g->files[IOP_GEN_SCREENS];
    unsigned mask = 0;
    int result = iop_gen_result(g, c, e, week, &mask);
    const char *sep = "";
    char id[24];

    iop_gen_put_id(g, IOP_GEN_SCREENS, id);
    iop_gen_put(f, id);
    iop_gen_put(f, ",");
    iop_gen_put(f, e->id);
    iop_gen_put(f, ",");
    iop_gen_put_date(f, day);
    iop_gen_put(f, ",");
    iop_gen_put(f, iop_gen_results[result]);
    iop_gen_put(f, ",");
    for (int i = 0; i < 6; i++) {
        if (mask & (1u << i)) {
            iop_gen_put(f, sep);
            iop_gen_put(f, iop_gen_substance_codes[i]);
            sep = ";";
        }
    }
    return iop_gen_row_end(g, f);
}

/* One screen at admission (the day itself on site, within two days
 * otherwise), then one on a random weekday of each week, 10% missed. */
iop_code iop_gen_screens(iop_gen *g, const iop_gen_client *c,
                         const iop_gen_episode *e)
{
    int span = e->last - e->admit;
    int first = e->level <= IOP_GEN_RES35 ? 0
                : iop_gen_between(g, 0, span < 2 ? span : 2);
    iop_code rc = iop_gen_screen(g, c, e, 0, e->admit + first);

    for (int w = 1; rc == IOP_OK && 7 * w <= span; w++) {
        int day = e->admit + 7 * w + iop_gen_between(g, 0, 4);

        if (day > e->last)
            break;
        if (!iop_gen_chance(g, 0.1))
            rc = iop_gen_screen(g, c, e, w, day);
    }
    return rc;
}

/* ---- follow-ups ---- */

static iop_code iop_gen_contact(iop_gen *g, const iop_gen_episode *e,
                                int day, int reached, int late)
{
    static const double done_w[] = { 2, 4, 14, 38, 42 };
    static const double other_w[] = { 6, 10, 24, 34, 26 };
    iop_gen_file *f = &g->files[IOP_GEN_FOLLOWUPS];
    int done = e->reason == IOP_GEN_COMPLETED;
    char id[24];

    iop_gen_put_id(g, IOP_GEN_FOLLOWUPS, id);
    iop_gen_put(f, id);
    iop_gen_put(f, ",");
    iop_gen_put(f, e->id);
    iop_gen_put(f, ",");
    iop_gen_put_date(f, day);
    if (!reached) {
        iop_gen_put(f, ",0,,,,");
        return iop_gen_row_end(g, f);
    }
    iop_gen_put(f, ",1,");
    iop_gen_put(f, iop_gen_chance(g, (done ? 0.72 : 0.45) - 0.08 * late)
                   ? "1," : "0,");
    iop_gen_put(f, iop_gen_chance(g, done ? 0.6 : 0.5) ? "1," : "0,");
    iop_gen_put(f, iop_gen_chance(g, done ? 0.9 : 0.82) ? "1," : "0,");
    iop_gen_put_uint(f, 1 + (unsigned long)iop_gen_pick(g, done ? done_w
                                                          : other_w, 5));
    return iop_gen_row_end(g, f);
}

/* Up to three attempts, a few days apart, inside [lo, hi] days. */
static iop_code iop_gen_window(iop_gen *g, const iop_gen_episode *e, int lo,
                               int hi, int late)
{
    double p = (e->reason == IOP_GEN_COMPLETED ? 0.5 : 0.3)
               * (late ? 0.85 : 1.0);
    int day = e->discharge + lo + iop_gen_between(g, 0, 9);
    iop_code rc = IOP_OK;

    for (int a = 0; a < 3 && rc == IOP_OK; a++) {
        int reached;

        if (day > e->discharge + hi || day > g->end)
            break;
        reached = iop_gen_chance(g, p);
        rc = iop_gen_contact(g, e, day, reached, late);
        if (reached)
            break;
        day += iop_gen_between(g, 2, 6);
    }
    return rc;
}

/* A satisfaction call in the first week for some completers, then the
 * 30- and 90-day contacts; none after a death or for 8% of discharges. */
iop_code iop_gen_followups(iop_gen *g, const iop_gen_episode *e)
{
    iop_code rc = IOP_OK;
    int day;

    if (e->reason < 0 || e->reason == IOP_GEN_DEATH
        || !iop_gen_chance(g, 0.92))
        return IOP_OK;
    if (e->reason == IOP_GEN_COMPLETED && iop_gen_chance(g, 0.4)) {
        day = e->discharge + iop_gen_between(g, 0, 7);
        if (day <= g->end)
            rc = iop_gen_contact(g, e, day, 1, 0);
    }
    if (rc == IOP_OK)
        rc = iop_gen_window(g, e, 23, 37, 0);
    if (rc == IOP_OK)
        rc = iop_gen_window(g, e, 76, 104, 1);
    return rc;
}
