/*
 * embed.c - the smallest useful program on minirt's C API: open a model, feed it one float32 input
 * of the shape the model declares (symbolic dims taken as 1), run it twice (the second run reuses
 * the plan), and print each output's shape and first values. Every error path prints minirt's
 * message.
 *
 * usage: embed MODEL.onnx
 */
#include <stdio.h>
#include <stdlib.h>

#include "minirt.h"

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s MODEL.onnx\n", argv[0]);
        return 2;
    }
    printf("minirt %s\n", minirt_version());
    minirt_session *s = NULL;
    if (minirt_open(argv[1], NULL, &s) != MINIRT_OK) {
        fprintf(stderr, "open failed: %s\n", minirt_errmsg(s));
        minirt_close(s);
        return 1;
    }
    if (minirt_input_count(s) != 1) {
        fprintf(stderr, "this example feeds models with exactly one input\n");
        minirt_close(s);
        return 1;
    }
    minirt_tensor info;
    minirt_get_input_info(s, 0, &info);
    if (info.dtype != MINIRT_FLOAT32 || info.ndim > MINIRT_MAX_DIMS) {
        fprintf(stderr, "input '%s' is not a float32 tensor\n", info.name);
        minirt_close(s);
        return 1;
    }
    int64_t dims[MINIRT_MAX_DIMS];
    size_t count = 1;
    for (size_t i = 0; i < info.ndim; i++) {
        dims[i] = info.dims[i] < 0 ? 1 : info.dims[i]; /* a symbolic dim: pick 1 */
        count *= (size_t)dims[i];
    }
    float *x = malloc((count ? count : 1) * sizeof(float));
    if (!x) {
        minirt_close(s);
        return 1;
    }
    for (size_t i = 0; i < count; i++)
        x[i] = (float)(i % 17) / 17.0f - 0.5f;
    minirt_tensor in = {info.name, MINIRT_FLOAT32, info.ndim, dims, x};
    int rc = 0;
    for (int pass = 0; pass < 2 && rc == 0; pass++) {
        if (minirt_run(s, &in, 1) != MINIRT_OK) {
            fprintf(stderr, "run failed: %s\n", minirt_errmsg(s));
            rc = 1;
        }
    }
    for (size_t o = 0; rc == 0 && o < minirt_output_count(s); o++) {
        minirt_tensor out; /* owned by the session until the next run or close */
        if (minirt_get_output(s, o, &out) != MINIRT_OK) {
            fprintf(stderr, "%s\n", minirt_errmsg(s));
            rc = 1;
            break;
        }
        printf("output '%s': shape", out.name);
        size_t n = 1;
        for (size_t d = 0; d < out.ndim; d++) {
            printf(" %lld", (long long)out.dims[d]);
            n *= (size_t)out.dims[d];
        }
        printf("; first values:");
        for (size_t i = 0; i < n && i < 5 && out.dtype == MINIRT_FLOAT32; i++)
            printf(" %.5f", ((const float *)out.data)[i]);
        printf("\n");
    }
    free(x);
    minirt_close(s);
    return rc;
}
