/* The embeddable sender (include/etwire/relay.h): options onto the sender (sender.h), its TLS
 * context, spool and pacing, and `send FILE` straight from the file's buffer index. */
#include <stdlib.h>
#include <string.h>

#include <etwire/relay.h>

#include "relay/input.h"
#include "relay/names.h"
#include "relay/net.h"
#include "relay/pace.h"
#include "relay/sender.h"
#include "relay/spool.h"
#include "relay/tls.h"
#include "relay/wire/msg.h"

struct etwire_relay_sender {
    relay_sender_opts o;
    relay_sender *s;
    relay_pace pace;
    char source[ETW_RELAY_NAME_MAX + 1], session[ETW_RELAY_NAME_MAX + 1];
    char tls_host[256];
    char err[512];
};

/* The sender's relay_sender_opts from the public options; the TLS context is created here
 * (the caller frees it). 0 or -1 with err. */
static int make_opts(const ETWIRE_RELAY_SENDER_OPTIONS *p, relay_sender_opts *o, char *tls_host,
                     size_t hostlen, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    if (!p->To) {
        snprintf(err, errlen, "no collector address");
        return -1;
    }
    if (relay_addr_check(p->To, err, errlen) != 0)
        return -1;
    if (p->Plain && !relay_addr_is_loopback(p->To)) {
        snprintf(err, errlen, "plain TCP is only for loopback addresses; use TLS");
        return -1;
    }
    o->to = p->To;
    o->instance = p->Instance ? p->Instance : relay_random64();
    o->resume = p->Resume;
    o->window = p->Window ? p->Window : 64;
    o->zstd = p->Zstd;
    o->retry_seconds = p->RetrySeconds ? (int)p->RetrySeconds : 60;
    o->spool_max = p->SpoolMax ? p->SpoolMax : 1ull << 30;
    o->verbose = p->Verbose;
    if (p->SpoolDir && o->spool_max < 2 * RELAY_SPOOL_SEGMENT) {
        snprintf(err, errlen, "the spool needs at least %u bytes", 2 * RELAY_SPOOL_SEGMENT);
        return -1;
    }
    if (!p->Plain) {
        relay_tls_files f = {p->TlsCert, p->TlsKey, p->TlsCa};
        if (!(o->tls_ctx = relay_tls_ctx_new(0, &f, err, errlen)))
            return -1;
        relay_addr_host(p->To, tls_host, hostlen);
        o->tls_host = p->TlsServerName ? p->TlsServerName : tls_host;
    }
    return 0;
}

ETWIRE_RELAY_API etwire_relay_sender *etwire_relay_sender_new(const ETWIRE_RELAY_SENDER_OPTIONS *p,
                                                              char *err, size_t errlen)
{
    etwire_relay_sender *x = calloc(1, sizeof *x);
    if (!x) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (make_opts(p, &x->o, x->tls_host, sizeof x->tls_host, err, errlen) != 0)
        goto fail;
    if (!p->Source || !etw_relay_name_valid(p->Source, strlen(p->Source)) || !p->Session ||
        !etw_relay_name_valid(p->Session, strlen(p->Session))) {
        snprintf(err, errlen, "source and session must be relay names ([A-Za-z0-9._-], 1..128 bytes)");
        goto fail;
    }
    snprintf(x->source, sizeof x->source, "%s", p->Source);
    snprintf(x->session, sizeof x->session, "%s", p->Session);
    x->o.source = x->source;
    x->o.session = x->session;
    x->pace.rate = p->Rate;
    relay_spool *sp = NULL;
    if (p->SpoolDir &&
        !(sp = relay_spool_create(p->SpoolDir, x->source, x->session, x->o.instance, err, errlen)))
        goto fail;
    if (!(x->s = relay_sender_create(&x->o))) {
        relay_spool_close(sp);
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (sp)
        relay_sender_attach_spool(x->s, sp, NULL);
    return x;
fail:
    relay_tls_ctx_free(x->o.tls_ctx);
    free(x);
    return NULL;
}

/* The sender as the input's target (input.h): each buffer is read straight into the frame it
 * is sent in, paced once it is there. */
static uint8_t *on_reserve(void *ctx, uint32_t size)
{
    etwire_relay_sender *x = ctx;
    if (size < ETW_RELAY_MIN_ETW_BUFFER || size > ETW_RELAY_MAX_ETW_BUFFER) {
        snprintf(x->err, sizeof x->err, "buffer size %lu outside 72 bytes .. 16 MiB", (unsigned long)size);
        return NULL;
    }
    return relay_sender_reserve(x->s, size);
}

static int on_commit(void *ctx, uint8_t *buf, uint32_t size, const relay_input_clock *clk)
{
    etwire_relay_sender *x = ctx;
    int ms = relay_pace_delay_ms(&x->pace, buf, size, clk);
    if (ms > 0 && relay_sender_idle(x->s, ms) != 0) {
        relay_sender_cancel(x->s);
        return -1;
    }
    return relay_sender_commit(x->s);
}

static void on_cancel(void *ctx, uint8_t *buf)
{
    (void)buf;
    relay_sender_cancel(((etwire_relay_sender *)ctx)->s);
}

ETWIRE_RELAY_API int etwire_relay_sender_push(etwire_relay_sender *x, const void *buffer, ULONG size,
                                              ULONG64 frequency)
{
    uint8_t *frame = on_reserve(x, size);
    if (!frame)
        return -1;
    memcpy(frame, buffer, size); /* the caller's memory is its own again on return */
    relay_input_clock clk = {.frequency = frequency};
    return on_commit(x, frame, size, &clk);
}

ETWIRE_RELAY_API int etwire_relay_sender_finish(etwire_relay_sender *x)
{
    return relay_sender_finish(x->s);
}

ETWIRE_RELAY_API const char *etwire_relay_sender_error(const etwire_relay_sender *x)
{
    return x->err[0] ? x->err : relay_sender_error(x->s);
}

ETWIRE_RELAY_API void etwire_relay_sender_stats(const etwire_relay_sender *x, ETWIRE_RELAY_SENDER_STATS *out)
{
    const relay_sender_stats *st = relay_sender_get_stats(x->s);
    *out = (ETWIRE_RELAY_SENDER_STATS){st->buffers, st->bytes, st->wire_bytes, st->resent,
                                       st->reconnects, st->acked, st->skipped};
}

ETWIRE_RELAY_API ULONG64 etwire_relay_sender_instance(const etwire_relay_sender *x)
{
    return x->o.instance;
}

ETWIRE_RELAY_API void etwire_relay_sender_free(etwire_relay_sender *x)
{
    if (!x)
        return;
    relay_sender_destroy(x->s);
    relay_tls_ctx_free(x->o.tls_ctx);
    free(x);
}

ETWIRE_RELAY_API int etwire_relay_send_file(etwire_relay_sender *x, const char *path, char *err,
                                            size_t errlen)
{
    relay_input_target t = {x, on_reserve, on_commit, on_cancel};
    return relay_input_index_into(path, x->pace.rate > 0, &t, err, errlen);
}

ETWIRE_RELAY_API int etwire_relay_send_stream(etwire_relay_sender *x, FILE *in, char *err, size_t errlen)
{
    relay_input_target t = {x, on_reserve, on_commit, on_cancel};
    return relay_input_stream_into(in, &t, err, errlen);
}

/* The summary line of a finished (or failed) spooled session. */
static void report(relay_sender *s, const relay_sender_opts *o, int rc)
{
    const relay_sender_stats *st = relay_sender_get_stats(s);
    if (rc != 0)
        fprintf(stderr, "etwire send: %s/%s: %s\n", o->source, o->session, relay_sender_error(s));
    else if (o->verbose)
        fprintf(stderr, "etwire send: %s/%s: instance %016llx, %llu buffers, %llu bytes (%llu on the wire), "
                "%llu resent, %llu reconnects, %llu already held\n",
                o->source, o->session, (unsigned long long)o->instance, (unsigned long long)st->buffers,
                (unsigned long long)st->bytes, (unsigned long long)st->wire_bytes,
                (unsigned long long)st->resent, (unsigned long long)st->reconnects,
                (unsigned long long)st->skipped);
}

#define MAX_SPOOLED_SESSIONS 4096

ETWIRE_RELAY_API int etwire_relay_resume_spool(const ETWIRE_RELAY_SENDER_OPTIONS *p)
{
    relay_sender_opts base;
    char host[256], err[640] = "";
    if (!p->SpoolDir || make_opts(p, &base, host, sizeof host, err, sizeof err) != 0) {
        fprintf(stderr, "etwire send: %s\n", p->SpoolDir ? err : "no spool directory");
        return 1;
    }
    char **paths = calloc(MAX_SPOOLED_SESSIONS, sizeof *paths);
    int n = 0, failures = 0;
    if (!paths || relay_spool_list(p->SpoolDir, paths, MAX_SPOOLED_SESSIONS, &n) != 0) {
        fprintf(stderr, "etwire send: spool %s: cannot list it\n", p->SpoolDir);
        free(paths);
        relay_tls_ctx_free(base.tls_ctx);
        return 1;
    }
    for (int i = 0; i < n; i++) {
        relay_spool_info info;
        int state;
        err[0] = 0;
        relay_spool *sp = relay_spool_open(paths[i], &info, &state, err, sizeof err);
        if (state == RELAY_SPOOL_BUSY || state == RELAY_SPOOL_EMPTY) {
            /* Said without -v: the spool directory is left alone or deleted. */
            if (err[0])
                fprintf(stderr, "etwire send: %s\n", err);
            else
                fprintf(stderr, "etwire send: %s: nothing spooled, deleted\n", paths[i]);
            continue;
        }
        if (!sp) {
            fprintf(stderr, "etwire send: %s\n", err);
            failures++;
            continue;
        }
        relay_sender_opts o = base;
        o.source = info.source;
        o.session = info.session;
        o.instance = info.instance;
        o.resume = 0;
        fprintf(stderr, "etwire send: %s/%s: resuming spooled instance %016llx, buffers %llu..%llu%s",
                info.source, info.session, (unsigned long long)info.instance, (unsigned long long)info.first_seq,
                (unsigned long long)info.next_seq,
                info.ended ? " and END\n" : " (its input stopped early: the session ends there)\n");
        if (info.cut_bytes)
            fprintf(stderr, "etwire send: %s: cut %llu bytes of a record the crash left incomplete\n", paths[i],
                    (unsigned long long)info.cut_bytes);
        relay_sender *s = relay_sender_create(&o);
        if (!s) {
            relay_spool_close(sp);
            failures++;
            continue;
        }
        relay_sender_attach_spool(s, sp, &info);
        int rc = relay_sender_finish(s);
        report(s, &o, rc);
        failures += rc != 0;
        relay_sender_destroy(s);
    }
    for (int i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
    relay_tls_ctx_free(base.tls_ctx);
    return failures;
}

ETWIRE_RELAY_API void etwire_relay_make_name(const char *text, char *out, size_t outlen)
{
    relay_name_from(text, out, outlen);
}

ETWIRE_RELAY_API int etwire_relay_address_is_loopback(const char *address)
{
    return relay_addr_is_loopback(address);
}

ETWIRE_RELAY_API ULONG64 etwire_relay_random_instance(void)
{
    uint64_t v;
    while (!(v = relay_random64())) {
    }
    return v;
}
