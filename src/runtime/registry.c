/*
 * registry.c - the operator table, built from src/ops/ops.def, and lookup by (domain, op, opset).
 */
#include <string.h>

#include "mr.h"

#define MR_OP(sym) extern const mr_op sym;
#include "ops/ops.def"
#undef MR_OP

static const mr_op *const mr_ops[] = {
#define MR_OP(sym) &sym,
#include "ops/ops.def"
#undef MR_OP
};

static bool mr_domain_eq(const char *a, const char *b) {
    /* "" and "ai.onnx" both name the default domain. */
    if (strcmp(a, "ai.onnx") == 0) a = "";
    if (strcmp(b, "ai.onnx") == 0) b = "";
    return strcmp(a, b) == 0;
}

const mr_op *mr_registry_find(const char *domain, const char *op_type, int opset, bool *known) {
    *known = false;
    for (size_t i = 0; i < sizeof(mr_ops) / sizeof(mr_ops[0]); i++) {
        const mr_op *op = mr_ops[i];
        if (!mr_domain_eq(op->domain, domain) || strcmp(op->op_type, op_type) != 0) continue;
        *known = true;
        if (opset >= op->since && opset <= op->until) return op;
    }
    return NULL;
}
