/* fuzz_symcfi.c — Breakpad STACK CFI records: index a fuzzed .sym text and
 * unwind at, around and between its records with fixed registers and a
 * small fake stack. */
#include <stdint.h>
#include <string.h>

#include "md_symcfi.h"

static int fake_read(void *ctx, uint64_t addr, uint64_t *out) {
  (void)ctx;
  if (addr < 0x1000 || addr >= 0x1100 || addr % 8 != 0)
    return -1;
  *out = addr * 3 + 1;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  md_symcfi_t *c = NULL;
  char err[256];
  if (cw__md_symcfi_open_buffer((const char *)data, size, NULL, &c, err,
                                sizeof(err)) != 0)
    return 0;
  uint64_t regs[MD_SYMCFI_NREGS], out[MD_SYMCFI_NREGS];
  for (int i = 0; i < MD_SYMCFI_NREGS; i++)
    regs[i] = 0x1000 + 8 * (uint64_t)i;
  uint32_t valid = (1u << MD_SYMCFI_NREGS) - 1, out_valid;
  static const uint64_t pcs[] = {0,      1,      0x10,   0x100,  0x1000,
                                 0x1001, 0x1010, 0x2000, 0x2004, ~0ull};
  for (size_t i = 0; i < sizeof(pcs) / sizeof(pcs[0]); i++)
    cw__md_symcfi_unwind(c, pcs[i], regs, valid, fake_read, NULL, out,
                         &out_valid);
  cw__md_symcfi_close(c);
  return 0;
}
