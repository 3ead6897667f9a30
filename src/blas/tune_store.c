#include "blas/tune_store.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/files.h"
#include "util/grow.h"
#include "util/parse.h"
#include "util/text.h"

void clb_tune_path(char *buf, size_t size) {
  const char *file = getenv("CLBATCH_TUNE_FILE");
  const char *xdg = getenv("XDG_CACHE_HOME");
  const char *home = getenv("HOME");
  if (file && *file)
    snprintf(buf, size, "%s", file);
  else if (xdg && xdg[0] == '/') /* the XDG spec ignores relative paths */
    snprintf(buf, size, "%s/clbatch/tuned.conf", xdg);
  else if (home && *home)
    snprintf(buf, size, "%s/.cache/clbatch/tuned.conf", home);
  else
    snprintf(buf, size, "clbatch-tuned.conf");
}

/* ---------------------------------------------------------------------------------------------
 * Names as section headers hold them. */

/* Section headers use '|', '[' and ']' as separators and hold one line, so
 * those characters are replaced in names; surrounding blanks are dropped. */
static void sanitize(char *dst, size_t size, const char *src) {
  while (*src == ' ' || *src == '\t')
    src++;
  size_t len = 0;
  for (; *src && len + 1 < size; src++) {
    unsigned char c = (unsigned char)*src;
    dst[len++] = (c < 0x20 || c == 0x7f || c == '|' || c == '[' || c == ']') ? '_' : (char)c;
  }
  while (len > 0 && (dst[len - 1] == ' ' || dst[len - 1] == '\t'))
    len--;
  dst[len] = '\0';
}

/* The device name as a section header holds it (never empty). One rule for
 * storing and applying, so an entry always finds its device again. */
static void section_device_name(char *dst, size_t size, const char *name) {
  sanitize(dst, size, name);
  if (!*dst)
    snprintf(dst, size, "unnamed");
}

int clb_tune_store_matches(const struct clb_tune_entry *entry, const struct clb_device_info *dev,
                           enum clb_precision precision) {
  char name[256], driver[128];
  section_device_name(name, sizeof name, dev->name);
  sanitize(driver, sizeof driver, dev->driver_version);
  return entry->precision == precision && strcmp(entry->device, name) == 0 &&
         strcmp(entry->driver, driver) == 0;
}

const struct clb_tune_entry *clb_tune_store_find(const struct clb_tune_file *file,
                                                 const struct clb_device_info *dev,
                                                 enum clb_precision precision, const char *kernel) {
  for (size_t i = 0; i < file->count; i++)
    if (clb_tune_store_matches(&file->entries[i], dev, precision) &&
        (!kernel || strcmp(file->entries[i].kernel, kernel) == 0))
      return &file->entries[i];
  return NULL;
}

const char *clb_tune_store_missing(const struct clb_tune_file *file,
                                   const struct clb_device_info *dev,
                                   enum clb_precision precision) {
  for (int kernel = 0; kernel < CLB_TUNE_KERNELS; kernel++)
    if (!clb_tune_store_find(file, dev, precision, clb_tune_kernel_names[kernel]))
      return clb_tune_kernel_names[kernel];
  return NULL;
}

/* ---------------------------------------------------------------------------------------------
 * Reading. */

void clb_tune_store_destroy(struct clb_tune_file *file) {
  if (!file)
    return;
  free(file->text);
  free(file->entries);
  file->text = NULL;
  file->entries = NULL;
  file->length = 0;
  file->count = 0;
}

static int is_param_name(const char *key) {
  if (!(key[0] >= 'A' && key[0] <= 'Z'))
    return 0;
  for (const char *c = key; *c; c++)
    if (!((*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_'))
      return 0;
  return 1;
}

static int is_field_name(const char *key) {
  if (!(key[0] >= 'a' && key[0] <= 'z'))
    return 0;
  for (const char *c = key; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
      return 0;
  return 1;
}

/* Parses "device=D|driver=V|precision=P|kernel=K" (the text between brackets).
 * -1: not that shape; -2: an unknown precision. */
static int parse_header(char *inside, struct clb_tune_entry *entry) {
  static const char *const keys[4] = {"device=", "driver=", "precision=", "kernel="};
  char *fields[4];
  char *rest = inside;
  for (int f = 0; f < 4; f++) {
    char *bar = f < 3 ? strchr(rest, '|') : NULL;
    if (f < 3 && !bar)
      return -1;
    if (bar)
      *bar = '\0';
    if (strncmp(rest, keys[f], strlen(keys[f])) != 0)
      return -1;
    fields[f] = rest + strlen(keys[f]);
    rest = bar ? bar + 1 : rest;
  }
  if (strchr(fields[3], '|'))
    return -1;
  if (!*fields[0] || !*fields[3] || strlen(fields[0]) >= sizeof entry->device ||
      strlen(fields[1]) >= sizeof entry->driver || strlen(fields[3]) >= sizeof entry->kernel)
    return -1;
  if (clb_precision_parse(fields[2], &entry->precision) != 0)
    return -2;
  snprintf(entry->device, sizeof entry->device, "%s", fields[0]);
  snprintf(entry->driver, sizeof entry->driver, "%s", fields[1]);
  snprintf(entry->kernel, sizeof entry->kernel, "%s", fields[3]);
  return 0;
}

/* Where the parser is: the file, its growing entry list, the current line. */
struct parser {
  const char *path;
  struct clb_tune_file *file;
  size_t capacity;
  struct clb_tune_entry *current; /* NULL before the first section header */
  size_t line;                    /* 1-based number of the line being parsed */
};

/* "[header]": opens a new section at byte `start`. */
static int parse_section(struct parser *p, char *text, size_t start, struct clb_error *err) {
  size_t len = strlen(text);
  if (len < 2 || text[len - 1] != ']')
    return clb_failf(err, CLB_E_PARSE, "%s:%zu: a section header must end with ']'", p->path,
                     p->line);
  text[len - 1] = '\0';
  struct clb_tune_file *file = p->file;
  if (file->count == p->capacity) {
    struct clb_tune_entry *grown =
        clb_grow(file->entries, &p->capacity, file->count + 1, sizeof *grown, 16);
    if (!grown)
      return clb_failf(err, CLB_E_NOMEM, "out of host memory reading %s", p->path);
    file->entries = grown;
  }
  p->current = &file->entries[file->count++];
  memset(p->current, 0, sizeof *p->current);
  int header = parse_header(text + 1, p->current);
  if (header == -2)
    return clb_failf(err, CLB_E_PARSE, "%s:%zu: unknown precision in section header", p->path,
                     p->line);
  if (header != 0)
    return clb_failf(err, CLB_E_PARSE,
                     "%s:%zu: expected [device=NAME|driver=VERSION|precision=P|kernel=K]", p->path,
                     p->line);
  p->current->start = start;
  return 0;
}

/* An UPPER_CASE key: a CLBlast parameter, once per section. */
static int parse_param(struct parser *p, const char *key, const char *value,
                       struct clb_error *err) {
  struct clb_tune_entry *entry = p->current;
  size_t number = 0;
  struct clb_error parse_err = {0};
  if (strlen(key) >= sizeof entry->names[0] ||
      clb_parse_size(value, 0, SIZE_MAX, key, &number, &parse_err) != 0)
    return clb_failf(err, CLB_E_PARSE, "%s:%zu: %s", p->path, p->line,
                     parse_err.code ? parse_err.message : "parameter name too long");
  for (size_t i = 0; i < entry->param_count; i++)
    if (strcmp(entry->names[i], key) == 0)
      return clb_failf(err, CLB_E_PARSE, "%s:%zu: parameter %s given twice in this section",
                       p->path, p->line, key);
  if (entry->param_count == CLB_TUNE_MAX_PARAMS)
    return clb_failf(err, CLB_E_PARSE, "%s:%zu: more than %d parameters in one section", p->path,
                     p->line, CLB_TUNE_MAX_PARAMS);
  snprintf(entry->names[entry->param_count], sizeof entry->names[0], "%s", key);
  entry->values[entry->param_count++] = number;
  return 0;
}

/* "KEY = VALUE" inside a section. Of the lower_case fields only
 * use_defaults is read back; the rest are notes for people. */
static int parse_entry(struct parser *p, char *text, struct clb_error *err) {
  char *key = NULL, *value = NULL;
  if (clb_config_split(text, &key, &value) != 0)
    return clb_failf(err, CLB_E_PARSE,
                     "%s:%zu: expected 'KEY = VALUE', a [section] header or a # comment", p->path,
                     p->line);
  if (!p->current)
    return clb_failf(err, CLB_E_PARSE, "%s:%zu: '%s' comes before any [section] header", p->path,
                     p->line, key);
  if (*value == '\0')
    return clb_failf(err, CLB_E_PARSE, "%s:%zu: key '%s' has no value", p->path, p->line, key);
  if (is_param_name(key))
    return parse_param(p, key, value, err);
  if (!is_field_name(key))
    return clb_failf(err, CLB_E_PARSE,
                     "%s:%zu: '%s' is neither a CLBlast parameter (UPPER_CASE) nor a field "
                     "(lower_case)",
                     p->path, p->line, key);
  if (strcmp(key, "use_defaults") == 0) {
    if (strcmp(value, "0") != 0 && strcmp(value, "1") != 0)
      return clb_failf(err, CLB_E_PARSE, "%s:%zu: use_defaults must be 0 or 1", p->path, p->line);
    p->current->use_defaults = value[0] == '1';
  }
  return 0;
}

/* Splits the text into sections, line by line; a section runs from its
 * header to its last line (blank lines and comments after it included). */
static int parse_text(const char *path, struct clb_tune_file *file, struct clb_error *err) {
  int rc = 0;
  struct parser p = {path, file, 0, NULL, 0};
  char *line = NULL;
  for (size_t pos = 0; pos < file->length;) {
    size_t eol = pos;
    while (eol < file->length && file->text[eol] != '\n')
      eol++;
    p.line++;
    free(line);
    line = strndup(file->text + pos, eol - pos);
    if (!line) {
      rc = clb_failf(err, CLB_E_NOMEM, "out of host memory reading %s", path);
      goto cleanup;
    }
    size_t line_start = pos;
    pos = eol < file->length ? eol + 1 : eol;
    char *text = clb_trim(line);
    if (*text == '[')
      CLB_TRY(parse_section(&p, text, line_start, err));
    else if (*text != '\0' && *text != '#')
      CLB_TRY(parse_entry(&p, text, err));
    if (p.current)
      p.current->end = pos;
  }
  for (size_t i = 0; i < file->count; i++)
    if (file->entries[i].use_defaults && file->entries[i].param_count > 0) {
      rc = clb_failf(err, CLB_E_PARSE,
                     "%s: section [..kernel=%s] says use_defaults = 1 but lists parameters", path,
                     file->entries[i].kernel);
      goto cleanup;
    }
cleanup:
  free(line);
  return rc;
}

int clb_tune_store_load(const char *path, struct clb_tune_file *file, struct clb_error *err) {
  struct stat info;
  memset(file, 0, sizeof *file);
  if (stat(path, &info) != 0 && errno == ENOENT)
    return 0; /* nothing tuned yet */
  int rc = clb_file_read(path, &file->text, &file->length, err);
  if (rc == 0)
    rc = parse_text(path, file, err);
  if (rc != 0)
    clb_tune_store_destroy(file);
  return rc;
}

/* ---------------------------------------------------------------------------------------------
 * Writing. */

static void write_section(FILE *out, const char *device, const char *driver,
                          enum clb_precision precision, const struct clb_tune_kernel_result *r,
                          const struct clb_tune_options *options, const char *crossover_note,
                          const char *when) {
  fprintf(out, "\n[device=%s|driver=%s|precision=%s|kernel=%s]\n", device, driver,
          clb_precision_name(precision), r->kernel);
  if (strcmp(r->kernel, CLB_TUNE_ROUTINE_KERNEL) == 0 && crossover_note[0])
    fprintf(out, "# GEMMs with m*n*k below %s^3 take the direct kernel; %s\n",
            CLB_TUNE_ROUTINE_PARAM, crossover_note);
  else if (strcmp(r->kernel, CLB_TUNE_ROUTINE_KERNEL) == 0)
    fprintf(out,
            "# GEMMs with m*n*k below %s^3 take the direct kernel; placed so that the\n"
            "# representative shape takes the path measured fastest with tuned kernels.\n",
            CLB_TUNE_ROUTINE_PARAM);
  else if (r->tried == 0)
    fprintf(out, "# not searched: it failed on CLBlast's own parameters, which stay\n");
  else
    fprintf(out,
            "# %zu of %zu legal configurations timed (CLBlast's defaults included), %zu "
            "skipped%s\n",
            r->tried, r->legal, r->skipped,
            r->use_defaults ? "; none beat CLBlast's defaults" : "");
  fprintf(out, "tuned_at = %s\n", when);
  int transpose = strcmp(r->kernel, CLB_TUNE_TRANSPOSE_KERNEL) == 0;
  if (clb_tune_is_gemv(r->kernel))
    fprintf(out, "gemv_rows = %zu\ngemv_cols = %zu\n", options->gemv_rows, options->k);
  else if (transpose) {
    size_t rows, cols;
    clb_tune_transpose_shape(options, &rows, &cols);
    fprintf(out, "transpose_rows = %zu\ntranspose_cols = %zu\n", rows, cols);
  } else
    fprintf(out, "m = %zu\nn = %zu\nk = %zu\n", options->m, options->n, options->k);
  fprintf(out, "seed = %llu\n", (unsigned long long)options->seed);
  const char *unit = r->unit && strcmp(r->unit, CLB_TUNE_BEST_UNIT) == 0 ? "pct_of_best"
                     : transpose                                         ? "gbps"
                                                                         : "gflops";
  fprintf(out, "%s_default = %.3f\n", unit, r->default_gflops);
  fprintf(out, "%s_tuned = %.3f\n", unit, r->tuned_gflops);
  fprintf(out, "use_defaults = %d\n", r->use_defaults);
  for (size_t p = 0; p < r->param_count; p++)
    fprintf(out, "%s = %zu\n", r->param_names[p], r->param_values[p]);
}

/* The file's comment header, the sections of `old` this report does not
 * replace (verbatim, so other devices' notes survive), then the new ones. */
static void write_file(FILE *out, const struct clb_tune_file *old, const char *device,
                       const char *driver, enum clb_precision precision,
                       const struct clb_tune_report *report, const struct clb_tune_options *options,
                       const char *when) {
  fprintf(out, "# CLBlast parameters tuned by `clbatch tune`. One section per device, driver,\n"
               "# precision and kernel; clbatch applies a section only on a device with the\n"
               "# same name and driver version (CLBlastOverrideParameters). UPPER_CASE keys\n"
               "# are CLBlast parameters, lower_case keys are measurements and notes.\n");
  for (size_t i = 0; i < old->count; i++) {
    const struct clb_tune_entry *entry = &old->entries[i];
    int replaced = 0;
    for (size_t kernel = 0; kernel < CLB_TUNE_KERNELS; kernel++)
      replaced |= entry->precision == precision && strcmp(entry->device, device) == 0 &&
                  strcmp(entry->driver, driver) == 0 &&
                  strcmp(entry->kernel, report->kernels[kernel].kernel) == 0;
    if (replaced)
      continue;
    size_t end = entry->end;
    while (end > entry->start && (old->text[end - 1] == '\n' || old->text[end - 1] == ' '))
      end--;
    fputc('\n', out);
    fwrite(old->text + entry->start, 1, end - entry->start, out);
    fputc('\n', out);
  }
  for (size_t kernel = 0; kernel < CLB_TUNE_KERNELS; kernel++)
    write_section(out, device, driver, precision, &report->kernels[kernel], options,
                  report->crossover_note, when);
}

/* The temporary file carries the process id (not util/files' fixed PATH.tmp)
 * and is synced before the rename: two tuners sharing one tuned.conf must
 * never write into the same temporary file, and a crash must never leave a
 * truncated file where the old one was. */
int clb_tune_store_save(const char *path, const struct clb_device_info *dev,
                        enum clb_precision precision, const struct clb_tune_report *report,
                        const struct clb_tune_options *options, struct clb_error *err) {
  int rc = 0;
  struct clb_tune_file old = {0};
  FILE *out = NULL;
  char tmp[4200], device[256], driver[128], when[64];
  tmp[0] = '\0';
  section_device_name(device, sizeof device, dev->name);
  sanitize(driver, sizeof driver, dev->driver_version);
  CLB_TRY(clb_tune_store_load(path, &old, err)); /* never overwrite a file we cannot read back */
  CLB_TRY(clb_mkdir_parents(path, err));
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
  out = fopen(tmp, "wb");
  if (!out) {
    rc = clb_failf(err, CLB_E_IO, "cannot write %s: %s", tmp, strerror(errno));
    tmp[0] = '\0';
    goto cleanup;
  }
  time_t now = time(NULL);
  struct tm utc;
  gmtime_r(&now, &utc);
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &utc);
  write_file(out, &old, device, driver, precision, report, options, when);
  if (fflush(out) != 0 || ferror(out) || fsync(fileno(out)) != 0) {
    rc = clb_failf(err, CLB_E_IO, "cannot write %s: %s", tmp, strerror(errno));
    goto cleanup;
  }
  int closed = fclose(out);
  out = NULL;
  if (closed != 0) {
    rc = clb_failf(err, CLB_E_IO, "cannot write %s: %s", tmp, strerror(errno));
    goto cleanup;
  }
  if (rename(tmp, path) != 0) {
    rc = clb_failf(err, CLB_E_IO, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
    goto cleanup;
  }
  tmp[0] = '\0';
cleanup:
  if (out)
    fclose(out);
  if (tmp[0])
    unlink(tmp);
  clb_tune_store_destroy(&old);
  return rc;
}
