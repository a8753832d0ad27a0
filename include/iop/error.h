/*
 * error.h - the one error type of iopstat.
 *
 * Every engine function that can fail fills an iop_error owned by the
 * caller and returns a nonzero iop_code; only the command line prints it,
 * as "iopstat: FILE:LINE:COLUMN: message" (missing parts are left out).
 */
#ifndef IOP_ERROR_H
#define IOP_ERROR_H

#include <stddef.h>

/* Codes double as the process exit status where the CLI ends on them. */
typedef enum iop_code {
    IOP_OK = 0,
    IOP_EUSAGE = 1,   /* bad command line or option value */
    IOP_EREJECT = 2,  /* records rejected under --strict */
    IOP_EIO = 3,      /* an input or the database cannot be read/written */
    IOP_ENOMEM = 4,   /* out of memory (exit status 3) */
    IOP_ESTATS = 5,   /* a statistic could not be computed */
} iop_code;

typedef struct iop_error {
    iop_code code;
    char file[256];   /* "" when the error has no file */
    long line;        /* 0 when unknown */
    long column;      /* 0 when unknown */
    char message[512];
} iop_error;

/* Clears err (code IOP_OK, empty strings). err may be NULL. */
void iop_error_clear(iop_error *err);

/*
 * Sets err and returns code, so that callers can write
 * "return iop_error_set(err, IOP_EIO, path, 0, 0, "cannot open: %s", ...)".
 * file may be NULL. err may be NULL (the code is still returned).
 */
iop_code iop_error_set(iop_error *err, iop_code code, const char *file,
                       long line, long column, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Formats err as "FILE:LINE:COLUMN: message" into buf; returns buf. */
const char *iop_error_format(const iop_error *err, char *buf, size_t size);

/* The exit status the CLI uses for a code. */
int iop_error_exit_status(iop_code code);

#endif
