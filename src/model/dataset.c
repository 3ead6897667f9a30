/* Host data sets: synthetic ones from a seed, or a user's CSV file.
 *
 * Everything here is deterministic from a seed and independent of the C
 * library's rand() and of the process locale, so a run on one host can be
 * repeated bit for bit on another. */
#include "model/dataset.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/csv.h"
#include "util/grow.h"
#include "util/rng.h"
#include "util/text.h"

/* ------------------------------------------------------------ synthetic -- */

/* a * b without overflow, also counting the bytes of `elem` each. */
static int mul_size(size_t a, size_t b, size_t elem, size_t *out) {
  if (b != 0 && a > SIZE_MAX / b)
    return -1;
  size_t count = a * b;
  if (elem != 0 && count > SIZE_MAX / elem)
    return -1;
  *out = count;
  return 0;
}

void clb_dataset_destroy(struct clb_dataset *data) {
  if (!data)
    return;
  free(data->x);
  free(data->y);
  free(data->true_w);
  free(data->true_b);
  memset(data, 0, sizeof *data);
}

static int check_sizes(const char *what, size_t n, size_t d, size_t c, const char *c_name,
                       size_t c_min, struct clb_error *err) {
  size_t ignored;
  if (n < 1)
    return clb_failf(err, CLB_E_INVAL, "%s: the number of samples must be at least 1", what);
  if (d < 1)
    return clb_failf(err, CLB_E_INVAL, "%s: the number of features must be at least 1", what);
  if (c < c_min)
    return clb_failf(err, CLB_E_INVAL, "%s: the number of %s must be at least %zu (got %zu)", what,
                     c_name, c_min, c);
  if (mul_size(n, d, sizeof(double), &ignored) != 0)
    return clb_failf(err, CLB_E_INVAL, "%s: %zu samples x %zu features overflows the address space",
                     what, n, d);
  if (mul_size(n, c, sizeof(double), &ignored) != 0)
    return clb_failf(err, CLB_E_INVAL, "%s: %zu samples x %zu %s overflows the address space", what,
                     n, c, c_name);
  if (mul_size(d, c, sizeof(double), &ignored) != 0)
    return clb_failf(err, CLB_E_INVAL, "%s: %zu features x %zu %s overflows the address space",
                     what, d, c, c_name);
  return 0;
}

int clb_data_regression(size_t n, size_t d, size_t outputs, double noise_std, uint64_t seed,
                        struct clb_dataset *out, struct clb_error *err) {
  int rc = 0;
  struct clb_dataset data = {0};
  memset(out, 0, sizeof *out);
  CLB_TRY(check_sizes("synthetic regression", n, d, outputs, "outputs", 1, err));
  /* check_sizes refused these already; said again so the analyzer sees no malloc(0). */
  if (n == 0 || d == 0 || outputs == 0) {
    rc = CLB_E_INVAL;
    goto cleanup;
  }
  if (!isfinite(noise_std) || noise_std < 0) {
    rc = clb_failf(err, CLB_E_INVAL,
                   "synthetic regression: the noise standard deviation must be finite and "
                   ">= 0 (got %g)",
                   noise_std);
    goto cleanup;
  }
  data.n = n;
  data.d = d;
  data.c = outputs;
  data.classification = 0;
  data.x = malloc(n * d * sizeof(double));
  data.y = malloc(n * outputs * sizeof(double));
  data.true_w = malloc(d * outputs * sizeof(double));
  data.true_b = malloc(outputs * sizeof(double));
  if (!data.x || !data.y || !data.true_w || !data.true_b) {
    rc = clb_failf(err, CLB_E_NOMEM, "synthetic regression: cannot allocate %zu x %zu samples", n,
                   d);
    goto cleanup;
  }

  /* Draw order is part of the format: true weights, true biases, then each
   * sample's features followed by its noise. */
  struct clb_rng rng;
  clb_rng_seed(&rng, seed);
  for (size_t k = 0; k < d * outputs; k++)
    data.true_w[k] = clb_rng_normal(&rng);
  for (size_t o = 0; o < outputs; o++)
    data.true_b[o] = clb_rng_normal(&rng);
  for (size_t i = 0; i < n; i++) {
    double *xi = data.x + i * d;
    double *yi = data.y + i * outputs;
    for (size_t j = 0; j < d; j++)
      xi[j] = clb_rng_normal(&rng);
    for (size_t o = 0; o < outputs; o++) {
      double z = data.true_b[o];
      for (size_t j = 0; j < d; j++)
        /* NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult): j * outputs + o < d * outputs, all drawn above. */
        z += xi[j] * data.true_w[j * outputs + o];
      yi[o] = z + noise_std * clb_rng_normal(&rng);
    }
  }
  *out = data;
  return 0;

cleanup:
  clb_dataset_destroy(&data);
  return rc;
}

int clb_data_classes(size_t n, size_t d, size_t classes, double spread, uint64_t seed,
                     struct clb_dataset *out, struct clb_error *err) {
  int rc = 0;
  struct clb_dataset data = {0};
  double *centres = NULL;
  memset(out, 0, sizeof *out);
  CLB_TRY(check_sizes("synthetic classes", n, d, classes, "classes", 2, err));
  /* check_sizes refused these already; said again so the analyzer sees no malloc(0). */
  if (n == 0 || d == 0 || classes == 0) {
    rc = CLB_E_INVAL;
    goto cleanup;
  }
  if (!isfinite(spread) || spread < 0) {
    rc =
        clb_failf(err, CLB_E_INVAL,
                  "synthetic classes: the cluster spread must be finite and >= 0 (got %g)", spread);
    goto cleanup;
  }
  /* Labels travel to devices as floats, which hold integers exactly to 2^24. */
  if (classes > (1u << 24)) {
    rc = clb_failf(err, CLB_E_INVAL, "synthetic classes: %zu classes is more than 2^24", classes);
    goto cleanup;
  }
  data.n = n;
  data.d = d;
  data.c = classes;
  data.classification = 1;
  data.x = malloc(n * d * sizeof(double));
  data.y = malloc(n * sizeof(double));
  centres = malloc(classes * d * sizeof(double));
  if (!data.x || !data.y || !centres) {
    rc = clb_failf(err, CLB_E_NOMEM, "synthetic classes: cannot allocate %zu x %zu samples", n, d);
    goto cleanup;
  }

  /* Draw order: centres, the label shuffle, then each sample's offsets. */
  struct clb_rng rng;
  clb_rng_seed(&rng, seed);
  for (size_t k = 0; k < classes * d; k++)
    centres[k] = spread * clb_rng_normal(&rng);
  for (size_t i = 0; i < n; i++)
    data.y[i] = (double)(i % classes);
  for (size_t i = n; i > 1; i--) {
    size_t j = clb_rng_below(&rng, i);
    double tmp = data.y[i - 1];
    data.y[i - 1] = data.y[j];
    data.y[j] = tmp;
  }
  for (size_t i = 0; i < n; i++) {
    const double *centre = centres + (size_t)data.y[i] * d;
    for (size_t j = 0; j < d; j++)
      data.x[i * d + j] = centre[j] + clb_rng_normal(&rng);
  }
  *out = data;
  data = (struct clb_dataset){0};

cleanup:
  free(centres);
  clb_dataset_destroy(&data);
  return rc;
}

int clb_dataset_placement_parse(const char *text, int *on_host) {
  if (strcmp(text, "device") != 0 && strcmp(text, "host") != 0)
    return CLB_E_INVAL;
  *on_host = strcmp(text, "host") == 0;
  return 0;
}

const char *clb_dataset_placement_name(int on_host) { return on_host ? "host" : "device"; }

int clb_data_synthetic(enum clb_model_kind kind, size_t n, size_t d, size_t c, double noise_std,
                       uint64_t seed, struct clb_dataset *out, struct clb_error *err) {
  if (clb_shape_is_classifier(kind))
    return clb_data_classes(n, d, c, CLB_SYNTHETIC_CLASS_SPREAD, seed, out, err);
  return clb_data_regression(n, d, c, noise_std, seed, out, err);
}

/* ------------------------------------------------------------- numbers -- */

enum number_status { NUMBER_OK, NUMBER_EMPTY, NUMBER_BAD, NUMBER_NONFINITE };

static enum number_status parse_number(const char *field, double *out) {
  if (*field == '\0')
    return NUMBER_EMPTY;
  char *end = NULL;
  double value = strtod(field, &end);
  if (end == field || *end != '\0')
    return NUMBER_BAD;
  /* ERANGE alone is not an error: a subnormal value reads back exactly. */
  if (!isfinite(value))
    return NUMBER_NONFINITE;
  *out = value;
  return NUMBER_OK;
}

/* -------------------------------------------------------------- CSV data -- */

/* Labels travel to devices as floats, which hold integers exactly to 2^24. */
#define CLB_MAX_LABEL 16777215.0

/* The line of the first NUL byte in text[0..size), or 0 when there is none. */
static size_t line_of_nul(const char *text, size_t size) {
  const char *nul = memchr(text, '\0', size);
  if (!nul)
    return 0;
  size_t line = 1;
  for (const char *p = text; p < nul; p++)
    line += *p == '\n';
  return line;
}

int clb_data_load_csv(const char *path, int classification, struct clb_dataset *out,
                      struct clb_error *err) {
  int rc = 0;
  struct clb_csv_reader reader;
  struct clb_csv_record *record = NULL;
  char **fields = NULL;
  size_t fields_cap = 0;
  double *x = NULL, *y = NULL;
  size_t x_cap = 0, y_cap = 0;
  struct clb_dataset data = {0};
  struct clb_c_numeric numeric;
  clb_c_numeric_enter(&numeric);
  memset(out, 0, sizeof *out);

  CLB_TRY(clb_csv_open(&reader, path, err));
  /* A NUL byte would end a field early and hide the rest of the line (a file
   * of NULs would read as blank lines): it is not a text CSV. */
  size_t nul_line = line_of_nul(reader.text, reader.size);
  if (nul_line) {
    rc = clb_failf(err, CLB_E_PARSE, "%s:%zu: NUL byte: not a text CSV file", path, nul_line);
    goto cleanup;
  }

  size_t cols = 0;       /* columns of every row, set by the first row */
  size_t first_line = 0; /* the line that fixed `cols` */
  int first_is_header = 0;
  size_t rows = 0;
  size_t lineno = 0;
  double max_label = 0;
  int status;
  while ((status = clb_csv_next(&reader, &record)) == 0) {
    lineno = record->line;
    /* Blank lines (often one at the end of a file) carry no row. */
    if (clb_csv_is_blank(record))
      continue;
    size_t count = record->count;
    if (count > fields_cap) {
      char **bigger = realloc(fields, count * sizeof *bigger);
      if (!bigger) {
        rc = clb_failf(err, CLB_E_NOMEM, "%s:%zu: out of memory splitting the line", path, lineno);
        goto cleanup;
      }
      fields = bigger;
      fields_cap = count;
    }
    for (size_t k = 0; k < count; k++)
      fields[k] = clb_trim(record->buf + record->starts[k]);

    if (cols == 0) {
      /* The first non-blank line is a header when a field is text. An empty
       * field or a NaN/Inf does not make it one: that is a broken first data
       * row, reported below rather than silently dropped. */
      int all_numbers = 1;
      for (size_t k = 0; k < count && all_numbers; k++) {
        double ignored;
        all_numbers = parse_number(fields[k], &ignored) != NUMBER_BAD;
      }
      if (count < 2) {
        rc = clb_failf(err, CLB_E_PARSE,
                       "%s:%zu: only 1 column; need at least 2 (features, then the target)", path,
                       lineno);
        goto cleanup;
      }
      cols = count;
      first_line = lineno;
      if (!all_numbers) {
        first_is_header = 1;
        continue;
      }
    }

    if (count != cols) {
      size_t col = count < cols ? count + 1 : cols + 1;
      rc = clb_failf(err, CLB_E_PARSE,
                     "%s:%zu: column %zu: %s (this row has %zu columns, line %zu has %zu)", path,
                     lineno, col, count < cols ? "missing" : "unexpected extra column", count,
                     first_line, cols);
      goto cleanup;
    }

    size_t d = cols - 1;
    double *bigger_x = clb_grow(x, &x_cap, (rows + 1) * d, sizeof *x, 64 * d);
    double *bigger_y = bigger_x ? clb_grow(y, &y_cap, rows + 1, sizeof *y, 64) : NULL;
    if (!bigger_x || !bigger_y) {
      if (bigger_x)
        x = bigger_x;
      rc = clb_failf(err, CLB_E_NOMEM, "%s:%zu: out of memory reading the data", path, lineno);
      goto cleanup;
    }
    x = bigger_x;
    y = bigger_y;

    for (size_t k = 0; k < cols; k++) {
      double value = 0;
      switch (parse_number(fields[k], &value)) {
      case NUMBER_OK:
        break;
      case NUMBER_EMPTY:
        rc = clb_failf(err, CLB_E_PARSE, "%s:%zu: column %zu: empty field", path, lineno, k + 1);
        goto cleanup;
      case NUMBER_BAD:
        rc = clb_failf(err, CLB_E_PARSE, "%s:%zu: column %zu: not a number: '%.64s'", path, lineno,
                       k + 1, fields[k]);
        goto cleanup;
      case NUMBER_NONFINITE:
        rc = clb_failf(err, CLB_E_PARSE, "%s:%zu: column %zu: non-finite value '%.64s'", path,
                       lineno, k + 1, fields[k]);
        goto cleanup;
      }
      if (k < d) {
        x[rows * d + k] = value;
        continue;
      }
      if (classification) {
        if (value < 0 || value != floor(value) || value > CLB_MAX_LABEL) {
          rc = clb_failf(err, CLB_E_PARSE,
                         "%s:%zu: column %zu: class label '%.64s' is not an integer in 0..%.0f",
                         path, lineno, k + 1, fields[k], CLB_MAX_LABEL);
          goto cleanup;
        }
        if (value > max_label)
          max_label = value;
      }
      y[rows] = value;
    }
    rows++;
  }
  if (status == CLB_E_NOMEM) {
    rc = clb_failf(err, CLB_E_NOMEM, "%s: out of memory reading the data", path);
    goto cleanup;
  }
  if (rows == 0) {
    rc = clb_failf(err, CLB_E_PARSE, "%s: no data rows%s", path,
                   first_is_header ? " (only a header line)" : "");
    goto cleanup;
  }
  if (classification && max_label < 1) {
    rc = clb_failf(err, CLB_E_PARSE,
                   "%s: every class label is 0; a classification needs at least 2 classes", path);
    goto cleanup;
  }

  data.n = rows;
  data.d = cols - 1;
  data.c = classification ? (size_t)max_label + 1 : 1;
  data.classification = classification ? 1 : 0;
  data.x = x;
  data.y = y;
  x = y = NULL;
  *out = data;

cleanup:
  free(x);
  free(y);
  free(fields);
  clb_csv_destroy(&reader);
  clb_c_numeric_leave(&numeric);
  return rc;
}

