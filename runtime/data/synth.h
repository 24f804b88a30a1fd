/*
 * synth.h — small seeded synthetic data sets for tests, examples and quick
 * experiments: blobs, spirals, moons, xor, circles.
 *
 * Each set has 2 float features per example and integer class labels. The
 * same (kind, n, classes, noise, seed) gives the same bytes on every machine:
 * randomness comes from the data generator in dataset.h (splitmix64, integer
 * only), Gaussian noise from Marsaglia's polar method, and the only
 * transcendental functions used are computed here from + - * / in a fixed
 * order (rt_synth_log, rt_synth_sin, rt_synth_cos), because libm's log, sin
 * and cos are not correctly rounded and differ in the last bit between
 * implementations. sqrt is IEEE correctly rounded everywhere, so libm's is
 * used. (The file is compiled with -ffp-contract=off, so no FMA sneaks in.)
 *
 * Class balance is exact: example i belongs to class i % classes, so every
 * class has n/classes examples (the first n % classes classes one more) and
 * any prefix (take, split) is balanced too.
 *
 *   blobs    Gaussian clusters (std = noise, default 1) around centres
 *            drawn uniformly from [-10, 10]^2.                  classes >= 1
 *   spirals  interleaved arms: radius r in [0, 1) and angle
 *            2*pi*c/classes + 4*r, angle jittered by noise (default 0.2).
 *                                                                classes >= 2
 *   moons    two interleaving half circles, (cos t, sin t) and
 *            (1 - cos t, 0.5 - sin t), t in [0, pi], plus Gaussian noise
 *            (default 0.1).                                     classes = 2
 *   xor      points in [-1, 1]^2, class 1 where the signs of the two
 *            coordinates differ, plus Gaussian noise (default 0). classes = 2
 *   circles  concentric rings of radius (c + 1)/classes, uniform angle, plus
 *            Gaussian noise (default 0.05).                     classes >= 2
 *
 * classes <= 0 picks the kind's default (3 for blobs and spirals, else 2);
 * noise < 0 picks its default noise. The result owns its buffers
 * (rt_dataset_free) and has class names "0", "1", ...
 */
#ifndef MLP_SYNTH_H
#define MLP_SYNTH_H

#include <stdbool.h>
#include <stdint.h>
#include "dataset.h"
#include "rt_error.h"

/* kind: one of the names above. */
bool rt_synth(const char *kind, int64_t n, int classes, double noise,
              uint64_t seed, rt_dataset *out, rt_error *err);

/* A regression set: n points x uniform in [-3, 3) and the target
 * sin(x) + noise * N(0, 1) (noise < 0: 0.1), one feature, one target. */
bool rt_synth_sine(int64_t n, double noise, uint64_t seed, rt_dataset *out, rt_error *err);

/* The kinds, for listings and documentation: name and one-line summary of
 * kind i, or false when i is past the end. */
bool rt_synth_kind(int i, const char **name, const char **doc);

/* Machine-independent natural log (x > 0), sine and cosine (|x| < 1e6),
 * accurate to a few units in the last place. */
double rt_synth_log(double x);
double rt_synth_sin(double x);
double rt_synth_cos(double x);

#endif
