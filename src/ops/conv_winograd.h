/*
 * conv_winograd.h - test hooks of the Winograd Conv kernel (conv_winograd.c). Production code uses
 * only the mr_conv_wino_* functions declared in conv.h; these exist for tests/test_conv_winograd.c
 * alone.
 *
 * Each hook sets a process-global plain static (not thread-safe, never set by the library itself)
 * that the kernel reads once per call; the defaults (false, false, 0) give the normal behaviour.
 */
#ifndef MR_CONV_WINOGRAD_H
#define MR_CONV_WINOGRAD_H

#include <stdbool.h>

/* Run the portable C path even when the CPU has AVX2 or AVX-512 (read at each
 * mr_conv_wino_run). */
void mr_conv_wino_force_portable(bool on);
/* Use at most AVX2 + FMA, so the AVX2 path is tested on AVX-512 hosts (read at each
 * mr_conv_wino_run). */
void mr_conv_wino_force_avx2(bool on);
/* Use F(m x m, 3x3) with m = 2 or 4 whatever the layer, or 0 for the normal choice. Read by
 * mr_conv_wino_packed_bytes, mr_conv_wino_pack and mr_conv_wino_workspace; the packed weights
 * record m, so mr_conv_wino_run follows the weights it is given. */
void mr_conv_wino_force_tile(int m);

#endif
