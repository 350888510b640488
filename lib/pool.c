#include "pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "error.h"

struct dgn_pool {
    size_t threads; /* the caller and threads - 1 workers */
    pthread_t *workers;
    size_t started;
    pthread_mutex_t lock;
    pthread_cond_t go, done;
    /* The current job, written before generation moves on, so that a
     * thread that sees the new generation sees the job. Nothing here takes
     * the lock unless a thread sleeps: each lock and unlock moves a line
     * between the cores, and a spinning worker that saw the job while the
     * caller still held the lock slept in the kernel until it let go,
     * costing more than a small job. A worker that reads a newer job than
     * the generation it saw runs none of it: every claim checks the
     * generation against the share's (dgn_pool_run writes the shares
     * first). All of it sequentially consistent. */
    atomic_ulong generation;
    _Atomic(dgn_task_fn) fn;
    _Atomic(void *) arg;
    atomic_size_t n_tasks;
    atomic_size_t sleepers;  /* workers waiting on go, counted under the lock */
    atomic_int caller_sleeps; /* the caller waits on done, set under the lock */
    /* Thread w's share is the w-th of `threads` runs of consecutive tasks,
     * claimed one at a time from next[w]: the job's generation in the high
     * half, the share's next index in the low. Consecutive, not every
     * threads-th task: neighbouring tasks write neighbouring memory (rows
     * of a block, lanes of a chunk), and each boundary between two
     * threads' tasks is a line both cores write. A thread runs its own
     * share first, so that the same thread meets the same data job after
     * job, then claims what is left of the others': a worker the system
     * has descheduled holds up nothing but a task it has already claimed. */
    struct share { atomic_ullong next; char pad[56]; } *share;
    atomic_size_t finished; /* tasks of the current job done */
    /* A task posted to worker 1 (dgn_pool_post), run beside the caller's
     * jobs: POST_IDLE, then POSTED, RUNNING and DONE. */
    atomic_int post_state;
    _Atomic(dgn_posted_fn) post_fn;
    _Atomic(void *) post_arg;
    int stop;
};

enum { POST_IDLE, POSTED, POST_RUNNING, POST_DONE };

/* Polling before a thread sleeps, long enough to span the serial parts
 * of a step between two jobs (the triplet sampling, when the caller draws
 * it): about 1 ms where PAUSE takes ~10 cycles, 2.3 ms measured on a
 * recent Xeon (family 6, model 167), whose PAUSE takes over a hundred. */
#define SPIN 200000
#if defined(__x86_64__) || defined(__i386__)
#define PAUSE() __builtin_ia32_pause()
#else
#define PAUSE() ((void)0)
#endif

/* One poll of a spin: every 256th gives the core away, so that a thread of
 * another process on an oversubscribed machine runs instead of our spin. */
static inline void poll_once(int spin)
{
    if ((spin & 255) == 255)
        sched_yield();
    else
        PAUSE();
}

typedef struct worker_arg {
    dgn_pool *p;
    size_t index;
} worker_arg;

/* Wake the workers that sleep, after a store that their wait checks. */
static void wake_workers(dgn_pool *p)
{
    if (atomic_load(&p->sleepers)) {
        pthread_mutex_lock(&p->lock);
        pthread_cond_broadcast(&p->go);
        pthread_mutex_unlock(&p->lock);
    }
}

/* Wake the caller if it sleeps, after a store that its wait checks. */
static void wake_caller(dgn_pool *p)
{
    if (atomic_load(&p->caller_sleeps)) {
        pthread_mutex_lock(&p->lock);
        pthread_cond_signal(&p->done);
        pthread_mutex_unlock(&p->lock);
    }
}

/* The caller: poll, then sleep on `done`, until ready(p, n). Both sides'
 * stores and loads are sequentially consistent, so a worker that stores
 * what ready() reads either sees caller_sleeps set or is seen. */
static void caller_wait(dgn_pool *p, int (*ready)(dgn_pool *, size_t), size_t n)
{
    for (int spin = 0; spin < SPIN && !ready(p, n); spin++)
        poll_once(spin);
    if (!ready(p, n)) {
        pthread_mutex_lock(&p->lock);
        atomic_store(&p->caller_sleeps, 1);
        while (!ready(p, n))
            pthread_cond_wait(&p->done, &p->lock);
        atomic_store(&p->caller_sleeps, 0);
        pthread_mutex_unlock(&p->lock);
    }
}

/* The next task of w's share of job `gen`, or n_tasks when there is none
 * left (or a newer job has replaced it). */
static size_t claim(dgn_pool *p, size_t w, unsigned long gen, size_t n)
{
    atomic_ullong *next = &p->share[w].next;
    unsigned long long v = atomic_load(next);
    size_t t0 = w * n / p->threads, t1 = (w + 1) * n / p->threads;
    for (;;) {
        size_t t = t0 + (size_t)(v & 0xffffffffu);
        if ((v >> 32) != (gen & 0xffffffffu) || t >= t1)
            return n;
        if (atomic_compare_exchange_weak(next, &v, v + 1))
            return t;
    }
}

/* Run tasks of job `gen`, thread self's share first, then the others';
 * the thread that finishes the last task wakes the caller. */
static void run_claims(dgn_pool *p, size_t self, unsigned long gen, dgn_task_fn fn, void *arg,
                       size_t n)
{
    for (size_t o = 0; o < p->threads; o++) {
        size_t w = (self + o) % p->threads, t;
        while ((t = claim(p, w, gen, n)) < n) {
            fn(arg, t);
            if (atomic_fetch_add(&p->finished, 1) + 1 == n)
                wake_caller(p);
        }
    }
}

/* Nothing new for worker `index`: no newer job than `seen`, no post. */
static int idle(dgn_pool *p, size_t index, unsigned long seen)
{
    return atomic_load(&p->generation) == seen &&
           (index != 1 || atomic_load(&p->post_state) != POSTED);
}

static void *worker(void *a)
{
    dgn_pool *p = ((worker_arg *)a)->p;
    size_t index = ((worker_arg *)a)->index;
    free(a);
    unsigned long seen = 0;
    for (;;) {
        for (int spin = 0; spin < SPIN && idle(p, index, seen); spin++)
            poll_once(spin);
        if (idle(p, index, seen)) {
            pthread_mutex_lock(&p->lock);
            atomic_fetch_add(&p->sleepers, 1);
            while (!p->stop && idle(p, index, seen))
                pthread_cond_wait(&p->go, &p->lock);
            atomic_fetch_sub(&p->sleepers, 1);
            int stop = p->stop;
            pthread_mutex_unlock(&p->lock);
            if (stop)
                break;
        }
        int posted = POSTED;
        if (index == 1 && atomic_compare_exchange_strong(&p->post_state, &posted, POST_RUNNING)) {
            atomic_load(&p->post_fn)(atomic_load(&p->post_arg));
            atomic_store(&p->post_state, POST_DONE);
            wake_caller(p);
            continue; /* then the job that the caller may have started meanwhile */
        }
        seen = atomic_load(&p->generation);
        run_claims(p, index, seen, atomic_load(&p->fn), atomic_load(&p->arg),
                   atomic_load(&p->n_tasks));
    }
    return NULL;
}

void dgn_pool_destroy(dgn_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->lock);
    for (size_t i = 0; i < p->started; i++)
        pthread_join(p->workers[i], NULL);
    pthread_cond_destroy(&p->go);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->lock);
    free(p->workers);
    free(p->share);
    free(p);
}

dgn_status dgn_pool_create(dgn_pool **out, size_t threads)
{
    *out = NULL;
    if (threads < 1)
        return dgn_fail(DGN_E_INVALID, "dgn_pool_create: 0 threads");
    dgn_pool *p = calloc(1, sizeof *p);
    if (!p)
        return dgn_fail_nomem("thread pool");
    p->threads = threads;
    if (pthread_mutex_init(&p->lock, NULL) != 0) {
        free(p);
        return dgn_fail_nomem("thread pool lock");
    }
    pthread_cond_init(&p->go, NULL);
    pthread_cond_init(&p->done, NULL);
    p->workers = threads > 1 ? malloc((threads - 1) * sizeof *p->workers) : NULL;
    p->share = calloc(threads, sizeof *p->share);
    if ((threads > 1 && !p->workers) || !p->share) {
        dgn_pool_destroy(p);
        return dgn_fail_nomem("thread pool");
    }
    for (size_t i = 0; i + 1 < threads; i++) {
        worker_arg *a = malloc(sizeof *a);
        if (!a || (a->p = p, a->index = i + 1, pthread_create(&p->workers[i], NULL, worker, a))) {
            free(a);
            dgn_pool_destroy(p);
            return dgn_fail(DGN_E_NOMEM, "dgn_pool_create: cannot start thread %zu of %zu",
                            i + 2, threads);
        }
        p->started++;
    }
    *out = p;
    return DGN_OK;
}

size_t dgn_pool_threads(const dgn_pool *p)
{
    return p ? p->threads : 1;
}

static int job_done(dgn_pool *p, size_t n_tasks)
{
    return atomic_load(&p->finished) >= n_tasks;
}

static int post_done(dgn_pool *p, size_t unused)
{
    (void)unused;
    return atomic_load(&p->post_state) == POST_DONE;
}

void dgn_pool_run(dgn_pool *p, dgn_task_fn fn, void *arg, size_t n_tasks)
{
    /* A ticket counts tasks in 32 bits. */
    if (!p || p->threads == 1 || n_tasks < 2 || n_tasks > 0xffffffffu) {
        for (size_t t = 0; t < n_tasks; t++)
            fn(arg, t);
        return;
    }
    /* The shares before the job: a worker still on the last job that
     * reads a field of this one then also sees these shares, so its claims
     * (with the old generation) fail instead of taking this job's tasks. */
    atomic_store(&p->finished, 0);
    unsigned long gen = atomic_load(&p->generation) + 1;
    for (size_t w = 0; w < p->threads; w++)
        atomic_store(&p->share[w].next, (unsigned long long)(gen & 0xffffffffu) << 32);
    atomic_store(&p->fn, fn);
    atomic_store(&p->arg, arg);
    atomic_store(&p->n_tasks, n_tasks);
    /* Both sides' stores and loads are sequentially consistent, so a worker
     * that counted itself asleep before this load sees the generation, or
     * this load sees it counted and wakes it. */
    atomic_store(&p->generation, gen);
    wake_workers(p);
    run_claims(p, 0, gen, fn, arg, n_tasks);
    caller_wait(p, job_done, n_tasks);
}

int dgn_pool_post(dgn_pool *p, dgn_posted_fn fn, void *arg)
{
    if (!p || p->threads == 1)
        return 0;
    atomic_store(&p->post_fn, fn);
    atomic_store(&p->post_arg, arg);
    /* As a job's generation: a worker that counted itself asleep before
     * this store sees it, or this side sees it counted and wakes it. */
    atomic_store(&p->post_state, POSTED);
    wake_workers(p);
    return 1;
}

void dgn_pool_wait_posted(dgn_pool *p)
{
    caller_wait(p, post_done, 0);
    atomic_store(&p->post_state, POST_IDLE);
}
