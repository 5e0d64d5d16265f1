/*
 * test_resize.c - Resize (opsets 10, 11, 13) and Upsample (opsets 1, 7, 9) against a naive
 * reference that follows ONNX's reference implementation: recursive 1-D interpolation per axis,
 * neighbours chosen as the n nearest indices of the edge-padded axis, every mode, coordinate
 * transformation, nearest_mode, cubic_coeff_a, exclude_outside, tf_crop_and_resize with roi and
 * extrapolation_value, scales and sizes, ranks 1 to 6, batch and channel axes resized too. Then
 * the error cases with status and message.
 *
 * A case is a compact spec string, e.g. "x1,2,4,5 S1,1,2,2 mc a-0.5 e":
 *   U Upsample (else Resize), v opset (default 13), x input dims, S scales, Z sizes,
 *   m mode (n nearest, l linear, c cubic, b "bilinear"), c coordinate_transformation_mode
 *   (h half_pixel, a asymmetric, p pytorch_half_pixel, A align_corners, t tf_half_pixel_for_nn,
 *   T tf_crop_and_resize), n nearest_mode (f round_prefer_floor, c round_prefer_ceil, F floor,
 *   C ceil, other: an invalid name), a cubic_coeff_a, e<0|1|2> exclude_outside,
 *   E extrapolation_value, r roi, 0 empty roi and scales tensors (the opset 11 sizes form).
 * Error cases only: D the scales/sizes data not known at plan time, I scales as int64,
 *   i X as int64.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrt.h"

typedef struct rs_spec {
    bool upsample;
    int opset, rank;
    int64_t x[8];
    int nscales, nsizes, nroi;
    double scales[8], roi[16];
    int64_t sizes[8];
    char mode, coord, nearest; /* spec letters; 0 = attribute absent */
    double cubic_a;
    bool has_a, has_E, empty_inputs, hide_data, int_scales, int_x;
    int exclude; /* -1 = absent */
    double extrap;
} rs_spec;

static rs_spec parse_spec(const char *text) {
    rs_spec c;
    memset(&c, 0, sizeof(c));
    c.opset = 13;
    c.exclude = -1;
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", text);
    for (char *tok = strtok(buf, " "); tok; tok = strtok(NULL, " ")) {
        const char *v = tok + 1;
        switch (tok[0]) {
        case 'U':
            c.upsample = true;
            break;
        case 'v':
            c.opset = atoi(v);
            break;
        case 'x':
            c.rank = mrt_parse_ints(v, c.x, 8);
            break;
        case 'S':
            c.nscales = mrt_parse_doubles(v, c.scales, 8);
            break;
        case 'Z':
            c.nsizes = mrt_parse_ints(v, c.sizes, 8);
            break;
        case 'r':
            c.nroi = mrt_parse_doubles(v, c.roi, 16);
            break;
        case 'm':
            c.mode = v[0];
            break;
        case 'c':
            c.coord = v[0];
            break;
        case 'n':
            c.nearest = v[0];
            break;
        case 'a':
            c.has_a = true;
            c.cubic_a = atof(v);
            break;
        case 'e':
            c.exclude = v[0] ? atoi(v) : 1;
            break;
        case 'E':
            c.has_E = true;
            c.extrap = atof(v);
            break;
        case '0':
            c.empty_inputs = true;
            break;
        case 'D':
            c.hide_data = true;
            break;
        case 'I':
            c.int_scales = true;
            break;
        case 'i':
            c.int_x = true;
            break;
        default:
            fail_msg("bad spec token '%s' in '%s'", tok, text);
        }
    }
    return c;
}

/* ---- reference ---- */

typedef struct rs_geom {
    int64_t in[8], out[8], stride[8];
    double scale[8], length[8];
} rs_geom;

static void ref_geometry(const rs_spec *c, rs_geom *g) {
    for (int a = c->rank - 1; a >= 0; a--) {
        g->in[a] = c->x[a];
        g->stride[a] = a == c->rank - 1 ? 1 : g->stride[a + 1] * g->in[a + 1];
        if (c->nscales) {
            double s = (double)(float)c->scales[a];
            g->out[a] = (int64_t)floor((double)c->x[a] * s);
            g->scale[a] = s;
            g->length[a] = (double)c->x[a] * s;
        } else {
            g->out[a] = c->sizes[a];
            g->scale[a] = (double)c->sizes[a] / (double)c->x[a];
            g->length[a] = (double)c->sizes[a];
        }
    }
}

static bool legacy(const rs_spec *c) {
    return c->upsample || c->opset < 11;
}

static double ref_coord(const rs_spec *c, const rs_geom *g, int a, int64_t o) {
    double s = g->scale[a], L = g->length[a], n = (double)g->in[a], x = (double)o;
    double start = c->nroi ? c->roi[a] : 0.0, end = c->nroi ? c->roi[c->rank + a] : 1.0;
    switch (legacy(c) ? 'a' : c->coord) {
    case 'a':
        return x / s;
    case 'p':
        return g->out[a] > 1 ? (x + 0.5) / s - 0.5 : 0.0;
    case 'A':
        return L == 1.0 ? 0.0 : x * (n - 1.0) / (L - 1.0);
    case 't':
        return (x + 0.5) / s;
    case 'T':
        return L > 1.0 ? start * (n - 1.0) + x * (end - start) * (n - 1.0) / (L - 1.0)
                       : 0.5 * (start + end) * (n - 1.0);
    default:
        return (x + 0.5) / s - 0.5;
    }
}

static double keys(double r, double A, int t) {
    double q = 1.0 - r;
    switch (t) {
    case 0:
        return ((A * (r + 1) - 5 * A) * (r + 1) + 8 * A) * (r + 1) - 4 * A;
    case 1:
        return ((A + 2) * r - (A + 3)) * r * r + 1;
    case 2:
        return ((A + 2) * q - (A + 3)) * q * q + 1;
    default:
        return ((A * (q + 1) - 5 * A) * (q + 1) + 8 * A) * (q + 1) - 4 * A;
    }
}

/* Value at output position o, interpolating axes a.. of x with the axes before a fixed at off. */
static double ref_interp(const rs_spec *c, const rs_geom *g, const float *x, int a, int64_t off,
                         const int64_t *o) {
    if (a == c->rank) return x[off];
    const int64_t n = g->in[a];
    const double xo = ref_coord(c, g, a, o[a]);
    if (!legacy(c) && c->coord == 'T' && (xo < 0.0 || xo > (double)(n - 1))) return c->extrap;
    char mode = c->mode ? c->mode : 'n';
    if (mode == 'n') {
        double f = floor(xo), fr = xo - f, v;
        if (legacy(c))
            v = g->scale[a] < 1.0 ? ceil(xo) : f;
        else if (fr == 0.0)
            v = xo;
        else if (c->nearest == 'c')
            v = fr >= 0.5 ? f + 1 : f;
        else if (c->nearest == 'F')
            v = f;
        else if (c->nearest == 'C')
            v = f + 1;
        else
            v = fr > 0.5 ? f + 1 : f;
        int64_t i = (int64_t)v;
        i = i < 0 ? 0 : i >= n ? n - 1 : i;
        return ref_interp(c, g, x, a + 1, off + i * g->stride[a], o);
    }
    /* The nt nearest indices of the axis padded by nt/2 at each end, ties to the lower index. */
    const int nt = mode == 'c' ? 4 : 2, pad = nt / 2;
    int64_t idx[4];
    bool used[32] = {false};
    const int64_t lo = (int64_t)floor(xo) - nt;
    for (int t = 0; t < nt; t++) {
        int best = -1;
        for (int j = 0; j < 2 * nt + 2; j++) {
            int64_t i = lo + j;
            if (i < -pad || i > n - 1 + pad || used[j]) continue;
            if (best < 0 || fabs(xo - (double)i) < fabs(xo - (double)(lo + best))) best = j;
        }
        used[best] = true;
        idx[t] = lo + best;
    }
    for (int t = 1; t < nt; t++) /* sort ascending */
        for (int j = t; j > 0 && idx[j] < idx[j - 1]; j--) {
            int64_t tmp = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = tmp;
        }
    double ratio = xo == floor(xo) ? 1.0 : xo - floor(xo), w[4], sum = 0.0;
    for (int t = 0; t < nt; t++) {
        w[t] = nt == 2 ? (t == 0 ? 1.0 - ratio : ratio)
                       : keys(ratio, c->has_a ? c->cubic_a : -0.75, t);
        if (c->exclude == 1 && (idx[t] < 0 || idx[t] >= n)) w[t] = 0.0;
        sum += w[t];
    }
    double acc = 0.0;
    for (int t = 0; t < nt; t++) {
        int64_t i = idx[t] < 0 ? 0 : idx[t] >= n ? n - 1 : idx[t];
        double v = ref_interp(c, g, x, a + 1, off + i * g->stride[a], o);
        acc += (c->exclude == 1 ? w[t] / sum : w[t]) * v;
    }
    return acc;
}

/* ---- running one case ---- */

static void setup_node(mr_node *node, const rs_spec *c) {
    mrt_node_init(node, c->upsample ? "Upsample" : "Resize", c->opset);
    static const char *const modes[] = {"nearest", "linear", "cubic", "bilinear"};
    if (c->mode) mrt_attr_string(node, "mode", modes[strchr("nlcb", c->mode) - "nlcb"]);
    if (c->coord) {
        static const char *const coords[] = {"half_pixel",           "asymmetric",
                                             "pytorch_half_pixel",   "align_corners",
                                             "tf_half_pixel_for_nn", "tf_crop_and_resize"};
        mrt_attr_string(node, "coordinate_transformation_mode",
                        coords[strchr("hapAtT", c->coord) - "hapAtT"]);
    }
    if (c->nearest) {
        const char *p = strchr("fcFC", c->nearest);
        static const char *const nm[] = {"round_prefer_floor", "round_prefer_ceil", "floor",
                                         "ceil"};
        mrt_attr_string(node, "nearest_mode", p ? nm[p - "fcFC"] : "bogus");
    }
    if (c->has_a) mrt_attr_float(node, "cubic_coeff_a", (float)c->cubic_a);
    if (c->exclude >= 0) mrt_attr_int(node, "exclude_outside", c->exclude);
    if (c->has_E) mrt_attr_float(node, "extrapolation_value", (float)c->extrap);
    if (c->upsample && c->opset < 7 && c->nscales == 4) {
        mrt_attr_float(node, "height_scale", (float)c->scales[2]);
        mrt_attr_float(node, "width_scale", (float)c->scales[3]);
    } else if (c->upsample && c->opset < 9 && c->nscales) {
        float scales[8];
        for (int i = 0; i < c->nscales; i++)
            scales[i] = (float)c->scales[i];
        mrt_attr_floats(node, "scales", scales, c->nscales);
    }
}

/* The inputs of c: X, then the node's other inputs (NULL = absent); returns the input count. */
typedef struct rs_inputs {
    mr_tensor X, roi, scales, sizes;
    mr_tensor *in[4];
    int n_in;
} rs_inputs;

static void make_inputs(const rs_spec *c, rs_inputs *r, uint32_t seed) {
    memset(r, 0, sizeof(*r));
    r->X = mrt_tensor(c->int_x ? MINIRT_INT64 : MINIRT_FLOAT32, c->rank, c->x);
    if (!c->int_x) mrt_fill(&r->X, seed, -1.0f, 1.0f);
    int64_t d;
    d = c->empty_inputs ? 0 : c->nroi;
    r->roi = mrt_tensor(MINIRT_FLOAT32, 1, &d);
    for (int i = 0; i < c->nroi; i++)
        ((float *)r->roi.data)[i] = (float)c->roi[i];
    d = c->empty_inputs ? 0 : c->nscales;
    r->scales = mrt_tensor(c->int_scales ? MINIRT_INT64 : MINIRT_FLOAT32, 1, &d);
    for (int i = 0; i < c->nscales && !c->int_scales; i++)
        ((float *)r->scales.data)[i] = (float)c->scales[i];
    d = c->nsizes;
    r->sizes = mrt_tensor(MINIRT_INT64, 1, &d);
    memcpy(r->sizes.data, c->sizes, (size_t)c->nsizes * sizeof(int64_t));
    r->in[0] = &r->X;
    bool has_roi = c->nroi || c->empty_inputs;
    bool has_scales = c->nscales || c->empty_inputs || c->int_scales;
    if (c->upsample) {
        r->in[1] = &r->scales;
        r->n_in = c->opset >= 9 ? 2 : 1;
    } else if (c->opset < 11) {
        r->in[1] = &r->scales;
        r->n_in = 2;
    } else {
        r->in[1] = has_roi ? &r->roi : NULL;
        r->in[2] = has_scales ? &r->scales : NULL;
        r->in[3] = c->nsizes ? &r->sizes : NULL;
        r->n_in = c->nsizes ? 4 : has_scales ? 3 : has_roi ? 2 : 1;
    }
}

static void free_inputs(rs_inputs *r) {
    mrt_tensor_free(&r->X);
    mrt_tensor_free(&r->roi);
    mrt_tensor_free(&r->scales);
    mrt_tensor_free(&r->sizes);
}

typedef struct rs_case {
    const char *name, *spec;
} rs_case;

static const rs_case cases[] = {
    {"nearest up", "x1,1,2,2 S1,1,2,3 mn"},
    {"nearest down", "x1,1,2,4 S1,1,0.6,0.6 mn"},
    {"nearest sizes odd", "x2,3,5,7 Z2,3,8,4"},
    {"nearest round_prefer_ceil align", "x1,2,4,5 Z1,2,9,11 mn nc cA"},
    {"nearest floor align", "x1,1,4,4 Z1,1,7,8 mn nF cA"},
    {"nearest ceil half_pixel", "x1,1,4,4 Z1,1,8,8 mn nC ch"},
    {"nearest prefer_ceil asym", "x1,1,4,4 Z1,1,8,7 mn nc ca"},
    {"nearest prefer_floor down", "x2,1,7,9 S1,1,0.45,0.7 mn nf"},
    {"nearest pytorch_half_pixel", "x1,2,5,4 Z1,2,3,1 mn cp"},
    {"nearest tf_crop", "x1,1,5,5 Z1,1,4,3 mn cT r0,0,0.2,-0.3,1,1,0.9,1.1 E-2"},
    {"linear up", "x2,3,4,5 S1,1,2,2 ml"},
    {"linear down", "x1,1,2,4 S1,1,0.6,0.6 ml"},
    {"linear align_corners down", "x1,1,2,4 S1,1,0.6,0.6 ml cA"},
    {"linear align_corners up", "x1,2,3,4 Z1,2,7,5 ml cA"},
    {"linear asymmetric odd", "x1,2,5,3 S1,1,1.7,2.3 ml ca"},
    {"linear pytorch out 1", "x1,1,4,4 Z1,1,3,1 ml cp"},
    {"linear pytorch", "x2,2,5,6 Z2,2,9,4 ml cp"},
    {"linear exclude_outside", "x1,1,3,4 S1,1,2.5,1.5 ml e1"},
    {"linear tf_crop", "x1,1,4,4 Z1,1,3,3 ml cT r0,0,0.4,0.6,1,1,0.6,0.8"},
    {"linear tf_crop extrapolate", "x1,2,4,4 Z1,2,3,5 ml cT r0,0,0.4,0.6,1,1,1.2,1.7 E10"},
    {"linear tf_crop scales", "x1,1,5,4 S1,1,0.8,1.5 ml cT r0,0,0.1,0.2,1,1,0.7,0.9"},
    {"cubic up", "x1,1,4,4 S1,1,2,2 mc"},
    {"cubic down", "x1,1,4,4 S1,1,0.8,0.8 mc"},
    {"cubic A -0.5 exclude", "x1,2,4,5 S1,1,2,2 mc a-0.5 e"},
    {"cubic exclude down", "x1,1,5,4 S1,1,0.8,0.6 mc a-0.5 e1"},
    {"cubic exclude 0", "x1,1,5,4 S1,1,1.6,0.6 mc e0"},
    {"cubic align_corners", "x1,1,4,4 S1,1,2,2 mc cA"},
    {"cubic asymmetric sizes", "x2,2,5,6 Z2,2,9,10 mc ca"},
    {"cubic pytorch", "x1,1,6,5 Z1,1,4,1 mc cp"},
    {"cubic tf_crop", "x1,1,6,6 Z1,1,4,5 mc cT r0,0,0.1,-0.2,1,1,0.8,0.7 E3"},
    {"cubic larger", "x2,3,17,19 Z2,3,31,11 mc"},
    {"linear 3-D spatial", "x1,1,3,4,5 S1,1,1.5,2,0.8 ml"},
    {"cubic 5-D", "x1,2,3,3,4 Z1,2,5,4,6 mc"},
    {"linear 1-D", "x7 Z12 ml"},
    {"cubic 1-D align", "x6 Z4 mc cA"},
    {"linear N and C too", "x2,3,4 S2,0.7,1.5 ml"},
    {"nearest rank 6", "x1,2,1,3,2,3 S1,1,2,1,1.5,2 mn"},
    {"empty output", "x1,1,2,2 Z1,1,0,3 ml"},
    {"scale 1 identity", "x2,3,4,5 S1,1,1,1 mc"},
    {"opset 11 sizes", "v11 x1,1,2,4 Z1,1,3,5 ml 0"},
    {"opset 11 tf_half_pixel_for_nn", "v11 x1,1,4,4 Z1,1,3,2 mn ct 0"},
    {"opset 11 cubic scales", "v11 x1,2,3,4 S1,1,1.5,0.75 mc cp"},
    {"opset 10 nearest down", "v10 x1,1,2,4 S1,1,0.6,0.6 mn"},
    {"opset 10 nearest up", "v10 x1,2,3,3 S1,1,2,1.5 mn"},
    {"opset 10 linear", "v10 x1,1,3,4 S1,1,2,1.5 ml"},
    {"upsample 9 nearest", "U v9 x1,1,2,2 S1,1,2,3 mn"},
    {"upsample 9 linear", "U v9 x2,3,3,4 S1,1,2,2.5 ml"},
    {"upsample 7 linear", "U v7 x1,2,3,4 S1,1,3,2 ml"},
    {"upsample 7 nearest 3-D", "U v7 x2,3,4 S1,2,1.5"},
    {"upsample 1 bilinear", "U v1 x1,2,3,3 S1,1,2,2 mb"},
    {"upsample 1 nearest", "U v1 x1,1,2,3 S1,1,3,2 mn"},
};

static void test_resize_table(void **state) {
    (void)state;
    for (size_t ci = 0; ci < sizeof(cases) / sizeof(cases[0]); ci++) {
        const rs_case *tc = &cases[ci];
        rs_spec c = parse_spec(tc->spec);
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        rs_inputs r;
        make_inputs(&c, &r, (uint32_t)ci + 1);
        mr_tensor Y = {0}, *out[1] = {&Y};
        mr_node node;
        setup_node(&node, &c);
        mr_status st = mrt_run_op(&ctx, &node, r.in, r.n_in, out, 1);
        if (st != MINIRT_OK) fail_msg("%s: %s", tc->name, ctx.err);
        rs_geom g;
        ref_geometry(&c, &g);
        assert_int_equal(Y.ndim, c.rank);
        for (int i = 0; i < c.rank; i++)
            if (Y.dims[i] != g.out[i])
                fail_msg("%s: output dim %d is %lld, want %lld", tc->name, i, (long long)Y.dims[i],
                         (long long)g.out[i]);
        int64_t n = mr_numel(&Y), o[8] = {0};
        float *want = calloc((size_t)n + 1, sizeof(float));
        for (int64_t i = 0; i < n; i++) {
            want[i] = (float)ref_interp(&c, &g, r.X.data, 0, 0, o);
            for (int a = c.rank - 1; a >= 0; a--) {
                if (++o[a] < g.out[a]) break;
                o[a] = 0;
            }
        }
        double tol = c.mode == 'n' || !c.mode ? 0.0 : 1e-5;
        mrt_assert_close(Y.data, want, n, tol, tol, tc->name);
        free(want);
        mrt_node_free(&ctx, &node);
        free_inputs(&r);
        mrt_tensor_free(&Y);
    }
}

/* Values spelled out: ONNX's test_resize_downsample_scales_linear_align_corners (the unfloored
 * length in align_corners) and opset 10's nearest rounding (ceil when shrinking). */
static void test_resize_values(void **state) {
    (void)state;
    static const struct {
        const char *spec;
        float want[2];
    } v[] = {{"x1,1,2,4 S1,1,0.6,0.6 ml cA", {1.0f, 3.142857f}},
             {"v10 x1,1,2,4 S1,1,0.6,0.6 mn", {1.0f, 3.0f}},
             {"x1,1,2,4 S1,1,0.6,0.6 ml", {2.6666665f, 4.3333331f}}};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        rs_spec c = parse_spec(v[i].spec);
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        rs_inputs r;
        make_inputs(&c, &r, 1);
        for (int j = 0; j < 8; j++)
            ((float *)r.X.data)[j] = (float)(j + 1);
        mr_tensor Y = {0}, *out[1] = {&Y};
        mr_node node;
        setup_node(&node, &c);
        assert_int_equal(mrt_run_op(&ctx, &node, r.in, r.n_in, out, 1), MINIRT_OK);
        assert_int_equal(mr_numel(&Y), 2);
        mrt_assert_close(Y.data, v[i].want, 2, 1e-6, 1e-6, v[i].spec);
        mrt_node_free(&ctx, &node);
        free_inputs(&r);
        mrt_tensor_free(&Y);
    }
}

typedef struct rs_error_case {
    const char *name, *spec;
    mr_status status;
    const char *msg;
} rs_error_case;

static const rs_error_case error_cases[] = {
    {"both", "x1,1,2,2 S1,1,2,2 Z1,1,4,4", MINIRT_ERR_MODEL, "scales and sizes are both given"},
    {"neither", "x1,1,2,2", MINIRT_ERR_MODEL, "neither scales nor sizes is given"},
    {"scales at run time", "x1,1,2,2 S1,1,2,2 D", MINIRT_ERR_UNSUPPORTED,
     "scales must be known before the run"},
    {"sizes at run time", "x1,1,2,2 Z1,1,4,4 D", MINIRT_ERR_UNSUPPORTED,
     "sizes must be known before the run"},
    {"scales length", "x1,1,2,2 S2,2", MINIRT_ERR_SHAPE, "scales has 2 values but X has rank 4"},
    {"sizes length", "x1,1,2,2 Z4,4", MINIRT_ERR_SHAPE, "sizes has 2 values but X has rank 4"},
    {"scale 0", "x1,1,2,2 S1,1,0,2", MINIRT_ERR_MODEL, "scales[2] is 0; it must be > 0"},
    {"scale negative", "v10 x1,1,2,2 S1,-1,1,2", MINIRT_ERR_MODEL, "scales[1] is -1"},
    {"upsample scale < 1", "U v9 x1,1,2,2 S1,1,0.5,2", MINIRT_ERR_MODEL,
     "scales[2] is 0.5; it must be >= 1"},
    {"sizes negative", "x1,1,2,2 Z1,1,-1,2", MINIRT_ERR_MODEL, "sizes[2] is -1"},
    {"cubic at 10", "v10 x1,1,2,2 S1,1,2,2 mc", MINIRT_ERR_MODEL,
     "attribute 'mode' is 'cubic', which is not valid at opset 10"},
    {"tf_half_pixel_for_nn at 13", "x1,1,2,2 Z1,1,3,3 ct", MINIRT_ERR_MODEL,
     "'tf_half_pixel_for_nn', which is not valid at opset 13"},
    {"coordinate mode at 10", "v10 x1,1,2,2 S1,1,2,2 ca", MINIRT_ERR_MODEL,
     "attribute 'coordinate_transformation_mode' exists only from opset 11"},
    {"bad nearest_mode", "x1,1,2,2 S1,1,2,2 nx", MINIRT_ERR_MODEL,
     "attribute 'nearest_mode' is 'bogus'"},
    {"exclude_outside 2", "x1,1,2,2 S1,1,2,2 mc e2", MINIRT_ERR_MODEL,
     "attribute 'exclude_outside' is 2"},
    {"tf_crop without roi", "x1,1,2,2 Z1,1,3,3 ml cT", MINIRT_ERR_MODEL,
     "tf_crop_and_resize needs roi"},
    {"roi length", "x1,1,2,2 Z1,1,3,3 ml cT r0,1", MINIRT_ERR_SHAPE,
     "roi has shape 2; X of shape 1x1x2x2 needs 8 values"},
    {"X int64", "x1,1,2,2 S1,1,2,2 i", MINIRT_ERR_UNSUPPORTED, "input X is int64"},
    {"scales int64", "x1,1,2,2 S1,1,2,2 I", MINIRT_ERR_MODEL, "scales must be float32, not int64"},
    {"upsample 7 no scales", "U v7 x1,1,2,2", MINIRT_ERR_MODEL,
     "attribute 'scales' (floats) is required"},
    {"upsample 1 rank 3", "U v1 x1,2,2 S1,1,2,2", MINIRT_ERR_SHAPE, "Upsample-1 needs a 4-D"},
    {"upsample 7 mode", "U v7 x1,1,2,2 S1,1,2,2 mc", MINIRT_ERR_MODEL,
     "attribute 'mode' is 'cubic'"},
    {"empty dim", "x1,0,2 Z1,2,2", MINIRT_ERR_SHAPE, "an empty dim 1 cannot be resized to 2"},
    {"huge scale", "x1,1,2,2 S1,1,1e30,1", MINIRT_ERR_LIMIT, "output extent"},
};

static void run_error_case(const rs_error_case *e, mr_ctx *ctx) {
    rs_spec c = parse_spec(e->spec);
    rs_inputs r;
    make_inputs(&c, &r, 1);
    if (c.hide_data) { /* no data: unknown at plan time */
        mrt_tensor_free(&r.scales);
        mrt_tensor_free(&r.sizes);
    }
    mr_tensor Y = {0}, *out[1] = {&Y};
    mr_node node;
    setup_node(&node, &c);
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "node 'test_node' (%s): ", node.op_type);
    mrt_expect_status(ctx, mrt_run_op(ctx, &node, r.in, r.n_in, out, 1), e->status, e->msg, prefix,
                      e->name);
    mrt_node_free(ctx, &node);
    free_inputs(&r);
    mrt_tensor_free(&Y);
}

static void test_resize_errors(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        run_error_case(&error_cases[i], &ctx);
    }
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    ctx.max_tensor_bytes = 4096;
    rs_error_case big = {"limit", "x1,1,8,8 S1,1,4,5 ml", MINIRT_ERR_LIMIT,
                         "output Y: tensor of shape 1x1x32x40"};
    run_error_case(&big, &ctx);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resize_table),
        cmocka_unit_test(test_resize_values),
        cmocka_unit_test(test_resize_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
