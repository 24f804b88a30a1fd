/*
 * mathf.c — deterministic elementary functions (see mathf.h).
 *
 * Technique, the classic one of fdlibm: reduce the argument to a small
 * interval with an exactly representable split of ln 2 (Cody–Waite), then
 * evaluate a short polynomial. The split constants carry trailing zero bits
 * so that k * LN2_HI is exact for every k that can occur, which keeps the
 * reduced argument accurate without a fused multiply-add.
 */
#include <stdint.h>
#include <string.h>
#include <stdbool.h>
#include "mathf.h"

/* ln 2 = LN2_HI + LN2_LO, LN2_HI with 12 trailing zero bits (fdlibm). */
static const float LN2_HI = 6.9313812256e-01f;   /* 0x3f317180 */
static const float LN2_LO = 9.0580006145e-06f;   /* 0x3717f7d1 */
static const float LOG2E = 1.4426950409e+00f;

static float from_bits(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static uint32_t to_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

float rt_expf(float x)
{
    if (x != x) return x + x;
    if (x > 88.7228394f) return from_bits(0x7f800000u);       /* overflow: inf */
    if (x < -103.972084f) return 0.0f;                         /* below the least subnormal */
    /* k = round(x / ln 2) by the 1.5 * 2^23 trick (round to nearest even,
     * no libm call); r = x - k ln 2 lies in [-ln2/2, ln2/2]. */
    float kf = (x * LOG2E + 12582912.0f) - 12582912.0f;
    int k = (int)kf;
    float r = (x - kf * LN2_HI) - kf * LN2_LO;
    /* e^r by its Taylor polynomial to r^7: the first omitted term is below
     * 0.35^8/8! = 5e-9, a tenth of an ulp of the result. */
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r * r + r;          /* r + r^2 p: keep the big term exact */
    p = p + 1.0f;
    /* Scale by 2^k, in two steps where 2^k itself is not a normal float. */
    if (k > 127) { p *= 0x1p127f; k -= 127; }
    if (k < -126) { p *= 0x1p-100f; k += 100; }
    return p * from_bits((uint32_t)(k + 127) << 23);
}

/* log(1 + f) for f in [sqrt(1/2) - 1, sqrt(2) - 1]:
 * log(1+f) = f - (hfsq - s (hfsq + R)) with s = f/(2+f) and
 * R = 2s^2/3 + 2s^4/5 + ... (the atanh series); |s| <= 0.172, so the
 * series to s^10 leaves less than 1e-9 relative. Returns the pieces so the
 * callers can add k ln 2 in the right order. */
static float log1p_small(float f, float ef)
{
    float s = f / (2.0f + f);
    float z = s * s;
    float R = 2.0f / 11.0f;
    R = R * z + 2.0f / 9.0f;
    R = R * z + 2.0f / 7.0f;
    R = R * z + 2.0f / 5.0f;
    R = R * z + 2.0f / 3.0f;
    R = R * z;
    float hfsq = 0.5f * f * f;
    return ef * LN2_HI - ((hfsq - (s * (hfsq + R) + ef * LN2_LO)) - f);
}

float rt_logf(float x)
{
    if (x != x) return x + x;
    if (x < 0.0f) return (x - x) / 0.0f;                      /* NaN */
    if (x == 0.0f) return -1.0f / 0.0f;                       /* -inf */
    if (x == 1.0f / 0.0f) return x;
    int e = 0;
    if (x < 0x1p-126f) { x *= 0x1p25f; e = -25; }             /* subnormal: normalise */
    uint32_t u = to_bits(x);
    e += (int)(u >> 23) - 127;
    float m = from_bits((u & 0x007fffffu) | 0x3f800000u);      /* [1, 2) */
    if (m > 1.41421356f) { m *= 0.5f; e += 1; }                /* [sqrt(1/2), sqrt(2)) */
    return log1p_small(m - 1.0f, (float)e);                    /* m - 1 is exact */
}

/* e^r - 1 for |r| <= 0.35 by Taylor to r^9 (omitted term < 2e-10 relative). */
static float expm1_small(float r)
{
    float p = 1.0f / 362880.0f;
    p = p * r + 1.0f / 40320.0f;
    p = p * r + 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    return r + r * r * p;
}

float rt_expm1f(float x)
{
    if (x != x) return x + x;
    float a = x < 0.0f ? -x : x;
    if (a < 0.34657359f) return expm1_small(x);
    if (x < 0.0f) return rt_expf(x) - 1.0f;   /* e^x < 0.71: no cancellation to speak of */
    if (x > 30.0f) return rt_expf(x);         /* the -1 is below half an ulp */
    /* e^x - 1 = 2^k (e^r - 1) + (2^k - 1), with 2^k - 1 exact for k <= 44. */
    float kf = (x * LOG2E + 12582912.0f) - 12582912.0f;
    int k = (int)kf;
    float r = (x - kf * LN2_HI) - kf * LN2_LO;
    float s = from_bits((uint32_t)(k + 127) << 23);
    return s * expm1_small(r) + (s - 1.0f);
}

float rt_log1pf(float x)
{
    if (x != x) return x + x;
    if (x > -0.29289322f && x < 0.41421356f) return log1p_small(x, 0.0f);
    /* Otherwise log(u) with u = fl(1 + x), corrected to first order for the
     * rounding of u: log1p x = log u + (x - (u - 1)) / u. */
    float u = 1.0f + x;
    if (u == 1.0f / 0.0f || u <= 0.0f) return rt_logf(u);
    return rt_logf(u) + (x - (u - 1.0f)) / u;
}

float rt_tanhf(float x)
{
    float a = x < 0.0f ? -x : x;
    float t;
    if (a < 0.5493f) {
        /* Taylor series (radius pi/2) to x^21; each term shrinks by at
         * least (2a/pi)^2 < 0.123, so the first omitted one is < 1e-9. */
        static const float c[] = {
            9.6915379569294509e-05f, -0.00023912911424355248f,
            0.00059002744094558595f, -0.0014558343870513183f,
            0.0035921280365724811f, -0.0088632355299021973f,
            0.021869488536155203f, -0.053968253968253971f,
            0.13333333333333333f, -0.33333333333333331f,
        };
        float z = a * a;
        float p = c[0];
        for (int i = 1; i < 10; i++) p = p * z + c[i];
        t = a + a * (z * p);
    } else {
        /* tanh a = 1 - 2 / (e^2a + 1); here the result is >= 1/2, so the
         * subtraction loses nothing. */
        t = 1.0f - 2.0f / (rt_expf(2.0f * a) + 1.0f);
    }
    return x < 0.0f ? -t : t;
}

float rt_erff(float x)
{
    if (x != x) return x + x;
    double a = x < 0.0f ? -(double)x : (double)x;
    double r;
    if (a >= 4.0) {
        r = 1.0;                /* 1 - erf(4) = 1.5e-8 < half an ulp of 1 */
    } else {
        /* Maclaurin series in double: erf a = 2/sqrt(pi) sum (-1)^n
         * a^(2n+1) / (n! (2n+1)). Below a = 4 the largest term is ~1e5,
         * so cancellation costs at most 1e-11 absolute: far below float. */
        double z = a * a, term = a, sum = a;
        for (int n = 1; n < 200; n++) {
            term *= -z / n;
            double add = term / (2 * n + 1);
            sum += add;
            if ((add < 0 ? -add : add) < 1e-17) break;
        }
        r = sum * 1.1283791670955126;   /* 2/sqrt(pi) */
        if (r > 1.0) r = 1.0;
    }
    return (float)(x < 0.0f ? -r : r);
}

double rt_powi(double b, long k)
{
    bool inv = k < 0;
    unsigned long e = inv ? 0UL - (unsigned long)k : (unsigned long)k;
    double r = 1.0;
    while (e) {
        if (e & 1) r *= b;
        b *= b;
        e >>= 1;
    }
    return inv ? 1.0 / r : r;
}
