/*
 * mrt.h - shared test support: build a node by hand, run one operator through prepare/infer/run the
 * way a session does, random tensors, and a comparator that reports the first bad index and the max
 * error. Used by every op family's CMocka test.
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
void mrt_node_free(mr_ctx *ctx, mr_node *n);

/* A float32 (or other dtype) tensor with malloc'd zeroed data. Free with mrt_tensor_free. */
mr_tensor mrt_tensor(int dtype, int ndim, const int64_t *dims);
void mrt_tensor_free(mr_tensor *t);
/* Fill a float32 tensor with uniform values in [lo, hi) from a fixed-seed generator. */
void mrt_fill(mr_tensor *t, uint32_t seed, float lo, float hi);

/*
 * Resolve op_type at the node's opset in the registry, then prepare, infer and run it on
 * in[0..n_in) (NULL entries are absent optional inputs; NULL out entries absent optional outputs),
 * as a session would. out[0..n_out) must be zero-initialised mr_tensors (or NULL): their
 * dtype/shape are set by infer and their data malloc'd here (free with mrt_tensor_free). Returns
 * the first non-OK status; the message is in ctx->err.
 */
mr_status mrt_run_op(mr_ctx *ctx, mr_node *n, mr_tensor **in, int n_in, mr_tensor **out, int n_out);

/* Fail the test unless |got - want| <= atol + rtol * |want| everywhere; reports the first bad
 * index, the max abs error and the count of bad elements. */
void mrt_assert_close(const float *got, const float *want, int64_t n, double rtol, double atol,
                      const char *what);

#endif
