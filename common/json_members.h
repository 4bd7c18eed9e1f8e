/*
 * json_members.h — the top-level members of a JSON object text, without
 * building a tree (libc only, no allocation, async-signal-safe): how the
 * watchdog merges an application's event (cw_capture_event) with the
 * scope, member by member, and how the library reads its "level".
 *
 * Outside input: any byte string is handled without reading past n;
 * what is not an object, or breaks off, ends the walk with CW_EFORMAT.
 * Keys are given raw (the bytes between the quotes, escapes not decoded:
 * compare with cw__json_key_is, which decodes nothing either, so a key
 * written with escapes matches no plain name). Values are given as the
 * span of their text, whitespace trimmed; a caller that writes them out
 * re-checks or re-parses them (cw__scrub_json).
 */
#ifndef CW_JSON_MEMBERS_H
#define CW_JSON_MEMBERS_H

#include <stddef.h>

typedef struct {
  const char *s;
  size_t n;
  size_t pos; /* next byte to read */
  int state;  /* 0 before '{', 1 inside, 2 done */
} cw__json_iter_t;

void cw__json_iter_init(cw__json_iter_t *it, const char *s, size_t n);

/* The next member: 1 with *key (kn bytes, raw) and *val (vn bytes); 0 at
 * the end of the object; CW_EFORMAT (negative) on malformed input. */
int cw__json_iter_next(cw__json_iter_t *it, const char **key, size_t *kn,
                       const char **val, size_t *vn);

/* Whether the raw key (kn bytes) is exactly name. */
int cw__json_key_is(const char *key, size_t kn, const char *name);

/* The value of the top-level member name (the first one of that name):
 * 0 with *val and *vn; CW_ENOENT when absent; CW_EFORMAT when malformed. */
int cw__json_member(const char *s, size_t n, const char *name, const char **val,
                    size_t *vn);

#endif
