/* envelope.c — a loaded report as a Sentry envelope; see envelope.h. */
#include "envelope.h"

#include <stdio.h>
#include <time.h>

#include "crashwatch.h"
#include "json.h"

void cw__format_rfc3339(int64_t ms, char *out, size_t cap) {
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  char base[32];
  strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, cap, "%s.%03dZ", base, (int)(ms % 1000));
}

static void item_header(cw__buf_t *out, const char *type, size_t len,
                        const report_file_t *f) {
  cw__json_t j;
  cw__json_init(&j, out, 0);
  cw__json_begin_object(&j);
  cw__json_key(&j, "type");
  cw__json_string(&j, type);
  cw__json_key(&j, "length");
  cw__json_uint(&j, len);
  if (f != NULL) {
    cw__json_key(&j, "filename");
    cw__json_string(&j, f->name);
    cw__json_key(&j, "attachment_type");
    cw__json_string(&j, f->is_minidump ? "event.minidump" : "event.attachment");
    cw__json_key(&j, "content_type");
    cw__json_string(&j, f->is_minidump ? "application/x-dmp"
                                       : cw__report_content_type(f->name));
  }
  cw__json_end_object(&j);
  cw__buf_append(out, "\n", 1);
}

int cw__envelope_encode(const report_t *r, const char *dsn, int64_t now_ms,
                        cw__buf_t *out) {
  return cw__envelope_encode_items(r, dsn, now_ms, CW__ENV_ALL, NULL, 0, out);
}

int cw__envelope_encode_items(const report_t *r, const char *dsn,
                              int64_t now_ms, unsigned items,
                              const char *session_json, size_t session_len,
                              cw__buf_t *out) {
  int with_event = (items & CW__ENV_EVENT) && r->event_json != NULL;
  char sent_at[40];
  cw__format_rfc3339(now_ms, sent_at, sizeof(sent_at));
  cw__json_t j;
  cw__json_init(&j, out, 0);
  cw__json_begin_object(&j);
  if (with_event) {
    cw__json_key(&j, "event_id");
    cw__json_string(&j, r->event_id);
  }
  if (dsn != NULL) {
    cw__json_key(&j, "dsn");
    cw__json_string(&j, dsn);
  }
  cw__json_key(&j, "sdk");
  cw__json_begin_object(&j);
  cw__json_key(&j, "name");
  cw__json_string(&j, CW_SDK_NAME);
  cw__json_key(&j, "version");
  cw__json_string(&j, CW_VERSION_STRING);
  cw__json_end_object(&j);
  cw__json_key(&j, "sent_at");
  cw__json_string(&j, sent_at);
  cw__json_end_object(&j);
  cw__buf_append(out, "\n", 1);

  if (with_event) {
    item_header(out, "event", r->event_len, NULL);
    cw__buf_append(out, r->event_json, r->event_len);
    cw__buf_append(out, "\n", 1);
  }
  if ((items & CW__ENV_SESSION) && session_json != NULL) {
    item_header(out, "session", session_len, NULL);
    cw__buf_append(out, session_json, session_len);
    cw__buf_append(out, "\n", 1);
  }
  for (size_t i = 0;
       with_event && (items & CW__ENV_ATTACHMENTS) && i < r->nfiles; i++) {
    item_header(out, "attachment", r->files[i].len, &r->files[i]);
    cw__buf_append(out, r->files[i].data, r->files[i].len);
    cw__buf_append(out, "\n", 1);
  }
  return out->oom ? CW_ENOMEM : 0;
}
