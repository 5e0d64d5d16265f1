/*
 * strip.c - keep the weights out of protobuf-c's hands, so a model's weights are held once.
 *
 * Unpacking a ModelProto copies every initializer's raw_data into the message, and the file's bytes
 * are in memory at the same time: peak memory at open would be twice the weights. Instead, a pass
 * over the wire format (https://protobuf.dev/programming-guides/encoding/) writes a "skeleton" of
 * the model - every byte except the raw_data of GraphProto.initializer tensors, with the enclosing
 * lengths re-encoded - and records where each initializer's raw bytes lie in the source. protobuf-c
 * unpacks the small skeleton; the loader then reads each tensor's bytes straight from the source
 * (the caller's buffer, or the file with pread, so file pages never count against the process) into
 * its final aligned buffer.
 *
 * Field numbers (onnx.proto): ModelProto.graph = 7, GraphProto.initializer = 5,
 * TensorProto.raw_data = 9. A model whose graph field appears more than once (protobuf would merge
 * them) is left unstripped. The input has passed mr_wire_check, so every length is in bounds.
 */
#include <string.h>

#include "strip.h"

enum { MR_MODEL_GRAPH = 7, MR_GRAPH_INITIALIZER = 5, MR_TENSOR_RAW_DATA = 9 };

typedef struct mr_field {
    uint32_t number;
    int wire;
    const uint8_t *start; /* the tag's first byte */
    const uint8_t *body;  /* the value (after the length for wire type 2) */
    const uint8_t *end;   /* one past the field */
} mr_field;

static bool mr_strip_varint(const uint8_t **p, const uint8_t *end, uint64_t *v) {
    uint64_t r = 0;
    for (int shift = 0; shift < 70 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = r;
            return true;
        }
    }
    return false;
}

/* The next field at *p (< end); false on malformed input. */
static bool mr_strip_next(const uint8_t **p, const uint8_t *end, mr_field *f) {
    uint64_t tag, len;
    f->start = *p;
    if (!mr_strip_varint(p, end, &tag)) return false;
    f->number = (uint32_t)(tag >> 3);
    f->wire = (int)(tag & 7);
    switch (f->wire) {
    case 0:
        f->body = *p;
        if (!mr_strip_varint(p, end, &len)) return false;
        break;
    case 1:
    case 5: {
        size_t n = f->wire == 1 ? 8 : 4;
        if ((size_t)(end - *p) < n) return false;
        f->body = *p;
        *p += n;
        break;
    }
    case 2:
        if (!mr_strip_varint(p, end, &len) || len > (uint64_t)(end - *p)) return false;
        f->body = *p;
        *p += len;
        break;
    default:
        return false;
    }
    f->end = *p;
    return true;
}

/* Output sink: counts when buf is NULL. */
typedef struct mr_sink {
    uint8_t *buf;
    size_t len;
} mr_sink;

static void mr_put(mr_sink *s, const void *p, size_t n) {
    if (s->buf && n) memcpy(s->buf + s->len, p, n);
    s->len += n;
}

static void mr_put_varint(mr_sink *s, uint64_t v) {
    uint8_t b[10];
    size_t n = 0;
    while (v >= 0x80) {
        b[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    b[n++] = (uint8_t)v;
    mr_put(s, b, n);
}

/* A length-delimited field `number` holding inner_len bytes: the header. */
static void mr_put_header(mr_sink *s, uint32_t number, size_t inner_len) {
    mr_put_varint(s, ((uint64_t)number << 3) | 2);
    mr_put_varint(s, inner_len);
}

/* Bytes of a TensorProto without raw_data; records the last raw_data's place in *ref. */
static size_t mr_strip_tensor(mr_sink *s, const uint8_t *p, const uint8_t *end, const uint8_t *base,
                              mr_raw_ref *ref) {
    size_t start = s->len;
    mr_field f;
    ref->present = false;
    while (p < end && mr_strip_next(&p, end, &f)) {
        if (f.number == MR_TENSOR_RAW_DATA && f.wire == 2) {
            ref->present = true;
            ref->offset = (size_t)(f.body - base);
            ref->len = (size_t)(f.end - f.body);
            continue;
        }
        mr_put(s, f.start, (size_t)(f.end - f.start));
    }
    return s->len - start;
}

/* Write graph bytes with initializers stripped; refs[k] for the k-th initializer (if refs). */
static size_t mr_strip_graph(mr_sink *s, const uint8_t *p, const uint8_t *end, const uint8_t *base,
                             mr_raw_ref *refs, size_t *n_refs) {
    size_t start = s->len;
    mr_field f;
    while (p < end && mr_strip_next(&p, end, &f)) {
        if (f.number == MR_GRAPH_INITIALIZER && f.wire == 2) {
            mr_raw_ref ref;
            mr_sink count = {NULL, 0};
            size_t inner = mr_strip_tensor(&count, f.body, f.end, base, &ref);
            mr_put_header(s, MR_GRAPH_INITIALIZER, inner);
            mr_strip_tensor(s, f.body, f.end, base, &ref);
            if (refs) refs[*n_refs] = ref;
            (*n_refs)++;
            continue;
        }
        mr_put(s, f.start, (size_t)(f.end - f.start));
    }
    return s->len - start;
}

static void mr_strip_model(mr_sink *s, const uint8_t *data, size_t size, mr_raw_ref *refs,
                           size_t *n_refs) {
    const uint8_t *p = data, *end = data + size;
    mr_field f;
    *n_refs = 0;
    while (p < end && mr_strip_next(&p, end, &f)) {
        if (f.number == MR_MODEL_GRAPH && f.wire == 2) {
            mr_sink count = {NULL, 0};
            size_t n = 0;
            size_t inner = mr_strip_graph(&count, f.body, f.end, data, NULL, &n);
            mr_put_header(s, MR_MODEL_GRAPH, inner);
            mr_strip_graph(s, f.body, f.end, data, refs, n_refs);
            continue;
        }
        mr_put(s, f.start, (size_t)(f.end - f.start));
    }
}

mr_status mr_strip_weights(mr_ctx *ctx, const void *data, size_t size, mr_stripped *out) {
    memset(out, 0, sizeof(*out));
    const uint8_t *p = data, *end = p + size;
    mr_field f;
    int graphs = 0;
    while (p < end && mr_strip_next(&p, end, &f))
        graphs += f.number == MR_MODEL_GRAPH && f.wire == 2;
    if (graphs != 1) return MINIRT_OK; /* nothing to strip, or merged graphs: unpack as is */
    /* sizes first, then the bytes */
    mr_sink count = {NULL, 0};
    size_t n_refs = 0;
    mr_strip_model(&count, data, size, NULL, &n_refs);
    if (n_refs == 0) return MINIRT_OK;
    out->skeleton = mr_alloc(ctx, count.len ? count.len : 1);
    out->refs = mr_calloc(ctx, n_refs, sizeof(mr_raw_ref));
    if (!out->skeleton || !out->refs) {
        mr_stripped_free(ctx, out);
        return mr_nomem(ctx);
    }
    mr_sink sink = {out->skeleton, 0};
    mr_strip_model(&sink, data, size, out->refs, &out->n_refs);
    out->skeleton_len = sink.len;
    return MINIRT_OK;
}

void mr_stripped_free(mr_ctx *ctx, mr_stripped *s) {
    mr_free(ctx, s->skeleton);
    mr_free(ctx, s->refs);
    memset(s, 0, sizeof(*s));
}
