/*
 * workers.h — a few threads a process keeps for short jobs it wants done in
 * parallel with its own work: the watchdog, which starts them when it warms
 * up (watchdog/main.c), syncs a report's files on them at the commit
 * (spool/spool.c) and reads the crashed process's thread names on them
 * while it stops and reads the threads (watchdog/ptrace_capture.c). A
 * thread creation costs 0.1-0.2 ms on the VMs the project is measured on,
 * which is why they are kept. Normal context.
 *
 * One batch at a time: cw__workers_begin() hands the workers a batch, the
 * caller goes on with its own work, and cw__workers_finish() runs what the
 * workers have not taken yet on the calling thread, then waits for the
 * rest. A forked child has no workers (the fork handler forgets them).
 */
#ifndef CW_WORKERS_H
#define CW_WORKERS_H

#include <stddef.h>

typedef struct {
  void (*fn)(void *arg);
  void *arg;
} cw__job_t;

/* Starts threads until n run (never fewer than before); returns how many
 * run. */
int cw__workers_start(int n);

/* Hands the n jobs to the workers; jobs stays the caller's and must live
 * until cw__workers_finish(). Returns 1 if they took the batch, 0 if there
 * are no workers or another batch has them: the caller then runs its jobs
 * some other way (and does not call cw__workers_finish). */
int cw__workers_begin(cw__job_t *jobs, size_t n);

/* Runs the batch's jobs no worker has started yet on this thread, then
 * waits until every job of the batch is done, and frees the workers for
 * the next batch. */
void cw__workers_finish(void);

#endif
