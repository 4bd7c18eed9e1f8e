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
#include <sys/types.h>

typedef enum {
  CW__SUP_AUTO = 0,    /* ptrace for static or setuid/setgid programs */
  CW__SUP_PRELOAD = 1, /* LD_PRELOAD libcrashwatch-preload.so */
  CW__SUP_PTRACE = 2,  /* trace the program, capture at the delivery stop */
} cw__sup_mode_t;

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
} cw__sup_config_t;

/* What one run of the program ended with. */
typedef struct {
  pid_t pid;
  int status;        /* its waitpid() status */
  int exit_code;     /* the shell's: status, or 128+N for death by signal N */
  int stop_signal;   /* a forwarded SIGTERM/SIGINT/SIGQUIT/SIGHUP, or 0 */
  int crashes;       /* crash reports the supervisor captured (ptrace) */
  int crash_signal;  /* the last crash's signal, or 0 */
  char report[4096]; /* the last report it captured, or "" */
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

#endif
