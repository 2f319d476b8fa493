/* Generated traces for tests (see gen_trace.h). */
#include "gen_trace.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static int keep_buffer(const uint8_t *buf, size_t len, void *ctx)
{
    test_buffers *b = &((gen_trace *)ctx)->buffers;
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 64;
        b->data = realloc(b->data, b->cap * sizeof *b->data);
        b->size = realloc(b->size, b->cap * sizeof *b->size);
    }
    b->data[b->n] = malloc(len);
    memcpy(b->data[b->n], buf, len);
    b->size[b->n++] = (uint32_t)len;
    return 0;
}

static void keep_event(const etw_gen_event *ev, void *ctx)
{
    gen_expected *e = &((gen_trace *)ctx)->expected;
    if (e->n == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 1024;
        e->v = realloc(e->v, e->cap * sizeof *e->v);
    }
    e->v[e->n] = *ev;
    e->v[e->n].record = NULL;
    e->n++;
    if (ev->kind == ETW_GEN_KIND_HEADER)
        e->header_records++;
}

/* Delivery order: header-buffer records first as written, then time, processor, generation. */
static int by_delivery(const void *a, const void *b)
{
    const etw_gen_event *x = a, *y = b;
    int hx = x->kind == ETW_GEN_KIND_HEADER, hy = y->kind == ETW_GEN_KIND_HEADER;
    if (hx != hy)
        return hx ? -1 : 1;
    if (!hx && x->timestamp != y->timestamp)
        return x->timestamp < y->timestamp ? -1 : 1;
    if (!hx && x->processor != y->processor)
        return x->processor < y->processor ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

etw_gen_config gen_config(uint64_t seed, uint64_t events)
{
    etw_gen_config c;
    etw_gen_config_default(&c);
    c.seed = seed;
    if (events)
        c.events = events;
    return c;
}

int gen_trace_make(const etw_gen_config *c, gen_trace *t)
{
    memset(t, 0, sizeof *t);
    etw_gen_sinks sinks = {keep_buffer, keep_event, t, &t->summary};
    if (etw_gen_run_ex(c, &sinks) != 0)
        return -1;
    qsort(t->expected.v, t->expected.n, sizeof *t->expected.v, by_delivery);
    return 0;
}

int gen_trace_write_file(gen_trace *t)
{
    snprintf(t->path, sizeof t->path, "/tmp/etwire-gen-XXXXXX");
    int fd = mkstemp(t->path);
    if (fd < 0)
        return -1;
    for (size_t i = 0; i < t->buffers.n; i++)
        if (write(fd, t->buffers.data[i], t->buffers.size[i]) != (ssize_t)t->buffers.size[i]) {
            close(fd);
            return -1;
        }
    close(fd);
    return 0;
}

void gen_trace_stream_file(const etw_gen_config *c, char path[64], etw_gen_summary *sum)
{
    snprintf(path, 64, "/tmp/etwire-gen-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(etw_gen_write_file_ex(c, path, sum), 0);
}

void gen_trace_free(gen_trace *t)
{
    test_buffers_free(&t->buffers);
    free(t->expected.v);
    if (t->path[0])
        unlink(t->path);
    memset(t, 0, sizeof *t);
}

void gen_trace_check(const gen_trace *t, const test_events *got, int raw)
{
    if (got->n != t->expected.n)
        print_error("delivered %zu events, generated %zu\n", got->n, t->expected.n);
    assert_int_equal(got->n, t->expected.n);
    for (size_t i = 0; i < got->n; i++) {
        const etw_gen_event *x = &t->expected.v[i];
        const test_event *g = &got->v[i];
        int ok = (!raw || (uint64_t)g->time == x->timestamp) && g->len == x->payload_length &&
                 g->pid == x->process_id && g->tid == x->thread_id &&
                 !memcmp(&g->provider, &x->provider, sizeof g->provider) &&
                 g->desc.Opcode == x->opcode && g->ext_count == x->ext_count;
        if (x->kind != ETW_GEN_KIND_HEADER)
            ok = ok && g->cpu == x->processor;
        if (x->kind & (ETW_GEN_KIND_EVENT32 | ETW_GEN_KIND_EVENT64))
            ok = ok && g->desc.Id == x->id && g->desc.Task == x->task &&
                 g->desc.Keyword == x->keyword && g->desc.Level == x->level;
        if (!ok) {
            print_error("event %zu (%s, generated #%llu): ts %lld/%llu len %u/%u pid %u/%u tid %u/%u "
                        "cpu %u/%u op %u/%u ext %u/%u\n",
                        i, etw_gen_kind_name(x->kind), (unsigned long long)x->index,
                        (long long)g->time, (unsigned long long)x->timestamp, g->len,
                        x->payload_length, g->pid, x->process_id, g->tid, x->thread_id, g->cpu,
                        x->processor, g->desc.Opcode, x->opcode, g->ext_count, x->ext_count);
            fail();
        }
    }
}
