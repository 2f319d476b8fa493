/* The .etl of a collector session (see sink_files.h). */
#include "relay/sink_files.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/bytes.h"
#include "relay/wire/frame.h"

static int make_dir(const char *root, const char *source, char *path, size_t len)
{
    snprintf(path, len, "%s/%s", root, source);
    if (mkdir(root, 0750) != 0 && errno != EEXIST)
        return -1;
    return mkdir(path, 0750) != 0 && errno != EEXIST ? -1 : 0;
}

static void etl_path(const relay_sink_files *f, char *out, size_t len)
{
    snprintf(out, len, "%s/%s/%s.etl", f->out_dir, f->source, f->label);
}

/* Walks the .etl by BufferSize (etw-format.md B.1) and cuts off a partly written last buffer,
 * so the file holds exactly the buffers that were written whole. */
static int resume_etl(relay_sink_files *f, uint64_t *held)
{
    struct stat st;
    if (fstat(f->etl_fd, &st) != 0)
        return -1;
    uint64_t size = (uint64_t)st.st_size, off = 0, n = 0;
    while (size - off >= 4) {
        uint8_t b[4];
        if (pread(f->etl_fd, b, 4, (off_t)off) != 4)
            return -1;
        uint32_t bs = etw_rd32(b);
        if (bs < ETW_RELAY_MIN_ETW_BUFFER || bs > ETW_RELAY_MAX_ETW_BUFFER || bs > size - off)
            break;
        off += bs;
        n++;
    }
    if (off != size && ftruncate(f->etl_fd, (off_t)off) != 0)
        return -1;
    f->etl_bytes = off;
    *held = n;
    return 0;
}

int relay_sink_files_read(relay_sink_files *f, uint64_t *offset, uint8_t **buf, uint32_t *size)
{
    uint8_t b[4];
    if (f->etl_fd < 0 || *offset + 4 > f->etl_bytes || pread(f->etl_fd, b, 4, (off_t)*offset) != 4)
        return -1;
    uint32_t bs = etw_rd32(b);
    if (bs < ETW_RELAY_MIN_ETW_BUFFER || bs > f->etl_bytes - *offset)
        return -1;
    *buf = malloc(bs);
    if (!*buf || pread(f->etl_fd, *buf, bs, (off_t)*offset) != (ssize_t)bs) {
        free(*buf);
        *buf = NULL;
        return -1;
    }
    *size = bs;
    *offset += bs;
    return 0;
}

int relay_sink_files_open(relay_sink_files *f, const char *out_dir, const char *source,
                          const char *session, uint64_t instance, uint64_t *held, char *err,
                          size_t errlen)
{
    memset(f, 0, sizeof *f);
    f->etl_fd = -1;
    f->out_dir = out_dir;
    *held = 0;
    snprintf(f->source, sizeof f->source, "%s", source);
    snprintf(f->session, sizeof f->session, "%s", session);
    snprintf(f->label, sizeof f->label, "%s-%016llx", session, (unsigned long long)instance);
    if (!out_dir)
        return 0;
    char path[4608];
    etl_path(f, path, sizeof path);
    f->etl_fd = open(path, O_RDWR | O_CLOEXEC);
    if (f->etl_fd < 0 && errno == ENOENT)
        return 0; /* a new session: the file comes with its first buffer */
    if (f->etl_fd < 0 || resume_etl(f, held) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int create_etl(relay_sink_files *f, char *err, size_t errlen)
{
    char dir[4096], path[4608];
    if (make_dir(f->out_dir, f->source, dir, sizeof dir) != 0) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    etl_path(f, path, sizeof path);
    f->etl_fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (f->etl_fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    f->etl_bytes = 0;
    return 0;
}

int relay_sink_files_writev(relay_sink_files *f, struct iovec *iov, int count, char *err, size_t errlen)
{
    if (!f->out_dir)
        return 0;
    if (f->etl_fd < 0 && create_etl(f, err, errlen) != 0)
        return -1;
    uint64_t done = 0;
    while (count > 0) {
        ssize_t w = pwritev(f->etl_fd, iov, count < IOV_MAX ? count : IOV_MAX, (off_t)(f->etl_bytes + done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            snprintf(err, errlen, "writing the .etl: %s", w < 0 ? strerror(errno) : "no space");
            if (ftruncate(f->etl_fd, (off_t)f->etl_bytes) != 0) { /* keep whole buffers only */
            }
            return -1;
        }
        done += (uint64_t)w;
        size_t left = (size_t)w; /* moves past what was written */
        while (count > 0 && left >= iov->iov_len) {
            left -= iov->iov_len;
            iov++;
            count--;
        }
        if (count > 0) {
            iov->iov_base = (uint8_t *)iov->iov_base + left;
            iov->iov_len -= left;
        }
    }
    f->etl_bytes += done;
    return 0;
}

int relay_sink_files_write(relay_sink_files *f, const uint8_t *buf, uint32_t size, char *err, size_t errlen)
{
    struct iovec iov = {(void *)buf, size};
    return relay_sink_files_writev(f, &iov, 1, err, errlen);
}

void relay_sink_files_stats(relay_sink_files *f, FILE *out, const ETWIRE_SESSION_STATS *st,
                            uint64_t events, uint64_t buffers, const uint64_t cpu_ms[2])
{
    fprintf(out,
            "{\"source\":\"%s\",\"session\":\"%s\",\"buffers\":%llu,\"etl_bytes\":%llu,"
            "\"events\":%llu,\"events_late\":%llu,\"bad_records\":%llu,\"buffers_rejected\":%llu,"
            "\"bytes_held_peak\":%llu,\"cpu_receive_ms\":%llu,\"cpu_process_ms\":%llu}\n",
            f->source, f->label, (unsigned long long)buffers, (unsigned long long)f->etl_bytes,
            (unsigned long long)events, (unsigned long long)st->EventsLate,
            (unsigned long long)st->BadRecords, (unsigned long long)st->BuffersRejected,
            (unsigned long long)st->BytesHeldPeak, (unsigned long long)cpu_ms[0],
            (unsigned long long)cpu_ms[1]);
    fflush(out);
}

void relay_sink_files_close(relay_sink_files *f)
{
    if (f->etl_fd >= 0)
        close(f->etl_fd);
    f->etl_fd = -1;
}
