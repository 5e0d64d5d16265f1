/*
 * io.h - tensor files for the command-line tool and the test runners: numpy .npy (read and write)
 * and serialized ONNX TensorProto .pb (read). Internal; not part of the public API.
 *
 * Every function reports failure through ctx (mr_error) with a message that starts with the file
 * path (or the `what` label for in-memory buffers), and returns: MINIRT_ERR_IO          the file
 * cannot be opened, read or written, or is malformed or truncated; MINIRT_ERR_UNSUPPORTED a valid
 * file minirt does not read (object, structured, complex dtypes, ...); MINIRT_ERR_LIMIT       a
 * size exceeds a bound (header length, rank, tensor bytes) or overflows; MINIRT_ERR_ARGUMENT    a
 * bad argument (unknown file extension, tensor without data, ...); MINIRT_ERR_NOMEM       an
 * allocation through ctx failed. Nothing here exits, aborts or keeps global state.
 */
#ifndef MR_IO_H
#define MR_IO_H

#include <stddef.h>
#include <stdint.h>

#include "mr.h"

/*
 * A tensor read from a file. name is mr_alloc'd (NULL for .npy, which has no name; the
 * TensorProto's name for .pb) and t.data is mr_alloc'd from the same ctx, in C order and host byte
 * order. Free both with mr_io_free. On failure the readers leave *out zeroed, so mr_io_free on it
 * is always safe.
 */
typedef struct mr_io_tensor {
    char *name;
    mr_tensor t;
} mr_io_tensor;

/*
 * Read a .npy file (format 1.0, 2.0 or 3.0). Element types: <f4 <f8 <i4 <i8 (and their > and =
 * forms), |u1 |i1 |b1; big-endian data is byte-swapped, fortran_order data is transposed to C
 * order, and bool bytes are normalised to 0/1. Rank <= MINIRT_MAX_DIMS; the data must be exactly
 * the size the shape needs; the tensor must fit ctx->max_tensor_bytes.
 */
mr_status mr_npy_read(mr_ctx *ctx, const char *path, mr_io_tensor *out);

/* As mr_npy_read, from len bytes at buf (borrowed during the call); messages start with what. */
mr_status mr_npy_read_mem(mr_ctx *ctx, const void *buf, size_t len, const char *what,
                          mr_io_tensor *out);

/*
 * Write t (C order; t->name is ignored) to path as .npy format 1.0, the way numpy.save does: keys
 * in sorted order, header padded with spaces and a newline so the data starts at a multiple of 64
 * bytes, host byte order ('<' on little-endian hosts). An existing file is replaced; on failure a
 * partly written file is removed.
 */
mr_status mr_npy_write(mr_ctx *ctx, const char *path, const minirt_tensor *t);

/* Read a serialized ONNX TensorProto (an ONNX test-data .pb file) with mr_load_tensor_pb; a file it
 * cannot parse is MINIRT_ERR_IO. name is the TensorProto's name (may be "" or NULL). */
mr_status mr_pb_read(mr_ctx *ctx, const char *path, mr_io_tensor *out);

/* Read a tensor file by its extension: .npy or .pb (any case); anything else is
 * MINIRT_ERR_ARGUMENT. */
mr_status mr_tensor_file_read(mr_ctx *ctx, const char *path, mr_io_tensor *out);

/* Free what a reader allocated in t and zero it; a zeroed t is a no-op. */
void mr_io_free(mr_ctx *ctx, mr_io_tensor *t);

/*
 * Read the whole file at path into memory from mr_alloc (free with mr_free). Files larger than
 * max_bytes fail with MINIRT_ERR_LIMIT before anything is allocated (max_bytes <= 0 means
 * ctx->max_total_bytes). *data is never NULL on success, even for an empty file (*size == 0).
 */
mr_status mr_read_file(mr_ctx *ctx, const char *path, int64_t max_bytes, void **data, size_t *size);

#endif /* MR_IO_H */
