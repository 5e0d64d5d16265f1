/*
 * fastmath.h - branch-free float32 building blocks that the compiler can vectorise (a select
 * written as a bit blend, and exp), shared by the activation ops and the fused Conv epilogue.
 */
#ifndef MR_FASTMATH_H
#define MR_FASTMATH_H

#include <stdint.h>
#include <string.h>

/*
 * MR_SIMD_CLONES on a loop function: the compiler builds it for AVX-512, AVX2 and baseline x86-64
 * and the loader picks the one the CPU supports (GCC and clang target_clones, through an ifunc), so
 * the vectorised loops run 16 or 8 lanes wide where the CPU can, with one portable source. Every
 * clone computes the same formula; empty where target_clones is not available, and in builds with
 * AddressSanitizer, ThreadSanitizer or MemorySanitizer, whose instrumentation of the ifunc
 * resolvers would run before the sanitizer's runtime is set up (a crash at load).
 */
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) ||                         \
    __has_feature(memory_sanitizer)
#define MR_NO_SIMD_CLONES 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define MR_NO_SIMD_CLONES 1
#endif
#if defined(__x86_64__) && defined(__linux__) && defined(__GLIBC__) &&                             \
    (defined(__clang__) ? __clang_major__ >= 14 : defined(__GNUC__) && __GNUC__ >= 6) &&           \
    !defined(MR_NO_SIMD_CLONES)
#define MR_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define MR_SIMD_CLONES
#endif

/* (p < q) ? a : b as a bit-mask blend, so that both arms are plain values to the vectoriser. */
static inline float mr_fast_lt(float p, float q, float a, float b) {
    uint32_t m = 0u - (uint32_t)(p < q), ua, ub;
    memcpy(&ua, &a, sizeof(ua));
    memcpy(&ub, &b, sizeof(ub));
    ua = (ua & m) | (ub & ~m);
    memcpy(&a, &ua, sizeof(a));
    return a;
}

/*
 * e^x = e^r * 2^n for x in [-104, 89], branch-free: x = n*ln2 + r with |r| <= ln2/2 (ln2 split in
 * a part exact in float and a correction), e^r by its Taylor polynomial to r^7 (error < 2^-27).
 * Returns e^r and sets *n; the callers build 2^n as their range needs.
 */
static inline float mr_fast_exp_split(float x, int32_t *n) {
    float t = x * 1.44269504f + 12582912.0f; /* 1.5 * 2^23: rounds x / ln2 into the low bits */
    float nf = t - 12582912.0f;
    uint32_t tb;
    memcpy(&tb, &t, sizeof(tb));
    *n = (int32_t)(tb - 0x4B400000u);
    float r = x - nf * 0.693359375f;
    r = r - nf * -2.12194440e-4f;
    float e = 1.0f / 5040;
    e = e * r + 1.0f / 720;
    e = e * r + 1.0f / 120;
    e = e * r + 1.0f / 24;
    e = e * r + 1.0f / 6;
    e = e * r + 0.5f;
    e = e * r + 1.0f;
    return e * r + 1.0f;
}

/*
 * exp(x) for float, branch-free: mr_fast_exp_split, with 2^n built in the exponent bits as
 * 2^(n/2) * 2^(n - n/2) so that results down to the subnormal range and up to overflow come out
 * right. x is clamped to [-104, 89] first: below, the result rounds to 0; above, the product
 * overflows to +inf; NaN passes through the clamp and the arithmetic.
 */
static inline float mr_fast_expf(float x) {
    float xc = mr_fast_lt(x, -104.0f, -104.0f, x);
    xc = mr_fast_lt(89.0f, xc, 89.0f, xc);
    int32_t n;
    float e = mr_fast_exp_split(xc, &n);
    int32_t n1 = n / 2, n2 = n - n1;
    uint32_t b1 = (uint32_t)(n1 + 127) << 23, b2 = (uint32_t)(n2 + 127) << 23;
    float s1, s2;
    memcpy(&s1, &b1, sizeof(s1));
    memcpy(&s2, &b2, sizeof(s2));
    return e * s1 * s2;
}

#endif
