/*
 * cw_internal.h — what the files of handler/ share (private to handler/).
 *
 * The crash state is written in normal context by cw_init()/cw_shutdown()
 * and read by the signal handler (crash.c, signal context). Everything the
 * handler touches is allocated and written before the handlers are
 * installed.
 */
#ifndef CW_HANDLER_INTERNAL_H
#define CW_HANDLER_INTERNAL_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#include "crash_record.h"

/* The signals crashwatch reports, in the order of cw__crash_state.old. */
#define CW__NSIGNALS 7
extern const int cw__signals[CW__NSIGNALS];

typedef struct {
  int sock_fd;             /* the app's end of the crash socket, or -1 */
  pid_t pid;               /* the process that called cw_init() */
  unsigned ack_timeout_ms; /* how long the crashing thread waits */
  int installed;           /* handlers are in place */
  struct sigaction old[CW__NSIGNALS]; /* dispositions before cw_init() */
  cw_crash_record_t record;           /* filled by the crashing thread */
  int crash_tid; /* the thread that owns the crash slot, 0 = free */
} cw__crash_state_t;

extern cw__crash_state_t cw__crash;

/* The handler installed for every signal in cw__signals. Signal context. */
void cw__on_crash_signal(int signo, siginfo_t *si, void *ucontext);

/* Records the message of the last failure for cw_last_error(). Normal
 * context. Returns err. */
int cw__fail(int err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cw__clear_error(void);

/* The settings cw_init() works from (options.c owns the struct). */
struct cw_options {
  char *spool_dir;
  char *watchdog_path;
  unsigned ack_timeout_ms;
  int include_environ;
  int print_summary;
  int release_early; /* ack after capture, not after commit */
  char *dsn;
  char *release;
  char *environment;
  /* The first bad value read from the environment: cw_init() fails with
   * it, so a typo in a variable is not silently ignored. */
  int env_err;
  char env_msg[256];
};

/* Checks a Sentry DSN's syntax. 0 or CW_EDSN with a message in err. */
int cw__dsn_check(const char *dsn, char *err, size_t errlen);

/*
 * Starts the watchdog (spawn.c). On success *sock_out is the app's end of
 * the crash socket and *pid_out the watchdog's pid. Normal context.
 */
int cw__spawn_watchdog(const struct cw_options *o, const char *spool_abs,
                       int *sock_out, pid_t *pid_out);

/* The watchdog executable embedded in the library (embed_watchdog.S), or
 * an empty range when the library was built without one. */
extern const unsigned char cw__watchdog_blob_start[];
extern const unsigned char cw__watchdog_blob_end[];
/* Its idle stage (wd_idle.c), started first; it exec()s the watchdog above
 * when the first crash record is pending. Empty like the above. */
extern const unsigned char cw__wd_idle_blob_start[];
extern const unsigned char cw__wd_idle_blob_end[];

#endif
