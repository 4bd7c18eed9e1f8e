/* fuzz_ratelimit.c — X-Sentry-Rate-Limits and Retry-After parsing
 * (uploader/ratelimit.c) on arbitrary bytes. Limits only ever move forward
 * and stay within RL_MAX_SECONDS of now. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const int64_t now = 1700000000000LL;
  ratelimits_t rl;
  memset(&rl, 0, sizeof(rl));
  char err[128];
  ratelimit_parse_sentry(&rl, (const char *)data, size, now, err, sizeof(err));
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
  int64_t d = ratelimit_parse_retry_after(s, now);
  if (d < 0 || d > (int64_t)RL_MAX_SECONDS * 1000)
    abort();
  ratelimits_t before = rl;
  ratelimit_update(&rl, 429, s, s, now);
  for (int i = 0; i < RL_COUNT; i++)
    if (rl.until_ms[i] < before.until_ms[i])
      abort();
  free(s);
  return 0;
}
