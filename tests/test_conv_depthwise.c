/*
 * test_conv_depthwise.c - the depthwise Conv kernel (src/ops/conv_depthwise.c) against a naive
 * reference (direct summation in double) over a table of shapes: 3x3 and 5x5 (the fast kernels)
 * and other sizes, strides 1 to 4, dilation, symmetric, asymmetric and oversized padding, output
 * widths on both sides of the vector widths, multiplier > 1, batch > 1, bands of rows, and rows
 * too wide to stage. Each case runs on every instruction set this CPU has (AVX-512, AVX2, and the
 * forced portable path), with guard values around the output. Then mr_conv_dw_supported's
 * accept/reject decisions, and the Conv op choosing the kernel through conv.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrt.h"
#include "ops/conv_depthwise.h"

typedef struct dw_case {
    const char *name;
    int64_t N, C, mult;
    int64_t H, W, kh, kw, sh, sw, dh, dw;
    int64_t pads[4]; /* top, left, bottom, right */
    bool bias;
    bool staged; /* whether the SIMD paths stage it (else the direct fallback) */
} dw_case;

static const dw_case cases[] = {
    {"3x3 s1 p1", 1, 3, 1, 9, 11, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, true, true},
    {"3x3 s1 p1 56x56 batch 2", 2, 5, 1, 56, 56, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, true, true},
    {"3x3 s1 no pad", 1, 4, 1, 7, 9, 3, 3, 1, 1, 1, 1, {0, 0, 0, 0}, false, true},
    {"3x3 s1 pads asym", 2, 3, 1, 10, 19, 3, 3, 1, 1, 1, 1, {0, 2, 1, 0}, true, true},
    {"3x3 s2 p1", 1, 4, 1, 13, 17, 3, 3, 2, 2, 1, 1, {1, 1, 1, 1}, true, true},
    {"3x3 s2 p1 112", 1, 3, 1, 112, 112, 3, 3, 2, 2, 1, 1, {1, 1, 1, 1}, true, true},
    {"3x3 s2 same_upper", 2, 3, 1, 14, 14, 3, 3, 2, 2, 1, 1, {0, 0, 1, 1}, true, true},
    {"3x3 s2 pad left odd", 1, 2, 1, 9, 40, 3, 3, 2, 2, 1, 1, {1, 3, 0, 2}, true, true},
    {"3x3 7x7", 1, 19, 1, 7, 7, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, true, true},
    {"3x3 14x14 s2", 1, 17, 1, 14, 14, 3, 3, 2, 2, 1, 1, {1, 1, 1, 1}, true, true},
    {"3x3 width 16", 1, 2, 1, 5, 16, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, true, true},
    {"3x3 width 17", 1, 2, 1, 5, 17, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, true, true},
    {"3x3 width 31", 1, 2, 1, 4, 31, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, false, true},
    {"3x3 width 32", 1, 2, 1, 4, 32, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, true, true},
    {"3x3 width 33", 1, 2, 1, 4, 33, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, true, true},
    {"3x3 width 1", 2, 3, 1, 6, 1, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, true, true},
    {"3x3 one row", 1, 3, 1, 1, 20, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, true, true},
    {"3x3 pad larger than kernel", 1, 2, 1, 4, 5, 3, 3, 1, 1, 1, 1, {4, 5, 3, 4}, true, true},
    {"3x3 s2 pad larger", 1, 2, 1, 5, 6, 3, 3, 2, 2, 1, 1, {3, 4, 4, 3}, true, true},
    {"3x3 multiplier 2", 2, 3, 2, 8, 7, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, true, true},
    {"3x3 s2 multiplier 3", 1, 2, 3, 11, 21, 3, 3, 2, 2, 1, 1, {1, 1, 1, 1}, true, true},
    {"3x3 one channel x5", 2, 1, 5, 9, 10, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, true, true},
    {"3x3 bands s1", 1, 2, 1, 150, 130, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, true, true},
    {"3x3 bands s2", 2, 2, 1, 121, 150, 3, 3, 2, 2, 1, 1, {1, 1, 1, 1}, true, true},
    {"3x3 dilation 2", 1, 3, 1, 12, 13, 3, 3, 1, 1, 2, 2, {2, 2, 2, 2}, true, true},
    {"3x3 dilation 2x3 s2", 2, 2, 1, 15, 23, 3, 3, 2, 2, 2, 3, {2, 3, 1, 0}, true, true},
    {"3x3 dilation 1x2", 1, 3, 1, 9, 23, 3, 3, 1, 1, 1, 2, {1, 2, 1, 2}, true, true},
    {"5x5 s2 dilation 1x3", 2, 2, 1, 17, 40, 5, 5, 2, 2, 1, 3, {2, 6, 2, 6}, true, true},
    {"3x3 bands multiplier 2", 1, 2, 2, 140, 130, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, true, true},
    {"3x3 s1x2", 1, 3, 1, 10, 21, 3, 3, 1, 2, 1, 1, {1, 1, 1, 1}, true, true},
    {"3x3 s2x1", 1, 3, 1, 21, 10, 3, 3, 2, 1, 1, 1, {1, 1, 1, 1}, true, true},
    {"3x3 s3", 1, 3, 1, 20, 37, 3, 3, 3, 3, 1, 1, {1, 1, 1, 1}, false, true},
    {"3x3 s4", 1, 2, 1, 21, 45, 3, 3, 4, 4, 1, 1, {1, 0, 0, 2}, true, true},
    {"5x5 s1 p2", 1, 7, 1, 14, 14, 5, 5, 1, 1, 1, 1, {2, 2, 2, 2}, true, true},
    {"5x5 s1 p2 batch 2 wide", 2, 3, 1, 28, 41, 5, 5, 1, 1, 1, 1, {2, 2, 2, 2}, true, true},
    {"5x5 s2 p2", 1, 5, 1, 28, 28, 5, 5, 2, 2, 1, 1, {2, 2, 2, 2}, true, true},
    {"5x5 s2 same_upper", 1, 3, 1, 15, 15, 5, 5, 2, 2, 1, 1, {1, 1, 2, 2}, true, true},
    {"5x5 7x7", 1, 9, 1, 7, 7, 5, 5, 1, 1, 1, 1, {2, 2, 2, 2}, false, true},
    {"5x5 dilation 2", 1, 2, 2, 19, 18, 5, 5, 1, 1, 2, 2, {4, 4, 4, 4}, true, true},
    {"5x5 s3", 1, 2, 1, 20, 51, 5, 5, 3, 3, 1, 1, {2, 2, 2, 2}, true, true},
    {"7x7 s1 p3", 1, 3, 1, 15, 37, 7, 7, 1, 1, 1, 1, {3, 3, 3, 3}, true, true},
    {"7x7 s2 p3", 1, 3, 1, 16, 40, 7, 7, 2, 2, 1, 1, {3, 3, 3, 3}, true, true},
    {"1x1 s2", 1, 4, 1, 9, 35, 1, 1, 2, 2, 1, 1, {0, 0, 0, 0}, true, true},
    {"1x1 padded", 1, 2, 2, 5, 6, 1, 1, 1, 1, 1, 1, {1, 0, 0, 1}, true, true},
    {"2x2 s2", 2, 3, 1, 10, 34, 2, 2, 2, 2, 1, 1, {0, 0, 0, 0}, true, true},
    {"3x5", 1, 3, 1, 11, 20, 3, 5, 1, 1, 1, 1, {1, 2, 1, 2}, true, true},
    {"5x3 s2x1", 1, 3, 1, 17, 20, 5, 3, 2, 1, 1, 1, {2, 1, 2, 1}, true, true},
    {"1x9", 1, 2, 1, 4, 50, 1, 9, 1, 1, 1, 1, {0, 4, 0, 4}, true, true},
    {"kernel = input", 1, 3, 1, 6, 5, 6, 5, 1, 1, 1, 1, {0, 0, 0, 0}, true, true},
    {"no input rows", 1, 2, 2, 0, 5, 1, 3, 1, 1, 1, 1, {1, 1, 1, 1}, true, true},
    {"no input columns", 2, 2, 1, 4, 0, 3, 3, 1, 2, 1, 1, {1, 2, 1, 2}, true, true},
    {"too wide to stage", 1, 2, 1, 5, 1500, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, true, false},
    {"kernel too wide to stage", 1, 2, 1, 3, 60, 1, 35, 1, 1, 1, 1, {0, 17, 0, 17}, true, false},
    {"tall kernel not staged", 1, 1, 1, 300, 300, 31, 3, 1, 1, 9, 1, {0, 1, 0, 1}, true, false},
};

static int64_t out_extent(int64_t in, int64_t pb, int64_t pe, int64_t k, int64_t s, int64_t d) {
    return (in + pb + pe - (k - 1) * d - 1) / s + 1;
}

/* Params as conv.c's infer would fill them for a depthwise layer. */
static mr_conv_params case_params(const dw_case *c) {
    mr_conv_params p;
    memset(&p, 0, sizeof(p));
    p.nsp = 2;
    p.N = c->N, p.C = c->C, p.M = c->C * c->mult, p.group = c->C;
    p.Cg = 1, p.Mg = c->mult;
    p.in[0] = c->H, p.in[1] = c->W;
    p.k[0] = c->kh, p.k[1] = c->kw, p.s[0] = c->sh, p.s[1] = c->sw, p.d[0] = c->dh, p.d[1] = c->dw;
    p.pad_begin[0] = c->pads[0], p.pad_begin[1] = c->pads[1];
    p.pad_end[0] = c->pads[2], p.pad_end[1] = c->pads[3];
    p.out[0] = out_extent(c->H, c->pads[0], c->pads[2], c->kh, c->sh, c->dh);
    p.out[1] = out_extent(c->W, c->pads[1], c->pads[3], c->kw, c->sw, c->dw);
    p.P = p.out[0] * p.out[1];
    p.in_size = c->H * c->W;
    p.K = c->kh * c->kw;
    p.residual_input = -1;
    p.algo = MR_CONV_DEPTHWISE;
    return p;
}

/* Direct summation in double, one output at a time, skipping taps outside the input. */
static void ref_dw(const mr_conv_params *p, const float *x, const float *w, const float *b,
                   float *y) {
    const int64_t H = p->in[0], W = p->in[1], OH = p->out[0], OW = p->out[1], mult = p->M / p->C;
    for (int64_t n = 0; n < p->N; n++)
        for (int64_t m = 0; m < p->M; m++)
            for (int64_t oy = 0; oy < OH; oy++)
                for (int64_t ox = 0; ox < OW; ox++) {
                    double acc = b ? b[m] : 0.0;
                    for (int64_t ky = 0; ky < p->k[0]; ky++)
                        for (int64_t kx = 0; kx < p->k[1]; kx++) {
                            int64_t iy = oy * p->s[0] - p->pad_begin[0] + ky * p->d[0];
                            int64_t ix = ox * p->s[1] - p->pad_begin[1] + kx * p->d[1];
                            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                            acc += (double)x[((n * p->C + m / mult) * H + iy) * W + ix] *
                                   w[(m * p->k[0] + ky) * p->k[1] + kx];
                        }
                    y[((n * p->M + m) * OH + oy) * OW + ox] = (float)acc;
                }
}

#define GUARD 37
#define GUARD_VALUE 12345.0f

static const char *isa_name(mr_conv_dw_isa isa) {
    return isa == MR_CONV_DW_ISA_AVX512 ? "avx512"
           : isa == MR_CONV_DW_ISA_AVX2 ? "avx2"
                                        : "portable";
}

static void test_dw_table(void **state) {
    (void)state;
    int runs = 0;
    for (size_t ci = 0; ci < sizeof(cases) / sizeof(cases[0]); ci++) {
        const dw_case *c = &cases[ci];
        mr_conv_params p = case_params(c);
        assert_true(mr_conv_dw_supported(&p));
        if (mr_conv_dw_staged(&p) != c->staged)
            fail_msg("%s: staged is %d, want %d", c->name, !c->staged, c->staged);
        int64_t xd[4] = {c->N, c->C, c->H, c->W}, wd[4] = {p.M, 1, c->kh, c->kw}, bd[1] = {p.M};
        mr_tensor X = mrt_tensor(MINIRT_FLOAT32, 4, xd), Wt = mrt_tensor(MINIRT_FLOAT32, 4, wd);
        mr_tensor B = mrt_tensor(MINIRT_FLOAT32, 1, bd);
        mrt_fill(&X, (uint32_t)ci * 3 + 1, -1.0f, 1.0f);
        mrt_fill(&Wt, (uint32_t)ci * 3 + 2, -1.0f, 1.0f);
        mrt_fill(&B, (uint32_t)ci * 3 + 3, -1.0f, 1.0f);
        const float *bias = c->bias ? B.data : NULL;
        const int64_t ny = p.N * p.M * p.P;
        float *want = malloc((size_t)(ny + 1) * sizeof(float));
        float *buf = malloc((size_t)(ny + 2 * GUARD) * sizeof(float));
        assert_non_null(want);
        assert_non_null(buf);
        ref_dw(&p, X.data, Wt.data, bias, want);
        /* each instruction set once: capped at AVX-512, at AVX2, and portable */
        mr_conv_dw_isa done[3];
        int n_done = 0;
        for (int cap = MR_CONV_DW_ISA_AVX512; cap >= MR_CONV_DW_ISA_PORTABLE; cap--) {
            mr_conv_dw_isa isa = mr_conv_dw_isa_for((mr_conv_dw_isa)cap);
            bool seen = false;
            for (int i = 0; i < n_done; i++)
                seen |= done[i] == isa;
            if (seen) continue;
            done[n_done++] = isa;
            for (int64_t i = 0; i < ny + 2 * GUARD; i++)
                buf[i] = GUARD_VALUE;
            mr_conv_dw_force_isa((mr_conv_dw_isa)cap);
            /* in two calls over plane ranges, as the threads split them */
            int64_t planes = p.N * p.C, half = planes / 2;
            mr_conv_dw_run(&p, X.data, Wt.data, bias, buf + GUARD, 0, half);
            mr_conv_dw_run(&p, X.data, Wt.data, bias, buf + GUARD, half, planes);
            mr_conv_dw_force_isa(MR_CONV_DW_ISA_AUTO);
            char what[160];
            snprintf(what, sizeof(what), "%s (%s)", c->name, isa_name(isa));
            mrt_assert_close(buf + GUARD, want, ny, 1e-4, 1e-4, what);
            for (int64_t i = 0; i < GUARD; i++)
                if (buf[i] != GUARD_VALUE || buf[GUARD + ny + i] != GUARD_VALUE)
                    fail_msg("%s: wrote outside the output", what);
            runs++;
        }
        free(want);
        free(buf);
        mrt_tensor_free(&X);
        mrt_tensor_free(&Wt);
        mrt_tensor_free(&B);
    }
    printf("depthwise: %zu cases, %d runs (portable%s%s)\n", sizeof(cases) / sizeof(cases[0]), runs,
           mr_conv_dw_isa_for(MR_CONV_DW_ISA_AVX2) == MR_CONV_DW_ISA_AVX2 ? ", avx2" : "",
           mr_conv_dw_isa_for(MR_CONV_DW_ISA_AVX512) == MR_CONV_DW_ISA_AVX512 ? ", avx512" : "");
}

static void test_dw_supported(void **state) {
    (void)state;
    const dw_case base = {"base", 1, 4, 1, 8, 8, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, true, true};
    mr_conv_params p = case_params(&base);
    assert_true(mr_conv_dw_supported(&p));
    /* multiplier 2 */
    p.M = 8, p.Mg = 2;
    assert_true(mr_conv_dw_supported(&p));
    /* one input channel, group 1: depthwise with multiplier M */
    p = case_params(&base);
    p.C = 1, p.group = 1, p.M = 6, p.Mg = 6;
    assert_true(mr_conv_dw_supported(&p));
    /* dilation, stride 3, any kernel */
    p = case_params(&base);
    p.d[0] = 2, p.s[1] = 3, p.k[0] = 7;
    assert_true(mr_conv_dw_supported(&p));
    /* grouped but not depthwise: 2 input channels per group */
    p = case_params(&base);
    p.group = 2, p.Cg = 2, p.Mg = 2;
    assert_false(mr_conv_dw_supported(&p));
    /* a dense conv */
    p = case_params(&base);
    p.group = 1, p.Cg = 4, p.Mg = 4;
    assert_false(mr_conv_dw_supported(&p));
    /* M not a multiple of C */
    p = case_params(&base);
    p.M = 6;
    assert_false(mr_conv_dw_supported(&p));
    /* 1-D and 3-D */
    p = case_params(&base);
    p.nsp = 1;
    assert_false(mr_conv_dw_supported(&p));
    p.nsp = 3;
    assert_false(mr_conv_dw_supported(&p));
}

/* Through the Conv op: conv.c picks the depthwise algorithm and the result matches. */
static void test_dw_conv_op(void **state) {
    (void)state;
    static const char *const picks[] = {"3x3 s1 p1 56x56 batch 2", "3x3 s2 same_upper",
                                        "3x3 multiplier 2", "5x5 s2 p2", "3x3 dilation 2x3 s2"};
    for (size_t k = 0; k < sizeof(picks) / sizeof(picks[0]); k++) {
        const dw_case *c = NULL;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
            if (strcmp(cases[i].name, picks[k]) == 0) c = &cases[i];
        assert_non_null(c);
        mr_conv_params p = case_params(c);
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        int64_t xd[4] = {c->N, c->C, c->H, c->W}, wd[4] = {p.M, 1, c->kh, c->kw}, bd[1] = {p.M};
        mr_tensor X = mrt_tensor(MINIRT_FLOAT32, 4, xd), Wt = mrt_tensor(MINIRT_FLOAT32, 4, wd);
        mr_tensor B = mrt_tensor(MINIRT_FLOAT32, 1, bd), Y = {0};
        mrt_fill(&X, 11, -1.0f, 1.0f);
        mrt_fill(&Wt, 12, -1.0f, 1.0f);
        mrt_fill(&B, 13, -1.0f, 1.0f);
        mr_node node;
        mrt_node_init(&node, "Conv", 13);
        mrt_attr_int(&node, "group", c->C);
        mrt_attr_ints(&node, "strides", (const int64_t[]){c->sh, c->sw}, 2);
        mrt_attr_ints(&node, "dilations", (const int64_t[]){c->dh, c->dw}, 2);
        mrt_attr_ints(&node, "pads", c->pads, 4);
        mr_tensor *in[3] = {&X, &Wt, c->bias ? &B : NULL}, *out[1] = {&Y};
        mr_status st = mrt_run_op(&ctx, &node, in, c->bias ? 3 : 2, out, 1);
        if (st != MINIRT_OK) fail_msg("%s: %s", c->name, ctx.err);
        assert_string_equal(node.algo, "depthwise");
        assert_int_equal(mr_numel(&Y), p.N * p.M * p.P);
        float *want = malloc((size_t)mr_numel(&Y) * sizeof(float));
        assert_non_null(want);
        ref_dw(&p, X.data, Wt.data, c->bias ? B.data : NULL, want);
        mrt_assert_close(Y.data, want, mr_numel(&Y), 1e-4, 1e-4, c->name);
        free(want);
        mrt_node_free(&ctx, &node);
        mrt_tensor_free(&X);
        mrt_tensor_free(&Wt);
        mrt_tensor_free(&B);
        mrt_tensor_free(&Y);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dw_table),
        cmocka_unit_test(test_dw_supported),
        cmocka_unit_test(test_dw_conv_op),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
