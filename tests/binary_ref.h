/*
 * binary_ref.h - plain references shared by the element-wise operator tests (test_binary.c,
 * test_binary2.c): reading and writing elements of any type, fills, one element of each operator
 * and naive numpy broadcasting by multi-index. Everything is static inline so each test uses what
 * it needs.
 */
#ifndef BINARY_REF_H
#define BINARY_REF_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrt.h"

typedef enum ref_op {
    R_ADD,
    R_SUB,
    R_MUL,
    R_DIV,
    R_POW,
    R_EQ,
    R_LT,
    R_GT,
    R_LE,
    R_GE,
    R_MIN,
    R_MAX,
    R_AND,
    R_OR,
    R_XOR
} ref_op;

static const char *const ref_op_names[] = {
    "Add", "Sub", "Mul", "Div", "Pow", "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual",
    "Min", "Max", "And", "Or",  "Xor"};

static inline bool ref_is_float(int dt) {
    return dt == MINIRT_FLOAT32 || dt == MINIRT_FLOAT64;
}

/* Whether op's output is bool (comparisons and logical operators). */
static inline bool ref_is_cmp(ref_op op) {
    return (op >= R_EQ && op <= R_GE) || op >= R_AND;
}

static inline int64_t ref_geti(const void *p, int dt, int64_t i) {
    switch (dt) {
    case MINIRT_INT32:
        return ((const int32_t *)p)[i];
    case MINIRT_INT64:
        return ((const int64_t *)p)[i];
    case MINIRT_UINT8:
    case MINIRT_BOOL:
        return ((const uint8_t *)p)[i];
    case MINIRT_INT8:
        return ((const int8_t *)p)[i];
    default:
        fail_msg("ref_geti: type %d", dt);
        return 0;
    }
}

static inline double ref_getf(const void *p, int dt, int64_t i) {
    if (dt == MINIRT_FLOAT32) return ((const float *)p)[i];
    if (dt == MINIRT_FLOAT64) return ((const double *)p)[i];
    return (double)ref_geti(p, dt, i);
}

/* Store v truncated to dt's width (two's complement wrap-around). */
static inline void ref_seti(void *p, int dt, int64_t i, int64_t v) {
    switch (dt) {
    case MINIRT_INT32:
        ((int32_t *)p)[i] = (int32_t)(uint32_t)(uint64_t)v;
        break;
    case MINIRT_INT64:
        ((int64_t *)p)[i] = v;
        break;
    case MINIRT_UINT8:
    case MINIRT_BOOL:
        ((uint8_t *)p)[i] = (uint8_t)(uint64_t)v;
        break;
    case MINIRT_INT8:
        ((int8_t *)p)[i] = (int8_t)(uint8_t)(uint64_t)v;
        break;
    default:
        fail_msg("ref_seti: type %d", dt);
    }
}

static inline void ref_setf(void *p, int dt, int64_t i, double v) {
    if (dt == MINIRT_FLOAT32)
        ((float *)p)[i] = (float)v;
    else
        ((double *)p)[i] = v;
}

/*
 * Fill t: `small` gives integers -3..3 (as floats for float types; 0..3 for uint8, 0..1 for bool)
 * so that comparisons meet equal values and divisions meet zeros; otherwise each integer type's
 * whole range (so wrap-around is exercised) and floats in about -4..4.
 */
static inline void ref_fill(mr_tensor *t, uint32_t seed, bool small) {
    int64_t n = mr_numel(t);
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (int64_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        int64_t k = (int64_t)(s >> 33) % 7 - 3;
        if (t->dtype == MINIRT_BOOL) {
            ((uint8_t *)t->data)[i] = (uint8_t)(s >> 40 & 1);
        } else if (ref_is_float(t->dtype)) {
            ref_setf(t->data, t->dtype, i,
                     small ? (double)k : (double)(int64_t)(s >> 20) / 1.1e18 - 4.0);
        } else if (small) {
            ref_seti(t->data, t->dtype, i, t->dtype == MINIRT_UINT8 ? (k < 0 ? -k : k) : k);
        } else {
            ref_seti(t->data, t->dtype, i, (int64_t)s);
        }
    }
}

/* x ^ e for integers: exact with wrap-around; negative e truncates 1 / x^-e (0 for x = 0). */
static inline int64_t ref_ipow(int64_t x, int64_t e) {
    if (e < 0) return x == 1 ? 1 : x == -1 ? (e % 2 ? -1 : 1) : 0;
    uint64_t r = 1;
    for (int64_t i = 0; i < e; i++)
        r *= (uint64_t)x;
    return (int64_t)r;
}

static inline int64_t ref_saturate(double v, int dt) {
    double lo = dt == MINIRT_INT32 ? -2147483648.0 : -9223372036854775808.0;
    if (isnan(v)) return 0;
    if (v >= -lo) return dt == MINIRT_INT32 ? INT32_MAX : INT64_MAX;
    if (v < lo) return dt == MINIRT_INT32 ? INT32_MIN : INT64_MIN;
    return (int64_t)v;
}

/* y[iy] = op(a[ia], b[ib]); y's type is A's, or bool for comparisons. */
static inline void ref_elem(ref_op op, const mr_tensor *a, int64_t ia, const mr_tensor *b,
                            int64_t ib, void *y, int64_t iy) {
    int at = a->dtype, bt = b->dtype;
    if (ref_is_cmp(op)) {
        bool r;
        if (op >= R_AND) {
            bool x = ref_geti(a->data, at, ia) != 0, z = ref_geti(b->data, bt, ib) != 0;
            r = op == R_AND ? x && z : op == R_OR ? x || z : x != z;
        } else if (at == MINIRT_BOOL) {
            r = (ref_geti(a->data, at, ia) != 0) == (ref_geti(b->data, bt, ib) != 0);
        } else if (ref_is_float(at)) {
            double x = ref_getf(a->data, at, ia), z = ref_getf(b->data, bt, ib);
            r = op == R_EQ   ? x == z
                : op == R_LT ? x < z
                : op == R_GT ? x > z
                : op == R_LE ? x <= z
                             : x >= z;
        } else {
            int64_t x = ref_geti(a->data, at, ia), z = ref_geti(b->data, bt, ib);
            r = op == R_EQ   ? x == z
                : op == R_LT ? x < z
                : op == R_GT ? x > z
                : op == R_LE ? x <= z
                             : x >= z;
        }
        ((uint8_t *)y)[iy] = r;
        return;
    }
    if (op == R_POW) {
        double v = pow(ref_getf(a->data, at, ia), ref_getf(b->data, bt, ib));
        if (ref_is_float(at))
            ref_setf(y, at, iy, v);
        else if (ref_is_float(bt))
            ref_seti(y, at, iy, ref_saturate(v, at));
        else
            ref_seti(y, at, iy, ref_ipow(ref_geti(a->data, at, ia), ref_geti(b->data, bt, ib)));
        return;
    }
    if (ref_is_float(at)) {
        /* In double for float32 too: the exact result of +, -, *, / rounded to double and then to
         * float32 is the float32 operation's (53 >= 2 * 24 + 2 bits), so nothing differs. */
        double x = ref_getf(a->data, at, ia), z = ref_getf(b->data, bt, ib), r = 0;
        switch (op) {
        case R_ADD:
            r = x + z;
            break;
        case R_SUB:
            r = x - z;
            break;
        case R_MUL:
            r = x * z;
            break;
        case R_DIV:
            r = x / z;
            break;
        case R_MIN:
            r = isnan(x) || isnan(z) ? NAN : x < z ? x : z;
            break;
        case R_MAX:
            r = isnan(x) || isnan(z) ? NAN : x > z ? x : z;
            break;
        default:
            fail_msg("ref_elem: op %d", op);
        }
        ref_setf(y, at, iy, r);
    } else {
        int64_t x = ref_geti(a->data, at, ia), z = ref_geti(b->data, bt, ib), r = 0;
        uint64_t ux = (uint64_t)x, uz = (uint64_t)z;
        switch (op) {
        case R_ADD:
            r = (int64_t)(ux + uz);
            break;
        case R_SUB:
            r = (int64_t)(ux - uz);
            break;
        case R_MUL:
            r = (int64_t)(ux * uz);
            break;
        case R_DIV:
            r = z == 0 ? 0 : z == -1 ? (int64_t)(0 - ux) : x / z;
            break;
        case R_MIN:
            r = x < z ? x : z;
            break;
        case R_MAX:
            r = x > z ? x : z;
            break;
        default:
            fail_msg("ref_elem: op %d", op);
        }
        ref_seti(y, at, iy, r);
    }
}

/* Index into an operand with dims d (placed in rank r, 1 where broadcast) of output element flat.
 */
static inline int64_t ref_index(int r, const int64_t *dy, const int64_t *d, int64_t flat) {
    int64_t off = 0, m = 1;
    for (int i = r - 1; i >= 0; i--) {
        int64_t idx = flat % dy[i];
        flat /= dy[i];
        off += (d[i] == 1 ? 0 : idx) * m;
        m *= d[i];
    }
    return off;
}

static inline int64_t ref_count(int r, const int64_t *dims) {
    int64_t n = 1;
    for (int i = 0; i < r; i++)
        n *= dims[i];
    return n;
}

/* Numpy placement of dims (rank nd) in rank r: aligned right, 1 for missing leading axes. */
static inline void ref_place(int nd, const int64_t *dims, int r, int64_t *out) {
    for (int i = 0; i < r; i++)
        out[i] = i - (r - nd) >= 0 ? dims[i - (r - nd)] : 1;
}

/* Naive broadcasting: for every output multi-index each operand reads index 0 on its size-1
 * axes. */
static inline void ref_binary(ref_op op, int r, const int64_t *dy, const int64_t *da,
                              const int64_t *db, const mr_tensor *a, const mr_tensor *b, void *y) {
    int64_t total = ref_count(r, dy);
    for (int64_t f = 0; f < total; f++)
        ref_elem(op, a, ref_index(r, dy, da, f), b, ref_index(r, dy, db, f), y, f);
}

/* got's data against want: NaN equals NaN; floats within rtol (0: exact); others exact. */
static inline void ref_check(const mr_tensor *got, const void *want, double rtol,
                             const char *what) {
    int64_t n = mr_numel(got);
    for (int64_t i = 0; i < n; i++) {
        bool ok;
        if (ref_is_float(got->dtype)) {
            double g = ref_getf(got->data, got->dtype, i), w = ref_getf(want, got->dtype, i);
            ok = g == w || (isnan(g) && isnan(w)) || fabs(g - w) <= rtol * fabs(w);
            if (!ok) fail_msg("%s: element %lld is %.9g, want %.9g", what, (long long)i, g, w);
        } else {
            int64_t g = ref_geti(got->data, got->dtype, i), w = ref_geti(want, got->dtype, i);
            if (g != w)
                fail_msg("%s: element %lld is %lld, want %lld", what, (long long)i, (long long)g,
                         (long long)w);
        }
    }
}

/* Run node n on in[0..n_in) into *y (zeroed) and check status OK. */
static inline void ref_run_ok(mr_ctx *ctx, mr_node *n, mr_tensor **in, int n_in, mr_tensor *y,
                              const char *what) {
    mr_status st = mrt_run_op1(ctx, n, in, n_in, y);
    if (st != MINIRT_OK) fail_msg("%s: status %d: %s", what, st, ctx->err);
}

#endif
