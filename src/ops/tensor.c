/*
 * tensor.c - operators that move elements without computing on them: Transpose, DepthToSpace,
 * SpaceToDepth, Concat, Split, Gather and Tile (Pad and Slice are in pad.c).
 *
 * Every kernel works on bytes, for any element type minirt stores: the element size (1, 4 or 8)
 * picks the copy, never the type. Negative axes are accepted at every opset (the spec allows them
 * from opset 11, but exporters wrote them earlier: PyTorch's GLU at opset 6 splits on axis -1).
 */
#include <limits.h>
#include <string.h>

#include "mr.h"

/* ---- shared helpers ---- */

static mr_status mr_tensor_check_dtype(mr_ctx *ctx, const mr_node *node, const char *what,
                                       const mr_tensor *t) {
    if (mr_dtype_size(t->dtype) == 0)
        return mr_node_error(ctx, node, MINIRT_ERR_UNSUPPORTED, "%s has unsupported type %s", what,
                             mr_dtype_name(t->dtype));
    return MINIRT_OK;
}

/* Product of dims[lo..hi); the caller's tensor already has a valid (non-overflowing) size. */
static int64_t mr_tensor_prod(const int64_t *dims, int lo, int hi) {
    int64_t n = 1;
    for (int i = lo; i < hi; i++)
        n *= dims[i];
    return n;
}

/* ---- permutation kernel (Transpose, DepthToSpace, SpaceToDepth) ----
 *
 * A permutation is planned once per shape: output axis i reads input axis perm[i]. Size-1 axes are
 * dropped and output axes that stay adjacent in the input are merged, so NCHW -> NHWC becomes the
 * batched 2-D transpose [N, C, HW] -> [N, HW, C] and a no-op permutation becomes one memcpy.
 * Then either the last output axis is contiguous in the input (copy rows with memcpy), or the
 * plane formed by the last output axis and the axis that is contiguous in the input is copied in
 * square blocks, so both the reads and the writes stay within a few cache lines; an odometer walks
 * the remaining axes.
 */
#define MR_PERM_BLOCK 16

typedef struct mr_perm_plan {
    int rank;                     /* after dropping size-1 axes and merging */
    int64_t dims[MR_MAX_DIMS];    /* output extents */
    int64_t istride[MR_MAX_DIMS]; /* input stride (elements) of each output axis */
    int64_t numel;
    size_t es;
} mr_perm_plan;

static void mr_perm_plan_build(mr_perm_plan *p, size_t es, int rank, const int64_t *dims,
                               const int *perm) {
    int64_t stride[MR_MAX_DIMS], s = 1;
    for (int i = rank - 1; i >= 0; i--) {
        stride[i] = s;
        s *= dims[i];
    }
    p->numel = s;
    p->es = es;
    p->rank = 0;
    for (int i = 0; i < rank; i++) {
        int64_t d = dims[perm[i]], st = stride[perm[i]];
        if (d == 1) continue;
        if (p->rank > 0 && p->istride[p->rank - 1] == st * d) {
            p->dims[p->rank - 1] *= d;
            p->istride[p->rank - 1] = st;
            continue;
        }
        p->dims[p->rank] = d;
        p->istride[p->rank] = st;
        p->rank++;
    }
}

/* dst[i * osq + j] = src[i + j * sl] for i < nq, j < nl, in MR_PERM_BLOCK squares (or column by
 * column when nl is small, as in DepthToSpace and NCHW -> NHWC with 3 channels). */
#define MR_PERM_TILE_FN(name, T)                                                                   \
    static void name(const void *src_, void *dst_, int64_t nq, int64_t nl, int64_t osq,            \
                     int64_t sl) {                                                                 \
        const T *src = src_;                                                                       \
        T *dst = dst_;                                                                             \
        if (nl < MR_PERM_BLOCK) { /* few columns: read along i, all nl columns stay cached */      \
            for (int64_t j = 0; j < nl; j++)                                                       \
                for (int64_t i = 0; i < nq; i++)                                                   \
                    dst[i * osq + j] = src[i + j * sl];                                            \
            return;                                                                                \
        }                                                                                          \
        for (int64_t i0 = 0; i0 < nq; i0 += MR_PERM_BLOCK) {                                       \
            int64_t i1 = nq - i0 < MR_PERM_BLOCK ? nq : i0 + MR_PERM_BLOCK;                        \
            for (int64_t j0 = 0; j0 < nl; j0 += MR_PERM_BLOCK) {                                   \
                int64_t j1 = nl - j0 < MR_PERM_BLOCK ? nl : j0 + MR_PERM_BLOCK;                    \
                for (int64_t i = i0; i < i1; i++) {                                                \
                    T *d = dst + i * osq;                                                          \
                    const T *s = src + i;                                                          \
                    for (int64_t j = j0; j < j1; j++)                                              \
                        d[j] = s[j * sl];                                                          \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }
MR_PERM_TILE_FN(mr_perm_tile_1, uint8_t)
MR_PERM_TILE_FN(mr_perm_tile_2, uint16_t)
MR_PERM_TILE_FN(mr_perm_tile_4, uint32_t)
MR_PERM_TILE_FN(mr_perm_tile_8, uint64_t)
#undef MR_PERM_TILE_FN

static void mr_perm_tile_any(const char *src, char *dst, int64_t nq, int64_t nl, int64_t osq,
                             int64_t sl, size_t es) {
    for (int64_t i = 0; i < nq; i++)
        for (int64_t j = 0; j < nl; j++)
            memcpy(dst + (size_t)(i * osq + j) * es, src + (size_t)(i + j * sl) * es, es);
}

static void mr_perm_run(const mr_perm_plan *p, const char *src, char *dst) {
    const int r = p->rank;
    const size_t es = p->es;
    if (p->numel == 0) return;
    if (r == 0 || (r == 1 && p->istride[0] == 1)) {
        memcpy(dst, src, (size_t)p->numel * es);
        return;
    }
    int64_t ostride[MR_MAX_DIMS], s = 1;
    for (int i = r - 1; i >= 0; i--) {
        ostride[i] = s;
        s *= p->dims[i];
    }
    /* The axes the odometer walks: all but the last (rows), or all but the block plane. */
    const bool rows = p->istride[r - 1] == 1;
    int q = -1;
    if (!rows)
        for (int i = 0; i < r - 1; i++)
            if (p->istride[i] == 1) q = i;
    int nax = 0, ax[MR_MAX_DIMS];
    int64_t inner = p->dims[r - 1];
    for (int i = 0; i < r - 1; i++) {
        if (i == q)
            inner *= p->dims[i];
        else
            ax[nax++] = i;
    }
    int64_t idx[MR_MAX_DIMS] = {0}, ioff = 0, ooff = 0;
    const int64_t count = p->numel / inner;
    for (int64_t k = 0; k < count; k++) {
        const char *sp = src + (size_t)ioff * es;
        char *dp = dst + (size_t)ooff * es;
        if (rows) {
            memcpy(dp, sp, (size_t)p->dims[r - 1] * es);
        } else if (q < 0) {
            /* Only reachable if no axis has stride 1, which the plan never produces. */
            mr_perm_tile_any(sp, dp, 1, p->dims[r - 1], 0, p->istride[r - 1], es);
        } else {
            const int64_t nq = p->dims[q], nl = p->dims[r - 1], osq = ostride[q];
            const int64_t sl = p->istride[r - 1];
            switch (es) {
            case 1:
                mr_perm_tile_1(sp, dp, nq, nl, osq, sl);
                break;
            case 2:
                mr_perm_tile_2(sp, dp, nq, nl, osq, sl);
                break;
            case 4:
                mr_perm_tile_4(sp, dp, nq, nl, osq, sl);
                break;
            case 8:
                mr_perm_tile_8(sp, dp, nq, nl, osq, sl);
                break;
            default:
                mr_perm_tile_any(sp, dp, nq, nl, osq, sl, es);
            }
        }
        for (int a = nax - 1; a >= 0; a--) {
            const int i = ax[a];
            ioff += p->istride[i];
            ooff += ostride[i];
            if (++idx[a] < p->dims[i]) break;
            ioff -= p->istride[i] * p->dims[i];
            ooff -= ostride[i] * p->dims[i];
            idx[a] = 0;
        }
    }
}

/* The path mr_perm_run takes, for profiles (node->algo). */
static const char *mr_perm_algo(const mr_perm_plan *p) {
    if (p->rank == 0 || (p->rank == 1 && p->istride[0] == 1)) return "copy";
    return p->istride[p->rank - 1] == 1 ? "rows" : "tiled";
}

static mr_status mr_perm_op_run(mr_ctx *ctx, const mr_node *node, mr_tensor *const *in,
                                mr_tensor *const *out, void *ws) {
    (void)ctx;
    (void)ws;
    mr_perm_run(node->params, in[0]->data, out[0]->data);
    return MINIRT_OK;
}

/* ---- Transpose ----
 * Y[i0, ..., i(r-1)] = X[j] with j[perm[k]] = ik; perm defaults to (r-1, ..., 0).
 * https://onnx.ai/onnx/operators/onnx__Transpose.html
 */
typedef struct mr_transpose_params {
    mr_perm_plan plan; /* first: mr_perm_op_run reads node->params as the plan */
    int n_perm;        /* 0: reverse the axes */
    int64_t perm[MR_MAX_DIMS];
} mr_transpose_params;

static mr_status mr_transpose_prepare(mr_ctx *ctx, mr_node *node) {
    mr_transpose_params *p = mr_calloc(ctx, 1, sizeof(*p));
    if (!p) return mr_nomem(ctx);
    node->params = p;
    mr_status st = mr_attr_ints(ctx, node, "perm", p->perm, MR_MAX_DIMS, &p->n_perm);
    if (st != MINIRT_OK) return st;
    bool seen[MR_MAX_DIMS] = {false};
    for (int i = 0; i < p->n_perm; i++) {
        int64_t v = p->perm[i];
        if (v < 0 || v >= p->n_perm || seen[v]) {
            char b[160];
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                 "perm %s is not a permutation of 0..%d",
                                 mr_ints_str(b, sizeof(b), p->n_perm, p->perm), p->n_perm - 1);
        }
        seen[v] = true;
    }
    return MINIRT_OK;
}

static mr_status mr_transpose_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                                    mr_tensor *const *out) {
    mr_transpose_params *p = node->params;
    const mr_tensor *x = in[0];
    mr_status st = mr_tensor_check_dtype(ctx, node, "input", x);
    if (st != MINIRT_OK) return st;
    const int r = x->ndim;
    int perm[MR_MAX_DIMS];
    if (p->n_perm && p->n_perm != r) {
        char b1[160], b2[160];
        return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                             "perm %s has %d values but the input has shape %s (rank %d)",
                             mr_ints_str(b1, sizeof(b1), p->n_perm, p->perm), p->n_perm,
                             mr_dims_str(b2, sizeof(b2), r, x->dims), r);
    }
    int64_t dims[MR_MAX_DIMS];
    for (int i = 0; i < r; i++) {
        perm[i] = p->n_perm ? (int)p->perm[i] : r - 1 - i;
        dims[i] = x->dims[perm[i]];
    }
    if ((st = mr_set_output(ctx, node, out[0], x->dtype, r, dims)) != MINIRT_OK) return st;
    mr_perm_plan_build(&p->plan, mr_dtype_size(x->dtype), r, x->dims, perm);
    node->algo = mr_perm_algo(&p->plan);
    node->workspace = 0;
    return MINIRT_OK;
}

const mr_op mr_op_transpose = {
    .domain = "",
    .op_type = "Transpose",
    .since = 1,
    .until = 21,
    .min_inputs = 1,
    .max_inputs = 1,
    .min_outputs = 1,
    .max_outputs = 1,
    .prepare = mr_transpose_prepare,
    .infer = mr_transpose_infer,
    .run = mr_perm_op_run,
    .types = MR_TYPES_ALL,
};

/* ---- DepthToSpace / SpaceToDepth ----
 * Both are a reshape to 6-D, a permutation and a reshape back, with b = blocksize:
 *   DepthToSpace DCR: X[N, b, b, C/b^2, H, W] -perm(0,3,4,1,5,2)-> Y[N, C/b^2, H, b, W, b]
 *   DepthToSpace CRD: X[N, C/b^2, b, b, H, W] -perm(0,1,4,2,5,3)-> Y[N, C/b^2, H, b, W, b]
 *   SpaceToDepth:     X[N, C, H/b, b, W/b, b] -perm(0,3,5,1,2,4)-> Y[N, b, b, C, H/b, W/b]
 * mode (DCR default, or CRD) exists from opset 11.
 * https://onnx.ai/onnx/operators/onnx__DepthToSpace.html
 * https://onnx.ai/onnx/operators/onnx__SpaceToDepth.html
 */
typedef struct mr_space_params {
    mr_perm_plan plan; /* first: mr_perm_op_run reads node->params as the plan */
    int64_t b;
    bool crd;
} mr_space_params;

static mr_status mr_space_prepare(mr_ctx *ctx, mr_node *node) {
    mr_space_params *p = mr_calloc(ctx, 1, sizeof(*p));
    if (!p) return mr_nomem(ctx);
    node->params = p;
    if (!mr_attr_find(node, "blocksize"))
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL, "attribute 'blocksize' is required");
    mr_status st = mr_attr_int(ctx, node, "blocksize", 1, &p->b);
    if (st != MINIRT_OK) return st;
    if (p->b < 1)
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL, "blocksize is %lld; it must be >= 1",
                             (long long)p->b);
    if (strcmp(node->op_type, "DepthToSpace") != 0) return MINIRT_OK;
    if (node->opset < 11 && mr_attr_find(node, "mode"))
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                             "attribute 'mode' exists only from opset 11 (the model has opset %d)",
                             node->opset);
    const char *mode;
    if ((st = mr_attr_string(ctx, node, "mode", "DCR", &mode)) != MINIRT_OK) return st;
    if (strcmp(mode, "CRD") == 0)
        p->crd = true;
    else if (strcmp(mode, "DCR") != 0)
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL, "mode '%s' is not DCR or CRD", mode);
    return MINIRT_OK;
}

static mr_status mr_space_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                                mr_tensor *const *out) {
    mr_space_params *p = node->params;
    const mr_tensor *x = in[0];
    const bool d2s = strcmp(node->op_type, "DepthToSpace") == 0;
    char b1[160];
    mr_status st = mr_tensor_check_dtype(ctx, node, "input", x);
    if (st != MINIRT_OK) return st;
    if (x->ndim != 4)
        return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                             "input has shape %s; it must be 4-D [N, C, H, W]",
                             mr_dims_str(b1, sizeof(b1), x->ndim, x->dims));
    const int64_t N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3], b = p->b;
    int64_t bb, y[4], v[6];
    int perm[6];
    if (!mr_mul_i64(b, b, &bb))
        return mr_node_error(ctx, node, MINIRT_ERR_LIMIT, "blocksize %lld squared overflows",
                             (long long)b);
    if (d2s) {
        if (C % bb != 0)
            return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                                 "input has shape %s; its channels (%lld) must be a multiple of "
                                 "blocksize^2 = %lld",
                                 mr_dims_str(b1, sizeof(b1), 4, x->dims), (long long)C,
                                 (long long)bb);
        y[0] = N;
        y[1] = C / bb;
        if (!mr_mul_i64(H, b, &y[2]) || !mr_mul_i64(W, b, &y[3]))
            return mr_node_error(ctx, node, MINIRT_ERR_LIMIT, "output extent overflows");
        const int64_t dcr[6] = {N, b, b, C / bb, H, W}, crd[6] = {N, C / bb, b, b, H, W};
        const int pd[6] = {0, 3, 4, 1, 5, 2}, pc[6] = {0, 1, 4, 2, 5, 3};
        memcpy(v, p->crd ? crd : dcr, sizeof(v));
        memcpy(perm, p->crd ? pc : pd, sizeof(perm));
    } else {
        if (H % b != 0 || W % b != 0)
            return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                                 "input has shape %s; height and width must be multiples of "
                                 "blocksize %lld",
                                 mr_dims_str(b1, sizeof(b1), 4, x->dims), (long long)b);
        y[0] = N;
        if (!mr_mul_i64(C, bb, &y[1]))
            return mr_node_error(ctx, node, MINIRT_ERR_LIMIT, "output channels overflow");
        y[2] = H / b;
        y[3] = W / b;
        const int64_t s[6] = {N, C, H / b, b, W / b, b};
        const int ps[6] = {0, 3, 5, 1, 2, 4};
        memcpy(v, s, sizeof(v));
        memcpy(perm, ps, sizeof(perm));
    }
    if ((st = mr_set_output(ctx, node, out[0], x->dtype, 4, y)) != MINIRT_OK) return st;
    mr_perm_plan_build(&p->plan, mr_dtype_size(x->dtype), 6, v, perm);
    node->algo = mr_perm_algo(&p->plan);
    node->workspace = 0;
    return MINIRT_OK;
}

const mr_op mr_op_depth_to_space = {
    .domain = "",
    .op_type = "DepthToSpace",
    .since = 1,
    .until = 21,
    .min_inputs = 1,
    .max_inputs = 1,
    .min_outputs = 1,
    .max_outputs = 1,
    .prepare = mr_space_prepare,
    .infer = mr_space_infer,
    .run = mr_perm_op_run,
    .types = MR_TYPES_ALL,
};

const mr_op mr_op_space_to_depth = {
    .domain = "",
    .op_type = "SpaceToDepth",
    .since = 1,
    .until = 21,
    .min_inputs = 1,
    .max_inputs = 1,
    .min_outputs = 1,
    .max_outputs = 1,
    .prepare = mr_space_prepare,
    .infer = mr_space_infer,
    .run = mr_perm_op_run,
    .types = MR_TYPES_ALL,
};

/* ---- Concat ----
 * Y = the inputs joined along axis: with outer = prod(dims[:axis]), each input i contributes a
 * chunk of dims_i[axis] * prod(dims[axis+1:]) elements to each of the outer rows, in input order.
 * axis defaults to 1 before opset 4 and is required from 4. Empty inputs are allowed.
 * https://onnx.ai/onnx/operators/onnx__Concat.html
 */
typedef struct mr_axis_params {
    int64_t axis;
    int norm; /* axis normalised for the current rank (infer) */
} mr_axis_params;

static mr_status mr_concat_prepare(mr_ctx *ctx, mr_node *node) {
    mr_axis_params *p = mr_calloc(ctx, 1, sizeof(*p));
    if (!p) return mr_nomem(ctx);
    node->params = p;
    if (node->opset >= 4 && !mr_attr_find(node, "axis"))
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                             "attribute 'axis' is required from opset 4 (the model has opset %d)",
                             node->opset);
    return mr_attr_int(ctx, node, "axis", 1, &p->axis);
}

static mr_status mr_concat_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                                 mr_tensor *const *out) {
    mr_axis_params *p = node->params;
    const mr_tensor *x0 = in[0];
    char b1[160], b2[160];
    mr_status st;
    for (int i = 0; i < node->n_in; i++) {
        if (!in[i]) return mr_node_error(ctx, node, MINIRT_ERR_MODEL, "input %d is missing", i);
        if ((st = mr_tensor_check_dtype(ctx, node, "input", in[i])) != MINIRT_OK) return st;
    }
    if ((st = mr_norm_axis(ctx, node, "axis", p->axis, x0->ndim, &p->norm)) != MINIRT_OK) return st;
    int64_t dims[MR_MAX_DIMS];
    memcpy(dims, x0->dims, (size_t)x0->ndim * sizeof(int64_t));
    dims[p->norm] = 0;
    for (int i = 0; i < node->n_in; i++) {
        const mr_tensor *t = in[i];
        if (t->dtype != x0->dtype)
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                 "input %d is %s but input 0 is %s; all inputs must have one type",
                                 i, mr_dtype_name(t->dtype), mr_dtype_name(x0->dtype));
        bool same = t->ndim == x0->ndim;
        for (int d = 0; same && d < t->ndim; d++)
            if (d != p->norm && t->dims[d] != x0->dims[d]) same = false;
        if (!same)
            return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                                 "input %d has shape %s and input 0 has shape %s; they must agree "
                                 "except on axis %d",
                                 i, mr_dims_str(b1, sizeof(b1), t->ndim, t->dims),
                                 mr_dims_str(b2, sizeof(b2), x0->ndim, x0->dims), p->norm);
        if (!mr_add_i64(dims[p->norm], t->dims[p->norm], &dims[p->norm]))
            return mr_node_error(ctx, node, MINIRT_ERR_LIMIT, "concatenated axis overflows");
    }
    node->workspace = 0;
    return mr_set_output(ctx, node, out[0], x0->dtype, x0->ndim, dims);
}

static mr_status mr_concat_run(mr_ctx *ctx, const mr_node *node, mr_tensor *const *in,
                               mr_tensor *const *out, void *ws) {
    (void)ctx;
    (void)ws;
    const mr_axis_params *p = node->params;
    const mr_tensor *y = out[0];
    const size_t es = mr_dtype_size(y->dtype);
    const int64_t outer = mr_tensor_prod(y->dims, 0, p->norm);
    const int64_t inner = mr_tensor_prod(y->dims, p->norm + 1, y->ndim);
    char *dst = y->data;
    if (mr_numel(y) == 0) return MINIRT_OK;
    for (int64_t o = 0; o < outer; o++) {
        for (int i = 0; i < node->n_in; i++) {
            const size_t chunk = (size_t)(in[i]->dims[p->norm] * inner) * es;
            if (chunk == 0) continue;
            memcpy(dst, (const char *)in[i]->data + (size_t)o * chunk, chunk);
            dst += chunk;
        }
    }
    return MINIRT_OK;
}

const mr_op mr_op_concat = {
    .domain = "",
    .op_type = "Concat",
    .since = 1,
    .until = 21,
    .min_inputs = 1,
    .max_inputs = INT_MAX,
    .min_outputs = 1,
    .max_outputs = 1,
    .prepare = mr_concat_prepare,
    .infer = mr_concat_infer,
    .run = mr_concat_run,
    .types = MR_TYPES_ALL,
};

/* ---- Split ----
 * The inverse of Concat: output i takes the next split[i] entries along axis. The lengths come
 * from the optional second input (opset 1, and 13 on), or the 'split' attribute (opsets 1 to 12);
 * when absent the axis is split into equal parts, one per output. Opset 18's num_outputs is not
 * covered.
 * https://onnx.ai/onnx/operators/onnx__Split.html
 */
typedef struct mr_split_params {
    int64_t axis;
    int norm;
    int n_attr;     /* values in the 'split' attribute (0: absent) */
    int64_t *sizes; /* node->n_out lengths: the attribute at prepare, the plan after infer */
} mr_split_params;

static mr_status mr_split_prepare(mr_ctx *ctx, mr_node *node) {
    const int n_out = node->n_out > 0 ? node->n_out : 1;
    mr_split_params *p = mr_calloc(ctx, 1, sizeof(*p) + (size_t)n_out * sizeof(int64_t));
    if (!p) return mr_nomem(ctx);
    node->params = p;
    p->sizes = (int64_t *)(p + 1);
    mr_status st = mr_attr_int(ctx, node, "axis", 0, &p->axis);
    if (st != MINIRT_OK) return st;
    const mr_attr *a = mr_attr_find(node, "split");
    if (!a) return MINIRT_OK;
    if (node->opset >= 13)
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                             "attribute 'split' was replaced by an input in opset 13 (the model "
                             "has opset %d)",
                             node->opset);
    if (a->type != MR_ATTR_INTS)
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL, "attribute 'split' should be ints");
    if (a->n != (size_t)node->n_out)
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                             "attribute 'split' has %zu values for %d outputs", a->n, node->n_out);
    for (size_t i = 0; i < a->n; i++) {
        if (a->ints[i] < 0)
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                 "attribute 'split' has value %lld at index %zu; lengths must be "
                                 ">= 0",
                                 (long long)a->ints[i], i);
        p->sizes[i] = a->ints[i];
    }
    p->n_attr = (int)a->n;
    return MINIRT_OK;
}

static mr_status mr_split_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                                mr_tensor *const *out) {
    mr_split_params *p = node->params;
    const mr_tensor *x = in[0], *s = node->n_in > 1 ? in[1] : NULL;
    char b1[160];
    mr_status st = mr_tensor_check_dtype(ctx, node, "input", x);
    if (st != MINIRT_OK) return st;
    if ((st = mr_norm_axis(ctx, node, "axis", p->axis, x->ndim, &p->norm)) != MINIRT_OK) return st;
    const int n = node->n_out;
    const int64_t dim = x->dims[p->norm];
    if (s && node->opset >= 2 && node->opset < 13)
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                             "the 'split' input exists only in opset 1 and from opset 13 (the "
                             "model has opset %d); use the attribute",
                             node->opset);
    if (s) {
        if (s->ndim > 1 || mr_numel(s) != n)
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                 "input 'split' has shape %s; it needs one length per output (%d)",
                                 mr_dims_str(b1, sizeof(b1), s->ndim, s->dims), n);
        int got;
        if ((st = mr_read_ints(ctx, node, "input 'split'", s, p->sizes, n, &got)) != MINIRT_OK)
            return st;
        for (int i = 0; i < n; i++)
            if (p->sizes[i] < 0)
                return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                     "input 'split' has value %lld at index %d; lengths must be "
                                     ">= 0",
                                     (long long)p->sizes[i], i);
    } else if (!p->n_attr) {
        if (dim % n != 0)
            return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                                 "input has shape %s; axis %d (%lld) does not split into %d equal "
                                 "parts",
                                 mr_dims_str(b1, sizeof(b1), x->ndim, x->dims), p->norm,
                                 (long long)dim, n);
        for (int i = 0; i < n; i++)
            p->sizes[i] = dim / n;
    }
    int64_t sum = 0;
    for (int i = 0; i < n; i++)
        if (!mr_add_i64(sum, p->sizes[i], &sum))
            return mr_node_error(ctx, node, MINIRT_ERR_LIMIT, "split lengths overflow");
    if (sum != dim)
        return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                             "split lengths sum to %lld but axis %d of input shape %s is %lld",
                             (long long)sum, p->norm, mr_dims_str(b1, sizeof(b1), x->ndim, x->dims),
                             (long long)dim);
    int64_t dims[MR_MAX_DIMS];
    memcpy(dims, x->dims, (size_t)x->ndim * sizeof(int64_t));
    for (int i = 0; i < n; i++) {
        dims[p->norm] = p->sizes[i];
        if ((st = mr_set_output(ctx, node, out[i], x->dtype, x->ndim, dims)) != MINIRT_OK)
            return st;
    }
    node->workspace = 0;
    return MINIRT_OK;
}

static mr_status mr_split_run(mr_ctx *ctx, const mr_node *node, mr_tensor *const *in,
                              mr_tensor *const *out, void *ws) {
    (void)ctx;
    (void)ws;
    const mr_split_params *p = node->params;
    const mr_tensor *x = in[0];
    const size_t es = mr_dtype_size(x->dtype);
    const int64_t outer = mr_tensor_prod(x->dims, 0, p->norm);
    const int64_t inner = mr_tensor_prod(x->dims, p->norm + 1, x->ndim);
    const char *src = x->data;
    if (mr_numel(x) == 0) return MINIRT_OK;
    for (int64_t o = 0; o < outer; o++) {
        for (int i = 0; i < node->n_out; i++) {
            const size_t chunk = (size_t)(p->sizes[i] * inner) * es;
            if (out[i] && chunk) memcpy((char *)out[i]->data + (size_t)o * chunk, src, chunk);
            src += chunk;
        }
    }
    return MINIRT_OK;
}

const mr_op mr_op_split = {
    .domain = "",
    .op_type = "Split",
    .since = 1,
    .until = 17,
    .min_inputs = 1,
    .max_inputs = 2,
    .min_outputs = 1,
    .max_outputs = INT_MAX,
    .prepare = mr_split_prepare,
    .infer = mr_split_infer,
    .run = mr_split_run,
    .plan_inputs = 1u << 1, /* split (opsets 1 and 13+) */
    .types = MR_TYPES_ALL,
};

/* ---- Gather ----
 * Y[a, i, b] = X[a, idx[i], b] with a over dims[:axis], i over the indices' shape (any rank; a
 * scalar index drops the axis) and b over dims[axis+1:]; an index k < 0 means k + dims[axis].
 * The indices are data, so a bad one is found only at run: an ARGUMENT error before anything is
 * read.
 * https://onnx.ai/onnx/operators/onnx__Gather.html
 */
static mr_status mr_gather_prepare(mr_ctx *ctx, mr_node *node) {
    mr_axis_params *p = mr_calloc(ctx, 1, sizeof(*p));
    if (!p) return mr_nomem(ctx);
    node->params = p;
    return mr_attr_int(ctx, node, "axis", 0, &p->axis);
}

static mr_status mr_gather_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                                 mr_tensor *const *out) {
    mr_axis_params *p = node->params;
    const mr_tensor *x = in[0], *idx = in[1];
    char b1[160], b2[160];
    mr_status st = mr_tensor_check_dtype(ctx, node, "data", x);
    if (st != MINIRT_OK) return st;
    if (idx->dtype != MINIRT_INT64 && idx->dtype != MINIRT_INT32)
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL, "indices must be int64 or int32, not %s",
                             mr_dtype_name(idx->dtype));
    if (x->ndim < 1)
        return mr_node_error(ctx, node, MINIRT_ERR_SHAPE, "data is a scalar; it needs rank >= 1");
    if ((st = mr_norm_axis(ctx, node, "axis", p->axis, x->ndim, &p->norm)) != MINIRT_OK) return st;
    const int r = x->ndim + idx->ndim - 1;
    if (r > MR_MAX_DIMS)
        return mr_node_error(ctx, node, MINIRT_ERR_LIMIT,
                             "data %s and indices %s give an output of rank %d, more than %d",
                             mr_dims_str(b1, sizeof(b1), x->ndim, x->dims),
                             mr_dims_str(b2, sizeof(b2), idx->ndim, idx->dims), r, MR_MAX_DIMS);
    int64_t dims[MR_MAX_DIMS];
    int k = 0;
    for (int i = 0; i < p->norm; i++)
        dims[k++] = x->dims[i];
    for (int i = 0; i < idx->ndim; i++)
        dims[k++] = idx->dims[i];
    for (int i = p->norm + 1; i < x->ndim; i++)
        dims[k++] = x->dims[i];
    node->workspace = 0;
    return mr_set_output(ctx, node, out[0], x->dtype, r, dims);
}

static int64_t mr_gather_index(const mr_tensor *idx, int64_t i) {
    return idx->dtype == MINIRT_INT64 ? ((const int64_t *)idx->data)[i]
                                      : ((const int32_t *)idx->data)[i];
}

static mr_status mr_gather_run(mr_ctx *ctx, const mr_node *node, mr_tensor *const *in,
                               mr_tensor *const *out, void *ws) {
    (void)ws;
    const mr_axis_params *p = node->params;
    const mr_tensor *x = in[0], *idx = in[1];
    const size_t es = mr_dtype_size(x->dtype);
    const int64_t s = x->dims[p->norm], n = mr_numel(idx);
    const int64_t outer = mr_tensor_prod(x->dims, 0, p->norm);
    const size_t inner = (size_t)mr_tensor_prod(x->dims, p->norm + 1, x->ndim) * es;
    for (int64_t i = 0; i < n; i++) {
        int64_t v = mr_gather_index(idx, i);
        if (v < -s || v >= s) {
            char b[160];
            return mr_node_error(ctx, node, MINIRT_ERR_ARGUMENT,
                                 "indices[%lld] = %lld is out of range for axis %d of data shape "
                                 "%s (valid: %lld to %lld)",
                                 (long long)i, (long long)v, p->norm,
                                 mr_dims_str(b, sizeof(b), x->ndim, x->dims), (long long)-s,
                                 (long long)(s - 1));
        }
    }
    if (mr_numel(out[0]) == 0) return MINIRT_OK;
    const char *src = x->data;
    char *dst = out[0]->data;
    for (int64_t o = 0; o < outer; o++) {
        const char *row = src + (size_t)(o * s) * inner;
        for (int64_t i = 0; i < n; i++) {
            int64_t v = mr_gather_index(idx, i);
            if (v < 0) v += s;
            const char *from = row + (size_t)v * inner;
            switch (inner) {
            case 4:
                memcpy(dst, from, 4);
                break;
            case 8:
                memcpy(dst, from, 8);
                break;
            default:
                memcpy(dst, from, inner);
            }
            dst += inner;
        }
    }
    return MINIRT_OK;
}

const mr_op mr_op_gather = {
    .domain = "",
    .op_type = "Gather",
    .since = 1,
    .until = 21,
    .min_inputs = 2,
    .max_inputs = 2,
    .min_outputs = 1,
    .max_outputs = 1,
    .prepare = mr_gather_prepare,
    .infer = mr_gather_infer,
    .run = mr_gather_run,
    .types = MR_TYPES_ALL,
};

/* ---- Tile ----
 * Y[i] = X[i mod dims] with Y's dims = dims * repeats (numpy.tile without broadcasting). From
 * opset 6 repeats is an int64 input with one value per axis. Opsets 1 to 5 took two scalar inputs
 * instead, tiles and axis (typed like the data), meaning repeats = 1 except tiles on axis.
 * Each output row (last axis) is the source row repeated.
 * https://onnx.ai/onnx/operators/onnx__Tile.html
 */
typedef struct mr_tile_params {
    int64_t repeats[MR_MAX_DIMS];
} mr_tile_params;

static mr_status mr_tile_prepare(mr_ctx *ctx, mr_node *node) {
    mr_tile_params *p = mr_calloc(ctx, 1, sizeof(*p));
    if (!p) return mr_nomem(ctx);
    node->params = p;
    return MINIRT_OK;
}

/* Read a known scalar (any numeric type; Tile-1 types tiles and axis like the data) that must
 * hold a whole number. */
static mr_status mr_tile_scalar(mr_ctx *ctx, const mr_node *node, const char *what,
                                const mr_tensor *t, int64_t *out) {
    char b[160];
    if (mr_numel(t) != 1 || t->ndim > 1)
        return mr_node_error(ctx, node, MINIRT_ERR_SHAPE, "%s must be a scalar, not of shape %s",
                             what, mr_dims_str(b, sizeof(b), t->ndim, t->dims));
    if (!t->data)
        return mr_node_error(ctx, node, MINIRT_ERR_UNSUPPORTED,
                             "%s must be known before the run (a constant, or computed from "
                             "constants and input shapes)",
                             what);
    double v;
    switch (t->dtype) {
    case MINIRT_FLOAT32:
        v = *(const float *)t->data;
        break;
    case MINIRT_FLOAT64:
        v = *(const double *)t->data;
        break;
    case MINIRT_INT32:
        v = *(const int32_t *)t->data;
        break;
    case MINIRT_INT64:
        *out = *(const int64_t *)t->data;
        return MINIRT_OK;
    default:
        return mr_node_error(ctx, node, MINIRT_ERR_UNSUPPORTED, "%s has unsupported type %s", what,
                             mr_dtype_name(t->dtype));
    }
    if (!(v >= -9.0e15 && v <= 9.0e15) || v != (double)(int64_t)v)
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL, "%s is %g; it must be a whole number",
                             what, v);
    *out = (int64_t)v;
    return MINIRT_OK;
}

static mr_status mr_tile_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                               mr_tensor *const *out) {
    mr_tile_params *p = node->params;
    const mr_tensor *x = in[0];
    char b1[160], b2[160];
    mr_status st = mr_tensor_check_dtype(ctx, node, "input", x);
    if (st != MINIRT_OK) return st;
    const int r = x->ndim;
    if (node->opset < 6) {
        int64_t tiles, axis;
        int ax;
        if ((st = mr_tile_scalar(ctx, node, "input 'tiles'", in[1], &tiles)) != MINIRT_OK ||
            (st = mr_tile_scalar(ctx, node, "input 'axis'", in[2], &axis)) != MINIRT_OK)
            return st;
        if ((st = mr_norm_axis(ctx, node, "input 'axis'", axis, r, &ax)) != MINIRT_OK) return st;
        for (int i = 0; i < r; i++)
            p->repeats[i] = i == ax ? tiles : 1;
    } else {
        int n;
        const mr_tensor *rep = in[1];
        if (rep->ndim != 1 || rep->dims[0] != r)
            return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                                 "repeats has shape %s but the input has shape %s; it needs one "
                                 "value per axis",
                                 mr_dims_str(b1, sizeof(b1), rep->ndim, rep->dims),
                                 mr_dims_str(b2, sizeof(b2), r, x->dims));
        if ((st = mr_read_ints(ctx, node, "repeats", rep, p->repeats, MR_MAX_DIMS, &n)) !=
            MINIRT_OK)
            return st;
    }
    int64_t dims[MR_MAX_DIMS];
    for (int i = 0; i < r; i++) {
        if (p->repeats[i] < 0)
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                 "repeats %s has a negative value; repeats must be >= 0",
                                 mr_ints_str(b1, sizeof(b1), r, p->repeats));
        if (!mr_mul_i64(x->dims[i], p->repeats[i], &dims[i]))
            return mr_node_error(ctx, node, MINIRT_ERR_LIMIT, "tiling shape %s by %s overflows",
                                 mr_dims_str(b1, sizeof(b1), r, x->dims),
                                 mr_ints_str(b2, sizeof(b2), r, p->repeats));
    }
    node->workspace = 0;
    return mr_set_output(ctx, node, out[0], x->dtype, r, dims);
}

static mr_status mr_tile_run(mr_ctx *ctx, const mr_node *node, mr_tensor *const *in,
                             mr_tensor *const *out, void *ws) {
    (void)ctx;
    (void)ws;
    const mr_tile_params *p = node->params;
    const mr_tensor *x = in[0], *y = out[0];
    const size_t es = mr_dtype_size(x->dtype);
    const int r = x->ndim;
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
    /* Odometer over the output rows; idx counts in output coordinates, src follows mod dims. */
    const size_t row = (size_t)x->dims[r - 1] * es;
    const int64_t reps = p->repeats[r - 1];
    const int64_t rows = mr_numel(y) / (x->dims[r - 1] * reps);
    int64_t idx[MR_MAX_DIMS] = {0}, src_idx[MR_MAX_DIMS] = {0}, soff = 0;
    char *dst = y->data;
    for (int64_t k = 0; k < rows; k++) {
        const char *sp = (const char *)x->data + (size_t)soff * es;
        for (int64_t t = 0; t < reps; t++) {
            memcpy(dst, sp, row);
            dst += row;
        }
        for (int i = r - 2; i >= 0; i--) {
            idx[i]++;
            if (++src_idx[i] == x->dims[i]) {
                src_idx[i] = 0;
                soff -= istride[i] * (x->dims[i] - 1);
            } else {
                soff += istride[i];
            }
            if (idx[i] < y->dims[i]) break;
            idx[i] = 0;
        }
    }
    return MINIRT_OK;
}

const mr_op mr_op_tile_1 = {
    .domain = "",
    .op_type = "Tile",
    .since = 1,
    .until = 5,
    .min_inputs = 3,
    .max_inputs = 3,
    .min_outputs = 1,
    .max_outputs = 1,
    .prepare = mr_tile_prepare,
    .infer = mr_tile_infer,
    .run = mr_tile_run,
    .plan_inputs = (1u << 1) | (1u << 2), /* tiles, axis */
    .types = MR_TYPES_ALL,
};

const mr_op mr_op_tile = {
    .domain = "",
    .op_type = "Tile",
    .since = 6,
    .until = 21,
    .min_inputs = 2,
    .max_inputs = 2,
    .min_outputs = 1,
    .max_outputs = 1,
    .prepare = mr_tile_prepare,
    .infer = mr_tile_infer,
    .run = mr_tile_run,
    .plan_inputs = 1u << 1, /* repeats */
    .types = MR_TYPES_ALL,
};
