/* Fuzz target: `etwire send`'s inputs (relay/input.h) read untrusted bytes as buffers, the
 * same bytes both ways: as a raw stream (cut by each BufferSize) and as an .etl file (indexed,
 * then read in flush order into memory the target reserves). The target reserves exactly the
 * size it is asked for (a read past it is caught by the sanitizers), checks that every
 * committed buffer is whole (its BufferSize is its size) and that each reservation ends in
 * exactly one commit or cancel. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "relay/input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct outstanding {
    uint8_t *held; /* the reservation not yet committed or cancelled */
    unsigned committed;
} outstanding;

static uint8_t *reserve(void *ctx, uint32_t size)
{
    outstanding *o = ctx;
    if (o->held || size > (64u << 20))
        abort(); /* one at a time; no size beyond what the file or stream allows */
    o->held = malloc(size ? size : 1);
    return o->held;
}

static int commit(void *ctx, uint8_t *buf, uint32_t size, const relay_input_clock *clk)
{
    outstanding *o = ctx;
    (void)clk;
    uint32_t declared = (uint32_t)buf[0] | (uint32_t)buf[1] << 8 | (uint32_t)buf[2] << 16 |
                        (uint32_t)buf[3] << 24;
    if (buf != o->held || declared != size || size < 72)
        abort();
    free(buf);
    o->held = NULL;
    return ++o->committed > 4096; /* a stop from the target ends reading too */
}

static void cancel(void *ctx, uint8_t *buf)
{
    outstanding *o = ctx;
    if (buf != o->held)
        abort();
    free(buf);
    o->held = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    outstanding o = {0};
    relay_input_target t = {&o, reserve, commit, cancel};
    FILE *in = size ? fmemopen((void *)(uintptr_t)data, size, "rb") : NULL;
    if (in) {
        (void)relay_input_stream_into(in, &t, err, sizeof err);
        fclose(in);
    }
    if (o.held)
        abort();
    int fd = memfd_create("fuzz_relay_input", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) == (ssize_t)size) {
        char path[64];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        o.committed = 0;
        (void)relay_input_index_into(path, 0, &t, err, sizeof err);
        if (o.held)
            abort();
    }
    close(fd);
    return 0;
}
