/*
 * resize.c - ONNX Resize (https://onnx.ai/onnx/operators/onnx__Resize.html), opsets 10 to 17, and
 * its deprecated predecessor Upsample (https://onnx.ai/onnx/operators/onnx__Upsample.html),
 * opsets 1 to 9; float32, any rank.
 *
 * Both map every output coordinate, axis by axis, back to an input coordinate x (a double), and
 * combine the input's neighbours of x with per-axis weights ("taps"):
 *     nearest: 1 tap, x rounded by nearest_mode;
 *     linear:  2 taps at floor(x), floor(x)+1 with weights 1-f, f  (f = x - floor(x));
 *     cubic:   4 taps at floor(x)-1 .. floor(x)+2 with the Keys kernel of parameter cubic_coeff_a.
 * Neighbours outside the input take the edge value; with exclude_outside their weights are zeroed
 * and the rest renormalised. The N-d result is the separable product: an output element is
 * sum over the taps of every axis of prod(weights) * X[taps]. Axes whose mapping is the identity
 * (scale 1 with an integral coordinate, typically N and C) collapse to a single tap.
 *
 * Coordinate transforms (x_r = output coordinate, s = scale, L = "length_resized"):
 *     half_pixel (default):  (x_r + 0.5) / s - 0.5
 *     asymmetric:            x_r / s
 *     pytorch_half_pixel:    (x_r + 0.5) / s - 0.5, or 0 when the output axis has length 1
 *     align_corners:         x_r * (in - 1) / (L - 1), or 0 when L == 1
 *     tf_half_pixel_for_nn:  (x_r + 0.5) / s                               (opset 11 only)
 *     tf_crop_and_resize:    start * (in - 1) + x_r * (end - start) * (in - 1) / (L - 1), or
 *                            (start + end) / 2 * (in - 1) when L == 1; coordinates outside
 *                            [0, in - 1] give extrapolation_value.
 * With `scales`, s is the given scale (not out/in) and the output extent is floor(in * s); with
 * `sizes`, s = out / in. L is in * s, unfloored, as in ONNX's reference implementation and node
 * tests (test_resize_downsample_scales_linear_align_corners expects 3.142857, not onnxruntime's
 * 4, which uses the floored extent); the pytorch_half_pixel length-1 test uses the output extent,
 * as the spec text and onnxruntime do (ONNX's reference uses -0.5 there, which differs only for
 * cubic). roi does not change the output extent (as in ONNX's shape inference and onnxruntime).
 *
 * Before opset 11 (Resize 10, Upsample) coordinates are asymmetric and nearest rounds as
 * onnxruntime does for those opsets: ceil on axes that shrink, floor on the others.
 */
#include <math.h>
#include <string.h>

#include "mr.h"

enum { MR_RS_NEAREST, MR_RS_LINEAR, MR_RS_CUBIC };
enum {
    MR_RS_HALF_PIXEL,
    MR_RS_ASYMMETRIC,
    MR_RS_PYTORCH_HALF_PIXEL,
    MR_RS_ALIGN_CORNERS,
    MR_RS_TF_HALF_PIXEL_FOR_NN,
    MR_RS_TF_CROP_AND_RESIZE
};
enum {
    MR_RS_ROUND_PREFER_FLOOR,
    MR_RS_ROUND_PREFER_CEIL,
    MR_RS_FLOOR,
    MR_RS_CEIL,
    MR_RS_LEGACY /* opsets before 11: ceil when the axis shrinks, else floor */
};

typedef struct mr_resize_params {
    /* attributes (prepare) */
    int mode, coord, nearest;
    float cubic_a, extrapolation;
    bool exclude_outside;
    bool upsample;           /* Upsample: scales must be >= 1 */
    int scales_in, sizes_in; /* input index of scales / sizes; -1 if none */
    int n_attr_scales;       /* Upsample 1 and 7: scales from attributes */
    float attr_scales[MR_MAX_DIMS];
    /* geometry at the current shapes (infer) */
    int rank, ntap;
    int64_t in[MR_MAX_DIMS], out[MR_MAX_DIMS], stride[MR_MAX_DIMS];
    double scale[MR_MAX_DIMS], length[MR_MAX_DIMS]; /* s and L of the file comment */
    size_t tab_off[MR_MAX_DIMS], combo_off;         /* workspace layout */
    int64_t max_combos;
} mr_resize_params;

/* Look up s in names[0..n); *out = its index. */
static mr_status mr_resize_enum(mr_ctx *ctx, const mr_node *node, const char *attr, const char *def,
                                const char *const *names, int n, int *out) {
    const char *s;
    mr_status st = mr_attr_string(ctx, node, attr, def, &s);
    if (st != MINIRT_OK) return st;
    for (int i = 0; i < n; i++)
        if (names[i] && strcmp(s, names[i]) == 0) {
            *out = i;
            return MINIRT_OK;
        }
    return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                         "attribute '%s' is '%s', which is not valid at opset %d", attr, s,
                         node->opset);
}

/* An attribute that exists only from opset `since` is a model error before it. */
static mr_status mr_resize_since(mr_ctx *ctx, const mr_node *node, const char *name, int since) {
    if (node->opset < since && mr_attr_find(node, name))
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                             "attribute '%s' exists only from opset %d (the model has opset %d)",
                             name, since, node->opset);
    return MINIRT_OK;
}

/*
 * Resize attributes: opset 10 has only mode (nearest, linear); opset 11 adds cubic and
 * coordinate_transformation_mode, cubic_coeff_a, exclude_outside, extrapolation_value,
 * nearest_mode; opset 13 drops tf_half_pixel_for_nn. Inputs: (X, scales) at opset 10,
 * (X, roi, scales, sizes) from 11.
 */
static mr_status mr_resize_prepare(mr_ctx *ctx, mr_node *node) {
    static const char *const modes[] = {"nearest", "linear", "cubic"};
    static const char *const nearests[] = {"round_prefer_floor", "round_prefer_ceil", "floor",
                                           "ceil"};
    mr_resize_params *p = mr_calloc(ctx, 1, sizeof(*p));
    if (!p) return mr_nomem(ctx);
    node->params = p;
    mr_status st;
    const bool v10 = node->opset < 11;
    static const char *const later[] = {"coordinate_transformation_mode", "cubic_coeff_a",
                                        "exclude_outside", "extrapolation_value", "nearest_mode"};
    for (size_t i = 0; i < sizeof(later) / sizeof(later[0]); i++)
        if ((st = mr_resize_since(ctx, node, later[i], 11)) != MINIRT_OK) return st;
    if ((st = mr_resize_enum(ctx, node, "mode", "nearest", modes, v10 ? 2 : 3, &p->mode)))
        return st;
    if (v10) {
        p->coord = MR_RS_ASYMMETRIC;
        p->nearest = MR_RS_LEGACY;
        p->scales_in = 1;
        p->sizes_in = -1;
        return MINIRT_OK;
    }
    /* In MR_RS_* order; tf_half_pixel_for_nn was removed at opset 13. */
    const char *const coords[] = {"half_pixel",
                                  "asymmetric",
                                  "pytorch_half_pixel",
                                  "align_corners",
                                  node->opset < 13 ? "tf_half_pixel_for_nn" : NULL,
                                  "tf_crop_and_resize"};
    if ((st = mr_resize_enum(ctx, node, "coordinate_transformation_mode", "half_pixel", coords, 6,
                             &p->coord)) != MINIRT_OK)
        return st;
    if ((st = mr_resize_enum(ctx, node, "nearest_mode", "round_prefer_floor", nearests, 4,
                             &p->nearest)) != MINIRT_OK)
        return st;
    int64_t excl;
    if ((st = mr_attr_float(ctx, node, "cubic_coeff_a", -0.75f, &p->cubic_a)) ||
        (st = mr_attr_float(ctx, node, "extrapolation_value", 0.0f, &p->extrapolation)) ||
        (st = mr_attr_int(ctx, node, "exclude_outside", 0, &excl)))
        return st;
    if (excl != 0 && excl != 1)
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                             "attribute 'exclude_outside' is %lld; it must be 0 or 1",
                             (long long)excl);
    p->exclude_outside = excl == 1;
    p->scales_in = 2;
    p->sizes_in = 3;
    return MINIRT_OK;
}

/*
 * Upsample attributes: opset 1 (experimental) has height_scale and width_scale for a 4-D input and
 * modes nearest / bilinear; opset 7 a `scales` attribute; opset 9 a `scales` input; modes nearest
 * and linear. "linear" is N-linear with asymmetric coordinates.
 */
static mr_status mr_upsample_prepare(mr_ctx *ctx, mr_node *node) {
    static const char *const modes7[] = {"nearest", "linear"};
    static const char *const modes1[] = {"nearest", "bilinear"};
    mr_resize_params *p = mr_calloc(ctx, 1, sizeof(*p));
    if (!p) return mr_nomem(ctx);
    node->params = p;
    mr_status st;
    if ((st = mr_resize_enum(ctx, node, "mode", "nearest", node->opset < 7 ? modes1 : modes7, 2,
                             &p->mode)) != MINIRT_OK)
        return st;
    p->coord = MR_RS_ASYMMETRIC;
    p->nearest = MR_RS_LEGACY;
    p->upsample = true;
    p->scales_in = -1;
    p->sizes_in = -1;
    if (node->opset < 7) {
        const mr_attr *h = mr_attr_find(node, "height_scale"),
                      *w = mr_attr_find(node, "width_scale");
        if (!h || !w)
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                 "attributes 'height_scale' and 'width_scale' are required");
        p->n_attr_scales = 4;
        p->attr_scales[0] = p->attr_scales[1] = 1.0f;
        if ((st = mr_attr_float(ctx, node, "height_scale", 1.0f, &p->attr_scales[2])) ||
            (st = mr_attr_float(ctx, node, "width_scale", 1.0f, &p->attr_scales[3])))
            return st;
    } else if (node->opset < 9) {
        const mr_attr *a = mr_attr_find(node, "scales");
        if (!a || a->type != MR_ATTR_FLOATS)
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                 "attribute 'scales' (floats) is required at opset %d",
                                 node->opset);
        if (a->n > MR_MAX_DIMS)
            return mr_node_error(ctx, node, MINIRT_ERR_LIMIT,
                                 "attribute 'scales' has %zu values, more than %d", a->n,
                                 MR_MAX_DIMS);
        p->n_attr_scales = (int)a->n;
        memcpy(p->attr_scales, a->floats, a->n * sizeof(float));
    } else {
        p->scales_in = 1;
    }
    return MINIRT_OK;
}

/* The scales for X's rank into s[]: from attributes, or the scales input (known at plan time). */
static mr_status mr_resize_read_scales(mr_ctx *ctx, const mr_node *node, const mr_tensor *t,
                                       int rank, double *s) {
    const mr_resize_params *p = node->params;
    char b[160];
    int64_t n;
    if (p->n_attr_scales) {
        n = p->n_attr_scales;
        for (int i = 0; i < n && i < rank; i++)
            s[i] = p->attr_scales[i];
    } else {
        if (t->dtype != MINIRT_FLOAT32)
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL, "scales must be float32, not %s",
                                 mr_dtype_name(t->dtype));
        if (t->ndim != 1)
            return mr_node_error(ctx, node, MINIRT_ERR_SHAPE, "scales must be 1-D, not of shape %s",
                                 mr_dims_str(b, sizeof(b), t->ndim, t->dims));
        n = t->dims[0];
        if (!t->data)
            return mr_node_error(ctx, node, MINIRT_ERR_UNSUPPORTED,
                                 "scales must be known before the run (a constant, or computed "
                                 "from constants and input shapes); data-dependent values are not "
                                 "supported");
        for (int i = 0; i < n && i < rank; i++)
            s[i] = ((const float *)t->data)[i];
    }
    if (n != rank)
        return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                             "scales has %lld values but X has rank %d; they must match",
                             (long long)n, rank);
    for (int i = 0; i < rank; i++) {
        if (!(s[i] > 0.0) || (p->upsample && !(s[i] >= 1.0)))
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL, "scales[%d] is %g; it must be %s", i,
                                 s[i], p->upsample ? ">= 1" : "> 0");
    }
    return MINIRT_OK;
}

static mr_status mr_resize_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                                 mr_tensor *const *out) {
    mr_resize_params *p = node->params;
    const mr_tensor *X = in[0];
    char b1[160], b2[160];
    if (X->dtype != MINIRT_FLOAT32)
        return mr_node_error(ctx, node, MINIRT_ERR_UNSUPPORTED,
                             "input X is %s; only float32 is supported", mr_dtype_name(X->dtype));
    const int rank = X->ndim;
    if (rank < 1)
        return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                             "input X is a scalar; it needs rank >= 1");
    if (p->n_attr_scales == 4 && node->opset < 7 && rank != 4)
        return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                             "input X has shape %s; Upsample-1 needs a 4-D [N, C, H, W] input",
                             mr_dims_str(b1, sizeof(b1), rank, X->dims));
    const mr_tensor *S = p->scales_in >= 0 && p->scales_in < node->n_in ? in[p->scales_in] : NULL;
    const mr_tensor *Z = p->sizes_in >= 0 && p->sizes_in < node->n_in ? in[p->sizes_in] : NULL;
    /* From opset 11 an empty scales or sizes tensor stands for an absent one. */
    if (p->sizes_in >= 0 && S && mr_numel(S) == 0) S = NULL;
    if (Z && mr_numel(Z) == 0) Z = NULL;
    const bool have_scales = S || p->n_attr_scales;
    if (have_scales == (Z != NULL))
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                             have_scales
                                 ? "scales and sizes are both given; exactly one must be"
                                 : "neither scales nor sizes is given; exactly one must be");
    mr_status st;
    double s[MR_MAX_DIMS];
    int64_t sizes[MR_MAX_DIMS];
    if (have_scales) {
        if ((st = mr_resize_read_scales(ctx, node, S, rank, s)) != MINIRT_OK) return st;
    } else {
        int n;
        if ((st = mr_read_ints(ctx, node, "sizes", Z, sizes, MR_MAX_DIMS, &n)) != MINIRT_OK)
            return st;
        if (n != rank)
            return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                                 "sizes has %d values but X has rank %d; they must match", n, rank);
    }
    p->rank = rank;
    for (int i = 0; i < rank; i++) {
        const int64_t n_in = X->dims[i];
        int64_t o;
        if (have_scales) {
            double v = floor((double)n_in * s[i]);
            if (!(v < 9.0e18))
                return mr_node_error(ctx, node, MINIRT_ERR_LIMIT,
                                     "output extent %g of dim %d is too large", v, i);
            o = (int64_t)v;
            p->scale[i] = s[i];
            p->length[i] = (double)n_in * s[i];
        } else {
            o = sizes[i];
            if (o < 0)
                return mr_node_error(ctx, node, MINIRT_ERR_MODEL, "sizes[%d] is %lld", i,
                                     (long long)o);
            p->scale[i] = n_in > 0 ? (double)o / (double)n_in : 1.0;
            p->length[i] = (double)o;
        }
        if (n_in == 0 && o > 0)
            return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                                 "input X has shape %s; an empty dim %d cannot be resized to %lld",
                                 mr_dims_str(b1, sizeof(b1), rank, X->dims), i, (long long)o);
        p->in[i] = n_in;
        p->out[i] = o;
    }
    for (int i = rank - 1; i >= 0; i--)
        p->stride[i] = i == rank - 1 ? 1 : p->stride[i + 1] * p->in[i + 1];
    if (p->coord == MR_RS_TF_CROP_AND_RESIZE) {
        const mr_tensor *roi = node->n_in > 1 ? in[1] : NULL;
        if (!roi || mr_numel(roi) == 0)
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                 "coordinate_transformation_mode tf_crop_and_resize needs roi");
        if (roi->dtype != MINIRT_FLOAT32 && roi->dtype != MINIRT_FLOAT64)
            return mr_node_error(ctx, node, MINIRT_ERR_UNSUPPORTED,
                                 "roi is %s; float32 and float64 are supported",
                                 mr_dtype_name(roi->dtype));
        if (roi->ndim != 1 || roi->dims[0] != 2 * rank)
            return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                                 "roi has shape %s; X of shape %s needs %d values (starts, ends)",
                                 mr_dims_str(b1, sizeof(b1), roi->ndim, roi->dims),
                                 mr_dims_str(b2, sizeof(b2), rank, X->dims), 2 * rank);
    }
    if ((st = mr_shape_bytes(ctx, MINIRT_FLOAT32, rank, p->out, NULL, NULL)) != MINIRT_OK)
        return mr_node_error(ctx, node, st, "output Y: %s", ctx->err);
    out[0]->dtype = MINIRT_FLOAT32;
    out[0]->ndim = rank;
    memcpy(out[0]->dims, p->out, (size_t)rank * sizeof(int64_t));

    /* Workspace: per axis, out * ntap tap offsets (int64) and weights (float) and out outside
     * flags; then the tap combinations of the outer axes (offset and weight each). */
    p->ntap = p->mode == MR_RS_NEAREST ? 1 : p->mode == MR_RS_LINEAR ? 2 : 4;
    int64_t total = 0, combos = 1;
    for (int i = 0; i < rank; i++) {
        int64_t n, bytes;
        if (!mr_mul_i64(p->out[i], p->ntap, &n) || !mr_mul_i64(n, 12, &bytes) ||
            !mr_add_i64(bytes, p->out[i] + 7, &bytes) || !mr_add_i64(total, bytes & ~7LL, &total))
            return mr_node_error(ctx, node, MINIRT_ERR_LIMIT, "interpolation tables overflow");
        p->tab_off[i] = (size_t)total - (size_t)(bytes & ~7LL);
        if (i < rank - 1) combos *= p->ntap; /* at most 4^7 */
    }
    p->combo_off = (size_t)total;
    p->max_combos = combos;
    total += combos * 12;
    if (total > ctx->max_tensor_bytes)
        return mr_node_error(ctx, node, MINIRT_ERR_LIMIT,
                             "interpolation tables of %lld bytes exceed the tensor limit",
                             (long long)total);
    node->workspace = (size_t)total;
    return MINIRT_OK;
}

/* Input coordinate of output coordinate xr on axis a (see the file comment). */
static double mr_resize_coord(const mr_resize_params *p, int a, double xr, double start,
                              double end) {
    const double s = p->scale[a], L = p->length[a], n = (double)p->in[a];
    switch (p->coord) {
    case MR_RS_ASYMMETRIC:
        return xr / s;
    case MR_RS_PYTORCH_HALF_PIXEL:
        return p->out[a] > 1 ? (xr + 0.5) / s - 0.5 : 0.0;
    case MR_RS_ALIGN_CORNERS:
        return L == 1.0 ? 0.0 : xr * (n - 1.0) / (L - 1.0);
    case MR_RS_TF_HALF_PIXEL_FOR_NN:
        return (xr + 0.5) / s;
    case MR_RS_TF_CROP_AND_RESIZE:
        return L > 1.0 ? start * (n - 1.0) + xr * (end - start) * (n - 1.0) / (L - 1.0)
                       : 0.5 * (start + end) * (n - 1.0);
    default:
        return (xr + 0.5) / s - 0.5;
    }
}

/* The nearest input index of x by nearest_mode (before clamping). */
static double mr_resize_round(const mr_resize_params *p, int a, double x) {
    const double f = floor(x), frac = x - f;
    switch (p->nearest) {
    case MR_RS_ROUND_PREFER_CEIL:
        return frac < 0.5 ? f : f + 1.0;
    case MR_RS_FLOOR:
        return f;
    case MR_RS_CEIL:
        return ceil(x);
    case MR_RS_LEGACY:
        return p->scale[a] < 1.0 ? ceil(x) : f;
    default:
        return frac <= 0.5 ? f : f + 1.0;
    }
}

/*
 * Tables of axis a: for each output coordinate o, taps idx[o*ntap + t] (input element offsets,
 * clamped to the edge) with weights w[o*ntap + t], and outside[o] for tf_crop_and_resize.
 * Returns the taps per coordinate: ntap, or 1 when every coordinate has a single tap of weight 1.
 */
static int mr_resize_axis(const mr_resize_params *p, int a, double start, double end, int64_t *idx,
                          float *w, unsigned char *outside) {
    const int nt = p->ntap;
    const int64_t n = p->in[a], st = p->stride[a];
    const double A = p->cubic_a;
    bool single = true;
    for (int64_t o = 0; o < p->out[a]; o++) {
        double x = mr_resize_coord(p, a, (double)o, start, end);
        outside[o] = p->coord == MR_RS_TF_CROP_AND_RESIZE && !(x >= 0.0 && x <= (double)(n - 1));
        /* Only a roi can take x far out (its value is then extrapolation_value): keep the index
         * arithmetic below in range. */
        if (!(x >= -2.0)) x = -2.0;
        if (x > (double)n + 1.0) x = (double)n + 1.0;
        int64_t *ti = idx + o * nt;
        float *tw = w + o * nt;
        double f = floor(x), r = x - f, c[4];
        int64_t first;
        if (p->mode == MR_RS_NEAREST) {
            double v = mr_resize_round(p, a, x);
            first = v < 0.0 ? 0 : v > (double)(n - 1) ? n - 1 : (int64_t)v;
            c[0] = 1.0;
        } else if (p->mode == MR_RS_LINEAR) {
            first = (int64_t)f;
            c[0] = 1.0 - r;
            c[1] = r;
        } else {
            first = (int64_t)f - 1;
            const double r1 = r + 1.0, q = 1.0 - r, q1 = q + 1.0;
            c[0] = ((A * r1 - 5.0 * A) * r1 + 8.0 * A) * r1 - 4.0 * A;
            c[1] = ((A + 2.0) * r - (A + 3.0)) * r * r + 1.0;
            c[2] = ((A + 2.0) * q - (A + 3.0)) * q * q + 1.0;
            c[3] = ((A * q1 - 5.0 * A) * q1 + 8.0 * A) * q1 - 4.0 * A;
        }
        if (p->exclude_outside) {
            double sum = 0.0;
            for (int t = 0; t < nt; t++) {
                if (first + t < 0 || first + t >= n) c[t] = 0.0;
                sum += c[t];
            }
            if (sum != 0.0)
                for (int t = 0; t < nt; t++)
                    c[t] /= sum;
        }
        int ones = 0, zeros = 0;
        for (int t = 0; t < nt; t++) {
            int64_t i = first + t;
            i = i < 0 ? 0 : i >= n ? n - 1 : i;
            ti[t] = i * st;
            tw[t] = (float)c[t];
            ones += tw[t] == 1.0f;
            zeros += tw[t] == 0.0f;
        }
        if (outside[o] || ones != 1 || zeros != nt - 1) single = false;
    }
    if (!single || nt == 1) return nt;
    /* Keep only the tap of weight 1 (compacting in place: o <= o*nt + t). */
    for (int64_t o = 0; o < p->out[a]; o++) {
        int t = 0;
        while (w[o * nt + t] != 1.0f)
            t++;
        idx[o] = idx[o * nt + t];
        w[o] = 1.0f;
    }
    return 1;
}

static mr_status mr_resize_run(mr_ctx *ctx, const mr_node *node, mr_tensor *const *in,
                               mr_tensor *const *out, void *ws) {
    (void)ctx;
    const mr_resize_params *p = node->params;
    const float *X = in[0]->data;
    float *Y = out[0]->data;
    const int rank = p->rank, last = rank - 1;
    if (mr_numel(out[0]) == 0) return MINIRT_OK;
    int64_t *ti[MR_MAX_DIMS];
    float *tw[MR_MAX_DIMS];
    unsigned char *tf[MR_MAX_DIMS];
    int taps[MR_MAX_DIMS];
    for (int a = 0; a < rank; a++) {
        double start = 0.0, end = 1.0;
        if (p->coord == MR_RS_TF_CROP_AND_RESIZE) {
            const mr_tensor *roi = in[1];
            if (roi->dtype == MINIRT_FLOAT64) {
                start = ((const double *)roi->data)[a];
                end = ((const double *)roi->data)[rank + a];
            } else {
                start = ((const float *)roi->data)[a];
                end = ((const float *)roi->data)[rank + a];
            }
        }
        char *base = (char *)ws + p->tab_off[a];
        ti[a] = (int64_t *)base;
        tw[a] = (float *)(base + (size_t)(p->out[a] * p->ntap) * sizeof(int64_t));
        tf[a] = (unsigned char *)(tw[a] + p->out[a] * p->ntap);
        taps[a] = mr_resize_axis(p, a, start, end, ti[a], tw[a], tf[a]);
    }
    int64_t *coff = (int64_t *)((char *)ws + p->combo_off);
    float *cw = (float *)(coff + p->max_combos);
    const float extrap = p->extrapolation;
    const int64_t ow = p->out[last];
    const int tl = taps[last];
    int64_t outer = 1, o[MR_MAX_DIMS] = {0};
    for (int a = 0; a < last; a++)
        outer *= p->out[a];
    for (int64_t pos = 0; pos < outer; pos++) {
        float *yrow = Y + pos * ow;
        bool outside = false;
        for (int a = 0; a < last; a++)
            outside = outside || tf[a][o[a]];
        if (outside) {
            for (int64_t x = 0; x < ow; x++)
                yrow[x] = extrap;
        } else {
            /* The tap combinations of the outer axes at this position. */
            int64_t nc = 1;
            coff[0] = 0;
            cw[0] = 1.0f;
            for (int a = 0; a < last; a++) {
                const int t = taps[a];
                const int64_t *ia = ti[a] + o[a] * t;
                const float *wa = tw[a] + o[a] * t;
                for (int64_t c = nc - 1; c >= 0; c--) {
                    const int64_t off = coff[c];
                    const float wt = cw[c];
                    for (int j = t - 1; j >= 0; j--) {
                        coff[c * t + j] = off + ia[j];
                        cw[c * t + j] = wt * wa[j];
                    }
                }
                nc *= t;
            }
            for (int64_t x = 0; x < ow; x++) {
                const int64_t *il = ti[last] + x * tl;
                const float *wl = tw[last] + x * tl;
                if (tf[last][x]) {
                    yrow[x] = extrap;
                } else if (nc == 1 && tl == 1) {
                    yrow[x] = cw[0] * X[coff[0] + il[0]];
                } else {
                    float acc = 0.0f;
                    for (int64_t c = 0; c < nc; c++) {
                        const float *xc = X + coff[c];
                        float sum = 0.0f;
                        for (int t = 0; t < tl; t++)
                            sum += wl[t] * xc[il[t]];
                        acc += cw[c] * sum;
                    }
                    yrow[x] = acc;
                }
            }
        }
        for (int a = last - 1; a >= 0; a--) {
            if (++o[a] < p->out[a]) break;
            o[a] = 0;
        }
    }
    return MINIRT_OK;
}

const mr_op mr_op_resize_10 = {
    .domain = "",
    .op_type = "Resize",
    .since = 10,
    .until = 10,
    .min_inputs = 2,
    .max_inputs = 2,
    .min_outputs = 1,
    .max_outputs = 1,
    .prepare = mr_resize_prepare,
    .infer = mr_resize_infer,
    .run = mr_resize_run,
    .plan_inputs = 1u << 1, /* scales */
    .types = MR_TYPE(MINIRT_FLOAT32),
};

/* Opset 18 adds antialias, axes and keep_aspect_ratio_policy, 19 half_pixel_symmetric: not here. */
const mr_op mr_op_resize = {
    .domain = "",
    .op_type = "Resize",
    .since = 11,
    .until = 17,
    .min_inputs = 1,
    .max_inputs = 4,
    .min_outputs = 1,
    .max_outputs = 1,
    .prepare = mr_resize_prepare,
    .infer = mr_resize_infer,
    .run = mr_resize_run,
    .plan_inputs = (1u << 2) | (1u << 3), /* scales, sizes (roi is read at run time) */
    .types = MR_TYPE(MINIRT_FLOAT32),
};

/* Upsample 1 and 7 (scales as attributes); deprecated from opset 10. */
const mr_op mr_op_upsample = {
    .domain = "",
    .op_type = "Upsample",
    .since = 1,
    .until = 8,
    .min_inputs = 1,
    .max_inputs = 1,
    .min_outputs = 1,
    .max_outputs = 1,
    .prepare = mr_upsample_prepare,
    .infer = mr_resize_infer,
    .run = mr_resize_run,
    .types = MR_TYPE(MINIRT_FLOAT32),
};

const mr_op mr_op_upsample_9 = {
    .domain = "",
    .op_type = "Upsample",
    .since = 9,
    .until = 9,
    .min_inputs = 2,
    .max_inputs = 2,
    .min_outputs = 1,
    .max_outputs = 1,
    .prepare = mr_upsample_prepare,
    .infer = mr_resize_infer,
    .run = mr_resize_run,
    .plan_inputs = 1u << 1, /* scales */
    .types = MR_TYPE(MINIRT_FLOAT32),
};
