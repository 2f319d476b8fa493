/* The .etl file a collector session writes: appended buffer by buffer, cut back to its last
 * complete buffer on resume, and created only when the first buffer is written (a HELLO that
 * no buffer follows leaves nothing on disk). */
#ifndef ETWIRE_RELAY_SINK_FILES_H
#define ETWIRE_RELAY_SINK_FILES_H

#include <stdint.h>
#include <stdio.h>
#include <sys/uio.h>

#include <etwire/etwire.h>

typedef struct relay_sink_files {
    int etl_fd;            /* -1 until the file exists */
    uint64_t etl_bytes;
    const char *out_dir;   /* NULL: no .etl */
    char label[300];       /* <session>-<instance>, the file's name without .etl */
    char source[129], session[129];
} relay_sink_files;

/* Opens DIR/<source>/<session>-<instance>.etl if it exists, resuming it: *held receives its
 * number of complete buffers. */
int relay_sink_files_open(relay_sink_files *f, const char *out_dir, const char *source,
                          const char *session, uint64_t instance, uint64_t *held, char *err,
                          size_t errlen);
/* Reads the saved buffer at *offset into a malloc'd copy and moves *offset past it. */
int relay_sink_files_read(relay_sink_files *f, uint64_t *offset, uint8_t **buf, uint32_t *size);
/* Appends a buffer (creating the file at the first); 0, or -1 with err. A failed write is cut
 * back off, so the file always ends with a whole buffer. */
int relay_sink_files_write(relay_sink_files *f, const uint8_t *buf, uint32_t size, char *err, size_t errlen);
/* Appends several buffers with as few system calls as the kernel allows (iov is consumed);
 * 0, or -1 with err, the file cut back to what it held before. */
int relay_sink_files_writev(relay_sink_files *f, struct iovec *iov, int count, char *err, size_t errlen);
/* cpu_ms: CPU time of the session's connection threads ([0], receiving and saving) and of its
 * processing thread ([1], merging and the program's event callbacks). */
void relay_sink_files_stats(relay_sink_files *f, FILE *out, const ETWIRE_SESSION_STATS *st,
                            uint64_t events, uint64_t buffers, const uint64_t cpu_ms[2]);
void relay_sink_files_close(relay_sink_files *f);

#endif
