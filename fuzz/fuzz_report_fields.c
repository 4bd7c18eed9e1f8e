/* fuzz_report_fields.c — the reader of event.json's release and tags for
 * multipart form fields (uploader/report_fields.c) on arbitrary bytes: a
 * spooled event.json may be damaged or hand-made. Whatever the input: at
 * most CW_REPORT_MAX_FIELDS fields, each name and value a NUL-terminated
 * string of 1..255 bytes, no reserved or repeated name. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *copy = malloc(size + 1);
  if (copy == NULL)
    return 0;
  memcpy(copy, data, size);
  copy[size] = '\0';
  report_t r = {.event_json = copy, .event_len = size};
  upload_field_t given[] = {{"prod", "p"}};
  report_fields_t f;
  cw__report_fields(&r, given, 1, &f);
  if (f.n > CW_REPORT_MAX_FIELDS)
    abort();
  for (size_t i = 0; i < f.n; i++) {
    size_t nl = strlen(f.v[i].name), vl = strlen(f.v[i].value);
    if (nl == 0 || nl > 255 || vl == 0 || vl > 255)
      abort();
    if (i > 0 && (strncmp(f.v[i].name, "sentry", 6) == 0 ||
                  strncmp(f.v[i].name, "upload_file_", 12) == 0))
      abort();
    for (size_t k = 0; k < i; k++)
      if (strcmp(f.v[i].name, f.v[k].name) == 0)
        abort();
  }
  cw__report_fields_free(&f);
  free(copy);
  return 0;
}
