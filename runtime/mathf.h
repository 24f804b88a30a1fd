/*
 * mathf.h — exp, log, tanh, erf and friends that give the same bits on
 * every machine.
 *
 * libm's expf/logf/tanhf differ between libm versions and architectures in
 * the last bit, and a last bit is enough to change a training run after a
 * few thousand steps. These are written with +, -, *, / and correctly
 * rounded sqrt only (no fused multiply-add: the build has
 * -ffp-contract=off, so every compiler rounds each operation the same way),
 * which IEEE 754 fixes exactly on x86-64 and aarch64 alike. Accuracy,
 * checked by tests/unit/test_mathf.c against double-precision libm over
 * many points: rt_expf, rt_logf within 1 ulp, rt_tanhf, rt_expm1f,
 * rt_log1pf within 2 ulp, rt_erff within 2e-7 absolute. Special values follow C99:
 * NaN in, NaN out; expf(-inf) = 0; logf(0) = -inf; logf(x<0) = NaN.
 *
 * The whole runtime calls these, never libm's transcendental functions.
 */
#ifndef MLP_MATHF_H
#define MLP_MATHF_H

float rt_expf(float x);
float rt_logf(float x);
float rt_tanhf(float x);
float rt_expm1f(float x);   /* e^x - 1, accurate near 0 */
float rt_log1pf(float x);   /* ln(1 + x), accurate near 0 */
float rt_erff(float x);

#endif
