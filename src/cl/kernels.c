#include "cl/kernels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/grow.h"

static char *kernel_dir = NULL;

int clb_kernels_set_dir(const char *dir, struct clb_error *err) {
  free(kernel_dir);
  kernel_dir = NULL;
  if (dir) {
    kernel_dir = strdup(dir);
    if (!kernel_dir)
      return clb_failf(err, CLB_E_NOMEM, "out of memory keeping the kernel folder %s", dir);
  }
  return 0;
}

static const struct clb_kernel_source *find_embedded(const char *name) {
  for (size_t i = 0; i < clb_embedded_kernel_count; i++)
    if (strcmp(clb_embedded_kernels[i].name, name) == 0)
      return &clb_embedded_kernels[i];
  return NULL;
}

/* Reads DIR/NAME.cl into a new NUL-terminated buffer the caller frees. */
static char *read_kernel_file(const char *name, size_t *length) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.cl", kernel_dir, name);
  FILE *file = fopen(path, "rb");
  if (!file)
    return NULL;
  char *text = NULL;
  if (fseek(file, 0, SEEK_END) == 0) {
    long size = ftell(file);
    if (size >= 0 && fseek(file, 0, SEEK_SET) == 0 && (text = malloc((size_t)size + 1))) {
      *length = fread(text, 1, (size_t)size, file);
      text[*length] = '\0';
    }
  }
  fclose(file);
  return text;
}

static void attach_build_log(cl_program program, cl_device_id device, struct clb_error *err) {
  size_t log_size = 0;
  if (clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, 0, NULL, &log_size) !=
          CL_SUCCESS ||
      log_size == 0)
    return;
  char *log = malloc(log_size + 1);
  if (!log)
    return;
  if (clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, log_size, log, NULL) ==
      CL_SUCCESS) {
    log[log_size] = '\0';
    size_t used = strlen(err->message);
    if (used + 16 < sizeof err->message)
      snprintf(err->message + used, sizeof err->message - used, "; build log: %s", log);
  }
  free(log);
}

int clb_program_build(cl_context context, cl_device_id device, const char *device_name,
                      const char *name, const char *options, cl_program *out,
                      struct clb_error *err) {
  int rc = 0;
  cl_int status = CL_SUCCESS;
  char *file_text = NULL;
  cl_program program = NULL;
  const char *text = NULL;
  size_t length = 0;
  *out = NULL;

  if (kernel_dir) {
    file_text = read_kernel_file(name, &length);
    if (!file_text)
      return clb_failf(err, CLB_E_IO, "cannot read kernel source %s/%s.cl", kernel_dir, name);
    text = file_text;
  } else {
    const struct clb_kernel_source *source = find_embedded(name);
    if (!source)
      return clb_failf(err, CLB_E_INVAL, "no embedded kernel source named '%s'", name);
    text = source->text;
    length = source->length;
  }
  program = clCreateProgramWithSource(context, 1, &text, &length, &status);
  CLB_CHECK(status, "clCreateProgramWithSource", device_name);
  status = clBuildProgram(program, 1, &device, options ? options : "", NULL, NULL);
  if (status != CL_SUCCESS) {
    rc = clb_fail(err, status, "clBuildProgram", device_name, "kernels/%s.cl with '%s'", name,
                  options ? options : "");
    attach_build_log(program, device, err);
    goto cleanup;
  }
  *out = program;
  program = NULL;

cleanup:
  if (program)
    clReleaseProgram(program);
  free(file_text);
  return rc;
}

struct cached_program {
  cl_context context;
  cl_device_id device;
  char *name, *options;
  cl_program program;
};

struct clb_program_cache {
  struct cached_program *items;
  size_t count, cap;
};

int clb_program_cache_create(struct clb_program_cache **out, struct clb_error *err) {
  *out = calloc(1, sizeof **out);
  if (!*out)
    return clb_failf(err, CLB_E_NOMEM, "out of host memory for the program cache");
  return 0;
}

void clb_program_cache_destroy(struct clb_program_cache *cache) {
  if (!cache)
    return;
  for (size_t i = 0; i < cache->count; i++) {
    clReleaseProgram(cache->items[i].program);
    free(cache->items[i].name);
    free(cache->items[i].options);
  }
  free(cache->items);
  free(cache);
}

static int same_entry(const struct cached_program *entry, cl_context context,
                      cl_device_id device, const char *name, const char *options) {
  return entry->context == context && entry->device == device &&
         strcmp(entry->name, name) == 0 && strcmp(entry->options, options) == 0;
}

int clb_program_cache_get(struct clb_program_cache *cache, cl_context context,
                          cl_device_id device, const char *device_name, const char *name,
                          const char *options, cl_program *out, struct clb_error *err) {
  const char *opts = options ? options : "";
  for (size_t i = 0; i < cache->count; i++)
    if (same_entry(&cache->items[i], context, device, name, opts)) {
      *out = cache->items[i].program;
      return 0;
    }
  if (cache->count == cache->cap) {
    struct cached_program *grown =
        clb_grow(cache->items, &cache->cap, cache->count + 1, sizeof *grown, 4);
    if (!grown)
      return clb_failf(err, CLB_E_NOMEM, "out of host memory for the program cache");
    cache->items = grown;
  }
  struct cached_program entry = {context, device, strdup(name), strdup(opts), NULL};
  int rc = 0;
  if (!entry.name || !entry.options) {
    rc = clb_failf(err, CLB_E_NOMEM, "out of host memory for the program cache");
    goto cleanup;
  }
  CLB_TRY(clb_program_build(context, device, device_name, name, opts, &entry.program, err));
  cache->items[cache->count++] = entry;
  *out = entry.program;
  return 0;
cleanup:
  free(entry.name);
  free(entry.options);
  return rc;
}

size_t clb_program_cache_builds(const struct clb_program_cache *cache) {
  return cache ? cache->count : 0;
}
