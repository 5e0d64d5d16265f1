/*
 * epilogue.c - the activations the graph optimizer fuses into the op before them (mr_act), applied
 * in place over a float array. The formulas are the ONNX operators' (Relu, Clip, LeakyRelu,
 * Sigmoid, HardSigmoid, HardSwish; SiLU is Sigmoid followed by Mul with the same input).
 */
#include <math.h>

#include "conv.h"

void mr_epilogue_apply(const mr_epilogue *e, float *y, int64_t n) {
    const float a = e->alpha, b = e->beta;
    switch (e->act) {
    case MR_ACT_NONE:
        break;
    case MR_ACT_RELU:
        for (int64_t i = 0; i < n; i++)
            y[i] = y[i] > 0.0f ? y[i] : 0.0f;
        break;
    case MR_ACT_CLIP:
        /* NaN passes through, as in Clip */
        for (int64_t i = 0; i < n; i++)
            y[i] = y[i] < a ? a : y[i] > b ? b : y[i];
        break;
    case MR_ACT_LEAKY_RELU:
        for (int64_t i = 0; i < n; i++)
            y[i] = y[i] >= 0.0f ? y[i] : a * y[i];
        break;
    case MR_ACT_SIGMOID:
        for (int64_t i = 0; i < n; i++)
            y[i] = 1.0f / (1.0f + expf(-y[i]));
        break;
    case MR_ACT_HARD_SIGMOID:
        for (int64_t i = 0; i < n; i++) {
            float v = a * y[i] + b;
            y[i] = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
        }
        break;
    case MR_ACT_HARD_SWISH:
        for (int64_t i = 0; i < n; i++) {
            float v = y[i] * (1.0f / 6.0f) + 0.5f;
            y[i] *= v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
        }
        break;
    case MR_ACT_SILU:
        for (int64_t i = 0; i < n; i++)
            y[i] = y[i] / (1.0f + expf(-y[i]));
        break;
    }
}
