/* Peak measurements (clpeak-style): global-memory bandwidth, FMA throughput
 * and launch cost, in one program built once per precision (src/blas/peak.c):
 * -DCLB_FP32/-DCLB_FP64/-DCLB_FP16. */
#if defined(CLB_FP64)
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#define scalar double
#elif defined(CLB_FP16)
#pragma OPENCL EXTENSION cl_khr_fp16 : enable
#define scalar half
#else
#define scalar float
#endif

#define CONCAT_(a, b) a##b
#define CONCAT(a, b) CONCAT_(a, b)

/* STREAM copy: every element read once and written once. */
__kernel void copy_bandwidth(__global const float4 *src, __global float4 *dst) {
  const size_t i = get_global_id(0);
  dst[i] = src[i];
}

/* Eight independent FMA chains per work-item: one chain only measures the FMA
 * latency on a CPU, whose vector units need several FMAs in flight. Each chain
 * converges to c / (1 - m), so no value overflows or turns subnormal. */
#define FMA8                                                                                \
  a0 = mad(a0, m, c); a1 = mad(a1, m, c); a2 = mad(a2, m, c); a3 = mad(a3, m, c);           \
  a4 = mad(a4, m, c); a5 = mad(a5, m, c); a6 = mad(a6, m, c); a7 = mad(a7, m, c);

/* FLOPs per work-item: FMA_ITERATIONS x 4 x 8 FMAs x 2 x width (see src/blas/peak.c). */
#define FMA_ITERATIONS 128

/* fma_throughput_WIDTH on vectors `vec` of WIDTH elements. The sum is stored
 * so that the compiler cannot drop the chains. */
#define FMA_THROUGHPUT(WIDTH, vec)                                                          \
  __kernel void fma_throughput_##WIDTH(__global scalar *out, const float seed) {            \
    const vec m = (vec)((scalar)0.999f), c = (vec)((scalar)seed);                           \
    vec a0 = (vec)((scalar)get_local_id(0)), a1 = a0 + (vec)((scalar)1),                    \
        a2 = a0 + (vec)((scalar)2), a3 = a0 + (vec)((scalar)3), a4 = a0 + (vec)((scalar)4), \
        a5 = a0 + (vec)((scalar)5), a6 = a0 + (vec)((scalar)6), a7 = a0 + (vec)((scalar)7); \
    for (int i = 0; i < FMA_ITERATIONS; i++) {                                              \
      FMA8 FMA8 FMA8 FMA8                                                                   \
    }                                                                                       \
    vec s = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));                              \
    scalar total = 0;                                                                       \
    for (int k = 0; k < WIDTH; k++)                                                         \
      total += ((scalar *)&s)[k];                                                           \
    out[get_global_id(0)] = total;                                                          \
  }

FMA_THROUGHPUT(1, scalar)
FMA_THROUGHPUT(4, CONCAT(scalar, 4))
FMA_THROUGHPUT(8, CONCAT(scalar, 8))
FMA_THROUGHPUT(16, CONCAT(scalar, 16))

/* Does nothing: its cost is what the runtime charges per kernel launch. */
__kernel void empty_kernel(__global float *unused) {
  if (get_global_id(0) == (size_t)-1)
    unused[0] = 0;
}
