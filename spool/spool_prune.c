/* spool_prune.c — keeping the spool within its limits (count, bytes, age),
 * oldest first, for the watchdog after each commit and the uploader before
 * each pass; and moving aside what is not a report (symbolic links and
 * other non-directories at report names, stale .tmp- directories, reports
 * too large to ever fit). See cw__spool_prune() in spool.h. Normal context. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crashwatch.h"
#include "spool.h"
#include "spool_internal.h"

typedef struct {
  const char *spool_dir;
  spool_log_fn log;
  void *ctx;
  spool_prune_stats_t *st;
} pruner_t;

static void plog(const pruner_t *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void plog(const pruner_t *p, const char *fmt, ...) {
  if (p->log == NULL)
    return;
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  p->log(p->ctx, line);
}

static void move_aside(const pruner_t *p, const char *name,
                       const char *reason) {
  int rc = cw__spool_quarantine(p->spool_dir, name, reason);
  if (rc == 0) {
    p->st->quarantined++;
    plog(p, "moved %s to failed/: %s", name, reason);
  } else {
    p->st->errors++;
    plog(p, "cannot move %s to failed/: %s", name,
         rc == CW_ESPOOL ? cw__spool_last_error() : cw_strerror(rc));
  }
}

static const char *kind(mode_t m) {
  return S_ISLNK(m)                 ? "a symbolic link"
         : S_ISREG(m)               ? "a regular file"
         : S_ISFIFO(m)              ? "a FIFO"
         : S_ISSOCK(m)              ? "a socket"
         : S_ISCHR(m) || S_ISBLK(m) ? "a device"
                                    : "not a directory";
}

/* Entries at report names that are not real directories: never followed,
 * never deleted silently; moved to failed/ as they are. */
static void sweep_non_reports(const pruner_t *p, int sfd) {
  char **names;
  size_t n;
  if (cw__spool_list_at(sfd, "", &names, &n) != 0)
    return;
  for (size_t i = 0; i < n; i++) {
    struct stat st;
    if (!cw__spool_is_report_name(names[i]) ||
        fstatat(sfd, names[i], &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        S_ISDIR(st.st_mode))
      continue;
    char reason[160];
    snprintf(reason, sizeof(reason),
             "not a report: %s where a report directory should be (never "
             "followed or opened)",
             kind(st.st_mode));
    move_aside(p, names[i], reason);
  }
  cw__spool_list_free(names, n);
}

static void quarantine_stale_tmp(const pruner_t *p, int sfd, int64_t now) {
  char **names;
  size_t n;
  if (cw__spool_list_at(sfd, SPOOL_TMP_PREFIX, &names, &n) != 0)
    return;
  for (size_t i = 0; i < n; i++) {
    struct stat st;
    if (fstatat(sfd, names[i], &st, AT_SYMLINK_NOFOLLOW) != 0)
      continue;
    int64_t newest = cw__spool_mtime_ms(&st);
    if (S_ISDIR(st.st_mode))
      cw__spool_bytes_at(sfd, names[i], &newest);
    int64_t age = now - newest;
    if (age <= (int64_t)SPOOL_STALE_TMP_SECONDS * 1000)
      continue;
    char reason[256];
    snprintf(reason, sizeof(reason),
             "incomplete report: its writer stopped %lld s ago without "
             "committing it",
             (long long)(age / 1000));
    move_aside(p, names[i], reason);
  }
  cw__spool_list_free(names, n);
}

static int delete_report(const pruner_t *p, const char *id, const char *why,
                         long long bytes, int64_t age_ms) {
  int fd;
  if (cw__spool_lock(p->spool_dir, id, &fd) != 0)
    return -1; /* being uploaded or written right now, or gone */
  int rc = cw__spool_remove_report(p->spool_dir, id);
  cw__spool_retry_remove(p->spool_dir, id);
  cw__spool_unlock(fd);
  if (rc != 0) {
    plog(p, "cannot prune %s: %s", id, cw_strerror(rc));
    p->st->errors++;
    return -1;
  }
  p->st->pruned++;
  plog(p, "pruned %s (%s; %lld bytes, %lld s old)", id, why, bytes,
       (long long)(age_ms / 1000));
  return 0;
}

static void prune_reports(const pruner_t *p, int sfd, const spool_limits_t *l,
                          const char *keep, int64_t now) {
  char **ids;
  size_t n;
  if (cw__spool_list_at(sfd, NULL, &ids, &n) != 0)
    return;
  long long *bytes = calloc(n ? n : 1, sizeof(long long));
  int64_t *mt = calloc(n ? n : 1, sizeof(int64_t));
  if (bytes == NULL || mt == NULL) {
    free(bytes);
    free(mt);
    cw__spool_list_free(ids, n);
    return;
  }
  long long total = 0;
  size_t live = n;
  for (size_t i = 0; i < n; i++) {
    struct stat st;
    mt[i] = fstatat(sfd, ids[i], &st, AT_SYMLINK_NOFOLLOW) == 0
                ? cw__spool_mtime_ms(&st)
                : now;
    bytes[i] = cw__spool_bytes_at(sfd, ids[i], NULL);
    total += bytes[i];
  }
  /* A report that alone exceeds the byte limit could never stay: it goes
   * to failed/ with the reason rather than being deleted undelivered. */
  for (size_t i = 0; l->max_bytes > 0 && i < n; i++) {
    if (bytes[i] <= l->max_bytes || (keep && strcmp(ids[i], keep) == 0))
      continue;
    int fd;
    if (cw__spool_lock(p->spool_dir, ids[i], &fd) != 0)
      continue;
    char reason[200];
    snprintf(reason, sizeof(reason),
             "report too large: %lld bytes, more than the spool's size "
             "limit of %lld bytes",
             bytes[i], l->max_bytes);
    int before = p->st->quarantined;
    move_aside(p, ids[i], reason);
    cw__spool_unlock(fd);
    if (p->st->quarantined > before) {
      cw__spool_retry_remove(p->spool_dir, ids[i]);
      total -= bytes[i];
      live--;
      bytes[i] = -1; /* gone */
    }
  }
  for (size_t i = 0; i < n; i++) {
    if (bytes[i] < 0 || (keep && strcmp(ids[i], keep) == 0))
      continue;
    const char *why = NULL;
    char whybuf[96];
    if (l->max_age_ms > 0 && now - mt[i] > l->max_age_ms) {
      snprintf(whybuf, sizeof(whybuf), "older than %lld s",
               (long long)(l->max_age_ms / 1000));
      why = whybuf;
    } else if (l->max_reports > 0 && (long)live > l->max_reports) {
      snprintf(whybuf, sizeof(whybuf), "more than %ld reports", l->max_reports);
      why = whybuf;
    } else if (l->max_bytes > 0 && total > l->max_bytes) {
      snprintf(whybuf, sizeof(whybuf), "spool larger than %lld bytes",
               l->max_bytes);
      why = whybuf;
    }
    if (why == NULL)
      continue;
    if (delete_report(p, ids[i], why, bytes[i], now - mt[i]) == 0) {
      live--;
      total -= bytes[i];
    }
  }
  free(bytes);
  free(mt);
  cw__spool_list_free(ids, n);
}

static int is_reason(const char *name) {
  size_t l = strlen(name);
  return l > 7 && strcmp(name + l - 7, ".reason") == 0;
}

/* failed/: entries (each with a .reason file) by age and count. */
static void prune_failed(const pruner_t *p, int sfd, const spool_limits_t *l,
                         int64_t now) {
  int ffd = cw__spool_open_subdir_at(sfd, SPOOL_FAILED_DIR);
  if (ffd < 0)
    return;
  char **names;
  size_t n;
  if (cw__spool_list_at(ffd, "", &names, &n) != 0) {
    close(ffd);
    return;
  }
  size_t entries = 0;
  for (size_t i = 0; i < n; i++)
    if (!is_reason(names[i]))
      entries++;
  for (size_t i = 0; i < n; i++) {
    if (is_reason(names[i]))
      continue;
    struct stat st;
    if (fstatat(ffd, names[i], &st, AT_SYMLINK_NOFOLLOW) != 0)
      continue;
    const char *why = NULL;
    if (l->max_age_ms > 0 && now - cw__spool_mtime_ms(&st) > l->max_age_ms)
      why = "failed report past the age limit";
    else if (l->failed_max >= 0 && (long)entries > l->failed_max)
      why = "more failed reports than the limit";
    if (why == NULL)
      continue;
    long long b = cw__spool_bytes_at(ffd, names[i], NULL);
    if (cw__spool_remove_tree_at(ffd, names[i]) != 0) {
      p->st->errors++;
      continue;
    }
    char rname[NAME_MAX + 1];
    if ((size_t)snprintf(rname, sizeof(rname), "%s.reason", names[i]) <
        sizeof(rname))
      unlinkat(ffd, rname, 0);
    entries--;
    p->st->pruned++;
    plog(p, "pruned failed/%s (%s; %lld bytes)", names[i], why, b);
  }
  cw__spool_list_free(names, n);
  close(ffd);
}

void cw__spool_prune(const char *spool_dir, const spool_limits_t *lim,
                     const char *keep, int64_t now_ms, spool_log_fn log,
                     void *log_ctx, spool_prune_stats_t *st) {
  memset(st, 0, sizeof(*st));
  pruner_t p = {spool_dir, log, log_ctx, st};
  int sfd = cw__spool_open_dir(spool_dir, 0);
  if (sfd < 0) {
    st->errors++;
    plog(&p, "cannot open %s: %s", spool_dir, strerror(errno));
    return;
  }
  sweep_non_reports(&p, sfd);
  quarantine_stale_tmp(&p, sfd, now_ms);
  prune_reports(&p, sfd, lim, keep, now_ms);
  prune_failed(&p, sfd, lim, now_ms);
  close(sfd);
}
