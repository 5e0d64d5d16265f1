/*
 * conv.h - what the Conv algorithms share: the attributes (parsed by conv.c, also for
 * ConvTranspose), the layer's geometry (filled by conv.c's infer), the fused epilogue (activation
 * and residual add, set by the graph optimizer in mr_node.fuse), and the entry points of the
 * algorithms conv.c chooses between per layer:
 *
 *   im2col + GEMM    the general path and the reference (conv.c)
 *   pointwise        1x1, stride 1, no padding: a direct AVX-512 kernel on X with packed W
 *                    (conv_pointwise.c), or a GEMM straight on X (conv.c) without AVX-512
 *   depthwise        group == C, M a multiple of C, 2-D, any kernel/stride/dilation/padding:
 *                    direct SIMD kernel (conv_depthwise.c)
 *   winograd         3x3, stride 1, dilation 1, group 1: F(4x4, 3x3) / F(2x2, 3x3)
 * (conv_winograd.c)
 *
 * Every algorithm writes Y = act(conv(X, W) + bias + residual) in NCHW.
 */
#ifndef MR_CONV_H
#define MR_CONV_H

#include "mr.h"

/* y[i] = act(y[i]) for i < n. */
void mr_epilogue_apply(const mr_epilogue *e, float *y, int64_t n);

enum { MR_PAD_NOTSET, MR_PAD_VALID, MR_PAD_SAME_UPPER, MR_PAD_SAME_LOWER };

enum {
    MR_CONV_IM2COL = 0,
    MR_CONV_POINTWISE,
    MR_CONV_DEPTHWISE,
    MR_CONV_WINOGRAD,
    MR_CONV_POINTWISE_DIRECT, /* 1x1 by conv_pointwise.c */
    MR_CONV_IM2COL_DIRECT     /* im2col, then conv_pointwise.c's kernel on each block */
};

/* The attributes Conv and ConvTranspose share, parsed once by mr_conv_parse_attrs. A list of
 * length 0 is absent (the default: stride 1, dilation 1, no pads, kernel from W). */
typedef struct mr_conv_attrs {
    int auto_pad; /* MR_PAD_* */
    int64_t group;
    int n_kernel, n_strides, n_dilations, n_pads;
    int64_t kernel[MR_MAX_DIMS], strides[MR_MAX_DIMS], dilations[MR_MAX_DIMS];
    int64_t pads[2 * MR_MAX_DIMS]; /* begins of every spatial axis, then ends */
} mr_conv_attrs;

/* Parse auto_pad, group, kernel_shape, strides, dilations and pads of node into a: a MODEL error
 * naming the node for a value ONNX forbids (group < 1, a kernel dim, stride or dilation < 1, a
 * negative pad, an unknown auto_pad, or nonzero pads beside auto_pad). */
mr_status mr_conv_parse_attrs(mr_ctx *ctx, const mr_node *node, mr_conv_attrs *a);
/* Check X, W and the optional B: float32 (else UNSUPPORTED), X of rank >= 3 and W of X's rank
 * (else SHAPE). */
mr_status mr_conv_check_inputs(mr_ctx *ctx, const mr_node *node, const mr_tensor *X,
                               const mr_tensor *W, const mr_tensor *B);
/* Check the attribute lists' lengths against nsp spatial dims (MODEL) and kernel_shape against W's
 * spatial dims (SHAPE). */
mr_status mr_conv_check_attr_dims(mr_ctx *ctx, const mr_node *node, const mr_conv_attrs *a, int nsp,
                                  const mr_tensor *W);

typedef struct mr_conv_params {
    /* attributes (prepare) */
    mr_conv_attrs attr;
    int64_t group;      /* attr.group, which the algorithms read here */
    mr_epilogue epi;    /* fused activation */
    int residual_input; /* input index of a fused residual Add operand, or -1 */
    /* geometry at the current shapes (infer) */
    int nsp;                  /* spatial rank */
    int64_t in[MR_MAX_DIMS];  /* input spatial extents */
    int64_t out[MR_MAX_DIMS]; /* output spatial extents */
    int64_t k[MR_MAX_DIMS], s[MR_MAX_DIMS], d[MR_MAX_DIMS];
    int64_t pad_begin[MR_MAX_DIMS], pad_end[MR_MAX_DIMS];
    int64_t N, C, M, Cg, Mg, K, P, in_size; /* in_size = prod(in) */
    int64_t block;                          /* output positions per im2col block */
    int algo;                               /* MR_CONV_* chosen at infer */
    /* residual broadcast: element strides of the residual over [N, M, P] (0 where broadcast) */
    bool residual_full; /* the residual has exactly the output's shape */
    int64_t res_stride[3];
    /* algorithm state made at infer from constant weights (e.g. Winograd-transformed W) */
    float *packed;
    int packed_algo;         /* MR_CONV_WINOGRAD, or _POINTWISE_DIRECT / _IM2COL_DIRECT (panels) */
    int pw_layout;           /* the direct kernels' panel layout (conv_pointwise.c) */
    const void *packed_from; /* the W data it was made from */
    size_t packed_bytes;
} mr_conv_params;

/* ---- depthwise (conv_depthwise.c) ---- */

/* The depthwise kernel handles p: 2-D, group == C, M a multiple of C, dilation 1 (any kernel size,
 * stride, padding). */
bool mr_conv_dw_supported(const mr_conv_params *p);
/* Y[n, m] = depthwise(X, W) + bias for the output channels m of the input-channel planes
 * i0 .. i1-1, counted over N x C (plane i is image i / C, channel i % C); bias may be NULL. conv.c
 * splits the planes over the threads and applies the residual and activation afterwards. */
void mr_conv_dw_run(const mr_conv_params *p, const float *x, const float *w, const float *bias,
                    float *y, int64_t i0, int64_t i1);

/* ---- direct pointwise (conv_pointwise.c) ---- */

/* Rows per packed weight panel (a tile's rows start at a multiple), and columns per block. */
#define MR_PW_MR 12
#define MR_PW_NC 256
/* Whether the direct 1x1 kernel runs on this CPU (AVX-512F); otherwise the GEMM path is used. */
bool mr_conv_pw_available(void);
/* The packed layout for p's number of positions (see conv_pointwise.c), and the multiple the first
 * row r0 of a mr_conv_pw_run range must be in that layout. */
int mr_conv_pw_layout(const mr_conv_params *p);
int64_t mr_conv_pw_row_align(int layout);
/* Bytes of packed weights for p in a layout, and packing W [M, Cg*kvol] into them (panels per
 * group, k-major, zero rows past Mg). In place: W itself becomes the packed weights, using tmp
 * (row_align * K floats); false (W untouched) when Mg is not a multiple of the panel width. */
size_t mr_conv_pw_packed_bytes(const mr_conv_params *p, int layout);
void mr_conv_pw_pack(const mr_conv_params *p, int layout, const float *w, float *packed);
bool mr_conv_pw_pack_in_place(const mr_conv_params *p, int layout, float *w, float *tmp);
/* Y[m][q] = bias[m] + sum_k W[m][k] X[k][q] of group g for rows [r0, r1) (r0 a multiple of
 * mr_conv_pw_row_align(p->pw_layout)) and columns [q0, q1): x = X[K][..] with row stride ldx (the
 * group's input for a 1x1 layer, or an im2col block), bg = the group's bias or NULL, y = the
 * group's output rows with row stride ldy. Each output is one FMA chain over k, whatever the range.
 */
void mr_conv_pw_run(const mr_conv_params *p, const float *packed, int64_t g, const float *x,
                    int64_t ldx, const float *bg, float *y, int64_t ldy, int64_t r0, int64_t r1,
                    int64_t q0, int64_t q1);

/* ---- Winograd (conv_winograd.c) ---- */

/* Winograd handles p: 2-D, 3x3, stride 1, dilation 1, group 1, and channels large enough to win. */
bool mr_conv_wino_supported(const mr_conv_params *p);
/* Bytes of transformed weights for p. */
size_t mr_conv_wino_packed_bytes(const mr_conv_params *p);
/* Transform W [M, C, 3, 3] into packed (mr_conv_wino_packed_bytes(p) bytes). */
void mr_conv_wino_pack(const mr_conv_params *p, const float *w, float *packed);
/* Workspace bytes mr_conv_wino_run needs, with weights packed for p's preferred tile size, or
 * with the tile size `packed` was made for (which stays valid at any input shape). */
size_t mr_conv_wino_workspace(const mr_conv_params *p);
size_t mr_conv_wino_workspace_packed(const mr_conv_params *p, const float *packed);
/* Y = conv(X, W) + bias (bias may be NULL) for the whole batch, on the pool's threads; the
 * epilogue and residual are applied by conv.c afterwards. */
void mr_conv_wino_run(mr_pool *pool, const mr_conv_params *p, const float *packed, const float *x,
                      const float *bias, float *y, void *ws);

#endif
