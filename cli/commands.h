/* commands.h — the subcommands of the crashwatch CLI. Each takes the
 * arguments after its name (argv[0] is the subcommand) and returns the
 * process exit status. */
#ifndef CW_CLI_COMMANDS_H
#define CW_CLI_COMMANDS_H

int cw__cmd_dump(int argc, char **argv);
int cw__cmd_symbolize(int argc, char **argv);
int cw__cmd_upload(int argc, char **argv);

#endif
