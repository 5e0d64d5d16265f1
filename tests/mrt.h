/*
 * mrt.h - shared test support: build a node by hand, run one operator through prepare/infer/run the
 * way a session does, tensors of any type (random fills, element access), and comparators that
 * report the first bad index and the max error. Used by every op family's CMocka test.
 */
#ifndef MRT_H
#define MRT_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "mr.h"

/* A node under test; attributes are added with mrt_attr_*. Free with mrt_node_free. */
void mrt_node_init(mr_node *n, const char *op_type, int opset);
void mrt_attr_int(mr_node *n, const char *name, int64_t v);
void mrt_attr_float(mr_node *n, const char *name, float v);
void mrt_attr_string(mr_node *n, const char *name, const char *v);
void mrt_attr_ints(mr_node *n, const char *name, const int64_t *v, int count);
void mrt_attr_floats(mr_node *n, const char *name, const float *v, int count);
/* A TENSOR attribute holding t (from mrt_tensor); the node takes it and mrt_node_free frees it. */
void mrt_attr_tensor(mr_node *n, const char *name, mr_tensor t);
void mrt_node_free(mr_ctx *ctx, mr_node *n);

/* A float32 (or other dtype) tensor with malloc'd zeroed data. Free with mrt_tensor_free, which
 * leaves the type and shape: a tensor without data, as a runtime input is during inference. */
mr_tensor mrt_tensor(int dtype, int ndim, const int64_t *dims);
void mrt_tensor_free(mr_tensor *t);
/* A tensor of that type and shape with no data (data NULL): its contents unknown at plan time. */
mr_tensor mrt_tensor_nodata(int dtype, int ndim, const int64_t *dims);
/* An int64 or int32 tensor of shape dims holding v[0..numel). */
mr_tensor mrt_tensor_ints(int dtype, int ndim, const int64_t *dims, const int64_t *v);
/* The same, 1-D of n elements (a shape, axes, pads...). */
mr_tensor mrt_tensor_vec(int dtype, int n, const int64_t *v);
/* Every type minirt stores: float32, float64, int32, int64, int8, uint8, bool. */
extern const int mrt_all_types[7];
/* The multi-index idx[0..ndim) of flat C-order index k in dims, and back. */
void mrt_unravel(int64_t k, int ndim, const int64_t *dims, int64_t *idx);
int64_t mrt_ravel(const int64_t *idx, int ndim, const int64_t *dims);
/* Element i of t as double, for every type minirt stores (bool: its byte; int64 exact to 2^53). */
double mrt_get(const mr_tensor *t, int64_t i);
/* Store v as element i of t, converted to t's type as C converts (bool: the byte (uint8_t)v). */
void mrt_set(mr_tensor *t, int64_t i, double v);
/* Fill a float32 tensor with uniform values in [lo, hi) from a fixed-seed generator. */
void mrt_fill(mr_tensor *t, uint32_t seed, float lo, float hi);
/* Fill a tensor of any numeric type (or bool) with uniform values in [lo, hi) from a fixed-seed
 * generator, rounded down (floor) for the integer types and bool. */
void mrt_fill_range(mr_tensor *t, uint32_t seed, double lo, double hi);
/* Fill a tensor of any type with a byte pattern: element k holds the low bytes of
 * (k + 1) * 0x9E3779B1 + seed, distinct within each 256 (1-byte types) or 2^32 elements, so a
 * misplaced element shows (bool elements get any byte, not only 0 / 1). */
void mrt_fill_any(mr_tensor *t, uint32_t seed);

/*
 * Resolve op_type at the node's opset in the registry, then prepare, infer and run it on
 * in[0..n_in) (NULL entries are absent optional inputs; NULL out entries absent optional outputs),
 * as a session would. out[0..n_out) must be zero-initialised mr_tensors (or NULL): their
 * dtype/shape are set by infer and their data malloc'd here (free with mrt_tensor_free). Returns
 * the first non-OK status; the message is in ctx->err.
 */
mr_status mrt_run_op(mr_ctx *ctx, mr_node *n, mr_tensor **in, int n_in, mr_tensor **out, int n_out);
/* Fail the test (naming `what`) unless st is want and ctx->err holds s1 and s2 (each skipped when
 * NULL). */
void mrt_expect_status(const mr_ctx *ctx, mr_status st, mr_status want, const char *s1,
                       const char *s2, const char *what);
/* mrt_run_op with the one output *y (zeroed here). */
mr_status mrt_run_op1(mr_ctx *ctx, mr_node *n, mr_tensor **in, int n_in, mr_tensor *y);
/* Run n (with a fresh context) and fail the test unless the status is want and the message holds
 * s1 and s2 (each skipped when NULL). out[0..n_out) are the caller's zero-initialised outputs, or
 * out is NULL for outputs made and freed here. Frees the node. */
void mrt_run_expect(mr_node *n, mr_tensor **in, int n_in, mr_tensor **out, int n_out,
                    mr_status want, const char *s1, const char *s2);

/* Read the comma-separated list "a,b,c" at s into v[0..max) (test case specs); returns the count.
 */
int mrt_parse_ints(const char *s, int64_t *v, int max);
int mrt_parse_doubles(const char *s, double *v, int max);

/* Fail the test unless |got - want| <= atol + rtol * |want| everywhere; reports the first bad
 * index, the max abs error and the count of bad elements. */
void mrt_assert_close(const float *got, const float *want, int64_t n, double rtol, double atol,
                      const char *what);
/* mrt_assert_close for a tensor of any numeric type, read with mrt_get, against want[0..numel)
 * (NaN matches NaN, an infinity the same infinity). */
void mrt_assert_close_any(const mr_tensor *got, const double *want, double rtol, double atol,
                          const char *what);
/* Fail the test unless got has want's type, shape and bytes; reports the first differing element.
 */
void mrt_assert_equal_bytes(const mr_tensor *got, const mr_tensor *want, const char *what);

/* An allocator hook (minirt_alloc_fn; user = an mrt_fail_alloc) that fails allocation number
 * fail_at (0-based; -1 = none) and counts the blocks not yet freed. */
typedef struct mrt_fail_alloc {
    int fail_at; /* index of the allocation to fail; -1 = none */
    int count;   /* allocations so far */
    int live;    /* blocks not yet freed */
} mrt_fail_alloc;
void *mrt_failing_alloc(void *user, void *ptr, size_t old_size, size_t size);

#endif
