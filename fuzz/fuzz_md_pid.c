/* fuzz_md_pid.c — the process id peek of `crashwatch list` and the
 * delivery journal (common/md_pid.c): any input gives a pid or a refusal,
 * never a read outside it, and the file and memory readers agree. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "md_pid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint32_t a = 0, b = 0;
  int ra = cw__md_peek_pid(data, size, &a);
  FILE *f = tmpfile();
  if (f == NULL)
    return 0;
  if (size > 0 && fwrite(data, 1, size, f) != size)
    abort();
  fflush(f);
  int rb = cw__md_peek_pid_fd(fileno(f), &b);
  fclose(f);
  if (ra != rb || (ra == 0 && a != b))
    abort();
  return 0;
}
