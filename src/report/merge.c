/* Reading and merging results CSVs, and the series of the merged rows.
 *
 * Data flow: read every input (clb_results_read) -> resolve duplicate keys
 * (newest timestamp wins) -> sort into series (one per host, platform, device,
 * model, precision, data placement; rows ordered by batch), each with its
 * recommendation (measure/recommend.h) and median noise scale. */
#include "report/merge.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

static int cmp_key(const struct clb_row *a, const struct clb_row *b) {
  int c = cmp_series(a, b);
  return c ? c : clb_report_cmp_double(a->batch, b->batch);
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

void clb_report_merged_destroy(struct clb_report_merged *m) {
  if (!m)
    return;
  free(m->all);
  free(m->rows);
  *m = (struct clb_report_merged){0};
}

int clb_report_merge(const char *const *inputs, size_t n_inputs,
                     const struct clb_report_notes *notes, struct clb_report_merged *m,
                     struct clb_report_summary *summary, struct clb_error *err) {
  size_t *file_start = NULL;
  struct entry *entries = NULL;
  int rc = CLB_OK;
  file_start = calloc(n_inputs + 1, sizeof *file_start);
  if (!file_start) {
    rc = clb_failf(err, CLB_E_NOMEM, "out of memory");
    goto cleanup;
  }
  for (size_t f = 0; f < n_inputs; f++) {
    char warning[1024];
    file_start[f] = m->n_all;
    rc = clb_results_read(inputs[f], &m->all, &m->n_all, warning, sizeof warning, err);
    if (rc != CLB_OK) {
      summary->bad_input = 1;
      goto cleanup;
    }
    if (warning[0])
      clb_report_note(notes, "warning: %s", warning);
  }
  file_start[n_inputs] = m->n_all;
  summary->rows_read = m->n_all;

  entries = calloc(m->n_all ? m->n_all : 1, sizeof *entries);
  m->rows = calloc(m->n_all ? m->n_all : 1, sizeof *m->rows);
  if (!entries || !m->rows) {
    rc = clb_failf(err, CLB_E_NOMEM, "out of memory");
    goto cleanup;
  }
  for (size_t f = 0; f < n_inputs; f++)
    for (size_t i = file_start[f]; i < file_start[f + 1]; i++)
      entries[i] = (struct entry){&m->all[i], f, i - file_start[f] + 1, i};
  qsort(entries, m->n_all, sizeof *entries, cmp_entry_newest_first);

  const struct entry *kept = NULL;
  for (size_t i = 0; i < m->n_all; i++) {
    const struct entry *e = &entries[i];
    if (kept && cmp_key(kept->row, e->row) == 0) {
      summary->duplicates++;
      clb_report_note(
          notes,
          "duplicate host=%s platform='%s' device='%s' model=%s precision=%s batch=%.0f "
          "data_on=%s: kept %s row %zu (%s), dropped %s row %zu (%s)",
          e->row->host, e->row->platform, e->row->device, e->row->model, e->row->precision,
          e->row->batch, e->row->data_on, inputs[kept->file], kept->index, kept->row->timestamp,
          inputs[e->file], e->index, e->row->timestamp);
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
