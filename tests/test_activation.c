/*
 * test_activation.c - Relu, the element-wise activations with attributes (LeakyRelu, Elu, Selu,
 * Celu, Sigmoid, HardSigmoid, HardSwish, Tanh, Softplus, Softsign, ThresholdedRelu, Erf) and PRelu
 * against plain double-precision references: shapes with odd sizes (so vector loops have tails),
 * float32 and float64, attribute defaults per opset, special values (NaN, infinities, -0, values
 * that overflow e^x), every PRelu slope layout, and the type / shape / opset errors.
 * Clip, Softmax and LogSoftmax are in test_activation2.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrt.h"

/* ---- Relu ---- */

typedef struct relu_case {
    int dtype;
    int opset;
    int ndim;
    int64_t dims[5];
} relu_case;

static const relu_case relu_cases[] = {
    {MINIRT_FLOAT32, 13, 0, {0}},         {MINIRT_FLOAT32, 1, 1, {7}},
    {MINIRT_FLOAT32, 6, 4, {2, 3, 5, 7}}, {MINIRT_FLOAT32, 14, 5, {1, 3, 1, 4, 9}},
    {MINIRT_FLOAT32, 21, 2, {0, 5}},      {MINIRT_FLOAT64, 13, 3, {3, 5, 7}},
    {MINIRT_INT8, 14, 2, {11, 13}},       {MINIRT_INT32, 14, 3, {2, 3, 17}},
    {MINIRT_INT64, 21, 1, {33}},
};

static void test_relu_table(void **state) {
    (void)state;
    for (size_t c = 0; c < sizeof(relu_cases) / sizeof(relu_cases[0]); c++) {
        const relu_case *rc = &relu_cases[c];
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        mr_node n;
        mrt_node_init(&n, "Relu", rc->opset);
        mr_tensor x = mrt_tensor(rc->dtype, rc->ndim, rc->dims), y;
        mrt_fill_range(&x, (uint32_t)c + 1, -100, 100);
        if (rc->dtype == MINIRT_INT64)
            for (int64_t i = 0; i < mr_numel(&x); i++)
                ((int64_t *)x.data)[i] *= 1000000000007LL; /* beyond double's exact range */
        mr_tensor *in[1] = {&x};
        if (mrt_run_op1(&ctx, &n, in, 1, &y) != MINIRT_OK) fail_msg("case %zu: %s", c, ctx.err);
        assert_int_equal(y.dtype, rc->dtype);
        assert_int_equal(y.ndim, rc->ndim);
        assert_memory_equal(y.dims, x.dims, (size_t)rc->ndim * sizeof(int64_t));
        for (int64_t i = 0; i < mr_numel(&x); i++) {
            if (rc->dtype == MINIRT_INT64) {
                int64_t xv = ((int64_t *)x.data)[i], yv = ((int64_t *)y.data)[i];
                assert_true(yv == (xv < 0 ? 0 : xv));
            } else if (mrt_get(&y, i) != (mrt_get(&x, i) < 0 ? 0 : mrt_get(&x, i))) {
                fail_msg("case %zu: element %lld: got %g for %g", c, (long long)i, mrt_get(&y, i),
                         mrt_get(&x, i));
            }
        }
        mrt_tensor_free(&x);
        mrt_tensor_free(&y);
        mrt_node_free(&ctx, &n);
    }
}

/* ---- element-wise activations with attributes ---- */

/* The spec's defaults (alpha, beta, gamma) for op at opset, independent of the implementation. */
static void ew_defaults(const char *op, int opset, double *p) {
    p[0] = p[1] = p[2] = 0;
    if (!strcmp(op, "LeakyRelu")) p[0] = 0.01f;
    if (!strcmp(op, "Elu") || !strcmp(op, "Celu") || !strcmp(op, "ThresholdedRelu")) p[0] = 1;
    if (!strcmp(op, "HardSigmoid")) p[0] = 0.2f, p[1] = 0.5f;
    if (!strcmp(op, "Selu") && opset < 6) p[0] = 1.6732f, p[2] = 1.0507f;
    if (!strcmp(op, "Selu") && opset >= 6) p[0] = 1.6732632423543772, p[2] = 1.0507009873554805;
}

/* Reference for finite v, in double, with the spec's formulas. */
static double ref_ew(const char *op, double v, const double *p) {
    double a = p[0], b = p[1], g = p[2];
    if (!strcmp(op, "LeakyRelu")) return v < 0 ? a * v : v;
    if (!strcmp(op, "Elu")) return v < 0 ? a * expm1(v) : v;
    if (!strcmp(op, "Selu")) return v <= 0 ? g * (a * exp(v) - a) : g * v;
    if (!strcmp(op, "Celu")) return fmax(0, v) + fmin(0, a * expm1(v / a));
    if (!strcmp(op, "Sigmoid")) return 1 / (1 + exp(-v));
    if (!strcmp(op, "HardSigmoid")) return fmax(0, fmin(1, a * v + b));
    if (!strcmp(op, "HardSwish")) return v * fmax(0, fmin(1, v / 6 + 0.5));
    if (!strcmp(op, "Tanh")) return tanh(v);
    if (!strcmp(op, "Softplus")) return log1p(exp(v));
    if (!strcmp(op, "Softsign")) return v / (1 + fabs(v));
    if (!strcmp(op, "ThresholdedRelu")) return v > a ? v : 0;
    if (!strcmp(op, "Erf")) return erf(v);
    fail_msg("no reference for %s", op);
    return 0;
}

typedef struct ew_case {
    const char *op;
    int opset;
    int dtype;
    int ndim;
    int64_t dims[4];
    double range; /* inputs in [-range, range) */
    int nattr;
    const char *an[2];
    float av[2];
} ew_case;

#define F32 MINIRT_FLOAT32
#define F64 MINIRT_FLOAT64
static const ew_case ew_cases[] = {
    {"LeakyRelu", 16, F32, 3, {3, 4, 5}, 6, 1, {"alpha"}, {0.1f}},
    {"LeakyRelu", 1, F32, 1, {37}, 6, 0, {0}, {0}},
    {"LeakyRelu", 6, F64, 2, {5, 7}, 6, 1, {"alpha"}, {-0.5f}},
    {"Elu", 6, F32, 4, {2, 3, 4, 5}, 8, 1, {"alpha"}, {2.0f}},
    {"Elu", 1, F32, 1, {1}, 8, 0, {0}, {0}},
    {"Elu", 6, F32, 1, {1001}, 120, 0, {0}, {0}},
    {"Elu", 6, F64, 2, {3, 11}, 8, 1, {"alpha"}, {0.7f}},
    {"Selu", 6, F32, 3, {3, 4, 5}, 6, 2, {"alpha", "gamma"}, {2.0f, 3.0f}},
    {"Selu", 6, F32, 2, {7, 9}, 6, 0, {0}, {0}},
    {"Selu", 1, F32, 2, {7, 9}, 6, 0, {0}, {0}},
    {"Selu", 1, F64, 1, {19}, 6, 1, {"gamma"}, {2.0f}},
    {"Celu", 12, F32, 4, {3, 3, 3, 1}, 6, 1, {"alpha"}, {2.0f}},
    {"Celu", 12, F32, 1, {77}, 6, 0, {0}, {0}},
    {"Celu", 12, F32, 1, {77}, 6, 1, {"alpha"}, {-1.5f}},
    {"Sigmoid", 13, F32, 3, {3, 4, 5}, 6, 0, {0}, {0}},
    {"Sigmoid", 1, F32, 1, {2049}, 100, 0, {0}, {0}},
    {"Sigmoid", 6, F64, 2, {9, 9}, 30, 0, {0}, {0}},
    {"HardSigmoid", 6, F32, 3, {3, 4, 5}, 6, 2, {"alpha", "beta"}, {0.5f, 0.6f}},
    {"HardSigmoid", 1, F32, 1, {63}, 6, 0, {0}, {0}},
    {"HardSigmoid", 6, F64, 1, {63}, 6, 1, {"beta"}, {0.25f}},
    {"HardSwish", 14, F32, 3, {3, 4, 5}, 6, 0, {0}, {0}},
    {"HardSwish", 21, F64, 1, {31}, 6, 0, {0}, {0}},
    {"Tanh", 13, F32, 3, {3, 4, 5}, 3, 0, {0}, {0}},
    {"Tanh", 1, F32, 1, {4099}, 12, 0, {0}, {0}},
    {"Tanh", 6, F32, 1, {1000}, 0.5, 0, {0}, {0}},
    {"Tanh", 6, F64, 2, {4, 6}, 3, 0, {0}, {0}},
    {"Softplus", 1, F32, 3, {3, 4, 5}, 6, 0, {0}, {0}},
    {"Softplus", 1, F32, 1, {99}, 90, 0, {0}, {0}},
    {"Softplus", 1, F64, 1, {15}, 6, 0, {0}, {0}},
    {"Softsign", 1, F32, 3, {3, 4, 5}, 6, 0, {0}, {0}},
    {"Softsign", 1, F64, 1, {15}, 6, 0, {0}, {0}},
    {"ThresholdedRelu", 10, F32, 3, {3, 4, 5}, 6, 1, {"alpha"}, {2.0f}},
    {"ThresholdedRelu", 10, F32, 1, {23}, 6, 0, {0}, {0}},
    {"ThresholdedRelu", 21, F64, 1, {23}, 6, 1, {"alpha"}, {-1.0f}},
    {"Erf", 13, F32, 4, {1, 3, 8, 8}, 4, 0, {0}, {0}},
    {"Erf", 9, F64, 1, {17}, 4, 0, {0}, {0}},
};

static void test_elementwise_table(void **state) {
    (void)state;
    for (size_t c = 0; c < sizeof(ew_cases) / sizeof(ew_cases[0]); c++) {
        const ew_case *ec = &ew_cases[c];
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        mr_node n;
        mrt_node_init(&n, ec->op, ec->opset);
        double p[3];
        ew_defaults(ec->op, ec->opset, p);
        for (int i = 0; i < ec->nattr; i++) {
            mrt_attr_float(&n, ec->an[i], ec->av[i]);
            p[!strcmp(ec->an[i], "alpha") ? 0 : !strcmp(ec->an[i], "beta") ? 1 : 2] = ec->av[i];
        }
        mr_tensor x = mrt_tensor(ec->dtype, ec->ndim, ec->dims), y;
        mrt_fill_range(&x, (uint32_t)c + 7, -ec->range, ec->range);
        int64_t cnt = mr_numel(&x);
        const double edge[] = {0.0, -0.0, 1e-6, -1e-6, 0.4, -0.4, 1.0, -1.0};
        for (int i = 0; i < 8 && i < cnt; i++)
            mrt_set(&x, cnt - 1 - i, edge[i]);
        double *want = malloc((size_t)cnt * sizeof(double) + 1);
        for (int64_t i = 0; i < cnt; i++)
            want[i] = ref_ew(ec->op, mrt_get(&x, i), p);
        mr_tensor *in[1] = {&x};
        if (mrt_run_op1(&ctx, &n, in, 1, &y) != MINIRT_OK) fail_msg("case %zu: %s", c, ctx.err);
        assert_int_equal(y.dtype, ec->dtype);
        assert_int_equal(y.ndim, ec->ndim);
        assert_memory_equal(y.dims, x.dims, (size_t)ec->ndim * sizeof(int64_t));
        char what[64];
        snprintf(what, sizeof(what), "case %zu (%s)", c, ec->op);
        if (ec->dtype == F32)
            mrt_assert_close_any(&y, want, 2e-6, 1e-6, what);
        else
            mrt_assert_close_any(&y, want, 1e-12, 1e-14, what);
        free(want);
        mrt_tensor_free(&x);
        mrt_tensor_free(&y);
        mrt_node_free(&ctx, &n);
    }
}

/* NaN, +inf, -inf and -0 through each activation at default attributes, float32 and float64. */
static void test_elementwise_special(void **state) {
    (void)state;
    static const struct {
        const char *op;
        int opset;
        double want[4]; /* for NaN, +inf, -inf, -0 */
    } sp[] = {
        {"Relu", 14, {NAN, INFINITY, 0, -0.0}},
        {"LeakyRelu", 16, {NAN, INFINITY, -INFINITY, -0.0}},
        {"Elu", 6, {NAN, INFINITY, -1, -0.0}},
        {"Selu", 6, {NAN, INFINITY, -1.7580993408473766, 0}},
        {"Celu", 12, {NAN, INFINITY, -1, 0}},
        {"Sigmoid", 13, {NAN, 1, 0, 0.5}},
        {"HardSigmoid", 6, {NAN, 1, 0, 0.5}},
        {"HardSwish", 14, {NAN, INFINITY, NAN, 0}},
        {"Tanh", 13, {NAN, 1, -1, -0.0}},
        {"Softplus", 1, {NAN, INFINITY, 0, 0.6931471805599453}},
        {"Softsign", 1, {NAN, NAN, NAN, -0.0}},
        {"ThresholdedRelu", 10, {0, INFINITY, 0, 0}},
        {"Erf", 13, {NAN, 1, -1, -0.0}},
    };
    for (size_t c = 0; c < sizeof(sp) / sizeof(sp[0]); c++)
        for (int dt = 0; dt < 2; dt++) {
            int dtype = dt ? F64 : F32;
            if (dt && !strcmp(sp[c].op, "Celu")) continue;
            mr_ctx ctx;
            mr_ctx_init(&ctx, NULL);
            mr_node n;
            mrt_node_init(&n, sp[c].op, sp[c].opset);
            int64_t d[1] = {4};
            mr_tensor x = mrt_tensor(dtype, 1, d), y;
            const double xv[4] = {NAN, INFINITY, -INFINITY, -0.0};
            for (int i = 0; i < 4; i++)
                mrt_set(&x, i, xv[i]);
            mr_tensor *in[1] = {&x};
            if (mrt_run_op1(&ctx, &n, in, 1, &y) != MINIRT_OK)
                fail_msg("%s: %s", sp[c].op, ctx.err);
            char what[64];
            snprintf(what, sizeof(what), "%s %s", sp[c].op, dt ? "float64" : "float32");
            mrt_assert_close_any(&y, sp[c].want, 1e-6, 0, what);
            mrt_tensor_free(&x);
            mrt_tensor_free(&y);
            mrt_node_free(&ctx, &n);
        }
}

/* Run op on a 2x3 tensor of dtype at opset (with one optional float attribute) and expect the
 * status and a substring of the message. */
static void expect_ew_error(const char *op, int opset, int dtype, const char *attr, float av,
                            mr_status want, const char *substr) {
    mr_node n;
    mrt_node_init(&n, op, opset);
    if (attr) mrt_attr_float(&n, attr, av);
    int64_t d[2] = {2, 3};
    mr_tensor x = mrt_tensor(dtype, 2, d);
    mr_tensor *in[1] = {&x};
    mrt_run_expect(&n, in, 1, NULL, 1, want, substr, NULL);
    mrt_tensor_free(&x);
}

static void test_activation_errors(void **state) {
    (void)state;
    expect_ew_error("Relu", 13, MINIRT_INT32, NULL, 0, MINIRT_ERR_MODEL,
                    "int32, which Relu does not accept at opset 13");
    expect_ew_error("Relu", 14, MINIRT_UINT8, NULL, 0, MINIRT_ERR_MODEL, "uint8");
    expect_ew_error("Relu", 14, MINIRT_BOOL, NULL, 0, MINIRT_ERR_MODEL, "bool");
    expect_ew_error("Relu", 22, F32, NULL, 0, MINIRT_ERR_UNSUPPORTED, "Relu");
    expect_ew_error("LeakyRelu", 16, MINIRT_INT32, NULL, 0, MINIRT_ERR_MODEL,
                    "int32, which LeakyRelu does not accept at opset 16");
    expect_ew_error("Sigmoid", 13, MINIRT_BOOL, NULL, 0, MINIRT_ERR_MODEL, "bool");
    expect_ew_error("Erf", 13, MINIRT_INT32, NULL, 0, MINIRT_ERR_UNSUPPORTED,
                    "int32, which is not supported (supported: float32, float64)");
    expect_ew_error("Celu", 12, F64, NULL, 0, MINIRT_ERR_MODEL, "float64");
    expect_ew_error("Celu", 12, F32, "alpha", 0.0f, MINIRT_ERR_MODEL, "'alpha' is 0");
    expect_ew_error("HardSwish", 13, F32, NULL, 0, MINIRT_ERR_UNSUPPORTED, "HardSwish");
    expect_ew_error("ThresholdedRelu", 9, F32, NULL, 0, MINIRT_ERR_UNSUPPORTED, "Thresholded");
    expect_ew_error("Erf", 8, F32, NULL, 0, MINIRT_ERR_UNSUPPORTED, "Erf");
    expect_ew_error("Tanh", 22, F32, NULL, 0, MINIRT_ERR_UNSUPPORTED, "Tanh");
    /* an attribute of the wrong type */
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    mr_node n;
    mrt_node_init(&n, "Elu", 6);
    mrt_attr_int(&n, "alpha", 2);
    int64_t d[1] = {3};
    mr_tensor x = mrt_tensor(F32, 1, d), y;
    mr_tensor *in[1] = {&x};
    assert_int_equal(mrt_run_op1(&ctx, &n, in, 1, &y), MINIRT_ERR_MODEL);
    assert_non_null(strstr(ctx.err, "attribute 'alpha' should be float, not int"));
    mrt_tensor_free(&x);
    mrt_tensor_free(&y);
    mrt_node_free(&ctx, &n);
}

/* ---- PRelu ---- */

typedef struct prelu_case {
    int opset;
    int dtype;
    int xn;
    int64_t x[4];
    int sn;
    int64_t s[4];
} prelu_case;

static const prelu_case prelu_cases[] = {
    {16, F32, 3, {3, 4, 5}, 1, {5}},
    {16, F32, 3, {3, 4, 5}, 3, {3, 4, 5}},
    {16, F32, 4, {2, 3, 4, 5}, 3, {3, 1, 1}},
    {16, F32, 4, {2, 3, 4, 5}, 1, {1}},
    {16, F32, 4, {2, 3, 4, 5}, 0, {0}},
    {16, F32, 3, {2, 3, 4}, 3, {1, 3, 1}},
    {16, F32, 4, {1, 3, 1, 5}, 3, {3, 1, 1}},
    {16, F32, 3, {4, 1, 6}, 2, {1, 6}},
    {16, F32, 2, {0, 3}, 1, {3}},
    {7, F32, 3, {2, 3, 4}, 1, {4}},
    {6, F32, 3, {2, 3, 4}, 1, {3}},       /* per channel */
    {6, F32, 4, {2, 3, 4, 5}, 1, {3}},    /* per channel */
    {1, F32, 3, {2, 3, 4}, 1, {1}},       /* shared */
    {6, F32, 2, {4, 3}, 2, {1, 1}},       /* shared, rank above X's */
    {6, F32, 3, {2, 4, 3}, 1, {3}},       /* numpy: last axis */
    {6, F32, 3, {2, 3, 4}, 3, {2, 3, 4}}, /* same shape */
    {9, MINIRT_INT32, 2, {3, 7}, 1, {7}},
    {16, MINIRT_INT64, 2, {2, 5}, 2, {2, 1}},
    {16, F64, 4, {2, 3, 5, 7}, 3, {3, 1, 7}},
    {16, F32, 2, {3, 1031}, 1, {1031}},
};

/* Reference: the slope element for X's flat index i under the opset's rule. */
static int64_t ref_slope_index(const prelu_case *pc, int64_t i) {
    int64_t idx[4], n = 1;
    for (int k = pc->xn - 1; k >= 0; k--) {
        idx[k] = i % pc->x[k];
        i /= pc->x[k];
    }
    for (int k = 0; k < pc->sn; k++)
        n *= pc->s[k];
    if (pc->opset < 7 && n == 1) return 0;
    if (pc->opset < 7 && pc->sn == 1 && pc->xn >= 2 && pc->s[0] == pc->x[1]) return idx[1];
    int64_t off = 0;
    for (int k = 0; k < pc->sn; k++) {
        int64_t xi = idx[pc->xn - pc->sn + k];
        off = off * pc->s[k] + (pc->s[k] == 1 ? 0 : xi);
    }
    return off;
}

static void test_prelu_table(void **state) {
    (void)state;
    for (size_t c = 0; c < sizeof(prelu_cases) / sizeof(prelu_cases[0]); c++) {
        const prelu_case *pc = &prelu_cases[c];
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        mr_node n;
        mrt_node_init(&n, "PRelu", pc->opset);
        mr_tensor x = mrt_tensor(pc->dtype, pc->xn, pc->x),
                  s = mrt_tensor(pc->dtype, pc->sn, pc->s);
        mr_tensor y;
        mrt_fill_range(&x, (uint32_t)c + 3, -50, 50);
        mrt_fill_range(&s, (uint32_t)c + 300, -3, 3);
        mr_tensor *in[2] = {&x, &s};
        if (mrt_run_op1(&ctx, &n, in, 2, &y) != MINIRT_OK) fail_msg("case %zu: %s", c, ctx.err);
        assert_int_equal(y.ndim, pc->xn);
        assert_memory_equal(y.dims, x.dims, (size_t)pc->xn * sizeof(int64_t));
        int64_t cnt = mr_numel(&x);
        double *want = malloc((size_t)cnt * sizeof(double) + 1);
        for (int64_t i = 0; i < cnt; i++) {
            double v = mrt_get(&x, i);
            want[i] = v < 0 ? mrt_get(&s, ref_slope_index(pc, i)) * v : v;
        }
        char what[32];
        snprintf(what, sizeof(what), "prelu case %zu", c);
        mrt_assert_close_any(&y, want, 1e-6, 0, what);
        free(want);
        mrt_tensor_free(&x);
        mrt_tensor_free(&s);
        mrt_tensor_free(&y);
        mrt_node_free(&ctx, &n);
    }
}

static void expect_prelu_error(int opset, int xt, int xn, const int64_t *xd, int st_, int sn,
                               const int64_t *sd, mr_status want, const char *substr) {
    mr_node n;
    mrt_node_init(&n, "PRelu", opset);
    mr_tensor x = mrt_tensor(xt, xn, xd), s = mrt_tensor(st_, sn, sd);
    mr_tensor *in[2] = {&x, &s};
    mrt_run_expect(&n, in, 2, NULL, 1, want, substr, NULL);
    mrt_tensor_free(&x);
    mrt_tensor_free(&s);
}

static void test_prelu_errors(void **state) {
    (void)state;
    const int64_t x3[3] = {3, 4, 5}, s4[1] = {4}, s4d[4] = {2, 3, 4, 5}, x2[2] = {4, 5};
    const int64_t x3b[3] = {2, 3, 4}, s5[1] = {5}, s11[2] = {1, 1}, x1[1] = {3};
    expect_prelu_error(16, F32, 3, x3, F32, 1, s4, MINIRT_ERR_SHAPE, "(4 vs 5)");
    expect_prelu_error(16, F32, 2, x2, F32, 4, s4d, MINIRT_ERR_SHAPE,
                       "slope of shape 2x3x4x5 does not broadcast to X's shape 4x5");
    expect_prelu_error(7, F32, 1, x1, F32, 2, s11, MINIRT_ERR_SHAPE, "slope of shape 1x1");
    expect_prelu_error(6, F32, 3, x3b, F32, 1, s5, MINIRT_ERR_SHAPE, "5");
    expect_prelu_error(16, F32, 3, x3, F64, 1, s5, MINIRT_ERR_MODEL,
                       "slope has type float64 but X has type float32");
    expect_prelu_error(8, MINIRT_INT32, 3, x3, MINIRT_INT32, 1, s5, MINIRT_ERR_MODEL,
                       "does not accept at opset 8");
    expect_prelu_error(16, MINIRT_BOOL, 3, x3, MINIRT_BOOL, 1, s5, MINIRT_ERR_MODEL, "bool");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relu_table),          cmocka_unit_test(test_elementwise_table),
        cmocka_unit_test(test_elementwise_special), cmocka_unit_test(test_activation_errors),
        cmocka_unit_test(test_prelu_table),         cmocka_unit_test(test_prelu_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
