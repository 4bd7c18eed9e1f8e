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
#include <stdint.h>
#include <sys/types.h>

#include "crash_record.h"
#include "spool.h"

/* The signals crashwatch reports, in the order of cw__crash_state.old. */
#define CW__NSIGNALS 7
extern const int cw__signals[CW__NSIGNALS];

typedef struct {
  int sock_fd;             /* the app's end of the crash socket, or -1 */
  pid_t pid;               /* the process that called cw_init() */
  unsigned ack_timeout_ms; /* how long the crashing thread waits */
  int installed;           /* handlers are in place */
  /* The app's view of each signal's disposition: what it had before
   * cw_init(), then whatever it installed since through the intercepted
   * sigaction()/signal() (chain.c) or what cw_reinstall() found. The
   * kernel keeps crashwatch's handler; this is what the app is told and
   * what the handler runs first. Written only through chain.c. */
  struct sigaction old[CW__NSIGNALS];
  cw_crash_record_t record;           /* filled by the crashing thread */
  int crash_tid; /* the thread that owns the crash slot, 0 = free */
} cw__crash_state_t;

extern cw__crash_state_t cw__crash;

/* The handler installed for every signal in cw__signals. Signal context. */
void cw__on_crash_signal(int signo, siginfo_t *si, void *ucontext);
/* Fills r from the signal's arguments (crash.c). Signal context. */
void cw__crash_fill_record(cw_crash_record_t *r, int signo, const siginfo_t *si,
                           const void *uc, pid_t tid);

/* ---- chain.c: staying in the chain of the app's handlers (signal
 * context) ---- */

/* The real sigaction (libc's, found with dlsym(RTLD_NEXT) before any use,
 * or glibc's __sigaction): what crashwatch itself installs with. */
int cw__sys_sigaction(int signo, const struct sigaction *act,
                      struct sigaction *old);
/* Index of signo in cw__signals, or -1. */
int cw__chain_index(int signo);
/* True while the intercepted sigaction()/signal() keep crashwatch's
 * handler in the kernel (after cw_init, unless intercept_signals is off). */
int cw__chain_intercepting(void);
/* The intercepted sigaction for signal cw__signals[idx]: reports the app's
 * view in *old, records act as the app's new view and keeps crashwatch's
 * handler installed (with act's mask and SA_NODEFER/SA_RESTART). */
int cw__chain_sigaction(int idx, const struct sigaction *act,
                        struct sigaction *old);
/* Installs crashwatch's handler for cw__signals[idx] in the kernel, with
 * the mask and flags the app's view asks for. */
int cw__chain_install(int idx);
/* What the crash handler does with a delivered signal, after running the
 * app's handler if it has one. */
#define CW__CHAIN_RETURN 0 /* ignored, recovered by the app, or forwarded */
#define CW__CHAIN_FATAL 1  /* report and die; *orig as below */
/* *orig: the saved record of the original fault when the signal came back
 * from inside (or right after) the app's handler, else NULL (capture the
 * current context). */
int cw__chain_dispatch(int idx, int signo, siginfo_t *si, void *uc, pid_t tid,
                       const cw_crash_record_t **orig);
/* Normal context, at cw_init(): abort()'s code range [start, end) (0, 0
 * if unknown), touches the slot table, turns interception on or off. */
void cw__chain_prepare(int intercept, uintptr_t abort_start,
                       uintptr_t abort_end);
/* Normal context: interception off (cw_shutdown). */
void cw__chain_stop(void);

/* interpose.c (the shared library only; weak here so libcrashwatch.a,
 * which does not interpose, links without it): resolves the real
 * sigaction and pthread_create with dlsym(RTLD_NEXT). Normal context. */
void cw__interpose_resolve(void) __attribute__((weak));
extern int (*cw__real_sigaction)(int, const struct sigaction *,
                                 struct sigaction *);

/* Gives the calling thread crashwatch's alternate signal stack unless it
 * has one (init.c). Normal context. */
int cw__thread_alt_stack(void);

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
  int intercept_signals; /* keep our handler when the app installs its own */
  char *dsn;
  char *release;
  char *environment;
  spool_limits_t spool_limits; /* applied by the watchdog after a commit */
  /* The first bad value read from the environment: cw_init() fails with
   * it, so a typo in a variable is not silently ignored. */
  int env_err;
  char env_msg[256];
};

/* The environment variable name, or NULL in a secure-execution process
 * (setuid/setgid/file capabilities: AT_SECURE), where the environment is
 * the invoking user's and no setting is taken from it. */
const char *cw__getenv(const char *name);
/* 1 in a secure-execution process. */
int cw__secure_exec(void);

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
