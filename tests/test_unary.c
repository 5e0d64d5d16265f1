/*
 * test_unary.c - Sqrt, Exp, Log, Abs, Neg, Reciprocal, Floor, Ceil, Sign and Not against plain
 * references: float32 and float64 over odd sizes with the special values (NaN, infinities, +-0,
 * negative arguments of Sqrt and Log), int32 / int64 for Abs, Neg and Sign including the most
 * negative value (which wraps), bool for Not, and the type and opset errors.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrt.h"

#define F32 MINIRT_FLOAT32
#define F64 MINIRT_FLOAT64
#define I32 MINIRT_INT32
#define I64 MINIRT_INT64

/* Reference for one float element, in double. */
static double ref_float(const char *op, double v) {
    if (!strcmp(op, "Sqrt")) return sqrt(v);
    if (!strcmp(op, "Exp")) return exp(v);
    if (!strcmp(op, "Log")) return log(v);
    if (!strcmp(op, "Abs")) return fabs(v);
    if (!strcmp(op, "Neg")) return -v;
    if (!strcmp(op, "Reciprocal")) return 1 / v;
    if (!strcmp(op, "Floor")) return floor(v);
    if (!strcmp(op, "Ceil")) return ceil(v);
    if (!strcmp(op, "Sign")) return v > 0 ? 1 : v < 0 ? -1 : v;
    fail_msg("no reference for %s", op);
    return 0;
}

/* Reference for one integer element; negation wraps like two's complement hardware. */
static int64_t ref_int(const char *op, int64_t v, int bits) {
    uint64_t mask = bits == 64 ? ~0ull : (1ull << bits) - 1, neg = (0 - (uint64_t)v) & mask;
    int64_t wrapped = bits == 64 ? (int64_t)neg : (int64_t)(int32_t)(uint32_t)neg;
    if (!strcmp(op, "Abs")) return v < 0 ? wrapped : v;
    if (!strcmp(op, "Neg")) return wrapped;
    if (!strcmp(op, "Sign")) return (v > 0) - (v < 0);
    fail_msg("no integer reference for %s", op);
    return 0;
}

typedef struct unary_case {
    const char *op;
    int opset;
    int dtype;
    int ndim;
    int64_t dims[3];
    double lo, hi; /* input range (floats) */
} unary_case;

static const unary_case unary_cases[] = {
    {"Sqrt", 13, F32, 3, {3, 4, 5}, 0, 100},
    {"Sqrt", 1, F32, 1, {37}, -4, 100},
    {"Sqrt", 6, F64, 2, {5, 7}, 0, 1e6},
    {"Exp", 13, F32, 3, {3, 4, 5}, -90, 90},
    {"Exp", 1, F64, 1, {29}, -700, 700},
    {"Log", 13, F32, 3, {3, 4, 5}, 0, 1000},
    {"Log", 6, F64, 1, {31}, -1, 10},
    {"Abs", 13, F32, 3, {3, 4, 5}, -10, 10},
    {"Abs", 1, F64, 1, {17}, -10, 10},
    {"Abs", 6, I32, 2, {7, 9}, -1e9, 1e9},
    {"Abs", 13, I64, 1, {23}, -1e15, 1e15},
    {"Neg", 13, F32, 3, {3, 4, 5}, -10, 10},
    {"Neg", 1, F64, 1, {17}, -10, 10},
    {"Neg", 6, I32, 1, {33}, -1e9, 1e9},
    {"Neg", 13, I64, 2, {3, 11}, -1e15, 1e15},
    {"Reciprocal", 13, F32, 3, {3, 4, 5}, -10, 10},
    {"Reciprocal", 1, F64, 1, {19}, -1, 1},
    {"Floor", 13, F32, 3, {3, 4, 5}, -10, 10},
    {"Floor", 6, F64, 1, {19}, -3, 3},
    {"Ceil", 13, F32, 3, {3, 4, 5}, -10, 10},
    {"Ceil", 1, F64, 1, {19}, -3, 3},
    {"Sign", 13, F32, 1, {11}, -5, 5},
    {"Sign", 9, F64, 2, {4, 5}, -5, 5},
    {"Sign", 9, I32, 1, {21}, -1e9, 1e9},
    {"Sign", 13, I64, 1, {21}, -1e15, 1e15},
    {"Exp", 21, F32, 1, {1025}, -5, 5},
    {"Abs", 13, F32, 1, {0}, 0, 1},
};

/* Values in [lo, hi), the last ones replaced by special values of the type. */
static void fill_case(const unary_case *uc, mr_tensor *x, uint32_t seed) {
    uint32_t s = seed * 2654435761u + 17u;
    int64_t n = mr_numel(x);
    for (int64_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        double v = uc->lo + (uc->hi - uc->lo) * ((s >> 8) * (1.0 / 16777216.0));
        if (uc->dtype == F32) ((float *)x->data)[i] = (float)v;
        if (uc->dtype == F64) ((double *)x->data)[i] = v;
        if (uc->dtype == I32) ((int32_t *)x->data)[i] = (int32_t)v;
        if (uc->dtype == I64) ((int64_t *)x->data)[i] = (int64_t)v * 1000 + (int64_t)(s & 511);
    }
    const double fsp[] = {NAN, INFINITY, -INFINITY, 0.0, -0.0, 0.5, -0.5, 2.5, -2.5};
    const int64_t isp[] = {0, 1, -1, INT32_MIN, INT32_MAX, INT64_MIN, INT64_MAX};
    for (int i = 0; i < 9 && i < n; i++) {
        if (uc->dtype == F32) ((float *)x->data)[n - 1 - i] = (float)fsp[i];
        if (uc->dtype == F64) ((double *)x->data)[n - 1 - i] = fsp[i];
        if (uc->dtype == I32 && i < 5) ((int32_t *)x->data)[n - 1 - i] = (int32_t)isp[i];
        if (uc->dtype == I64 && i < 7) ((int64_t *)x->data)[n - 1 - i] = isp[i];
    }
}

static void test_unary_table(void **state) {
    (void)state;
    for (size_t c = 0; c < sizeof(unary_cases) / sizeof(unary_cases[0]); c++) {
        const unary_case *uc = &unary_cases[c];
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        mr_node n;
        mrt_node_init(&n, uc->op, uc->opset);
        mr_tensor x = mrt_tensor(uc->dtype, uc->ndim, uc->dims), y;
        fill_case(uc, &x, (uint32_t)c + 1);
        mr_tensor *in[1] = {&x};
        if (mrt_run_op1(&ctx, &n, in, 1, &y) != MINIRT_OK) fail_msg("case %zu: %s", c, ctx.err);
        assert_int_equal(y.dtype, uc->dtype);
        assert_int_equal(y.ndim, uc->ndim);
        assert_memory_equal(y.dims, x.dims, (size_t)uc->ndim * sizeof(int64_t));
        for (int64_t i = 0; i < mr_numel(&x); i++) {
            if (uc->dtype == I32 || uc->dtype == I64) {
                int64_t xv = uc->dtype == I32 ? ((int32_t *)x.data)[i] : ((int64_t *)x.data)[i];
                int64_t yv = uc->dtype == I32 ? ((int32_t *)y.data)[i] : ((int64_t *)y.data)[i];
                int64_t want = ref_int(uc->op, xv, uc->dtype == I32 ? 32 : 64);
                if (yv != want)
                    fail_msg("case %zu (%s): element %lld: %lld gave %lld, want %lld", c, uc->op,
                             (long long)i, (long long)xv, (long long)yv, (long long)want);
                continue;
            }
            double xv = uc->dtype == F32 ? ((float *)x.data)[i] : ((double *)x.data)[i];
            double got = uc->dtype == F32 ? ((float *)y.data)[i] : ((double *)y.data)[i];
            double want = ref_float(uc->op, xv);
            if (uc->dtype == F32) want = (float)want;
            /* float32 libm results within ~2 ulp (and 2 subnormal steps); zeros of either sign
             * must match exactly, since 1 / x tells them apart. */
            double rtol = uc->dtype == F32 ? 2.4e-7 : 1e-15, atol = uc->dtype == F32 ? 3e-45 : 0;
            bool ok = (isnan(got) && isnan(want)) ||
                      (got == want && signbit(got) == signbit(want)) ||
                      (isfinite(want) && want != 0 && fabs(got - want) <= atol + rtol * fabs(want));
            if (!ok)
                fail_msg("case %zu (%s): element %lld: %.9g gave %.9g, want %.9g", c, uc->op,
                         (long long)i, xv, got, want);
        }
        mrt_tensor_free(&x);
        mrt_tensor_free(&y);
        mrt_node_free(&ctx, &n);
    }
}

static void test_not(void **state) {
    (void)state;
    const int64_t shapes[3][4] = {{3, 4}, {3, 4, 5}, {3, 4, 5, 6}};
    for (int c = 0; c < 3; c++) {
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        mr_node n;
        mrt_node_init(&n, "Not", c == 0 ? 1 : 21);
        mr_tensor x = mrt_tensor(MINIRT_BOOL, c + 2, shapes[c]), y;
        uint8_t *xv = x.data;
        for (int64_t i = 0; i < mr_numel(&x); i++)
            xv[i] = (uint8_t)((i * 7 + c) % 3 == 0);
        mr_tensor *in[1] = {&x};
        if (mrt_run_op1(&ctx, &n, in, 1, &y) != MINIRT_OK) fail_msg("Not: %s", ctx.err);
        assert_int_equal(y.dtype, MINIRT_BOOL);
        assert_int_equal(y.ndim, c + 2);
        for (int64_t i = 0; i < mr_numel(&x); i++)
            assert_int_equal(((uint8_t *)y.data)[i], !xv[i]);
        mrt_tensor_free(&x);
        mrt_tensor_free(&y);
        mrt_node_free(&ctx, &n);
    }
}

static void expect_unary_error(const char *op, int opset, int dtype, mr_status want,
                               const char *substr) {
    mr_node n;
    mrt_node_init(&n, op, opset);
    int64_t d[2] = {2, 3};
    mr_tensor x = mrt_tensor(dtype, 2, d);
    mr_tensor *in[1] = {&x};
    mrt_run_expect(&n, in, 1, NULL, 1, want, substr, NULL);
    mrt_tensor_free(&x);
}

static void test_unary_errors(void **state) {
    (void)state;
    expect_unary_error("Abs", 1, I32, MINIRT_ERR_MODEL,
                       "int32, which Abs does not accept at opset 1");
    expect_unary_error("Neg", 5, I64, MINIRT_ERR_MODEL, "int64");
    expect_unary_error("Neg", 13, MINIRT_UINT8, MINIRT_ERR_MODEL, "uint8");
    expect_unary_error("Abs", 13, MINIRT_UINT8, MINIRT_ERR_UNSUPPORTED,
                       "uint8, which is not supported (supported: float32, float64, int32, int64)");
    expect_unary_error("Sign", 13, MINIRT_INT8, MINIRT_ERR_UNSUPPORTED, "int8");
    expect_unary_error("Sqrt", 13, I32, MINIRT_ERR_MODEL, "int32, which Sqrt does not accept");
    expect_unary_error("Floor", 13, I64, MINIRT_ERR_MODEL, "int64");
    expect_unary_error("Exp", 13, MINIRT_BOOL, MINIRT_ERR_MODEL, "bool");
    expect_unary_error("Sign", 8, F32, MINIRT_ERR_UNSUPPORTED, "Sign");
    expect_unary_error("Exp", 22, F32, MINIRT_ERR_UNSUPPORTED, "Exp");
    expect_unary_error("Not", 1, F32, MINIRT_ERR_MODEL, "float32; Not takes bool");
    expect_unary_error("Not", 22, MINIRT_BOOL, MINIRT_ERR_UNSUPPORTED, "Not");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unary_table),
        cmocka_unit_test(test_not),
        cmocka_unit_test(test_unary_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
