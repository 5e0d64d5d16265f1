/*
 * conv_depthwise.c - depthwise 2-D Conv (group == C, M = C * multiplier), the layer of MobileNet,
 * EfficientNet and ShuffleNet, computed directly instead of by im2col + GEMM (where every group
 * is a GEMM with one output row, which BLAS runs far below its speed).
 *
 * Definition (ONNX Conv, https://onnx.ai/onnx/operators/onnx__Conv.html, with group = C): for
 * image n and output channel m, reading input channel c = m / multiplier,
 *
 *     Y[n, m, oy, ox] = B[m] + sum_{ky < kH, kx < kW} W[m, 0, ky, kx]
 *                              * X[n, c, oy*sh - pt + ky*dh, ox*sw - pl + kx*dw]
 *
 * with X read as zero outside [0, H) x [0, W). Every tap is summed in (ky, kx) order on every
 * path.
 *
 * SIMD paths (AVX-512F, AVX2 + FMA; chosen at run time): vectors run along an output row (16 or 8
 * values of ox). To keep the inner loops free of border tests, each input plane is first copied,
 * a band of rows at a time, into a small stack buffer ("staging") that already holds the zero
 * padding, so every output reads its taps at fixed offsets. Strided convolution is made unit-
 * stride by a polyphase split of the columns: a staged row stores its padded columns j in sw
 * phases, column j at [j % sw][j / sw], each phase q floats long. Tap kx of output ox then lives
 * at phase (kx*dw) % sw, index ox + (kx*dw) / sw, so a stride-2 row is read with plain unaligned
 * loads like a stride-1 row (the de-interleave is done once per input value while staging, not
 * once per tap). Rows of the band are addressed directly, output row r reading staged rows
 * r*sh + ky*dh. Each phase is long enough (q >= round_up(OW, 16) + max column offset) that a
 * vector past the row's end reads staged zeros; only its store is masked. The 3x3 and 5x5
 * kernels (row stride 1 or 2) keep the weights in registers (AVX-512) and compute 4 output rows
 * at once, which share their staged rows; other shapes loop over the taps. The staged band (at
 * most 16 KiB) stays in L1 while every output channel of its input channel is computed from it.
 * Staging takes about a quarter of the time at stride 1 and over half at stride 2 (measured on
 * Zen 4); it buys branch-free inner loops for any padding, stride and dilation.
 *
 * Portable path (any architecture, and the fallback when a row is too wide to stage): the same
 * sum, output row by output row, one tap at a time over the output columns whose tap lies inside
 * the input (so padding costs nothing), which compilers vectorise for stride 1.
 *
 * Threads: conv.c splits the (image, input channel) planes over the session's threads; each call
 * computes a range of them with its own staging buffer on the stack.
 */
#include <string.h>

#include "conv.h"
#include "conv_depthwise.h"

#if defined(__x86_64__) || defined(__i386__)
#define MR_CONV_DW_X86 1
#include <immintrin.h>
#else
#define MR_CONV_DW_X86 0
#endif

#define MR_CONV_DW_BUF 4096  /* floats in the staging buffer (16 KiB) */
#define MR_CONV_DW_VEC 16    /* floats per vector of the widest path (staging slack) */
#define MR_CONV_DW_MAX_KW 32 /* widest kernel the staged path takes */
#define MR_CONV_DW_MAX_SW 16 /* largest column stride the staged path takes */

/* Geometry of one depthwise layer for the staged paths. */
typedef struct mr_conv_dw_geom {
    int64_t H, W, OH, OW;
    int64_t kh, kw, sh, sw, dh, dw, pt, pl;
    int64_t q;                       /* floats per column phase of a staged row */
    int64_t rs;                      /* floats per staged row: sw * q */
    int64_t band;                    /* output rows per staged band */
    int64_t coff[MR_CONV_DW_MAX_KW]; /* offset of tap column kx in a staged row */
    /* phase ph of a staged row holds input data at indices [lo[ph], hi[ph]), zeros elsewhere */
    int64_t lo[MR_CONV_DW_MAX_SW], hi[MR_CONV_DW_MAX_SW];
} mr_conv_dw_geom;

/* Test hook (conv_depthwise.h): the highest instruction set runs may use. */
static mr_conv_dw_isa mr_conv_dw_cap = MR_CONV_DW_ISA_AUTO;

void mr_conv_dw_force_isa(mr_conv_dw_isa isa) {
    mr_conv_dw_cap = isa;
}

mr_conv_dw_isa mr_conv_dw_isa_for(mr_conv_dw_isa isa) {
#if MR_CONV_DW_X86
    if (isa >= MR_CONV_DW_ISA_AVX512 && __builtin_cpu_supports("avx512f") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx2") &&
        __builtin_cpu_supports("fma"))
        return MR_CONV_DW_ISA_AVX512;
    if (isa >= MR_CONV_DW_ISA_AVX2 && __builtin_cpu_supports("avx2") &&
        __builtin_cpu_supports("fma"))
        return MR_CONV_DW_ISA_AVX2;
#else
    (void)isa;
#endif
    return MR_CONV_DW_ISA_PORTABLE;
}

bool mr_conv_dw_supported(const mr_conv_params *p) {
    return p->nsp == 2 && p->C >= 1 && p->group == p->C && p->Cg == 1 && p->M % p->C == 0;
}

/* ceil(a / b) for b > 0 and any a. */
static int64_t mr_conv_dw_ceil_div(int64_t a, int64_t b) {
    return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

static int64_t mr_conv_dw_clamp(int64_t v, int64_t lo, int64_t hi) {
    return v < lo ? lo : v > hi ? hi : v;
}

/* Fill g from p; false when one output row's staged rows do not fit the buffer. */
static bool mr_conv_dw_geom_init(const mr_conv_params *p, mr_conv_dw_geom *g) {
    g->H = p->in[0], g->W = p->in[1], g->OH = p->out[0], g->OW = p->out[1];
    g->kh = p->k[0], g->kw = p->k[1], g->sh = p->s[0], g->sw = p->s[1];
    g->dh = p->d[0], g->dw = p->d[1], g->pt = p->pad_begin[0], g->pl = p->pad_begin[1];
    if (g->kw > MR_CONV_DW_MAX_KW || g->sw > MR_CONV_DW_MAX_SW || g->OW > MR_CONV_DW_BUF)
        return false;
    const int64_t span = (g->kh - 1) * g->dh + 1; /* staged rows one output row reads */
    const int64_t reach = (g->kw - 1) * g->dw / g->sw;
    if (span > MR_CONV_DW_BUF || reach > MR_CONV_DW_BUF) return false;
    g->q = (g->OW + MR_CONV_DW_VEC - 1) / MR_CONV_DW_VEC * MR_CONV_DW_VEC + reach;
    g->rs = g->sw * g->q;
    if (g->rs > MR_CONV_DW_BUF / span) return false;
    /* output rows per band: as many as fit, a multiple of the kernels' 4-row blocks */
    g->band = (MR_CONV_DW_BUF / g->rs - span) / g->sh + 1;
    if (g->band >= g->OH)
        g->band = g->OH > 1 ? g->OH : 1;
    else if (g->band > 4)
        g->band -= g->band % 4;
    for (int64_t kx = 0; kx < g->kw; kx++)
        g->coff[kx] = (kx * g->dw) % g->sw * g->q + kx * g->dw / g->sw;
    /* the indices t of phase ph whose input column t*sw + ph - pl lies in [0, W) */
    for (int64_t ph = 0; ph < g->sw; ph++) {
        const int64_t first = ph - g->pl;
        g->lo[ph] = mr_conv_dw_clamp(mr_conv_dw_ceil_div(-first, g->sw), 0, g->q);
        g->hi[ph] = mr_conv_dw_clamp(mr_conv_dw_ceil_div(g->W - first, g->sw), g->lo[ph], g->q);
    }
    return true;
}

bool mr_conv_dw_staged(const mr_conv_params *p) {
    mr_conv_dw_geom g;
    return mr_conv_dw_geom_init(p, &g);
}

/* ---- portable path ---- */

/* Y[n, m] for every (n, m) by direct summation: for each output row, tap by tap over the output
 * columns [lo, hi) whose input column ox*sw - pl + kx*dw lies in [0, W). */
static void mr_conv_dw_direct(const mr_conv_params *p, const float *x, const float *w,
                              const float *bias, float *y, int64_t i0, int64_t i1) {
    const int64_t H = p->in[0], W = p->in[1], OH = p->out[0], OW = p->out[1];
    const int64_t kh = p->k[0], kw = p->k[1], sh = p->s[0], sw = p->s[1];
    const int64_t dh = p->d[0], dw = p->d[1], pt = p->pad_begin[0], pl = p->pad_begin[1];
    const int64_t mult = p->M / p->C;
    for (int64_t i = i0; i < i1; i++) {
        const int64_t n = i / p->C, c = i % p->C;
        for (int64_t m = c * mult; m < (c + 1) * mult; m++) {
            const float *wm = w + m * kh * kw;
            const float b = bias ? bias[m] : 0.0f;
            float *ym = y + (n * p->M + m) * OH * OW;
            for (int64_t oy = 0; oy < OH; oy++) {
                float *restrict yr = ym + oy * OW;
                for (int64_t ox = 0; ox < OW; ox++)
                    yr[ox] = b;
                for (int64_t ky = 0; ky < kh; ky++) {
                    const int64_t iy = oy * sh - pt + ky * dh;
                    if (iy < 0 || iy >= H || W == 0) continue;
                    const float *restrict xr = x + ((n * p->C + c) * H + iy) * W;
                    for (int64_t kx = 0; kx < kw; kx++) {
                        const int64_t off = kx * dw - pl;
                        const float wv = wm[ky * kw + kx];
                        int64_t lo = off >= 0 ? 0 : mr_conv_dw_ceil_div(-off, sw);
                        int64_t hi = mr_conv_dw_ceil_div(W - off, sw);
                        hi = mr_conv_dw_clamp(hi, 0, OW);
                        if (sw == 1) {
                            for (int64_t ox = lo; ox < hi; ox++)
                                yr[ox] += wv * xr[ox + off];
                        } else {
                            for (int64_t ox = lo; ox < hi; ox++)
                                yr[ox] += wv * xr[ox * sw + off];
                        }
                    }
                }
            }
        }
    }
}

#if MR_CONV_DW_X86

/* ---- staged driver (shared by the SIMD paths) ---- */

/*
 * Stage padded rows r0 .. r0+nrows-1 of the plane xc [H][W] (padded row r = input row r - pt)
 * into buf [nrows][sw][q]: buf[i][ph][t] = padded column t*sw + ph = X[r0 + i - pt][t*sw + ph -
 * pl]. Only the data range [lo[ph], hi[ph]) of each phase is written (with zeros for rows outside
 * [0, H)): the rest of the buffer is zeroed once per run and never written. xend is the end of X;
 * vector loads may read past a row (the extra lanes are not stored) but not past xend.
 */
typedef void (*mr_conv_dw_stage_fn)(const mr_conv_dw_geom *g, const float *xc, const float *xend,
                                    float *buf, int64_t r0, int64_t nrows);

/* A band kernel: output rows [0, rows) of one (n, m) plane, y [rows][OW], from the staged band
 * buf (output row r reads staged rows r*sh + ky*dh), weights w [kH][kW]. */
typedef void (*mr_conv_dw_band_fn)(const mr_conv_dw_geom *g, const float *buf, const float *w,
                                   float bias, float *y, int64_t rows);

/*
 * The staged driver: for each image n and input channel c, for each band of output rows: stage
 * the band's input rows once, then run the band kernel for each of c's `multiplier` output
 * channels. Inlined into each instruction set's entry point.
 */
static inline __attribute__((always_inline)) void
mr_conv_dw_drive(const mr_conv_params *p, const mr_conv_dw_geom *g, const float *x, const float *w,
                 const float *bias, float *y, int64_t i0, int64_t i1, mr_conv_dw_stage_fn stage,
                 mr_conv_dw_band_fn kern) {
    _Alignas(64) float buf[MR_CONV_DW_BUF];
    const int64_t mult = p->M / p->C, kvol = g->kh * g->kw;
    const int64_t plane_in = g->H * g->W, plane_out = g->OH * g->OW;
    const float *xend = plane_in ? x + p->N * p->C * plane_in : NULL;
    memset(buf, 0,
           (size_t)(((g->band - 1) * g->sh + (g->kh - 1) * g->dh + 1) * g->rs) * sizeof(float));
    for (int64_t i = i0; i < i1; i++) {
        const int64_t n = i / p->C, c = i % p->C;
        const float *xc = plane_in ? x + i * plane_in : NULL;
        for (int64_t oy0 = 0; oy0 < g->OH; oy0 += g->band) {
            const int64_t rows = g->OH - oy0 < g->band ? g->OH - oy0 : g->band;
            stage(g, xc, xend, buf, oy0 * g->sh, (rows - 1) * g->sh + (g->kh - 1) * g->dh + 1);
            for (int64_t j = 0; j < mult; j++) {
                const int64_t m = c * mult + j;
                kern(g, buf, w + m * kvol, bias ? bias[m] : 0.0f,
                     y + (n * p->M + m) * plane_out + oy0 * g->OW, rows);
            }
        }
    }
}

#define MR_DW_AVX512 __attribute__((target("avx512f,avx512vl,avx2,fma")))
#define MR_DW_AVX512_INLINE                                                                        \
    static inline __attribute__((always_inline, target("avx512f,avx512vl,avx2,fma")))
#define MR_DW_AVX2 __attribute__((target("avx2,fma")))
#define MR_DW_AVX2_INLINE static inline __attribute__((always_inline, target("avx2,fma")))

/*
 * Kernel layout (both instruction sets): a step computes one vector of output columns
 * [ox, ox + V) in R (4, 3, 2 or 1) consecutive output rows, one accumulator per row, so that R
 * independent FMA chains hide the FMA latency:
 *     acc[j] = b + sum_ky sum_kx w[ky][kx] * S[(r + j)*sh + ky*dh][coff[kx] + ox ..]
 * where S is the staged band. In the 3x3 and 5x5 kernels (row stride 1 or 2, row dilation 1)
 * the R output rows read (R - 1)*sh + k staged rows, each vector loaded once and used by every
 * output row it feeds. The last vector of a row is computed whole (the staged row is long
 * enough) and stored masked.
 */

/* ---- AVX-512F: 16 output columns per vector ---- */

/* Lanes [0, n) for 0 <= n <= 16. */
MR_DW_AVX512_INLINE __mmask16 mr_dw512_mask(int64_t n) {
    return (__mmask16)((1u << n) - 1u);
}

/* dst[0, n) = src[0, n); the tail vector is loaded whole when that stays before xend. The
 * empty asm keeps GCC from turning the loop into a memcpy call (costly for rows this short). */
MR_DW_AVX512_INLINE void mr_dw512_copy(float *dst, const float *src, int64_t n, const float *xend) {
    int64_t t = 0;
    for (; t + 16 <= n; t += 16) {
        __m512 v = _mm512_loadu_ps(src + t);
        __asm__("" : "+v"(v));
        _mm512_storeu_ps(dst + t, v);
    }
    if (t < n) {
        const __mmask16 m = mr_dw512_mask(n - t);
        const __m512 v =
            src + t + 16 <= xend ? _mm512_loadu_ps(src + t) : _mm512_maskz_loadu_ps(m, src + t);
        _mm512_mask_storeu_ps(dst + t, m, v);
    }
}

/* dst[0, n) = src[0, 2, 4, .. 2n-2): the even lanes of 32 consecutive inputs, by a two-source
 * permute. A full step reads src[2t .. 2t+32), one more than it needs. */
MR_DW_AVX512_INLINE void mr_dw512_copy2(float *dst, const float *src, int64_t n,
                                        const float *xend) {
    const __m512i even =
        _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    for (int64_t t = 0; t < n; t += 16) {
        const float *s = src + 2 * t;
        __m512 a, b;
        if (s + 32 <= xend) {
            a = _mm512_loadu_ps(s);
            b = _mm512_loadu_ps(s + 16);
        } else {
            const int64_t left = xend - s; /* >= 2 * min(16, n - t) - 1 */
            a = _mm512_maskz_loadu_ps(mr_dw512_mask(left < 16 ? left : 16), s);
            b = left > 16 ? _mm512_maskz_loadu_ps(mr_dw512_mask(left - 16), s + 16)
                          : _mm512_setzero_ps();
        }
        const __m512 v = _mm512_permutex2var_ps(a, even, b);
        if (n - t >= 16)
            _mm512_storeu_ps(dst + t, v);
        else
            _mm512_mask_storeu_ps(dst + t, mr_dw512_mask(n - t), v);
    }
}

/* Zero dst[i*rs .. i*rs + n) for rows i in [from, to): the data range of padding rows. */
MR_DW_AVX512_INLINE void mr_dw512_zero_rows(float *dst, int64_t rs, int64_t n, int64_t from,
                                            int64_t to) {
    for (int64_t i = from; i < to; i++)
        for (int64_t t = 0; t < n; t += 16)
            _mm512_mask_storeu_ps(dst + i * rs + t, mr_dw512_mask(n - t < 16 ? n - t : 16),
                                  _mm512_setzero_ps());
}

/* Staging (see mr_conv_dw_stage_fn) with vector copies; stride 2 de-interleaves. The band's
 * rows split into padding above, input rows, padding below, so the copy loop has no tests. */
static MR_DW_AVX512 void mr_dw512_stage(const mr_conv_dw_geom *g, const float *xc,
                                        const float *xend, float *buf, int64_t r0, int64_t nrows) {
    const int64_t sw = g->sw, W = g->W, rs = g->rs;
    const int64_t top = W ? mr_conv_dw_clamp(g->pt - r0, 0, nrows) : nrows;
    const int64_t bottom = W ? mr_conv_dw_clamp(g->H + g->pt - r0, top, nrows) : nrows;
    for (int64_t ph = 0; ph < sw; ph++) {
        const int64_t lo = g->lo[ph], n = g->hi[ph] - lo;
        float *dst = buf + ph * g->q + lo;
        mr_dw512_zero_rows(dst, rs, n, 0, top);
        mr_dw512_zero_rows(dst, rs, n, bottom, nrows);
        if (top == bottom) continue;
        /* index lo of the phase holds input column lo*sw + ph - pl */
        const float *src = xc + (r0 + top - g->pt) * W + lo * sw + ph - g->pl;
        if (sw == 1) {
            for (int64_t i = top; i < bottom; i++, src += W)
                mr_dw512_copy(dst + i * rs, src, n, xend);
        } else if (sw == 2) {
            for (int64_t i = top; i < bottom; i++, src += W)
                mr_dw512_copy2(dst + i * rs, src, n, xend);
        } else {
            for (int64_t i = top; i < bottom; i++, src += W)
                for (int64_t t = 0; t < n; t++)
                    dst[i * rs + t] = src[t * sw];
        }
    }
}

/* Store the first n (1..16) lanes of v at y. */
MR_DW_AVX512_INLINE void mr_dw512_store(float *y, __m512 v, int64_t n) {
    if (n >= 16)
        _mm512_storeu_ps(y, v);
    else
        _mm512_mask_storeu_ps(y, mr_dw512_mask(n), v);
}

/*
 * k x k, row stride sh, row dilation 1, R rows: output row j reads staged rows j*sh + ky, so the
 * R rows read (R - 1)*sh + k staged rows; each staged vector is loaded once and used by every
 * output row it feeds (up to R). The empty asm keeps the loaded vector in a register: without it
 * GCC folds a separate load into every FMA that uses it.
 */
MR_DW_AVX512_INLINE void mr_dw512_rows(const float *a, int64_t rs, const int64_t *c,
                                       const __m512 *w, int k, int sh, __m512 vb, float *y,
                                       int64_t OW, int R) {
    int64_t ox = 0;
    for (; OW - ox > 8; ox += 16) {
        __m512 acc[4];
#pragma GCC unroll 4
        for (int j = 0; j < R; j++)
            acc[j] = vb;
#pragma GCC unroll 16
        for (int i = 0; i < (R - 1) * sh + k; i++) {
            const float *pi = a + i * rs + ox;
#pragma GCC unroll 5
            for (int kx = 0; kx < k; kx++) {
                __m512 v = _mm512_loadu_ps(pi + c[kx]);
                __asm__("" : "+v"(v));
#pragma GCC unroll 4
                for (int j = 0; j < R; j++)
                    if (i - j * sh >= 0 && i - j * sh < k)
                        acc[j] = _mm512_fmadd_ps(w[(i - j * sh) * k + kx], v, acc[j]);
            }
        }
#pragma GCC unroll 4
        for (int j = 0; j < R; j++)
            mr_dw512_store(y + j * OW + ox, acc[j], OW - ox);
    }
    if (ox < OW) {
        /* the last 1..8 columns: half-width vectors, half the cost where 512-bit operations
         * are split in two (Zen 4) */
        const __mmask8 m = (__mmask8)((1u << (OW - ox)) - 1u);
        __m256 acc[4];
#pragma GCC unroll 4
        for (int j = 0; j < R; j++)
            acc[j] = _mm512_castps512_ps256(vb);
#pragma GCC unroll 16
        for (int i = 0; i < (R - 1) * sh + k; i++) {
            const float *pi = a + i * rs + ox;
#pragma GCC unroll 5
            for (int kx = 0; kx < k; kx++) {
                __m256 v = _mm256_loadu_ps(pi + c[kx]);
                __asm__("" : "+v"(v));
#pragma GCC unroll 4
                for (int j = 0; j < R; j++)
                    if (i - j * sh >= 0 && i - j * sh < k)
                        acc[j] = _mm256_fmadd_ps(_mm512_castps512_ps256(w[(i - j * sh) * k + kx]),
                                                 v, acc[j]);
            }
        }
#pragma GCC unroll 4
        for (int j = 0; j < R; j++)
            _mm256_mask_storeu_ps(y + j * OW + ox, m, acc[j]);
    }
}

/* The 3x3 and 5x5 band kernels at row stride 1 or 2 and row dilation 1: weights in registers,
 * rows in blocks of 4 and the rest as 3, 2 or 3 + 2 rows, so that a row runs alone (one FMA
 * chain, latency-bound) only in a band of one row. */
MR_DW_AVX512_INLINE void mr_dw512_fixed(const mr_conv_dw_geom *g, const float *buf, const float *w,
                                        float bias, float *y, int64_t rows, int k, int sh) {
    __m512 wv[25];
#pragma GCC unroll 25
    for (int i = 0; i < k * k; i++)
        wv[i] = _mm512_set1_ps(w[i]);
    const __m512 vb = _mm512_set1_ps(bias);
    const int64_t OW = g->OW, rs = g->rs, step = sh * rs;
    int64_t r = 0;
    for (; rows - r >= 6 || rows - r == 4; r += 4)
        mr_dw512_rows(buf + r * step, rs, g->coff, wv, k, sh, vb, y + r * OW, OW, 4);
    if (rows - r >= 3) {
        mr_dw512_rows(buf + r * step, rs, g->coff, wv, k, sh, vb, y + r * OW, OW, 3);
        r += 3;
    }
    if (rows - r == 2)
        mr_dw512_rows(buf + r * step, rs, g->coff, wv, k, sh, vb, y + r * OW, OW, 2);
    else if (rows - r == 1)
        mr_dw512_rows(buf + r * step, rs, g->coff, wv, k, sh, vb, y + r * OW, OW, 1);
}

static MR_DW_AVX512 void mr_dw512_k3s1(const mr_conv_dw_geom *g, const float *buf, const float *w,
                                       float bias, float *y, int64_t rows) {
    mr_dw512_fixed(g, buf, w, bias, y, rows, 3, 1);
}

static MR_DW_AVX512 void mr_dw512_k3s2(const mr_conv_dw_geom *g, const float *buf, const float *w,
                                       float bias, float *y, int64_t rows) {
    mr_dw512_fixed(g, buf, w, bias, y, rows, 3, 2);
}

static MR_DW_AVX512 void mr_dw512_k5s1(const mr_conv_dw_geom *g, const float *buf, const float *w,
                                       float bias, float *y, int64_t rows) {
    mr_dw512_fixed(g, buf, w, bias, y, rows, 5, 1);
}

static MR_DW_AVX512 void mr_dw512_k5s2(const mr_conv_dw_geom *g, const float *buf, const float *w,
                                       float bias, float *y, int64_t rows) {
    mr_dw512_fixed(g, buf, w, bias, y, rows, 5, 2);
}

/* Any kernel size: weights broadcast per tap, rows in blocks of 4 then 1. */
static MR_DW_AVX512 void mr_dw512_any(const mr_conv_dw_geom *g, const float *buf, const float *w,
                                      float bias, float *y, int64_t rows) {
    const int64_t OW = g->OW, step = g->sh * g->rs, rd = g->dh * g->rs;
    const int64_t kh = g->kh, kw = g->kw;
    const __m512 vb = _mm512_set1_ps(bias);
    for (int64_t r = 0; r < rows;) {
        const int R = rows - r >= 4 ? 4 : 1;
        const float *a = buf + r * step;
        float *yr = y + r * OW;
        for (int64_t ox = 0; ox < OW; ox += 16) {
            __m512 acc[4] = {vb, vb, vb, vb};
            for (int64_t ky = 0; ky < kh; ky++)
                for (int64_t kx = 0; kx < kw; kx++) {
                    const __m512 wk = _mm512_set1_ps(w[ky * kw + kx]);
                    const float *pk = a + ky * rd + g->coff[kx] + ox;
                    acc[0] = _mm512_fmadd_ps(wk, _mm512_loadu_ps(pk), acc[0]);
                    if (R == 4) {
                        acc[1] = _mm512_fmadd_ps(wk, _mm512_loadu_ps(pk + step), acc[1]);
                        acc[2] = _mm512_fmadd_ps(wk, _mm512_loadu_ps(pk + 2 * step), acc[2]);
                        acc[3] = _mm512_fmadd_ps(wk, _mm512_loadu_ps(pk + 3 * step), acc[3]);
                    }
                }
            for (int j = 0; j < R; j++)
                mr_dw512_store(yr + j * OW + ox, acc[j], OW - ox);
        }
        r += R;
    }
}

static MR_DW_AVX512 void mr_conv_dw_run_avx512(const mr_conv_params *p, const mr_conv_dw_geom *g,
                                               const float *x, const float *w, const float *bias,
                                               float *y, int64_t i0, int64_t i1) {
    mr_conv_dw_band_fn kern = mr_dw512_any;
    if (g->dh == 1 && (g->sh == 1 || g->sh == 2) && g->kh == g->kw && (g->kh == 3 || g->kh == 5)) {
        if (g->kh == 3)
            kern = g->sh == 1 ? mr_dw512_k3s1 : mr_dw512_k3s2;
        else
            kern = g->sh == 1 ? mr_dw512_k5s1 : mr_dw512_k5s2;
    }
    mr_conv_dw_drive(p, g, x, w, bias, y, i0, i1, mr_dw512_stage, kern);
}

/* ---- AVX2 + FMA: 8 output columns per vector ---- */

/* Staging (see mr_conv_dw_stage_fn) in plain C, vectorised by the compiler for AVX2, with an
 * explicit de-interleave for stride 2. */
static MR_DW_AVX2 void mr_dw256_stage(const mr_conv_dw_geom *g, const float *xc, const float *xend,
                                      float *buf, int64_t r0, int64_t nrows) {
    const int64_t sw = g->sw, W = g->W;
    for (int64_t i = 0; i < nrows; i++) {
        const int64_t iy = r0 + i - g->pt;
        const bool pad = iy < 0 || iy >= g->H || W == 0;
        for (int64_t ph = 0; ph < sw; ph++) {
            const int64_t lo = g->lo[ph], n = g->hi[ph] - lo;
            float *restrict dst = buf + i * g->rs + ph * g->q + lo;
            if (pad) {
                for (int64_t t = 0; t < n; t++)
                    dst[t] = 0.0f;
                continue;
            }
            /* index lo of phase ph holds input column lo*sw + ph - pl */
            const float *restrict src = xc + iy * W + lo * sw + ph - g->pl;
            int64_t t = 0;
            if (sw == 1) {
                for (; t < n; t++)
                    dst[t] = src[t];
            } else if (sw == 2) {
                /* 8 even values from 16 inputs: shuffle within 128-bit lanes, then order them */
                for (; t + 8 <= n && src + 2 * t + 16 <= xend; t += 8) {
                    const __m256 a = _mm256_loadu_ps(src + 2 * t);
                    const __m256 b = _mm256_loadu_ps(src + 2 * t + 8);
                    const __m256 e = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
                    _mm256_storeu_ps(dst + t, _mm256_castpd_ps(_mm256_permute4x64_pd(
                                                  _mm256_castps_pd(e), _MM_SHUFFLE(3, 1, 2, 0))));
                }
                for (; t < n; t++)
                    dst[t] = src[2 * t];
            } else {
                for (; t < n; t++)
                    dst[t] = src[t * sw];
            }
        }
    }
}

/* Store the first n (1..8) lanes of v at y, in 4-, 2- and 1-lane pieces (vmaskmovps stores are
 * slow on AMD CPUs). */
MR_DW_AVX2_INLINE void mr_dw256_store(float *y, __m256 v, int64_t n) {
    if (n >= 8) {
        _mm256_storeu_ps(y, v);
        return;
    }
    __m128 h = _mm256_castps256_ps128(v);
    if (n >= 4) {
        _mm_storeu_ps(y, h);
        h = _mm256_extractf128_ps(v, 1);
        y += 4, n -= 4;
    }
    if (n >= 2) {
        _mm_storel_pi((__m64 *)y, h);
        h = _mm_movehl_ps(h, h);
        y += 2, n -= 2;
    }
    if (n) _mm_store_ss(y, h);
}

/* k x k, row stride sh, row dilation 1, R rows (see mr_dw512_rows), 8 columns per vector. */
MR_DW_AVX2_INLINE void mr_dw256_rows(const float *a, int64_t rs, const int64_t *c, const float *w,
                                     int k, int sh, __m256 vb, float *y, int64_t OW, int R) {
    for (int64_t ox = 0; ox < OW; ox += 8) {
        __m256 acc[4];
#pragma GCC unroll 4
        for (int j = 0; j < R; j++)
            acc[j] = vb;
#pragma GCC unroll 16
        for (int i = 0; i < (R - 1) * sh + k; i++) {
            const float *pi = a + i * rs + ox;
#pragma GCC unroll 5
            for (int kx = 0; kx < k; kx++) {
                __m256 v = _mm256_loadu_ps(pi + c[kx]);
                __asm__("" : "+x"(v));
#pragma GCC unroll 4
                for (int j = 0; j < R; j++)
                    if (i - j * sh >= 0 && i - j * sh < k)
                        acc[j] = _mm256_fmadd_ps(_mm256_broadcast_ss(w + (i - j * sh) * k + kx), v,
                                                 acc[j]);
            }
        }
#pragma GCC unroll 4
        for (int j = 0; j < R; j++)
            mr_dw256_store(y + j * OW + ox, acc[j], OW - ox);
    }
}

/* The 3x3 and 5x5 band kernels (see mr_dw512_fixed). The weights are broadcast from memory at
 * each use (25 of them do not fit AVX2's 16 registers; for 3x3 the compiler keeps them). */
MR_DW_AVX2_INLINE void mr_dw256_fixed(const mr_conv_dw_geom *g, const float *buf, const float *w,
                                      float bias, float *y, int64_t rows, int k, int sh) {
    const __m256 vb = _mm256_set1_ps(bias);
    const int64_t OW = g->OW, rs = g->rs, step = sh * rs;
    int64_t r = 0;
    for (; rows - r >= 6 || rows - r == 4; r += 4)
        mr_dw256_rows(buf + r * step, rs, g->coff, w, k, sh, vb, y + r * OW, OW, 4);
    if (rows - r >= 3) {
        mr_dw256_rows(buf + r * step, rs, g->coff, w, k, sh, vb, y + r * OW, OW, 3);
        r += 3;
    }
    if (rows - r == 2)
        mr_dw256_rows(buf + r * step, rs, g->coff, w, k, sh, vb, y + r * OW, OW, 2);
    else if (rows - r == 1)
        mr_dw256_rows(buf + r * step, rs, g->coff, w, k, sh, vb, y + r * OW, OW, 1);
}

static MR_DW_AVX2 void mr_dw256_k3s1(const mr_conv_dw_geom *g, const float *buf, const float *w,
                                     float bias, float *y, int64_t rows) {
    mr_dw256_fixed(g, buf, w, bias, y, rows, 3, 1);
}

static MR_DW_AVX2 void mr_dw256_k3s2(const mr_conv_dw_geom *g, const float *buf, const float *w,
                                     float bias, float *y, int64_t rows) {
    mr_dw256_fixed(g, buf, w, bias, y, rows, 3, 2);
}

static MR_DW_AVX2 void mr_dw256_k5s1(const mr_conv_dw_geom *g, const float *buf, const float *w,
                                     float bias, float *y, int64_t rows) {
    mr_dw256_fixed(g, buf, w, bias, y, rows, 5, 1);
}

static MR_DW_AVX2 void mr_dw256_k5s2(const mr_conv_dw_geom *g, const float *buf, const float *w,
                                     float bias, float *y, int64_t rows) {
    mr_dw256_fixed(g, buf, w, bias, y, rows, 5, 2);
}

/* Any kernel size and stride: weights broadcast per tap, rows in blocks of 4 then 1. */
static MR_DW_AVX2 void mr_dw256_any(const mr_conv_dw_geom *g, const float *buf, const float *w,
                                    float bias, float *y, int64_t rows) {
    const int64_t OW = g->OW, step = g->sh * g->rs, rd = g->dh * g->rs;
    const int64_t kh = g->kh, kw = g->kw;
    const __m256 vb = _mm256_set1_ps(bias);
    for (int64_t r = 0; r < rows;) {
        const int R = rows - r >= 4 ? 4 : 1;
        const float *a = buf + r * step;
        float *yr = y + r * OW;
        for (int64_t ox = 0; ox < OW; ox += 8) {
            __m256 acc[4] = {vb, vb, vb, vb};
            for (int64_t ky = 0; ky < kh; ky++)
                for (int64_t kx = 0; kx < kw; kx++) {
                    const __m256 wk = _mm256_broadcast_ss(w + ky * kw + kx);
                    const float *pk = a + ky * rd + g->coff[kx] + ox;
                    acc[0] = _mm256_fmadd_ps(wk, _mm256_loadu_ps(pk), acc[0]);
                    if (R == 4) {
                        acc[1] = _mm256_fmadd_ps(wk, _mm256_loadu_ps(pk + step), acc[1]);
                        acc[2] = _mm256_fmadd_ps(wk, _mm256_loadu_ps(pk + 2 * step), acc[2]);
                        acc[3] = _mm256_fmadd_ps(wk, _mm256_loadu_ps(pk + 3 * step), acc[3]);
                    }
                }
            for (int j = 0; j < R; j++)
                mr_dw256_store(yr + j * OW + ox, acc[j], OW - ox);
        }
        r += R;
    }
}

static MR_DW_AVX2 void mr_conv_dw_run_avx2(const mr_conv_params *p, const mr_conv_dw_geom *g,
                                           const float *x, const float *w, const float *bias,
                                           float *y, int64_t i0, int64_t i1) {
    mr_conv_dw_band_fn kern = mr_dw256_any;
    if (g->dh == 1 && (g->sh == 1 || g->sh == 2) && g->kh == g->kw && (g->kh == 3 || g->kh == 5)) {
        if (g->kh == 3)
            kern = g->sh == 1 ? mr_dw256_k3s1 : mr_dw256_k3s2;
        else
            kern = g->sh == 1 ? mr_dw256_k5s1 : mr_dw256_k5s2;
    }
    mr_conv_dw_drive(p, g, x, w, bias, y, i0, i1, mr_dw256_stage, kern);
}

#endif /* MR_CONV_DW_X86 */

void mr_conv_dw_run(const mr_conv_params *p, const float *x, const float *w, const float *bias,
                    float *y, int64_t i0, int64_t i1) {
    const mr_conv_dw_isa isa = mr_conv_dw_isa_for(mr_conv_dw_cap);
    mr_conv_dw_geom g;
    if (isa == MR_CONV_DW_ISA_PORTABLE || !mr_conv_dw_geom_init(p, &g)) {
        mr_conv_dw_direct(p, x, w, bias, y, i0, i1);
        return;
    }
#if MR_CONV_DW_X86
    if (isa == MR_CONV_DW_ISA_AVX512)
        mr_conv_dw_run_avx512(p, &g, x, w, bias, y, i0, i1);
    else
        mr_conv_dw_run_avx2(p, &g, x, w, bias, y, i0, i1);
#endif
}
