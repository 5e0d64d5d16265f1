/*
 * test_corpus.c - the malformed-input corpus (tests/corpus/, written by make_corpus.py): every case
 * of tests/corpus/cases.txt is run through the API it names and must end with the expected status
 * and a message containing the expected text. Every session allocates through a hook that refuses
 * any single block over 256 MiB and any live total over 1 GiB, so a case that expects
 * MINIRT_ERR_LIMIT also proves that the size was refused before it was allocated. Failures are
 * collected and reported together. MINIRT_CORPUS_PRINT=1 prints what every case got.
 *
 * Where things are: the corpus directory is MINIRT_CORPUS_DIR (environment, then compile
 * definition, then tests/corpus beside this file); the CLI is MINIRT_CLI (environment, then compile
 * definition, then ../minirt beside this executable).
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io.h"
#include "mrt.h"

#define MAX_LINE 1024
#define MAX_ARGS 16
#define BLOCK_CAP ((size_t)256 << 20)
#define TOTAL_CAP ((size_t)1 << 30)
/* Largest zero-filled input made for a run; bigger ones get a 64-byte buffer minirt must not read
 * (their shapes are expected to be refused). */
#define MAX_INPUT_BYTES ((int64_t)64 << 20)

static char corpus_dir[PATH_MAX];
static char cli_path[PATH_MAX];
static bool print_all;

/* ---- allocation hook: caps, and a live count that must return to zero ---- */

typedef struct hook_state {
    size_t live;
    size_t refused;
} hook_state;

static void *capped_alloc(void *user, void *ptr, size_t old_size, size_t size) {
    hook_state *h = user;
    if (size == 0) {
        h->live -= old_size;
        free(ptr);
        return NULL;
    }
    if (size > BLOCK_CAP || h->live + size > TOTAL_CAP) {
        h->refused++;
        return NULL;
    }
    void *p = malloc(size);
    if (p) h->live += size;
    return p;
}

static void hook_options(minirt_options *o, hook_state *h) {
    minirt_options_init(o);
    o->threads = 1;
    o->alloc = capped_alloc;
    o->alloc_user = h;
}

/* ---- manifest ---- */

typedef struct corpus_case {
    int line;
    char file[MAX_LINE], api[MAX_LINE], expected[MAX_LINE], msg[MAX_LINE];
} corpus_case;

static char *trim(char *s) {
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/* Split a manifest line at " | " into the four fields; false if it has another shape. */
static bool parse_case(char *line, corpus_case *c) {
    char *field[4];
    int n = 0;
    char *p = line;
    while (n < 4) {
        field[n++] = p;
        char *sep = strstr(p, " | ");
        if (!sep) break;
        *sep = '\0';
        p = sep + 3;
    }
    if (n != 4) return false;
    snprintf(c->file, sizeof(c->file), "%s", trim(field[0]));
    snprintf(c->api, sizeof(c->api), "%s", trim(field[1]));
    snprintf(c->expected, sizeof(c->expected), "%s", trim(field[2]));
    snprintf(c->msg, sizeof(c->msg), "%s", trim(field[3]));
    return true;
}

static const char *const status_names[] = {
    "MINIRT_OK",        "MINIRT_ERR_ARGUMENT",    "MINIRT_ERR_IO",
    "MINIRT_ERR_MODEL", "MINIRT_ERR_UNSUPPORTED", "MINIRT_ERR_SHAPE",
    "MINIRT_ERR_NOMEM", "MINIRT_ERR_LIMIT",       "MINIRT_ERR_INTERNAL"};

static const char *status_name(int st) {
    if (st >= 0 && st < (int)(sizeof(status_names) / sizeof(status_names[0])))
        return status_names[st];
    return "(unknown status)";
}

/* The outcome of one case: a status name (or exit=N) and the message. */
typedef struct outcome {
    char status[64];
    char msg[4096];
} outcome;

static void set_outcome(outcome *o, int st, const char *msg) {
    snprintf(o->status, sizeof(o->status), "%s", status_name(st));
    snprintf(o->msg, sizeof(o->msg), "%s", msg ? msg : "(null)");
}

static void path_of(char *buf, size_t len, const char *file) {
    int w = snprintf(buf, len, "%s/%s", corpus_dir, file);
    if (w < 0 || (size_t)w >= len) fail_msg("path too long: %s/%s", corpus_dir, file);
}

/* ---- tensors: dtype names, input specs, value lists ---- */

static const struct {
    const char *name;
    minirt_dtype dtype;
} dtypes[] = {{"float32", MINIRT_FLOAT32}, {"float64", MINIRT_FLOAT64}, {"int32", MINIRT_INT32},
              {"int64", MINIRT_INT64},     {"uint8", MINIRT_UINT8},     {"int8", MINIRT_INT8},
              {"bool", MINIRT_BOOL}};

static int dtype_of(const char *name, size_t len) {
    for (size_t i = 0; i < sizeof(dtypes) / sizeof(dtypes[0]); i++)
        if (strlen(dtypes[i].name) == len && strncmp(dtypes[i].name, name, len) == 0)
            return dtypes[i].dtype;
    return 0;
}

/* Element i of a tensor as a double (every type minirt reads). */
static double element(const mr_tensor *t, int64_t i) {
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
    case MINIRT_BOOL:
        return ((const uint8_t *)t->data)[i];
    case MINIRT_INT8:
        return ((const int8_t *)t->data)[i];
    }
    return 0;
}

/* "DTYPE DIMS: V0 V1 ..." for a tensor read from a file (all elements; at most ~4 KiB). */
static void describe(const mr_tensor *t, char *buf, size_t len) {
    char dims[160];
    size_t used = (size_t)snprintf(buf, len, "%s %s:", mr_dtype_name(t->dtype),
                                   mr_dims_str(dims, sizeof(dims), t->ndim, t->dims));
    int64_t n = mr_numel(t);
    for (int64_t i = 0; i < n && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, " %.17g", element(t, i));
}

/* One input of a run spec; files[] keeps what @F.npy read. */
typedef struct input_spec {
    minirt_tensor t;
    int64_t dims[MINIRT_MAX_DIMS];
    char name[128];
    void *owned; /* zero-filled buffer (malloc) */
    mr_io_tensor file;
} input_spec;

static unsigned char dummy_data[64];

static bool parse_input(mr_ctx *ctx, const char *spec, input_spec *in, char *why, size_t why_len) {
    memset(in, 0, sizeof(*in));
    const char *eq = strchr(spec, '=');
    const char *body = spec;
    if (eq) {
        snprintf(in->name, sizeof(in->name), "%.*s", (int)(eq - spec), spec);
        in->t.name = in->name;
        body = eq + 1;
    }
    if (body[0] == '@') {
        char path[PATH_MAX];
        path_of(path, sizeof(path), body + 1);
        if (mr_npy_read(ctx, path, &in->file) != MINIRT_OK) {
            snprintf(why, why_len, "cannot read input %s: %s", body + 1, ctx->err);
            return false;
        }
        in->t.dtype = in->file.t.dtype;
        in->t.ndim = (size_t)in->file.t.ndim;
        in->t.dims = in->file.t.dims;
        in->t.data = in->file.t.data;
        return true;
    }
    const char *br = strchr(body, '[');
    int dtype = br ? dtype_of(body, (size_t)(br - body)) : 0;
    if (!dtype) {
        snprintf(why, why_len, "bad input spec '%s'", spec);
        return false;
    }
    in->t.dtype = (minirt_dtype)dtype;
    const char *p = br + 1;
    while (*p && *p != ']') {
        if (in->t.ndim == MINIRT_MAX_DIMS) {
            snprintf(why, why_len, "input spec '%s' has too many dims", spec);
            return false;
        }
        char *end;
        in->dims[in->t.ndim++] = strtoll(p, &end, 10);
        if (end == p) {
            snprintf(why, why_len, "bad dims in input spec '%s'", spec);
            return false;
        }
        p = *end == ',' ? end + 1 : end;
    }
    in->t.dims = in->dims;
    /* zero data of the declared size when it is small and valid; else a buffer minirt must not
     * read, since it has to refuse the shape first */
    int64_t bytes = (int64_t)mr_dtype_size(dtype);
    bool small = true;
    for (size_t d = 0; d < in->t.ndim; d++)
        if (in->dims[d] < 0 || !mr_mul_i64(bytes, in->dims[d], &bytes) || bytes > MAX_INPUT_BYTES)
            small = false;
    in->owned = small ? calloc(1, (size_t)(bytes ? bytes : 1)) : NULL;
    in->t.data = in->owned ? in->owned : (const void *)dummy_data;
    return true;
}

/* ---- the APIs ---- */

static void do_open(const corpus_case *c, bool from_memory, outcome *o) {
    hook_state h = {0, 0};
    minirt_options opt;
    hook_options(&opt, &h);
    char path[PATH_MAX];
    path_of(path, sizeof(path), c->file);
    minirt_session *s = NULL;
    minirt_status st;
    if (from_memory) {
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        void *buf;
        size_t len;
        if (mr_read_file(&ctx, path, 0, &buf, &len) != MINIRT_OK) {
            set_outcome(o, MINIRT_ERR_INTERNAL, ctx.err);
            return;
        }
        st = minirt_open_memory(buf, len, &opt, &s);
        mr_free(&ctx, buf);
    } else {
        st = minirt_open(path, &opt, &s);
    }
    set_outcome(o, st, minirt_errmsg(s));
    minirt_close(s);
    if (h.live != 0) snprintf(o->status, sizeof(o->status), "LEAK of %zu bytes", h.live);
}

static void do_run(const corpus_case *c, const char *args, outcome *o) {
    hook_state h = {0, 0};
    minirt_options opt;
    hook_options(&opt, &h);
    char path[PATH_MAX];
    path_of(path, sizeof(path), c->file);
    minirt_session *s = NULL;
    minirt_status st = minirt_open(path, &opt, &s);
    if (st != MINIRT_OK) {
        set_outcome(o, st, minirt_errmsg(s));
        snprintf(o->status, sizeof(o->status), "open failed: %s", status_name(st));
        minirt_close(s);
        return;
    }
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    input_spec in[MAX_ARGS];
    minirt_tensor ts[MAX_ARGS];
    size_t n = 0;
    char buf[MAX_LINE], why[MR_ERRLEN + 128] = "";
    snprintf(buf, sizeof(buf), "%s", args);
    for (char *save = NULL, *tok = strtok_r(buf, " ", &save); tok && !why[0];
         tok = strtok_r(NULL, " ", &save)) {
        if (n == MAX_ARGS || !parse_input(&ctx, tok, &in[n], why, sizeof(why))) break;
        ts[n] = in[n].t;
        n++;
    }
    if (why[0]) {
        set_outcome(o, MINIRT_ERR_INTERNAL, why);
    } else {
        st = minirt_run(s, ts, n);
        set_outcome(o, st, minirt_errmsg(s));
        /* outputs of a successful run are readable in full */
        for (size_t i = 0; st == MINIRT_OK && i < minirt_output_count(s); i++) {
            minirt_tensor out;
            assert_int_equal(minirt_get_output(s, i, &out), MINIRT_OK);
            mr_tensor t = {.dtype = out.dtype, .ndim = (int)out.ndim, .data = (void *)out.data};
            memcpy(t.dims, out.dims, out.ndim * sizeof(int64_t));
            volatile double sum = 0;
            for (int64_t k = 0; k < mr_numel(&t); k++)
                sum += element(&t, k);
            (void)sum;
        }
    }
    for (size_t i = 0; i < n; i++) {
        free(in[i].owned);
        mr_io_free(&ctx, &in[i].file);
    }
    minirt_close(s);
    if (h.live != 0) snprintf(o->status, sizeof(o->status), "LEAK of %zu bytes", h.live);
}

static void do_read(const corpus_case *c, bool npy, outcome *o) {
    hook_state h = {0, 0};
    minirt_options opt;
    hook_options(&opt, &h);
    mr_ctx ctx;
    mr_ctx_init(&ctx, &opt);
    char path[PATH_MAX];
    path_of(path, sizeof(path), c->file);
    mr_io_tensor t;
    mr_status st = npy ? mr_npy_read(&ctx, path, &t) : mr_pb_read(&ctx, path, &t);
    if (st == MINIRT_OK) {
        describe(&t.t, o->msg, sizeof(o->msg));
        snprintf(o->status, sizeof(o->status), "%s", status_name(st));
    } else {
        set_outcome(o, st, ctx.err);
        if (t.t.data || t.name) snprintf(o->status, sizeof(o->status), "failed read left data");
    }
    mr_io_free(&ctx, &t);
    if (h.live != 0) snprintf(o->status, sizeof(o->status), "LEAK of %zu bytes", h.live);
}

/* The CLI with args in the corpus directory: exit=N and its stderr. */
static void do_cli(const char *args, outcome *o) {
    char buf[MAX_LINE];
    char *argv[MAX_ARGS + 2];
    int argc = 0;
    argv[argc++] = cli_path;
    snprintf(buf, sizeof(buf), "%s", args);
    for (char *save = NULL, *tok = strtok_r(buf, " ", &save); tok && argc < MAX_ARGS + 1;
         tok = strtok_r(NULL, " ", &save))
        argv[argc++] = tok;
    argv[argc] = NULL;
    char errpath[] = "/tmp/minirt_corpus_XXXXXX";
    int errfd = mkstemp(errpath);
    assert_true(errfd >= 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull < 0 || dup2(devnull, 1) < 0 || dup2(errfd, 2) < 0 || chdir(corpus_dir) != 0)
            _exit(126);
        execv(cli_path, argv);
        _exit(127);
    }
    int wst = 0;
    while (waitpid(pid, &wst, 0) < 0 && errno == EINTR) {
    }
    ssize_t got = pread(errfd, o->msg, sizeof(o->msg) - 1, 0);
    o->msg[got > 0 ? got : 0] = '\0';
    close(errfd);
    unlink(errpath);
    if (WIFEXITED(wst))
        snprintf(o->status, sizeof(o->status), "exit=%d", WEXITSTATUS(wst));
    else
        snprintf(o->status, sizeof(o->status), "signal=%d", WIFSIGNALED(wst) ? WTERMSIG(wst) : -1);
    /* a sanitizer report fails the case whatever the exit status */
    if (strstr(o->msg, "Sanitizer")) snprintf(o->status, sizeof(o->status), "sanitizer report");
}

/* ---- the test ---- */

static bool run_case(const corpus_case *c, char *report, size_t len) {
    outcome o;
    memset(&o, 0, sizeof(o));
    if (strcmp(c->api, "open") == 0) {
        do_open(c, false, &o);
    } else if (strcmp(c->api, "open_mem") == 0) {
        do_open(c, true, &o);
    } else if (strncmp(c->api, "run", 3) == 0 && (c->api[3] == ' ' || !c->api[3])) {
        do_run(c, c->api + 3, &o);
    } else if (strcmp(c->api, "npy") == 0 || strcmp(c->api, "pb") == 0) {
        do_read(c, c->api[0] == 'n', &o);
    } else if (strncmp(c->api, "cli ", 4) == 0) {
        do_cli(c->api + 4, &o);
    } else {
        snprintf(report, len, "line %d: unknown API '%s'", c->line, c->api);
        return false;
    }
    if (print_all)
        printf("line %d: %s | %s -> %s | %s\n", c->line, c->file, c->api, o.status, o.msg);
    bool ok = strcmp(o.status, c->expected) == 0 && strstr(o.msg, c->msg) != NULL;
    /* a file that reads must match in full, not just begin with the expected values */
    if (ok && strcmp(c->expected, "MINIRT_OK") == 0 &&
        (strcmp(c->api, "npy") == 0 || strcmp(c->api, "pb") == 0))
        ok = strcmp(o.msg, c->msg) == 0;
    /* every failure explains itself */
    if (ok && strcmp(o.status, "MINIRT_OK") != 0 && strcmp(o.status, "exit=0") != 0 && !o.msg[0])
        ok = false;
    if (!ok) {
        int w = snprintf(report, len, "line %d: %s | %s\n    got:  %s | %s\n    want: %s | %s",
                         c->line, c->file, c->api, o.status, o.msg, c->expected, c->msg);
        if (w < 0 || (size_t)w >= len) snprintf(report, len, "line %d: (report too long)", c->line);
    }
    return ok;
}

static void locate(void) {
    const char *env = getenv("MINIRT_CORPUS_DIR");
#ifdef MINIRT_CORPUS_DIR_DEFAULT
    if (!env) env = MINIRT_CORPUS_DIR_DEFAULT;
#endif
    if (env) {
        snprintf(corpus_dir, sizeof(corpus_dir), "%s", env);
    } else {
        snprintf(corpus_dir, sizeof(corpus_dir), "%s", __FILE__);
        char *slash = strrchr(corpus_dir, '/');
        snprintf(slash ? slash + 1 : corpus_dir,
                 sizeof(corpus_dir) - (size_t)(slash ? slash + 1 - corpus_dir : 0), "corpus");
    }
    env = getenv("MINIRT_CLI");
#ifdef MINIRT_CLI_DEFAULT
    if (!env) env = MINIRT_CLI_DEFAULT;
#endif
    if (env) {
        snprintf(cli_path, sizeof(cli_path), "%s", env);
    } else {
        char self[PATH_MAX - 16];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        self[n > 0 ? n : 0] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) *slash = '\0';
        snprintf(cli_path, sizeof(cli_path), "%s/../minirt", self);
    }
    char real[PATH_MAX];
    if (realpath(cli_path, real)) snprintf(cli_path, sizeof(cli_path), "%s", real);
    print_all = getenv("MINIRT_CORPUS_PRINT") != NULL;
}

static void test_corpus(void **state) {
    (void)state;
    locate();
    char manifest[PATH_MAX + 16];
    snprintf(manifest, sizeof(manifest), "%s/cases.txt", corpus_dir);
    FILE *f = fopen(manifest, "r");
    if (!f) fail_msg("cannot open %s: %s", manifest, strerror(errno));
    char line[MAX_LINE];
    int lineno = 0, cases = 0, failed = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        size_t len = strlen(line);
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        char *l = line;
        while (*l == ' ' || *l == '\t')
            l++;
        if (!l[0] || l[0] == '#') continue;
        corpus_case c;
        c.line = lineno;
        if (!parse_case(l, &c))
            fail_msg("%s:%d: not FILE | API | EXPECTED | MESSAGE", manifest, lineno);
        char report[8192];
        cases++;
        if (!run_case(&c, report, sizeof(report))) {
            failed++;
            printf("FAIL %s\n", report);
        }
    }
    fclose(f);
    printf("corpus: %d cases, %d failed\n", cases, failed);
    assert_true(cases >= 40);
    if (failed) fail_msg("%d of %d corpus cases failed", failed, cases);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
