/*
 * progress.c - progress on a terminal: rows per second and percent of
 * bytes read. Uses the monotonic clock, so it never affects output files.
 */
#include "iop/progress.h"

#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void iop_progress_init(iop_progress *p, FILE *out)
{
    p->out = out;
    p->start = p->last = now();
    p->drawn = 0;
}

void iop_progress_update(iop_progress *p, const char *label, uint64_t done,
                         uint64_t total, long rows)
{
    double t;
    if (!p->out)
        return;
    t = now();
    if (t - p->last < 0.25)
        return;
    p->last = t;
    fprintf(p->out, "\r\033[K%-18s %3.0f%%  %ld rows  %.0f rows/s", label,
            total ? 100.0 * (double)done / (double)total : 100.0, rows,
            t > p->start ? (double)rows / (t - p->start) : 0.0);
    fflush(p->out);
    p->drawn = 1;
}

void iop_progress_done(iop_progress *p, const char *label, long rows)
{
    double t;
    if (!p->out)
        return;
    t = now();
    fprintf(p->out, "\r\033[K%-18s 100%%  %ld rows  %.1f s\n", label, rows, t - p->start);
    p->drawn = 0;
    p->start = p->last = t;
}

void iop_progress_clear(iop_progress *p)
{
    if (p->out && p->drawn) {
        fprintf(p->out, "\r\033[K");
        p->drawn = 0;
    }
}
