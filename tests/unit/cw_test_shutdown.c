/* cw_test_shutdown.c — cw__test_shutdown() (cw_test_support.h), in its own
 * object so that tests which do not link libcrashwatch can still take the
 * rest of cw_test_support from the static library. */
#include "crashwatch.h"
#include "cw_test_support.h"

void cw__test_shutdown(void) {
  pid_t wd = cw__test_find_watchdog_now();
  cw_shutdown();
  if (wd > 0)
    cw__test_wait_gone(wd);
}
