/*
 * scrub.h — privacy scrubbing of the scope's values before they enter a
 * report (issue 10): a value whose key contains one of the scrub patterns
 * (ASCII case-insensitive substring) is replaced by "[Filtered]". Normal
 * context (it allocates); the watchdog calls it while it writes the event.
 *
 * The default patterns are CW_SCRUB_DEFAULT_KEYS; a list can leave them out
 * and add its own (the watchdog takes CRASHWATCH_SCRUB_DEFAULTS and
 * CRASHWATCH_SCRUB_KEYS from its environment, see docs/scope.md).
 *
 * cw__scrub_json() re-emits a JSON text through the project's JSON writer,
 * replacing matching members' values at any depth. The text comes from the
 * application (cw_set_extra, cw_set_context, breadcrumb data), so it is
 * parsed as outside input: any byte string yields valid JSON output, and a
 * text that is not one JSON value is reported, never trusted.
 */
#ifndef CW_SCRUB_H
#define CW_SCRUB_H

#include <stddef.h>

#include "json.h"

/* The replacement for a scrubbed value, as Sentry's own scrubbers write. */
#define CW_SCRUB_FILTERED "[Filtered]"
/* Written for a container nested deeper than CW_SCRUB_MAX_NEST inside the
 * value (the JSON writer's depth limit leaves no room for it). */
#define CW_SCRUB_TOO_DEEP "[Filtered: nested too deep]"

/* Containers kept inside one value; deeper ones become CW_SCRUB_TOO_DEEP.
 * The event puts these values at depth 3 at most (breadcrumbs.values[].data),
 * and the writer tracks CW_JSON_MAX_DEPTH levels. */
#define CW_SCRUB_MAX_NEST (CW_JSON_MAX_DEPTH - 4)
/* Nesting past which a text is refused as malformed (bounds recursion). */
#define CW_SCRUB_MAX_PARSE_NEST 256
/* At most this many patterns in a list, each at most this long; longer
 * ones and the excess of CRASHWATCH_SCRUB_KEYS are ignored. */
#define CW_SCRUB_MAX_KEYS 64
#define CW_SCRUB_MAX_KEY_LEN 128

/* The default patterns, comma-separated. */
#define CW_SCRUB_DEFAULT_KEYS                                                  \
  "password,passwd,secret,token,api_key,apikey,auth,authorization,"            \
  "credentials,private_key,session,cookie,set-cookie,mysql_pwd"

typedef struct {
  char keys[CW_SCRUB_MAX_KEYS][CW_SCRUB_MAX_KEY_LEN + 1]; /* lowercase */
  size_t nkeys;
} cw__scrub_t;

/* A list with the defaults (when use_defaults) and the comma-separated
 * patterns of extra (may be NULL): each is trimmed of spaces and tabs and
 * lowercased; empty ones are skipped. */
void cw__scrub_init(cw__scrub_t *s, int use_defaults, const char *extra);

/* Whether key[0..n) contains one of the patterns (ASCII case-insensitive). */
int cw__scrub_key_matches(const cw__scrub_t *s, const char *key, size_t n);

/* Options of cw__scrub_json(). */
enum {
  /* Every member value of the top-level object is filtered (a context
   * whose name is itself a scrubbed key: its keys stay, its values go). */
  CW_SCRUB_ALL_MEMBERS = 1,
};

/*
 * Writes json[0..n) as one value through j (after j's cw__json_key, or as
 * an array element), replacing the value of every object member whose key
 * matches by "[Filtered]", at any depth. Strings are decoded and written
 * again (escapes normalised, invalid UTF-8 as U+FFFD), numbers copied as
 * they are. Returns 0; or CW_EFORMAT when json is not exactly one JSON
 * value (RFC 8259, nesting up to CW_SCRUB_MAX_PARSE_NEST) — then the
 * string "[invalid JSON]" is written instead, nothing of the text, and
 * *err_off (if not NULL) gets the offset of the problem and *what (if not
 * NULL) a static description. CW_ENOMEM when memory ran out (j's buffer
 * then has oom set).
 */
int cw__scrub_json(const cw__scrub_t *s, cw__json_t *j, const char *json,
                   size_t n, int flags, size_t *err_off, const char **what);

#endif
