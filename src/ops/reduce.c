/*
 * reduce.c - reductions: ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceL2 and ArgMax.
 *
 * The reduced axes are normalised once per shape into a plan: size-1 axes dropped and neighbouring
 * axes of the same kind (kept / reduced) merged. When the plan is [kept][reduced] (reduce the
 * innermost axes, the common case) every output is one contiguous run of the input; otherwise one
 * pass walks the input in order and folds each contiguous innermost run into an accumulator per
 * output. float32 accumulates in double (exact for Max/Min, accurate for Sum/Mean/L2); integers
 * wrap on overflow.
 *
 * Reducing an empty set (a reduced axis of extent 0 with a non-empty output) gives what opset 18
 * defines: Sum and L2 0, Max -inf (the type's minimum for integers), Min +inf (the maximum); Mean,
 * left undefined by the spec, gives NaN (0 / 0).
 */
#include <math.h>
#include <string.h>

#include "mr.h"

enum { MR_REDUCE_SUM, MR_REDUCE_MEAN, MR_REDUCE_MAX, MR_REDUCE_MIN, MR_REDUCE_L2 };

typedef struct mr_reduce_params {
    /* attributes (prepare) */
    int kind;
    bool keepdims;
    bool axes_input; /* ReduceSum from opset 13: axes is the optional input 1 */
    bool noop_with_empty_axes;
    int n_axes; /* the `axes` attribute; 0 = absent or empty (reduce all) */
    int64_t axes[MR_MAX_DIMS];
    /* plan at the current shapes (infer) */
    bool noop; /* empty axes input with noop_with_empty_axes: Y = X */
    bool inner;
    int rank; /* merged axes */
    int64_t dims[MR_MAX_DIMS];
    bool red[MR_MAX_DIMS];
    int64_t ostride[MR_MAX_DIMS]; /* output element stride per merged axis; 0 when reduced */
    int64_t in_n, out_n, count;   /* count = input elements per output */
} mr_reduce_params;

static const char *mr_reduce_name(int kind) {
    static const char *const names[] = {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin",
                                        "ReduceL2"};
    return names[kind];
}

static mr_status mr_reduce_bool_attr(mr_ctx *ctx, const mr_node *node, const char *name,
                                     int64_t def, bool *out) {
    int64_t v;
    mr_status st = mr_attr_int(ctx, node, name, def, &v);
    if (st != MINIRT_OK) return st;
    if (v != 0 && v != 1)
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                             "attribute '%s' is %lld; it must be 0 or 1", name, (long long)v);
    *out = v == 1;
    return MINIRT_OK;
}

/*
 * keepdims (default 1) in every opset. Axes: the `axes` attribute (default: all axes) up to
 * ReduceSum-11 and, for the others, up to opset 17; ReduceSum-13 takes them as the optional int64
 * input 1 with noop_with_empty_axes (default 0): empty or absent axes reduce everything, or with
 * noop_with_empty_axes=1 leave the input unchanged.
 * https://onnx.ai/onnx/operators/onnx__ReduceSum.html
 */
static mr_status mr_reduce_prepare(mr_ctx *ctx, mr_node *node, int kind) {
    mr_reduce_params *p = mr_calloc(ctx, 1, sizeof(*p));
    if (!p) return mr_nomem(ctx);
    node->params = p;
    p->kind = kind;
    mr_status st = mr_reduce_bool_attr(ctx, node, "keepdims", 1, &p->keepdims);
    if (st != MINIRT_OK) return st;
    p->axes_input = kind == MR_REDUCE_SUM && node->opset >= 13;
    if (p->axes_input) {
        if (mr_attr_find(node, "axes"))
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                 "attribute 'axes' was replaced by input 'axes' in opset 13 (the "
                                 "model has opset %d)",
                                 node->opset);
        return mr_reduce_bool_attr(ctx, node, "noop_with_empty_axes", 0, &p->noop_with_empty_axes);
    }
    if (node->n_in > 1)
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                             "%s takes one input at opset %d (axes is an attribute)",
                             mr_reduce_name(kind), node->opset);
    return mr_attr_ints(ctx, node, "axes", p->axes, MR_MAX_DIMS, &p->n_axes);
}

static mr_status mr_reduce_sum_prepare(mr_ctx *ctx, mr_node *node) {
    return mr_reduce_prepare(ctx, node, MR_REDUCE_SUM);
}
static mr_status mr_reduce_mean_prepare(mr_ctx *ctx, mr_node *node) {
    return mr_reduce_prepare(ctx, node, MR_REDUCE_MEAN);
}
static mr_status mr_reduce_max_prepare(mr_ctx *ctx, mr_node *node) {
    return mr_reduce_prepare(ctx, node, MR_REDUCE_MAX);
}
static mr_status mr_reduce_min_prepare(mr_ctx *ctx, mr_node *node) {
    return mr_reduce_prepare(ctx, node, MR_REDUCE_MIN);
}
static mr_status mr_reduce_l2_prepare(mr_ctx *ctx, mr_node *node) {
    return mr_reduce_prepare(ctx, node, MR_REDUCE_L2);
}

/* Mark the reduced axes of x in reduce[] from the axes list (negative counts from the end;
 * duplicates are an error); an empty list marks every axis. */
static mr_status mr_reduce_mark_axes(mr_ctx *ctx, const mr_node *node, const mr_tensor *x,
                                     const int64_t *axes, int n, bool *reduce) {
    for (int i = 0; i < x->ndim; i++)
        reduce[i] = n == 0;
    for (int i = 0; i < n; i++) {
        int a;
        mr_status st = mr_norm_axis(ctx, node, "axis", axes[i], x->ndim, &a);
        if (st != MINIRT_OK) return st;
        if (reduce[a])
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                 "axis %lld appears more than once in axes (axis %d of rank %d)",
                                 (long long)axes[i], a, x->ndim);
        reduce[a] = true;
    }
    return MINIRT_OK;
}

/* Merge x's axes into the plan: drop size-1 axes, join neighbours of the same kind. With no input
 * elements only out_n matters (every output is the empty reduction). */
static void mr_reduce_plan(mr_reduce_params *p, const mr_tensor *x, const bool *reduce,
                           int64_t out_n) {
    int r = 0;
    p->count = 1;
    p->in_n = mr_numel(x);
    p->out_n = out_n;
    p->rank = 0;
    p->inner = true;
    if (p->in_n == 0) return;
    /* every dim >= 1 here, so each product below is bounded by in_n */
    for (int i = 0; i < x->ndim; i++) {
        int64_t d = x->dims[i];
        if (reduce[i]) p->count *= d;
        if (d == 1) continue;
        if (r > 0 && p->red[r - 1] == reduce[i]) {
            p->dims[r - 1] *= d;
            continue;
        }
        p->dims[r] = d;
        p->red[r] = reduce[i];
        r++;
    }
    p->rank = r;
    int64_t s = 1;
    for (int i = r - 1; i >= 0; i--) {
        p->ostride[i] = p->red[i] ? 0 : s;
        if (!p->red[i]) s *= p->dims[i];
    }
    /* [], [kept], [reduced] or [kept][reduced]: output o is the run x[o*count .. (o+1)*count) */
    p->inner = r < 2 || (r == 2 && !p->red[0] && p->red[1]);
}

static mr_status mr_reduce_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                                 mr_tensor *const *out) {
    mr_reduce_params *p = node->params;
    const mr_tensor *x = in[0];
    bool is_int = x->dtype == MINIRT_INT32 || x->dtype == MINIRT_INT64;
    bool is_float = x->dtype == MINIRT_FLOAT32 || x->dtype == MINIRT_FLOAT64;
    if (!is_float && !(is_int && (p->kind == MR_REDUCE_SUM || p->kind == MR_REDUCE_MAX ||
                                  p->kind == MR_REDUCE_MIN)))
        return mr_node_error(
            ctx, node, MINIRT_ERR_UNSUPPORTED,
            "input data has type %s; %s supports float32, float64%s", mr_dtype_name(x->dtype),
            mr_reduce_name(p->kind),
            p->kind == MR_REDUCE_MEAN || p->kind == MR_REDUCE_L2 ? "" : ", int32 and int64");
    int64_t axes[MR_MAX_DIMS];
    int n_axes = p->n_axes;
    memcpy(axes, p->axes, sizeof(axes));
    p->noop = false;
    if (p->axes_input && node->n_in > 1 && in[1]) {
        mr_status st = mr_read_ints(ctx, node, "input 'axes'", in[1], axes, MR_MAX_DIMS, &n_axes);
        if (st != MINIRT_OK) return st;
    }
    if (p->axes_input && n_axes == 0 && p->noop_with_empty_axes) p->noop = true;

    bool reduce[MR_MAX_DIMS];
    mr_status st = mr_reduce_mark_axes(ctx, node, x, axes, n_axes, reduce);
    if (st != MINIRT_OK) return st;
    if (p->noop) memset(reduce, 0, sizeof(reduce));
    int ydim = 0;
    int64_t ydims[MR_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++) {
        if (!reduce[i])
            ydims[ydim++] = x->dims[i];
        else if (p->keepdims)
            ydims[ydim++] = 1;
    }
    int64_t out_n, out_bytes;
    st = mr_shape_bytes(ctx, x->dtype, ydim, ydims, &out_n, &out_bytes);
    if (st != MINIRT_OK) return mr_node_error(ctx, node, st, "output reduced: %s", ctx->err);
    mr_reduce_plan(p, x, reduce, out_n);

    out[0]->dtype = x->dtype;
    out[0]->ndim = ydim;
    memcpy(out[0]->dims, ydims, (size_t)ydim * sizeof(int64_t));
    /* float32 outside the contiguous case accumulates in a double per output. */
    node->workspace = 0;
    if (x->dtype == MINIRT_FLOAT32 && !p->noop && !p->inner && p->in_n > 0)
        node->workspace = (size_t)out_bytes * 2;
    return MINIRT_OK;
}

/*
 * Kernels for element type T accumulating in ACC: ADD and SQ are ACC arithmetic (wrapping for the
 * integers), ISNAN tests an ACC, LOWEST / HIGHEST start Max / Min, EMPTY_MEAN is the mean of
 * nothing. Max and Min propagate NaN, as numpy does.
 */
#define MR_REDUCE_DEFINE(SFX, T, ACC, ADD, SQ, ISNAN, LOWEST, HIGHEST, EMPTY_MEAN)                 \
    static ACC mr_reduce_init_##SFX(int kind) {                                                    \
        return kind == MR_REDUCE_MAX ? (LOWEST) : kind == MR_REDUCE_MIN ? (HIGHEST) : (ACC)0;      \
    }                                                                                              \
    static T mr_reduce_fin_##SFX(int kind, ACC a, int64_t count) {                                 \
        if (kind == MR_REDUCE_MEAN) return count ? (T)(a / (ACC)count) : (EMPTY_MEAN);             \
        if (kind == MR_REDUCE_L2) return (T)sqrt((double)a);                                       \
        return (T)a;                                                                               \
    }                                                                                              \
    /* a folded with the contiguous run x[0..n) */                                                 \
    static ACC mr_reduce_run_##SFX(int kind, ACC a, const T *x, int64_t n) {                       \
        int64_t i = 0;                                                                             \
        if (kind == MR_REDUCE_MAX) {                                                               \
            for (; i < n; i++) {                                                                   \
                ACC v = (ACC)x[i];                                                                 \
                if (v > a || ISNAN(v)) a = v;                                                      \
            }                                                                                      \
            return a;                                                                              \
        }                                                                                          \
        if (kind == MR_REDUCE_MIN) {                                                               \
            for (; i < n; i++) {                                                                   \
                ACC v = (ACC)x[i];                                                                 \
                if (v < a || ISNAN(v)) a = v;                                                      \
            }                                                                                      \
            return a;                                                                              \
        }                                                                                          \
        /* four partial sums: independent chains the CPU can overlap */                            \
        ACC s1 = 0, s2 = 0, s3 = 0;                                                                \
        bool sq = kind == MR_REDUCE_L2;                                                            \
        for (; i + 4 <= n; i += 4) {                                                               \
            ACC v0 = (ACC)x[i], v1 = (ACC)x[i + 1], v2 = (ACC)x[i + 2], v3 = (ACC)x[i + 3];        \
            a = ADD(a, sq ? SQ(v0) : v0);                                                          \
            s1 = ADD(s1, sq ? SQ(v1) : v1);                                                        \
            s2 = ADD(s2, sq ? SQ(v2) : v2);                                                        \
            s3 = ADD(s3, sq ? SQ(v3) : v3);                                                        \
        }                                                                                          \
        for (; i < n; i++) {                                                                       \
            ACC v = (ACC)x[i];                                                                     \
            a = ADD(a, sq ? SQ(v) : v);                                                            \
        }                                                                                          \
        return ADD(ADD(a, s1), ADD(s2, s3));                                                       \
    }                                                                                              \
    /* acc[i] folded with x[i] for i < n */                                                        \
    static void mr_reduce_rows_##SFX(int kind, ACC *acc, const T *x, int64_t n) {                  \
        switch (kind) {                                                                            \
        case MR_REDUCE_MAX:                                                                        \
            for (int64_t i = 0; i < n; i++) {                                                      \
                ACC v = (ACC)x[i];                                                                 \
                if (v > acc[i] || ISNAN(v)) acc[i] = v;                                            \
            }                                                                                      \
            break;                                                                                 \
        case MR_REDUCE_MIN:                                                                        \
            for (int64_t i = 0; i < n; i++) {                                                      \
                ACC v = (ACC)x[i];                                                                 \
                if (v < acc[i] || ISNAN(v)) acc[i] = v;                                            \
            }                                                                                      \
            break;                                                                                 \
        case MR_REDUCE_L2:                                                                         \
            for (int64_t i = 0; i < n; i++)                                                        \
                acc[i] = ADD(acc[i], SQ((ACC)x[i]));                                               \
            break;                                                                                 \
        default:                                                                                   \
            for (int64_t i = 0; i < n; i++)                                                        \
                acc[i] = ADD(acc[i], (ACC)x[i]);                                                   \
            break;                                                                                 \
        }                                                                                          \
    }                                                                                              \
    /* acc: out_n accumulators (may alias y when ACC is T) */                                      \
    static void mr_reduce_##SFX(const mr_reduce_params *p, const T *x, T *y, ACC *acc) {           \
        const int kind = p->kind, r = p->rank;                                                     \
        if (p->in_n == 0) {                                                                        \
            for (int64_t o = 0; o < p->out_n; o++)                                                 \
                y[o] = mr_reduce_fin_##SFX(kind, mr_reduce_init_##SFX(kind), 0);                   \
            return;                                                                                \
        }                                                                                          \
        if (p->inner) {                                                                            \
            for (int64_t o = 0; o < p->out_n; o++)                                                 \
                y[o] = mr_reduce_fin_##SFX(kind,                                                   \
                                           mr_reduce_run_##SFX(kind, mr_reduce_init_##SFX(kind),   \
                                                               x + o * p->count, p->count),        \
                                           p->count);                                              \
            return;                                                                                \
        }                                                                                          \
        for (int64_t o = 0; o < p->out_n; o++)                                                     \
            acc[o] = mr_reduce_init_##SFX(kind);                                                   \
        int64_t idx[MR_MAX_DIMS] = {0}, ox = 0, oy = 0, d = p->dims[r - 1];                        \
        for (;;) {                                                                                 \
            if (p->red[r - 1])                                                                     \
                acc[oy] = mr_reduce_run_##SFX(kind, acc[oy], x + ox, d);                           \
            else                                                                                   \
                mr_reduce_rows_##SFX(kind, acc + oy, x + ox, d);                                   \
            ox += d;                                                                               \
            int k = r - 2;                                                                         \
            for (; k >= 0; k--) {                                                                  \
                oy += p->ostride[k];                                                               \
                if (++idx[k] < p->dims[k]) break;                                                  \
                oy -= p->ostride[k] * p->dims[k];                                                  \
                idx[k] = 0;                                                                        \
            }                                                                                      \
            if (k < 0) break;                                                                      \
        }                                                                                          \
        for (int64_t o = 0; o < p->out_n; o++)                                                     \
            y[o] = mr_reduce_fin_##SFX(kind, acc[o], p->count);                                    \
    }

#define MR_REDUCE_FADD(a, b) ((a) + (b))
#define MR_REDUCE_FSQ(v) ((v) * (v))
#define MR_REDUCE_I32ADD(a, b) ((int32_t)((uint32_t)(a) + (uint32_t)(b)))
#define MR_REDUCE_I32SQ(v) ((int32_t)((uint32_t)(v) * (uint32_t)(v)))
#define MR_REDUCE_I64ADD(a, b) ((int64_t)((uint64_t)(a) + (uint64_t)(b)))
#define MR_REDUCE_I64SQ(v) ((int64_t)((uint64_t)(v) * (uint64_t)(v)))
#define MR_REDUCE_NONAN(v) 0

MR_REDUCE_DEFINE(f32, float, double, MR_REDUCE_FADD, MR_REDUCE_FSQ, isnan, -INFINITY, INFINITY, NAN)
MR_REDUCE_DEFINE(f64, double, double, MR_REDUCE_FADD, MR_REDUCE_FSQ, isnan, -INFINITY, INFINITY,
                 NAN)
MR_REDUCE_DEFINE(i32, int32_t, int32_t, MR_REDUCE_I32ADD, MR_REDUCE_I32SQ, MR_REDUCE_NONAN,
                 INT32_MIN, INT32_MAX, 0)
MR_REDUCE_DEFINE(i64, int64_t, int64_t, MR_REDUCE_I64ADD, MR_REDUCE_I64SQ, MR_REDUCE_NONAN,
                 INT64_MIN, INT64_MAX, 0)

static mr_status mr_reduce_run(mr_ctx *ctx, const mr_node *node, mr_tensor *const *in,
                               mr_tensor *const *out, void *ws) {
    (void)ctx;
    const mr_reduce_params *p = node->params;
    const void *x = in[0]->data;
    void *y = out[0]->data;
    if (p->noop) {
        memcpy(y, x, (size_t)mr_numel(in[0]) * mr_dtype_size(in[0]->dtype));
        return MINIRT_OK;
    }
    switch (in[0]->dtype) {
    case MINIRT_FLOAT32:
        mr_reduce_f32(p, x, y, ws);
        break;
    case MINIRT_FLOAT64:
        mr_reduce_f64(p, x, y, y);
        break;
    case MINIRT_INT32:
        mr_reduce_i32(p, x, y, y);
        break;
    default:
        mr_reduce_i64(p, x, y, y);
        break;
    }
    return MINIRT_OK;
}

/* Opsets: ReduceSum 1, 11 (negative axes), 13 (axes input) and nothing newer, so up to 21. The
 * others changed at 18 (axes input; Max/Min also at 20), so they stop at 17. Negative axes are
 * accepted at every opset. https://onnx.ai/onnx/operators/onnx__ReduceMean.html */
#define MR_REDUCE_OP(NAME, OP_TYPE, UNTIL, MAX_IN, TYPES)                                          \
    const mr_op mr_op_reduce_##NAME = {                                                            \
        .domain = "",                                                                              \
        .op_type = OP_TYPE,                                                                        \
        .since = 1,                                                                                \
        .until = UNTIL,                                                                            \
        .min_inputs = 1,                                                                           \
        .max_inputs = MAX_IN,                                                                      \
        .min_outputs = 1,                                                                          \
        .max_outputs = 1,                                                                          \
        .prepare = mr_reduce_##NAME##_prepare,                                                     \
        .infer = mr_reduce_infer,                                                                  \
        .run = mr_reduce_run,                                                                      \
        .plan_inputs = 1u << 1, /* axes (ReduceSum from opset 13) */                               \
        .types = TYPES,                                                                            \
    };

MR_REDUCE_OP(sum, "ReduceSum", 21, 2, MR_TYPES_F_I32_I64)
MR_REDUCE_OP(mean, "ReduceMean", 17, 1, MR_TYPES_FLOAT)
MR_REDUCE_OP(max, "ReduceMax", 17, 1, MR_TYPES_F_I32_I64)
MR_REDUCE_OP(min, "ReduceMin", 17, 1, MR_TYPES_F_I32_I64)
MR_REDUCE_OP(l2, "ReduceL2", 17, 1, MR_TYPES_FLOAT)

/* ---- ArgMax ----
 * Index (int64) of the largest element along `axis` (default 0; negative from opset 11, accepted
 * at every opset), keepdims (default 1), select_last_index (opset 12, default 0): ties go to the
 * first index, or the last. NaN counts as the largest value (as in numpy). Unchanged since opset 13
 * (which only added bfloat16), so up to 21. https://onnx.ai/onnx/operators/onnx__ArgMax.html
 */
typedef struct mr_argmax_params {
    int64_t axis;
    bool keepdims, last;
    int64_t outer, n, inner; /* X viewed as [outer, n, inner], reducing n (infer) */
} mr_argmax_params;

static mr_status mr_argmax_prepare(mr_ctx *ctx, mr_node *node) {
    mr_argmax_params *p = mr_calloc(ctx, 1, sizeof(*p));
    if (!p) return mr_nomem(ctx);
    node->params = p;
    mr_status st = mr_attr_int(ctx, node, "axis", 0, &p->axis);
    if (st == MINIRT_OK) st = mr_reduce_bool_attr(ctx, node, "keepdims", 1, &p->keepdims);
    if (st != MINIRT_OK) return st;
    if (node->opset < 12) {
        if (mr_attr_find(node, "select_last_index"))
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                 "attribute 'select_last_index' exists from opset 12 (the model "
                                 "has opset %d)",
                                 node->opset);
        return MINIRT_OK;
    }
    return mr_reduce_bool_attr(ctx, node, "select_last_index", 0, &p->last);
}

static mr_status mr_argmax_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                                 mr_tensor *const *out) {
    mr_argmax_params *p = node->params;
    const mr_tensor *x = in[0];
    char b[160];
    if (x->dtype != MINIRT_FLOAT32 && x->dtype != MINIRT_FLOAT64 && x->dtype != MINIRT_INT32 &&
        x->dtype != MINIRT_INT64)
        return mr_node_error(ctx, node, MINIRT_ERR_UNSUPPORTED,
                             "input data has type %s; ArgMax supports float32, float64, int32 and "
                             "int64",
                             mr_dtype_name(x->dtype));
    int axis;
    mr_status st = mr_norm_axis(ctx, node, "axis", p->axis, x->ndim, &axis);
    if (st != MINIRT_OK) return st;
    int ydim = 0;
    int64_t ydims[MR_MAX_DIMS];
    bool empty = mr_numel(x) == 0;
    p->outer = p->inner = 1;
    for (int i = 0; i < x->ndim; i++) {
        if (i != axis)
            ydims[ydim++] = x->dims[i];
        else if (p->keepdims)
            ydims[ydim++] = 1;
        /* bounded by numel(x) when it is not 0; unused (nothing to run) when it is */
        if (i < axis && !empty) p->outer *= x->dims[i];
        if (i > axis && !empty) p->inner *= x->dims[i];
    }
    p->n = x->dims[axis];
    int64_t out_n;
    st = mr_shape_bytes(ctx, MINIRT_INT64, ydim, ydims, &out_n, NULL);
    if (st != MINIRT_OK) return mr_node_error(ctx, node, st, "output reduced: %s", ctx->err);
    if (p->n == 0 && out_n > 0)
        return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                             "input data has shape %s; axis %d is empty, so there is no maximum",
                             mr_dims_str(b, sizeof(b), x->ndim, x->dims), axis);
    out[0]->dtype = MINIRT_INT64;
    out[0]->ndim = ydim;
    memcpy(out[0]->dims, ydims, (size_t)ydim * sizeof(int64_t));
    node->workspace = 0;
    return MINIRT_OK;
}

/*
 * X[outer, n, inner] -> Y[outer, inner]. inner == 1 scans each contiguous run; otherwise the rows
 * x[o, r, :] are walked in order, each compared with the best so far, which is read back from X
 * through the index stored in Y (no scratch). BETTER: v replaces the best b.
 */
#define MR_ARGMAX_DEFINE(SFX, T, ISNAN)                                                            \
    static void mr_argmax_##SFX(const mr_argmax_params *p, const T *x, int64_t *y) {               \
        const int64_t n = p->n, in = p->inner;                                                     \
        const bool last = p->last;                                                                 \
        for (int64_t o = 0; o < p->outer; o++) {                                                   \
            const T *xo = x + o * n * in;                                                          \
            int64_t *yo = y + o * in;                                                              \
            if (in == 1) {                                                                         \
                int64_t bi = 0;                                                                    \
                T b = xo[0];                                                                       \
                for (int64_t r = 1; r < n; r++) {                                                  \
                    T v = xo[r];                                                                   \
                    if (MR_ARGMAX_BETTER(v, b, last, ISNAN)) {                                     \
                        b = v;                                                                     \
                        bi = r;                                                                    \
                    }                                                                              \
                }                                                                                  \
                yo[0] = bi;                                                                        \
                continue;                                                                          \
            }                                                                                      \
            for (int64_t i = 0; i < in; i++)                                                       \
                yo[i] = 0;                                                                         \
            for (int64_t r = 1; r < n; r++) {                                                      \
                const T *xr = xo + r * in;                                                         \
                for (int64_t i = 0; i < in; i++) {                                                 \
                    T b = xo[yo[i] * in + i], v = xr[i];                                           \
                    if (MR_ARGMAX_BETTER(v, b, last, ISNAN)) yo[i] = r;                            \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }

/* First index: a strictly larger value, or the first NaN. Last index: a larger or equal value, or
 * any NaN (a NaN best is only replaced by a later NaN). */
#define MR_ARGMAX_BETTER(v, b, last, ISNAN)                                                        \
    ((last) ? ((v) >= (b) || ISNAN(v)) : ((v) > (b) || (ISNAN(v) && !ISNAN(b))))

MR_ARGMAX_DEFINE(f32, float, isnan)
MR_ARGMAX_DEFINE(f64, double, isnan)
MR_ARGMAX_DEFINE(i32, int32_t, MR_REDUCE_NONAN)
MR_ARGMAX_DEFINE(i64, int64_t, MR_REDUCE_NONAN)

static mr_status mr_argmax_run(mr_ctx *ctx, const mr_node *node, mr_tensor *const *in,
                               mr_tensor *const *out, void *ws) {
    (void)ctx;
    (void)ws;
    const mr_argmax_params *p = node->params;
    if (mr_numel(out[0]) == 0) return MINIRT_OK;
    switch (in[0]->dtype) {
    case MINIRT_FLOAT32:
        mr_argmax_f32(p, in[0]->data, out[0]->data);
        break;
    case MINIRT_FLOAT64:
        mr_argmax_f64(p, in[0]->data, out[0]->data);
        break;
    case MINIRT_INT32:
        mr_argmax_i32(p, in[0]->data, out[0]->data);
        break;
    default:
        mr_argmax_i64(p, in[0]->data, out[0]->data);
        break;
    }
    return MINIRT_OK;
}

const mr_op mr_op_argmax = {
    .domain = "",
    .op_type = "ArgMax",
    .since = 1,
    .until = 21,
    .min_inputs = 1,
    .max_inputs = 1,
    .min_outputs = 1,
    .max_outputs = 1,
    .prepare = mr_argmax_prepare,
    .infer = mr_argmax_infer,
    .run = mr_argmax_run,
    .types = MR_TYPES_F_I32_I64,
};
