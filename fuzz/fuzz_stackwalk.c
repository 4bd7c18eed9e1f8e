/* fuzz_stackwalk.c — walk every thread of a fuzzed minidump: frame pointers
 * and stack scanning over fuzzed memory, and CFI: every module is offered
 * this executable as its file, which the walker accepts for modules without
 * a build-id, so CFI expressions run on fuzzed registers and memory. */
#include <stdint.h>
#include <stdlib.h>

#include "minidump.h"
#include "stackwalk.h"

static const char *self_file(void *ctx, const cw_md_module_t *m) {
  (void)ctx;
  (void)m;
  return "/proc/self/exe";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cw_md_t *md = NULL;
  char err[256];
  if (cw_md_open_buffer(data, size, &md, err, sizeof(err)) != 0)
    return 0;
  cw_stackwalker_t *sw = NULL;
  cw_sw_options_t o = {.max_frames = 256, .find_module_file = self_file};
  if (cw_sw_new(md, &o, &sw) == 0) {
    for (size_t i = 0; i < cw_md_thread_count(md); i++) {
      cw_sw_frame_t *f = NULL;
      size_t n = 0;
      if (cw_sw_walk_thread(sw, i, &f, &n, err, sizeof(err)) == 0)
        free(f);
    }
    cw_sw_free(sw);
  }
  cw_md_close(md);
  return 0;
}
