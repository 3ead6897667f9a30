#include "sweep/reference_step.h"

#include <stdlib.h>

#include "model/dataset.h"
#include "model/model.h"
#include "model/params.h"

/* The reference configuration. Its numbers are part of every speed history
 * line's meaning: changing them makes old lines incomparable, so a change
 * must come with a new clbatch version (which the history's key holds). */
#define REFERENCE_SAMPLES 2048
#define REFERENCE_FEATURES 128
#define REFERENCE_HIDDEN 256
#define REFERENCE_CLASSES 10
#define REFERENCE_BATCH 64
#define REFERENCE_SEED 20261130u
#define REFERENCE_LR 0.01

struct clb_reference_step {
  struct clb_dataset data;
  struct clb_model_steps steps;
};

void clb_reference_step_destroy(struct clb_reference_step *step) {
  if (!step)
    return;
  clb_model_destroy(step->steps.model);
  clb_dataset_destroy(&step->data);
  free(step);
}

int clb_reference_step_run(void *context, size_t index, cl_event *first_event, cl_event *last_event,
                           struct clb_error *err) {
  struct clb_reference_step *step = context;
  return clb_model_steps_run(&step->steps, index, first_event, last_event, err);
}

int clb_reference_step_create(const struct clb_cl *cl, struct clb_reference_step **out,
                              enum clb_params_source *tuned, struct clb_error *err) {
  const struct clb_shape shape = {CLB_MODEL_MLP, REFERENCE_FEATURES, REFERENCE_HIDDEN,
                                  REFERENCE_CLASSES};
  const struct clb_model_config config = {shape, CLB_FP32, REFERENCE_BATCH, 0};
  struct clb_reference_step *step = calloc(1, sizeof *step);
  double *theta = NULL;
  int rc = 0;
  *out = NULL;
  if (!step)
    return clb_failf(err, CLB_E_NOMEM, "out of host memory for the reference step");
  CLB_TRY(clb_tune_apply(cl->info, CLB_FP32, tuned, err));
  CLB_TRY(clb_data_synthetic(CLB_MODEL_MLP, REFERENCE_SAMPLES, REFERENCE_FEATURES,
                             REFERENCE_CLASSES, 0.0, REFERENCE_SEED, &step->data, err));
  if (!(theta = malloc(clb_shape_param_count(&shape) * sizeof *theta))) {
    rc = clb_failf(err, CLB_E_NOMEM, "out of host memory for the reference step");
    goto cleanup;
  }
  clb_params_init(&shape, REFERENCE_SEED, theta);
  step->steps = (struct clb_model_steps){NULL, REFERENCE_BATCH, REFERENCE_SAMPLES / REFERENCE_BATCH,
                                         REFERENCE_LR};
  CLB_TRY(clb_model_create(cl, &config, &step->data, &step->steps.model, err));
  CLB_TRY(clb_model_set_params(step->steps.model, theta, err));
  *out = step;
  step = NULL;
cleanup:
  clb_reference_step_destroy(step);
  free(theta);
  return rc;
}
