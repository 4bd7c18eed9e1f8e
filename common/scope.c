/*
 * scope.c — the reader of the scope mapping (common/scope.h): a consistent
 * copy of what the application's cw_set_*, cw_add_breadcrumb... calls left
 * in the mapping (layout: scope_layout.h; rules: docs/scope.md). Normal
 * context, libc only; used by the watchdog.
 *
 * The mapping is outside input: a crashed program can leave any bytes in
 * it, and a live one may be writing while this runs. So every slot is
 * first copied out under its sequence counter (a slot that is odd, or
 * changed during the copy, is retried, yielding the CPU after a few tries,
 * and then dropped), and
 * only the private copy is parsed: sizes and counts bounded, strings cut
 * at their field and repaired to valid UTF-8, JSON values re-checked with
 * the writer's checker, ids and levels range-checked. An entry that fails
 * is dropped, never passed on half right.
 */
#include "scope.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "crashwatch.h"
#include "json_check.h"
#include "scope_layout.h"
#include "utf8.h"

/* Copies of a slot tried before it counts as torn: first at once, then
 * yielding the CPU, so a live writer that was descheduled in the middle of
 * its write can finish it. A slot a crashed writer left odd stays odd and
 * costs these tries once. */
#define SLOT_SPINS 64
#define SLOT_YIELDS 256

/* Copies size bytes of the slot at src into dst under its counter.
 * Returns 1 for a consistent copy of a slot in use, else 0. */
static int read_slot(void *dst, const void *src, size_t size) {
  const cw__scope_slot_hdr_t *h = src;
  for (int i = 0; i < SLOT_SPINS + SLOT_YIELDS; i++) {
    if (i >= SLOT_SPINS)
      sched_yield();
    uint32_t s1 = __atomic_load_n(&h->seq, __ATOMIC_ACQUIRE);
    if (s1 == 0)
      return 0; /* never written */
    if (s1 & 1)
      continue;
    memcpy(dst, src, size);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (__atomic_load_n(&h->seq, __ATOMIC_RELAXED) == s1)
      return ((const cw__scope_slot_hdr_t *)dst)->used == 1;
  }
  return 0;
}

/* The text of a field of cap bytes as a new valid UTF-8 string; NULL if it
 * has no NUL inside the field (a corrupt slot) or on out-of-memory
 * (*oom set). */
static char *field_str(const char *f, size_t cap, int *oom) {
  size_t n = strnlen(f, cap);
  if (n >= cap)
    return NULL;
  size_t out_cap = 3 * n + 1;
  char *s = malloc(out_cap);
  if (s == NULL) {
    *oom = 1;
    return NULL;
  }
  cw__utf8_sanitize(s, out_cap, f, n);
  return s;
}

/* A non-empty field as a string; NULL for an empty one. */
static char *field_opt(const char *f, size_t cap, int *oom) {
  if (f[0] == '\0')
    return NULL;
  return field_str(f, cap, oom);
}

/* A field holding JSON text, checked (object: must be an object). NULL
 * if it is not valid JSON. */
static char *field_json(const char *f, size_t cap, int object, int *oom) {
  char *s = field_str(f, cap, oom);
  if (s == NULL)
    return NULL;
  unsigned flags = CW__JSON_CHECK_UTF8 | (object ? CW__JSON_CHECK_OBJECT : 0);
  if (s[0] == '\0' || cw__json_check(s, strlen(s), flags, 0, NULL, NULL) != 0) {
    free(s);
    return NULL;
  }
  return s;
}

static int is_hex_lower(const char *s, size_t n) {
  int nonzero = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return 0;
    nonzero |= c != '0';
  }
  return s[n] == '\0' && nonzero;
}

static int has_key(const cw__scope_kv_t *kv, size_t n, const char *key) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(kv[i].key, key) == 0)
      return 1;
  return 0;
}

/* One key/value table: n slots of size bytes at src; the key field at
 * offset 8 (after the header), the value field (vcap bytes) after it. */
static int read_table(const char *src, size_t size, size_t n, size_t vcap,
                      int json, int object, cw__scope_kv_t **out, size_t *count,
                      char *buf) {
  *out = calloc(n, sizeof(**out));
  if (*out == NULL)
    return CW_ENOMEM;
  int oom = 0;
  for (size_t i = 0; i < n && !oom; i++) {
    if (!read_slot(buf, src + i * size, size))
      continue;
    const char *kf = buf + sizeof(cw__scope_slot_hdr_t);
    const char *vf = kf + CW__SCOPE_KEY_MAX;
    char *key = field_opt(kf, CW__SCOPE_KEY_MAX, &oom);
    char *val =
        json ? field_json(vf, vcap, object, &oom) : field_str(vf, vcap, &oom);
    if (key == NULL || val == NULL || has_key(*out, *count, key)) {
      free(key);
      free(val);
      continue;
    }
    (*out)[*count].key = key;
    (*out)[*count].value = val;
    (*count)++;
  }
  return oom ? CW_ENOMEM : 0;
}

typedef struct {
  uint64_t index;
  cw__scope_crumb_t crumb;
} crumb_ord_t;

static int by_index(const void *a, const void *b) {
  uint64_t x = ((const crumb_ord_t *)a)->index;
  uint64_t y = ((const crumb_ord_t *)b)->index;
  return x < y ? -1 : x > y;
}

static void free_crumb(cw__scope_crumb_t *c) {
  free((char *)c->type);
  free((char *)c->category);
  free((char *)c->message);
  free((char *)c->data_json);
}

static int read_crumbs(const cw__scope_crumb_slot_t *ring, uint32_t n,
                       uint64_t crumb_end, cw__scope_snapshot_t *out) {
  if (n == 0)
    return 0;
  crumb_ord_t *ord = calloc(n, sizeof(*ord));
  cw__scope_crumb_slot_t *c = malloc(sizeof(*c));
  if (ord == NULL || c == NULL) {
    free(ord);
    free(c);
    return CW_ENOMEM;
  }
  size_t k = 0;
  int oom = 0;
  for (uint32_t i = 0; i < n && !oom; i++) {
    if (!read_slot(c, &ring[i], sizeof(*c)))
      continue;
    if (c->level < CW_LEVEL_DEBUG || c->level > CW_LEVEL_FATAL)
      continue;
    if (c->index >= crumb_end)
      continue; /* added after the event's call */
    cw__scope_crumb_t *o = &ord[k].crumb;
    o->timestamp_ns = c->timestamp_ns;
    o->level = c->level;
    int bad =
        strnlen(c->type, sizeof(c->type)) >= sizeof(c->type) ||
        strnlen(c->category, sizeof(c->category)) >= sizeof(c->category) ||
        strnlen(c->message, sizeof(c->message)) >= sizeof(c->message);
    if (!bad) {
      o->type = field_opt(c->type, sizeof(c->type), &oom);
      o->category = field_opt(c->category, sizeof(c->category), &oom);
      o->message = field_opt(c->message, sizeof(c->message), &oom);
      if (c->data[0] != '\0') {
        o->data_json = field_json(c->data, sizeof(c->data), 1, &oom);
        bad = o->data_json == NULL;
      }
    }
    if (bad || oom) {
      free_crumb(o);
      memset(o, 0, sizeof(*o));
      continue;
    }
    ord[k++].index = c->index;
  }
  free(c);
  if (oom) {
    for (size_t i = 0; i < k; i++)
      free_crumb(&ord[i].crumb);
    free(ord);
    return CW_ENOMEM;
  }
  qsort(ord, k, sizeof(*ord), by_index);
  out->crumbs = calloc(k ? k : 1, sizeof(*out->crumbs));
  if (out->crumbs == NULL) {
    for (size_t i = 0; i < k; i++)
      free_crumb(&ord[i].crumb);
    free(ord);
    return CW_ENOMEM;
  }
  for (size_t i = 0; i < k; i++)
    out->crumbs[i] = ord[i].crumb;
  out->ncrumbs = k;
  free(ord);
  return 0;
}

/* The single slots: config, level, transaction, trace, user,
 * fingerprint, attachments. */
static int read_singles(const cw__scope_map_t *m, cw__scope_snapshot_t *out,
                        void *buf) {
  int oom = 0;
  cw__scope_config_slot_t *cfg = buf;
  out->attachment_max_bytes = 256 * 1024;
  if (read_slot(cfg, &m->config, sizeof(*cfg))) {
    out->dist = field_opt(cfg->dist, sizeof(cfg->dist), &oom);
    out->server_name =
        field_opt(cfg->server_name, sizeof(cfg->server_name), &oom);
    out->send_default_pii = cfg->send_default_pii == 1;
    if (cfg->attachment_max_bytes >= 1 &&
        cfg->attachment_max_bytes <= (1u << 30))
      out->attachment_max_bytes = (size_t)cfg->attachment_max_bytes;
  }
  cw__scope_level_slot_t *lv = buf;
  if (read_slot(lv, &m->level, sizeof(*lv)) && lv->level >= CW_LEVEL_DEBUG &&
      lv->level <= CW_LEVEL_FATAL)
    out->level = lv->level;
  cw__scope_str_slot_t *tr = buf;
  if (read_slot(tr, &m->transaction, sizeof(*tr)))
    out->transaction = field_opt(tr->value, sizeof(tr->value), &oom);
  cw__scope_trace_slot_t *tc = buf;
  if (read_slot(tc, &m->trace, sizeof(*tc)) && is_hex_lower(tc->trace_id, 32) &&
      is_hex_lower(tc->span_id, 16)) {
    out->trace_id = field_str(tc->trace_id, sizeof(tc->trace_id), &oom);
    out->span_id = field_str(tc->span_id, sizeof(tc->span_id), &oom);
  }
  cw__scope_user_slot_t *u = buf;
  if (read_slot(u, &m->user, sizeof(*u))) {
    out->user_id = field_opt(u->id, sizeof(u->id), &oom);
    out->user_email = field_opt(u->email, sizeof(u->email), &oom);
    out->user_username = field_opt(u->username, sizeof(u->username), &oom);
    out->user_ip_address =
        field_opt(u->ip_address, sizeof(u->ip_address), &oom);
  }
  cw__scope_fingerprint_slot_t *f = buf;
  if (read_slot(f, &m->fingerprint, sizeof(*f)) && f->n >= 1 &&
      f->n <= CW__SCOPE_NFINGERPRINT) {
    out->fingerprint = calloc(f->n, sizeof(char *));
    if (out->fingerprint == NULL)
      oom = 1;
    for (uint32_t i = 0; i < f->n && !oom; i++) {
      char *p = field_str(f->parts[i], sizeof(f->parts[i]), &oom);
      if (p != NULL)
        out->fingerprint[out->nfingerprint++] = p;
    }
  }
  cw__scope_session_slot_t *ss = buf;
  if (read_slot(ss, &m->session, sizeof(*ss)) && ss->pid > 0 &&
      memchr(ss->sid, '\0', sizeof(ss->sid)) != NULL && strlen(ss->sid) == 36) {
    out->session_sid = field_str(ss->sid, sizeof(ss->sid), &oom);
    out->session_pid = ss->pid;
    out->session_started_ms = ss->started_ms;
    /* Counted after the slot was written: the latest value. */
    out->session_errors = __atomic_load_n(&m->session.errors, __ATOMIC_RELAXED);
  }
  out->attachments = calloc(CW__SCOPE_NATTACH, sizeof(char *));
  if (out->attachments == NULL)
    oom = 1;
  cw__scope_attach_slot_t *a = buf;
  for (int i = 0; i < CW__SCOPE_NATTACH && !oom; i++) {
    if (!read_slot(a, &m->attachments[i], sizeof(*a)) || a->path[0] != '/')
      continue;
    char *p = field_str(a->path, sizeof(a->path), &oom);
    if (p != NULL)
      out->attachments[out->nattachments++] = p;
  }
  return oom ? CW_ENOMEM : 0;
}

int cw__scope_snapshot(const void *map, size_t len, cw__scope_snapshot_t *out) {
  return cw__scope_snapshot_until(map, len, UINT64_MAX, out);
}

int cw__scope_snapshot_until(const void *map, size_t len, uint64_t crumb_end,
                             cw__scope_snapshot_t *out) {
  memset(out, 0, sizeof(*out));
  out->level = -1;
  if (map == NULL || len < sizeof(cw__scope_map_t))
    return CW_EFORMAT;
  const cw__scope_map_t *m = map;
  /* The header is read once, into locals: the app may still be running. */
  uint32_t magic = __atomic_load_n(&m->magic, __ATOMIC_RELAXED);
  uint32_t version = __atomic_load_n(&m->version, __ATOMIC_RELAXED);
  uint32_t fixed = __atomic_load_n(&m->fixed_size, __ATOMIC_RELAXED);
  uint32_t csize = __atomic_load_n(&m->crumb_size, __ATOMIC_RELAXED);
  uint32_t ncrumbs = __atomic_load_n(&m->ncrumbs, __ATOMIC_RELAXED);
  if (magic != CW__SCOPE_MAGIC || version != CW__SCOPE_VERSION ||
      fixed != sizeof(cw__scope_map_t) ||
      csize != sizeof(cw__scope_crumb_slot_t) ||
      ncrumbs > CW__SCOPE_MAX_CRUMBS || CW__SCOPE_MAP_SIZE(ncrumbs) > len)
    return CW_EFORMAT;
  /* One buffer big enough for any slot's copy. */
  void *buf = malloc(sizeof(cw__scope_attach_slot_t) > sizeof(m->extra[0])
                         ? sizeof(cw__scope_attach_slot_t)
                         : sizeof(m->extra[0]));
  if (buf == NULL)
    return CW_ENOMEM;
  int rc = read_singles(m, out, buf);
  if (rc == 0)
    rc = read_table((const char *)m->tags, sizeof(m->tags[0]), CW__SCOPE_NTAGS,
                    sizeof(m->tags[0].value), 0, 0, &out->tags, &out->ntags,
                    buf);
  if (rc == 0)
    rc = read_table((const char *)m->extra, sizeof(m->extra[0]),
                    CW__SCOPE_NEXTRA, sizeof(m->extra[0].value), 1, 0,
                    &out->extra, &out->nextra, buf);
  if (rc == 0)
    rc = read_table((const char *)m->contexts, sizeof(m->contexts[0]),
                    CW__SCOPE_NCONTEXTS, sizeof(m->contexts[0].value), 1, 1,
                    &out->contexts, &out->ncontexts, buf);
  free(buf);
  if (rc == 0)
    rc = read_crumbs(CW__SCOPE_CRUMBS(m), ncrumbs, crumb_end, out);
  if (rc != 0) {
    cw__scope_snapshot_free(out);
    out->level = -1;
  }
  return rc;
}

static void free_kv(cw__scope_kv_t *kv, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free((char *)kv[i].key);
    free((char *)kv[i].value);
  }
  free(kv);
}

void cw__scope_snapshot_free(cw__scope_snapshot_t *s) {
  if (s == NULL)
    return;
  free_kv(s->tags, s->ntags);
  free_kv(s->extra, s->nextra);
  free_kv(s->contexts, s->ncontexts);
  free((char *)s->session_sid);
  free((char *)s->user_id);
  free((char *)s->user_email);
  free((char *)s->user_username);
  free((char *)s->user_ip_address);
  for (size_t i = 0; i < s->nfingerprint; i++)
    free((char *)s->fingerprint[i]);
  free(s->fingerprint);
  free((char *)s->transaction);
  free((char *)s->trace_id);
  free((char *)s->span_id);
  for (size_t i = 0; i < s->ncrumbs; i++)
    free_crumb(&s->crumbs[i]);
  free(s->crumbs);
  for (size_t i = 0; i < s->nattachments; i++)
    free((char *)s->attachments[i]);
  free(s->attachments);
  free((char *)s->dist);
  free((char *)s->server_name);
  memset(s, 0, sizeof(*s));
}
