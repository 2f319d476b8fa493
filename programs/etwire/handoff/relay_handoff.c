/* etwire's way to the relay commands. etwire itself has no OpenSSL, librdkafka or zstd (each
 * run would pay for loading them, and a static copy would miss the system's security updates);
 * send, collect and live sessions over TLS run in etwire-relay, which links them as the
 * system's shared libraries. This replaces the process with etwire-relay, argv unchanged, so
 * stdio, exit codes and signals are the relay program's own. etwire-relay is looked for next
 * to the running etwire (a build tree), then in the libexec directory relative to it (an
 * installed tree, wherever it was moved), then where it was installed. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_common.h"
#include "commands.h"

#define RELAY_PROGRAM "etwire-relay"

/* The directory part of path (kept up to and without the last '/'), or "." without one. */
static void dir_of(const char *path, char *out, size_t n)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(out, n, ".");
    else
        snprintf(out, n, "%.*s", (int)(slash - path), path);
}

static int exec_relay(void)
{
    char self[PATH_MAX], dir[PATH_MAX], tried[3][PATH_MAX + 64];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    int n = 0;
    if (len > 0) {
        self[len] = '\0';
        dir_of(self, dir, sizeof dir);
        snprintf(tried[n++], sizeof tried[0], "%s/%s", dir, RELAY_PROGRAM);
        snprintf(tried[n++], sizeof tried[0], "%s/%s/%s", dir, ETWIRE_RELAY_FROM_BINDIR, RELAY_PROGRAM);
    }
    snprintf(tried[n++], sizeof tried[0], "%s/%s", ETWIRE_RELAY_LIBEXECDIR, RELAY_PROGRAM);
    fflush(NULL);
    int err = ENOENT;
    for (int i = 0; i < n; i++) {
        if (access(tried[i], X_OK) != 0)
            continue;
        execv(tried[i], cli_main_argv);
        err = errno; /* only reached when exec failed */
        fprintf(stderr, "etwire: cannot run %s: %s\n", tried[i], strerror(err));
        return 126;
    }
    fprintf(stderr, "etwire: '%s' runs in the program %s, which is not installed (looked for %s",
            cli_main_argv[1], RELAY_PROGRAM, tried[0]);
    for (int i = 1; i < n; i++)
        fprintf(stderr, ", %s", tried[i]);
    fprintf(stderr, "): %s\n", strerror(err));
    return 127;
}

int cmd_send(int argc, char **argv)
{
    return exec_relay();
}

int cmd_collect(int argc, char **argv)
{
    return exec_relay();
}

/* Called before a live session is opened, when nothing has been written yet. */
int cli_live_tls(void)
{
    if (!getenv("ETWIRE_LIVE_TLS_CERT") && !getenv("ETWIRE_LIVE_TLS_KEY") && !getenv("ETWIRE_LIVE_TLS_CA"))
        return 0;
    exec_relay();
    return -1;
}
