/*
 * wire.h - a bounded check of the protobuf wire format before unpacking (see wire.c). Part of the
 * loader's protobuf edge.
 */
#ifndef MR_WIRE_H
#define MR_WIRE_H

#include <protobuf-c/protobuf-c.h>

#include "mr.h"

/* Check that data[0..size) is well-formed protobuf for message type desc, with messages nested at
 * most max_depth levels. MINIRT_ERR_MODEL (malformed, with the byte offset) or MINIRT_ERR_LIMIT;
 * messages call the data `what` ("ONNX model"). */
mr_status mr_wire_check(mr_ctx *ctx, const char *what, const void *data, size_t size,
                        const ProtobufCMessageDescriptor *desc, int max_depth);

#endif
