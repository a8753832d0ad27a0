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

/*
 * The connection each section runs on when the caller gives two
 * (iop_mctx.db2): 1 for the second. Balanced on the seconds each section
 * took on 10M sessions (IOPSTAT_TRACE=1): a month by program 1.3 s / 1.1 s,
 * the monthly workbook's calls 7.7 s / 9.1 s. In the order of
 * iop_sections.
 */
const unsigned char iop_section_lane[] = {
    0, /* census */
    0, /* retention */
    0, /* completion */
    0, /* continuity */
    1, /* attendance */
    0, /* outcomes */
    1, /* screens */
    1, /* followup */
    0, /* quality */
};
_Static_assert(sizeof iop_section_lane == sizeof iop_sections / sizeof *iop_sections - 1,
               "one lane per section");
_Static_assert(sizeof iop_sections / sizeof *iop_sections - 1 <= IOP_MAX_SECTIONS,
               "IOP_MAX_SECTIONS");
