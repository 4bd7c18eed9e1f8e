/* fuzz_dwarf_line.c — the DWARF line program decoder
 * (symbolizer/lineprog.c) on arbitrary bytes taken as a .debug_line section
 * (the first bytes double as .debug_line_str / .debug_str, so string forms
 * point somewhere): every unit in the input is decoded, then the index is
 * finished and searched. Must never crash or read out of bounds. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "symindex.h"
#include "symsrc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  symidx_t *ix = cw__symidx_new();
  if (ix == NULL)
    return 0;
  symsrc_sections_t sec = {data, data, data, size, size < 64 ? size : 64, size};
  uint64_t off = 0;
  for (int unit = 0; unit < 64 && off < size; unit++) {
    const char **files = NULL;
    size_t nfiles = 0;
    char why[256];
    int rc = cw__symsrc_line_program(ix, &sec, off, "/comp", 0, &files, &nfiles,
                                     why, sizeof(why));
    free(files);
    if (rc != 0)
      break;
    /* The next unit follows this one's length field. */
    if (size - off < 4)
      break;
    uint32_t len = (uint32_t)data[off] | (uint32_t)data[off + 1] << 8 |
                   (uint32_t)data[off + 2] << 16 |
                   (uint32_t)data[off + 3] << 24;
    if (len >= 0xfffffff0u)
      break;
    off += 4 + (uint64_t)len;
  }
  if (cw__symidx_finish(ix) == 0) {
    symidx_frame_t fr[4];
    for (uint64_t a = 0; a < 0x2000; a += 0x3f)
      (void)cw__symidx_lookup(ix, a, fr, 4);
  }
  cw__symidx_free(ix);
  return 0;
}
