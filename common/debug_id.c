#include "debug_id.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "crashwatch.h"

void cw__hex_encode(const uint8_t *id, size_t n, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[id[i] >> 4];
    out[2 * i + 1] = digits[id[i] & 15];
  }
  out[2 * n] = '\0';
}

static int hexval(int c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  c = tolower(c);
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

int cw__hex_decode(const char *hex, uint8_t *out, size_t cap) {
  size_t len = strlen(hex);
  if (len % 2 != 0)
    return CW_EFORMAT;
  if (len / 2 > cap)
    return CW_ERANGE;
  for (size_t i = 0; i < len / 2; i++) {
    int hi = hexval((unsigned char)hex[2 * i]);
    int lo = hexval((unsigned char)hex[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return CW_EFORMAT;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return (int)(len / 2);
}

/* The GUID bytes in display order: fields 1-3 byte-swapped. */
static void guid_bytes(const uint8_t *id, size_t n, uint8_t g[16]) {
  uint8_t raw[16] = {0};
  memcpy(raw, id, n < 16 ? n : 16);
  static const int order[16] = {3, 2, 1,  0,  5,  4,  7,  6,
                                8, 9, 10, 11, 12, 13, 14, 15};
  for (int i = 0; i < 16; i++)
    g[i] = raw[order[i]];
}

void cw__debug_id_from_build_id(const uint8_t *id, size_t n, char out[37]) {
  uint8_t g[16];
  guid_bytes(id, n, g);
  char hex[33];
  cw__hex_encode(g, 16, hex);
  snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12,
           hex + 16, hex + 20);
}

void cw__breakpad_id_from_build_id(const uint8_t *id, size_t n, char out[34]) {
  uint8_t g[16];
  guid_bytes(id, n, g);
  cw__hex_encode(g, 16, out);
  for (int i = 0; i < 32; i++)
    out[i] = (char)toupper((unsigned char)out[i]);
  out[32] = '0';
  out[33] = '\0';
}
