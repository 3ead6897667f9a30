#include "measure/speed_history.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "measure/stats.h"
#include "util/csv.h"
#include "util/files.h"

enum { F_TIMESTAMP, F_HOST, F_PLATFORM, F_DEVICE, F_DRIVER, F_VERSION, F_TUNED, F_SECONDS, F_COUNT };

static const char *const field_names[F_COUNT] = {
    "timestamp", "host", "platform", "device", "driver", "clbatch_version", "tuned",
    "reference_step_s"};

/* An option or environment value: "" and NULL leave the choice to the next
 * source (returns 0), "none" turns the history off. */
static int choose(const char *value, char *buf, size_t size) {
  if (!value || !*value)
    return 0;
  snprintf(buf, size, "%s", strcmp(value, "none") == 0 ? "" : value);
  return 1;
}

void clb_speed_history_path(const char *option, char *buf, size_t size) {
  if (size == 0)
    return;
  buf[0] = '\0';
  if (choose(option, buf, size) || choose(getenv("CLBATCH_SPEED_HISTORY"), buf, size))
    return;
  const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
  if (state && state[0] == '/') /* the XDG spec ignores relative paths */
    snprintf(buf, size, "%s/clbatch/speed-history.csv", state);
  else if (home && *home)
    snprintf(buf, size, "%s/.local/state/clbatch/speed-history.csv", home);
}

void clb_speed_key_set(struct clb_speed_key *key, const char *host, const char *platform,
                       const char *device, const char *driver, int tuned) {
  snprintf(key->host, sizeof key->host, "%s", host);
  snprintf(key->platform, sizeof key->platform, "%s", platform);
  snprintf(key->device, sizeof key->device, "%s", device);
  snprintf(key->driver, sizeof key->driver, "%s", driver);
  snprintf(key->version, sizeof key->version, "%s", CLBATCH_VERSION);
  key->tuned = tuned;
}

static int record_matches(const struct clb_csv_record *record, const struct clb_speed_key *key) {
  if (record->count != F_COUNT)
    return 0;
  char tuned[16];
  snprintf(tuned, sizeof tuned, "%d", key->tuned);
  return strcmp(clb_csv_field(record, F_HOST), key->host) == 0 &&
         strcmp(clb_csv_field(record, F_PLATFORM), key->platform) == 0 &&
         strcmp(clb_csv_field(record, F_DEVICE), key->device) == 0 &&
         strcmp(clb_csv_field(record, F_DRIVER), key->driver) == 0 &&
         strcmp(clb_csv_field(record, F_VERSION), key->version) == 0 &&
         strcmp(clb_csv_field(record, F_TUNED), tuned) == 0;
}

/* The record's time; NaN for anything but a positive finite number (the
 * header line among them). */
static double record_seconds(const struct clb_csv_record *record) {
  const char *text = clb_csv_field(record, F_SECONDS);
  struct clb_c_numeric scope;
  clb_c_numeric_enter(&scope);
  char *end = NULL;
  errno = 0;
  double value = strtod(text, &end);
  clb_c_numeric_leave(&scope);
  return (end == text || *end || errno || !isfinite(value) || value <= 0) ? NAN : value;
}

int clb_speed_history_usual(const char *path, const struct clb_speed_key *key,
                            struct clb_speed_usual *out, struct clb_error *err) {
  /* The latest matching times, oldest overwritten first. */
  double window[CLB_SPEED_HISTORY_WINDOW];
  size_t seen = 0;
  *out = (struct clb_speed_usual){NAN, NAN, 0};
  if (access(path, F_OK) != 0)
    return 0;
  struct clb_csv_reader reader;
  int rc = clb_csv_open(&reader, path, err);
  struct clb_csv_record *record = NULL;
  while (rc == 0 && (rc = clb_csv_next(&reader, &record)) == 0) {
    if (!record->terminated || !record_matches(record, key))
      continue; /* a line still being written, or another key */
    double seconds = record_seconds(record);
    if (!isnan(seconds))
      window[seen++ % CLB_SPEED_HISTORY_WINDOW] = seconds;
  }
  clb_csv_destroy(&reader);
  if (rc < 0)
    return rc == CLB_E_NOMEM ? clb_failf(err, CLB_E_NOMEM, "out of host memory reading %s", path)
                             : rc;
  out->count = seen < CLB_SPEED_HISTORY_WINDOW ? seen : CLB_SPEED_HISTORY_WINDOW;
  if (out->count > 0)
    out->usual_s = clb_stats_quantile(window, out->count, 0.25);
  if (out->count >= CLB_SPEED_HISTORY_MIN_SPREAD)
    out->spread = clb_stats_log_spread(window, out->count);
  return 0;
}

/* The header (for a new file) and the record, as one buffer. */
static char *format_record(int with_header, const struct clb_speed_key *key,
                           const char *timestamp, double seconds, size_t *length) {
  char *text = NULL;
  FILE *out = open_memstream(&text, length);
  if (!out)
    return NULL;
  for (int i = 0; with_header && i < F_COUNT; i++)
    fprintf(out, "%s%s", field_names[i], i + 1 < F_COUNT ? "," : "\n");
  const char *fields[] = {timestamp, key->host, key->platform, key->device, key->driver,
                          key->version};
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    clb_csv_write_field(out, fields[i]);
    fputc(',', out);
  }
  fprintf(out, "%d,", key->tuned);
  clb_csv_write_number(out, "%.9g", seconds, "");
  fputc('\n', out);
  if (fclose(out) != 0) {
    free(text);
    return NULL;
  }
  return text;
}

int clb_speed_history_append(const char *path, const struct clb_speed_key *key,
                             const char *timestamp, double reference_step_s,
                             struct clb_error *err) {
  int rc = clb_mkdir_parents(path, err);
  if (rc != 0)
    return rc;
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return clb_failf(err, CLB_E_IO, "cannot open %s to append: %s", path, strerror(errno));
  struct stat st;
  int empty = fstat(fd, &st) == 0 && st.st_size == 0;
  size_t length = 0;
  char *text = format_record(empty, key, timestamp, reference_step_s, &length);
  if (!text) {
    close(fd);
    return clb_failf(err, CLB_E_NOMEM, "out of host memory formatting a line of %s", path);
  }
  /* One write(): with O_APPEND the line lands whole after any other. */
  ssize_t written = write(fd, text, length);
  int saved = errno;
  free(text);
  if (close(fd) != 0 && written == (ssize_t)length)
    return clb_failf(err, CLB_E_IO, "cannot close %s: %s", path, strerror(errno));
  if (written != (ssize_t)length)
    return clb_failf(err, CLB_E_IO, "cannot append to %s: %s", path,
                     written < 0 ? strerror(saved) : "short write");
  return 0;
}
