/*
 * inline.c - model-local functions (ModelProto.functions,
 * https://onnx.ai/onnx/repo-docs/IR.html#functions) inlined at load, part of the loader's protobuf
 * edge.
 *
 * A node whose (domain, op_type) names a FunctionProto of the model is replaced by the function's
 * body. Each expansion k of function F gets the prefix "F#k/" for its internal value and node
 * names, so expansions never collide with each other or with the graph. The function's formal
 * inputs and outputs become the calling node's actual names (a missing optional actual input
 * becomes ""), and a body attribute with ref_attr_name takes the calling node's attribute of that
 * name (or is left out, so the op's default applies). Body nodes use the function's own opset
 * imports. Expansion recurses for nested calls, up to MR_INLINE_MAX_DEPTH levels.
 *
 * The result is a flat array of NodeProto views: synthesized nodes are shallow copies whose strings
 * and arrays come from mr_alloc and are released by mr_flat_free; attributes and other fields still
 * point into the unpacked message, which must outlive the flat list.
 */
#include <stdio.h>
#include <string.h>

#include "inline.h"

#define MR_INLINE_MAX_DEPTH 16

/* Remember a block for mr_flat_free; frees it and fails on allocation failure. */
static void *mr_flat_keep(mr_ctx *ctx, mr_flat *f, void *p) {
    if (!p) return NULL;
    if (f->n_blocks == f->cap_blocks) {
        size_t cap = f->cap_blocks ? 2 * f->cap_blocks : 64;
        void **grown = mr_alloc(ctx, cap * sizeof(void *));
        if (!grown) {
            mr_free(ctx, p);
            return NULL;
        }
        if (f->n_blocks) memcpy(grown, f->blocks, f->n_blocks * sizeof(void *));
        mr_free(ctx, f->blocks);
        f->blocks = grown;
        f->cap_blocks = cap;
    }
    f->blocks[f->n_blocks++] = p;
    return p;
}

static void *mr_flat_alloc(mr_ctx *ctx, mr_flat *f, size_t size) {
    return mr_flat_keep(ctx, f, mr_calloc(ctx, 1, size ? size : 1));
}

static char *mr_flat_str2(mr_ctx *ctx, mr_flat *f, const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    char *s = mr_flat_alloc(ctx, f, la + lb + 1);
    if (!s) return NULL;
    memcpy(s, a, la);
    memcpy(s + la, b, lb + 1);
    return s;
}

static mr_status mr_flat_push(mr_ctx *ctx, mr_flat *f, Onnx__NodeProto *np, int64_t opset) {
    if ((int64_t)f->n >= ctx->max_nodes)
        return mr_error(ctx, MINIRT_ERR_LIMIT,
                        "inlining the model's functions gives more nodes than the limit of %lld",
                        (long long)ctx->max_nodes);
    if (f->n == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 64;
        Onnx__NodeProto **nodes = mr_alloc(ctx, cap * sizeof(*nodes));
        int64_t *opsets = mr_alloc(ctx, cap * sizeof(int64_t));
        if (!nodes || !opsets) {
            mr_free(ctx, nodes);
            mr_free(ctx, opsets);
            return mr_nomem(ctx);
        }
        if (f->n) {
            memcpy(nodes, f->node, f->n * sizeof(*nodes));
            memcpy(opsets, f->opset, f->n * sizeof(int64_t));
        }
        mr_free(ctx, f->node);
        mr_free(ctx, f->opset);
        f->node = nodes;
        f->opset = opsets;
        f->cap = cap;
    }
    f->node[f->n] = np;
    f->opset[f->n] = opset;
    f->n++;
    return MINIRT_OK;
}

static bool mr_same_domain(const char *a, const char *b) {
    a = a ? a : "";
    b = b ? b : "";
    if (strcmp(a, "ai.onnx") == 0) a = "";
    if (strcmp(b, "ai.onnx") == 0) b = "";
    return strcmp(a, b) == 0;
}

static const Onnx__FunctionProto *mr_find_function(const Onnx__ModelProto *mp,
                                                   const Onnx__NodeProto *np) {
    for (size_t i = 0; i < mp->n_functions; i++) {
        const Onnx__FunctionProto *fn = mp->functions[i];
        if (fn->name && np->op_type && strcmp(fn->name, np->op_type) == 0 &&
            mr_same_domain(fn->domain, np->domain))
            return fn;
    }
    return NULL;
}

/* The function's own opset for domain, or -1 (the model's applies). */
static int64_t mr_function_opset(const Onnx__FunctionProto *fn, const char *domain) {
    for (size_t i = 0; i < fn->n_opset_import; i++)
        if (mr_same_domain(fn->opset_import[i]->domain, domain))
            return fn->opset_import[i]->has_version ? fn->opset_import[i]->version : 0;
    return -1;
}

/* A body name renamed for one expansion: formal parameters map to the caller's actual names. */
static char *mr_rename(mr_ctx *ctx, mr_flat *f, const Onnx__FunctionProto *fn,
                       const Onnx__NodeProto *call, const char *prefix, const char *name) {
    if (!name[0]) return (char *)"";
    for (size_t i = 0; i < fn->n_input; i++)
        if (strcmp(fn->input[i], name) == 0) return i < call->n_input ? call->input[i] : (char *)"";
    for (size_t i = 0; i < fn->n_output; i++)
        if (strcmp(fn->output[i], name) == 0 && i < call->n_output && call->output[i][0])
            return call->output[i];
    return mr_flat_str2(ctx, f, prefix, name);
}

static mr_status mr_expand(mr_ctx *ctx, const Onnx__ModelProto *mp, mr_flat *f, Onnx__NodeProto *np,
                           int64_t opset, int depth) {
    const Onnx__FunctionProto *fn = mr_find_function(mp, np);
    if (!fn) return mr_flat_push(ctx, f, np, opset);
    if (depth >= MR_INLINE_MAX_DEPTH)
        return mr_error(ctx, MINIRT_ERR_LIMIT,
                        "function '%s' is nested more than %d levels deep (recursive?)", fn->name,
                        MR_INLINE_MAX_DEPTH);
    char prefix[300];
    snprintf(prefix, sizeof(prefix), "%.200s#%d/", fn->name, ++f->expansions);
    for (size_t b = 0; b < fn->n_node; b++) {
        const Onnx__NodeProto *body = fn->node[b];
        Onnx__NodeProto *copy = mr_flat_alloc(ctx, f, sizeof(*copy));
        if (!copy) return mr_nomem(ctx);
        *copy = *body;
        copy->name = mr_flat_str2(ctx, f, prefix, body->name ? body->name : "");
        copy->input = mr_flat_alloc(ctx, f, body->n_input * sizeof(char *));
        copy->output = mr_flat_alloc(ctx, f, body->n_output * sizeof(char *));
        copy->attribute = mr_flat_alloc(ctx, f, body->n_attribute * sizeof(void *));
        if (!copy->name || !copy->input || !copy->output || !copy->attribute) return mr_nomem(ctx);
        for (size_t i = 0; i < body->n_input; i++)
            if (!(copy->input[i] = mr_rename(ctx, f, fn, np, prefix, body->input[i])))
                return mr_nomem(ctx);
        for (size_t i = 0; i < body->n_output; i++)
            if (!(copy->output[i] = mr_rename(ctx, f, fn, np, prefix, body->output[i])))
                return mr_nomem(ctx);
        copy->n_attribute = 0;
        for (size_t a = 0; a < body->n_attribute; a++) {
            Onnx__AttributeProto *ap = body->attribute[a];
            if (ap->ref_attr_name && ap->ref_attr_name[0]) {
                /* the caller's attribute of the referenced name, under the body's name */
                Onnx__AttributeProto *src = NULL;
                for (size_t c = 0; c < np->n_attribute && !src; c++)
                    if (np->attribute[c]->name &&
                        strcmp(np->attribute[c]->name, ap->ref_attr_name) == 0)
                        src = np->attribute[c];
                if (!src) continue;
                Onnx__AttributeProto *renamed = mr_flat_alloc(ctx, f, sizeof(*renamed));
                if (!renamed) return mr_nomem(ctx);
                *renamed = *src;
                renamed->name = ap->name;
                renamed->ref_attr_name = NULL;
                ap = renamed;
            }
            copy->attribute[copy->n_attribute++] = ap;
        }
        mr_status st = mr_expand(ctx, mp, f, copy, mr_function_opset(fn, body->domain), depth + 1);
        if (st != MINIRT_OK) return st;
    }
    return MINIRT_OK;
}

/*
 * Nodes that expanding np gives, saturated at limit + 1, without expanding anything: each
 * function's count is computed once (memo[], -1 = not yet, -2 = in progress, so a recursive
 * function is caught here too). A few kilobytes of nested calls can ask for billions of nodes; this
 * refuses them before any allocation.
 */
static int64_t mr_count_expanded(const Onnx__ModelProto *mp, const Onnx__NodeProto *np,
                                 int64_t *memo, int64_t limit, int depth) {
    const Onnx__FunctionProto *fn = mr_find_function(mp, np);
    if (!fn) return 1;
    size_t k = 0;
    while (mp->functions[k] != fn)
        k++;
    if (memo[k] == -2 || depth >= MR_INLINE_MAX_DEPTH) return limit + 1;
    if (memo[k] >= 0) return memo[k];
    memo[k] = -2;
    int64_t total = 0;
    for (size_t b = 0; b < fn->n_node && total <= limit; b++)
        total += mr_count_expanded(mp, fn->node[b], memo, limit, depth + 1);
    memo[k] = total > limit ? limit + 1 : total;
    return memo[k];
}

mr_status mr_inline_functions(mr_ctx *ctx, const Onnx__ModelProto *mp, mr_flat *f) {
    memset(f, 0, sizeof(*f));
    const Onnx__GraphProto *gp = mp->graph;
    if (mp->n_functions == 0) {
        f->node = gp->node;
        f->n = gp->n_node;
        return MINIRT_OK;
    }
    int64_t *memo = mr_alloc(ctx, mp->n_functions * sizeof(int64_t));
    if (!memo) return mr_nomem(ctx);
    for (size_t i = 0; i < mp->n_functions; i++)
        memo[i] = -1;
    int64_t total = 0;
    for (size_t i = 0; i < gp->n_node && total <= ctx->max_nodes; i++)
        total += mr_count_expanded(mp, gp->node[i], memo, ctx->max_nodes, 0);
    mr_free(ctx, memo);
    /* (a recursive function also counts past the limit; the expansion below names it) */
    if (total > ctx->max_nodes) {
        bool recursive = false;
        for (size_t i = 0; i < mp->n_functions && !recursive; i++)
            for (size_t b = 0; b < mp->functions[i]->n_node; b++)
                recursive |= mr_find_function(mp, mp->functions[i]->node[b]) == mp->functions[i];
        if (!recursive)
            return mr_error(
                ctx, MINIRT_ERR_LIMIT,
                "inlining the model's functions gives more nodes than the limit of %lld",
                (long long)ctx->max_nodes);
    }
    f->owned = true;
    for (size_t i = 0; i < gp->n_node; i++) {
        mr_status st = mr_expand(ctx, mp, f, gp->node[i], -1, 0);
        if (st != MINIRT_OK) return st;
    }
    return MINIRT_OK;
}

void mr_flat_free(mr_ctx *ctx, mr_flat *f) {
    if (f->owned) {
        mr_free(ctx, f->node);
        mr_free(ctx, f->opset);
    }
    for (size_t i = 0; i < f->n_blocks; i++)
        mr_free(ctx, f->blocks[i]);
    mr_free(ctx, f->blocks);
    memset(f, 0, sizeof(*f));
}
