/*
 * scope_layout.h — the bytes of the scope mapping (issue 10): what the
 * application's writer (handler/scope*.c) stores and the watchdog's reader
 * (common/scope.c) parses. docs/scope.md explains the consistency rules;
 * this header is the layout and the limits.
 *
 * One memfd, created at cw_init(), mapped MAP_SHARED by the application
 * and read-only by the watchdog. A fixed part (cw__scope_map_t) is followed
 * by the breadcrumb ring (ncrumbs cw__scope_crumb_slot_t). Every slot
 * starts with a sequence counter: odd while a writer is inside it, even
 * otherwise, 0 if never written. A reader copies a slot, then re-reads its
 * counter: a changed or odd counter means a torn copy, and the slot is
 * dropped (a crashed writer leaves it odd for good). `used` says whether
 * the slot holds a value (a removed entry keeps its slot, used = 0).
 *
 * All strings are NUL-terminated inside their field; a reader never trusts
 * that (the mapping is outside input for the watchdog: a crashed program
 * can leave any bytes) and re-checks sizes, NULs, UTF-8 and JSON.
 *
 * Sizes below count bytes and include the terminating NUL: a tag value
 * holds at most CW__SCOPE_TAG_VALUE_MAX - 1 bytes of text.
 */
#ifndef CW_SCOPE_LAYOUT_H
#define CW_SCOPE_LAYOUT_H

#include <stdint.h>

#define CW__SCOPE_MAGIC 0x43535743u /* "CWSC" little-endian */
#define CW__SCOPE_VERSION 1u

/* Limits (docs/scope.md, include/crashwatch.h). */
#define CW__SCOPE_KEY_MAX 64        /* tag/extra keys, context names */
#define CW__SCOPE_TAG_VALUE_MAX 256 /* tag values */
#define CW__SCOPE_JSON_MAX 2048     /* an extra value, a context object */
#define CW__SCOPE_NTAGS 64          /* tags at once */
#define CW__SCOPE_NEXTRA 32         /* extra entries at once */
#define CW__SCOPE_NCONTEXTS 16      /* contexts at once (trace not counted) */
#define CW__SCOPE_STR_MAX 256       /* user fields, transaction, server_name */
#define CW__SCOPE_NFINGERPRINT 8    /* fingerprint parts */
#define CW__SCOPE_DIST_MAX 64       /* dist */
#define CW__SCOPE_NATTACH 8         /* attachments */
#define CW__SCOPE_PATH_MAX 4096     /* an attachment's absolute path */
#define CW__SCOPE_CRUMB_TYPE_MAX 32 /* breadcrumb type */
#define CW__SCOPE_CRUMB_CAT_MAX 64  /* breadcrumb category */
#define CW__SCOPE_CRUMB_MSG_MAX 512 /* breadcrumb message */
#define CW__SCOPE_CRUMB_DATA_MAX 1024 /* breadcrumb data (a JSON object) */
#define CW__SCOPE_MAX_CRUMBS 1000     /* the largest ring */
#define CW__SCOPE_DEFAULT_CRUMBS 100  /* the default ring */

/* Every slot begins with this. */
typedef struct {
  uint32_t seq;  /* even: stable; odd: a write is in progress (or died) */
  uint32_t used; /* 1: holds a value; 0: empty or removed */
} cw__scope_slot_hdr_t;

/* Set at cw_init() from the options. */
typedef struct {
  cw__scope_slot_hdr_t h;
  uint32_t send_default_pii;
  uint32_t pad;
  uint64_t attachment_max_bytes;
  char dist[CW__SCOPE_DIST_MAX];
  char server_name[CW__SCOPE_STR_MAX];
} cw__scope_config_slot_t;

typedef struct {
  cw__scope_slot_hdr_t h;
  int32_t level; /* CW_LEVEL_* */
  uint32_t pad;
} cw__scope_level_slot_t;

typedef struct {
  cw__scope_slot_hdr_t h;
  char value[CW__SCOPE_STR_MAX];
} cw__scope_str_slot_t;

typedef struct {
  cw__scope_slot_hdr_t h;
  char trace_id[33]; /* 32 lowercase hex digits */
  char span_id[17];  /* 16 lowercase hex digits */
  char pad[6];
} cw__scope_trace_slot_t;

typedef struct {
  cw__scope_slot_hdr_t h;
  char id[CW__SCOPE_STR_MAX];
  char email[CW__SCOPE_STR_MAX];
  char username[CW__SCOPE_STR_MAX];
  char ip_address[CW__SCOPE_STR_MAX];
} cw__scope_user_slot_t;

typedef struct {
  cw__scope_slot_hdr_t h;
  uint32_t n; /* parts in use */
  uint32_t pad;
  char parts[CW__SCOPE_NFINGERPRINT][CW__SCOPE_STR_MAX];
} cw__scope_fingerprint_slot_t;

/* A key/value table entry: tags (value is text), extra and contexts (value
 * is JSON text). */
typedef struct {
  cw__scope_slot_hdr_t h;
  char key[CW__SCOPE_KEY_MAX];
  char value[CW__SCOPE_TAG_VALUE_MAX];
} cw__scope_tag_slot_t;

typedef struct {
  cw__scope_slot_hdr_t h;
  char key[CW__SCOPE_KEY_MAX];
  char value[CW__SCOPE_JSON_MAX];
} cw__scope_json_slot_t;

typedef struct {
  cw__scope_slot_hdr_t h;
  char path[CW__SCOPE_PATH_MAX];
} cw__scope_attach_slot_t;

typedef struct {
  cw__scope_slot_hdr_t h;
  int32_t level; /* CW_LEVEL_* */
  uint32_t pad;
  int64_t timestamp_ns; /* CLOCK_REALTIME_COARSE at the call */
  uint64_t index;       /* the ring position taken: orders the crumbs */
  char type[CW__SCOPE_CRUMB_TYPE_MAX];
  char category[CW__SCOPE_CRUMB_CAT_MAX];
  char message[CW__SCOPE_CRUMB_MSG_MAX];
  char data[CW__SCOPE_CRUMB_DATA_MAX]; /* "" = none */
} cw__scope_crumb_slot_t;

/* The release-health session of the process (docs/sessions.md): written
 * under the slot protocol when a session starts or ends (used = 1 while
 * one is open); `errors` is bumped with an atomic add by
 * cw__session_note_error() outside the protocol (it may run in a signal
 * handler), and read on its own by the watchdog at a crash. */
typedef struct {
  cw__scope_slot_hdr_t h;
  uint32_t errors; /* error-level events captured in this session */
  int32_t pid;     /* the process whose session it is */
  int64_t started_ms;
  char sid[40]; /* a UUID, 36 characters */
} cw__scope_session_slot_t;

/* The fixed part; the ring of ncrumbs crumb slots follows it. */
typedef struct {
  uint32_t magic;      /* CW__SCOPE_MAGIC */
  uint32_t version;    /* CW__SCOPE_VERSION */
  uint64_t size;       /* bytes of the whole mapping */
  uint32_t fixed_size; /* sizeof(cw__scope_map_t) */
  uint32_t crumb_size; /* sizeof(cw__scope_crumb_slot_t) */
  uint32_t ncrumbs;    /* ring capacity (max_breadcrumbs) */
  uint32_t pad0;
  /* Writers take ring positions with an atomic add, in a cache line of
   * its own. */
  uint64_t crumb_head __attribute__((aligned(64)));
  cw__scope_config_slot_t config __attribute__((aligned(64)));
  cw__scope_level_slot_t level;
  cw__scope_str_slot_t transaction;
  cw__scope_trace_slot_t trace;
  cw__scope_user_slot_t user;
  cw__scope_fingerprint_slot_t fingerprint;
  cw__scope_tag_slot_t tags[CW__SCOPE_NTAGS];
  cw__scope_json_slot_t extra[CW__SCOPE_NEXTRA];
  cw__scope_json_slot_t contexts[CW__SCOPE_NCONTEXTS];
  cw__scope_attach_slot_t attachments[CW__SCOPE_NATTACH];
  cw__scope_session_slot_t session __attribute__((aligned(64)));
} __attribute__((aligned(64))) cw__scope_map_t;

/* The ring's first slot. */
#define CW__SCOPE_CRUMBS(m)                                                    \
  ((cw__scope_crumb_slot_t *)((char *)(m) + sizeof(cw__scope_map_t)))

/* Bytes of a mapping with a ring of n crumbs. */
#define CW__SCOPE_MAP_SIZE(n)                                                  \
  (sizeof(cw__scope_map_t) + (uint64_t)(n) * sizeof(cw__scope_crumb_slot_t))

#endif
