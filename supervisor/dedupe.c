/*
 * dedupe.c — crash-loop dedupe (normal context): a program restarted
 * after each crash that crashes again the same way should not make N
 * reports and N uploads. A crash's signature is its signal and innermost
 * in-app frames (event_sig.c). The first report of a signature opens a
 * loop and is held in the spool under its spool lock (uploaders skip a
 * locked report) while the loop is open; a crash with the same signature
 * within --dedupe-window of the first removes its own report and counts on
 * the first one: the event gets extra "crashwatch.crash_count" = N and the
 * tag "crashwatch.crash_loop" = "true", rewritten atomically. A different
 * signature, the window's end, or the supervisor's exit closes the loop
 * and unlocks the first report, which the next upload pass delivers with
 * the final count.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "crashwatch.h"
#include "spool.h"
#include "sup_internal.h"

void cw__sup_dedupe_init(cw__sup_dedupe_t *d, long window_ms) {
  memset(d, 0, sizeof(*d));
  d->window_ms = window_ms;
  d->lock_fd = -1;
}

/* The report's spool lock, waiting up to 10 s for whoever holds it: the
 * program's watchdog (preload mode) keeps it while it symbolizes the
 * report it just committed. */
static int lock_wait(const char *spool, const char *id, int *fd) {
  for (int i = 0;; i++) {
    int rc = cw__spool_lock(spool, id, fd);
    if (rc != CW_EBUSY || i == 500)
      return rc;
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
}

static const char *base(const char *path) {
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

static void spool_of(const char *report, char *out, size_t cap) {
  snprintf(out, cap, "%s", report);
  char *s = strrchr(out, '/');
  if (s != NULL)
    *s = '\0';
}

int cw__sup_dedupe_expire(cw__sup_dedupe_t *d, int64_t now_ms, int force) {
  if (d->key[0] == '\0')
    return 0;
  if (!force && now_ms - d->first_ms < d->window_ms)
    return 0;
  if (d->lock_fd >= 0)
    cw__spool_unlock(d->lock_fd);
  d->lock_fd = -1;
  d->key[0] = '\0';
  d->first[0] = '\0';
  d->count = 0;
  return 1;
}

long cw__sup_dedupe_left(const cw__sup_dedupe_t *d, int64_t now_ms) {
  if (d->key[0] == '\0')
    return -1;
  long left = (long)(d->first_ms + d->window_ms - now_ms);
  return left > 0 ? left : 0;
}

/* Writes the count into the first report's event. */
static void count_into_event(const cw__sup_dedupe_t *d) {
  char *json;
  size_t len;
  if (cw__sup_event_read(d->first, &json, &len) != 0)
    return;
  char raw[32];
  snprintf(raw, sizeof(raw), "%ld", d->count);
  cw__buf_t b1 = CW_BUF_INIT, b2 = CW_BUF_INIT;
  if (cw__sup_event_set(json, len, "extra", "crashwatch.crash_count", raw,
                        &b1) == 0 &&
      cw__sup_event_set((const char *)b1.data, b1.len, "tags",
                        "crashwatch.crash_loop", "\"true\"", &b2) == 0) {
    char path[4096 + 16];
    snprintf(path, sizeof(path), "%s/event.json", d->first);
    int rc = cw__spool_write_atomic(path, b2.data, b2.len);
    if (rc != 0)
      cw__sup_log("crash loop: cannot update %s (error %d)", path, rc);
  }
  cw__buf_free(&b1);
  cw__buf_free(&b2);
  free(json);
}

long cw__sup_dedupe_crash(cw__sup_dedupe_t *d, const char *spool,
                          const char *report, const char *key, int64_t now_ms) {
  if (d->window_ms <= 0)
    return 1;
  if (d->key[0] != '\0' && strcmp(d->key, key) == 0 &&
      now_ms - d->first_ms < d->window_ms && access(d->first, F_OK) == 0 &&
      strcmp(d->first, report) != 0) {
    int lfd = -1;
    int rc = lock_wait(spool, base(report), &lfd);
    if (rc == 0) {
      rc = cw__spool_remove_report(spool, base(report));
      cw__spool_unlock(lfd);
    }
    if (rc != 0)
      cw__sup_log("crash loop: cannot remove the repeated report %s (error "
                  "%d)",
                  report, rc);
    d->count++;
    count_into_event(d);
    return d->count;
  }
  cw__sup_dedupe_expire(d, now_ms, 1);
  snprintf(d->key, sizeof(d->key), "%s", key);
  snprintf(d->first, sizeof(d->first), "%s", report);
  d->first_ms = now_ms;
  d->count = 1;
  char sp[4096];
  spool_of(report, sp, sizeof(sp));
  int fd = -1;
  if (lock_wait(sp, base(report), &fd) == 0)
    d->lock_fd = fd;
  return 1;
}
