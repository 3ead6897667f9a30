#include "util/csv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/files.h"
#include "util/grow.h"
#include "util/text.h"

void clb_c_numeric_enter(struct clb_c_numeric *scope) {
  scope->c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
  scope->previous = scope->c_locale ? uselocale(scope->c_locale) : (locale_t)0;
}

void clb_c_numeric_leave(struct clb_c_numeric *scope) {
  if (scope->c_locale) {
    uselocale(scope->previous);
    freelocale(scope->c_locale);
  }
  scope->c_locale = (locale_t)0;
}

void clb_csv_write_field(FILE *out, const char *text) {
  if (!strpbrk(text, ",\"\r\n")) {
    fputs(text, out);
    return;
  }
  fputc('"', out);
  for (const char *p = text; *p; p++) {
    if (*p == '"')
      fputc('"', out);
    fputc(*p, out);
  }
  fputc('"', out);
}

void clb_csv_write_number(FILE *out, const char *format, double value, const char *missing) {
  if (isnan(value)) {
    fputs(missing, out);
    return;
  }
  if (isinf(value)) {
    fputs(value < 0 ? "-inf" : "inf", out);
    return;
  }
  struct clb_c_numeric scope;
  clb_c_numeric_enter(&scope);
  fprintf(out, format, value);
  clb_c_numeric_leave(&scope);
}

static int push_char(struct clb_csv_record *rec, size_t *len, char c) {
  if (*len + 1 >= rec->buf_cap) {
    char *grown = clb_grow(rec->buf, &rec->buf_cap, *len + 2, 1, 1024);
    if (!grown)
      return CLB_E_NOMEM;
    rec->buf = grown;
  }
  rec->buf[(*len)++] = c;
  return CLB_OK;
}

static int start_field(struct clb_csv_record *rec, size_t len) {
  if (rec->count == rec->cap) {
    size_t *grown = clb_grow(rec->starts, &rec->cap, rec->count + 1, sizeof *grown, 64);
    if (!grown)
      return CLB_E_NOMEM;
    rec->starts = grown;
  }
  rec->starts[rec->count++] = len;
  return CLB_OK;
}

const char *clb_csv_field(const struct clb_csv_record *record, size_t i) {
  return record->buf + record->starts[i];
}

int clb_csv_is_blank(const struct clb_csv_record *record) {
  for (size_t i = 0; i < record->count; i++)
    if (!clb_is_blank(clb_csv_field(record, i)))
      return 0;
  return 1;
}

/* A UTF-8 byte order mark, which spreadsheet programs like to add, is skipped. */
static void skip_bom(struct clb_csv_reader *reader) {
  if (reader->size >= 3 && memcmp(reader->text, "\xEF\xBB\xBF", 3) == 0)
    reader->pos = 3;
}

int clb_csv_open_text(struct clb_csv_reader *reader, const char *text, size_t size,
                      struct clb_error *err) {
  memset(reader, 0, sizeof *reader);
  reader->line = 1;
  reader->text = malloc(size + 1);
  if (!reader->text)
    return clb_failf(err, CLB_E_NOMEM, "out of memory reading CSV text");
  memcpy(reader->text, text, size);
  reader->text[size] = '\0';
  reader->size = size;
  skip_bom(reader);
  return CLB_OK;
}

int clb_csv_open(struct clb_csv_reader *reader, const char *path, struct clb_error *err) {
  memset(reader, 0, sizeof *reader);
  reader->line = 1;
  int rc = clb_file_read(path, &reader->text, &reader->size, err);
  if (rc == 0)
    skip_bom(reader);
  return rc;
}

int clb_csv_next(struct clb_csv_reader *reader, struct clb_csv_record **record) {
  struct clb_csv_record *rec = &reader->record;
  const char *text = reader->text;
  size_t i = reader->pos, len = 0, size = reader->size;
  rec->count = 0;
  rec->terminated = 0;
  rec->open_quote = 0;
  rec->line = reader->line;
  if (i >= size)
    return 1;
  if (start_field(rec, 0) != CLB_OK)
    return CLB_E_NOMEM;
  int quoted = 0;
  while (i < size) {
    char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < size && text[i + 1] == '"') {
          if (push_char(rec, &len, '"') != CLB_OK)
            return CLB_E_NOMEM;
          i += 2;
          continue;
        }
        quoted = 0;
        i++;
        continue;
      }
      if (c == '\n')
        reader->line++;
      if (push_char(rec, &len, c) != CLB_OK)
        return CLB_E_NOMEM;
      i++;
      continue;
    }
    if (c == '"') {
      quoted = 1;
      i++;
      continue;
    }
    if (c == ',') {
      if (push_char(rec, &len, '\0') != CLB_OK || start_field(rec, len) != CLB_OK)
        return CLB_E_NOMEM;
      i++;
      continue;
    }
    if (c == '\r' && i + 1 < size && text[i + 1] == '\n') {
      i++;
      continue;
    }
    if (c == '\n') {
      reader->line++;
      rec->terminated = 1;
      i++;
      break;
    }
    if (push_char(rec, &len, c) != CLB_OK)
      return CLB_E_NOMEM;
    i++;
  }
  rec->open_quote = quoted;
  if (push_char(rec, &len, '\0') != CLB_OK)
    return CLB_E_NOMEM;
  reader->pos = i;
  *record = rec;
  return CLB_OK;
}

void clb_csv_destroy(struct clb_csv_reader *reader) {
  if (!reader)
    return;
  free(reader->text);
  free(reader->record.buf);
  free(reader->record.starts);
  memset(reader, 0, sizeof *reader);
}

const char *clb_csv_find_columns(const struct clb_csv_record *header, const char *const *names,
                                 size_t count, int *index) {
  const char *missing = NULL;
  for (size_t k = 0; k < count; k++) {
    index[k] = -1;
    for (size_t i = 0; i < header->count && index[k] < 0; i++)
      if (strcmp(clb_csv_field(header, i), names[k]) == 0)
        index[k] = (int)i;
    if (index[k] < 0 && !missing)
      missing = names[k];
  }
  return missing;
}
