/* record_watchdog.c — a stand-in watchdog for test_crash_record: speaks the
 * real protocol (crashwatch-watchdog's command line, one SOCK_SEQPACKET
 * record, one ack) and saves the raw record it received to $CW_RECORD_OUT,
 * so the test can check how the handler encoded the crash. With
 * $CW_SCOPE_OUT set, it also saves the bytes of the scope memfd it was
 * given (--scope-fd) when the record arrives (test_scope). */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crash_record.h"

int main(int argc, char **argv) {
  int fd = -1, scope_fd = -1;
  for (int i = 1; i + 1 < argc; i++) {
    if (strcmp(argv[i], "--fd") == 0)
      fd = atoi(argv[i + 1]);
    if (strcmp(argv[i], "--scope-fd") == 0)
      scope_fd = atoi(argv[i + 1]);
  }
  const char *out = getenv("CW_RECORD_OUT");
  if (fd < 0 || out == NULL)
    return 2;
  char buf[sizeof(cw__crash_record_t) + 64];
  ssize_t n = recv(fd, buf, sizeof(buf), 0);
  if (n <= 0)
    return 0; /* the app exited without crashing */
  int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (o < 0 || write(o, buf, (size_t)n) != n)
    return 3;
  close(o);
  const char *scope_out = getenv("CW_SCOPE_OUT");
  struct stat st;
  if (scope_out != NULL && scope_fd >= 0 && fstat(scope_fd, &st) == 0) {
    char *bytes = malloc((size_t)st.st_size + 1);
    ssize_t got = bytes ? pread(scope_fd, bytes, (size_t)st.st_size, 0) : -1;
    int so = open(scope_out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (got < 0 || so < 0 || write(so, bytes, (size_t)got) != got)
      return 4;
    close(so);
    free(bytes);
  }
  cw__crash_ack_t ack = {CW_CRASH_ACK_MAGIC, 0};
  send(fd, &ack, sizeof(ack), MSG_NOSIGNAL);
  return 0;
}
