/*
 * npycmp.c - compare two .npy files, for the CLI tests: npycmp GOT WANT [RTOL ATOL].
 * Exits 0 when the element types and shapes are equal and |got - want| <= atol + rtol * |want| for
 * every element (NaN matches only NaN); otherwise prints the first bad index, the max abs error and
 * how many elements differ, and exits 1. Defaults: rtol 1e-3, atol 1e-4. Exits 2 on a usage error
 * or a file it cannot read.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mr.h"
#include "io.h"

static double npycmp_value(const mr_tensor *t, int64_t i) {
    switch (t->dtype) {
    case MINIRT_FLOAT32:
        return ((const float *)t->data)[i];
    case MINIRT_FLOAT64:
        return ((const double *)t->data)[i];
    case MINIRT_INT32:
        return ((const int32_t *)t->data)[i];
    case MINIRT_INT64:
        return (double)((const int64_t *)t->data)[i];
    case MINIRT_UINT8:
        return ((const uint8_t *)t->data)[i];
    case MINIRT_INT8:
        return ((const int8_t *)t->data)[i];
    case MINIRT_BOOL:
        return ((const uint8_t *)t->data)[i];
    default:
        return NAN;
    }
}

static bool npycmp_tol(const char *s, double *out) {
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v) || v < 0) return false;
    *out = v;
    return true;
}

/* Flat index i of t as "[a, b, c]". */
static const char *npycmp_index(char *buf, size_t len, const mr_tensor *t, int64_t i) {
    int64_t idx[MR_MAX_DIMS];
    for (int k = t->ndim - 1; k >= 0; k--) {
        idx[k] = t->dims[k] ? i % t->dims[k] : 0;
        i = t->dims[k] ? i / t->dims[k] : 0;
    }
    size_t used = (size_t)snprintf(buf, len, "[");
    for (int k = 0; k < t->ndim && used < len; k++)
        used +=
            (size_t)snprintf(buf + used, len - used, "%s%lld", k ? ", " : "", (long long)idx[k]);
    if (used < len) snprintf(buf + used, len - used, "]");
    return buf;
}

static int npycmp(const mr_io_tensor *got, const mr_io_tensor *want, const char *gp, double rtol,
                  double atol) {
    char gd[160], wd[160], at[200];
    const mr_tensor *g = &got->t, *w = &want->t;
    bool same_shape = g->ndim == w->ndim;
    for (int k = 0; same_shape && k < g->ndim; k++)
        same_shape = g->dims[k] == w->dims[k];
    if (g->dtype != w->dtype || !same_shape) {
        printf("%s: got %s %s, want %s %s\n", gp, mr_dtype_name(g->dtype),
               mr_dims_str(gd, sizeof(gd), g->ndim, g->dims), mr_dtype_name(w->dtype),
               mr_dims_str(wd, sizeof(wd), w->ndim, w->dims));
        return 1;
    }
    int64_t n = mr_numel(g), first = -1, bad = 0;
    double max_err = 0;
    for (int64_t i = 0; i < n; i++) {
        double a = npycmp_value(g, i), b = npycmp_value(w, i);
        double err = fabs(a - b);
        bool ok =
            (isnan(a) && isnan(b)) || (!isnan(a) && !isnan(b) && err <= atol + rtol * fabs(b));
        if (!isnan(err) && err > max_err) max_err = err;
        if (!ok) {
            if (first < 0) first = i;
            bad++;
        }
    }
    if (bad) {
        printf("%s: %lld of %lld elements differ (rtol %g, atol %g); first at %s: got %.9g want "
               "%.9g; max abs err %g\n",
               gp, (long long)bad, (long long)n, rtol, atol, npycmp_index(at, sizeof(at), g, first),
               npycmp_value(g, first), npycmp_value(w, first), max_err);
        return 1;
    }
    printf("%s: %lld elements match (max abs err %g)\n", gp, (long long)n, max_err);
    return 0;
}

int main(int argc, char **argv) {
    double rtol = 1e-3, atol = 1e-4;
    if (argc != 3 && argc != 5) {
        fprintf(stderr, "usage: npycmp GOT.npy WANT.npy [RTOL ATOL]\n");
        return 2;
    }
    if (argc == 5 && (!npycmp_tol(argv[3], &rtol) || !npycmp_tol(argv[4], &atol))) {
        fprintf(stderr, "npycmp: RTOL and ATOL must be non-negative numbers\n");
        return 2;
    }
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    mr_io_tensor got, want;
    memset(&want, 0, sizeof(want));
    int status = 2;
    if (mr_npy_read(&ctx, argv[1], &got) != MINIRT_OK ||
        mr_npy_read(&ctx, argv[2], &want) != MINIRT_OK)
        fprintf(stderr, "npycmp: %s\n", ctx.err);
    else
        status = npycmp(&got, &want, argv[1], rtol, atol);
    mr_io_free(&ctx, &got);
    mr_io_free(&ctx, &want);
    return status;
}
