/* `clbatch report`: merge results CSVs, write tables (Markdown, LaTeX, HTML)
 * and gnuplot plots.
 *
 * Data flow: read every input (clb_results_read) -> resolve duplicate keys
 * (newest timestamp wins) -> sort into series (one per host, platform, device,
 * model, precision, data placement; rows ordered by batch) -> tables (device
 * comparison, step time side by side per host, every configuration) -> plots
 * -> the HTML page, last, because it inlines the SVG plots.
 *
 * Every output goes to NAME.tmp first and is renamed into place, so a report
 * file that exists is always complete, even if the command is killed. */
#include "report/report.h"

#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "measure/recommend.h"
#include "results/results.h"

/* ---- a growable string ------------------------------------------------- */

struct sbuf {
  char *text;
  size_t len, cap;
  int failed; /* out of memory once: every later append is a no-op */
};

static void sb_append(struct sbuf *sb, const char *data, size_t n) {
  if (sb->failed)
    return;
  if (sb->len + n + 1 > sb->cap) {
    size_t cap = sb->cap ? sb->cap : 4096;
    while (cap < sb->len + n + 1)
      cap *= 2;
    char *grown = realloc(sb->text, cap);
    if (!grown) {
      sb->failed = 1;
      return;
    }
    sb->text = grown;
    sb->cap = cap;
  }
  memcpy(sb->text + sb->len, data, n);
  sb->len += n;
  sb->text[sb->len] = '\0';
}

static void sb_puts(struct sbuf *sb, const char *s) {
  sb_append(sb, s, strlen(s));
}

static void sb_printf(struct sbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *sb, const char *fmt, ...) {
  char small[1024];
  va_list args;
  va_start(args, fmt);
  int n = vsnprintf(small, sizeof small, fmt, args);
  va_end(args);
  if (n < 0) {
    sb->failed = 1;
    return;
  }
  if ((size_t)n < sizeof small) {
    sb_append(sb, small, (size_t)n);
    return;
  }
  char *big = malloc((size_t)n + 1);
  if (!big) {
    sb->failed = 1;
    return;
  }
  va_start(args, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, args);
  va_end(args);
  sb_append(sb, big, (size_t)n);
  free(big);
}

static void sb_free(struct sbuf *sb) {
  free(sb->text);
  *sb = (struct sbuf){0};
}

/* ---- small helpers ----------------------------------------------------- */

static void note(const struct clb_report_options *opt, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void note(const struct clb_report_options *opt, const char *fmt, ...) {
  if (!opt->note)
    return;
  char line[2048];
  va_list args;
  va_start(args, fmt);
  vsnprintf(line, sizeof line, fmt, args);
  va_end(args);
  opt->note(opt->note_context, line);
}

static char *join_path(const char *dir, const char *name) {
  size_t n = strlen(dir) + strlen(name) + 2;
  char *path = malloc(n);
  if (path)
    snprintf(path, n, "%s/%s", dir, name);
  return path;
}

/* Writes `text` to PATH.tmp and renames it to PATH. */
static int write_atomic(const char *path, const struct sbuf *text, struct clb_error *err) {
  if (text->failed)
    return clb_failf(err, CLB_E_NOMEM, "%s: out of memory while composing it", path);
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *file = fopen(tmp, "wb");
  if (!file)
    return clb_failf(err, CLB_E_IO, "%s: cannot write: %s", tmp, strerror(errno));
  size_t n = text->len ? fwrite(text->text, 1, text->len, file) : 0;
  int bad = n != text->len || ferror(file);
  if (fclose(file) != 0 || bad) {
    remove(tmp);
    return clb_failf(err, CLB_E_IO, "%s: write failed", tmp);
  }
  if (rename(tmp, path) != 0) {
    int saved = errno;
    remove(tmp);
    return clb_failf(err, CLB_E_IO, "%s: cannot rename into place: %s", path, strerror(saved));
  }
  return CLB_OK;
}

static char *read_text_file(const char *path) {
  FILE *file = fopen(path, "rb");
  if (!file)
    return NULL;
  struct sbuf sb = {0};
  char chunk[8192];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, file)) > 0)
    sb_append(&sb, chunk, n);
  int bad = ferror(file) || sb.failed;
  fclose(file);
  if (bad || !sb.text) {
    sb_free(&sb);
    return NULL;
  }
  return sb.text;
}

static int make_dir(const char *path, struct clb_error *err) {
  /* Creates each missing component, like mkdir -p. */
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
      return clb_failf(err, CLB_E_IO, "%s: cannot create directory: %s", buf, strerror(errno));
    *p = '/';
  }
  if (mkdir(buf, 0777) != 0 && errno != EEXIST)
    return clb_failf(err, CLB_E_IO, "%s: cannot create directory: %s", buf, strerror(errno));
  return CLB_OK;
}

/* A file-name-safe copy: letters, digits, '-' and '_'; the rest become '_'. */
static void safe_name(char *dst, size_t size, const char *src) {
  size_t i = 0;
  for (; src[i] && i + 1 < size; i++)
    dst[i] = (isalnum((unsigned char)src[i]) || src[i] == '-') ? src[i] : '_';
  dst[i] = '\0';
}

/* Shell single-quoting: 'it'\''s'. */
static void sb_shell_quote(struct sbuf *sb, const char *s) {
  sb_puts(sb, "'");
  for (; *s; s++)
    if (*s == '\'')
      sb_puts(sb, "'\\''");
    else
      sb_append(sb, s, 1);
  sb_puts(sb, "'");
}

/* gnuplot single-quoted string: only '' needs escaping, no backslash escapes. */
static void sb_gp_quote(struct sbuf *sb, const char *s) {
  sb_puts(sb, "'");
  for (; *s; s++)
    if (*s == '\'')
      sb_puts(sb, "''");
    else
      sb_append(sb, s, 1);
  sb_puts(sb, "'");
}

/* ---- merging ----------------------------------------------------------- */

struct entry {
  struct clb_row *row;
  size_t file;  /* index into the input list */
  size_t index; /* 1-based data row within its file */
  size_t seq;   /* read order, the last tie-breaker */
};

static int cmp_double(double a, double b) {
  if (isnan(a) || isnan(b))
    return isnan(a) - isnan(b);
  return (a > b) - (a < b);
}

/* Same host, platform and device: one physical device as one vendor's driver
 * sees it. The platform belongs to the identity because two vendors can report
 * the same device name (PoCL-CUDA and NVIDIA's OpenCL both say "NVIDIA H100
 * 80GB HBM3"), and their rows are different measurements, not duplicates. */
static int cmp_device(const struct clb_row *a, const struct clb_row *b) {
  int c;
  if ((c = strcmp(a->host, b->host)) != 0)
    return c;
  if ((c = strcmp(a->platform, b->platform)) != 0)
    return c;
  return strcmp(a->device, b->device);
}

/* Series order: host, platform, device, model, precision, data placement. */
static int cmp_series(const struct clb_row *a, const struct clb_row *b) {
  int c;
  if ((c = cmp_device(a, b)) != 0)
    return c;
  if ((c = strcmp(a->model, b->model)) != 0)
    return c;
  if ((c = strcmp(a->precision, b->precision)) != 0)
    return c;
  return strcmp(a->data_on, b->data_on);
}

static int cmp_key(const struct clb_row *a, const struct clb_row *b) {
  int c = cmp_series(a, b);
  return c ? c : cmp_double(a->batch, b->batch);
}

/* Key order, then newest timestamp first (ISO 8601 compares as text), then
 * the row read last first, so the first row of each key group is the keeper. */
static int cmp_entry_newest_first(const void *pa, const void *pb) {
  const struct entry *a = pa, *b = pb;
  int c = cmp_key(a->row, b->row);
  if (c)
    return c;
  if ((c = strcmp(b->row->timestamp, a->row->timestamp)) != 0)
    return c;
  return (a->seq < b->seq) - (a->seq > b->seq);
}

struct merged {
  struct clb_row *all; /* every row read */
  size_t n_all;
  struct clb_row *rows; /* kept rows in key order */
  size_t count;
};

static void merged_free(struct merged *m) {
  free(m->all);
  free(m->rows);
  *m = (struct merged){0};
}

static int merge_inputs(const struct clb_report_options *opt, struct merged *m,
                        struct clb_report_summary *summary, struct clb_error *err) {
  size_t *file_start = NULL;
  struct entry *entries = NULL;
  int rc = CLB_OK;
  file_start = calloc(opt->n_inputs + 1, sizeof *file_start);
  if (!file_start) {
    rc = clb_failf(err, CLB_E_NOMEM, "out of memory");
    goto cleanup;
  }
  for (size_t f = 0; f < opt->n_inputs; f++) {
    char warning[1024];
    file_start[f] = m->n_all;
    rc = clb_results_read(opt->inputs[f], &m->all, &m->n_all, warning, sizeof warning, err);
    if (rc != CLB_OK) {
      summary->bad_input = 1;
      goto cleanup;
    }
    if (warning[0])
      note(opt, "warning: %s", warning);
  }
  file_start[opt->n_inputs] = m->n_all;
  summary->rows_read = m->n_all;

  entries = calloc(m->n_all ? m->n_all : 1, sizeof *entries);
  m->rows = calloc(m->n_all ? m->n_all : 1, sizeof *m->rows);
  if (!entries || !m->rows) {
    rc = clb_failf(err, CLB_E_NOMEM, "out of memory");
    goto cleanup;
  }
  for (size_t f = 0; f < opt->n_inputs; f++)
    for (size_t i = file_start[f]; i < file_start[f + 1]; i++)
      entries[i] = (struct entry){&m->all[i], f, i - file_start[f] + 1, i};
  qsort(entries, m->n_all, sizeof *entries, cmp_entry_newest_first);

  const struct entry *kept = NULL;
  for (size_t i = 0; i < m->n_all; i++) {
    const struct entry *e = &entries[i];
    if (kept && cmp_key(kept->row, e->row) == 0) {
      summary->duplicates++;
      note(opt,
           "duplicate host=%s platform='%s' device='%s' model=%s precision=%s batch=%.0f "
           "data_on=%s: kept %s row %zu (%s), dropped %s row %zu (%s)",
           e->row->host, e->row->platform, e->row->device, e->row->model, e->row->precision,
           e->row->batch, e->row->data_on, opt->inputs[kept->file], kept->index,
           kept->row->timestamp, opt->inputs[e->file], e->index, e->row->timestamp);
      continue;
    }
    kept = e;
    m->rows[m->count++] = *e->row;
  }
  summary->rows_merged = m->count;

cleanup:
  free(entries);
  free(file_start);
  return rc;
}

/* ---- naming devices ------------------------------------------------------ */

/* The platform as labels name it: PoCL's long name shortened, trademark signs
 * dropped ("Intel(R) OpenCL" -> "Intel OpenCL"), anything else as the driver
 * reports it. Labels need the vendor because two platforms can show the same
 * device name on one host. */
static void short_platform(char *dst, size_t size, const char *platform) {
  static const char *const marks[] = {"(R)", "(TM)", "\xC2\xAE", "\xE2\x84\xA2"};
  size_t j = 0;
  if (size == 0)
    return;
  if (strcmp(platform, "Portable Computing Language") == 0) {
    snprintf(dst, size, "PoCL");
    return;
  }
  for (const char *s = platform; *s && j + 1 < size;) {
    size_t skip = 0;
    for (size_t k = 0; k < sizeof marks / sizeof marks[0] && !skip; k++)
      if (strncasecmp(s, marks[k], strlen(marks[k])) == 0)
        skip = strlen(marks[k]);
    if (skip) {
      s += skip;
      continue;
    }
    /* One space for any run of blanks, none at the start. */
    if (isspace((unsigned char)*s) && (j == 0 || dst[j - 1] == ' ')) {
      s++;
      continue;
    }
    dst[j++] = isspace((unsigned char)*s) ? ' ' : *s;
    s++;
  }
  while (j > 0 && dst[j - 1] == ' ')
    j--;
  dst[j] = '\0';
}

/* A table's device cell: "DEVICE (PLATFORM)"; the host has its own column. */
static void device_cell(char *dst, size_t size, const struct clb_row *r) {
  char platform[CLB_STR_FIELD_SIZE];
  short_platform(platform, sizeof platform, r->platform);
  if (platform[0])
    snprintf(dst, size, "%s (%s)", r->device, platform);
  else
    snprintf(dst, size, "%s", r->device);
}

/* A plot legend's name of a device: "DEVICE (PLATFORM, HOST)". */
static void device_label(char *dst, size_t size, const struct clb_row *r) {
  char platform[CLB_STR_FIELD_SIZE];
  short_platform(platform, sizeof platform, r->platform);
  if (platform[0])
    snprintf(dst, size, "%s (%s, %s)", r->device, platform, r->host);
  else
    snprintf(dst, size, "%s (%s)", r->device, r->host);
}

/* ---- series and per-series facts ----------------------------------------- */

struct series {
  size_t first, count; /* rows [first, first + count) of merged.rows, by batch */
  size_t device_id;    /* index of host+platform+device, for one colour per device */
  struct clb_recommendation rec;
  double noise_scale;  /* median over ok rows; NaN when not measured */
  char label[3 * CLB_STR_FIELD_SIZE + 32]; /* device_label [+ ", data on host"] */
};

static int is_ok(const struct clb_row *row) {
  return strcmp(row->status, "ok") == 0;
}

static int cmp_double_qsort(const void *pa, const void *pb) {
  return cmp_double(*(const double *)pa, *(const double *)pb);
}

static int build_series(const struct merged *m, struct series **out, size_t *n_out,
                        struct clb_error *err) {
  struct series *list = NULL;
  struct clb_batch_point *points = NULL;
  double *scales = NULL;
  size_t n = 0, devices = 0;
  int rc = CLB_OK;
  list = calloc(m->count ? m->count : 1, sizeof *list);
  points = calloc(m->count ? m->count : 1, sizeof *points);
  scales = calloc(m->count ? m->count : 1, sizeof *scales);
  if (!list || !points || !scales) {
    rc = clb_failf(err, CLB_E_NOMEM, "out of memory");
    goto cleanup;
  }
  for (size_t i = 0; i < m->count;) {
    size_t j = i + 1;
    while (j < m->count && cmp_series(&m->rows[i], &m->rows[j]) == 0)
      j++;
    struct series *s = &list[n];
    s->first = i;
    s->count = j - i;
    /* Same host, platform and device as an earlier series: same colour. */
    s->device_id = devices;
    for (size_t k = 0; k < n; k++) {
      if (cmp_device(&m->rows[list[k].first], &m->rows[i]) == 0) {
        s->device_id = list[k].device_id;
        break;
      }
    }
    if (s->device_id == devices)
      devices++;
    size_t n_scales = 0;
    for (size_t k = 0; k < s->count; k++) {
      const struct clb_row *row = &m->rows[i + k];
      points[k] = (struct clb_batch_point){(size_t)(row->batch > 0 ? row->batch : 0),
                                           row->step_s_median, row->samples_per_s, is_ok(row)};
      if (is_ok(row) && isfinite(row->noise_scale) && row->noise_scale > 0)
        scales[n_scales++] = row->noise_scale;
    }
    s->noise_scale = NAN;
    if (n_scales > 0) {
      qsort(scales, n_scales, sizeof *scales, cmp_double_qsort);
      s->noise_scale = n_scales % 2 ? scales[n_scales / 2]
                                    : 0.5 * (scales[n_scales / 2 - 1] + scales[n_scales / 2]);
    }
    clb_recommend(points, s->count, s->noise_scale, &s->rec);
    const struct clb_row *r0 = &m->rows[i];
    device_label(s->label, sizeof s->label, r0);
    if (strcmp(r0->data_on, "host") == 0)
      strcat(s->label, ", data on host");
    n++;
    i = j;
  }
  *out = list;
  *n_out = n;
  list = NULL;
cleanup:
  free(scales);
  free(points);
  free(list);
  return rc;
}

static const struct clb_row *row_at_batch(const struct merged *m, const struct series *s,
                                          size_t batch) {
  for (size_t k = 0; k < s->count; k++) {
    const struct clb_row *row = &m->rows[s->first + k];
    if (is_ok(row) && row->batch == (double)batch)
      return row;
  }
  return NULL;
}

/* ---- cell formatting ----------------------------------------------------- */

/* A cell holds at most two CSV string fields: a device and its platform. */
#define CELL (2 * CLB_STR_FIELD_SIZE + 8)
#define DASH "\xE2\x80\x94" /* an em dash: "not measured" in every table */

static void fmt_time(char *buf, size_t size, double s) {
  if (!isfinite(s))
    snprintf(buf, size, DASH);
  else if (s < 1e-3)
    snprintf(buf, size, "%.3g \xC2\xB5s", s * 1e6);
  else if (s < 1.0)
    snprintf(buf, size, "%.3g ms", s * 1e3);
  else
    snprintf(buf, size, "%.3g s", s);
}

static void fmt_rate(char *buf, size_t size, double v) {
  if (!isfinite(v))
    snprintf(buf, size, DASH);
  else if (v >= 1e9)
    snprintf(buf, size, "%.3g G", v / 1e9);
  else if (v >= 1e6)
    snprintf(buf, size, "%.3g M", v / 1e6);
  else if (v >= 1e3)
    snprintf(buf, size, "%.3g k", v / 1e3);
  else
    snprintf(buf, size, "%.3g", v);
}

static void fmt_bytes(char *buf, size_t size, double v) {
  if (!isfinite(v))
    snprintf(buf, size, DASH);
  else if (v >= 1073741824.0)
    snprintf(buf, size, "%.3g GiB", v / 1073741824.0);
  else if (v >= 1048576.0)
    snprintf(buf, size, "%.3g MiB", v / 1048576.0);
  else if (v >= 1024.0)
    snprintf(buf, size, "%.3g KiB", v / 1024.0);
  else
    snprintf(buf, size, "%.0f B", v);
}

static void fmt_num(char *buf, size_t size, const char *fmt, double v) {
  if (!isfinite(v))
    snprintf(buf, size, DASH);
  else
    snprintf(buf, size, fmt, v);
}

/* ---- tables ------------------------------------------------------------ */

struct table {
  const char *title;
  const char *label; /* LaTeX label */
  size_t ncols;
  const char *const *headers;
  const char *align; /* one 'l' or 'r' per column */
  char **cells;      /* nrows * ncols strings */
  size_t nrows, cap;
  int failed;
  const char *note; /* a sentence between the title and the table; may be NULL */
  /* A table whose columns depend on the data (table_init_owned) owns its
   * texts, and title, label, note, headers and align point into these;
   * table_free releases them. They stay NULL in a table of static texts. */
  char *own_title, *own_label, *own_note, *own_align;
  char **own_headers; /* ncols strings */
};

/* Starts an empty table of `ncols` columns that owns its texts; the caller
 * names each column with table_set_column. Out of memory sets t->failed, and
 * table_free is safe either way. */
static void table_init_owned(struct table *t, size_t ncols, const char *title, const char *label,
                             const char *note) {
  *t = (struct table){0};
  t->ncols = ncols;
  t->own_title = strdup(title);
  t->own_label = strdup(label);
  t->own_note = note ? strdup(note) : NULL;
  t->own_align = calloc(ncols + 1, 1);
  t->own_headers = calloc(ncols ? ncols : 1, sizeof *t->own_headers);
  t->failed =
      !t->own_title || !t->own_label || (note && !t->own_note) || !t->own_align || !t->own_headers;
  t->title = t->own_title;
  t->label = t->own_label;
  t->note = t->own_note;
  t->align = t->own_align;
  t->headers = (const char *const *)t->own_headers;
}

static void table_set_column(struct table *t, size_t c, const char *header, char align) {
  if (t->failed)
    return;
  free(t->own_headers[c]);
  t->own_headers[c] = strdup(header);
  t->own_align[c] = align;
  if (!t->own_headers[c])
    t->failed = 1;
}

static void table_add(struct table *t, char cells[][CELL]) {
  if (t->failed)
    return;
  if (t->nrows == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 32;
    char **grown = realloc(t->cells, cap * t->ncols * sizeof *grown);
    if (!grown) {
      t->failed = 1;
      return;
    }
    t->cells = grown;
    t->cap = cap;
  }
  for (size_t c = 0; c < t->ncols; c++) {
    t->cells[t->nrows * t->ncols + c] = strdup(cells[c]);
    if (!t->cells[t->nrows * t->ncols + c])
      t->failed = 1;
  }
  t->nrows++;
}

static void table_free(struct table *t) {
  for (size_t i = 0; i < t->nrows * t->ncols; i++)
    free(t->cells[i]);
  free(t->cells);
  t->cells = NULL;
  t->nrows = t->cap = 0;
  if (t->own_headers)
    for (size_t c = 0; c < t->ncols; c++)
      free(t->own_headers[c]);
  free(t->own_headers);
  free(t->own_align);
  free(t->own_note);
  free(t->own_label);
  free(t->own_title);
  t->own_headers = NULL;
  t->own_align = t->own_note = t->own_label = t->own_title = NULL;
  t->headers = NULL;
  t->align = t->note = t->label = t->title = NULL;
}

static const char *cell(const struct table *t, size_t r, size_t c) {
  return t->cells[r * t->ncols + c];
}

static const char *const COMPARE_HEADERS[] = {
    "host",          "device",        "model",         "precision",   "data",
    "best samples/s", "at B",         "step @ B=32",   "% peak FLOP/s @ best B",
    "device memory @ largest B",      "noise scale",   "recommended B"};
static const char COMPARE_ALIGN[] = "lllllrrrrrrr";

static const char *const CONFIG_HEADERS[] = {
    "host",   "device",       "model",         "precision",  "data",         "B",
    "status", "step median",  "step wall",     "samples/s",  "GFLOP/s",      "% peak FLOP/s",
    "% peak BW", "epoch",     "device memory", "var ratio"};
static const char CONFIG_ALIGN[] = "lllllrlrrrrrrrrr";

/* Why a series has no recommendation when none of its rows is ok: the shared
 * status and the first row's message ("skipped: DEVICE lacks cl_khr_fp16"),
 * so an unsupported precision reads as such rather than as a row of dashes.
 * Returns 0 when some row is ok. */
static int explain_no_ok_rows(const struct merged *m, const struct series *s, char *buf,
                              size_t size) {
  const struct clb_row *r0 = &m->rows[s->first];
  int same_status = 1;
  for (size_t k = 0; k < s->count; k++) {
    const struct clb_row *r = &m->rows[s->first + k];
    if (is_ok(r))
      return 0;
    same_status &= strcmp(r->status, r0->status) == 0;
  }
  if (!same_status)
    snprintf(buf, size, "no ok rows");
  else if (r0->message[0])
    snprintf(buf, size, "%s: %s", r0->status[0] ? r0->status : "no status", r0->message);
  else
    snprintf(buf, size, "%s", r0->status[0] ? r0->status : "no ok rows");
  return 1;
}

static void build_compare_table(const struct merged *m, const struct series *list, size_t n,
                                struct table *t) {
  for (size_t i = 0; i < n; i++) {
    const struct series *s = &list[i];
    const struct clb_row *r0 = &m->rows[s->first];
    char cells[12][CELL];
    snprintf(cells[0], CELL, "%s", r0->host);
    device_cell(cells[1], CELL, r0);
    snprintf(cells[2], CELL, "%s", r0->model);
    snprintf(cells[3], CELL, "%s", r0->precision);
    snprintf(cells[4], CELL, "%s", r0->data_on);
    const struct clb_row *best = s->rec.valid ? row_at_batch(m, s, s->rec.best_batch) : NULL;
    const struct clb_row *at32 = row_at_batch(m, s, 32);
    const struct clb_row *largest = s->rec.largest_fit ? row_at_batch(m, s, s->rec.largest_fit)
                                                       : NULL;
    fmt_rate(cells[5], CELL, s->rec.valid ? s->rec.best_samples_per_s : NAN);
    fmt_num(cells[6], CELL, "%.0f", s->rec.valid ? (double)s->rec.best_batch : NAN);
    fmt_time(cells[7], CELL, at32 ? at32->step_s_median : NAN);
    fmt_num(cells[8], CELL, "%.1f", best ? best->pct_peak_flops : NAN);
    if (largest && isfinite(largest->device_bytes)) {
      char bytes[64];
      fmt_bytes(bytes, sizeof bytes, largest->device_bytes);
      snprintf(cells[9], CELL, "%s @ B=%.0f", bytes, largest->batch);
    } else {
      snprintf(cells[9], CELL, DASH);
    }
    fmt_num(cells[10], CELL, s->noise_scale >= 10 ? "%.0f" : "%.3g", s->noise_scale);
    if (explain_no_ok_rows(m, s, cells[11], CELL))
      ; /* the status says why every other cell is a dash */
    else if (s->rec.optimal_batch)
      snprintf(cells[11], CELL, "%zu (B*)", s->rec.optimal_batch);
    else if (s->rec.knee_batch)
      snprintf(cells[11], CELL, "%zu (knee)", s->rec.knee_batch);
    else
      snprintf(cells[11], CELL, DASH);
    table_add(t, cells);
  }
}

static void build_config_table(const struct merged *m, struct table *t) {
  for (size_t i = 0; i < m->count; i++) {
    const struct clb_row *r = &m->rows[i];
    char cells[16][CELL];
    snprintf(cells[0], CELL, "%s", r->host);
    device_cell(cells[1], CELL, r);
    snprintf(cells[2], CELL, "%s", r->model);
    snprintf(cells[3], CELL, "%s", r->precision);
    snprintf(cells[4], CELL, "%s", r->data_on);
    fmt_num(cells[5], CELL, "%.0f", r->batch);
    snprintf(cells[6], CELL, "%s", r->status[0] ? r->status : DASH);
    fmt_time(cells[7], CELL, r->step_s_median);
    fmt_time(cells[8], CELL, r->wall_step_s);
    fmt_rate(cells[9], CELL, r->samples_per_s);
    fmt_num(cells[10], CELL, "%.3g", r->gflops);
    fmt_num(cells[11], CELL, "%.1f", r->pct_peak_flops);
    fmt_num(cells[12], CELL, "%.1f", r->pct_peak_bw);
    fmt_time(cells[13], CELL, r->epoch_s);
    fmt_bytes(cells[14], CELL, r->device_bytes);
    fmt_num(cells[15], CELL, "%.3f", r->var_ratio);
    table_add(t, cells);
  }
}

/* ---- step time side by side ---------------------------------------------- */

static int cmp_config(const struct clb_row *a, const struct clb_row *b) {
  int c;
  if ((c = strcmp(a->model, b->model)) != 0)
    return c;
  if ((c = strcmp(a->precision, b->precision)) != 0)
    return c;
  return strcmp(a->data_on, b->data_on);
}

/* The median step time of an ok row at `batch`, NaN without one. */
static double step_at_batch(const struct merged *m, const struct series *s, double batch) {
  const struct clb_row *row = batch >= 0 ? row_at_batch(m, s, (size_t)batch) : NULL;
  return row && isfinite(row->step_s_median) && row->step_s_median > 0 ? row->step_s_median : NAN;
}

static void fmt_ratio(char *buf, size_t size, double v) {
  /* Two decimals say 2.50 plainly; tiny ratios keep two significant digits. */
  fmt_num(buf, size, v >= 0.1 ? "%.2f" : "%.2g", v);
}

/* The devices of one host, in series order (platform, then device name), as
 * the index of a series of each device. */
struct host_devices {
  size_t *first_series;
  size_t n;
};

static size_t device_slot(const struct host_devices *d, const struct series *list, size_t s) {
  for (size_t k = 0; k < d->n; k++)
    if (list[d->first_series[k]].device_id == list[s].device_id)
      return k;
  return d->n;
}

/* Adds the rows of one (model, precision, data placement): series order[a..b)
 * of one host, at most one per device. One row per B that at least two of the
 * devices measured ok. Out of memory sets t->failed. */
static void side_rows(const struct merged *m, const struct series *list,
                      const struct host_devices *d, const size_t *order, size_t a, size_t b,
                      struct table *t) {
  size_t n_batches = 0;
  double *batches = NULL, *steps = NULL;
  char(*cells)[CELL] = NULL;
  size_t cap = 0;
  for (size_t i = a; i < b; i++)
    cap += list[order[i]].count;
  batches = calloc(cap ? cap : 1, sizeof *batches);
  steps = calloc(d->n, sizeof *steps);
  cells = calloc(t->ncols, sizeof *cells);
  if (!batches || !steps || !cells) {
    t->failed = 1;
    goto cleanup;
  }
  for (size_t i = a; i < b; i++) {
    const struct series *s = &list[order[i]];
    for (size_t k = 0; k < s->count; k++) {
      const struct clb_row *r = &m->rows[s->first + k];
      if (is_ok(r) && isfinite(r->batch))
        batches[n_batches++] = r->batch;
    }
  }
  qsort(batches, n_batches, sizeof *batches, cmp_double_qsort);
  for (size_t k = 0; k < n_batches; k++) {
    if (k > 0 && batches[k] == batches[k - 1])
      continue;
    size_t measured = 0;
    for (size_t dev = 0; dev < d->n; dev++)
      steps[dev] = NAN;
    for (size_t i = a; i < b; i++) {
      size_t dev = device_slot(d, list, order[i]);
      if (dev < d->n)
        steps[dev] = step_at_batch(m, &list[order[i]], batches[k]);
    }
    for (size_t dev = 0; dev < d->n; dev++)
      measured += isfinite(steps[dev]);
    if (measured < 2)
      continue;
    const struct clb_row *r0 = &m->rows[list[order[a]].first];
    snprintf(cells[0], CELL, "%s", r0->model);
    snprintf(cells[1], CELL, "%s", r0->precision);
    snprintf(cells[2], CELL, "%s", r0->data_on);
    fmt_num(cells[3], CELL, "%.0f", batches[k]);
    for (size_t dev = 0; dev < d->n; dev++)
      fmt_time(cells[4 + dev], CELL, steps[dev]);
    for (size_t dev = 1; dev < d->n; dev++)
      fmt_ratio(cells[3 + d->n + dev], CELL, steps[dev] / steps[0]);
    table_add(t, cells);
  }
cleanup:
  free(cells);
  free(steps);
  free(batches);
}

/* "Step time side by side (HOST)" for the series [first, end) of one host:
 * per model, precision, data placement and B the median step time of every
 * device, then each device's ratio to the first (the baseline). Leaves `t`
 * untouched (ncols 0) when the host has fewer than two devices. */
static int build_side_by_side(const struct merged *m, const struct series *list, size_t first,
                              size_t end, struct table *t) {
  struct host_devices d = {0};
  size_t *order = NULL;
  struct sbuf note_text = {0};
  int rc = 0;
  d.first_series = calloc(end - first, sizeof *d.first_series);
  order = calloc(end - first, sizeof *order);
  if (!d.first_series || !order) {
    rc = -1;
    goto cleanup;
  }
  /* Series are sorted by host, platform, device: the first series of each
   * device comes in that order, which makes the baseline stable. */
  for (size_t s = first; s < end; s++)
    if (device_slot(&d, list, s) == d.n)
      d.first_series[d.n++] = s;
  if (d.n < 2)
    goto cleanup;

  const struct clb_row *host_row = &m->rows[list[first].first];
  char title[CLB_STR_FIELD_SIZE + 64], label[CLB_STR_FIELD_SIZE + 64], safe_host[256];
  char baseline[CELL], device[CELL], header[CELL + 16];
  snprintf(title, sizeof title, "Step time side by side (%s)", host_row->host);
  safe_name(safe_host, sizeof safe_host, host_row->host);
  snprintf(label, sizeof label, "tab:clbatch-side-by-side-%s", safe_host);
  device_cell(baseline, sizeof baseline, &m->rows[list[d.first_series[0]].first]);
  sb_printf(&note_text,
            "Median device time per step (step_s_median) for each model, precision, data "
            "placement and B measured ok on at least two devices. Baseline: %s, the first "
            "device ordered by platform, then device name. ratio = step time on that device / "
            "step time on the baseline; > 1: the baseline is faster.",
            baseline);
  if (note_text.failed) {
    rc = -1;
    goto cleanup;
  }
  table_init_owned(t, 4 + 2 * d.n - 1, title, label, note_text.text);
  table_set_column(t, 0, "model", 'l');
  table_set_column(t, 1, "precision", 'l');
  table_set_column(t, 2, "data", 'l');
  table_set_column(t, 3, "B", 'r');
  for (size_t dev = 0; dev < d.n; dev++) {
    device_cell(device, sizeof device, &m->rows[list[d.first_series[dev]].first]);
    snprintf(header, sizeof header, "step: %s", device);
    table_set_column(t, 4 + dev, header, 'r');
    if (dev > 0) {
      snprintf(header, sizeof header, "ratio: %s", device);
      table_set_column(t, 3 + d.n + dev, header, 'r');
    }
  }

  /* Group the host's series by (model, precision, data placement); within a
   * group they stay in device order. Insertion sort: a host has few series. */
  size_t n = end - first;
  for (size_t i = 0; i < n; i++) {
    size_t s = first + i, j = i;
    while (j > 0 && cmp_config(&m->rows[list[order[j - 1]].first], &m->rows[list[s].first]) > 0) {
      order[j] = order[j - 1];
      j--;
    }
    order[j] = s;
  }
  for (size_t a = 0; a < n && !t->failed;) {
    size_t b = a + 1;
    while (b < n && cmp_config(&m->rows[list[order[a]].first], &m->rows[list[order[b]].first]) == 0)
      b++;
    side_rows(m, list, &d, order, a, b, t);
    a = b;
  }
  rc = t->failed ? -1 : 0;
cleanup:
  sb_free(&note_text);
  free(order);
  free(d.first_series);
  return rc;
}

/* The side-by-side tables: one per host with two or more devices (and rows). */
struct side_tables {
  struct table *tables;
  size_t n;
};

static void side_tables_free(struct side_tables *sides) {
  for (size_t i = 0; i < sides->n; i++)
    table_free(&sides->tables[i]);
  free(sides->tables);
  *sides = (struct side_tables){0};
}

static int build_side_tables(const struct clb_report_options *opt, const struct merged *m,
                             const struct series *list, size_t n_series, struct side_tables *sides,
                             struct clb_error *err) {
  sides->tables = calloc(n_series ? n_series : 1, sizeof *sides->tables);
  if (!sides->tables)
    return clb_failf(err, CLB_E_NOMEM, "out of memory");
  for (size_t first = 0; first < n_series;) {
    /* Series are sorted by host first: [first, end) is one host. */
    const char *host = m->rows[list[first].first].host;
    size_t end = first + 1;
    while (end < n_series && strcmp(m->rows[list[end].first].host, host) == 0)
      end++;
    struct table *t = &sides->tables[sides->n];
    *t = (struct table){0};
    /* Counted before anything can fail, so side_tables_free releases it. */
    sides->n++;
    if (build_side_by_side(m, list, first, end, t) != 0)
      return clb_failf(err, CLB_E_NOMEM, "out of memory building the side-by-side table");
    if (t->ncols > 0 && t->nrows == 0)
      note(opt, "step time side by side (%s) skipped: no batch size measured ok on two devices",
           host);
    if (t->nrows == 0) {
      table_free(t);
      sides->n--;
    }
    first = end;
  }
  return CLB_OK;
}

/* Display width of UTF-8 text: code points, which is right for the Latin text,
 * em dashes and micro signs the tables contain. */
static size_t display_width(const char *s) {
  size_t n = 0;
  for (; *s; s++)
    n += ((unsigned char)*s & 0xC0) != 0x80;
  return n;
}

/* Markdown cell text: a '|' would end the cell, a newline the row. */
static void md_cell_text(char *dst, size_t size, const char *src) {
  size_t j = 0;
  for (; *src && j + 3 < size; src++) {
    if (*src == '|')
      dst[j++] = '\\';
    dst[j++] = (*src == '\n' || *src == '\r') ? ' ' : *src;
  }
  dst[j] = '\0';
}

static void md_padded(struct sbuf *sb, const char *text, size_t width, char align) {
  size_t pad = width - display_width(text);
  if (align == 'r')
    for (size_t i = 0; i < pad; i++)
      sb_puts(sb, " ");
  sb_puts(sb, text);
  if (align != 'r')
    for (size_t i = 0; i < pad; i++)
      sb_puts(sb, " ");
}

static void render_markdown(struct sbuf *sb, const struct table *t) {
  size_t *width = calloc(t->ncols ? t->ncols : 1, sizeof *width);
  char text[2 * CELL];
  if (!width) {
    sb->failed = 1;
    return;
  }
  for (size_t c = 0; c < t->ncols; c++) {
    md_cell_text(text, sizeof text, t->headers[c]);
    width[c] = display_width(text) < 3 ? 3 : display_width(text);
    for (size_t r = 0; r < t->nrows; r++) {
      md_cell_text(text, sizeof text, cell(t, r, c));
      if (display_width(text) > width[c])
        width[c] = display_width(text);
    }
  }
  sb_printf(sb, "## %s\n\n", t->title);
  if (t->note)
    sb_printf(sb, "%s\n\n", t->note);
  for (size_t r = 0; r <= t->nrows + 1; r++) {
    sb_puts(sb, "|");
    for (size_t c = 0; c < t->ncols; c++) {
      sb_puts(sb, " ");
      if (r == 1) {
        /* The separator line: dashes the column's width, a colon for right-aligned. */
        for (size_t i = 0; i + 1 < width[c]; i++)
          sb_puts(sb, "-");
        sb_puts(sb, t->align[c] == 'r' ? ":" : "-");
      } else {
        md_cell_text(text, sizeof text, r == 0 ? t->headers[c] : cell(t, r - 2, c));
        md_padded(sb, text, width[c], r == 0 ? 'l' : t->align[c]);
      }
      sb_puts(sb, " |");
    }
    sb_puts(sb, "\n");
  }
  sb_puts(sb, "\n");
  free(width);
}

static void sb_latex_escaped(struct sbuf *sb, const char *s) {
  for (; *s; s++) {
    switch (*s) {
    case '_': case '%': case '&': case '#': case '$': case '{': case '}':
      sb_printf(sb, "\\%c", *s);
      break;
    case '\\':
      sb_puts(sb, "\\textbackslash{}");
      break;
    case '~':
      sb_puts(sb, "\\textasciitilde{}");
      break;
    case '^':
      sb_puts(sb, "\\textasciicircum{}");
      break;
    case '<': /* in the default OT1 font encoding a bare < prints as an inverted ! */
      sb_puts(sb, "\\textless{}");
      break;
    case '>':
      sb_puts(sb, "\\textgreater{}");
      break;
    case '\n': case '\r':
      sb_puts(sb, " ");
      break;
    default:
      if (strncmp(s, DASH, 3) == 0) {
        sb_puts(sb, "---");
        s += 2;
      } else if (strncmp(s, "\xC2\xB5", 2) == 0) {
        sb_puts(sb, "$\\mu$");
        s += 1;
      } else {
        sb_append(sb, s, 1);
      }
    }
  }
}

static void render_latex(struct sbuf *sb, const struct table *t) {
  sb_puts(sb, "\\begin{table}[htbp]\n\\centering\n\\footnotesize\n\\setlength{\\tabcolsep}{3pt}\n");
  /* A note belongs in the caption, above the table; the list of tables gets
   * the title alone. */
  if (t->note) {
    sb_puts(sb, "\\caption[");
    sb_latex_escaped(sb, t->title);
    sb_puts(sb, "]{");
    sb_latex_escaped(sb, t->title);
    sb_puts(sb, ". ");
    sb_latex_escaped(sb, t->note);
  } else {
    sb_puts(sb, "\\caption{");
    sb_latex_escaped(sb, t->title);
  }
  sb_printf(sb, "}\n\\label{%s}\n\\begin{tabular}{%s}\n\\toprule\n", t->label, t->align);
  for (size_t r = 0; r <= t->nrows; r++) {
    for (size_t c = 0; c < t->ncols; c++) {
      if (c)
        sb_puts(sb, " & ");
      sb_latex_escaped(sb, r == 0 ? t->headers[c] : cell(t, r - 1, c));
    }
    sb_puts(sb, " \\\\\n");
    if (r == 0)
      sb_puts(sb, "\\midrule\n");
  }
  sb_puts(sb, "\\bottomrule\n\\end{tabular}\n\\end{table}\n\n");
}

static void sb_html_escaped(struct sbuf *sb, const char *s) {
  for (; *s; s++) {
    switch (*s) {
    case '&': sb_puts(sb, "&amp;"); break;
    case '<': sb_puts(sb, "&lt;"); break;
    case '>': sb_puts(sb, "&gt;"); break;
    case '"': sb_puts(sb, "&quot;"); break;
    case '\'': sb_puts(sb, "&#39;"); break;
    default: sb_append(sb, s, 1);
    }
  }
}

static void render_html_table(struct sbuf *sb, const struct table *t) {
  sb_puts(sb, "<div class=\"scroll\"><table>\n<thead><tr>");
  for (size_t c = 0; c < t->ncols; c++) {
    sb_puts(sb, "<th>");
    sb_html_escaped(sb, t->headers[c]);
    sb_puts(sb, "</th>");
  }
  sb_puts(sb, "</tr></thead>\n<tbody>\n");
  for (size_t r = 0; r < t->nrows; r++) {
    sb_puts(sb, "<tr>");
    for (size_t c = 0; c < t->ncols; c++) {
      sb_puts(sb, t->align[c] == 'r' ? "<td class=\"num\">" : "<td>");
      sb_html_escaped(sb, cell(t, r, c));
      sb_puts(sb, "</td>");
    }
    sb_puts(sb, "</tr>\n");
  }
  sb_puts(sb, "</tbody></table></div>\n");
}

/* ---- plots --------------------------------------------------------------- */

/* Okabe-Ito colours (distinguishable with colour-blindness), then a few more. */
static const char *const PALETTE[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00",
                                      "#56B4E9", "#000000", "#7F3C8D", "#A6761D", "#666666"};
#define PALETTE_SIZE (sizeof PALETTE / sizeof PALETTE[0])

struct plotter {
  const struct clb_report_options *opt;
  const char *dir;     /* output folder */
  char data_dir[4096]; /* DIR/data */
  char terminal[16];   /* pngcairo or png */
  struct clb_report_summary *summary;
  char **svg_files; /* plots written, for the HTML page (malloc'd paths) */
  char **svg_titles;
  size_t n_svg;
};

static void plotter_free(struct plotter *p) {
  for (size_t i = 0; i < p->n_svg; i++) {
    free(p->svg_files[i]);
    free(p->svg_titles[i]);
  }
  free(p->svg_files);
  free(p->svg_titles);
}

static int gnuplot_available(const char *gnuplot) {
  struct sbuf cmd = {0};
  sb_puts(&cmd, "command -v ");
  sb_puts(&cmd, gnuplot); /* a command (possibly with a path), as the user gave it */
  sb_puts(&cmd, " >/dev/null 2>&1");
  int status = cmd.failed ? -1 : system(cmd.text);
  sb_free(&cmd);
  return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* pngcairo draws anti-aliased lines and proper fonts; plain png (libgd) is the
 * fallback some minimal gnuplot builds only have. */
static void pick_png_terminal(const char *gnuplot, char *out, size_t size) {
  snprintf(out, size, "png");
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "%s -e 'set terminal' 2>&1 </dev/null", gnuplot);
  FILE *pipe = popen(cmd, "r");
  if (!pipe)
    return;
  char line[512];
  while (fgets(line, sizeof line, pipe))
    if (strstr(line, "pngcairo"))
      snprintf(out, size, "pngcairo");
  pclose(pipe);
}

/* Common settings of every plot; the caller adds labels and the plot command. */
static void gp_preamble(struct sbuf *gp, const char *title) {
  sb_puts(gp, "set datafile missing '?'\n"
              "set encoding utf8\n"
              "set termoption noenhanced\n"
              "set grid xtics ytics mxtics mytics lc rgb '#dddddd' lw 1, lc rgb '#f0f0f0' lw 1\n"
              "set border lc rgb '#444444'\n"
              "set key outside below left Left reverse maxrows 6 spacing 1.1\n"
              "set title ");
  sb_gp_quote(gp, title);
  sb_puts(gp, " font ',13'\n");
}

static void gp_batch_axis(struct sbuf *gp) {
  sb_puts(gp, "set logscale x 2\n"
              "set format x '%.0f'\n"
              "set xtics 4\n"
              "set mxtics 2\n"
              "set xlabel 'batch size B (samples per step)'\n"
              /* Room at both ends, so markers on the first and last B are not clipped. */
              "set offsets graph 0.02, graph 0.02, 0, 0\n");
}

#define PLOT_WIDTH 1100
#define PLOT_HEIGHT 720

/* Runs one script that draws to PNG and SVG, each into NAME.tmp then renamed. */
static int run_gnuplot(struct plotter *p, const char *name, const char *title, struct sbuf *body,
                       int height, struct clb_error *err) {
  char base[4096], png[4200], svg[4200], script[4200], log[4200];
  snprintf(base, sizeof base, "%s/%s", p->dir, name);
  snprintf(png, sizeof png, "%s.png", base);
  snprintf(svg, sizeof svg, "%s.svg", base);
  snprintf(script, sizeof script, "%s/%s.gp", p->data_dir, name);
  snprintf(log, sizeof log, "%s/%s.log", p->data_dir, name);
  struct sbuf gp = {0}, cmd = {0};
  char tmp[4300];
  int rc = CLB_OK;

  sb_printf(&gp, "set terminal %s size %d,%d font 'sans,11' noenhanced\n", p->terminal, PLOT_WIDTH,
            height);
  snprintf(tmp, sizeof tmp, "%s.tmp", png);
  sb_puts(&gp, "set output ");
  sb_gp_quote(&gp, tmp);
  sb_puts(&gp, "\n");
  sb_append(&gp, body->text, body->len);
  sb_printf(&gp, "set terminal svg size %d,%d font 'sans,11' background '#ffffff' noenhanced\n",
            PLOT_WIDTH, height);
  snprintf(tmp, sizeof tmp, "%s.tmp", svg);
  sb_puts(&gp, "set output ");
  sb_gp_quote(&gp, tmp);
  sb_puts(&gp, "\nreplot\nunset output\n");
  CLB_TRY(write_atomic(script, &gp, err));

  sb_puts(&cmd, p->opt->gnuplot ? p->opt->gnuplot : "gnuplot");
  sb_puts(&cmd, " ");
  sb_shell_quote(&cmd, script);
  sb_puts(&cmd, " </dev/null >");
  sb_shell_quote(&cmd, log);
  sb_puts(&cmd, " 2>&1");
  if (cmd.failed) {
    rc = clb_failf(err, CLB_E_NOMEM, "out of memory");
    goto cleanup;
  }
  int status = system(cmd.text);
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    char *output = read_text_file(log);
    char *last = output ? output + strlen(output) : NULL;
    /* The last non-empty line of gnuplot's output usually names the problem. */
    while (last && last > output && (last[-1] == '\n' || last[-1] == ' '))
      *--last = '\0';
    while (last && last > output && last[-1] != '\n')
      last--;
    rc = clb_failf(err, CLB_E_IO, "gnuplot failed on %s: %s", script,
                   last && *last ? last : "no output");
    free(output);
    /* Half-drawn images must not look like results. */
    snprintf(tmp, sizeof tmp, "%s.tmp", png);
    remove(tmp);
    snprintf(tmp, sizeof tmp, "%s.tmp", svg);
    remove(tmp);
    goto cleanup;
  }
  for (int k = 0; k < 2; k++) {
    const char *final = k == 0 ? png : svg;
    snprintf(tmp, sizeof tmp, "%s.tmp", final);
    if (rename(tmp, final) != 0) {
      rc = clb_failf(err, CLB_E_IO, "%s: gnuplot wrote no output (%s)", final, strerror(errno));
      goto cleanup;
    }
  }
  char **files = realloc(p->svg_files, (p->n_svg + 1) * sizeof *files);
  if (files)
    p->svg_files = files;
  char **titles = realloc(p->svg_titles, (p->n_svg + 1) * sizeof *titles);
  if (titles)
    p->svg_titles = titles;
  if (!files || !titles) {
    rc = clb_failf(err, CLB_E_NOMEM, "out of memory");
    goto cleanup;
  }
  p->svg_files[p->n_svg] = strdup(svg);
  p->svg_titles[p->n_svg] = strdup(title);
  p->n_svg++;
  p->summary->plots_written++;
  note(p->opt, "wrote %s and %s", png, svg);

cleanup:
  sb_free(&cmd);
  sb_free(&gp);
  return rc;
}

/* Columns of the per-series data files, 1-based as gnuplot counts them. */
enum {
  DAT_BATCH = 1, DAT_SAMPLES, DAT_STEP, DAT_WALL, DAT_EPOCH, DAT_VAR, DAT_VAR_LO, DAT_VAR_HI,
  DAT_VAR_PRED, DAT_BYTES, DAT_GLOBAL, DAT_PCT_FLOPS, DAT_PCT_BW
};

static void dat_value(struct sbuf *sb, double v, int positive_only) {
  /* gnuplot reads '?' as missing; log axes cannot show values <= 0. */
  if (!isfinite(v) || (positive_only && v <= 0))
    sb_puts(sb, " ?");
  else
    sb_printf(sb, " %.9g", v);
}

static int write_series_data(const struct merged *m, const struct series *s,
                             const char *path, const char *knee_path, struct clb_error *err) {
  struct sbuf dat = {0}, knee = {0};
  int rc = CLB_OK;
  sb_puts(&dat, "# batch samples_per_s step_s_median wall_step_s epoch_s var_measured "
                "var_ci_low var_ci_high var_predicted device_bytes global_mem_bytes "
                "pct_peak_flops pct_peak_bw\n");
  for (size_t k = 0; k < s->count; k++) {
    const struct clb_row *r = &m->rows[s->first + k];
    if (!is_ok(r) || !isfinite(r->batch))
      continue;
    sb_printf(&dat, "%.0f", r->batch);
    dat_value(&dat, r->samples_per_s, 1);
    dat_value(&dat, r->step_s_median, 1);
    dat_value(&dat, r->wall_step_s, 1);
    dat_value(&dat, r->epoch_s, 1);
    dat_value(&dat, r->var_measured, 1);
    dat_value(&dat, r->var_ci_low, 1);
    dat_value(&dat, r->var_ci_high, 1);
    dat_value(&dat, r->var_predicted, 1);
    dat_value(&dat, r->device_bytes, 1);
    dat_value(&dat, r->global_mem_bytes, 1);
    dat_value(&dat, r->pct_peak_flops, 0);
    dat_value(&dat, r->pct_peak_bw, 0);
    sb_puts(&dat, "\n");
  }
  sb_puts(&knee, "# batch samples_per_s at the knee (smallest B reaching 90 % of the best)\n");
  const struct clb_row *at_knee = s->rec.knee_batch ? row_at_batch(m, s, s->rec.knee_batch)
                                                    : NULL;
  if (at_knee && isfinite(at_knee->samples_per_s))
    sb_printf(&knee, "%.0f %.9g\n", at_knee->batch, at_knee->samples_per_s);
  CLB_TRY(write_atomic(path, &dat, err));
  CLB_TRY(write_atomic(knee_path, &knee, err));
cleanup:
  sb_free(&knee);
  sb_free(&dat);
  return rc;
}

/* One (model, precision) group of series and what its plots need to know. */
struct group {
  const char *model, *precision;
  size_t *members; /* indices into the series list */
  size_t n;
  char (*dat)[4200];
  char (*knee)[4200];
  char shape[256]; /* "N=16384, D=784, C=10" when the group has one shape */
};

static int group_has(const struct merged *m, const struct series *list, const struct group *g,
                     size_t offset_of_column) {
  for (size_t i = 0; i < g->n; i++) {
    const struct series *s = &list[g->members[i]];
    for (size_t k = 0; k < s->count; k++) {
      const struct clb_row *r = &m->rows[s->first + k];
      double v = *(const double *)(const void *)((const char *)r + offset_of_column);
      if (is_ok(r) && isfinite(v) && v > 0)
        return 1;
    }
  }
  return 0;
}

static void describe_shape(const struct merged *m, const struct series *list, struct group *g) {
  const struct clb_row *r0 = &m->rows[list[g->members[0]].first];
  for (size_t i = 0; i < g->n; i++) {
    const struct series *s = &list[g->members[i]];
    for (size_t k = 0; k < s->count; k++) {
      const struct clb_row *r = &m->rows[s->first + k];
      if (cmp_double(r->n_samples, r0->n_samples) || cmp_double(r->n_features, r0->n_features) ||
          cmp_double(r->n_hidden, r0->n_hidden) || cmp_double(r->n_classes, r0->n_classes)) {
        g->shape[0] = '\0'; /* several shapes: the tables tell them apart */
        return;
      }
    }
  }
  if (r0->n_hidden > 0)
    snprintf(g->shape, sizeof g->shape, ", N=%.0f, D=%.0f, H=%.0f, C=%.0f", r0->n_samples,
             r0->n_features, r0->n_hidden, r0->n_classes);
  else
    snprintf(g->shape, sizeof g->shape, ", N=%.0f, D=%.0f, C=%.0f", r0->n_samples,
             r0->n_features, r0->n_classes);
}

static void gp_series_line(struct sbuf *gp, const char *dat, int using_x, int using_y,
                           const char *color, const char *style, const char *title) {
  sb_gp_quote(gp, dat);
  sb_printf(gp, " using %d:%d %s lc rgb '%s' ", using_x, using_y, style, color);
  if (title) {
    sb_puts(gp, "title ");
    sb_gp_quote(gp, title);
  } else {
    sb_puts(gp, "notitle");
  }
}

/* Marker shapes in filled/open pairs. A device keeps its shape in every plot,
 * beside its colour, so series that coincide (two vendors measuring the same
 * gradient variance) still show as two. */
static const int FILLED_POINT[] = {7, 5, 9, 13, 11};
static const int OPEN_POINT[] = {6, 4, 8, 12, 10};
#define N_SHAPES (sizeof FILLED_POINT / sizeof FILLED_POINT[0])
#define STYLE_GREY "#444444" /* legend entries that explain line styles, not devices */

struct look {
  const char *color;
  int filled, open; /* gnuplot point types */
};

static struct look series_look(const struct merged *m, const struct series *s) {
  const struct clb_row *r0 = &m->rows[s->first];
  /* Data streamed from the host: the device's colour, another shape. */
  size_t shape = (s->device_id + (strcmp(r0->data_on, "host") == 0 ? 2 : 0)) % N_SHAPES;
  return (struct look){PALETTE[s->device_id % PALETTE_SIZE], FILLED_POINT[shape],
                       OPEN_POINT[shape]};
}

enum { THROUGHPUT, STEP, EPOCH, VARIANCE, MEMORY, PEAK, N_PLOTS };

/* The grey legend entries of each plot: what its line styles mean. Devices
 * get one legend entry each (their main line), so the legend grows by one
 * line per two devices instead of two lines per device. */
struct style_key {
  const char *style, *text;
};
static const struct style_key STYLE_KEYS[N_PLOTS][2] = {
    [THROUGHPUT] = {{"with points pt 6 ps 2.5 lw 2", "ring: knee, smallest B at 90% of the best"}},
    [STEP] = {{"with linespoints lw 2 pt 7 ps 0.9 dt 1", "solid, filled: device time"},
              {"with linespoints lw 2 pt 6 ps 0.9 dt 2", "dashed, open: wall time"}},
    [VARIANCE] = {{"with yerrorbars pt 7 ps 0.9 lw 1.5", "measured, 95% CI; devices side by side"},
                  {"with lines lw 2", "predicted sigma2/B (N-B)/(N-1)"}},
    [MEMORY] = {{"with linespoints lw 2 pt 7 ps 0.9", "solid: step buffers; devices side by side"},
                {"with lines lw 2 dt 3", "dotted: device global memory"}},
    [PEAK] = {{"with linespoints lw 2 pt 7 ps 0.9 dt 1", "solid, filled: % of peak FLOP/s"},
              {"with linespoints lw 2 pt 6 ps 0.9 dt 2", "dashed, open: % of peak bandwidth"}},
};

#define KEY_ROWS_IN_HEIGHT 3 /* legend rows PLOT_HEIGHT has room for */
#define KEY_ROW_PX 24

/* Below the plot in two columns, read down the first, then the second (the
 * devices, then the grey style entries), a little space under the x label;
 * one column when a title is too long for half the width (gnuplot would
 * clip it at the canvas edge). The canvas grows by the rows past
 * KEY_ROWS_IN_HEIGHT, so many devices do not squeeze the plot itself.
 * Returns the canvas height. */
#define KEY_TWO_COLUMN_CHARS 52 /* the longest title two columns hold at 1100 px */
static int gp_key_below(struct sbuf *gp, size_t entries, size_t widest_title) {
  size_t columns = widest_title > KEY_TWO_COLUMN_CHARS ? 1 : 2;
  size_t rows = entries > 0 ? (entries + columns - 1) / columns : 1;
  sb_printf(gp,
            "set key outside below center vertical Left reverse maxrows %zu maxcols %zu "
            "spacing 1.15 samplen 3 width 1 height 1\n",
            rows, columns);
  return PLOT_HEIGHT +
         (int)(rows > KEY_ROWS_IN_HEIGHT ? rows - KEY_ROWS_IN_HEIGHT : 0) * KEY_ROW_PX;
}

static void gp_next(struct sbuf *gp, int *first) {
  if (!*first)
    sb_puts(gp, ", \\\n     ");
  *first = 0;
}

static void gp_keyentry(struct sbuf *gp, int *first, const char *style, const char *color,
                        const char *title) {
  gp_next(gp, first);
  sb_printf(gp, "keyentry %s lc rgb '%s' title ", style, color);
  sb_gp_quote(gp, title);
}

static size_t ok_rows_of(const struct merged *m, const struct series *s) {
  size_t n = 0;
  for (size_t k = 0; k < s->count; k++)
    n += is_ok(&m->rows[s->first + k]);
  return n;
}

/* One device's lines in one plot; the first carries the legend entry. */
static void gp_device_lines(struct sbuf *gp, int *first, int plot, const struct group *g, size_t i,
                            const struct series *s, struct look look, double dodge) {
  char style[96];
  switch (plot) {
  case THROUGHPUT:
    gp_next(gp, first);
    snprintf(style, sizeof style, "with linespoints lw 2 pt %d ps 0.9", look.filled);
    gp_series_line(gp, g->dat[i], DAT_BATCH, DAT_SAMPLES, look.color, style, s->label);
    gp_next(gp, first);
    gp_series_line(gp, g->knee[i], 1, 2, look.color, "with points pt 6 ps 3.5 lw 2", NULL);
    break;
  case STEP:
    gp_next(gp, first);
    snprintf(style, sizeof style, "with linespoints lw 2 pt %d ps 0.9 dt 1", look.filled);
    gp_series_line(gp, g->dat[i], DAT_BATCH, DAT_STEP, look.color, style, s->label);
    gp_next(gp, first);
    snprintf(style, sizeof style, "with linespoints lw 2 pt %d ps 0.9 dt 2", look.open);
    gp_series_line(gp, g->dat[i], DAT_BATCH, DAT_WALL, look.color, style, NULL);
    break;
  case EPOCH:
    gp_next(gp, first);
    snprintf(style, sizeof style, "with linespoints lw 2 pt %d ps 0.9", look.filled);
    gp_series_line(gp, g->dat[i], DAT_BATCH, DAT_EPOCH, look.color, style, s->label);
    break;
  case VARIANCE:
    /* Devices measuring the same data give the same variance: their points
     * are shifted a little sideways (`dodge`, a factor on the log axis), or
     * they would hide each other's error bars. */
    gp_next(gp, first);
    sb_gp_quote(gp, g->dat[i]);
    sb_printf(gp,
              " using ($%d*%.4f):%d:%d:%d with yerrorbars pt %d ps 0.9 lw 1.5 lc rgb '%s' "
              "title ",
              DAT_BATCH, dodge, DAT_VAR, DAT_VAR_LO, DAT_VAR_HI, look.filled, look.color);
    sb_gp_quote(gp, s->label);
    gp_next(gp, first);
    gp_series_line(gp, g->dat[i], DAT_BATCH, DAT_VAR_PRED, look.color, "with lines lw 1.5", NULL);
    break;
  case MEMORY:
    /* The same buffers on two vendors are the same bytes: shifted sideways
     * too, so every device's markers stay visible. */
    gp_next(gp, first);
    sb_gp_quote(gp, g->dat[i]);
    sb_printf(gp, " using ($%d*%.4f):%d with linespoints lw 2 pt %d ps 0.9 lc rgb '%s' title ",
              DAT_BATCH, dodge, DAT_BYTES, look.filled, look.color);
    sb_gp_quote(gp, s->label);
    gp_next(gp, first);
    gp_series_line(gp, g->dat[i], DAT_BATCH, DAT_GLOBAL, look.color, "with lines lw 2 dt 3", NULL);
    break;
  case PEAK:
    gp_next(gp, first);
    snprintf(style, sizeof style, "with linespoints lw 2 pt %d ps 0.9 dt 1", look.filled);
    gp_series_line(gp, g->dat[i], DAT_BATCH, DAT_PCT_FLOPS, look.color, style, s->label);
    gp_next(gp, first);
    snprintf(style, sizeof style, "with linespoints lw 2 pt %d ps 0.9 dt 2", look.open);
    gp_series_line(gp, g->dat[i], DAT_BATCH, DAT_PCT_BW, look.color, style, NULL);
    break;
  }
}

/* The plot command of one plot: each device's lines, a legend entry for a
 * device without ok rows (it is absent, and the legend says why), then the
 * grey style entries. Returns the number of legend entries, and in *widest
 * the longest legend title in characters. */
static size_t gp_plot_command(struct sbuf *gp, int plot, const struct merged *m,
                              const struct series *list, const struct group *g, size_t *widest) {
  size_t entries = 0, plotted = 0, n_plotted = 0;
  *widest = 0;
  int first = 1;
  for (size_t i = 0; i < g->n; i++)
    n_plotted += ok_rows_of(m, &list[g->members[i]]) > 0;
  sb_puts(gp, "plot ");
  for (size_t i = 0; i < g->n; i++) {
    const struct series *s = &list[g->members[i]];
    struct look look = series_look(m, s);
    entries++;
    if (display_width(s->label) > *widest)
      *widest = display_width(s->label);
    if (ok_rows_of(m, s) == 0) {
      char why[CELL], title[sizeof s->label + CELL + 4];
      explain_no_ok_rows(m, s, why, sizeof why);
      /* The status alone: the tables carry the message. */
      why[strcspn(why, ":")] = '\0';
      snprintf(title, sizeof title, "%s: %s", s->label, why);
      if (display_width(title) > *widest)
        *widest = display_width(title);
      char style[64];
      snprintf(style, sizeof style, "with points pt %d ps 0.9", look.open);
      gp_keyentry(gp, &first, style, look.color, title);
      continue;
    }
    double dodge = pow(1.06, (double)plotted - 0.5 * (double)(n_plotted - 1));
    gp_device_lines(gp, &first, plot, g, i, s, look, dodge);
    plotted++;
  }
  size_t n_styles = 0;
  while (n_styles < 2 && STYLE_KEYS[plot][n_styles].style)
    n_styles++;
  for (size_t k = 0; k < n_styles; k++) {
    gp_keyentry(gp, &first, STYLE_KEYS[plot][k].style, STYLE_GREY, STYLE_KEYS[plot][k].text);
    if (display_width(STYLE_KEYS[plot][k].text) > *widest)
      *widest = display_width(STYLE_KEYS[plot][k].text);
  }
  sb_puts(gp, "\n");
  return entries + n_styles;
}

static int plot_group(struct plotter *p, const struct merged *m, const struct series *list,
                      struct group *g, struct clb_error *err) {
  char suffix[256], safe_model[64], safe_precision[64];
  safe_name(safe_model, sizeof safe_model, g->model);
  safe_name(safe_precision, sizeof safe_precision, g->precision);
  snprintf(suffix, sizeof suffix, "%s_%s", safe_model, safe_precision);
  int rc = CLB_OK;
  struct sbuf gp = {0}, command = {0};

  size_t ok_rows = 0;
  for (size_t i = 0; i < g->n; i++)
    ok_rows += ok_rows_of(m, &list[g->members[i]]);
  if (ok_rows == 0) {
    /* Only skipped/oom/error rows (an unsupported precision, say): one note, not six. */
    p->summary->plots_skipped += 6;
    note(p->opt, "plots for %s %s skipped: no ok rows", g->model, g->precision);
    return CLB_OK;
  }
  for (size_t i = 0; i < g->n; i++)
    CLB_TRY(write_series_data(m, &list[g->members[i]], g->dat[i], g->knee[i], err));

  static const char *const names[N_PLOTS] = {"throughput", "step_time", "epoch_time",
                                             "variance",   "memory",    "peak"};
  static const char *const what[N_PLOTS] = {
      "samples/s vs batch size",          "time per step vs batch size",
      "time per epoch vs batch size",     "mini-batch gradient variance vs batch size",
      "device memory vs batch size",      "% of measured peak vs batch size"};
  static const char *const columns[N_PLOTS] = {"samples_per_s", "step_s_median", "epoch_s",
                                               "var_measured",  "device_bytes",  "pct_peak_flops"};
  const size_t needs[N_PLOTS] = {
      offsetof(struct clb_row, samples_per_s), offsetof(struct clb_row, step_s_median),
      offsetof(struct clb_row, epoch_s),       offsetof(struct clb_row, var_measured),
      offsetof(struct clb_row, device_bytes),  offsetof(struct clb_row, pct_peak_flops)};

  for (int plot = 0; plot < N_PLOTS; plot++) {
    char name[512], title[1024];
    snprintf(name, sizeof name, "%s_%s", names[plot], suffix);
    snprintf(title, sizeof title, "%s, %s%s: %s", g->model, g->precision, g->shape, what[plot]);
    if (!group_has(m, list, g, needs[plot])) {
      p->summary->plots_skipped++;
      note(p->opt, "plot %s skipped: no ok rows with a value in %s", name, columns[plot]);
      continue;
    }
    sb_free(&gp);
    sb_free(&command);
    size_t widest = 0;
    size_t entries = gp_plot_command(&command, plot, m, list, g, &widest);
    gp_preamble(&gp, title);
    int height = gp_key_below(&gp, entries, widest);
    gp_batch_axis(&gp);
    switch (plot) {
    case THROUGHPUT:
      sb_puts(&gp, "set logscale y\nset format y '%.0s %c'\n"
                   "set ylabel 'throughput (samples/s)'\n");
      break;
    case STEP:
    case EPOCH:
      /* Explicit labels: gnuplot's %c prefix writes "u" for micro. */
      sb_puts(&gp, "set logscale y\nset ytics ('1 \xC2\xB5s' 1e-6, '10 \xC2\xB5s' 1e-5, "
                   "'100 \xC2\xB5s' 1e-4, '1 ms' 1e-3, '10 ms' 1e-2, '100 ms' 0.1, '1 s' 1, "
                   "'10 s' 10, '100 s' 100, '1000 s' 1000, '10000 s' 1e4)\n");
      sb_puts(&gp, plot == STEP ? "set ylabel 'time per step (solid: device, dashed: wall)'\n"
                                : "set ylabel 'time per epoch = ceil(N/B) x median step'\n");
      break;
    case VARIANCE:
      sb_puts(&gp, "set logscale y\nset format y '%g'\n"
                   "set ylabel 'E|g_B - G|^2 (points: measured with 95% CI, lines: predicted)'\n");
      break;
    case MEMORY:
      sb_puts(&gp, "set logscale y\nset format y '%.0s %cB'\n"
                   "set ylabel 'device memory (dotted: the device global memory)'\n");
      break;
    case PEAK:
      sb_puts(&gp, "set yrange [0:*]\nset format y '%g %%'\n"
                   "set ylabel '% of measured peak (solid: FLOP/s, dashed: bandwidth)'\n");
      break;
    }
    sb_append(&gp, command.text ? command.text : "", command.len);
    CLB_TRY(run_gnuplot(p, name, title, &gp, height, err));
  }
cleanup:
  sb_free(&command);
  sb_free(&gp);
  return rc;
}

static int plot_results(struct plotter *p, const struct merged *m, const struct series *list,
                        size_t n, struct clb_error *err) {
  struct group g = {0};
  int *done = calloc(n ? n : 1, sizeof *done);
  int rc = CLB_OK;
  g.members = calloc(n ? n : 1, sizeof *g.members);
  g.dat = calloc(n ? n : 1, sizeof *g.dat);
  g.knee = calloc(n ? n : 1, sizeof *g.knee);
  if (!done || !g.members || !g.dat || !g.knee) {
    rc = clb_failf(err, CLB_E_NOMEM, "out of memory");
    goto cleanup;
  }
  for (size_t i = 0; i < n; i++) {
    if (done[i])
      continue;
    const struct clb_row *ri = &m->rows[list[i].first];
    g.model = ri->model;
    g.precision = ri->precision;
    g.n = 0;
    for (size_t j = i; j < n; j++) {
      const struct clb_row *rj = &m->rows[list[j].first];
      if (done[j] || strcmp(rj->model, g.model) || strcmp(rj->precision, g.precision))
        continue;
      done[j] = 1;
      char safe_model[64], safe_precision[64];
      safe_name(safe_model, sizeof safe_model, g.model);
      safe_name(safe_precision, sizeof safe_precision, g.precision);
      snprintf(g.dat[g.n], sizeof g.dat[g.n], "%.3900s/%s_%s_s%zu.dat", p->data_dir, safe_model,
               safe_precision, j);
      snprintf(g.knee[g.n], sizeof g.knee[g.n], "%.3900s/%s_%s_s%zu_knee.dat", p->data_dir,
               safe_model, safe_precision, j);
      g.members[g.n++] = j;
    }
    describe_shape(m, list, &g);
    CLB_TRY(plot_group(p, m, list, &g, err));
  }
cleanup:
  free(g.knee);
  free(g.dat);
  free(g.members);
  free(done);
  return rc;
}

/* ---- training curves (`clbatch train` CSVs) ---------------------------- */

struct train_point {
  char device[CLB_STR_FIELD_SIZE];
  char model[64], precision[32];
  double batch, epoch, loss, wall;
};

/* Splits one CSV line (quotes allowed, no newlines inside fields) in place. */
static size_t split_csv_line(char *line, char **fields, size_t max) {
  size_t n = 0;
  char *r = line, *w = line;
  line[strcspn(line, "\r\n")] = '\0';
  while (n < max) {
    fields[n++] = w;
    int quoted = 0;
    for (;; r++) {
      if (*r == '"') {
        if (quoted && r[1] == '"') {
          *w++ = '"';
          r++;
        } else {
          quoted = !quoted;
        }
      } else if ((*r == ',' && !quoted) || *r == '\0') {
        break;
      } else {
        *w++ = *r;
      }
    }
    int end = *r == '\0';
    *w++ = '\0';
    if (end)
      break;
    r++;
  }
  return n;
}

static int read_train_file(const char *path, struct train_point **points, size_t *count,
                           size_t *cap, struct clb_error *err) {
  static const char *const required[] = {"device", "model", "precision", "batch",
                                         "epoch",  "train_loss", "wall_s"};
  enum { N_REQ = sizeof required / sizeof required[0] };
  FILE *file = fopen(path, "r");
  char *line = NULL;
  size_t line_cap = 0, line_no = 1;
  int rc = CLB_OK;
  int col[N_REQ];
  char *fields[256];
  if (!file)
    return clb_failf(err, CLB_E_IO, "%s: cannot open: %s", path, strerror(errno));
  if (getline(&line, &line_cap, file) < 0) {
    rc = clb_failf(err, CLB_E_PARSE, "%s: empty file (no header line)", path);
    goto cleanup;
  }
  size_t n_header = split_csv_line(line, fields, 256);
  for (size_t k = 0; k < N_REQ; k++) {
    col[k] = -1;
    for (size_t i = 0; i < n_header; i++)
      if (strcmp(fields[i], required[k]) == 0)
        col[k] = (int)i;
    if (col[k] < 0) {
      rc = clb_failf(err, CLB_E_SCHEMA, "%s: not a `clbatch train` CSV: no column '%s'", path,
                     required[k]);
      goto cleanup;
    }
  }
  while (getline(&line, &line_cap, file) >= 0) {
    line_no++;
    if (line[strspn(line, " \r\n")] == '\0')
      continue;
    int complete = strchr(line, '\n') != NULL;
    size_t n = split_csv_line(line, fields, 256);
    if (n != n_header) {
      if (!complete)
        break; /* a truncated last line, as a killed run leaves it */
      rc = clb_failf(err, CLB_E_PARSE, "%s:%zu: %zu fields, the header has %zu", path, line_no,
                     n, n_header);
      goto cleanup;
    }
    if (*count == *cap) {
      size_t grown_cap = *cap ? *cap * 2 : 256;
      struct train_point *grown = realloc(*points, grown_cap * sizeof *grown);
      if (!grown) {
        rc = clb_failf(err, CLB_E_NOMEM, "out of memory");
        goto cleanup;
      }
      *points = grown;
      *cap = grown_cap;
    }
    struct train_point *tp = &(*points)[*count];
    snprintf(tp->device, sizeof tp->device, "%s", fields[col[0]]);
    snprintf(tp->model, sizeof tp->model, "%s", fields[col[1]]);
    snprintf(tp->precision, sizeof tp->precision, "%s", fields[col[2]]);
    double *numbers[4] = {&tp->batch, &tp->epoch, &tp->loss, &tp->wall};
    for (size_t k = 0; k < 4; k++) {
      const char *text = fields[col[3 + k]];
      char *end = NULL;
      *numbers[k] = text[0] ? strtod(text, &end) : NAN;
      if (text[0] && (end == text || *end != '\0')) {
        rc = clb_failf(err, CLB_E_PARSE, "%s:%zu: column %s: not a number: '%.64s'", path,
                       line_no, required[3 + k], text);
        goto cleanup;
      }
    }
    (*count)++;
  }
cleanup:
  free(line);
  fclose(file);
  return rc;
}

static int cmp_train(const void *pa, const void *pb) {
  const struct train_point *a = pa, *b = pb;
  int c;
  if ((c = strcmp(a->model, b->model)) || (c = strcmp(a->precision, b->precision)) ||
      (c = strcmp(a->device, b->device)) || (c = cmp_double(a->batch, b->batch)))
    return c;
  return cmp_double(a->epoch, b->epoch);
}

static int plot_training(struct plotter *p, const struct train_point *pts, size_t n,
                         struct clb_error *err) {
  struct sbuf gp_epoch = {0}, gp_wall = {0}, dat = {0};
  int rc = CLB_OK;
  for (size_t i = 0; i < n;) {
    /* One (model, precision) group: [i, j). */
    size_t j = i;
    while (j < n && !strcmp(pts[j].model, pts[i].model) &&
           !strcmp(pts[j].precision, pts[i].precision))
      j++;
    char safe_model[64], safe_precision[64], suffix[160], title[512];
    safe_name(safe_model, sizeof safe_model, pts[i].model);
    safe_name(safe_precision, sizeof safe_precision, pts[i].precision);
    snprintf(suffix, sizeof suffix, "%s_%s", safe_model, safe_precision);
    sb_free(&gp_epoch);
    sb_free(&gp_wall);
    snprintf(title, sizeof title, "%s, %s: training loss vs epoch", pts[i].model,
             pts[i].precision);
    /* A log axis shows whether the runs meet at the same minimum, which a
     * linear one flattens into zero; it needs every loss positive. */
    int positive = 1;
    for (size_t k = i; k < j; k++)
      positive &= pts[k].loss > 0;
    const char *y_axis = positive ? "set logscale y\nset ylabel 'training loss (log scale)'\n"
                                  : "set ylabel 'training loss'\n";
    gp_preamble(&gp_epoch, title);
    sb_puts(&gp_epoch, "set xlabel 'epoch'\n");
    sb_puts(&gp_epoch, y_axis);
    sb_puts(&gp_epoch, "plot ");
    snprintf(title, sizeof title, "%s, %s: training loss vs wall time", pts[i].model,
             pts[i].precision);
    gp_preamble(&gp_wall, title);
    sb_puts(&gp_wall, "set xlabel 'wall time (s)'\n");
    sb_puts(&gp_wall, y_axis);
    sb_puts(&gp_wall, "plot ");
    size_t series = 0, device_index = 0;
    for (size_t a = i; a < j;) {
      size_t b = a;
      while (b < j && !strcmp(pts[b].device, pts[a].device) && pts[b].batch == pts[a].batch)
        b++;
      if (a > i && strcmp(pts[a].device, pts[a - 1].device))
        device_index++;
      char path[4300], label[600];
      snprintf(path, sizeof path, "%s/train_%s_s%zu.dat", p->data_dir, suffix, series);
      sb_free(&dat);
      sb_puts(&dat, "# epoch train_loss wall_s\n");
      for (size_t k = a; k < b; k++) {
        sb_printf(&dat, "%.9g", pts[k].epoch);
        dat_value(&dat, pts[k].loss, 0);
        dat_value(&dat, pts[k].wall, 0);
        sb_puts(&dat, "\n");
      }
      CLB_TRY(write_atomic(path, &dat, err));
      snprintf(label, sizeof label, "B=%.0f (%s)", pts[a].batch, pts[a].device);
      char style[64];
      /* Colour tells batch sizes apart, the dash pattern devices. */
      snprintf(style, sizeof style, "with lines lw 2 dt %zu", device_index % 5 + 1);
      const char *color = PALETTE[series % PALETTE_SIZE];
      if (series) {
        sb_puts(&gp_epoch, ", \\\n     ");
        sb_puts(&gp_wall, ", \\\n     ");
      }
      gp_series_line(&gp_epoch, path, 1, 2, color, style, label);
      gp_series_line(&gp_wall, path, 3, 2, color, style, label);
      series++;
      a = b;
    }
    sb_puts(&gp_epoch, "\n");
    sb_puts(&gp_wall, "\n");
    char name[256];
    snprintf(name, sizeof name, "train_loss_epoch_%s", suffix);
    snprintf(title, sizeof title, "%s, %s: training loss vs epoch", pts[i].model,
             pts[i].precision);
    CLB_TRY(run_gnuplot(p, name, title, &gp_epoch, PLOT_HEIGHT, err));
    snprintf(name, sizeof name, "train_loss_wall_%s", suffix);
    snprintf(title, sizeof title, "%s, %s: training loss vs wall time", pts[i].model,
             pts[i].precision);
    CLB_TRY(run_gnuplot(p, name, title, &gp_wall, PLOT_HEIGHT, err));
    i = j;
  }
cleanup:
  sb_free(&dat);
  sb_free(&gp_wall);
  sb_free(&gp_epoch);
  return rc;
}

/* ---- outputs ------------------------------------------------------------- */

static int write_merged_csv(const char *dir, const struct merged *m, struct clb_error *err) {
  char *path = join_path(dir, "merged.csv");
  char tmp[4200];
  FILE *out = NULL;
  int rc = CLB_OK;
  if (!path)
    return clb_failf(err, CLB_E_NOMEM, "out of memory");
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  out = fopen(tmp, "wb");
  if (!out) {
    rc = clb_failf(err, CLB_E_IO, "%s: cannot write: %s", tmp, strerror(errno));
    goto cleanup;
  }
  int bad = clb_results_write_header(out) != CLB_OK;
  for (size_t i = 0; i < m->count && !bad; i++)
    bad = clb_results_write_row(out, &m->rows[i]) != CLB_OK;
  if (fclose(out) != 0 || bad) {
    out = NULL;
    remove(tmp);
    rc = clb_failf(err, CLB_E_IO, "%s: write failed", tmp);
    goto cleanup;
  }
  out = NULL;
  if (rename(tmp, path) != 0)
    rc = clb_failf(err, CLB_E_IO, "%s: cannot rename into place: %s", path, strerror(errno));
cleanup:
  if (out)
    fclose(out);
  free(path);
  return rc;
}

/* The distinct values of one column, comma-separated, in first-seen order. */
static void distinct_values(const struct merged *m, const struct clb_column *col, char *out,
                            size_t size) {
  struct sbuf sb = {0};
  for (size_t i = 0; i < m->count; i++) {
    char value[CLB_STR_FIELD_SIZE];
    const char *base = (const char *)&m->rows[i] + col->offset;
    if (col->kind == CLB_COL_STR)
      snprintf(value, sizeof value, "%s", base);
    else
      fmt_num(value, sizeof value, "%.0f", *(const double *)(const void *)base);
    int seen = 0;
    for (size_t k = 0; k < i && !seen; k++) {
      const char *other = (const char *)&m->rows[k] + col->offset;
      seen = col->kind == CLB_COL_STR
                 ? strcmp(other, base) == 0
                 : cmp_double(*(const double *)(const void *)other,
                              *(const double *)(const void *)base) == 0;
    }
    if (seen)
      continue;
    if (sb.len)
      sb_puts(&sb, ", ");
    sb_puts(&sb, value[0] ? value : DASH);
  }
  snprintf(out, size, "%s", sb.text && !sb.failed ? sb.text : "");
  sb_free(&sb);
}

static const struct clb_column *column_named(const char *name) {
  for (size_t i = 0; i < clb_column_count; i++)
    if (strcmp(clb_columns[i].name, name) == 0)
      return &clb_columns[i];
  return NULL;
}

/* Inlines an SVG file: drops the XML prolog (not allowed inside HTML) and
 * prefixes its ids, because every gnuplot SVG defines the same ids
 * (gnuplot_canvas, gpPt0, ...) and ids must be unique in one page. */
static void sb_inline_svg(struct sbuf *sb, const char *svg_text, size_t index) {
  const char *start = strstr(svg_text, "<svg");
  if (!start)
    return;
  char prefix[32];
  snprintf(prefix, sizeof prefix, "p%zu-", index);
  static const char *const anchors[] = {"id='", "id=\"", "href='#", "href=\"#", "url(#"};
  for (const char *s = start; *s;) {
    int matched = 0;
    for (size_t a = 0; a < sizeof anchors / sizeof anchors[0]; a++) {
      size_t n = strlen(anchors[a]);
      /* Only whole attribute names: " id=" or ":href=" / " href=". */
      if (strncmp(s, anchors[a], n) == 0 &&
          (a == 4 || (s > start && (s[-1] == ' ' || s[-1] == ':' || s[-1] == '\t')))) {
        sb_append(sb, s, n);
        sb_puts(sb, prefix);
        s += n;
        matched = 1;
        break;
      }
    }
    if (!matched)
      sb_append(sb, s++, 1);
  }
}

static const char HTML_STYLE[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2em auto;"
    "max-width:1320px;padding:0 1em;color:#222;line-height:1.45}\n"
    "h1{font-size:1.7em;margin-bottom:0.2em}h2{margin-top:1.8em;border-bottom:1px solid #ddd;"
    "padding-bottom:0.2em}\n"
    "table{border-collapse:collapse;font-size:0.86em;margin:0.6em 0}\n"
    "th,td{border:1px solid #d0d0d0;padding:3px 7px;text-align:left;vertical-align:top}\n"
    "th{background:#f0f3f7}tr:nth-child(even) td{background:#fafafa}\n"
    "td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    ".scroll{overflow-x:auto}\n"
    "figure{margin:1.2em 0}figcaption{color:#555;font-size:0.9em}\n"
    "figure svg{max-width:100%;height:auto;border:1px solid #eee}\n"
    "pre{background:#f6f8fa;padding:0.8em;overflow-x:auto;font-size:0.85em}\n"
    ".note{color:#555}\n";

/* A table built from the data: its escaped title, its note, then the table. */
static void render_html_section(struct sbuf *sb, const struct table *t) {
  sb_puts(sb, "<h2>");
  sb_html_escaped(sb, t->title);
  sb_puts(sb, "</h2>\n");
  if (t->note) {
    sb_puts(sb, "<p class=\"note\">");
    sb_html_escaped(sb, t->note);
    sb_puts(sb, "</p>\n");
  }
  render_html_table(sb, t);
}

static int write_html(const char *dir, const struct clb_report_options *opt, const struct merged *m,
                      const struct table *compare, const struct side_tables *sides,
                      const struct table *config, const struct plotter *p, int plots_missing,
                      struct clb_error *err) {
  struct sbuf h = {0};
  char *path = join_path(dir, "report.html");
  int rc = CLB_OK;
  if (!path)
    return clb_failf(err, CLB_E_NOMEM, "out of memory");
  sb_puts(&h, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
              "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
              "<title>clbatch report</title>\n<style>\n");
  sb_puts(&h, HTML_STYLE);
  sb_puts(&h, "</style>\n</head>\n<body>\n<h1>clbatch report</h1>\n");
  sb_printf(&h, "<p class=\"note\">%zu rows from %zu file(s):", m->count, opt->n_inputs);
  for (size_t f = 0; f < opt->n_inputs; f++) {
    sb_puts(&h, f ? ", <code>" : " <code>");
    sb_html_escaped(&h, opt->inputs[f]);
    sb_puts(&h, "</code>");
  }
  sb_puts(&h, ". Column definitions: <code>results/SCHEMA.md</code>.</p>\n");

  /* Hosts and devices: one line per distinct host + platform + device. */
  sb_puts(&h, "<h2>Hosts and devices</h2>\n<div class=\"scroll\"><table>\n<thead><tr><th>host"
              "</th><th>CPU</th><th>platform</th><th>device</th><th>vendor</th><th>type</th>"
              "<th>driver</th><th>CLBlast</th><th>compute units</th><th>clock (MHz)</th>"
              "<th>global memory</th>"
              "</tr></thead>\n<tbody>\n");
  for (size_t i = 0; i < m->count; i++) {
    const struct clb_row *r = &m->rows[i];
    int seen = 0;
    for (size_t k = 0; k < i && !seen; k++)
      seen = cmp_device(&m->rows[k], r) == 0;
    if (seen)
      continue;
    char units[32], clock[32], memory[64];
    fmt_num(units, sizeof units, "%.0f", r->compute_units);
    /* An empty clock is the driver's "unknown" (Intel's CPU runtime says 0 MHz),
     * which is not the dash of "not measured". */
    if (isfinite(r->clock_mhz) && r->clock_mhz > 0)
      snprintf(clock, sizeof clock, "%.0f", r->clock_mhz);
    else
      snprintf(clock, sizeof clock, "unknown");
    fmt_bytes(memory, sizeof memory, r->global_mem_bytes);
    const char *texts[] = {r->host,   r->cpu,         r->platform, r->device,
                           r->vendor, r->device_type, r->driver,   r->clblast};
    sb_puts(&h, "<tr>");
    for (size_t k = 0; k < sizeof texts / sizeof texts[0]; k++) {
      sb_puts(&h, "<td>");
      sb_html_escaped(&h, texts[k][0] ? texts[k] : DASH);
      sb_puts(&h, "</td>");
    }
    sb_printf(&h, "<td class=\"num\">%s</td><td class=\"num\">%s</td><td class=\"num\">%s</td>"
                  "</tr>\n", units, clock, memory);
  }
  sb_puts(&h, "</tbody></table></div>\n");

  sb_puts(&h, "<h2>Configuration</h2>\n<table>\n<thead><tr><th>column</th><th>values</th></tr>"
              "</thead>\n<tbody>\n");
  static const char *const config_columns[] = {"model",      "precision", "n_samples",
                                               "n_features", "n_hidden",  "n_classes",
                                               "data_on"};
  for (size_t k = 0; k < sizeof config_columns / sizeof config_columns[0]; k++) {
    char values[4096];
    distinct_values(m, column_named(config_columns[k]), values, sizeof values);
    sb_printf(&h, "<tr><td><code>%s</code></td><td>", config_columns[k]);
    sb_html_escaped(&h, values);
    sb_puts(&h, "</td></tr>\n");
  }
  sb_puts(&h, "</tbody></table>\n");
  for (size_t f = 0; f < opt->n_inputs; f++) {
    /* A run's configuration file, when it was saved beside its CSV. */
    const char *input = opt->inputs[f];
    size_t len = strlen(input);
    if (len < 4 || strcmp(input + len - 4, ".csv") != 0)
      continue;
    char config_path[4096];
    snprintf(config_path, sizeof config_path, "%.*s.config", (int)(len - 4), input);
    char *text = read_text_file(config_path);
    if (!text)
      continue;
    sb_puts(&h, "<h3><code>");
    sb_html_escaped(&h, config_path);
    sb_puts(&h, "</code></h3>\n<pre>");
    sb_html_escaped(&h, text);
    sb_puts(&h, "</pre>\n");
    free(text);
  }

  sb_printf(&h, "<h2>%s</h2>\n", compare->title);
  sb_puts(&h, "<p class=\"note\">Recommended B is B* = argmin<sub>B</sub> t<sub>step</sub>(B)"
              " (1 + B<sub>noise</sub>/B) when the noise scale is known, otherwise the "
              "throughput knee (smallest B reaching 90 % of the best samples/s).</p>\n");
  render_html_table(&h, compare);
  for (size_t i = 0; i < sides->n; i++)
    render_html_section(&h, &sides->tables[i]);

  sb_puts(&h, "<h2>Plots</h2>\n");
  if (plots_missing)
    sb_puts(&h, "<p class=\"note\">" CLB_REPORT_NO_GNUPLOT ".</p>\n");
  else if (p->n_svg == 0)
    sb_puts(&h, "<p class=\"note\">No plots: no rows with measurements.</p>\n");
  for (size_t i = 0; i < p->n_svg; i++) {
    char *svg = read_text_file(p->svg_files[i]);
    if (!svg)
      continue;
    sb_puts(&h, "<figure>\n");
    sb_inline_svg(&h, svg, i);
    sb_puts(&h, "\n<figcaption>");
    sb_html_escaped(&h, p->svg_titles[i]);
    const char *base = strrchr(p->svg_files[i], '/');
    sb_puts(&h, " (<code>");
    sb_html_escaped(&h, base ? base + 1 : p->svg_files[i]);
    sb_puts(&h, "</code>)</figcaption>\n</figure>\n");
    free(svg);
  }

  sb_printf(&h, "<h2>%s</h2>\n", config->title);
  render_html_table(&h, config);
  sb_puts(&h, "</body>\n</html>\n");
  rc = write_atomic(path, &h, err);
  free(path);
  sb_free(&h);
  return rc;
}

/* ---- the command's work -------------------------------------------------- */

static int report_run(const struct clb_report_options *opt, struct clb_report_summary *summary,
                      struct clb_error *err) {
  const char *dir = opt->out_dir ? opt->out_dir : "report";
  struct merged m = {0};
  struct series *list = NULL;
  size_t n_series = 0;
  struct train_point *train = NULL;
  size_t n_train = 0, train_cap = 0;
  struct table compare = {.title = "Device comparison",
                          .label = "tab:clbatch-devices",
                          .ncols = 12,
                          .headers = COMPARE_HEADERS,
                          .align = COMPARE_ALIGN};
  struct table config = {.title = "Every configuration",
                         .label = "tab:clbatch-configurations",
                         .ncols = 16,
                         .headers = CONFIG_HEADERS,
                         .align = CONFIG_ALIGN};
  struct side_tables sides = {0};
  struct plotter plotter = {0};
  struct sbuf md = {0}, tex = {0};
  char *path = NULL;
  int rc = CLB_OK;

  if (opt->n_inputs == 0) {
    summary->bad_input = 1;
    return clb_failf(err, CLB_E_INVAL, "no results files given");
  }
  /* Read everything before writing anything: a bad input leaves no output. */
  CLB_TRY(merge_inputs(opt, &m, summary, err));
  for (size_t f = 0; f < opt->n_train; f++) {
    rc = read_train_file(opt->train[f], &train, &n_train, &train_cap, err);
    if (rc != CLB_OK) {
      summary->bad_input = 1;
      goto cleanup;
    }
  }
  if (n_train)
    qsort(train, n_train, sizeof *train, cmp_train);
  CLB_TRY(build_series(&m, &list, &n_series, err));

  CLB_TRY(make_dir(dir, err));
  CLB_TRY(write_merged_csv(dir, &m, err));

  build_compare_table(&m, list, n_series, &compare);
  build_config_table(&m, &config);
  if (compare.failed || config.failed) {
    rc = clb_failf(err, CLB_E_NOMEM, "out of memory building the tables");
    goto cleanup;
  }
  CLB_TRY(build_side_tables(opt, &m, list, n_series, &sides, err));
  sb_puts(&md, "# clbatch report\n\n");
  sb_printf(&md, "%zu rows from %zu file(s). Columns: see results/SCHEMA.md. Recommended B is "
                 "B* (fastest time to a target, from the noise scale) when the noise scale is "
                 "known, otherwise the throughput knee.\n\n",
            m.count, opt->n_inputs);
  render_markdown(&md, &compare);
  for (size_t i = 0; i < sides.n; i++)
    render_markdown(&md, &sides.tables[i]);
  render_markdown(&md, &config);
  path = join_path(dir, "report.md");
  CLB_TRY(path ? write_atomic(path, &md, err) : clb_failf(err, CLB_E_NOMEM, "out of memory"));
  free(path);
  path = NULL;

  sb_puts(&tex, "% clbatch report: booktabs tables. In the preamble: \\usepackage{booktabs}\n\n");
  render_latex(&tex, &compare);
  for (size_t i = 0; i < sides.n; i++)
    render_latex(&tex, &sides.tables[i]);
  render_latex(&tex, &config);
  path = join_path(dir, "report.tex");
  CLB_TRY(path ? write_atomic(path, &tex, err) : clb_failf(err, CLB_E_NOMEM, "out of memory"));
  free(path);
  path = NULL;

  const char *gnuplot = opt->gnuplot ? opt->gnuplot : "gnuplot";
  int plots_missing = !gnuplot_available(gnuplot);
  plotter.opt = opt;
  plotter.dir = dir;
  plotter.summary = summary;
  snprintf(plotter.data_dir, sizeof plotter.data_dir, "%s/data", dir);
  if (plots_missing) {
    summary->gnuplot_missing = 1;
    note(opt, CLB_REPORT_NO_GNUPLOT);
  } else {
    CLB_TRY(make_dir(plotter.data_dir, err));
    pick_png_terminal(gnuplot, plotter.terminal, sizeof plotter.terminal);
    CLB_TRY(plot_results(&plotter, &m, list, n_series, err));
    if (n_train)
      CLB_TRY(plot_training(&plotter, train, n_train, err));
  }
  CLB_TRY(write_html(dir, opt, &m, &compare, &sides, &config, &plotter, plots_missing, err));

cleanup:
  free(path);
  sb_free(&tex);
  sb_free(&md);
  plotter_free(&plotter);
  side_tables_free(&sides);
  table_free(&config);
  table_free(&compare);
  free(train);
  free(list);
  merged_free(&m);
  return rc;
}

int clb_report_run(const struct clb_report_options *options, struct clb_report_summary *summary,
                   struct clb_error *err) {
  struct clb_report_summary local = {0};
  if (!summary)
    summary = &local;
  *summary = (struct clb_report_summary){0};
  /* Numbers in data files, scripts and tables must use '.', whatever the
   * caller's locale: run the whole report under the C numeric locale. */
  locale_t c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
  locale_t previous = c_locale ? uselocale(c_locale) : (locale_t)0;
  int rc = report_run(options, summary, err);
  if (c_locale) {
    uselocale(previous);
    freelocale(c_locale);
  }
  return rc;
}

/* ---- batch-size studies (`clbatch study` CSVs) -------------------------- */

struct study_point {
  double batch, val_loss, sharp_mean, sharp_max, steps, predicted, wall;
};

struct study_series {
  char label[CLB_STR_FIELD_SIZE + 128];
  struct study_point *points;
  size_t count;
};

static double study_number(const char *text) {
  char *end = NULL;
  double v = text[0] ? strtod(text, &end) : NAN;
  return text[0] && end != text && *end == '\0' ? v : NAN;
}

static int read_study_file(const char *path, struct study_series *series, struct clb_error *err) {
  static const char *const required[] = {"device",   "model",          "precision",
                                         "effective_batch", "val_loss", "sharpness_mean",
                                         "sharpness_max",  "steps",    "predicted_steps",
                                         "wall_s"};
  enum { N_REQ = sizeof required / sizeof required[0] };
  FILE *file = fopen(path, "r");
  char *line = NULL, *fields[256];
  size_t line_cap = 0, line_no = 1, cap = 0;
  int col[N_REQ], rc = CLB_OK;
  memset(series, 0, sizeof *series);
  if (!file)
    return clb_failf(err, CLB_E_IO, "%s: cannot open: %s", path, strerror(errno));
  if (getline(&line, &line_cap, file) < 0) {
    rc = clb_failf(err, CLB_E_PARSE, "%s: empty file (no header line)", path);
    goto cleanup;
  }
  size_t n_header = split_csv_line(line, fields, 256);
  for (size_t k = 0; k < N_REQ; k++) {
    col[k] = -1;
    for (size_t i = 0; i < n_header; i++)
      if (strcmp(fields[i], required[k]) == 0)
        col[k] = (int)i;
    if (col[k] < 0) {
      rc = clb_failf(err, CLB_E_SCHEMA, "%s: not a `clbatch study` CSV: no column '%s'", path,
                     required[k]);
      goto cleanup;
    }
  }
  while (getline(&line, &line_cap, file) >= 0) {
    line_no++;
    if (line[strspn(line, " \r\n")] == '\0')
      continue;
    size_t n = split_csv_line(line, fields, 256);
    if (n != n_header) {
      rc = clb_failf(err, CLB_E_PARSE, "%s:%zu: %zu fields, the header has %zu", path, line_no,
                     n, n_header);
      goto cleanup;
    }
    if (series->count == cap) {
      size_t grown_cap = cap ? cap * 2 : 32;
      struct study_point *grown = realloc(series->points, grown_cap * sizeof *grown);
      if (!grown) {
        rc = clb_failf(err, CLB_E_NOMEM, "out of memory");
        goto cleanup;
      }
      series->points = grown;
      cap = grown_cap;
    }
    if (series->count == 0)
      snprintf(series->label, sizeof series->label, "%s %s (%s)", fields[col[1]], fields[col[2]],
               fields[col[0]]);
    struct study_point *pt = &series->points[series->count++];
    pt->batch = study_number(fields[col[3]]);
    if (!(pt->batch > 0)) {
      rc = clb_failf(err, CLB_E_PARSE, "%s:%zu: column effective_batch: not a batch size: '%.64s'",
                     path, line_no, fields[col[3]]);
      goto cleanup;
    }
    pt->val_loss = study_number(fields[col[4]]);
    pt->sharp_mean = study_number(fields[col[5]]);
    pt->sharp_max = study_number(fields[col[6]]);
    pt->steps = study_number(fields[col[7]]);
    pt->predicted = study_number(fields[col[8]]);
    pt->wall = study_number(fields[col[9]]);
  }
  if (series->count == 0)
    rc = clb_failf(err, CLB_E_PARSE, "%s: no rows", path);
cleanup:
  free(line);
  fclose(file);
  if (rc != CLB_OK) {
    free(series->points);
    series->points = NULL;
  }
  return rc;
}

static int plot_study(struct plotter *p, const struct study_series *list, size_t n,
                      struct clb_error *err) {
  struct sbuf gp_val = {0}, gp_sharp = {0}, gp_time = {0}, dat = {0};
  int rc = CLB_OK;
  gp_preamble(&gp_val, "validation loss vs batch size");
  gp_batch_axis(&gp_val);
  sb_puts(&gp_val, "set ylabel 'validation loss (where training stopped)'\nplot ");
  gp_preamble(&gp_sharp, "sharpness vs batch size");
  gp_batch_axis(&gp_sharp);
  sb_puts(&gp_sharp, "set ylabel 'loss increase under perturbation'\nplot ");
  gp_preamble(&gp_time, "updates to the target loss vs batch size");
  gp_batch_axis(&gp_time);
  sb_puts(&gp_time, "set logscale y\nset ylabel 'updates to the target'\nplot ");
  for (size_t s = 0; s < n; s++) {
    char path[4300], label[CLB_STR_FIELD_SIZE + 200];
    snprintf(path, sizeof path, "%s/study_s%zu.dat", p->data_dir, s);
    sb_free(&dat);
    sb_puts(&dat, "# batch val_loss sharpness_mean sharpness_max steps predicted wall_s\n");
    for (size_t k = 0; k < list[s].count; k++) {
      const struct study_point *pt = &list[s].points[k];
      sb_printf(&dat, "%.9g", pt->batch);
      dat_value(&dat, pt->val_loss, 0);
      dat_value(&dat, pt->sharp_mean, 0);
      dat_value(&dat, pt->sharp_max, 0);
      dat_value(&dat, pt->steps, 1);
      dat_value(&dat, pt->predicted, 1);
      dat_value(&dat, pt->wall, 0);
      sb_puts(&dat, "\n");
    }
    CLB_TRY(write_atomic(path, &dat, err));
    const char *color = PALETTE[s % PALETTE_SIZE];
    if (s) {
      sb_puts(&gp_val, ", \\\n     ");
      sb_puts(&gp_sharp, ", \\\n     ");
      sb_puts(&gp_time, ", \\\n     ");
    }
    gp_series_line(&gp_val, path, 1, 2, color, "with linespoints lw 2 pt 7", list[s].label);
    snprintf(label, sizeof label, "%s: mean", list[s].label);
    gp_series_line(&gp_sharp, path, 1, 3, color, "with linespoints lw 2 pt 7", label);
    sb_puts(&gp_sharp, ", \\\n     ");
    snprintf(label, sizeof label, "%s: max", list[s].label);
    gp_series_line(&gp_sharp, path, 1, 4, color, "with linespoints lw 1 dt 2 pt 6", label);
    snprintf(label, sizeof label, "%s: measured", list[s].label);
    gp_series_line(&gp_time, path, 1, 5, color, "with points pt 7 ps 1.3", label);
    sb_puts(&gp_time, ", \\\n     ");
    snprintf(label, sizeof label, "%s: S_min (1 + B_noise/B)", list[s].label);
    gp_series_line(&gp_time, path, 1, 6, color, "with lines lw 2", label);
  }
  sb_puts(&gp_val, "\n");
  sb_puts(&gp_sharp, "\n");
  sb_puts(&gp_time, "\n");
  CLB_TRY(
      run_gnuplot(p, "study_val_loss", "validation loss vs batch size", &gp_val, PLOT_HEIGHT, err));
  CLB_TRY(
      run_gnuplot(p, "study_sharpness", "sharpness vs batch size", &gp_sharp, PLOT_HEIGHT, err));
  CLB_TRY(run_gnuplot(p, "study_time_to_target", "updates to the target loss vs batch size",
                      &gp_time, PLOT_HEIGHT, err));
cleanup:
  sb_free(&dat);
  sb_free(&gp_time);
  sb_free(&gp_sharp);
  sb_free(&gp_val);
  return rc;
}

int clb_report_study(const char *const *files, size_t n_files, const char *out_dir,
                     const char *gnuplot, clb_report_note_fn note_fn, void *note_context,
                     struct clb_report_summary *summary, struct clb_error *err) {
  struct clb_report_summary local = {0};
  struct clb_report_options opt = {0};
  struct plotter plotter = {0};
  struct study_series *list = calloc(n_files ? n_files : 1, sizeof *list);
  int rc = CLB_OK;
  if (!summary)
    summary = &local;
  if (!list)
    return clb_failf(err, CLB_E_NOMEM, "out of memory");
  opt.out_dir = out_dir ? out_dir : "report";
  opt.gnuplot = gnuplot ? gnuplot : "gnuplot";
  opt.note = note_fn;
  opt.note_context = note_context;
  locale_t c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
  locale_t previous = c_locale ? uselocale(c_locale) : (locale_t)0;
  /* Read everything before writing anything: a bad input leaves no output. */
  for (size_t f = 0; f < n_files; f++) {
    rc = read_study_file(files[f], &list[f], err);
    if (rc != CLB_OK) {
      summary->bad_input = 1;
      goto cleanup;
    }
  }
  plotter.opt = &opt;
  plotter.dir = opt.out_dir;
  plotter.summary = summary;
  snprintf(plotter.data_dir, sizeof plotter.data_dir, "%s/data", opt.out_dir);
  if (!gnuplot_available(opt.gnuplot)) {
    summary->gnuplot_missing = 1;
    note(&opt, CLB_REPORT_NO_GNUPLOT);
    goto cleanup;
  }
  CLB_TRY(make_dir(opt.out_dir, err));
  CLB_TRY(make_dir(plotter.data_dir, err));
  pick_png_terminal(opt.gnuplot, plotter.terminal, sizeof plotter.terminal);
  CLB_TRY(plot_study(&plotter, list, n_files, err));
cleanup:
  if (c_locale) {
    uselocale(previous);
    freelocale(c_locale);
  }
  plotter_free(&plotter);
  for (size_t f = 0; f < n_files; f++)
    free(list[f].points);
  free(list);
  return rc;
}
