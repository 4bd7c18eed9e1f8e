/* commands.h — the subcommands of the crashwatch CLI. Each takes the
 * arguments after its name (argv[0] is the subcommand) and returns the
 * process exit status. */
#ifndef CW_CLI_COMMANDS_H
#define CW_CLI_COMMANDS_H

#include "buf.h"

int cw__cmd_dump(int argc, char **argv);
int cw__cmd_symbolize(int argc, char **argv);
int cw__cmd_upload(int argc, char **argv);
int cw__cmd_list(int argc, char **argv);
int cw__cmd_show(int argc, char **argv);
int cw__cmd_run(int argc, char **argv);

/* The spool a command works on: given (--spool) if not NULL, else
 * $CRASHWATCH_SPOOL, else ${XDG_STATE_HOME:-~/.local/state}/crashwatch/
 * reports, the library's default (written into buf); NULL if none of
 * them is set. default_spool.c. */
const char *cw__cli_default_spool(const char *given, char *buf, size_t cap);

/* symbolize's minidump mode (cmd_symbolize_dump.c): the dump at arg (or the
 * minidump.dmp of the report directory arg) walked and symbolized with s,
 * as text or JSON on stdout. Returns the exit status. */
struct cw__symbolizer;
int cw__cmd_symbolize_dump(struct cw__symbolizer *s, const char *arg, int json);

/* The same, with the JSON document (json set) appended to out instead of
 * printed, when out is not NULL (`crashwatch show --json` embeds it). */
int cw__symbolize_dump_to(struct cw__symbolizer *s, const char *arg, int json,
                          cw__buf_t *out);

#endif
