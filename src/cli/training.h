/* What `clbatch train` and `clbatch study` share once their options are
 * parsed: the data set (with its validation split), the batch sizes resolved
 * against it, the initial parameters, the device and the output files. Every
 * input is checked before any output file exists. */
#ifndef CLB_CLI_TRAINING_H
#define CLB_CLI_TRAINING_H

#include <stdio.h>

#include "cl/context.h"
#include "cl/platform.h"
#include "cli/train_options.h"
#include "model/dataset.h"
#include "model/shape.h"

struct clb_training {
  const char *command;             /* "train" or "study", for messages */
  struct clb_train_options *opt;   /* borrowed; batches resolved by open */
  struct clb_dataset data;         /* training rows first, then validation rows */
  size_t n_train;
  int classifier, validation;
  struct clb_shape shape;
  double *initial, *theta; /* param_count each */
  struct clb_device_list devices;
  const struct clb_device_info *dev;
  struct clb_cl cl;
  int cl_open;
  FILE *csv, *summary_csv; /* --out, --summary-out */
};

/* Prepares everything; returns 0, or the exit code (2 bad input, 1 a failure
 * of this host) after printing why. clb_training_destroy must follow either way. */
int clb_training_create(struct clb_training *t, struct clb_train_options *opt,
                      const char *command);

/* Closes the files and the device; returns `exit_code`, or 1 when a file
 * could not be completed. */
int clb_training_destroy(struct clb_training *t, int exit_code);

/* --validate-noise and `clbatch study`: B_noise at the initial parameters,
 * every batch size trained to the target, the fits and the table (study.c). */
int clb_study_table(struct clb_training *t);

/* A number with `format`, or "nan"/"inf"/"-inf" (for the tables on stdout). */
const char *clb_training_number(char *buf, size_t size, const char *format, double value);

#endif
