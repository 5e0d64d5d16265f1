/*
 * external.c - tensors whose bytes live in a file beside the model (ONNX external data:
 * https://github.com/onnx/onnx/blob/main/docs/ExternalData.md).
 *
 * A model file names the file by a path relative to the model's directory. That path comes from
 * whoever wrote the model, so it must not reach anything outside the directory: absolute paths and
 * ".." components are refused outright; the resolved real path (following symbolic links) must lie
 * inside the directory's real path; and a file with more than one hard link is refused, since a
 * hard link is indistinguishable from the file it aliases, which may live anywhere. offset and
 * length are decimal strings checked against the file's size and the tensor's size.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mr.h"

/* Parse a non-negative decimal integer that fits int64; false for anything else. */
static bool mr_parse_u63(const char *s, int64_t *out) {
    if (!s || !*s) return false;
    int64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return false;
        if (v > (INT64_MAX - (*s - '0')) / 10) return false;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return true;
}

/* Reject absolute paths, empty components' tricks and any ".." component. */
static bool mr_location_is_relative_inside(const char *loc) {
    if (!loc[0] || loc[0] == '/') return false;
    const char *p = loc;
    while (*p) {
        size_t len = strcspn(p, "/");
        if (len == 2 && p[0] == '.' && p[1] == '.') return false;
        p += len;
        while (*p == '/')
            p++;
    }
    return true;
}

mr_status mr_external_read(mr_ctx *ctx, const char *what, const char *location,
                           const char *offset_s, const char *length_s, int64_t bytes, void **data) {
    *data = NULL;
    if (!ctx->model_dir)
        return mr_error(ctx, MINIRT_ERR_ARGUMENT,
                        "tensor '%s' has external data, which needs the model to be opened from a "
                        "file (minirt_open), not from memory",
                        what);
    if (!location)
        return mr_error(ctx, MINIRT_ERR_MODEL, "tensor '%s': external data has no location", what);
    if (!mr_location_is_relative_inside(location))
        return mr_error(
            ctx, MINIRT_ERR_MODEL,
            "tensor '%s': external data location '%s' is refused: it must be a relative "
            "path inside the model's directory (no leading '/', no '..')",
            what, location);
    int64_t offset = 0, length = -1;
    if (offset_s && !mr_parse_u63(offset_s, &offset))
        return mr_error(ctx, MINIRT_ERR_MODEL,
                        "tensor '%s': external data offset '%s' is not valid", what, offset_s);
    if (length_s && !mr_parse_u63(length_s, &length))
        return mr_error(ctx, MINIRT_ERR_MODEL,
                        "tensor '%s': external data length '%s' is not valid", what, length_s);
    if (length >= 0 && length != bytes)
        return mr_error(ctx, MINIRT_ERR_MODEL,
                        "tensor '%s': external data length is %lld bytes but its shape needs %lld",
                        what, (long long)length, (long long)bytes);

    char path[PATH_MAX], dir_real[PATH_MAX], file_real[PATH_MAX];
    int w = snprintf(path, sizeof(path), "%s/%s", ctx->model_dir, location);
    if (w < 0 || (size_t)w >= sizeof(path))
        return mr_error(ctx, MINIRT_ERR_LIMIT, "tensor '%s': external data path is too long", what);
    if (!realpath(ctx->model_dir, dir_real))
        return mr_error(ctx, MINIRT_ERR_IO, "cannot resolve the model directory '%s': %s",
                        ctx->model_dir, strerror(errno));
    if (!realpath(path, file_real))
        return mr_error(ctx, MINIRT_ERR_IO, "tensor '%s': cannot open external data '%s': %s", what,
                        location, strerror(errno));
    size_t dl = strlen(dir_real);
    bool inside = strncmp(file_real, dir_real, dl) == 0 &&
                  (file_real[dl] == '/' || (dl == 1 && dir_real[0] == '/'));
    if (!inside)
        return mr_error(ctx, MINIRT_ERR_MODEL,
                        "tensor '%s': external data '%s' resolves to '%s', outside the model's "
                        "directory; refused",
                        what, location, file_real);
    int fd = open(file_real, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return mr_error(ctx, MINIRT_ERR_IO, "tensor '%s': cannot open external data '%s': %s", what,
                        location, strerror(errno));
    struct stat st;
    mr_status status = MINIRT_OK;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        status = mr_error(ctx, MINIRT_ERR_IO,
                          "tensor '%s': external data '%s' is not a regular file", what, location);
    } else if (st.st_nlink > 1) {
        status =
            mr_error(ctx, MINIRT_ERR_MODEL,
                     "tensor '%s': external data '%s' has %lu hard links; refused, since a hard "
                     "link may alias a file outside the model's directory",
                     what, location, (unsigned long)st.st_nlink);
    } else if (offset > (int64_t)st.st_size || bytes > (int64_t)st.st_size - offset) {
        status =
            mr_error(ctx, MINIRT_ERR_MODEL,
                     "tensor '%s': external data '%s' is %lld bytes; offset %lld + %lld bytes "
                     "runs past its end",
                     what, location, (long long)st.st_size, (long long)offset, (long long)bytes);
    }
    char *buf = NULL;
    if (status == MINIRT_OK && !(buf = mr_alloc(ctx, bytes ? (size_t)bytes : 1)))
        status = mr_nomem(ctx);
    for (int64_t done = 0; status == MINIRT_OK && done < bytes;) {
        ssize_t got = pread(fd, buf + done, (size_t)(bytes - done), (off_t)(offset + done));
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0)
            status = mr_error(ctx, MINIRT_ERR_IO, "tensor '%s': cannot read external data '%s': %s",
                              what, location, got < 0 ? strerror(errno) : "unexpected end of file");
        else
            done += got;
    }
    close(fd);
    if (status != MINIRT_OK) {
        mr_free(ctx, buf);
        return status;
    }
    *data = buf;
    return MINIRT_OK;
}
