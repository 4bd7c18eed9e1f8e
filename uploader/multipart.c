/* multipart.c — a loaded report as a Breakpad-style multipart/form-data
 * body; see multipart.h. */
#include "multipart.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "crashwatch.h"

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
