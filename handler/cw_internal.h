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
#include "scope_layout.h"
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
  cw__crash_record_t record; /* filled by the crashing thread */
  int crash_tid;             /* the thread that owns the crash slot, 0 = free */
} cw__crash_state_t;

extern cw__crash_state_t cw__crash;

/* The handler installed for every signal in cw__signals. Signal context. */
void cw__on_crash_signal(int signo, siginfo_t *si, void *ucontext);
/* Fills r from the signal's arguments (crash.c). Signal context. */
void cw__crash_fill_record(cw__crash_record_t *r, int signo,
                           const siginfo_t *si, const void *uc, pid_t tid);

/* ---- chain.c: staying in the chain of the app's handlers (signal
 * context) ---- */

/* The real sigaction (libc's, found with dlsym(RTLD_NEXT) before any use,
 * or glibc's __sigaction): what crashwatch itself installs with. */
int cw__sys_sigaction(int signo, const struct sigaction *act,
                      struct sigaction *old);
/* The calling thread's id without a system call after the first (cached
 * in TLS); cw__gettid_forget() in a forked child. */
pid_t cw__gettid(void);
void cw__gettid_forget(void);
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
                       const cw__crash_record_t **orig);
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
  int release_early;     /* ack after capture, not after commit */
  int lazy_watchdog;     /* idle stage until the first crash (spawn.c) */
  int intercept_signals; /* keep our handler when the app installs its own */
  int cover_forks;       /* forked children get a watchdog at crash time */
  char *dsn;
  char *release;
  char *environment;
  int auto_session_tracking;   /* a session per run (docs/sessions.md) */
  spool_limits_t spool_limits; /* applied by the watchdog after a commit */
  /* The scope (issue 10; handler/scope*.c). */
  char *dist;
  char *server_name;                    /* NULL: the host name at cw_init */
  unsigned max_breadcrumbs;             /* ring capacity, 0..1000 */
  int send_default_pii;                 /* for the watchdog */
  unsigned long attachment_max_bytes;   /* tail kept of each attachment */
  char *attachments[CW__SCOPE_NATTACH]; /* cw_options_add_attachment() */
  int nattachments;
  /* Events besides crashes (issue 11; handler/events.c). */
  double sample_rate;             /* messages and events kept, 0..1 */
  unsigned long long sample_seed; /* 0: from the clock */
  unsigned events_per_minute;     /* 0: no cap */
  int attach_stacktrace;          /* messages carry the caller's stack */
  int dump_signal;                /* 0: none */
  /* The first bad value read from the environment: cw_init() fails with
   * it, so a typo in a variable is not silently ignored. */
  int env_err;
  char env_msg[256];
};

/* ---- events besides crashes (events.c, dump_signal.c) ---- */

/* Defaults and the environment (SENTRY_SAMPLE_RATE,
 * CRASHWATCH_MAX_EVENTS_PER_MINUTE, CRASHWATCH_ATTACH_STACKTRACE) into o;
 * a bad value is recorded in o->env_err unless one is already. Normal
 * context (cw_options_new). */
void cw__events_options_init(struct cw_options *o);
/* At cw_init(), before the handlers go in: the limits, and the dump
 * signal's handler. Returns 0 or a CW_E* code (cw_last_error set). */
int cw__events_start(const struct cw_options *o);
/* At cw_shutdown(): the dump signal's previous disposition back. */
void cw__events_stop(void);

/* The release health session's error count (the sessions helper's
 * handler/session*.c; a weak no-op until it lands): called once for each
 * message, event or dump of level error or fatal that is sent. Normal
 * context. */
void cw__session_note_error(void);

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

/* ---- starting a watchdog (launch.c; signal context) ------------------ */

/* Each of the two hops' stacks. */
#define CW__LAUNCH_STACK (64u * 1024u)

/* What cw__launch needs, all prepared before it is called. */
typedef struct {
  const char *path;                       /* exec this path, or else exe_fd */
  int exe_fd, wd_sock, image_fd, devnull; /* image_fd, devnull: -1 = none */
  int scope_fd;                           /* the scope memfd, -1 = none */
  char **argv, **envp;
  char *stacks; /* 2 * CW__LAUNCH_STACK bytes of memory, not used otherwise */
  int report;   /* set by cw__launch: the children's report pipe */
} cw__launch_t;

/* Starts the watchdog as an orphaned grandchild in a new session, its fds
 * 0 and 1 on devnull, 2 inherited, wd_sock, image_fd and scope_fd kept, every
 * other fd >= 3 closed. Returns its pid, or -errno (when the exec failed,
 * *exec_errno is its errno too). Async-signal-safe. */
int cw__launch(cw__launch_t *c, int *exec_errno);

/* ---- a watchdog at crash time (crash_spawn.c; signal context) --------- */

#define CW__MAX_ARGS 32

/* Everything the crash handler needs to start a watchdog for a forked
 * child, or for a process whose crash socket was closed or replaced,
 * prepared by cw_init (spawn.c) so the handler allocates nothing. */
typedef struct {
  int ready;       /* everything below is prepared */
  int cover_forks; /* forked children are covered */
  /* The watchdog's command line (the embedded watchdog itself, not its
   * idle stage): "--fd", "--pid" and "--summary-fd" point at the buffers
   * below, rewritten at crash time; from argv[image_arg] on come the
   * arguments only cw_init's watchdog gets ("--upload-pending", the idle
   * stage's "--image-fd"): the crash handler ends the line there. */
  char *argv[CW__MAX_ARGS];
  int image_arg;
  char fd_str[16], pid_str[16], summary_str[4], image_str[16];
  char scope_str[16];  /* --scope-fd: the scope memfd, or -1 */
  char limits_str[96]; /* --spool-limits */
  char **envp;    /* a deep copy of the environment at cw_init, DSN added */
  char *path;     /* the external watchdog, or NULL for the embedded one */
  char *stacks;   /* the hops' stacks: 2 * CW__LAUNCH_STACK, kept */
  char *owned[8]; /* malloc'd strings argv points to (freed on re-init) */
  int nowned;
  /* The crash socket as cw_init made it: the handler checks that its fd
   * is still this socket before sending a record there. */
  unsigned long long sock_dev, sock_ino;
} cw__respawn_t;

extern cw__respawn_t cw__respawn;

/* The fd to send the crash record of process pid on: the crash socket if
 * it is still ours (pid is the initialized process), else the socket of a
 * watchdog started now; -1 when there is none (forked child with coverage
 * off, or the start failed; one line on stderr then says why). Signal
 * context. */
int cw__crash_channel(int pid);

/* The scope memfd for a watchdog started at crash time by process pid:
 * the mapping's own memfd if it is still open as such, else a new memfd
 * holding a consistent copy of the scope (a forked child's private copy,
 * or fds closed by the program; *owned is then 1 and the caller closes
 * it); -1 if there is no scope. Signal context. */
int cw__scope_crash_fd(int pid, int *owned);

/* One line on stderr, from pieces (NULL-terminated) and at most one
 * number (printed where a piece is exactly "%d"). Signal context. */
void cw__crash_say(const char *const *pieces, long num);

/* The watchdog executable embedded in the library (embed_watchdog.S), or
 * an empty range when the library was built without one. */
extern const unsigned char cw__watchdog_blob_start[];
extern const unsigned char cw__watchdog_blob_end[];
/* Its idle stage (wd_idle.c), started first; it exec()s the watchdog above
 * when the first crash record is pending. Empty like the above. */
extern const unsigned char cw__wd_idle_blob_start[];
extern const unsigned char cw__wd_idle_blob_end[];

#endif
