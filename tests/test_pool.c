/* The model's worker threads: every task run once per call on the pool's
 * threads, a stalled worker holding up only its own task (and the caller
 * running the first run of tasks, in order), the same results at 1, 2 and
 * 3 threads, calls reused many times, whether the workers spin or sleep
 * between them, and a task posted beside the jobs. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "pool.h"
#include "testutil.h"

enum { TASKS = 100 };

typedef struct who_ctx {
    pthread_t by[TASKS];
    atomic_int runs[TASKS];
} who_ctx;

static void record(void *arg, size_t t)
{
    who_ctx *c = arg;
    c->by[t] = pthread_self();
    atomic_fetch_add(&c->runs[t], 1);
}

static void who_reset(who_ctx *c)
{
    for (size_t t = 0; t < TASKS; t++)
        atomic_store(&c->runs[t], 0);
}

/* Every task runs once, on the caller or one of the pool's workers: no
 * more distinct threads than the pool has. */
START_TEST(every_task_once_on_the_pool)
{
    static const size_t counts[] = {2, 3, 7, TASKS};
    for (size_t threads = 1; threads <= 3; threads++) {
        dgn_pool *p = NULL;
        ck_assert_int_eq(dgn_pool_create(&p, threads), DGN_OK);
        ck_assert_ptr_nonnull(p);
        ck_assert_uint_eq(dgn_pool_threads(p), threads);
        for (size_t k = 0; k < sizeof counts / sizeof *counts; k++) {
            size_t n = counts[k], distinct = 0;
            who_ctx c;
            who_reset(&c);
            dgn_pool_run(p, record, &c, n);
            for (size_t t = 0; t < n; t++) {
                ck_assert_int_eq(atomic_load(&c.runs[t]), 1);
                size_t q = 0;
                while (q < t && !pthread_equal(c.by[t], c.by[q]))
                    q++;
                distinct += q == t;
            }
            ck_assert_uint_le(distinct, threads);
            for (size_t t = n; t < TASKS; t++)
                ck_assert_int_eq(atomic_load(&c.runs[t]), 0);
        }
        dgn_pool_destroy(p);
    }
}
END_TEST

/* A worker that stalls in its task holds up only that task: the caller
 * takes the others meanwhile. */
typedef struct stall_ctx {
    pthread_t caller;
    atomic_int on_caller, runs[TASKS];
    size_t order[TASKS]; /* the tasks the caller ran, in the order it ran them */
} stall_ctx;

static void stall_off_caller(void *arg, size_t t)
{
    stall_ctx *c = arg;
    atomic_fetch_add(&c->runs[t], 1);
    if (pthread_equal(pthread_self(), c->caller)) {
        c->order[atomic_fetch_add(&c->on_caller, 1)] = t;
        return;
    }
    struct timespec pause = {0, 200 * 1000 * 1000};
    nanosleep(&pause, NULL);
}

START_TEST(a_stalled_worker_holds_up_only_its_task)
{
    dgn_pool *p = NULL;
    ck_assert_int_eq(dgn_pool_create(&p, 2), DGN_OK);
    stall_ctx c = {.caller = pthread_self()};
    dgn_pool_run(p, stall_off_caller, &c, 20);
    for (size_t t = 0; t < 20; t++)
        ck_assert_int_eq(atomic_load(&c.runs[t]), 1);
    /* The worker sleeps 0.2 s in each task it takes; the caller's take
     * microseconds. */
    ck_assert_int_ge(atomic_load(&c.on_caller), 10);
    /* So the caller runs its whole share before the worker could steal
     * from it: the first half of the tasks, in order (not every second). */
    for (size_t k = 0; k < 10; k++)
        ck_assert_uint_eq(c.order[k], k);
    dgn_pool_destroy(p);
}
END_TEST

/* A posted task runs once, on a worker, while the caller runs jobs
 * without it: the posted task here waits until the caller's job is done,
 * which it could not be if the job needed that worker. */
typedef struct post_ctx {
    pthread_t by;
    atomic_int runs, job_done, saw_job_done;
} post_ctx;

static void posted(void *arg)
{
    post_ctx *c = arg;
    c->by = pthread_self();
    atomic_fetch_add(&c->runs, 1);
    struct timespec ms = {0, 1000 * 1000};
    for (int i = 0; i < 5000 && !atomic_load(&c->job_done); i++)
        nanosleep(&ms, NULL);
    atomic_store(&c->saw_job_done, atomic_load(&c->job_done));
}

START_TEST(a_posted_task_runs_beside_the_jobs)
{
    for (size_t threads = 2; threads <= 3; threads++) {
        dgn_pool *p = NULL;
        ck_assert_int_eq(dgn_pool_create(&p, threads), DGN_OK);
        for (int round = 0; round < 3; round++) {
            if (round == 2) { /* the workers asleep by now */
                struct timespec pause = {0, 50 * 1000 * 1000};
                nanosleep(&pause, NULL);
            }
            post_ctx c = {0};
            who_ctx w;
            who_reset(&w);
            ck_assert_int_eq(dgn_pool_post(p, posted, &c), 1);
            dgn_pool_run(p, record, &w, TASKS);
            atomic_store(&c.job_done, 1);
            dgn_pool_wait_posted(p);
            for (size_t t = 0; t < TASKS; t++)
                ck_assert_int_eq(atomic_load(&w.runs[t]), 1);
            ck_assert_int_eq(atomic_load(&c.runs), 1);
            ck_assert_int_eq(atomic_load(&c.saw_job_done), 1);
            ck_assert(!pthread_equal(c.by, pthread_self()));
        }
        dgn_pool_destroy(p);
    }
    /* No worker: nothing is posted, and nothing runs. */
    dgn_pool *one = NULL;
    ck_assert_int_eq(dgn_pool_create(&one, 1), DGN_OK);
    post_ctx c = {0};
    ck_assert_int_eq(dgn_pool_post(one, posted, &c), 0);
    ck_assert_int_eq(dgn_pool_post(NULL, posted, &c), 0);
    ck_assert_int_eq(atomic_load(&c.runs), 0);
    dgn_pool_destroy(one);
}
END_TEST

static void count_post(void *arg)
{
    atomic_fetch_add((atomic_int *)arg, 1);
}

/* Posts and jobs in turn, many times: every post runs once. */
START_TEST(posts_reused_many_times)
{
    dgn_pool *p = NULL;
    ck_assert_int_eq(dgn_pool_create(&p, 2), DGN_OK);
    atomic_int posts = 0;
    who_ctx w;
    for (int i = 0; i < 2000; i++) {
        ck_assert_int_eq(dgn_pool_post(p, count_post, &posts), 1);
        if (i % 2) {
            who_reset(&w);
            dgn_pool_run(p, record, &w, 7);
            for (size_t t = 0; t < 7; t++)
                ck_assert_int_eq(atomic_load(&w.runs[t]), 1);
        }
        dgn_pool_wait_posted(p);
        ck_assert_int_eq(atomic_load(&posts), i + 1);
    }
    dgn_pool_destroy(p);
}
END_TEST

/* No pool, one task or none: everything on the caller. */
START_TEST(small_jobs_stay_on_the_caller)
{
    ck_assert_uint_eq(dgn_pool_threads(NULL), 1);
    who_ctx c;
    who_reset(&c);
    dgn_pool_run(NULL, record, &c, 5);
    for (size_t t = 0; t < 5; t++) {
        ck_assert_int_eq(atomic_load(&c.runs[t]), 1);
        ck_assert(pthread_equal(c.by[t], pthread_self()));
    }
    dgn_pool *p = NULL;
    ck_assert_int_eq(dgn_pool_create(&p, 3), DGN_OK);
    who_reset(&c);
    dgn_pool_run(p, record, &c, 0);
    dgn_pool_run(p, record, &c, 1);
    ck_assert_int_eq(atomic_load(&c.runs[0]), 1);
    ck_assert(pthread_equal(c.by[0], pthread_self()));
    ck_assert_int_eq(atomic_load(&c.runs[1]), 0);
    dgn_pool_destroy(p);
    dgn_pool_destroy(NULL);
}
END_TEST

START_TEST(zero_threads_is_refused)
{
    dgn_pool *p = (dgn_pool *)&p;
    ck_assert_int_eq(dgn_pool_create(&p, 0), DGN_E_INVALID);
    ck_assert_ptr_null(p);
    ck_assert_error_has("dgn_pool_create", "0 threads");
}
END_TEST

/* Each task sums a row of a fixed series; rows are disjoint, so the bits
 * cannot depend on the thread count. */
typedef struct sum_ctx {
    float out[TASKS];
} sum_ctx;

static void sum_row(void *arg, size_t t)
{
    sum_ctx *c = arg;
    float s = 0;
    for (size_t i = 1; i <= 2000; i++)
        s += sinf((float)(t * 2000 + i)) / (float)i;
    c->out[t] = s;
}

START_TEST(results_identical_at_1_2_3_threads)
{
    sum_ctx ref;
    memset(&ref, 0, sizeof ref);
    dgn_pool_run(NULL, sum_row, &ref, TASKS);
    for (size_t threads = 1; threads <= 3; threads++) {
        dgn_pool *p = NULL;
        ck_assert_int_eq(dgn_pool_create(&p, threads), DGN_OK);
        for (int rep = 0; rep < 3; rep++) {
            sum_ctx c;
            memset(&c, 0xff, sizeof c);
            dgn_pool_run(p, sum_row, &c, TASKS);
            ck_assert_msg(memcmp(&c, &ref, sizeof c) == 0, "%zu threads differ", threads);
        }
        dgn_pool_destroy(p);
    }
}
END_TEST

/* Back-to-back calls (workers still spinning) and calls after a pause
 * (workers asleep on the condition): each task once per call. */
START_TEST(reused_many_times)
{
    for (size_t threads = 2; threads <= 3; threads++) {
        dgn_pool *p = NULL;
        ck_assert_int_eq(dgn_pool_create(&p, threads), DGN_OK);
        who_ctx c;
        for (int call = 0; call < 300; call++) {
            size_t n = 2 + (size_t)call % (TASKS - 1);
            who_reset(&c);
            dgn_pool_run(p, record, &c, n);
            for (size_t t = 0; t < n; t++)
                ck_assert_msg(atomic_load(&c.runs[t]) == 1, "call %d, task %zu: %d runs", call,
                              t, atomic_load(&c.runs[t]));
            if (call % 60 == 0) {
                struct timespec pause = {0, 20 * 1000 * 1000};
                nanosleep(&pause, NULL);
            }
        }
        dgn_pool_destroy(p);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pool");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, every_task_once_on_the_pool);
    tcase_add_test(tc, a_stalled_worker_holds_up_only_its_task);
    tcase_add_test(tc, a_posted_task_runs_beside_the_jobs);
    tcase_add_test(tc, posts_reused_many_times);
    tcase_add_test(tc, small_jobs_stay_on_the_caller);
    tcase_add_test(tc, zero_threads_is_refused);
    tcase_add_test(tc, results_identical_at_1_2_3_threads);
    tcase_add_test(tc, reused_many_times);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
