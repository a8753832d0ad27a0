/*
 * feed.c - the extract-and-validate thread of a load (see iop/feed.h).
 *
 * A ring of NBATCH batches moves between two queues: free batches go to
 * this thread, full ones to the loader. Each batch holds up to
 * IOP_BATCH_ITEMS records and an arena for their text, large enough for
 * the largest record the reader accepts, so memory is fixed at start.
 */
#include "iop/feed.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NBATCH 4
#define BATCH_ITEMS 2048
#define ARENA (4 * IOP_RECORD_MAX)

struct iop_feed {
    iop_reader *r;
    const iop_layout *lay;
    const iop_validate_ctx *ctx;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    iop_batch batches[NBATCH];
    iop_batch *full[NBATCH], *spare[NBATCH];
    size_t nfull, nspare, head;   /* full is a FIFO from head */
    int stop;
};

/* Copies len bytes of s into the batch arena; the arena always has room
 * (a batch is sent before a record could overflow it). */
static const char *keep(iop_batch *b, const char *s, size_t len)
{
    char *p = b->arena + b->used;
    memcpy(p, s, len);
    p[len] = '\0';
    b->used += len + 1;
    return p;
}

static void batch_reset(iop_batch *b)
{
    b->n = 0;
    b->used = 0;
    b->last = 0;
    b->rc = IOP_OK;
    b->err.code = IOP_OK;
}

/* Gives a full batch to the loader; waits for a spare one. Returns NULL
 * when the loader stopped the feed. */
static iop_batch *send(iop_feed *f, iop_batch *b)
{
    iop_batch *next = NULL;
    pthread_mutex_lock(&f->mu);
    f->full[(f->head + f->nfull++) % NBATCH] = b;
    pthread_cond_broadcast(&f->cv);
    while (!f->stop && f->nspare == 0 && !b->last)
        pthread_cond_wait(&f->cv, &f->mu);
    if (!f->stop && !b->last)
        next = f->spare[--f->nspare];
    pthread_mutex_unlock(&f->mu);
    if (next)
        batch_reset(next);
    return next;
}

static void reject(iop_batch *b, iop_item *it, long column, const char *value,
                   const char *reason)
{
    it->column = column;
    it->value = value ? keep(b, value, strlen(value)) : NULL;
    it->reason = keep(b, reason, strlen(reason));
}

/* Validates the fields of a well-formed record into the item. */
static void validate(const iop_feed *f, iop_batch *b, iop_item *it, const iop_record *rec)
{
    const iop_table *t = f->lay->t;
    char why[160];

    for (size_t c = 0; c < t->ncols; c++) {
        int k = f->lay->field_of[c];
        char empty[1] = "";
        char *raw = k >= 0 ? rec->fields[k] : empty;
        iop_value *v = &it->v[c];
        if (!iop_validate_value(f->ctx, &t->cols[c], raw, k >= 0 ? rec->lens[k] : 0, v,
                                why, sizeof why)) {
            /* raw is trimmed at its end now, which is how we report it */
            it->has_key = c >= t->nkey;
            it->column = k + 1;
            it->value = k >= 0 ? keep(b, raw, strlen(raw)) : NULL;
            it->reason = keep(b, why, strlen(why));
            return;
        }
        if (v->type == IOP_V_TEXT)
            v->s = keep(b, v->s, v->len);
    }
}

static void item_from(iop_feed *f, iop_batch *b, const iop_record *rec)
{
    iop_item *it = &b->items[b->n++];
    char why[96];

    memset(it, 0, offsetof(iop_item, v));
    it->line = rec->line;
    if (f->lay->file_fault)
        reject(b, it, 0, NULL, f->lay->file_fault);
    else if (rec->fault)
        reject(b, it, rec->fault_column, NULL, rec->fault);
    else if (rec->nfields != f->lay->nheader) {
        snprintf(why, sizeof why, "expected %zu fields as in the header, got %zu",
                 f->lay->nheader, rec->nfields);
        reject(b, it, 0, NULL, why);
    } else {
        validate(f, b, it, rec);
    }
}

static void *run(void *arg)
{
    iop_feed *f = arg;
    iop_batch *b;
    iop_record rec;
    int rc;

    pthread_mutex_lock(&f->mu);
    b = f->spare[--f->nspare];
    pthread_mutex_unlock(&f->mu);
    batch_reset(b);
    for (;;) {
        rc = iop_reader_next(f->r, &rec, &b->err);
        if (rc == 1 && (b->n == BATCH_ITEMS || ARENA - b->used < 2 * IOP_RECORD_MAX + 1024)) {
            b->offset = iop_reader_offset(f->r);
            if (!(b = send(f, b)))
                return NULL;
        }
        if (rc != 1)
            break;
        item_from(f, b, &rec);
    }
    b->last = 1;
    b->rc = rc < 0 ? (b->err.code ? b->err.code : IOP_EIO) : IOP_OK;
    b->offset = iop_reader_offset(f->r);
    send(f, b);
    return NULL;
}

static void feed_free(iop_feed *f)
{
    for (int i = 0; i < NBATCH; i++) {
        free(f->batches[i].items);
        free(f->batches[i].arena);
    }
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    free(f);
}

iop_code iop_feed_start(iop_feed **out, iop_reader *r, const iop_layout *layout,
                        const iop_validate_ctx *ctx, iop_error *err)
{
    iop_feed *f = calloc(1, sizeof *f);

    *out = NULL;
    if (!f)
        return iop_error_set(err, IOP_ENOMEM, NULL, 0, 0, "out of memory");
    f->r = r;
    f->lay = layout;
    f->ctx = ctx;
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    for (int i = 0; i < NBATCH; i++) {
        iop_batch *b = &f->batches[i];
        b->items = malloc(BATCH_ITEMS * sizeof *b->items);
        b->arena = malloc(ARENA);
        b->cap = ARENA;
        if (!b->items || !b->arena) {
            feed_free(f);
            return iop_error_set(err, IOP_ENOMEM, NULL, 0, 0, "out of memory");
        }
        f->spare[f->nspare++] = b;
    }
    if (pthread_create(&f->thread, NULL, run, f) != 0) {
        feed_free(f);
        return iop_error_set(err, IOP_EIO, NULL, 0, 0, "cannot start a thread");
    }
    *out = f;
    return IOP_OK;
}

iop_batch *iop_feed_next(iop_feed *f)
{
    iop_batch *b;
    pthread_mutex_lock(&f->mu);
    while (f->nfull == 0)
        pthread_cond_wait(&f->cv, &f->mu);
    b = f->full[f->head];
    f->head = (f->head + 1) % NBATCH;
    f->nfull--;
    pthread_mutex_unlock(&f->mu);
    return b;
}

void iop_feed_release(iop_feed *f, iop_batch *b)
{
    pthread_mutex_lock(&f->mu);
    f->spare[f->nspare++] = b;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

void iop_feed_stop(iop_feed *f)
{
    if (!f)
        return;
    pthread_mutex_lock(&f->mu);
    f->stop = 1;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    pthread_join(f->thread, NULL);
    feed_free(f);
}
