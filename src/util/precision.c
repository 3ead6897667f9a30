#include "util/precision.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const precision_names[CLB_PRECISION_COUNT] = {"fp32", "fp64", "fp16"};

const char *clb_precision_name(enum clb_precision precision) {
  return (unsigned)precision < CLB_PRECISION_COUNT ? precision_names[precision] : "unknown";
}

int clb_precision_parse(const char *name, enum clb_precision *out) {
  for (int p = 0; p < CLB_PRECISION_COUNT; p++)
    if (strcmp(name, precision_names[p]) == 0) {
      *out = (enum clb_precision)p;
      return 0;
    }
  return CLB_E_INVAL;
}

int clb_precision_parse_list(const char *text, const char *option,
                             enum clb_precision out[CLB_PRECISION_COUNT], size_t *count,
                             struct clb_error *err) {
  size_t n = 0;
  *count = 0;
  for (const char *item = text;;) {
    size_t len = strcspn(item, ",");
    char name[16];
    if (len == 0)
      return clb_failf(err, CLB_E_INVAL, "%s: empty item in '%s' (a list like fp32,fp64)",
                       option, text);
    snprintf(name, sizeof name, "%.*s", (int)(len < sizeof name ? len : sizeof name - 1), item);
    enum clb_precision precision;
    if (len >= sizeof name || clb_precision_parse(name, &precision) != 0)
      return clb_failf(err, CLB_E_INVAL, "%s: unknown '%.*s' (choose from fp32, fp64, fp16)",
                       option, (int)len, item);
    int seen = 0;
    for (size_t k = 0; k < n; k++)
      seen |= out[k] == precision;
    if (!seen)
      out[n++] = precision;
    if (item[len] == '\0')
      break;
    item += len + 1;
  }
  *count = n;
  return 0;
}

size_t clb_precision_size(enum clb_precision precision) {
  switch (precision) {
  case CLB_FP64:
    return 8;
  case CLB_FP16:
    return 2;
  default:
    return 4;
  }
}

const char *clb_precision_build_options(enum clb_precision precision) {
  switch (precision) {
  case CLB_FP64:
    return "-DCLB_FP64";
  case CLB_FP16:
    return "-DCLB_FP16";
  default:
    return "-DCLB_FP32";
  }
}

uint16_t clb_half_from_float(float value) {
  uint32_t bits;
  memcpy(&bits, &value, sizeof bits);
  uint32_t sign = (bits >> 16) & 0x8000u;
  uint32_t exponent = (bits >> 23) & 0xffu;
  uint32_t mantissa = bits & 0x7fffffu;
  if (exponent == 0xff) /* Inf or NaN; keep NaN quiet. */
    return (uint16_t)(sign | 0x7c00u | (mantissa ? 0x200u : 0));
  int half_exponent = (int)exponent - 127 + 15;
  if (half_exponent >= 31)
    return (uint16_t)(sign | 0x7c00u); /* overflow to infinity */
  if (half_exponent <= 0) {
    /* Subnormal half (or zero): shift the implicit-one mantissa into place. */
    if (half_exponent < -10)
      return (uint16_t)sign;
    mantissa |= 0x800000u;
    unsigned shift = (unsigned)(14 - half_exponent);
    uint32_t half_mantissa = mantissa >> shift;
    uint32_t remainder = mantissa & ((1u << shift) - 1);
    uint32_t halfway = 1u << (shift - 1);
    if (remainder > halfway || (remainder == halfway && (half_mantissa & 1u)))
      half_mantissa++;
    return (uint16_t)(sign | half_mantissa);
  }
  uint32_t half = sign | ((uint32_t)half_exponent << 10) | (mantissa >> 13);
  uint32_t remainder = mantissa & 0x1fffu;
  /* Round to nearest even; a carry into the exponent is the correct result. */
  if (remainder > 0x1000u || (remainder == 0x1000u && (half & 1u)))
    half++;
  return (uint16_t)half;
}

float clb_half_to_float(uint16_t half) {
  uint32_t sign = (uint32_t)(half & 0x8000u) << 16;
  uint32_t exponent = (half >> 10) & 0x1fu;
  uint32_t mantissa = half & 0x3ffu;
  uint32_t bits;
  if (exponent == 0) {
    if (mantissa == 0) {
      bits = sign;
    } else { /* subnormal: value = mantissa * 2^-24 */
      float value = ldexpf((float)mantissa, -24);
      return sign ? -value : value;
    }
  } else if (exponent == 31) {
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else {
    bits = sign | ((exponent - 15 + 127) << 23) | (mantissa << 13);
  }
  float value;
  memcpy(&value, &bits, sizeof value);
  return value;
}

/* The float nearest to `value` below it in magnitude, with its last bit set
 * when that was not exact ("round to odd"). Rounding this float to a half
 * gives the half nearest to the double: a float has 13 bits more than a half,
 * and the sticky last bit keeps a value just off a half's tie off it. Plain
 * (float)value would round twice, so 1 + 2^-11 + 2^-40 became the tie
 * 1 + 2^-11 and then went down to 1 instead of up. */
static float float_round_to_odd(double value) {
  float f = (float)value;
  if (!isfinite(f) || (double)f == value)
    return f;
  if (fabs((double)f) > fabs(value))
    f = nextafterf(f, 0.0f);
  uint32_t bits;
  memcpy(&bits, &f, sizeof bits);
  bits |= 1u;
  memcpy(&f, &bits, sizeof f);
  return f;
}

void clb_precision_from_double(enum clb_precision precision, const double *src, void *dst,
                               size_t n) {
  switch (precision) {
  case CLB_FP64:
    memcpy(dst, src, n * sizeof(double));
    break;
  case CLB_FP16:
    for (size_t i = 0; i < n; i++)
      ((uint16_t *)dst)[i] = clb_half_from_float(float_round_to_odd(src[i]));
    break;
  default:
    for (size_t i = 0; i < n; i++)
      ((float *)dst)[i] = (float)src[i];
  }
}

void clb_precision_to_double(enum clb_precision precision, const void *src, double *dst,
                             size_t n) {
  switch (precision) {
  case CLB_FP64:
    memcpy(dst, src, n * sizeof(double));
    break;
  case CLB_FP16:
    for (size_t i = 0; i < n; i++)
      dst[i] = clb_half_to_float(((const uint16_t *)src)[i]);
    break;
  default:
    for (size_t i = 0; i < n; i++)
      dst[i] = ((const float *)src)[i];
  }
}
