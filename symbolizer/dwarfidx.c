/* dwarfidx.c — builds a symbol index from DWARF in one pass over every unit:
 * line tables (lineprog.c), subprograms and their inlined instances (libdw).
 * libdw is only used to decode; all lookups are answered from the index. */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crashwatch.h"
#include "symsrc.h"

#define MAX_DIE_DEPTH 200

typedef struct {
  symidx_t *ix;
  const char *path;
  uint64_t min_addr;
  uint64_t deadline_ns;
  unsigned long dies;
  const char **files; /* this unit's file table, interned */
  size_t nfiles;
  int rc;
  char *err;
  size_t errlen;
} walk_t;

static const char *die_name(walk_t *w, Dwarf_Die *die) {
  Dwarf_Attribute a;
  const char *s = NULL;
  if (dwarf_attr_integrate(die, DW_AT_linkage_name, &a) != NULL ||
      dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a) != NULL)
    s = dwarf_formstring(&a);
  if (s == NULL && dwarf_attr_integrate(die, DW_AT_name, &a) != NULL)
    s = dwarf_formstring(&a);
  if (s == NULL)
    return NULL;
  return cw__symidx_intern(w->ix, s, strlen(s));
}

static const char *unit_file(walk_t *w, Dwarf_Word idx) {
  if (w->files == NULL || idx >= w->nfiles)
    return NULL;
  return w->files[idx];
}

static uint32_t attr_u32(Dwarf_Die *die, int name) {
  Dwarf_Attribute a;
  Dwarf_Word v;
  if (dwarf_attr(die, name, &a) == NULL || dwarf_formudata(&a, &v) != 0)
    return 0;
  return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static void walk(walk_t *w, Dwarf_Die *parent, int32_t scope, uint32_t depth,
                 int level) {
  Dwarf_Die child;
  if (level > MAX_DIE_DEPTH || dwarf_child(parent, &child) != 0)
    return;
  do {
    if (w->rc != 0)
      return;
    if ((++w->dies & 0xffff) == 0 && w->deadline_ns != 0 &&
        cw__symsrc_now_ns() > w->deadline_ns) {
      snprintf(w->err, w->errlen, "%s: time budget ran out indexing DWARF",
               w->path);
      w->rc = CW_ETIMEDOUT;
      return;
    }
    int tag = dwarf_tag(&child);
    switch (tag) {
    case DW_TAG_subprogram:
    case DW_TAG_inlined_subroutine: {
      Dwarf_Addr base, lo, hi;
      ptrdiff_t off = 0;
      int32_t id = -1;
      int inl = tag == DW_TAG_inlined_subroutine && scope >= 0;
      uint32_t d = inl ? depth + 1 : 0;
      while ((off = dwarf_ranges(&child, off, &base, &lo, &hi)) > 0) {
        if (lo < w->min_addr || hi <= lo)
          continue;
        if (id < 0) {
          const char *call_file = NULL;
          uint32_t call_line = 0, call_col = 0, call_discr = 0;
          if (inl) {
            Dwarf_Attribute a;
            Dwarf_Word fi;
            if (dwarf_attr(&child, DW_AT_call_file, &a) != NULL &&
                dwarf_formudata(&a, &fi) == 0)
              call_file = unit_file(w, fi);
            call_line = attr_u32(&child, DW_AT_call_line);
            call_col = attr_u32(&child, DW_AT_call_column);
            call_discr = attr_u32(&child, 0x2136 /* DW_AT_GNU_discriminator */);
          }
          id =
              cw__symidx_add_scope(w->ix, die_name(w, &child), inl ? scope : -1,
                                   call_file, call_line, call_col, call_discr);
          if (id < 0) {
            w->rc = CW_ENOMEM;
            return;
          }
        }
        if (cw__symidx_add_range(w->ix, lo, hi, id, d) != 0) {
          w->rc = CW_ENOMEM;
          return;
        }
      }
      /* A function without code (declaration, abstract instance) holds no
       * inlined code either. */
      if (id >= 0)
        walk(w, &child, id, d, level + 1);
      break;
    }
    case DW_TAG_lexical_block:
    case DW_TAG_try_block:
    case DW_TAG_catch_block:
    case DW_TAG_namespace:
    case DW_TAG_module:
      walk(w, &child, scope, depth, level + 1);
      break;
    default:
      break;
    }
  } while (dwarf_siblingof(&child, &child) == 0);
}

static int index_lines(walk_t *w, Dwarf_Die *cudie) {
  Dwarf_Lines *lines;
  size_t n;
  if (dwarf_getsrclines(cudie, &lines, &n) != 0)
    return 0; /* a unit without a line table is legal */
  const char *last_src = NULL;
  int32_t last_id = -1;
  int skipping = 0;
  for (size_t i = 0; i < n; i++) {
    Dwarf_Line *l = dwarf_onesrcline(lines, i);
    Dwarf_Addr addr;
    int line = 0, col = 0;
    bool end = false;
    unsigned disc = 0;
    if (l == NULL || dwarf_lineaddr(l, &addr) != 0)
      continue;
    dwarf_lineendsequence(l, &end);
    /* Sequences of discarded code start below the module's text. */
    if (addr < w->min_addr) {
      skipping = 1;
      continue;
    }
    if (skipping && end) {
      skipping = 0;
      continue;
    }
    skipping = 0;
    dwarf_lineno(l, &line);
    dwarf_linecol(l, &col);
    dwarf_linediscriminator(l, &disc);
    const char *src = dwarf_linesrc(l, NULL, NULL);
    int32_t fid = -1;
    if (src != NULL) {
      if (src == last_src) {
        fid = last_id;
      } else {
        fid = cw__symidx_file(w->ix, src);
        if (fid < 0)
          return CW_ENOMEM;
        last_src = src;
        last_id = fid;
      }
    }
    if (cw__symidx_add_row(w->ix, addr, fid, line < 0 ? 0 : (uint32_t)line,
                           col < 0 ? 0 : (uint32_t)col, disc, end) != 0)
      return CW_ENOMEM;
  }
  return 0;
}

/* Interns a unit's file table with libdw (for DW_AT_call_file), when our
 * own decoder could not read the unit's line program. */
static int unit_files_libdw(walk_t *w, Dwarf_Die *cudie, const char ***out,
                            size_t *nout) {
  Dwarf_Files *files;
  size_t n;
  *out = NULL;
  *nout = 0;
  if (dwarf_getsrcfiles(cudie, &files, &n) != 0 || n == 0)
    return 0;
  const char **names = calloc(n, sizeof(char *));
  if (names == NULL)
    return CW_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    const char *s = dwarf_filesrc(files, i, NULL, NULL);
    if (s != NULL &&
        (names[i] = cw__symidx_intern(w->ix, s, strlen(s))) == NULL) {
      free(names);
      return CW_ENOMEM;
    }
  }
  *out = names;
  *nout = n;
  return 0;
}

static void section_data(Elf *elf, const char *name, const uint8_t **d,
                         size_t *n) {
  *d = NULL;
  *n = 0;
  size_t shstrndx;
  if (elf_getshdrstrndx(elf, &shstrndx) != 0)
    return;
  Elf_Scn *scn = NULL;
  while ((scn = elf_nextscn(elf, scn)) != NULL) {
    GElf_Shdr sh;
    if (gelf_getshdr(scn, &sh) == NULL || sh.sh_type == SHT_NOBITS)
      continue;
    const char *nm = elf_strptr(elf, shstrndx, sh.sh_name);
    if (nm == NULL || strcmp(nm, name) != 0)
      continue;
    /* dwarf_begin_elf() has already decompressed SHF_COMPRESSED ones. */
    Elf_Data *data = elf_getdata(scn, NULL);
    if (data != NULL && data->d_buf != NULL) {
      *d = data->d_buf;
      *n = data->d_size;
    }
    return;
  }
}

static int next_code_unit(Dwarf *dw, Dwarf_CU **cu, Dwarf_Die *cudie, int *r) {
  Dwarf_Die subdie;
  Dwarf_Half version;
  uint8_t unit_type;
  while ((*r = dwarf_get_units(dw, *cu, cu, &version, &unit_type, cudie,
                               &subdie)) == 0)
    if (unit_type == DW_UT_compile || unit_type == DW_UT_partial)
      return 1; /* type units hold no code; split units are not read */
  return 0;
}

static const char *attr_string(Dwarf_Die *die, int name) {
  Dwarf_Attribute a;
  if (dwarf_attr(die, name, &a) == NULL)
    return NULL;
  return dwarf_formstring(&a);
}

/*
 * One pass over the units: each unit's line program (decoded by
 * lineprog.c; libdw's decoder only as a fallback, as it keeps every table
 * until dwarf_end()), then its DIE tree. Damage in one unit is reported
 * (CW_EFORMAT, first problem in err) after indexing all the others.
 */
int cw__symsrc_dwarf(symidx_t *ix, Elf *elf, const char *path,
                     uint64_t min_addr, uint64_t deadline_ns, char *err,
                     size_t errlen) {
  walk_t w = {.ix = ix,
              .path = path,
              .min_addr = min_addr ? min_addr : 1,
              .deadline_ns = deadline_ns,
              .err = err,
              .errlen = errlen};
  /* libdw inflates every compressed debug section it opens, in full: a
   * zlib bomb must be refused before. */
  int crc = cw__symsrc_elf_check_inflate(elf, path, err, errlen);
  if (crc != 0)
    return crc;
  Dwarf *dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
  if (dw == NULL) {
    snprintf(err, errlen, "%s: cannot read DWARF: %s", path, dwarf_errmsg(-1));
    return CW_EFORMAT;
  }
  symsrc_sections_t sec;
  section_data(elf, ".debug_line", &sec.line, &sec.line_len);
  section_data(elf, ".debug_line_str", &sec.line_str, &sec.line_str_len);
  section_data(elf, ".debug_str", &sec.str, &sec.str_len);
  Dwarf_CU *cu = NULL;
  Dwarf_Die cudie;
  int units = 0, r = 0, damaged = 0;
  char why[256];
  while (w.rc == 0 && next_code_unit(dw, &cu, &cudie, &r)) {
    units++;
    {
      Dwarf_Addr base, lo, hi;
      ptrdiff_t off = 0;
      while ((off = dwarf_ranges(&cudie, off, &base, &lo, &hi)) > 0)
        if (lo >= w.min_addr && cw__symidx_add_cu_range(ix, lo, hi) != 0) {
          w.rc = CW_ENOMEM;
          break;
        }
      if (w.rc != 0)
        break;
    }
    if (deadline_ns != 0 && cw__symsrc_now_ns() > deadline_ns) {
      snprintf(err, errlen, "%s: time budget ran out indexing DWARF", path);
      w.rc = CW_ETIMEDOUT;
      break;
    }
    const char **files = NULL;
    size_t nfiles = 0;
    Dwarf_Attribute a;
    Dwarf_Word stmt;
    if (dwarf_attr(&cudie, DW_AT_stmt_list, &a) != NULL &&
        dwarf_formudata(&a, &stmt) == 0) {
      size_t before = cw__symidx_nrows(ix);
      int lrc = cw__symsrc_line_program(
          ix, &sec, stmt, attr_string(&cudie, DW_AT_comp_dir), w.min_addr,
          &files, &nfiles, why, sizeof(why));
      if (lrc == CW_ENOMEM) {
        w.rc = lrc;
        break;
      }
      if (lrc != 0 && cw__symidx_nrows(ix) == before) {
        /* A header this decoder cannot read: let libdw try. */
        free(files);
        files = NULL;
        lrc = index_lines(&w, &cudie);
        if (lrc == 0)
          lrc = unit_files_libdw(&w, &cudie, &files, &nfiles);
        if (lrc == CW_ENOMEM) {
          w.rc = lrc;
          break;
        }
      } else if (lrc != 0 && !damaged) {
        damaged = 1;
        snprintf(err, errlen, "%s: corrupt DWARF line table: %s", path, why);
      }
    }
    w.files = files;
    w.nfiles = nfiles;
    walk(&w, &cudie, -1, 0, 0);
    free(files);
    w.files = NULL;
  }
  dwarf_end(dw);
  if (w.rc == 0 && r < 0) {
    snprintf(err, errlen, "%s: corrupt DWARF unit after %d good ones: %s", path,
             units, dwarf_errmsg(-1));
    w.rc = CW_EFORMAT;
  }
  if (w.rc == 0 && damaged)
    w.rc = CW_EFORMAT;
  if (w.rc == CW_ENOMEM)
    snprintf(err, errlen, "%s: out of memory indexing DWARF", path);
  return w.rc;
}
