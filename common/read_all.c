/*
 * read_all.c — reading an open file to its end (read_all.h). Normal
 * context.
 */
#include "read_all.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "crashwatch.h"

int cw__read_all(int fd, size_t hint, size_t max, char **out, size_t *len) {
  *out = NULL;
  *len = 0;
  size_t cap = hint < max ? hint : max;
  if (cap < 64)
    cap = max < 64 ? max : 64;
  char *buf = malloc(cap + 1);
  if (buf == NULL)
    return CW_ENOMEM;
  size_t got = 0;
  for (;;) {
    if (got == cap) {
      if (cap >= max) {
        /* Full at the bound: one byte more says the file is larger. */
        char probe;
        ssize_t r;
        do
          r = read(fd, &probe, 1);
        while (r < 0 && errno == EINTR);
        if (r == 0)
          break;
        free(buf);
        return r > 0 ? CW_ERANGE : errno ? -errno : CW_EIO;
      }
      size_t ncap = cap > max / 2 ? max : cap * 2;
      char *p = realloc(buf, ncap + 1);
      if (p == NULL) {
        free(buf);
        return CW_ENOMEM;
      }
      buf = p;
      cap = ncap;
    }
    ssize_t r = read(fd, buf + got, cap - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      int rc = errno ? -errno : CW_EIO;
      free(buf);
      return rc;
    }
    if (r == 0)
      break;
    got += (size_t)r;
  }
  buf[got] = '\0';
  *out = buf;
  *len = got;
  return 0;
}
