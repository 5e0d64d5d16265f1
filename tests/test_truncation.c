/*
 * test_truncation.c - every prefix (0..len bytes) of two small real models (models/conv_stack and
 * models/small_cnn) is opened with minirt_open_memory from a heap block of exactly that size (so
 * that ASan sees any read past the end); each must open or fail with a non-empty message, and a
 * counting allocator checks that nothing leaks. Then a few hundred single-byte mutations (fixed
 * seed) of each model are opened and, when they open, run on zeros: no crash, no leak. Last, the
 * N-th allocation of open + run of small_cnn fails, for every N: each must end in a clean
 * MINIRT_ERR_NOMEM, with nothing leaked.
 *
 * The models directory is MINIRT_MODELS_DIR (environment, then compile definition, then models/
 * beside tests/).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrt.h"

#define MUTATIONS 300
/* Largest zero-filled input a mutated model is run on (elements). */
#define MAX_RUN_ELEMS ((int64_t)1 << 22)

typedef struct counter {
    int64_t live;    /* bytes */
    int64_t blocks;  /* live blocks */
    int64_t allocs;  /* allocations so far */
    int64_t fail_at; /* fail this allocation (1-based); 0 = never */
} counter;

static void *counting_alloc(void *user, void *ptr, size_t old_size, size_t size) {
    counter *c = user;
    if (size == 0) {
        c->live -= (int64_t)old_size;
        c->blocks--;
        free(ptr);
        return NULL;
    }
    if (++c->allocs == c->fail_at) return NULL;
    void *p = malloc(size);
    if (p) {
        c->live += (int64_t)size;
        c->blocks++;
    }
    return p;
}

static void options(minirt_options *o, counter *c) {
    minirt_options_init(o);
    o->threads = 1;
    o->alloc = counting_alloc;
    o->alloc_user = c;
    o->max_tensor_bytes = (int64_t)256 << 20;
    o->max_total_bytes = (int64_t)1 << 30;
}

static uint8_t *read_model(const char *name, size_t *len) {
    char path[1024];
    const char *dir = getenv("MINIRT_MODELS_DIR");
#ifdef MINIRT_MODELS_DIR_DEFAULT
    if (!dir) dir = MINIRT_MODELS_DIR_DEFAULT;
#endif
    if (dir) {
        snprintf(path, sizeof(path), "%s/%s/model.onnx", dir, name);
    } else {
        /* tests/test_truncation.c -> models/NAME/model.onnx */
        snprintf(path, sizeof(path), "%s", __FILE__);
        char *slash = strrchr(path, '/');
        size_t at = slash ? (size_t)(slash - path) : 0;
        snprintf(path + at, sizeof(path) - at, "/../models/%s/model.onnx", name);
    }
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    assert_true(n > 0);
    uint8_t *buf = malloc((size_t)n);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Run an opened session once on zeros of its declared input shapes (symbolic dims 1). */
static void run_zeros(minirt_session *s) {
    size_t n = minirt_input_count(s);
    minirt_tensor in[8];
    int64_t dims[8][MINIRT_MAX_DIMS];
    void *data[8] = {NULL};
    if (n > 8) return;
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        minirt_tensor info;
        assert_int_equal(minirt_get_input_info(s, i, &info), MINIRT_OK);
        int64_t elems = 1;
        for (size_t d = 0; d < info.ndim; d++) {
            dims[i][d] = info.dims[d] < 0 ? 1 : info.dims[d];
            if (elems <= MAX_RUN_ELEMS) elems *= dims[i][d];
        }
        size_t es = info.dtype == MINIRT_INT64 || info.dtype == MINIRT_FLOAT64 ? 8 : 4;
        if (elems > MAX_RUN_ELEMS || !(data[i] = calloc((size_t)(elems ? elems : 1), es)))
            ok = false;
        in[i] = (minirt_tensor){info.name, info.dtype, info.ndim, dims[i], data[i]};
    }
    if (ok && minirt_run(s, in, n) == MINIRT_OK) {
        for (size_t i = 0; i < minirt_output_count(s); i++) {
            minirt_tensor out;
            assert_int_equal(minirt_get_output(s, i, &out), MINIRT_OK);
        }
    } else if (ok) {
        assert_true(strlen(minirt_errmsg(s)) > 0);
    }
    for (size_t i = 0; i < n; i++)
        free(data[i]);
}

/* Open len bytes (copied into a block of exactly that size); optionally run; close. Returns the
 * status of the open. */
static minirt_status open_bytes(const uint8_t *bytes, size_t len, bool run) {
    uint8_t *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    if (len) memcpy(copy, bytes, len);
    counter c = {0, 0, 0, 0};
    minirt_options o;
    options(&o, &c);
    minirt_session *s = NULL;
    minirt_status st = minirt_open_memory(copy, len, &o, &s);
    free(copy); /* the weights were copied at open */
    if (st != MINIRT_OK) {
        if (strlen(minirt_errmsg(s)) == 0)
            fail_msg("%zu bytes: status %d with an empty message", len, st);
        assert_true(minirt_input_count(s) == 0 && minirt_output_count(s) == 0);
    } else if (run) {
        run_zeros(s);
    }
    minirt_close(s);
    if (c.live != 0 || c.blocks != 0)
        fail_msg("%zu bytes: %lld bytes in %lld blocks leaked", len, (long long)c.live,
                 (long long)c.blocks);
    return st;
}

static void sweep_prefixes(const char *name) {
    size_t len;
    uint8_t *buf = read_model(name, &len);
    size_t opened = 0;
    for (size_t cut = 0; cut <= len; cut++)
        if (open_bytes(buf, cut, false) == MINIRT_OK) opened++;
    /* the whole model opens; almost no prefix does */
    assert_int_equal(open_bytes(buf, len, true), MINIRT_OK);
    assert_true(opened >= 1 && opened < len / 100 + 2);
    printf("%s: %zu prefixes, %zu open\n", name, len + 1, opened);
    free(buf);
}

static void test_prefixes_conv_stack(void **state) {
    (void)state;
    sweep_prefixes("conv_stack");
}

static void test_prefixes_small_cnn(void **state) {
    (void)state;
    sweep_prefixes("small_cnn");
}

/* xorshift64*: a fixed, portable sequence. */
static uint64_t next_random(uint64_t *s) {
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

static void mutate(const char *name, uint64_t seed) {
    size_t len;
    uint8_t *buf = read_model(name, &len);
    uint8_t *m = malloc(len);
    assert_non_null(m);
    int opened = 0;
    for (int i = 0; i < MUTATIONS; i++) {
        memcpy(m, buf, len);
        uint64_t r = next_random(&seed);
        size_t at = (size_t)(r % len);
        uint8_t v = (uint8_t)(r >> 32);
        if (v == m[at]) v ^= 0x80;
        m[at] = v;
        if (open_bytes(m, len, true) == MINIRT_OK) opened++;
    }
    printf("%s: %d mutations, %d open\n", name, MUTATIONS, opened);
    free(m);
    free(buf);
}

static void test_mutations_conv_stack(void **state) {
    (void)state;
    mutate("conv_stack", 0x5eed0001u);
}

static void test_mutations_small_cnn(void **state) {
    (void)state;
    mutate("small_cnn", 0x5eed0002u);
}

/* Fail each allocation of open + run of small_cnn in turn. */
static void test_allocation_failures_small_cnn(void **state) {
    (void)state;
    size_t len;
    uint8_t *buf = read_model("small_cnn", &len);
    float *x = calloc(3 * 32 * 32, sizeof(float));
    assert_non_null(x);
    static const int64_t dims[4] = {1, 3, 32, 32};
    int64_t k;
    for (k = 1;; k++) {
        counter c = {0, 0, 0, k};
        minirt_options o;
        options(&o, &c);
        minirt_session *s = NULL;
        minirt_status st = minirt_open_memory(buf, len, &o, &s);
        if (st == MINIRT_OK) {
            minirt_tensor in = {NULL, MINIRT_FLOAT32, 4, dims, x};
            st = minirt_run(s, &in, 1);
        }
        if (st != MINIRT_OK && st != MINIRT_ERR_NOMEM)
            fail_msg("allocation %lld failed: status %d '%s'", (long long)k, st, minirt_errmsg(s));
        if (st == MINIRT_ERR_NOMEM && strlen(minirt_errmsg(s)) == 0)
            fail_msg("allocation %lld failed: empty message", (long long)k);
        minirt_close(s);
        if (c.live != 0 || c.blocks != 0)
            fail_msg("allocation %lld failed: %lld bytes in %lld blocks leaked", (long long)k,
                     (long long)c.live, (long long)c.blocks);
        if (c.allocs < k) {
            /* no k-th allocation happened: everything succeeded */
            assert_int_equal(st, MINIRT_OK);
            break;
        }
        assert_int_equal(st, MINIRT_ERR_NOMEM);
    }
    printf("small_cnn: open + run fails cleanly at each of its %lld allocations\n",
           (long long)k - 1);
    free(x);
    free(buf);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prefixes_conv_stack),
        cmocka_unit_test(test_prefixes_small_cnn),
        cmocka_unit_test(test_mutations_conv_stack),
        cmocka_unit_test(test_mutations_small_cnn),
        cmocka_unit_test(test_allocation_failures_small_cnn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
