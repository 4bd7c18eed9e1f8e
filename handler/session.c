/*
 * session.c — release health: the process's session (docs/sessions.md).
 * Normal context; cw__session_note_error is in session_count.c (signal
 * context).
 *
 * One session per run: it starts at cw_init() (a release set and automatic
 * tracking on) or cw_start_session(), and ends `exited` at cw_shutdown(),
 * cw_end_session() or the process's normal exit (a destructor: exit() and
 * a return from main, not _exit()). A crash ends it `crashed` in the
 * watchdog, which finds it in the scope mapping and puts the update in
 * the crash report. What ends it no other way (SIGKILL, the OOM killer, a
 * power cut) is found at the next cw_init() with the same spool: every
 * open session leaves a marker <spool>/.sessions/<sid> (key=value: sid,
 * started, pid and its start time, release, environment), and a marker
 * whose process is gone becomes an `abnormal` update.
 *
 * Updates that do not travel with a crash are session-only reports in the
 * spool (a `session` file, uploader/session.h), written here at the end
 * of a session and at the next start for an abnormal one; the uploader
 * sends them. Only the process that started a session ends it: a forked
 * child's exit or crash is not its parent's.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crashwatch.h"
#include "cw_internal.h"
#include "scope_write.h"
#include "cw_session.h"
#include "spool.h"

/* The session of this process (under lock). */
static struct {
  int open;
  pid_t pid;
  char sid[37];
  int64_t started_ms;
  char spool[PATH_MAX];
  char *release, *environment; /* copies of the options' */
} g;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A random (version 4) UUID, lowercase. */
static int new_sid(char out[37]) {
  unsigned char b[16];
  if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
    return CW_EIO;
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
  static const char hex[] = "0123456789abcdef";
  size_t k = 0;
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      out[k++] = '-';
    out[k++] = hex[b[i] >> 4];
    out[k++] = hex[b[i] & 15];
  }
  out[k] = '\0';
  return 0;
}

/* The report name of a session: its sid without the dashes. */
static void sid_report_name(const char *sid, char out[33]) {
  size_t k = 0;
  for (size_t i = 0; sid[i] && k < 32; i++)
    if (sid[i] != '-')
      out[k++] = sid[i];
  out[k] = '\0';
}

/* The start time of process pid (field 22 of /proc/PID/stat, clock ticks
 * since boot): with the pid, it names one process, so a reused pid (a
 * container's PID 1 after a restart) is not taken for the old one. 0 if
 * unknown (the process is gone). */
static unsigned long long proc_start(pid_t pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  /* The command name may hold spaces and parentheses: fields count from
   * the last ')'. */
  char *p = strrchr(buf, ')');
  if (p == NULL || p[1] != ' ')
    return 0;
  /* A zombie (killed, not yet reaped) has ended. */
  if (p[2] == 'Z' || p[2] == 'X')
    return 0;
  int field = 2;
  for (p++; *p && field < 22; p++)
    if (*p == ' ')
      field++;
  return strtoull(p, NULL, 10);
}

#define KV_CAP CW__SESSION_KV_CAP

/* Writes a session-only report for sid into spool. */
static int write_update(const char *spool, const char *text, size_t len,
                        const char *sid) {
  char name[33];
  sid_report_name(sid, name);
  spool_report_t *r;
  int rc = cw__spool_report_begin(spool, name, &r);
  if (rc != 0)
    return rc;
  rc = cw__spool_report_write_file(r, SPOOL_SESSION_FILE, text, len);
  if (rc != 0) {
    cw__spool_report_abort(r);
    return rc;
  }
  return cw__spool_report_commit(r, NULL, 0);
}

static void marker_path(const char *spool, const char *sid, char *out,
                        size_t cap) {
  snprintf(out, cap, "%s/" SPOOL_SESSIONS_DIR "/%s", spool, sid);
}

/* ---- abnormal sessions of earlier runs ------------------------------ */

/* Reads marker name (in the directory dfd) into a session update with
 * status abnormal. 0, or -1 if the marker is unusable or its process
 * lives. */
static int marker_to_abnormal(int dfd, const char *name, char *out, size_t cap,
                              size_t *len) {
  int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0)
    return -1;
  struct stat st;
  char text[KV_CAP];
  ssize_t n = -1;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
    n = read(fd, text, sizeof(text));
  close(fd);
  if (n < 0)
    return -1;
  long long mtime =
      (long long)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
  cw__session_marker_t m;
  if (cw__session_marker_abnormal(text, (size_t)n, name, mtime, &m, out, cap,
                                  len) != 0)
    return -1;
  if (m.pid > 0 && m.pid <= INT32_MAX && m.pid_start != 0 &&
      proc_start((pid_t)m.pid) == m.pid_start)
    return -1; /* that process still runs (another instance) */
  return 0;
}

/* Every marker in <spool>/.sessions whose process is gone becomes an
 * abnormal update (a session-only report), then goes. A marker that
 * cannot be turned into a report stays for the next start. */
static void collect_abnormal(const char *spool) {
  char dir[PATH_MAX + 32];
  snprintf(dir, sizeof(dir), "%s/" SPOOL_SESSIONS_DIR, spool);
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0)
    return;
  DIR *d = fdopendir(dfd);
  if (d == NULL) {
    close(dfd);
    return;
  }
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (!cw__session_sid_ok(e->d_name))
      continue;
    char text[KV_CAP];
    size_t len;
    if (marker_to_abnormal(dirfd(d), e->d_name, text, sizeof(text), &len) != 0)
      continue;
    /* Written now, or by an earlier start that could not remove the
     * marker: either way the marker has done its work. */
    char name[33], path[PATH_MAX + 64];
    sid_report_name(e->d_name, name);
    snprintf(path, sizeof(path), "%s/%s", spool, name);
    if (write_update(spool, text, len, e->d_name) == 0 ||
        access(path, F_OK) == 0)
      unlinkat(dirfd(d), e->d_name, 0);
  }
  closedir(d);
}

/* ---- the current session -------------------------------------------- */

/* The session slot of the scope mapping (what the watchdog reads at a
 * crash, and what cw__session_note_error counts into). */
static void slot_write(const char *sid, int64_t started, pid_t pid) {
  cw__scope_map_t *m = cw__scope.mem;
  if (m == NULL)
    return;
  cw__scope_session_slot_t *s = &m->session;
  uint32_t odd = cw__slot_lock(&s->h);
  if (sid != NULL) {
    snprintf(s->sid, sizeof(s->sid), "%s", sid);
    s->started_ms = started;
    s->pid = (int32_t)pid;
    __atomic_store_n(&s->errors, 0, __ATOMIC_RELAXED);
    s->h.used = 1;
  } else {
    s->h.used = 0;
  }
  cw__slot_unlock(&s->h, odd);
}

/* The user id from the scope, for `did` (empty if unset). */
static void current_did(char *out, size_t cap) {
  out[0] = '\0';
  cw__scope_map_t *m = cw__scope.mem;
  if (m == NULL)
    return;
  for (int tries = 0; tries < 100; tries++) {
    uint32_t s1 = __atomic_load_n(&m->user.h.seq, __ATOMIC_ACQUIRE);
    if (s1 & 1)
      continue;
    int used = m->user.h.used == 1;
    snprintf(out, cap, "%.*s", (int)sizeof(m->user.id) - 1,
             used ? m->user.id : "");
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (__atomic_load_n(&m->user.h.seq, __ATOMIC_RELAXED) == s1)
      return;
  }
  out[0] = '\0';
}

static int start_locked(void) {
  if (g.release == NULL)
    return cw__fail(CW_EINVAL, "sessions need a release (Sentry drops "
                               "sessions without one): set SENTRY_RELEASE "
                               "or cw_options_set_release()");
  char sid[37];
  int rc = new_sid(sid);
  if (rc != 0)
    return cw__fail(rc, "session: no random bytes");
  int64_t started = now_ms();
  pid_t pid = getpid();
  /* The marker, for an abnormal end: not fsync'd (losing it on a power cut
   * loses only that session's abnormal update). */
  char dir[PATH_MAX + 32];
  snprintf(dir, sizeof(dir), "%s/" SPOOL_SESSIONS_DIR, g.spool);
  if (mkdir(dir, 0700) != 0 && errno != EEXIST)
    return cw__fail(CW_ESPOOL, "session marker directory %s: %s", dir,
                    strerror(errno));
  char text[KV_CAP];
  size_t len = 0;
  cw__session_kv(text, sizeof(text), &len, "sid", sid);
  cw__session_kv_num(text, sizeof(text), &len, "started", started);
  cw__session_kv_num(text, sizeof(text), &len, "pid", pid);
  cw__session_kv_num(text, sizeof(text), &len, "pid_start",
                     (long long)proc_start(pid));
  cw__session_kv(text, sizeof(text), &len, "release", g.release);
  cw__session_kv(text, sizeof(text), &len, "environment", g.environment);
  char path[PATH_MAX + 64];
  marker_path(g.spool, sid, path, sizeof(path));
  int fd =
      open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return cw__fail(CW_ESPOOL, "session marker %s: %s", path, strerror(errno));
  ssize_t w = write(fd, text, len);
  close(fd);
  if (w != (ssize_t)len) {
    unlink(path);
    return cw__fail(CW_EIO, "session marker %s: short write", path);
  }
  memcpy(g.sid, sid, sizeof(sid));
  g.started_ms = started;
  g.pid = pid;
  g.open = 1;
  slot_write(sid, started, pid);
  return 0;
}

/* Ends the open session of this process with status `exited`. */
static int end_locked(void) {
  if (!g.open || g.pid != getpid())
    return 0;
  uint32_t errors = 0;
  if (cw__scope.mem != NULL)
    errors = __atomic_load_n(&cw__scope.mem->session.errors, __ATOMIC_RELAXED);
  char did[CW__SCOPE_STR_MAX];
  current_did(did, sizeof(did));
  char text[KV_CAP];
  size_t len = 0;
  cw__session_kv(text, sizeof(text), &len, "sid", g.sid);
  cw__session_kv(text, sizeof(text), &len, "status", "exited");
  cw__session_kv_num(text, sizeof(text), &len, "started", g.started_ms);
  cw__session_kv_num(text, sizeof(text), &len, "timestamp", now_ms());
  cw__session_kv_num(text, sizeof(text), &len, "errors", errors);
  cw__session_kv(text, sizeof(text), &len, "init", "1");
  cw__session_kv(text, sizeof(text), &len, "release", g.release);
  cw__session_kv(text, sizeof(text), &len, "environment", g.environment);
  cw__session_kv(text, sizeof(text), &len, "did", did);
  g.open = 0;
  slot_write(NULL, 0, 0);
  int rc = write_update(g.spool, text, len, g.sid);
  /* The marker goes only once the update is safe: if the update could not
   * be written, the next start reports the session as abnormal rather
   * than losing it. */
  if (rc == 0) {
    char path[PATH_MAX + 64];
    marker_path(g.spool, g.sid, path, sizeof(path));
    unlink(path);
  }
  return rc;
}

static char *dup_opt(const char *s) { return s != NULL ? strdup(s) : NULL; }

void cw__session_collect(const struct cw_options *o, const char *spool_abs) {
  if (o->release == NULL)
    return;
  pthread_mutex_lock(&lock);
  collect_abnormal(spool_abs);
  pthread_mutex_unlock(&lock);
}

int cw__session_init(const struct cw_options *o, const char *spool_abs) {
  pthread_mutex_lock(&lock);
  if (g.open && g.pid != getpid())
    g.open = 0; /* a forked child's copy of its parent's session */
  snprintf(g.spool, sizeof(g.spool), "%s", spool_abs);
  free(g.release);
  free(g.environment);
  g.release = dup_opt(o->release);
  g.environment = dup_opt(o->environment);
  int rc = 0;
  if (o->release != NULL && o->auto_session_tracking && !g.open)
    rc = start_locked();
  pthread_mutex_unlock(&lock);
  return rc;
}

void cw__session_shutdown(void) {
  pthread_mutex_lock(&lock);
  end_locked();
  pthread_mutex_unlock(&lock);
}

int cw__session_tracking(void) {
  pthread_mutex_lock(&lock);
  int open = g.open && g.pid == getpid();
  pthread_mutex_unlock(&lock);
  return open;
}

CW_EXTERN int cw_start_session(void) {
  if (!__atomic_load_n(&cw__crash.installed, __ATOMIC_ACQUIRE) ||
      cw__crash.pid != getpid())
    return cw__fail(CW_ENOTINIT, "cw_start_session: crashwatch is not "
                                 "initialized");
  pthread_mutex_lock(&lock);
  int rc = end_locked();
  if (rc == 0)
    rc = start_locked();
  pthread_mutex_unlock(&lock);
  return rc;
}

CW_EXTERN int cw_end_session(void) {
  pthread_mutex_lock(&lock);
  int rc = end_locked();
  pthread_mutex_unlock(&lock);
  return rc != 0 ? cw__fail(rc, "cw_end_session: cannot write the update: %s",
                            cw_strerror(rc))
                 : 0;
}

/* The process's normal end (exit(), a return from main, dlclose of the
 * library). Not _exit(), not a fatal signal: those leave the marker. */
__attribute__((destructor)) static void session_at_exit(void) {
  if (pthread_mutex_trylock(&lock) != 0)
    return; /* exiting while another thread is inside: leave it abnormal */
  end_locked();
  pthread_mutex_unlock(&lock);
}
