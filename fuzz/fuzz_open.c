/*
 * fuzz_open.c - libFuzzer target: the bytes are a serialized ONNX model, opened with
 * minirt_open_memory or, for one input in four (by a hash of the bytes), written to a memfd and
 * opened by path with minirt_open (the mmap + pread path for weights). A model that opens is run on
 * zero-filled inputs of its declared shapes (symbolic dims 1..4, picked from a hash of the bytes),
 * then run again with other symbolic dims (re-plan) and once more with the first (re-plan back),
 * and every output is read in full. For half the inputs (by the hash) the inputs are not zeros but
 * small values from a generator seeded by the hash (floats in [-4, 4] with some NaN and infinity,
 * integers in [-3, 3], booleans), so that data-dependent paths run too: Gather indices, Where
 * conditions, shape parameters given as inputs. Limits are lowered so that a hostile model cannot
 * make one execution slow or huge within minirt's rules; anything past them must end in
 * MINIRT_ERR_LIMIT, never in an allocation.
 */
#define _GNU_SOURCE /* memfd_create */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "minirt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Most elements one zero-filled input may have (bigger declared inputs are not run). */
#define FZ_MAX_ELEMS ((int64_t)1 << 14)

static uint64_t fz_hash(const uint8_t *p, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static size_t fz_dtype_size(minirt_dtype t) {
    switch (t) {
    case MINIRT_FLOAT32:
    case MINIRT_INT32:
        return 4;
    case MINIRT_INT64:
    case MINIRT_FLOAT64:
        return 8;
    case MINIRT_UINT8:
    case MINIRT_INT8:
    case MINIRT_BOOL:
        return 1;
    }
    return 1; /* an unsupported type: the run reports it */
}

/* Read every byte of every output, so that a shape larger than its buffer shows under ASan. */
static void fz_read_outputs(minirt_session *s) {
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < minirt_output_count(s); i++) {
        minirt_tensor out;
        if (minirt_get_output(s, i, &out) != MINIRT_OK) __builtin_trap();
        int64_t n = 1;
        for (size_t d = 0; d < out.ndim; d++)
            n *= out.dims[d];
        const uint8_t *p = out.data;
        size_t bytes = (size_t)n * fz_dtype_size(out.dtype);
        for (size_t b = 0; b < bytes; b++)
            sink ^= p[b];
    }
    (void)sink;
}

/* xorshift64* */
static uint64_t fz_next(uint64_t *x) {
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return *x * 2685821657736338717ull;
}

/* Fill n elements of type t with small values from the generator x. */
static void fz_fill(void *data, int64_t n, minirt_dtype t, uint64_t x) {
    x |= 1;
    for (int64_t i = 0; i < n; i++) {
        uint64_t r = fz_next(&x);
        int64_t v = (int64_t)(r % 7) - 3;
        switch (t) {
        case MINIRT_FLOAT32: {
            float f = (float)((double)(r >> 11) / (double)(1ull << 53) * 8.0 - 4.0);
            if ((r & 0xff) == 0) f = (r & 0x100) ? __builtin_nanf("") : __builtin_inff();
            ((float *)data)[i] = f;
            break;
        }
        case MINIRT_FLOAT64:
            ((double *)data)[i] = (double)(r >> 11) / (double)(1ull << 53) * 8.0 - 4.0;
            break;
        case MINIRT_INT32:
            ((int32_t *)data)[i] = (int32_t)v;
            break;
        case MINIRT_INT64:
            ((int64_t *)data)[i] = v;
            break;
        case MINIRT_INT8:
            ((int8_t *)data)[i] = (int8_t)v;
            break;
        case MINIRT_UINT8:
        case MINIRT_BOOL:
            ((uint8_t *)data)[i] = (uint8_t)(t == MINIRT_BOOL ? r & 1 : r);
            break;
        }
    }
}

/* Run s once with zero inputs (or, with fill set, generated values), symbolic dims taken two bits
 * at a time from seed. */
static void fz_run(minirt_session *s, uint64_t seed, bool fill) {
    size_t n = minirt_input_count(s);
    minirt_tensor *in = calloc(n ? n : 1, sizeof(*in));
    int64_t(*dims)[MINIRT_MAX_DIMS] = calloc(n ? n : 1, sizeof(*dims));
    void **bufs = calloc(n ? n : 1, sizeof(void *));
    bool ok = in && dims && bufs;
    for (size_t i = 0; ok && i < n; i++) {
        minirt_tensor info;
        if (minirt_get_input_info(s, i, &info) != MINIRT_OK) __builtin_trap();
        int64_t elems = 1;
        for (size_t d = 0; d < info.ndim && d < MINIRT_MAX_DIMS; d++) {
            dims[i][d] = info.dims[d] >= 0 ? info.dims[d] : (int64_t)(seed & 3) + 1;
            seed = seed >> 2 | seed << 62;
            if (elems <= FZ_MAX_ELEMS) elems *= dims[i][d];
        }
        if (elems > FZ_MAX_ELEMS) ok = false;
        bufs[i] = ok ? calloc((size_t)(elems ? elems : 1), fz_dtype_size(info.dtype)) : NULL;
        if (!bufs[i]) ok = false;
        if (ok && fill) fz_fill(bufs[i], elems, info.dtype, seed + i);
        in[i].name = info.name;
        in[i].dtype = info.dtype;
        in[i].ndim = info.ndim;
        in[i].dims = dims[i];
        in[i].data = bufs[i];
    }
    if (ok && minirt_run(s, in, n) == MINIRT_OK) fz_read_outputs(s);
    for (size_t i = 0; bufs && i < n; i++)
        free(bufs[i]);
    free(bufs);
    free(dims);
    free(in);
}

static bool fz_has_symbolic(minirt_session *s) {
    for (size_t i = 0; i < minirt_input_count(s); i++) {
        minirt_tensor info;
        if (minirt_get_input_info(s, i, &info) != MINIRT_OK) __builtin_trap();
        for (size_t d = 0; d < info.ndim; d++)
            if (info.dims[d] < 0) return true;
    }
    return false;
}

/* Open the bytes by path: written to a memfd, opened as /proc/self/fd/N. */
static minirt_status fz_open_file(const uint8_t *data, size_t size, const minirt_options *o,
                                  minirt_session **s) {
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("fuzz_open", MFD_CLOEXEC);
        if (fd < 0) __builtin_trap();
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
        __builtin_trap();
    return minirt_open(path, o, s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint64_t h = fz_hash(data, size);
    minirt_options o;
    minirt_options_init(&o);
    o.threads = 1;
    o.max_tensor_bytes = (int64_t)64 << 20;
    o.max_total_bytes = (int64_t)256 << 20;
    o.optimize = (int)(h % 3);
    minirt_session *s = NULL;
    minirt_status st = (h >> 60 & 3) == 3 ? fz_open_file(data, size, &o, &s)
                                          : minirt_open_memory(data, size, &o, &s);
    if (st != MINIRT_OK) {
        /* every failure explains itself */
        if (st != MINIRT_ERR_NOMEM && (!s || !minirt_errmsg(s)[0])) __builtin_trap();
        for (size_t i = 0; i < minirt_problem_count(s); i++)
            if (!minirt_problem(s, i)) __builtin_trap();
        minirt_close(s);
        return 0;
    }
    if (!minirt_summary(s)) __builtin_trap();
    uint64_t seed = h >> 2;
    bool fill = (h >> 58 & 1) != 0;
    fz_run(s, seed, fill);
    if (fz_has_symbolic(s)) {
        fz_run(s, ~seed, fill);
        fz_run(s, seed, fill);
    }
    minirt_close(s);
    return 0;
}
