/*
 * norm.c - normalization: BatchNormalization (inference), InstanceNormalization,
 * LayerNormalization and LRN, for float32 and float64 inputs.
 *
 * Statistics (means, variances, LRN's square sums) and the per-element arithmetic are computed in
 * double, then rounded to the input's type.
 */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "mr.h"

static bool mr_norm_float_type(int dtype) {
    return dtype == MINIRT_FLOAT32 || dtype == MINIRT_FLOAT64;
}

/* Element i of a float32 or float64 tensor, as double. */
static inline double mr_norm_get(const mr_tensor *t, int64_t i) {
    return t->dtype == MINIRT_FLOAT64 ? ((const double *)t->data)[i]
                                      : (double)((const float *)t->data)[i];
}

/* An attribute that exists only in opsets [since, until] is a model error outside them, as in the
 * ONNX checker. */
static mr_status mr_norm_attr_range(mr_ctx *ctx, const mr_node *node, const char *name, int since,
                                    int until) {
    if (!mr_attr_find(node, name) || (node->opset >= since && node->opset <= until))
        return MINIRT_OK;
    if (node->opset < since)
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                             "attribute '%s' exists only from opset %d (the model has opset %d)",
                             name, since, node->opset);
    return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                         "attribute '%s' was removed in opset %d (the model has opset %d)", name,
                         until + 1, node->opset);
}

/* consumed_inputs (opsets 1 to 5) is a legacy in-place hint: its type is checked, its value
 * ignored. */
static mr_status mr_norm_legacy_ints(mr_ctx *ctx, const mr_node *node, const char *name) {
    const mr_attr *a = mr_attr_find(node, name);
    if (!a || a->type == MR_ATTR_INTS) return MINIRT_OK;
    return mr_node_error(ctx, node, MINIRT_ERR_MODEL, "attribute '%s' should be ints", name);
}

/* t (a parameter input) must have X's type. */
static mr_status mr_norm_same_type(mr_ctx *ctx, const mr_node *node, const char *name,
                                   const mr_tensor *t, const mr_tensor *x) {
    if (t->dtype == x->dtype) return MINIRT_OK;
    return mr_node_error(ctx, node, MINIRT_ERR_MODEL, "input %s has type %s but X has type %s",
                         name, mr_dtype_name(t->dtype), mr_dtype_name(x->dtype));
}

static mr_status mr_norm_check_x(mr_ctx *ctx, const mr_node *node, const mr_tensor *x, int min_rank,
                                 const char *layout) {
    char b[160];
    if (!mr_norm_float_type(x->dtype))
        return mr_node_error(ctx, node, MINIRT_ERR_UNSUPPORTED,
                             "input X has type %s; %s supports float32 and float64",
                             mr_dtype_name(x->dtype), node->op_type);
    if (x->ndim < min_rank)
        return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                             "input X has shape %s; it needs rank >= %d (%s)",
                             mr_dims_str(b, sizeof(b), x->ndim, x->dims), min_rank, layout);
    return MINIRT_OK;
}

/* A per-channel parameter must be 1-D of size C. */
static mr_status mr_norm_check_channel(mr_ctx *ctx, const mr_node *node, const char *name,
                                       const mr_tensor *t, const mr_tensor *x, int64_t C) {
    char b1[160], b2[160];
    if (t->ndim == 1 && t->dims[0] == C) return MINIRT_OK;
    return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                         "input %s has shape %s; X has shape %s, so it must have shape %lld", name,
                         mr_dims_str(b1, sizeof(b1), t->ndim, t->dims),
                         mr_dims_str(b2, sizeof(b2), x->ndim, x->dims), (long long)C);
}

static void mr_norm_same_shape(mr_tensor *y, const mr_tensor *x) {
    y->dtype = x->dtype;
    y->ndim = x->ndim;
    memcpy(y->dims, x->dims, (size_t)x->ndim * sizeof(int64_t));
}

/* ---- BatchNormalization (inference) ----
 * https://onnx.ai/onnx/operators/onnx__BatchNormalization.html
 * Y[n, c, s] = scale[c] * (X[n, c, s] - mean[c]) / sqrt(var[c] + epsilon) + B[c], computed in
 * double as (X - mean) * a + B with a = scale / sqrt(var + epsilon) per channel (not X * a + b,
 * which loses digits to cancellation when var + epsilon is small).
 * Opsets: 1 (consumed_inputs, is_test, spatial), 6 (is_test, spatial), 7 (spatial), 9, 14
 * (training_mode; mean/var may have their own type), 15 (scale/B and mean/var types independent).
 * The mode follows the spec's output cases: the extra outputs (running or saved statistics) exist
 * only in training mode, which minirt does not run; with Y alone it is inference, whatever is_test
 * says. spatial = 0 (opsets < 9) takes per-element statistics of shape X.shape[1:].
 * From opset 9 a 1-D X of size N is read as N x 1 (C = 1).
 */

typedef struct mr_bn_params {
    float epsilon;
    bool spatial;
    int64_t N, C, S; /* infer: batch, channels, spatial size */
} mr_bn_params;

static mr_status mr_bn_prepare(mr_ctx *ctx, mr_node *node) {
    mr_status st;
    if ((st = mr_norm_attr_range(ctx, node, "consumed_inputs", 1, 5)) != MINIRT_OK ||
        (st = mr_norm_attr_range(ctx, node, "is_test", 1, 6)) != MINIRT_OK ||
        (st = mr_norm_attr_range(ctx, node, "spatial", 1, 8)) != MINIRT_OK ||
        (st = mr_norm_attr_range(ctx, node, "training_mode", 14, INT_MAX)) != MINIRT_OK)
        return st;
    mr_bn_params p;
    memset(&p, 0, sizeof(p));
    int64_t spatial, training_mode, is_test;
    float momentum;
    if ((st = mr_norm_legacy_ints(ctx, node, "consumed_inputs")) != MINIRT_OK ||
        (st = mr_attr_float(ctx, node, "epsilon", 1e-5f, &p.epsilon)) != MINIRT_OK ||
        (st = mr_attr_float(ctx, node, "momentum", 0.9f, &momentum)) != MINIRT_OK ||
        (st = mr_attr_int(ctx, node, "spatial", 1, &spatial)) != MINIRT_OK ||
        (st = mr_attr_int(ctx, node, "is_test", 0, &is_test)) != MINIRT_OK ||
        (st = mr_attr_int(ctx, node, "training_mode", 0, &training_mode)) != MINIRT_OK)
        return st;
    if (training_mode != 0)
        return mr_node_error(ctx, node, MINIRT_ERR_UNSUPPORTED,
                             "training_mode = %lld: training mode (batch statistics and running "
                             "statistics outputs) is not supported; minirt runs "
                             "BatchNormalization in inference mode (training_mode = 0)",
                             (long long)training_mode);
    p.spatial = spatial != 0;
    mr_bn_params *pp = mr_alloc(ctx, sizeof(*pp));
    if (!pp) return mr_nomem(ctx);
    *pp = p;
    node->params = pp;
    return MINIRT_OK;
}

static mr_status mr_bn_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                             mr_tensor *const *out) {
    mr_bn_params *p = node->params;
    const mr_tensor *x = in[0];
    static const char *const names[5] = {"X", "scale", "B", "mean", "var"};
    char b1[160], b2[160];
    mr_status st = mr_norm_check_x(ctx, node, x, node->opset >= 9 ? 1 : 2, "N, C, ...");
    if (st != MINIRT_OK) return st;
    for (int i = 1; i < node->n_out; i++)
        if (out[i]) {
            if (node->opset >= 14)
                return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                     "output %d (running statistics) exists only in training "
                                     "mode, and training_mode is 0",
                                     i);
            return mr_node_error(ctx, node, MINIRT_ERR_UNSUPPORTED,
                                 "output %d asks for training mode (the spec's output case #1: "
                                 "Y, mean, var, saved_mean, saved_var), which is not supported; "
                                 "inference takes Y alone",
                                 i);
        }
    /* Types: all of X's type before opset 14; at 14 mean/var share a type of their own; from 15
     * scale/B share one too. minirt computes with any mix of float32 and float64. */
    for (int i = 1; i < 5; i++) {
        const mr_tensor *t = in[i];
        if (!mr_norm_float_type(t->dtype))
            return mr_node_error(ctx, node, MINIRT_ERR_UNSUPPORTED,
                                 "input %s has type %s; BatchNormalization supports float32 and "
                                 "float64",
                                 names[i], mr_dtype_name(t->dtype));
        const mr_tensor *ref = node->opset < 14 || (node->opset < 15 && i < 3) ? x
                               : i == 2                                        ? in[1]
                               : i == 4                                        ? in[3]
                                                                               : NULL;
        if (ref && t->dtype != ref->dtype)
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                 "input %s has type %s but %s has type %s (opset %d)", names[i],
                                 mr_dtype_name(t->dtype), ref == x ? "X" : names[i - 1],
                                 mr_dtype_name(ref->dtype), node->opset);
    }
    p->N = x->dims[0];
    p->C = x->ndim >= 2 ? x->dims[1] : 1;
    p->S = 1;
    for (int i = 2; i < x->ndim; i++)
        p->S *= x->dims[i];
    for (int i = 1; i < 5; i++) {
        const mr_tensor *t = in[i];
        if (p->spatial) {
            if ((st = mr_norm_check_channel(ctx, node, names[i], t, x, p->C)) != MINIRT_OK)
                return st;
        } else if (t->ndim != x->ndim - 1 ||
                   memcmp(t->dims, x->dims + 1, (size_t)t->ndim * sizeof(int64_t)) != 0) {
            return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                                 "input %s has shape %s; with spatial = 0 it must match X's "
                                 "shape %s without the batch axis",
                                 names[i], mr_dims_str(b1, sizeof(b1), t->ndim, t->dims),
                                 mr_dims_str(b2, sizeof(b2), x->ndim, x->dims));
        }
    }
    mr_norm_same_shape(out[0], x);
    node->workspace = 0;
    return MINIRT_OK;
}

/* X[N][C][S] -> Y alike; the parameters have C entries (spatial) or C * S (spatial = 0). */
#define MR_BN_KERNEL(NAME, T)                                                                      \
    static void NAME(const mr_bn_params *p, mr_tensor *const *in, T *y) {                          \
        const T *x = in[0]->data;                                                                  \
        int64_t S = p->S, step = p->spatial ? S : 1; /* elements sharing one parameter */          \
        for (int64_t n = 0; n < p->N; n++) {                                                       \
            for (int64_t c = 0; c < p->C; c++, x += S, y += S) {                                   \
                for (int64_t s0 = 0; s0 < S; s0 += step) {                                         \
                    int64_t s1 = s0 + step, i = p->spatial ? c : c * S + s0;                       \
                    double a =                                                                     \
                        mr_norm_get(in[1], i) / sqrt(mr_norm_get(in[4], i) + (double)p->epsilon);  \
                    double m = mr_norm_get(in[3], i), b = mr_norm_get(in[2], i);                   \
                    for (int64_t s = s0; s < s1; s++)                                              \
                        y[s] = (T)((x[s] - m) * a + b);                                            \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }

MR_BN_KERNEL(mr_norm_bn_f32, float)
MR_BN_KERNEL(mr_norm_bn_f64, double)

static mr_status mr_bn_run(mr_ctx *ctx, const mr_node *node, mr_tensor *const *in,
                           mr_tensor *const *out, void *ws) {
    (void)ctx;
    (void)ws;
    const mr_bn_params *p = node->params;
    if (in[0]->dtype == MINIRT_FLOAT64)
        mr_norm_bn_f64(p, in, out[0]->data);
    else
        mr_norm_bn_f32(p, in, out[0]->data);
    return MINIRT_OK;
}

/* The newest version is 15; nothing changed through 21. */
const mr_op mr_op_batch_normalization = {
    .domain = "",
    .op_type = "BatchNormalization",
    .since = 1,
    .until = 21,
    .min_inputs = 5,
    .max_inputs = 5,
    .min_outputs = 1,
    .max_outputs = 5,
    .prepare = mr_bn_prepare,
    .infer = mr_bn_infer,
    .run = mr_bn_run,
    .flags = MR_OP_INPLACE, /* out[0] may share in[0]'s buffer */
    .types = MR_TYPES_FLOAT,
};

/* ---- InstanceNormalization ----
 * https://onnx.ai/onnx/operators/onnx__InstanceNormalization.html
 * Y[n, c, s] = scale[c] * (X[n, c, s] - mean) / sqrt(var + epsilon) + B[c], with the mean and the
 * (population) variance of the plane X[n, c, :] (two passes in double).
 * Opsets 1 (consumed_inputs) and 6; 22 adds types only.
 */

typedef struct mr_in_params {
    float epsilon;
    int64_t planes, C, S; /* infer */
} mr_in_params;

static mr_status mr_in_prepare(mr_ctx *ctx, mr_node *node) {
    mr_status st;
    mr_in_params p;
    memset(&p, 0, sizeof(p));
    if ((st = mr_norm_attr_range(ctx, node, "consumed_inputs", 1, 5)) != MINIRT_OK ||
        (st = mr_norm_legacy_ints(ctx, node, "consumed_inputs")) != MINIRT_OK ||
        (st = mr_attr_float(ctx, node, "epsilon", 1e-5f, &p.epsilon)) != MINIRT_OK)
        return st;
    mr_in_params *pp = mr_alloc(ctx, sizeof(*pp));
    if (!pp) return mr_nomem(ctx);
    *pp = p;
    node->params = pp;
    return MINIRT_OK;
}

static mr_status mr_in_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                             mr_tensor *const *out) {
    mr_in_params *p = node->params;
    const mr_tensor *x = in[0];
    mr_status st = mr_norm_check_x(ctx, node, x, 3, "N, C and spatial axes");
    if (st != MINIRT_OK) return st;
    p->C = x->dims[1];
    p->planes = x->dims[0] * x->dims[1];
    p->S = 1;
    for (int i = 2; i < x->ndim; i++)
        p->S *= x->dims[i];
    if ((st = mr_norm_same_type(ctx, node, "scale", in[1], x)) != MINIRT_OK ||
        (st = mr_norm_same_type(ctx, node, "B", in[2], x)) != MINIRT_OK ||
        (st = mr_norm_check_channel(ctx, node, "scale", in[1], x, p->C)) != MINIRT_OK ||
        (st = mr_norm_check_channel(ctx, node, "B", in[2], x, p->C)) != MINIRT_OK)
        return st;
    mr_norm_same_shape(out[0], x);
    node->workspace = 0;
    return MINIRT_OK;
}

#define MR_IN_KERNEL(NAME, T)                                                                      \
    static void NAME(const mr_in_params *p, const T *x, const T *scale, const T *bias, T *y) {     \
        int64_t S = p->S;                                                                          \
        for (int64_t pl = 0; pl < p->planes; pl++, x += S, y += S) {                               \
            int64_t c = pl % p->C;                                                                 \
            double mean = 0, var = 0;                                                              \
            for (int64_t s = 0; s < S; s++)                                                        \
                mean += x[s];                                                                      \
            mean /= (double)S;                                                                     \
            for (int64_t s = 0; s < S; s++)                                                        \
                var += (x[s] - mean) * (x[s] - mean);                                              \
            var /= (double)S;                                                                      \
            double a = scale[c] / sqrt(var + (double)p->epsilon), b = bias[c];                     \
            for (int64_t s = 0; s < S; s++)                                                        \
                y[s] = (T)((x[s] - mean) * a + b);                                                 \
        }                                                                                          \
    }

MR_IN_KERNEL(mr_norm_in_f32, float)
MR_IN_KERNEL(mr_norm_in_f64, double)

static mr_status mr_in_run(mr_ctx *ctx, const mr_node *node, mr_tensor *const *in,
                           mr_tensor *const *out, void *ws) {
    (void)ctx;
    (void)ws;
    const mr_in_params *p = node->params;
    if (p->S == 0) return MINIRT_OK; /* empty planes: nothing to write */
    if (in[0]->dtype == MINIRT_FLOAT64)
        mr_norm_in_f64(p, in[0]->data, in[1]->data, in[2]->data, out[0]->data);
    else
        mr_norm_in_f32(p, in[0]->data, in[1]->data, in[2]->data, out[0]->data);
    return MINIRT_OK;
}

const mr_op mr_op_instance_normalization = {
    .domain = "",
    .op_type = "InstanceNormalization",
    .since = 1,
    .until = 21,
    .min_inputs = 3,
    .max_inputs = 3,
    .min_outputs = 1,
    .max_outputs = 1,
    .prepare = mr_in_prepare,
    .infer = mr_in_infer,
    .run = mr_in_run,
    .types = MR_TYPES_FLOAT,
};

/* ---- LayerNormalization (opset 17) ----
 * https://onnx.ai/onnx/operators/onnx__LayerNormalization.html
 * X viewed as [rows][cols] with cols = prod(X.shape[axis:]); per row
 *   Mean = mean(x), InvStdDev = 1 / sqrt(mean((x - Mean)^2) + epsilon),
 *   Y = (x - Mean) * InvStdDev * Scale + B,
 * statistics in double. Scale and the optional B broadcast (unidirectionally) to X; minirt takes
 * the ones that vary only along the normalized axes [axis, rank), the only ones that make sense
 * for layer normalization. A broadcast one is expanded to cols values in the workspace at run.
 * The optional outputs Mean and InvStdDev have shape X.shape[:axis] + [1] * (rank - axis) and type
 * float32 (stash_type 1, the only type the spec allows besides bfloat16).
 */

typedef struct mr_ln_param_plan {
    bool expand;                 /* broadcast: expanded into the workspace at run */
    int64_t stride[MR_MAX_DIMS]; /* per X axis >= axis: 0 when broadcast */
} mr_ln_param_plan;

typedef struct mr_ln_params {
    int64_t axis_attr;
    float epsilon;
    /* infer */
    int axis, rank;
    int64_t rows, cols;
    int64_t dims[MR_MAX_DIMS];
    mr_ln_param_plan scale, bias;
} mr_ln_params;

static mr_status mr_ln_prepare(mr_ctx *ctx, mr_node *node) {
    mr_status st;
    mr_ln_params p;
    memset(&p, 0, sizeof(p));
    int64_t stash_type;
    if ((st = mr_attr_int(ctx, node, "axis", -1, &p.axis_attr)) != MINIRT_OK ||
        (st = mr_attr_float(ctx, node, "epsilon", 1e-5f, &p.epsilon)) != MINIRT_OK ||
        (st = mr_attr_int(ctx, node, "stash_type", 1, &stash_type)) != MINIRT_OK)
        return st;
    if (stash_type != MINIRT_FLOAT32)
        return mr_node_error(
            ctx, node, MINIRT_ERR_UNSUPPORTED,
            "stash_type %lld (%s) is not supported; only 1 (float32)", (long long)stash_type,
            stash_type >= 0 && stash_type <= 16 ? mr_dtype_name((int)stash_type) : "unknown");
    mr_ln_params *pp = mr_alloc(ctx, sizeof(*pp));
    if (!pp) return mr_nomem(ctx);
    *pp = p;
    node->params = pp;
    return MINIRT_OK;
}

/* Check Scale or B (t) against X and plan its broadcast. */
static mr_status mr_ln_plan_param(mr_ctx *ctx, const mr_node *node, const char *name,
                                  const mr_tensor *t, const mr_tensor *x, const mr_ln_params *p,
                                  mr_ln_param_plan *plan) {
    char b1[160], b2[160];
    mr_status st = mr_norm_same_type(ctx, node, name, t, x);
    if (st != MINIRT_OK) return st;
    mr_dims_str(b1, sizeof(b1), t->ndim, t->dims);
    mr_dims_str(b2, sizeof(b2), x->ndim, x->dims);
    if (t->ndim > x->ndim)
        return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                             "input %s has shape %s, of higher rank than X %s", name, b1, b2);
    int off = x->ndim - t->ndim;
    int64_t stride = 1;
    memset(plan, 0, sizeof(*plan));
    for (int i = t->ndim - 1; i >= 0; i--) {
        int xa = off + i;
        int64_t td = t->dims[i], xd = x->dims[xa];
        if (td != xd && td != 1)
            return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                                 "input %s has shape %s, which does not broadcast to X %s "
                                 "(axis %d: %lld vs %lld)",
                                 name, b1, b2, xa, (long long)td, (long long)xd);
        if (xa < p->axis && td != 1)
            return mr_node_error(ctx, node, MINIRT_ERR_UNSUPPORTED,
                                 "input %s has shape %s, which varies along axis %d of X %s, "
                                 "before the first normalized axis %d; only Scale and B over "
                                 "the normalized axes are supported",
                                 name, b1, xa, b2, p->axis);
        if (xa >= p->axis) plan->stride[xa] = td == 1 ? 0 : stride;
        stride *= td;
    }
    plan->expand = stride != p->cols; /* stride = numel(t) */
    return MINIRT_OK;
}

static mr_status mr_ln_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                             mr_tensor *const *out) {
    mr_ln_params *p = node->params;
    const mr_tensor *x = in[0], *scale = in[1], *bias = node->n_in > 2 ? in[2] : NULL;
    mr_status st = mr_norm_check_x(ctx, node, x, 1, "the axes to normalize");
    if (st != MINIRT_OK) return st;
    int r = x->ndim;
    if (p->axis_attr < -r || p->axis_attr > r)
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                             "attribute 'axis' is %lld; for rank %d it must be in [%d, %d]",
                             (long long)p->axis_attr, r, -r, r);
    p->axis = (int)(p->axis_attr < 0 ? p->axis_attr + r : p->axis_attr);
    p->rank = r;
    p->rows = p->cols = 1;
    for (int i = 0; i < r; i++) {
        p->dims[i] = x->dims[i];
        if (i < p->axis)
            p->rows *= x->dims[i];
        else
            p->cols *= x->dims[i];
    }
    if ((st = mr_ln_plan_param(ctx, node, "Scale", scale, x, p, &p->scale)) != MINIRT_OK) return st;
    if (bias && (st = mr_ln_plan_param(ctx, node, "B", bias, x, p, &p->bias)) != MINIRT_OK)
        return st;
    if (!bias) p->bias.expand = false;

    mr_norm_same_shape(out[0], x);
    for (int o = 1; o < 3 && o < node->n_out; o++) {
        if (!out[o]) continue;
        out[o]->dtype = MINIRT_FLOAT32;
        out[o]->ndim = r;
        for (int i = 0; i < r; i++)
            out[o]->dims[i] = i < p->axis ? x->dims[i] : 1;
    }
    /* cols <= numel(X), whose size was checked, so this cannot overflow. */
    size_t es = mr_dtype_size(x->dtype);
    node->workspace = ((size_t)p->scale.expand + (size_t)p->bias.expand) * (size_t)p->cols * es;
    return MINIRT_OK;
}

/* Expand a broadcast Scale or B into cols values laid out like X's normalized axes. */
#define MR_LN_EXPAND(NAME, T)                                                                      \
    static void NAME(const mr_ln_params *p, const mr_ln_param_plan *plan, const T *src, T *dst) {  \
        for (int64_t j = 0; j < p->cols; j++) {                                                    \
            int64_t rem = j, at = 0;                                                               \
            for (int a = p->rank - 1; a >= p->axis; a--) {                                         \
                at += rem % p->dims[a] * plan->stride[a];                                          \
                rem /= p->dims[a];                                                                 \
            }                                                                                      \
            dst[j] = src[at];                                                                      \
        }                                                                                          \
    }

#define MR_LN_KERNEL(NAME, T)                                                                      \
    static void NAME(const mr_ln_params *p, const T *x, const T *scale, const T *bias, T *y,       \
                     float *mean_out, float *inv_out) {                                            \
        int64_t cols = p->cols;                                                                    \
        for (int64_t r = 0; r < p->rows; r++, x += cols, y += cols) {                              \
            double mean = 0, var = 0;                                                              \
            for (int64_t j = 0; j < cols; j++)                                                     \
                mean += x[j];                                                                      \
            mean /= (double)cols;                                                                  \
            for (int64_t j = 0; j < cols; j++)                                                     \
                var += (x[j] - mean) * (x[j] - mean);                                              \
            var /= (double)cols;                                                                   \
            double inv = 1.0 / sqrt(var + (double)p->epsilon);                                     \
            if (mean_out) mean_out[r] = (float)mean;                                               \
            if (inv_out) inv_out[r] = (float)inv;                                                  \
            for (int64_t j = 0; j < cols; j++)                                                     \
                y[j] = (T)((x[j] - mean) * inv * scale[j] + (bias ? bias[j] : 0));                 \
        }                                                                                          \
    }

MR_LN_EXPAND(mr_norm_ln_expand_f32, float)
MR_LN_EXPAND(mr_norm_ln_expand_f64, double)
MR_LN_KERNEL(mr_norm_ln_f32, float)
MR_LN_KERNEL(mr_norm_ln_f64, double)

static mr_status mr_ln_run(mr_ctx *ctx, const mr_node *node, mr_tensor *const *in,
                           mr_tensor *const *out, void *ws) {
    (void)ctx;
    const mr_ln_params *p = node->params;
    const mr_tensor *x = in[0];
    const void *scale = in[1]->data, *bias = node->n_in > 2 && in[2] ? in[2]->data : NULL;
    float *mean = node->n_out > 1 && out[1] ? out[1]->data : NULL;
    float *inv = node->n_out > 2 && out[2] ? out[2]->data : NULL;
    bool f64 = x->dtype == MINIRT_FLOAT64;
    size_t es = f64 ? sizeof(double) : sizeof(float);
    char *w = ws;
    if (p->cols == 0) return MINIRT_OK; /* nothing to normalize; Mean/InvStdDev are empty too */
    if (p->scale.expand) {
        if (f64)
            mr_norm_ln_expand_f64(p, &p->scale, scale, (double *)(void *)w);
        else
            mr_norm_ln_expand_f32(p, &p->scale, scale, (float *)(void *)w);
        scale = w;
        w += (size_t)p->cols * es;
    }
    if (bias && p->bias.expand) {
        if (f64)
            mr_norm_ln_expand_f64(p, &p->bias, bias, (double *)(void *)w);
        else
            mr_norm_ln_expand_f32(p, &p->bias, bias, (float *)(void *)w);
        bias = w;
    }
    if (f64)
        mr_norm_ln_f64(p, x->data, scale, bias, out[0]->data, mean, inv);
    else
        mr_norm_ln_f32(p, x->data, scale, bias, out[0]->data, mean, inv);
    return MINIRT_OK;
}

/* New in opset 17, unchanged since. */
const mr_op mr_op_layer_normalization = {
    .domain = "",
    .op_type = "LayerNormalization",
    .since = 17,
    .until = 21,
    .min_inputs = 2,
    .max_inputs = 3,
    .min_outputs = 1,
    .max_outputs = 3,
    .prepare = mr_ln_prepare,
    .infer = mr_ln_infer,
    .run = mr_ln_run,
    .types = MR_TYPES_FLOAT,
};

/* ---- LRN ----
 * https://onnx.ai/onnx/operators/onnx__LRN.html
 * square_sum[n, c, s] = sum of X[n, i, s]^2 for i in
 *   [max(0, c - floor((size - 1) / 2)), min(C - 1, c + ceil((size - 1) / 2))],
 * Y[n, c, s] = X[n, c, s] / (bias + alpha / size * square_sum[n, c, s])^beta.
 * The square sums of one (n, c) are accumulated in a workspace row of S doubles.
 * Opsets 1 and 13 (types only).
 */

typedef struct mr_lrn_params {
    float alpha, beta, bias;
    int64_t size;
    int64_t N, C, S; /* infer */
} mr_lrn_params;

static mr_status mr_lrn_prepare(mr_ctx *ctx, mr_node *node) {
    mr_status st;
    mr_lrn_params p;
    memset(&p, 0, sizeof(p));
    if ((st = mr_attr_float(ctx, node, "alpha", 1e-4f, &p.alpha)) != MINIRT_OK ||
        (st = mr_attr_float(ctx, node, "beta", 0.75f, &p.beta)) != MINIRT_OK ||
        (st = mr_attr_float(ctx, node, "bias", 1.0f, &p.bias)) != MINIRT_OK ||
        (st = mr_attr_int(ctx, node, "size", 0, &p.size)) != MINIRT_OK)
        return st;
    if (!mr_attr_find(node, "size"))
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL, "attribute 'size' is required");
    if (p.size < 1)
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                             "attribute 'size' is %lld; it must be >= 1", (long long)p.size);
    mr_lrn_params *pp = mr_alloc(ctx, sizeof(*pp));
    if (!pp) return mr_nomem(ctx);
    *pp = p;
    node->params = pp;
    return MINIRT_OK;
}

static mr_status mr_lrn_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                              mr_tensor *const *out) {
    mr_lrn_params *p = node->params;
    const mr_tensor *x = in[0];
    mr_status st = mr_norm_check_x(ctx, node, x, 2, "N, C, ...");
    if (st != MINIRT_OK) return st;
    p->N = x->dims[0];
    p->C = x->dims[1];
    p->S = 1;
    for (int i = 2; i < x->ndim; i++)
        p->S *= x->dims[i];
    mr_norm_same_shape(out[0], x);
    /* S <= numel(X), whose size was checked. */
    node->workspace = (size_t)p->S * sizeof(double);
    return MINIRT_OK;
}

#define MR_LRN_KERNEL(NAME, T)                                                                     \
    static void NAME(const mr_lrn_params *p, const T *x, T *y, double *sq) {                       \
        int64_t C = p->C, S = p->S, before = (p->size - 1) / 2, after = p->size / 2;               \
        double scale = (double)p->alpha / (double)p->size;                                         \
        for (int64_t n = 0; n < p->N; n++) {                                                       \
            const T *xn = x + n * C * S;                                                           \
            T *yn = y + n * C * S;                                                                 \
            for (int64_t c = 0; c < C; c++) {                                                      \
                int64_t lo = c - before < 0 ? 0 : c - before;                                      \
                int64_t hi = after > C - 1 - c ? C - 1 : c + after;                                \
                memset(sq, 0, (size_t)S * sizeof(double));                                         \
                for (int64_t i = lo; i <= hi; i++) {                                               \
                    const T *xi = xn + i * S;                                                      \
                    for (int64_t s = 0; s < S; s++)                                                \
                        sq[s] += (double)xi[s] * xi[s];                                            \
                }                                                                                  \
                const T *xc = xn + c * S;                                                          \
                T *yc = yn + c * S;                                                                \
                for (int64_t s = 0; s < S; s++)                                                    \
                    yc[s] = (T)(xc[s] / pow((double)p->bias + scale * sq[s], (double)p->beta));    \
            }                                                                                      \
        }                                                                                          \
    }

MR_LRN_KERNEL(mr_norm_lrn_f32, float)
MR_LRN_KERNEL(mr_norm_lrn_f64, double)

static mr_status mr_lrn_run(mr_ctx *ctx, const mr_node *node, mr_tensor *const *in,
                            mr_tensor *const *out, void *ws) {
    (void)ctx;
    const mr_lrn_params *p = node->params;
    if (p->S == 0) return MINIRT_OK;
    if (in[0]->dtype == MINIRT_FLOAT64)
        mr_norm_lrn_f64(p, in[0]->data, out[0]->data, ws);
    else
        mr_norm_lrn_f32(p, in[0]->data, out[0]->data, ws);
    return MINIRT_OK;
}

const mr_op mr_op_lrn = {
    .domain = "",
    .op_type = "LRN",
    .since = 1,
    .until = 21,
    .min_inputs = 1,
    .max_inputs = 1,
    .min_outputs = 1,
    .max_outputs = 1,
    .prepare = mr_lrn_prepare,
    .infer = mr_lrn_infer,
    .run = mr_lrn_run,
    .types = MR_TYPES_FLOAT,
};
