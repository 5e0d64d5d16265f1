/*
 * graph.c - graph checks before anything runs: topological order (nodes are sorted if the file is
 * not; a cycle is reported with a node on it), kernel resolution by (domain, op type, opset),
 * input/output counts, and each op's prepare step.
 */
#include <stdio.h>
#include <string.h>

#include "mr.h"

/* Kahn's algorithm over node dependencies; a node reading its own output is a cycle too. */
static mr_status mr_graph_sort(mr_ctx *ctx, mr_graph *g) {
    int n = g->n_nodes;
    if (n == 0) return MINIRT_OK;
    mr_status st = MINIRT_OK;
    int *pending = mr_calloc(ctx, (size_t)n, sizeof(int)); /* unmet inputs per node */
    int *order = mr_calloc(ctx, (size_t)n, sizeof(int));
    int *first = mr_calloc(ctx, (size_t)g->n_values, sizeof(int)); /* consumer lists by value */
    int64_t edges = 0;
    for (int i = 0; i < n; i++)
        edges += g->nodes[i].n_in;
    int *next = mr_calloc(ctx, (size_t)(edges ? edges : 1), sizeof(int));
    int *cons = mr_calloc(ctx, (size_t)(edges ? edges : 1), sizeof(int));
    mr_node *sorted = mr_calloc(ctx, (size_t)n, sizeof(mr_node));
    if (!pending || !order || !first || !next || !cons || !sorted) {
        st = mr_nomem(ctx);
        goto done;
    }
    for (int v = 0; v < g->n_values; v++)
        first[v] = -1;
    int e = 0;
    for (int i = 0; i < n; i++) {
        const mr_node *nd = &g->nodes[i];
        for (int j = 0; j < nd->n_in; j++) {
            int v = nd->in[j];
            if (v < 0 || g->values[v].producer < 0) continue;
            pending[i]++;
            cons[e] = i;
            next[e] = first[v];
            first[v] = e++;
        }
    }
    /* Kahn: a FIFO of nodes whose inputs are all available, seeded in file order. */
    int head = 0, tail = 0;
    for (int i = 0; i < n; i++)
        if (pending[i] == 0) order[tail++] = i;
    while (head < tail) {
        const mr_node *nd = &g->nodes[order[head++]];
        for (int o = 0; o < nd->n_out; o++) {
            int v = nd->out[o];
            if (v < 0) continue;
            for (int k = first[v]; k >= 0; k = next[k])
                if (--pending[cons[k]] == 0) order[tail++] = cons[k];
        }
    }
    if (tail < n) {
        for (int i = 0; i < n; i++)
            if (pending[i] > 0) {
                st = mr_node_error(ctx, &g->nodes[i], MINIRT_ERR_MODEL,
                                   "the graph has a cycle through this node (%d of %d nodes cannot "
                                   "be ordered)",
                                   n - tail, n);
                break;
            }
        goto done;
    }
    for (int i = 0; i < n; i++)
        sorted[i] = g->nodes[order[i]];
    for (int i = 0; i < n; i++) {
        g->nodes[i] = sorted[i];
        g->nodes[i].index = i;
    }
    for (int i = 0; i < n; i++)
        for (int o = 0; o < g->nodes[i].n_out; o++)
            if (g->nodes[i].out[o] >= 0) g->values[g->nodes[i].out[o]].producer = i;
done:
    mr_free(ctx, pending);
    mr_free(ctx, order);
    mr_free(ctx, first);
    mr_free(ctx, next);
    mr_free(ctx, cons);
    mr_free(ctx, sorted);
    return st;
}

/* Check one resolved node's input/output counts and run its prepare step. */
static mr_status mr_node_prepare(mr_ctx *ctx, mr_node *n) {
    /* Trailing absent optional inputs/outputs do not count. */
    int n_in = n->n_in, n_out = n->n_out;
    while (n_in > 0 && n->in[n_in - 1] < 0)
        n_in--;
    while (n_out > 0 && n->out[n_out - 1] < 0)
        n_out--;
    if (n_in < n->op->min_inputs || n_in > n->op->max_inputs)
        return mr_node_error(ctx, n, MINIRT_ERR_MODEL, "has %d inputs; %s takes %d to %d", n_in,
                             n->op_type, n->op->min_inputs, n->op->max_inputs);
    for (int j = 0; j < n->op->min_inputs; j++)
        if (n->in[j] < 0)
            return mr_node_error(ctx, n, MINIRT_ERR_MODEL, "required input %d is missing", j);
    if (n_out < n->op->min_outputs || n_out > n->op->max_outputs)
        return mr_node_error(ctx, n, MINIRT_ERR_MODEL, "has %d outputs; %s produces %d to %d",
                             n_out, n->op_type, n->op->min_outputs, n->op->max_outputs);
    return n->op->prepare ? n->op->prepare(ctx, n) : MINIRT_OK;
}

/* One problem line for every node of unsupported type (domain, op_type) at opset, listing up to
 * eight node names; nodes already reported are marked in done[]. */
static mr_status mr_report_unsupported(mr_ctx *ctx, mr_graph *g, int first, bool *done) {
    const mr_node *n0 = &g->nodes[first];
    bool known;
    mr_registry_find(n0->domain, n0->op_type, n0->opset, &known);
    char names[320];
    size_t used = 0;
    int count = 0;
    names[0] = '\0';
    for (int i = first; i < g->n_nodes; i++) {
        const mr_node *n = &g->nodes[i];
        if (done[i] || n->op || strcmp(n->op_type, n0->op_type) != 0 ||
            strcmp(n->domain, n0->domain) != 0)
            continue;
        done[i] = true;
        if (count++ < 8 && used < sizeof(names)) {
            int w = n->name[0] ? snprintf(names + used, sizeof(names) - used, "%s'%.60s'",
                                          count > 1 ? ", " : "", n->name)
                               : snprintf(names + used, sizeof(names) - used, "%s#%d",
                                          count > 1 ? ", " : "", n->index);
            if (w > 0) used += (size_t)w;
        }
    }
    char what[200];
    if (known)
        snprintf(what, sizeof(what), "operator %s is not supported at opset %d", n0->op_type,
                 n0->opset);
    else if (n0->domain[0] && strcmp(n0->domain, "ai.onnx") != 0)
        snprintf(what, sizeof(what), "unknown operator %s in domain '%s'", n0->op_type, n0->domain);
    else
        snprintf(what, sizeof(what), "unknown operator %s", n0->op_type);
    if (count == 1) {
        mr_node_error(ctx, n0, MINIRT_ERR_UNSUPPORTED, "%s", what);
        return mr_problem(ctx, MINIRT_ERR_UNSUPPORTED, "%s", ctx->err);
    }
    char more[32] = "";
    if (count > 8) snprintf(more, sizeof(more), " and %d more", count - 8);
    return mr_problem(ctx, MINIRT_ERR_UNSUPPORTED, "%s (%d nodes: %s%s)", what, count, names, more);
}

/*
 * Resolve every node's kernel and prepare it. Problems do not stop the walk: every unsupported
 * operator (grouped by type, with its nodes) and every bad attribute is recorded with mr_problem,
 * so one open reports everything that will not run.
 */
static mr_status mr_graph_resolve(mr_ctx *ctx, mr_graph *g) {
    mr_status first = MINIRT_OK;
    bool *done = mr_calloc(ctx, (size_t)(g->n_nodes ? g->n_nodes : 1), sizeof(bool));
    if (!done) return mr_nomem(ctx);
    for (int i = 0; i < g->n_nodes; i++) {
        mr_node *n = &g->nodes[i];
        bool known;
        n->op = mr_registry_find(n->domain, n->op_type, n->opset, &known);
    }
    for (int i = 0; i < g->n_nodes && first != MINIRT_ERR_NOMEM; i++) {
        mr_node *n = &g->nodes[i];
        mr_status st;
        if (!n->op) {
            if (done[i]) continue;
            st = mr_report_unsupported(ctx, g, i, done);
        } else {
            st = mr_node_prepare(ctx, n);
            if (st != MINIRT_OK) st = mr_problem(ctx, st, "%s", ctx->err);
        }
        if (first == MINIRT_OK) first = st;
        if (st == MINIRT_ERR_NOMEM) first = st;
    }
    mr_free(ctx, done);
    if (first != MINIRT_OK && first != MINIRT_ERR_NOMEM) mr_problems_summarise(ctx);
    return first;
}

/* "N nodes; ops: Conv x20 Relu x17 ..." and the parameter count, before optimization rewrites them
 * (for minirt_summary). */
static mr_status mr_graph_describe(mr_ctx *ctx, mr_graph *g) {
    const size_t cap = 2048;
    char *buf = mr_alloc(ctx, cap);
    if (!buf) return mr_nomem(ctx);
    size_t len = 0;
    int w = snprintf(buf, cap, "%d nodes; ops:", g->n_nodes);
    len = w > 0 ? (size_t)w : 0;
    for (int i = 0; i < g->n_nodes && len < cap; i++) {
        bool seen = false;
        for (int j = 0; j < i && !seen; j++)
            seen = strcmp(g->nodes[j].op_type, g->nodes[i].op_type) == 0;
        if (seen) continue;
        int count = 0;
        for (int j = i; j < g->n_nodes; j++)
            count += strcmp(g->nodes[j].op_type, g->nodes[i].op_type) == 0;
        w = snprintf(buf + len, cap - len, " %s x%d", g->nodes[i].op_type, count);
        if (w > 0) len = len + (size_t)w < cap ? len + (size_t)w : cap - 1;
    }
    g->ops_text = buf;
    g->n_params = 0;
    for (int v = 0; v < g->n_values; v++)
        if (g->values[v].kind == MR_VALUE_CONST) g->n_params += mr_numel(&g->values[v].t);
    return MINIRT_OK;
}

mr_status mr_graph_validate(mr_ctx *ctx, mr_graph *g) {
    mr_status st = mr_graph_sort(ctx, g);
    if (st == MINIRT_OK) st = mr_graph_describe(ctx, g);
    if (st == MINIRT_OK) st = mr_graph_optimize(ctx, g, ctx->optimize);
    if (st != MINIRT_OK) return st;
    return mr_graph_resolve(ctx, g);
}
