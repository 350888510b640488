#include "pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "error.h"

struct dgn_pool {
    size_t threads; /* the caller and threads - 1 workers */
    pthread_t *workers;
    size_t started;
    pthread_mutex_t lock;
    pthread_cond_t go, done;
    /* The current job; generation counts the jobs posted. Both are read
     * without the lock while spinning: waking a sleeping thread costs
     * tens of microseconds, a good part of a training step's product. */
    atomic_ulong generation;
    dgn_task_fn fn;
    void *arg;
    size_t n_tasks;
    atomic_size_t busy; /* workers still in the current job */
    int stop;
};

/* About a millisecond of polling before a thread sleeps: long enough to
 * span the single-threaded stages between two products of a step. */
#define SPIN 200000
#if defined(__x86_64__) || defined(__i386__)
#define PAUSE() __builtin_ia32_pause()
#else
#define PAUSE() ((void)0)
#endif

typedef struct worker_arg {
    dgn_pool *p;
    size_t index;
} worker_arg;

static void run_share(dgn_pool *p, size_t index)
{
    for (size_t t = index; t < p->n_tasks; t += p->threads)
        p->fn(p->arg, t);
}

static void *worker(void *a)
{
    dgn_pool *p = ((worker_arg *)a)->p;
    size_t index = ((worker_arg *)a)->index;
    free(a);
    unsigned long seen = 0;
    for (;;) {
        for (int spin = 0; spin < SPIN && atomic_load(&p->generation) == seen; spin++)
            PAUSE();
        pthread_mutex_lock(&p->lock);
        while (!p->stop && atomic_load(&p->generation) == seen)
            pthread_cond_wait(&p->go, &p->lock);
        int stop = p->stop;
        pthread_mutex_unlock(&p->lock);
        if (stop)
            break;
        seen = atomic_load(&p->generation);
        run_share(p, index);
        if (atomic_fetch_sub(&p->busy, 1) == 1) {
            pthread_mutex_lock(&p->lock);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->lock);
        }
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
    if (threads > 1 && !p->workers) {
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

void dgn_pool_run(dgn_pool *p, dgn_task_fn fn, void *arg, size_t n_tasks)
{
    if (!p || p->threads == 1 || n_tasks < 2) {
        for (size_t t = 0; t < n_tasks; t++)
            fn(arg, t);
        return;
    }
    pthread_mutex_lock(&p->lock);
    p->fn = fn;
    p->arg = arg;
    p->n_tasks = n_tasks;
    atomic_store(&p->busy, p->threads - 1);
    atomic_fetch_add(&p->generation, 1);
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->lock);
    run_share(p, 0);
    for (int spin = 0; spin < SPIN && atomic_load(&p->busy); spin++)
        PAUSE();
    pthread_mutex_lock(&p->lock);
    while (atomic_load(&p->busy))
        pthread_cond_wait(&p->done, &p->lock);
    pthread_mutex_unlock(&p->lock);
}
