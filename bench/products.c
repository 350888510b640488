/* The six matrix products of a training step, timed with and without
 * lib/gemm.c's prefetch of Aᵀ (DGN_GEMM_A_AHEAD): the same file is built
 * a second time with the prefetch off and its functions renamed *_plain
 * (bench/meson.build), and the two alternate product by product in one
 * process, so that the machine's drift falls on both alike.
 *
 *   products [--threads T] [--rounds R]    (1 thread, 400 rounds)
 *
 * Before every product its operands are written again by the pool's
 * threads, a task per 16 columns, as the n × n stages write the planes
 * the products then read: the product meets its operands where a
 * training step leaves them (in this core's cache, or half of them in
 * the other core's), not warm from the previous round.
 * Prints each product's median milliseconds, GFLOP/s and the ratio of
 * the medians (prefetch / plain), then the six together; exits 1 if the
 * two builds ever differ in a bit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gemm.h"
#include "pool.h"

void dgn_gemm_on_plain(dgn_pool *pool, dgn_trans ta, dgn_trans tb, size_t M, size_t N,
                       size_t K, float alpha, const float *A, size_t lda, const float *B,
                       size_t ldb, float beta, float *C, size_t ldc);

typedef void (*gemm_on_fn)(dgn_pool *, dgn_trans, dgn_trans, size_t, size_t, size_t, float,
                           const float *, size_t, const float *, size_t, float, float *,
                           size_t);

/* At the defaults: batch 128 (384 rows), 19 components (361 pairs),
 * hidden 256, 64 features (lib/folded.c, lib/layers.c). */
typedef struct shape {
    const char *what;
    dgn_trans ta, tb;
    size_t M, N, K;
} shape;

static const shape SHAPES[] = {
    {"Y1 = T·Wf (folded projection)", DGN_TRANS, DGN_NOTRANS, 384, 256, 361},
    {"Y2 = A·W2", DGN_NOTRANS, DGN_NOTRANS, 384, 64, 256},
    {"dW2 = Aᵀ·dY2", DGN_TRANS, DGN_NOTRANS, 256, 64, 384},
    {"dA = dY2·W2ᵀ", DGN_NOTRANS, DGN_TRANS, 384, 256, 64},
    {"dWf = Tᵀ·dY1 (stored T)", DGN_NOTRANS, DGN_NOTRANS, 361, 256, 384},
    {"dTᵀ = Wf·dY1ᵀ", DGN_NOTRANS, DGN_TRANS, 361, 384, 256},
};
#define N_SHAPES (sizeof SHAPES / sizeof SHAPES[0])

typedef struct rewrite {
    float *dst;
    const float *src;
    size_t rows, cols;
} rewrite;

static void rewrite_task(void *arg, size_t t)
{
    const rewrite *w = arg;
    size_t c0 = 16 * t, n = w->cols - c0 < 16 ? w->cols - c0 : 16;
    for (size_t r = 0; r < w->rows; r++)
        memcpy(w->dst + r * w->cols + c0, w->src + r * w->cols + c0, n * sizeof *w->dst);
}

static void rewrite_on(dgn_pool *pool, float *dst, const float *src, size_t rows, size_t cols)
{
    rewrite w = {dst, src, rows, cols};
    dgn_pool_run(pool, rewrite_task, &w, (cols + 15) / 16);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, by_value);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int main(int argc, char **argv)
{
    size_t threads = 1, rounds = 400;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = (size_t)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = (size_t)strtoul(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "usage: products [--threads T] [--rounds R]\n");
            return 2;
        }
    }
    if (threads < 1 || rounds < 1) {
        fprintf(stderr, "products: --threads and --rounds must be at least 1\n");
        return 2;
    }
    dgn_pool *pool;
    if (dgn_pool_create(&pool, threads) != DGN_OK) {
        fprintf(stderr, "products: cannot start %zu threads\n", threads);
        return 1;
    }
    const gemm_on_fn fn[2] = {dgn_gemm_on_plain, dgn_gemm_on};
    double *ms[N_SHAPES][2];
    float *a[N_SHAPES], *a0[N_SHAPES], *b[N_SHAPES], *b0[N_SHAPES], *c[N_SHAPES][2];
    srand(2024);
    for (size_t s = 0; s < N_SHAPES; s++) {
        const shape *p = &SHAPES[s];
        size_t na = p->M * p->K, nb = p->K * p->N, nc = p->M * p->N;
        a[s] = malloc(na * sizeof(float));
        a0[s] = malloc(na * sizeof(float));
        b[s] = malloc(nb * sizeof(float));
        b0[s] = malloc(nb * sizeof(float));
        c[s][0] = malloc(nc * sizeof(float));
        c[s][1] = malloc(nc * sizeof(float));
        ms[s][0] = malloc(rounds * sizeof(double));
        ms[s][1] = malloc(rounds * sizeof(double));
        if (!a[s] || !a0[s] || !b[s] || !b0[s] || !c[s][0] || !c[s][1] || !ms[s][0] ||
            !ms[s][1]) {
            fprintf(stderr, "products: out of memory\n");
            return 1;
        }
        for (size_t i = 0; i < na; i++)
            a0[s][i] = (float)rand() / (float)RAND_MAX - 0.5f;
        for (size_t i = 0; i < nb; i++)
            b0[s][i] = (float)rand() / (float)RAND_MAX - 0.5f;
    }
    for (size_t r = 0; r < rounds; r++)
        for (size_t s = 0; s < N_SHAPES; s++) {
            const shape *p = &SHAPES[s];
            /* Stored shapes: op(A) is M × K, A is K × M when transposed. */
            size_t ar = p->ta ? p->K : p->M, ac = p->ta ? p->M : p->K;
            size_t br = p->tb ? p->N : p->K, bc = p->tb ? p->K : p->N;
            for (size_t k = 0; k < 2; k++) {
                size_t v = (r + k) % 2; /* plain first in even rounds */
                rewrite_on(pool, a[s], a0[s], ar, ac);
                rewrite_on(pool, b[s], b0[s], br, bc);
                double t0 = now();
                fn[v](pool, p->ta, p->tb, p->M, p->N, p->K, 1.0f, a[s], ac, b[s], bc, 0.0f,
                      c[s][v], p->N);
                ms[s][v][r] = 1e3 * (now() - t0);
            }
            if (memcmp(c[s][0], c[s][1], p->M * p->N * sizeof(float))) {
                fprintf(stderr, "products: %s: the two builds differ\n", p->what);
                return 1;
            }
        }
    printf("The training step's products, %zu thread%s, %zu rounds: median ms "
           "(GFLOP/s), plain and with the prefetch of Aᵀ\n",
           threads, threads == 1 ? "" : "s", rounds);
    printf("| product | M × N × K | plain | prefetch | prefetch / plain |\n");
    printf("|---|---|---|---|---|\n");
    double sum[2] = {0, 0};
    for (size_t s = 0; s < N_SHAPES; s++) {
        const shape *p = &SHAPES[s];
        double flops = 2.0 * (double)p->M * (double)p->N * (double)p->K, m[2];
        for (size_t v = 0; v < 2; v++) {
            m[v] = median(ms[s][v], rounds);
            sum[v] += m[v];
        }
        printf("| %s | %zu × %zu × %zu | %.3f (%.0f) | %.3f (%.0f) | %.3f |\n", p->what,
               p->M, p->N, p->K, m[0], flops / m[0] * 1e-6, m[1], flops / m[1] * 1e-6,
               m[1] / m[0]);
    }
    printf("| all six | | %.3f | %.3f | %.3f |\n", sum[0], sum[1], sum[1] / sum[0]);
    for (size_t s = 0; s < N_SHAPES; s++) {
        free(a[s]);
        free(a0[s]);
        free(b[s]);
        free(b0[s]);
        free(c[s][0]);
        free(c[s][1]);
        free(ms[s][0]);
        free(ms[s][1]);
    }
    dgn_pool_destroy(pool);
    return 0;
}
