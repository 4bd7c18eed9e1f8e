/* test_wd_scope.c — the watchdog's side of the scope (issue 10): the
 * scope's members in the event (event_scope.c) from hand-made snapshots,
 * and the attachment copy (attachments.c) into a real spool report from
 * real files, FIFOs and devices. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "crashwatch.h"
#include "json.h"
#include "scrub.h"
#include "spool.h"
#include "wd_capture.h"
#include "wd_scope.h"

/* cw_level_t values (include/crashwatch.h, issue 10 order). */
enum { L_DEBUG, L_INFO, L_WARNING, L_ERROR, L_FATAL };

static char tmpdir[200];

static int setup(void **state) {
  (void)state;
  const char *t = getenv("TMPDIR");
  snprintf(tmpdir, sizeof(tmpdir), "%s/cw-wdscope-XXXXXX", t ? t : "/tmp");
  return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int teardown(void **state) {
  (void)state;
  char cmd[512];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
  return system(cmd) == 0 ? 0 : -1;
}

/* The members as one object: {<members>}. */
static char *members(const wd_event_scope_t *es, int which) {
  cw__buf_t b = CW_BUF_INIT;
  cw__json_t j;
  cw__json_init(&j, &b, 0);
  cw__json_begin_object(&j);
  if (which == 0)
    cw__wd_event_scope_members(&j, es);
  else if (which == 1)
    cw__wd_event_scope_extra(&j, es);
  else
    cw__wd_event_scope_contexts(&j, es);
  cw__json_end_object(&j);
  char *s = strdup(cw__buf_cstr(&b));
  cw__buf_free(&b);
  return s;
}

static void test_event_scope_empty_scope_adds_nothing(void **state) {
  (void)state;
  cw__scope_snapshot_t s = {.level = -1};
  cw__scrub_t sc;
  cw__scrub_init(&sc, 1, NULL);
  wd_event_scope_t es = {.scope = &s, .scrub = &sc};
  for (int w = 0; w < 3; w++) {
    char *out = members(&es, w);
    assert_string_equal(out, "{}");
    free(out);
  }
  wd_event_scope_t none = {0};
  char *out = members(&none, 0);
  assert_string_equal(out, "{}");
  free(out);
  assert_string_equal(cw__wd_level_name(-1), "fatal");
  assert_string_equal(cw__wd_level_name(L_DEBUG), "debug");
  assert_string_equal(cw__wd_level_name(L_WARNING), "warning");
  assert_string_equal(cw__wd_level_name(L_FATAL), "fatal");
}

static void test_event_scope_members_full(void **state) {
  (void)state;
  cw__scope_kv_t tags[] = {{"tenant", "acme"}, {"X-Auth-Token", "abc"}};
  const char *fp[] = {"{{ default }}", "db-pool"};
  cw__scope_crumb_t crumbs[] = {
      {.timestamp_ns = 0, .level = L_INFO, .message = "first"},
      {.timestamp_ns = 1764595195123456789LL,
       .level = L_ERROR,
       .type = "http",
       .category = "net",
       .message = "GET /",
       .data_json = "{\"url\":\"/\",\"cookie\":\"c=1\",\"n\":[{\"token\":1}]}"},
  };
  cw__scope_snapshot_t s = {.tags = tags,
                            .ntags = 2,
                            .user_id = "42",
                            .user_email = "a@example.com",
                            .user_username = "ann",
                            .user_ip_address = "10.1.2.3",
                            .fingerprint = fp,
                            .nfingerprint = 2,
                            .level = L_WARNING,
                            .transaction = "GET /orders",
                            .crumbs = crumbs,
                            .ncrumbs = 2,
                            .dist = "7",
                            .server_name = "web-1"};
  cw__scrub_t sc;
  cw__scrub_init(&sc, 1, NULL);
  wd_event_scope_t es = {.scope = &s, .scrub = &sc};
  char *out = members(&es, 0);
  assert_string_equal(
      out,
      "{\"dist\":\"7\",\"transaction\":\"GET /orders\","
      "\"tags\":{\"tenant\":\"acme\",\"X-Auth-Token\":\"[Filtered]\"},"
      "\"user\":{\"id\":\"42\",\"email\":\"a@example.com\",\"username\":"
      "\"ann\",\"ip_address\":\"10.1.2.3\"},"
      "\"fingerprint\":[\"{{ default }}\",\"db-pool\"],"
      "\"breadcrumbs\":{\"values\":["
      "{\"timestamp\":\"1970-01-01T00:00:00.000000Z\",\"message\":\"first\","
      "\"level\":\"info\"},"
      "{\"timestamp\":\"2025-12-01T13:19:55.123456Z\",\"type\":\"http\","
      "\"category\":\"net\",\"message\":\"GET /\",\"level\":\"error\","
      "\"data\":{\"url\":\"/\",\"cookie\":\"[Filtered]\",\"n\":[{\"token\":"
      "\"[Filtered]\"}]}}]}}");
  free(out);
  /* The app's own address goes out either way; with send_default_pii and
   * none set, Sentry is asked to fill in the sender's. */
  s.send_default_pii = 1;
  s.ntags = 0, s.nfingerprint = 0, s.ncrumbs = 0;
  s.dist = NULL, s.transaction = NULL;
  out = members(&es, 0);
  assert_string_equal(out,
                      "{\"user\":{\"id\":\"42\",\"email\":\"a@example.com\","
                      "\"username\":\"ann\",\"ip_address\":\"10.1.2.3\"}}");
  free(out);
  s.user_id = s.user_email = s.user_username = s.user_ip_address = NULL;
  out = members(&es, 0);
  assert_string_equal(out, "{\"user\":{\"ip_address\":\"{{auto}}\"}}");
  free(out);
  /* send_default_pii off and no user: no "user" at all. */
  s.send_default_pii = 0;
  out = members(&es, 0);
  assert_string_equal(out, "{}");
  free(out);
}

static void test_event_scope_extra_scrubbed(void **state) {
  (void)state;
  cw__scope_kv_t extra[] = {
      {"order", "{\"id\":7,\"db_password\":\"hunter2\"}"},
      {"api_key", "\"k-123\""},
      {"crashwatch.capture_pause_us", "1"},
      {"count", "3"},
  };
  cw__scope_snapshot_t s = {.extra = extra, .nextra = 4, .level = -1};
  cw__scrub_t sc;
  cw__scrub_init(&sc, 1, NULL);
  wd_attachment_t att[] = {
      {.path = "/var/log/app.log", .name = "app.log", .size = 10, .kept = 4},
      {.path = "/nope", .error = "no such file"}};
  wd_attachments_t atts = {att, 2};
  wd_event_scope_t es = {.scope = &s, .scrub = &sc, .attachments = &atts};
  char *out = members(&es, 1);
  assert_string_equal(
      out, "{\"order\":{\"id\":7,\"db_password\":\"[Filtered]\"},"
           "\"api_key\":\"[Filtered]\",\"count\":3,"
           "\"crashwatch.attachments\":[{\"path\":\"/var/log/app.log\","
           "\"file\":\"app.log\",\"size\":10,\"kept_bytes\":4,"
           "\"truncated\":true},{\"path\":\"/nope\",\"error\":\"no such "
           "file\"}]}");
  free(out);
  /* Defaults off: nothing filtered. */
  cw__scrub_init(&sc, 0, NULL);
  es.attachments = NULL;
  out = members(&es, 1);
  assert_non_null(strstr(out, "hunter2"));
  assert_non_null(strstr(out, "k-123"));
  free(out);
}

static void test_event_scope_contexts_and_trace(void **state) {
  (void)state;
  cw__scope_kv_t ctx[] = {
      {"kafka", "{\"topic\":\"orders\",\"partition\":3,\"offset\":12}"},
      {"trace", "{\"trace_id\":\"app\"}"},
      {"session", "{\"id\":\"s1\",\"n\":2}"},
  };
  cw__scope_snapshot_t s = {.contexts = ctx,
                            .ncontexts = 3,
                            .level = -1,
                            .trace_id = "4bf92f3577b34da6a3ce929d0e0e4736",
                            .span_id = "00f067aa0ba902b7"};
  cw__scrub_t sc;
  cw__scrub_init(&sc, 1, NULL);
  wd_event_scope_t es = {.scope = &s, .scrub = &sc};
  char *out = members(&es, 2);
  assert_string_equal(
      out, "{\"trace\":{\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\","
           "\"span_id\":\"00f067aa0ba902b7\",\"type\":\"trace\"},"
           "\"kafka\":{\"topic\":\"orders\",\"partition\":3,\"offset\":12},"
           "\"session\":{\"id\":\"[Filtered]\",\"n\":\"[Filtered]\"}}");
  free(out);
  assert_true(cw__wd_event_scope_has_context(&es, "kafka"));
  assert_false(cw__wd_event_scope_has_context(&es, "device"));
  /* No trace of the scope's own: the app's "trace" context stands. */
  s.trace_id = s.span_id = NULL;
  out = members(&es, 2);
  assert_non_null(strstr(out, "\"trace\":{\"trace_id\":\"app\"}"));
  free(out);
}

static size_t count(const char *hay, const char *needle) {
  size_t n = 0;
  for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
    n++;
  return n;
}

/* The whole event: the scope's level and server_name replace the
 * defaults, an app context named "device" replaces crashwatch's, the
 * app's extras sit beside crashwatch's own, and no key is written twice;
 * without a scope the event is cw__wd_event_json's. */
static void test_event_json_scope_merged(void **state) {
  (void)state;
  wd_capture_t cap;
  memset(&cap, 0, sizeof(cap));
  cap.signo = 11;
  cap.time_realtime_ns = 1700000000ull * 1000000000ull;
  snprintf(cap.sys.nodename, sizeof(cap.sys.nodename), "host-a");
  snprintf(cap.sys.machine, sizeof(cap.sys.machine), "x86_64");
  cw__buf_t a = CW_BUF_INIT, b = CW_BUF_INIT;
  assert_int_equal(cw__wd_event_json(&cap, "0123456789abcdef0123456789abcdef",
                                     "r1", "prod", &a),
                   0);
  assert_int_equal(cw__wd_event_json_scope(&cap,
                                           "0123456789abcdef0123456789abcdef",
                                           "r1", "prod", NULL, &b),
                   0);
  assert_string_equal(cw__buf_cstr(&a), cw__buf_cstr(&b));
  assert_non_null(strstr(cw__buf_cstr(&a), "\"level\":\"fatal\""));
  assert_non_null(strstr(cw__buf_cstr(&a), "\"server_name\":\"host-a\""));
  cw__buf_free(&a);
  cw__buf_free(&b);

  cw__scope_kv_t ctx[] = {{"device", "{\"model\":\"pi4\"}"}};
  cw__scope_kv_t extra[] = {{"n", "1"}};
  cw__scope_kv_t tags[] = {{"t", "v"}};
  cw__scope_snapshot_t s = {.contexts = ctx,
                            .ncontexts = 1,
                            .extra = extra,
                            .nextra = 1,
                            .tags = tags,
                            .ntags = 1,
                            .level = L_WARNING,
                            .server_name = "web-1",
                            .dist = "d1",
                            .trace_id = "4bf92f3577b34da6a3ce929d0e0e4736",
                            .span_id = "00f067aa0ba902b7"};
  cw__scrub_t sc;
  cw__scrub_init(&sc, 1, NULL);
  wd_event_scope_t es = {.scope = &s, .scrub = &sc};
  assert_int_equal(cw__wd_event_json_scope(&cap,
                                           "0123456789abcdef0123456789abcdef",
                                           "r1", "prod", &es, &b),
                   0);
  const char *ev = cw__buf_cstr(&b);
  assert_non_null(strstr(ev, "\"level\":\"warning\""));
  assert_int_equal(count(ev, "\"level\":"), 1);
  assert_non_null(strstr(ev, "\"server_name\":\"web-1\""));
  assert_null(strstr(ev, "host-a"));
  assert_int_equal(count(ev, "\"release\":"), 1);
  assert_int_equal(count(ev, "\"dist\":\"d1\""), 1);
  assert_non_null(strstr(ev, "\"tags\":{\"t\":\"v\"}"));
  assert_non_null(strstr(ev, "\"device\":{\"model\":\"pi4\"}"));
  assert_int_equal(count(ev, "\"device\":"), 1);
  assert_int_equal(count(ev, "\"os\":"), 1);
  assert_non_null(strstr(ev, "\"contexts\":{\"trace\":{\"trace_id\":"));
  assert_non_null(strstr(ev, "\"extra\":{\"n\":1,\"crashwatch."));
  cw__buf_free(&b);
}

/* ---- attachments ---- */

static void write_file(const char *path, size_t n) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  for (size_t i = 0; i < n; i++)
    fputc("0123456789abcdefghijklmnopqrstuvwxyz\n"[(i * 7 + i / 37) % 37], f);
  fclose(f);
}

static uint8_t *read_all(const char *path, size_t *n) {
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return NULL;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *d = malloc((size_t)len + 1);
  *n = fread(d, 1, (size_t)len, f);
  fclose(f);
  return d;
}

static void test_attachments_tail_names_and_refusals(void **state) {
  (void)state;
  char spool[600], big[600], small[600], fifo[600], link[600], ev[600],
      hidden[600], dup_dir[300], dup[600];
  snprintf(spool, sizeof(spool), "%s/spool", tmpdir);
  assert_int_equal(mkdir(spool, 0700), 0);
  snprintf(big, sizeof(big), "%s/app.log", tmpdir);
  write_file(big, 10u << 20);
  snprintf(small, sizeof(small), "%s/conf ig.txt", tmpdir);
  write_file(small, 100);
  snprintf(fifo, sizeof(fifo), "%s/pipe", tmpdir);
  assert_int_equal(mkfifo(fifo, 0600), 0);
  snprintf(link, sizeof(link), "%s/current", tmpdir);
  assert_int_equal(symlink(small, link), 0);
  snprintf(ev, sizeof(ev), "%s/event.json", tmpdir);
  write_file(ev, 5);
  snprintf(hidden, sizeof(hidden), "%s/.hidden", tmpdir);
  write_file(hidden, 5);
  snprintf(dup_dir, sizeof(dup_dir), "%.200s/d", tmpdir);
  assert_int_equal(mkdir(dup_dir, 0700), 0);
  snprintf(dup, sizeof(dup), "%s/app.log", dup_dir);
  write_file(dup, 7);
  const char *paths[] = {big,     small, fifo,   "/dev/zero", link,
                         "rel/a", ev,    hidden, dup,         "/nonexistent/x"};
  size_t n = sizeof(paths) / sizeof(paths[0]);

  spool_report_t *r;
  assert_int_equal(
      cw__spool_report_begin(spool, "0123456789abcdef0123456789abcdef", &r), 0);
  wd_attachments_t a;
  assert_int_equal(cw__wd_attachments_copy(r, paths, n, 0, &a), 0);
  char final[1024];
  assert_int_equal(cw__spool_report_commit(r, final, sizeof(final)), 0);
  assert_int_equal(a.n, n);

  /* The 10 MB log: exactly its last 256 KiB. */
  assert_string_equal(a.v[0].name, "app.log");
  assert_int_equal(a.v[0].size, 10u << 20);
  assert_int_equal(a.v[0].kept, 256u * 1024);
  assert_null(a.v[0].error);
  size_t ln, cn;
  uint8_t *orig = read_all(big, &ln);
  char p[1200];
  snprintf(p, sizeof(p), "%s/app.log", final);
  uint8_t *copy = read_all(p, &cn);
  assert_int_equal(cn, 256u * 1024);
  assert_memory_equal(copy, orig + ln - cn, cn);
  free(orig);
  free(copy);
  struct stat st;
  assert_int_equal(stat(p, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);

  assert_string_equal(a.v[1].name, "conf_ig.txt");
  assert_int_equal(a.v[1].kept, 100);
  assert_null(a.v[2].name);
  assert_string_equal(a.v[2].error, "a FIFO");
  assert_null(a.v[3].name);
  assert_string_equal(a.v[3].error, "a character device");
  assert_string_equal(a.v[4].name, "current"); /* followed */
  assert_int_equal(a.v[4].kept, 100);
  assert_null(a.v[5].name);
  assert_string_equal(a.v[5].error, "not an absolute path");
  assert_string_equal(a.v[6].name, "event-2.json");
  assert_string_equal(a.v[7].name, "_hidden");
  assert_string_equal(a.v[8].name, "app-2.log");
  assert_int_equal(a.v[8].kept, 7);
  assert_null(a.v[9].name);
  assert_string_equal(a.v[9].error, "no such file");
  cw__wd_attachments_free(&a);

  /* A smaller limit keeps a smaller tail. */
  assert_int_equal(
      cw__spool_report_begin(spool, "1123456789abcdef0123456789abcdef", &r), 0);
  assert_int_equal(cw__wd_attachments_copy(r, paths, 1, 1000, &a), 0);
  assert_int_equal(a.v[0].kept, 1000);
  cw__spool_report_abort(r);
  cw__wd_attachments_free(&a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_event_scope_empty_scope_adds_nothing),
      cmocka_unit_test(test_event_scope_members_full),
      cmocka_unit_test(test_event_scope_extra_scrubbed),
      cmocka_unit_test(test_event_scope_contexts_and_trace),
      cmocka_unit_test(test_event_json_scope_merged),
      cmocka_unit_test(test_attachments_tail_names_and_refusals),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
