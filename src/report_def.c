/*
 * report_def.c - read a report definition (reports/NAME.def) and the
 * figure catalogue (reports/catalogue.def) at run time.
 *
 * Both are line-based text; '#' starts a comment line and blank lines are
 * skipped. A definition line is a directive and its words:
 *
 *   report TITLE...                       the workbook's title
 *   sheet  TYPE NAME...                   a new sheet: TYPE is summary,
 *                                         section, watchlist, definitions
 *                                         or about; NAME may have spaces
 *   title  TEXT...                        the sheet's heading
 *   window month|12months                 default period of its figures
 *   by     DIMENSION|none                 --by of its figures
 *   limit  N                              Watch List: rows shown at most
 *   metric NAME [month|12months] [noby]   a figure (all its rows)
 *   key    NAME month|12months [pchart]   a Summary row
 *   chart  TYPE METRIC TITLE...           a chart over a metric's rows
 *   text   TEXT...                        a line of prose under the title
 *   parts  TOTAL|n PART...                figures that add up to TOTAL's
 *                                         (or are shares of one n): a set
 *                                         for complementary suppression
 *   national METRIC VALUE LABEL | SOURCE  a national reference value of
 *                                         a figure (a share as 0.377):
 *                                         LABEL its year and population
 *                                         (the Summary shows it beside
 *                                         the figure), SOURCE the
 *                                         publication (Definitions)
 *
 * A catalogue line is "NAME | format | label | definition | population |
 * method | source" with format one of number, count, percent, days,
 * hours, score. Errors name the file and line (IOP_EUSAGE).
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iop/report.h"

#define LINE_MAX_ 4096

static const char *const KINDS[] = {"number", "count", "percent", "days", "hours", "score"};
static const char *const SHEET_TYPES[] = {"section", "summary", "watchlist", "definitions",
                                          "about"};

void iop_rdef_release(iop_rdef *def)
{
    for (size_t i = 0; i < def->nsheets; i++)
        free(def->sheets[i].items);
    free(def->sheets);
    for (size_t i = 0; i < def->ncat; i++) {
        free(def->cat[i].name);
        free(def->cat[i].label);
        free(def->cat[i].definition);
        free(def->cat[i].population);
        free(def->cat[i].method);
        free(def->cat[i].source);
    }
    free(def->cat);
    free(def->national);
    memset(def, 0, sizeof *def);
}

const iop_rcat *iop_rdef_cat(const iop_rdef *def, const char *metric)
{
    for (size_t i = 0; i < def->ncat; i++)
        if (strcmp(def->cat[i].name, metric) == 0)
            return &def->cat[i];
    return NULL;
}

/* Trims blanks at both ends in place; returns the start. */
static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* Splits off the first word of *line; returns it ("" at the end). */
static char *word(char **line)
{
    char *s = *line;
    while (isspace((unsigned char)*s))
        s++;
    char *w = s;
    while (*s && !isspace((unsigned char)*s))
        s++;
    if (*s)
        *s++ = '\0';
    *line = s;
    return w;
}

static int kind_of(const char *s)
{
    for (size_t i = 0; i < sizeof KINDS / sizeof KINDS[0]; i++)
        if (strcmp(s, KINDS[i]) == 0)
            return (int)i;
    return -1;
}

static int window_of(const char *s)
{
    if (strcmp(s, "month") == 0)
        return IOP_WIN_MONTH;
    if (strcmp(s, "12months") == 0)
        return IOP_WIN_YEAR;
    return -1;
}

const iop_rnational *iop_rdef_national(const iop_rdef *def, const char *metric, size_t k)
{
    for (size_t i = 0; i < def->nnational; i++)
        if (strcmp(def->national[i].metric, metric) == 0 && k-- == 0)
            return &def->national[i];
    return NULL;
}

/* `national METRIC VALUE LABEL | SOURCE`; 0 when malformed. */
static int national_line(iop_rdef *def, char *rest)
{
    char *metric = word(&rest), *value = word(&rest), *end, *bar = strchr(rest, '|');
    double v = strtod(value, &end);

    if (!bar)
        return 0;
    *bar = '\0';
    const char *label = trim(rest), *source = trim(bar + 1);
    if (!*metric || !*value || *end || !isfinite(v) || !*label || !*source ||
        strlen(metric) >= 64)
        return 0;
    iop_rnational *n = realloc(def->national, (def->nnational + 1) * sizeof *n);
    if (!n)
        return 0;
    def->national = n;
    n = &def->national[def->nnational++];
    snprintf(n->metric, sizeof n->metric, "%s", metric);
    n->value = v;
    return snprintf(n->label, sizeof n->label, "%s", label) < (int)sizeof n->label &&
           snprintf(n->source, sizeof n->source, "%s", source) < (int)sizeof n->source;
}

/* Parses one catalogue line; 0 when malformed. */
static int cat_line(iop_rdef *def, char *line)
{
    char *f[7];
    int n = 0;
    for (char *p = line; n < 7; n++) {
        char *bar = strchr(p, '|');
        if (bar)
            *bar = '\0';
        f[n] = trim(p);
        if (!bar) {
            n++;
            break;
        }
        p = bar + 1;
    }
    int kind = n == 7 ? kind_of(f[1]) : -1;
    if (kind < 0 || !*f[0])
        return 0;
    iop_rcat *v = realloc(def->cat, (def->ncat + 1) * sizeof *v);
    if (!v)
        return 0;
    def->cat = v;
    iop_rcat *c = &def->cat[def->ncat++];
    c->kind = (iop_rfmt_kind)kind;
    c->name = strdup(f[0]);
    c->label = strdup(f[2]);
    c->definition = strdup(f[3]);
    c->population = strdup(f[4]);
    c->method = strdup(f[5]);
    c->source = strdup(f[6]);
    return c->name && c->label && c->definition && c->population && c->method && c->source;
}

static iop_ritem *add_item(iop_rsheet *sh, int kind)
{
    if (sh->nitems == sh->cap) {
        size_t cap = sh->cap ? 2 * sh->cap : 16;
        iop_ritem *v = realloc(sh->items, cap * sizeof *v);
        if (!v)
            return NULL;
        sh->items = v;
        sh->cap = cap;
    }
    iop_ritem *it = &sh->items[sh->nitems++];
    memset(it, 0, sizeof *it);
    it->kind = kind;
    it->window = sh->window;
    it->call = -1;
    return it;
}

static int new_sheet(iop_rdef *def, char *rest)
{
    char *type = word(&rest), *name = trim(rest);
    int t = -1;
    for (size_t i = 0; i < sizeof SHEET_TYPES / sizeof SHEET_TYPES[0]; i++)
        if (strcmp(type, SHEET_TYPES[i]) == 0)
            t = (int)i;
    if (t < 0 || !*name || strlen(name) > 31)
        return 0;
    iop_rsheet *v = realloc(def->sheets, (def->nsheets + 1) * sizeof *v);
    if (!v)
        return 0;
    def->sheets = v;
    iop_rsheet *sh = &def->sheets[def->nsheets++];
    memset(sh, 0, sizeof *sh);
    static const int MAP[] = {IOP_RS_SECTION, IOP_RS_SUMMARY, IOP_RS_WATCH, IOP_RS_DEFS,
                              IOP_RS_ABOUT};
    sh->type = MAP[t];
    sh->limit = 200;
    snprintf(sh->name, sizeof sh->name, "%s", name);
    snprintf(sh->title, sizeof sh->title, "%s", name);
    return 1;
}

/* metric NAME [month|12months] [noby], key NAME WINDOW [pchart] */
static int figure_line(iop_rsheet *sh, int kind, char *rest)
{
    iop_ritem *it = add_item(sh, kind);
    char *w;
    if (!it)
        return 0;
    snprintf(it->name, sizeof it->name, "%s", word(&rest));
    while (*(w = word(&rest))) {
        int win = window_of(w);
        if (win >= 0)
            it->window = win;
        else if (kind == IOP_RI_METRIC && strcmp(w, "noby") == 0)
            it->no_by = 1;
        else if (kind == IOP_RI_KEY && strcmp(w, "pchart") == 0)
            snprintf(it->arg, sizeof it->arg, "pchart");
        else
            return 0;
    }
    return *it->name != '\0';
}

/* parts TOTAL|n PART PART...: at least two parts, words kept as written. */
static int parts_line(iop_rsheet *sh, char *rest)
{
    iop_ritem *it = add_item(sh, IOP_RI_PARTS);
    char *w;
    int n = 0;
    if (!it)
        return 0;
    snprintf(it->name, sizeof it->name, "%s", word(&rest));
    while (*(w = word(&rest))) {
        size_t k = strlen(it->text);
        if (k + strlen(w) + 2 > sizeof it->text)
            return 0;
        snprintf(it->text + k, sizeof it->text - k, "%s%s", k ? " " : "", w);
        n++;
    }
    return *it->name && n >= 2;
}

static int chart_line(iop_rsheet *sh, char *rest)
{
    iop_ritem *it = add_item(sh, IOP_RI_CHART);
    if (!it)
        return 0;
    snprintf(it->name, sizeof it->name, "%s", word(&rest));
    snprintf(it->arg, sizeof it->arg, "%s", word(&rest));
    snprintf(it->text, sizeof it->text, "%s", trim(rest));
    return *it->name && *it->arg;
}

/* One directive of a definition; 0 when it is not one. */
static int def_line(iop_rdef *def, char *line)
{
    char *rest = line, *d = word(&rest);
    iop_rsheet *sh = def->nsheets ? &def->sheets[def->nsheets - 1] : NULL;

    if (strcmp(d, "report") == 0)
        return snprintf(def->title, sizeof def->title, "%s", trim(rest)) > 0;
    if (strcmp(d, "sheet") == 0)
        return new_sheet(def, rest);
    if (strcmp(d, "national") == 0)
        return national_line(def, rest);
    if (!sh)
        return 0;
    if (strcmp(d, "title") == 0)
        return snprintf(sh->title, sizeof sh->title, "%s", trim(rest)) > 0;
    if (strcmp(d, "window") == 0)
        return (sh->window = window_of(trim(rest))) >= 0;
    if (strcmp(d, "by") == 0) {
        char *v = trim(rest);
        if (strcmp(v, "none") != 0 && !iop_metrics_dimension(v))
            return 0;
        snprintf(sh->by, sizeof sh->by, "%s", strcmp(v, "none") ? v : "");
        return 1;
    }
    if (strcmp(d, "limit") == 0)
        return (sh->limit = strtol(trim(rest), NULL, 10)) > 0;
    if (strcmp(d, "metric") == 0)
        return figure_line(sh, IOP_RI_METRIC, rest);
    if (strcmp(d, "key") == 0)
        return figure_line(sh, IOP_RI_KEY, rest);
    if (strcmp(d, "chart") == 0)
        return chart_line(sh, rest);
    if (strcmp(d, "parts") == 0)
        return parts_line(sh, rest);
    if (strcmp(d, "text") == 0) {
        iop_ritem *it = add_item(sh, IOP_RI_TEXT);
        return it && snprintf(it->text, sizeof it->text, "%s", trim(rest)) >= 0;
    }
    return 0;
}

static iop_code read_file(iop_rdef *def, const char *path, int catalogue, iop_error *err)
{
    char buf[LINE_MAX_], copy[LINE_MAX_];
    long lineno = 0;
    FILE *f = fopen(path, "r");

    if (!f)
        return iop_error_set(err, IOP_EUSAGE, path, 0, 0, "cannot read the report definition");
    while (fgets(buf, sizeof buf, f)) {
        lineno++;
        char *line = trim(buf);
        if (!*line || *line == '#')
            continue;
        snprintf(copy, sizeof copy, "%s", line);
        if (!(catalogue ? cat_line(def, line) : def_line(def, line))) {
            fclose(f);
            return iop_error_set(err, IOP_EUSAGE, path, lineno, 0,
                                 "not a %s line: '%.80s'", catalogue ? "catalogue" : "definition",
                                 copy);
        }
    }
    fclose(f);
    return IOP_OK;
}

iop_code iop_rdef_load(iop_rdef *def, const char *dir, const char *name, iop_error *err)
{
    char path[1200];
    iop_code rc;

    memset(def, 0, sizeof *def);
    snprintf(path, sizeof path, "%s/catalogue.def", dir);
    rc = read_file(def, path, 1, err);
    snprintf(path, sizeof path, "%s/%s.def", dir, name);
    if (rc == IOP_OK)
        rc = read_file(def, path, 0, err);
    if (rc == IOP_OK && def->nsheets == 0)
        rc = iop_error_set(err, IOP_EUSAGE, path, 0, 0, "the definition has no sheet");
    if (rc != IOP_OK)
        iop_rdef_release(def);
    return rc;
}
