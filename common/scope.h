/*
 * scope.h — the reader's view of the scope (issue 10): what the watchdog
 * gets out of the shared scope mapping that the application's cw_set_*,
 * cw_add_breadcrumb... calls fill (handler/scope.c is the writer; the
 * mapping's layout and its consistency rules are in docs/scope.md).
 *
 * cw__scope_snapshot() copies a consistent view out of the mapping: an
 * entry torn by a write in progress is dropped or read at its previous
 * value, never returned half-written. Every string in the snapshot is
 * NUL-terminated, valid UTF-8 and owned by the snapshot; JSON values
 * (extra, contexts, breadcrumb data) are complete JSON texts that the
 * writer validated. Unset strings are NULL; empty arrays have n == 0.
 *
 * Not signal-safe (it allocates): the watchdog calls it, never the handler.
 */
#ifndef CW_SCOPE_H
#define CW_SCOPE_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  const char *key;
  const char *value; /* a string for tags; JSON text for extra, contexts */
} cw__scope_kv_t;

typedef struct {
  int64_t timestamp_ns; /* CLOCK_REALTIME at the cw_add_breadcrumb call */
  int level;            /* a CW_LEVEL_* value */
  const char *type;     /* NULL when unset */
  const char *category;
  const char *message;
  const char *data_json; /* a JSON object, or NULL */
} cw__scope_crumb_t;

typedef struct {
  cw__scope_kv_t *tags;
  size_t ntags;
  cw__scope_kv_t *extra;
  size_t nextra;
  cw__scope_kv_t *contexts; /* name -> JSON object */
  size_t ncontexts;
  const char *user_id, *user_email, *user_username, *user_ip_address;
  const char **fingerprint;
  size_t nfingerprint;
  int level; /* a CW_LEVEL_* value, or -1 when unset (a crash is fatal) */
  const char *transaction;
  const char *trace_id;      /* 32 lowercase hex digits, or NULL */
  const char *span_id;       /* 16 lowercase hex digits, or NULL */
  cw__scope_crumb_t *crumbs; /* oldest first */
  size_t ncrumbs;
  const char **attachments; /* absolute paths registered by the app */
  size_t nattachments;
  size_t attachment_max_bytes; /* tail kept of each attachment */
  const char *dist;
  const char *server_name;
  int send_default_pii;
  /* The open release-health session, if any (session_sid NULL if none):
   * its id, the process it belongs to, its start, the errors counted. */
  const char *session_sid;
  int session_pid;
  int64_t session_started_ms;
  uint32_t session_errors;
} cw__scope_snapshot_t;

/* Fills *out from the mapping [map, map + len). Returns 0, or a negative
 * CW_E* code when the mapping is not a scope mapping (bad magic, version or
 * size): *out is then empty, and the event carries no scope. */
int cw__scope_snapshot(const void *map, size_t len, cw__scope_snapshot_t *out);
/* The same, with only the breadcrumbs whose ring position is below
 * crumb_end (the ring's head when an event was asked for: the crumbs
 * added before it). */
int cw__scope_snapshot_until(const void *map, size_t len, uint64_t crumb_end,
                             cw__scope_snapshot_t *out);
void cw__scope_snapshot_free(cw__scope_snapshot_t *s);

#endif
