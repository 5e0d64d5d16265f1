/*
 * pad.c - operators that crop or extend a tensor along its axes: Pad and Slice.
 *
 * Both plan the index mapping per axis at infer (their pads / starts / ends must be known then)
 * and copy rows of the last axis at run. Like tensor.c, they move bytes for any element type
 * minirt stores, and accept negative axes at every opset.
 */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "mr.h"

static mr_status mr_pad_check_dtype(mr_ctx *ctx, const mr_node *node, const mr_tensor *t) {
    if (mr_dtype_size(t->dtype) == 0)
        return mr_node_error(ctx, node, MINIRT_ERR_UNSUPPORTED, "input has unsupported type %s",
                             mr_dtype_name(t->dtype));
    return MINIRT_OK;
}

/* Copy one element of es bytes. */
static inline void mr_pad_copy1(char *dst, const char *src, size_t es) {
    switch (es) {
    case 1:
        *dst = *src;
        break;
    case 4:
        memcpy(dst, src, 4);
        break;
    case 8:
        memcpy(dst, src, 8);
        break;
    default:
        memcpy(dst, src, es);
    }
}

/* ---- Pad ----
 * Per axis, with pads = [b0, b1, ..., e0, e1, ...]: a negative pad first crops the input, so the
 * kept input is X[lo, lo + n) with lo = max(0, -b) and n = dim - max(0, -b) - max(0, -e); then
 * max(b, 0) and max(e, 0) positions are added before and after. Output position o reads kept
 * position t = o - max(b, 0), or when t is outside [0, n):
 *   constant: the value;  edge: t clamped to [0, n-1];  reflect: -t, or 2(n-1) - t (needs pad < n).
 * Opset 1 names the attribute 'paddings', 2 to 10 'pads' (both with a float 'value'); from 11 pads
 * (int64) and the optional scalar constant_value are inputs. Opset 18's axes is not covered.
 * https://onnx.ai/onnx/operators/onnx__Pad.html
 */
enum { MR_PAD_CONSTANT, MR_PAD_REFLECT, MR_PAD_EDGE };

typedef struct mr_pad_params {
    int mode;
    int n_pads; /* attribute form (opset < 11) */
    int64_t pads[2 * MR_MAX_DIMS];
    float value;
    /* plan (infer) */
    int64_t before[MR_MAX_DIMS]; /* positions added before the kept input */
    int64_t lo[MR_MAX_DIMS];     /* first input index kept */
    int64_t n[MR_MAX_DIMS];      /* input extent kept */
    unsigned char fill[8];       /* the attribute's value in the input's type */
} mr_pad_params;

static mr_status mr_pad_prepare(mr_ctx *ctx, mr_node *node) {
    mr_pad_params *p = mr_calloc(ctx, 1, sizeof(*p));
    if (!p) return mr_nomem(ctx);
    node->params = p;
    const char *mode;
    mr_status st = mr_attr_string(ctx, node, "mode", "constant", &mode);
    if (st != MINIRT_OK) return st;
    if (strcmp(mode, "constant") == 0)
        p->mode = MR_PAD_CONSTANT;
    else if (strcmp(mode, "reflect") == 0)
        p->mode = MR_PAD_REFLECT;
    else if (strcmp(mode, "edge") == 0)
        p->mode = MR_PAD_EDGE;
    else
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                             "mode '%s' is not one of constant, reflect, edge (opset %d)", mode,
                             node->opset);
    if (node->opset >= 11) {
        const char *old = mr_attr_find(node, "pads") ? "pads" : "value";
        if (mr_attr_find(node, old))
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                 "attribute '%s' became an input in opset 11 (the model has opset "
                                 "%d)",
                                 old, node->opset);
        return MINIRT_OK;
    }
    const char *name = node->opset < 2 ? "paddings" : "pads";
    if (!mr_attr_find(node, name))
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL, "attribute '%s' is required at opset %d",
                             name, node->opset);
    if ((st = mr_attr_ints(ctx, node, name, p->pads, 2 * MR_MAX_DIMS, &p->n_pads)) != MINIRT_OK)
        return st;
    return mr_attr_float(ctx, node, "value", 0.0f, &p->value);
}

/* Convert the float 'value' attribute to one element of dtype (saturating for integers). */
static void mr_pad_value_bytes(float value, int dtype, unsigned char *out) {
    double v = isnan(value) ? 0.0 : (double)value;
    double lo = 0, hi = 0;
    memset(out, 0, 8);
    switch (dtype) {
    case MINIRT_FLOAT32:
        memcpy(out, &value, 4);
        return;
    case MINIRT_FLOAT64:
        v = (double)value;
        memcpy(out, &v, 8);
        return;
    case MINIRT_BOOL:
        out[0] = value != 0.0f;
        return;
    case MINIRT_INT8:
        lo = INT8_MIN, hi = INT8_MAX;
        break;
    case MINIRT_UINT8:
        lo = 0, hi = UINT8_MAX;
        break;
    case MINIRT_INT32:
        lo = INT32_MIN, hi = INT32_MAX;
        break;
    default: /* int64 */
        lo = -9.2e18, hi = 9.2e18;
    }
    v = v < lo ? lo : v > hi ? hi : v;
    int64_t i = (int64_t)v;
    if (dtype == MINIRT_INT8) {
        int8_t t = (int8_t)i;
        memcpy(out, &t, 1);
    } else if (dtype == MINIRT_UINT8) {
        out[0] = (uint8_t)i;
    } else if (dtype == MINIRT_INT32) {
        int32_t t = (int32_t)i;
        memcpy(out, &t, 4);
    } else {
        memcpy(out, &i, 8);
    }
}

static mr_status mr_pad_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                              mr_tensor *const *out) {
    mr_pad_params *p = node->params;
    const mr_tensor *x = in[0];
    const int r = x->ndim;
    char b1[160], b2[160];
    int64_t pads[2 * MR_MAX_DIMS];
    int n_pads = p->n_pads;
    mr_status st = mr_pad_check_dtype(ctx, node, x);
    if (st != MINIRT_OK) return st;
    if (node->opset >= 11) {
        if ((st = mr_read_ints(ctx, node, "pads", in[1], pads, 2 * MR_MAX_DIMS, &n_pads)) !=
            MINIRT_OK)
            return st;
        const mr_tensor *cv = node->n_in > 2 ? in[2] : NULL;
        if (cv && (cv->dtype != x->dtype || mr_numel(cv) != 1 || cv->ndim > 1))
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                 "constant_value is %s of shape %s; it must be one %s value",
                                 mr_dtype_name(cv->dtype),
                                 mr_dims_str(b1, sizeof(b1), cv->ndim, cv->dims),
                                 mr_dtype_name(x->dtype));
    } else {
        memcpy(pads, p->pads, sizeof(pads));
        mr_pad_value_bytes(p->value, x->dtype, p->fill);
    }
    if (n_pads != 2 * r)
        return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                             "pads %s has %d values but the input has shape %s; it needs 2 x "
                             "rank = %d",
                             mr_ints_str(b1, sizeof(b1), n_pads, pads), n_pads,
                             mr_dims_str(b2, sizeof(b2), r, x->dims), 2 * r);
    int64_t dims[MR_MAX_DIMS];
    for (int i = 0; i < r; i++) {
        const int64_t d = x->dims[i], pb = pads[i], pe = pads[r + i];
        const int64_t cb = pb < 0 ? -(pb < -d ? d + 1 : -pb) : 0;
        const int64_t ce = pe < 0 ? -(pe < -d ? d + 1 : -pe) : 0;
        const int64_t n = d + cb + ce; /* >= -d - 2 */
        if (n < 0)
            return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                                 "pads %s crop more than the %lld entries of axis %d (input "
                                 "shape %s)",
                                 mr_ints_str(b1, sizeof(b1), 2 * r, pads), (long long)d, i,
                                 mr_dims_str(b2, sizeof(b2), r, x->dims));
        const int64_t ab = pb > 0 ? pb : 0, ae = pe > 0 ? pe : 0;
        if (!mr_add_i64(n, ab, &dims[i]) || !mr_add_i64(dims[i], ae, &dims[i]))
            return mr_node_error(ctx, node, MINIRT_ERR_LIMIT, "padded axis %d overflows", i);
        if (p->mode == MR_PAD_REFLECT && ((ab > 0 && ab >= n) || (ae > 0 && ae >= n)))
            return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                                 "reflect pads %s need fewer than the %lld entries of axis %d "
                                 "(input shape %s) on each side",
                                 mr_ints_str(b1, sizeof(b1), 2 * r, pads), (long long)n, i,
                                 mr_dims_str(b2, sizeof(b2), r, x->dims));
        if (p->mode == MR_PAD_EDGE && n == 0 && (ab > 0 || ae > 0))
            return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                                 "edge pads %s extend axis %d, which is empty (input shape %s)",
                                 mr_ints_str(b1, sizeof(b1), 2 * r, pads), i,
                                 mr_dims_str(b2, sizeof(b2), r, x->dims));
        p->before[i] = ab;
        p->lo[i] = -cb;
        p->n[i] = n;
    }
    node->workspace = 0;
    return mr_set_output(ctx, node, out[0], x->dtype, r, dims);
}

/* Input index for output position o of axis i, or -1 for the constant. */
static int64_t mr_pad_map(const mr_pad_params *p, int i, int64_t o) {
    const int64_t t = o - p->before[i], n = p->n[i];
    if (t >= 0 && t < n) return p->lo[i] + t;
    if (p->mode == MR_PAD_CONSTANT) return -1;
    if (p->mode == MR_PAD_EDGE) return p->lo[i] + (t < 0 ? 0 : n - 1);
    return p->lo[i] + (t < 0 ? -t : 2 * (n - 1) - t);
}

static void mr_pad_fill(char *dst, const unsigned char *v, int64_t count, size_t es) {
    for (int64_t k = 0; k < count; k++)
        mr_pad_copy1(dst + (size_t)k * es, (const char *)v, es);
}

static mr_status mr_pad_run(mr_ctx *ctx, const mr_node *node, mr_tensor *const *in,
                            mr_tensor *const *out, void *ws) {
    (void)ctx;
    (void)ws;
    const mr_pad_params *p = node->params;
    const mr_tensor *x = in[0], *y = out[0];
    const size_t es = mr_dtype_size(x->dtype);
    const int r = x->ndim;
    unsigned char fill[8];
    memcpy(fill, p->fill, sizeof(fill));
    if (node->opset >= 11) {
        const mr_tensor *cv = node->n_in > 2 ? in[2] : NULL;
        memset(fill, 0, sizeof(fill));
        if (cv) memcpy(fill, cv->data, es);
    }
    if (mr_numel(y) == 0) return MINIRT_OK;
    if (r == 0) {
        memcpy(y->data, x->data, es);
        return MINIRT_OK;
    }
    int64_t istride[MR_MAX_DIMS], s = 1;
    for (int i = r - 1; i >= 0; i--) {
        istride[i] = s;
        s *= x->dims[i];
    }
    const int last = r - 1;
    const int64_t L = y->dims[last], b = p->before[last], n = p->n[last];
    const int64_t rows = mr_numel(y) / L;
    int64_t idx[MR_MAX_DIMS] = {0};
    const char *src = x->data;
    char *dst = y->data;
    for (int64_t k = 0; k < rows; k++, dst += (size_t)L * es) {
        int64_t off = 0;
        bool inside = true;
        for (int i = 0; i < last && inside; i++) {
            int64_t m = mr_pad_map(p, i, idx[i]);
            if (m < 0)
                inside = false;
            else
                off += m * istride[i];
        }
        if (!inside) {
            mr_pad_fill(dst, fill, L, es);
        } else {
            const char *row = src + (size_t)off * es;
            for (int64_t o = 0; o < b; o++) {
                int64_t m = mr_pad_map(p, last, o);
                mr_pad_copy1(dst + (size_t)o * es, m < 0 ? (const char *)fill : row + m * es, es);
            }
            if (n > 0) memcpy(dst + (size_t)b * es, row + (size_t)p->lo[last] * es, (size_t)n * es);
            for (int64_t o = b + n; o < L; o++) {
                int64_t m = mr_pad_map(p, last, o);
                mr_pad_copy1(dst + (size_t)o * es, m < 0 ? (const char *)fill : row + m * es, es);
            }
        }
        for (int i = last - 1; i >= 0; i--) {
            if (++idx[i] < y->dims[i]) break;
            idx[i] = 0;
        }
    }
    return MINIRT_OK;
}

const mr_op mr_op_pad_1 = {
    .domain = "",
    .op_type = "Pad",
    .since = 1,
    .until = 10,
    .min_inputs = 1,
    .max_inputs = 1,
    .min_outputs = 1,
    .max_outputs = 1,
    .prepare = mr_pad_prepare,
    .infer = mr_pad_infer,
    .run = mr_pad_run,
    .types = MR_TYPES_ALL,
};

const mr_op mr_op_pad = {
    .domain = "",
    .op_type = "Pad",
    .since = 11,
    .until = 17,
    .min_inputs = 2,
    .max_inputs = 3,
    .min_outputs = 1,
    .max_outputs = 1,
    .prepare = mr_pad_prepare,
    .infer = mr_pad_infer,
    .run = mr_pad_run,
    .plan_inputs = 1u << 1, /* pads (constant_value is read at run time) */
    .types = MR_TYPES_ALL,
};

/* ---- Slice ----
 * For each listed axis (default 0, 1, ...): a negative start or end has dims[axis] added; then
 * with step > 0 start and end are clamped to [0, dim] and the output has ceil((end - start) / step)
 * entries; with step < 0 start is clamped to [0, dim - 1], end to [-1, dim - 1], and the output has
 * ceil((start - end) / -step) entries; Y[.., j, ..] = X[.., start + j * step, ..]. So INT64_MAX
 * and INT64_MIN (what PyTorch writes for "to the end") work in either direction. Step 0 is a model
 * error.
 * Opsets 1 to 9: starts, ends, axes are attributes (step 1); from 10 they are inputs (int32 or
 * int64) with the optional steps, and must be known at plan time.
 * Run: trailing axes that are kept whole are copied as one block; the others are walked.
 * https://onnx.ai/onnx/operators/onnx__Slice.html
 */
typedef struct mr_slice_params {
    int n_starts, n_ends, n_axes; /* attribute form (opset < 10) */
    int64_t starts[MR_MAX_DIMS], ends[MR_MAX_DIMS], axes[MR_MAX_DIMS];
    /* plan (infer), per input axis */
    int64_t start[MR_MAX_DIMS], step[MR_MAX_DIMS];
} mr_slice_params;

static mr_status mr_slice_prepare(mr_ctx *ctx, mr_node *node) {
    mr_slice_params *p = mr_calloc(ctx, 1, sizeof(*p));
    if (!p) return mr_nomem(ctx);
    node->params = p;
    if (node->opset >= 10) return MINIRT_OK;
    mr_status st;
    if (!mr_attr_find(node, "starts") || !mr_attr_find(node, "ends"))
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                             "attributes 'starts' and 'ends' are required at opset %d",
                             node->opset);
    if ((st = mr_attr_ints(ctx, node, "starts", p->starts, MR_MAX_DIMS, &p->n_starts)) ||
        (st = mr_attr_ints(ctx, node, "ends", p->ends, MR_MAX_DIMS, &p->n_ends)) ||
        (st = mr_attr_ints(ctx, node, "axes", p->axes, MR_MAX_DIMS, &p->n_axes)))
        return st;
    return MINIRT_OK;
}

/* Read an optional 1-D index input of k values (opset >= 10); *present = false when absent. */
static mr_status mr_slice_read(mr_ctx *ctx, const mr_node *node, const char *what,
                               const mr_tensor *t, int k, int64_t *out, bool *present) {
    int n;
    *present = false;
    if (!t) return MINIRT_OK;
    mr_status st = mr_read_ints(ctx, node, what, t, out, MR_MAX_DIMS, &n);
    if (st != MINIRT_OK) return st;
    if (n != k)
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                             "%s has %d values but starts has %d; they must match", what, n, k);
    *present = true;
    return MINIRT_OK;
}

static mr_status mr_slice_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                                mr_tensor *const *out) {
    mr_slice_params *p = node->params;
    const mr_tensor *x = in[0];
    const int r = x->ndim;
    char b1[160];
    int64_t starts[MR_MAX_DIMS], ends[MR_MAX_DIMS], axes[MR_MAX_DIMS], steps[MR_MAX_DIMS];
    int k;
    bool has_axes, has_steps = false, has_ends;
    mr_status st = mr_pad_check_dtype(ctx, node, x);
    if (st != MINIRT_OK) return st;
    if (node->opset >= 10) {
        if ((st = mr_read_ints(ctx, node, "starts", in[1], starts, MR_MAX_DIMS, &k)) != MINIRT_OK)
            return st;
        if ((st = mr_slice_read(ctx, node, "ends", in[2], k, ends, &has_ends)) ||
            (st = mr_slice_read(ctx, node, "axes", node->n_in > 3 ? in[3] : NULL, k, axes,
                                &has_axes)) ||
            (st = mr_slice_read(ctx, node, "steps", node->n_in > 4 ? in[4] : NULL, k, steps,
                                &has_steps)))
            return st;
        if (!has_ends) return mr_node_error(ctx, node, MINIRT_ERR_MODEL, "input 'ends' is missing");
    } else {
        k = p->n_starts;
        if (p->n_ends != k || (p->n_axes && p->n_axes != k))
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                 "starts has %d values, ends %d and axes %d; they must match", k,
                                 p->n_ends, p->n_axes);
        memcpy(starts, p->starts, sizeof(starts));
        memcpy(ends, p->ends, sizeof(ends));
        memcpy(axes, p->axes, sizeof(axes));
        has_axes = p->n_axes > 0;
    }
    int64_t dims[MR_MAX_DIMS];
    bool seen[MR_MAX_DIMS] = {false};
    for (int i = 0; i < r; i++) {
        p->start[i] = 0;
        p->step[i] = 1;
        dims[i] = x->dims[i];
    }
    for (int i = 0; i < k; i++) {
        int a;
        if ((st = mr_norm_axis(ctx, node, "axis", has_axes ? axes[i] : i, r, &a)) != MINIRT_OK)
            return st;
        if (seen[a])
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL, "axes %s name axis %d twice",
                                 mr_ints_str(b1, sizeof(b1), k, axes), a);
        seen[a] = true;
        const int64_t d = x->dims[a], step = has_steps ? steps[i] : 1;
        int64_t s = starts[i], e = ends[i], len;
        if (step == 0)
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL, "steps %s has 0 for axis %d",
                                 mr_ints_str(b1, sizeof(b1), k, steps), a);
        if (s < 0) s += d; /* no overflow: d >= 0 */
        if (e < 0) e += d;
        if (step > 0) {
            s = s < 0 ? 0 : s > d ? d : s;
            e = e < 0 ? 0 : e > d ? d : e;
            len = e > s ? (e - s - 1) / step + 1 : 0;
        } else {
            const int64_t mag = step == INT64_MIN ? INT64_MAX : -step;
            s = s < 0 ? 0 : s > d - 1 ? d - 1 : s;
            e = e < -1 ? -1 : e > d - 1 ? d - 1 : e;
            len = s > e ? (s - e - 1) / mag + 1 : 0;
        }
        p->start[a] = len > 0 ? s : 0;
        p->step[a] = len > 1 ? step : 1; /* |step| < d here, so step * stride cannot overflow */
        dims[a] = len;
    }
    node->workspace = 0;
    return mr_set_output(ctx, node, out[0], x->dtype, r, dims);
}

static mr_status mr_slice_run(mr_ctx *ctx, const mr_node *node, mr_tensor *const *in,
                              mr_tensor *const *out, void *ws) {
    (void)ctx;
    (void)ws;
    const mr_slice_params *p = node->params;
    const mr_tensor *x = in[0], *y = out[0];
    const int r = x->ndim;
    if (mr_numel(y) == 0) return MINIRT_OK;
    /* Trailing axes kept whole form one block of `block` bytes; t axes remain. */
    int t = r;
    size_t block = mr_dtype_size(x->dtype);
    while (t > 0 && p->start[t - 1] == 0 && p->step[t - 1] == 1 && y->dims[t - 1] == x->dims[t - 1])
        block *= (size_t)x->dims[--t];
    if (t == 0) {
        memcpy(y->data, x->data, block);
        return MINIRT_OK;
    }
    int64_t istride[MR_MAX_DIMS], s = 1, base = 0;
    for (int i = r - 1; i >= 0; i--) {
        istride[i] = s;
        s *= x->dims[i];
    }
    for (int i = 0; i < t; i++)
        base += p->start[i] * istride[i];
    /* Offsets below are in elements of the whole input; a block is istride[t-1] elements. */
    const size_t es = mr_dtype_size(x->dtype);
    const int a = t - 1;
    const int64_t len = y->dims[a], jump = p->step[a] * istride[a];
    const int64_t rows = mr_numel(y) / (len * (int64_t)(block / es));
    int64_t idx[MR_MAX_DIMS] = {0}, off = base;
    const char *src = x->data;
    char *dst = y->data;
    for (int64_t k = 0; k < rows; k++) {
        if (jump == istride[a]) {
            memcpy(dst, src + (size_t)off * es, (size_t)len * block);
            dst += (size_t)len * block;
        } else {
            int64_t o = off;
            for (int64_t j = 0; j < len; j++, o += jump, dst += block)
                mr_pad_copy1(dst, src + (size_t)o * es, block);
        }
        for (int i = a - 1; i >= 0; i--) {
            off += p->step[i] * istride[i];
            if (++idx[i] < y->dims[i]) break;
            off -= p->step[i] * istride[i] * y->dims[i];
            idx[i] = 0;
        }
    }
    return MINIRT_OK;
}

const mr_op mr_op_slice_1 = {
    .domain = "",
    .op_type = "Slice",
    .since = 1,
    .until = 9,
    .min_inputs = 1,
    .max_inputs = 1,
    .min_outputs = 1,
    .max_outputs = 1,
    .prepare = mr_slice_prepare,
    .infer = mr_slice_infer,
    .run = mr_slice_run,
    .types = MR_TYPES_ALL,
};

const mr_op mr_op_slice = {
    .domain = "",
    .op_type = "Slice",
    .since = 10,
    .until = 21,
    .min_inputs = 3,
    .max_inputs = 5,
    .min_outputs = 1,
    .max_outputs = 1,
    .prepare = mr_slice_prepare,
    .infer = mr_slice_infer,
    .run = mr_slice_run,
    .plan_inputs = (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4), /* starts, ends, axes, steps */
    .types = MR_TYPES_ALL,
};
