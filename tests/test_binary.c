/*
 * test_binary.c - the two-input element-wise operators (Add, Sub, Mul, Div, Pow, Equal, Less,
 * Greater, LessOrEqual, GreaterOrEqual, And, Or, Xor) against the plain references of binary_ref.h:
 * every element type, numpy broadcasting (same shape, scalars, per-channel, both sides, rank
 * difference, empty), the legacy opset 1..6 broadcast/axis attributes, in-place execution and the
 * error cases. The variadic operators, Where and the Pow/Div edge cases are in test_binary2.c.
 */
#include "binary_ref.h"

#define F32 MINIRT_FLOAT32

static const int num_types[] = {MINIRT_FLOAT32, MINIRT_FLOAT64, MINIRT_INT32,
                                MINIRT_INT64,   MINIRT_UINT8,   MINIRT_INT8};

typedef struct shape_case {
    int ra;
    int64_t a[5];
    int rb;
    int64_t b[5];
} shape_case;

/* Numpy-broadcasting cases (opset >= 7). */
static const shape_case np_cases[] = {
    {4, {2, 3, 4, 5}, 4, {2, 3, 4, 5}}, /* same shape */
    {3, {3, 7, 5}, 3, {3, 7, 5}},
    {1, {7}, 1, {7}},
    {0, {0}, 0, {0}},                   /* scalar op scalar */
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

/* Run op on A, B of the given shapes (da, db: placed in the output rank r) and check against the
 * reference; the node may carry attributes already. */
static void run_check(mr_node *n, ref_op op, int ta, int tb, const shape_case *c, int r,
                      const int64_t *da, const int64_t *db, const int64_t *dy, bool small,
                      const char *what) {
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    mr_tensor a = mrt_tensor(ta, c->ra, c->a), b = mrt_tensor(tb, c->rb, c->b), y;
    ref_fill(&a, 11, small);
    ref_fill(&b, 23, small);
    mr_tensor *in[2] = {&a, &b};
    ref_run_ok(&ctx, n, in, 2, &y, what);
    int ytype = ref_is_cmp(op) ? MINIRT_BOOL : ta;
    if ((int)y.dtype != ytype) fail_msg("%s: output type %d, want %d", what, y.dtype, ytype);
    if (y.ndim != r) fail_msg("%s: output rank %d, want %d", what, y.ndim, r);
    for (int i = 0; i < r; i++)
        if (y.dims[i] != dy[i])
            fail_msg("%s: output dim %d is %lld", what, i, (long long)y.dims[i]);
    int64_t cnt = ref_count(r, dy);
    void *want = calloc((size_t)(cnt ? cnt : 1), 8);
    assert_non_null(want);
    ref_binary(op, r, dy, da, db, &a, &b, want);
    ref_check(&y, want, op == R_POW ? 1e-6 : 0, what);
    free(want);
    mrt_tensor_free(&a);
    mrt_tensor_free(&b);
    mrt_tensor_free(&y);
    mrt_node_free(&ctx, n);
}

typedef struct op_case {
    ref_op op;
    int since;
    bool small;     /* small integer values (comparisons meet equal values, Div meets 0) */
    int ntypes;     /* the first ntypes of num_types */
    bool with_bool; /* also bool inputs */
} op_case;

static const op_case two_input_ops[] = {
    {R_ADD, 7, false, 6, false}, {R_SUB, 7, false, 6, false}, {R_MUL, 7, false, 6, false},
    {R_DIV, 7, false, 6, false}, {R_DIV, 7, true, 6, false},  {R_POW, 7, true, 4, false},
    {R_EQ, 7, true, 6, true},    {R_LT, 7, true, 6, false},   {R_GT, 7, true, 6, false},
    {R_LE, 12, true, 6, false},  {R_GE, 12, true, 6, false},  {R_LT, 9, false, 6, false},
    {R_EQ, 11, false, 6, false}, {R_AND, 7, false, 0, true},  {R_OR, 7, false, 0, true},
    {R_XOR, 7, false, 0, true},
};

static void test_numpy_broadcasting(void **state) {
    (void)state;
    const int opsets[] = {13, 14, 16, 21};
    for (size_t oi = 0; oi < sizeof(two_input_ops) / sizeof(two_input_ops[0]); oi++) {
        const op_case *oc = &two_input_ops[oi];
        for (size_t ci = 0; ci < sizeof(np_cases) / sizeof(np_cases[0]); ci++) {
            const shape_case *c = &np_cases[ci];
            int r = c->ra > c->rb ? c->ra : c->rb;
            int64_t da[8], db[8], dy[8];
            ref_place(c->ra, c->a, r, da);
            ref_place(c->rb, c->b, r, db);
            for (int i = 0; i < r; i++)
                dy[i] = da[i] == 1 ? db[i] : da[i];
            for (int ti = 0; ti < oc->ntypes + (oc->with_bool ? 1 : 0); ti++) {
                int t = ti < oc->ntypes ? num_types[ti] : MINIRT_BOOL;
                int opset = (ci + (size_t)ti) % 5 == 0 ? oc->since : opsets[(ci + (size_t)ti) % 4];
                char what[96];
                snprintf(what, sizeof(what), "%s case %zu type %s opset %d", ref_op_names[oc->op],
                         ci, mr_dtype_name(t), opset);
                mr_node n;
                mrt_node_init(&n, ref_op_names[oc->op], opset);
                run_check(&n, oc->op, t, t, c, r, da, db, dy, oc->small, what);
            }
        }
    }
}

/* Legacy cases (opset 1..6): B is placed at axis (or as a suffix when axis is absent). */
typedef struct legacy_case {
    shape_case s;
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

static void test_legacy_broadcast(void **state) {
    (void)state;
    const ref_op ops[] = {R_ADD, R_SUB, R_MUL, R_DIV, R_POW, R_EQ, R_LT, R_GT, R_OR, R_XOR};
    const int types[] = {MINIRT_FLOAT32, MINIRT_INT64};
    for (size_t oi = 0; oi < sizeof(ops) / sizeof(ops[0]); oi++)
        for (size_t ci = 0; ci < sizeof(legacy_cases) / sizeof(legacy_cases[0]); ci++) {
            const legacy_case *lc = &legacy_cases[ci];
            const shape_case *c = &lc->s;
            int r = c->ra, axis = lc->axis >= 0 ? lc->axis : c->ra - c->rb;
            int64_t da[8], db[8], dy[8];
            for (int i = 0; i < r; i++) {
                da[i] = dy[i] = c->a[i];
                db[i] = 1;
            }
            if (ref_count(c->rb, c->b) != 1 || lc->broadcast != 1)
                for (int i = 0; i < c->rb; i++)
                    db[axis + i] = c->b[i];
            for (size_t ti = 0; ti < 2; ti++) {
                int t = ops[oi] >= R_AND ? MINIRT_BOOL : types[ti];
                char what[96];
                int opset = (ci + oi) % 2 ? 1 : 6;
                snprintf(what, sizeof(what), "legacy %s case %zu type %s opset %d",
                         ref_op_names[ops[oi]], ci, mr_dtype_name(t), opset);
                mr_node n;
                mrt_node_init(&n, ref_op_names[ops[oi]], opset);
                if (lc->broadcast >= 0) mrt_attr_int(&n, "broadcast", lc->broadcast);
                if (lc->axis >= 0) mrt_attr_int(&n, "axis", lc->axis);
                run_check(&n, ops[oi], t, t, c, r, da, db, dy, ops[oi] != R_ADD, what);
            }
        }
}

/* The output may alias either input of its shape (in-place execution) while the other input
 * broadcasts. Sub, Div and Pow are not symmetric, so swapped operands would show. */
static void test_in_place(void **state) {
    (void)state;
    const ref_op ops[] = {R_SUB, R_DIV, R_POW};
    for (size_t oi = 0; oi < sizeof(ops) / sizeof(ops[0]); oi++)
        for (int side = 0; side < 2; side++) {
            mr_ctx ctx;
            mr_ctx_init(&ctx, NULL);
            mr_node n;
            mrt_node_init(&n, ref_op_names[ops[oi]], 14);
            int64_t d[3] = {2, 3, 5}, dc[2] = {3, 1}, dc3[3] = {1, 3, 1};
            mr_tensor full = mrt_tensor(F32, 3, d), part = mrt_tensor(F32, 2, dc), y;
            memset(&y, 0, sizeof(y));
            mrt_fill(&full, 5, 0.5f, 2);
            mrt_fill(&part, 6, 0.5f, 2);
            float want[30];
            mr_tensor *in[2] = {side ? &part : &full, side ? &full : &part}, *out[1] = {&y};
            ref_binary(ops[oi], 3, d, side ? dc3 : d, side ? d : dc3, in[0], in[1], want);
            bool known;
            n.op = mr_registry_find("", n.op_type, 14, &known);
            assert_non_null(n.op);
            n.n_in = 2;
            n.n_out = 1;
            assert_int_equal(n.op->prepare(&ctx, &n), MINIRT_OK);
            assert_int_equal(n.op->infer(&ctx, &n, in, out), MINIRT_OK);
            y.data = full.data;
            assert_int_equal(n.op->run(&ctx, &n, in, out, NULL), MINIRT_OK);
            ref_check(&y, want, 1e-6, ref_op_names[ops[oi]]);
            mrt_tensor_free(&full);
            mrt_tensor_free(&part);
            mrt_node_free(&ctx, &n);
        }
}

typedef struct bin_error {
    const char *op;
    int opset;
    int ta, tb;
    shape_case s;
    int broadcast, axis; /* -1: absent */
    mr_status status;
    const char *substr[2];
} bin_error;

#define V3                                                                                         \
    {                                                                                              \
        1, {3}, 1, {                                                                               \
            3                                                                                      \
        }                                                                                          \
    }
static const bin_error bin_errors[] = {
    {"Add", 14, F32, F32, {2, {2, 3}, 1, {4}}, -1, -1, MINIRT_ERR_SHAPE, {"2x3", "has shape 4"}},
    {"Mul",
     13,
     MINIRT_INT64,
     MINIRT_INT64,
     {3, {3, 1, 5}, 2, {4, 4}},
     -1,
     -1,
     MINIRT_ERR_SHAPE,
     {"3x1x5", "4x4"}},
    {"Less", 13, F32, F32, {2, {2, 3}, 2, {3, 2}}, -1, -1, MINIRT_ERR_SHAPE, {"2x3", "3x2"}},
    {"Add", 14, F32, MINIRT_INT64, V3, -1, -1, MINIRT_ERR_MODEL, {"float32", "int64"}},
    {"Equal", 13, MINIRT_INT32, MINIRT_BOOL, V3, -1, -1, MINIRT_ERR_MODEL, {"int32", "bool"}},
    {"Add",
     14,
     MINIRT_BOOL,
     MINIRT_BOOL,
     V3,
     -1,
     -1,
     MINIRT_ERR_UNSUPPORTED,
     {"bool", "not supported"}},
    {"Less",
     13,
     MINIRT_BOOL,
     MINIRT_BOOL,
     V3,
     -1,
     -1,
     MINIRT_ERR_UNSUPPORTED,
     {"bool", "not supported"}},
    {"Pow",
     15,
     MINIRT_UINT8,
     MINIRT_UINT8,
     V3,
     -1,
     -1,
     MINIRT_ERR_UNSUPPORTED,
     {"uint8", "not supported"}},
    {"Pow",
     15,
     F32,
     MINIRT_BOOL,
     V3,
     -1,
     -1,
     MINIRT_ERR_UNSUPPORTED,
     {"float32 with input B of type bool", "not supported"}},
    {"Sub", 6, F32, F32, {2, {2, 3}, 1, {3}}, 0, -1, MINIRT_ERR_SHAPE, {"2x3", "broadcast=1"}},
    {"Div",
     6,
     F32,
     F32,
     {3, {2, 3, 4}, 1, {3}},
     1,
     -1,
     MINIRT_ERR_SHAPE,
     {"shape 3 does not match", "2x3x4"}},
    {"Add",
     6,
     F32,
     F32,
     {3, {2, 3, 4}, 2, {3, 4}},
     1,
     2,
     MINIRT_ERR_SHAPE,
     {"does not fit", "axis 2"}},
    {"Pow", 1, F32, F32, {2, {3, 4}, 3, {2, 3, 4}}, 1, -1, MINIRT_ERR_SHAPE, {"2x3x4", "3x4"}},
    {"Add", 6, F32, F32, V3, 2, -1, MINIRT_ERR_MODEL, {"'broadcast' is 2", "0 or 1"}},
    {"Greater", 1, F32, F32, V3, 1, -3, MINIRT_ERR_MODEL, {"'axis' is -3", "negative"}},
    {"Add", 14, F32, F32, V3, 1, -1, MINIRT_ERR_MODEL, {"'broadcast'", "removed in opset 7"}},
    {"Equal", 7, F32, F32, V3, -1, 0, MINIRT_ERR_MODEL, {"'axis'", "removed"}},
    {"Add", 22, F32, F32, V3, -1, -1, MINIRT_ERR_UNSUPPORTED, {"Add", "Add"}},
    {"LessOrEqual", 11, F32, F32, V3, -1, -1, MINIRT_ERR_UNSUPPORTED, {"LessOrEqual", "kernel"}},
    {"And", 7, F32, F32, V3, -1, -1, MINIRT_ERR_UNSUPPORTED, {"float32", "bool are"}},
    {"Or", 7, MINIRT_BOOL, MINIRT_INT32, V3, -1, -1, MINIRT_ERR_MODEL, {"bool", "int32"}},
};

static void test_errors(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(bin_errors) / sizeof(bin_errors[0]); i++) {
        const bin_error *e = &bin_errors[i];
        mr_node n;
        mrt_node_init(&n, e->op, e->opset);
        if (e->broadcast >= 0) mrt_attr_int(&n, "broadcast", e->broadcast);
        if (e->axis != -1) mrt_attr_int(&n, "axis", e->axis);
        mr_tensor a = mrt_tensor(e->ta, e->s.ra, e->s.a), b = mrt_tensor(e->tb, e->s.rb, e->s.b);
        mr_tensor *in[2] = {&a, &b};
        mrt_run_expect(&n, in, 2, NULL, 1, e->status, e->substr[0], e->substr[1]);
        mrt_tensor_free(&a);
        mrt_tensor_free(&b);
    }
}

/* An output over the session's tensor limit is a LIMIT error naming the output. */
static void test_output_limit(void **state) {
    (void)state;
    minirt_options o;
    minirt_options_init(&o);
    o.max_tensor_bytes = 1000;
    mr_ctx ctx;
    mr_ctx_init(&ctx, &o);
    mr_node n;
    mrt_node_init(&n, "Mul", 14);
    int64_t da[2] = {300, 1}, db[1] = {300};
    mr_tensor a = mrt_tensor(F32, 2, da), b = mrt_tensor(F32, 1, db), y;
    memset(&y, 0, sizeof(y));
    mr_tensor *in[2] = {&a, &b}, *out[1] = {&y};
    assert_int_equal(mrt_run_op(&ctx, &n, in, 2, out, 1), MINIRT_ERR_LIMIT);
    assert_non_null(strstr(ctx.err, "output"));
    assert_non_null(strstr(ctx.err, "300x300"));
    mrt_tensor_free(&a);
    mrt_tensor_free(&b);
    mrt_node_free(&ctx, &n);
}

/* Every binary operator (and the variadic ones, and Where's X / Y) computes exactly the types its
 * mr_op.types declares: inputs of one such type run, any other type minirt stores is UNSUPPORTED.
 * The kernel tables and the declared types are written separately, so this keeps them agreeing. */
static void test_declared_types(void **state) {
    (void)state;
    static const char *const ops[] = {"Add",   "Sub",  "Mul",     "Div",         "Pow",
                                      "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual",
                                      "And",   "Or",   "Xor",     "Sum",         "Mean",
                                      "Min",   "Max",  "Where"};
    static const int types[] = {MINIRT_FLOAT32, MINIRT_FLOAT64, MINIRT_INT32, MINIRT_INT64,
                                MINIRT_UINT8,   MINIRT_INT8,    MINIRT_BOOL};
    int64_t d[1] = {5};
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        bool known, where = strcmp(ops[i], "Where") == 0;
        const mr_op *op = mr_registry_find("", ops[i], 16, &known);
        assert_non_null(op);
        assert_int_not_equal(op->types, 0);
        for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
            mr_node n;
            mrt_node_init(&n, ops[i], 16);
            mr_tensor c = mrt_tensor(MINIRT_BOOL, 1, d), a = mrt_tensor(types[t], 1, d);
            mr_tensor b = mrt_tensor(types[t], 1, d);
            mr_tensor *in[3] = {&c, &a, &b};
            bool declared = op->types & MR_TYPE(types[t]);
            mrt_run_expect(&n, where ? in : in + 1, where ? 3 : 2, NULL, 1,
                           declared ? MINIRT_OK : MINIRT_ERR_UNSUPPORTED,
                           declared ? NULL : mr_dtype_name(types[t]), NULL);
            mrt_tensor_free(&c);
            mrt_tensor_free(&a);
            mrt_tensor_free(&b);
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numpy_broadcasting), cmocka_unit_test(test_legacy_broadcast),
        cmocka_unit_test(test_in_place),           cmocka_unit_test(test_errors),
        cmocka_unit_test(test_output_limit),       cmocka_unit_test(test_declared_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
