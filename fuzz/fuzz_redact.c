/* fuzz_redact.c — log-line redaction (uploader/redact.c) on arbitrary bytes:
 * server bodies and libcurl trace lines are outside input. No registered
 * secret survives in the output, which is always terminated and within its
 * buffer, whatever the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "redact.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char *const secrets[] = {"0123456789abcdef", "hunter2pass",
                                        "relayuser", "tok3n"};
  redact_t r;
  cw__redact_init(&r);
  cw__redact_add_dsn(&r, "https://0123456789abcdef@o1.example/42");
  cw__redact_add_url(&r, "http://relayuser:hunter2pass@h/x?token=tok3n");
  char out[512];
  size_t n = cw__redact_line(&r, (const char *)data, size, out, sizeof(out));
  if (n >= sizeof(out) || out[n] != '\0' || strlen(out) != n)
    abort();
  /* Every occurrence is replaced, and what is copied around the markers
   * (names like "sentry_key=", the marker itself) cannot form a secret. */
  for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
    if (strstr(out, secrets[i]) != NULL)
      abort();
  return 0;
}
