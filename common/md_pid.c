/* md_pid.c — the process id of a minidump's MiscInfo stream; see md_pid.h.
 * Normal context. */
#include "md_pid.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crashwatch.h"
#include "minidump_format.h"

/* A directory longer than this is not one a writer of Linux minidumps
 * makes (ours has about 20 streams). */
#define MAX_STREAMS 4096

typedef int (*read_fn)(void *ctx, uint64_t off, void *out, size_t n);

static int peek(read_fn rd, void *ctx, uint32_t *pid) {
  md_header_t h;
  if (rd(ctx, 0, &h, sizeof(h)) != 0 || h.signature != MD_HEADER_SIGNATURE)
    return CW_EFORMAT;
  if (h.stream_count > MAX_STREAMS)
    return CW_EFORMAT;
  for (uint32_t i = 0; i < h.stream_count; i++) {
    md_directory_t d;
    if (rd(ctx, (uint64_t)h.stream_directory_rva + (uint64_t)i * sizeof(d), &d,
           sizeof(d)) != 0)
      return CW_EFORMAT;
    if (d.stream_type != MD_MISC_INFO_STREAM)
      continue;
    md_misc_info_t m;
    if (d.location.data_size < sizeof(m) ||
        rd(ctx, d.location.rva, &m, sizeof(m)) != 0)
      return CW_EFORMAT;
    if (!(m.flags1 & MD_MISCINFO_FLAGS1_PROCESS_ID))
      return CW_ENOENT;
    *pid = m.process_id;
    return 0;
  }
  return CW_ENOENT;
}

typedef struct {
  const uint8_t *p;
  size_t len;
} mem_t;

static int mem_read(void *ctx, uint64_t off, void *out, size_t n) {
  const mem_t *m = ctx;
  if (off > m->len || n > m->len - off)
    return -1;
  memcpy(out, m->p + off, n);
  return 0;
}

int cw__md_peek_pid(const void *data, size_t len, uint32_t *pid) {
  mem_t m = {data, len};
  return peek(mem_read, &m, pid);
}

typedef struct {
  int fd;
  int io_error;
} file_t;

static int file_read(void *ctx, uint64_t off, void *out, size_t n) {
  file_t *f = ctx;
  size_t got = 0;
  while (got < n) {
    ssize_t r = pread(f->fd, (char *)out + got, n - got, (off_t)(off + got));
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      f->io_error = 1;
    if (r <= 0)
      return -1;
    got += (size_t)r;
  }
  return 0;
}

int cw__md_peek_pid_fd(int fd, uint32_t *pid) {
  file_t f = {fd, 0};
  int rc = peek(file_read, &f, pid);
  return f.io_error ? CW_EIO : rc;
}
