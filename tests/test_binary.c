/*
 * test_binary.c - Add against a plain broadcasting reference: every element type, numpy
 * broadcasting (same shape, scalars, per-channel, both sides, rank difference, empty), the legacy
 * opset 1..6 broadcast/axis attributes, and the error cases.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrt.h"

static const int all_types[] = {MINIRT_FLOAT32, MINIRT_FLOAT64, MINIRT_INT32, MINIRT_INT64};

/* Values with a wide range; the integers reach the ends of their type so wrap-around is exercised.
 */
static void fill_any(mr_tensor *t, uint32_t seed) {
    int64_t n = mr_numel(t);
    if (t->dtype == MINIRT_FLOAT32) {
        mrt_fill(t, seed, -4.0f, 4.0f);
        return;
    }
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (int64_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        switch (t->dtype) {
        case MINIRT_FLOAT64:
            ((double *)t->data)[i] = (double)(int64_t)(s >> 20) / 1e9;
            break;
        case MINIRT_INT32:
            ((int32_t *)t->data)[i] = (int32_t)(uint32_t)s;
            break;
        case MINIRT_INT64:
            ((int64_t *)t->data)[i] = (int64_t)s;
            break;
        default:
            break;
        }
    }
}

/* Reference Add of element ia of a and ib of b, as a wrapped integer or a double, written to y[iy].
 */
static void ref_add_at(const mr_tensor *a, int64_t ia, const mr_tensor *b, int64_t ib, void *y,
                       int64_t iy) {
    switch (a->dtype) {
    case MINIRT_FLOAT32:
        ((float *)y)[iy] = ((const float *)a->data)[ia] + ((const float *)b->data)[ib];
        break;
    case MINIRT_FLOAT64:
        ((double *)y)[iy] = ((const double *)a->data)[ia] + ((const double *)b->data)[ib];
        break;
    case MINIRT_INT32:
        ((int32_t *)y)[iy] = (int32_t)((uint32_t)((const int32_t *)a->data)[ia] +
                                       (uint32_t)((const int32_t *)b->data)[ib]);
        break;
    case MINIRT_INT64:
        ((int64_t *)y)[iy] = (int64_t)((uint64_t)((const int64_t *)a->data)[ia] +
                                       (uint64_t)((const int64_t *)b->data)[ib]);
        break;
    default:
        fail_msg("bad type");
    }
}

/*
 * Naive broadcasting: da and db are A's and B's dims placed in the output rank r (1 where absent);
 * for every output multi-index, each input reads index 0 along its size-1 axes.
 */
static void ref_add(int r, const int64_t *dy, const int64_t *da, const int64_t *db,
                    const mr_tensor *a, const mr_tensor *b, void *y) {
    int64_t total = 1;
    for (int i = 0; i < r; i++)
        total *= dy[i];
    for (int64_t flat = 0; flat < total; flat++) {
        int64_t rem = flat, ia = 0, ib = 0, ma = 1, mb = 1;
        for (int i = r - 1; i >= 0; i--) {
            int64_t idx = rem % dy[i];
            rem /= dy[i];
            ia += (da[i] == 1 ? 0 : idx) * ma;
            ib += (db[i] == 1 ? 0 : idx) * mb;
            ma *= da[i];
            mb *= db[i];
        }
        ref_add_at(a, ia, b, ib, y, flat);
    }
}

static void check_equal(const mr_tensor *got, const void *want, const char *what) {
    int64_t n = mr_numel(got);
    if (got->dtype == MINIRT_FLOAT32) {
        mrt_assert_close(got->data, want, n, 0, 0, what);
        return;
    }
    for (int64_t i = 0; i < n; i++) {
        bool same =
            got->dtype == MINIRT_FLOAT64 ? ((double *)got->data)[i] == ((const double *)want)[i]
            : got->dtype == MINIRT_INT32 ? ((int32_t *)got->data)[i] == ((const int32_t *)want)[i]
                                         : ((int64_t *)got->data)[i] == ((const int64_t *)want)[i];
        if (!same) fail_msg("%s: element %lld differs", what, (long long)i);
    }
}

typedef struct add_case {
    int ra;
    int64_t a[5];
    int rb;
    int64_t b[5];
} add_case;

/* Numpy-broadcasting cases (opset >= 7). */
static const add_case np_cases[] = {
    {4, {2, 3, 4, 5}, 4, {2, 3, 4, 5}}, /* same shape */
    {3, {3, 7, 5}, 3, {3, 7, 5}},
    {1, {7}, 1, {7}},
    {0, {0}, 0, {0}},                   /* scalar + scalar */
    {4, {2, 3, 4, 5}, 0, {0}},          /* B scalar */
    {0, {0}, 3, {2, 3, 5}},             /* A scalar */
    {1, {1}, 2, {3, 5}},                /* one-element A */
    {2, {3, 5}, 2, {1, 1}},             /* one-element B of rank 2 */
    {4, {2, 3, 4, 5}, 3, {3, 1, 1}},    /* per-channel bias */
    {4, {1, 16, 7, 7}, 3, {16, 1, 1}},  /* per-channel, batch 1 */
    {4, {2, 3, 4, 5}, 4, {1, 3, 1, 1}}, /* per-channel, full rank */
    {4, {1, 3, 1, 1}, 4, {2, 3, 4, 5}}, /* per-channel on the A side */
    {3, {3, 1, 5}, 3, {1, 4, 1}},       /* both sides broadcast */
    {2, {4, 1}, 1, {3}},
    {3, {1, 4, 5}, 4, {2, 3, 1, 1}},
    {3, {3, 4, 5}, 4, {2, 1, 1, 1}},
    {2, {4, 5}, 4, {2, 3, 4, 5}}, /* rank difference, A smaller */
    {4, {2, 3, 4, 5}, 1, {5}},    /* row vector */
    {3, {2, 1, 3}, 3, {2, 4, 3}}, /* middle axis */
    {3, {2, 3, 1}, 3, {2, 3, 9}}, /* last axis: A repeated along the run */
    {5, {2, 1, 3, 1, 5}, 5, {1, 4, 1, 6, 1}},
    {2, {0, 3}, 1, {3}}, /* empty */
    {2, {2, 0}, 1, {1}},
    {3, {2, 3, 0}, 2, {3, 1}},
    {1, {0}, 0, {0}},
};

static void run_add(const add_case *c, int dtype, int r, const int64_t *da, const int64_t *db,
                    const int64_t *dy, mr_node *n, const char *what) {
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    mr_tensor a = mrt_tensor(dtype, c->ra, c->a), b = mrt_tensor(dtype, c->rb, c->b), y;
    memset(&y, 0, sizeof(y));
    fill_any(&a, 11);
    fill_any(&b, 23);
    mr_tensor *in[2] = {&a, &b}, *out[1] = {&y};
    mr_status st = mrt_run_op(&ctx, n, in, 2, out, 1);
    if (st != MINIRT_OK) fail_msg("%s: status %d: %s", what, st, ctx.err);
    assert_int_equal(y.dtype, dtype);
    assert_int_equal(y.ndim, r);
    for (int i = 0; i < r; i++)
        if (y.dims[i] != dy[i])
            fail_msg("%s: output dim %d is %lld", what, i, (long long)y.dims[i]);
    int64_t cnt = mr_numel(&y);
    void *want = calloc((size_t)(cnt ? cnt : 1), mr_dtype_size(dtype));
    assert_non_null(want);
    ref_add(r, dy, da, db, &a, &b, want);
    check_equal(&y, want, what);
    free(want);
    mrt_tensor_free(&a);
    mrt_tensor_free(&b);
    mrt_tensor_free(&y);
    mrt_node_free(&ctx, n);
}

static void test_add_numpy(void **state) {
    (void)state;
    const int opsets[] = {7, 13, 14, 21};
    for (size_t ci = 0; ci < sizeof(np_cases) / sizeof(np_cases[0]); ci++) {
        const add_case *c = &np_cases[ci];
        int r = c->ra > c->rb ? c->ra : c->rb;
        int64_t da[8], db[8], dy[8];
        for (int i = 0; i < r; i++) {
            da[i] = i - (r - c->ra) >= 0 ? c->a[i - (r - c->ra)] : 1;
            db[i] = i - (r - c->rb) >= 0 ? c->b[i - (r - c->rb)] : 1;
            dy[i] = da[i] == 1 ? db[i] : da[i];
        }
        for (size_t ti = 0; ti < 4; ti++) {
            char what[64];
            snprintf(what, sizeof(what), "numpy case %zu type %d", ci, all_types[ti]);
            mr_node n;
            mrt_node_init(&n, "Add", opsets[(ci + ti) % 4]);
            run_add(c, all_types[ti], r, da, db, dy, &n, what);
        }
    }
}

/* Legacy cases (opset 1..6): B is placed at axis (or as a suffix when axis < 0), with broadcast. */
typedef struct legacy_case {
    add_case s;
    int broadcast; /* -1: attribute absent */
    int axis;      /* -1: attribute absent */
} legacy_case;

static const legacy_case legacy_cases[] = {
    {{4, {2, 3, 4, 5}, 4, {2, 3, 4, 5}}, -1, -1}, /* broadcast=0 (default): equal shapes */
    {{2, {3, 5}, 2, {3, 5}}, 0, -1},
    {{4, {2, 3, 4, 5}, 0, {0}}, 1, -1},    /* scalar */
    {{4, {2, 3, 4, 5}, 2, {1, 1}}, 1, -1}, /* one-element tensor */
    {{4, {2, 3, 4, 5}, 1, {5}}, 1, -1},    /* suffix */
    {{4, {2, 3, 4, 5}, 2, {4, 5}}, 1, -1},
    {{4, {2, 3, 4, 5}, 2, {3, 4}}, 1, 1}, /* run at axis 1 */
    {{4, {2, 3, 4, 5}, 1, {2}}, 1, 0},    /* run at axis 0 */
    {{4, {2, 3, 4, 5}, 1, {3}}, 1, 1},    /* per-channel, Caffe2 style */
    {{4, {2, 3, 4, 5}, 2, {3, 1}}, 1, 1}, /* size-1 axis inside the run */
    {{3, {2, 3, 4}, 3, {2, 3, 4}}, 1, -1},
};

static void test_add_legacy(void **state) {
    (void)state;
    for (size_t ci = 0; ci < sizeof(legacy_cases) / sizeof(legacy_cases[0]); ci++) {
        const legacy_case *lc = &legacy_cases[ci];
        const add_case *c = &lc->s;
        int r = c->ra, axis = lc->axis >= 0 ? lc->axis : c->ra - c->rb;
        int64_t da[8], db[8], dy[8], nb = 1;
        for (int i = 0; i < c->rb; i++)
            nb *= c->b[i];
        for (int i = 0; i < r; i++) {
            da[i] = dy[i] = c->a[i];
            db[i] = 1;
        }
        if (nb != 1 || lc->broadcast != 1)
            for (int i = 0; i < c->rb; i++)
                db[axis + i] = c->b[i];
        for (size_t ti = 0; ti < 4; ti++) {
            char what[64];
            snprintf(what, sizeof(what), "legacy case %zu type %d", ci, all_types[ti]);
            mr_node n;
            mrt_node_init(&n, "Add", ci % 2 ? 1 : 6);
            if (lc->broadcast >= 0) mrt_attr_int(&n, "broadcast", lc->broadcast);
            if (lc->axis >= 0) mrt_attr_int(&n, "axis", lc->axis);
            run_add(c, all_types[ti], r, da, db, dy, &n, what);
        }
    }
}

/* The output may alias an input of the same shape (in-place execution). */
static void test_add_in_place(void **state) {
    (void)state;
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    mr_node n;
    mrt_node_init(&n, "Add", 14);
    int64_t d[3] = {2, 3, 5}, dc[2] = {3, 1}, dc_aligned[3] = {1, 3, 1};
    mr_tensor a = mrt_tensor(MINIRT_FLOAT32, 3, d), b = mrt_tensor(MINIRT_FLOAT32, 2, dc);
    mr_tensor y;
    memset(&y, 0, sizeof(y));
    mrt_fill(&a, 5, -1, 1);
    mrt_fill(&b, 6, -1, 1);
    float want[30];
    ref_add(3, d, d, dc_aligned, &a, &b, want);
    mr_tensor *in[2] = {&a, &b}, *out[1] = {&y};
    bool known;
    n.op = mr_registry_find("", "Add", 14, &known);
    assert_non_null(n.op);
    n.n_in = 2;
    n.n_out = 1;
    assert_int_equal(n.op->prepare(&ctx, &n), MINIRT_OK);
    assert_int_equal(n.op->infer(&ctx, &n, in, out), MINIRT_OK);
    y.data = a.data;
    assert_int_equal(n.op->run(&ctx, &n, in, out, NULL), MINIRT_OK);
    mrt_assert_close(a.data, want, 30, 0, 0, "in-place add");
    mrt_tensor_free(&a);
    mrt_tensor_free(&b);
    mrt_node_free(&ctx, &n);
}

typedef struct add_error {
    int opset;
    int ta, tb;
    add_case s;
    int broadcast, axis; /* -1: absent */
    mr_status status;
    const char *substr[2];
} add_error;

static const add_error add_errors[] = {
    {14,
     MINIRT_FLOAT32,
     MINIRT_FLOAT32,
     {2, {2, 3}, 1, {4}},
     -1,
     -1,
     MINIRT_ERR_SHAPE,
     {"2x3", "has shape 4"}},
    {13,
     MINIRT_INT64,
     MINIRT_INT64,
     {3, {3, 1, 5}, 2, {4, 4}},
     -1,
     -1,
     MINIRT_ERR_SHAPE,
     {"3x1x5", "4x4"}},
    {14,
     MINIRT_FLOAT32,
     MINIRT_INT64,
     {1, {3}, 1, {3}},
     -1,
     -1,
     MINIRT_ERR_MODEL,
     {"float32", "int64"}},
    {14,
     MINIRT_UINT8,
     MINIRT_UINT8,
     {1, {3}, 1, {3}},
     -1,
     -1,
     MINIRT_ERR_UNSUPPORTED,
     {"uint8", "not supported"}},
    {6,
     MINIRT_FLOAT32,
     MINIRT_FLOAT32,
     {2, {2, 3}, 1, {3}},
     0,
     -1,
     MINIRT_ERR_SHAPE,
     {"2x3", "broadcast=1"}},
    {6,
     MINIRT_FLOAT32,
     MINIRT_FLOAT32,
     {3, {2, 3, 4}, 1, {3}},
     1,
     -1,
     MINIRT_ERR_SHAPE,
     {"shape 3 does not match", "2x3x4"}},
    {6,
     MINIRT_FLOAT32,
     MINIRT_FLOAT32,
     {3, {2, 3, 4}, 2, {3, 4}},
     1,
     2,
     MINIRT_ERR_SHAPE,
     {"does not fit", "axis 2"}},
    {6,
     MINIRT_FLOAT32,
     MINIRT_FLOAT32,
     {2, {3, 4}, 3, {2, 3, 4}},
     1,
     -1,
     MINIRT_ERR_SHAPE,
     {"2x3x4", "3x4"}},
    {6,
     MINIRT_FLOAT32,
     MINIRT_FLOAT32,
     {1, {3}, 1, {3}},
     2,
     -1,
     MINIRT_ERR_MODEL,
     {"'broadcast' is 2", "0 or 1"}},
    {14,
     MINIRT_FLOAT32,
     MINIRT_FLOAT32,
     {1, {3}, 1, {3}},
     1,
     -1,
     MINIRT_ERR_MODEL,
     {"'broadcast'", "removed in opset 7"}},
    {7,
     MINIRT_FLOAT32,
     MINIRT_FLOAT32,
     {1, {3}, 1, {3}},
     -1,
     0,
     MINIRT_ERR_MODEL,
     {"'axis'", "removed"}},
    {22,
     MINIRT_FLOAT32,
     MINIRT_FLOAT32,
     {1, {3}, 1, {3}},
     -1,
     -1,
     MINIRT_ERR_UNSUPPORTED,
     {"Add", "Add"}},
};

static void test_add_errors(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(add_errors) / sizeof(add_errors[0]); i++) {
        const add_error *e = &add_errors[i];
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        mr_node n;
        mrt_node_init(&n, "Add", e->opset);
        if (e->broadcast >= 0) mrt_attr_int(&n, "broadcast", e->broadcast);
        if (e->axis >= 0) mrt_attr_int(&n, "axis", e->axis);
        mr_tensor a = mrt_tensor(e->ta, e->s.ra, e->s.a), b = mrt_tensor(e->tb, e->s.rb, e->s.b);
        mr_tensor y;
        memset(&y, 0, sizeof(y));
        mr_tensor *in[2] = {&a, &b}, *out[1] = {&y};
        mr_status st = mrt_run_op(&ctx, &n, in, 2, out, 1);
        if (st != e->status || !strstr(ctx.err, e->substr[0]) || !strstr(ctx.err, e->substr[1]))
            fail_msg("error case %zu: want status %d with '%s' and '%s'; got %d: %s", i, e->status,
                     e->substr[0], e->substr[1], st, ctx.err);
        mrt_tensor_free(&a);
        mrt_tensor_free(&b);
        mrt_tensor_free(&y);
        mrt_node_free(&ctx, &n);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_numpy),
        cmocka_unit_test(test_add_legacy),
        cmocka_unit_test(test_add_in_place),
        cmocka_unit_test(test_add_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
