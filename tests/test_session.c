/*
 * test_session.c - loader and session through the public API: models are built in memory with the
 * protobuf-c structs, serialized, and opened with minirt_open_memory. Covers the good paths (Conv
 * with W as a runtime input, Constant nodes, initializers listed as inputs, unsorted nodes, a
 * symbolic batch that re-plans, every storage form of initializers) and the error paths, each
 * checked by status and message.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mb.h"
#include "mrt.h"

/* ---- a Conv model: x[?,2,5,5] * W[3,2,3,3] + B, pads 1, then Relu ---- */

static const int64_t x_dims[4] = {-1, 2, 5, 5}, w_dims[4] = {3, 2, 3, 3}, b_dims[1] = {3};

static void fill(float *p, int n, float scale) {
    for (int i = 0; i < n; i++)
        p[i] = scale * (float)((i * 7) % 11 - 5);
}

static void build_conv_model(mb *b, float *w, float *bias, int form) {
    static const int64_t pads[4] = {1, 1, 1, 1};
    mb_init(b, 13);
    fill(w, 54, 0.1f);
    fill(bias, 3, 0.5f);
    mb_input(b, "x", 4, x_dims);
    mb_init_tensor(b, mb_tensor(b, "W", 4, w_dims, w, form));
    mb_init_tensor(b, mb_tensor(b, "B", 1, b_dims, bias, form));
    /* written in reverse order: the loader must sort */
    mb_node(b, "Relu", "relu", "y", "z");
    Onnx__NodeProto *c = mb_node(b, "Conv", "conv", "x,W,B", "y");
    mb_attr_ints(b, c, "pads", 4, pads);
    mb_output(b, "z");
}

/* Reference: the same conv + relu, direct. */
static void ref_conv_relu(int64_t N, const float *x, const float *w, const float *bias, float *z) {
    for (int64_t n = 0; n < N; n++)
        for (int m = 0; m < 3; m++)
            for (int oy = 0; oy < 5; oy++)
                for (int ox = 0; ox < 5; ox++) {
                    double acc = bias[m];
                    for (int c = 0; c < 2; c++)
                        for (int ky = 0; ky < 3; ky++)
                            for (int kx = 0; kx < 3; kx++) {
                                int iy = oy - 1 + ky, ix = ox - 1 + kx;
                                if (iy < 0 || iy >= 5 || ix < 0 || ix >= 5) continue;
                                acc += (double)x[((n * 2 + c) * 5 + iy) * 5 + ix] *
                                       w[((m * 2 + c) * 3 + ky) * 3 + kx];
                            }
                    z[((n * 3 + m) * 5 + oy) * 5 + ox] = acc > 0 ? (float)acc : 0.0f;
                }
}

static void run_and_check(minirt_session *s, int64_t N, const float *w, const float *bias) {
    float x[4 * 50], want[4 * 75];
    int64_t dims[4] = {N, 2, 5, 5};
    fill(x, (int)(N * 50), 0.3f);
    ref_conv_relu(N, x, w, bias, want);
    minirt_tensor in = {NULL, MINIRT_FLOAT32, 4, dims, x};
    if (minirt_run(s, &in, 1) != MINIRT_OK) fail_msg("run: %s", minirt_errmsg(s));
    minirt_tensor out;
    assert_int_equal(minirt_get_output(s, 0, &out), MINIRT_OK);
    assert_string_equal(out.name, "z");
    assert_int_equal(out.ndim, 4);
    assert_int_equal(out.dims[0], N);
    assert_int_equal(out.dims[1], 3);
    mrt_assert_close(out.data, want, N * 75, 1e-5, 1e-5, "conv+relu");
}

static void test_conv_model_dynamic_batch(void **state) {
    (void)state;
    for (int form = RAW; form <= TYPED; form++) {
        mb b;
        float w[54], bias[3];
        build_conv_model(&b, w, bias, form);
        minirt_session *s = NULL;
        if (mb_open(&b, &s) != MINIRT_OK) fail_msg("open: %s", minirt_errmsg(s));
        assert_int_equal(minirt_input_count(s), 1);
        minirt_tensor info;
        assert_int_equal(minirt_get_input_info(s, 0, &info), MINIRT_OK);
        assert_string_equal(info.name, "x");
        assert_int_equal(info.dims[0], -1);
        /* the output is declared with a name only: no type, no shape */
        assert_int_equal(minirt_get_output_info(s, 0, &info), MINIRT_OK);
        assert_string_equal(info.name, "z");
        assert_int_equal(info.dtype, 0);
        assert_int_equal(info.ndim, 0);
        assert_null(info.dims);
        assert_int_equal(minirt_get_output_info(s, 1, &info), MINIRT_ERR_ARGUMENT);
        assert_non_null(strstr(minirt_errmsg(s), "output index 1 out of range"));
        /* batch 1, then 3 (re-plan), then 1 again, then 3 again */
        run_and_check(s, 1, w, bias);
        run_and_check(s, 3, w, bias);
        run_and_check(s, 1, w, bias);
        run_and_check(s, 3, w, bias);
        minirt_close(s);
        mb_free(&b);
    }
}

/* Counting allocator: proves a repeated shape runs without allocating. */
typedef struct counter {
    int64_t allocs;
    int64_t fail_at; /* fail the fail_at-th allocation (1-based); 0 = never */
} counter;

static void *counting_alloc(void *user, void *ptr, size_t old_size, size_t size) {
    counter *c = user;
    (void)old_size;
    if (size == 0) {
        free(ptr);
        return NULL;
    }
    c->allocs++;
    if (c->fail_at && c->allocs == c->fail_at) return NULL;
    return malloc(size);
}

static void test_no_allocation_on_repeat(void **state) {
    (void)state;
    mb b;
    float w[54], bias[3], x[2 * 50];
    build_conv_model(&b, w, bias, RAW);
    size_t len;
    uint8_t *buf = mb_pack(&b, &len);
    counter c = {0, 0};
    minirt_options o;
    minirt_options_init(&o);
    o.alloc = counting_alloc;
    o.alloc_user = &c;
    minirt_session *s = NULL;
    assert_int_equal(minirt_open_memory(buf, len, &o, &s), MINIRT_OK);
    int64_t dims[4] = {2, 2, 5, 5};
    fill(x, 100, 0.2f);
    minirt_tensor in = {"x", MINIRT_FLOAT32, 4, dims, x};
    assert_int_equal(minirt_run(s, &in, 1), MINIRT_OK);
    int64_t before = c.allocs;
    for (int i = 0; i < 5; i++)
        assert_int_equal(minirt_run(s, &in, 1), MINIRT_OK);
    assert_int_equal(c.allocs, before);
    minirt_close(s);
    mb_free(&b);
}

/* Fail each allocation of open + run in turn: every one must end in a clean NOMEM. */
static void test_allocation_failures(void **state) {
    (void)state;
    mb b;
    float w[54], bias[3], x[50];
    build_conv_model(&b, w, bias, RAW);
    size_t len;
    uint8_t *buf = mb_pack(&b, &len);
    int64_t dims[4] = {1, 2, 5, 5};
    fill(x, 50, 0.2f);
    for (int64_t k = 1;; k++) {
        counter c = {0, k};
        minirt_options o;
        minirt_options_init(&o);
        o.alloc = counting_alloc;
        o.alloc_user = &c;
        minirt_session *s = NULL;
        minirt_status st = minirt_open_memory(buf, len, &o, &s);
        if (st == MINIRT_OK) {
            minirt_tensor in = {NULL, MINIRT_FLOAT32, 4, dims, x};
            st = minirt_run(s, &in, 1);
        }
        minirt_close(s);
        if (c.allocs < k) {
            /* no k-th allocation happened: everything succeeded */
            assert_int_equal(st, MINIRT_OK);
            assert_true(k > 10);
            break;
        }
        if (st != MINIRT_ERR_NOMEM) fail_msg("allocation %lld failed: status %d", (long long)k, st);
    }
    mb_free(&b);
}

static void test_constant_and_initializer_inputs(void **state) {
    (void)state;
    /* y = Relu(x + c) with c from a Constant node; W listed as a graph input with an initializer */
    mb b;
    mb_init(&b, 13);
    static const int64_t d[2] = {2, 3};
    static const float cv[6] = {1, -2, 3, -4, 5, -6};
    mb_input(&b, "x", 2, d);
    mb_input(&b, "unused_w", 2, d);
    mb_init_tensor(&b, mb_tensor(&b, "unused_w", 2, d, cv, TYPED));
    Onnx__NodeProto *k = mb_node(&b, "Constant", "const", "", "c");
    Onnx__AttributeProto *a = mb_attr(&b, k, "value", MR_ATTR_TENSOR);
    a->t = mb_tensor(&b, "", 2, d, cv, RAW);
    mb_node(&b, "Add", "add", "x,c", "s");
    mb_node(&b, "Relu", "relu", "s", "y");
    mb_output(&b, "y");
    minirt_session *s = NULL;
    if (mb_open(&b, &s) != MINIRT_OK) fail_msg("open: %s", minirt_errmsg(s));
    assert_int_equal(minirt_input_count(s), 1);
    float x[6] = {0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f}, want[6] = {1.5f, 0, 3.5f, 0, 5.5f, 0};
    minirt_tensor in = {NULL, MINIRT_FLOAT32, 2, d, x}, out;
    assert_int_equal(minirt_run(s, &in, 1), MINIRT_OK);
    assert_int_equal(minirt_get_output(s, 0, &out), MINIRT_OK);
    mrt_assert_close(out.data, want, 6, 0, 0, "add+relu");
    minirt_close(s);
    mb_free(&b);
}

/* ---- error cases ---- */

static void test_truncated_and_garbage(void **state) {
    (void)state;
    mb b;
    float w[54], bias[3];
    build_conv_model(&b, w, bias, RAW);
    size_t len;
    uint8_t *buf = mb_pack(&b, &len);
    int failures = 0;
    for (size_t cut = 0; cut < len; cut++) {
        minirt_session *s = NULL;
        minirt_status st = minirt_open_memory(buf, cut, NULL, &s);
        if (st != MINIRT_OK) {
            failures++;
            assert_true(strlen(minirt_errmsg(s)) > 0);
        }
        minirt_close(s);
    }
    assert_true(failures > 0);
    minirt_session *s = NULL;
    static const char junk[] = "this is not a protobuf \xff\xff\xff\xff";
    assert_int_equal(minirt_open_memory(junk, sizeof(junk), NULL, &s), MINIRT_ERR_MODEL);
    assert_non_null(strstr(minirt_errmsg(s), "not a valid ONNX model"));
    minirt_close(s);
    assert_int_equal(minirt_open("/nonexistent/model.onnx", NULL, &s), MINIRT_ERR_IO);
    assert_non_null(strstr(minirt_errmsg(s), "cannot open '/nonexistent/model.onnx'"));
    minirt_close(s);
    mb_free(&b);
}

static void test_unknown_op(void **state) {
    (void)state;
    mb b;
    mb_init(&b, 13);
    static const int64_t d[1] = {4};
    mb_input(&b, "x", 1, d);
    mb_node(&b, "FancyOp", "fancy1", "x", "y");
    mb_output(&b, "y");
    expect_open_error(&b, MINIRT_ERR_UNSUPPORTED,
                      "node 'fancy1' (FancyOp): unknown operator FancyOp");
    mb_free(&b);
    /* Several problems at once: two unsupported types (one used twice) and a bad attribute. */
    static const int64_t zero_stride[2] = {0, 1};
    float w[54], bias[3];
    build_conv_model(&b, w, bias, RAW);
    mb_attr_ints(&b, b.nodes[1], "strides", 2, zero_stride);
    mb_node(&b, "FancyOp", "f1", "z", "f1o");
    mb_node(&b, "Weird", "w1", "f1o", "w1o");
    mb_node(&b, "FancyOp", "f2", "w1o", "f2o");
    minirt_session *s = NULL;
    assert_int_equal(mb_open(&b, &s), MINIRT_ERR_MODEL);
    assert_non_null(strstr(minirt_errmsg(s), "(and 2 more problems)"));
    assert_int_equal(minirt_problem_count(s), 3);
    bool fancy = false, weird = false, stride = false;
    for (size_t i = 0; i < minirt_problem_count(s); i++) {
        const char *p = minirt_problem(s, i);
        fancy |= strstr(p, "unknown operator FancyOp (2 nodes: 'f1', 'f2')") != NULL;
        weird |= strstr(p, "node 'w1' (Weird): unknown operator Weird") != NULL;
        stride |= strstr(p, "node 'conv' (Conv): strides[0] is 0") != NULL;
    }
    assert_true(fancy && weird && stride);
    assert_null(minirt_problem(s, 3));
    assert_null(minirt_summary(s));
    minirt_close(s);
    mb_free(&b);
}

/* A model whose node carries a sub-graph nested `levels` deep (If-style graph attributes). */
static void build_nested(mb *b, int levels) {
    static const int64_t d[1] = {4};
    mb_init(b, 13);
    mb_input(b, "x", 1, d);
    Onnx__NodeProto *n = mb_node(b, "Relu", "r", "x", "y");
    mb_output(b, "y");
    for (int i = 0; i < levels; i++) {
        Onnx__AttributeProto *a =
            mb_attr(b, n, "body", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH);
        Onnx__GraphProto *g = mb_alloc(b, sizeof(*g));
        onnx__graph_proto__init(g);
        g->name = mb_str(b, "sub");
        Onnx__NodeProto *inner = mb_alloc(b, sizeof(*inner));
        onnx__node_proto__init(inner);
        inner->op_type = mb_str(b, "Identity");
        inner->attribute = mb_alloc(b, sizeof(void *));
        g->n_node = 1;
        g->node = mb_alloc(b, sizeof(void *));
        g->node[0] = inner;
        a->g = g;
        n = inner;
    }
}

static void test_limits(void **state) {
    (void)state;
    mb b;
    /* 3 sub-graph levels are fine (the attribute is ignored by Relu); 40 exceed the depth limit of
     * 64 messages and are refused before protobuf-c recurses into them */
    build_nested(&b, 3);
    minirt_session *s = NULL;
    if (mb_open(&b, &s) != MINIRT_OK) fail_msg("open: %s", minirt_errmsg(s));
    minirt_close(s);
    mb_free(&b);
    build_nested(&b, 40);
    expect_open_error(&b, MINIRT_ERR_LIMIT, "nests messages more than 64 levels deep");
    mb_free(&b);

    /* node count limit from the options */
    float w[54], bias[3];
    build_conv_model(&b, w, bias, RAW);
    size_t len;
    uint8_t *buf = mb_pack(&b, &len);
    minirt_options o;
    minirt_options_init(&o);
    o.max_nodes = 1;
    assert_int_equal(minirt_open_memory(buf, len, &o, &s), MINIRT_ERR_LIMIT);
    assert_non_null(strstr(minirt_errmsg(s), "the graph has 2 nodes, more than the limit of 1"));
    minirt_close(s);
    /* tensor size limit from the options: W is 216 bytes */
    minirt_options_init(&o);
    o.max_tensor_bytes = 200;
    assert_int_equal(minirt_open_memory(buf, len, &o, &s), MINIRT_ERR_LIMIT);
    assert_non_null(
        strstr(minirt_errmsg(s),
               "tensor 'W': tensor of shape 3x2x3x3 (float32) exceeds the limit of 200 bytes"));
    minirt_close(s);
    mb_free(&b);
}

static void test_summary(void **state) {
    (void)state;
    mb b;
    float w[54], bias[3];
    build_conv_model(&b, w, bias, RAW);
    minirt_session *s = NULL;
    assert_int_equal(mb_open(&b, &s), MINIRT_OK);
    assert_int_equal(minirt_problem_count(s), 0);
    const char *sum = minirt_summary(s);
    assert_non_null(sum);
    assert_string_equal(sum, "2 nodes; ops: Conv x1 Relu x1; 57 parameters; inputs: x float32 "
                             "[?,2,5,5]; outputs: z");
    minirt_close(s);
    mb_free(&b);
}

static void test_missing_tensor(void **state) {
    (void)state;
    mb b;
    mb_init(&b, 13);
    static const int64_t d[1] = {4};
    mb_input(&b, "x", 1, d);
    mb_node(&b, "Add", "add1", "x,ghost", "y");
    mb_output(&b, "y");
    expect_open_error(&b, MINIRT_ERR_MODEL, "node 'add1' (Add): input 'ghost' is not defined");
    mb_free(&b);

    mb_init(&b, 13);
    mb_input(&b, "x", 1, d);
    mb_node(&b, "Relu", "r", "x", "y");
    mb_output(&b, "nowhere");
    expect_open_error(&b, MINIRT_ERR_MODEL, "graph output 'nowhere' is not produced");
    mb_free(&b);
}

static void test_cycle(void **state) {
    (void)state;
    mb b;
    mb_init(&b, 13);
    static const int64_t d[1] = {4};
    mb_input(&b, "x", 1, d);
    mb_node(&b, "Add", "a", "x,q", "p");
    mb_node(&b, "Relu", "b", "p", "q");
    mb_output(&b, "q");
    expect_open_error(&b, MINIRT_ERR_MODEL, "cycle");
    mb_free(&b);
}

static void test_duplicate_output(void **state) {
    (void)state;
    mb b;
    mb_init(&b, 13);
    static const int64_t d[1] = {4};
    mb_input(&b, "x", 1, d);
    mb_node(&b, "Relu", "r1", "x", "y");
    mb_node(&b, "Relu", "r2", "x", "y");
    mb_output(&b, "y");
    expect_open_error(&b, MINIRT_ERR_MODEL, "node 'r2' (Relu): output 'y' is already defined");
    mb_free(&b);
}

static void test_model_level_errors(void **state) {
    (void)state;
    mb b;
    static const int64_t d[1] = {4};
    mb_init(&b, 13);
    b.model.ir_version = 2;
    mb_input(&b, "x", 1, d);
    mb_node(&b, "Relu", "r", "x", "y");
    mb_output(&b, "y");
    expect_open_error(&b, MINIRT_ERR_UNSUPPORTED, "IR version 2");
    mb_free(&b);

    mb_init(&b, 13);
    mb_input(&b, "x", 1, d);
    mb_node(&b, "Relu", "r", "x", "y");
    expect_open_error(&b, MINIRT_ERR_MODEL, "graph has no outputs");
    mb_free(&b);

    mb_init(&b, 13);
    mb_input(&b, "x", 1, d);
    Onnx__NodeProto *n = mb_node(&b, "Relu", "r", "x", "y");
    n->domain = mb_str(&b, "com.example");
    mb_output(&b, "y");
    expect_open_error(&b, MINIRT_ERR_MODEL, "imports no opset for domain 'com.example'");
    mb_free(&b);

    /* initializer whose raw_data is shorter than its dims */
    mb_init(&b, 13);
    static const float v[4] = {1, 2, 3, 4};
    mb_input(&b, "x", 1, d);
    Onnx__TensorProto *t = mb_tensor(&b, "c", 1, d, v, RAW);
    t->raw_data.len = 12;
    mb_init_tensor(&b, t);
    mb_node(&b, "Add", "a", "x,c", "y");
    mb_output(&b, "y");
    expect_open_error(&b, MINIRT_ERR_MODEL,
                      "tensor 'c': raw_data has 12 bytes but shape 4 (float32) needs 16");
    mb_free(&b);

    /* negative dim in an initializer */
    mb_init(&b, 13);
    mb_input(&b, "x", 1, d);
    t = mb_tensor(&b, "c", 1, d, v, RAW);
    t->dims[0] = -4;
    mb_init_tensor(&b, t);
    mb_node(&b, "Add", "a", "x,c", "y");
    mb_output(&b, "y");
    expect_open_error(&b, MINIRT_ERR_MODEL, "negative dimension");
    mb_free(&b);
}

static void test_bad_conv_attributes(void **state) {
    (void)state;
    static const int64_t zero_stride[2] = {0, 1}, big_pads[4] = {0, 0, 0, 0};
    mb b;
    float w[54], bias[3];
    build_conv_model(&b, w, bias, RAW);
    mb_attr_ints(&b, b.nodes[1], "strides", 2, zero_stride);
    expect_open_error(&b, MINIRT_ERR_MODEL, "node 'conv' (Conv): strides[0] is 0");
    mb_free(&b);

    /* static shape with a kernel larger than the input: reported at open */
    mb_init(&b, 13);
    static const int64_t xd[4] = {1, 2, 2, 2};
    mb_input(&b, "x", 4, xd);
    fill(w, 54, 0.1f);
    mb_init_tensor(&b, mb_tensor(&b, "W", 4, w_dims, w, RAW));
    Onnx__NodeProto *c = mb_node(&b, "Conv", "conv7", "x,W", "y");
    mb_attr_ints(&b, c, "pads", 4, big_pads);
    mb_output(&b, "y");
    expect_open_error(
        &b, MINIRT_ERR_SHAPE,
        "node 'conv7' (Conv): kernel 3x3 (dilated) is larger than the padded input 2x2");
    mb_free(&b);
}

static void test_run_argument_errors(void **state) {
    (void)state;
    mb b;
    float w[54], bias[3], x[50] = {0};
    build_conv_model(&b, w, bias, RAW);
    minirt_session *s = NULL;
    assert_int_equal(mb_open(&b, &s), MINIRT_OK);
    int64_t good[4] = {1, 2, 5, 5}, bad[4] = {1, 3, 5, 5};
    minirt_tensor in = {NULL, MINIRT_FLOAT32, 4, bad, x}, out;
    assert_int_equal(minirt_run(s, &in, 1), MINIRT_ERR_SHAPE);
    assert_non_null(strstr(minirt_errmsg(s), "input 'x': expected shape -1x2x5x5, got 1x3x5x5"));
    assert_int_equal(minirt_get_output(s, 0, &out), MINIRT_ERR_ARGUMENT);
    in.dims = good;
    in.dtype = MINIRT_INT64;
    assert_int_equal(minirt_run(s, &in, 1), MINIRT_ERR_ARGUMENT);
    assert_non_null(strstr(minirt_errmsg(s), "expected float32, got int64"));
    in.dtype = MINIRT_FLOAT32;
    assert_int_equal(minirt_run(s, &in, 0), MINIRT_ERR_ARGUMENT);
    assert_non_null(strstr(minirt_errmsg(s), "takes 1 input, 0 given"));
    in.name = "nope";
    assert_int_equal(minirt_run(s, &in, 1), MINIRT_ERR_ARGUMENT);
    assert_non_null(strstr(minirt_errmsg(s), "no input 'nope'"));
    in.name = "x";
    assert_int_equal(minirt_run(s, &in, 1), MINIRT_OK);
    assert_int_equal(minirt_get_output(s, 1, &out), MINIRT_ERR_ARGUMENT);
    minirt_close(s);
    minirt_close(NULL);
    mb_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_model_dynamic_batch),
        cmocka_unit_test(test_no_allocation_on_repeat),
        cmocka_unit_test(test_allocation_failures),
        cmocka_unit_test(test_constant_and_initializer_inputs),
        cmocka_unit_test(test_truncated_and_garbage),
        cmocka_unit_test(test_unknown_op),
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_missing_tensor),
        cmocka_unit_test(test_cycle),
        cmocka_unit_test(test_duplicate_output),
        cmocka_unit_test(test_model_level_errors),
        cmocka_unit_test(test_bad_conv_attributes),
        cmocka_unit_test(test_run_argument_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
