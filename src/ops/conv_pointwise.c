/*
 * conv_pointwise.c - a direct AVX-512 kernel for the product at the heart of Conv:
 *
 *     Y[m][q] = bias[m] + sum_k W[m][k] * X[k][q]      for one image and group
 *
 * where X is either the input itself, for 1x1 Conv with stride 1 and no padding (the expand and
 * project layers of MobileNet, EfficientNet and ResNet's bottlenecks: each input channel is one
 * contiguous row of positions), or a block of im2col's output (same layout, K = Cg*kH*kW rows).
 * X is read in place instead of being packed by the BLAS for every call, and W packed once at plan
 * time into panels of MR_PW_MR rows, k-major: panel[k][r] = W[p*MR + r][k] (rows past M are zero),
 * so that the kernel reads it sequentially. The micro-kernel keeps a MR x 32 block of Y in 24 zmm
 * accumulators: per k it loads 32 positions of X[k] (two vectors) and does 24 FMAs with W broadcast
 * from the panel. Every output is one chain of FMAs over k = 0, 1, ..., K-1 from zero, whatever the
 * tiling, so the results do not depend on how the layer is split over threads.
 *
 * Loop order (mr_conv_pw_run over a column range): columns in blocks of MR_PW_NC (the block of X,
 * K x NC floats, stays in L2 while every row panel passes over it), then row panels, then 32-column
 * micro-tiles; the last micro-tile of a block is masked.
 */
#include <string.h>

#include "conv.h"
#include "conv_pointwise.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define MR_PW_X86 1
#else
#define MR_PW_X86 0
#endif

static bool mr_pw_force_gemm;

void mr_conv_pw_force_gemm(bool on) {
    mr_pw_force_gemm = on;
}

/* The kernel runs only where AVX-512F is; elsewhere conv.c keeps the GEMM. */
bool mr_conv_pw_available(void) {
#if MR_PW_X86
    return !mr_pw_force_gemm && __builtin_cpu_supports("avx512f");
#else
    return false;
#endif
}

/*
 * Packed weights, per group (the layout is kept in mr_conv_params.pw_layout):
 *   layout 0, row panels:     [Mg / MR_PW_MR][K][MR_PW_MR]   panel[k][r] = W[p*MR + r][k]
 *   layout 1, channel panels: [Mg / MR_PW_NR][K][MR_PW_NR]   panel[k][c] = W[p*NR + c][k]
 * (zero rows past Mg). Layout 0 serves the kernel with positions in the vector lanes, layout 1
 * the one with output channels in the lanes, chosen when a layer has few positions (late 7x7
 * layers: 49 positions fill 16-lane vectors only to 77%). The layout is chosen once, at packing;
 * either kernel is right for any number of positions. When Mg is a multiple of the panel width the
 * packed weights are exactly as large as W, and W can be packed in place, panel by panel.
 */
#define MR_PW_NR 32
#define MR_PW_FEW_POSITIONS 100

int mr_conv_pw_layout(const mr_conv_params *p) {
    return p->P < MR_PW_FEW_POSITIONS && p->Mg >= MR_PW_NR ? 1 : 0;
}

int64_t mr_conv_pw_row_align(int layout) {
    return layout ? MR_PW_NR : MR_PW_MR;
}

size_t mr_conv_pw_packed_bytes(const mr_conv_params *p, int layout) {
    const int64_t w = mr_conv_pw_row_align(layout), panels = (p->Mg + w - 1) / w;
    return (size_t)(p->group * panels * w * p->K) * sizeof(float);
}

void mr_conv_pw_pack(const mr_conv_params *p, int layout, const float *w, float *packed) {
    const int64_t K = p->K, Mg = p->Mg, wd = mr_conv_pw_row_align(layout);
    const int64_t panels = (Mg + wd - 1) / wd;
    for (int64_t g = 0; g < p->group; g++) {
        const float *wg = w + g * Mg * K;
        float *pg = packed + g * panels * wd * K;
        for (int64_t pi = 0; pi < panels; pi++)
            for (int64_t k = 0; k < K; k++)
                for (int64_t r = 0; r < wd; r++) {
                    int64_t m = pi * wd + r;
                    pg[(pi * K + k) * wd + r] = m < Mg ? wg[m * K + k] : 0.0f;
                }
    }
}

bool mr_conv_pw_pack_in_place(const mr_conv_params *p, int layout, float *w, float *tmp) {
    const int64_t K = p->K, wd = mr_conv_pw_row_align(layout);
    if (p->Mg % wd != 0) return false;
    /* panel pi holds the same wd rows of W, in the same wd * K floats, only transposed */
    for (int64_t pi = 0; pi < p->group * p->Mg / wd; pi++) {
        float *panel = w + pi * wd * K;
        memcpy(tmp, panel, (size_t)(wd * K) * sizeof(float));
        for (int64_t k = 0; k < K; k++)
            for (int64_t r = 0; r < wd; r++)
                panel[k * wd + r] = tmp[r * K + k];
    }
    return true;
}

#if MR_PW_X86

/*
 * Y[r][q0 + j] = bias[r] + sum_k panel[k][r] * X[k][q0 + j] for r < rows (<= MR_PW_MR), j < 32
 * masked by m0 (first 16) and m1 (next 16): x = X + q0 with rows of stride ldx, y = Y + q0 with
 * row stride ldy; bias may be NULL.
 */
__attribute__((target("avx512f"))) static void
mr_pw_kernel(const float *panel, const float *x, int64_t ldx, int64_t K, const float *bias,
             float *y, int64_t ldy, int64_t rows, __mmask16 m0, __mmask16 m1) {
    /* 24 named accumulators (an array would be kept in memory as well by GCC) */
#define MR_PW_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define MR_PW_DECL(r) __m512 a##r = _mm512_set1_ps(bias && r < rows ? bias[r] : 0.0f), b##r = a##r;
#define MR_PW_FMA(r)                                                                               \
    {                                                                                              \
        const __m512 w = _mm512_set1_ps(wk[r]);                                                    \
        a##r = _mm512_fmadd_ps(w, x0, a##r);                                                       \
        b##r = _mm512_fmadd_ps(w, x1, b##r);                                                       \
    }
#define MR_PW_STORE(r)                                                                             \
    if (r < rows) {                                                                                \
        _mm512_mask_storeu_ps(y + r * ldy, m0, a##r);                                              \
        _mm512_mask_storeu_ps(y + r * ldy + 16, m1, b##r);                                         \
    }
    MR_PW_ROWS(MR_PW_DECL)
    for (int64_t k = 0; k < K; k++) {
        const __m512 x0 = _mm512_maskz_loadu_ps(m0, x + k * ldx);
        const __m512 x1 = _mm512_maskz_loadu_ps(m1, x + k * ldx + 16);
        const float *wk = panel + k * MR_PW_MR;
        MR_PW_ROWS(MR_PW_FMA)
    }
    MR_PW_ROWS(MR_PW_STORE)
#undef MR_PW_ROWS
#undef MR_PW_DECL
#undef MR_PW_FMA
#undef MR_PW_STORE
}

static __mmask16 mr_pw_mask(int64_t n) {
    return n >= 16 ? (__mmask16)0xffff : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1u);
}

/*
 * The kernel with output channels in the lanes (layout 1): Y[c][q0 + r] for R positions r < R
 * (a compile-time constant once inlined) and 32 channels c (masked by m0, m1), from the channel
 * panel [K][32]: per k, two vectors of weights and R broadcasts of X[k][q0 + r], 2R FMAs. The
 * accumulators start from the bias and add the products in k order, as in mr_pw_kernel, so both
 * kernels give the same bits. The R x 32 block is stored through a scatter (stride ldy).
 */
static inline __attribute__((always_inline, target("avx512f"))) void
mr_pwt_body(const float *panel, const float *x, int64_t ldx, int64_t K, const float *bias, float *y,
            int64_t ldy, __mmask16 m0, __mmask16 m1, const int R) {
#define MR_PWT_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
    const __m512 b0 = bias ? _mm512_maskz_loadu_ps(m0, bias) : _mm512_setzero_ps();
    const __m512 b1 = bias ? _mm512_maskz_loadu_ps(m1, bias + 16) : _mm512_setzero_ps();
#define MR_PWT_DECL(r) __m512 a##r = b0, c##r = b1;
    MR_PWT_ROWS(MR_PWT_DECL)
    for (int64_t k = 0; k < K; k++) {
        const __m512 w0 = _mm512_loadu_ps(panel + k * MR_PW_NR);
        const __m512 w1 = _mm512_loadu_ps(panel + k * MR_PW_NR + 16);
        const float *xk = x + k * ldx;
#define MR_PWT_FMA(r)                                                                              \
    if (r < R) {                                                                                   \
        const __m512 xv = _mm512_set1_ps(xk[r]);                                                   \
        a##r = _mm512_fmadd_ps(xv, w0, a##r);                                                      \
        c##r = _mm512_fmadd_ps(xv, w1, c##r);                                                      \
    }
        MR_PWT_ROWS(MR_PWT_FMA)
    }
    const __m512i idx =
        _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                           _mm512_set1_epi32((int)ldy));
#define MR_PWT_STORE(r)                                                                            \
    if (r < R) {                                                                                   \
        _mm512_mask_i32scatter_ps(y + r, m0, idx, a##r, 4);                                        \
        _mm512_mask_i32scatter_ps(y + 16 * ldy + r, m1, idx, c##r, 4);                             \
    }
    MR_PWT_ROWS(MR_PWT_STORE)
#undef MR_PWT_ROWS
#undef MR_PWT_DECL
#undef MR_PWT_FMA
#undef MR_PWT_STORE
}

__attribute__((target("avx512f"))) static void
mr_pwt_kernel(const float *panel, const float *x, int64_t ldx, int64_t K, const float *bias,
              float *y, int64_t ldy, __mmask16 m0, __mmask16 m1, int R) {
    switch (R) {
#define MR_PWT_CASE(r)                                                                             \
    case r + 1:                                                                                    \
        mr_pwt_body(panel, x, ldx, K, bias, y, ldy, m0, m1, r + 1);                                \
        break;
        MR_PWT_CASE(0)
        MR_PWT_CASE(1)
        MR_PWT_CASE(2) MR_PWT_CASE(3) MR_PWT_CASE(4) MR_PWT_CASE(5) MR_PWT_CASE(6) MR_PWT_CASE(7)
            MR_PWT_CASE(8) MR_PWT_CASE(9) MR_PWT_CASE(10) MR_PWT_CASE(11)
#undef MR_PWT_CASE
                default : break;
    }
}

void mr_conv_pw_run(const mr_conv_params *p, const float *packed, int64_t g, const float *x,
                    int64_t ldx, const float *bg, float *y, int64_t ldy, int64_t r0, int64_t r1,
                    int64_t q0, int64_t q1) {
    const int layout = p->pw_layout;
    const int64_t K = p->K, Mg = p->Mg, wd = mr_conv_pw_row_align(layout);
    const int64_t panels = (Mg + wd - 1) / wd;
    const float *pg = packed + g * panels * wd * K;
    if (layout == 1) {
        /* positions in blocks of at most 12, as even as possible (49 = 5 x 10 - 1) */
        const int64_t n = q1 - q0, blocks = (n + 11) / 12,
                      R = blocks ? (n + blocks - 1) / blocks : 0;
        for (int64_t m = r0; m < r1; m += MR_PW_NR) {
            const float *panel = pg + (m / MR_PW_NR) * MR_PW_NR * K;
            const __mmask16 m0 = mr_pw_mask(r1 - m), m1 = mr_pw_mask(r1 - m - 16);
            for (int64_t q = q0; q < q1; q += R) {
                const int rows = (int)(q1 - q < R ? q1 - q : R);
                mr_pwt_kernel(panel, x + q, ldx, K, bg ? bg + m : NULL, y + m * ldy + q, ldy, m0,
                              m1, rows);
            }
        }
        return;
    }
    for (int64_t c0 = q0; c0 < q1; c0 += MR_PW_NC) {
        const int64_t c1 = c0 + MR_PW_NC < q1 ? c0 + MR_PW_NC : q1;
        for (int64_t m = r0; m < r1; m += MR_PW_MR) {
            const int64_t rows = r1 - m < MR_PW_MR ? r1 - m : MR_PW_MR;
            const float *panel = pg + (m / MR_PW_MR) * MR_PW_MR * K;
            for (int64_t q = c0; q < c1; q += 32)
                mr_pw_kernel(panel, x + q, ldx, K, bg ? bg + m : NULL, y + m * ldy + q, ldy, rows,
                             mr_pw_mask(c1 - q), mr_pw_mask(c1 - q - 16));
        }
    }
}

#else

void mr_conv_pw_run(const mr_conv_params *p, const float *packed, int64_t g, const float *x,
                    int64_t ldx, const float *bg, float *y, int64_t ldy, int64_t r0, int64_t r1,
                    int64_t q0, int64_t q1) {
    (void)p, (void)packed, (void)g, (void)x, (void)ldx, (void)bg, (void)y, (void)ldy, (void)r0,
        (void)r1, (void)q0, (void)q1;
}

#endif
