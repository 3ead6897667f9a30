/* `clbatch train`: the command-line side of src/train.c. It parses and checks
 * every input before it touches the output file, prints the per-epoch table,
 * writes the per-epoch CSV and picks the exit code (0 ok, 1 a run failed or
 * the device cannot do it, 2 bad usage or input). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "data.h"
#include "options.h"
#include "platform.h"
#include "precision.h"
#include "shape.h"
#include "train.h"

#define CLB_TRAIN_MAX_BATCHES 64
/* Centres of synthetic classes are drawn with this standard deviation per
 * feature; 1 keeps the classes overlapping a little, so the loss stays finite
 * and accuracy has room to grow. */
#define CLB_TRAIN_CLASS_SPREAD 1.0

void clb_help_train(FILE *out) {
  fprintf(out, "Usage: clbatch train [OPTIONS]\n"
               "\n"
               "Mini-batch SGD on one OpenCL device. Each batch size is a separate run from\n"
               "the same initial parameters; after every epoch the mean loss over all samples\n"
               "(and the accuracy for classifiers) is evaluated on the device and printed.\n"
               "\n"
               "  --device SPEC       cpu, gpu, P:D or a name substring (default: the first\n"
               "                      device); when several match, the first is used\n"
               "  --model M           linreg (mean squared error), softmax or mlp\n"
               "                      (default linreg)\n"
               "  --batch LIST        batch sizes, e.g. 32 or 1,2,5,10 or 1:1024:x2; N = all\n"
               "                      samples, the full batch; 1 = stochastic (default 32,\n"
               "                      or N when there are fewer samples)\n"
               "  --lr X              learning rate, > 0 (default 0.01)\n"
               "  --epochs E          epochs per run, >= 1 (default 10)\n"
               "  --seed S            seeds the data, the initial parameters and the\n"
               "                      per-epoch shuffles (default 1)\n"
               "  --precision P       fp32, fp64 or fp16 (default fp32)\n"
               "  --no-shuffle        keep the samples in order (default: a fresh permutation\n"
               "                      every epoch)\n"
               "  --drop-last         skip the partial last batch: floor(N/B) updates per epoch\n"
               "                      instead of ceil(N/B)\n"
               "\n"
               "Data (synthetic unless --data is given):\n"
               "  --samples N         samples (default 1000)\n"
               "  --features D        features (default 16)\n"
               "  --hidden H          mlp hidden units (default 32)\n"
               "  --classes C         softmax/mlp classes (default 4)\n"
               "  --outputs O         linreg outputs (default 1)\n"
               "  --noise-std S       linreg: y = X W* + b* + S * N(0,1) (default 0.1)\n"
               "  --data FILE.csv     numeric CSV, features then the target (an integer class\n"
               "                      label for softmax/mlp); one header line allowed\n"
               "  --data-on PLACE     device (default) or host (batches streamed per step)\n"
               "\n"
               "Output:\n"
               "  --out FILE          per-epoch CSV: device,model,precision,batch,epoch,updates,\n"
               "                      train_loss,wall_s[,accuracy]; epoch 0 is the initial\n"
               "                      loss; updates and wall_s (training only, evaluation\n"
               "                      excluded) are cumulative; rows are flushed as each\n"
               "                      epoch ends\n"
               "  --save-params FILE  write the learned parameters (param,index,value); with\n"
               "                      several batch sizes, one file per size with the batch\n"
               "                      before the extension, e.g. params.csv -> params-b32.csv\n"
               "  --init-params FILE  start from these parameters instead of the seeded\n"
               "                      initialisation\n"
               "\n"
               "Exit status: 0 ok, 1 a run failed (e.g. diverged) or the device lacks the\n"
               "precision, 2 bad usage or input.\n");
}

struct train_options {
  const char *device_spec, *data_path, *out_path, *save_path, *init_path;
  enum clb_model_kind kind;
  enum clb_precision precision;
  size_t batches[CLB_TRAIN_MAX_BATCHES];
  size_t n_batches;
  double lr, noise_std;
  size_t epochs, samples, features, hidden, classes, outputs;
  uint64_t seed;
  int shuffle, drop_last, data_on_host;
  /* Which synthetic-data options were given, to refuse meaningless ones. */
  int set_batch, set_samples, set_features, set_hidden, set_classes, set_outputs, set_noise;
};

/* What the per-epoch callback needs: where to print and write. */
struct epoch_sink {
  FILE *csv;
  const char *device, *model, *precision;
  size_t batch;
  int classifier;
  int write_failed;
};

/* A CSV field, quoted per RFC 4180 only when it must be. */
static void write_csv_field(FILE *out, const char *text) {
  if (!strpbrk(text, ",\"\r\n")) {
    fputs(text, out);
    return;
  }
  fputc('"', out);
  for (const char *p = text; *p; p++) {
    if (*p == '"')
      fputc('"', out);
    fputc(*p, out);
  }
  fputc('"', out);
}

/* A number with `format`, or "nan"/"inf"/"-inf": printf would write "-nan"
 * for some NaNs, which strtod and other readers do not all accept. */
static const char *number(char *buf, size_t size, const char *format, double value) {
  if (isnan(value))
    return "nan";
  if (isinf(value))
    return value < 0 ? "-inf" : "inf";
  snprintf(buf, size, format, value);
  return buf;
}

static int on_epoch(const struct clb_epoch_result *r, void *ctx) {
  struct epoch_sink *sink = ctx;
  char loss[64];
  printf("%7zu %6zu %9zu %14s %10.4f", sink->batch, r->epoch, r->updates,
         number(loss, sizeof loss, "%.7g", r->train_loss), r->wall_s);
  if (sink->classifier)
    printf(" %9.4f", r->accuracy);
  printf("\n");
  fflush(stdout);
  if (sink->csv) {
    write_csv_field(sink->csv, sink->device);
    fprintf(sink->csv, ",%s,%s,%zu,%zu,%zu,%s,%.6f", sink->model, sink->precision, sink->batch,
            r->epoch, r->updates, number(loss, sizeof loss, "%.10g", r->train_loss), r->wall_s);
    if (sink->classifier)
      fprintf(sink->csv, ",%.6f", r->accuracy);
    fputc('\n', sink->csv);
    /* Flushed per epoch so a killed run keeps every finished row. */
    if (fflush(sink->csv) != 0 || ferror(sink->csv)) {
      sink->write_failed = 1;
      return CLB_E_IO;
    }
  }
  return 0;
}

/* FILE with "-bB" before its extension (the last '.' of the last path
 * component), or appended when it has none: params.csv -> params-b32.csv. */
static void params_path(const char *file, size_t batch, char *buf, size_t size) {
  const char *slash = strrchr(file, '/');
  const char *dot = strrchr(slash ? slash + 1 : file, '.');
  if (!dot || dot == (slash ? slash + 1 : file))
    snprintf(buf, size, "%s-b%zu", file, batch);
  else
    snprintf(buf, size, "%.*s-b%zu%s", (int)(dot - file), file, batch, dot);
}

/* Parses one option into opt; returns 0, or 2 after printing why. */
static int parse_option(int code, const char *value, struct train_options *opt) {
  struct clb_error err = {0};
  size_t size_value = 0;
  int rc = 0;
  switch (code) {
  case 'd':
    opt->device_spec = value;
    break;
  case 'm':
    if (clb_model_parse(value, &opt->kind) != 0) {
      fprintf(stderr, "clbatch train: unknown model '%s' (linreg, softmax or mlp)\n", value);
      return 2;
    }
    break;
  case 'b':
    rc = clb_parse_batches(value, 0, opt->batches, CLB_TRAIN_MAX_BATCHES, &opt->n_batches, &err);
    opt->set_batch = 1;
    break;
  case 'l':
    rc = clb_parse_double(value, 0, 1e30, "--lr", &opt->lr, &err);
    if (rc == 0 && opt->lr == 0)
      rc = clb_failf(&err, CLB_E_INVAL,
                     "--lr: 0 would never move the parameters; it must be "
                     "above 0");
    break;
  case 'e':
    rc = clb_parse_size(value, 1, 100000000, "--epochs", &opt->epochs, &err);
    break;
  case 's':
    rc = clb_parse_size(value, 0, SIZE_MAX, "--seed", &size_value, &err);
    opt->seed = (uint64_t)size_value;
    break;
  case 'p':
    if (clb_precision_parse(value, &opt->precision) != 0) {
      fprintf(stderr, "clbatch train: unknown precision '%s' (fp32, fp64 or fp16)\n", value);
      return 2;
    }
    break;
  case 'n':
    rc = clb_parse_size(value, 1, UINT32_MAX, "--samples", &opt->samples, &err);
    opt->set_samples = 1;
    break;
  case 'D':
    rc = clb_parse_size(value, 1, 1000000, "--features", &opt->features, &err);
    opt->set_features = 1;
    break;
  case 'H':
    rc = clb_parse_size(value, 1, 1000000, "--hidden", &opt->hidden, &err);
    opt->set_hidden = 1;
    break;
  case 'C':
    rc = clb_parse_size(value, 2, 1000000, "--classes", &opt->classes, &err);
    opt->set_classes = 1;
    break;
  case 'O':
    rc = clb_parse_size(value, 1, 1000000, "--outputs", &opt->outputs, &err);
    opt->set_outputs = 1;
    break;
  case 'N':
    rc = clb_parse_double(value, 0, 1e30, "--noise-std", &opt->noise_std, &err);
    opt->set_noise = 1;
    break;
  case 'f':
    opt->data_path = value;
    break;
  case 'P':
    if (strcmp(value, "device") == 0 || strcmp(value, "host") == 0) {
      opt->data_on_host = value[0] == 'h';
    } else {
      fprintf(stderr, "clbatch train: --data-on: unknown place '%s' (device or host)\n", value);
      return 2;
    }
    break;
  case 'o':
    opt->out_path = value;
    break;
  case 'S':
    opt->save_path = value;
    break;
  case 'I':
    opt->init_path = value;
    break;
  }
  if (rc != 0) {
    fprintf(stderr, "clbatch train: %s\n", err.message);
    return 2;
  }
  return 0;
}

/* Refuses options that the chosen model or data source would silently
 * ignore; returns 0 or 2 after printing why. */
static int check_combinations(const struct train_options *opt) {
  const char *bad = NULL, *why = NULL;
  int classifier = clb_model_is_classifier(opt->kind);
  if (opt->set_hidden && opt->kind != CLB_MODEL_MLP) {
    bad = "--hidden";
    why = "applies only to --model mlp";
  } else if (opt->set_classes && !classifier) {
    bad = "--classes";
    why = "applies only to --model softmax or mlp";
  } else if ((opt->set_outputs || opt->set_noise) && classifier) {
    bad = opt->set_outputs ? "--outputs" : "--noise-std";
    why = "applies only to --model linreg";
  } else if (opt->data_path && (opt->set_samples || opt->set_features || opt->set_classes ||
                                opt->set_outputs || opt->set_noise)) {
    bad = opt->set_samples    ? "--samples"
          : opt->set_features ? "--features"
          : opt->set_classes  ? "--classes"
          : opt->set_outputs  ? "--outputs"
                              : "--noise-std";
    why = "describes synthetic data and cannot be combined with --data";
  }
  if (!bad)
    return 0;
  fprintf(stderr, "clbatch train: %s %s\n", bad, why);
  return 2;
}

/* Picks exactly one device; returns 0, or the exit code after printing why. */
static int choose_device(const struct clb_device_list *all, const char *spec,
                         const struct clb_device_info **chosen) {
  struct clb_error err = {0};
  *chosen = NULL;
  if (all->count == 0) {
    fprintf(stderr, "clbatch train: no OpenCL device found\n");
    return 1;
  }
  if (!spec) {
    *chosen = &all->items[0];
    return 0;
  }
  int *selected = calloc(all->count, sizeof *selected);
  if (!selected) {
    fprintf(stderr, "clbatch train: out of memory\n");
    return 1;
  }
  int exit_code = 0;
  if (clb_platform_select(all, spec, selected, &err) != 0) {
    fprintf(stderr, "clbatch train: %s\n", err.message);
    exit_code = 2;
    goto done;
  }
  size_t matches = 0;
  for (size_t i = 0; i < all->count; i++)
    if (selected[i]) {
      if (!*chosen)
        *chosen = &all->items[i];
      matches++;
    }
  if (matches > 1) {
    char id[32];
    clb_device_id_string(*chosen, id, sizeof id);
    fprintf(stderr,
            "clbatch train: --device '%s' matches %zu devices; training on the first, %s %s\n",
            spec, matches, id, (*chosen)->name);
  }
done:
  free(selected);
  return exit_code;
}

int clb_cmd_train(int argc, char **argv) {
  static const struct option options[] = {{"device", required_argument, NULL, 'd'},
                                          {"model", required_argument, NULL, 'm'},
                                          {"batch", required_argument, NULL, 'b'},
                                          {"lr", required_argument, NULL, 'l'},
                                          {"epochs", required_argument, NULL, 'e'},
                                          {"seed", required_argument, NULL, 's'},
                                          {"precision", required_argument, NULL, 'p'},
                                          {"samples", required_argument, NULL, 'n'},
                                          {"features", required_argument, NULL, 'D'},
                                          {"hidden", required_argument, NULL, 'H'},
                                          {"classes", required_argument, NULL, 'C'},
                                          {"outputs", required_argument, NULL, 'O'},
                                          {"noise-std", required_argument, NULL, 'N'},
                                          {"data", required_argument, NULL, 'f'},
                                          {"data-on", required_argument, NULL, 'P'},
                                          {"no-shuffle", no_argument, NULL, 'x'},
                                          {"drop-last", no_argument, NULL, 'L'},
                                          {"out", required_argument, NULL, 'o'},
                                          {"save-params", required_argument, NULL, 'S'},
                                          {"init-params", required_argument, NULL, 'I'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
  struct train_options opt = {.kind = CLB_MODEL_LINREG,
                              .precision = CLB_FP32,
                              .batches = {32},
                              .n_batches = 1,
                              .lr = 0.01,
                              .noise_std = 0.1,
                              .epochs = 10,
                              .samples = 1000,
                              .features = 16,
                              .hidden = 32,
                              .classes = 4,
                              .outputs = 1,
                              .seed = 1,
                              .shuffle = 1};
  struct clb_error err = {0};
  struct clb_dataset data = {0};
  struct clb_device_list devices = {0};
  struct clb_cl cl = {0};
  int cl_open = 0;
  double *initial = NULL, *theta = NULL;
  FILE *csv = NULL;
  int exit_code = 2;
  int code;

  /* getopt's own messages would add a second line; ours name the option. */
  opterr = 0;
  while ((code = getopt_long(argc, argv, ":", options, NULL)) != -1) {
    switch (code) {
    case 'h':
      clb_help_train(stdout);
      return 0;
    case 'x':
      opt.shuffle = 0;
      break;
    case 'L':
      opt.drop_last = 1;
      break;
    case ':':
      fprintf(stderr, "clbatch train: option '%s' needs a value\n", argv[optind - 1]);
      return 2;
    case '?':
      fprintf(stderr, "clbatch train: unknown option '%s' (see `clbatch help train`)\n",
              argv[optind - 1]);
      return 2;
    default:
      if (parse_option(code, optarg, &opt) != 0)
        return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "clbatch train: unexpected argument '%s'\n", argv[optind]);
    return 2;
  }
  if (check_combinations(&opt) != 0)
    return 2;

  /* The data set, the batch sizes and the initial parameters are input:
   * every problem with them is exit 2 and happens before any file is made. */
  const int classifier = clb_model_is_classifier(opt.kind);
  int rc = opt.data_path ? clb_data_load_csv(opt.data_path, classifier, &data, &err)
           : classifier  ? clb_data_classes(opt.samples, opt.features, opt.classes,
                                            CLB_TRAIN_CLASS_SPREAD, opt.seed, &data, &err)
                        : clb_data_regression(opt.samples, opt.features, opt.outputs, opt.noise_std,
                                              opt.seed, &data, &err);
  if (rc != 0) {
    fprintf(stderr, "clbatch train: %s\n", err.message);
    goto done;
  }
  /* The default batch shrinks to a small data set; a batch the user asked
   * for never does. */
  if (!opt.set_batch && opt.batches[0] > data.n)
    opt.batches[0] = data.n;
  /* "N" parses as 0: the whole data set, always the largest, kept last. */
  size_t kept = 0;
  for (size_t i = 0; i < opt.n_batches; i++) {
    size_t b = opt.batches[i] == 0 ? data.n : opt.batches[i];
    if (b > data.n) {
      fprintf(stderr, "clbatch train: --batch: %zu is more than the %zu samples\n", b, data.n);
      goto done;
    }
    if (kept == 0 || opt.batches[kept - 1] != b)
      opt.batches[kept++] = b;
  }
  opt.n_batches = kept;
  struct clb_shape shape = {opt.kind, data.d, opt.kind == CLB_MODEL_MLP ? opt.hidden : 0, data.c};
  size_t params = clb_shape_param_count(&shape);
  initial = malloc(params * sizeof *initial);
  theta = malloc(params * sizeof *theta);
  if (!initial || !theta) {
    fprintf(stderr, "clbatch train: out of memory for %zu parameters\n", params);
    exit_code = 1;
    goto done;
  }
  if (opt.init_path) {
    if (clb_params_read(opt.init_path, &shape, initial, &err) != 0) {
      fprintf(stderr, "clbatch train: %s\n", err.message);
      goto done;
    }
  } else {
    clb_params_init(&shape, opt.seed, initial);
  }

  /* The device: a spec that matches nothing is bad input (2); no OpenCL or
   * a missing precision is a failure of this host (1). */
  exit_code = 1;
  if (clb_platform_list(&devices, &err) != 0) {
    fprintf(stderr, "clbatch train: %s\n", err.message);
    goto done;
  }
  const struct clb_device_info *dev = NULL;
  int device_exit = choose_device(&devices, opt.device_spec, &dev);
  if (device_exit != 0) {
    exit_code = device_exit;
    goto done;
  }
  char reason[256];
  if (clb_precision_check(opt.precision, dev, reason, sizeof reason) != 0) {
    fprintf(stderr, "clbatch train: --precision %s: %s\n", clb_precision_name(opt.precision),
            reason);
    goto done;
  }
  if (clb_cl_open(dev, &cl, &err) != 0) {
    fprintf(stderr, "clbatch train: %s\n", err.message);
    goto done;
  }
  cl_open = 1;

  /* Only now, with every input valid, may the output file exist. It is
   * written directly (no rename at the end) so a killed run keeps its rows. */
  if (opt.out_path) {
    csv = fopen(opt.out_path, "w");
    if (!csv) {
      fprintf(stderr, "clbatch train: cannot create %s: %s\n", opt.out_path, strerror(errno));
      exit_code = 2;
      goto done;
    }
    fputs("device,model,precision,batch,epoch,updates,train_loss,wall_s", csv);
    fputs(classifier ? ",accuracy\n" : "\n", csv);
    fflush(csv);
  }

  char id[32];
  clb_device_id_string(dev, id, sizeof id);
  printf("%s %s on %s %s (%s): %zu samples, %zu features, %zu %s, lr %g, %zu epochs, %s%s\n",
         clb_model_name(opt.kind), clb_precision_name(opt.precision), id, dev->name,
         clb_device_type_name(dev->type), data.n, data.d, data.c,
         classifier ? "classes" : (data.c == 1 ? "output" : "outputs"), opt.lr, opt.epochs,
         opt.shuffle ? "shuffled" : "in order",
         opt.drop_last ? ", last partial batch dropped" : "");
  printf("%7s %6s %9s %14s %10s%s\n", "batch", "epoch", "updates", "train_loss", "wall_s",
         classifier ? "  accuracy" : "");
  fflush(stdout);

  int failures = 0;
  for (size_t i = 0; i < opt.n_batches; i++) {
    struct clb_train_config cfg = {shape,       opt.precision, opt.batches[i],
                                   opt.lr,      opt.epochs,    opt.seed,
                                   opt.shuffle, opt.drop_last, opt.data_on_host};
    struct epoch_sink sink = {csv,
                              dev->name,
                              clb_model_name(opt.kind),
                              clb_precision_name(opt.precision),
                              opt.batches[i],
                              classifier,
                              0};
    memcpy(theta, initial, params * sizeof *theta);
    rc = clb_train_run(&cl, &data, &cfg, theta, on_epoch, &sink, &err);
    if (sink.write_failed) {
      fprintf(stderr, "clbatch train: cannot write %s: %s\n", opt.out_path, strerror(errno));
      goto done;
    }
    if (rc == CLB_E_NUMERIC) {
      fprintf(stderr, "clbatch train: batch %zu: %s: lower --lr\n", opt.batches[i], err.message);
      failures++;
      continue;
    }
    if (rc != 0) {
      fprintf(stderr, "clbatch train: batch %zu: %s\n", opt.batches[i], err.message);
      failures++;
      continue;
    }
    if (opt.save_path) {
      char path[4096];
      if (opt.n_batches > 1)
        params_path(opt.save_path, opt.batches[i], path, sizeof path);
      else
        snprintf(path, sizeof path, "%s", opt.save_path);
      if (clb_params_write(path, &shape, theta, &err) != 0) {
        fprintf(stderr, "clbatch train: %s\n", err.message);
        failures++;
        continue;
      }
      printf("saved the batch-%zu parameters to %s\n", opt.batches[i], path);
      fflush(stdout);
    }
  }
  exit_code = failures ? 1 : 0;

done:
  if (csv && fclose(csv) != 0 && exit_code == 0) {
    fprintf(stderr, "clbatch train: cannot write %s\n", opt.out_path);
    exit_code = 1;
  }
  if (cl_open)
    clb_cl_close(&cl);
  clb_platform_list_free(&devices);
  free(initial);
  free(theta);
  clb_dataset_free(&data);
  return exit_code;
}
