/*
 * test_conv_winograd.c - the Winograd Conv kernel (conv_winograd.c) against a naive reference
 * (direct summation in double): every case of the table runs with F(4x4, 3x3) and F(2x2, 3x3), on
 * the portable path and on each SIMD path the CPU has (AVX2 forced on AVX-512 hosts too); the SIMD
 * outputs must also match the portable one. Cases: odd sizes, asymmetric and oversized padding,
 * rows longer than one SIMD segment, batch > 1, outputs smaller than one tile, channel counts that
 * are not multiples of the vector width, several tile blocks. Then which shapes
 * mr_conv_wino_supported accepts, and the Conv op end to end (conv.c choosing Winograd).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/conv.h"
#include "ops/conv_winograd.h"
#include "mrt.h"

typedef struct wino_case {
    const char *name;
    int64_t N, C, M, H, W;
    int64_t pads[4]; /* top, left, bottom, right */
    bool bias;
} wino_case;

static const wino_case cases[] = {
    {"basic", 1, 3, 4, 8, 8, {1, 1, 1, 1}, true},
    {"no pad, odd sizes", 1, 5, 7, 11, 13, {0, 0, 0, 0}, false},
    {"asymmetric pads, batch 2", 2, 4, 3, 9, 14, {0, 2, 1, 0}, true},
    {"pads larger than the kernel", 1, 2, 3, 5, 6, {3, 2, 4, 5}, true},
    {"pads at the end only", 1, 3, 3, 10, 10, {0, 0, 2, 2}, false},
    {"rows of several segments", 1, 17, 9, 7, 150, {1, 1, 1, 1}, true},
    {"tall and narrow", 1, 16, 16, 70, 5, {1, 1, 1, 1}, false},
    {"one partial tile per image, batch 3", 3, 6, 5, 3, 3, {1, 1, 1, 1}, true},
    {"1x1 output", 2, 3, 2, 3, 3, {0, 0, 0, 0}, true},
    {"ResNet-like 64 channels", 1, 64, 64, 14, 14, {1, 1, 1, 1}, true},
    {"odd channels, wide", 1, 33, 19, 23, 61, {1, 1, 1, 1}, true},
    {"batch 2 in one block", 2, 160, 48, 26, 22, {1, 1, 1, 1}, true},
    {"several blocks, batch 2", 2, 256, 256, 13, 17, {1, 0, 1, 2}, true},
};

static void case_params(const wino_case *c, mr_conv_params *p) {
    memset(p, 0, sizeof(*p));
    p->nsp = 2;
    p->group = 1;
    p->N = c->N;
    p->C = p->Cg = c->C;
    p->M = p->Mg = c->M;
    p->in[0] = c->H;
    p->in[1] = c->W;
    for (int i = 0; i < 2; i++) {
        p->k[i] = 3;
        p->s[i] = 1;
        p->d[i] = 1;
        p->pad_begin[i] = c->pads[i];
        p->pad_end[i] = c->pads[2 + i];
        p->out[i] = p->in[i] + c->pads[i] + c->pads[2 + i] - 2;
    }
    p->P = p->out[0] * p->out[1];
    p->in_size = c->H * c->W;
    p->K = c->C * 9;
    p->residual_input = -1;
}

/* Direct summation in double: y[n, m, oy, ox] = b[m] + sum x[n, c, oy+ky-pt, ox+kx-pl] w[m, c,
 * ky, kx]. */
static void ref_conv(const mr_conv_params *p, const float *x, const float *w, const float *b,
                     float *y) {
    const int64_t H = p->in[0], W = p->in[1], OH = p->out[0], OW = p->out[1];
    for (int64_t n = 0; n < p->N; n++)
        for (int64_t m = 0; m < p->M; m++)
            for (int64_t oy = 0; oy < OH; oy++)
                for (int64_t ox = 0; ox < OW; ox++) {
                    double acc = b ? b[m] : 0.0;
                    for (int64_t c = 0; c < p->C; c++)
                        for (int ky = 0; ky < 3; ky++)
                            for (int kx = 0; kx < 3; kx++) {
                                int64_t iy = oy + ky - p->pad_begin[0];
                                int64_t ix = ox + kx - p->pad_begin[1];
                                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                                acc += (double)x[((n * p->C + c) * H + iy) * W + ix] *
                                       w[((m * p->C + c) * 3 + ky) * 3 + kx];
                            }
                    y[((n * p->M + m) * OH + oy) * OW + ox] = (float)acc;
                }
}

/* n values uniform in [-bound, bound). */
static float *fill(int64_t n, uint32_t seed, float bound) {
    int64_t d[1] = {n};
    mr_tensor t = mrt_tensor(MINIRT_FLOAT32, 1, d);
    mrt_fill(&t, seed, -bound, bound);
    return t.data;
}

enum { PATH_PORTABLE, PATH_AVX2, PATH_AVX512, PATH_COUNT };
static const char *const path_names[PATH_COUNT] = {"portable", "avx2", "avx512"};

static bool path_available(int path) {
#if defined(__x86_64__) || defined(__i386__)
    if (path == PATH_AVX2) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (path == PATH_AVX512) return __builtin_cpu_supports("avx512f");
#endif
    return path == PATH_PORTABLE;
}

static void use_path(int path) {
    mr_conv_wino_force_portable(path == PATH_PORTABLE);
    mr_conv_wino_force_avx2(path == PATH_AVX2);
}

/* Back to the normal behaviour: the best path, the normal tile size. */
static void reset_hooks(void) {
    mr_conv_wino_force_portable(false);
    mr_conv_wino_force_avx2(false);
    mr_conv_wino_force_tile(0);
}

/* Pack W and run the kernel into a fresh output (NaN-filled, so an element never written fails
 * the comparison); the packed weights, workspace and output are malloc'd at their exact sizes so
 * the sanitizer catches any access past them. */
static float *run_wino(const mr_conv_params *p, const float *x, const float *w, const float *b) {
    size_t pb = mr_conv_wino_packed_bytes(p), wb = mr_conv_wino_workspace(p);
    int64_t ny = p->N * p->M * p->P;
    float *packed = malloc(pb), *ws = malloc(wb ? wb : 1), *y = malloc((size_t)ny * sizeof(float));
    assert_non_null(packed);
    assert_non_null(ws);
    assert_non_null(y);
    for (int64_t i = 0; i < ny; i++)
        y[i] = NAN;
    mr_conv_wino_pack(p, w, packed);
    mr_conv_wino_run(NULL, p, packed, x, b, y, ws);
    /* on three threads (the steps split by channel and position): the same bits */
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    mr_pool *pool = NULL;
    assert_int_equal(mr_pool_create(&ctx, 3, &pool), MINIRT_OK);
    float *y3 = malloc((size_t)ny * sizeof(float));
    assert_non_null(y3);
    for (int64_t i = 0; i < ny; i++)
        y3[i] = NAN;
    mr_conv_wino_run(pool, p, packed, x, b, y3, ws);
    assert_memory_equal(y, y3, (size_t)ny * sizeof(float));
    mr_pool_destroy(&ctx, pool);
    free(y3);
    free(packed);
    free(ws);
    return y;
}

static void test_wino_table(void **state) {
    (void)state;
    int runs = 0;
    for (size_t ci = 0; ci < sizeof(cases) / sizeof(cases[0]); ci++) {
        const wino_case *c = &cases[ci];
        mr_conv_params p;
        case_params(c, &p);
        /* Weights scaled as in a trained CNN (He-uniform), so the outputs are O(1) whatever C:
         * Winograd's fp32 error grows with the magnitude of the sums, like any GEMM's. */
        float *x = fill(p.N * p.C * p.in_size, (uint32_t)ci * 3 + 1, 1.0f);
        float *w = fill(p.M * p.C * 9, (uint32_t)ci * 3 + 2, sqrtf(6.0f / (9.0f * (float)p.C)));
        float *b = c->bias ? fill(p.M, (uint32_t)ci * 3 + 3, 1.0f) : NULL;
        int64_t ny = p.N * p.M * p.P;
        float *want = malloc((size_t)ny * sizeof(float));
        assert_non_null(want);
        ref_conv(&p, x, w, b, want);
        for (int m = 2; m <= 4; m += 2) {
            mr_conv_wino_force_tile(m);
            float *portable = NULL;
            for (int path = 0; path < PATH_COUNT; path++) {
                if (!path_available(path)) continue;
                use_path(path);
                float *got = run_wino(&p, x, w, b);
                char what[160];
                snprintf(what, sizeof(what), "%s, F(%dx%d, 3x3), %s", c->name, m, m,
                         path_names[path]);
                mrt_assert_close(got, want, ny, 1e-4, 1e-4, what);
                if (portable) {
                    snprintf(what, sizeof(what), "%s, F(%dx%d, 3x3), %s vs portable", c->name, m, m,
                             path_names[path]);
                    mrt_assert_close(got, portable, ny, 1e-4, 1e-4, what);
                    free(got);
                } else {
                    portable = got;
                }
                runs++;
            }
            free(portable);
        }
        free(want);
        free(x);
        free(w);
        free(b);
    }
    reset_hooks();
    assert_true(runs >= (int)(2 * sizeof(cases) / sizeof(cases[0])));
}

/* A case with several tile blocks must really use more than one. */
static void test_wino_blocks(void **state) {
    (void)state;
    mr_conv_params p;
    case_params(&cases[sizeof(cases) / sizeof(cases[0]) - 1], &p);
    for (int m = 2; m <= 4; m += 2) {
        mr_conv_wino_force_tile(m);
        int64_t a = m + 2, tiles = p.N * ((p.out[0] + m - 1) / m) * ((p.out[1] + m - 1) / m);
        size_t all = (size_t)(a * a * (p.C + p.M) * tiles) * sizeof(float);
        assert_true(mr_conv_wino_workspace(&p) < all);
    }
    reset_hooks();
}

typedef struct support_case {
    const char *name;
    int nsp;
    int64_t N, C, M, group, out, k0, k1, s, d;
    bool want;
} support_case;

static const support_case support_cases[] = {
    {"ResNet 64x56x56", 2, 1, 64, 64, 1, 56, 3, 3, 1, 1, true},
    {"ResNet 128x28x28", 2, 1, 128, 128, 1, 28, 3, 3, 1, 1, true},
    {"ResNet 256x14x14", 2, 1, 256, 256, 1, 14, 3, 3, 1, 1, true},
    {"ResNet 512x7x7, batch 1", 2, 1, 512, 512, 1, 7, 3, 3, 1, 1, false},
    {"ResNet 512x7x7, batch 8", 2, 8, 512, 512, 1, 7, 3, 3, 1, 1, true},
    {"DenseNet 128->32 7x7", 2, 1, 128, 32, 1, 7, 3, 3, 1, 1, true},
    {"U-Net 3->16 input layer", 2, 1, 3, 16, 1, 64, 3, 3, 1, 1, true},
    {"1x1 output, 512 channels", 2, 1, 512, 512, 1, 1, 3, 3, 1, 1, false},
    {"5x5 kernel", 2, 1, 64, 64, 1, 56, 5, 5, 1, 1, false},
    {"3x1 kernel", 2, 1, 64, 64, 1, 56, 3, 1, 1, 1, false},
    {"stride 2", 2, 1, 64, 64, 1, 28, 3, 3, 2, 1, false},
    {"dilation 2", 2, 1, 64, 64, 1, 52, 3, 3, 1, 2, false},
    {"group 2", 2, 1, 64, 64, 2, 56, 3, 3, 1, 1, false},
    {"group = channels", 2, 1, 64, 64, 64, 56, 3, 3, 1, 1, false},
    {"1-D", 1, 1, 64, 64, 1, 56, 3, 3, 1, 1, false},
    {"3-D", 3, 1, 64, 64, 1, 56, 3, 3, 1, 1, false},
};

static void test_wino_supported(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(support_cases) / sizeof(support_cases[0]); i++) {
        const support_case *c = &support_cases[i];
        mr_conv_params p;
        memset(&p, 0, sizeof(p));
        p.nsp = c->nsp;
        p.N = c->N;
        p.C = c->C;
        p.M = c->M;
        p.group = c->group;
        p.Cg = c->C / c->group;
        p.Mg = c->M / c->group;
        for (int j = 0; j < c->nsp; j++) {
            p.k[j] = j == 1 ? c->k1 : c->k0;
            p.s[j] = c->s;
            p.d[j] = c->d;
            p.out[j] = c->out;
            p.in[j] = c->out * c->s;
            p.pad_begin[j] = p.pad_end[j] = 1;
        }
        p.P = c->nsp == 2 ? c->out * c->out : 0;
        p.in_size = c->nsp == 2 ? p.in[0] * p.in[1] : 0;
        if (mr_conv_wino_supported(&p) != c->want)
            fail_msg("%s: mr_conv_wino_supported is %d, want %d", c->name, !c->want, c->want);
    }
}

/* The Conv op through conv.c: Winograd is chosen for a ResNet-like layer (batch 2, bias) and its
 * output matches the reference, on every path. */
static void test_wino_conv_op(void **state) {
    (void)state;
    const int64_t pads[4] = {1, 1, 1, 1}, strides[2] = {1, 1};
    for (int path = 0; path < PATH_COUNT; path++) {
        if (!path_available(path)) continue;
        use_path(path);
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        int64_t xd[4] = {2, 32, 17, 19}, wd[4] = {24, 32, 3, 3}, bd[1] = {24};
        mr_tensor X = mrt_tensor(MINIRT_FLOAT32, 4, xd), W = mrt_tensor(MINIRT_FLOAT32, 4, wd);
        mr_tensor B = mrt_tensor(MINIRT_FLOAT32, 1, bd), Y = {0};
        mrt_fill(&X, 11, -1.0f, 1.0f);
        mrt_fill(&W, 12, -1.0f, 1.0f);
        mrt_fill(&B, 13, -1.0f, 1.0f);
        mr_node node;
        mrt_node_init(&node, "Conv", 11);
        mrt_attr_ints(&node, "pads", pads, 4);
        mrt_attr_ints(&node, "strides", strides, 2);
        mr_tensor *in[3] = {&X, &W, &B};
        mr_tensor *out[1] = {&Y};
        mr_status st = mrt_run_op(&ctx, &node, in, 3, out, 1);
        if (st != MINIRT_OK) fail_msg("%s", ctx.err);
        assert_string_equal(node.algo, "winograd");
        const mr_conv_params *p = node.params;
        assert_int_equal(node.workspace, mr_conv_wino_workspace(p));
        assert_int_equal(Y.dims[2], 17);
        assert_int_equal(Y.dims[3], 19);
        float *want = malloc((size_t)mr_numel(&Y) * sizeof(float));
        assert_non_null(want);
        ref_conv(p, X.data, W.data, B.data, want);
        mrt_assert_close(Y.data, want, mr_numel(&Y), 1e-4, 1e-4, path_names[path]);
        free(want);
        mrt_node_free(&ctx, &node);
        mrt_tensor_free(&X);
        mrt_tensor_free(&W);
        mrt_tensor_free(&B);
        mrt_tensor_free(&Y);
    }
    reset_hooks();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wino_table),
        cmocka_unit_test(test_wino_blocks),
        cmocka_unit_test(test_wino_supported),
        cmocka_unit_test(test_wino_conv_op),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
