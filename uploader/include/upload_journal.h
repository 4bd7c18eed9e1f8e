/*
 * upload_journal.h — the delivery journal: a small, bounded record in the
 * spool of the reports the server accepted, which leave the spool at that
 * moment. `crashwatch list --all` and `crashwatch show` read it so an
 * operator can find a delivered crash on the server. Normal context.
 *
 * <spool>/.state/delivered holds one JSON object per line, oldest first:
 *   {"time_ms":..., "event_id":"...", "server_event_id":"...",
 *    "server":"<URL, credentials redacted>", "status":200,
 *    "program":"...", "what":"SIGSEGV|<level>", "title":"...",
 *    "top_frame":"...", "timestamp":"<the event's>", "pid":N}
 * Bounded: past CW_JOURNAL_MAX_BYTES the file is rewritten with its newest
 * lines that fit in half of that (a few hundred deliveries remain).
 *
 * Safety (docs/security.md): .state/ is opened with the spool's trust rule
 * (cw__spool_open_subdir: owned by this user, writable by no one else); the
 * journal is opened relative to it with O_NOFOLLOW|O_NONBLOCK and used only
 * if it is a regular file owned by this user; the rewrite goes through
 * cw__spool_write_atomic_at (exclusive temporary file, fsync, rename). An
 * append is one write() to an O_APPEND descriptor, so concurrent uploaders
 * never interleave lines. The journal is informational: failing to write it
 * never keeps a report in the spool, and a line lost in a crash or a race
 * with a rewrite costs only history. Readers skip malformed lines.
 */
#ifndef CW_UPLOADER_UPLOAD_JOURNAL_H
#define CW_UPLOADER_UPLOAD_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#define CW_JOURNAL_FILE "delivered"
#define CW_JOURNAL_MAX_BYTES (64 * 1024)
#define CW_JOURNAL_MAX_LINE 2048

typedef struct {
  int64_t time_ms; /* when the server accepted it */
  char event_id[33];
  char server_event_id[80]; /* the server's answer ("" if it gave none) */
  char server[256];         /* where it went, credentials redacted */
  long status;              /* HTTP status */
  char program[128];
  char what[40]; /* the signal ("SIGSEGV") or the event's level */
  char title[256];
  char top_frame[256];
  char timestamp[40]; /* the event's own time (RFC 3339) */
  long long pid;      /* 0: unknown */
} cw__journal_entry_t;

/* Appends e to <spool>/.state/delivered (creating it 0600), trimming the
 * file when it grows past CW_JOURNAL_MAX_BYTES. Returns 0 or a CW_E* code
 * (CW_ESPOOL: .state/ or the journal is not trusted or not a regular
 * file). */
int cw__journal_append(const char *spool_dir, const cw__journal_entry_t *e);

/* Reads the journal, oldest first, skipping malformed lines. *out is
 * malloc'd (free()); a missing journal gives 0 entries and returns 0.
 * CW_EFORMAT if it is not a regular file; another CW_E* code on error. */
int cw__journal_read(const char *spool_dir, cw__journal_entry_t **out,
                     size_t *n);

/* The server's id for the event, from the start of its answer: Sentry's
 * {"id":"<32 hex>"}, a Breakpad-style collector's "CrashID=bp-..." line;
 * else "". At most cap - 1 bytes of [A-Za-z0-9._:-]. */
void cw__journal_server_id(const char *body, char *out, size_t cap);

#endif
