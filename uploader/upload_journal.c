/* upload_journal.c — the bounded delivery journal in the spool's .state/;
 * see upload_journal.h. Normal context. */
#include "upload_journal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "crashwatch.h"
#include "json.h"
#include "json_read.h"
#include "spool.h"

static void entry_json(const cw__journal_entry_t *e, cw__buf_t *b) {
  cw__json_t j;
  cw__json_init(&j, b, 0);
  cw__json_begin_object(&j);
  cw__json_key(&j, "time_ms");
  cw__json_int(&j, e->time_ms);
  cw__json_key(&j, "event_id");
  cw__json_string(&j, e->event_id);
  cw__json_key(&j, "server_event_id");
  cw__json_string(&j, e->server_event_id);
  cw__json_key(&j, "server");
  cw__json_string(&j, e->server);
  cw__json_key(&j, "status");
  cw__json_int(&j, e->status);
  cw__json_key(&j, "program");
  cw__json_string(&j, e->program);
  cw__json_key(&j, "what");
  cw__json_string(&j, e->what);
  cw__json_key(&j, "title");
  cw__json_string(&j, e->title);
  cw__json_key(&j, "top_frame");
  cw__json_string(&j, e->top_frame);
  cw__json_key(&j, "timestamp");
  cw__json_string(&j, e->timestamp);
  cw__json_key(&j, "pid");
  cw__json_int(&j, e->pid);
  cw__json_end_object(&j);
  cw__buf_append_str(b, "\n");
}

/* Keeps the newest whole lines of text that fit in keep bytes. */
static int trim(int sfd, const char *text, size_t len, size_t keep) {
  size_t from = len > keep ? len - keep : 0;
  while (from > 0 && from < len && text[from - 1] != '\n')
    from++;
  return cw__spool_write_atomic_at(sfd, CW_JOURNAL_FILE, text + from,
                                   len - from);
}

int cw__journal_append(const char *spool_dir, const cw__journal_entry_t *e) {
  cw__buf_t line = CW_BUF_INIT;
  entry_json(e, &line);
  if (line.oom) {
    cw__buf_free(&line);
    return CW_ENOMEM;
  }
  if (line.len > CW_JOURNAL_MAX_LINE) {
    cw__buf_free(&line);
    return CW_ETOOBIG;
  }
  int sfd = cw__spool_open_subdir(spool_dir, SPOOL_STATE_DIR);
  if (sfd < 0) {
    cw__buf_free(&line);
    return CW_ESPOOL;
  }
  int fd = openat(sfd, CW_JOURNAL_FILE,
                  O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK |
                      O_NOCTTY | O_CLOEXEC,
                  0600);
  struct stat st;
  int rc = 0;
  if (fd < 0 || fstat(fd, &st) != 0) {
    rc = errno == ELOOP || errno == ENXIO ? CW_ESPOOL : CW_EIO;
  } else if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
    rc = CW_ESPOOL; /* planted: a FIFO, a device, someone else's file */
  } else {
    /* One write to an O_APPEND descriptor: whole lines, even with two
     * uploaders appending. */
    ssize_t w = write(fd, line.data, line.len);
    if (w != (ssize_t)line.len)
      rc = CW_EIO;
    else if ((size_t)st.st_size + line.len > CW_JOURNAL_MAX_BYTES) {
      char *text = malloc(CW_JOURNAL_MAX_BYTES * 2 + 1);
      char path[PATH_MAX];
      snprintf(path, sizeof(path), "%s/" SPOOL_STATE_DIR "/" CW_JOURNAL_FILE,
               spool_dir);
      long n =
          text ? cw__spool_read_small(path, text, CW_JOURNAL_MAX_BYTES * 2 + 1)
               : CW_ENOMEM;
      if (n >= 0)
        rc = trim(sfd, text, (size_t)n, CW_JOURNAL_MAX_BYTES / 2);
      else
        rc = (int)n;
      free(text);
    }
  }
  if (fd >= 0)
    close(fd);
  close(sfd);
  cw__buf_free(&line);
  return rc;
}

static void field(const cw__jv_t *o, const char *key, char *out, size_t cap) {
  const char *s = cw__jv_str(cw__jv_get(o, key));
  snprintf(out, cap, "%s", s ? s : "");
}

int cw__journal_read(const char *spool_dir, cw__journal_entry_t **out,
                     size_t *n) {
  *out = NULL;
  *n = 0;
  char path[PATH_MAX];
  snprintf(path, sizeof(path), "%s/" SPOOL_STATE_DIR "/" CW_JOURNAL_FILE,
           spool_dir);
  /* A journal past its bound (a writer died before trimming) is read up
   * to twice the bound; what is cut is its newest part's tail. */
  size_t cap = CW_JOURNAL_MAX_BYTES * 2 + 1;
  char *text = malloc(cap);
  if (text == NULL)
    return CW_ENOMEM;
  long len = cw__spool_read_small(path, text, cap);
  if (len == CW_ENOENT) {
    free(text);
    return 0;
  }
  if (len < 0) {
    free(text);
    return (int)len;
  }
  size_t lines = 0;
  for (long i = 0; i < len; i++)
    lines += text[i] == '\n';
  cw__journal_entry_t *v = calloc(lines + 1, sizeof(*v));
  if (v == NULL) {
    free(text);
    return CW_ENOMEM;
  }
  size_t k = 0;
  for (char *line = text; line < text + len;) {
    char *nl = memchr(line, '\n', (size_t)(text + len - line));
    if (nl == NULL)
      break; /* a line being written */
    cw__jv_t *o;
    if (cw__jv_parse(line, (size_t)(nl - line), &o, NULL, 0) == 0) {
      cw__journal_entry_t *e = &v[k];
      double t = 0, s = 0;
      field(o, "event_id", e->event_id, sizeof(e->event_id));
      if (cw__jv_num(cw__jv_get(o, "time_ms"), &t) == 0 &&
          cw__spool_is_report_name(e->event_id)) {
        e->time_ms = (int64_t)t;
        cw__jv_num(cw__jv_get(o, "status"), &s);
        e->status = (long)s;
        field(o, "server_event_id", e->server_event_id,
              sizeof(e->server_event_id));
        field(o, "server", e->server, sizeof(e->server));
        field(o, "program", e->program, sizeof(e->program));
        field(o, "what", e->what, sizeof(e->what));
        field(o, "title", e->title, sizeof(e->title));
        field(o, "top_frame", e->top_frame, sizeof(e->top_frame));
        field(o, "timestamp", e->timestamp, sizeof(e->timestamp));
        double pid = 0;
        cw__jv_num(cw__jv_get(o, "pid"), &pid);
        e->pid = pid > 0 && pid < 4194305 ? (long long)pid : 0;
        k++;
      }
      cw__jv_free(o);
    }
    line = nl + 1;
  }
  free(text);
  *out = v;
  *n = k;
  return 0;
}

static int id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == ':';
}

static void copy_id(const char *s, size_t n, char *out, size_t cap) {
  size_t k = 0;
  for (size_t i = 0; i < n && id_char(s[i]) && k + 1 < cap; i++)
    out[k++] = s[i];
  out[k] = '\0';
}

void cw__journal_server_id(const char *body, char *out, size_t cap) {
  if (cap == 0)
    return;
  out[0] = '\0';
  if (body == NULL)
    return;
  cw__jv_t *o;
  if (cw__jv_parse(body, strlen(body), &o, NULL, 0) == 0) {
    const char *id = cw__jv_str(cw__jv_get(o, "id"));
    if (id != NULL)
      copy_id(id, strlen(id), out, cap);
    cw__jv_free(o);
    return;
  }
  const char *c = strstr(body, "CrashID=");
  if (c != NULL)
    copy_id(c + 8, strlen(c + 8), out, cap);
}
