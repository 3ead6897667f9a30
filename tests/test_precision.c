/* Precisions and the host's fp16 conversion (src/util/precision.c), checked
 * exhaustively where that is cheap: every half pattern, every tie. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "util/precision.h"

/* The value of a half, from its fields, by the IEEE 754 definition. */
static double half_reference(uint16_t half) {
  int sign = half >> 15, exponent = (half >> 10) & 0x1f, mantissa = half & 0x3ff;
  double magnitude;
  if (exponent == 0)
    magnitude = ldexp(mantissa, -24);
  else if (exponent == 31)
    magnitude = mantissa ? NAN : INFINITY;
  else
    magnitude = ldexp(1024 + mantissa, exponent - 25);
  return sign ? -magnitude : magnitude;
}

static int is_nan_half(uint16_t half) {
  return (half & 0x7c00) == 0x7c00 && (half & 0x3ff);
}

Test(precision, names_parse_and_sizes) {
  static const struct {
    enum clb_precision precision;
    const char *name, *options;
    size_t size;
  } all[] = {{CLB_FP32, "fp32", "-DCLB_FP32", 4},
             {CLB_FP64, "fp64", "-DCLB_FP64", 8},
             {CLB_FP16, "fp16", "-DCLB_FP16", 2}};
  cr_assert_eq(sizeof all / sizeof all[0], CLB_PRECISION_COUNT);
  for (size_t i = 0; i < CLB_PRECISION_COUNT; i++) {
    cr_expect_str_eq(clb_precision_name(all[i].precision), all[i].name);
    enum clb_precision parsed = CLB_FP32;
    cr_expect_eq(clb_precision_parse(all[i].name, &parsed), 0);
    cr_expect_eq(parsed, all[i].precision);
    cr_expect_eq(clb_precision_size(all[i].precision), all[i].size);
    cr_expect_str_eq(clb_precision_build_options(all[i].precision), all[i].options);
  }
  cr_expect_str_eq(clb_precision_name((enum clb_precision)7), "unknown");
  cr_expect_str_eq(clb_precision_name((enum clb_precision) - 1), "unknown");
}

Test(precision, parse_refuses_near_misses_and_keeps_the_output) {
  static const char *const bad[] = {"FP32",  "fp",    "",       "fp32 ", " fp16",
                                    "fp128", "float", "double", "half",  "fp6"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    enum clb_precision out = CLB_FP64;
    cr_expect_eq(clb_precision_parse(bad[i], &out), CLB_E_INVAL, "'%s' accepted", bad[i]);
    cr_expect_eq(out, CLB_FP64, "'%s' changed the output", bad[i]);
  }
}

/* Every one of the 65536 halves becomes the float the standard defines. */
Test(half, to_float_is_exact_for_every_pattern) {
  for (uint32_t h = 0; h <= 0xffff; h++) {
    float got = clb_half_to_float((uint16_t)h);
    double want = half_reference((uint16_t)h);
    if (isnan(want)) {
      if (!isnan(got) || (unsigned)!!signbit(got) != h >> 15)
        cr_assert_fail("0x%04x should be a NaN of the same sign, got %a", h, got);
      continue;
    }
    if ((double)got != want || !!signbit(got) != !!signbit(want))
      cr_assert_fail("0x%04x: got %a, want %a", h, got, want);
  }
  cr_expect_eq(clb_half_to_float(0x3c00), 1.0f);
  cr_expect_eq(clb_half_to_float(0x7bff), 65504.0f);
  cr_expect_eq(clb_half_to_float(0x0001), 0x1p-24f);
  cr_expect_eq(clb_half_to_float(0x0400), 0x1p-14f);
  cr_expect_eq(clb_half_to_float(0x3c01) - 1.0f, (float)CLB_FP16_EPSILON);
}

/* Every half that is a number survives float and back, signed zeros,
 * subnormals and infinities included. */
Test(half, every_half_round_trips_through_float) {
  for (uint32_t h = 0; h <= 0xffff; h++) {
    if (is_nan_half((uint16_t)h))
      continue;
    uint16_t back = clb_half_from_float(clb_half_to_float((uint16_t)h));
    if (back != h)
      cr_assert_fail("0x%04x came back as 0x%04x", h, back);
  }
}

/* Between each pair of neighbouring halves: the exact midpoint goes to the
 * even one, and the floats just either side of it to the nearer one. */
Test(half, from_float_rounds_to_nearest_even_at_every_tie) {
  for (uint32_t h = 0; h < 0x7bff; h++) {
    for (int negative = 0; negative < 2; negative++) {
      uint16_t lo = (uint16_t)(h | (negative ? 0x8000 : 0)), hi = (uint16_t)(lo + 1);
      float a = clb_half_to_float(lo), b = clb_half_to_float(hi);
      float mid = (a + b) / 2; /* exact: a float has 13 bits more than a half */
      if ((double)mid != ((double)a + (double)b) / 2)
        cr_assert_fail("the midpoint of 0x%04x and 0x%04x is no float", lo, hi);
      uint16_t even = (lo & 1) ? hi : lo;
      uint16_t got = clb_half_from_float(mid);
      if (got != even)
        cr_assert_fail("tie %a between 0x%04x and 0x%04x gave 0x%04x", mid, lo, hi, got);
      float toward_lo = nextafterf(mid, a), toward_hi = nextafterf(mid, b);
      if (clb_half_from_float(toward_lo) != lo || clb_half_from_float(toward_hi) != hi)
        cr_assert_fail("%a or %a, beside the tie of 0x%04x and 0x%04x, went the wrong way",
                       toward_lo, toward_hi, lo, hi);
    }
  }
}

/* A broad sweep of float bit patterns: the result is never farther from the
 * float than a neighbouring half is. */
Test(half, from_float_is_the_nearest_half) {
  uint32_t state = 12345;
  for (int i = 0; i < 1000000; i++) {
    state = state * 1664525u + 1013904223u;
    uint32_t bits = state;
    float f;
    memcpy(&f, &bits, sizeof f);
    if (isnan(f) || fabsf(f) >= 65520.0f)
      continue;
    uint16_t h = clb_half_from_float(f);
    if (is_nan_half(h) || (h & 0x7fff) >= 0x7c00)
      cr_assert_fail("%a became 0x%04x", f, h);
    double error = fabs(half_reference(h) - f);
    uint16_t magnitude = h & 0x7fff, sign = h & 0x8000;
    if (magnitude < 0x7bff && error > fabs(half_reference((uint16_t)(sign | (magnitude + 1))) - f))
      cr_assert_fail("%a: 0x%04x is not the nearest half", f, h);
    if (magnitude > 0 && error > fabs(half_reference((uint16_t)(sign | (magnitude - 1))) - f))
      cr_assert_fail("%a: 0x%04x is not the nearest half", f, h);
    if (!!signbit(f) != (sign != 0))
      cr_assert_fail("%a lost its sign: 0x%04x", f, h);
  }
}

Test(half, overflow_goes_to_infinity_at_the_rounding_boundary) {
  cr_expect_eq(clb_half_from_float(65504.0f), 0x7bff);
  cr_expect_eq(clb_half_from_float(65519.996f), 0x7bff, "below the midpoint to 2^16");
  cr_expect_eq(clb_half_from_float(65520.0f), 0x7c00, "the midpoint rounds to even: inf");
  cr_expect_eq(clb_half_from_float(-65520.0f), 0xfc00);
  cr_expect_eq(clb_half_from_float(1e10f), 0x7c00);
  cr_expect_eq(clb_half_from_float(FLT_MAX), 0x7c00);
  cr_expect_eq(clb_half_from_float(-FLT_MAX), 0xfc00);
  cr_expect_eq(clb_half_from_float(INFINITY), 0x7c00);
  cr_expect_eq(clb_half_from_float(-INFINITY), 0xfc00);
}

Test(half, nan_stays_nan_and_keeps_its_sign) {
  uint16_t h = clb_half_from_float(NAN);
  cr_expect(is_nan_half(h), "0x%04x", h);
  h = clb_half_from_float(-NAN);
  cr_expect(is_nan_half(h) && (h & 0x8000), "0x%04x", h);
  /* A NaN whose payload sits only in the low float bits must not become inf. */
  uint32_t bits = 0x7f800001u;
  float low_payload;
  memcpy(&low_payload, &bits, sizeof low_payload);
  cr_expect(is_nan_half(clb_half_from_float(low_payload)));
}

Test(half, subnormals_and_signed_zeros) {
  cr_expect_eq(clb_half_from_float(0.0f), 0x0000);
  cr_expect_eq(clb_half_from_float(-0.0f), 0x8000);
  cr_expect(signbit(clb_half_to_float(0x8000)) && clb_half_to_float(0x8000) == 0.0f);
  cr_expect_eq(clb_half_from_float(0x1p-24f), 0x0001, "the smallest subnormal half");
  cr_expect_eq(clb_half_from_float(0x1p-25f), 0x0000, "half of it is a tie: to even, zero");
  cr_expect_eq(clb_half_from_float(nextafterf(0x1p-25f, 1.0f)), 0x0001);
  cr_expect_eq(clb_half_from_float(0x1.8p-24f), 0x0002, "1.5 ulps: tie to even, 2");
  cr_expect_eq(clb_half_from_float(0x1p-26f), 0x0000);
  cr_expect_eq(clb_half_from_float(-0x1p-26f), 0x8000, "underflow keeps the sign");
  cr_expect_eq(clb_half_from_float(FLT_TRUE_MIN), 0x0000);
  cr_expect_eq(clb_half_from_float(-FLT_MIN), 0x8000);
  cr_expect_eq(clb_half_from_float(0x1.ffcp-15f), 0x0400,
               "the largest subnormal's upper tie rounds up into the normals");
  cr_expect_eq(clb_half_from_float(0x3ffp-24f), 0x03ff);
}

/* ---- arrays of doubles to and from the device representation ------------ */

Test(convert, fp64_is_copied_bit_for_bit) {
  double src[] = {0.1, -0.0, 1e-310, DBL_MAX, INFINITY, NAN}, back[6];
  unsigned char dst[6 * 8 + 8];
  memset(dst, 0xa5, sizeof dst);
  clb_precision_from_double(CLB_FP64, src, dst, 6);
  cr_expect_eq(dst[48], 0xa5, "wrote past n elements");
  cr_expect_eq(memcmp(dst, src, sizeof src), 0);
  clb_precision_to_double(CLB_FP64, dst, back, 6);
  cr_expect_eq(memcmp(back, src, sizeof src), 0);
}

Test(convert, fp32_rounds_each_value_to_float) {
  double src[] = {0.1, 1.0 / 3.0, -2.5, 1e-40, 1e39, -0.0, 16777217.0}, back[7];
  float dst[8];
  memset(dst, 0xa5, sizeof dst);
  clb_precision_from_double(CLB_FP32, src, dst, 7);
  uint32_t canary;
  memcpy(&canary, &dst[7], sizeof canary);
  cr_expect_eq(canary, 0xa5a5a5a5u, "wrote past n elements");
  clb_precision_to_double(CLB_FP32, dst, back, 7);
  for (size_t i = 0; i < 7; i++)
    cr_expect((back[i] == (double)(float)src[i] && !!signbit(back[i]) == !!signbit(src[i])) ||
                  (isinf(back[i]) && src[i] == 1e39),
              "%zu: %.17g -> %.17g", i, src[i], back[i]);
  cr_expect_eq(back[0], (double)0.1f);
  cr_expect_eq(back[6], 16777216.0, "2^24 + 1 is a tie: to even");
  cr_expect(isinf(back[4]));
}

Test(convert, fp16_arrays) {
  double src[] = {0.1, 1.0, -2.0, 65504.0, 70000.0, 0x1p-24, -0.0, NAN}, back[8];
  uint16_t dst[9];
  memset(dst, 0xa5, sizeof dst);
  clb_precision_from_double(CLB_FP16, src, dst, 8);
  cr_expect_eq(dst[8], 0xa5a5, "wrote past n elements");
  static const uint16_t want[] = {0x2e66, 0x3c00, 0xc000, 0x7bff, 0x7c00, 0x0001, 0x8000};
  for (size_t i = 0; i < 7; i++)
    cr_expect_eq(dst[i], want[i], "%zu: %g -> 0x%04x, want 0x%04x", i, src[i], dst[i], want[i]);
  cr_expect(is_nan_half(dst[7]));
  clb_precision_to_double(CLB_FP16, dst, back, 8);
  cr_expect_eq(back[0], 0.0999755859375);
  cr_expect_eq(back[3], 65504.0);
  cr_expect(isinf(back[4]) && back[4] > 0);
  cr_expect_eq(back[5], 0x1p-24);
  cr_expect(back[6] == 0 && signbit(back[6]));
  cr_expect(isnan(back[7]));
}

/* A double converts to the half nearest to it, not to the half nearest to
 * the float nearest to it: rounding twice turns values just off a tie into
 * ties and sends them the wrong way. */
Test(convert, fp16_rounds_each_double_once) {
  static const struct {
    double value;
    uint16_t half;
  } cases[] = {
      {1 + 0x1p-11 + 0x1p-40, 0x3c01}, /* above the tie 1 + 2^-11: up */
      {1 + 0x1p-11 - 0x1p-40, 0x3c00}, /* below it: down */
      {1 + 0x1p-11, 0x3c00},           /* the tie itself: to even */
      {1 + 3 * 0x1p-11 - 0x1p-40, 0x3c01},
      {1 + 3 * 0x1p-11, 0x3c02},
      {-(1 + 0x1p-11 + 0x1p-40), 0xbc01},
      {0x1p-25 + 0x1p-60, 0x0001}, /* just above half the smallest subnormal */
      {0x1p-25, 0x0000},
      {65520.0 - 0x1p-30, 0x7bff}, /* just below the overflow boundary */
      {65520.0, 0x7c00},
      {1e300, 0x7c00},
      {1e-300, 0x0000},
      {-1e-300, 0x8000},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    uint16_t got;
    clb_precision_from_double(CLB_FP16, &cases[i].value, &got, 1);
    cr_expect_eq(got, cases[i].half, "%a -> 0x%04x, want 0x%04x", cases[i].value, got,
                 cases[i].half);
  }
}
