/*
 * test_linear.c - Gemm against a plain triple loop: every transA/transB, alpha/beta, each form of C
 * and no C, odd sizes, K = 0, the legacy broadcast attribute, and the errors. MatMul against a
 * numpy-style reference: 1-D operands, batch broadcasting, the folded single-GEMM case, empty
 * extents, float64 and wrapping integers, and the errors.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrt.h"

/* Forms of C, as dims derived from M and N. */
enum { C_NONE, C_SCALAR, C_ONE, C_ONE_ONE, C_N, C_1N, C_M1, C_MN, C_M, C_NFORMS };
static const char *const c_names[C_NFORMS] = {"none",  "scalar", "[1]",   "[1,1]", "[N]",
                                              "[1,N]", "[M,1]",  "[M,N]", "[M]"};

static int c_shape(int form, int64_t M, int64_t N, int64_t *dims) {
    switch (form) {
    case C_SCALAR:
        return 0;
    case C_ONE:
        dims[0] = 1;
        return 1;
    case C_ONE_ONE:
        dims[0] = dims[1] = 1;
        return 2;
    case C_N:
        dims[0] = N;
        return 1;
    case C_1N:
        dims[0] = 1;
        dims[1] = N;
        return 2;
    case C_M1:
        dims[0] = M;
        dims[1] = 1;
        return 2;
    case C_MN:
        dims[0] = M;
        dims[1] = N;
        return 2;
    case C_M:
        dims[0] = M;
        return 1;
    default:
        return -1;
    }
}

/* C's element for output (i, j) under unidirectional broadcasting. */
static float c_at(const mr_tensor *c, int64_t i, int64_t j) {
    const float *d = c->data;
    int64_t rows = c->ndim == 2 ? c->dims[0] : 1, cols = c->ndim >= 1 ? c->dims[c->ndim - 1] : 1;
    return d[(rows == 1 ? 0 : i) * cols + (cols == 1 ? 0 : j)];
}

/* Y = alpha * A' B' + beta * C, accumulated in double. */
static void ref_gemm(const mr_tensor *a, const mr_tensor *b, const mr_tensor *c, bool ta, bool tb,
                     float alpha, float beta, int64_t M, int64_t N, int64_t K, float *y) {
    const float *A = a->data, *B = b->data;
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double acc = 0;
            for (int64_t k = 0; k < K; k++) {
                double av = ta ? A[k * M + i] : A[i * K + k];
                double bv = tb ? B[j * K + k] : B[k * N + j];
                acc += av * bv;
            }
            double v = (double)alpha * acc;
            if (c) v += (double)beta * c_at(c, i, j);
            y[i * N + j] = (float)v;
        }
}

typedef struct gemm_case {
    int opset;
    int64_t M, N, K;
    float alpha, beta;    /* NAN: attribute absent (default 1) */
    int legacy_broadcast; /* opset < 7: -1 absent, else the value */
} gemm_case;

static const gemm_case gemm_cases[] = {
    {13, 3, 5, 7, NAN, NAN, -1},      {13, 1, 1, 1, 0.5f, 2.0f, -1},
    {11, 17, 13, 9, -1.5f, 0.0f, -1}, {21, 64, 33, 50, 1.0f, 1.0f, -1},
    {9, 4, 4, 3, 0.0f, 0.75f, -1},    {13, 2, 6, 0, 1.0f, 3.0f, -1},
    {11, 5, 1, 8, 2.0f, -1.0f, -1},
};

static void run_gemm(const gemm_case *g, int form, int ta, int tb, int64_t M, int64_t N, int64_t K,
                     const char *what) {
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    mr_node n;
    mrt_node_init(&n, "Gemm", g->opset);
    if (ta >= 0) mrt_attr_int(&n, "transA", ta);
    if (tb >= 0) mrt_attr_int(&n, "transB", tb);
    if (!isnan(g->alpha)) mrt_attr_float(&n, "alpha", g->alpha);
    if (!isnan(g->beta)) mrt_attr_float(&n, "beta", g->beta);
    if (g->legacy_broadcast >= 0) mrt_attr_int(&n, "broadcast", g->legacy_broadcast);
    int64_t ad[2] = {ta == 1 ? K : M, ta == 1 ? M : K}, bd[2] = {tb == 1 ? N : K, tb == 1 ? K : N};
    int64_t cd[2];
    int cr = c_shape(form, M, N, cd);
    mr_tensor a = mrt_tensor(MINIRT_FLOAT32, 2, ad), b = mrt_tensor(MINIRT_FLOAT32, 2, bd), c, y;
    memset(&c, 0, sizeof(c));
    memset(&y, 0, sizeof(y));
    mrt_fill(&a, 1, -1, 1);
    mrt_fill(&b, 2, -1, 1);
    if (cr >= 0) {
        c = mrt_tensor(MINIRT_FLOAT32, cr, cd);
        mrt_fill(&c, 3, -2, 2);
    }
    mr_tensor *in[3] = {&a, &b, cr >= 0 ? &c : NULL}, *out[1] = {&y};
    /* No C: half the time as an absent optional input, half as only two inputs. */
    int n_in = cr >= 0 ? 3 : (M + N) % 2 ? 2 : 3;
    mr_status st = mrt_run_op(&ctx, &n, in, n_in, out, 1);
    if (st != MINIRT_OK) fail_msg("%s: status %d: %s", what, st, ctx.err);
    assert_int_equal(y.ndim, 2);
    assert_int_equal(y.dims[0], M);
    assert_int_equal(y.dims[1], N);
    float *want = calloc((size_t)(M * N) + 1, sizeof(float));
    assert_non_null(want);
    float alpha = isnan(g->alpha) ? 1.0f : g->alpha, beta = isnan(g->beta) ? 1.0f : g->beta;
    ref_gemm(&a, &b, cr >= 0 ? &c : NULL, ta == 1, tb == 1, alpha, beta, M, N, K, want);
    mrt_assert_close(y.data, want, M * N, 1e-5, 1e-5, what);
    free(want);
    mrt_tensor_free(&a);
    mrt_tensor_free(&b);
    mrt_tensor_free(&c);
    mrt_tensor_free(&y);
    mrt_node_free(&ctx, &n);
}

static void test_gemm_table(void **state) {
    (void)state;
    for (size_t ci = 0; ci < sizeof(gemm_cases) / sizeof(gemm_cases[0]); ci++) {
        const gemm_case *g = &gemm_cases[ci];
        for (int form = 0; form < C_NFORMS; form++) {
            /* [M] only broadcasts when it is also [N] (or one element). */
            if (form == C_M && g->M != g->N && g->M != 1) continue;
            if (form == C_NONE && g->opset < 11) continue;
            for (int t = 0; t < 4; t++) {
                /* transA/transB as 0, 1, or absent (default 0). */
                int ta = t & 1 ? 1 : (ci + form) % 2 ? 0 : -1;
                int tb = t & 2 ? 1 : (ci + form) % 3 ? 0 : -1;
                char what[96];
                snprintf(what, sizeof(what), "case %zu C %s transA %d transB %d", ci, c_names[form],
                         ta, tb);
                run_gemm(g, form, ta, tb, g->M, g->N, g->K, what);
            }
        }
    }
}

/* Opsets 1..6: broadcast=1 allows the C forms; broadcast=0 (the default) requires C to be M x N. */
static void test_gemm_legacy(void **state) {
    (void)state;
    const gemm_case g1 = {6, 3, 4, 5, 0.5f, 2.0f, 1}, g0 = {1, 3, 4, 5, NAN, 0.25f, 0};
    const gemm_case gd = {6, 3, 4, 5, NAN, NAN, -1};
    const int forms[] = {C_SCALAR, C_N, C_1N, C_M1, C_MN};
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
        run_gemm(&g1, forms[i], (int)i % 2, (int)i / 2 % 2, 3, 4, 5, "legacy broadcast=1");
    run_gemm(&g0, C_MN, 1, 1, 3, 4, 5, "legacy broadcast=0");
    run_gemm(&gd, C_MN, 0, 1, 3, 4, 5, "legacy broadcast absent");
}

typedef struct gemm_error {
    int opset;
    int ra;
    int64_t a[3];
    int rb;
    int64_t b[3];
    int rc; /* -1: no C */
    int64_t c[3];
    int ta, tb, broadcast; /* -1: absent */
    int dtype;
    mr_status status;
    const char *substr[2];
} gemm_error;

static const gemm_error gemm_errors[] = {
    {13,
     2,
     {3, 4},
     2,
     {5, 6},
     -1,
     {0},
     -1,
     -1,
     -1,
     MINIRT_FLOAT32,
     MINIRT_ERR_SHAPE,
     {"A has shape 3x4", "B has shape 5x6"}},
    {13,
     2,
     {4, 3},
     2,
     {4, 6},
     -1,
     {0},
     -1,
     1,
     -1,
     MINIRT_FLOAT32,
     MINIRT_ERR_SHAPE,
     {"inner dimensions", "K is 3 vs 6"}},
    {13,
     3,
     {2, 3, 4},
     2,
     {4, 6},
     -1,
     {0},
     -1,
     -1,
     -1,
     MINIRT_FLOAT32,
     MINIRT_ERR_SHAPE,
     {"2x3x4", "2-D"}},
    {13,
     2,
     {3, 4},
     1,
     {4},
     -1,
     {0},
     -1,
     -1,
     -1,
     MINIRT_FLOAT32,
     MINIRT_ERR_SHAPE,
     {"3x4", "shape 4)"}},
    {13,
     2,
     {3, 4},
     2,
     {4, 5},
     1,
     {3},
     -1,
     -1,
     -1,
     MINIRT_FLOAT32,
     MINIRT_ERR_SHAPE,
     {"input C has shape 3", "3x5"}},
    {13,
     2,
     {3, 4},
     2,
     {4, 5},
     2,
     {3, 5},
     1,
     -1,
     -1,
     MINIRT_FLOAT32,
     MINIRT_ERR_SHAPE,
     {"transA=1", "K is 3 vs 4"}}, /* transA makes A' 4x3: K 3 vs B's 4 */
    {13,
     2,
     {3, 4},
     2,
     {4, 5},
     2,
     {5, 3},
     -1,
     -1,
     -1,
     MINIRT_FLOAT32,
     MINIRT_ERR_SHAPE,
     {"input C has shape 5x3", "broadcast to the output 3x5"}},
    {13,
     2,
     {3, 4},
     2,
     {4, 5},
     3,
     {1, 3, 5},
     -1,
     -1,
     -1,
     MINIRT_FLOAT32,
     MINIRT_ERR_SHAPE,
     {"1x3x5", "3x5"}},
    {9,
     2,
     {3, 4},
     2,
     {4, 5},
     -1,
     {0},
     -1,
     -1,
     -1,
     MINIRT_FLOAT32,
     MINIRT_ERR_MODEL,
     {"input C is required", "opset 9"}},
    {6,
     2,
     {3, 4},
     2,
     {4, 5},
     1,
     {5},
     -1,
     -1,
     0,
     MINIRT_FLOAT32,
     MINIRT_ERR_SHAPE,
     {"input C has shape 5", "match (broadcast=0)"}},
    {13,
     2,
     {3, 4},
     2,
     {4, 5},
     1,
     {5},
     -1,
     -1,
     1,
     MINIRT_FLOAT32,
     MINIRT_ERR_MODEL,
     {"'broadcast'", "removed in opset 7"}},
    {6,
     2,
     {3, 4},
     2,
     {4, 5},
     1,
     {5},
     -1,
     -1,
     3,
     MINIRT_FLOAT32,
     MINIRT_ERR_MODEL,
     {"'broadcast' is 3", "0 or 1"}},
    {13,
     2,
     {3, 4},
     2,
     {4, 5},
     -1,
     {0},
     2,
     -1,
     -1,
     MINIRT_FLOAT32,
     MINIRT_ERR_MODEL,
     {"'transA' is 2", "0 or 1"}},
    {13,
     2,
     {3, 4},
     2,
     {4, 5},
     -1,
     {0},
     -1,
     -1,
     -1,
     MINIRT_FLOAT64,
     MINIRT_ERR_UNSUPPORTED,
     {"float64", "float32 only"}},
};

static void test_gemm_errors(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(gemm_errors) / sizeof(gemm_errors[0]); i++) {
        const gemm_error *e = &gemm_errors[i];
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        mr_node n;
        mrt_node_init(&n, "Gemm", e->opset);
        if (e->ta >= 0) mrt_attr_int(&n, "transA", e->ta);
        if (e->tb >= 0) mrt_attr_int(&n, "transB", e->tb);
        if (e->broadcast >= 0) mrt_attr_int(&n, "broadcast", e->broadcast);
        mr_tensor a = mrt_tensor(e->dtype, e->ra, e->a), b = mrt_tensor(e->dtype, e->rb, e->b);
        mr_tensor c, y;
        memset(&c, 0, sizeof(c));
        memset(&y, 0, sizeof(y));
        if (e->rc >= 0) c = mrt_tensor(e->dtype, e->rc, e->c);
        mr_tensor *in[3] = {&a, &b, &c}, *out[1] = {&y};
        mr_status st = mrt_run_op(&ctx, &n, in, e->rc >= 0 ? 3 : 2, out, 1);
        if (st != e->status || !strstr(ctx.err, e->substr[0]) || !strstr(ctx.err, e->substr[1]))
            fail_msg("error case %zu: want status %d with '%s' and '%s'; got %d: %s", i, e->status,
                     e->substr[0], e->substr[1], st, ctx.err);
        mrt_tensor_free(&a);
        mrt_tensor_free(&b);
        mrt_tensor_free(&c);
        mrt_tensor_free(&y);
        mrt_node_free(&ctx, &n);
    }
}

/* ---- MatMul ---- */

typedef struct matmul_case {
    int opset, dtype;
    int ra;
    int64_t a[5];
    int rb;
    int64_t b[5];
    double lo, hi; /* value range of the operands */
} matmul_case;

#define F32 MINIRT_FLOAT32
static const matmul_case matmul_cases[] = {
    {13, F32, 2, {3, 5}, 2, {5, 4}, -1, 1},
    {13, F32, 1, {7}, 1, {7}, -1, 1},                   /* scalar result */
    {9, F32, 1, {6}, 2, {6, 5}, -1, 1},                 /* [K] x [K, N] -> [N] */
    {13, F32, 2, {4, 6}, 1, {6}, -1, 1},                /* [M, K] x [K] -> [M] */
    {13, F32, 1, {5}, 3, {2, 5, 3}, -1, 1},             /* [K] x [b, K, N] -> [b, N] */
    {13, F32, 3, {2, 3, 5}, 1, {5}, -1, 1},             /* [b, M, K] x [K] -> [b, M] */
    {13, F32, 3, {3, 7, 9}, 2, {9, 11}, -1, 1},         /* Linear on 3-D: one folded GEMM */
    {13, F32, 4, {1, 1, 4, 6}, 2, {6, 3}, -1, 1},       /* folded, unit batch */
    {13, F32, 3, {2, 3, 4}, 4, {1, 1, 4, 2}, -1, 1},    /* folded, B's batch all 1 */
    {13, F32, 2, {4, 6}, 3, {3, 6, 5}, -1, 1},          /* A shared */
    {13, F32, 4, {2, 1, 3, 4}, 3, {5, 4, 6}, -1, 1},    /* both broadcast */
    {13, F32, 4, {2, 3, 3, 4}, 4, {2, 3, 4, 2}, -1, 1}, /* same batch */
    {1, F32, 3, {3, 4, 5}, 3, {3, 5, 2}, -1, 1},
    {21, F32, 2, {33, 65}, 2, {65, 17}, -1, 1},
    {13, F32, 2, {3, 0}, 2, {0, 4}, -1, 1},    /* K = 0: zeros */
    {13, F32, 3, {2, 3, 0}, 1, {0}, -1, 1},    /* K = 0, 1-D B */
    {13, F32, 3, {0, 3, 4}, 2, {4, 2}, -1, 1}, /* empty batch */
    {13, F32, 2, {0, 4}, 2, {4, 3}, -1, 1},    /* M = 0 */
    {13, MINIRT_FLOAT64, 3, {2, 3, 4}, 3, {2, 4, 5}, -1, 1},
    {13, MINIRT_FLOAT64, 2, {5, 3}, 1, {3}, -1, 1},
    {13, MINIRT_INT32, 4, {2, 1, 3, 4}, 3, {3, 4, 2}, -50, 50},
    {13, MINIRT_INT32, 2, {3, 4}, 2, {4, 2}, -2e9, 2e9}, /* wraps */
    {13, MINIRT_INT64, 1, {4}, 3, {2, 4, 3}, -50, 50},
    {13, MINIRT_INT64, 2, {2, 3}, 2, {3, 3}, -9e18, 9e18}, /* wraps */
};

static int64_t mm_int(const mr_tensor *t, int64_t i) {
    return t->dtype == MINIRT_INT32 ? ((const int32_t *)t->data)[i] : ((const int64_t *)t->data)[i];
}

/*
 * numpy.matmul by definition: promote 1-D operands, broadcast the batch dims, and for each output
 * element sum over k (double for floats, wrapping uint64 for integers, truncated to the type).
 * Writes doubles (floats) or int64 (integers) in output order; returns the element count.
 */
static int64_t ref_matmul(const mr_tensor *a, const mr_tensor *b, double *yf, int64_t *yi) {
    int64_t M = a->ndim >= 2 ? a->dims[a->ndim - 2] : 1, K = a->dims[a->ndim - 1];
    int64_t N = b->ndim >= 2 ? b->dims[b->ndim - 1] : 1;
    int ra = a->ndim > 2 ? a->ndim - 2 : 0, rb = b->ndim > 2 ? b->ndim - 2 : 0;
    int r = ra > rb ? ra : rb;
    int64_t bd[5], batch = 1;
    for (int i = 0; i < r; i++) {
        int64_t da = i - (r - ra) >= 0 ? a->dims[i - (r - ra)] : 1;
        int64_t db = i - (r - rb) >= 0 ? b->dims[i - (r - rb)] : 1;
        bd[i] = da == 1 ? db : da;
        batch *= bd[i];
    }
    bool is_int = a->dtype == MINIRT_INT32 || a->dtype == MINIRT_INT64;
    int64_t n = 0;
    for (int64_t t = 0; t < batch; t++) {
        /* batch multi-index -> A's and B's matrix index (broadcast dims read index 0) */
        int64_t idx[5], rem = t, ia = 0, ib = 0;
        for (int i = r - 1; i >= 0; i--) {
            idx[i] = rem % bd[i];
            rem /= bd[i];
        }
        for (int i = 0; i < r; i++) {
            if (i - (r - ra) >= 0) {
                int64_t d = a->dims[i - (r - ra)];
                ia = ia * d + (d == 1 ? 0 : idx[i]);
            }
            if (i - (r - rb) >= 0) {
                int64_t d = b->dims[i - (r - rb)];
                ib = ib * d + (d == 1 ? 0 : idx[i]);
            }
        }
        for (int64_t m = 0; m < M; m++)
            for (int64_t j = 0; j < N; j++, n++) {
                double acc = 0;
                uint64_t iacc = 0;
                for (int64_t k = 0; k < K; k++) {
                    int64_t ai = ia * M * K + m * K + k, bi = ib * K * N + k * N + j;
                    if (is_int)
                        iacc += (uint64_t)mm_int(a, ai) * (uint64_t)mm_int(b, bi);
                    else
                        acc += mrt_get(a, ai) * mrt_get(b, bi);
                }
                if (!is_int) yf[n] = acc;
                if (is_int && a->dtype == MINIRT_INT32) yi[n] = (int32_t)(uint32_t)iacc;
                if (is_int && a->dtype == MINIRT_INT64) yi[n] = (int64_t)iacc;
            }
    }
    return n;
}

static void test_matmul_table(void **state) {
    (void)state;
    for (size_t ci = 0; ci < sizeof(matmul_cases) / sizeof(matmul_cases[0]); ci++) {
        const matmul_case *c = &matmul_cases[ci];
        char what[64];
        snprintf(what, sizeof(what), "matmul case %zu", ci);
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        mr_node n;
        mrt_node_init(&n, "MatMul", c->opset);
        mr_tensor a = mrt_tensor(c->dtype, c->ra, c->a), b = mrt_tensor(c->dtype, c->rb, c->b), y;
        memset(&y, 0, sizeof(y));
        mrt_fill_range(&a, (uint32_t)ci + 1, c->lo, c->hi);
        mrt_fill_range(&b, (uint32_t)ci + 100, c->lo, c->hi);
        mr_tensor *in[2] = {&a, &b}, *out[1] = {&y};
        mr_status st = mrt_run_op(&ctx, &n, in, 2, out, 1);
        if (st != MINIRT_OK) fail_msg("%s: status %d: %s", what, st, ctx.err);
        /* output shape: broadcast batch, then M unless A is 1-D, then N unless B is 1-D */
        int ra = c->ra > 2 ? c->ra - 2 : 0, rb = c->rb > 2 ? c->rb - 2 : 0;
        int r = ra > rb ? ra : rb, k = 0;
        int64_t want_dims[6];
        for (int i = 0; i < r; i++) {
            int64_t da = i - (r - ra) >= 0 ? c->a[i - (r - ra)] : 1;
            int64_t db = i - (r - rb) >= 0 ? c->b[i - (r - rb)] : 1;
            want_dims[k++] = da == 1 ? db : da;
        }
        if (c->ra >= 2) want_dims[k++] = c->a[c->ra - 2];
        if (c->rb >= 2) want_dims[k++] = c->b[c->rb - 1];
        assert_int_equal(y.dtype, c->dtype);
        assert_int_equal(y.ndim, k);
        for (int i = 0; i < k; i++)
            assert_int_equal(y.dims[i], want_dims[i]);
        int64_t cnt = mr_numel(&y);
        double *wf = calloc((size_t)cnt + 1, sizeof(double));
        int64_t *wi = calloc((size_t)cnt + 1, sizeof(int64_t));
        float *gf = calloc((size_t)cnt + 1, sizeof(float)), *wf32 = calloc((size_t)cnt + 1, 4);
        assert_true(wf && wi && gf && wf32);
        assert_int_equal(ref_matmul(&a, &b, wf, wi), cnt);
        if (c->dtype == MINIRT_INT32 || c->dtype == MINIRT_INT64) {
            for (int64_t i = 0; i < cnt; i++)
                if (mm_int(&y, i) != wi[i])
                    fail_msg("%s: [%lld] got %lld want %lld", what, (long long)i,
                             (long long)mm_int(&y, i), (long long)wi[i]);
        } else {
            for (int64_t i = 0; i < cnt; i++) {
                gf[i] = (float)mrt_get(&y, i);
                wf32[i] = (float)wf[i];
            }
            mrt_assert_close(gf, wf32, cnt, 1e-5, 1e-5, what);
        }
        free(wf);
        free(wi);
        free(gf);
        free(wf32);
        mrt_tensor_free(&a);
        mrt_tensor_free(&b);
        mrt_tensor_free(&y);
        mrt_node_free(&ctx, &n);
    }
}

typedef struct matmul_error {
    int da, db; /* dtypes */
    int ra;
    int64_t a[4];
    int rb;
    int64_t b[4];
    mr_status status;
    const char *substr[2];
} matmul_error;

#define SH MINIRT_ERR_SHAPE
static const matmul_error matmul_errors[] = {
    {F32, F32, 2, {3, 4}, 2, {5, 6}, SH, {"A has shape 3x4 and B has shape 5x6", "K is 4 vs 5"}},
    {F32, F32, 1, {4}, 1, {5}, SH, {"inner dimensions", "K is 4 vs 5"}},
    {F32, F32, 3, {2, 3, 4}, 3, {3, 4, 5}, SH, {"batch dims", "(2 vs 3)"}},
    {F32, F32, 4, {2, 2, 3, 4}, 3, {3, 4, 5}, SH, {"A (shape 2x2x3x4)", "B (shape 3x4x5)"}},
    {F32, F32, 0, {0}, 2, {3, 4}, SH, {"shape scalar", "rank >= 1"}},
    {F32, MINIRT_FLOAT64, 2, {3, 4}, 2, {4, 5}, MINIRT_ERR_MODEL, {"float32", "float64"}},
    {MINIRT_UINT8, MINIRT_UINT8, 2, {3, 4}, 2, {4, 5}, MINIRT_ERR_UNSUPPORTED, {"uint8", "int64"}},
};

static void test_matmul_errors(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(matmul_errors) / sizeof(matmul_errors[0]); i++) {
        const matmul_error *e = &matmul_errors[i];
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        mr_node n;
        mrt_node_init(&n, "MatMul", 13);
        mr_tensor a = mrt_tensor(e->da, e->ra, e->a), b = mrt_tensor(e->db, e->rb, e->b), y;
        memset(&y, 0, sizeof(y));
        mr_tensor *in[2] = {&a, &b}, *out[1] = {&y};
        mr_status st = mrt_run_op(&ctx, &n, in, 2, out, 1);
        if (st != e->status || !strstr(ctx.err, e->substr[0]) || !strstr(ctx.err, e->substr[1]))
            fail_msg("matmul error %zu: want status %d with '%s' and '%s'; got %d: %s", i,
                     e->status, e->substr[0], e->substr[1], st, ctx.err);
        mrt_tensor_free(&a);
        mrt_tensor_free(&b);
        mrt_tensor_free(&y);
        mrt_node_free(&ctx, &n);
    }
}

/* Sizes from model values: checked before anything is allocated (the operands have no data). */
static void test_matmul_limits(void **state) {
    (void)state;
    const struct {
        int ra;
        int64_t a[3];
        int rb;
        int64_t b[3];
        const char *substr;
    } cases[] = {
        {3, {65536, 65536, 1}, 2, {1, 65536}, "output Y"},               /* 2^48 outputs */
        {2, {1, 1LL << 31}, 2, {1LL << 31, 1}, "limited to 2147483647"}, /* K > INT_MAX */
        {2, {1LL << 31, 1}, 2, {1, 1}, "limited to"},                    /* M > INT_MAX */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        ctx.max_tensor_bytes = INT64_MAX;
        mr_node n;
        mrt_node_init(&n, "MatMul", 13);
        mr_tensor a, b, y;
        memset(&a, 0, sizeof(a));
        memset(&b, 0, sizeof(b));
        memset(&y, 0, sizeof(y));
        a.dtype = b.dtype = MINIRT_FLOAT32;
        a.ndim = cases[i].ra;
        b.ndim = cases[i].rb;
        memcpy(a.dims, cases[i].a, sizeof(cases[i].a));
        memcpy(b.dims, cases[i].b, sizeof(cases[i].b));
        if (i == 0) ctx.max_tensor_bytes = (int64_t)1 << 40;
        mr_tensor *in[2] = {&a, &b}, *out[1] = {&y};
        mr_status st = mrt_run_op(&ctx, &n, in, 2, out, 1);
        if (st != MINIRT_ERR_LIMIT || !strstr(ctx.err, cases[i].substr))
            fail_msg("matmul limit %zu: want LIMIT with '%s'; got %d: %s", i, cases[i].substr, st,
                     ctx.err);
        mrt_node_free(&ctx, &n);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gemm_table),    cmocka_unit_test(test_gemm_legacy),
        cmocka_unit_test(test_gemm_errors),   cmocka_unit_test(test_matmul_table),
        cmocka_unit_test(test_matmul_errors), cmocka_unit_test(test_matmul_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
