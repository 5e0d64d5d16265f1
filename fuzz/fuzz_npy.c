/*
 * fuzz_npy.c - libFuzzer target: the bytes are a .npy file, read with mr_npy_read_mem. A file that
 * reads must give a tensor whose data holds exactly prod(dims) elements (read here in full) with
 * bool values normalised to 0/1; a file that does not must explain why.
 */
#include <stdint.h>
#include <string.h>

#include "io.h"
#include "mr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    minirt_options o;
    minirt_options_init(&o);
    o.max_tensor_bytes = (int64_t)64 << 20;
    mr_ctx ctx;
    mr_ctx_init(&ctx, &o);
    mr_io_tensor t;
    mr_status st = mr_npy_read_mem(&ctx, data, size, "fuzz.npy", &t);
    if (st != MINIRT_OK) {
        if (!ctx.err[0] || strncmp(ctx.err, "fuzz.npy: ", 10) != 0) __builtin_trap();
        if (t.t.data || t.name) __builtin_trap(); /* left zeroed on failure */
        return 0;
    }
    int64_t n = mr_numel(&t.t);
    size_t es = mr_dtype_size(t.t.dtype);
    if (es == 0 || t.t.ndim < 0 || t.t.ndim > MR_MAX_DIMS) __builtin_trap();
    const uint8_t *p = t.t.data;
    volatile uint8_t sink = 0;
    for (size_t b = 0; b < (size_t)n * es; b++)
        sink ^= p[b];
    if (t.t.dtype == MINIRT_BOOL)
        for (int64_t i = 0; i < n; i++)
            if (p[i] > 1) __builtin_trap();
    (void)sink;
    mr_io_free(&ctx, &t);
    return 0;
}
