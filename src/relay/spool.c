/* Writing side of the sender's spool (format in spool_impl.h).
 *
 * fsync policy: records are written with plain write(2) and not synced. The spool exists for
 * sender restarts: after SIGKILL, an OOM kill or a crash of etwire itself the kernel still has
 * every byte that write() returned for, so nothing is lost. A finished segment is fdatasync'ed
 * when the next one starts, which bounds what a power loss or kernel crash can take to the
 * last RELAY_SPOOL_SEGMENT bytes. Syncing each buffer would put a disk flush (milliseconds on
 * rotating or networked disks) behind every ETW buffer and throttle the producer. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/bytes.h"
#include "base/crc32.h"
#include "relay/wire/frame.h"
#include "relay/spool_impl.h"

uint32_t relay_spool_rec_crc(uint64_t seq, uint32_t len, const uint8_t *payload)
{
    uint8_t f[12];
    etw_wr64(f, seq);
    etw_wr32(f + 8, len);
    uint32_t c = etw_crc32(0, f, sizeof f);
    return len ? etw_crc32(c, payload, len) : c;
}

void relay_spool_seg_path(const relay_spool *sp, uint64_t first_seq, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/%020llu.seg", sp->dir, (unsigned long long)first_seq);
}

int relay_spool_push_seg(relay_spool *sp, uint64_t first_seq, uint64_t bytes, uint32_t header_len)
{
    if (sp->nseg == sp->capseg) {
        uint32_t cap = sp->capseg ? sp->capseg * 2 : 8;
        spool_seg *g = realloc(sp->segs, cap * sizeof *g);
        if (!g)
            return -1;
        sp->segs = g;
        sp->capseg = cap;
    }
    sp->segs[sp->nseg++] = (spool_seg){first_seq, bytes, header_len};
    sp->bytes += bytes;
    return 0;
}

/* Writes everything or fails (a short write is retried, an error is not). */
static int write_all(int fd, struct iovec *iov, int n)
{
    while (n > 0) {
        ssize_t w = writev(fd, iov, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        while (n > 0 && (size_t)w >= iov->iov_len) {
            w -= (ssize_t)iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (uint8_t *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
    return 0;
}

/* Starts the segment whose first record will be first_seq, syncing the one it follows. */
static int new_segment(relay_spool *sp, uint64_t first_seq, char *err, size_t errlen)
{
    char path[PATH_MAX + 32];
    relay_spool_seg_path(sp, first_seq, path, sizeof path);
    if (sp->wfd >= 0) {
        fdatasync(sp->wfd);
        close(sp->wfd);
        sp->wfd = -1;
    }
    uint8_t h[SPOOL_SEG_FIXED + 2 * ETW_RELAY_NAME_MAX + 4];
    size_t sl = strlen(sp->source), nl = strlen(sp->session);
    memcpy(h, SPOOL_MAGIC, 8);
    etw_wr64(h + 8, sp->instance);
    etw_wr64(h + 16, first_seq);
    h[24] = (uint8_t)sl;
    h[25] = (uint8_t)nl;
    etw_wr16(h + 26, 0);
    memcpy(h + SPOOL_SEG_FIXED, sp->source, sl);
    memcpy(h + SPOOL_SEG_FIXED + sl, sp->session, nl);
    size_t len = SPOOL_SEG_FIXED + sl + nl;
    etw_wr32(h + len, etw_crc32(0, h, len));
    len += 4;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    struct iovec iov = {h, len};
    if (fd < 0 || write_all(fd, &iov, 1) != 0 || relay_spool_push_seg(sp, first_seq, len, (uint32_t)len) != 0) {
        snprintf(err, errlen, "spool %s: %s", path, strerror(errno ? errno : ENOMEM));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    sp->wfd = fd;
    return 0;
}

static int append(relay_spool *sp, uint32_t tag, uint64_t seq, const uint8_t *payload, uint32_t len,
                  char *err, size_t errlen)
{
    if (sp->ended) {
        snprintf(err, errlen, "spool %s: the session already ended", sp->dir);
        return -1;
    }
    if ((sp->wfd < 0 || sp->segs[sp->nseg - 1].bytes >= RELAY_SPOOL_SEGMENT) &&
        new_segment(sp, tag == SPOOL_TAG_END ? sp->next_seq : seq, err, errlen) != 0)
        return -1;
    uint8_t h[SPOOL_REC_HEADER];
    etw_wr32(h, tag);
    etw_wr32(h + 4, len);
    etw_wr64(h + 8, seq);
    etw_wr32(h + 16, relay_spool_rec_crc(seq, len, payload));
    etw_wr32(h + 20, 0);
    struct iovec iov[2] = {{h, sizeof h}, {(void *)payload, len}};
    if (write_all(sp->wfd, iov, len ? 2 : 1) != 0) {
        /* Leave no half record behind that a later append would follow. */
        char path[PATH_MAX + 32];
        relay_spool_seg_path(sp, sp->segs[sp->nseg - 1].first_seq, path, sizeof path);
        snprintf(err, errlen, "spool %s: %s", path, strerror(errno ? errno : EIO));
        if (ftruncate(sp->wfd, (off_t)sp->segs[sp->nseg - 1].bytes) != 0)
            sp->ended = 1; /* cannot repair: refuse further appends */
        return -1;
    }
    sp->segs[sp->nseg - 1].bytes += sizeof h + len;
    sp->bytes += sizeof h + len;
    return 0;
}

int relay_spool_append(relay_spool *sp, uint64_t seq, const uint8_t *buf, uint32_t size, char *err, size_t errlen)
{
    if (seq != sp->next_seq || size < ETW_RELAY_MIN_ETW_BUFFER || size > ETW_RELAY_MAX_ETW_BUFFER) {
        snprintf(err, errlen, "spool %s: buffer %llu out of order or of a bad size", sp->dir, (unsigned long long)seq);
        return -1;
    }
    if (append(sp, SPOOL_TAG_BUFFER, seq, buf, size, err, errlen) != 0)
        return -1;
    sp->next_seq++;
    return 0;
}

int relay_spool_append_end(relay_spool *sp, uint64_t count, char *err, size_t errlen)
{
    if (sp->ended)
        return 0; /* a reloaded spool that already has its END */
    if (append(sp, SPOOL_TAG_END, count, NULL, 0, err, errlen) != 0)
        return -1;
    sp->ended = 1;
    return 0;
}

relay_spool *relay_spool_create(const char *dir, const char *source, const char *session,
                                uint64_t instance, char *err, size_t errlen)
{
    relay_spool *sp = calloc(1, sizeof *sp);
    if (!sp) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    sp->wfd = sp->rfd = sp->lock_fd = -1;
    sp->rseq = UINT64_MAX;
    snprintf(sp->source, sizeof sp->source, "%s", source);
    snprintf(sp->session, sizeof sp->session, "%s", session);
    sp->instance = instance;
    int n = snprintf(sp->dir, sizeof sp->dir, "%s/%s+%s+%016llx", dir, source, session, (unsigned long long)instance);
    char lock[PATH_MAX + 8];
    snprintf(lock, sizeof lock, "%s/lock", sp->dir);
    if (n <= 0 || (size_t)n >= sizeof sp->dir - 32 || (mkdir(dir, 0700) != 0 && errno != EEXIST) ||
        mkdir(sp->dir, 0700) != 0 ||
        (sp->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 ||
        flock(sp->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        snprintf(err, errlen, "spool %s: %s", sp->dir, strerror(errno));
        relay_spool_close(sp);
        return NULL;
    }
    return sp;
}

void relay_spool_trim(relay_spool *sp, uint64_t acked)
{
    uint32_t drop = 0;
    while (drop + 1 < sp->nseg && sp->segs[drop + 1].first_seq <= acked) {
        char path[PATH_MAX + 32];
        relay_spool_seg_path(sp, sp->segs[drop].first_seq, path, sizeof path);
        unlink(path);
        if (sp->rfd >= 0 && sp->rseg_first == sp->segs[drop].first_seq) {
            close(sp->rfd);
            sp->rfd = -1;
            sp->rseq = UINT64_MAX;
        }
        sp->bytes -= sp->segs[drop].bytes;
        drop++;
    }
    if (drop) {
        memmove(sp->segs, sp->segs + drop, (sp->nseg - drop) * sizeof *sp->segs);
        sp->nseg -= drop;
    }
}

uint64_t relay_spool_bytes(const relay_spool *sp)
{
    return sp->bytes;
}

void relay_spool_remove(relay_spool *sp)
{
    if (!sp)
        return;
    /* Oldest first: a crash in the middle leaves a spool whose buffers the collector holds,
     * which a later run only ends again. */
    for (uint32_t i = 0; i < sp->nseg; i++) {
        char path[PATH_MAX + 32];
        relay_spool_seg_path(sp, sp->segs[i].first_seq, path, sizeof path);
        unlink(path);
    }
    sp->nseg = 0;
    char lock[PATH_MAX + 8];
    snprintf(lock, sizeof lock, "%s/lock", sp->dir);
    unlink(lock);
    rmdir(sp->dir);
    relay_spool_close(sp);
}

void relay_spool_close(relay_spool *sp)
{
    if (!sp)
        return;
    if (sp->wfd >= 0)
        close(sp->wfd);
    if (sp->rfd >= 0)
        close(sp->rfd);
    if (sp->lock_fd >= 0)
        close(sp->lock_fd); /* releases the flock */
    free(sp->segs);
    free(sp);
}
