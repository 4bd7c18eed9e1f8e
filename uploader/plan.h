/*
 * plan.h — which items of a report go out now, by the rate limits of their
 * categories (normal context). Sentry's rules (develop.sentry.dev, "Rate
 * Limiting"): a limit applies to the items of its category, not to the
 * envelope, so one item's limit never holds another's.
 *
 *   item                        category              when limited
 *   event with an exception     error                 held (with its
 *                                                     attachments)
 *   event without (a message)   default               held (likewise)
 *   minidump, other files       attachment            dropped: the event
 *                                                     goes without them
 *   session update              session               held; sent later
 *
 * An empty category list (RL_ALL) limits every item. A held item stays in
 * the spool and goes when its limit has passed; the items sent leave the
 * report (upload.c strips them), so nothing is sent twice on purpose.
 * The minidump is an attachment item (attachment_type event.minidump) to
 * Sentry, counted under `attachment`: a limit there sends the event, which
 * already carries the unwound stack, without the dump.
 *
 * A Breakpad-style multipart upload has one part set, not items: the
 * report goes whole when neither `error` nor `attachment` is limited (its
 * minidump is what such a server wants); session updates cannot travel in
 * it at all (CW__PLAN_DROP_SESSION).
 */
#ifndef CW_UPLOADER_PLAN_H
#define CW_UPLOADER_PLAN_H

#include <stdint.h>

#include "ratelimit.h"
#include "report.h"

typedef struct {
  unsigned send;        /* CW__ENV_* items to send now */
  unsigned held;        /* CW__ENV_* items kept for later */
  int drop_attachments; /* attachments rate limited: left out for good */
  int drop_session;     /* multipart: the session cannot be sent */
  int64_t held_until;   /* the earliest deadline among the held items */
} cw__upload_plan_t;

/* The category of r's event: RL_ERROR when it has an "exception" member
 * (a crash, an error captured with a stack), else RL_DEFAULT (a message). */
rl_category_t cw__plan_event_category(const report_t *r);

/* Plans r at now_ms under rl. has_session: r carries a usable session
 * update. envelope: the Sentry envelope transport (else multipart). */
void cw__upload_plan(const ratelimits_t *rl, const report_t *r, int has_session,
                     int envelope, int64_t now_ms, cw__upload_plan_t *plan);

#endif
