/*
 * main.c - the minirt command-line tool: load an ONNX model, bind its inputs from .npy / .pb files,
 * run it, then write the outputs as .npy files or print a summary of each; optionally time runs.
 * Run `minirt --help` for the contract (options, INPUT forms, exit statuses).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "minirt.h"
#include "mr.h"
#include "io.h"

#define CLI_EXIT_RUNTIME 1
#define CLI_EXIT_USAGE 2
#define CLI_MAX_THREADS 1024
#define CLI_MAX_BENCH 1000000
#define CLI_TOPK 5
#define CLI_MAX_COMPARE 64

typedef struct cli_args {
    const char *model;
    const char **inputs; /* INPUT arguments, in order (pointers into argv) */
    int n_inputs;
    const char *outdir;
    int threads;                          /* 0 = one per online CPU */
    int bench;                            /* timed runs; 0 = no benchmark */
    bool check;                           /* --check: validate and report, do not run */
    int optimize;                         /* graph optimization level; -1 = the library's default */
    const char *profile;                  /* --profile FILE: Chrome trace of the last run */
    bool profile_summary;                 /* --profile-summary: per-op table on stdout */
    const char *compare[CLI_MAX_COMPARE]; /* --compare FILE, one per output in order */
    int n_compare;
    double rtol, atol; /* --compare tolerances */
    bool verbose;      /* -v: progress on stderr */
} cli_args;

static double cli_now_ms(void);

/* -v: one progress line on stderr, with the time since the program started. */
static void cli_progress(const cli_args *args, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void cli_progress(const cli_args *args, const char *fmt, ...) {
    static double start = -1;
    if (start < 0) start = cli_now_ms();
    if (!args->verbose) return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "minirt: [%9.1f ms] ", cli_now_ms() - start);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* Print "minirt: error: <message>" as one line on stderr and return status. */
static int cli_error(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int cli_error(int status, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    fprintf(stderr, "minirt: error: %s\n", msg);
    return status;
}

static void cli_help(int default_threads) {
    printf(
        "NAME\n"
        "    minirt - run an ONNX model on tensor files\n"
        "\n"
        "SYNOPSIS\n"
        "    minirt MODEL [INPUT ...] [-o OUTDIR] [--threads N] [--bench N] [--optimize L]\n"
        "           [--profile FILE] [--profile-summary] [--compare REF ...] [--rtol R]\n"
        "           [--atol A] [-v]\n"
        "    minirt --check MODEL\n"
        "    minirt --help\n"
        "    minirt --version\n"
        "\n"
        "DESCRIPTION\n"
        "    Loads the ONNX model in the file MODEL, binds each INPUT to one of the model's "
        "runtime\n"
        "    inputs (graph inputs that are not initializers), runs the model and reports its\n"
        "    outputs. Without -o it prints, for each output, its name, element type and shape and "
        "a\n"
        "    summary: the top-%d classes (index and score) for an output of shape K or 1xK with\n"
        "    K > 1, otherwise the minimum, maximum and mean.\n"
        "\n"
        "INPUT\n"
        "    FILE.npy    a numpy array: format 1.0, 2.0 or 3.0; float32, float64, int8, int32,\n"
        "                int64, uint8 or bool; either byte order; C or Fortran order\n"
        "    FILE.pb     a serialized ONNX TensorProto, as in ONNX's test data\n"
        "    NAME=FILE   bind FILE to the runtime input called NAME\n"
        "    INPUTs without a name bind in order: the first to the model's first runtime input,\n"
        "    and so on. Every runtime input must be given exactly once.\n"
        "\n"
        "OPTIONS\n"
        "    -o OUTDIR, --output OUTDIR\n"
        "        Write output i, in graph-output order, to OUTDIR/output_<i>.npy instead of\n"
        "        printing a summary. OUTDIR and its parents are created if missing.\n"
        "    --threads N\n"
        "        Run each layer on N threads (1 to %d); outputs are the same for any N.\n"
        "        Default: one per online CPU (%d here). Each GEMM runs on one thread; OpenBLAS's\n"
        "        own threads are stopped at start.\n"
        "    --bench N\n"
        "        After one warm-up run, time N more runs (1 to %d) of the model, inference only\n"
        "        (not loading), and print one line:\n"
        "            bench: runs=N threads=T median_ms=X min_ms=Y\n"
        "    --optimize L\n"
        "        Graph optimization level: 0 runs the graph as written (for debugging), 1 removes\n"
        "        Identity and inference Dropout nodes, 2 (the default) also fuses "
        "BatchNormalization,\n"
        "        residual Add and activations into Conv.\n"
        "    --profile FILE\n"
        "        Time every node and write the last run as Chrome trace-event JSON to FILE (open "
        "it\n"
        "        in https://ui.perfetto.dev): node, op, algorithm, shapes, GFLOP.\n"
        "    --profile-summary\n"
        "        Time every node and print a table per op type and algorithm: time per run,\n"
        "        share and GFLOP/s (over the --bench runs, if any).\n"
        "    --compare REF\n"
        "        After the run, compare output 0 with the tensor in REF (.npy or .pb); give\n"
        "        --compare again for output 1, and so on. Prints one line per output:\n"
        "            compare: output 0 'NAME' vs REF: max_abs=E max_rel=R (N values): ok\n"
        "        An element passes when |out - ref| <= atol + rtol * |ref| (NaN matches NaN);\n"
        "        integer and bool outputs must match exactly. Any failing element, or a type or\n"
        "        shape that differs, makes minirt exit with status 1.\n"
        "    --rtol R, --atol A\n"
        "        Tolerances for --compare (default 1e-3 and 1e-4).\n"
        "    -v, --verbose\n"
        "        Report progress on standard error, each line with the time since start:\n"
        "        opening the model (parse, validate, plan), reading each input, each run,\n"
        "        writing outputs.\n"
        "    --check\n"
        "        Load and validate MODEL without running it. Lists every problem at once (each\n"
        "        unsupported operator with its nodes and opset, each unusable attribute or type),\n"
        "        one per line on standard error, and exits 1 if there is any; otherwise prints a\n"
        "        one-line summary: nodes, operators, parameters, inputs with shapes, outputs.\n"
        "    -h, --help\n"
        "        Print this help and exit.\n"
        "    --version\n"
        "        Print \"minirt X.Y.Z\" and exit.\n"
        "    --\n"
        "        Treat every later argument as MODEL or INPUT, even if it starts with '-'.\n"
        "    Options may come before, between or after MODEL and the INPUTs; --threads=N,\n"
        "    --bench=N, --output=OUTDIR, --compare=REF, --rtol=R and --atol=A work too.\n"
        "\n"
        "EXAMPLES\n"
        "    minirt resnet18.onnx image.npy\n"
        "    minirt model.onnx input=x.npy -o out --threads 4 --bench 20\n"
        "    minirt --check exported.onnx\n"
        "    minirt -v model.onnx input_0.npy --compare output_0.npy\n"
        "\n"
        "EXIT STATUS\n"
        "    0   success\n"
        "    1   the model or an input file could not be read or loaded, the run failed, an\n"
        "        output could not be written, or an output differs from its --compare reference\n"
        "    2   usage error: unknown option, bad option value, missing MODEL, or INPUTs that do\n"
        "        not match the model's inputs\n"
        "    Errors are reported as one line on standard error starting \"minirt: error: \".\n",
        CLI_TOPK, CLI_MAX_THREADS, default_threads, CLI_MAX_BENCH);
}

/* A whole number in [1, max], digits only; false otherwise. */
static bool cli_parse_count(const char *s, int max, int *out) {
    if (!s || !*s) return false;
    long v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') return false;
        v = v * 10 + (*p - '0');
        if (v > max) return false;
    }
    if (v < 1) return false;
    *out = (int)v;
    return true;
}

/* If arg is --name or --name=VALUE (or one of the short forms), set *value and return true. An
 * option given without =VALUE takes the next argument; *value is NULL when there is none. */
static bool cli_option(int argc, char **argv, int *i, const char *longname, const char *shortname,
                       const char **value) {
    const char *a = argv[*i];
    size_t n = strlen(longname);
    if (strncmp(a, longname, n) == 0 && a[n] == '=') {
        *value = a + n + 1;
        return true;
    }
    if (strcmp(a, longname) != 0 && !(shortname && strcmp(a, shortname) == 0)) return false;
    *value = *i + 1 < argc ? argv[++*i] : NULL;
    return true;
}

/* Parse argv. Returns -1 to go on, or an exit status (0 after --help / --version). */
static int cli_parse(int argc, char **argv, cli_args *args, int default_threads) {
    bool only_positional = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v;
        if (only_positional || a[0] != '-' || a[1] == '\0') {
            if (!args->model)
                args->model = a;
            else
                args->inputs[args->n_inputs++] = a;
        } else if (strcmp(a, "--") == 0) {
            only_positional = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            cli_help(default_threads);
            return 0;
        } else if (strcmp(a, "--check") == 0) {
            args->check = true;
        } else if (strcmp(a, "--version") == 0) {
            printf("minirt %s\n", minirt_version());
            return 0;
        } else if (cli_option(argc, argv, &i, "--output", "-o", &v)) {
            if (!v || !*v)
                return cli_error(CLI_EXIT_USAGE, "option %s needs a directory (see minirt --help)",
                                 a);
            args->outdir = v;
        } else if (cli_option(argc, argv, &i, "--threads", NULL, &v)) {
            if (!v)
                return cli_error(CLI_EXIT_USAGE,
                                 "option --threads needs a number (see minirt --help)");
            if (!cli_parse_count(v, CLI_MAX_THREADS, &args->threads))
                return cli_error(
                    CLI_EXIT_USAGE,
                    "invalid --threads value '%s': expected a whole number from 1 to %d", v,
                    CLI_MAX_THREADS);
        } else if (cli_option(argc, argv, &i, "--optimize", NULL, &v)) {
            if (!v || !(strcmp(v, "0") == 0 || strcmp(v, "1") == 0 || strcmp(v, "2") == 0))
                return cli_error(CLI_EXIT_USAGE,
                                 "invalid --optimize value '%s': expected 0, 1 or 2", v ? v : "");
            args->optimize = v[0] - '0';
        } else if (cli_option(argc, argv, &i, "--profile", NULL, &v)) {
            if (!v || !*v)
                return cli_error(CLI_EXIT_USAGE,
                                 "option --profile needs a file (see minirt --help)");
            args->profile = v;
        } else if (strcmp(a, "--profile-summary") == 0) {
            args->profile_summary = true;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            args->verbose = true;
        } else if (cli_option(argc, argv, &i, "--compare", NULL, &v)) {
            if (!v || !*v)
                return cli_error(CLI_EXIT_USAGE,
                                 "option --compare needs a file (see minirt --help)");
            if (args->n_compare == CLI_MAX_COMPARE)
                return cli_error(CLI_EXIT_USAGE, "at most %d --compare files", CLI_MAX_COMPARE);
            args->compare[args->n_compare++] = v;
        } else if (cli_option(argc, argv, &i, "--rtol", NULL, &v) ||
                   cli_option(argc, argv, &i, "--atol", NULL, &v)) {
            bool rel = strncmp(a, "--rtol", 6) == 0;
            char *end = NULL;
            double t = v ? strtod(v, &end) : -1;
            if (!v || !*v || *end || !(t >= 0) || t > 1e30)
                return cli_error(CLI_EXIT_USAGE, "invalid %s value '%s': expected a number >= 0",
                                 rel ? "--rtol" : "--atol", v ? v : "");
            *(rel ? &args->rtol : &args->atol) = t;
        } else if (cli_option(argc, argv, &i, "--bench", NULL, &v)) {
            if (!v)
                return cli_error(CLI_EXIT_USAGE,
                                 "option --bench needs a number (see minirt --help)");
            if (!cli_parse_count(v, CLI_MAX_BENCH, &args->bench))
                return cli_error(CLI_EXIT_USAGE,
                                 "invalid --bench value '%s': expected a whole number from 1 to %d",
                                 v, CLI_MAX_BENCH);
        } else {
            return cli_error(CLI_EXIT_USAGE, "unknown option '%s' (see minirt --help)", a);
        }
    }
    if (!args->model) return cli_error(CLI_EXIT_USAGE, "no MODEL given (see minirt --help)");
    if (args->check && args->n_compare)
        return cli_error(CLI_EXIT_USAGE, "--check runs nothing: --compare needs a run");
    return -1;
}

/* Dims as "1x3x224x224", "?" for an unknown dim, "scalar" for rank 0. */
static const char *cli_dims(char *buf, size_t len, size_t ndim, const int64_t *dims) {
    size_t used = 0;
    buf[0] = '\0';
    if (ndim == 0) snprintf(buf, len, "scalar");
    for (size_t i = 0; i < ndim && used < len; i++) {
        int w = dims[i] < 0
                    ? snprintf(buf + used, len - used, "%s?", i ? "x" : "")
                    : snprintf(buf + used, len - used, "%s%lld", i ? "x" : "", (long long)dims[i]);
        if (w < 0) break;
        used += (size_t)w;
    }
    return buf;
}

/* mkdir -p: create dir and any missing parents. */
static int cli_mkdirs(const char *dir) {
    size_t n = strlen(dir);
    char *buf = malloc(n + 1);
    if (!buf) return cli_error(CLI_EXIT_RUNTIME, "out of memory");
    memcpy(buf, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
            int status = cli_error(CLI_EXIT_RUNTIME, "cannot create directory '%s': %s", buf,
                                   strerror(errno));
            free(buf);
            return status;
        }
        buf[i] = c;
    }
    free(buf);
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return cli_error(CLI_EXIT_RUNTIME, "cannot create directory '%s': %s", dir,
                         errno ? strerror(errno) : "not a directory");
    return 0;
}

static double cli_value(const minirt_tensor *t, int64_t i) {
    switch (t->dtype) {
    case MINIRT_FLOAT32:
        return ((const float *)t->data)[i];
    case MINIRT_FLOAT64:
        return ((const double *)t->data)[i];
    case MINIRT_INT32:
        return ((const int32_t *)t->data)[i];
    case MINIRT_INT64:
        return (double)((const int64_t *)t->data)[i];
    case MINIRT_UINT8:
        return ((const uint8_t *)t->data)[i];
    case MINIRT_INT8:
        return ((const int8_t *)t->data)[i];
    case MINIRT_BOOL:
        return ((const uint8_t *)t->data)[i] != 0;
    default:
        return NAN;
    }
}

/* Print one output: name, type, shape, then top-k scores or min / max / mean. */
static void cli_summary(size_t idx, const minirt_tensor *t) {
    char dims[256];
    int64_t n = 1;
    for (size_t i = 0; i < t->ndim; i++)
        n *= t->dims[i];
    printf("output %zu '%s': %s %s\n", idx, t->name ? t->name : "", mr_dtype_name(t->dtype),
           cli_dims(dims, sizeof(dims), t->ndim, t->dims));
    if (n == 0 || !t->data || mr_dtype_size(t->dtype) == 0) {
        printf("  (no values)\n");
        return;
    }
    bool classes =
        (t->ndim == 1 && t->dims[0] > 1) || (t->ndim == 2 && t->dims[0] == 1 && t->dims[1] > 1);
    int64_t nan = 0;
    if (classes) {
        int64_t best[CLI_TOPK];
        double score[CLI_TOPK];
        int k = 0;
        for (int64_t i = 0; i < n; i++) {
            double v = cli_value(t, i);
            if (isnan(v)) {
                nan++;
                continue;
            }
            if (k == CLI_TOPK && v <= score[k - 1]) continue;
            int j = k < CLI_TOPK ? k++ : k - 1;
            for (; j > 0 && score[j - 1] < v; j--) {
                best[j] = best[j - 1];
                score[j] = score[j - 1];
            }
            best[j] = i;
            score[j] = v;
        }
        printf("  top-%d:", k);
        for (int j = 0; j < k; j++)
            printf("%s %lld (%.6g)", j ? "," : "", (long long)best[j], score[j]);
        printf("\n");
    } else {
        double lo = INFINITY, hi = -INFINITY, sum = 0;
        for (int64_t i = 0; i < n; i++) {
            double v = cli_value(t, i);
            if (isnan(v)) {
                nan++;
                continue;
            }
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
            sum += v;
        }
        if (nan < n) printf("  min %.6g  max %.6g  mean %.6g\n", lo, hi, sum / (double)(n - nan));
    }
    if (nan) printf("  %lld of %lld values are NaN\n", (long long)nan, (long long)n);
}

static double cli_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cli_cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Index of the runtime input named name (n bytes), or -1. */
static int cli_find_input(const minirt_tensor *info, size_t n_in, const char *name, size_t n) {
    for (size_t i = 0; i < n_in; i++)
        if (info[i].name && strlen(info[i].name) == n && memcmp(info[i].name, name, n) == 0)
            return (int)i;
    return -1;
}

/* The model's runtime input names, "'a', 'b'", for messages. */
static const char *cli_input_names(char *buf, size_t len, const minirt_tensor *info, size_t n_in) {
    size_t used = 0;
    buf[0] = '\0';
    if (n_in == 0) snprintf(buf, len, "none");
    for (size_t i = 0; i < n_in && used < len; i++) {
        int w = snprintf(buf + used, len - used, "%s'%s'", i ? ", " : "", info[i].name);
        if (w < 0) break;
        used += (size_t)w;
    }
    return buf;
}

/*
 * Bind args->inputs to the model's runtime inputs: NAME=FILE by name (when NAME is one of them),
 * anything else by position. Every binding is checked before any file is read, so a usage error is
 * reported as such; then each file is read into files[i] and in[i] is filled.
 */
static int cli_bind(mr_ctx *ctx, minirt_session *s, const cli_args *args, size_t n_in,
                    minirt_tensor *info, const char **given, const char **paths,
                    mr_io_tensor *files, minirt_tensor *in) {
    char names[512], dims[256];
    for (size_t i = 0; i < n_in; i++)
        if (minirt_get_input_info(s, i, &info[i]) != MINIRT_OK)
            return cli_error(CLI_EXIT_RUNTIME, "%s", minirt_errmsg(s));
    size_t n_pos = 0;
    for (int a = 0; a < args->n_inputs; a++) {
        const char *arg = args->inputs[a], *path = arg;
        const char *eq = strchr(arg, '=');
        int idx = -1;
        if (eq && eq != arg) {
            idx = cli_find_input(info, n_in, arg, (size_t)(eq - arg));
            struct stat sb;
            if (idx >= 0) path = eq + 1;
            if (idx >= 0 && !*path)
                return cli_error(CLI_EXIT_USAGE, "INPUT '%s' names no file after '='", arg);
            if (idx < 0 && stat(arg, &sb) != 0)
                return cli_error(CLI_EXIT_USAGE,
                                 "INPUT '%s': the model has no input named '%.*s' (its inputs: %s)",
                                 arg, (int)(eq - arg), arg,
                                 cli_input_names(names, sizeof(names), info, n_in));
        }
        if (idx < 0) {
            if (n_pos >= n_in)
                return cli_error(CLI_EXIT_USAGE,
                                 "too many INPUTs: the model has %zu runtime input%s (%s), '%s' "
                                 "is one more",
                                 n_in, n_in == 1 ? "" : "s",
                                 cli_input_names(names, sizeof(names), info, n_in), arg);
            idx = (int)n_pos++;
        }
        if (given[idx])
            return cli_error(CLI_EXIT_USAGE, "input '%s' is given twice ('%s' and '%s')",
                             info[idx].name, given[idx], arg);
        given[idx] = arg;
        paths[idx] = path;
    }
    for (size_t i = 0; i < n_in; i++)
        if (!given[i])
            return cli_error(CLI_EXIT_USAGE,
                             "missing input '%s' (%s, shape %s): give it as INPUT number %zu or "
                             "as %s=FILE",
                             info[i].name, mr_dtype_name(info[i].dtype),
                             cli_dims(dims, sizeof(dims), info[i].ndim, info[i].dims), i + 1,
                             info[i].name);
    for (size_t i = 0; i < n_in; i++) {
        cli_progress(args, "reading input '%s' from %s", info[i].name, paths[i]);
        if (mr_tensor_file_read(ctx, paths[i], &files[i]) != MINIRT_OK)
            return cli_error(CLI_EXIT_RUNTIME, "%s", ctx->err);
        in[i].name = info[i].name;
        in[i].dtype = files[i].t.dtype;
        in[i].ndim = (size_t)files[i].t.ndim;
        in[i].dims = files[i].t.dims;
        in[i].data = files[i].t.data;
    }
    return 0;
}

/* Time args->bench runs (after the warm-up run already done); the median and fastest in ms. */
static int cli_bench(minirt_session *s, const cli_args *args, const minirt_tensor *in, size_t n_in,
                     double *median, double *fastest) {
    double *ms = malloc((size_t)args->bench * sizeof(double));
    if (!ms) return cli_error(CLI_EXIT_RUNTIME, "out of memory");
    for (int r = 0; r < args->bench; r++) {
        double t0 = cli_now_ms();
        minirt_status st = minirt_run(s, in, n_in);
        ms[r] = cli_now_ms() - t0;
        if (st != MINIRT_OK) {
            free(ms);
            return cli_error(CLI_EXIT_RUNTIME, "%s", minirt_errmsg(s));
        }
    }
    qsort(ms, (size_t)args->bench, sizeof(double), cli_cmp_double);
    int n = args->bench;
    *median = n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2;
    *fastest = ms[0];
    free(ms);
    return 0;
}

/* Write or print every output of the last run. */
static int cli_outputs(mr_ctx *ctx, minirt_session *s, const cli_args *args) {
    size_t n_out = minirt_output_count(s);
    if (args->outdir) {
        int status = cli_mkdirs(args->outdir);
        if (status) return status;
    }
    for (size_t i = 0; i < n_out; i++) {
        minirt_tensor out;
        if (minirt_get_output(s, i, &out) != MINIRT_OK)
            return cli_error(CLI_EXIT_RUNTIME, "%s", minirt_errmsg(s));
        if (!args->outdir) {
            cli_summary(i, &out);
            continue;
        }
        size_t len = strlen(args->outdir) + 32;
        char *path = malloc(len);
        if (!path) return cli_error(CLI_EXIT_RUNTIME, "out of memory");
        snprintf(path, len, "%s/output_%zu.npy", args->outdir, i);
        cli_progress(args, "writing output %zu '%s' to %s", i, out.name, path);
        mr_status st = mr_npy_write(ctx, path, &out);
        free(path);
        if (st != MINIRT_OK) return cli_error(CLI_EXIT_RUNTIME, "%s", ctx->err);
    }
    return 0;
}

/*
 * --compare: output i of the last run against the tensor in args->compare[i]. Prints one line per
 * output with the largest absolute and relative errors; returns 0 when every element is within
 * atol + rtol * |ref| (exact for integer and bool outputs), else a one-line error.
 */
static int cli_compare(mr_ctx *ctx, minirt_session *s, const cli_args *args) {
    char got_dims[256], want_dims[256];
    int status = 0;
    if ((size_t)args->n_compare > minirt_output_count(s))
        return cli_error(CLI_EXIT_RUNTIME, "%d --compare files for %zu output%s", args->n_compare,
                         minirt_output_count(s), minirt_output_count(s) == 1 ? "" : "s");
    for (int o = 0; o < args->n_compare && !status; o++) {
        minirt_tensor out;
        mr_io_tensor ref;
        memset(&ref, 0, sizeof(ref));
        if (minirt_get_output(s, (size_t)o, &out) != MINIRT_OK)
            return cli_error(CLI_EXIT_RUNTIME, "%s", minirt_errmsg(s));
        if (mr_tensor_file_read(ctx, args->compare[o], &ref) != MINIRT_OK)
            return cli_error(CLI_EXIT_RUNTIME, "%s", ctx->err);
        const mr_tensor *r = &ref.t;
        bool same_shape = (size_t)r->ndim == out.ndim &&
                          memcmp(r->dims, out.dims, out.ndim * sizeof(int64_t)) == 0;
        if (out.dtype != r->dtype || !same_shape) {
            status = cli_error(CLI_EXIT_RUNTIME, "output %d '%s' is %s %s but %s holds %s %s", o,
                               out.name, mr_dtype_name(out.dtype),
                               cli_dims(got_dims, sizeof(got_dims), out.ndim, out.dims),
                               args->compare[o], mr_dtype_name(r->dtype),
                               cli_dims(want_dims, sizeof(want_dims), (size_t)r->ndim, r->dims));
            mr_io_free(ctx, &ref);
            break;
        }
        bool exact = out.dtype != MINIRT_FLOAT32 && out.dtype != MINIRT_FLOAT64;
        double rtol = exact ? 0 : args->rtol, atol = exact ? 0 : args->atol;
        double max_abs = 0, max_rel = 0;
        int64_t n = mr_numel(r), bad = 0, first_bad = -1, worst = 0;
        minirt_tensor rt = {NULL, out.dtype, out.ndim, out.dims, r->data};
        for (int64_t i = 0; i < n; i++) {
            double g = cli_value(&out, i), w = cli_value(&rt, i);
            if (isnan(g) && isnan(w)) continue;
            double d = fabs(g - w);
            if (isnan(d)) d = INFINITY; /* a NaN on one side only */
            if (d > max_abs) {
                max_abs = d;
                worst = i;
            }
            if (w != 0 && d / fabs(w) > max_rel) max_rel = d / fabs(w);
            if (!(d <= atol + rtol * fabs(w)) && bad++ == 0) first_bad = i;
        }
        printf("compare: output %d '%s' vs %s: max_abs=%.3g max_rel=%.3g (%lld values): %s\n", o,
               out.name, args->compare[o], max_abs, max_rel, (long long)n, bad ? "MISMATCH" : "ok");
        if (bad)
            status = cli_error(CLI_EXIT_RUNTIME,
                               "output %d '%s' differs from %s: %lld of %lld values beyond atol "
                               "%g + rtol %g * |ref|; first at flat index %lld (got %.9g, want "
                               "%.9g); largest error at flat index %lld",
                               o, out.name, args->compare[o], (long long)bad, (long long)n, atol,
                               rtol, (long long)first_bad, cli_value(&out, first_bad),
                               cli_value(&rt, first_bad), (long long)worst);
        mr_io_free(ctx, &ref);
    }
    return status;
}

/* Open the model, bind, run (plus timed runs), report. */
static int cli_run(const cli_args *args) {
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    minirt_options o;
    minirt_options_init(&o);
    o.threads = args->threads;
    if (args->optimize >= 0) o.optimize = args->optimize;
    o.profile = args->profile || args->profile_summary;
    minirt_session *s = NULL;
    cli_progress(args, "opening %s (parse, validate, plan)", args->model);
    double t_open = cli_now_ms();
    if (minirt_open(args->model, &o, &s) != MINIRT_OK) {
        const char *msg = minirt_errmsg(s);
        int status = strstr(msg, args->model)
                         ? cli_error(CLI_EXIT_RUNTIME, "%s", msg)
                         : cli_error(CLI_EXIT_RUNTIME, "%s: %s", args->model, msg);
        minirt_close(s);
        return status;
    }
    if (args->verbose) {
        const char *summary = minirt_summary(s);
        cli_progress(args, "opened in %.1f ms: %s", cli_now_ms() - t_open,
                     summary ? summary : "(no summary)");
    }
    size_t n_in = minirt_input_count(s), cap = n_in ? n_in : 1;
    minirt_tensor *info = calloc(cap, sizeof(*info)), *in = calloc(cap, sizeof(*in));
    mr_io_tensor *files = calloc(cap, sizeof(*files));
    const char **given = calloc(cap, sizeof(*given)), **paths = calloc(cap, sizeof(*paths));
    int status = 0;
    if (!info || !in || !files || !given || !paths)
        status = cli_error(CLI_EXIT_RUNTIME, "out of memory");
    if (!status) status = cli_bind(&ctx, s, args, n_in, info, given, paths, files, in);
    double t_run = cli_now_ms();
    if (!status) cli_progress(args, "running (shapes are planned on the first run if needed)");
    if (!status && minirt_run(s, in, n_in) != MINIRT_OK)
        status = cli_error(CLI_EXIT_RUNTIME, "%s", minirt_errmsg(s));
    if (!status) cli_progress(args, "ran in %.1f ms", cli_now_ms() - t_run);
    /* The run above is the warm-up for --bench; the outputs are those of the last run. */
    double median = 0, fastest = 0;
    if (!status && args->bench > 0) {
        cli_progress(args, "timing %d runs", args->bench);
        status = cli_bench(s, args, in, n_in, &median, &fastest);
    }
    if (!status) status = cli_outputs(&ctx, s, args);
    if (!status && args->bench > 0)
        printf("bench: runs=%d threads=%d median_ms=%.3f min_ms=%.3f\n", args->bench, args->threads,
               median, fastest);
    if (!status && args->profile && minirt_profile_write_trace(s, args->profile) != MINIRT_OK)
        status = cli_error(CLI_EXIT_RUNTIME, "%s", minirt_errmsg(s));
    if (!status && args->profile_summary) {
        const char *table = minirt_profile_summary(s);
        printf("%s", table ? table : "(no profile)\n");
    }
    if (!status && args->n_compare) status = cli_compare(&ctx, s, args);
    if (!status) cli_progress(args, "done");
    if (files)
        for (size_t i = 0; i < n_in; i++)
            mr_io_free(&ctx, &files[i]);
    free(info);
    free(in);
    free(files);
    free(given);
    free(paths);
    minirt_close(s);
    return status;
}

/* --check: open (which validates everything) and report every problem, or the summary. */
static int cli_check(const cli_args *args) {
    if (args->n_inputs || args->outdir || args->bench)
        return cli_error(CLI_EXIT_USAGE, "--check takes only MODEL (no INPUT, -o or --bench)");
    minirt_options o;
    minirt_options_init(&o);
    o.threads = args->threads;
    if (args->optimize >= 0) o.optimize = args->optimize;
    minirt_session *s = NULL;
    int status = 0;
    if (minirt_open(args->model, &o, &s) == MINIRT_OK) {
        const char *summary = minirt_summary(s);
        printf("%s: ok: %s\n", args->model, summary ? summary : "(no summary: out of memory)");
    } else if (minirt_problem_count(s) == 0) {
        status = cli_error(CLI_EXIT_RUNTIME, "%s", minirt_errmsg(s));
    } else {
        size_t n = minirt_problem_count(s);
        fprintf(stderr, "minirt: error: %s: %zu problem%s\n", args->model, n, n == 1 ? "" : "s");
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, "  %s\n", minirt_problem(s, i));
        status = CLI_EXIT_RUNTIME;
    }
    minirt_close(s);
    return status;
}

int main(int argc, char **argv) {
    /* minirt splits each layer over its own threads and runs each GEMM on one; OpenBLAS's own
     * threads, started when it loaded, would only compete with them (see blas.c) */
    mr_blas_stop_own_threads();
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int default_threads = cpus < 1 ? 1 : cpus > CLI_MAX_THREADS ? CLI_MAX_THREADS : (int)cpus;
    cli_args args;
    memset(&args, 0, sizeof(args));
    args.optimize = -1;
    args.rtol = 1e-3;
    args.atol = 1e-4;
    cli_progress(&args, "start"); /* sets the clock; prints nothing */
    args.inputs = malloc((size_t)(argc > 0 ? argc : 1) * sizeof(*args.inputs));
    if (!args.inputs) return cli_error(CLI_EXIT_RUNTIME, "out of memory");
    int status = cli_parse(argc, argv, &args, default_threads);
    if (status < 0) {
        if (args.threads == 0) args.threads = default_threads;
        status = args.check ? cli_check(&args) : cli_run(&args);
    }
    free(args.inputs);
    fflush(stdout);
    if (ferror(stdout) && status == 0)
        status = cli_error(CLI_EXIT_RUNTIME, "cannot write to standard output");
    return status;
}
