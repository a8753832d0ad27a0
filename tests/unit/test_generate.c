/*
 * test_generate.c - unit tests of the synthetic extract generator.
 *
 * The group setup generates one small extract (50 clients, 6 months)
 * twice with the same seed and once with another into three mkdtemp
 * folders; the tests read those files back: same options give the same
 * bytes, another seed other bytes, headers as in the data contract,
 * identifiers unique and in byte order, every event inside its episode,
 * no date after the end day, codes and ranges of the contract. Then
 * table-driven cases for the date parser and for bad options.
 */
#define IOP_GENERATE_INTERNAL
#include "iop/generate.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#define END "2025-12-31"
#define NFILES 7
#define MAXF 16

static const char *const names[NFILES] = {
    "clients.csv", "episodes.csv", "sessions.csv", "assessments.csv",
    "drug_screens.csv", "followups.csv", "targets.csv"
};

static const char *const headers[NFILES] = {
    "client_id,birth_year,sex,race,ethnicity,primary_substance,"
    "co_occurring,referral_source,payer",
    "episode_id,client_id,level_of_care,admit_date,discharge_date,"
    "discharge_reason,site,program,counselor_id,referral_date,moud",
    "session_id,episode_id,session_date,service,minutes,status,staff_id",
    "assessment_id,episode_id,assessed_on,instrument,score",
    "screen_id,episode_id,collected_on,result,substances",
    "followup_id,episode_id,contacted_on,reached,abstinent,"
    "employed_or_school,stable_housing,satisfaction",
    "metric,program,target,better",
};

/* The three folders of the group: a and b seed 7, c seed 8. */
typedef struct fixture {
    char a[64], b[64], c[64];
} fixture;

/* An extract read back: one file's bytes and its rows split in place. */
typedef struct table {
    char *text;
    int nrows;               /* without the header */
    int nf[20000];
    char *f[20000][MAXF];
} table;

static char *slurp(const char *dir, const char *name, size_t *len)
{
    char path[512];
    FILE *fp;
    long n;
    char *buf;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    fp = fopen(path, "rb");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    n = ftell(fp);
    assert_true(n >= 0);
    rewind(fp);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
    buf[n] = '\0';
    fclose(fp);
    if (len)
        *len = (size_t)n;
    return buf;
}

/* Splits a line that holds no line break into fields, in place; a quoted
 * field loses its quotes ("" becomes "). Returns the field count. */
static int split(char *s, char **f, int max)
{
    int n = 0;

    for (;;) {
        char *out = s;

        assert_true(n < max);
        f[n++] = s;
        if (*s == '"') {
            for (s++;; s++) {
                if (*s == '"' && s[1] == '"')
                    *out++ = *s++;
                else if (*s == '"')
                    break;
                else
                    *out++ = *s;
            }
            s++;
        } else {
            s += strcspn(s, ",");
            out = s;
        }
        if (*s != ',') {
            *out = '\0';
            return n;
        }
        *out = '\0';
        s++;
    }
}

/* Reads dir/name into t and checks the header on the way. */
static void load(table *t, const char *dir, int file)
{
    char *line, *next;

    t->text = slurp(dir, names[file], NULL);
    t->nrows = -1;
    for (line = t->text; *line; line = next) {
        next = strchr(line, '\n');
        assert_non_null(next);   /* every row ends with LF */
        *next++ = '\0';
        assert_null(strchr(line, '\r'));
        if (t->nrows < 0)
            assert_string_equal(line, headers[file]);
        else
            t->nf[t->nrows] = split(line, t->f[t->nrows], MAXF);
        t->nrows++;
        assert_true(t->nrows < 20000);
    }
    assert_true(t->nrows > 0);
}

static table *load_new(const char *dir, int file)
{
    table *t = calloc(1, sizeof *t);

    assert_non_null(t);
    load(t, dir, file);
    return t;
}

static void table_free(table *t)
{
    if (t)
        free(t->text);
    free(t);
}

static void make(char *dir, unsigned long seed)
{
    iop_generate_opts o;
    iop_error err;

    strcpy(dir, "/tmp/iop_gen_XXXXXX");
    assert_non_null(mkdtemp(dir));
    iop_generate_opts_init(&o);
    o.clients = 50;
    o.months = 6;
    o.seed = seed;
    memcpy(o.end, END, sizeof o.end);
    o.outdir = dir;
    iop_error_clear(&err);
    assert_int_equal(iop_generate(&o, &err), IOP_OK);
}

static void unmake(const char *dir)
{
    char path[512];

    for (int i = 0; i < NFILES; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

static int group_setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);

    if (!fx)
        return -1;
    make(fx->a, 7);
    make(fx->b, 7);
    make(fx->c, 8);
    *state = fx;
    return 0;
}

static int group_teardown(void **state)
{
    fixture *fx = *state;

    unmake(fx->a);
    unmake(fx->b);
    unmake(fx->c);
    free(fx);
    return 0;
}

static void test_same_seed_same_bytes(void **state)
{
    fixture *fx = *state;

    for (int i = 0; i < NFILES; i++) {
        size_t la, lb;
        char *a = slurp(fx->a, names[i], &la);
        char *b = slurp(fx->b, names[i], &lb);

        assert_int_equal(la, lb);
        assert_memory_equal(a, b, la);
        free(a);
        free(b);
    }
}

static void test_other_seed_differs(void **state)
{
    fixture *fx = *state;
    char *a = slurp(fx->a, "sessions.csv", NULL);
    char *c = slurp(fx->c, "sessions.csv", NULL);

    assert_true(strcmp(a, c) != 0);
    free(a);
    free(c);
}

/* Keys: one letter, fixed-width digits, strictly increasing bytes. */
static void test_keys_unique_sorted(void **state)
{
    fixture *fx = *state;
    static const char prefix[] = "CESAUF";

    for (int i = 0; i < NFILES - 1; i++) {
        table *t = load_new(fx->a, i);

        assert_true(t->nrows > 0);
        for (int r = 0; r < t->nrows; r++) {
            const char *k = t->f[r][0];

            assert_int_equal(k[0], prefix[i]);
            assert_int_equal(strlen(k), strlen(t->f[0][0]));
            assert_int_equal(strspn(k + 1, "0123456789"), strlen(k) - 1);
            if (r > 0)
                assert_true(strcmp(t->f[r - 1][0], k) < 0);
        }
        table_free(t);
    }
}

/* Field counts match the headers; targets parse. */
static void test_field_counts(void **state)
{
    fixture *fx = *state;
    static const int nfields[NFILES] = { 9, 11, 7, 5, 5, 8, 4 };

    for (int i = 0; i < NFILES; i++) {
        table *t = load_new(fx->a, i);

        for (int r = 0; r < t->nrows; r++)
            assert_int_equal(t->nf[r], nfields[i]);
        table_free(t);
    }
}

/* The episode row of id (episodes are sorted), or NULL. */
static char **episode_of(const table *ep, const char *id)
{
    int lo = 0, hi = ep->nrows - 1;

    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int c = strcmp(ep->f[mid][0], id);

        if (c == 0)
            return (char **)ep->f[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return NULL;
}

/* Sessions, scores and screens lie in [admit, discharge] (admit..END
 * while open), grouped by episode in episode order. */
static void check_inside(const table *ep, const char *dir, int file)
{
    table *t = load_new(dir, file);
    const char *prev = "";

    for (int r = 0; r < t->nrows; r++) {
        char **e = episode_of(ep, t->f[r][1]);
        const char *day = t->f[r][2];

        assert_non_null(e);
        assert_true(strcmp(prev, t->f[r][1]) <= 0);
        prev = t->f[r][1];
        assert_true(strcmp(day, e[3]) >= 0);
        assert_true(strcmp(day, e[4][0] ? e[4] : END) <= 0);
    }
    table_free(t);
}

static void test_events_inside_episodes(void **state)
{
    fixture *fx = *state;
    table *ep = load_new(fx->a, 1);
    table *fu = load_new(fx->a, 5);

    check_inside(ep, fx->a, 2);
    check_inside(ep, fx->a, 3);
    check_inside(ep, fx->a, 4);
    for (int r = 0; r < fu->nrows; r++) {
        char **e = episode_of(ep, fu->f[r][1]);

        assert_non_null(e);
        assert_true(e[4][0] != '\0');
        assert_true(strcmp(fu->f[r][2], e[4]) >= 0);
    }
    table_free(fu);
    table_free(ep);
}

/* No field that looks like a date lies after END, in any file. */
static void test_nothing_after_end(void **state)
{
    fixture *fx = *state;

    for (int i = 0; i < NFILES - 1; i++) {
        table *t = load_new(fx->a, i);

        for (int r = 0; r < t->nrows; r++) {
            for (int k = 0; k < t->nf[r]; k++) {
                int day;

                if (iop_gen_parse_date(t->f[r][k], &day) == 0)
                    assert_true(strcmp(t->f[r][k], END) <= 0);
            }
        }
        table_free(t);
    }
}

static int in(const char *v, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(v, *set) == 0)
            return 1;
    return 0;
}

/* discharge_date iff discharge_reason, not before admission; codes. */
static void test_episode_rules(void **state)
{
    fixture *fx = *state;
    static const char *const levels[] = {
        "3.7-WM", "3.2-WM", "3.7", "3.5", "2.5", "2.1", "1.0", NULL
    };
    static const char *const reasons[] = {
        "", "completed", "dropped_out", "terminated", "transferred",
        "incarcerated", "death", "other", NULL
    };
    static const char *const mouds[] = {
        "", "none", "buprenorphine", "methadone", "naltrexone", NULL
    };
    table *t = load_new(fx->a, 1);

    for (int r = 0; r < t->nrows; r++) {
        char **e = t->f[r];

        assert_true(in(e[2], levels));
        assert_true(in(e[5], reasons));
        assert_true(in(e[10], mouds));
        assert_int_equal(e[4][0] != '\0', e[5][0] != '\0');
        if (e[4][0])
            assert_true(strcmp(e[3], e[4]) <= 0);
        if (e[9][0])
            assert_true(strcmp(e[9], e[3]) <= 0);
    }
    table_free(t);
}

static void test_session_codes(void **state)
{
    fixture *fx = *state;
    static const char *const services[] = {
        "individual", "group", "family", "psychoeducation", "medication",
        "case_management", "assessment", "other", NULL
    };
    static const char *const statuses[] = {
        "attended", "no_show", "cancelled_client", "cancelled_program", NULL
    };
    table *t = load_new(fx->a, 2);

    for (int r = 0; r < t->nrows; r++) {
        long minutes = strtol(t->f[r][4], NULL, 10);

        assert_true(in(t->f[r][3], services));
        assert_true(in(t->f[r][5], statuses));
        assert_in_range(minutes, 1, 720);
    }
    table_free(t);
}

static void test_scores_in_range(void **state)
{
    fixture *fx = *state;
    static const struct { const char *name; long max; } inst[] = {
        { "PHQ9", 27 }, { "GAD7", 21 }, { "BAM_USE", 12 },
        { "BAM_RISK", 24 }, { "BAM_PROTECT", 24 }, { "AUDIT", 40 },
        { "DAST10", 10 },
    };
    table *t = load_new(fx->a, 3);

    for (int r = 0; r < t->nrows; r++) {
        size_t i = 0;

        while (i < 7 && strcmp(inst[i].name, t->f[r][3]) != 0)
            i++;
        assert_true(i < 7);
        assert_in_range(strtol(t->f[r][4], NULL, 10), 0, inst[i].max);
    }
    table_free(t);
}

/* A race with a comma is quoted; birth years lie in 1900..END's year. */
static void test_clients(void **state)
{
    fixture *fx = *state;
    char *raw = slurp(fx->a, "clients.csv", NULL);
    table *t = load_new(fx->a, 0);
    int teens = 0;

    assert_non_null(strstr(raw, ",\"Black, African American\","));
    for (int r = 0; r < t->nrows; r++) {
        if (t->f[r][1][0]) {
            long y = strtol(t->f[r][1], NULL, 10);

            assert_in_range(y, 1900, 2025);
            teens += 2025 - y < 18;
        }
    }
    assert_true(teens > 0);
    table_free(t);
    free(raw);
}

static void test_dates(void **state)
{
    static const struct { const char *s; int ok; int day; } cases[] = {
        { "1970-01-01", 1, 0 }, { "2000-02-29", 1, 11016 },
        { "2026-10-31", 1, 20757 }, { "1969-12-31", 1, -1 },
        { "2026-02-29", 0, 0 }, { "2026-13-01", 0, 0 },
        { "2026-00-10", 0, 0 }, { "2026-04-31", 0, 0 },
        { "2026-1-01", 0, 0 }, { "2026/01/01", 0, 0 },
        { "20260101", 0, 0 }, { "", 0, 0 }, { "2026-01-01x", 0, 0 },
        { "1900-02-29", 0, 0 },
    };
    char buf[11];

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int day = 12345;

        assert_int_equal(iop_gen_parse_date(cases[i].s, &day) == 0,
                         cases[i].ok);
        if (!cases[i].ok)
            continue;
        assert_int_equal(day, cases[i].day);
        iop_gen_format_date(day, buf);
        assert_string_equal(buf, cases[i].s);
    }
    assert_int_equal(iop_gen_weekday(0), 4);   /* a Thursday */
}

static void test_bad_options(void **state)
{
    static const struct {
        long clients; int months; const char *end; iop_code code;
    } cases[] = {
        { 0, 24, "2026-10-31", IOP_EUSAGE },
        { -5, 24, "2026-10-31", IOP_EUSAGE },
        { 10, 0, "2026-10-31", IOP_EUSAGE },
        { 10, 1201, "2026-10-31", IOP_EUSAGE },
        { 10, 24, "2026-02-30", IOP_EUSAGE },
        { 10, 24, "31/10/2026", IOP_EUSAGE },
        { 10, 24, "1950-01-01", IOP_EUSAGE },
    };
    iop_generate_opts o;
    iop_error err;

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        iop_generate_opts_init(&o);
        o.clients = cases[i].clients;
        o.months = cases[i].months;
        snprintf(o.end, sizeof o.end, "%s", cases[i].end);
        o.outdir = "/nonexistent-never-created";
        assert_int_equal(iop_generate(&o, &err), cases[i].code);
        assert_int_equal(err.code, cases[i].code);
    }
    iop_generate_opts_init(&o);
    assert_int_equal(iop_generate(&o, &err), IOP_EUSAGE);
}

/* A folder under a regular file cannot be made: IOP_EIO naming it. */
static void test_unwritable_folder(void **state)
{
    fixture *fx = *state;
    iop_generate_opts o;
    iop_error err;
    char path[128];

    snprintf(path, sizeof path, "%s/clients.csv/sub", fx->a);
    iop_generate_opts_init(&o);
    o.clients = 1;
    o.outdir = path;
    assert_int_equal(iop_generate(&o, &err), IOP_EIO);
    assert_string_equal(err.file, path);
}

static void test_creates_nested_folder(void **state)
{
    fixture *fx = *state;
    iop_generate_opts o;
    iop_error err;
    char top[128], dir[128];

    snprintf(top, sizeof top, "%s/x", fx->c);
    snprintf(dir, sizeof dir, "%s/x/y", fx->c);
    iop_generate_opts_init(&o);
    o.clients = 3;
    o.outdir = dir;
    assert_int_equal(iop_generate(&o, &err), IOP_OK);
    table_free(load_new(dir, 6));
    unmake(dir);
    assert_int_equal(rmdir(top), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_seed_same_bytes),
        cmocka_unit_test(test_other_seed_differs),
        cmocka_unit_test(test_keys_unique_sorted),
        cmocka_unit_test(test_field_counts),
        cmocka_unit_test(test_events_inside_episodes),
        cmocka_unit_test(test_nothing_after_end),
        cmocka_unit_test(test_episode_rules),
        cmocka_unit_test(test_session_codes),
        cmocka_unit_test(test_scores_in_range),
        cmocka_unit_test(test_clients),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_unwritable_folder),
        cmocka_unit_test(test_creates_nested_folder),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
