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
    assert_non_null(a->ints);
    if (count) memcpy(a->ints, v, (size_t)count * sizeof(int64_t));
    a->n = (size_t)count;
}

void mrt_attr_floats(mr_node *n, const char *name, const float *v, int count) {
    mr_attr *a = mrt_attr_add(n, name, MR_ATTR_FLOATS);
    a->floats = malloc((size_t)(count ? count : 1) * sizeof(float));
    assert_non_null(a->floats);
    if (count) memcpy(a->floats, v, (size_t)count * sizeof(float));
    a->n = (size_t)count;
}

void mrt_attr_tensor(mr_node *n, const char *name, mr_tensor t) {
    mr_attr *a = mrt_attr_add(n, name, MR_ATTR_TENSOR);
    a->t = malloc(sizeof(mr_tensor));
    assert_non_null(a->t);
    *a->t = t;
}

void mrt_node_free(mr_ctx *ctx, mr_node *n) {
    for (int i = 0; i < n->n_attr; i++) {
        free(n->attr[i].name);
        free(n->attr[i].s);
        free(n->attr[i].ints);
        free(n->attr[i].floats);
        if (n->attr[i].t) mrt_tensor_free(n->attr[i].t);
        free(n->attr[i].t);
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

mr_tensor mrt_tensor_nodata(int dtype, int ndim, const int64_t *dims) {
    mr_tensor t;
    memset(&t, 0, sizeof(t));
    t.dtype = dtype;
    t.ndim = ndim;
    if (ndim) memcpy(t.dims, dims, (size_t)ndim * sizeof(int64_t));
    return t;
}

mr_tensor mrt_tensor_ints(int dtype, int ndim, const int64_t *dims, const int64_t *v) {
    mr_tensor t = mrt_tensor(dtype, ndim, dims);
    for (int64_t i = 0; i < mr_numel(&t); i++) {
        if (dtype == MINIRT_INT64)
            ((int64_t *)t.data)[i] = v[i];
        else
            ((int32_t *)t.data)[i] = (int32_t)v[i];
    }
    return t;
}

mr_tensor mrt_tensor_vec(int dtype, int n, const int64_t *v) {
    int64_t d = n;
    return mrt_tensor_ints(dtype, 1, &d, v);
}

const int mrt_all_types[7] = {MINIRT_FLOAT32, MINIRT_FLOAT64, MINIRT_INT32, MINIRT_INT64,
                              MINIRT_INT8,    MINIRT_UINT8,   MINIRT_BOOL};

void mrt_unravel(int64_t k, int ndim, const int64_t *dims, int64_t *idx) {
    for (int i = ndim - 1; i >= 0; i--) {
        idx[i] = k % dims[i];
        k /= dims[i];
    }
}

int64_t mrt_ravel(const int64_t *idx, int ndim, const int64_t *dims) {
    int64_t k = 0;
    for (int i = 0; i < ndim; i++)
        k = k * dims[i] + idx[i];
    return k;
}

double mrt_get(const mr_tensor *t, int64_t i) {
    switch (t->dtype) {
    case MINIRT_FLOAT32:
        return ((const float *)t->data)[i];
    case MINIRT_FLOAT64:
        return ((const double *)t->data)[i];
    case MINIRT_INT32:
        return ((const int32_t *)t->data)[i];
    case MINIRT_INT64:
        return (double)((const int64_t *)t->data)[i];
    case MINIRT_INT8:
        return ((const int8_t *)t->data)[i];
    case MINIRT_UINT8:
    case MINIRT_BOOL:
        return ((const uint8_t *)t->data)[i];
    default:
        fail_msg("mrt_get: type %d", t->dtype);
        return 0;
    }
}

void mrt_set(mr_tensor *t, int64_t i, double v) {
    switch (t->dtype) {
    case MINIRT_FLOAT32:
        ((float *)t->data)[i] = (float)v;
        break;
    case MINIRT_FLOAT64:
        ((double *)t->data)[i] = v;
        break;
    case MINIRT_INT32:
        ((int32_t *)t->data)[i] = (int32_t)v;
        break;
    case MINIRT_INT64:
        ((int64_t *)t->data)[i] = (int64_t)v;
        break;
    case MINIRT_INT8:
        ((int8_t *)t->data)[i] = (int8_t)v;
        break;
    case MINIRT_UINT8:
    case MINIRT_BOOL:
        ((uint8_t *)t->data)[i] = (uint8_t)v;
        break;
    default:
        fail_msg("mrt_set: type %d", t->dtype);
    }
}

/* xorshift32: the next state and a uniform value in [0, 1) from its top 24 bits. */
static double mrt_next(uint32_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return (*s >> 8) * (1.0 / 16777216.0);
}

void mrt_fill(mr_tensor *t, uint32_t seed, float lo, float hi) {
    uint32_t s = seed * 2654435761u + 12345u;
    float *p = t->data;
    int64_t n = mr_numel(t);
    for (int64_t i = 0; i < n; i++)
        p[i] = lo + (hi - lo) * (float)mrt_next(&s);
}

void mrt_fill_range(mr_tensor *t, uint32_t seed, double lo, double hi) {
    uint32_t s = seed * 2654435761u + 99u;
    bool is_float = t->dtype == MINIRT_FLOAT32 || t->dtype == MINIRT_FLOAT64;
    int64_t n = mr_numel(t);
    for (int64_t i = 0; i < n; i++) {
        double v = lo + (hi - lo) * mrt_next(&s);
        mrt_set(t, i, is_float ? v : floor(v));
    }
}

void mrt_fill_any(mr_tensor *t, uint32_t seed) {
    size_t es = mr_dtype_size(t->dtype);
    unsigned char *p = t->data;
    for (int64_t k = 0; k < mr_numel(t); k++) {
        uint64_t v = (uint64_t)(k + 1) * 0x9E3779B1u + seed;
        for (size_t b = 0; b < es; b++)
            p[(size_t)k * es + b] = (unsigned char)(v >> (8 * (b % 8)));
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

mr_status mrt_run_op1(mr_ctx *ctx, mr_node *n, mr_tensor **in, int n_in, mr_tensor *y) {
    memset(y, 0, sizeof(*y));
    mr_tensor *out[1] = {y};
    return mrt_run_op(ctx, n, in, n_in, out, 1);
}

void mrt_expect_status(const mr_ctx *ctx, mr_status st, mr_status want, const char *s1,
                       const char *s2, const char *what) {
    if (st != want || (s1 && !strstr(ctx->err, s1)) || (s2 && !strstr(ctx->err, s2)))
        fail_msg("%s: want status %d with '%s' and '%s'; got %d: %s", what, want, s1 ? s1 : "",
                 s2 ? s2 : "", st, ctx->err);
}

#define MRT_MAX_OUTPUTS 8

void mrt_run_expect(mr_node *n, mr_tensor **in, int n_in, mr_tensor **out, int n_out,
                    mr_status want, const char *s1, const char *s2) {
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    mr_tensor own[MRT_MAX_OUTPUTS];
    mr_tensor *own_out[MRT_MAX_OUTPUTS];
    if (!out) {
        assert_true(n_out <= MRT_MAX_OUTPUTS);
        memset(own, 0, sizeof(own));
        for (int i = 0; i < MRT_MAX_OUTPUTS; i++)
            own_out[i] = &own[i];
    }
    mr_status st = mrt_run_op(&ctx, n, in, n_in, out ? out : own_out, n_out);
    char what[128];
    snprintf(what, sizeof(what), "%s opset %d", n->op_type, n->opset);
    mrt_expect_status(&ctx, st, want, s1, s2, what);
    if (!out)
        for (int i = 0; i < n_out; i++)
            mrt_tensor_free(&own[i]);
    mrt_node_free(&ctx, n);
}

int mrt_parse_ints(const char *s, int64_t *v, int max) {
    int n = 0;
    char *end;
    while (n < max) {
        v[n++] = strtoll(s, &end, 10);
        if (*end != ',') break;
        s = end + 1;
    }
    return n;
}

int mrt_parse_doubles(const char *s, double *v, int max) {
    int n = 0;
    char *end;
    while (n < max) {
        v[n++] = strtod(s, &end);
        if (*end != ',') break;
        s = end + 1;
    }
    return n;
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

void mrt_assert_close_any(const mr_tensor *got, const double *want, double rtol, double atol,
                          const char *what) {
    int64_t n = mr_numel(got), first = -1, bad = 0;
    double max_err = 0, first_got = 0;
    for (int64_t i = 0; i < n; i++) {
        double g = mrt_get(got, i), err = fabs(g - want[i]);
        bool ok =
            g == want[i] || (isnan(g) && isnan(want[i])) || err <= atol + rtol * fabs(want[i]);
        if (err > max_err) max_err = err;
        if (!ok) {
            if (first < 0) {
                first = i;
                first_got = g;
            }
            bad++;
        }
    }
    if (bad)
        fail_msg("%s: %lld of %lld elements differ; first at [%lld]: got %.9g want %.9g; max abs "
                 "err %g",
                 what, (long long)bad, (long long)n, (long long)first, first_got, want[first],
                 max_err);
}

void mrt_assert_equal_bytes(const mr_tensor *got, const mr_tensor *want, const char *what) {
    char b1[160], b2[160];
    if (got->dtype != want->dtype || got->ndim != want->ndim ||
        memcmp(got->dims, want->dims, (size_t)want->ndim * sizeof(int64_t)) != 0)
        fail_msg("%s: got %s %s, want %s %s", what, mr_dtype_name(got->dtype),
                 mr_dims_str(b1, sizeof(b1), got->ndim, got->dims), mr_dtype_name(want->dtype),
                 mr_dims_str(b2, sizeof(b2), want->ndim, want->dims));
    size_t es = mr_dtype_size(want->dtype);
    for (int64_t k = 0; k < mr_numel(want); k++)
        if (memcmp((char *)got->data + (size_t)k * es, (char *)want->data + (size_t)k * es, es))
            fail_msg("%s: element %lld of %lld differs", what, (long long)k,
                     (long long)mr_numel(want));
}

void *mrt_failing_alloc(void *user, void *ptr, size_t old_size, size_t size) {
    mrt_fail_alloc *a = user;
    (void)old_size;
    if (size == 0) {
        if (ptr) a->live--;
        free(ptr);
        return NULL;
    }
    if (a->count++ == a->fail_at) return NULL;
    void *p = malloc(size);
    if (p) a->live++;
    return p;
}
