/*
 * conv.c - ONNX Conv (https://onnx.ai/onnx/operators/onnx__Conv.html), opsets 1 to 21, float32:
 * 1-D, 2-D, 3-D (any N-d) spatial, strides, asymmetric pads, dilations, group, auto_pad, optional
 * kernel_shape (checked against W), optional bias, W as initializer or runtime input.
 *
 * Algorithm: im2col + GEMM. For each image n and group g,
 *     Y[n, g*Mg:(g+1)*Mg, P] = W[g*Mg:(g+1)*Mg, K] x col[K, P]
 * with K = (C/group) * prod(kernel) and P = prod(output spatial), so the GEMM writes NCHW output
 * directly. col is built in blocks of output positions that fit a bounded workspace; a block is a
 * column range of the GEMM, written in place with ldc = P. A 1x1 kernel with stride 1 and no
 * padding needs no im2col: X[n, g] already is col. Depthwise layers and 3x3 stride-1 layers may use
 * the faster algorithms of conv_depthwise.c and conv_winograd.c (see conv.h), chosen at infer.
 *
 * Fusion: the graph optimizer (optimize.c) folds a following activation and residual Add into the
 * node (mr_node.fuse; the Add's other operand becomes input 3, after an absent or present B). The
 * output is then act(conv + bias + residual), the residual broadcast to the output's shape if it is
 * smaller.
 */
#include <string.h>

#include "conv.h"
#include "mr.h"

/* Workspace budget for one im2col block (bytes). */
#define MR_CONV_WS_BUDGET ((int64_t)1 << 20)
#define MR_CONV_MIN_BLOCK 64

mr_status mr_conv_parse_attrs(mr_ctx *ctx, const mr_node *node, mr_conv_attrs *a) {
    const char *ap;
    mr_status st;
    memset(a, 0, sizeof(*a));
    if ((st = mr_attr_string(ctx, node, "auto_pad", "NOTSET", &ap)) != MINIRT_OK) return st;
    if (strcmp(ap, "NOTSET") == 0)
        a->auto_pad = MR_PAD_NOTSET;
    else if (strcmp(ap, "VALID") == 0)
        a->auto_pad = MR_PAD_VALID;
    else if (strcmp(ap, "SAME_UPPER") == 0)
        a->auto_pad = MR_PAD_SAME_UPPER;
    else if (strcmp(ap, "SAME_LOWER") == 0)
        a->auto_pad = MR_PAD_SAME_LOWER;
    else
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL, "auto_pad '%s' is not valid", ap);
    if ((st = mr_attr_int(ctx, node, "group", 1, &a->group)) != MINIRT_OK) return st;
    if (a->group < 1)
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL, "group is %lld; it must be at least 1",
                             (long long)a->group);
    if ((st = mr_attr_ints(ctx, node, "kernel_shape", a->kernel, MR_MAX_DIMS, &a->n_kernel)) ||
        (st = mr_attr_ints(ctx, node, "strides", a->strides, MR_MAX_DIMS, &a->n_strides)) ||
        (st = mr_attr_ints(ctx, node, "dilations", a->dilations, MR_MAX_DIMS, &a->n_dilations)) ||
        (st = mr_attr_ints(ctx, node, "pads", a->pads, 2 * MR_MAX_DIMS, &a->n_pads)))
        return st;
    for (int i = 0; i < a->n_kernel; i++)
        if (a->kernel[i] < 1)
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL, "kernel_shape[%d] is %lld", i,
                                 (long long)a->kernel[i]);
    for (int i = 0; i < a->n_strides; i++)
        if (a->strides[i] < 1)
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                 "strides[%d] is %lld; strides must be at least 1", i,
                                 (long long)a->strides[i]);
    for (int i = 0; i < a->n_dilations; i++)
        if (a->dilations[i] < 1)
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                 "dilations[%d] is %lld; dilations must be at least 1", i,
                                 (long long)a->dilations[i]);
    for (int i = 0; i < a->n_pads; i++)
        if (a->pads[i] < 0)
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL, "pads[%d] is %lld; pads must be >= 0",
                                 i, (long long)a->pads[i]);
    if (a->n_pads && a->auto_pad != MR_PAD_NOTSET) {
        /* The spec says pads and auto_pad must not be used together; exporters do write zero pads
         * beside auto_pad, which are harmless. */
        for (int i = 0; i < a->n_pads; i++)
            if (a->pads[i] != 0)
                return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                     "pads and auto_pad '%s' cannot be used together", ap);
    }
    return MINIRT_OK;
}

mr_status mr_conv_check_inputs(mr_ctx *ctx, const mr_node *node, const mr_tensor *X,
                               const mr_tensor *W, const mr_tensor *B) {
    char b1[160], b2[160];
    for (int i = 0; i < 3; i++) {
        const mr_tensor *t = i == 0 ? X : i == 1 ? W : B;
        if (t && t->dtype != MINIRT_FLOAT32)
            return mr_node_error(ctx, node, MINIRT_ERR_UNSUPPORTED,
                                 "input %s is %s; only float32 is supported",
                                 i == 0   ? "X"
                                 : i == 1 ? "W"
                                          : "B",
                                 mr_dtype_name(t->dtype));
    }
    if (X->ndim < 3)
        return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                             "input X has shape %s; %s needs [N, C, spatial...] (rank >= 3)",
                             mr_dims_str(b1, sizeof(b1), X->ndim, X->dims), node->op_type);
    if (W->ndim != X->ndim)
        return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                             "weight W has shape %s but input X has shape %s; ranks must match",
                             mr_dims_str(b1, sizeof(b1), W->ndim, W->dims),
                             mr_dims_str(b2, sizeof(b2), X->ndim, X->dims));
    return MINIRT_OK;
}

mr_status mr_conv_check_attr_dims(mr_ctx *ctx, const mr_node *node, const mr_conv_attrs *a, int nsp,
                                  const mr_tensor *W) {
    char b1[160], b2[160];
    if ((a->n_kernel && a->n_kernel != nsp) || (a->n_strides && a->n_strides != nsp) ||
        (a->n_dilations && a->n_dilations != nsp) || (a->n_pads && a->n_pads != 2 * nsp))
        return mr_node_error(
            ctx, node, MINIRT_ERR_MODEL,
            "attribute lengths (kernel_shape %d, strides %d, dilations %d, pads %d) "
            "do not match %d spatial dims",
            a->n_kernel, a->n_strides, a->n_dilations, a->n_pads, nsp);
    if (a->n_kernel && memcmp(a->kernel, W->dims + 2, (size_t)nsp * sizeof(int64_t)) != 0)
        return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                             "kernel_shape %s does not match weight W %s",
                             mr_dims_str(b1, sizeof(b1), nsp, a->kernel),
                             mr_dims_str(b2, sizeof(b2), W->ndim, W->dims));
    return MINIRT_OK;
}

static mr_status mr_conv_prepare(mr_ctx *ctx, mr_node *node) {
    mr_conv_params *p = mr_calloc(ctx, 1, sizeof(*p));
    if (!p) return mr_nomem(ctx);
    node->params = p;
    p->residual_input = -1;
    mr_status st = mr_conv_parse_attrs(ctx, node, &p->attr);
    if (st != MINIRT_OK) return st;
    p->group = p->attr.group;
    /* the optimizer's fusion (optimize.c): an activation and a residual input after B */
    p->epi = node->fuse.epi;
    p->residual_input = node->fuse.residual > 0 ? node->fuse.residual : -1;
    if (node->n_in > 3 && p->residual_input != 3)
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL, "Conv takes 2 or 3 inputs, not %d",
                             node->n_in);
    return MINIRT_OK;
}

static int64_t mr_ceil_div(int64_t a, int64_t b) {
    /* b > 0 */
    return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

/*
 * Plan the fused residual R against the output Y [N, M, spatial...]: R must broadcast to Y's shape
 * without changing it (the Add it replaces would otherwise have produced a larger tensor). Strides
 * over (n, m, position) are recorded; 0 where R is broadcast, and a per-position stride only when R
 * covers the spatial dims in full.
 */
static mr_status mr_conv_residual_plan(mr_ctx *ctx, mr_node *node, mr_conv_params *p,
                                       const mr_tensor *R, const mr_tensor *Y) {
    char b1[160], b2[160];
    if (R->dtype != MINIRT_FLOAT32)
        return mr_node_error(ctx, node, MINIRT_ERR_UNSUPPORTED, "fused residual is %s, not float32",
                             mr_dtype_name(R->dtype));
    int r = Y->ndim;
    int64_t rd[MR_MAX_DIMS];
    bool ok = R->ndim <= r;
    for (int i = 0; ok && i < r; i++) {
        int j = i - (r - R->ndim);
        rd[i] = j >= 0 ? R->dims[j] : 1;
        ok = rd[i] == Y->dims[i] || rd[i] == 1;
    }
    bool spatial_full = true, spatial_one = true;
    for (int i = 2; ok && i < r; i++) {
        spatial_full &= rd[i] == Y->dims[i];
        spatial_one &= rd[i] == 1;
    }
    if (!ok || !(spatial_full || spatial_one))
        return mr_node_error(ctx, node, MINIRT_ERR_UNSUPPORTED,
                             "fused residual of shape %s does not broadcast to the output %s "
                             "(open with optimization level 1 to run the Add on its own)",
                             mr_dims_str(b1, sizeof(b1), R->ndim, R->dims),
                             mr_dims_str(b2, sizeof(b2), Y->ndim, Y->dims));
    int64_t pos = spatial_full ? p->P : 1;
    p->res_stride[2] = spatial_full ? 1 : 0;
    p->res_stride[1] = rd[1] == 1 ? 0 : pos;
    p->res_stride[0] = rd[0] == 1 ? 0 : rd[1] * pos;
    p->residual_full = spatial_full && rd[0] == Y->dims[0] && rd[1] == Y->dims[1];
    return MINIRT_OK;
}

/*
 * Transform constant weights for algorithm algo (Winograd or the direct kernels) once; kept while
 * W stays the same tensor. The packed weights replace W: if this node alone reads W
 * (mr_node.own_inputs) and the direct kernels' panels fit W exactly, W is packed in place and taken
 * over (its tensor's data becomes NULL), which needs no second copy even for a moment; otherwise a
 * packed copy is made and the session frees W (mr_node.drop_inputs).
 */
static mr_status mr_conv_pack(mr_ctx *ctx, mr_node *node, mr_conv_params *p, mr_tensor *W,
                              int algo) {
    const int layout = algo == MR_CONV_WINOGRAD ? 0 : mr_conv_pw_layout(p);
    size_t bytes = algo == MR_CONV_WINOGRAD ? mr_conv_wino_packed_bytes(p)
                                            : mr_conv_pw_packed_bytes(p, layout);
    if (p->packed && p->packed_algo == algo && p->packed_from == W->data &&
        p->packed_bytes == bytes && (algo == MR_CONV_WINOGRAD || p->pw_layout == layout))
        return MINIRT_OK;
    mr_free(ctx, p->packed);
    p->packed = NULL;
    if ((int64_t)bytes > ctx->max_tensor_bytes)
        return mr_node_error(ctx, node, MINIRT_ERR_LIMIT, "packed weights are too large");
    p->packed_algo = algo;
    p->pw_layout = layout;
    p->packed_bytes = bytes;
    if (algo != MR_CONV_WINOGRAD && (node->own_inputs & 2u) &&
        p->Mg % mr_conv_pw_row_align(layout) == 0) {
        float *tmp = mr_alloc(ctx, (size_t)(mr_conv_pw_row_align(layout) * p->K) * sizeof(float));
        if (!tmp) return mr_nomem(ctx);
        mr_conv_pw_pack_in_place(p, layout, W->data, tmp);
        mr_free(ctx, tmp);
        p->packed = W->data;
        p->packed_from = NULL;
        W->data = NULL;
        return MINIRT_OK;
    }
    if (!(p->packed = mr_alloc(ctx, bytes))) return mr_nomem(ctx);
    if (algo == MR_CONV_WINOGRAD)
        mr_conv_wino_pack(p, W->data, p->packed);
    else
        mr_conv_pw_pack(p, layout, W->data, p->packed);
    p->packed_from = W->data;
    /* the packed weights replace W: the session frees W when nothing else reads it */
    node->drop_inputs = 1u << 1;
    return MINIRT_OK;
}

static void mr_conv_release(mr_ctx *ctx, mr_node *node) {
    mr_conv_params *p = node->params;
    mr_free(ctx, p->packed);
    p->packed = NULL;
}

static mr_status mr_conv_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                               mr_tensor *const *out) {
    mr_conv_params *p = node->params;
    const mr_conv_attrs *a = &p->attr;
    const mr_tensor *X = in[0], *B = node->n_in > 2 ? in[2] : NULL;
    mr_tensor *W = in[1];
    char b1[160], b2[160];
    mr_status st = mr_conv_check_inputs(ctx, node, X, W, B);
    if (st != MINIRT_OK) return st;
    int nsp = X->ndim - 2;
    p->nsp = nsp;
    p->N = X->dims[0];
    p->C = X->dims[1];
    p->M = W->dims[0];
    if (p->C % p->group != 0 || p->M % p->group != 0)
        return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                             "%lld input channels and %lld output channels must both be divisible "
                             "by group %lld",
                             (long long)p->C, (long long)p->M, (long long)p->group);
    p->Cg = p->C / p->group;
    p->Mg = p->M / p->group;
    if (W->dims[1] != p->Cg)
        return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                             "weight W has shape %s; with %lld input channels and group %lld its "
                             "dim 1 must be %lld",
                             mr_dims_str(b1, sizeof(b1), W->ndim, W->dims), (long long)p->C,
                             (long long)p->group, (long long)p->Cg);
    if (B && (B->ndim != 1 || B->dims[0] != p->M))
        return mr_node_error(ctx, node, MINIRT_ERR_SHAPE, "bias B has shape %s; expected %lld",
                             mr_dims_str(b1, sizeof(b1), B->ndim, B->dims), (long long)p->M);
    if ((st = mr_conv_check_attr_dims(ctx, node, a, nsp, W)) != MINIRT_OK) return st;
    int64_t K = p->Cg, P = 1, in_size = 1;
    bool pointwise = true;
    for (int i = 0; i < nsp; i++) {
        int64_t n_in = X->dims[2 + i], k = W->dims[2 + i];
        int64_t s = a->n_strides ? a->strides[i] : 1, d = a->n_dilations ? a->dilations[i] : 1;
        int64_t pb = a->n_pads ? a->pads[i] : 0, pe = a->n_pads ? a->pads[nsp + i] : 0;
        int64_t eff, o, padded;
        if (k < 1)
            return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                                 "weight W has shape %s; kernel dims must be >= 1",
                                 mr_dims_str(b1, sizeof(b1), W->ndim, W->dims));
        if (!mr_mul_i64(k - 1, d, &eff) || !mr_add_i64(eff, 1, &eff))
            return mr_node_error(ctx, node, MINIRT_ERR_LIMIT, "kernel extent overflows in dim %d",
                                 i);
        if (a->auto_pad == MR_PAD_SAME_UPPER || a->auto_pad == MR_PAD_SAME_LOWER) {
            /* out = ceil(in / s); the total padding makes the last window end at the input's edge;
             * the odd unit goes at the end (UPPER) or the beginning (LOWER). */
            o = mr_ceil_div(n_in, s);
            int64_t total = (o - 1) * s + eff - n_in;
            if (o == 0 || total < 0) total = 0;
            pb = a->auto_pad == MR_PAD_SAME_UPPER ? total / 2 : total - total / 2;
            pe = total - pb;
        } else if (a->auto_pad == MR_PAD_VALID) {
            pb = pe = 0;
        }
        if (!mr_add_i64(n_in, pb, &padded) || !mr_add_i64(padded, pe, &padded))
            return mr_node_error(ctx, node, MINIRT_ERR_LIMIT, "padded input overflows in dim %d",
                                 i);
        if (padded < eff) {
            int64_t ks[MR_MAX_DIMS], ps[MR_MAX_DIMS];
            for (int j = 0; j < nsp; j++) {
                ks[j] = (W->dims[2 + j] - 1) * (a->n_dilations ? a->dilations[j] : 1) + 1;
                ps[j] = X->dims[2 + j] + (a->n_pads ? a->pads[j] + a->pads[nsp + j] : 0);
            }
            return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                                 "kernel %s (dilated) is larger than the padded input %s",
                                 mr_dims_str(b1, sizeof(b1), nsp, ks),
                                 mr_dims_str(b2, sizeof(b2), nsp, ps));
        }
        o = (padded - eff) / s + 1;
        p->in[i] = n_in;
        p->out[i] = o;
        p->k[i] = k;
        p->s[i] = s;
        p->d[i] = d;
        p->pad_begin[i] = pb;
        if (k != 1 || s != 1 || pb != 0 || pe != 0) pointwise = false;
        p->pad_end[i] = pe;
        if (!mr_mul_i64(K, k, &K) || !mr_mul_i64(P, o, &P) || !mr_mul_i64(in_size, n_in, &in_size))
            return mr_node_error(ctx, node, MINIRT_ERR_LIMIT, "sizes overflow");
    }
    p->K = K;
    p->P = P;
    p->in_size = in_size;
    if (K > MR_GEMM_MAX_DIM || P > MR_GEMM_MAX_DIM || p->Mg > MR_GEMM_MAX_DIM)
        return mr_node_error(ctx, node, MINIRT_ERR_LIMIT, "GEMM of %lld x %lld x %lld is too large",
                             (long long)p->Mg, (long long)K, (long long)P);
    out[0]->dtype = MINIRT_FLOAT32;
    out[0]->ndim = X->ndim;
    out[0]->dims[0] = p->N;
    out[0]->dims[1] = p->M;
    memcpy(out[0]->dims + 2, p->out, (size_t)nsp * sizeof(int64_t));
    node->workspace = 0;
    node->flops = 2 * p->N * p->M * P * K;

    /* the fused residual: the output's shape, or broadcastable to it */
    const mr_tensor *R = p->residual_input >= 0 ? in[p->residual_input] : NULL;
    if (R && (st = mr_conv_residual_plan(ctx, node, p, R, out[0])) != MINIRT_OK) return st;

    /* the algorithm: the fastest valid one. Once the Winograd weights have replaced W (freed by
     * the session, see below), Winograd stays: it is valid at any input shape of this node. */
    p->algo = MR_CONV_IM2COL;
    node->algo = "im2col+gemm";
    const bool w_dropped = p->packed && !W->data;
    const bool direct = mr_conv_pw_available();
    if ((w_dropped && p->packed_algo == MR_CONV_POINTWISE_DIRECT) ||
        (pointwise && W->data && direct)) {
        if (!w_dropped && (st = mr_conv_pack(ctx, node, p, W, MR_CONV_POINTWISE_DIRECT))) return st;
        p->algo = MR_CONV_POINTWISE_DIRECT;
        node->algo = "pointwise";
        return MINIRT_OK;
    } else if (w_dropped && p->packed_algo == MR_CONV_IM2COL_DIRECT) {
        p->algo = MR_CONV_IM2COL_DIRECT;
        node->algo = "im2col+direct";
    } else if (w_dropped) {
        p->algo = MR_CONV_WINOGRAD;
        node->algo = "winograd";
        node->workspace = mr_conv_wino_workspace_packed(p, p->packed);
        return MINIRT_OK;
    } else if (pointwise) {
        p->algo = MR_CONV_POINTWISE;
        node->algo = "gemm-1x1";
    } else if (mr_conv_dw_supported(p)) {
        p->algo = MR_CONV_DEPTHWISE;
        node->algo = "depthwise";
    } else if (W->data && mr_conv_wino_supported(p)) {
        if ((st = mr_conv_pack(ctx, node, p, W, MR_CONV_WINOGRAD)) != MINIRT_OK) return st;
        p->algo = MR_CONV_WINOGRAD;
        node->algo = "winograd";
        node->workspace = mr_conv_wino_workspace_packed(p, p->packed);
        return MINIRT_OK;
    } else if (W->data && direct) {
        /* im2col into blocks, then the direct kernel on each (conv_pointwise.c) */
        if ((st = mr_conv_pack(ctx, node, p, W, MR_CONV_IM2COL_DIRECT)) != MINIRT_OK) return st;
        p->algo = MR_CONV_IM2COL_DIRECT;
        node->algo = "im2col+direct";
    }
    p->block = P;
    if ((p->algo == MR_CONV_IM2COL || p->algo == MR_CONV_IM2COL_DIRECT) && P > 0 && K > 0) {
        int64_t block = MR_CONV_WS_BUDGET / (K * (int64_t)sizeof(float));
        if (block < MR_CONV_MIN_BLOCK) block = MR_CONV_MIN_BLOCK;
        if (block > P) block = P;
        p->block = block;
        int64_t ws;
        if (!mr_mul_i64(block * (int64_t)sizeof(float), K, &ws) || ws > ctx->max_tensor_bytes)
            return mr_node_error(ctx, node, MINIRT_ERR_LIMIT, "im2col workspace is too large");
        node->workspace = (size_t)ws;
    }
    return MINIRT_OK;
}

/*
 * im2col, 2-D: X[c][H][W] of one (image, group) -> col[Cg*kH*kW][len] holding the input patch of
 * output positions p0 .. p0+len-1 (row-major over the H_out x W_out grid); padding reads as zero.
 * Only the rows of channels c0 .. c1-1 are written (the threads split the channels).
 */
static void mr_im2col_2d(const mr_conv_params *p, const float *x, float *col, int64_t p0,
                         int64_t len, int64_t c0, int64_t c1) {
    const int64_t H = p->in[0], W = p->in[1], OW = p->out[1];
    const int64_t sh = p->s[0], sw = p->s[1], dh = p->d[0], dw = p->d[1];
    const int64_t ph = p->pad_begin[0], pw = p->pad_begin[1];
    col += c0 * p->k[0] * p->k[1] * len;
    for (int64_t c = c0; c < c1; c++) {
        const float *xc = x + c * H * W;
        for (int64_t ky = 0; ky < p->k[0]; ky++) {
            for (int64_t kx = 0; kx < p->k[1]; kx++) {
                /* output columns whose input column ox*sw + off lies inside [0, W) */
                const int64_t off = kx * dw - pw;
                int64_t x_lo = off >= 0 ? 0 : mr_ceil_div(-off, sw);
                int64_t x_hi = mr_ceil_div(W - off, sw);
                if (x_hi > OW) x_hi = OW;
                if (x_lo > x_hi) x_lo = x_hi;
                int64_t pos = p0, oy = p0 / OW, ox = p0 % OW;
                while (pos < p0 + len) {
                    int64_t run = OW - ox;
                    if (run > p0 + len - pos) run = p0 + len - pos;
                    const int64_t iy = oy * sh - ph + ky * dh;
                    if (iy < 0 || iy >= H) {
                        memset(col, 0, (size_t)run * sizeof(float));
                    } else {
                        const float *src = xc + iy * W + off;
                        const int64_t end = ox + run;
                        int64_t a = ox, lo = x_lo < ox ? ox : x_lo, hi = x_hi < end ? x_hi : end;
                        if (lo > hi) lo = hi;
                        for (; a < lo; a++)
                            col[a - ox] = 0.0f;
                        if (sw == 1) {
                            if (hi > lo)
                                memcpy(col + (lo - ox), src + lo,
                                       (size_t)(hi - lo) * sizeof(float));
                        } else {
                            for (a = lo; a < hi; a++)
                                col[a - ox] = src[a * sw];
                        }
                        for (a = hi; a < end; a++)
                            col[a - ox] = 0.0f;
                    }
                    col += run;
                    pos += run;
                    ox = 0;
                    oy++;
                }
            }
        }
    }
}

/* im2col, any spatial rank: same layout as the 2-D version, one element at a time. */
static void mr_im2col_nd(const mr_conv_params *p, const float *x, float *col, int64_t p0,
                         int64_t len, int64_t c0, int64_t c1) {
    const int nsp = p->nsp;
    int64_t kidx[MR_MAX_DIMS] = {0};
    int64_t kvol = p->K / p->Cg;
    col += c0 * kvol * len;
    for (int64_t c = c0; c < c1; c++) {
        const float *xc = x + c * p->in_size;
        for (int64_t r = 0; r < kvol; r++) {
            /* kidx = multi-index of r over the kernel */
            int64_t rem = r;
            for (int i = nsp - 1; i >= 0; i--) {
                kidx[i] = rem % p->k[i];
                rem /= p->k[i];
            }
            int64_t o[MR_MAX_DIMS];
            rem = p0;
            for (int i = nsp - 1; i >= 0; i--) {
                o[i] = rem % p->out[i];
                rem /= p->out[i];
            }
            for (int64_t j = 0; j < len; j++) {
                int64_t idx = 0;
                bool inside = true;
                for (int i = 0; i < nsp; i++) {
                    int64_t v = o[i] * p->s[i] - p->pad_begin[i] + kidx[i] * p->d[i];
                    if (v < 0 || v >= p->in[i]) {
                        inside = false;
                        break;
                    }
                    idx = idx * p->in[i] + v;
                }
                *col++ = inside ? xc[idx] : 0.0f;
                for (int i = nsp - 1; i >= 0; i--) {
                    if (++o[i] < p->out[i]) break;
                    o[i] = 0;
                }
            }
        }
    }
}

/*
 * Y[n, m, q] = act(Y[n, m, q] + residual[n, m, q]) for output channels m0 .. m1-1 of image n and
 * positions q0 .. q1-1: the epilogue of one tile, applied while the tile is in cache.
 */
static void mr_conv_finish(const mr_conv_params *p, const float *R, float *Y, int64_t n, int64_t m0,
                           int64_t m1, int64_t q0, int64_t q1) {
    const int64_t P = p->P;
    for (int64_t m = m0; m < m1; m++) {
        float *ym = Y + (n * p->M + m) * P;
        if (R) {
            const float *rm = R + n * p->res_stride[0] + m * p->res_stride[1];
            if (p->res_stride[2])
                for (int64_t q = q0; q < q1; q++)
                    ym[q] += rm[q];
            else
                for (int64_t q = q0; q < q1; q++)
                    ym[q] += rm[0];
        }
        if (p->epi.act != MR_ACT_NONE) mr_epilogue_apply(&p->epi, ym + q0, q1 - q0);
    }
}

/*
 * What the threads share while running one Conv: the tensors, and for the GEMM path the current
 * (image, group, block) and how its GEMM is cut into tiles.
 */
typedef struct mr_conv_job {
    const mr_conv_params *p;
    const float *X, *W, *B, *R;
    float *Y;
    /* GEMM path: image n, group g, output positions [p0, p0 + len), col = its im2col */
    int64_t n, g, p0, len;
    float *col;
    bool split_m;  /* tiles are row ranges (else column ranges) */
    int64_t chunk; /* rows or columns per tile */
    /* direct pointwise: tiles of rows x cols per (image, group) */
    int64_t rows, cols, tiles_m, tiles_q;
} mr_conv_job;

/* im2col of the job's block, channels [c0, c1). */
static void mr_conv_im2col_task(void *arg, int64_t c0, int64_t c1, int thread) {
    (void)thread;
    const mr_conv_job *j = arg;
    const mr_conv_params *p = j->p;
    const float *xg = j->X + (j->n * p->C + j->g * p->Cg) * p->in_size;
    if (p->nsp == 2)
        mr_im2col_2d(p, xg, j->col, j->p0, j->len, c0, c1);
    else
        mr_im2col_nd(p, xg, j->col, j->p0, j->len, c0, c1);
}

/*
 * GEMM tiles [t0, t1) of the job's block: rows [r0, r1) of the group's Mg output channels times
 * block columns [q0, q1), then the tile's epilogue. The bias seeds the tile so that the GEMM adds
 * onto it (beta = 1). B of the GEMM is col (ld len) or, for the pointwise path, X itself (ld P).
 */
static void mr_conv_gemm_task(void *arg, int64_t t0, int64_t t1, int thread) {
    (void)thread;
    const mr_conv_job *j = arg;
    const mr_conv_params *p = j->p;
    const int64_t P = p->P, K = p->K, Mg = p->Mg, len = j->len;
    for (int64_t t = t0; t < t1; t++) {
        int64_t r0 = 0, r1 = Mg, q0 = 0, q1 = len;
        if (j->split_m) {
            r0 = t * j->chunk;
            r1 = r0 + j->chunk < Mg ? r0 + j->chunk : Mg;
        } else {
            q0 = t * j->chunk;
            q1 = q0 + j->chunk < len ? q0 + j->chunk : len;
        }
        const int64_t m0 = j->g * Mg + r0, cols = q1 - q0;
        float *y = j->Y + (j->n * p->M + m0) * P + j->p0 + q0;
        float beta = 0.0f;
        if (j->B) {
            for (int64_t m = 0; m < r1 - r0; m++)
                for (int64_t q = 0; q < cols; q++)
                    y[m * P + q] = j->B[m0 + m];
            beta = 1.0f;
        } else if (K == 0) {
            for (int64_t m = 0; m < r1 - r0; m++)
                memset(y + m * P, 0, (size_t)cols * sizeof(float));
        }
        if (K > 0) {
            const float *w = j->W + m0 * K;
            if (p->algo == MR_CONV_POINTWISE)
                mr_sgemm(false, false, r1 - r0, cols, K, 1.0f, w, K,
                         j->X + (j->n * p->C + j->g * p->Cg) * p->in_size + j->p0 + q0, P, beta, y,
                         P);
            else
                mr_sgemm(false, false, r1 - r0, cols, K, 1.0f, w, K, j->col + q0, len, beta, y, P);
        }
        mr_conv_finish(p, j->R, j->Y, j->n, m0, m0 + (r1 - r0), j->p0 + q0, j->p0 + q1);
    }
}

/*
 * How the GEMM of a block (Mg x len x K) is cut into tiles, which the threads share. OpenBLAS does
 * not compute an element of C the same way for every cut of the matrix (its edge kernels round
 * differently), so the cut depends on the shape alone, never on the thread count: the results are
 * then the same for any number of threads. Wide blocks are cut into column ranges of about
 * MR_CONV_TILE_COLS (each tile repacks W, a small cost against its len x Mg x K multiply-adds);
 * narrow ones with many output channels (the late 7x7 and 14x14 layers) into up to four row
 * ranges of 64 or more (each repacks the block's columns, so not more than needed for a few
 * threads); small ones stay whole.
 */
#define MR_CONV_TILE_COLS 512
#define MR_CONV_TILE_ROWS 64
static int64_t mr_conv_tiles(const mr_conv_params *p, int64_t len, mr_conv_job *j) {
    j->split_m = false;
    j->chunk = len;
    int64_t tiles = 1;
    if (len >= 2 * MR_CONV_TILE_COLS) {
        tiles = (len + MR_CONV_TILE_COLS - 1) / MR_CONV_TILE_COLS;
    } else if (p->Mg >= 2 * MR_CONV_TILE_ROWS && p->Mg * p->K * len >= ((int64_t)1 << 22)) {
        tiles = p->Mg / MR_CONV_TILE_ROWS < 4 ? p->Mg / MR_CONV_TILE_ROWS : 4;
        j->split_m = true;
        j->chunk = ((p->Mg + tiles - 1) / tiles + 15) / 16 * 16;
        return (p->Mg + j->chunk - 1) / j->chunk;
    } else if (len >= 128) {
        tiles = 2;
    }
    j->chunk = ((len + tiles - 1) / tiles + 15) / 16 * 16;
    return (len + j->chunk - 1) / j->chunk;
}

/*
 * Tiles of the direct pointwise kernel: column ranges of MR_PW_NC while there are at least about
 * four per thread, else fewer and also row ranges (multiples of MR_PW_MR). The kernel computes
 * every output the same way in any tile, so this cut may depend on the thread count.
 */
static void mr_conv_pw_tiles(const mr_conv_params *p, int threads, int64_t units, int64_t P,
                             mr_conv_job *j) {
    const int64_t Mg = p->Mg, want = 4 * (int64_t)threads;
    j->cols = P < MR_PW_NC ? P : MR_PW_NC;
    j->tiles_q = (P + j->cols - 1) / j->cols;
    j->rows = Mg;
    if (threads > 1 && units * j->tiles_q < want) {
        int64_t split = (want + units * j->tiles_q - 1) / (units * j->tiles_q);
        int64_t rows = (Mg + split - 1) / split;
        const int64_t align = mr_conv_pw_row_align(p->pw_layout);
        rows = (rows + align - 1) / align * align;
        if (rows < 48) rows = (48 + align - 1) / align * align;
        if (rows < Mg) j->rows = rows;
    }
    j->tiles_m = (Mg + j->rows - 1) / j->rows;
}

/* Direct pointwise tiles [t0, t1): (image, group, row range, column range), then their epilogue. */
static void mr_conv_pw_task(void *arg, int64_t t0, int64_t t1, int thread) {
    (void)thread;
    const mr_conv_job *j = arg;
    const mr_conv_params *p = j->p;
    for (int64_t t = t0; t < t1; t++) {
        const int64_t tq = t % j->tiles_q, tm = t / j->tiles_q % j->tiles_m;
        const int64_t ng = t / (j->tiles_q * j->tiles_m), n = ng / p->group, g = ng % p->group;
        const int64_t r0 = tm * j->rows, r1 = r0 + j->rows < p->Mg ? r0 + j->rows : p->Mg;
        const int64_t q0 = tq * j->cols, q1 = q0 + j->cols < p->P ? q0 + j->cols : p->P;
        mr_conv_pw_run(p, p->packed, g, j->X + (n * p->C + g * p->Cg) * p->in_size, p->P,
                       j->B ? j->B + g * p->Mg : NULL, j->Y + (n * p->M + g * p->Mg) * p->P, p->P,
                       r0, r1, q0, q1);
        mr_conv_finish(p, j->R, j->Y, n, g * p->Mg + r0, g * p->Mg + r1, q0, q1);
    }
}

/* Direct-kernel tiles [t0, t1) of the job's im2col block, then their epilogue. */
static void mr_conv_im2col_direct_task(void *arg, int64_t t0, int64_t t1, int thread) {
    (void)thread;
    const mr_conv_job *j = arg;
    const mr_conv_params *p = j->p;
    const int64_t g = j->g;
    for (int64_t t = t0; t < t1; t++) {
        const int64_t tq = t % j->tiles_q, tm = t / j->tiles_q;
        const int64_t r0 = tm * j->rows, r1 = r0 + j->rows < p->Mg ? r0 + j->rows : p->Mg;
        const int64_t q0 = tq * j->cols, q1 = q0 + j->cols < j->len ? q0 + j->cols : j->len;
        mr_conv_pw_run(p, p->packed, g, j->col, j->len, j->B ? j->B + g * p->Mg : NULL,
                       j->Y + (j->n * p->M + g * p->Mg) * p->P + j->p0, p->P, r0, r1, q0, q1);
        mr_conv_finish(p, j->R, j->Y, j->n, g * p->Mg + r0, g * p->Mg + r1, j->p0 + q0, j->p0 + q1);
    }
}

/* Depthwise over input-channel planes [i0, i1) (flat over N x C), then their epilogue. */
static void mr_conv_dw_task(void *arg, int64_t i0, int64_t i1, int thread) {
    (void)thread;
    const mr_conv_job *j = arg;
    const mr_conv_params *p = j->p;
    const int64_t mult = p->M / p->C;
    mr_conv_dw_run(p, j->X, j->W, j->B, j->Y, i0, i1);
    for (int64_t i = i0; i < i1; i++) {
        const int64_t n = i / p->C, c = i % p->C;
        mr_conv_finish(p, j->R, j->Y, n, c * mult, (c + 1) * mult, 0, p->P);
    }
}

/* The epilogue of output planes [i0, i1) (flat over N x M). */
static void mr_conv_finish_task(void *arg, int64_t i0, int64_t i1, int thread) {
    (void)thread;
    const mr_conv_job *j = arg;
    const mr_conv_params *p = j->p;
    for (int64_t i = i0; i < i1; i++)
        mr_conv_finish(p, j->R, j->Y, i / p->M, i % p->M, i % p->M + 1, 0, p->P);
}

static mr_status mr_conv_run(mr_ctx *ctx, const mr_node *node, mr_tensor *const *in,
                             mr_tensor *const *out, void *ws) {
    const mr_conv_params *p = node->params;
    mr_conv_job j = {
        .p = p,
        .X = in[0]->data,
        .W = in[1]->data,
        .B = node->n_in > 2 && in[2] ? in[2]->data : NULL,
        .R = p->residual_input >= 0 ? in[p->residual_input]->data : NULL,
        .Y = out[0]->data,
    };
    if (p->P == 0 || p->M == 0 || p->N == 0) return MINIRT_OK;
    mr_pool *pool = ctx->pool;
    const int threads = mr_pool_threads(pool);
    if (p->algo == MR_CONV_DEPTHWISE) {
        /* a plane of ~4K outputs per chunk at least: the per-call staging set-up stays small */
        const int64_t planes = p->N * p->C, per = p->P * (p->M / p->C) + 1;
        mr_parallel_for(pool, planes, mr_pool_grain(pool, planes, 4096 / per + 1), mr_conv_dw_task,
                        &j);
        return MINIRT_OK;
    }
    if (p->algo == MR_CONV_POINTWISE_DIRECT) {
        mr_conv_pw_tiles(p, threads, p->N * p->group, p->P, &j);
        mr_parallel_for(pool, p->N * p->group * j.tiles_m * j.tiles_q, 1, mr_conv_pw_task, &j);
        return MINIRT_OK;
    }
    if (p->algo == MR_CONV_WINOGRAD) {
        mr_conv_wino_run(pool, p, p->packed, j.X, j.B, j.Y, ws);
        if (j.R || p->epi.act != MR_ACT_NONE) {
            const int64_t planes = p->N * p->M;
            mr_parallel_for(pool, planes, mr_pool_grain(pool, planes, 1), mr_conv_finish_task, &j);
        }
        return MINIRT_OK;
    }
    j.col = ws;
    for (j.n = 0; j.n < p->N; j.n++) {
        for (j.g = 0; j.g < p->group; j.g++) {
            for (j.p0 = 0; j.p0 < p->P; j.p0 += p->block) {
                j.len = p->P - j.p0 < p->block ? p->P - j.p0 : p->block;
                if (p->algo != MR_CONV_POINTWISE && p->K > 0)
                    mr_parallel_for(pool, p->Cg, mr_pool_grain(pool, p->Cg, 1), mr_conv_im2col_task,
                                    &j);
                if (p->algo == MR_CONV_IM2COL_DIRECT) {
                    mr_conv_pw_tiles(p, threads, 1, j.len, &j);
                    mr_parallel_for(pool, j.tiles_m * j.tiles_q, 1, mr_conv_im2col_direct_task, &j);
                    continue;
                }
                int64_t tiles = mr_conv_tiles(p, j.len, &j);
                mr_parallel_for(pool, tiles, 1, mr_conv_gemm_task, &j);
            }
        }
    }
    return MINIRT_OK;
}

const mr_op mr_op_conv = {
    .domain = "",
    .op_type = "Conv",
    .since = 1,
    .until = 21,
    .min_inputs = 2,
    .max_inputs = 4, /* X, W, B, and a fused residual (optimize.c) */
    .min_outputs = 1,
    .max_outputs = 1,
    .prepare = mr_conv_prepare,
    .infer = mr_conv_infer,
    .run = mr_conv_run,
    .release = mr_conv_release,
    .flags = MR_OP_FUSES,
    .types = MR_TYPE(MINIRT_FLOAT32),
};
