/*
 * epilogue.c - the activations the graph optimizer fuses into the op before them (mr_act), applied
 * in place over a float array. The formulas are the ONNX operators' (Relu, Clip, LeakyRelu,
 * Sigmoid, HardSigmoid, HardSwish; SiLU is Sigmoid followed by Mul with the same input).
 */
#include <math.h>
#include <stdbool.h>

#include "conv.h"
#include "fastmath.h"

/*
 * 1 / (1 + e^-x) for the epilogue's Sigmoid and SiLU, written for the vectoriser: the clamp of -x
 * to [-87, 88] is a max and a min (x86 max/min return their second operand for NaN, which the
 * comparisons below mirror, so NaN passes through), and with n = round(-x / ln2) in [-126, 127]
 * the scale 2^n is one normal float, built in the exponent bits; e^r is mr_fast_exp_split's.
 * Outside the clamp the result is exact to float anyway: below -87 the sigmoid rounds to 0 (to
 * about 1.7e-38), above 88 to 1.
 */
static inline float mr_epi_sigmoid(float x) {
    float z = -x;
    z = 88.0f < z ? 88.0f : z;
    z = -87.0f > z ? -87.0f : z;
    int32_t n;
    float e = mr_fast_exp_split(z, &n);
    uint32_t sb = (uint32_t)(n + 127) << 23;
    float sc;
    memcpy(&sc, &sb, sizeof(sc));
    return 1.0f / (1.0f + e * sc);
}

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define MR_EPI_X86 1

/*
 * Sigmoid (silu false) or SiLU (silu true) over y[0, n) with AVX-512: the same clamp, range
 * reduction and polynomial as mr_epi_sigmoid, with the clamp as min / max (which pass NaN on, as
 * the operand order below makes them), and 1 / d by the 14-bit reciprocal refined by one Newton
 * step (relative error ~2^-27, against the compiler's division, which took most of the time). The
 * upper clamp is 80 so that 1 / d stays a normal float (exp(80) ~ 5.5e34).
 */
__attribute__((target("avx512f"))) static void mr_epi_sigmoid_avx512(float *y, int64_t n,
                                                                     bool silu) {
    const __m512 hi = _mm512_set1_ps(80.0f), lo = _mm512_set1_ps(-87.0f);
    const __m512 l2e = _mm512_set1_ps(1.44269504f), shift = _mm512_set1_ps(12582912.0f);
    const __m512 c1 = _mm512_set1_ps(0.693359375f), c2 = _mm512_set1_ps(-2.12194440e-4f);
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512i bias = _mm512_set1_epi32(127 - 0x4B400000);
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1u);
        const __m512 x = _mm512_maskz_loadu_ps(m, y + i);
        __m512 z = _mm512_sub_ps(_mm512_setzero_ps(), x);
        z = _mm512_min_ps(hi, z); /* min(a, b) and max(a, b) return b when either is NaN */
        z = _mm512_max_ps(lo, z);
        const __m512 t = _mm512_fmadd_ps(z, l2e, shift);
        const __m512 nf = _mm512_sub_ps(t, shift);
        const __m512 sc = _mm512_castsi512_ps(
            _mm512_slli_epi32(_mm512_add_epi32(_mm512_castps_si512(t), bias), 23));
        __m512 r = _mm512_fnmadd_ps(nf, c1, z);
        r = _mm512_fnmadd_ps(nf, c2, r);
        __m512 e = _mm512_set1_ps(1.0f / 5040);
        e = _mm512_fmadd_ps(e, r, _mm512_set1_ps(1.0f / 720));
        e = _mm512_fmadd_ps(e, r, _mm512_set1_ps(1.0f / 120));
        e = _mm512_fmadd_ps(e, r, _mm512_set1_ps(1.0f / 24));
        e = _mm512_fmadd_ps(e, r, _mm512_set1_ps(1.0f / 6));
        e = _mm512_fmadd_ps(e, r, _mm512_set1_ps(0.5f));
        e = _mm512_fmadd_ps(e, r, one);
        e = _mm512_fmadd_ps(e, r, one);
        const __m512 d = _mm512_fmadd_ps(e, sc, one);
        __m512 inv = _mm512_rcp14_ps(d);
        inv = _mm512_fmadd_ps(inv, _mm512_fnmadd_ps(d, inv, one), inv);
        _mm512_mask_storeu_ps(y + i, m, silu ? _mm512_mul_ps(x, inv) : inv);
    }
}
#else
#define MR_EPI_X86 0
#endif

/* The loops, built for each instruction set (file-local: clang's target_clones needs every
 * declaration of a cloned function to carry the attribute). */
MR_SIMD_CLONES static void mr_epilogue_loops(const mr_epilogue *e, float *y, int64_t n) {
    const float a = e->alpha, b = e->beta;
#if MR_EPI_X86
    if ((e->act == MR_ACT_SIGMOID || e->act == MR_ACT_SILU) && __builtin_cpu_supports("avx512f")) {
        mr_epi_sigmoid_avx512(y, n, e->act == MR_ACT_SILU);
        return;
    }
#endif
    switch (e->act) {
    case MR_ACT_NONE:
        break;
    case MR_ACT_RELU:
        for (int64_t i = 0; i < n; i++)
            y[i] = mr_fast_lt(y[i], 0.0f, 0.0f, y[i]); /* max(y, 0); NaN stays */
        break;
    case MR_ACT_CLIP:
        for (int64_t i = 0; i < n; i++) {
            float v = mr_fast_lt(y[i], a, a, y[i]);
            y[i] = mr_fast_lt(b, v, b, v);
        }
        break;
    case MR_ACT_LEAKY_RELU:
        for (int64_t i = 0; i < n; i++)
            y[i] = mr_fast_lt(y[i], 0.0f, a * y[i], y[i]);
        break;
    case MR_ACT_SIGMOID:
        for (int64_t i = 0; i < n; i++)
            y[i] = mr_epi_sigmoid(y[i]);
        break;
    case MR_ACT_HARD_SIGMOID:
        for (int64_t i = 0; i < n; i++) {
            float v = a * y[i] + b;
            v = mr_fast_lt(v, 0.0f, 0.0f, v);
            y[i] = mr_fast_lt(1.0f, v, 1.0f, v);
        }
        break;
    case MR_ACT_HARD_SWISH:
        for (int64_t i = 0; i < n; i++) {
            float v = y[i] * (1.0f / 6.0f) + 0.5f;
            v = mr_fast_lt(v, 0.0f, 0.0f, v);
            y[i] *= mr_fast_lt(1.0f, v, 1.0f, v);
        }
        break;
    case MR_ACT_SILU:
        for (int64_t i = 0; i < n; i++)
            y[i] *= mr_epi_sigmoid(y[i]);
        break;
    }
}

void mr_epilogue_apply(const mr_epilogue *e, float *y, int64_t n) {
    mr_epilogue_loops(e, y, n);
}
