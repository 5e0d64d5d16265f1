/*
 * mrt.c - shared test support (see mrt.h).
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrt.h"

void mrt_node_init(mr_node *n, const char *op_type, int opset) {
    memset(n, 0, sizeof(*n));
    n->name = strdup("test_node");
    n->op_type = strdup(op_type);
    n->domain = strdup("");
    n->opset = opset;
}

static mr_attr *mrt_attr_add(mr_node *n, const char *name, int type) {
    n->attr = realloc(n->attr, (size_t)(n->n_attr + 1) * sizeof(mr_attr));
    assert_non_null(n->attr);
    mr_attr *a = &n->attr[n->n_attr++];
    memset(a, 0, sizeof(*a));
    a->name = strdup(name);
    a->type = type;
    return a;
}

void mrt_attr_int(mr_node *n, const char *name, int64_t v) {
    mrt_attr_add(n, name, MR_ATTR_INT)->i = v;
}

void mrt_attr_float(mr_node *n, const char *name, float v) {
    mrt_attr_add(n, name, MR_ATTR_FLOAT)->f = v;
}

void mrt_attr_string(mr_node *n, const char *name, const char *v) {
    mrt_attr_add(n, name, MR_ATTR_STRING)->s = strdup(v);
}

void mrt_attr_ints(mr_node *n, const char *name, const int64_t *v, int count) {
    mr_attr *a = mrt_attr_add(n, name, MR_ATTR_INTS);
    a->ints = malloc((size_t)(count ? count : 1) * sizeof(int64_t));
    memcpy(a->ints, v, (size_t)count * sizeof(int64_t));
    a->n = (size_t)count;
}

void mrt_node_free(mr_ctx *ctx, mr_node *n) {
    for (int i = 0; i < n->n_attr; i++) {
        free(n->attr[i].name);
        free(n->attr[i].s);
        free(n->attr[i].ints);
        free(n->attr[i].floats);
    }
    free(n->attr);
    free(n->name);
    free(n->op_type);
    free(n->domain);
    if (n->op && n->op->release && n->params) n->op->release(ctx, n);
    mr_free(ctx, n->params);
    memset(n, 0, sizeof(*n));
}

mr_tensor mrt_tensor(int dtype, int ndim, const int64_t *dims) {
    mr_tensor t;
    memset(&t, 0, sizeof(t));
    t.dtype = dtype;
    t.ndim = ndim;
    memcpy(t.dims, dims, (size_t)ndim * sizeof(int64_t));
    size_t n = (size_t)mr_numel(&t);
    t.data = calloc(n ? n : 1, mr_dtype_size(dtype));
    assert_non_null(t.data);
    return t;
}

void mrt_tensor_free(mr_tensor *t) {
    free(t->data);
    t->data = NULL;
}

void mrt_fill(mr_tensor *t, uint32_t seed, float lo, float hi) {
    uint32_t s = seed * 2654435761u + 12345u;
    float *p = t->data;
    int64_t n = mr_numel(t);
    for (int64_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        p[i] = lo + (hi - lo) * (float)((s >> 8) * (1.0 / 16777216.0));
    }
}

mr_status mrt_run_op(mr_ctx *ctx, mr_node *n, mr_tensor **in, int n_in, mr_tensor **out,
                     int n_out) {
    bool known;
    n->op = mr_registry_find(n->domain, n->op_type, n->opset, &known);
    if (!n->op) return mr_error(ctx, MINIRT_ERR_UNSUPPORTED, "no kernel for %s", n->op_type);
    n->n_in = n_in;
    n->n_out = n_out;
    mr_status st = MINIRT_OK;
    if (n->op->prepare) st = n->op->prepare(ctx, n);
    if (st != MINIRT_OK) return st;
    st = n->op->infer(ctx, n, in, out);
    if (st != MINIRT_OK) return st;
    for (int i = 0; i < n_out; i++) {
        if (!out[i]) continue; /* an absent optional output */
        size_t cnt = (size_t)mr_numel(out[i]);
        out[i]->data = calloc(cnt ? cnt : 1, mr_dtype_size(out[i]->dtype));
        assert_non_null(out[i]->data);
    }
    void *ws = NULL;
    if (n->workspace) {
        ws = aligned_alloc(64, (n->workspace + 63) / 64 * 64);
        assert_non_null(ws);
    }
    st = n->op->run(ctx, n, in, out, ws);
    free(ws);
    return st;
}

void mrt_assert_close(const float *got, const float *want, int64_t n, double rtol, double atol,
                      const char *what) {
    int64_t first = -1, bad = 0;
    double max_err = 0;
    for (int64_t i = 0; i < n; i++) {
        double err = fabs((double)got[i] - (double)want[i]);
        bool ok = got[i] == want[i] || (isnan(got[i]) && isnan(want[i])) ||
                  err <= atol + rtol * fabs((double)want[i]);
        if (err > max_err) max_err = err;
        if (!ok) {
            if (first < 0) first = i;
            bad++;
        }
    }
    if (bad)
        fail_msg(
            "%s: %lld of %lld elements differ; first at [%lld]: got %g want %g; max abs err %g",
            what, (long long)bad, (long long)n, (long long)first, (double)got[first],
            (double)want[first], max_err);
}
