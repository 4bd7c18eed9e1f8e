/*
 * cw_test_support.h — set-up shared by several unit tests (cmocka): the
 * helpers that more than one test_*.c needed. Linked as the static library
 * cw_test_support (tests/CMakeLists.txt); a test takes it with
 * `LIBS cw_test_support`. The helpers fail the running cmocka test on
 * unexpected errors.
 */
#ifndef CW_TEST_SUPPORT_H
#define CW_TEST_SUPPORT_H

#include <sys/types.h>

/* The pid of the watchdog serving this process (a process whose argv[0]
 * is "crashwatch-watchdog" with "--pid <getpid()>" in its arguments), or 0
 * if there is none now. */
pid_t cw__test_find_watchdog_now(void);

/* The same, but waits up to 2 s for one to show: the one cw_init() just
 * started may still be finishing its exec. */
pid_t cw__test_find_watchdog(void);

/* Waits (bounded only by the CTest timeout) until pid is gone or a
 * zombie. */
void cw__test_wait_gone(pid_t pid);

/* cw_shutdown(), then waits until the watchdog that served this process
 * has exited, so that the next cw_init() of the same process (the next
 * test) finds only its own watchdog: cw__test_find_watchdog() matches by
 * our pid and would otherwise return the old one, still closing. */
void cw__test_shutdown(void);

/* Receives one crash ack on sock, checks its size and magic, and returns
 * its status. */
int cw__test_recv_ack(int sock);

#endif
