#include "helpers.h"

#include <criterion/criterion.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "blas/blas.h"
#include "blas/tune.h"

/* A test's runs stay out of the user's speed history, and its timings out
 * of theirs, however the test binary is started (ctest or by hand); the
 * tests of the history name their own file with --speed-history. */
__attribute__((constructor)) static void keep_out_of_the_speed_history(void) {
  setenv("CLBATCH_SPEED_HISTORY", "none", 0);
}

static char test_device_spec[32];
static int test_device_untuned = -1; /* clb_test_untuned_source */

static int under_ci(void) {
  const char *ci = getenv("CI");
  return ci && strcmp(ci, "true") == 0;
}

/* Skips, or fails under CI, with the reason; always returns 0. */
static int no_test_device(const char *why) {
  if (under_ci())
    cr_assert_fail("CI needs the test device, but %s", why);
  cr_skip("%s", why);
  return 0;
}

static int is_pocl_cpu(const struct clb_device_info *dev) {
  return (dev->type & CL_DEVICE_TYPE_CPU) &&
         (strstr(dev->platform_vendor, "pocl") || strstr(dev->platform_name, "Portable Computing"));
}

/* The finding part of clb_test_device, without Criterion calls so a child
 * process may run it: 0 with *out set, 1 when there is no device (skip, or
 * fail under CI), 2 when CLBATCH_TEST_DEVICE is wrong (fail); `why` says why. */
enum { FOUND = 0, NO_DEVICE = 1, BAD_SPEC = 2 };

static int find_test_device(struct clb_device_list *list, const struct clb_device_info **out,
                            char *why, size_t size) {
  struct clb_error err = {0};
  *out = NULL;
  if (clb_platform_list(list, &err) != 0) {
    snprintf(why, size, "no OpenCL device here: %s", err.message);
    return NO_DEVICE;
  }
  const char *spec = getenv("CLBATCH_TEST_DEVICE");
  if (spec && *spec) {
    int *selected = calloc(list->count ? list->count : 1, sizeof *selected);
    if (!selected || clb_platform_select(list, spec, selected, &err) != 0) {
      snprintf(why, size, "CLBATCH_TEST_DEVICE: %s", selected ? err.message : "out of memory");
      free(selected);
      return BAD_SPEC;
    }
    size_t chosen = 0, index = 0;
    for (size_t i = 0; i < list->count; i++)
      if (selected[i]) {
        chosen++;
        index = i;
      }
    free(selected);
    if (chosen != 1) {
      snprintf(why, size, "CLBATCH_TEST_DEVICE='%s' selects %zu devices; name one (P:D)", spec,
               chosen);
      return BAD_SPEC;
    }
    *out = &list->items[index];
  } else {
    for (size_t i = 0; i < list->count && !*out; i++)
      if (is_pocl_cpu(&list->items[i]))
        *out = &list->items[i];
    if (!*out) {
      clb_platform_list_destroy(list);
      snprintf(why, size,
               "PoCL's CPU device is not registered (apt-get install "
               "pocl-opencl-icd), and CLBATCH_TEST_DEVICE names no other");
      return NO_DEVICE;
    }
  }
  return FOUND;
}

/* Skips or fails for a result of find_test_device other than FOUND. */
static int not_found(int found, const char *why) {
  if (found == BAD_SPEC)
    cr_assert_fail("%s", why);
  return no_test_device(why);
}

/* Where an untuned fp32 run on the test device takes CLBlast's parameters from. */
static int untuned_source(const struct clb_device_info *dev) {
  size_t count = 0;
  return clb_tune_start_sets(dev, CLB_FP32, &count) ? 2 : 0;
}

int clb_test_device(struct clb_device_list *list, const struct clb_device_info **out) {
  char why[1400];
  int found = find_test_device(list, out, why, sizeof why);
  if (found != FOUND)
    return not_found(found, why);
  clb_device_id_string(*out, test_device_spec, sizeof test_device_spec);
  test_device_untuned = untuned_source(*out);
  return 1;
}

int clb_test_device_for(struct clb_device_list *list, const struct clb_device_info **out,
                        enum clb_precision precision) {
  if (!clb_test_device(list, out))
    return 0;
  char why[512];
  if (clb_device_check_precision(*out, precision, why, sizeof why) == 0)
    return 1;
  for (size_t i = 0; i < list->count; i++) {
    const struct clb_device_info *dev = &list->items[i];
    /* Oclgrind simulates every kernel: minutes for one CLBlast GEMM. */
    if (!strstr(dev->platform_name, "Oclgrind") &&
        clb_device_check_precision(dev, precision, why, sizeof why) == 0) {
      *out = dev;
      clb_device_id_string(dev, test_device_spec, sizeof test_device_spec);
      test_device_untuned = untuned_source(dev);
      return 1;
    }
  }
  clb_platform_list_destroy(list);
  *out = NULL;
  snprintf(why, sizeof why, "no registered device supports %s", clb_precision_name(precision));
  if (precision == CLB_FP16 && clb_test_vendor_expected("intel-cpu"))
    cr_assert_fail("%s, yet Intel's CPU runtime (cl_khr_fp16) is installed in .vendors/", why);
  cr_skip("%s", why);
  return 0;
}

int clb_test_open_cl(struct clb_device_list *list, const struct clb_device_info **dev,
                     struct clb_cl *cl, enum clb_precision precision) {
  if (!clb_test_device_for(list, dev, precision))
    return 0;
  struct clb_error err = {0};
  cr_assert_eq(clb_cl_create(*dev, cl, &err), 0, "%s", err.message);
  return 1;
}

void clb_test_close_cl(struct clb_device_list *list, struct clb_cl *cl) {
  clb_cl_destroy(cl);
  clb_platform_list_destroy(list);
}

void clb_test_set_gemm_crossover(const struct clb_device_info *dev, enum clb_precision precision,
                                 size_t crossover) {
  const char *names[] = {CLB_TUNE_ROUTINE_PARAM};
  const size_t values[] = {crossover};
  struct clb_error err = {0};
  cr_assert_eq(clb_blas_override(dev->device, dev->name, precision, CLB_TUNE_ROUTINE_KERNEL, 1,
                                 names, values, &err),
               0, "%s", err.message);
}

int clb_test_require_device(void) {
  struct clb_device_list list = {0};
  const struct clb_device_info *device = NULL;
  if (!clb_test_device(&list, &device))
    return 0;
  clb_platform_list_destroy(&list);
  return 1;
}

int clb_test_require_device_unloaded(void) {
  /* What the child found: the find_test_device result, then the spec or why. */
  struct {
    int found;
    int untuned;
    char text[1400];
  } answer = {NO_DEVICE, -1, "the child that lists the devices failed"};
  int fds[2];
  cr_assert_eq(pipe(fds), 0);
  fflush(NULL);
  pid_t pid = fork();
  cr_assert_geq(pid, 0, "fork failed");
  if (pid == 0) {
    close(fds[0]);
    struct clb_device_list list = {0};
    const struct clb_device_info *device = NULL;
    answer.found = find_test_device(&list, &device, answer.text, sizeof answer.text);
    if (answer.found == FOUND) {
      clb_device_id_string(device, answer.text, sizeof answer.text);
      answer.untuned = untuned_source(device);
      clb_platform_list_destroy(&list);
    }
    ssize_t written = write(fds[1], &answer, sizeof answer);
    _exit(written == (ssize_t)sizeof answer ? 0 : 1);
  }
  close(fds[1]);
  size_t got = 0;
  while (got < sizeof answer) {
    ssize_t n = read(fds[0], (char *)&answer + got, sizeof answer - got);
    if (n <= 0)
      break;
    got += (size_t)n;
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (got < sizeof answer)
    answer.found = NO_DEVICE;
  if (answer.found != FOUND)
    return not_found(answer.found, answer.text);
  snprintf(test_device_spec, sizeof test_device_spec, "%.31s", answer.text);
  test_device_untuned = answer.untuned;
  return 1;
}

int clb_test_untuned_source(void) {
  cr_assert(test_device_untuned >= 0, "call clb_test_require_device() first");
  return test_device_untuned;
}

const char *clb_test_device_spec(void) {
  cr_assert(test_device_spec[0], "call clb_test_require_device() before naming the device");
  return test_device_spec;
}

char *clb_test_expand_device(const char *text) {
  static const char token[] = "@DEV";
  size_t count = 0;
  for (const char *p = strstr(text, token); p; p = strstr(p + 1, token))
    count++;
  const char *spec = count ? clb_test_device_spec() : "";
  char *expanded = malloc(strlen(text) + count * strlen(spec) + 1);
  cr_assert_not_null(expanded);
  char *dst = expanded;
  for (const char *src = text; *src;) {
    if (strncmp(src, token, sizeof token - 1) == 0) {
      dst += sprintf(dst, "%s", spec);
      src += sizeof token - 1;
    } else {
      *dst++ = *src++;
    }
  }
  *dst = '\0';
  return expanded;
}

int clb_test_vendor_expected(const char *name) {
  const char *vendors = getenv("CLBATCH_TEST_VENDORS");
  size_t len = strlen(name);
  for (const char *p = vendors ? strstr(vendors, name) : NULL; p; p = strstr(p + 1, name))
    if ((p == vendors || p[-1] == ' ') && (p[len] == '\0' || p[len] == ' '))
      return 1;
  return 0;
}

void clb_test_remove_dir(const char *dir) {
  char command[4200];
  snprintf(command, sizeof command, "rm -rf '%s'", dir);
  (void)!system(command);
}

static char *read_fd_all(int fd) {
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  for (;;) {
    if (len + 1024 > cap)
      buf = realloc(buf, cap *= 2);
    ssize_t n = read(fd, buf + len, cap - len - 1);
    if (n <= 0)
      break;
    len += (size_t)n;
  }
  buf[len] = '\0';
  return buf;
}

int clb_test_run_cli(const char *args, char **out, char **err) {
  char *dir = clb_test_tmpdir();
  char *expanded = clb_test_expand_device(args);
  size_t size = strlen(expanded) + 2 * strlen(dir) + sizeof CLBATCH_BINARY + 64;
  char *command = malloc(size);
  cr_assert_not_null(command);
  snprintf(command, size, "%s %s >%s/out 2>%s/err </dev/null", CLBATCH_BINARY, expanded, dir, dir);
  free(expanded);
  int status = system(command);
  free(command);
  char path[4096];
  snprintf(path, sizeof path, "%s/out", dir);
  char *stdout_text = clb_test_read_file(path);
  snprintf(path, sizeof path, "%s/err", dir);
  char *stderr_text = clb_test_read_file(path);
  if (out)
    *out = stdout_text;
  else
    free(stdout_text);
  if (err)
    *err = stderr_text;
  else
    free(stderr_text);
  clb_test_remove_dir(dir);
  free(dir);
  if (status == -1 || !WIFEXITED(status))
    return -1;
  return WEXITSTATUS(status);
}

char *clb_test_tmpdir(void) {
  char *path = strdup("/tmp/clbatch-test-XXXXXX");
  cr_assert_not_null(mkdtemp(path), "mkdtemp failed");
  return path;
}

char *clb_test_write_file(const char *dir, const char *name, const char *text) {
  size_t size = strlen(dir) + strlen(name) + 2;
  char *path = malloc(size);
  snprintf(path, size, "%s/%s", dir, name);
  FILE *file = fopen(path, "wb");
  cr_assert_not_null(file, "cannot write %s", path);
  fputs(text, file);
  fclose(file);
  return path;
}

char *clb_test_read_file(const char *path) {
  FILE *file = fopen(path, "rb");
  if (!file)
    return NULL;
  char *text = read_fd_all(fileno(file));
  fclose(file);
  return text;
}

void clb_test_remove_tmpdir(char *dir) {
  clb_test_remove_dir(dir);
  free(dir);
}

size_t clb_test_count_lines(const char *text) {
  size_t n = 0;
  for (; text && *text; text++)
    n += *text == '\n';
  return n;
}

size_t clb_test_count_file_lines(const char *path) {
  char *text = clb_test_read_file(path);
  size_t n = clb_test_count_lines(text);
  free(text);
  return n;
}

size_t clb_test_count_of(const char *text, const char *needle) {
  size_t n = 0, len = strlen(needle);
  for (const char *p = text; len && (p = strstr(p, needle)) != NULL; p += len)
    n++;
  return n;
}

double clb_test_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

double clb_test_relative_error(const double *a, const double *b, size_t n) {
  double diff = 0, ref = 0;
  for (size_t i = 0; i < n; i++) {
    diff += (a[i] - b[i]) * (a[i] - b[i]);
    ref += b[i] * b[i];
  }
  return sqrt(diff) / (sqrt(ref) + 1e-30);
}

static int decimal_comma(void) {
  return localeconv()->decimal_point[0] == ',';
}

/* Compiles de_DE.UTF-8 into DIR/de_DE.UTF-8 unless it is there: into a
 * fresh sibling first, renamed into place, so parallel tests never see half
 * a locale. Returns 1 when DIR holds it. */
static int build_comma_locale(const char *dir) {
  char path[1200], tmp[1200], command[2600];
  snprintf(path, sizeof path, "%s/de_DE.UTF-8/LC_NUMERIC", dir);
  if (access(path, R_OK) == 0)
    return 1;
  if (access("/usr/share/i18n/locales/de_DE", R_OK) != 0)
    return 0;
  snprintf(command, sizeof command, "mkdir -p '%s'", dir);
  if (system(command) != 0)
    return 0;
  snprintf(tmp, sizeof tmp, "%s/build-XXXXXX", dir);
  if (!mkdtemp(tmp))
    return 0;
  /* -c: localedef exits 1 on mere warnings; the file's presence decides. */
  snprintf(command, sizeof command,
           "localedef -c -i de_DE -f UTF-8 '%s/de_DE.UTF-8' >/dev/null 2>&1", tmp);
  (void)!system(command);
  char built[1300], target[1200];
  snprintf(built, sizeof built, "%s/de_DE.UTF-8", tmp);
  snprintf(target, sizeof target, "%s/de_DE.UTF-8", dir);
  (void)!rename(built, target); /* fails harmlessly when another test won the race */
  clb_test_remove_dir(tmp);
  return access(path, R_OK) == 0;
}

int clb_test_comma_locale(void) {
  static const char *const installed[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8"};
  for (size_t i = 0; i < sizeof installed / sizeof installed[0]; i++)
    if (setlocale(LC_NUMERIC, installed[i]) && decimal_comma())
      return 1;
  setlocale(LC_NUMERIC, "C");
  char dir[1024];
  const char *cache = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
  if (cache && *cache)
    snprintf(dir, sizeof dir, "%s/clbatch/locale", cache);
  else if (home && *home)
    snprintf(dir, sizeof dir, "%s/.cache/clbatch/locale", home);
  else
    snprintf(dir, sizeof dir, "/tmp/clbatch-locale-%ld", (long)getuid());
  if (!build_comma_locale(dir))
    return 0;
  /* LOCPATH is read by setlocale itself; the child processes that CLI tests
   * start should not inherit it, so it is put back at once. */
  const char *old = getenv("LOCPATH");
  char *saved = old ? strdup(old) : NULL;
  setenv("LOCPATH", dir, 1);
  int ok = setlocale(LC_NUMERIC, "de_DE.UTF-8") && decimal_comma();
  if (saved) {
    setenv("LOCPATH", saved, 1);
    free(saved);
  } else {
    unsetenv("LOCPATH");
  }
  if (!ok)
    setlocale(LC_NUMERIC, "C");
  return ok;
}

struct clb_row *clb_test_read_rows(const char *path, size_t *count) {
  struct clb_row *rows = NULL;
  struct clb_error err = {0};
  char warning[512] = "";
  *count = 0;
  cr_assert_eq(clb_results_read(path, &rows, count, warning, sizeof warning, &err), 0, "%s",
               err.message);
  return rows;
}
