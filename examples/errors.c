/*
 * errors.c - every way a minirt call can fail, and how a program reports it. Each case makes one
 * call fail on purpose and prints the status code, minirt_status_string(status) and
 * minirt_errmsg(session) - and, for a model that will not load, every problem open found
 * (minirt_problem). The program checks that each failure has the documented status, and that the
 * session keeps working after a failed run.
 *
 * usage: errors GOOD.onnx BAD.onnx
 *   GOOD: a model with one float32 input of fully static shape (e.g. models/small_cnn/model.onnx)
 *   BAD:  a model with several problems (e.g. tests/data/check_problems.onnx)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minirt.h"

static int n_cases, n_bad;

/* Report one case: the call's status against the one expected, and the session's message. */
static void report(const char *what, minirt_status got, minirt_status want, const char *msg) {
    n_cases++;
    int ok = got == want;
    n_bad += !ok;
    printf("[%s] %s -> %d (%s): %s\n", ok ? "ok" : "UNEXPECTED", what, (int)got,
           minirt_status_string(got), msg && *msg ? msg : "(no message)");
    if (!ok) printf("     expected %d (%s)\n", (int)want, minirt_status_string(want));
}

/* An allocator hook that fails once `budget` allocations have been made. */
typedef struct failing_alloc {
    long budget;
} failing_alloc;

static void *fail_after(void *user, void *ptr, size_t old_size, size_t size) {
    failing_alloc *f = user;
    (void)old_size;
    if (size == 0) {
        free(ptr);
        return NULL;
    }
    if (f->budget <= 0) return NULL;
    f->budget--;
    return malloc(size);
}

/* Open failures: the handle comes back even on failure and must be closed. */
static void open_errors(const char *good, const char *bad) {
    minirt_session *s = NULL;
    minirt_status st = minirt_open("no/such/model.onnx", NULL, &s);
    report("open a missing file", st, MINIRT_ERR_IO, minirt_errmsg(s));
    minirt_close(s);

    static const unsigned char junk[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 'n', 'o', 't'};
    st = minirt_open_memory(junk, sizeof(junk), NULL, &s);
    report("open malformed bytes (minirt_open_memory)", st, MINIRT_ERR_MODEL, minirt_errmsg(s));
    minirt_close(s);

    st = minirt_open_memory(NULL, 0, NULL, &s);
    report("open_memory with NULL data", st, MINIRT_ERR_ARGUMENT, minirt_errmsg(s));
    minirt_close(s);

    /* A model with several problems: open lists all of them; errmsg gives the first one. */
    st = minirt_open(bad, NULL, &s);
    /* the first problem decides the status: MODEL (a bad attribute) or UNSUPPORTED (an op) */
    report("open a model minirt cannot run", st,
           st == MINIRT_ERR_UNSUPPORTED ? MINIRT_ERR_UNSUPPORTED : MINIRT_ERR_MODEL,
           minirt_errmsg(s));
    size_t n = minirt_problem_count(s);
    printf("     %zu problem%s:\n", n, n == 1 ? "" : "s");
    for (size_t i = 0; i < n; i++)
        printf("       %s\n", minirt_problem(s, i));
    if (n < 2) {
        printf("     UNEXPECTED: the bad model should have more than one problem\n");
        n_bad++;
    }
    minirt_close(s);

    /* Allocation failures: of the session itself (no handle: minirt_errmsg(NULL) explains), and
     * of a later allocation (the handle holds the message). */
    minirt_options o;
    minirt_options_init(&o);
    failing_alloc budget = {0};
    o.alloc = fail_after;
    o.alloc_user = &budget;
    st = minirt_open(good, &o, &s);
    report("open with no memory at all", st, MINIRT_ERR_NOMEM, minirt_errmsg(s));
    if (s != NULL) {
        printf("     UNEXPECTED: a session handle came back\n");
        n_bad++;
    }
    minirt_close(s); /* NULL: a no-op */
    budget.budget = 25;
    st = minirt_open(good, &o, &s);
    report("open when the 26th allocation fails", st, MINIRT_ERR_NOMEM, minirt_errmsg(s));
    minirt_close(s);

    /* Limits: activations + workspace capped far below what the model needs. */
    minirt_options_init(&o);
    o.max_total_bytes = 4096;
    st = minirt_open(good, &o, &s);
    report("open with max_total_bytes = 4096", st, MINIRT_ERR_LIMIT, minirt_errmsg(s));
    minirt_close(s);
}

/* Run failures on a good session; it must still run afterwards. */
static void run_errors(const char *good) {
    minirt_session *s = NULL;
    minirt_status st = minirt_open(good, NULL, &s);
    minirt_tensor info;
    if (st != MINIRT_OK || minirt_input_count(s) != 1 ||
        minirt_get_input_info(s, 0, &info) != MINIRT_OK || info.dtype != MINIRT_FLOAT32 ||
        info.ndim < 1 || info.ndim > MINIRT_MAX_DIMS) {
        printf("UNEXPECTED: %s must open and have one float32 input: %s\n", good, minirt_errmsg(s));
        n_bad++;
        minirt_close(s);
        return;
    }
    int64_t dims[MINIRT_MAX_DIMS];
    size_t count = 1;
    for (size_t d = 0; d < info.ndim; d++) {
        dims[d] = info.dims[d] < 0 ? 1 : info.dims[d];
        count *= (size_t)dims[d];
    }
    float *x = calloc(count, sizeof(float));
    double *x64 = calloc(count, sizeof(double));
    if (!x || !x64) {
        free(x);
        free(x64);
        minirt_close(s);
        return;
    }
    minirt_tensor ok = {info.name, MINIRT_FLOAT32, info.ndim, dims, x}, t;
    minirt_tensor two[2] = {ok, ok};
    minirt_tensor out;

    st = minirt_get_output(s, 0, &out);
    report("get_output before any run", st, MINIRT_ERR_ARGUMENT, minirt_errmsg(s));
    st = minirt_get_input_info(s, 7, &info);
    report("get_input_info(7)", st, MINIRT_ERR_ARGUMENT, minirt_errmsg(s));

    st = minirt_run(s, NULL, 0);
    report("run with no inputs", st, MINIRT_ERR_ARGUMENT, minirt_errmsg(s));
    st = minirt_run(s, two, 2);
    report("run with two inputs", st, MINIRT_ERR_ARGUMENT, minirt_errmsg(s));

    t = ok;
    t.name = "no_such_input";
    st = minirt_run(s, &t, 1);
    report("run with a wrong input name", st, MINIRT_ERR_ARGUMENT, minirt_errmsg(s));

    t = ok;
    t.dtype = MINIRT_FLOAT64;
    t.data = x64;
    st = minirt_run(s, &t, 1);
    report("run with float64 data for a float32 input", st, MINIRT_ERR_ARGUMENT, minirt_errmsg(s));

    t = ok;
    t.ndim = info.ndim - 1;
    st = minirt_run(s, &t, 1);
    report("run with the wrong rank", st, MINIRT_ERR_SHAPE, minirt_errmsg(s));

    int64_t bigger[MINIRT_MAX_DIMS];
    memcpy(bigger, dims, sizeof(bigger));
    bigger[info.ndim - 1] += 1;
    t = ok;
    t.dims = bigger;
    st = minirt_run(s, &t, 1);
    report("run with the wrong shape", st, MINIRT_ERR_SHAPE, minirt_errmsg(s));

    t = ok;
    t.data = NULL;
    st = minirt_run(s, &t, 1);
    report("run with NULL data", st, MINIRT_ERR_ARGUMENT, minirt_errmsg(s));

    st = minirt_get_output(s, 0, &out);
    report("get_output after a failed run", st, MINIRT_ERR_ARGUMENT, minirt_errmsg(s));

    /* After all that, the session still works. */
    st = minirt_run(s, &ok, 1);
    report("run with a correct input (the session recovers)", st, MINIRT_OK, minirt_errmsg(s));
    st = minirt_get_output(s, (size_t)minirt_output_count(s), &out);
    report("get_output past the last output", st, MINIRT_ERR_ARGUMENT, minirt_errmsg(s));
    free(x);
    free(x64);
    minirt_close(s);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s GOOD.onnx BAD.onnx\n", argv[0]);
        return 2;
    }
    open_errors(argv[1], argv[2]);
    run_errors(argv[1]);

    /* A session that failed to open: calls on it fail cleanly. */
    minirt_session *s = NULL;
    minirt_open("no/such/model.onnx", NULL, &s);
    minirt_tensor in = {NULL, MINIRT_FLOAT32, 0, NULL, NULL};
    minirt_status st = minirt_run(s, &in, 1);
    report("run on a session whose open failed", st, MINIRT_ERR_ARGUMENT, minirt_errmsg(s));
    minirt_close(s);

    if (n_bad) {
        printf("%d of %d error paths did not behave as documented\n", n_bad, n_cases);
        return 1;
    }
    printf("all %d error paths reported as documented\n", n_cases);
    return 0;
}
