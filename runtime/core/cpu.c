/*
 * cpu.c — run-time detection of the SIMD level (see cpu.h).
 *
 * A feature is usable only if the CPU has the instructions (cpuid) and the
 * OS saves the registers they use on a context switch (XCR0 via xgetbv):
 * a hypervisor may expose AVX-512 instructions while the kernel leaves the
 * ZMM state off, and running them then faults.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "cpu.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static unsigned long long read_xcr0(void)
{
    unsigned lo, hi;
    __asm__ __volatile__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

static rt_simd probe(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return RT_SIMD_SCALAR;
    bool osxsave = c & (1u << 27), avx = c & (1u << 28), fma = c & (1u << 12);
    if (!osxsave || !avx || !fma) return RT_SIMD_SCALAR;
    unsigned long long xcr0 = read_xcr0();
    /* Bits 1, 2: SSE and AVX (YMM upper halves) state enabled. */
    if ((xcr0 & 0x6) != 0x6) return RT_SIMD_SCALAR;
    if (__get_cpuid_max(0, NULL) < 7) return RT_SIMD_SCALAR;
    __cpuid_count(7, 0, a, b, c, d);
    bool avx2 = b & (1u << 5), avx512f = b & (1u << 16);
    if (!avx2) return RT_SIMD_SCALAR;
    /* Bits 5, 6, 7: opmask registers, ZMM0-15 upper halves, ZMM16-31. */
    if (avx512f && (xcr0 & 0xe0) == 0xe0) return RT_SIMD_AVX512;
    return RT_SIMD_AVX2;
}
#elif defined(__aarch64__)
/* Advanced SIMD is a mandatory part of ARMv8-A: every aarch64 Linux has it. */
static rt_simd probe(void) { return RT_SIMD_NEON; }
#else
static rt_simd probe(void) { return RT_SIMD_SCALAR; }
#endif

static const char *const simd_names[] = {
#define X(id, name, doc) name,
    RT_SIMD_LIST(X)
#undef X
};
_Static_assert(sizeof simd_names / sizeof simd_names[0] == RT_SIMD_COUNT,
               "one name per SIMD level");

/* Computed once: the machine does not change under a running process, and
 * reading the environment on every GEMM call would cost a scan of environ. */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static rt_simd detected, selected;

/* Whether a machine whose best level is `best` can run `level`: scalar
 * always; the x86 levels up to the best one; neon only on aarch64. */
static bool has_level(rt_simd best, rt_simd level)
{
    if (level < 0 || level >= RT_SIMD_COUNT) return false;
    if (level == RT_SIMD_NEON || best == RT_SIMD_NEON)
        return level == RT_SIMD_SCALAR || level == best;
    return level <= best;
}

static void init_levels(void)
{
    detected = probe();
    selected = detected;
    rt_simd forced;
    const char *env = getenv("MLP_SIMD");
    if (env && rt_simd_parse(env, &forced) && has_level(detected, forced)) selected = forced;
}

rt_simd rt_cpu_detect(void)
{
    pthread_once(&once, init_levels);
    return detected;
}

rt_simd rt_cpu_simd(void)
{
    pthread_once(&once, init_levels);
    return selected;
}

bool rt_cpu_has(rt_simd level) { return has_level(rt_cpu_detect(), level); }

const char *rt_simd_name(rt_simd level)
{
    return level >= 0 && level < RT_SIMD_COUNT ? simd_names[level] : "?";
}

bool rt_simd_parse(const char *name, rt_simd *out)
{
    for (int i = 0; i < RT_SIMD_COUNT; i++)
        if (strcmp(name, simd_names[i]) == 0) {
            *out = (rt_simd)i;
            return true;
        }
    return false;
}
