/* prom.c — Prometheus text exposition writer and its atomic file
 * replacement; see prom.h. Normal context. */
#include "prom.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crashwatch.h"

void cw__prom_init(cw__prom_t *p) { memset(p, 0, sizeof(*p)); }

void cw__prom_free(cw__prom_t *p) {
  cw__buf_free(&p->out);
  memset(p, 0, sizeof(*p));
}

static int name_ok(const char *s, int metric) {
  if (s == NULL || s[0] == '\0' || strlen(s) >= 128)
    return 0;
  for (const char *c = s; *c; c++) {
    int alpha = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                *c == '_' || (metric && *c == ':');
    int digit = *c >= '0' && *c <= '9';
    if (!alpha && !(digit && c != s))
      return 0;
  }
  return metric || strncmp(s, "__", 2) != 0;
}

static int invalid(cw__prom_t *p) {
  p->invalid = 1;
  return CW_EINVAL;
}

/* Appends s with the exposition's escapes: backslash and newline always,
 * the double quote in label values only. */
static void escaped(cw__buf_t *b, const char *s, int quote) {
  for (; *s; s++) {
    if (*s == '\\')
      cw__buf_append_str(b, "\\\\");
    else if (*s == '\n')
      cw__buf_append_str(b, "\\n");
    else if (quote && *s == '"')
      cw__buf_append_str(b, "\\\"");
    else
      cw__buf_append(b, s, 1);
  }
}

int cw__prom_family(cw__prom_t *p, const char *name, cw__prom_type_t type,
                    const char *help) {
  if (!name_ok(name, 1) || (type != CW_PROM_GAUGE && type != CW_PROM_COUNTER))
    return invalid(p);
  /* A family appears once per document: the exposition format (and
   * node_exporter) reject a second HELP/TYPE for the same name. */
  size_t nl = strlen(name);
  for (const char *s = p->seen; *s;) {
    const char *e = strchr(s, '\n');
    if ((size_t)(e - s) == nl && memcmp(s, name, nl) == 0)
      return invalid(p);
    s = e + 1;
  }
  size_t used = strlen(p->seen);
  if (used + nl + 2 > sizeof(p->seen))
    return invalid(p);
  memcpy(p->seen + used, name, nl);
  p->seen[used + nl] = '\n';
  p->seen[used + nl + 1] = '\0';
  snprintf(p->family, sizeof(p->family), "%s", name);
  cw__buf_printf(&p->out, "# HELP %s ", name);
  escaped(&p->out, help ? help : "", 0);
  cw__buf_printf(&p->out, "\n# TYPE %s %s\n", name,
                 type == CW_PROM_COUNTER ? "counter" : "gauge");
  return 0;
}

static void value_text(cw__buf_t *b, double v) {
  if (isnan(v))
    cw__buf_append_str(b, "NaN");
  else if (isinf(v))
    cw__buf_append_str(b, v > 0 ? "+Inf" : "-Inf");
  else if (v == floor(v) && fabs(v) < 9007199254740992.0) /* 2^53 */
    cw__buf_printf(b, "%lld", (long long)v);
  else
    cw__buf_printf(b, "%.17g", v);
}

int cw__prom_sample(cw__prom_t *p, const char *name,
                    const cw__prom_label_t *labels, size_t nlabels,
                    double value) {
  if (p->family[0] == '\0' || name == NULL || strcmp(name, p->family) != 0)
    return invalid(p);
  for (size_t i = 0; i < nlabels; i++) {
    if (!name_ok(labels[i].name, 0) || labels[i].value == NULL)
      return invalid(p);
    for (size_t j = 0; j < i; j++)
      if (strcmp(labels[i].name, labels[j].name) == 0)
        return invalid(p);
  }
  cw__buf_append_str(&p->out, name);
  if (nlabels > 0) {
    cw__buf_append_str(&p->out, "{");
    for (size_t i = 0; i < nlabels; i++) {
      cw__buf_printf(&p->out, "%s%s=\"", i ? "," : "", labels[i].name);
      escaped(&p->out, labels[i].value, 1);
      cw__buf_append_str(&p->out, "\"");
    }
    cw__buf_append_str(&p->out, "}");
  }
  cw__buf_append_str(&p->out, " ");
  value_text(&p->out, value);
  cw__buf_append_str(&p->out, "\n");
  return 0;
}

int cw__prom_metric(cw__prom_t *p, const char *name, cw__prom_type_t type,
                    const char *help, double value) {
  int rc = cw__prom_family(p, name, type, help);
  return rc != 0 ? rc : cw__prom_sample(p, name, NULL, 0, value);
}

const char *cw__prom_text(cw__prom_t *p) {
  if (p->invalid)
    return NULL;
  if (p->out.len == 0)
    cw__buf_append_str(&p->out, ""); /* an empty document is valid */
  return cw__buf_cstr(&p->out);
}

static int write_all(int fd, const char *s, size_t len) {
  while (len > 0) {
    ssize_t w = write(fd, s, len);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    s += w;
    len -= (size_t)w;
  }
  return 0;
}

int cw__prom_write_file(cw__prom_t *p, const char *path) {
  const char *text = cw__prom_text(p);
  if (p->invalid)
    return CW_EINVAL;
  if (text == NULL)
    return CW_ENOMEM;
  const char *slash = strrchr(path, '/');
  const char *base = slash ? slash + 1 : path;
  if (base[0] == '\0' || strlen(path) >= PATH_MAX)
    return CW_EINVAL;
  char dir[PATH_MAX];
  if (slash == NULL)
    snprintf(dir, sizeof(dir), ".");
  else if (slash == path)
    snprintf(dir, sizeof(dir), "/");
  else
    snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return CW_EIO;
  unsigned char r[8];
  if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned long long v =
        (unsigned long long)ts.tv_nsec ^ ((unsigned long long)getpid() << 32);
    memcpy(r, &v, sizeof(r));
  }
  char tmp[NAME_MAX + 1];
  if (snprintf(tmp, sizeof(tmp), ".%.200s.tmp-%02x%02x%02x%02x%02x%02x%02x%02x",
               base, r[0], r[1], r[2], r[3], r[4], r[5], r[6],
               r[7]) >= (int)sizeof(tmp)) {
    close(dfd);
    return CW_EINVAL;
  }
  int fd = openat(dfd, tmp,
                  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) {
    int e = errno;
    close(dfd);
    errno = e;
    return CW_EIO;
  }
  /* 0644 whatever the umask: the textfile collector reads it as its own
   * user. */
  int ok = fchmod(fd, 0644) == 0 && write_all(fd, text, strlen(text)) == 0 &&
           fsync(fd) == 0;
  int e = errno;
  if (close(fd) != 0 && ok) {
    ok = 0;
    e = errno;
  }
  if (ok && renameat(dfd, tmp, dfd, base) != 0) {
    ok = 0;
    e = errno;
  }
  if (!ok) {
    unlinkat(dfd, tmp, 0);
    close(dfd);
    errno = e;
    return CW_EIO;
  }
  fsync(dfd); /* the rename itself survives a power cut */
  close(dfd);
  return 0;
}
