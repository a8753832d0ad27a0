/*
 * date.c - calendar dates as day numbers since 1970-01-01.
 *
 * The conversions are Howard Hinnant's days_from_civil / civil_from_days,
 * exact for every Gregorian date; no time zones are involved, so the
 * results never depend on the machine's locale or TZ.
 */
#include "iop/date.h"


long iop_date_from_ymd(int y, int m, int d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void iop_date_to_ymd(long days, int *y, int *m, int *d)
{
    days += 719468;
    long era = (days >= 0 ? days : days - 146096) / 146097;
    long doe = days - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    int dd = (int)(doy - (153 * mp + 2) / 5 + 1);
    int mm = (int)(mp < 10 ? mp + 3 : mp - 9);
    if (y)
        *y = (int)(yoe + era * 400 + (mm <= 2));
    if (m)
        *m = mm;
    if (d)
        *d = dd;
}

int iop_date_days_in_month(int y, int m)
{
    static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 ? 28 + leap : dim[m - 1];
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

int iop_date_parse(const char *s, size_t len, long *days)
{
    int y, m, d;

    if (len != 10 || s[4] != '-' || s[7] != '-')
        return 0;
    if (!digits(s, 4, &y) || !digits(s + 5, 2, &m) || !digits(s + 8, 2, &d))
        return 0;
    if (y < 1900 || m < 1 || m > 12 || d < 1 || d > iop_date_days_in_month(y, m))
        return 0;
    *days = iop_date_from_ymd(y, m, d);
    return 1;
}

char *iop_date_format(long days, char *buf)
{
    int y, m, d;
    unsigned uy, um, ud;

    iop_date_to_ymd(days, &y, &m, &d);
    uy = (unsigned)y % 10000u;
    um = (unsigned)m % 100u;
    ud = (unsigned)d % 100u;
    buf[0] = (char)('0' + uy / 1000);
    buf[1] = (char)('0' + uy / 100 % 10);
    buf[2] = (char)('0' + uy / 10 % 10);
    buf[3] = (char)('0' + uy % 10);
    buf[4] = '-';
    buf[5] = (char)('0' + um / 10);
    buf[6] = (char)('0' + um % 10);
    buf[7] = '-';
    buf[8] = (char)('0' + ud / 10);
    buf[9] = (char)('0' + ud % 10);
    buf[10] = '\0';
    return buf;
}
