/*
 * test_linear.c - Gemm against a plain triple loop: every transA/transB, alpha/beta, each form of C
 * and no C, odd sizes, K = 0, the legacy broadcast attribute, and the errors.
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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gemm_table),
        cmocka_unit_test(test_gemm_legacy),
        cmocka_unit_test(test_gemm_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
