/*
 * feed.h - extract and validate one file on a second thread.
 *
 * The load is a two-stage pipeline: this thread reads records (ingest.c)
 * and validates their values (validate.c); the loading thread checks the
 * rules that need the database and writes. They meet in a queue of a few
 * fixed-size batches, so memory stays bounded and the order of records is
 * kept: the database is the same as a one-thread load would leave it.
 */
#ifndef IOP_FEED_H
#define IOP_FEED_H

#include <stdint.h>

#include "iop/error.h"
#include "iop/ingest.h"
#include "iop/validate.h"

#define IOP_MAX_COLS 16

/* How the fields of a file map to the columns of its table. */
typedef struct iop_layout {
    const iop_table *t;
    size_t nheader;               /* fields in the header */
    int field_of[IOP_MAX_COLS];   /* column -> field (0-based), or -1 */
    const char *file_fault;       /* the whole file is rejected, or NULL */
} iop_layout;

/* One record, valid (reason NULL, values in v) or rejected. */
typedef struct iop_item {
    long line;                    /* physical line where the record starts */
    long column;                  /* rejected: the field (1-based), 0 record */
    const char *reason;           /* rejected: why; NULL for a valid row */
    const char *value;            /* rejected: the offending value, or NULL */
    int has_key;                  /* rejected, but v holds its valid key */
    iop_value v[IOP_MAX_COLS];    /* the values in column order */
} iop_item;

/* A run of records. Strings point into the batch; valid until released. */
typedef struct iop_batch {
    iop_item *items;
    size_t n;
    char *arena;
    size_t used, cap;
    uint64_t offset;              /* bytes of the file read so far */
    int last;                     /* the file's last batch */
    iop_code rc;                  /* last batch: IOP_OK or the read error */
    iop_error err;
} iop_batch;

typedef struct iop_feed iop_feed;

/*
 * Starts a thread that reads the records of r (after the header) and
 * validates them against layout and ctx; r, layout and ctx must outlive
 * the feed. Returns IOP_OK, or IOP_ENOMEM/IOP_EIO in err.
 */
iop_code iop_feed_start(iop_feed **out, iop_reader *r, const iop_layout *layout,
                        const iop_validate_ctx *ctx, iop_error *err);

/* Waits for the next batch; the one with last set ends the file. */
iop_batch *iop_feed_next(iop_feed *f);

/* Hands a batch back to the feed for reuse. */
void iop_feed_release(iop_feed *f, iop_batch *b);

/* Stops the thread (early if the file is not finished), joins it and
 * frees the feed; NULL is a no-op. */
void iop_feed_stop(iop_feed *f);

#endif
