/* Element-wise parts of one gradient step. The dense algebra is CLBlast's.
 * Built once per device and precision with -DCLB_FP32, -DCLB_FP64 or -DCLB_FP16.
 * `real` is the storage type; `acc` the type sums and scalars are kept in
 * (float for half, so a row of a thousand logits does not lose its sum). */
#if defined(CLB_FP64)
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
typedef double real;
typedef double4 real4;
typedef double16 real16;
typedef double acc;
#elif defined(CLB_FP16)
#pragma OPENCL EXTENSION cl_khr_fp16 : enable
typedef half real;
typedef half4 real4;
typedef half16 real16;
typedef float acc;
#else
typedef float real;
typedef float4 real4;
typedef float16 real16;
typedef float acc;
#endif

#define LOAD(p, i) ((acc)(p)[i])
#define STORE(p, i, v) ((p)[i] = (real)(v))

/* xb[r, :] = x[order[first + r], :] for r < rows: the batch of a shuffled
 * epoch. Work-items are (column, row): neighbours copy neighbouring elements,
 * which a CPU runtime turns into vector loads and stores and a GPU coalesces,
 * and no work-item divides to find its row. */
__kernel void gather_rows(__global const real *x, __global const uint *order, const uint first,
                          const uint rows, const uint cols, __global real *xb) {
  const size_t j = get_global_id(0), r = get_global_id(1);
  if (j >= cols || r >= rows)
    return;
  xb[r * cols + j] = x[(size_t)order[first + r] * cols + j];
}

/* gather_rows four columns at a time, for rows of a multiple of four
 * (cols4 = columns / 4): one 16-byte copy per work-item instead of four
 * 4-byte ones, which PoCL does not merge across rows here (linreg's gather at
 * B = 4096 ran at 19 GB/s against 44 GB/s copy bandwidth). */
__kernel void gather_rows4(__global const real4 *x, __global const uint *order, const uint first,
                           const uint rows, const uint cols4, __global real4 *xb) {
  const size_t j = get_global_id(0), r = get_global_id(1);
  if (j >= cols4 || r >= rows)
    return;
  xb[r * cols4 + j] = x[(size_t)order[first + r] * cols4 + j];
}

/* gather_rows on a CPU runtime, for rows of a multiple of sixteen (cols16 =
 * columns / 16): one work-item per row, copying it in 16-element vectors. A
 * CPU runtime runs a work-group's items as a loop vectorised across them, so
 * the (column, row) kernels above pay per element. Alone on the 2-core Zen 3
 * VM, 256 rows of 128 floats took 9.5 us against 18.6 (PoCL) and 8.0 against
 * 10.5 (Intel's runtime); 4096 rows 55 against 185 and 54 against 70. A GPU
 * keeps those kernels: a row per item would neither coalesce nor fill it. */
__kernel void gather_rows16(__global const real16 *x, __global const uint *order,
                            const uint first, const uint rows, const uint cols16,
                            __global real16 *xb) {
  const size_t r = get_global_id(0);
  if (r >= rows)
    return;
  __global const real16 *source = x + (size_t)order[first + r] * cols16;
  __global real16 *target = xb + r * cols16;
  for (uint j = 0; j < cols16; j++)
    target[j] = source[j];
}

/* Linear regression: z holds X_B W on entry and dZ = dscale * (z + b - y) on
 * exit (dscale = 2 * grad_scale: the MSE derivative). loss[r] = sum_o r_o^2. */
__kernel void linreg_loss(__global real *z, __global const real *theta, const uint bias_offset,
                          __global const real *y, __global const uint *order, const uint first,
                          const uint rows, const uint outputs, const acc dscale,
                          __global acc *loss) {
  const size_t r = get_global_id(0);
  if (r >= rows)
    return;
  const size_t sample = order[first + r];
  acc sum = 0;
  for (uint o = 0; o < outputs; o++) {
    const acc residual = LOAD(z, r * outputs + o) + LOAD(theta, bias_offset + o) -
                         LOAD(y, sample * outputs + o);
    sum += residual * residual;
    STORE(z, r * outputs + o, dscale * residual);
  }
  loss[r] = sum;
}

/* Softmax cross-entropy: z holds the logits without bias on entry and
 * dZ = dscale * (softmax(z + b) - onehot(label)) on exit. loss[r] = -log p_label.
 * One exp per logit: exp(z + b - top) is kept in z until the sum is known
 * (storage precision; in fp16 that costs p 2^-11 relative, below what dZ
 * keeps in half anyway). */
__kernel void softmax_loss(__global real *z, __global const real *theta, const uint bias_offset,
                           __global const int *labels, __global const uint *order,
                           const uint first, const uint rows, const uint classes,
                           const acc dscale, __global acc *loss) {
  const size_t r = get_global_id(0);
  if (r >= rows)
    return;
  const int label = labels[order[first + r]];
  __global real *row = z + r * classes;
  acc top = LOAD(row, 0) + LOAD(theta, bias_offset);
  for (uint k = 1; k < classes; k++)
    top = fmax(top, LOAD(row, k) + LOAD(theta, bias_offset + k));
  const acc label_logit = LOAD(row, label) + LOAD(theta, bias_offset + label) - top;
  acc total = 0;
  for (uint k = 0; k < classes; k++) {
    const acc e = exp(LOAD(row, k) + LOAD(theta, bias_offset + k) - top);
    total += e;
    STORE(row, k, e);
  }
  loss[r] = log(total) - label_logit;
  const acc scale = dscale / total;
  for (uint k = 0; k < classes; k++)
    STORE(row, k, scale * LOAD(row, k) - (k == (uint)label ? dscale : (acc)0));
}

/* Number of rows whose largest logit (plus bias) is the label: run before
 * softmax_loss overwrites z. correct[r] = 1 or 0. */
__kernel void softmax_correct(__global const real *z, __global const real *theta,
                              const uint bias_offset, __global const int *labels,
                              __global const uint *order, const uint first, const uint rows,
                              const uint classes, __global int *correct) {
  const size_t r = get_global_id(0);
  if (r >= rows)
    return;
  __global const real *row = z + r * classes;
  uint best = 0;
  acc top = LOAD(row, 0) + LOAD(theta, bias_offset);
  for (uint k = 1; k < classes; k++) {
    const acc v = LOAD(row, k) + LOAD(theta, bias_offset + k);
    if (v > top) {
      top = v;
      best = k;
    }
  }
  correct[r] = best == (uint)labels[order[first + r]];
}

/* h = relu(h + b1) in place, over rows x width elements; work-items are
 * (column, row), as in gather_rows. */
__kernel void bias_relu(__global real *h, __global const real *theta, const uint bias_offset,
                        const uint width, const uint rows) {
  const size_t j = get_global_id(0), r = get_global_id(1);
  if (j >= width || r >= rows)
    return;
  const acc v = LOAD(h, r * width + j) + LOAD(theta, bias_offset + j);
  STORE(h, r * width + j, v > 0 ? v : (acc)0);
}

/* dh = dh * (h > 0): the ReLU derivative, using the activations kept from forward. */
__kernel void relu_backward(__global real *dh, __global const real *h, const uint count) {
  const size_t gid = get_global_id(0);
  if (gid >= count)
    return;
  if (!(LOAD(h, gid) > 0))
    STORE(dh, gid, 0);
}

/* Per-sample squared gradient norm of a linear layer with input a and output
 * gradient delta, without forming a_i delta_i^T: |a_i|^2 |delta_i|^2 for the
 * weights plus |delta_i|^2 for the bias. Adds into out[r] when accumulate. */
__kernel void sample_grad_norm2(__global const real *a, const uint a_first, const uint a_cols,
                                __global const real *delta, const uint delta_cols,
                                const uint rows, const uint accumulate, __global acc *out) {
  const size_t r = get_global_id(0);
  if (r >= rows)
    return;
  acc a2 = 0, d2 = 0;
  for (uint j = 0; j < a_cols; j++) {
    const acc v = LOAD(a, (a_first + r) * a_cols + j);
    a2 += v * v;
  }
  for (uint j = 0; j < delta_cols; j++) {
    const acc v = LOAD(delta, r * delta_cols + j);
    d2 += v * v;
  }
  const acc norm2 = (a2 + 1) * d2;
  out[r] = accumulate ? out[r] + norm2 : norm2;
}

/* out[0] = sum of v[offset + i]^2 for i < n, summed in `acc`. One work-group
 * of a power-of-two size: a squared gradient norm is a few thousand to a few
 * hundred thousand elements, read once. CLBlast's HDOT sums in half, which
 * overflows above 65504 and loses digits long before; this is the fp16 norm. */
__kernel void sum_squares(__global const real *v, const uint offset, const uint n,
                          __global acc *out, __local acc *partial) {
  const uint lid = get_local_id(0), size = get_local_size(0);
  acc sum = 0;
  for (uint i = lid; i < n; i += size) {
    const acc x = LOAD(v, offset + i);
    sum += x * x;
  }
  partial[lid] = sum;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (uint half_size = size / 2; half_size > 0; half_size /= 2) {
    if (lid < half_size)
      partial[lid] += partial[lid + half_size];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  if (lid == 0)
    out[0] = partial[0];
}
