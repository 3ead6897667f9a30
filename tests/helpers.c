#include "helpers.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int clb_test_cpu_device(struct clb_device_list *list, const struct clb_device_info **out) {
  struct clb_error err = {0};
  *out = NULL;
  int rc = clb_platform_list(list, &err);
  const char *ci = getenv("CI");
  int under_ci = ci && strcmp(ci, "true") == 0;
  if (rc != 0) {
    if (under_ci)
      cr_assert_fail("CI needs PoCL's CPU device but: %s", err.message);
    cr_skip("no OpenCL device here: %s", err.message);
    return 0;
  }
  for (size_t i = 0; i < list->count; i++)
    if (list->items[i].type & CL_DEVICE_TYPE_CPU) {
      *out = &list->items[i];
      return 1;
    }
  if (under_ci)
    cr_assert_fail("CI needs PoCL's CPU device, but no CPU OpenCL device was found");
  cr_skip("no OpenCL CPU device here");
  return 0;
}

int clb_test_require_cpu_device(void) {
  struct clb_device_list list = {0};
  const struct clb_device_info *cpu = NULL;
  if (!clb_test_cpu_device(&list, &cpu))
    return 0;
  clb_platform_list_free(&list);
  return 1;
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
  char command[8192];
  snprintf(command, sizeof command, "%s %s >%s/out 2>%s/err </dev/null", CLBATCH_BINARY, args,
           dir, dir);
  int status = system(command);
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
