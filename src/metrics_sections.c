/*
 * metrics_sections.c - the sections of metrics.md that `iopstat metrics`
 * computes, in the order of metrics.md. A new section adds its line here.
 */
#include "iop/metrics.h"

extern const iop_section iop_section_census;
extern const iop_section iop_section_completion;

const iop_section *const iop_sections[] = {
    &iop_section_census,
    &iop_section_completion,
    NULL,
};
