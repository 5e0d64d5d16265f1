/*
 * test_conv_transpose.c - ConvTranspose against a naive reference (scatter of every input element
 * through every kernel tap, in double) over a table of cases: 1-D, 2-D, 3-D, odd sizes, batch > 1,
 * strides, dilations, asymmetric pads, output_padding, output_shape (smaller and larger than the
 * full output, odd totals), every auto_pad, groups, with and without bias, kernel_shape, the 1x1
 * GEMM-only path, blocked col2im, opsets 1 and 11. Then the error cases with status and message.
 *
 * A case is a compact spec string (one token per attribute), e.g. "N2 C4 M3 g2 i5,6 k3,3 s2,1 B":
 *   N batch, C input channels, M output channels per group, g group, i input spatial extents,
 *   k kernel, s strides, d dilations, p pads (begin..., end...), o output_padding, O output_shape,
 *   A auto_pad (U SAME_UPPER, L SAME_LOWER, V VALID, N NOTSET), K pass kernel_shape, B bias,
 *   v opset (default 11). s/d/p/o/O given = attribute present.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrt.h"

typedef struct ct_spec {
    int nsp;
    int64_t N, C, Mg, group;
    int64_t in[3], k[3], s[3], d[3], pads[6], opad[3], oshape[3];
    bool has_s, has_d, has_p, has_o, kattr, bias;
    int has_O;            /* count of output_shape values */
    const char *auto_pad; /* NULL = absent */
    int64_t wd[5];        /* error cases: W's shape (wr dims), a bias length, X's type */
    int wr;
    int64_t bias_len;
    int dtype;
    int opset;
} ct_spec;

static ct_spec parse_spec(const char *text) {
    ct_spec c;
    memset(&c, 0, sizeof(c));
    c.N = c.C = c.Mg = c.group = 1;
    c.opset = 11;
    for (int i = 0; i < 3; i++)
        c.s[i] = c.d[i] = 1;
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", text);
    for (char *tok = strtok(buf, " "); tok; tok = strtok(NULL, " ")) {
        const char *v = tok + 1;
        switch (tok[0]) {
        case 'N':
            c.N = atoll(v);
            break;
        case 'C':
            c.C = atoll(v);
            break;
        case 'M':
            c.Mg = atoll(v);
            break;
        case 'g':
            c.group = atoll(v);
            break;
        case 'v':
            c.opset = atoi(v);
            break;
        case 'i':
            c.nsp = mrt_parse_ints(v, c.in, 3);
            break;
        case 'k':
            mrt_parse_ints(v, c.k, 3);
            break;
        case 's':
            c.has_s = mrt_parse_ints(v, c.s, 3) > 0;
            break;
        case 'd':
            c.has_d = mrt_parse_ints(v, c.d, 3) > 0;
            break;
        case 'p':
            c.has_p = mrt_parse_ints(v, c.pads, 6) > 0;
            break;
        case 'o':
            c.has_o = mrt_parse_ints(v, c.opad, 3) > 0;
            break;
        case 'O':
            c.has_O = mrt_parse_ints(v, c.oshape, 3);
            break;
        case 'w':
            c.wr = mrt_parse_ints(v, c.wd, 5);
            break;
        case 'b':
            c.bias_len = atoll(v);
            break;
        case 'f':
            c.dtype = MINIRT_FLOAT64;
            break;
        case 'K':
            c.kattr = true;
            break;
        case 'B':
            c.bias = true;
            break;
        case 'A':
            c.auto_pad = v[0] == 'U'   ? "SAME_UPPER"
                         : v[0] == 'L' ? "SAME_LOWER"
                         : v[0] == 'V' ? "VALID"
                                       : "NOTSET";
            break;
        default:
            fail_msg("bad spec token '%s' in '%s'", tok, text);
        }
    }
    return c;
}

/* Output extent and begin pad of axis i, from the spec's formulas (opset 11 split, see
 * conv_transpose.c; a negative total extends the output at the end). */
static void ref_geometry(const ct_spec *c, int i, int64_t *out, int64_t *pb) {
    int64_t full = c->s[i] * (c->in[i] - 1) + c->opad[i] + (c->k[i] - 1) * c->d[i] + 1;
    const char *ap = c->auto_pad ? c->auto_pad : "NOTSET";
    bool same = strncmp(ap, "SAME", 4) == 0;
    if (c->has_O || same) {
        *out = c->has_O ? c->oshape[i] : c->in[i] * c->s[i];
        int64_t total = full - *out;
        if (total < 0)
            *pb = 0;
        else
            *pb = strcmp(ap, "SAME_UPPER") == 0 ? total / 2 : total - total / 2;
    } else if (strcmp(ap, "VALID") == 0) {
        *out = full;
        *pb = 0;
    } else {
        *pb = c->pads[i];
        *out = full - c->pads[i] - c->pads[c->nsp + i];
    }
}

/* Scatter each input element through each kernel tap: y[o = i*s - pb + k*d] += x[i] * w[k]. */
static void ref_conv_transpose(const ct_spec *c, const float *x, const float *w, const float *b,
                               double *y) {
    int64_t in[3] = {1, 1, 1}, k[3] = {1, 1, 1}, s[3] = {1, 1, 1}, d[3] = {1, 1, 1};
    int64_t out[3] = {1, 1, 1}, pb[3] = {0};
    for (int i = 0; i < c->nsp; i++) {
        in[i] = c->in[i];
        k[i] = c->k[i];
        s[i] = c->s[i];
        d[i] = c->d[i];
        ref_geometry(c, i, &out[i], &pb[i]);
    }
    int64_t Cg = c->C / c->group, M = c->Mg * c->group;
    int64_t in_vol = in[0] * in[1] * in[2], k_vol = k[0] * k[1] * k[2];
    int64_t out_vol = out[0] * out[1] * out[2];
    for (int64_t n = 0; n < c->N; n++)
        for (int64_t m = 0; m < M; m++)
            for (int64_t q = 0; q < out_vol; q++)
                y[(n * M + m) * out_vol + q] = b ? b[m] : 0.0;
    for (int64_t n = 0; n < c->N; n++)
        for (int64_t ci = 0; ci < c->C; ci++) {
            int64_t g = ci / Cg;
            for (int64_t i0 = 0; i0 < in[0]; i0++)
                for (int64_t i1 = 0; i1 < in[1]; i1++)
                    for (int64_t i2 = 0; i2 < in[2]; i2++) {
                        double xv = x[(n * c->C + ci) * in_vol + (i0 * in[1] + i1) * in[2] + i2];
                        for (int64_t mg = 0; mg < c->Mg; mg++)
                            for (int64_t k0 = 0; k0 < k[0]; k0++)
                                for (int64_t k1 = 0; k1 < k[1]; k1++)
                                    for (int64_t k2 = 0; k2 < k[2]; k2++) {
                                        int64_t o0 = i0 * s[0] - pb[0] + k0 * d[0];
                                        int64_t o1 = i1 * s[1] - pb[1] + k1 * d[1];
                                        int64_t o2 = i2 * s[2] - pb[2] + k2 * d[2];
                                        if (o0 < 0 || o0 >= out[0] || o1 < 0 || o1 >= out[1] ||
                                            o2 < 0 || o2 >= out[2])
                                            continue;
                                        double wv = w[(ci * c->Mg + mg) * k_vol +
                                                      (k0 * k[1] + k1) * k[2] + k2];
                                        int64_t m = g * c->Mg + mg;
                                        y[(n * M + m) * out_vol + (o0 * out[1] + o1) * out[2] +
                                          o2] += xv * wv;
                                    }
                    }
        }
}

static void setup_node(mr_node *node, const ct_spec *c) {
    int nsp = c->nsp;
    mrt_node_init(node, "ConvTranspose", c->opset);
    if (c->has_s) mrt_attr_ints(node, "strides", c->s, nsp);
    if (c->has_d) mrt_attr_ints(node, "dilations", c->d, nsp);
    if (c->has_p) mrt_attr_ints(node, "pads", c->pads, 2 * nsp);
    if (c->has_o) mrt_attr_ints(node, "output_padding", c->opad, nsp);
    if (c->has_O) mrt_attr_ints(node, "output_shape", c->oshape, c->has_O);
    if (c->kattr) mrt_attr_ints(node, "kernel_shape", c->k, nsp);
    if (c->group != 1) mrt_attr_int(node, "group", c->group);
    if (c->auto_pad) mrt_attr_string(node, "auto_pad", c->auto_pad);
}

typedef struct ct_case {
    const char *name, *spec;
} ct_case;

static const ct_case cases[] = {
    {"2d basic", "C1 M2 i3,3 k3,3"},
    {"2d batch bias", "N2 C3 M4 i5,4 k3,3 B K"},
    {"2d strides", "N1 C2 M3 i4,5 k3,3 s2,3 B"},
    {"2d stride > kernel", "N2 C2 M2 i3,4 k2,2 s3,3 B"},
    {"2d pads asym", "N1 C3 M2 i5,6 k3,4 s2,2 p1,0,2,1 B K"},
    {"2d dilations", "N1 C2 M2 i4,5 k3,2 d2,3 B"},
    {"2d dil stride pads", "N2 C3 M2 i5,4 k3,3 s2,2 d2,1 p1,2,0,1 B"},
    {"2d output_padding", "N1 C1 M2 i3,3 k3,3 s3,2 o1,1"},
    {"2d opad < dilation", "N1 C2 M2 i4,3 k2,3 s1,1 d3,2 o2,1 B"},
    {"2d pytorch export", "N2 C3 M4 i5,6 k3,3 s3,2 p1,1,1,1 o1,1 d1,1 B K v6"},
    {"2d output_shape", "N1 C1 M2 i3,3 k3,3 s3,2 O10,8"},
    {"2d output_shape small", "N1 C2 M3 i4,4 k3,3 s2,2 O8,7 B"},
    {"2d output_shape odd", "N1 C2 M2 i4,5 k4,3 s2,2 O7,9 B v1"},
    {"2d output_shape opad", "N1 C1 M2 i3,3 k3,3 s3,2 o1,1 O10,8 K"},
    {"2d output_shape + pads", "N1 C2 M2 i4,4 k3,3 s2,2 p1,1,1,1 O8,8 B"},
    {"2d same_upper", "N1 C1 M2 i3,3 k3,3 s2,2 AU"},
    {"2d same_upper odd", "N2 C2 M3 i5,4 k4,3 s2,3 AU B"},
    {"2d same_lower", "N2 C2 M3 i5,4 k4,3 s2,3 AL B"},
    {"2d same dil", "N1 C2 M2 i4,4 k3,3 s2,2 d2,2 AL B"},
    {"2d same short kernel", "N1 C2 M2 i3,3 k1,2 s3,3 AU B"},
    {"2d valid", "N1 C2 M2 i4,3 k3,2 s2,2 AV B"},
    {"2d notset explicit", "N1 C2 M2 i4,3 k3,2 s2,1 AN p0,1,1,0"},
    {"2d groups", "N2 C4 M3 g2 i4,5 k3,3 s2,1 p1,0,0,1 B"},
    {"2d depthwise", "N1 C3 M1 g3 i5,5 k3,3 s2,2 p1,1,1,1 o1,1 B"},
    {"2d pointwise", "N2 C5 M3 i4,3 k1,1 B"},
    {"2d pointwise groups", "N1 C4 M2 g2 i3,5 k1,1"},
    {"2d 1x1 stride 2", "N1 C3 M2 i3,4 k1,1 s2,2 B"},
    {"2d 1x1 opad", "N1 C2 M2 i3,3 k1,1 d2,2 o1,1 B"},
    {"2d blocked col", "N1 C3 M40 i70,70 k5,5 s2,2 p2,2,2,2 B"},
    {"1d basic", "C1 M2 i3 k3"},
    {"1d stride dil", "N2 C2 M3 i7 k3 s2 d2 p1,2 o1 B"},
    {"1d groups same", "N1 C4 M2 g2 i6 k4 s2 AU B"},
    {"3d basic", "C1 M2 i3,4,5 k3,3,3"},
    {"3d all", "N2 C4 M2 g2 i3,4,3 k2,3,2 s2,1,3 d1,2,1 p1,0,1,0,1,0 o1,0,2 B K"},
    {"3d output_shape", "N1 C2 M2 i2,3,3 k3,2,2 s2,2,1 O6,7,4 B"},
};

static void test_conv_transpose_table(void **state) {
    (void)state;
    for (size_t ci = 0; ci < sizeof(cases) / sizeof(cases[0]); ci++) {
        const ct_case *tc = &cases[ci];
        ct_spec c = parse_spec(tc->spec);
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        int nd = c.nsp + 2;
        int64_t M = c.Mg * c.group;
        int64_t xd[5] = {c.N, c.C}, wd[5] = {c.C, c.Mg}, bd[1] = {M}, yd[5] = {c.N, M};
        for (int i = 0; i < c.nsp; i++) {
            int64_t pb;
            xd[2 + i] = c.in[i];
            wd[2 + i] = c.k[i];
            ref_geometry(&c, i, &yd[2 + i], &pb);
        }
        mr_tensor X = mrt_tensor(MINIRT_FLOAT32, nd, xd), W = mrt_tensor(MINIRT_FLOAT32, nd, wd);
        mr_tensor B = mrt_tensor(MINIRT_FLOAT32, 1, bd), Y = {0};
        mrt_fill(&X, (uint32_t)ci * 3 + 1, -1.0f, 1.0f);
        mrt_fill(&W, (uint32_t)ci * 3 + 2, -1.0f, 1.0f);
        mrt_fill(&B, (uint32_t)ci * 3 + 3, -1.0f, 1.0f);
        mr_node node;
        setup_node(&node, &c);
        mr_tensor *in[3] = {&X, &W, c.bias ? &B : NULL}, *out[1] = {&Y};
        mr_status st = mrt_run_op(&ctx, &node, in, c.bias ? 3 : 2, out, 1);
        if (st != MINIRT_OK) fail_msg("%s: %s", tc->name, ctx.err);
        assert_int_equal(Y.ndim, nd);
        for (int i = 0; i < nd; i++)
            if (Y.dims[i] != yd[i])
                fail_msg("%s: output dim %d is %lld, want %lld", tc->name, i, (long long)Y.dims[i],
                         (long long)yd[i]);
        int64_t n = mr_numel(&Y);
        double *ref = calloc((size_t)n + 1, sizeof(double));
        float *want = calloc((size_t)n + 1, sizeof(float));
        ref_conv_transpose(&c, X.data, W.data, c.bias ? B.data : NULL, ref);
        for (int64_t i = 0; i < n; i++)
            want[i] = (float)ref[i];
        mrt_assert_close(Y.data, want, n, 1e-4, 1e-4, tc->name);
        if (strcmp(tc->name, "2d blocked col") == 0) {
            /* The case exists to exercise more than one col block. */
            assert_true(node.workspace < (size_t)(c.Mg * 25 * 70 * 70 * 4));
        }
        free(ref);
        free(want);
        mrt_node_free(&ctx, &node);
        mrt_tensor_free(&X);
        mrt_tensor_free(&W);
        mrt_tensor_free(&B);
        mrt_tensor_free(&Y);
    }
}

/* The ONNX node test test_convtranspose_autopad_same, by value: SAME_UPPER puts the odd unit of
 * padding at the end, so the first output row is the full output's first row. */
static void test_conv_transpose_same_upper_values(void **state) {
    (void)state;
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    int64_t xd[4] = {1, 1, 3, 3}, wd[4] = {1, 1, 3, 3};
    mr_tensor X = mrt_tensor(MINIRT_FLOAT32, 4, xd), W = mrt_tensor(MINIRT_FLOAT32, 4, wd), Y = {0};
    for (int i = 0; i < 9; i++) {
        ((float *)X.data)[i] = (float)i;
        ((float *)W.data)[i] = 1.0f;
    }
    mr_node node;
    mrt_node_init(&node, "ConvTranspose", 11);
    int64_t s[2] = {2, 2};
    mrt_attr_ints(&node, "strides", s, 2);
    mrt_attr_string(&node, "auto_pad", "SAME_UPPER");
    mr_tensor *in[2] = {&X, &W}, *out[1] = {&Y};
    assert_int_equal(mrt_run_op(&ctx, &node, in, 2, out, 1), MINIRT_OK);
    assert_int_equal(Y.dims[2], 6);
    assert_int_equal(Y.dims[3], 6);
    const float row0[6] = {0, 0, 1, 1, 3, 2}, row2[6] = {3, 3, 8, 5, 12, 7};
    mrt_assert_close(Y.data, row0, 6, 0, 0, "row 0");
    mrt_assert_close((float *)Y.data + 12, row2, 6, 0, 0, "row 2");
    mrt_node_free(&ctx, &node);
    mrt_tensor_free(&X);
    mrt_tensor_free(&W);
    mrt_tensor_free(&Y);
}

/* A case that must fail at prepare or infer with this status and message fragment. Extra spec
 * tokens: w W's shape (else from C, M, k), b a bias of this length, f X as float64. */
typedef struct ct_error_case {
    const char *name, *spec;
    mr_status status;
    const char *msg;
} ct_error_case;

static const ct_error_case error_cases[] = {
    {"C vs group", "C3 M2 g2 i4,4 k3,3", MINIRT_ERR_SHAPE,
     "3 input channels are not divisible by group 2"},
    {"W dim 0", "C4 M2 i4,4 k3,3 w3,2,3,3", MINIRT_ERR_SHAPE,
     "its dim 0 must equal the 4 input channels"},
    {"opad >= stride", "C1 M1 i4,4 k3,3 s2,2 o0,2", MINIRT_ERR_MODEL,
     "output_padding[1] is 2; it must be less than the stride (2) or the dilation (1)"},
    {"opad no stride", "C1 M1 i4,4 k3,3 o1,0", MINIRT_ERR_MODEL, "output_padding[0] is 1"},
    {"opad negative", "C1 M1 i4,4 k3,3 o-1,0", MINIRT_ERR_MODEL, "output_padding[0] is -1"},
    {"stride 0", "C1 M1 i4,4 k3,3 s1,0", MINIRT_ERR_MODEL, "strides[1] is 0"},
    {"dilation 0", "C1 M1 i4,4 k3,3 d0,1", MINIRT_ERR_MODEL, "dilations[0] is 0"},
    {"negative pad", "C1 M1 i4,4 k3,3 p0,0,-1,0", MINIRT_ERR_MODEL, "pads[2] is -1"},
    {"output size 0", "C1 M1 i2,2 k2,2 p1,1,2,1", MINIRT_ERR_SHAPE, "output extent in dim 0 is 0"},
    {"output_shape 0", "C1 M1 i2,2 k2,2 O0,3", MINIRT_ERR_MODEL, "output_shape[0] is 0"},
    {"output_shape length", "C1 M1 i2,2 k2,2 O3", MINIRT_ERR_MODEL, "do not match 2 spatial dims"},
    {"group 0", "C2 M1 g0 i4,4 k3,3", MINIRT_ERR_MODEL, "group is 0"},
    {"kernel_shape", "C1 M1 i4,4 k3,3 K w1,1,3,2", MINIRT_ERR_SHAPE,
     "kernel_shape 3x3 does not match weight W 1x1x3x2"},
    {"rank mismatch", "C1 M1 i4,4 k3,3 w1,1,3", MINIRT_ERR_SHAPE, "ranks must match"},
    {"rank 2", "C1 M1 w1,1", MINIRT_ERR_SHAPE, "rank >= 3"},
    {"bias length", "C2 M3 i4,4 k3,3 b4", MINIRT_ERR_SHAPE, "bias B has shape 4; expected 3"},
    {"pads + auto_pad", "C1 M1 i4,4 k3,3 AU p1,0,0,0", MINIRT_ERR_MODEL,
     "pads and auto_pad 'SAME_UPPER' cannot be used together"},
    {"float64", "C1 M1 i4,4 k3,3 f", MINIRT_ERR_UNSUPPORTED,
     "input X is float64; only float32 is supported"},
};

static void run_error_case(const ct_error_case *e, mr_ctx *ctx) {
    ct_spec c = parse_spec(e->spec);
    int nd = c.nsp + 2, wr = c.wr ? c.wr : nd;
    int64_t xd[5] = {c.N, c.C}, wd[5] = {c.C, c.Mg}, bd[1] = {c.bias_len};
    for (int i = 0; i < c.nsp; i++) {
        xd[2 + i] = c.in[i];
        wd[2 + i] = c.k[i];
    }
    if (c.wr) memcpy(wd, c.wd, sizeof(wd));
    mr_tensor X = mrt_tensor(c.dtype ? c.dtype : MINIRT_FLOAT32, nd, xd);
    mr_tensor W = mrt_tensor(MINIRT_FLOAT32, wr, wd), B = mrt_tensor(MINIRT_FLOAT32, 1, bd);
    mr_tensor Y = {0};
    mr_node node;
    setup_node(&node, &c);
    mr_tensor *in[3] = {&X, &W, &B}, *out[1] = {&Y};
    mrt_expect_status(ctx, mrt_run_op(ctx, &node, in, c.bias_len ? 3 : 2, out, 1), e->status,
                      e->msg, "node 'test_node' (ConvTranspose): ", e->name);
    mrt_node_free(ctx, &node);
    mrt_tensor_free(&X);
    mrt_tensor_free(&W);
    mrt_tensor_free(&B);
    mrt_tensor_free(&Y);
}

static void test_conv_transpose_errors(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        run_error_case(&error_cases[i], &ctx);
    }
    /* Sizes: an output over the per-tensor limit. */
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    ctx.max_tensor_bytes = 4096;
    ct_error_case big = {"limit", "C1 M4 i16,16 k3,3 s2,2", MINIRT_ERR_LIMIT,
                         "output Y: tensor of shape 1x4x33x33"};
    run_error_case(&big, &ctx);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_transpose_table),
        cmocka_unit_test(test_conv_transpose_same_upper_values),
        cmocka_unit_test(test_conv_transpose_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
