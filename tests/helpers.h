/* Shared test helpers: finding PoCL's CPU device, running the CLI, temp files. */
#ifndef CLB_TEST_HELPERS_H
#define CLB_TEST_HELPERS_H

#include <stddef.h>

#include "cl/context.h"
#include "cl/platform.h"
#include "results/results.h"
#include "util/precision.h"

/* The one device the suite runs on, whatever other vendors are registered:
 * CLBATCH_TEST_DEVICE (a --device spec that must select exactly one device,
 * e.g. "intel" or "1:0"), else PoCL's CPU device. Without it the test is
 * skipped, unless CI=true, where a missing device is a failure. Returns 1 when
 * `out` holds the device, 0 after cr_skip. `list` must be freed by caller. */
int clb_test_device(struct clb_device_list *list, const struct clb_device_info **out);

/* Like clb_test_device, for a precision: the test device when it supports
 * `precision`, else another registered device that does (fp16: Intel's CPU
 * runtime here). None is a skip, or a failure when a vendor installed by
 * scripts/install-vendor.sh that offers it is expected (clb_test_vendor_expected). */
int clb_test_device_for(struct clb_device_list *list, const struct clb_device_info **out,
                        enum clb_precision precision);

/* clb_test_device_for and a context on that device (*cl, which the caller
 * destroys before `list`). Returns 1, or 0 when the test was skipped. */
int clb_test_open_cl(struct clb_device_list *list, const struct clb_device_info **dev,
                     struct clb_cl *cl, enum clb_precision precision);

/* Undoes clb_test_open_cl: the context, then the device list it points into. */
void clb_test_close_cl(struct clb_device_list *list, struct clb_cl *cl);

/* Sends this process's GEMMs on `dev` in `precision` to CLBlast's indirect
 * path from m*n*k >= crossover^3 on (XGEMM_MIN_INDIRECT_SIZE): 0 sends every
 * GEMM there, a huge value none. Asserts that CLBlast took it. */
void clb_test_set_gemm_crossover(const struct clb_device_info *dev, enum clb_precision precision,
                                 size_t crossover);

/* For tests that drive the CLI: 1 when the test device exists (see above),
 * otherwise skips or fails like clb_test_device. */
int clb_test_require_device(void);

/* Like clb_test_require_device for a test that forks a process which opens
 * the device itself (the sweep's worker): the devices are listed in a
 * short-lived child, so this process never loads an OpenCL driver. Drivers
 * start threads when they load (PoCL, Intel's runtime), and a forked copy of
 * a process with threads can deadlock on a lock one of them held. */
int clb_test_require_device_unloaded(void);

/* The test device as a --device value ("P:D"); the test must have called
 * clb_test_require_device, clb_test_require_device_unloaded or
 * clb_test_device first. */
const char *clb_test_device_spec(void);

/* The `tuned` value of the test device's rows when nothing is tuned: 2 on a
 * CPU that gets clbatch's starting sets (blas/cpu_start.h), else 0. Needs
 * one of the clb_test_require_device functions first. */
int clb_test_untuned_source(void);

/* A copy of `text` (malloc'd) with every "@DEV" replaced by the test device's
 * --device value, so CLI tests name their device explicitly. */
char *clb_test_expand_device(const char *text);

/* Whether a vendor installed by scripts/install-vendor.sh (and so named in
 * CLBATCH_TEST_VENDORS by scripts/env.sh) is expected to be registered. */
int clb_test_vendor_expected(const char *name);

/* Removes a temporary directory and everything in it. */
void clb_test_remove_dir(const char *dir);

/* Runs `clbatch ARGS...` (shell words, space separated; "@DEV" is the test
 * device, see clb_test_expand_device) and captures its output.
 * Returns the exit code; *out and *err (malloc'd, may be NULL) get stdout/stderr. */
int clb_test_run_cli(const char *args, char **out, char **err);

/* A fresh temporary directory path (malloc'd), created. */
char *clb_test_tmpdir(void);

/* Writes `text` to DIR/NAME and returns the path (malloc'd). */
char *clb_test_write_file(const char *dir, const char *name, const char *text);

/* Reads a whole file (malloc'd, NUL-terminated), or NULL. */
char *clb_test_read_file(const char *path);

/* Reads a results CSV (the rows malloc'd), failing the test when it cannot. */
struct clb_row *clb_test_read_rows(const char *path, size_t *count);

/* Removes a directory from clb_test_tmpdir with everything in it, and frees
 * its path. */
void clb_test_remove_tmpdir(char *dir);

/* The number of '\n' in `text` (NULL counts 0): the lines of a CSV or of a
 * message, each ended by a newline. */
size_t clb_test_count_lines(const char *text);

/* The same for a file; a missing file counts 0. */
size_t clb_test_count_file_lines(const char *path);

/* How often `needle` (not empty) occurs in `text`, not overlapping. */
size_t clb_test_count_of(const char *text, const char *needle);

/* Seconds on the monotonic clock, for time limits in tests. */
double clb_test_now(void);

/* |a - b| / |b| over n values (Euclidean norms), for comparing a device's
 * result with a host reference `b`. */
double clb_test_relative_error(const double *a, const double *b, size_t n);

/* Sets LC_NUMERIC to a locale whose decimal point is ',' (de_DE, fr_FR).
 * When none is installed, de_DE.UTF-8 is compiled once with localedef into
 * $XDG_CACHE_HOME/clbatch/locale (about 2 s; ~/.cache when unset). Returns 1
 * when the locale is set (undo with setlocale(LC_NUMERIC, "C")), 0 when no
 * such locale can be had (the caller skips). */
int clb_test_comma_locale(void);

#endif
