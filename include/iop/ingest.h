/*
 * ingest.h - the extract stage: stream CSV records out of a file.
 *
 * The reader wraps libcsv, which parses RFC 4180 well but knows nothing of
 * lines or of recovery. It feeds libcsv one physical line at a time, so it
 * knows the line on which each record starts, and it rejects malformed
 * records itself:
 *   - a field longer than IOP_FIELD_MAX bytes, a NUL byte, invalid UTF-8,
 *     or broken quoting: the record is returned with a fault and reading
 *     resumes after it;
 *   - a quote still open at the end of the file or after IOP_FIELD_MAX
 *     bytes: the record that starts at it is returned with a fault and
 *     reading resumes on the line after that record's first line, so one
 *     stray quote never swallows the rest of the file.
 * Memory is bounded by one block buffer and one record (at most
 * IOP_RECORD_MAX bytes), whatever the file holds. A leading UTF-8 BOM is
 * dropped; LF and CRLF both end lines; blank lines are skipped.
 * The reader also computes the SHA-256 of the file's bytes as it reads.
 */
#ifndef IOP_INGEST_H
#define IOP_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "iop/error.h"

#define IOP_FIELD_MAX (64 * 1024)
#define IOP_RECORD_MAX (1024 * 1024)
#define IOP_FIELDS_MAX 1024

/* One record. Field strings are NUL-terminated copies owned by the reader
 * and valid until the next call of iop_reader_next(). */
typedef struct iop_record {
    long line;            /* physical line (1-based) on which it starts */
    size_t nfields;
    char **fields;
    size_t *lens;
    const char *fault;    /* NULL, or why the record is malformed */
    long fault_column;    /* 1-based field of the fault, 0 for the record */
} iop_record;

typedef struct iop_reader iop_reader;

/* Opens path for reading. Returns IOP_OK and *out, or IOP_EIO in err. */
iop_code iop_reader_open(iop_reader **out, const char *path, iop_error *err);

/*
 * Reads the next record into *rec. Returns 1 when a record (possibly with
 * a fault) was read, 0 at the end of the file, -1 on a read error (err
 * filled). A faulty record has rec->fault set and its fields are not to be
 * trusted.
 */
int iop_reader_next(iop_reader *r, iop_record *rec, iop_error *err);

/* Bytes of the file consumed so far and the file's size, for progress. */
uint64_t iop_reader_offset(const iop_reader *r);
uint64_t iop_reader_size(const iop_reader *r);

/* The SHA-256 of the whole file as 64 lowercase hex digits and a NUL.
 * Valid once iop_reader_next() has returned 0. */
void iop_reader_sha256(iop_reader *r, char hex[65]);

/* Closes and frees r; NULL is a no-op. */
void iop_reader_free(iop_reader *r);

/* Returns 1 when s[0..len) is valid UTF-8 without NUL bytes. */
int iop_utf8_valid(const char *s, size_t len);

#endif
