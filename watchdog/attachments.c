/*
 * attachments.c — copying the files the application registered
 * (cw_add_attachment) into a crash report, keeping the tail of each (normal
 * context, watchdog process; see wd_scope.h).
 *
 * The watchdog runs with the application's privileges, so a registered
 * file is read with exactly the access the application had: nothing is
 * attached that the application could not have read itself. The path is
 * followed through symbolic links (log directories often name the current
 * file through one); what is refused is anything that is not a regular file
 * once reached — opening a FIFO for reading would wait for a writer, and a
 * device may never return from read(), and the application is held stopped
 * while its report is written.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crashwatch.h"
#include "regfile.h"
#include "spool.h"
#include "wd_scope.h"

static int name_taken(const wd_attachments_t *a, const char *name) {
  if (strcmp(name, SPOOL_EVENT_FILE) == 0 ||
      strcmp(name, SPOOL_MINIDUMP_FILE) == 0 ||
      strcmp(name, SPOOL_SESSION_FILE) == 0)
    return 1;
  for (size_t i = 0; i < a->n; i++)
    if (a->v[i].name != NULL && strcmp(a->v[i].name, name) == 0)
      return 1;
  return 0;
}

/* The report file name for path: its last component made safe, and made
 * unique with "-N" before the extension. */
static char *report_name(const wd_attachments_t *a, const char *path) {
  const char *base = strrchr(path, '/');
  base = base != NULL ? base + 1 : path;
  char safe[WD_ATTACHMENT_NAME_MAX + 1];
  size_t n = 0;
  for (const char *p = base; *p != '\0' && n < WD_ATTACHMENT_NAME_MAX; p++) {
    char c = *p;
    int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
             (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
    safe[n++] = ok ? c : '_';
  }
  safe[n] = '\0';
  if (n == 0)
    snprintf(safe, sizeof(safe), "attachment");
  if (safe[0] == '.')
    safe[0] = '_'; /* dot-names are not part of a report */
  /* "app.log" -> "app" + ".log"; a name that is all extension keeps it
   * whole as the stem. */
  char *dot = strrchr(safe, '.');
  size_t stem = dot != NULL && dot != safe ? (size_t)(dot - safe) : n;
  char name[WD_ATTACHMENT_NAME_MAX + 16];
  snprintf(name, sizeof(name), "%s", safe);
  for (unsigned k = 2; name_taken(a, name) && k < 100000; k++)
    snprintf(name, sizeof(name), "%.*s-%u%s", (int)stem, safe, k, safe + stem);
  return strdup(name);
}

/* Copies [off, off + len) of in to out; returns 0, a negative errno-style
 * code from writing (the report), or sets *read_err when reading stopped
 * short (the file shrank: what was read is kept). */
static int copy_range(int in, int out, off_t off, uint64_t len, uint64_t *kept,
                      int *read_err) {
  char buf[65536];
  *kept = 0;
  while (*kept < len) {
    size_t want =
        len - *kept < sizeof(buf) ? (size_t)(len - *kept) : sizeof(buf);
    ssize_t r = pread(in, buf, want, off + (off_t)*kept);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0) {
      *read_err = r < 0 ? errno : 0;
      break;
    }
    for (ssize_t w = 0; w < r;) {
      ssize_t m = write(out, buf + w, (size_t)(r - w));
      if (m < 0 && errno == EINTR)
        continue;
      if (m <= 0)
        return m < 0 && errno ? -errno : CW_EIO;
      w += m;
    }
    *kept += (uint64_t)r;
  }
  return 0;
}

/* One attachment; returns a negative code only for a failure of the
 * report's own files. */
static int copy_one(spool_report_t *r, const char *path, size_t max,
                    wd_attachments_t *out, wd_attachment_t *a) {
  if (path[0] != '/') {
    /* The application's working directory is not the watchdog's. */
    a->error = "not an absolute path";
    return 0;
  }
  const char *kind = NULL;
  int in = cw__open_regular(path, 0, &kind);
  if (in == CW_REGFILE_NOT_REGULAR) {
    a->error = kind != NULL ? kind : "not a regular file";
    return 0;
  }
  if (in < 0) {
    a->error = errno == ENOENT    ? "no such file"
               : errno == EACCES  ? "permission denied"
               : errno == ENOTDIR ? "a path component is not a directory"
                                  : "cannot be opened";
    return 0;
  }
  struct stat st;
  if (fstat(in, &st) != 0) {
    close(in);
    a->error = "cannot be examined";
    return 0;
  }
  a->size = (uint64_t)st.st_size;
  uint64_t len = a->size < max ? a->size : max;
  off_t off = (off_t)(a->size - len);
  a->name = report_name(out, path);
  if (a->name == NULL) {
    close(in);
    return CW_ENOMEM;
  }
  int fd;
  int rc = cw__spool_report_open_file(r, a->name, &fd);
  if (rc != 0) {
    close(in);
    free(a->name);
    a->name = NULL;
    return rc;
  }
  int read_err = 0;
  rc = copy_range(in, fd, off, len, &a->kept, &read_err);
  close(in);
  if (rc == 0)
    rc = cw__spool_report_close_file(r, fd); /* synced by the commit */
  else
    close(fd);
  if (rc == 0 && a->kept < len)
    a->error = read_err ? "read error (partly copied)"
                        : "file shrank while read (partly copied)";
  return rc;
}

int cw__wd_attachments_copy(spool_report_t *r, const char *const *paths,
                            size_t n, size_t max_bytes, wd_attachments_t *out) {
  out->v = NULL;
  out->n = 0;
  if (n == 0)
    return 0;
  if (max_bytes == 0)
    max_bytes = WD_ATTACHMENT_MAX_BYTES_DEFAULT;
  out->v = calloc(n, sizeof(*out->v));
  if (out->v == NULL)
    return CW_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    wd_attachment_t *a = &out->v[out->n];
    a->path = strdup(paths[i] != NULL ? paths[i] : "");
    if (a->path == NULL)
      return CW_ENOMEM;
    out->n++;
    int rc = copy_one(r, a->path, max_bytes, out, a);
    if (rc != 0)
      return rc;
  }
  return 0;
}

void cw__wd_attachments_free(wd_attachments_t *a) {
  for (size_t i = 0; i < a->n; i++) {
    free(a->v[i].path);
    free(a->v[i].name);
  }
  free(a->v);
  a->v = NULL;
  a->n = 0;
}
