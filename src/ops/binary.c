/*
 * binary.c - element-wise operators with multidirectional (numpy) broadcasting:
 *   Add, Sub, Mul, Div, Pow                               arithmetic; the output has A's type
 *   Equal, Less, Greater, LessOrEqual, GreaterOrEqual     comparisons; the output is bool
 *   And, Or, Xor                                          logical, on bool
 *   Sum, Mean, Min, Max                                   variadic, 1..N inputs
 *   Where                                                 condition ? X : Y
 * https://onnx.ai/onnx/repo-docs/Broadcasting.html
 *
 * One broadcasting machinery serves all of them. infer places each operand's dims in the output's
 * rank and derives a plan (mr_binary_plan): size-1 output axes dropped, adjacent axes merged where
 * every operand steps across the pair as across one axis, and each operand's element stride per
 * remaining axis (0 where it is broadcast). run walks the plan's outer axes with an odometer and
 * hands each inner run to a kernel that reads every operand either as a vector or as one repeated
 * element. Same shapes and scalars collapse to one run; a per-channel bias [C,1,1] on [N,C,H,W] is
 * N*C runs of H*W with the bias as a scalar.
 *
 * An operator is an element function per type plus a few macro lines; Sub, for example, is
 *
 *     MR_BINARY_ELEMS(sub, a - b, (U)a - (U)b)
 *     MR_BINARY_DEFINE(sub, "Sub")
 *
 * and MR_OP(mr_op_sub) in ops.def. Integer arithmetic is done in the unsigned type of the same
 * width so that overflow wraps instead of being undefined (a model controls the values); integer
 * Div and Pow define their remaining edge cases next to their element functions.
 *
 * Types: float32, float64, int32, int64, uint8, int8 (Pow: bases of the first four; Mean: float32,
 * float64; Equal also bool; And, Or, Xor only bool; Where any type minirt has).
 * ONNX narrows some types by opset (Less on int32 only from opset 9, Pow with an exponent type
 * other than the base's only from opset 12); those constraints are not enforced: a supported type
 * is computed the same way at every opset.
 */
#include <math.h>
#include <string.h>

#include "fastmath.h"
#include "mr.h"

/* Index of each element type in the kernel tables; B8 is bool (1 byte, 0 or 1). */
enum {
    MR_BINARY_F32 = 0,
    MR_BINARY_F64,
    MR_BINARY_I32,
    MR_BINARY_I64,
    MR_BINARY_U8,
    MR_BINARY_I8,
    MR_BINARY_B8,
    MR_BINARY_NT
};

/*
 * How one call of a two-operand kernel reads its operands: both as vectors, or one of them as a
 * single repeated element (stride 0).
 */
enum { MR_BINARY_VV = 0, MR_BINARY_VS = 1, MR_BINARY_SV = 2 };

/* y[i] = f(a[i or 0], b[i or 0]) for i < n, per mode. */
typedef void (*mr_binary_kernel)(const void *a, const void *b, void *y, int64_t n, int mode);

/* The kernel table of one operator. Its same-type kernels are exactly those of the types in the
 * operator's mr_op.types (test_binary checks that they agree). */
typedef struct mr_binary_kind {
    bool to_bool;      /* the output is bool (comparisons) rather than of A's type */
    const char *mixed; /* kinds taking inputs of different types (Pow): the pairs, for messages */
    mr_binary_kernel fn[MR_BINARY_NT][MR_BINARY_NT]; /* [A's type][B's type]; NULL: unsupported */
} mr_binary_kind;

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
    case MINIRT_UINT8:
        return MR_BINARY_U8;
    case MINIRT_INT8:
        return MR_BINARY_I8;
    case MINIRT_BOOL:
        return MR_BINARY_B8;
    default:
        return -1;
    }
}

/* ---- element functions and kernels ---- */

/* One integer element function: IEXPR on `a`, `b` of type T, with U the unsigned type of T's
 * width (8-bit operands promote to int, whose range holds every 8-bit result). */
#define MR_BINARY_IELEM(OP, TN, T, UT, IEXPR)                                                      \
    static inline T mr_binary_##OP##_##TN(T a, T b) {                                              \
        typedef UT U;                                                                              \
        (void)sizeof(U);                                                                           \
        return (T)(IEXPR);                                                                         \
    }

/* Element functions for one arithmetic operator: FEXPR for float/double, IEXPR for the integer
 * types (see MR_BINARY_IELEM). */
#define MR_BINARY_ELEMS(OP, FEXPR, IEXPR)                                                          \
    static inline float mr_binary_##OP##_f32(float a, float b) {                                   \
        return FEXPR;                                                                              \
    }                                                                                              \
    static inline double mr_binary_##OP##_f64(double a, double b) {                                \
        return FEXPR;                                                                              \
    }                                                                                              \
    MR_BINARY_IELEM(OP, i32, int32_t, uint32_t, IEXPR)                                             \
    MR_BINARY_IELEM(OP, i64, int64_t, uint64_t, IEXPR)                                             \
    MR_BINARY_IELEM(OP, u8, uint8_t, uint8_t, IEXPR)                                               \
    MR_BINARY_IELEM(OP, i8, int8_t, uint8_t, IEXPR)

/* Element functions for one comparison: EXPR on `a`, `b` of any numeric type, as bool 0/1. */
#define MR_BINARY_CELEM(OP, TN, T, EXPR)                                                           \
    static inline uint8_t mr_binary_##OP##_##TN(T a, T b) {                                        \
        return (EXPR) ? 1 : 0;                                                                     \
    }
#define MR_BINARY_CMP_ELEMS(OP, EXPR)                                                              \
    MR_BINARY_CELEM(OP, f32, float, EXPR)                                                          \
    MR_BINARY_CELEM(OP, f64, double, EXPR)                                                         \
    MR_BINARY_CELEM(OP, i32, int32_t, EXPR)                                                        \
    MR_BINARY_CELEM(OP, i64, int64_t, EXPR)                                                        \
    MR_BINARY_CELEM(OP, u8, uint8_t, EXPR)                                                         \
    MR_BINARY_CELEM(OP, i8, int8_t, EXPR)

/* The inner kernel for element function (or macro) ELEM: A of type TA, B of TB, Y of TY; three
 * plain loops the compiler vectorises. ATTR: MR_SIMD_CLONES for the float32 kernels (the ones
 * models spend time in), built for AVX-512 and AVX2 too; empty for the others. */
#define MR_BINARY_KERNEL_ATTR(ATTR, NAME, TA, TB, TY, ELEM)                                        \
    ATTR static void NAME(const void *pa, const void *pb, void *py, int64_t n, int mode) {         \
        const TA *a = pa;                                                                          \
        const TB *b = pb;                                                                          \
        TY *y = py;                                                                                \
        if (mode == MR_BINARY_VS) {                                                                \
            TB s = b[0];                                                                           \
            for (int64_t i = 0; i < n; i++)                                                        \
                y[i] = (TY)ELEM(a[i], s);                                                          \
        } else if (mode == MR_BINARY_SV) {                                                         \
            TA s = a[0];                                                                           \
            for (int64_t i = 0; i < n; i++)                                                        \
                y[i] = (TY)ELEM(s, b[i]);                                                          \
        } else {                                                                                   \
            for (int64_t i = 0; i < n; i++)                                                        \
                y[i] = (TY)ELEM(a[i], b[i]);                                                       \
        }                                                                                          \
    }

#define MR_BINARY_KERNEL(NAME, TA, TB, TY, ELEM) MR_BINARY_KERNEL_ATTR(, NAME, TA, TB, TY, ELEM)

/* Output type of an arithmetic kernel (the inputs') and of a comparison (bool). */
#define MR_BINARY_AS_INPUT(T) T
#define MR_BINARY_AS_BOOL(T) uint8_t

/* Same-type kernels mr_binary_<OP>_k_<type> for the numeric types; YT(T) gives the output type. */
#define MR_BINARY_KERNELS(OP, YT)                                                                  \
    MR_BINARY_KERNEL_ATTR(MR_SIMD_CLONES, mr_binary_##OP##_k_f32, float, float, YT(float),         \
                          mr_binary_##OP##_f32)                                                    \
    MR_BINARY_KERNEL(mr_binary_##OP##_k_f64, double, double, YT(double), mr_binary_##OP##_f64)     \
    MR_BINARY_KERNEL(mr_binary_##OP##_k_i32, int32_t, int32_t, YT(int32_t), mr_binary_##OP##_i32)  \
    MR_BINARY_KERNEL(mr_binary_##OP##_k_i64, int64_t, int64_t, YT(int64_t), mr_binary_##OP##_i64)  \
    MR_BINARY_KERNEL(mr_binary_##OP##_k_u8, uint8_t, uint8_t, YT(uint8_t), mr_binary_##OP##_u8)    \
    MR_BINARY_KERNEL(mr_binary_##OP##_k_i8, int8_t, int8_t, YT(int8_t), mr_binary_##OP##_i8)

/* Kind table entries for those kernels. */
#define MR_BINARY_SAME(OP)                                                                         \
    [MR_BINARY_F32][MR_BINARY_F32] = mr_binary_##OP##_k_f32,                                       \
    [MR_BINARY_F64][MR_BINARY_F64] = mr_binary_##OP##_k_f64,                                       \
    [MR_BINARY_I32][MR_BINARY_I32] = mr_binary_##OP##_k_i32,                                       \
    [MR_BINARY_I64][MR_BINARY_I64] = mr_binary_##OP##_k_i64,                                       \
    [MR_BINARY_U8][MR_BINARY_U8] = mr_binary_##OP##_k_u8,                                          \
    [MR_BINARY_I8][MR_BINARY_I8] = mr_binary_##OP##_k_i8

/* `mr_binary_<NAME>_kind` taking one type for A and B; the variadic part lists the kernel table's
 * entries. */
#define MR_BINARY_KIND(NAME, TO_BOOL, ...)                                                         \
    static const mr_binary_kind mr_binary_##NAME##_kind = {TO_BOOL, NULL, {__VA_ARGS__}};

/* UNSUPPORTED unless the op computes dtype (its mr_op.types). */
static mr_status mr_binary_check_type(mr_ctx *ctx, const mr_node *node, int dtype) {
    uint32_t types = node->op->types;
    if (dtype > 0 && dtype < 32 && (types & MR_TYPE(dtype))) return MINIRT_OK;
    char list[128];
    return mr_node_error(ctx, node, MINIRT_ERR_UNSUPPORTED, "type %s is not supported (%s are)",
                         mr_dtype_name(dtype), mr_types_str(list, sizeof(list), types));
}

/* ---- two-input operators: attributes, shapes, plan ---- */

/* Operands of one plan: A and B (and the output), or condition, X and Y for Where. */
#define MR_BINARY_MAX_OPS 3

/*
 * The iteration plan over the output: its dims with size-1 axes dropped and adjacent axes merged,
 * and each operand's element stride per remaining axis (0 where broadcast). The last axis is the
 * kernels' run; its strides are 0 or 1. The output itself is contiguous.
 */
typedef struct mr_binary_plan {
    int rank;
    int64_t dims[MR_MAX_DIMS];
    int64_t st[MR_BINARY_MAX_OPS][MR_MAX_DIMS];
} mr_binary_plan;

typedef struct mr_binary_params {
    const mr_binary_kind *kind;
    bool legacy_broadcast; /* opset < 7 with broadcast=1 */
    bool has_axis;
    int64_t axis;
    mr_binary_plan plan;
} mr_binary_params;

/*
 * Build the plan for output dims dy (rank r) and nops operands whose dims d[j] are already placed
 * in the output's rank (1 where absent or broadcast).
 */
static void mr_binary_plan_make(mr_binary_plan *pl, int r, const int64_t *dy, int nops,
                                const int64_t *const *d) {
    int64_t s[MR_BINARY_MAX_OPS][MR_MAX_DIMS], t[MR_BINARY_MAX_OPS];
    for (int j = 0; j < nops; j++)
        t[j] = 1;
    for (int i = r - 1; i >= 0; i--)
        for (int j = 0; j < nops; j++) {
            s[j][i] = d[j][i] == 1 ? 0 : t[j];
            t[j] *= d[j][i];
        }
    /* Drop size-1 axes; merge an axis into the previous one when every operand steps across the
     * pair as across one axis (stride[outer] == stride[inner] * dim[inner]). */
    pl->rank = 0;
    for (int i = 0; i < r; i++) {
        if (dy[i] == 1) continue;
        int k = pl->rank;
        bool merge = k > 0;
        for (int j = 0; j < nops && merge; j++)
            merge = pl->st[j][k - 1] == s[j][i] * dy[i];
        if (merge) {
            pl->dims[k - 1] *= dy[i];
            for (int j = 0; j < nops; j++)
                pl->st[j][k - 1] = s[j][i];
            continue;
        }
        pl->dims[k] = dy[i];
        for (int j = 0; j < nops; j++)
            pl->st[j][k] = s[j][i];
        pl->rank++;
    }
    if (pl->rank == 0) { /* one element */
        pl->rank = 1;
        pl->dims[0] = 1;
        for (int j = 0; j < nops; j++)
            pl->st[j][0] = 0;
    }
}

/* t's dims placed in rank r (numpy: aligned to the right, missing leading axes 1). */
static void mr_binary_place(const mr_tensor *t, int r, int64_t *d) {
    for (int i = 0; i < r; i++)
        d[i] = i - (r - t->ndim) >= 0 ? t->dims[i - (r - t->ndim)] : 1;
}

/* Advance the odometer idx over the plan's outer axes (all but the run), moving each operand's
 * offset off[j]; false after the last run. */
static bool mr_binary_step(const mr_binary_plan *pl, int nops, int64_t *idx, int64_t *off) {
    for (int k = pl->rank - 2; k >= 0; k--) {
        for (int j = 0; j < nops; j++)
            off[j] += pl->st[j][k];
        if (++idx[k] < pl->dims[k]) return true;
        for (int j = 0; j < nops; j++)
            off[j] -= pl->st[j][k] * pl->dims[k];
        idx[k] = 0;
    }
    return false;
}

/* y = fn(a, b) over the plan, with element sizes ea, eb, ey. */
static void mr_binary_apply(const mr_binary_plan *pl, mr_binary_kernel fn, const void *a, size_t ea,
                            const void *b, size_t eb, void *y, size_t ey) {
    int inner = pl->rank - 1;
    int64_t n = pl->dims[inner], sa = pl->st[0][inner], sb = pl->st[1][inner];
    int mode = sa == 0 && sb != 0 ? MR_BINARY_SV : sb == 0 && sa != 0 ? MR_BINARY_VS : MR_BINARY_VV;
    /* Both operands broadcast along the run (possible in the variadic fold, where a later input
     * sets the run's extent): one element per run, repeated, never a vector read of either. */
    bool repeat = sa == 0 && sb == 0 && n > 1;
    int64_t idx[MR_MAX_DIMS] = {0}, off[MR_BINARY_MAX_OPS] = {0}, oy = 0;
    do {
        char *yr = (char *)y + (size_t)oy * ey;
        fn((const char *)a + (size_t)off[0] * ea, (const char *)b + (size_t)off[1] * eb, yr,
           repeat ? 1 : n, mode);
        if (repeat)
            for (int64_t i = 1; i < n; i++)
                memcpy(yr + (size_t)i * ey, yr, ey);
        oy += n;
    } while (mr_binary_step(pl, 2, idx, off));
}

/*
 * Opsets 1..6 had `broadcast` (default 0) and `axis` (and, in opset 1 of Add/Sub/Mul/Div, the
 * ignored hint `consumed_inputs`); opset 7 replaced them with numpy broadcasting.
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
    mr_binary_place(a, r, da);
    mr_binary_place(b, r, db);
    for (int i = 0; i < r; i++) {
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
    int ta = mr_binary_type_index(a->dtype), tb = mr_binary_type_index(b->dtype);
    mr_status st;
    if (a->dtype == b->dtype) {
        if ((st = mr_binary_check_type(ctx, node, a->dtype)) != MINIRT_OK) return st;
    } else if (!p->kind->mixed) {
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                             "input A has type %s but input B has type %s; they must be the same",
                             mr_dtype_name(a->dtype), mr_dtype_name(b->dtype));
    } else if (ta < 0 || tb < 0 || !p->kind->fn[ta][tb]) {
        return mr_node_error(ctx, node, MINIRT_ERR_UNSUPPORTED,
                             "input A of type %s with input B of type %s is not supported (%s)",
                             mr_dtype_name(a->dtype), mr_dtype_name(b->dtype), p->kind->mixed);
    }

    int r;
    int64_t da[MR_MAX_DIMS], db[MR_MAX_DIMS], dy[MR_MAX_DIMS];
    st = mr_binary_shapes(ctx, node, a, b, &r, da, db, dy);
    if (st != MINIRT_OK) return st;
    int ytype = p->kind->to_bool ? MINIRT_BOOL : a->dtype;
    st = mr_shape_bytes(ctx, ytype, r, dy, NULL, NULL);
    if (st != MINIRT_OK) return mr_node_error(ctx, node, st, "output: %s", ctx->err);

    out[0]->dtype = ytype;
    out[0]->ndim = r;
    memcpy(out[0]->dims, dy, (size_t)r * sizeof(int64_t));
    node->workspace = 0;
    const int64_t *d[2] = {da, db};
    mr_binary_plan_make(&p->plan, r, dy, 2, d);
    return MINIRT_OK;
}

/* The output may alias an input of its shape: every element is read before it is written. */
static mr_status mr_binary_run(mr_ctx *ctx, const mr_node *node, mr_tensor *const *in,
                               mr_tensor *const *out, void *ws) {
    (void)ctx;
    (void)ws;
    const mr_binary_params *p = node->params;
    if (mr_numel(out[0]) == 0) return MINIRT_OK;
    int ta = mr_binary_type_index(in[0]->dtype), tb = mr_binary_type_index(in[1]->dtype);
    mr_binary_apply(&p->plan, p->kind->fn[ta][tb], in[0]->data, mr_dtype_size(in[0]->dtype),
                    in[1]->data, mr_dtype_size(in[1]->dtype), out[0]->data,
                    mr_dtype_size(out[0]->dtype));
    return MINIRT_OK;
}

/* The mr_op `mr_op_<OP>` for a two-input operator with kind mr_binary_<OP>_kind, computing TYPES
 * (of A). */
#define MR_BINARY_OP(OP, OP_TYPE, SINCE, TYPES)                                                    \
    static mr_status mr_binary_##OP##_prepare(mr_ctx *ctx, mr_node *node) {                        \
        return mr_binary_prepare(ctx, node, &mr_binary_##OP##_kind);                               \
    }                                                                                              \
    const mr_op mr_op_##OP = {                                                                     \
        .domain = "",                                                                              \
        .op_type = OP_TYPE,                                                                        \
        .since = SINCE,                                                                            \
        .until = 21,                                                                               \
        .min_inputs = 2,                                                                           \
        .max_inputs = 2,                                                                           \
        .min_outputs = 1,                                                                          \
        .max_outputs = 1,                                                                          \
        .prepare = mr_binary_##OP##_prepare,                                                       \
        .infer = mr_binary_infer,                                                                  \
        .run = mr_binary_run,                                                                      \
        .flags = MR_OP_INPLACE, /* out[0] may share in[0]'s buffer */                              \
        .types = TYPES,                                                                            \
    };

/* An arithmetic operator on the numeric types whose MR_BINARY_ELEMS(OP, ...) is defined. */
#define MR_BINARY_DEFINE(OP, OP_TYPE)                                                              \
    MR_BINARY_KERNELS(OP, MR_BINARY_AS_INPUT)                                                      \
    MR_BINARY_KIND(OP, false, MR_BINARY_SAME(OP))                                                  \
    MR_BINARY_OP(OP, OP_TYPE, 1, MR_TYPES_NUMERIC)

/* A comparison on the numeric types whose MR_BINARY_CMP_ELEMS(OP, ...) is defined. */
#define MR_BINARY_CMP_DEFINE(OP, OP_TYPE, SINCE)                                                   \
    MR_BINARY_KERNELS(OP, MR_BINARY_AS_BOOL)                                                       \
    MR_BINARY_KIND(OP, true, MR_BINARY_SAME(OP))                                                   \
    MR_BINARY_OP(OP, OP_TYPE, SINCE, MR_TYPES_NUMERIC)

/* ---- variadic operators: Sum, Mean, Min, Max ---- */

typedef struct mr_binary_variadic_params {
    const mr_binary_kind *kind; /* the pairwise operation */
    bool mean;                  /* divide by the input count at the end */
} mr_binary_variadic_params;

/* Opset 1 had the ignored hint `consumed_inputs`; opset 6 dropped it; nothing else to parse. */
static mr_status mr_binary_variadic_prepare(mr_ctx *ctx, mr_node *node, const mr_binary_kind *kind,
                                            bool mean) {
    mr_binary_variadic_params *p = mr_calloc(ctx, 1, sizeof(*p));
    if (!p) return mr_nomem(ctx);
    p->kind = kind;
    p->mean = mean;
    node->params = p;
    return MINIRT_OK;
}

/* Numpy broadcasting of all inputs from opset 8; before that, all shapes must be equal. */
static mr_status mr_binary_variadic_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                                          mr_tensor *const *out) {
    char s0[128], si[128];
    for (int i = 0; i < node->n_in; i++)
        if (!in[i])
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                 "input %d is missing; the inputs of %s are not optional", i,
                                 node->op_type);
    minirt_dtype dtype = in[0]->dtype;
    for (int i = 1; i < node->n_in; i++)
        if (in[i]->dtype != dtype)
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                 "input %d has type %s but input 0 has type %s; they must be the "
                                 "same",
                                 i, mr_dtype_name(in[i]->dtype), mr_dtype_name(dtype));
    mr_status st = mr_binary_check_type(ctx, node, dtype);
    if (st != MINIRT_OK) return st;

    int r = in[0]->ndim;
    int64_t dy[MR_MAX_DIMS];
    if (node->opset < 8) {
        memcpy(dy, in[0]->dims, (size_t)r * sizeof(int64_t));
        for (int i = 1; i < node->n_in; i++)
            if (in[i]->ndim != r || memcmp(in[i]->dims, dy, (size_t)r * sizeof(int64_t)) != 0)
                return mr_node_error(
                    ctx, node, MINIRT_ERR_SHAPE,
                    "input %d has shape %s and input 0 has shape %s; before opset 8 (the model "
                    "has opset %d) they must be equal",
                    i, mr_dims_str(si, sizeof(si), in[i]->ndim, in[i]->dims),
                    mr_dims_str(s0, sizeof(s0), r, dy), node->opset);
    } else {
        st = mr_broadcast_dims(ctx, node, node->n_in, (const mr_tensor *const *)in, &r, dy);
        if (st != MINIRT_OK) return st;
    }
    st = mr_shape_bytes(ctx, dtype, r, dy, NULL, NULL);
    if (st != MINIRT_OK) return mr_node_error(ctx, node, st, "output: %s", ctx->err);
    out[0]->dtype = dtype;
    out[0]->ndim = r;
    memcpy(out[0]->dims, dy, (size_t)r * sizeof(int64_t));
    node->workspace = 0;
    return MINIRT_OK;
}

/*
 * Fold pairwise into the output, no workspace: y = in[f] op in[s] broadcast to y's full shape, then
 * y = y op in[k] in place for every other input (y is full-shaped, so each element is read before
 * it is written at the same index, whatever in[k] broadcasts). An input that aliases the output
 * (in-place execution; at most one may) is taken first so it is consumed before y is written; the
 * fold order does not matter because Sum, Min and Max are commutative (up to float rounding for
 * Sum and Mean).
 * Mean is Sum, then y / N, as ONNX's reference computes it.
 * https://onnx.ai/onnx/operators/onnx__Sum.html https://onnx.ai/onnx/operators/onnx__Mean.html
 * https://onnx.ai/onnx/operators/onnx__Min.html https://onnx.ai/onnx/operators/onnx__Max.html
 */
static mr_status mr_binary_variadic_run(mr_ctx *ctx, const mr_node *node, mr_tensor *const *in,
                                        mr_tensor *const *out, void *ws) {
    (void)ctx;
    (void)ws;
    const mr_binary_variadic_params *p = node->params;
    mr_tensor *y = out[0];
    int64_t numel = mr_numel(y);
    if (numel == 0) return MINIRT_OK;
    int n = node->n_in, ti = mr_binary_type_index(y->dtype);
    size_t es = mr_dtype_size(y->dtype);
    mr_binary_kernel fn = p->kind->fn[ti][ti];

    int first = 0;
    for (int i = 0; i < n; i++)
        if (in[i]->data == y->data) first = i;
    if (n == 1) {
        if (in[0]->data != y->data) memmove(y->data, in[0]->data, (size_t)numel * es);
    } else {
        int second = first == 0 ? 1 : 0;
        mr_binary_plan pl;
        int64_t d0[MR_MAX_DIMS], d1[MR_MAX_DIMS];
        const int64_t *d[2] = {d0, d1};
        mr_binary_place(in[first], y->ndim, d0);
        mr_binary_place(in[second], y->ndim, d1);
        mr_binary_plan_make(&pl, y->ndim, y->dims, 2, d);
        mr_binary_apply(&pl, fn, in[first]->data, es, in[second]->data, es, y->data, es);
        d[0] = y->dims;
        for (int i = 0; i < n; i++) {
            if (i == first || i == second) continue;
            mr_binary_place(in[i], y->ndim, d1);
            mr_binary_plan_make(&pl, y->ndim, y->dims, 2, d);
            mr_binary_apply(&pl, fn, y->data, es, in[i]->data, es, y->data, es);
        }
    }
    if (p->mean && ti == MR_BINARY_F32) {
        float *v = y->data;
        for (int64_t i = 0; i < numel; i++)
            v[i] = v[i] / (float)n;
    } else if (p->mean) {
        double *v = y->data;
        for (int64_t i = 0; i < numel; i++)
            v[i] = v[i] / (double)n;
    }
    return MINIRT_OK;
}

/* The mr_op `mr_op_<OP>` for a variadic operator folding with kind mr_binary_<KIND>_kind,
 * computing TYPES. */
#define MR_BINARY_VARIADIC_OP(OP, OP_TYPE, KIND, MEAN, TYPES)                                      \
    static mr_status mr_binary_##OP##_prepare(mr_ctx *ctx, mr_node *node) {                        \
        return mr_binary_variadic_prepare(ctx, node, &mr_binary_##KIND##_kind, MEAN);              \
    }                                                                                              \
    const mr_op mr_op_##OP = {                                                                     \
        .domain = "",                                                                              \
        .op_type = OP_TYPE,                                                                        \
        .since = 1,                                                                                \
        .until = 21,                                                                               \
        .min_inputs = 1,                                                                           \
        .max_inputs = 2147483647,                                                                  \
        .min_outputs = 1,                                                                          \
        .max_outputs = 1,                                                                          \
        .prepare = mr_binary_##OP##_prepare,                                                       \
        .infer = mr_binary_variadic_infer,                                                         \
        .run = mr_binary_variadic_run,                                                             \
        .types = TYPES,                                                                            \
    };

/* ---- Where: z = condition ? x : y ---- */

/* z[i] = c[i*sc] ? x[i*sx] : y[i*sy] for i < n; each stride is 0 (broadcast) or 1. */
typedef void (*mr_binary_where_kernel)(const uint8_t *c, const void *x, const void *y, void *z,
                                       int64_t n, const int64_t *s);

#define MR_BINARY_WHERE_KERNEL(NAME, T)                                                            \
    static void NAME(const uint8_t *c, const void *px, const void *py, void *pz, int64_t n,        \
                     const int64_t *s) {                                                           \
        const T *x = px, *y = py;                                                                  \
        T *z = pz;                                                                                 \
        for (int64_t i = 0; i < n; i++)                                                            \
            z[i] = c[i * s[0]] ? x[i * s[1]] : y[i * s[2]];                                        \
    }

MR_BINARY_WHERE_KERNEL(mr_binary_where_f32, float)
MR_BINARY_WHERE_KERNEL(mr_binary_where_f64, double)
MR_BINARY_WHERE_KERNEL(mr_binary_where_i32, int32_t)
MR_BINARY_WHERE_KERNEL(mr_binary_where_i64, int64_t)
MR_BINARY_WHERE_KERNEL(mr_binary_where_u8, uint8_t)

/* The Where kernel for X's type: the numeric types, and any 1-byte type (bool, uint8, int8). */
static mr_binary_where_kernel mr_binary_where_fn(int dtype) {
    switch (dtype) {
    case MINIRT_FLOAT32:
        return mr_binary_where_f32;
    case MINIRT_FLOAT64:
        return mr_binary_where_f64;
    case MINIRT_INT32:
        return mr_binary_where_i32;
    case MINIRT_INT64:
        return mr_binary_where_i64;
    default:
        return mr_dtype_size(dtype) == 1 ? mr_binary_where_u8 : NULL;
    }
}

static mr_status mr_binary_where_prepare(mr_ctx *ctx, mr_node *node) {
    mr_binary_plan *p = mr_calloc(ctx, 1, sizeof(*p));
    if (!p) return mr_nomem(ctx);
    node->params = p;
    return MINIRT_OK;
}

/*
 * Three-way numpy broadcasting of condition, X and Y. Opset 16 only added bfloat16.
 * https://onnx.ai/onnx/operators/onnx__Where.html
 */
static mr_status mr_binary_where_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                                       mr_tensor *const *out) {
    mr_binary_plan *pl = node->params;
    if (in[0]->dtype != MINIRT_BOOL)
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                             "input condition has type %s; it must be bool",
                             mr_dtype_name(in[0]->dtype));
    if (in[1]->dtype != in[2]->dtype)
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                             "input X has type %s but input Y has type %s; they must be the same",
                             mr_dtype_name(in[1]->dtype), mr_dtype_name(in[2]->dtype));
    mr_status st = mr_binary_check_type(ctx, node, in[1]->dtype);
    if (st != MINIRT_OK) return st;
    int r;
    int64_t dy[MR_MAX_DIMS], d[3][MR_MAX_DIMS];
    st = mr_broadcast_dims(ctx, node, 3, (const mr_tensor *const *)in, &r, dy);
    if (st != MINIRT_OK) return st;
    st = mr_shape_bytes(ctx, in[1]->dtype, r, dy, NULL, NULL);
    if (st != MINIRT_OK) return mr_node_error(ctx, node, st, "output: %s", ctx->err);
    out[0]->dtype = in[1]->dtype;
    out[0]->ndim = r;
    memcpy(out[0]->dims, dy, (size_t)r * sizeof(int64_t));
    node->workspace = 0;
    for (int j = 0; j < 3; j++)
        mr_binary_place(in[j], r, d[j]);
    const int64_t *dd[3] = {d[0], d[1], d[2]};
    mr_binary_plan_make(pl, r, dy, 3, dd);
    return MINIRT_OK;
}

static mr_status mr_binary_where_run(mr_ctx *ctx, const mr_node *node, mr_tensor *const *in,
                                     mr_tensor *const *out, void *ws) {
    (void)ctx;
    (void)ws;
    const mr_binary_plan *pl = node->params;
    if (mr_numel(out[0]) == 0) return MINIRT_OK;
    mr_binary_where_kernel fn = mr_binary_where_fn(out[0]->dtype);
    size_t es = mr_dtype_size(out[0]->dtype);
    const uint8_t *c = in[0]->data;
    const char *x = in[1]->data, *y = in[2]->data;
    char *z = out[0]->data;
    int inner = pl->rank - 1;
    int64_t n = pl->dims[inner];
    int64_t s[3] = {pl->st[0][inner], pl->st[1][inner], pl->st[2][inner]};
    int64_t idx[MR_MAX_DIMS] = {0}, off[MR_BINARY_MAX_OPS] = {0}, oz = 0;
    do {
        fn(c + off[0], x + (size_t)off[1] * es, y + (size_t)off[2] * es, z + (size_t)oz * es, n, s);
        oz += n;
    } while (mr_binary_step(pl, 3, idx, off));
    return MINIRT_OK;
}

const mr_op mr_op_where = {
    .domain = "",
    .op_type = "Where",
    .since = 9,
    .until = 21,
    .min_inputs = 3,
    .max_inputs = 3,
    .min_outputs = 1,
    .max_outputs = 1,
    .prepare = mr_binary_where_prepare,
    .infer = mr_binary_where_infer,
    .run = mr_binary_where_run,
    .types = MR_TYPES_ALL, /* of X and Y; the condition is bool */
};

/* ---- arithmetic ---- */

/* Add: y = a + b.  https://onnx.ai/onnx/operators/onnx__Add.html */
MR_BINARY_ELEMS(add, a + b, (U)a + (U)b)
MR_BINARY_DEFINE(add, "Add")

/* Sub: y = a - b.  https://onnx.ai/onnx/operators/onnx__Sub.html */
MR_BINARY_ELEMS(sub, a - b, (U)a - (U)b)
MR_BINARY_DEFINE(sub, "Sub")

/* Mul: y = a * b.  https://onnx.ai/onnx/operators/onnx__Mul.html */
MR_BINARY_ELEMS(mul, (a * b), ((U)a * (U)b))
MR_BINARY_DEFINE(mul, "Mul")

/*
 * Div: y = a / b; integers truncate toward zero, like C.
 * https://onnx.ai/onnx/operators/onnx__Div.html
 * ONNX leaves integer division by zero undefined; here x / 0 = 0, with no error (run cannot
 * report one, and a model's data must not crash the process). INT_MIN / -1 wraps to INT_MIN like
 * the other integer overflows. Every integer type is divided in int64 (where only INT64_MIN / -1
 * overflows; it is computed as the wrapped negation) and narrowed back with wrap-around.
 */
static inline int64_t mr_binary_idiv(int64_t a, int64_t b) {
    if (b == 0) return 0;
    if (b == -1) return (int64_t)(0 - (uint64_t)a);
    return a / b;
}
MR_BINARY_ELEMS(div, a / b, mr_binary_idiv(a, b))
MR_BINARY_DEFINE(div, "Div")

/*
 * Pow: z = x ^ y with z of x's type; y may have another type (opset 12+).
 * https://onnx.ai/onnx/operators/onnx__Pow.html
 * Float bases: powf for float32 ^ float32, otherwise pow in double rounded to the base's type
 * (numpy promotes a float32 base with an integer exponent to double too).
 * Integer base, integer exponent: exact, by repeated squaring, wrapping on overflow; a negative
 * exponent gives the truncated value of 1 / x^-y (1 for x = 1, +-1 for x = -1, else 0; 0 for
 * x = 0 rather than an error).
 * Integer base, float exponent: pow in double, converted back saturating (NaN gives 0).
 */
static uint64_t mr_binary_ipow(int64_t x, int64_t y) {
    if (y < 0) return x == 1 ? 1u : x == -1 ? ((y & 1) ? UINT64_MAX : 1u) : 0u;
    uint64_t r = 1, b = (uint64_t)x;
    for (uint64_t e = (uint64_t)y; e; e >>= 1) {
        if (e & 1) r *= b;
        b *= b;
    }
    return r;
}

static int64_t mr_binary_sat_i64(double v) {
    if (v != v) return 0;
    if (v >= 9223372036854775808.0) return INT64_MAX;
    if (v < -9223372036854775808.0) return INT64_MIN;
    return (int64_t)v;
}

static int32_t mr_binary_sat_i32(double v) {
    if (v != v) return 0;
    if (v >= 2147483648.0) return INT32_MAX;
    if (v < -2147483648.0) return INT32_MIN;
    return (int32_t)v;
}

/* Element formulas (the kernel converts the result to the base's type). */
#define MR_BINARY_POW_FF(a, b) powf(a, b)
#define MR_BINARY_POW_D(a, b) pow((double)(a), (double)(b))
#define MR_BINARY_POW_SAT32(a, b) mr_binary_sat_i32(MR_BINARY_POW_D(a, b))
#define MR_BINARY_POW_SAT64(a, b) mr_binary_sat_i64(MR_BINARY_POW_D(a, b))
#define MR_BINARY_POW_INT(a, b) mr_binary_ipow((int64_t)(a), (int64_t)(b))

/* The kernels of one base type, one per exponent type (float32, float64, the integers), and
 * their table row. */
#define MR_BINARY_POW_BASE(BN, T, E_F32, E_F64, E_INT)                                             \
    MR_BINARY_KERNEL(mr_binary_pow_k_##BN##_f32, T, float, T, E_F32)                               \
    MR_BINARY_KERNEL(mr_binary_pow_k_##BN##_f64, T, double, T, E_F64)                              \
    MR_BINARY_KERNEL(mr_binary_pow_k_##BN##_i32, T, int32_t, T, E_INT)                             \
    MR_BINARY_KERNEL(mr_binary_pow_k_##BN##_i64, T, int64_t, T, E_INT)                             \
    MR_BINARY_KERNEL(mr_binary_pow_k_##BN##_u8, T, uint8_t, T, E_INT)                              \
    MR_BINARY_KERNEL(mr_binary_pow_k_##BN##_i8, T, int8_t, T, E_INT)
#define MR_BINARY_POW_ROW(BI, BN)                                                                  \
    [BI][MR_BINARY_F32] = mr_binary_pow_k_##BN##_f32,                                              \
    [BI][MR_BINARY_F64] = mr_binary_pow_k_##BN##_f64,                                              \
    [BI][MR_BINARY_I32] = mr_binary_pow_k_##BN##_i32,                                              \
    [BI][MR_BINARY_I64] = mr_binary_pow_k_##BN##_i64,                                              \
    [BI][MR_BINARY_U8] = mr_binary_pow_k_##BN##_u8, [BI][MR_BINARY_I8] = mr_binary_pow_k_##BN##_i8

MR_BINARY_POW_BASE(f32, float, MR_BINARY_POW_FF, MR_BINARY_POW_D, MR_BINARY_POW_D)
MR_BINARY_POW_BASE(f64, double, MR_BINARY_POW_D, MR_BINARY_POW_D, MR_BINARY_POW_D)
MR_BINARY_POW_BASE(i32, int32_t, MR_BINARY_POW_SAT32, MR_BINARY_POW_SAT32, MR_BINARY_POW_INT)
MR_BINARY_POW_BASE(i64, int64_t, MR_BINARY_POW_SAT64, MR_BINARY_POW_SAT64, MR_BINARY_POW_INT)
static const mr_binary_kind mr_binary_pow_kind = {
    false,
    "base float32, float64, int32, int64; exponent float32, float64, int32, int64, uint8, int8",
    {MR_BINARY_POW_ROW(MR_BINARY_F32, f32), MR_BINARY_POW_ROW(MR_BINARY_F64, f64),
     MR_BINARY_POW_ROW(MR_BINARY_I32, i32), MR_BINARY_POW_ROW(MR_BINARY_I64, i64)}};
MR_BINARY_OP(pow, "Pow", 1, MR_TYPES_F_I32_I64)

/* ---- comparisons: bool output ---- */

/*
 * Equal also on bool (opset 7+); bools compare as truth values.
 * https://onnx.ai/onnx/operators/onnx__Equal.html (opset 19 only added strings)
 */
MR_BINARY_CMP_ELEMS(equal, a == b)
static inline uint8_t mr_binary_equal_b8(uint8_t a, uint8_t b) {
    return (a != 0) == (b != 0);
}
MR_BINARY_KERNELS(equal, MR_BINARY_AS_BOOL)
MR_BINARY_KERNEL(mr_binary_equal_k_b8, uint8_t, uint8_t, uint8_t, mr_binary_equal_b8)
MR_BINARY_KIND(equal, true,
               MR_BINARY_SAME(equal), [MR_BINARY_B8][MR_BINARY_B8] = mr_binary_equal_k_b8)
MR_BINARY_OP(equal, "Equal", 1, MR_TYPES_ALL)

/* https://onnx.ai/onnx/operators/onnx__Less.html, onnx__Greater.html (NaN compares false) */
MR_BINARY_CMP_ELEMS(less, a < b)
MR_BINARY_CMP_DEFINE(less, "Less", 1)
MR_BINARY_CMP_ELEMS(greater, a > b)
MR_BINARY_CMP_DEFINE(greater, "Greater", 1)

/* https://onnx.ai/onnx/operators/onnx__LessOrEqual.html, onnx__GreaterOrEqual.html (opset 12;
 * opset 16 only added bfloat16) */
MR_BINARY_CMP_ELEMS(less_equal, a <= b)
MR_BINARY_CMP_DEFINE(less_equal, "LessOrEqual", 12)
MR_BINARY_CMP_ELEMS(greater_equal, a >= b)
MR_BINARY_CMP_DEFINE(greater_equal, "GreaterOrEqual", 12)

/* ---- logical: bool inputs and output ----
 * https://onnx.ai/onnx/operators/onnx__And.html, onnx__Or.html, onnx__Xor.html (opset 1 with
 * broadcast/axis, numpy broadcasting from 7; unchanged since) */
#define MR_BINARY_LOGIC_DEFINE(OP, OP_TYPE, EXPR)                                                  \
    static inline uint8_t mr_binary_##OP##_b8(uint8_t a, uint8_t b) {                              \
        return (uint8_t)(EXPR);                                                                    \
    }                                                                                              \
    MR_BINARY_KERNEL(mr_binary_##OP##_k_b8, uint8_t, uint8_t, uint8_t, mr_binary_##OP##_b8)        \
    MR_BINARY_KIND(OP, true, [MR_BINARY_B8][MR_BINARY_B8] = mr_binary_##OP##_k_b8)                 \
    MR_BINARY_OP(OP, OP_TYPE, 1, MR_TYPE(MINIRT_BOOL))

MR_BINARY_LOGIC_DEFINE(and, "And", (a != 0) & (b != 0))
MR_BINARY_LOGIC_DEFINE(or, "Or", (a != 0) | (b != 0))
MR_BINARY_LOGIC_DEFINE(xor, "Xor", (a != 0) ^ (b != 0))

/* ---- variadic ---- */

/* Sum: Add folded over the inputs; Mean: the same on float types, then divided. */
MR_BINARY_VARIADIC_OP(sum, "Sum", add, false, MR_TYPES_NUMERIC)
MR_BINARY_KIND(mean, false, [MR_BINARY_F32][MR_BINARY_F32] = mr_binary_add_k_f32,
               [MR_BINARY_F64][MR_BINARY_F64] = mr_binary_add_k_f64)
MR_BINARY_VARIADIC_OP(mean, "Mean", mean, true, MR_TYPES_FLOAT)

/*
 * Min, Max: a NaN in any input gives NaN (as numpy's minimum/maximum, ONNX's reference).
 * Integer types from opset 12.
 */
MR_BINARY_ELEMS(min, (a < b || a != a) ? a : b, a < b ? a : b)
MR_BINARY_KERNELS(min, MR_BINARY_AS_INPUT)
MR_BINARY_KIND(min, false, MR_BINARY_SAME(min))
MR_BINARY_VARIADIC_OP(min, "Min", min, false, MR_TYPES_NUMERIC)
MR_BINARY_ELEMS(max, (a > b || a != a) ? a : b, a > b ? a : b)
MR_BINARY_KERNELS(max, MR_BINARY_AS_INPUT)
MR_BINARY_KIND(max, false, MR_BINARY_SAME(max))
MR_BINARY_VARIADIC_OP(max, "Max", max, false, MR_TYPES_NUMERIC)
