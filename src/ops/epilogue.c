/*
 * epilogue.c - the activations the graph optimizer fuses into the op before them (mr_act), applied
 * in place over a float array. The formulas are the ONNX operators' (Relu, Clip, LeakyRelu,
 * Sigmoid, HardSigmoid, HardSwish; SiLU is Sigmoid followed by Mul with the same input).
 */
#include <math.h>

#include "conv.h"
#include "fastmath.h"

MR_SIMD_CLONES void mr_epilogue_apply(const mr_epilogue *e, float *y, int64_t n) {
    const float a = e->alpha, b = e->beta;
    switch (e->act) {
    case MR_ACT_NONE:
        break;
    case MR_ACT_RELU:
        for (int64_t i = 0; i < n; i++)
            y[i] = mr_fast_lt(y[i], 0.0f, 0.0f, y[i]); /* max(y, 0); NaN stays */
        break;
    case MR_ACT_CLIP:
        for (int64_t i = 0; i < n; i++) {
            float v = mr_fast_lt(y[i], a, a, y[i]);
            y[i] = mr_fast_lt(b, v, b, v);
        }
        break;
    case MR_ACT_LEAKY_RELU:
        for (int64_t i = 0; i < n; i++)
            y[i] = mr_fast_lt(y[i], 0.0f, a * y[i], y[i]);
        break;
    case MR_ACT_SIGMOID:
        for (int64_t i = 0; i < n; i++)
            y[i] = 1.0f / (1.0f + mr_fast_expf(-y[i]));
        break;
    case MR_ACT_HARD_SIGMOID:
        for (int64_t i = 0; i < n; i++) {
            float v = a * y[i] + b;
            v = mr_fast_lt(v, 0.0f, 0.0f, v);
            y[i] = mr_fast_lt(1.0f, v, 1.0f, v);
        }
        break;
    case MR_ACT_HARD_SWISH:
        for (int64_t i = 0; i < n; i++) {
            float v = y[i] * (1.0f / 6.0f) + 0.5f;
            v = mr_fast_lt(v, 0.0f, 0.0f, v);
            y[i] *= mr_fast_lt(1.0f, v, 1.0f, v);
        }
        break;
    case MR_ACT_SILU:
        for (int64_t i = 0; i < n; i++)
            y[i] = y[i] / (1.0f + mr_fast_expf(-y[i]));
        break;
    }
}
