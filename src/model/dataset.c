/* Host data sets, random numbers, permutations and parameter files.
 *
 * Everything here is deterministic from a seed and independent of the C
 * library's rand() and of the process locale, so a run on one host can be
 * repeated bit for bit on another. */
#include "model/dataset.h"

#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- random -- */

static uint64_t rotl64(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

/* splitmix64 spreads any seed (0 included) over the 256-bit state, which
 * xoshiro requires to be not all zero. */
static uint64_t splitmix64(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void clb_rng_seed(struct clb_rng *rng, uint64_t seed) {
  uint64_t state = seed;
  for (int i = 0; i < 4; i++)
    rng->s[i] = splitmix64(&state);
}

uint64_t clb_rng_next(struct clb_rng *rng) {
  uint64_t *s = rng->s;
  uint64_t result = rotl64(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl64(s[3], 45);
  return result;
}

double clb_rng_uniform(struct clb_rng *rng) {
  /* The top 53 bits fill a double's mantissa exactly: every value is k/2^53. */
  return (double)(clb_rng_next(rng) >> 11) * 0x1.0p-53;
}

double clb_rng_normal(struct clb_rng *rng) {
  /* Box-Muller, keeping only the cosine branch: it consumes exactly two draws
   * per value, so the stream does not depend on a cached second value and the
   * struct stays a plain state vector. 1 - u lies in (0, 1], so log() is finite. */
  double u1 = 1.0 - clb_rng_uniform(rng);
  double u2 = clb_rng_uniform(rng);
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586476925286766559 * u2);
}

size_t clb_rng_below(struct clb_rng *rng, size_t n) {
  if (n <= 1)
    return 0;
  /* Reject the lowest 2^64 mod n values so the remaining range is a multiple
   * of n and `r % n` is exactly uniform. */
  uint64_t bound = (uint64_t)n;
  uint64_t threshold = (0 - bound) % bound;
  for (;;) {
    uint64_t r = clb_rng_next(rng);
    if (r >= threshold)
      return (size_t)(r % bound);
  }
}

void clb_rng_permutation(struct clb_rng *rng, uint32_t *perm, size_t n) {
  for (size_t i = 0; i < n; i++)
    perm[i] = (uint32_t)i;
  for (size_t i = n; i > 1; i--) {
    size_t j = clb_rng_below(rng, i);
    uint32_t tmp = perm[i - 1];
    perm[i - 1] = perm[j];
    perm[j] = tmp;
  }
}

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

void clb_dataset_free(struct clb_dataset *data) {
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
  clb_dataset_free(&data);
  return rc;
}

int clb_data_classes(size_t n, size_t d, size_t classes, double spread, uint64_t seed,
                     struct clb_dataset *out, struct clb_error *err) {
  int rc = 0;
  struct clb_dataset data = {0};
  double *centres = NULL;
  memset(out, 0, sizeof *out);
  CLB_TRY(check_sizes("synthetic classes", n, d, classes, "classes", 2, err));
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
  clb_dataset_free(&data);
  return rc;
}

/* --------------------------------------------------------- text parsing -- */

/* Numbers are read and written in the "C" locale whatever the process uses,
 * so a file written under a locale with a decimal comma reads back anywhere.
 * uselocale() changes only this thread. */
struct c_numeric {
  locale_t c_locale;
  locale_t previous;
};

static void c_numeric_begin(struct c_numeric *scope) {
  scope->c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
  scope->previous = scope->c_locale ? uselocale(scope->c_locale) : (locale_t)0;
}

static void c_numeric_end(struct c_numeric *scope) {
  if (scope->c_locale) {
    uselocale(scope->previous);
    freelocale(scope->c_locale);
  }
}

/* Removes a trailing "\n" or "\r\n" (a file from Windows) in place. */
static size_t chomp(char *line, size_t len) {
  while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
    line[--len] = '\0';
  return len;
}

static int is_blank(const char *s) {
  for (; *s; s++)
    if (!isspace((unsigned char)*s))
      return 0;
  return 1;
}

/* Trims spaces around a field in place; returns its first character. */
static char *trim(char *s) {
  while (isspace((unsigned char)*s))
    s++;
  size_t len = strlen(s);
  while (len > 0 && isspace((unsigned char)s[len - 1]))
    s[--len] = '\0';
  return s;
}

/* Splits `line` at commas in place; fields[] gets pointers to each (trimmed).
 * Grows *fields as needed. Returns the field count, or 0 when out of memory. */
static size_t split_fields(char *line, char ***fields, size_t *cap) {
  size_t count = 0;
  char *p = line;
  for (;;) {
    if (count == *cap) {
      size_t grown = *cap ? *cap * 2 : 16;
      char **bigger = realloc(*fields, grown * sizeof *bigger);
      if (!bigger)
        return 0;
      *fields = bigger;
      *cap = grown;
    }
    char *comma = strchr(p, ',');
    if (comma)
      *comma = '\0';
    (*fields)[count++] = trim(p);
    if (!comma)
      return count;
    p = comma + 1;
  }
}

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

int clb_data_load_csv(const char *path, int classification, struct clb_dataset *out,
                      struct clb_error *err) {
  int rc = 0;
  FILE *file = NULL;
  char *line = NULL;
  size_t line_cap = 0;
  char **fields = NULL;
  size_t fields_cap = 0;
  double *x = NULL, *y = NULL;
  size_t x_cap = 0, y_cap = 0;
  struct clb_dataset data = {0};
  struct c_numeric numeric;
  c_numeric_begin(&numeric);
  memset(out, 0, sizeof *out);

  file = fopen(path, "rb");
  if (!file) {
    rc = clb_failf(err, CLB_E_IO, "cannot open %s: %s", path, strerror(errno));
    goto cleanup;
  }

  size_t cols = 0;       /* columns of every row, set by the first row */
  size_t first_line = 0; /* the line that fixed `cols` */
  int first_is_header = 0;
  size_t rows = 0;
  size_t lineno = 0;
  double max_label = 0;
  ssize_t got;
  errno = 0;
  while ((got = getline(&line, &line_cap, file)) != -1) {
    lineno++;
    /* A NUL byte would end the C string early and hide the rest of the line
     * (a file of NULs would read as blank lines): it is not a text CSV. */
    if (memchr(line, '\0', (size_t)got) != NULL) {
      rc = clb_failf(err, CLB_E_PARSE, "%s:%zu: NUL byte: not a text CSV file", path, lineno);
      goto cleanup;
    }
    chomp(line, (size_t)got);
    /* Blank lines (often one at the end of a file) carry no row. */
    if (is_blank(line))
      continue;
    size_t count = split_fields(line, &fields, &fields_cap);
    if (count == 0) {
      rc = clb_failf(err, CLB_E_NOMEM, "%s:%zu: out of memory splitting the line", path, lineno);
      goto cleanup;
    }

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
    if ((rows + 1) * d > x_cap) {
      size_t grown = x_cap ? x_cap * 2 : 64 * d;
      if (grown < (rows + 1) * d || grown > SIZE_MAX / sizeof(double)) {
        rc = clb_failf(err, CLB_E_NOMEM, "%s:%zu: too many values", path, lineno);
        goto cleanup;
      }
      double *bigger = realloc(x, grown * sizeof *bigger);
      if (!bigger) {
        rc = clb_failf(err, CLB_E_NOMEM, "%s:%zu: out of memory reading the data", path, lineno);
        goto cleanup;
      }
      x = bigger;
      x_cap = grown;
    }
    if (rows + 1 > y_cap) {
      size_t grown = y_cap ? y_cap * 2 : 64;
      double *bigger = realloc(y, grown * sizeof *bigger);
      if (!bigger) {
        rc = clb_failf(err, CLB_E_NOMEM, "%s:%zu: out of memory reading the data", path, lineno);
        goto cleanup;
      }
      y = bigger;
      y_cap = grown;
    }

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
    errno = 0;
  }
  if (ferror(file)) {
    rc = clb_failf(err, CLB_E_IO, "cannot read %s: %s", path, strerror(errno ? errno : EIO));
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
  free(line);
  if (file)
    fclose(file);
  c_numeric_end(&numeric);
  return rc;
}

/* ------------------------------------------------------- parameter files -- */

static const char params_header[] = "param,index,value";

static int check_shape(const char *what, const struct clb_shape *shape, struct clb_error *err) {
  if (!shape || (int)shape->kind < 0 || (int)shape->kind >= CLB_MODEL_COUNT)
    return clb_failf(err, CLB_E_INVAL, "%s: unknown model kind", what);
  if (shape->d < 1 || shape->c < 1 || (shape->kind == CLB_MODEL_MLP && shape->h < 1))
    return clb_failf(err, CLB_E_INVAL, "%s: %s shape with a zero dimension (d=%zu h=%zu c=%zu)",
                     what, clb_model_name(shape->kind), shape->d, shape->h, shape->c);
  return 0;
}

int clb_params_write(const char *path, const struct clb_shape *shape, const double *theta,
                     struct clb_error *err) {
  int rc = 0;
  FILE *file = NULL;
  struct c_numeric numeric;
  c_numeric_begin(&numeric);
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
  c_numeric_end(&numeric);
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

int clb_params_read(const char *path, const struct clb_shape *shape, double *theta,
                    struct clb_error *err) {
  int rc = 0;
  FILE *file = NULL;
  char *line = NULL;
  size_t line_cap = 0;
  char **fields = NULL;
  size_t fields_cap = 0;
  double *values = NULL;
  size_t *seen_on = NULL; /* the line of each parameter, 0 while unseen */
  struct c_numeric numeric;
  c_numeric_begin(&numeric);
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

  file = fopen(path, "rb");
  if (!file) {
    rc = clb_failf(err, CLB_E_IO, "cannot open %s: %s", path, strerror(errno));
    goto cleanup;
  }

  size_t lineno = 0;
  int have_header = 0;
  ssize_t got;
  errno = 0;
  while ((got = getline(&line, &line_cap, file)) != -1) {
    lineno++;
    chomp(line, (size_t)got);
    if (!have_header) {
      if (strcmp(line, params_header) != 0) {
        rc = clb_failf(err, CLB_E_PARSE, "%s:%zu: expected the header '%s', found '%.64s'", path,
                       lineno, params_header, line);
        goto cleanup;
      }
      have_header = 1;
      continue;
    }
    if (is_blank(line))
      continue;
    size_t count = split_fields(line, &fields, &fields_cap);
    if (count == 0) {
      rc = clb_failf(err, CLB_E_NOMEM, "%s:%zu: out of memory splitting the line", path, lineno);
      goto cleanup;
    }
    if (count != 3) {
      rc = clb_failf(err, CLB_E_PARSE, "%s:%zu: expected 3 fields (param,index,value), found %zu",
                     path, lineno, count);
      goto cleanup;
    }
    const struct clb_tensor *tensor = NULL;
    for (size_t t = 0; t < tensor_count; t++)
      if (strcmp(fields[0], tensors[t].name) == 0)
        tensor = &tensors[t];
    if (!tensor) {
      rc = clb_failf(err, CLB_E_PARSE, "%s:%zu: unknown parameter '%.64s' for model %s", path,
                     lineno, fields[0], clb_model_name(shape->kind));
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
    enum number_status status = parse_number(fields[2], &value);
    if (status != NUMBER_OK) {
      rc = clb_failf(err, CLB_E_PARSE, "%s:%zu: %s index %zu: %s value '%.64s'", path, lineno,
                     tensor->name, index, status == NUMBER_NONFINITE ? "non-finite" : "invalid",
                     fields[2]);
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
    errno = 0;
  }
  if (ferror(file)) {
    rc = clb_failf(err, CLB_E_IO, "cannot read %s: %s", path, strerror(errno ? errno : EIO));
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
  free(fields);
  free(line);
  if (file)
    fclose(file);
  c_numeric_end(&numeric);
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
