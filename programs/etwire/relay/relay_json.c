/* JSON lines of collector sessions (see relay_json.h). */
#include "relay_json.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "async_writer.h"
#include "base/strbuf.h"
#include "event_view.h"

typedef struct json_session {
    async_writer *out; /* NULL: shared stdout. Written by the writer pool: formatting goes on */
                       /* on the session's thread while its previous block is written */
    etw_strbuf line;
    ETWIRE_PROCESS_TRACKER *processes; /* the session's process names, learned from its stream */
    char prefix[320]; /* {"source":..,"session":.., on shared stdout */
} json_session;

/* Lines from many sessions share stdout: one lock keeps each line whole. */
static pthread_mutex_t stdout_mu = PTHREAD_MUTEX_INITIALIZER;

static void *on_open(void *ctx, const ETWIRE_RELAY_SESSION *s)
{
    const char *dir = ctx;
    json_session *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    if (!strcmp(dir, "-")) {
        snprintf(j->prefix, sizeof j->prefix, "{\"source\":\"%s\",\"session\":\"%s\",", s->Source, s->Label);
        return j;
    }
    char path[4608];
    snprintf(path, sizeof path, "%s/%s", dir, s->Source);
    if ((mkdir(dir, 0750) != 0 && errno != EEXIST) || (mkdir(path, 0750) != 0 && errno != EEXIST)) {
        fprintf(stderr, "etwire collect: %s: %s\n", path, strerror(errno));
        free(j);
        return NULL;
    }
    snprintf(path, sizeof path, "%s/%s/%s.jsonl", dir, s->Source, s->Label);
    /* Rewritten whole: a resumed session delivers its saved buffers' events again. */
    char err[600];
    if (!(j->out = async_writer_open(path, err, sizeof err))) {
        fprintf(stderr, "etwire collect: %s\n", err);
        free(j);
        return NULL;
    }
    return j;
}

static void on_event(void *ctx, PEVENT_RECORD r)
{
    json_session *j = ctx;
    if (!j)
        return;
    etw_strbuf *sb = &j->line;
    etw_strbuf_reset(sb);
    /* Process names as dump gives them: the session's stream teaches its own tracker. */
    if (!j->processes)
        j->processes = etwire_process_tracker_create();
    etwire_process_tracker_add(j->processes, r);
    event_view_set_processes(j->processes);
    event_view_json(sb, r); /* per-thread scratch: sessions format in parallel */
    event_view_set_processes(NULL);
    etw_strbuf_putc(sb, '\n');
    if (j->out) {
        async_writer_put(j->out, sb->data, sb->len);
        return;
    }
    /* The event object's own '{' gives way to the session prefix. */
    const char *body = sb->len && sb->data[0] == '{' ? sb->data + 1 : sb->data;
    pthread_mutex_lock(&stdout_mu);
    fputs(j->prefix, stdout);
    fwrite(body, 1, sb->len - (size_t)(body - sb->data), stdout);
    pthread_mutex_unlock(&stdout_mu);
}

static void on_close(void *ctx, const ETWIRE_RELAY_SESSION *s, const ETWIRE_SESSION_STATS *st)
{
    json_session *j = ctx;
    if (!j)
        return;
    if (j->out)
        async_writer_close(j->out);
    else
        fflush(stdout);
    etw_strbuf_free(&j->line);
    etwire_process_tracker_destroy(j->processes);
    free(j);
}

ETWIRE_RELAY_SESSION_CALLBACKS relay_json_callbacks(const char *dir)
{
    return (ETWIRE_RELAY_SESSION_CALLBACKS){.Open = on_open, .Event = on_event, .Close = on_close,
                                            .Context = (void *)dir};
}
