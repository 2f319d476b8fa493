/* Output files of a collector session (see relay_sink_files.h). */
#include "relay_sink_files.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/bytes.h"
#include "base/strbuf.h"
#include "event_view.h"
#include "relay/relay_frame.h"

/* Lines from many sessions share stdout: one lock keeps each line whole. */
static pthread_mutex_t stdout_mu = PTHREAD_MUTEX_INITIALIZER;

static int make_dir(const char *root, const char *source, char *path, size_t len)
{
    snprintf(path, len, "%s/%s", root, source);
    if (mkdir(root, 0750) != 0 && errno != EEXIST)
        return -1;
    return mkdir(path, 0750) != 0 && errno != EEXIST ? -1 : 0;
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
    if (*offset + 4 > f->etl_bytes || pread(f->etl_fd, b, 4, (off_t)*offset) != 4)
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

int relay_sink_files_open(relay_sink_files *f, const char *out_dir, const char *json_dir,
                          const char *source, const char *session, uint64_t instance,
                          uint64_t *held, char *err, size_t errlen)
{
    memset(f, 0, sizeof *f);
    f->etl_fd = -1;
    *held = 0;
    snprintf(f->source, sizeof f->source, "%s", source);
    snprintf(f->session, sizeof f->session, "%s", session);
    snprintf(f->label, sizeof f->label, "%s-%016llx", session, (unsigned long long)instance);
    char dir[4096], path[4608];
    if (out_dir) {
        if (make_dir(out_dir, source, dir, sizeof dir) != 0) {
            snprintf(err, errlen, "%s: %s", dir, strerror(errno));
            return -1;
        }
        snprintf(path, sizeof path, "%s/%s.etl", dir, f->label);
        f->etl_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
        if (f->etl_fd < 0 || resume_etl(f, held) != 0) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            return -1;
        }
    }
    if (json_dir && !strcmp(json_dir, "-")) {
        f->json_stdout = 1;
    } else if (json_dir) {
        if (make_dir(json_dir, source, dir, sizeof dir) != 0) {
            snprintf(err, errlen, "%s: %s", dir, strerror(errno));
            return -1;
        }
        snprintf(path, sizeof path, "%s/%s.jsonl", dir, f->label);
        /* Rewritten whole: a resumed session replays its saved buffers (relay_sink.c). */
        f->json = fopen(path, "w");
        if (!f->json) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            return -1;
        }
    }
    return 0;
}

int relay_sink_files_write(relay_sink_files *f, const uint8_t *buf, uint32_t size, char *err, size_t errlen)
{
    if (f->etl_fd < 0)
        return 0;
    size_t done = 0;
    while (done < size) {
        ssize_t w = pwrite(f->etl_fd, buf + done, size - done, (off_t)(f->etl_bytes + done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            snprintf(err, errlen, "writing the .etl: %s", strerror(errno));
            return -1;
        }
        done += (size_t)w;
    }
    f->etl_bytes += size;
    return 0;
}

/* The same JSON as `etwire dump --format json`, so a session's file compares line for line
 * with a dump of the sender's .etl; on shared stdout each line also names its session. */
void relay_sink_files_event(relay_sink_files *f, const EVENT_RECORD *r)
{
    if (!f->json && !f->json_stdout)
        return;
    etw_strbuf *sb = &f->line;
    etw_strbuf_reset(sb);
    if (f->json_stdout) {
        etw_strbuf_puts(sb, "{\"source\":\"");
        etw_strbuf_puts(sb, f->source);
        etw_strbuf_puts(sb, "\",\"session\":\"");
        etw_strbuf_puts(sb, f->label);
        etw_strbuf_puts(sb, "\",");
    }
    size_t at = sb->len;
    /* Process names as dump gives them: the session's stream teaches its own tracker. */
    if (!f->processes)
        f->processes = etwire_process_tracker_create();
    etwire_process_tracker_add(f->processes, r);
    event_view_set_processes(f->processes);
    event_view_json(sb, r); /* per-thread scratch: sessions format in parallel */
    event_view_set_processes(NULL);
    etw_strbuf_putc(sb, '\n');
    if (f->json) {
        fwrite(sb->data, 1, sb->len, f->json);
        return;
    }
    /* Drop the event object's own '{' after the session prefix. */
    if (sb->len > at && sb->data[at] == '{')
        memmove(sb->data + at, sb->data + at + 1, sb->len - at), sb->len--; /* NUL too */
    pthread_mutex_lock(&stdout_mu);
    fwrite(sb->data, 1, sb->len, stdout);
    pthread_mutex_unlock(&stdout_mu);
}

void relay_sink_files_stats(relay_sink_files *f, FILE *out, const ETWIRE_SESSION_STATS *st,
                            uint64_t events, uint64_t buffers)
{
    fprintf(out,
            "{\"source\":\"%s\",\"session\":\"%s\",\"buffers\":%llu,\"etl_bytes\":%llu,"
            "\"events\":%llu,\"events_late\":%llu,\"bad_records\":%llu,\"buffers_rejected\":%llu,"
            "\"bytes_held_peak\":%llu}\n",
            f->source, f->label, (unsigned long long)buffers, (unsigned long long)f->etl_bytes,
            (unsigned long long)events, (unsigned long long)st->EventsLate,
            (unsigned long long)st->BadRecords, (unsigned long long)st->BuffersRejected,
            (unsigned long long)st->BytesHeldPeak);
    fflush(out);
}

void relay_sink_files_close(relay_sink_files *f)
{
    if (f->etl_fd >= 0)
        close(f->etl_fd);
    if (f->json)
        fclose(f->json);
    if (f->json_stdout)
        fflush(stdout);
    etw_strbuf_free(&f->line);
    etwire_process_tracker_destroy(f->processes);
    f->processes = NULL;
    f->etl_fd = -1;
    f->json = NULL;
}
