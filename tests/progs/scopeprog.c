/*
 * scopeprog.c — a program that fills crashwatch's scope through the public
 * API (cw_set_tag ... cw_add_breadcrumb, include/crashwatch.h) and then
 * crashes (a NULL write), for tests/integration/scope_test.py.
 *
 *   scopeprog all              every kind of scope entry, then the crash
 *   scopeprog crumbs N         N breadcrumbs "crumb-<i>" (data {"i":i})
 *   scopeprog hammer           eight threads set tags and add breadcrumbs
 *                              in a loop; the main thread crashes while
 *                              they run
 *   scopeprog attach PATH...   registers each PATH, then the crash
 *   scopeprog secret           secrets in extra, a tag, a context and a
 *                              breadcrumb's data
 *   scopeprog user-noip        a user without an address (send_default_pii
 *                              from the environment)
 *
 * Environment: CRASHWATCH_SPOOL, SENTRY_DSN, ... as for any app.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crashwatch.h"

static void check(int rc, const char *what) {
  if (rc != 0) {
    fprintf(stderr, "scopeprog: %s: %s\n", what, cw_strerror(rc));
    exit(3);
  }
}

/* Read through a volatile so the compiler cannot see the NULL. */
static int *volatile null_ptr;

static void __attribute__((noinline)) crash(void) { *null_ptr = 42; }

static void all(void) {
  check(cw_set_tag("tenant", "acme"), "tag");
  check(cw_set_tag("region", "eu-west-1"), "tag");
  check(cw_set_tag("gone", "x"), "tag");
  check(cw_remove_tag("gone"), "remove_tag");
  check(cw_set_extra("order", "{\"id\":7,\"items\":[1,2,3],\"ok\":true}"),
        "extra");
  check(cw_set_extra("ratio", "0.5"), "extra");
  check(cw_set_extra("gone", "1"), "extra");
  check(cw_remove_extra("gone"), "remove_extra");
  check(cw_set_user("42", "ann@example.com", "ann", NULL), "user");
  check(cw_set_context("kafka",
                       "{\"topic\":\"orders\",\"partition\":3,\"offset\":"
                       "12345}"),
        "context");
  check(cw_set_context("gone", "{}"), "context");
  check(cw_remove_context("gone"), "remove_context");
  const char *fp[] = {"{{ default }}", "db-pool"};
  check(cw_set_fingerprint(fp, 2), "fingerprint");
  check(cw_set_level(CW_LEVEL_ERROR), "level");
  check(cw_set_transaction("GET /orders"), "transaction");
  check(cw_set_traceparent(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        "traceparent");
  check(cw_add_breadcrumb("http", "net", "GET /orders", CW_LEVEL_INFO,
                          "{\"status\":200}"),
        "breadcrumb");
  check(cw_add_breadcrumb(NULL, "db", "pool exhausted", CW_LEVEL_WARNING, NULL),
        "breadcrumb");
}

static void crumbs(int n) {
  for (int i = 0; i < n; i++) {
    char msg[32], data[32];
    snprintf(msg, sizeof(msg), "crumb-%d", i);
    snprintf(data, sizeof(data), "{\"i\":%d}", i);
    check(cw_add_breadcrumb("default", "test", msg, CW_LEVEL_INFO, data),
          "breadcrumb");
  }
}

/* Each hammering thread k writes tag "t<k>" = "v<i>-<i>" and breadcrumbs
 * "w<k>-<i>" with data {"k":k,"i":i}: an entry is consistent when its
 * parts agree. */
static atomic_int started;

static void *hammer_thread(void *arg) {
  int k = (int)(long)arg;
  char key[16], val[48], msg[48], data[64];
  snprintf(key, sizeof(key), "t%d", k);
  for (long i = 0;; i++) {
    snprintf(val, sizeof(val), "v%ld-%ld", i, i);
    cw_set_tag(key, val);
    snprintf(msg, sizeof(msg), "w%d-%ld", k, i);
    snprintf(data, sizeof(data), "{\"k\":%d,\"i\":%ld}", k, i);
    cw_add_breadcrumb("default", "hammer", msg, CW_LEVEL_DEBUG, data);
    if (i == 1000)
      atomic_fetch_add(&started, 1);
  }
  return NULL;
}

static void hammer(void) {
  for (long k = 0; k < 8; k++) {
    pthread_t t;
    if (pthread_create(&t, NULL, hammer_thread, (void *)k) != 0)
      exit(3);
  }
  while (atomic_load(&started) < 8)
    usleep(1000);
}

static void secret(void) {
  check(cw_set_extra("db", "{\"host\":\"db1\",\"password\":\"hunter2\"}"),
        "extra");
  check(cw_set_extra("api_token", "\"tok-123456\""), "extra");
  check(cw_set_tag("session_id", "sess-abcdef"), "tag");
  check(cw_set_context("auth", "{\"user\":\"svc\",\"scheme\":\"basic\"}"),
        "context");
  check(cw_add_breadcrumb("http", "net", "login", CW_LEVEL_INFO,
                          "{\"url\":\"/login\",\"headers\":{\"Cookie\":"
                          "\"sid=s3cr3tc00kie\"}}"),
        "breadcrumb");
  check(cw_set_extra("tenant_pin", "\"9876\""), "extra");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: scopeprog MODE [ARGS]\n");
    return 2;
  }
  const char *mode = argv[1];
  cw_options_t *o = cw_options_new();
  if (strcmp(mode, "attach") == 0)
    for (int i = 2; i < argc; i++)
      check(cw_options_add_attachment(o, argv[i]), "add_attachment");
  if (cw_init(o) != 0) {
    fprintf(stderr, "scopeprog: cw_init: %s\n", cw_last_error());
    return 3;
  }
  if (strcmp(mode, "all") == 0)
    all();
  else if (strcmp(mode, "crumbs") == 0)
    crumbs(argc > 2 ? atoi(argv[2]) : 250);
  else if (strcmp(mode, "hammer") == 0)
    hammer();
  else if (strcmp(mode, "attach") == 0)
    check(cw_set_tag("tenant", "acme"), "tag"); /* files: the options */
  else if (strcmp(mode, "secret") == 0)
    secret();
  else if (strcmp(mode, "user-noip") == 0)
    check(cw_set_user("7", NULL, "bob", NULL), "user");
  else {
    fprintf(stderr, "scopeprog: unknown mode %s\n", mode);
    return 2;
  }
  crash();
  return 0;
}
