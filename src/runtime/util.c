/*
 * util.c - the session context: allocation through the caller's hook, error text, checked
 * arithmetic, tensor sizes, attribute access and the helpers shared by operators.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mr.h"

#define MR_DEFAULT_MAX_TENSOR ((int64_t)4 << 30)
#define MR_DEFAULT_MAX_TOTAL ((int64_t)16 << 30)
#define MR_DEFAULT_MAX_NODES ((int64_t)1 << 20)
#define MR_DEFAULT_MAX_NESTING 64

static void *mr_default_alloc(void *user, void *ptr, size_t old_size, size_t size) {
    (void)user;
    (void)old_size;
    if (size == 0) {
        free(ptr);
        return NULL;
    }
    return malloc(size);
}

void mr_ctx_init(mr_ctx *ctx, const minirt_options *o) {
    memset(ctx, 0, sizeof(*ctx));
    ctx->alloc = mr_default_alloc;
    ctx->max_tensor_bytes = MR_DEFAULT_MAX_TENSOR;
    ctx->max_total_bytes = MR_DEFAULT_MAX_TOTAL;
    ctx->max_nodes = MR_DEFAULT_MAX_NODES;
    ctx->max_nesting = MR_DEFAULT_MAX_NESTING;
    ctx->optimize = 2;
    if (!o) return;
    /* Read only the fields the caller's struct has (struct_size grows with new fields). */
    size_t have = o->struct_size;
#define MR_HAS(field) (have >= offsetof(minirt_options, field) + sizeof(o->field))
    if (MR_HAS(threads) && o->threads > 0) ctx->threads = o->threads;
    if (MR_HAS(alloc_user) && o->alloc) {
        ctx->alloc = o->alloc;
        ctx->alloc_user = o->alloc_user;
    }
    if (MR_HAS(max_tensor_bytes) && o->max_tensor_bytes > 0)
        ctx->max_tensor_bytes = o->max_tensor_bytes;
    if (MR_HAS(max_total_bytes) && o->max_total_bytes > 0)
        ctx->max_total_bytes = o->max_total_bytes;
    if (MR_HAS(max_nodes) && o->max_nodes > 0) ctx->max_nodes = o->max_nodes;
    if (MR_HAS(max_nesting_depth) && o->max_nesting_depth > 0)
        ctx->max_nesting = o->max_nesting_depth;
    if (MR_HAS(profile)) ctx->profile = o->profile != 0;
    if (MR_HAS(optimize) && o->optimize >= 0) ctx->optimize = o->optimize > 2 ? 2 : o->optimize;
#undef MR_HAS
}

/*
 * Block layout: the hook's raw block, then padding up to a 64-byte boundary; the 16 bytes just
 * below the aligned pointer hold the raw pointer and the raw size, so any hook works and mr_free
 * can tell the hook how much it is freeing.
 */
typedef struct mr_block_header {
    void *raw;
    size_t raw_size;
} mr_block_header;

void *mr_alloc(mr_ctx *ctx, size_t size) {
    size_t extra = MR_ALIGN + sizeof(mr_block_header);
    if (size > SIZE_MAX - extra) return NULL;
    size_t raw_size = size + extra;
    char *raw = ctx->alloc(ctx->alloc_user, NULL, 0, raw_size);
    if (!raw) return NULL;
    uintptr_t p =
        ((uintptr_t)raw + sizeof(mr_block_header) + MR_ALIGN - 1) & ~(uintptr_t)(MR_ALIGN - 1);
    mr_block_header h = {raw, raw_size};
    memcpy((char *)p - sizeof(h), &h, sizeof(h));
    return (void *)p;
}

void *mr_calloc(mr_ctx *ctx, size_t n, size_t size) {
    if (size && n > SIZE_MAX / size) return NULL;
    void *p = mr_alloc(ctx, n * size);
    if (p) memset(p, 0, n * size);
    return p;
}

void mr_free(mr_ctx *ctx, void *p) {
    if (!p) return;
    mr_block_header h;
    memcpy(&h, (char *)p - sizeof(h), sizeof(h));
    ctx->alloc(ctx->alloc_user, h.raw, h.raw_size, 0);
}

char *mr_strndup(mr_ctx *ctx, const char *s, size_t n) {
    char *d = mr_alloc(ctx, n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *mr_strdup(mr_ctx *ctx, const char *s) {
    return mr_strndup(ctx, s ? s : "", s ? strlen(s) : 0);
}

mr_status mr_error(mr_ctx *ctx, mr_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->err, sizeof(ctx->err), fmt, ap);
    va_end(ap);
    return status;
}

mr_status mr_nomem(mr_ctx *ctx) {
    return mr_error(ctx, MINIRT_ERR_NOMEM, "out of memory");
}

mr_status mr_node_error(mr_ctx *ctx, const mr_node *node, mr_status status, const char *fmt, ...) {
    /* The message is formatted first: callers may pass ctx->err itself as an argument. */
    char msg[MR_ERRLEN], prefix[MR_ERRLEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (node->name && node->name[0])
        snprintf(prefix, sizeof(prefix), "node '%.200s' (%.100s): ", node->name, node->op_type);
    else
        snprintf(prefix, sizeof(prefix), "node #%d (%.100s): ", node->index, node->op_type);
    size_t pl = strlen(prefix), ml = strlen(msg);
    if (ml > sizeof(ctx->err) - 1 - pl) ml = sizeof(ctx->err) - 1 - pl;
    memcpy(ctx->err, prefix, pl);
    memcpy(ctx->err + pl, msg, ml);
    ctx->err[pl + ml] = '\0';
    return status;
}

mr_status mr_problem(mr_ctx *ctx, mr_status status, const char *fmt, ...) {
    char msg[MR_ERRLEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (ctx->n_problems < MR_MAX_PROBLEMS) {
        char *copy = mr_strdup(ctx, msg);
        if (!copy) return mr_nomem(ctx);
        ctx->problems[ctx->n_problems] = copy;
    }
    ctx->n_problems++;
    memcpy(ctx->err, msg, sizeof(msg));
    return status;
}

void mr_problems_summarise(mr_ctx *ctx) {
    if (ctx->n_problems == 0) return;
    if (ctx->n_problems == 1) {
        snprintf(ctx->err, sizeof(ctx->err), "%s", ctx->problems[0]);
        return;
    }
    char tail[64];
    snprintf(tail, sizeof(tail), " (and %d more problem%s)", ctx->n_problems - 1,
             ctx->n_problems == 2 ? "" : "s");
    size_t tl = strlen(tail), pl = strlen(ctx->problems[0]);
    if (pl > sizeof(ctx->err) - 1 - tl) pl = sizeof(ctx->err) - 1 - tl;
    memcpy(ctx->err, ctx->problems[0], pl);
    memcpy(ctx->err + pl, tail, tl + 1);
}

void mr_problems_clear(mr_ctx *ctx) {
    int n = ctx->n_problems < MR_MAX_PROBLEMS ? ctx->n_problems : MR_MAX_PROBLEMS;
    for (int i = 0; i < n; i++) {
        mr_free(ctx, ctx->problems[i]);
        ctx->problems[i] = NULL;
    }
    ctx->n_problems = 0;
}

bool mr_mul_i64(int64_t a, int64_t b, int64_t *out) {
    if (a < 0 || b < 0) return false;
    if (a != 0 && b > INT64_MAX / a) return false;
    *out = a * b;
    return true;
}

bool mr_add_i64(int64_t a, int64_t b, int64_t *out) {
    if (a < 0 || b < 0 || a > INT64_MAX - b) return false;
    *out = a + b;
    return true;
}

size_t mr_dtype_size(int dtype) {
    switch (dtype) {
    case MINIRT_FLOAT32:
        return 4;
    case MINIRT_UINT8:
        return 1;
    case MINIRT_INT8:
        return 1;
    case MINIRT_INT32:
        return 4;
    case MINIRT_INT64:
        return 8;
    case MINIRT_BOOL:
        return 1;
    case MINIRT_FLOAT64:
        return 8;
    default:
        return 0;
    }
}

const char *mr_dtype_name(int dtype) {
    /* ONNX TensorProto.DataType codes 0..16. */
    static const char *const names[] = {"undefined",  "float32", "uint8",  "int8",   "uint16",
                                        "int16",      "int32",   "int64",  "string", "bool",
                                        "float16",    "float64", "uint32", "uint64", "complex64",
                                        "complex128", "bfloat16"};
    if (dtype >= 0 && dtype < (int)(sizeof(names) / sizeof(names[0]))) return names[dtype];
    return "unknown";
}

int64_t mr_numel(const mr_tensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++)
        n *= t->dims[i];
    return n;
}

const char *mr_dims_str(char *buf, size_t len, int ndim, const int64_t *dims) {
    size_t used = 0;
    buf[0] = '\0';
    if (ndim == 0) {
        snprintf(buf, len, "scalar");
        return buf;
    }
    for (int i = 0; i < ndim && used < len; i++) {
        int w = snprintf(buf + used, len - used, i ? "x%lld" : "%lld", (long long)dims[i]);
        if (w < 0) break;
        used += (size_t)w;
    }
    return buf;
}

const char *mr_ints_str(char *buf, size_t len, int n, const int64_t *v) {
    size_t used = (size_t)snprintf(buf, len, "[");
    for (int i = 0; i < n && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, i ? ", %lld" : "%lld", (long long)v[i]);
    if (used < len) snprintf(buf + used, len - used, "]");
    return buf;
}

const char *mr_types_str(char *buf, size_t len, uint32_t types) {
    static const int order[] = {MINIRT_FLOAT32, MINIRT_FLOAT64, MINIRT_INT32, MINIRT_INT64,
                                MINIRT_UINT8,   MINIRT_INT8,    MINIRT_BOOL};
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]) && used < len; i++) {
        if (!(types & MR_TYPE(order[i]))) continue;
        int w = snprintf(buf + used, len - used, used ? ", %s" : "%s", mr_dtype_name(order[i]));
        if (w < 0) break;
        used += (size_t)w;
    }
    return buf;
}

mr_status mr_shape_bytes(mr_ctx *ctx, int dtype, int ndim, const int64_t *dims, int64_t *numel,
                         int64_t *bytes) {
    char buf[160];
    size_t es = mr_dtype_size(dtype);
    if (es == 0)
        return mr_error(ctx, MINIRT_ERR_UNSUPPORTED, "data type %s (%d) is not supported",
                        mr_dtype_name(dtype), dtype);
    if (ndim < 0 || ndim > MR_MAX_DIMS)
        return mr_error(ctx, MINIRT_ERR_LIMIT, "rank %d exceeds the maximum of %d", ndim,
                        MR_MAX_DIMS);
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (dims[i] < 0)
            return mr_error(ctx, MINIRT_ERR_MODEL, "negative dimension in shape %s",
                            mr_dims_str(buf, sizeof(buf), ndim, dims));
        if (!mr_mul_i64(n, dims[i], &n))
            return mr_error(ctx, MINIRT_ERR_LIMIT, "shape %s overflows",
                            mr_dims_str(buf, sizeof(buf), ndim, dims));
    }
    int64_t b;
    if (!mr_mul_i64(n, (int64_t)es, &b) || b > ctx->max_tensor_bytes)
        return mr_error(ctx, MINIRT_ERR_LIMIT,
                        "tensor of shape %s (%s) exceeds the limit of %lld bytes per tensor",
                        mr_dims_str(buf, sizeof(buf), ndim, dims), mr_dtype_name(dtype),
                        (long long)ctx->max_tensor_bytes);
    if (numel) *numel = n;
    if (bytes) *bytes = b;
    return MINIRT_OK;
}

const mr_attr *mr_attr_find(const mr_node *node, const char *name) {
    for (int i = 0; i < node->n_attr; i++)
        if (strcmp(node->attr[i].name, name) == 0) return &node->attr[i];
    return NULL;
}

static mr_status mr_attr_typed(mr_ctx *ctx, const mr_node *node, const char *name, int type,
                               const mr_attr **out) {
    static const char *const tnames[] = {"undefined", "float",  "int",  "string", "tensor",
                                         "graph",     "floats", "ints", "strings"};
    const mr_attr *a = mr_attr_find(node, name);
    *out = NULL;
    if (!a) return MINIRT_OK;
    if (a->type != type) {
        const char *have = a->type >= 0 && a->type <= 8 ? tnames[a->type] : "other";
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL, "attribute '%s' should be %s, not %s",
                             name, tnames[type], have);
    }
    *out = a;
    return MINIRT_OK;
}

mr_status mr_attr_int(mr_ctx *ctx, const mr_node *node, const char *name, int64_t def,
                      int64_t *out) {
    const mr_attr *a;
    mr_status st = mr_attr_typed(ctx, node, name, MR_ATTR_INT, &a);
    *out = a ? a->i : def;
    return st;
}

mr_status mr_attr_float(mr_ctx *ctx, const mr_node *node, const char *name, float def, float *out) {
    const mr_attr *a;
    mr_status st = mr_attr_typed(ctx, node, name, MR_ATTR_FLOAT, &a);
    *out = a ? a->f : def;
    return st;
}

mr_status mr_attr_string(mr_ctx *ctx, const mr_node *node, const char *name, const char *def,
                         const char **out) {
    const mr_attr *a;
    mr_status st = mr_attr_typed(ctx, node, name, MR_ATTR_STRING, &a);
    *out = a ? a->s : def;
    return st;
}

mr_status mr_attr_ints(mr_ctx *ctx, const mr_node *node, const char *name, int64_t *out, int max,
                       int *n) {
    const mr_attr *a;
    mr_status st = mr_attr_typed(ctx, node, name, MR_ATTR_INTS, &a);
    *n = 0;
    if (st != MINIRT_OK || !a) return st;
    if (a->n > (size_t)max)
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                             "attribute '%s' has %zu values, more than the %d allowed", name, a->n,
                             max);
    memcpy(out, a->ints, a->n * sizeof(int64_t));
    *n = (int)a->n;
    return MINIRT_OK;
}

mr_status mr_broadcast_dims(mr_ctx *ctx, const mr_node *node, int n, const mr_tensor *const *ts,
                            int *ndim, int64_t *dims) {
    int r = 0;
    for (int i = 0; i < n; i++)
        if (ts[i] && ts[i]->ndim > r) r = ts[i]->ndim;
    for (int d = 0; d < r; d++)
        dims[d] = 1;
    for (int i = 0; i < n; i++) {
        const mr_tensor *t = ts[i];
        if (!t) continue;
        for (int d = 0; d < t->ndim; d++) {
            int64_t *o = &dims[r - t->ndim + d], v = t->dims[d];
            if (v == *o || v == 1) continue;
            if (*o == 1) {
                *o = v;
                continue;
            }
            char b1[160], b2[160];
            return mr_node_error(ctx, node, MINIRT_ERR_SHAPE,
                                 "input %d has shape %s, which does not broadcast with %s "
                                 "(%lld vs %lld)",
                                 i, mr_dims_str(b1, sizeof(b1), t->ndim, t->dims),
                                 mr_dims_str(b2, sizeof(b2), r, dims), (long long)v, (long long)*o);
        }
    }
    *ndim = r;
    return MINIRT_OK;
}

mr_status mr_check_type(mr_ctx *ctx, const mr_node *node, const char *what, int dtype) {
    uint32_t types = node->op ? node->op->types : 0;
    if (dtype > 0 && dtype < 32 && (types & MR_TYPE(dtype))) return MINIRT_OK;
    char list[128];
    return mr_node_error(ctx, node, MINIRT_ERR_UNSUPPORTED,
                         "input %s has type %s, which is not supported (supported: %s)", what,
                         mr_dtype_name(dtype), mr_types_str(list, sizeof(list), types));
}

mr_status mr_set_output(mr_ctx *ctx, const mr_node *node, mr_tensor *out, int dtype, int ndim,
                        const int64_t *dims) {
    mr_status st = mr_shape_bytes(ctx, dtype, ndim, dims, NULL, NULL);
    if (st != MINIRT_OK) return mr_node_error(ctx, node, st, "output: %s", ctx->err);
    if (!out) return MINIRT_OK;
    out->dtype = dtype;
    out->ndim = ndim;
    if (ndim) memmove(out->dims, dims, (size_t)ndim * sizeof(int64_t));
    return MINIRT_OK;
}

mr_status mr_norm_axis(mr_ctx *ctx, const mr_node *node, const char *what, int64_t axis, int rank,
                       int *out) {
    if (axis < -(int64_t)rank || axis >= rank)
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL,
                             "%s %lld is out of range for rank %d (valid: %d to %d)", what,
                             (long long)axis, rank, -rank, rank - 1);
    *out = (int)(axis < 0 ? axis + rank : axis);
    return MINIRT_OK;
}

mr_status mr_read_ints(mr_ctx *ctx, const mr_node *node, const char *what, const mr_tensor *t,
                       int64_t *out, int max, int *n) {
    char b[160];
    if (t->dtype != MINIRT_INT64 && t->dtype != MINIRT_INT32)
        return mr_node_error(ctx, node, MINIRT_ERR_MODEL, "%s must be int64 or int32, not %s", what,
                             mr_dtype_name(t->dtype));
    if (t->ndim > 1)
        return mr_node_error(ctx, node, MINIRT_ERR_SHAPE, "%s must be 1-D, not of shape %s", what,
                             mr_dims_str(b, sizeof(b), t->ndim, t->dims));
    int64_t count = mr_numel(t);
    if (count > max)
        return mr_node_error(ctx, node, MINIRT_ERR_LIMIT, "%s has %lld values, more than %d", what,
                             (long long)count, max);
    if (!t->data)
        return mr_node_error(ctx, node, MINIRT_ERR_UNSUPPORTED,
                             "%s must be known before the run (a constant, or computed from "
                             "constants and input shapes); data-dependent values are not supported",
                             what);
    for (int64_t i = 0; i < count; i++)
        out[i] = t->dtype == MINIRT_INT64 ? ((const int64_t *)t->data)[i]
                                          : ((const int32_t *)t->data)[i];
    *n = (int)count;
    return MINIRT_OK;
}
