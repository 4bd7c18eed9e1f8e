/* report_view.c — the reports of a spool and their delivery state, for
 * `crashwatch list` and `show`; see report_view.h. */
#include "report_view.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crashwatch.h"
#include "json_read.h"
#include "read_all.h"
#include "md_pid.h"
#include "spool.h"
#include "upload_metrics.h"

/* An event.json larger than this is not read (the uploader refuses more
 * than 512 MiB for a whole report; an event is usually under 1 MiB). */
#define EVENT_MAX (64 * 1024 * 1024)

int cw__rv_check_spool(const char *cmd, const char *spool) {
  if (spool == NULL) {
    fprintf(stderr, "%s: no spool directory (--spool or CRASHWATCH_SPOOL)\n",
            cmd);
    return 1;
  }
  struct stat st;
  if (stat(spool, &st) != 0) {
    if (errno == ENOENT)
      fprintf(stderr, "%s: spool directory %s does not exist\n", cmd, spool);
    else
      fprintf(stderr, "%s: spool directory %s: %s\n", cmd, spool,
              strerror(errno));
    return 1;
  }
  if (!S_ISDIR(st.st_mode)) {
    fprintf(stderr, "%s: spool directory %s is not a directory\n", cmd, spool);
    return 1;
  }
  if (access(spool, R_OK | X_OK) != 0) {
    fprintf(stderr, "%s: spool directory %s: %s\n", cmd, spool,
            strerror(errno));
    return 1;
  }
  return 0;
}

/* Reads <dir>/<name> if it is a regular file (never through a symbolic
 * link); malloc'd, NUL-terminated; NULL otherwise. */
static char *read_file_at(int dfd, const char *name, size_t max, size_t *len) {
  int fd = openat(dfd, name,
                  O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
    close(fd);
    return NULL;
  }
  char *buf;
  int rc = cw__read_all(fd, (size_t)st.st_size, max, &buf, len);
  close(fd);
  return rc == 0 ? buf : NULL;
}

static int64_t parse_time(const char *ts) {
  struct tm tm;
  memset(&tm, 0, sizeof(tm));
  const char *rest = strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm);
  if (rest == NULL)
    return 0;
  int64_t ms = (int64_t)timegm(&tm) * 1000;
  if (*rest == '.') {
    int64_t f = 0, scale = 100;
    for (rest++; *rest >= '0' && *rest <= '9'; rest++, scale /= 10)
      f += (*rest - '0') * scale;
    ms += f;
  }
  return ms;
}

/* Fills v from the report directory <parent>/<name>. */
static void load_report(const char *parent, const char *name, cw__rv_t *v) {
  snprintf(v->name, sizeof(v->name), "%s", name);
  snprintf(v->id, sizeof(v->id), "%.32s", name);
  snprintf(v->dir, sizeof(v->dir), "%s/%s", parent, name);
  int dfd = open(v->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0)
    return;
  struct stat st;
  if (fstat(dfd, &st) == 0)
    v->time_ms =
        (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
  size_t len;
  char *text = read_file_at(dfd, SPOOL_EVENT_FILE, EVENT_MAX, &len);
  cw__jv_t *ev = NULL;
  if (text != NULL)
    cw__jv_parse(text, len, &ev, NULL, 0);
  free(text);
  cw__event_summary(ev, &v->ev);
  cw__jv_free(ev);
  int64_t t = parse_time(v->ev.timestamp);
  if (t > 0)
    v->time_ms = t;
  int fd = openat(dfd, SPOOL_MINIDUMP_FILE,
                  O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd >= 0) {
    uint32_t pid;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
        cw__md_peek_pid_fd(fd, &pid) == 0)
      v->ev.pid = pid;
    close(fd);
  }
  close(dfd);
}

/* Whether the report has files besides event.json (a rate limit on
 * attachments then holds it back too). */
static int has_attachments(const char *dir) {
  DIR *d = opendir(dir);
  if (d == NULL)
    return 0;
  int any = 0;
  struct dirent *e;
  while (!any && (e = readdir(d)) != NULL)
    any = e->d_name[0] != '.' && strcmp(e->d_name, SPOOL_EVENT_FILE) != 0;
  closedir(d);
  return any;
}

static int push(cw__rv_t **v, size_t *n, size_t *cap) {
  if (*n == *cap) {
    size_t nc = *cap ? *cap * 2 : 16;
    cw__rv_t *p = realloc(*v, nc * sizeof(**v));
    if (p == NULL)
      return CW_ENOMEM;
    *v = p;
    *cap = nc;
  }
  memset(&(*v)[*n], 0, sizeof(**v));
  (*n)++;
  return 0;
}

static int by_time(const void *a, const void *b) {
  const cw__rv_t *x = a, *y = b;
  if (x->time_ms != y->time_ms)
    return x->time_ms < y->time_ms ? -1 : 1;
  return strcmp(x->id, y->id);
}

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

int cw__rv_collect(const char *spool, int all, int64_t now_ms, cw__rv_t **out,
                   size_t *n) {
  *out = NULL;
  *n = 0;
  cw__rv_t *v = NULL;
  size_t nv = 0, cap = 0;
  char **ids;
  size_t nids;
  int rc = cw__spool_list(spool, &ids, &nids);
  if (rc != 0)
    return rc;
  for (size_t i = 0; i < nids && rc == 0; i++) {
    if ((rc = push(&v, &nv, &cap)) != 0)
      break;
    cw__rv_t *r = &v[nv - 1];
    load_report(spool, ids[i], r);
    spool_retry_t rs;
    cw__spool_retry_load(spool, ids[i], &rs);
    r->attempts = rs.attempts;
    r->next_ms = rs.next_ms;
    snprintf(r->last_error, sizeof(r->last_error), "%s", rs.last_error);
    r->limited_until_ms =
        cw__upload_report_blocked_until(spool, has_attachments(r->dir), now_ms);
    /* Whichever holds it back longer says when it goes next. */
    if (rs.attempts > 0 && rs.next_ms > now_ms &&
        rs.next_ms >= r->limited_until_ms)
      r->state = CW__RV_RETRYING;
    else if (r->limited_until_ms > now_ms)
      r->state = CW__RV_RATE_LIMITED;
    else if (rs.attempts > 0)
      r->state = CW__RV_RETRYING;
    else
      r->state = CW__RV_PENDING;
  }
  cw__spool_list_free(ids, nids);
  char failed[PATH_MAX];
  snprintf(failed, sizeof(failed), "%s/" SPOOL_FAILED_DIR, spool);
  if (rc == 0 && cw__spool_list_prefix(failed, "", &ids, &nids) == 0) {
    int ffd = open(failed, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    for (size_t i = 0; i < nids && rc == 0; i++) {
      if (ids[i][0] == '.' || ends_with(ids[i], ".reason"))
        continue;
      if ((rc = push(&v, &nv, &cap)) != 0)
        break;
      cw__rv_t *r = &v[nv - 1];
      r->state = CW__RV_FAILED;
      load_report(failed, ids[i], r);
      char rname[NAME_MAX + 1];
      size_t len;
      snprintf(rname, sizeof(rname), "%.200s.reason", ids[i]);
      char *reason =
          ffd >= 0 ? read_file_at(ffd, rname, 64 * 1024, &len) : NULL;
      if (reason != NULL) {
        reason[strcspn(reason, "\n")] = '\0';
        snprintf(r->reason, sizeof(r->reason), "%s", reason);
      } else {
        snprintf(r->reason, sizeof(r->reason), "(no reason recorded)");
      }
      free(reason);
    }
    if (ffd >= 0)
      close(ffd);
    cw__spool_list_free(ids, nids);
  }
  if (rc == 0 && all) {
    cw__journal_entry_t *j = NULL;
    size_t nj = 0;
    if (cw__journal_read(spool, &j, &nj) == 0) {
      for (size_t i = 0; i < nj && rc == 0; i++) {
        if ((rc = push(&v, &nv, &cap)) != 0)
          break;
        cw__rv_t *r = &v[nv - 1];
        r->state = CW__RV_UPLOADED;
        r->journal = j[i];
        r->has_journal = 1;
        snprintf(r->id, sizeof(r->id), "%s", j[i].event_id);
        snprintf(r->name, sizeof(r->name), "%s", j[i].event_id);
        snprintf(r->ev.event_id, sizeof(r->ev.event_id), "%s", j[i].event_id);
        snprintf(r->ev.timestamp, sizeof(r->ev.timestamp), "%s",
                 j[i].timestamp);
        snprintf(r->ev.program, sizeof(r->ev.program), "%s", j[i].program);
        snprintf(r->ev.title, sizeof(r->ev.title), "%s", j[i].title);
        snprintf(r->ev.top_frame, sizeof(r->ev.top_frame), "%s",
                 j[i].top_frame);
        r->ev.pid = j[i].pid;
        if (strncmp(j[i].what, "SIG", 3) == 0) {
          r->ev.is_crash = 1;
          snprintf(r->ev.signal, sizeof(r->ev.signal), "%s", j[i].what);
        } else {
          snprintf(r->ev.level, sizeof(r->ev.level), "%s", j[i].what);
        }
        r->time_ms = parse_time(j[i].timestamp);
        if (r->time_ms == 0)
          r->time_ms = j[i].time_ms;
      }
      free(j);
    }
  }
  if (rc != 0) {
    free(v);
    return rc;
  }
  if (nv > 1)
    qsort(v, nv, sizeof(*v), by_time);
  *out = v;
  *n = nv;
  return 0;
}

void cw__rv_time_text(int64_t ms, char *out, size_t cap) {
  if (ms <= 0) {
    snprintf(out, cap, "-");
    return;
  }
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, cap, "%Y-%m-%d %H:%M:%SZ", &tm);
}

const char *cw__rv_state_name(cw__rv_state_t s) {
  switch (s) {
  case CW__RV_PENDING:
    return "pending";
  case CW__RV_RETRYING:
    return "retrying";
  case CW__RV_RATE_LIMITED:
    return "rate_limited";
  case CW__RV_FAILED:
    return "failed";
  case CW__RV_UPLOADED:
    return "uploaded";
  }
  return "unknown";
}

void cw__rv_state_text(const cw__rv_t *v, char *out, size_t cap) {
  char t[40];
  switch (v->state) {
  case CW__RV_PENDING:
    snprintf(out, cap, "pending");
    return;
  case CW__RV_RETRYING:
    cw__rv_time_text(v->next_ms, t, sizeof(t));
    snprintf(out, cap, "retrying at %s (%d attempt%s failed: %s)", t,
             v->attempts, v->attempts == 1 ? "" : "s", v->last_error);
    return;
  case CW__RV_RATE_LIMITED:
    cw__rv_time_text(v->limited_until_ms, t, sizeof(t));
    snprintf(out, cap, "rate-limited until %s", t);
    return;
  case CW__RV_FAILED:
    snprintf(out, cap, "failed: %s", v->reason);
    return;
  case CW__RV_UPLOADED:
    snprintf(out, cap, "uploaded as %s",
             v->journal.server_event_id[0] ? v->journal.server_event_id
                                           : v->journal.event_id);
    return;
  }
  snprintf(out, cap, "unknown");
}

static void str_or_null(cw__json_t *j, const char *key, const char *s) {
  cw__json_key(j, key);
  if (s != NULL && s[0] != '\0')
    cw__json_string(j, s);
  else
    cw__json_null(j);
}

static void time_member(cw__json_t *j, const char *key, int64_t ms) {
  cw__json_key(j, key);
  if (ms <= 0) {
    cw__json_null(j);
    return;
  }
  char t[40];
  time_t s = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&s, &tm);
  strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm);
  cw__json_string(j, t);
}

void cw__rv_json_members(cw__json_t *j, const cw__rv_t *v) {
  cw__json_key(j, "event_id");
  cw__json_string(j, v->id);
  time_member(j, "time", v->time_ms);
  str_or_null(j, "program", v->ev.program);
  cw__json_key(j, "pid");
  if (v->ev.pid > 0)
    cw__json_int(j, v->ev.pid);
  else
    cw__json_null(j);
  cw__json_key(j, "tid");
  if (v->ev.tid > 0)
    cw__json_int(j, v->ev.tid);
  else
    cw__json_null(j);
  str_or_null(j, "signal", v->ev.signal);
  str_or_null(j, "level", v->ev.level);
  str_or_null(j, "title", v->ev.title);
  str_or_null(j, "top_frame", v->ev.top_frame);
  str_or_null(j, "dir", v->dir);
  cw__json_key(j, "delivery");
  cw__json_begin_object(j);
  cw__json_key(j, "state");
  cw__json_string(j, cw__rv_state_name(v->state));
  switch (v->state) {
  case CW__RV_PENDING:
    break;
  case CW__RV_RETRYING:
    cw__json_key(j, "attempts");
    cw__json_int(j, v->attempts);
    time_member(j, "next_attempt", v->next_ms);
    str_or_null(j, "last_error", v->last_error);
    break;
  case CW__RV_RATE_LIMITED:
    time_member(j, "until", v->limited_until_ms);
    cw__json_key(j, "attempts");
    cw__json_int(j, v->attempts);
    break;
  case CW__RV_FAILED:
    str_or_null(j, "reason", v->reason);
    break;
  case CW__RV_UPLOADED:
    time_member(j, "uploaded_at", v->journal.time_ms);
    str_or_null(j, "server_event_id", v->journal.server_event_id);
    str_or_null(j, "server", v->journal.server);
    cw__json_key(j, "status");
    cw__json_int(j, v->journal.status);
    break;
  }
  cw__json_end_object(j);
}
