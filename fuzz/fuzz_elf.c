/* fuzz_elf.c — the one ELF layer (elf/include/cw_elf.h) on module ELF files
 * (outside input: whatever the crashed process had mapped), as the
 * watchdog uses it: open, build-id, segment reads, symbols, and a
 * libunwind unwind through the file's .eh_frame_hdr and .eh_frame from a
 * synthetic thread whose stack is the input itself. Also the note parser
 * on the raw bytes (the vDSO path reads notes from memory), the one-pass
 * naming of a few addresses checked against the sorted table (they must
 * agree), and the bytes as a vDSO image: named in the watchdog
 * (cw__wd_symbolize_frame) and opened from memory by the symbolizer
 * (cw__symbolizer_open_image, whose symbols come through the same layer),
 * as `crashwatch symbolize DUMP` does. (Formerly fuzz_wd_elf.) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cw_elf.h"

#include "crashwatch.h"
#include "symbolizer.h"
#include "wd_capture.h"
#include "wd_elf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t id[64];
  volatile size_t sink =
      cw__elf_build_id_from_notes(data, size, id, sizeof(id));

  int fd = memfd_create("fuzz_elf", MFD_CLOEXEC);
  if (fd < 0)
    return 0;
  if (write(fd, data, size) != (ssize_t)size) {
    close(fd);
    return 0;
  }
  sink += cw__elf_build_id_fd(fd, id, sizeof(id));

  /* A capture with this file as its one module, mapped at 0x400000, and
   * one thread whose registers and stack come from the input. */
  wd_capture_t cap;
  memset(&cap, 0, sizeof(cap));
  cap.nmodules = 1;
  cap.modules = calloc(1, sizeof(*cap.modules));
  cap.threads = calloc(1, sizeof(*cap.threads));
  if (cap.modules == NULL || cap.threads == NULL) {
    free(cap.modules);
    free(cap.threads);
    close(fd);
    return 0;
  }
  cap.modules[0].base = 0x400000;
  cap.modules[0].size = 0x100000;
  cap.modules[0].fd = fd; /* closed by cw__wd_capture_free */
  cap.modules[0].path = strdup("/fuzz");
  cap.nthreads = 1;
  wd_thread_t *th = &cap.threads[0];
  th->regs_ok = 1;
  th->stack_region = -1;
  /* Start at the ELF entry point (which has CFI in real executables), so
   * the unwinder parses the file's tables. */
  uint64_t words[4] = {0};
  memcpy(words, data, size < sizeof(words) ? size : sizeof(words));
  th->regs.gp.rip = 0x400000 + (words[3] % 0x100000);
  th->regs.gp.rsp = 0x7f0000001000ull;
  th->regs.gp.rbp = 0x7f0000001000ull + (words[1] % 4096);
  cw__wd_capture_add_region(&cap, 0x7f0000001000ull, data,
                            size < 4096 ? size : 4096);

  cw__wd_unwind_all(&cap);
  for (size_t k = 0; k < th->nframes; k++) {
    const char *fn = cw__wd_symbolize(&cap, th->frames[k].ip, NULL, NULL);
    if (fn != NULL)
      sink += strlen(fn);
  }
  cw__elf_t *e = cap.modules[0].elf;
  if (e != NULL) {
    uint8_t buf[16];
    for (size_t i = 0; i < e->nsegs; i++)
      sink += (size_t)cw__elf_read_vaddr(e, e->segs[i].vaddr, buf, sizeof(buf));
    for (uint64_t a = 0; a < 0x10000; a += 0x400) {
      const cw__elf_sym_t *s = cw__elf_symbol(e, a);
      if (s != NULL)
        sink += strlen(s->name);
    }
    sink += (size_t)cw__wd_elf_load_bias(e, &cap.modules[0]);
  }
  cw__wd_capture_free(&cap);

  /* The same bytes as a vDSO image (file-less, named from its own symbols
   * with the nearest-preceding rule), in the watchdog and as the offline
   * symbolizer opens it out of a minidump's memory. */
  uint8_t *img = malloc(size ? size : 1);
  wd_module_t vm;
  memset(&vm, 0, sizeof(vm));
  if (img != NULL && size > 0) {
    memcpy(img, data, size);
    vm.base = 0x7ffd00000000ull;
    vm.size = size;
    vm.fd = -1;
    vm.path = (char *)"linux-vdso.so.1";
    vm.image = img;
    vm.image_size = size;
    wd_capture_t vc;
    memset(&vc, 0, sizeof(vc));
    vc.modules = &vm;
    vc.nmodules = 1;
    if (cw__wd_module_elf(&vm) != NULL) {
      for (uint64_t a = 0; a < size && a < 0x4000; a += 0x40) {
        char buf[WD_FRAME_NAME_BUF];
        const char *fn = cw__wd_symbolize_frame(&vc, vm.base + a, NULL, NULL,
                                                buf, sizeof(buf));
        if (fn != NULL)
          sink += strlen(fn);
      }
      cw__elf_close(vm.elf);
    }
  }
  /* The one-pass naming of a few addresses answers as the sorted table. */
  cw__elf_t *fast = cw__elf_open_memory(data, size);
  cw__elf_t *full = cw__elf_open_memory(data, size);
  if (fast != NULL && full != NULL) {
    uint64_t a[16];
    size_t na = 0;
    for (size_t i = 0; i + 8 <= size && na < 16; i += size / 16 + 8) {
      uint64_t w;
      memcpy(&w, data + i, 8);
      a[na++] = w % 0x20000;
    }
    for (size_t i = 1; i < na; i++) /* sorted, distinct */
      for (size_t j = i; j > 0 && a[j - 1] > a[j]; j--) {
        uint64_t t = a[j];
        a[j] = a[j - 1];
        a[j - 1] = t;
      }
    size_t nd = 0;
    for (size_t i = 0; i < na; i++)
      if (nd == 0 || a[nd - 1] != a[i])
        a[nd++] = a[i];
    cw__elf_name_addrs(fast, a, nd);
    for (size_t i = 0; i < nd; i++) {
      const cw__elf_sym_t *x = cw__elf_symbol(fast, a[i]);
      const cw__elf_sym_t *y = cw__elf_symbol(full, a[i]);
      if ((x == NULL) != (y == NULL) ||
          (x != NULL && (x->addr != y->addr || x->size != y->size ||
                         strcmp(x->name, y->name) != 0)))
        abort(); /* the fast path named an address otherwise */
      const cw__elf_sym_t *p = cw__elf_symbol_preceding(full, a[i]);
      if (p != NULL)
        sink += strlen(p->name);
    }
  }
  cw__elf_close(fast);
  cw__elf_close(full);

  cw__symbolizer_t *sy =
      cw__symbolizer_new(CW_SYM_NO_SYSTEM_DIRS | CW_SYM_NO_DEBUGINFOD);
  cw__sym_module_t *sm = NULL;
  int rc = sy != NULL ? cw__symbolizer_open_image(sy, "linux-vdso.so.1", data,
                                                  size, NULL, 0, &sm)
                      : CW_ENOMEM;
  if ((rc == 0 || rc == CW_ENOSYMBOL) && sm != NULL) {
    cw__sym_frame_t fr[8];
    for (uint64_t a = 0; a < 0x4000; a += 0x40)
      if (cw__sym_lookup(sm, a, 0, fr, 8) > 0 && fr[0].function != NULL)
        sink += strlen(fr[0].function);
  }
  cw__symbolizer_free(sy);
  free(img);
  (void)sink;
  return 0;
}
