/*
 * linear.c - dense layers: Gemm and MatMul.
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

/* What the threads share while running one Gemm: column chunks [j0, j1) of Y. */
typedef struct mr_gemm_job {
    const mr_gemm_params *p;
    const float *a, *b, *c;
    float *y;
    int64_t chunk;
} mr_gemm_job;

/*
 * Columns [j0, j1) (in chunks) of Y[M,N] = beta * C (broadcast; or 0 without C), then
 * Y += alpha * A' * B' by mr_sgemm, row-major with lda = transA ? M : K and ldb = transB ? K : N.
 * K == 0 leaves Y = beta * C (or 0).
 */
static void mr_gemm_task(void *arg, int64_t t0, int64_t t1, int thread) {
    (void)thread;
    const mr_gemm_job *jb = arg;
    const mr_gemm_params *p = jb->p;
    const int64_t M = p->M, N = p->N, K = p->K;
    const int64_t j0 = t0 * jb->chunk, j1 = t1 * jb->chunk < N ? t1 * jb->chunk : N;
    float *y = jb->y;
    if (jb->c) {
        int64_t rs = p->c_rows == 1 ? 0 : p->c_cols, cs = p->c_cols == 1 ? 0 : 1;
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = j0; j < j1; j++)
                y[i * N + j] = p->beta * jb->c[i * rs + j * cs];
    } else if (K == 0) {
        for (int64_t i = 0; i < M; i++)
            memset(y + i * N + j0, 0, (size_t)(j1 - j0) * sizeof(float));
    }
    if (K > 0)
        mr_sgemm(p->ta, p->tb, M, j1 - j0, K, p->alpha, jb->a, p->ta ? M : K,
                 jb->b + (p->tb ? j0 * K : j0), p->tb ? K : N, jb->c ? 1.0f : 0.0f, y + j0, N);
}

/*
 * Wide products are cut into chunks of MR_GEMM_CHUNK columns that the session's threads share
 * (the batch-1 fully connected layer is a matrix-vector product bound by reading B: two threads
 * read it twice as fast). The cut depends on the shape alone, so the results do not depend on the
 * thread count (OpenBLAS's rounding of an element can depend on the cut).
 */
#define MR_GEMM_CHUNK 256
static mr_status mr_gemm_run(mr_ctx *ctx, const mr_node *node, mr_tensor *const *in,
                             mr_tensor *const *out, void *ws) {
    (void)ws;
    const mr_gemm_params *p = node->params;
    mr_gemm_job jb = {
        .p = p,
        .a = in[0]->data,
        .b = in[1]->data,
        .c = node->n_in > 2 && in[2] ? in[2]->data : NULL,
        .y = out[0]->data,
        .chunk = p->N,
    };
    if (p->M == 0 || p->N == 0) return MINIRT_OK;
    if (p->N >= 2 * MR_GEMM_CHUNK && p->M * p->N * p->K >= ((int64_t)1 << 18))
        jb.chunk = MR_GEMM_CHUNK;
    mr_parallel_for(ctx->pool, (p->N + jb.chunk - 1) / jb.chunk, 1, mr_gemm_task, &jb);
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
    .types = MR_TYPE(MINIRT_FLOAT32),
};

/* ---- MatMul ----
 * numpy.matmul semantics (https://onnx.ai/onnx/operators/onnx__MatMul.html), unchanged in meaning
 * from opset 1 to 21 (9 and 13 only added types): A[..., M, K] x B[..., K, N] -> Y[..., M, N] with
 * the batch dims broadcast. A 1-D A is [1, K] and a 1-D B is [K, 1], and the added axis is removed
 * from the output again. float32 through mr_sgemm; float64, int32 and int64 by plain loops
 * (integers wrap on overflow).
 */
typedef struct mr_matmul_params {
    int64_t M, N, K;
    int64_t batch;                 /* output matrices */
    int brank;                     /* output batch rank */
    int64_t bdims[MR_MAX_DIMS];    /* output batch dims */
    int64_t a_stride[MR_MAX_DIMS]; /* A's matrix index step per output batch axis (0: broadcast) */
    int64_t b_stride[MR_MAX_DIMS]; /* same for B */
    bool fold;                     /* B is one matrix and A's batch is contiguous: one GEMM */
} mr_matmul_params;

static mr_status mr_matmul_prepare(mr_ctx *ctx, mr_node *node) {
    mr_matmul_params *p = mr_calloc(ctx, 1, sizeof(*p));
    if (!p) return mr_nomem(ctx);
    node->params = p;
    return MINIRT_OK;
}

/* Row-major matrix-index strides of an operand's batch dims placed right-aligned in the output's
 * batch rank; 0 where the operand's dim is 1 (broadcast) or missing. */
static void mr_matmul_batch_strides(int brank, int rank, const int64_t *dims, int64_t *stride) {
    int64_t s = 1;
    for (int i = brank - 1; i >= 0; i--) {
        int j = i - (brank - rank);
        int64_t d = j >= 0 ? dims[j] : 1;
        stride[i] = d == 1 ? 0 : s;
        s *= d;
    }
}

static mr_status mr_matmul_infer(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                                 mr_tensor *const *out) {
    mr_matmul_params *p = node->params;
    const mr_tensor *a = in[0], *b = in[1];
    char as[128], bs[128];
    mr_dims_str(as, sizeof(as), a->ndim, a->dims);
    mr_dims_str(bs, sizeof(bs), b->ndim, b->dims);
    if (a->dtype != b->dtype)
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                             "input A has type %s but input B has type %s; they must be the same",
                             mr_dtype_name(a->dtype), mr_dtype_name(b->dtype));
    mr_status st = mr_check_type(ctx, node, "A", a->dtype);
    if (st != MINIRT_OK) return st;
    if (a->ndim < 1 || b->ndim < 1)
        return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                             "inputs A (shape %s) and B (shape %s) must have rank >= 1", as, bs);
    /* Matrix extents, with 1-D operands promoted. */
    int64_t M = a->ndim >= 2 ? a->dims[a->ndim - 2] : 1, K = a->dims[a->ndim - 1];
    int64_t Kb = b->ndim >= 2 ? b->dims[b->ndim - 2] : b->dims[0];
    int64_t N = b->ndim >= 2 ? b->dims[b->ndim - 1] : 1;
    if (K != Kb)
        return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                             "inner dimensions differ: A has shape %s and B has shape %s (K is "
                             "%lld vs %lld)",
                             as, bs, (long long)K, (long long)Kb);

    /* Batch dims: everything before the last two axes of each operand, broadcast together. */
    mr_tensor ab, bb;
    memset(&ab, 0, sizeof(ab));
    memset(&bb, 0, sizeof(bb));
    ab.ndim = a->ndim > 2 ? a->ndim - 2 : 0;
    bb.ndim = b->ndim > 2 ? b->ndim - 2 : 0;
    memcpy(ab.dims, a->dims, (size_t)ab.ndim * sizeof(int64_t));
    memcpy(bb.dims, b->dims, (size_t)bb.ndim * sizeof(int64_t));
    const mr_tensor *parts[2] = {&ab, &bb};
    int brank;
    int64_t bdims[MR_MAX_DIMS];
    if (mr_broadcast_dims(ctx, node, 2, parts, &brank, bdims) != MINIRT_OK) {
        char b1[128], b2[128];
        return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                             "batch dims of A (shape %s) and B (shape %s) do not broadcast (%s vs "
                             "%s)",
                             as, bs, mr_dims_str(b1, sizeof(b1), ab.ndim, ab.dims),
                             mr_dims_str(b2, sizeof(b2), bb.ndim, bb.dims));
    }
    int ydim = brank; /* the output has at most max(rank A, rank B) axes */
    int64_t ydims[MR_MAX_DIMS];
    memcpy(ydims, bdims, (size_t)brank * sizeof(int64_t));
    if (a->ndim >= 2) ydims[ydim++] = M;
    if (b->ndim >= 2) ydims[ydim++] = N;
    st = mr_shape_bytes(ctx, a->dtype, ydim, ydims, NULL, NULL);
    if (st != MINIRT_OK) return mr_node_error(ctx, node, st, "output Y: %s", ctx->err);
    if (M > MR_GEMM_MAX_DIM || N > MR_GEMM_MAX_DIM || K > MR_GEMM_MAX_DIM)
        return mr_node_error(ctx, node, MINIRT_ERR_LIMIT,
                             "A has shape %s and B has shape %s; GEMM dimensions are limited to "
                             "%lld",
                             as, bs, (long long)MR_GEMM_MAX_DIM);

    p->M = M;
    p->N = N;
    p->K = K;
    p->brank = brank;
    memcpy(p->bdims, bdims, (size_t)brank * sizeof(int64_t));
    p->batch = 1;
    for (int i = 0; i < brank; i++)
        if (!mr_mul_i64(p->batch, bdims[i], &p->batch))
            return mr_node_error(ctx, node, MINIRT_ERR_LIMIT, "batch of %s x %s overflows", as, bs);
    /* Used only when both operands have elements (run returns early otherwise), which bounds the
     * stride products. */
    memset(p->a_stride, 0, sizeof(p->a_stride));
    memset(p->b_stride, 0, sizeof(p->b_stride));
    if (mr_numel(a) > 0 && mr_numel(b) > 0) {
        mr_matmul_batch_strides(brank, ab.ndim, ab.dims, p->a_stride);
        mr_matmul_batch_strides(brank, bb.ndim, bb.dims, p->b_stride);
    }
    /* B shared by every batch (all its batch dims 1) means A's batch never broadcasts: A's
     * matrices are contiguous, so A is one [batch*M, K] matrix and Y one [batch*M, N]. */
    bool b_shared = true;
    for (int i = 0; i < brank; i++)
        if (p->b_stride[i] != 0) b_shared = false;
    int64_t folded_m;
    p->fold = b_shared && mr_mul_i64(p->batch, M, &folded_m) && folded_m <= MR_GEMM_MAX_DIM;

    out[0]->dtype = a->dtype;
    out[0]->ndim = ydim;
    memcpy(out[0]->dims, ydims, (size_t)ydim * sizeof(int64_t));
    node->workspace = 0;
    return MINIRT_OK;
}

/* Y[M,N] = A[M,K] x B[K,N] for one matrix pair, row-major, by the m-k-n loop order (B and Y rows
 * are walked contiguously). MULADD(acc, a, b) is acc + a * b, wrapping for the integer types. */
#define MR_MATMUL_LOOP(NAME, T, MULADD)                                                            \
    static void NAME(const T *a, const T *b, T *y, int64_t M, int64_t N, int64_t K) {              \
        for (int64_t m = 0; m < M; m++) {                                                          \
            T *yr = y + m * N;                                                                     \
            for (int64_t n = 0; n < N; n++)                                                        \
                yr[n] = 0;                                                                         \
            for (int64_t k = 0; k < K; k++) {                                                      \
                const T av = a[m * K + k];                                                         \
                const T *br = b + k * N;                                                           \
                for (int64_t n = 0; n < N; n++)                                                    \
                    yr[n] = MULADD(yr[n], av, br[n]);                                              \
            }                                                                                      \
        }                                                                                          \
    }

#define MR_MATMUL_F64(acc, x, w) ((acc) + (x) * (w))
#define MR_MATMUL_I32(acc, x, w) ((int32_t)((uint32_t)(acc) + (uint32_t)(x) * (uint32_t)(w)))
#define MR_MATMUL_I64(acc, x, w) ((int64_t)((uint64_t)(acc) + (uint64_t)(x) * (uint64_t)(w)))
MR_MATMUL_LOOP(mr_matmul_f64, double, MR_MATMUL_F64)
MR_MATMUL_LOOP(mr_matmul_i32, int32_t, MR_MATMUL_I32)
MR_MATMUL_LOOP(mr_matmul_i64, int64_t, MR_MATMUL_I64)

/*
 * One GEMM per output batch matrix; the matrix indices of A and B follow the output batch index
 * through an odometer with their broadcast strides. When B is shared and A's batch is contiguous
 * (the Linear-on-3-D case, [B, T, K] x [K, N]), a single GEMM of (batch*M) x N x K does it all.
 */
static mr_status mr_matmul_run(mr_ctx *ctx, const mr_node *node, mr_tensor *const *in,
                               mr_tensor *const *out, void *ws) {
    (void)ctx;
    (void)ws;
    const mr_matmul_params *p = node->params;
    const int64_t M = p->M, N = p->N, K = p->K;
    const int dtype = out[0]->dtype;
    const size_t es = mr_dtype_size(dtype);
    const char *A = in[0]->data, *B = in[1]->data;
    char *Y = out[0]->data;
    if (p->batch == 0 || M == 0 || N == 0) return MINIRT_OK;
    if (K == 0) {
        memset(Y, 0, (size_t)(p->batch * M * N) * es);
        return MINIRT_OK;
    }
    if (dtype == MINIRT_FLOAT32 && p->fold) {
        mr_sgemm(false, false, p->batch * M, N, K, 1.0f, (const float *)A, K, (const float *)B, N,
                 0.0f, (float *)Y, N);
        return MINIRT_OK;
    }
    int64_t idx[MR_MAX_DIMS] = {0}, ia = 0, ib = 0;
    for (int64_t t = 0; t < p->batch; t++) {
        const char *a = A + (size_t)(ia * M * K) * es, *b = B + (size_t)(ib * K * N) * es;
        char *y = Y + (size_t)(t * M * N) * es;
        switch (dtype) {
        case MINIRT_FLOAT32:
            mr_sgemm(false, false, M, N, K, 1.0f, (const float *)a, K, (const float *)b, N, 0.0f,
                     (float *)y, N);
            break;
        case MINIRT_FLOAT64:
            mr_matmul_f64((const double *)a, (const double *)b, (double *)y, M, N, K);
            break;
        case MINIRT_INT32:
            mr_matmul_i32((const int32_t *)a, (const int32_t *)b, (int32_t *)y, M, N, K);
            break;
        default:
            mr_matmul_i64((const int64_t *)a, (const int64_t *)b, (int64_t *)y, M, N, K);
            break;
        }
        for (int k = p->brank - 1; k >= 0; k--) {
            ia += p->a_stride[k];
            ib += p->b_stride[k];
            if (++idx[k] < p->bdims[k]) break;
            ia -= p->a_stride[k] * p->bdims[k];
            ib -= p->b_stride[k] * p->bdims[k];
            idx[k] = 0;
        }
    }
    return MINIRT_OK;
}

const mr_op mr_op_matmul = {
    .domain = "",
    .op_type = "MatMul",
    .since = 1,
    .until = 21,
    .min_inputs = 2,
    .max_inputs = 2,
    .min_outputs = 1,
    .max_outputs = 1,
    .prepare = mr_matmul_prepare,
    .infer = mr_matmul_infer,
    .run = mr_matmul_run,
    .types = MR_TYPES_F_I32_I64,
};
