/*
 * event_scope.c — the application's scope in the Sentry event (normal
 * context, watchdog process; see wd_scope.h). Pure serialisation of a
 * scope snapshot: the values the application wrote are scrubbed by key on
 * their way out, and its JSON texts are re-emitted (never copied raw), so
 * a malformed one cannot break the event.
 *
 * Field shapes follow Sentry's event payload: tags an object of strings,
 * user {id, email, username, ip_address}, fingerprint an array of strings,
 * breadcrumbs {"values": [{timestamp, type, category, message, level,
 * data}]} oldest first, contexts.trace {trace_id, span_id, type "trace"}.
 */
#include <stdio.h>
#include <string.h>

#include "crashwatch.h"
#include "wd_scope.h"

const char *cw__wd_level_name(int level) {
  static const char *const names[] = {"debug", "info", "warning", "error",
                                      "fatal"};
  /* CW_LEVEL_DEBUG (0) ... CW_LEVEL_FATAL (4), in the order. */
  if (level >= 0 && level < (int)(sizeof(names) / sizeof(names[0])))
    return names[level];
  return "fatal";
}

/* Year, month (1-12) and day of the day `days` after 1970-01-01 in the
 * proleptic Gregorian calendar (the usual era-of-400-years arithmetic). */
static void civil_from_days(int64_t days, int64_t *y, unsigned *m,
                            unsigned *d) {
  days += 719468; /* from 0000-03-01 */
  int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  unsigned doe = (unsigned)(days - era * 146097); /* 0..146096 */
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100); /* 0..365 */
  unsigned mp = (5 * doy + 2) / 153;                      /* 0..11 */
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* Not gmtime_r/strftime: glibc's run tzset() on first use, which reads
 * /etc/localtime for a stamp that needs no time zone. */
void cw__wd_timestamp(uint64_t ns, char out[40]) {
  uint64_t s = ns / 1000000000ull;
  int64_t y;
  unsigned mo, d;
  civil_from_days((int64_t)(s / 86400), &y, &mo, &d);
  unsigned sod = (unsigned)(s % 86400);
  snprintf(out, 40, "%04u-%02u-%02uT%02u:%02u:%02u.%06uZ",
           (unsigned)(y % 10000), mo % 100u, d % 100u, sod / 3600,
           sod / 60 % 60, sod % 60, (unsigned)((ns / 1000) % 1000000));
}

static int matches(const wd_event_scope_t *es, const char *key) {
  return es->scrub != NULL &&
         cw__scrub_key_matches(es->scrub, key, strlen(key));
}

/* An application JSON text, scrubbed (the writer validated it; a text that
 * is not JSON after all is written as a marker string). */
static void scrubbed_json(cw__json_t *j, const wd_event_scope_t *es,
                          const char *json, int flags) {
  static const cw__scrub_t none; /* no patterns */
  const cw__scrub_t *sc = es->scrub != NULL ? es->scrub : &none;
  cw__scrub_json(sc, j, json, json != NULL ? strlen(json) : 0, flags, NULL,
                 NULL);
}

static void opt_string(cw__json_t *j, const char *key, const char *v) {
  if (v != NULL) {
    cw__json_key(j, key);
    cw__json_string(j, v);
  }
}

static void user_json(cw__json_t *j, const cw__scope_snapshot_t *s) {
  /* What the application set goes out as set; crashwatch's own addition
   * (Sentry's "{{auto}}": the sender's address) only with
   * send_default_pii. */
  const char *ip = s->user_ip_address;
  if (s->send_default_pii && ip == NULL)
    ip = "{{auto}}";
  if (s->user_id == NULL && s->user_email == NULL && s->user_username == NULL &&
      ip == NULL)
    return;
  cw__json_key(j, "user");
  cw__json_begin_object(j);
  opt_string(j, "id", s->user_id);
  opt_string(j, "email", s->user_email);
  opt_string(j, "username", s->user_username);
  opt_string(j, "ip_address", ip);
  cw__json_end_object(j);
}

static void fingerprint_json(cw__json_t *j, const cw__scope_snapshot_t *s) {
  if (s->nfingerprint == 0)
    return;
  cw__json_key(j, "fingerprint");
  cw__json_begin_array(j);
  for (size_t i = 0; i < s->nfingerprint; i++)
    cw__json_string(j, s->fingerprint[i]);
  cw__json_end_array(j);
}

static void breadcrumbs_json(cw__json_t *j, const wd_event_scope_t *es) {
  const cw__scope_snapshot_t *s = es->scope;
  if (s->ncrumbs == 0)
    return;
  cw__json_key(j, "breadcrumbs");
  cw__json_begin_object(j);
  cw__json_key(j, "values");
  cw__json_begin_array(j);
  for (size_t i = 0; i < s->ncrumbs; i++) {
    const cw__scope_crumb_t *c = &s->crumbs[i];
    char ts[40];
    cw__wd_timestamp(c->timestamp_ns > 0 ? (uint64_t)c->timestamp_ns : 0, ts);
    cw__json_begin_object(j);
    cw__json_key(j, "timestamp");
    cw__json_string(j, ts);
    opt_string(j, "type", c->type);
    opt_string(j, "category", c->category);
    opt_string(j, "message", c->message);
    cw__json_key(j, "level");
    cw__json_string(j, cw__wd_level_name(c->level));
    if (c->data_json != NULL) {
      cw__json_key(j, "data");
      scrubbed_json(j, es, c->data_json, 0);
    }
    cw__json_end_object(j);
  }
  cw__json_end_array(j);
  cw__json_end_object(j);
}

void cw__wd_event_scope_members(cw__json_t *j, const wd_event_scope_t *es) {
  const cw__scope_snapshot_t *s = es->scope;
  if (s == NULL)
    return;
  opt_string(j, "dist", s->dist);
  opt_string(j, "transaction", s->transaction);
  if (s->ntags > 0) {
    cw__json_key(j, "tags");
    cw__json_begin_object(j);
    cw__wd_event_scope_tags(j, es, NULL, NULL);
    cw__json_end_object(j);
  }
  user_json(j, s);
  fingerprint_json(j, s);
  breadcrumbs_json(j, es);
}

static int skipped(wd_key_skip_fn skip, void *ctx, const char *key) {
  return skip != NULL && skip(ctx, key);
}

void cw__wd_event_scope_tags(cw__json_t *j, const wd_event_scope_t *es,
                             wd_key_skip_fn skip, void *ctx) {
  const cw__scope_snapshot_t *s = es->scope;
  for (size_t i = 0; s != NULL && i < s->ntags; i++) {
    if (skipped(skip, ctx, s->tags[i].key))
      continue;
    cw__json_key(j, s->tags[i].key);
    cw__json_string(j, matches(es, s->tags[i].key) ? CW_SCRUB_FILTERED
                                                   : s->tags[i].value);
  }
}

void cw__wd_event_scope_member(cw__json_t *j, const wd_event_scope_t *es,
                               const char *name) {
  const cw__scope_snapshot_t *s = es->scope;
  if (s == NULL)
    return;
  if (strcmp(name, "dist") == 0)
    opt_string(j, "dist", s->dist);
  else if (strcmp(name, "transaction") == 0)
    opt_string(j, "transaction", s->transaction);
  else if (strcmp(name, "user") == 0)
    user_json(j, s);
  else if (strcmp(name, "fingerprint") == 0)
    fingerprint_json(j, s);
  else if (strcmp(name, "breadcrumbs") == 0)
    breadcrumbs_json(j, es);
}

static void attachments_json(cw__json_t *j, const wd_attachments_t *a) {
  if (a == NULL || a->n == 0)
    return;
  cw__json_key(j, "crashwatch.attachments");
  cw__json_begin_array(j);
  for (size_t i = 0; i < a->n; i++) {
    const wd_attachment_t *t = &a->v[i];
    cw__json_begin_object(j);
    opt_string(j, "path", t->path);
    if (t->name != NULL) {
      cw__json_key(j, "file");
      cw__json_string(j, t->name);
      cw__json_key(j, "size");
      cw__json_uint(j, t->size);
      cw__json_key(j, "kept_bytes");
      cw__json_uint(j, t->kept);
      cw__json_key(j, "truncated");
      cw__json_bool(j, t->kept < t->size);
    }
    opt_string(j, "error", t->error);
    cw__json_end_object(j);
  }
  cw__json_end_array(j);
}

void cw__wd_event_scope_extra(cw__json_t *j, const wd_event_scope_t *es) {
  cw__wd_event_scope_extra_skip(j, es, NULL, NULL);
}

void cw__wd_event_scope_extra_skip(cw__json_t *j, const wd_event_scope_t *es,
                                   wd_key_skip_fn skip, void *ctx) {
  const cw__scope_snapshot_t *s = es->scope;
  for (size_t i = 0; s != NULL && i < s->nextra; i++) {
    const char *k = s->extra[i].key;
    if (k == NULL || strncmp(k, "crashwatch.", 11) == 0 ||
        skipped(skip, ctx, k))
      continue;
    cw__json_key(j, k);
    if (matches(es, k))
      cw__json_string(j, CW_SCRUB_FILTERED);
    else
      scrubbed_json(j, es, s->extra[i].value, 0);
  }
  attachments_json(j, es->attachments);
}

void cw__wd_event_scope_contexts(cw__json_t *j, const wd_event_scope_t *es) {
  cw__wd_event_scope_contexts_skip(j, es, NULL, NULL);
}

void cw__wd_event_scope_contexts_skip(cw__json_t *j, const wd_event_scope_t *es,
                                      wd_key_skip_fn skip, void *ctx) {
  const cw__scope_snapshot_t *s = es->scope;
  if (s == NULL)
    return;
  int trace = s->trace_id != NULL && s->span_id != NULL;
  if (trace && !skipped(skip, ctx, "trace")) {
    cw__json_key(j, "trace");
    cw__json_begin_object(j);
    cw__json_key(j, "trace_id");
    cw__json_string(j, s->trace_id);
    cw__json_key(j, "span_id");
    cw__json_string(j, s->span_id);
    cw__json_key(j, "type");
    cw__json_string(j, "trace");
    cw__json_end_object(j);
  }
  for (size_t i = 0; i < s->ncontexts; i++) {
    const char *name = s->contexts[i].key;
    if (name == NULL || (trace && strcmp(name, "trace") == 0) ||
        skipped(skip, ctx, name))
      continue;
    cw__json_key(j, name);
    scrubbed_json(j, es, s->contexts[i].value,
                  matches(es, name) ? CW_SCRUB_ALL_MEMBERS : 0);
  }
}

int cw__wd_event_scope_has_context(const wd_event_scope_t *es,
                                   const char *name) {
  const cw__scope_snapshot_t *s = es != NULL ? es->scope : NULL;
  for (size_t i = 0; s != NULL && i < s->ncontexts; i++)
    if (s->contexts[i].key != NULL && strcmp(s->contexts[i].key, name) == 0)
      return 1;
  return 0;
}
