/*
 * test_optimize.c - the graph optimizer's rewrites give the same outputs as the graph run as
 * written (level 0), and really happen (the profile of a level-2 session lists only the fused
 * nodes): Conv -> BatchNormalization -> Add(residual) -> Relu, Conv -> Sigmoid -> Mul (SiLU), Conv
 * -> Clip (ReLU6, bounds as inputs), Identity/Dropout removal, and the cases that must not fuse (a
 * value read twice, a graph output in the middle, a residual produced after the Conv).
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mb.h"
#include "mrt.h"

static const int64_t x_dims[4] = {2, 3, 6, 5}, w_dims[4] = {3, 3, 3, 3}, c_dims[1] = {3};
static const int64_t pads[4] = {1, 1, 1, 1};

static void fill(float *p, int n, unsigned seed) {
    for (int i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
}

static Onnx__TensorProto *weights(mb *b, const char *name, int ndim, const int64_t *dims,
                                  unsigned seed, float offset) {
    int n = 1;
    for (int i = 0; i < ndim; i++)
        n *= (int)dims[i];
    float *v = mb_alloc(b, (size_t)n * sizeof(float));
    fill(v, n, seed);
    for (int i = 0; i < n; i++)
        v[i] += offset;
    return mb_tensor(b, name, ndim, dims, v, RAW);
}

static Onnx__NodeProto *conv(mb *b, const char *name, const char *in, const char *out) {
    Onnx__NodeProto *n = mb_node(b, "Conv", name, in, out);
    mb_attr_ints(b, n, "pads", 4, pads);
    return n;
}

/* Run the built model at an optimization level; returns the output (malloc'd copy) and, when
 * profiling, the summary's text (malloc'd) in *summary. */
static float *run_level(mb *b, int level, char **summary, int64_t *count) {
    size_t len;
    uint8_t *buf = mb_pack(b, &len);
    minirt_options o;
    minirt_options_init(&o);
    o.optimize = level;
    o.profile = 1;
    minirt_session *s = NULL;
    if (minirt_open_memory(buf, len, &o, &s) != MINIRT_OK) fail_msg("open: %s", minirt_errmsg(s));
    float x[2 * 3 * 6 * 5];
    fill(x, 180, 7);
    minirt_tensor in = {NULL, MINIRT_FLOAT32, 4, x_dims, x}, out;
    if (minirt_run(s, &in, 1) != MINIRT_OK) fail_msg("run: %s", minirt_errmsg(s));
    assert_int_equal(minirt_get_output(s, 0, &out), MINIRT_OK);
    *count = 1;
    for (size_t i = 0; i < out.ndim; i++)
        *count *= out.dims[i];
    float *copy = malloc((size_t)*count * sizeof(float));
    memcpy(copy, out.data, (size_t)*count * sizeof(float));
    if (summary) *summary = strdup(minirt_profile_summary(s));
    minirt_close(s);
    return copy;
}

/* Outputs at level 0 and 2 agree; the level-2 profile mentions `has` and not `lacks`. */
static void check(mb *b, const char *const *has, const char *const *lacks) {
    int64_t n0, n2;
    char *sum0, *sum2;
    float *y0 = run_level(b, 0, &sum0, &n0);
    float *y2 = run_level(b, 2, &sum2, &n2);
    assert_int_equal(n0, n2);
    mrt_assert_close(y2, y0, n0, 1e-5, 1e-5, "level 2 vs level 0");
    for (; has && *has; has++)
        if (!strstr(sum2, *has)) fail_msg("level-2 profile lacks '%s':\n%s", *has, sum2);
    for (; lacks && *lacks; lacks++)
        if (strstr(sum2, *lacks)) fail_msg("level-2 profile has '%s':\n%s", *lacks, sum2);
    free(y0);
    free(y2);
    free(sum0);
    free(sum2);
}

static void test_conv_bn_add_relu(void **state) {
    (void)state;
    /* y = Relu(BN(Conv(x)) + x), and a second Conv without B followed by BN */
    mb b;
    mb_init(&b, 13);
    mb_input(&b, "x", 4, x_dims);
    mb_init_tensor(&b, weights(&b, "W", 4, w_dims, 1, 0));
    mb_init_tensor(&b, weights(&b, "B", 1, c_dims, 2, 0));
    mb_init_tensor(&b, weights(&b, "scale", 1, c_dims, 3, 1.5f));
    mb_init_tensor(&b, weights(&b, "shift", 1, c_dims, 4, 0));
    mb_init_tensor(&b, weights(&b, "mean", 1, c_dims, 5, 0));
    mb_init_tensor(&b, weights(&b, "var", 1, c_dims, 6, 1.5f));
    mb_init_tensor(&b, weights(&b, "W2", 4, w_dims, 8, 0));
    conv(&b, "c1", "x,W,B", "c");
    mb_node(&b, "BatchNormalization", "bn", "c,scale,shift,mean,var", "n");
    mb_node(&b, "Add", "add", "n,x", "a");
    mb_node(&b, "Relu", "relu", "a", "r");
    conv(&b, "c2", "r,W2", "c2o");
    mb_node(&b, "BatchNormalization", "bn2", "c2o,scale,shift,mean,var", "y");
    mb_output(&b, "y");
    const char *has[] = {"Conv", NULL};
    const char *lacks[] = {"BatchNormalization", "Add", "Relu", NULL};
    check(&b, has, lacks);
    mb_free(&b);
}

static void test_silu_and_clip(void **state) {
    (void)state;
    mb b;
    mb_init(&b, 13);
    mb_input(&b, "x", 4, x_dims);
    mb_init_tensor(&b, weights(&b, "W", 4, w_dims, 1, 0));
    mb_init_tensor(&b, weights(&b, "W2", 4, w_dims, 9, 0));
    static const float lo = 0.0f, hi = 0.5f;
    mb_init_tensor(&b, mb_tensor(&b, "lo", 0, NULL, &lo, RAW));
    mb_init_tensor(&b, mb_tensor(&b, "hi", 0, NULL, &hi, RAW));
    conv(&b, "c1", "x,W", "c");
    mb_node(&b, "Sigmoid", "sig", "c", "s");
    mb_node(&b, "Mul", "mul", "s,c", "m");
    mb_node(&b, "Identity", "id", "m", "i");
    conv(&b, "c2", "i,W2", "c2o");
    mb_node(&b, "Clip", "clip", "c2o,lo,hi", "y");
    mb_output(&b, "y");
    const char *has[] = {"Conv", NULL};
    const char *lacks[] = {"Sigmoid", "Mul", "Identity", "Clip", NULL};
    check(&b, has, lacks);
    mb_free(&b);
}

static void test_no_fusion(void **state) {
    (void)state;
    mb b;
    /* the Conv's output is also a graph output, and read twice: nothing fuses */
    mb_init(&b, 13);
    mb_input(&b, "x", 4, x_dims);
    mb_init_tensor(&b, weights(&b, "W", 4, w_dims, 1, 0));
    conv(&b, "c1", "x,W", "c");
    mb_node(&b, "Relu", "relu", "c", "y");
    mb_output(&b, "y");
    mb_output(&b, "c");
    const char *has[] = {"Relu", NULL};
    check(&b, has, NULL);
    mb_free(&b);

    /* residual produced after the first Conv: the second Conv takes the Add */
    mb_init(&b, 13);
    mb_input(&b, "x", 4, x_dims);
    mb_init_tensor(&b, weights(&b, "W", 4, w_dims, 1, 0));
    mb_init_tensor(&b, weights(&b, "W2", 4, w_dims, 3, 0));
    conv(&b, "c1", "x,W", "a");
    conv(&b, "c2", "x,W2", "d");
    mb_node(&b, "Add", "add", "a,d", "s");
    mb_node(&b, "Relu", "relu", "s", "y");
    mb_output(&b, "y");
    const char *lacks[] = {"Add", "Relu", NULL};
    check(&b, NULL, lacks);
    mb_free(&b);
}

/* y[m][oy][ox] = b[m] + sum over c, ky, kx of w[m][c][ky][kx] * x[c][oy+ky-1][ox+kx-1] (pads 1). */
static void conv3x3_ref(const float *x, const float *w, const float *bias, float *y, int C, int M,
                        int H, int W) {
    for (int m = 0; m < M; m++)
        for (int oy = 0; oy < H; oy++)
            for (int ox = 0; ox < W; ox++) {
                double acc = bias[m];
                for (int c = 0; c < C; c++)
                    for (int ky = 0; ky < 3; ky++)
                        for (int kx = 0; kx < 3; kx++) {
                            int iy = oy + ky - 1, ix = ox + kx - 1;
                            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                            acc += (double)w[((m * C + c) * 3 + ky) * 3 + kx] *
                                   x[(c * H + iy) * W + ix];
                        }
                y[(m * H + oy) * W + ox] = (float)acc;
            }
}

/*
 * A Conv run by Winograd keeps only its transformed weights: the session frees W at the first
 * plan. Later plans at other input shapes (symbolic H and W) must still compute the right thing,
 * with Winograd, on one thread and on two.
 */
static void test_winograd_weights_replaced(void **state) {
    (void)state;
    enum { C = 64, M = 64 };
    static const int64_t xd[4] = {1, C, -1, -1}, wd[4] = {M, C, 3, 3}, bd[1] = {M};
    static float w[M * C * 9], bias[M];
    fill(w, M * C * 9, 11);
    fill(bias, M, 12);
    for (int threads = 1; threads <= 2; threads++) {
        mb b;
        mb_init(&b, 13);
        mb_input(&b, "x", 4, xd);
        mb_init_tensor(&b, mb_tensor(&b, "W", 4, wd, w, RAW));
        mb_init_tensor(&b, mb_tensor(&b, "B", 1, bd, bias, RAW));
        conv(&b, "conv", "x,W,B", "y");
        mb_output(&b, "y");
        size_t len;
        uint8_t *buf = mb_pack(&b, &len);
        minirt_options o;
        minirt_options_init(&o);
        o.profile = 1;
        o.threads = threads;
        minirt_session *s = NULL;
        if (minirt_open_memory(buf, len, &o, &s) != MINIRT_OK)
            fail_msg("open: %s", minirt_errmsg(s));
        static const int hw[][2] = {{16, 16}, {7, 9}, {24, 20}, {16, 16}, {3, 30}};
        for (size_t r = 0; r < sizeof(hw) / sizeof(hw[0]); r++) {
            const int H = hw[r][0], W = hw[r][1];
            float *x = malloc((size_t)(C * H * W) * sizeof(float));
            float *want = malloc((size_t)(M * H * W) * sizeof(float));
            assert_non_null(x);
            assert_non_null(want);
            fill(x, C * H * W, 13 + (unsigned)r);
            conv3x3_ref(x, w, bias, want, C, M, H, W);
            int64_t dims[4] = {1, C, H, W};
            minirt_tensor in = {NULL, MINIRT_FLOAT32, 4, dims, x}, out;
            if (minirt_run(s, &in, 1) != MINIRT_OK) fail_msg("run: %s", minirt_errmsg(s));
            assert_int_equal(minirt_get_output(s, 0, &out), MINIRT_OK);
            assert_int_equal(out.dims[2], H);
            assert_int_equal(out.dims[3], W);
            char what[64];
            snprintf(what, sizeof(what), "%dx%d, %d thread(s)", H, W, threads);
            mrt_assert_close(out.data, want, M * H * W, 1e-4, 1e-4, what);
            const char *sum = minirt_profile_summary(s);
            if (!strstr(sum, "winograd")) fail_msg("%s: not Winograd:\n%s", what, sum);
            free(x);
            free(want);
        }
        minirt_close(s);
        mb_free(&b);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_winograd_weights_replaced),
        cmocka_unit_test(test_conv_bn_add_relu),
        cmocka_unit_test(test_silu_and_clip),
        cmocka_unit_test(test_no_fusion),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
