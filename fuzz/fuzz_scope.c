/* fuzz_scope.c — the watchdog's reader of the scope mapping
 * (cw__scope_snapshot, common/scope.c) on arbitrary bytes: a crashed
 * program can leave anything in its mapping.
 *
 * Each input is tried twice:
 *   - as the mapping itself (mostly refused by the header checks);
 *   - as patches over a mapping with a valid header, so the fuzzer reaches
 *     the slots: byte 0 is the ring size (0..31), then records of
 *     offset (u32 LE, taken modulo the mapping's size), length (u16 LE)
 *     and that many bytes, copied in (cut at the end of the mapping).
 * The corpus holds real mappings written by the library (their non-zero
 * runs as patches) and damaged ones.
 * Whatever the bytes, a snapshot must hold only valid UTF-8 strings, JSON
 * values the checker accepts, well-formed trace ids and levels in range. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_check.h"
#include "scope.h"
#include "scope_layout.h"
#include "utf8.h"

static void check_str(const char *s) {
  if (s != NULL && !cw__utf8_valid(s, strlen(s)))
    abort();
}

static void check_json(const char *s, int object) {
  unsigned flags = CW__JSON_CHECK_UTF8 | (object ? CW__JSON_CHECK_OBJECT : 0);
  if (s == NULL || cw__json_check(s, strlen(s), flags, 0, NULL, NULL) != 0)
    abort();
}

static void check_hex(const char *s, size_t n) {
  if (s == NULL)
    return;
  if (strlen(s) != n)
    abort();
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      abort();
}

static void check(const void *map, size_t len) {
  cw__scope_snapshot_t s;
  if (cw__scope_snapshot(map, len, &s) != 0) {
    if (s.ntags || s.nextra || s.ncontexts || s.ncrumbs || s.level != -1)
      abort(); /* a refused mapping leaves an empty snapshot */
    return;
  }
  for (size_t i = 0; i < s.ntags; i++) {
    check_str(s.tags[i].key);
    check_str(s.tags[i].value);
    if (s.tags[i].key[0] == '\0' || strlen(s.tags[i].value) >= 3 * 256)
      abort();
  }
  for (size_t i = 0; i < s.nextra; i++) {
    check_str(s.extra[i].key);
    check_json(s.extra[i].value, 0);
  }
  for (size_t i = 0; i < s.ncontexts; i++) {
    check_str(s.contexts[i].key);
    check_json(s.contexts[i].value, 1);
  }
  check_str(s.user_id);
  check_str(s.user_email);
  check_str(s.user_username);
  check_str(s.user_ip_address);
  for (size_t i = 0; i < s.nfingerprint; i++)
    check_str(s.fingerprint[i]);
  if (s.level < -1 || s.level > 4)
    abort();
  check_str(s.transaction);
  check_hex(s.trace_id, 32);
  check_hex(s.span_id, 16);
  if ((s.trace_id == NULL) != (s.span_id == NULL))
    abort();
  for (size_t i = 0; i < s.ncrumbs; i++) {
    const cw__scope_crumb_t *c = &s.crumbs[i];
    if (c->level < 0 || c->level > 4)
      abort();
    check_str(c->type);
    check_str(c->category);
    check_str(c->message);
    if (c->data_json != NULL)
      check_json(c->data_json, 1);
  }
  for (size_t i = 0; i < s.nattachments; i++) {
    check_str(s.attachments[i]);
    if (s.attachments[i][0] != '/')
      abort();
  }
  check_str(s.dist);
  check_str(s.server_name);
  if (s.attachment_max_bytes < 1 || s.attachment_max_bytes > (1u << 30))
    abort();
  cw__scope_snapshot_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* As the mapping itself (copied: the reader must not need alignment). */
  uint8_t *raw = malloc(size ? size : 1);
  if (raw == NULL)
    return 0;
  memcpy(raw, data, size);
  check(raw, size);
  free(raw);
  if (size < 1)
    return 0;

  uint32_t n = data[0] % 32;
  size_t len = (size_t)CW__SCOPE_MAP_SIZE(n);
  cw__scope_map_t *m = aligned_alloc(64, (len + 63) / 64 * 64);
  if (m == NULL)
    return 0;
  memset(m, 0, len);
  m->magic = CW__SCOPE_MAGIC;
  m->version = CW__SCOPE_VERSION;
  m->size = len;
  m->fixed_size = sizeof(cw__scope_map_t);
  m->crumb_size = sizeof(cw__scope_crumb_slot_t);
  m->ncrumbs = n;
  size_t i = 1;
  while (i + 6 <= size) {
    uint32_t off = (uint32_t)data[i] | (uint32_t)data[i + 1] << 8 |
                   (uint32_t)data[i + 2] << 16 | (uint32_t)data[i + 3] << 24;
    size_t plen = (size_t)data[i + 4] | (size_t)data[i + 5] << 8;
    i += 6;
    if (plen > size - i)
      plen = size - i;
    off %= (uint32_t)len;
    size_t fit = plen < len - off ? plen : len - off;
    memcpy((uint8_t *)m + off, data + i, fit);
    i += plen;
  }
  check(m, len);
  /* The same bytes, claimed shorter than the header says: refused. */
  check(m, len - 1);
  free(m);
  return 0;
}
