/* test_session.c — release-health session updates in the uploader: the
 * spool's session file (uploader/session.c), Sentry's session JSON, the
 * session item in an envelope, and which items each rate-limit category
 * holds (uploader/plan.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crashwatch.h"
#include "envelope.h"
#include "plan.h"
#include "ratelimit.h"
#include "report.h"
#include "session.h"

#define NOW 1700000000000LL
#define SID "0f8e3c4a-1b2c-4d5e-8f90-a1b2c3d4e5f6"

static const char *k_exited = "sid=" SID "\n"
                              "status=exited\n"
                              "started=1700000000000\n"
                              "timestamp=1700000012500\n"
                              "errors=3\n"
                              "release=app@1.2.3\n"
                              "environment=production\n"
                              "did=user-42\n";

static char *json_of(const char *text, int *rc) {
  cw__session_t s;
  char err[128];
  *rc = cw__session_parse(text, strlen(text), &s, err, sizeof(err));
  if (*rc != 0)
    return NULL;
  cw__buf_t b = CW_BUF_INIT;
  *rc = cw__session_json(&s, &b);
  cw__buf_append(&b, "", 1);
  return (char *)b.data;
}

static void test_session_json_shape(void **state) {
  (void)state;
  int rc;
  char *j = json_of(k_exited, &rc);
  assert_int_equal(rc, 0);
  assert_string_equal(j,
                      "{\"sid\":\"" SID "\",\"did\":\"user-42\",\"init\":true,"
                      "\"started\":\"2023-11-14T22:13:20.000Z\","
                      "\"timestamp\":\"2023-11-14T22:13:32.500Z\",\"seq\":0,"
                      "\"duration\":12.5,\"status\":\"exited\",\"errors\":3,"
                      "\"attrs\":{\"release\":\"app@1.2.3\","
                      "\"environment\":\"production\"}}");
  free(j);
}

static void test_session_abnormal_has_no_duration(void **state) {
  (void)state;
  int rc;
  char *j = json_of("sid=" SID "\nstatus=abnormal\nstarted=1700000000000\n"
                    "timestamp=1700000000000\nduration=0\nrelease=r1\n",
                    &rc);
  assert_int_equal(rc, 0);
  assert_non_null(strstr(j, "\"status\":\"abnormal\""));
  assert_null(strstr(j, "duration"));
  assert_null(strstr(j, "did"));
  assert_null(strstr(j, "environment"));
  assert_non_null(strstr(j, "\"errors\":0"));
  free(j);
}

static void test_session_parse_refuses(void **state) {
  (void)state;
  static const char *const bad[] = {
      /* no release: Sentry drops a session without one */
      "sid=" SID "\nstatus=exited\nstarted=1\ntimestamp=2\n",
      "sid=" SID "\nstatus=exited\nstarted=1\ntimestamp=2\nrelease=\n",
      "sid=nope\nstatus=exited\nstarted=1\ntimestamp=2\nrelease=r\n",
      "sid=" SID "\nstatus=fine\nstarted=1\ntimestamp=2\nrelease=r\n",
      "sid=" SID "\nstatus=exited\nstarted=-1\ntimestamp=2\nrelease=r\n",
      "sid=" SID "\nstatus=exited\nstarted=1\ntimestamp=2\nrelease=r\x01\n",
      "sid=" SID "\nstatus=exited\nstarted=1\ntimestamp=2\nrelease=\xff\n",
      "sid=" SID
      "\nstatus=exited\nstarted=1\ntimestamp=2\nrelease=r\ngarbage\n",
      "sid=" SID "\nstatus=exited\nstarted=1\ntimestamp=2\nrelease=r\n"
      "errors=99999999999\n",
      "status=exited\nstarted=1\ntimestamp=2\nrelease=r\n",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    cw__session_t s;
    char err[128] = "";
    assert_int_equal(
        cw__session_parse(bad[i], strlen(bad[i]), &s, err, sizeof(err)),
        CW_EFORMAT);
    assert_true(err[0] != '\0');
  }
  /* Unknown keys (a newer writer) are ignored. */
  const char *ok = "sid=" SID "\nstatus=crashed\nstarted=1\ntimestamp=2\n"
                   "release=r\nfuture=x\n";
  cw__session_t s;
  assert_int_equal(cw__session_parse(ok, strlen(ok), &s, NULL, 0), 0);
  assert_string_equal(s.status, "crashed");
}

/* A report in memory: an event (crash or message), n attachments, a
 * session or not. */
static void fake_report(report_t *r, const char *event, size_t nfiles,
                        int session) {
  memset(r, 0, sizeof(*r));
  snprintf(r->event_id, sizeof(r->event_id), "%032d", 7);
  if (event != NULL) {
    r->event_json = strdup(event);
    r->event_len = strlen(event);
  }
  r->files = calloc(nfiles ? nfiles : 1, sizeof(*r->files));
  for (size_t i = 0; i < nfiles; i++) {
    r->files[i].name = strdup(i == 0 ? "minidump.dmp" : "app.log");
    r->files[i].data = (uint8_t *)strdup("DATA");
    r->files[i].len = 4;
    r->files[i].is_minidump = i == 0;
  }
  r->nfiles = nfiles;
  if (session) {
    r->session = strdup(k_exited);
    r->session_len = strlen(k_exited);
  }
}

#define CRASH "{\"exception\":{\"values\":[]},\"level\":\"fatal\"}"
#define MESSAGE "{\"message\":{\"formatted\":\"an \\\"exception\\\"\"}}"

static void limit(ratelimits_t *rl, const char *hdr) {
  memset(rl, 0, sizeof(*rl));
  assert_true(cw__ratelimit_parse_sentry(rl, hdr, strlen(hdr), NOW, NULL, 0) >
              0);
}

static void test_plan_no_limits_sends_everything(void **state) {
  (void)state;
  report_t r;
  fake_report(&r, CRASH, 2, 1);
  ratelimits_t rl = {{0}};
  cw__upload_plan_t p;
  cw__upload_plan(&rl, &r, 1, 1, NOW, &p);
  assert_int_equal(p.send, CW__ENV_ALL);
  assert_int_equal(p.held, 0);
  assert_false(p.drop_attachments);
  cw__report_free(&r);
}

static void test_plan_session_limit_holds_only_the_session(void **state) {
  (void)state;
  report_t r;
  fake_report(&r, CRASH, 2, 1);
  ratelimits_t rl;
  limit(&rl, "120:session:project");
  cw__upload_plan_t p;
  cw__upload_plan(&rl, &r, 1, 1, NOW, &p);
  assert_int_equal(p.send, CW__ENV_EVENT | CW__ENV_ATTACHMENTS);
  assert_int_equal(p.held, CW__ENV_SESSION);
  assert_int_equal(p.held_until, NOW + 120000);
  /* A session-only report waits as a whole. */
  report_t s;
  fake_report(&s, NULL, 0, 1);
  cw__upload_plan(&rl, &s, 1, 1, NOW, &p);
  assert_int_equal(p.send, 0);
  assert_int_equal(p.held, CW__ENV_SESSION);
  cw__report_free(&r);
  cw__report_free(&s);
}

static void test_plan_attachment_limit_drops_attachments(void **state) {
  (void)state;
  report_t r;
  fake_report(&r, CRASH, 2, 1);
  ratelimits_t rl;
  limit(&rl, "120:attachment:project");
  cw__upload_plan_t p;
  cw__upload_plan(&rl, &r, 1, 1, NOW, &p);
  assert_int_equal(p.send, CW__ENV_EVENT | CW__ENV_SESSION);
  assert_int_equal(p.held, 0); /* nothing waits: the dump is dropped */
  assert_true(p.drop_attachments);
  /* Without attachments the limit changes nothing. */
  report_t m;
  fake_report(&m, MESSAGE, 0, 0);
  cw__upload_plan(&rl, &m, 0, 1, NOW, &p);
  assert_int_equal(p.send, CW__ENV_EVENT);
  assert_false(p.drop_attachments);
  cw__report_free(&r);
  cw__report_free(&m);
}

static void
test_plan_error_limit_holds_the_crash_not_the_session(void **state) {
  (void)state;
  report_t r;
  fake_report(&r, CRASH, 2, 1);
  ratelimits_t rl;
  limit(&rl, "300:error:project");
  cw__upload_plan_t p;
  cw__upload_plan(&rl, &r, 1, 1, NOW, &p);
  assert_int_equal(p.send, CW__ENV_SESSION);
  assert_int_equal(p.held, CW__ENV_EVENT | CW__ENV_ATTACHMENTS);
  assert_int_equal(p.held_until, NOW + 300000);
  /* A message event is `default`, not `error`. */
  report_t m;
  fake_report(&m, MESSAGE, 0, 0);
  assert_int_equal(cw__plan_event_category(&m), RL_DEFAULT);
  assert_int_equal(cw__plan_event_category(&r), RL_ERROR);
  cw__upload_plan(&rl, &m, 0, 1, NOW, &p);
  assert_int_equal(p.send, CW__ENV_EVENT);
  limit(&rl, "300:default:project");
  cw__upload_plan(&rl, &m, 0, 1, NOW, &p);
  assert_int_equal(p.send, 0);
  assert_int_equal(p.held, CW__ENV_EVENT);
  cw__report_free(&r);
  cw__report_free(&m);
}

static void test_plan_all_categories_hold_everything(void **state) {
  (void)state;
  report_t r;
  fake_report(&r, CRASH, 1, 1);
  ratelimits_t rl;
  limit(&rl, "60::organization");
  cw__upload_plan_t p;
  cw__upload_plan(&rl, &r, 1, 1, NOW, &p);
  assert_int_equal(p.send, 0);
  assert_int_equal(p.held, CW__ENV_ALL);
  assert_int_equal(p.held_until, NOW + 60000);
  /* Once it has passed, everything goes. */
  cw__upload_plan(&rl, &r, 1, 1, NOW + 60000, &p);
  assert_int_equal(p.send, CW__ENV_ALL);
  cw__report_free(&r);
}

static void test_plan_multipart(void **state) {
  (void)state;
  report_t r;
  fake_report(&r, CRASH, 1, 1);
  ratelimits_t rl = {{0}};
  cw__upload_plan_t p;
  cw__upload_plan(&rl, &r, 1, 0, NOW, &p);
  assert_int_equal(p.send, CW__ENV_EVENT | CW__ENV_ATTACHMENTS);
  assert_true(p.drop_session);
  /* The minidump is what a Breakpad server wants: an attachment limit
   * holds the report rather than send it without. */
  limit(&rl, "60:attachment:project");
  cw__upload_plan(&rl, &r, 1, 0, NOW, &p);
  assert_int_equal(p.send, 0);
  assert_int_equal(p.held_until, NOW + 60000);
  cw__report_free(&r);
}

/* The envelope with a session item: header without event_id when there is
 * no event, items in order, lengths right. */
static void test_envelope_session_items(void **state) {
  (void)state;
  report_t r;
  fake_report(&r, CRASH, 1, 1);
  const char *sj = "{\"sid\":\"x\"}";
  cw__buf_t out = CW_BUF_INIT;
  assert_int_equal(cw__envelope_encode_items(&r, NULL, NOW,
                                             CW__ENV_EVENT | CW__ENV_SESSION,
                                             sj, strlen(sj), &out),
                   0);
  cw__buf_append(&out, "", 1);
  const char *e = (const char *)out.data;
  assert_non_null(strstr(e, "\"event_id\""));
  const char *ev = strstr(e, "{\"type\":\"event\"");
  const char *se = strstr(e, "{\"type\":\"session\",\"length\":11}\n"
                             "{\"sid\":\"x\"}\n");
  assert_non_null(ev);
  assert_non_null(se);
  assert_true(ev < se);
  assert_null(strstr(e, "attachment")); /* not asked for */
  cw__buf_free(&out);
  /* Session alone: no event, no event_id, no attachments. */
  assert_int_equal(cw__envelope_encode_items(&r, NULL, NOW, CW__ENV_SESSION, sj,
                                             strlen(sj), &out),
                   0);
  cw__buf_append(&out, "", 1);
  e = (const char *)out.data;
  assert_null(strstr(e, "event_id"));
  assert_null(strstr(e, "\"type\":\"event\""));
  assert_null(strstr(e, "attachment"));
  assert_non_null(strstr(e, "\"type\":\"session\""));
  cw__buf_free(&out);
  cw__report_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_session_json_shape),
      cmocka_unit_test(test_session_abnormal_has_no_duration),
      cmocka_unit_test(test_session_parse_refuses),
      cmocka_unit_test(test_plan_no_limits_sends_everything),
      cmocka_unit_test(test_plan_session_limit_holds_only_the_session),
      cmocka_unit_test(test_plan_attachment_limit_drops_attachments),
      cmocka_unit_test(test_plan_error_limit_holds_the_crash_not_the_session),
      cmocka_unit_test(test_plan_all_categories_hold_everything),
      cmocka_unit_test(test_plan_multipart),
      cmocka_unit_test(test_envelope_session_items),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
