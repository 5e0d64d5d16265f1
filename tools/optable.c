/*
 * optable.c - generate docs/operators.md, the table of supported operators, from the operator
 * registry itself (src/ops/ops.def and the mr_op objects it names), so the documentation cannot
 * drift from the code.
 *
 * usage: optable                 print the markdown on standard output
 *        optable --write FILE    write it to FILE
 *        optable --check FILE    exit 1 (saying how to regenerate) unless FILE is up to date
 *
 * Implementations of one operator type (one mr_op per opset range, e.g. Reshape-1 and Reshape-5)
 * are merged into one row whose opset ranges are joined where they touch. The Types column lists
 * the element types each op computes (mr_op.types), "not declared" for an op without them.
 * Built from minirt's static library and internal header (src/runtime/mr.h), with ops.def included
 * by the same X-macro trick registry.c uses, so the registry needs no iteration API.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mr.h"

#define MR_OP(sym) extern const mr_op sym;
#include "ops/ops.def"
#undef MR_OP

static const mr_op *const optable_ops[] = {
#define MR_OP(sym) &sym,
#include "ops/ops.def"
#undef MR_OP
};
#define OPTABLE_N (sizeof(optable_ops) / sizeof(optable_ops[0]))
/* An input or output count this large means "any number" (variadic: Sum, Max, Split, ...). */
#define OPTABLE_VARIADIC (1 << 20)

/* ---- a growing text buffer ---- */

typedef struct optable_buf {
    char *text;
    size_t len, cap;
    int failed;
} optable_buf;

static void optable_printf(optable_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void optable_printf(optable_buf *b, const char *fmt, ...) {
    va_list ap;
    for (int attempt = 0; attempt < 2 && !b->failed; attempt++) {
        va_start(ap, fmt);
        int w =
            vsnprintf(b->text ? b->text + b->len : NULL, b->text ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (w < 0) {
            b->failed = 1;
            return;
        }
        if (b->text && b->len + (size_t)w < b->cap) {
            b->len += (size_t)w;
            return;
        }
        size_t cap = (b->cap ? b->cap : 4096) * 2 + (size_t)w;
        char *t = realloc(b->text, cap);
        if (!t) {
            b->failed = 1;
            return;
        }
        b->text = t;
        b->cap = cap;
    }
}

/* ---- the table ---- */

static const char *optable_domain(const mr_op *op) {
    return op->domain[0] ? op->domain : "ai.onnx";
}

/* Order: domain, then op type, then first opset. */
static int optable_cmp(const void *pa, const void *pb) {
    const mr_op *a = *(const mr_op *const *)pa, *b = *(const mr_op *const *)pb;
    int c = strcmp(optable_domain(a), optable_domain(b));
    if (c == 0) c = strcmp(a->op_type, b->op_type);
    if (c == 0) c = (a->since > b->since) - (a->since < b->since);
    return c;
}

/* "lo-hi", "n", or "lo+" for a variadic count. */
static void optable_range(optable_buf *b, int lo, int hi) {
    if (hi >= OPTABLE_VARIADIC)
        optable_printf(b, "%d+", lo);
    else if (lo == hi)
        optable_printf(b, "%d", lo);
    else
        optable_printf(b, "%d-%d", lo, hi);
}

/* One row: the implementations ops[0..n) of one op type. */
static void optable_row(optable_buf *b, const mr_op *const *ops, size_t n) {
    const mr_op *op = ops[0];
    if (!op->domain[0])
        optable_printf(b, "| [%s](https://onnx.ai/onnx/operators/onnx__%s.html) | ", op->op_type,
                       op->op_type);
    else
        optable_printf(b, "| %s | ", op->op_type);
    /* opset ranges, joined where one implementation ends right before the next begins */
    int lo = ops[0]->since, hi = ops[0]->until, first = 1;
    for (size_t i = 1; i <= n; i++) {
        if (i < n && ops[i]->since <= hi + 1) {
            hi = ops[i]->until > hi ? ops[i]->until : hi;
            continue;
        }
        optable_printf(b, "%s", first ? "" : ", ");
        optable_range(b, lo, hi);
        first = 0;
        if (i < n) {
            lo = ops[i]->since;
            hi = ops[i]->until;
        }
    }
    /* input and output counts over every implementation */
    int in_lo = op->min_inputs, in_hi = op->max_inputs;
    int out_lo = op->min_outputs, out_hi = op->max_outputs;
    uint32_t plan = 0, types = 0;
    unsigned flags = 0;
    for (size_t i = 0; i < n; i++) {
        in_lo = ops[i]->min_inputs < in_lo ? ops[i]->min_inputs : in_lo;
        in_hi = ops[i]->max_inputs > in_hi ? ops[i]->max_inputs : in_hi;
        out_lo = ops[i]->min_outputs < out_lo ? ops[i]->min_outputs : out_lo;
        out_hi = ops[i]->max_outputs > out_hi ? ops[i]->max_outputs : out_hi;
        /* plan-time slots the implementation can actually have (ReduceSum's axes input only
         * exists from opset 13, say) */
        uint32_t slots = ops[i]->max_inputs >= 32 ? ~0u : (1u << ops[i]->max_inputs) - 1;
        plan |= ops[i]->plan_inputs & slots;
        flags |= ops[i]->flags;
        types |= ops[i]->types;
    }
    char tnames[128];
    optable_printf(b, " | %s | ",
                   types ? mr_types_str(tnames, sizeof(tnames), types) : "not declared");
    optable_range(b, in_lo, in_hi);
    optable_printf(b, " | ");
    optable_range(b, out_lo, out_hi);
    optable_printf(b, " | ");
    int notes = 0;
    if (plan) {
        optable_printf(b, "input%s", (plan & (plan - 1)) ? "s" : "");
        for (int j = 0, k = 0; j < 32; j++)
            if (plan >> j & 1u) optable_printf(b, "%s %d", k++ ? "," : "", j);
        optable_printf(b, " known at plan time");
        notes++;
    }
    if (flags & MR_OP_SHAPE_ONLY)
        optable_printf(b, "%sreads only input shapes", notes++ ? "; " : "");
    if (flags & MR_OP_FUSES)
        optable_printf(
            b,
            "%sBatchNormalization, a residual Add (as an extra input) and activations fuse into it",
            notes++ ? "; " : "");
    optable_printf(b, " |\n");
}

static void optable_generate(optable_buf *b) {
    const mr_op *ops[OPTABLE_N];
    memcpy(ops, optable_ops, sizeof(ops));
    qsort(ops, OPTABLE_N, sizeof(ops[0]), optable_cmp);
    size_t types = 0;
    for (size_t i = 0; i < OPTABLE_N; i++)
        types += i == 0 || strcmp(optable_domain(ops[i - 1]), optable_domain(ops[i])) != 0 ||
                 strcmp(ops[i - 1]->op_type, ops[i]->op_type) != 0;
    optable_printf(
        b,
        "<!-- Generated by tools/optable.c from the operator registry (src/ops/ops.def)."
        " Do not edit:\n"
        "     regenerate with `cmake --build build --target operators_md`. -->\n"
        "# Supported operators\n"
        "\n"
        "minirt implements %zu operator types (%zu implementations, one per opset "
        "range). An\n"
        "operator outside this table, or at an opset outside its range, is reported by "
        "`minirt_open`\n"
        "(and `minirt --check`) naming every node that uses it.\n"
        "\n"
        "- **Opsets**: the `ai.onnx` opset versions each operator runs at (the model's "
        "`opset_import`).\n"
        "- **Inputs / Outputs**: how many the operator accepts (absent optional ones "
        "not counted).\n"
        "- **Notes**: inputs *known at plan time* must be constants, or computable from "
        "constants and\n"
        "  input shapes when the plan is made (as exporters write them), or small "
        "integer graph inputs,\n"
        "  whose contents then key the plan.\n"
        "- **Types**: the element types the operator computes (of the input that decides the "
        "type,\n"
        "  usually the first). Another type is reported when the model is planned, naming the "
        "node\n"
        "  and the input.\n",
        types, (size_t)OPTABLE_N);
    const char *domain = NULL;
    for (size_t i = 0; i < OPTABLE_N;) {
        if (!domain || strcmp(domain, optable_domain(ops[i])) != 0) {
            domain = optable_domain(ops[i]);
            optable_printf(b,
                           "\n## Domain `%s`\n\n"
                           "| Operator | Opsets | Types | Inputs | Outputs | Notes |\n"
                           "|---|---|---|---|---|---|\n",
                           domain);
        }
        size_t j = i + 1;
        while (j < OPTABLE_N && strcmp(optable_domain(ops[j]), domain) == 0 &&
               strcmp(ops[j]->op_type, ops[i]->op_type) == 0)
            j++;
        optable_row(b, ops + i, j - i);
        i = j;
    }
}

/* ---- files ---- */

static char *optable_read(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *text = malloc(cap);
    for (size_t got; text && (got = fread(text + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n == cap) {
            char *t = realloc(text, cap *= 2);
            if (!t) free(text);
            text = t;
        }
    }
    fclose(f);
    *len = n;
    return text;
}

int main(int argc, char **argv) {
    int check = argc == 3 && strcmp(argv[1], "--check") == 0;
    int write = argc == 3 && strcmp(argv[1], "--write") == 0;
    if (argc != 1 && !check && !write) {
        fprintf(stderr, "usage: %s [--write FILE | --check FILE]\n", argv[0]);
        return 2;
    }
    optable_buf b = {NULL, 0, 0, 0};
    optable_generate(&b);
    if (b.failed) {
        fprintf(stderr, "optable: out of memory\n");
        return 1;
    }
    int rc = 0;
    if (check) {
        size_t len = 0;
        char *old = optable_read(argv[2], &len);
        if (!old) {
            fprintf(stderr, "optable: cannot read %s\n", argv[2]);
            rc = 1;
        } else if (len != b.len || memcmp(old, b.text, len) != 0) {
            size_t line = 1;
            for (size_t i = 0; i < len && i < b.len && old[i] == b.text[i]; i++)
                line += old[i] == '\n';
            fprintf(stderr,
                    "optable: %s is stale (first difference at line %zu): the operator registry "
                    "changed.\nRegenerate it with `cmake --build <build dir> --target "
                    "operators_md` and commit the result.\n",
                    argv[2], line);
            rc = 1;
        } else {
            printf("%s is up to date with the operator registry\n", argv[2]);
        }
        free(old);
    } else {
        FILE *f = write ? fopen(argv[2], "wb") : stdout;
        if (!f || fwrite(b.text, 1, b.len, f) != b.len || (write && fclose(f) != 0)) {
            fprintf(stderr, "optable: cannot write %s\n", write ? argv[2] : "standard output");
            rc = 1;
        }
    }
    free(b.text);
    return rc;
}
