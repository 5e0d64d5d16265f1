/*
 * test_pool.c - MaxPool, GlobalAveragePool and GlobalMaxPool against plain references: 1-D/2-D/3-D,
 * batch > 1, asymmetric pads, strides, dilations, ceil_mode, every auto_pad, both storage orders of
 * Indices, float64, NaN, and the attribute and shape errors. (AveragePool is in test_pool2.c.)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrt.h"

/* ---- MaxPool reference ---- */

typedef struct pool_case {
    int opset;
    int nk;
    int64_t x[5]; /* N, C, spatial... */
    int64_t k[3];
    int64_t s[3];    /* all 0: attribute absent */
    int64_t d[3];    /* all 0: attribute absent */
    int64_t pads[6]; /* begin..., end... */
    bool has_pads;
    const char *auto_pad; /* NULL: attribute absent */
    int ceil_mode;        /* -1: attribute absent */
    int storage_order;    /* -1: attribute absent */
    bool indices;
    int dtype;
} pool_case;

/* Output extent and begin padding of one axis, from the formulas in the MaxPool spec. */
static int64_t ref_out_size(const pool_case *c, int i, int64_t *pb) {
    int64_t in = c->x[2 + i], k = c->k[i];
    int64_t s = c->s[i] ? c->s[i] : 1, d = c->d[i] ? c->d[i] : 1, ek = (k - 1) * d + 1;
    const char *ap = c->auto_pad ? c->auto_pad : "NOTSET";
    if (!strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER")) {
        int64_t out = (int64_t)ceil((double)in / (double)s);
        int64_t total = (out - 1) * s + ek - in;
        if (total < 0) total = 0;
        *pb = !strcmp(ap, "SAME_UPPER") ? total / 2 : (total + 1) / 2;
        return out;
    }
    if (!strcmp(ap, "VALID")) {
        *pb = 0;
        return (int64_t)ceil((double)(in - ek + 1) / (double)s);
    }
    *pb = c->pads[i];
    double span = (double)(in + c->pads[i] + c->pads[c->nk + i] - ek);
    if (c->ceil_mode != 1) return (int64_t)floor(span / (double)s) + 1;
    int64_t out = (int64_t)ceil(span / (double)s) + 1;
    if ((out - 1) * s >= in + *pb) out = (int64_t)ceil((double)(in + *pb) / (double)s);
    return out;
}

/*
 * For each output element, visit every tap o*s - pb + j*d of the window in row-major order, skip
 * the ones outside the input, and keep the first strict maximum (the first tap otherwise). An empty
 * window gives -inf and index -1. Indices: plane offset + the position in the plane, row- or
 * column-major.
 */
static void ref_maxpool(const pool_case *c, const mr_tensor *x, const int64_t *ydims, double *y,
                        int64_t *ind) {
    int nk = c->nk;
    int64_t in_plane = 1, out_plane = 1, pb[3];
    for (int i = 0; i < nk; i++) {
        in_plane *= c->x[2 + i];
        out_plane *= ydims[2 + i];
        ref_out_size(c, i, &pb[i]);
    }
    int64_t planes = c->x[0] * c->x[1], taps = 1;
    for (int i = 0; i < nk; i++)
        taps *= c->k[i];
    for (int64_t p = 0; p < planes; p++) {
        for (int64_t o = 0; o < out_plane; o++) {
            int64_t oi[3], rem = o;
            for (int i = nk - 1; i >= 0; i--) {
                oi[i] = rem % ydims[2 + i];
                rem /= ydims[2 + i];
            }
            bool found = false;
            double best = -INFINITY;
            int64_t best_pos[3] = {0, 0, 0};
            for (int64_t t = 0; t < taps; t++) {
                int64_t pos[3], trem = t;
                bool inside = true;
                for (int i = nk - 1; i >= 0; i--) {
                    int64_t j = trem % c->k[i];
                    trem /= c->k[i];
                    int64_t s = c->s[i] ? c->s[i] : 1, d = c->d[i] ? c->d[i] : 1;
                    pos[i] = oi[i] * s - pb[i] + j * d;
                    if (pos[i] < 0 || pos[i] >= c->x[2 + i]) inside = false;
                }
                if (!inside) continue;
                int64_t at = 0;
                for (int i = 0; i < nk; i++)
                    at = at * c->x[2 + i] + pos[i];
                double v = mrt_get(x, p * in_plane + at);
                if (!found || v > best) {
                    best = v;
                    memcpy(best_pos, pos, sizeof(pos));
                    found = true;
                }
            }
            y[p * out_plane + o] = best;
            int64_t idx = -1;
            if (found) {
                idx = 0;
                if (c->storage_order == 1) {
                    int64_t mul = 1;
                    for (int i = 0; i < nk; i++) {
                        idx += best_pos[i] * mul;
                        mul *= c->x[2 + i];
                    }
                } else {
                    for (int i = 0; i < nk; i++)
                        idx = idx * c->x[2 + i] + best_pos[i];
                }
                idx += p * in_plane;
            }
            ind[p * out_plane + o] = idx;
        }
    }
}

static void set_pool_attrs(mr_node *n, const pool_case *c) {
    static const int64_t zero3[3] = {0, 0, 0};
    mrt_attr_ints(n, "kernel_shape", c->k, c->nk);
    if (memcmp(c->s, zero3, sizeof(zero3))) mrt_attr_ints(n, "strides", c->s, c->nk);
    if (memcmp(c->d, zero3, sizeof(zero3))) mrt_attr_ints(n, "dilations", c->d, c->nk);
    if (c->has_pads) mrt_attr_ints(n, "pads", c->pads, 2 * c->nk);
    if (c->auto_pad) mrt_attr_string(n, "auto_pad", c->auto_pad);
    if (c->ceil_mode >= 0) mrt_attr_int(n, "ceil_mode", c->ceil_mode);
    if (c->storage_order >= 0) mrt_attr_int(n, "storage_order", c->storage_order);
}

#define F32 MINIRT_FLOAT32
#define F64 MINIRT_FLOAT64
/* opset, nk, x, k, s, d, pads, has_pads, auto_pad, ceil_mode, storage_order, indices, dtype */
static const pool_case pool_cases[] = {
    /* 2-D */
    {13, 2, {1, 1, 5, 5}, {2, 2}, {2, 2}, {0}, {0}, false, NULL, -1, -1, false, F32},
    {12, 2, {2, 3, 7, 9}, {3, 3}, {2, 2}, {0}, {1, 1, 1, 1}, true, NULL, -1, -1, true, F32},
    {12, 2, {1, 2, 6, 7}, {3, 2}, {0}, {0}, {0, 1, 2, 1}, true, "NOTSET", 0, 0, true, F32},
    {11, 2, {2, 1, 8, 11}, {2, 3}, {1, 3}, {0}, {1, 0, 0, 2}, true, NULL, -1, -1, true, F32},
    {10, 2, {1, 2, 9, 8}, {3, 2}, {1, 1}, {2, 3}, {0}, false, NULL, -1, -1, true, F32},
    {18, 2, {2, 2, 10, 9}, {3, 3}, {2, 1}, {2, 2}, {2, 1, 1, 2}, true, NULL, -1, -1, true, F32},
    {12, 2, {1, 3, 7, 7}, {7, 7}, {0}, {0}, {0}, false, NULL, -1, -1, true, F32},
    /* ceil_mode: plain, with the right-padding correction, with dilation */
    {10, 2, {1, 1, 6, 6}, {3, 3}, {2, 2}, {0}, {0}, false, NULL, 1, -1, true, F32},
    {12, 2, {2, 2, 6, 7}, {3, 2}, {4, 2}, {0}, {1, 0, 2, 1}, true, NULL, 1, -1, true, F32},
    {12, 2, {1, 2, 10, 9}, {2, 3}, {3, 2}, {2, 1}, {0, 1, 1, 1}, true, NULL, 1, -1, true, F32},
    {12, 2, {1, 2, 10, 9}, {2, 3}, {3, 2}, {2, 1}, {0, 1, 1, 1}, true, NULL, 0, -1, true, F32},
    /* auto_pad */
    {12, 2, {1, 2, 7, 6}, {3, 2}, {2, 2}, {0}, {0}, false, "VALID", -1, -1, true, F32},
    {12, 2, {1, 2, 7, 6}, {3, 3}, {2, 2}, {0}, {0}, false, "SAME_UPPER", -1, -1, true, F32},
    {12, 2, {1, 2, 7, 6}, {3, 3}, {2, 2}, {0}, {0}, false, "SAME_LOWER", -1, -1, true, F32},
    {12, 2, {2, 1, 9, 8}, {3, 2}, {2, 3}, {2, 2}, {0}, false, "SAME_UPPER", -1, -1, true, F32},
    {12, 2, {2, 1, 9, 8}, {3, 2}, {2, 3}, {2, 2}, {0}, false, "SAME_LOWER", -1, -1, true, F32},
    {12, 2, {1, 3, 5, 5}, {3, 3}, {0}, {0}, {0}, false, "SAME_UPPER", -1, -1, true, F32},
    {12, 2, {1, 3, 5, 5}, {2, 2}, {0}, {0}, {0}, false, "SAME_LOWER", -1, -1, true, F32},
    {12, 2, {1, 2, 7, 6}, {3, 2}, {2, 2}, {0}, {0}, false, "VALID", 1, -1, true, F32},
    /* storage_order 1 */
    {12, 2, {2, 3, 7, 5}, {3, 2}, {2, 1}, {0}, {1, 0, 1, 1}, true, NULL, -1, 1, true, F32},
    {8, 2, {2, 2, 5, 6}, {2, 2}, {2, 2}, {0}, {0}, false, NULL, -1, 1, true, F32},
    /* 1-D */
    {12, 1, {2, 3, 11}, {3}, {2}, {0}, {1, 0}, true, NULL, -1, -1, true, F32},
    {12, 1, {1, 1, 6}, {3}, {4}, {0}, {1, 2}, true, NULL, 1, -1, true, F32},
    {12, 1, {1, 1, 4}, {2}, {3}, {0}, {0, 2}, true, NULL, 1, 1, true, F32},
    {12, 1, {1, 2, 2}, {2}, {1}, {3}, {2, 2}, true, NULL, -1, -1, true, F32}, /* a padding-only
                                                                                 window */
    {1, 1, {3, 2, 13}, {4}, {3}, {0}, {2, 1}, true, NULL, -1, -1, false, F32},
    {12, 1, {1, 2, 9}, {2}, {2}, {3}, {0}, false, "SAME_LOWER", -1, 1, true, F32},
    /* 3-D */
    {12,
     3,
     {1, 2, 5, 6, 7},
     {2, 3, 2},
     {2, 1, 2},
     {0},
     {1, 0, 1, 0, 1, 1},
     true,
     NULL,
     -1,
     -1,
     true,
     F32},
    {12, 3, {2, 1, 7, 6, 5}, {2, 2, 2}, {1, 2, 1}, {2, 1, 2}, {0}, false, NULL, 1, 1, true, F32},
    {12, 3, {1, 2, 5, 4, 6}, {3, 2, 3}, {2, 2, 2}, {0}, {0}, false, "SAME_UPPER", -1, 1, true, F32},
    /* float64 */
    {12, 2, {2, 3, 7, 9}, {3, 3}, {2, 2}, {0}, {1, 1, 1, 1}, true, NULL, -1, -1, true, F64},
    {12, 3, {1, 2, 5, 6, 7}, {2, 3, 2}, {2, 1, 2}, {1, 2, 1}, {0}, false, NULL, 1, 1, true, F64},
};

static void run_pool_case(size_t ci, const pool_case *c, bool with_indices) {
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    mr_node n;
    mrt_node_init(&n, "MaxPool", c->opset);
    set_pool_attrs(&n, c);
    mr_tensor x = mrt_tensor(c->dtype, c->nk + 2, c->x), y, ind;
    memset(&y, 0, sizeof(y));
    memset(&ind, 0, sizeof(ind));
    int64_t cnt = mr_numel(&x);
    /* Values with repeats (ties must resolve to the first tap). */
    uint32_t s = (uint32_t)ci * 977u + 1u;
    for (int64_t i = 0; i < cnt; i++) {
        s = s * 1664525u + 1013904223u;
        double v = (double)((int)(s >> 24) % 23) - 11.0 + (c->dtype == F64 ? 1e-12 * i : 0);
        if (c->dtype == F64)
            ((double *)x.data)[i] = v;
        else
            ((float *)x.data)[i] = (float)v;
    }
    mr_tensor *in[1] = {&x}, *out[2] = {&y, &ind};
    mr_status st = mrt_run_op(&ctx, &n, in, 1, out, with_indices ? 2 : 1);
    if (st != MINIRT_OK) fail_msg("case %zu: status %d: %s", ci, st, ctx.err);

    int64_t ydims[5] = {c->x[0], c->x[1]}, pb;
    for (int i = 0; i < c->nk; i++)
        ydims[2 + i] = ref_out_size(c, i, &pb);
    assert_int_equal(y.ndim, c->nk + 2);
    assert_int_equal(y.dtype, c->dtype);
    for (int i = 0; i < c->nk + 2; i++)
        if (y.dims[i] != ydims[i])
            fail_msg("case %zu: output dim %d is %lld, want %lld", ci, i, (long long)y.dims[i],
                     (long long)ydims[i]);
    int64_t ycnt = mr_numel(&y);
    double *want = calloc((size_t)ycnt, sizeof(double));
    int64_t *want_ind = calloc((size_t)ycnt, sizeof(int64_t));
    assert_true(want && want_ind);
    ref_maxpool(c, &x, ydims, want, want_ind);
    /* Max pooling does no arithmetic: the values must match exactly. */
    char what[32];
    snprintf(what, sizeof(what), "case %zu", ci);
    mrt_assert_close_any(&y, want, 0, 0, what);
    if (with_indices) {
        assert_int_equal(ind.dtype, MINIRT_INT64);
        assert_int_equal(ind.ndim, c->nk + 2);
        assert_memory_equal(ind.dims, ydims, (size_t)(c->nk + 2) * sizeof(int64_t));
        for (int64_t i = 0; i < ycnt; i++)
            if (((int64_t *)ind.data)[i] != want_ind[i])
                fail_msg("case %zu: Indices[%lld] = %lld, want %lld", ci, (long long)i,
                         (long long)((int64_t *)ind.data)[i], (long long)want_ind[i]);
    }
    free(want);
    free(want_ind);
    mrt_tensor_free(&x);
    mrt_tensor_free(&y);
    mrt_tensor_free(&ind);
    mrt_node_free(&ctx, &n);
}

static void test_maxpool_table(void **state) {
    (void)state;
    /* each case with its Indices output (if any) and without: float32 2-D windows without
     * Indices take the fast path */
    for (size_t ci = 0; ci < sizeof(pool_cases) / sizeof(pool_cases[0]); ci++) {
        run_pool_case(ci, &pool_cases[ci], pool_cases[ci].indices);
        if (pool_cases[ci].indices) run_pool_case(ci, &pool_cases[ci], false);
    }
}

/* Hand-checked values: the spec's SAME_UPPER example shape and the padding-only window. */
static void test_maxpool_known(void **state) {
    (void)state;
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    /* x = 0..24 in a 5x5 plane, kernel 2x2, stride 2, ceil_mode: out 3x3 with the last row/column
     * covering one input row/column. */
    mr_node n;
    mrt_node_init(&n, "MaxPool", 12);
    int64_t k[2] = {2, 2}, s[2] = {2, 2}, d[4] = {1, 1, 5, 5};
    mrt_attr_ints(&n, "kernel_shape", k, 2);
    mrt_attr_ints(&n, "strides", s, 2);
    mrt_attr_int(&n, "ceil_mode", 1);
    mr_tensor x = mrt_tensor(MINIRT_FLOAT32, 4, d), y, ind;
    memset(&y, 0, sizeof(y));
    memset(&ind, 0, sizeof(ind));
    for (int i = 0; i < 25; i++)
        ((float *)x.data)[i] = (float)i;
    mr_tensor *in[1] = {&x}, *out[2] = {&y, &ind};
    assert_int_equal(mrt_run_op(&ctx, &n, in, 1, out, 2), MINIRT_OK);
    const float want[9] = {6, 8, 9, 16, 18, 19, 21, 23, 24};
    const int64_t want_ind[9] = {6, 8, 9, 16, 18, 19, 21, 23, 24};
    assert_int_equal(y.dims[2], 3);
    assert_int_equal(y.dims[3], 3);
    mrt_assert_close(y.data, want, 9, 0, 0, "ceil_mode 5x5");
    assert_memory_equal(ind.data, want_ind, sizeof(want_ind));
    mrt_tensor_free(&x);
    mrt_tensor_free(&y);
    mrt_tensor_free(&ind);
    mrt_node_free(&ctx, &n);

    /* A NaN as the first tap is kept; a NaN later in the window is not (as the ONNX reference). */
    mrt_node_init(&n, "MaxPool", 12);
    int64_t k1[1] = {2}, d1[3] = {1, 1, 4};
    mrt_attr_ints(&n, "kernel_shape", k1, 1);
    x = mrt_tensor(MINIRT_FLOAT32, 3, d1);
    memset(&y, 0, sizeof(y));
    float *xv = x.data;
    xv[0] = NAN;
    xv[1] = 1;
    xv[2] = NAN;
    xv[3] = 3;
    assert_int_equal(mrt_run_op(&ctx, &n, in, 1, out, 1), MINIRT_OK);
    const float *yv = y.data;
    assert_true(isnan(yv[0]));
    assert_true(yv[1] == 1.0f);
    assert_true(isnan(yv[2]));
    mrt_tensor_free(&x);
    mrt_tensor_free(&y);
    mrt_node_free(&ctx, &n);
}

typedef struct pool_error {
    pool_case c;
    int dtype_override; /* 0: c.dtype */
    int x_rank;         /* 0: nk + 2 */
    int n_pads;         /* > 0: give `pads` with this many values instead */
    mr_status status;
    const char *substr[2];
} pool_error;

static const pool_error pool_errors[] = {
    {{12, 2, {1, 3, 4, 4}, {5, 5}, {0}, {0}, {0}, false, NULL, -1, -1, false, F32},
     0,
     0,
     0,
     MINIRT_ERR_SHAPE,
     {"input X has shape 1x3x4x4 but kernel_shape is 5x5", "padded input 4x4"}},
    {{12, 2, {1, 3, 4, 4}, {3, 3}, {0}, {2, 2}, {0}, false, NULL, -1, -1, false, F32},
     0,
     0,
     0,
     MINIRT_ERR_SHAPE,
     {"1x3x4x4", "dilated kernel extent 5"}},
    {{12, 2, {1, 3, 4, 4}, {5, 5}, {0}, {0}, {0}, false, "VALID", -1, -1, false, F32},
     0,
     0,
     0,
     MINIRT_ERR_SHAPE,
     {"1x3x4x4", "5x5"}},
    {{12, 2, {1, 3, 4, 4}, {2, 2}, {1, 0}, {0}, {0}, false, NULL, -1, -1, false, F32},
     0,
     0,
     0,
     MINIRT_ERR_MODEL,
     {"'strides'", "value 0"}},
    {{12, 2, {1, 3, 4, 4}, {2, 2}, {0}, {1, 0}, {0}, false, NULL, -1, -1, false, F32},
     0,
     0,
     0,
     MINIRT_ERR_MODEL,
     {"'dilations'", "value 0"}},
    {{12, 2, {1, 3, 4, 4}, {2, 2}, {0}, {0}, {0, -1, 0, 0}, true, NULL, -1, -1, false, F32},
     0,
     0,
     0,
     MINIRT_ERR_MODEL,
     {"'pads'", "-1"}},
    {{12, 2, {1, 3, 4, 4}, {2, 2}, {0}, {0}, {0, 0, 0, 0}, false, NULL, -1, -1, false, F32},
     0,
     0,
     3,
     MINIRT_ERR_MODEL,
     {"'pads' has 3 values", "needs 4"}},
    {{12, 0, {1, 3, 4, 4}, {0}, {0}, {0}, {0}, false, NULL, -1, -1, false, F32},
     0,
     0,
     0,
     MINIRT_ERR_MODEL,
     {"'kernel_shape'", "required"}},
    {{12, 2, {1, 3, 4, 4}, {2, 0}, {0}, {0}, {0}, false, NULL, -1, -1, false, F32},
     0,
     0,
     0,
     MINIRT_ERR_MODEL,
     {"'kernel_shape'", "value 0"}},
    {{12, 2, {1, 3, 4, 4}, {2, 2}, {0}, {0}, {0}, false, "SAME", -1, -1, false, F32},
     0,
     0,
     0,
     MINIRT_ERR_MODEL,
     {"'auto_pad'", "'SAME'"}},
    {{12, 2, {1, 3, 4, 4}, {2, 2}, {0}, {0}, {0}, false, NULL, 2, -1, false, F32},
     0,
     0,
     0,
     MINIRT_ERR_MODEL,
     {"'ceil_mode'", "0 or 1"}},
    {{12, 2, {1, 3, 4, 4}, {2, 2}, {0}, {0}, {0}, false, NULL, -1, 3, false, F32},
     0,
     0,
     0,
     MINIRT_ERR_MODEL,
     {"'storage_order'", "0 or 1"}},
    {{8, 2, {1, 3, 4, 4}, {2, 2}, {0}, {0}, {0}, false, NULL, 1, -1, false, F32},
     0,
     0,
     0,
     MINIRT_ERR_MODEL,
     {"'ceil_mode'", "opset 10"}},
    {{9, 2, {1, 3, 4, 4}, {2, 2}, {0}, {1, 1}, {0}, false, NULL, -1, -1, false, F32},
     0,
     0,
     0,
     MINIRT_ERR_MODEL,
     {"'dilations'", "opset 10"}},
    {{7, 2, {1, 3, 4, 4}, {2, 2}, {0}, {0}, {0}, false, NULL, -1, 0, false, F32},
     0,
     0,
     0,
     MINIRT_ERR_MODEL,
     {"'storage_order'", "opset 8"}},
    {{7, 2, {1, 3, 4, 4}, {2, 2}, {0}, {0}, {0}, false, NULL, -1, -1, true, F32},
     0,
     0,
     0,
     MINIRT_ERR_MODEL,
     {"Indices", "opset 8"}},
    {{12, 2, {3, 4, 4}, {2, 2}, {0}, {0}, {0}, false, NULL, -1, -1, false, F32},
     0,
     3,
     0,
     MINIRT_ERR_SHAPE,
     {"3x4x4", "rank 4"}},
    {{12, 2, {1, 3, 4, 4}, {2, 2}, {0}, {0}, {0}, false, NULL, -1, -1, false, F32},
     MINIRT_INT32,
     0,
     0,
     MINIRT_ERR_UNSUPPORTED,
     {"int32", "MaxPool"}},
    {{12, 2, {1, 3, 0, 4}, {2, 2}, {0}, {0}, {0}, false, NULL, -1, -1, false, F32},
     0,
     0,
     0,
     MINIRT_ERR_SHAPE,
     {"1x3x0x4", "empty"}},
};

static void test_maxpool_errors(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(pool_errors) / sizeof(pool_errors[0]); i++) {
        const pool_error *e = &pool_errors[i];
        mr_node n;
        mrt_node_init(&n, "MaxPool", e->c.opset);
        if (e->c.nk > 0) set_pool_attrs(&n, &e->c);
        if (e->n_pads) mrt_attr_ints(&n, "pads", e->c.pads, e->n_pads);
        int rank = e->x_rank ? e->x_rank : e->c.nk > 0 ? e->c.nk + 2 : 4;
        mr_tensor x = mrt_tensor(e->dtype_override ? e->dtype_override : e->c.dtype, rank, e->c.x);
        mr_tensor *in[1] = {&x};
        mrt_run_expect(&n, in, 1, NULL, e->c.indices ? 2 : 1, e->status, e->substr[0],
                       e->substr[1]);
        mrt_tensor_free(&x);
    }
}

/* 4 spatial axes are valid ONNX that minirt does not implement. */
static void test_maxpool_4d_unsupported(void **state) {
    (void)state;
    mr_node n;
    mrt_node_init(&n, "MaxPool", 12);
    int64_t k[4] = {2, 2, 2, 2}, d[6] = {1, 1, 3, 3, 3, 3};
    mrt_attr_ints(&n, "kernel_shape", k, 4);
    mr_tensor x = mrt_tensor(MINIRT_FLOAT32, 6, d);
    mr_tensor *in[1] = {&x};
    mrt_run_expect(&n, in, 1, NULL, 1, MINIRT_ERR_UNSUPPORTED, "1 to 3 spatial", NULL);
    mrt_tensor_free(&x);
}

/* ---- GlobalAveragePool and GlobalMaxPool ---- */

typedef struct global_case {
    const char *op;
    int opset;
    int dtype;
    int ndim;
    int64_t x[5];
} global_case;

static const global_case global_cases[] = {
    {"GlobalAveragePool", 1, F32, 4, {2, 3, 5, 7}},
    {"GlobalAveragePool", 13, F32, 4, {1, 4, 1, 1}},
    {"GlobalAveragePool", 21, F32, 5, {2, 3, 4, 5, 6}},
    {"GlobalAveragePool", 13, F32, 3, {3, 2, 9}},
    {"GlobalAveragePool", 13, F64, 4, {2, 3, 5, 7}},
    {"GlobalAveragePool", 13, F32, 4, {0, 3, 4, 4}},
    {"GlobalAveragePool", 13, F32, 4, {1, 2, 56, 57}},
    {"GlobalMaxPool", 1, F32, 4, {2, 3, 5, 7}},
    {"GlobalMaxPool", 21, F32, 4, {1, 4, 1, 1}},
    {"GlobalMaxPool", 1, F32, 5, {2, 3, 4, 5, 6}},
    {"GlobalMaxPool", 1, F32, 3, {3, 2, 9}},
    {"GlobalMaxPool", 1, F64, 4, {2, 3, 5, 7}},
    {"GlobalMaxPool", 1, F32, 4, {0, 3, 4, 4}},
    {"GlobalMaxPool", 1, F32, 4, {1, 2, 56, 57}},
};

/* Y[n, c, 1, ...] = the mean (within 1e-6 + 1e-5 relative) or the max (exactly) of the plane. */
static void test_global_table(void **state) {
    (void)state;
    for (size_t ci = 0; ci < sizeof(global_cases) / sizeof(global_cases[0]); ci++) {
        const global_case *c = &global_cases[ci];
        bool avg = strcmp(c->op, "GlobalAveragePool") == 0;
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        mr_node n;
        mrt_node_init(&n, c->op, c->opset);
        mr_tensor x = mrt_tensor(c->dtype, c->ndim, c->x), y;
        mrt_fill_range(&x, (uint32_t)ci + 3, -1, 1);
        mr_tensor *in[1] = {&x};
        if (mrt_run_op1(&ctx, &n, in, 1, &y) != MINIRT_OK)
            fail_msg("%s case %zu: %s", c->op, ci, ctx.err);
        assert_int_equal(y.ndim, c->ndim);
        assert_int_equal(y.dtype, c->dtype);
        assert_int_equal(y.dims[0], c->x[0]);
        assert_int_equal(y.dims[1], c->x[1]);
        for (int i = 2; i < c->ndim; i++)
            assert_int_equal(y.dims[i], 1);
        int64_t planes = c->x[0] * c->x[1], size = planes ? mr_numel(&x) / planes : 0;
        double *want = calloc((size_t)(planes ? planes : 1), sizeof(double));
        assert_non_null(want);
        for (int64_t p = 0; p < planes; p++) {
            want[p] = avg ? 0 : -INFINITY;
            for (int64_t i = 0; i < size; i++) {
                double v = mrt_get(&x, p * size + i);
                want[p] = avg ? want[p] + v : fmax(want[p], v);
            }
            if (avg) want[p] /= (double)size;
        }
        char what[48];
        snprintf(what, sizeof(what), "%s case %zu", c->op, ci);
        mrt_assert_close_any(&y, want, avg ? 1e-5 : 0, avg ? 1e-6 : 0, what);
        free(want);
        mrt_tensor_free(&x);
        mrt_tensor_free(&y);
        mrt_node_free(&ctx, &n);
    }
}

/* GlobalMaxPool and NaN: kept when it is the first value of the plane, skipped otherwise (MaxPool's
 * rule). */
static void test_global_max_nan(void **state) {
    (void)state;
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    mr_node n;
    mrt_node_init(&n, "GlobalMaxPool", 1);
    int64_t d[3] = {1, 2, 3};
    mr_tensor x = mrt_tensor(F32, 3, d), y;
    float *xv = x.data;
    xv[0] = NAN, xv[1] = 5, xv[2] = 1;
    xv[3] = -2, xv[4] = NAN, xv[5] = -1;
    mr_tensor *in[1] = {&x};
    assert_int_equal(mrt_run_op1(&ctx, &n, in, 1, &y), MINIRT_OK);
    const float *yv = y.data;
    assert_true(isnan(yv[0]));
    assert_true(yv[1] == -1.0f);
    mrt_tensor_free(&x);
    mrt_tensor_free(&y);
    mrt_node_free(&ctx, &n);
}

static void test_global_errors(void **state) {
    (void)state;
    const struct {
        const char *op;
        int opset, dtype, ndim;
        int64_t x[4];
        mr_status status;
        const char *substr;
    } errs[] = {
        {"GlobalAveragePool", 13, F32, 2, {2, 3}, MINIRT_ERR_SHAPE, "2x3"},
        {"GlobalAveragePool", 13, MINIRT_INT64, 4, {1, 2, 3, 3}, MINIRT_ERR_UNSUPPORTED, "int64"},
        {"GlobalAveragePool", 13, F32, 4, {1, 2, 0, 3}, MINIRT_ERR_SHAPE, "1x2x0x3"},
        {"GlobalMaxPool", 1, F32, 2, {2, 3}, MINIRT_ERR_SHAPE, "2x3"},
        {"GlobalMaxPool",
         1,
         MINIRT_INT64,
         4,
         {1, 2, 3, 3},
         MINIRT_ERR_UNSUPPORTED,
         "GlobalMaxPool supports"},
        {"GlobalMaxPool", 1, F32, 4, {1, 2, 0, 3}, MINIRT_ERR_SHAPE, "1x2x0x3"},
        {"GlobalMaxPool", 22, F32, 4, {1, 2, 3, 3}, MINIRT_ERR_UNSUPPORTED, "GlobalMaxPool"},
    };
    for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
        mr_node n;
        mrt_node_init(&n, errs[i].op, errs[i].opset);
        mr_tensor x = mrt_tensor(errs[i].dtype, errs[i].ndim, errs[i].x);
        mr_tensor *in[1] = {&x};
        mrt_run_expect(&n, in, 1, NULL, 1, errs[i].status, errs[i].substr, NULL);
        mrt_tensor_free(&x);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_maxpool_table),  cmocka_unit_test(test_maxpool_known),
        cmocka_unit_test(test_maxpool_errors), cmocka_unit_test(test_maxpool_4d_unsupported),
        cmocka_unit_test(test_global_table),   cmocka_unit_test(test_global_max_nan),
        cmocka_unit_test(test_global_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
