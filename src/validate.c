/*
 * validate.c - the input files of the data contract and the checks of one
 * value (data-contract.md, "Codes" and "What is rejected").
 *
 * Input: one raw field and the column it belongs to. Output: a typed,
 * canonical value, or the reason the record is rejected. Codes match
 * case-insensitively and are stored in their canonical spelling; free text
 * is stored as given, trimmed. Numbers are plain decimals: "nan", "inf"
 * and exponents are not numbers here, and an integer has no fraction.
 */
#include "iop/validate.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

#include "iop/date.h"

static const char *const SEX[] = {"F", "M", "X", "U", NULL};
static const char *const BOOL01[] = {"0", "1", NULL};
static const char *const SUBSTANCE[] = {"alcohol", "opioids", "stimulants",
    "cannabis", "sedatives", "other", NULL};
static const char *const REFERRAL[] = {"self", "family", "provider", "court",
    "employer", "school", "other", NULL};
static const char *const PAYER[] = {"medicaid", "medicare", "private", "self",
    "other", "none", NULL};
static const char *const REASON[] = {"completed", "dropped_out", "terminated",
    "transferred", "incarcerated", "death", "other", NULL};
static const char *const MOUD[] = {"none", "buprenorphine", "methadone",
    "naltrexone", NULL};
static const char *const SERVICE[] = {"individual", "group", "family",
    "psychoeducation", "medication", "case_management", "assessment", "other", NULL};
static const char *const STATUS[] = {"attended", "no_show", "cancelled_client",
    "cancelled_program", NULL};
static const char *const RESULT[] = {"negative", "positive", "dilute",
    "refused", "invalid", NULL};
static const char *const BETTER[] = {"higher", "lower", NULL};
static const char *const LEVELS[] = {"0.5", "1.0", "1.5", "1.7", "2.1", "2.5",
    "2.7", "3.1", "3.3", "3.5", "3.7", "4.0", "1-WM", "2-WM", "3.2-WM",
    "3.7-WM", "4-WM", NULL};

#define COL(n, k, r) .name = n, .kind = k, .required = r
#define ID(n) {COL(n, IOP_K_ID, 1)}
#define TEXT(n) {COL(n, IOP_K_TEXT, 0)}
#define DATE(n, r) {COL(n, IOP_K_DATE, r)}
#define CODE(n, r, c) {COL(n, IOP_K_CODE, r), .codes = c}
#define INT(n, r, lo, hi) {COL(n, IOP_K_INT, r), .min = lo, .max = hi}

static const iop_column CLIENTS[] = {
    ID("client_id"), INT("birth_year", 0, 1900, 0), CODE("sex", 0, SEX),
    TEXT("race"), TEXT("ethnicity"), CODE("primary_substance", 0, SUBSTANCE),
    CODE("co_occurring", 0, BOOL01), CODE("referral_source", 0, REFERRAL),
    CODE("payer", 0, PAYER),
};
static const iop_column EPISODES[] = {
    ID("episode_id"), ID("client_id"), {COL("level_of_care", IOP_K_LEVEL, 1), .codes = LEVELS},
    DATE("admit_date", 1), TEXT("site"), TEXT("program"), DATE("discharge_date", 0),
    {COL("discharge_reason", IOP_K_REASON, 0), .codes = REASON}, TEXT("counselor_id"),
    DATE("referral_date", 0), CODE("moud", 0, MOUD),
};
static const iop_column SESSIONS[] = {
    ID("session_id"), ID("episode_id"), DATE("session_date", 1),
    CODE("service", 1, SERVICE), INT("minutes", 1, 1, 720),
    CODE("status", 1, STATUS), TEXT("staff_id"),
};
static const iop_column ASSESSMENTS[] = {
    ID("assessment_id"), ID("episode_id"), DATE("assessed_on", 1),
    {COL("instrument", IOP_K_INSTRUMENT, 1)},
    {COL("score", IOP_K_NUMBER, 1)},
};
static const iop_column SCREENS[] = {
    ID("screen_id"), ID("episode_id"), DATE("collected_on", 1),
    CODE("result", 1, RESULT), {COL("substances", IOP_K_CODELIST, 0), .codes = SUBSTANCE},
};
static const iop_column FOLLOWUPS[] = {
    ID("followup_id"), ID("episode_id"), DATE("contacted_on", 1),
    CODE("reached", 1, BOOL01), CODE("abstinent", 0, BOOL01),
    CODE("employed_or_school", 0, BOOL01), CODE("stable_housing", 0, BOOL01),
    INT("satisfaction", 0, 1, 5),
};
static const iop_column TARGETS[] = {
    ID("metric"), {COL("program", IOP_K_TEXT, 0), .dflt = "all"},
    {COL("target", IOP_K_NUMBER, 1)}, CODE("better", 0, BETTER),
};

#define N(a) (sizeof a / sizeof a[0])
static const iop_table TABLES[] = {
    {"clients", "clients.csv", 1, CLIENTS, N(CLIENTS), 1, IOP_PARENT_NONE, -1},
    {"episodes", "episodes.csv", 1, EPISODES, N(EPISODES), 1, IOP_PARENT_CLIENT, -1},
    {"sessions", "sessions.csv", 0, SESSIONS, N(SESSIONS), 1, IOP_PARENT_EPISODE, 2},
    {"assessments", "assessments.csv", 0, ASSESSMENTS, N(ASSESSMENTS), 1, IOP_PARENT_EPISODE, 2},
    {"drug_screens", "drug_screens.csv", 0, SCREENS, N(SCREENS), 1, IOP_PARENT_EPISODE, 2},
    {"followups", "followups.csv", 0, FOLLOWUPS, N(FOLLOWUPS), 1, IOP_PARENT_EPISODE, 2},
    {"targets", "targets.csv", 0, TARGETS, N(TARGETS), 2, IOP_PARENT_NONE, -1},
};

const iop_table *iop_tables(size_t *count)
{
    *count = N(TABLES);
    return TABLES;
}

int iop_table_column(const iop_table *t, const char *header)
{
    size_t len;

    while (isspace((unsigned char)*header))
        header++;
    len = strlen(header);
    while (len && isspace((unsigned char)header[len - 1]))
        len--;
    for (size_t i = 0; i < t->ncols; i++)
        if (strlen(t->cols[i].name) == len && strncasecmp(t->cols[i].name, header, len) == 0)
            return (int)i;
    return -1;
}

static char *trim(char *s, size_t *len)
{
    size_t n = *len;
    while (n && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    s[n] = '\0';
    *len = n;
    return s;
}

static const char *find_code(const char *const *codes, const char *s, size_t len)
{
    for (size_t i = 0; codes[i]; i++)
        if (strlen(codes[i]) == len && strncasecmp(codes[i], s, len) == 0)
            return codes[i];
    return NULL;
}

/* Plain decimal: -?digits(.digits)? or -?.digits; optional fraction. */
static int is_decimal(const char *s, int allow_fraction)
{
    int digits = 0;
    if (*s == '-' || *s == '+')
        s++;
    for (; isdigit((unsigned char)*s); s++)
        digits++;
    if (*s == '.' && allow_fraction)
        for (s++; isdigit((unsigned char)*s); s++)
            digits++;
    return digits > 0 && *s == '\0';
}

static int parse_int(const char *s, int64_t *out)
{
    char *end;
    if (!is_decimal(s, 0))
        return 0;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return 0;
    *out = v;
    return 1;
}

static int parse_number(const char *s, double *out)
{
    char *end;
    if (!is_decimal(s, 1))
        return 0;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

static void set_text(iop_value *out, const char *s)
{
    out->type = IOP_V_TEXT;
    out->s = s;
    out->len = strlen(s);
}

/* Rewrites a ';'-separated list of codes in canonical spelling, in place
 * (canonical codes are never longer than what they match). */
static int code_list(const char *const *codes, char *s, size_t *len)
{
    char *w = s, *p = s, *end = s + *len;

    while (p <= end) {
        char *q = memchr(p, ';', (size_t)(end - p));
        size_t n;
        if (!q)
            q = end;
        while (p < q && isspace((unsigned char)*p))
            p++;
        n = (size_t)(q - p);
        while (n && isspace((unsigned char)p[n - 1]))
            n--;
        const char *c = find_code(codes, p, n);
        if (!c)
            return 0;
        if (w != s)
            *w++ = ';';
        memmove(w, c, strlen(c));
        w += strlen(c);
        p = q + 1;
    }
    *w = '\0';
    *len = (size_t)(w - s);
    return 1;
}

static const char *level_code(const char *s, size_t len)
{
    if (len == 1 && s[0] == '1')
        return "1.0";
    if (len == 1 && s[0] == '4')
        return "4.0";
    return find_code(LEVELS, s, len);
}

static const char *reason_code(const char *s, size_t len)
{
    if (len == 1 && s[0] >= '1' && s[0] <= '7')
        return REASON[s[0] - '1'];
    return find_code(REASON, s, len);
}

static int check_date(const iop_validate_ctx *ctx, const iop_column *col,
                      const char *s, size_t len, iop_value *out, char *why, size_t wsize)
{
    long day;
    if (!iop_date_parse(s, len, &day)) {
        snprintf(why, wsize, "expected date (YYYY-MM-DD) in '%s'", col->name);
        return 0;
    }
    if (day > ctx->extract_day) {
        snprintf(why, wsize, "date in '%s' is after the extract date", col->name);
        return 0;
    }
    set_text(out, s);
    out->i = day;
    return 1;
}

static int check_int(const iop_validate_ctx *ctx, const iop_column *col,
                     const char *s, iop_value *out, char *why, size_t wsize)
{
    long max = col->max ? col->max : ctx->extract_year;
    if (!parse_int(s, &out->i)) {
        snprintf(why, wsize, "expected integer in '%s'", col->name);
        return 0;
    }
    if (out->i < col->min || out->i > max) {
        snprintf(why, wsize, "'%s' out of range %ld to %ld", col->name, col->min, max);
        return 0;
    }
    out->type = IOP_V_INT;
    return 1;
}

static int check_code(const iop_column *col, char *s, size_t len, iop_value *out,
                      char *why, size_t wsize)
{
    const char *c;
    switch (col->kind) {
    case IOP_K_LEVEL: c = level_code(s, len); break;
    case IOP_K_REASON: c = reason_code(s, len); break;
    default: c = find_code(col->codes, s, len); break;
    }
    if (!c) {
        snprintf(why, wsize, "unknown code in '%s'", col->name);
        return 0;
    }
    if (col->codes == BOOL01) {
        out->type = IOP_V_INT;
        out->i = c[0] - '0';
    } else {
        set_text(out, c);
    }
    return 1;
}

static int check_instrument(const iop_validate_ctx *ctx, const char *s, size_t len,
                            iop_value *out, char *why, size_t wsize)
{
    for (size_t i = 0; i < ctx->ninstruments; i++) {
        const char *name = ctx->instruments[i].name;
        if (strlen(name) == len && strncasecmp(name, s, len) == 0) {
            set_text(out, name);
            return 1;
        }
    }
    snprintf(why, wsize, "unknown instrument in 'instrument' (see table instruments)");
    return 0;
}

int iop_validate_value(const iop_validate_ctx *ctx, const iop_column *col,
                       char *raw, size_t len, iop_value *out, char *why, size_t wsize)
{
    char *s = trim(raw, &len);

    memset(out, 0, sizeof *out);
    if (len == 0) {
        if (col->required) {
            snprintf(why, wsize, "missing required value in '%s'", col->name);
            return 0;
        }
        if (col->dflt)
            set_text(out, col->dflt);
        return 1;
    }
    switch (col->kind) {
    case IOP_K_ID:
    case IOP_K_TEXT:
        out->type = IOP_V_TEXT;
        out->s = s;
        out->len = len;
        return 1;
    case IOP_K_DATE:
        return check_date(ctx, col, s, len, out, why, wsize);
    case IOP_K_INT:
        return check_int(ctx, col, s, out, why, wsize);
    case IOP_K_NUMBER:
        if (!parse_number(s, &out->d)) {
            snprintf(why, wsize, "expected number in '%s'", col->name);
            return 0;
        }
        out->type = IOP_V_REAL;
        return 1;
    case IOP_K_CODELIST:
        if (!code_list(col->codes, s, &len)) {
            snprintf(why, wsize, "unknown code in '%s'", col->name);
            return 0;
        }
        set_text(out, s);
        return 1;
    case IOP_K_INSTRUMENT:
        return check_instrument(ctx, s, len, out, why, wsize);
    default:
        return check_code(col, s, len, out, why, wsize);
    }
}

int iop_validate_score(const iop_validate_ctx *ctx, const char *instr,
                       double score, char *why, size_t wsize)
{
    for (size_t i = 0; i < ctx->ninstruments; i++) {
        const struct iop_instrument *in = &ctx->instruments[i];
        if (strcmp(in->name, instr) != 0)
            continue;
        if (score < in->min || score > in->max) {
            snprintf(why, wsize, "score out of range for %s (%g to %g)", instr,
                     in->min, in->max);
            return 0;
        }
        return 1;
    }
    snprintf(why, wsize, "unknown instrument '%s'", instr);
    return 0;
}
