/*
 * test_activation.c - Relu against a plain reference, over shapes, types and opsets, plus errors.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mrt.h"

/* Fill any supported type with small signed values (float types from mrt_fill). */
static void fill_any(mr_tensor *t, uint32_t seed) {
    int64_t n = mr_numel(t);
    if (t->dtype == MINIRT_FLOAT32) {
        mrt_fill(t, seed, -1.0f, 1.0f);
        return;
    }
    uint32_t s = seed * 2654435761u + 7u;
    for (int64_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        int64_t v = (int64_t)(s >> 16 & 0xff) - 128;
        switch (t->dtype) {
        case MINIRT_FLOAT64:
            ((double *)t->data)[i] = (double)v / 64.0;
            break;
        case MINIRT_INT8:
            ((int8_t *)t->data)[i] = (int8_t)v;
            break;
        case MINIRT_INT32:
            ((int32_t *)t->data)[i] = (int32_t)(v * 1000003);
            break;
        case MINIRT_INT64:
            ((int64_t *)t->data)[i] = v * 1000000000007LL;
            break;
        default:
            break;
        }
    }
}

/* Reference: element i of max(x, 0) as a double (int64 is compared exactly by the caller). */
static double ref_relu(const mr_tensor *t, int64_t i) {
    double v = 0;
    switch (t->dtype) {
    case MINIRT_FLOAT32:
        v = ((const float *)t->data)[i];
        break;
    case MINIRT_FLOAT64:
        v = ((const double *)t->data)[i];
        break;
    case MINIRT_INT8:
        v = ((const int8_t *)t->data)[i];
        break;
    case MINIRT_INT32:
        v = ((const int32_t *)t->data)[i];
        break;
    default:
        break;
    }
    return v < 0 ? 0 : v;
}

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
        memset(&y, 0, sizeof(y));
        fill_any(&x, (uint32_t)c + 1);
        mr_tensor *in[1] = {&x}, *out[1] = {&y};
        mr_status st = mrt_run_op(&ctx, &n, in, 1, out, 1);
        if (st != MINIRT_OK) fail_msg("case %zu: %s", c, ctx.err);
        assert_int_equal(y.dtype, rc->dtype);
        assert_int_equal(y.ndim, rc->ndim);
        assert_memory_equal(y.dims, x.dims, (size_t)rc->ndim * sizeof(int64_t));
        int64_t cnt = mr_numel(&x);
        for (int64_t i = 0; i < cnt; i++) {
            if (rc->dtype == MINIRT_INT64) {
                int64_t xv = ((int64_t *)x.data)[i], yv = ((int64_t *)y.data)[i];
                assert_true(yv == (xv < 0 ? 0 : xv));
                continue;
            }
            double got = rc->dtype == MINIRT_FLOAT32   ? ((float *)y.data)[i]
                         : rc->dtype == MINIRT_FLOAT64 ? ((double *)y.data)[i]
                         : rc->dtype == MINIRT_INT8    ? ((int8_t *)y.data)[i]
                                                       : ((int32_t *)y.data)[i];
            if (got != ref_relu(&x, i))
                fail_msg("case %zu: element %lld: got %g want %g", c, (long long)i, got,
                         ref_relu(&x, i));
        }
        mrt_tensor_free(&x);
        mrt_tensor_free(&y);
        mrt_node_free(&ctx, &n);
    }
}

/* NaN and infinities pass through the way max(x, 0) with NaN propagation would. */
static void test_relu_special(void **state) {
    (void)state;
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    mr_node n;
    mrt_node_init(&n, "Relu", 14);
    int64_t d[1] = {6};
    mr_tensor x = mrt_tensor(MINIRT_FLOAT32, 1, d), y;
    memset(&y, 0, sizeof(y));
    float *xv = x.data;
    xv[0] = NAN;
    xv[1] = INFINITY;
    xv[2] = -INFINITY;
    xv[3] = -0.0f;
    xv[4] = -1e-30f;
    xv[5] = 3.5f;
    mr_tensor *in[1] = {&x}, *out[1] = {&y};
    assert_int_equal(mrt_run_op(&ctx, &n, in, 1, out, 1), MINIRT_OK);
    /* Compared by hand: mrt_assert_close counts NaN vs NaN and inf vs inf as different. */
    const float want[6] = {NAN, INFINITY, 0.0f, 0.0f, 0.0f, 3.5f};
    const float *got = y.data;
    for (int i = 0; i < 6; i++)
        if (!(got[i] == want[i] || (isnan(got[i]) && isnan(want[i]))))
            fail_msg("relu special value %d: got %g want %g", i, (double)got[i], (double)want[i]);
    mrt_tensor_free(&x);
    mrt_tensor_free(&y);
    mrt_node_free(&ctx, &n);
}

static void expect_relu_error(int dtype, int opset, mr_status want, const char *substr) {
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    mr_node n;
    mrt_node_init(&n, "Relu", opset);
    int64_t d[2] = {2, 3};
    mr_tensor x = mrt_tensor(dtype, 2, d), y;
    memset(&y, 0, sizeof(y));
    mr_tensor *in[1] = {&x}, *out[1] = {&y};
    mr_status st = mrt_run_op(&ctx, &n, in, 1, out, 1);
    if (st != want || !strstr(ctx.err, substr))
        fail_msg("want status %d with '%s'; got %d: %s", want, substr, st, ctx.err);
    mrt_tensor_free(&x);
    mrt_tensor_free(&y);
    mrt_node_free(&ctx, &n);
}

static void test_relu_errors(void **state) {
    (void)state;
    expect_relu_error(MINIRT_INT32, 13, MINIRT_ERR_MODEL, "int32");
    expect_relu_error(MINIRT_UINT8, 14, MINIRT_ERR_UNSUPPORTED, "uint8");
    expect_relu_error(MINIRT_BOOL, 14, MINIRT_ERR_UNSUPPORTED, "bool");
    expect_relu_error(MINIRT_FLOAT32, 22, MINIRT_ERR_UNSUPPORTED, "Relu");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relu_table),
        cmocka_unit_test(test_relu_special),
        cmocka_unit_test(test_relu_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
