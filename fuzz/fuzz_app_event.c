/* fuzz_app_event.c — an application's event (cw_capture_event) as the
 * watchdog takes it: the top-level member walk (common/json_members.c)
 * and the merge with a scope into the report's event
 * (watchdog/event_message.c), on arbitrary bytes. The library checks the
 * JSON before sending, but a compromised or buggy program can send
 * anything on its socket.
 *
 * Whatever the bytes: the walk stays inside the input and ends; on an
 * input the checker accepts as an object it ends without an error and
 * every value it gives is itself valid JSON; the merge either refuses the
 * input (CW_EFORMAT) or writes one valid JSON object whose event_id is
 * crashwatch's. The event id taken from the input is 32 lowercase hex
 * digits or none. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "crashwatch.h"
#include "event_request.h"
#include "json_check.h"
#include "json_members.h"
#include "scrub.h"
#include "wd_message.h"

static void walk(const char *s, size_t n) {
  int valid = cw__json_check(s, n, CW__JSON_CHECK_OBJECT, 0, NULL, NULL) == 0;
  cw__json_iter_t it;
  cw__json_iter_init(&it, s, n);
  const char *k, *v;
  size_t kn, vn;
  int rc, count = 0;
  while ((rc = cw__json_iter_next(&it, &k, &kn, &v, &vn)) == 1) {
    if (k < s || k + kn > s + n || v < s || v + vn > s + n || vn == 0)
      abort();
    if (valid && cw__json_check(v, vn, CW__JSON_CHECK_ANY, 0, NULL, NULL) != 0)
      abort();
    if (++count > (int)n)
      abort(); /* the walk must progress */
  }
  if (valid && rc != 0)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *s = (const char *)data;
  walk(s, size);
  char id[33];
  if (cw__wd_event_id_from_json(s, size, id)) {
    if (strlen(id) != 32 || strspn(id, "0123456789abcdef") != 32)
      abort();
  }
  static cw__scrub_t scrub;
  static int init;
  if (!init) {
    cw__scrub_init(&scrub, 1, NULL);
    init = 1;
  }
  cw__event_req_t req;
  memset(&req, 0, sizeof(req));
  req.kind = CW__REQ_EVENT;
  req.level = -1;
  req.dropped = 3;
  req.time_realtime_ns = 1796142396000000000ull;
  wd_event_scope_t es = {.scope = NULL, .scrub = &scrub};
  wd_sysinfo_t sys;
  memset(&sys, 0, sizeof(sys));
  wd_message_t m = {.req = &req,
                    .payload = s,
                    .payload_len = size,
                    .event_id = "0123456789abcdef0123456789abcdef",
                    .release = "r@1",
                    .es = &es,
                    .sys = &sys};
  cw__buf_t out = CW_BUF_INIT;
  int rc = cw__wd_event_json_message(&m, &out);
  if (rc == 0) {
    if (out.oom)
      abort();
    if (cw__json_check((const char *)out.data, out.len, CW__JSON_CHECK_OBJECT,
                       0, NULL, NULL) != 0)
      abort();
    const char *v;
    size_t vn;
    if (cw__json_member((const char *)out.data, out.len, "event_id", &v, &vn) !=
            0 ||
        vn != 34 || memcmp(v + 1, "0123456789abcdef0123456789abcdef", 32))
      abort();
  } else if (rc != CW_EFORMAT) {
    abort();
  }
  cw__buf_free(&out);
  return 0;
}
