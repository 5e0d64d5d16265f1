/*
 * test_shape.c - Flatten (every axis, negative axes, element types, opsets) and Identity, plus
 * errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrt.h"

/* Distinct bytes, so any misplaced element shows. */
static void fill_bytes(mr_tensor *t) {
    size_t n = (size_t)mr_numel(t) * mr_dtype_size(t->dtype);
    unsigned char *p = t->data;
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(i * 37u + 11u);
}

typedef struct flatten_case {
    int opset;
    int dtype;
    int ndim;
    int64_t x[5];
    int64_t axis; /* INT64_MIN: attribute absent (default 1) */
    int64_t y0, y1;
} flatten_case;

#define NO_AXIS INT64_MIN
static const flatten_case flatten_cases[] = {
    {13, MINIRT_FLOAT32, 4, {2, 3, 4, 5}, 0, 1, 120},
    {13, MINIRT_FLOAT32, 4, {2, 3, 4, 5}, 1, 2, 60},
    {13, MINIRT_FLOAT32, 4, {2, 3, 4, 5}, 2, 6, 20},
    {13, MINIRT_FLOAT32, 4, {2, 3, 4, 5}, 3, 24, 5},
    {13, MINIRT_FLOAT32, 4, {2, 3, 4, 5}, 4, 120, 1},
    {13, MINIRT_FLOAT32, 4, {2, 3, 4, 5}, -1, 24, 5},
    {11, MINIRT_FLOAT32, 4, {2, 3, 4, 5}, -4, 1, 120},
    {21, MINIRT_FLOAT32, 4, {2, 3, 4, 5}, -3, 2, 60},
    {1, MINIRT_FLOAT32, 4, {3, 7, 1, 1}, NO_AXIS, 3, 7},
    {9, MINIRT_INT64, 3, {5, 1, 3}, 2, 5, 3},
    {13, MINIRT_UINT8, 2, {7, 9}, NO_AXIS, 7, 9},
    {13, MINIRT_BOOL, 3, {2, 2, 2}, -2, 2, 4},
    {13, MINIRT_FLOAT64, 1, {11}, 0, 1, 11},
    {13, MINIRT_FLOAT64, 1, {11}, 1, 11, 1},
    {13, MINIRT_INT8, 0, {0}, 0, 1, 1},
    {13, MINIRT_FLOAT32, 3, {0, 3, 4}, 1, 0, 12},
    {13, MINIRT_INT32, 5, {1, 2, 3, 2, 1}, 3, 6, 2},
    {13, MINIRT_INT32, 5, {1, 2, 3, 2, 1}, 5, 12, 1},
};

static void test_flatten_table(void **state) {
    (void)state;
    for (size_t ci = 0; ci < sizeof(flatten_cases) / sizeof(flatten_cases[0]); ci++) {
        const flatten_case *c = &flatten_cases[ci];
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        mr_node n;
        mrt_node_init(&n, "Flatten", c->opset);
        if (c->axis != NO_AXIS) mrt_attr_int(&n, "axis", c->axis);
        mr_tensor x = mrt_tensor(c->dtype, c->ndim, c->x), y;
        memset(&y, 0, sizeof(y));
        fill_bytes(&x);
        mr_tensor *in[1] = {&x}, *out[1] = {&y};
        mr_status st = mrt_run_op(&ctx, &n, in, 1, out, 1);
        if (st != MINIRT_OK) fail_msg("flatten case %zu: %s", ci, ctx.err);
        assert_int_equal(y.dtype, c->dtype);
        assert_int_equal(y.ndim, 2);
        if (y.dims[0] != c->y0 || y.dims[1] != c->y1)
            fail_msg("flatten case %zu: output %lldx%lld, want %lldx%lld", ci, (long long)y.dims[0],
                     (long long)y.dims[1], (long long)c->y0, (long long)c->y1);
        size_t bytes = (size_t)mr_numel(&x) * mr_dtype_size(c->dtype);
        assert_memory_equal(y.data, x.data, bytes ? bytes : 1);
        mrt_tensor_free(&x);
        mrt_tensor_free(&y);
        mrt_node_free(&ctx, &n);
    }
}

static void test_identity(void **state) {
    (void)state;
    const struct {
        int opset, dtype, ndim;
        int64_t x[4];
    } cases[] = {
        {1, MINIRT_FLOAT32, 2, {3, 4}},  {13, MINIRT_INT64, 3, {2, 3, 5}},
        {14, MINIRT_FLOAT32, 0, {0}},    {16, MINIRT_UINT8, 1, {17}},
        {21, MINIRT_FLOAT32, 2, {0, 5}}, {19, MINIRT_BOOL, 4, {1, 2, 3, 1}},
    };
    for (size_t ci = 0; ci < sizeof(cases) / sizeof(cases[0]); ci++) {
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        mr_node n;
        mrt_node_init(&n, "Identity", cases[ci].opset);
        mr_tensor x = mrt_tensor(cases[ci].dtype, cases[ci].ndim, cases[ci].x), y;
        memset(&y, 0, sizeof(y));
        fill_bytes(&x);
        mr_tensor *in[1] = {&x}, *out[1] = {&y};
        mr_status st = mrt_run_op(&ctx, &n, in, 1, out, 1);
        if (st != MINIRT_OK) fail_msg("identity case %zu: %s", ci, ctx.err);
        assert_int_equal(y.dtype, x.dtype);
        assert_int_equal(y.ndim, x.ndim);
        assert_memory_equal(y.dims, x.dims, (size_t)x.ndim * sizeof(int64_t));
        size_t bytes = (size_t)mr_numel(&x) * mr_dtype_size(x.dtype);
        if (bytes) assert_memory_equal(y.data, x.data, bytes);
        mrt_tensor_free(&x);
        mrt_tensor_free(&y);
        mrt_node_free(&ctx, &n);
    }
}

static void expect_error(const char *op, int opset, int dtype, int ndim, const int64_t *dims,
                         int64_t axis, mr_status want, const char *s1, const char *s2) {
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    mr_node n;
    mrt_node_init(&n, op, opset);
    if (axis != NO_AXIS) mrt_attr_int(&n, "axis", axis);
    /* The data buffer is never read on these paths; keep it one element for huge empty shapes. */
    int64_t one = 1;
    mr_tensor x = mrt_tensor(MINIRT_FLOAT32, 1, &one), y;
    x.dtype = dtype;
    x.ndim = ndim;
    memcpy(x.dims, dims, (size_t)ndim * sizeof(int64_t));
    memset(&y, 0, sizeof(y));
    mr_tensor *in[1] = {&x}, *out[1] = {&y};
    mr_status st = mrt_run_op(&ctx, &n, in, 1, out, 1);
    if (st != want || !strstr(ctx.err, s1) || !strstr(ctx.err, s2))
        fail_msg("%s: want status %d with '%s' and '%s'; got %d: %s", op, want, s1, s2, st,
                 ctx.err);
    mrt_tensor_free(&x);
    mrt_tensor_free(&y);
    mrt_node_free(&ctx, &n);
}

static void test_shape_errors(void **state) {
    (void)state;
    const int64_t d4[4] = {2, 3, 4, 5};
    const int64_t huge[3] = {0, (int64_t)1 << 40, (int64_t)1 << 40};
    expect_error("Flatten", 13, MINIRT_FLOAT32, 4, d4, 5, MINIRT_ERR_MODEL, "'axis' is 5",
                 "2x3x4x5");
    expect_error("Flatten", 13, MINIRT_FLOAT32, 4, d4, -5, MINIRT_ERR_MODEL, "'axis' is -5",
                 "[-4, 4]");
    expect_error("Flatten", 9, MINIRT_FLOAT32, 4, d4, -1, MINIRT_ERR_MODEL, "'axis' is -1",
                 "opset 11");
    expect_error("Flatten", 13, MINIRT_FLOAT32, 3, huge, 1, MINIRT_ERR_LIMIT, "overflows",
                 "0x1099511627776x1099511627776");
    expect_error("Flatten", 13, 8 /* string */, 4, d4, 1, MINIRT_ERR_UNSUPPORTED, "string",
                 "unsupported");
    expect_error("Identity", 13, 10 /* float16 */, 4, d4, NO_AXIS, MINIRT_ERR_UNSUPPORTED,
                 "float16", "unsupported");
    expect_error("Flatten", 22, MINIRT_FLOAT32, 4, d4, 1, MINIRT_ERR_UNSUPPORTED, "Flatten",
                 "no kernel");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flatten_table),
        cmocka_unit_test(test_identity),
        cmocka_unit_test(test_shape_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
