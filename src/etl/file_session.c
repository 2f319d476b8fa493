/* The file as a buffer source (see file_session.h): buffers are read in flush order when the
 * merge needs the next one, each processor's buffer count is known from the index, and a file
 * processed again is read again from its first buffer (docs/api/lifetime.md). */
#include "etl/file_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etl/decompress_ahead.h"
#include "etl/decompress_ahead_timeline.h"
#include "etl/file_source.h"
#include "format/buffer_header.h"

static etw_status count_buffers(etw_file_source *f, etw_session *s)
{
    for (size_t i = 1; i < f->count; i++) {
        etw_status st = etw_session_expect_buffer(s, f->entries[i].proc);
        if (st != ETW_OK)
            return st;
    }
    return ETW_OK;
}

/* A compressed file's buffers are decompressed ahead on a second thread, in the order the
 * reader will want them (decompress_ahead.h). It starts when the file is opened, guessing that
 * events will be merged (the common consumer), so that it is ahead when ProcessTrace begins;
 * ProcessTrace restarts it when the guess was wrong or the file is read again, and it ends
 * when the last buffer was read or the trace is closed. */
static void start_ahead(etw_file_source *f, etw_session *s, int merged)
{
    etw_ahead_stop(f->ahead);
    f->ahead = NULL;
    if ((s->header.LogFileMode & EVENT_TRACE_COMPRESSED_MODE) && etw_ahead_wanted(f->compressed))
        f->ahead = etw_ahead_start(f->fd, f->entries, f->count, f->nprocs, merged,
                                   s->compression, s->header.BufferSize);
}

static void stop_ahead(etw_file_source *f)
{
    etw_ahead_stop(f->ahead);
    f->ahead = NULL;
    f->head_only = 0;
    free(f->ahead_block);
    f->ahead_block = NULL;
}

/* With the thread running and nobody seeing buffers, only a buffer's header is read first: a
 * compressed buffer the thread has decompressed needs none of its stored bytes (the session
 * takes the thread's block through file_inflated), which saves the reader copying the
 * compressed file; any other buffer is read in full now. */
static etw_status read_rest_unless_ahead(etw_file_source *f, const etw_file_entry *e,
                                         const uint8_t *p)
{
    etw_buffer_header h;
    etw_status st = etw_buffer_header_parse(p, ETW_BUFFER_HEADER_SIZE, &h);
    if (st == ETW_OK && (h.flags & ETW_BUFFER_FLAG_COMPRESSED)) {
        f->ahead_block = etw_ahead_take(f->ahead, f->ahead_entry);
        if (f->ahead_block) {
            if (memcmp(f->ahead_block, p, ETW_BUFFER_HEADER_SIZE) == 0)
                return ETW_OK;
            free(f->ahead_block); /* the file changed under the thread: read it again */
            f->ahead_block = NULL;
        }
    }
    uint64_t tl = ETW_TL_NOW();
    st = etw_file_source_finish(f, e, p);
    ETW_TL_SPAN(ETW_TL_READER, ETW_TL_READ, tl, e - f->entries);
    return st;
}

#ifdef ETWIRE_AHEAD_TIMELINE
static uint64_t tl_run; /* when ProcessTrace asked for its first buffer */
static int tl_inflated; /* the session took a block from the thread */
#endif

static etw_status file_begin(void *impl, etw_session *s, int again)
{
    etw_file_source *f = impl;
    etw_file_source_whole_buffers(f, s->observed);
    if (again || !f->ahead || etw_ahead_merged(f->ahead) != s->merges)
        start_ahead(f, s, s->merges);
    f->head_only = f->ahead && !s->observed;
    if (again) {
        etw_file_source_rewind(f);
        etw_session_restart(s);
        etw_status st = count_buffers(f, s);
        if (st != ETW_OK)
            return st;
    }
    /* What the index found, reported now that a diagnostic callback may be listening. */
    for (size_t i = 0; i < f->problem_count && i < ETW_FILE_PROBLEMS_KEPT; i++) {
        const etw_file_problem *p = &f->problems[i];
        etw_session_skip_buffer(s, p->status, p->index, p->offset, UINT32_MAX, p->detail);
    }
    return ETW_OK;
}

static etw_source_result file_next(void *impl, etw_session *s, uint32_t slot)
{
    etw_file_source *f = impl;
    const etw_file_entry *e;
    const uint8_t *p;
    size_t n;
    etw_status st;
    /* Events are merged: read the waited-for processor's next buffer directly instead of every
     * buffer flushed before it (buffers still complete in flush order when someone sees them,
     * see first_pending). Without events, buffers are done on arrival: read in flush order. */
    uint32_t processor = s->merges && slot != UINT32_MAX && slot > 0 ? slot - 1 : UINT32_MAX;
    uint64_t tl = ETW_TL_NOW(), tl_next = tl;
#ifdef ETWIRE_AHEAD_TIMELINE
    if (!tl_run)
        tl_run = tl;
#endif
    while (etw_file_source_next(f, processor, &e, &p, &n, &st)) {
        ETW_TL_SPAN(ETW_TL_READER, ETW_TL_HEAD, tl_next, e - f->entries);
        f->ahead_entry = (size_t)(e - f->entries);
        if (p && f->head_only)
            st = read_rest_unless_ahead(f, e, p);
        if (p && st == ETW_OK) {
            uint64_t tl_add = ETW_TL_NOW();
#ifdef ETWIRE_AHEAD_TIMELINE
            tl_inflated = 0;
#endif
            st = etw_session_add(s, p, n, e->offset, (uint64_t)(e - f->entries), e->last_of_proc, 0);
#ifdef ETWIRE_AHEAD_TIMELINE
            etw_buffer_header h;
            int own = !tl_inflated && etw_buffer_header_parse(p, n, &h) == ETW_OK &&
                      (h.flags & ETW_BUFFER_FLAG_COMPRESSED);
            ETW_TL_SPAN(ETW_TL_READER, own ? ETW_TL_ADD_DECODE : ETW_TL_ADD, tl_add, e - f->entries);
#else
            (void)tl_add;
#endif
        }
        free(f->ahead_block); /* taken by the session unless it refused the buffer first */
        f->ahead_block = NULL;
        if (st == ETW_OK) {
            ETW_TL_SPAN(ETW_TL_READER, ETW_TL_SOURCE, tl, 0);
            return ETW_SOURCE_QUEUED;
        }
        /* A buffer that cannot be read or taken is reported by position and skipped. */
        etw_file_source_done(f, p);
        etw_session_skip_buffer(s, st, UINT64_MAX, e->offset, e->proc, NULL);
        tl_next = ETW_TL_NOW();
    }
    stop_ahead(f);
    ETW_TL_SPAN(ETW_TL_READER, ETW_TL_SOURCE, tl, 0);
#ifdef ETWIRE_AHEAD_TIMELINE
    ETW_TL_SPAN(ETW_TL_READER, ETW_TL_RUN, tl_run, 0);
    tl_run = 0;
#endif
    return ETW_SOURCE_END;
}

static uint8_t *file_inflated(void *impl, const uint8_t *p, size_t n)
{
    etw_file_source *f = impl;
    uint8_t *d = f->head_only ? f->ahead_block : etw_ahead_take(f->ahead, f->ahead_entry);
    f->ahead_block = NULL;
    /* The session keeps the blocks of completed buffers for its own decompressing; with the
     * thread doing that, one goes back to the thread for each it hands over (called from
     * etw_session_accept, which holds the session's lock). */
    etw_session *s = f->session;
    if (d && s->nspare_inflated &&
        etw_ahead_give(f->ahead, s->spare_inflated[s->nspare_inflated - 1]))
        s->nspare_inflated--;
    /* The thread read the buffer on its own: only a header identical to the one the session
     * checked (a file rewritten meanwhile would differ) vouches for the bytes behind it. */
    if (d && (n < ETW_BUFFER_HEADER_SIZE || memcmp(d, p, ETW_BUFFER_HEADER_SIZE) != 0)) {
        free(d);
        d = NULL;
    }
#ifdef ETWIRE_AHEAD_TIMELINE
    tl_inflated = d != NULL;
#endif
    return d;
}

static uint64_t file_first_pending(void *impl)
{
    return etw_file_source_first_untaken(impl);
}

static etw_status file_reread(void *impl, uint64_t pos, const uint8_t **p, size_t *n)
{
    return etw_file_source_reread(impl, pos, p, n);
}

static void file_done(void *impl, const uint8_t *p)
{
    etw_file_source_done(impl, p);
}

static void file_keep(void *impl)
{
    etw_file_source_keep_blocks(impl);
}

static void file_close(void *impl)
{
    stop_ahead(impl);
    etw_file_source_close(impl);
}

static const etw_source_ops file_ops = {
    .counts_buffers = 1,
    .begin = file_begin,
    .next = file_next,
    .first_pending = file_first_pending,
    .reread = file_reread,
    .done = file_done,
    .keep = file_keep,
    .close = file_close,
    .inflated = file_inflated,
};

etw_session *etw_file_session_open(const char *path, etw_status *st, char *err, size_t errlen)
{
    etw_file_source *f;
    uint64_t tl = ETW_TL_NOW();
    if ((*st = etw_file_source_open(path, &f, err, errlen)) != ETW_OK)
        return NULL;
    etw_session *s = etw_session_create((etw_source){&file_ops, f});
    if (!s) {
        etw_file_source_close(f);
        *st = ETW_E_NOMEM;
        return NULL;
    }
    f->session = s;
    const etw_file_entry *e;
    const uint8_t *p;
    size_t n;
    etw_file_source_next(f, UINT32_MAX, &e, &p, &n, st);
    if (p)
        *st = etw_session_add(s, p, n, e->offset, 0, 0, 0);
    if (*st != ETW_OK) {
        snprintf(err, errlen, "%s: buffer 0 at offset 0: %s", path, etw_status_message(*st));
        etw_session_destroy(s);
        return NULL;
    }
    if ((*st = count_buffers(f, s)) != ETW_OK) {
        etw_session_destroy(s);
        return NULL;
    }
    ETW_TL_SPAN(ETW_TL_READER, ETW_TL_OPEN, tl, 0);
    start_ahead(f, s, 1);
    return s;
}
