/* fuzz_stackwalk.c — walk every thread of a fuzzed minidump with no module
 * files (frame pointers and stack scanning over fuzzed memory). */
#include <stdint.h>
#include <stdlib.h>

#include "minidump.h"
#include "stackwalk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cw_md_t *md = NULL;
  char err[256];
  if (cw_md_open_buffer(data, size, &md, err, sizeof(err)) != 0)
    return 0;
  cw_stackwalker_t *sw = NULL;
  cw_sw_options_t o = {.max_frames = 256};
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
