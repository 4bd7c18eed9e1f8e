/*
 * scope.c — the scope API of include/crashwatch.h (issue 10) but
 * cw_add_breadcrumb (scope_crumb.c): tags, extra, contexts, user,
 * fingerprint, level, transaction, trace, attachments, cw_clear_scope.
 * Normal context; every function is thread-safe.
 *
 * Each call writes its value straight into the shared scope mapping
 * (scope_map.c) under the slot protocol of scope_write.h, so the crash
 * path serializes nothing and a crash at any instant leaves every slot
 * either whole or marked torn (docs/scope.md). No call allocates; none
 * makes a system call when uncontended (cw_add_attachment's getcwd for a
 * relative path aside).
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "crashwatch.h"
#include "cw_internal.h"
#include "scope_write.h"
#include "utf8.h"

/* ---- key/value tables (tags, extra, contexts) ------------------------- */

typedef struct {
  cw__scope_index_t *ix;
  char *base;    /* slot 0 */
  size_t stride; /* bytes per slot */
  size_t vcap;   /* bytes of the value field */
} kv_t;

/* Tag and JSON slots share the first fields: header, key, value. */
static cw__scope_slot_hdr_t *kv_hdr(const kv_t *t, int i) {
  return (cw__scope_slot_hdr_t *)(t->base + (size_t)i * t->stride);
}
static char *kv_key(const kv_t *t, int i) {
  return (char *)kv_hdr(t, i) + sizeof(cw__scope_slot_hdr_t);
}
static char *kv_value(const kv_t *t, int i) {
  return kv_key(t, i) + CW__SCOPE_KEY_MAX;
}

static kv_t kv_tags(cw__scope_map_t *m) {
  return (kv_t){&cw__scope.tags, (char *)m->tags, sizeof(m->tags[0]),
                sizeof(m->tags[0].value)};
}
static kv_t kv_extra(cw__scope_map_t *m) {
  return (kv_t){&cw__scope.extra, (char *)m->extra, sizeof(m->extra[0]),
                sizeof(m->extra[0].value)};
}
static kv_t kv_contexts(cw__scope_map_t *m) {
  return (kv_t){&cw__scope.contexts, (char *)m->contexts,
                sizeof(m->contexts[0]), sizeof(m->contexts[0].value)};
}

/* FNV-1a. */
static uint32_t hash_key(const char *k, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)k[i]) * 16777619u;
  return h;
}

#define BMASK (CW__SCOPE_BUCKETS - 1)

/* The bucket holding key, or -1. Under the table lock. */
static int kv_find(const kv_t *t, uint32_t h, const char *key, size_t klen) {
  const cw__scope_index_t *ix = t->ix;
  for (unsigned b = h & BMASK; ix->slot[b] >= 0; b = (b + 1) & BMASK) {
    if (ix->hash[b] != h)
      continue;
    const char *k = kv_key(t, ix->slot[b]);
    if (memcmp(k, key, klen) == 0 && k[klen] == '\0')
      return (int)b;
  }
  return -1;
}

/* Removes bucket b, shifting later entries of its cluster back so every
 * key stays reachable from its home bucket. */
static void index_delete(cw__scope_index_t *ix, unsigned b) {
  ix->slot[b] = -1;
  unsigned j = b;
  for (;;) {
    j = (j + 1) & BMASK;
    if (ix->slot[j] < 0)
      return;
    unsigned home = ix->hash[j] & BMASK;
    /* Leave j where it is if its home lies cyclically in (b, j]. */
    int stays = b <= j ? (b < home && home <= j) : (b < home || home <= j);
    if (stays)
      continue;
    ix->hash[b] = ix->hash[j];
    ix->slot[b] = ix->slot[j];
    ix->slot[j] = -1;
    b = j;
  }
}

/* The key as stored: truncated on a UTF-8 boundary with the marker when
 * longer than the field. *k points to key itself or to buf. */
static int norm_key(const char *key, char *buf, const char **k, size_t *klen) {
  if (key == NULL || key[0] == '\0')
    return CW_EINVAL;
  size_t n = strlen(key);
  if (n < CW__SCOPE_KEY_MAX) {
    *k = key;
    *klen = n;
  } else {
    *klen = cw__utf8_copy_trunc(buf, CW__SCOPE_KEY_MAX, key, n);
    *k = buf;
  }
  return 0;
}

/* Sets key to value (vlen bytes); text values are truncated to the field,
 * JSON values were checked to fit. */
static int kv_set(const kv_t *t, const char *key, const char *value,
                  size_t vlen, int text) {
  char kbuf[CW__SCOPE_KEY_MAX];
  const char *k;
  size_t klen;
  int rc = norm_key(key, kbuf, &k, &klen);
  if (rc != 0)
    return rc;
  uint32_t h = hash_key(k, klen);
  cw__scope_index_t *ix = t->ix;
  cw__spin_lock(&ix->lock);
  int b = kv_find(t, h, k, klen);
  int slot, fresh = 0;
  if (b >= 0) {
    slot = ix->slot[b];
  } else {
    if (ix->count >= ix->nslots) {
      cw__spin_unlock(&ix->lock);
      return CW_ENOSPC;
    }
    for (slot = 0; ix->inuse[slot]; slot++) {
    }
    unsigned nb = h & BMASK;
    while (ix->slot[nb] >= 0)
      nb = (nb + 1) & BMASK;
    ix->hash[nb] = h;
    ix->slot[nb] = (int16_t)slot;
    ix->inuse[slot] = 1;
    ix->count++;
    fresh = 1;
  }
  cw__scope_slot_hdr_t *hdr = kv_hdr(t, slot);
  uint32_t s = cw__slot_begin(hdr);
  if (fresh)
    memcpy(kv_key(t, slot), k, klen + 1);
  if (text)
    cw__utf8_copy_trunc(kv_value(t, slot), t->vcap, value, vlen);
  else {
    memcpy(kv_value(t, slot), value, vlen);
    kv_value(t, slot)[vlen] = '\0';
  }
  hdr->used = 1;
  cw__slot_unlock(hdr, s);
  cw__spin_unlock(&ix->lock);
  return 0;
}

static void kv_wipe_slot(const kv_t *t, int slot) {
  cw__scope_slot_hdr_t *hdr = kv_hdr(t, slot);
  uint32_t s = cw__slot_begin(hdr);
  hdr->used = 0;
  kv_key(t, slot)[0] = '\0';
  kv_value(t, slot)[0] = '\0';
  cw__slot_unlock(hdr, s);
}

static int kv_remove(const kv_t *t, const char *key) {
  char kbuf[CW__SCOPE_KEY_MAX];
  const char *k;
  size_t klen;
  int rc = norm_key(key, kbuf, &k, &klen);
  if (rc != 0)
    return rc;
  uint32_t h = hash_key(k, klen);
  cw__scope_index_t *ix = t->ix;
  cw__spin_lock(&ix->lock);
  int b = kv_find(t, h, k, klen);
  if (b >= 0) {
    int slot = ix->slot[b];
    kv_wipe_slot(t, slot);
    index_delete(ix, (unsigned)b);
    ix->inuse[slot] = 0;
    ix->count--;
  }
  cw__spin_unlock(&ix->lock);
  return 0;
}

static void kv_clear(const kv_t *t) {
  cw__scope_index_t *ix = t->ix;
  cw__spin_lock(&ix->lock);
  for (int i = 0; i < ix->nslots; i++)
    if (ix->inuse[i]) {
      kv_wipe_slot(t, i);
      ix->inuse[i] = 0;
    }
  for (int b = 0; b < CW__SCOPE_BUCKETS; b++)
    ix->slot[b] = -1;
  ix->count = 0;
  cw__spin_unlock(&ix->lock);
}

/* Rebuilds a table's index from the slots (after fork), or with base NULL
 * empties it without reading the slots (at cw_init, on a new or cleared
 * mapping). Under no lock: the caller is alone. */
void cw__scope_index_rebuild(cw__scope_index_t *ix, char *base, size_t stride,
                             int nslots) {
  kv_t t = {ix, base, stride, 0};
  ix->lock = 0;
  ix->nslots = (uint16_t)nslots;
  ix->count = 0;
  for (int b = 0; b < CW__SCOPE_BUCKETS; b++)
    ix->slot[b] = -1;
  for (int i = 0; i < nslots; i++) {
    ix->inuse[i] = 0;
    if (base == NULL)
      continue; /* an empty table: its slots are not read */
    cw__scope_slot_hdr_t *h = kv_hdr(&t, i);
    const char *k = kv_key(&t, i);
    size_t klen = strnlen(k, CW__SCOPE_KEY_MAX);
    if (!h->used || (h->seq & 1) || klen == 0 || klen >= CW__SCOPE_KEY_MAX ||
        kv_find(&t, hash_key(k, klen), k, klen) >= 0)
      continue;
    uint32_t hv = hash_key(k, klen);
    unsigned nb = hv & BMASK;
    while (ix->slot[nb] >= 0)
      nb = (nb + 1) & BMASK;
    ix->hash[nb] = hv;
    ix->slot[nb] = (int16_t)i;
    ix->inuse[i] = 1;
    ix->count++;
  }
}

/* ---- the API: tags, extra, contexts ---------------------------------- */

CW_EXTERN int cw_set_tag(const char *key, const char *value) {
  cw__scope_map_t *m = cw__scope_live();
  if (m == NULL)
    return CW_ENOTINIT;
  if (value == NULL)
    return CW_EINVAL;
  kv_t t = kv_tags(m);
  return kv_set(&t, key, value, strlen(value), 1);
}

CW_EXTERN int cw_remove_tag(const char *key) {
  cw__scope_map_t *m = cw__scope_live();
  if (m == NULL)
    return CW_ENOTINIT;
  kv_t t = kv_tags(m);
  return kv_remove(&t, key);
}

/* Checks a JSON argument: CW_EINVAL (NULL), CW_ETOOBIG (does not fit in
 * cap - 1 bytes), CW_EFORMAT (not one JSON value / object in UTF-8). */
static int json_arg(const char *json, size_t cap, int object, size_t *len) {
  if (json == NULL)
    return CW_EINVAL;
  size_t n = strnlen(json, cap);
  if (n >= cap)
    return CW_ETOOBIG;
  if (!cw__scope_json_ok(json, n, object))
    return CW_EFORMAT;
  *len = n;
  return 0;
}

CW_EXTERN int cw_set_extra(const char *key, const char *json) {
  cw__scope_map_t *m = cw__scope_live();
  if (m == NULL)
    return CW_ENOTINIT;
  size_t n;
  int rc = json_arg(json, CW__SCOPE_JSON_MAX, 0, &n);
  if (rc != 0)
    return rc;
  kv_t t = kv_extra(m);
  return kv_set(&t, key, json, n, 0);
}

CW_EXTERN int cw_remove_extra(const char *key) {
  cw__scope_map_t *m = cw__scope_live();
  if (m == NULL)
    return CW_ENOTINIT;
  kv_t t = kv_extra(m);
  return kv_remove(&t, key);
}

CW_EXTERN int cw_set_context(const char *name, const char *json_object) {
  cw__scope_map_t *m = cw__scope_live();
  if (m == NULL)
    return CW_ENOTINIT;
  size_t n;
  int rc = json_arg(json_object, CW__SCOPE_JSON_MAX, 1, &n);
  if (rc != 0)
    return rc;
  kv_t t = kv_contexts(m);
  return kv_set(&t, name, json_object, n, 0);
}

CW_EXTERN int cw_remove_context(const char *name) {
  cw__scope_map_t *m = cw__scope_live();
  if (m == NULL)
    return CW_ENOTINIT;
  kv_t t = kv_contexts(m);
  return kv_remove(&t, name);
}

/* ---- single values ---------------------------------------------------- */

static void put_str(char *field, size_t cap, const char *s) {
  if (s == NULL)
    field[0] = '\0';
  else
    cw__utf8_copy_trunc(field, cap, s, strlen(s));
}

CW_EXTERN int cw_set_user(const char *id, const char *email,
                          const char *username, const char *ip_address) {
  cw__scope_map_t *m = cw__scope_live();
  if (m == NULL)
    return CW_ENOTINIT;
  cw__scope_user_slot_t *u = &m->user;
  uint32_t s = cw__slot_lock(&u->h);
  put_str(u->id, sizeof(u->id), id);
  put_str(u->email, sizeof(u->email), email);
  put_str(u->username, sizeof(u->username), username);
  put_str(u->ip_address, sizeof(u->ip_address), ip_address);
  u->h.used = id || email || username || ip_address;
  cw__slot_unlock(&u->h, s);
  return 0;
}

CW_EXTERN int cw_set_fingerprint(const char *const *parts, size_t n) {
  cw__scope_map_t *m = cw__scope_live();
  if (m == NULL)
    return CW_ENOTINIT;
  if (n > 0 && parts == NULL)
    return CW_EINVAL;
  if (n > CW__SCOPE_NFINGERPRINT)
    return CW_ETOOBIG;
  for (size_t i = 0; i < n; i++)
    if (parts[i] == NULL)
      return CW_EINVAL;
  cw__scope_fingerprint_slot_t *f = &m->fingerprint;
  uint32_t s = cw__slot_lock(&f->h);
  for (size_t i = 0; i < n; i++)
    put_str(f->parts[i], sizeof(f->parts[i]), parts[i]);
  f->n = (uint32_t)n;
  f->h.used = n > 0;
  cw__slot_unlock(&f->h, s);
  return 0;
}

CW_EXTERN int cw_set_level(cw_level_t level) {
  cw__scope_map_t *m = cw__scope_live();
  if (m == NULL)
    return CW_ENOTINIT;
  if ((int)level < CW_LEVEL_DEBUG || (int)level > CW_LEVEL_FATAL)
    return CW_EINVAL;
  uint32_t s = cw__slot_lock(&m->level.h);
  m->level.level = (int32_t)level;
  m->level.h.used = 1;
  cw__slot_unlock(&m->level.h, s);
  return 0;
}

CW_EXTERN int cw_set_transaction(const char *name) {
  cw__scope_map_t *m = cw__scope_live();
  if (m == NULL)
    return CW_ENOTINIT;
  cw__scope_str_slot_t *t = &m->transaction;
  uint32_t s = cw__slot_lock(&t->h);
  put_str(t->value, sizeof(t->value), name);
  t->h.used = name != NULL;
  cw__slot_unlock(&t->h, s);
  return 0;
}

/* ---- trace ------------------------------------------------------------ */

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* n hex digits, not all zero, into out (lowercase, NUL-terminated).
 * lower_only: uppercase refused (W3C traceparent). */
static int hex_id(const char *s, size_t n, int lower_only, char *out) {
  int nonzero = 0;
  for (size_t i = 0; i < n; i++) {
    int v = hexval(s[i]);
    if (v < 0 || (lower_only && s[i] >= 'A' && s[i] <= 'F'))
      return CW_EINVAL;
    nonzero |= v;
    out[i] = "0123456789abcdef"[v];
  }
  out[n] = '\0';
  return nonzero ? 0 : CW_EINVAL;
}

static int store_trace(cw__scope_map_t *m, const char *trace,
                       const char *span) {
  cw__scope_trace_slot_t *t = &m->trace;
  uint32_t s = cw__slot_lock(&t->h);
  if (trace != NULL) {
    memcpy(t->trace_id, trace, 33);
    memcpy(t->span_id, span, 17);
  }
  t->h.used = trace != NULL;
  cw__slot_unlock(&t->h, s);
  return 0;
}

CW_EXTERN int cw_set_trace(const char *trace_id_hex32,
                           const char *span_id_hex16) {
  cw__scope_map_t *m = cw__scope_live();
  if (m == NULL)
    return CW_ENOTINIT;
  if (trace_id_hex32 == NULL && span_id_hex16 == NULL)
    return store_trace(m, NULL, NULL);
  char trace[33], span[17];
  if (trace_id_hex32 == NULL || span_id_hex16 == NULL ||
      strnlen(trace_id_hex32, 33) != 32 || strnlen(span_id_hex16, 17) != 16 ||
      hex_id(trace_id_hex32, 32, 0, trace) != 0 ||
      hex_id(span_id_hex16, 16, 0, span) != 0)
    return CW_EINVAL;
  return store_trace(m, trace, span);
}

int cw__scope_parse_traceparent(const char *h, char trace[33], char span[17]) {
  /* version "-" trace-id "-" parent-id "-" trace-flags, version 00 only
   * (W3C Trace Context level 1: 55 characters, lowercase hex). */
  if (h == NULL || strlen(h) != 55 || h[0] != '0' || h[1] != '0' ||
      h[2] != '-' || h[35] != '-' || h[52] != '-')
    return CW_EINVAL;
  char flags[3];
  if (hex_id(h + 3, 32, 1, trace) != 0 || hex_id(h + 36, 16, 1, span) != 0)
    return CW_EINVAL;
  if (hexval(h[53]) < 0 || hexval(h[54]) < 0 ||
      (h[53] >= 'A' && h[53] <= 'F') || (h[54] >= 'A' && h[54] <= 'F'))
    return CW_EINVAL;
  (void)flags;
  return 0;
}

CW_EXTERN int cw_set_traceparent(const char *w3c_header) {
  cw__scope_map_t *m = cw__scope_live();
  if (m == NULL)
    return CW_ENOTINIT;
  char trace[33], span[17];
  if (cw__scope_parse_traceparent(w3c_header, trace, span) != 0)
    return CW_EINVAL;
  return store_trace(m, trace, span);
}

/* ---- attachments ------------------------------------------------------ */

/* Adds an absolute path (len bytes) to the mapping's list; a path already
 * there is not added twice. */
int cw__scope_attach(cw__scope_map_t *m, const char *path, size_t len) {
  if (len >= CW__SCOPE_PATH_MAX)
    return CW_ETOOBIG;
  int rc = CW_ENOSPC;
  cw__spin_lock(&cw__scope.single_lock);
  int free_slot = -1;
  for (int i = 0; i < CW__SCOPE_NATTACH; i++) {
    cw__scope_attach_slot_t *a = &m->attachments[i];
    if (!a->h.used) {
      if (free_slot < 0)
        free_slot = i;
    } else if (memcmp(a->path, path, len) == 0 && a->path[len] == '\0') {
      free_slot = -1;
      rc = 0;
      break;
    }
  }
  if (free_slot >= 0) {
    cw__scope_attach_slot_t *a = &m->attachments[free_slot];
    uint32_t s = cw__slot_begin(&a->h);
    memcpy(a->path, path, len);
    a->path[len] = '\0';
    a->h.used = 1;
    cw__slot_unlock(&a->h, s);
    rc = 0;
  }
  cw__spin_unlock(&cw__scope.single_lock);
  return rc;
}

/* path made absolute against the working directory into buf. */
int cw__scope_abs_path(const char *path, char *buf, size_t cap, size_t *len) {
  if (path == NULL || path[0] == '\0')
    return CW_EINVAL;
  size_t n = strlen(path);
  if (path[0] == '/') {
    if (n >= cap)
      return CW_ETOOBIG;
    memcpy(buf, path, n + 1);
    *len = n;
    return 0;
  }
  if (getcwd(buf, cap) == NULL)
    return errno == ERANGE ? CW_ETOOBIG : CW_EINVAL;
  size_t d = strlen(buf);
  if (d + 1 + n >= cap)
    return CW_ETOOBIG;
  if (d > 1 || buf[0] != '/')
    buf[d++] = '/';
  memcpy(buf + d, path, n + 1);
  *len = d + n;
  return 0;
}

CW_EXTERN int cw_add_attachment(const char *path) {
  cw__scope_map_t *m = cw__scope_live();
  if (m == NULL)
    return CW_ENOTINIT;
  char abs[CW__SCOPE_PATH_MAX];
  size_t len;
  int rc = cw__scope_abs_path(path, abs, sizeof(abs), &len);
  if (rc != 0)
    return rc;
  return cw__scope_attach(m, abs, len);
}

/* ---- clearing --------------------------------------------------------- */

static void clear_slot(cw__scope_slot_hdr_t *h) {
  uint32_t s = cw__slot_lock(h);
  h->used = 0;
  cw__slot_unlock(h, s);
}

CW_EXTERN void cw_clear_scope(void) {
  cw__scope_map_t *m = cw__scope_live();
  if (m == NULL)
    return;
  kv_t t = kv_tags(m), e = kv_extra(m), c = kv_contexts(m);
  kv_clear(&t);
  kv_clear(&e);
  kv_clear(&c);
  clear_slot(&m->user.h);
  clear_slot(&m->fingerprint.h);
  clear_slot(&m->level.h);
  clear_slot(&m->transaction.h);
  clear_slot(&m->trace.h);
  cw__scope_crumb_slot_t *ring = CW__SCOPE_CRUMBS(m);
  for (uint32_t i = 0; i < cw__scope.ncrumbs; i++)
    clear_slot(&ring[i].h);
}
