/*
 * progress.h - a one-line progress display for long stages.
 *
 * Draws "FILE  42%  1,234,567 rows  512,345 rows/s" over itself on a
 * terminal, at most a few times a second; draws nothing when disabled
 * (stderr is not a terminal), so logs and tests stay quiet.
 */
#ifndef IOP_PROGRESS_H
#define IOP_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

typedef struct iop_progress {
    FILE *out;          /* NULL: disabled */
    double start, last; /* monotonic seconds */
    int drawn;          /* a line is on screen */
} iop_progress;

/* Starts the clock; out NULL disables the display. */
void iop_progress_init(iop_progress *p, FILE *out);

/* Redraws when at least 0.25 s passed since the last draw. */
void iop_progress_update(iop_progress *p, const char *label, uint64_t done,
                         uint64_t total, long rows);

/* Draws the final line of a stage and ends it with a newline. */
void iop_progress_done(iop_progress *p, const char *label, long rows);

/* Erases the line on screen (before printing a message). */
void iop_progress_clear(iop_progress *p);

#endif
