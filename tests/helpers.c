#include "helpers.h"

#include <criterion/criterion.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char test_device_spec[32];

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
  return (dev->type & CL_DEVICE_TYPE_CPU) && (strstr(dev->platform_vendor, "pocl") ||
                                               strstr(dev->platform_name, "Portable Computing"));
}

int clb_test_device(struct clb_device_list *list, const struct clb_device_info **out) {
  struct clb_error err = {0};
  char why[1400];
  *out = NULL;
  if (clb_platform_list(list, &err) != 0) {
    snprintf(why, sizeof why, "no OpenCL device here: %s", err.message);
    return no_test_device(why);
  }
  const char *spec = getenv("CLBATCH_TEST_DEVICE");
  if (spec && *spec) {
    int *selected = calloc(list->count, sizeof *selected);
    cr_assert_not_null(selected);
    if (clb_platform_select(list, spec, selected, &err) != 0) {
      free(selected);
      cr_assert_fail("CLBATCH_TEST_DEVICE: %s", err.message);
    }
    size_t chosen = 0, index = 0;
    for (size_t i = 0; i < list->count; i++)
      if (selected[i]) {
        chosen++;
        index = i;
      }
    free(selected);
    cr_assert_eq(chosen, 1, "CLBATCH_TEST_DEVICE='%s' selects %zu devices; name one (P:D)",
                 spec, chosen);
    *out = &list->items[index];
  } else {
    for (size_t i = 0; i < list->count && !*out; i++)
      if (is_pocl_cpu(&list->items[i]))
        *out = &list->items[i];
    if (!*out) {
      clb_platform_list_free(list);
      return no_test_device("PoCL's CPU device is not registered (apt-get install "
                            "pocl-opencl-icd), and CLBATCH_TEST_DEVICE names no other");
    }
  }
  clb_device_id_string(*out, test_device_spec, sizeof test_device_spec);
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
      return 1;
    }
  }
  clb_platform_list_free(list);
  *out = NULL;
  snprintf(why, sizeof why, "no registered device supports %s", clb_precision_name(precision));
  if (precision == CLB_FP16 && clb_test_vendor_expected("intel-cpu"))
    cr_assert_fail("%s, yet Intel's CPU runtime (cl_khr_fp16) is installed in .vendors/", why);
  cr_skip("%s", why);
  return 0;
}

int clb_test_require_device(void) {
  struct clb_device_list list = {0};
  const struct clb_device_info *device = NULL;
  if (!clb_test_device(&list, &device))
    return 0;
  clb_platform_list_free(&list);
  return 1;
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
  snprintf(command, size, "%s %s >%s/out 2>%s/err </dev/null", CLBATCH_BINARY, expanded, dir,
           dir);
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

double clb_test_relative_error(const double *a, const double *b, size_t n) {
  double diff = 0, ref = 0;
  for (size_t i = 0; i < n; i++) {
    diff += (a[i] - b[i]) * (a[i] - b[i]);
    ref += b[i] * b[i];
  }
  return sqrt(diff) / (sqrt(ref) + 1e-30);
}

static int decimal_comma(void) { return localeconv()->decimal_point[0] == ','; }

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
  static const char *const installed[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8",
                                          "fr_FR.utf8"};
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
