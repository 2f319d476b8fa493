/* The sender's spool (`etwire send --spool DIR`, docs/wire-protocol.md §10.1): every buffer of
 * a session is appended to disk before it is sent, so a sender that dies (SIGKILL, OOM, crash)
 * and is started again resends what the collector does not hold, under the same instance,
 * even when its input was standard input. One directory per session holds segment files of
 * checksummed records; whole segments are deleted once every buffer in them is acknowledged.
 * Spool files are untrusted when read back: a short last record (the crash cut the write) is
 * cut off, anything else that is wrong is an error naming the file and the offset. */
#ifndef ETWIRE_RELAY_SPOOL_H
#define ETWIRE_RELAY_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "relay/wire/msg.h"

/* A new segment starts once the current one holds this many bytes: acknowledged data stays on
 * disk at most this long (the slack of the disk bound). */
#define RELAY_SPOOL_SEGMENT (4u << 20)

typedef struct relay_spool relay_spool;

typedef struct relay_spool_info {
    char source[ETW_RELAY_NAME_MAX + 1];
    char session[ETW_RELAY_NAME_MAX + 1];
    uint64_t instance;
    uint64_t first_seq;  /* oldest buffer still spooled (== next_seq when none is) */
    uint64_t next_seq;   /* one past the newest spooled buffer */
    int ended;           /* an END record is spooled: the input was read to its end */
    uint64_t cut_bytes;  /* bytes of a partly written last record that were cut off */
} relay_spool_info;

/* A new session's spool under dir (created if missing), locked for this process. */
relay_spool *relay_spool_create(const char *dir, const char *source, const char *session,
                                uint64_t instance, char *err, size_t errlen);
enum { RELAY_SPOOL_OPENED, RELAY_SPOOL_BUSY, RELAY_SPOOL_EMPTY, RELAY_SPOOL_FAILED };
/* Reopens a session directory left by an earlier run, checks every record and cuts a torn
 * tail. *state says what happened: OPENED (the spool is returned), BUSY (another live sender
 * holds it), EMPTY (nothing was spooled; the directory is removed) or FAILED (err names the
 * file and offset). */
relay_spool *relay_spool_open(const char *session_dir, relay_spool_info *info, int *state,
                              char *err, size_t errlen);
/* Appends one buffer (seq must follow the last one) or the END record; 0 or -1 with err. */
int relay_spool_append(relay_spool *sp, uint64_t seq, const uint8_t *buf, uint32_t size,
                       char *err, size_t errlen);
int relay_spool_append_end(relay_spool *sp, uint64_t count, char *err, size_t errlen);
/* Reads buffer seq (reads go forward: seq at or after the previous read) into a malloc'd
 * block with `prefix` free bytes in front; *size receives the buffer's size. 0 or -1. */
int relay_spool_read(relay_spool *sp, uint64_t seq, size_t prefix, uint8_t **block,
                     uint32_t *size, char *err, size_t errlen);
/* Deletes the segments whose buffers are all below acked. */
void relay_spool_trim(relay_spool *sp, uint64_t acked);
/* Bytes the spool occupies on disk. */
uint64_t relay_spool_bytes(const relay_spool *sp);
/* The session is complete (final ACK of END): deletes its directory. */
void relay_spool_remove(relay_spool *sp);
/* Closes, keeping the files for a later run. */
void relay_spool_close(relay_spool *sp);

/* Session directories found in dir (each a malloc'd path; *n of them, at most max). */
int relay_spool_list(const char *dir, char **paths, int max, int *n);

#endif
