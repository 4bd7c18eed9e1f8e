/* fuzz_scrub_json.c — the scrubbing JSON re-emitter (common/scrub.c) on
 * arbitrary bytes: extra, contexts and breadcrumb data are written by the
 * application. Whatever the input, the output is one valid JSON value; a
 * text the project's JSON check accepts is accepted too; and scrubbing the
 * output again changes nothing (every filtered value stays filtered). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "json_check.h"
#include "scrub.h"

static int scrub(const cw__scrub_t *s, const char *in, size_t n,
                 cw__buf_t *out) {
  cw__json_t j;
  cw__json_init(&j, out, 0);
  return cw__scrub_json(s, &j, in, n, 0, NULL, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static cw__scrub_t s;
  static int ready;
  if (!ready) {
    cw__scrub_init(&s, 1, "tenant");
    ready = 1;
  }
  cw__buf_t a = CW_BUF_INIT, b = CW_BUF_INIT;
  size_t off;
  const char *what;
  int rc = scrub(&s, (const char *)data, size, &a);
  if (a.oom || cw__json_check((const char *)a.data, a.len, CW__JSON_CHECK_ANY,
                              0, &off, &what) != 0)
    abort();
  if (rc != 0 && cw__json_check((const char *)data, size, CW__JSON_CHECK_ANY, 0,
                                &off, &what) == 0)
    abort();
  if (scrub(&s, (const char *)a.data, a.len, &b) != 0 || a.len != b.len ||
      memcmp(a.data, b.data, a.len) != 0)
    abort();
  cw__buf_free(&a);
  cw__buf_free(&b);
  return 0;
}
