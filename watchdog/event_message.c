/*
 * event_message.c — the Sentry event of a message (cw_capture_message) or
 * of an application's own event (cw_capture_event), merged with the scope
 * as Sentry's SDKs merge it (normal context, watchdog process; pure
 * serialisation, see wd_message.h).
 *
 * The application's event is outside input: its members are walked with
 * common/json_members.h and each value re-emitted through the scrubber
 * (common/scrub.h), which parses it again, so nothing of it is copied raw
 * and sensitive keys are filtered as in the scope's values.
 */
#include <stdio.h>
#include <string.h>

#include "crashwatch.h"
#include "json_check.h"
#include "json_members.h"
#include "scrub.h"
#include "wd_capture.h"
#include "wd_message.h"
#include "wd_scope.h"

/* The top-level members crashwatch fills in when the event has none. */
static const char *const defaults[] = {
    "timestamp",   "platform",    "level",     "sdk",         "server_name",
    "release",     "environment", "dist",      "transaction", "user",
    "fingerprint", "breadcrumbs", "message",   "tags",        "extra",
    "contexts",    "threads",     "debug_meta"};
#define NDEFAULTS (sizeof(defaults) / sizeof(defaults[0]))

typedef struct {
  const char *s; /* the application's object for this member, or NULL */
  size_t n;
} app_obj_t;

/* wd_key_skip_fn: the application's object has this key. */
static int app_has(void *ctx, const char *key) {
  const app_obj_t *o = ctx;
  if (o->s == NULL)
    return 0;
  const char *v;
  size_t vn;
  return cw__json_member(o->s, o->n, key, &v, &vn) == 0;
}

static void value_json(cw__json_t *j, const cw__scrub_t *sc, const char *v,
                       size_t vn) {
  if (cw__scrub_json(sc, j, v, vn, 0, NULL, NULL) != 0)
    cw__json_null(j); /* cannot happen after the check; never raw */
}

/* The application's object's members, scrubbed (inside an open object):
 * a member whose key matches the scrub list is "[Filtered]" (contexts:
 * all the values of a context so named), like the scope's. */
static void app_members(cw__json_t *j, const cw__scrub_t *sc,
                        const app_obj_t *o, int contexts) {
  cw__json_iter_t it;
  cw__json_iter_init(&it, o->s, o->n);
  const char *k, *v;
  size_t kn, vn;
  while (cw__json_iter_next(&it, &k, &kn, &v, &vn) == 1) {
    if (memchr(k, '\\', kn) != NULL)
      continue; /* an escaped key: left out (see docs/events.md) */
    cw__json_key_n(j, k, kn);
    int hit = cw__scrub_key_matches(sc, k, kn);
    if (hit && !contexts)
      cw__json_string(j, CW_SCRUB_FILTERED);
    else if (cw__scrub_json(sc, j, v, vn, hit ? CW_SCRUB_ALL_MEMBERS : 0, NULL,
                            NULL) != 0)
      cw__json_null(j);
  }
}

static const cw__scrub_t *scrub_of(const wd_message_t *m) {
  static const cw__scrub_t none; /* no patterns */
  return m->es->scrub != NULL ? m->es->scrub : &none;
}

static void sdk_json(cw__json_t *j) {
  cw__json_key(j, "sdk");
  cw__json_begin_object(j);
  cw__json_key(j, "name");
  cw__json_string(j, "crashwatch");
  cw__json_key(j, "version");
  cw__json_string(j, CW_VERSION_STRING);
  cw__json_end_object(j);
}

static void extra_json(cw__json_t *j, const wd_message_t *m,
                       const app_obj_t *app) {
  cw__json_key(j, "extra");
  cw__json_begin_object(j);
  if (app->s != NULL)
    app_members(j, scrub_of(m), app, 0);
  cw__wd_event_scope_extra_skip(j, m->es, app_has, (void *)app);
  /* Who sent it, which a message event has nowhere else (a crash's
   * minidump and debug images say it): `crashwatch list` and `show`
   * print them. */
  if (!app_has((void *)app, "crashwatch.pid")) {
    cw__json_key(j, "crashwatch.pid");
    cw__json_int(j, m->req->pid);
  }
  if (m->program != NULL && !app_has((void *)app, "crashwatch.program")) {
    cw__json_key(j, "crashwatch.program");
    cw__json_string(j, m->program);
  }
  if (m->req->dropped > 0) {
    cw__json_key(j, "crashwatch.dropped_events");
    cw__json_uint(j, m->req->dropped);
  }
  if (m->stack != NULL) {
    cw__json_key(j, "crashwatch.stack_copy_us");
    cw__json_uint(j, m->stack->pause_ns / 1000);
  }
  cw__json_end_object(j);
}

static void contexts_json(cw__json_t *j, const wd_message_t *m,
                          const app_obj_t *app) {
  cw__json_key(j, "contexts");
  cw__json_begin_object(j);
  if (app->s != NULL)
    app_members(j, scrub_of(m), app, 1);
  cw__wd_event_scope_contexts_skip(j, m->es, app_has, (void *)app);
  if (!app_has((void *)app, "os") &&
      !cw__wd_event_scope_has_context(m->es, "os"))
    cw__wd_os_context_json(j, m->sys);
  if (!app_has((void *)app, "device") &&
      !cw__wd_event_scope_has_context(m->es, "device"))
    cw__wd_device_context_json(j, m->sys);
  cw__json_end_object(j);
}

static void tags_json(cw__json_t *j, const wd_message_t *m,
                      const app_obj_t *app) {
  const cw__scope_snapshot_t *s = m->es->scope;
  if (app->s == NULL && (s == NULL || s->ntags == 0))
    return;
  cw__json_key(j, "tags");
  cw__json_begin_object(j);
  if (app->s != NULL)
    app_members(j, scrub_of(m), app, 0);
  cw__wd_event_scope_tags(j, m->es, app_has, (void *)app);
  cw__json_end_object(j);
}

/* The default of the top-level member defaults[i]. */
static void default_member(cw__json_t *j, const wd_message_t *m, size_t i,
                           const app_obj_t objs[3]) {
  const char *name = defaults[i];
  const cw__scope_snapshot_t *s = m->es->scope;
  if (strcmp(name, "timestamp") == 0) {
    char ts[40];
    cw__wd_timestamp(m->req->time_realtime_ns, ts);
    cw__json_key(j, "timestamp");
    cw__json_string(j, ts);
  } else if (strcmp(name, "platform") == 0) {
    cw__json_key(j, "platform");
    cw__json_string(j, "native");
  } else if (strcmp(name, "level") == 0) {
    cw__json_key(j, "level");
    cw__json_string(j, cw__wd_level_name(m->req->kind == CW__REQ_MESSAGE
                                             ? m->req->level
                                             : CW_LEVEL_ERROR));
  } else if (strcmp(name, "sdk") == 0) {
    sdk_json(j);
  } else if (strcmp(name, "server_name") == 0) {
    const char *server = s != NULL ? s->server_name : NULL;
    if (server == NULL && m->sys->nodename[0])
      server = m->sys->nodename;
    if (server != NULL) {
      cw__json_key(j, "server_name");
      cw__json_string(j, server);
    }
  } else if (strcmp(name, "release") == 0 && m->release != NULL) {
    cw__json_key(j, "release");
    cw__json_string(j, m->release);
  } else if (strcmp(name, "environment") == 0 && m->environment != NULL) {
    cw__json_key(j, "environment");
    cw__json_string(j, m->environment);
  } else if (strcmp(name, "message") == 0 && m->req->kind == CW__REQ_MESSAGE) {
    cw__json_key(j, "message");
    cw__json_begin_object(j);
    cw__json_key(j, "formatted");
    cw__json_string_n(j, m->payload, m->payload_len);
    cw__json_end_object(j);
  } else if (strcmp(name, "tags") == 0) {
    tags_json(j, m, &objs[0]);
  } else if (strcmp(name, "extra") == 0) {
    extra_json(j, m, &objs[1]);
  } else if (strcmp(name, "contexts") == 0) {
    contexts_json(j, m, &objs[2]);
  } else if (strcmp(name, "threads") == 0 && m->stack != NULL) {
    cw__wd_threads_json(j, m->stack);
  } else if (strcmp(name, "debug_meta") == 0 && m->stack != NULL) {
    cw__wd_debug_meta_json(j, m->stack);
  } else {
    cw__wd_event_scope_member(j, m->es, name);
  }
}

int cw__wd_event_json_message(const wd_message_t *m, cw__buf_t *out) {
  const cw__scrub_t *sc = scrub_of(m);
  int is_event = m->req->kind == CW__REQ_EVENT;
  if (is_event && cw__json_check(m->payload, m->payload_len,
                                 CW__JSON_CHECK_OBJECT | CW__JSON_CHECK_UTF8,
                                 WD_EVENT_MAX_DEPTH, NULL, NULL) != 0)
    return CW_EFORMAT;
  cw__json_t j;
  cw__json_init(&j, out, 0);
  cw__json_begin_object(&j);
  cw__json_key(&j, "event_id");
  cw__json_string(&j, m->event_id);
  int seen[NDEFAULTS] = {0};
  /* tags, extra, contexts: the application's objects, merged below. */
  app_obj_t objs[3] = {{NULL, 0}, {NULL, 0}, {NULL, 0}};
  static const char *const merged[3] = {"tags", "extra", "contexts"};
  if (is_event) {
    cw__json_iter_t it;
    cw__json_iter_init(&it, m->payload, m->payload_len);
    const char *k, *v;
    size_t kn, vn;
    while (cw__json_iter_next(&it, &k, &kn, &v, &vn) == 1) {
      if (cw__json_key_is(k, kn, "event_id") || memchr(k, '\\', kn) != NULL)
        continue;
      int merge = -1;
      for (int i = 0; i < 3; i++)
        if (cw__json_key_is(k, kn, merged[i]) && vn > 0 && v[0] == '{')
          merge = i;
      for (size_t i = 0; i < NDEFAULTS; i++)
        if (cw__json_key_is(k, kn, defaults[i]))
          seen[i] = 1;
      if (merge >= 0) {
        objs[merge].s = v;
        objs[merge].n = vn;
        continue; /* written with the scope's below */
      }
      cw__json_key_n(&j, k, kn);
      if (cw__scrub_key_matches(sc, k, kn))
        cw__json_string(&j, CW_SCRUB_FILTERED);
      else
        value_json(&j, sc, v, vn);
    }
  }
  for (size_t i = 0; i < NDEFAULTS; i++) {
    int is_merged = 0;
    for (int k = 0; k < 3; k++)
      is_merged |= strcmp(defaults[i], merged[k]) == 0 && objs[k].s != NULL;
    if (!seen[i] || is_merged)
      default_member(&j, m, i, objs);
  }
  cw__json_end_object(&j);
  cw__buf_append_str(out, "\n");
  return out->oom ? CW_ENOMEM : 0;
}

/* A hex digit's value, or -1. */
static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

int cw__wd_event_id_from_json(const char *json, size_t n, char out[33]) {
  const char *v;
  size_t vn;
  if (cw__json_member(json, n, "event_id", &v, &vn) != 0 || vn < 2 ||
      v[0] != '"')
    return 0;
  size_t k = 0;
  for (size_t i = 1; i + 1 < vn; i++) {
    if (v[i] == '-')
      continue; /* a UUID's dashes */
    int h = hexval(v[i]);
    if (h < 0 || k >= 32)
      return 0;
    out[k++] = "0123456789abcdef"[h];
  }
  out[k] = '\0';
  if (k != 32 || strspn(out, "0") == 32)
    return 0;
  return 1;
}
