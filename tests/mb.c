/*
 * mb.c - a tiny ONNX model builder for tests: protobuf-c structs filled by hand, serialized, opened
 * through the public API. Everything it allocates is released by mb_free.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mb.h"

void *mb_keep(mb *b, void *p) {
    assert_non_null(p);
    assert_true(b->n_keep < 512);
    b->keep[b->n_keep++] = p;
    return p;
}

void *mb_alloc(mb *b, size_t size) {
    return mb_keep(b, calloc(1, size));
}

char *mb_str(mb *b, const char *s) {
    return mb_keep(b, strdup(s));
}

void mb_init(mb *b, int64_t opset) {
    memset(b, 0, sizeof(*b));
    onnx__model_proto__init(&b->model);
    onnx__graph_proto__init(&b->graph);
    onnx__operator_set_id_proto__init(&b->opset);
    b->opset.domain = mb_str(b, "");
    b->opset.has_version = 1;
    b->opset.version = opset;
    b->opsets[0] = &b->opset;
    b->model.has_ir_version = 1;
    b->model.ir_version = 8;
    b->model.n_opset_import = 1;
    b->model.opset_import = b->opsets;
    b->model.graph = &b->graph;
    b->graph.name = mb_str(b, "g");
    b->graph.node = b->nodes;
    b->graph.initializer = b->inits;
    b->graph.input = b->inputs;
    b->graph.output = b->outputs;
}

/* A float tensor value info; dims < 0 are symbolic ("batch"). */
Onnx__ValueInfoProto *mb_value(mb *b, const char *name, int ndim, const int64_t *dims) {
    Onnx__ValueInfoProto *vi = mb_alloc(b, sizeof(*vi));
    onnx__value_info_proto__init(vi);
    vi->name = mb_str(b, name);
    Onnx__TypeProto *tp = mb_alloc(b, sizeof(*tp));
    onnx__type_proto__init(tp);
    Onnx__TypeProto__Tensor *tt = mb_alloc(b, sizeof(*tt));
    onnx__type_proto__tensor__init(tt);
    tt->has_elem_type = 1;
    tt->elem_type = MINIRT_FLOAT32;
    Onnx__TensorShapeProto *sh = mb_alloc(b, sizeof(*sh));
    onnx__tensor_shape_proto__init(sh);
    sh->n_dim = (size_t)ndim;
    sh->dim = mb_alloc(b, sizeof(void *) * (size_t)(ndim + 1));
    for (int i = 0; i < ndim; i++) {
        Onnx__TensorShapeProto__Dimension *d = mb_alloc(b, sizeof(*d));
        onnx__tensor_shape_proto__dimension__init(d);
        if (dims[i] >= 0) {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            d->dim_value = dims[i];
        } else {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            d->dim_param = mb_str(b, "batch");
        }
        sh->dim[i] = d;
    }
    tt->shape = sh;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    vi->type = tp;
    return vi;
}

void mb_input(mb *b, const char *name, int ndim, const int64_t *dims) {
    b->inputs[b->graph.n_input++] = mb_value(b, name, ndim, dims);
}

void mb_output(mb *b, const char *name) {
    Onnx__ValueInfoProto *vi = mb_alloc(b, sizeof(*vi));
    onnx__value_info_proto__init(vi);
    vi->name = mb_str(b, name);
    b->outputs[b->graph.n_output++] = vi;
}

/* A float32 tensor (as raw_data or float_data). */
Onnx__TensorProto *mb_tensor(mb *b, const char *name, int ndim, const int64_t *dims,
                             const float *vals, int form) {
    Onnx__TensorProto *t = mb_alloc(b, sizeof(*t));
    onnx__tensor_proto__init(t);
    t->name = mb_str(b, name);
    t->has_data_type = 1;
    t->data_type = MINIRT_FLOAT32;
    t->n_dims = (size_t)ndim;
    t->dims = mb_alloc(b, sizeof(int64_t) * (size_t)(ndim + 1));
    if (ndim) memcpy(t->dims, dims, sizeof(int64_t) * (size_t)ndim);
    size_t n = 1;
    for (int i = 0; i < ndim; i++)
        n *= (size_t)dims[i];
    if (form == RAW) {
        t->has_raw_data = 1;
        t->raw_data.len = n * sizeof(float);
        t->raw_data.data = mb_alloc(b, n * sizeof(float) + 1);
        memcpy(t->raw_data.data, vals, n * sizeof(float));
    } else {
        t->n_float_data = n;
        t->float_data = mb_alloc(b, n * sizeof(float) + 1);
        memcpy(t->float_data, vals, n * sizeof(float));
    }
    return t;
}

void mb_init_tensor(mb *b, Onnx__TensorProto *t) {
    b->inits[b->graph.n_initializer++] = t;
}

Onnx__NodeProto *mb_node(mb *b, const char *op, const char *name, const char *in, const char *out) {
    /* in / out: comma-separated names ("" entries are absent optionals) */
    Onnx__NodeProto *n = mb_alloc(b, sizeof(*n));
    onnx__node_proto__init(n);
    n->op_type = mb_str(b, op);
    n->name = mb_str(b, name);
    n->input = mb_alloc(b, sizeof(char *) * 8);
    n->output = mb_alloc(b, sizeof(char *) * 8);
    n->attribute = mb_alloc(b, sizeof(void *) * 8);
    for (int pass = 0; pass < 2; pass++) {
        const char *s = pass ? out : in;
        char **dst = pass ? n->output : n->input;
        size_t *cnt = pass ? &n->n_output : &n->n_input;
        while (s && *s) {
            const char *e = strchr(s, ',');
            size_t len = e ? (size_t)(e - s) : strlen(s);
            dst[(*cnt)++] = mb_keep(b, strndup(s, len));
            s = e ? e + 1 : NULL;
        }
    }
    b->nodes[b->graph.n_node++] = n;
    return n;
}

Onnx__AttributeProto *mb_attr(mb *b, Onnx__NodeProto *n, const char *name, int type) {
    Onnx__AttributeProto *a = mb_alloc(b, sizeof(*a));
    onnx__attribute_proto__init(a);
    a->name = mb_str(b, name);
    a->has_type = 1;
    a->type = (Onnx__AttributeProto__AttributeType)type;
    n->attribute[n->n_attribute++] = a;
    return a;
}

void mb_attr_ints(mb *b, Onnx__NodeProto *n, const char *name, int count, const int64_t *v) {
    Onnx__AttributeProto *a = mb_attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    a->n_ints = (size_t)count;
    a->ints = mb_alloc(b, sizeof(int64_t) * (size_t)(count + 1));
    memcpy(a->ints, v, sizeof(int64_t) * (size_t)count);
}

/* Serialize the model; the buffer is kept by b. */
uint8_t *mb_pack(mb *b, size_t *len) {
    *len = onnx__model_proto__get_packed_size(&b->model);
    uint8_t *buf = mb_alloc(b, *len + 1);
    onnx__model_proto__pack(&b->model, buf);
    return buf;
}

void mb_free(mb *b) {
    for (int i = 0; i < b->n_keep; i++)
        free(b->keep[i]);
    b->n_keep = 0;
}

/* Open the built model; returns the status and leaves the session in *s (caller closes). */
minirt_status mb_open(mb *b, minirt_session **s) {
    size_t len;
    uint8_t *buf = mb_pack(b, &len);
    return minirt_open_memory(buf, len, NULL, s);
}

/* Expect opening to fail with status and a message containing msg. */
void expect_open_error(mb *b, minirt_status status, const char *msg) {
    minirt_session *s = NULL;
    minirt_status st = mb_open(b, &s);
    if (st != status || !strstr(minirt_errmsg(s), msg))
        fail_msg("got status %d '%s', want %d with '%s'", st, minirt_errmsg(s), status, msg);
    minirt_close(s);
}
