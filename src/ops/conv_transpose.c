/*
 * conv_transpose.c - ONNX ConvTranspose (https://onnx.ai/onnx/operators/onnx__ConvTranspose.html),
 * opsets 1 to 21 (opset 22 only adds types), float32: 1-D, 2-D, 3-D (any N-d) spatial, strides,
 * asymmetric pads, dilations, group, output_padding, output_shape, auto_pad, optional kernel_shape
 * (checked against W), optional bias, W as initializer or runtime input.
 *
 * Algorithm: GEMM + col2im, the transpose of conv.c's im2col + GEMM. For each image n and group g,
 *     col[R, Q] = W_g^T x X_g,   W_g = W[g*Cg:(g+1)*Cg] viewed as [Cg, R],  X_g = [Cg, Q]
 * with R = (M/group) * prod(kernel) and Q = prod(input spatial); then every column (an input
 * position) is scatter-added into the output through the kernel taps (col2im), with strides,
 * dilations and the begin padding (which crops the full output). col is built in blocks of input
 * positions that fit a bounded workspace. A 1x1 kernel with stride 1, no padding and no
 * output_padding needs no col2im: W_g^T x X_g already is the output.
 *
 * Geometry per spatial axis (k = dilated kernel extent (kernel-1)*dilation+1):
 *     full = stride*(in-1) + output_padding + k          (the uncropped output)
 *     out  = full - pad_begin - pad_end
 * With output_shape (or auto_pad SAME_*, where output_shape = in*stride) the pads are derived
 * from total = full - out. The spec's text for the split changed between opset 1 and 11; minirt
 * follows the opset 11 text for every opset, which is also what ONNX's node tests
 * (test_convtranspose_autopad_same, test_convtranspose_output_shape) expect:
 *     SAME_UPPER: pad_begin = total/2, the odd unit at the end;
 *     otherwise (NOTSET, SAME_LOWER, VALID): pad_begin = total - total/2, the odd unit at the
 *     beginning.
 * (onnxruntime puts the odd unit at the beginning for SAME_UPPER and at the end otherwise.) When
 * output_shape is larger than full (total < 0), the output is extended at the end with zeros
 * (bias only), as output_padding does: pad_begin = 0. Explicit pads are ignored when output_shape
 * or auto_pad SAME_* is given (nonzero pads beside auto_pad are a model error, as in conv.c).
 * The attributes and input checks Conv and ConvTranspose share are conv.c's (conv.h).
 */
#include <string.h>

#include "conv.h"
#include "mr.h"

/* Workspace budget for one col block (bytes). */
#define MR_CT_WS_BUDGET ((int64_t)8 << 20)
#define MR_CT_MIN_BLOCK 64

typedef struct mr_convt_params {
    /* attributes (prepare): Conv's (conv.h), output_padding and output_shape */
    mr_conv_attrs attr;
    int n_out_pad, n_out_shape;
    int64_t out_pad[MR_MAX_DIMS], out_shape[MR_MAX_DIMS + 2];
    /* geometry at the current shapes (infer) */
    int nsp;                  /* spatial rank */
    int64_t in[MR_MAX_DIMS];  /* input spatial extents */
    int64_t out[MR_MAX_DIMS]; /* output spatial extents */
    int64_t k[MR_MAX_DIMS], s[MR_MAX_DIMS], d[MR_MAX_DIMS];
    int64_t pad_begin[MR_MAX_DIMS];
    int64_t N, C, M, Cg, Mg, kvol, R, Q, out_size; /* R = Mg*kvol rows of col; Q = prod(in) */
    int64_t block;                                 /* input positions per col block */
    bool pointwise; /* 1x1, stride 1, no crop or extension: GEMM straight into Y */
} mr_convt_params;

static mr_status mr_convt_prepare(mr_ctx *ctx, mr_node *node) {
    mr_convt_params *p = mr_calloc(ctx, 1, sizeof(*p));
    if (!p) return mr_nomem(ctx);
    node->params = p;
    mr_status st;
    if ((st = mr_conv_parse_attrs(ctx, node, &p->attr)) ||
        (st = mr_attr_ints(ctx, node, "output_padding", p->out_pad, MR_MAX_DIMS, &p->n_out_pad)) ||
        (st = mr_attr_ints(ctx, node, "output_shape", p->out_shape, MR_MAX_DIMS + 2,
                           &p->n_out_shape)))
        return st;
    for (int i = 0; i < p->n_out_pad; i++)
        if (p->out_pad[i] < 0)
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                 "output_padding[%d] is %lld; it must be >= 0", i,
                                 (long long)p->out_pad[i]);
    for (int i = 0; i < p->n_out_shape; i++)
        if (p->out_shape[i] < 1)
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                 "output_shape[%d] is %lld; it must be >= 1", i,
                                 (long long)p->out_shape[i]);
    return MINIRT_OK;
}

static int64_t mr_ct_ceil_div(int64_t a, int64_t b) {
    /* b > 0 */
    return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

/* Derive the output extent and pads of spatial axis i (see the file comment). */
static mr_status mr_convt_axis(mr_ctx *ctx, const mr_node *node, mr_convt_params *p, int i,
                               int64_t n_in, int64_t k) {
    const int nsp = p->nsp;
    const mr_conv_attrs *a = &p->attr;
    const int64_t s = a->n_strides ? a->strides[i] : 1, d = a->n_dilations ? a->dilations[i] : 1;
    const int64_t op = p->n_out_pad ? p->out_pad[i] : 0;
    if (op >= s && op >= d)
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                             "output_padding[%d] is %lld; it must be less than the stride (%lld) "
                             "or the dilation (%lld)",
                             i, (long long)op, (long long)s, (long long)d);
    if (n_in < 1)
        return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                             "input X has spatial extent %lld in dim %d; it must be >= 1",
                             (long long)n_in, i);
    int64_t eff, full;
    if (!mr_mul_i64(k - 1, d, &eff) || !mr_add_i64(eff, 1, &eff) ||
        !mr_mul_i64(n_in - 1, s, &full) || !mr_add_i64(full, op, &full) ||
        !mr_add_i64(full, eff, &full))
        return mr_node_error(ctx, node, MINIRT_ERR_LIMIT, "output extent overflows in dim %d", i);
    int64_t pb, pe, o;
    bool same = a->auto_pad == MR_PAD_SAME_UPPER || a->auto_pad == MR_PAD_SAME_LOWER;
    if (p->n_out_shape || same) {
        if (p->n_out_shape)
            o = p->out_shape[p->n_out_shape - nsp + i];
        else if (!mr_mul_i64(n_in, s, &o))
            return mr_node_error(ctx, node, MINIRT_ERR_LIMIT, "output extent overflows in dim %d",
                                 i);
        int64_t total = full - o;
        if (total < 0)
            pb = 0;
        else if (a->auto_pad == MR_PAD_SAME_UPPER)
            pb = total / 2;
        else
            pb = total - total / 2;
        pe = total - pb;
    } else {
        pb = a->auto_pad == MR_PAD_VALID || !a->n_pads ? 0 : a->pads[i];
        pe = a->auto_pad == MR_PAD_VALID || !a->n_pads ? 0 : a->pads[nsp + i];
        o = full - pb - pe;
        if (o < 1)
            return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                                 "output extent in dim %d is %lld (full %lld minus pads %lld + "
                                 "%lld); it must be >= 1",
                                 i, (long long)o, (long long)full, (long long)pb, (long long)pe);
    }
    p->in[i] = n_in;
    p->out[i] = o;
    p->k[i] = k;
    p->s[i] = s;
    p->d[i] = d;
    p->pad_begin[i] = pb;
    if (k != 1 || s != 1 || pb != 0 || o != n_in) p->pointwise = false;
    return MINIRT_OK;
}

static mr_status mr_convt_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                                mr_tensor *const *out) {
    mr_convt_params *p = node->params;
    const mr_conv_attrs *a = &p->attr;
    const mr_tensor *X = in[0], *W = in[1], *B = node->n_in > 2 ? in[2] : NULL;
    char b1[160], b2[160];
    mr_status st = mr_conv_check_inputs(ctx, node, X, W, B);
    if (st != MINIRT_OK) return st;
    const int nsp = X->ndim - 2;
    p->nsp = nsp;
    p->N = X->dims[0];
    p->C = X->dims[1];
    if (W->dims[0] != p->C)
        return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                             "weight W has shape %s; its dim 0 must equal the %lld input channels "
                             "of X %s",
                             mr_dims_str(b1, sizeof(b1), W->ndim, W->dims), (long long)p->C,
                             mr_dims_str(b2, sizeof(b2), X->ndim, X->dims));
    if (p->C % a->group != 0)
        return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                             "%lld input channels are not divisible by group %lld", (long long)p->C,
                             (long long)a->group);
    p->Cg = p->C / a->group;
    p->Mg = W->dims[1];
    if (!mr_mul_i64(p->Mg, a->group, &p->M))
        return mr_node_error(ctx, node, MINIRT_ERR_LIMIT, "output channels overflow");
    if (B && (B->ndim != 1 || B->dims[0] != p->M))
        return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                             "bias B has shape %s; expected %lld (W dim 1 x group)",
                             mr_dims_str(b1, sizeof(b1), B->ndim, B->dims), (long long)p->M);
    if ((a->n_kernel && a->n_kernel != nsp) || (a->n_strides && a->n_strides != nsp) ||
        (a->n_dilations && a->n_dilations != nsp) || (a->n_pads && a->n_pads != 2 * nsp) ||
        (p->n_out_pad && p->n_out_pad != nsp) ||
        (p->n_out_shape && p->n_out_shape != nsp && p->n_out_shape != nsp + 2))
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                             "attribute lengths (kernel_shape %d, strides %d, dilations %d, pads "
                             "%d, output_padding %d, output_shape %d) do not match %d spatial dims",
                             a->n_kernel, a->n_strides, a->n_dilations, a->n_pads, p->n_out_pad,
                             p->n_out_shape, nsp);
    /* (the lengths were checked above, with output_padding and output_shape) */
    if ((st = mr_conv_check_attr_dims(ctx, node, a, nsp, W)) != MINIRT_OK) return st;
    int64_t kvol = 1, Q = 1, out_size = 1;
    p->pointwise = true;
    for (int i = 0; i < nsp; i++) {
        int64_t k = W->dims[2 + i];
        if (k < 1)
            return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                                 "weight W has shape %s; kernel dims must be >= 1",
                                 mr_dims_str(b1, sizeof(b1), W->ndim, W->dims));
        if ((st = mr_convt_axis(ctx, node, p, i, X->dims[2 + i], k)) != MINIRT_OK) return st;
        if (!mr_mul_i64(kvol, k, &kvol) || !mr_mul_i64(Q, p->in[i], &Q) ||
            !mr_mul_i64(out_size, p->out[i], &out_size))
            return mr_node_error(ctx, node, MINIRT_ERR_LIMIT, "sizes overflow");
    }
    int64_t R;
    if (!mr_mul_i64(p->Mg, kvol, &R))
        return mr_node_error(ctx, node, MINIRT_ERR_LIMIT, "sizes overflow");
    p->kvol = kvol;
    p->R = R;
    p->Q = Q;
    p->out_size = out_size;
    if (R > MR_GEMM_MAX_DIM || Q > MR_GEMM_MAX_DIM || p->Cg > MR_GEMM_MAX_DIM)
        return mr_node_error(ctx, node, MINIRT_ERR_LIMIT, "GEMM of %lld x %lld x %lld is too large",
                             (long long)R, (long long)p->Cg, (long long)Q);
    int64_t ydims[MR_MAX_DIMS];
    ydims[0] = p->N;
    ydims[1] = p->M;
    memcpy(ydims + 2, p->out, (size_t)nsp * sizeof(int64_t));
    if ((st = mr_shape_bytes(ctx, MINIRT_FLOAT32, X->ndim, ydims, NULL, NULL)) != MINIRT_OK)
        return mr_node_error(ctx, node, st, "output Y: %s", ctx->err);
    out[0]->dtype = MINIRT_FLOAT32;
    out[0]->ndim = X->ndim;
    memcpy(out[0]->dims, ydims, (size_t)X->ndim * sizeof(int64_t));
    node->workspace = 0;
    p->block = Q;
    if (!p->pointwise && Q > 0 && R > 0 && p->Cg > 0) {
        int64_t block = MR_CT_WS_BUDGET / (R * (int64_t)sizeof(float));
        if (block < MR_CT_MIN_BLOCK) block = MR_CT_MIN_BLOCK;
        if (block > Q) block = Q;
        p->block = block;
        int64_t ws;
        if (!mr_mul_i64(block * (int64_t)sizeof(float), R, &ws) || ws > ctx->max_tensor_bytes)
            return mr_node_error(ctx, node, MINIRT_ERR_LIMIT,
                                 "col workspace of %lld x %lld floats is too large", (long long)R,
                                 (long long)block);
        node->workspace = (size_t)ws;
    }
    return MINIRT_OK;
}

/*
 * col2im, 2-D: col[Mg*kH*kW][len] holds, for input positions q0 .. q0+len-1 (row-major over the
 * H x W input grid) of one (image, group), each position's contribution through each kernel tap;
 * it is added into y[Mg][OH][OW] at (iy*sh - ph + ky*dh, ix*sw - pw + kx*dw). Targets outside
 * the output (cropped by the pads) are dropped.
 */
static void mr_col2im_2d(const mr_convt_params *p, const float *col, float *y, int64_t q0,
                         int64_t len) {
    const int64_t W = p->in[1], OH = p->out[0], OW = p->out[1];
    const int64_t sh = p->s[0], sw = p->s[1], dh = p->d[0], dw = p->d[1];
    const int64_t ph = p->pad_begin[0], pw = p->pad_begin[1];
    for (int64_t m = 0; m < p->Mg; m++) {
        float *ym = y + m * OH * OW;
        for (int64_t ky = 0; ky < p->k[0]; ky++) {
            for (int64_t kx = 0; kx < p->k[1]; kx++) {
                /* input columns ix whose output column ix*sw + off lies inside [0, OW) */
                const int64_t off = kx * dw - pw;
                int64_t x_lo = off >= 0 ? 0 : mr_ct_ceil_div(-off, sw);
                int64_t x_hi = mr_ct_ceil_div(OW - off, sw);
                if (x_hi > W) x_hi = W;
                if (x_lo > x_hi) x_lo = x_hi;
                int64_t q = q0, iy = q0 / W, ix = q0 % W;
                while (q < q0 + len) {
                    int64_t run = W - ix;
                    if (run > q0 + len - q) run = q0 + len - q;
                    const int64_t oy = iy * sh - ph + ky * dh;
                    if (oy >= 0 && oy < OH) {
                        const int64_t end = ix + run;
                        const int64_t lo = x_lo > ix ? x_lo : ix, hi = x_hi < end ? x_hi : end;
                        const int64_t base = oy * OW + off;
                        if (sw == 1) {
                            for (int64_t a = lo; a < hi; a++)
                                ym[base + a] += col[a - ix];
                        } else {
                            for (int64_t a = lo; a < hi; a++)
                                ym[base + a * sw] += col[a - ix];
                        }
                    }
                    col += run;
                    q += run;
                    ix = 0;
                    iy++;
                }
            }
        }
    }
}

/* col2im, any spatial rank: same layout as the 2-D version, one element at a time. */
static void mr_col2im_nd(const mr_convt_params *p, const float *col, float *y, int64_t q0,
                         int64_t len) {
    const int nsp = p->nsp;
    for (int64_t r = 0; r < p->R; r++) {
        /* r = m * kvol + kernel offset; kidx = multi-index of the kernel offset */
        int64_t kidx[MR_MAX_DIMS], qi[MR_MAX_DIMS];
        int64_t rem = r % p->kvol, qrem = q0;
        for (int i = nsp - 1; i >= 0; i--) {
            kidx[i] = rem % p->k[i];
            rem /= p->k[i];
            qi[i] = qrem % p->in[i];
            qrem /= p->in[i];
        }
        float *ym = y + (r / p->kvol) * p->out_size;
        for (int64_t j = 0; j < len; j++) {
            int64_t idx = 0;
            bool inside = true;
            for (int i = 0; i < nsp; i++) {
                int64_t o = qi[i] * p->s[i] - p->pad_begin[i] + kidx[i] * p->d[i];
                if (o < 0 || o >= p->out[i]) {
                    inside = false;
                    break;
                }
                idx = idx * p->out[i] + o;
            }
            if (inside) ym[idx] += *col;
            col++;
            for (int i = nsp - 1; i >= 0; i--) {
                if (++qi[i] < p->in[i]) break;
                qi[i] = 0;
            }
        }
    }
}

static mr_status mr_convt_run(mr_ctx *ctx, const mr_node *node, mr_tensor *const *in,
                              mr_tensor *const *out, void *ws) {
    (void)ctx;
    const mr_convt_params *p = node->params;
    const float *X = in[0]->data, *W = in[1]->data;
    const float *B = node->n_in > 2 && in[2] ? in[2]->data : NULL;
    float *Y = out[0]->data;
    float *col = ws;
    const int64_t Q = p->Q, R = p->R, Mg = p->Mg, Cg = p->Cg, OS = p->out_size;
    for (int64_t n = 0; n < p->N; n++) {
        for (int64_t g = 0; g < p->attr.group; g++) {
            const float *xg = X + (n * p->C + g * Cg) * Q;
            const float *wg = W + g * Cg * R;
            float *yg = Y + (n * p->M + g * Mg) * OS;
            /* The bias (or zero) seeds the output; every path accumulates onto it. */
            for (int64_t m = 0; m < Mg; m++) {
                float b = B ? B[g * Mg + m] : 0.0f;
                float *row = yg + m * OS;
                for (int64_t q = 0; q < OS; q++)
                    row[q] = b;
            }
            if (Cg == 0 || R == 0) continue;
            if (p->pointwise) {
                mr_sgemm(true, false, Mg, Q, Cg, 1.0f, wg, R, xg, Q, 1.0f, yg, Q);
                continue;
            }
            for (int64_t q0 = 0; q0 < Q; q0 += p->block) {
                int64_t len = Q - q0 < p->block ? Q - q0 : p->block;
                mr_sgemm(true, false, R, len, Cg, 1.0f, wg, R, xg + q0, Q, 0.0f, col, len);
                if (p->nsp == 2)
                    mr_col2im_2d(p, col, yg, q0, len);
                else
                    mr_col2im_nd(p, col, yg, q0, len);
            }
        }
    }
    return MINIRT_OK;
}

const mr_op mr_op_conv_transpose = {
    .domain = "",
    .op_type = "ConvTranspose",
    .since = 1,
    .until = 21,
    .min_inputs = 2,
    .max_inputs = 3,
    .min_outputs = 1,
    .max_outputs = 1,
    .prepare = mr_convt_prepare,
    .infer = mr_convt_infer,
    .run = mr_convt_run,
    .types = MR_TYPE(MINIRT_FLOAT32),
};
