/*
 * debuginfo.h — finding the debug information of a module by its build-id
 * (private to symbolizer/): separate debug files in `.build-id/xx/rest.debug`
 * trees, `.gnu_debuglink` targets (CRC checked), debuginfod, and Breakpad
 * symbol stores (`NAME/ID/NAME.sym`).
 *
 * A candidate whose build-id differs from the module's is never returned;
 * each one rejected adds a line to `warn` naming the file and both ids, so a
 * user learns why their debug file was not used.
 */
#ifndef CW_DEBUGINFO_H
#define CW_DEBUGINFO_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

typedef struct {
  char *const *dirs; /* --debug-dir roots, searched in order */
  size_t ndirs;
  int system_dirs; /* also /usr/lib/debug */
  int debuginfod;  /* also ask debuginfod when DEBUGINFOD_URLS is set */
} dbg_search_t;

/* Checks path's GNU build-id against id[0..n). 0 when equal; CW_EBUILDID
 * (message in warn) when different or missing; CW_ENOENT / CW_EFORMAT
 * when the file cannot be read as ELF. */
int cw__dbg_check_build_id(const char *path, const uint8_t *id, size_t n,
                           cw__buf_t *warn);

/* Each function below sets *found to a malloc'd path (the caller frees) and
 * returns 0, or returns CW_ENOENT when no matching file exists. */

/* DIR/.build-id/xx/rest.debug for each root. */
int cw__dbg_find_by_build_id(const dbg_search_t *s, const uint8_t *id, size_t n,
                             char **found, cw__buf_t *warn);
/* The module itself by build-id: DIR/.build-id/xx/rest (no .debug). */
int cw__dbg_find_binary(const dbg_search_t *s, const uint8_t *id, size_t n,
                        char **found, cw__buf_t *warn);
/* The .gnu_debuglink target `link` of module_path: next to the module, in
 * its .debug/ folder, under each root and /usr/lib/debug/<module dir>/.
 * The file's CRC-32 must equal crc, and its build-id id (when n > 0). */
int cw__dbg_find_by_debuglink(const dbg_search_t *s, const char *module_path,
                              const char *link, uint32_t crc, const uint8_t *id,
                              size_t n, char **found, cw__buf_t *warn);
/* debuginfod (only when s->debuginfod and DEBUGINFOD_URLS is set). */
int cw__dbg_find_debuginfod(const dbg_search_t *s, const uint8_t *id, size_t n,
                            char **found, cw__buf_t *warn);
/* ROOT/NAME/BREAKPAD_ID/NAME.sym whose MODULE id matches. */
int cw__dbg_find_breakpad(const dbg_search_t *s, const char *name,
                          const uint8_t *id, size_t n, char **found,
                          cw__buf_t *warn);

#endif
