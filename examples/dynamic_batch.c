/*
 * dynamic_batch.c - run a model whose batch dimension is symbolic at several batch sizes with one
 * session. The declared shape shows the symbolic dim as -1; each run takes its sizes from the
 * input, and a new size re-infers shapes and re-plans memory inside minirt_run.
 *
 * As a check, each sample is first run alone (batch 1) and its output copied; every batched run
 * must then reproduce, row by row, the single-sample outputs.
 *
 * usage: dynamic_batch MODEL.onnx        (a float32 input [batch, ...] and output [batch, ...])
 * e.g.   dynamic_batch examples/data/dynbatch.onnx   (made by examples/data/make_dynbatch.py)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minirt.h"

#define MAX_BATCH 6

static int fail(minirt_session *s, const char *what) {
    fprintf(stderr, "dynamic_batch: %s: %s\n", what, minirt_errmsg(s));
    minirt_close(s);
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s MODEL.onnx\n", argv[0]);
        return 2;
    }
    minirt_session *s = NULL;
    if (minirt_open(argv[1], NULL, &s) != MINIRT_OK) return fail(s, "open");

    /* The declared input: -1 marks a symbolic dim. */
    minirt_tensor info;
    if (minirt_input_count(s) != 1 || minirt_get_input_info(s, 0, &info) != MINIRT_OK ||
        info.dtype != MINIRT_FLOAT32 || info.ndim < 1 || info.ndim > MINIRT_MAX_DIMS) {
        fprintf(stderr, "dynamic_batch: the model must have one float32 input\n");
        minirt_close(s);
        return 1;
    }
    printf("input '%s': [", info.name);
    size_t per_sample = 1;
    for (size_t d = 0; d < info.ndim; d++) {
        if (info.dims[d] < 0)
            printf("%sbatch", d ? ", " : "");
        else
            printf("%s%lld", d ? ", " : "", (long long)info.dims[d]);
        if (d > 0) per_sample *= info.dims[d] < 0 ? 1 : (size_t)info.dims[d];
    }
    printf("]\n");
    if (info.dims[0] >= 0) {
        fprintf(stderr, "dynamic_batch: dim 0 of '%s' is not symbolic\n", info.name);
        minirt_close(s);
        return 1;
    }
    for (size_t d = 1; d < info.ndim; d++)
        if (info.dims[d] < 0) {
            fprintf(stderr, "dynamic_batch: only dim 0 may be symbolic in this example\n");
            minirt_close(s);
            return 1;
        }

    /* MAX_BATCH samples of deterministic data, stored one after another: a batch of n is simply
     * the first n samples. */
    float *x = malloc(MAX_BATCH * per_sample * sizeof(float));
    float *single = NULL; /* per-sample outputs of the batch-1 runs */
    size_t out_per_sample = 0;
    if (!x) {
        fprintf(stderr, "dynamic_batch: out of memory\n");
        minirt_close(s);
        return 1;
    }
    for (size_t i = 0; i < MAX_BATCH * per_sample; i++)
        x[i] = sinf(0.37f * (float)i) + 0.25f * cosf(0.011f * (float)(i * i % 9973));

    int64_t dims[MINIRT_MAX_DIMS];
    memcpy(dims, info.dims, info.ndim * sizeof(int64_t));
    minirt_tensor in = {info.name, MINIRT_FLOAT32, info.ndim, dims, NULL};
    minirt_tensor out;
    int rc = 0;

    /* Each sample alone. */
    for (int b = 0; b < MAX_BATCH && rc == 0; b++) {
        dims[0] = 1;
        in.data = x + (size_t)b * per_sample;
        if (minirt_run(s, &in, 1) != MINIRT_OK || minirt_get_output(s, 0, &out) != MINIRT_OK) {
            rc = fail(s, "run at batch 1");
            s = NULL;
            break;
        }
        if (out.dtype != MINIRT_FLOAT32 || out.ndim < 1 || out.dims[0] != 1) {
            fprintf(stderr, "dynamic_batch: output 0 is not float32 [batch, ...]\n");
            rc = 1;
            break;
        }
        if (!single) {
            out_per_sample = 1;
            for (size_t d = 1; d < out.ndim; d++)
                out_per_sample *= (size_t)out.dims[d];
            single = malloc(MAX_BATCH * out_per_sample * sizeof(float));
            if (!single) {
                rc = 1;
                break;
            }
        }
        /* outputs belong to the session until the next run: copy what we keep */
        memcpy(single + (size_t)b * out_per_sample, out.data, out_per_sample * sizeof(float));
    }

    /* Batched runs, including a size seen before (which reuses the plan of that size). */
    const int64_t batches[] = {MAX_BATCH, 2, 4, MAX_BATCH, 1};
    for (size_t r = 0; rc == 0 && r < sizeof(batches) / sizeof(batches[0]); r++) {
        dims[0] = batches[r];
        in.data = x;
        if (minirt_run(s, &in, 1) != MINIRT_OK || minirt_get_output(s, 0, &out) != MINIRT_OK) {
            rc = fail(s, "batched run");
            s = NULL;
            break;
        }
        double max_err = 0;
        for (size_t i = 0; i < (size_t)batches[r] * out_per_sample; i++) {
            double e = fabs((double)((const float *)out.data)[i] - single[i]);
            max_err = e > max_err ? e : max_err;
        }
        printf("batch %lld: output '%s' [%lld", (long long)batches[r], out.name,
               (long long)out.dims[0]);
        for (size_t d = 1; d < out.ndim; d++)
            printf(", %lld", (long long)out.dims[d]);
        printf("], max |batched - single| = %.2g\n", max_err);
        if (out.dims[0] != batches[r] || !(max_err <= 1e-5)) {
            fprintf(stderr, "dynamic_batch: batch %lld does not match the single runs\n",
                    (long long)batches[r]);
            rc = 1;
        }
    }
    if (rc == 0) printf("every batch matches its samples run one at a time\n");
    free(x);
    free(single);
    minirt_close(s);
    return rc;
}
