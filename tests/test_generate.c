/*
 * test_generate.c - the value-making ops of src/ops/generate.c: ConstantOfShape (every value type,
 * scalar and empty outputs, hostile sizes), Cast (every pair of minirt's types against a plain
 * reference, NaN / infinity / out-of-range values, string `to` before opset 6) and Range (every
 * type, both directions, empty ranges, extreme integers), plus error cases checking the status and
 * the message.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrt.h"

/* ---- ConstantOfShape ---- */

/* Attach a tensor attribute `value` (count elements of dtype, the first holding v) to n. */
static void add_value_attr(mr_node *n, int dtype, double v, int64_t count) {
    mr_tensor t = mrt_tensor(dtype, 1, &count);
    mrt_set(&t, 0, v);
    mrt_attr_tensor(n, "value", t);
}

static void test_constant_of_shape(void **state) {
    (void)state;
    const struct {
        int dtype; /* 0: no value attribute (float32 0) */
        double v;
        int sn;
        int64_t s[4];
    } cases[] = {
        {0, 0, 3, {2, 3, 4}},
        {MINIRT_FLOAT32, 1.5, 2, {3, 5}},
        {MINIRT_FLOAT64, -2.25, 1, {7}},
        {MINIRT_INT32, -7, 0, {0}},
        {MINIRT_INT64, 1e15, 3, {1, 1, 9}},
        {MINIRT_INT8, -128, 2, {0, 5}},
        {MINIRT_UINT8, 200, 4, {2, 1, 2, 3}},
        {MINIRT_BOOL, 1, 1, {0}},
        {MINIRT_BOOL, 1, 2, {3, 3}},
    };
    for (size_t ci = 0; ci < sizeof(cases) / sizeof(cases[0]); ci++) {
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        mr_node n;
        mrt_node_init(&n, "ConstantOfShape", ci % 2 ? 9 : 21);
        if (cases[ci].dtype) add_value_attr(&n, cases[ci].dtype, cases[ci].v, 1);
        mr_tensor s = mrt_tensor_vec(MINIRT_INT64, cases[ci].sn, cases[ci].s), y;
        memset(&y, 0, sizeof(y));
        mr_tensor *in[1] = {&s}, *out[1] = {&y};
        mr_status st = mrt_run_op(&ctx, &n, in, 1, out, 1);
        if (st != MINIRT_OK) fail_msg("ConstantOfShape case %zu: %s", ci, ctx.err);
        assert_int_equal(y.dtype, cases[ci].dtype ? cases[ci].dtype : MINIRT_FLOAT32);
        assert_int_equal(y.ndim, cases[ci].sn);
        if (cases[ci].sn)
            assert_memory_equal(y.dims, cases[ci].s, (size_t)cases[ci].sn * sizeof(int64_t));
        for (int64_t i = 0; i < mr_numel(&y); i++)
            if (mrt_get(&y, i) != cases[ci].v)
                fail_msg("ConstantOfShape case %zu: [%lld] = %g, want %g", ci, (long long)i,
                         mrt_get(&y, i), cases[ci].v);
        mrt_tensor_free(&s);
        mrt_tensor_free(&y);
        mrt_node_free(&ctx, &n);
    }
}

static void test_constant_of_shape_errors(void **state) {
    (void)state;
    const int64_t huge[2] = {(int64_t)1 << 31, (int64_t)1 << 31};
    const int64_t over[3] = {(int64_t)1 << 40, (int64_t)1 << 40, (int64_t)1 << 40};
    const int64_t neg[2] = {3, -1}, nine[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    mr_node n;
    mr_tensor s = mrt_tensor_vec(MINIRT_INT64, 2, huge);
    mr_tensor *in[1] = {&s};
    /* 2^62 floats: must be refused before any allocation. */
    mrt_node_init(&n, "ConstantOfShape", 9);
    mrt_run_expect(&n, in, 1, NULL, 1, MINIRT_ERR_LIMIT, "2147483648x2147483648",
                   "exceeds the limit");
    mrt_tensor_free(&s);
    s = mrt_tensor_vec(MINIRT_INT64, 3, over);
    mrt_node_init(&n, "ConstantOfShape", 20);
    add_value_attr(&n, MINIRT_INT8, 1, 1);
    mrt_run_expect(&n, in, 1, NULL, 1, MINIRT_ERR_LIMIT, "overflows", NULL);
    mrt_tensor_free(&s);
    s = mrt_tensor_vec(MINIRT_INT64, 2, neg);
    mrt_node_init(&n, "ConstantOfShape", 9);
    mrt_run_expect(&n, in, 1, NULL, 1, MINIRT_ERR_MODEL, "negative dimension", "3x-1");
    mrt_tensor_free(&s);
    s = mrt_tensor_vec(MINIRT_INT64, 9, nine);
    mrt_node_init(&n, "ConstantOfShape", 9);
    mrt_run_expect(&n, in, 1, NULL, 1, MINIRT_ERR_LIMIT, "9 values", "more than 8");
    /* Unknown at plan time. */
    mr_tensor unknown = mrt_tensor_nodata(MINIRT_INT64, 1, (int64_t[]){2});
    in[0] = &unknown;
    mrt_node_init(&n, "ConstantOfShape", 9);
    mrt_run_expect(&n, in, 1, NULL, 1, MINIRT_ERR_UNSUPPORTED, "(the shape)",
                   "known before the run");
    mrt_tensor_free(&s);
    s = mrt_tensor_vec(MINIRT_INT64, 2, nine);
    in[0] = &s;
    /* A value attribute with two elements, or of the wrong kind. */
    mrt_node_init(&n, "ConstantOfShape", 9);
    add_value_attr(&n, MINIRT_FLOAT32, 1, 2);
    mrt_run_expect(&n, in, 1, NULL, 1, MINIRT_ERR_MODEL, "one element, not shape 2", NULL);
    mrt_node_init(&n, "ConstantOfShape", 9);
    mrt_attr_float(&n, "value", 1.0f);
    mrt_run_expect(&n, in, 1, NULL, 1, MINIRT_ERR_MODEL, "'value'", "must be a tensor");
    mrt_tensor_free(&s);
}

/* ---- Cast ---- */

/* The expected result of casting v (a float or integer source value) to dtype `to`, per the
 * rules in generate.c, written out plainly. */
static double cast_ref(double v, bool src_float, int to) {
    double lo = 0, hi = 0;
    switch (to) {
    case MINIRT_FLOAT32:
        return (float)v;
    case MINIRT_FLOAT64:
        return v;
    case MINIRT_BOOL:
        return v != 0 ? 1 : 0;
    case MINIRT_INT32:
        lo = -2147483648.0, hi = 2147483647.0;
        break;
    case MINIRT_INT64:
        lo = -9223372036854775808.0, hi = 9223372036854775807.0;
        break;
    case MINIRT_INT8:
        lo = -128, hi = 127;
        break;
    default:
        lo = 0, hi = 255;
        break;
    }
    if (src_float) {
        if (isnan(v)) return 0;
        v = trunc(v);
        return v < lo ? lo : v > hi ? hi : v;
    }
    /* integer sources: wrap into [lo, hi] (the table's values all fit in int64) */
    if (to == MINIRT_INT64) return v;
    double span = hi - lo + 1;
    double w = fmod(v - lo, span);
    return (w < 0 ? w + span : w) + lo;
}

static void test_cast_matrix(void **state) {
    (void)state;
    const double fvals[] = {0,   1,     -1,  2.5,  -2.5, 3.99, -3.99, 127.5, 128,      -129,
                            255, 256.7, 1e6, -1e6, 3e9,  -3e9, 1e20,  -1e20, INFINITY, NAN};
    const double ivals[] = {0, 1, -1, 5, 127, -128, 100, -100, 77, 42};
    const int64_t n = sizeof(fvals) / sizeof(fvals[0]);
    for (int si = 0; si < 7; si++) {
        for (int ti = 0; ti < 7; ti++) {
            int from = mrt_all_types[si], to = mrt_all_types[ti];
            bool src_float = from == MINIRT_FLOAT32 || from == MINIRT_FLOAT64;
            mr_ctx ctx;
            mr_ctx_init(&ctx, NULL);
            mr_node nd;
            mrt_node_init(&nd, "Cast", 6 + (si * 7 + ti) % 13); /* opsets 6..18 */
            mrt_attr_int(&nd, "to", to);
            mr_tensor x = mrt_tensor(from, 1, &n), y;
            memset(&y, 0, sizeof(y));
            for (int64_t i = 0; i < n; i++) {
                double v = src_float ? fvals[i] : ivals[i % 10];
                if (from == MINIRT_UINT8 && v < 0) v += 256;
                if (from == MINIRT_BOOL) v = i % 3 == 0;
                mrt_set(&x, i, v);
            }
            if (from == MINIRT_BOOL) ((uint8_t *)x.data)[3] = 7; /* any nonzero byte is true */
            mr_tensor *in[1] = {&x}, *out[1] = {&y};
            mr_status st = mrt_run_op(&ctx, &nd, in, 1, out, 1);
            if (st != MINIRT_OK) fail_msg("Cast %d->%d: %s", from, to, ctx.err);
            assert_int_equal(y.dtype, to);
            assert_int_equal(y.ndim, 1);
            for (int64_t i = 0; i < n; i++) {
                double v = from == MINIRT_BOOL ? (double)(mrt_get(&x, i) != 0) : mrt_get(&x, i);
                double want = cast_ref(v, src_float, to), got = mrt_get(&y, i);
                if (to == MINIRT_INT64 && src_float && fabs(want) > 9e18) /* beyond 2^53 */
                    got = ((const int64_t *)y.data)[i] == (want > 0 ? INT64_MAX : INT64_MIN) ? want
                                                                                             : 0;
                if (!(got == want || (isnan(got) && isnan(want))))
                    fail_msg("Cast %s->%s: [%lld] %g gave %g, want %g", mr_dtype_name(from),
                             mr_dtype_name(to), (long long)i, v, got, want);
            }
            mrt_tensor_free(&x);
            mrt_tensor_free(&y);
            mrt_node_free(&ctx, &nd);
        }
    }
}

static void test_cast_special(void **state) {
    (void)state;
    /* NaN and infinities to every integer type are defined; int64 extremes are exact. */
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    const int64_t four = 4;
    mr_tensor x = mrt_tensor(MINIRT_FLOAT64, 1, &four), y;
    double *xv = x.data;
    xv[0] = NAN;
    xv[1] = INFINITY;
    xv[2] = -INFINITY;
    xv[3] = -9223372036854775808.0;
    mr_node n;
    mrt_node_init(&n, "Cast", 13);
    mrt_attr_int(&n, "to", MINIRT_INT64);
    memset(&y, 0, sizeof(y));
    mr_tensor *in[1] = {&x}, *out[1] = {&y};
    assert_int_equal(mrt_run_op(&ctx, &n, in, 1, out, 1), MINIRT_OK);
    const int64_t want[4] = {0, INT64_MAX, INT64_MIN, INT64_MIN};
    assert_memory_equal(y.data, want, sizeof(want));
    mrt_tensor_free(&y);
    mrt_node_free(&ctx, &n);
    /* int64 -> int32 wraps; int64 -> float32 rounds once. */
    mr_tensor z = mrt_tensor(MINIRT_INT64, 1, &four);
    int64_t *zv = z.data;
    zv[0] = ((int64_t)1 << 32) + 5;
    zv[1] = -((int64_t)1 << 31) - 1;
    zv[2] = INT64_MAX;
    zv[3] = ((int64_t)1 << 24) + 1;
    in[0] = &z;
    mrt_node_init(&n, "Cast", 9);
    mrt_attr_int(&n, "to", MINIRT_INT32);
    memset(&y, 0, sizeof(y));
    assert_int_equal(mrt_run_op(&ctx, &n, in, 1, out, 1), MINIRT_OK);
    const int32_t want32[4] = {5, INT32_MAX, -1, (1 << 24) + 1};
    assert_memory_equal(y.data, want32, sizeof(want32));
    mrt_tensor_free(&y);
    mrt_node_free(&ctx, &n);
    mrt_node_init(&n, "Cast", 13);
    mrt_attr_int(&n, "to", MINIRT_FLOAT32);
    memset(&y, 0, sizeof(y));
    assert_int_equal(mrt_run_op(&ctx, &n, in, 1, out, 1), MINIRT_OK);
    const float wantf[4] = {4294967301.0f, -2147483649.0f, 9223372036854775807.0f, 16777216.0f};
    assert_memory_equal(y.data, wantf, sizeof(wantf));
    mrt_tensor_free(&y);
    mrt_node_free(&ctx, &n);
    /* Opsets 1-5: `to` as a string. */
    const char *names[] = {"FLOAT", "DOUBLE", "INT32", "INT64", "INT8", "UINT8", "BOOL"};
    for (int i = 0; i < 7; i++) {
        mrt_node_init(&n, "Cast", 1 + i % 5);
        mrt_attr_string(&n, "to", names[i]);
        memset(&y, 0, sizeof(y));
        if (mrt_run_op(&ctx, &n, in, 1, out, 1) != MINIRT_OK) fail_msg("%s: %s", names[i], ctx.err);
        assert_int_equal(y.dtype, mrt_all_types[i]);
        assert_int_equal(mrt_get(&y, 0) != 0, 1);
        mrt_tensor_free(&y);
        mrt_node_free(&ctx, &n);
    }
    mrt_tensor_free(&x);
    mrt_tensor_free(&z);
}

static void test_cast_errors(void **state) {
    (void)state;
    const int64_t d = 3;
    mr_tensor x = mrt_tensor(MINIRT_FLOAT32, 1, &d);
    mr_tensor *in[1] = {&x};
    mr_node n;
    mrt_node_init(&n, "Cast", 13);
    mrt_run_expect(&n, in, 1, NULL, 1, MINIRT_ERR_MODEL, "'to'", "required");
    mrt_node_init(&n, "Cast", 13);
    mrt_attr_int(&n, "to", 10);
    mrt_run_expect(&n, in, 1, NULL, 1, MINIRT_ERR_UNSUPPORTED, "casting to float16",
                   "not supported");
    mrt_node_init(&n, "Cast", 13);
    mrt_attr_int(&n, "to", 8);
    mrt_run_expect(&n, in, 1, NULL, 1, MINIRT_ERR_UNSUPPORTED, "string", "not supported");
    mrt_node_init(&n, "Cast", 13);
    mrt_attr_int(&n, "to", 0);
    mrt_run_expect(&n, in, 1, NULL, 1, MINIRT_ERR_MODEL, "'to' is 0", "not an ONNX data type");
    mrt_node_init(&n, "Cast", 18);
    mrt_attr_int(&n, "to", 17);
    mrt_run_expect(&n, in, 1, NULL, 1, MINIRT_ERR_MODEL, "'to' is 17", "not an ONNX data type");
    mrt_node_init(&n, "Cast", 6);
    mrt_attr_string(&n, "to", "FLOAT");
    mrt_run_expect(&n, in, 1, NULL, 1, MINIRT_ERR_MODEL, "'to'", "should be int, not string");
    mrt_node_init(&n, "Cast", 5);
    mrt_attr_string(&n, "to", "float32");
    mrt_run_expect(&n, in, 1, NULL, 1, MINIRT_ERR_MODEL, "'float32'", "names no ONNX data type");
    mrt_node_init(&n, "Cast", 1);
    mrt_attr_string(&n, "to", "FLOAT16");
    mrt_run_expect(&n, in, 1, NULL, 1, MINIRT_ERR_UNSUPPORTED, "float16", "not supported");
    mrt_node_init(&n, "Cast", 19);
    mrt_attr_int(&n, "to", 1);
    mrt_run_expect(&n, in, 1, NULL, 1, MINIRT_ERR_UNSUPPORTED, "Cast", "no kernel");
    x.dtype = 10; /* a float16 input (the buffer is never read) */
    mrt_node_init(&n, "Cast", 13);
    mrt_attr_int(&n, "to", 1);
    mrt_run_expect(&n, in, 1, NULL, 1, MINIRT_ERR_UNSUPPORTED, "casting from float16",
                   "not supported");
    mrt_tensor_free(&x);
}

/* ---- Range ---- */

static void test_range(void **state) {
    (void)state;
    const struct {
        int dtype;
        double start, limit, delta;
        int64_t count;
    } cases[] = {
        {MINIRT_FLOAT32, 1, 5, 2, 2},     {MINIRT_FLOAT32, 0, 1, 0.1, 10},
        {MINIRT_FLOAT32, 5, 1, 2, 0},     {MINIRT_FLOAT64, 10, -3.5, -1.5, 9},
        {MINIRT_FLOAT64, 0.5, 0.5, 1, 0}, {MINIRT_INT32, 10, 6, -3, 2},
        {MINIRT_INT32, -7, 20, 4, 7},     {MINIRT_INT32, 3, 3, -1, 0},
        {MINIRT_INT64, 0, 1000, 7, 143},  {MINIRT_INT64, -5, -6, -1, 1},
        {MINIRT_INT64, 100, 1, 1, 0},     {MINIRT_FLOAT32, -2.5, 2.5, 0.5, 10},
    };
    const int64_t one = 1;
    for (size_t ci = 0; ci < sizeof(cases) / sizeof(cases[0]); ci++) {
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        mr_node n;
        mrt_node_init(&n, "Range", ci % 2 ? 11 : 21);
        int dt = cases[ci].dtype;
        mr_tensor s = mrt_tensor(dt, 0, &one), l = mrt_tensor(dt, 0, &one);
        mr_tensor d = mrt_tensor(dt, 1, &one), y; /* a one-element 1-D delta is accepted too */
        mrt_set(&s, 0, cases[ci].start);
        mrt_set(&l, 0, cases[ci].limit);
        mrt_set(&d, 0, cases[ci].delta);
        memset(&y, 0, sizeof(y));
        mr_tensor *in[3] = {&s, &l, &d}, *out[1] = {&y};
        mr_status st = mrt_run_op(&ctx, &n, in, 3, out, 1);
        if (st != MINIRT_OK) fail_msg("Range case %zu: %s", ci, ctx.err);
        assert_int_equal(y.dtype, dt);
        assert_int_equal(y.ndim, 1);
        if (y.dims[0] != cases[ci].count)
            fail_msg("Range case %zu: %lld elements, want %lld", ci, (long long)y.dims[0],
                     (long long)cases[ci].count);
        for (int64_t i = 0; i < y.dims[0]; i++) {
            double want = mrt_get(&s, 0) + (double)i * mrt_get(&d, 0);
            if (fabs(mrt_get(&y, i) - want) > 1e-5 * (1 + fabs(want)))
                fail_msg("Range case %zu: [%lld] = %g, want %g", ci, (long long)i, mrt_get(&y, i),
                         want);
        }
        mrt_tensor_free(&s);
        mrt_tensor_free(&l);
        mrt_tensor_free(&d);
        mrt_tensor_free(&y);
        mrt_node_free(&ctx, &n);
    }
    /* int64 extremes: the span overflows int64 but the count and elements are exact. */
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    mr_node n;
    mrt_node_init(&n, "Range", 11);
    mr_tensor s = mrt_tensor(MINIRT_INT64, 0, &one), l = mrt_tensor(MINIRT_INT64, 0, &one);
    mr_tensor d = mrt_tensor(MINIRT_INT64, 0, &one), y;
    *(int64_t *)s.data = INT64_MIN;
    *(int64_t *)l.data = INT64_MAX;
    *(int64_t *)d.data = INT64_MAX;
    memset(&y, 0, sizeof(y));
    mr_tensor *in[3] = {&s, &l, &d}, *out[1] = {&y};
    assert_int_equal(mrt_run_op(&ctx, &n, in, 3, out, 1), MINIRT_OK);
    const int64_t want[3] = {INT64_MIN, -1, INT64_MAX - 1};
    assert_int_equal(y.dims[0], 3);
    assert_memory_equal(y.data, want, sizeof(want));
    mrt_tensor_free(&y);
    mrt_node_free(&ctx, &n);
    mrt_tensor_free(&s);
    mrt_tensor_free(&l);
    mrt_tensor_free(&d);
}

/* Range at opset 11 with start, limit, delta of type dt (values as double); expect an error. */
static void range_error(int dt, double s, double l, double d, mr_status want, const char *s1,
                        const char *s2) {
    const int64_t one = 1;
    mr_tensor t[3];
    const double v[3] = {s, l, d};
    for (int k = 0; k < 3; k++) {
        t[k] = mrt_tensor(dt, 0, &one);
        mrt_set(&t[k], 0, v[k]);
    }
    mr_tensor *in[3] = {&t[0], &t[1], &t[2]};
    mr_node n;
    mrt_node_init(&n, "Range", 11);
    mrt_run_expect(&n, in, 3, NULL, 1, want, s1, s2);
    for (int k = 0; k < 3; k++)
        mrt_tensor_free(&t[k]);
}

static void test_range_errors(void **state) {
    (void)state;
    range_error(MINIRT_INT32, 0, 5, 0, MINIRT_ERR_MODEL, "delta is 0", "");
    range_error(MINIRT_FLOAT32, 0, 5, 0, MINIRT_ERR_MODEL, "delta is 0", "");
    range_error(MINIRT_FLOAT64, 0, NAN, 1, MINIRT_ERR_MODEL, "limit nan", "no element count");
    range_error(MINIRT_FLOAT32, 0, INFINITY, 1, MINIRT_ERR_LIMIT, "limit inf", "too many");
    range_error(MINIRT_FLOAT64, 0, 1e30, 1, MINIRT_ERR_LIMIT, "1e+30", "too many");
    range_error(MINIRT_FLOAT32, 0, 1e12, 1, MINIRT_ERR_LIMIT, "output", "exceeds the limit");
    range_error(MINIRT_INT64, -1e18, 1e18, 1, MINIRT_ERR_LIMIT, "output", "exceeds the limit");
    range_error(MINIRT_UINT8, 0, 5, 1, MINIRT_ERR_UNSUPPORTED, "uint8", "not supported");
    range_error(MINIRT_BOOL, 0, 1, 1, MINIRT_ERR_UNSUPPORTED, "bool", "not supported");
    /* Mixed types, a non-scalar operand, an operand unknown at plan time, before opset 11. */
    const int64_t one = 1, two = 2;
    mr_tensor a = mrt_tensor(MINIRT_INT64, 0, &one), b = mrt_tensor(MINIRT_INT32, 0, &one);
    mr_tensor c = mrt_tensor(MINIRT_INT64, 1, &two);
    *(int64_t *)a.data = 1;
    mr_tensor *in[3] = {&a, &b, &a};
    mr_node n;
    mrt_node_init(&n, "Range", 11);
    mrt_run_expect(&n, in, 3, NULL, 1, MINIRT_ERR_MODEL, "'limit' is int32", "one type");
    in[1] = &c;
    mrt_node_init(&n, "Range", 11);
    mrt_run_expect(&n, in, 3, NULL, 1, MINIRT_ERR_SHAPE, "'limit' must be a scalar", "shape 2");
    in[1] = &a;
    mr_tensor unknown = mrt_tensor_nodata(MINIRT_INT64, 0, NULL);
    in[2] = &unknown;
    mrt_node_init(&n, "Range", 11);
    mrt_run_expect(&n, in, 3, NULL, 1, MINIRT_ERR_UNSUPPORTED, "'delta' must be known",
                   "output's size");
    mrt_node_init(&n, "Range", 10);
    mrt_run_expect(&n, in, 3, NULL, 1, MINIRT_ERR_UNSUPPORTED, "Range", "no kernel");
    mrt_tensor_free(&a);
    mrt_tensor_free(&b);
    mrt_tensor_free(&c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constant_of_shape), cmocka_unit_test(test_constant_of_shape_errors),
        cmocka_unit_test(test_cast_matrix),       cmocka_unit_test(test_cast_special),
        cmocka_unit_test(test_cast_errors),       cmocka_unit_test(test_range),
        cmocka_unit_test(test_range_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
