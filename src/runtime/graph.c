/*
 * graph.c - graph checks before anything runs: topological order (nodes are sorted if the file is
 * not; a cycle is reported with a node on it), kernel resolution by (domain, op type, opset),
 * input/output counts, and each op's prepare step.
 */
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

static mr_status mr_graph_resolve(mr_ctx *ctx, mr_graph *g) {
    for (int i = 0; i < g->n_nodes; i++) {
        mr_node *n = &g->nodes[i];
        bool known;
        n->op = mr_registry_find(n->domain, n->op_type, n->opset, &known);
        if (!n->op) {
            if (known)
                return mr_node_error(ctx, n, MINIRT_ERR_UNSUPPORTED,
                                     "operator %s is not supported at opset %d", n->op_type,
                                     n->opset);
            if (n->domain[0])
                return mr_node_error(ctx, n, MINIRT_ERR_UNSUPPORTED,
                                     "unknown operator %s in domain '%s'", n->op_type, n->domain);
            return mr_node_error(ctx, n, MINIRT_ERR_UNSUPPORTED, "unknown operator %s", n->op_type);
        }
        /* Trailing absent optional inputs/outputs do not count. */
        int n_in = n->n_in, n_out = n->n_out;
        while (n_in > 0 && n->in[n_in - 1] < 0)
            n_in--;
        while (n_out > 0 && n->out[n_out - 1] < 0)
            n_out--;
        if (n_in < n->op->min_inputs || n->n_in > n->op->max_inputs)
            return mr_node_error(ctx, n, MINIRT_ERR_MODEL, "has %d inputs; %s takes %d to %d",
                                 n->n_in, n->op_type, n->op->min_inputs, n->op->max_inputs);
        for (int j = 0; j < n->op->min_inputs; j++)
            if (n->in[j] < 0)
                return mr_node_error(ctx, n, MINIRT_ERR_MODEL, "required input %d is missing", j);
        if (n_out < n->op->min_outputs || n->n_out > n->op->max_outputs)
            return mr_node_error(ctx, n, MINIRT_ERR_MODEL, "has %d outputs; %s produces %d to %d",
                                 n->n_out, n->op_type, n->op->min_outputs, n->op->max_outputs);
        if (n->op->prepare) {
            mr_status st = n->op->prepare(ctx, n);
            if (st != MINIRT_OK) return st;
        }
    }
    return MINIRT_OK;
}

mr_status mr_graph_validate(mr_ctx *ctx, mr_graph *g) {
    mr_status st = mr_graph_sort(ctx, g);
    if (st != MINIRT_OK) return st;
    return mr_graph_resolve(ctx, g);
}
