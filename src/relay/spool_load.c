/* Reading side of the sender's spool (format in spool_impl.h): reloading a spool left by
 * an earlier run and reading records back to send them. Every byte read from disk is checked
 * again (lengths, order, CRC) before it is used: the files may have been cut by a crash or
 * damaged by anything else. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/bytes.h"
#include "base/crc32.h"
#include "relay/wire/frame.h"
#include "relay/spool_impl.h"

#define MAX_SEGMENTS 65536

static int full_pread(int fd, void *p, size_t n, uint64_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, (uint8_t *)p + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* True when the file holds only zero bytes from off on: what a power loss can leave after a
 * size update whose data never reached the disk. Treated like a short tail. */
static int zero_from(int fd, uint64_t off, uint64_t size)
{
    uint8_t b[4096];
    while (off < size) {
        size_t n = size - off < sizeof b ? (size_t)(size - off) : sizeof b;
        if (full_pread(fd, b, n, off) != 0)
            return 0;
        for (size_t i = 0; i < n; i++)
            if (b[i])
                return 0;
        off += n;
    }
    return 1;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* First sequence numbers of the segment files in dir, sorted; -1 on error. */
static int list_segments(const char *dir, uint64_t **firsts, uint32_t *n)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    uint32_t cap = 0;
    *firsts = NULL;
    *n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *nm = de->d_name;
        if (strlen(nm) != 24 || strcmp(nm + 20, ".seg") != 0 || strspn(nm, "0123456789") != 20)
            continue; /* not ours */
        if (*n == cap) {
            uint64_t *g = cap < MAX_SEGMENTS ? realloc(*firsts, (cap ? cap * 2 : 16) * sizeof *g) : NULL;
            if (!g) {
                closedir(d);
                return -1;
            }
            *firsts = g;
            cap = cap ? cap * 2 : 16;
        }
        (*firsts)[(*n)++] = strtoull(nm, NULL, 10);
    }
    closedir(d);
    if (*n)
        qsort(*firsts, *n, sizeof **firsts, cmp_u64);
    return 0;
}

/* Checks one segment's header; its length, or 0 with why filled. */
static uint32_t check_header(relay_spool *sp, int fd, uint64_t size, uint64_t first, int is_first, char *why, size_t wl)
{
    uint8_t h[SPOOL_SEG_FIXED + 2 * ETW_RELAY_NAME_MAX + 4];
    if (size < SPOOL_SEG_FIXED || full_pread(fd, h, SPOOL_SEG_FIXED, 0) != 0) {
        snprintf(why, wl, "short segment header");
        return 0;
    }
    uint32_t sl = h[24], nl = h[25], len = SPOOL_SEG_FIXED + sl + nl + 4;
    if (memcmp(h, SPOOL_MAGIC, 8) != 0 || sl == 0 || nl == 0 || sl > ETW_RELAY_NAME_MAX || nl > ETW_RELAY_NAME_MAX) {
        snprintf(why, wl, "not a spool segment header");
        return 0;
    }
    if (size < len || full_pread(fd, h + SPOOL_SEG_FIXED, len - SPOOL_SEG_FIXED, SPOOL_SEG_FIXED) != 0) {
        snprintf(why, wl, "short segment header");
        return 0;
    }
    if (etw_rd32(h + len - 4) != etw_crc32(0, h, len - 4) ||
        !etw_relay_name_valid((const char *)h + SPOOL_SEG_FIXED, sl) ||
        !etw_relay_name_valid((const char *)h + SPOOL_SEG_FIXED + sl, nl)) {
        snprintf(why, wl, "segment header checksum or names wrong");
        return 0;
    }
    char src[ETW_RELAY_NAME_MAX + 1], ses[ETW_RELAY_NAME_MAX + 1];
    memcpy(src, h + SPOOL_SEG_FIXED, sl);
    src[sl] = 0;
    memcpy(ses, h + SPOOL_SEG_FIXED + sl, nl);
    ses[nl] = 0;
    if (is_first) {
        memcpy(sp->source, src, sl + 1);
        memcpy(sp->session, ses, nl + 1);
        sp->instance = etw_rd64(h + 8);
    } else if (strcmp(src, sp->source) || strcmp(ses, sp->session) || etw_rd64(h + 8) != sp->instance) {
        snprintf(why, wl, "segment of another session");
        return 0;
    }
    if (etw_rd64(h + 16) != first) {
        snprintf(why, wl, "first sequence number does not match the file name");
        return 0;
    }
    return len;
}

/* Walks one segment's records. Returns 0 (ok), 1 (torn tail at *bad, last segment only) or -1
 * (corrupt at *bad, why filled). */
static int check_records(relay_spool *sp, int fd, uint64_t size, uint32_t hlen, int last,
                         uint8_t **buf, uint64_t *bad, char *why, size_t wl)
{
    uint64_t off = hlen;
    while (off < size) {
        uint8_t h[SPOOL_REC_HEADER];
        *bad = off;
        if (sp->ended) {
            snprintf(why, wl, "data after the END record");
            return -1;
        }
        if (size - off < SPOOL_REC_HEADER) {
            snprintf(why, wl, "short record header");
            return last ? 1 : -1;
        }
        if (full_pread(fd, h, sizeof h, off) != 0) {
            snprintf(why, wl, "read error: %s", strerror(errno));
            return -1;
        }
        uint32_t tag = etw_rd32(h), len = etw_rd32(h + 4);
        uint64_t seq = etw_rd64(h + 8);
        int is_buf = tag == SPOOL_TAG_BUFFER, is_end = tag == SPOOL_TAG_END;
        if ((!is_buf && !is_end) || etw_rd32(h + 20) != 0 || (is_end && len != 0) ||
            (is_buf && (len < ETW_RELAY_MIN_ETW_BUFFER || len > ETW_RELAY_MAX_ETW_BUFFER))) {
            if (last && zero_from(fd, off, size))
                return 1;
            snprintf(why, wl, "bad record header");
            return -1;
        }
        if (size - off - SPOOL_REC_HEADER < len) {
            snprintf(why, wl, "short record");
            return last ? 1 : -1;
        }
        if (is_buf && !*buf && !(*buf = malloc(ETW_RELAY_MAX_ETW_BUFFER))) {
            snprintf(why, wl, "out of memory");
            return -1;
        }
        if ((len && full_pread(fd, *buf, len, off + SPOOL_REC_HEADER) != 0) ||
            etw_rd32(h + 16) != relay_spool_rec_crc(seq, len, *buf)) {
            snprintf(why, wl, "record checksum wrong");
            return -1;
        }
        if (seq != sp->next_seq) { /* buffers follow each other; END counts them */
            snprintf(why, wl, "%s %llu where %llu was expected", is_buf ? "buffer" : "END count",
                     (unsigned long long)seq, (unsigned long long)sp->next_seq);
            return -1;
        }
        if (is_buf)
            sp->next_seq++;
        else
            sp->ended = 1;
        off += SPOOL_REC_HEADER + len;
    }
    return 0;
}

static void remove_all(const char *dir, const uint64_t *firsts, uint32_t n)
{
    char p[PATH_MAX + 32];
    for (uint32_t i = 0; i < n; i++) {
        snprintf(p, sizeof p, "%s/%020llu.seg", dir, (unsigned long long)firsts[i]);
        unlink(p);
    }
    snprintf(p, sizeof p, "%s/lock", dir);
    unlink(p);
    rmdir(dir);
}

relay_spool *relay_spool_open(const char *session_dir, relay_spool_info *info, int *state, char *err, size_t errlen)
{
    memset(info, 0, sizeof *info);
    *state = RELAY_SPOOL_FAILED;
    relay_spool *sp = calloc(1, sizeof *sp);
    if (!sp) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    sp->wfd = sp->rfd = -1;
    sp->rseq = UINT64_MAX;
    snprintf(sp->dir, sizeof sp->dir, "%s", session_dir);
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/lock", session_dir);
    sp->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (sp->lock_fd < 0 || flock(sp->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        if (sp->lock_fd >= 0 && errno == EWOULDBLOCK)
            *state = RELAY_SPOOL_BUSY;
        snprintf(err, errlen, "spool %s: %s", session_dir, *state == RELAY_SPOOL_BUSY ? "in use by another sender" : strerror(errno));
        relay_spool_close(sp);
        return NULL;
    }
    uint64_t *firsts = NULL;
    uint32_t n = 0;
    uint8_t *buf = NULL;
    if (list_segments(session_dir, &firsts, &n) != 0) {
        snprintf(err, errlen, "spool %s: cannot list: %s", session_dir, strerror(errno ? errno : ENOMEM));
        goto fail;
    }
    for (uint32_t i = 0; i < n; i++) {
        int last = i + 1 == n;
        relay_spool_seg_path(sp, firsts[i], path, sizeof path);
        int fd = open(path, O_RDWR | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) != 0) {
            snprintf(err, errlen, "spool %s: %s", path, strerror(errno));
            if (fd >= 0)
                close(fd);
            goto fail;
        }
        char why[160];
        uint64_t size = (uint64_t)st.st_size, bad = 0;
        uint32_t hlen = check_header(sp, fd, size, firsts[i], sp->nseg == 0, why, sizeof why);
        if (hlen == 0 && last && (size < SPOOL_SEG_FIXED || zero_from(fd, 0, size) || !strcmp(why, "short segment header"))) {
            /* Created just before the crash: it holds no record yet. */
            close(fd);
            unlink(path);
            info->cut_bytes += size;
            break;
        }
        if (hlen && sp->nseg == 0)
            sp->next_seq = firsts[i];
        if (hlen && firsts[i] != sp->next_seq) {
            snprintf(why, sizeof why, "segment starts at buffer %llu, %llu expected",
                     (unsigned long long)firsts[i], (unsigned long long)sp->next_seq);
            hlen = 0;
        }
        int rc = hlen ? check_records(sp, fd, size, hlen, last, &buf, &bad, why, sizeof why) : -1;
        if (rc == 1) {
            /* The crash cut the last write: keep every complete record before it. */
            if (ftruncate(fd, (off_t)bad) != 0) {
                snprintf(err, errlen, "spool %s: cannot cut the torn tail at offset %llu: %s", path,
                         (unsigned long long)bad, strerror(errno));
                close(fd);
                goto fail;
            }
            info->cut_bytes += size - bad;
            size = bad;
        } else if (rc < 0) {
            snprintf(err, errlen, "spool %s: corrupt at offset %llu: %s (move the directory away to "
                     "start without it)", path, (unsigned long long)bad, why);
            close(fd);
            goto fail;
        }
        if (relay_spool_push_seg(sp, firsts[i], size, hlen) != 0) {
            close(fd);
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        if (last && !sp->ended)
            sp->wfd = fd, fd = -1; /* appends go on here (O_RDWR: writes go to the end we cut) */
        if (fd >= 0)
            close(fd);
    }
    free(buf);
    buf = NULL;
    if (sp->nseg == 0) {
        snprintf(err, errlen, "spool %s: holds no buffer (%u segment file%s without a record); deleted",
                 session_dir, (unsigned)n, n == 1 ? "" : "s");
        remove_all(session_dir, firsts, n);
        free(firsts);
        *state = RELAY_SPOOL_EMPTY;
        relay_spool_close(sp);
        return NULL;
    }
    free(firsts);
    if (sp->wfd >= 0 && lseek(sp->wfd, 0, SEEK_END) < 0) {
        snprintf(err, errlen, "spool %s: %s", session_dir, strerror(errno));
        relay_spool_close(sp);
        return NULL;
    }
    memcpy(info->source, sp->source, sizeof info->source);
    memcpy(info->session, sp->session, sizeof info->session);
    info->instance = sp->instance;
    info->first_seq = sp->segs[0].first_seq;
    info->next_seq = sp->next_seq;
    info->ended = sp->ended;
    *state = RELAY_SPOOL_OPENED;
    return sp;
fail:
    free(buf);
    free(firsts);
    relay_spool_close(sp);
    return NULL;
}

static int seg_index(const relay_spool *sp, uint64_t first)
{
    for (uint32_t i = 0; i < sp->nseg; i++)
        if (sp->segs[i].first_seq == first)
            return (int)i;
    return -1;
}

/* Points the cursor at the start of segment i. */
static int cursor_to(relay_spool *sp, uint32_t i, char *err, size_t errlen)
{
    char path[PATH_MAX + 32];
    relay_spool_seg_path(sp, sp->segs[i].first_seq, path, sizeof path);
    if (sp->rfd >= 0)
        close(sp->rfd);
    sp->rfd = open(path, O_RDONLY | O_CLOEXEC);
    if (sp->rfd < 0) {
        snprintf(err, errlen, "spool %s: %s", path, strerror(errno));
        sp->rseq = UINT64_MAX;
        return -1;
    }
    sp->rseg_first = sp->segs[i].first_seq;
    sp->roff = sp->segs[i].header_len;
    sp->rseq = sp->segs[i].first_seq;
    return 0;
}

int relay_spool_read(relay_spool *sp, uint64_t seq, size_t prefix, uint8_t **block, uint32_t *size,
                     char *err, size_t errlen)
{
    int i = sp->rseq == UINT64_MAX || seq < sp->rseq ? -1 : seg_index(sp, sp->rseg_first);
    if (i < 0) {
        uint32_t j = 0;
        while (j + 1 < sp->nseg && sp->segs[j + 1].first_seq <= seq)
            j++;
        if (!sp->nseg || sp->segs[j].first_seq > seq || cursor_to(sp, j, err, errlen) != 0)
            goto missing;
        i = (int)j;
    }
    for (;;) {
        if (sp->roff >= sp->segs[i].bytes) {
            if ((uint32_t)i + 1 >= sp->nseg || cursor_to(sp, (uint32_t)i + 1, err, errlen) != 0)
                goto missing;
            i++;
            continue;
        }
        uint8_t h[SPOOL_REC_HEADER];
        if (full_pread(sp->rfd, h, sizeof h, sp->roff) != 0 || etw_rd32(h) != SPOOL_TAG_BUFFER ||
            etw_rd64(h + 8) != sp->rseq || etw_rd32(h + 4) < ETW_RELAY_MIN_ETW_BUFFER ||
            etw_rd32(h + 4) > ETW_RELAY_MAX_ETW_BUFFER)
            goto corrupt;
        uint32_t len = etw_rd32(h + 4);
        if (sp->rseq < seq) {
            sp->roff += SPOOL_REC_HEADER + len;
            sp->rseq++;
            continue;
        }
        uint8_t *b = malloc(prefix + len);
        if (!b) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        if (full_pread(sp->rfd, b + prefix, len, sp->roff + SPOOL_REC_HEADER) != 0 ||
            etw_rd32(h + 16) != relay_spool_rec_crc(seq, len, b + prefix)) {
            free(b);
            goto corrupt;
        }
        sp->roff += SPOOL_REC_HEADER + len;
        sp->rseq++;
        *block = b;
        *size = len;
        return 0;
    }
corrupt:
    snprintf(err, errlen, "spool %s/%020llu.seg: corrupt at offset %llu (changed since it was written)",
             sp->dir, (unsigned long long)sp->rseg_first, (unsigned long long)sp->roff);
    sp->rseq = UINT64_MAX;
    return -1;
missing:
    if (!*err)
        snprintf(err, errlen, "spool %s: buffer %llu is not spooled", sp->dir, (unsigned long long)seq);
    sp->rseq = UINT64_MAX;
    return -1;
}

int relay_spool_list(const char *dir, char **paths, int max, int *n)
{
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : -1;
    struct dirent *de;
    while ((de = readdir(d)) && *n < max) {
        /* Session directories are source+session+instance; names never contain '+'. */
        if (de->d_name[0] == '.' || !strchr(de->d_name, '+'))
            continue;
        size_t len = strlen(dir) + strlen(de->d_name) + 2;
        char *p = malloc(len);
        if (!p)
            break;
        snprintf(p, len, "%s/%s", dir, de->d_name);
        struct stat st;
        if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
            free(p);
            continue;
        }
        paths[(*n)++] = p;
    }
    closedir(d);
    for (int i = 1; i < *n; i++) /* sorted, so sessions resume in a stable order */
        for (int j = i; j > 0 && strcmp(paths[j - 1], paths[j]) > 0; j--) {
            char *t = paths[j];
            paths[j] = paths[j - 1];
            paths[j - 1] = t;
        }
    return 0;
}
