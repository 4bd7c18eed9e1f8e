/* fuzz_json_check.c — the JSON syntax check (common/json_check.c) that
 * decides whether a spooled event.json is sendable and whether a scope
 * setter's JSON argument is accepted. Each input is checked under every
 * flag and several depth limits; any input gives a verdict, a refusal names
 * an offset inside the input (or its end) and a reason, and the verdicts
 * agree with each other: an object or UTF-8-clean verdict implies a plain
 * one, and a value valid at one depth limit is valid at every larger one. */
#include <stdint.h>
#include <stdlib.h>

#include "json_check.h"

static int check(const uint8_t *data, size_t size, unsigned flags,
                 unsigned depth) {
  size_t off = (size_t)-1;
  const char *what = NULL;
  int rc = cw__json_check((const char *)data, size, flags, depth, &off, &what);
  if (rc != 0 && (what == NULL || off > size))
    abort();
  /* NULL out-parameters are allowed and give the same verdict. */
  if (cw__json_check((const char *)data, size, flags, depth, NULL, NULL) != rc)
    abort();
  return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int any = check(data, size, CW__JSON_CHECK_ANY, 0);
  int obj = check(data, size, CW__JSON_CHECK_OBJECT, 0);
  int utf8 = check(data, size, CW__JSON_CHECK_UTF8, 0);
  int both = check(data, size, CW__JSON_CHECK_OBJECT | CW__JSON_CHECK_UTF8, 0);
  if ((obj == 0 && any != 0) || (utf8 == 0 && any != 0) ||
      (both == 0 && (obj != 0 || utf8 != 0)))
    abort();
  if (obj == 0) {
    size_t i = 0;
    while (i < size && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' ||
                        data[i] == '\r'))
      i++;
    if (i >= size || data[i] != '{')
      abort();
  }
  static const unsigned depths[] = {
      1, 2, 8, 128, CW__JSON_CHECK_MAX_DEPTH, CW__JSON_CHECK_MAX_DEPTH + 1};
  int prev = -1;
  for (size_t k = 0; k < sizeof(depths) / sizeof(depths[0]); k++) {
    int rc = check(data, size, CW__JSON_CHECK_ANY, depths[k]);
    if (prev == 0 && rc != 0)
      abort();
    if (depths[k] == 128 && rc != any) /* 0 means the default, 128 */
      abort();
    prev = rc;
  }
  return 0;
}
