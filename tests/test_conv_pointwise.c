/*
 * test_conv_pointwise.c - the direct 1x1 Conv kernel (src/ops/conv_pointwise.c) through the Conv
 * op, against a plain reference, over a table of shapes: output channels that are not a multiple
 * of the 12-row panel, position counts with every kind of tail (1, 15, 17, 33, 49, 300+), K from 1
 * to a few hundred, groups, batch > 1, with and without bias, with a fused residual and
 * activation, and layers with few positions, which use the kernel with channels in the lanes. Each
 * case runs on the kernel with no pool and with a 3-thread pool (bit-identical), and on the GEMM
 * path the kernel replaces on CPUs without AVX-512 (forced by the test hook).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/conv.h"
#include "ops/conv_pointwise.h"
#include "mrt.h"

typedef struct pw_case {
    const char *name;
    int64_t n, c, m, h, w, group;
    bool bias, residual;
    mr_act act;
} pw_case;

static const pw_case cases[] = {
    {"tiny", 1, 1, 1, 1, 1, 1, true, false, MR_ACT_NONE},
    {"k1 m13", 1, 1, 13, 3, 5, 1, true, false, MR_ACT_NONE},
    {"p15", 1, 7, 12, 3, 5, 1, false, false, MR_ACT_NONE},
    {"p17 m25", 1, 9, 25, 1, 17, 1, true, false, MR_ACT_RELU},
    {"p33 m24", 2, 16, 24, 3, 11, 1, true, false, MR_ACT_NONE},
    {"p49 (7x7)", 1, 40, 100, 7, 7, 1, true, true, MR_ACT_RELU},
    {"p196 m37", 1, 64, 37, 14, 14, 1, false, true, MR_ACT_NONE},
    {"p300 k3", 1, 3, 50, 15, 20, 1, true, false, MR_ACT_SILU},
    {"p600 blocks", 1, 20, 30, 20, 30, 1, true, false, MR_ACT_NONE},
    {"groups 2", 1, 8, 26, 5, 6, 2, true, false, MR_ACT_NONE},
    {"groups 4 batch 3", 3, 16, 8, 4, 9, 4, false, true, MR_ACT_RELU},
    {"k300", 1, 300, 20, 6, 6, 1, true, false, MR_ACT_NONE},
    /* fewer than 100 positions and 32+ channels: the kernel with channels in the lanes */
    {"channels p5 m70", 1, 24, 70, 1, 5, 1, true, false, MR_ACT_NONE},
    {"channels p49 m64 groups 2", 2, 40, 128, 7, 7, 2, true, true, MR_ACT_RELU},
    {"channels p99 m33 k1", 1, 1, 33, 9, 11, 1, false, false, MR_ACT_SILU},
    {"channels p13 m512", 1, 96, 512, 1, 13, 1, true, false, MR_ACT_NONE},
};

/* y = act(bias + W x + residual), in double, per (n, m, q). */
static void reference(const pw_case *c, const float *x, const float *w, const float *b,
                      const float *r, float *y) {
    const int64_t P = c->h * c->w, cg = c->c / c->group, mg = c->m / c->group;
    for (int64_t n = 0; n < c->n; n++)
        for (int64_t m = 0; m < c->m; m++)
            for (int64_t q = 0; q < P; q++) {
                const int64_t g = m / mg;
                double acc = b ? b[m] : 0.0;
                for (int64_t k = 0; k < cg; k++)
                    acc += (double)w[m * cg + k] * x[(n * c->c + g * cg + k) * P + q];
                const int64_t i = (n * c->m + m) * P + q;
                if (r) acc += r[i];
                if (c->act == MR_ACT_RELU && acc < 0) acc = 0;
                if (c->act == MR_ACT_SILU) acc = acc / (1.0 + exp(-acc));
                y[i] = (float)acc;
            }
}

/* Run the case's Conv op; returns Y's data (malloc'd) and the algorithm chosen. */
static float *run(const pw_case *c, mr_pool *pool, const mr_tensor *X, const mr_tensor *W,
                  const mr_tensor *B, const mr_tensor *R, const char **algo) {
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    ctx.pool = pool;
    mr_node node;
    mrt_node_init(&node, "Conv", 13);
    if (c->group > 1) mrt_attr_int(&node, "group", c->group);
    node.fuse.epi.act = c->act;
    mr_tensor empty = {0};
    mr_tensor xs = *X, ws = *W, bs = B ? *B : empty, rs = R ? *R : empty, Y = {0};
    mr_tensor *in[4] = {&xs, &ws, B ? &bs : NULL, R ? &rs : NULL};
    if (R) node.fuse.residual = 3;
    mr_tensor *out[1] = {&Y};
    mr_status st = mrt_run_op(&ctx, &node, in, R ? 4 : 3, out, 1);
    if (st != MINIRT_OK) fail_msg("%s: %s", c->name, ctx.err);
    *algo = node.algo;
    mrt_node_free(&ctx, &node);
    return Y.data;
}

static void test_pointwise_table(void **state) {
    (void)state;
    mr_ctx pctx;
    mr_ctx_init(&pctx, NULL);
    mr_pool *pool = NULL;
    assert_int_equal(mr_pool_create(&pctx, 3, &pool), MINIRT_OK);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const pw_case *c = &cases[i];
        int64_t xd[4] = {c->n, c->c, c->h, c->w}, wd[4] = {c->m, c->c / c->group, 1, 1};
        int64_t bd[1] = {c->m}, yd[4] = {c->n, c->m, c->h, c->w};
        mr_tensor X = mrt_tensor(MINIRT_FLOAT32, 4, xd), W = mrt_tensor(MINIRT_FLOAT32, 4, wd);
        mr_tensor B = mrt_tensor(MINIRT_FLOAT32, 1, bd), R = mrt_tensor(MINIRT_FLOAT32, 4, yd);
        mrt_fill(&X, 21 + (unsigned)i, -1.0f, 1.0f);
        mrt_fill(&W, 22 + (unsigned)i, -1.0f, 1.0f);
        mrt_fill(&B, 23 + (unsigned)i, -1.0f, 1.0f);
        mrt_fill(&R, 24 + (unsigned)i, -1.0f, 1.0f);
        const int64_t ny = mr_numel(&R);
        float *want = malloc((size_t)ny * sizeof(float));
        assert_non_null(want);
        reference(c, X.data, W.data, c->bias ? B.data : NULL, c->residual ? R.data : NULL, want);
        const mr_tensor *bp = c->bias ? &B : NULL, *rp = c->residual ? &R : NULL;
        const char *algo = NULL;
        char what[128];
        float *y1 = run(c, NULL, &X, &W, bp, rp, &algo);
        bool direct = mr_conv_pw_available();
        assert_string_equal(algo, direct ? "pointwise" : "gemm-1x1");
        snprintf(what, sizeof(what), "%s (%s, 1 thread)", c->name, algo);
        mrt_assert_close(y1, want, ny, 1e-4, 1e-4, what);
        float *y3 = run(c, pool, &X, &W, bp, rp, &algo);
        snprintf(what, sizeof(what), "%s (%s, 3 threads)", c->name, algo);
        if (memcmp(y1, y3, (size_t)ny * sizeof(float)) != 0)
            fail_msg("%s: not bit-identical to 1 thread", what);
        mr_conv_pw_force_gemm(true);
        float *yg = run(c, NULL, &X, &W, bp, rp, &algo);
        mr_conv_pw_force_gemm(false);
        assert_string_equal(algo, "gemm-1x1");
        snprintf(what, sizeof(what), "%s (gemm-1x1)", c->name);
        mrt_assert_close(yg, want, ny, 1e-4, 1e-4, what);
        free(y1);
        free(y3);
        free(yg);
        free(want);
        mrt_tensor_free(&X);
        mrt_tensor_free(&W);
        mrt_tensor_free(&B);
        mrt_tensor_free(&R);
    }
    mr_pool_destroy(&pctx, pool);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pointwise_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
