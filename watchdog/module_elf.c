/*
 * module_elf.c — a captured module's ELF through the one ELF layer (see
 * wd_elf.h). Normal context, watchdog process.
 */
#include "wd_elf.h"

#include <stdlib.h>

cw__elf_t *cw__wd_module_elf(wd_module_t *m) {
  if (m->elf == NULL && m->fd >= 0) {
    m->elf = cw__wd_module_cache_find(m->fd);
    m->elf_cached = m->elf != NULL;
  }
  if (m->elf == NULL && m->fd >= 0)
    m->elf = cw__elf_open_fd(m->fd);
  else if (m->elf == NULL && m->image != NULL)
    m->elf = cw__elf_open_memory(m->image, m->image_size);
  return m->elf;
}

static int u64_cmp(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

void cw__wd_elf_name_frames(const wd_capture_t *cap, const wd_module_t *m) {
  cw__elf_t *e = m->elf;
  if (e == NULL || e->named_tried || e->syms_loaded)
    return;
  uint64_t a[CW_ELF_NAME_MAX_ADDRS];
  size_t n = 0;
  uint64_t bias = cw__wd_elf_load_bias(e, m);
  for (size_t t = 0; t < cap->nthreads; t++) {
    const wd_thread_t *th = &cap->threads[t];
    for (size_t k = 0; k < th->nframes; k++) {
      uint64_t ip = th->frames[k].ip;
      /* As cw__wd_symbolize() is asked: inside the call for return
       * addresses. */
      uint64_t addr = k > 0 && ip > 0 ? ip - 1 : ip;
      if (cw__wd_capture_module_at(cap, addr) != m)
        continue;
      uint64_t vaddr = addr - bias;
      size_t j = 0;
      while (j < n && a[j] != vaddr)
        j++;
      if (j < n)
        continue;
      if (n == CW_ELF_NAME_MAX_ADDRS) {
        e->named_tried = 1; /* a deep stack: the sorted table it is */
        return;
      }
      a[n++] = vaddr;
    }
  }
  if (n == 0) {
    e->named_tried = 1;
    return;
  }
  qsort(a, n, sizeof(a[0]), u64_cmp);
  cw__elf_name_addrs(e, a, n);
}
