/* The measured roofline of a device: global-memory bandwidth (STREAM copy) and
 * FMA throughput per precision. Percent-of-peak columns are computed against
 * these, never against datasheet numbers. */
#ifndef CLB_BLAS_PEAK_H
#define CLB_BLAS_PEAK_H

#include "cl/context.h"
#include "cl/platform.h"
#include "util/errors.h"
#include "util/precision.h"

/* The roofline kernels (kernels/peak.cl) of one device, each precision's
 * program built on first use and kept: a worker measures bandwidth, launch
 * cost and FMA peak from one build, not one per measurement (PoCL spends
 * ~0.1 s preprocessing each build's source even when its cache holds the
 * binary). Borrows `cl`, which must outlive it. */
struct clb_peak;

int clb_peak_create(const struct clb_cl *cl, struct clb_peak **out, struct clb_error *err);
void clb_peak_destroy(struct clb_peak *peak);

/* Best of several runs of a copy kernel over a buffer of up to 256 MiB. GB/s = 1e9 B/s. */
int clb_peak_bandwidth(struct clb_peak *peak, double *gbytes_per_s, struct clb_error *err);

/* Best over vector widths 1, 4, 8 and 16 of an FMA-chain kernel. GFLOP/s (FMA = 2). */
int clb_peak_flops(struct clb_peak *peak, enum clb_precision precision, double *gflops,
                   struct clb_error *err);

/* What one kernel launch costs the host, from an empty one-work-item kernel:
 * `sync_s`, the median of enqueue + clFinish (a step that waits for each
 * kernel); `queued_s`, the wall time per launch of many back-to-back
 * launches and one clFinish (an in-order queue kept full). Small batches
 * cost at least their kernel count times these. */
struct clb_launch_cost {
  double sync_s, queued_s;
};

int clb_peak_launch(struct clb_peak *peak, struct clb_launch_cost *out, struct clb_error *err);

/* queued_s alone (a step's launch floor, once per worker process): the
 * isolated launches are not timed. */
int clb_peak_launch_queued(struct clb_peak *peak, double *queued_s, struct clb_error *err);

#endif
