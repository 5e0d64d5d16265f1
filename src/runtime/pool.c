/*
 * pool.c - the session's thread pool: parallel loops over independent items, for the kernels.
 *
 * A pool of T threads is the calling thread plus T - 1 workers started at open. mr_parallel_for
 * publishes one loop (function, argument, item count, grain) and bumps a generation counter; every
 * thread, the caller included, then takes chunks of at most `grain` items from a shared atomic
 * counter until none are left, and the caller waits until every worker that joined the loop has
 * finished its last chunk. A worker that arrives after the caller has run out of chunks does not
 * join, so a worker the system has not scheduled in time delays nothing. Chunks are handed out
 * dynamically, so a thread slowed by the host's other load simply takes fewer of them; since each
 * item is computed the same way whichever thread runs it, the results never depend on the thread
 * count or on the schedule.
 *
 * Workers spin for a short while (MR_POOL_SPIN_NS) after a loop before sleeping on a condition
 * variable: the loops of one run come back to back (several per Conv layer), and waking a sleeping
 * thread costs tens of microseconds, as much as a small layer's whole loop. Between runs they
 * sleep and cost nothing.
 *
 * One loop runs at a time per pool (a session is used by one thread at a time); a kernel called
 * from inside a loop must not start another one (none does).
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

/*
 * The polling loops re-read an atomic and nothing else: no PAUSE instruction. Under a hypervisor
 * (KVM's pause-loop exiting, AMD's pause filter), a vCPU running PAUSE in a loop is taken for one
 * spinning on a lock held by a preempted vCPU and may be made to yield. With PAUSE, 2-thread runs
 * on this project's KVM host were at times 1.5x slower for minutes (Winograd layers no faster than
 * on one thread, as if the worker missed every loop) while other processes ran at full speed; that
 * PAUSE was the cause is likely but was not proven, since those periods could not be provoked.
 */
#define MR_POOL_PAUSE() __asm__ __volatile__("" ::: "memory")

#include "mr.h"

/* How long an idle worker polls for the next loop before it sleeps. */
#define MR_POOL_SPIN_NS 2000000LL

struct mr_pool {
    int threads; /* the caller and the workers */
    int started; /* workers running */
    pthread_t *tid;
    struct mr_pool_worker *workers; /* each worker's (pool, index) */
    pthread_mutex_t mu;
    pthread_cond_t wake;
    bool stop; /* under mu */
    /* the current loop; written by the caller before `gen` is bumped */
    mr_task_fn fn;
    void *arg;
    int64_t n, grain;
    atomic_uint_fast64_t gen; /* loops published so far */
    atomic_int_fast64_t next; /* first item not yet taken */
    /* who takes part in the current loop: the loop's number (low 32 bits of gen) in bits 32..63,
     * MR_POOL_CLOSED once the caller has finished its share, and the workers inside the loop in
     * the low bits. A worker joins (CAS) only an open loop of the number it was woken for. */
    atomic_uint_fast64_t state;
};

#define MR_POOL_CLOSED ((uint_fast64_t)1 << 31)
#define MR_POOL_ACTIVE (MR_POOL_CLOSED - 1)

typedef struct mr_pool_worker {
    mr_pool *pool;
    int index;
} mr_pool_worker;

static int64_t mr_pool_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Take chunks of the current loop until there are none left. */
static void mr_pool_drain(mr_pool *pool, int thread) {
    const int64_t n = pool->n, grain = pool->grain;
    for (;;) {
        int64_t b = atomic_fetch_add_explicit(&pool->next, grain, memory_order_relaxed);
        if (b >= n) return;
        pool->fn(pool->arg, b, b + grain < n ? b + grain : n, thread);
    }
}

static void *mr_pool_main(void *p) {
    mr_pool_worker *w = p;
    mr_pool *pool = w->pool;
    const int thread = w->index;
    uint_fast64_t seen = 0;
    for (;;) {
        /* wait for a new loop: poll, then sleep */
        uint_fast64_t g = atomic_load_explicit(&pool->gen, memory_order_acquire);
        if (g == seen) {
            int64_t until = mr_pool_now_ns() + MR_POOL_SPIN_NS;
            for (int i = 1; g == seen; i++) {
                MR_POOL_PAUSE();
                g = atomic_load_explicit(&pool->gen, memory_order_acquire);
                if (i % 1024 == 0 && mr_pool_now_ns() > until) break;
            }
        }
        if (g == seen) {
            pthread_mutex_lock(&pool->mu);
            while (!pool->stop && (g = atomic_load(&pool->gen)) == seen)
                pthread_cond_wait(&pool->wake, &pool->mu);
            bool stop = pool->stop;
            pthread_mutex_unlock(&pool->mu);
            if (stop) return NULL;
        }
        seen = g;
        /* Join the loop unless the caller has already closed it (it took every chunk itself while
         * this thread was late: then there is nothing to do, and it must not wait for us). */
        uint_fast64_t st = atomic_load_explicit(&pool->state, memory_order_acquire);
        bool joined = false;
        while (!joined && st >> 32 == (g & 0xffffffffu) && !(st & MR_POOL_CLOSED))
            joined = atomic_compare_exchange_weak_explicit(
                &pool->state, &st, st + 1, memory_order_acquire, memory_order_acquire);
        if (!joined) continue;
        mr_pool_drain(pool, thread);
        atomic_fetch_sub_explicit(&pool->state, 1, memory_order_release);
    }
}

mr_status mr_pool_create(mr_ctx *ctx, int threads, mr_pool **out) {
    *out = NULL;
    if (threads <= 1) return MINIRT_OK;
    mr_pool *pool = mr_calloc(ctx, 1, sizeof(*pool));
    if (!pool) return mr_nomem(ctx);
    mr_pool_worker *ws = mr_calloc(ctx, (size_t)threads, sizeof(*ws));
    pool->tid = mr_calloc(ctx, (size_t)threads, sizeof(*pool->tid));
    const bool mu = ws && pool->tid && pthread_mutex_init(&pool->mu, NULL) == 0;
    if (!mu || pthread_cond_init(&pool->wake, NULL) != 0) {
        if (mu) pthread_mutex_destroy(&pool->mu);
        mr_free(ctx, ws);
        mr_free(ctx, pool->tid);
        mr_free(ctx, pool);
        return mr_nomem(ctx);
    }
    pool->workers = ws;
    atomic_init(&pool->gen, 0);
    atomic_init(&pool->next, 0);
    atomic_init(&pool->state, 0);
    /* Worker i (1 .. threads-1) runs as thread index i; the caller is 0. A worker that cannot be
     * started (the system's thread limit) leaves the pool smaller: the loops still run, on fewer
     * threads, with the same results. */
    for (int i = 1; i < threads; i++) {
        ws[i].pool = pool;
        ws[i].index = i;
        if (pthread_create(&pool->tid[i], NULL, mr_pool_main, &ws[i]) != 0) break;
        pool->started++;
    }
    pool->threads = 1 + pool->started;
    *out = pool;
    return MINIRT_OK;
}

void mr_pool_destroy(mr_ctx *ctx, mr_pool *pool) {
    if (!pool) return;
    pthread_mutex_lock(&pool->mu);
    pool->stop = true;
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->mu);
    for (int i = 1; i <= pool->started; i++)
        pthread_join(pool->tid[i], NULL);
    pthread_cond_destroy(&pool->wake);
    pthread_mutex_destroy(&pool->mu);
    mr_free(ctx, pool->tid);
    mr_free(ctx, pool->workers);
    mr_free(ctx, pool);
}

int mr_pool_threads(const mr_pool *pool) {
    return pool ? pool->threads : 1;
}

int64_t mr_pool_grain(const mr_pool *pool, int64_t n, int64_t min) {
    const int64_t chunks = 4 * (int64_t)mr_pool_threads(pool);
    int64_t g = (n + chunks - 1) / chunks;
    return g < min ? min : g;
}

void mr_parallel_for(mr_pool *pool, int64_t n, int64_t grain, mr_task_fn fn, void *arg) {
    if (n <= 0) return;
    if (grain < 1) grain = 1;
    if (!pool || pool->threads == 1 || n <= grain) {
        for (int64_t b = 0; b < n; b += grain)
            fn(arg, b, b + grain < n ? b + grain : n, 0);
        return;
    }
    pool->fn = fn;
    pool->arg = arg;
    pool->n = n;
    pool->grain = grain;
    atomic_store_explicit(&pool->next, 0, memory_order_relaxed);
    uint_fast64_t g = atomic_load_explicit(&pool->gen, memory_order_relaxed) + 1;
    atomic_store_explicit(&pool->state, (g & 0xffffffffu) << 32, memory_order_release);
    /* publish under the mutex so that a worker about to sleep cannot miss the wake-up */
    pthread_mutex_lock(&pool->mu);
    atomic_store_explicit(&pool->gen, g, memory_order_release);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->mu);
    mr_pool_drain(pool, 0);
    /* close the loop to latecomers, then wait for the workers still inside it */
    uint_fast64_t st = atomic_fetch_or_explicit(&pool->state, MR_POOL_CLOSED, memory_order_acq_rel);
    while (st & MR_POOL_ACTIVE) {
        MR_POOL_PAUSE();
        st = atomic_load_explicit(&pool->state, memory_order_acquire);
    }
}
