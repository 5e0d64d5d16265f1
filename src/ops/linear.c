/*
 * linear.c - dense layers: Gemm.
 */
#include <string.h>

#include "mr.h"

typedef struct mr_gemm_params {
    bool ta, tb;
    float alpha, beta;
    bool legacy_exact_c; /* opset < 7 with broadcast=0: C must be exactly M x N */
    /* set by infer */
    int64_t M, N, K;
    int64_t c_rows, c_cols; /* C viewed as c_rows x c_cols, each 1 or M / N; 0 x 0 when absent */
} mr_gemm_params;

/* ---- Gemm attributes ----
 * transA, transB (int, default 0), alpha, beta (float, default 1.0) in every opset; `broadcast`
 * (default 0) only in opsets 1..6, where broadcast=0 means C must already be M x N. C is optional
 * from opset 11.
 * https://onnx.ai/onnx/operators/onnx__Gemm.html
 */
static mr_status mr_gemm_prepare(mr_ctx *ctx, mr_node *node) {
    int64_t ta, tb, broadcast = 1;
    float alpha, beta;
    mr_status st;
    if ((st = mr_attr_int(ctx, node, "transA", 0, &ta)) != MINIRT_OK ||
        (st = mr_attr_int(ctx, node, "transB", 0, &tb)) != MINIRT_OK ||
        (st = mr_attr_float(ctx, node, "alpha", 1.0f, &alpha)) != MINIRT_OK ||
        (st = mr_attr_float(ctx, node, "beta", 1.0f, &beta)) != MINIRT_OK)
        return st;
    if (ta != 0 && ta != 1)
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                             "attribute 'transA' is %lld; it must be 0 or 1", (long long)ta);
    if (tb != 0 && tb != 1)
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                             "attribute 'transB' is %lld; it must be 0 or 1", (long long)tb);
    if (node->opset < 7) {
        if ((st = mr_attr_int(ctx, node, "broadcast", 0, &broadcast)) != MINIRT_OK) return st;
        if (broadcast != 0 && broadcast != 1)
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                 "attribute 'broadcast' is %lld; it must be 0 or 1",
                                 (long long)broadcast);
    } else if (mr_attr_find(node, "broadcast")) {
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                             "attribute 'broadcast' was removed in opset 7 (the model has opset "
                             "%d)",
                             node->opset);
    }
    mr_gemm_params *p = mr_calloc(ctx, 1, sizeof(*p));
    if (!p) return mr_nomem(ctx);
    p->ta = ta == 1;
    p->tb = tb == 1;
    p->alpha = alpha;
    p->beta = beta;
    p->legacy_exact_c = broadcast == 0;
    node->params = p;
    return MINIRT_OK;
}

/*
 * A' = transA ? A^T : A is M x K and B' = transB ? B^T : B is K x N; C is unidirectionally
 * broadcast to M x N: a scalar, [N], [1,N], [M,1], [1,1] or [M,N] (a 1-D C is a row, per numpy;
 * [M] only works when M == N or M == 1).
 */
static mr_status mr_gemm_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                               mr_tensor *const *out) {
    mr_gemm_params *p = node->params;
    const mr_tensor *a = in[0], *b = in[1], *c = node->n_in > 2 ? in[2] : NULL;
    char as[128], bs[128], cs[128];
    mr_dims_str(as, sizeof(as), a->ndim, a->dims);
    mr_dims_str(bs, sizeof(bs), b->ndim, b->dims);
    for (int i = 0; i < 3; i++) {
        const mr_tensor *t = i == 0 ? a : i == 1 ? b : c;
        if (t && t->dtype != MINIRT_FLOAT32)
            return mr_node_error(ctx, node, MINIRT_ERR_UNSUPPORTED,
                                 "input %c has type %s; Gemm supports float32 only", "ABC"[i],
                                 mr_dtype_name(t->dtype));
    }
    if (a->ndim != 2 || b->ndim != 2)
        return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                             "inputs A (shape %s) and B (shape %s) must both be 2-D", as, bs);
    int64_t M = p->ta ? a->dims[1] : a->dims[0], K = p->ta ? a->dims[0] : a->dims[1];
    int64_t Kb = p->tb ? b->dims[1] : b->dims[0], N = p->tb ? b->dims[0] : b->dims[1];
    if (K != Kb)
        return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                             "inner dimensions differ: A has shape %s (transA=%d) and B has shape "
                             "%s (transB=%d), so K is %lld vs %lld",
                             as, (int)p->ta, bs, (int)p->tb, (long long)K, (long long)Kb);
    if (M > MR_GEMM_MAX_DIM || N > MR_GEMM_MAX_DIM || K > MR_GEMM_MAX_DIM)
        return mr_node_error(ctx, node, MINIRT_ERR_LIMIT,
                             "A has shape %s and B has shape %s; GEMM dimensions are limited to "
                             "%lld",
                             as, bs, (long long)MR_GEMM_MAX_DIM);

    p->c_rows = p->c_cols = 0;
    if (!c) {
        if (node->opset < 11)
            return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                                 "input C is required before opset 11 (the model has opset %d)",
                                 node->opset);
    } else {
        mr_dims_str(cs, sizeof(cs), c->ndim, c->dims);
        int64_t rows = c->ndim == 2 ? c->dims[0] : 1;
        int64_t cols = c->ndim >= 1 ? c->dims[c->ndim - 1] : 1;
        bool ok = c->ndim <= 2 && (rows == 1 || rows == M) && (cols == 1 || cols == N);
        if (p->legacy_exact_c) ok = c->ndim == 2 && rows == M && cols == N;
        if (!ok)
            return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                                 "input C has shape %s, which does not %s the output %lldx%lld "
                                 "(A %s, B %s)",
                                 cs, p->legacy_exact_c ? "match (broadcast=0)" : "broadcast to",
                                 (long long)M, (long long)N, as, bs);
        p->c_rows = rows;
        p->c_cols = cols;
    }

    int64_t ydims[2] = {M, N};
    mr_status st = mr_shape_bytes(ctx, MINIRT_FLOAT32, 2, ydims, NULL, NULL);
    if (st != MINIRT_OK) return mr_node_error(ctx, node, st, "output Y: %s", ctx->err);
    p->M = M;
    p->N = N;
    p->K = K;
    out[0]->dtype = MINIRT_FLOAT32;
    out[0]->ndim = 2;
    out[0]->dims[0] = M;
    out[0]->dims[1] = N;
    node->workspace = 0;
    return MINIRT_OK;
}

/*
 * Y[M,N] = beta * C (broadcast; or 0 without C), then Y += alpha * A' * B' in one mr_sgemm,
 * row-major with lda = transA ? M : K and ldb = transB ? K : N. K == 0 leaves Y = beta * C (or 0).
 */
static mr_status mr_gemm_run(mr_ctx *ctx, const mr_node *node, mr_tensor *const *in,
                             mr_tensor *const *out, void *ws) {
    (void)ctx;
    (void)ws;
    const mr_gemm_params *p = node->params;
    int64_t M = p->M, N = p->N, K = p->K;
    float *y = out[0]->data;
    const mr_tensor *c = node->n_in > 2 ? in[2] : NULL;
    if (c) {
        const float *cd = c->data;
        int64_t rs = p->c_rows == 1 ? 0 : p->c_cols, cs = p->c_cols == 1 ? 0 : 1;
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++)
                y[i * N + j] = p->beta * cd[i * rs + j * cs];
    } else if (K == 0) {
        memset(y, 0, (size_t)(M * N) * sizeof(float));
    }
    if (K > 0)
        mr_sgemm(p->ta, p->tb, M, N, K, p->alpha, in[0]->data, p->ta ? M : K, in[1]->data,
                 p->tb ? K : N, c ? 1.0f : 0.0f, y, N);
    return MINIRT_OK;
}

const mr_op mr_op_gemm = {
    .domain = "",
    .op_type = "Gemm",
    .since = 1,
    .until = 21,
    .min_inputs = 2,
    .max_inputs = 3,
    .min_outputs = 1,
    .max_outputs = 1,
    .prepare = mr_gemm_prepare,
    .infer = mr_gemm_infer,
    .run = mr_gemm_run,
};
