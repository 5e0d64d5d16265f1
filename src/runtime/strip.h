/*
 * strip.h - a model's skeleton without its initializers' raw bytes (see strip.c). Part of the
 * loader's protobuf edge.
 */
#ifndef MR_STRIP_H
#define MR_STRIP_H

#include "mr.h"

/* Where the k-th GraphProto.initializer's raw_data lies in the source, if it has one. */
typedef struct mr_raw_ref {
    bool present;
    size_t offset, len;
} mr_raw_ref;

typedef struct mr_stripped {
    uint8_t *skeleton; /* NULL: nothing was stripped; unpack the source as is */
    size_t skeleton_len;
    mr_raw_ref *refs; /* one per initializer, in file order */
    size_t n_refs;
} mr_stripped;

/* Strip data (already checked by mr_wire_check) into out; out->skeleton stays NULL when there is
 * nothing to strip. */
mr_status mr_strip_weights(mr_ctx *ctx, const void *data, size_t size, mr_stripped *out);
void mr_stripped_free(mr_ctx *ctx, mr_stripped *s);

#endif
