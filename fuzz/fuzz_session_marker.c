/* fuzz_session_marker.c — a session marker read back from the spool at the
 * next start (handler/session_marker.c) on arbitrary bytes: the parser
 * never reads past the input, and the abnormal update it writes is always
 * one the uploader's parser (uploader/session.c) accepts when the marker
 * carried a release, with the marker's name as its sid and status
 * abnormal. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cw_session.h"
#include "session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char *const sid = "0f8e3c4a-1b2c-4d5e-8f90-a1b2c3d4e5f6";
  char *copy = malloc(size ? size : 1); /* no NUL: the parser takes n */
  if (copy == NULL)
    return 0;
  memcpy(copy, data, size);
  cw__session_marker_t m;
  char out[CW__SESSION_KV_CAP];
  size_t len;
  if (cw__session_marker_abnormal(copy, size, sid, 1700000000000LL, &m, out,
                                  sizeof(out), &len) != 0)
    abort(); /* the sid is valid */
  if (len >= sizeof(out) || strlen(out) != len)
    abort();
  for (size_t i = 0; i < len; i++)
    if ((unsigned char)out[i] < 0x20 && out[i] != '\n')
      abort();
  cw__session_t s;
  char err[128];
  if (cw__session_parse(out, len, &s, err, sizeof(err)) == 0) {
    if (strcmp(s.sid, sid) != 0 || strcmp(s.status, "abnormal") != 0 ||
        s.duration != 0 || s.timestamp_ms < s.started_ms)
      abort();
  } else if (strstr(out, "release=") != NULL &&
             strstr(err, "release") == NULL && strstr(err, "UTF-8") == NULL &&
             strstr(err, "text") == NULL) {
    /* With a release, only a release the uploader refuses (too long, not
     * UTF-8) may make the update unusable. */
    abort();
  }
  cw__session_marker_abnormal(copy, size, "not-a-sid", 0, &m, out, sizeof(out),
                              &len);
  free(copy);
  return 0;
}
