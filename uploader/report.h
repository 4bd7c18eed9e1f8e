/*
 * report.h — one spooled report loaded for sending, and its encodings
 * (normal context).
 *
 * A report is <spool>/<event_id>/ with event.json (required, a JSON object),
 * minidump.dmp (optional) and other attachment files. Names starting with
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
  char *event_json; /* NUL-terminated, event_len bytes */
  size_t event_len;
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

/*
 * Sentry envelope:
 *   {"event_id":..,"dsn":..,"sdk":{"name":..,"version":..},"sent_at":..}\n
 *   {"type":"event","length":N}\n<event.json>\n
 *   {"type":"attachment","length":N,"filename":"minidump.dmp",
 *    "attachment_type":"event.minidump",...}\n<bytes>\n
 *   ... one attachment item per other file (attachment_type event.attachment,
 *   content_type from cw__report_content_type)
 * dsn may be NULL (omitted). now_ms gives sent_at. Appends to out; returns 0
 * or CW_ENOMEM.
 */
int cw__envelope_encode(const report_t *r, const char *dsn, int64_t now_ms,
                        cw__buf_t *out);

/*
 * Breakpad-style multipart/form-data body: the annotation fields, the event
 * JSON in a "sentry" field, the minidump as file part "upload_file_minidump"
 * and each other attachment as a file part named after its file, with its
 * Content-Type from cw__report_content_type (the minidump's part keeps
 * application/octet-stream, as Breakpad's sender writes it). boundary
 * must not occur in the data (use cw__multipart_boundary). Returns 0 or
 * CW_ENOMEM.
 */
int cw__multipart_encode(const report_t *r, const upload_field_t *fields,
                         size_t nfields, const char *boundary, cw__buf_t *out);

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

/* A random boundary ("------------------------crashwatch" + 24 hex) that
 * does not occur in any of r's data. cap >= 64. */
void cw__multipart_boundary(const report_t *r, char *out, size_t cap);

/* RFC 3339 UTC with milliseconds: "2026-11-25T12:41:34.123Z". */
void cw__format_rfc3339(int64_t ms, char *out, size_t cap);

#endif
