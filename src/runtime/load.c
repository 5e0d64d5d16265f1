/*
 * load.c - the protobuf edge: turns a serialized ONNX ModelProto into minirt's own graph (values,
 * nodes, attributes, constant tensors in aligned buffers) and frees the message. Nothing outside
 * this file sees a protobuf type.
 *
 * Spec: https://github.com/onnx/onnx/blob/main/docs/IR.md
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "inline.h"
#include "strip.h"
#include "mr.h"
#include "wire.h"
#include "onnx.pb-c.h"

/* protobuf-c allocates through the session's hook as well; a failed allocation is remembered so
 * that an unpack that fails for want of memory reports NOMEM, not a malformed file. */
typedef struct mr_pb_alloc_state {
    mr_ctx *ctx;
    bool failed;
} mr_pb_alloc_state;

static void *mr_pb_alloc(void *user, size_t size) {
    mr_pb_alloc_state *a = user;
    void *p = mr_alloc(a->ctx, size);
    if (!p) a->failed = true;
    return p;
}

static void mr_pb_free(void *user, void *p) {
    mr_free(((mr_pb_alloc_state *)user)->ctx, p);
}

static ProtobufCAllocator mr_pb_allocator(mr_pb_alloc_state *state) {
    ProtobufCAllocator a = {mr_pb_alloc, mr_pb_free, state};
    return a;
}

/* ---- name table: open addressing, name -> value index ---- */

typedef struct mr_names {
    int cap;   /* power of two */
    int *slot; /* value index or -1 */
} mr_names;

static uint64_t mr_hash(const char *s) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static mr_status mr_names_init(mr_ctx *ctx, mr_names *m, int64_t expected) {
    int64_t cap = 16;
    while (cap < 2 * expected)
        cap *= 2; /* expected is bounded by the node/value limits */
    m->cap = (int)cap;
    m->slot = mr_alloc(ctx, (size_t)cap * sizeof(int));
    if (!m->slot) return mr_nomem(ctx);
    for (int i = 0; i < m->cap; i++)
        m->slot[i] = -1;
    return MINIRT_OK;
}

/* Find name; if absent and insert_idx >= 0, insert it. Returns the index found, or -1. */
static int mr_names_get(mr_names *m, const mr_graph *g, const char *name, int insert_idx) {
    uint64_t h = mr_hash(name);
    for (int probe = 0; probe < m->cap; probe++) {
        int s = (int)((h + (uint64_t)probe) & (uint64_t)(m->cap - 1));
        if (m->slot[s] < 0) {
            if (insert_idx >= 0) m->slot[s] = insert_idx;
            return -1;
        }
        if (strcmp(g->values[m->slot[s]].name, name) == 0) return m->slot[s];
    }
    return -1;
}

/* ---- tensors ---- */

/* Copy n elements of size es from little-endian bytes into dst in host order (src may equal dst).
 */
static void mr_copy_le(void *dst, const void *src, size_t n, size_t es) {
    if (dst != src && n) memcpy(dst, src, n * es);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    unsigned char *d = dst;
    for (size_t i = 0; i < n; i++, d += es)
        for (size_t b = 0; b < es / 2; b++) {
            unsigned char c = d[b];
            d[b] = d[es - 1 - b];
            d[es - 1 - b] = c;
        }
#else
    (void)es;
#endif
}

/*
 * Convert a TensorProto into t (data from mr_alloc). `what` names the tensor in messages.
 * Storage forms: raw_data (little-endian), float_data, int32_data (int32 and the narrow integer
 * types and bool), int64_data, double_data.
 */
/* Raw bytes of an initializer that strip.c kept out of the skeleton: at offset in the source's
 * memory, or in its file (fd >= 0, read with pread so the file's pages never count against us). */
typedef struct mr_raw_src {
    const uint8_t *data;
    int fd;
    size_t offset, len;
} mr_raw_src;

static mr_status mr_read_raw(mr_ctx *ctx, const char *what, const mr_raw_src *raw, void *dst) {
    if (raw->fd < 0) {
        memcpy(dst, raw->data + raw->offset, raw->len);
        return MINIRT_OK;
    }
    for (size_t done = 0; done < raw->len;) {
        ssize_t got =
            pread(raw->fd, (char *)dst + done, raw->len - done, (off_t)(raw->offset + done));
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0)
            return mr_error(ctx, MINIRT_ERR_IO,
                            "tensor '%s': cannot read its data from the model file", what);
        done += (size_t)got;
    }
    return MINIRT_OK;
}

static mr_status mr_load_tensor(mr_ctx *ctx, Onnx__TensorProto *tp, const char *what,
                                const mr_raw_src *raw, mr_tensor *t) {
    memset(t, 0, sizeof(*t));
    const bool has_raw = tp->has_raw_data || raw;
    const size_t raw_len = raw ? raw->len : tp->raw_data.len;
    int dtype = tp->has_data_type ? tp->data_type : 0;
    if (tp->n_dims > MR_MAX_DIMS)
        return mr_error(ctx, MINIRT_ERR_LIMIT, "tensor '%s': rank %zu exceeds the maximum of %d",
                        what, tp->n_dims, MR_MAX_DIMS);
    if (tp->segment)
        return mr_error(ctx, MINIRT_ERR_UNSUPPORTED,
                        "tensor '%s': segmented tensors are not supported", what);
    if (mr_dtype_size(dtype) == 0)
        return mr_error(ctx, MINIRT_ERR_UNSUPPORTED,
                        "tensor '%s': data type %s (%d) is not supported", what,
                        mr_dtype_name(dtype), dtype);
    t->dtype = dtype;
    t->ndim = (int)tp->n_dims;
    if (tp->n_dims) memcpy(t->dims, tp->dims, tp->n_dims * sizeof(int64_t));
    int64_t numel, bytes;
    mr_status st = mr_shape_bytes(ctx, dtype, t->ndim, t->dims, &numel, &bytes);
    if (st != MINIRT_OK) {
        char msg[MR_ERRLEN];
        memcpy(msg, ctx->err, sizeof(msg));
        return mr_error(ctx, st, "tensor '%s': %s", what, msg);
    }
    if (tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
        const char *location = NULL, *offset = NULL, *length = NULL;
        for (size_t i = 0; i < tp->n_external_data; i++) {
            const char *k = tp->external_data[i]->key ? tp->external_data[i]->key : "";
            const char *v = tp->external_data[i]->value ? tp->external_data[i]->value : "";
            if (strcmp(k, "location") == 0)
                location = v;
            else if (strcmp(k, "offset") == 0)
                offset = v;
            else if (strcmp(k, "length") == 0)
                length = v;
        }
        st = mr_external_read(ctx, what, location, offset, length, bytes, &t->data);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        if (st == MINIRT_OK) mr_copy_le(t->data, t->data, (size_t)numel, mr_dtype_size(dtype));
#endif
        return st;
    }
    size_t n = (size_t)numel, es = mr_dtype_size(dtype);
    size_t have;
    const char *form;
    if (has_raw) {
        have = raw_len / es;
        form = "raw_data";
        if (raw_len % es) have = (size_t)-1;
    } else if (dtype == MINIRT_FLOAT32) {
        have = tp->n_float_data;
        form = "float_data";
    } else if (dtype == MINIRT_INT64) {
        have = tp->n_int64_data;
        form = "int64_data";
    } else if (dtype == MINIRT_FLOAT64) {
        have = tp->n_double_data;
        form = "double_data";
    } else {
        have = tp->n_int32_data;
        form = "int32_data";
    }
    if (have != n) {
        char buf[160];
        if (has_raw)
            return mr_error(ctx, MINIRT_ERR_MODEL,
                            "tensor '%s': raw_data has %zu bytes but shape %s (%s) needs %lld",
                            what, raw_len, mr_dims_str(buf, sizeof(buf), t->ndim, t->dims),
                            mr_dtype_name(dtype), (long long)bytes);
        return mr_error(ctx, MINIRT_ERR_MODEL,
                        "tensor '%s': %s has %zu values but shape %s needs %zu", what, form, have,
                        mr_dims_str(buf, sizeof(buf), t->ndim, t->dims), n);
    }
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (!raw && tp->has_raw_data && bytes > 0 && ((uintptr_t)tp->raw_data.data % MR_ALIGN) == 0) {
        /* protobuf-c unpacks a bytes field into a block of its own, from our allocator (so 64-byte
         * aligned and freed with mr_free): take it instead of copying, so weights are held once. */
        t->data = tp->raw_data.data;
        tp->raw_data.data = NULL;
        tp->raw_data.len = 0;
        tp->has_raw_data = 0;
        return MINIRT_OK;
    }
#endif
    t->data = mr_alloc(ctx, bytes ? (size_t)bytes : 1);
    if (!t->data) return mr_nomem(ctx);
    if (n == 0) {
        /* an empty tensor: nothing to copy (its value arrays may be NULL) */
    } else if (raw) {
        mr_status rst = mr_read_raw(ctx, what, raw, t->data);
        if (rst != MINIRT_OK) {
            mr_free(ctx, t->data);
            t->data = NULL;
            return rst;
        }
        mr_copy_le(t->data, t->data, n, es);
    } else if (tp->has_raw_data) {
        mr_copy_le(t->data, tp->raw_data.data, n, es);
    } else if (dtype == MINIRT_FLOAT32) {
        memcpy(t->data, tp->float_data, n * es);
    } else if (dtype == MINIRT_INT64) {
        memcpy(t->data, tp->int64_data, n * es);
    } else if (dtype == MINIRT_FLOAT64) {
        memcpy(t->data, tp->double_data, n * es);
    } else if (dtype == MINIRT_INT32) {
        memcpy(t->data, tp->int32_data, n * es);
    } else {
        /* int8, uint8, bool: one value per int32 element; keep the low byte. */
        unsigned char *d = t->data;
        for (size_t i = 0; i < n; i++)
            d[i] = (unsigned char)tp->int32_data[i];
        if (dtype == MINIRT_BOOL)
            for (size_t i = 0; i < n; i++)
                d[i] = d[i] != 0;
    }
    return MINIRT_OK;
}

mr_status mr_load_tensor_pb(mr_ctx *ctx, const void *data, size_t size, mr_tensor *t, char **name) {
    mr_pb_alloc_state state = {ctx, false};
    ProtobufCAllocator a = mr_pb_allocator(&state);
    *name = NULL;
    memset(t, 0, sizeof(*t));
    mr_status wst = mr_wire_check(ctx, "ONNX TensorProto", data, size,
                                  &onnx__tensor_proto__descriptor, ctx->max_nesting);
    if (wst != MINIRT_OK) return wst;
    Onnx__TensorProto *tp = onnx__tensor_proto__unpack(&a, size, data);
    if (!tp && state.failed) return mr_nomem(ctx);
    if (!tp)
        return mr_error(ctx, MINIRT_ERR_MODEL, "not a valid ONNX TensorProto (%zu bytes)", size);
    mr_status st = mr_load_tensor(ctx, tp, tp->name ? tp->name : "", NULL, t);
    if (st == MINIRT_OK && tp->name && !(*name = mr_strdup(ctx, tp->name))) st = mr_nomem(ctx);
    if (st != MINIRT_OK) {
        mr_free(ctx, t->data);
        t->data = NULL;
    }
    onnx__tensor_proto__free_unpacked(tp, &a);
    return st;
}

/* ---- values ---- */

static mr_status mr_add_value(mr_ctx *ctx, mr_graph *g, int cap, const char *name,
                              mr_value_kind kind, int *idx) {
    if (g->n_values >= cap) return mr_error(ctx, MINIRT_ERR_INTERNAL, "value table overflow");
    mr_value *v = &g->values[g->n_values];
    memset(v, 0, sizeof(*v));
    v->name = mr_strdup(ctx, name);
    if (!v->name) return mr_nomem(ctx);
    v->kind = kind;
    v->producer = -1;
    v->decl_ndim = -1;
    *idx = g->n_values++;
    return MINIRT_OK;
}

/* Record a ValueInfo's declared element type and shape on v. */
static mr_status mr_load_decl(mr_ctx *ctx, const Onnx__ValueInfoProto *vi, mr_value *v) {
    const Onnx__TypeProto *tp = vi->type;
    if (!tp) return MINIRT_OK;
    if (tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
        return mr_error(ctx, MINIRT_ERR_UNSUPPORTED,
                        "graph value '%s': only tensor types are supported", v->name);
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    if (tt->has_elem_type) v->decl_dtype = tt->elem_type;
    if (!tt->shape) return MINIRT_OK;
    if (tt->shape->n_dim > MR_MAX_DIMS)
        return mr_error(ctx, MINIRT_ERR_LIMIT,
                        "graph value '%s': rank %zu exceeds the maximum of %d", v->name,
                        tt->shape->n_dim, MR_MAX_DIMS);
    v->decl_ndim = (int)tt->shape->n_dim;
    for (size_t i = 0; i < tt->shape->n_dim; i++) {
        const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
        int64_t dv = -1;
        if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
            dv = d->dim_value;
            if (dv < 0)
                return mr_error(ctx, MINIRT_ERR_MODEL, "graph value '%s': dimension %zu is %lld",
                                v->name, i, (long long)dv);
        }
        v->decl_dims[i] = dv;
    }
    return MINIRT_OK;
}

/* ---- attributes ---- */

static mr_status mr_load_attr(mr_ctx *ctx, const Onnx__AttributeProto *ap, const char *node_name,
                              mr_attr *a) {
    memset(a, 0, sizeof(*a));
    a->name = mr_strdup(ctx, ap->name);
    if (!a->name) return mr_nomem(ctx);
    a->type = ap->has_type ? (int)ap->type : 0;
    if (ap->ref_attr_name && ap->ref_attr_name[0])
        return mr_error(
            ctx, MINIRT_ERR_MODEL,
            "node '%s': attribute '%s' refers to a function attribute outside a function",
            node_name, a->name);
    switch (a->type) {
    case MR_ATTR_FLOAT:
        a->f = ap->f;
        break;
    case MR_ATTR_INT:
        a->i = ap->i;
        break;
    case MR_ATTR_STRING:
        a->s = mr_strndup(ctx, ap->s.data ? (const char *)ap->s.data : "", ap->s.len);
        if (!a->s) return mr_nomem(ctx);
        break;
    case MR_ATTR_FLOATS:
        a->n = ap->n_floats;
        a->floats = mr_calloc(ctx, ap->n_floats ? ap->n_floats : 1, sizeof(float));
        if (!a->floats) return mr_nomem(ctx);
        if (ap->n_floats) memcpy(a->floats, ap->floats, ap->n_floats * sizeof(float));
        break;
    case MR_ATTR_INTS:
        a->n = ap->n_ints;
        a->ints = mr_calloc(ctx, ap->n_ints ? ap->n_ints : 1, sizeof(int64_t));
        if (!a->ints) return mr_nomem(ctx);
        if (ap->n_ints) memcpy(a->ints, ap->ints, ap->n_ints * sizeof(int64_t));
        break;
    case MR_ATTR_TENSOR:
        if (!ap->t)
            return mr_error(ctx, MINIRT_ERR_MODEL, "node '%s': tensor attribute '%s' has no tensor",
                            node_name, a->name);
        a->t = mr_calloc(ctx, 1, sizeof(mr_tensor));
        if (!a->t) return mr_nomem(ctx);
        return mr_load_tensor(ctx, ap->t, a->name, NULL, a->t);
    default:
        /* Graphs, strings lists, sparse tensors, type protos: kept by type only; an op that needs
         * one reports it as unsupported. */
        break;
    }
    return MINIRT_OK;
}

static void mr_attr_free(mr_ctx *ctx, mr_attr *a) {
    mr_free(ctx, a->name);
    mr_free(ctx, a->s);
    mr_free(ctx, a->floats);
    mr_free(ctx, a->ints);
    if (a->t) mr_free(ctx, a->t->data);
    mr_free(ctx, a->t);
}

/*
 * A Constant node's value becomes a constant tensor
 * (https://onnx.ai/onnx/operators/onnx__Constant.html): exactly one of value (tensor), value_float,
 * value_floats, value_int, value_ints.
 */
static mr_status mr_load_constant(mr_ctx *ctx, const Onnx__NodeProto *np, mr_tensor *t) {
    const char *nn = np->name && np->name[0] ? np->name : np->output[0];
    if (np->n_attribute != 1)
        return mr_error(ctx, MINIRT_ERR_MODEL,
                        "node '%s' (Constant): needs exactly one value attribute, has %zu", nn,
                        np->n_attribute);
    const Onnx__AttributeProto *ap = np->attribute[0];
    const char *an = ap->name ? ap->name : "";
    memset(t, 0, sizeof(*t));
    if (strcmp(an, "value") == 0 && ap->t)
        return mr_load_tensor(ctx, ap->t, np->output[0], NULL, t);
    size_t n = 1;
    bool is_list = false;
    if (strcmp(an, "value_float") == 0 && ap->has_f) {
        t->dtype = MINIRT_FLOAT32;
    } else if (strcmp(an, "value_int") == 0 && ap->has_i) {
        t->dtype = MINIRT_INT64;
    } else if (strcmp(an, "value_floats") == 0) {
        t->dtype = MINIRT_FLOAT32;
        n = ap->n_floats;
        is_list = true;
    } else if (strcmp(an, "value_ints") == 0) {
        t->dtype = MINIRT_INT64;
        n = ap->n_ints;
        is_list = true;
    } else {
        return mr_error(ctx, MINIRT_ERR_UNSUPPORTED,
                        "node '%s' (Constant): attribute '%s' is not supported", nn, an);
    }
    t->ndim = is_list ? 1 : 0;
    t->dims[0] = (int64_t)n;
    int64_t bytes;
    mr_status st = mr_shape_bytes(ctx, t->dtype, t->ndim, t->dims, NULL, &bytes);
    if (st != MINIRT_OK) return st;
    t->data = mr_alloc(ctx, bytes ? (size_t)bytes : 1);
    if (!t->data) return mr_nomem(ctx);
    if (n == 0) return MINIRT_OK; /* an empty list: its array may be NULL */
    if (t->dtype == MINIRT_FLOAT32)
        memcpy(t->data, is_list ? ap->floats : &ap->f, n * sizeof(float));
    else
        memcpy(t->data, is_list ? ap->ints : &ap->i, n * sizeof(int64_t));
    return MINIRT_OK;
}

/* ---- the model ---- */

static int64_t mr_find_opset(const mr_graph *g, const char *domain) {
    if (strcmp(domain, "ai.onnx") == 0) domain = "";
    for (int i = 0; i < g->n_opsets; i++) {
        const char *d = g->opset_domain[i];
        if (strcmp(d, "ai.onnx") == 0) d = "";
        if (strcmp(d, domain) == 0) return g->opset_version[i];
    }
    return -1;
}

static bool mr_is_default_domain(const char *d) {
    return !d || d[0] == '\0' || strcmp(d, "ai.onnx") == 0;
}

static mr_status mr_load_graph(mr_ctx *ctx, const Onnx__ModelProto *mp, const mr_flat *flat,
                               const mr_source *src, const mr_stripped *stripped, mr_graph *g) {
    const Onnx__GraphProto *gp = mp->graph;
    mr_status st;

    /* opsets */
    g->ir_version = mp->has_ir_version ? mp->ir_version : 0;
    if (g->ir_version < 3)
        return mr_error(ctx, MINIRT_ERR_UNSUPPORTED,
                        "model IR version %lld is not supported (need 3 or later)",
                        (long long)g->ir_version);
    if (mp->n_opset_import == 0) return mr_error(ctx, MINIRT_ERR_MODEL, "model imports no opset");
    g->opset_domain = mr_calloc(ctx, mp->n_opset_import, sizeof(char *));
    g->opset_version = mr_calloc(ctx, mp->n_opset_import, sizeof(int64_t));
    if (!g->opset_domain || !g->opset_version) return mr_nomem(ctx);
    for (size_t i = 0; i < mp->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *os = mp->opset_import[i];
        g->opset_domain[i] = mr_strdup(ctx, os->domain ? os->domain : "");
        if (!g->opset_domain[i]) return mr_nomem(ctx);
        g->opset_version[i] = os->has_version ? os->version : 0;
        g->n_opsets = (int)i + 1;
    }

    /* Upper bound on values: initializers + inputs + every node output. */
    int64_t cap = (int64_t)gp->n_initializer + (int64_t)gp->n_input;
    for (size_t i = 0; i < flat->n; i++)
        cap += (int64_t)flat->node[i]->n_output;
    if ((int64_t)flat->n > ctx->max_nodes)
        return mr_error(ctx, MINIRT_ERR_LIMIT,
                        "the graph has %zu nodes, more than the limit of %lld", flat->n,
                        (long long)ctx->max_nodes);
    if (cap > 0x3fffffff || flat->n > 0x3fffffff)
        return mr_error(ctx, MINIRT_ERR_LIMIT, "graph has too many values (%lld)", (long long)cap);
    g->values = mr_calloc(ctx, (size_t)(cap ? cap : 1), sizeof(mr_value));
    g->cap_values = (int)(cap ? cap : 1);
    g->nodes = mr_calloc(ctx, flat->n ? flat->n : 1, sizeof(mr_node));
    g->inputs = mr_calloc(ctx, gp->n_input ? gp->n_input : 1, sizeof(int));
    g->outputs = mr_calloc(ctx, gp->n_output ? gp->n_output : 1, sizeof(int));
    if (!g->values || !g->nodes || !g->inputs || !g->outputs) return mr_nomem(ctx);
    mr_names names = {0, NULL};
    if ((st = mr_names_init(ctx, &names, cap)) != MINIRT_OK) return st;

    /* initializers */
    for (size_t i = 0; i < gp->n_initializer && st == MINIRT_OK; i++) {
        Onnx__TensorProto *tp = gp->initializer[i];
        const char *name = tp->name ? tp->name : "";
        int idx = -1;
        if (!name[0]) {
            st = mr_error(ctx, MINIRT_ERR_MODEL, "initializer #%zu has no name", i);
        } else if (mr_names_get(&names, g, name, -1) >= 0) {
            st = mr_error(ctx, MINIRT_ERR_MODEL, "initializer '%s' is defined twice", name);
        } else if ((st = mr_add_value(ctx, g, (int)cap, name, MR_VALUE_CONST, &idx)) == MINIRT_OK) {
            mr_names_get(&names, g, name, idx);
            /* raw bytes stripped from the skeleton are read from the source */
            const mr_raw_ref *ref = stripped && i < stripped->n_refs && stripped->refs[i].present
                                        ? &stripped->refs[i]
                                        : NULL;
            mr_raw_src raw = {src->data, src->fd, ref ? ref->offset : 0, ref ? ref->len : 0};
            st = mr_load_tensor(ctx, tp, name, ref ? &raw : NULL, &g->values[idx].t);
        }
    }

    /* graph inputs: those with an initializer keep it as their default; the rest are runtime inputs
     */
    for (size_t i = 0; i < gp->n_input && st == MINIRT_OK; i++) {
        const Onnx__ValueInfoProto *vi = gp->input[i];
        const char *name = vi->name ? vi->name : "";
        int idx = mr_names_get(&names, g, name, -1);
        if (!name[0]) {
            st = mr_error(ctx, MINIRT_ERR_MODEL, "graph input #%zu has no name", i);
        } else if (idx >= 0 && g->values[idx].kind == MR_VALUE_CONST) {
            continue;
        } else if (idx >= 0) {
            st = mr_error(ctx, MINIRT_ERR_MODEL, "graph input '%s' is listed twice", name);
        } else if ((st = mr_add_value(ctx, g, (int)cap, name, MR_VALUE_INPUT, &idx)) == MINIRT_OK) {
            mr_names_get(&names, g, name, idx);
            g->inputs[g->n_inputs++] = idx;
            st = mr_load_decl(ctx, vi, &g->values[idx]);
            mr_value *v = &g->values[idx];
            if (st == MINIRT_OK && (v->decl_dtype == 0 || v->decl_ndim < 0))
                st = mr_error(ctx, MINIRT_ERR_MODEL, "graph input '%s' has no tensor type or shape",
                              name);
            if (st == MINIRT_OK) {
                v->t.dtype = v->decl_dtype;
                v->t.ndim = v->decl_ndim;
                memcpy(v->t.dims, v->decl_dims, sizeof(v->t.dims));
            }
        }
    }

    /* nodes: Constant nodes become constants; every output name is defined exactly once */
    for (size_t i = 0; i < flat->n && st == MINIRT_OK; i++) {
        const Onnx__NodeProto *np = flat->node[i];
        const char *op_type = np->op_type ? np->op_type : "";
        const char *domain = np->domain ? np->domain : "";
        const char *label = np->name && np->name[0] ? np->name : "";
        for (size_t o = 0; o < np->n_output && st == MINIRT_OK; o++) {
            const char *on = np->output[o];
            int prev = on[0] ? mr_names_get(&names, g, on, -1) : -1;
            if (prev >= 0)
                st = mr_error(ctx, MINIRT_ERR_MODEL,
                              "node '%s' (%s): output '%s' is already defined (%s)", label, op_type,
                              on,
                              g->values[prev].producer >= 0            ? "by another node"
                              : g->values[prev].kind == MR_VALUE_INPUT ? "as a graph input"
                                                                       : "as an initializer");
        }
        if (st != MINIRT_OK) break;
        if (strcmp(op_type, "Constant") == 0 && mr_is_default_domain(domain)) {
            int idx = -1;
            if (np->n_output != 1 || !np->output[0][0]) {
                st = mr_error(ctx, MINIRT_ERR_MODEL, "node '%s' (Constant): needs one output",
                              label);
            } else if ((st = mr_add_value(ctx, g, (int)cap, np->output[0], MR_VALUE_CONST, &idx)) ==
                       MINIRT_OK) {
                mr_names_get(&names, g, np->output[0], idx);
                st = mr_load_constant(ctx, np, &g->values[idx].t);
            }
            continue;
        }
        mr_node *n = &g->nodes[g->n_nodes];
        n->index = g->n_nodes++;
        n->name = mr_strdup(ctx, np->name ? np->name : "");
        n->op_type = mr_strdup(ctx, op_type);
        n->domain = mr_strdup(ctx, domain);
        n->in = mr_calloc(ctx, np->n_input ? np->n_input : 1, sizeof(int));
        n->out = mr_calloc(ctx, np->n_output ? np->n_output : 1, sizeof(int));
        n->attr = mr_calloc(ctx, np->n_attribute ? np->n_attribute : 1, sizeof(mr_attr));
        if (!n->name || !n->op_type || !n->domain || !n->in || !n->out || !n->attr) {
            st = mr_nomem(ctx);
            break;
        }
        n->n_in = (int)np->n_input;
        n->n_out = (int)np->n_output;
        int64_t opset =
            flat->opset && flat->opset[i] >= 0 ? flat->opset[i] : mr_find_opset(g, domain);
        if (opset < 0) {
            st = mr_node_error(ctx, n, MINIRT_ERR_MODEL,
                               "the model imports no opset for domain '%s'",
                               domain[0] ? domain : "ai.onnx");
            break;
        }
        n->opset = opset > 0x7fffffff ? 0x7fffffff : (int)opset;
        for (size_t a = 0; a < np->n_attribute && st == MINIRT_OK; a++) {
            n->n_attr = (int)a + 1; /* counted first, so a half-loaded attribute is freed */
            st = mr_load_attr(ctx, np->attribute[a], label[0] ? label : "", &n->attr[a]);
        }
        for (size_t o = 0; o < np->n_output && st == MINIRT_OK; o++) {
            int idx = -1;
            if (np->output[o][0] && (st = mr_add_value(ctx, g, (int)cap, np->output[o],
                                                       MR_VALUE_ACTIVATION, &idx)) == MINIRT_OK) {
                mr_names_get(&names, g, np->output[o], idx);
                g->values[idx].producer = n->index;
            }
            n->out[o] = idx;
        }
    }

    /* node inputs, now that every name is known (the file need not be sorted) */
    for (size_t i = 0, k = 0; i < flat->n && st == MINIRT_OK; i++) {
        const Onnx__NodeProto *np = flat->node[i];
        if (strcmp(np->op_type ? np->op_type : "", "Constant") == 0 &&
            mr_is_default_domain(np->domain))
            continue;
        mr_node *n = &g->nodes[k++];
        for (size_t j = 0; j < np->n_input && st == MINIRT_OK; j++) {
            const char *in = np->input[j];
            n->in[j] = in[0] ? mr_names_get(&names, g, in, -1) : -1;
            if (in[0] && n->in[j] < 0)
                st = mr_node_error(ctx, n, MINIRT_ERR_MODEL, "input '%s' is not defined", in);
        }
    }

    /* graph outputs */
    for (size_t i = 0; i < gp->n_output && st == MINIRT_OK; i++) {
        const char *name = gp->output[i]->name ? gp->output[i]->name : "";
        int idx = mr_names_get(&names, g, name, -1);
        if (idx < 0) {
            st = mr_error(ctx, MINIRT_ERR_MODEL, "graph output '%s' is not produced by any node",
                          name);
            break;
        }
        g->outputs[g->n_outputs++] = idx;
        g->values[idx].is_output = true;
        if (g->values[idx].kind == MR_VALUE_ACTIVATION)
            st = mr_load_decl(ctx, gp->output[i], &g->values[idx]);
    }
    if (st == MINIRT_OK && g->n_outputs == 0)
        st = mr_error(ctx, MINIRT_ERR_MODEL, "graph has no outputs");
    mr_free(ctx, names.slot);
    return st;
}

mr_status mr_load_model(mr_ctx *ctx, const mr_source *src, mr_graph *g) {
    memset(g, 0, sizeof(*g));
    mr_pb_alloc_state state = {ctx, false};
    ProtobufCAllocator a = mr_pb_allocator(&state);
    /* protobuf-c recurses per nested message: bound the depth before it unpacks anything. */
    mr_status st = mr_wire_check(ctx, "ONNX model", src->data, src->size,
                                 &onnx__model_proto__descriptor, ctx->max_nesting);
    if (st != MINIRT_OK) return st;
    /* unpack a skeleton without the weights' bytes; they are read once, into place */
    mr_stripped stripped;
    if ((st = mr_strip_weights(ctx, src->data, src->size, &stripped)) != MINIRT_OK) return st;
    const uint8_t *bytes = stripped.skeleton ? stripped.skeleton : src->data;
    size_t size = stripped.skeleton ? stripped.skeleton_len : src->size;
    Onnx__ModelProto *mp = onnx__model_proto__unpack(&a, size, bytes);
    if (!mp) {
        mr_stripped_free(ctx, &stripped);
        if (state.failed) return mr_nomem(ctx);
        return mr_error(ctx, MINIRT_ERR_MODEL,
                        "not a valid ONNX model: protobuf parsing failed (%zu bytes; truncated or "
                        "not an .onnx file?)",
                        src->size);
    }
    if (!mp->graph) {
        st = mr_error(ctx, MINIRT_ERR_MODEL, "model has no graph");
    } else {
        mr_flat flat;
        st = mr_inline_functions(ctx, mp, &flat);
        if (st == MINIRT_OK)
            st = mr_load_graph(ctx, mp, &flat, src, stripped.skeleton ? &stripped : NULL, g);
        mr_flat_free(ctx, &flat);
    }
    onnx__model_proto__free_unpacked(mp, &a);
    mr_stripped_free(ctx, &stripped);
    return st;
}

void mr_node_free(mr_ctx *ctx, mr_node *n) {
    for (int a = 0; a < n->n_attr; a++)
        mr_attr_free(ctx, &n->attr[a]);
    mr_free(ctx, n->attr);
    mr_free(ctx, n->name);
    mr_free(ctx, n->op_type);
    mr_free(ctx, n->domain);
    mr_free(ctx, n->in);
    mr_free(ctx, n->out);
    if (n->op && n->op->release && n->params) n->op->release(ctx, n);
    mr_free(ctx, n->params);
    memset(n, 0, sizeof(*n));
}

mr_status mr_graph_add_const(mr_ctx *ctx, mr_graph *g, const char *base, int dtype, int ndim,
                             const int64_t *dims, int *idx) {
    int64_t bytes;
    mr_status st = mr_shape_bytes(ctx, dtype, ndim, dims, NULL, &bytes);
    if (st != MINIRT_OK) return st;
    if (g->n_values == g->cap_values) {
        int cap = g->cap_values ? 2 * g->cap_values : 16;
        mr_value *grown = mr_calloc(ctx, (size_t)cap, sizeof(mr_value));
        if (!grown) return mr_nomem(ctx);
        memcpy(grown, g->values, (size_t)g->n_values * sizeof(mr_value));
        mr_free(ctx, g->values);
        g->values = grown;
        g->cap_values = cap;
    }
    char name[300];
    snprintf(name, sizeof(name), "%.200s/folded#%d", base, g->n_values);
    mr_value *v = &g->values[g->n_values];
    memset(v, 0, sizeof(*v));
    v->name = mr_strdup(ctx, name);
    v->t.data = mr_alloc(ctx, bytes ? (size_t)bytes : 1);
    if (!v->name || !v->t.data) {
        mr_free(ctx, v->name);
        mr_free(ctx, v->t.data);
        return mr_nomem(ctx);
    }
    v->kind = MR_VALUE_CONST;
    v->producer = -1;
    v->decl_ndim = -1;
    v->t.dtype = dtype;
    v->t.ndim = ndim;
    memcpy(v->t.dims, dims, (size_t)ndim * sizeof(int64_t));
    *idx = g->n_values++;
    return MINIRT_OK;
}

void mr_graph_free(mr_ctx *ctx, mr_graph *g) {
    for (int i = 0; i < g->n_values; i++) {
        mr_value *v = &g->values[i];
        mr_free(ctx, v->name);
        if (v->kind == MR_VALUE_CONST) mr_free(ctx, v->t.data);
    }
    for (int i = 0; i < g->n_nodes; i++)
        mr_node_free(ctx, &g->nodes[i]);
    for (int i = 0; i < g->n_opsets; i++)
        mr_free(ctx, g->opset_domain[i]);
    mr_free(ctx, g->opset_domain);
    mr_free(ctx, g->ops_text);
    mr_free(ctx, g->opset_version);
    mr_free(ctx, g->values);
    mr_free(ctx, g->nodes);
    mr_free(ctx, g->inputs);
    mr_free(ctx, g->outputs);
    memset(g, 0, sizeof(*g));
}
