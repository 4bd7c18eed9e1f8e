/* fuzz_report_json.c — the JSON syntax check that decides whether a
 * spooled event.json is sendable (uploader/report.c). Any input gives a
 * verdict; a refusal names an offset inside the input. */
#include <stdint.h>
#include <stdlib.h>

#include "report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  size_t off = 0;
  const char *what = NULL;
  if (cw__report_json_check((const char *)data, size, &off, &what) != 0 &&
      (what == NULL || off > size))
    abort();
  return 0;
}
