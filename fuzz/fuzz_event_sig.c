/* fuzz_event_sig.c — `crashwatch run`'s reader of a report's event.json
 * (supervisor/event_sig.c: the crash signature and summary) on arbitrary
 * bytes. It must never crash or read out of bounds; what it returns must
 * be bounded, NUL-terminated, and free of control bytes (the summary goes
 * into a hook's environment and a log line), and the key must be stable. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cw__sup_event_sig_t sig;
  int rc = cw__sup_event_sig((const char *)data, size, &sig);
  if (rc != 0) {
    if (sig.nframes != 0 || sig.signo != 0 || sig.top[0] != '\0')
      abort();
    return 0;
  }
  if (sig.nframes > CW__SUP_SIG_FRAMES || sig.signo < 0 || sig.signo > 64)
    abort();
  for (size_t i = 0; i < sig.nframes; i++) {
    size_t l = strnlen(sig.frames[i], sizeof(sig.frames[i]));
    if (l == 0 || l == sizeof(sig.frames[i]))
      abort();
    for (size_t k = 0; k < l; k++)
      if ((unsigned char)sig.frames[i][k] < 0x20)
        abort();
  }
  if (strnlen(sig.top, sizeof(sig.top)) == sizeof(sig.top))
    abort();
  char k1[512], k2[512];
  cw__sup_event_sig_key(&sig, k1, sizeof(k1));
  cw__sup_event_sig_key(&sig, k2, sizeof(k2));
  if (strcmp(k1, k2) != 0)
    abort();
  return 0;
}
