/*
 * unary.c - element-wise math: Sqrt, Exp, Log, Abs, Neg, Reciprocal, Floor, Ceil, Sign on float32
 * and float64 (Abs, Neg and Sign also on int32 and int64), and Not on bool.
 *
 * An operator is a table entry: one kernel per computed type, generated from one expression of
 * v = x[i] for the float types and one for the integer types. Integer negation is done in the
 * unsigned type of the same width, so -INT_MIN wraps (as numpy does) instead of being undefined.
 *
 * Opset history shared by these operators: opset 1 had the ignored `consumed_inputs` hint; opset 6
 * removed it and (for Abs and Neg) added integer types; opset 13 added bfloat16. Sign appeared in
 * opset 9 with every numeric type. Nothing changed after 13 up to 21.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "mr.h"

/* ---- type sets ONNX accepts (MR_TYPE bits of ONNX type codes) ---- */

enum { MR_UNARY_U16 = 4, MR_UNARY_I16 = 5, MR_UNARY_F16 = 10, MR_UNARY_U32 = 12 };
enum { MR_UNARY_U64 = 13, MR_UNARY_BF16 = 16 };
#define MR_UNARY_FLOATS (MR_TYPES_FLOAT | MR_TYPE(MR_UNARY_F16) | MR_TYPE(MR_UNARY_BF16))
#define MR_UNARY_SIGNED                                                                            \
    (MR_TYPE(MINIRT_INT8) | MR_TYPE(MR_UNARY_I16) | MR_TYPE(MINIRT_INT32) | MR_TYPE(MINIRT_INT64))
#define MR_UNARY_INTS                                                                              \
    (MR_UNARY_SIGNED | MR_TYPE(MINIRT_UINT8) | MR_TYPE(MR_UNARY_U16) | MR_TYPE(MR_UNARY_U32) |     \
     MR_TYPE(MR_UNARY_U64))

/* Index of each computed type in mr_unary_kind.fn. */
enum { MR_UNARY_F32 = 0, MR_UNARY_F64, MR_UNARY_I32, MR_UNARY_I64, MR_UNARY_NTYPES };

static int mr_unary_type_index(int dtype) {
    switch (dtype) {
    case MINIRT_FLOAT32:
        return MR_UNARY_F32;
    case MINIRT_FLOAT64:
        return MR_UNARY_F64;
    case MINIRT_INT32:
        return MR_UNARY_I32;
    case MINIRT_INT64:
        return MR_UNARY_I64;
    default:
        return -1;
    }
}

/* y[i] = f(x[i]) for i < n. */
typedef void (*mr_unary_kernel)(const void *x, void *y, int64_t n);

typedef struct mr_unary_kind {
    mr_unary_kernel fn[MR_UNARY_NTYPES]; /* NULL where the type is not computed */
    int int_since;                       /* first opset accepting integers; 0: never */
    unsigned int_spec;                   /* the integer types ONNX then accepts */
} mr_unary_kind;

typedef struct mr_unary_params {
    const mr_unary_kind *kind;
} mr_unary_params;

static mr_status mr_unary_prepare(mr_ctx *ctx, mr_node *node, const mr_unary_kind *kind) {
    mr_unary_params *p = mr_calloc(ctx, 1, sizeof(*p));
    if (!p) return mr_nomem(ctx);
    p->kind = kind;
    node->params = p;
    return MINIRT_OK;
}

/* Y takes X's type and shape. The type must be one the opset allows (else a MODEL error) and one
 * computed here, in the op's types (else UNSUPPORTED). */
static mr_status mr_unary_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                                mr_tensor *const *out) {
    const mr_unary_kind *kind = ((const mr_unary_params *)node->params)->kind;
    const mr_tensor *x = in[0];
    int dtype = x->dtype;
    bool ints_ok = kind->int_since && node->opset >= kind->int_since;
    unsigned spec = MR_UNARY_FLOATS | (ints_ok ? kind->int_spec : 0);
    unsigned bit = dtype > 0 && dtype < 32 ? MR_TYPE(dtype) : 0;
    if (!(bit & spec))
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                             "input X has type %s, which %s does not accept at opset %d",
                             mr_dtype_name(dtype), node->op_type, node->opset);
    mr_status st = mr_check_type(ctx, node, "X", dtype);
    if (st != MINIRT_OK) return st;
    out[0]->dtype = dtype;
    out[0]->ndim = x->ndim;
    memcpy(out[0]->dims, x->dims, (size_t)x->ndim * sizeof(x->dims[0]));
    node->workspace = 0;
    return MINIRT_OK;
}

static mr_status mr_unary_run(mr_ctx *ctx, const mr_node *node, mr_tensor *const *in,
                              mr_tensor *const *out, void *ws) {
    (void)ctx;
    (void)ws;
    const mr_unary_kind *kind = ((const mr_unary_params *)node->params)->kind;
    kind->fn[mr_unary_type_index(in[0]->dtype)](in[0]->data, out[0]->data, mr_numel(in[0]));
    return MINIRT_OK;
}

/* Type-generic math for the float expressions. */
#define MR_SQRT(v) _Generic((v), float : sqrtf, double : sqrt)(v)
#define MR_EXP(v) _Generic((v), float : expf, double : exp)(v)
#define MR_LOG(v) _Generic((v), float : logf, double : log)(v)
#define MR_FABS(v) _Generic((v), float : fabsf, double : fabs)(v)
#define MR_FLOOR(v) _Generic((v), float : floorf, double : floor)(v)
#define MR_CEIL(v) _Generic((v), float : ceilf, double : ceil)(v)

/* A kernel y[i] = EXPR(v = x[i]) on element type TYPE; U is the unsigned type of the same width. */
#define MR_UNARY_KERNEL(FN, TYPE, UTYPE, EXPR)                                                     \
    static void FN(const void *px, void *py, int64_t n) {                                          \
        typedef TYPE T;                                                                            \
        typedef UTYPE U;                                                                           \
        (void)sizeof(T);                                                                           \
        (void)sizeof(U);                                                                           \
        const T *x = px;                                                                           \
        T *y = py;                                                                                 \
        for (int64_t i = 0; i < n; i++) {                                                          \
            const T v = x[i];                                                                      \
            y[i] = (T)(EXPR);                                                                      \
        }                                                                                          \
    }

/* Float kernels and an operator computing float32 and float64 only (the kernels for the op's
 * types, so the table and mr_op.types agree). */
#define MR_UNARY_FLOAT_KERNELS(OP, FEXPR)                                                          \
    MR_UNARY_KERNEL(mr_unary_##OP##_f32, float, uint32_t, FEXPR)                                   \
    MR_UNARY_KERNEL(mr_unary_##OP##_f64, double, uint64_t, FEXPR)
#define MR_UNARY_FLOAT_OP(OP, OP_TYPE, FEXPR)                                                      \
    MR_UNARY_FLOAT_KERNELS(OP, FEXPR)                                                              \
    static const mr_unary_kind mr_unary_##OP##_kind = {                                            \
        {mr_unary_##OP##_f32, mr_unary_##OP##_f64, NULL, NULL}, 0, 0};                             \
    MR_UNARY_OP(OP, OP_TYPE, 1, MR_TYPES_FLOAT)

/* Kernels for float32, float64, int32, int64; ints accepted from opset INT_SINCE. */
#define MR_UNARY_NUMERIC_OP(OP, OP_TYPE, SINCE, FEXPR, IEXPR, INT_SINCE, INT_SPEC)                 \
    MR_UNARY_FLOAT_KERNELS(OP, FEXPR)                                                              \
    MR_UNARY_KERNEL(mr_unary_##OP##_i32, int32_t, uint32_t, IEXPR)                                 \
    MR_UNARY_KERNEL(mr_unary_##OP##_i64, int64_t, uint64_t, IEXPR)                                 \
    static const mr_unary_kind mr_unary_##OP##_kind = {                                            \
        {mr_unary_##OP##_f32, mr_unary_##OP##_f64, mr_unary_##OP##_i32, mr_unary_##OP##_i64},      \
        INT_SINCE,                                                                                 \
        INT_SPEC};                                                                                 \
    MR_UNARY_OP(OP, OP_TYPE, SINCE, MR_TYPES_F_I32_I64)

/* The mr_op `mr_op_<OP>` for the kind `mr_unary_<OP>_kind`, computing TYPES. */
#define MR_UNARY_OP(OP, OP_TYPE, SINCE, TYPES)                                                     \
    static mr_status mr_unary_##OP##_prepare(mr_ctx *ctx, mr_node *node) {                         \
        return mr_unary_prepare(ctx, node, &mr_unary_##OP##_kind);                                 \
    }                                                                                              \
    const mr_op mr_op_##OP = {                                                                     \
        .domain = "",                                                                              \
        .op_type = OP_TYPE,                                                                        \
        .since = SINCE,                                                                            \
        .until = 21,                                                                               \
        .min_inputs = 1,                                                                           \
        .max_inputs = 1,                                                                           \
        .min_outputs = 1,                                                                          \
        .max_outputs = 1,                                                                          \
        .prepare = mr_unary_##OP##_prepare,                                                        \
        .infer = mr_unary_infer,                                                                   \
        .run = mr_unary_run,                                                                       \
        .flags = MR_OP_INPLACE, /* out[0] may share in[0]'s buffer */                              \
        .types = TYPES,                                                                            \
    };

/* clang-format off */

/* Sqrt: NaN for x < 0. https://onnx.ai/onnx/operators/onnx__Sqrt.html */
MR_UNARY_FLOAT_OP(sqrt, "Sqrt", MR_SQRT(v))

/* Exp. https://onnx.ai/onnx/operators/onnx__Exp.html */
MR_UNARY_FLOAT_OP(exp, "Exp", MR_EXP(v))

/* Log: NaN for x < 0, -inf for 0. https://onnx.ai/onnx/operators/onnx__Log.html */
MR_UNARY_FLOAT_OP(log, "Log", MR_LOG(v))

/* Reciprocal: 1 / x (inf for +-0). https://onnx.ai/onnx/operators/onnx__Reciprocal.html */
MR_UNARY_FLOAT_OP(reciprocal, "Reciprocal", 1 / v)

/* Floor. https://onnx.ai/onnx/operators/onnx__Floor.html */
MR_UNARY_FLOAT_OP(floor, "Floor", MR_FLOOR(v))

/* Ceil. https://onnx.ai/onnx/operators/onnx__Ceil.html */
MR_UNARY_FLOAT_OP(ceil, "Ceil", MR_CEIL(v))

/* Abs: every numeric type from opset 6. https://onnx.ai/onnx/operators/onnx__Abs.html */
MR_UNARY_NUMERIC_OP(abs, "Abs", 1, MR_FABS(v), v < 0 ? (U)0 - (U)v : (U)v, 6, MR_UNARY_INTS)

/* Neg: signed integers from opset 6. https://onnx.ai/onnx/operators/onnx__Neg.html */
MR_UNARY_NUMERIC_OP(neg, "Neg", 1, -v, (U)0 - (U)v, 6, MR_UNARY_SIGNED)

/* Sign (opset 9): -1, 0 or 1; a float NaN stays NaN and -0 stays -0.
 * https://onnx.ai/onnx/operators/onnx__Sign.html */
MR_UNARY_NUMERIC_OP(sign, "Sign", 9, v > 0 ? (T)1 : v < 0 ? (T)-1 : v, (v > 0) - (v < 0), 9,
                    MR_UNARY_INTS)

/* clang-format on */

/* ---- Not ----
 * Y = !X on bool tensors (any non-zero byte counts as true). Unchanged since opset 1.
 * https://onnx.ai/onnx/operators/onnx__Not.html
 */
static mr_status mr_not_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                              mr_tensor *const *out) {
    const mr_tensor *x = in[0];
    if (x->dtype != MINIRT_BOOL)
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL, "input X has type %s; Not takes bool",
                             mr_dtype_name(x->dtype));
    out[0]->dtype = MINIRT_BOOL;
    out[0]->ndim = x->ndim;
    memcpy(out[0]->dims, x->dims, (size_t)x->ndim * sizeof(x->dims[0]));
    node->workspace = 0;
    return MINIRT_OK;
}

static mr_status mr_not_run(mr_ctx *ctx, const mr_node *node, mr_tensor *const *in,
                            mr_tensor *const *out, void *ws) {
    (void)ctx;
    (void)node;
    (void)ws;
    const uint8_t *x = in[0]->data;
    uint8_t *y = out[0]->data;
    int64_t n = mr_numel(in[0]);
    for (int64_t i = 0; i < n; i++)
        y[i] = x[i] == 0;
    return MINIRT_OK;
}

const mr_op mr_op_not = {
    .domain = "",
    .op_type = "Not",
    .since = 1,
    .until = 21,
    .min_inputs = 1,
    .max_inputs = 1,
    .min_outputs = 1,
    .max_outputs = 1,
    .prepare = NULL,
    .infer = mr_not_infer,
    .run = mr_not_run,
    .flags = MR_OP_INPLACE, /* out[0] may share in[0]'s buffer */
    .types = MR_TYPE(MINIRT_BOOL),
};
