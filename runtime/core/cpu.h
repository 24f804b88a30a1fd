/*
 * cpu.h — which SIMD instruction set the kernels may use on this machine.
 *
 * Kernels ship one code path per instruction set, compiled for it with
 * __attribute__((target(...))) rather than per-file flags, and pick one at
 * run time: the best the CPU *and* the operating system support (cpuid for
 * the instructions, xgetbv for the OS saving the wider registers), possibly
 * lowered by the environment variable MLP_SIMD=scalar|avx2|avx512|neon so tests
 * and users can force a slower path. A path never changes results: kernels
 * are written so that every path gives the same bits (see gemm.h).
 *
 * The x86 levels are ordered: a higher one implies the lower ones are
 * usable. NEON is a family of its own (aarch64, where it is always there):
 * an aarch64 machine has scalar and neon, an x86 one never has neon.
 * The detected level is a fact about the machine, computed once and cached
 * (the only process-wide state in runtime/, and it never changes).
 */
#ifndef MLP_CPU_H
#define MLP_CPU_H

#include <stdbool.h>

/* X(enum suffix, MLP_SIMD name, what it needs) — one row per path. */
#define RT_SIMD_LIST(X)                                            \
    X(SCALAR, "scalar", "portable C, fmaf")                        \
    X(AVX2,   "avx2",   "AVX2 + FMA3, 8 floats per register")      \
    X(AVX512, "avx512", "AVX-512F, 16 floats per register")        \
    X(NEON,   "neon",   "aarch64 Advanced SIMD, 4 floats per register")

typedef enum rt_simd {
#define X(id, name, doc) RT_SIMD_##id,
    RT_SIMD_LIST(X)
#undef X
    RT_SIMD_COUNT
} rt_simd;

/* The best level this CPU and OS support (cached after the first call). */
rt_simd rt_cpu_detect(void);
/* The level kernels should use: rt_cpu_detect(), lowered to MLP_SIMD when
 * that names a level the machine has. An unknown MLP_SIMD value, or one
 * the machine lacks, is ignored. Read once. */
rt_simd rt_cpu_simd(void);
/* True when the machine can run `level`. */
bool rt_cpu_has(rt_simd level);
/* "scalar", "avx2", "avx512", "neon"; "?" for out-of-range values. */
const char *rt_simd_name(rt_simd level);
/* Parses a name as above; false if it is not one. */
bool rt_simd_parse(const char *name, rt_simd *out);

#endif
