/* Peak measurements (clpeak-style): global-memory bandwidth and FMA throughput.
 * Built with -DCLB_FP32/-DCLB_FP64/-DCLB_FP16 and -DWIDTH=1|2|4|8|16. */
#if defined(CLB_FP64)
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#define scalar double
#elif defined(CLB_FP16)
#pragma OPENCL EXTENSION cl_khr_fp16 : enable
#define scalar half
#else
#define scalar float
#endif

#ifndef WIDTH
#define WIDTH 4
#endif
#define CONCAT_(a, b) a##b
#define CONCAT(a, b) CONCAT_(a, b)
#if WIDTH == 1
typedef scalar vec;
#else
typedef CONCAT(scalar, WIDTH) vec;
#endif

/* STREAM copy: every element read once and written once. */
__kernel void copy_bandwidth(__global const float4 *src, __global float4 *dst) {
  const size_t i = get_global_id(0);
  dst[i] = src[i];
}

/* Two dependent FMA chains per work-item; 2 chains x 16 FMAs x 64 iterations. */
#define FMA16(a, b)                                                                         \
  a = mad(a, b, a); b = mad(b, a, b); a = mad(a, b, a); b = mad(b, a, b);                   \
  a = mad(a, b, a); b = mad(b, a, b); a = mad(a, b, a); b = mad(b, a, b);                   \
  a = mad(a, b, a); b = mad(b, a, b); a = mad(a, b, a); b = mad(b, a, b);                   \
  a = mad(a, b, a); b = mad(b, a, b); a = mad(a, b, a); b = mad(b, a, b);

__kernel void fma_throughput(__global scalar *out, const float seed) {
  vec x = (vec)((scalar)seed + (scalar)get_local_id(0));
  vec y = (vec)((scalar)get_global_id(0));
  for (int i = 0; i < 64; i++) {
    FMA16(x, y)
  }
  /* The sum is stored so the compiler cannot drop the chains. */
#if WIDTH == 1
  out[get_global_id(0)] = x + y;
#else
  vec s = x + y;
  scalar total = 0;
  for (int k = 0; k < WIDTH; k++)
    total += ((scalar *)&s)[k];
  out[get_global_id(0)] = total;
#endif
}
