__kernel void g2d(__global const float4 *x, __global const uint *order, const uint first,
                  const uint rows, const uint cols4, __global float4 *xb) {
  const size_t j = get_global_id(0), r = get_global_id(1);
  if (j >= cols4 || r >= rows) return;
  xb[r * cols4 + j] = x[(size_t)order[first + r] * cols4 + j];
}
/* one work-item per row, looping over its columns */
__kernel void grow(__global const float4 *x, __global const uint *order, const uint first,
                   const uint rows, const uint cols4, __global float4 *xb) {
  const size_t r = get_global_id(0);
  if (r >= rows) return;
  __global const float4 *src = x + (size_t)order[first + r] * cols4;
  __global float4 *dst = xb + r * cols4;
  for (uint j = 0; j < cols4; j++) dst[j] = src[j];
}
/* one work-group per row set: 1-D over rows*cols4, local = cols4 */
__kernel void g1d(__global const float4 *x, __global const uint *order, const uint first,
                  const uint rows, const uint cols4, __global float4 *xb) {
  const size_t r = get_group_id(0), j = get_local_id(0);
  xb[r * cols4 + j] = x[(size_t)order[first + r] * cols4 + j];
}
/* one work-item per row, float16 copies (cols4 % 4 == 0) */
__kernel void grow16(__global const float16 *x, __global const uint *order, const uint first,
                   const uint rows, const uint cols16, __global float16 *xb) {
  const size_t r = get_global_id(0);
  if (r >= rows) return;
  __global const float16 *src = x + (size_t)order[first + r] * cols16;
  __global float16 *dst = xb + r * cols16;
  for (uint j = 0; j < cols16; j++) dst[j] = src[j];
}
