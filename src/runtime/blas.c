/*
 * blas.c - the one place minirt calls BLAS, so the GEMM can be swapped or wrapped without touching
 * ops.
 */
#include <cblas.h>

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
