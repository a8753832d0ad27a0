/*
 * date.h - calendar dates as day numbers.
 *
 * A date is the number of days since 1970-01-01 in the proleptic Gregorian
 * calendar, so that differences are lengths of stay and gaps. Text is ISO
 * YYYY-MM-DD, nothing else.
 */
#ifndef IOP_DATE_H
#define IOP_DATE_H

#include <stddef.h>

/* Days since 1970-01-01 of a valid y-m-d; the caller checks validity. */
long iop_date_from_ymd(int y, int m, int d);

/* Splits a day number into year, month and day. Any argument may be NULL. */
void iop_date_to_ymd(long days, int *y, int *m, int *d);

/*
 * Parses exactly "YYYY-MM-DD" (len bytes, no surrounding blanks) into
 * *days. Returns 1 for a date that exists (1900-01-01 .. 9999-12-31),
 * 0 otherwise (2026-02-30 and 2026-2-3 are not dates).
 */
int iop_date_parse(const char *s, size_t len, long *days);

/* Writes "YYYY-MM-DD" and a NUL into buf (at least 11 bytes); returns buf. */
char *iop_date_format(long days, char *buf);

/* Days in month m (1-12) of year y. */
int iop_date_days_in_month(int y, int m);

#endif
