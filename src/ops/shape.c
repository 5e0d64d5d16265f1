/*
 * shape.c - operators that change only a tensor's shape, not its elements: Flatten, Identity.
 *
 * Both copy the input's bytes unchanged (C order is kept) into the output, for any element type
 * minirt stores.
 */
#include <string.h>

#include "mr.h"

typedef struct mr_shape_flatten_params {
    int64_t axis;
} mr_shape_flatten_params;

static mr_status mr_shape_check_dtype(mr_ctx *ctx, const mr_node *node, const mr_tensor *x) {
    if (mr_dtype_size(x->dtype) == 0)
        return mr_node_error(ctx, node, MINIRT_ERR_UNSUPPORTED, "input has unsupported type %s",
                             mr_dtype_name(x->dtype));
    return MINIRT_OK;
}

static mr_status mr_shape_copy(mr_ctx *ctx, const mr_node *node, mr_tensor *const *in,
                               mr_tensor *const *out, void *ws) {
    (void)ctx;
    (void)node;
    (void)ws;
    size_t bytes = (size_t)mr_numel(in[0]) * mr_dtype_size(in[0]->dtype);
    if (bytes && out[0]->data != in[0]->data) memcpy(out[0]->data, in[0]->data, bytes);
    return MINIRT_OK;
}

/* ---- Flatten ----
 * X[d0, ..., d(r-1)] -> Y[d0*...*d(axis-1), d(axis)*...*d(r-1)] (an empty product is 1).
 * axis defaults to 1 and lies in [0, r]; from opset 11 it may be negative, in [-r, -1], counting
 * from the end.
 * https://onnx.ai/onnx/operators/onnx__Flatten.html
 */
static mr_status mr_flatten_prepare(mr_ctx *ctx, mr_node *node) {
    int64_t axis;
    mr_status st = mr_attr_int(ctx, node, "axis", 1, &axis);
    if (st != MINIRT_OK) return st;
    if (axis < 0 && node->opset < 11)
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                             "attribute 'axis' is %lld; a negative axis needs opset 11 (the model "
                             "has opset %d)",
                             (long long)axis, node->opset);
    mr_shape_flatten_params *p = mr_alloc(ctx, sizeof(*p));
    if (!p) return mr_nomem(ctx);
    p->axis = axis;
    node->params = p;
    return MINIRT_OK;
}

static mr_status mr_flatten_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                                  mr_tensor *const *out) {
    const mr_shape_flatten_params *p = node->params;
    const mr_tensor *x = in[0];
    char xs[128];
    mr_status st = mr_shape_check_dtype(ctx, node, x);
    if (st != MINIRT_OK) return st;
    mr_dims_str(xs, sizeof(xs), x->ndim, x->dims);
    int64_t r = x->ndim, axis = p->axis < 0 ? p->axis + r : p->axis;
    if (axis < 0 || axis > r)
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                             "attribute 'axis' is %lld but input has shape %s (rank %lld); it "
                             "must be in [%lld, %lld]",
                             (long long)p->axis, xs, (long long)r,
                             (long long)(node->opset >= 11 ? -r : 0), (long long)r);
    /* With a zero extent the input is empty but a partial product can still overflow. */
    int64_t y[2] = {1, 1};
    for (int64_t i = 0; i < r; i++) {
        int64_t *side = i < axis ? &y[0] : &y[1];
        if (!mr_mul_i64(*side, x->dims[i], side))
            return mr_node_error(ctx, node, MINIRT_ERR_LIMIT,
                                 "flattening input of shape %s at axis %lld overflows", xs,
                                 (long long)axis);
    }
    st = mr_shape_bytes(ctx, x->dtype, 2, y, NULL, NULL);
    if (st != MINIRT_OK) return mr_node_error(ctx, node, st, "output: %s", ctx->err);
    out[0]->dtype = x->dtype;
    out[0]->ndim = 2;
    out[0]->dims[0] = y[0];
    out[0]->dims[1] = y[1];
    node->workspace = 0;
    return MINIRT_OK;
}

const mr_op mr_op_flatten = {
    .domain = "",
    .op_type = "Flatten",
    .since = 1,
    .until = 21,
    .min_inputs = 1,
    .max_inputs = 1,
    .min_outputs = 1,
    .max_outputs = 1,
    .prepare = mr_flatten_prepare,
    .infer = mr_flatten_infer,
    .run = mr_shape_copy,
};

/* ---- Identity ----
 * Y = X: same type, shape and bytes.
 * https://onnx.ai/onnx/operators/onnx__Identity.html
 */
static mr_status mr_identity_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                                   mr_tensor *const *out) {
    const mr_tensor *x = in[0];
    mr_status st = mr_shape_check_dtype(ctx, node, x);
    if (st != MINIRT_OK) return st;
    out[0]->dtype = x->dtype;
    out[0]->ndim = x->ndim;
    memcpy(out[0]->dims, x->dims, (size_t)x->ndim * sizeof(int64_t));
    node->workspace = 0;
    return MINIRT_OK;
}

const mr_op mr_op_identity = {
    .domain = "",
    .op_type = "Identity",
    .since = 1,
    .until = 21,
    .min_inputs = 1,
    .max_inputs = 1,
    .min_outputs = 1,
    .max_outputs = 1,
    .prepare = NULL,
    .infer = mr_identity_infer,
    .run = mr_shape_copy,
};
