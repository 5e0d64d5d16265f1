/* conv_depthwise.c - placeholder until the depthwise kernel lands: never chosen. */
#include "conv.h"

bool mr_conv_dw_supported(const mr_conv_params *p) {
    (void)p;
    return false;
}

void mr_conv_dw_run(const mr_conv_params *p, const float *x, const float *w, const float *bias,
                    float *y) {
    (void)p, (void)x, (void)w, (void)bias, (void)y;
}
