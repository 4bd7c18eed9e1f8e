/* debuginfo.c — locating separate debug information by build-id. */
#include "debuginfo.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "crashwatch.h"
#include "cw_elf.h"
#include "debug_id.h"
#include "regfile.h"
#include "symsrc.h"

#define SYSTEM_DEBUG_DIR CW_ELF_SYSTEM_DEBUG_DIR

static void hex_short(const uint8_t *id, size_t n, char out[24]) {
  char full[129];
  size_t k = n > 64 ? 64 : n;
  cw__hex_encode(id, k, full);
  if (2 * k > 16) {
    memcpy(out, full, 16);
    strcpy(out + 16, "...");
  } else {
    strcpy(out, full);
  }
}

int cw__dbg_check_build_id(const char *path, const uint8_t *id, size_t n,
                           cw__buf_t *warn) {
  const char *kind = NULL;
  int fd = cw__open_regular(path, 0, &kind);
  if (fd == CW_REGFILE_NOT_REGULAR) {
    if (warn != NULL)
      cw__buf_printf(warn, "%s: not a regular file (%s)\n", path, kind);
    return CW_EFORMAT;
  }
  if (fd < 0)
    return CW_ENOENT;
  elf_version(EV_CURRENT);
  Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
  if (elf == NULL || elf_kind(elf) != ELF_K_ELF) {
    if (warn != NULL)
      cw__buf_printf(warn, "%s: not an ELF file\n", path);
    elf_end(elf);
    close(fd);
    return CW_EFORMAT;
  }
  uint8_t got[64];
  int len = (int)cw__elf_build_id(elf, got, sizeof(got));
  elf_end(elf);
  close(fd);
  if (len > 0 && (size_t)len == n && memcmp(got, id, n) == 0)
    return 0;
  if (warn != NULL) {
    char want[24], have[24];
    hex_short(id, n, want);
    if (len > 0) {
      hex_short(got, (size_t)len, have);
      cw__buf_printf(warn, "%s: build-id %s does not match module's %s\n", path,
                     have, want);
    } else {
      cw__buf_printf(warn, "%s: has no build-id; module's is %s\n", path, want);
    }
  }
  return CW_EBUILDID;
}

/* The one build-id path rule (cw_elf.h), in a malloc'd string. */
static char *build_id_path(const char *root, const uint8_t *id, size_t n,
                           const char *suffix) {
  size_t cap = strlen(root) + strlen(suffix) + 2 * 64 + 16;
  char *p = malloc(cap);
  if (p != NULL && cw__elf_build_id_path(p, cap, root, id, n, suffix) != 0) {
    free(p);
    p = NULL;
  }
  return p;
}

static int try_candidate(char *path, const uint8_t *id, size_t n, char **found,
                         cw__buf_t *warn) {
  if (path == NULL)
    return CW_ENOMEM;
  if (access(path, R_OK) != 0) {
    free(path);
    return CW_ENOENT;
  }
  int rc = cw__dbg_check_build_id(path, id, n, warn);
  if (rc == 0) {
    *found = path;
    return 0;
  }
  free(path);
  return rc;
}

static int search_roots(const dbg_search_t *s, const uint8_t *id, size_t n,
                        const char *suffix, char **found, cw__buf_t *warn) {
  for (size_t i = 0; i < s->ndirs; i++)
    if (try_candidate(build_id_path(s->dirs[i], id, n, suffix), id, n, found,
                      warn) == 0)
      return 0;
  if (s->system_dirs &&
      try_candidate(build_id_path(SYSTEM_DEBUG_DIR, id, n, suffix), id, n,
                    found, warn) == 0)
    return 0;
  return CW_ENOENT;
}

int cw__dbg_find_by_build_id(const dbg_search_t *s, const uint8_t *id, size_t n,
                             char **found, cw__buf_t *warn) {
  return search_roots(s, id, n, ".debug", found, warn);
}

int cw__dbg_find_binary(const dbg_search_t *s, const uint8_t *id, size_t n,
                        char **found, cw__buf_t *warn) {
  if (search_roots(s, id, n, "", found, warn) == 0)
    return 0;
  return search_roots(s, id, n, ".debug", found, warn);
}

int cw__dbg_find_by_debuglink(const dbg_search_t *s, const char *module_path,
                              const char *link, uint32_t crc, const uint8_t *id,
                              size_t n, char **found, cw__buf_t *warn) {
  if (strchr(link, '/') != NULL) {
    if (warn != NULL)
      cw__buf_printf(warn, "%s: .gnu_debuglink '%s' names a path, ignored\n",
                     module_path, link);
    return CW_ENOENT;
  }
  char *dir = strdup(module_path);
  if (dir == NULL)
    return CW_ENOMEM;
  char *slash = strrchr(dir, '/');
  if (slash != NULL)
    *slash = '\0';
  else
    strcpy(dir, ".");
  char *absdir = realpath(dir, NULL);
  const char *d = absdir ? absdir : dir;
  size_t ncand = 3 + s->ndirs;
  char **cand = calloc(ncand, sizeof(char *));
  if (cand == NULL) {
    free(absdir);
    free(dir);
    return CW_ENOMEM;
  }
  size_t k = 0;
  if (asprintf(&cand[k], "%s/%s", d, link) >= 0)
    k++;
  if (asprintf(&cand[k], "%s/.debug/%s", d, link) >= 0)
    k++;
  for (size_t i = 0; i < s->ndirs; i++)
    if (asprintf(&cand[k], "%s/%s", s->dirs[i], link) >= 0)
      k++;
  if (s->system_dirs &&
      asprintf(&cand[k], SYSTEM_DEBUG_DIR "%s/%s", d, link) >= 0)
    k++;
  int rc = CW_ENOENT;
  char *self = realpath(module_path, NULL);
  for (size_t i = 0; i < k; i++) {
    if (rc == 0 || access(cand[i], R_OK) != 0)
      continue;
    char *real = realpath(cand[i], NULL);
    int is_self = real && self && strcmp(real, self) == 0;
    free(real);
    if (is_self)
      continue; /* the debuglink file name equals the module's own */
    uint32_t got;
    const char *kind = NULL;
    if (cw__path_not_regular(cand[i], &kind)) {
      if (warn != NULL)
        cw__buf_printf(warn, "%s: not a regular file (%s)\n", cand[i], kind);
      continue;
    }
    if (cw__symsrc_file_crc32(cand[i], &got) != 0)
      continue;
    if (got != crc) {
      if (warn != NULL)
        cw__buf_printf(warn,
                       "%s: CRC %08x does not match .gnu_debuglink's %08x\n",
                       cand[i], got, crc);
      continue;
    }
    if (n > 0 && cw__dbg_check_build_id(cand[i], id, n, warn) != 0)
      continue;
    *found = cand[i];
    cand[i] = NULL;
    rc = 0;
  }
  for (size_t i = 0; i < k; i++)
    free(cand[i]);
  free(cand);
  free(self);
  free(absdir);
  free(dir);
  return rc;
}

/*
 * libdebuginfod is loaded with dlopen() on first use, as libdw itself does:
 * linked directly it brings libcurl, gnutls, krb5, ldap... (~30 libraries)
 * into every program that links the symbolizer, whether or not it ever asks
 * a server. The three functions used are declared here (their ABI is that
 * of the soname below), so no elfutils/debuginfod.h is needed to build.
 */
#define DEBUGINFOD_SONAME "libdebuginfod.so.1"

typedef struct debuginfod_client debuginfod_client;

static struct {
  debuginfod_client *(*begin)(void);
  int (*find_debuginfo)(debuginfod_client *, const unsigned char *, int,
                        char **);
  void (*end)(debuginfod_client *);
  char error[256]; /* why it is unavailable, when begin is NULL */
} dfd;
static pthread_once_t dfd_once = PTHREAD_ONCE_INIT;

static void dfd_load(void) {
  /* Never closed: libcurl does not support being unloaded. */
  void *h = dlopen(DEBUGINFOD_SONAME, RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) {
    const char *e = dlerror();
    snprintf(dfd.error, sizeof(dfd.error), "%s",
             e != NULL ? e : "cannot load " DEBUGINFOD_SONAME);
    return;
  }
  /* POSIX allows converting dlsym's void * to a function pointer. */
  *(void **)&dfd.begin = dlsym(h, "debuginfod_begin");
  *(void **)&dfd.find_debuginfo = dlsym(h, "debuginfod_find_debuginfo");
  *(void **)&dfd.end = dlsym(h, "debuginfod_end");
  if (dfd.begin == NULL || dfd.find_debuginfo == NULL || dfd.end == NULL) {
    dfd.begin = NULL;
    snprintf(dfd.error, sizeof(dfd.error),
             "%s lacks debuginfod_begin, debuginfod_find_debuginfo or "
             "debuginfod_end",
             DEBUGINFOD_SONAME);
  }
}

int cw__dbg_find_debuginfod(const dbg_search_t *s, const uint8_t *id, size_t n,
                            char **found, cw__buf_t *warn) {
  const char *urls = getenv("DEBUGINFOD_URLS");
  if (!s->debuginfod || urls == NULL || *urls == '\0' || n == 0)
    return CW_ENOENT;
  char hex[24];
  hex_short(id, n, hex);
  pthread_once(&dfd_once, dfd_load);
  if (dfd.begin == NULL) {
    if (warn != NULL)
      cw__buf_printf(warn,
                     "debuginfod: DEBUGINFOD_URLS is set but lookups are "
                     "unavailable (%s); build-id %s not asked\n",
                     dfd.error, hex);
    return CW_ENOENT;
  }
  debuginfod_client *c = dfd.begin();
  if (c == NULL) {
    if (warn != NULL)
      cw__buf_printf(warn,
                     "debuginfod: debuginfod_begin failed; build-id %s "
                     "not asked\n",
                     hex);
    return CW_ENOENT;
  }
  char *path = NULL;
  int fd = dfd.find_debuginfo(c, id, (int)n, &path);
  dfd.end(c);
  if (fd < 0) {
    free(path);
    if (warn != NULL)
      cw__buf_printf(warn, "debuginfod: build-id %s: %s\n", hex, strerror(-fd));
    return CW_ENOENT;
  }
  close(fd);
  if (path == NULL)
    return CW_ENOENT;
  if (cw__dbg_check_build_id(path, id, n, warn) != 0) {
    free(path);
    return CW_ENOENT;
  }
  *found = path;
  return 0;
}

int cw__dbg_find_breakpad(const dbg_search_t *s, const char *name,
                          const uint8_t *id, size_t n, char **found,
                          cw__buf_t *warn) {
  if (n == 0 || name == NULL || *name == '\0' || strchr(name, '/') != NULL)
    return CW_ENOENT;
  char bpid[34];
  cw__breakpad_id_from_build_id(id, n, bpid);
  for (size_t i = 0; i < s->ndirs; i++) {
    char *p = NULL;
    if (asprintf(&p, "%s/%s/%s/%s.sym", s->dirs[i], name, bpid, name) < 0)
      return CW_ENOMEM;
    const char *kind = NULL;
    int fd = cw__open_regular(p, 0, &kind);
    if (fd == CW_REGFILE_NOT_REGULAR && warn != NULL)
      cw__buf_printf(warn, "%s: not a regular file (%s)\n", p, kind);
    FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
    if (f == NULL) {
      if (fd >= 0)
        close(fd);
      free(p);
      continue;
    }
    char line[512];
    char os[32], arch[32], mid[64];
    int ok = fgets(line, sizeof(line), f) != NULL &&
             sscanf(line, "MODULE %31s %31s %63s", os, arch, mid) == 3;
    fclose(f);
    if (ok && strcasecmp(mid, bpid) == 0) {
      *found = p;
      return 0;
    }
    if (warn != NULL)
      cw__buf_printf(warn, "%s: MODULE id %s does not match module's %s\n", p,
                     ok ? mid : "(none)", bpid);
    free(p);
  }
  return CW_ENOENT;
}
