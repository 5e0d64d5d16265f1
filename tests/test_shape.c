/*
 * test_shape.c - the data-movement ops of src/ops/shape.c: Flatten (every axis, negative axes,
 * element types, opsets), Identity, Reshape, Squeeze, Unsqueeze, Expand, Shape, Size and Dropout,
 * each over a table of cases (attribute and input forms per opset, every element type) against a
 * plain reference, plus error cases checking the status and the message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrt.h"

/* Distinct bytes, so any misplaced element shows. */
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
        mrt_fill_any(&x, 11);
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
        {1, MINIRT_FLOAT32, 2, {3, 4}},     {13, MINIRT_INT64, 3, {2, 3, 5}},
        {14, MINIRT_FLOAT32, 0, {0}},       {16, MINIRT_UINT8, 1, {17}},
        {21, MINIRT_FLOAT32, 2, {0, 5}},    {19, MINIRT_BOOL, 4, {1, 2, 3, 1}},
        {13, MINIRT_INT8, 2, {3, 5}},       {13, MINIRT_INT32, 1, {7}},
        {13, MINIRT_FLOAT64, 3, {2, 1, 3}},
    };
    for (size_t ci = 0; ci < sizeof(cases) / sizeof(cases[0]); ci++) {
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        mr_node n;
        mrt_node_init(&n, "Identity", cases[ci].opset);
        mr_tensor x = mrt_tensor(cases[ci].dtype, cases[ci].ndim, cases[ci].x), y;
        memset(&y, 0, sizeof(y));
        mrt_fill_any(&x, 11);
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
    mr_node n;
    mrt_node_init(&n, op, opset);
    if (axis != NO_AXIS) mrt_attr_int(&n, "axis", axis);
    /* The data buffer is never read on these paths; keep it one element for huge empty shapes. */
    int64_t one = 1;
    mr_tensor x = mrt_tensor(MINIRT_FLOAT32, 1, &one);
    x.dtype = dtype;
    x.ndim = ndim;
    memcpy(x.dims, dims, (size_t)ndim * sizeof(int64_t));
    mr_tensor *in[1] = {&x};
    mrt_run_expect(&n, in, 1, NULL, 1, want, s1, s2);
    mrt_tensor_free(&x);
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

/* ---- shared helpers for the ops below ---- */

static void check_dims(const char *what, size_t ci, const mr_tensor *y, int ndim,
                       const int64_t *dims) {
    char got[160], want[160];
    if (y->ndim != ndim || (ndim && memcmp(y->dims, dims, (size_t)ndim * sizeof(int64_t))))
        fail_msg("%s case %zu: output shape %s, want %s", what, ci,
                 mr_dims_str(got, sizeof(got), y->ndim, y->dims),
                 mr_dims_str(want, sizeof(want), ndim, dims));
}

/* ---- Reshape ---- */

typedef struct reshape_case {
    int opset, dtype, xn;
    int64_t x[6];
    int sn;
    int64_t s[6];
    int allowzero; /* -1: absent */
    int yn;
    int64_t y[6];
} reshape_case;

static const reshape_case reshape_cases[] = {
    {1, MINIRT_FLOAT32, 3, {2, 3, 4}, 2, {6, 4}, -1, 2, {6, 4}},
    {4, MINIRT_FLOAT32, 3, {2, 3, 4}, 2, {-1, 4}, -1, 2, {6, 4}},
    {5, MINIRT_FLOAT32, 3, {2, 3, 4}, 3, {4, 0, -1}, -1, 3, {4, 3, 2}},
    {13, MINIRT_INT64, 3, {2, 3, 4}, 1, {-1}, -1, 1, {24}},
    {13, MINIRT_UINT8, 2, {6, 5}, 4, {0, 1, 5, 1}, -1, 4, {6, 1, 5, 1}},
    {14, MINIRT_BOOL, 1, {1}, 0, {0}, -1, 0, {0}},
    {14, MINIRT_FLOAT64, 0, {0}, 3, {1, 1, 1}, -1, 3, {1, 1, 1}},
    {14, MINIRT_FLOAT32, 3, {0, 3, 4}, 3, {3, 4, 0}, 1, 3, {3, 4, 0}},
    {14, MINIRT_FLOAT32, 3, {0, 3, 4}, 2, {-1, 12}, 0, 2, {0, 12}},
    {14, MINIRT_INT8, 4, {2, 1, 3, 5}, 3, {0, 0, -1}, 0, 3, {2, 1, 15}},
    {21, MINIRT_INT32, 2, {7, 3}, 2, {3, 7}, 1, 2, {3, 7}},
};

static void test_reshape(void **state) {
    (void)state;
    for (size_t ci = 0; ci < sizeof(reshape_cases) / sizeof(reshape_cases[0]); ci++) {
        const reshape_case *c = &reshape_cases[ci];
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        mr_node n;
        mrt_node_init(&n, "Reshape", c->opset);
        if (c->allowzero >= 0) mrt_attr_int(&n, "allowzero", c->allowzero);
        if (c->opset < 5) mrt_attr_ints(&n, "shape", c->s, c->sn);
        mr_tensor x = mrt_tensor(c->dtype, c->xn, c->x),
                  s = mrt_tensor_vec(MINIRT_INT64, c->sn, c->s), y;
        memset(&y, 0, sizeof(y));
        mrt_fill_any(&x, 11);
        mr_tensor *in[2] = {&x, &s}, *out[1] = {&y};
        mr_status st = mrt_run_op(&ctx, &n, in, c->opset < 5 ? 1 : 2, out, 1);
        if (st != MINIRT_OK) fail_msg("reshape case %zu: %s", ci, ctx.err);
        assert_int_equal(y.dtype, c->dtype);
        check_dims("reshape", ci, &y, c->yn, c->y);
        size_t bytes = (size_t)mr_numel(&x) * mr_dtype_size(c->dtype);
        if (bytes) assert_memory_equal(y.data, x.data, bytes);
        mrt_tensor_free(&x);
        mrt_tensor_free(&s);
        mrt_tensor_free(&y);
        mrt_node_free(&ctx, &n);
    }
}

/* One Reshape at opset 14 of a float32 input of shape x to target s; expect an error. */
static void reshape_error(int xn, const int64_t *xd, int sn, const int64_t *sv, int allowzero,
                          mr_status want, const char *s1, const char *s2) {
    mr_node n;
    mrt_node_init(&n, "Reshape", 14);
    if (allowzero >= 0) mrt_attr_int(&n, "allowzero", allowzero);
    mr_tensor x = mrt_tensor(MINIRT_FLOAT32, xn, xd), s = mrt_tensor_vec(MINIRT_INT64, sn, sv);
    mr_tensor *in[2] = {&x, &s};
    mrt_run_expect(&n, in, 2, NULL, 1, want, s1, s2);
    mrt_tensor_free(&x);
    mrt_tensor_free(&s);
}

static void test_reshape_errors(void **state) {
    (void)state;
    const int64_t x[3] = {2, 3, 4};
    reshape_error(3, x, 3, (int64_t[]){-1, 2, -1}, -1, MINIRT_ERR_MODEL, "more than one -1",
                  "-1x2x-1");
    reshape_error(3, x, 2, (int64_t[]){5, 5}, -1, MINIRT_ERR_SHAPE, "2x3x4", "5x5");
    reshape_error(3, x, 2, (int64_t[]){5, -1}, -1, MINIRT_ERR_SHAPE, "2x3x4", "whole number");
    reshape_error(3, x, 2, (int64_t[]){-2, 12}, -1, MINIRT_ERR_MODEL, "-2", "index 0");
    reshape_error(3, x, 4, (int64_t[]){1, 1, 1, 0}, -1, MINIRT_ERR_MODEL, "rank 3", "0");
    reshape_error(3, (int64_t[]){0, 3, 4}, 2, (int64_t[]){0, -1}, 1, MINIRT_ERR_MODEL,
                  "both 0 and -1", "allowzero");
    reshape_error(3, (int64_t[]){0, 3, 4}, 2, (int64_t[]){-1, 0}, 1, MINIRT_ERR_MODEL, "0 and -1",
                  "-1x0");
    reshape_error(3, (int64_t[]){0, 3, 4}, 2, (int64_t[]){0, -1}, 0, MINIRT_ERR_SHAPE,
                  "0x3x4 to [0x-1]", "ambiguous");
    reshape_error(3, x, 2, (int64_t[]){(int64_t)1 << 40, (int64_t)1 << 40}, -1, MINIRT_ERR_LIMIT,
                  "overflows", "1099511627776");
    reshape_error(3, x, 2, (int64_t[]){6, 4}, 2, MINIRT_ERR_MODEL, "allowzero is 2", "0 or 1");
    /* The shape input unknown at plan time. */
    mr_node n;
    mrt_node_init(&n, "Reshape", 13);
    mr_tensor xt = mrt_tensor(MINIRT_FLOAT32, 3, x),
              s = mrt_tensor_vec(MINIRT_INT64, 2, (int64_t[]){6, 4});
    mr_tensor unknown = mrt_tensor_nodata(MINIRT_INT64, s.ndim, s.dims);
    mr_tensor *in[2] = {&xt, &unknown};
    mrt_run_expect(&n, in, 2, NULL, 1, MINIRT_ERR_UNSUPPORTED, "input 'shape'",
                   "known before the run");
    in[1] = &s;
    /* Attribute forms per opset. */
    mrt_node_init(&n, "Reshape", 5);
    mrt_attr_ints(&n, "shape", (int64_t[]){24}, 1);
    mrt_run_expect(&n, in, 2, NULL, 1, MINIRT_ERR_MODEL, "'shape'", "input in opset 5");
    mrt_node_init(&n, "Reshape", 1);
    mrt_run_expect(&n, in, 1, NULL, 1, MINIRT_ERR_MODEL, "'shape'", "required");
    mrt_node_init(&n, "Reshape", 13);
    mrt_attr_int(&n, "allowzero", 1);
    mrt_run_expect(&n, in, 2, NULL, 1, MINIRT_ERR_MODEL, "'allowzero'", "opset 14");
    mrt_node_init(&n, "Reshape", 3);
    mrt_attr_ints(&n, "shape", (int64_t[]){1, 1, 1, 1, 1, 1, 1, 1, 24}, 9);
    mrt_run_expect(&n, in, 1, NULL, 1, MINIRT_ERR_LIMIT, "9 values", "rank 8");
    mrt_tensor_free(&xt);
    mrt_tensor_free(&s);
}

/* ---- Squeeze / Unsqueeze ---- */

typedef struct axes_case {
    const char *op;
    int opset, dtype, xn;
    int64_t x[6];
    int an; /* -1: no axes (attribute absent, or the optional input absent) */
    int64_t a[6];
    int yn;
    int64_t y[8];
} axes_case;

static const axes_case axes_cases[] = {
    {"Squeeze", 1, MINIRT_FLOAT32, 4, {1, 3, 1, 5}, 1, {0}, 3, {3, 1, 5}},
    {"Squeeze", 1, MINIRT_INT64, 4, {1, 3, 1, 5}, -1, {0}, 2, {3, 5}},
    {"Squeeze", 11, MINIRT_UINT8, 4, {1, 3, 1, 5}, 2, {-2, 0}, 2, {3, 5}},
    {"Squeeze", 13, MINIRT_BOOL, 4, {1, 3, 1, 5}, 1, {-4}, 3, {3, 1, 5}},
    {"Squeeze", 13, MINIRT_FLOAT64, 3, {1, 1, 1}, -1, {0}, 0, {0}},
    {"Squeeze", 13, MINIRT_INT8, 2, {2, 3}, -1, {0}, 2, {2, 3}},
    {"Squeeze", 13, MINIRT_INT64, 3, {1, 2, 1}, 0, {0}, 1, {2}}, /* empty axes input: all */
    {"Squeeze", 21, MINIRT_INT32, 3, {0, 1, 7}, 1, {1}, 2, {0, 7}},
    {"Unsqueeze", 1, MINIRT_FLOAT32, 3, {3, 4, 5}, 2, {0, 4}, 5, {1, 3, 4, 5, 1}},
    {"Unsqueeze", 11, MINIRT_INT64, 3, {3, 4, 5}, 1, {-1}, 4, {3, 4, 5, 1}},
    {"Unsqueeze", 11, MINIRT_UINT8, 2, {3, 4}, 3, {-5, 3, 1}, 5, {1, 1, 3, 1, 4}},
    {"Unsqueeze", 13, MINIRT_BOOL, 0, {0}, 2, {1, 0}, 2, {1, 1}},
    {"Unsqueeze", 13, MINIRT_FLOAT64, 2, {2, 3}, 2, {2, 1}, 4, {2, 1, 1, 3}},
    {"Unsqueeze", 13, MINIRT_INT8, 2, {2, 3}, 0, {0}, 2, {2, 3}},
    {"Unsqueeze", 21, MINIRT_INT32, 1, {0}, 1, {0}, 2, {1, 0}},
};

static void test_squeeze_unsqueeze(void **state) {
    (void)state;
    for (size_t ci = 0; ci < sizeof(axes_cases) / sizeof(axes_cases[0]); ci++) {
        const axes_case *c = &axes_cases[ci];
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        mr_node n;
        mrt_node_init(&n, c->op, c->opset);
        bool as_input = c->opset >= 13;
        if (!as_input && c->an >= 0) mrt_attr_ints(&n, "axes", c->a, c->an);
        mr_tensor x = mrt_tensor(c->dtype, c->xn, c->x),
                  a = mrt_tensor_vec(MINIRT_INT64, c->an > 0 ? c->an : 0, c->a);
        mr_tensor y;
        memset(&y, 0, sizeof(y));
        mrt_fill_any(&x, 11);
        mr_tensor *in[2] = {&x, c->an >= 0 ? &a : NULL}, *out[1] = {&y};
        mr_status st = mrt_run_op(&ctx, &n, in, as_input ? 2 : 1, out, 1);
        if (st != MINIRT_OK) fail_msg("%s case %zu: %s", c->op, ci, ctx.err);
        assert_int_equal(y.dtype, c->dtype);
        check_dims(c->op, ci, &y, c->yn, c->y);
        size_t bytes = (size_t)mr_numel(&x) * mr_dtype_size(c->dtype);
        if (bytes) assert_memory_equal(y.data, x.data, bytes);
        mrt_tensor_free(&x);
        mrt_tensor_free(&a);
        mrt_tensor_free(&y);
        mrt_node_free(&ctx, &n);
    }
}

/* op at opset with axes (attribute before 13, input from 13) on a float32 x; expect an error. */
static void axes_error(const char *op, int opset, int xn, const int64_t *xd, int an,
                       const int64_t *av, mr_status want, const char *s1, const char *s2) {
    mr_node n;
    mrt_node_init(&n, op, opset);
    if (opset < 13) mrt_attr_ints(&n, "axes", av, an);
    mr_tensor x = mrt_tensor(MINIRT_FLOAT32, xn, xd), a = mrt_tensor_vec(MINIRT_INT64, an, av);
    mr_tensor *in[2] = {&x, &a};
    mrt_run_expect(&n, in, opset < 13 ? 1 : 2, NULL, 1, want, s1, s2);
    mrt_tensor_free(&x);
    mrt_tensor_free(&a);
}

static void test_squeeze_unsqueeze_errors(void **state) {
    (void)state;
    const int64_t x[3] = {1, 3, 1};
    axes_error("Squeeze", 13, 3, x, 1, (int64_t[]){1}, MINIRT_ERR_SHAPE, "axis 1 of input 1x3x1",
               "extent is 3");
    axes_error("Squeeze", 11, 3, x, 2, (int64_t[]){0, -3}, MINIRT_ERR_MODEL, "repeats axis 0",
               "axes[1]");
    axes_error("Squeeze", 13, 3, x, 1, (int64_t[]){3}, MINIRT_ERR_MODEL, "axes[0] 3",
               "out of range for rank 3");
    axes_error("Squeeze", 10, 3, x, 1, (int64_t[]){-1}, MINIRT_ERR_MODEL, "negative axes",
               "opset 11");
    axes_error("Unsqueeze", 13, 3, x, 2, (int64_t[]){1, -4}, MINIRT_ERR_MODEL, "repeats axis 1",
               "axes[1] = -4");
    axes_error("Unsqueeze", 12, 3, x, 1, (int64_t[]){4}, MINIRT_ERR_MODEL, "axes[0] 4", "rank 4");
    axes_error("Unsqueeze", 9, 3, x, 1, (int64_t[]){-1}, MINIRT_ERR_MODEL, "negative axes",
               "opset 9");
    axes_error("Unsqueeze", 13, 3, x, 6, (int64_t[]){0, 1, 2, 3, 4, 5}, MINIRT_ERR_LIMIT,
               "inserting 6 axes into rank 3", "maximum rank 8");
    /* Attribute forms per opset, unknown axes input. */
    mr_node n;
    mr_tensor xt = mrt_tensor(MINIRT_FLOAT32, 3, x),
              a = mrt_tensor_vec(MINIRT_INT64, 1, (int64_t[]){0});
    mr_tensor *in[2] = {&xt, &a};
    mrt_node_init(&n, "Unsqueeze", 11);
    mrt_run_expect(&n, in, 1, NULL, 1, MINIRT_ERR_MODEL, "'axes'", "required");
    mrt_node_init(&n, "Squeeze", 13);
    mrt_attr_ints(&n, "axes", (int64_t[]){0}, 1);
    mrt_run_expect(&n, in, 2, NULL, 1, MINIRT_ERR_MODEL, "'axes'", "input in opset 13");
    mr_tensor unknown = mrt_tensor_nodata(MINIRT_INT64, a.ndim, a.dims);
    in[1] = &unknown;
    mrt_node_init(&n, "Unsqueeze", 13);
    mrt_run_expect(&n, in, 2, NULL, 1, MINIRT_ERR_UNSUPPORTED, "input 'axes'",
                   "known before the run");
    mrt_node_init(&n, "Squeeze", 13);
    mrt_run_expect(&n, in, 2, NULL, 1, MINIRT_ERR_UNSUPPORTED, "input 'axes'",
                   "known before the run");
    mrt_tensor_free(&xt);
    mrt_tensor_free(&a);
}

/* ---- Expand ---- */

typedef struct expand_case {
    int opset, dtype, xn;
    int64_t x[5];
    int sn;
    int64_t s[5];
    int yn;
    int64_t y[5];
} expand_case;

static const expand_case expand_cases[] = {
    {8, MINIRT_FLOAT32, 2, {3, 1}, 3, {2, 1, 6}, 3, {2, 3, 6}},
    {13, MINIRT_FLOAT32, 2, {3, 1}, 2, {3, 4}, 2, {3, 4}},
    {13, MINIRT_INT64, 1, {1}, 2, {3, 5}, 2, {3, 5}},
    {13, MINIRT_UINT8, 3, {2, 1, 3}, 1, {1}, 3, {2, 1, 3}},
    {13, MINIRT_BOOL, 3, {1, 4, 1}, 4, {2, 1, 1, 3}, 4, {2, 1, 4, 3}},
    {13, MINIRT_FLOAT64, 0, {0}, 3, {2, 1, 3}, 3, {2, 1, 3}},
    {13, MINIRT_INT32, 3, {5, 1, 7}, 3, {5, 4, 7}, 3, {5, 4, 7}},
    {13, MINIRT_INT8, 2, {1, 3}, 3, {2, 0, 3}, 3, {2, 0, 3}},
    {21, MINIRT_FLOAT32, 4, {1, 2, 1, 3}, 4, {3, 2, 2, 1}, 4, {3, 2, 2, 3}},
    {13, MINIRT_FLOAT32, 2, {3, 4}, 0, {0}, 2, {3, 4}},
};

static void test_expand(void **state) {
    (void)state;
    for (size_t ci = 0; ci < sizeof(expand_cases) / sizeof(expand_cases[0]); ci++) {
        const expand_case *c = &expand_cases[ci];
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        mr_node n;
        mrt_node_init(&n, "Expand", c->opset);
        mr_tensor x = mrt_tensor(c->dtype, c->xn, c->x),
                  s = mrt_tensor_vec(MINIRT_INT64, c->sn, c->s), y;
        memset(&y, 0, sizeof(y));
        mrt_fill_any(&x, 11);
        mr_tensor *in[2] = {&x, &s}, *out[1] = {&y};
        mr_status st = mrt_run_op(&ctx, &n, in, 2, out, 1);
        if (st != MINIRT_OK) fail_msg("expand case %zu: %s", ci, ctx.err);
        assert_int_equal(y.dtype, c->dtype);
        check_dims("expand", ci, &y, c->yn, c->y);
        /* Reference: each output index maps to the input index with broadcast axes at 0. */
        size_t es = mr_dtype_size(c->dtype);
        int64_t total = mr_numel(&y);
        for (int64_t i = 0; i < total; i++) {
            int64_t rem = i, xi = 0, xstride = 1;
            for (int d = c->yn - 1; d >= 0; d--) {
                int64_t yd = rem % c->y[d];
                rem /= c->y[d];
                int xd = d - (c->yn - c->xn);
                if (xd < 0) continue;
                xi += (c->x[xd] == 1 ? 0 : yd) * xstride;
                xstride *= c->x[xd];
            }
            if (memcmp((char *)y.data + i * (int64_t)es, (char *)x.data + xi * (int64_t)es, es))
                fail_msg("expand case %zu: element %lld differs from input %lld", ci, (long long)i,
                         (long long)xi);
        }
        mrt_tensor_free(&x);
        mrt_tensor_free(&s);
        mrt_tensor_free(&y);
        mrt_node_free(&ctx, &n);
    }
}

static void test_expand_errors(void **state) {
    (void)state;
    const int64_t xd[2] = {3, 4};
    const struct {
        int sn;
        int64_t s[4];
        mr_status want;
        const char *s1, *s2;
    } cases[] = {
        {2, {3, 5}, MINIRT_ERR_SHAPE, "does not broadcast", "5 vs 4"},
        {2, {2, 4}, MINIRT_ERR_SHAPE, "does not broadcast", "2 vs 3"},
        {2, {-1, 4}, MINIRT_ERR_MODEL, "input 'shape'", "negative"},
        {4, {(int64_t)1 << 40, (int64_t)1 << 40, 1, 4}, MINIRT_ERR_LIMIT, "output", "3x4"},
    };
    for (size_t ci = 0; ci < sizeof(cases) / sizeof(cases[0]); ci++) {
        mr_node n;
        mrt_node_init(&n, "Expand", 13);
        mr_tensor x = mrt_tensor(MINIRT_FLOAT32, 2, xd),
                  s = mrt_tensor_vec(MINIRT_INT64, cases[ci].sn, cases[ci].s);
        mr_tensor *in[2] = {&x, &s};
        mrt_run_expect(&n, in, 2, NULL, 1, cases[ci].want, cases[ci].s1, cases[ci].s2);
        if (ci == 0) { /* the same with the shape unknown at plan time */
            mr_tensor unknown = mrt_tensor_nodata(MINIRT_INT64, s.ndim, s.dims);
            in[1] = &unknown;
            mrt_node_init(&n, "Expand", 8);
            mrt_run_expect(&n, in, 2, NULL, 1, MINIRT_ERR_UNSUPPORTED, "input 'shape'", "known");
        }
        mrt_tensor_free(&x);
        mrt_tensor_free(&s);
    }
}

/* ---- Shape / Size ---- */

#define NO_ATTR INT64_MIN

static void test_shape_size(void **state) {
    (void)state;
    const struct {
        int opset, xn;
        int64_t x[5];
        int64_t start, end;
        int yn;
        int64_t y[5];
    } cases[] = {
        {1, 4, {2, 3, 4, 5}, NO_ATTR, NO_ATTR, 4, {2, 3, 4, 5}},
        {13, 0, {0}, NO_ATTR, NO_ATTR, 0, {0}},
        {15, 4, {2, 3, 4, 5}, 1, NO_ATTR, 3, {3, 4, 5}},
        {15, 4, {2, 3, 4, 5}, NO_ATTR, -1, 3, {2, 3, 4}},
        {15, 4, {2, 3, 4, 5}, -3, 3, 2, {3, 4}},
        {15, 4, {2, 3, 4, 5}, -10, 10, 4, {2, 3, 4, 5}},
        {15, 4, {2, 3, 4, 5}, 3, 1, 0, {0}},
        {21, 3, {0, 7, 1}, 2, 3, 1, {1}},
    };
    for (size_t ci = 0; ci < sizeof(cases) / sizeof(cases[0]); ci++) {
        for (int op = 0; op < 2; op++) {
            mr_ctx ctx;
            mr_ctx_init(&ctx, NULL);
            mr_node n;
            mrt_node_init(&n, op ? "Size" : "Shape", cases[ci].opset);
            if (!op && cases[ci].start != NO_ATTR) mrt_attr_int(&n, "start", cases[ci].start);
            if (!op && cases[ci].end != NO_ATTR) mrt_attr_int(&n, "end", cases[ci].end);
            /* Both read only the shape: run them on an input without contents. */
            mr_tensor x, y;
            memset(&x, 0, sizeof(x));
            memset(&y, 0, sizeof(y));
            x.dtype = mrt_all_types[ci % 7];
            x.ndim = cases[ci].xn;
            memcpy(x.dims, cases[ci].x, sizeof(x.dims));
            mr_tensor *in[1] = {&x}, *out[1] = {&y};
            mr_status st = mrt_run_op(&ctx, &n, in, 1, out, 1);
            if (st != MINIRT_OK) fail_msg("%s case %zu: %s", n.op_type, ci, ctx.err);
            assert_true(n.op->flags & MR_OP_SHAPE_ONLY);
            assert_int_equal(y.dtype, MINIRT_INT64);
            if (op) {
                assert_int_equal(y.ndim, 0);
                assert_int_equal(*(int64_t *)y.data, mr_numel(&x));
            } else {
                int64_t k = cases[ci].yn;
                check_dims("shape", ci, &y, 1, &k);
                if (k) assert_memory_equal(y.data, cases[ci].y, (size_t)k * sizeof(int64_t));
            }
            mrt_tensor_free(&y);
            mrt_node_free(&ctx, &n);
        }
    }
    mr_node n;
    int64_t d = 3;
    mr_tensor x = mrt_tensor(MINIRT_FLOAT32, 1, &d);
    mr_tensor *in[1] = {&x};
    mrt_node_init(&n, "Shape", 13);
    mrt_attr_int(&n, "start", 1);
    mrt_run_expect(&n, in, 1, NULL, 1, MINIRT_ERR_MODEL, "'start'", "opset 15");
    mrt_node_init(&n, "Shape", 14);
    mrt_attr_int(&n, "end", 1);
    mrt_run_expect(&n, in, 1, NULL, 1, MINIRT_ERR_MODEL, "'end'", "opset 14");
    mrt_tensor_free(&x);
}

/* ---- Dropout ---- */

static void test_dropout(void **state) {
    (void)state;
    const struct {
        int opset, dtype;
        bool with_ratio, with_mode, with_mask;
        int mask_dtype;
    } cases[] = {
        {1, MINIRT_FLOAT32, false, false, true, MINIRT_FLOAT32},
        {6, MINIRT_FLOAT64, false, false, true, MINIRT_FLOAT64},
        {7, MINIRT_FLOAT32, false, false, false, 0},
        {9, MINIRT_INT32, false, false, true, MINIRT_INT32},
        {10, MINIRT_FLOAT32, false, false, true, MINIRT_BOOL},
        {12, MINIRT_FLOAT32, true, true, true, MINIRT_BOOL},
        {13, MINIRT_FLOAT64, true, false, true, MINIRT_BOOL},
        {13, MINIRT_INT64, false, true, false, 0},
        {21, MINIRT_UINT8, false, false, true, MINIRT_BOOL},
    };
    for (size_t ci = 0; ci < sizeof(cases) / sizeof(cases[0]); ci++) {
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        mr_node n;
        mrt_node_init(&n, "Dropout", cases[ci].opset);
        if (cases[ci].opset < 7) mrt_attr_int(&n, "is_test", ci % 2);
        if (cases[ci].opset < 12) mrt_attr_float(&n, "ratio", 0.25f);
        if (cases[ci].opset >= 12) mrt_attr_int(&n, "seed", 7);
        const int64_t xd[3] = {2, 3, 5}, one = 1;
        mr_tensor x = mrt_tensor(cases[ci].dtype, 3, xd);
        mr_tensor r = mrt_tensor(MINIRT_FLOAT32, 0, &one), m = mrt_tensor(MINIRT_BOOL, 0, &one);
        *(float *)r.data = 0.5f; /* training_mode stays false */
        mr_tensor y[2];
        memset(y, 0, sizeof(y));
        mrt_fill_any(&x, 11);
        mr_tensor *in[3] = {&x, cases[ci].with_ratio ? &r : NULL, cases[ci].with_mode ? &m : NULL};
        mr_tensor *out[2] = {&y[0], cases[ci].with_mask ? &y[1] : NULL};
        int n_in = cases[ci].opset >= 12 ? 3 : 1;
        mr_status st = mrt_run_op(&ctx, &n, in, n_in, out, 2);
        if (st != MINIRT_OK) fail_msg("dropout case %zu: %s", ci, ctx.err);
        check_dims("dropout", ci, &y[0], 3, xd);
        assert_memory_equal(y[0].data, x.data, 30 * mr_dtype_size(cases[ci].dtype));
        if (cases[ci].with_mask) {
            assert_int_equal(y[1].dtype, cases[ci].mask_dtype);
            check_dims("dropout mask", ci, &y[1], 3, xd);
            for (int i = 0; i < 30; i++) {
                double v = 0;
                const void *p = y[1].data;
                switch (y[1].dtype) {
                case MINIRT_FLOAT32:
                    v = ((const float *)p)[i];
                    break;
                case MINIRT_FLOAT64:
                    v = ((const double *)p)[i];
                    break;
                case MINIRT_INT32:
                    v = ((const int32_t *)p)[i];
                    break;
                default:
                    v = ((const uint8_t *)p)[i];
                    break;
                }
                if (v != 1.0) fail_msg("dropout case %zu: mask[%d] = %g, want 1", ci, i, v);
            }
        }
        mrt_tensor_free(&x);
        mrt_tensor_free(&r);
        mrt_tensor_free(&m);
        mrt_tensor_free(&y[0]);
        mrt_tensor_free(&y[1]);
        mrt_node_free(&ctx, &n);
    }
}

static void test_dropout_errors(void **state) {
    (void)state;
    const int64_t xd[2] = {2, 3}, one = 1;
    mr_tensor x = mrt_tensor(MINIRT_FLOAT32, 2, xd), m = mrt_tensor(MINIRT_BOOL, 0, &one);
    mr_tensor f = mrt_tensor(MINIRT_FLOAT32, 0, &one);
    *(uint8_t *)m.data = 1;
    mr_node n;
    mr_tensor *in[3] = {&x, NULL, &m};
    mrt_node_init(&n, "Dropout", 13);
    mrt_run_expect(&n, in, 3, NULL, 2, MINIRT_ERR_UNSUPPORTED, "training_mode is true",
                   "inference only");
    in[2] = &f;
    mrt_node_init(&n, "Dropout", 12);
    mrt_run_expect(&n, in, 3, NULL, 1, MINIRT_ERR_MODEL, "'training_mode'",
                   "bool scalar, not float32");
    mrt_node_init(&n, "Dropout", 7);
    mrt_attr_int(&n, "is_test", 1);
    mrt_run_expect(&n, in, 1, NULL, 1, MINIRT_ERR_MODEL, "'is_test'", "removed in opset 7");
    mrt_node_init(&n, "Dropout", 12);
    mrt_attr_float(&n, "ratio", 0.5f);
    mrt_run_expect(&n, in, 1, NULL, 1, MINIRT_ERR_MODEL, "'ratio'", "input in opset 12");
    mrt_node_init(&n, "Dropout", 6);
    mrt_attr_int(&n, "ratio", 1);
    mrt_run_expect(&n, in, 1, NULL, 1, MINIRT_ERR_MODEL, "'ratio'", "should be float");

    /* training_mode unknown at plan time and true at run time: the run refuses. */
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    bool known;
    mrt_node_init(&n, "Dropout", 15);
    n.op = mr_registry_find("", "Dropout", 15, &known);
    n.n_in = 3;
    n.n_out = 1;
    assert_int_equal(n.op->prepare(&ctx, &n), MINIRT_OK);
    mr_tensor unknown = mrt_tensor_nodata(MINIRT_BOOL, m.ndim, m.dims);
    mr_tensor y = mrt_tensor(MINIRT_FLOAT32, 2, xd);
    mr_tensor *io[3] = {&x, NULL, &unknown}, *out[1] = {&y};
    assert_int_equal(n.op->infer(&ctx, &n, io, out), MINIRT_OK);
    io[2] = &m;
    assert_int_equal(n.op->run(&ctx, &n, io, out, NULL), MINIRT_ERR_UNSUPPORTED);
    assert_non_null(strstr(ctx.err, "training_mode is true"));
    mrt_node_free(&ctx, &n);
    mrt_tensor_free(&y);
    mrt_tensor_free(&x);
    mrt_tensor_free(&m);
    mrt_tensor_free(&f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flatten_table),
        cmocka_unit_test(test_identity),
        cmocka_unit_test(test_shape_errors),
        cmocka_unit_test(test_reshape),
        cmocka_unit_test(test_reshape_errors),
        cmocka_unit_test(test_squeeze_unsqueeze),
        cmocka_unit_test(test_squeeze_unsqueeze_errors),
        cmocka_unit_test(test_expand),
        cmocka_unit_test(test_expand_errors),
        cmocka_unit_test(test_shape_size),
        cmocka_unit_test(test_dropout),
        cmocka_unit_test(test_dropout_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
