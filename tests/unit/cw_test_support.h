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
 * is "crashwatch-watchdog" with "--pid <getpid()>" in its arguments), or 0. */
pid_t cw__test_find_watchdog(void);

/* Receives one crash ack on sock, checks its size and magic, and returns
 * its status. */
int cw__test_recv_ack(int sock);

#endif
