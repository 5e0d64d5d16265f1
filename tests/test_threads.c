/*
 * test_threads.c - concurrent sessions. A single-threaded run of models/small_cnn gives the
 * reference output; then 4 threads each open a session of their own (two from the model file, two
 * from one shared, read-only copy of its bytes in memory) and run it 20 times, and every output
 * must be bit-identical to the reference. A fifth thread meanwhile opens a corrupt model again and
 * again: its errors must stay in its own sessions. The sessions run on 1, 2 and 3 threads of their
 * own (minirt's pool; OpenBLAS computes in whichever thread calls it). Also run under
 * ThreadSanitizer by tests/tsan_check.sh, with tests/test_threadpool.c.
 *
 * What minirt allows (include/minirt.h): different sessions may be used from different threads at
 * the same time; one session must not be used by two threads at once. Sessions share nothing, so
 * there are no shared read-only weights to test: each session copies its weights at open.
 * minirt_options_init, minirt_status_string and minirt_version may be called from any thread.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io.h"
#include "mrt.h"

#define THREADS 4
#define RUNS 20

static char model_path[1024], input_path[1024];
static uint8_t *model_bytes; /* shared by the threads that open from memory (read-only) */
static size_t model_len;
static mr_io_tensor input; /* shared input tensor (read-only) */
static float *reference;   /* the single-threaded output */
static size_t reference_bytes;

static void locate(void) {
    const char *dir = getenv("MINIRT_MODELS_DIR");
#ifdef MINIRT_MODELS_DIR_DEFAULT
    if (!dir) dir = MINIRT_MODELS_DIR_DEFAULT;
#endif
    char base[900];
    if (dir) {
        snprintf(base, sizeof(base), "%s", dir);
    } else {
        snprintf(base, sizeof(base), "%s", __FILE__);
        char *slash = strrchr(base, '/');
        size_t at = slash ? (size_t)(slash - base) : 0;
        snprintf(base + at, sizeof(base) - at, "/../models");
    }
    snprintf(model_path, sizeof(model_path), "%s/small_cnn/model.onnx", base);
    snprintf(input_path, sizeof(input_path), "%s/small_cnn/input_0.npy", base);
}

static minirt_status open_session(bool from_memory, int threads, minirt_session **s) {
    minirt_options o;
    minirt_options_init(&o);
    o.threads = threads;
    return from_memory ? minirt_open_memory(model_bytes, model_len, &o, s)
                       : minirt_open(model_path, &o, s);
}

/* Run s once on the shared input; copy nothing, return the output (owned by s). */
static const float *run_once(minirt_session *s, size_t *bytes, char *why, size_t why_len) {
    minirt_tensor in = {NULL, input.t.dtype, (size_t)input.t.ndim, input.t.dims, input.t.data};
    if (minirt_run(s, &in, 1) != MINIRT_OK) {
        snprintf(why, why_len, "run: %s", minirt_errmsg(s));
        return NULL;
    }
    minirt_tensor out;
    if (minirt_get_output(s, 0, &out) != MINIRT_OK) {
        snprintf(why, why_len, "get_output: %s", minirt_errmsg(s));
        return NULL;
    }
    int64_t n = 1;
    for (size_t d = 0; d < out.ndim; d++)
        n *= out.dims[d];
    *bytes = (size_t)n * sizeof(float);
    return out.data;
}

typedef struct worker {
    int id;
    pthread_t thread;
    int mismatches;
    char error[MR_ERRLEN + 64];
} worker;

static void *worker_main(void *arg) {
    worker *w = arg;
    minirt_session *s = NULL;
    /* sessions of 1, 2 and 3 threads: a session's own threads (pool.c) must not change a bit */
    if (open_session(w->id % 2 == 1, 1 + w->id % 3, &s) != MINIRT_OK) {
        snprintf(w->error, sizeof(w->error), "open: %s", minirt_errmsg(s));
        minirt_close(s);
        return NULL;
    }
    for (int r = 0; r < RUNS && !w->error[0]; r++) {
        size_t bytes = 0;
        const float *y = run_once(s, &bytes, w->error, sizeof(w->error));
        if (y && (bytes != reference_bytes || memcmp(y, reference, bytes) != 0)) w->mismatches++;
    }
    minirt_close(s);
    return NULL;
}

/* Opens a truncated copy of the model again and again; every error must be its own. */
static void *breaker_main(void *arg) {
    worker *w = arg;
    for (int r = 0; r < RUNS && !w->error[0]; r++) {
        minirt_options o;
        minirt_options_init(&o);
        o.threads = 1;
        minirt_session *s = NULL;
        minirt_status st = minirt_open_memory(model_bytes, model_len / 2, &o, &s);
        if (st != MINIRT_ERR_MODEL || !strstr(minirt_errmsg(s), "not a valid ONNX model"))
            snprintf(w->error, sizeof(w->error), "truncated model: status %d '%s'", st,
                     minirt_errmsg(s));
        if (strcmp(minirt_status_string(st), "invalid model") != 0)
            snprintf(w->error, sizeof(w->error), "status string '%s'", minirt_status_string(st));
        minirt_close(s);
    }
    return NULL;
}

static int setup(void **state) {
    (void)state;
    locate();
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    void *buf;
    if (mr_read_file(&ctx, model_path, 0, &buf, &model_len) != MINIRT_OK) {
        fprintf(stderr, "%s\n", ctx.err);
        return -1;
    }
    model_bytes = malloc(model_len);
    if (!model_bytes) return -1;
    memcpy(model_bytes, buf, model_len);
    mr_free(&ctx, buf);
    if (mr_npy_read(&ctx, input_path, &input) != MINIRT_OK) {
        fprintf(stderr, "%s\n", ctx.err);
        return -1;
    }
    return 0;
}

static int teardown(void **state) {
    (void)state;
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    mr_io_free(&ctx, &input);
    free(model_bytes);
    free(reference);
    return 0;
}

static void test_concurrent_sessions(void **state) {
    (void)state;
    /* the single-threaded reference */
    minirt_session *s = NULL;
    if (open_session(false, 1, &s) != MINIRT_OK) fail_msg("open: %s", minirt_errmsg(s));
    char why[MR_ERRLEN + 64] = "";
    const float *y = run_once(s, &reference_bytes, why, sizeof(why));
    if (!y) fail_msg("%s", why);
    reference = malloc(reference_bytes);
    assert_non_null(reference);
    memcpy(reference, y, reference_bytes);
    minirt_close(s);

    worker w[THREADS + 1];
    memset(w, 0, sizeof(w));
    for (int i = 0; i <= THREADS; i++) {
        w[i].id = i;
        assert_int_equal(
            pthread_create(&w[i].thread, NULL, i < THREADS ? worker_main : breaker_main, &w[i]), 0);
    }
    for (int i = 0; i <= THREADS; i++)
        assert_int_equal(pthread_join(w[i].thread, NULL), 0);
    for (int i = 0; i <= THREADS; i++) {
        if (w[i].error[0]) fail_msg("thread %d: %s", i, w[i].error);
        if (w[i].mismatches)
            fail_msg("thread %d: %d of %d outputs differ from the single-threaded run", i,
                     w[i].mismatches, RUNS);
    }
}

/* One session handed from thread to thread (never used by two at once) is allowed too. */
static void *handoff_main(void *arg) {
    minirt_session *s = arg;
    char why[MR_ERRLEN + 64] = "";
    size_t bytes = 0;
    const float *y = run_once(s, &bytes, why, sizeof(why));
    return y && bytes == reference_bytes && memcmp(y, reference, bytes) == 0 ? s : NULL;
}

static void test_session_handoff(void **state) {
    (void)state;
    minirt_session *s = NULL;
    if (open_session(true, 2, &s) != MINIRT_OK) fail_msg("open: %s", minirt_errmsg(s));
    for (int i = 0; i < 3; i++) {
        pthread_t t;
        void *ret = NULL;
        assert_int_equal(pthread_create(&t, NULL, handoff_main, s), 0);
        assert_int_equal(pthread_join(t, &ret), 0);
        assert_ptr_equal(ret, s);
    }
    minirt_close(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_sessions),
        cmocka_unit_test(test_session_handoff),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
