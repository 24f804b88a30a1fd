/*
 * rng.h — reproducible random numbers: Philox4x32-10, a counter-based
 * generator (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3").
 *
 * A stream is named by (seed, stream id): the 64-bit seed is the Philox key
 * and the stream id fills the upper half of the 128-bit counter, so every
 * stream is its own sequence of 2^64 blocks, independent of every other,
 * and no stream's numbers depend on how many numbers another stream drew.
 * That is what lets initialisation, shuffling and dropout stay the same when
 * a script adds a dropout layer or a sweep runs its points in another order:
 * each consumer owns a stream (RT_STREAM_* below, or rt_rng_derive).
 *
 * rt_rng is a plain value: copy it to save the state, assign it back to
 * restore (a sweep restarts every point from a saved copy). No hidden
 * global state, no allocation. All outputs are exact functions of the
 * state on every machine (the normal sampler uses rt_logf, not libm).
 */
#ifndef MLP_RNG_H
#define MLP_RNG_H

#include <stdint.h>

/* Conventional stream ids for the consumers of one seed. */
enum { RT_STREAM_INIT = 1, RT_STREAM_SHUFFLE = 2, RT_STREAM_DROPOUT = 3 };

typedef struct rt_rng {
    uint64_t seed;       /* Philox key */
    uint64_t stream;     /* counter words 2..3 */
    uint64_t block;      /* counter words 0..1: next block to generate */
    uint32_t buf[4];     /* the current block's outputs */
    int used;            /* how many of buf were consumed (4: empty) */
    int has_spare;       /* the polar method yields normals in pairs */
    float spare;
} rt_rng;

void rt_rng_init(rt_rng *r, uint64_t seed, uint64_t stream);
/* A fresh stream keyed by r's seed and a mix of r's stream id and `sub`:
 * for consumers created on the fly (one per model, one per layer ...). */
rt_rng rt_rng_derive(const rt_rng *r, uint64_t sub);

/* The raw generator, exposed for known-answer tests. */
void rt_philox4x32(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

uint32_t rt_rng_u32(rt_rng *r);
/* Uniform on [0, 1) with 24 random bits (every float multiple of 2^-24). */
float rt_rng_uniform(rt_rng *r);
/* Uniform on [lo, hi). */
float rt_rng_uniform_range(rt_rng *r, float lo, float hi);
/* Standard normal (Marsaglia's polar method). */
float rt_rng_normal(rt_rng *r);
/* Normal redrawn until within 2 standard deviations (Keras's truncated
 * normal); returns a value of the standard truncated distribution. */
float rt_rng_truncated_normal(rt_rng *r);
/* Uniform integer in [0, n), n >= 1, without modulo bias (Lemire). */
uint32_t rt_rng_below(rt_rng *r, uint32_t n);
/* Fisher–Yates shuffle of idx[0..n). */
void rt_rng_shuffle(rt_rng *r, int32_t *idx, long n);

#endif
