/*
 * fuzz_pb.c - libFuzzer target: the bytes are a serialized ONNX TensorProto (an ONNX test-data .pb
 * file), read with mr_load_tensor_pb as mr_pb_read does. A tensor that loads must hold exactly
 * prod(dims) elements (read here in full); one that does not must explain why. External data is
 * refused here, as for any buffer not opened from a file.
 */
#include <stdint.h>
#include <string.h>

#include "mr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* mr_load_tensor_pb with a session-like context of lowered limits. */
static mr_status fz_load_pb(mr_ctx *ctx, const uint8_t *data, size_t size, mr_tensor *t,
                            char **name) {
    minirt_options o;
    minirt_options_init(&o);
    o.max_tensor_bytes = (int64_t)64 << 20;
    o.max_total_bytes = (int64_t)256 << 20;
    mr_ctx_init(ctx, &o);
    return mr_load_tensor_pb(ctx, data, size, t, name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mr_ctx ctx;
    mr_tensor t;
    char *name = NULL;
    mr_status st = fz_load_pb(&ctx, data, size, &t, &name);
    if (st != MINIRT_OK) {
        if (!ctx.err[0] || t.data || name) __builtin_trap();
        return 0;
    }
    int64_t n = mr_numel(&t);
    size_t es = mr_dtype_size(t.dtype);
    if (es == 0 || t.ndim < 0 || t.ndim > MR_MAX_DIMS || !t.data) __builtin_trap();
    const uint8_t *p = t.data;
    volatile uint8_t sink = 0;
    for (size_t b = 0; b < (size_t)n * es; b++)
        sink ^= p[b];
    (void)sink;
    mr_free(&ctx, t.data);
    mr_free(&ctx, name);
    return 0;
}
