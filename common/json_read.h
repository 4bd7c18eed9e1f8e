/*
 * json_read.h — a small JSON reader into a tree, for the tools that show a
 * spooled report (`crashwatch list`, `crashwatch show`) and the delivery
 * journal. Normal context.
 *
 * Its input is outside input (a spool's event.json may be damaged, planted
 * or hand-made; a server's answer): RFC 8259 syntax strictly, nesting
 * limited to CW__JV_MAX_DEPTH, every read bounds-checked, and a refusal
 * names the byte offset and what was wrong (fuzz/fuzz_json_read.c).
 * Strings are decoded to UTF-8; \u0000 and lone surrogates become U+FFFD,
 * so every string is a C string. Numbers are doubles. In an object with a
 * repeated key, lookups find the first.
 *
 * Ownership: cw__jv_parse() returns a tree that cw__jv_free() frees whole;
 * every pointer the accessors return points into it.
 */
#ifndef CW_JSON_READ_H
#define CW_JSON_READ_H

#include <stddef.h>

#define CW__JV_MAX_DEPTH 64

typedef enum {
  CW__JV_NULL = 0,
  CW__JV_BOOL,
  CW__JV_NUMBER,
  CW__JV_STRING,
  CW__JV_ARRAY,
  CW__JV_OBJECT,
} cw__jv_kind_t;

typedef struct cw__jv cw__jv_t;
struct cw__jv {
  cw__jv_kind_t kind;
  int boolean;
  double number;
  char *string;    /* CW__JV_STRING: decoded, NUL-terminated */
  size_t len;      /* its length in bytes (may hold no NUL: see above) */
  size_t n;        /* members or elements */
  cw__jv_t *items; /* n values */
  char **keys;     /* CW__JV_OBJECT: n decoded keys */
};

/* Parses all n bytes of s (surrounding white space allowed). Returns 0 and
 * the tree in *out; CW_EFORMAT with err saying what and at which offset;
 * CW_ENOMEM. */
int cw__jv_parse(const char *s, size_t n, cw__jv_t **out, char *err,
                 size_t errlen);
void cw__jv_free(cw__jv_t *v);

/* obj's member key (NULL if obj is NULL, not an object, or has no key). */
const cw__jv_t *cw__jv_get(const cw__jv_t *obj, const char *key);
/* A path of member names separated by '.', e.g. "contexts.os.name". */
const cw__jv_t *cw__jv_path(const cw__jv_t *v, const char *path);
/* arr's element i (NULL if arr is not an array or i is out of range). */
const cw__jv_t *cw__jv_at(const cw__jv_t *arr, size_t i);
/* Elements of an array, members of an object, else 0. */
size_t cw__jv_count(const cw__jv_t *v);
/* v's string, or NULL if v is NULL or not a string. */
const char *cw__jv_str(const cw__jv_t *v);
/* v's number in *out: 0, or -1 if v is NULL or not a number. */
int cw__jv_num(const cw__jv_t *v, double *out);
/* 1 for true, 0 for false, -1 for anything else. */
int cw__jv_bool(const cw__jv_t *v);

#endif
