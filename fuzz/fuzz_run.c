/*
 * fuzz_run.c - libFuzzer target: real models (models/small_cnn and models/conv_stack, embedded at
 * build time) run on fuzzed input tensors and fuzzed input shapes. Each model comes in two forms:
 * as exported (static shape: only the values are fuzzed, NaN and Inf included) and with the input's
 * batch, height and width made symbolic (the shape is fuzzed too: zero, tiny, odd and mismatched
 * dims, wrong ranks). The symbolic forms are made once at start-up by rewriting the embedded
 * models' input and output shapes with protobuf-c.
 *
 * Input layout:
 *   byte 0   model (bits 0-1: small_cnn, conv_stack, small_cnn_dyn, conv_stack_dyn) and
 *            optimization level (bits 2-3, 3 = 2); bit 4: run a second shape on the same session
 *   byte 1   rank override: 0x80 | r uses rank r % 9 instead of the declared rank
 *   next     one byte per dim: a symbolic dim is byte % 40; a static dim keeps its value unless
 *            the byte is 0xff, when the next byte (% 64) replaces it
 *   (when bit 4 is set, byte 1 and the dims again, for the second run)
 *   rest     the float32 data, repeated to fill the tensor (zeros if fewer than 4 bytes)
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "minirt.h"
#include "onnx.pb-c.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

extern const unsigned char fz_small_cnn[], fz_conv_stack[];
extern const size_t fz_small_cnn_len, fz_conv_stack_len;

/* Most elements a fuzzed input may have. */
#define FZ_MAX_ELEMS ((int64_t)1 << 16)

typedef struct fz_model {
    const uint8_t *bytes;
    size_t len;
} fz_model;

static fz_model fz_models[4];

/* A copy of model with input 0's dims 0, 2, 3 and every output's dims made symbolic. */
static fz_model fz_make_dynamic(const unsigned char *bytes, size_t len) {
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, bytes);
    if (!m || !m->graph || m->graph->n_input < 1) abort();
    static char sym[] = "d";
    Onnx__GraphProto *g = m->graph;
    /* the graph's inputs include no initializers in these exports: input 0 is the image */
    for (size_t k = 0; k < g->n_input + g->n_output; k++) {
        Onnx__ValueInfoProto *vi = k < g->n_input ? g->input[k] : g->output[k - g->n_input];
        if (k > 0 && k < g->n_input) continue;
        Onnx__TensorShapeProto *sh = vi->type->tensor_type->shape;
        for (size_t d = 0; d < sh->n_dim; d++) {
            if (k == 0 && d == 1) continue; /* channels stay fixed */
            sh->dim[d]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            sh->dim[d]->dim_param = sym;
        }
    }
    size_t n_vi = g->n_value_info;
    g->n_value_info = 0;
    fz_model out;
    out.len = onnx__model_proto__get_packed_size(m);
    uint8_t *buf = malloc(out.len);
    if (!buf) abort();
    onnx__model_proto__pack(m, buf);
    out.bytes = buf;
    /* undo the borrowed strings before protobuf-c frees the message */
    g->n_value_info = n_vi;
    for (size_t k = 0; k < g->n_input + g->n_output; k++) {
        Onnx__ValueInfoProto *vi = k < g->n_input ? g->input[k] : g->output[k - g->n_input];
        Onnx__TensorShapeProto *sh = vi->type->tensor_type->shape;
        for (size_t d = 0; d < sh->n_dim; d++)
            if (sh->dim[d]->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
                sh->dim[d]->dim_param == sym) {
                sh->dim[d]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
                sh->dim[d]->dim_value = 1;
            }
    }
    onnx__model_proto__free_unpacked(m, NULL);
    return out;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fz_models[0] = (fz_model){fz_small_cnn, fz_small_cnn_len};
    fz_models[1] = (fz_model){fz_conv_stack, fz_conv_stack_len};
    fz_models[2] = fz_make_dynamic(fz_small_cnn, fz_small_cnn_len);
    fz_models[3] = fz_make_dynamic(fz_conv_stack, fz_conv_stack_len);
    return 0;
}

typedef struct fz_reader {
    const uint8_t *p, *end;
} fz_reader;

static uint8_t fz_byte(fz_reader *r) {
    return r->p < r->end ? *r->p++ : 0;
}

/* The shape for input info from the reader (see the layout above); false if it is too big. */
static bool fz_shape(fz_reader *r, const minirt_tensor *info, size_t *ndim, int64_t *dims) {
    uint8_t rank = fz_byte(r);
    *ndim = rank & 0x80 ? (size_t)(rank & 0x7f) % (MINIRT_MAX_DIMS + 1) : info->ndim;
    int64_t elems = 1;
    for (size_t d = 0; d < *ndim; d++) {
        int64_t decl = d < info->ndim ? info->dims[d] : -1;
        uint8_t b = fz_byte(r);
        if (decl < 0)
            dims[d] = b % 40;
        else
            dims[d] = b == 0xff ? fz_byte(r) % 64 : decl;
        elems *= dims[d];
        if (elems > FZ_MAX_ELEMS) return false;
    }
    return true;
}

/* Fill n floats cyclically from the bytes left in r (zeros when fewer than 4). */
static void fz_fill(const fz_reader *r, float *x, int64_t n) {
    size_t avail = (size_t)(r->end - r->p) / 4;
    for (int64_t i = 0; i < n; i++) {
        if (avail == 0) {
            x[i] = 0.0f;
            continue;
        }
        memcpy(&x[i], r->p + 4 * ((size_t)i % avail), 4);
    }
}

/* Run once on a shape from r; read the outputs in full on success. */
static void fz_run(minirt_session *s, fz_reader *r, const fz_reader *values) {
    minirt_tensor info;
    if (minirt_get_input_info(s, 0, &info) != MINIRT_OK) __builtin_trap();
    int64_t dims[MINIRT_MAX_DIMS];
    size_t ndim;
    if (!fz_shape(r, &info, &ndim, dims)) return;
    int64_t n = 1;
    for (size_t d = 0; d < ndim; d++)
        n *= dims[d];
    float *x = malloc((size_t)(n ? n : 1) * sizeof(float));
    if (!x) return;
    fz_fill(values, x, n);
    minirt_tensor in = {NULL, MINIRT_FLOAT32, ndim, dims, x};
    if (minirt_run(s, &in, 1) == MINIRT_OK) {
        volatile float sink = 0;
        for (size_t i = 0; i < minirt_output_count(s); i++) {
            minirt_tensor out;
            if (minirt_get_output(s, i, &out) != MINIRT_OK) __builtin_trap();
            int64_t m = 1;
            for (size_t d = 0; d < out.ndim; d++)
                m *= out.dims[d];
            for (int64_t k = 0; k < m; k++)
                sink += ((const float *)out.data)[k];
        }
        (void)sink;
    } else if (!minirt_errmsg(s)[0]) {
        __builtin_trap();
    }
    free(x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_reader r = {data, data + size};
    uint8_t b0 = fz_byte(&r);
    const fz_model *m = &fz_models[b0 & 3];
    minirt_options o;
    minirt_options_init(&o);
    o.threads = 1;
    o.optimize = (b0 >> 2 & 3) > 2 ? 2 : b0 >> 2 & 3;
    minirt_session *s = NULL;
    if (minirt_open_memory(m->bytes, m->len, &o, &s) != MINIRT_OK) __builtin_trap();
    /* the shape bytes come first; the values are what follows them */
    fz_reader shapes = r;
    size_t header = 1 + 2 * (MINIRT_MAX_DIMS + 1);
    if (b0 & 0x10) header *= 2;
    fz_reader values = {r.p + ((size_t)(r.end - r.p) < header ? (size_t)(r.end - r.p) : header),
                        r.end};
    fz_run(s, &shapes, &values);
    if (b0 & 0x10) fz_run(s, &shapes, &values);
    minirt_close(s);
    return 0;
}
