/* The options of `clbatch train` and `clbatch study`: one table
 * (CLB_TRAIN_OPTIONS in train_options.c) with the modes each option applies
 * to, parsed, checked and documented by the machinery of util/options. */
#ifndef CLB_CLI_TRAIN_OPTIONS_H
#define CLB_CLI_TRAIN_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model/shape.h"
#include "train/train.h"
#include "util/options.h"
#include "util/precision.h"

#define CLB_TRAIN_MAX_BATCHES 64
#define CLB_TRAIN_MAX_LRS 16

/* What the command does; bits, so an option can apply to several. */
enum clb_train_mode {
  CLB_MODE_TRAIN = 1,    /* `clbatch train`: per-epoch table */
  CLB_MODE_VALIDATE = 2, /* `clbatch train --validate-noise`: steps to a target vs B_noise */
  CLB_MODE_STUDY = 4,    /* `clbatch study`: the batch-size study table */
};
#define CLB_MODES_TARGET (CLB_MODE_VALIDATE | CLB_MODE_STUDY)
#define CLB_MODES_ALL (CLB_MODE_TRAIN | CLB_MODE_VALIDATE | CLB_MODE_STUDY)

struct clb_train_options {
  enum clb_train_mode mode;
  char device_spec[256];
  enum clb_model_kind kind;
  enum clb_precision precision;
  size_t batches[CLB_TRAIN_MAX_BATCHES]; /* 0 stands for N, resolved later */
  size_t n_batches;
  double lr, noise_std;
  size_t epochs, samples, features, hidden, classes, outputs;
  uint64_t seed;
  int shuffle, drop_last, data_on_host, validate_noise;
  char data_path[1024], out_path[1024], save_path[1024], init_path[1024], summary_path[1024];
  int has_target; /* --target-loss / --time-to-loss */
  double target;
  size_t eval_every; /* 0: automatic (target modes) or epoch ends (train) */
  double lr_grid[CLB_TRAIN_MAX_LRS];
  size_t n_lr;
  enum clb_lr_scale lr_scale;
  size_t base_batch, accumulate, sharpness_samples;
  double warmup_epochs, val_fraction, sharpness_eps;
  unsigned char given[64]; /* given[i]: option i of the table was on the command line */
};

extern const struct clb_option clb_train_options[];
extern const size_t clb_train_option_count;

/* Parses argv for `command` ("train" or "study"): sets the defaults of the
 * command's mode, then the options, then the mode's own defaults for what
 * was not given, and refuses options the mode, model or data source would
 * ignore. Returns 0; -1 when --help was asked (the help is printed); or the
 * exit code 2 after printing one line to stderr. */
int clb_train_options_parse(int argc, char **argv, const char *command,
                            enum clb_train_mode mode, struct clb_train_options *opt);

/* Whether option NAME was given on the command line. */
int clb_train_option_given(const struct clb_train_options *opt, const char *name);

/* The option lines of the help for `mode`. */
void clb_train_options_help(enum clb_train_mode mode, FILE *out);

#endif
