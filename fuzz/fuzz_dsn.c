/* fuzz_dsn.c — the DSN and upload-URL parsers (common/dsn.c) on arbitrary
 * bytes. Every accepted DSN must also format into the endpoint URL, the auth
 * header and back into a DSN that parses to the same result. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dsn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  if (s == NULL)
    return 0;
  memcpy(s, data, size);
  s[size] = '\0';
  cw__dsn_t d;
  char err[160];
  if (cw__dsn_parse(s, &d, err, sizeof(err)) == 0) {
    char url[2048], again[2048];
    if (cw__dsn_envelope_url(&d, url, sizeof(url)) != 0 ||
        cw__dsn_auth_header(&d, "crashwatch/fuzz", url, sizeof(url)) != 0 ||
        cw__dsn_format(&d, again, sizeof(again)) != 0)
      abort();
    cw__dsn_t d2;
    if (cw__dsn_parse(again, &d2, err, sizeof(err)) != 0 ||
        strcmp(d.host, d2.host) != 0 || strcmp(d.path, d2.path) != 0 ||
        strcmp(d.project_id, d2.project_id) != 0 ||
        strcmp(d.public_key, d2.public_key) != 0 || d.port != d2.port)
      abort();
  } else if (err[0] == '\0') {
    abort(); /* every refusal says why */
  }
  cw__url_t u;
  if (cw__url_parse(s, &u, err, sizeof(err)) != 0 && err[0] == '\0')
    abort();
  /* A tiny error buffer must not overflow. */
  char tiny[3];
  cw__dsn_parse(s, &d, tiny, sizeof(tiny));
  free(s);
  return 0;
}
