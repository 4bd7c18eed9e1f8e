/* main.c — the crashwatch command: dispatches to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "crashwatch.h"

static const struct {
  const char *name;
  int (*run)(int, char **);
  const char *summary;
} commands[] = {
    {"dump", cw__cmd_dump,
     "list the streams, threads and modules of a minidump"},
    {"symbolize", cw__cmd_symbolize,
     "symbolize a minidump, a report or addresses"},
    {"upload", cw__cmd_upload, "deliver spooled reports to a server"},
};

static void usage(FILE *out) {
  fprintf(out, "usage: crashwatch <command> [options]\n\ncommands:\n");
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(out, "\n'crashwatch <command> --help' describes a command.\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
    usage(stdout);
    return 0;
  }
  if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
    printf("crashwatch %s\n", cw_version());
    return 0;
  }
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    if (strcmp(argv[1], commands[i].name) == 0)
      return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "crashwatch: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return 2;
}
