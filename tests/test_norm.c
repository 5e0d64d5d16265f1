/*
 * test_norm.c - BatchNormalization, InstanceNormalization, LayerNormalization and LRN against
 * plain references: ranks 1 to 5, batch > 1, every opset form of the attributes (consumed_inputs,
 * is_test, spatial, training_mode), mixed parameter types, negative axes, broadcast Scale/B, the
 * optional outputs, even and odd LRN sizes, float64, and the attribute, type and shape errors.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrt.h"

#define F32 MINIRT_FLOAT32
#define F64 MINIRT_FLOAT64

/* mrt_assert_close_any within tol * (1 + |want|), naming the case. */
static void check_close(const mr_tensor *got, const double *want, double tol, const char *what,
                        size_t ci) {
    char name[64];
    snprintf(name, sizeof(name), "%s case %zu", what, ci);
    mrt_assert_close_any(got, want, tol, tol, name);
}

static void free_all(mr_tensor *ts, int n) {
    for (int i = 0; i < n; i++)
        mrt_tensor_free(&ts[i]);
}

static void expect_error(mr_ctx *ctx, mr_status st, mr_status want, const char *substr, size_t i,
                         const char *what) {
    if (st != want || !strstr(ctx->err, substr))
        fail_msg("%s error %zu: want %d with '%s'; got %d: %s", what, i, want, substr, st,
                 ctx->err);
}

/* ---- BatchNormalization ---- */

typedef struct bn_case {
    int opset;
    int ndim;
    int64_t x[5];
    int dtype, scale_dtype, mean_dtype; /* 0: X's type */
    int spatial;                        /* -1: attribute absent */
    int is_test;                        /* -1: attribute absent */
    bool consumed_inputs;
    float epsilon; /* 0: attribute absent (1e-5) */
} bn_case;

static const bn_case bn_cases[] = {
    {1, 4, {2, 3, 4, 5}, F32, 0, 0, -1, 1, true, 0},
    {6, 4, {2, 3, 4, 5}, F32, 0, 0, -1, 1, false, 1e-3f},
    {6, 3, {3, 4, 7}, F32, 0, 0, 1, 0, false, 0},
    {7, 4, {1, 5, 3, 3}, F32, 0, 0, 1, -1, false, 0},
    {7, 4, {2, 3, 2, 3}, F32, 0, 0, 0, -1, false, 0.01f},
    {8, 2, {4, 6}, F32, 0, 0, 0, -1, false, 0},
    {9, 2, {4, 6}, F32, 0, 0, -1, -1, false, 0},
    {9, 5, {2, 3, 2, 3, 4}, F32, 0, 0, -1, -1, false, 0},
    {14, 4, {2, 3, 4, 5}, F32, 0, F64, -1, -1, false, 0},
    {15, 4, {2, 3, 4, 5}, F32, F64, F32, -1, -1, false, 0},
    {15, 3, {2, 4, 9}, F64, F32, F64, -1, -1, false, 0.5f},
    {15, 1, {7}, F32, 0, 0, -1, -1, false, 0},
    {21, 4, {0, 3, 2, 2}, F32, 0, 0, -1, -1, false, 0},
};

static void test_bn_table(void **state) {
    (void)state;
    for (size_t ci = 0; ci < sizeof(bn_cases) / sizeof(bn_cases[0]); ci++) {
        const bn_case *c = &bn_cases[ci];
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        mr_node n;
        mrt_node_init(&n, "BatchNormalization", c->opset);
        if (c->spatial >= 0) mrt_attr_int(&n, "spatial", c->spatial);
        if (c->is_test >= 0) mrt_attr_int(&n, "is_test", c->is_test);
        if (c->consumed_inputs) {
            const int64_t ci5[5] = {0, 0, 0, 1, 1};
            mrt_attr_ints(&n, "consumed_inputs", ci5, 5);
        }
        if (c->epsilon > 0) mrt_attr_float(&n, "epsilon", c->epsilon);
        double eps = c->epsilon > 0 ? c->epsilon : 1e-5f;
        int64_t C = c->ndim > 1 ? c->x[1] : 1, S = 1;
        for (int i = 2; i < c->ndim; i++)
            S *= c->x[i];
        /* Parameters: [C], or X's shape without the batch axis when spatial = 0. */
        bool per_elem = c->spatial == 0;
        int pndim = per_elem ? c->ndim - 1 : 1;
        int64_t pdims[4] = {C};
        if (per_elem) memcpy(pdims, c->x + 1, (size_t)pndim * sizeof(int64_t));
        mr_tensor t[6];
        t[0] = mrt_tensor(c->dtype, c->ndim, c->x);
        for (int i = 1; i < 5; i++) {
            int dt = i < 3 ? c->scale_dtype : c->mean_dtype;
            t[i] = mrt_tensor(dt ? dt : c->dtype, pndim, pdims);
        }
        memset(&t[5], 0, sizeof(t[5]));
        mrt_fill_range(&t[0], (uint32_t)ci, -3, 3);
        mrt_fill_range(&t[1], (uint32_t)ci + 100, 0.5, 2);
        mrt_fill_range(&t[2], (uint32_t)ci + 200, -1, 1);
        mrt_fill_range(&t[3], (uint32_t)ci + 300, -1, 1);
        mrt_fill_range(&t[4], (uint32_t)ci + 400, 0.1, 3);
        mr_tensor *in[5] = {&t[0], &t[1], &t[2], &t[3], &t[4]}, *out[1] = {&t[5]};
        mr_status st = mrt_run_op(&ctx, &n, in, 5, out, 1);
        if (st != MINIRT_OK) fail_msg("bn case %zu: %s", ci, ctx.err);
        assert_int_equal(t[5].dtype, c->dtype);
        assert_int_equal(t[5].ndim, c->ndim);
        assert_memory_equal(t[5].dims, c->x, (size_t)c->ndim * sizeof(int64_t));
        int64_t cnt = mr_numel(&t[0]);
        double *want = calloc((size_t)(cnt ? cnt : 1), sizeof(double));
        assert_non_null(want);
        for (int64_t i = 0; i < cnt; i++) {
            int64_t ch = i / S % C, pi = per_elem ? ch * S + i % S : ch;
            want[i] = mrt_get(&t[1], pi) * (mrt_get(&t[0], i) - mrt_get(&t[3], pi)) /
                          sqrt(mrt_get(&t[4], pi) + eps) +
                      mrt_get(&t[2], pi);
        }
        check_close(&t[5], want, c->dtype == F64 ? 1e-12 : 1e-5, "bn", ci);
        free(want);
        free_all(t, 6);
        mrt_node_free(&ctx, &n);
    }
}

typedef struct bn_error {
    int opset;
    const char *attr; /* an INT attribute to set, or NULL */
    int64_t attr_value;
    int n_out;
    int x_dtype, scale_dtype, mean_dtype;
    int ndim;
    int64_t x[4];
    int64_t c_param; /* size of the parameters */
    mr_status status;
    const char *substr;
} bn_error;

static const bn_error bn_errors[] = {
    {15,
     "training_mode",
     1,
     1,
     F32,
     F32,
     F32,
     4,
     {1, 2, 3, 3},
     2,
     MINIRT_ERR_UNSUPPORTED,
     "training_mode = 1"},
    {9, NULL, 0, 5, F32, F32, F32, 4, {1, 2, 3, 3}, 2, MINIRT_ERR_UNSUPPORTED, "training mode"},
    {6,
     "is_test",
     0,
     5,
     F32,
     F32,
     F32,
     4,
     {1, 2, 3, 3},
     2,
     MINIRT_ERR_UNSUPPORTED,
     "training mode"},
    {15, NULL, 0, 3, F32, F32, F32, 4, {1, 2, 3, 3}, 2, MINIRT_ERR_MODEL, "only in training"},
    {9,
     "spatial",
     1,
     1,
     F32,
     F32,
     F32,
     4,
     {1, 2, 3, 3},
     2,
     MINIRT_ERR_MODEL,
     "'spatial' was removed in opset 9"},
    {7,
     "is_test",
     1,
     1,
     F32,
     F32,
     F32,
     4,
     {1, 2, 3, 3},
     2,
     MINIRT_ERR_MODEL,
     "'is_test' was removed in opset 7"},
    {13,
     "training_mode",
     0,
     1,
     F32,
     F32,
     F32,
     4,
     {1, 2, 3, 3},
     2,
     MINIRT_ERR_MODEL,
     "'training_mode' exists only from opset 14"},
    {15,
     NULL,
     0,
     1,
     F32,
     F32,
     F32,
     4,
     {1, 2, 3, 3},
     3,
     MINIRT_ERR_SHAPE,
     "input scale has shape 3; X has shape 1x2x3x3, so it must have shape 2"},
    {9,
     NULL,
     0,
     1,
     F32,
     F64,
     F32,
     4,
     {1, 2, 3, 3},
     2,
     MINIRT_ERR_MODEL,
     "input scale has type float64 but X has type float32"},
    {14,
     NULL,
     0,
     1,
     F32,
     F64,
     F64,
     4,
     {1, 2, 3, 3},
     2,
     MINIRT_ERR_MODEL,
     "input scale has type float64"},
    {15,
     NULL,
     0,
     1,
     MINIRT_INT32,
     F32,
     F32,
     4,
     {1, 2, 3, 3},
     2,
     MINIRT_ERR_UNSUPPORTED,
     "input X has type int32"},
    {15,
     NULL,
     0,
     1,
     F32,
     MINIRT_INT64,
     MINIRT_INT64,
     4,
     {1, 2, 3, 3},
     2,
     MINIRT_ERR_UNSUPPORTED,
     "input scale has type int64"},
    {7, NULL, 0, 1, F32, F32, F32, 1, {5}, 1, MINIRT_ERR_SHAPE, "rank >= 2"},
    {7, "spatial", 0, 1, F32, F32, F32, 4, {1, 2, 3, 3}, 2, MINIRT_ERR_SHAPE, "spatial = 0"},
};

static void test_bn_errors(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(bn_errors) / sizeof(bn_errors[0]); i++) {
        const bn_error *e = &bn_errors[i];
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        mr_node n;
        mrt_node_init(&n, "BatchNormalization", e->opset);
        if (e->attr) mrt_attr_int(&n, e->attr, e->attr_value);
        mr_tensor t[10];
        memset(t, 0, sizeof(t));
        t[0] = mrt_tensor(e->x_dtype, e->ndim, e->x);
        int64_t pd[1] = {e->c_param};
        for (int k = 1; k < 5; k++)
            t[k] = mrt_tensor(k < 3 ? e->scale_dtype : e->mean_dtype, 1, pd);
        mr_tensor *in[5] = {&t[0], &t[1], &t[2], &t[3], &t[4]};
        mr_tensor *out[5] = {&t[5], &t[6], &t[7], &t[8], &t[9]};
        mr_status st = mrt_run_op(&ctx, &n, in, 5, out, e->n_out);
        expect_error(&ctx, st, e->status, e->substr, i, "bn");
        free_all(t, 10);
        mrt_node_free(&ctx, &n);
    }
}

/* ---- InstanceNormalization ---- */

typedef struct in_case {
    int opset;
    int dtype;
    int ndim;
    int64_t x[5];
    float epsilon; /* 0: attribute absent */
    bool consumed_inputs;
    bool constant; /* planes of one value (variance 0) */
} in_case;

static const in_case in_cases[] = {
    {1, F32, 4, {2, 3, 4, 5}, 0, true, false},      {6, F32, 4, {2, 3, 4, 5}, 0.01f, false, false},
    {6, F32, 3, {3, 2, 17}, 0, false, false},       {21, F32, 5, {2, 2, 3, 4, 5}, 0, false, false},
    {6, F64, 4, {2, 3, 5, 3}, 1e-3f, false, false}, {6, F32, 3, {2, 3, 1}, 0, false, false},
    {6, F32, 4, {1, 2, 3, 3}, 0.5f, false, true},   {6, F32, 4, {0, 2, 3, 3}, 0, false, false},
};

static void test_in_table(void **state) {
    (void)state;
    for (size_t ci = 0; ci < sizeof(in_cases) / sizeof(in_cases[0]); ci++) {
        const in_case *c = &in_cases[ci];
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        mr_node n;
        mrt_node_init(&n, "InstanceNormalization", c->opset);
        if (c->epsilon > 0) mrt_attr_float(&n, "epsilon", c->epsilon);
        if (c->consumed_inputs) {
            const int64_t ci3[3] = {0, 0, 0};
            mrt_attr_ints(&n, "consumed_inputs", ci3, 3);
        }
        double eps = c->epsilon > 0 ? c->epsilon : 1e-5f;
        int64_t C = c->x[1], S = 1, pd[1] = {C};
        for (int i = 2; i < c->ndim; i++)
            S *= c->x[i];
        mr_tensor t[4];
        t[0] = mrt_tensor(c->dtype, c->ndim, c->x);
        t[1] = mrt_tensor(c->dtype, 1, pd);
        t[2] = mrt_tensor(c->dtype, 1, pd);
        memset(&t[3], 0, sizeof(t[3]));
        mrt_fill_range(&t[0], (uint32_t)ci, c->constant ? 2 : -4, c->constant ? 2 : 6);
        mrt_fill_range(&t[1], (uint32_t)ci + 50, 0.5, 2);
        mrt_fill_range(&t[2], (uint32_t)ci + 90, -1, 1);
        mr_tensor *in[3] = {&t[0], &t[1], &t[2]}, *out[1] = {&t[3]};
        mr_status st = mrt_run_op(&ctx, &n, in, 3, out, 1);
        if (st != MINIRT_OK) fail_msg("in case %zu: %s", ci, ctx.err);
        assert_int_equal(t[3].dtype, c->dtype);
        assert_memory_equal(t[3].dims, c->x, (size_t)c->ndim * sizeof(int64_t));
        int64_t planes = c->x[0] * C;
        double *want = calloc((size_t)(planes * S + 1), sizeof(double));
        assert_non_null(want);
        for (int64_t p = 0; p < planes; p++) {
            double mean = 0, var = 0;
            for (int64_t s = 0; s < S; s++)
                mean += mrt_get(&t[0], p * S + s) / (double)S;
            for (int64_t s = 0; s < S; s++) {
                double dv = mrt_get(&t[0], p * S + s) - mean;
                var += dv * dv / (double)S;
            }
            for (int64_t s = 0; s < S; s++)
                want[p * S + s] =
                    mrt_get(&t[1], p % C) * (mrt_get(&t[0], p * S + s) - mean) / sqrt(var + eps) +
                    mrt_get(&t[2], p % C);
        }
        check_close(&t[3], want, c->dtype == F64 ? 1e-12 : 2e-5, "in", ci);
        free(want);
        free_all(t, 4);
        mrt_node_free(&ctx, &n);
    }
}

static void test_in_errors(void **state) {
    (void)state;
    const struct {
        int opset, x_dtype, p_dtype, ndim;
        int64_t x[4];
        int64_t c_param;
        bool consumed_inputs;
        mr_status status;
        const char *substr;
    } errs[] = {
        {6, F32, F32, 2, {2, 3}, 3, false, MINIRT_ERR_SHAPE, "rank >= 3"},
        {6, F32, F32, 4, {1, 3, 2, 2}, 4, false, MINIRT_ERR_SHAPE, "input B has shape 4"},
        {6, F32, F64, 4, {1, 3, 2, 2}, 3, false, MINIRT_ERR_MODEL, "input scale has type float64"},
        {6, MINIRT_INT8, MINIRT_INT8, 4, {1, 3, 2, 2}, 3, false, MINIRT_ERR_UNSUPPORTED, "int8"},
        {6, F32, F32, 4, {1, 3, 2, 2}, 3, true, MINIRT_ERR_MODEL, "'consumed_inputs' was removed"},
    };
    for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        mr_node n;
        mrt_node_init(&n, "InstanceNormalization", errs[i].opset);
        if (errs[i].consumed_inputs) {
            const int64_t z[3] = {0, 0, 0};
            mrt_attr_ints(&n, "consumed_inputs", z, 3);
        }
        int64_t pd[1] = {errs[i].c_param}, pd_scale[1] = {errs[i].x[1]};
        mr_tensor t[4];
        t[0] = mrt_tensor(errs[i].x_dtype, errs[i].ndim, errs[i].x);
        t[1] = mrt_tensor(errs[i].p_dtype, 1, errs[i].ndim > 1 ? pd_scale : pd);
        t[2] = mrt_tensor(errs[i].p_dtype, 1, pd);
        memset(&t[3], 0, sizeof(t[3]));
        mr_tensor *in[3] = {&t[0], &t[1], &t[2]}, *out[1] = {&t[3]};
        mr_status st = mrt_run_op(&ctx, &n, in, 3, out, 1);
        expect_error(&ctx, st, errs[i].status, errs[i].substr, i, "in");
        free_all(t, 4);
        mrt_node_free(&ctx, &n);
    }
}

/* ---- LayerNormalization ---- */

typedef struct ln_case {
    int dtype;
    int ndim;
    int64_t x[4];
    int64_t axis; /* INT64_MIN: attribute absent (-1) */
    int s_ndim;   /* Scale's rank; its dims are X's right-aligned, with 1 where s_one says */
    unsigned s_one, b_one; /* bit i: dim i (of X) is 1 in Scale / B */
    int b_ndim;            /* 0: B absent */
    bool stats;            /* ask for Mean and InvStdDev */
    float epsilon;         /* 0: attribute absent */
} ln_case;

static const ln_case ln_cases[] = {
    {F32, 2, {3, 5}, INT64_MIN, 1, 0, 0, 1, true, 0},
    {F32, 3, {2, 3, 7}, -1, 1, 0, 0, 1, true, 1e-2f},
    {F32, 3, {2, 3, 7}, 1, 2, 0, 0, 2, true, 0},
    {F32, 3, {2, 3, 7}, -2, 2, 0, 0, 0, false, 0},
    {F32, 4, {2, 3, 4, 5}, 0, 4, 0, 0, 4, true, 0},
    {F32, 4, {2, 3, 4, 5}, -3, 3, 0, 0, 3, true, 0},
    {F32, 4, {2, 3, 4, 5}, 2, 1, 0, 0, 2, true, 0},             /* Scale [5] over axes 2..3 */
    {F32, 4, {2, 3, 4, 5}, 1, 3, 1u << 2, 1u << 3, 3, true, 0}, /* Scale [3,1,5], B [3,4,1] */
    {F32, 3, {2, 3, 7}, 1, 3, 1u << 0, 1u << 0, 1, true, 0},    /* leading 1 before axis */
    {F32, 1, {9}, 0, 1, 0, 0, 1, true, 0},
    {F32, 3, {2, 3, 4}, 3, 0, 0, 0, 0, true, 0}, /* axis = rank: each element alone */
    {F64, 3, {2, 3, 7}, -1, 1, 0, 0, 1, true, 1e-3f},
    {F64, 4, {1, 2, 3, 4}, 1, 2, 0, 0, 3, true, 0},
    {F32, 3, {0, 3, 4}, -1, 1, 0, 0, 1, true, 0},
};

static void test_ln_table(void **state) {
    (void)state;
    for (size_t ci = 0; ci < sizeof(ln_cases) / sizeof(ln_cases[0]); ci++) {
        const ln_case *c = &ln_cases[ci];
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        mr_node n;
        mrt_node_init(&n, "LayerNormalization", 17);
        if (c->axis != INT64_MIN) mrt_attr_int(&n, "axis", c->axis);
        if (c->epsilon > 0) mrt_attr_float(&n, "epsilon", c->epsilon);
        double eps = c->epsilon > 0 ? c->epsilon : 1e-5f;
        int r = c->ndim, axis = (int)(c->axis == INT64_MIN ? r - 1
                                      : c->axis < 0        ? c->axis + r
                                                           : c->axis);
        int64_t sd[4], bd[4];
        for (int i = 0; i < c->s_ndim; i++) {
            int xa = r - c->s_ndim + i;
            sd[i] = c->s_one >> xa & 1 || xa < axis ? 1 : c->x[xa];
        }
        for (int i = 0; i < c->b_ndim; i++) {
            int xa = r - c->b_ndim + i;
            bd[i] = c->b_one >> xa & 1 || xa < axis ? 1 : c->x[xa];
        }
        mr_tensor t[6];
        memset(t, 0, sizeof(t));
        t[0] = mrt_tensor(c->dtype, r, c->x);
        t[1] = mrt_tensor(c->dtype, c->s_ndim, sd);
        if (c->b_ndim) t[2] = mrt_tensor(c->dtype, c->b_ndim, bd);
        mrt_fill_range(&t[0], (uint32_t)ci, -5, 3);
        mrt_fill_range(&t[1], (uint32_t)ci + 10, 0.5, 2);
        if (c->b_ndim) mrt_fill_range(&t[2], (uint32_t)ci + 20, -1, 1);
        mr_tensor *in[3] = {&t[0], &t[1], c->b_ndim ? &t[2] : NULL};
        mr_tensor *out[3] = {&t[3], &t[4], &t[5]};
        mr_status st = mrt_run_op(&ctx, &n, in, c->b_ndim ? 3 : 2, out, c->stats ? 3 : 1);
        if (st != MINIRT_OK) fail_msg("ln case %zu: %s", ci, ctx.err);
        assert_int_equal(t[3].dtype, c->dtype);
        assert_memory_equal(t[3].dims, c->x, (size_t)r * sizeof(int64_t));
        int64_t rows = 1, cols = 1;
        for (int i = 0; i < r; i++)
            *(i < axis ? &rows : &cols) *= c->x[i];
        if (c->stats) {
            for (int o = 4; o < 6; o++) {
                assert_int_equal(t[o].dtype, F32);
                assert_int_equal(t[o].ndim, r);
                for (int i = 0; i < r; i++)
                    assert_int_equal(t[o].dims[i], i < axis ? c->x[i] : 1);
            }
        }
        double *want = calloc((size_t)(rows * cols + 1), sizeof(double));
        double *wm = calloc((size_t)rows + 1, sizeof(double)),
               *wi = calloc((size_t)rows + 1, sizeof(double));
        assert_true(want && wm && wi);
        for (int64_t row = 0; row < rows; row++) {
            double mean = 0, var = 0;
            for (int64_t j = 0; j < cols; j++)
                mean += mrt_get(&t[0], row * cols + j) / (double)cols;
            for (int64_t j = 0; j < cols; j++) {
                double dv = mrt_get(&t[0], row * cols + j) - mean;
                var += dv * dv / (double)cols;
            }
            wm[row] = mean;
            wi[row] = 1 / sqrt(var + eps);
            for (int64_t j = 0; j < cols; j++) {
                /* Scale/B element: X's coordinates mapped through their right-aligned dims. */
                int64_t e = row * cols + j, rem = e, sat = 0, bat = 0, smul = 1, bmul = 1;
                for (int xa = r - 1; xa >= 0; xa--) {
                    int64_t coord = rem % c->x[xa];
                    rem /= c->x[xa];
                    int si = xa - (r - c->s_ndim), bi = xa - (r - c->b_ndim);
                    if (si >= 0) {
                        sat += (sd[si] == 1 ? 0 : coord) * smul;
                        smul *= sd[si];
                    }
                    if (c->b_ndim && bi >= 0) {
                        bat += (bd[bi] == 1 ? 0 : coord) * bmul;
                        bmul *= bd[bi];
                    }
                }
                want[e] = (mrt_get(&t[0], e) - mean) * wi[row] * mrt_get(&t[1], sat) +
                          (c->b_ndim ? mrt_get(&t[2], bat) : 0);
            }
        }
        double tol = c->dtype == F64 ? 1e-12 : 2e-5;
        check_close(&t[3], want, tol, "ln Y", ci);
        if (c->stats) {
            check_close(&t[4], wm, 1e-6, "ln Mean", ci);
            check_close(&t[5], wi, 1e-6, "ln InvStdDev", ci);
        }
        free(want);
        free(wm);
        free(wi);
        free_all(t, 6);
        mrt_node_free(&ctx, &n);
    }
}

static void test_ln_errors(void **state) {
    (void)state;
    const struct {
        int x_dtype, s_dtype, ndim, s_ndim;
        int64_t x[3], s[3];
        int64_t axis, stash_type;
        mr_status status;
        const char *substr;
    } errs[] = {
        {F32, F32, 3, 1, {2, 3, 4}, {4}, 4, 1, MINIRT_ERR_MODEL, "'axis' is 4"},
        {F32, F32, 3, 1, {2, 3, 4}, {4}, -4, 1, MINIRT_ERR_MODEL, "[-3, 3]"},
        {F32, F32, 3, 1, {2, 3, 4}, {4}, -1, 11, MINIRT_ERR_UNSUPPORTED, "stash_type 11"},
        {F32, F32, 3, 1, {2, 3, 4}, {5}, -1, 1, MINIRT_ERR_SHAPE, "input Scale has shape 5"},
        {F32,
         F32,
         3,
         3,
         {2, 3, 4},
         {2, 1, 4},
         -1,
         1,
         MINIRT_ERR_UNSUPPORTED,
         "varies along axis 0"},
        {F32, F64, 3, 1, {2, 3, 4}, {4}, -1, 1, MINIRT_ERR_MODEL, "input Scale has type float64"},
        {MINIRT_INT32, MINIRT_INT32, 3, 1, {2, 3, 4}, {4}, -1, 1, MINIRT_ERR_UNSUPPORTED, "int32"},
    };
    for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        mr_node n;
        mrt_node_init(&n, "LayerNormalization", 17);
        mrt_attr_int(&n, "axis", errs[i].axis);
        mrt_attr_int(&n, "stash_type", errs[i].stash_type);
        mr_tensor t[3];
        t[0] = mrt_tensor(errs[i].x_dtype, errs[i].ndim, errs[i].x);
        t[1] = mrt_tensor(errs[i].s_dtype, errs[i].s_ndim, errs[i].s);
        memset(&t[2], 0, sizeof(t[2]));
        mr_tensor *in[2] = {&t[0], &t[1]}, *out[1] = {&t[2]};
        mr_status st = mrt_run_op(&ctx, &n, in, 2, out, 1);
        expect_error(&ctx, st, errs[i].status, errs[i].substr, i, "ln");
        free_all(t, 3);
        mrt_node_free(&ctx, &n);
    }
}

/* ---- LRN ---- */

typedef struct lrn_case {
    int opset;
    int dtype;
    int ndim;
    int64_t x[5];
    int64_t size;
    float alpha, beta, bias; /* 0: attribute absent */
} lrn_case;

static const lrn_case lrn_cases[] = {
    {1, F32, 4, {2, 5, 3, 4}, 3, 0, 0, 0},         {13, F32, 4, {2, 5, 3, 4}, 4, 2e-4f, 0.5f, 2},
    {13, F32, 4, {1, 7, 2, 2}, 5, 0.1f, 0.75f, 1}, {13, F32, 4, {1, 3, 2, 2}, 7, 0.5f, 1, 1},
    {13, F32, 3, {2, 4, 9}, 1, 1, 0.3f, 1.5f},     {13, F32, 2, {3, 6}, 2, 0.2f, 0, 0},
    {13, F32, 5, {1, 4, 2, 3, 2}, 3, 0.3f, 0, 0},  {13, F64, 4, {2, 5, 3, 4}, 3, 0.1f, 0.6f, 1},
    {21, F32, 4, {0, 5, 3, 4}, 3, 0, 0, 0},
};

static void test_lrn_table(void **state) {
    (void)state;
    for (size_t ci = 0; ci < sizeof(lrn_cases) / sizeof(lrn_cases[0]); ci++) {
        const lrn_case *c = &lrn_cases[ci];
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        mr_node n;
        mrt_node_init(&n, "LRN", c->opset);
        mrt_attr_int(&n, "size", c->size);
        if (c->alpha > 0) mrt_attr_float(&n, "alpha", c->alpha);
        if (c->beta > 0) mrt_attr_float(&n, "beta", c->beta);
        if (c->bias > 0) mrt_attr_float(&n, "bias", c->bias);
        double alpha = c->alpha > 0 ? c->alpha : 1e-4f, beta = c->beta > 0 ? c->beta : 0.75f;
        double bias = c->bias > 0 ? c->bias : 1.0f;
        mr_tensor t[2];
        t[0] = mrt_tensor(c->dtype, c->ndim, c->x);
        memset(&t[1], 0, sizeof(t[1]));
        mrt_fill_range(&t[0], (uint32_t)ci, -3, 3);
        mr_tensor *in[1] = {&t[0]}, *out[1] = {&t[1]};
        mr_status st = mrt_run_op(&ctx, &n, in, 1, out, 1);
        if (st != MINIRT_OK) fail_msg("lrn case %zu: %s", ci, ctx.err);
        assert_int_equal(t[1].dtype, c->dtype);
        assert_memory_equal(t[1].dims, c->x, (size_t)c->ndim * sizeof(int64_t));
        int64_t C = c->x[1], S = 1, cnt = mr_numel(&t[0]);
        for (int i = 2; i < c->ndim; i++)
            S *= c->x[i];
        double *want = calloc((size_t)cnt + 1, sizeof(double));
        assert_non_null(want);
        /* The spec's region: max(0, c - floor((size-1)/2)) <= i <= min(C-1, c + ceil((size-1)/2))
         */
        for (int64_t e = 0; e < cnt; e++) {
            int64_t ch = e / S % C, nb = e / (S * C), s = e % S;
            int64_t lo = ch - (int64_t)floor((c->size - 1) / 2.0);
            int64_t hi = ch + (int64_t)ceil((c->size - 1) / 2.0);
            double sq = 0;
            for (int64_t i = lo < 0 ? 0 : lo; i <= hi && i < C; i++) {
                double v = mrt_get(&t[0], (nb * C + i) * S + s);
                sq += v * v;
            }
            want[e] = mrt_get(&t[0], e) / pow(bias + alpha / (double)c->size * sq, beta);
        }
        check_close(&t[1], want, c->dtype == F64 ? 1e-12 : 1e-5, "lrn", ci);
        free(want);
        free_all(t, 2);
        mrt_node_free(&ctx, &n);
    }
}

static void test_lrn_errors(void **state) {
    (void)state;
    const struct {
        int dtype, ndim;
        int64_t x[4];
        int64_t size; /* -1: absent */
        mr_status status;
        const char *substr;
    } errs[] = {
        {F32, 4, {1, 3, 2, 2}, -1, MINIRT_ERR_MODEL, "'size' is required"},
        {F32, 4, {1, 3, 2, 2}, 0, MINIRT_ERR_MODEL, "'size' is 0"},
        {F32, 1, {3}, 3, MINIRT_ERR_SHAPE, "rank >= 2"},
        {MINIRT_INT64, 4, {1, 3, 2, 2}, 3, MINIRT_ERR_UNSUPPORTED, "LRN supports float32"},
    };
    for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        mr_node n;
        mrt_node_init(&n, "LRN", 13);
        if (errs[i].size >= 0) mrt_attr_int(&n, "size", errs[i].size);
        mr_tensor t[2];
        t[0] = mrt_tensor(errs[i].dtype, errs[i].ndim, errs[i].x);
        memset(&t[1], 0, sizeof(t[1]));
        mr_tensor *in[1] = {&t[0]}, *out[1] = {&t[1]};
        mr_status st = mrt_run_op(&ctx, &n, in, 1, out, 1);
        expect_error(&ctx, st, errs[i].status, errs[i].substr, i, "lrn");
        free_all(t, 2);
        mrt_node_free(&ctx, &n);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bn_table),  cmocka_unit_test(test_bn_errors),
        cmocka_unit_test(test_in_table),  cmocka_unit_test(test_in_errors),
        cmocka_unit_test(test_ln_table),  cmocka_unit_test(test_ln_errors),
        cmocka_unit_test(test_lrn_table), cmocka_unit_test(test_lrn_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
