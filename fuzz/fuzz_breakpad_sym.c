/* fuzz_breakpad_sym.c — the Breakpad .sym parser (symbolizer/breakpad_sym.h)
 * on arbitrary bytes: parse, finish the index, and look up addresses around
 * everything it holds. Must never crash, leak or read out of bounds. */
#include <stddef.h>
#include <stdint.h>

#include "breakpad_sym.h"
#include "symindex.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  symidx_t *ix = cw__symidx_new();
  if (ix == NULL)
    return 0;
  bpsym_module_t mod;
  char err[256];
  if (cw__bpsym_parse(ix, (const char *)data, size, 0x1000, &mod, "fuzz.sym",
                      err, sizeof(err)) == 0 &&
      cw__symidx_finish(ix) == 0) {
    symidx_frame_t fr[16];
    static const uint64_t probes[] = {0,      1,       0xfff,     0x1000,
                                      0x1001, 0x1010,  0x1fff,    0x2000,
                                      0x3000, 0x10000, UINT64_MAX};
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
      (void)cw__symidx_lookup(ix, probes[i], fr, 16);
    /* Addresses named in the input itself. */
    for (size_t i = 0; i + 4 <= size && i < 4096; i += 7) {
      uint64_t a = 0x1000 + ((uint64_t)data[i] << 8 | data[i + 1]);
      (void)cw__symidx_lookup(ix, a, fr, 16);
    }
  }
  cw__symidx_free(ix);
  return 0;
}
