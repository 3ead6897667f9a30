/* How fast a device usually runs on this host: a log of a fixed reference
 * step's time, one line per worker pass, kept across runs.
 *
 * A slow phase of a shared machine can cover a whole run: its passes then
 * agree with one another and nothing inside the run can tell. On the
 * development VM such phases made every configuration 12-36 % slower for
 * minutes, while the load average, steal time, a one-thread canary and the
 * FMA peak and bandwidth kernels all read normal; a small training step
 * slowed with the rest. So each pass times one fixed reference step and
 * compares it with what the same host, device, driver, clbatch version and
 * CLBlast parameters gave before.
 *
 * The file is CSV (util/csv): timestamp, host, platform, device, driver,
 * clbatch_version, tuned, reference_step_s. Lines are appended with one
 * write() each, so passes and runs side by side do not tear them; a line
 * that does not parse is skipped, since the history only advises. */
#ifndef CLB_MEASURE_SPEED_HISTORY_H
#define CLB_MEASURE_SPEED_HISTORY_H

#include <stddef.h>

#include "util/errors.h"

/* The records of this many latest matching lines make the usual time: enough
 * to outlast a slow phase of a few runs, recent enough to follow the host. */
#define CLB_SPEED_HISTORY_WINDOW 30

/* What a reference step time is comparable with. */
struct clb_speed_key {
  char host[256];
  char platform[256];
  char device[256];
  char driver[128];
  char version[64]; /* clbatch's: its step kernels set the reference time */
  int tuned;        /* where CLBlast's fp32 parameters came from (clb_params_source) */
};

/* The key of a device's reference step on `host`: clbatch's own version,
 * `tuned` as clb_params_source for fp32. Fields too long are cut. */
void clb_speed_key_set(struct clb_speed_key *key, const char *host, const char *platform,
                       const char *device, const char *driver, int tuned);

/* The history file: `option` when it is set (--speed-history; "none" turns
 * the history off and gives ""), else $CLBATCH_SPEED_HISTORY (likewise),
 * else $XDG_STATE_HOME/clbatch/speed-history.csv, else
 * $HOME/.local/state/clbatch/speed-history.csv, else "" (off). */
void clb_speed_history_path(const char *option, char *buf, size_t size);

/* A spread from fewer records than this says little (a MAD of a handful). */
#define CLB_SPEED_HISTORY_MIN_SPREAD 8

/* What the latest CLB_SPEED_HISTORY_WINDOW records of a key say. */
struct clb_speed_usual {
  /* The usual reference step time: their lower quartile (noise on a shared
   * host only ever slows a step down, so the quartile is what the host does
   * when left alone, yet one lucky line does not set it). NaN with none. */
  double usual_s;
  /* How far one pass's time lands from the next on this host, passes of
   * other runs included: clb_stats_log_spread of the records (0.03: about
   * 3 %). NaN with fewer than CLB_SPEED_HISTORY_MIN_SPREAD. Passes of one
   * run agree better than passes of runs minutes apart, so this is what a
   * re-run may differ by that a run's own passes cannot show. */
  double spread;
  size_t count; /* how many records they came from */
};

/* The usual time and spread of `key`'s records; with none (or no file) both
 * are NaN and the call returns 0. CLB_E_IO when the file exists but cannot
 * be read, CLB_E_NOMEM. */
int clb_speed_history_usual(const char *path, const struct clb_speed_key *key,
                            struct clb_speed_usual *out, struct clb_error *err);

/* Appends one record (the folders above `path` are created). `timestamp`
 * is ISO 8601 UTC. A new file gets the header line first. */
int clb_speed_history_append(const char *path, const struct clb_speed_key *key,
                             const char *timestamp, double reference_step_s,
                             struct clb_error *err);

#endif
