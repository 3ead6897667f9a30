#include "blas/tune.h"

#include <clblast_c.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "blas/blas.h"
#include "util/clock.h"
#include "util/files.h"
#include "util/parse.h"
#include "util/rng.h"
#include "util/text.h"

/* ---------------------------------------------------------------------------------------------
 * Parameter spaces, transcribed from CLBlast's tuner definitions. */

/* A GEMM with m*n*k < XGEMM_MIN_INDIRECT_SIZE^3 runs the direct kernel (CLBlast's
 * Xgemm::UseDirectKernel cubes the value in unsigned long long): 0 forces the
 * indirect path, 2^20 (cube 2^60) the direct one for any shape that fits in memory. */
#define FORCE_INDIRECT ((size_t)0)
#define FORCE_DIRECT ((size_t)1 << 20)

#define ROUTINE_KERNEL "GemmRoutine"
#define ROUTINE_PARAM "XGEMM_MIN_INDIRECT_SIZE"

/* Indices into an Xgemm configuration, in the order the file lists them. */
enum {
  X_GEMMK, X_KREG, X_KWG, X_KWI, X_MDIMA, X_MDIMC, X_MWG, X_NDIMB,
  X_NDIMC, X_NWG, X_SA, X_SB, X_STRM, X_STRN, X_VWM, X_VWN, X_COUNT
};
/* Indices into an XgemmDirect configuration. */
enum { D_WGD, D_MDIMCD, D_NDIMCD, D_MDIMAD, D_NDIMBD, D_KWID, D_VWMD, D_VWND, D_PADA, D_PADB, D_COUNT };

struct param_def {
  const char *name;
  size_t count;
  size_t values[6];
};

/* What a configuration must fit into on this device, for this shape. */
struct limits {
  size_t max_work_group;
  cl_ulong local_mem_bytes;
  size_t element_bytes;
  size_t cap_m, cap_n, cap_k, cap_mn; /* largest useful tile per dimension */
};

struct space {
  const char *kernel;
  const char *variant;
  size_t count;
  struct param_def params[CLB_TUNE_MAX_PARAMS];
  int (*legal)(const size_t *v, const struct limits *lim);
};

static int is_multiple(size_t a, size_t b) { return b != 0 && a % b == 0; }

/* Constraints of src/tuning/kernels/xgemm.hpp (XgemmSetConstraints and
 * XgemmComputeLocalMemSize) plus the device's limits. */
static int legal_xgemm(const size_t *v, const struct limits *lim) {
  if (!is_multiple(v[X_KWG], v[X_KWI]))
    return 0;
  if (!is_multiple(v[X_MWG], v[X_MDIMC] * v[X_VWM]) ||
      !is_multiple(v[X_NWG], v[X_NDIMC] * v[X_VWN]))
    return 0;
  if (!is_multiple(v[X_MWG], v[X_MDIMA] * v[X_VWM]) ||
      !is_multiple(v[X_NWG], v[X_NDIMB] * v[X_VWN]))
    return 0;
  if (v[X_GEMMK] == 0) {
    /* KWG has to be a multiple of KDIMA = (MDIMC*NDIMC)/MDIMA and of KDIMB. */
    if (!is_multiple(v[X_KWG], (v[X_MDIMC] * v[X_NDIMC]) / v[X_MDIMA]) ||
        !is_multiple(v[X_KWG], (v[X_MDIMC] * v[X_NDIMC]) / v[X_NDIMB]))
      return 0;
  } else {
    if (!is_multiple(v[X_KREG], v[X_VWN]) || v[X_MDIMC] != v[X_MDIMA] ||
        v[X_NDIMC] != v[X_NDIMB])
      return 0;
  }
  if (v[X_MDIMC] * v[X_NDIMC] > lim->max_work_group)
    return 0;
  cl_ulong local = (cl_ulong)lim->element_bytes *
                   (v[X_SA] * v[X_KWG] * v[X_MWG] + v[X_SB] * v[X_KWG] * v[X_NWG]);
  if (local > lim->local_mem_bytes)
    return 0;
  /* Tiles far larger than the matrix only pad it with zeros. */
  return v[X_MWG] <= lim->cap_m && v[X_NWG] <= lim->cap_n && v[X_KWG] * v[X_KREG] <= lim->cap_k;
}

/* Constraints of src/tuning/kernels/xgemm_direct.hpp plus the device's limits. */
static int legal_direct(const size_t *v, const struct limits *lim) {
  size_t wgd = v[D_WGD];
  if (!is_multiple(wgd, v[D_KWID]))
    return 0;
  if (!is_multiple(wgd, v[D_MDIMCD] * v[D_VWMD]) || !is_multiple(wgd, v[D_NDIMCD] * v[D_VWND]))
    return 0;
  if (!is_multiple(wgd, v[D_MDIMAD] * v[D_VWMD]) || !is_multiple(wgd, v[D_NDIMBD] * v[D_VWND]))
    return 0;
  if (!is_multiple(wgd, (v[D_MDIMCD] * v[D_NDIMCD]) / v[D_MDIMAD]) ||
      !is_multiple(wgd, (v[D_MDIMCD] * v[D_NDIMCD]) / v[D_NDIMBD]))
    return 0;
  if (v[D_MDIMCD] * v[D_NDIMCD] > lim->max_work_group)
    return 0;
  cl_ulong local =
      (cl_ulong)lim->element_bytes * (wgd * (wgd + v[D_PADA]) + wgd * (wgd + v[D_PADB]));
  if (local > lim->local_mem_bytes)
    return 0;
  return wgd <= lim->cap_mn;
}

/* CLBlast's tuner variation V=2 (kernel 0, GEMMK=0, randomly sampled). */
static const struct space xgemm_gemmk0 = {
    "Xgemm",
    "GEMMK=0 (CLBlast tuner V=2)",
    X_COUNT,
    {{"GEMMK", 1, {0}},
     {"KREG", 1, {1}},
     {"KWG", 2, {16, 32}},
     {"KWI", 1, {2}},
     {"MDIMA", 3, {8, 16, 32}},
     {"MDIMC", 3, {8, 16, 32}},
     {"MWG", 4, {16, 32, 64, 128}},
     {"NDIMB", 3, {8, 16, 32}},
     {"NDIMC", 3, {8, 16, 32}},
     {"NWG", 4, {16, 32, 64, 128}},
     {"SA", 2, {0, 1}},
     {"SB", 2, {0, 1}},
     {"STRM", 2, {0, 1}},
     {"STRN", 2, {0, 1}},
     {"VWM", 4, {1, 2, 4, 8}},
     {"VWN", 4, {1, 2, 4, 8}}},
    legal_xgemm};

/* CLBlast's tuner variation V=12 (kernel 1, GEMMK=1: 2D register tiling). */
static const struct space xgemm_gemmk1 = {
    "Xgemm",
    "GEMMK=1 (CLBlast tuner V=12)",
    X_COUNT,
    {{"GEMMK", 1, {1}},
     {"KREG", 5, {1, 2, 4, 8, 16}},
     {"KWG", 1, {1}},
     {"KWI", 1, {1}},
     {"MDIMA", 5, {2, 4, 8, 16, 32}},
     {"MDIMC", 5, {2, 4, 8, 16, 32}},
     {"MWG", 5, {8, 16, 32, 64, 128}},
     {"NDIMB", 5, {2, 4, 8, 16, 32}},
     {"NDIMC", 5, {2, 4, 8, 16, 32}},
     {"NWG", 5, {8, 16, 32, 64, 128}},
     {"SA", 1, {0}},
     {"SB", 1, {0}},
     {"STRM", 1, {0}},
     {"STRN", 1, {0}},
     {"VWM", 4, {1, 2, 4, 8}},
     {"VWN", 4, {1, 2, 4, 8}}},
    legal_xgemm};

/* CLBlast's tuner variation V=2 of xgemm_direct. */
static const struct space direct_space = {"XgemmDirect",
                                          "CLBlast tuner V=2",
                                          D_COUNT,
                                          {{"WGD", 4, {8, 16, 32, 64}},
                                           {"MDIMCD", 3, {8, 16, 32}},
                                           {"NDIMCD", 3, {8, 16, 32}},
                                           {"MDIMAD", 3, {8, 16, 32}},
                                           {"NDIMBD", 3, {8, 16, 32}},
                                           {"KWID", 3, {2, 8, 16}},
                                           {"VWMD", 4, {1, 2, 4, 8}},
                                           {"VWND", 4, {1, 2, 4, 8}},
                                           {"PADA", 2, {0, 1}},
                                           {"PADB", 2, {0, 1}}},
                                          legal_direct};

static size_t space_size(const struct space *space) {
  size_t total = 1;
  for (size_t p = 0; p < space->count; p++)
    total *= space->params[p].count;
  return total;
}

static void space_decode(const struct space *space, size_t index, size_t *values) {
  for (size_t p = space->count; p-- > 0;) {
    values[p] = space->params[p].values[index % space->params[p].count];
    index /= space->params[p].count;
  }
}

/* A candidate is (space number << 32) | index within that space. */
struct candidates {
  uint64_t *items;
  size_t count, capacity;
};

static int candidates_push(struct candidates *list, uint64_t value) {
  if (list->count == list->capacity) {
    size_t capacity = list->capacity ? list->capacity * 2 : 1024;
    uint64_t *grown = realloc(list->items, capacity * sizeof *grown);
    if (!grown)
      return CLB_E_NOMEM;
    list->items = grown;
    list->capacity = capacity;
  }
  list->items[list->count++] = value;
  return 0;
}

static int enumerate(const struct space *const *spaces, size_t space_count,
                     const struct limits *lim, struct candidates *out, struct clb_error *err) {
  size_t values[CLB_TUNE_MAX_PARAMS];
  for (size_t s = 0; s < space_count; s++) {
    size_t total = space_size(spaces[s]);
    for (size_t i = 0; i < total; i++) {
      space_decode(spaces[s], i, values);
      if (spaces[s]->legal(values, lim) && candidates_push(out, ((uint64_t)s << 32) | i) != 0)
        return clb_failf(err, CLB_E_NOMEM, "out of host memory listing %s configurations",
                         spaces[s]->kernel);
    }
  }
  return 0;
}


/* Moves a seeded random sample of `want` candidates to the front (a partial
 * Fisher-Yates shuffle), so the sample depends only on the seed and the space. */
static void sample_front(struct candidates *list, size_t want, uint64_t seed) {
  uint64_t state = seed;
  if (want > list->count)
    want = list->count;
  for (size_t i = 0; i < want; i++) {
    size_t j = i + (size_t)(clb_splitmix64(&state) % (list->count - i));
    uint64_t swap = list->items[i];
    list->items[i] = list->items[j];
    list->items[j] = swap;
  }
}

/* A kernel with several spaces (Xgemm's GEMMK=0 and GEMMK=1 kernels) gets at
 * least one sampled configuration from each, when the sample has room: the
 * smaller space would otherwise often go untried in a small sample. */
static void sample_cover_spaces(struct candidates *list, size_t want, size_t space_count,
                                uint64_t seed) {
  uint64_t state = seed ^ 0xc0fe;
  if (want < space_count || want >= list->count)
    return;
  size_t slot = want; /* replaced from the end of the sample backwards */
  for (uint64_t s = 0; s < space_count; s++) {
    size_t in_sample = 0, in_rest = 0;
    for (size_t i = 0; i < list->count; i++)
      *(i < want ? &in_sample : &in_rest) += (list->items[i] >> 32) == s;
    if (in_sample > 0 || in_rest == 0)
      continue;
    size_t pick = (size_t)(clb_splitmix64(&state) % in_rest);
    for (size_t i = want; i < list->count; i++) {
      if ((list->items[i] >> 32) != s || pick-- > 0)
        continue;
      /* Only replace a slot whose space keeps another representative. */
      while (slot > 0) {
        slot--;
        uint64_t old_space = list->items[slot] >> 32;
        size_t same = 0;
        for (size_t j = 0; j < want; j++)
          same += (list->items[j] >> 32) == old_space;
        if (same > 1)
          break;
      }
      uint64_t swap = list->items[slot];
      list->items[slot] = list->items[i];
      list->items[i] = swap;
      break;
    }
  }
}

static size_t tile_cap(size_t dim) {
  size_t cap = 1;
  while (cap < dim && cap < ((size_t)1 << 30))
    cap <<= 1;
  return cap < 32 ? 32 : cap;
}

/* ---------------------------------------------------------------------------------------------
 * Names, paths and the file format. */

static CLBlastPrecision clblast_precision(enum clb_precision precision) {
  return precision == CLB_FP64   ? CLBlastPrecisionDouble
         : precision == CLB_FP16 ? CLBlastPrecisionHalf
                                 : CLBlastPrecisionSingle;
}

void clb_tune_defaults(struct clb_tune_options *options) {
  options->m = 256;
  options->n = 64;
  options->k = 256;
  options->max_configs = 64;
  options->seed = 42;
  options->budget_s = 60.0;
  options->dry_run = 0;
}

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

/* The device name as a section header holds it (never empty). */
static void section_device_name(char *dst, size_t size, const char *name) {
  sanitize(dst, size, name);
  if (!*dst)
    snprintf(dst, size, "unnamed");
}

struct tune_entry {
  char device[256];
  char driver[128];
  char kernel[64];
  enum clb_precision precision;
  int use_defaults;
  size_t param_count;
  char names[CLB_TUNE_MAX_PARAMS][32];
  size_t values[CLB_TUNE_MAX_PARAMS];
  size_t start, end; /* byte range of the whole section in the file text */
};

struct tune_file {
  char *text;
  size_t length;
  struct tune_entry *entries;
  size_t count;
};

static void tune_file_free(struct tune_file *file) {
  free(file->text);
  free(file->entries);
  file->text = NULL;
  file->entries = NULL;
  file->count = 0;
}

/* Reads the whole file; a missing file is *missing = 1 and no error. */
static int read_text(const char *path, struct tune_file *file, int *missing,
                     struct clb_error *err) {
  *missing = 0;
  FILE *in = fopen(path, "rb");
  if (!in) {
    if (errno == ENOENT) {
      *missing = 1;
      return 0;
    }
    return clb_failf(err, CLB_E_IO, "cannot open %s: %s", path, strerror(errno));
  }
  size_t capacity = 4096, length = 0;
  char *text = malloc(capacity);
  int rc = 0;
  while (text) {
    size_t got = fread(text + length, 1, capacity - length - 1, in);
    length += got;
    if (got == 0)
      break;
    if (length + 1 == capacity) {
      char *grown = realloc(text, capacity * 2);
      if (!grown) {
        free(text);
        text = NULL;
        break;
      }
      text = grown;
      capacity *= 2;
    }
  }
  if (!text)
    rc = clb_failf(err, CLB_E_NOMEM, "out of host memory reading %s", path);
  if (rc == 0 && ferror(in))
    rc = clb_failf(err, CLB_E_IO, "cannot read %s: %s", path, strerror(errno));
  fclose(in);
  if (rc != 0) {
    free(text);
    return rc;
  }
  text[length] = '\0';
  file->text = text;
  file->length = length;
  return 0;
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

/* Parses "device=D|driver=V|precision=P|kernel=K" (the text between brackets). */
static int parse_header(char *inside, struct tune_entry *entry) {
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

/* Splits the file into sections. Lines: blank, '#' comment, "[header]" or
 * "key = value" inside a section, where an UPPERCASE key is a CLBlast
 * parameter (a whole number) and a lowercase key a field clbatch records. */
static int parse_file(const char *path, struct tune_file *file, struct clb_error *err) {
  int rc = 0;
  size_t capacity = 0;
  struct tune_entry *current = NULL;
  size_t line_number = 0;
  char *line = NULL;
  for (size_t pos = 0; pos < file->length;) {
    size_t eol = pos;
    while (eol < file->length && file->text[eol] != '\n')
      eol++;
    line_number++;
    free(line);
    line = strndup(file->text + pos, eol - pos);
    if (!line) {
      rc = clb_failf(err, CLB_E_NOMEM, "out of host memory reading %s", path);
      goto cleanup;
    }
    size_t line_start = pos;
    pos = eol < file->length ? eol + 1 : eol;
    char *text = clb_trim(line);
    if (*text == '\0' || *text == '#') {
      if (current)
        current->end = pos;
      continue;
    }
    if (*text == '[') {
      size_t len = strlen(text);
      if (len < 2 || text[len - 1] != ']') {
        rc = clb_failf(err, CLB_E_PARSE, "%s:%zu: a section header must end with ']'", path,
                       line_number);
        goto cleanup;
      }
      text[len - 1] = '\0';
      if (file->count == capacity) {
        size_t grown_capacity = capacity ? capacity * 2 : 16;
        struct tune_entry *grown = realloc(file->entries, grown_capacity * sizeof *grown);
        if (!grown) {
          rc = clb_failf(err, CLB_E_NOMEM, "out of host memory reading %s", path);
          goto cleanup;
        }
        file->entries = grown;
        capacity = grown_capacity;
      }
      current = &file->entries[file->count++];
      memset(current, 0, sizeof *current);
      int header = parse_header(text + 1, current);
      if (header == -2) {
        rc = clb_failf(err, CLB_E_PARSE, "%s:%zu: unknown precision in section header", path,
                       line_number);
        goto cleanup;
      }
      if (header != 0) {
        rc = clb_failf(err, CLB_E_PARSE,
                       "%s:%zu: expected [device=NAME|driver=VERSION|precision=P|kernel=K]",
                       path, line_number);
        goto cleanup;
      }
      current->start = line_start;
      current->end = pos;
      continue;
    }
    char *equals = strchr(text, '=');
    if (!equals) {
      rc = clb_failf(err, CLB_E_PARSE,
                     "%s:%zu: expected 'KEY = VALUE', a [section] header or a # comment", path,
                     line_number);
      goto cleanup;
    }
    *equals = '\0';
    char *key = clb_trim(text);
    char *value = clb_trim(equals + 1);
    if (!current) {
      rc = clb_failf(err, CLB_E_PARSE, "%s:%zu: '%s' comes before any [section] header", path,
                     line_number, key);
      goto cleanup;
    }
    if (*value == '\0') {
      rc = clb_failf(err, CLB_E_PARSE, "%s:%zu: key '%s' has no value", path, line_number, key);
      goto cleanup;
    }
    current->end = pos;
    if (is_param_name(key)) {
      size_t number = 0;
      struct clb_error parse_err = {0};
      if (strlen(key) >= sizeof current->names[0] ||
          clb_parse_size(value, 0, SIZE_MAX, key, &number, &parse_err) != 0) {
        rc = clb_failf(err, CLB_E_PARSE, "%s:%zu: %s", path, line_number,
                       parse_err.code ? parse_err.message : "parameter name too long");
        goto cleanup;
      }
      for (size_t i = 0; i < current->param_count; i++)
        if (strcmp(current->names[i], key) == 0) {
          rc = clb_failf(err, CLB_E_PARSE, "%s:%zu: parameter %s given twice in this section",
                         path, line_number, key);
          goto cleanup;
        }
      if (current->param_count == CLB_TUNE_MAX_PARAMS) {
        rc = clb_failf(err, CLB_E_PARSE, "%s:%zu: more than %d parameters in one section", path,
                       line_number, CLB_TUNE_MAX_PARAMS);
        goto cleanup;
      }
      snprintf(current->names[current->param_count], sizeof current->names[0], "%s", key);
      current->values[current->param_count++] = number;
    } else if (is_field_name(key)) {
      if (strcmp(key, "use_defaults") == 0) {
        if (strcmp(value, "0") != 0 && strcmp(value, "1") != 0) {
          rc = clb_failf(err, CLB_E_PARSE, "%s:%zu: use_defaults must be 0 or 1", path,
                         line_number);
          goto cleanup;
        }
        current->use_defaults = value[0] == '1';
      }
    } else {
      rc = clb_failf(err, CLB_E_PARSE,
                     "%s:%zu: '%s' is neither a CLBlast parameter (UPPER_CASE) nor a field "
                     "(lower_case)",
                     path, line_number, key);
      goto cleanup;
    }
  }
  for (size_t i = 0; i < file->count; i++)
    if (file->entries[i].use_defaults && file->entries[i].param_count > 0) {
      rc = clb_failf(err, CLB_E_PARSE,
                     "%s: section [..kernel=%s] says use_defaults = 1 but lists parameters",
                     path, file->entries[i].kernel);
      goto cleanup;
    }
cleanup:
  free(line);
  return rc;
}

static int override(cl_device_id device, const char *device_name, enum clb_precision precision,
                    const char *kernel, size_t count, const char *const *names,
                    const size_t *values, struct clb_error *err) {
  CLBlastStatusCode status = CLBlastOverrideParameters(device, kernel, clblast_precision(precision),
                                                       count, (const char **)names, values);
  if (status != CLBlastSuccess)
    return clb_fail(err, status, "CLBlastOverrideParameters", device_name, "kernel %s, %s",
                    kernel, clb_precision_name(precision));
  return 0;
}

int clb_tune_apply(const struct clb_device_info *dev, enum clb_precision precision, int *applied,
                   struct clb_error *err) {
  int rc = 0;
  int missing = 0;
  struct tune_file file = {0};
  char path[4096], name[256], driver[128];
  *applied = 0;
  clb_tune_path(path, sizeof path);
  CLB_TRY(read_text(path, &file, &missing, err));
  if (missing)
    goto cleanup;
  CLB_TRY(parse_file(path, &file, err));
  section_device_name(name, sizeof name, dev->name);
  sanitize(driver, sizeof driver, dev->driver_version);
  for (size_t i = 0; i < file.count; i++) {
    const struct tune_entry *entry = &file.entries[i];
    if (entry->precision != precision || strcmp(entry->device, name) != 0 ||
        strcmp(entry->driver, driver) != 0 || entry->use_defaults || entry->param_count == 0)
      continue;
    const char *names[CLB_TUNE_MAX_PARAMS];
    for (size_t p = 0; p < entry->param_count; p++)
      names[p] = entry->names[p];
    CLB_TRY(override(dev->device, dev->name, precision, entry->kernel, entry->param_count, names,
                     entry->values, err));
    *applied = 1;
  }
cleanup:
  tune_file_free(&file);
  return rc;
}


static void write_section(FILE *out, const char *device, const char *driver,
                          enum clb_precision precision, const struct clb_tune_kernel_result *r,
                          const struct clb_tune_options *options, const char *when) {
  fprintf(out, "\n[device=%s|driver=%s|precision=%s|kernel=%s]\n", device, driver,
          clb_precision_name(precision), r->kernel);
  if (strcmp(r->kernel, ROUTINE_KERNEL) == 0)
    fprintf(out,
            "# GEMMs with m*n*k below %s^3 take the direct kernel; placed so that the\n"
            "# representative shape takes the path measured fastest with tuned kernels.\n",
            ROUTINE_PARAM);
  else
    fprintf(out, "# %zu of %zu legal configurations timed (CLBlast's defaults included), %zu "
                 "skipped%s\n",
            r->tried, r->legal, r->skipped,
            r->use_defaults ? "; none beat CLBlast's defaults" : "");
  fprintf(out, "tuned_at = %s\n", when);
  fprintf(out, "m = %zu\nn = %zu\nk = %zu\n", options->m, options->n, options->k);
  fprintf(out, "seed = %llu\n", (unsigned long long)options->seed);
  fprintf(out, "gflops_default = %.3f\n", r->default_gflops);
  fprintf(out, "gflops_tuned = %.3f\n", r->tuned_gflops);
  fprintf(out, "use_defaults = %d\n", r->use_defaults);
  for (size_t p = 0; p < r->param_count; p++)
    fprintf(out, "%s = %zu\n", r->param_names[p], r->param_values[p]);
}

/* Rewrites the file with this device's new sections, keeping every other
 * section as it was; written to a temporary file and renamed into place. */
static int store(const char *path, const struct clb_device_info *dev,
                 enum clb_precision precision, const struct clb_tune_report *report,
                 const struct clb_tune_options *options, struct clb_error *err) {
  int rc = 0;
  int missing = 0;
  struct tune_file file = {0};
  FILE *out = NULL;
  char tmp[4200], device[256], driver[128], when[64];
  tmp[0] = '\0';
  section_device_name(device, sizeof device, dev->name);
  sanitize(driver, sizeof driver, dev->driver_version);
  CLB_TRY(read_text(path, &file, &missing, err));
  if (!missing)
    CLB_TRY(parse_file(path, &file, err)); /* never overwrite a file we cannot read back */
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

  fprintf(out, "# CLBlast parameters tuned by `clbatch tune`. One section per device, driver,\n"
               "# precision and kernel; clbatch applies a section only on a device with the\n"
               "# same name and driver version (CLBlastOverrideParameters). UPPER_CASE keys\n"
               "# are CLBlast parameters, lower_case keys are measurements and notes.\n");
  for (size_t i = 0; i < file.count; i++) {
    const struct tune_entry *entry = &file.entries[i];
    int replaced = 0;
    for (size_t kernel = 0; kernel < CLB_TUNE_KERNELS; kernel++)
      replaced |= entry->precision == precision && strcmp(entry->device, device) == 0 &&
                  strcmp(entry->driver, driver) == 0 &&
                  strcmp(entry->kernel, report->kernels[kernel].kernel) == 0;
    if (replaced)
      continue;
    size_t end = entry->end;
    while (end > entry->start && (file.text[end - 1] == '\n' || file.text[end - 1] == ' '))
      end--;
    fputc('\n', out);
    fwrite(file.text + entry->start, 1, end - entry->start, out);
    fputc('\n', out);
  }
  for (size_t kernel = 0; kernel < CLB_TUNE_KERNELS; kernel++)
    write_section(out, device, driver, precision, &report->kernels[kernel], options, when);
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
  tune_file_free(&file);
  return rc;
}

/* ---------------------------------------------------------------------------------------------
 * Timing one GEMM configuration. */

#define VERIFY_ENTRIES 4096 /* result entries checked against the host per configuration */
#define MIN_REPS 3
#define MAX_REPS 100
#define REP_TIME_S 0.2

struct bench {
  const struct clb_cl *cl;
  const char *device;
  enum clb_precision precision;
  size_t m, n, k;
  struct clb_blas blas;
  cl_mem a, b, c;
  void *host_c;       /* C as the device stores it */
  double *result;     /* C converted to double */
  size_t *check_at;   /* indices of C verified */
  double *reference;  /* their host values */
  size_t check_count;
  double tolerance;
  double times[MAX_REPS];
};

static void bench_release(struct bench *b) {
  clb_blas_release(&b->blas);
  if (b->a)
    clReleaseMemObject(b->a);
  if (b->b)
    clReleaseMemObject(b->b);
  if (b->c)
    clReleaseMemObject(b->c);
  free(b->host_c);
  free(b->result);
  free(b->check_at);
  free(b->reference);
}

static int upload(struct bench *b, const double *values, size_t count, cl_mem *out,
                  struct clb_error *err) {
  int rc = 0;
  size_t bytes = count * clb_precision_size(b->precision);
  cl_int status = CL_SUCCESS;
  void *host = malloc(bytes);
  if (!host)
    return clb_failf(err, CLB_E_NOMEM, "out of host memory for a %zu-byte GEMM operand", bytes);
  clb_precision_from_double(b->precision, values, host, count);
  *out = clCreateBuffer(b->cl->context, CL_MEM_READ_WRITE, bytes, NULL, &status);
  CLB_CHECK(status, "clCreateBuffer (tuning GEMM operand)", b->device);
  CLB_CHECK(clEnqueueWriteBuffer(b->cl->queue, *out, CL_TRUE, 0, bytes, host, 0, NULL, NULL),
            "clEnqueueWriteBuffer (tuning GEMM operand)", b->device);
cleanup:
  free(host);
  return rc;
}

/* Random operands in [-1, 1] (multiples of 1/8, exact in every precision), and
 * the host reference of a spread of C's entries, from the rounded operands. */
static int bench_init(struct bench *b, const struct clb_cl *cl, enum clb_precision precision,
                      const struct clb_tune_options *options, struct clb_error *err) {
  int rc = 0;
  double *a = NULL, *bm = NULL;
  memset(b, 0, sizeof *b);
  b->cl = cl;
  b->device = cl->info->name;
  b->precision = precision;
  b->m = options->m;
  b->n = options->n;
  b->k = options->k;
  clb_blas_init(&b->blas, cl->context, cl->queue, cl->info->name, precision);
  size_t mk = b->m * b->k, kn = b->k * b->n, mn = b->m * b->n;
  if (mk / b->m != b->k || kn / b->k != b->n || mn / b->m != b->n)
    return clb_failf(err, CLB_E_INVAL, "GEMM shape %zu x %zu x %zu is too large", b->m, b->n,
                     b->k);
  a = malloc(mk * sizeof *a);
  bm = malloc(kn * sizeof *bm);
  b->host_c = malloc(mn * clb_precision_size(precision));
  b->result = malloc(mn * sizeof *b->result);
  b->check_count = mn < VERIFY_ENTRIES ? mn : VERIFY_ENTRIES;
  b->check_at = malloc(b->check_count * sizeof *b->check_at);
  b->reference = malloc(b->check_count * sizeof *b->reference);
  if (!a || !bm || !b->host_c || !b->result || !b->check_at || !b->reference) {
    rc = clb_failf(err, CLB_E_NOMEM, "out of host memory for a %zu x %zu x %zu GEMM", b->m,
                   b->n, b->k);
    goto cleanup;
  }
  uint64_t state = options->seed ^ 0x5eedc1b1a5ull;
  for (size_t i = 0; i < mk; i++)
    a[i] = (double)((int)(clb_splitmix64(&state) % 17) - 8) / 8.0;
  for (size_t i = 0; i < kn; i++)
    bm[i] = (double)((int)(clb_splitmix64(&state) % 17) - 8) / 8.0;
  for (size_t e = 0; e < b->check_count; e++) {
    size_t at = b->check_count == mn ? e : (size_t)(clb_splitmix64(&state) % mn);
    size_t row = at / b->n, col = at % b->n;
    double sum = 0.0;
    for (size_t x = 0; x < b->k; x++)
      sum += a[row * b->k + x] * bm[x * b->n + col];
    b->check_at[e] = at;
    b->reference[e] = sum;
  }
  double eps = precision == CLB_FP64 ? 2.3e-16 : precision == CLB_FP16 ? 9.8e-4 : 1.2e-7;
  b->tolerance = 8.0 * eps * (double)b->k; /* |a|, |b| <= 1 */
  CLB_TRY(upload(b, a, mk, &b->a, err));
  CLB_TRY(upload(b, bm, kn, &b->b, err));
  cl_int status = CL_SUCCESS;
  b->c = clCreateBuffer(cl->context, CL_MEM_READ_WRITE, mn * clb_precision_size(precision), NULL,
                        &status);
  CLB_CHECK(status, "clCreateBuffer (tuning GEMM result)", b->device);
cleanup:
  free(a);
  free(bm);
  return rc;
}

static int bench_gemm(struct bench *b, struct clb_error *err) {
  return clb_blas_gemm(&b->blas, 0, 0, b->m, b->n, b->k, 1.0, b->a, 0, b->k, b->b, 0, b->n, 0.0,
                       b->c, 0, b->n, NULL, err);
}

static int compare_doubles(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

/* Runs the GEMM with whatever parameters CLBlast holds now: one warm-up (which
 * compiles), a check against the host reference, then timed repetitions.
 * *gflops gets the median. Any failure is returned for the caller to judge. */
static int bench_time(struct bench *b, double *gflops, struct clb_error *err) {
  int rc = 0;
  const size_t mn = b->m * b->n, element = clb_precision_size(b->precision);
  CLB_TRY(clb_blas_reserve_gemm(&b->blas, 0, 0, b->m, b->n, b->k, b->k, b->n, b->n, err));
  /* All-ones bytes are NaN in every precision: a kernel that writes nothing fails the check. */
  cl_uchar nan_bytes = 0xff;
  CLB_CHECK(clEnqueueFillBuffer(b->cl->queue, b->c, &nan_bytes, 1, 0, mn * element, 0, NULL, NULL),
            "clEnqueueFillBuffer (tuning GEMM result)", b->device);
  CLB_TRY(bench_gemm(b, err));
  CLB_CHECK(clFinish(b->cl->queue), "clFinish (GEMM warm-up)", b->device);
  CLB_CHECK(clEnqueueReadBuffer(b->cl->queue, b->c, CL_TRUE, 0, mn * element, b->host_c, 0, NULL,
                                NULL),
            "clEnqueueReadBuffer (tuning GEMM result)", b->device);
  clb_precision_to_double(b->precision, b->host_c, b->result, mn);
  for (size_t e = 0; e < b->check_count; e++) {
    double got = b->result[b->check_at[e]], want = b->reference[e];
    if (!(fabs(got - want) <= b->tolerance)) {
      rc = clb_failf(err, CLB_E_NUMERIC,
                     "wrong GEMM result on %s: C[%zu][%zu] = %g, expected %g", b->device,
                     b->check_at[e] / b->n, b->check_at[e] % b->n, got, want);
      goto cleanup;
    }
  }
  size_t reps = 0;
  double total = 0.0;
  while (reps < MAX_REPS && (reps < MIN_REPS || total < REP_TIME_S)) {
    double start = clb_now();
    CLB_TRY(bench_gemm(b, err));
    CLB_CHECK(clFinish(b->cl->queue), "clFinish (timed GEMM)", b->device);
    b->times[reps] = clb_now() - start;
    total += b->times[reps++];
  }
  qsort(b->times, reps, sizeof b->times[0], compare_doubles);
  double median = reps % 2 ? b->times[reps / 2]
                           : 0.5 * (b->times[reps / 2 - 1] + b->times[reps / 2]);
  if (!(median > 0.0))
    median = 1e-9;
  *gflops = 2.0 * (double)b->m * (double)b->n * (double)b->k / median * 1e-9;
cleanup:
  return rc;
}

/* ---------------------------------------------------------------------------------------------
 * The search. */

static int set_crossover(struct bench *b, size_t value, struct clb_error *err) {
  const char *name = ROUTINE_PARAM;
  return override(b->cl->info->device, b->device, b->precision, ROUTINE_KERNEL, 1, &name, &value,
                  err);
}

static void format_config(char *buf, size_t size, const struct space *space,
                          const size_t *values) {
  size_t used = 0;
  buf[0] = '\0';
  for (size_t p = 0; p < space->count && used + 1 < size; p++) {
    int wrote = snprintf(buf + used, size - used, "%s%s=%zu", p ? " " : "", space->params[p].name,
                         values[p]);
    if (wrote < 0)
      break;
    used += (size_t)wrote;
  }
}

static void result_set(struct clb_tune_kernel_result *r, const struct space *space,
                       const size_t *values) {
  r->param_count = space->count;
  for (size_t p = 0; p < space->count; p++) {
    r->param_names[p] = space->params[p].name;
    r->param_values[p] = values[p];
  }
}

/* Tunes one kernel: `spaces` are its parameter spaces, `crossover` forces the
 * path that runs it, r->default_gflops is already measured. */
static int tune_kernel(struct bench *b, const struct space *const *spaces, size_t space_count,
                       size_t crossover, const struct limits *lim,
                       const struct clb_tune_options *options, FILE *progress,
                       struct clb_tune_kernel_result *r, struct clb_error *err) {
  int rc = 0;
  struct candidates list = {0};
  size_t values[CLB_TUNE_MAX_PARAMS];
  char text[512];
  const char *kernel = spaces[0]->kernel;
  const char *precision = clb_precision_name(b->precision);
  const double start = clb_now();
  CLB_TRY(enumerate(spaces, space_count, lim, &list, err));
  r->legal = list.count;
  size_t want = options->max_configs > 0 ? options->max_configs - 1 : 0;
  if (want > list.count)
    want = list.count;
  /* The sample depends on the seed and the kernel, not on the order kernels are tuned in. */
  uint64_t seed = options->seed;
  for (const char *c = kernel; *c; c++)
    seed = seed * 31u + (unsigned char)*c;
  sample_front(&list, want, seed);
  sample_cover_spaces(&list, want, space_count, seed);
  if (progress)
    fprintf(progress, "%s %s on %s: %zu legal configurations, timing %zu plus CLBlast's defaults\n",
            precision, kernel, b->device, list.count, want);
  r->tried = options->dry_run ? 0 : 1;
  r->tuned_gflops = r->default_gflops;
  r->use_defaults = 1;
  if (!options->dry_run)
    CLB_TRY(set_crossover(b, crossover, err));
  for (size_t i = 0; i < want; i++) {
    const struct space *space = spaces[list.items[i] >> 32];
    space_decode(space, (size_t)(list.items[i] & 0xffffffffu), values);
    format_config(text, sizeof text, space, values);
    if (options->dry_run) {
      if (progress)
        fprintf(progress, "  %s %s %zu/%zu: %s\n", precision, kernel, i + 1, want, text);
      continue;
    }
    if (clb_now() - start > options->budget_s) {
      if (progress)
        fprintf(progress, "  %s %s: budget of %.0f s reached after %zu configurations\n",
                precision, kernel, options->budget_s, i);
      break;
    }
    const char *names[CLB_TUNE_MAX_PARAMS];
    for (size_t p = 0; p < space->count; p++)
      names[p] = space->params[p].name;
    /* A rejected override means CLBlast expects other names: not a bad configuration. */
    CLB_TRY(override(b->cl->info->device, b->device, b->precision, kernel, space->count, names,
                     values, err));
    r->tried++;
    double gflops = 0.0;
    struct clb_error config_err = {0};
    if (bench_time(b, &gflops, &config_err) != 0) {
      r->skipped++;
      if (progress)
        fprintf(progress, "  %s %s %zu/%zu: skipped (%s): %s\n", precision, kernel, i + 1, want,
                text, config_err.message);
      continue;
    }
    int better = gflops > r->tuned_gflops;
    if (progress)
      fprintf(progress, "  %s %s %zu/%zu: %8.2f GFLOP/s%s  %s\n", precision, kernel, i + 1, want,
              gflops, better ? " (best)" : "       ", text);
    if (better) {
      r->tuned_gflops = gflops;
      r->use_defaults = 0;
      result_set(r, space, values);
    }
  }
cleanup:
  free(list.items);
  return rc;
}

/* The largest x with x^3 <= v. */
static size_t cube_root_floor(unsigned long long v) {
  size_t x = (size_t)cbrt((double)v);
  while (x > 0 && (unsigned long long)x * x * x > v)
    x--;
  while ((unsigned long long)(x + 1) * (x + 1) * (x + 1) <= v)
    x++;
  return x;
}

int clb_tune_search(const struct clb_cl *cl, enum clb_precision precision,
                    const struct clb_tune_options *options, FILE *progress,
                    struct clb_tune_report *report, struct clb_error *err) {
  int rc = 0;
  struct bench b;
  struct clb_tune_report local;
  struct clb_tune_report *out = report ? report : &local;
  const struct clb_device_info *dev = cl->info;
  const char *name = dev->name;
  int bench_ready = 0;
  memset(out, 0, sizeof *out);
  memset(&b, 0, sizeof b);
  b.cl = cl; /* enough for a dry run's messages; bench_init fills the rest */
  b.device = name;
  b.precision = precision;
  struct clb_tune_kernel_result *indirect = &out->kernels[0], *direct = &out->kernels[1],
                                *routine = &out->kernels[2];
  indirect->kernel = "Xgemm";
  direct->kernel = "XgemmDirect";
  routine->kernel = ROUTINE_KERNEL;
  if (options->m == 0 || options->n == 0 || options->k == 0 || options->max_configs == 0 ||
      !(options->budget_s > 0.0))
    return clb_failf(err, CLB_E_INVAL,
                     "tuning needs m, n, k and max_configs of at least 1 and a positive budget");
  char reason[256];
  if (clb_device_check_precision(dev, precision, reason, sizeof reason) != 0)
    return clb_failf(err, CLB_E_UNSUPPORTED, "cannot tune %s: %s",
                     clb_precision_name(precision), reason);

  struct limits lim = {dev->max_work_group_size,
                       dev->local_mem_bytes,
                       clb_precision_size(precision),
                       tile_cap(options->m),
                       tile_cap(options->n),
                       tile_cap(options->k),
                       tile_cap(options->m > options->n ? options->m : options->n)};
  static const struct space *const xgemm_spaces[] = {&xgemm_gemmk0, &xgemm_gemmk1};
  static const struct space *const direct_spaces[] = {&direct_space};

  if (!options->dry_run) {
    CLB_TRY(bench_init(&b, cl, precision, options, err));
    bench_ready = 1;
    /* Baselines before any kernel parameter is overridden: CLBlast's own
     * choice of path, then each path forced, all on CLBlast's defaults. */
    CLB_TRY(bench_time(&b, &routine->default_gflops, err));
    CLB_TRY(set_crossover(&b, FORCE_INDIRECT, err));
    CLB_TRY(bench_time(&b, &indirect->default_gflops, err));
    CLB_TRY(set_crossover(&b, FORCE_DIRECT, err));
    CLB_TRY(bench_time(&b, &direct->default_gflops, err));
    if (progress)
      fprintf(progress,
              "%s on %s, m=%zu n=%zu k=%zu, CLBlast's defaults: %.2f GFLOP/s as chosen, "
              "%.2f indirect (Xgemm), %.2f direct (XgemmDirect)\n",
              clb_precision_name(precision), name, options->m, options->n, options->k,
              routine->default_gflops, indirect->default_gflops, direct->default_gflops);
  }
  CLB_TRY(tune_kernel(&b, xgemm_spaces, 2, FORCE_INDIRECT, &lim, options, progress, indirect,
                      err));
  CLB_TRY(tune_kernel(&b, direct_spaces, 1, FORCE_DIRECT, &lim, options, progress, direct, err));
  if (options->dry_run)
    goto cleanup;

  /* The crossover goes where the representative shape takes the faster path. */
  unsigned long long mnk =
      (unsigned long long)options->m * options->n * (unsigned long long)options->k;
  size_t root = cube_root_floor(mnk);
  int direct_wins = direct->tuned_gflops >= indirect->tuned_gflops;
  routine->legal = routine->tried = 1;
  routine->tuned_gflops = direct_wins ? direct->tuned_gflops : indirect->tuned_gflops;
  routine->param_count = 1;
  routine->param_names[0] = ROUTINE_PARAM;
  routine->param_values[0] = direct_wins ? root + 1 : root;
  if (progress)
    fprintf(progress, "%s on %s: the %s path is faster for this shape; %s = %zu\n",
            clb_precision_name(precision), name, direct_wins ? "direct" : "indirect",
            ROUTINE_PARAM, routine->param_values[0]);

  /* Leave CLBlast on the best found (where it was not CLBlast's own default). */
  for (int kernel = 0; kernel < CLB_TUNE_KERNELS; kernel++) {
    const struct clb_tune_kernel_result *r = &out->kernels[kernel];
    if (!r->use_defaults && r->param_count > 0)
      CLB_TRY(override(dev->device, name, precision, r->kernel, r->param_count,
                       r->param_names, r->param_values, err));
  }
  clb_tune_path(out->path, sizeof out->path);
  CLB_TRY(store(out->path, dev, precision, out, options, err));
cleanup:
  if (bench_ready)
    bench_release(&b);
  return rc;
}

int clb_tune_run(const struct clb_cl *cl, enum clb_precision precision,
                 const struct clb_tune_options *options, FILE *progress, struct clb_error *err) {
  return clb_tune_search(cl, precision, options, progress, NULL, err);
}
