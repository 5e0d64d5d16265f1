/*
 * test_functions.c - model-local functions (ModelProto.functions) inlined at load: a simple body,
 * nested calls, two calls of one function (internal names must not collide), attribute references
 * with and without a value from the caller, and runaway recursion refused.
 */
#include <string.h>

#include "mb.h"
#include "mrt.h"

typedef struct fb {
    Onnx__FunctionProto fn[4];
    Onnx__FunctionProto *fns[4];
    Onnx__OperatorSetIdProto op13, custom;
    Onnx__OperatorSetIdProto *fn_opsets[2], *model_opsets[2];
    int n;
} fb;

/* A function custom.NAME(inputs) -> outputs over the given body nodes. */
static void add_function(mb *b, fb *f, const char *name, const char *in, const char *out,
                         Onnx__NodeProto **body, int n_body) {
    Onnx__FunctionProto *fn = &f->fn[f->n];
    onnx__function_proto__init(fn);
    fn->name = mb_str(b, name);
    fn->domain = mb_str(b, "custom");
    /* parse the comma lists through a throwaway node */
    Onnx__NodeProto *tmp = mb_node(b, "tmp", "tmp", in, out);
    b->graph.n_node--; /* not a graph node */
    fn->n_input = tmp->n_input;
    fn->input = tmp->input;
    fn->n_output = tmp->n_output;
    fn->output = tmp->output;
    fn->n_node = (size_t)n_body;
    fn->node = mb_alloc(b, sizeof(void *) * (size_t)n_body);
    memcpy(fn->node, body, sizeof(void *) * (size_t)n_body);
    fn->n_opset_import = 2;
    fn->opset_import = f->fn_opsets;
    f->fns[f->n++] = fn;
    b->model.n_functions = (size_t)f->n;
    b->model.functions = f->fns;
}

/* A node built outside the graph (for a function body). */
static Onnx__NodeProto *body_node(mb *b, const char *op, const char *domain, const char *in,
                                  const char *out) {
    Onnx__NodeProto *n = mb_node(b, op, "", in, out);
    b->graph.n_node--;
    n->domain = mb_str(b, domain);
    return n;
}

static void fb_init(mb *b, fb *f) {
    memset(f, 0, sizeof(*f));
    mb_init(b, 13);
    onnx__operator_set_id_proto__init(&f->op13);
    f->op13.domain = mb_str(b, "");
    f->op13.has_version = 1;
    f->op13.version = 13;
    onnx__operator_set_id_proto__init(&f->custom);
    f->custom.domain = mb_str(b, "custom");
    f->custom.has_version = 1;
    f->custom.version = 1;
    f->fn_opsets[0] = f->model_opsets[0] = &f->op13;
    f->fn_opsets[1] = f->model_opsets[1] = &f->custom;
    b->model.n_opset_import = 2;
    b->model.opset_import = f->model_opsets;
}

static void run_vec(minirt_session *s, const float *x, const float *want, int64_t n) {
    int64_t d[1] = {n};
    minirt_tensor in = {NULL, MINIRT_FLOAT32, 1, d, x}, out;
    if (minirt_run(s, &in, 1) != MINIRT_OK) fail_msg("run: %s", minirt_errmsg(s));
    assert_int_equal(minirt_get_output(s, 0, &out), MINIRT_OK);
    mrt_assert_close(out.data, want, n, 0, 0, "function output");
}

static void test_nested_functions(void **state) {
    (void)state;
    mb b;
    fb f;
    fb_init(&b, &f);
    /* AddRelu(a, b) = Relu(a + b); Twice(x) = AddRelu(AddRelu(x, x), x) */
    Onnx__NodeProto *add_relu[2] = {body_node(&b, "Add", "", "a,b", "s"),
                                    body_node(&b, "Relu", "", "s", "y")};
    add_function(&b, &f, "AddRelu", "a,b", "y", add_relu, 2);
    Onnx__NodeProto *twice[2] = {body_node(&b, "AddRelu", "custom", "x,x", "t"),
                                 body_node(&b, "AddRelu", "custom", "t,x", "y")};
    add_function(&b, &f, "Twice", "x", "y", twice, 2);
    static const int64_t d[1] = {4};
    mb_input(&b, "in", 1, d);
    Onnx__NodeProto *call = mb_node(&b, "Twice", "call", "in", "mid");
    call->domain = mb_str(&b, "custom");
    Onnx__NodeProto *call2 = mb_node(&b, "AddRelu", "call2", "mid,in", "out");
    call2->domain = mb_str(&b, "custom");
    mb_output(&b, "out");
    minirt_session *s = NULL;
    if (mb_open(&b, &s) != MINIRT_OK) fail_msg("open: %s", minirt_errmsg(s));
    const char *sum = minirt_summary(s);
    assert_non_null(strstr(sum, "6 nodes; ops: Add x3 Relu x3"));
    /* Twice(x) = relu(relu(2x) + x); out = relu(Twice(x) + x) */
    float x[4] = {1, -1, 2, -3}, want[4];
    for (int i = 0; i < 4; i++) {
        float t = 2 * x[i] > 0 ? 2 * x[i] : 0;
        float tw = t + x[i] > 0 ? t + x[i] : 0;
        want[i] = tw + x[i] > 0 ? tw + x[i] : 0;
    }
    run_vec(s, x, want, 4);
    minirt_close(s);
    mb_free(&b);
}

static void test_attribute_reference(void **state) {
    (void)state;
    for (int with_attr = 0; with_attr < 2; with_attr++) {
        mb b;
        fb f;
        fb_init(&b, &f);
        /* Flat(x) = Flatten(x, axis = @ax) */
        Onnx__NodeProto *flat = body_node(&b, "Flatten", "", "x", "y");
        Onnx__AttributeProto *ref =
            mb_attr(&b, flat, "axis", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
        ref->ref_attr_name = mb_str(&b, "ax");
        add_function(&b, &f, "Flat", "x", "y", &flat, 1);
        static const int64_t d[3] = {2, 3, 4};
        mb_input(&b, "in", 3, d);
        Onnx__NodeProto *call = mb_node(&b, "Flat", "call", "in", "out");
        call->domain = mb_str(&b, "custom");
        if (with_attr) {
            Onnx__AttributeProto *a =
                mb_attr(&b, call, "ax", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
            a->has_i = 1;
            a->i = 2;
        }
        mb_output(&b, "out");
        minirt_session *s = NULL;
        if (mb_open(&b, &s) != MINIRT_OK) fail_msg("open: %s", minirt_errmsg(s));
        float x[24] = {0};
        minirt_tensor in = {NULL, MINIRT_FLOAT32, 3, d, x}, out;
        assert_int_equal(minirt_run(s, &in, 1), MINIRT_OK);
        assert_int_equal(minirt_get_output(s, 0, &out), MINIRT_OK);
        assert_int_equal(out.ndim, 2);
        /* axis 2 from the caller gives 6x4; without it Flatten's default axis 1 gives 2x12 */
        assert_int_equal(out.dims[0], with_attr ? 6 : 2);
        assert_int_equal(out.dims[1], with_attr ? 4 : 12);
        minirt_close(s);
        mb_free(&b);
    }
}

static void test_recursive_function(void **state) {
    (void)state;
    mb b;
    fb f;
    fb_init(&b, &f);
    Onnx__NodeProto *self = body_node(&b, "Loop", "custom", "x", "y");
    add_function(&b, &f, "Loop", "x", "y", &self, 1);
    static const int64_t d[1] = {4};
    mb_input(&b, "in", 1, d);
    Onnx__NodeProto *call = mb_node(&b, "Loop", "call", "in", "out");
    call->domain = mb_str(&b, "custom");
    mb_output(&b, "out");
    expect_open_error(&b, MINIRT_ERR_LIMIT, "function 'Loop' is nested more than 16 levels deep");
    mb_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nested_functions),
        cmocka_unit_test(test_attribute_reference),
        cmocka_unit_test(test_recursive_function),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
