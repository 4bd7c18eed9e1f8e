/*
 * debug_id.h — build-ids and the identifiers derived from them.
 *
 * Sentry and Breakpad name an ELF module by a "debug id": the first 16 bytes
 * of its GNU build-id read as a little-endian GUID (the first three fields
 * byte-swapped), zero-padded when the build-id is shorter. Breakpad appends
 * an age of 0 ("...E60" in .sym files and symbol store paths).
 */
#ifndef CW_DEBUG_ID_H
#define CW_DEBUG_ID_H

#include <stddef.h>
#include <stdint.h>

/* Lowercase hex of id[0..n); out must hold 2n+1 bytes. */
void cw__hex_encode(const uint8_t *id, size_t n, char *out);
/* Parses hex (either case, even length) into out (max cap bytes). Returns the
 * number of bytes, or a negative CW_E* code. */
int cw__hex_decode(const char *hex, uint8_t *out, size_t cap);

/* "c0bcc3f1-9827-fe65-3058-404b2831d9e6"; out holds 37 bytes. */
void cw__debug_id_from_build_id(const uint8_t *id, size_t n, char out[37]);
/* Breakpad form: "C0BCC3F19827FE653058404B2831D9E60" (age 0); out holds 34. */
void cw__breakpad_id_from_build_id(const uint8_t *id, size_t n, char out[34]);

#endif
