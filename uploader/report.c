/* report.c — loading a spooled report for sending, and the content type
 * of its files; see report.h. The encodings are envelope.c and
 * multipart.c. */
#include "report.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crashwatch.h"
#include "json_check.h"
#include "read_all.h"
#include "spool.h"

/* Reads the regular file name of the report directory dir_fd. Anything
 * else (a symbolic link, a FIFO, a device) is refused without being opened:
 * fstatat first, then O_NOFOLLOW|O_NONBLOCK and fstat again in case it was
 * swapped in between. */
static int read_file_at(int dir_fd, const char *name, uint8_t **data,
                        size_t *len) {
  *data = NULL;
  *len = 0;
  struct stat st;
  if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
    return errno ? -errno : CW_EIO;
  if (!S_ISREG(st.st_mode))
    return CW_EFORMAT;
  int fd = openat(dir_fd, name,
                  O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
  if (fd < 0)
    return errno == ELOOP ? CW_EFORMAT : errno ? -errno : CW_EIO;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return CW_EFORMAT;
  }
  if (st.st_size > REPORT_MAX_BYTES) {
    close(fd);
    return CW_ERANGE;
  }
  char *buf;
  size_t got;
  int rc = cw__read_all(fd, (size_t)st.st_size, REPORT_MAX_BYTES, &buf, &got);
  close(fd);
  if (rc != 0)
    return rc;
  *data = (uint8_t *)buf;
  *len = got;
  return 0;
}

void cw__report_free(report_t *r) {
  free(r->event_json);
  free(r->session);
  for (size_t i = 0; i < r->nfiles; i++) {
    free(r->files[i].name);
    free(r->files[i].data);
  }
  free(r->files);
  memset(r, 0, sizeof(*r));
}

static int cmp_file(const void *a, const void *b) {
  const report_file_t *x = a, *y = b;
  if (x->is_minidump != y->is_minidump)
    return y->is_minidump - x->is_minidump;
  return strcmp(x->name, y->name);
}

/* Opens <spool_dir>/<id>/ for reading its entries. The report directory
 * itself is never reached through a symbolic link: one planted at a
 * report's name would make us send (and, after a 2xx, delete) what it
 * points to. */
static int open_report_dir(const char *spool_dir, const char *id, DIR **out,
                           char *err, size_t errlen) {
  char dir[PATH_MAX];
  if (strchr(id, '/') != NULL ||
      (size_t)snprintf(dir, sizeof(dir), "%s/%s", spool_dir, id) >= sizeof(dir))
    return CW_EINVAL;
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  *out = dfd >= 0 ? fdopendir(dfd) : NULL;
  if (*out != NULL)
    return 0;
  int e = errno;
  if (dfd >= 0)
    close(dfd);
  if (e == ELOOP || e == ENOTDIR) {
    if (err)
      snprintf(err, errlen, "%s: not a directory (a symbolic link?)", dir);
    return CW_EFORMAT;
  }
  if (err)
    snprintf(err, errlen, "%s: cannot open: %s", dir, strerror(e));
  return e ? -e : CW_EIO;
}

/* Takes data (read from the report's file name) into r: event.json as the
 * event, anything else as an attachment. Frees data on failure. */
static int add_file(report_t *r, const char *name, uint8_t *data, size_t len) {
  if (strcmp(name, SPOOL_EVENT_FILE) == 0) {
    r->event_json = (char *)data;
    r->event_len = len;
    return 0;
  }
  if (strcmp(name, SPOOL_SESSION_FILE) == 0) {
    r->session = (char *)data;
    r->session_len = len;
    return 0;
  }
  report_file_t *p = realloc(r->files, (r->nfiles + 1) * sizeof(*p));
  char *copy = strdup(name);
  if (p == NULL || copy == NULL) {
    if (p != NULL)
      r->files = p;
    free(copy);
    free(data);
    return CW_ENOMEM;
  }
  r->files = p;
  p[r->nfiles].name = copy;
  p[r->nfiles].data = data;
  p[r->nfiles].len = len;
  p[r->nfiles].is_minidump = strcmp(copy, SPOOL_MINIDUMP_FILE) == 0;
  r->nfiles++;
  return 0;
}

/* Reads every file of the report directory d into r, within the report
 * size limit. */
static int read_files(DIR *d, report_t *r, char *err, size_t errlen) {
  long long total = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    uint8_t *data;
    size_t len;
    int frc = read_file_at(dirfd(d), e->d_name, &data, &len);
    if (frc == CW_EFORMAT || frc == CW_ERANGE) {
      if (err)
        snprintf(err, errlen, "%s: %s", e->d_name,
                 frc == CW_ERANGE ? "larger than the report size limit"
                                  : "not a regular file");
      return CW_EFORMAT;
    }
    if (frc != 0) {
      if (err)
        snprintf(err, errlen, "%s: cannot read: %s", e->d_name,
                 cw_strerror(frc));
      return frc == CW_EACCES ? CW_EFORMAT : frc;
    }
    total += (long long)len;
    if (total > REPORT_MAX_BYTES) {
      free(data);
      if (err)
        snprintf(err, errlen, "report larger than %lld bytes",
                 (long long)REPORT_MAX_BYTES);
      return CW_EFORMAT;
    }
    int rc = add_file(r, e->d_name, data, len);
    if (rc != 0)
      return rc;
  }
  return 0;
}

/* event.json is there and is a JSON object (or absent, in a session-only
 * report with no other file). */
static int check_event(const report_t *r, char *err, size_t errlen) {
  if (r->event_json == NULL && r->session != NULL && r->nfiles == 0)
    return 0;
  if (r->event_json == NULL) {
    if (err)
      snprintf(err, errlen, "missing %s", SPOOL_EVENT_FILE);
    return CW_EFORMAT;
  }
  size_t off;
  const char *what;
  if (cw__json_check(r->event_json, r->event_len, CW__JSON_CHECK_OBJECT, 0,
                     &off, &what) != 0) {
    if (err)
      snprintf(err, errlen, "%s: invalid JSON at offset %zu: %s",
               SPOOL_EVENT_FILE, off, what);
    return CW_EFORMAT;
  }
  return 0;
}

int cw__report_load(const char *spool_dir, const char *id, report_t *r,
                    char *err, size_t errlen) {
  memset(r, 0, sizeof(*r));
  if (err && errlen)
    err[0] = '\0';
  snprintf(r->event_id, sizeof(r->event_id), "%s", id);
  DIR *d;
  int rc = open_report_dir(spool_dir, id, &d, err, errlen);
  if (rc != 0)
    return rc;
  rc = read_files(d, r, err, errlen);
  closedir(d);
  if (rc == 0)
    rc = check_event(r, err, errlen);
  if (rc == 0 && r->nfiles > 1)
    qsort(r->files, r->nfiles, sizeof(*r->files), cmp_file);
  return rc;
}

const char *cw__report_content_type(const char *name) {
  static const struct {
    const char *ext;
    const char *type;
  } types[] = {{".log", "text/plain"},        {".txt", "text/plain"},
               {".out", "text/plain"},        {".err", "text/plain"},
               {".json", "application/json"}, {".xml", "application/xml"},
               {".csv", "text/csv"}};
  if (strcmp(name, SPOOL_MINIDUMP_FILE) == 0)
    return "application/x-dmp";
  const char *dot = strrchr(name, '.');
  for (size_t i = 0; dot != NULL && i < sizeof(types) / sizeof(types[0]); i++)
    if (strcasecmp(dot, types[i].ext) == 0)
      return types[i].type;
  return "application/octet-stream";
}
