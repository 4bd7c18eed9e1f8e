/* report.c — loading a spooled report and encoding it as a Sentry envelope
 * or a Breakpad-style multipart body; see report.h. */
#include "report.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crashwatch.h"
#include "json.h"
#include "json_check.h"
#include "spool.h"

/* ---- Loading ---------------------------------------------------------- */

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
  size_t cap = (size_t)st.st_size + 1;
  uint8_t *buf = malloc(cap);
  if (buf == NULL) {
    close(fd);
    return CW_ENOMEM;
  }
  size_t got = 0;
  for (;;) {
    if (got + 1 >= cap) { /* the file grew; keep reading */
      if (cap > (size_t)REPORT_MAX_BYTES) {
        free(buf);
        close(fd);
        return CW_ERANGE;
      }
      uint8_t *p = realloc(buf, cap * 2);
      if (p == NULL) {
        free(buf);
        close(fd);
        return CW_ENOMEM;
      }
      buf = p;
      cap *= 2;
    }
    ssize_t r = read(fd, buf + got, cap - 1 - got);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      int rc = errno ? -errno : CW_EIO;
      free(buf);
      close(fd);
      return rc;
    }
    if (r == 0)
      break;
    got += (size_t)r;
  }
  close(fd);
  buf[got] = '\0';
  *data = buf;
  *len = got;
  return 0;
}

void cw__report_free(report_t *r) {
  free(r->event_json);
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

int cw__report_load(const char *spool_dir, const char *id, report_t *r,
                    char *err, size_t errlen) {
  memset(r, 0, sizeof(*r));
  if (err && errlen)
    err[0] = '\0';
  snprintf(r->event_id, sizeof(r->event_id), "%s", id);
  char dir[PATH_MAX];
  if (strchr(id, '/') != NULL ||
      (size_t)snprintf(dir, sizeof(dir), "%s/%s", spool_dir, id) >= sizeof(dir))
    return CW_EINVAL;
  /* The report directory itself is never reached through a symbolic link:
   * one planted at a report's name would make us send (and, after a 2xx,
   * delete) what it points to. */
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
  if (d == NULL) {
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
  int rc = 0, have_event = 0;
  long long total = 0;
  struct dirent *e;
  while (rc == 0 && (e = readdir(d)) != NULL) {
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
      rc = CW_EFORMAT;
      break;
    }
    if (frc != 0) {
      if (err)
        snprintf(err, errlen, "%s: cannot read: %s", e->d_name,
                 cw_strerror(frc));
      rc = frc == CW_EACCES ? CW_EFORMAT : frc;
      break;
    }
    total += (long long)len;
    if (total > REPORT_MAX_BYTES) {
      free(data);
      if (err)
        snprintf(err, errlen, "report larger than %lld bytes",
                 (long long)REPORT_MAX_BYTES);
      rc = CW_EFORMAT;
      break;
    }
    if (strcmp(e->d_name, SPOOL_EVENT_FILE) == 0) {
      r->event_json = (char *)data;
      r->event_len = len;
      have_event = 1;
      continue;
    }
    report_file_t *p = realloc(r->files, (r->nfiles + 1) * sizeof(*p));
    char *name = strdup(e->d_name);
    if (p == NULL || name == NULL) {
      if (p != NULL)
        r->files = p;
      free(name);
      free(data);
      rc = CW_ENOMEM;
      break;
    }
    r->files = p;
    p[r->nfiles].name = name;
    p[r->nfiles].data = data;
    p[r->nfiles].len = len;
    p[r->nfiles].is_minidump = strcmp(name, SPOOL_MINIDUMP_FILE) == 0;
    r->nfiles++;
  }
  closedir(d);
  if (rc != 0)
    return rc;
  if (!have_event) {
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
  if (r->nfiles > 1)
    qsort(r->files, r->nfiles, sizeof(*r->files), cmp_file);
  return 0;
}

/* ---- Encodings ------------------------------------------------------ */

void cw__format_rfc3339(int64_t ms, char *out, size_t cap) {
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  char base[32];
  strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, cap, "%s.%03dZ", base, (int)(ms % 1000));
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

static void item_header(cw__buf_t *out, const char *type, size_t len,
                        const report_file_t *f) {
  cw__json_t j;
  cw__json_init(&j, out, 0);
  cw__json_begin_object(&j);
  cw__json_key(&j, "type");
  cw__json_string(&j, type);
  cw__json_key(&j, "length");
  cw__json_uint(&j, len);
  if (f != NULL) {
    cw__json_key(&j, "filename");
    cw__json_string(&j, f->name);
    cw__json_key(&j, "attachment_type");
    cw__json_string(&j, f->is_minidump ? "event.minidump" : "event.attachment");
    cw__json_key(&j, "content_type");
    cw__json_string(&j, f->is_minidump ? "application/x-dmp"
                                       : cw__report_content_type(f->name));
  }
  cw__json_end_object(&j);
  cw__buf_append(out, "\n", 1);
}

int cw__envelope_encode(const report_t *r, const char *dsn, int64_t now_ms,
                        cw__buf_t *out) {
  char sent_at[40];
  cw__format_rfc3339(now_ms, sent_at, sizeof(sent_at));
  cw__json_t j;
  cw__json_init(&j, out, 0);
  cw__json_begin_object(&j);
  cw__json_key(&j, "event_id");
  cw__json_string(&j, r->event_id);
  if (dsn != NULL) {
    cw__json_key(&j, "dsn");
    cw__json_string(&j, dsn);
  }
  cw__json_key(&j, "sdk");
  cw__json_begin_object(&j);
  cw__json_key(&j, "name");
  cw__json_string(&j, CW_SDK_NAME);
  cw__json_key(&j, "version");
  cw__json_string(&j, CW_VERSION_STRING);
  cw__json_end_object(&j);
  cw__json_key(&j, "sent_at");
  cw__json_string(&j, sent_at);
  cw__json_end_object(&j);
  cw__buf_append(out, "\n", 1);

  item_header(out, "event", r->event_len, NULL);
  cw__buf_append(out, r->event_json, r->event_len);
  cw__buf_append(out, "\n", 1);
  for (size_t i = 0; i < r->nfiles; i++) {
    item_header(out, "attachment", r->files[i].len, &r->files[i]);
    cw__buf_append(out, r->files[i].data, r->files[i].len);
    cw__buf_append(out, "\n", 1);
  }
  return out->oom ? CW_ENOMEM : 0;
}

/* Quotes a form-data name or filename: '"', CR and LF are percent-encoded
 * as the HTML form encoding does. */
static void append_quoted(cw__buf_t *out, const char *s) {
  cw__buf_append(out, "\"", 1);
  for (; *s; s++) {
    if (*s == '"')
      cw__buf_append_str(out, "%22");
    else if (*s == '\r')
      cw__buf_append_str(out, "%0D");
    else if (*s == '\n')
      cw__buf_append_str(out, "%0A");
    else
      cw__buf_append(out, s, 1);
  }
  cw__buf_append(out, "\"", 1);
}

static void part_begin(cw__buf_t *out, const char *boundary, const char *name,
                       const char *filename, const char *ctype) {
  cw__buf_printf(out,
                 "--%s\r\nContent-Disposition: form-data; name=", boundary);
  append_quoted(out, name);
  if (filename != NULL) {
    cw__buf_append_str(out, "; filename=");
    append_quoted(out, filename);
  }
  cw__buf_append_str(out, "\r\n");
  if (ctype != NULL)
    cw__buf_printf(out, "Content-Type: %s\r\n", ctype);
  cw__buf_append_str(out, "\r\n");
}

int cw__multipart_encode(const report_t *r, const upload_field_t *fields,
                         size_t nfields, const char *boundary, cw__buf_t *out) {
  for (size_t i = 0; i < nfields; i++) {
    part_begin(out, boundary, fields[i].name, NULL, NULL);
    cw__buf_append_str(out, fields[i].value);
    cw__buf_append_str(out, "\r\n");
  }
  part_begin(out, boundary, "sentry", NULL, "application/json");
  cw__buf_append(out, r->event_json, r->event_len);
  cw__buf_append_str(out, "\r\n");
  for (size_t i = 0; i < r->nfiles; i++) {
    const report_file_t *f = &r->files[i];
    part_begin(out, boundary, f->is_minidump ? "upload_file_minidump" : f->name,
               f->name,
               f->is_minidump ? "application/octet-stream"
                              : cw__report_content_type(f->name));
    cw__buf_append(out, f->data, f->len);
    cw__buf_append_str(out, "\r\n");
  }
  cw__buf_printf(out, "--%s--\r\n", boundary);
  return out->oom ? CW_ENOMEM : 0;
}

static int contains(const void *hay, size_t n, const char *needle) {
  return memmem(hay, n, needle, strlen(needle)) != NULL;
}

void cw__multipart_boundary(const report_t *r, char *out, size_t cap) {
  for (;;) {
    unsigned char rnd[12];
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
      /* No entropy source: time and pid still give a fresh boundary, and
       * the collision check below keeps it correct. */
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      unsigned long long v =
          (unsigned long long)ts.tv_nsec ^ ((unsigned long long)getpid() << 32);
      for (size_t k = 0; k < sizeof(rnd); k++)
        rnd[k] = (unsigned char)(v >> ((k % 8) * 8)) ^ (unsigned char)k;
    }
    int n = snprintf(out, cap, "------------------------crashwatch");
    for (size_t k = 0; k < sizeof(rnd) && (size_t)n + 2 < cap; k++)
      n += snprintf(out + n, cap - (size_t)n, "%02x", rnd[k]);
    int clash = contains(r->event_json, r->event_len, out);
    for (size_t i = 0; !clash && i < r->nfiles; i++)
      clash = contains(r->files[i].data, r->files[i].len, out);
    if (!clash)
      return;
  }
}
