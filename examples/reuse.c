/*
 * reuse.c - one session, many inputs: open a model once, then run it on a stream of different
 * inputs, timing each run. minirt plans shapes and memory once per input shape: a run whose input
 * shape equals the previous run's reuses the plan and allocates nothing. This program makes that
 * visible by counting the session's allocations through the allocator hook in minirt_options.
 *
 * usage: reuse MODEL.onnx [RUNS]     (a model with one float32 input; default 8 runs)
 * With a symbolic batch dim (e.g. examples/data/dynbatch.onnx) the batch size changes every few
 * runs: 1, 1, 1, 4, 4, 4, 1, 1, ...; a static model runs at its declared shape every time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "minirt.h"

/* An allocator hook that counts what the session allocates (realloc-like contract: see
 * minirt_alloc_fn in minirt.h). */
typedef struct counting_alloc {
    long allocations;
    size_t live_bytes;
} counting_alloc;

static void *count_alloc(void *user, void *ptr, size_t old_size, size_t size) {
    counting_alloc *c = user;
    if (size == 0) { /* free */
        c->live_bytes -= old_size;
        free(ptr);
        return NULL;
    }
    void *p = malloc(size);
    if (p) {
        c->allocations++;
        c->live_bytes += size;
    }
    return p;
}

static double now_ms(void) {
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s MODEL.onnx [RUNS]\n", argv[0]);
        return 2;
    }
    int runs = argc == 3 ? atoi(argv[2]) : 8;
    if (runs < 1 || runs > 100000) {
        fprintf(stderr, "reuse: RUNS must be from 1 to 100000\n");
        return 2;
    }
    counting_alloc counter = {0, 0};
    minirt_options o;
    minirt_options_init(&o);
    o.alloc = count_alloc;
    o.alloc_user = &counter;
    o.threads = 1; /* steadier timings */
    minirt_session *s = NULL;
    if (minirt_open(argv[1], &o, &s) != MINIRT_OK) {
        fprintf(stderr, "reuse: %s\n", minirt_errmsg(s));
        minirt_close(s);
        return 1;
    }
    printf("open: %ld allocations, %zu bytes held\n", counter.allocations, counter.live_bytes);

    minirt_tensor info;
    if (minirt_input_count(s) != 1 || minirt_get_input_info(s, 0, &info) != MINIRT_OK ||
        info.dtype != MINIRT_FLOAT32 || info.ndim > MINIRT_MAX_DIMS) {
        fprintf(stderr, "reuse: this example needs a model with one float32 input\n");
        minirt_close(s);
        return 1;
    }
    /* The largest input any run uses: symbolic dims take at most 4. */
    size_t cap = 1;
    for (size_t d = 0; d < info.ndim; d++)
        cap *= info.dims[d] < 0 ? 4 : (size_t)info.dims[d];
    float *x = malloc((cap ? cap : 1) * sizeof(float));
    if (!x) {
        minirt_close(s);
        return 1;
    }

    int64_t dims[MINIRT_MAX_DIMS], prev[MINIRT_MAX_DIMS];
    int rc = 0, replans = 0, repeats = 0;
    for (int r = 0; r < runs && rc == 0; r++) {
        /* This run's shape: symbolic dims cycle 1, 1, 1, 4, 4, 4, ... */
        size_t n = 1;
        for (size_t d = 0; d < info.ndim; d++) {
            dims[d] = info.dims[d] >= 0 ? info.dims[d] : (r / 3) % 2 ? 4 : 1;
            n *= (size_t)dims[d];
        }
        int same_shape = r > 0 && memcmp(dims, prev, info.ndim * sizeof(int64_t)) == 0;
        memcpy(prev, dims, info.ndim * sizeof(int64_t));
        for (size_t i = 0; i < n; i++) /* a different input every run */
            x[i] = (float)((i * 7919 + (size_t)r * 104729) % 1000) / 500.0f - 1.0f;

        minirt_tensor in = {NULL, MINIRT_FLOAT32, info.ndim, dims, x};
        long before = counter.allocations;
        double t0 = now_ms();
        minirt_status st = minirt_run(s, &in, 1);
        double ms = now_ms() - t0;
        long allocs = counter.allocations - before;
        minirt_tensor out;
        if (st == MINIRT_OK) st = minirt_get_output(s, 0, &out);
        if (st != MINIRT_OK) {
            fprintf(stderr, "reuse: run %d: %s\n", r, minirt_errmsg(s));
            rc = 1;
            break;
        }
        /* the output's first value, to show each input gets its own answer (the data is owned
         * by the session until the next run) */
        double first = out.dtype == MINIRT_FLOAT32 && out.data ? *(const float *)out.data : 0;
        printf("run %d: input", r);
        for (size_t d = 0; d < info.ndim; d++)
            printf("%s%lld", d ? "x" : " ", (long long)dims[d]);
        printf(", %7.3f ms, %ld allocations, output[0] = %+.5f: %s\n", ms, allocs, first,
               allocs == 0 ? "plan reused" : "planned for a new shape");
        if (allocs > 0) replans++;
        if (same_shape) {
            repeats++;
            if (allocs != 0) {
                fprintf(stderr, "reuse: run %d repeated the previous shape but allocated\n", r);
                rc = 1;
            }
        }
    }
    if (rc == 0)
        printf("%d runs, %d planned for a new shape; all %d runs that repeated the previous "
               "shape reused the plan and allocated nothing\n",
               runs, replans, repeats);
    free(x);
    minirt_close(s);
    printf("close: %zu bytes still held\n", counter.live_bytes);
    return rc || counter.live_bytes != 0;
}
