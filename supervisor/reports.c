/*
 * reports.c — which reports appeared in the spool while the program ran
 * (normal context). The watchdog names a report by an id the supervisor
 * does not choose, so the supervisor compares the spool's listings before
 * and after a crash; both modes use it (preload mode's report is written
 * by the program's own watchdog).
 */
#include <stdio.h>
#include <string.h>

#include "spool.h"
#include "sup_internal.h"

void cw__sup_spool_ids(const char *spool, cw__sup_spool_ids_t *ids) {
  ids->ids = NULL;
  ids->n = 0;
  if (cw__spool_list(spool, &ids->ids, &ids->n) != 0) {
    ids->ids = NULL;
    ids->n = 0;
  }
}

void cw__sup_spool_ids_free(cw__sup_spool_ids_t *ids) {
  if (ids->ids != NULL)
    cw__spool_list_free(ids->ids, ids->n);
  ids->ids = NULL;
  ids->n = 0;
}

int cw__sup_spool_new_report(const char *spool,
                             const cw__sup_spool_ids_t *before, char *out,
                             size_t cap) {
  out[0] = '\0';
  cw__sup_spool_ids_t now;
  cw__sup_spool_ids(spool, &now);
  int found = 0;
  const char *best = NULL;
  for (size_t i = 0; i < now.n; i++) {
    int old = 0;
    for (size_t j = 0; j < before->n && !old; j++)
      old = strcmp(now.ids[i], before->ids[j]) == 0;
    if (old)
      continue;
    found++;
    best = now.ids[i]; /* listed oldest first: the last is the newest */
  }
  if (best != NULL)
    snprintf(out, cap, "%s/%s", spool, best);
  cw__sup_spool_ids_free(&now);
  return found;
}
