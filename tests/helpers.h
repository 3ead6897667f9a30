/* Shared test helpers: finding PoCL's CPU device, running the CLI, temp files. */
#ifndef CLB_TEST_HELPERS_H
#define CLB_TEST_HELPERS_H

#include <stddef.h>

#include "platform.h"

/* Picks the first CPU device (PoCL under CI). With no OpenCL platform the test
 * is skipped, unless CI=true, where a missing device is a failure. Returns 1
 * when `out` holds a device, 0 after cr_skip. `list` must be freed by caller. */
int clb_test_cpu_device(struct clb_device_list *list, const struct clb_device_info **out);

/* For tests that only need a CPU device to exist (the CLI finds it itself):
 * 1 when there is one; otherwise skips (or fails under CI) like the above. */
int clb_test_require_cpu_device(void);

/* Removes a temporary directory and everything in it. */
void clb_test_remove_dir(const char *dir);

/* Runs `clbatch ARGS...` (shell words, space separated) and captures its output.
 * Returns the exit code; *out and *err (malloc'd, may be NULL) get stdout/stderr. */
int clb_test_run_cli(const char *args, char **out, char **err);

/* A fresh temporary directory path (malloc'd), created. */
char *clb_test_tmpdir(void);

/* Writes `text` to DIR/NAME and returns the path (malloc'd). */
char *clb_test_write_file(const char *dir, const char *name, const char *text);

/* Reads a whole file (malloc'd, NUL-terminated), or NULL. */
char *clb_test_read_file(const char *path);

#endif
