/*
 * session_count.c — cw__session_note_error (cw_session.h). Signal context:
 * it may be called from a signal handler (a dump signal's event), so it
 * only loads a pointer and adds atomically; no locks, no libc calls.
 */
#include "scope_write.h"
#include "cw_session.h"

void cw__session_note_error(void) {
  cw__scope_map_t *m = cw__scope_live();
  if (m == NULL)
    return;
  if (__atomic_load_n(&m->session.h.used, __ATOMIC_RELAXED) == 1)
    __atomic_fetch_add(&m->session.errors, 1, __ATOMIC_RELAXED);
}
