/*
 * generate_write.c - dates and row formatting for the extract generator.
 *
 * The generator writes tens of millions of rows, so nothing here calls
 * printf or strftime per row: dates are day numbers (days since
 * 1970-01-01, proleptic Gregorian) turned into "YYYY-MM-DD" by arithmetic,
 * integers are formatted by hand, and each row is built in the file's line
 * buffer and handed to stdio in one fwrite. Every row the generator makes
 * is a few hundred bytes at most (all text comes from fixed tables), far
 * below the line buffer; iop_gen_put() truncates rather than overflow
 * should that ever change. A free-text value that holds a comma, a quote
 * or a line break is written by libcsv's csv_fwrite(), quoted; all other
 * fields are written bare.
 */
#define IOP_GENERATE_INTERNAL
#include "iop/generate.h"

#include <csv.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char iop_gen_prefix[IOP_GEN_NFILES] = {
    'C', 'E', 'S', 'A', 'U', 'F'
};

/* Days from 1970-01-01 to y-m-d (H. Hinnant's days_from_civil). */
int iop_gen_day(int y, int m, int d)
{
    int era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (unsigned)((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int)doe - 719468;
}

/* The inverse of iop_gen_day(). This function can't fail. */
void iop_gen_civil(int day, int *y, int *m, int *d)
{
    int z = day + 719468;
    int era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;

    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)yoe + era * 400 + (*m <= 2);
}

int iop_gen_weekday(int day)
{
    return ((day % 7) + 11) % 7;
}

static int iop_gen_digits(const char *s, int n)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Parses a strict ISO date that exists. Returns 0 and *day, or -1. */
int iop_gen_parse_date(const char *s, int *day)
{
    int y, m, d, yy, mm, dd;

    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    y = iop_gen_digits(s, 4);
    m = iop_gen_digits(s + 5, 2);
    d = iop_gen_digits(s + 8, 2);
    if (y < 0 || m < 1 || m > 12 || d < 1 || d > 31)
        return -1;
    *day = iop_gen_day(y, m, d);
    iop_gen_civil(*day, &yy, &mm, &dd);
    return yy == y && mm == m && dd == d ? 0 : -1;
}

static iop_code iop_gen_io_error(iop_gen *g, const iop_gen_file *f,
                                 const char *what)
{
    return iop_error_set(g->err, IOP_EIO, f->path, 0, 0, "cannot %s '%s': %s",
                         what, f->path, strerror(errno));
}

/* Opens dir/name for writing with a bufsize-byte stdio buffer. */
iop_code iop_gen_file_open(iop_gen *g, iop_gen_file *f, const char *dir,
                           const char *name, size_t bufsize)
{
    f->len = 0;
    snprintf(f->path, sizeof f->path, "%s/%s", dir, name);
    f->vbuf = malloc(bufsize);
    if (!f->vbuf)
        return iop_error_set(g->err, IOP_ENOMEM, f->path, 0, 0,
                             "out of memory for the buffer of '%s'", f->path);
    f->fp = fopen(f->path, "w");
    if (!f->fp) {
        iop_gen_io_error(g, f, "create");
        free(f->vbuf);
        f->vbuf = NULL;
        return IOP_EIO;
    }
    if (setvbuf(f->fp, f->vbuf, _IOFBF, bufsize) != 0) {
        iop_gen_io_error(g, f, "buffer");
        iop_gen_file_abort(f);
        return IOP_EIO;
    }
    return IOP_OK;
}

/* Flushes and closes f; the buffer is freed whatever happens. */
iop_code iop_gen_file_close(iop_gen *g, iop_gen_file *f)
{
    int bad;

    if (!f->fp)
        return IOP_OK;
    bad = fclose(f->fp) != 0;
    f->fp = NULL;
    free(f->vbuf);
    f->vbuf = NULL;
    return bad ? iop_gen_io_error(g, f, "write") : IOP_OK;
}

/* Closes f without reporting, on a path that already failed. */
void iop_gen_file_abort(iop_gen_file *f)
{
    if (f->fp)
        fclose(f->fp);
    f->fp = NULL;
    free(f->vbuf);
    f->vbuf = NULL;
}

void iop_gen_put(iop_gen_file *f, const char *s)
{
    size_t n = strlen(s);

    if (n > sizeof f->line - 1 - f->len)
        n = sizeof f->line - 1 - f->len;
    memcpy(f->line + f->len, s, n);
    f->len += n;
}

void iop_gen_put_uint(iop_gen_file *f, unsigned long v)
{
    char tmp[24];
    int i = (int)sizeof tmp;

    tmp[--i] = '\0';
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    iop_gen_put(f, tmp + i);
}

/* Formats day as YYYY-MM-DD (years 0 to 9999). This can't fail. */
void iop_gen_format_date(int day, char s[11])
{
    int y, m, d;

    iop_gen_civil(day, &y, &m, &d);
    s[0] = (char)('0' + y / 1000 % 10);
    s[1] = (char)('0' + y / 100 % 10);
    s[2] = (char)('0' + y / 10 % 10);
    s[3] = (char)('0' + y % 10);
    s[4] = '-';
    s[5] = (char)('0' + m / 10);
    s[6] = (char)('0' + m % 10);
    s[7] = '-';
    s[8] = (char)('0' + d / 10);
    s[9] = (char)('0' + d % 10);
    s[10] = '\0';
}

/* Writes day as YYYY-MM-DD, or nothing for IOP_GEN_NODATE. */
void iop_gen_put_date(iop_gen_file *f, int day)
{
    char s[11];

    if (day == IOP_GEN_NODATE)
        return;
    iop_gen_format_date(day, s);
    iop_gen_put(f, s);
}

/* Takes the next identifier of a file ("S000000042") into out. */
void iop_gen_put_id(iop_gen *g, int file, char out[24])
{
    unsigned long long v = g->next_id[file]++;
    int w = g->width[file];

    out[0] = iop_gen_prefix[file];
    out[w + 1] = '\0';
    for (int i = w; i >= 1; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* Writes free text, quoted by libcsv when it needs quoting. */
iop_code iop_gen_put_text(iop_gen *g, iop_gen_file *f, const char *s)
{
    size_t n = strlen(s);

    if (strcspn(s, ",\"\r\n") == n) {
        iop_gen_put(f, s);
        return IOP_OK;
    }
    if (f->len && fwrite(f->line, 1, f->len, f->fp) != f->len)
        return iop_gen_io_error(g, f, "write");
    f->len = 0;
    if (csv_fwrite(f->fp, s, n) != 0)
        return iop_gen_io_error(g, f, "write");
    return IOP_OK;
}

/* Ends the row with LF and hands it to stdio. */
iop_code iop_gen_row_end(iop_gen *g, iop_gen_file *f)
{
    f->line[f->len++] = '\n';
    if (fwrite(f->line, 1, f->len, f->fp) != f->len)
        return iop_gen_io_error(g, f, "write");
    f->len = 0;
    return IOP_OK;
}
