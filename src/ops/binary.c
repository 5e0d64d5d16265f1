/*
 * binary.c - element-wise binary operators with broadcasting: Add.
 *
 * The broadcasting machinery is shared; an operator is an element function per type plus one
 * MR_BINARY_DEFINE line. Adding Sub, for example, would be:
 *
 *     MR_BINARY_ELEMS(sub, a - b, (U)a - (U)b)
 *     MR_BINARY_DEFINE(sub, "Sub")
 *
 * and MR_OP(mr_op_sub) in ops.def. Integer arithmetic is done in the unsigned type of the same
 * width so that overflow wraps instead of being undefined (a model controls the values). A Div
 * would also have to define integer division by zero and INT_MIN / -1 in its integer expression.
 */
#include <string.h>

#include "mr.h"

/*
 * How one call of an inner kernel reads its operands: both as vectors, or one of them as a single
 * repeated element (stride 0).
 */
enum { MR_BINARY_VV = 0, MR_BINARY_VS = 1, MR_BINARY_SV = 2 };

/* y[i] = f(a[i or 0], b[i or 0]) for i < n, per mode. */
typedef void (*mr_binary_kernel)(const void *a, const void *b, void *y, int64_t n, int mode);

/* Index of each supported element type in mr_binary_kind.fn. */
enum { MR_BINARY_F32 = 0, MR_BINARY_F64, MR_BINARY_I32, MR_BINARY_I64, MR_BINARY_NTYPES };

typedef struct mr_binary_kind {
    mr_binary_kernel fn[MR_BINARY_NTYPES];
} mr_binary_kind;

/* Element functions for one operator: FEXPR for float/double, IEXPR for the integer types, where U
 * names the unsigned type of the same width. Both see the operands as `a` and `b`. */
#define MR_BINARY_ELEMS(OP, FEXPR, IEXPR)                                                          \
    static inline float mr_binary_##OP##_f32(float a, float b) {                                   \
        return FEXPR;                                                                              \
    }                                                                                              \
    static inline double mr_binary_##OP##_f64(double a, double b) {                                \
        return FEXPR;                                                                              \
    }                                                                                              \
    static inline int32_t mr_binary_##OP##_i32(int32_t a, int32_t b) {                             \
        typedef uint32_t U;                                                                        \
        (void)sizeof(U);                                                                           \
        return (int32_t)(IEXPR);                                                                   \
    }                                                                                              \
    static inline int64_t mr_binary_##OP##_i64(int64_t a, int64_t b) {                             \
        typedef uint64_t U;                                                                        \
        (void)sizeof(U);                                                                           \
        return (int64_t)(IEXPR);                                                                   \
    }

/* The inner kernel for element function ELEM on type T: three plain loops the compiler vectorises.
 */
#define MR_BINARY_KERNEL(NAME, T, ELEM)                                                            \
    static void NAME(const void *pa, const void *pb, void *py, int64_t n, int mode) {              \
        const T *a = pa;                                                                           \
        const T *b = pb;                                                                           \
        T *y = py;                                                                                 \
        if (mode == MR_BINARY_VS) {                                                                \
            T s = b[0];                                                                            \
            for (int64_t i = 0; i < n; i++)                                                        \
                y[i] = ELEM(a[i], s);                                                              \
        } else if (mode == MR_BINARY_SV) {                                                         \
            T s = a[0];                                                                            \
            for (int64_t i = 0; i < n; i++)                                                        \
                y[i] = ELEM(s, b[i]);                                                              \
        } else {                                                                                   \
            for (int64_t i = 0; i < n; i++)                                                        \
                y[i] = ELEM(a[i], b[i]);                                                           \
        }                                                                                          \
    }

/* Kernels, kind and mr_op `mr_op_<OP>` for an operator whose MR_BINARY_ELEMS(OP, ...) is defined.
 */
#define MR_BINARY_DEFINE(OP, OP_TYPE)                                                              \
    MR_BINARY_KERNEL(mr_binary_##OP##_k_f32, float, mr_binary_##OP##_f32)                          \
    MR_BINARY_KERNEL(mr_binary_##OP##_k_f64, double, mr_binary_##OP##_f64)                         \
    MR_BINARY_KERNEL(mr_binary_##OP##_k_i32, int32_t, mr_binary_##OP##_i32)                        \
    MR_BINARY_KERNEL(mr_binary_##OP##_k_i64, int64_t, mr_binary_##OP##_i64)                        \
    static const mr_binary_kind mr_binary_##OP##_kind = {                                          \
        {mr_binary_##OP##_k_f32, mr_binary_##OP##_k_f64, mr_binary_##OP##_k_i32,                   \
         mr_binary_##OP##_k_i64}};                                                                 \
    static mr_status mr_binary_##OP##_prepare(mr_ctx *ctx, mr_node *node) {                        \
        return mr_binary_prepare(ctx, node, &mr_binary_##OP##_kind);                               \
    }                                                                                              \
    const mr_op mr_op_##OP = {                                                                     \
        .domain = "",                                                                              \
        .op_type = OP_TYPE,                                                                        \
        .since = 1,                                                                                \
        .until = 21,                                                                               \
        .min_inputs = 2,                                                                           \
        .max_inputs = 2,                                                                           \
        .min_outputs = 1,                                                                          \
        .max_outputs = 1,                                                                          \
        .prepare = mr_binary_##OP##_prepare,                                                       \
        .infer = mr_binary_infer,                                                                  \
        .run = mr_binary_run,                                                                      \
    };

/*
 * Parsed attributes, and the iteration plan infer derives from the shapes: the output's dims with
 * size-1 axes dropped and adjacent axes merged wherever both inputs are contiguous across them, and
 * each input's element stride per remaining axis (0 where it is broadcast). The last axis is the
 * inner kernel's run; its strides are 0 or 1.
 */
typedef struct mr_binary_params {
    const mr_binary_kind *kind;
    bool legacy_broadcast; /* opset < 7 with broadcast=1 */
    bool has_axis;
    int64_t axis;
    int rank;
    int64_t dims[MR_MAX_DIMS];
    int64_t sa[MR_MAX_DIMS];
    int64_t sb[MR_MAX_DIMS];
} mr_binary_params;

static int mr_binary_type_index(int dtype) {
    switch (dtype) {
    case MINIRT_FLOAT32:
        return MR_BINARY_F32;
    case MINIRT_FLOAT64:
        return MR_BINARY_F64;
    case MINIRT_INT32:
        return MR_BINARY_I32;
    case MINIRT_INT64:
        return MR_BINARY_I64;
    default:
        return -1;
    }
}

/*
 * Opsets 1..6 had `broadcast` (default 0) and `axis` (and, in opset 1, the ignored hint
 * `consumed_inputs`); opset 7 replaced them with numpy broadcasting.
 * https://onnx.ai/onnx/operators/onnx__Add.html
 */
static mr_status mr_binary_prepare(mr_ctx *ctx, mr_node *node, const mr_binary_kind *kind) {
    int64_t broadcast = 0, axis = 0;
    if (node->opset >= 7) {
        const char *legacy[] = {"broadcast", "axis"};
        for (size_t i = 0; i < 2; i++)
            if (mr_attr_find(node, legacy[i]))
                return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                     "attribute '%s' was removed in opset 7 (the model has "
                                     "opset %d)",
                                     legacy[i], node->opset);
    } else {
        mr_status st = mr_attr_int(ctx, node, "broadcast", 0, &broadcast);
        if (st == MINIRT_OK) st = mr_attr_int(ctx, node, "axis", 0, &axis);
        if (st != MINIRT_OK) return st;
        if (broadcast != 0 && broadcast != 1)
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                 "attribute 'broadcast' is %lld; it must be 0 or 1",
                                 (long long)broadcast);
        if (axis < 0)
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                 "attribute 'axis' is %lld; it must not be negative",
                                 (long long)axis);
    }
    mr_binary_params *p = mr_calloc(ctx, 1, sizeof(*p));
    if (!p) return mr_nomem(ctx);
    p->kind = kind;
    p->legacy_broadcast = broadcast == 1;
    p->has_axis = node->opset < 7 && mr_attr_find(node, "axis") != NULL;
    p->axis = axis;
    node->params = p;
    return MINIRT_OK;
}

/*
 * Place A's and B's dims in the output's rank (missing leading axes as 1) and compute the output
 * shape. Numpy rules from opset 7; before that, B is either one element or matches the run of A's
 * dims starting at `axis` (by default the suffix), and broadcast=0 requires equal shapes.
 * https://onnx.ai/onnx/repo-docs/Broadcasting.html
 */
static mr_status mr_binary_shapes(mr_ctx *ctx, const mr_node *node, const mr_tensor *a,
                                  const mr_tensor *b, int *rank, int64_t *da, int64_t *db,
                                  int64_t *dy) {
    const mr_binary_params *p = node->params;
    char sa[128], sb[128];
    mr_dims_str(sa, sizeof(sa), a->ndim, a->dims);
    mr_dims_str(sb, sizeof(sb), b->ndim, b->dims);

    if (node->opset < 7) {
        int r = a->ndim;
        *rank = r;
        memcpy(da, a->dims, (size_t)r * sizeof(int64_t));
        memcpy(dy, a->dims, (size_t)r * sizeof(int64_t));
        if (!p->legacy_broadcast) {
            bool same = a->ndim == b->ndim &&
                        memcmp(a->dims, b->dims, (size_t)a->ndim * sizeof(int64_t)) == 0;
            if (!same)
                return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                                     "input A has shape %s and input B has shape %s; without "
                                     "broadcast=1 (opset %d) they must be equal",
                                     sa, sb, node->opset);
            memcpy(db, b->dims, (size_t)r * sizeof(int64_t));
            return MINIRT_OK;
        }
        for (int i = 0; i < r; i++)
            db[i] = 1;
        if (mr_numel(b) == 1) return MINIRT_OK;
        int64_t axis = p->has_axis ? p->axis : (int64_t)a->ndim - b->ndim;
        if (b->ndim > a->ndim || axis < 0 || axis + b->ndim > a->ndim)
            return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                                 "input B with shape %s does not fit input A with shape %s at "
                                 "axis %lld",
                                 sb, sa, (long long)axis);
        for (int i = 0; i < b->ndim; i++) {
            int64_t av = a->dims[axis + i], bv = b->dims[i];
            if (bv != av && bv != 1)
                return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                                     "input B with shape %s does not match input A with shape %s "
                                     "at axis %lld (%lld vs %lld)",
                                     sb, sa, (long long)(axis + i), (long long)bv, (long long)av);
            db[axis + i] = bv;
        }
        return MINIRT_OK;
    }

    int r = a->ndim > b->ndim ? a->ndim : b->ndim;
    *rank = r;
    for (int i = 0; i < r; i++) {
        int ia = i - (r - a->ndim), ib = i - (r - b->ndim);
        da[i] = ia >= 0 ? a->dims[ia] : 1;
        db[i] = ib >= 0 ? b->dims[ib] : 1;
        if (da[i] == db[i] || db[i] == 1) {
            dy[i] = da[i];
        } else if (da[i] == 1) {
            dy[i] = db[i];
        } else {
            return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                                 "input A has shape %s and input B has shape %s, which do not "
                                 "broadcast (%lld vs %lld at output axis %d)",
                                 sa, sb, (long long)da[i], (long long)db[i], i);
        }
    }
    return MINIRT_OK;
}

static mr_status mr_binary_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                                 mr_tensor *const *out) {
    mr_binary_params *p = node->params;
    const mr_tensor *a = in[0], *b = in[1];
    if (a->dtype != b->dtype)
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                             "input A has type %s but input B has type %s; they must be the same",
                             mr_dtype_name(a->dtype), mr_dtype_name(b->dtype));
    if (mr_binary_type_index(a->dtype) < 0)
        return mr_node_error(ctx, node, MINIRT_ERR_UNSUPPORTED,
                             "type %s is not supported (float32, float64, int32, int64 are)",
                             mr_dtype_name(a->dtype));

    int r;
    int64_t da[MR_MAX_DIMS], db[MR_MAX_DIMS], dy[MR_MAX_DIMS];
    mr_status st = mr_binary_shapes(ctx, node, a, b, &r, da, db, dy);
    if (st != MINIRT_OK) return st;
    st = mr_shape_bytes(ctx, a->dtype, r, dy, NULL, NULL);
    if (st != MINIRT_OK) return mr_node_error(ctx, node, st, "output Y: %s", ctx->err);

    out[0]->dtype = a->dtype;
    out[0]->ndim = r;
    memcpy(out[0]->dims, dy, (size_t)r * sizeof(int64_t));
    node->workspace = 0;

    /* Row-major element strides of each input over the output's axes; 0 where broadcast. */
    int64_t sa[MR_MAX_DIMS], sb[MR_MAX_DIMS], ta = 1, tb = 1;
    for (int i = r - 1; i >= 0; i--) {
        sa[i] = da[i] == 1 ? 0 : ta;
        sb[i] = db[i] == 1 ? 0 : tb;
        ta *= da[i];
        tb *= db[i];
    }
    /* Drop size-1 axes and merge an axis into the previous one when both inputs step across the
     * pair as across one axis (stride[outer] == stride[inner] * dim[inner]). */
    p->rank = 0;
    for (int i = 0; i < r; i++) {
        if (dy[i] == 1) continue;
        int k = p->rank;
        if (k > 0 && p->sa[k - 1] == sa[i] * dy[i] && p->sb[k - 1] == sb[i] * dy[i]) {
            p->dims[k - 1] *= dy[i];
            p->sa[k - 1] = sa[i];
            p->sb[k - 1] = sb[i];
            continue;
        }
        p->dims[k] = dy[i];
        p->sa[k] = sa[i];
        p->sb[k] = sb[i];
        p->rank++;
    }
    if (p->rank == 0) { /* one element */
        p->rank = 1;
        p->dims[0] = 1;
        p->sa[0] = p->sb[0] = 0;
    }
    return MINIRT_OK;
}

/*
 * Walk the outer axes of the plan with an odometer and hand each inner run to the kernel. Same
 * shapes and scalar operands collapse to one run; a per-channel bias [C,1,1] on [N,C,H,W] is N*C
 * runs of H*W with B as a scalar.
 */
static mr_status mr_binary_run(mr_ctx *ctx, const mr_node *node, mr_tensor *const *in,
                               mr_tensor *const *out, void *ws) {
    (void)ctx;
    (void)ws;
    const mr_binary_params *p = node->params;
    if (mr_numel(out[0]) == 0) return MINIRT_OK;
    int ti = mr_binary_type_index(out[0]->dtype);
    mr_binary_kernel fn = p->kind->fn[ti];
    size_t es = mr_dtype_size(out[0]->dtype);
    const char *a = in[0]->data, *b = in[1]->data;
    char *y = out[0]->data;

    int inner = p->rank - 1;
    int64_t n = p->dims[inner];
    int mode = p->sa[inner] == 0 && p->sb[inner] != 0   ? MR_BINARY_SV
               : p->sb[inner] == 0 && p->sa[inner] != 0 ? MR_BINARY_VS
                                                        : MR_BINARY_VV;
    int64_t idx[MR_MAX_DIMS] = {0};
    int64_t oa = 0, ob = 0, oy = 0;
    for (;;) {
        fn(a + (size_t)oa * es, b + (size_t)ob * es, y + (size_t)oy * es, n, mode);
        oy += n;
        int k = inner - 1;
        while (k >= 0) {
            oa += p->sa[k];
            ob += p->sb[k];
            if (++idx[k] < p->dims[k]) break;
            oa -= p->sa[k] * p->dims[k];
            ob -= p->sb[k] * p->dims[k];
            idx[k] = 0;
            k--;
        }
        if (k < 0) break;
    }
    return MINIRT_OK;
}

/* ---- Add: y = a + b ----
 * https://onnx.ai/onnx/operators/onnx__Add.html
 */
MR_BINARY_ELEMS(add, a + b, (U)a + (U)b)
MR_BINARY_DEFINE(add, "Add")
