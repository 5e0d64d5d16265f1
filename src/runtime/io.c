/*
 * io.c - tensor files: numpy .npy (read and write) and ONNX TensorProto .pb (read), for the
 * command-line tool and the test runners. See io.h for the contract.
 *
 * The .npy format (numpy.lib.format, NEP 1):
 *   "\x93NUMPY", major, minor, header length (uint16 LE in 1.0; uint32 LE in 2.0 and 3.0), then the
 *   header: a Python dict literal such as
 *     {'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 224, 224), }
 *   padded with spaces and ended by '\n' so the data starts at a multiple of 64 (16 in old files);
 *   then exactly prod(shape) * itemsize bytes of data, in C or Fortran order.
 * The header is parsed by a small strict parser that accepts only what that dict can hold for the
 * element types minirt has; anything else is refused with a message rather than guessed at.
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "io.h"

#define MR_NPY_MAGIC "\x93NUMPY"
#define MR_NPY_MAGIC_LEN 6
#define MR_NPY_ALIGN 64
/* numpy's own reader refuses headers over 10000 bytes by default; allow more, but bound it. */
#define MR_NPY_MAX_HEADER 65536
/* numpy >= 1.24 leaves room in the header for the first dim to grow to this many digits. */
#define MR_NPY_GROWTH_DIGITS 21
/* Longest string literal (key or descr) the header parser keeps. */
#define MR_NPY_MAX_STR 64
/* Chunk for files whose size is not known in advance (pipes, devices). */
#define MR_IO_CHUNK 65536

/* Replace ctx's message m with "what: m", keeping status. */
static mr_status mr_io_prefix(mr_ctx *ctx, mr_status st, const char *what) {
    char msg[MR_ERRLEN];
    memcpy(msg, ctx->err, sizeof(msg));
    msg[sizeof(msg) - 1] = '\0';
    return mr_error(ctx, st, "%s: %s", what, msg);
}

static bool mr_host_little_endian(void) {
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* ---- whole files ---- */

mr_status mr_read_file(mr_ctx *ctx, const char *path, int64_t max_bytes, void **data,
                       size_t *size) {
    *data = NULL;
    *size = 0;
    if (!path) return mr_error(ctx, MINIRT_ERR_ARGUMENT, "file path is NULL");
    if (max_bytes <= 0) max_bytes = ctx->max_total_bytes;
    if ((uint64_t)max_bytes >= SIZE_MAX / 2) max_bytes = (int64_t)(SIZE_MAX / 2);
    /* Room for one byte more than allowed, so reading it proves the file is too large. */
    size_t limit = (size_t)max_bytes + 1;

    FILE *f = fopen(path, "rb");
    if (!f) return mr_error(ctx, MINIRT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0) {
        mr_status st = mr_error(ctx, MINIRT_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
        fclose(f);
        return st;
    }
    if (S_ISDIR(sb.st_mode)) {
        fclose(f);
        return mr_error(ctx, MINIRT_ERR_IO, "%s: is a directory, not a file", path);
    }
    /*
     * Regular files: check the size before allocating, then read it in one go (one spare byte lets
     * the loop see end-of-file without growing). Other files (pipes) grow in chunks up to the
     * bound.
     */
    size_t cap = MR_IO_CHUNK;
    if (S_ISREG(sb.st_mode)) {
        if (sb.st_size > max_bytes) {
            fclose(f);
            return mr_error(ctx, MINIRT_ERR_LIMIT, "%s: file is %lld bytes, over the limit of %lld",
                            path, (long long)sb.st_size, (long long)max_bytes);
        }
        cap = (size_t)sb.st_size + 1;
    }
    if (cap > limit) cap = limit;

    mr_status st = MINIRT_OK;
    size_t len = 0;
    char *buf = mr_alloc(ctx, cap);
    if (!buf) st = mr_io_prefix(ctx, mr_nomem(ctx), path);
    while (st == MINIRT_OK) {
        if (len == cap) {
            if (cap == limit) break; /* over the limit; reported below */
            size_t ncap = cap < limit / 2 ? cap * 2 : limit;
            char *nbuf = mr_alloc(ctx, ncap);
            if (!nbuf) {
                st = mr_io_prefix(ctx, mr_nomem(ctx), path);
                break;
            }
            memcpy(nbuf, buf, len);
            mr_free(ctx, buf);
            buf = nbuf;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f))
                st = mr_error(ctx, MINIRT_ERR_IO, "%s: read error: %s", path, strerror(errno));
            break;
        }
    }
    if (st == MINIRT_OK && len > (size_t)max_bytes)
        st = mr_error(ctx, MINIRT_ERR_LIMIT, "%s: file is over the limit of %lld bytes", path,
                      (long long)max_bytes);
    fclose(f);
    if (st != MINIRT_OK) {
        mr_free(ctx, buf);
        return st;
    }
    *data = buf;
    *size = len;
    return MINIRT_OK;
}

/* ---- .npy header parser ---- */

typedef struct mr_npy_parser {
    mr_ctx *ctx;
    const char *what;
    const char *begin, *p, *end;
} mr_npy_parser;

typedef struct mr_npy_header {
    bool has_descr, has_fortran, has_shape;
    bool descr_is_list; /* a structured dtype: descr is a list of fields */
    char descr[MR_NPY_MAX_STR + 1];
    bool fortran;
    int ndim;
    int64_t dims[MR_MAX_DIMS];
} mr_npy_header;

/* A syntax error at the parser's position. */
static mr_status mr_npy_syntax(mr_npy_parser *ps, const char *expected) {
    char near[24];
    size_t n = 0;
    for (const char *q = ps->p; q < ps->end && *q != '\n' && n < sizeof(near) - 1; q++) {
        unsigned char c = (unsigned char)*q;
        near[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    while (n > 0 && near[n - 1] == ' ')
        n--;
    near[n] = '\0';
    return mr_error(ps->ctx, MINIRT_ERR_IO,
                    "%s: malformed .npy header: expected %s at offset %td (near \"%s\")", ps->what,
                    expected, ps->p - ps->begin, n ? near : "end of header");
}

static void mr_npy_skip_ws(mr_npy_parser *ps) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static bool mr_npy_accept(mr_npy_parser *ps, char c) {
    mr_npy_skip_ws(ps);
    if (ps->p < ps->end && *ps->p == c) {
        ps->p++;
        return true;
    }
    return false;
}

/* A quoted string without escapes into out[MR_NPY_MAX_STR + 1]; printable characters are kept. */
static mr_status mr_npy_string(mr_npy_parser *ps, char *out) {
    mr_npy_skip_ws(ps);
    if (ps->p >= ps->end || (*ps->p != '\'' && *ps->p != '"'))
        return mr_npy_syntax(ps, "a quoted string");
    char quote = *ps->p++;
    size_t n = 0;
    while (ps->p < ps->end && *ps->p != quote) {
        unsigned char c = (unsigned char)*ps->p;
        if (c == '\n') return mr_npy_syntax(ps, "a closing quote");
        if (c == '\\' || c < 0x20 || c == 0x7f)
            return mr_npy_syntax(ps, "a plain string (no escapes or control characters)");
        if (n == MR_NPY_MAX_STR)
            return mr_error(ps->ctx, MINIRT_ERR_IO,
                            "%s: malformed .npy header: string at offset %td is longer than %d "
                            "characters",
                            ps->what, ps->p - ps->begin - (ptrdiff_t)n, MR_NPY_MAX_STR);
        out[n++] = c < 0x80 ? (char)c : '?';
        ps->p++;
    }
    if (ps->p >= ps->end) return mr_npy_syntax(ps, "a closing quote");
    ps->p++;
    out[n] = '\0';
    return MINIRT_OK;
}

/* Python's True or False, not followed by more identifier characters. */
static mr_status mr_npy_bool(mr_npy_parser *ps, bool *out) {
    mr_npy_skip_ws(ps);
    size_t left = (size_t)(ps->end - ps->p);
    size_t n = 0;
    if (left >= 4 && memcmp(ps->p, "True", 4) == 0) {
        n = 4;
        *out = true;
    } else if (left >= 5 && memcmp(ps->p, "False", 5) == 0) {
        n = 5;
        *out = false;
    }
    if (n == 0 || (left > n && (isalnum((unsigned char)ps->p[n]) || ps->p[n] == '_')))
        return mr_npy_syntax(ps, "True or False");
    ps->p += n;
    return MINIRT_OK;
}

/* A non-negative decimal integer that fits int64. */
static mr_status mr_npy_dim(mr_npy_parser *ps, int64_t *out) {
    mr_npy_skip_ws(ps);
    const char *start = ps->p;
    bool neg = false;
    if (ps->p < ps->end && *ps->p == '-') {
        neg = true;
        ps->p++;
    }
    if (ps->p >= ps->end || !isdigit((unsigned char)*ps->p)) {
        ps->p = start;
        return mr_npy_syntax(ps, "an integer dimension");
    }
    int64_t v = 0;
    bool overflow = false;
    while (ps->p < ps->end && isdigit((unsigned char)*ps->p)) {
        int d = *ps->p++ - '0';
        if (v > (INT64_MAX - d) / 10)
            overflow = true;
        else
            v = v * 10 + d;
    }
    if (ps->p < ps->end && (isalpha((unsigned char)*ps->p) || *ps->p == '_' || *ps->p == '.'))
        return mr_npy_syntax(ps, "an integer dimension");
    int len = (int)(ps->p - start);
    if (neg)
        return mr_error(ps->ctx, MINIRT_ERR_IO, "%s: .npy shape has a negative dimension %.*s",
                        ps->what, len > 24 ? 24 : len, start);
    if (overflow)
        return mr_error(ps->ctx, MINIRT_ERR_LIMIT,
                        "%s: .npy shape dimension %.*s%s does not fit in 64 bits", ps->what,
                        len > 24 ? 24 : len, start, len > 24 ? "..." : "");
    *out = v;
    return MINIRT_OK;
}

/* A tuple of ints: (), (5,), (1, 3, 224, 224) or (1, 3,). (5) is an int in Python, not a tuple. */
static mr_status mr_npy_shape(mr_npy_parser *ps, mr_npy_header *h) {
    if (!mr_npy_accept(ps, '(')) return mr_npy_syntax(ps, "a shape tuple '('");
    h->ndim = 0;
    if (mr_npy_accept(ps, ')')) return MINIRT_OK;
    for (;;) {
        int64_t d = 0;
        mr_status st = mr_npy_dim(ps, &d);
        if (st != MINIRT_OK) return st;
        if (h->ndim == MR_MAX_DIMS)
            return mr_error(ps->ctx, MINIRT_ERR_LIMIT,
                            "%s: .npy shape has more than %d dimensions, the most minirt handles",
                            ps->what, MR_MAX_DIMS);
        h->dims[h->ndim++] = d;
        if (mr_npy_accept(ps, ',')) {
            if (mr_npy_accept(ps, ')')) return MINIRT_OK;
            continue;
        }
        if (mr_npy_accept(ps, ')')) {
            if (h->ndim == 1)
                return mr_error(ps->ctx, MINIRT_ERR_IO,
                                "%s: malformed .npy header: shape (%lld) is not a tuple (write "
                                "(%lld,))",
                                ps->what, (long long)h->dims[0], (long long)h->dims[0]);
            return MINIRT_OK;
        }
        return mr_npy_syntax(ps, "',' or ')' in the shape");
    }
}

static mr_status mr_npy_parse_header(mr_npy_parser *ps, mr_npy_header *h) {
    memset(h, 0, sizeof(*h));
    mr_npy_skip_ws(ps);
    if (!mr_npy_accept(ps, '{'))
        return mr_error(ps->ctx, MINIRT_ERR_IO,
                        "%s: malformed .npy header: not a dict (it should start with '{')",
                        ps->what);
    while (!mr_npy_accept(ps, '}')) {
        char key[MR_NPY_MAX_STR + 1];
        mr_status st = mr_npy_string(ps, key);
        if (st != MINIRT_OK) return st;
        if (!mr_npy_accept(ps, ':')) return mr_npy_syntax(ps, "':' after a key");
        bool *seen;
        if (strcmp(key, "descr") == 0) {
            seen = &h->has_descr;
        } else if (strcmp(key, "fortran_order") == 0) {
            seen = &h->has_fortran;
        } else if (strcmp(key, "shape") == 0) {
            seen = &h->has_shape;
        } else {
            return mr_error(ps->ctx, MINIRT_ERR_IO,
                            "%s: malformed .npy header: unexpected key '%s' (expected 'descr', "
                            "'fortran_order' and 'shape')",
                            ps->what, key);
        }
        if (*seen)
            return mr_error(ps->ctx, MINIRT_ERR_IO, "%s: malformed .npy header: key '%s' repeated",
                            ps->what, key);
        *seen = true;
        if (seen == &h->has_descr) {
            mr_npy_skip_ws(ps);
            if (ps->p < ps->end && *ps->p == '[') {
                /* A list of fields; nothing minirt can use, so the rest is not parsed. */
                h->descr_is_list = true;
                return MINIRT_OK;
            }
            st = mr_npy_string(ps, h->descr);
        } else if (seen == &h->has_fortran) {
            st = mr_npy_bool(ps, &h->fortran);
        } else {
            st = mr_npy_shape(ps, h);
        }
        if (st != MINIRT_OK) return st;
        if (mr_npy_accept(ps, ',')) continue;
        if (mr_npy_accept(ps, '}')) break;
        return mr_npy_syntax(ps, "',' or '}' after a value");
    }
    mr_npy_skip_ws(ps);
    if (ps->p != ps->end) return mr_npy_syntax(ps, "only padding after the dict");
    const char *missing = !h->has_descr     ? "descr"
                          : !h->has_fortran ? "fortran_order"
                          : !h->has_shape   ? "shape"
                                            : NULL;
    if (missing)
        return mr_error(ps->ctx, MINIRT_ERR_IO, "%s: malformed .npy header: no '%s' key", ps->what,
                        missing);
    return MINIRT_OK;
}

/*
 * descr -> minirt dtype and whether the bytes need swapping on this host. Accepted: an optional
 * byte order ('<' little, '>' big, '=' native, '|' not applicable: 1-byte types only) then f4 f8 i4
 * i8 u1 i1 b1.
 */
static mr_status mr_npy_descr(mr_ctx *ctx, const char *what, const char *descr, int *dtype,
                              bool *swap) {
    static const struct {
        const char *code;
        int dtype;
    } types[] = {{"f4", MINIRT_FLOAT32}, {"f8", MINIRT_FLOAT64}, {"i4", MINIRT_INT32},
                 {"i8", MINIRT_INT64},   {"u1", MINIRT_UINT8},   {"i1", MINIRT_INT8},
                 {"b1", MINIRT_BOOL}};
    const char *code = descr;
    char order = '=';
    if (*code == '<' || *code == '>' || *code == '=' || *code == '|') order = *code++;
    if (code[0] == 'O' && (code[1] == '\0' || isdigit((unsigned char)code[1])))
        return mr_error(ctx, MINIRT_ERR_UNSUPPORTED,
                        "%s: .npy holds Python objects (descr '%s'); only numeric arrays are "
                        "supported",
                        what, descr);
    *dtype = 0;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(code, types[i].code) == 0) *dtype = types[i].dtype;
    if (!*dtype)
        return mr_error(ctx, MINIRT_ERR_UNSUPPORTED,
                        "%s: .npy data type '%s' is not supported (minirt reads f4 f8 i4 i8 u1 "
                        "i1 b1, little- or big-endian)",
                        what, descr);
    size_t es = mr_dtype_size(*dtype);
    if (es > 1 && order == '|')
        return mr_error(ctx, MINIRT_ERR_IO,
                        "%s: .npy descr '%s' has no byte order ('|') but its type has %zu bytes",
                        what, descr, es);
    bool little = mr_host_little_endian();
    if (order == '<')
        *swap = es > 1 && !little;
    else if (order == '>')
        *swap = es > 1 && little;
    else
        *swap = false;
    return MINIRT_OK;
}

/* Copy one element of es bytes, reversing the bytes when swap. */
static void mr_npy_copy_elem(unsigned char *dst, const unsigned char *src, size_t es, bool swap) {
    if (!swap) {
        memcpy(dst, src, es);
        return;
    }
    for (size_t b = 0; b < es; b++)
        dst[b] = src[es - 1 - b];
}

/*
 * Data in the file -> C order, host byte order. Fortran order stores element (i0, ..., in-1) at
 * i0 + d0 * (i1 + d1 * (i2 + ...)): walk the C-order index like an odometer (last axis fastest) and
 * move the Fortran offset by that axis's Fortran stride.
 */
static void mr_npy_convert(unsigned char *dst, const unsigned char *src, const mr_tensor *t,
                           int64_t numel, size_t es, bool swap, bool fortran) {
    if (!fortran || t->ndim <= 1) {
        if (!swap)
            memcpy(dst, src, (size_t)numel * es);
        else
            for (int64_t i = 0; i < numel; i++)
                mr_npy_copy_elem(dst + (size_t)i * es, src + (size_t)i * es, es, true);
    } else if (numel > 0) {
        int64_t fstride[MR_MAX_DIMS], idx[MR_MAX_DIMS] = {0};
        int64_t s = 1;
        for (int k = 0; k < t->ndim; k++) {
            fstride[k] = s;
            s *= t->dims[k]; /* <= numel: every dim is >= 1 here */
        }
        int64_t off = 0;
        for (int64_t i = 0; i < numel; i++) {
            mr_npy_copy_elem(dst + (size_t)i * es, src + (size_t)off * es, es, swap);
            for (int k = t->ndim - 1; k >= 0; k--) {
                off += fstride[k];
                if (++idx[k] < t->dims[k]) break;
                off -= fstride[k] * t->dims[k];
                idx[k] = 0;
            }
        }
    }
    if (t->dtype == MINIRT_BOOL)
        for (int64_t i = 0; i < numel; i++)
            dst[i] = dst[i] != 0;
}

mr_status mr_npy_read_mem(mr_ctx *ctx, const void *buf, size_t len, const char *what,
                          mr_io_tensor *out) {
    const unsigned char *b = buf;
    if (!what) what = "(memory)";
    if (!out) return mr_error(ctx, MINIRT_ERR_ARGUMENT, "%s: no output tensor", what);
    memset(out, 0, sizeof(*out));
    if (!buf && len) return mr_error(ctx, MINIRT_ERR_ARGUMENT, "%s: buffer is NULL", what);

    if (len == 0) return mr_error(ctx, MINIRT_ERR_IO, "%s: file is empty, not a .npy file", what);
    size_t mlen = len < MR_NPY_MAGIC_LEN ? len : MR_NPY_MAGIC_LEN;
    if (memcmp(b, MR_NPY_MAGIC, mlen) != 0)
        return mr_error(ctx, MINIRT_ERR_IO, "%s: not a .npy file (bad magic, no \\x93NUMPY)", what);
    if (len < MR_NPY_MAGIC_LEN + 2)
        return mr_error(ctx, MINIRT_ERR_IO, "%s: truncated .npy header (file is %zu bytes)", what,
                        len);
    unsigned major = b[6], minor = b[7];
    if (!(major >= 1 && major <= 3 && minor == 0))
        return mr_error(ctx, MINIRT_ERR_UNSUPPORTED,
                        "%s: .npy format version %u.%u is not supported (1.0, 2.0 and 3.0 are)",
                        what, major, minor);
    size_t lsize = major == 1 ? 2 : 4;
    size_t hstart = MR_NPY_MAGIC_LEN + 2 + lsize;
    if (len < hstart)
        return mr_error(ctx, MINIRT_ERR_IO, "%s: truncated .npy header (file is %zu bytes)", what,
                        len);
    uint32_t hlen = (uint32_t)b[8] | (uint32_t)b[9] << 8;
    if (lsize == 4) hlen |= (uint32_t)b[10] << 16 | (uint32_t)b[11] << 24;
    if (hlen > MR_NPY_MAX_HEADER)
        return mr_error(ctx, MINIRT_ERR_LIMIT,
                        "%s: .npy header length %lu is over the limit of %d bytes", what,
                        (unsigned long)hlen, MR_NPY_MAX_HEADER);
    if (len - hstart < hlen)
        return mr_error(ctx, MINIRT_ERR_IO,
                        "%s: truncated .npy header (file is %zu bytes, header ends at %zu)", what,
                        len, hstart + hlen);

    mr_npy_parser ps = {ctx, what, (const char *)b + hstart, (const char *)b + hstart,
                        (const char *)b + hstart + hlen};
    mr_npy_header h;
    mr_status st = mr_npy_parse_header(&ps, &h);
    if (st != MINIRT_OK) return st;
    if (h.descr_is_list)
        return mr_error(ctx, MINIRT_ERR_UNSUPPORTED,
                        "%s: .npy has a structured dtype (descr is a list of fields); only plain "
                        "numeric arrays are supported",
                        what);
    int dtype = 0;
    bool swap = false;
    st = mr_npy_descr(ctx, what, h.descr, &dtype, &swap);
    if (st != MINIRT_OK) return st;

    int64_t numel, bytes;
    st = mr_shape_bytes(ctx, dtype, h.ndim, h.dims, &numel, &bytes);
    if (st != MINIRT_OK) return mr_io_prefix(ctx, st, what);
    size_t have = len - hstart - hlen;
    if ((uint64_t)have != (uint64_t)bytes) {
        char dims[160];
        return mr_error(ctx, MINIRT_ERR_IO, "%s: data is %zu bytes, shape %s %s needs %lld%s", what,
                        have, mr_dims_str(dims, sizeof(dims), h.ndim, h.dims), mr_dtype_name(dtype),
                        (long long)bytes,
                        have > (uint64_t)bytes ? " (extra bytes at the end)" : "");
    }

    unsigned char *data = mr_alloc(ctx, bytes ? (size_t)bytes : 1);
    if (!data) return mr_io_prefix(ctx, mr_nomem(ctx), what);
    out->t.dtype = (minirt_dtype)dtype;
    out->t.ndim = h.ndim;
    memcpy(out->t.dims, h.dims, sizeof(h.dims));
    out->t.data = data;
    mr_npy_convert(data, b + hstart + hlen, &out->t, numel, mr_dtype_size(dtype), swap, h.fortran);
    return MINIRT_OK;
}

mr_status mr_npy_read(mr_ctx *ctx, const char *path, mr_io_tensor *out) {
    if (out) memset(out, 0, sizeof(*out));
    if (!path || !out) return mr_error(ctx, MINIRT_ERR_ARGUMENT, "mr_npy_read: NULL argument");
    /* The largest legal file: the biggest header plus the biggest tensor. */
    int64_t max = ctx->max_tensor_bytes;
    if (!mr_add_i64(max, 16 + MR_NPY_MAX_HEADER, &max)) max = INT64_MAX;
    void *buf;
    size_t len;
    mr_status st = mr_read_file(ctx, path, max, &buf, &len);
    if (st != MINIRT_OK) return st;
    st = mr_npy_read_mem(ctx, buf, len, path, out);
    mr_free(ctx, buf);
    return st;
}

/* ---- .npy writer ---- */

/* The numpy descr of a minirt dtype in host byte order; NULL if it has none. */
static const char *mr_npy_descr_of(int dtype) {
    bool little = mr_host_little_endian();
    switch (dtype) {
    case MINIRT_FLOAT32:
        return little ? "<f4" : ">f4";
    case MINIRT_FLOAT64:
        return little ? "<f8" : ">f8";
    case MINIRT_INT32:
        return little ? "<i4" : ">i4";
    case MINIRT_INT64:
        return little ? "<i8" : ">i8";
    case MINIRT_UINT8:
        return "|u1";
    case MINIRT_INT8:
        return "|i1";
    case MINIRT_BOOL:
        return "|b1";
    default:
        return NULL;
    }
}

/* Append printf output to buf[*n..cap); the caller sized buf for the worst case. */
static void mr_npy_append(char *buf, size_t cap, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void mr_npy_append(char *buf, size_t cap, size_t *n, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(buf + *n, cap - *n, fmt, ap);
    va_end(ap);
    if (w > 0) *n += (size_t)w < cap - *n ? (size_t)w : cap - *n - 1;
}

mr_status mr_npy_write(mr_ctx *ctx, const char *path, const minirt_tensor *t) {
    if (!path || !t) return mr_error(ctx, MINIRT_ERR_ARGUMENT, "mr_npy_write: NULL argument");
    const char *descr = mr_npy_descr_of(t->dtype);
    if (!descr)
        return mr_error(ctx, MINIRT_ERR_UNSUPPORTED, "%s: cannot write data type %s (%d) as .npy",
                        path, mr_dtype_name(t->dtype), (int)t->dtype);
    if (t->ndim > MR_MAX_DIMS)
        return mr_error(ctx, MINIRT_ERR_LIMIT, "%s: rank %zu exceeds the maximum of %d", path,
                        t->ndim, MR_MAX_DIMS);
    if (t->ndim && !t->dims)
        return mr_error(ctx, MINIRT_ERR_ARGUMENT, "%s: tensor has no dims", path);
    int ndim = (int)t->ndim;
    for (int i = 0; i < ndim; i++)
        if (t->dims[i] < 0)
            return mr_error(ctx, MINIRT_ERR_ARGUMENT, "%s: tensor has a negative dimension %lld",
                            path, (long long)t->dims[i]);
    int64_t numel, bytes;
    mr_status st = mr_shape_bytes(ctx, t->dtype, ndim, t->dims, &numel, &bytes);
    if (st != MINIRT_OK) return mr_io_prefix(ctx, st, path);
    if (bytes > 0 && !t->data)
        return mr_error(ctx, MINIRT_ERR_ARGUMENT, "%s: tensor has no data", path);

    /*
     * Header as numpy 1.24 writes it: the dict with sorted keys and the shape's repr, then spaces
     * leaving room for dim 0 to grow to 21 digits, then spaces and '\n' up to a multiple of 64.
     * Worst case: ~60 + 8 * 21 + 21 + 64 bytes.
     */
    char hdr[512];
    size_t n = MR_NPY_MAGIC_LEN + 4;
    memcpy(hdr, MR_NPY_MAGIC "\x01\x00", MR_NPY_MAGIC_LEN + 2);
    mr_npy_append(hdr, sizeof(hdr), &n, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                  descr);
    for (int i = 0; i < ndim; i++)
        mr_npy_append(hdr, sizeof(hdr), &n, i ? ", %lld" : "%lld", (long long)t->dims[i]);
    mr_npy_append(hdr, sizeof(hdr), &n, "%s), }", ndim == 1 ? "," : "");
    if (ndim > 0) {
        char d0[24];
        int w = snprintf(d0, sizeof(d0), "%lld", (long long)t->dims[0]);
        for (int i = w; i < MR_NPY_GROWTH_DIGITS; i++)
            hdr[n++] = ' ';
    }
    size_t pad = MR_NPY_ALIGN - (n + 1) % MR_NPY_ALIGN;
    memset(hdr + n, ' ', pad);
    n += pad;
    hdr[n++] = '\n';
    size_t hlen = n - (MR_NPY_MAGIC_LEN + 4);
    hdr[8] = (char)(hlen & 0xff);
    hdr[9] = (char)(hlen >> 8);

    FILE *f = fopen(path, "wb");
    if (!f) return mr_error(ctx, MINIRT_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    bool ok = fwrite(hdr, 1, n, f) == n;
    if (ok && bytes > 0) ok = fwrite(t->data, 1, (size_t)bytes, f) == (size_t)bytes;
    int err = ok ? 0 : errno;
    if (fclose(f) != 0 && ok) {
        ok = false;
        err = errno;
    }
    if (!ok) {
        /* Remove the partial file, but never what is not a regular file (/dev/full, a FIFO). */
        struct stat sb;
        if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) remove(path);
        return mr_error(ctx, MINIRT_ERR_IO, "%s: write failed: %s", path,
                        err ? strerror(err) : "unknown error");
    }
    return MINIRT_OK;
}

/* ---- .pb and dispatch ---- */

mr_status mr_pb_read(mr_ctx *ctx, const char *path, mr_io_tensor *out) {
    if (out) memset(out, 0, sizeof(*out));
    if (!path || !out) return mr_error(ctx, MINIRT_ERR_ARGUMENT, "mr_pb_read: NULL argument");
    /* Repeated int fields are varints, up to 10 bytes an element: bound by the total, not per
     * tensor. */
    void *buf;
    size_t len;
    mr_status st = mr_read_file(ctx, path, ctx->max_total_bytes, &buf, &len);
    if (st != MINIRT_OK) return st;
    st = mr_load_tensor_pb(ctx, buf, len, &out->t, &out->name);
    mr_free(ctx, buf);
    if (st != MINIRT_OK) {
        memset(out, 0, sizeof(*out));
        /* A malformed tensor file is an input file problem, not a model error. */
        return mr_io_prefix(ctx, st == MINIRT_ERR_MODEL ? MINIRT_ERR_IO : st, path);
    }
    return MINIRT_OK;
}

/* Does path end in ".ext" (ext lower-case; the path's case is ignored)? */
static bool mr_io_has_ext(const char *path, const char *ext) {
    size_t n = strlen(path), e = strlen(ext);
    if (n < e + 2 || path[n - e - 1] != '.' || path[n - e - 2] == '/') return false;
    for (size_t i = 0; i < e; i++)
        if (tolower((unsigned char)path[n - e + i]) != ext[i]) return false;
    return true;
}

mr_status mr_tensor_file_read(mr_ctx *ctx, const char *path, mr_io_tensor *out) {
    if (out) memset(out, 0, sizeof(*out));
    if (!path || !out)
        return mr_error(ctx, MINIRT_ERR_ARGUMENT, "mr_tensor_file_read: NULL argument");
    if (mr_io_has_ext(path, "npy")) return mr_npy_read(ctx, path, out);
    if (mr_io_has_ext(path, "pb")) return mr_pb_read(ctx, path, out);
    return mr_error(ctx, MINIRT_ERR_ARGUMENT,
                    "%s: unknown tensor file type (expected a .npy or .pb file)", path);
}

void mr_io_free(mr_ctx *ctx, mr_io_tensor *t) {
    if (!t) return;
    mr_free(ctx, t->name);
    mr_free(ctx, t->t.data);
    memset(t, 0, sizeof(*t));
}
