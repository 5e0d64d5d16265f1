/*
 * generate.c - operators that make new element values rather than move them: ConstantOfShape,
 * Cast and Range. (The data-movement ops are in shape.c.)
 *
 * ConstantOfShape and Range decide their output's size from input values, so those must be known
 * at plan time (a constant, or a value the session folded); the size is checked against the
 * session's limits before anything is allocated, since the model controls it.
 */
#include <math.h>
#include <string.h>

#include "mr.h"

/* ---- ConstantOfShape ----
 * Y[shape] = value everywhere, with shape an int64 1-D input (empty: a scalar) and value a
 * one-element tensor attribute of any type (default float32 0). The requested size is checked
 * against the limits before anything else: the model controls it.
 * https://onnx.ai/onnx/operators/onnx__ConstantOfShape.html
 */
typedef struct mr_gen_const_params {
    int dtype;
    unsigned char value[8];
} mr_gen_const_params;

static mr_status mr_const_of_shape_prepare(mr_ctx *ctx, mr_node *node) {
    mr_gen_const_params *p = mr_calloc(ctx, 1, sizeof(*p));
    if (!p) return mr_nomem(ctx);
    node->params = p;
    p->dtype = MINIRT_FLOAT32;
    const mr_attr *a = mr_attr_find(node, "value");
    if (!a) return MINIRT_OK;
    if (a->type != MR_ATTR_TENSOR || !a->t)
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL, "attribute 'value' must be a tensor");
    size_t es = mr_dtype_size(a->t->dtype);
    if (es == 0)
        return mr_node_error(ctx, node, MINIRT_ERR_UNSUPPORTED,
                             "attribute 'value' has unsupported type %s",
                             mr_dtype_name(a->t->dtype));
    if (a->t->ndim > 1 || mr_numel(a->t) != 1 || !a->t->data) {
        char b[160];
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                             "attribute 'value' must hold one element, not shape %s",
                             mr_dims_str(b, sizeof(b), a->t->ndim, a->t->dims));
    }
    p->dtype = a->t->dtype;
    memcpy(p->value, a->t->data, es);
    return MINIRT_OK;
}

static mr_status mr_const_of_shape_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                                         mr_tensor *const *out) {
    const mr_gen_const_params *p = node->params;
    int64_t dims[MR_MAX_DIMS];
    int n;
    mr_status st =
        mr_read_ints(ctx, node, "input 'input' (the shape)", in[0], dims, MR_MAX_DIMS, &n);
    if (st != MINIRT_OK) return st;
    node->workspace = 0;
    return mr_set_output(ctx, node, out[0], p->dtype, n, dims);
}

static mr_status mr_const_of_shape_run(mr_ctx *ctx, const mr_node *node, mr_tensor *const *in,
                                       mr_tensor *const *out, void *ws) {
    (void)ctx;
    (void)in;
    (void)ws;
    const mr_gen_const_params *p = node->params;
    int64_t n = mr_numel(out[0]);
    size_t es = mr_dtype_size(p->dtype);
    if (es == 1) {
        memset(out[0]->data, p->value[0], (size_t)n);
    } else if (es == 4) {
        uint32_t v, *y = out[0]->data;
        memcpy(&v, p->value, 4);
        for (int64_t i = 0; i < n; i++)
            y[i] = v;
    } else {
        uint64_t v, *y = out[0]->data;
        memcpy(&v, p->value, 8);
        for (int64_t i = 0; i < n; i++)
            y[i] = v;
    }
    return MINIRT_OK;
}

const mr_op mr_op_constant_of_shape = {
    .domain = "",
    .op_type = "ConstantOfShape",
    .since = 9,
    .until = 21,
    .min_inputs = 1,
    .max_inputs = 1,
    .min_outputs = 1,
    .max_outputs = 1,
    .prepare = mr_const_of_shape_prepare,
    .infer = mr_const_of_shape_infer,
    .run = mr_const_of_shape_run,
    .plan_inputs = 1u << 0 /* shape */,
    .types = MR_TYPES_ALL, /* of attribute 'value', which decides the output's */
};

/* ---- Cast ----
 * Y = X converted element-wise to type `to` (an ONNX type code; opsets 1-5 spell it as a string
 * such as "FLOAT" or "INT64"). Conversions between float32, float64, int32, int64, int8, uint8 and
 * bool, defined for every input value:
 *   float -> integer: truncation toward zero; NaN gives 0 and values beyond the target's range
 *                     saturate to its minimum or maximum (ONNX leaves these undefined);
 *   integer -> narrower integer: wraps modulo 2^bits (two's complement), as numpy's astype;
 *   float64 -> float32: IEEE rounding, beyond float32's range gives +-inf;
 *   -> bool: x != 0 (NaN is true); bool -> any: 0 or 1.
 * Opset 19 added `saturate` (float8 only), so this covers 1-18.
 * https://onnx.ai/onnx/operators/onnx__Cast.html
 */
typedef struct mr_gen_cast_params {
    int to;
} mr_gen_cast_params;

static const struct {
    const char *name;
    int code;
} mr_cast_names[] = {
    {"FLOAT", 1},   {"UINT8", 2},      {"INT8", 3},        {"UINT16", 4},
    {"INT16", 5},   {"INT32", 6},      {"INT64", 7},       {"STRING", 8},
    {"BOOL", 9},    {"FLOAT16", 10},   {"DOUBLE", 11},     {"UINT32", 12},
    {"UINT64", 13}, {"COMPLEX64", 14}, {"COMPLEX128", 15}, {"BFLOAT16", 16},
};

static mr_status mr_cast_prepare(mr_ctx *ctx, mr_node *node) {
    mr_gen_cast_params *p = mr_calloc(ctx, 1, sizeof(*p));
    if (!p) return mr_nomem(ctx);
    node->params = p;
    const mr_attr *a = mr_attr_find(node, "to");
    if (!a) return mr_node_error(ctx, node, MINIRT_ERR_MODEL, "attribute 'to' is required");
    int64_t to = -1;
    if (a->type == MR_ATTR_STRING && node->opset < 6) {
        for (size_t i = 0; i < sizeof(mr_cast_names) / sizeof(mr_cast_names[0]); i++)
            if (strcmp(a->s, mr_cast_names[i].name) == 0) to = mr_cast_names[i].code;
        if (to < 0)
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                 "attribute 'to' is '%.64s', which names no ONNX data type", a->s);
    } else {
        mr_status st = mr_attr_int(ctx, node, "to", 0, &to);
        if (st != MINIRT_OK) return st;
    }
    if (to < 1 || to > 16)
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                             "attribute 'to' is %lld, which is not an ONNX data type",
                             (long long)to);
    if (mr_dtype_size((int)to) == 0)
        return mr_node_error(ctx, node, MINIRT_ERR_UNSUPPORTED, "casting to %s is not supported",
                             mr_dtype_name((int)to));
    p->to = (int)to;
    return MINIRT_OK;
}

static mr_status mr_cast_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                               mr_tensor *const *out) {
    const mr_gen_cast_params *p = node->params;
    const mr_tensor *x = in[0];
    if (mr_dtype_size(x->dtype) == 0)
        return mr_node_error(ctx, node, MINIRT_ERR_UNSUPPORTED, "casting from %s is not supported",
                             mr_dtype_name(x->dtype));
    node->workspace = 0;
    return mr_set_output(ctx, node, out[0], p->to, x->ndim, x->dims);
}

/* float -> integer in [lo, hi] (both exactly representable as double): see the section comment. */
static int64_t mr_cast_f2i(double v, double lo, double hi) {
    if (v != v) return 0;
    if (v <= lo) return (int64_t)lo;
    if (v >= hi) return (int64_t)hi;
    return (int64_t)v;
}

/* float -> int64: 2^63 is not an int64, so compare against it exclusively. */
static int64_t mr_cast_f2i64(double v) {
    if (v != v) return 0;
    if (v >= 9223372036854775808.0) return INT64_MAX;
    if (v <= -9223372036854775808.0) return INT64_MIN;
    return (int64_t)v;
}

/* One loop per source type: v is the source element as double (float sources) or int64 (integer
 * and bool sources); FROM_F / FROM_I convert it to DT. */
#define MR_CAST_LOOP(ST, VT, READ, EXPR)                                                           \
    do {                                                                                           \
        const ST *s = src;                                                                         \
        for (int64_t i = 0; i < n; i++) {                                                          \
            VT v = (VT)(READ);                                                                     \
            d[i] = (EXPR);                                                                         \
        }                                                                                          \
    } while (0)

#define MR_CAST_TO(NAME, DT, FROM_F, FROM_I)                                                       \
    static void mr_cast_to_##NAME(const void *src, int sdt, void *dst, int64_t n) {                \
        DT *d = dst;                                                                               \
        switch (sdt) {                                                                             \
        case MINIRT_FLOAT32:                                                                       \
            MR_CAST_LOOP(float, double, s[i], FROM_F);                                             \
            break;                                                                                 \
        case MINIRT_FLOAT64:                                                                       \
            MR_CAST_LOOP(double, double, s[i], FROM_F);                                            \
            break;                                                                                 \
        case MINIRT_INT32:                                                                         \
            MR_CAST_LOOP(int32_t, int64_t, s[i], FROM_I);                                          \
            break;                                                                                 \
        case MINIRT_INT64:                                                                         \
            MR_CAST_LOOP(int64_t, int64_t, s[i], FROM_I);                                          \
            break;                                                                                 \
        case MINIRT_INT8:                                                                          \
            MR_CAST_LOOP(int8_t, int64_t, s[i], FROM_I);                                           \
            break;                                                                                 \
        case MINIRT_UINT8:                                                                         \
            MR_CAST_LOOP(uint8_t, int64_t, s[i], FROM_I);                                          \
            break;                                                                                 \
        default: /* bool: any nonzero byte is true */                                              \
            MR_CAST_LOOP(uint8_t, int64_t, s[i] != 0, FROM_I);                                     \
            break;                                                                                 \
        }                                                                                          \
    }

MR_CAST_TO(f32, float, (float)v, (float)v)
MR_CAST_TO(f64, double, v, (double)v)
MR_CAST_TO(i32, int32_t, (int32_t)mr_cast_f2i(v, -2147483648.0, 2147483647.0),
           (int32_t)(uint32_t)(uint64_t)v)
MR_CAST_TO(i64, int64_t, mr_cast_f2i64(v), v)
MR_CAST_TO(i8, int8_t, (int8_t)mr_cast_f2i(v, -128.0, 127.0), (int8_t)(uint8_t)(uint64_t)v)
MR_CAST_TO(u8, uint8_t, (uint8_t)mr_cast_f2i(v, 0.0, 255.0), (uint8_t)(uint64_t)v)
MR_CAST_TO(bool, uint8_t, v != 0, v != 0)

static mr_status mr_cast_run(mr_ctx *ctx, const mr_node *node, mr_tensor *const *in,
                             mr_tensor *const *out, void *ws) {
    (void)ctx;
    (void)ws;
    const mr_gen_cast_params *p = node->params;
    const mr_tensor *x = in[0];
    int64_t n = mr_numel(x);
    void *y = out[0]->data;
    if ((int)x->dtype == p->to && p->to != MINIRT_BOOL) { /* bool -> bool normalises to 0/1 */
        if (n) memcpy(y, x->data, (size_t)n * mr_dtype_size(x->dtype));
        return MINIRT_OK;
    }
    switch (p->to) {
    case MINIRT_FLOAT32:
        mr_cast_to_f32(x->data, x->dtype, y, n);
        break;
    case MINIRT_FLOAT64:
        mr_cast_to_f64(x->data, x->dtype, y, n);
        break;
    case MINIRT_INT32:
        mr_cast_to_i32(x->data, x->dtype, y, n);
        break;
    case MINIRT_INT64:
        mr_cast_to_i64(x->data, x->dtype, y, n);
        break;
    case MINIRT_INT8:
        mr_cast_to_i8(x->data, x->dtype, y, n);
        break;
    case MINIRT_UINT8:
        mr_cast_to_u8(x->data, x->dtype, y, n);
        break;
    default: /* bool (prepare admitted only types minirt stores) */
        mr_cast_to_bool(x->data, x->dtype, y, n);
        break;
    }
    return MINIRT_OK;
}

const mr_op mr_op_cast = {
    .domain = "",
    .op_type = "Cast",
    .since = 1,
    .until = 18,
    .min_inputs = 1,
    .max_inputs = 1,
    .min_outputs = 1,
    .max_outputs = 1,
    .prepare = mr_cast_prepare,
    .infer = mr_cast_infer,
    .run = mr_cast_run,
    .types = MR_TYPES_ALL, /* from and to */
};

/* ---- Range ----
 * Y[i] = start + i * delta for i < max(ceil((limit - start) / delta), 0), for float32, float64,
 * int32 and int64 scalars start, limit and delta of one type. The operands fix Y's size, so they
 * must be known at plan time. delta = 0 is a MODEL error. Integer counts are computed exactly in
 * unsigned arithmetic; float counts as ceil((double)(limit - start) / delta) with the difference in
 * the operands' type, as the ONNX reference does.
 * https://onnx.ai/onnx/operators/onnx__Range.html
 */
typedef union mr_gen_scalar {
    double f;
    int64_t i;
} mr_gen_scalar;

static mr_gen_scalar mr_range_get(const mr_tensor *t) {
    mr_gen_scalar v;
    switch (t->dtype) {
    case MINIRT_FLOAT32:
        v.f = *(const float *)t->data;
        break;
    case MINIRT_FLOAT64:
        v.f = *(const double *)t->data;
        break;
    case MINIRT_INT32:
        v.i = *(const int32_t *)t->data;
        break;
    default:
        v.i = *(const int64_t *)t->data;
        break;
    }
    return v;
}

static mr_status mr_range_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                                mr_tensor *const *out) {
    static const char *const names[3] = {"start", "limit", "delta"};
    int dt = in[0]->dtype;
    char b[160];
    for (int k = 0; k < 3; k++) {
        const mr_tensor *t = in[k];
        if ((int)t->dtype != dt)
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                 "input '%s' is %s but 'start' is %s; all three must be one type",
                                 names[k], mr_dtype_name(t->dtype), mr_dtype_name(dt));
        if (t->ndim > 1 || mr_numel(t) != 1)
            return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                                 "input '%s' must be a scalar, not of shape %s", names[k],
                                 mr_dims_str(b, sizeof(b), t->ndim, t->dims));
    }
    mr_status st = mr_check_type(ctx, node, "'start'", dt);
    if (st != MINIRT_OK) return st;
    for (int k = 0; k < 3; k++)
        if (!in[k]->data)
            return mr_node_error(ctx, node, MINIRT_ERR_UNSUPPORTED,
                                 "input '%s' must be known before the run (a constant, or computed "
                                 "from constants and input shapes): it decides the output's size",
                                 names[k]);
    mr_gen_scalar s = mr_range_get(in[0]), l = mr_range_get(in[1]), d = mr_range_get(in[2]);
    int64_t count = 0;
    if (dt == MINIRT_FLOAT32 || dt == MINIRT_FLOAT64) {
        if (d.f == 0) return mr_node_error(ctx, node, MINIRT_ERR_MODEL, "delta is 0");
        double diff = dt == MINIRT_FLOAT32 ? (double)((float)l.f - (float)s.f) : l.f - s.f;
        double q = ceil(diff / d.f);
        if (q != q)
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                 "start %g, limit %g, delta %g give no element count", s.f, l.f,
                                 d.f);
        if (q >= 9223372036854775807.0)
            return mr_node_error(ctx, node, MINIRT_ERR_LIMIT,
                                 "start %g, limit %g, delta %g give too many elements", s.f, l.f,
                                 d.f);
        count = q > 0 ? (int64_t)q : 0;
    } else {
        if (d.i == 0) return mr_node_error(ctx, node, MINIRT_ERR_MODEL, "delta is 0");
        /* |limit - start| and |delta| as exact unsigned values. */
        bool up = d.i > 0;
        uint64_t span = 0, step = up ? (uint64_t)d.i : 0 - (uint64_t)d.i;
        if (up && l.i > s.i) span = (uint64_t)l.i - (uint64_t)s.i;
        if (!up && l.i < s.i) span = (uint64_t)s.i - (uint64_t)l.i;
        uint64_t c = span / step + (span % step != 0);
        if (c > (uint64_t)INT64_MAX)
            return mr_node_error(ctx, node, MINIRT_ERR_LIMIT,
                                 "start %lld, limit %lld, delta %lld give too many elements",
                                 (long long)s.i, (long long)l.i, (long long)d.i);
        count = (int64_t)c;
    }
    node->workspace = 0;
    return mr_set_output(ctx, node, out[0], dt, 1, &count);
}

static mr_status mr_range_run(mr_ctx *ctx, const mr_node *node, mr_tensor *const *in,
                              mr_tensor *const *out, void *ws) {
    (void)ctx;
    (void)node;
    (void)ws;
    mr_gen_scalar s = mr_range_get(in[0]), d = mr_range_get(in[2]);
    int64_t n = out[0]->dims[0];
    switch (out[0]->dtype) {
    case MINIRT_FLOAT32: {
        float *y = out[0]->data, fs = (float)s.f, fd = (float)d.f;
        for (int64_t i = 0; i < n; i++)
            y[i] = fs + (float)i * fd;
        break;
    }
    case MINIRT_FLOAT64: {
        double *y = out[0]->data;
        for (int64_t i = 0; i < n; i++)
            y[i] = s.f + (double)i * d.f;
        break;
    }
    case MINIRT_INT32: {
        /* Every element lies between start and limit; unsigned arithmetic avoids overflow in
         * i * delta on the way. */
        int32_t *y = out[0]->data;
        for (int64_t i = 0; i < n; i++)
            y[i] = (int32_t)(uint32_t)((uint64_t)s.i + (uint64_t)i * (uint64_t)d.i);
        break;
    }
    default: {
        int64_t *y = out[0]->data;
        for (int64_t i = 0; i < n; i++)
            y[i] = (int64_t)((uint64_t)s.i + (uint64_t)i * (uint64_t)d.i);
        break;
    }
    }
    return MINIRT_OK;
}

const mr_op mr_op_range = {
    .domain = "",
    .op_type = "Range",
    .since = 11,
    .until = 21,
    .min_inputs = 3,
    .max_inputs = 3,
    .min_outputs = 1,
    .max_outputs = 1,
    .prepare = NULL,
    .infer = mr_range_infer,
    .run = mr_range_run,
    .plan_inputs = (1u << 0) | (1u << 1) | (1u << 2) /* start, limit, delta */,
    .types = MR_TYPES_F_I32_I64,
};
