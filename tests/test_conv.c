/*
 * test_conv.c - Conv against a naive reference (direct summation in double) over a table of cases:
 * 1-D, 2-D, 3-D, odd sizes, asymmetric pads, strides, dilations, groups, depthwise (with
 * multiplier), auto_pad VALID / SAME_UPPER / SAME_LOWER with stride and dilation, batch > 1, with
 * and without bias, the 1x1 path and blocked im2col. Then the error cases, each with its status and
 * message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/conv_pointwise.h"
#include "mrt.h"

typedef struct conv_case {
    const char *name;
    int nsp;
    int64_t N, C, M, group;
    int64_t in[3], k[3], s[3], d[3];
    int64_t pads[6];      /* begin..., end... */
    const char *auto_pad; /* NULL = attribute absent */
    bool bias;
    bool kernel_attr; /* also pass kernel_shape */
} conv_case;

static const conv_case cases[] = {
    {"2d basic", 2, 1, 3, 4, 1, {5, 5}, {3, 3}, {1, 1}, {1, 1}, {0}, NULL, true, true},
    {"2d notebook shape", 2, 6, 5, 5, 1, {5, 5}, {3, 2}, {2, 1}, {1, 1}, {0}, NULL, false, false},
    {"2d pads asym", 2, 2, 3, 5, 1, {7, 6}, {3, 3}, {1, 1}, {1, 1}, {1, 0, 2, 1}, NULL, true, true},
    {"2d stride pad",
     2,
     1,
     4,
     6,
     1,
     {11, 9},
     {3, 3},
     {2, 2},
     {1, 1},
     {1, 1, 1, 1},
     NULL,
     true,
     false},
    {"2d stride odd",
     2,
     2,
     3,
     4,
     1,
     {13, 10},
     {5, 3},
     {3, 2},
     {1, 1},
     {2, 1, 0, 2},
     NULL,
     false,
     true},
    {"2d dilation",
     2,
     1,
     2,
     3,
     1,
     {12, 11},
     {3, 3},
     {1, 1},
     {2, 3},
     {2, 3, 2, 3},
     NULL,
     true,
     true},
    {"2d dil stride",
     2,
     2,
     3,
     4,
     1,
     {15, 14},
     {3, 2},
     {2, 3},
     {2, 2},
     {1, 0, 0, 1},
     NULL,
     true,
     false},
    {"2d groups", 2, 2, 6, 4, 2, {7, 8}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, NULL, true, true},
    {"2d groups 3", 2, 1, 6, 9, 3, {6, 5}, {2, 3}, {2, 1}, {1, 1}, {0, 1, 1, 0}, NULL, false, true},
    {"2d depthwise", 2, 2, 5, 5, 5, {9, 9}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, NULL, true, true},
    {"2d depthwise s2",
     2,
     1,
     4,
     4,
     4,
     {10, 9},
     {3, 3},
     {2, 2},
     {1, 1},
     {1, 1, 1, 1},
     NULL,
     true,
     false},
    {"2d depthwise x2",
     2,
     1,
     3,
     6,
     3,
     {8, 7},
     {3, 3},
     {1, 1},
     {1, 1},
     {1, 1, 1, 1},
     NULL,
     true,
     true},
    {"2d pointwise", 2, 2, 7, 5, 1, {6, 5}, {1, 1}, {1, 1}, {1, 1}, {0}, NULL, true, true},
    {"2d pointwise groups", 2, 1, 8, 4, 2, {5, 3}, {1, 1}, {1, 1}, {1, 1}, {0}, NULL, false, true},
    {"2d 1x1 stride 2", 2, 1, 3, 4, 1, {7, 7}, {1, 1}, {2, 2}, {1, 1}, {0}, NULL, true, true},
    {"2d 1x1 padded",
     2,
     1,
     3,
     2,
     1,
     {4, 5},
     {1, 1},
     {1, 1},
     {1, 1},
     {1, 0, 0, 1},
     NULL,
     true,
     true},
    {"2d valid", 2, 1, 2, 3, 1, {8, 7}, {3, 2}, {2, 2}, {1, 1}, {0}, "VALID", true, true},
    {"2d same_upper", 2, 1, 2, 3, 1, {8, 7}, {3, 4}, {1, 1}, {1, 1}, {0}, "SAME_UPPER", true, true},
    {"2d same_lower", 2, 1, 2, 3, 1, {8, 7}, {3, 4}, {1, 1}, {1, 1}, {0}, "SAME_LOWER", true, true},
    {"2d same_upper s2",
     2,
     2,
     3,
     2,
     1,
     {9, 10},
     {3, 3},
     {2, 2},
     {1, 1},
     {0},
     "SAME_UPPER",
     true,
     false},
    {"2d same_lower s2",
     2,
     2,
     3,
     2,
     1,
     {9, 10},
     {4, 3},
     {2, 3},
     {1, 1},
     {0},
     "SAME_LOWER",
     true,
     false},
    {"2d same_upper dil",
     2,
     1,
     2,
     3,
     1,
     {10, 9},
     {3, 3},
     {1, 1},
     {2, 3},
     {0},
     "SAME_UPPER",
     true,
     true},
    {"2d same_lower dil s2",
     2,
     1,
     2,
     3,
     1,
     {11, 9},
     {3, 2},
     {2, 3},
     {2, 2},
     {0},
     "SAME_LOWER",
     false,
     true},
    {"2d same_upper dil s3",
     2,
     1,
     3,
     3,
     3,
     {13, 12},
     {3, 3},
     {3, 2},
     {2, 2},
     {0},
     "SAME_UPPER",
     true,
     true},
    {"2d notset explicit",
     2,
     1,
     1,
     1,
     1,
     {4, 4},
     {2, 2},
     {1, 1},
     {1, 1},
     {0},
     "NOTSET",
     false,
     true},
    {"2d blocked im2col",
     2,
     1,
     256,
     8,
     1,
     {40, 40},
     {5, 5},
     {1, 1},
     {1, 1},
     {2, 2, 2, 2},
     NULL,
     true,
     true},
    {"2d kernel = input", 2, 1, 2, 3, 1, {3, 4}, {3, 4}, {1, 1}, {1, 1}, {0}, NULL, true, true},
    {"1d basic", 1, 2, 3, 4, 1, {11}, {3}, {1}, {1}, {1, 1}, NULL, true, true},
    {"1d stride dil", 1, 1, 4, 2, 2, {17}, {3}, {2}, {2}, {2, 0}, NULL, true, false},
    {"1d same_lower", 1, 2, 2, 2, 1, {9}, {4}, {2}, {1}, {0}, "SAME_LOWER", false, true},
    {"1d depthwise", 1, 1, 3, 3, 3, {10}, {5}, {1}, {1}, {2, 2}, NULL, true, true},
    {"3d basic",
     3,
     1,
     2,
     3,
     1,
     {5, 6, 4},
     {3, 3, 2},
     {1, 1, 1},
     {1, 1, 1},
     {1, 1, 0, 1, 0, 1},
     NULL,
     true,
     true},
    {"3d stride dil groups",
     3,
     2,
     4,
     2,
     2,
     {7, 6, 8},
     {2, 3, 2},
     {2, 1, 3},
     {2, 1, 2},
     {0, 1, 1, 1, 0, 0},
     NULL,
     true,
     false},
    {"3d same_upper",
     3,
     1,
     2,
     2,
     1,
     {5, 4, 6},
     {2, 3, 3},
     {2, 1, 2},
     {1, 2, 1},
     {0},
     "SAME_UPPER",
     true,
     true},
};

/* Output extent and begin padding of one spatial dim, computed independently of the kernel. */
static void ref_geometry(const conv_case *c, int i, int64_t *out, int64_t *pad_begin) {
    int64_t eff = (c->k[i] - 1) * c->d[i] + 1, in = c->in[i], s = c->s[i];
    const char *ap = c->auto_pad ? c->auto_pad : "NOTSET";
    if (strncmp(ap, "SAME", 4) == 0) {
        *out = (in + s - 1) / s;
        int64_t total = (*out - 1) * s + eff - in;
        if (total < 0) total = 0;
        *pad_begin = strcmp(ap, "SAME_UPPER") == 0 ? total / 2 : (total + 1) / 2;
    } else if (strcmp(ap, "VALID") == 0) {
        *out = (in - eff) / s + 1;
        *pad_begin = 0;
    } else {
        *out = (in + c->pads[i] + c->pads[c->nsp + i] - eff) / s + 1;
        *pad_begin = c->pads[i];
    }
}

/* Direct summation, one output element at a time, in double. */
static void ref_conv(const conv_case *c, const float *x, const float *w, const float *b, float *y) {
    int nsp = c->nsp;
    int64_t out[3] = {1, 1, 1}, pb[3] = {0}, in[3] = {1, 1, 1}, k[3] = {1, 1, 1}, s[3] = {1, 1, 1},
            d[3] = {1, 1, 1};
    for (int i = 0; i < nsp; i++) {
        ref_geometry(c, i, &out[i], &pb[i]);
        in[i] = c->in[i];
        k[i] = c->k[i];
        s[i] = c->s[i];
        d[i] = c->d[i];
    }
    int64_t Cg = c->C / c->group, Mg = c->M / c->group;
    int64_t in_vol = in[0] * in[1] * in[2], k_vol = k[0] * k[1] * k[2],
            out_vol = out[0] * out[1] * out[2];
    for (int64_t n = 0; n < c->N; n++)
        for (int64_t m = 0; m < c->M; m++) {
            int64_t g = m / Mg;
            for (int64_t o0 = 0; o0 < out[0]; o0++)
                for (int64_t o1 = 0; o1 < out[1]; o1++)
                    for (int64_t o2 = 0; o2 < out[2]; o2++) {
                        double acc = b ? b[m] : 0.0;
                        for (int64_t ci = 0; ci < Cg; ci++)
                            for (int64_t k0 = 0; k0 < k[0]; k0++)
                                for (int64_t k1 = 0; k1 < k[1]; k1++)
                                    for (int64_t k2 = 0; k2 < k[2]; k2++) {
                                        int64_t i0 = o0 * s[0] - pb[0] + k0 * d[0];
                                        int64_t i1 = o1 * s[1] - pb[1] + k1 * d[1];
                                        int64_t i2 = o2 * s[2] - pb[2] + k2 * d[2];
                                        if (i0 < 0 || i0 >= in[0] || i1 < 0 || i1 >= in[1] ||
                                            i2 < 0 || i2 >= in[2])
                                            continue;
                                        double xv = x[(n * c->C + g * Cg + ci) * in_vol +
                                                      (i0 * in[1] + i1) * in[2] + i2];
                                        double wv =
                                            w[(m * Cg + ci) * k_vol + (k0 * k[1] + k1) * k[2] + k2];
                                        acc += xv * wv;
                                    }
                        y[(n * c->M + m) * out_vol + (o0 * out[1] + o1) * out[2] + o2] = (float)acc;
                    }
        }
}

static void setup_node(mr_node *node, const conv_case *c, int opset) {
    mrt_node_init(node, "Conv", opset);
    int nsp = c->nsp;
    mrt_attr_ints(node, "strides", c->s, nsp);
    mrt_attr_ints(node, "dilations", c->d, nsp);
    if (c->group != 1) mrt_attr_int(node, "group", c->group);
    if (c->kernel_attr) mrt_attr_ints(node, "kernel_shape", c->k, nsp);
    if (c->auto_pad) mrt_attr_string(node, "auto_pad", c->auto_pad);
    if (!c->auto_pad || strcmp(c->auto_pad, "NOTSET") == 0)
        mrt_attr_ints(node, "pads", c->pads, 2 * nsp);
}

/* Every case through the direct kernel (conv_pointwise.c, where the CPU has AVX-512) and through
 * the GEMM paths it replaces elsewhere. */
static void test_conv_table(void **state) {
    (void)state;
    for (size_t ci = 0; ci < 2 * sizeof(cases) / sizeof(cases[0]); ci++) {
        const conv_case *c = &cases[ci % (sizeof(cases) / sizeof(cases[0]))];
        mr_conv_pw_force_gemm(ci >= sizeof(cases) / sizeof(cases[0]));
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        int nd = c->nsp + 2;
        int64_t xd[5] = {c->N, c->C}, wd[5] = {c->M, c->C / c->group}, bd[1] = {c->M};
        for (int i = 0; i < c->nsp; i++) {
            xd[2 + i] = c->in[i];
            wd[2 + i] = c->k[i];
        }
        mr_tensor X = mrt_tensor(MINIRT_FLOAT32, nd, xd), W = mrt_tensor(MINIRT_FLOAT32, nd, wd);
        mr_tensor B = mrt_tensor(MINIRT_FLOAT32, 1, bd), Y = {0};
        mrt_fill(&X, (uint32_t)ci * 3 + 1, -1.0f, 1.0f);
        mrt_fill(&W, (uint32_t)ci * 3 + 2, -1.0f, 1.0f);
        mrt_fill(&B, (uint32_t)ci * 3 + 3, -1.0f, 1.0f);
        mr_node node;
        /* Alternate between the opset 1 and opset 11 kernels' opsets. */
        setup_node(&node, c, ci % 2 ? 11 : 1);
        mr_tensor *in[3] = {&X, &W, c->bias ? &B : NULL};
        mr_tensor *out[1] = {&Y};
        mr_status st = mrt_run_op(&ctx, &node, in, c->bias ? 3 : 2, out, 1);
        if (st != MINIRT_OK) fail_msg("%s: %s", c->name, ctx.err);
        int64_t yd[5] = {c->N, c->M};
        for (int i = 0; i < c->nsp; i++) {
            int64_t pb;
            ref_geometry(c, i, &yd[2 + i], &pb);
        }
        assert_int_equal(Y.ndim, nd);
        for (int i = 0; i < nd; i++)
            if (Y.dims[i] != yd[i])
                fail_msg("%s: output dim %d is %lld, want %lld", c->name, i, (long long)Y.dims[i],
                         (long long)yd[i]);
        float *want = calloc((size_t)mr_numel(&Y) + 1, sizeof(float));
        ref_conv(c, X.data, W.data, c->bias ? B.data : NULL, want);
        mrt_assert_close(Y.data, want, mr_numel(&Y), 1e-4, 1e-4, c->name);
        if (strcmp(c->name, "2d blocked im2col") == 0) {
            /* The case exists to exercise more than one im2col block. */
            assert_true(node.workspace < (size_t)(c->C * 25 * 40 * 40 * 4));
        }
        free(want);
        mrt_node_free(&ctx, &node);
        mrt_tensor_free(&X);
        mrt_tensor_free(&W);
        mrt_tensor_free(&B);
        mrt_tensor_free(&Y);
    }
    mr_conv_pw_force_gemm(false);
}

/* A case that must fail at prepare or infer with this status and message fragment. */
typedef struct conv_error_case {
    const char *name;
    int64_t xd[4], wd[4];
    int xr, wr;
    const char *attr; /* attribute to set */
    int64_t vals[4];
    int nvals;
    const char *auto_pad;
    mr_status status;
    const char *msg;
} conv_error_case;

static const conv_error_case error_cases[] = {
    {"stride 0",
     {1, 1, 5, 5},
     {1, 1, 3, 3},
     4,
     4,
     "strides",
     {0, 1},
     2,
     NULL,
     MINIRT_ERR_MODEL,
     "strides[0] is 0"},
    {"dilation 0",
     {1, 1, 5, 5},
     {1, 1, 3, 3},
     4,
     4,
     "dilations",
     {1, 0},
     2,
     NULL,
     MINIRT_ERR_MODEL,
     "dilations[1] is 0"},
    {"negative pad",
     {1, 1, 5, 5},
     {1, 1, 3, 3},
     4,
     4,
     "pads",
     {0, -1, 0, 0},
     4,
     NULL,
     MINIRT_ERR_MODEL,
     "pads[1] is -1"},
    {"group 0",
     {1, 2, 5, 5},
     {1, 2, 3, 3},
     4,
     4,
     "group",
     {0},
     1,
     NULL,
     MINIRT_ERR_MODEL,
     "group is 0"},
    {"channels vs group",
     {1, 3, 5, 5},
     {2, 1, 3, 3},
     4,
     4,
     "group",
     {2},
     1,
     NULL,
     MINIRT_ERR_SHAPE,
     "divisible by group 2"},
    {"W channels",
     {1, 4, 5, 5},
     {2, 3, 3, 3},
     4,
     4,
     NULL,
     {0},
     0,
     NULL,
     MINIRT_ERR_SHAPE,
     "dim 1 must be 4"},
    {"kernel too big",
     {1, 1, 4, 4},
     {1, 1, 5, 5},
     4,
     4,
     NULL,
     {0},
     0,
     NULL,
     MINIRT_ERR_SHAPE,
     "larger than the padded input 4x4"},
    {"dilated kernel too big",
     {1, 1, 6, 6},
     {1, 1, 3, 3},
     4,
     4,
     "dilations",
     {3, 3},
     2,
     NULL,
     MINIRT_ERR_SHAPE,
     "kernel 7x7 (dilated)"},
    {"rank mismatch",
     {1, 1, 6, 6},
     {1, 1, 3, 0},
     4,
     3,
     NULL,
     {0},
     0,
     NULL,
     MINIRT_ERR_SHAPE,
     "ranks must match"},
    {"rank 2 input", {1, 6}, {1, 6}, 2, 2, NULL, {0}, 0, NULL, MINIRT_ERR_SHAPE, "rank >= 3"},
    {"kernel_shape mismatch",
     {1, 1, 6, 6},
     {1, 1, 3, 3},
     4,
     4,
     "kernel_shape",
     {3, 2},
     2,
     NULL,
     MINIRT_ERR_SHAPE,
     "kernel_shape 3x2 does not match"},
    {"strides length",
     {1, 1, 6, 6},
     {1, 1, 3, 3},
     4,
     4,
     "strides",
     {1, 1, 1},
     3,
     NULL,
     MINIRT_ERR_MODEL,
     "do not match 2 spatial dims"},
    {"bad auto_pad",
     {1, 1, 6, 6},
     {1, 1, 3, 3},
     4,
     4,
     NULL,
     {0},
     0,
     "SAME",
     MINIRT_ERR_MODEL,
     "auto_pad 'SAME' is not valid"},
};

static void test_conv_errors(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
        const conv_error_case *c = &error_cases[i];
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        mr_tensor X = mrt_tensor(MINIRT_FLOAT32, c->xr, c->xd),
                  W = mrt_tensor(MINIRT_FLOAT32, c->wr, c->wd);
        mr_tensor Y = {0};
        mr_node node;
        mrt_node_init(&node, "Conv", 11);
        if (c->attr && strcmp(c->attr, "group") == 0)
            mrt_attr_int(&node, "group", c->vals[0]);
        else if (c->attr)
            mrt_attr_ints(&node, c->attr, c->vals, c->nvals);
        if (c->auto_pad) mrt_attr_string(&node, "auto_pad", c->auto_pad);
        mr_tensor *in[2] = {&X, &W}, *out[1] = {&Y};
        mr_status st = mrt_run_op(&ctx, &node, in, 2, out, 1);
        if (st != c->status || !strstr(ctx.err, c->msg))
            fail_msg("%s: got status %d '%s', want %d with '%s'", c->name, st, ctx.err, c->status,
                     c->msg);
        assert_non_null(strstr(ctx.err, "node 'test_node' (Conv): "));
        mrt_node_free(&ctx, &node);
        mrt_tensor_free(&X);
        mrt_tensor_free(&W);
        mrt_tensor_free(&Y);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_table),
        cmocka_unit_test(test_conv_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
