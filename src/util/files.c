#include "util/files.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int clb_atomic_open(struct clb_atomic_file *out, const char *path, struct clb_error *err) {
  out->file = NULL;
  if (strlen(path) >= sizeof out->path)
    return clb_failf(err, CLB_E_INVAL, "path too long: %s", path);
  snprintf(out->path, sizeof out->path, "%s", path);
  snprintf(out->tmp, sizeof out->tmp, "%s.tmp", path);
  out->file = fopen(out->tmp, "w");
  if (!out->file)
    return clb_failf(err, CLB_E_IO, "cannot write %s: %s", out->tmp, strerror(errno));
  return 0;
}

int clb_atomic_commit(struct clb_atomic_file *af, struct clb_error *err) {
  int failed = ferror(af->file);
  failed |= fclose(af->file) != 0;
  af->file = NULL;
  if (failed || rename(af->tmp, af->path) != 0) {
    int error = errno;
    remove(af->tmp);
    return clb_failf(err, CLB_E_IO, "cannot write %s: %s", af->path, strerror(error));
  }
  return 0;
}

void clb_atomic_abandon(struct clb_atomic_file *af) {
  if (af->file)
    fclose(af->file);
  af->file = NULL;
  remove(af->tmp);
}

int clb_file_write_atomic(const char *path, const void *data, size_t size, struct clb_error *err) {
  struct clb_atomic_file file;
  int rc = clb_atomic_open(&file, path, err);
  if (rc != 0)
    return rc;
  if (size && fwrite(data, 1, size, file.file) != size) {
    clb_atomic_abandon(&file);
    return clb_failf(err, CLB_E_IO, "cannot write %s: %s", path, strerror(errno));
  }
  return clb_atomic_commit(&file, err);
}

/* mkdir that accepts an existing folder, but not an existing file. */
static int make_dir(const char *path, struct clb_error *err) {
  if (mkdir(path, 0777) == 0)
    return 0;
  int error = errno;
  if (error == EEXIST) {
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
      return 0;
    error = ENOTDIR;
  }
  return clb_failf(err, CLB_E_IO, "cannot create directory %s: %s", path, strerror(error));
}

int clb_mkdir_p(const char *dir, struct clb_error *err) {
  char buf[4096];
  if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf)
    return clb_failf(err, CLB_E_INVAL, "path too long: %s", dir);
  if (!buf[0])
    return 0;
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    int rc = make_dir(buf, err);
    if (rc != 0)
      return rc;
    *p = '/';
  }
  return make_dir(buf, err);
}

int clb_mkdir_parents(const char *file, struct clb_error *err) {
  char dir[4096];
  if (snprintf(dir, sizeof dir, "%s", file) >= (int)sizeof dir)
    return clb_failf(err, CLB_E_INVAL, "path too long: %s", file);
  char *slash = strrchr(dir, '/');
  if (!slash || slash == dir)
    return 0;
  *slash = '\0';
  return clb_mkdir_p(dir, err);
}

int clb_file_read(const char *path, char **text, size_t *size, struct clb_error *err) {
  FILE *file = fopen(path, "rb");
  *text = NULL;
  *size = 0;
  if (!file)
    return clb_failf(err, CLB_E_IO, "%s: cannot open: %s", path, strerror(errno));
  size_t cap = 65536, len = 0;
  char *buf = malloc(cap + 1);
  int rc = 0;
  if (!buf) {
    rc = clb_failf(err, CLB_E_NOMEM, "%s: out of memory", path);
    goto cleanup;
  }
  for (;;) {
    if (len == cap) {
      char *grown = realloc(buf, cap * 2 + 1);
      if (!grown) {
        rc = clb_failf(err, CLB_E_NOMEM, "%s: out of memory", path);
        goto cleanup;
      }
      buf = grown;
      cap *= 2;
    }
    size_t n = fread(buf + len, 1, cap - len, file);
    len += n;
    if (n == 0)
      break;
  }
  if (ferror(file)) {
    rc = clb_failf(err, CLB_E_IO, "%s: cannot read: %s", path, strerror(errno));
    goto cleanup;
  }
  buf[len] = '\0';
  *text = buf;
  *size = len;
  buf = NULL;
cleanup:
  free(buf);
  fclose(file);
  return rc;
}

int clb_path_ends_with(const char *path, const char *suffix) {
  size_t len = strlen(path), n = strlen(suffix);
  return len >= n && strcmp(path + len - n, suffix) == 0;
}

void clb_path_sibling(const char *path, const char *suffix, char *buf, size_t size) {
  size_t len = strlen(path);
  if (len > 4 && clb_path_ends_with(path, ".csv"))
    len -= 4;
  snprintf(buf, size, "%.*s%s", (int)len, path, suffix);
}
