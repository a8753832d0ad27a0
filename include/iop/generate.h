/*
 * generate.h - write a synthetic extract folder for tests, demos and
 * benchmarks (`iopstat generate`).
 *
 * The generator invents clients of an addiction-treatment provider with
 * several IOP programs at three sites and walks each client through a
 * pathway of episodes (withdrawal management, residential, PHP, IOP,
 * outpatient, step-ups and readmissions), with their scheduled sessions,
 * PHQ-9/GAD-7/BAM scores, drug screens and post-discharge follow-ups.
 * Every record satisfies the data contract, so a load of the folder
 * with --extract-date equal to `end` rejects nothing.
 * docs/generate.md describes the model and its rates. The data are
 * synthetic: no record describes a real person.
 *
 * Output is a pure function of the options: the same options give
 * byte-identical files. Memory does not grow with the number of clients.
 */
#ifndef IOP_GENERATE_H
#define IOP_GENERATE_H

#include "iop/error.h"

typedef struct iop_generate_opts {
    long clients;        /* number of clients, >= 1 */
    int months;          /* span of admissions in months, default 24 */
    unsigned long seed;  /* default 1 */
    char end[11];        /* last day of the data, ISO date, "YYYY-MM-DD"; default "2026-10-31" */
    const char *outdir;  /* created if missing */
} iop_generate_opts;

/*
 * Fills o with the defaults: 1000 clients, 24 months, seed 1, end
 * 2026-10-31 and outdir NULL (the caller must set it). This function
 * can't fail.
 */
void iop_generate_opts_init(iop_generate_opts *o);

/*
 * Writes clients.csv, episodes.csv, sessions.csv, assessments.csv,
 * drug_screens.csv, followups.csv and targets.csv into o->outdir, creating
 * the folder (and missing parents) first; existing files of those names
 * are replaced.
 *
 * Returns IOP_OK; IOP_EUSAGE when an option is out of range (clients < 1,
 * months outside 1..1200, end not a real date in 1900..9999, outdir NULL
 * or empty); IOP_ENOMEM when the random generator or a buffer cannot be
 * allocated; IOP_EIO with the path of the folder or file that could not
 * be created or written. On failure the folder may hold partial files.
 * err may be NULL. Nothing is printed.
 */
iop_code iop_generate(const iop_generate_opts *o, iop_error *err);

#ifdef IOP_GENERATE_INTERNAL
/*
 * Internals shared by src/generate*.c, not part of the interface: the
 * generator's context, the client and episode it is working on, and the
 * helpers that format rows. Dates are day numbers (days since 1970-01-01).
 */
#include <stdio.h>

#include <gsl/gsl_rng.h>

/* A date that is absent (an empty field). */
#define IOP_GEN_NODATE (-2147483647 - 1)
/* A client has at most this many episodes; a stay lasts at most this long. */
#define IOP_GEN_MAX_EPISODES 8
#define IOP_GEN_MAX_LOS 200

/* The output files, in the order they are opened. */
enum {
    IOP_GEN_CLIENTS, IOP_GEN_EPISODES, IOP_GEN_SESSIONS, IOP_GEN_ASSESSMENTS,
    IOP_GEN_SCREENS, IOP_GEN_FOLLOWUPS, IOP_GEN_NFILES
};

/* Levels of care the generator uses (a subset of the contract's). */
enum {
    IOP_GEN_WM37, IOP_GEN_WM32, IOP_GEN_RES37, IOP_GEN_RES35, IOP_GEN_PHP,
    IOP_GEN_IOP, IOP_GEN_OP, IOP_GEN_NLEVELS
};

/* discharge_reason codes, in TEDS-D order. */
enum {
    IOP_GEN_COMPLETED, IOP_GEN_DROPPED, IOP_GEN_TERMINATED,
    IOP_GEN_TRANSFERRED, IOP_GEN_INCARCERATED, IOP_GEN_DEATH, IOP_GEN_OTHER,
    IOP_GEN_NREASONS
};

/* Programs: the four IOP tracks first, then one for each other level. */
enum {
    IOP_GEN_ADULT, IOP_GEN_WOMEN, IOP_GEN_ADOLESCENT, IOP_GEN_EVENING,
    IOP_GEN_PROG_WM, IOP_GEN_PROG_RES, IOP_GEN_PROG_PHP, IOP_GEN_PROG_OP
};

/* primary_substance codes in the contract's order; EMPTY is unknown. */
enum {
    IOP_GEN_ALCOHOL, IOP_GEN_OPIOIDS, IOP_GEN_STIMULANTS, IOP_GEN_CANNABIS,
    IOP_GEN_SEDATIVES, IOP_GEN_SUBST_OTHER, IOP_GEN_SUBST_EMPTY
};

/* moud codes; EMPTY is an empty field. */
enum {
    IOP_GEN_MOUD_EMPTY, IOP_GEN_MOUD_NONE, IOP_GEN_MOUD_BUP,
    IOP_GEN_MOUD_METHADONE, IOP_GEN_MOUD_NALTREXONE
};

/* Fields of an episode row written empty (iop_gen_episode.blank). */
#define IOP_GEN_BLANK_SITE 1
#define IOP_GEN_BLANK_PROGRAM 2
#define IOP_GEN_BLANK_COUNSELOR 4

/* One output file: its stream, the stdio buffer behind it, and the row
 * being built. Rows longer than the line buffer are flushed in pieces. */
typedef struct iop_gen_file {
    FILE *fp;
    char *vbuf;
    size_t len;
    char line[1024];
    char path[4096];
} iop_gen_file;

/* The generator: options turned into day numbers, the random stream,
 * the open files and the next identifier of each file. */
typedef struct iop_gen {
    gsl_rng *rng;
    iop_error *err;
    int end;                 /* last day of the data */
    int start;               /* first day a first admission may fall on */
    int end_year;
    iop_gen_file files[IOP_GEN_NFILES];
    unsigned long long next_id[IOP_GEN_NFILES];
    int width[IOP_GEN_NFILES];
} iop_gen;

/* The client being generated. Code fields index the value tables of
 * generate_client.c, whose last entries may be the empty value. */
typedef struct iop_gen_client {
    char id[24];
    int birth_year;          /* 0 when unknown */
    int sex, race, ethnicity, substance, co_occurring, referral, payer;
    int site;                /* home site */
    int track;               /* IOP program an adult attends */
    int moud;                /* IOP_GEN_MOUD_* */
    int family;              /* family sessions take place */
    int meds;                /* medication management sessions */
    double engage;           /* latent engagement, standard normal */
    double severity;         /* latent symptom severity, standard normal */
} iop_gen_client;

/* The episode being generated. fate is the outcome the model drew; an
 * episode still running on the end day is written open (reason -1), but
 * its sessions and scores follow its fate. */
typedef struct iop_gen_episode {
    char id[24];
    int level, fate, reason; /* reason -1 while open */
    int admit, stop;         /* stop = admit + drawn length of stay */
    int discharge;           /* stop, or IOP_GEN_NODATE while open */
    int last;                /* last day with events: discharge or end */
    int referral;            /* IOP_GEN_NODATE when not given */
    int site, program, counselor;
    int blank;               /* IOP_GEN_BLANK_* bits */
    int moud;                /* IOP_GEN_MOUD_* */
    int adolescent;          /* under 18 at admission */
    int dropout;             /* fate is dropped out or terminated */
} iop_gen_episode;

/* Dates (generate_write.c). */
int iop_gen_day(int y, int m, int d);
void iop_gen_civil(int day, int *y, int *m, int *d);
int iop_gen_parse_date(const char *s, int *day);
int iop_gen_weekday(int day);          /* 0 = Sunday */

/* Output files and rows (generate_write.c). Every function that writes
 * returns IOP_OK or IOP_EIO with the file's path in g->err. */
iop_code iop_gen_file_open(iop_gen *g, iop_gen_file *f, const char *dir,
                           const char *name, size_t bufsize);
iop_code iop_gen_file_close(iop_gen *g, iop_gen_file *f);
void iop_gen_file_abort(iop_gen_file *f);
void iop_gen_put(iop_gen_file *f, const char *s);
void iop_gen_put_uint(iop_gen_file *f, unsigned long v);
void iop_gen_put_date(iop_gen_file *f, int day);
void iop_gen_format_date(int day, char s[11]);
void iop_gen_put_id(iop_gen *g, int file, char out[24]);
iop_code iop_gen_put_text(iop_gen *g, iop_gen_file *f, const char *s);
iop_code iop_gen_row_end(iop_gen *g, iop_gen_file *f);

/* Random draws (generate_client.c). */
int iop_gen_pick(iop_gen *g, const double *w, int n);
int iop_gen_between(iop_gen *g, int lo, int hi);
int iop_gen_chance(iop_gen *g, double p);

/* Clients and their episodes (generate_client.c). */
iop_code iop_gen_client_run(iop_gen *g);
int iop_gen_los_max(int level);
const char *iop_gen_counselor(int counselor);
int iop_gen_site_counselors(int site, int *first);

/* Events of one episode (generate_events.c). */
iop_code iop_gen_sessions(iop_gen *g, const iop_gen_client *c,
                          const iop_gen_episode *e);
iop_code iop_gen_assessments(iop_gen *g, const iop_gen_client *c,
                             const iop_gen_episode *e);
iop_code iop_gen_screens(iop_gen *g, const iop_gen_client *c,
                         const iop_gen_episode *e);
iop_code iop_gen_followups(iop_gen *g, const iop_gen_episode *e);
unsigned long iop_gen_session_bound(void);
unsigned long iop_gen_assessment_bound(void);
unsigned long iop_gen_screen_bound(void);
unsigned long iop_gen_followup_bound(void);
#endif

#endif
