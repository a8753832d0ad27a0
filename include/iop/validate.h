/*
 * validate.h - the validate stage: the input files of the data contract,
 * their columns, and the record-level rules that need no database.
 *
 * Each input file is described by an iop_table: its columns in database
 * order, which are required, how each value parses. iop_validate_value()
 * turns one raw field into a typed, canonical value or a reason to reject
 * the record. Rules that need other rows (parents, date order against the
 * episode) live in load.c, which has the database.
 */
#ifndef IOP_VALIDATE_H
#define IOP_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

typedef enum iop_kind {
    IOP_K_ID,       /* identifier: trimmed text */
    IOP_K_TEXT,     /* free text: trimmed */
    IOP_K_DATE,     /* YYYY-MM-DD that exists, not after the extract date */
    IOP_K_INT,      /* integer in [min, max] */
    IOP_K_NUMBER,   /* decimal number (no exponent, nan or inf) */
    IOP_K_CODE,     /* one of codes[], case-insensitive, stored canonical */
    IOP_K_CODELIST, /* ';'-separated codes */
    IOP_K_LEVEL,    /* ASAM level of care */
    IOP_K_REASON,   /* discharge reason, or its TEDS digit 1-7 */
    IOP_K_INSTRUMENT, /* a name in the instruments table */
} iop_kind;

typedef struct iop_column {
    const char *name;
    iop_kind kind;
    int required;
    long min, max;              /* IOP_K_INT; max 0 = the extract year */
    const char *const *codes;   /* IOP_K_CODE, IOP_K_CODELIST: NULL-ended */
    const char *dflt;           /* stored for an empty value, or NULL */
} iop_column;

typedef enum iop_parent { IOP_PARENT_NONE, IOP_PARENT_CLIENT, IOP_PARENT_EPISODE } iop_parent;

typedef struct iop_table {
    const char *name;           /* table name, e.g. "sessions" */
    const char *file;           /* file name, e.g. "sessions.csv" */
    int required_file;          /* the folder must hold it */
    const iop_column *cols;
    size_t ncols;
    size_t nkey;                /* the first nkey columns are the key */
    iop_parent parent;          /* column 1 (after the key) references it */
    int date_col;               /* index of the dated column checked
                                   against the episode, or -1 */
} iop_table;

/* The input tables in load order (parents first). Static; do not free. */
const iop_table *iop_tables(size_t *count);

/* A validated value. Text points into the record or at a static code. */
typedef enum iop_vtype { IOP_V_NULL, IOP_V_INT, IOP_V_REAL, IOP_V_TEXT } iop_vtype;
typedef struct iop_value {
    iop_vtype type;
    int64_t i;      /* IOP_V_INT; also the day number of a date */
    double d;       /* IOP_V_REAL */
    const char *s;  /* IOP_V_TEXT, NUL-terminated */
    size_t len;
} iop_value;

/* What a value is checked against. */
typedef struct iop_validate_ctx {
    long extract_day;           /* day number of the extract date */
    int extract_year;
    /* instrument names and ranges, from the instruments table */
    size_t ninstruments;
    struct iop_instrument { char name[32]; double min, max; } *instruments;
} iop_validate_ctx;

/*
 * Validates raw (a NUL-terminated field of len bytes that this function
 * may trim and rewrite in place) against col. Returns 1 and fills *out,
 * or returns 0 and writes the reason, such as "expected date in
 * 'admit_date'", into why (wsize bytes); the value itself is not part of
 * the reason. The score's range is checked with iop_validate_score().
 */
int iop_validate_value(const iop_validate_ctx *ctx, const iop_column *col,
                       char *raw, size_t len, iop_value *out,
                       char *why, size_t wsize);

/*
 * Checks a score against the instrument named instr (canonical). Returns
 * 1, or 0 with a reason such as "score out of range for PHQ9 (0 to 27)"
 * in why.
 */
int iop_validate_score(const iop_validate_ctx *ctx, const char *instr,
                       double score, char *why, size_t wsize);

/* Finds a column by header name (case-insensitive, blanks trimmed);
 * returns its index in t->cols or -1. */
int iop_table_column(const iop_table *t, const char *header);

#endif
