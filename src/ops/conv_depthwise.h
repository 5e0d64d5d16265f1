/*
 * conv_depthwise.h - test hooks of the depthwise Conv kernel (conv_depthwise.c). The kernel's
 * entry points are declared in conv.h; this header exists only so that tests can reach every code
 * path on one machine. Nothing outside tests calls these.
 */
#ifndef MR_CONV_DEPTHWISE_H
#define MR_CONV_DEPTHWISE_H

#include "conv.h"

/* Instruction sets of the depthwise kernel, in increasing order. */
typedef enum mr_conv_dw_isa {
    MR_CONV_DW_ISA_PORTABLE = 0, /* plain C, always compiled */
    MR_CONV_DW_ISA_AVX2 = 1,     /* AVX2 + FMA (x86 only) */
    MR_CONV_DW_ISA_AVX512 = 2,   /* AVX-512F (x86 only) */
    MR_CONV_DW_ISA_AUTO = 3      /* the best the CPU supports (the default) */
} mr_conv_dw_isa;

/*
 * For tests only: cap the instruction set of later mr_conv_dw_run calls at isa (a run uses the
 * best set <= isa that the CPU supports, see mr_conv_dw_isa_for; MR_CONV_DW_ISA_PORTABLE forces
 * the portable C path). A process-global plain static, read once per run call: change it only
 * while no session is running a Conv.
 */
void mr_conv_dw_force_isa(mr_conv_dw_isa isa);

/* The instruction set a run uses when capped at isa, on this CPU (no state is read or written). */
mr_conv_dw_isa mr_conv_dw_isa_for(mr_conv_dw_isa isa);

/* Whether the SIMD paths can run p through the staging buffer; when they cannot (very wide rows
 * or kernels), every instruction set falls back to the portable direct loop. */
bool mr_conv_dw_staged(const mr_conv_params *p);

#endif
