/* symbolizer.c — the symbolizer handle: module cache, choice of debug
 * source, lookups. */
#include "symbolizer.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "breakpad_sym.h"
#include "buf.h"
#include "crashwatch.h"
#include "cw_elf.h"
#include "debug_id.h"
#include "debuginfo.h"
#include "regfile.h"
#include "symsrc.h"

#define MAX_BUILD_ID 64
#define MAX_CHAIN 64
#define MAX_EXEC_SECTIONS 16

struct cw__sym_module {
  struct cw__sym_module *next;
  /* cache key */
  char *key_path;
  uint8_t key_id[MAX_BUILD_ID];
  size_t key_idlen;
  int open_rc;
  char *open_err;

  char *path;
  char *debug_file;
  const char *source;
  uint8_t build_id[MAX_BUILD_ID];
  size_t build_id_len;
  uint64_t load_vaddr;
  symidx_t *ix;
  cw__buf_t warn;
  /* Opened from an image (cw__symbolizer_open_image): uncovered addresses
   * take the nearest preceding function of their executable section. */
  int preceding;
  uint64_t exec_lo[MAX_EXEC_SECTIONS], exec_hi[MAX_EXEC_SECTIONS];
  size_t nexec;
};

struct cw__symbolizer {
  unsigned flags;
  char **dirs;
  size_t ndirs;
  uint64_t deadline_ns;
  cw__sym_module_t *modules;
  char err[1024];
};

uint64_t cw__symbolizer_now_ns(void) { return cw__symsrc_now_ns(); }

cw__symbolizer_t *cw__symbolizer_new(unsigned flags) {
  cw__symbolizer_t *s = calloc(1, sizeof(*s));
  if (s != NULL)
    s->flags = flags;
  elf_version(EV_CURRENT);
  return s;
}

static void module_free(cw__sym_module_t *m) {
  free(m->key_path);
  free(m->open_err);
  free(m->path);
  free(m->debug_file);
  cw__symidx_free(m->ix);
  cw__buf_free(&m->warn);
  free(m);
}

void cw__symbolizer_free(cw__symbolizer_t *s) {
  if (s == NULL)
    return;
  for (cw__sym_module_t *m = s->modules; m != NULL;) {
    cw__sym_module_t *n = m->next;
    module_free(m);
    m = n;
  }
  for (size_t i = 0; i < s->ndirs; i++)
    free(s->dirs[i]);
  free(s->dirs);
  free(s);
}

int cw__symbolizer_add_debug_dir(cw__symbolizer_t *s, const char *dir) {
  if (s == NULL || dir == NULL || *dir == '\0')
    return CW_EINVAL;
  char **nd = realloc(s->dirs, (s->ndirs + 1) * sizeof(char *));
  if (nd == NULL)
    return CW_ENOMEM;
  s->dirs = nd;
  size_t len = strlen(dir);
  while (len > 1 && dir[len - 1] == '/')
    len--;
  s->dirs[s->ndirs] = strndup(dir, len);
  if (s->dirs[s->ndirs] == NULL)
    return CW_ENOMEM;
  s->ndirs++;
  return 0;
}

void cw__symbolizer_set_deadline(cw__symbolizer_t *s, uint64_t deadline_ns) {
  s->deadline_ns = deadline_ns;
}

const char *cw__symbolizer_last_error(const cw__symbolizer_t *s) {
  return s->err;
}

static int set_err(char *err, size_t len, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int set_err(char *err, size_t len, int rc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, len, fmt, ap);
  va_end(ap);
  return rc;
}

static void id_text(const uint8_t *id, size_t n, char *out, size_t cap) {
  char hex[2 * MAX_BUILD_ID + 1];
  cw__hex_encode(id, n > MAX_BUILD_ID ? MAX_BUILD_ID : n, hex);
  snprintf(out, cap, "%s", hex);
}

typedef struct {
  int fd;
  Elf *elf;
} elf_file_t;

static void elf_file_close(elf_file_t *f) {
  if (f->elf != NULL)
    elf_end(f->elf);
  if (f->fd >= 0)
    close(f->fd);
  f->elf = NULL;
  f->fd = -1;
}

/* Opens path as ELF; on failure the message names the file and problem. */
static int elf_file_open(const char *path, elf_file_t *f, char *err,
                         size_t errlen) {
  f->elf = NULL;
  const char *kind = NULL;
  f->fd = cw__open_regular(path, 0, &kind);
  if (f->fd == CW_REGFILE_NOT_REGULAR) {
    f->fd = -1;
    return set_err(err, errlen, CW_EINVAL, "%s: not a regular file (%s)", path,
                   kind);
  }
  if (f->fd < 0) {
    int e = errno;
    return set_err(err, errlen, e == ENOENT ? CW_ENOENT : CW_EIO, "%s: %s",
                   path, strerror(e));
  }
  f->elf = elf_begin(f->fd, ELF_C_READ_MMAP, NULL);
  GElf_Ehdr eh;
  if (f->elf == NULL || elf_kind(f->elf) != ELF_K_ELF) {
    elf_file_close(f);
    return set_err(err, errlen, CW_EFORMAT, "%s: not an ELF file", path);
  }
  if (gelf_getehdr(f->elf, &eh) == NULL) {
    int rc = set_err(err, errlen, CW_EFORMAT, "%s: corrupt ELF header: %s",
                     path, elf_errmsg(-1));
    elf_file_close(f);
    return rc;
  }
  size_t shnum;
  if (elf_getshdrnum(f->elf, &shnum) != 0) {
    int rc =
        set_err(err, errlen, CW_EFORMAT, "%s: corrupt ELF section headers: %s",
                path, elf_errmsg(-1));
    elf_file_close(f);
    return rc;
  }
  /* Headers past the end: libelf reads them lazily (or quietly sees no
   * sections) and would only fail later; say what is wrong now. */
  off_t size = lseek(f->fd, 0, SEEK_END);
  uint64_t sh_end =
      eh.e_shoff + (uint64_t)(shnum ? shnum : eh.e_shnum) * eh.e_shentsize;
  uint64_t ph_end = eh.e_phoff + (uint64_t)eh.e_phnum * eh.e_phentsize;
  const char *what = NULL;
  uint64_t end = 0;
  if (eh.e_shoff != 0 && sh_end > (uint64_t)size) {
    what = "section headers";
    end = sh_end;
  } else if (eh.e_phoff != 0 && ph_end > (uint64_t)size) {
    what = "program headers";
    end = ph_end;
  }
  if (what != NULL) {
    elf_file_close(f);
    return set_err(err, errlen, CW_ETRUNC,
                   "%s: truncated ELF: %s end at %llu, file has %lld bytes",
                   path, what, (unsigned long long)end, (long long)size);
  }
  /* Likewise sections whose contents lie past the end of the file. */
  Elf_Scn *scn = NULL;
  while ((scn = elf_nextscn(f->elf, scn)) != NULL) {
    GElf_Shdr sh;
    if (gelf_getshdr(scn, &sh) == NULL)
      continue;
    if (sh.sh_type != SHT_NOBITS &&
        sh.sh_offset + sh.sh_size > (uint64_t)size) {
      size_t shstrndx;
      const char *nm = NULL;
      if (elf_getshdrstrndx(f->elf, &shstrndx) == 0)
        nm = elf_strptr(f->elf, shstrndx, sh.sh_name);
      for (const char *c = nm; c != NULL && *c != '\0'; c++)
        if (*c < 0x20 || *c > 0x7e)
          nm = NULL; /* a corrupt name is not printed */
      int rc = set_err(err, errlen, CW_ETRUNC,
                       "%s: truncated ELF: section %s ends at %llu, file "
                       "has %lld bytes",
                       path, nm ? nm : "?",
                       (unsigned long long)(sh.sh_offset + sh.sh_size),
                       (long long)size);
      elf_file_close(f);
      return rc;
    }
  }
  return 0;
}

static int is_sym_file(const char *path) {
  int fd = cw__open_regular(path, 0, NULL);
  if (fd < 0)
    return 0;
  char buf[7];
  ssize_t r = read(fd, buf, sizeof(buf));
  close(fd);
  return r == 7 && memcmp(buf, "MODULE ", 7) == 0;
}

static const char *base_name(const char *p) {
  const char *s = strrchr(p, '/');
  return s ? s + 1 : p;
}

static int load_breakpad(cw__sym_module_t *m, const char *sym, uint64_t bias,
                         const uint8_t *id, size_t n, char *err,
                         size_t errlen) {
  bpsym_module_t mod;
  int rc = cw__bpsym_load(m->ix, sym, bias, &mod, err, errlen);
  if (rc != 0)
    return rc;
  if (n > 0) {
    char bpid[34];
    cw__breakpad_id_from_build_id(id, n, bpid);
    if (strcasecmp(bpid, mod.id) != 0)
      return set_err(err, errlen, CW_EBUILDID,
                     "%s: MODULE id %s does not match module's %s", sym, mod.id,
                     bpid);
  }
  m->debug_file = strdup(sym);
  m->source = "breakpad";
  return 0;
}

static int module_load(cw__symbolizer_t *s, cw__sym_module_t *m,
                       const char *path, const uint8_t *id, size_t n, char *err,
                       size_t errlen) {
  dbg_search_t search = {s->dirs, s->ndirs, !(s->flags & CW_SYM_NO_SYSTEM_DIRS),
                         !(s->flags & CW_SYM_NO_DEBUGINFOD)};
  elf_file_t pe = {-1, NULL}, de = {-1, NULL};
  char *bin_found = NULL, *found = NULL, *bp_found = NULL;
  int rc = 0;
  m->ix = cw__symidx_new();
  m->source = "none";
  if (m->ix == NULL)
    return set_err(err, errlen, CW_ENOMEM, "out of memory");
  if (n > 0) {
    memcpy(m->build_id, id, n);
    m->build_id_len = n;
  }

  if (path == NULL) {
    if (n == 0)
      return set_err(err, errlen, CW_EINVAL,
                     "need a module path or a build-id");
    if (cw__dbg_find_binary(&search, id, n, &bin_found, &m->warn) != 0) {
      char hex[2 * MAX_BUILD_ID + 1];
      id_text(id, n, hex, sizeof(hex));
      return set_err(err, errlen, CW_ENOENT,
                     "no file with build-id %s in the debug directories%s", hex,
                     s->ndirs == 0 ? " (none given: use --debug-dir)" : "");
    }
    path = bin_found;
  }
  m->path = strdup(path);
  /* Breakpad stores are keyed by the module's own file name. */
  char *bp_name = strdup(base_name(path));

  if (is_sym_file(path)) {
    rc = load_breakpad(m, path, 0, id, n, err, errlen);
    goto out;
  }
  rc = elf_file_open(path, &pe, err, errlen);
  if (rc == CW_ENOENT && n > 0) {
    /* The module is not on this machine (a dump from elsewhere): a copy may
     * be in the debug dirs by build-id, or at least its debug file. */
    cw__buf_printf(&m->warn, "%s\n", err);
    err[0] = '\0';
    rc = 0;
    if (bin_found == NULL &&
        cw__dbg_find_binary(&search, id, n, &bin_found, &m->warn) == 0 &&
        elf_file_open(bin_found, &pe, err, errlen) == 0) {
      free(m->path);
      m->path = strdup(bin_found);
      path = bin_found;
    }
    err[0] = '\0';
  } else if (rc != 0) {
    goto out;
  }
  if (pe.elf != NULL) {
    uint8_t fid[MAX_BUILD_ID];
    int flen = (int)cw__elf_build_id(pe.elf, fid, sizeof(fid));
    if (n > 0 && (flen != (int)n || memcmp(fid, id, n) != 0)) {
      char want[2 * MAX_BUILD_ID + 1], have[2 * MAX_BUILD_ID + 1];
      id_text(id, n, want, sizeof(want));
      if (flen <= 0)
        rc = set_err(err, errlen, CW_EBUILDID,
                     "%s: has no build-id; module's is %s", path, want);
      else {
        id_text(fid, (size_t)flen, have, sizeof(have));
        rc = set_err(err, errlen, CW_EBUILDID,
                     "%s: build-id %s does not match module's %s", path, have,
                     want);
      }
      goto out;
    }
    if (n == 0 && flen > 0) {
      n = (size_t)flen;
      memcpy(m->build_id, fid, n);
      m->build_id_len = n;
      id = m->build_id;
    }
    m->load_vaddr = cw__symsrc_elf_load_vaddr(pe.elf);
  }

  /* DWARF: the file itself, then separate debug files. */
  const char *dwarf_path = NULL;
  if (pe.elf != NULL && cw__symsrc_elf_has_dwarf(pe.elf))
    dwarf_path = path;
  if (dwarf_path == NULL && n > 0 &&
      cw__dbg_find_by_build_id(&search, id, n, &found, &m->warn) == 0)
    dwarf_path = found;
  if (dwarf_path == NULL && pe.elf != NULL) {
    char link[256];
    uint32_t crc;
    if (cw__symsrc_elf_debuglink(pe.elf, link, sizeof(link), &crc) == 0 &&
        cw__dbg_find_by_debuglink(&search, path, link, crc, id, n, &found,
                                  &m->warn) == 0)
      dwarf_path = found;
  }
  if (dwarf_path == NULL && n > 0 &&
      cw__dbg_find_debuginfod(&search, id, n, &found, &m->warn) == 0)
    dwarf_path = found;

  if (dwarf_path != NULL) {
    Elf *delf = pe.elf;
    if (dwarf_path != path) {
      rc = elf_file_open(dwarf_path, &de, err, errlen);
      if (rc != 0) {
        cw__buf_printf(&m->warn, "%s\n", err);
        err[0] = '\0';
        rc = 0;
        dwarf_path = NULL;
      }
      delf = de.elf;
      if (delf != NULL && m->load_vaddr == 0 && pe.elf == NULL)
        m->load_vaddr = cw__symsrc_elf_load_vaddr(delf);
    }
    if (dwarf_path != NULL) {
      uint64_t min_addr = cw__symsrc_elf_min_exec_addr(delf);
      rc = cw__symsrc_dwarf(m->ix, delf, dwarf_path, min_addr, s->deadline_ns,
                            err, errlen);
      if (rc == CW_ETIMEDOUT || rc == CW_ENOMEM)
        goto out;
      if (rc != 0) {
        /* Keep what was indexed before the damage, and say so. */
        cw__buf_printf(&m->warn, "%s\n", err);
        err[0] = '\0';
        rc = 0;
      }
      int added = cw__symsrc_elf_symbols(m->ix, delf, dwarf_path, err, errlen);
      if (added == 0 && pe.elf != NULL && delf != pe.elf)
        added = cw__symsrc_elf_symbols(m->ix, pe.elf, path, err, errlen);
      if (added < 0) {
        rc = added;
        goto out;
      }
      m->debug_file = strdup(cw__symidx_has_lines(m->ix) ? dwarf_path : path);
      /* DWARF too damaged to give anything leaves the symbol tables. */
      m->source = cw__symidx_has_lines(m->ix) ? "dwarf"
                  : added > 0                 ? "symtab"
                                              : "none";
      goto out;
    }
  }

  /* No DWARF: a Breakpad symbol file, then the ELF symbol tables. */
  if (n > 0 && cw__dbg_find_breakpad(&search, bp_name ? bp_name : "", id, n,
                                     &bp_found, &m->warn) == 0) {
    rc = load_breakpad(m, bp_found, m->load_vaddr, id, n, err, errlen);
    if (rc == 0 || rc == CW_ENOMEM)
      goto out;
    cw__buf_printf(&m->warn, "%s\n", err);
    err[0] = '\0';
    cw__symidx_free(m->ix);
    m->ix = cw__symidx_new();
    if (m->ix == NULL) {
      rc = set_err(err, errlen, CW_ENOMEM, "out of memory");
      goto out;
    }
    rc = 0;
  }
  if (pe.elf != NULL) {
    int added = cw__symsrc_elf_symbols(m->ix, pe.elf, path, err, errlen);
    if (added < 0) {
      rc = added;
      goto out;
    }
    if (added > 0) {
      m->debug_file = strdup(path);
      m->source = "symtab";
      goto out;
    }
  }
  rc = set_err(err, errlen, CW_ENOSYMBOL,
               "%s: no debug info or symbols found (no DWARF, no "
               "separate debug file by build-id or debuglink, no symbol "
               "table)",
               path);
out:
  elf_file_close(&pe);
  elf_file_close(&de);
  free(bin_found);
  free(found);
  free(bp_found);
  free(bp_name);
  return rc;
}

int cw__symbolizer_open(cw__symbolizer_t *s, const char *path,
                        const uint8_t *build_id, size_t build_id_len,
                        cw__sym_module_t **out) {
  *out = NULL;
  s->err[0] = '\0';
  if (build_id_len > MAX_BUILD_ID || (build_id == NULL && build_id_len > 0))
    return set_err(s->err, sizeof(s->err), CW_EINVAL,
                   "build-id longer than %d bytes", MAX_BUILD_ID);
  for (cw__sym_module_t *m = s->modules; m != NULL; m = m->next) {
    if (m->key_idlen != build_id_len ||
        memcmp(m->key_id, build_id ? build_id : (const uint8_t *)"",
               build_id_len) != 0)
      continue;
    if ((path == NULL) != (m->key_path == NULL) ||
        (path != NULL && strcmp(path, m->key_path) != 0))
      continue;
    snprintf(s->err, sizeof(s->err), "%s", m->open_err ? m->open_err : "");
    if (m->open_rc == 0 || m->open_rc == CW_ENOSYMBOL)
      *out = m;
    return m->open_rc;
  }
  if (s->deadline_ns != 0 && cw__symsrc_now_ns() > s->deadline_ns)
    return set_err(s->err, sizeof(s->err), CW_ETIMEDOUT,
                   "%s: time budget ran out before reading it",
                   path ? path : "module");
  cw__sym_module_t *m = calloc(1, sizeof(*m));
  if (m == NULL)
    return set_err(s->err, sizeof(s->err), CW_ENOMEM, "out of memory");
  int rc =
      module_load(s, m, path, build_id, build_id_len, s->err, sizeof(s->err));
  if (rc == 0)
    rc = cw__symidx_finish(m->ix);
  if (rc == CW_ETIMEDOUT || rc == CW_ENOMEM) {
    if (rc == CW_ENOMEM)
      snprintf(s->err, sizeof(s->err), "%s: out of memory",
               path ? path : "module");
    module_free(m);
    return rc;
  }
  if (rc == CW_ENOSYMBOL && cw__symidx_finish(m->ix) != 0) {
    module_free(m);
    return set_err(s->err, sizeof(s->err), CW_ENOMEM, "out of memory");
  }
  m->open_rc = rc;
  m->open_err = s->err[0] ? strdup(s->err) : NULL;
  m->key_path = path ? strdup(path) : NULL;
  m->key_idlen = build_id_len;
  if (build_id_len > 0)
    memcpy(m->key_id, build_id, build_id_len);
  m->next = s->modules;
  s->modules = m;
  if (rc == 0 || rc == CW_ENOSYMBOL)
    *out = m;
  return rc;
}

int cw__symbolizer_open_image(cw__symbolizer_t *s, const char *name,
                              const void *image, size_t size,
                              const uint8_t *build_id, size_t build_id_len,
                              cw__sym_module_t **out) {
  *out = NULL;
  s->err[0] = '\0';
  if (name == NULL || image == NULL || size == 0 || size > CW_SYM_IMAGE_MAX ||
      build_id_len > MAX_BUILD_ID || (build_id == NULL && build_id_len > 0))
    return set_err(s->err, sizeof(s->err), CW_EINVAL,
                   "%s: no image, or one over %u bytes", name ? name : "image",
                   CW_SYM_IMAGE_MAX);
  /* libelf may write to a memory image it converts: give it a copy. */
  char *copy = malloc(size);
  cw__sym_module_t *m = calloc(1, sizeof(*m));
  if (m != NULL) {
    m->ix = cw__symidx_new();
    m->path = strdup(name);
  }
  if (copy == NULL || m == NULL || m->ix == NULL || m->path == NULL) {
    free(copy);
    if (m != NULL)
      module_free(m);
    return set_err(s->err, sizeof(s->err), CW_ENOMEM, "out of memory");
  }
  memcpy(copy, image, size);
  m->source = "none";
  m->preceding = 1;
  int rc = 0;
  Elf *elf = elf_memory(copy, size);
  GElf_Ehdr eh;
  if (elf == NULL || elf_kind(elf) != ELF_K_ELF ||
      gelf_getclass(elf) != ELFCLASS64 || gelf_getehdr(elf, &eh) == NULL) {
    rc = set_err(s->err, sizeof(s->err), CW_EFORMAT,
                 "%s: the image is not a 64-bit ELF file", name);
    goto out;
  }
  uint8_t fid[MAX_BUILD_ID];
  int flen = (int)cw__elf_build_id(elf, fid, sizeof(fid));
  if (build_id_len > 0 &&
      (flen != (int)build_id_len || memcmp(fid, build_id, build_id_len) != 0)) {
    char want[2 * MAX_BUILD_ID + 1];
    id_text(build_id, build_id_len, want, sizeof(want));
    rc = set_err(s->err, sizeof(s->err), CW_EBUILDID,
                 "%s: the image's build-id does not match module's %s", name,
                 want);
    goto out;
  }
  if (flen > 0) {
    memcpy(m->build_id, fid, (size_t)flen);
    m->build_id_len = (size_t)flen;
  }
  m->load_vaddr = cw__symsrc_elf_load_vaddr(elf);
  Elf_Scn *scn = NULL;
  while ((scn = elf_nextscn(elf, scn)) != NULL &&
         m->nexec < MAX_EXEC_SECTIONS) {
    GElf_Shdr sh;
    if (gelf_getshdr(scn, &sh) == NULL || sh.sh_type == SHT_NOBITS ||
        (sh.sh_flags & (SHF_ALLOC | SHF_EXECINSTR)) !=
            (SHF_ALLOC | SHF_EXECINSTR) ||
        sh.sh_size == 0 || sh.sh_addr + sh.sh_size < sh.sh_addr)
      continue;
    m->exec_lo[m->nexec] = sh.sh_addr;
    m->exec_hi[m->nexec++] = sh.sh_addr + sh.sh_size;
  }
  /* The tables the watchdog names the image from, in its order
   * (elf/include/cw_elf.h): the image's .symtab, else the .symtab of a debug
   * file by build-id (a kernel's debug package may ship the vDSO's, naming its
   * internal helpers), else the image's .dynsym. The watchdog looks in
   * /usr/lib/debug only; here the --debug-dir roots come first. */
  int added = cw__symsrc_elf_table(m->ix, elf, SHT_SYMTAB, name, s->err,
                                   sizeof(s->err));
  if (added == 0 && flen > 0) {
    dbg_search_t search = {s->dirs, s->ndirs,
                           !(s->flags & CW_SYM_NO_SYSTEM_DIRS), 0};
    char *found = NULL;
    elf_file_t de = {-1, NULL};
    char derr[256];
    if (cw__dbg_find_by_build_id(&search, fid, (size_t)flen, &found,
                                 &m->warn) == 0 &&
        elf_file_open(found, &de, derr, sizeof(derr)) == 0) {
      added = cw__symsrc_elf_table(m->ix, de.elf, SHT_SYMTAB, found, s->err,
                                   sizeof(s->err));
      if (added > 0)
        m->debug_file = strdup(found);
    }
    elf_file_close(&de);
    free(found);
  }
  if (added == 0)
    added = cw__symsrc_elf_table(m->ix, elf, SHT_DYNSYM, name, s->err,
                                 sizeof(s->err));
  if (added < 0) {
    rc = added;
    goto out;
  }
  if (added > 0) {
    m->source = "symtab";
  } else {
    rc = set_err(s->err, sizeof(s->err), CW_ENOSYMBOL,
                 "%s: the image has no function symbols", name);
  }
out:
  if (elf != NULL)
    elf_end(elf);
  free(copy);
  if ((rc == 0 || rc == CW_ENOSYMBOL) && cw__symidx_finish(m->ix) != 0)
    rc = set_err(s->err, sizeof(s->err), CW_ENOMEM, "out of memory");
  if (rc != 0 && rc != CW_ENOSYMBOL) {
    module_free(m);
    return rc;
  }
  m->open_rc = rc;
  m->open_err = s->err[0] ? strdup(s->err) : NULL;
  /* Listed for ownership only: a key no cw__symbolizer_open() matches. */
  m->key_path = NULL;
  m->key_idlen = SIZE_MAX;
  m->next = s->modules;
  s->modules = m;
  *out = m;
  return rc;
}

/* The nearest preceding function of addr's executable section, for a
 * module opened from an image; 1 frame or 0. */
static size_t lookup_preceding(const cw__sym_module_t *m, uint64_t addr,
                               symidx_frame_t *out) {
  for (size_t i = 0; i < m->nexec; i++) {
    if (addr < m->exec_lo[i] || addr >= m->exec_hi[i])
      continue;
    const symidx_sym_t *sym = cw__symidx_sym_before(m->ix, addr, m->exec_lo[i]);
    if (sym == NULL)
      return 0;
    memset(out, 0, sizeof(*out));
    out->function = out->symbol = sym->name;
    return 1;
  }
  return 0;
}

int cw__sym_lookup(cw__sym_module_t *m, uint64_t addr, unsigned flags,
                   cw__sym_frame_t *frames, size_t cap) {
  if (m == NULL || (frames == NULL && cap > 0))
    return CW_EINVAL;
  if (cap == 0)
    return 0;
  if ((flags & CW_SYM_RETURN_ADDRESS) && addr > 0)
    addr--;
  symidx_frame_t tmp[MAX_CHAIN];
  size_t n = cw__symidx_lookup(m->ix, addr, tmp, MAX_CHAIN);
  if (n == 0 && m->preceding)
    n = lookup_preceding(m, addr, tmp);
  if (n > cap) {
    tmp[cap - 1].symbol = tmp[n - 1].symbol;
    n = cap;
  }
  for (size_t i = 0; i < n; i++) {
    frames[i].function = tmp[i].function;
    frames[i].file = tmp[i].file;
    frames[i].symbol = tmp[i].symbol;
    frames[i].line = tmp[i].line;
    frames[i].column = tmp[i].column;
    frames[i].discriminator = tmp[i].discriminator;
    frames[i].inlined = i + 1 < n;
  }
  return (int)n;
}

uint64_t cw__sym_module_vaddr(const cw__sym_module_t *m, uint64_t offset) {
  return offset + m->load_vaddr;
}

const char *cw__sym_module_source(const cw__sym_module_t *m) {
  return m->source ? m->source : "none";
}

const char *cw__sym_module_debug_file(const cw__sym_module_t *m) {
  return m->debug_file;
}

const char *cw__sym_module_path(const cw__sym_module_t *m) { return m->path; }

const char *cw__sym_module_warnings(const cw__sym_module_t *m) {
  const char *w = cw__buf_cstr((cw__buf_t *)&m->warn);
  return w ? w : "";
}

size_t cw__sym_module_build_id(const cw__sym_module_t *m, const uint8_t **id) {
  *id = m->build_id;
  return m->build_id_len;
}
