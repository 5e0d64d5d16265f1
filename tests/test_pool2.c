/*
 * test_pool2.c - AveragePool against a plain reference: 1-D/2-D/3-D, batch > 1, asymmetric pads,
 * strides, ceil_mode with and without count_include_pad, every auto_pad, windows over padding only,
 * float64, every opset form, and the attribute and shape errors.
 * (MaxPool, GlobalAveragePool and GlobalMaxPool are in test_pool.c.)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrt.h"

#define F32 MINIRT_FLOAT32
#define F64 MINIRT_FLOAT64

/* ---- AveragePool reference ---- */

typedef struct avg_case {
    int opset;
    int nk;
    int64_t x[5]; /* N, C, spatial... */
    int64_t k[3];
    int64_t s[3];    /* all 0: attribute absent */
    int64_t pads[6]; /* begin..., end... */
    bool has_pads;
    const char *auto_pad;  /* NULL: attribute absent */
    int ceil_mode;         /* -1: attribute absent */
    int count_include_pad; /* -1: attribute absent */
    int dtype;
} avg_case;

/* Output extent, begin and end padding of one axis, from the formulas in the AveragePool spec plus
 * the rule that a ceil_mode window must start inside the input or its begin padding. */
static int64_t ref_out_size(const avg_case *c, int i, int64_t *pb, int64_t *pe) {
    int64_t in = c->x[2 + i], k = c->k[i], s = c->s[i] ? c->s[i] : 1;
    const char *ap = c->auto_pad ? c->auto_pad : "NOTSET";
    if (!strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER")) {
        int64_t out = (int64_t)ceil((double)in / (double)s);
        int64_t total = (out - 1) * s + k - in;
        if (total < 0) total = 0;
        *pb = !strcmp(ap, "SAME_UPPER") ? total / 2 : (total + 1) / 2;
        *pe = total - *pb;
        return out;
    }
    if (!strcmp(ap, "VALID")) {
        *pb = *pe = 0;
        return (int64_t)ceil((double)(in - k + 1) / (double)s);
    }
    *pb = c->pads[i];
    *pe = c->pads[c->nk + i];
    double span = (double)(in + *pb + *pe - k);
    if (c->ceil_mode != 1) return (int64_t)floor(span / (double)s) + 1;
    int64_t out = (int64_t)ceil(span / (double)s) + 1;
    if ((out - 1) * s >= in + *pb) out--;
    return out;
}

/*
 * Visit every tap o*s - pb + j of each window; sum the ones inside the input and count them
 * (count_include_pad 0) or count the ones inside [-pb, in + pe) (count_include_pad 1). No tap
 * inside the input gives 0.
 */
static void ref_avgpool(const avg_case *c, const mr_tensor *x, const int64_t *ydims, double *y) {
    int nk = c->nk;
    int64_t in_plane = 1, out_plane = 1, pb[3], pe[3], taps = 1;
    for (int i = 0; i < nk; i++) {
        in_plane *= c->x[2 + i];
        out_plane *= ydims[2 + i];
        taps *= c->k[i];
        ref_out_size(c, i, &pb[i], &pe[i]);
    }
    for (int64_t p = 0; p < c->x[0] * c->x[1]; p++) {
        for (int64_t o = 0; o < out_plane; o++) {
            int64_t oi[3], rem = o;
            for (int i = nk - 1; i >= 0; i--) {
                oi[i] = rem % ydims[2 + i];
                rem /= ydims[2 + i];
            }
            double sum = 0;
            int64_t inside = 0, padded = 0;
            for (int64_t t = 0; t < taps; t++) {
                int64_t trem = t, at = 0;
                bool in_x = true, in_padded = true;
                int64_t pos[3];
                for (int i = nk - 1; i >= 0; i--) {
                    int64_t j = trem % c->k[i], s = c->s[i] ? c->s[i] : 1;
                    trem /= c->k[i];
                    pos[i] = oi[i] * s - pb[i] + j;
                    if (pos[i] < 0 || pos[i] >= c->x[2 + i]) in_x = false;
                    if (pos[i] < -pb[i] || pos[i] >= c->x[2 + i] + pe[i]) in_padded = false;
                }
                padded += in_padded;
                if (!in_x) continue;
                for (int i = 0; i < nk; i++)
                    at = at * c->x[2 + i] + pos[i];
                sum += mrt_get(x, p * in_plane + at);
                inside++;
            }
            int64_t n = c->count_include_pad == 1 ? padded : inside;
            y[p * out_plane + o] = inside ? sum / (double)n : 0;
        }
    }
}

static void set_avg_attrs(mr_node *n, const avg_case *c) {
    static const int64_t zero3[3] = {0, 0, 0};
    mrt_attr_ints(n, "kernel_shape", c->k, c->nk);
    if (memcmp(c->s, zero3, sizeof(zero3))) mrt_attr_ints(n, "strides", c->s, c->nk);
    if (c->has_pads) mrt_attr_ints(n, "pads", c->pads, 2 * c->nk);
    if (c->auto_pad) mrt_attr_string(n, "auto_pad", c->auto_pad);
    if (c->ceil_mode >= 0) mrt_attr_int(n, "ceil_mode", c->ceil_mode);
    if (c->count_include_pad >= 0) mrt_attr_int(n, "count_include_pad", c->count_include_pad);
}

/* opset, nk, x, k, s, pads, has_pads, auto_pad, ceil_mode, count_include_pad, dtype */
static const avg_case avg_cases[] = {
    /* 2-D, every opset form */
    {1, 2, {1, 1, 5, 5}, {2, 2}, {2, 2}, {0}, false, NULL, -1, -1, F32},
    {7, 2, {2, 3, 7, 9}, {3, 3}, {2, 2}, {1, 1, 1, 1}, true, NULL, -1, 1, F32},
    {7, 2, {2, 3, 7, 9}, {3, 3}, {2, 2}, {1, 1, 1, 1}, true, NULL, -1, 0, F32},
    {10, 2, {1, 2, 6, 7}, {3, 2}, {0}, {0, 1, 2, 1}, true, "NOTSET", 0, 1, F32},
    {11, 2, {2, 1, 8, 11}, {2, 3}, {1, 3}, {1, 0, 0, 2}, true, NULL, -1, -1, F32},
    {18, 2, {2, 2, 10, 9}, {3, 3}, {2, 1}, {2, 1, 1, 2}, true, NULL, -1, 1, F32},
    {11, 2, {1, 3, 7, 7}, {7, 7}, {0}, {0}, false, NULL, -1, -1, F32},
    /* pads larger than the kernel: windows over padding only */
    {11, 2, {1, 2, 3, 4}, {2, 2}, {1, 1}, {3, 2, 3, 2}, true, NULL, -1, 0, F32},
    {11, 2, {1, 2, 3, 4}, {2, 2}, {1, 1}, {3, 2, 3, 2}, true, NULL, -1, 1, F32},
    /* ceil_mode, with and without count_include_pad (the extra reach past the pads not counted) */
    {10, 2, {1, 1, 4, 4}, {3, 3}, {2, 2}, {0}, false, NULL, 1, -1, F32},
    {10, 2, {1, 1, 6, 6}, {3, 3}, {2, 2}, {0}, false, NULL, 1, 1, F32},
    {12, 2, {2, 2, 6, 7}, {3, 2}, {4, 2}, {1, 0, 2, 1}, true, NULL, 1, 0, F32},
    {12, 2, {2, 2, 6, 7}, {3, 2}, {4, 2}, {1, 0, 2, 1}, true, NULL, 1, 1, F32},
    {12, 2, {1, 2, 10, 9}, {2, 3}, {3, 2}, {0, 1, 1, 1}, true, NULL, 1, 1, F32},
    {17, 1, {2, 3, 11}, {4}, {3}, {1, 1}, true, NULL, 1, 1, F32},
    /* auto_pad, with and without count_include_pad */
    {11, 2, {1, 2, 7, 6}, {3, 2}, {2, 2}, {0}, false, "VALID", -1, -1, F32},
    {11, 2, {1, 2, 7, 6}, {3, 3}, {2, 2}, {0}, false, "SAME_UPPER", -1, 0, F32},
    {11, 2, {1, 2, 7, 6}, {3, 3}, {2, 2}, {0}, false, "SAME_UPPER", -1, 1, F32},
    {11, 2, {1, 2, 7, 6}, {3, 3}, {2, 2}, {0}, false, "SAME_LOWER", -1, 0, F32},
    {11, 2, {1, 2, 7, 6}, {3, 3}, {2, 2}, {0}, false, "SAME_LOWER", -1, 1, F32},
    {11, 2, {1, 3, 5, 5}, {2, 2}, {0}, {0}, false, "SAME_UPPER", -1, 1, F32},
    {11, 2, {1, 3, 5, 5}, {4, 4}, {1, 1}, {0}, false, "SAME_LOWER", -1, 1, F32},
    /* 1-D */
    {11, 1, {2, 3, 11}, {3}, {2}, {1, 0}, true, NULL, -1, -1, F32},
    {11, 1, {1, 1, 6}, {3}, {2}, {1, 1}, true, NULL, 1, 1, F32},
    {11, 1, {1, 1, 6}, {3}, {2}, {1, 1}, true, NULL, 1, 0, F32},
    {1, 1, {3, 2, 13}, {4}, {3}, {2, 1}, true, NULL, -1, -1, F32},
    /* 3-D */
    {11, 3, {1, 2, 5, 6, 7}, {2, 3, 2}, {2, 1, 2}, {1, 0, 1, 0, 1, 1}, true, NULL, -1, 1, F32},
    {11, 3, {2, 1, 7, 6, 5}, {2, 2, 2}, {1, 2, 1}, {0}, false, NULL, 1, 0, F32},
    {11, 3, {1, 2, 5, 4, 6}, {3, 2, 3}, {2, 2, 2}, {0}, false, "SAME_UPPER", -1, 1, F32},
    /* float64 */
    {11, 2, {2, 3, 7, 9}, {3, 3}, {2, 2}, {1, 1, 1, 1}, true, NULL, -1, 1, F64},
    {11, 3, {1, 2, 5, 6, 7}, {2, 3, 2}, {2, 1, 2}, {0}, false, NULL, 1, 0, F64},
};

static void test_avgpool_table(void **state) {
    (void)state;
    for (size_t ci = 0; ci < sizeof(avg_cases) / sizeof(avg_cases[0]); ci++) {
        const avg_case *c = &avg_cases[ci];
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        mr_node n;
        mrt_node_init(&n, "AveragePool", c->opset);
        set_avg_attrs(&n, c);
        mr_tensor x = mrt_tensor(c->dtype, c->nk + 2, c->x), y;
        memset(&y, 0, sizeof(y));
        mrt_fill_range(&x, (uint32_t)ci + 1, -1, 1);
        mr_tensor *in[1] = {&x}, *out[1] = {&y};
        mr_status st = mrt_run_op(&ctx, &n, in, 1, out, 1);
        if (st != MINIRT_OK) fail_msg("case %zu: status %d: %s", ci, st, ctx.err);

        int64_t ydims[5] = {c->x[0], c->x[1]}, pb, pe;
        for (int i = 0; i < c->nk; i++)
            ydims[2 + i] = ref_out_size(c, i, &pb, &pe);
        assert_int_equal(y.ndim, c->nk + 2);
        assert_int_equal(y.dtype, c->dtype);
        for (int i = 0; i < c->nk + 2; i++)
            if (y.dims[i] != ydims[i])
                fail_msg("case %zu: output dim %d is %lld, want %lld", ci, i, (long long)y.dims[i],
                         (long long)ydims[i]);
        int64_t cnt = mr_numel(&y);
        double *want = calloc((size_t)cnt, sizeof(double));
        assert_non_null(want);
        ref_avgpool(c, &x, ydims, want);
        char what[32];
        snprintf(what, sizeof(what), "case %zu", ci);
        mrt_assert_close_any(&y, want, 0, c->dtype == F64 ? 1e-12 : 1e-6, what);
        free(want);
        mrt_tensor_free(&x);
        mrt_tensor_free(&y);
        mrt_node_free(&ctx, &n);
    }
}

/* Run a 1-D AveragePool on x[0..n) with the given attributes; check Y against want[0..nw). */
static void check_avg_1d(const float *xv, int64_t n, int64_t k, int64_t s, int64_t pad, int ceil,
                         int cip, const float *want, int64_t nw) {
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    mr_node node;
    mrt_node_init(&node, "AveragePool", 11);
    int64_t ks[1] = {k}, ss[1] = {s}, ps[2] = {pad, pad}, d[3] = {1, 1, n};
    mrt_attr_ints(&node, "kernel_shape", ks, 1);
    mrt_attr_ints(&node, "strides", ss, 1);
    mrt_attr_ints(&node, "pads", ps, 2);
    mrt_attr_int(&node, "ceil_mode", ceil);
    mrt_attr_int(&node, "count_include_pad", cip);
    mr_tensor x = mrt_tensor(F32, 3, d), y;
    memset(&y, 0, sizeof(y));
    memcpy(x.data, xv, (size_t)n * sizeof(float));
    mr_tensor *in[1] = {&x}, *out[1] = {&y};
    assert_int_equal(mrt_run_op(&ctx, &node, in, 1, out, 1), MINIRT_OK);
    assert_int_equal(y.dims[2], nw);
    mrt_assert_close(y.data, want, nw, 0, 1e-6, "AveragePool 1-D");
    mrt_tensor_free(&x);
    mrt_tensor_free(&y);
    mrt_node_free(&ctx, &node);
}

/* Hand-checked values: the spec's examples and ceil_mode with count_include_pad (PyTorch's
 * avg_pool1d([1..6], 3, 2, padding=1, ceil_mode=True) gives 1, 3, 5, 3). */
static void test_avgpool_known(void **state) {
    (void)state;
    const float x6[6] = {1, 2, 3, 4, 5, 6};
    const float incl[4] = {1, 3, 5, 3}, excl[4] = {1.5f, 3, 5, 6};
    check_avg_1d(x6, 6, 3, 2, 1, 1, 1, incl, 4);
    check_avg_1d(x6, 6, 3, 2, 1, 1, 0, excl, 4);
    const float floor_incl[3] = {1, 3, 5};
    check_avg_1d(x6, 6, 3, 2, 1, 0, 1, floor_incl, 3);

    /* test_averagepool_2d_precomputed_pads_count_include_pad: 5x5 of 1..25, kernel 5, pads 2. */
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    mr_node n;
    mrt_node_init(&n, "AveragePool", 11);
    int64_t k[2] = {5, 5}, p[4] = {2, 2, 2, 2}, d[4] = {1, 1, 5, 5};
    mrt_attr_ints(&n, "kernel_shape", k, 2);
    mrt_attr_ints(&n, "pads", p, 4);
    mrt_attr_int(&n, "count_include_pad", 1);
    mr_tensor x = mrt_tensor(F32, 4, d), y;
    memset(&y, 0, sizeof(y));
    for (int i = 0; i < 25; i++)
        ((float *)x.data)[i] = (float)(i + 1);
    mr_tensor *in[1] = {&x}, *out[1] = {&y};
    assert_int_equal(mrt_run_op(&ctx, &n, in, 1, out, 1), MINIRT_OK);
    const float want[25] = {2.52f,  3.6f,  4.8f,  4.08f, 3.24f, 4.56f, 6.4f,  8.4f, 7.04f,
                            5.52f,  7.2f,  10.0f, 13.0f, 10.8f, 8.4f,  6.96f, 9.6f, 12.4f,
                            10.24f, 7.92f, 6.12f, 8.4f,  10.8f, 8.88f, 6.84f};
    mrt_assert_close(y.data, want, 25, 1e-5, 1e-5, "precomputed_pads_count_include_pad");
    mrt_tensor_free(&x);
    mrt_tensor_free(&y);
    mrt_node_free(&ctx, &n);
}

typedef struct avg_error {
    avg_case c;
    int dtype_override; /* 0: c.dtype */
    int x_rank;         /* 0: nk + 2 */
    bool dilations;     /* add dilations = 1... */
    mr_status status;
    const char *substr[2];
} avg_error;

static const avg_error avg_errors[] = {
    {{11, 2, {1, 3, 4, 4}, {5, 5}, {0}, {0}, false, NULL, -1, -1, F32},
     0,
     0,
     false,
     MINIRT_ERR_SHAPE,
     {"input X has shape 1x3x4x4 but kernel_shape is 5x5", "padded input 4x4"}},
    {{11, 2, {1, 3, 4, 4}, {2, 2}, {0}, {0, 0, 0, 0}, false, NULL, -1, 2, F32},
     0,
     0,
     false,
     MINIRT_ERR_MODEL,
     {"'count_include_pad'", "0 or 1"}},
    {{6, 2, {1, 3, 4, 4}, {2, 2}, {0}, {0}, false, NULL, -1, 1, F32},
     0,
     0,
     false,
     MINIRT_ERR_MODEL,
     {"'count_include_pad'", "opset 7"}},
    {{9, 2, {1, 3, 4, 4}, {2, 2}, {0}, {0}, false, NULL, 1, -1, F32},
     0,
     0,
     false,
     MINIRT_ERR_MODEL,
     {"'ceil_mode'", "opset 10"}},
    {{18, 2, {1, 3, 4, 4}, {2, 2}, {0}, {0}, false, NULL, -1, -1, F32},
     0,
     0,
     true,
     MINIRT_ERR_MODEL,
     {"'dilations'", "opset 19"}},
    {{11, 2, {1, 3, 4, 4}, {2, 2}, {1, 0}, {0}, false, NULL, -1, -1, F32},
     0,
     0,
     false,
     MINIRT_ERR_MODEL,
     {"'strides'", "value 0"}},
    {{11, 2, {1, 3, 4, 4}, {2, 2}, {0}, {0}, false, "SAME", -1, -1, F32},
     0,
     0,
     false,
     MINIRT_ERR_MODEL,
     {"'auto_pad'", "'SAME'"}},
    {{11, 2, {3, 4, 4}, {2, 2}, {0}, {0}, false, NULL, -1, -1, F32},
     0,
     3,
     false,
     MINIRT_ERR_SHAPE,
     {"3x4x4", "rank 4"}},
    {{11, 2, {1, 3, 4, 4}, {2, 2}, {0}, {0}, false, NULL, -1, -1, F32},
     MINIRT_INT32,
     0,
     false,
     MINIRT_ERR_UNSUPPORTED,
     {"int32", "AveragePool"}},
    {{11, 2, {1, 3, 0, 4}, {2, 2}, {0}, {0}, false, NULL, -1, -1, F32},
     0,
     0,
     false,
     MINIRT_ERR_SHAPE,
     {"1x3x0x4", "empty"}},
};

static void test_avgpool_errors(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(avg_errors) / sizeof(avg_errors[0]); i++) {
        const avg_error *e = &avg_errors[i];
        mr_node n;
        mrt_node_init(&n, "AveragePool", e->c.opset);
        set_avg_attrs(&n, &e->c);
        if (e->dilations) {
            const int64_t ones[3] = {1, 1, 1};
            mrt_attr_ints(&n, "dilations", ones, e->c.nk);
        }
        int rank = e->x_rank ? e->x_rank : e->c.nk + 2;
        mr_tensor x = mrt_tensor(e->dtype_override ? e->dtype_override : e->c.dtype, rank, e->c.x);
        mr_tensor *in[1] = {&x};
        mrt_run_expect(&n, in, 1, NULL, 1, e->status, e->substr[0], e->substr[1]);
        mrt_tensor_free(&x);
    }
}

/* 4 spatial axes are valid ONNX that minirt does not implement; opset 19 is not covered. */
static void test_avgpool_unsupported(void **state) {
    (void)state;
    mr_node n;
    mrt_node_init(&n, "AveragePool", 11);
    int64_t k[4] = {2, 2, 2, 2}, d[6] = {1, 1, 3, 3, 3, 3};
    mrt_attr_ints(&n, "kernel_shape", k, 4);
    mr_tensor x = mrt_tensor(F32, 6, d);
    mr_tensor *in[1] = {&x};
    mrt_run_expect(&n, in, 1, NULL, 1, MINIRT_ERR_UNSUPPORTED,
                   "AveragePool supports 1 to 3 spatial", NULL);
    mrt_node_init(&n, "AveragePool", 19);
    mrt_attr_ints(&n, "kernel_shape", k, 2);
    mrt_run_expect(&n, in, 1, NULL, 1, MINIRT_ERR_UNSUPPORTED, NULL, NULL);
    mrt_tensor_free(&x);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_avgpool_table),
        cmocka_unit_test(test_avgpool_known),
        cmocka_unit_test(test_avgpool_errors),
        cmocka_unit_test(test_avgpool_unsupported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
