/* The training loop (src/train/train.c) and `clbatch train` (src/cli/train.c):
 * the worked example of one SGD update, convergence for every batch size,
 * the update count per epoch, the parameter-file round trip, and the CLI's
 * handling of bad input. Shapes are tiny so PoCL keeps the file fast. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cl/context.h"
#include "helpers.h"
#include "model/dataset.h"
#include "model/model.h"
#include "model/params.h"
#include "train/train.h"
#include "util/rng.h"

/* y = 2x plus a little noise. The first two rows are the worked example's
 * batch, exactly on the line: x = (-1.2, 0.5), y = (-2.4, 1.0). */
static const double line_x[10] = {-1.2, 0.5, 0.3, -0.7, 1.1, -0.4, 0.9, -1.5, 0.2, 0.8};
static const double line_noise[10] = {0, 0, 0.01, -0.02, 0.015, -0.01, 0.005, 0.02, -0.015, 0.01};

static void line_data(size_t n, struct clb_dataset *data) {
  memset(data, 0, sizeof *data);
  data->n = n;
  data->d = 1;
  data->c = 1;
  data->x = malloc(n * sizeof(double));
  data->y = malloc(n * sizeof(double));
  cr_assert(data->x && data->y);
  for (size_t i = 0; i < n; i++) {
    data->x[i] = line_x[i];
    data->y[i] = 2 * line_x[i] + line_noise[i];
  }
}

/* One OpenCL device (PoCL's CPU device under CI) with a context and queue. */
struct device {
  struct clb_device_list list;
  const struct clb_device_info *info;
  struct clb_cl cl;
};

static int open_device(struct device *dev) {
  memset(dev, 0, sizeof *dev);
  return clb_test_open_cl(&dev->list, &dev->info, &dev->cl, CLB_FP32);
}

static void close_device(struct device *dev) {
  clb_test_close_cl(&dev->list, &dev->cl);
}

/* Keeps every epoch's result; stops early after `stop_after` epochs when set. */
struct recorder {
  struct clb_epoch_result rows[512];
  size_t count;
  size_t stop_after; /* 0: never */
};

static int record(const struct clb_epoch_result *r, void *ctx) {
  struct recorder *rec = ctx;
  cr_assert_lt(rec->count, sizeof rec->rows / sizeof rec->rows[0]);
  rec->rows[rec->count++] = *r;
  return rec->stop_after && r->epoch + 1 >= rec->stop_after ? 1 : 0;
}

static struct clb_train_config linreg_config(size_t batch, double lr, size_t epochs) {
  struct clb_train_config cfg = {
      {CLB_MODEL_LINREG, 1, 0, 1}, CLB_FP64, batch, lr, epochs, 7, 1, 0, 0};
  return cfg;
}

Test(train, updates_per_epoch_is_ceil_or_floor) {
  cr_expect_eq(clb_train_updates_per_epoch(10, 1, 0), 10);
  cr_expect_eq(clb_train_updates_per_epoch(10, 2, 0), 5);
  cr_expect_eq(clb_train_updates_per_epoch(10, 5, 0), 2);
  cr_expect_eq(clb_train_updates_per_epoch(10, 10, 0), 1);
  cr_expect_eq(clb_train_updates_per_epoch(10, 3, 0), 4);
  cr_expect_eq(clb_train_updates_per_epoch(10, 3, 1), 3);
  cr_expect_eq(clb_train_updates_per_epoch(10, 4, 1), 2);
  cr_expect_eq(clb_train_updates_per_epoch(10, 10, 1), 1);
}

/* The worked example of mini-batch SGD. linreg's loss is the mean squared
 * error (1/B) sum r_i^2, so its gradient is (2/B) X^T r and 2 mean(r):
 *   r = X w + b - y = (2.4, -1.0) at w = b = 0,
 *   g_w = (2/2)(-1.2 * 2.4 + 0.5 * -1.0) = -3.38, g_b = 2 * 0.7 = 1.4,
 *   w = 0 - 0.1 * -3.38 = 0.338, b = 0 - 0.1 * 1.4 = -0.140.
 * Under the (1/2) MSE convention the gradient would be half as large and the
 * update w = 0.169, b = -0.070; the device must give exactly twice that. */
Test(train, worked_example_first_update_uses_mse) {
  struct device dev;
  if (!open_device(&dev))
    return;
  struct clb_error err = {0};
  struct clb_dataset data;
  line_data(10, &data);
  struct clb_model_config config = {{CLB_MODEL_LINREG, 1, 0, 1}, CLB_FP64, 2, 0};
  struct clb_model *model = NULL;
  cr_assert_eq(clb_model_create(&dev.cl, &config, &data, &model, &err), 0, "%s", err.message);
  double theta[2] = {0, 0};
  cr_assert_eq(clb_model_set_params(model, theta, &err), 0, "%s", err.message);
  cr_assert_eq(clb_model_step(model, 0, 2, 0.1, &err), 0, "%s", err.message);
  cr_assert_eq(clb_model_get_params(model, theta, &err), 0, "%s", err.message);
  cr_expect(fabs(theta[0] - 0.338) < 1e-6, "w = %.9f, expected 0.338", theta[0]);
  cr_expect(fabs(theta[1] + 0.140) < 1e-6, "b = %.9f, expected -0.140", theta[1]);

  /* The half-MSE update on the host: g = (1/B) X^T r, (1/B) sum r. */
  double half_w = 0, half_b = 0;
  for (size_t i = 0; i < 2; i++) {
    double r = 0 * data.x[i] + 0 - data.y[i];
    half_w -= 0.1 * data.x[i] * r / 2;
    half_b -= 0.1 * r / 2;
  }
  cr_expect(fabs(half_w - 0.169) < 1e-12 && fabs(half_b + 0.070) < 1e-12, "half-MSE %g %g", half_w,
            half_b);
  cr_expect(fabs(theta[0] - 2 * half_w) < 1e-12, "w %.15g is not twice %.15g", theta[0], half_w);
  cr_expect(fabs(theta[1] - 2 * half_b) < 1e-12, "b %.15g is not twice %.15g", theta[1], half_b);
  clb_model_destroy(model);
  clb_dataset_destroy(&data);

  /* The same update through the training loop: the batch as the whole data
   * set, one epoch, one update; epoch 0 is the initial loss (5.76 + 1) / 2. */
  line_data(2, &data);
  struct clb_train_config cfg = linreg_config(2, 0.1, 1);
  cfg.shuffle = 0;
  struct recorder rec = {0};
  theta[0] = theta[1] = 0;
  cr_assert_eq(clb_train_run(&dev.cl, &data, &cfg, theta, record, &rec, &err), 0, "%s",
               err.message);
  cr_expect(fabs(theta[0] - 0.338) < 1e-12 && fabs(theta[1] + 0.140) < 1e-12, "w %g b %g", theta[0],
            theta[1]);
  cr_assert_eq(rec.count, 2);
  cr_expect(fabs(rec.rows[0].train_loss - 3.38) < 1e-12, "initial loss %g", rec.rows[0].train_loss);
  cr_expect_eq(rec.rows[1].updates, 1);
  cr_expect(isnan(rec.rows[1].accuracy), "linreg has no accuracy");
  clb_dataset_destroy(&data);
  close_device(&dev);
}

Test(train, linreg_finds_the_slope_for_every_batch_size) {
  struct device dev;
  if (!open_device(&dev))
    return;
  struct clb_error err = {0};
  struct clb_dataset data;
  line_data(10, &data);
  const size_t batches[] = {1, 2, 5, 10};
  const size_t per_epoch[] = {10, 5, 2, 1};
  const size_t epochs = 60;
  for (size_t k = 0; k < 4; k++) {
    struct clb_train_config cfg = linreg_config(batches[k], 0.1, epochs);
    struct recorder rec = {0};
    double theta[2] = {0, 0};
    cr_assert_eq(clb_train_run(&dev.cl, &data, &cfg, theta, record, &rec, &err), 0, "B=%zu: %s",
                 batches[k], err.message);
    cr_assert_eq(rec.count, epochs + 1);
    for (size_t e = 0; e <= epochs; e++) {
      cr_expect_eq(rec.rows[e].epoch, e);
      cr_expect_eq(rec.rows[e].updates, e * per_epoch[k], "B=%zu epoch %zu: %zu updates",
                   batches[k], e, rec.rows[e].updates);
    }
    cr_expect_eq(rec.rows[0].wall_s, 0);
    cr_expect_gt(rec.rows[epochs].wall_s, 0);
    cr_expect(fabs(theta[0] - 2) < 0.05, "B=%zu: w = %g, expected about 2", batches[k], theta[0]);
  }
  /* drop_last: B = 3 skips the 10th sample, floor(10/3) = 3 updates per epoch. */
  struct clb_train_config cfg = linreg_config(3, 0.1, 4);
  cfg.drop_last = 1;
  struct recorder rec = {0};
  double theta[2] = {0, 0};
  cr_assert_eq(clb_train_run(&dev.cl, &data, &cfg, theta, record, &rec, &err), 0, "%s",
               err.message);
  cr_assert_eq(rec.count, 5);
  cr_expect_eq(rec.rows[1].updates, 3);
  cr_expect_eq(rec.rows[4].updates, 12);
  clb_dataset_destroy(&data);
  close_device(&dev);
}

/* Streaming batches from host memory changes where the rows come from, not
 * the arithmetic: the same shuffled run gives the same losses. */
Test(train, data_on_host_trains_like_data_on_device) {
  struct device dev;
  if (!open_device(&dev))
    return;
  struct clb_error err = {0};
  struct clb_dataset data;
  line_data(10, &data);
  static struct recorder runs[2];
  for (int host = 0; host < 2; host++) {
    struct clb_train_config cfg = linreg_config(3, 0.1, 5);
    cfg.data_on_host = host;
    double theta[2] = {0, 0};
    cr_assert_eq(clb_train_run(&dev.cl, &data, &cfg, theta, record, &runs[host], &err), 0, "%s",
                 err.message);
  }
  cr_assert_eq(runs[0].count, runs[1].count);
  for (size_t e = 0; e < runs[0].count; e++)
    cr_expect(fabs(runs[0].rows[e].train_loss - runs[1].rows[e].train_loss) <
                  1e-12 * (1 + runs[0].rows[e].train_loss),
              "epoch %zu: device %.17g, host %.17g", e, runs[0].rows[e].train_loss,
              runs[1].rows[e].train_loss);
  clb_dataset_destroy(&data);
  close_device(&dev);
}

/* The exact least-squares parameters (w, b) of a linreg data set with one
 * output: the normal equations [X 1]^T [X 1] beta = [X 1]^T y, solved by
 * Gaussian elimination with partial pivoting. */
enum { MAX_P = 8 }; /* features + 1 the host solver handles */

static void least_squares_theta(const struct clb_dataset *data, double *beta) {
  size_t p = data->d + 1;
  cr_assert_leq(p, MAX_P);
  double a[MAX_P][MAX_P + 1] = {{0}};
  for (size_t i = 0; i < data->n; i++) {
    double row[MAX_P];
    for (size_t j = 0; j < data->d; j++)
      row[j] = data->x[i * data->d + j];
    row[data->d] = 1;
    for (size_t r = 0; r < p; r++) {
      for (size_t c = 0; c < p; c++)
        a[r][c] += row[r] * row[c];
      a[r][p] += row[r] * data->y[i];
    }
  }
  for (size_t col = 0; col < p; col++) {
    size_t pivot = col;
    for (size_t r = col + 1; r < p; r++)
      if (fabs(a[r][col]) > fabs(a[pivot][col]))
        pivot = r;
    for (size_t c = 0; c <= p; c++) {
      double t = a[col][c];
      a[col][c] = a[pivot][c];
      a[pivot][c] = t;
    }
    for (size_t r = 0; r < p; r++) {
      if (r == col)
        continue;
      double f = a[r][col] / a[col][col];
      for (size_t c = col; c <= p; c++)
        a[r][c] -= f * a[col][c];
    }
  }
  for (size_t j = 0; j < p; j++)
    beta[j] = a[j][p] / a[j][j];
}

/* The mean squared residual at the least-squares parameters. */
static double least_squares_loss(const struct clb_dataset *data) {
  double beta[MAX_P];
  least_squares_theta(data, beta);
  double loss = 0;
  for (size_t i = 0; i < data->n; i++) {
    double z = beta[data->d];
    for (size_t j = 0; j < data->d; j++)
      z += data->x[i * data->d + j] * beta[j];
    loss += (z - data->y[i]) * (z - data->y[i]);
  }
  return loss / (double)data->n;
}

Test(train, every_batch_size_reaches_the_least_squares_minimum) {
  struct device dev;
  if (!open_device(&dev))
    return;
  struct clb_error err = {0};
  struct clb_dataset data;
  cr_assert_eq(clb_data_regression(64, 3, 1, 0.1, 5, &data, &err), 0, "%s", err.message);
  double optimum = least_squares_loss(&data);
  /* Stochastic, mini-batch and full-batch, each with a step size that suits
   * its gradient noise; constant-lr SGD ends in a small noise ball. */
  const size_t batches[] = {1, 8, 64};
  const double lrs[] = {0.01, 0.05, 0.2};
  double final[3];
  for (size_t k = 0; k < 3; k++) {
    struct clb_train_config cfg = {
        {CLB_MODEL_LINREG, 3, 0, 1}, CLB_FP64, batches[k], lrs[k], 40, 11, 1, 0, 0};
    struct recorder rec = {0};
    double theta[4] = {0, 0, 0, 0};
    cr_assert_eq(clb_train_run(&dev.cl, &data, &cfg, theta, record, &rec, &err), 0, "%s",
                 err.message);
    final[k] = rec.rows[rec.count - 1].train_loss;
    cr_expect_gt(rec.rows[0].train_loss, 10 * optimum, "start %g, optimum %g",
                 rec.rows[0].train_loss, optimum);
    cr_expect(final[k] >= optimum * (1 - 1e-9), "B=%zu: loss %.10g below the optimum %.10g",
              batches[k], final[k], optimum);
    cr_expect(final[k] < optimum * 1.02, "B=%zu: loss %.10g, optimum %.10g", batches[k], final[k],
              optimum);
  }
  cr_expect(fabs(final[0] - final[2]) < 0.02 * optimum, "B=1 %g vs B=N %g", final[0], final[2]);
  cr_expect(fabs(final[1] - final[2]) < 0.02 * optimum, "B=8 %g vs B=N %g", final[1], final[2]);
  clb_dataset_destroy(&data);
  close_device(&dev);
}

Test(train, saved_params_restart_at_the_same_loss) {
  struct device dev;
  if (!open_device(&dev))
    return;
  struct clb_error err = {0};
  struct clb_dataset data;
  cr_assert_eq(clb_data_classes(30, 3, 3, 1.0, 2, &data, &err), 0, "%s", err.message);
  struct clb_shape shape = {CLB_MODEL_SOFTMAX, 3, 0, 3};
  size_t p = clb_shape_param_count(&shape);
  double theta[12], again[12];
  cr_assert_eq(p, 12);
  clb_params_init(&shape, 2, theta);
  struct clb_train_config cfg = {shape, CLB_FP64, 5, 0.2, 5, 2, 1, 0, 0};
  struct recorder first = {0};
  cr_assert_eq(clb_train_run(&dev.cl, &data, &cfg, theta, record, &first, &err), 0, "%s",
               err.message);
  double trained_loss = first.rows[first.count - 1].train_loss;
  cr_expect_lt(trained_loss, first.rows[0].train_loss);
  cr_expect(first.rows[5].accuracy >= 0 && first.rows[5].accuracy <= 1);

  char *dir = clb_test_tmpdir();
  char path[512];
  snprintf(path, sizeof path, "%s/params.csv", dir);
  cr_assert_eq(clb_params_write(path, &shape, theta, &err), 0, "%s", err.message);
  cr_assert_eq(clb_params_read(path, &shape, again, &err), 0, "%s", err.message);
  for (size_t i = 0; i < p; i++)
    cr_expect_eq(again[i], theta[i], "param %zu: %.17g vs %.17g", i, again[i], theta[i]);

  /* A tiny lr and an early stop after epoch 0: the restart's initial loss is
   * the loss the first run ended with. */
  cfg.lr = 1e-12;
  struct recorder second = {.stop_after = 1};
  cr_assert_eq(clb_train_run(&dev.cl, &data, &cfg, again, record, &second, &err), 0, "%s",
               err.message);
  cr_assert_eq(second.count, 1, "the callback asked to stop after epoch 0");
  cr_expect(fabs(second.rows[0].train_loss - trained_loss) <= 1e-12 * trained_loss,
            "restart loss %.17g vs trained %.17g", second.rows[0].train_loss, trained_loss);
  cr_expect_eq(second.rows[0].accuracy, first.rows[first.count - 1].accuracy);

  unlink(path);
  rmdir(dir);
  free(dir);
  clb_dataset_destroy(&data);
  close_device(&dev);
}

Test(train, divergence_and_bad_settings_are_errors) {
  struct device dev;
  if (!open_device(&dev))
    return;
  struct clb_error err = {0};
  struct clb_dataset data;
  line_data(10, &data);
  double theta[2] = {0, 0};
  /* fp32 overflows within a few epochs at this step size. */
  struct clb_train_config cfg = linreg_config(1, 1e4, 20);
  cfg.precision = CLB_FP32;
  struct recorder rec = {0};
  cr_expect_eq(clb_train_run(&dev.cl, &data, &cfg, theta, record, &rec, &err), CLB_E_NUMERIC);
  cr_expect(strstr(err.message, "diverged at epoch") != NULL, "%s", err.message);
  cr_expect(rec.count >= 2 && !isfinite(rec.rows[rec.count - 1].train_loss),
            "the diverged epoch is still reported");
  cr_expect_lt(rec.count, 21, "training stopped at the divergence");

  struct clb_train_config bad[] = {linreg_config(0, 0.1, 1), linreg_config(11, 0.1, 1),
                                   linreg_config(2, 0, 1),   linreg_config(2, -0.1, 1),
                                   linreg_config(2, NAN, 1), linreg_config(2, INFINITY, 1),
                                   linreg_config(2, 0.1, 0)};
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
    cr_expect_eq(clb_train_run(&dev.cl, &data, &bad[k], theta, NULL, NULL, &err), CLB_E_INVAL,
                 "case %zu", k);
  struct clb_train_config softmax = linreg_config(2, 0.1, 1);
  softmax.shape.kind = CLB_MODEL_SOFTMAX;
  softmax.shape.c = 2;
  double theta4[4] = {0};
  cr_expect_eq(clb_train_run(&dev.cl, &data, &softmax, theta4, NULL, NULL, &err), CLB_E_INVAL);
  cr_expect(strstr(err.message, "class labels") != NULL, "%s", err.message);
  clb_dataset_destroy(&data);
  close_device(&dev);
}

/* ---- the CLI ------------------------------------------------------------ */

/* `text` with every '@' replaced by `dir` (malloc'd). */
static char *with_dir(const char *text, const char *dir) {
  size_t size = strlen(text) * (strlen(dir) + 1) + 1;
  char *out = malloc(size), *w = out;
  for (const char *r = text; *r; r++) {
    if (*r == '@' && strncmp(r, "@DEV", 4) != 0) /* @DEV: clb_test_run_cli's device */
      w += sprintf(w, "%s", dir);
    else
      *w++ = *r;
  }
  *w = '\0';
  return out;
}

struct bad_input {
  char args[200]; /* after `train --out @/out.csv`; '@' is the test's directory */
  int write_csv;  /* 1: write csv_text to @/in.csv first */
  char csv_text[64];
  char expect[80]; /* a piece of the one-line message */
};

ParameterizedTestParameters(train_cli, bad_input_exits_2_without_output) {
  static struct bad_input cases[] = {
      {"--batch 0", 0, "", "--batch: 0"},
      {"--batch 1,0,4", 0, "", "--batch: 0"},
      {"--batch 11 --samples 10", 0, "", "--batch: 11 is more than the 10 samples"},
      {"--lr -0.5", 0, "", "--lr: -0.5 is below"},
      {"--lr 0", 0, "", "--lr: 0"},
      {"--lr inf", 0, "", "--lr: 'inf'"},
      {"--lr nan", 0, "", "--lr: 'nan'"},
      {"--lr 1e999", 0, "", "--lr"},
      {"--lr", 0, "", "'--lr' needs a value"},
      {"--epochs 0", 0, "", "--epochs: 0 is below the minimum 1"},
      {"--epochs two", 0, "", "--epochs: 'two'"},
      {"--samples 0", 0, "", "--samples: 0"},
      {"--model perceptron", 0, "", "unknown model 'perceptron'"},
      {"--precision fp8", 0, "", "unknown precision 'fp8'"},
      {"--data-on disk", 0, "", "--data-on: 'disk' is not device or host"},
      {"--frobnicate", 0, "", "unrecognized option '--frobnicate'"},
      {"extra", 0, "", "unexpected argument 'extra'"},
      {"--hidden 4", 0, "", "--hidden applies only to --model mlp"},
      {"--data @/in.csv --samples 5", 1, "1,2\n", "--samples describes synthetic data"},
      {"--data @/missing.csv", 0, "", "cannot open"},
      {"--data @/in.csv", 1, "", "in.csv: no data rows"},
      {"--data @/in.csv", 1, "x,y\n", "no data rows (only a header line)"},
      {"--data @/in.csv", 1, "1,2\n3,abc\n", "in.csv:2: column 2: not a number"},
      {"--data @/in.csv", 1, "1,2,3\n4,5\n", "in.csv:2: column 3: missing"},
      {"--data @/in.csv", 1, "1,2\n3,4,5\n", "in.csv:2: column 3: unexpected extra column"},
      {"--data @/in.csv", 1, "1,2\n3,\n", "in.csv:2: column 2: empty field"},
      {"--data @/in.csv --model softmax", 1, "1,0\n2,0.5\n", "class label"},
      {"--data @/in.csv --batch 3", 1, "1,2\n3,4\n", "--batch: 3 is more than the 2 samples"},
      {"--init-params @/missing.csv", 0, "", "cannot open"},
      {"--init-params @/in.csv", 1, "param,index,value\nw,0,1\n", "in.csv"},
      {"--device no-such-device-anywhere", 0, "", "matches no device"},
      {"--validate-noise", 0, "", "--validate-noise needs --target-loss"},
      {"--lr-grid 0.1,0.3", 0, "", "--lr-grid applies only to --validate-noise"},
      {"--validate-noise --target-loss 1 --lr 0.1 --lr-grid 0.1", 0, "", "--lr and --lr-grid"},
      {"--lr-scale cubic", 0, "", "--lr-scale: unknown scaling 'cubic'"},
      {"--val-fraction 1", 0, "", "--val-fraction"},
      {"--val-fraction 0", 0, "", "--val-fraction"},
      {"--accumulate 0", 0, "", "--accumulate: 0"},
      {"--samples 10 --batch 4 --accumulate 3", 0, "", "--accumulate 3: 3 micro-batches of 4"},
      {"--samples 10 --batch 9 --val-fraction 0.2", 0, "", "9 is more than the 8 training"},
      {"--time-to-loss abc", 0, "", "--time-to-loss: 'abc'"},
      {"--sharpness-eps -1", 0, "", "--sharpness-eps"},
  };
  return cr_make_param_array(struct bad_input, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct bad_input *t, train_cli, bad_input_exits_2_without_output) {
  if (strstr(t->args, "--device")) {
    /* Choosing a device needs an OpenCL platform to choose from. */
    struct clb_device_list list = {0};
    const struct clb_device_info *cpu = NULL;
    if (!clb_test_device(&list, &cpu))
      return;
    clb_platform_list_destroy(&list);
  }
  char *dir = clb_test_tmpdir();
  if (t->write_csv)
    free(clb_test_write_file(dir, "in.csv", t->csv_text));
  char *args_template = malloc(strlen(t->args) + 64);
  sprintf(args_template, "train --out @/out.csv %s", t->args);
  char *args = with_dir(args_template, dir);
  char *out = NULL, *err = NULL;
  int code = clb_test_run_cli(args, &out, &err);
  cr_expect_eq(code, 2, "`%s` exited %d; stderr: %s", t->args, code, err);
  cr_expect(err && strstr(err, t->expect) != NULL, "`%s`: stderr lacks '%s': %s", t->args,
            t->expect, err);
  cr_expect_eq(clb_test_count_lines(err), 1, "`%s`: not a one-line message: %s", t->args, err);
  char path[512];
  snprintf(path, sizeof path, "%s/out.csv", dir);
  cr_expect_neq(access(path, F_OK), 0, "`%s` created the output file", t->args);
  free(out);
  free(err);
  free(args);
  free(args_template);
  clb_test_remove_dir(dir);
  free(dir);
}

/* The rows of a CSV file for one field value of column `col` (0-based). */
static char *csv_field(const char *line, size_t col, char *buf, size_t size) {
  for (size_t k = 0; k < col && line; k++) {
    line = strchr(line, ',');
    if (line)
      line++;
  }
  cr_assert_not_null(line);
  size_t len = strcspn(line, ",\n");
  snprintf(buf, size, "%.*s", (int)len, line);
  return buf;
}

/* The line of `text` whose batch (column 3) and epoch (column 4) match. */
static const char *find_row(const char *text, const char *batch, const char *epoch) {
  for (const char *line = strchr(text, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
    char b[32], e[32];
    if (strcmp(csv_field(line + 1, 3, b, sizeof b), batch) == 0 &&
        strcmp(csv_field(line + 1, 4, e, sizeof e), epoch) == 0)
      return line + 1;
  }
  return NULL;
}

Test(train_cli, writes_the_per_epoch_csv_and_params) {
  if (!clb_test_require_device())
    return;
  char *dir = clb_test_tmpdir();
  char *args = with_dir("train --device @DEV --samples 20 --features 2 --batch 1,5,N "
                        "--epochs 3 --lr 0.05 --precision fp64 --out @/out.csv "
                        "--save-params @/params.csv",
                        dir);
  char *out = NULL, *err = NULL;
  int code = clb_test_run_cli(args, &out, &err);
  cr_assert_eq(code, 0, "exit %d: %s", code, err);
  cr_expect(strstr(out, "train_loss") != NULL, "no table header: %s", out);
  char path[512];
  snprintf(path, sizeof path, "%s/out.csv", dir);
  char *csv = clb_test_read_file(path);
  cr_assert_not_null(csv);
  const char header[] = "device,model,precision,batch,epoch,updates,train_loss,wall_s\n";
  cr_expect_eq(strncmp(csv, header, strlen(header)), 0, "header: %.100s", csv);
  cr_expect_eq(clb_test_count_lines(csv), 1 + 3 * (3 + 1), "rows: %s", csv);
  const char *row = find_row(csv, "20", "3");
  char field[64];
  cr_assert_not_null(row, "no batch-20 epoch-3 row: %s", csv);
  cr_expect_str_eq(csv_field(row, 5, field, sizeof field), "3", "full batch: 1 update per epoch");
  row = find_row(csv, "5", "2");
  cr_assert_not_null(row);
  cr_expect_str_eq(csv_field(row, 5, field, sizeof field), "8");
  for (size_t k = 0; k < 3; k++) {
    static const char *const names[] = {"params-b1.csv", "params-b5.csv", "params-b20.csv"};
    snprintf(path, sizeof path, "%s/%s", dir, names[k]);
    cr_expect_eq(access(path, F_OK), 0, "%s was not written", names[k]);
  }
  free(out);
  free(err);
  free(args);

  /* Restarting from the batch-5 parameters starts at the loss that run ended with. */
  args = with_dir("train --device @DEV --samples 20 --features 2 --batch 5 --epochs 1 "
                  "--lr 0.05 --precision fp64 --init-params @/params-b5.csv --out @/again.csv",
                  dir);
  code = clb_test_run_cli(args, NULL, &err);
  cr_assert_eq(code, 0, "exit %d: %s", code, err);
  snprintf(path, sizeof path, "%s/again.csv", dir);
  char *again = clb_test_read_file(path);
  cr_assert_not_null(again);
  char trained[64], restarted[64];
  const char *end_row = find_row(csv, "5", "3"), *start_row = find_row(again, "5", "0");
  cr_assert(end_row && start_row);
  cr_expect_str_eq(csv_field(start_row, 6, restarted, sizeof restarted),
                   csv_field(end_row, 6, trained, sizeof trained));
  free(again);
  free(csv);
  free(err);
  free(args);

  /* A classifier adds the accuracy column. */
  args = with_dir("train --device @DEV --model softmax --samples 30 --features 3 --classes 3 "
                  "--batch 10 --epochs 2 --lr 0.1 --out @/softmax.csv",
                  dir);
  code = clb_test_run_cli(args, NULL, &err);
  cr_assert_eq(code, 0, "exit %d: %s", code, err);
  snprintf(path, sizeof path, "%s/softmax.csv", dir);
  csv = clb_test_read_file(path);
  cr_assert_not_null(csv);
  const char softmax_header[] =
      "device,model,precision,batch,epoch,updates,train_loss,wall_s,accuracy\n";
  cr_expect_eq(strncmp(csv, softmax_header, strlen(softmax_header)), 0, "header: %.100s", csv);
  cr_expect_eq(clb_test_count_lines(csv), 1 + 3);
  free(csv);
  free(err);
  free(args);

  clb_test_remove_dir(dir);
  free(dir);
}

Test(train_cli, divergence_exits_1_after_the_other_batch_sizes) {
  if (!clb_test_require_device())
    return;
  char *dir = clb_test_tmpdir();
  /* B = 1 takes 20 huge steps an epoch and overflows fp32; B = N takes 3 in
   * all and stays finite, so its run must still finish. */
  char *args = with_dir("train --device @DEV --samples 20 --features 2 --batch 1,N --epochs 3 "
                        "--lr 1000 --out @/out.csv",
                        dir);
  char *err = NULL;
  int code = clb_test_run_cli(args, NULL, &err);
  cr_expect_eq(code, 1, "exit %d: %s", code, err);
  cr_expect(strstr(err, "batch 1: diverged at epoch ") != NULL, "%s", err);
  cr_expect(strstr(err, "lower --lr") != NULL, "%s", err);
  char path[512];
  snprintf(path, sizeof path, "%s/out.csv", dir);
  char *csv = clb_test_read_file(path);
  cr_assert_not_null(csv);
  cr_expect_not_null(find_row(csv, "20", "3"), "the full-batch run did not finish: %s", csv);
  free(csv);
  free(err);
  free(args);
  clb_test_remove_dir(dir);
  free(dir);
}

Test(train_cli, unsupported_precision_exits_1_naming_the_extension) {
  struct clb_device_list list = {0};
  const struct clb_device_info *cpu = NULL;
  if (!clb_test_device(&list, &cpu))
    return;
  int has_fp16 = cpu->has_fp16, has_fp64 = cpu->has_fp64;
  clb_platform_list_destroy(&list);
  if (has_fp16 && has_fp64)
    cr_skip("the CPU device supports every precision");
  const char *precision = has_fp16 ? "fp64" : "fp16";
  char *dir = clb_test_tmpdir();
  char template[200];
  snprintf(template, sizeof template,
           "train --device @DEV --precision %s --samples 10 --epochs 1 --out @/out.csv", precision);
  char *args = with_dir(template, dir);
  char *err = NULL;
  int code = clb_test_run_cli(args, NULL, &err);
  cr_expect_eq(code, 1, "exit %d: %s", code, err);
  cr_expect(strstr(err, has_fp16 ? "cl_khr_fp64" : "cl_khr_fp16") != NULL, "%s", err);
  char path[512];
  snprintf(path, sizeof path, "%s/out.csv", dir);
  cr_expect_neq(access(path, F_OK), 0, "the output file was created");
  free(err);
  free(args);
  rmdir(dir);
  free(dir);
}

/* fp16 training (Intel's CPU runtime is the fp16 device here) follows the
 * fp32 run from the same seed epoch by epoch, and the sharpness note says
 * when eps is within fp16's rounding. */
Test(train_cli, fp16_training_follows_fp32) {
  struct clb_device_list list = {0};
  const struct clb_device_info *half = NULL;
  if (!clb_test_device_for(&list, &half, CLB_FP16))
    return;
  clb_platform_list_destroy(&list);
  char *dir = clb_test_tmpdir();
  const char *precisions[] = {"fp32", "fp16"};
  char *csv[2], *out16 = NULL;
  for (int p = 0; p < 2; p++) {
    char template[400];
    snprintf(template, sizeof template,
             "train --device @DEV --model softmax --samples 120 --features 3 --classes 3 "
             "--batch 8 --epochs 4 --lr 0.1 --sharpness-samples %d --precision %s "
             "--out @/%s.csv",
             p ? 4 : 0, precisions[p], precisions[p]);
    char *args = with_dir(template, dir);
    char *out = NULL, *err = NULL;
    int code = clb_test_run_cli(args, &out, &err);
    cr_assert_eq(code, 0, "%s: exit %d: %s", precisions[p], code, err);
    char path[512];
    snprintf(path, sizeof path, "%s/%s.csv", dir, precisions[p]);
    csv[p] = clb_test_read_file(path);
    cr_assert_not_null(csv[p]);
    if (p)
      out16 = out;
    else
      free(out);
    free(err);
    free(args);
  }
  double first = 0, last = 0;
  for (int epoch = 0; epoch <= 4; epoch++) {
    char epoch_text[8], loss_text[2][64];
    snprintf(epoch_text, sizeof epoch_text, "%d", epoch);
    double loss[2];
    for (int p = 0; p < 2; p++) {
      const char *row = find_row(csv[p], "8", epoch_text);
      cr_assert_not_null(row, "%s epoch %d missing", precisions[p], epoch);
      loss[p] = strtod(csv_field(row, 6, loss_text[p], sizeof loss_text[p]), NULL);
    }
    cr_expect_lt(fabs(loss[1] - loss[0]) / loss[0], 2e-2, "epoch %d: fp16 loss %g, fp32 %g",
                 epoch, loss[1], loss[0]);
    if (epoch == 0)
      first = loss[1];
    last = loss[1];
  }
  cr_expect_lt(last, 0.7 * first, "fp16 training did not learn: %g -> %g", first, last);
  cr_expect(strstr(out16, "mostly rounding") != NULL, "no fp16 sharpness note: %s", out16);
  free(out16);
  free(csv[0]);
  free(csv[1]);
  clb_test_remove_dir(dir);
  free(dir);
}

/* ---- learning-rate schedules, accumulation, splits, sharpness, targets -- */

Test(train, lr_scaling_and_warmup_arithmetic) {
  cr_expect_eq(clb_train_scaled_lr(0.1, CLB_LR_NONE, 128, 32), 0.1);
  cr_expect(fabs(clb_train_scaled_lr(0.1, CLB_LR_LINEAR, 128, 32) - 0.4) < 1e-15);
  cr_expect(fabs(clb_train_scaled_lr(0.1, CLB_LR_LINEAR, 8, 32) - 0.025) < 1e-15);
  cr_expect(fabs(clb_train_scaled_lr(0.1, CLB_LR_SQRT, 128, 32) - 0.2) < 1e-15);
  cr_expect(fabs(clb_train_scaled_lr(0.1, CLB_LR_SQRT, 8, 32) - 0.05) < 1e-15);
  enum clb_lr_scale scale;
  cr_expect(clb_lr_scale_parse("sqrt", &scale) == 0 && scale == CLB_LR_SQRT);
  cr_expect(clb_lr_scale_parse("linear", &scale) == 0 && scale == CLB_LR_LINEAR);
  cr_expect_neq(clb_lr_scale_parse("cubic", &scale), 0);
  cr_expect_str_eq(clb_lr_scale_name(CLB_LR_NONE), "none");
  /* W = 4 updates: lr/4, lr/2, 3lr/4, lr, then lr. */
  const double expect[] = {0.25, 0.5, 0.75, 1, 1, 1};
  for (size_t u = 0; u < 6; u++)
    cr_expect(fabs(clb_train_warmup_lr(1.0, u, 4) - expect[u]) < 1e-15, "update %zu: %g", u,
              clb_train_warmup_lr(1.0, u, 4));
  cr_expect_eq(clb_train_warmup_lr(0.3, 0, 0), 0.3, "no warm-up");
}

/* K micro-batches of B accumulate into exactly the update of one K*B batch. */
Test(train, accumulation_equals_one_update_of_the_full_batch) {
  struct device dev;
  if (!open_device(&dev))
    return;
  struct clb_error err = {0};
  for (int classes = 0; classes < 2; classes++) {
    struct clb_dataset data;
    struct clb_shape shape;
    if (classes) {
      cr_assert_eq(clb_data_classes(24, 3, 3, 1.0, 4, &data, &err), 0, "%s", err.message);
      shape = (struct clb_shape){CLB_MODEL_SOFTMAX, 3, 0, 3};
    } else {
      cr_assert_eq(clb_data_regression(24, 3, 1, 0.1, 4, &data, &err), 0, "%s", err.message);
      shape = (struct clb_shape){CLB_MODEL_LINREG, 3, 0, 1};
    }
    double full[12], acc[12];
    size_t p = clb_shape_param_count(&shape);
    clb_params_init(&shape, 9, full);
    for (size_t i = 0; i < p; i++)
      full[i] += 0.1 * (double)(i + 1); /* linreg starts at zero: move it off */
    memcpy(acc, full, sizeof full);
    /* One epoch, one update: B = 24 at once, and 3 micro-batches of 8. */
    struct clb_train_config cfg = {shape, CLB_FP64, 24, 0.1, 1, 3, 1, 0, 0};
    struct clb_train_summary sm;
    cr_assert_eq(clb_train_run_ex(&dev.cl, &data, &cfg, NULL, full, NULL, NULL, &sm, &err), 0,
                 "%s", err.message);
    cr_expect_eq(sm.updates, 1);
    cfg.batch = 8;
    struct clb_train_extra extra = {0};
    extra.accumulate = 3;
    struct clb_train_summary sm_acc;
    cr_assert_eq(clb_train_run_ex(&dev.cl, &data, &cfg, &extra, acc, NULL, NULL, &sm_acc, &err), 0,
                 "%s", err.message);
    cr_expect_eq(sm_acc.updates, 1);
    cr_expect_gt(sm_acc.device_bytes, 0);
    for (size_t i = 0; i < p; i++)
      cr_expect(fabs(acc[i] - full[i]) <= 1e-12 * fabs(full[i]) + 1e-300,
                "%s param %zu: accumulated %.17g, full %.17g", clb_shape_kind_name(shape.kind), i,
                acc[i], full[i]);
    /* More updates (with a partial last one) stay equal too: 24 rows,
     * effective 9 -> updates of 9, 9 and 6 rows per epoch. */
    clb_params_init(&shape, 9, full);
    memcpy(acc, full, sizeof full);
    cfg.batch = 9;
    cfg.epochs = 2;
    cr_assert_eq(clb_train_run_ex(&dev.cl, &data, &cfg, NULL, full, NULL, NULL, NULL, &err), 0);
    cfg.batch = 3;
    extra.accumulate = 3;
    cr_assert_eq(clb_train_run_ex(&dev.cl, &data, &cfg, &extra, acc, NULL, NULL, &sm_acc, &err),
                 0, "%s", err.message);
    cr_expect_eq(sm_acc.updates, 6);
    for (size_t i = 0; i < p; i++)
      cr_expect(fabs(acc[i] - full[i]) <= 1e-12 * (fabs(full[i]) + 1e-3), "param %zu: %.17g vs %.17g",
                i, acc[i], full[i]);
    clb_dataset_destroy(&data);
  }
  close_device(&dev);
}

Test(train, validation_split_is_disjoint_and_deterministic) {
  struct clb_error err = {0};
  struct clb_dataset data, a, b, c;
  cr_assert_eq(clb_data_classes(50, 2, 3, 1.0, 3, &data, &err), 0, "%s", err.message);
  uint32_t rows_a[50], rows_b[50], rows_c[50];
  size_t n_a = 0, n_b = 0, n_c = 0;
  cr_assert_eq(clb_train_split(&data, 0.2, 7, &a, &n_a, rows_a, &err), 0, "%s", err.message);
  cr_assert_eq(clb_train_split(&data, 0.2, 7, &b, &n_b, rows_b, &err), 0, "%s", err.message);
  cr_assert_eq(clb_train_split(&data, 0.2, 8, &c, &n_c, rows_c, &err), 0, "%s", err.message);
  cr_expect_eq(n_a, 40);
  cr_expect_eq(n_b, 40);
  cr_expect_eq(memcmp(rows_a, rows_b, sizeof rows_a), 0, "same seed, same split");
  cr_expect_neq(memcmp(rows_a, rows_c, sizeof rows_a), 0, "another seed, another split");
  int seen[50] = {0};
  for (size_t i = 0; i < 50; i++) {
    cr_assert_lt(rows_a[i], 50);
    seen[rows_a[i]]++;
    cr_expect_eq(a.x[i * 2], data.x[rows_a[i] * 2]);
    cr_expect_eq(a.x[i * 2 + 1], data.x[rows_a[i] * 2 + 1]);
    cr_expect_eq(a.y[i], data.y[rows_a[i]]);
  }
  /* Every row exactly once: the training and validation rows are disjoint
   * and together the whole set. */
  for (size_t i = 0; i < 50; i++)
    cr_expect_eq(seen[i], 1, "row %zu appears %d times", i, seen[i]);
  struct clb_dataset bad;
  size_t n_bad;
  cr_expect_eq(clb_train_split(&data, 0, 7, &bad, &n_bad, NULL, &err), CLB_E_INVAL);
  cr_expect_eq(clb_train_split(&data, 0.999, 7, &bad, &n_bad, NULL, &err), CLB_E_INVAL);
  clb_dataset_destroy(&a);
  clb_dataset_destroy(&b);
  clb_dataset_destroy(&c);
  clb_dataset_destroy(&data);
}


/* At the least-squares minimum theta* of the MSE, L(theta* + delta) -
 * L(theta*) = (1/N) |[X 1] delta|^2 = (1/2) delta^T H delta with H = (2/N)
 * [X 1]^T [X 1] (the gradient term vanishes). The device's sharpness must
 * match that quadratic form for the very same perturbations. */
Test(train, sharpness_matches_the_known_curvature_of_linreg) {
  struct device dev;
  if (!open_device(&dev))
    return;
  struct clb_error err = {0};
  struct clb_dataset data;
  cr_assert_eq(clb_data_regression(64, 3, 1, 0.1, 5, &data, &err), 0, "%s", err.message);
  struct clb_shape shape = {CLB_MODEL_LINREG, 3, 0, 1};
  double theta[4], delta[4];
  least_squares_theta(&data, theta);
  struct clb_model_config config = {shape, CLB_FP64, 64, 0};
  struct clb_model *model = NULL;
  cr_assert_eq(clb_model_create(&dev.cl, &config, &data, &model, &err), 0, "%s", err.message);
  double mean = 1, max = 1;
  cr_assert_eq(clb_train_sharpness(model, &shape, 64, 64, theta, 0.0, 4, 3, &mean, &max, &err), 0,
               "%s", err.message);
  cr_expect_eq(mean, 0, "eps = 0 moves nothing: %g", mean);
  cr_expect_eq(max, 0);
  const double eps[] = {1e-2, 1e-1};
  double means[2];
  for (size_t k = 0; k < 2; k++) {
    const size_t samples = 8;
    cr_assert_eq(clb_train_sharpness(model, &shape, 64, 64, theta, eps[k], samples, 3, &mean, &max,
                                     &err),
                 0, "%s", err.message);
    /* The same perturbations on the host, and (1/2) delta^T H delta. */
    struct clb_rng rng;
    clb_rng_seed(&rng, 3);
    double sum = 0, worst = 0;
    for (size_t s = 0; s < samples; s++) {
      clb_train_perturbation(&shape, theta, eps[k], &rng, delta);
      double w2 = delta[0] * delta[0] + delta[1] * delta[1] + delta[2] * delta[2];
      cr_expect(fabs(sqrt(w2) - eps[k] * sqrt(theta[0] * theta[0] + theta[1] * theta[1] +
                                               theta[2] * theta[2])) < 1e-12,
                "|delta_w| = eps |w|");
      cr_expect(fabs(fabs(delta[3]) - eps[k] * fabs(theta[3])) < 1e-15, "|delta_b| = eps |b|");
      double q = 0;
      for (size_t i = 0; i < data.n; i++) {
        double z = delta[3];
        for (size_t j = 0; j < 3; j++)
          z += data.x[i * 3 + j] * delta[j];
        q += z * z;
      }
      q /= (double)data.n;
      sum += q;
      worst = q > worst ? q : worst;
    }
    double expected = sum / (double)samples;
    cr_expect(fabs(mean - expected) <= 1e-6 * expected, "eps %g: mean %.12g, expected %.12g",
              eps[k], mean, expected);
    cr_expect(fabs(max - worst) <= 1e-6 * worst, "eps %g: max %.12g, expected %.12g", eps[k], max,
              worst);
    means[k] = mean;
  }
  /* A quadratic: ten times the radius, a hundred times the increase. */
  cr_expect(fabs(means[1] / means[0] - 100) < 1e-4, "ratio %g", means[1] / means[0]);
  /* The model is left at theta. */
  double back[4];
  cr_assert_eq(clb_model_get_params(model, back, &err), 0);
  for (size_t i = 0; i < 4; i++)
    cr_expect_eq(back[i], theta[i]);
  clb_model_destroy(model);
  clb_dataset_destroy(&data);
  close_device(&dev);
}

Test(train, time_to_target_stops_at_the_first_epoch_at_or_below) {
  struct device dev;
  if (!open_device(&dev))
    return;
  struct clb_error err = {0};
  struct clb_dataset data;
  line_data(10, &data);
  struct clb_train_config cfg = linreg_config(2, 0.05, 12);
  struct recorder all = {0};
  double theta[2] = {0, 0};
  cr_assert_eq(clb_train_run(&dev.cl, &data, &cfg, theta, record, &all, &err), 0, "%s",
               err.message);
  cr_assert_eq(all.count, 13);
  cr_assert_lt(all.rows[5].train_loss, all.rows[4].train_loss, "the loss falls");
  /* The target is exactly epoch 5's loss: "at or below" stops there. */
  struct clb_train_extra extra = {0};
  extra.has_target = 1;
  extra.target_loss = all.rows[5].train_loss;
  struct recorder rec = {0};
  struct clb_train_summary sm;
  theta[0] = theta[1] = 0;
  cr_assert_eq(clb_train_run_ex(&dev.cl, &data, &cfg, &extra, theta, record, &rec, &sm, &err), 0,
               "%s", err.message);
  cr_expect_eq(rec.count, 6, "stopped after epoch 5, not later: %zu rows", rec.count);
  cr_expect(sm.reached);
  cr_expect_eq(sm.target_updates, 25);
  cr_expect_eq(sm.target_epochs, 5);
  cr_expect_eq(sm.target_wall_s, rec.rows[5].wall_s);
  /* A target never reached: every epoch runs, reached stays 0. */
  extra.target_loss = -1;
  rec.count = 0;
  theta[0] = theta[1] = 0;
  cr_assert_eq(clb_train_run_ex(&dev.cl, &data, &cfg, &extra, theta, record, &rec, &sm, &err), 0);
  cr_expect_eq(rec.count, 13);
  cr_expect(!sm.reached);
  /* With --eval-every 1 the stop comes at the first update at or below. */
  extra.eval_every = 1;
  extra.target_loss = all.rows[5].train_loss;
  rec.count = 0;
  theta[0] = theta[1] = 0;
  cr_assert_eq(clb_train_run_ex(&dev.cl, &data, &cfg, &extra, theta, record, &rec, &sm, &err), 0);
  cr_expect(sm.reached && sm.target_updates <= 25, "%zu updates", sm.target_updates);
  for (size_t i = 0; i + 1 < rec.count; i++)
    cr_expect_gt(rec.rows[i].train_loss, extra.target_loss, "row %zu was already at the target", i);
  clb_dataset_destroy(&data);
  close_device(&dev);
}

/* A validation split adds val_loss and gap columns; --summary-out has one
 * row per batch with the sharpness; accumulation reports its memory. */
Test(train_cli, validation_sharpness_accumulation_and_summary) {
  if (!clb_test_require_device())
    return;
  char *dir = clb_test_tmpdir();
  char *args = with_dir("train --device @DEV --model softmax --samples 40 --features 3 --classes 3 "
                        "--batch 2,8 --accumulate 2 --epochs 3 --lr 0.1 --lr-scale sqrt "
                        "--base-batch 4 --warmup-epochs 1 --val-fraction 0.25 --precision fp64 "
                        "--sharpness-samples 4 --time-to-loss 0.0001 --out @/out.csv "
                        "--summary-out @/summary.csv",
                        dir);
  char *out = NULL, *err = NULL;
  int code = clb_test_run_cli(args, &out, &err);
  cr_assert_eq(code, 0, "exit %d: %s", code, err);
  cr_expect(strstr(out, "(30 train, 10 validation)") != NULL, "%s", out);
  cr_expect(strstr(out, "sharpness (eps 0.001, 4 samples)") != NULL, "%s", out);
  cr_expect(strstr(out, "2 x 2 = 4: micro-batch") != NULL, "%s", out);
  cr_expect(strstr(out, "did not reach 0.0001") != NULL, "%s", out);
  char path[512];
  snprintf(path, sizeof path, "%s/out.csv", dir);
  char *csv = clb_test_read_file(path);
  cr_assert_not_null(csv);
  const char header[] =
      "device,model,precision,batch,epoch,updates,train_loss,wall_s,accuracy,val_loss,gap,"
      "val_accuracy\n";
  cr_expect_eq(strncmp(csv, header, strlen(header)), 0, "header: %.200s", csv);
  cr_expect_eq(clb_test_count_lines(csv), 1 + 2 * 4);
  free(csv);
  snprintf(path, sizeof path, "%s/summary.csv", dir);
  csv = clb_test_read_file(path);
  cr_assert_not_null(csv);
  cr_expect_eq(clb_test_count_lines(csv), 3, "%s", csv);
  cr_expect(strncmp(csv, "device,model,precision,batch,accumulate,effective_batch,lr,", 59) == 0,
            "%s", csv);
  free(csv);
  free(out);
  free(err);
  free(args);
  clb_test_remove_dir(dir);
  free(dir);
}

/* max_updates stops the loop after exactly that many SGD updates, mid-epoch
 * included (what `clbatch run --noise-at` uses), and the parameters are those
 * of a run of exactly that many updates. */
Test(train, max_updates_stops_after_that_many_updates) {
  struct device dev;
  if (!open_device(&dev))
    return;
  struct clb_error err = {0};
  struct clb_dataset data;
  cr_assert_eq(clb_data_regression(40, 3, 1, 0.1, 4, &data, &err), 0, "%s", err.message);
  struct clb_shape shape = {CLB_MODEL_LINREG, 3, 0, 1};
  double stopped[4] = {0}, exact[4] = {0};
  /* B = 4 over 40 rows: 10 updates per epoch; stop at 13, inside epoch 2. */
  struct clb_train_config cfg = {shape, CLB_FP64, 4, 0.05, 5, 3, 0, 1, 0};
  struct clb_train_extra extra = {0};
  extra.max_updates = 13;
  struct clb_train_summary sm;
  cr_assert_eq(clb_train_run_ex(&dev.cl, &data, &cfg, &extra, stopped, NULL, NULL, &sm, &err), 0,
               "%s", err.message);
  cr_expect_eq(sm.updates, 13);
  /* The same 13 updates without the limit: one full epoch, then 3 more in
   * order (no shuffle), i.e. 40 + 12 rows. */
  cfg.epochs = 1;
  cr_assert_eq(clb_train_run_ex(&dev.cl, &data, &cfg, NULL, exact, NULL, NULL, NULL, &err), 0);
  struct clb_dataset first12 = data;
  first12.n = 12;
  cr_assert_eq(clb_train_run_ex(&dev.cl, &first12, &cfg, NULL, exact, NULL, NULL, NULL, &err), 0,
               "%s", err.message);
  for (size_t i = 0; i < 4; i++)
    cr_expect(fabs(stopped[i] - exact[i]) <= 1e-12 * (fabs(exact[i]) + 1), "param %zu: %.17g vs %.17g",
              i, stopped[i], exact[i]);
  clb_dataset_destroy(&data);
  close_device(&dev);
}
