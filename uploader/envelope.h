/* envelope.h — a loaded report as a Sentry envelope (normal context). */
#ifndef CW_UPLOADER_ENVELOPE_H
#define CW_UPLOADER_ENVELOPE_H

#include <stdint.h>

#include "buf.h"
#include "report.h"

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

/* What cw__envelope_encode_items puts in the envelope. */
#define CW__ENV_EVENT 1u       /* the event item (event.json) */
#define CW__ENV_ATTACHMENTS 2u /* the minidump and the other files */
#define CW__ENV_SESSION 4u     /* the session item (session_json) */
#define CW__ENV_ALL 7u

/*
 * The same envelope with only the items in `items`: the event (and its
 * event_id in the envelope header) if CW__ENV_EVENT and r has one; the
 * attachments if CW__ENV_ATTACHMENTS; a {"type":"session"} item with
 * session_json (session_len bytes, Sentry's session JSON from
 * cw__session_json) after the event if CW__ENV_SESSION and session_json
 * is not NULL. The rate limits of each item's category decide the items
 * (upload.c). Appends to out; returns 0 or CW_ENOMEM.
 */
int cw__envelope_encode_items(const report_t *r, const char *dsn,
                              int64_t now_ms, unsigned items,
                              const char *session_json, size_t session_len,
                              cw__buf_t *out);

/* RFC 3339 UTC with milliseconds: "2026-11-25T12:41:34.123Z". */
void cw__format_rfc3339(int64_t ms, char *out, size_t cap);

#endif
