/*
 * report.h — one spooled report loaded for sending (normal context). Its
 * encodings are envelope.h (Sentry) and multipart.h (Breakpad-style).
 *
 * A report is <spool>/<event_id>/ with event.json (a JSON object),
 * minidump.dmp (optional), session (a release-health session update,
 * optional) and other attachment files; a report with a session and no
 * event.json is a session-only report (docs/sessions.md). Names starting with
 * '.' are not part of the report. cw__report_load() reads everything into
 * memory and says precisely why a report is unusable, so the caller can
 * quarantine it with that reason.
 */
#ifndef CW_UPLOADER_REPORT_H
#define CW_UPLOADER_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "upload.h" /* upload_field_t */

typedef struct {
  char *name; /* file name inside the report */
  uint8_t *data;
  size_t len;
  int is_minidump;
} report_file_t;

typedef struct {
  char event_id[33];
  char *event_json; /* NUL-terminated, event_len bytes; NULL in a
                       session-only report */
  size_t event_len;
  char *session; /* the SPOOL_SESSION_FILE (session.h), NUL-terminated;
                    NULL if none */
  size_t session_len;
  report_file_t *files; /* attachments: minidump first, then by name */
  size_t nfiles;
} report_t;

/* Reports larger than this are refused as corrupt rather than read. */
#define REPORT_MAX_BYTES (512LL * 1024 * 1024)

/*
 * Loads <spool_dir>/<id>/. Returns 0; CW_EFORMAT if the report is unusable
 * (reason in err: missing event.json, event.json invalid JSON or not a JSON
 * object (common/json_check.h, default depth) at offset N, an unreadable
 * file...); another CW_E* code for an I/O error that may be
 * transient. Free with cw__report_free (also after failure).
 */
int cw__report_load(const char *spool_dir, const char *id, report_t *r,
                    char *err, size_t errlen);
void cw__report_free(report_t *r);

/* The MIME type a report file is sent with, from its name: text/plain
 * (.log, .txt, .out, .err), application/json (.json), application/xml
 * (.xml), text/csv (.csv), application/x-dmp (minidump.dmp), else
 * application/octet-stream. Sentry shows a text attachment inline. */
const char *cw__report_content_type(const char *name);

/* SDK identity used in envelopes and HTTP headers. */
#define CW_SDK_NAME "crashwatch"

/* The fields a multipart upload sends: the given ones (the annotations
 * configured with --field / cw__upload_config_add_field), then the event's
 * "release" and each of its "tags" (a string value) as a plain form field
 * of the tag's name, as Breakpad-style collectors (Socorro, Backtrace)
 * take a crash's attributes; the minidump carries the same pairs as
 * Crashpad simple annotations. A tag is left out when its name is taken
 * (a given field, "release", an earlier tag), reserved ("sentry",
 * "upload_file_*", anything starting "sentry"), empty, or longer than 255
 * bytes, and past CW_REPORT_MAX_FIELDS fields. event.json is parsed as
 * outside input (fuzz_report_fields): a malformed one yields the given
 * fields alone. Free with cw__report_fields_free(). */
#define CW_REPORT_MAX_FIELDS 128
typedef struct {
  upload_field_t v[CW_REPORT_MAX_FIELDS];
  size_t n;
  char *store[CW_REPORT_MAX_FIELDS * 2]; /* decoded names and values */
  size_t nstore;
} report_fields_t;

void cw__report_fields(const report_t *r, const upload_field_t *given,
                       size_t ngiven, report_fields_t *out);
void cw__report_fields_free(report_fields_t *f);

#endif
