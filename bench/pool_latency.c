/* What a job on the model's pool costs beyond its tasks: the median time
 * of a job of small tasks, at 2 threads, over rounds of 20,000 jobs (a
 * training step posts about 20). Run on two commits to compare pool.c. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "pool.h"

#define JOBS 20000
#define ROUNDS 15
#define TASKS 8

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void touch(void *arg, size_t t)
{
    ((volatile float *)arg)[t * 16] += 1; /* a line per task */
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(void)
{
    dgn_pool *p;
    if (dgn_pool_create(&p, 2) != DGN_OK)
        return 1;
    static float lines[TASKS * 16];
    double us[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        double t0 = now();
        for (int j = 0; j < JOBS; j++)
            dgn_pool_run(p, touch, lines, TASKS);
        us[r] = (now() - t0) / JOBS * 1e6;
    }
    dgn_pool_destroy(p);
    qsort(us, ROUNDS, sizeof *us, cmp);
    printf("{\"threads\": 2, \"tasks\": %d, \"jobs\": %d, \"rounds\": %d, "
           "\"median_us_per_job\": %.3f, \"min\": %.3f, \"max\": %.3f}\n",
           TASKS, JOBS, ROUNDS, us[ROUNDS / 2], us[0], us[ROUNDS - 1]);
    return 0;
}
