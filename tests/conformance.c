/*
 * conformance.c - runs model test cases through the public API and compares every output with the
 * reference, the way ONNX's backend test suite lays them out:
 *
 *   CASE/model.onnx + CASE/test_data_set_K/input_N.pb, output_N.pb     (ONNX's suite)
 *   CASE/model.onnx + CASE/input_N.npy, output_N.npy                   (the project's models/)
 *
 * usage: conformance [--rtol R] [--atol A] [--optional] [--optimize L] [--scope OPS_FILE]
 *                    [--each DIR] CASE_DIR...
 * An input file whose tensor has a name is bound by name, otherwise by position. Float outputs pass
 * when |got - want| <= atol + rtol * |want| everywhere; other types must match exactly.
 * --optional: a missing case directory is skipped (exit 77 when nothing ran) instead of failing.
 * --optimize L: open every model at graph optimization level L (default: the library's).
 * --each DIR: every subdirectory of DIR (sorted) is a case; DIR may be missing with --optional.
 * --scope: OPS_FILE lists the op types in scope (one per line, # comments) and `skip GLOB REASON`
 *   lines for cases out of scope for a reason of their own; a case whose model uses
 *   another op, or a graph input/output type other than float32, int32, int64 or bool, is skipped
 *   with that reason. Every other case must pass.
 * Prints passed / failed / skipped counts; exit 0 when no case failed.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io.h"
#include "mr.h"
#include "onnx.pb-c.h"

#define MAX_TENSORS 64

typedef struct tensor_set {
    int n;
    mr_io_tensor t[MAX_TENSORS];
} tensor_set;

static bool file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Read prefix_0.ext, prefix_1.ext, ... from dir until one is missing. */
static mr_status read_set(mr_ctx *ctx, const char *dir, const char *prefix, const char *ext,
                          tensor_set *set) {
    char path[4096];
    set->n = 0;
    for (int i = 0; i < MAX_TENSORS; i++) {
        snprintf(path, sizeof(path), "%s/%s_%d.%s", dir, prefix, i, ext);
        if (!file_exists(path)) break;
        mr_status st = mr_tensor_file_read(ctx, path, &set->t[i]);
        if (st != MINIRT_OK) return st;
        set->n = i + 1;
    }
    return MINIRT_OK;
}

static void free_set(mr_ctx *ctx, tensor_set *set) {
    for (int i = 0; i < set->n; i++)
        mr_io_free(ctx, &set->t[i]);
    set->n = 0;
}

static double as_double(const void *data, int dtype, int64_t i) {
    switch (dtype) {
    case MINIRT_FLOAT32:
        return ((const float *)data)[i];
    case MINIRT_FLOAT64:
        return ((const double *)data)[i];
    case MINIRT_INT32:
        return ((const int32_t *)data)[i];
    case MINIRT_INT64:
        return (double)((const int64_t *)data)[i];
    case MINIRT_INT8:
        return ((const int8_t *)data)[i];
    default:
        return ((const uint8_t *)data)[i];
    }
}

/* Compare one output; prints the first bad index and the max error on failure. */
static bool compare(const char *what, const minirt_tensor *got, const mr_tensor *want, double rtol,
                    double atol) {
    char b1[160], b2[160];
    if ((int)got->dtype != (int)want->dtype || (int)got->ndim != want->ndim ||
        memcmp(got->dims, want->dims, got->ndim * sizeof(int64_t)) != 0) {
        printf("  %s: got %s %s, want %s %s\n", what, mr_dtype_name(got->dtype),
               mr_dims_str(b1, sizeof(b1), (int)got->ndim, got->dims), mr_dtype_name(want->dtype),
               mr_dims_str(b2, sizeof(b2), want->ndim, want->dims));
        return false;
    }
    bool is_float = want->dtype == MINIRT_FLOAT32 || want->dtype == MINIRT_FLOAT64;
    int64_t n = mr_numel(want), bad = 0, first = -1;
    double max_err = 0;
    for (int64_t i = 0; i < n; i++) {
        double g = as_double(got->data, got->dtype, i), w = as_double(want->data, want->dtype, i);
        double err = fabs(g - w);
        bool ok = is_float ? (err <= atol + rtol * fabs(w) || (isnan(g) && isnan(w))) : g == w;
        if (err > max_err) max_err = err;
        if (!ok && bad++ == 0) first = i;
    }
    if (bad) {
        printf("  %s: %lld of %lld differ; first [%lld] got %.8g want %.8g; max abs err %.3g\n",
               what, (long long)bad, (long long)n, (long long)first,
               as_double(got->data, got->dtype, first), as_double(want->data, want->dtype, first),
               max_err);
        return false;
    }
    printf("  %s: ok (%lld values, max abs err %.3g)\n", what, (long long)n, max_err);
    return true;
}

/* Run one data set (inputs + expected outputs); returns true when it passes. */
static bool run_set(minirt_session *s, mr_ctx *ctx, const char *dir, const char *ext, double rtol,
                    double atol) {
    tensor_set in = {0}, out = {0};
    bool ok = false;
    mr_status st = read_set(ctx, dir, "input", ext, &in);
    if (st == MINIRT_OK) st = read_set(ctx, dir, "output", ext, &out);
    if (st != MINIRT_OK) {
        printf("  reading %s: %s\n", dir, ctx->err);
        goto done;
    }
    if (out.n == 0) {
        printf("  %s: no output_0.%s reference\n", dir, ext);
        goto done;
    }
    minirt_tensor args[MAX_TENSORS];
    for (int i = 0; i < in.n; i++) {
        const mr_io_tensor *t = &in.t[i];
        /* bind by name when the file names a runtime input of the model */
        const char *name = NULL;
        for (size_t j = 0; t->name && t->name[0] && j < minirt_input_count(s); j++) {
            minirt_tensor info;
            if (minirt_get_input_info(s, j, &info) == MINIRT_OK && strcmp(info.name, t->name) == 0)
                name = t->name;
        }
        args[i] = (minirt_tensor){name, (minirt_dtype)t->t.dtype, (size_t)t->t.ndim, t->t.dims,
                                  t->t.data};
    }
    if (minirt_run(s, args, (size_t)in.n) != MINIRT_OK) {
        printf("  run: %s\n", minirt_errmsg(s));
        goto done;
    }
    if (minirt_output_count(s) < (size_t)out.n) {
        printf("  model has %zu outputs, reference has %d\n", minirt_output_count(s), out.n);
        goto done;
    }
    ok = true;
    for (int i = 0; i < out.n; i++) {
        minirt_tensor got;
        char what[64];
        snprintf(what, sizeof(what), "output %d", i);
        if (minirt_get_output(s, (size_t)i, &got) != MINIRT_OK ||
            !compare(what, &got, &out.t[i].t, rtol, atol))
            ok = false;
    }
done:
    free_set(ctx, &in);
    free_set(ctx, &out);
    return ok;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- scope: which cases must pass ---- */

typedef struct scope {
    int n;
    char *ops[512];
    int n_skip;
    char *skip_glob[64]; /* "skip GLOB REASON" lines: cases whose directory name matches */
    char *skip_reason[64];
} scope;

static bool scope_load(const char *path, scope *sc) {
    FILE *f = fopen(path, "r");
    if (!f) return false;
    char line[256];
    while (fgets(line, sizeof(line), f) && sc->n < 512) {
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '#' || *p == '\n' || *p == '\0') continue;
        if (strncmp(p, "skip ", 5) == 0 && sc->n_skip < 64) {
            char *g = p + 5, *r = g + strcspn(g, " \t");
            if (*r) *r++ = '\0';
            while (*r == ' ' || *r == '\t')
                r++;
            r[strcspn(r, "\r\n")] = '\0';
            sc->skip_glob[sc->n_skip] = strdup(g);
            sc->skip_reason[sc->n_skip++] = strdup(r);
            continue;
        }
        p[strcspn(p, " \t\r\n#")] = '\0';
        sc->ops[sc->n++] = strdup(p);
    }
    fclose(f);
    return true;
}

static bool scope_has(const scope *sc, const char *op) {
    for (int i = 0; i < sc->n; i++)
        if (strcmp(sc->ops[i], op) == 0) return true;
    return false;
}

static bool type_in_scope(const Onnx__ValueInfoProto *vi) {
    if (!vi->type || vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE) return false;
    int t = vi->type->tensor_type->elem_type;
    return t == MINIRT_FLOAT32 || t == MINIRT_INT32 || t == MINIRT_INT64 || t == MINIRT_BOOL;
}

/* Why the case at model is out of scope (into reason), or false when it is in scope. */
static bool out_of_scope(const char *model, const scope *sc, char *reason, size_t len) {
    const char *base = strrchr(model, '/');
    /* model is CASE/model.onnx: match the case directory's name */
    char dir[512];
    snprintf(dir, sizeof(dir), "%.*s", base ? (int)(base - model) : 0, model);
    const char *name = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
    for (int i = 0; i < sc->n_skip; i++)
        if (fnmatch(sc->skip_glob[i], name, 0) == 0) {
            snprintf(reason, len, "%s", sc->skip_reason[i]);
            return true;
        }
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    void *data = NULL;
    size_t size = 0;
    if (mr_read_file(&ctx, model, 0, &data, &size) != MINIRT_OK) return false;
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, size, data);
    mr_free(&ctx, data);
    if (!mp || !mp->graph) {
        if (mp) onnx__model_proto__free_unpacked(mp, NULL);
        return false;
    }
    bool out = false;
    const Onnx__GraphProto *g = mp->graph;
    for (size_t i = 0; i < g->n_node && !out; i++)
        if (!scope_has(sc, g->node[i]->op_type)) {
            snprintf(reason, len, "uses %s, outside minirt's operator set", g->node[i]->op_type);
            out = true;
        }
    for (size_t i = 0; i < g->n_input + g->n_output && !out; i++) {
        const Onnx__ValueInfoProto *vi = i < g->n_input ? g->input[i] : g->output[i - g->n_input];
        if (!type_in_scope(vi)) {
            int t = vi->type && vi->type->tensor_type ? vi->type->tensor_type->elem_type : 0;
            snprintf(reason, len, "%s '%s' is %s, not a float32/int32/int64/bool tensor",
                     i < g->n_input ? "input" : "output", vi->name,
                     vi->type && vi->type->tensor_type ? mr_dtype_name(t) : "not a tensor");
            out = true;
        }
    }
    onnx__model_proto__free_unpacked(mp, NULL);
    return out;
}

typedef struct case_list {
    int n;
    char **dirs;
} case_list;

/* Append the subdirectories of dir (sorted) to list; -1 if dir cannot be read. */
static int list_subdirs(const char *dir, case_list *list) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    struct dirent *e;
    int first = list->n;
    char path[4096];
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) continue;
        char **grown = realloc(list->dirs, (size_t)(list->n + 1) * sizeof(char *));
        if (!grown) break;
        list->dirs = grown;
        list->dirs[list->n++] = strdup(path);
    }
    closedir(d);
    qsort(list->dirs + first, (size_t)(list->n - first), sizeof(char *), cmp_str);
    return list->n - first;
}

/* --optimize: the graph optimization level for every case (-1 = the library's default). */
static int g_optimize = -1;

/* Returns 1 pass, 0 fail, -1 missing. */
static int run_case(const char *dir, double rtol, double atol) {
    char model[4096];
    snprintf(model, sizeof(model), "%s/model.onnx", dir);
    if (!file_exists(model)) return -1;
    printf("%s\n", dir);
    minirt_session *s = NULL;
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    bool ok = true;
    int sets = 0;
    minirt_options o;
    minirt_options_init(&o);
    if (g_optimize >= 0) o.optimize = g_optimize;
    if (minirt_open(model, &o, &s) != MINIRT_OK) {
        printf("  open: %s\n", minirt_errmsg(s));
        minirt_close(s);
        return 0;
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/input_0.npy", dir);
    if (file_exists(path)) {
        ok = run_set(s, &ctx, dir, "npy", rtol, atol);
        sets = 1;
    } else {
        DIR *d = opendir(dir);
        char *names[256];
        int n = 0;
        struct dirent *e;
        while (d && (e = readdir(d)) && n < 256)
            if (strncmp(e->d_name, "test_data_set_", 14) == 0) names[n++] = strdup(e->d_name);
        if (d) closedir(d);
        qsort(names, (size_t)n, sizeof(char *), cmp_str);
        for (int i = 0; i < n; i++) {
            snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
            if (!run_set(s, &ctx, path, "pb", rtol, atol)) ok = false;
            sets++;
            free(names[i]);
        }
    }
    minirt_close(s);
    if (sets == 0) {
        printf("  no test data\n");
        ok = false;
    }
    printf("%s %s\n", ok ? "PASS" : "FAIL", dir);
    return ok ? 1 : 0;
}

int main(int argc, char **argv) {
    double rtol = 1e-3, atol = 1e-4;
    bool optional = false;
    scope sc;
    memset(&sc, 0, sizeof(sc));
    bool scoped = false;
    int pass = 0, fail = 0, missing = 0, skipped = 0;
    char model[4096], reason[512];
    case_list each = {0, NULL};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--rtol") == 0 && i + 1 < argc) {
            rtol = atof(argv[++i]);
        } else if (strcmp(argv[i], "--atol") == 0 && i + 1 < argc) {
            atol = atof(argv[++i]);
        } else if (strcmp(argv[i], "--optimize") == 0 && i + 1 < argc) {
            g_optimize = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--optional") == 0) {
            optional = true;
        } else if (strcmp(argv[i], "--scope") == 0 && i + 1 < argc) {
            if (!scope_load(argv[++i], &sc)) {
                fprintf(stderr, "conformance: cannot read scope file %s\n", argv[i]);
                return 2;
            }
            scoped = true;
        } else if (strcmp(argv[i], "--each") == 0 && i + 1 < argc) {
            int n = list_subdirs(argv[++i], &each);
            if (n < 0 && !optional) {
                printf("FAIL %s: cannot list the directory\n", argv[i]);
                fail++;
            }
        } else {
            snprintf(model, sizeof(model), "%s/model.onnx", argv[i]);
            if (scoped && file_exists(model) && out_of_scope(model, &sc, reason, sizeof(reason))) {
                printf("SKIP %s: %s\n", argv[i], reason);
                skipped++;
                continue;
            }
            int r = run_case(argv[i], rtol, atol);
            if (r < 0) {
                printf("%s %s: no model.onnx\n", optional ? "SKIP" : "FAIL", argv[i]);
                missing++;
            } else if (r) {
                pass++;
            } else {
                fail++;
            }
        }
    }
    for (int i = 0; i < each.n; i++) {
        snprintf(model, sizeof(model), "%s/model.onnx", each.dirs[i]);
        if (scoped && file_exists(model) && out_of_scope(model, &sc, reason, sizeof(reason))) {
            printf("SKIP %s: %s\n", each.dirs[i], reason);
            skipped++;
        } else {
            int r = run_case(each.dirs[i], rtol, atol);
            if (r < 0)
                missing++;
            else if (r)
                pass++;
            else
                fail++;
        }
        free(each.dirs[i]);
    }
    free(each.dirs);
    for (int i = 0; i < sc.n; i++)
        free(sc.ops[i]);
    for (int i = 0; i < sc.n_skip; i++) {
        free(sc.skip_glob[i]);
        free(sc.skip_reason[i]);
    }
    printf("conformance: %d passed, %d failed, %d skipped, %d missing\n", pass, fail, skipped,
           missing);
    if (fail || (missing && !optional)) return 1;
    if (pass == 0) return optional || skipped ? 77 : 1;
    return 0;
}
