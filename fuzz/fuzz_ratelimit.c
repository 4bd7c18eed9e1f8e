/* fuzz_ratelimit.c — X-Sentry-Rate-Limits and Retry-After parsing
 * (uploader/ratelimit.c) on arbitrary bytes. Limits only ever move forward
 * and stay within RL_MAX_SECONDS of now; a header is only ever cut at a
 * quota-limit boundary within RL_MAX_HEADER bytes; a header without an
 * entry whose categories field is empty never limits everything. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const int64_t now = 1700000000000LL;
  ratelimits_t rl;
  memset(&rl, 0, sizeof(rl));
  char err[128];
  size_t cut = cw__ratelimit_header_cut((const char *)data, size);
  if (cut > size || cut > RL_MAX_HEADER || (cut != size && data[cut] != ','))
    abort();
  cw__ratelimit_parse_sentry(&rl, (const char *)data, size, now, err,
                             sizeof(err));
  /* RL_ALL needs "<number>:" followed by ':' ',' or the end, i.e. an empty
   * categories field, somewhere in the part read. */
  if (rl.until_ms[RL_ALL] != 0) {
    int empty_field = 0;
    for (size_t i = 0; i + 1 < cut && !empty_field; i++) {
      if (data[i] != ':')
        continue;
      size_t j = i + 1;
      while (j < cut && (data[j] == ' ' || data[j] == '\t'))
        j++;
      empty_field = j == cut || data[j] == ':' || data[j] == ',';
    }
    if (!empty_field && !(cut > 0 && data[cut - 1] == ':'))
      abort();
  }
  for (int i = 0; i < RL_COUNT; i++)
    if (rl.until_ms[i] != 0 &&
        (rl.until_ms[i] < now ||
         rl.until_ms[i] > now + (int64_t)RL_MAX_SECONDS * 1000))
      abort();
  char *s = malloc(size + 1);
  if (s == NULL)
    return 0;
  memcpy(s, data, size);
  s[size] = '\0';
  int64_t d = cw__ratelimit_parse_retry_after(s, now);
  if (d < 0 || d > (int64_t)RL_MAX_SECONDS * 1000)
    abort();
  ratelimits_t before = rl;
  cw__ratelimit_update(&rl, 429, s, s, now);
  for (int i = 0; i < RL_COUNT; i++)
    if (rl.until_ms[i] < before.until_ms[i])
      abort();
  free(s);
  return 0;
}
