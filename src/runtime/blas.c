/*
 * blas.c - the one place minirt calls BLAS, so the GEMM can be swapped or wrapped without touching
 * ops.
 */
#define _GNU_SOURCE /* RTLD_DEFAULT */
#include <cblas.h>
#include <dlfcn.h>

#include "mr.h"

void mr_sgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
              int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc) {
    if (M == 0 || N == 0) return;
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                (blasint)M, (blasint)N, (blasint)K, alpha, A, (blasint)lda, B, (blasint)ldb, beta,
                C, (blasint)ldc);
}

void mr_blas_set_threads(int threads) {
    if (threads > 0 && openblas_get_num_threads() != threads) openblas_set_num_threads(threads);
}

/*
 * OpenBLAS's pthread build starts its worker threads when it loads, and they poll for work for
 * about 0.1 s before they sleep; minirt's own threads then compete with them for the CPUs (a
 * 2-thread run was 3-10x slower in that window). A program whose only BLAS user is minirt (the
 * CLI) can stop them: blas_thread_shutdown_ is OpenBLAS's own (exported, used around fork), looked
 * up at run time so that other BLAS builds, which lack it, still load. OpenBLAS restarts its
 * threads by itself if anything later asks for more than one.
 */
void mr_blas_stop_own_threads(void) {
    openblas_set_num_threads(1);
    int (*shutdown)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "blas_thread_shutdown_");
    if (shutdown) shutdown();
}
