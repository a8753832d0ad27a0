/*
 * metrics_out.c - write metric rows as CSV (RFC 4180, via libcsv) or as
 * a JSON array. Numbers print with 12 significant digits, enough for the
 * 1e-6 relative agreement with R that the tests ask; an absent value is
 * an empty CSV field or JSON null.
 */
#include <csv.h>
#include <stdio.h>
#include <string.h>

#include "iop/metrics.h"

static const char *const COLUMNS[] = {"metric", "dimension", "group", "n", "estimate",
    "lower", "upper", "statistic", "df", "p_value", "at", "note"};
#define NCOL (sizeof COLUMNS / sizeof COLUMNS[0])

/* The value of column i of row as text ("" for absent) into buf. */
static const char *cell(const iop_row *r, size_t i, char *buf, size_t size)
{
    static const unsigned need[] = {0, 0, 0, 0, IOP_HAS_EST, IOP_HAS_LOWER, IOP_HAS_UPPER,
                                    IOP_HAS_STAT, IOP_HAS_DF, IOP_HAS_P};
    double v[] = {0, 0, 0, 0, r->estimate, r->lower, r->upper, r->statistic, r->df, r->p_value};
    switch (i) {
    case 0: return r->metric;
    case 1: return r->dimension;
    case 2: return r->group;
    case 3: snprintf(buf, size, "%ld", r->n); return buf;
    case 10: return r->at;
    case 11: return r->note;
    default:
        if (!(r->has & need[i]))
            return "";
        snprintf(buf, size, "%.12g", v[i] == 0 ? 0.0 : v[i]);   /* no "-0" */
        return buf;
    }
}

void iop_metrics_write_csv(const iop_rows *rows, FILE *out)
{
    char buf[64];
    for (size_t i = 0; i < NCOL; i++)
        fprintf(out, "%s%s", i ? "," : "", COLUMNS[i]);
    fputc('\n', out);
    for (size_t k = 0; k < rows->n; k++) {
        for (size_t i = 0; i < NCOL; i++) {
            const char *s = cell(&rows->v[k], i, buf, sizeof buf);
            if (i)
                fputc(',', out);
            if (strpbrk(s, ",\"\r\n"))
                csv_fwrite(out, s, strlen(s));
            else
                fputs(s, out);
        }
        fputc('\n', out);
    }
}

static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(out, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(out, "\\u%04x", ch);
        else
            fputc(ch, out);
    }
    fputc('"', out);
}

void iop_metrics_write_json(const iop_rows *rows, FILE *out)
{
    char buf[64];
    fputs("[", out);
    for (size_t k = 0; k < rows->n; k++) {
        fputs(k ? ",\n {" : "\n {", out);
        for (size_t i = 0; i < NCOL; i++) {
            const char *s = cell(&rows->v[k], i, buf, sizeof buf);
            fprintf(out, "%s\"%s\": ", i ? ", " : "", COLUMNS[i]);
            if (i == 3 || (i >= 4 && i <= 9))
                fputs(*s ? s : "null", out);
            else
                json_string(out, s);
        }
        fputs("}", out);
    }
    fputs(rows->n ? "\n]\n" : "]\n", out);
}
