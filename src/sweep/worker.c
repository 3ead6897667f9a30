#include "sweep/worker.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "blas/cpu_start.h"
#include "blas/peak.h"
#include "blas/tune.h"
#include "cl/context.h"
#include "cl/describe.h"
#include "cl/platform.h"
#include "cl/topology.h"
#include "measure/speed_history.h"
#include "measure/stats.h"
#include "model/dataset.h"
#include "model/model.h"
#include "model/noise.h"
#include "model/params.h"
#include "sweep/reference_step.h"
#include "sweep/wire.h"
#include "train/train.h"
#include "util/grow.h"
#include "util/rng.h"

/* Everything the worker shares across configurations. */
struct worker {
  const struct clb_plan *plan;
  int fd;
  size_t repeat;          /* which repeat of the plan this process measures */
  size_t pass;            /* and which of its passes (1 without --passes) */
  uint32_t next_sequence; /* of the next BEGIN */
  struct clb_cl cl;
  const struct clb_device_info *dev;
  struct clb_host_info host;
  char **done_keys;
  size_t done_count;
  struct clb_peak *peak; /* the roofline's kernels; NULL when it could not be set up */
  double peak_bandwidth;
  /* Per precision, measured once for all models: 0 before, NaN when it
   * failed (the failure is logged once). */
  double peak_gflops[CLB_PRECISION_COUNT];
  double launch_s; /* one kernel launch back to back (clb_peak_launch_queued) */
  /* The reference step timed beside each set (reference_step.h) and the
   * usual time it is compared with: NULL with --speed-history none or when
   * it could not be set up; usual.usual_s NaN without a history. */
  struct clb_reference_step *reference;
  char speed_path[1024];
  struct clb_speed_key speed_key;
  struct clb_speed_usual usual;
  double *reference_s; /* the reference step's median beside each set so far */
  size_t reference_sets, reference_capacity;
  int reference_short; /* the current set's reference median rests on too few steps */
};

static void send_log(struct worker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void send_log(struct worker *w, const char *fmt, ...) {
  struct clb_wire *message = calloc(1, sizeof *message);
  if (!message)
    return;
  message->kind = CLB_WIRE_LOG;
  va_list args;
  va_start(args, fmt);
  vsnprintf(message->text, sizeof message->text, fmt, args);
  va_end(args);
  clb_wire_send(w->fd, message);
  free(message);
}

static int send_row(struct worker *w, enum clb_wire_kind kind, uint32_t sequence,
                    const struct clb_row *row) {
  struct clb_wire *message = calloc(1, sizeof *message);
  if (!message)
    return CLB_E_NOMEM;
  message->kind = kind;
  message->sequence = sequence;
  message->row = *row;
  int rc = clb_wire_send(w->fd, message);
  free(message);
  return rc;
}

static void utc_timestamp(char *buf, size_t size) {
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static double host_rss_bytes(void) {
  struct rusage usage;
  if (getrusage(RUSAGE_SELF, &usage) != 0)
    return NAN;
  return (double)usage.ru_maxrss * 1024.0; /* ru_maxrss is in KiB on Linux */
}

/* Copies text into a fixed field, cutting it where it does not fit. */
static void copy_field(char *field, size_t size, const char *text) {
  size_t len = strnlen(text, size - 1);
  memcpy(field, text, len);
  field[len] = '\0';
}

#define COPY(field, value) copy_field(row->field, sizeof row->field, (value))

static void fill_identity(struct worker *w, struct clb_row *row, const struct clb_shape *shape,
                          enum clb_precision precision, size_t n, size_t batch) {
  const struct clb_device_info *dev = w->dev;
  clb_row_init(row);
  utc_timestamp(row->timestamp, sizeof row->timestamp);
  COPY(host, w->host.hostname);
  COPY(cpu, w->host.cpu_model);
  COPY(platform, dev->platform_name);
  COPY(device, dev->name);
  clb_device_id_string(dev, row->device_index, sizeof row->device_index);
  COPY(vendor, dev->vendor);
  COPY(device_type, clb_device_type_name(dev->type));
  COPY(driver, dev->driver_version);
  COPY(clblast, clb_describe_clblast_version());
  row->compute_units = dev->compute_units;
  row->clock_mhz = dev->clock_mhz ? dev->clock_mhz : NAN; /* 0 MHz means unknown */
  row->global_mem_bytes = (double)dev->global_mem_bytes;
  COPY(model, clb_shape_kind_name(shape->kind));
  COPY(precision, clb_precision_name(precision));
  row->n_samples = (double)n;
  row->n_features = (double)shape->d;
  row->n_hidden = (double)shape->h;
  row->n_classes = (double)shape->c;
  row->batch = (double)batch;
  row->repeat = (double)w->repeat;
  row->passes = 1; /* one process; the parent combines passes */
  COPY(host_warnings, w->plan->host_warnings);
  COPY(data_on, w->plan->data_on_host ? "host" : "device");
  row->steps_per_epoch = (double)((n + batch - 1) / batch);
  COPY(sampling, "without_replacement");
  row->peak_gbytes_per_s = w->peak_bandwidth;
  row->tuned = 0;
}

/* Done when the rows file holds a row of this configuration for this pass:
 * pass k's rows follow k - 1 earlier ones of the same configuration. */
static int already_done(struct worker *w, const struct clb_row *row) {
  char key[2048];
  size_t found = 0;
  clb_row_key(row, key, sizeof key);
  for (size_t i = 0; i < w->done_count; i++)
    found += strcmp(w->done_keys[i], key) == 0;
  return found >= w->pass;
}

static void load_done_keys(struct worker *w) {
  struct clb_error err = {0};
  if (w->plan->resume &&
      clb_results_read_keys(w->plan->out_path, &w->done_keys, &w->done_count, &err) != 0)
    send_log(w, "cannot read %s to resume: %s", w->plan->out_path, err.message);
}

/* Loads or makes the data set of one model. */
static int make_data(const struct clb_plan *plan, enum clb_model_kind kind,
                     struct clb_dataset *data, struct clb_error *err) {
  int classifier = clb_shape_is_classifier(kind);
  if (plan->data_path[0])
    return clb_data_load_csv(plan->data_path, classifier, data, err);
  return clb_data_synthetic(kind, plan->samples, plan->features,
                            classifier ? plan->classes : plan->outputs, plan->noise_std, plan->seed,
                            data, err);
}

/* Finishes a row as `oom`, `error` or `skipped` from a failure. */
static void fail_row(struct clb_row *row, int rc, const struct clb_error *err) {
  const char *status = rc == CLB_E_UNSUPPORTED ? "skipped"
                       : clb_status_is_oom(rc) ? "oom"
                       : rc == CLB_E_TIMEOUT   ? "timeout"
                                               : "error";
  copy_field(row->status, sizeof row->status, status);
  copy_field(row->message, sizeof row->message, err->message);
}

/* One model x precision: what its configurations (batch sizes) share. */
struct model_state {
  struct clb_shape shape;
  enum clb_precision precision;
  const struct clb_dataset *data;
  double *theta;                /* parameters the noise is measured at (owned) */
  struct clb_noise_exact exact; /* owned; valid when has_exact */
  int has_exact;                /* 0 when the noise is off or failed */
  double peak_gflops;
  double max_batch_fit;
  enum clb_params_source tuned; /* where CLBlast's parameters came from */
  int unsupported;              /* the device lacks the precision: every row is skipped */
  char reason[256];
};

static void fill_timing(struct clb_row *row, const struct clb_timing *timing,
                        const struct model_state *m, size_t batch, int gathers, double launch_s) {
  double median = timing->device.median;
  row->reps = (double)timing->reps;
  row->step_s_median = median;
  row->step_s_min = timing->device.min;
  row->step_s_p10 = timing->device.p10;
  row->step_s_p90 = timing->device.p90;
  row->step_cv = timing->device.cv;
  row->step_s_ci_low = timing->median.low;
  row->step_s_ci_high = timing->median.high;
  row->step_rmad = timing->median.rmad;
  row->rounds = (double)timing->rounds;
  row->stable = timing->stable;
  row->wall_step_s = timing->wall_step_s;
  if (timing->kernels_per_step > 0) {
    row->kernels_per_step = (double)timing->kernels_per_step;
    row->launch_floor_s = row->kernels_per_step * launch_s;
  }
  row->steps_per_s = 1.0 / median;
  row->samples_per_s = (double)batch / median;
  double flops = clb_shape_step_flops(&m->shape, batch);
  double bytes = clb_shape_step_bytes(&m->shape, batch, clb_precision_size(m->precision), gathers);
  row->gflops = flops / median / 1e9;
  row->gbytes_per_s = bytes / median / 1e9;
  row->peak_gflops = m->peak_gflops;
  row->pct_peak_flops = m->peak_gflops > 0 ? 100.0 * row->gflops / m->peak_gflops : NAN;
  row->pct_peak_bw =
      row->peak_gbytes_per_s > 0 ? 100.0 * row->gbytes_per_s / row->peak_gbytes_per_s : NAN;
  row->epoch_s = row->steps_per_epoch * median;
  snprintf(row->timer, sizeof row->timer, "%s", timing->used_events ? "events" : "wall");
  if (timing->note[0])
    copy_field(row->message, sizeof row->message, timing->note);
}

/* One configuration (one row) from its set-up to its row. */
struct configuration {
  struct model_state *m;
  size_t batch;
  uint32_t sequence;
  struct clb_model *model;
  uint32_t *order;
  int gathers;
  struct clb_model_steps step;
  struct clb_row row;
};

static void configuration_release(struct configuration *c) {
  clb_model_destroy(c->model);
  free(c->order);
  c->model = NULL;
  c->order = NULL;
}

/* Allocates the configuration's model (every buffer touched, so a lazy
 * allocator fails here, not mid-timing), its parameters and batch order. */
static int configuration_setup(struct worker *w, struct configuration *c, struct clb_error *err) {
  const struct clb_plan *plan = w->plan;
  const struct model_state *m = c->m;
  const size_t n = m->data->n;
  int rc = 0;
  struct clb_model_config config = {m->shape, m->precision, c->batch, plan->data_on_host};
  int free_known = 0;
  unsigned long long free_before = clb_device_free_memory(w->dev, &free_known);
  CLB_TRY(clb_model_create(&w->cl, &config, m->data, &c->model, err));
  if (free_known) {
    unsigned long long free_after = clb_device_free_memory(w->dev, &free_known);
    if (free_known && free_before >= free_after)
      c->row.device_bytes_measured = (double)(free_before - free_after);
  }
  CLB_TRY(clb_model_set_params(c->model, m->theta, err));
  if (plan->shuffle) {
    c->order = malloc(n * sizeof *c->order);
    if (!c->order) {
      rc = clb_failf(err, CLB_E_NOMEM, "out of host memory");
      goto cleanup;
    }
    struct clb_rng rng;
    clb_rng_seed(&rng, plan->seed + c->batch);
    clb_rng_permutation(&rng, c->order, n);
    CLB_TRY(clb_model_set_order(c->model, c->order, err));
    c->gathers = !plan->data_on_host;
  }
  c->step = (struct clb_model_steps){c->model, c->batch, n / c->batch, plan->lr};
  c->row.device_bytes = (double)clb_model_device_bytes(c->model);
cleanup:
  if (rc != 0)
    configuration_release(c);
  return rc;
}

/* After its timing: the measured noise and the rest of the row. */
static int configuration_finish(struct worker *w, struct configuration *c,
                                const struct clb_timing *timing, struct clb_error *err) {
  const struct clb_plan *plan = w->plan;
  const struct model_state *m = c->m;
  const size_t n = m->data->n;
  struct clb_row *row = &c->row;
  int rc = 0;
  fill_timing(row, timing, m, c->batch, c->gathers, w->launch_s);
  row->tuned = m->tuned;
  row->max_batch_fit = m->max_batch_fit;
  if (m->has_exact && plan->noise_batches >= 2) {
    struct clb_noise_measured measured;
    CLB_TRY(clb_model_set_params(c->model, m->theta, err));
    CLB_TRY(clb_noise_measure(c->model, n, c->batch, plan->noise_batches, plan->seed ^ 0x9e3779b9u,
                              &m->exact, &measured, err));
    row->sigma2 = m->exact.sigma2;
    row->grad_norm2 = m->exact.grad_norm2;
    row->noise_scale = m->exact.noise_scale;
    row->var_measured = measured.mean;
    row->var_ci_low = measured.ci_low;
    row->var_ci_high = measured.ci_high;
    row->var_predicted = measured.predicted;
    row->var_ratio = measured.ratio;
    row->noise_batches = (double)(c->batch >= n ? 0 : plan->noise_batches);
  }
  row->host_rss_bytes = host_rss_bytes();
  /* The reference step over the turns this row was timed in: a slow phase
   * that hit only part of the set shows in the rows timed through it. */
  row->host_slowdown = w->usual.count > 0 && !w->reference_short
                           ? timing->companion_median_s / w->usual.usual_s
                           : NAN;
  row->host_spread = w->usual.spread;
  if (plan->passes <= 1) /* with passes, the combined row says it */
    clb_passes_flag_slow_host(row, plan->passes_rule.drift_limit);
  snprintf(row->status, sizeof row->status, "ok");
cleanup:
  return rc;
}

static void send_active(struct worker *w, uint32_t sequence, size_t running) {
  struct clb_wire message = {0};
  message.kind = CLB_WIRE_ACTIVE;
  message.sequence = sequence;
  message.running = (uint32_t)running;
  clb_wire_send(w->fd, &message);
}

/* Configurations set up and waiting to be timed together. */
struct batch_set {
  struct configuration *items;
  size_t count, capacity;
  double device_bytes;
};

struct visit_context {
  struct worker *w;
  const struct batch_set *set;
};

static void on_visit(void *context, size_t job, size_t running) {
  struct visit_context *v = context;
  if (job < v->set->count) /* not the reference step, which comes last */
    send_active(v->w, v->set->items[job].sequence, running);
}

/* A reference median from fewer steps than this may be the first steps'
 * warm-up rather than the host's speed. On a 2-core Zen 3 VM, sets timed
 * for --max-time 0.03 (the tests' quick plans) gave 3126 us from 12 steps
 * (95 % interval 2057-3309) and 3654 us from 6, against 1663 us (1641-1678)
 * from 1005 steps in a default run and 1760-2090 us from 40-880 steps in
 * sets of 0.1-2 s: such a line in the history said the host ran 68 % slower
 * than usual, and widened the next runs' host_spread. */
#define REFERENCE_MIN_STEPS 50

/* The reference step's median beside one set: one more time for the pass's
 * line in the history, and what the set as a whole saw. (Each row gets the
 * median over its own turns: clb_timing.companion_median_s.) */
static void note_reference(struct worker *w, const struct clb_measure_job *job) {
  w->reference_short = 0;
  if (job->rc != 0)
    send_log(w, "%s: reference step failed, so this set's rows have no host_slowdown: %s",
             w->dev->name, job->err.message);
  if (!job->finished || job->rc != 0)
    return; /* not timed when every other job of the set failed at once */
  double seconds = job->timing.device.median;
  if (job->timing.reps < REFERENCE_MIN_STEPS) {
    w->reference_short = 1;
    send_log(w,
             "%s: the reference step ran only %zu steps beside this set (%.1f us), too few to "
             "compare with the host's usual speed: no speed history line, and the set's rows "
             "have no host_slowdown (a longer --min-time gives more)",
             w->dev->name, job->timing.reps, 1e6 * seconds);
    return;
  }
  double *grown = clb_grow(w->reference_s, &w->reference_capacity, w->reference_sets + 1,
                           sizeof *grown, 16);
  if (grown) {
    w->reference_s = grown;
    w->reference_s[w->reference_sets++] = seconds;
  }
  if (w->usual.count == 0)
    return;
  double slowdown = seconds / w->usual.usual_s;
  if (clb_passes_host_slow(slowdown, w->plan->passes_rule.drift_limit))
    send_log(w,
             "%s: the host ran %.0f %% slower than usual over this set: the reference step "
             "took %.1f us against %.1f us (lower quartile of its last %zu in %s); rows "
             "measured this slow are flagged unstable",
             w->dev->name, 100.0 * (slowdown - 1.0), 1e6 * seconds, 1e6 * w->usual.usual_s,
             w->usual.count, w->speed_path);
}

/* Times the set's configurations (in turns, or the one alone), then sends
 * their rows and frees them. CLB_WORKER_CONTEXT_LOST when one failed with
 * CL_OUT_OF_RESOURCES: those not finished are left to the next worker. */
static int flush_set(struct worker *w, struct batch_set *set) {
  int worker_rc = CLB_WORKER_OK;
  struct clb_error err = {0};
  struct clb_measure_job *jobs = calloc(set->count + 1, sizeof *jobs); /* + the reference */
  if (!jobs) {
    send_log(w, "out of host memory for %zu timing jobs", set->count);
    worker_rc = CLB_WORKER_FAILED;
    goto cleanup;
  }
  for (size_t i = 0; i < set->count; i++)
    jobs[i] = (struct clb_measure_job){.step = clb_model_steps_run, .context = &set->items[i].step};
  size_t count = set->count;
  if (w->reference)
    jobs[count++] = (struct clb_measure_job){
        .step = clb_reference_step_run, .context = w->reference, .companion = 1};
  struct visit_context visit = {w, set};
  if (set->count > 1)
    send_log(w, "%s: timing %zu configurations in turns", w->dev->name, set->count);
  if (clb_measure_interleaved(w->cl.queue, w->dev->name, jobs, count, &w->plan->measure,
                              on_visit, &visit, &err) != 0) {
    send_log(w, "%s", err.message);
    worker_rc = CLB_WORKER_FAILED;
    goto cleanup;
  }
  if (w->reference)
    note_reference(w, &jobs[set->count]);
  for (size_t i = 0; i < set->count; i++) {
    struct configuration *c = &set->items[i];
    if (!jobs[i].finished)
      continue; /* abandoned with the context: measured again by the next worker */
    send_active(w, c->sequence, 0);
    int rc = jobs[i].rc;
    if (rc != 0)
      fail_row(&c->row, rc, &jobs[i].err);
    else if ((rc = configuration_finish(w, c, &jobs[i].timing, &err)) != 0)
      fail_row(&c->row, rc, &err);
    send_row(w, CLB_WIRE_ROW, c->sequence, &c->row);
    if (rc == CL_OUT_OF_RESOURCES)
      worker_rc = CLB_WORKER_CONTEXT_LOST;
    if (worker_rc != CLB_WORKER_OK)
      break;
  }
cleanup:
  for (size_t i = 0; i < set->count; i++)
    configuration_release(&set->items[i]);
  set->count = 0;
  set->device_bytes = 0;
  free(jobs);
  return worker_rc;
}

static struct configuration *set_push(struct batch_set *set) {
  if (set->count == set->capacity) {
    size_t capacity = set->capacity ? 2 * set->capacity : 16;
    struct configuration *grown = realloc(set->items, capacity * sizeof *grown);
    if (!grown)
      return NULL;
    set->items = grown;
    set->capacity = capacity;
  }
  struct configuration *c = &set->items[set->count++];
  memset(c, 0, sizeof *c);
  return c;
}

/* --noise-at: SGD steps from theta (in place) before the noise is measured,
 * since the noise scale grows as the loss falls. Batches of 32 (or N),
 * shuffled every epoch, the partial last batch dropped: the training loop of
 * `clbatch train`, stopped after `steps` updates. */
static int train_steps(struct worker *w, const struct model_state *m, size_t steps, double *theta,
                       struct clb_error *err) {
  const size_t n = m->data->n, batch = n < 32 ? n : 32;
  const size_t per_epoch = n / batch;
  struct clb_train_config config = {m->shape,
                                    m->precision,
                                    batch,
                                    w->plan->lr,
                                    (steps + per_epoch - 1) / per_epoch,
                                    w->plan->seed + 17,
                                    1,
                                    1,
                                    0};
  struct clb_train_extra extra = {0};
  extra.max_updates = steps;
  struct clb_train_summary summary;
  return clb_train_run_ex(&w->cl, m->data, &config, &extra, theta, NULL, NULL, &summary, err);
}

/* The exact noise statistics at theta (after --noise-at SGD steps, which
 * move theta in place), once per model and precision. */
static int exact_noise(struct worker *w, struct model_state *m, struct clb_error *err) {
  const size_t n = m->data->n;
  int rc = 0;
  memset(&m->exact, 0, sizeof m->exact);
  if (w->plan->noise_at > 0 && (rc = train_steps(w, m, w->plan->noise_at, m->theta, err)) != 0)
    return rc;
  return clb_noise_exact_at(&w->cl, m->data, &m->shape, m->precision, n, m->theta, &m->exact, err);
}

/* Largest batch whose buffers the device accepts: doubling, then bisection. */
static size_t probe_max_batch(struct worker *w, const struct model_state *m) {
  struct clb_error err = {0};
  size_t widest = m->shape.d > m->shape.h ? m->shape.d : m->shape.h;
  size_t limit = (size_t)UINT32_MAX / (widest > m->shape.c ? widest : m->shape.c);
  size_t good = 0, bad = 0;
  for (size_t b = 1; b <= limit; b = b * 2 > limit && b < limit ? limit : b * 2) {
    struct clb_model_config config = {m->shape, m->precision, b, w->plan->data_on_host};
    struct clb_model *model = NULL;
    int rc = clb_model_create(&w->cl, &config, m->data, &model, &err);
    clb_model_destroy(model);
    if (rc != 0) {
      bad = b;
      break;
    }
    good = b;
    if (b == limit)
      break;
  }
  while (bad > good + 1) {
    size_t mid = good + (bad - good) / 2;
    struct clb_model_config config = {m->shape, m->precision, mid, w->plan->data_on_host};
    struct clb_model *model = NULL;
    int rc = clb_model_create(&w->cl, &config, m->data, &model, &err);
    clb_model_destroy(model);
    if (rc == 0)
      good = mid;
    else
      bad = mid;
  }
  return good;
}

/* The device's FMA peak in `precision`, measured on first use: every model
 * of the plan is reported against the same roofline. */
static double peak_flops(struct worker *w, enum clb_precision precision) {
  double *peak = &w->peak_gflops[precision];
  if (*peak == 0.0) {
    struct clb_error err = {0};
    if (!w->peak) {
      *peak = NAN;
    } else if (clb_peak_flops(w->peak, precision, peak, &err) != 0) {
      send_log(w, "peak %s FLOP/s not measured: %s", clb_precision_name(precision), err.message);
      *peak = NAN;
    }
  }
  return *peak;
}

/* What every batch size of one model and precision shares: CLBlast's
 * parameters, the peak FLOP/s, the exact noise, the largest batch. Measured
 * before any configuration is set up, so a probe never competes with the
 * buffers of a set being timed. */
static int prepare_model_state(struct worker *w, enum clb_model_kind kind,
                               const struct clb_dataset *data, const double *theta0,
                               enum clb_precision precision, struct model_state *m) {
  const struct clb_plan *plan = w->plan;
  struct clb_error err = {0};
  memset(m, 0, sizeof *m);
  m->shape = (struct clb_shape){kind, data->d, kind == CLB_MODEL_MLP ? plan->hidden : 0, data->c};
  m->precision = precision;
  m->data = data;
  m->peak_gflops = m->max_batch_fit = NAN;
  size_t p = clb_shape_param_count(&m->shape);
  if (!(m->theta = malloc(p * sizeof *m->theta)))
    return CLB_E_NOMEM;
  memcpy(m->theta, theta0, p * sizeof *m->theta);
  m->unsupported = clb_device_check_precision(w->dev, precision, m->reason, sizeof m->reason);
  if (m->unsupported)
    return 0;
  /* On an error m->tuned still says what was applied before it. */
  if (clb_tune_apply(w->dev, precision, &m->tuned, &err) != 0)
    send_log(w, "CLBlast parameters not all applied: %s", err.message);
  else if (m->tuned == CLB_PARAMS_TUNED)
    send_log(w, "%s %s: CLBlast runs the parameters stored by `clbatch tune`", w->dev->name,
             clb_precision_name(precision));
  else if (m->tuned == CLB_PARAMS_CPU_START) {
    char why[256];
    clb_cpu_start_reason(w->dev->vendor, w->dev->name, why, sizeof why);
    send_log(w, "%s %s: %s; CLBlast runs clbatch's CPU starting parameters (tuned = 2)",
             w->dev->name, clb_precision_name(precision), why);
  }
  m->peak_gflops = peak_flops(w, precision);
  if (plan->noise_batches >= 2) {
    if (exact_noise(w, m, &err) == 0)
      m->has_exact = 1;
    else
      send_log(w, "noise statistics of %s %s not measured: %s", clb_shape_kind_name(kind),
               clb_precision_name(precision), err.message);
  }
  if (plan->max_batch_probe) {
    m->max_batch_fit = (double)probe_max_batch(w, m);
    send_log(w, "%s %s: largest batch whose buffers fit: %.0f", clb_shape_kind_name(kind),
             clb_precision_name(precision), m->max_batch_fit);
  }
  return 0;
}

static void model_state_destroy(struct model_state *m) {
  clb_noise_exact_destroy(&m->exact);
  free(m->theta);
  m->theta = NULL;
}

/* The data sets and model states of the whole plan (every model, every
 * precision), prepared before anything is timed. */
struct plan_state {
  struct clb_dataset data[CLB_MODEL_COUNT];
  struct model_state *states; /* model_count x precision_count, model-major */
  size_t count;
};

static void plan_state_destroy(struct plan_state *p) {
  for (size_t i = 0; i < p->count; i++)
    model_state_destroy(&p->states[i]);
  free(p->states);
  for (size_t i = 0; i < CLB_MODEL_COUNT; i++)
    clb_dataset_destroy(&p->data[i]);
}

static int prepare_model(struct worker *w, size_t model_index, struct plan_state *p) {
  const struct clb_plan *plan = w->plan;
  enum clb_model_kind kind = plan->models[model_index];
  struct clb_dataset *data = &p->data[model_index];
  struct clb_error err = {0};
  if (make_data(plan, kind, data, &err) != 0) {
    send_log(w, "%s: %s", clb_shape_kind_name(kind), err.message);
    return CLB_WORKER_FAILED;
  }
  struct clb_shape shape = {kind, data->d, kind == CLB_MODEL_MLP ? plan->hidden : 0, data->c};
  double *theta = malloc(clb_shape_param_count(&shape) * sizeof *theta);
  int worker_rc = CLB_WORKER_OK;
  if (!theta) {
    send_log(w, "%s: out of host memory for %zu parameters", clb_shape_kind_name(kind),
             clb_shape_param_count(&shape));
    return CLB_WORKER_FAILED;
  }
  clb_params_init(&shape, plan->seed, theta);
  if (plan->init_params[0] && clb_params_read(plan->init_params, &shape, theta, &err) != 0) {
    send_log(w, "%s", err.message);
    worker_rc = CLB_WORKER_FAILED;
  }
  for (size_t i = 0; i < plan->precision_count && worker_rc == CLB_WORKER_OK; i++) {
    if (prepare_model_state(w, kind, data, theta, plan->precisions[i], &p->states[p->count]) != 0) {
      send_log(w, "out of host memory for the parameters of %s", clb_shape_kind_name(kind));
      worker_rc = CLB_WORKER_FAILED;
    }
    p->count++; /* destroyed with the others, also half-made */
  }
  free(theta);
  return worker_rc;
}

static int prepare_plan(struct worker *w, struct plan_state *p) {
  const struct clb_plan *plan = w->plan;
  p->states = calloc(plan->model_count * plan->precision_count + 1, sizeof *p->states);
  if (!p->states) {
    send_log(w, "out of host memory for the plan");
    return CLB_WORKER_FAILED;
  }
  int worker_rc = CLB_WORKER_OK;
  for (size_t i = 0; i < plan->model_count && worker_rc == CLB_WORKER_OK; i++)
    worker_rc = prepare_model(w, i, p);
  return worker_rc;
}

/* Device memory a set of configurations may hold at once: a quarter of the
 * device's, so one set never crowds out what a configuration alone fits. */
static double set_budget(const struct worker *w) {
  return w->plan->interleave ? 0.25 * (double)w->dev->global_mem_bytes : 0.0;
}

/* Begins one configuration: its row goes out at once when it cannot run
 * (unsupported precision, failed set-up); otherwise it joins the set, which
 * is timed when full. An out-of-memory set-up next to other configurations
 * is retried alone after timing them. */
static int add_configuration(struct worker *w, struct model_state *m, size_t batch,
                             struct batch_set *set) {
  struct configuration *c = set_push(set);
  if (!c) {
    send_log(w, "out of host memory for a configuration");
    return CLB_WORKER_FAILED;
  }
  c->m = m;
  c->batch = batch;
  fill_identity(w, &c->row, &m->shape, m->precision, m->data->n, batch);
  if (already_done(w, &c->row)) {
    set->count--;
    return CLB_WORKER_OK;
  }
  c->sequence = w->next_sequence++;
  send_row(w, CLB_WIRE_BEGIN, c->sequence, &c->row);
  struct clb_error err = {0};
  int rc = m->unsupported ? clb_failf(&err, CLB_E_UNSUPPORTED, "%s", m->reason)
                          : configuration_setup(w, c, &err);
  if (rc != 0 && clb_status_is_oom(rc) && rc != CL_OUT_OF_RESOURCES && set->count > 1) {
    struct configuration alone = *c;
    set->count--;
    int worker_rc = flush_set(w, set);
    if (worker_rc != CLB_WORKER_OK)
      return worker_rc;
    c = set_push(set); /* cannot fail: the set is empty and has room */
    *c = alone;
    send_active(w, c->sequence, 0);
    clb_error_clear(&err);
    rc = configuration_setup(w, c, &err);
  }
  if (rc != 0) {
    fail_row(&c->row, rc, &err);
    send_row(w, CLB_WIRE_ROW, c->sequence, &c->row);
    set->count--;
    /* After CL_OUT_OF_RESOURCES the context is suspect: start afresh. */
    return rc == CL_OUT_OF_RESOURCES ? CLB_WORKER_CONTEXT_LOST : CLB_WORKER_OK;
  }
  set->device_bytes += c->row.device_bytes;
  if (set->device_bytes >= set_budget(w))
    return flush_set(w, set);
  return CLB_WORKER_OK;
}

/* Every configuration of the plan, in plan order, timed set by set. */
static int run_plan(struct worker *w, struct plan_state *p) {
  const struct clb_plan *plan = w->plan;
  struct batch_set set = {0};
  int worker_rc = CLB_WORKER_OK;
  for (size_t s = 0; s < p->count && worker_rc == CLB_WORKER_OK; s++)
    for (size_t i = 0; i < plan->batch_count && worker_rc == CLB_WORKER_OK; i++)
      worker_rc = add_configuration(w, &p->states[s], plan->batches[i], &set);
  if (worker_rc == CLB_WORKER_OK)
    worker_rc = flush_set(w, &set);
  for (size_t i = 0; i < set.count; i++)
    configuration_release(&set.items[i]);
  free(set.items);
  return worker_rc;
}

/* The bandwidth and launch cost every row is set against (the FMA peak
 * follows per precision on first use); each one that fails is logged and
 * left NaN. */
static void measure_roofline(struct worker *w) {
  struct clb_error err = {0};
  w->peak_bandwidth = w->launch_s = NAN;
  if (clb_peak_create(&w->cl, &w->peak, &err) != 0) {
    send_log(w, "roofline not measured: %s", err.message);
    return;
  }
  if (clb_peak_bandwidth(w->peak, &w->peak_bandwidth, &err) != 0)
    send_log(w, "peak bandwidth not measured: %s", err.message);
  if (clb_peak_launch_queued(w->peak, &w->launch_s, &err) != 0)
    send_log(w, "cost of a kernel launch not measured: %s", err.message);
}

/* Sets up the reference step and reads the usual time it is compared
 * with, before this pass adds its own line. It only advises: a failure is
 * said, and the rows go without a host_slowdown. */
static void prepare_reference(struct worker *w) {
  struct clb_error err = {0};
  enum clb_params_source tuned = CLB_PARAMS_CLBLAST;
  w->usual = (struct clb_speed_usual){NAN, NAN, 0};
  clb_speed_history_path(w->plan->speed_history, w->speed_path, sizeof w->speed_path);
  if (!w->speed_path[0])
    return;
  if (clb_reference_step_create(&w->cl, &w->reference, &tuned, &err) != 0) {
    send_log(w, "%s: no reference step, so a slow phase of the host goes unseen: %s",
             w->dev->name, err.message);
    return;
  }
  clb_speed_key_set(&w->speed_key, w->host.hostname, w->dev->platform_name, w->dev->name,
                    w->dev->driver_version, (int)tuned);
  if (clb_speed_history_usual(w->speed_path, &w->speed_key, &w->usual, &err) != 0)
    send_log(w, "speed history not read: %s", err.message);
}

/* This pass's line in the speed history: the median of the reference
 * step's medians beside its sets. */
static void record_reference(struct worker *w) {
  struct clb_error err = {0};
  if (w->reference_sets == 0)
    return;
  char timestamp[32];
  utc_timestamp(timestamp, sizeof timestamp);
  double seconds = clb_stats_quantile(w->reference_s, w->reference_sets, 0.5);
  if (clb_speed_history_append(w->speed_path, &w->speed_key, timestamp, seconds, &err) != 0)
    send_log(w, "speed history not written: %s", err.message);
}

static const struct clb_device_info *find_device(const struct clb_device_list *list,
                                                 const char *index) {
  for (size_t i = 0; i < list->count; i++) {
    char id[32];
    clb_device_id_string(&list->items[i], id, sizeof id);
    if (strcmp(id, index) == 0)
      return &list->items[i];
  }
  return NULL;
}

int clb_worker_run(const struct clb_plan *plan, const char *device_index, size_t repeat,
                   size_t pass, int fd) {
  struct worker w = {
      .plan = plan, .fd = fd, .repeat = repeat, .pass = pass ? pass : 1, .usual = {NAN, NAN, 0}};
  struct clb_device_list list = {0};
  struct clb_topology *topology = NULL;
  struct plan_state prepared = {0};
  struct clb_error err = {0};
  int worker_rc = CLB_WORKER_FAILED;
  if (clb_platform_list(&list, &err) != 0) {
    send_log(&w, "%s", err.message);
    goto cleanup;
  }
  w.dev = find_device(&list, device_index);
  if (!w.dev) {
    send_log(&w, "device %s disappeared", device_index);
    goto cleanup;
  }
  if (clb_topology_create(&topology, NULL, &err) == 0) {
    char report[256];
    clb_topology_host_info(topology, &w.host);
    clb_topology_bind_near(topology, w.dev, report, sizeof report);
    send_log(&w, "%s: measuring thread %s", w.dev->name, report);
  } else {
    gethostname(w.host.hostname, sizeof w.host.hostname - 1);
  }
  if (clb_cl_create(w.dev, &w.cl, &err) != 0) {
    send_log(&w, "%s", err.message);
    goto cleanup;
  }
  measure_roofline(&w);
  load_done_keys(&w);
  prepare_reference(&w);
  worker_rc = prepare_plan(&w, &prepared);
  if (worker_rc == CLB_WORKER_OK)
    worker_rc = run_plan(&w, &prepared);
  record_reference(&w);
  if (worker_rc == CLB_WORKER_OK) {
    struct clb_wire *done = calloc(1, sizeof *done);
    if (done) {
      done->kind = CLB_WIRE_DONE;
      clb_wire_send(fd, done);
      free(done);
    }
  }
cleanup:
  clb_reference_step_destroy(w.reference);
  free(w.reference_s);
  clb_peak_destroy(w.peak);
  plan_state_destroy(&prepared);
  clb_row_keys_free(w.done_keys, w.done_count);
  clb_cl_destroy(&w.cl);
  clb_topology_destroy(topology);
  clb_platform_list_destroy(&list);
  return worker_rc;
}
