/*
 * mr.h - minirt's internal interfaces: the session context (allocator, error text, limits),
 * tensors, the graph (values and nodes), attribute access and the operator interface.
 *
 * Nothing here is public; include/minirt.h is the only public header.
 */
#ifndef MR_H
#define MR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "minirt.h"

typedef minirt_status mr_status;

#define MR_MAX_DIMS MINIRT_MAX_DIMS
#define MR_ALIGN 64
#define MR_ERRLEN 512

/* ---- context: allocator, error message, limits (one per session; no globals) ---- */

#define MR_MAX_PROBLEMS 64

typedef struct mr_ctx {
    minirt_alloc_fn alloc;
    void *alloc_user;
    int64_t max_tensor_bytes;
    int64_t max_total_bytes;
    int64_t max_nodes;
    int max_nesting;
    bool profile;          /* time every node of every run */
    int optimize;          /* graph optimization level 0..2 (optimize.c) */
    int threads;           /* the option as given; 0 = not set (one thread, OpenBLAS untouched) */
    struct mr_pool *pool;  /* threads > 1: the session's workers (pool.c); NULL = one thread */
    const char *model_dir; /* during minirt_open only: the model file's directory (external data) */
    char err[MR_ERRLEN];
    int n_problems; /* problems found by open beyond the first (see mr_problem) */
    char *problems[MR_MAX_PROBLEMS];
} mr_ctx;

/* Fill ctx from options (NULL = defaults). */
void mr_ctx_init(mr_ctx *ctx, const minirt_options *options);

/* 64-byte aligned allocation through the session's hook; NULL on failure (callers report it with
 * mr_nomem). */
void *mr_alloc(mr_ctx *ctx, size_t size);
/* As mr_alloc for n * size bytes, zeroed, with the multiplication checked. */
void *mr_calloc(mr_ctx *ctx, size_t n, size_t size);
/* Free a block from mr_alloc/mr_calloc; NULL is a no-op. */
void mr_free(mr_ctx *ctx, void *p);
/* Copy of s (or of its first n bytes) in memory from mr_alloc; NULL on failure. */
char *mr_strdup(mr_ctx *ctx, const char *s);
char *mr_strndup(mr_ctx *ctx, const char *s, size_t n);

/* Set ctx's error text (printf-style) and return status. */
mr_status mr_error(mr_ctx *ctx, mr_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The standard out-of-memory failure. */
mr_status mr_nomem(mr_ctx *ctx);
/* Record one problem (printf-style) in ctx's list and return status; open keeps going after
 * problems that do not stop validation so that all of them are reported at once. The list keeps
 * MR_MAX_PROBLEMS entries and counts the rest. */
mr_status mr_problem(mr_ctx *ctx, mr_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Set ctx->err to the first problem, with "(and N more problems)" when there are more. */
void mr_problems_summarise(mr_ctx *ctx);
/* Free the problem list. */
void mr_problems_clear(mr_ctx *ctx);

/* Checked arithmetic on sizes: return false on overflow (or negative operands). */
bool mr_mul_i64(int64_t a, int64_t b, int64_t *out);
bool mr_add_i64(int64_t a, int64_t b, int64_t *out);

/* ---- tensors ---- */

typedef struct mr_tensor {
    minirt_dtype dtype;
    int ndim;
    int64_t dims[MR_MAX_DIMS];
    void *data; /* NULL while the shape is known but the contents are not (during inference) */
} mr_tensor;

/* Size in bytes of one element; 0 for a type minirt does not handle. */
size_t mr_dtype_size(int dtype);
/* Name of an ONNX data type ("float32", "int64", ...). */
const char *mr_dtype_name(int dtype);
/* Element count of t (its dims were checked for overflow when set). */
int64_t mr_numel(const mr_tensor *t);
/* Checked element count and byte size of dims; MINIRT_ERR_LIMIT with a message if too large. */
mr_status mr_shape_bytes(mr_ctx *ctx, int dtype, int ndim, const int64_t *dims, int64_t *numel,
                         int64_t *bytes);
/* Format dims as "1x3x224x224" into buf; returns buf. */
const char *mr_dims_str(char *buf, size_t len, int ndim, const int64_t *dims);
/* Format v[0..n) as "[a, b, c]" into buf; returns buf. */
const char *mr_ints_str(char *buf, size_t len, int n, const int64_t *v);

/* A set of element types: bit MR_TYPE(t) for each ONNX type code t (< 32). */
#define MR_TYPE(t) (1u << (t))
/* float32 and float64 */
#define MR_TYPES_FLOAT (MR_TYPE(MINIRT_FLOAT32) | MR_TYPE(MINIRT_FLOAT64))
/* float32, float64, int32 and int64 */
#define MR_TYPES_F_I32_I64 (MR_TYPES_FLOAT | MR_TYPE(MINIRT_INT32) | MR_TYPE(MINIRT_INT64))
/* every numeric type minirt stores: float32, float64, int32, int64, uint8, int8 */
#define MR_TYPES_NUMERIC (MR_TYPES_F_I32_I64 | MR_TYPE(MINIRT_UINT8) | MR_TYPE(MINIRT_INT8))
/* every type minirt stores: the numeric ones and bool */
#define MR_TYPES_ALL (MR_TYPES_NUMERIC | MR_TYPE(MINIRT_BOOL))
/* Format the names of the types in `types` as "float32, float64, int32" (floats first, then the
 * integers, then bool) into buf; returns buf. */
const char *mr_types_str(char *buf, size_t len, uint32_t types);

/* ---- attributes (copied out of the protobuf at load) ---- */

enum {
    MR_ATTR_FLOAT = 1,
    MR_ATTR_INT = 2,
    MR_ATTR_STRING = 3,
    MR_ATTR_TENSOR = 4,
    MR_ATTR_GRAPH = 5,
    MR_ATTR_FLOATS = 6,
    MR_ATTR_INTS = 7,
    MR_ATTR_STRINGS = 8
};

typedef struct mr_attr {
    char *name;
    int type; /* MR_ATTR_*; other ONNX attribute types are kept with their code and no value */
    float f;
    int64_t i;
    char *s;  /* NUL-terminated copy (STRING) */
    size_t n; /* element count of floats / ints */
    float *floats;
    int64_t *ints;
    mr_tensor *t; /* TENSOR: shape, type and data owned by the node */
} mr_attr;

/* ---- graph ---- */

typedef enum mr_value_kind {
    MR_VALUE_ACTIVATION = 0, /* produced by a node; lives in the arena */
    MR_VALUE_INPUT = 1,      /* a runtime input; data borrowed from the caller during a run */
    MR_VALUE_CONST = 2       /* an initializer or Constant output; data owned by the graph */
} mr_value_kind;

typedef struct mr_value {
    char *name;
    mr_value_kind kind;
    mr_tensor t;   /* dtype, current shape and data pointer */
    int decl_ndim; /* declared shape of a graph input or output: -1 if none, dims -1 if symbolic */
    int64_t decl_dims[MR_MAX_DIMS];
    int decl_dtype; /* declared element type, 0 if none */
    int producer;   /* index of the producing node, -1 for inputs and constants */
    int last_use;   /* index of the last node reading it (plan); n_nodes for graph outputs */
    bool is_output;
    bool bound;       /* a runtime input given in the current run */
    bool folded;      /* computed at plan time (see session.c); data lives until the next plan */
    bool value_known; /* a runtime input whose contents key the plan (small integer inputs) */
    size_t offset;    /* arena offset (activations) */
    int64_t nbytes;   /* bytes at the current shape */
} mr_value;

/* Activations the graph optimizer can fuse into the op before them (see optimize.c). */
typedef enum mr_act {
    MR_ACT_NONE = 0,
    MR_ACT_RELU,         /* max(x, 0) */
    MR_ACT_CLIP,         /* min(max(x, alpha), beta) (ReLU6 is Clip(0, 6)) */
    MR_ACT_LEAKY_RELU,   /* x >= 0 ? x : alpha * x */
    MR_ACT_SIGMOID,      /* 1 / (1 + exp(-x)) */
    MR_ACT_HARD_SIGMOID, /* max(0, min(1, alpha * x + beta)) */
    MR_ACT_HARD_SWISH,   /* x * max(0, min(1, x / 6 + 1 / 2)) */
    MR_ACT_SILU          /* x * sigmoid(x) (Sigmoid followed by Mul with its input) */
} mr_act;

typedef struct mr_epilogue {
    mr_act act;
    float alpha, beta;
} mr_epilogue;

/* What the optimizer fused into a node: an activation applied to its output, and a residual Add
 * whose other operand became the node's input number `residual` (0 = none). */
typedef struct mr_fusion {
    mr_epilogue epi;
    int residual;
} mr_fusion;

struct mr_op;

typedef struct mr_node {
    char *name; /* may be "" in files; use mr_node_error, which falls back to the first output */
    char *op_type;
    char *domain; /* "" for the default ONNX domain */
    int index;    /* position in execution order */
    int opset;    /* the model's opset for this node's domain */
    int n_in, n_out;
    int *in;  /* value indices; -1 marks an absent optional input */
    int *out; /* value indices; -1 marks an absent optional output */
    int n_attr;
    mr_attr *attr;
    const struct mr_op *op;
    void *params;         /* the op's parsed attributes (from prepare), freed with mr_free */
    size_t workspace;     /* bytes of scratch the op needs at the current shapes (set by infer) */
    uint32_t own_inputs;  /* set by the session before infer: bit i = input i is a constant that
                             this node alone reads and that is not an output; infer may take its
                             data over (free it later itself and set the tensor's data to NULL) */
    uint32_t drop_inputs; /* set by infer: bit i = constant input i has been copied into the op's
                             own form (e.g. Winograd-transformed weights) and is not read again;
                             the session frees it if no other node reads it and it is not an
                             output (its shape stays; its data becomes NULL) */
    bool folded;          /* run at plan time; skipped by minirt_run */
    mr_fusion fuse;       /* set by the optimizer for ops with MR_OP_FUSES */
    const char *algo;     /* the algorithm infer chose (static string, for profiles), or NULL */
    int64_t flops; /* floating-point operations per run at the current shapes (infer), or 0 */
} mr_node;

typedef struct mr_graph {
    int n_values, cap_values;
    mr_value *values;
    int n_nodes;
    mr_node *nodes;
    int n_inputs; /* runtime inputs, in graph order */
    int *inputs;  /* value indices */
    int n_outputs;
    int *outputs; /* value indices */
    int n_opsets;
    char **opset_domain;
    int64_t *opset_version;
    int64_t ir_version;
    char *ops_text;   /* "N nodes; ops: ..." as in the file, before optimization */
    int64_t n_params; /* elements of the file's constants */
} mr_graph;

/* Set ctx's error to "node 'NAME' (OP): <fmt>" and return status. */
mr_status mr_node_error(mr_ctx *ctx, const mr_node *node, mr_status status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Attribute lookup. A missing attribute gives the default; one of the wrong type is a MODEL error.
 */
const mr_attr *mr_attr_find(const mr_node *node, const char *name);
mr_status mr_attr_int(mr_ctx *ctx, const mr_node *node, const char *name, int64_t def,
                      int64_t *out);
mr_status mr_attr_float(mr_ctx *ctx, const mr_node *node, const char *name, float def, float *out);
/* String attribute; *out points into the node (valid for its life) or is def. */
mr_status mr_attr_string(mr_ctx *ctx, const mr_node *node, const char *name, const char *def,
                         const char **out);
/* INTS attribute into out[0..max); *n = count, 0 when absent. More than max is a MODEL error. */
mr_status mr_attr_ints(mr_ctx *ctx, const mr_node *node, const char *name, int64_t *out, int max,
                       int *n);

/* ---- operators ----
 *
 * An operator is described once (see src/ops/ops.def) and implements:
 *   prepare: parse and check attributes into node->params, once at open (may be NULL);
 *   infer:   from the input tensors' dtypes and shapes, set each output's dtype, ndim and dims, and
 *            node->workspace; in[i] is NULL for an absent optional input and out[i] NULL for an
 *            absent optional output; in[i]->data is non-NULL only when the input is a constant.
 *            Called on every (re-)plan; it may store a shape-derived plan in node->params for run;
 *   run:     compute; out[i]->data points at planned memory of the inferred size; ws at
 *            node->workspace bytes of scratch (64-byte aligned). Must not allocate.
 * Every failure returns a status with a message from mr_node_error.
 */
typedef mr_status (*mr_prepare_fn)(mr_ctx *ctx, mr_node *node);
typedef mr_status (*mr_infer_fn)(mr_ctx *ctx, mr_node *node, mr_tensor *const *in,
                                 mr_tensor *const *out);
typedef mr_status (*mr_run_fn)(mr_ctx *ctx, const mr_node *node, mr_tensor *const *in,
                               mr_tensor *const *out, void *ws);
/* Free what prepare/infer attached to node->params beyond the params block itself (may be NULL). */
typedef void (*mr_release_fn)(mr_ctx *ctx, mr_node *node);

/* mr_op.flags */
/* reads only its inputs' shapes (Shape, Size): foldable at plan time */
#define MR_OP_SHAPE_ONLY 1u
/* applies node->fuse (activation, residual Add) itself (Conv) */
#define MR_OP_FUSES 2u
/* element-wise: out[0] may be planned into in[0]'s buffer when in[0] is not read afterwards */
#define MR_OP_INPLACE 4u

typedef struct mr_op {
    const char *domain; /* "" = ai.onnx */
    const char *op_type;
    int since; /* first opset this implementation covers */
    int until; /* last opset it covers (inclusive) */
    int min_inputs, max_inputs;
    int min_outputs, max_outputs;
    mr_prepare_fn prepare;
    mr_infer_fn infer;
    mr_run_fn run;
    unsigned flags;       /* MR_OP_* */
    uint32_t plan_inputs; /* bit i: input i must be known at plan time (a shape, axes, scales...) */
    mr_release_fn release; /* NULL: params is one mr_alloc block */
    uint32_t types; /* element types computed (MR_TYPE(dtype) bits) of the input that decides the
                       type (usually input 0); 0 = not declared */
} mr_op;

/* Find the implementation of (domain, op_type) at opset; NULL if none. *known is set when the op
 * type exists at some other opset (so the error can say "opset N not supported" rather than
 * "unknown op"). */
const mr_op *mr_registry_find(const char *domain, const char *op_type, int opset, bool *known);

/* ---- helpers shared by operators ---- */

/* Multidirectional (numpy) broadcast of the shapes of ts[0..n) (NULL entries skipped) into
 * *ndim/dims; a SHAPE error naming the node and the shapes when they do not broadcast. */
mr_status mr_broadcast_dims(mr_ctx *ctx, const mr_node *node, int n, const mr_tensor *const *ts,
                            int *ndim, int64_t *dims);
/* Check an output of type dtype and shape dims against the size limits (a LIMIT or MODEL error
 * naming the node, "output: ...") and set out's dtype, ndim and dims. out may be NULL (check only);
 * dims may alias out->dims. */
mr_status mr_set_output(mr_ctx *ctx, const mr_node *node, mr_tensor *out, int dtype, int ndim,
                        const int64_t *dims);
/* Normalise axis (negative counts from the end) for a tensor of the given rank:
 * -rank <= axis < rank, else a MODEL error naming `what`. (Ops whose valid range differs, such as
 * Unsqueeze, pass the rank that range implies.) */
mr_status mr_norm_axis(mr_ctx *ctx, const mr_node *node, const char *what, int64_t axis, int rank,
                       int *out);
/* OK when node's op computes element type dtype (node->op->types); otherwise an UNSUPPORTED error
 * "input `what` has type T, which is not supported (supported: ...)" listing node->op->types.
 * Ops check here the types ONNX allows but minirt does not compute; a type ONNX itself forbids is
 * a MODEL error the op reports before calling this. */
mr_status mr_check_type(mr_ctx *ctx, const mr_node *node, const char *what, int dtype);
/* Read an int64 or int32 tensor of at most max elements (rank 0 or 1) into out[0..*n). Its data
 * must be known at plan time (a constant or folded value): otherwise an UNSUPPORTED error naming
 * `what`. */
mr_status mr_read_ints(mr_ctx *ctx, const mr_node *node, const char *what, const mr_tensor *t,
                       int64_t *out, int max, int *n);

/* ---- threads (pool.c) ---- */

typedef struct mr_pool mr_pool;
/* A loop body: items [begin, end) (at most the loop's grain of them), on thread index `thread`
 * (0 = the caller, < mr_pool_threads). Each item must be computed the same way whichever thread
 * runs it and however the items are grouped, so results do not depend on the thread count. */
typedef void (*mr_task_fn)(void *arg, int64_t begin, int64_t end, int thread);
/* Start a pool of `threads` threads (the caller and threads - 1 workers); *out = NULL for one
 * thread. Fewer workers start when the system refuses more (the pool then reports fewer). */
mr_status mr_pool_create(mr_ctx *ctx, int threads, mr_pool **out);
/* Stop and join the workers and free the pool; NULL is a no-op. */
void mr_pool_destroy(mr_ctx *ctx, mr_pool *pool);
/* Threads the pool runs loops on (1 for NULL). Kernels size per-thread scratch by it. */
int mr_pool_threads(const mr_pool *pool);
/* A grain for n items on the pool: about 4 chunks per thread (so that a thread slowed by other
 * load holds little up), and at least min items per chunk. */
int64_t mr_pool_grain(const mr_pool *pool, int64_t n, int64_t min);
/* Run fn over items [0, n) in chunks of at most grain items, spread over the pool's threads (all
 * on the caller when pool is NULL); returns when every chunk is done. Not reentrant. */
void mr_parallel_for(mr_pool *pool, int64_t n, int64_t grain, mr_task_fn fn, void *arg);

/* ---- BLAS (the only place cblas is called; see blas.c) ---- */

/* C[M x N] = alpha * op(A) * op(B) + beta * C, row-major, op = transpose when ta / tb.
 * Every dimension and leading dimension must be <= INT_MAX (checked by the caller at infer). */
void mr_sgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
              int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc);
/* Set the BLAS thread count (OpenBLAS keeps it process-wide). minirt calls mr_sgemm from its own
 * threads and sets 1 when the session's thread count is given. */
void mr_blas_set_threads(int threads);
/* For programs whose only BLAS user is minirt (the CLI): one BLAS thread, and OpenBLAS's idle
 * worker threads stopped. Never called by the library, which may share OpenBLAS with its caller. */
void mr_blas_stop_own_threads(void);
/* Largest extent mr_sgemm accepts. */
#define MR_GEMM_MAX_DIM 2147483647LL

/* ---- loader (protobuf at the edge) ---- */

/* A serialized ModelProto: its bytes (a file mapping or the caller's buffer) and, for a file, its
 * descriptor (fd >= 0), used to read the weights' bytes without mapping them. */
typedef struct mr_source {
    const uint8_t *data;
    size_t size;
    int fd;
} mr_source;

/* Parse a serialized ModelProto into g; the protobuf message is freed before returning. */
mr_status mr_load_model(mr_ctx *ctx, const mr_source *src, mr_graph *g);
/* Parse a serialized TensorProto (an ONNX test-data .pb) into t with data from mr_alloc; *name gets
 * its name (mr_alloc'd, may be NULL). */
mr_status mr_load_tensor_pb(mr_ctx *ctx, const void *data, size_t size, mr_tensor *t, char **name);
/* Read `bytes` bytes of external tensor data (see external.c) for tensor `what` from location
 * (relative to ctx->model_dir) at offset/length (decimal strings or NULL) into mr_alloc'd *data. */
mr_status mr_external_read(mr_ctx *ctx, const char *what, const char *location, const char *offset,
                           const char *length, int64_t bytes, void **data);
/* Free everything node n owns (attributes, names, wiring, params) and zero it. */
void mr_node_free(mr_ctx *ctx, mr_node *n);
/* Append a constant value of the given type and shape (zeroed data owned by g) named after base;
 * may move g->values. */
mr_status mr_graph_add_const(mr_ctx *ctx, mr_graph *g, const char *base, int dtype, int ndim,
                             const int64_t *dims, int *idx);
/* Free everything g owns. */
void mr_graph_free(mr_ctx *ctx, mr_graph *g);

/* ---- profiling (profile.c) ---- */

/* Write the last profiled run as Chrome trace-event JSON; dur_ns[i] < 0 marks nodes that did not
 * run. */
mr_status mr_profile_trace(mr_ctx *ctx, const mr_graph *g, const int64_t *start_ns,
                           const int64_t *dur_ns, const char *path);
/* A per op type (and algorithm) table of the time over `runs` profiled runs; mr_alloc'd text. */
char *mr_profile_table(mr_ctx *ctx, const mr_graph *g, const int64_t *total_ns, int runs);

/* ---- graph checks ---- */

/* Check names, sort nodes topologically (reporting cycles), optimize at ctx->optimize, resolve
 * kernels and run prepare. */
mr_status mr_graph_validate(mr_ctx *ctx, mr_graph *g);
/* The graph rewrites of optimize.c at level 0, 1 or 2 (after sorting, before resolving). */
mr_status mr_graph_optimize(mr_ctx *ctx, mr_graph *g, int level);

#endif /* MR_H */
