/* multipart.h — a loaded report as a Breakpad-style multipart/form-data
 * body (normal context). */
#ifndef CW_UPLOADER_MULTIPART_H
#define CW_UPLOADER_MULTIPART_H

#include <stddef.h>

#include "buf.h"
#include "report.h"

/*
 * Breakpad-style multipart/form-data body: the annotation fields, the event
 * JSON in a "sentry" field, the minidump as file part "upload_file_minidump"
 * and each other attachment as a file part named after its file, with its
 * Content-Type from cw__report_content_type (the minidump's part keeps
 * application/octet-stream, as Breakpad's sender writes it). boundary
 * must not occur in the data (use cw__multipart_boundary). Returns 0 or
 * CW_ENOMEM.
 */
int cw__multipart_encode(const report_t *r, const upload_field_t *fields,
                         size_t nfields, const char *boundary, cw__buf_t *out);

/* A random boundary ("------------------------crashwatch" + 24 hex) that
 * does not occur in any of r's data. cap >= 64. */
void cw__multipart_boundary(const report_t *r, char *out, size_t cap);

#endif
