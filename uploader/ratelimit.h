/*
 * ratelimit.h — Sentry rate limits (normal context, libc only).
 *
 * Parses X-Sentry-Rate-Limits and Retry-After per Sentry's SDK spec
 * (develop.sentry.dev/sdk/rate-limiting):
 *   X-Sentry-Rate-Limits: <quota_limit>, <quota_limit>, ...
 *   quota_limit = retry_after:categories:scope:reason_code[:more...]
 * retry_after is seconds (integer or decimal); categories is a ';'-separated
 * list of names ([a-z0-9_]), empty meaning every category; scope, reason code
 * and later fields are ignored; spaces anywhere are ignored. Unknown
 * categories are ignored; when several limits name one category the longest
 * wins. X-Sentry-Rate-Limits takes precedence over Retry-After; a 429 with
 * neither means 60 seconds for everything.
 *
 * What a server may not do (docs/security.md): a quota limit that is not
 * well-formed (no number, no categories field, a category name with other
 * characters) is ignored, never widened into a limit on everything; every
 * limit, and Retry-After, is capped at RL_MAX_SECONDS (one day); only the
 * first RL_MAX_HEADER bytes of the header are read, up to the last complete
 * quota limit in them.
 *
 * The limits are absolute deadlines (milliseconds since the epoch), so they
 * can be saved in the spool and survive a restart (cw__ratelimit_save/load).
 */
#ifndef CW_RATELIMIT_H
#define CW_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
  RL_ALL = 0, /* empty category list, or a 429 without details */
  RL_DEFAULT,
  RL_ERROR,
  RL_SECURITY,
  RL_TRANSACTION,
  RL_ATTACHMENT,
  RL_SESSION,
  RL_COUNT
} rl_category_t;

/* A limit longer than this is clamped: a server, or a man in the middle of
 * plain HTTP, cannot silence crash reporting for more than a day. */
#define RL_MAX_SECONDS (24 * 3600)
/* The longest X-Sentry-Rate-Limits value read (Relay's are < 1 KiB). */
#define RL_MAX_HEADER (64 * 1024)
#define RL_DEFAULT_RETRY_AFTER_MS 60000

typedef struct {
  int64_t until_ms[RL_COUNT]; /* 0 = no limit */
} ratelimits_t;

/* "error" -> RL_ERROR; -1 for an unknown name (n bytes, not terminated). */
int cw__ratelimit_category(const char *name, size_t n);
const char *cw__ratelimit_category_name(rl_category_t c);

/*
 * Applies an X-Sentry-Rate-Limits value (n bytes, need not be terminated) to
 * rl, received at now_ms. Well-formed quota limits are applied even when
 * others are malformed; malformed ones are skipped. Returns the number of
 * limits applied (>= 0), or CW_EFORMAT if some quota limit was malformed,
 * with err naming the first one's byte offset (the valid ones are still
 * applied).
 */
int cw__ratelimit_parse_sentry(ratelimits_t *rl, const char *hdr, size_t n,
                               int64_t now_ms, char *err, size_t errlen);

/* Parses a Retry-After value (delta seconds or an HTTP-date) into a delay
 * in ms; an unparsable value gives RL_DEFAULT_RETRY_AFTER_MS. */
int64_t cw__ratelimit_parse_retry_after(const char *v, int64_t now_ms);

/*
 * Applies one HTTP response: X-Sentry-Rate-Limits (any status) wins; else a
 * 429 uses Retry-After or 60 s for every category (also when the
 * X-Sentry-Rate-Limits it carries has no well-formed entry). NULL or "" headers
 * mean absent. Returns 1 if any limit changed, else 0.
 */
int cw__ratelimit_update(ratelimits_t *rl, long status, const char *sentry_hdr,
                         const char *retry_after, int64_t now_ms);

/* The deadline blocking category c (its own or RL_ALL, whichever is later),
 * or 0 if c may be sent at now_ms. */
int64_t cw__ratelimit_blocked_until(const ratelimits_t *rl, rl_category_t c,
                                    int64_t now_ms);

/* Saves rl to path atomically (temp file, fsync, rename). A failure (disk
 * full) leaves the old file intact and returns a CW_E* code. */
int cw__ratelimit_save(const ratelimits_t *rl, const char *path);
/* Loads limits saved by cw__ratelimit_save. A missing file gives no limits and
 * returns 0; unreadable lines are skipped; a deadline more than
 * RL_MAX_SECONDS after now_ms (a tampered or old-format file) is cut to
 * now_ms + RL_MAX_SECONDS. */
int cw__ratelimit_load(ratelimits_t *rl, const char *path, int64_t now_ms);

/* Where a header of n bytes is cut: n when n <= RL_MAX_HEADER, else the
 * end of the last complete quota limit (the last ',') in its first
 * RL_MAX_HEADER bytes, 0 if there is none. */
size_t cw__ratelimit_header_cut(const char *hdr, size_t n);

#endif
