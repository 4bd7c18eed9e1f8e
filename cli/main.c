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
    {"list", cw__cmd_list, "list the reports of a spool and their delivery"},
    {"show", cw__cmd_show, "tell the whole story of one report"},
    {"run", cw__cmd_run,
     "run a program under supervision, reporting its crashes"},
};

static void usage(FILE *out) {
  fprintf(out, "usage: crashwatch <command> [options]\n"
               "       crashwatch help [command]\n"
               "       crashwatch --version | -h | --help\n"
               "\ncommands:\n");
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(out, "\n'crashwatch help <command>' or 'crashwatch <command> --help' "
               "describes a\ncommand, its options and its exit status; so does "
               "its manual page,\ncrashwatch-<command>(1).\n"
               "\n"
               "exit status:\n"
               "  0  --help, --version or help succeeded\n"
               "  2  no command, an unknown command, or help of an unknown "
               "command\n"
               "  otherwise the command's own (see its --help)\n");
}

static int find_command(const char *name) {
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    if (strcmp(name, commands[i].name) == 0)
      return (int)i;
  return -1;
}

static int unknown(const char *name) {
  fprintf(stderr, "crashwatch: unknown command '%s'\n", name);
  usage(stderr);
  return 2;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    usage(stdout);
    return 0;
  }
  if (strcmp(argv[1], "help") == 0) {
    if (argc < 3) {
      usage(stdout);
      return 0;
    }
    /* `crashwatch help CMD` is `crashwatch CMD --help`. */
    int i = find_command(argv[2]);
    if (i < 0)
      return unknown(argv[2]);
    char *sub[] = {argv[2], "--help", NULL};
    return commands[i].run(2, sub);
  }
  if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
    printf("crashwatch %s\n", cw_version());
    return 0;
  }
  int i = find_command(argv[1]);
  if (i < 0)
    return unknown(argv[1]);
  return commands[i].run(argc - 1, argv + 1);
}
