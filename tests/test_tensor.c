/*
 * test_tensor.c - Transpose, DepthToSpace, SpaceToDepth, Concat, Split, Gather and Tile against
 * plain index-by-index references: every element type minirt stores, odd sizes, batch > 1, size-1
 * and empty axes, negative axes and indices, every opset form of the attributes and inputs, and the
 * errors with their status and message.
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

/* ---- helpers ---- */

static void copy_elem(mr_tensor *dst, int64_t i, const mr_tensor *src, int64_t j) {
    size_t es = mr_dtype_size(src->dtype);
    memcpy((char *)dst->data + (size_t)i * es, (const char *)src->data + (size_t)j * es, es);
}

/* ---- Transpose ---- */

typedef struct transpose_case {
    int dtype, ndim;
    int64_t x[6];
    int n_perm; /* 0: attribute absent */
    int64_t perm[6];
} transpose_case;

static const transpose_case transpose_cases[] = {
    {F32, 2, {37, 53}, 2, {1, 0}},
    {F32, 2, {1, 70}, 0, {0}},
    {F32, 4, {2, 3, 17, 19}, 4, {0, 2, 3, 1}}, /* NCHW -> NHWC */
    {F32, 4, {2, 17, 19, 3}, 4, {0, 3, 1, 2}}, /* NHWC -> NCHW */
    {U8, 4, {3, 5, 7, 33}, 4, {0, 2, 3, 1}},
    {I64, 4, {2, 40, 3, 18}, 4, {0, 3, 1, 2}},
    {F64, 3, {3, 4, 5}, 3, {2, 0, 1}},
    {I32, 3, {3, 4, 5}, 3, {1, 2, 0}},
    {I32, 3, {3, 4, 5}, 3, {0, 2, 1}},
    {I8, 3, {3, 4, 5}, 3, {1, 0, 2}},
    {BOOL, 3, {3, 4, 5}, 3, {2, 1, 0}},
    {F32, 3, {3, 4, 5}, 3, {0, 1, 2}},
    {F32, 4, {1, 5, 1, 7}, 4, {3, 2, 1, 0}},
    {F32, 4, {2, 3, 4, 5}, 0, {0}},
    {I64, 6, {2, 3, 2, 3, 2, 3}, 6, {5, 3, 1, 4, 2, 0}},
    {F32, 6, {1, 2, 3, 4, 1, 5}, 6, {0, 1, 4, 2, 5, 3}}, /* PixelShuffle */
    {F32, 0, {0}, 0, {0}},
    {F32, 1, {9}, 1, {0}},
    {F32, 2, {0, 3}, 2, {1, 0}},
    {U8, 2, {67, 129}, 2, {1, 0}},
    {F64, 3, {2, 33, 17}, 3, {0, 2, 1}},
};

static void test_transpose_table(void **state) {
    (void)state;
    for (size_t ci = 0; ci < sizeof(transpose_cases) / sizeof(transpose_cases[0]); ci++) {
        const transpose_case *c = &transpose_cases[ci];
        for (int opset = 1; opset <= 21; opset += 12) {
            mr_node n;
            mrt_node_init(&n, "Transpose", opset);
            if (c->n_perm) mrt_attr_ints(&n, "perm", c->perm, c->n_perm);
            mr_tensor x = mrt_tensor(c->dtype, c->ndim, c->x), y = {0};
            mrt_fill_any(&x, (uint32_t)ci);
            int64_t perm[6], ydims[6], xi[6], yi[6];
            for (int i = 0; i < c->ndim; i++) {
                perm[i] = c->n_perm ? c->perm[i] : c->ndim - 1 - i;
                ydims[i] = c->x[perm[i]];
            }
            mr_tensor want = mrt_tensor(c->dtype, c->ndim, ydims);
            for (int64_t k = 0; k < mr_numel(&want); k++) {
                mrt_unravel(k, c->ndim, ydims, yi);
                for (int i = 0; i < c->ndim; i++)
                    xi[perm[i]] = yi[i];
                copy_elem(&want, k, &x, mrt_ravel(xi, c->ndim, c->x));
            }
            mr_tensor *in[] = {&x}, *out[] = {&y};
            mrt_run_expect(&n, in, 1, out, 1, MINIRT_OK, NULL, NULL);
            char what[64];
            snprintf(what, sizeof(what), "transpose case %zu opset %d", ci, opset);
            mrt_assert_equal_bytes(&y, &want, what);
            mrt_tensor_free(&x);
            mrt_tensor_free(&y);
            mrt_tensor_free(&want);
        }
    }
}

static void test_transpose_errors(void **state) {
    (void)state;
    static const struct {
        int n_perm;
        int64_t perm[4];
        mr_status st;
        const char *msg;
    } cases[] = {
        {3, {0, 0, 1}, MINIRT_ERR_MODEL, "perm [0, 0, 1] is not a permutation of 0..2"},
        {3, {0, 1, 3}, MINIRT_ERR_MODEL, "not a permutation"},
        {3, {-1, 0, 1}, MINIRT_ERR_MODEL, "not a permutation"},
        {2, {1, 0}, MINIRT_ERR_SHAPE, "perm [1, 0] has 2 values but the input has shape 2x3x4"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mr_node n;
        mrt_node_init(&n, "Transpose", 13);
        mrt_attr_ints(&n, "perm", cases[i].perm, cases[i].n_perm);
        int64_t d[3] = {2, 3, 4};
        mr_tensor x = mrt_tensor(F32, 3, d), y = {0};
        mr_tensor *in[] = {&x}, *out[] = {&y};
        mrt_run_expect(&n, in, 1, out, 1, cases[i].st, cases[i].msg, NULL);
        mrt_tensor_free(&x);
        mrt_tensor_free(&y);
    }
}

/* ---- DepthToSpace / SpaceToDepth ---- */

typedef struct space_case {
    bool d2s;
    int opset, dtype;
    int64_t x[4];
    int64_t b;
    const char *mode; /* NULL: attribute absent */
} space_case;

static const space_case space_cases[] = {
    {true, 13, F32, {1, 8, 2, 3}, 2, NULL},   {true, 13, F32, {2, 8, 3, 5}, 2, "DCR"},
    {true, 11, F32, {2, 8, 3, 5}, 2, "CRD"},  {true, 1, I64, {2, 18, 2, 3}, 3, NULL},
    {true, 13, U8, {3, 27, 4, 1}, 3, "CRD"},  {true, 13, F64, {1, 5, 4, 4}, 1, "DCR"},
    {true, 21, BOOL, {1, 4, 0, 3}, 2, "CRD"}, {false, 13, F32, {1, 2, 4, 6}, 2, NULL},
    {false, 1, F32, {2, 3, 6, 9}, 3, NULL},   {false, 13, I32, {3, 1, 4, 8}, 4, NULL},
    {false, 13, I8, {2, 5, 3, 3}, 1, NULL},   {false, 21, F64, {2, 2, 10, 4}, 2, NULL},
};

static void test_space_table(void **state) {
    (void)state;
    for (size_t ci = 0; ci < sizeof(space_cases) / sizeof(space_cases[0]); ci++) {
        const space_case *c = &space_cases[ci];
        mr_node n;
        mrt_node_init(&n, c->d2s ? "DepthToSpace" : "SpaceToDepth", c->opset);
        mrt_attr_int(&n, "blocksize", c->b);
        if (c->mode) mrt_attr_string(&n, "mode", c->mode);
        const bool crd = c->mode && strcmp(c->mode, "CRD") == 0;
        const int64_t N = c->x[0], C = c->x[1], H = c->x[2], W = c->x[3], b = c->b;
        int64_t yd[4] = {N, c->d2s ? C / (b * b) : C * b * b, c->d2s ? H * b : H / b,
                         c->d2s ? W * b : W / b};
        mr_tensor x = mrt_tensor(c->dtype, 4, c->x), y = {0};
        mrt_fill_any(&x, (uint32_t)ci);
        mr_tensor want = mrt_tensor(c->dtype, 4, yd);
        /* y[n, c, h, w] for DepthToSpace; x[n, c, h, w] for SpaceToDepth (the inverse map). */
        const int64_t Cs = c->d2s ? yd[1] : C, Hs = c->d2s ? H : yd[2], Ws = c->d2s ? W : yd[3];
        for (int64_t nn = 0; nn < N; nn++)
            for (int64_t cc = 0; cc < Cs; cc++)
                for (int64_t h = 0; h < Hs; h++)
                    for (int64_t w = 0; w < Ws; w++)
                        for (int64_t i = 0; i < b; i++)
                            for (int64_t j = 0; j < b; j++) {
                                int64_t deep = crd ? cc * b * b + i * b + j : (i * b + j) * Cs + cc;
                                int64_t di[4] = {nn, deep, h, w},
                                        si[4] = {nn, cc, h * b + i, w * b + j};
                                int64_t dd[4] = {N, Cs * b * b, Hs, Ws},
                                        sd[4] = {N, Cs, Hs * b, Ws * b};
                                if (c->d2s)
                                    copy_elem(&want, mrt_ravel(si, 4, sd), &x,
                                              mrt_ravel(di, 4, dd));
                                else
                                    copy_elem(&want, mrt_ravel(di, 4, dd), &x,
                                              mrt_ravel(si, 4, sd));
                            }
        mr_tensor *in[] = {&x}, *out[] = {&y};
        mrt_run_expect(&n, in, 1, out, 1, MINIRT_OK, NULL, NULL);
        char what[64];
        snprintf(what, sizeof(what), "space case %zu", ci);
        mrt_assert_equal_bytes(&y, &want, what);
        mrt_tensor_free(&x);
        mrt_tensor_free(&y);
        mrt_tensor_free(&want);
    }
}

static void test_space_errors(void **state) {
    (void)state;
    static const struct {
        const char *op;
        int opset, ndim;
        int64_t x[4];
        int64_t b; /* 0: attribute absent */
        const char *mode;
        mr_status st;
        const char *msg;
    } cases[] = {
        {"DepthToSpace", 13, 4, {1, 6, 2, 2}, 2, NULL, MINIRT_ERR_SHAPE, "multiple of blocksize^2"},
        {"DepthToSpace", 13, 3, {4, 2, 2}, 2, NULL, MINIRT_ERR_SHAPE, "must be 4-D"},
        {"DepthToSpace", 13, 4, {1, 4, 2, 2}, 0, NULL, MINIRT_ERR_MODEL, "'blocksize' is required"},
        {"DepthToSpace", 13, 4, {1, 4, 2, 2}, -2, NULL, MINIRT_ERR_MODEL, "blocksize is -2"},
        {"DepthToSpace", 13, 4, {1, 4, 2, 2}, 2, "XYZ", MINIRT_ERR_MODEL, "mode 'XYZ'"},
        {"DepthToSpace", 1, 4, {1, 4, 2, 2}, 2, "CRD", MINIRT_ERR_MODEL, "from opset 11"},
        {"DepthToSpace", 13, 4, {1, 4, 2, 2}, INT64_MAX, NULL, MINIRT_ERR_LIMIT, "overflows"},
        {"SpaceToDepth", 13, 4, {1, 4, 4, 5}, 2, NULL, MINIRT_ERR_SHAPE, "multiples of blocksize"},
        {"SpaceToDepth", 13, 2, {4, 4}, 2, NULL, MINIRT_ERR_SHAPE, "must be 4-D"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mr_node n;
        mrt_node_init(&n, cases[i].op, cases[i].opset);
        if (cases[i].b) mrt_attr_int(&n, "blocksize", cases[i].b);
        if (cases[i].mode) mrt_attr_string(&n, "mode", cases[i].mode);
        mr_tensor x = mrt_tensor(F32, cases[i].ndim, cases[i].x), y = {0};
        mr_tensor *in[] = {&x}, *out[] = {&y};
        mrt_run_expect(&n, in, 1, out, 1, cases[i].st, cases[i].msg, NULL);
        mrt_tensor_free(&x);
        mrt_tensor_free(&y);
    }
}

/* ---- Concat and Split (each the other's reference) ---- */

typedef struct concat_case {
    int opset, dtype, ndim, n;
    int64_t axis;       /* INT64_MIN: attribute absent */
    int64_t dims[4][4]; /* per input */
} concat_case;

#define NO_AXIS INT64_MIN
static const concat_case concat_cases[] = {
    {13, F32, 2, 2, 1, {{3, 4}, {3, 5}}},
    {13, F32, 3, 3, 0, {{1, 2, 3}, {4, 2, 3}, {2, 2, 3}}},
    {11, I64, 3, 3, -1, {{2, 3, 1}, {2, 3, 7}, {2, 3, 2}}},
    {13, U8, 4, 2, -3, {{2, 5, 3, 3}, {2, 1, 3, 3}}},
    {1, F32, 2, 2, NO_AXIS, {{2, 3}, {2, 4}}}, /* default axis 1 */
    {4, F64, 1, 2, 0, {{5}, {0}}},
    {13, BOOL, 2, 3, 1, {{2, 0}, {2, 3}, {2, 0}}},
    {21, I8, 2, 1, 0, {{3, 3}}},
    {13, I32, 3, 2, 1, {{0, 2, 3}, {0, 4, 3}}},
    {13, F32, 4, 4, 2, {{2, 3, 1, 5}, {2, 3, 2, 5}, {2, 3, 3, 5}, {2, 3, 1, 5}}},
};

/* Build the reference concatenation of xs along axis a. */
static mr_tensor ref_concat(mr_tensor *xs, int n, int a) {
    int64_t d[4];
    memcpy(d, xs[0].dims, sizeof(d));
    d[a] = 0;
    for (int i = 0; i < n; i++)
        d[a] += xs[i].dims[a];
    mr_tensor y = mrt_tensor(xs[0].dtype, xs[0].ndim, d);
    int64_t idx[4];
    for (int64_t k = 0; k < mr_numel(&y); k++) {
        mrt_unravel(k, y.ndim, d, idx);
        int i = 0;
        while (idx[a] >= xs[i].dims[a])
            idx[a] -= xs[i++].dims[a];
        copy_elem(&y, k, &xs[i], mrt_ravel(idx, y.ndim, xs[i].dims));
    }
    return y;
}

static void test_concat_table(void **state) {
    (void)state;
    for (size_t ci = 0; ci < sizeof(concat_cases) / sizeof(concat_cases[0]); ci++) {
        const concat_case *c = &concat_cases[ci];
        mr_node n;
        mrt_node_init(&n, "Concat", c->opset);
        if (c->axis != NO_AXIS) mrt_attr_int(&n, "axis", c->axis);
        int a = c->axis == NO_AXIS ? 1 : (int)(c->axis < 0 ? c->axis + c->ndim : c->axis);
        mr_tensor xs[4], y = {0}, *in[4], *out[] = {&y};
        for (int i = 0; i < c->n; i++) {
            xs[i] = mrt_tensor(c->dtype, c->ndim, c->dims[i]);
            mrt_fill_any(&xs[i], (uint32_t)(ci * 8 + i));
            in[i] = &xs[i];
        }
        mr_tensor want = ref_concat(xs, c->n, a);
        mrt_run_expect(&n, in, c->n, out, 1, MINIRT_OK, NULL, NULL);
        char what[64];
        snprintf(what, sizeof(what), "concat case %zu", ci);
        mrt_assert_equal_bytes(&y, &want, what);

        /* Split the result back, by attribute (opsets 2-12) or input (13), or equal parts. */
        bool equal = true;
        for (int i = 1; i < c->n; i++)
            equal = equal && c->dims[i][a] == c->dims[0][a];
        for (int form = 0; form < 3; form++) {
            int opset = form == 0 ? 11 : form == 1 ? 13 : 2; /* attribute, input, equal parts */
            mrt_node_init(&n, "Split", opset);
            mrt_attr_int(&n, "axis", c->axis == NO_AXIS ? 1 : c->axis);
            int64_t sizes[4];
            for (int i = 0; i < c->n; i++)
                sizes[i] = c->dims[i][a];
            int64_t sd[1] = {c->n};
            mr_tensor s = mrt_tensor_ints(I64, 1, sd, sizes), outs[4], *sin[] = {&y, &s}, *souts[4];
            if (form == 0) mrt_attr_ints(&n, "split", sizes, c->n);
            if (form == 2 && !equal) {
                mr_ctx ctx;
                mr_ctx_init(&ctx, NULL);
                mrt_node_free(&ctx, &n);
                mrt_tensor_free(&s);
                continue;
            }
            memset(outs, 0, sizeof(outs));
            for (int i = 0; i < c->n; i++)
                souts[i] = &outs[i];
            mrt_run_expect(&n, sin, form == 1 ? 2 : 1, souts, c->n, MINIRT_OK, NULL, NULL);
            for (int i = 0; i < c->n; i++) {
                snprintf(what, sizeof(what), "split case %zu form %d output %d", ci, form, i);
                mrt_assert_equal_bytes(&outs[i], &xs[i], what);
                mrt_tensor_free(&outs[i]);
            }
            mrt_tensor_free(&s);
        }
        for (int i = 0; i < c->n; i++)
            mrt_tensor_free(&xs[i]);
        mrt_tensor_free(&y);
        mrt_tensor_free(&want);
    }
}

static void test_concat_errors(void **state) {
    (void)state;
    static const struct {
        int opset, dtype1, ndim1;
        int64_t axis;
        int64_t d1[3];
        mr_status st;
        const char *msg;
    } cases[] = {
        {13,
         F32,
         2,
         0,
         {2, 4},
         MINIRT_ERR_SHAPE,
         "input 1 has shape 2x4 and input 0 has shape 2x3"},
        {13, F32, 3, 1, {2, 3, 1}, MINIRT_ERR_SHAPE, "must agree except on axis 1"},
        {13, I64, 2, 1, {2, 3}, MINIRT_ERR_MODEL, "input 1 is int64 but input 0 is float32"},
        {13, F32, 2, 2, {2, 3}, MINIRT_ERR_MODEL, "axis 2 is out of range for rank 2"},
        {4, F32, 2, NO_AXIS, {2, 3}, MINIRT_ERR_MODEL, "'axis' is required from opset 4"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mr_node n;
        mrt_node_init(&n, "Concat", cases[i].opset);
        if (cases[i].axis != NO_AXIS) mrt_attr_int(&n, "axis", cases[i].axis);
        int64_t d0[2] = {2, 3};
        mr_tensor x0 = mrt_tensor(F32, 2, d0),
                  x1 = mrt_tensor(cases[i].dtype1, cases[i].ndim1, cases[i].d1), y = {0};
        mr_tensor *in[] = {&x0, &x1}, *out[] = {&y};
        mrt_run_expect(&n, in, 2, out, 1, cases[i].st, cases[i].msg, NULL);
        mrt_tensor_free(&x0);
        mrt_tensor_free(&x1);
        mrt_tensor_free(&y);
    }
}

static void test_split_forms(void **state) {
    (void)state;
    /* Opset 1 takes the lengths from its second input; zero-length parts; equal parts. */
    int64_t d[2] = {3, 7}, sd[1] = {3}, sz[3] = {2, 0, 5};
    mr_tensor x = mrt_tensor(F32, 2, d), y[3], *ys[3] = {&y[0], &y[1], &y[2]};
    mrt_fill_any(&x, 5);
    for (int form = 0; form < 2; form++) {
        mr_node n;
        mrt_node_init(&n, "Split", form ? 1 : 13);
        mrt_attr_int(&n, "axis", -1);
        mr_tensor s = mrt_tensor_ints(form ? I32 : I64, 1, sd, sz), *in[] = {&x, &s};
        memset(y, 0, sizeof(y));
        mrt_run_expect(&n, in, 2, ys, 3, MINIRT_OK, NULL, NULL);
        assert_int_equal(y[1].dims[1], 0);
        mr_tensor back = ref_concat(y, 3, 1);
        mrt_assert_equal_bytes(&back, &x, "split opset 1/13 round trip");
        for (int i = 0; i < 3; i++)
            mrt_tensor_free(&y[i]);
        mrt_tensor_free(&back);
        mrt_tensor_free(&s);
    }
    mrt_tensor_free(&x);
}

static void test_split_errors(void **state) {
    (void)state;
    static const struct {
        int opset, n_out;
        int64_t axis;
        int n_attr; /* -1: none */
        int64_t attr[3];
        int n_input; /* -1: none; -2: unknown at plan time */
        int64_t input[3];
        mr_status st;
        const char *msg;
    } cases[] = {
        {13, 3, 1, -1, {0}, 3, {1, 1, 1}, MINIRT_ERR_SHAPE, "split lengths sum to 3"},
        {13, 2, 1, -1, {0}, -1, {0}, MINIRT_ERR_SHAPE, "does not split into 2 equal parts"},
        {13, 2, 1, 2, {2, 3}, -1, {0}, MINIRT_ERR_MODEL, "replaced by an input in opset 13"},
        {11, 2, 1, -1, {0}, 2, {2, 3}, MINIRT_ERR_MODEL, "only in opset 1 and from opset 13"},
        {11, 3, 1, 2, {2, 3}, -1, {0}, MINIRT_ERR_MODEL, "has 2 values for 3 outputs"},
        {2, 2, 1, 2, {-1, 6}, -1, {0}, MINIRT_ERR_MODEL, "lengths must be >= 0"},
        {13, 2, 1, -1, {0}, 3, {1, 1, 3}, MINIRT_ERR_MODEL, "one length per output (2)"},
        {13, 2, 1, -1, {0}, 2, {-1, 6}, MINIRT_ERR_MODEL, "lengths must be >= 0"},
        {13, 2, 1, -1, {0}, -2, {0}, MINIRT_ERR_UNSUPPORTED, "must be known before the run"},
        {13, 2, 2, -1, {0}, -1, {0}, MINIRT_ERR_MODEL, "axis 2 is out of range"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mr_node n;
        mrt_node_init(&n, "Split", cases[i].opset);
        mrt_attr_int(&n, "axis", cases[i].axis);
        if (cases[i].n_attr >= 0) mrt_attr_ints(&n, "split", cases[i].attr, cases[i].n_attr);
        int64_t d[2] = {2, 5}, sd[1] = {cases[i].n_input < 0 ? 2 : cases[i].n_input};
        mr_tensor x = mrt_tensor(F32, 2, d), s = mrt_tensor_ints(I64, 1, sd, cases[i].input), y[3];
        if (cases[i].n_input == -2) mrt_tensor_free(&s); /* no data: unknown at plan time */
        mr_tensor *in[] = {&x, &s}, *out[] = {&y[0], &y[1], &y[2]};
        memset(y, 0, sizeof(y));
        mrt_run_expect(&n, in, cases[i].n_input == -1 ? 1 : 2, out, cases[i].n_out, cases[i].st,
                       cases[i].msg, NULL);
        for (int k = 0; k < 3; k++)
            mrt_tensor_free(&y[k]);
        mrt_tensor_free(&x);
        mrt_tensor_free(&s);
    }
}

/* ---- Gather ---- */

typedef struct gather_case {
    int opset, dtype, ndim, idx_dtype, idx_ndim;
    int64_t x[4], idx_dims[3];
    int64_t axis; /* NO_AXIS: attribute absent (0) */
    int64_t idx[8];
} gather_case;

static const gather_case gather_cases[] = {
    {13, F32, 2, I64, 1, {5, 3}, {4}, NO_AXIS, {0, 4, 2, 2}},
    {13, F32, 3, I64, 2, {2, 5, 3}, {2, 3}, 1, {4, 0, 1, 3, 3, 2}},
    {11, I64, 3, I32, 1, {2, 3, 7}, {3}, -1, {-1, 0, -7}},
    {13, U8, 2, I64, 0, {6, 4}, {0}, 0, {-2}},
    {1, F64, 3, I32, 0, {2, 6, 3}, {0}, 1, {5}},
    {13, BOOL, 1, I64, 2, {4}, {2, 2}, 0, {3, 0, -1, 1}},
    {13, I8, 2, I64, 1, {3, 4}, {0}, 1, {0}},
    {21, I32, 4, I64, 1, {2, 2, 3, 2}, {5}, 2, {2, 1, 0, 1, 2}},
    {13, F32, 2, I64, 3, {7, 2}, {2, 1, 2}, 0, {6, 0, -3, 3}},
};

static void test_gather_table(void **state) {
    (void)state;
    for (size_t ci = 0; ci < sizeof(gather_cases) / sizeof(gather_cases[0]); ci++) {
        const gather_case *c = &gather_cases[ci];
        mr_node n;
        mrt_node_init(&n, "Gather", c->opset);
        if (c->axis != NO_AXIS) mrt_attr_int(&n, "axis", c->axis);
        int a = c->axis == NO_AXIS ? 0 : (int)(c->axis < 0 ? c->axis + c->ndim : c->axis);
        mr_tensor x = mrt_tensor(c->dtype, c->ndim, c->x), y = {0};
        mrt_fill_any(&x, (uint32_t)ci);
        mr_tensor idx = mrt_tensor_ints(c->idx_dtype, c->idx_ndim, c->idx_dims, c->idx);
        int64_t yd[8], yi[8], xi[4];
        int r = 0;
        for (int i = 0; i < a; i++)
            yd[r++] = c->x[i];
        for (int i = 0; i < c->idx_ndim; i++)
            yd[r++] = c->idx_dims[i];
        for (int i = a + 1; i < c->ndim; i++)
            yd[r++] = c->x[i];
        mr_tensor want = mrt_tensor(c->dtype, r, yd);
        for (int64_t k = 0; k < mr_numel(&want); k++) {
            mrt_unravel(k, r, yd, yi);
            for (int i = 0; i < a; i++)
                xi[i] = yi[i];
            int64_t v = c->idx[mrt_ravel(yi + a, c->idx_ndim, c->idx_dims)];
            xi[a] = v < 0 ? v + c->x[a] : v;
            for (int i = a + 1; i < c->ndim; i++)
                xi[i] = yi[i - 1 + c->idx_ndim];
            copy_elem(&want, k, &x, mrt_ravel(xi, c->ndim, c->x));
        }
        mr_tensor *in[] = {&x, &idx}, *out[] = {&y};
        mrt_run_expect(&n, in, 2, out, 1, MINIRT_OK, NULL, NULL);
        char what[64];
        snprintf(what, sizeof(what), "gather case %zu", ci);
        mrt_assert_equal_bytes(&y, &want, what);
        mrt_tensor_free(&x);
        mrt_tensor_free(&idx);
        mrt_tensor_free(&y);
        mrt_tensor_free(&want);
    }
}

static void test_gather_errors(void **state) {
    (void)state;
    static const struct {
        int x_ndim, idx_dtype, idx_ndim;
        int64_t idx_dims[7];
        int64_t axis;
        int64_t idx[3];
        mr_status st;
        const char *msg;
    } cases[] = {
        {2,
         I64,
         1,
         {3},
         1,
         {0, 2, 5},
         MINIRT_ERR_ARGUMENT,
         "indices[2] = 5 is out of range for axis 1 of data shape 4x5 (valid: -5 to 4)"},
        {2, I32, 1, {2}, 0, {1, -5}, MINIRT_ERR_ARGUMENT, "indices[1] = -5 is out of range"},
        {2, F32, 1, {1}, 0, {0}, MINIRT_ERR_MODEL, "indices must be int64 or int32, not float32"},
        {2, I64, 1, {1}, -3, {0}, MINIRT_ERR_MODEL, "axis -3 is out of range for rank 2"},
        {3, I64, 7, {1, 1, 1, 1, 1, 1, 1}, 0, {0}, MINIRT_ERR_LIMIT, "output of rank 9"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mr_node n;
        mrt_node_init(&n, "Gather", 13);
        mrt_attr_int(&n, "axis", cases[i].axis);
        int64_t d[3] = {4, 5, 1};
        mr_tensor x = mrt_tensor(F32, cases[i].x_ndim, d), y = {0};
        mr_tensor idx = cases[i].idx_dtype == F32
                            ? mrt_tensor(F32, 1, cases[i].idx_dims)
                            : mrt_tensor_ints(cases[i].idx_dtype, cases[i].idx_ndim,
                                              cases[i].idx_dims, cases[i].idx);
        mr_tensor *in[] = {&x, &idx}, *out[] = {&y};
        mrt_run_expect(&n, in, 2, out, 1, cases[i].st, cases[i].msg, NULL);
        mrt_tensor_free(&x);
        mrt_tensor_free(&idx);
        mrt_tensor_free(&y);
    }
}

/* ---- Tile ---- */

typedef struct tile_case {
    int opset, dtype, ndim;
    int64_t x[4], rep[4];
} tile_case;

static const tile_case tile_cases[] = {
    {13, F32, 2, {2, 3}, {2, 3}},
    {6, I64, 3, {2, 1, 3}, {1, 4, 2}},
    {13, U8, 1, {5}, {3}},
    {13, F64, 4, {1, 2, 3, 2}, {2, 1, 2, 3}},
    {13, BOOL, 2, {3, 2}, {0, 2}},
    {21, I8, 2, {3, 1}, {1, 1}},
    {13, I32, 3, {2, 3, 5}, {3, 2, 1}},
    {13, F32, 0, {0}, {0}},
    {1, F32, 3, {2, 3, 2}, {1, 3, 1}},
    {5, I32, 2, {3, 2}, {1, 4}},
};

static void test_tile_table(void **state) {
    (void)state;
    for (size_t ci = 0; ci < sizeof(tile_cases) / sizeof(tile_cases[0]); ci++) {
        const tile_case *c = &tile_cases[ci];
        mr_node n;
        mrt_node_init(&n, "Tile", c->opset);
        mr_tensor x = mrt_tensor(c->dtype, c->ndim, c->x), y = {0}, a1, a2;
        mrt_fill_any(&x, (uint32_t)ci);
        int64_t yd[4], yi[4], xi[4], rd[1] = {c->ndim};
        for (int i = 0; i < c->ndim; i++)
            yd[i] = c->x[i] * c->rep[i];
        mr_tensor want = mrt_tensor(c->dtype, c->ndim, yd);
        for (int64_t k = 0; k < mr_numel(&want); k++) {
            mrt_unravel(k, c->ndim, yd, yi);
            for (int i = 0; i < c->ndim; i++)
                xi[i] = yi[i] % c->x[i];
            copy_elem(&want, k, &x, mrt_ravel(xi, c->ndim, c->x));
        }
        if (c->opset >= 6) {
            a1 = mrt_tensor_ints(I64, 1, rd, c->rep);
            a2 = mrt_tensor(I64, 0, rd);
        } else {
            /* tiles and axis: scalars typed like the data (float32 here; int32 for int data) */
            int ax = 0;
            for (int i = 0; i < c->ndim; i++)
                if (c->rep[i] != 1) ax = i;
            a1 = mrt_tensor(c->dtype, 0, rd);
            a2 = mrt_tensor(c->dtype, 0, rd);
            if (c->dtype == F32) {
                *(float *)a1.data = (float)c->rep[ax];
                *(float *)a2.data = (float)(ax - c->ndim);
            } else {
                *(int32_t *)a1.data = (int32_t)c->rep[ax];
                *(int32_t *)a2.data = ax;
            }
        }
        mr_tensor *in[] = {&x, &a1, &a2}, *out[] = {&y};
        mrt_run_expect(&n, in, c->opset >= 6 ? 2 : 3, out, 1, MINIRT_OK, NULL, NULL);
        char what[64];
        snprintf(what, sizeof(what), "tile case %zu", ci);
        mrt_assert_equal_bytes(&y, &want, what);
        mrt_tensor_free(&x);
        mrt_tensor_free(&a1);
        mrt_tensor_free(&a2);
        mrt_tensor_free(&y);
        mrt_tensor_free(&want);
    }
}

static void test_tile_errors(void **state) {
    (void)state;
    static const struct {
        int opset, n_rep;
        int64_t rep[3];
        float tiles; /* opset < 6 */
        mr_status st;
        const char *msg;
    } cases[] = {
        {13, 3, {1, 1, 1}, 0, MINIRT_ERR_SHAPE, "repeats has shape 3 but the input has shape 2x3"},
        {13, 2, {1, -1}, 0, MINIRT_ERR_MODEL, "repeats [1, -1] has a negative value"},
        {13, 2, {1, INT64_MAX}, 0, MINIRT_ERR_LIMIT, "overflows"},
        {13, -2, {1, 1}, 0, MINIRT_ERR_UNSUPPORTED, "repeats must be known before the run"},
        {1, 0, {0}, 2.5f, MINIRT_ERR_MODEL, "input 'tiles' is 2.5; it must be a whole number"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mr_node n;
        mrt_node_init(&n, "Tile", cases[i].opset);
        int64_t d[2] = {2, 3}, rd[1] = {cases[i].n_rep < 0 ? 2 : cases[i].n_rep};
        mr_tensor x = mrt_tensor(F32, 2, d), y = {0}, r, ax = mrt_tensor(F32, 0, d);
        if (cases[i].opset < 6) {
            r = mrt_tensor(F32, 0, d);
            *(float *)r.data = cases[i].tiles;
        } else {
            r = mrt_tensor_ints(I64, 1, rd, cases[i].rep);
        }
        if (cases[i].n_rep == -2) mrt_tensor_free(&r); /* no data: unknown at plan time */
        mr_tensor *in[] = {&x, &r, &ax}, *out[] = {&y};
        mrt_run_expect(&n, in, cases[i].opset < 6 ? 3 : 2, out, 1, cases[i].st, cases[i].msg, NULL);
        mrt_tensor_free(&x);
        mrt_tensor_free(&r);
        mrt_tensor_free(&ax);
        mrt_tensor_free(&y);
    }
}

/* Element types the kernels do not move are reported, not copied. */
static void test_unsupported_dtype(void **state) {
    (void)state;
    static const char *const ops[] = {"Transpose", "Concat", "Split", "Gather", "DepthToSpace"};
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        mr_node n;
        mrt_node_init(&n, ops[i], 13);
        mrt_attr_int(&n, "axis", 0);
        mrt_attr_int(&n, "blocksize", 1);
        int64_t d[4] = {1, 1, 1, 1};
        mr_tensor x = mrt_tensor(F32, 4, d), idx = mrt_tensor_ints(I64, 1, d, d), y = {0};
        x.dtype = 10; /* float16 */
        mr_tensor *in[] = {&x, &idx}, *out[] = {&y};
        mrt_run_expect(&n, in, strcmp(ops[i], "Gather") == 0 ? 2 : 1, out, 1,
                       MINIRT_ERR_UNSUPPORTED, "float16", NULL);
        mrt_tensor_free(&x);
        mrt_tensor_free(&idx);
        mrt_tensor_free(&y);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transpose_table),   cmocka_unit_test(test_transpose_errors),
        cmocka_unit_test(test_space_table),       cmocka_unit_test(test_space_errors),
        cmocka_unit_test(test_concat_table),      cmocka_unit_test(test_concat_errors),
        cmocka_unit_test(test_split_forms),       cmocka_unit_test(test_split_errors),
        cmocka_unit_test(test_gather_table),      cmocka_unit_test(test_gather_errors),
        cmocka_unit_test(test_tile_table),        cmocka_unit_test(test_tile_errors),
        cmocka_unit_test(test_unsupported_dtype),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
