/*
 * sup_internal.h — what the supervisor's files share (private to
 * supervisor/; normal context).
 */
#ifndef CW_SUP_INTERNAL_H
#define CW_SUP_INTERNAL_H

#include <stddef.h>
#include <sys/types.h>

#include "supervisor.h"

/* ---- child.c ---- */

/* Starts cfg's program: in its own process group with cfg->pgroup (and in
 * the terminal's foreground), with the preload environment in preload
 * mode, seized with ptrace (cw__sup_ptrace_options) before it execs in
 * ptrace mode. Returns 0 with *pid set, or the shell's status (126/127)
 * after printing why the exec failed. */
int cw__sup_spawn(const cw__sup_config_t *cfg, pid_t *pid);

/* The environment of the program in preload mode: environ with
 * cfg->preload appended to LD_PRELOAD and the CRASHWATCH_* / SENTRY_*
 * settings of cfg set. One malloc'd block (free it), NULL on ENOMEM. */
char **cw__sup_preload_env(const cw__sup_config_t *cfg);

/* ---- ptrace.c ---- */

/* The ptrace options of every traced task. */
#define CW__SUP_PTRACE_OPTIONS                                                 \
  (PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |            \
   PTRACE_O_EXITKILL)

typedef struct cw__sup_tracer cw__sup_tracer_t;

/* A tracer of the program whose first task is pid (seized already). */
cw__sup_tracer_t *cw__sup_tracer_new(const cw__sup_config_t *cfg, pid_t pid);
void cw__sup_tracer_free(cw__sup_tracer_t *t);

/* Handles a ptrace stop of tid (waitpid status st): resumes it, passing
 * its signal on, after capturing a crash at a crash signal's delivery
 * stop. Updates res (crashes, crash_signal, report). */
void cw__sup_tracer_stop(cw__sup_tracer_t *t, pid_t tid, int st,
                         cw__sup_result_t *res);
/* tid has exited: forget it. */
void cw__sup_tracer_gone(cw__sup_tracer_t *t, pid_t tid);
/* The watchdogs this tracer started and not yet reaped (reaping them is
 * the main loop's: it owns waitpid(-1); cw__sup_tracer_gone forgets). */
int cw__sup_tracer_is_helper(cw__sup_tracer_t *t, pid_t pid);
size_t cw__sup_tracer_helpers(const cw__sup_tracer_t *t);

/* ---- wd_client.c ---- */

#include "crash_record.h"

/* Starts cfg->watchdog for the crashed process rec->pid (stopped, not
 * traced), sends it rec and waits for its ack (the report is committed).
 * Returns 0 or a negative CW_E* code; *wd_pid is the watchdog's pid (to
 * reap) or -1, report (cap bytes) the report's directory when found. */
int cw__sup_wd_capture(const cw__sup_config_t *cfg,
                       const cw__crash_record_t *rec, pid_t *wd_pid,
                       char *report, size_t cap);

/* ---- reports.c ---- */

/* The report ids in a spool at one moment. */
typedef struct {
  char **ids;
  size_t n;
} cw__sup_spool_ids_t;

/* Lists the spool's reports into ids (empty when it cannot be read). */
void cw__sup_spool_ids(const char *spool, cw__sup_spool_ids_t *ids);
void cw__sup_spool_ids_free(cw__sup_spool_ids_t *ids);
/* Writes to out (cap bytes) the path of a report in spool that is not in
 * before (the newest such), or "" when there is none. Returns the
 * number of new reports. */
int cw__sup_spool_new_report(const char *spool,
                             const cw__sup_spool_ids_t *before, char *out,
                             size_t cap);

#endif
