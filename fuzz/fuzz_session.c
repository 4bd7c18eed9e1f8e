/* fuzz_session.c — the spool's session file (uploader/session.c) on
 * arbitrary bytes: the parser never reads past the input, and what it
 * accepts always becomes Sentry JSON that the JSON checker accepts, with a
 * lowercase UUID sid and a non-empty release. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_check.h"
#include "session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *copy = malloc(size ? size : 1); /* no NUL: the parser takes n */
  if (copy == NULL)
    return 0;
  memcpy(copy, data, size);
  cw__session_t s;
  char err[128];
  if (cw__session_parse(copy, size, &s, err, sizeof(err)) == 0) {
    if (strlen(s.sid) != 36 || s.release[0] == '\0')
      abort();
    cw__buf_t b = CW_BUF_INIT;
    if (cw__session_json(&s, &b) != 0)
      abort();
    size_t off;
    const char *what;
    if (cw__json_check((const char *)b.data, b.len, CW__JSON_CHECK_OBJECT, 0,
                       &off, &what) != 0)
      abort();
    cw__buf_free(&b);
  } else if (err[0] == '\0') {
    abort(); /* a refusal always says why */
  }
  free(copy);
  return 0;
}
