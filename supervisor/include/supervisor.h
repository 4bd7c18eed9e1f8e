/*
 * supervisor.h — `crashwatch run`: running a program as its supervisor and
 * container entrypoint (normal context, in the crashwatch process).
 *
 * The supervisor starts the program, forwards the stop and control signals
 * to it, reaps every zombie that ends up with it (it is a child subreaper,
 * or PID 1), gets its crashes reported in the same format as the linked
 * library's, and returns its exit status. Two ways of capturing
 * (docs/supervisor.md):
 *   preload  libcrashwatch-preload.so in LD_PRELOAD: cw_init() runs in the
 *            program, from the CRASHWATCH_* settings in its environment;
 *   ptrace   the supervisor traces the program (PTRACE_SEIZE) and, at a
 *            crash signal's delivery stop, hands the stopped process to
 *            crashwatch-watchdog, then lets the signal take its course.
 * Everything borrowed stays the caller's; nothing here frees it.
 */
#ifndef CW_SUPERVISOR_H
#define CW_SUPERVISOR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"

typedef enum {
  CW__SUP_AUTO = 0,    /* ptrace for static or setuid/setgid programs */
  CW__SUP_PRELOAD = 1, /* LD_PRELOAD libcrashwatch-preload.so */
  CW__SUP_PTRACE = 2,  /* trace the program, capture at the delivery stop */
} cw__sup_mode_t;

/* Hooks into the main loop for what runs beside the program (the
 * --on-crash hooks, background uploads, the crash-loop window): tick is
 * called on every wake-up and returns how many ms until it wants to be
 * called again (-1: no need); reaped is offered every child the loop
 * reaps that is not the program, and says 1 when it was one of its own.
 * Either may be NULL. */
typedef struct {
  long (*tick)(void *ctx);
  int (*reaped)(void *ctx, pid_t pid, int status);
  void *ctx;
} cw__sup_events_t;

#define CW__SUP_MAX_TAGS 64

typedef struct {
  char *const *argv;       /* the program and its arguments; argv[0] resolved */
  const char *path;        /* argv[0] as cw__sup_resolve() found it */
  cw__sup_mode_t mode;     /* PRELOAD or PTRACE (AUTO resolved by the caller) */
  int pgroup;              /* own process group; signals go to the group */
  const char *spool_dir;   /* where reports go (exists) */
  const char *preload;     /* libcrashwatch-preload.so (preload mode) */
  const char *watchdog;    /* crashwatch-watchdog (ptrace mode) */
  const char *release;     /* or NULL */
  const char *environment; /* or NULL */
  const char *tags[CW__SUP_MAX_TAGS]; /* "key=value" */
  size_t ntags;
  int print_summary; /* the watchdog's summary of a crash on stderr */
  int verbose;
  cw__sup_events_t events;
} cw__sup_config_t;

/* What one run of the program ended with. */
typedef struct {
  pid_t pid;
  int status;        /* its waitpid() status */
  int exit_code;     /* the shell's: status, or 128+N for death by signal N */
  int stop_signal;   /* a forwarded SIGTERM/SIGINT/SIGQUIT/SIGHUP, or 0 */
  int crashes;       /* crash reports the supervisor captured (ptrace) */
  int crash_signal;  /* the last crash's signal, or 0 */
  char report[4096]; /* the newest report this run wrote, or "" */
  int new_reports;   /* reports that appeared in the spool during the run */
  int64_t started_ms, ended_ms; /* CLOCK_MONOTONIC */
} cw__sup_result_t;

/* ---- resolve.c ---- */

/* Finds prog as a shell would (PATH when it has no '/'). Writes the path
 * to out (cap bytes). Returns 0, or the shell's exit status with a message
 * in err: 127 (not found) or 126 (found but not executable). */
int cw__sup_resolve(const char *prog, char *out, size_t cap, char *err,
                    size_t errlen);

/* ---- mode.c ---- */

/* The mode --mode=auto picks for the executable at path: PTRACE when it is
 * statically linked (no PT_INTERP: LD_PRELOAD cannot reach it) or setuid /
 * setgid (the dynamic linker ignores LD_PRELOAD), else PRELOAD. why (cap
 * bytes) says which, for the log. */
cw__sup_mode_t cw__sup_pick_mode(const char *path, char *why, size_t cap);

/* Waits ms (or until a stop signal: returned, else 0) while the program is
 * not running, reaping children and serving cfg->events. */
int cw__sup_idle(const cw__sup_config_t *cfg, int sigfd, long ms);

/* Waits up to ms while a crashwatch watchdog is among this process's
 * children: in preload mode the program's watchdog (reparented to the
 * supervisor, a subreaper or PID 1, when the program died) is still
 * symbolizing a committed report and printing its summary, and the
 * supervisor's exit would end it in a container. Returns early on a stop
 * signal. */
void cw__sup_wait_watchdogs(const cw__sup_config_t *cfg, int sigfd, long ms);

/* ---- hook.c ---- */

/* One crash, as the hook and the metrics see it. */
typedef struct {
  pid_t pid;
  int signo;     /* 0 when unknown */
  int exit_code; /* the program's, as a shell gives it */
  long count;    /* crashes of this signature in the window (1: first) */
  char report[4096];
  char summary[512];
} cw__sup_crash_t;

#define CW__SUP_MAX_HOOKS 8

typedef struct {
  const char *cmd; /* NULL: no hook */
  long timeout_ms;
  struct {
    pid_t pid;
    int64_t deadline_ms;
    int killed;
  } h[CW__SUP_MAX_HOOKS];
  size_t n;
} cw__sup_hooks_t;

void cw__sup_hooks_init(cw__sup_hooks_t *hs, const char *cmd, long timeout_ms);
/* Starts the hook for c without waiting for it; 0 or -1 (logged). */
int cw__sup_hook_start(cw__sup_hooks_t *hs, const cw__sup_crash_t *c);
/* pid was reaped with status st: 1 if it was a hook (a failure is logged). */
int cw__sup_hooks_reaped(cw__sup_hooks_t *hs, pid_t pid, int st);
/* Kills the hooks past their timeout; ms until the next deadline, or -1. */
long cw__sup_hooks_tick(cw__sup_hooks_t *hs);

/* ---- dedupe.c ---- */

/* The open crash loop: crashes of one signature since its first report. */
typedef struct {
  long window_ms;   /* --dedupe-window; 0: off */
  char key[1024];   /* cw__sup_event_sig_key of the first report, "" none */
  char first[4096]; /* its directory */
  int lock_fd;      /* its spool lock, held while the loop is open */
  int64_t first_ms; /* when it happened (CLOCK_MONOTONIC) */
  long count;
} cw__sup_dedupe_t;

void cw__sup_dedupe_init(cw__sup_dedupe_t *d, long window_ms);
/* A new crash report (directory report, with its signature key): when it
 * repeats the open loop's signature within the window, the report is
 * removed from the spool and the loop's count goes up, in the first
 * report's event too (extra "crashwatch.crash_count", tag
 * "crashwatch.crash_loop"); otherwise the open loop is closed and this
 * report opens a new one (locked: no uploader sends it while it may still
 * change). Returns the count (1 for a new loop). */
long cw__sup_dedupe_crash(cw__sup_dedupe_t *d, const char *spool,
                          const char *report, const char *key, int64_t now_ms);
/* Closes the open loop when its window has passed (or always, with
 * force): its report is unlocked, for the next upload. Returns 1 when a
 * loop was closed. */
int cw__sup_dedupe_expire(cw__sup_dedupe_t *d, int64_t now_ms, int force);
/* ms until the open loop's window ends, or -1. */
long cw__sup_dedupe_left(const cw__sup_dedupe_t *d, int64_t now_ms);

/* ---- restart.c ---- */

enum {
  CW__SUP_RESTART_NO = 0,
  CW__SUP_RESTART_ON_FAILURE = 1,
  CW__SUP_RESTART_ALWAYS = 2,
};

/* Restarts remembered for --max-restarts (a larger N counts these). */
#define CW__SUP_RESTART_RECENT 1024

typedef struct {
  int policy;         /* CW__SUP_RESTART_* */
  long delay_ms;      /* first delay (--restart-delay, 1 s) */
  long delay_max_ms;  /* cap (--restart-delay-max, 60 s) */
  long max_restarts;  /* per window; 0: no limit (--max-restarts) */
  long window_ms;     /* --restart-window (60 s) */
  long restarts;      /* restarts so far (metrics) */
  long next_delay_ms; /* state */
  int64_t recent[CW__SUP_RESTART_RECENT]; /* when each restart happened */
  size_t nrecent;
} cw__sup_restart_t;

/* Defaults: no restarts, delays 1 s doubling up to 60 s, no limit. */
void cw__sup_restart_init(cw__sup_restart_t *r);
/* "no", "on-failure", "always"; -1 for anything else. */
int cw__sup_restart_parse_policy(const char *s, int *policy);
/* After a run that ended with exit_code (the shell's), lasted ran_ms and
 * ended at now_ms (any monotonic clock, ms); stopped: the supervisor
 * forwarded a stop signal. Returns the delay before the next start (ms,
 * >= 0), or -1 with why (a static string) when there is none. */
long cw__sup_restart_next(cw__sup_restart_t *r, int exit_code, int stopped,
                          int64_t now_ms, int64_t ran_ms, const char **why);

/* ---- event_sig.c ---- */

/* How many in-app frames make a crash's signature. */
#define CW__SUP_SIG_FRAMES 3

/* What identifies a crash, from its event.json: the signal and the
 * innermost in-app frames' function names (innermost first), and the
 * innermost frame's function whatever its module. */
typedef struct {
  int signo; /* 0 when the event names none */
  char frames[CW__SUP_SIG_FRAMES][128];
  size_t nframes;
  char top[128];
} cw__sup_event_sig_t;

/* Reads a Sentry event (len bytes, outside input: any bytes). Returns 0,
 * or CW_EFORMAT when it is not JSON or has no exception (out is then
 * zeroed), CW_ENOMEM. */
int cw__sup_event_sig(const char *json, size_t len, cw__sup_event_sig_t *out);
/* The same from DIR/event.json (up to 64 MiB; CW_ENOENT without one). */
int cw__sup_event_sig_file(const char *report_dir, cw__sup_event_sig_t *out);
/* Reads DIR/event.json whole (malloc'd, NUL-terminated; free it). */
int cw__sup_event_read(const char *report_dir, char **data, size_t *len);
/* Sets member key of the event's top-level object `object` (NULL: of the
 * event itself) to the JSON text raw (not checked: the caller writes it),
 * replacing the member's value if there is one, creating the object if
 * needed. The event is outside input: parsed as cw__sup_event_sig does.
 * Writes the new event to *out (a fresh buffer; cw__buf_free it). 0,
 * CW_EFORMAT (not a JSON object, or `object` is not one), CW_ENOMEM. */
int cw__sup_event_set(const char *json, size_t len, const char *object,
                      const char *key, const char *raw, cw__buf_t *out);
/* "11|crash_here|caller|main": equal keys, same crash (cap bytes). */
void cw__sup_event_sig_key(const cw__sup_event_sig_t *sig, char *out,
                           size_t cap);

/* ---- signals.c ---- */

/* The signals forwarded to the program: SIGTERM, SIGINT, SIGHUP, SIGQUIT,
 * SIGUSR1, SIGUSR2, SIGWINCH. */
extern const int cw__sup_forwarded[7];

/* Prepares this process once: blocks the forwarded signals and SIGCHLD
 * (read through the returned signalfd), saves the mask the program will
 * start with, and becomes a child subreaper unless it is PID 1. Returns
 * the signalfd or a negative CW_E* code. */
int cw__sup_signals_setup(void);

/* The mask and dispositions the program starts with (in the child). */
void cw__sup_signals_restore_child(void);

/* ---- run.c ---- */

/* Runs the program once to its end: forwards signals, reaps zombies,
 * captures crashes (ptrace mode). sigfd is cw__sup_signals_setup()'s.
 * Before returning, waits (up to 10 s) for the watchdogs it started to
 * finish the reports' symbolization and summary. Returns 0 with res filled, or
 * the shell's status for a program that could not be started (126/127; 125 when
 * the supervisor itself failed) with a message on stderr. */
int cw__sup_run_once(const cw__sup_config_t *cfg, int sigfd,
                     cw__sup_result_t *res);

/* ---- log.c ---- */

/* One line "crashwatch run: ..." on stderr, in one write(). */
void cw__sup_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "SIGSEGV", or "signal N" (a static buffer for unnamed ones). */
const char *cw__sup_signame(int sig);

#endif
