/*
 * utf8.c — see utf8.h. Async-signal-safe (memcpy only).
 */
#include "utf8.h"

#include <string.h>

/* Length of the valid UTF-8 sequence at s[0, n), or 0 if the bytes there
 * are not one. */
static size_t seq_len(const unsigned char *s, size_t n) {
  unsigned char c = s[0];
  if (c < 0x80)
    return 1;
  size_t len;
  unsigned lo = 0x80, hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf)
    len = 2;
  else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    if (c == 0xe0)
      lo = 0xa0; /* overlong */
    else if (c == 0xed)
      hi = 0x9f; /* surrogates */
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    if (c == 0xf0)
      lo = 0x90; /* overlong */
    else if (c == 0xf4)
      hi = 0x8f; /* above U+10FFFF */
  } else
    return 0;
  if (n < len)
    return 0;
  if (s[1] < lo || s[1] > hi)
    return 0;
  for (size_t i = 2; i < len; i++)
    if ((s[i] & 0xc0) != 0x80)
      return 0;
  return len;
}

size_t cw__utf8_boundary(const char *s, size_t n) {
  /* Back up over continuation bytes at the cut (at most three), so the
   * character they belong to is dropped whole. */
  size_t k = n, steps = 0;
  while (k > 0 && steps < 4 && ((unsigned char)s[k] & 0xc0) == 0x80) {
    k--;
    steps++;
  }
  return steps < 4 ? k : n;
}

size_t cw__utf8_copy_trunc(char *dst, size_t cap, const char *src, size_t len) {
  if (len < cap) {
    memcpy(dst, src, len);
    dst[len] = '\0';
    return len;
  }
  size_t keep = cw__utf8_boundary(src, cap - 1 - CW__UTF8_TRUNC_MARK_LEN);
  memcpy(dst, src, keep);
  memcpy(dst + keep, CW__UTF8_TRUNC_MARK, CW__UTF8_TRUNC_MARK_LEN);
  dst[keep + CW__UTF8_TRUNC_MARK_LEN] = '\0';
  return keep + CW__UTF8_TRUNC_MARK_LEN;
}

int cw__utf8_valid(const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  while (i < n) {
    if (p[i] < 0x80) {
      i++;
      continue;
    }
    size_t l = seq_len(p + i, n - i);
    if (l == 0)
      return 0;
    i += l;
  }
  return 1;
}

size_t cw__utf8_sanitize(char *dst, size_t cap, const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0, o = 0;
  if (cap == 0)
    return 0;
  while (i < n) {
    size_t l = seq_len(p + i, n - i);
    const char *src = l ? s + i : "\xef\xbf\xbd";
    size_t out = l ? l : 3;
    if (o + out + 1 > cap)
      break;
    memcpy(dst + o, src, out);
    o += out;
    i += l ? l : 1;
  }
  dst[o] = '\0';
  return o;
}

size_t cw__utf8_encode(unsigned cp, char out[4]) {
  if (cp < 0x80) {
    out[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (char)(0xc0 | (cp >> 6));
    out[1] = (char)(0x80 | (cp & 0x3f));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (char)(0xe0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[2] = (char)(0x80 | (cp & 0x3f));
    return 3;
  }
  out[0] = (char)(0xf0 | (cp >> 18));
  out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
  out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
  out[3] = (char)(0x80 | (cp & 0x3f));
  return 4;
}
