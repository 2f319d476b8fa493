/* Internals of the spool shared by spool.c (creating, appending, trimming, removing)
 * and spool_load.c (reloading and checking a spool, reading records back).
 *
 * On disk (all integers little-endian), one directory per session, DIR/<source>+<session>+
 * <instance as 16 hex digits>, holding a `lock` file (flock: one live sender per session) and
 * segment files named by their first sequence number (20 decimal digits, `.seg`). A segment:
 *
 *   header:  "ETWRSPL1" | u64 instance | u64 first_seq | u8 source_len | u8 session_len |
 *            u16 0 | source | session | u32 CRC-32 of everything before it
 *   records: u32 tag | u32 length | u64 seq | u32 CRC-32 of (seq, length, payload) | u32 0 |
 *            payload (length bytes)
 *
 * Tag "SPLB": one ETW buffer (length = its size, 72 B .. 16 MiB). Tag "SPLE": END, seq = the
 * session's buffer count, no payload; it is the last record of the last segment. */
#ifndef ETWIRE_RELAY_SPOOL_IMPL_H
#define ETWIRE_RELAY_SPOOL_IMPL_H

#include <limits.h>
#include <stdint.h>

#include "relay/spool.h"

#define SPOOL_MAGIC "ETWRSPL1"
#define SPOOL_SEG_FIXED 28u /* segment header bytes before the names */
#define SPOOL_REC_HEADER 24u
#define SPOOL_TAG_BUFFER 0x424c5053u /* "SPLB" */
#define SPOOL_TAG_END 0x454c5053u    /* "SPLE" */

typedef struct spool_seg {
    uint64_t first_seq;
    uint64_t bytes;      /* file size */
    uint32_t header_len; /* offset of its first record */
} spool_seg;

struct relay_spool {
    char dir[PATH_MAX];
    char source[ETW_RELAY_NAME_MAX + 1];
    char session[ETW_RELAY_NAME_MAX + 1];
    uint64_t instance;
    int lock_fd;
    int wfd;               /* the last segment, open for appending (-1: none yet) */
    spool_seg *segs;       /* oldest first */
    uint32_t nseg, capseg;
    uint64_t next_seq;     /* seq of the next buffer appended */
    int ended;
    uint64_t bytes;        /* all segments */
    /* Forward read cursor: the next record of segment rseg starts at roff and has seq rseq. */
    int rfd;
    uint64_t rseg_first;   /* first_seq of the cursor's segment (indexes shift on trim) */
    uint64_t roff, rseq;
};

/* Path of the segment starting at first_seq. */
void relay_spool_seg_path(const relay_spool *sp, uint64_t first_seq, char *out, size_t outlen);
/* Appends a segment entry to the index; 0 or -1. */
int relay_spool_push_seg(relay_spool *sp, uint64_t first_seq, uint64_t bytes, uint32_t header_len);
/* CRC of a record's (seq, length) fields and payload. */
uint32_t relay_spool_rec_crc(uint64_t seq, uint32_t len, const uint8_t *payload);

#endif
