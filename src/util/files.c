#include "util/files.h"

#include <errno.h>
#include <string.h>

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
    remove(af->tmp);
    return clb_failf(err, CLB_E_IO, "cannot write %s", af->path);
  }
  return 0;
}

void clb_atomic_abandon(struct clb_atomic_file *af) {
  if (af->file)
    fclose(af->file);
  af->file = NULL;
  remove(af->tmp);
}
