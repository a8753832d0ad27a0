/*
 * load.h - the load command: an extract folder into the database, as one
 * transaction (data-contract.md, "Loading semantics").
 *
 * Reads the input files of validate.h in parent-first order, validates
 * every record, upserts the valid ones with history, records each rejected
 * record in `rejects`, and writes one `load_runs` row and one `load_files`
 * row per file. Either everything commits or nothing does.
 */
#ifndef IOP_LOAD_H
#define IOP_LOAD_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "iop/error.h"

typedef struct iop_load_opts {
    const char *dir;          /* the extract folder */
    const char *db_path;
    int prune;                /* close rows absent from the files present */
    int strict;               /* commit nothing if any record is rejected */
    const char *extract_date; /* YYYY-MM-DD, or NULL for the day of `now` */
    time_t now;               /* the load's clock (pinned by tests) */
    int busy_ms;              /* wait this long for another writer */
    const char *options;      /* the command line, stored with the run */
    FILE *diag;               /* rejects and warnings go here; NULL: silent */
    int progress;             /* draw progress on diag (a terminal) */
    int max_messages;         /* reject messages per file on diag */
} iop_load_opts;

typedef struct iop_load_file {
    char file[32];
    char sha256[65];
    uint64_t bytes;
    long read, loaded, rejected, inserted, updated, unchanged, pruned;
} iop_load_file;

typedef struct iop_load_result {
    long run;                 /* the run id written (0 if nothing committed) */
    long read, loaded, rejected;
    size_t nfiles;
    iop_load_file files[8];
} iop_load_result;

/* Fills o with the defaults (no prune, not strict, 10 s busy wait). */
void iop_load_opts_init(iop_load_opts *o);

/*
 * Loads o->dir into o->db_path. Returns IOP_OK when committed (records
 * may have been rejected), IOP_EREJECT when records were rejected under
 * strict (nothing committed), IOP_EIO when an input or the database could
 * not be read or written or the lock could not be had (nothing changed),
 * IOP_EUSAGE for a bad extract date. res is filled in every case.
 */
iop_code iop_load(const iop_load_opts *o, iop_load_result *res, iop_error *err);

#endif
