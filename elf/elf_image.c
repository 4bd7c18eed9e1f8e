/*
 * elf_image.c — a module's ELF opened as a cw__elf_t (see cw_elf.h): its
 * segments, .eh_frame_hdr, build-id and separate debug file, reads by
 * link-time address. Normal context; the files are outside input.
 */
#include "cw_elf.h"

#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elf_internal.h"
#include "regfile.h"

static cw__elf_t *elf_open(int fd, Elf *elf) {
  if (elf == NULL)
    return NULL;
  if (elf_kind(elf) != ELF_K_ELF || gelf_getclass(elf) != ELFCLASS64) {
    elf_end(elf);
    return NULL;
  }
  cw__elf_t *e = calloc(1, sizeof(*e));
  if (e == NULL) {
    elf_end(elf);
    return NULL;
  }
  e->elf = elf;
  e->fd = fd;
  e->debug_fd = -1;
  /* libelf mapped the file: unwinding reads .eh_frame words from it by the
   * thousand, which must not cost a system call each. */
  size_t image_size = 0;
  char *image = elf_rawfile(elf, &image_size);
  if (image != NULL) {
    e->image = (const uint8_t *)image;
    e->image_size = image_size;
  }
  size_t phnum;
  if (elf_getphdrnum(elf, &phnum) == 0 && phnum > 0) {
    e->segs = calloc(phnum, sizeof(*e->segs));
    for (size_t i = 0; e->segs != NULL && i < phnum; i++) {
      GElf_Phdr ph;
      if (gelf_getphdr(elf, (int)i, &ph) == NULL)
        continue;
      if (ph.p_type == PT_LOAD)
        e->segs[e->nsegs++] =
            (cw__elf_seg_t){ph.p_vaddr, ph.p_offset, ph.p_filesz, ph.p_memsz};
      else if (ph.p_type == PT_GNU_EH_FRAME) {
        e->eh_frame_hdr_vaddr = ph.p_vaddr;
        e->eh_frame_hdr_size = ph.p_memsz;
      }
    }
  }
  e->build_id_len = cw__elf_build_id(elf, e->build_id, sizeof(e->build_id));
  return e;
}

cw__elf_t *cw__elf_open_fd(int fd) {
  if (fd < 0)
    return NULL;
  elf_version(EV_CURRENT);
  return elf_open(fd, elf_begin(fd, ELF_C_READ_MMAP, NULL));
}

cw__elf_t *cw__elf_open_memory(const uint8_t *image, size_t size) {
  if (image == NULL || size == 0)
    return NULL;
  elf_version(EV_CURRENT);
  /* elf_memory does not write to the image when only reading. */
  return elf_open(-1, elf_memory((char *)(uintptr_t)image, size));
}

void cw__elf_close(cw__elf_t *e) {
  if (e == NULL)
    return;
  elf_end(e->elf);
  if (e->debug_elf != NULL)
    elf_end(e->debug_elf);
  if (e->debug_fd >= 0)
    close(e->debug_fd);
  free(e->segs);
  cw__elf_free_symbols(e);
  free(e);
}

void cw__elf_open_debug(cw__elf_t *e) {
  if (e->debug_tried)
    return;
  e->debug_tried = 1;
  char path[256];
  const char *root =
      e->debug_root != NULL ? e->debug_root : CW_ELF_SYSTEM_DEBUG_DIR;
  if (cw__elf_build_id_path(path, sizeof(path), root, e->build_id,
                            e->build_id_len, ".debug") != 0)
    return;
  int fd = cw__open_regular(path, 0, NULL); /* never a FIFO, never blocking */
  if (fd < 0)
    return;
  Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
  if (elf == NULL || elf_kind(elf) != ELF_K_ELF ||
      gelf_getclass(elf) != ELFCLASS64 ||
      !cw__elf_build_id_matches(elf, e->build_id, e->build_id_len)) {
    if (elf != NULL)
      elf_end(elf);
    close(fd);
    return;
  }
  e->debug_elf = elf;
  e->debug_fd = fd;
}

uint64_t cw__elf_load_bias(const cw__elf_t *e, uint64_t base,
                           uint64_t offset_at_base) {
  /* The segment whose file range holds the base mapping's offset tells
   * which link-time page the base maps. */
  for (size_t i = 0; i < e->nsegs; i++) {
    const cw__elf_seg_t *s = &e->segs[i];
    uint64_t page_off = s->offset & ~(uint64_t)0xfff;
    if (offset_at_base >= page_off &&
        offset_at_base < s->offset + (s->filesz ? s->filesz : 1)) {
      uint64_t vaddr =
          (s->vaddr & ~(uint64_t)0xfff) + (offset_at_base - page_off);
      return base - vaddr;
    }
  }
  if (e->nsegs > 0)
    return base - (e->segs[0].vaddr & ~(uint64_t)0xfff);
  return base;
}

int cw__elf_read_vaddr(const cw__elf_t *e, uint64_t vaddr, void *buf,
                       size_t len) {
  for (size_t i = 0; i < e->nsegs; i++) {
    const cw__elf_seg_t *s = &e->segs[i];
    if (vaddr >= s->vaddr && vaddr - s->vaddr < s->filesz &&
        len <= s->filesz - (vaddr - s->vaddr)) {
      uint64_t off = s->offset + (vaddr - s->vaddr);
      if (e->image != NULL) {
        if (off > e->image_size || len > e->image_size - off)
          return -1;
        memcpy(buf, e->image + off, len);
        return 0;
      }
      if (e->fd < 0)
        return -1;
      ssize_t n = pread(e->fd, buf, len, (off_t)off);
      return n == (ssize_t)len ? 0 : -1;
    }
  }
  return -1;
}
