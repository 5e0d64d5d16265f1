/* conv_winograd.c - placeholder until the Winograd kernel lands: never chosen. */
#include "conv.h"

bool mr_conv_wino_supported(const mr_conv_params *p) {
    (void)p;
    return false;
}

size_t mr_conv_wino_packed_bytes(const mr_conv_params *p) {
    (void)p;
    return 0;
}

void mr_conv_wino_pack(const mr_conv_params *p, const float *w, float *packed) {
    (void)p, (void)w, (void)packed;
}

size_t mr_conv_wino_workspace(const mr_conv_params *p) {
    (void)p;
    return 0;
}

void mr_conv_wino_run(const mr_conv_params *p, const float *packed, const float *x,
                      const float *bias, float *y, void *ws) {
    (void)p, (void)packed, (void)x, (void)bias, (void)y, (void)ws;
}
