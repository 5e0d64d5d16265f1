/*
 * optimize.c - graph rewrites at open, by level (minirt_options.optimize, like onnxruntime's
 * levels):
 *
 *   0  run the graph as written (for debugging);
 *   1  remove Identity and inference Dropout nodes (their consumers read the input directly);
 *      nodes computable from constants and input shapes are folded at plan time at every level
 *      (session.c);
 *   2  (default) also fuse into Conv: a following BatchNormalization (folded into W and B), a
 *      residual Add, and an activation - Relu, Clip (ReLU6), LeakyRelu, Sigmoid, HardSigmoid,
 *      HardSwish, or SiLU written as Sigmoid followed by Mul with the same input.
 *
 * A rewrite only happens when the value it hides has no other reader and is not a graph output, and
 * when every removed node is one minirt implements at its opset (so --check still reports what
 * would not run). Runs after the topological sort and before kernels are resolved; removed nodes
 * are compacted out at the end.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mr.h"

typedef struct mr_opt {
    mr_ctx *ctx;
    mr_graph *g;
    int *readers; /* per value: how many node inputs read it (graph outputs count as one more) */
    int *reader;  /* per value: one node reading it */
    bool *dead;   /* per node: removed */
    int n_removed;
} mr_opt;

static bool mr_opt_is(const mr_node *n, const char *op_type) {
    return (!n->domain[0] || strcmp(n->domain, "ai.onnx") == 0) && strcmp(n->op_type, op_type) == 0;
}

/* The op is implemented at the node's opset (a fused-away node must be one minirt could run). */
static bool mr_opt_known(const mr_node *n) {
    bool known;
    return mr_registry_find(n->domain, n->op_type, n->opset, &known) != NULL;
}

/* The single node reading value v, or NULL when v has other readers or is a graph output. */
static mr_node *mr_opt_sole_reader(mr_opt *o, int v) {
    if (v < 0 || o->readers[v] != 1 || o->g->values[v].is_output) return NULL;
    mr_node *r = &o->g->nodes[o->reader[v]];
    return o->dead[r->index] ? NULL : r;
}

static const mr_value *mr_opt_const(const mr_opt *o, const mr_node *n, int j) {
    if (j >= n->n_in || n->in[j] < 0) return NULL;
    const mr_value *v = &o->g->values[n->in[j]];
    return v->kind == MR_VALUE_CONST ? v : NULL;
}

static bool mr_opt_scalar_f32(const mr_value *v, float *out) {
    if (!v || v->t.dtype != MINIRT_FLOAT32 || mr_numel(&v->t) != 1) return false;
    *out = *(const float *)v->t.data;
    return true;
}

static void mr_opt_remove(mr_opt *o, mr_node *n) {
    o->dead[n->index] = true;
    o->n_removed++;
}

/* The activation node n as an epilogue, or false when it is not one we fuse. */
static bool mr_opt_activation(mr_opt *o, const mr_node *n, mr_epilogue *e) {
    if (!mr_opt_known(n) || n->n_out != 1) return false;
    memset(e, 0, sizeof(*e));
    mr_ctx *ctx = o->ctx;
    char saved[MR_ERRLEN];
    memcpy(saved, ctx->err, sizeof(saved));
    bool ok = true;
    if (mr_opt_is(n, "Relu")) {
        e->act = MR_ACT_RELU;
    } else if (mr_opt_is(n, "LeakyRelu")) {
        e->act = MR_ACT_LEAKY_RELU;
        ok = mr_attr_float(ctx, n, "alpha", 0.01f, &e->alpha) == MINIRT_OK;
    } else if (mr_opt_is(n, "Sigmoid")) {
        e->act = MR_ACT_SIGMOID;
    } else if (mr_opt_is(n, "HardSigmoid")) {
        e->act = MR_ACT_HARD_SIGMOID;
        ok = mr_attr_float(ctx, n, "alpha", 0.2f, &e->alpha) == MINIRT_OK &&
             mr_attr_float(ctx, n, "beta", 0.5f, &e->beta) == MINIRT_OK;
    } else if (mr_opt_is(n, "HardSwish")) {
        e->act = MR_ACT_HARD_SWISH;
    } else if (mr_opt_is(n, "Clip")) {
        /* bounds: attributes before opset 11, optional constant scalar inputs from 11 */
        e->act = MR_ACT_CLIP;
        e->alpha = -INFINITY;
        e->beta = INFINITY;
        if (n->opset < 11) {
            ok = mr_attr_float(ctx, n, "min", -INFINITY, &e->alpha) == MINIRT_OK &&
                 mr_attr_float(ctx, n, "max", INFINITY, &e->beta) == MINIRT_OK;
        } else {
            for (int j = 1; j < 3 && ok; j++) {
                if (j >= n->n_in || n->in[j] < 0) continue;
                ok = mr_opt_scalar_f32(mr_opt_const(o, n, j), j == 1 ? &e->alpha : &e->beta);
            }
        }
    } else {
        ok = false;
    }
    memcpy(ctx->err, saved, sizeof(saved)); /* a bad attribute is reported when the node is kept */
    return ok;
}

/*
 * Conv -> BatchNormalization (inference) with constant weights and statistics: scale each output
 * channel's weights and fold the shift into the bias,
 *     s = scale / sqrt(var + eps);  W'[m] = W[m] * s[m];  B'[m] = (B[m] - mean[m]) * s[m] +
 * bias[m]. W (and B) are rewritten in place, so they must have no other reader; a Conv without B
 * gets one.
 */
static mr_status mr_opt_fold_bn(mr_opt *o, mr_node *conv, mr_node *bn, bool *done) {
    *done = false;
    mr_graph *g = o->g;
    if (!mr_opt_known(bn) || bn->opset < 7 || bn->n_out != 1 || bn->n_in != 5) return MINIRT_OK;
    const mr_attr *a = mr_attr_find(bn, "training_mode");
    if (a && (a->type != MR_ATTR_INT || a->i != 0)) return MINIRT_OK;
    a = mr_attr_find(bn, "spatial");
    if (a && (a->type != MR_ATTR_INT || a->i != 1)) return MINIRT_OK;
    const mr_value *W = mr_opt_const(o, conv, 1);
    const mr_value *Bc = conv->n_in > 2 ? mr_opt_const(o, conv, 2) : NULL;
    if (!W || W->t.dtype != MINIRT_FLOAT32 || W->t.ndim < 3 || o->readers[conv->in[1]] != 1)
        return MINIRT_OK;
    if (conv->n_in > 2 && conv->in[2] >= 0 && (!Bc || o->readers[conv->in[2]] != 1))
        return MINIRT_OK;
    int64_t M = W->t.dims[0];
    const mr_value *p[4];
    for (int j = 0; j < 4; j++) {
        p[j] = mr_opt_const(o, bn, j + 1);
        if (!p[j] || p[j]->t.dtype != MINIRT_FLOAT32 || mr_numel(&p[j]->t) != M) return MINIRT_OK;
    }
    if (Bc && (Bc->t.dtype != MINIRT_FLOAT32 || mr_numel(&Bc->t) != M)) return MINIRT_OK;
    float eps;
    if (mr_attr_float(o->ctx, bn, "epsilon", 1e-5f, &eps) != MINIRT_OK) return MINIRT_OK;

    /* a bias for a Conv that has none: a new constant value */
    int b_idx = Bc ? conv->in[2] : -1;
    if (b_idx < 0) {
        mr_status st = mr_graph_add_const(o->ctx, g, conv->name, MINIRT_FLOAT32, 1, &M, &b_idx);
        if (st != MINIRT_OK) return st;
        memset(g->values[b_idx].t.data, 0, (size_t)M * sizeof(float));
        if (conv->n_in < 3) {
            /* in[] was allocated for the file's inputs; grow it */
            int *in = mr_calloc(o->ctx, 4, sizeof(int));
            if (!in) return mr_nomem(o->ctx);
            in[0] = conv->in[0];
            in[1] = conv->in[1];
            in[3] = -1;
            mr_free(o->ctx, conv->in);
            conv->in = in;
            conv->n_in = 3;
        }
        conv->in[2] = b_idx;
        o->readers[b_idx] = 1;
        o->reader[b_idx] = conv->index;
        W = &g->values[conv->in[1]]; /* values may have moved */
        for (int j = 0; j < 4; j++)
            p[j] = &g->values[bn->in[j + 1]];
    }
    float *w = W->t.data, *b = g->values[b_idx].t.data;
    const float *scale = p[0]->t.data, *shift = p[1]->t.data, *mean = p[2]->t.data,
                *var = p[3]->t.data;
    int64_t per = mr_numel(&W->t) / (M ? M : 1);
    for (int64_t m = 0; m < M; m++) {
        double s = (double)scale[m] / sqrt((double)var[m] + (double)eps);
        for (int64_t i = 0; i < per; i++)
            w[m * per + i] = (float)(w[m * per + i] * s);
        b[m] = (float)(((double)b[m] - mean[m]) * s + shift[m]);
    }
    conv->out[0] = bn->out[0];
    g->values[bn->out[0]].producer = conv->index;
    for (int j = 0; j < bn->n_in; j++)
        if (bn->in[j] >= 0) o->readers[bn->in[j]]--;
    mr_opt_remove(o, bn);
    *done = true;
    return MINIRT_OK;
}

/* Give conv a fourth input (the residual) after X, W and B (B may be absent: -1). */
static mr_status mr_opt_add_residual(mr_opt *o, mr_node *conv, int r) {
    int *in = mr_calloc(o->ctx, 4, sizeof(int));
    if (!in) return mr_nomem(o->ctx);
    for (int j = 0; j < 3; j++)
        in[j] = j < conv->n_in ? conv->in[j] : -1;
    in[3] = r;
    mr_free(o->ctx, conv->in);
    conv->in = in;
    conv->n_in = 4;
    conv->fuse.residual = 3;
    return MINIRT_OK;
}

static mr_status mr_opt_fuse_conv(mr_opt *o, mr_node *conv) {
    mr_graph *g = o->g;
    if (conv->n_out != 1 || conv->out[0] < 0 || conv->n_in > 3) return MINIRT_OK;
    mr_node *next = mr_opt_sole_reader(o, conv->out[0]);

    /* BatchNormalization */
    if (next && mr_opt_is(next, "BatchNormalization") && next->in[0] == conv->out[0]) {
        bool done;
        mr_status st = mr_opt_fold_bn(o, conv, next, &done);
        if (st != MINIRT_OK) return st;
        if (done) next = mr_opt_sole_reader(o, conv->out[0]);
    }

    /* residual Add (numpy broadcasting: opset 7 on) */
    int r =
        next && next->n_in == 2 ? (next->in[0] == conv->out[0] ? next->in[1] : next->in[0]) : -1;
    /* the other operand must exist before the Conv runs (else the later producer takes the Add) */
    if (next && mr_opt_is(next, "Add") && next->opset >= 7 && mr_opt_known(next) &&
        next->n_out == 1 && r >= 0 && r != conv->out[0] && g->values[r].producer < conv->index) {
        mr_status st = mr_opt_add_residual(o, conv, r);
        if (st != MINIRT_OK) return st;
        o->reader[r] = conv->index;
        conv->out[0] = next->out[0];
        g->values[next->out[0]].producer = conv->index;
        mr_opt_remove(o, next);
        next = mr_opt_sole_reader(o, conv->out[0]);
    }

    /* an activation */
    mr_epilogue e;
    int y = conv->out[0];
    if (next && next->in[0] == y && mr_opt_activation(o, next, &e)) {
        conv->fuse.epi = e;
        conv->out[0] = next->out[0];
        g->values[next->out[0]].producer = conv->index;
        mr_opt_remove(o, next);
        return MINIRT_OK;
    }

    /* SiLU: y read by exactly Sigmoid(y) and Mul(y, sigmoid) */
    if (o->readers[y] == 2 && !g->values[y].is_output) {
        mr_node *sig = NULL, *mul = NULL;
        for (int i = conv->index + 1; i < g->n_nodes && !(sig && mul); i++) {
            mr_node *n = &g->nodes[i];
            if (o->dead[i]) continue;
            for (int j = 0; j < n->n_in; j++)
                if (n->in[j] == y) {
                    if (mr_opt_is(n, "Sigmoid"))
                        sig = n;
                    else if (mr_opt_is(n, "Mul"))
                        mul = n;
                }
        }
        if (sig && mul && sig->n_out == 1 && mul->n_in == 2 && mul->n_out == 1 &&
            mr_opt_known(sig) && mr_opt_known(mul) && mul->opset >= 7 &&
            o->readers[sig->out[0]] == 1 && !g->values[sig->out[0]].is_output &&
            ((mul->in[0] == y && mul->in[1] == sig->out[0]) ||
             (mul->in[1] == y && mul->in[0] == sig->out[0]))) {
            conv->fuse.epi.act = MR_ACT_SILU;
            conv->out[0] = mul->out[0];
            g->values[mul->out[0]].producer = conv->index;
            mr_opt_remove(o, sig);
            mr_opt_remove(o, mul);
        }
    }
    return MINIRT_OK;
}

/* Identity, and Dropout in inference with only its first output read: consumers read the input. */
static void mr_opt_bypass(mr_opt *o, mr_node *n) {
    mr_graph *g = o->g;
    bool dropout = mr_opt_is(n, "Dropout");
    if (!(mr_opt_is(n, "Identity") || dropout) || !mr_opt_known(n) || n->n_in < 1 || n->in[0] < 0 ||
        n->out[0] < 0)
        return;
    if (dropout) {
        if (n->n_out > 1 && n->out[1] >= 0) return; /* the mask is read */
        if (n->n_in > 2 && n->in[2] >= 0) return;   /* training_mode decided at run time */
        const mr_attr *is_test = mr_attr_find(n, "is_test");
        if (n->opset < 7 && !(is_test && is_test->type == MR_ATTR_INT && is_test->i != 0)) return;
    }
    int x = n->in[0], y = n->out[0];
    if (g->values[y].is_output) return;
    for (int i = n->index + 1; i < g->n_nodes; i++) {
        mr_node *c = &g->nodes[i];
        for (int j = 0; j < c->n_in; j++)
            if (c->in[j] == y) c->in[j] = x;
    }
    o->readers[x] += o->readers[y] - 1;
    mr_opt_remove(o, n);
}

/* Drop the removed nodes, free what they own, renumber. */
static void mr_opt_compact(mr_opt *o) {
    mr_graph *g = o->g;
    int k = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        if (o->dead[i]) {
            mr_node_free(o->ctx, &g->nodes[i]);
            continue;
        }
        g->nodes[k] = g->nodes[i];
        g->nodes[k].index = k;
        k++;
    }
    g->n_nodes = k;
    for (int v = 0; v < g->n_values; v++)
        if (g->values[v].kind == MR_VALUE_ACTIVATION) g->values[v].producer = -1;
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i].n_out; j++)
            if (g->nodes[i].out[j] >= 0) g->values[g->nodes[i].out[j]].producer = i;
}

mr_status mr_graph_optimize(mr_ctx *ctx, mr_graph *g, int level) {
    if (level <= 0 || g->n_nodes == 0) return MINIRT_OK;
    mr_opt o = {ctx, g, NULL, NULL, NULL, 0};
    /* BatchNormalization folding may add one bias value per Conv */
    size_t nv = (size_t)g->n_values + (size_t)g->n_nodes + 1;
    o.readers = mr_calloc(ctx, nv, sizeof(int));
    o.reader = mr_calloc(ctx, nv, sizeof(int));
    o.dead = mr_calloc(ctx, (size_t)g->n_nodes, sizeof(bool));
    mr_status st = MINIRT_OK;
    if (!o.readers || !o.reader || !o.dead) {
        st = mr_nomem(ctx);
        goto done;
    }
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i].n_in; j++) {
            int v = g->nodes[i].in[j];
            if (v < 0) continue;
            o.readers[v]++;
            o.reader[v] = i;
        }
    for (int i = 0; i < g->n_nodes; i++)
        if (!o.dead[i]) mr_opt_bypass(&o, &g->nodes[i]);
    for (int i = 0; level >= 2 && i < g->n_nodes && st == MINIRT_OK; i++) {
        mr_node *n = &g->nodes[i];
        if (!o.dead[i] && mr_opt_is(n, "Conv") && mr_opt_known(n)) {
            /* mr_graph_add_const may move g->values, never g->nodes */
            st = mr_opt_fuse_conv(&o, n);
        }
    }
    if (st == MINIRT_OK && o.n_removed) mr_opt_compact(&o);
done:
    mr_free(ctx, o.readers);
    mr_free(ctx, o.reader);
    mr_free(ctx, o.dead);
    return st;
}
