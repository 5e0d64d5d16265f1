/*
 * pool.c - pooling: MaxPool (1-D to 3-D, with the optional Indices output), AveragePool (1-D to
 * 3-D), GlobalAveragePool and GlobalMaxPool.
 *
 * All take X[N, C, spatial...] and pool each of the N*C planes independently. MaxPool and
 * AveragePool share the attribute parsing and the window geometry (mr_pool_prepare_common,
 * mr_pool_geometry, mr_pool_window); only their kernels differ.
 */
#include <math.h>
#include <string.h>

#include "fastmath.h"
#include "mr.h"

/* MaxPool and AveragePool handle 1 to 3 spatial axes; fewer are computed as 3-D with leading axes
 * of size 1. */
#define MR_POOL_MAX_SPATIAL 3

enum { MR_POOL_NOTSET = 0, MR_POOL_VALID, MR_POOL_SAME_UPPER, MR_POOL_SAME_LOWER };

/* The geometry of one MaxPool or AveragePool at the current input shape, as 3-D (see
 * MR_POOL_MAX_SPATIAL). */
typedef struct mr_pool_geom {
    int64_t planes; /* N * C */
    int64_t in[MR_POOL_MAX_SPATIAL], out[MR_POOL_MAX_SPATIAL];
    int64_t k[MR_POOL_MAX_SPATIAL], s[MR_POOL_MAX_SPATIAL], d[MR_POOL_MAX_SPATIAL];
    int64_t pad[MR_POOL_MAX_SPATIAL];     /* padding before each axis */
    int64_t pad_end[MR_POOL_MAX_SPATIAL]; /* padding after each axis */
    bool col_major;                       /* MaxPool: storage_order = 1 for Indices */
    bool count_include_pad;               /* AveragePool: padding counts in the divisor */
} mr_pool_geom;

typedef struct mr_pool_params {
    int nk; /* spatial axes = length of kernel_shape */
    int64_t kernel[MR_POOL_MAX_SPATIAL];
    int64_t strides[MR_POOL_MAX_SPATIAL];
    int64_t dilations[MR_POOL_MAX_SPATIAL];
    int64_t pads[2 * MR_POOL_MAX_SPATIAL]; /* begin..., end... */
    int auto_pad;
    bool ceil_mode;
    bool col_major;
    bool count_include_pad;
    mr_pool_geom g; /* set by infer */
} mr_pool_params;

/* ---- MaxPool and AveragePool attributes ----
 * Both: kernel_shape (required), strides, pads, auto_pad since opset 1; ceil_mode since 10.
 * MaxPool: storage_order and the Indices output since 8; dilations since 10.
 * AveragePool: count_include_pad since 7; dilations since 19 (outside the opsets covered here).
 * An attribute given before its opset is a model error, as in the ONNX checker.
 * https://onnx.ai/onnx/operators/onnx__MaxPool.html
 * https://onnx.ai/onnx/operators/onnx__AveragePool.html
 */

/* Read an INTS attribute of nk positive values (default 1 each) or, for pads, 2*nk non-negative
 * values (default 0). */
static mr_status mr_pool_ints(mr_ctx *ctx, const mr_node *node, const char *name, int nk,
                              bool is_pads, int64_t *out) {
    int64_t v[MR_MAX_DIMS * 2];
    int n, want = is_pads ? 2 * nk : nk;
    mr_status st = mr_attr_ints(ctx, node, name, v, MR_MAX_DIMS * 2, &n);
    if (st != MINIRT_OK) return st;
    if (n == 0) {
        for (int i = 0; i < want; i++)
            out[i] = is_pads ? 0 : 1;
        return MINIRT_OK;
    }
    if (n != want)
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                             "attribute '%s' has %d values; kernel_shape has %d dims, so it "
                             "needs %d",
                             name, n, nk, want);
    for (int i = 0; i < n; i++) {
        if (is_pads ? v[i] < 0 : v[i] < 1)
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                 "attribute '%s' has value %lld at index %d; it must be %s", name,
                                 (long long)v[i], i, is_pads ? ">= 0" : ">= 1");
        out[i] = v[i];
    }
    return MINIRT_OK;
}

static mr_status mr_pool_since(mr_ctx *ctx, const mr_node *node, const char *name, int since) {
    if (node->opset < since && mr_attr_find(node, name))
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                             "attribute '%s' exists only from opset %d (the model has opset %d)",
                             name, since, node->opset);
    return MINIRT_OK;
}

/* Read a 0/1 INT attribute. */
static mr_status mr_pool_flag(mr_ctx *ctx, const mr_node *node, const char *name, bool *out) {
    int64_t v;
    mr_status st = mr_attr_int(ctx, node, name, 0, &v);
    if (st != MINIRT_OK) return st;
    if (v != 0 && v != 1)
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                             "attribute '%s' is %lld; it must be 0 or 1", name, (long long)v);
    *out = v == 1;
    return MINIRT_OK;
}

/* The attributes MaxPool and AveragePool share: kernel_shape, strides, pads, auto_pad, ceil_mode
 * and dilations (whose opset the caller checks first). */
static mr_status mr_pool_prepare_common(mr_ctx *ctx, mr_node *node, mr_pool_params *p) {
    memset(p, 0, sizeof(*p));
    int64_t k[MR_MAX_DIMS];
    mr_status st = mr_attr_ints(ctx, node, "kernel_shape", k, MR_MAX_DIMS, &p->nk);
    if (st != MINIRT_OK) return st;
    if (p->nk == 0)
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL, "attribute 'kernel_shape' is required");
    if (p->nk > MR_POOL_MAX_SPATIAL)
        return mr_node_error(ctx, node, MINIRT_ERR_UNSUPPORTED,
                             "kernel_shape has %d dims; %s supports 1 to %d spatial dims", p->nk,
                             node->op_type, MR_POOL_MAX_SPATIAL);
    for (int i = 0; i < p->nk; i++) {
        if (k[i] < 1)
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                 "attribute 'kernel_shape' has value %lld at index %d; it must "
                                 "be >= 1",
                                 (long long)k[i], i);
        p->kernel[i] = k[i];
    }
    if ((st = mr_pool_since(ctx, node, "ceil_mode", 10)) != MINIRT_OK) return st;
    if ((st = mr_pool_ints(ctx, node, "strides", p->nk, false, p->strides)) != MINIRT_OK ||
        (st = mr_pool_ints(ctx, node, "dilations", p->nk, false, p->dilations)) != MINIRT_OK ||
        (st = mr_pool_ints(ctx, node, "pads", p->nk, true, p->pads)) != MINIRT_OK ||
        (st = mr_pool_flag(ctx, node, "ceil_mode", &p->ceil_mode)) != MINIRT_OK)
        return st;

    /* auto_pad "" is read as NOTSET, as onnxruntime does. Explicit pads are ignored under the other
     * modes (the spec forbids combining them; onnxruntime ignores them too). */
    const char *ap;
    if ((st = mr_attr_string(ctx, node, "auto_pad", "NOTSET", &ap)) != MINIRT_OK) return st;
    if (strcmp(ap, "NOTSET") == 0 || ap[0] == '\0')
        p->auto_pad = MR_POOL_NOTSET;
    else if (strcmp(ap, "VALID") == 0)
        p->auto_pad = MR_POOL_VALID;
    else if (strcmp(ap, "SAME_UPPER") == 0)
        p->auto_pad = MR_POOL_SAME_UPPER;
    else if (strcmp(ap, "SAME_LOWER") == 0)
        p->auto_pad = MR_POOL_SAME_LOWER;
    else
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                             "attribute 'auto_pad' is '%s'; it must be NOTSET, VALID, SAME_UPPER "
                             "or SAME_LOWER",
                             ap);
    return MINIRT_OK;
}

/* Store the parsed attributes as node->params. */
static mr_status mr_pool_store(mr_ctx *ctx, mr_node *node, const mr_pool_params *p) {
    mr_pool_params *pp = mr_alloc(ctx, sizeof(*pp));
    if (!pp) return mr_nomem(ctx);
    *pp = *p;
    node->params = pp;
    return MINIRT_OK;
}

static mr_status mr_maxpool_prepare(mr_ctx *ctx, mr_node *node) {
    mr_pool_params p;
    mr_status st;
    if ((st = mr_pool_since(ctx, node, "storage_order", 8)) != MINIRT_OK ||
        (st = mr_pool_since(ctx, node, "dilations", 10)) != MINIRT_OK ||
        (st = mr_pool_prepare_common(ctx, node, &p)) != MINIRT_OK ||
        (st = mr_pool_flag(ctx, node, "storage_order", &p.col_major)) != MINIRT_OK)
        return st;
    if (node->opset < 8 && node->n_out > 1)
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                             "output Indices exists only from opset 8 (the model has opset %d)",
                             node->opset);
    return mr_pool_store(ctx, node, &p);
}

static mr_status mr_avgpool_prepare(mr_ctx *ctx, mr_node *node) {
    mr_pool_params p;
    mr_status st;
    if ((st = mr_pool_since(ctx, node, "count_include_pad", 7)) != MINIRT_OK ||
        (st = mr_pool_since(ctx, node, "dilations", 19)) != MINIRT_OK ||
        (st = mr_pool_prepare_common(ctx, node, &p)) != MINIRT_OK ||
        (st = mr_pool_flag(ctx, node, "count_include_pad", &p.count_include_pad)) != MINIRT_OK)
        return st;
    return mr_pool_store(ctx, node, &p);
}

/*
 * Output extent of one spatial axis, and the padding before (*pb) and after (*pe) it.
 *   NOTSET:  out = floor((in + pb + pe - ek) / s) + 1, with ceil instead of floor under ceil_mode;
 *            then, as the ONNX reference implementation does, windows that would start in the end
 *            padding are dropped: if (out - 1) * s >= in + pb, out = ceil((in + pb) / s) (one fewer
 *            whenever the end padding is smaller than the kernel);
 *   VALID:   no padding, out = floor((in - ek) / s) + 1;
 *   SAME_*:  out = ceil(in / s), total padding max(0, (out - 1) * s + ek - in), the odd one at the
 *            end (UPPER) or at the beginning (LOWER).
 * ek = (k - 1) * d + 1 is the dilated kernel extent. Returns false (with *why set) when the kernel
 * does not fit; every sum is checked because the attributes come from the model.
 */
static bool mr_pool_axis(const mr_pool_params *p, int i, int64_t in, int64_t *out, int64_t *pb,
                         int64_t *pe, const char **why) {
    int64_t k = p->kernel[i], s = p->strides[i], d = p->dilations[i];
    int64_t ek, padded, span, last;
    *why = "out of range (overflow)";
    if (!mr_mul_i64(k - 1, d, &ek) || !mr_add_i64(ek, 1, &ek)) return false;
    if (p->auto_pad == MR_POOL_SAME_UPPER || p->auto_pad == MR_POOL_SAME_LOWER) {
        int64_t o = in / s + (in % s != 0), total;
        if (!mr_mul_i64(o - 1, s, &total) || !mr_add_i64(total, ek, &total)) return false;
        total = total > in ? total - in : 0;
        *pb = p->auto_pad == MR_POOL_SAME_UPPER ? total / 2 : total - total / 2;
        *pe = total - *pb;
        *out = o;
        return true;
    }
    bool valid = p->auto_pad == MR_POOL_VALID;
    *pe = valid ? 0 : p->pads[p->nk + i];
    *pb = valid ? 0 : p->pads[i];
    if (!mr_add_i64(in, *pb, &padded) || !mr_add_i64(padded, *pe, &padded)) return false;
    *why = "larger than the padded input";
    if (padded < ek) return false;
    span = padded - ek;
    *out = span / s + 1;
    if (!valid && p->ceil_mode && span % s != 0) {
        *out += 1;
        *why = "out of range (overflow)";
        if (!mr_mul_i64(*out - 1, s, &last)) return false;
        if (last >= in + *pb) *out = (in + *pb) / s + ((in + *pb) % s != 0);
    }
    return true;
}

/* Check X against the attributes, fill p->g and the output shape ydims (rank x->ndim); Y's size is
 * checked too. Shared by MaxPool and AveragePool. */
static mr_status mr_pool_geometry(mr_ctx *ctx, mr_node *node, const mr_tensor *x, int64_t *ydims) {
    mr_pool_params *p = node->params;
    char xs[128], ks[128];
    mr_dims_str(xs, sizeof(xs), x->ndim, x->dims);
    mr_dims_str(ks, sizeof(ks), p->nk, p->kernel);
    if (x->dtype != MINIRT_FLOAT32 && x->dtype != MINIRT_FLOAT64)
        return mr_node_error(ctx, node, MINIRT_ERR_UNSUPPORTED,
                             "input X has type %s; %s supports float32 and float64",
                             mr_dtype_name(x->dtype), node->op_type);
    if (x->ndim != p->nk + 2)
        return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                             "input X has shape %s but kernel_shape is %s, so X must have rank %d",
                             xs, ks, p->nk + 2);

    mr_pool_geom *g = &p->g;
    ydims[0] = x->dims[0];
    ydims[1] = x->dims[1];
    g->planes = x->dims[0] * x->dims[1];
    int lead = MR_POOL_MAX_SPATIAL - p->nk;
    for (int i = 0; i < lead; i++) {
        g->in[i] = g->out[i] = g->k[i] = g->s[i] = g->d[i] = 1;
        g->pad[i] = g->pad_end[i] = 0;
    }
    for (int i = 0; i < p->nk; i++) {
        int64_t iv = x->dims[2 + i], ov, pb, pe;
        const char *why;
        if (iv < 1)
            return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                                 "input X has shape %s, with an empty spatial axis", xs);
        if (!mr_pool_axis(p, i, iv, &ov, &pb, &pe, &why)) {
            /* Shown for the message only; saturate rather than overflow. */
            char ps[128];
            int64_t padded[MR_POOL_MAX_SPATIAL], ek;
            for (int j = 0; j < p->nk; j++) {
                bool pad = p->auto_pad == MR_POOL_NOTSET;
                if (!mr_add_i64(x->dims[2 + j], pad ? p->pads[j] : 0, &padded[j]) ||
                    !mr_add_i64(padded[j], pad ? p->pads[p->nk + j] : 0, &padded[j]))
                    padded[j] = INT64_MAX;
            }
            if (!mr_mul_i64(p->kernel[i] - 1, p->dilations[i], &ek) || !mr_add_i64(ek, 1, &ek))
                ek = INT64_MAX;
            mr_dims_str(ps, sizeof(ps), p->nk, padded);
            return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                                 "input X has shape %s but kernel_shape is %s (padded input %s; "
                                 "on spatial axis %d the dilated kernel extent %lld is %s)",
                                 xs, ks, ps, i, (long long)ek, why);
        }
        if (ov < 1)
            return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                                 "input X has shape %s: the output would be empty on spatial "
                                 "axis %d",
                                 xs, i);
        ydims[2 + i] = ov;
        g->in[lead + i] = iv;
        g->out[lead + i] = ov;
        g->k[lead + i] = p->kernel[i];
        g->s[lead + i] = p->strides[i];
        g->d[lead + i] = p->dilations[i];
        g->pad[lead + i] = pb;
        g->pad_end[lead + i] = pe;
    }
    g->col_major = p->col_major;
    g->count_include_pad = p->count_include_pad;

    mr_status st = mr_shape_bytes(ctx, x->dtype, x->ndim, ydims, NULL, NULL);
    if (st != MINIRT_OK) return mr_node_error(ctx, node, st, "output Y: %s", ctx->err);
    return MINIRT_OK;
}

static mr_status mr_maxpool_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                                  mr_tensor *const *out) {
    const mr_tensor *x = in[0];
    int64_t ydims[MR_MAX_DIMS];
    mr_status st = mr_pool_geometry(ctx, node, x, ydims);
    if (st != MINIRT_OK) return st;
    out[0]->dtype = x->dtype;
    out[0]->ndim = x->ndim;
    memcpy(out[0]->dims, ydims, (size_t)x->ndim * sizeof(int64_t));
    if (node->n_out > 1 && out[1]) {
        st = mr_shape_bytes(ctx, MINIRT_INT64, x->ndim, ydims, NULL, NULL);
        if (st != MINIRT_OK) return mr_node_error(ctx, node, st, "output Indices: %s", ctx->err);
        out[1]->dtype = MINIRT_INT64;
        out[1]->ndim = x->ndim;
        memcpy(out[1]->dims, ydims, (size_t)x->ndim * sizeof(int64_t));
    }
    node->workspace = 0;
    return MINIRT_OK;
}

/* Taps of the window at output position o on axis a: input positions start + j*d for j in
 * [first, end), the ones inside [0, in). Empty (first >= end) when the window covers only padding.
 */
typedef struct mr_pool_taps {
    int64_t start, first, end;
} mr_pool_taps;

static inline mr_pool_taps mr_pool_window(const mr_pool_geom *g, int a, int64_t o) {
    mr_pool_taps t;
    int64_t d = g->d[a];
    t.start = o * g->s[a] - g->pad[a];
    t.first = t.start < 0 ? -t.start / d + (-t.start % d != 0) : 0;
    int64_t last = g->in[a] - 1 - t.start; /* largest j*d that stays inside */
    t.end = last < 0 ? 0 : last / d + 1;
    if (t.end > g->k[a]) t.end = g->k[a];
    return t;
}

/* Position in the plane of the row-major offset `at`, in the requested storage order. */
static inline int64_t mr_pool_index(const mr_pool_geom *g, int64_t at) {
    if (!g->col_major) return at;
    int64_t i2 = at % g->in[2], i1 = at / g->in[2] % g->in[1], i0 = at / (g->in[2] * g->in[1]);
    return i0 + i1 * g->in[0] + i2 * g->in[0] * g->in[1];
}

/*
 * MaxPool kernel: X[planes][in0][in1][in2] -> Y[planes][out0][out1][out2] (and Indices alike).
 * Y = max over the window's taps that fall inside the input (padding is never a candidate); the
 * first maximum wins and a NaN is only kept when it is the first tap, as in the ONNX reference.
 * A window with no tap inside the input gives -inf and index -1.
 * Indices are flat offsets into X: plane * in0*in1*in2 + the position in the plane, row-major
 * ((i0*in1 + i1)*in2 + i2) for storage_order 0 and column-major (i0 + i1*in0 + i2*in0*in1) for 1.
 */
#define MR_POOL_MAX_KERNEL(NAME, T)                                                                \
    static void NAME(const mr_pool_geom *g, const void *px, void *py, int64_t *ind) {              \
        const T *x = px;                                                                           \
        T *y = py;                                                                                 \
        int64_t in1 = g->in[1], in2 = g->in[2], plane = g->in[0] * in1 * in2;                      \
        for (int64_t p = 0; p < g->planes; p++) {                                                  \
            const T *xp = x + p * plane;                                                           \
            for (int64_t o0 = 0; o0 < g->out[0]; o0++) {                                           \
                mr_pool_taps t0 = mr_pool_window(g, 0, o0);                                        \
                for (int64_t o1 = 0; o1 < g->out[1]; o1++) {                                       \
                    mr_pool_taps t1 = mr_pool_window(g, 1, o1);                                    \
                    for (int64_t o2 = 0; o2 < g->out[2]; o2++) {                                   \
                        mr_pool_taps t2 = mr_pool_window(g, 2, o2);                                \
                        if (t0.first >= t0.end || t1.first >= t1.end || t2.first >= t2.end) {      \
                            *y++ = (T)-INFINITY;                                                   \
                            if (ind) *ind++ = -1;                                                  \
                            continue;                                                              \
                        }                                                                          \
                        int64_t f0 = t0.start + t0.first * g->d[0];                                \
                        int64_t f1 = t1.start + t1.first * g->d[1];                                \
                        int64_t f2 = t2.start + t2.first * g->d[2];                                \
                        int64_t best_at = (f0 * in1 + f1) * in2 + f2;                              \
                        T best = xp[best_at];                                                      \
                        for (int64_t j0 = t0.first; j0 < t0.end; j0++) {                           \
                            int64_t i0 = t0.start + j0 * g->d[0];                                  \
                            for (int64_t j1 = t1.first; j1 < t1.end; j1++) {                       \
                                int64_t row = (i0 * in1 + t1.start + j1 * g->d[1]) * in2;          \
                                for (int64_t j2 = t2.first; j2 < t2.end; j2++) {                   \
                                    int64_t at = row + t2.start + j2 * g->d[2];                    \
                                    if (xp[at] > best) {                                           \
                                        best = xp[at];                                             \
                                        best_at = at;                                              \
                                    }                                                              \
                                }                                                                  \
                            }                                                                      \
                        }                                                                          \
                        *y++ = best;                                                               \
                        if (ind) *ind++ = p * plane + mr_pool_index(g, best_at);                   \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }

MR_POOL_MAX_KERNEL(mr_pool_max_f32, float)
MR_POOL_MAX_KERNEL(mr_pool_max_f64, double)

/*
 * MaxPool fast path: float32, no Indices, 2-D windows (axis 0 of the geometry is a unit leading
 * axis). Per output row, the output columns whose whole window lies inside the input row
 * ("interior", [c_lo, c_hi)) are computed tap by tap over the row - y[c] = x[c*s + off] > y[c] ?
 * ... : y[c] - a loop the compiler vectorises (strides 1 and 2 get their own copies so the stride
 * is a constant). Every output visits its taps in the reference order (rows, then columns) and
 * starts from its first tap, so NaN and ties behave as in the generic kernel, which handles the
 * border columns.
 */
#define MR_POOL_ROW(STRIDE)                                                                        \
    for (int64_t j2 = 0; j2 < k2; j2++) {                                                          \
        const float *xr = row + j2 * d2 - pad2;                                                    \
        if (first) {                                                                               \
            for (int64_t c = c_lo; c < c_hi; c++)                                                  \
                yr[c] = xr[c * (STRIDE)];                                                          \
            first = false;                                                                         \
            continue;                                                                              \
        }                                                                                          \
        for (int64_t c = c_lo; c < c_hi; c++) {                                                    \
            float v = xr[c * (STRIDE)];                                                            \
            yr[c] = v > yr[c] ? v : yr[c];                                                         \
        }                                                                                          \
    }

static bool mr_pool_max_fast_ok(const mr_pool_geom *g) {
    return g->in[0] == 1 && g->out[0] == 1 && g->k[0] == 1 && g->pad[0] == 0;
}

MR_SIMD_CLONES static void mr_pool_max_f32_2d(const mr_pool_geom *g, const float *x, float *y,
                                              int64_t p0, int64_t p1) {
    const int64_t H = g->in[1], W = g->in[2], OH = g->out[1], OW = g->out[2];
    const int64_t k2 = g->k[2], s2 = g->s[2], d1 = g->d[1], d2 = g->d[2];
    const int64_t pad2 = g->pad[2];
    /* interior columns: c*s2 - pad2 >= 0 and c*s2 - pad2 + (k2-1)*d2 < W */
    int64_t c_lo = (pad2 + s2 - 1) / s2, c_hi = 0;
    int64_t span = W - (k2 - 1) * d2 + pad2; /* c*s2 < span */
    if (span > 0) c_hi = (span - 1) / s2 + 1;
    if (c_hi > OW) c_hi = OW;
    if (c_lo > c_hi) c_lo = c_hi;
    for (int64_t p = p0; p < p1; p++) {
        const float *xp = x + p * H * W;
        float *yp = y + p * OH * OW;
        for (int64_t o1 = 0; o1 < OH; o1++) {
            float *yr = yp + o1 * OW;
            mr_pool_taps t1 = mr_pool_window(g, 1, o1);
            bool first = true;
            for (int64_t j1 = t1.first; j1 < t1.end; j1++) {
                const float *row = xp + (t1.start + j1 * d1) * W;
                if (s2 == 1) {
                    MR_POOL_ROW(1)
                } else if (s2 == 2) {
                    MR_POOL_ROW(2)
                } else {
                    MR_POOL_ROW(s2)
                }
            }
            if (first) /* no input row in the window */
                for (int64_t c = c_lo; c < c_hi; c++)
                    yr[c] = -INFINITY;
            /* border columns: the generic per-output loop */
            for (int64_t c = 0; c < OW; c++) {
                if (c == c_lo) c = c_hi;
                if (c >= OW) break;
                mr_pool_taps t2 = mr_pool_window(g, 2, c);
                float best = -INFINITY;
                bool any = false;
                for (int64_t j1 = t1.first; j1 < t1.end; j1++)
                    for (int64_t j2 = t2.first; j2 < t2.end; j2++) {
                        float v = xp[(t1.start + j1 * d1) * W + t2.start + j2 * d2];
                        if (!any || v > best) best = v;
                        any = true;
                    }
                yr[c] = best;
            }
        }
    }
}
#undef MR_POOL_ROW

/* The fast path over planes [p0, p1), for the session's threads. */
typedef struct mr_pool_max_job {
    const mr_pool_geom *g;
    const float *x;
    float *y;
} mr_pool_max_job;

static void mr_pool_max_task(void *arg, int64_t p0, int64_t p1, int thread) {
    (void)thread;
    const mr_pool_max_job *j = arg;
    mr_pool_max_f32_2d(j->g, j->x, j->y, p0, p1);
}

static mr_status mr_maxpool_run(mr_ctx *ctx, const mr_node *node, mr_tensor *const *in,
                                mr_tensor *const *out, void *ws) {
    (void)ws;
    const mr_pool_params *p = node->params;
    int64_t *ind = node->n_out > 1 && out[1] ? out[1]->data : NULL;
    if (in[0]->dtype == MINIRT_FLOAT32 && !ind && mr_pool_max_fast_ok(&p->g)) {
        mr_pool_max_job j = {&p->g, in[0]->data, out[0]->data};
        /* chunks of about 16K outputs: the planes' cost is their size */
        const int64_t per = p->g.out[1] * p->g.out[2] + 1;
        mr_parallel_for(ctx->pool, p->g.planes, 16384 / per + 1, mr_pool_max_task, &j);
        return MINIRT_OK;
    }
    if (in[0]->dtype == MINIRT_FLOAT64)
        mr_pool_max_f64(&p->g, in[0]->data, out[0]->data, ind);
    else
        mr_pool_max_f32(&p->g, in[0]->data, out[0]->data, ind);
    return MINIRT_OK;
}

const mr_op mr_op_maxpool = {
    .domain = "",
    .op_type = "MaxPool",
    .since = 1,
    .until = 21,
    .min_inputs = 1,
    .max_inputs = 1,
    .min_outputs = 1,
    .max_outputs = 2,
    .prepare = mr_maxpool_prepare,
    .infer = mr_maxpool_infer,
    .run = mr_maxpool_run,
    .types = MR_TYPES_FLOAT,
};

/* ---- AveragePool ---- */

static mr_status mr_avgpool_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                                  mr_tensor *const *out) {
    const mr_tensor *x = in[0];
    int64_t ydims[MR_MAX_DIMS];
    mr_status st = mr_pool_geometry(ctx, node, x, ydims);
    if (st != MINIRT_OK) return st;
    out[0]->dtype = x->dtype;
    out[0]->ndim = x->ndim;
    memcpy(out[0]->dims, ydims, (size_t)x->ndim * sizeof(int64_t));
    node->workspace = 0;
    return MINIRT_OK;
}

/* Taps of the window starting at `start` on axis a that lie inside the input or its begin/end
 * padding: j in [0, k) with start + j*d < in + pad_end (start >= -pad always). The part of a
 * ceil_mode window that hangs past the end padding is not counted, as in onnxruntime and PyTorch.
 */
static inline int64_t mr_pool_padded_taps(const mr_pool_geom *g, int a, int64_t start) {
    int64_t limit = g->in[a] + g->pad_end[a] - start;
    if (limit <= 0) return 0;
    int64_t n = (limit - 1) / g->d[a] + 1;
    return n < g->k[a] ? n : g->k[a];
}

/*
 * AveragePool kernel: X[planes][in0][in1][in2] -> Y[planes][out0][out1][out2].
 * Y = (sum of the window's taps inside the input) / divisor, summed in double, where the divisor is
 *   count_include_pad = 0: the number of taps inside the input;
 *   count_include_pad = 1: the number of taps inside the padded input (input plus explicit or
 *                          auto pads), per axis; ceil_mode's extra reach past it is not counted.
 * A window with no tap inside the input gives 0 (onnxruntime's result).
 */
#define MR_POOL_AVG_KERNEL(NAME, T)                                                                \
    static void NAME(const mr_pool_geom *g, const void *px, void *py) {                            \
        const T *x = px;                                                                           \
        T *y = py;                                                                                 \
        int64_t in1 = g->in[1], in2 = g->in[2], plane = g->in[0] * in1 * in2;                      \
        for (int64_t p = 0; p < g->planes; p++) {                                                  \
            const T *xp = x + p * plane;                                                           \
            for (int64_t o0 = 0; o0 < g->out[0]; o0++) {                                           \
                mr_pool_taps t0 = mr_pool_window(g, 0, o0);                                        \
                int64_t c0 = mr_pool_padded_taps(g, 0, t0.start);                                  \
                for (int64_t o1 = 0; o1 < g->out[1]; o1++) {                                       \
                    mr_pool_taps t1 = mr_pool_window(g, 1, o1);                                    \
                    int64_t c1 = mr_pool_padded_taps(g, 1, t1.start);                              \
                    for (int64_t o2 = 0; o2 < g->out[2]; o2++) {                                   \
                        mr_pool_taps t2 = mr_pool_window(g, 2, o2);                                \
                        if (t0.first >= t0.end || t1.first >= t1.end || t2.first >= t2.end) {      \
                            *y++ = 0;                                                              \
                            continue;                                                              \
                        }                                                                          \
                        double sum = 0;                                                            \
                        for (int64_t j0 = t0.first; j0 < t0.end; j0++) {                           \
                            int64_t i0 = t0.start + j0 * g->d[0];                                  \
                            for (int64_t j1 = t1.first; j1 < t1.end; j1++) {                       \
                                int64_t row = (i0 * in1 + t1.start + j1 * g->d[1]) * in2;          \
                                for (int64_t j2 = t2.first; j2 < t2.end; j2++)                     \
                                    sum += xp[row + t2.start + j2 * g->d[2]];                      \
                            }                                                                      \
                        }                                                                          \
                        /* in double: padded counts come from model pads and may be huge */        \
                        double n = g->count_include_pad                                            \
                                       ? (double)c0 * (double)c1 *                                 \
                                             (double)mr_pool_padded_taps(g, 2, t2.start)           \
                                       : (double)((t0.end - t0.first) * (t1.end - t1.first) *      \
                                                  (t2.end - t2.first));                            \
                        *y++ = (T)(sum / n);                                                       \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }

MR_POOL_AVG_KERNEL(mr_pool_avg_f32, float)
MR_POOL_AVG_KERNEL(mr_pool_avg_f64, double)

static mr_status mr_avgpool_run(mr_ctx *ctx, const mr_node *node, mr_tensor *const *in,
                                mr_tensor *const *out, void *ws) {
    (void)ctx;
    (void)ws;
    const mr_pool_params *p = node->params;
    if (in[0]->dtype == MINIRT_FLOAT64)
        mr_pool_avg_f64(&p->g, in[0]->data, out[0]->data);
    else
        mr_pool_avg_f32(&p->g, in[0]->data, out[0]->data);
    return MINIRT_OK;
}

/* Opset 19 added dilations and 22 more types; this covers 1 to 18. */
const mr_op mr_op_average_pool = {
    .domain = "",
    .op_type = "AveragePool",
    .since = 1,
    .until = 18,
    .min_inputs = 1,
    .max_inputs = 1,
    .min_outputs = 1,
    .max_outputs = 1,
    .prepare = mr_avgpool_prepare,
    .infer = mr_avgpool_infer,
    .run = mr_avgpool_run,
    .types = MR_TYPES_FLOAT,
};

/* ---- GlobalAveragePool and GlobalMaxPool ----
 * X[N, C, D1..Dn] -> Y[N, C, 1..1], one value per (n, c) plane.
 * https://onnx.ai/onnx/operators/onnx__GlobalAveragePool.html
 * https://onnx.ai/onnx/operators/onnx__GlobalMaxPool.html
 */

static mr_status mr_global_pool_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                                      mr_tensor *const *out) {
    const mr_tensor *x = in[0];
    char xs[128];
    mr_dims_str(xs, sizeof(xs), x->ndim, x->dims);
    if (x->dtype != MINIRT_FLOAT32 && x->dtype != MINIRT_FLOAT64)
        return mr_node_error(ctx, node, MINIRT_ERR_UNSUPPORTED,
                             "input X has type %s; %s supports float32 and float64",
                             mr_dtype_name(x->dtype), node->op_type);
    if (x->ndim < 3)
        return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                             "input X has shape %s; it needs rank >= 3 (N, C and spatial axes)",
                             xs);
    for (int i = 2; i < x->ndim; i++)
        if (x->dims[i] < 1)
            return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                                 "input X has shape %s, with an empty spatial axis", xs);
    out[0]->dtype = x->dtype;
    out[0]->ndim = x->ndim;
    out[0]->dims[0] = x->dims[0];
    out[0]->dims[1] = x->dims[1];
    for (int i = 2; i < x->ndim; i++)
        out[0]->dims[i] = 1;
    node->workspace = 0;
    return MINIRT_OK;
}

/*
 * Sum of n floats: 16 float lanes over runs of at most 256 elements (so each lane adds at most 16
 * values in float), each run's lanes added into a double. Vectorises, and stays accurate for planes
 * of any size.
 */
static double mr_gap_sum_f32(const float *x, int64_t n) {
    double total = 0;
    for (int64_t base = 0; base < n; base += 256) {
        int64_t len = n - base < 256 ? n - base : 256;
        float lane[16] = {0};
        int64_t i = 0;
        for (; i + 16 <= len; i += 16)
            for (int l = 0; l < 16; l++)
                lane[l] += x[base + i + l];
        double run = 0;
        for (int l = 0; l < 16; l++)
            run += lane[l];
        for (; i < len; i++)
            run += x[base + i];
        total += run;
    }
    return total;
}

/* GlobalAveragePool: Y[n,c] = sum(X[n,c,...]) / (D1*...*Dn), accumulated in double (float32: per
 * run of 256, see mr_gap_sum_f32). */
static mr_status mr_gap_run(mr_ctx *ctx, const mr_node *node, mr_tensor *const *in,
                            mr_tensor *const *out, void *ws) {
    (void)ctx;
    (void)node;
    (void)ws;
    const mr_tensor *x = in[0];
    int64_t planes = x->dims[0] * x->dims[1], size = 1;
    for (int i = 2; i < x->ndim; i++)
        size *= x->dims[i];
    double scale = 1.0 / (double)size; /* size >= 1, checked at infer */
    if (x->dtype == MINIRT_FLOAT64) {
        const double *xp = x->data;
        double *y = out[0]->data;
        for (int64_t p = 0; p < planes; p++, xp += size) {
            double sum = 0;
            for (int64_t i = 0; i < size; i++)
                sum += xp[i];
            y[p] = sum * scale;
        }
    } else {
        const float *xp = x->data;
        float *y = out[0]->data;
        for (int64_t p = 0; p < planes; p++, xp += size)
            y[p] = (float)(mr_gap_sum_f32(xp, size) * scale);
    }
    return MINIRT_OK;
}

const mr_op mr_op_global_average_pool = {
    .domain = "",
    .op_type = "GlobalAveragePool",
    .since = 1,
    .until = 21,
    .min_inputs = 1,
    .max_inputs = 1,
    .min_outputs = 1,
    .max_outputs = 1,
    .prepare = NULL,
    .infer = mr_global_pool_infer,
    .run = mr_gap_run,
    .types = MR_TYPES_FLOAT,
};

/* GlobalMaxPool: Y[n,c] = max(X[n,c,...]), MaxPool's rule for NaN (kept only as the first value).
 */
#define MR_GLOBAL_MAX_KERNEL(NAME, T)                                                              \
    static void NAME(const void *px, void *py, int64_t planes, int64_t size) {                     \
        const T *x = px;                                                                           \
        T *y = py;                                                                                 \
        for (int64_t p = 0; p < planes; p++, x += size) {                                          \
            T best = x[0];                                                                         \
            for (int64_t i = 1; i < size; i++)                                                     \
                if (x[i] > best) best = x[i];                                                      \
            y[p] = best;                                                                           \
        }                                                                                          \
    }

MR_GLOBAL_MAX_KERNEL(mr_pool_global_max_f32, float)
MR_GLOBAL_MAX_KERNEL(mr_pool_global_max_f64, double)

static mr_status mr_gmp_run(mr_ctx *ctx, const mr_node *node, mr_tensor *const *in,
                            mr_tensor *const *out, void *ws) {
    (void)ctx;
    (void)node;
    (void)ws;
    const mr_tensor *x = in[0];
    int64_t planes = x->dims[0] * x->dims[1], size = 1;
    for (int i = 2; i < x->ndim; i++)
        size *= x->dims[i]; /* >= 1, checked at infer */
    if (x->dtype == MINIRT_FLOAT64)
        mr_pool_global_max_f64(x->data, out[0]->data, planes, size);
    else
        mr_pool_global_max_f32(x->data, out[0]->data, planes, size);
    return MINIRT_OK;
}

/* Opset 22 added more types only; 1 to 21 share these semantics. */
const mr_op mr_op_global_max_pool = {
    .domain = "",
    .op_type = "GlobalMaxPool",
    .since = 1,
    .until = 21,
    .min_inputs = 1,
    .max_inputs = 1,
    .min_outputs = 1,
    .max_outputs = 1,
    .prepare = NULL,
    .infer = mr_global_pool_infer,
    .run = mr_gmp_run,
    .types = MR_TYPES_FLOAT,
};
