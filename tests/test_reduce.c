/*
 * test_reduce.c - ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceL2 and ArgMax against plain
 * references: every reduction over a table of shapes and axes (all, innermost, outermost,
 * alternating, size-1 only, negative, scalar, empty sets) at each opset form of the axes
 * (attribute, ReduceSum-13's input, absent, empty, noop_with_empty_axes), float32 / float64 / int32
 * / int64, NaN propagation, ArgMax with ties both ways, and the errors with their status and
 * message.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrt.h"

enum { SUM, MEAN, MAX, MIN, L2, NKINDS };
static const char *const op_names[NKINDS] = {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin",
                                             "ReduceL2"};

#define F32 MINIRT_FLOAT32
#define F64 MINIRT_FLOAT64
#define I32 MINIRT_INT32
#define I64 MINIRT_INT64

static int64_t get_i(const mr_tensor *t, int64_t i) {
    return t->dtype == I32 ? ((const int32_t *)t->data)[i] : ((const int64_t *)t->data)[i];
}

/* mrt_fill_range, with float values rounded down too when `whole` (ties for ArgMax). */
static void fill(mr_tensor *t, uint32_t seed, double lo, double hi, bool whole) {
    mrt_fill_range(t, seed, lo, hi);
    for (int64_t i = 0; whole && i < mr_numel(t); i++)
        mrt_set(t, i, floor(mrt_get(t, i)));
}

/* ---- Reduce* reference ---- */

typedef struct reduce_case {
    int rank;
    int64_t x[5];
    int n_axes; /* -1: no axes at all */
    int64_t axes[5];
    int keepdims; /* -1: attribute absent */
    int dtype;
} reduce_case;

static const reduce_case reduce_cases[] = {
    {3, {2, 3, 4}, -1, {0}, -1, F32},        /* all axes, default keepdims */
    {3, {2, 3, 4}, 1, {1}, 0, F32},          /* middle */
    {3, {2, 3, 4}, 1, {-1}, 1, F32},         /* innermost, negative */
    {3, {2, 3, 4}, 1, {0}, 0, F32},          /* outermost: row accumulation */
    {3, {2, 3, 4}, 2, {0, 2}, 0, F32},       /* alternating */
    {4, {3, 5, 7, 2}, 2, {1, 3}, 1, F32},    /* alternating, reduced innermost */
    {4, {3, 5, 7, 2}, 2, {-3, 0}, 0, F32},   /* two leading axes */
    {5, {5, 1, 4, 1, 3}, 2, {1, 3}, 0, F32}, /* only size-1 axes: a copy */
    {5, {5, 1, 4, 1, 3}, 3, {0, 3, 4}, 1, F32},
    {1, {17}, 1, {0}, 0, F32},
    {1, {17}, -1, {0}, 1, F32},
    {0, {0}, -1, {0}, 1, F32},            /* scalar */
    {2, {2, 3}, 2, {0, 1}, 0, F32},       /* to a scalar */
    {3, {4, 0, 3}, 1, {1}, 1, F32},       /* empty sets: Sum 0, Max -inf, Mean NaN... */
    {3, {4, 0, 3}, 1, {0}, 0, F32},       /* empty output */
    {3, {6, 33, 9}, 1, {1}, -1, F32},     /* odd sizes, middle */
    {2, {3, 1001}, 1, {1}, 0, F32},       /* long runs: accuracy */
    {3, {2, 3, 4}, 2, {0, 2}, 1, F64},    /* float64 */
    {3, {3, 4, 5}, 1, {-1}, 0, F64},      /* float64, innermost */
    {4, {2, 3, 4, 5}, 2, {0, 2}, 0, I32}, /* int32 (Sum, Max, Min) */
    {3, {2, 3, 4}, 1, {2}, 1, I64},       /* int64 */
    {3, {2, 3, 4}, -1, {0}, 0, I64},
};

static bool kind_supports(int kind, int dtype) {
    return dtype == F32 || dtype == F64 || kind == SUM || kind == MAX || kind == MIN;
}

/* Reduce by definition: fold every element into the output element its kept indices name. Floats
 * in double (Max/Min propagate NaN), integers wrapping in uint64 then truncated to the type. */
static void ref_reduce(int kind, const mr_tensor *x, const bool *red, double *yf, int64_t *yi,
                       int64_t out_n) {
    int64_t count = 1, n = mr_numel(x);
    for (int i = 0; i < x->ndim; i++)
        if (red[i]) count *= x->dims[i];
    bool is_int = x->dtype == I32 || x->dtype == I64;
    uint64_t *acc = calloc((size_t)out_n + 1, sizeof(uint64_t));
    assert_non_null(acc);
    for (int64_t o = 0; o < out_n; o++) {
        yf[o] = kind == MAX ? -INFINITY : kind == MIN ? INFINITY : 0;
        yi[o] = kind == MAX   ? (x->dtype == I32 ? INT32_MIN : INT64_MIN)
                : kind == MIN ? (x->dtype == I32 ? INT32_MAX : INT64_MAX)
                              : 0;
    }
    for (int64_t e = 0; e < n; e++) {
        int64_t rem = e, o = 0, mul = 1;
        for (int i = x->ndim - 1; i >= 0; i--) {
            int64_t idx = rem % x->dims[i];
            rem /= x->dims[i];
            if (!red[i]) {
                o += idx * mul;
                mul *= x->dims[i];
            }
        }
        double v = mrt_get(x, e);
        if (is_int) {
            int64_t iv = get_i(x, e);
            if (kind == SUM) acc[o] += (uint64_t)iv;
            if (kind == MAX && iv > yi[o]) yi[o] = iv;
            if (kind == MIN && iv < yi[o]) yi[o] = iv;
        } else if (kind == MAX) {
            if (v > yf[o] || isnan(v)) yf[o] = isnan(yf[o]) ? yf[o] : v;
        } else if (kind == MIN) {
            if (v < yf[o] || isnan(v)) yf[o] = isnan(yf[o]) ? yf[o] : v;
        } else {
            yf[o] += kind == L2 ? v * v : v;
        }
    }
    for (int64_t o = 0; o < out_n; o++) {
        if (is_int && kind == SUM)
            yi[o] = x->dtype == I32 ? (int32_t)(uint32_t)acc[o] : (int64_t)acc[o];
        if (kind == MEAN) yf[o] = count ? yf[o] / (double)count : NAN;
        if (kind == L2) yf[o] = sqrt(yf[o]);
    }
    free(acc);
}

/* How the axes reach the node. */
enum { AXES_ATTR, AXES_INPUT, AXES_INPUT32, AXES_ABSENT_INPUT };

/* Run kind on x with the given axes form; compare with the reference (red[] = reduced axes). */
static void check_reduce(int kind, int opset, const mr_tensor *xc, int n_axes, const int64_t *axes,
                         int keepdims, int form, int noop, const char *what) {
    mr_tensor x = *xc;
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    mr_node n;
    mrt_node_init(&n, op_names[kind], opset);
    if (keepdims >= 0) mrt_attr_int(&n, "keepdims", keepdims);
    if (noop >= 0) mrt_attr_int(&n, "noop_with_empty_axes", noop);
    int64_t ad[1] = {n_axes > 0 ? n_axes : 0};
    mr_tensor at;
    memset(&at, 0, sizeof(at));
    int n_in = 1;
    if (form == AXES_ATTR && n_axes >= 0) mrt_attr_ints(&n, "axes", axes, n_axes);
    if ((form == AXES_INPUT || form == AXES_INPUT32) && n_axes >= 0) {
        at = mrt_tensor(form == AXES_INPUT ? I64 : I32, 1, ad);
        for (int i = 0; i < n_axes; i++) {
            if (form == AXES_INPUT) ((int64_t *)at.data)[i] = axes[i];
            if (form == AXES_INPUT32) ((int32_t *)at.data)[i] = (int32_t)axes[i];
        }
        n_in = 2;
    }
    if (form == AXES_ABSENT_INPUT) n_in = 2; /* input 1 named "" */
    mr_tensor y;
    memset(&y, 0, sizeof(y));
    mr_tensor *in[2] = {&x, at.data ? &at : NULL}, *out[1] = {&y};
    mr_status st = mrt_run_op(&ctx, &n, in, n_in, out, 1);
    if (st != MINIRT_OK) fail_msg("%s: status %d: %s", what, st, ctx.err);

    /* no axes: all of them, or none with noop_with_empty_axes=1 (ReduceSum-13) */
    bool red[5];
    bool all = n_axes <= 0 && !(kind == SUM && opset >= 13 && noop == 1);
    for (int i = 0; i < x.ndim; i++)
        red[i] = all;
    for (int i = 0; i < n_axes; i++)
        red[axes[i] < 0 ? axes[i] + x.ndim : axes[i]] = true;
    int k = 0;
    bool keep = keepdims != 0;
    for (int i = 0; i < x.ndim; i++) {
        if (red[i] && !keep) continue;
        if (y.ndim <= k || y.dims[k] != (red[i] ? 1 : x.dims[i]))
            fail_msg("%s: output dim %d is wrong (rank %d)", what, k, y.ndim);
        k++;
    }
    assert_int_equal(y.ndim, k);
    assert_int_equal(y.dtype, x.dtype);
    int64_t cnt = mr_numel(&y);
    double *wf = calloc((size_t)cnt + 1, sizeof(double));
    int64_t *wi = calloc((size_t)cnt + 1, sizeof(int64_t));
    float *g32 = calloc((size_t)cnt + 1, 4), *w32 = calloc((size_t)cnt + 1, 4);
    assert_true(wf && wi && g32 && w32);
    ref_reduce(kind, &x, red, wf, wi, cnt);
    if (x.dtype == I32 || x.dtype == I64) {
        for (int64_t i = 0; i < cnt; i++)
            if (get_i(&y, i) != wi[i])
                fail_msg("%s: [%lld] got %lld want %lld", what, (long long)i,
                         (long long)get_i(&y, i), (long long)wi[i]);
    } else {
        for (int64_t i = 0; i < cnt; i++) {
            g32[i] = (float)mrt_get(&y, i);
            w32[i] = (float)wf[i];
        }
        mrt_assert_close(g32, w32, cnt, 1e-5, 1e-6, what);
    }
    free(wf);
    free(wi);
    free(g32);
    free(w32);
    mrt_tensor_free(&at);
    mrt_tensor_free(&y);
    mrt_node_free(&ctx, &n);
}

/* Every case, every kind its type allows, at opsets 1, 11 and 17 (attribute) and ReduceSum at 13
 * and 21 (int64 input, and int32 input for the odd cases). */
static void test_reduce_table(void **state) {
    (void)state;
    const int opsets[] = {1, 11, 13, 17, 21};
    for (size_t ci = 0; ci < sizeof(reduce_cases) / sizeof(reduce_cases[0]); ci++) {
        const reduce_case *c = &reduce_cases[ci];
        mr_tensor x = mrt_tensor(c->dtype, c->rank, c->x);
        /* integer sums wrap */
        double range = c->dtype == I32 ? 2e9 : c->dtype == I64 ? 9e18 : 2;
        fill(&x, (uint32_t)ci + 1, -range, range, false);
        for (int kind = 0; kind < NKINDS; kind++) {
            if (!kind_supports(kind, c->dtype)) continue;
            for (size_t oi = 0; oi < sizeof(opsets) / sizeof(opsets[0]); oi++) {
                int opset = opsets[oi];
                if (kind != SUM && opset > 17) continue;
                bool negative = false;
                for (int i = 0; i < c->n_axes; i++)
                    negative |= c->axes[i] < 0;
                if (negative && opset < 11) continue;
                int form = AXES_ATTR;
                if (kind == SUM && opset >= 13) form = ci % 2 ? AXES_INPUT32 : AXES_INPUT;
                if (form != AXES_ATTR && c->n_axes < 0 && ci % 3 == 0) form = AXES_ABSENT_INPUT;
                char what[96];
                snprintf(what, sizeof(what), "case %zu %s opset %d form %d", ci, op_names[kind],
                         opset, form);
                check_reduce(kind, opset, &x, c->n_axes, c->axes, c->keepdims, form, -1, what);
            }
        }
        mrt_tensor_free(&x);
    }
}

/* ReduceSum-13: empty or absent axes reduce everything unless noop_with_empty_axes=1; an empty
 * attribute list in the older opsets also means all axes. */
static void test_reduce_sum_empty_axes(void **state) {
    (void)state;
    int64_t d[3] = {3, 4, 5}, none[1] = {0};
    mr_tensor x = mrt_tensor(F32, 3, d);
    fill(&x, 7, -1, 1, false);
    check_reduce(SUM, 13, &x, 0, none, 1, AXES_INPUT, 0, "empty axes input");
    check_reduce(SUM, 13, &x, 0, none, 0, AXES_INPUT, 1, "empty axes input, noop");
    check_reduce(SUM, 13, &x, -1, none, 0, AXES_ATTR, 1, "no axes input, noop");
    check_reduce(SUM, 21, &x, -1, none, -1, AXES_ABSENT_INPUT, 1, "absent axes input, noop");
    check_reduce(SUM, 13, &x, -1, none, 0, AXES_ABSENT_INPUT, 0, "absent axes input");
    check_reduce(MEAN, 11, &x, 0, none, 0, AXES_ATTR, -1, "empty axes attribute");
    check_reduce(MAX, 1, &x, 0, none, 1, AXES_ATTR, -1, "empty axes attribute");
    mrt_tensor_free(&x);
}

/* Max/Min propagate NaN (as numpy); the Sum of a row with NaN is NaN. */
static void test_reduce_nan(void **state) {
    (void)state;
    int64_t d[2] = {3, 4}, ax0[1] = {0}, ax1[1] = {1};
    mr_tensor x = mrt_tensor(F32, 2, d);
    fill(&x, 3, -1, 1, false);
    ((float *)x.data)[5] = NAN;  /* row 1, column 1 */
    ((float *)x.data)[11] = NAN; /* row 2, column 3 (last) */
    for (int kind = 0; kind < NKINDS; kind++) {
        check_reduce(kind, 13, &x, 1, ax1, 0, kind == SUM ? AXES_INPUT : AXES_ATTR, -1, "nan rows");
        check_reduce(kind, 11, &x, 1, ax0, 0, AXES_ATTR, -1, "nan columns");
    }
    mrt_tensor_free(&x);
}

typedef struct reduce_error {
    int kind, opset, dtype;
    int rank;
    int64_t x[3];
    int n_axes; /* -1: none */
    int64_t axes[3];
    int form;
    const char *attr; /* an extra int attribute, or NULL */
    int64_t attr_value;
    mr_status status;
    const char *substr[2];
} reduce_error;

#define ME MINIRT_ERR_MODEL
#define UN MINIRT_ERR_UNSUPPORTED
static const reduce_error reduce_errors[] = {
    {MEAN,
     11,
     F32,
     3,
     {2, 3, 4},
     2,
     {1, -2},
     AXES_ATTR,
     NULL,
     0,
     ME,
     {"axis -2", "more than once"}},
    {SUM, 13, F32, 3, {2, 3, 4}, 2, {0, 0}, AXES_INPUT, NULL, 0, ME, {"axis 0 ", "more than once"}},
    {MAX, 11, F32, 3, {2, 3, 4}, 1, {3}, AXES_ATTR, NULL, 0, ME, {"axis 3", "out of range"}},
    {SUM, 13, F32, 3, {2, 3, 4}, 1, {-4}, AXES_INPUT, NULL, 0, ME, {"axis -4", "rank 3"}},
    {MIN, 11, F32, 0, {0}, 1, {0}, AXES_ATTR, NULL, 0, ME, {"axis 0", "rank 0"}},
    {L2, 11, F32, 2, {2, 3}, -1, {0}, AXES_ATTR, "keepdims", 2, ME, {"'keepdims' is 2", "0 or 1"}},
    {SUM,
     13,
     F32,
     2,
     {2, 3},
     -1,
     {0},
     AXES_ATTR,
     "noop_with_empty_axes",
     -1,
     ME,
     {"noop", "is -1"}},
    {SUM, 13, F32, 2, {2, 3}, 1, {0}, AXES_ATTR, NULL, 0, ME, {"attribute 'axes'", "opset 13"}},
    {MEAN, 11, F32, 2, {2, 3}, 1, {0}, AXES_INPUT, NULL, 0, ME, {"one input", "opset 11"}},
    {SUM, 11, F32, 2, {2, 3}, 1, {0}, AXES_INPUT, NULL, 0, ME, {"ReduceSum takes", "attribute"}},
    {MEAN, 13, I32, 2, {2, 3}, -1, {0}, AXES_ATTR, NULL, 0, UN, {"int32", "float32, float64"}},
    {L2, 13, I64, 2, {2, 3}, -1, {0}, AXES_ATTR, NULL, 0, UN, {"int64", "ReduceL2"}},
    {MAX, 13, MINIRT_UINT8, 1, {3}, -1, {0}, AXES_ATTR, NULL, 0, UN, {"uint8", "int64"}},
    {MEAN, 18, F32, 1, {3}, -1, {0}, AXES_ATTR, NULL, 0, UN, {"no kernel", "ReduceMean"}},
    {MAX, 20, F32, 1, {3}, -1, {0}, AXES_ATTR, NULL, 0, UN, {"no kernel", "ReduceMax"}},
};

static void test_reduce_errors(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(reduce_errors) / sizeof(reduce_errors[0]); i++) {
        const reduce_error *e = &reduce_errors[i];
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        mr_node n;
        mrt_node_init(&n, op_names[e->kind], e->opset);
        if (e->attr) mrt_attr_int(&n, e->attr, e->attr_value);
        if (e->form == AXES_ATTR && e->n_axes >= 0) mrt_attr_ints(&n, "axes", e->axes, e->n_axes);
        int64_t ad[1] = {e->n_axes > 0 ? e->n_axes : 0};
        mr_tensor x = mrt_tensor(e->dtype, e->rank, e->x), at = mrt_tensor(I64, 1, ad), y;
        memcpy(at.data, e->axes, (size_t)ad[0] * sizeof(int64_t));
        memset(&y, 0, sizeof(y));
        mr_tensor *in[2] = {&x, &at}, *out[1] = {&y};
        mr_status st = mrt_run_op(&ctx, &n, in, e->form == AXES_INPUT ? 2 : 1, out, 1);
        if (st != e->status || !strstr(ctx.err, e->substr[0]) || !strstr(ctx.err, e->substr[1]))
            fail_msg("reduce error %zu: want status %d with '%s' and '%s'; got %d: %s", i,
                     e->status, e->substr[0], e->substr[1], st, ctx.err);
        mrt_tensor_free(&x);
        mrt_tensor_free(&at);
        mrt_tensor_free(&y);
        mrt_node_free(&ctx, &n);
    }
}

/* ReduceSum-13's axes must be known at plan time (a constant or a folded value). */
static void test_reduce_sum_axes_unknown(void **state) {
    (void)state;
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    mr_node n;
    mrt_node_init(&n, "ReduceSum", 13);
    int64_t d[2] = {2, 3}, ad[1] = {1};
    mr_tensor x = mrt_tensor(F32, 2, d), at = mrt_tensor(I64, 1, ad), y;
    memset(&y, 0, sizeof(y));
    void *saved = at.data;
    at.data = NULL;
    mr_tensor *in[2] = {&x, &at}, *out[1] = {&y};
    mr_status st = mrt_run_op(&ctx, &n, in, 2, out, 1);
    assert_int_equal(st, MINIRT_ERR_UNSUPPORTED);
    assert_non_null(strstr(ctx.err, "input 'axes' must be known before the run"));
    at.data = saved;
    mrt_tensor_free(&x);
    mrt_tensor_free(&at);
    mrt_node_free(&ctx, &n);
}

/* ---- ArgMax ---- */

typedef struct argmax_case {
    int opset, dtype;
    int rank;
    int64_t x[4];
    int64_t axis;  /* INT64_MIN: attribute absent (0) */
    int keepdims;  /* -1: absent */
    int last;      /* select_last_index; -1: absent */
    double lo, hi; /* values floor()ed into [lo, hi): small ranges give ties */
} argmax_case;

#define NOAX INT64_MIN
static const argmax_case argmax_cases[] = {
    {1, F32, 2, {5, 3}, NOAX, -1, -1, -2, 2},
    {11, F32, 3, {2, 7, 4}, -1, 0, -1, -3, 3},
    {11, F32, 3, {2, 7, 4}, 1, 1, -1, -2, 2},
    {12, F32, 3, {2, 7, 4}, 1, 0, 1, -2, 2},
    {13, F32, 3, {2, 7, 4}, -2, -1, 1, 0, 2},
    {13, F32, 3, {2, 7, 4}, 2, 0, 0, 0, 2},
    {21, F32, 4, {3, 1, 5, 9}, 3, -1, 1, -100, 100},
    {13, F32, 1, {11}, 0, 0, 1, 0, 3}, /* to a scalar */
    {13, F32, 2, {1, 6}, 0, 1, -1, -5, 5},
    {13, F64, 3, {3, 4, 5}, 1, 1, 1, 0, 3},
    {13, F64, 2, {4, 6}, -1, 0, 0, 0, 3},
    {13, I32, 3, {3, 4, 5}, 0, 1, 1, -2, 2},
    {13, I64, 3, {3, 4, 5}, 2, 0, 0, -2, 2},
    {13, I64, 2, {6, 1}, 1, 1, 1, -2, 2},    /* one candidate */
    {13, F32, 3, {2, 0, 3}, 0, 1, -1, 0, 1}, /* empty output */
};

static void test_argmax_table(void **state) {
    (void)state;
    for (size_t ci = 0; ci < sizeof(argmax_cases) / sizeof(argmax_cases[0]); ci++) {
        const argmax_case *c = &argmax_cases[ci];
        char what[64];
        snprintf(what, sizeof(what), "argmax case %zu", ci);
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        mr_node n;
        mrt_node_init(&n, "ArgMax", c->opset);
        if (c->axis != NOAX) mrt_attr_int(&n, "axis", c->axis);
        if (c->keepdims >= 0) mrt_attr_int(&n, "keepdims", c->keepdims);
        if (c->last >= 0) mrt_attr_int(&n, "select_last_index", c->last);
        mr_tensor x = mrt_tensor(c->dtype, c->rank, c->x), y;
        memset(&y, 0, sizeof(y));
        fill(&x, (uint32_t)ci + 5, c->lo, c->hi, true);
        mr_tensor *in[1] = {&x}, *out[1] = {&y};
        mr_status st = mrt_run_op(&ctx, &n, in, 1, out, 1);
        if (st != MINIRT_OK) fail_msg("%s: status %d: %s", what, st, ctx.err);
        int axis = (int)(c->axis == NOAX ? 0 : c->axis < 0 ? c->axis + c->rank : c->axis);
        bool keep = c->keepdims != 0, last = c->last == 1;
        assert_int_equal(y.dtype, I64);
        assert_int_equal(y.ndim, keep ? c->rank : c->rank - 1);
        for (int i = 0, k = 0; i < c->rank; i++) {
            if (i == axis && !keep) continue;
            assert_int_equal(y.dims[k++], i == axis ? 1 : c->x[i]);
        }
        int64_t outer = 1, inner = 1, len = c->x[axis];
        for (int i = 0; i < c->rank; i++) {
            if (i < axis) outer *= c->x[i];
            if (i > axis) inner *= c->x[i];
        }
        for (int64_t o = 0; o < outer; o++)
            for (int64_t i = 0; i < inner; i++) {
                int64_t best = 0;
                for (int64_t r = 1; r < len; r++) {
                    double v = mrt_get(&x, (o * len + r) * inner + i);
                    double b = mrt_get(&x, (o * len + best) * inner + i);
                    if (v > b || (last && v == b)) best = r;
                }
                int64_t got = ((const int64_t *)y.data)[o * inner + i];
                if (got != best)
                    fail_msg("%s: output [%lld] got %lld want %lld", what,
                             (long long)(o * inner + i), (long long)got, (long long)best);
            }
        mrt_tensor_free(&x);
        mrt_tensor_free(&y);
        mrt_node_free(&ctx, &n);
    }
}

/* NaN is the largest value: the first NaN, or the last with select_last_index. */
static void test_argmax_nan(void **state) {
    (void)state;
    const float v[2][6] = {{1, NAN, 5, NAN, 2, 5}, {3, 9, 9, 1, 0, 9}};
    const int64_t want[2][2] = {{1, 1}, {3, 5}}; /* [last][row] */
    for (int last = 0; last < 2; last++)
        for (int inner = 0; inner < 2; inner++) {
            /* rows along the innermost axis ([2, 6], axis 1), or strided ([6, 2], axis 0) */
            int64_t d[2] = {inner ? 2 : 6, inner ? 6 : 2};
            mr_ctx ctx;
            mr_ctx_init(&ctx, NULL);
            mr_node n;
            mrt_node_init(&n, "ArgMax", 13);
            mrt_attr_int(&n, "axis", inner ? 1 : 0);
            mrt_attr_int(&n, "keepdims", 0);
            mrt_attr_int(&n, "select_last_index", last);
            mr_tensor x = mrt_tensor(F32, 2, d), y;
            memset(&y, 0, sizeof(y));
            for (int r = 0; r < 2; r++)
                for (int j = 0; j < 6; j++)
                    ((float *)x.data)[inner ? r * 6 + j : j * 2 + r] = v[r][j];
            mr_tensor *in[1] = {&x}, *out[1] = {&y};
            assert_int_equal(mrt_run_op(&ctx, &n, in, 1, out, 1), MINIRT_OK);
            for (int r = 0; r < 2; r++)
                assert_int_equal(((const int64_t *)y.data)[r], want[last][r]);
            mrt_tensor_free(&x);
            mrt_tensor_free(&y);
            mrt_node_free(&ctx, &n);
        }
}

typedef struct argmax_error {
    int opset, dtype, rank;
    int64_t x[3];
    const char *attr;
    int64_t value;
    mr_status status;
    const char *substr[2];
} argmax_error;

static const argmax_error argmax_errors[] = {
    {13, F32, 2, {3, 4}, "axis", 2, ME, {"axis 2", "out of range for rank 2"}},
    {13, F32, 2, {3, 4}, "axis", -3, ME, {"axis -3", "valid: -2 to 1"}},
    {13, F32, 0, {0}, NULL, 0, ME, {"axis 0", "rank 0"}},
    {11, F32, 2, {3, 4}, "select_last_index", 1, ME, {"select_last_index", "opset 12"}},
    {12, F32, 2, {3, 4}, "select_last_index", 2, ME, {"'select_last_index' is 2", "0 or 1"}},
    {13, F32, 2, {3, 4}, "keepdims", -1, ME, {"'keepdims' is -1", "0 or 1"}},
    {13, F32, 2, {3, 0}, "axis", 1, MINIRT_ERR_SHAPE, {"shape 3x0", "axis 1 is empty"}},
    {13, MINIRT_UINT8, 1, {4}, NULL, 0, UN, {"uint8", "ArgMax supports"}},
};

static void test_argmax_errors(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(argmax_errors) / sizeof(argmax_errors[0]); i++) {
        const argmax_error *e = &argmax_errors[i];
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        mr_node n;
        mrt_node_init(&n, "ArgMax", e->opset);
        if (e->attr) mrt_attr_int(&n, e->attr, e->value);
        mr_tensor x = mrt_tensor(e->dtype, e->rank, e->x), y;
        memset(&y, 0, sizeof(y));
        mr_tensor *in[1] = {&x}, *out[1] = {&y};
        mr_status st = mrt_run_op(&ctx, &n, in, 1, out, 1);
        if (st != e->status || !strstr(ctx.err, e->substr[0]) || !strstr(ctx.err, e->substr[1]))
            fail_msg("argmax error %zu: want status %d with '%s' and '%s'; got %d: %s", i,
                     e->status, e->substr[0], e->substr[1], st, ctx.err);
        mrt_tensor_free(&x);
        mrt_tensor_free(&y);
        mrt_node_free(&ctx, &n);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reduce_table),
        cmocka_unit_test(test_reduce_sum_empty_axes),
        cmocka_unit_test(test_reduce_nan),
        cmocka_unit_test(test_reduce_errors),
        cmocka_unit_test(test_reduce_sum_axes_unknown),
        cmocka_unit_test(test_argmax_table),
        cmocka_unit_test(test_argmax_nan),
        cmocka_unit_test(test_argmax_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
