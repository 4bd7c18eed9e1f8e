/*
 * scope_map.c — the scope mapping's life (issue 10): created at cw_init(),
 * cleared and reused by a later cw_init(), made private in a forked child.
 * Normal context (cw__scope_atfork_child runs in the child of fork(), where
 * only the forking thread exists).
 *
 * The mapping is a memfd (sealed against shrinking and growing, so the
 * watchdog's read-only view can never fault), mapped MAP_SHARED here and by
 * the watchdog. It is never unmapped: an API call racing cw_shutdown() may
 * still be writing into it; a later cw_init() reuses it when the ring fits,
 * else maps a larger one (the old one stays mapped, unused).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crashwatch.h"
#include "cw_internal.h"
#include "scope_write.h"
#include "utf8.h"

cw__scope_state_t cw__scope = {.fd = -1};

void cw__scope_index_rebuild(cw__scope_index_t *ix, char *base, size_t stride,
                             int nslots);
int cw__scope_attach(cw__scope_map_t *m, const char *path, size_t len);
int cw__scope_abs_path(const char *path, char *buf, size_t cap, size_t *len);
int cw__scope_parse_traceparent(const char *h, char trace[33], char span[17]);

static int map_memfd(size_t len);

/* The private indexes from the mapping's tables; with empty set (a new or
 * cleared mapping, all zero) without reading them: the first read of each
 * page of a new memfd allocates it, about 30 pages of tables, a few
 * hundred microseconds of cw_init() on a VM. */
static void rebuild_indexes(cw__scope_map_t *m, int empty) {
  cw__scope_index_rebuild(&cw__scope.tags, empty ? NULL : (char *)m->tags,
                          sizeof(m->tags[0]), CW__SCOPE_NTAGS);
  cw__scope_index_rebuild(&cw__scope.extra, empty ? NULL : (char *)m->extra,
                          sizeof(m->extra[0]), CW__SCOPE_NEXTRA);
  cw__scope_index_rebuild(&cw__scope.contexts,
                          empty ? NULL : (char *)m->contexts,
                          sizeof(m->contexts[0]), CW__SCOPE_NCONTEXTS);
  cw__scope.single_lock = 0;
}

/* A mapping with no memfd, when RLIMIT_FSIZE's hard limit is below the
 * scope's size (a file that large would raise SIGXFSZ): the API works,
 * the watchdog gets no scope (docs/scope.md). */
static int map_anonymous(size_t len) {
  void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                 -1, 0);
  if (p == MAP_FAILED)
    return cw__fail(CW_ENOMEM, "scope: a %zu-byte mapping: %s", len,
                    strerror(errno));
  if (cw__scope.fd >= 0)
    close(cw__scope.fd);
  cw__scope.mem = p;
  cw__scope.len = len;
  cw__scope.fd = -1;
  return 0;
}

/* A fresh sealed memfd of len bytes, mapped; or a CW_E* code.
 *
 * RLIMIT_FSIZE applies to a memfd like to any file, and ftruncate past it
 * raises SIGXFSZ, which kills the app. A soft limit below len is raised to
 * the hard one for the ftruncate and put back, as for the watchdog's
 * memfd (spawn.c); a hard limit below len gives an anonymous mapping. */
static int map_new(size_t len) {
  struct rlimit fsz, raised;
  int restore = 0;
  if (getrlimit(RLIMIT_FSIZE, &fsz) == 0 && fsz.rlim_cur != RLIM_INFINITY &&
      fsz.rlim_cur < len) {
    if (fsz.rlim_max != RLIM_INFINITY && fsz.rlim_max < len)
      return map_anonymous(len);
    raised = fsz;
    raised.rlim_cur = fsz.rlim_max;
    if (setrlimit(RLIMIT_FSIZE, &raised) != 0)
      return map_anonymous(len);
    restore = 1;
  }
  int rc = map_memfd(len);
  if (restore)
    setrlimit(RLIMIT_FSIZE, &fsz);
  return rc;
}

static int map_memfd(size_t len) {
  int fd = memfd_create("crashwatch-scope", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0)
    return cw__fail(CW_ENOMEM, "scope: memfd_create: %s", strerror(errno));
  if (fd <= 2) { /* the watchdog's dup2 onto 0 and 1 must not hit it */
    int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    close(fd);
    if (moved < 0)
      return cw__fail(CW_ENOMEM, "scope: fcntl: %s", strerror(errno));
    fd = moved;
  }
  void *p = MAP_FAILED;
  struct stat st;
  if (ftruncate(fd, (off_t)len) != 0 ||
      fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0 ||
      fstat(fd, &st) != 0 ||
      (p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) ==
          MAP_FAILED) {
    int e = errno;
    close(fd);
    return cw__fail(e == EFBIG ? CW_ENOSPC : CW_ENOMEM,
                    "scope: a %zu-byte mapping: %s", len, strerror(e));
  }
  if (cw__scope.fd >= 0)
    close(cw__scope.fd); /* the old mapping stays, unused */
  cw__scope.mem = p;
  cw__scope.len = len;
  cw__scope.fd = fd;
  cw__scope.fd_dev = (uint64_t)st.st_dev;
  cw__scope.fd_ino = (uint64_t)st.st_ino;
  return 0;
}

/* Zeroes the reused mapping: punching out its pages frees them too. */
static void map_clear(void) {
  if (fallocate(cw__scope.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
                (off_t)cw__scope.len) != 0)
    memset(cw__scope.mem, 0, cw__scope.len);
}

static void config_write(cw__scope_map_t *m, const struct cw_options *o) {
  cw__scope_config_slot_t *c = &m->config;
  uint32_t s = cw__slot_lock(&c->h);
  c->send_default_pii = o->send_default_pii != 0;
  c->attachment_max_bytes = o->attachment_max_bytes;
  const char *dist = o->dist;
  if (dist != NULL)
    cw__utf8_copy_trunc(c->dist, sizeof(c->dist), dist, strlen(dist));
  char host[HOST_NAME_MAX + 1] = "";
  const char *server = o->server_name;
  if (server == NULL && gethostname(host, sizeof(host)) == 0) {
    host[sizeof(host) - 1] = '\0';
    server = host;
  }
  if (server != NULL)
    cw__utf8_copy_trunc(c->server_name, sizeof(c->server_name), server,
                        strlen(server));
  c->h.used = 1;
  cw__slot_unlock(&c->h, s);
}

int cw__scope_open(const struct cw_options *o) {
  uint32_t n = o->max_breadcrumbs;
  size_t len = (size_t)CW__SCOPE_MAP_SIZE(n);
  /* A forked child's private copy (fd -1) is never reused: it has no
   * memfd for the watchdog. */
  int rc = 0;
  cw__scope_stop();
  if (cw__scope.mem != NULL && cw__scope.fd >= 0 && len <= cw__scope.len)
    map_clear();
  else
    rc = map_new(len);
  if (rc != 0)
    return rc;
  cw__scope_map_t *m = cw__scope.mem;
  m->magic = CW__SCOPE_MAGIC;
  m->version = CW__SCOPE_VERSION;
  m->size = len;
  m->fixed_size = sizeof(cw__scope_map_t);
  m->crumb_size = sizeof(cw__scope_crumb_slot_t);
  m->ncrumbs = n;
  cw__scope.ncrumbs = n;
  cw__scope.crumb_mod = n ? UINT64_MAX / n + 1 : 0;
  rebuild_indexes(m, 1); /* new or cleared just above */
  config_write(m, o);
  for (int i = 0; i < o->nattachments; i++) {
    char abs[CW__SCOPE_PATH_MAX];
    size_t alen;
    rc = cw__scope_abs_path(o->attachments[i], abs, sizeof(abs), &alen);
    if (rc == 0)
      rc = cw__scope_attach(m, abs, alen);
    if (rc != 0)
      return cw__fail(rc, "attachment %s: %s", o->attachments[i],
                      cw_strerror(rc));
  }
  /* The W3C trace context a parent process handed down (OpenTelemetry's
   * environment carrier); a malformed one is ignored. */
  const char *tp = cw__getenv("TRACEPARENT");
  char trace[33], span[17];
  if (tp != NULL && cw__scope_parse_traceparent(tp, trace, span) == 0) {
    cw__scope_trace_slot_t *t = &m->trace;
    uint32_t s = cw__slot_lock(&t->h);
    memcpy(t->trace_id, trace, sizeof(trace));
    memcpy(t->span_id, span, sizeof(span));
    t->h.used = 1;
    cw__slot_unlock(&t->h, s);
  }
  return 0;
}

void cw__scope_go_live(void) {
  __atomic_store_n(&cw__scope.map, cw__scope.mem, __ATOMIC_RELEASE);
}

void cw__scope_stop(void) {
  __atomic_store_n(&cw__scope.map, NULL, __ATOMIC_RELEASE);
}

int cw__scope_fd(void) { return cw__scope.mem != NULL ? cw__scope.fd : -1; }

/* ---- fork ------------------------------------------------------------- */

/* Copies one slot of size bytes from the shared mapping into the child's
 * private copy, if it was ever written. A slot in the middle of a write
 * (another thread of the parent) is copied as removed. */
static void copy_slot(void *dst, const void *src, size_t size) {
  const cw__scope_slot_hdr_t *h = src;
  uint32_t s1 = __atomic_load_n(&h->seq, __ATOMIC_ACQUIRE);
  if (s1 == 0)
    return;
  memcpy(dst, src, size);
  __atomic_thread_fence(__ATOMIC_ACQUIRE);
  uint32_t s2 = __atomic_load_n(&h->seq, __ATOMIC_RELAXED);
  cw__scope_slot_hdr_t *d = dst;
  if (s1 != s2 || (s1 & 1)) {
    d->seq = (s1 | 1) + 1;
    d->used = 0;
  }
}

static void copy_slots(void *dst, const void *src, size_t size, size_t n) {
  for (size_t i = 0; i < n; i++)
    copy_slot((char *)dst + i * size, (const char *)src + i * size, size);
}

/*
 * The child of fork() gets a private copy of the scope: what the parent
 * had set when it forked, which the child's own calls then change without
 * touching the parent's (and the parent's later calls no longer show in
 * the child's report). The copy is anonymous memory moved over the shared
 * mapping's address (mremap), so a pointer the API loaded stays valid. Only
 * slots ever written are copied: the child pays for the scope in use, not
 * for the mapping's size. The child's crash handler hands the copy to the
 * watchdog it starts at crash time (crash_spawn.c). If memory runs out,
 * the child's scope is turned off (its calls return CW_ENOTINIT) rather
 * than left shared.
 */
void cw__scope_atfork_child(void) {
  cw__scope_map_t *m = cw__scope.mem;
  if (m == NULL)
    return;
  if (cw__scope.fd >= 0) {
    close(cw__scope.fd);
    cw__scope.fd = -1;
  }
  if (cw__scope.map == NULL) {
    /* Not live (after cw_shutdown): nothing to keep; a cw_init() in the
     * child maps a scope of its own. */
    cw__scope.mem = NULL;
    return;
  }
  void *p = mmap(NULL, cw__scope.len, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    cw__scope.map = NULL;
    cw__scope.mem = NULL;
    return;
  }
  cw__scope_map_t *c = p;
  memcpy(c, m, offsetof(cw__scope_map_t, config));
  c->crumb_head = __atomic_load_n(&m->crumb_head, __ATOMIC_RELAXED);
  copy_slot(&c->config, &m->config, sizeof(m->config));
  copy_slot(&c->level, &m->level, sizeof(m->level));
  copy_slot(&c->transaction, &m->transaction, sizeof(m->transaction));
  copy_slot(&c->trace, &m->trace, sizeof(m->trace));
  copy_slot(&c->user, &m->user, sizeof(m->user));
  copy_slot(&c->fingerprint, &m->fingerprint, sizeof(m->fingerprint));
  copy_slots(c->tags, m->tags, sizeof(m->tags[0]), CW__SCOPE_NTAGS);
  copy_slots(c->extra, m->extra, sizeof(m->extra[0]), CW__SCOPE_NEXTRA);
  copy_slots(c->contexts, m->contexts, sizeof(m->contexts[0]),
             CW__SCOPE_NCONTEXTS);
  copy_slots(c->attachments, m->attachments, sizeof(m->attachments[0]),
             CW__SCOPE_NATTACH);
  copy_slots(CW__SCOPE_CRUMBS(c), CW__SCOPE_CRUMBS(m),
             sizeof(cw__scope_crumb_slot_t), cw__scope.ncrumbs);
  if (mremap(p, cw__scope.len, cw__scope.len, MREMAP_MAYMOVE | MREMAP_FIXED,
             m) == MAP_FAILED) {
    munmap(p, cw__scope.len);
    cw__scope.map = NULL;
    cw__scope.mem = NULL;
    return;
  }
  rebuild_indexes(m, 0);
}
