/*
 * metrics_sections.c - the sections of metrics.md that `iopstat metrics`
 * computes, in the order of metrics.md. A new section adds its line here.
 */
#include "iop/metrics.h"

extern const iop_section iop_section_census;
extern const iop_section iop_section_retention;
extern const iop_section iop_section_completion;
extern const iop_section iop_section_continuity;
extern const iop_section iop_section_attendance;
extern const iop_section iop_section_outcomes;
extern const iop_section iop_section_screens;
extern const iop_section iop_section_followup;
extern const iop_section iop_section_quality;

const iop_section *const iop_sections[] = {
    &iop_section_census,
    &iop_section_retention,
    &iop_section_completion,
    &iop_section_continuity,
    &iop_section_attendance,
    &iop_section_outcomes,
    &iop_section_screens,
    &iop_section_followup,
    &iop_section_quality,
    NULL,
};
