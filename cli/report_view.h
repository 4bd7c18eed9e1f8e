/*
 * report_view.h — the reports of a spool as `crashwatch list` and `show`
 * present them: what each one is (event summary, pid) and where its
 * delivery stands (pending, retrying, rate-limited, failed, uploaded).
 * Normal context.
 *
 * Sources: <spool>/<id>/ (pending; its .state/<id>.retry and the spool's
 * saved rate limits), <spool>/failed/<name>/ and <name>.reason (failed),
 * and the delivery journal <spool>/.state/delivered (uploaded, with
 * `all`). Nothing is locked or changed, so this runs beside an uploader;
 * nothing is followed through a symbolic link and only regular files are
 * read (the spool's rules, docs/security.md).
 */
#ifndef CW_CLI_REPORT_VIEW_H
#define CW_CLI_REPORT_VIEW_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "event_summary.h"
#include "json.h"
#include "upload_journal.h"

typedef enum {
  CW__RV_PENDING = 0, /* in the spool, nothing holds it back */
  CW__RV_RETRYING,    /* in the spool, failed attempts, next at next_ms */
  CW__RV_RATE_LIMITED,
  CW__RV_FAILED, /* in failed/ */
  CW__RV_UPLOADED,
} cw__rv_state_t;

typedef struct {
  char id[64];   /* the report's id: its directory's name (in failed/, without
                    a ".N" suffix), as the uploader and the journal name it */
  char name[64]; /* the entry's name in its directory */
  cw__rv_state_t state;
  char dir[PATH_MAX]; /* the report's directory; "" once uploaded */
  int64_t time_ms;    /* the event's time, else the directory's mtime */
  cw__event_summary_t ev;
  int attempts;
  int64_t next_ms; /* retrying: next attempt */
  char last_error[256];
  int64_t limited_until_ms; /* rate limited until */
  char reason[512];         /* failed: why */
  cw__journal_entry_t journal;
  int has_journal;
} cw__rv_t;

/* Checks that spool exists and is a readable directory; 0, or 1 with a
 * message on stderr naming cmd ("crashwatch list"). */
int cw__rv_check_spool(const char *cmd, const char *spool);

/* Every report of spool (with all, the journal's uploaded ones too),
 * oldest first. *out is malloc'd: free(). Returns 0 or a CW_E* code. */
int cw__rv_collect(const char *spool, int all, int64_t now_ms, cw__rv_t **out,
                   size_t *n);

/* One line for a state: "pending", "retrying at 16:30:02Z (2 attempts
 * failed: HTTP 500 ...)", "rate-limited until ...", "failed: reason",
 * "uploaded as <server id>". */
void cw__rv_state_text(const cw__rv_t *v, char *out, size_t cap);
/* "pending", "retrying", "rate_limited", "failed", "uploaded". */
const char *cw__rv_state_name(cw__rv_state_t s);

/* UTC time as "2026-12-01 16:24:10Z" (ms ignored); "-" for 0. */
void cw__rv_time_text(int64_t ms, char *out, size_t cap);

/* The report's fields as members of the current JSON object (list's and
 * show's --json): event_id, time, program, pid, thread, signal, level,
 * title, top_frame, dir, and "delivery": {state, ...}. */
void cw__rv_json_members(cw__json_t *j, const cw__rv_t *v);

#endif
