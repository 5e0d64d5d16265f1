/*
 * profile.c - per-node timings of profiled runs, written as a Chrome trace-event JSON file (opens
 * in Perfetto / chrome://tracing; format:
 * https://docs.google.com/document/d/1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU) and summarised
 * per op type (time, share, GFLOP/s).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mr.h"

/* Write s as a JSON string (quotes included), escaping what JSON requires. */
static void mr_json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void mr_json_dims(FILE *f, const mr_graph *g, const int *vals, int n) {
    char buf[160];
    fputc('"', f);
    bool first = true;
    for (int i = 0; i < n; i++) {
        if (vals[i] < 0) continue;
        const mr_tensor *t = &g->values[vals[i]].t;
        fprintf(f, "%s%s", first ? "" : ", ", mr_dims_str(buf, sizeof(buf), t->ndim, t->dims));
        first = false;
    }
    fputc('"', f);
}

mr_status mr_profile_trace(mr_ctx *ctx, const mr_graph *g, const int64_t *start_ns,
                           const int64_t *dur_ns, const char *path) {
    FILE *f = fopen(path, "w");
    if (!f) return mr_error(ctx, MINIRT_ERR_IO, "cannot write profile '%s'", path);
    fprintf(f, "{\"displayTimeUnit\": \"ms\", \"traceEvents\": [\n");
    bool first = true;
    for (int i = 0; i < g->n_nodes; i++) {
        const mr_node *n = &g->nodes[i];
        if (dur_ns[i] < 0) continue; /* folded or elided: did not run */
        fprintf(f, "%s  {\"name\": ", first ? "" : ",\n");
        first = false;
        mr_json_str(f, n->name[0] ? n->name : n->op_type);
        fprintf(f, ", \"cat\": ");
        mr_json_str(f, n->op_type);
        fprintf(f,
                ", \"ph\": \"X\", \"pid\": 1, \"tid\": 1, \"ts\": %.3f, \"dur\": %.3f, \"args\": {",
                (double)start_ns[i] / 1e3, (double)dur_ns[i] / 1e3);
        fprintf(f, "\"op\": ");
        mr_json_str(f, n->op_type);
        fprintf(f, ", \"algorithm\": ");
        mr_json_str(f, n->algo ? n->algo : "");
        fprintf(f, ", \"inputs\": ");
        mr_json_dims(f, g, n->in, n->n_in);
        fprintf(f, ", \"outputs\": ");
        mr_json_dims(f, g, n->out, n->n_out);
        if (n->flops) fprintf(f, ", \"gflop\": %.4f", (double)n->flops / 1e9);
        fprintf(f, "}}");
    }
    fprintf(f, "\n]}\n");
    bool bad = ferror(f) != 0;
    if (fclose(f) != 0 || bad)
        return mr_error(ctx, MINIRT_ERR_IO, "cannot write profile '%s'", path);
    return MINIRT_OK;
}

typedef struct mr_prof_row {
    const char *op;
    const char *algo;
    int64_t ns;
    int64_t flops;
    int count;
} mr_prof_row;

static int mr_prof_by_time(const void *a, const void *b) {
    const mr_prof_row *x = a, *y = b;
    return x->ns < y->ns ? 1 : x->ns > y->ns ? -1 : 0;
}

char *mr_profile_table(mr_ctx *ctx, const mr_graph *g, const int64_t *total_ns, int runs) {
    mr_prof_row *rows = mr_calloc(ctx, (size_t)(g->n_nodes ? g->n_nodes : 1), sizeof(mr_prof_row));
    const size_t cap = 8192;
    char *out = mr_alloc(ctx, cap);
    if (!rows || !out) {
        mr_free(ctx, rows);
        mr_free(ctx, out);
        return NULL;
    }
    int n_rows = 0;
    int64_t all = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const mr_node *n = &g->nodes[i];
        if (total_ns[i] < 0) continue;
        const char *algo = n->algo ? n->algo : "";
        int r = 0;
        while (r < n_rows &&
               !(strcmp(rows[r].op, n->op_type) == 0 && strcmp(rows[r].algo, algo) == 0))
            r++;
        if (r == n_rows) {
            rows[r].op = n->op_type;
            rows[r].algo = algo;
            n_rows++;
        }
        rows[r].ns += total_ns[i];
        rows[r].flops += n->flops;
        rows[r].count++;
        all += total_ns[i];
    }
    qsort(rows, (size_t)n_rows, sizeof(*rows), mr_prof_by_time);
    size_t len = 0;
    int w = snprintf(out, cap, "%-22s %-16s %6s %10s %7s %9s\n", "op", "algorithm", "nodes",
                     "ms/run", "share", "GFLOP/s");
    len = w > 0 ? (size_t)w : 0;
    double per_run = runs > 0 ? 1.0 / runs : 0;
    for (int r = 0; r < n_rows && len < cap; r++) {
        double ms = (double)rows[r].ns * 1e-6 * per_run;
        char gf[32] = "-";
        if (rows[r].flops && rows[r].ns)
            snprintf(gf, sizeof(gf), "%.1f", (double)rows[r].flops * runs / (double)rows[r].ns);
        w = snprintf(out + len, cap - len, "%-22.22s %-16.16s %6d %10.3f %6.1f%% %9s\n", rows[r].op,
                     rows[r].algo, rows[r].count, ms,
                     all ? 100.0 * (double)rows[r].ns / (double)all : 0, gf);
        if (w > 0) len += (size_t)w;
    }
    if (len < cap)
        snprintf(out + len, cap - len, "%-22s %-16s %6s %10.3f (%d profiled run%s)\n", "total", "",
                 "", (double)all * 1e-6 * per_run, runs, runs == 1 ? "" : "s");
    mr_free(ctx, rows);
    return out;
}
