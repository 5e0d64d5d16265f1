#define _POSIX_C_SOURCE 200809L
/*
 * session.c - the public API and the session lifecycle.
 *
 * open = read -> parse (load.c) -> validate, sort, resolve kernels, prepare (graph.c)
 *        -> infer shapes -> plan memory -> ready.
 * run  = bind inputs -> (re-infer and re-plan only when an input shape changed) -> walk the nodes.
 *
 * Memory plan: every activation gets an offset in one arena. A value is live from the node that
 * produces it to the last node that reads it (graph outputs to the end); values whose lives overlap
 * get disjoint byte ranges, placed largest first at the lowest offset that fits. Runtime inputs are
 * used in place from the caller's buffer; constants live in the graph. One workspace, sized for the
 * node that needs the most, is shared by all nodes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mr.h"

struct minirt_session {
    mr_ctx ctx;
    mr_graph g;
    bool loaded;      /* the graph is valid and kernels are prepared */
    bool planned;     /* shapes and memory match the inputs' current dims */
    bool has_outputs; /* the last run succeeded */
    mr_tensor **io;   /* per node: n_in input pointers then n_out output pointers */
    int *io_start;    /* offset of each node's pointers in io */
    char *arena;
    size_t arena_size;
    char *ws;
    size_t ws_size;
    void **fold_data;     /* per value: storage of a value folded at plan time, else NULL */
    int *alias;           /* per value: the value whose arena slot it shares (in-place ops) */
    int *readers;         /* per value: node inputs reading it, graph outputs counting one more */
    char empty[MR_ALIGN]; /* the address given to an empty input bound without data */
    char *summary;        /* minirt_summary's text, made on first request */
    void **input_save;    /* per runtime input: its data pointer while infer runs */
    char **snap; /* per runtime input: copy of a small integer input's contents, else NULL */
    int64_t *snap_bytes; /* bytes held in snap[i]; -1 before the first run */
    int64_t *prof_start, *prof_dur, *prof_total; /* per node, when profiling (ns; -1 = not run) */
    int prof_runs;
    char *prof_table;
};

/*
 * Runtime inputs that feed an op's plan-time slots (see mr_plan_inputs_needed) are shape
 * parameters: their contents (at most this many elements) are copied at bind, are visible to infer,
 * and a change of contents re-plans, as a change of shape does. This is what lets a Reshape shape,
 * Resize scales or ReduceSum axes arrive as a graph input (as in ONNX's node tests).
 */
#define MR_SHAPE_INPUT_MAX 64

/* Largest model file read into memory (protobuf's own limit is 2 GiB). */
#define MR_MAX_MODEL_FILE ((int64_t)2 << 30)

void minirt_options_init(minirt_options *o) {
    if (!o) return;
    memset(o, 0, sizeof(*o));
    o->struct_size = sizeof(*o);
    o->optimize = 2;
}

const char *minirt_version(void) {
    return MINIRT_VERSION_STRING;
}

const char *minirt_status_string(minirt_status status) {
    switch (status) {
    case MINIRT_OK:
        return "ok";
    case MINIRT_ERR_ARGUMENT:
        return "invalid argument";
    case MINIRT_ERR_IO:
        return "I/O error";
    case MINIRT_ERR_MODEL:
        return "invalid model";
    case MINIRT_ERR_UNSUPPORTED:
        return "unsupported";
    case MINIRT_ERR_SHAPE:
        return "shape mismatch";
    case MINIRT_ERR_NOMEM:
        return "out of memory";
    case MINIRT_ERR_LIMIT:
        return "limit exceeded";
    case MINIRT_ERR_INTERNAL:
        return "internal error";
    }
    return "unknown status";
}

const char *minirt_errmsg(const minirt_session *s) {
    if (!s) return "out of memory: could not allocate the session";
    return s->ctx.err;
}

/* ---- planning ---- */

/* Free the values folded by the previous plan. */
static void mr_session_unfold(minirt_session *s) {
    for (int v = 0; v < s->g.n_values; v++) {
        if (!s->fold_data[v]) continue;
        mr_free(&s->ctx, s->fold_data[v]);
        s->fold_data[v] = NULL;
        s->g.values[v].folded = false;
    }
}

/* A node can run at plan time when every input it reads is known then: constants, values folded
 * earlier in this plan, or - for ops that read only their inputs' shapes - anything. */
static bool mr_node_foldable(const mr_graph *g, const mr_node *n) {
    if (n->op->flags & MR_OP_SHAPE_ONLY) return true;
    for (int j = 0; j < n->n_in; j++) {
        if (n->in[j] < 0) continue;
        const mr_value *v = &g->values[n->in[j]];
        if (v->kind != MR_VALUE_CONST && !v->folded && !v->value_known) return false;
    }
    return true;
}

/* Run a foldable node now, into buffers of its own that live until the next plan. */
static mr_status mr_session_fold(minirt_session *s, mr_node *n, mr_tensor **io) {
    mr_ctx *ctx = &s->ctx;
    for (int o = 0; o < n->n_out; o++) {
        int v = n->out[o];
        if (v < 0) continue;
        mr_value *val = &s->g.values[v];
        s->fold_data[v] = mr_alloc(ctx, val->nbytes ? (size_t)val->nbytes : 1);
        if (!s->fold_data[v]) return mr_nomem(ctx);
        val->t.data = s->fold_data[v];
        val->folded = true;
    }
    void *ws = NULL;
    if (n->workspace && !(ws = mr_alloc(ctx, n->workspace))) return mr_nomem(ctx);
    mr_status st = n->op->run(ctx, n, io, io + n->n_in, ws);
    mr_free(ctx, ws);
    n->folded = st == MINIRT_OK;
    return st;
}

/*
 * Infer every node's output shapes from the current input shapes and size the workspace. Nodes
 * whose inputs are all known at plan time (shape arithmetic such as Shape -> Gather -> Concat ->
 * Reshape, and anything computed from constants alone) are run here once and skipped by minirt_run.
 */
/* The constant inputs of n that n alone reads and that are not graph outputs (mr_node.own_inputs):
 * an op may take them over or have them freed. */
static uint32_t mr_session_own_inputs(const minirt_session *s, const mr_node *n) {
    uint32_t own = 0;
    for (int i = 0; i < n->n_in && i < 32; i++) {
        int v = n->in[i];
        if (v < 0) continue;
        const mr_value *val = &s->g.values[v];
        if (val->kind == MR_VALUE_CONST && !val->is_output && val->t.data && s->readers[v] == 1)
            own |= 1u << i;
    }
    return own;
}

/* Free the constant inputs node n asked to drop (mr_node.drop_inputs) among those it owns:
 * weights an op has transformed into a form of its own are then stored once. */
static void mr_session_drop(minirt_session *s, mr_node *n) {
    uint32_t drop = n->drop_inputs & mr_session_own_inputs(s, n);
    for (int i = 0; i < n->n_in && i < 32; i++) {
        if (!(drop & (1u << i))) continue;
        mr_value *val = &s->g.values[n->in[i]];
        mr_free(&s->ctx, val->t.data);
        val->t.data = NULL;
    }
    n->drop_inputs = 0;
}

static mr_status mr_session_infer(minirt_session *s) {
    mr_ctx *ctx = &s->ctx;
    mr_graph *g = &s->g;
    mr_status st = MINIRT_OK;
    s->planned = false;
    mr_session_unfold(s);
    /* Runtime inputs have no contents at plan time: infer sees only their shapes (except the
     * small integer inputs whose contents key the plan). */
    for (int i = 0; i < g->n_inputs; i++) {
        mr_value *v = &g->values[g->inputs[i]];
        s->input_save[i] = v->t.data;
        if (!v->value_known) v->t.data = NULL;
    }
    for (int i = 0; i < g->n_nodes && st == MINIRT_OK; i++) {
        mr_node *n = &g->nodes[i];
        mr_tensor **io = s->io + s->io_start[i];
        n->folded = false;
        for (int o = 0; o < n->n_out; o++) {
            if (!io[n->n_in + o]) continue;
            mr_tensor *t = io[n->n_in + o];
            t->data = NULL;
            t->ndim = 0;
            t->dtype = 0;
        }
        n->workspace = 0;
        n->drop_inputs = 0;
        n->own_inputs = mr_session_own_inputs(s, n);
        st = n->op->infer(ctx, n, io, io + n->n_in);
        if (st == MINIRT_OK && n->drop_inputs) mr_session_drop(s, n);
        for (int o = 0; o < n->n_out && st == MINIRT_OK; o++) {
            int v = n->out[o];
            if (v < 0) continue;
            mr_value *val = &g->values[v];
            st = mr_shape_bytes(ctx, val->t.dtype, val->t.ndim, val->t.dims, NULL, &val->nbytes);
            if (st != MINIRT_OK) {
                char msg[MR_ERRLEN];
                memcpy(msg, ctx->err, sizeof(msg));
                st = mr_node_error(ctx, n, st, "output '%s': %s", val->name, msg);
            }
        }
        if (st == MINIRT_OK && mr_node_foldable(g, n)) st = mr_session_fold(s, n, io);
    }
    for (int i = 0; i < g->n_inputs; i++)
        g->values[g->inputs[i]].t.data = s->input_save[i];
    return st;
}

typedef struct mr_slot {
    int value;
    int start, end; /* node indices, inclusive */
    size_t size;
    size_t offset;
} mr_slot;

static int mr_slot_by_size(const void *a, const void *b) {
    const mr_slot *x = a, *y = b;
    if (x->size != y->size) return x->size < y->size ? 1 : -1;
    return x->value - y->value;
}

static size_t mr_round_up(size_t n) {
    return (n + MR_ALIGN - 1) & ~(size_t)(MR_ALIGN - 1);
}

/* Place activations in the arena by lifetime, then (re)allocate arena and workspace if they grew.
 */
static mr_status mr_session_plan(minirt_session *s) {
    mr_ctx *ctx = &s->ctx;
    mr_graph *g = &s->g;
    mr_status st = MINIRT_OK;
    int n_act = 0;
    for (int v = 0; v < g->n_values; v++) {
        mr_value *val = &g->values[v];
        val->last_use = val->producer;
        if (val->is_output) val->last_use = g->n_nodes;
        if (val->kind == MR_VALUE_ACTIVATION && !val->folded) n_act++;
    }
    size_t ws = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const mr_node *n = &g->nodes[i];
        for (int j = 0; j < n->n_in; j++)
            if (n->in[j] >= 0 && g->values[n->in[j]].last_use < i) g->values[n->in[j]].last_use = i;
        if (n->workspace > ws) ws = n->workspace;
    }
    /* In place: an element-wise node's output takes its first input's buffer when that input is an
     * activation of the same size read by no later node; s->alias[v] is the value whose slot v
     * uses (itself for slot owners). */
    int *alias = s->alias;
    for (int v = 0; v < g->n_values; v++)
        alias[v] = v;
    for (int i = 0; i < g->n_nodes; i++) {
        const mr_node *n = &g->nodes[i];
        if (n->folded || !(n->op->flags & MR_OP_INPLACE) || n->n_in < 1 || n->n_out < 1) continue;
        int x = n->in[0], y = n->out[0];
        if (x < 0 || y < 0) continue;
        const mr_value *vx = &g->values[x], *vy = &g->values[y];
        if (vx->kind != MR_VALUE_ACTIVATION || vx->folded || vx->is_output || vx->last_use != i ||
            vy->kind != MR_VALUE_ACTIVATION || vy->folded || vx->nbytes != vy->nbytes)
            continue;
        bool read_twice = false; /* x must not also be another input of the node */
        for (int j = 1; j < n->n_in; j++)
            read_twice |= n->in[j] == x;
        if (read_twice) continue;
        alias[y] = alias[x];
        n_act--;
    }
    mr_slot *slots = mr_calloc(ctx, (size_t)(n_act ? n_act : 1), sizeof(mr_slot));
    mr_slot **placed = mr_calloc(ctx, (size_t)(n_act ? n_act : 1), sizeof(mr_slot *));
    int *slot_of = mr_calloc(ctx, (size_t)(g->n_values ? g->n_values : 1), sizeof(int));
    if (!slots || !placed || !slot_of) {
        mr_free(ctx, slot_of);
        st = mr_nomem(ctx);
        goto done;
    }
    int k = 0;
    for (int v = 0; v < g->n_values; v++) {
        mr_value *val = &g->values[v];
        if (val->kind != MR_VALUE_ACTIVATION || val->folded || alias[v] != v) continue;
        slot_of[v] = k;
        slots[k].value = v;
        slots[k].start = val->producer;
        slots[k].end = val->last_use;
        slots[k].size = mr_round_up((size_t)val->nbytes);
        k++;
    }
    /* a shared slot lives until its last member is read */
    for (int v = 0; v < g->n_values; v++) {
        if (alias[v] == v || g->values[v].kind != MR_VALUE_ACTIVATION || g->values[v].folded)
            continue;
        mr_slot *sl = &slots[slot_of[alias[v]]];
        if (g->values[v].last_use > sl->end) sl->end = g->values[v].last_use;
    }
    mr_free(ctx, slot_of);
    qsort(slots, (size_t)n_act, sizeof(mr_slot), mr_slot_by_size);
    size_t arena = 0;
    int n_placed = 0;
    for (int i = 0; i < n_act; i++) {
        mr_slot *sl = &slots[i];
        /* Lowest offset clear of every placed slot that is live at the same time: try 0, then the
         * end of each conflicting slot. */
        size_t best = 0;
        bool moved = true;
        while (moved) {
            moved = false;
            for (int j = 0; j < n_placed; j++) {
                const mr_slot *o = placed[j];
                if (o->end < sl->start || sl->end < o->start) continue;
                if (best < o->offset + o->size && o->offset < best + sl->size) {
                    best = o->offset + o->size;
                    moved = true;
                }
            }
        }
        sl->offset = best;
        placed[n_placed++] = sl;
        if (best + sl->size > arena) arena = best + sl->size;
    }
    /* never an empty arena: a tensor with no elements still gets a valid (unused) address */
    if (arena < MR_ALIGN) arena = MR_ALIGN;
    int64_t total;
    if (!mr_add_i64((int64_t)arena, (int64_t)ws, &total) || total > ctx->max_total_bytes) {
        st = mr_error(ctx, MINIRT_ERR_LIMIT,
                      "activations (%zu bytes) and workspace (%zu bytes) exceed the limit of %lld "
                      "bytes",
                      arena, ws, (long long)ctx->max_total_bytes);
        goto done;
    }
    if (arena > s->arena_size) {
        mr_free(ctx, s->arena);
        s->arena_size = 0;
        if (!(s->arena = mr_alloc(ctx, arena))) {
            st = mr_nomem(ctx);
            goto done;
        }
        s->arena_size = arena;
    }
    if (ws > s->ws_size) {
        mr_free(ctx, s->ws);
        s->ws_size = 0;
        if (!(s->ws = mr_alloc(ctx, ws))) {
            st = mr_nomem(ctx);
            goto done;
        }
        s->ws_size = ws;
    }
    for (int i = 0; i < n_act; i++)
        g->values[slots[i].value].t.data = s->arena + slots[i].offset;
    for (int v = 0; v < g->n_values; v++)
        if (alias[v] != v && g->values[v].kind == MR_VALUE_ACTIVATION && !g->values[v].folded)
            g->values[v].t.data = g->values[alias[v]].t.data;
    s->planned = true;
done:
    mr_free(ctx, slots);
    mr_free(ctx, placed);
    return st;
}

static bool mr_inputs_static(const mr_graph *g) {
    for (int i = 0; i < g->n_inputs; i++) {
        const mr_value *v = &g->values[g->inputs[i]];
        for (int d = 0; d < v->decl_ndim; d++)
            if (v->decl_dims[d] < 0) return false;
    }
    return true;
}

/*
 * Mark the values whose contents must be known when the plan is made: those read in an op's
 * plan-time input slots (mr_op.plan_inputs: a Reshape shape, Resize scales, ...), and, so that
 * their producers can be folded, every input of the nodes producing them, back to constants and
 * runtime inputs. Nodes are in topological order, so one backward pass suffices.
 */
static void mr_plan_inputs_needed(const mr_graph *g, bool *needed) {
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        const mr_node *n = &g->nodes[i];
        bool feeds = false;
        for (int o = 0; o < n->n_out; o++)
            feeds |= n->out[o] >= 0 && needed[n->out[o]];
        for (int j = 0; j < n->n_in; j++) {
            if (n->in[j] < 0) continue;
            bool slot = j < 32 && (n->op->plan_inputs >> j) & 1u;
            /* a shape-only op (Shape, Size) needs no contents from its input */
            if (slot || (feeds && !(n->op->flags & MR_OP_SHAPE_ONLY))) needed[n->in[j]] = true;
        }
    }
}

/* Build per-node tensor pointer arrays (absent optional values are NULL). */
static mr_status mr_session_wire(minirt_session *s) {
    mr_graph *g = &s->g;
    int64_t total = 0;
    for (int i = 0; i < g->n_nodes; i++)
        total += g->nodes[i].n_in + g->nodes[i].n_out;
    s->io = mr_calloc(&s->ctx, (size_t)(total ? total : 1), sizeof(mr_tensor *));
    s->io_start = mr_calloc(&s->ctx, (size_t)(g->n_nodes ? g->n_nodes : 1), sizeof(int));
    s->fold_data = mr_calloc(&s->ctx, (size_t)(g->n_values ? g->n_values : 1), sizeof(void *));
    s->alias = mr_calloc(&s->ctx, (size_t)(g->n_values ? g->n_values : 1), sizeof(int));
    s->readers = mr_calloc(&s->ctx, (size_t)(g->n_values ? g->n_values : 1), sizeof(int));
    if (!s->io || !s->io_start || !s->fold_data || !s->alias || !s->readers)
        return mr_nomem(&s->ctx);
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i].n_in; j++)
            if (g->nodes[i].in[j] >= 0) s->readers[g->nodes[i].in[j]]++;
    for (int i = 0; i < g->n_values; i++)
        if (g->values[i].is_output) s->readers[i]++;
    if (s->ctx.profile) {
        size_t nn = (size_t)(g->n_nodes ? g->n_nodes : 1);
        s->prof_start = mr_calloc(&s->ctx, nn, sizeof(int64_t));
        s->prof_dur = mr_calloc(&s->ctx, nn, sizeof(int64_t));
        s->prof_total = mr_calloc(&s->ctx, nn, sizeof(int64_t));
        if (!s->prof_start || !s->prof_dur || !s->prof_total) return mr_nomem(&s->ctx);
    }
    size_t ni = (size_t)(g->n_inputs ? g->n_inputs : 1);
    s->input_save = mr_calloc(&s->ctx, ni, sizeof(void *));
    s->snap = mr_calloc(&s->ctx, ni, sizeof(char *));
    s->snap_bytes = mr_calloc(&s->ctx, ni, sizeof(int64_t));
    if (!s->input_save || !s->snap || !s->snap_bytes) return mr_nomem(&s->ctx);
    bool *needed = mr_calloc(&s->ctx, (size_t)(g->n_values ? g->n_values : 1), sizeof(bool));
    if (!needed) return mr_nomem(&s->ctx);
    mr_plan_inputs_needed(g, needed);
    for (int i = 0; i < g->n_inputs; i++) {
        s->snap_bytes[i] = -1;
        if (!needed[g->inputs[i]]) continue;
        if (!(s->snap[i] = mr_alloc(&s->ctx, MR_SHAPE_INPUT_MAX * sizeof(int64_t)))) {
            mr_free(&s->ctx, needed);
            return mr_nomem(&s->ctx);
        }
    }
    mr_free(&s->ctx, needed);
    int k = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const mr_node *n = &g->nodes[i];
        s->io_start[i] = k;
        for (int j = 0; j < n->n_in; j++, k++)
            s->io[k] = n->in[j] >= 0 ? &g->values[n->in[j]].t : NULL;
        for (int j = 0; j < n->n_out; j++, k++)
            s->io[k] = n->out[j] >= 0 ? &g->values[n->out[j]].t : NULL;
    }
    return MINIRT_OK;
}

/* ---- open / close ---- */

static minirt_status mr_session_new(const minirt_options *options, minirt_session **out) {
    mr_ctx ctx;
    mr_ctx_init(&ctx, options);
    minirt_session *s = mr_alloc(&ctx, sizeof(*s));
    *out = s;
    if (!s) return MINIRT_ERR_NOMEM;
    memset(s, 0, sizeof(*s));
    s->ctx = ctx;
    return MINIRT_OK;
}

static minirt_status mr_session_load(minirt_session *s, const mr_source *src) {
    mr_ctx *ctx = &s->ctx;
    mr_status st = mr_pool_create(ctx, ctx->threads, &ctx->pool);
    if (st == MINIRT_OK) st = mr_load_model(ctx, src, &s->g);
    if (st == MINIRT_OK) st = mr_graph_validate(ctx, &s->g);
    if (st == MINIRT_OK) st = mr_session_wire(s);
    if (st == MINIRT_OK) s->loaded = true;
    /* With fully static input shapes (and no shape parameters among the inputs), shapes and memory
     * are settled now, so errors show at open. */
    bool keyed = false;
    for (int i = 0; st == MINIRT_OK && i < s->g.n_inputs; i++)
        keyed |= s->snap[i] != NULL;
    if (st == MINIRT_OK && !keyed && mr_inputs_static(&s->g)) {
        st = mr_session_infer(s);
        if (st == MINIRT_OK) st = mr_session_plan(s);
    }
    if (st == MINIRT_OK)
        ctx->err[0] = '\0';
    else
        s->loaded = false;
    return st;
}

minirt_status minirt_open_memory(const void *data, size_t size, const minirt_options *options,
                                 minirt_session **out) {
    if (!out) return MINIRT_ERR_ARGUMENT;
    minirt_status st = mr_session_new(options, out);
    if (st != MINIRT_OK) return st;
    if (!data) return mr_error(&(*out)->ctx, MINIRT_ERR_ARGUMENT, "model data is NULL");
    mr_source src = {data, size, -1};
    return mr_session_load(*out, &src);
}

minirt_status minirt_open(const char *path, const minirt_options *options, minirt_session **out) {
    if (!out) return MINIRT_ERR_ARGUMENT;
    minirt_status st = mr_session_new(options, out);
    if (st != MINIRT_OK) return st;
    minirt_session *s = *out;
    mr_ctx *ctx = &s->ctx;
    if (!path) return mr_error(ctx, MINIRT_ERR_ARGUMENT, "model path is NULL");
    /* The file is mapped, not read: the loader touches only the pages holding the model's structure
     * and reads the weights' bytes with pread straight into their buffers (strip.c), so the file
     * never counts twice against memory. */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return mr_error(ctx, MINIRT_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return mr_error(ctx, MINIRT_ERR_IO, "cannot read '%s': not a regular file", path);
    }
    if ((int64_t)sb.st_size > MR_MAX_MODEL_FILE) {
        close(fd);
        return mr_error(ctx, MINIRT_ERR_LIMIT,
                        "'%s' is %lld bytes, larger than the 2 GiB protobuf limit", path,
                        (long long)sb.st_size);
    }
    size_t len = (size_t)sb.st_size;
    void *map = len ? mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
    if (len && map == MAP_FAILED) {
        close(fd);
        return mr_error(ctx, MINIRT_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
    }
    mr_source src = {len ? map : (const uint8_t *)"", len, fd};
    /* External data is found relative to the model's directory. */
    const char *slash = strrchr(path, '/');
    char *dir = slash ? mr_strndup(ctx, path, slash == path ? 1 : (size_t)(slash - path))
                      : mr_strdup(ctx, ".");
    if (!dir) {
        st = mr_nomem(ctx);
    } else {
        ctx->model_dir = dir;
        st = mr_session_load(s, &src);
        ctx->model_dir = NULL;
        mr_free(ctx, dir);
    }
    if (len) munmap(map, len);
    close(fd);
    if (st != MINIRT_OK && strncmp(ctx->err, path, strlen(path)) != 0) {
        char msg[MR_ERRLEN];
        memcpy(msg, ctx->err, sizeof(msg));
        mr_error(ctx, st, "%s: %s", path, msg);
    }
    return st;
}

void minirt_close(minirt_session *s) {
    if (!s) return;
    mr_ctx ctx = s->ctx;
    mr_pool_destroy(&ctx, ctx.pool);
    if (s->fold_data) mr_session_unfold(s);
    mr_free(&ctx, s->fold_data);
    mr_free(&ctx, s->alias);
    mr_free(&ctx, s->readers);
    for (int i = 0; s->snap && i < s->g.n_inputs; i++)
        mr_free(&ctx, s->snap[i]);
    mr_graph_free(&ctx, &s->g);
    mr_free(&ctx, s->io);
    mr_free(&ctx, s->io_start);
    mr_free(&ctx, s->arena);
    mr_free(&ctx, s->ws);
    mr_free(&ctx, s->summary);
    mr_free(&ctx, s->snap);
    mr_free(&ctx, s->snap_bytes);
    mr_free(&ctx, s->input_save);
    mr_free(&ctx, s->prof_start);
    mr_free(&ctx, s->prof_dur);
    mr_free(&ctx, s->prof_total);
    mr_free(&ctx, s->prof_table);
    mr_problems_clear(&ctx);
    mr_free(&ctx, s);
}

size_t minirt_problem_count(const minirt_session *s) {
    return s ? (size_t)s->ctx.n_problems : 0;
}

const char *minirt_problem(const minirt_session *s, size_t i) {
    if (!s || i >= (size_t)s->ctx.n_problems) return NULL;
    if (i >= MR_MAX_PROBLEMS) return "(further problems not kept)";
    return s->ctx.problems[i];
}

/* Append printf-style text to buf (capacity cap, used *len); truncates silently. */
static void mr_append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void mr_append(char *buf, size_t cap, size_t *len, const char *fmt, ...) {
    if (*len >= cap) return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(buf + *len, cap - *len, fmt, ap);
    va_end(ap);
    if (w > 0) *len = *len + (size_t)w < cap ? *len + (size_t)w : cap - 1;
}

const char *minirt_summary(minirt_session *s) {
    if (!s || !s->loaded) return NULL;
    if (s->summary) return s->summary;
    const mr_graph *g = &s->g;
    const size_t cap = 4096;
    char *buf = mr_alloc(&s->ctx, cap);
    if (!buf) return NULL;
    size_t len = 0;
    buf[0] = '\0';
    /* nodes, ops and parameters as in the file (counted before optimization) */
    int64_t params = g->n_params;
    mr_append(buf, cap, &len, "%s", g->ops_text ? g->ops_text : "");
    mr_append(buf, cap, &len, "; %lld parameters; inputs:", (long long)params);
    for (int i = 0; i < g->n_inputs; i++) {
        const mr_value *v = &g->values[g->inputs[i]];
        mr_append(buf, cap, &len, "%s %s %s [", i ? "," : "", v->name,
                  mr_dtype_name(v->decl_dtype));
        for (int d = 0; d < v->decl_ndim; d++) {
            if (v->decl_dims[d] < 0)
                mr_append(buf, cap, &len, "%s?", d ? "," : "");
            else
                mr_append(buf, cap, &len, "%s%lld", d ? "," : "", (long long)v->decl_dims[d]);
        }
        mr_append(buf, cap, &len, "]");
    }
    mr_append(buf, cap, &len, "; outputs:");
    for (int i = 0; i < g->n_outputs; i++)
        mr_append(buf, cap, &len, "%s %s", i ? "," : "", g->values[g->outputs[i]].name);
    s->summary = buf;
    return buf;
}

/* ---- inputs, outputs, run ---- */

size_t minirt_input_count(const minirt_session *s) {
    return s && s->loaded ? (size_t)s->g.n_inputs : 0;
}

size_t minirt_output_count(const minirt_session *s) {
    return s && s->loaded ? (size_t)s->g.n_outputs : 0;
}

minirt_status minirt_get_input_info(minirt_session *s, size_t i, minirt_tensor *info) {
    if (!s || !info) return MINIRT_ERR_ARGUMENT;
    if (!s->loaded || i >= (size_t)s->g.n_inputs)
        return mr_error(&s->ctx, MINIRT_ERR_ARGUMENT, "input index %zu out of range (model has %d)",
                        i, s->loaded ? s->g.n_inputs : 0);
    const mr_value *v = &s->g.values[s->g.inputs[i]];
    info->name = v->name;
    info->dtype = (minirt_dtype)v->decl_dtype;
    info->ndim = (size_t)v->decl_ndim;
    info->dims = v->decl_dims;
    info->data = NULL;
    return MINIRT_OK;
}

minirt_status minirt_get_output_info(minirt_session *s, size_t i, minirt_tensor *info) {
    if (!s || !info) return MINIRT_ERR_ARGUMENT;
    if (!s->loaded || i >= (size_t)s->g.n_outputs)
        return mr_error(&s->ctx, MINIRT_ERR_ARGUMENT,
                        "output index %zu out of range (model has %d)", i,
                        s->loaded ? s->g.n_outputs : 0);
    const mr_value *v = &s->g.values[s->g.outputs[i]];
    info->name = v->name;
    info->dtype = (minirt_dtype)v->decl_dtype;
    info->ndim = v->decl_ndim < 0 ? 0 : (size_t)v->decl_ndim;
    info->dims = v->decl_ndim < 0 ? NULL : v->decl_dims;
    info->data = NULL;
    return MINIRT_OK;
}

minirt_status minirt_get_output(minirt_session *s, size_t i, minirt_tensor *out) {
    if (!s || !out) return MINIRT_ERR_ARGUMENT;
    if (!s->loaded || i >= (size_t)s->g.n_outputs)
        return mr_error(&s->ctx, MINIRT_ERR_ARGUMENT,
                        "output index %zu out of range (model has %d)", i,
                        s->loaded ? s->g.n_outputs : 0);
    if (!s->has_outputs)
        return mr_error(&s->ctx, MINIRT_ERR_ARGUMENT,
                        "no outputs: the session has not run, or its last run failed");
    const mr_value *v = &s->g.values[s->g.outputs[i]];
    out->name = v->name;
    out->dtype = v->t.dtype;
    out->ndim = (size_t)v->t.ndim;
    out->dims = v->t.dims;
    out->data = v->t.data;
    return MINIRT_OK;
}

/* Check one caller tensor against the declared input and bind it; *changed when the shape moved. */
static mr_status mr_bind(minirt_session *s, int idx, const minirt_tensor *t, bool *changed) {
    mr_value *v = &s->g.values[s->g.inputs[idx]];
    mr_ctx *ctx = &s->ctx;
    char want[160], got[160];
    if ((int)t->dtype != v->decl_dtype)
        return mr_error(ctx, MINIRT_ERR_ARGUMENT, "input '%s': expected %s, got %s", v->name,
                        mr_dtype_name(v->decl_dtype), mr_dtype_name(t->dtype));
    if (t->ndim > MR_MAX_DIMS || (int)t->ndim != v->decl_ndim || (t->ndim && !t->dims))
        return mr_error(ctx, MINIRT_ERR_SHAPE, "input '%s': expected rank %d (%s), got rank %zu",
                        v->name, v->decl_ndim,
                        mr_dims_str(want, sizeof(want), v->decl_ndim, v->decl_dims), t->ndim);
    for (size_t d = 0; d < t->ndim; d++)
        if (t->dims[d] < 0 || (v->decl_dims[d] >= 0 && t->dims[d] != v->decl_dims[d]))
            return mr_error(ctx, MINIRT_ERR_SHAPE, "input '%s': expected shape %s, got %s", v->name,
                            mr_dims_str(want, sizeof(want), v->decl_ndim, v->decl_dims),
                            mr_dims_str(got, sizeof(got), (int)t->ndim, t->dims));
    int64_t bytes;
    mr_status st = mr_shape_bytes(ctx, t->dtype, (int)t->ndim, t->dims, NULL, &bytes);
    if (st != MINIRT_OK) return st;
    if (!t->data && bytes > 0)
        return mr_error(ctx, MINIRT_ERR_ARGUMENT, "input '%s': data is NULL", v->name);
    if (memcmp(v->t.dims, t->dims, t->ndim * sizeof(int64_t)) != 0) {
        memcpy(v->t.dims, t->dims, t->ndim * sizeof(int64_t));
        *changed = true;
    }
    v->nbytes = bytes;
    v->value_known = s->snap[idx] && bytes <= (int64_t)(MR_SHAPE_INPUT_MAX * sizeof(int64_t));
    if (v->value_known) {
        /* a shape parameter: the plan depends on its contents */
        if (bytes != s->snap_bytes[idx] ||
            (bytes && memcmp(s->snap[idx], t->data, (size_t)bytes))) {
            if (bytes) memcpy(s->snap[idx], t->data, (size_t)bytes);
            s->snap_bytes[idx] = bytes;
            *changed = true;
        }
        v->t.data = s->snap[idx];
        return MINIRT_OK;
    }
    /* Inputs are only ever read by kernels. An empty one may come without data: give kernels a
     * valid address anyway (they read nothing from it). */
    v->t.data = t->data ? (void *)(uintptr_t)t->data : (void *)s->empty;
    return MINIRT_OK;
}

static int64_t mr_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The node walk of minirt_run, timing each node. */
static minirt_status mr_session_run_profiled(minirt_session *s) {
    mr_graph *g = &s->g;
    int64_t t0 = mr_now_ns();
    for (int i = 0; i < g->n_nodes; i++) {
        const mr_node *nd = &g->nodes[i];
        s->prof_dur[i] = -1;
        if (nd->folded) continue;
        mr_tensor **io = s->io + s->io_start[i];
        int64_t a = mr_now_ns();
        mr_status st = nd->op->run(&s->ctx, nd, io, io + nd->n_in, s->ws);
        int64_t b = mr_now_ns();
        if (st != MINIRT_OK) return st;
        s->prof_start[i] = a - t0;
        s->prof_dur[i] = b - a;
    }
    /* totals cover the runs since the last plan */
    for (int i = 0; i < g->n_nodes; i++)
        s->prof_total[i] = s->prof_runs && s->prof_total[i] >= 0 ? s->prof_total[i] + s->prof_dur[i]
                                                                 : s->prof_dur[i];
    s->prof_runs++;
    s->has_outputs = true;
    s->ctx.err[0] = '\0';
    return MINIRT_OK;
}

minirt_status minirt_profile_write_trace(minirt_session *s, const char *path) {
    if (!s) return MINIRT_ERR_ARGUMENT;
    if (!s->prof_dur || !s->prof_runs || !path)
        return mr_error(&s->ctx, MINIRT_ERR_ARGUMENT,
                        "no profile: open the session with options.profile set and run it");
    return mr_profile_trace(&s->ctx, &s->g, s->prof_start, s->prof_dur, path);
}

const char *minirt_profile_summary(minirt_session *s) {
    if (!s || !s->prof_total || !s->prof_runs) return NULL;
    mr_free(&s->ctx, s->prof_table);
    s->prof_table = mr_profile_table(&s->ctx, &s->g, s->prof_total, s->prof_runs);
    return s->prof_table;
}

minirt_status minirt_run(minirt_session *s, const minirt_tensor *inputs, size_t n) {
    if (!s) return MINIRT_ERR_ARGUMENT;
    mr_ctx *ctx = &s->ctx;
    mr_graph *g = &s->g;
    s->has_outputs = false;
    if (!s->loaded)
        return mr_error(ctx, MINIRT_ERR_ARGUMENT, "the session did not open successfully");
    if (n != (size_t)g->n_inputs || (n && !inputs))
        return mr_error(ctx, MINIRT_ERR_ARGUMENT, "the model takes %d input%s, %zu given",
                        g->n_inputs, g->n_inputs == 1 ? "" : "s", n);
    bool changed = false;
    for (int i = 0; i < g->n_inputs; i++)
        g->values[g->inputs[i]].bound = false;
    for (size_t i = 0; i < n; i++) {
        const minirt_tensor *t = &inputs[i];
        int idx = -1;
        if (t->name) {
            for (int j = 0; j < g->n_inputs; j++)
                if (strcmp(g->values[g->inputs[j]].name, t->name) == 0) idx = j;
            if (idx < 0)
                return mr_error(ctx, MINIRT_ERR_ARGUMENT, "the model has no input '%s'", t->name);
        } else {
            idx = (int)i;
        }
        mr_value *v = &g->values[g->inputs[idx]];
        if (v->bound)
            return mr_error(ctx, MINIRT_ERR_ARGUMENT, "input '%s' is bound twice", v->name);
        mr_status st = mr_bind(s, idx, t, &changed);
        if (st != MINIRT_OK) return st;
        v->bound = true;
    }
    if (changed || !s->planned) {
        mr_status st = mr_session_infer(s);
        if (st == MINIRT_OK) st = mr_session_plan(s);
        if (st != MINIRT_OK) return st;
        s->prof_runs = 0;
    }
    /* the kernels split the work over the session's threads; each GEMM runs on one */
    if (ctx->threads > 0) mr_blas_set_threads(1);
    if (s->prof_dur) return mr_session_run_profiled(s);
    for (int i = 0; i < g->n_nodes; i++) {
        const mr_node *nd = &g->nodes[i];
        if (nd->folded) continue;
        mr_tensor **io = s->io + s->io_start[i];
        mr_status st = nd->op->run(ctx, nd, io, io + nd->n_in, s->ws);
        if (st != MINIRT_OK) return st;
    }
    s->has_outputs = true;
    ctx->err[0] = '\0';
    return MINIRT_OK;
}
