/*
 * prom.h — Prometheus text exposition (format 0.0.4) for the metrics files
 * of `crashwatch upload --watch --metrics-file` and `crashwatch run
 * --metrics-file`, read by node_exporter's textfile collector. Normal
 * context, libc only.
 *
 * A document is built in memory, one metric family at a time: a family
 * (# HELP and # TYPE lines) followed by its samples. Names are checked
 * ([a-zA-Z_:][a-zA-Z0-9_:]* for metrics, [a-zA-Z_][a-zA-Z0-9_]* for labels,
 * no "__" label prefix); label values are escaped (\ " and newline) and
 * HELP text too (\ and newline), so any string is safe as a value. A
 * misuse (bad name, a sample outside its family, a family declared twice)
 * makes the document invalid: cw__prom_write_file() then refuses to write
 * it, and the file keeps its previous content.
 *
 * The metric names both ways in share, so one dashboard serves both:
 */
#ifndef CW_PROM_H
#define CW_PROM_H

#include <stddef.h>

#include "buf.h"

/* The spool (both). */
#define CW_PROM_REPORTS_PENDING "crashwatch_reports_pending"
#define CW_PROM_REPORTS_FAILED "crashwatch_reports_failed"
#define CW_PROM_REPORTS_DELIVERED "crashwatch_reports_delivered_total"
#define CW_PROM_UPLOADS "crashwatch_uploads_total" /* {result} */
#define CW_PROM_RATE_LIMITED_UNTIL "crashwatch_rate_limited_until_seconds"
#define CW_PROM_OLDEST_PENDING_AGE                                             \
  "crashwatch_oldest_pending_report_age_seconds"
#define CW_PROM_SPOOL_BYTES "crashwatch_spool_bytes"
/* The supervisor (`crashwatch run`). */
#define CW_PROM_CRASHES "crashwatch_crashes_total" /* {signal} */
#define CW_PROM_RESTARTS "crashwatch_restarts_total"
#define CW_PROM_LAST_CRASH "crashwatch_last_crash_timestamp_seconds"
#define CW_PROM_CHILD_UP "crashwatch_child_up"

/* The values of crashwatch_uploads_total's result label: ok (2xx), failed
 * (refused: 4xx but 408/429, moved to failed/), rate_limited (429),
 * error (retried later: 5xx, 408, timeout, connection or TLS failure). */
#define CW_PROM_RESULT_OK "ok"
#define CW_PROM_RESULT_FAILED "failed"
#define CW_PROM_RESULT_RATE_LIMITED "rate_limited"
#define CW_PROM_RESULT_ERROR "error"

typedef enum {
  CW_PROM_GAUGE = 0,
  CW_PROM_COUNTER = 1,
} cw__prom_type_t;

/* A document being built. Owns its buffer: cw__prom_free(). */
typedef struct {
  cw__buf_t out;
  char family[128]; /* the family samples may belong to now */
  char seen[1024];  /* families declared so far, "name\n"... */
  int invalid;      /* a misuse happened: the document is not written */
} cw__prom_t;

void cw__prom_init(cw__prom_t *p);
void cw__prom_free(cw__prom_t *p);

/* Starts family name: "# HELP name help" and "# TYPE name gauge|counter".
 * Returns 0, or CW_EINVAL (and marks the document invalid) for a bad or
 * repeated name. */
int cw__prom_family(cw__prom_t *p, const char *name, cw__prom_type_t type,
                    const char *help);

/* One label of a sample. */
typedef struct {
  const char *name;
  const char *value;
} cw__prom_label_t;

/* One sample of the current family: name{l1="v1",...} value. name must be
 * the current family's. Values are written exactly (integers as integers,
 * else %.17g; NaN, +Inf, -Inf by name). Returns 0 or CW_EINVAL. */
int cw__prom_sample(cw__prom_t *p, const char *name,
                    const cw__prom_label_t *labels, size_t nlabels,
                    double value);

/* Shorthand: a family with one unlabelled sample. */
int cw__prom_metric(cw__prom_t *p, const char *name, cw__prom_type_t type,
                    const char *help, double value);

/* The document as text (NUL-terminated), or NULL if invalid or out of
 * memory. Borrowed until the next call on p. */
const char *cw__prom_text(cw__prom_t *p);

/*
 * Replaces path with the document, atomically, for a reader that may look
 * at any moment (node_exporter's textfile collector): a new file
 * .<name>.tmp-<random> created exclusively (O_CREAT|O_EXCL|O_NOFOLLOW) in
 * the same directory, mode 0644 (the collector usually runs as another
 * user), written, fsync'd, renamed over path, then the directory fsync'd.
 * A reader sees the old file or the new one, never a mix. Returns 0,
 * CW_EINVAL for an invalid document or a path without a file name,
 * CW_ENOMEM, or CW_EIO (errno kept) when a step failed, in which case the
 * temporary file is removed and path is unchanged.
 */
int cw__prom_write_file(cw__prom_t *p, const char *path);

#endif
