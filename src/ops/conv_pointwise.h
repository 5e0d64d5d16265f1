/*
 * conv_pointwise.h - test hook of the direct 1x1 Conv kernel (conv_pointwise.c). Production code
 * uses only the mr_conv_pw_* functions declared in conv.h; this exists for
 * tests/test_conv_pointwise.c alone.
 *
 * The hook sets a process-global plain static (not thread-safe, never set by the library itself)
 * that mr_conv_pw_available reads; the default (false) gives the normal behaviour.
 */
#ifndef MR_CONV_POINTWISE_H
#define MR_CONV_POINTWISE_H

#include <stdbool.h>

/* Report the direct kernel unavailable, so that Conv plans 1x1 layers on the GEMM path as on a
 * CPU without AVX-512 (read at each plan). */
void mr_conv_pw_force_gemm(bool on);

#endif
