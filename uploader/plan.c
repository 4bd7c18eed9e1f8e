/* plan.c — per-item rate limits of a report; see plan.h. */
#include "plan.h"

#include <string.h>

#include "envelope.h"

rl_category_t cw__plan_event_category(const report_t *r) {
  /* A JSON string holding "exception" is escaped (\"exception\"), so this
   * matches a key or a whole string value only. */
  if (r->event_json != NULL && strstr(r->event_json, "\"exception\"") != NULL)
    return RL_ERROR;
  return RL_DEFAULT;
}

static void hold(cw__upload_plan_t *p, unsigned item, int64_t until) {
  p->held |= item;
  if (p->held_until == 0 || until < p->held_until)
    p->held_until = until;
}

void cw__upload_plan(const ratelimits_t *rl, const report_t *r, int has_session,
                     int envelope, int64_t now_ms, cw__upload_plan_t *plan) {
  memset(plan, 0, sizeof(*plan));
  int has_event = r->event_json != NULL;
  int64_t ev =
      has_event
          ? cw__ratelimit_blocked_until(rl, cw__plan_event_category(r), now_ms)
          : 0;
  int64_t att = r->nfiles > 0
                    ? cw__ratelimit_blocked_until(rl, RL_ATTACHMENT, now_ms)
                    : 0;
  if (!envelope) {
    plan->drop_session = has_session;
    if (!has_event)
      return;
    /* Classic error category: multipart reports are crashes. */
    int64_t e = cw__ratelimit_blocked_until(rl, RL_ERROR, now_ms);
    int64_t u = e > att ? e : att;
    if (u)
      hold(plan, CW__ENV_EVENT | CW__ENV_ATTACHMENTS, u);
    else
      plan->send = CW__ENV_EVENT | CW__ENV_ATTACHMENTS;
    return;
  }
  if (has_event) {
    if (ev) {
      hold(plan, CW__ENV_EVENT | (r->nfiles ? CW__ENV_ATTACHMENTS : 0), ev);
    } else {
      plan->send |= CW__ENV_EVENT;
      if (r->nfiles > 0) {
        if (att)
          plan->drop_attachments = 1;
        else
          plan->send |= CW__ENV_ATTACHMENTS;
      }
    }
  }
  if (has_session) {
    int64_t se = cw__ratelimit_blocked_until(rl, RL_SESSION, now_ms);
    if (se)
      hold(plan, CW__ENV_SESSION, se);
    else
      plan->send |= CW__ENV_SESSION;
  }
}
