/* Reading and merging results CSVs, and the series of the merged rows.
 *
 * Data flow: read every input (clb_results_read) -> resolve each
 * configuration's rows (the highest repeat, then the newest timestamp, goes
 * to the tables; every row stays in merged.all for the agreement section)
 * -> sort into series (one per host, platform, device,
 * model, precision, data placement; rows ordered by batch), each with its
 * recommendation (measure/recommend.h) and median noise scale. */
#include "report/merge.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "results/advise.h"
#include "results/passes.h"
#include "util/files.h"

struct entry {
  struct clb_row *row;
  size_t file;  /* index into the input list */
  size_t index; /* 1-based data row within its file */
  size_t seq;   /* read order, the last tie-breaker */
};

int clb_report_cmp_double(double a, double b) {
  if (isnan(a) || isnan(b))
    return isnan(a) - isnan(b);
  return (a > b) - (a < b);
}

/* Same host, platform and device: one physical device as one vendor's driver
 * sees it. The platform belongs to the identity because two vendors can report
 * the same device name (PoCL-CUDA and NVIDIA's OpenCL both say "NVIDIA H100
 * 80GB HBM3"), and their rows are different measurements, not duplicates. */
int clb_report_cmp_device(const struct clb_row *a, const struct clb_row *b) {
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
  if ((c = clb_report_cmp_device(a, b)) != 0)
    return c;
  if ((c = strcmp(a->model, b->model)) != 0)
    return c;
  if ((c = strcmp(a->precision, b->precision)) != 0)
    return c;
  return strcmp(a->data_on, b->data_on);
}

int clb_report_cmp_config(const struct clb_row *a, const struct clb_row *b) {
  int c = cmp_series(a, b);
  return c ? c : clb_report_cmp_double(a->batch, b->batch);
}

double clb_report_repeat_of(const struct clb_row *row) {
  /* Rows written before repeats existed, or by hand, have none: they were
   * the only run, the first. */
  return isfinite(row->repeat) ? row->repeat : 1;
}

/* Configuration order, then the highest repeat first, then the newest
 * timestamp (ISO 8601 compares as text), then the row read last, so the first
 * row of each configuration is the one the tables show, and the first row of
 * each (configuration, repeat) the one that wins a duplicate. */
static int cmp_entry_kept_first(const void *pa, const void *pb) {
  const struct entry *a = pa, *b = pb;
  int c = clb_report_cmp_config(a->row, b->row);
  if (c)
    return c;
  if ((c = clb_report_cmp_double(clb_report_repeat_of(b->row), clb_report_repeat_of(a->row))) != 0)
    return c;
  if ((c = strcmp(b->row->timestamp, a->row->timestamp)) != 0)
    return c;
  return (a->seq < b->seq) - (a->seq > b->seq);
}

void clb_report_merged_destroy(struct clb_report_merged *m) {
  if (!m)
    return;
  free(m->all);
  free(m->rows);
  free(m->file_start);
  free(m->row_file);
  free(m->file_skipped);
  *m = (struct clb_report_merged){0};
}

/* The files beside a run's results that a glob of a results folder (*.csv)
 * hands to report too: not results, skipped with one note per kind. */
struct skipped_kind {
  const char *what; /* "FILE: WHAT" for one file */
  const char *kind; /* "N KIND (e.g. FILE)" for several */
  size_t count;
  const char *first;
};

static void note_skipped(const struct clb_report_notes *notes, const struct skipped_kind *k) {
  if (k->count == 1)
    clb_report_note(notes, "skipped %s: %s", k->first, k->what);
  else if (k->count > 1)
    clb_report_note(notes, "skipped %zu %s (e.g. %s)", k->count, k->kind, k->first);
}

/* Reads every input into m->all; file_start[f] is the first row of input f
 * and file_start[n_inputs] the end. */
static int read_inputs(const char *const *inputs, size_t n_inputs,
                       const struct clb_report_notes *notes, struct clb_report_merged *m,
                       size_t *file_start, struct clb_report_summary *summary,
                       struct clb_error *err) {
  struct skipped_kind advice = {
      "the recommendations `clbatch run` writes beside its results, not results",
      "recommendation files, which `clbatch run` writes beside its results,", 0, NULL};
  struct skipped_kind passes = {
      "the rows of each pass of `clbatch run --passes`, which the results beside it combine",
      "passes files, the rows of each pass of `clbatch run --passes` that the results "
      "beside them combine,",
      0, NULL};
  for (size_t f = 0; f < n_inputs; f++) {
    char warning[1024];
    file_start[f] = m->n_all;
    m->file_skipped[f] = 1; /* until its rows are read */
    struct skipped_kind *skip = clb_advise_is_csv(inputs[f])    ? &advice
                                : clb_passes_is_path(inputs[f]) ? &passes
                                                                : NULL;
    if (skip) {
      if (skip->count++ == 0)
        skip->first = inputs[f];
      continue;
    }
    int rc = clb_results_read(inputs[f], &m->all, &m->n_all, warning, sizeof warning, err);
    if (rc != CLB_OK) {
      summary->bad_input = 1;
      return rc;
    }
    m->file_skipped[f] = 0;
    if (warning[0])
      clb_report_note(notes, "warning: %s", warning);
  }
  file_start[n_inputs] = m->n_all;
  note_skipped(notes, &advice);
  note_skipped(notes, &passes);
  m->n_skipped = summary->inputs_skipped = advice.count + passes.count;
  if (n_inputs > 0 && m->n_skipped == n_inputs) {
    summary->bad_input = 1;
    return clb_failf(err, CLB_E_PARSE,
                     "none of the %zu input(s) holds results: all are recommendation "
                     "(FILE.recommend.csv) or passes (FILE.passes.csv) files; give the results "
                     "CSVs beside them",
                     n_inputs);
  }
  return CLB_OK;
}

/* "(TIMESTAMP)", with ", repeat R" past the first: a note must tell the
 * repeats of one run apart. */
static void describe_entry(char *buf, size_t size, const struct entry *e) {
  double repeat = clb_report_repeat_of(e->row);
  if (repeat != 1)
    snprintf(buf, size, "(%s, repeat %.0f)", e->row->timestamp, repeat);
  else
    snprintf(buf, size, "(%s)", e->row->timestamp);
}

/* "FILE row N (TIMESTAMP[, repeat R])" of an entry. */
static void describe_row(char *buf, size_t size, const char *const *inputs, const struct entry *e) {
  char when[CLB_STR_FIELD_SIZE + 48];
  describe_entry(when, sizeof when, e);
  snprintf(buf, size, "%s row %zu %s", inputs[e->file], e->index, when);
}

#define CONFIG_FORMAT                                                                              \
  "host=%s platform='%s' device='%s' model=%s precision=%s batch=%.0f data_on=%s"
#define CONFIG_ARGS(r) r->host, r->platform, r->device, r->model, r->precision, r->batch, r->data_on

/* Same configuration and repeat: the newest wins, as before repeats existed.
 * When a higher repeat is what the tables show, the note says so, or "kept"
 * would suggest the winner is in them. */
static void note_duplicate(const struct clb_report_notes *notes, const char *const *inputs,
                           const struct entry *shown, const struct entry *kept,
                           const struct entry *dropped) {
  const struct clb_row *r = dropped->row;
  char kept_text[4400], dropped_text[4400], shown_text[4400];
  describe_row(kept_text, sizeof kept_text, inputs, kept);
  describe_row(dropped_text, sizeof dropped_text, inputs, dropped);
  describe_row(shown_text, sizeof shown_text, inputs, shown);
  clb_report_note(notes, "duplicate " CONFIG_FORMAT ": kept %s, dropped %s%s%s", CONFIG_ARGS(r),
                  kept_text, dropped_text, shown == kept ? "" : "; the tables show ",
                  shown == kept ? "" : shown_text);
}

/* One duplicate found while resolving, noted once all are known: a whole
 * file measured again gives one note, not one per configuration. */
struct duplicate {
  const struct entry *shown, *kept, *dropped;
};

struct duplicates {
  struct duplicate *items;
  size_t count;
};

/* Up to this many duplicates between two files are noted one by one. */
enum { DUPLICATES_NOTED_EACH = 3 };

static int same_files(const struct duplicate *a, const struct duplicate *b) {
  return a->kept->file == b->kept->file && a->dropped->file == b->dropped->file;
}

/* "FILE has N configurations that FILE has too (e.g. ...): kept ..." */
static void note_duplicate_files(const struct clb_report_notes *notes, const char *const *inputs,
                                 const struct duplicate *first, size_t count) {
  const struct clb_row *r = first->dropped->row;
  char kept_when[CLB_STR_FIELD_SIZE + 48], dropped_when[CLB_STR_FIELD_SIZE + 48];
  describe_entry(kept_when, sizeof kept_when, first->kept);
  describe_entry(dropped_when, sizeof dropped_when, first->dropped);
  clb_report_note(notes,
                  "duplicates: %zu configurations of %s %s are also in %s %s (the first: "
                  "model=%s precision=%s batch=%.0f on %s): kept %s's rows, the newer, for the "
                  "tables; the agreement section compares both",
                  count, inputs[first->dropped->file], dropped_when, inputs[first->kept->file],
                  kept_when, r->model, r->precision, r->batch, r->device,
                  inputs[first->kept->file]);
}

static void note_duplicates(const struct clb_report_notes *notes, const char *const *inputs,
                            const struct duplicates *d) {
  for (size_t i = 0; i < d->count; i++) {
    size_t count = 0, first = i;
    for (size_t j = 0; j < d->count; j++)
      if (same_files(&d->items[i], &d->items[j])) {
        count++;
        if (j < first)
          first = j;
      }
    if (count <= DUPLICATES_NOTED_EACH)
      note_duplicate(notes, inputs, d->items[i].shown, d->items[i].kept, d->items[i].dropped);
    else if (first == i)
      note_duplicate_files(notes, inputs, &d->items[i], count);
  }
}

/* A lone row of one input that another input's higher repeat outranks: not
 * a duplicate (another repeat), but out of the tables all the same. */
static void note_outranked(const struct clb_report_notes *notes, const char *const *inputs,
                           const struct entry *shown, const struct entry *hidden) {
  const struct clb_row *r = hidden->row;
  char shown_text[4400], hidden_text[4400];
  describe_row(shown_text, sizeof shown_text, inputs, shown);
  describe_row(hidden_text, sizeof hidden_text, inputs, hidden);
  clb_report_note(notes,
                  "earlier repeat " CONFIG_FORMAT ": the tables show %s, not %s; the agreement "
                  "section shows both",
                  CONFIG_ARGS(r), shown_text, hidden_text);
}

/* Whether e's own input measured e's configuration in another repeat too:
 * then e is one of that run's repeats, not a stray duplicate. g[0..n) is
 * the configuration's group. */
static int file_repeats_config(const struct entry *g, size_t n, const struct entry *e) {
  for (size_t k = 0; k < n; k++)
    if (g[k].file == e->file && clb_report_repeat_of(g[k].row) != clb_report_repeat_of(e->row))
      return 1;
  return 0;
}

/* Resolves one configuration's rows g[0..n), sorted kept-first: g[0] goes
 * to the tables. Another row of the same repeat is a duplicate (the newest
 * wins, as before repeats existed; noted by note_duplicates). The best row of an
 * earlier repeat is a repeat: silent when its input holds other repeats of
 * the configuration (note_repeats sums those up per input), noted when it
 * is the only row of its input, which would otherwise vanish unexplained. */
static void resolve_config(const struct entry *g, size_t n, const char *const *inputs,
                           const struct clb_report_notes *notes, struct clb_report_merged *m,
                           struct duplicates *duplicates, struct clb_report_summary *summary) {
  m->row_file[m->count] = g[0].file;
  m->rows[m->count++] = *g[0].row;
  for (size_t k = 1; k < n; k++) {
    const struct entry *e = &g[k];
    const struct entry *winner = NULL; /* the first row of e's repeat */
    for (size_t j = 0; j < k && !winner; j++)
      if (clb_report_repeat_of(g[j].row) == clb_report_repeat_of(e->row))
        winner = &g[j];
    if (winner) {
      summary->duplicates++;
      duplicates->items[duplicates->count++] = (struct duplicate){&g[0], winner, e};
      continue;
    }
    summary->repeats++;
    if (!file_repeats_config(g, n, e))
      note_outranked(notes, inputs, &g[0], e);
  }
}

/* One note per input that holds repeats: how many repeats of how many
 * configurations, from the sorted entries. */
static void note_repeats(const struct entry *entries, size_t n_entries, const char *input,
                         size_t file, const struct clb_report_notes *notes) {
  size_t configs = 0, fewest = 0, most = 0;
  const struct entry *config = NULL;
  size_t repeats = 0;
  double last_repeat = NAN;
  for (size_t i = 0; i <= n_entries; i++) {
    const struct entry *e = i < n_entries ? &entries[i] : NULL;
    if (e && e->file != file)
      continue;
    if (config && (!e || clb_report_cmp_config(config->row, e->row) != 0)) {
      configs++;
      if (configs == 1 || repeats < fewest)
        fewest = repeats;
      if (repeats > most)
        most = repeats;
      config = NULL;
    }
    if (!e)
      break;
    if (!config) {
      config = e;
      repeats = 0;
      last_repeat = NAN;
    }
    /* Sorted by repeat within a configuration: count each repeat once. */
    if (clb_report_repeat_of(e->row) != last_repeat)
      repeats++;
    last_repeat = clb_report_repeat_of(e->row);
  }
  if (most < 2)
    return;
  if (fewest == most)
    clb_report_note(notes,
                    "%s: %zu repeats of %zu configurations; the tables show the last repeat, "
                    "the agreement section all of them",
                    input, most, configs);
  else
    clb_report_note(notes,
                    "%s: %zu to %zu repeats of %zu configurations; the tables show the last "
                    "repeat, the agreement section all of them",
                    input, fewest, most, configs);
}

int clb_report_merge(const char *const *inputs, size_t n_inputs,
                     const struct clb_report_notes *notes, struct clb_report_merged *m,
                     struct clb_report_summary *summary, struct clb_error *err) {
  size_t *file_start = NULL;
  struct entry *entries = NULL;
  struct duplicates duplicates = {0};
  int rc = CLB_OK;
  m->inputs = inputs;
  m->n_inputs = n_inputs;
  file_start = m->file_start = calloc(n_inputs + 1, sizeof *file_start);
  m->file_skipped = calloc(n_inputs + 1, sizeof *m->file_skipped);
  if (!file_start || !m->file_skipped) {
    rc = clb_failf(err, CLB_E_NOMEM, "out of memory");
    goto cleanup;
  }
  CLB_TRY(read_inputs(inputs, n_inputs, notes, m, file_start, summary, err));
  summary->rows_read = m->n_all;

  entries = calloc(m->n_all ? m->n_all : 1, sizeof *entries);
  m->rows = calloc(m->n_all ? m->n_all : 1, sizeof *m->rows);
  m->row_file = calloc(m->n_all ? m->n_all : 1, sizeof *m->row_file);
  duplicates.items = calloc(m->n_all ? m->n_all : 1, sizeof *duplicates.items);
  if (!entries || !m->rows || !m->row_file || !duplicates.items) {
    rc = clb_failf(err, CLB_E_NOMEM, "out of memory");
    goto cleanup;
  }
  for (size_t f = 0; f < n_inputs; f++)
    for (size_t i = file_start[f]; i < file_start[f + 1]; i++)
      entries[i] = (struct entry){&m->all[i], f, i - file_start[f] + 1, i};
  qsort(entries, m->n_all, sizeof *entries, cmp_entry_kept_first);

  for (size_t f = 0; f < n_inputs; f++)
    note_repeats(entries, m->n_all, inputs[f], f, notes);
  for (size_t a = 0; a < m->n_all;) {
    size_t b = a + 1;
    while (b < m->n_all && clb_report_cmp_config(entries[a].row, entries[b].row) == 0)
      b++;
    resolve_config(&entries[a], b - a, inputs, notes, m, &duplicates, summary);
    a = b;
  }
  note_duplicates(notes, inputs, &duplicates);
  summary->rows_merged = m->count;

cleanup:
  free(duplicates.items);
  free(entries);
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
void clb_report_device_cell(char *dst, size_t size, const struct clb_row *r) {
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

int clb_report_row_ok(const struct clb_row *row) {
  return strcmp(row->status, "ok") == 0;
}

static int cmp_double_qsort(const void *pa, const void *pb) {
  return clb_report_cmp_double(*(const double *)pa, *(const double *)pb);
}

int clb_report_series_build(const struct clb_report_merged *m, struct clb_report_series **out,
                            size_t *n_out, struct clb_error *err) {
  struct clb_report_series *list = NULL;
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
    struct clb_report_series *s = &list[n];
    s->first = i;
    s->count = j - i;
    /* Same host, platform and device as an earlier series: same colour. */
    s->device_id = devices;
    for (size_t k = 0; k < n; k++) {
      if (clb_report_cmp_device(&m->rows[list[k].first], &m->rows[i]) == 0) {
        s->device_id = list[k].device_id;
        break;
      }
    }
    if (s->device_id == devices)
      devices++;
    size_t n_scales = 0;
    for (size_t k = 0; k < s->count; k++) {
      const struct clb_row *row = &m->rows[i + k];
      points[k] =
          (struct clb_batch_point){(size_t)(row->batch > 0 ? row->batch : 0), row->step_s_median,
                                   row->samples_per_s, clb_report_row_ok(row)};
      if (clb_report_row_ok(row) && isfinite(row->noise_scale) && row->noise_scale > 0)
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

const struct clb_row *clb_report_row_at_batch(const struct clb_report_merged *m,
                                              const struct clb_report_series *s, size_t batch) {
  for (size_t k = 0; k < s->count; k++) {
    const struct clb_row *row = &m->rows[s->first + k];
    if (clb_report_row_ok(row) && row->batch == (double)batch)
      return row;
  }
  return NULL;
}

/* Why a series has no recommendation when none of its rows is ok: the shared
 * status and the first row's message ("skipped: DEVICE lacks cl_khr_fp16"),
 * so an unsupported precision reads as such rather than as a row of dashes.
 * Returns 0 when some row is ok. */
int clb_report_explain_no_ok_rows(const struct clb_report_merged *m,
                                  const struct clb_report_series *s, char *buf, size_t size) {
  const struct clb_row *r0 = &m->rows[s->first];
  int same_status = 1;
  for (size_t k = 0; k < s->count; k++) {
    const struct clb_row *r = &m->rows[s->first + k];
    if (clb_report_row_ok(r))
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

int clb_report_merged_write_csv(const struct clb_report_merged *m, const char *path,
                                struct clb_error *err) {
  struct clb_atomic_file out;
  int rc = clb_atomic_open(&out, path, err);
  if (rc != CLB_OK)
    return rc;
  int bad = clb_results_write_header(out.file, err) != CLB_OK;
  for (size_t i = 0; i < m->count && !bad; i++)
    bad = clb_results_write_row(out.file, &m->rows[i], err) != CLB_OK;
  if (bad) {
    char why[sizeof err->message];
    snprintf(why, sizeof why, "%s", err->message);
    clb_atomic_abandon(&out);
    return clb_failf(err, CLB_E_IO, "%s: %s", path, why);
  }
  return clb_atomic_commit(&out, err);
}
