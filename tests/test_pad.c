/*
 * test_pad.c - Pad and Slice against plain references: every mode, every opset form (paddings /
 * pads attributes, pads and constant_value inputs; starts/ends/axes attributes, inputs with steps),
 * negative pads, negative and huge indices and steps (PyTorch's INT64_MAX / INT64_MIN), every
 * element type, empty tensors, and the errors with their status and message.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrt.h"

#define F32 MINIRT_FLOAT32
#define F64 MINIRT_FLOAT64
#define I32 MINIRT_INT32
#define I64 MINIRT_INT64
#define I8 MINIRT_INT8
#define U8 MINIRT_UINT8
#define BOOL MINIRT_BOOL
#define MAXI INT64_MAX
#define MINI INT64_MIN

/* ---- Pad ---- */

typedef struct pad_case {
    int opset;
    const char *mode; /* NULL: attribute absent (constant) */
    int dtype, ndim;
    int64_t x[4];
    int64_t pads[8];
    float value; /* attribute (opset < 11), or the constant_value input when has_cv */
    bool has_cv;
} pad_case;

static const pad_case pad_cases[] = {
    {2, NULL, F32, 2, {3, 4}, {1, 2, 0, 1}, 1.5f, false},
    {1, "reflect", F32, 4, {2, 3, 5, 6}, {0, 0, 2, 1, 0, 0, 1, 3}, 0, false},
    {11, "edge", F32, 4, {2, 3, 5, 6}, {0, 0, 3, 1, 0, 0, 4, 2}, 0, false},
    {13, "reflect", I64, 3, {2, 4, 5}, {1, -1, 2, 0, 2, -2}, 0, false},
    {13, "constant", F64, 3, {3, 4, 5}, {-1, 2, -2, 1, -1, 3}, -7.25f, true},
    {11, "constant", U8, 1, {7}, {-2, 3}, 0, false},
    {2, "constant", I32, 2, {2, 3}, {1, 1, 1, 1}, 2.7f, false},
    {10, "constant", I8, 2, {2, 3}, {0, 2, 1, 0}, -3.9f, false},
    {10, "constant", U8, 2, {2, 3}, {1, 0, 0, 1}, 300.0f, false},
    {13, "edge", BOOL, 2, {1, 3}, {2, 2, 2, 2}, 0, false},
    {13, "constant", F32, 2, {0, 3}, {1, 0, 1, 0}, 4.0f, true},
    {17, "reflect", F32, 2, {3, 3}, {2, 2, 2, 2}, 0, false},
    {13, "constant", F32, 0, {0}, {0}, 3.0f, true},
    {13, "edge", F32, 2, {3, 4}, {-3, 0, 0, 0}, 0, false},
    {13, "constant", F32, 4, {1, 2, 7, 9}, {0, 0, 3, 2, 0, 0, 1, 4}, 0, false},
    {13, "reflect", I32, 4, {2, 2, 4, 3}, {0, 0, -1, 1, 1, 0, 2, -1}, 0, false},
    {13, "edge", I8, 3, {2, 1, 3}, {1, 3, 0, 0, 2, 5}, 0, false},
    {2, "reflect", F64, 1, {2}, {1, 1}, 0, false},
    {13, "edge", F32, 3, {3, 2, 2}, {1, 0, 1, 2, 1, 0}, 0, false},
    {11, "reflect", U8, 3, {3, 4, 2}, {2, -1, 1, 2, 2, 0}, 0, false},
};

/* Fill value for a case, in the input's type: the float attribute saturates into integers. */
static void case_fill(const pad_case *c, unsigned char *v) {
    double f = c->value;
    memset(v, 0, 8);
    if (c->dtype == F32) {
        memcpy(v, &c->value, 4);
    } else if (c->dtype == F64) {
        memcpy(v, &f, 8);
    } else if (c->dtype == BOOL) {
        v[0] = f != 0;
    } else if (c->dtype == I8) {
        int8_t t = (int8_t)(f < -128 ? -128 : f > 127 ? 127 : f);
        memcpy(v, &t, 1);
    } else if (c->dtype == U8) {
        v[0] = (uint8_t)(f < 0 ? 0 : f > 255 ? 255 : f);
    } else if (c->dtype == I32) {
        int32_t t = (int32_t)f;
        memcpy(v, &t, 4);
    } else {
        int64_t t = (int64_t)f;
        memcpy(v, &t, 8);
    }
}

/* Output coordinate o maps to input coordinate p = o - pads_begin; the kept input is [lo, hi)
 * after cropping; outside it: the constant, the nearest edge, or a mirror bounce. */
static int64_t ref_pad_src(const char *mode, int64_t o, int64_t pb, int64_t pe, int64_t d) {
    int64_t p = o - pb, lo = pb < 0 ? -pb : 0, hi = pe < 0 ? d + pe : d;
    if (p >= lo && p < hi) return p;
    if (!mode || !strcmp(mode, "constant")) return -1;
    if (!strcmp(mode, "edge")) return p < lo ? lo : hi - 1;
    while (p < lo || p >= hi)
        p = p < lo ? 2 * lo - p : 2 * (hi - 1) - p;
    return p;
}

static void test_pad_table(void **state) {
    (void)state;
    for (size_t ci = 0; ci < sizeof(pad_cases) / sizeof(pad_cases[0]); ci++) {
        const pad_case *c = &pad_cases[ci];
        const int r = c->ndim;
        mr_node n;
        mrt_node_init(&n, "Pad", c->opset);
        if (c->mode) mrt_attr_string(&n, "mode", c->mode);
        if (c->opset < 11) {
            mrt_attr_ints(&n, c->opset == 1 ? "paddings" : "pads", c->pads, 2 * r);
            if (c->value != 0) mrt_attr_float(&n, "value", c->value);
        }
        unsigned char fill[8];
        case_fill(c, fill);
        if (c->opset >= 11 && !c->has_cv) memset(fill, 0, sizeof(fill));
        int64_t yd[4], yi[4], xi[4], zero[1] = {0};
        for (int i = 0; i < r; i++)
            yd[i] = c->x[i] + c->pads[i] + c->pads[r + i];
        mr_tensor x = mrt_tensor(c->dtype, r, c->x), y = {0};
        mrt_fill_any(&x, (uint32_t)ci);
        mr_tensor want = mrt_tensor(c->dtype, r, yd);
        const size_t es = mr_dtype_size(c->dtype);
        for (int64_t k = 0; k < mr_numel(&want); k++) {
            mrt_unravel(k, r, yd, yi);
            bool inside = true;
            for (int i = 0; i < r && inside; i++) {
                xi[i] = ref_pad_src(c->mode, yi[i], c->pads[i], c->pads[r + i], c->x[i]);
                inside = xi[i] >= 0;
            }
            const void *from = fill;
            if (inside) from = (char *)x.data + (size_t)mrt_ravel(xi, r, c->x) * es;
            memcpy((char *)want.data + (size_t)k * es, from, es);
        }
        mr_tensor pads = mrt_tensor_vec(I64, 2 * r, c->pads), cv = mrt_tensor(c->dtype, 0, zero);
        memcpy(cv.data, fill, es);
        mr_tensor *in[] = {&x, &pads, &cv}, *out[] = {&y};
        mrt_run_expect(&n, in,
                       c->opset < 11 ? 1
                       : c->has_cv   ? 3
                                     : 2,
                       out, 1, MINIRT_OK, NULL, NULL);
        char what[64];
        snprintf(what, sizeof(what), "pad case %zu", ci);
        mrt_assert_equal_bytes(&y, &want, what);
        mrt_tensor_free(&x);
        mrt_tensor_free(&y);
        mrt_tensor_free(&want);
        mrt_tensor_free(&pads);
        mrt_tensor_free(&cv);
    }
}

static void test_pad_errors(void **state) {
    (void)state;
    static const struct {
        int opset;
        const char *mode;
        int64_t x[2];
        int n_pads; /* -1: pads absent / unknown at plan time */
        int64_t pads[5];
        int cv_dtype; /* 0: no constant_value */
        mr_status st;
        const char *msg;
    } cases[] = {
        {13,
         "reflect",
         {2, 3},
         4,
         {0, 3, 0, 0},
         0,
         MINIRT_ERR_SHAPE,
         "reflect pads [0, 3, 0, 0] need fewer than the 3 entries of axis 1"},
        {13, "reflect", {2, 3}, 4, {0, 0, 0, -2}, 0, MINIRT_OK, NULL},
        {13, "edge", {0, 3}, 4, {1, 0, 0, 0}, 0, MINIRT_ERR_SHAPE, "edge pads"},
        {13, "constant", {2, 3}, 2, {1, 1}, 0, MINIRT_ERR_SHAPE, "it needs 2 x rank = 4"},
        {13,
         "constant",
         {2, 3},
         4,
         {0, -4, 0, 0},
         0,
         MINIRT_ERR_SHAPE,
         "crop more than the 3 entries of axis 1"},
        {13, "constant", {2, 3}, 4, {0, -2, 0, -2}, 0, MINIRT_ERR_SHAPE, "crop more than"},
        {13, "constant", {2, 3}, 4, {0, MINI, 0, 0}, 0, MINIRT_ERR_SHAPE, "crop more than"},
        {13, "constant", {2, 3}, 4, {0, MAXI, 0, 0}, 0, MINIRT_ERR_LIMIT, "overflows"},
        {13, "constant", {2, 3}, 4, {0, MAXI / 4, 0, 0}, 0, MINIRT_ERR_LIMIT, "exceeds the limit"},
        {13, "wrap", {2, 3}, 4, {0, 0, 0, 0}, 0, MINIRT_ERR_MODEL, "mode 'wrap' is not one of"},
        {13, NULL, {2, 3}, -1, {0}, 0, MINIRT_ERR_UNSUPPORTED, "pads must be known before"},
        {13,
         NULL,
         {2, 3},
         4,
         {0, 0, 0, 0},
         I64,
         MINIRT_ERR_MODEL,
         "constant_value is int64 of shape scalar; it must be one float32 value"},
        {2, NULL, {2, 3}, -1, {0}, 0, MINIRT_ERR_MODEL, "attribute 'pads' is required at opset 2"},
        {1, NULL, {2, 3}, -1, {0}, 0, MINIRT_ERR_MODEL, "attribute 'paddings' is required"},
        {2, NULL, {2, 3}, 5, {0, 0, 0, 0, 0}, 0, MINIRT_ERR_SHAPE, "has 5 values"},
        {11, NULL, {2, 3}, 4, {0, 0, 0, 0}, -1, MINIRT_ERR_MODEL, "'pads' became an input"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mr_node n;
        mrt_node_init(&n, "Pad", cases[i].opset);
        if (cases[i].mode) mrt_attr_string(&n, "mode", cases[i].mode);
        if (cases[i].opset < 11 && cases[i].n_pads > 0)
            mrt_attr_ints(&n, "pads", cases[i].pads, cases[i].n_pads);
        if (cases[i].cv_dtype == -1) mrt_attr_ints(&n, "pads", cases[i].pads, 4);
        int64_t zero[1] = {0};
        mr_tensor x = mrt_tensor(F32, 2, cases[i].x), y = {0};
        mr_tensor pads =
            mrt_tensor_vec(I64, cases[i].n_pads > 0 ? cases[i].n_pads : 4, cases[i].pads);
        mr_tensor cv = mrt_tensor(cases[i].cv_dtype > 0 ? cases[i].cv_dtype : F32, 0, zero);
        if (cases[i].n_pads < 0) mrt_tensor_free(&pads); /* no data: unknown at plan time */
        mr_tensor *in[] = {&x, &pads, &cv}, *out[] = {&y};
        mrt_run_expect(&n, in,
                       cases[i].opset < 11     ? 1
                       : cases[i].cv_dtype > 0 ? 3
                                               : 2,
                       out, 1, cases[i].st, cases[i].msg, NULL);
        mrt_tensor_free(&x);
        mrt_tensor_free(&y);
        mrt_tensor_free(&pads);
        mrt_tensor_free(&cv);
    }
}

/* ---- Slice ---- */

typedef struct slice_case {
    int opset, dtype, ndim;
    int64_t x[4];
    int k;
    int64_t starts[4], ends[4];
    int n_axes; /* 0: absent */
    int64_t axes[4];
    int n_steps; /* 0: absent */
    int64_t steps[4];
    int idx_dtype;
} slice_case;

static const slice_case slice_cases[] = {
    {1, F32, 2, {2, 4}, 2, {1, 0}, {2, 3}, 2, {0, 1}, 0, {0}, I64},
    {1, F32, 2, {2, 4}, 2, {0, 1}, {-1, 1000}, 0, {0}, 0, {0}, I64},
    {9, I64, 3, {3, 4, 5}, 1, {1}, {MAXI}, 1, {2}, 0, {0}, I64},
    {10, F32, 3, {20, 10, 5}, 2, {0, 0}, {3, 10}, 2, {0, 1}, 2, {1, 1}, I64},
    {11, F32, 3, {20, 10, 5}, 3, {0, 0, 3}, {20, 10, 4}, 0, {0}, 0, {0}, I32},
    {13, F32, 3, {20, 10, 5}, 1, {1}, {1000}, 1, {1}, 1, {1}, I64},
    {13, F32, 3, {20, 10, 5}, 1, {0}, {-1}, 1, {1}, 1, {1}, I64},
    {13, F32, 3, {20, 10, 5}, 3, {20, 10, 4}, {0, 0, 1}, 3, {0, 1, 2}, 3, {-1, -3, -2}, I64},
    {13, F32, 3, {20, 10, 5}, 3, {0, 0, 3}, {20, 10, 4}, 3, {0, -2, -1}, 0, {0}, I64},
    {13, F32, 3, {20, 10, 5}, 1, {1000}, {1000}, 1, {1}, 1, {1}, I64},
    {13, U8, 2, {3, 7}, 1, {-1}, {MINI}, 1, {1}, 1, {-1}, I64},
    {13, BOOL, 2, {4, 6}, 2, {1, 5}, {4, 0}, 2, {0, 1}, 2, {2, -2}, I32},
    {13, I8, 4, {2, 3, 4, 5}, 2, {1, -3}, {MAXI, -1}, 2, {-1, 1}, 2, {2, 1}, I64},
    {13, F64, 2, {5, 6}, 1, {0}, {MAXI}, 1, {0}, 1, {MAXI}, I64},
    {13, F32, 2, {5, 6}, 1, {MAXI}, {MINI}, 1, {1}, 1, {MINI}, I64},
    {13, F32, 2, {0, 6}, 1, {0}, {3}, 1, {1}, 0, {0}, I64},
    {13, F32, 4, {2, 3, 4, 5}, 2, {0, 0}, {MAXI, 2}, 2, {2, 3}, 0, {0}, I64},
    {13, F32, 4, {2, 3, 4, 5}, 1, {1}, {2}, 1, {0}, 0, {0}, I64},
    {13, I32, 4, {2, 3, 4, 5}, 2, {1, 0}, {3, MAXI}, 2, {1, 3}, 2, {1, 2}, I64},
    {21,
     F32,
     3,
     {4, 1, 3},
     3,
     {-2, 0, 2},
     {INT32_MIN, 1, INT32_MIN},
     3,
     {0, 1, 2},
     3,
     {-1, 1, -2},
     I32},
    {13, F32, 1, {5}, 1, {-100}, {100}, 1, {0}, 1, {3}, I64},
    {13, F32, 1, {5}, 1, {-100}, {MINI}, 1, {0}, 1, {-1}, I64},
    {13, F32, 2, {0, 3}, 1, {2}, {MINI}, 1, {0}, 1, {-1}, I64},
    {13, I64, 2, {3, 4}, 0, {0}, {0}, 0, {0}, 0, {0}, I64},
};

/*
 * The indices start:stop:step picks from an axis of length d, by the clamping in the spec text:
 * start in [0, d] (step > 0) or [0, d-1] (step < 0), stop in [0, d] or [-1, d-1]. (numpy, and so
 * ONNX's reference implementation, differs in one corner: with step < 0 a start below -d gives an
 * empty slice there, one element here, as in onnxruntime.)
 */
static int64_t ref_slice_indices(int64_t start, int64_t stop, int64_t step, int64_t d,
                                 int64_t *out) {
    const int64_t slo = 0, shi = step > 0 ? d : d - 1, elo = step > 0 ? 0 : -1;
    if (start < 0) start += d;
    if (stop < 0) stop += d;
    start = start < slo ? slo : start > shi ? shi : start;
    stop = stop < elo ? elo : stop > shi ? shi : stop;
    int64_t n = 0;
    for (__int128 i = start; step > 0 ? i < stop : i > stop; i += step)
        out[n++] = (int64_t)i;
    return n;
}

static void test_slice_table(void **state) {
    (void)state;
    for (size_t ci = 0; ci < sizeof(slice_cases) / sizeof(slice_cases[0]); ci++) {
        const slice_case *c = &slice_cases[ci];
        const int r = c->ndim;
        mr_node n;
        mrt_node_init(&n, "Slice", c->opset);
        if (c->opset < 10) {
            mrt_attr_ints(&n, "starts", c->starts, c->k);
            mrt_attr_ints(&n, "ends", c->ends, c->k);
            if (c->n_axes) mrt_attr_ints(&n, "axes", c->axes, c->n_axes);
        }
        /* Per axis, the list of picked input indices. */
        int64_t pick[4][32], yd[4], yi[4], xi[4];
        for (int a = 0; a < r; a++) {
            yd[a] = c->x[a];
            for (int64_t j = 0; j < c->x[a]; j++)
                pick[a][j] = j;
        }
        for (int i = 0; i < c->k; i++) {
            int a = (int)(c->n_axes ? (c->axes[i] < 0 ? c->axes[i] + r : c->axes[i]) : i);
            yd[a] = ref_slice_indices(c->starts[i], c->ends[i], c->n_steps ? c->steps[i] : 1,
                                      c->x[a], pick[a]);
        }
        mr_tensor x = mrt_tensor(c->dtype, r, c->x), y = {0};
        mrt_fill_any(&x, (uint32_t)ci);
        mr_tensor want = mrt_tensor(c->dtype, r, yd);
        const size_t es = mr_dtype_size(c->dtype);
        for (int64_t k = 0; k < mr_numel(&want); k++) {
            mrt_unravel(k, r, yd, yi);
            for (int a = 0; a < r; a++)
                xi[a] = pick[a][yi[a]];
            memcpy((char *)want.data + (size_t)k * es,
                   (char *)x.data + (size_t)mrt_ravel(xi, r, c->x) * es, es);
        }
        mr_tensor s = mrt_tensor_vec(c->idx_dtype, c->k, c->starts),
                  e = mrt_tensor_vec(c->idx_dtype, c->k, c->ends);
        mr_tensor ax = mrt_tensor_vec(c->idx_dtype, c->n_axes, c->axes);
        mr_tensor st = mrt_tensor_vec(c->idx_dtype, c->n_steps, c->steps);
        mr_tensor *in[] = {&x, &s, &e, c->n_axes ? &ax : NULL, &st}, *out[] = {&y};
        mrt_run_expect(&n, in,
                       c->opset < 10 ? 1
                       : c->n_steps  ? 5
                       : c->n_axes   ? 4
                                     : 3,
                       out, 1, MINIRT_OK, NULL, NULL);
        char what[64];
        snprintf(what, sizeof(what), "slice case %zu", ci);
        mrt_assert_equal_bytes(&y, &want, what);
        mrt_tensor_free(&x);
        mrt_tensor_free(&y);
        mrt_tensor_free(&want);
        mrt_tensor_free(&s);
        mrt_tensor_free(&e);
        mrt_tensor_free(&ax);
        mrt_tensor_free(&st);
    }
}

static void test_slice_errors(void **state) {
    (void)state;
    static const struct {
        int opset;
        int k, k_ends, n_axes, n_steps; /* k = -1: starts unknown at plan time */
        int64_t starts[2], ends[2], axes[2], steps[2];
        mr_status st;
        const char *msg;
    } cases[] = {
        {13, 1, 1, 1, 1, {0}, {2}, {1}, {0}, MINIRT_ERR_MODEL, "steps [0] has 0 for axis 1"},
        {13,
         2,
         2,
         2,
         0,
         {0, 0},
         {1, 1},
         {1, -1},
         {0},
         MINIRT_ERR_MODEL,
         "axes [1, -1] name axis 1 twice"},
        {13,
         2,
         1,
         0,
         0,
         {0, 0},
         {1},
         {0},
         {0},
         MINIRT_ERR_MODEL,
         "ends has 1 values but starts has 2"},
        {13, 1, 1, 1, 2, {0}, {1}, {0}, {1, 1}, MINIRT_ERR_MODEL, "steps has 2 values"},
        {13, 1, 1, 1, 0, {0}, {1}, {2}, {0}, MINIRT_ERR_MODEL, "axis 2 is out of range for rank 2"},
        {13, 3, 3, 0, 0, {0}, {1}, {0}, {0}, MINIRT_ERR_MODEL, "axis 2 is out of range"},
        {13,
         -1,
         1,
         0,
         0,
         {0},
         {1},
         {0},
         {0},
         MINIRT_ERR_UNSUPPORTED,
         "starts must be known before the run"},
        {9,
         1,
         0,
         0,
         0,
         {0},
         {1},
         {0},
         {0},
         MINIRT_ERR_MODEL,
         "attributes 'starts' and 'ends' are required"},
        {9, 1, 1, 2, 0, {0}, {1}, {0, 1}, {0}, MINIRT_ERR_MODEL, "starts has 1 values, ends 1"},
        {9, 1, 1, 1, 0, {0}, {1}, {0}, {0}, MINIRT_OK, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mr_node n;
        mrt_node_init(&n, "Slice", cases[i].opset);
        int k = cases[i].k < 0 ? 1 : cases[i].k;
        if (cases[i].opset < 10) {
            mrt_attr_ints(&n, "starts", cases[i].starts, k);
            if (cases[i].k_ends) mrt_attr_ints(&n, "ends", cases[i].ends, cases[i].k_ends);
            if (cases[i].n_axes) mrt_attr_ints(&n, "axes", cases[i].axes, cases[i].n_axes);
        }
        int64_t d[2] = {3, 4}, zeros[3] = {0, 0, 0};
        mr_tensor x = mrt_tensor(F32, 2, d), y = {0};
        mr_tensor s = mrt_tensor_vec(I64, k, k == 3 ? zeros : cases[i].starts),
                  e = mrt_tensor_vec(I64, cases[i].k_ends, k == 3 ? zeros : cases[i].ends);
        mr_tensor ax = mrt_tensor_vec(I64, cases[i].n_axes, cases[i].axes),
                  st = mrt_tensor_vec(I64, cases[i].n_steps, cases[i].steps);
        if (cases[i].k < 0) mrt_tensor_free(&s); /* no data: unknown at plan time */
        mr_tensor *in[] = {&x, &s, &e, cases[i].n_axes ? &ax : NULL, &st}, *out[] = {&y};
        mrt_run_expect(&n, in,
                       cases[i].opset < 10 ? 1
                       : cases[i].n_steps  ? 5
                                           : 4,
                       out, 1, cases[i].st, cases[i].msg, NULL);
        mrt_tensor_free(&x);
        mrt_tensor_free(&y);
        mrt_tensor_free(&s);
        mrt_tensor_free(&e);
        mrt_tensor_free(&ax);
        mrt_tensor_free(&st);
    }
}

/* A float starts input is a model error (Tind is int32 or int64). */
static void test_slice_float_index(void **state) {
    (void)state;
    mr_node n;
    mrt_node_init(&n, "Slice", 13);
    int64_t d[2] = {3, 4}, one[1] = {1};
    mr_tensor x = mrt_tensor(F32, 2, d), s = mrt_tensor(F32, 1, one),
              e = mrt_tensor_vec(I64, 1, one), y = {0};
    mr_tensor *in[] = {&x, &s, &e}, *out[] = {&y};
    mrt_run_expect(&n, in, 3, out, 1, MINIRT_ERR_MODEL,
                   "starts must be int64 or int32, not float32", NULL);
    mrt_tensor_free(&x);
    mrt_tensor_free(&s);
    mrt_tensor_free(&e);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pad_table),         cmocka_unit_test(test_pad_errors),
        cmocka_unit_test(test_slice_table),       cmocka_unit_test(test_slice_errors),
        cmocka_unit_test(test_slice_float_index),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
