/* fuzz_json_read.c — the JSON reader (common/json_read.c) that `crashwatch
 * list` and `show` read a spooled event.json and the delivery journal
 * with. Any input gives a tree or a refusal naming an offset inside the
 * input (or its end); every string of a tree is a C string of its stated
 * length; the accessors never read outside the tree. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crashwatch.h"
#include "json_read.h"

static void walk(const cw__jv_t *v, int depth) {
  if (depth > CW__JV_MAX_DEPTH + 1)
    abort();
  if (v->kind == CW__JV_STRING && strlen(v->string) != v->len)
    abort();
  for (size_t i = 0; i < cw__jv_count(v); i++) {
    const cw__jv_t *c =
        v->kind == CW__JV_ARRAY ? cw__jv_at(v, i) : &v->items[i];
    if (c == NULL)
      abort();
    if (v->kind == CW__JV_OBJECT && cw__jv_get(v, v->keys[i]) == NULL)
      abort();
    walk(c, depth + 1);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cw__jv_t *v = NULL;
  char err[128] = "";
  int rc = cw__jv_parse((const char *)data, size, &v, err, sizeof(err));
  if (rc == 0) {
    walk(v, 0);
    (void)cw__jv_path(v, "exception.values");
    (void)cw__jv_str(cw__jv_path(v, "contexts.os.name"));
    cw__jv_free(v);
    return 0;
  }
  if (v != NULL || (rc != CW_EFORMAT && rc != CW_ENOMEM))
    abort();
  const char *at = strstr(err, "at offset ");
  if (at == NULL || strtoull(at + 10, NULL, 10) > size)
    abort();
  return 0;
}
