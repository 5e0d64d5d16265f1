/*
 * mb.h - a tiny ONNX model builder for tests (see mb.c). Build a model with mb_init, mb_input,
 * mb_tensor + mb_init_tensor, mb_node + mb_attr*, mb_output; serialize with mb_pack or open it with
 * mb_open; release everything with mb_free.
 */
#ifndef MB_H
#define MB_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "minirt.h"
#include "onnx.pb-c.h"

typedef struct mb {
    void *keep[512];
    int n_keep;
    Onnx__ModelProto model;
    Onnx__GraphProto graph;
    Onnx__OperatorSetIdProto opset;
    Onnx__OperatorSetIdProto *opsets[1];
    Onnx__NodeProto *nodes[16];
    Onnx__TensorProto *inits[16];
    Onnx__ValueInfoProto *inputs[16], *outputs[16];
} mb;

/* Storage forms for mb_tensor. */
enum { RAW, TYPED };

void *mb_keep(mb *b, void *p);
void *mb_alloc(mb *b, size_t size);
char *mb_str(mb *b, const char *s);
/* A model at IR 8 importing the default domain at opset. */
void mb_init(mb *b, int64_t opset);
/* A float tensor value info; dims < 0 are symbolic ("batch"). */
Onnx__ValueInfoProto *mb_value(mb *b, const char *name, int ndim, const int64_t *dims);
void mb_input(mb *b, const char *name, int ndim, const int64_t *dims);
void mb_output(mb *b, const char *name);
/* A float32 tensor, as raw_data (RAW) or float_data (TYPED). */
Onnx__TensorProto *mb_tensor(mb *b, const char *name, int ndim, const int64_t *dims,
                             const float *vals, int form);
void mb_init_tensor(mb *b, Onnx__TensorProto *t);
/* A node; in and out are comma-separated names ("" entries are absent optionals). */
Onnx__NodeProto *mb_node(mb *b, const char *op, const char *name, const char *in, const char *out);
Onnx__AttributeProto *mb_attr(mb *b, Onnx__NodeProto *n, const char *name, int type);
void mb_attr_ints(mb *b, Onnx__NodeProto *n, const char *name, int count, const int64_t *v);
/* Serialize the model; the buffer is kept by b. */
uint8_t *mb_pack(mb *b, size_t *len);
void mb_free(mb *b);
/* Open the built model from memory; the caller closes *s. */
minirt_status mb_open(mb *b, minirt_session **s);
/* Expect opening to fail with status and a message containing msg. */
void expect_open_error(mb *b, minirt_status status, const char *msg);

#endif
