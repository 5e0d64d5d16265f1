/*
 * test_threadpool.c - the session thread pool (src/runtime/pool.c): every item of a parallel loop
 * runs exactly once, in chunks of at most the grain, on thread indices below the pool's count, for
 * many loop sizes and grains back to back (the workers go from polling to sleeping and back);
 * a one-thread pool is NULL and runs loops on the caller. Also run under ThreadSanitizer by
 * tests/tsan_check.sh.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>
#include <time.h>

#include "mrt.h"

#define ITEMS 5000

typedef struct loop {
    atomic_int hits[ITEMS];
    atomic_int bad_chunk, bad_thread;
    int64_t grain;
    int threads;
} loop;

static void body(void *arg, int64_t b, int64_t e, int thread) {
    loop *l = arg;
    if (e - b < 1 || e - b > l->grain) atomic_fetch_add(&l->bad_chunk, 1);
    if (thread < 0 || thread >= l->threads) atomic_fetch_add(&l->bad_thread, 1);
    for (int64_t i = b; i < e; i++)
        atomic_fetch_add(&l->hits[i], 1);
}

static void check_loops(mr_pool *pool, int threads) {
    static loop l;
    const int64_t sizes[] = {0, 1, 2, 3, 7, 64, 1000, ITEMS};
    const int64_t grains[] = {1, 2, 5, 64, 10000};
    for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
        for (size_t gi = 0; gi < sizeof(grains) / sizeof(grains[0]); gi++) {
            for (int rep = 0; rep < 3; rep++) {
                for (int i = 0; i < ITEMS; i++)
                    atomic_store(&l.hits[i], 0);
                atomic_store(&l.bad_chunk, 0);
                atomic_store(&l.bad_thread, 0);
                l.grain = grains[gi];
                l.threads = threads;
                mr_parallel_for(pool, sizes[si], grains[gi], body, &l);
                for (int64_t i = 0; i < ITEMS; i++) {
                    int want = i < sizes[si] ? 1 : 0;
                    if (atomic_load(&l.hits[i]) != want)
                        fail_msg("threads %d, n %lld, grain %lld: item %lld ran %d times", threads,
                                 (long long)sizes[si], (long long)grains[gi], (long long)i,
                                 atomic_load(&l.hits[i]));
                }
                assert_int_equal(atomic_load(&l.bad_chunk), 0);
                assert_int_equal(atomic_load(&l.bad_thread), 0);
            }
        }
    }
}

static void test_pool_loops(void **state) {
    (void)state;
    for (int threads = 1; threads <= 4; threads++) {
        mr_ctx ctx;
        mr_ctx_init(&ctx, NULL);
        mr_pool *pool = NULL;
        assert_int_equal(mr_pool_create(&ctx, threads, &pool), MINIRT_OK);
        assert_true((pool == NULL) == (threads == 1));
        assert_int_equal(mr_pool_threads(pool), threads);
        check_loops(pool, threads);
        /* after the workers have gone to sleep (they poll for 2 ms) */
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
        check_loops(pool, threads);
        mr_pool_destroy(&ctx, pool);
    }
}

/* Every allocation of pool creation may fail: NOMEM, nothing left allocated. */
static void test_pool_nomem(void **state) {
    (void)state;
    for (int fail_at = 0; fail_at < 3; fail_at++) {
        mrt_fail_alloc fa = {.fail_at = fail_at};
        minirt_options o;
        minirt_options_init(&o);
        o.alloc = mrt_failing_alloc;
        o.alloc_user = &fa;
        mr_ctx ctx;
        mr_ctx_init(&ctx, &o);
        mr_pool *pool = NULL;
        assert_int_equal(mr_pool_create(&ctx, 2, &pool), MINIRT_ERR_NOMEM);
        assert_null(pool);
        assert_int_equal(fa.live, 0);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_loops),
        cmocka_unit_test(test_pool_nomem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
