/*
 * inline.h - model-local functions inlined at load (see inline.c). Part of the loader's protobuf
 * edge: only load.c and inline.c include it.
 */
#ifndef MR_INLINE_H
#define MR_INLINE_H

#include "mr.h"
#include "onnx.pb-c.h"

/* The graph's nodes with every call of a model-local function replaced by its body. */
typedef struct mr_flat {
    Onnx__NodeProto **node; /* n nodes, in graph order */
    int64_t *opset;         /* per node: its function's opset for the node's domain; -1 = the
                               model's; NULL when the model has no functions */
    size_t n, cap;
    bool owned;    /* node/opset arrays are ours (not the message's) */
    void **blocks; /* everything synthesized, freed by mr_flat_free */
    size_t n_blocks, cap_blocks;
    int expansions;
} mr_flat;

/* Flatten mp's graph into f; the message must outlive f. */
mr_status mr_inline_functions(mr_ctx *ctx, const Onnx__ModelProto *mp, mr_flat *f);
void mr_flat_free(mr_ctx *ctx, mr_flat *f);

#endif
