/* fuzz_stackwalk.c — walk every thread of a fuzzed minidump: frame pointers
 * and stack scanning over fuzzed memory, and CFI: every module is offered
 * this executable as its file, which the walker accepts for modules without
 * a build-id, so CFI expressions run on fuzzed registers and memory. */
#include <stdint.h>
#include <stdlib.h>

#include "minidump.h"
#include "stackwalk.h"

static const char *self_file(void *ctx, const cw__md_module_t *m) {
  (void)ctx;
  (void)m;
  return "/proc/self/exe";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cw__md_t *md = NULL;
  char err[256];
  if (cw__md_open_buffer(data, size, &md, err, sizeof(err)) != 0)
    return 0;
  cw__stackwalker_t *sw = NULL;
  cw__sw_options_t o = {.max_frames = 256, .find_module_file = self_file};
  if (cw__sw_new(md, &o, &sw) == 0) {
    for (size_t i = 0; i < cw__md_thread_count(md); i++) {
      cw__sw_frame_t *f = NULL;
      size_t n = 0;
      if (cw__sw_walk_thread(sw, i, &f, &n, err, sizeof(err)) == 0)
        free(f);
    }
    cw__sw_free(sw);
  }
  cw__md_close(md);
  return 0;
}
