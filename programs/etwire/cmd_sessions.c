/* etwire sessions: the live sessions a collector publishes (collect --live), one line each:
 * name, instance, start, buffers and events so far, rate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <etwire/etwire.h>

#include "cli_common.h"
#include "commands.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: etwire sessions [--live unix:PATH|tls:HOST:PORT]\n"
                 "Lists the live sessions of the collector at --live (default $ETWIRE_LIVE, else\n"
                 "unix:$XDG_RUNTIME_DIR/etwire/live.sock): SOURCE/SESSION, instance, start (UTC),\n"
                 "buffers, bytes, events so far (when the collector decodes), buffers per second.\n");
}

int cmd_sessions(int argc, char **argv)
{
    const char *address = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--live") && i + 1 < argc) {
            address = argv[++i];
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (cli_live_tls() != 0)
        return 1;
    char *text = NULL;
    ULONG rc = etwire_live_sessions(address, &text);
    if (rc != ERROR_SUCCESS) {
        fprintf(stderr, "etwire sessions: %s (%s)\n", etwire_last_error_message(), etwire_strerror(rc));
        return 1;
    }
    printf("%-40s %-16s %-20s %10s %12s %10s %10s\n", "SESSION", "INSTANCE", "START", "BUFFERS",
           "BYTES", "EVENTS", "BUF/S");
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char name[300], inst[40], start[40], buffers[40], bytes[40], events[40], rate[40];
        if (sscanf(line, "%299[^\t]\t%39[^\t]\t%39[^\t]\t%39[^\t]\t%39[^\t]\t%39[^\t]\t%39s", name,
                   inst, start, buffers, bytes, events, rate) != 7)
            continue;
        time_t t = (time_t)strtoll(start, NULL, 10);
        struct tm tm;
        char when[32] = "?";
        if (gmtime_r(&t, &tm))
            strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        printf("%-40s %-16s %-20s %10s %12s %10s %10s\n", name, inst, when, buffers, bytes, events, rate);
    }
    free(text);
    return 0;
}
