/*
 * wire.c - a check of the protobuf wire format before protobuf-c unpacks it.
 *
 * protobuf-c's unpacker recurses once per nested message, so a file of a few kilobytes that nests
 * sub-graphs (GraphProto inside AttributeProto inside NodeProto inside GraphProto ...) thousands of
 * levels deep would exhaust the stack. This walk follows the same schema through protobuf-c's own
 * descriptors, bounded by a depth limit, and also reports truncation and malformed fields with
 * their byte offset (https://protobuf.dev/programming-guides/encoding/).
 */
#include <protobuf-c/protobuf-c.h>

#include "mr.h"
#include "wire.h"

typedef struct mr_wire {
    mr_ctx *ctx;
    const uint8_t *base;
    int max_depth;
    const char *what;
} mr_wire;

/* Read a varint at *p (< end); false when truncated or longer than 10 bytes. */
static bool mr_wire_varint(const uint8_t **p, const uint8_t *end, uint64_t *v) {
    uint64_t r = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (*p >= end) return false;
        uint8_t b = *(*p)++;
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = r;
            return true;
        }
    }
    return false;
}

static mr_status mr_wire_bad(mr_wire *w, const uint8_t *at, const char *problem) {
    return mr_error(w->ctx, MINIRT_ERR_MODEL, "not a valid %s: %s at byte %zu (truncated?)",
                    w->what, problem, (size_t)(at - w->base));
}

static mr_status mr_wire_walk(mr_wire *w, const uint8_t *p, const uint8_t *end,
                              const ProtobufCMessageDescriptor *desc, int depth) {
    if (depth > w->max_depth)
        return mr_error(w->ctx, MINIRT_ERR_LIMIT,
                        "the %s nests messages more than %d levels deep (at byte %zu); refused "
                        "before parsing",
                        w->what, w->max_depth, (size_t)(p - w->base));
    while (p < end) {
        const uint8_t *field_at = p;
        uint64_t tag, len;
        if (!mr_wire_varint(&p, end, &tag)) return mr_wire_bad(w, field_at, "bad field tag");
        uint32_t number = (uint32_t)(tag >> 3);
        if ((tag >> 3) == 0 || (tag >> 3) > 0x1fffffff)
            return mr_wire_bad(w, field_at, "bad field number");
        switch (tag & 7) {
        case 0:
            if (!mr_wire_varint(&p, end, &len)) return mr_wire_bad(w, field_at, "bad varint");
            break;
        case 1:
            if (end - p < 8) return mr_wire_bad(w, field_at, "truncated fixed64");
            p += 8;
            break;
        case 5:
            if (end - p < 4) return mr_wire_bad(w, field_at, "truncated fixed32");
            p += 4;
            break;
        case 2: {
            if (!mr_wire_varint(&p, end, &len)) return mr_wire_bad(w, field_at, "bad length");
            if (len > (uint64_t)(end - p)) return mr_wire_bad(w, field_at, "length past the end");
            const ProtobufCFieldDescriptor *f =
                desc ? protobuf_c_message_descriptor_get_field(desc, number) : NULL;
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
                mr_status st = mr_wire_walk(w, p, p + len, f->descriptor, depth + 1);
                if (st != MINIRT_OK) return st;
            }
            p += len;
            break;
        }
        default:
            return mr_wire_bad(w, field_at, "unsupported wire type");
        }
    }
    return MINIRT_OK;
}

mr_status mr_wire_check(mr_ctx *ctx, const char *what, const void *data, size_t size,
                        const ProtobufCMessageDescriptor *desc, int max_depth) {
    mr_wire w = {ctx, data, max_depth, what};
    const uint8_t *p = data;
    return mr_wire_walk(&w, p, p + size, desc, 0);
}
