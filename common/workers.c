/*
 * workers.c — the kept threads of workers.h. Normal context.
 */
#include "workers.h"

#include <pthread.h>
#include <signal.h>

static struct {
  pthread_mutex_t mu;
  pthread_cond_t go, done;
  int nworkers;
  int busy; /* a batch has the workers, until cw__workers_finish */
  cw__job_t *jobs;
  size_t njobs, next, finished;
} pool = {.mu = PTHREAD_MUTEX_INITIALIZER,
          .go = PTHREAD_COND_INITIALIZER,
          .done = PTHREAD_COND_INITIALIZER};

/* Under pool.mu: runs the next job, if any; returns whether it ran one. */
static int run_one(void) {
  if (pool.next >= pool.njobs)
    return 0;
  cw__job_t *j = &pool.jobs[pool.next++];
  pthread_mutex_unlock(&pool.mu);
  j->fn(j->arg);
  pthread_mutex_lock(&pool.mu);
  if (++pool.finished == pool.njobs)
    pthread_cond_broadcast(&pool.done);
  return 1;
}

static void *worker_main(void *arg) {
  (void)arg;
  pthread_mutex_lock(&pool.mu);
  for (;;)
    if (!run_one())
      pthread_cond_wait(&pool.go, &pool.mu);
  return NULL;
}

/* In a forked child: the threads are the parent's, and the lock may have
 * been held by one of them at the fork. */
static void forget(void) {
  pthread_mutex_init(&pool.mu, NULL);
  pthread_cond_init(&pool.go, NULL);
  pthread_cond_init(&pool.done, NULL);
  pool.nworkers = 0;
  pool.busy = 0;
  pool.jobs = NULL;
  pool.njobs = pool.next = pool.finished = 0;
}

int cw__workers_start(int n) {
  pthread_mutex_lock(&pool.mu);
  static int atfork_done;
  if (!atfork_done && pthread_atfork(NULL, NULL, forget) == 0)
    atfork_done = 1;
  pthread_attr_t attr;
  int have_attr = pthread_attr_init(&attr) == 0;
  if (have_attr) {
    pthread_attr_setstacksize(&attr, 64 * 1024);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  }
  /* The workers block every signal (a thread starts with its creator's
   * mask): a signal sent to the process then goes to a thread that
   * expects it, e.g. the SIGCHLD of a ptrace stop to the capture's
   * sigtimedwait(), instead of waking a worker that drops it. */
  sigset_t all, mask;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &mask);
  while (pool.nworkers < n && have_attr) {
    pthread_t t;
    if (pthread_create(&t, &attr, worker_main, NULL) != 0)
      break;
    pool.nworkers++;
  }
  pthread_sigmask(SIG_SETMASK, &mask, NULL);
  if (have_attr)
    pthread_attr_destroy(&attr);
  int started = pool.nworkers;
  pthread_mutex_unlock(&pool.mu);
  return started;
}

int cw__workers_begin(cw__job_t *jobs, size_t n) {
  pthread_mutex_lock(&pool.mu);
  int take = pool.nworkers > 0 && !pool.busy;
  if (take) {
    pool.busy = 1;
    pool.jobs = jobs;
    pool.njobs = n;
    pool.next = pool.finished = 0;
    pthread_cond_broadcast(&pool.go);
  }
  pthread_mutex_unlock(&pool.mu);
  return take;
}

void cw__workers_finish(void) {
  pthread_mutex_lock(&pool.mu);
  while (run_one()) {
  }
  while (pool.finished < pool.njobs)
    pthread_cond_wait(&pool.done, &pool.mu);
  pool.jobs = NULL;
  pool.njobs = pool.next = pool.finished = 0;
  pool.busy = 0;
  pthread_mutex_unlock(&pool.mu);
}
