/*
 * fused.h — the small per-element passes of a training step, fused (issue 18).
 *
 * The layers after the first are narrow (the study's 50 and 10 units at
 * batch 100), so their bias add, activation, batchnorm gradient and bias
 * gradient each cost a sweep over a buffer that fits in L1 plus a call,
 * more than their arithmetic. These kernels do several of those passes in
 * one sweep. Every element sees exactly the operations of the separate
 * passes in the same order (no product is fused into an add, nothing is
 * reassociated), and every per-feature sum still adds the rows 0..n-1 in
 * order from +0, so the results are bit-identical to the unfused passes.
 *
 * Each kernel takes the SIMD level to use (rt_cpu_simd() in the layers,
 * any level the machine has in the tests): scalar, avx2 or avx512 on x86
 * (avx512 runs the sigmoid's exponentials eight lanes wide, as avx2: there
 * is no sixteen-lane expf). A kernel returns false, having touched
 * nothing, for what it does not cover (an activation with parameters, any
 * other activation, the neon level): the caller then runs the separate
 * passes, which have their own vector bodies.
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
