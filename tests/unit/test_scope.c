/* test_scope.c — the scope API (issue 10) as the watchdog sees it: every
 * setter and remover, the limits, JSON checks, the breadcrumb ring, trace
 * ids, calls before cw_init and after cw_shutdown, fork, and snapshots
 * taken while other threads rewrite the same entries. The mapping is read
 * the watchdog's way: the memfd is found in /proc (this process's fds, or
 * the watchdog's), mapped read-only and given to cw__scope_snapshot(). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include "cw_test_support.h"

#include "crashwatch.h"
#include "json_check.h"
#include "scope.h"
#include "scope_layout.h"
#include "utf8.h"

static char tmpdir[PATH_MAX];

static void clear_env(void) {
  const char *vars[] = {"CRASHWATCH_SPOOL",
                        "CRASHWATCH_WATCHDOG",
                        "CRASHWATCH_MAX_BREADCRUMBS",
                        "CRASHWATCH_ATTACHMENT_MAX_BYTES",
                        "CRASHWATCH_SEND_DEFAULT_PII",
                        "SENTRY_DSN",
                        "SENTRY_DIST",
                        "TRACEPARENT"};
  for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
    unsetenv(vars[i]);
}

static int setup(void **state) {
  (void)state;
  clear_env();
  const char *root = getenv("CW_TEST_TMP");
  snprintf(tmpdir, sizeof(tmpdir), "%s/scope-XXXXXX",
           root && *root ? root : "/tmp");
  assert_non_null(mkdtemp(tmpdir));
  char spool[PATH_MAX + 16];
  snprintf(spool, sizeof(spool), "%s/spool", tmpdir);
  setenv("CRASHWATCH_SPOOL", spool, 1);
  const char *wd = getenv("CW_TEST_WATCHDOG");
  if (wd != NULL && *wd)
    setenv("CRASHWATCH_WATCHDOG", wd, 1);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  cw__test_shutdown();
  return 0;
}

static void init_or_fail(cw_options_t *o) {
  int rc = cw_init(o);
  if (rc != 0)
    fail_msg("cw_init: %s: %s", cw_err_name(rc), cw_last_error());
}

/* The fd (in /proc/PID/fd) of the scope memfd, or -1. */
static int find_memfd(pid_t pid, char *path, size_t cap) {
  char dir[64];
  snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
  DIR *d = opendir(dir);
  if (d == NULL)
    return -1;
  struct dirent *e;
  int found = -1;
  while ((e = readdir(d)) != NULL && found < 0) {
    char p[320], target[256];
    snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
    ssize_t n = readlink(p, target, sizeof(target) - 1);
    if (n <= 0)
      continue;
    target[n] = '\0';
    if (strncmp(target, "/memfd:crashwatch-scope", 23) == 0) {
      found = atoi(e->d_name);
      snprintf(path, cap, "%s", p);
    }
  }
  closedir(d);
  return found;
}

typedef struct {
  const void *map;
  size_t len;
} view_t;

/* Maps the scope memfd open in process pid read-only, as the watchdog
 * does. */
static view_t map_scope_of(pid_t pid) {
  char path[320];
  view_t v = {NULL, 0};
  if (find_memfd(pid, path, sizeof(path)) < 0)
    return v;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  assert_true(fd >= 0);
  struct stat st;
  assert_int_equal(fstat(fd, &st), 0);
  void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
  assert_true(p != MAP_FAILED);
  close(fd);
  v.map = p;
  v.len = (size_t)st.st_size;
  return v;
}

static void unmap(view_t v) {
  if (v.map != NULL)
    munmap((void *)v.map, v.len);
}

static void snap(cw__scope_snapshot_t *s) {
  view_t v = map_scope_of(getpid());
  assert_non_null(v.map);
  assert_int_equal(cw__scope_snapshot(v.map, v.len, s), 0);
  unmap(v);
}

static const char *kv_get(const cw__scope_kv_t *kv, size_t n, const char *key) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(kv[i].key, key) == 0)
      return kv[i].value;
  return NULL;
}

static void assert_utf8(const char *s) {
  assert_non_null(s);
  assert_true(cw__utf8_valid(s, strlen(s)));
}

/* ---- before init / after shutdown ------------------------------------- */

static void expect_all_notinit(void) {
  const char *parts[] = {"a"};
  assert_int_equal(cw_set_tag("k", "v"), CW_ENOTINIT);
  assert_int_equal(cw_remove_tag("k"), CW_ENOTINIT);
  assert_int_equal(cw_set_extra("k", "1"), CW_ENOTINIT);
  assert_int_equal(cw_remove_extra("k"), CW_ENOTINIT);
  assert_int_equal(cw_set_user("1", NULL, NULL, NULL), CW_ENOTINIT);
  assert_int_equal(cw_set_context("c", "{}"), CW_ENOTINIT);
  assert_int_equal(cw_remove_context("c"), CW_ENOTINIT);
  assert_int_equal(cw_set_fingerprint(parts, 1), CW_ENOTINIT);
  assert_int_equal(cw_set_level(CW_LEVEL_INFO), CW_ENOTINIT);
  assert_int_equal(cw_set_transaction("t"), CW_ENOTINIT);
  assert_int_equal(cw_add_breadcrumb("default", "c", "m", CW_LEVEL_INFO, NULL),
                   CW_ENOTINIT);
  assert_int_equal(
      cw_set_trace("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"),
      CW_ENOTINIT);
  assert_int_equal(
      cw_set_traceparent(
          "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
      CW_ENOTINIT);
  assert_int_equal(cw_add_attachment("/tmp/x.log"), CW_ENOTINIT);
  cw_clear_scope(); /* does nothing, does not crash */
}

static void test_scope_before_init_and_after_shutdown(void **state) {
  (void)state;
  expect_all_notinit();
  init_or_fail(NULL);
  assert_int_equal(cw_set_tag("k", "v"), 0);
  cw_shutdown();
  expect_all_notinit();
  /* A new cw_init starts from an empty scope. */
  init_or_fail(NULL);
  cw__scope_snapshot_t s;
  snap(&s);
  assert_int_equal(s.ntags, 0);
  cw__scope_snapshot_free(&s);
}

/* ---- setters and removers -------------------------------------------- */

static void test_scope_tags(void **state) {
  (void)state;
  init_or_fail(NULL);
  assert_int_equal(cw_set_tag("tenant", "acme"), 0);
  assert_int_equal(cw_set_tag("region", "eu-1"), 0);
  assert_int_equal(cw_set_tag("tenant", "globex"), 0); /* replaces */
  assert_int_equal(cw_set_tag(NULL, "v"), CW_EINVAL);
  assert_int_equal(cw_set_tag("", "v"), CW_EINVAL);
  assert_int_equal(cw_set_tag("k", NULL), CW_EINVAL);
  cw__scope_snapshot_t s;
  snap(&s);
  assert_int_equal(s.ntags, 2);
  assert_string_equal(kv_get(s.tags, s.ntags, "tenant"), "globex");
  assert_string_equal(kv_get(s.tags, s.ntags, "region"), "eu-1");
  cw__scope_snapshot_free(&s);
  assert_int_equal(cw_remove_tag("tenant"), 0);
  assert_int_equal(cw_remove_tag("tenant"), 0); /* not set: still 0 */
  assert_int_equal(cw_remove_tag(NULL), CW_EINVAL);
  snap(&s);
  assert_int_equal(s.ntags, 1);
  assert_null(kv_get(s.tags, s.ntags, "tenant"));
  assert_string_equal(kv_get(s.tags, s.ntags, "region"), "eu-1");
  cw__scope_snapshot_free(&s);
  /* A removed key's slot is reused; every key stays reachable. */
  char k[32], v[32];
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < 60; i++) {
      snprintf(k, sizeof(k), "key-%d", i);
      snprintf(v, sizeof(v), "v%d-%d", round, i);
      assert_int_equal(cw_set_tag(k, v), 0);
    }
    for (int i = 0; i < 60; i += 2) {
      snprintf(k, sizeof(k), "key-%d", i);
      assert_int_equal(cw_remove_tag(k), 0);
    }
  }
  snap(&s);
  assert_int_equal(s.ntags, 31);
  for (int i = 1; i < 60; i += 2) {
    snprintf(k, sizeof(k), "key-%d", i);
    snprintf(v, sizeof(v), "v2-%d", i);
    assert_string_equal(kv_get(s.tags, s.ntags, k), v);
  }
  cw__scope_snapshot_free(&s);
}

static void test_scope_extra(void **state) {
  (void)state;
  init_or_fail(NULL);
  assert_int_equal(cw_set_extra("n", "42"), 0);
  assert_int_equal(cw_set_extra("s", "\"text\""), 0);
  assert_int_equal(cw_set_extra("o", " {\"a\": [1, 2, null], \"b\": true} "),
                   0);
  assert_int_equal(cw_set_extra("bad", "{\"a\":}"), CW_EFORMAT);
  assert_int_equal(cw_set_extra("bad", "1 2"), CW_EFORMAT);
  assert_int_equal(cw_set_extra("bad", ""), CW_EFORMAT);
  assert_int_equal(cw_set_extra("bad", "\"\xff\""), CW_EFORMAT);
  assert_int_equal(cw_set_extra("bad", NULL), CW_EINVAL);
  assert_int_equal(cw_set_extra(NULL, "1"), CW_EINVAL);
  cw__scope_snapshot_t s;
  snap(&s);
  assert_int_equal(s.nextra, 3);
  assert_string_equal(kv_get(s.extra, s.nextra, "n"), "42");
  assert_string_equal(kv_get(s.extra, s.nextra, "s"), "\"text\"");
  assert_string_equal(kv_get(s.extra, s.nextra, "o"),
                      " {\"a\": [1, 2, null], \"b\": true} ");
  cw__scope_snapshot_free(&s);
  assert_int_equal(cw_remove_extra("n"), 0);
  snap(&s);
  assert_int_equal(s.nextra, 2);
  assert_null(kv_get(s.extra, s.nextra, "n"));
  cw__scope_snapshot_free(&s);
}

static void test_scope_contexts(void **state) {
  (void)state;
  init_or_fail(NULL);
  const char *kafka = "{\"topic\":\"orders\",\"partition\":3,\"offset\":7}";
  assert_int_equal(cw_set_context("kafka", kafka), 0);
  assert_int_equal(cw_set_context("kafka2", "[1]"), CW_EFORMAT);
  assert_int_equal(cw_set_context("kafka2", "\"s\""), CW_EFORMAT);
  assert_int_equal(cw_set_context("kafka2", "{"), CW_EFORMAT);
  assert_int_equal(cw_set_context(NULL, "{}"), CW_EINVAL);
  cw__scope_snapshot_t s;
  snap(&s);
  assert_int_equal(s.ncontexts, 1);
  assert_string_equal(kv_get(s.contexts, s.ncontexts, "kafka"), kafka);
  cw__scope_snapshot_free(&s);
  assert_int_equal(cw_remove_context("kafka"), 0);
  snap(&s);
  assert_int_equal(s.ncontexts, 0);
  cw__scope_snapshot_free(&s);
}

static void test_scope_user_level_transaction_fingerprint(void **state) {
  (void)state;
  init_or_fail(NULL);
  cw__scope_snapshot_t s;
  snap(&s);
  assert_int_equal(s.level, -1); /* unset */
  assert_null(s.user_id);
  assert_null(s.transaction);
  assert_int_equal(s.nfingerprint, 0);
  cw__scope_snapshot_free(&s);

  assert_int_equal(cw_set_user("42", "a@example.com", NULL, "10.0.0.1"), 0);
  assert_int_equal(cw_set_level(CW_LEVEL_WARNING), 0);
  assert_int_equal(cw_set_level((cw_level_t)5), CW_EINVAL);
  assert_int_equal(cw_set_level((cw_level_t)-1), CW_EINVAL);
  assert_int_equal(cw_set_transaction("GET /orders"), 0);
  const char *parts[] = {"{{ default }}", "db-timeout"};
  assert_int_equal(cw_set_fingerprint(parts, 2), 0);
  const char *nine[9] = {"1", "2", "3", "4", "5", "6", "7", "8", "9"};
  assert_int_equal(cw_set_fingerprint(nine, 9), CW_ETOOBIG);
  const char *with_null[] = {"a", NULL};
  assert_int_equal(cw_set_fingerprint(with_null, 2), CW_EINVAL);
  assert_int_equal(cw_set_fingerprint(NULL, 1), CW_EINVAL);
  snap(&s);
  assert_string_equal(s.user_id, "42");
  assert_string_equal(s.user_email, "a@example.com");
  assert_null(s.user_username);
  assert_string_equal(s.user_ip_address, "10.0.0.1");
  assert_int_equal(s.level, CW_LEVEL_WARNING);
  assert_string_equal(s.transaction, "GET /orders");
  assert_int_equal(s.nfingerprint, 2);
  assert_string_equal(s.fingerprint[0], "{{ default }}");
  assert_string_equal(s.fingerprint[1], "db-timeout");
  cw__scope_snapshot_free(&s);

  assert_int_equal(cw_set_user(NULL, NULL, NULL, NULL), 0); /* clears */
  assert_int_equal(cw_set_transaction(NULL), 0);
  assert_int_equal(cw_set_fingerprint(NULL, 0), 0);
  snap(&s);
  assert_null(s.user_id);
  assert_null(s.user_email);
  assert_null(s.transaction);
  assert_int_equal(s.nfingerprint, 0);
  assert_int_equal(s.level, CW_LEVEL_WARNING);
  cw__scope_snapshot_free(&s);
}

static void test_scope_clear(void **state) {
  (void)state;
  init_or_fail(NULL);
  assert_int_equal(cw_set_tag("t", "v"), 0);
  assert_int_equal(cw_set_extra("e", "1"), 0);
  assert_int_equal(cw_set_context("c", "{}"), 0);
  assert_int_equal(cw_set_user("u", NULL, NULL, NULL), 0);
  assert_int_equal(cw_set_level(CW_LEVEL_ERROR), 0);
  assert_int_equal(cw_set_transaction("tx"), 0);
  assert_int_equal(
      cw_set_trace("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"), 0);
  assert_int_equal(cw_add_breadcrumb(NULL, NULL, "m", CW_LEVEL_INFO, NULL), 0);
  assert_int_equal(cw_add_attachment("/var/log/app.log"), 0);
  cw_clear_scope();
  cw__scope_snapshot_t s;
  snap(&s);
  assert_int_equal(s.ntags + s.nextra + s.ncontexts + s.ncrumbs, 0);
  assert_null(s.user_id);
  assert_int_equal(s.level, -1);
  assert_null(s.transaction);
  assert_null(s.trace_id);
  assert_int_equal(s.nattachments, 1); /* attachments stay */
  cw__scope_snapshot_free(&s);
  assert_int_equal(cw_set_tag("t", "again"), 0);
  snap(&s);
  assert_string_equal(kv_get(s.tags, s.ntags, "t"), "again");
  cw__scope_snapshot_free(&s);
}

/* ---- limits ----------------------------------------------------------- */

static void test_scope_limits_strings_truncated(void **state) {
  (void)state;
  init_or_fail(NULL);
  /* 300 bytes of two-byte characters: cut on a character boundary, the
   * marker at the end, within 255 bytes. */
  char longv[301];
  for (int i = 0; i < 300; i += 2)
    memcpy(longv + i, "\xc3\xa9", 2); /* é */
  longv[300] = '\0';
  char longk[101];
  memset(longk, 'k', 100);
  longk[100] = '\0';
  assert_int_equal(cw_set_tag("v", longv), 0);
  assert_int_equal(cw_set_tag(longk, "x"), 0);
  assert_int_equal(cw_set_tag(longk, "y"), 0); /* the same truncated key */
  assert_int_equal(cw_set_transaction(longv), 0);
  assert_int_equal(cw_set_user(longv, NULL, NULL, NULL), 0);
  char msg[2000];
  memset(msg, 'm', sizeof(msg) - 1);
  msg[sizeof(msg) - 1] = '\0';
  assert_int_equal(cw_add_breadcrumb(longv, longv, msg, CW_LEVEL_INFO, NULL),
                   0);
  cw__scope_snapshot_t s;
  snap(&s);
  const char *v = kv_get(s.tags, s.ntags, "v");
  assert_non_null(v);
  assert_utf8(v);
  assert_true(strlen(v) <= 255);
  assert_true(strlen(v) >= 250);
  assert_string_equal(v + strlen(v) - 3, CW__UTF8_TRUNC_MARK);
  assert_memory_equal(v, longv, strlen(v) - 3);
  assert_int_equal(s.ntags, 2);
  for (size_t i = 0; i < s.ntags; i++) {
    if (strcmp(s.tags[i].key, "v") == 0)
      continue;
    assert_int_equal(strlen(s.tags[i].key), 63);
    assert_string_equal(s.tags[i].value, "y");
  }
  assert_true(strlen(s.transaction) <= 255);
  assert_utf8(s.transaction);
  assert_true(strlen(s.user_id) <= 255);
  assert_int_equal(s.ncrumbs, 1);
  assert_true(strlen(s.crumbs[0].type) <= 31);
  assert_utf8(s.crumbs[0].type);
  assert_true(strlen(s.crumbs[0].category) <= 63);
  assert_int_equal(strlen(s.crumbs[0].message), 511);
  assert_string_equal(s.crumbs[0].message + 508, CW__UTF8_TRUNC_MARK);
  cw__scope_snapshot_free(&s);
}

/* A JSON text of exactly n bytes: "[1,1,...]" padded with spaces. */
static char *json_of_len(size_t n) {
  char *j = malloc(n + 1);
  assert_non_null(j);
  memset(j, ' ', n);
  j[0] = '{';
  j[n - 1] = '}';
  j[n] = '\0';
  return j;
}

static void test_scope_limits_json_refused(void **state) {
  (void)state;
  init_or_fail(NULL);
  char *ok = json_of_len(CW__SCOPE_JSON_MAX - 1);
  char *big = json_of_len(CW__SCOPE_JSON_MAX);
  assert_int_equal(cw_set_extra("ok", ok), 0);
  assert_int_equal(cw_set_extra("big", big), CW_ETOOBIG);
  assert_int_equal(cw_set_context("ok", ok), 0);
  assert_int_equal(cw_set_context("big", big), CW_ETOOBIG);
  char *dok = json_of_len(CW__SCOPE_CRUMB_DATA_MAX - 1);
  char *dbig = json_of_len(CW__SCOPE_CRUMB_DATA_MAX);
  assert_int_equal(cw_add_breadcrumb("http", NULL, NULL, CW_LEVEL_INFO, dok),
                   0);
  assert_int_equal(cw_add_breadcrumb("http", NULL, NULL, CW_LEVEL_INFO, dbig),
                   CW_ETOOBIG);
  assert_int_equal(cw_add_breadcrumb("http", NULL, NULL, CW_LEVEL_INFO, "[]"),
                   CW_EFORMAT);
  assert_int_equal(
      cw_add_breadcrumb("http", NULL, NULL, CW_LEVEL_INFO, "{\"a\":1,}"),
      CW_EFORMAT);
  assert_int_equal(cw_add_breadcrumb("http", NULL, NULL, (cw_level_t)9, NULL),
                   CW_EINVAL);
  cw__scope_snapshot_t s;
  snap(&s);
  assert_string_equal(kv_get(s.extra, s.nextra, "ok"), ok);
  assert_null(kv_get(s.extra, s.nextra, "big"));
  assert_string_equal(kv_get(s.contexts, s.ncontexts, "ok"), ok);
  assert_int_equal(s.ncrumbs, 1);
  assert_string_equal(s.crumbs[0].data_json, dok);
  cw__scope_snapshot_free(&s);
  free(ok);
  free(big);
  free(dok);
  free(dbig);
}

static void test_scope_limits_counts(void **state) {
  (void)state;
  init_or_fail(NULL);
  char k[32];
  for (int i = 0; i < CW__SCOPE_NTAGS; i++) {
    snprintf(k, sizeof(k), "t%d", i);
    assert_int_equal(cw_set_tag(k, "v"), 0);
  }
  assert_int_equal(cw_set_tag("one-more", "v"), CW_ENOSPC);
  assert_int_equal(cw_set_tag("t5", "still settable"), 0);
  for (int i = 0; i < CW__SCOPE_NEXTRA; i++) {
    snprintf(k, sizeof(k), "e%d", i);
    assert_int_equal(cw_set_extra(k, "1"), 0);
  }
  assert_int_equal(cw_set_extra("one-more", "1"), CW_ENOSPC);
  for (int i = 0; i < CW__SCOPE_NCONTEXTS; i++) {
    snprintf(k, sizeof(k), "c%d", i);
    assert_int_equal(cw_set_context(k, "{}"), 0);
  }
  assert_int_equal(cw_set_context("one-more", "{}"), CW_ENOSPC);
  char path[64];
  for (int i = 0; i < CW__SCOPE_NATTACH; i++) {
    snprintf(path, sizeof(path), "/var/log/app-%d.log", i);
    assert_int_equal(cw_add_attachment(path), 0);
  }
  assert_int_equal(cw_add_attachment("/var/log/app-0.log"), 0); /* again */
  assert_int_equal(cw_add_attachment("/var/log/one-more.log"), CW_ENOSPC);
  char longpath[CW__SCOPE_PATH_MAX + 2];
  longpath[0] = '/';
  memset(longpath + 1, 'p', CW__SCOPE_PATH_MAX);
  longpath[CW__SCOPE_PATH_MAX + 1] = '\0';
  assert_int_equal(cw_add_attachment(longpath), CW_ETOOBIG);
  cw__scope_snapshot_t s;
  snap(&s);
  assert_int_equal(s.ntags, CW__SCOPE_NTAGS);
  assert_string_equal(kv_get(s.tags, s.ntags, "t5"), "still settable");
  assert_int_equal(s.nextra, CW__SCOPE_NEXTRA);
  assert_int_equal(s.ncontexts, CW__SCOPE_NCONTEXTS);
  assert_int_equal(s.nattachments, CW__SCOPE_NATTACH);
  cw__scope_snapshot_free(&s);
  /* Room again once one goes. */
  assert_int_equal(cw_remove_tag("t0"), 0);
  assert_int_equal(cw_set_tag("one-more", "v"), 0);
}

/* ---- breadcrumbs ------------------------------------------------------ */

static void test_scope_ring_wraps_oldest_first(void **state) {
  (void)state;
  init_or_fail(NULL); /* default ring: 100 */
  struct timespec t0;
  clock_gettime(CLOCK_REALTIME, &t0);
  char msg[32], data[64];
  for (int i = 0; i < 250; i++) {
    snprintf(msg, sizeof(msg), "crumb-%d", i);
    snprintf(data, sizeof(data), "{\"i\":%d}", i);
    assert_int_equal(
        cw_add_breadcrumb("default", "test", msg, (cw_level_t)(i % 5), data),
        0);
  }
  cw__scope_snapshot_t s;
  snap(&s);
  assert_int_equal(s.ncrumbs, 100);
  for (size_t i = 0; i < 100; i++) {
    snprintf(msg, sizeof(msg), "crumb-%zu", 150 + i);
    snprintf(data, sizeof(data), "{\"i\":%zu}", 150 + i);
    assert_string_equal(s.crumbs[i].message, msg);
    assert_string_equal(s.crumbs[i].data_json, data);
    assert_string_equal(s.crumbs[i].type, "default");
    assert_string_equal(s.crumbs[i].category, "test");
    assert_int_equal(s.crumbs[i].level, (int)((150 + i) % 5));
    /* The coarse clock: within a tick or two of the call. */
    int64_t t = (int64_t)t0.tv_sec * 1000000000 + t0.tv_nsec;
    assert_true(s.crumbs[i].timestamp_ns > t - 100000000);
    assert_true(s.crumbs[i].timestamp_ns < t + 60000000000);
    if (i > 0)
      assert_true(s.crumbs[i].timestamp_ns >= s.crumbs[i - 1].timestamp_ns);
  }
  cw__scope_snapshot_free(&s);
}

static void test_scope_ring_size_option(void **state) {
  (void)state;
  cw_options_t *o = cw_options_new();
  assert_int_equal(cw_options_set_max_breadcrumbs(o, 1001), CW_EINVAL);
  assert_int_equal(cw_options_set_max_breadcrumbs(o, 7), 0);
  init_or_fail(o);
  char msg[32];
  for (int i = 0; i < 20; i++) {
    snprintf(msg, sizeof(msg), "m%d", i);
    assert_int_equal(cw_add_breadcrumb(NULL, NULL, msg, CW_LEVEL_DEBUG, NULL),
                     0);
  }
  cw__scope_snapshot_t s;
  snap(&s);
  assert_int_equal(s.ncrumbs, 7);
  assert_string_equal(s.crumbs[0].message, "m13");
  assert_string_equal(s.crumbs[6].message, "m19");
  assert_null(s.crumbs[0].type);
  assert_null(s.crumbs[0].data_json);
  cw__scope_snapshot_free(&s);
  cw_shutdown();

  /* The environment, and 0 (no breadcrumbs kept). */
  setenv("CRASHWATCH_MAX_BREADCRUMBS", "0", 1);
  init_or_fail(NULL);
  assert_int_equal(cw_add_breadcrumb(NULL, NULL, "m", CW_LEVEL_DEBUG, NULL), 0);
  snap(&s);
  assert_int_equal(s.ncrumbs, 0);
  cw__scope_snapshot_free(&s);
  cw_shutdown();
  setenv("CRASHWATCH_MAX_BREADCRUMBS", "1000", 1);
  init_or_fail(NULL);
  for (int i = 0; i < 1200; i++)
    assert_int_equal(cw_add_breadcrumb(NULL, NULL, "m", CW_LEVEL_DEBUG, NULL),
                     0);
  snap(&s);
  assert_int_equal(s.ncrumbs, 1000);
  cw__scope_snapshot_free(&s);
  cw_shutdown();
  setenv("CRASHWATCH_MAX_BREADCRUMBS", "many", 1);
  assert_int_equal(cw_init(NULL), CW_EINVAL);
  assert_non_null(strstr(cw_last_error(), "CRASHWATCH_MAX_BREADCRUMBS"));
  unsetenv("CRASHWATCH_MAX_BREADCRUMBS");
}

/* ---- trace ------------------------------------------------------------ */

static void test_scope_trace(void **state) {
  (void)state;
  init_or_fail(NULL);
  const char *tid = "0af7651916cd43dd8448eb211c80319c";
  const char *sid = "b7ad6b7169203331";
  assert_int_equal(
      cw_set_trace("0AF7651916CD43DD8448EB211C80319C", "B7AD6B7169203331"), 0);
  cw__scope_snapshot_t s;
  snap(&s);
  assert_string_equal(s.trace_id, tid); /* stored lowercase */
  assert_string_equal(s.span_id, sid);
  cw__scope_snapshot_free(&s);
  /* Bad ids: lengths, non-hex, all zero, one missing. */
  assert_int_equal(cw_set_trace("0af7651916cd43dd8448eb211c80319", sid),
                   CW_EINVAL);
  assert_int_equal(cw_set_trace("0af7651916cd43dd8448eb211c80319cc", sid),
                   CW_EINVAL);
  assert_int_equal(cw_set_trace(tid, "b7ad6b716920333"), CW_EINVAL);
  assert_int_equal(cw_set_trace("0af7651916cd43dd8448eb211c80319g", sid),
                   CW_EINVAL);
  assert_int_equal(cw_set_trace("00000000000000000000000000000000", sid),
                   CW_EINVAL);
  assert_int_equal(cw_set_trace(tid, "0000000000000000"), CW_EINVAL);
  assert_int_equal(cw_set_trace(tid, NULL), CW_EINVAL);
  assert_int_equal(cw_set_trace(NULL, NULL), 0); /* clears */
  snap(&s);
  assert_null(s.trace_id);
  cw__scope_snapshot_free(&s);

  assert_int_equal(
      cw_set_traceparent(
          "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
      0);
  snap(&s);
  assert_string_equal(s.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  assert_string_equal(s.span_id, "00f067aa0ba902b7");
  cw__scope_snapshot_free(&s);
  static const char *const bad[] = {
      /* wrong version */
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      /* bad lengths */
      "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e47366-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
      "",
      /* non-hex, uppercase */
      "00-4bf92f3577b34da6a3ce929d0e0e473x-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba9z2b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
      /* separators */
      "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
      /* all-zero ids */
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    if (cw_set_traceparent(bad[i]) != CW_EINVAL)
      fail_msg("accepted traceparent '%s'", bad[i]);
  assert_int_equal(cw_set_traceparent(NULL), CW_EINVAL);
  snap(&s); /* unchanged by the refusals */
  assert_string_equal(s.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  cw__scope_snapshot_free(&s);
}

static void test_scope_traceparent_from_env(void **state) {
  (void)state;
  setenv("TRACEPARENT",
         "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", 1);
  init_or_fail(NULL);
  cw__scope_snapshot_t s;
  snap(&s);
  assert_string_equal(s.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  assert_string_equal(s.span_id, "00f067aa0ba902b7");
  cw__scope_snapshot_free(&s);
  cw_shutdown();
  /* A malformed one is ignored; cw_init still succeeds. */
  setenv("TRACEPARENT", "00-zz-00f067aa0ba902b7-01", 1);
  init_or_fail(NULL);
  snap(&s);
  assert_null(s.trace_id);
  cw__scope_snapshot_free(&s);
  unsetenv("TRACEPARENT");
}

/* ---- options and attachments ------------------------------------------ */

static void test_scope_options(void **state) {
  (void)state;
  setenv("SENTRY_DIST", "x86_64-deb12", 1);
  setenv("CRASHWATCH_ATTACHMENT_MAX_BYTES", "4096", 1);
  cw_options_t *o = cw_options_new();
  assert_int_equal(cw_options_set_attachment_max_bytes(o, 0), CW_EINVAL);
  assert_int_equal(cw_options_add_attachment(o, "app.log"), 0);
  assert_int_equal(cw_options_add_attachment(o, NULL), CW_EINVAL);
  init_or_fail(o);
  cw__scope_snapshot_t s;
  snap(&s);
  assert_string_equal(s.dist, "x86_64-deb12");
  char host[256] = "";
  gethostname(host, sizeof(host));
  assert_string_equal(s.server_name, host);
  assert_int_equal(s.send_default_pii, 0);
  assert_int_equal(s.attachment_max_bytes, 4096);
  char cwd[PATH_MAX], want[PATH_MAX + 16];
  assert_non_null(getcwd(cwd, sizeof(cwd)));
  snprintf(want, sizeof(want), "%s/app.log", cwd);
  assert_int_equal(s.nattachments, 1);
  assert_string_equal(s.attachments[0], want);
  cw__scope_snapshot_free(&s);
  cw_shutdown();
  unsetenv("SENTRY_DIST");
  unsetenv("CRASHWATCH_ATTACHMENT_MAX_BYTES");

  o = cw_options_new();
  assert_int_equal(cw_options_set_dist(o, "d2"), 0);
  assert_int_equal(cw_options_set_server_name(o, "web-7"), 0);
  assert_int_equal(cw_options_set_send_default_pii(o, 1), 0);
  init_or_fail(o);
  snap(&s);
  assert_string_equal(s.dist, "d2");
  assert_string_equal(s.server_name, "web-7");
  assert_int_equal(s.send_default_pii, 1);
  assert_int_equal(s.attachment_max_bytes, 256 * 1024); /* the default */
  assert_int_equal(s.nattachments, 0);
  cw__scope_snapshot_free(&s);
  /* Relative paths are taken against the working directory of the call. */
  assert_int_equal(chdir(tmpdir), 0);
  assert_int_equal(cw_add_attachment("logs/x.log"), 0);
  assert_int_equal(chdir(cwd), 0);
  snap(&s);
  snprintf(want, sizeof(want), "%s/logs/x.log", tmpdir);
  assert_int_equal(s.nattachments, 1);
  assert_string_equal(s.attachments[0], want);
  cw__scope_snapshot_free(&s);
}

/* ---- the watchdog holds the scope ------------------------------------- */

/* The watchdog started by cw_init (its idle stage, or the full watchdog
 * in sanitizer builds) holds the scope: reading it through the
 * watchdog's own fd (idle stage) or mapping (full watchdog) gives what
 * the app set. */
static void test_scope_watchdog_holds_it(void **state) {
  (void)state;
  init_or_fail(NULL);
  assert_int_equal(cw_set_tag("who", "watchdog"), 0);
  pid_t wd = cw__test_find_watchdog();
  assert_true(wd > 0);
  view_t v = {NULL, 0};
  char path[320];
  if (find_memfd(wd, path, sizeof(path)) >= 0) {
    v = map_scope_of(wd);
  } else {
    /* The full watchdog mapped it and closed the fd: find the mapping. */
    char maps[64], line[512];
    snprintf(maps, sizeof(maps), "/proc/%d/maps", (int)wd);
    FILE *f = fopen(maps, "r");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f) != NULL)
      if (strstr(line, "/memfd:crashwatch-scope") != NULL) {
        unsigned long lo, hi;
        assert_int_equal(sscanf(line, "%lx-%lx", &lo, &hi), 2);
        snprintf(path, sizeof(path), "/proc/%d/map_files/%lx-%lx", (int)wd, lo,
                 hi);
        int fd = open(path, O_RDONLY);
        assert_true(fd >= 0);
        v.len = hi - lo;
        v.map = mmap(NULL, v.len, PROT_READ, MAP_SHARED, fd, 0);
        assert_true(v.map != MAP_FAILED);
        close(fd);
        break;
      }
    fclose(f);
  }
  if (v.map == NULL)
    fail_msg("the watchdog %d holds no crashwatch-scope memfd", (int)wd);
  cw__scope_snapshot_t s;
  assert_int_equal(cw__scope_snapshot(v.map, v.len, &s), 0);
  const char *who = kv_get(s.tags, s.ntags, "who");
  if (who == NULL)
    fail_msg("the watchdog %d maps a scope without the tag just set", (int)wd);
  assert_string_equal(who, "watchdog");
  cw__scope_snapshot_free(&s);
  unmap(v);
}

/* ---- fork ------------------------------------------------------------- */

/* A forked child starts with the parent's scope and changes only its own:
 * the parent's scope is untouched by the child's calls, and the child's
 * memfd-less private copy no longer sees the parent's. */
static void test_scope_fork_child_has_own_copy(void **state) {
  (void)state;
  init_or_fail(NULL);
  assert_int_equal(cw_set_tag("role", "parent"), 0);
  assert_int_equal(
      cw_add_breadcrumb(NULL, NULL, "before-fork", CW_LEVEL_INFO, NULL), 0);
  int go[2], done[2];
  assert_int_equal(pipe(go), 0);
  assert_int_equal(pipe(done), 0);
  pid_t c = fork();
  assert_true(c >= 0);
  if (c == 0) {
    int ok =
        cw_set_tag("role", "child") == 0 &&
        cw_add_breadcrumb(NULL, NULL, "in-child", CW_LEVEL_INFO, NULL) == 0;
    /* The child has no scope memfd of its own (its crash handler makes
     * one at crash time). */
    char path[320];
    ok = ok && find_memfd(getpid(), path, sizeof(path)) < 0;
    char b = ok ? 'y' : 'n';
    ssize_t w = write(done[1], &b, 1);
    ssize_t r = read(go[0], &b, 1); /* the parent has written again */
    (void)w;
    (void)r;
    _exit(ok ? 0 : 1);
  }
  char b;
  assert_int_equal(read(done[0], &b, 1), 1);
  assert_int_equal(b, 'y');
  assert_int_equal(cw_set_tag("after", "fork"), 0);
  cw__scope_snapshot_t s;
  snap(&s);
  assert_string_equal(kv_get(s.tags, s.ntags, "role"), "parent");
  assert_int_equal(s.ncrumbs, 1);
  assert_string_equal(s.crumbs[0].message, "before-fork");
  cw__scope_snapshot_free(&s);
  assert_int_equal(write(go[1], "x", 1), 1);
  int status;
  assert_int_equal(waitpid(c, &status, 0), c);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  close(go[0]);
  close(go[1]);
  close(done[0]);
  close(done[1]);
}

/* ---- what a watchdog gets at a crash ---------------------------------- */

/* A child initializes crashwatch with the stand-in watchdog (which saves
 * the scope memfd it was handed when the crash record arrives), sets a
 * scope and dies by SIGABRT: directly ('d': the cw_init watchdog and its
 * memfd), from a forked grandchild ('f': a watchdog started at crash time
 * with a copy of the grandchild's private scope), or after closing every
 * fd above stderr ('c': a copy made from the mapping). Returns the saved
 * scope's snapshot. */
static void crash_and_read_scope(char how, cw__scope_snapshot_t *s) {
  char out[PATH_MAX + 16], scope_out[PATH_MAX + 16];
  snprintf(out, sizeof(out), "%s/record-%c", tmpdir, how);
  snprintf(scope_out, sizeof(scope_out), "%s/scope-%c", tmpdir, how);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
      signal(sigs[i], SIG_DFL);
    setenv("CRASHWATCH_WATCHDOG", CW_RECORD_WATCHDOG, 1);
    setenv("CW_RECORD_OUT", out, 1);
    setenv("CW_SCOPE_OUT", scope_out, 1);
    setenv("CRASHWATCH_ACK_TIMEOUT_MS", "20000", 1);
    if (cw_init(NULL) != 0)
      _exit(99);
    cw_set_tag("stage", "parent");
    cw_add_breadcrumb(NULL, NULL, "from the parent", CW_LEVEL_INFO, NULL);
    if (how == 'f') {
      pid_t g = fork();
      if (g == 0) {
        cw_set_tag("stage", "grandchild");
        cw_add_breadcrumb(NULL, NULL, "from the grandchild", CW_LEVEL_INFO,
                          NULL);
        raise(SIGABRT);
        _exit(97);
      }
      int st;
      waitpid(g, &st, 0);
      _exit(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT ? 0 : 96);
    }
    if (how == 'c')
      for (int fd = 3; fd < 1024; fd++)
        close(fd);
    raise(SIGABRT);
    _exit(98);
  }
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  if (how == 'f') {
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
  } else {
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
  }
  int fd = open(scope_out, O_RDONLY);
  if (fd < 0)
    fail_msg("case %c: the watchdog got no scope", how);
  struct stat st;
  assert_int_equal(fstat(fd, &st), 0);
  void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  assert_true(p != MAP_FAILED);
  close(fd);
  assert_int_equal(cw__scope_snapshot(p, (size_t)st.st_size, s), 0);
  munmap(p, (size_t)st.st_size);
}

static void test_scope_reaches_crash_watchdogs(void **state) {
  (void)state;
  static const struct {
    char how;
    const char *stage, *last_crumb;
    size_t ncrumbs;
  } cases[] = {{'d', "parent", "from the parent", 1},
               {'c', "parent", "from the parent", 1},
               {'f', "grandchild", "from the grandchild", 2}};
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    cw__scope_snapshot_t s;
    crash_and_read_scope(cases[i].how, &s);
    const char *stage = kv_get(s.tags, s.ntags, "stage");
    if (stage == NULL || strcmp(stage, cases[i].stage) != 0)
      fail_msg("case %c: stage '%s'", cases[i].how, stage ? stage : "(none)");
    assert_int_equal(s.ncrumbs, cases[i].ncrumbs);
    assert_string_equal(s.crumbs[s.ncrumbs - 1].message, cases[i].last_crumb);
    assert_string_equal(s.crumbs[0].message, "from the parent");
    cw__scope_snapshot_free(&s);
  }
}

/* ---- torn writes ------------------------------------------------------- */

typedef struct {
  int id;
  volatile int *stop;
  unsigned long *progress; /* writes done, all writers */
} writer_t;

static void *writer_main(void *arg) {
  writer_t *w = arg;
  char v[64], data[96];
  for (unsigned n = 0; !*w->stop; n++) {
    /* Values whose consistency can be checked: both numbers equal, and
     * long enough to span several cache lines. */
    snprintf(v, sizeof(v), "v-%u-%-40u-%u", n, n, n);
    cw_set_tag("k", v);
    cw_set_tag(w->id ? "k1" : "k0", v);
    snprintf(data, sizeof(data), "{\"n\":%u,\"m\":\"%u\"}", n, n);
    cw_set_extra("x", data);
    /* The category names the writer, so that the reader can check each
     * writer's crumbs come out in the order it added them. */
    cw_add_breadcrumb("t", w->id ? "c1" : "c0", v, CW_LEVEL_INFO, data);
    if (n % 7 == 0)
      cw_remove_tag("k1");
    __atomic_fetch_add(w->progress, 1, __ATOMIC_RELAXED);
  }
  return NULL;
}

/* "v-N-N...-N" with all three numbers equal. */
static int consistent(const char *v) {
  unsigned a, b, c;
  if (sscanf(v, "v-%u-%u -%u", &a, &b, &c) != 3)
    return 0;
  return a == b && b == c;
}

static void test_scope_torn_writes_never_seen(void **state) {
  (void)state;
  init_or_fail(NULL);
  volatile int stop = 0;
  unsigned long progress = 0;
  writer_t w[2] = {{0, &stop, &progress}, {1, &stop, &progress}};
  pthread_t t[2];
  for (int i = 0; i < 2; i++)
    assert_int_equal(pthread_create(&t[i], NULL, writer_main, &w[i]), 0);
  view_t v = map_scope_of(getpid());
  assert_non_null(v.map);
  int seen = 0;
  /* At least 1000 snapshots, and as many as it takes for the writers to
   * have rewritten the entries 20000 times and for a snapshot to have
   * caught a tag between two writes (on a busy machine the writers may be
   * scheduled late, or descheduled inside a write): no timing involved. */
  for (int round = 0; round < 1000 || seen == 0 ||
                      __atomic_load_n(&progress, __ATOMIC_RELAXED) < 20000;
       round++) {
    cw__scope_snapshot_t s;
    assert_int_equal(cw__scope_snapshot(v.map, v.len, &s), 0);
    for (size_t i = 0; i < s.ntags; i++) {
      if (!consistent(s.tags[i].value))
        fail_msg("torn tag %s = '%s'", s.tags[i].key, s.tags[i].value);
      seen++;
    }
    for (size_t i = 0; i < s.nextra; i++) {
      unsigned a, b;
      if (sscanf(s.extra[i].value, "{\"n\":%u,\"m\":\"%u\"}", &a, &b) != 2 ||
          a != b)
        fail_msg("torn extra '%s'", s.extra[i].value);
    }
    /* Ring order is the order in which crumbs took their positions. Each
     * writer's own crumbs must come out in the order it added them. The
     * timestamps of two writers are not ordered across threads: a writer
     * that takes a position and is descheduled before it reads the clock
     * stamps a later time than the other writer's next crumb. */
    long last_n[2] = {-1, -1};
    for (size_t i = 0; i < s.ncrumbs; i++) {
      unsigned a, b;
      if (!consistent(s.crumbs[i].message) ||
          sscanf(s.crumbs[i].data_json, "{\"n\":%u,\"m\":\"%u\"}", &a, &b) !=
              2 ||
          a != b)
        fail_msg("torn crumb '%s' %s", s.crumbs[i].message,
                 s.crumbs[i].data_json);
      int who = strcmp(s.crumbs[i].category, "c1") == 0;
      if ((long)a <= last_n[who])
        fail_msg("writer %d's crumb %u after its crumb %ld", who, a,
                 last_n[who]);
      last_n[who] = (long)a;
    }
    cw__scope_snapshot_free(&s);
  }
  stop = 1;
  for (int i = 0; i < 2; i++)
    pthread_join(t[i], NULL);
  unmap(v);
  assert_true(seen > 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_scope_before_init_and_after_shutdown,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_scope_tags, setup, teardown),
      cmocka_unit_test_setup_teardown(test_scope_extra, setup, teardown),
      cmocka_unit_test_setup_teardown(test_scope_contexts, setup, teardown),
      cmocka_unit_test_setup_teardown(
          test_scope_user_level_transaction_fingerprint, setup, teardown),
      cmocka_unit_test_setup_teardown(test_scope_clear, setup, teardown),
      cmocka_unit_test_setup_teardown(test_scope_limits_strings_truncated,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_scope_limits_json_refused, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_scope_limits_counts, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_scope_ring_wraps_oldest_first, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_scope_ring_size_option, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_scope_trace, setup, teardown),
      cmocka_unit_test_setup_teardown(test_scope_traceparent_from_env, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_scope_options, setup, teardown),
      cmocka_unit_test_setup_teardown(test_scope_watchdog_holds_it, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_scope_fork_child_has_own_copy, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_scope_reaches_crash_watchdogs, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_scope_torn_writes_never_seen, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
