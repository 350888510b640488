/* Private: a model's worker threads, started at create and reused by every
 * forward and backward call, so that those calls never allocate.
 *
 * dgn_pool_run(p, fn, arg, n) calls fn(arg, t) for every task t < n and
 * returns when all are done. The tasks are cut into `threads` runs of
 * consecutive tasks: the caller runs the first, worker w the w-th, each
 * claimed one at a time, so that the same thread meets the same data from
 * job to job; a thread done with its share claims what is left of the
 * others', so a worker the system has descheduled holds up no more than
 * the task it is running. Which thread runs a task is therefore not
 * fixed: tasks must write disjoint memory and use no per-thread state;
 * then the result is the same whatever the thread count. One caller at a
 * time.
 */
#ifndef DGN_LIB_POOL_H
#define DGN_LIB_POOL_H

#include <stddef.h>

#include "dgn/common.h"

typedef struct dgn_pool dgn_pool;
typedef void (*dgn_task_fn)(void *arg, size_t task);

/* threads counts the caller: 1 starts nothing (and *out may then be used
 * as a pool of one). */
dgn_status dgn_pool_create(dgn_pool **out, size_t threads);
void dgn_pool_destroy(dgn_pool *p);
/* 1 for a NULL pool. */
size_t dgn_pool_threads(const dgn_pool *p);
/* A NULL pool runs every task on the caller. */
void dgn_pool_run(dgn_pool *p, dgn_task_fn fn, void *arg, size_t n_tasks);

/* fn(arg) once on the first worker while the caller goes on (and runs
 * jobs, whose tasks the caller then takes from that worker's share too):
 * serial work beside parallel work. Returns 0 when the pool has no
 * worker, and then nothing runs; 1 when posted, and then the caller must
 * call dgn_pool_wait_posted() before it posts again or touches what fn
 * writes. fn must not use the pool. */
typedef void (*dgn_posted_fn)(void *arg);
int dgn_pool_post(dgn_pool *p, dgn_posted_fn fn, void *arg);
void dgn_pool_wait_posted(dgn_pool *p);

#endif
