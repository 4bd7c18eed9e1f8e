/*
 * crashwatch.h — the public interface of libcrashwatch.
 *
 * A program calls cw_init() once, early in main(). From then on a crash
 * (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS) is captured by a
 * separate watchdog process, which writes a standard minidump and a Sentry
 * event into a local spool, and the program still dies by its original signal.
 *
 * Conventions:
 *   - Functions return 0 on success or a negative CW_E* code; cw_strerror()
 *     and cw_err_name() describe a code. Codes are never renumbered.
 *   - Strings passed in are copied; the caller keeps ownership of its memory.
 *   - cw_options_t is opaque; ownership passes to cw_init(), which frees it
 *     whether or not it succeeds.
 *
 * Contract. Each function below says where it may be called:
 *   - "any context": also from a signal handler and in the child of fork()
 *     of a multi-threaded program before it exec()s (async-signal-safe: no
 *     memory allocated, no lock, no state);
 *   - "normal context": not from a signal handler, nor between fork() and
 *     exec() in the child of a multi-threaded program: it may allocate, take
 *     crashwatch's lock, or read the environment.
 * Threads: every function may be called from any thread. cw_init(),
 * cw_shutdown() and cw_reinstall() take one process-wide lock;
 * cw_thread_init() works on the calling thread alone. A cw_options_t
 * belongs to one thread at a time.
 * cw_last_error() is per thread. cw_options_new() and cw_init() read the
 * environment: not while another thread calls setenv()/putenv().
 *
 * What cw_init() leaves in the process (what /proc/PID/fd and maps show):
 *   - Two file descriptors, close-on-exec, numbered 3 or above: the app's
 *     end of an AF_UNIX SOCK_SEQPACKET socketpair to the watchdog, and the
 *     scope's memfd "crashwatch-scope" (sealed against resizing), mapped
 *     shared: 318 KiB with the default 100 breadcrumbs, of which only the
 *     pages written cost memory (docs/scope.md). Nothing else stays open
 *     (the memfds and /dev/null it uses while starting the watchdog are
 *     closed before it returns). A program that closes the socket, or
 *     dup2()s over it, is still covered: the crash handler sees the socket
 *     is not the one cw_init() made and starts a watchdog for that crash.
 *   - One process, the watchdog, loaded and waiting (/proc/PID/exe is
 *     "/memfd:crashwatch-watchdog"; about 1.6 MiB resident, 330 KiB
 *     proportional set, most of it libc's shared pages), started with two
 *     vfork-style clone() hops so that it is not the app's child (an
 *     intermediate child exits at once, without SIGCHLD, reaped by
 *     cw_init()) and in a session of its own. With
 *     cw_options_set_lazy_watchdog() it is an idle stage instead, a 3 KiB
 *     static program with no libc ("/memfd:crashwatch-wd-idle", about
 *     12 KiB resident), holding a memfd "crashwatch-watchdog" with the full
 *     watchdog (about 0.6 MB of shared memory, in nobody's RSS), which it
 *     exec()s in place at the first crash or event. Either holds the other
 *     end of the socket, the scope's memfd (mapped read-only), /dev/null
 *     as stdin and stdout and the app's stderr (fd 2, where the crash
 *     summary goes: a pipe on the app's stderr reaches end-of-file only
 *     once the watchdog exits too). It blocks SIGHUP, SIGINT and SIGTERM
 *     and exits when the
 *     app's end of the socket closes (exit, exec, cw_shutdown()). Its
 *     environment is a copy of the app's at cw_init() (none in a
 *     secure-execution process) plus CRASHWATCH_WATCHDOG_DSN, the DSN kept
 *     out of its command line. With a DSN (or CRASHWATCH_UPLOAD_URL) and
 *     reports from an earlier run in the spool, it also starts a detached
 *     uploader. With cw_options_set_watchdog_path() the full watchdog
 *     is exec()d directly instead (no memfds).
 *   - prctl(PR_SET_PTRACER, watchdog), so Yama lets it ptrace the app: it
 *     replaces any ptracer the program named before.
 *   - Handlers for SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP and
 *     SIGSYS (SA_SIGINFO|SA_ONSTACK); no other signal's disposition or mask
 *     is changed (SIGPIPE and SIGCHLD are left alone). With
 *     libcrashwatch.so, sigaction() and the signal() family keep them in
 *     place (cw_options_set_intercept_signals).
 *   - A 2 MiB alternate signal stack, with a guard page, on the calling
 *     thread and on each thread created later with pthread_create()
 *     (libcrashwatch.so): a private mapping of a memfd, shown in
 *     /proc/PID/maps as "/memfd:crashwatch-sigaltstack (deleted)", whose fd
 *     is closed at once; anonymous memory when RLIMIT_FSIZE is below 2 MiB.
 *     Only the pages a handler touches cost memory.
 *   - Two 64 KiB anonymous stacks and a copy of the environment and of the
 *     watchdog's command line (malloc), kept so that the crash handler can
 *     start a watchdog without allocating.
 *   - A pthread_atfork() child handler (registered once).
 * It starts no thread, sets no environment variable and changes no
 * resource limit (RLIMIT_FSIZE is raised for the few hundred microseconds
 * it writes the memfd, if the soft limit is below the watchdog's size).
 *
 * After fork(): the child keeps crashwatch's handlers and its view of the
 * program's handlers; the atfork handler closes the child's copy of the
 * socket (the parent's watchdog watches the parent only and sees end of
 * file once the parent is gone) and of the scope's memfd, and gives the
 * child a private copy of the scope (the parent's as of the fork; from
 * then on each changes only its own). Nothing is started at fork(): if the
 * child crashes, its crash handler starts a watchdog for it then, whether
 * or not the parent is alive and the child still has fds open
 * (cw_options_set_cover_forks; off, the child dies by its signal with no
 * report). A child may call cw_init() for itself (it then gets its own
 * watchdog at once; the parent's handlers are replaced). cw_reinstall()
 * in a child that has not called cw_init() is CW_ENOTINIT. vfork(),
 * posix_spawn() and clone() run no atfork handler; a child that then
 * exec()s closes the socket anyway (close-on-exec).
 *
 * After exec(): nothing of crashwatch remains in the new image: the kernel
 * resets the handled signals to SIG_DFL and drops the alternate stack, and
 * the socket is closed, so the watchdog exits once no process holds the
 * app's end. The new program is covered only if it calls cw_init(). One
 * difference to a process without crashwatch: a crash signal the program
 * had set to SIG_IGN is SIG_DFL in the exec()d program (the kernel held
 * crashwatch's handler, not SIG_IGN, when exec() reset it).
 */
#ifndef CRASHWATCH_H
#define CRASHWATCH_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define CW_EXTERN __attribute__((visibility("default")))
#else
#define CW_EXTERN
#endif

/*
 * The version of this header; cw_version() gives the library's. The build
 * reads these three lines (CMakeLists.txt): the shared library's SONAME
 * (libcrashwatch.so.MAJOR) and file name, crashwatch.pc and the CMake
 * package version all come from them. CW_VERSION_HEX is 0xMMmmpp (one byte
 * each), for `#if CW_VERSION_HEX >= 0x000200` in code that needs a newer
 * API.
 */
#define CW_VERSION_MAJOR 0
#define CW_VERSION_MINOR 1
#define CW_VERSION_PATCH 0
#define CW__STR2(x) #x
#define CW__STR(x) CW__STR2(x)
#define CW_VERSION_STRING                                                      \
  CW__STR(CW_VERSION_MAJOR)                                                    \
  "." CW__STR(CW_VERSION_MINOR) "." CW__STR(CW_VERSION_PATCH)
#define CW_VERSION_HEX                                                         \
  ((CW_VERSION_MAJOR << 16) | (CW_VERSION_MINOR << 8) | CW_VERSION_PATCH)

/*
 * Error codes. Where a POSIX errno fits, the code is its negative value;
 * crashwatch's own codes live at -4000 and below. This list only grows.
 *   XX(name, value, message)
 */
#define CW_ERRNO_MAP(XX)                                                       \
  XX(EPERM, -1, "operation not permitted")                                     \
  XX(ENOENT, -2, "no such file or directory")                                  \
  XX(ESRCH, -3, "no such process")                                             \
  XX(EINTR, -4, "interrupted system call")                                     \
  XX(EIO, -5, "i/o error")                                                     \
  XX(EAGAIN, -11, "resource temporarily unavailable")                          \
  XX(ENOMEM, -12, "out of memory")                                             \
  XX(EACCES, -13, "permission denied")                                         \
  XX(EBUSY, -16, "resource busy or locked")                                    \
  XX(EEXIST, -17, "file already exists")                                       \
  XX(ENOTDIR, -20, "not a directory")                                          \
  XX(EINVAL, -22, "invalid argument")                                          \
  XX(ENOSPC, -28, "no space left on device")                                   \
  XX(EPIPE, -32, "broken pipe")                                                \
  XX(ERANGE, -34, "result out of range")                                       \
  XX(ENOSYS, -38, "function not implemented")                                  \
  XX(ENOTSUP, -95, "operation not supported")                                  \
  XX(ETIMEDOUT, -110, "operation timed out")                                   \
  XX(EALREADY, -114, "already initialized")                                    \
  XX(ENOTINIT, -4000, "crashwatch is not initialized")                         \
  XX(EFORMAT, -4001, "malformed input")                                        \
  XX(ETRUNC, -4002, "truncated input")                                         \
  XX(EDSN, -4003, "malformed DSN")                                             \
  XX(EURL, -4004, "malformed URL")                                             \
  XX(EHTTP, -4005, "server refused the request")                               \
  XX(ERATELIMIT, -4006, "rate limited by the server")                          \
  XX(ENETWORK, -4007, "network error")                                         \
  XX(ENOSYMBOL, -4008, "no symbol information")                                \
  XX(EBUILDID, -4009, "build-id mismatch")                                     \
  XX(EWATCHDOG, -4010, "watchdog unavailable")                                 \
  XX(ECAPTURE, -4011, "could not capture the crashed process")                 \
  XX(ESPOOL, -4012, "spool directory unusable")                                \
  XX(ETLS, -4013, "TLS error")                                                 \
  XX(ETOOBIG, -4014, "value too large")

typedef enum {
#define CW__ERR_ENUM(name, value, msg) CW_##name = (value),
  CW_ERRNO_MAP(CW__ERR_ENUM)
#undef CW__ERR_ENUM
} cw_errno_t;

/* Static messages; never NULL. An unknown code gives "unknown error".
 * Any context, any thread. */
CW_EXTERN const char *cw_strerror(int err);
/* "CW_EINVAL" and so on; "CW_EUNKNOWN" for an unknown code. Any context,
 * any thread. */
CW_EXTERN const char *cw_err_name(int err);

/*
 * The message of the calling thread's last failed cw_init(),
 * cw_reinstall(), cw_thread_init() or cw_options_*() call: what was wrong
 * and where ("spool directory /x: permission denied"). Empty string when
 * nothing failed on this thread (cw_init() and cw_reinstall() clear it
 * first). Per thread: another thread's failure never changes it. Valid
 * until this thread's next call into crashwatch or its exit. Normal
 * context (its thread-local storage may be allocated on a thread's first
 * use in libcrashwatch.so); a forked child's thread starts with the
 * message of the thread that forked.
 */
CW_EXTERN const char *cw_last_error(void);

/* The library's version, "MAJOR.MINOR.PATCH" ("0.1.0"); compare with
 * CW_VERSION_STRING for the header's. Any context, any thread. */
CW_EXTERN const char *cw_version(void);

/* ---- Options -------------------------------------------------------- */

typedef struct cw_options cw_options_t;

/* All cw_options_* functions: normal context; any thread, one thread at a
 * time per cw_options_t (different objects on different threads are fine).
 * A failed setter leaves the setting as it was and sets this thread's
 * cw_last_error(). */

/* Defaults, then the environment (CRASHWATCH_*, SENTRY_*) on top. NULL on
 * out-of-memory. In a secure-execution process (setuid, setgid, or file
 * capabilities: getauxval(AT_SECURE)) the environment is ignored, HOME and
 * XDG_STATE_HOME included: only cw_options_* calls count, so such a
 * program must set its spool with cw_options_set_spool_dir(). */
CW_EXTERN cw_options_t *cw_options_new(void);
/* Frees options that were never passed to cw_init(). NULL is fine. */
CW_EXTERN void cw_options_free(cw_options_t *opts);

/* Where reports are written. Default: $CRASHWATCH_SPOOL, else
 * ${XDG_STATE_HOME:-$HOME/.local/state}/crashwatch/reports. Created 0700
 * (whatever the umask) with any missing parents. cw_init() refuses a spool
 * (CW_ESPOOL, cw_last_error() naming the directory, its owner and mode)
 * that is not owned by the effective user or is writable by group or
 * others, whose .state/ or failed/ is not, or that sits below a directory
 * owned by someone other than root or the effective user or writable by
 * others without the sticky bit (docs/security.md). */
CW_EXTERN int cw_options_set_spool_dir(cw_options_t *opts, const char *path);
/* Run this watchdog executable instead of the one embedded in the library
 * ($CRASHWATCH_WATCHDOG). */
CW_EXTERN int cw_options_set_watchdog_path(cw_options_t *opts,
                                           const char *path);
/* How long the crashing thread waits for the watchdog to capture it before
 * the process dies anyway. 1..600000 ms, default 10000
 * ($CRASHWATCH_ACK_TIMEOUT_MS). */
CW_EXTERN int cw_options_set_ack_timeout_ms(cw_options_t *opts,
                                            unsigned timeout_ms);
/* Include the process environment in the minidump (MD_LINUX_ENVIRON). Off
 * by default: environments carry secrets ($CRASHWATCH_INCLUDE_ENVIRON=1). */
CW_EXTERN int cw_options_set_include_environ(cw_options_t *opts, int on);
/* Print a symbolized summary of each crash to stderr. Default: on
 * ($CRASHWATCH_PRINT_SUMMARY=0 turns it off). */
CW_EXTERN int cw_options_set_print_summary(cw_options_t *opts, int on);
/*
 * Keep crashwatch in the chain when the program installs its own handlers
 * for the crash signals after cw_init() (default: on;
 * $CRASHWATCH_INTERCEPT_SIGNALS=0 turns it off). libcrashwatch.so exports
 * sigaction(), signal(), bsd_signal(), sysv_signal() and sigset(), ahead of
 * libc's: for SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP and SIGSYS
 * they record the program's handler (and give the program back its own
 * previous action) while crashwatch's handler stays installed. On a crash
 * the program's handler runs first, as without crashwatch:
 *   - if it recovers (repairs the context, or siglongjmp()s away, as JVM-
 *     style runtimes do), nothing is reported;
 *   - if it gives up (re-raises, resets to SIG_DFL and returns or calls
 *     abort(), or lets abort() go on), exactly one report is written, of
 *     the ORIGINAL fault (signal, address, registers), and the process
 *     dies by the signal, as it would have;
 *   - SIG_DFL or SIG_IGN set by the program no longer removes crashwatch:
 *     a later fault or abort() is reported.
 * Off: the program's sigaction() replaces crashwatch's handler, as in
 * crashwatch 0.1. Interposition needs libcrashwatch.so among the program's
 * libraries (linked, or LD_PRELOAD); with libcrashwatch.a or dlopen() it
 * does not apply: call cw_reinstall() after installing handlers. The
 * interposed functions stay async-signal-safe, as libc's sigaction() is.
 * docs/signals.md has the details.
 */
CW_EXTERN int cw_options_set_intercept_signals(cw_options_t *opts, int on);
/* Sentry DSN for uploads ($SENTRY_DSN). Checked here: a malformed DSN is
 * refused with CW_EDSN. */
CW_EXTERN int cw_options_set_dsn(cw_options_t *opts, const char *dsn);
/*
 * Limits of the spool, so it stays bounded with no server at all: after each
 * report it commits, the watchdog deletes the oldest reports beyond
 * max_reports (default 100, $CRASHWATCH_SPOOL_MAX_REPORTS), beyond max_bytes
 * in total (default 268435456 = 256 MiB, $CRASHWATCH_SPOOL_MAX_BYTES), and
 * those older than max_age_s seconds (default 2592000 = 30 days,
 * $CRASHWATCH_SPOOL_MAX_AGE); 0 means no limit. A report larger than
 * max_bytes on its own moves to failed/ instead. The report just written and
 * reports locked by an uploader are never deleted; each deletion is logged
 * to stderr. `crashwatch upload` started by the watchdog prunes with the
 * same limits. See docs/upload.md.
 */
CW_EXTERN int cw_options_set_spool_max_reports(cw_options_t *opts,
                                               unsigned long max_reports);
CW_EXTERN int cw_options_set_spool_max_bytes(cw_options_t *opts,
                                             unsigned long long max_bytes);
CW_EXTERN int cw_options_set_spool_max_age(cw_options_t *opts,
                                           unsigned long max_age_s);
/* Sentry release / environment ($SENTRY_RELEASE, $SENTRY_ENVIRONMENT). */
CW_EXTERN int cw_options_set_release(cw_options_t *opts, const char *release);
CW_EXTERN int cw_options_set_environment(cw_options_t *opts,
                                         const char *environment);

/* Release health (docs/sessions.md). On (the default;
 * $CRASHWATCH_AUTO_SESSION_TRACKING=0 turns it off) and with a release
 * set: cw_init() starts a session, which ends `exited` at cw_shutdown() or
 * the normal end of the process (exit(), a return from main), `crashed`
 * when the process crashes (the update travels in the crash's envelope),
 * and `abnormal` when it ended any other way (SIGKILL, the OOM killer,
 * _exit()), found by the next cw_init() with the same spool. Without a
 * release no session is ever sent: Sentry discards sessions without one.
 * Updates go only to a Sentry DSN (envelopes), not to a Breakpad-style
 * upload URL. */
CW_EXTERN int cw_options_set_auto_session_tracking(cw_options_t *opts, int on);

/* Durable before dead. Off (the default): the crashing process dies only
 * after its report is committed to the spool (its threads stay stopped
 * until then), so a report survives the process's death even when that
 * kills the watchdog (PID 1 of a container, systemd's KillMode=mixed). On
 * ($CRASHWATCH_RELEASE_EARLY=1): it dies as soon as the watchdog has copied it
 * out, a few milliseconds sooner, and the report is lost if the watchdog dies
 * with it. See docs/capture.md. */
CW_EXTERN int cw_options_set_release_early(cw_options_t *opts, int on);
/* The watchdog's idle form. Off (the default): cw_init() starts the full
 * watchdog, which waits for a crash already loaded (about 2 MiB resident,
 * 0.5 MiB proportional set, most of it shared libc pages). On
 * ($CRASHWATCH_LAZY_WATCHDOG=1): a 12 KiB freestanding idle stage waits
 * instead and loads the full watchdog at the first crash, which adds an
 * exec() (a few milliseconds on a virtual machine) to the time from fault
 * to report and to the crashing process's exit. For hosts that run many
 * small processes with crashwatch and care more about idle memory than
 * about the time a crash takes. Ignored with a watchdog path (always
 * started directly). See docs/capture.md. */
CW_EXTERN int cw_options_set_lazy_watchdog(cw_options_t *opts, int on);
/* Forked children. On (the default): a child of fork() that crashes gets
 * its own report, whether or not it calls cw_init(), even after the
 * parent has exited or the child has closed all its fds: the crash handler
 * starts a watchdog for it at crash time (nothing is done at fork()).
 * Off ($CRASHWATCH_COVER_FORKS=0): a forked child dies by its signal with
 * no report. A process that exec()s is covered only if the new program
 * calls cw_init(). */
CW_EXTERN int cw_options_set_cover_forks(cw_options_t *opts, int on);

/* ---- Lifecycle ------------------------------------------------------ */

/*
 * Installs the crash handlers and starts the watchdog (what it creates is
 * listed at the top of this file). opts may be NULL (everything from the
 * environment); otherwise cw_init() takes ownership of opts and frees it,
 * on success and on failure. On failure nothing is left installed, no
 * watchdog runs, and cw_last_error() says why. CW_EALREADY if already
 * initialized in this process (a forked child of an initialized process
 * is not: it gets a watchdog of its own). Normal context, any thread
 * (usually main() before it starts threads); it returns once the watchdog
 * has exec()d.
 */
CW_EXTERN int cw_init(cw_options_t *opts);

/* Removes the handlers (putting back the program's: those from before
 * cw_init() or installed since), turns interception off and closes the
 * socket, so the watchdog exits. The alternate stacks stay until their
 * threads exit, the copy of the environment and command line until the
 * next cw_init(), the two launch stacks and the scope's memfd and mapping
 * for the life of the process (a crash handler or a scope call still
 * running on another thread may be using them; a later cw_init() reuses
 * the scope's). Safe to
 * call when not initialized, and again. Normal context, any thread. */
CW_EXTERN void cw_shutdown(void);

/* Sessions by hand (docs/sessions.md), e.g. one per request batch of a
 * long-lived daemon, or with automatic tracking off. cw_start_session()
 * ends the open session (`exited`) and starts a new one: 0, CW_ENOTINIT
 * before cw_init() (or in a forked child that has not called it),
 * CW_EINVAL without a release, CW_ESPOOL if the spool cannot take the
 * session's marker. cw_end_session() ends the open session `exited` and
 * queues its update in the spool: 0 (also when no session is open), or
 * the spool's error. Normal context, any thread; they write small files
 * (an update is fsync'd), so not in a hot loop. */
CW_EXTERN int cw_start_session(void);
CW_EXTERN int cw_end_session(void);

/* Gives the calling thread an alternate signal stack (2 MiB, a guard page
 * below it) so a stack overflow on it is still reported. With
 * libcrashwatch.so, every thread created with pthread_create() after
 * cw_init() gets one by itself (pthread_create is interposed); call this at
 * the start of threads created before cw_init(), by other means (clone),
 * or with libcrashwatch.a. The stack is freed when the thread exits (a
 * pthread key destructor; a thread made by clone() without pthreads keeps
 * it). Idempotent. Normal context, on the thread itself; works before
 * cw_init() too. A forked child's thread keeps the stack of the thread
 * that forked (the kernel copies the alternate stack setting). */
CW_EXTERN int cw_thread_init(void);

/*
 * Puts crashwatch's handlers back in the kernel after the program (or a
 * library) installed its own in a way interposition does not see: a raw
 * rt_sigaction system call, libcrashwatch.a, a dlopen()ed library, or
 * interception off. A handler found in place of crashwatch's becomes the
 * program's handler: it still runs first on a crash (see
 * cw_options_set_intercept_signals). CW_ENOTINIT before cw_init(), after
 * cw_shutdown(), and in a forked child that has not called cw_init().
 * Normal context (not from a signal handler: it takes crashwatch's lock),
 * any thread.
 */
CW_EXTERN int cw_reinstall(void);

/* ---- Scope --------------------------------------------------------- */

/*
 * The scope: context that travels with every crash report (Sentry's event
 * fields tags, extra, user, contexts, breadcrumbs, fingerprint, level,
 * transaction, contexts.trace; docs/scope.md). Each call writes straight
 * into a memory mapping the watchdog shares, so the crash path serializes
 * nothing, and a crash at any moment, even inside one of these calls on
 * another thread, still gives a valid report: an entry caught half
 * written is left out (or keeps its previous value), never garbled.
 *
 * Common rules of every function in this section:
 *   - Before cw_init() and after cw_shutdown() it does nothing and returns
 *     CW_ENOTINIT (cw_clear_scope: does nothing).
 *   - Thread-safe: any thread may call any of them at any time, also
 *     while cw_init() or cw_shutdown() runs on another thread.
 *   - Async-signal-safe ("any context"): cw_add_breadcrumb() only. The
 *     others are "normal context": they take a short spin lock, which a
 *     signal handler could find held by the thread it interrupted.
 *   - No allocation, and no system call unless another thread holds the
 *     same entry (then it yields after a short spin).
 *   - Strings are copied; UTF-8 is expected. A string longer than its limit
 *     is cut on a character boundary and ends with "\xe2\x80\xa6" (U+2026,
 *     "..."), within the limit; limits count bytes and exclude the NUL.
 *   - JSON arguments must be one complete JSON text in valid UTF-8 (objects
 *     where the name says so): CW_EFORMAT otherwise; CW_ETOOBIG if longer
 *     than its limit (JSON is never cut). CW_EINVAL for a NULL or empty
 *     key or a NULL required argument.
 *   - A forked child starts with a copy of its parent's scope; from the
 *     fork on, each changes only its own (docs/scope.md).
 *
 * Limits: keys and context names 63 bytes; tag values 255; extra values
 * and context objects 2047 bytes of JSON; user fields, transaction,
 * fingerprint parts and server_name 255; dist 63; breadcrumb type 31,
 * category 63, message 511, data 1023 bytes of JSON; 64 tags, 32 extra
 * entries, 16 contexts, 8 fingerprint parts, 8 attachments (CW_ENOSPC
 * past a count; an existing key can always be set again).
 */

/* Severity of an event or a breadcrumb (Sentry's levels). */
typedef enum {
  CW_LEVEL_DEBUG = 0,
  CW_LEVEL_INFO = 1,
  CW_LEVEL_WARNING = 2,
  CW_LEVEL_ERROR = 3,
  CW_LEVEL_FATAL = 4
} cw_level_t;

/* Tag key -> value (both text; event "tags"). Setting an existing key
 * replaces its value. Removing a key that is not set returns 0. Normal
 * context, any thread. */
CW_EXTERN int cw_set_tag(const char *key, const char *value);
CW_EXTERN int cw_remove_tag(const char *key);

/* Extra key -> any JSON value (event "extra"), e.g. "42", "\"text\"",
 * "{\"a\":[1,2]}". Normal context, any thread. */
CW_EXTERN int cw_set_extra(const char *key, const char *json);
CW_EXTERN int cw_remove_extra(const char *key);

/* The user (event "user"). Any argument may be NULL (left out); all NULL
 * clears the user. crashwatch adds no user data of its own (see
 * cw_options_set_send_default_pii). Normal context, any thread. */
CW_EXTERN int cw_set_user(const char *id, const char *email,
                          const char *username, const char *ip_address);

/* A named context (event "contexts"), a JSON object: a Kafka consumer sets
 * cw_set_context("kafka", "{\"topic\":\"t\",\"partition\":3,\"offset\":7}").
 * The "trace" context comes from cw_set_trace(). Normal context, any
 * thread. */
CW_EXTERN int cw_set_context(const char *name, const char *json_object);
CW_EXTERN int cw_remove_context(const char *name);

/* The event's fingerprint (how Sentry groups it): n parts; n == 0 clears
 * it (the default grouping). CW_ETOOBIG above 8 parts. Normal context,
 * any thread. */
CW_EXTERN int cw_set_fingerprint(const char *const *parts, size_t n);

/* The event's level; unset, a crash is "fatal". CW_EINVAL for a value
 * outside cw_level_t. Normal context, any thread. */
CW_EXTERN int cw_set_level(cw_level_t level);

/* The event's transaction (the request or job that was running); NULL
 * clears it. Normal context, any thread. */
CW_EXTERN int cw_set_transaction(const char *name);

/* Empties the scope: tags, extra, contexts, user, fingerprint, level,
 * transaction, trace and breadcrumbs. Attachments and the options (release,
 * dist, server_name...) stay. Normal context, any thread. */
CW_EXTERN void cw_clear_scope(void);

/*
 * Adds a breadcrumb (event "breadcrumbs.values", oldest first). Every
 * argument but level may be NULL; data_json, if given, is a JSON object.
 * The timestamp is taken at the call (the kernel's coarse real-time clock:
 * a resolution of one scheduler tick, 1-4 ms; the order of crumbs is
 * exact). The newest max_breadcrumbs are kept (a ring, default 100).
 * CW_EBUSY in the rare case that the ring is so small for the number of
 * threads adding at once that every slot tried is still being written.
 * Any context (async-signal-safe), any thread; no allocation, no system
 * call.
 */
CW_EXTERN int cw_add_breadcrumb(const char *type, const char *category,
                                const char *message, cw_level_t level,
                                const char *data_json);

/*
 * Trace correlation (OpenTelemetry, W3C Trace Context): the event carries
 * contexts.trace {trace_id, span_id, type: "trace"}, so the crash links to
 * the distributed trace that caused it. cw_set_trace() takes a 32- and a
 * 16-digit hex id (either case; stored lowercase); cw_set_traceparent() a
 * "traceparent" header, "00-<32 hex>-<16 hex>-<2 hex>" in lowercase.
 * CW_EINVAL for another version, wrong lengths, non-hex digits or an
 * all-zero id. cw_set_trace(NULL, NULL) clears it. At cw_init(),
 * $TRACEPARENT (OpenTelemetry's environment carrier) is taken if valid,
 * and ignored if not. Normal context, any thread.
 */
CW_EXTERN int cw_set_trace(const char *trace_id_hex32,
                           const char *span_id_hex16);
CW_EXTERN int cw_set_traceparent(const char *w3c_header);

/*
 * Registers a file (a log, a config) that the watchdog copies into the
 * report at a crash, keeping its last attachment_max_bytes (the tail of a
 * log is what matters); the uploader sends it as an attachment. A relative
 * path is taken against the working directory now. The file need not
 * exist yet; one missing at the crash is left out. Registering a path twice
 * adds it once. CW_ETOOBIG for a path of 4096 bytes or more, CW_ENOSPC
 * past 8 files (those from cw_options_add_attachment() included).
 * Normal context, any thread.
 */
CW_EXTERN int cw_add_attachment(const char *path);

/* ---- Scope options ------------------------------------------------- */

/* Same as cw_add_attachment(), registered at cw_init() (a relative path
 * is taken against the working directory of this call); returns
 * CW_EINVAL/CW_ETOOBIG/CW_ENOSPC as it does. Like every cw_options_*
 * function: normal context, one thread at a time per options object. */
CW_EXTERN int cw_options_add_attachment(cw_options_t *opts, const char *path);
/* The tail kept of each attachment, in bytes: 1..2^30, default 262144
 * (256 KiB; $CRASHWATCH_ATTACHMENT_MAX_BYTES). */
CW_EXTERN int cw_options_set_attachment_max_bytes(cw_options_t *opts,
                                                  size_t max_bytes);
/* The event's dist (a release's build variant; $SENTRY_DIST); at most 63
 * bytes kept. */
CW_EXTERN int cw_options_set_dist(cw_options_t *opts, const char *dist);
/* The event's server_name; default: the host name at cw_init(). */
CW_EXTERN int cw_options_set_server_name(cw_options_t *opts,
                                         const char *server_name);
/* Breadcrumbs kept, 0..1000 (0: none); default 100
 * ($CRASHWATCH_MAX_BREADCRUMBS). */
CW_EXTERN int cw_options_set_max_breadcrumbs(cw_options_t *opts,
                                             unsigned max_breadcrumbs);
/* Off (the default): crashwatch adds no personal data of its own to a
 * report (no IP address, no user); what the program sets with
 * cw_set_user() is sent as set. On ($CRASHWATCH_SEND_DEFAULT_PII=1): the
 * watchdog is told, and may add what Sentry SDKs add under the same
 * option (docs/scope.md). */
CW_EXTERN int cw_options_set_send_default_pii(cw_options_t *opts, int on);

/* ---- Events besides crashes ---------------------------------------- */

/*
 * Messages, events and dumps of the live process (issue 11;
 * docs/events.md). Each becomes a report in the spool, in the same layout
 * as a crash's (event.json; a dump adds minidump.dmp), carrying the scope
 * as it was at the call (tags, user, contexts, trace, level, transaction,
 * release, environment, dist, server_name and the breadcrumbs added
 * before the call; attachments are a crash's only), and is delivered like
 * any report. The caller pays for formatting into a bounded buffer and
 * one datagram to the watchdog; the JSON, the files, fsync and
 * symbolization happen in the watchdog. With the lazy watchdog
 * (cw_options_set_lazy_watchdog), the first such request wakes its idle
 * stage, which exec()s the full watchdog (resident from then on).
 *
 * Common rules:
 *   - CW_ENOTINIT before cw_init(), after cw_shutdown(), and in a forked
 *     child that has not called cw_init() itself.
 *   - Sampling: with cw_options_set_sample_rate() below 1, a message or
 *     event is kept with that probability; one sampled out returns 0
 *     and is counted as dropped. Dumps and crashes are never sampled.
 *   - The per-minute cap (cw_options_set_max_events_per_minute, default
 *     60) counts messages, events and dumps; past it a call returns
 *     CW_ERATELIMIT and the event is counted as dropped.
 *   - CW_EAGAIN when the watchdog is so far behind that the socket is
 *     full (nothing is waited for; the event is counted as dropped);
 *     CW_EWATCHDOG when the watchdog is gone.
 *   - Drops are reported: the next event sent carries
 *     extra "crashwatch.dropped_events" (how many since the previous one),
 *     and cw_events_dropped() gives the total.
 *   - An event of level error or fatal counts as an error of the release
 *     health session (issue 11's sessions).
 */

/*
 * A message event: printf-style fmt and arguments, formatted in the
 * caller into a buffer on its stack, at most 8192 bytes of text; a longer
 * text is cut on a UTF-8 character boundary and ends with "\xe2\x80\xa6"
 * (U+2026), within the limit. level is the event's level (Sentry's
 * "debug" ... "fatal"); CW_EINVAL for another value or a NULL fmt. With
 * attach_stacktrace on, the event also carries the calling thread's
 * stack (the caller then waits until the watchdog has copied it).
 * Normal context, any thread.
 */
CW_EXTERN int cw_capture_message(cw_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * An event the application built: event_json is one Sentry event as a
 * JSON object (valid UTF-8, nested at most 24 deep), at most 65536 bytes:
 * CW_EFORMAT otherwise,
 * CW_ETOOBIG if longer. The scope is merged in as Sentry's SDKs do: the
 * event's own members win; tags, extra and contexts are merged key by key
 * (the event's keys win); breadcrumbs, user, fingerprint, level, release
 * and the others come from the scope only when the event has none. An
 * event_id of 32 hex digits is kept (it names the report); another is
 * replaced. Without "level" the event is "error", as Sentry takes it.
 * Normal context, any thread.
 */
CW_EXTERN int cw_capture_event(const char *event_json);

/*
 * A report of the live process, which then goes on: a minidump of every
 * thread (the calling thread is the current one, its stack from this
 * call; the minidump's exception code is Breakpad's DUMP_REQUESTED,
 * 0xFFFFFFFF) and an event of level "error" with message (NULL: "Dump
 * requested") and the scope. The process is paused only while the
 * watchdog copies it out (ptrace, as for a crash; see bench/events for
 * the figures); the call returns once it is released (0, or the
 * capture's error), the report is written after that. The caller waits
 * at most ack_timeout_ms (CW_ETIMEDOUT). One dump at a time per process:
 * a second caller waits for the first. Counts against the per-minute
 * cap; never sampled. Needs the same ptrace rights as a crash report.
 * Normal context, any thread.
 */
CW_EXTERN int cw_capture_dump(const char *message);

/* Events dropped since cw_init() by sampling, the per-minute cap or a full
 * socket. Any context, any thread. */
CW_EXTERN unsigned long long cw_events_dropped(void);

/* The probability that a message or event is sent, 0.0 ... 1.0 (default
 * 1.0: all; $SENTRY_SAMPLE_RATE). CW_EINVAL outside that range. Crashes
 * and dumps are always kept. */
CW_EXTERN int cw_options_set_sample_rate(cw_options_t *opts, double rate);
/* The seed of the sampling's generator (0, the default: from the clock),
 * so a test can make sampling reproducible. */
CW_EXTERN int cw_options_set_sample_seed(cw_options_t *opts,
                                         unsigned long long seed);
/* At most this many messages, events and dumps per minute of the process
 * (0: no cap; default 60; $CRASHWATCH_MAX_EVENTS_PER_MINUTE), so a hot
 * error loop cannot fill the disk or the quota. The window is the minute
 * of CLOCK_MONOTONIC. */
CW_EXTERN int cw_options_set_max_events_per_minute(cw_options_t *opts,
                                                   unsigned per_minute);
/* Off (the default): a message or event carries no stack. On
 * ($CRASHWATCH_ATTACH_STACKTRACE=1): it carries the calling thread's
 * stack, unwound and symbolized in the watchdog; the caller waits while
 * the watchdog copies its stack (docs/events.md has the cost). */
CW_EXTERN int cw_options_set_attach_stacktrace(cw_options_t *opts, int on);
/* A signal (e.g. SIGQUIT) on which crashwatch takes a dump of the live
 * process, as cw_capture_dump("Dump requested by signal SIGQUIT") would,
 * from its handler (async-signal-safe): a supervisor's way to snapshot a
 * wedged process. 0 (the default): none. CW_EINVAL for a crash signal,
 * SIGKILL, SIGSTOP or a number outside 1..SIGRTMAX. The handler is
 * installed at cw_init() (SA_RESTART, on the alternate stack) and the
 * previous disposition put back at cw_shutdown(); a later sigaction()
 * of the program for that signal replaces it (it is not interposed). A
 * signal that comes while a dump is running is dropped (counted). */
CW_EXTERN int cw_options_set_dump_signal(cw_options_t *opts, int signo);

#ifdef __cplusplus
}
#endif

#endif /* CRASHWATCH_H */
