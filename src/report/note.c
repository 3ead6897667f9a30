#include "report/note.h"

#include <stdarg.h>
#include <stdio.h>

void clb_report_note(const struct clb_report_notes *notes, const char *fmt, ...) {
  if (!notes->fn)
    return;
  char line[2048];
  va_list args;
  va_start(args, fmt);
  vsnprintf(line, sizeof line, fmt, args);
  va_end(args);
  notes->fn(notes->context, line);
}
