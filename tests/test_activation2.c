/*
 * test_activation2.c - Clip, Softmax and LogSoftmax against plain double-precision references:
 * Clip with attributes (opsets 1..10) and with optional min / max inputs (opset 11 on; present,
 * absent, named ""), min > max, every computed type and the infinities; Softmax / LogSoftmax in
 * the coerced-2-D form (opsets 1, 11) and the single-axis form (opset 13), negative axes, axes
 * with more than one block of columns, huge inputs, empty tensors; and the errors.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrt.h"

#define F32 MINIRT_FLOAT32
#define F64 MINIRT_FLOAT64

static bool is_float(int dtype) {
    return dtype == F32 || dtype == F64;
}

/* ---- Clip ---- */

typedef struct clip_case {
    int opset;
    int dtype;
    int ndim;
    int64_t dims[3];
    int attrs;   /* bit 0: attribute min, bit 1: attribute max (opsets < 11) */
    int n_in;    /* inputs passed, 1..3 */
    int present; /* bit 0: input min given, bit 1: input max given (others NULL) */
    double lo, hi;
    int bound_rank; /* rank of the min / max inputs: 0 or 1 (shape [1]) */
} clip_case;

static const clip_case clip_cases[] = {
    {6, F32, 2, {3, 4}, 3, 1, 0, -0.5, 0.5, 0},
    {6, F32, 1, {17}, 0, 1, 0, 0, 0, 0},
    {1, F32, 1, {17}, 1, 1, 0, 0, 0, 0},
    {10, F32, 1, {17}, 2, 1, 0, 0, 0.125, 0},
    {11, F32, 3, {3, 4, 5}, 0, 3, 3, -1, 1, 0},
    {11, F32, 1, {33}, 0, 2, 1, 0.25, 0, 0},
    {11, F32, 1, {33}, 0, 3, 2, 0, -0.25, 0},
    {11, F32, 1, {33}, 0, 1, 0, 0, 0, 0},
    {13, F32, 1, {33}, 0, 3, 3, 1, -1, 0},
    {13, F32, 1, {1001}, 0, 3, 3, -0.5, 0.5, 1},
    {12, MINIRT_INT32, 2, {5, 7}, 0, 3, 3, -10, 20, 0},
    {13, MINIRT_INT64, 1, {19}, 0, 2, 1, 5, 0, 0},
    {13, MINIRT_INT8, 2, {3, 5}, 0, 3, 2, 0, 7, 0},
    {13, MINIRT_UINT8, 1, {9}, 0, 3, 3, 30, 200, 0},
    {13, MINIRT_INT32, 1, {9}, 0, 3, 0, 0, 0, 0},
    {13, F64, 2, {4, 4}, 0, 3, 3, -0.3, 0.7, 0},
    {6, F64, 1, {9}, 3, 1, 0, -2, 2, 0},
    {6, F64, 1, {9}, 0, 1, 0, 0, 0, 0},
};

static void test_clip_table(void **state) {
    (void)state;
    for (size_t c = 0; c < sizeof(clip_cases) / sizeof(clip_cases[0]); c++) {
        const clip_case *cc = &clip_cases[c];
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        mr_node n;
        mrt_node_init(&n, "Clip", cc->opset);
        double lo = cc->opset < 11 ? -FLT_MAX : -INFINITY, hi = -lo;
        if (!is_float(cc->dtype)) lo = -1e300, hi = 1e300;
        if (cc->attrs & 1) mrt_attr_float(&n, "min", (float)cc->lo), lo = cc->lo;
        if (cc->attrs & 2) mrt_attr_float(&n, "max", (float)cc->hi), hi = cc->hi;
        if (cc->attrs) lo = (float)lo, hi = (float)hi;
        int64_t one[1] = {1};
        mr_tensor x = mrt_tensor(cc->dtype, cc->ndim, cc->dims), y;
        mr_tensor bmin = mrt_tensor(cc->dtype, cc->bound_rank, one);
        mr_tensor bmax = mrt_tensor(cc->dtype, cc->bound_rank, one);
        mrt_set(&bmin, 0, cc->lo);
        mrt_set(&bmax, 0, cc->hi);
        if (cc->present & 1) lo = mrt_get(&bmin, 0);
        if (cc->present & 2) hi = mrt_get(&bmax, 0);
        mrt_fill_range(&x, (uint32_t)c + 5, cc->dtype == MINIRT_UINT8 ? 0 : -100,
                       cc->dtype == MINIRT_UINT8 ? 250 : 100);
        if (!is_float(cc->dtype)) mrt_set(&x, 0, cc->dtype == MINIRT_UINT8 ? 255 : 127);
        int64_t cnt = mr_numel(&x);
        if (is_float(cc->dtype)) {
            mrt_set(&x, 0, INFINITY);
            mrt_set(&x, 1, -INFINITY);
            mrt_set(&x, 2, NAN);
            mrt_set(&x, 3, cc->lo);
            for (int64_t i = 4; i < cnt; i++)
                mrt_set(&x, i, mrt_get(&x, i) / 100.0);
        }
        double *want = malloc((size_t)cnt * sizeof(double));
        for (int64_t i = 0; i < cnt; i++) {
            double v = mrt_get(&x, i);
            v = v < lo ? lo : v;
            want[i] = v > hi ? hi : v;
        }
        mr_tensor *in[3] = {&x, cc->present & 1 ? &bmin : NULL, cc->present & 2 ? &bmax : NULL};
        if (mrt_run_op1(&ctx, &n, in, cc->n_in, &y) != MINIRT_OK)
            fail_msg("case %zu: %s", c, ctx.err);
        assert_int_equal(y.dtype, cc->dtype);
        assert_int_equal(y.ndim, cc->ndim);
        assert_memory_equal(y.dims, x.dims, (size_t)cc->ndim * sizeof(int64_t));
        char what[32];
        snprintf(what, sizeof(what), "clip case %zu", c);
        mrt_assert_close_any(&y, want, 0, 0, what);
        free(want);
        mrt_tensor_free(&x);
        mrt_tensor_free(&bmin);
        mrt_tensor_free(&bmax);
        mrt_tensor_free(&y);
        mrt_node_free(&ctx, &n);
    }
}

/* Clip at opset with x [2, 3] of xt, an optional min input (type mt, rank mn, 2 elements when
 * mn == 1), and an optional float attribute; expect status and message substring. */
static void expect_clip_error(int opset, int xt, int mt, int mn, const char *attr, mr_status want,
                              const char *substr) {
    mr_node n;
    mrt_node_init(&n, "Clip", opset);
    if (attr) mrt_attr_float(&n, attr, 1.0f);
    int64_t d[2] = {2, 3}, md[1] = {2};
    mr_tensor x = mrt_tensor(xt, 2, d), m = mrt_tensor(mt ? mt : F32, mn, md);
    mr_tensor *in[2] = {&x, &m};
    mrt_run_expect(&n, in, mt ? 2 : 1, NULL, 1, want, substr, NULL);
    mrt_tensor_free(&x);
    mrt_tensor_free(&m);
}

static void test_clip_errors(void **state) {
    (void)state;
    expect_clip_error(13, F32, F32, 1, NULL, MINIRT_ERR_SHAPE,
                      "input min has shape 2; it must be a scalar");
    expect_clip_error(13, F32, F64, 0, NULL, MINIRT_ERR_MODEL,
                      "input min has type float64 but input has type float32");
    expect_clip_error(11, F32, 0, 0, "min", MINIRT_ERR_MODEL,
                      "attribute 'min' became an input in opset 11");
    expect_clip_error(12, F32, 0, 0, "max", MINIRT_ERR_MODEL, "attribute 'max'");
    expect_clip_error(11, MINIRT_INT32, 0, 0, NULL, MINIRT_ERR_MODEL,
                      "int32, which Clip does not accept at opset 11");
    expect_clip_error(6, F32, F32, 0, NULL, MINIRT_ERR_MODEL, "input 'min' exists from opset 11");
    expect_clip_error(13, MINIRT_BOOL, 0, 0, NULL, MINIRT_ERR_MODEL, "bool");
    expect_clip_error(22, F32, 0, 0, NULL, MINIRT_ERR_UNSUPPORTED, "Clip");
}

/* ---- Softmax and LogSoftmax ---- */

typedef struct softmax_case {
    bool log;
    int opset;
    int dtype;
    int ndim;
    int64_t dims[4];
    bool has_axis;
    int64_t axis;
    double offset; /* added to every input (huge values test the max subtraction) */
} softmax_case;

static const softmax_case softmax_cases[] = {
    {false, 13, F32, 3, {3, 4, 5}, false, 0, 0},   {false, 13, F32, 3, {3, 4, 5}, true, 0, 0},
    {false, 13, F32, 3, {3, 4, 5}, true, 1, 0},    {false, 13, F32, 3, {3, 4, 5}, true, -2, 0},
    {false, 11, F32, 3, {3, 4, 5}, true, 1, 0},    {false, 11, F32, 3, {3, 4, 5}, false, 0, 0},
    {false, 1, F32, 3, {3, 4, 5}, true, 0, 0},     {false, 11, F32, 4, {2, 3, 4, 5}, true, -1, 0},
    {false, 11, F32, 4, {2, 3, 4, 5}, true, 3, 0}, {false, 13, F32, 2, {2, 4}, false, 0, 10000},
    {false, 13, F32, 3, {2, 7, 300}, true, 1, 0},  {false, 13, F32, 1, {1}, false, 0, 0},
    {false, 13, F32, 2, {5, 1}, true, 1, 0},       {false, 13, F32, 3, {2, 0, 3}, true, 1, 0},
    {false, 13, F32, 2, {3, 1027}, false, 0, 0},   {false, 13, F64, 3, {4, 3, 2}, true, -2, 0},
    {false, 6, F64, 2, {10, 20}, true, 1, 0},      {true, 13, F32, 3, {3, 4, 5}, false, 0, 0},
    {true, 13, F32, 3, {3, 4, 5}, true, 0, 0},     {true, 13, F32, 3, {3, 4, 5}, true, 1, 0},
    {true, 11, F32, 2, {10, 20}, true, 1, 0},      {true, 1, F32, 4, {2, 3, 4, 5}, true, 2, 0},
    {true, 13, F32, 2, {2, 4}, false, 0, -10000},  {true, 13, F32, 3, {2, 5, 513}, true, 1, 0},
    {true, 13, F32, 2, {5, 1}, true, 1, 0},        {true, 13, F64, 2, {3, 7}, true, 0, 0},
    {true, 13, F32, 2, {0, 4}, true, 1, 0},
};

/* Reference in double: view as [outer, n, inner] per the opset's rule. */
static void ref_softmax(const softmax_case *sc, const mr_tensor *x, double *y) {
    int64_t axis = sc->has_axis ? sc->axis : sc->opset >= 13 ? -1 : 1;
    if (axis < 0) axis += sc->ndim;
    int64_t outer = 1, n = 1, inner = 1;
    for (int i = 0; i < sc->ndim; i++) {
        if (i < axis)
            outer *= sc->dims[i];
        else if (i == axis || sc->opset < 13)
            n *= sc->dims[i];
        else
            inner *= sc->dims[i];
    }
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < inner; j++) {
            int64_t base = o * n * inner + j;
            double m = -INFINITY, s = 0;
            for (int64_t k = 0; k < n; k++)
                m = fmax(m, mrt_get(x, base + k * inner));
            for (int64_t k = 0; k < n; k++)
                s += exp(mrt_get(x, base + k * inner) - m);
            for (int64_t k = 0; k < n; k++) {
                double v = mrt_get(x, base + k * inner) - m;
                y[base + k * inner] = sc->log ? v - log(s) : exp(v) / s;
            }
        }
}

static void test_softmax_table(void **state) {
    (void)state;
    for (size_t c = 0; c < sizeof(softmax_cases) / sizeof(softmax_cases[0]); c++) {
        const softmax_case *sc = &softmax_cases[c];
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        mr_node n;
        mrt_node_init(&n, sc->log ? "LogSoftmax" : "Softmax", sc->opset);
        if (sc->has_axis) mrt_attr_int(&n, "axis", sc->axis);
        mr_tensor x = mrt_tensor(sc->dtype, sc->ndim, sc->dims), y;
        mrt_fill_range(&x, (uint32_t)c + 11, -8, 8);
        int64_t cnt = mr_numel(&x);
        for (int64_t i = 0; i < cnt; i++)
            mrt_set(&x, i, mrt_get(&x, i) + sc->offset);
        double *want = malloc((size_t)cnt * sizeof(double) + 1);
        ref_softmax(sc, &x, want);
        mr_tensor *in[1] = {&x};
        if (mrt_run_op1(&ctx, &n, in, 1, &y) != MINIRT_OK) fail_msg("case %zu: %s", c, ctx.err);
        assert_int_equal(y.dtype, sc->dtype);
        assert_int_equal(y.ndim, sc->ndim);
        assert_memory_equal(y.dims, x.dims, (size_t)sc->ndim * sizeof(int64_t));
        char what[40];
        snprintf(what, sizeof(what), "softmax case %zu", c);
        if (sc->dtype == F32)
            mrt_assert_close_any(&y, want, 1e-5, 1e-6, what);
        else
            mrt_assert_close_any(&y, want, 1e-12, 1e-14, what);
        free(want);
        mrt_tensor_free(&x);
        mrt_tensor_free(&y);
        mrt_node_free(&ctx, &n);
    }
}

/* A row containing -inf gives it weight 0; a NaN poisons its row only. */
static void test_softmax_special(void **state) {
    (void)state;
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    mr_node n;
    mrt_node_init(&n, "Softmax", 13);
    int64_t d[2] = {2, 3};
    mr_tensor x = mrt_tensor(F32, 2, d), y;
    const double xv[6] = {-INFINITY, 0, 0, NAN, 1, 2};
    for (int i = 0; i < 6; i++)
        mrt_set(&x, i, xv[i]);
    mr_tensor *in[1] = {&x};
    assert_int_equal(mrt_run_op1(&ctx, &n, in, 1, &y), MINIRT_OK);
    const double want[6] = {0, 0.5, 0.5, NAN, NAN, NAN};
    mrt_assert_close_any(&y, want, 1e-6, 0, "softmax special");
    mrt_tensor_free(&x);
    mrt_tensor_free(&y);
    mrt_node_free(&ctx, &n);
}

static void expect_softmax_error(const char *op, int opset, int dtype, int ndim, bool has_axis,
                                 int64_t axis, mr_status want, const char *substr) {
    mr_node n;
    mrt_node_init(&n, op, opset);
    if (has_axis) mrt_attr_int(&n, "axis", axis);
    int64_t d[3] = {2, 3, 4};
    mr_tensor x = mrt_tensor(dtype, ndim, d);
    mr_tensor *in[1] = {&x};
    mrt_run_expect(&n, in, 1, NULL, 1, want, substr, NULL);
    mrt_tensor_free(&x);
}

static void test_softmax_errors(void **state) {
    (void)state;
    expect_softmax_error("Softmax", 13, F32, 3, true, 3, MINIRT_ERR_MODEL,
                         "axis 3 is out of range for rank 3");
    expect_softmax_error("LogSoftmax", 11, F32, 3, true, -4, MINIRT_ERR_MODEL, "axis -4");
    expect_softmax_error("Softmax", 13, F32, 0, false, 0, MINIRT_ERR_MODEL, "rank 0");
    expect_softmax_error("Softmax", 11, F32, 1, false, 0, MINIRT_ERR_MODEL, "axis 1");
    expect_softmax_error("Softmax", 13, MINIRT_INT32, 3, false, 0, MINIRT_ERR_MODEL,
                         "int32, which Softmax does not accept");
    expect_softmax_error("LogSoftmax", 22, F32, 3, false, 0, MINIRT_ERR_UNSUPPORTED, "LogSoftmax");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clip_table),     cmocka_unit_test(test_clip_errors),
        cmocka_unit_test(test_softmax_table),  cmocka_unit_test(test_softmax_special),
        cmocka_unit_test(test_softmax_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
