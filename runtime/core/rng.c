/*
 * rng.c — Philox4x32-10 streams and the samplers built on it (see rng.h).
 */
#include <math.h>
#include "mathf.h"
#include "rng.h"

enum { PHILOX_ROUNDS = 10 };

/* The multipliers and Weyl key increments from the Philox paper. */
#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

void rt_philox4x32(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4])
{
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    uint32_t k0 = key[0], k1 = key[1];
    for (int r = 0; r < PHILOX_ROUNDS; r++) {
        uint64_t p0 = (uint64_t)PHILOX_M0 * c0;
        uint64_t p1 = (uint64_t)PHILOX_M1 * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
        uint32_t n1 = (uint32_t)p1;
        uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        uint32_t n3 = (uint32_t)p0;
        c0 = n0; c1 = n1; c2 = n2; c3 = n3;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

void rt_rng_init(rt_rng *r, uint64_t seed, uint64_t stream)
{
    r->seed = seed;
    r->stream = stream;
    r->block = 0;
    r->used = 4;
    r->has_spare = 0;
    r->spare = 0.0f;
    for (int i = 0; i < 4; i++) r->buf[i] = 0;
}

/* splitmix64's finaliser: a bijection that scatters nearby ids apart. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

rt_rng rt_rng_derive(const rt_rng *r, uint64_t sub)
{
    rt_rng d;
    rt_rng_init(&d, r->seed, mix64(r->stream ^ mix64(sub + 0x9E3779B97F4A7C15ull)));
    return d;
}

uint32_t rt_rng_u32(rt_rng *r)
{
    if (r->used == 4) {
        uint32_t ctr[4] = {(uint32_t)r->block, (uint32_t)(r->block >> 32),
                           (uint32_t)r->stream, (uint32_t)(r->stream >> 32)};
        uint32_t key[2] = {(uint32_t)r->seed, (uint32_t)(r->seed >> 32)};
        rt_philox4x32(ctr, key, r->buf);
        r->block++;
        r->used = 0;
    }
    return r->buf[r->used++];
}

float rt_rng_uniform(rt_rng *r)
{
    return (float)(rt_rng_u32(r) >> 8) * 0x1p-24f;
}

float rt_rng_uniform_range(rt_rng *r, float lo, float hi)
{
    return lo + (hi - lo) * rt_rng_uniform(r);
}

float rt_rng_normal(rt_rng *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    for (;;) {
        /* u, v uniform on (-1, 1) in steps of 2^-23; accept inside the unit
         * disc (probability pi/4), then scale by sqrt(-2 ln s / s). The
         * arithmetic is float with correctly rounded sqrt and our own log,
         * so every machine draws the same numbers. */
        float u = (float)(int32_t)(rt_rng_u32(r) >> 8) * 0x1p-23f - 1.0f;
        float v = (float)(int32_t)(rt_rng_u32(r) >> 8) * 0x1p-23f - 1.0f;
        float s = u * u + v * v;
        if (s >= 1.0f || s == 0.0f) continue;
        float f = sqrtf(-2.0f * rt_logf(s) / s);
        r->spare = v * f;
        r->has_spare = 1;
        return u * f;
    }
}

float rt_rng_truncated_normal(rt_rng *r)
{
    for (;;) {
        float z = rt_rng_normal(r);
        if (z >= -2.0f && z <= 2.0f) return z;
    }
}

uint32_t rt_rng_below(rt_rng *r, uint32_t n)
{
    /* Lemire's multiply-shift: the high word of x*n is uniform once the
     * low word's first (2^32 mod n) values are rejected. */
    uint64_t m = (uint64_t)rt_rng_u32(r) * n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        uint32_t threshold = (uint32_t)(-n) % n;
        while (low < threshold) {
            m = (uint64_t)rt_rng_u32(r) * n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

void rt_rng_shuffle(rt_rng *r, int32_t *idx, long n)
{
    for (long i = n - 1; i > 0; i--) {
        long j = (long)rt_rng_below(r, (uint32_t)(i + 1));
        int32_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}
