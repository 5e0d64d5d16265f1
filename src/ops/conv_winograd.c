/*
 * conv_winograd.c - Winograd minimal filtering for 2-D Conv with a 3x3 kernel, stride 1, dilation
 * 1 and group 1: F(4x4, 3x3) (alpha = 6) and F(2x2, 3x3) (alpha = 4), after A. Lavin and S. Gray,
 * "Fast Algorithms for Convolutional Neural Networks", CVPR 2016 (arXiv:1509.09308), section 4.
 *
 * The output [OH, OW] of each image is cut into m x m tiles (m = 4 or 2, alpha = m + 2); tile
 * (ty, tx) reads the alpha x alpha input patch d starting at (m*ty - pad_top, m*tx - pad_left),
 * which reads zero outside the image. With g the 3x3 filter of one (output m, input c) pair:
 *
 *     U = G g G^T                                   once at plan time (mr_conv_wino_pack)
 *     V = B^T d B                                   per (input channel, tile)
 *     Mt[i][m][t] = sum_c U[i][m][c] * V[i][c][t]   one GEMM per position i < alpha^2
 *     Y = A^T Mt A + bias                           per (output channel, tile), cropped
 *
 * so the alpha^2 element-wise products of the paper become alpha^2 GEMMs M x C x tiles, with 2.25
 * (F(4,3)) or 4 (F(2,3)) multiplies per output and channel instead of 9. The matrices and the
 * choice of interpolation points are given above mr_wino_g6; G is applied in double at pack time.
 *
 * Layouts (float): packed = [16-float header: m] U[alpha^2][M][C]; the workspace holds one block of
 * up to `blk` tiles (tiles are numbered over the whole batch, row-major per image):
 * V[alpha^2][C][ld] and Mt[alpha^2][M][ld], ld >= blk a multiple of 16 (planes padded to an odd
 * number of cache lines). Blocks keep V and Mt in the caches and the workspace bounded whatever the
 * batch: at most ~1 MB, and 32 tiles' worth (more) only for layers with over ~220 (F(4,3)) or
 * ~500 (F(2,3)) channels in and out together. (4 MB blocks measured no faster on ResNets.)
 *
 * Memory: U replaces W. conv.c asks the session to free W once U is made (mr_node.drop_inputs),
 * and keeps Winograd for the node at every later input shape, where it stays valid.
 *
 * mr_conv_wino_supported and the choice between F(4,3) and F(2,3) use a cost model of the three
 * algorithms fitted to measurements (above mr_wino_cost).
 *
 * The input and output transforms work on a run ("segment") of up to VL tiles of one tile row, one
 * tile per SIMD lane: with lanes over tiles, every V row and Mt row is read or written as one
 * contiguous vector, and the B^T / A^T arithmetic is the same in every lane. The lanes' patches
 * overlap (tile j's row segment starts at column m*j), so each patch row is loaded as contiguous
 * vectors and de-interleaved with permutes (16 lanes with AVX-512, 8 with AVX2); the output rows
 * are re-interleaved the same way and stored with masks at the right edge. The portable path does
 * the same one tile at a time.
 */
#include <stdint.h>
#include <string.h>

#include "conv.h"
#include "conv_winograd.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define MR_WINO_X86 1
#else
#define MR_WINO_X86 0
#endif

/* Floats before U in the packed weights (holds m; keeps U 64-byte aligned). */
#define MR_WINO_HDR 16
/*
 * Tiles per block (mr_wino_geom_init). OpenBLAS (0.3.21, the Debian one minirt is built with) runs
 * GEMMs of at most ~10^6 multiply-adds in a small-matrix kernel that reads U_i where it is; larger
 * ones pack U_i first, for every block, which per element costs about as much as 25 tiles'
 * multiply-adds. Measured on ResNet shapes, 36 GEMMs of 256 x 15 x 256 took 0.7 ms and 36 of
 * 256 x 16 x 256 1.1 to 1.7 ms. So a block holds as many tiles as keep M * C * tiles within
 * MR_WINO_GEMM_SMALL and V + Mt within MR_WINO_BLOCK_BYTES; when that is under MR_WINO_MIN_SMALL
 * tiles (M * C > ~83000), the GEMMs pack anyway and the block is MR_WINO_BLOCK_BYTES, but at least
 * MR_WINO_MIN_BLOCK tiles to amortise the packing. With any GEMM the blocks stay correct; only
 * their speed depends on these numbers.
 */
#define MR_WINO_GEMM_SMALL 1000000
#define MR_WINO_BLOCK_BYTES ((int64_t)1 << 20)
#define MR_WINO_MIN_SMALL 12
#define MR_WINO_MIN_BLOCK 32
/* Tiles per segment at most (the AVX-512 vector width), and the V / Mt row alignment. */
#define MR_WINO_VL_MAX 16

/* ---- test hooks (conv_winograd.h); plain statics, read once per call ---- */

static bool mr_wino_portable_only, mr_wino_avx2_only;
static int mr_wino_tile_forced;

void mr_conv_wino_force_portable(bool on) {
    mr_wino_portable_only = on;
}

void mr_conv_wino_force_avx2(bool on) {
    mr_wino_avx2_only = on;
}

void mr_conv_wino_force_tile(int m) {
    mr_wino_tile_forced = m == 2 || m == 4 ? m : 0;
}

/* ---- geometry ---- */

typedef struct mr_wino_geom {
    int m, alpha;
    int64_t C, M, H, W, OH, OW, ph, pw; /* ph, pw: padding at the top and the left */
    int64_t TH, TW, T;                  /* tiles down, across, and in the whole batch */
    int64_t blk, ld;                    /* tiles per block; tile stride of V and Mt rows */
    int64_t vs, ms;                     /* plane strides of V and Mt: C * ld, M * ld */
} mr_wino_geom;

static int64_t mr_wino_div_up(int64_t a, int64_t b) {
    return (a + b - 1) / b;
}

static void mr_wino_geom_init(mr_wino_geom *g, const mr_conv_params *p, int m) {
    g->m = m;
    g->alpha = m + 2;
    g->C = p->C;
    g->M = p->M;
    g->H = p->in[0];
    g->W = p->in[1];
    g->OH = p->out[0];
    g->OW = p->out[1];
    g->ph = p->pad_begin[0];
    g->pw = p->pad_begin[1];
    g->TH = mr_wino_div_up(g->OH, m);
    g->TW = mr_wino_div_up(g->OW, m);
    g->T = p->N * g->TH * g->TW;
    int64_t a2 = g->alpha * g->alpha, per_tile = a2 * (g->C + g->M) * (int64_t)sizeof(float);
    int64_t blk = MR_WINO_GEMM_SMALL / (g->M * g->C > 0 ? g->M * g->C : 1);
    if (blk * per_tile > MR_WINO_BLOCK_BYTES) blk = MR_WINO_BLOCK_BYTES / per_tile;
    if (blk < MR_WINO_MIN_SMALL) {
        blk = MR_WINO_BLOCK_BYTES / per_tile;
        if (blk < MR_WINO_MIN_BLOCK) blk = MR_WINO_MIN_BLOCK;
    }
    /* blocks of equal size: every block repacks all of U in the GEMMs, so none should be tiny */
    int64_t nblk = g->T > 0 ? mr_wino_div_up(g->T, blk) : 1;
    blk = mr_wino_div_up(g->T, nblk);
    if (blk < 1) blk = 1;
    g->blk = blk;
    g->ld = mr_wino_div_up(blk, MR_WINO_VL_MAX) * MR_WINO_VL_MAX;
    /* An odd number of cache lines between planes: the alpha^2 rows a transform touches at once
     * (one per plane) then fall into different L1 sets instead of all into one. */
    g->vs = g->C * g->ld + (g->C * g->ld / 16 % 2 ? 0 : 16);
    g->ms = g->M * g->ld + (g->M * g->ld / 16 % 2 ? 0 : 16);
}

/*
 * Estimated cost of F(m x m, 3x3) and of im2col + GEMM on p, in multiply-adds of a GEMM running
 * near peak:
 *   - the GEMMs: alpha^2 M C T multiply-adds for T tiles;
 *   - each block's GEMMs read all of U (alpha^2 M C elements): MR_WINO_U_COST_CACHE per element
 *     while U fits in MR_WINO_U_CACHE_BYTES (a share of L2 + L3), MR_WINO_U_COST_MEM beyond;
 *   - the transforms: MR_WINO_T_COST per element of V and Mt, and MR_WINO_CALL_COST per GEMM call;
 *   - im2col + GEMM: MR_WINO_IM2COL_COST per multiply-add of its 9 M C P (the copy into col, and a
 *     GEMM with K = 9C that runs further from peak), plus MR_WINO_IM2COL_FIXED per run.
 * The constants were fitted to one-thread timings on Zen 4 with OpenBLAS 0.3.21 of 70 layer
 * shapes (ResNet, DenseNet, GoogLeNet, SqueezeNet and U-Net 3x3 layers, square layers of 16 to 512
 * channels at 4x4 to 56x56, batches 1 to 8). With them the choice was within 10% of the fastest of
 * the three on all but 4 shapes (at worst 1.33x, on near-ties between F(4,3) and F(2,3)).
 */
#define MR_WINO_U_COST_CACHE 4.0
#define MR_WINO_U_COST_MEM 30.0
#define MR_WINO_U_CACHE_BYTES ((double)(8 << 20))
#define MR_WINO_T_COST 2.0
#define MR_WINO_CALL_COST 1e4
#define MR_WINO_IM2COL_COST 1.4
#define MR_WINO_IM2COL_FIXED 3e5

static double mr_wino_cost(const mr_conv_params *p, int m) {
    mr_wino_geom g;
    mr_wino_geom_init(&g, p, m);
    const double a2 = g.alpha * g.alpha, mc = (double)g.M * (double)g.C, T = (double)g.T;
    const double nblk = (double)mr_wino_div_up(g.T, g.blk);
    const double u =
        a2 * mc * sizeof(float) > MR_WINO_U_CACHE_BYTES ? MR_WINO_U_COST_MEM : MR_WINO_U_COST_CACHE;
    return a2 * mc * (T + nblk * u) + a2 * (double)(g.C + g.M) * T * MR_WINO_T_COST +
           a2 * nblk * MR_WINO_CALL_COST;
}

static double mr_wino_im2col_cost(const mr_conv_params *p) {
    return MR_WINO_IM2COL_COST * 9.0 * (double)p->M * (double)p->C * (double)p->N * (double)p->P +
           MR_WINO_IM2COL_FIXED;
}

/* The tile size for p: the cheaper of F(4x4, 3x3) and F(2x2, 3x3) by mr_wino_cost. */
static int mr_wino_tile(const mr_conv_params *p) {
    if (mr_wino_tile_forced) return mr_wino_tile_forced;
    return mr_wino_cost(p, 4) <= mr_wino_cost(p, 2) ? 4 : 2;
}

/*
 * Winograd is used when its estimated cost is below 90% of im2col + GEMM's (a margin for the
 * model's error on near-ties). That rejects, for example, ResNet's 512-channel 7x7 layers at batch
 * 1, whose U (16.8 MB even for F(2,3)) would be read from memory to serve 16 tiles, and layers
 * with a handful of outputs.
 */
bool mr_conv_wino_supported(const mr_conv_params *p) {
    if (p->nsp != 2 || p->group != 1 || p->N < 1 || p->C < 1 || p->M < 1) return false;
    for (int i = 0; i < 2; i++)
        if (p->k[i] != 3 || p->s[i] != 1 || p->d[i] != 1 || p->out[i] < 1) return false;
    /* U's size: GEMM extents (M, C, tiles per block) then stay far below INT_MAX */
    if (p->C * p->M > ((int64_t)1 << 30) / 36) return false;
    double w = mr_wino_cost(p, 4), w2 = mr_wino_cost(p, 2);
    return (w2 < w ? w2 : w) <= 0.9 * mr_wino_im2col_cost(p);
}

size_t mr_conv_wino_packed_bytes(const mr_conv_params *p) {
    int64_t a = mr_wino_tile(p) + 2;
    return (size_t)(MR_WINO_HDR + a * a * p->M * p->C) * sizeof(float);
}

/*
 * G (alpha x 3) of F(4x4, 3x3) with the points 0, 1, -1, 1/2, -2 and infinity, and of F(2x2, 3x3)
 * with 0, 1, -1 and infinity (Lavin and Gray's section 4.1). B^T and A^T are written out in the
 * transform kernels below:
 *
 *   F(4x4, 3x3)                                         F(2x2, 3x3)
 *   B^T = | 1  -3/2   -2   3/2    1  0 |  A^T = | 1  1  1    1   1  0 |   B^T = | 1  0 -1  0 |
 *         | 0   -1   1/2   5/2    1  0 |        | 0  1 -1  1/2  -2  0 |         | 0  1  1  0 |
 *         | 0    1  -5/2   1/2    1  0 |        | 0  1  1  1/4   4  0 |         | 0 -1  1  0 |
 *         | 0   -2    -1     2    1  0 |        | 0  1 -1  1/8  -8  1 |         | 0  1  0 -1 |
 *         | 0  1/2    -1  -1/2    1  0 |                                  A^T = | 1  1  1  0 |
 *         | 0    1  -3/2    -2  3/2  1 |                                        | 0  1 -1 -1 |
 *
 * The usual points 0, +-1, +-2 (Lavin and Gray's) give B^T and A^T with a little more symmetry,
 * but replacing 2 by 1/2 (Barabasz et al., "Error analysis and improving the accuracy of Winograd
 * convolution for deep neural networks", 2018) balances the magnitudes: measured over He-scaled
 * 3x3 layers of 64 to 256 channels, the largest fp32 error drops 2-3x (to about 2e-6 of max|y|).
 */
static const double mr_wino_g6[6][3] = {
    {1, 0, 0},
    {1.0 / 3, 1.0 / 3, 1.0 / 3},
    {-1.0 / 3, 1.0 / 3, -1.0 / 3},
    {-16.0 / 15, -8.0 / 15, -4.0 / 15},
    {1.0 / 15, -2.0 / 15, 4.0 / 15},
    {0, 0, 1},
};
static const double mr_wino_g4[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};

/* U[k*alpha + l][m][c] = (G g G^T)[k][l] for g = W[m, c, :, :], in double then rounded. */
void mr_conv_wino_pack(const mr_conv_params *p, const float *w, float *packed) {
    const int m = mr_wino_tile(p), a = m + 2;
    const double(*G)[3] = m == 4 ? mr_wino_g6 : mr_wino_g4;
    const int64_t M = p->M, C = p->C, plane = M * C;
    memset(packed, 0, MR_WINO_HDR * sizeof(float));
    packed[0] = (float)m;
    float *U = packed + MR_WINO_HDR;
    for (int64_t om = 0; om < M; om++)
        for (int64_t c = 0; c < C; c++) {
            const float *g = w + (om * C + c) * 9;
            double gg[6][3]; /* G g */
            for (int k = 0; k < a; k++)
                for (int j = 0; j < 3; j++)
                    gg[k][j] = G[k][0] * g[j] + G[k][1] * g[3 + j] + G[k][2] * g[6 + j];
            for (int k = 0; k < a; k++)
                for (int l = 0; l < a; l++) {
                    double u = gg[k][0] * G[l][0] + gg[k][1] * G[l][1] + gg[k][2] * G[l][2];
                    U[(k * a + l) * plane + om * C + c] = (float)u;
                }
        }
}

static size_t mr_wino_workspace_m(const mr_conv_params *p, int m) {
    mr_wino_geom g;
    mr_wino_geom_init(&g, p, m);
    int64_t a2 = g.alpha * g.alpha;
    return (size_t)(a2 * (g.vs + g.ms)) * sizeof(float);
}

size_t mr_conv_wino_workspace(const mr_conv_params *p) {
    return mr_wino_workspace_m(p, mr_wino_tile(p));
}

size_t mr_conv_wino_workspace_packed(const mr_conv_params *p, const float *packed) {
    return mr_wino_workspace_m(p, packed[0] == 2.0f ? 2 : 4);
}

/*
 * A segment kernel transforms the n <= vl tiles (ty, tx .. tx+n-1) of one image, for one channel:
 *   input:  xc = the input channel [H][W]; v = V + c*ld + (tile - block start);
 *           writes v[i*vs + j] for position i and tile j < n
 *   output: mt = Mt + m*ld + (tile - block start); yc = the output channel [OH][OW]; b = its bias
 */
typedef void (*mr_wino_in_fn)(const mr_wino_geom *g, const float *xc, int64_t ty, int64_t tx, int n,
                              float *v);
typedef void (*mr_wino_out_fn)(const mr_wino_geom *g, const float *mt, float b, int64_t ty,
                               int64_t tx, int n, float *yc);

typedef struct mr_wino_kernels {
    int vl; /* tiles per segment */
    mr_wino_in_fn in4, in2;
    mr_wino_out_fn out4, out2;
} mr_wino_kernels;

/* ---- portable path: one tile at a time ---- */

/* o = B^T d over 6 values at stride s (F(4x4, 3x3)), with c = d4 - d2, e = d3 - d1 and
 * h = d4 + (d2 + d3)/2 shared between rows. */
static void mr_wino_bt6(const float *d, int s, float *o, int os) {
    float d0 = d[0], d1 = d[s], d2 = d[2 * s], d3 = d[3 * s], d4 = d[4 * s], d5 = d[5 * s];
    float c = d4 - d2, e = d3 - d1, h = 0.5f * (d2 + d3) + d4;
    o[0] = (d0 - 2.0f * d2) + (1.5f * e + d4);
    o[os] = h + (2.0f * d3 - d1);
    o[2 * os] = h + (d1 - 3.0f * d2);
    o[3 * os] = 2.0f * e + c;
    o[4 * os] = c - 0.5f * e;
    o[5 * os] = (d5 - 2.0f * d3) + (1.5f * c + d1);
}

/* o = A^T v over 6 values at stride s (F(4x4, 3x3)). */
static void mr_wino_at6(const float *v, int s, float *o, int os) {
    float s12 = v[s] + v[2 * s], d12 = v[s] - v[2 * s], v3 = v[3 * s], v4 = v[4 * s];
    o[0] = v[0] + s12 + (v3 + v4);
    o[os] = 0.5f * v3 + (d12 - 2.0f * v4);
    o[2 * os] = 0.25f * v3 + (4.0f * v4 + s12);
    o[3 * os] = (0.125f * v3 + (d12 - 8.0f * v4)) + v[5 * s];
}

/* o = B^T d over 4 values at stride s (F(2x2, 3x3)). */
static void mr_wino_bt4(const float *d, int s, float *o, int os) {
    float d0 = d[0], d1 = d[s], d2 = d[2 * s], d3 = d[3 * s];
    o[0] = d0 - d2;
    o[os] = d1 + d2;
    o[2 * os] = d2 - d1;
    o[3 * os] = d1 - d3;
}

/* o = A^T v over 4 values at stride s (F(2x2, 3x3)). */
static void mr_wino_at4(const float *v, int s, float *o, int os) {
    o[0] = v[0] + v[s] + v[2 * s];
    o[os] = v[s] - v[2 * s] - v[3 * s];
}

/* V for each tile: d = the alpha x alpha patch (zero outside the image), V = B^T d B. */
static void mr_wino_in_c(const mr_wino_geom *g, const float *xc, int64_t ty, int64_t tx, int n,
                         float *v) {
    const int m = g->m, a = g->alpha;
    void (*bt)(const float *, int, float *, int) = m == 4 ? mr_wino_bt6 : mr_wino_bt4;
    const int64_t H = g->H, W = g->W, iy0 = ty * m - g->ph;
    for (int j = 0; j < n; j++) {
        const int64_t ix0 = (tx + j) * m - g->pw;
        float d[6][6], e[6][6], o[6][6];
        for (int r = 0; r < a; r++)
            for (int q = 0; q < a; q++) {
                int64_t iy = iy0 + r, ix = ix0 + q;
                d[r][q] = iy >= 0 && iy < H && ix >= 0 && ix < W ? xc[iy * W + ix] : 0.0f;
            }
        for (int r = 0; r < a; r++)
            bt(d[r], 1, e[r], 1); /* e = d B (rows) */
        for (int l = 0; l < a; l++)
            bt(&e[0][l], 6, &o[0][l], 6); /* o = B^T e (columns) */
        for (int k = 0; k < a; k++)
            for (int l = 0; l < a; l++)
                v[(k * a + l) * g->vs + j] = o[k][l];
    }
}

/* Y = A^T Mt A + bias for each tile and output channel, cropped to the output. */
static void mr_wino_out_c(const mr_wino_geom *g, const float *mt, float b, int64_t ty, int64_t tx,
                          int n, float *yc) {
    const int m = g->m, a = g->alpha;
    void (*at)(const float *, int, float *, int) = m == 4 ? mr_wino_at6 : mr_wino_at4;
    const int64_t OH = g->OH, OW = g->OW;
    for (int j = 0; j < n; j++) {
        const int64_t oy0 = ty * m, ox0 = (tx + j) * m;
        float s[6][6], e[4][6], o[4][4];
        for (int i = 0; i < a * a; i++)
            s[i / a][i % a] = mt[i * g->ms + j];
        for (int l = 0; l < a; l++)
            at(&s[0][l], 6, &e[0][l], 6); /* e = A^T s (columns) */
        for (int r = 0; r < m; r++)
            at(e[r], 1, o[r], 1); /* o = e A (rows) */
        for (int r = 0; r < m && oy0 + r < OH; r++)
            for (int q = 0; q < m && ox0 + q < OW; q++)
                yc[(oy0 + r) * OW + ox0 + q] = o[r][q] + b;
    }
}

static const mr_wino_kernels mr_wino_portable = {8, mr_wino_in_c, mr_wino_in_c, mr_wino_out_c,
                                                 mr_wino_out_c};

#if MR_WINO_X86

/* ---- AVX-512: 16 tiles per segment ---- */

#define MR_AVX512 __attribute__((target("avx512f")))

/* The lanes of a 16-lane access starting at element off of an array of len elements that fall
 * inside it: bits [max(0, -off), len - off), clipped to 16 lanes. */
static inline __mmask16 mr_wino_mask16(int64_t off, int64_t len) {
    int64_t lo = off < 0 ? -off : 0, hi = len - off;
    if (lo > 16) lo = 16;
    if (hi > 16) hi = 16;
    if (hi <= lo) return 0;
    return (__mmask16)(((1u << hi) - 1u) & ~((1u << lo) - 1u));
}

/* The address p + off for a masked access that may lie partly outside p's array (the lanes outside
 * are masked off and never touched); computed as an integer so no out-of-range pointer is formed
 * by pointer arithmetic. */
static inline const float *mr_wino_addr(const float *p, int64_t off) {
    return (const float *)((uintptr_t)p + (uintptr_t)(off * (int64_t)sizeof(float)));
}

MR_AVX512 static inline void mr_wino_bt6_avx512(const __m512 *d, __m512 *o) {
    const __m512 half = _mm512_set1_ps(0.5f), one5 = _mm512_set1_ps(1.5f),
                 two = _mm512_set1_ps(2.0f), three = _mm512_set1_ps(3.0f);
    __m512 c = _mm512_sub_ps(d[4], d[2]), e = _mm512_sub_ps(d[3], d[1]);
    __m512 h = _mm512_fmadd_ps(half, _mm512_add_ps(d[2], d[3]), d[4]);
    o[0] = _mm512_add_ps(_mm512_fnmadd_ps(two, d[2], d[0]), _mm512_fmadd_ps(one5, e, d[4]));
    o[1] = _mm512_add_ps(h, _mm512_fmsub_ps(two, d[3], d[1]));
    o[2] = _mm512_add_ps(h, _mm512_fnmadd_ps(three, d[2], d[1]));
    o[3] = _mm512_fmadd_ps(two, e, c);
    o[4] = _mm512_fnmadd_ps(half, e, c);
    o[5] = _mm512_add_ps(_mm512_fnmadd_ps(two, d[3], d[5]), _mm512_fmadd_ps(one5, c, d[1]));
}

MR_AVX512 static inline void mr_wino_at6_avx512(const __m512 *v, __m512 *o) {
    __m512 s12 = _mm512_add_ps(v[1], v[2]), d12 = _mm512_sub_ps(v[1], v[2]);
    o[0] = _mm512_add_ps(_mm512_add_ps(v[0], s12), _mm512_add_ps(v[3], v[4]));
    o[1] = _mm512_fmadd_ps(_mm512_set1_ps(0.5f), v[3],
                           _mm512_fnmadd_ps(_mm512_set1_ps(2.0f), v[4], d12));
    o[2] = _mm512_fmadd_ps(_mm512_set1_ps(0.25f), v[3],
                           _mm512_fmadd_ps(_mm512_set1_ps(4.0f), v[4], s12));
    o[3] = _mm512_add_ps(_mm512_fmadd_ps(_mm512_set1_ps(0.125f), v[3],
                                         _mm512_fnmadd_ps(_mm512_set1_ps(8.0f), v[4], d12)),
                         v[5]);
}

MR_AVX512 static inline void mr_wino_bt4_avx512(const __m512 *d, __m512 *o) {
    o[0] = _mm512_sub_ps(d[0], d[2]);
    o[1] = _mm512_add_ps(d[1], d[2]);
    o[2] = _mm512_sub_ps(d[2], d[1]);
    o[3] = _mm512_sub_ps(d[1], d[3]);
}

MR_AVX512 static inline void mr_wino_at4_avx512(const __m512 *v, __m512 *o) {
    o[0] = _mm512_add_ps(_mm512_add_ps(v[0], v[1]), v[2]);
    o[1] = _mm512_sub_ps(_mm512_sub_ps(v[1], v[2]), v[3]);
}

/*
 * Input transform, F(4x4, 3x3), 16 tiles of one channel: for each patch row r, the row segment
 * x[iy][ix0 .. ix0+79] is loaded as R0..R4 (masked: zero outside the image), and column q of the
 * patches, d_q[j] = x[iy][ix0 + 4j + q], is picked out with permutes: for q < 4, lanes 0-7 from
 * (R0, R1) and 8-15 from (R2, R3) with indices q + 4j; d_4 and d_5 are d_0 and d_1 moved down one
 * lane with R4's first two elements shifted in. Then e_r = d B per row and V = B^T e per column.
 */
MR_AVX512 static void mr_wino_in4_avx512(const mr_wino_geom *g, const float *xc, int64_t ty,
                                         int64_t tx, int n, float *v) {
    const int64_t H = g->H, W = g->W, iy0 = ty * 4 - g->ph, ix0 = tx * 4 - g->pw;
    const __mmask16 kn = (__mmask16)((1u << n) - 1u);
    __mmask16 kr[5];
    for (int q = 0; q < 5; q++)
        kr[q] = mr_wino_mask16(ix0 + 16 * q, W);
    __m512i pick[4];
    for (int q = 0; q < 4; q++)
        pick[q] = _mm512_setr_epi32(q, q + 4, q + 8, q + 12, q + 16, q + 20, q + 24, q + 28, 0, 0,
                                    0, 0, 0, 0, 0, 0);
    const __m512i next0 = _mm512_setr_epi32(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
    const __m512i next1 = _mm512_setr_epi32(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17);
    __m512 e[6][6];
    for (int r = 0; r < 6; r++) {
        const int64_t iy = iy0 + r;
        if (iy < 0 || iy >= H) {
            for (int l = 0; l < 6; l++)
                e[r][l] = _mm512_setzero_ps();
            continue;
        }
        const float *row = xc + iy * W;
        __m512 R[5], d[6];
        for (int q = 0; q < 5; q++)
            R[q] = _mm512_maskz_loadu_ps(kr[q], mr_wino_addr(row, ix0 + 16 * q));
        for (int q = 0; q < 4; q++) {
            __m512 lo = _mm512_permutex2var_ps(R[0], pick[q], R[1]);
            __m512 hi = _mm512_permutex2var_ps(R[2], pick[q], R[3]);
            d[q] = _mm512_shuffle_f32x4(lo, hi, 0x44);
        }
        d[4] = _mm512_permutex2var_ps(d[0], next0, R[4]);
        d[5] = _mm512_permutex2var_ps(d[1], next1, R[4]);
        mr_wino_bt6_avx512(d, e[r]);
    }
    for (int l = 0; l < 6; l++) {
        __m512 col[6], o[6];
        for (int r = 0; r < 6; r++)
            col[r] = e[r][l];
        mr_wino_bt6_avx512(col, o);
        for (int k = 0; k < 6; k++)
            _mm512_mask_storeu_ps(v + (k * 6 + l) * g->vs, kn, o[k]);
    }
}

/* Input transform, F(2x2, 3x3), 16 tiles: as above with patch columns d_q[j] = x[iy][ix0 + 2j +
 * q]: d_0, d_1 from (R0, R1), and d_2, d_3 are d_0, d_1 moved down one lane with R2's first two
 * elements shifted in. */
MR_AVX512 static void mr_wino_in2_avx512(const mr_wino_geom *g, const float *xc, int64_t ty,
                                         int64_t tx, int n, float *v) {
    const int64_t H = g->H, W = g->W, iy0 = ty * 2 - g->ph, ix0 = tx * 2 - g->pw;
    const __mmask16 kn = (__mmask16)((1u << n) - 1u);
    __mmask16 kr[3];
    for (int q = 0; q < 3; q++)
        kr[q] = mr_wino_mask16(ix0 + 16 * q, W);
    const __m512i even =
        _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd =
        _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    const __m512i next0 = _mm512_setr_epi32(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
    const __m512i next1 = _mm512_setr_epi32(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17);
    __m512 e[4][4];
    for (int r = 0; r < 4; r++) {
        const int64_t iy = iy0 + r;
        if (iy < 0 || iy >= H) {
            for (int l = 0; l < 4; l++)
                e[r][l] = _mm512_setzero_ps();
            continue;
        }
        const float *row = xc + iy * W;
        __m512 R[3], d[4];
        for (int q = 0; q < 3; q++)
            R[q] = _mm512_maskz_loadu_ps(kr[q], mr_wino_addr(row, ix0 + 16 * q));
        d[0] = _mm512_permutex2var_ps(R[0], even, R[1]);
        d[1] = _mm512_permutex2var_ps(R[0], odd, R[1]);
        d[2] = _mm512_permutex2var_ps(d[0], next0, R[2]);
        d[3] = _mm512_permutex2var_ps(d[1], next1, R[2]);
        mr_wino_bt4_avx512(d, e[r]);
    }
    for (int l = 0; l < 4; l++) {
        __m512 col[4] = {e[0][l], e[1][l], e[2][l], e[3][l]}, o[4];
        mr_wino_bt4_avx512(col, o);
        for (int k = 0; k < 4; k++)
            _mm512_mask_storeu_ps(v + (k * 4 + l) * g->vs, kn, o[k]);
    }
}

/*
 * Output transform, F(4x4, 3x3), 16 tiles: per output channel, s = A^T Mt per column and
 * y_b = (s A)[.][b] + bias per row, y_b[j] being output column 4j + b of the segment. The four
 * y_b are interleaved into 64 contiguous outputs: P = (y0, y1) and (y2, y3) zipped pairwise,
 * then the pairs zipped again; the right edge is stored with masks, rows below OH are skipped.
 */
MR_AVX512 static void mr_wino_out4_avx512(const mr_wino_geom *g, const float *mt, float b,
                                          int64_t ty, int64_t tx, int n, float *yc) {
    const int64_t OH = g->OH, OW = g->OW, oy0 = ty * 4, ox0 = tx * 4;
    const __mmask16 kn = (__mmask16)((1u << n) - 1u);
    int64_t w = OW - ox0 < 4 * n ? OW - ox0 : 4 * n;
    __mmask16 kw[4];
    for (int q = 0; q < 4; q++)
        kw[q] = mr_wino_mask16(16 * q, w);
    const __m512i zip_lo =
        _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i zip_hi =
        _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const __m512i pair_lo =
        _mm512_setr_epi32(0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23);
    const __m512i pair_hi =
        _mm512_setr_epi32(8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31);
    __m512 s[4][6];
    for (int l = 0; l < 6; l++) {
        __m512 col[6], o[4];
        for (int k = 0; k < 6; k++)
            col[k] = _mm512_maskz_loadu_ps(kn, mt + (k * 6 + l) * g->ms);
        mr_wino_at6_avx512(col, o);
        for (int r = 0; r < 4; r++)
            s[r][l] = o[r];
    }
    const __m512 bv = _mm512_set1_ps(b);
    for (int r = 0; r < 4 && oy0 + r < OH; r++) {
        __m512 yb[4];
        mr_wino_at6_avx512(s[r], yb);
        for (int q = 0; q < 4; q++)
            yb[q] = _mm512_add_ps(yb[q], bv);
        __m512 p01l = _mm512_permutex2var_ps(yb[0], zip_lo, yb[1]);
        __m512 p23l = _mm512_permutex2var_ps(yb[2], zip_lo, yb[3]);
        __m512 p01h = _mm512_permutex2var_ps(yb[0], zip_hi, yb[1]);
        __m512 p23h = _mm512_permutex2var_ps(yb[2], zip_hi, yb[3]);
        __m512 out[4] = {_mm512_permutex2var_ps(p01l, pair_lo, p23l),
                         _mm512_permutex2var_ps(p01l, pair_hi, p23l),
                         _mm512_permutex2var_ps(p01h, pair_lo, p23h),
                         _mm512_permutex2var_ps(p01h, pair_hi, p23h)};
        float *yr = yc + (oy0 + r) * OW + ox0;
        for (int q = 0; q < 4 && kw[q]; q++)
            _mm512_mask_storeu_ps(yr + 16 * q, kw[q], out[q]);
    }
}

/* Output transform, F(2x2, 3x3), 16 tiles: as above with two y_b zipped into 32 outputs. */
MR_AVX512 static void mr_wino_out2_avx512(const mr_wino_geom *g, const float *mt, float b,
                                          int64_t ty, int64_t tx, int n, float *yc) {
    const int64_t OH = g->OH, OW = g->OW, oy0 = ty * 2, ox0 = tx * 2;
    const __mmask16 kn = (__mmask16)((1u << n) - 1u);
    int64_t w = OW - ox0 < 2 * n ? OW - ox0 : 2 * n;
    const __mmask16 kw[2] = {mr_wino_mask16(0, w), mr_wino_mask16(16, w)};
    const __m512i zip_lo =
        _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i zip_hi =
        _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    __m512 s[2][4];
    for (int l = 0; l < 4; l++) {
        __m512 col[4], o[2];
        for (int k = 0; k < 4; k++)
            col[k] = _mm512_maskz_loadu_ps(kn, mt + (k * 4 + l) * g->ms);
        mr_wino_at4_avx512(col, o);
        s[0][l] = o[0];
        s[1][l] = o[1];
    }
    const __m512 bv = _mm512_set1_ps(b);
    for (int r = 0; r < 2 && oy0 + r < OH; r++) {
        __m512 yb[2];
        mr_wino_at4_avx512(s[r], yb);
        yb[0] = _mm512_add_ps(yb[0], bv);
        yb[1] = _mm512_add_ps(yb[1], bv);
        float *yr = yc + (oy0 + r) * OW + ox0;
        _mm512_mask_storeu_ps(yr, kw[0], _mm512_permutex2var_ps(yb[0], zip_lo, yb[1]));
        if (kw[1])
            _mm512_mask_storeu_ps(yr + 16, kw[1], _mm512_permutex2var_ps(yb[0], zip_hi, yb[1]));
    }
}

static const mr_wino_kernels mr_wino_avx512 = {16, mr_wino_in4_avx512, mr_wino_in2_avx512,
                                               mr_wino_out4_avx512, mr_wino_out2_avx512};

/* ---- AVX2 + FMA: 8 tiles per segment ---- */

#define MR_AVX2 __attribute__((target("avx2,fma")))

/* As mr_wino_mask16 for an 8-lane access, as an AVX2 lane mask (all ones in the lanes inside). */
MR_AVX2 static inline __m256i mr_wino_mask8(int64_t off, int64_t len) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    int64_t lo = off < 0 ? -off : 0, hi = len - off;
    if (lo > 8) lo = 8;
    if (hi > 8) hi = 8;
    if (hi < lo) hi = lo;
    __m256i ge = _mm256_cmpgt_epi32(lane, _mm256_set1_epi32((int)lo - 1));
    __m256i lt = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)hi), lane);
    return _mm256_and_si256(ge, lt);
}

/* Store the lanes of v that k selects: a plain store when all are (masked stores are slow on some
 * AMD cores). */
MR_AVX2 static inline void mr_wino_store8(float *p, __m256i k, bool all, __m256 v) {
    if (all)
        _mm256_storeu_ps(p, v);
    else
        _mm256_maskstore_ps(p, k, v);
}

MR_AVX2 static inline void mr_wino_bt6_avx2(const __m256 *d, __m256 *o) {
    const __m256 half = _mm256_set1_ps(0.5f), one5 = _mm256_set1_ps(1.5f),
                 two = _mm256_set1_ps(2.0f), three = _mm256_set1_ps(3.0f);
    __m256 c = _mm256_sub_ps(d[4], d[2]), e = _mm256_sub_ps(d[3], d[1]);
    __m256 h = _mm256_fmadd_ps(half, _mm256_add_ps(d[2], d[3]), d[4]);
    o[0] = _mm256_add_ps(_mm256_fnmadd_ps(two, d[2], d[0]), _mm256_fmadd_ps(one5, e, d[4]));
    o[1] = _mm256_add_ps(h, _mm256_fmsub_ps(two, d[3], d[1]));
    o[2] = _mm256_add_ps(h, _mm256_fnmadd_ps(three, d[2], d[1]));
    o[3] = _mm256_fmadd_ps(two, e, c);
    o[4] = _mm256_fnmadd_ps(half, e, c);
    o[5] = _mm256_add_ps(_mm256_fnmadd_ps(two, d[3], d[5]), _mm256_fmadd_ps(one5, c, d[1]));
}

MR_AVX2 static inline void mr_wino_at6_avx2(const __m256 *v, __m256 *o) {
    __m256 s12 = _mm256_add_ps(v[1], v[2]), d12 = _mm256_sub_ps(v[1], v[2]);
    o[0] = _mm256_add_ps(_mm256_add_ps(v[0], s12), _mm256_add_ps(v[3], v[4]));
    o[1] = _mm256_fmadd_ps(_mm256_set1_ps(0.5f), v[3],
                           _mm256_fnmadd_ps(_mm256_set1_ps(2.0f), v[4], d12));
    o[2] = _mm256_fmadd_ps(_mm256_set1_ps(0.25f), v[3],
                           _mm256_fmadd_ps(_mm256_set1_ps(4.0f), v[4], s12));
    o[3] = _mm256_add_ps(_mm256_fmadd_ps(_mm256_set1_ps(0.125f), v[3],
                                         _mm256_fnmadd_ps(_mm256_set1_ps(8.0f), v[4], d12)),
                         v[5]);
}

MR_AVX2 static inline void mr_wino_bt4_avx2(const __m256 *d, __m256 *o) {
    o[0] = _mm256_sub_ps(d[0], d[2]);
    o[1] = _mm256_add_ps(d[1], d[2]);
    o[2] = _mm256_sub_ps(d[2], d[1]);
    o[3] = _mm256_sub_ps(d[1], d[3]);
}

MR_AVX2 static inline void mr_wino_at4_avx2(const __m256 *v, __m256 *o) {
    o[0] = _mm256_add_ps(_mm256_add_ps(v[0], v[1]), v[2]);
    o[1] = _mm256_sub_ps(_mm256_sub_ps(v[1], v[2]), v[3]);
}

/*
 * The patch columns of one row for 8 tiles, d_q[j] = row[ix0 + m*j + q] (zero outside [0, W)), from
 * masked loads R0.. of row[ix0 + 8k ..] and permutes. For m = 4, R0..R3 hold tiles 0-7's first four
 * columns, two tiles per register: swapping 128-bit halves and a 4x4 transpose within each half
 * give d_0..d_3. For m = 2, d_0 and d_1 are the even and odd elements of R0, R1. The last two
 * columns are d_0 and d_1 moved down one lane, with the next register's first two elements in
 * lane 7.
 */
MR_AVX2 static inline void mr_wino_cols_avx2(const float *row, int64_t ix0, const __m256i *kr,
                                             int m, __m256 *d) {
    const int nr = m == 4 ? 5 : 3;
    __m256 R[5];
    for (int k = 0; k < nr; k++)
        R[k] = _mm256_maskload_ps(mr_wino_addr(row, ix0 + 8 * k), kr[k]);
    if (m == 4) {
        __m256 a0 = _mm256_permute2f128_ps(R[0], R[2], 0x20),
               a1 = _mm256_permute2f128_ps(R[0], R[2], 0x31);
        __m256 a2 = _mm256_permute2f128_ps(R[1], R[3], 0x20),
               a3 = _mm256_permute2f128_ps(R[1], R[3], 0x31);
        __m256 t0 = _mm256_unpacklo_ps(a0, a1), t1 = _mm256_unpackhi_ps(a0, a1);
        __m256 t2 = _mm256_unpacklo_ps(a2, a3), t3 = _mm256_unpackhi_ps(a2, a3);
        d[0] = _mm256_shuffle_ps(t0, t2, 0x44);
        d[1] = _mm256_shuffle_ps(t0, t2, 0xEE);
        d[2] = _mm256_shuffle_ps(t1, t3, 0x44);
        d[3] = _mm256_shuffle_ps(t1, t3, 0xEE);
    } else {
        d[0] = _mm256_castpd_ps(
            _mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(R[0], R[1], 0x88)), 0xD8));
        d[1] = _mm256_castpd_ps(
            _mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(R[0], R[1], 0xDD)), 0xD8));
    }
    const __m256i down = _mm256_setr_epi32(1, 2, 3, 4, 5, 6, 7, 0);
    const __m256 next = R[nr - 1];
    d[m] = _mm256_blend_ps(_mm256_permutevar8x32_ps(d[0], down),
                           _mm256_permutevar8x32_ps(next, _mm256_setzero_si256()), 0x80);
    d[m + 1] = _mm256_blend_ps(_mm256_permutevar8x32_ps(d[1], down),
                               _mm256_permutevar8x32_ps(next, _mm256_set1_epi32(1)), 0x80);
}

/* Input transform, 8 tiles (both tile sizes): e_r = d B per patch row r (d from
 * mr_wino_cols_avx2), then V = B^T e per column, as for AVX-512. */
MR_AVX2 static void mr_wino_in_avx2(const mr_wino_geom *g, const float *xc, int64_t ty, int64_t tx,
                                    int n, float *v) {
    const int m = g->m, a = g->alpha;
    const int64_t H = g->H, W = g->W, iy0 = ty * m - g->ph, ix0 = tx * m - g->pw;
    const __m256i kn = mr_wino_mask8(0, n);
    __m256i kr[5]; /* the row loads' lanes inside [0, W) */
    for (int k = 0; k < 5; k++)
        kr[k] = mr_wino_mask8(ix0 + 8 * k, W);
    __m256 e[6][6];
    for (int r = 0; r < a; r++) {
        const int64_t iy = iy0 + r;
        if (iy < 0 || iy >= H) {
            for (int l = 0; l < a; l++)
                e[r][l] = _mm256_setzero_ps();
            continue;
        }
        __m256 d[6];
        mr_wino_cols_avx2(xc + iy * W, ix0, kr, m, d);
        if (m == 4)
            mr_wino_bt6_avx2(d, e[r]);
        else
            mr_wino_bt4_avx2(d, e[r]);
    }
    for (int l = 0; l < a; l++) {
        __m256 col[6], o[6];
        for (int r = 0; r < a; r++)
            col[r] = e[r][l];
        if (m == 4)
            mr_wino_bt6_avx2(col, o);
        else
            mr_wino_bt4_avx2(col, o);
        for (int k = 0; k < a; k++)
            mr_wino_store8(v + (k * a + l) * g->vs, kn, n == 8, o[k]);
    }
}

/*
 * Output transform, F(4x4, 3x3), 8 tiles: as for AVX-512; the four y_b are interleaved by a 4x4
 * transpose inside each 128-bit half (unpack, shuffle), giving tiles (j, j+4) per register, and a
 * swap of halves (permute2f128) into 32 contiguous outputs.
 */
MR_AVX2 static void mr_wino_out4_avx2(const mr_wino_geom *g, const float *mt, float b, int64_t ty,
                                      int64_t tx, int n, float *yc) {
    const int64_t OH = g->OH, OW = g->OW, oy0 = ty * 4, ox0 = tx * 4;
    const __m256i kn = mr_wino_mask8(0, n);
    int64_t w = OW - ox0 < 4 * n ? OW - ox0 : 4 * n;
    __m256i kw[4];
    for (int q = 0; q < 4; q++)
        kw[q] = mr_wino_mask8(8 * q, w);

    __m256 s[4][6];
    for (int l = 0; l < 6; l++) {
        __m256 col[6], o[4];
        for (int k = 0; k < 6; k++)
            col[k] = _mm256_maskload_ps(mt + (k * 6 + l) * g->ms, kn);
        mr_wino_at6_avx2(col, o);
        for (int r = 0; r < 4; r++)
            s[r][l] = o[r];
    }
    const __m256 bv = _mm256_set1_ps(b);
    for (int r = 0; r < 4 && oy0 + r < OH; r++) {
        __m256 yb[4];
        mr_wino_at6_avx2(s[r], yb);
        for (int q = 0; q < 4; q++)
            yb[q] = _mm256_add_ps(yb[q], bv);
        __m256 l01 = _mm256_unpacklo_ps(yb[0], yb[1]), l23 = _mm256_unpacklo_ps(yb[2], yb[3]);
        __m256 h01 = _mm256_unpackhi_ps(yb[0], yb[1]), h23 = _mm256_unpackhi_ps(yb[2], yb[3]);
        __m256 t0 = _mm256_shuffle_ps(l01, l23, 0x44), t1 = _mm256_shuffle_ps(l01, l23, 0xEE);
        __m256 t2 = _mm256_shuffle_ps(h01, h23, 0x44), t3 = _mm256_shuffle_ps(h01, h23, 0xEE);
        __m256 out[4] = {_mm256_permute2f128_ps(t0, t1, 0x20), _mm256_permute2f128_ps(t2, t3, 0x20),
                         _mm256_permute2f128_ps(t0, t1, 0x31),
                         _mm256_permute2f128_ps(t2, t3, 0x31)};
        float *yr = yc + (oy0 + r) * OW + ox0;
        for (int q = 0; q < 4 && 8 * q < w; q++)
            mr_wino_store8(yr + 8 * q, kw[q], w >= 8 * q + 8, out[q]);
    }
}

/* Output transform, F(2x2, 3x3), 8 tiles: two y_b zipped (unpack) into 16 outputs. */
MR_AVX2 static void mr_wino_out2_avx2(const mr_wino_geom *g, const float *mt, float b, int64_t ty,
                                      int64_t tx, int n, float *yc) {
    const int64_t OH = g->OH, OW = g->OW, oy0 = ty * 2, ox0 = tx * 2;
    const __m256i kn = mr_wino_mask8(0, n);
    int64_t w = OW - ox0 < 2 * n ? OW - ox0 : 2 * n;
    const __m256i kw[2] = {mr_wino_mask8(0, w), mr_wino_mask8(8, w)};

    __m256 s[2][4];
    for (int l = 0; l < 4; l++) {
        __m256 col[4], o[2];
        for (int k = 0; k < 4; k++)
            col[k] = _mm256_maskload_ps(mt + (k * 4 + l) * g->ms, kn);
        mr_wino_at4_avx2(col, o);
        s[0][l] = o[0];
        s[1][l] = o[1];
    }
    const __m256 bv = _mm256_set1_ps(b);
    for (int r = 0; r < 2 && oy0 + r < OH; r++) {
        __m256 yb[2];
        mr_wino_at4_avx2(s[r], yb);
        yb[0] = _mm256_add_ps(yb[0], bv);
        yb[1] = _mm256_add_ps(yb[1], bv);
        __m256 lo = _mm256_unpacklo_ps(yb[0], yb[1]), hi = _mm256_unpackhi_ps(yb[0], yb[1]);
        float *yr = yc + (oy0 + r) * OW + ox0;
        mr_wino_store8(yr, kw[0], w >= 8, _mm256_permute2f128_ps(lo, hi, 0x20));
        if (w > 8) mr_wino_store8(yr + 8, kw[1], w >= 16, _mm256_permute2f128_ps(lo, hi, 0x31));
    }
}

static const mr_wino_kernels mr_wino_avx2 = {8, mr_wino_in_avx2, mr_wino_in_avx2, mr_wino_out4_avx2,
                                             mr_wino_out2_avx2};

#endif /* MR_WINO_X86 */

/* The kernels for this CPU (or the ones the test hooks ask for), resolved once per run. */
static const mr_wino_kernels *mr_wino_pick(void) {
#if MR_WINO_X86
    if (mr_wino_portable_only) return &mr_wino_portable;
    if (!mr_wino_avx2_only && __builtin_cpu_supports("avx512f")) return &mr_wino_avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return &mr_wino_avx2;
#endif
    return &mr_wino_portable;
}

/*
 * The input transform of tiles t0 .. t0+nt-1 of the batch into V, for channels c0 .. c1-1 (each
 * pass reads one input plane in order and writes each V plane's row in order), one segment of up to
 * vl tiles of a tile row at a time.
 */
static void mr_wino_input(const mr_wino_geom *g, int vl, mr_wino_in_fn in, const float *x, float *V,
                          int64_t t0, int64_t nt, int64_t c0, int64_t c1) {
    const int64_t per_image = g->TH * g->TW, plane = g->H * g->W;
    for (int64_t c = c0; c < c1; c++) {
        int64_t img = t0 / per_image, ty = t0 % per_image / g->TW, tx = t0 % g->TW;
        for (int64_t j = 0; j < nt;) {
            int64_t n = g->TW - tx < vl ? g->TW - tx : vl;
            if (n > nt - j) n = nt - j;
            in(g, x + (img * g->C + c) * plane, ty, tx, (int)n, V + c * g->ld + j);
            j += n;
            if ((tx += n) == g->TW) {
                tx = 0;
                if (++ty == g->TH) {
                    ty = 0;
                    img++;
                }
            }
        }
    }
}

/* The output transform of the same tiles from Mt, for output channels m0 .. m1-1. */
static void mr_wino_output(const mr_wino_geom *g, int vl, mr_wino_out_fn out, const float *Mt,
                           const float *bias, float *y, int64_t t0, int64_t nt, int64_t m0,
                           int64_t m1) {
    const int64_t per_image = g->TH * g->TW, plane = g->OH * g->OW;
    for (int64_t m = m0; m < m1; m++) {
        int64_t img = t0 / per_image, ty = t0 % per_image / g->TW, tx = t0 % g->TW;
        const float b = bias ? bias[m] : 0.0f;
        for (int64_t j = 0; j < nt;) {
            int64_t n = g->TW - tx < vl ? g->TW - tx : vl;
            if (n > nt - j) n = nt - j;
            out(g, Mt + m * g->ld + j, b, ty, tx, (int)n, y + (img * g->M + m) * plane);
            j += n;
            if ((tx += n) == g->TW) {
                tx = 0;
                if (++ty == g->TH) {
                    ty = 0;
                    img++;
                }
            }
        }
    }
}

/* What the threads share while transforming one block of tiles. */
typedef struct mr_wino_job {
    const mr_wino_geom *g;
    int vl;
    mr_wino_in_fn in;
    mr_wino_out_fn out;
    const float *U, *x, *bias;
    float *y, *V, *Mt;
    int64_t t0, nt; /* the block's tiles */
} mr_wino_job;

static void mr_wino_input_task(void *arg, int64_t c0, int64_t c1, int thread) {
    (void)thread;
    const mr_wino_job *j = arg;
    mr_wino_input(j->g, j->vl, j->in, j->x, j->V, j->t0, j->nt, c0, c1);
}

/* Mt[i] = U[i] (M x C) x V[i] (C x nt) for positions i0 .. i1-1. */
static void mr_wino_gemm_task(void *arg, int64_t i0, int64_t i1, int thread) {
    (void)thread;
    const mr_wino_job *j = arg;
    const mr_wino_geom *g = j->g;
    for (int64_t i = i0; i < i1; i++)
        mr_sgemm(false, false, g->M, j->nt, g->C, 1.0f, j->U + i * g->M * g->C, g->C,
                 j->V + i * g->vs, g->ld, 0.0f, j->Mt + i * g->ms, g->ld);
}

static void mr_wino_output_task(void *arg, int64_t m0, int64_t m1, int thread) {
    (void)thread;
    const mr_wino_job *j = arg;
    mr_wino_output(j->g, j->vl, j->out, j->Mt, j->bias, j->y, j->t0, j->nt, m0, m1);
}

/*
 * Y[N, M, OH, OW] = conv(X, W) + bias, block by block of tiles: V = B^T d B into the workspace,
 * Mt[i] = U[i] (M x C) x V[i] (C x tiles) for each position i, then Y = A^T Mt A + bias straight
 * into NCHW. The tile size is the one the weights were packed for (packed[0]). With several
 * threads, each of the three steps of a block is split: the input transform by input channel, the
 * GEMMs by position, the output transform by output channel; every value is computed as with one
 * thread.
 */
void mr_conv_wino_run(mr_pool *pool, const mr_conv_params *p, const float *packed, const float *x,
                      const float *bias, float *y, void *ws) {
    mr_wino_geom g;
    mr_wino_geom_init(&g, p, packed[0] == 2.0f ? 2 : 4);
    const mr_wino_kernels *k = mr_wino_pick();
    const int a2 = g.alpha * g.alpha;
    mr_wino_job j = {
        .g = &g,
        .vl = k->vl,
        .in = g.m == 4 ? k->in4 : k->in2,
        .out = g.m == 4 ? k->out4 : k->out2,
        .U = packed + MR_WINO_HDR,
        .x = x,
        .bias = bias,
        .y = y,
        .V = ws,
        .Mt = (float *)ws + a2 * g.vs,
    };
    const int64_t cgrain = mr_pool_grain(pool, g.C, 1), mgrain = mr_pool_grain(pool, g.M, 1);
    for (j.t0 = 0; j.t0 < g.T; j.t0 += g.blk) {
        j.nt = g.T - j.t0 < g.blk ? g.T - j.t0 : g.blk;
        mr_parallel_for(pool, g.C, cgrain, mr_wino_input_task, &j);
        mr_parallel_for(pool, a2, 1, mr_wino_gemm_task, &j);
        mr_parallel_for(pool, g.M, mgrain, mr_wino_output_task, &j);
    }
}
