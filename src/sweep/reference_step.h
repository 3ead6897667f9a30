/* The reference step: one fixed training step that each worker pass times
 * beside its own configurations, whatever the plan measures, so that
 * passes and runs of one host can be compared by it (see
 * measure/speed_history.h for why: a slow phase of a shared host that
 * covers a whole run is seen by nothing inside the run).
 *
 * It is an fp32 mlp step (D = 128, H = 256, C = 10, B = 64, data on the
 * device): GEMM-bound yet small enough to be partly launch-bound, so it
 * slows with both kinds of row. It joins each set of configurations as a
 * companion job (measure/measure.h): one round in every turn, for as long
 * as the set is timed, so its median covers the same stretch of time as
 * the rows. Timed that way, on the development VM, this configuration's
 * median tracked twelve whole runs' median slowdowns (0.95-1.32 of the
 * typical run) with a correlation of 0.92, while the FMA peak and
 * bandwidth kernels did not move. Timed alone for 0.2 s before each run, it
 * missed three runs 17-18 % slower and flagged one that was not. */
#ifndef CLB_SWEEP_REFERENCE_STEP_H
#define CLB_SWEEP_REFERENCE_STEP_H

#include <CL/cl.h>
#include <stddef.h>

#include "blas/tune.h"
#include "cl/context.h"
#include "util/errors.h"

struct clb_reference_step;

/* Applies the device's fp32 CLBlast parameters (`tuned` says which, as in
 * the rows) and sets up the reference step's data and model on `cl`
 * (borrowed; it must outlive the step). */
int clb_reference_step_create(const struct clb_cl *cl, struct clb_reference_step **out,
                              enum clb_params_source *tuned, struct clb_error *err);
void clb_reference_step_destroy(struct clb_reference_step *step);

/* A clb_step_fn (measure/measure.h) whose context is the reference step. */
int clb_reference_step_run(void *context, size_t index, cl_event *first_event,
                           cl_event *last_event, struct clb_error *err);

#endif
