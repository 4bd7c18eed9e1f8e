/*
 * wd_scope.h — what the watchdog does with the application's scope at a
 * crash (issue 10; normal context, watchdog process): copies the registered
 * attachments into the report (attachments.c) and merges the scope into
 * the Sentry event (event_scope.c), scrubbing values by key (common/scrub.h).
 * The scope itself comes from the shared mapping through common/scope.h.
 *
 * Private to watchdog/ (and its tests).
 */
#ifndef CW_WD_SCOPE_H
#define CW_WD_SCOPE_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "scope.h"
#include "scrub.h"

/* Tail kept of each attachment when the scope does not say. */
#define WD_ATTACHMENT_MAX_BYTES_DEFAULT (256u * 1024u)
/* Longest file name an attachment gets in the report. */
#define WD_ATTACHMENT_NAME_MAX 96

/* What became of one registered attachment. */
typedef struct {
  char *path;        /* as the application registered it */
  char *name;        /* its file name in the report, NULL if not copied */
  uint64_t size;     /* the file's size when it was read */
  uint64_t kept;     /* bytes copied: the last ones of the file */
  const char *error; /* why it was not copied (static), or NULL */
} wd_attachment_t;

typedef struct {
  wd_attachment_t *v;
  size_t n;
} wd_attachments_t;

typedef struct spool_report spool_report_t;

/*
 * Copies the last max_bytes (0: WD_ATTACHMENT_MAX_BYTES_DEFAULT) of each of
 * paths[0..n) into the report r, each under a name of its own made from the
 * path's last component (characters other than letters, digits, '.', '-'
 * and '_' become '_'; no leading '.'; event.json, minidump.dmp and earlier
 * attachments' names are not reused: "app.log", "app-2.log"). A file is
 * opened with cw__open_regular(): followed through symbolic links, read
 * with the watchdog's (the application's) own privileges, refused at once
 * unless it is a regular file (a FIFO or a device never blocks the
 * watchdog). A file that is missing or refused is noted in out (error),
 * never fatal. Returns 0, or a negative CW_E* code when the report itself
 * could not be written (out says what was copied so far). Free out with
 * cw__wd_attachments_free() in every case.
 */
int cw__wd_attachments_copy(spool_report_t *r, const char *const *paths,
                            size_t n, size_t max_bytes, wd_attachments_t *out);
void cw__wd_attachments_free(wd_attachments_t *a);

/* Everything the event needs besides the capture: the scope (NULL: none),
 * the scrub list, and what became of the attachments. */
typedef struct wd_event_scope {
  const cw__scope_snapshot_t *scope;
  const cw__scrub_t *scrub;
  const wd_attachments_t *attachments;
} wd_event_scope_t;

/* Sentry's name of a CW_LEVEL_* value ("debug" ... "fatal"); "fatal" for an
 * unset or unknown one (a crash). */
const char *cw__wd_level_name(int level);

/* ISO 8601 UTC with microseconds ("2026-12-01T13:19:55.123456Z"); out holds
 * 40 bytes. Never reads the time zone. */
void cw__wd_timestamp(uint64_t ns, char out[40]);

/*
 * The event's members that come from the scope, written into the open
 * top-level object of j: "dist", "tags", "user", "fingerprint",
 * "transaction", "breadcrumbs" ({"values": [...]}, oldest first). Each only
 * when the scope has it. Tags, and breadcrumb data at any depth, are
 * scrubbed. user: id, email, username and ip_address as the application
 * set them (cw_set_user); with send_default_pii, ip_address "{{auto}}"
 * (Sentry fills in the sender's address) when the application set none.
 * Without send_default_pii crashwatch adds no user data of its own.
 */
void cw__wd_event_scope_members(cw__json_t *j, const wd_event_scope_t *es);

/* For merging an application's event with the scope
 * (event_message.c): a key the event sets itself is skipped. */
typedef int (*wd_key_skip_fn)(void *ctx, const char *key);

/* One scope member by its event name ("dist", "transaction", "user",
 * "fingerprint", "breadcrumbs"), as cw__wd_event_scope_members writes it;
 * nothing when the scope has none. */
void cw__wd_event_scope_member(cw__json_t *j, const wd_event_scope_t *es,
                               const char *name);
/* The scope's tags as members of an open object, but the skipped. */
void cw__wd_event_scope_tags(cw__json_t *j, const wd_event_scope_t *es,
                             wd_key_skip_fn skip, void *ctx);
/* cw__wd_event_scope_extra and _contexts, but the skipped keys. */
void cw__wd_event_scope_extra_skip(cw__json_t *j, const wd_event_scope_t *es,
                                   wd_key_skip_fn skip, void *ctx);
void cw__wd_event_scope_contexts_skip(cw__json_t *j, const wd_event_scope_t *es,
                                      wd_key_skip_fn skip, void *ctx);

/* Members of the event's open "extra" object: the application's extras
 * (scrubbed; a key starting "crashwatch." is crashwatch's own and dropped)
 * and "crashwatch.attachments" (what was copied, what not and why). */
void cw__wd_event_scope_extra(cw__json_t *j, const wd_event_scope_t *es);

/* Members of the event's open "contexts" object: "trace" (trace_id,
 * span_id, type "trace") when the scope has a trace, then the
 * application's contexts (scrubbed; one named like a scrub pattern has all
 * its values filtered; one named "trace" only when the scope has no trace
 * of its own). The caller writes its own contexts ("os", "device") only
 * when the application set none of that name. */
void cw__wd_event_scope_contexts(cw__json_t *j, const wd_event_scope_t *es);

/* Whether the application set a context of this name (it then replaces
 * crashwatch's own, e.g. "device"). */
int cw__wd_event_scope_has_context(const wd_event_scope_t *es,
                                   const char *name);

#endif
