/* The etwire subcommands: each lives in its own cmd_<name>.c and returns the process exit code.
 * send and collect (relay/) are built into etwire-relay only; etwire's cmd_send and cmd_collect
 * hand the process over to it (handoff/relay_handoff.c). */
#ifndef ETWIRE_CLI_COMMANDS_H
#define ETWIRE_CLI_COMMANDS_H

typedef struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
    const char *summary;
} cli_command;

/* The table, in the order `etwire --help` lists it; ends with a NULL name. */
extern const cli_command cli_commands[];
/* main's argv, unchanged: what etwire hands to etwire-relay (handoff/relay_handoff.c). */
extern char **cli_main_argv;

int cmd_dump(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_send(int argc, char **argv);
int cmd_collect(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_sessions(int argc, char **argv);
int cmd_schemas(int argc, char **argv);

#endif
