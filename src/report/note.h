/* The report's informational lines (duplicates resolved, plots skipped, files
 * written): library code prints nothing, it hands each line to the caller's
 * callback (report.h's clb_report_note_fn). */
#ifndef CLB_REPORT_NOTE_H
#define CLB_REPORT_NOTE_H

#include "report/report.h"

/* Where notes go; fn NULL drops them. */
struct clb_report_notes {
  clb_report_note_fn fn;
  void *context;
};

/* Formats one line (at most 2 KiB, no trailing newline) and passes it on. */
void clb_report_note(const struct clb_report_notes *notes, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
