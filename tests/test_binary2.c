/*
 * test_binary2.c - the variadic element-wise operators (Sum, Mean, Min, Max with 1..N inputs,
 * N-way broadcasting, the equal-shape rule before opset 8, an output aliasing an input, NaN),
 * Where (three-way broadcasting, every type), Pow with mixed base/exponent types, the integer
 * edge cases of Div and Pow, and their error cases. References are in binary_ref.h.
 */
#include "binary_ref.h"

#define F32 MINIRT_FLOAT32
#define MAXIN 4

static const int num_types[] = {MINIRT_FLOAT32, MINIRT_FLOAT64, MINIRT_INT32,
                                MINIRT_INT64,   MINIRT_UINT8,   MINIRT_INT8};

typedef struct multi_case {
    int n;
    int rank[MAXIN];
    int64_t dims[MAXIN][5];
} multi_case;

/* Shapes of 1..4 inputs; their numpy broadcast is the output. */
static const multi_case var_cases[] = {
    {1, {2}, {{2, 3}}},
    {2, {1, 1}, {{3}, {3}}},
    {3, {1, 1, 1}, {{3}, {3}, {3}}},
    {4, {3, 3, 3, 3}, {{2, 3, 5}, {2, 3, 5}, {2, 3, 5}, {2, 3, 5}}},
    {3, {2, 2, 3}, {{3, 1}, {1, 4}, {2, 1, 1}}}, /* the first pair is smaller than the output */
    {3, {3, 2, 1}, {{2, 1, 4}, {3, 1}, {4}}},
    {4, {1, 4, 3, 1}, {{1}, {2, 3, 4, 5}, {3, 1, 1}, {5}}},
    {2, {0, 2}, {{0}, {2, 3}}},
    {3, {0, 2, 0}, {{0}, {1, 1}, {0}}},
    {3, {3, 3, 1}, {{2, 3, 4}, {2, 3, 4}, {1}}},
    {3, {2, 2, 2}, {{4, 1}, {1, 5}, {1, 1}}},
    {2, {2, 1}, {{0, 3}, {3}}}, /* empty */
    {1, {0}, {{0}}},
};

typedef struct var_op {
    const char *name;
    ref_op op;
    bool mean;
    int ntypes; /* the first ntypes of num_types */
} var_op;

static const var_op var_ops[] = {
    {"Sum", R_ADD, false, 6},
    {"Mean", R_ADD, true, 2},
    {"Min", R_MIN, false, 6},
    {"Max", R_MAX, false, 6},
};

/* Reference: fold op over the inputs in order per output element (Mean: the sum / n). */
static void ref_fold(const var_op *vo, int n, mr_tensor *const *in, int r, const int64_t *dy,
                     void *want) {
    int64_t total = ref_count(r, dy), d[MAXIN][8];
    for (int k = 0; k < n; k++)
        ref_place(in[k]->ndim, in[k]->dims, r, d[k]);
    int64_t one = 1;
    mr_tensor acc = mrt_tensor(in[0]->dtype, 1, &one);
    size_t es = mr_dtype_size(in[0]->dtype);
    for (int64_t f = 0; f < total; f++) {
        memcpy(acc.data, (const char *)in[0]->data + (size_t)ref_index(r, dy, d[0], f) * es, es);
        for (int k = 1; k < n; k++)
            ref_elem(vo->op, &acc, 0, in[k], ref_index(r, dy, d[k], f), acc.data, 0);
        if (vo->mean && acc.dtype == F32) *(float *)acc.data /= (float)n;
        if (vo->mean && acc.dtype == MINIRT_FLOAT64) *(double *)acc.data /= (double)n;
        memcpy((char *)want + (size_t)f * es, acc.data, es);
    }
    mrt_tensor_free(&acc);
}

static void broadcast_shape(const multi_case *c, int *r, int64_t *dy) {
    *r = 0;
    for (int k = 0; k < c->n; k++)
        if (c->rank[k] > *r) *r = c->rank[k];
    for (int i = 0; i < *r; i++)
        dy[i] = 1;
    for (int k = 0; k < c->n; k++) {
        int64_t d[8];
        ref_place(c->rank[k], c->dims[k], *r, d);
        for (int i = 0; i < *r; i++)
            if (d[i] != 1) dy[i] = d[i];
    }
}

/* Run a variadic op on the case's inputs; alias >= 0 makes the output share input alias's
 * buffer (its shape must be the output's). */
static void run_variadic(const var_op *vo, const multi_case *c, int dtype, int opset, int alias,
                         bool with_nan, const char *what) {
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    mr_node n;
    mrt_node_init(&n, vo->name, opset);
    if (opset == 1) mrt_attr_ints(&n, "consumed_inputs", (const int64_t[]){0, 0}, 2);
    mr_tensor t[MAXIN], *in[MAXIN], y;
    for (int k = 0; k < c->n; k++) {
        t[k] = mrt_tensor(dtype, c->rank[k], c->dims[k]);
        ref_fill(&t[k], 7u + 13u * (uint32_t)k, dtype != F32 && dtype != MINIRT_FLOAT64);
        in[k] = &t[k];
    }
    if (with_nan) { /* a NaN in the first input and one in the last */
        ((float *)t[0].data)[1] = NAN;
        ((float *)t[c->n - 1].data)[2] = NAN;
    }
    int r;
    int64_t dy[8];
    broadcast_shape(c, &r, dy);
    int64_t cnt = ref_count(r, dy);
    void *want = calloc((size_t)(cnt ? cnt : 1), 8);
    assert_non_null(want);
    ref_fold(vo, c->n, in, r, dy, want);

    if (alias < 0) {
        ref_run_ok(&ctx, &n, in, c->n, &y, what);
    } else {
        mr_tensor *out[1] = {&y};
        memset(&y, 0, sizeof(y));
        bool known;
        n.op = mr_registry_find("", vo->name, opset, &known);
        assert_non_null(n.op);
        n.n_in = c->n;
        n.n_out = 1;
        assert_int_equal(n.op->prepare(&ctx, &n), MINIRT_OK);
        assert_int_equal(n.op->infer(&ctx, &n, in, out), MINIRT_OK);
        y.data = t[alias].data;
        assert_int_equal(n.op->run(&ctx, &n, in, out, NULL), MINIRT_OK);
        t[alias].data = NULL; /* now y's */
    }
    if ((int)y.dtype != dtype || y.ndim != r) fail_msg("%s: output type or rank", what);
    for (int i = 0; i < r; i++)
        if (y.dims[i] != dy[i]) fail_msg("%s: output dim %d", what, i);
    /* an aliased input is folded first: another order of float additions */
    ref_check(&y, want, alias >= 0 ? 1e-6 : 0, what);
    free(want);
    for (int k = 0; k < c->n; k++)
        mrt_tensor_free(&t[k]);
    mrt_tensor_free(&y);
    mrt_node_free(&ctx, &n);
}

static void test_variadic(void **state) {
    (void)state;
    const int opsets[] = {8, 13, 21};
    for (size_t oi = 0; oi < sizeof(var_ops) / sizeof(var_ops[0]); oi++)
        for (size_t ci = 0; ci < sizeof(var_cases) / sizeof(var_cases[0]); ci++)
            for (int ti = 0; ti < var_ops[oi].ntypes; ti++) {
                int opset = opsets[(ci + (size_t)ti) % 3];
                char what[96];
                snprintf(what, sizeof(what), "%s case %zu type %s opset %d", var_ops[oi].name, ci,
                         mr_dtype_name(num_types[ti]), opset);
                run_variadic(&var_ops[oi], &var_cases[ci], num_types[ti], opset, -1, false, what);
            }
}

/* Before opset 8 all shapes are equal (opset 1 also carries the ignored consumed_inputs). */
static void test_variadic_legacy(void **state) {
    (void)state;
    const multi_case same = {3, {3, 3, 3}, {{2, 3, 5}, {2, 3, 5}, {2, 3, 5}}};
    for (size_t oi = 0; oi < sizeof(var_ops) / sizeof(var_ops[0]); oi++)
        for (int opset = 1; opset <= 6; opset += 5) {
            char what[64];
            snprintf(what, sizeof(what), "legacy %s opset %d", var_ops[oi].name, opset);
            run_variadic(&var_ops[oi], &same, F32, opset, -1, false, what);
        }
}

/* The output may share the buffer of any full-shaped input. */
static void test_variadic_alias(void **state) {
    (void)state;
    const multi_case c3 = {3, {3, 2, 3}, {{2, 3, 4}, {3, 1}, {2, 3, 4}}};
    const multi_case c4 = {4, {1, 3, 3, 2}, {{4}, {2, 3, 4}, {2, 1, 4}, {3, 1}}};
    for (size_t oi = 0; oi < sizeof(var_ops) / sizeof(var_ops[0]); oi++) {
        run_variadic(&var_ops[oi], &c3, F32, 13, 0, false, "alias input 0");
        run_variadic(&var_ops[oi], &c3, F32, 13, 2, false, "alias input 2");
        run_variadic(&var_ops[oi], &c4, MINIRT_FLOAT64, 13, 1, false, "alias input 1");
    }
}

/* A NaN in any input gives NaN from Min and Max, wherever it is in the fold. */
static void test_min_max_nan(void **state) {
    (void)state;
    const multi_case c = {3, {1, 1, 1}, {{4}, {4}, {4}}};
    run_variadic(&var_ops[2], &c, F32, 13, -1, true, "Min NaN");
    run_variadic(&var_ops[3], &c, F32, 13, -1, true, "Max NaN");
}

/* Where: condition, X, Y shapes. */
static const multi_case where_cases[] = {
    {3, {2, 2, 2}, {{2, 2}, {2, 2}, {2, 2}}},
    {3, {0, 3, 3}, {{0}, {2, 3, 4}, {2, 3, 4}}}, /* scalar condition */
    {3, {3, 0, 3}, {{2, 3, 4}, {0}, {2, 3, 4}}}, /* scalar X */
    {3, {3, 2, 1}, {{2, 1, 4}, {3, 1}, {4}}},    /* three-way */
    {3, {1, 2, 0}, {{1}, {2, 3}, {0}}},
    {3, {2, 3, 1}, {{3, 1}, {1, 1, 5}, {5}}},
    {3, {5, 5, 3}, {{2, 1, 3, 1, 5}, {1, 4, 1, 6, 1}, {3, 1, 5}}},
    {3, {3, 2, 1}, {{2, 3, 1}, {3, 7}, {7}}}, /* condition repeated along the run */
    {3, {0, 0, 0}, {{0}, {0}, {0}}},
    {3, {2, 1, 1}, {{0, 3}, {3}, {1}}},                /* empty */
    {3, {3, 3, 3}, {{2, 3, 4}, {2, 3, 4}, {2, 3, 1}}}, /* Y repeated along the run */
    {3, {3, 1, 3}, {{2, 3, 4}, {1}, {2, 3, 4}}},       /* X repeated along the run */
};

static void test_where(void **state) {
    (void)state;
    const int types[] = {MINIRT_FLOAT32, MINIRT_FLOAT64, MINIRT_INT32, MINIRT_INT64,
                         MINIRT_UINT8,   MINIRT_INT8,    MINIRT_BOOL};
    for (size_t ci = 0; ci < sizeof(where_cases) / sizeof(where_cases[0]); ci++)
        for (size_t ti = 0; ti < sizeof(types) / sizeof(types[0]); ti++) {
            const multi_case *c = &where_cases[ci];
            int opset = (ci + ti) % 2 ? 9 : 16, r, dt = types[ti];
            char what[64];
            snprintf(what, sizeof(what), "Where case %zu type %s", ci, mr_dtype_name(dt));
            mr_ctx ctx;
            mr_ctx_init(&ctx, NULL);
            mr_node n;
            mrt_node_init(&n, "Where", opset);
            mr_tensor t[3], *in[3], y;
            for (int k = 0; k < 3; k++) {
                t[k] = mrt_tensor(k ? dt : MINIRT_BOOL, c->rank[k], c->dims[k]);
                ref_fill(&t[k], 3u + 5u * (uint32_t)k, false);
                in[k] = &t[k];
            }
            int64_t dy[8], d[3][8];
            broadcast_shape(c, &r, dy);
            for (int k = 0; k < 3; k++)
                ref_place(c->rank[k], c->dims[k], r, d[k]);
            ref_run_ok(&ctx, &n, in, 3, &y, what);
            if ((int)y.dtype != dt || y.ndim != r) fail_msg("%s: output type or rank", what);
            int64_t cnt = ref_count(r, dy);
            size_t es = mr_dtype_size(dt);
            char *want = calloc((size_t)(cnt ? cnt : 1), es);
            assert_non_null(want);
            for (int64_t f = 0; f < cnt; f++) {
                bool cond = ((uint8_t *)t[0].data)[ref_index(r, dy, d[0], f)];
                int k = cond ? 1 : 2;
                memcpy(want + (size_t)f * es,
                       (char *)t[k].data + (size_t)ref_index(r, dy, d[k], f) * es, es);
            }
            ref_check(&y, want, 0, what);
            free(want);
            for (int k = 0; k < 3; k++)
                mrt_tensor_free(&t[k]);
            mrt_tensor_free(&y);
            mrt_node_free(&ctx, &n);
        }
}

/* Pow with every base type and every exponent type, broadcasting the exponent. */
static void test_pow_mixed(void **state) {
    (void)state;
    const int bases[] = {MINIRT_FLOAT32, MINIRT_FLOAT64, MINIRT_INT32, MINIRT_INT64};
    int64_t dx[2] = {2, 3}, de[1] = {3}, dd[2] = {1, 3};
    for (int bi = 0; bi < 4; bi++)
        for (int ei = 0; ei < 6; ei++) {
            char what[64];
            snprintf(what, sizeof(what), "Pow %s ^ %s", mr_dtype_name(bases[bi]),
                     mr_dtype_name(num_types[ei]));
            mr_ctx ctx;
            mr_ctx_init(&ctx, NULL);
            mr_node n;
            mrt_node_init(&n, "Pow", ei % 2 ? 12 : 15);
            mr_tensor x = mrt_tensor(bases[bi], 2, dx), e = mrt_tensor(num_types[ei], 1, de), y;
            ref_fill(&x, 9, true);
            ref_fill(&e, 4, true);
            mr_tensor *in[2] = {&x, &e};
            ref_run_ok(&ctx, &n, in, 2, &y, what);
            assert_int_equal(y.dtype, bases[bi]);
            char want[6 * 8];
            ref_binary(R_POW, 2, dx, dx, dd, &x, &e, want);
            ref_check(&y, want, 1e-6, what);
            mrt_tensor_free(&x);
            mrt_tensor_free(&e);
            mrt_tensor_free(&y);
            mrt_node_free(&ctx, &n);
        }
}

/* One op on two 1-D tensors of given values; checks the output against want (same byte layout
 * as the output type). */
static void run_values(const char *op, int ta, const void *a, int tb, const void *b, int64_t cnt,
                       const void *want, const char *what) {
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    mr_node n;
    mrt_node_init(&n, op, 15);
    mr_tensor x = mrt_tensor(ta, 1, &cnt), z = mrt_tensor(tb, 1, &cnt), y;
    memcpy(x.data, a, (size_t)cnt * mr_dtype_size(ta));
    memcpy(z.data, b, (size_t)cnt * mr_dtype_size(tb));
    mr_tensor *in[2] = {&x, &z};
    ref_run_ok(&ctx, &n, in, 2, &y, what);
    ref_check(&y, want, 1e-6, what);
    mrt_tensor_free(&x);
    mrt_tensor_free(&z);
    mrt_tensor_free(&y);
    mrt_node_free(&ctx, &n);
}

/* Integer Div truncates toward zero; x / 0 = 0; INT_MIN / -1 wraps to INT_MIN. */
static void test_div_int_edges(void **state) {
    (void)state;
    const int32_t a32[] = {7, -7, 7, -7, INT32_MIN, INT32_MIN, 5, 0, INT32_MAX};
    const int32_t b32[] = {2, 2, -2, -2, -1, 1, 0, 0, -1};
    const int32_t w32[] = {3, -3, -3, 3, INT32_MIN, INT32_MIN, 0, 0, -INT32_MAX};
    run_values("Div", MINIRT_INT32, a32, MINIRT_INT32, b32, 9, w32, "Div int32");
    const int64_t a64[] = {7, -7, INT64_MIN, INT64_MIN, -9, 0};
    const int64_t b64[] = {-2, -2, -1, 2, 0, -1};
    const int64_t w64[] = {-3, 3, INT64_MIN, INT64_MIN / 2, 0, 0};
    run_values("Div", MINIRT_INT64, a64, MINIRT_INT64, b64, 6, w64, "Div int64");
    const int8_t a8[] = {-128, -128, 127, -7, 3};
    const int8_t b8[] = {-1, 0, -1, 2, 5};
    const int8_t w8[] = {-128, 0, -127, -3, 0};
    run_values("Div", MINIRT_INT8, a8, MINIRT_INT8, b8, 5, w8, "Div int8");
    const uint8_t au[] = {200, 255, 5, 0};
    const uint8_t bu[] = {7, 255, 0, 3};
    const uint8_t wu[] = {28, 1, 0, 0};
    run_values("Div", MINIRT_UINT8, au, MINIRT_UINT8, bu, 4, wu, "Div uint8");
    const float af[] = {1, -1, 0, 7};
    const float bf[] = {0, 0, 0, -2};
    const float wf[] = {INFINITY, -INFINITY, NAN, -3.5f};
    run_values("Div", F32, af, F32, bf, 4, wf, "Div float32");
}

/* Integer Pow is exact with wrap-around; negative exponents truncate; float exponents of an
 * integer base saturate (NaN gives 0). */
static void test_pow_edges(void **state) {
    (void)state;
    const int64_t x64[] = {2, 2, 3, -2, 2, 1, -1, -1, 0, 0, 7, -3};
    const int64_t e64[] = {62, 63, 40, 3, -1, -5, -3, -4, -1, 0, 1, 0};
    const int64_t w64[] = {
        4611686018427387904LL, INT64_MIN, -6289078614652622815LL, -8, 0, 1, -1, 1, 0, 1, 7, 1};
    run_values("Pow", MINIRT_INT64, x64, MINIRT_INT64, e64, 12, w64, "Pow int64");
    const int32_t x32[] = {2, 3, -2, 5};
    const int64_t e32[] = {31, 21, 31, 2};
    const int32_t w32[] = {INT32_MIN, 1870418611, INT32_MIN, 25};
    run_values("Pow", MINIRT_INT32, x32, MINIRT_INT64, e32, 4, w32, "Pow int32 ^ int64");
    const int32_t xf[] = {2, -8, 10, -10, 9, 2};
    const float ef[] = {0.5f, 1.0f / 3, 20, 21, 0.5f, -1};
    const int32_t wf[] = {1, 0, INT32_MAX, INT32_MIN, 3, 0};
    run_values("Pow", MINIRT_INT32, xf, F32, ef, 6, wf, "Pow int32 ^ float32");
    const float xb[] = {2, -2, 1.5f, 4, 0};
    const int64_t eb[] = {-2, 3, 2, 0, -1};
    const float wb[] = {0.25f, -8, 2.25f, 1, INFINITY};
    run_values("Pow", F32, xb, MINIRT_INT64, eb, 5, wb, "Pow float32 ^ int64");
    const double xd[] = {2, -8, 4};
    const int8_t ed[] = {-3, 2, 0};
    const double wd[] = {0.125, 64, 1};
    run_values("Pow", MINIRT_FLOAT64, xd, MINIRT_INT8, ed, 3, wd, "Pow float64 ^ int8");
}

typedef struct multi_error {
    const char *op;
    int opset;
    int types[3];
    multi_case s;
    int missing; /* index of an absent input, or -1 */
    mr_status status;
    const char *substr[2];
} multi_error;

static const multi_error multi_errors[] = {
    {"Sum",
     13,
     {F32, MINIRT_FLOAT64, F32},
     {3, {1, 1, 1}, {{3}, {3}, {3}}},
     -1,
     MINIRT_ERR_MODEL,
     {"input 1 has type float64", "input 0 has type float32"}},
    {"Mean",
     13,
     {MINIRT_INT32, MINIRT_INT32},
     {2, {1, 1}, {{3}, {3}}},
     -1,
     MINIRT_ERR_UNSUPPORTED,
     {"int32", "float32, float64"}},
    {"Max",
     13,
     {MINIRT_BOOL, MINIRT_BOOL},
     {2, {1, 1}, {{3}, {3}}},
     -1,
     MINIRT_ERR_UNSUPPORTED,
     {"bool", "not supported"}},
    {"Min",
     13,
     {F32, F32, F32},
     {3, {2, 1, 1}, {{2, 3}, {3}, {4}}},
     -1,
     MINIRT_ERR_SHAPE,
     {"input 2 has shape 4", "2x3"}},
    {"Sum",
     6,
     {F32, F32},
     {2, {2, 1}, {{2, 3}, {3}}},
     -1,
     MINIRT_ERR_SHAPE,
     {"before opset 8", "2x3"}},
    {"Max",
     7,
     {F32, F32, F32},
     {3, {1, 1, 1}, {{3}, {3}, {1}}},
     -1,
     MINIRT_ERR_SHAPE,
     {"input 2 has shape 1", "opset 7"}},
    {"Sum",
     13,
     {F32, F32, F32},
     {3, {1, 1, 1}, {{3}, {3}, {3}}},
     1,
     MINIRT_ERR_MODEL,
     {"input 1 is missing", "Sum"}},
    {"Where",
     16,
     {F32, F32, F32},
     {3, {1, 1, 1}, {{3}, {3}, {3}}},
     -1,
     MINIRT_ERR_MODEL,
     {"condition", "float32; it must be bool"}},
    {"Where",
     16,
     {MINIRT_BOOL, F32, MINIRT_INT64},
     {3, {1, 1, 1}, {{3}, {3}, {3}}},
     -1,
     MINIRT_ERR_MODEL,
     {"X has type float32", "Y has type int64"}},
    {"Where",
     9,
     {MINIRT_BOOL, F32, F32},
     {3, {2, 1, 1}, {{2, 3}, {3}, {2}}},
     -1,
     MINIRT_ERR_SHAPE,
     {"shape 2", "2x3"}},
    {"Where",
     8,
     {MINIRT_BOOL, F32, F32},
     {3, {1, 1, 1}, {{3}, {3}, {3}}},
     -1,
     MINIRT_ERR_UNSUPPORTED,
     {"Where", "kernel"}},
};

static void test_errors(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(multi_errors) / sizeof(multi_errors[0]); i++) {
        const multi_error *e = &multi_errors[i];
        mr_node n;
        mrt_node_init(&n, e->op, e->opset);
        mr_tensor t[3], *in[3];
        for (int k = 0; k < e->s.n; k++) {
            t[k] = mrt_tensor(e->types[k], e->s.rank[k], e->s.dims[k]);
            in[k] = k == e->missing ? NULL : &t[k];
        }
        mrt_run_expect(&n, in, e->s.n, NULL, 1, e->status, e->substr[0], e->substr[1]);
        for (int k = 0; k < e->s.n; k++)
            mrt_tensor_free(&t[k]);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_variadic),       cmocka_unit_test(test_variadic_legacy),
        cmocka_unit_test(test_variadic_alias), cmocka_unit_test(test_min_max_nan),
        cmocka_unit_test(test_where),          cmocka_unit_test(test_pow_mixed),
        cmocka_unit_test(test_div_int_edges),  cmocka_unit_test(test_pow_edges),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
