/* Fuzz target: reloading a sender spool (programs/etwire/relay_spool_load.c) after a crash.
 * The input is the bytes of one segment file; the target writes it as segment 0 of a session
 * directory, reopens the spool (header and record checks, torn-tail cut), reads back every
 * buffer it reports, and closes it. A spool file is untrusted: a sender may restart on a disk
 * that was damaged, or on files someone else wrote. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "relay/spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], session[96], seg[160], lock[160];

static void clean(void)
{
    unlink(seg);
    unlink(lock);
    rmdir(session);
}

static void remove_dir(void)
{
    clean();
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/etwire-fuzz-spool.XXXXXX");
        if (!mkdtemp(dir))
            abort();
        snprintf(session, sizeof session, "%s/src+ses+0000000000000001", dir);
        snprintf(seg, sizeof seg, "%s/00000000000000000000.seg", session);
        snprintf(lock, sizeof lock, "%s/lock", session);
        atexit(remove_dir);
    }
    if (size > (8u << 20))
        return 0;
    mkdir(session, 0700);
    int fd = open(seg, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size)
        abort();
    close(fd);
    relay_spool_info info;
    int state;
    char err[640];
    relay_spool *sp = relay_spool_open(session, &info, &state, err, sizeof err);
    if (sp) {
        for (uint64_t seq = info.first_seq; seq < info.next_seq; seq++) {
            uint8_t *block = NULL;
            uint32_t n = 0;
            if (relay_spool_read(sp, seq, 16, &block, &n, err, sizeof err) != 0)
                break;
            free(block);
        }
        relay_spool_close(sp);
    }
    clean();
    return 0;
}
