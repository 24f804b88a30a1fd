/*
 * fused.h — small passes of a training step done in one sweep (issue 18).
 *
 * The layers after the first are narrow (the study's 50 and 10 units at
 * batch 100), so a pass over one of their [n x d] buffers costs a sweep
 * of L1 and a call more than its arithmetic. These kernels do several
 * such passes in one. Every element sees exactly the operations of the
 * separate passes in the same order (no product is fused into an add,
 * nothing is reassociated), every per-feature sum still adds rows 0..n-1
 * in order from +0, and every row sum adds left to right, so the results
 * are bit-identical to the separate passes (tests/unit/test_fused.c).
 *
 * Each kernel takes the SIMD level to use (rt_cpu_simd() in the runtime,
 * each level the machine has in the tests): scalar, avx2 or avx512 on
 * x86. rt_fused_bn_grad_act returns false, having touched nothing, for
 * what it does not cover (an activation other than linear, plain relu or
 * sigmoid; the neon level): the caller then runs the separate passes,
 * which have NEON bodies of their own.
 *
 * Measured on the 2-core AVX-512 (Zen 4) machine, one thread, per
 * training step of the study network (784-50-BN-50-BN-10, batch 100,
 * relu), perf profiles of a loop of steps, the least of three or four
 * interleaved runs: batchnorm's input gradient, relu's backward and the
 * bias column sums took 5.3 us as three passes (avx2 bodies and scalar
 * column tails), 3.3 us with this sweep (the avx512 body 2.3-2.6 us of
 * it; the avx2 body plus scalar tail columns took 3.1); crossentropy, its
 * gradient's 1000 scalar divisions and the argmax count took 4.8 us, 2.8
 * us in one pass with the divisions eight wide, 1.7 us with the one-hot
 * rows' logs eight at a time too (rt_logf8_avx2, mathf.h: rt_logf was 1.6
 * us of it); softmax's divisions eight wide (activations.c) 2.0 -> 1.3
 * us. bench-epoch at one thread, seven interleaved runs of three epochs
 * each, median of the step p10s before -> after (least epoch in ms): adam
 * relu 123.8 -> 119.9 us (80.7 -> 78.7), sgd sigmoid 118.8 -> 114.4 (74.2
 * -> 72.4), rmsprop relu 123.3 -> 119.3 (81.9 -> 80.6).
 *
 * Tried and left out, since they did not pay here (same bits, no gain or
 * a loss): the dense output's bias add and activation in one sweep
 * (store-bound: as many stores as the two passes; with sixteen-lane
 * masked rows 2.2 us against 0.9), the bias folded into softmax's first
 * sweep, batchnorm's normalisation in row order, avx512 bodies with
 * masked tails for batchnorm's statistics and parameter gradients (as
 * fast as avx2 plus the scalar columns).
 */
#ifndef MLP_FUSED_H
#define MLP_FUSED_H

#include <stdbool.h>
#include "activations.h"
#include "cpu.h"

/* crossentropy (clip: losses.h's; else torch_crossentropy's) of softmax
 * outputs p [n x c], c > 1, against targets y: returns rt_loss_eval's
 * value, writes its gradient to grad (unless NULL) and rt_loss_correct's
 * count to *correct (unless NULL), with one pass over the rows for the
 * value and the count and the gradient's divisions eight wide. */
double rt_fused_xent(rt_simd simd, bool clip, const float *p, const float *y, int n, int c,
                     float *grad, double *correct);

/* Whether rt_fused_bn_grad_act covers activation act with parameters p. */
bool rt_fused_grad_act_ok(rt_act act, const float *p);

/* batchnorm's input gradient carried through the activation of the dense
 * layer before it, with that layer's bias gradient:
 *   dx = c (n dy - dbeta - xhat dgamma)            (batchnorm, per feature c)
 *   dz = dx f'(z, y)                               (linear: dz = dx)
 *   db[j] = sum over rows i = 0..n-1 of dz[i][j]   (from +0, rows in order)
 * z and y are the dense layer's pre-activation and output (relu reads z,
 * sigmoid y). Covers what rt_fused_grad_act_ok says. */
bool rt_fused_bn_grad_act(rt_simd simd, rt_act act, const float *p, const float *dy,
                          const float *xhat, int n, int d, const float *c, const float *dbeta,
                          const float *dgamma, const float *z, const float *y, float *dz,
                          float *db);

#endif
