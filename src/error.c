/*
 * error.c - fill and format iop_error values.
 *
 * The location prefix follows the compiler convention that editors and
 * grep understand: FILE:LINE:COLUMN, with parts that are unknown left out.
 */
#include "iop/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void iop_error_clear(iop_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
}

iop_code iop_error_set(iop_error *err, iop_code code, const char *file,
                       long line, long column, const char *fmt, ...)
{
    va_list ap;

    if (!err)
        return code;
    err->code = code;
    snprintf(err->file, sizeof err->file, "%s", file ? file : "");
    err->line = line;
    err->column = column;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return code;
}

const char *iop_error_format(const iop_error *err, char *buf, size_t size)
{
    int n = 0;

    buf[0] = '\0';
    if (err->file[0]) {
        n = snprintf(buf, size, "%s:", err->file);
        if (err->line > 0 && n >= 0 && (size_t)n < size)
            n += snprintf(buf + n, size - n, "%ld:", err->line);
        if (err->line > 0 && err->column > 0 && n >= 0 && (size_t)n < size)
            n += snprintf(buf + n, size - n, "%ld:", err->column);
        if (n >= 0 && (size_t)n < size)
            n += snprintf(buf + n, size - n, " ");
    }
    if (n >= 0 && (size_t)n < size)
        snprintf(buf + n, size - n, "%s", err->message);
    return buf;
}

int iop_error_exit_status(iop_code code)
{
    switch (code) {
    case IOP_OK: return 0;
    case IOP_EUSAGE: return 1;
    case IOP_EREJECT: return 2;
    default: return 3;
    }
}
