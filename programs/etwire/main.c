/* etwire (and etwire-relay): the command-line front end. Dispatches argv[1] to a subcommand
 * (commands.h). */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <etwire/etwire.h>

#include "commands.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: etwire <command> [options] ...\n\ncommands:\n");
    for (const cli_command *c = cli_commands; c->name; c++)
        fprintf(out, "  %-10s %s\n", c->name, c->summary);
    fprintf(out, "\n'etwire <command> --help' describes a command.\n");
}

char **cli_main_argv;

int main(int argc, char **argv)
{
    cli_main_argv = argv;
    /* A closed output pipe shows up as EPIPE where the command writes (dump stops quietly);
     * the relay's sockets never raise SIGPIPE either (MSG_NOSIGNAL). */
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("etwire %s\n", ETWIRE_VERSION);
        return 0;
    }
    for (const cli_command *c = cli_commands; c->name; c++)
        if (!strcmp(c->name, argv[1]))
            return c->run(argc - 1, argv + 1);
    fprintf(stderr, "etwire: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
