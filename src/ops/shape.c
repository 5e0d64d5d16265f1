/*
 * shape.c - operators that move data without changing it: Flatten, Identity, Reshape, Squeeze,
 * Unsqueeze, Dropout (inference), Expand, Shape and Size. (Cast, ConstantOfShape and Range, which
 * make new element values, are in generate.c.)
 *
 * Every op handles any element type minirt stores (float32, float64, int32, int64, int8, uint8,
 * bool). Ops that only relabel the shape copy the input's bytes unchanged (C order is kept). Values
 * that decide an output's shape (Reshape's shape, Squeeze and Unsqueeze axes, Expand's shape) must
 * be known at plan time: a constant, or a value the session folded from constants and input shapes.
 */
#include <stdio.h>
#include <string.h>

#include "mr.h"

/* ---- shared helpers ---- */

static mr_status mr_shape_check_dtype(mr_ctx *ctx, const mr_node *node, const mr_tensor *x) {
    if (mr_dtype_size(x->dtype) == 0)
        return mr_node_error(ctx, node, MINIRT_ERR_UNSUPPORTED, "input has unsupported type %s",
                             mr_dtype_name(x->dtype));
    return MINIRT_OK;
}

/* An INTS attribute into out[0..MR_MAX_DIMS); *present tells an empty list from an absent one.
 * More values than the maximum rank is a LIMIT error. */
static mr_status mr_shape_attr_ints(mr_ctx *ctx, const mr_node *node, const char *name,
                                    int64_t *out, int *n, bool *present) {
    const mr_attr *a = mr_attr_find(node, name);
    *present = a != NULL;
    *n = 0;
    if (a && a->type == MR_ATTR_INTS && a->n > MR_MAX_DIMS)
        return mr_node_error(ctx, node, MINIRT_ERR_LIMIT,
                             "attribute '%s' has %zu values; minirt handles at most rank %d", name,
                             a->n, MR_MAX_DIMS);
    return mr_attr_ints(ctx, node, name, out, MR_MAX_DIMS, n);
}

/* A MODEL error when `name` is set at an opset where it does not exist (it moved or was removed,
 * so ignoring it would silently change the result). */
static mr_status mr_shape_reject_attr(mr_ctx *ctx, const mr_node *node, const char *name,
                                      const char *why) {
    if (mr_attr_find(node, name))
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                             "attribute '%s' %s (the model has opset %d)", name, why, node->opset);
    return MINIRT_OK;
}

/* y[0..n) = n copies of the es-byte element at elem. */
static void mr_shape_fill(void *y, const void *elem, size_t es, int64_t n) {
    if (es == 1) {
        memset(y, *(const unsigned char *)elem, (size_t)n);
    } else if (es == 4) {
        uint32_t v, *p = y;
        memcpy(&v, elem, 4);
        for (int64_t i = 0; i < n; i++)
            p[i] = v;
    } else {
        uint64_t v, *p = y;
        memcpy(&v, elem, 8);
        for (int64_t i = 0; i < n; i++)
            p[i] = v;
    }
}

/* Y = X byte for byte (the output has the input's element count). */
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
typedef struct mr_shape_flatten_params {
    int64_t axis;
} mr_shape_flatten_params;

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
    node->workspace = 0;
    return mr_set_output(ctx, node, out[0], x->dtype, 2, y);
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
    .flags = MR_OP_INPLACE, /* a view: out[0] may share in[0]'s buffer */
    .types = MR_TYPES_ALL,
};

/* ---- Identity ----
 * Y = X: same type, shape and bytes. (Opset 16 also allows sequences and optionals, which minirt
 * does not have.)
 * https://onnx.ai/onnx/operators/onnx__Identity.html
 */
static mr_status mr_identity_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                                   mr_tensor *const *out) {
    const mr_tensor *x = in[0];
    mr_status st = mr_shape_check_dtype(ctx, node, x);
    if (st != MINIRT_OK) return st;
    node->workspace = 0;
    return mr_set_output(ctx, node, out[0], x->dtype, x->ndim, x->dims);
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
    .flags = MR_OP_INPLACE, /* a view: out[0] may share in[0]'s buffer */
    .types = MR_TYPES_ALL,
};

/* ---- Reshape ----
 * Y = X with a new shape of the same element count. The target comes from the `shape` attribute
 * (opsets 1-4) or the int64 `shape` input (5+). A 0 entry copies the input's extent at that index
 * (unless allowzero=1, opset 14, where 0 means 0 and -1 may then not appear); one -1 entry takes
 * whatever extent makes the counts match.
 * https://onnx.ai/onnx/operators/onnx__Reshape.html
 */
typedef struct mr_shape_reshape_params {
    int n; /* opsets 1-4: the attribute's target shape */
    int64_t shape[MR_MAX_DIMS];
    int64_t allowzero;
} mr_shape_reshape_params;

static mr_status mr_reshape_prepare(mr_ctx *ctx, mr_node *node) {
    mr_shape_reshape_params *p = mr_calloc(ctx, 1, sizeof(*p));
    if (!p) return mr_nomem(ctx);
    node->params = p;
    mr_status st;
    if (node->opset < 5) {
        bool present;
        if ((st = mr_shape_attr_ints(ctx, node, "shape", p->shape, &p->n, &present)) != MINIRT_OK)
            return st;
        if (!present)
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                 "attribute 'shape' is required before opset 5");
    } else if ((st = mr_shape_reject_attr(ctx, node, "shape", "became an input in opset 5")) !=
               MINIRT_OK) {
        return st;
    }
    if (node->opset >= 14) {
        if ((st = mr_attr_int(ctx, node, "allowzero", 0, &p->allowzero)) != MINIRT_OK) return st;
        if (p->allowzero != 0 && p->allowzero != 1)
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                 "allowzero is %lld; it must be 0 or 1", (long long)p->allowzero);
    } else if ((st = mr_shape_reject_attr(ctx, node, "allowzero", "needs opset 14")) != MINIRT_OK) {
        return st;
    }
    return MINIRT_OK;
}

static mr_status mr_reshape_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                                  mr_tensor *const *out) {
    const mr_shape_reshape_params *p = node->params;
    const mr_tensor *x = in[0];
    int64_t s[MR_MAX_DIMS], y[MR_MAX_DIMS];
    int n = p->n;
    char xb[160], sb[160];
    mr_status st = mr_shape_check_dtype(ctx, node, x);
    if (st != MINIRT_OK) return st;
    memcpy(s, p->shape, sizeof(s));
    if (node->opset >= 5 &&
        (st = mr_read_ints(ctx, node, "input 'shape'", in[1], s, MR_MAX_DIMS, &n)) != MINIRT_OK)
        return st;
    mr_dims_str(xb, sizeof(xb), x->ndim, x->dims);
    mr_dims_str(sb, sizeof(sb), n, s);
    int infer_at = -1;
    bool has_zero = false;
    int64_t known = 1;
    for (int i = 0; i < n; i++) {
        y[i] = s[i];
        if (s[i] == -1) {
            if (infer_at >= 0)
                return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                     "target shape [%s] has more than one -1 (at %d and %d)", sb,
                                     infer_at, i);
            infer_at = i;
            continue;
        }
        if (s[i] < -1)
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                 "target shape [%s] has %lld at index %d", sb, (long long)s[i], i);
        if (s[i] == 0 && !p->allowzero) {
            if (i >= x->ndim)
                return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                     "target shape [%s] copies input extent %d with 0, but the "
                                     "input %s has rank %d",
                                     sb, i, xb, x->ndim);
            y[i] = x->dims[i];
        }
        if (y[i] == 0) has_zero = true;
        if (!mr_mul_i64(known, y[i], &known))
            return mr_node_error(ctx, node, MINIRT_ERR_LIMIT, "target shape [%s] overflows", sb);
    }
    if (p->allowzero && has_zero && infer_at >= 0)
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                             "target shape [%s] has both 0 and -1, which allowzero=1 forbids", sb);
    int64_t count = mr_numel(x);
    if (infer_at >= 0) {
        if (known == 0)
            return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                                 "cannot reshape input %s to [%s]: the other extents multiply to "
                                 "0, so the -1 extent is ambiguous",
                                 xb, sb);
        if (count % known != 0)
            return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                                 "cannot reshape input %s (%lld elements) to [%s]: the -1 extent "
                                 "is not a whole number",
                                 xb, (long long)count, sb);
        y[infer_at] = count / known;
    } else if (known != count) {
        return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                             "cannot reshape input %s (%lld elements) to [%s] (%lld elements)", xb,
                             (long long)count, sb, (long long)known);
    }
    node->workspace = 0;
    return mr_set_output(ctx, node, out[0], x->dtype, n, y);
}

const mr_op mr_op_reshape_1 = {
    .domain = "",
    .op_type = "Reshape",
    .since = 1,
    .until = 4,
    .min_inputs = 1,
    .max_inputs = 1,
    .min_outputs = 1,
    .max_outputs = 1,
    .prepare = mr_reshape_prepare,
    .infer = mr_reshape_infer,
    .run = mr_shape_copy,
    .flags = MR_OP_INPLACE, /* a view: out[0] may share in[0]'s buffer */
    .types = MR_TYPES_ALL,
};

const mr_op mr_op_reshape = {
    .domain = "",
    .op_type = "Reshape",
    .since = 5,
    .until = 21,
    .min_inputs = 2,
    .max_inputs = 2,
    .min_outputs = 1,
    .max_outputs = 1,
    .prepare = mr_reshape_prepare,
    .infer = mr_reshape_infer,
    .run = mr_shape_copy,
    .flags = MR_OP_INPLACE, /* a view: out[0] may share in[0]'s buffer */
    .plan_inputs = 1u << 1 /* shape */,
    .types = MR_TYPES_ALL,
};

/* ---- Squeeze / Unsqueeze ----
 * Squeeze removes the listed size-1 axes (all of them when none are listed); Unsqueeze inserts
 * size-1 axes at the listed positions, which index the OUTPUT. The axes are an attribute before
 * opset 13 (non-negative before 11) and an int64 input from 13 (optional for Squeeze).
 * https://onnx.ai/onnx/operators/onnx__Squeeze.html
 * https://onnx.ai/onnx/operators/onnx__Unsqueeze.html
 */
typedef struct mr_shape_axes_params {
    int n; /* before opset 13: the attribute's axes */
    int64_t axes[MR_MAX_DIMS];
} mr_shape_axes_params;

static mr_status mr_axes_prepare(mr_ctx *ctx, mr_node *node, bool required) {
    mr_shape_axes_params *p = mr_calloc(ctx, 1, sizeof(*p));
    if (!p) return mr_nomem(ctx);
    node->params = p;
    if (node->opset >= 13)
        return mr_shape_reject_attr(ctx, node, "axes", "became an input in opset 13");
    bool present;
    mr_status st = mr_shape_attr_ints(ctx, node, "axes", p->axes, &p->n, &present);
    if (st != MINIRT_OK) return st;
    if (required && !present)
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL, "attribute 'axes' is required");
    for (int i = 0; i < p->n; i++)
        if (p->axes[i] < 0 && node->opset < 11)
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                 "axes[%d] is %lld; negative axes need opset 11 (the model has "
                                 "opset %d)",
                                 i, (long long)p->axes[i], node->opset);
    return MINIRT_OK;
}

static mr_status mr_squeeze_prepare(mr_ctx *ctx, mr_node *node) {
    return mr_axes_prepare(ctx, node, false);
}

static mr_status mr_unsqueeze_prepare(mr_ctx *ctx, mr_node *node) {
    return mr_axes_prepare(ctx, node, true);
}

/* The axes from the attribute (before opset 13) or the input axes_in (NULL when absent) into
 * axes[0..*n). */
static mr_status mr_axes_get(mr_ctx *ctx, const mr_node *node, const mr_tensor *axes_in,
                             int64_t *axes, int *n) {
    const mr_shape_axes_params *p = node->params;
    if (node->opset >= 13 && axes_in)
        return mr_read_ints(ctx, node, "input 'axes'", axes_in, axes, MR_MAX_DIMS, n);
    memcpy(axes, p->axes, sizeof(p->axes));
    *n = node->opset >= 13 ? 0 : p->n;
    return MINIRT_OK;
}

/* axes[0..n) normalised for `rank`, as a mask; a repeated axis is a MODEL error. */
static mr_status mr_axes_mask(mr_ctx *ctx, const mr_node *node, const int64_t *axes, int n,
                              int rank, bool *mask) {
    memset(mask, 0, MR_MAX_DIMS * sizeof(bool));
    for (int i = 0; i < n; i++) {
        int a;
        char what[32];
        snprintf(what, sizeof(what), "axes[%d]", i);
        mr_status st = mr_norm_axis(ctx, node, what, axes[i], rank, &a);
        if (st != MINIRT_OK) return st;
        if (mask[a])
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL, "axes[%d] = %lld repeats axis %d", i,
                                 (long long)axes[i], a);
        mask[a] = true;
    }
    return MINIRT_OK;
}

static mr_status mr_squeeze_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                                  mr_tensor *const *out) {
    const mr_tensor *x = in[0];
    bool mask[MR_MAX_DIMS];
    int n;
    int64_t axes[MR_MAX_DIMS], y[MR_MAX_DIMS];
    char xb[160];
    mr_status st = mr_shape_check_dtype(ctx, node, x);
    if (st != MINIRT_OK) return st;
    if ((st = mr_axes_get(ctx, node, node->n_in > 1 ? in[1] : NULL, axes, &n)) != MINIRT_OK ||
        (st = mr_axes_mask(ctx, node, axes, n, x->ndim, mask)) != MINIRT_OK)
        return st;
    int r = 0;
    for (int d = 0; d < x->ndim; d++) {
        if (n == 0 ? x->dims[d] == 1 : mask[d]) {
            if (x->dims[d] != 1)
                return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                                     "cannot squeeze axis %d of input %s: its extent is %lld, "
                                     "not 1",
                                     d, mr_dims_str(xb, sizeof(xb), x->ndim, x->dims),
                                     (long long)x->dims[d]);
            continue;
        }
        y[r++] = x->dims[d];
    }
    node->workspace = 0;
    return mr_set_output(ctx, node, out[0], x->dtype, r, y);
}

static mr_status mr_unsqueeze_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                                    mr_tensor *const *out) {
    const mr_tensor *x = in[0];
    bool mask[MR_MAX_DIMS];
    int n;
    int64_t axes[MR_MAX_DIMS], y[MR_MAX_DIMS];
    mr_status st = mr_shape_check_dtype(ctx, node, x);
    if (st != MINIRT_OK) return st;
    if ((st = mr_axes_get(ctx, node, node->opset >= 13 ? in[1] : NULL, axes, &n)) != MINIRT_OK)
        return st;
    if (x->ndim + n > MR_MAX_DIMS)
        return mr_node_error(ctx, node, MINIRT_ERR_LIMIT,
                             "inserting %d axes into rank %d exceeds the maximum rank %d", n,
                             x->ndim, MR_MAX_DIMS);
    int r = x->ndim + n;
    if ((st = mr_axes_mask(ctx, node, axes, n, r, mask)) != MINIRT_OK) return st;
    for (int d = 0, k = 0; d < r; d++)
        y[d] = mask[d] ? 1 : x->dims[k++];
    node->workspace = 0;
    return mr_set_output(ctx, node, out[0], x->dtype, r, y);
}

#define MR_SHAPE_AXES_OP(SYM, NAME, SINCE, UNTIL, MIN_IN, MAX_IN, PREP, INFER)                     \
    const mr_op SYM = {                                                                            \
        .domain = "",                                                                              \
        .op_type = NAME,                                                                           \
        .since = SINCE,                                                                            \
        .until = UNTIL,                                                                            \
        .min_inputs = MIN_IN,                                                                      \
        .max_inputs = MAX_IN,                                                                      \
        .min_outputs = 1,                                                                          \
        .max_outputs = 1,                                                                          \
        .prepare = PREP,                                                                           \
        .infer = INFER,                                                                            \
        .run = mr_shape_copy,                                                                      \
        .flags = MR_OP_INPLACE, /* a view: out[0] may share in[0]'s buffer */                      \
        .plan_inputs = 1u << 1, /* axes (an input from opset 13) */                                \
        .types = MR_TYPES_ALL,                                                                     \
    };
MR_SHAPE_AXES_OP(mr_op_squeeze_1, "Squeeze", 1, 12, 1, 1, mr_squeeze_prepare, mr_squeeze_infer)
MR_SHAPE_AXES_OP(mr_op_squeeze, "Squeeze", 13, 21, 1, 2, mr_squeeze_prepare, mr_squeeze_infer)
MR_SHAPE_AXES_OP(mr_op_unsqueeze_1, "Unsqueeze", 1, 12, 1, 1, mr_unsqueeze_prepare,
                 mr_unsqueeze_infer)
MR_SHAPE_AXES_OP(mr_op_unsqueeze, "Unsqueeze", 13, 21, 2, 2, mr_unsqueeze_prepare,
                 mr_unsqueeze_infer)

/* ---- Dropout (inference) ----
 * Y = X; the optional mask is all "kept": bool true from opset 10, before that the input's type
 * with value 1. Opsets 1-6 have is_test (default 0, which asks for training); minirt runs the
 * test-mode form regardless, because exporters of that era routinely left is_test unset on eval
 * graphs. From opset 12 an optional bool input training_mode selects training, which is not
 * supported; the optional ratio input and the seed attribute do not matter at inference.
 * https://onnx.ai/onnx/operators/onnx__Dropout.html
 */
typedef struct mr_shape_dropout_params {
    bool mask_bool;
} mr_shape_dropout_params;

static mr_status mr_dropout_prepare(mr_ctx *ctx, mr_node *node) {
    mr_shape_dropout_params *p = mr_calloc(ctx, 1, sizeof(*p));
    if (!p) return mr_nomem(ctx);
    node->params = p;
    p->mask_bool = node->opset >= 10;
    mr_status st;
    if (node->opset < 7) {
        int64_t is_test;
        if ((st = mr_attr_int(ctx, node, "is_test", 0, &is_test)) != MINIRT_OK) return st;
    } else if ((st = mr_shape_reject_attr(ctx, node, "is_test", "was removed in opset 7")) !=
               MINIRT_OK) {
        return st;
    }
    if (node->opset < 12) {
        float ratio;
        return mr_attr_float(ctx, node, "ratio", 0.5f, &ratio);
    }
    return mr_shape_reject_attr(ctx, node, "ratio", "became an input in opset 12");
}

/* A training_mode input that is known and true cannot be run. */
static mr_status mr_dropout_check_mode(mr_ctx *ctx, const mr_node *node, const mr_tensor *t) {
    if (!t || !t->data || mr_numel(t) != 1) return MINIRT_OK;
    if (*(const unsigned char *)t->data)
        return mr_node_error(ctx, node, MINIRT_ERR_UNSUPPORTED,
                             "training_mode is true; minirt runs Dropout for inference only");
    return MINIRT_OK;
}

static mr_status mr_dropout_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                                  mr_tensor *const *out) {
    const mr_shape_dropout_params *p = node->params;
    const mr_tensor *x = in[0];
    mr_status st = mr_shape_check_dtype(ctx, node, x);
    if (st != MINIRT_OK) return st;
    const mr_tensor *mode = node->n_in > 2 ? in[2] : NULL;
    if (mode) {
        char b[160];
        if (mode->dtype != MINIRT_BOOL || mr_numel(mode) != 1 || mode->ndim > 1)
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                 "input 'training_mode' must be a bool scalar, not %s of shape %s",
                                 mr_dtype_name(mode->dtype),
                                 mr_dims_str(b, sizeof(b), mode->ndim, mode->dims));
        if ((st = mr_dropout_check_mode(ctx, node, mode)) != MINIRT_OK) return st;
    }
    node->workspace = 0;
    if ((st = mr_set_output(ctx, node, out[0], x->dtype, x->ndim, x->dims)) != MINIRT_OK) return st;
    if (node->n_out > 1 && out[1])
        st = mr_set_output(ctx, node, out[1], p->mask_bool ? MINIRT_BOOL : x->dtype, x->ndim,
                           x->dims);
    return st;
}

static mr_status mr_dropout_run(mr_ctx *ctx, const mr_node *node, mr_tensor *const *in,
                                mr_tensor *const *out, void *ws) {
    /* training_mode may only be known now (a runtime input). */
    mr_status st = mr_dropout_check_mode(ctx, node, node->n_in > 2 ? in[2] : NULL);
    if (st != MINIRT_OK) return st;
    mr_shape_copy(ctx, node, in, out, ws);
    if (node->n_out > 1 && out[1]) {
        const mr_tensor *m = out[1];
        unsigned char one[8];
        float f = 1.0f;
        double d = 1.0;
        int32_t i32 = 1;
        int64_t i64 = 1;
        one[0] = 1; /* bool, int8, uint8 */
        if (m->dtype == MINIRT_FLOAT32) memcpy(one, &f, 4);
        if (m->dtype == MINIRT_FLOAT64) memcpy(one, &d, 8);
        if (m->dtype == MINIRT_INT32) memcpy(one, &i32, 4);
        if (m->dtype == MINIRT_INT64) memcpy(one, &i64, 8);
        mr_shape_fill(m->data, one, mr_dtype_size(m->dtype), mr_numel(m));
    }
    return MINIRT_OK;
}

const mr_op mr_op_dropout_1 = {
    .domain = "",
    .op_type = "Dropout",
    .since = 1,
    .until = 11,
    .min_inputs = 1,
    .max_inputs = 1,
    .min_outputs = 1,
    .max_outputs = 2,
    .prepare = mr_dropout_prepare,
    .infer = mr_dropout_infer,
    .run = mr_dropout_run,
    .types = MR_TYPES_ALL,
};

const mr_op mr_op_dropout = {
    .domain = "",
    .op_type = "Dropout",
    .since = 12,
    .until = 21,
    .min_inputs = 1,
    .max_inputs = 3,
    .min_outputs = 1,
    .max_outputs = 2,
    .prepare = mr_dropout_prepare,
    .infer = mr_dropout_infer,
    .run = mr_dropout_run,
    .types = MR_TYPES_ALL,
};

/* ---- Expand ----
 * Y = X broadcast (numpy, both ways) with the int64 `shape` input: Y's shape is broadcast(X.shape,
 * shape), so a 1 in `shape` keeps X's extent and `shape` may have lower rank than X.
 * Copy plan (infer): Y's size-1 axes dropped, then adjacent axes merged wherever X is contiguous
 * (or broadcast) across both, leaving X's element stride per axis (0 where broadcast). The last
 * axis is one run: a memcpy (stride 1) or a fill (stride 0).
 * https://onnx.ai/onnx/operators/onnx__Expand.html
 */
typedef struct mr_shape_expand_params {
    int rank;
    int64_t dims[MR_MAX_DIMS];
    int64_t stride[MR_MAX_DIMS];
} mr_shape_expand_params;

static mr_status mr_expand_prepare(mr_ctx *ctx, mr_node *node) {
    node->params = mr_calloc(ctx, 1, sizeof(mr_shape_expand_params));
    return node->params ? MINIRT_OK : mr_nomem(ctx);
}

static mr_status mr_expand_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                                 mr_tensor *const *out) {
    mr_shape_expand_params *p = node->params;
    const mr_tensor *x = in[0];
    mr_tensor want;
    int n;
    char b[160];
    mr_status st = mr_shape_check_dtype(ctx, node, x);
    if (st != MINIRT_OK) return st;
    memset(&want, 0, sizeof(want));
    want.dtype = x->dtype;
    if ((st = mr_read_ints(ctx, node, "input 'shape'", in[1], want.dims, MR_MAX_DIMS, &n)) !=
        MINIRT_OK)
        return st;
    want.ndim = n;
    for (int i = 0; i < n; i++)
        if (want.dims[i] < 0)
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                 "input 'shape' is [%s]; extents must not be negative",
                                 mr_dims_str(b, sizeof(b), n, want.dims));
    const mr_tensor *ts[2] = {x, &want};
    int r;
    int64_t y[MR_MAX_DIMS];
    if ((st = mr_broadcast_dims(ctx, node, 2, ts, &r, y)) != MINIRT_OK) return st;
    if ((st = mr_set_output(ctx, node, out[0], x->dtype, r, y)) != MINIRT_OK) return st;
    /* X's strides aligned to Y's axes, then the plan. */
    int64_t xs[MR_MAX_DIMS], step = 1;
    for (int d = r - 1; d >= 0; d--) {
        int xd = d - (r - x->ndim);
        int64_t ext = xd >= 0 ? x->dims[xd] : 1;
        xs[d] = ext == 1 ? 0 : step;
        step *= ext;
    }
    p->rank = 0;
    for (int d = 0; d < r; d++) {
        if (y[d] == 1) continue;
        int k = p->rank;
        if (k > 0 && p->stride[k - 1] == xs[d] * y[d]) {
            p->dims[k - 1] *= y[d];
            p->stride[k - 1] = xs[d];
            continue;
        }
        p->dims[k] = y[d];
        p->stride[k] = xs[d];
        p->rank++;
    }
    if (p->rank == 0) {
        p->rank = 1;
        p->dims[0] = 1;
        p->stride[0] = 0;
    }
    node->workspace = 0;
    return MINIRT_OK;
}

static mr_status mr_expand_run(mr_ctx *ctx, const mr_node *node, mr_tensor *const *in,
                               mr_tensor *const *out, void *ws) {
    (void)ctx;
    (void)ws;
    const mr_shape_expand_params *p = node->params;
    size_t es = mr_dtype_size(in[0]->dtype);
    const char *x = in[0]->data;
    char *y = out[0]->data;
    if (mr_numel(out[0]) == 0) return MINIRT_OK;
    int r = p->rank;
    int64_t inner = p->dims[r - 1], idx[MR_MAX_DIMS] = {0}, off = 0;
    for (;;) {
        if (p->stride[r - 1])
            memcpy(y, x + off * (int64_t)es, (size_t)inner * es);
        else
            mr_shape_fill(y, x + off * (int64_t)es, es, inner);
        y += inner * (int64_t)es;
        /* Odometer over the outer axes, keeping X's offset in step. */
        int d = r - 2;
        for (; d >= 0; d--) {
            off += p->stride[d];
            if (++idx[d] < p->dims[d]) break;
            off -= p->stride[d] * p->dims[d];
            idx[d] = 0;
        }
        if (d < 0) break;
    }
    return MINIRT_OK;
}

const mr_op mr_op_expand = {
    .domain = "",
    .op_type = "Expand",
    .since = 8,
    .until = 21,
    .min_inputs = 2,
    .max_inputs = 2,
    .min_outputs = 1,
    .max_outputs = 1,
    .prepare = mr_expand_prepare,
    .infer = mr_expand_infer,
    .run = mr_expand_run,
    .plan_inputs = 1u << 1 /* shape */,
    .types = MR_TYPES_ALL,
};

/* ---- Shape / Size ----
 * Shape: int64 [k] holding X's extents; from opset 15 only those in [start, end) (negative values
 * count from the end, then both are clamped to [0, rank]; end <= start gives an empty output).
 * Size: int64 scalar, X's element count. Both read only X's shape, so they fold at plan time.
 * https://onnx.ai/onnx/operators/onnx__Shape.html
 * https://onnx.ai/onnx/operators/onnx__Size.html
 */
typedef struct mr_shape_shape_params {
    int64_t start, end;
    bool has_end;
} mr_shape_shape_params;

static mr_status mr_shape_prepare(mr_ctx *ctx, mr_node *node) {
    mr_shape_shape_params *p = mr_calloc(ctx, 1, sizeof(*p));
    if (!p) return mr_nomem(ctx);
    node->params = p;
    mr_status st;
    if (node->opset < 15) {
        if ((st = mr_shape_reject_attr(ctx, node, "start", "needs opset 15")) != MINIRT_OK)
            return st;
        return mr_shape_reject_attr(ctx, node, "end", "needs opset 15");
    }
    p->has_end = mr_attr_find(node, "end") != NULL;
    if ((st = mr_attr_int(ctx, node, "start", 0, &p->start)) != MINIRT_OK) return st;
    return mr_attr_int(ctx, node, "end", 0, &p->end);
}

/* [*s, *e) of X's dims for rank r. */
static void mr_shape_range(const mr_shape_shape_params *p, int r, int *s, int *e) {
    int64_t a = p->start, b = p->has_end ? p->end : r;
    a = a < 0 ? a + r : a;
    b = b < 0 ? b + r : b;
    a = a < 0 ? 0 : a > r ? r : a;
    b = b < 0 ? 0 : b > r ? r : b;
    *s = (int)a;
    *e = (int)(b > a ? b : a);
}

static mr_status mr_shape_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                                mr_tensor *const *out) {
    int s, e;
    mr_shape_range(node->params, in[0]->ndim, &s, &e);
    int64_t k = e - s;
    node->workspace = 0;
    return mr_set_output(ctx, node, out[0], MINIRT_INT64, 1, &k);
}

static mr_status mr_shape_run(mr_ctx *ctx, const mr_node *node, mr_tensor *const *in,
                              mr_tensor *const *out, void *ws) {
    (void)ctx;
    (void)ws;
    int s, e;
    mr_shape_range(node->params, in[0]->ndim, &s, &e);
    int64_t *y = out[0]->data;
    for (int d = s; d < e; d++)
        y[d - s] = in[0]->dims[d];
    return MINIRT_OK;
}

const mr_op mr_op_shape = {
    .domain = "",
    .op_type = "Shape",
    .since = 1,
    .until = 21,
    .min_inputs = 1,
    .max_inputs = 1,
    .min_outputs = 1,
    .max_outputs = 1,
    .prepare = mr_shape_prepare,
    .infer = mr_shape_infer,
    .run = mr_shape_run,
    .flags = MR_OP_SHAPE_ONLY,
    .types = MR_TYPES_ALL,
};

static mr_status mr_size_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                               mr_tensor *const *out) {
    (void)in;
    node->workspace = 0;
    return mr_set_output(ctx, node, out[0], MINIRT_INT64, 0, NULL);
}

static mr_status mr_size_run(mr_ctx *ctx, const mr_node *node, mr_tensor *const *in,
                             mr_tensor *const *out, void *ws) {
    (void)ctx;
    (void)node;
    (void)ws;
    *(int64_t *)out[0]->data = mr_numel(in[0]);
    return MINIRT_OK;
}

const mr_op mr_op_size = {
    .domain = "",
    .op_type = "Size",
    .since = 1,
    .until = 21,
    .min_inputs = 1,
    .max_inputs = 1,
    .min_outputs = 1,
    .max_outputs = 1,
    .prepare = NULL,
    .infer = mr_size_infer,
    .run = mr_size_run,
    .flags = MR_OP_SHAPE_ONLY,
    .types = MR_TYPES_ALL,
};
