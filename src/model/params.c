/* Parameter files: `param,index,value` rows, 17 significant digits, read back
 * exactly under any locale. */
#include "model/params.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/csv.h"
#include "util/rng.h"
#include "util/text.h"

static const char params_header[] = "param,index,value";

static int check_shape(const char *what, const struct clb_shape *shape, struct clb_error *err) {
  if (!shape || (int)shape->kind < 0 || (int)shape->kind >= CLB_MODEL_COUNT)
    return clb_failf(err, CLB_E_INVAL, "%s: unknown model kind", what);
  if (shape->d < 1 || shape->c < 1 || (shape->kind == CLB_MODEL_MLP && shape->h < 1))
    return clb_failf(err, CLB_E_INVAL, "%s: %s shape with a zero dimension (d=%zu h=%zu c=%zu)",
                     what, clb_shape_kind_name(shape->kind), shape->d, shape->h, shape->c);
  return 0;
}

int clb_params_write(const char *path, const struct clb_shape *shape, const double *theta,
                     struct clb_error *err) {
  int rc = 0;
  FILE *file = NULL;
  struct clb_c_numeric numeric;
  clb_c_numeric_enter(&numeric);
  CLB_TRY(check_shape(path, shape, err));

  struct clb_tensor tensors[4];
  size_t count = clb_shape_tensors(shape, tensors);
  /* A non-finite value would write a file the reader rejects: refuse it here,
   * before the file is created, and say where it is. */
  for (size_t t = 0; t < count; t++)
    for (size_t k = 0; k < tensors[t].count; k++)
      if (!isfinite(theta[tensors[t].offset + k])) {
        rc = clb_failf(err, CLB_E_NUMERIC, "%s: %s index %zu is %g; not writing it", path,
                       tensors[t].name, k, theta[tensors[t].offset + k]);
        goto cleanup;
      }

  file = fopen(path, "w");
  if (!file) {
    rc = clb_failf(err, CLB_E_IO, "cannot create %s: %s", path, strerror(errno));
    goto cleanup;
  }
  int bad = fprintf(file, "%s\n", params_header) < 0;
  for (size_t t = 0; t < count && !bad; t++)
    for (size_t k = 0; k < tensors[t].count && !bad; k++)
      bad = fprintf(file, "%s,%zu,%.17g\n", tensors[t].name, k, theta[tensors[t].offset + k]) < 0;
  /* fclose flushes: its failure (a full disk) loses data just like fprintf's. */
  int close_failed = fclose(file) != 0;
  file = NULL;
  if (bad || close_failed) {
    rc = clb_failf(err, CLB_E_IO, "cannot write %s: %s", path, strerror(errno ? errno : EIO));
    goto cleanup;
  }

cleanup:
  if (file)
    fclose(file);
  clb_c_numeric_leave(&numeric);
  return rc;
}

/* An index field: decimal digits only (no sign, no spaces inside). */
static int parse_index(const char *field, size_t *out) {
  if (!isdigit((unsigned char)*field))
    return -1;
  size_t value = 0;
  for (const char *p = field; *p; p++) {
    if (!isdigit((unsigned char)*p))
      return -1;
    size_t digit = (size_t)(*p - '0');
    if (value > (SIZE_MAX - digit) / 10)
      return -1;
    value = value * 10 + digit;
  }
  *out = value;
  return 0;
}

static int is_header(const struct clb_csv_record *record) {
  static const char *const names[] = {"param", "index", "value"};
  if (record->count != 3)
    return 0;
  for (size_t k = 0; k < 3; k++)
    if (strcmp(clb_csv_field(record, k), names[k]) != 0)
      return 0;
  return 1;
}

static int parse_value(const char *field, double *out, const char **why) {
  char *end = NULL;
  *why = "invalid";
  if (*field == '\0')
    return -1;
  double value = strtod(field, &end);
  if (end == field || *end != '\0')
    return -1;
  if (!isfinite(value)) {
    *why = "non-finite";
    return -1;
  }
  *out = value;
  return 0;
}

int clb_params_read(const char *path, const struct clb_shape *shape, double *theta,
                    struct clb_error *err) {
  int rc = 0;
  struct clb_csv_reader reader = {0};
  struct clb_csv_record *record = NULL;
  double *values = NULL;
  size_t *seen_on = NULL; /* the line of each parameter, 0 while unseen */
  struct clb_c_numeric numeric;
  clb_c_numeric_enter(&numeric);
  CLB_TRY(check_shape(path, shape, err));

  struct clb_tensor tensors[4];
  size_t tensor_count = clb_shape_tensors(shape, tensors);
  size_t total = clb_shape_param_count(shape);
  /* Values go to a scratch vector first so a bad file leaves theta untouched. */
  values = malloc(total * sizeof *values);
  seen_on = calloc(total, sizeof *seen_on);
  if (!values || !seen_on) {
    rc = clb_failf(err, CLB_E_NOMEM, "%s: cannot allocate %zu parameters", path, total);
    goto cleanup;
  }
  CLB_TRY(clb_csv_open(&reader, path, err));

  size_t lineno = 1;
  int have_header = 0, status;
  while ((status = clb_csv_next(&reader, &record)) == 0) {
    lineno = record->line;
    if (!have_header) {
      if (!is_header(record)) {
        rc = clb_failf(err, CLB_E_PARSE, "%s:%zu: expected the header '%s', found '%.64s%s'",
                       path, lineno, params_header, clb_csv_field(record, 0),
                       record->count > 1 ? ",..." : "");
        goto cleanup;
      }
      have_header = 1;
      continue;
    }
    if (clb_csv_is_blank(record))
      continue;
    if (record->count != 3) {
      rc = clb_failf(err, CLB_E_PARSE, "%s:%zu: expected 3 fields (param,index,value), found %zu",
                     path, lineno, record->count);
      goto cleanup;
    }
    char *fields[3];
    for (size_t k = 0; k < 3; k++)
      fields[k] = clb_trim(record->buf + record->starts[k]);
    const struct clb_tensor *tensor = NULL;
    for (size_t t = 0; t < tensor_count; t++)
      if (strcmp(fields[0], tensors[t].name) == 0)
        tensor = &tensors[t];
    if (!tensor) {
      rc = clb_failf(err, CLB_E_PARSE, "%s:%zu: unknown parameter '%.64s' for model %s", path,
                     lineno, fields[0], clb_shape_kind_name(shape->kind));
      goto cleanup;
    }
    size_t index = 0;
    if (parse_index(fields[1], &index) != 0) {
      rc = clb_failf(err, CLB_E_PARSE, "%s:%zu: index '%.64s' is not a non-negative integer", path,
                     lineno, fields[1]);
      goto cleanup;
    }
    if (index >= tensor->count) {
      rc = clb_failf(err, CLB_E_PARSE, "%s:%zu: %s index %zu out of range (%s has %zu values)",
                     path, lineno, tensor->name, index, tensor->name, tensor->count);
      goto cleanup;
    }
    double value = 0;
    const char *why = NULL;
    if (parse_value(fields[2], &value, &why) != 0) {
      rc = clb_failf(err, CLB_E_PARSE, "%s:%zu: %s index %zu: %s value '%.64s'", path, lineno,
                     tensor->name, index, why, fields[2]);
      goto cleanup;
    }
    size_t slot = tensor->offset + index;
    if (seen_on[slot] != 0) {
      rc = clb_failf(err, CLB_E_PARSE, "%s:%zu: duplicate %s index %zu (first on line %zu)", path,
                     lineno, tensor->name, index, seen_on[slot]);
      goto cleanup;
    }
    seen_on[slot] = lineno;
    values[slot] = value;
  }
  if (status == CLB_E_NOMEM) {
    rc = clb_failf(err, CLB_E_NOMEM, "%s: out of memory", path);
    goto cleanup;
  }
  if (!have_header) {
    rc = clb_failf(err, CLB_E_PARSE, "%s:1: empty file; expected the header '%s'", path,
                   params_header);
    goto cleanup;
  }
  for (size_t t = 0; t < tensor_count; t++) {
    size_t missing = 0, first = 0;
    for (size_t k = 0; k < tensors[t].count; k++)
      if (seen_on[tensors[t].offset + k] == 0 && missing++ == 0)
        first = k;
    if (missing) {
      rc = clb_failf(err, CLB_E_PARSE,
                     "%s:%zu: end of file, but %s index %zu is missing (%zu of %zu %s values "
                     "missing)",
                     path, lineno, tensors[t].name, first, missing, tensors[t].count,
                     tensors[t].name);
      goto cleanup;
    }
  }
  memcpy(theta, values, total * sizeof *theta);

cleanup:
  free(seen_on);
  free(values);
  clb_csv_destroy(&reader);
  clb_c_numeric_leave(&numeric);
  return rc;
}

void clb_params_init(const struct clb_shape *shape, uint64_t seed, double *theta) {
  struct clb_tensor tensors[4];
  size_t count = clb_shape_tensors(shape, tensors);
  size_t total = clb_shape_param_count(shape);
  memset(theta, 0, total * sizeof *theta);
  /* Linear regression is convex; zero is the conventional, reproducible start. */
  if (shape->kind == CLB_MODEL_LINREG)
    return;

  struct clb_rng rng;
  clb_rng_seed(&rng, seed);
  for (size_t t = 0; t < count; t++) {
    /* Weight matrices have rows = fan_in; bias vectors stay zero. The ReLU
     * layer gets He's 2/fan_in so activations keep their scale. */
    if (tensors[t].name[0] == 'b')
      continue;
    double gain = (shape->kind == CLB_MODEL_MLP && t == 0) ? 2.0 : 1.0;
    double std = sqrt(gain / (double)tensors[t].rows);
    for (size_t k = 0; k < tensors[t].count; k++)
      theta[tensors[t].offset + k] = std * clb_rng_normal(&rng);
  }
}
