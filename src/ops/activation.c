/*
 * activation.c - activations: the element-wise ones (Relu, LeakyRelu, Elu, Selu, Celu, Sigmoid,
 * HardSigmoid, HardSwish, Tanh, Softplus, Softsign, ThresholdedRelu, Erf), PRelu (slope broadcast
 * to X), Clip, and Softmax / LogSoftmax.
 *
 * Each element-wise activation is one kernel `mr_act_<name>(x, y, n, params)` over a float array
 * (y == x computes in place), written as one expression of v = x[i] and the attributes a (alpha),
 * b (beta), g (gamma), plus a table entry naming its attributes and types. The kernels depend on
 * nothing but mr_act_params, so they can be lifted into a shared header for a fused epilogue
 * (Conv + activation) without change.
 *
 * Vectorisation: under GCC's default -ftrapping-math a `c ? e1 : e2` whose arms compute is kept as
 * a branch, which stops the vectoriser. The float kernels therefore compute both sides and select
 * with bit masks (MR_LT), and take exp / tanh from branch-free polynomials (mr_fast_expf,
 * mr_act_tanhf, within 2 and 3 ulp of the exact values) instead of libm calls. float64 uses libm.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fastmath.h"
#include "mr.h"

/* ---- type sets: what ONNX accepts (MODEL error otherwise); what minirt computes is each op's
 * mr_op.types (UNSUPPORTED otherwise) ---- */

enum { MR_ACT_U16 = 4, MR_ACT_I16 = 5, MR_ACT_F16 = 10, MR_ACT_U32 = 12, MR_ACT_U64 = 13 };
enum { MR_ACT_BF16 = 16 };
#define MR_ACT_FLOATS (MR_TYPES_FLOAT | MR_TYPE(MR_ACT_F16) | MR_TYPE(MR_ACT_BF16))
#define MR_ACT_INTS                                                                                \
    (MR_TYPE(MINIRT_UINT8) | MR_TYPE(MINIRT_INT8) | MR_TYPE(MR_ACT_U16) | MR_TYPE(MR_ACT_I16) |    \
     MR_TYPE(MINIRT_INT32) | MR_TYPE(MINIRT_INT64) | MR_TYPE(MR_ACT_U32) | MR_TYPE(MR_ACT_U64))

/* MODEL error when input `what` has a type ONNX does not allow at this opset (spec); UNSUPPORTED
 * when it is allowed but not computed here (not in node->op->types); OK otherwise. */
static mr_status mr_act_check_type(mr_ctx *ctx, const mr_node *node, const char *what, int dtype,
                                   unsigned spec) {
    unsigned bit = dtype > 0 && dtype < 32 ? MR_TYPE(dtype) : 0;
    if (!(bit & spec))
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                             "input %s has type %s, which %s does not accept at opset %d", what,
                             mr_dtype_name(dtype), node->op_type, node->opset);
    return mr_check_type(ctx, node, what, dtype);
}

/* Output 0 takes input 0's type and shape. */
static void mr_act_same_shape(mr_node *node, const mr_tensor *x, mr_tensor *y) {
    y->dtype = x->dtype;
    y->ndim = x->ndim;
    memcpy(y->dims, x->dims, (size_t)x->ndim * sizeof(x->dims[0]));
    node->workspace = 0;
}

/* ---- branch-free building blocks ---- */

static inline double mr_act_lt_f64(double p, double q, double a, double b) {
    return p < q ? a : b;
}

/*
 * tanh(x) for float, branch-free: |x| >= 0.4 as 1 - 2 / (e^2|x| + 1); |x| < 0.4, where that
 * cancels, by the odd Taylor series to x^13 (error < 2^-28); the sign is copied back last.
 */
static inline float mr_act_tanhf(float x) {
    float ax = fabsf(x);
    float big = 1.0f - 2.0f / (mr_fast_expf(2.0f * ax) + 1.0f);
    float xs = mr_fast_lt(ax, 0.4f, ax, 0.4f);
    float w = mr_fast_lt(ax, 0.4f, 1.0f, 0.0f);
    float x2 = xs * xs;
    float q = 21844.0f / 6081075;
    q = q * x2 - 1382.0f / 155925;
    q = q * x2 + 62.0f / 2835;
    q = q * x2 - 17.0f / 315;
    q = q * x2 + 2.0f / 15;
    q = q * x2 - 1.0f / 3;
    float small = xs + xs * x2 * q;
    return copysignf(w * small + (1.0f - w) * big, x);
}

/* Type-generic pieces for the kernel expressions below (T is the element type in scope). */
#define MR_LT(p, q, a, b) _Generic((a), float : mr_fast_lt, double : mr_act_lt_f64)(p, q, a, b)
#define MR_POS(v) MR_LT(v, (T)0, (T)0, v) /* max(v, 0); NaN stays */
#define MR_NEG(v) MR_LT((T)0, v, (T)0, v) /* min(v, 0); NaN stays */
#define MR_CLAMP(v, lo, hi) MR_LT(hi, MR_LT(v, lo, lo, v), hi, MR_LT(v, lo, lo, v))
#define MR_EXP(v) _Generic((v), float : mr_fast_expf, double : exp)(v)
#define MR_TANH(v) _Generic((v), float : mr_act_tanhf, double : tanh)(v)
#define MR_LOG1P(v) _Generic((v), float : log1pf, double : log1p)(v)
#define MR_ERF(v) _Generic((v), float : erff, double : erf)(v)
#define MR_FABS(v) _Generic((v), float : fabsf, double : fabs)(v)

/* ---- element-wise kernels ----
 * y[i] = EXPR(v = x[i]) for i < n, with a, b, g = alpha, beta, gamma in the element type. y may
 * equal x (in place).
 */
typedef struct mr_act_params {
    float alpha, beta, gamma;
} mr_act_params;

typedef void (*mr_act_f32_fn)(const float *x, float *y, int64_t n, const mr_act_params *p);
typedef void (*mr_act_f64_fn)(const double *x, double *y, int64_t n, const mr_act_params *p);

#define MR_ACT_KERNEL(FN, TYPE, EXPR)                                                              \
    MR_SIMD_CLONES static void FN(const TYPE *x, TYPE *y, int64_t n, const mr_act_params *p) {     \
        typedef TYPE T;                                                                            \
        const T a = (T)p->alpha, b = (T)p->beta, g = (T)p->gamma;                                  \
        (void)sizeof(T);                                                                           \
        (void)a;                                                                                   \
        (void)b;                                                                                   \
        (void)g;                                                                                   \
        for (int64_t i = 0; i < n; i++) {                                                          \
            const T v = x[i];                                                                      \
            y[i] = (EXPR);                                                                         \
        }                                                                                          \
    }
#define MR_ACT_KERNELS(NAME, EXPR)                                                                 \
    MR_ACT_KERNEL(mr_act_##NAME, float, EXPR)                                                      \
    MR_ACT_KERNEL(mr_act_##NAME##_f64, double, EXPR)

/* clang-format off */
MR_ACT_KERNELS(relu, MR_POS(v))
MR_ACT_KERNELS(leaky_relu, MR_POS(v) + a * MR_NEG(v))
MR_ACT_KERNELS(elu, MR_POS(v) + a * (MR_EXP(MR_NEG(v)) - 1))
MR_ACT_KERNELS(selu, g * (MR_POS(v) + (a * MR_EXP(MR_NEG(v)) - a)))
/* max(0, v) + min(0, a * (exp(v / a) - 1)), the same for either sign of a (a != 0) */
MR_ACT_KERNEL(mr_act_celu, float, MR_POS(v) + a * (MR_EXP(MR_NEG(v) / a) - 1))
MR_ACT_KERNELS(sigmoid, 1 / (1 + MR_EXP(-v)))
MR_ACT_KERNELS(hard_sigmoid, MR_CLAMP(a * v + b, (T)0, (T)1))
MR_ACT_KERNELS(hard_swish, v * MR_CLAMP(v * ((T)1 / 6) + (T)0.5, (T)0, (T)1))
MR_ACT_KERNELS(tanh, MR_TANH(v))
/* log(1 + e^v) without overflow: max(v, 0) + log1p(e^-|v|) */
MR_ACT_KERNELS(softplus, MR_POS(v) + MR_LOG1P(MR_EXP(-MR_FABS(v))))
MR_ACT_KERNELS(softsign, v / (1 + MR_FABS(v)))
MR_ACT_KERNELS(thresholded_relu, MR_LT(a, v, v, (T)0))
MR_ACT_KERNELS(erf, MR_ERF(v))
/* min(max(v, alpha), beta): beta wins when alpha > beta, as ONNX specifies */
MR_ACT_KERNEL(mr_act_clip, float, MR_CLAMP(v, a, b))
/* clang-format on */

/* ---- Relu ----
 * Y[i] = max(X[i], 0); a NaN passes through (as numpy.maximum does). Opset 1 also had a
 * `consumed_inputs` attribute (a legacy in-place hint), which is ignored.
 * Float types in all opsets; integer types since opset 14 (int8, int32, int64 computed here).
 * https://onnx.ai/onnx/operators/onnx__Relu.html
 */

static mr_status mr_relu_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                               mr_tensor *const *out) {
    unsigned ints =
        MR_TYPE(MINIRT_INT8) | MR_TYPE(MR_ACT_I16) | MR_TYPE(MINIRT_INT32) | MR_TYPE(MINIRT_INT64);
    unsigned spec = MR_ACT_FLOATS | (node->opset >= 14 ? ints : 0);
    mr_status st = mr_act_check_type(ctx, node, "X", in[0]->dtype, spec);
    if (st != MINIRT_OK) return st;
    mr_act_same_shape(node, in[0], out[0]);
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
    const mr_act_params none = {0, 0, 0};
    int64_t n = mr_numel(in[0]);
    switch (in[0]->dtype) {
    case MINIRT_FLOAT32:
        mr_act_relu(in[0]->data, out[0]->data, n, &none);
        break;
    case MINIRT_FLOAT64:
        mr_act_relu_f64(in[0]->data, out[0]->data, n, &none);
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
    .flags = MR_OP_INPLACE, /* out[0] may share in[0]'s buffer */
    .types = MR_TYPES_FLOAT | MR_TYPE(MINIRT_INT8) | MR_TYPE(MINIRT_INT32) | MR_TYPE(MINIRT_INT64),
};

/* ---- the element-wise activations with float attributes ----
 * One table entry each: kernels, which of alpha / beta / gamma it reads (with their defaults),
 * the types ONNX accepts, and an optional attribute check. Opsets 1..5 also had the ignored
 * `consumed_inputs` hint. Opsets 6 to 21 changed only types (float16 / bfloat16, not computed
 * here), so one implementation covers 1..21.
 */
enum { MR_ACT_ALPHA = 1, MR_ACT_BETA = 2, MR_ACT_GAMMA = 4 };

typedef struct mr_act_kind {
    mr_act_f32_fn f32;
    mr_act_f64_fn f64; /* NULL: float32 only (the op's types, MR_ACT_OP) */
    unsigned attrs;    /* MR_ACT_ALPHA | MR_ACT_BETA | MR_ACT_GAMMA read from the node */
    float def[3];      /* alpha, beta, gamma when absent */
    unsigned spec;     /* types ONNX accepts */
    mr_status (*check)(mr_ctx *ctx, const mr_node *node, mr_act_params *p); /* NULL if none */
} mr_act_kind;

typedef struct mr_act_node {
    const mr_act_kind *kind;
    mr_act_params p;
} mr_act_node;

static mr_status mr_act_prepare(mr_ctx *ctx, mr_node *node, const mr_act_kind *kind) {
    static const char *const names[3] = {"alpha", "beta", "gamma"};
    mr_act_node *an = mr_calloc(ctx, 1, sizeof(*an));
    if (!an) return mr_nomem(ctx);
    node->params = an;
    an->kind = kind;
    float *vals[3] = {&an->p.alpha, &an->p.beta, &an->p.gamma};
    for (int i = 0; i < 3; i++) {
        *vals[i] = kind->def[i];
        if (!(kind->attrs & (1u << i))) continue;
        mr_status st = mr_attr_float(ctx, node, names[i], kind->def[i], vals[i]);
        if (st != MINIRT_OK) return st;
    }
    return kind->check ? kind->check(ctx, node, &an->p) : MINIRT_OK;
}

static mr_status mr_act_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                              mr_tensor *const *out) {
    const mr_act_node *an = node->params;
    mr_status st = mr_act_check_type(ctx, node, "X", in[0]->dtype, an->kind->spec);
    if (st != MINIRT_OK) return st;
    mr_act_same_shape(node, in[0], out[0]);
    return MINIRT_OK;
}

static mr_status mr_act_run(mr_ctx *ctx, const mr_node *node, mr_tensor *const *in,
                            mr_tensor *const *out, void *ws) {
    (void)ctx;
    (void)ws;
    const mr_act_node *an = node->params;
    int64_t n = mr_numel(in[0]);
    if (in[0]->dtype == MINIRT_FLOAT64)
        an->kind->f64(in[0]->data, out[0]->data, n, &an->p);
    else
        an->kind->f32(in[0]->data, out[0]->data, n, &an->p);
    return MINIRT_OK;
}

#define MR_ACT_OP(NAME, OP_TYPE, SINCE, TYPES)                                                     \
    static mr_status mr_act_##NAME##_prepare(mr_ctx *ctx, mr_node *node) {                         \
        return mr_act_prepare(ctx, node, &mr_act_##NAME##_kind);                                   \
    }                                                                                              \
    const mr_op mr_op_##NAME = {                                                                   \
        .domain = "",                                                                              \
        .op_type = OP_TYPE,                                                                        \
        .since = SINCE,                                                                            \
        .until = 21,                                                                               \
        .min_inputs = 1,                                                                           \
        .max_inputs = 1,                                                                           \
        .min_outputs = 1,                                                                          \
        .max_outputs = 1,                                                                          \
        .prepare = mr_act_##NAME##_prepare,                                                        \
        .infer = mr_act_infer,                                                                     \
        .run = mr_act_run,                                                                         \
        .flags = MR_OP_INPLACE, /* out[0] may share in[0]'s buffer */                              \
        .types = TYPES,                                                                            \
    };

/* LeakyRelu: y = x < 0 ? alpha * x : x. https://onnx.ai/onnx/operators/onnx__LeakyRelu.html */
static const mr_act_kind mr_act_leaky_relu_kind = {
    mr_act_leaky_relu, mr_act_leaky_relu_f64, MR_ACT_ALPHA, {0.01f, 0, 0}, MR_ACT_FLOATS, NULL};
MR_ACT_OP(leaky_relu, "LeakyRelu", 1, MR_TYPES_FLOAT)

/* Elu: y = x < 0 ? alpha * (e^x - 1) : x. https://onnx.ai/onnx/operators/onnx__Elu.html */
static const mr_act_kind mr_act_elu_kind = {mr_act_elu,   mr_act_elu_f64, MR_ACT_ALPHA,
                                            {1.0f, 0, 0}, MR_ACT_FLOATS,  NULL};
MR_ACT_OP(elu, "Elu", 1, MR_TYPES_FLOAT)

/* Selu: y = gamma * (x <= 0 ? alpha * e^x - alpha : x). Opset 1 documented the shorter defaults
 * 1.6732 and 1.0507; opset 6 gave the float32 roundings of the exact constants.
 * https://onnx.ai/onnx/operators/onnx__Selu.html */
static mr_status mr_act_selu_check(mr_ctx *ctx, const mr_node *node, mr_act_params *p) {
    (void)ctx;
    if (node->opset < 6 && !mr_attr_find(node, "alpha")) p->alpha = 1.6732f;
    if (node->opset < 6 && !mr_attr_find(node, "gamma")) p->gamma = 1.0507f;
    return MINIRT_OK;
}
static const mr_act_kind mr_act_selu_kind = {
    mr_act_selu,
    mr_act_selu_f64,
    MR_ACT_ALPHA | MR_ACT_GAMMA,
    {1.67326319217681884765625f, 0, 1.05070102214813232421875f},
    MR_ACT_FLOATS,
    mr_act_selu_check};
MR_ACT_OP(selu, "Selu", 1, MR_TYPES_FLOAT)

/* Celu (opset 12, float32 only): y = max(0, x) + min(0, alpha * (e^(x / alpha) - 1)); alpha = 0
 * would divide by zero. https://onnx.ai/onnx/operators/onnx__Celu.html */
static mr_status mr_act_celu_check(mr_ctx *ctx, const mr_node *node, mr_act_params *p) {
    if (p->alpha == 0.0f || !isfinite(p->alpha))
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                             "attribute 'alpha' is %g; it must be finite and non-zero",
                             (double)p->alpha);
    return MINIRT_OK;
}
static const mr_act_kind mr_act_celu_kind = {
    mr_act_celu, NULL, MR_ACT_ALPHA, {1.0f, 0, 0}, MR_TYPE(MINIRT_FLOAT32), mr_act_celu_check};
MR_ACT_OP(celu, "Celu", 12, MR_TYPE(MINIRT_FLOAT32))

/* Sigmoid: y = 1 / (1 + e^-x). https://onnx.ai/onnx/operators/onnx__Sigmoid.html */
static const mr_act_kind mr_act_sigmoid_kind = {mr_act_sigmoid, mr_act_sigmoid_f64, 0,
                                                {0, 0, 0},      MR_ACT_FLOATS,      NULL};
MR_ACT_OP(sigmoid, "Sigmoid", 1, MR_TYPES_FLOAT)

/* HardSigmoid: y = max(0, min(1, alpha * x + beta)).
 * https://onnx.ai/onnx/operators/onnx__HardSigmoid.html */
static const mr_act_kind mr_act_hard_sigmoid_kind = {
    mr_act_hard_sigmoid, mr_act_hard_sigmoid_f64, MR_ACT_ALPHA | MR_ACT_BETA,
    {0.2f, 0.5f, 0},     MR_ACT_FLOATS,           NULL};
MR_ACT_OP(hard_sigmoid, "HardSigmoid", 1, MR_TYPES_FLOAT)

/* HardSwish (opset 14): y = x * max(0, min(1, x / 6 + 1 / 2)), no attributes (1/6 is rounded
 * in the element type). https://onnx.ai/onnx/operators/onnx__HardSwish.html */
static const mr_act_kind mr_act_hard_swish_kind = {mr_act_hard_swish, mr_act_hard_swish_f64, 0,
                                                   {0, 0, 0},         MR_ACT_FLOATS,         NULL};
MR_ACT_OP(hard_swish, "HardSwish", 14, MR_TYPES_FLOAT)

/* Tanh. https://onnx.ai/onnx/operators/onnx__Tanh.html */
static const mr_act_kind mr_act_tanh_kind = {mr_act_tanh, mr_act_tanh_f64, 0,
                                             {0, 0, 0},   MR_ACT_FLOATS,   NULL};
MR_ACT_OP(tanh, "Tanh", 1, MR_TYPES_FLOAT)

/* Softplus: y = ln(e^x + 1). https://onnx.ai/onnx/operators/onnx__Softplus.html */
static const mr_act_kind mr_act_softplus_kind = {mr_act_softplus, mr_act_softplus_f64, 0,
                                                 {0, 0, 0},       MR_ACT_FLOATS,       NULL};
MR_ACT_OP(softplus, "Softplus", 1, MR_TYPES_FLOAT)

/* Softsign: y = x / (1 + |x|). https://onnx.ai/onnx/operators/onnx__Softsign.html */
static const mr_act_kind mr_act_softsign_kind = {mr_act_softsign, mr_act_softsign_f64, 0,
                                                 {0, 0, 0},       MR_ACT_FLOATS,       NULL};
MR_ACT_OP(softsign, "Softsign", 1, MR_TYPES_FLOAT)

/* ThresholdedRelu (opset 10; experimental before): y = x > alpha ? x : 0.
 * https://onnx.ai/onnx/operators/onnx__ThresholdedRelu.html */
static const mr_act_kind mr_act_thresholded_relu_kind = {mr_act_thresholded_relu,
                                                         mr_act_thresholded_relu_f64,
                                                         MR_ACT_ALPHA,
                                                         {1.0f, 0, 0},
                                                         MR_ACT_FLOATS,
                                                         NULL};
MR_ACT_OP(thresholded_relu, "ThresholdedRelu", 10, MR_TYPES_FLOAT)

/* Erf (opset 9): ONNX also allows integer types, which are not computed here.
 * https://onnx.ai/onnx/operators/onnx__Erf.html */
static const mr_act_kind mr_act_erf_kind = {
    mr_act_erf, mr_act_erf_f64, 0, {0, 0, 0}, MR_ACT_FLOATS | MR_ACT_INTS, NULL};
MR_ACT_OP(erf, "Erf", 9, MR_TYPES_FLOAT)

/* ---- PRelu ----
 * Y = X < 0 ? slope * X : X with slope broadcast to X's shape. Opset 7 made the broadcast numpy
 * style and unidirectional (the result must have X's shape). Opsets 1 and 6 described slope only
 * as "shared across channels when of size 1"; their exporters wrote a per-channel [C] slope for
 * X[N, C, ...], so before opset 7 a 1-D slope of X's dim 1 applies along axis 1 (otherwise the
 * numpy rule). Floats in all opsets; int32 / int64 (and unsigned types) since opset 9.
 * https://onnx.ai/onnx/operators/onnx__PRelu.html
 *
 * Plan (infer): X's axes with size-1 axes dropped and neighbours merged when the slope is
 * broadcast on both or on neither, with the slope's element stride per axis (0 where broadcast).
 * The last axis is the kernel's run, with slope stride 1 or 0.
 */
typedef struct mr_prelu_params {
    int rank;
    int64_t dims[MR_MAX_DIMS];
    int64_t ss[MR_MAX_DIMS];
} mr_prelu_params;

static mr_status mr_prelu_prepare(mr_ctx *ctx, mr_node *node) {
    node->params = mr_calloc(ctx, 1, sizeof(mr_prelu_params));
    return node->params ? MINIRT_OK : mr_nomem(ctx);
}

static mr_status mr_prelu_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                                mr_tensor *const *out) {
    mr_prelu_params *p = node->params;
    const mr_tensor *x = in[0], *s = in[1];
    unsigned spec = MR_ACT_FLOATS | (node->opset >= 9 ? MR_ACT_INTS : 0);
    mr_status st = mr_act_check_type(ctx, node, "X", x->dtype, spec);
    if (st != MINIRT_OK) return st;
    if (s->dtype != x->dtype)
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                             "input slope has type %s but X has type %s; they must be the same",
                             mr_dtype_name(s->dtype), mr_dtype_name(x->dtype));

    /* The slope's dims placed in X's rank (1 where absent or broadcast). */
    int r = x->ndim;
    int64_t sd[MR_MAX_DIMS];
    for (int i = 0; i < r; i++)
        sd[i] = 1;
    if (node->opset < 7 && mr_numel(s) == 1) {
        /* one shared slope */
    } else if (node->opset < 7 && s->ndim == 1 && r >= 2 && s->dims[0] == x->dims[1]) {
        sd[1] = s->dims[0];
    } else {
        const mr_tensor *both[2] = {x, s};
        int bn;
        int64_t bd[MR_MAX_DIMS];
        st = mr_broadcast_dims(ctx, node, 2, both, &bn, bd);
        if (st != MINIRT_OK) return st;
        if (bn != r || memcmp(bd, x->dims, (size_t)r * sizeof(int64_t)) != 0) {
            char b1[160], b2[160];
            return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                                 "slope of shape %s does not broadcast to X's shape %s "
                                 "(PRelu broadcasts slope to X only)",
                                 mr_dims_str(b1, sizeof(b1), s->ndim, s->dims),
                                 mr_dims_str(b2, sizeof(b2), r, x->dims));
        }
        for (int i = 0; i < s->ndim; i++)
            sd[r - s->ndim + i] = s->dims[i];
    }

    int64_t stride[MR_MAX_DIMS], acc = 1;
    for (int i = r - 1; i >= 0; i--) {
        stride[i] = sd[i] == 1 ? 0 : acc;
        acc *= sd[i];
    }
    int m = 0;
    for (int i = 0; i < r; i++) {
        if (x->dims[i] == 1) continue;
        if (m > 0 && (p->ss[m - 1] == 0) == (stride[i] == 0)) {
            p->dims[m - 1] *= x->dims[i];
            p->ss[m - 1] = stride[i];
        } else {
            p->dims[m] = x->dims[i];
            p->ss[m] = stride[i];
            m++;
        }
    }
    if (m == 0) {
        p->dims[0] = 1;
        p->ss[0] = 0;
        m = 1;
    }
    p->rank = m;
    mr_act_same_shape(node, x, out[0]);
    return MINIRT_OK;
}

/* y[i] = f(x[i], s[i or 0]) over one run; sstep is the slope's stride (1 or 0). */
typedef void (*mr_prelu_kernel)(const void *x, const void *s, void *y, int64_t n, int64_t sstep);

static inline float mr_prelu_f32(float v, float s) {
    typedef float T;
    return MR_POS(v) + s * MR_NEG(v);
}
static inline double mr_prelu_f64(double v, double s) {
    typedef double T;
    return MR_POS(v) + s * MR_NEG(v);
}
/* Integer products wrap (computed unsigned) instead of overflowing. */
static inline int32_t mr_prelu_i32(int32_t v, int32_t s) {
    return v < 0 ? (int32_t)((uint32_t)s * (uint32_t)v) : v;
}
static inline int64_t mr_prelu_i64(int64_t v, int64_t s) {
    return v < 0 ? (int64_t)((uint64_t)s * (uint64_t)v) : v;
}

#define MR_PRELU_KERNEL(NAME, T, ELEM)                                                             \
    static void NAME(const void *px, const void *ps, void *py, int64_t n, int64_t sstep) {         \
        const T *x = px;                                                                           \
        const T *s = ps;                                                                           \
        T *y = py;                                                                                 \
        if (sstep) {                                                                               \
            for (int64_t i = 0; i < n; i++)                                                        \
                y[i] = ELEM(x[i], s[i]);                                                           \
        } else {                                                                                   \
            const T s0 = s[0];                                                                     \
            for (int64_t i = 0; i < n; i++)                                                        \
                y[i] = ELEM(x[i], s0);                                                             \
        }                                                                                          \
    }
MR_PRELU_KERNEL(mr_prelu_k_f32, float, mr_prelu_f32)
MR_PRELU_KERNEL(mr_prelu_k_f64, double, mr_prelu_f64)
MR_PRELU_KERNEL(mr_prelu_k_i32, int32_t, mr_prelu_i32)
MR_PRELU_KERNEL(mr_prelu_k_i64, int64_t, mr_prelu_i64)

static mr_status mr_prelu_run(mr_ctx *ctx, const mr_node *node, mr_tensor *const *in,
                              mr_tensor *const *out, void *ws) {
    (void)ctx;
    (void)ws;
    const mr_prelu_params *p = node->params;
    mr_prelu_kernel fn = mr_prelu_k_f32;
    if (in[0]->dtype == MINIRT_FLOAT64) fn = mr_prelu_k_f64;
    if (in[0]->dtype == MINIRT_INT32) fn = mr_prelu_k_i32;
    if (in[0]->dtype == MINIRT_INT64) fn = mr_prelu_k_i64;
    size_t es = mr_dtype_size(in[0]->dtype);
    const char *x = in[0]->data, *s = in[1]->data;
    char *y = out[0]->data;
    int64_t total = mr_numel(in[0]), inner = p->dims[p->rank - 1];
    int64_t idx[MR_MAX_DIMS] = {0}, os = 0;
    for (int64_t oy = 0; oy < total; oy += inner) {
        fn(x + (size_t)oy * es, s + (size_t)os * es, y + (size_t)oy * es, inner,
           p->ss[p->rank - 1]);
        for (int k = p->rank - 2; k >= 0; k--) {
            os += p->ss[k];
            if (++idx[k] < p->dims[k]) break;
            os -= p->ss[k] * p->dims[k];
            idx[k] = 0;
        }
    }
    return MINIRT_OK;
}

const mr_op mr_op_prelu = {
    .domain = "",
    .op_type = "PRelu",
    .since = 1,
    .until = 21,
    .min_inputs = 2,
    .max_inputs = 2,
    .min_outputs = 1,
    .max_outputs = 1,
    .prepare = mr_prelu_prepare,
    .infer = mr_prelu_infer,
    .run = mr_prelu_run,
    .flags = MR_OP_INPLACE, /* out[0] may share in[0]'s buffer */
    .types = MR_TYPES_F_I32_I64,
};

/* ---- Clip ----
 * Y = min(max(X, min), max); when min > max every element becomes max.
 * Opsets 1..10: float attributes `min` / `max`, defaulting to -FLT_MAX / FLT_MAX (the schema
 * values), float types. Opset 11: optional scalar inputs min / max instead (either may be absent
 * or named ""); read at run time since they do not affect shapes; absent means no bound. Opset 12
 * added the integer types (int8, uint8, int32, int64 computed here), 13 bfloat16.
 * https://onnx.ai/onnx/operators/onnx__Clip.html
 */
typedef struct mr_clip_params {
    float lo, hi; /* opsets 1..10 */
} mr_clip_params;

static mr_status mr_clip_prepare(mr_ctx *ctx, mr_node *node) {
    mr_clip_params *p = mr_calloc(ctx, 1, sizeof(*p));
    if (!p) return mr_nomem(ctx);
    node->params = p;
    if (node->opset >= 11) {
        const char *names[2] = {"min", "max"};
        for (int i = 0; i < 2; i++)
            if (mr_attr_find(node, names[i]))
                return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                     "attribute '%s' became an input in opset 11 (the model has "
                                     "opset %d)",
                                     names[i], node->opset);
        return MINIRT_OK;
    }
    mr_status st = mr_attr_float(ctx, node, "min", -FLT_MAX, &p->lo);
    if (st == MINIRT_OK) st = mr_attr_float(ctx, node, "max", FLT_MAX, &p->hi);
    return st;
}

static mr_status mr_clip_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                               mr_tensor *const *out) {
    const mr_tensor *x = in[0];
    unsigned spec = MR_ACT_FLOATS | (node->opset >= 12 ? MR_ACT_INTS : 0);
    mr_status st = mr_act_check_type(ctx, node, "input", x->dtype, spec);
    if (st != MINIRT_OK) return st;
    for (int i = 1; i < node->n_in; i++) {
        const mr_tensor *b = in[i];
        const char *what = i == 1 ? "min" : "max";
        if (!b) continue;
        if (node->opset < 11)
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                 "input '%s' exists from opset 11; at opset %d min and max are "
                                 "attributes",
                                 what, node->opset);
        if (b->dtype != x->dtype)
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                 "input %s has type %s but input has type %s; they must be the "
                                 "same",
                                 what, mr_dtype_name(b->dtype), mr_dtype_name(x->dtype));
        if (mr_numel(b) != 1) {
            char buf[160];
            return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                                 "input %s has shape %s; it must be a scalar", what,
                                 mr_dims_str(buf, sizeof(buf), b->ndim, b->dims));
        }
    }
    mr_act_same_shape(node, x, out[0]);
    return MINIRT_OK;
}

/* Clip for a non-float32 type T with bounds read from the inputs or the type's limits. */
#define MR_CLIP_LOOP(T, LOWEST, HIGHEST)                                                           \
    do {                                                                                           \
        const T *x_ = in[0]->data;                                                                 \
        T *y_ = out[0]->data;                                                                      \
        const T lo_ = lo_t ? *(const T *)lo_t->data : (LOWEST);                                    \
        const T hi_ = hi_t ? *(const T *)hi_t->data : (HIGHEST);                                   \
        for (int64_t i_ = 0; i_ < n; i_++) {                                                       \
            const T v_ = x_[i_] < lo_ ? lo_ : x_[i_];                                              \
            y_[i_] = v_ > hi_ ? hi_ : v_;                                                          \
        }                                                                                          \
    } while (0)

static mr_status mr_clip_run(mr_ctx *ctx, const mr_node *node, mr_tensor *const *in,
                             mr_tensor *const *out, void *ws) {
    (void)ws;
    const mr_clip_params *p = node->params;
    const mr_tensor *lo_t = node->n_in > 1 ? in[1] : NULL, *hi_t = node->n_in > 2 ? in[2] : NULL;
    int64_t n = mr_numel(in[0]);
    if (node->opset < 11 && in[0]->dtype == MINIRT_FLOAT64) {
        MR_CLIP_LOOP(double, (double)p->lo, (double)p->hi);
        return MINIRT_OK;
    }
    switch (in[0]->dtype) {
    case MINIRT_FLOAT32: {
        mr_act_params cp = {p->lo, p->hi, 0};
        if (node->opset >= 11) {
            cp.alpha = lo_t ? *(const float *)lo_t->data : -INFINITY;
            cp.beta = hi_t ? *(const float *)hi_t->data : INFINITY;
        }
        mr_act_clip(in[0]->data, out[0]->data, n, &cp);
        break;
    }
    case MINIRT_FLOAT64:
        MR_CLIP_LOOP(double, -INFINITY, INFINITY);
        break;
    case MINIRT_INT8:
        MR_CLIP_LOOP(int8_t, INT8_MIN, INT8_MAX);
        break;
    case MINIRT_UINT8:
        MR_CLIP_LOOP(uint8_t, 0, UINT8_MAX);
        break;
    case MINIRT_INT32:
        MR_CLIP_LOOP(int32_t, INT32_MIN, INT32_MAX);
        break;
    case MINIRT_INT64:
        MR_CLIP_LOOP(int64_t, INT64_MIN, INT64_MAX);
        break;
    default:
        return mr_node_error(ctx, node, MINIRT_ERR_INTERNAL, "type %s reached run",
                             mr_dtype_name(in[0]->dtype));
    }
    return MINIRT_OK;
}

const mr_op mr_op_clip = {
    .domain = "",
    .op_type = "Clip",
    .since = 1,
    .until = 21,
    .min_inputs = 1,
    .max_inputs = 3,
    .min_outputs = 1,
    .max_outputs = 1,
    .prepare = mr_clip_prepare,
    .infer = mr_clip_infer,
    .run = mr_clip_run,
    .flags = MR_OP_INPLACE, /* out[0] may share in[0]'s buffer */
    .types = MR_TYPES_NUMERIC,
};

/* ---- Softmax and LogSoftmax ----
 * X is viewed as [outer, n, inner] and each of the outer * inner vectors of n elements (stride
 * inner) is normalised:
 *     softmax:    y = e^(x - m) / s
 *     logsoftmax: y = (x - m) - log(s)       with m = max(x), s = sum(e^(x - m))
 * (subtracting the max keeps e^ in range). Opsets 1 and 11 coerce X to 2-D at `axis` (default 1):
 * n = prod(dims[axis:]), inner = 1. Opset 13 normalises along the single `axis` (default -1):
 * n = dims[axis], inner = prod(dims[axis+1:]). The sums are accumulated in double.
 * Vectors with inner > 1 are processed a block of up to MR_SOFTMAX_BLOCK columns at a time, so the
 * inner loops run along contiguous memory; the block's max and sum live in the workspace.
 * https://onnx.ai/onnx/operators/onnx__Softmax.html
 * https://onnx.ai/onnx/operators/onnx__LogSoftmax.html
 */
#define MR_SOFTMAX_BLOCK 256

typedef struct mr_softmax_params {
    bool log;
    int64_t axis;
    int64_t outer, n, inner; /* from infer */
} mr_softmax_params;

static mr_status mr_softmax_prepare_common(mr_ctx *ctx, mr_node *node, bool log) {
    mr_softmax_params *p = mr_calloc(ctx, 1, sizeof(*p));
    if (!p) return mr_nomem(ctx);
    node->params = p;
    p->log = log;
    return mr_attr_int(ctx, node, "axis", node->opset >= 13 ? -1 : 1, &p->axis);
}

static mr_status mr_softmax_prepare(mr_ctx *ctx, mr_node *node) {
    return mr_softmax_prepare_common(ctx, node, false);
}

static mr_status mr_log_softmax_prepare(mr_ctx *ctx, mr_node *node) {
    return mr_softmax_prepare_common(ctx, node, true);
}

static mr_status mr_softmax_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                                  mr_tensor *const *out) {
    mr_softmax_params *p = node->params;
    const mr_tensor *x = in[0];
    mr_status st = mr_act_check_type(ctx, node, "input", x->dtype, MR_ACT_FLOATS);
    if (st != MINIRT_OK) return st;
    int axis;
    st = mr_norm_axis(ctx, node, "axis", p->axis, x->ndim, &axis);
    if (st != MINIRT_OK) return st;
    p->outer = p->n = p->inner = 1;
    for (int i = 0; i < x->ndim; i++) {
        int64_t *part = i < axis ? &p->outer : i == axis || node->opset < 13 ? &p->n : &p->inner;
        *part *= x->dims[i];
    }
    mr_act_same_shape(node, x, out[0]);
    if (p->inner > 1) {
        int64_t cols = p->inner < MR_SOFTMAX_BLOCK ? p->inner : MR_SOFTMAX_BLOCK;
        node->workspace = (size_t)cols * (sizeof(double) + mr_dtype_size(x->dtype));
    }
    return MINIRT_OK;
}

#define MR_SOFTMAX_KERNELS(SUFFIX, T)                                                              \
    /* One contiguous vector x[0..n) -> y. */                                                      \
    static void mr_softmax_row_##SUFFIX(const T *x, T *y, int64_t n, bool log_) {                  \
        T m = x[0];                                                                                \
        for (int64_t k = 1; k < n; k++)                                                            \
            m = x[k] > m ? x[k] : m;                                                               \
        for (int64_t k = 0; k < n; k++)                                                            \
            y[k] = MR_EXP(x[k] - m);                                                               \
        double s = 0;                                                                              \
        for (int64_t k = 0; k < n; k++)                                                            \
            s += y[k];                                                                             \
        if (log_) {                                                                                \
            const T l = (T)log(s);                                                                 \
            for (int64_t k = 0; k < n; k++)                                                        \
                y[k] = (x[k] - m) - l;                                                             \
        } else {                                                                                   \
            const T st = (T)s;                                                                     \
            for (int64_t k = 0; k < n; k++)                                                        \
                y[k] /= st;                                                                        \
        }                                                                                          \
    }                                                                                              \
    /* c columns x[k * inner + j], k < n, j < c -> y; m and s hold c values each. */               \
    static void mr_softmax_cols_##SUFFIX(const T *x, T *y, int64_t n, int64_t inner, int64_t c,    \
                                         bool log_, T *m, double *s) {                             \
        for (int64_t j = 0; j < c; j++) {                                                          \
            m[j] = x[j];                                                                           \
            s[j] = 0;                                                                              \
        }                                                                                          \
        for (int64_t k = 1; k < n; k++) {                                                          \
            const T *xr = x + k * inner;                                                           \
            for (int64_t j = 0; j < c; j++)                                                        \
                m[j] = xr[j] > m[j] ? xr[j] : m[j];                                                \
        }                                                                                          \
        for (int64_t k = 0; k < n; k++) {                                                          \
            const T *xr = x + k * inner;                                                           \
            T *yr = y + k * inner;                                                                 \
            for (int64_t j = 0; j < c; j++) {                                                      \
                yr[j] = MR_EXP(xr[j] - m[j]);                                                      \
                s[j] += yr[j];                                                                     \
            }                                                                                      \
        }                                                                                          \
        if (log_) {                                                                                \
            for (int64_t j = 0; j < c; j++)                                                        \
                s[j] = log(s[j]);                                                                  \
            for (int64_t k = 0; k < n; k++) {                                                      \
                const T *xr = x + k * inner;                                                       \
                T *yr = y + k * inner;                                                             \
                for (int64_t j = 0; j < c; j++)                                                    \
                    yr[j] = (xr[j] - m[j]) - (T)s[j];                                              \
            }                                                                                      \
        } else {                                                                                   \
            for (int64_t k = 0; k < n; k++) {                                                      \
                T *yr = y + k * inner;                                                             \
                for (int64_t j = 0; j < c; j++)                                                    \
                    yr[j] /= (T)s[j];                                                              \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
    static void mr_softmax_##SUFFIX(const mr_softmax_params *p, const T *x, T *y, void *ws) {      \
        if (p->n == 0) return;                                                                     \
        int64_t vec = p->n * p->inner;                                                             \
        int64_t cols = p->inner < MR_SOFTMAX_BLOCK ? p->inner : MR_SOFTMAX_BLOCK;                  \
        double *s = ws; /* NULL when inner == 1: no column scratch needed */                       \
        T *m = s ? (T *)(s + cols) : NULL;                                                         \
        for (int64_t o = 0; o < p->outer; o++) {                                                   \
            if (p->inner == 1) {                                                                   \
                mr_softmax_row_##SUFFIX(x + o * vec, y + o * vec, p->n, p->log);                   \
                continue;                                                                          \
            }                                                                                      \
            for (int64_t j = 0; j < p->inner; j += MR_SOFTMAX_BLOCK) {                             \
                int64_t c = p->inner - j < MR_SOFTMAX_BLOCK ? p->inner - j : MR_SOFTMAX_BLOCK;     \
                mr_softmax_cols_##SUFFIX(x + o * vec + j, y + o * vec + j, p->n, p->inner, c,      \
                                         p->log, m, s);                                            \
            }                                                                                      \
        }                                                                                          \
    }

MR_SOFTMAX_KERNELS(f32, float)
MR_SOFTMAX_KERNELS(f64, double)

static mr_status mr_softmax_run(mr_ctx *ctx, const mr_node *node, mr_tensor *const *in,
                                mr_tensor *const *out, void *ws) {
    (void)ctx;
    const mr_softmax_params *p = node->params;
    if (in[0]->dtype == MINIRT_FLOAT64)
        mr_softmax_f64(p, in[0]->data, out[0]->data, ws);
    else
        mr_softmax_f32(p, in[0]->data, out[0]->data, ws);
    return MINIRT_OK;
}

const mr_op mr_op_softmax = {
    .domain = "",
    .op_type = "Softmax",
    .since = 1,
    .until = 21,
    .min_inputs = 1,
    .max_inputs = 1,
    .min_outputs = 1,
    .max_outputs = 1,
    .prepare = mr_softmax_prepare,
    .infer = mr_softmax_infer,
    .run = mr_softmax_run,
    .types = MR_TYPES_FLOAT,
};

const mr_op mr_op_log_softmax = {
    .domain = "",
    .op_type = "LogSoftmax",
    .since = 1,
    .until = 21,
    .min_inputs = 1,
    .max_inputs = 1,
    .min_outputs = 1,
    .max_outputs = 1,
    .prepare = mr_log_softmax_prepare,
    .infer = mr_softmax_infer,
    .run = mr_softmax_run,
    .types = MR_TYPES_FLOAT,
};
