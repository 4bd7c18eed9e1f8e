/*
 * lineprog.c — a decoder of DWARF 2-5 line number programs (.debug_line)
 * straight into the symbol index's rows.
 *
 * libdw can decode them too, but keeps every decoded table (about 100 bytes
 * a row) until dwarf_end(); decoding here writes 24-byte rows and nothing
 * else, which halves the symbolizer's peak memory on big programs. File
 * paths are built as LLVM and libdw build them: an absolute name stays, a
 * relative one is joined to its directory, and a relative directory to the
 * unit's DW_AT_comp_dir.
 *
 * Every read is bounds-checked; a malformed program stops with a message
 * saying what and at which offset of .debug_line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crashwatch.h"
#include "symsrc.h"

typedef struct {
  const uint8_t *p, *end;
  int bad;
} rd_t;

static uint64_t rd_u(rd_t *r, size_t n) {
  if (r->bad || (size_t)(r->end - r->p) < n) {
    r->bad = 1;
    return 0;
  }
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++)
    v |= (uint64_t)r->p[i] << (8 * i); /* x86-64 reads its own DWARF */
  r->p += n;
  return v;
}

static uint64_t rd_uleb(rd_t *r) {
  uint64_t v = 0;
  for (int shift = 0;; shift += 7) {
    if (r->bad || r->p >= r->end) {
      r->bad = 1;
      return 0;
    }
    uint8_t b = *r->p++;
    if (shift < 64)
      v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80))
      return v;
  }
}

static int64_t rd_sleb(rd_t *r) {
  uint64_t v = 0;
  int shift = 0;
  uint8_t b;
  do {
    if (r->bad || r->p >= r->end) {
      r->bad = 1;
      return 0;
    }
    b = *r->p++;
    if (shift < 64)
      v |= (uint64_t)(b & 0x7f) << shift;
    shift += 7;
  } while (b & 0x80);
  if (shift < 64 && (b & 0x40))
    v |= ~(uint64_t)0 << shift;
  return (int64_t)v;
}

static const char *rd_str(rd_t *r) {
  if (r->bad)
    return NULL;
  const uint8_t *z = memchr(r->p, 0, (size_t)(r->end - r->p));
  if (z == NULL) {
    r->bad = 1;
    return NULL;
  }
  const char *s = (const char *)r->p;
  r->p = z + 1;
  return s;
}

static const char *str_at(const symsrc_sections_t *sec, int line_str,
                          uint64_t off) {
  const uint8_t *d = line_str ? sec->line_str : sec->str;
  size_t n = line_str ? sec->line_str_len : sec->str_len;
  if (d == NULL || off >= n || memchr(d + off, 0, n - off) == NULL)
    return NULL;
  return (const char *)d + off;
}

/* Reads one attribute value of a DWARF 5 entry format. Strings come back in
 * *s, numbers in *v. 0, or -1 for a form this decoder does not know. */
static int rd_form(rd_t *r, const symsrc_sections_t *sec, uint64_t form,
                   int off8, const char **s, uint64_t *v) {
  *s = NULL;
  *v = 0;
  switch (form) {
  case 0x08: /* DW_FORM_string */
    *s = rd_str(r);
    return 0;
  case 0x1f: /* DW_FORM_line_strp */
  case 0x0e: /* DW_FORM_strp */
    *s = str_at(sec, form == 0x1f, rd_u(r, off8 ? 8 : 4));
    return 0;
  case 0x0f: /* DW_FORM_udata */
    *v = rd_uleb(r);
    return 0;
  case 0x0b: /* DW_FORM_data1 */
    *v = rd_u(r, 1);
    return 0;
  case 0x05: /* DW_FORM_data2 */
    *v = rd_u(r, 2);
    return 0;
  case 0x06: /* DW_FORM_data4 */
    *v = rd_u(r, 4);
    return 0;
  case 0x07: /* DW_FORM_data8 */
    *v = rd_u(r, 8);
    return 0;
  case 0x1e: /* DW_FORM_data16 */
    rd_u(r, 8);
    rd_u(r, 8);
    return 0;
  case 0x09: { /* DW_FORM_block */
    uint64_t n = rd_uleb(r);
    if (n > (uint64_t)(r->end - r->p))
      r->bad = 1;
    else
      r->p += n;
    return 0;
  }
  default:
    return -1;
  }
}

typedef struct {
  const char **dirs;
  size_t ndirs;
} dirs_t;

/* Joins dir and name as LLVM does, interning the result. */
static const char *join_path(symidx_t *ix, const char *comp_dir,
                             const char *dir, const char *name) {
  if (name == NULL)
    return NULL;
  char buf[4096];
  int n;
  if (name[0] == '/' || dir == NULL || dir[0] == '\0')
    n = snprintf(buf, sizeof(buf), "%s", name);
  else if (dir[0] == '/' || comp_dir == NULL || comp_dir[0] == '\0')
    n = snprintf(buf, sizeof(buf), "%s/%s", dir, name);
  else
    n = snprintf(buf, sizeof(buf), "%s/%s/%s", comp_dir, dir, name);
  if (n < 0)
    return NULL;
  if ((size_t)n >= sizeof(buf))
    n = sizeof(buf) - 1;
  return cw__symidx_intern(ix, buf, (size_t)n);
}

static int fail(char *why, size_t len, uint64_t off, const char *what) {
  snprintf(why, len, ".debug_line offset 0x%llx: %s", (unsigned long long)off,
           what);
  return CW_EFORMAT;
}

/* Reads the v5 entry formats and entries; for directories (is_dir) only the
 * path, for files the path and directory index. */
static int rd_entries(rd_t *r, const symsrc_sections_t *sec, int off8,
                      symidx_t *ix, const char *comp_dir, const dirs_t *dirs,
                      const char ***out, size_t *nout, int is_dir) {
  uint8_t nfmt = (uint8_t)rd_u(r, 1);
  uint64_t fmt[2 * 16];
  if (nfmt > 16)
    return -1;
  for (int i = 0; i < nfmt; i++) {
    fmt[2 * i] = rd_uleb(r);
    fmt[2 * i + 1] = rd_uleb(r);
  }
  uint64_t count = rd_uleb(r);
  if (r->bad || count > (uint64_t)(r->end - r->p))
    return -1;
  const char **arr = calloc(count ? count : 1, sizeof(char *));
  if (arr == NULL)
    return CW_ENOMEM;
  for (uint64_t k = 0; k < count; k++) {
    const char *path = NULL;
    uint64_t dir = 0;
    for (int i = 0; i < nfmt; i++) {
      const char *s;
      uint64_t v;
      if (rd_form(r, sec, fmt[2 * i + 1], off8, &s, &v) != 0) {
        free(arr);
        return -1;
      }
      if (fmt[2 * i] == 1) /* DW_LNCT_path */
        path = s;
      else if (fmt[2 * i] == 2) /* DW_LNCT_directory_index */
        dir = v;
    }
    if (r->bad) {
      free(arr);
      return -1;
    }
    if (is_dir)
      arr[k] = path; /* joined with comp_dir when files are resolved */
    else
      arr[k] = join_path(ix, comp_dir,
                         dir < dirs->ndirs ? dirs->dirs[dir] : NULL, path);
  }
  *out = arr;
  *nout = count;
  return 0;
}

int cw__symsrc_line_program(symidx_t *ix, const symsrc_sections_t *sec,
                            uint64_t off, const char *comp_dir,
                            uint64_t min_addr, const char ***files_out,
                            size_t *nfiles_out, char *why, size_t whylen) {
  *files_out = NULL;
  *nfiles_out = 0;
  if (sec->line == NULL || off >= sec->line_len)
    return fail(why, whylen, off, "offset outside the section");
  rd_t r = {sec->line + off, sec->line + sec->line_len, 0};
  uint64_t unit_len = rd_u(&r, 4);
  int off8 = 0;
  if (unit_len == 0xffffffffu) {
    unit_len = rd_u(&r, 8);
    off8 = 1;
  }
  if (r.bad || unit_len > (uint64_t)(r.end - r.p))
    return fail(why, whylen, off, "unit length past the end of the section");
  r.end = r.p + unit_len;
  uint16_t version = (uint16_t)rd_u(&r, 2);
  if (version < 2 || version > 5)
    return fail(why, whylen, off, "unsupported line table version");
  uint8_t addr_size = 8;
  if (version >= 5) {
    addr_size = (uint8_t)rd_u(&r, 1);
    rd_u(&r, 1); /* segment selector size */
  }
  uint64_t hdr_len = rd_u(&r, off8 ? 8 : 4);
  if (r.bad || hdr_len > (uint64_t)(r.end - r.p))
    return fail(why, whylen, off, "header length past the end of the unit");
  const uint8_t *prog = r.p + hdr_len;
  uint8_t min_inst = (uint8_t)rd_u(&r, 1);
  if (version >= 4)
    rd_u(&r, 1); /* maximum_operations_per_instruction (VLIW only) */
  int default_is_stmt = (int)rd_u(&r, 1);
  (void)default_is_stmt;
  int8_t line_base = (int8_t)rd_u(&r, 1);
  uint8_t line_range = (uint8_t)rd_u(&r, 1);
  uint8_t opcode_base = (uint8_t)rd_u(&r, 1);
  if (r.bad || line_range == 0 || opcode_base == 0)
    return fail(why, whylen, off, "bad line_range or opcode_base");
  uint8_t std_len[256] = {0};
  for (int i = 1; i < opcode_base; i++)
    std_len[i] = (uint8_t)rd_u(&r, 1);

  const char **files = NULL;
  size_t nfiles = 0;
  dirs_t dirs = {NULL, 0};
  int rc = 0;
  if (version >= 5) {
    const char **d = NULL;
    size_t nd = 0;
    rc = rd_entries(&r, sec, off8, ix, comp_dir, NULL, &d, &nd, 1);
    if (rc == 0) {
      dirs.dirs = d;
      dirs.ndirs = nd;
      rc = rd_entries(&r, sec, off8, ix, comp_dir, &dirs, &files, &nfiles, 0);
    }
  } else {
    /* Directory 0 is the compilation directory; files count from 1. */
    size_t cap = 16;
    dirs.dirs = malloc(cap * sizeof(char *));
    if (dirs.dirs == NULL)
      return CW_ENOMEM;
    dirs.dirs[dirs.ndirs++] = comp_dir;
    for (;;) {
      const char *s = rd_str(&r);
      if (s == NULL || *s == '\0')
        break;
      if (dirs.ndirs == cap) {
        cap *= 2;
        const char **nd = realloc(dirs.dirs, cap * sizeof(char *));
        if (nd == NULL) {
          free(dirs.dirs);
          return CW_ENOMEM;
        }
        dirs.dirs = nd;
      }
      dirs.dirs[dirs.ndirs++] = s;
    }
    cap = 16;
    files = calloc(cap, sizeof(char *));
    if (files == NULL) {
      free(dirs.dirs);
      return CW_ENOMEM;
    }
    nfiles = 1;
    for (;;) {
      const char *s = rd_str(&r);
      if (s == NULL || *s == '\0')
        break;
      uint64_t d = rd_uleb(&r);
      rd_uleb(&r); /* mtime */
      rd_uleb(&r); /* length */
      if (nfiles == cap) {
        cap *= 2;
        const char **nf = realloc(files, cap * sizeof(char *));
        if (nf == NULL) {
          rc = CW_ENOMEM;
          break;
        }
        files = nf;
      }
      files[nfiles++] =
          join_path(ix, comp_dir, d < dirs.ndirs ? dirs.dirs[d] : NULL, s);
    }
  }
  free(dirs.dirs);
  if (rc == CW_ENOMEM) {
    free(files);
    return rc;
  }
  if (rc != 0 || r.bad) {
    free(files);
    return fail(why, whylen, off, "malformed directory or file table");
  }
  if (prog > r.end) {
    free(files);
    return fail(why, whylen, off, "program starts past the unit");
  }

  /* File ids of the index, per file register value, made on first use. */
  int32_t *ids = malloc((nfiles ? nfiles : 1) * sizeof(int32_t));
  if (ids == NULL) {
    free(files);
    return CW_ENOMEM;
  }
  for (size_t i = 0; i < nfiles; i++)
    ids[i] = -2;

  r.p = prog;
  uint64_t addr = 0, file = 1, line = 1, col = 0, discr = 0;
  int skipping = 0;
#define EMIT(is_end)                                                           \
  do {                                                                         \
    if (addr < min_addr) {                                                     \
      skipping = 1;                                                            \
    } else if (!(skipping && (is_end))) {                                      \
      int32_t fid = -1;                                                        \
      if (file < nfiles) {                                                     \
        if (ids[file] == -2)                                                   \
          ids[file] = files[file] ? cw__symidx_file(ix, files[file]) : -1;     \
        fid = ids[file];                                                       \
      }                                                                        \
      if (cw__symidx_add_row(ix, addr, fid,                                    \
                             line > UINT32_MAX ? UINT32_MAX : (uint32_t)line,  \
                             (uint32_t)col, (uint32_t)discr, (is_end)) != 0) { \
        rc = CW_ENOMEM;                                                        \
        goto done;                                                             \
      }                                                                        \
    }                                                                          \
    if (is_end)                                                                \
      skipping = 0;                                                            \
    discr = 0;                                                                 \
  } while (0)

  while (r.p < r.end && !r.bad) {
    uint8_t op = (uint8_t)rd_u(&r, 1);
    if (op >= opcode_base) {
      uint8_t adj = (uint8_t)(op - opcode_base);
      addr += (uint64_t)(adj / line_range) * min_inst;
      line += (uint64_t)(int64_t)(line_base + adj % line_range);
      EMIT(0);
      continue;
    }
    switch (op) {
    case 0: { /* extended */
      uint64_t len = rd_uleb(&r);
      if (r.bad || len == 0 || len > (uint64_t)(r.end - r.p)) {
        r.bad = 1;
        break;
      }
      const uint8_t *next = r.p + len;
      uint8_t sub = (uint8_t)rd_u(&r, 1);
      if (sub == 1) { /* DW_LNE_end_sequence */
        EMIT(1);
        addr = 0;
        file = 1;
        line = 1;
        col = 0;
      } else if (sub == 2) { /* DW_LNE_set_address */
        size_t n = (size_t)len - 1;
        addr = rd_u(&r, n > 8 ? 8 : n);
        (void)addr_size;
      } else if (sub == 4) { /* DW_LNE_set_discriminator */
        discr = rd_uleb(&r);
      }
      r.p = next;
      break;
    }
    case 1: /* DW_LNS_copy */
      EMIT(0);
      break;
    case 2: /* DW_LNS_advance_pc */
      addr += rd_uleb(&r) * min_inst;
      break;
    case 3: /* DW_LNS_advance_line */
      line += (uint64_t)rd_sleb(&r);
      break;
    case 4: /* DW_LNS_set_file */
      file = rd_uleb(&r);
      break;
    case 5: /* DW_LNS_set_column */
      col = rd_uleb(&r);
      break;
    case 8: /* DW_LNS_const_add_pc */
      addr += (uint64_t)((255 - opcode_base) / line_range) * min_inst;
      break;
    case 9: /* DW_LNS_fixed_advance_pc */
      addr += rd_u(&r, 2);
      break;
    case 12: /* DW_LNS_set_isa */
      rd_uleb(&r);
      break;
    case 6:  /* DW_LNS_negate_stmt */
    case 7:  /* DW_LNS_set_basic_block */
    case 10: /* DW_LNS_set_prologue_end */
    case 11: /* DW_LNS_set_epilogue_begin */
      break;
    default: /* an opcode of a later version: skip its operands */
      for (int i = 0; i < std_len[op]; i++)
        rd_uleb(&r);
      break;
    }
  }
#undef EMIT
  if (r.bad)
    rc = fail(why, whylen, off, "line program runs past the end of its unit");
done:
  free(ids);
  if (rc != 0 && rc != CW_EFORMAT) {
    free(files);
    return rc;
  }
  *files_out = files;
  *nfiles_out = nfiles;
  return rc;
}
