/* The takeover marker of a Kafka collector session (see kafka_takeover.h). The paths
 * follow the sink's layout (sink_files.c): DIR/<source>/<session>-<instance>.etl. */
#include "relay/kafka_takeover.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "relay/wire/frame.h"

#define MARKER_MAGIC "etwire-kafka-takeover 1 first "

static void path_of(char *out, size_t n, const char *dir, const char *source, const char *session,
                    uint64_t instance, const char *ext)
{
    snprintf(out, n, "%s/%s/%s-%016llx%s", dir, source, session, (unsigned long long)instance, ext);
}

int relay_kafka_etl_present(const char *out_dir, const char *source, const char *session,
                            uint64_t instance)
{
    char path[4608];
    struct stat st;
    path_of(path, sizeof path, out_dir, source, session, instance, ".etl");
    return stat(path, &st) == 0 && st.st_size >= (off_t)ETW_RELAY_MIN_ETW_BUFFER;
}

int relay_kafka_gap_read(const char *out_dir, const char *source, const char *session,
                         uint64_t instance, uint64_t *first)
{
    char path[4608], text[96] = "";
    path_of(path, sizeof path, out_dir, source, session, instance, ".gap");
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? 1 : -1;
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    size_t m = strlen(MARKER_MAGIC);
    if (strncmp(text, MARKER_MAGIC, m) != 0 || text[m] < '0' || text[m] > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text + m, &end, 10);
    if (errno || v == 0 || (*end != '\n' && *end != 0))
        return -1;
    *first = v;
    return 0;
}

int relay_kafka_gap_write(const char *out_dir, const char *source, const char *session,
                          uint64_t instance, uint64_t first, char *err, size_t errlen)
{
    char path[4608], tmp[4624], text[96];
    path_of(path, sizeof path, out_dir, source, session, instance, ".gap");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int len = snprintf(text, sizeof text, MARKER_MAGIC "%llu\n", (unsigned long long)first);
    /* The source's directory may not exist yet: the .etl comes only with its first buffer. */
    char dir[4224];
    snprintf(dir, sizeof dir, "%s/%s", out_dir, source);
    if ((mkdir(out_dir, 0750) != 0 && errno != EEXIST) || (mkdir(dir, 0750) != 0 && errno != EEXIST)) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    /* Durable before the .etl gets the header buffer: an .etl holding a header and later
     * buffers must never exist without the number that says which ones. */
    int ok = fd >= 0 && write(fd, text, (size_t)len) == len && fsync(fd) == 0;
    if (fd >= 0 && close(fd) != 0)
        ok = 0;
    if (!ok || rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            unlink(tmp);
        return -1;
    }
    return 0;
}

void relay_kafka_gap_remove(const char *out_dir, const char *source, const char *session,
                            uint64_t instance)
{
    char path[4608];
    path_of(path, sizeof path, out_dir, source, session, instance, ".gap");
    unlink(path);
}
