/*
 * activation.c - element-wise activations: Relu.
 *
 * Each activation maps X to Y of the same shape and type, element by element, with no workspace.
 */
#include <string.h>

#include "mr.h"

/* ---- Relu ----
 * Y[i] = max(X[i], 0). Written as `x < 0 ? 0 : x` so a NaN passes through (as numpy.maximum does).
 * Opset 1 also had a `consumed_inputs` attribute (a legacy in-place hint), which is ignored.
 * Float types in all opsets; int8/int32/int64 since opset 14.
 * https://onnx.ai/onnx/operators/onnx__Relu.html
 */

static mr_status mr_relu_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                               mr_tensor *const *out) {
    const mr_tensor *x = in[0];
    switch (x->dtype) {
    case MINIRT_FLOAT32:
    case MINIRT_FLOAT64:
        break;
    case MINIRT_INT8:
    case MINIRT_INT32:
    case MINIRT_INT64:
        if (node->opset < 14)
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                 "input X has type %s, which Relu accepts only from opset 14 (the "
                                 "model has opset %d)",
                                 mr_dtype_name(x->dtype), node->opset);
        break;
    default:
        return mr_node_error(ctx, node, MINIRT_ERR_UNSUPPORTED, "input X has unsupported type %s",
                             mr_dtype_name(x->dtype));
    }
    out[0]->dtype = x->dtype;
    out[0]->ndim = x->ndim;
    memcpy(out[0]->dims, x->dims, (size_t)x->ndim * sizeof(x->dims[0]));
    node->workspace = 0;
    return MINIRT_OK;
}

#define MR_RELU_LOOP(T, src, dst, n)                                                               \
    do {                                                                                           \
        const T *x_ = (const T *)(src);                                                            \
        T *y_ = (T *)(dst);                                                                        \
        for (int64_t i_ = 0; i_ < (n); i_++)                                                       \
            y_[i_] = x_[i_] < 0 ? (T)0 : x_[i_];                                                   \
    } while (0)

static mr_status mr_relu_run(mr_ctx *ctx, const mr_node *node, mr_tensor *const *in,
                             mr_tensor *const *out, void *ws) {
    (void)ws;
    int64_t n = mr_numel(in[0]);
    switch (in[0]->dtype) {
    case MINIRT_FLOAT32:
        MR_RELU_LOOP(float, in[0]->data, out[0]->data, n);
        break;
    case MINIRT_FLOAT64:
        MR_RELU_LOOP(double, in[0]->data, out[0]->data, n);
        break;
    case MINIRT_INT8:
        MR_RELU_LOOP(int8_t, in[0]->data, out[0]->data, n);
        break;
    case MINIRT_INT32:
        MR_RELU_LOOP(int32_t, in[0]->data, out[0]->data, n);
        break;
    case MINIRT_INT64:
        MR_RELU_LOOP(int64_t, in[0]->data, out[0]->data, n);
        break;
    default:
        return mr_node_error(ctx, node, MINIRT_ERR_INTERNAL, "type %s reached run",
                             mr_dtype_name(in[0]->dtype));
    }
    return MINIRT_OK;
}

const mr_op mr_op_relu = {
    .domain = "",
    .op_type = "Relu",
    .since = 1,
    .until = 21,
    .min_inputs = 1,
    .max_inputs = 1,
    .min_outputs = 1,
    .max_outputs = 1,
    .prepare = NULL,
    .infer = mr_relu_infer,
    .run = mr_relu_run,
};
