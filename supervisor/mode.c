/*
 * mode.c — which capture --mode=auto uses for a program (normal context).
 *
 * LD_PRELOAD reaches only what the dynamic linker loads: a statically
 * linked executable (no PT_INTERP program header) never sees it, and the
 * dynamic linker ignores it for a setuid or setgid one (secure execution).
 * Those get ptrace mode; everything else the preload library, which costs
 * the program nothing until it crashes.
 */
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervisor.h"

/* 1 when the ELF file at fd has a PT_INTERP program header, 0 when it has
 * none, -1 when it is not a 64-bit ELF file we can read. */
static int has_interp(int fd) {
  Elf64_Ehdr eh;
  if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
      memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
      eh.e_ident[EI_CLASS] != ELFCLASS64 ||
      eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 ||
      eh.e_phnum > 4096)
    return -1;
  for (unsigned i = 0; i < eh.e_phnum; i++) {
    Elf64_Phdr ph;
    if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + i * sizeof(ph))) !=
        (ssize_t)sizeof(ph))
      return -1;
    if (ph.p_type == PT_INTERP)
      return 1;
  }
  return 0;
}

cw__sup_mode_t cw__sup_pick_mode(const char *path, char *why, size_t cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    if (fd >= 0)
      close(fd);
    snprintf(why, cap, "%s cannot be read; preload", path);
    return CW__SUP_PRELOAD;
  }
  int interp = has_interp(fd);
  close(fd);
  if (st.st_mode & (S_ISUID | S_ISGID)) {
    snprintf(why, cap, "%s is set%cid: ptrace", path,
             (st.st_mode & S_ISUID) ? 'u' : 'g');
    return CW__SUP_PTRACE;
  }
  if (interp == 0) {
    snprintf(why, cap, "%s is statically linked: ptrace", path);
    return CW__SUP_PTRACE;
  }
  if (interp < 0) {
    /* A script: its interpreter is what runs, and is dynamic as a rule. */
    snprintf(why, cap, "%s is not an ELF executable (a script?): preload",
             path);
    return CW__SUP_PRELOAD;
  }
  snprintf(why, cap, "%s is dynamically linked: preload", path);
  return CW__SUP_PRELOAD;
}
