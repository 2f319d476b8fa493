/* etwire send: streams .etl files or standard input to a collector as relay sessions
 * (docs/wire-protocol.md), one connection per session, in flush order, optionally at the
 * trace's own pace. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/bytes.h"
#include <etwire/relay.h>

#include "commands.h"
#include "relay/wire/msg.h"
#include "relay/input.h"
#include "relay/kafka.h"
#include "relay_opts.h"
#include "relay/pace.h"
#include "relay/sender.h"
#include "relay/spool.h"

#define MAX_SPOOLED_SESSIONS 4096

static void usage(FILE *out)
{
    fprintf(out,
            "usage: etwire send --to HOST:PORT [options] FILE.etl... | -\n"
            "       etwire send --to HOST:PORT --spool DIR [options] [FILE.etl... | -]\n"
            "  --source NAME        source name (default: this host's name; with TLS it must\n"
            "                       match the client certificate)\n"
            "  --session NAME       session name (one input only; default: the file's name)\n"
            "  --instance HEX       session instance (default random); giving the instance of an\n"
            "                       interrupted run resumes it: buffers the collector holds\n"
            "                       are read again but not sent\n"
            "  --window N           buffers in flight (default 64)\n"
            "  --zstd               compress frames when the collector agrees\n"
            "  --rate[=F]           replay at the trace's pace (F times faster)\n"
            "  --raw                cut files into buffers by BufferSize, without decoding\n"
            "  --spool DIR          write every buffer to DIR before sending it, so a restarted\n"
            "                       sender loses nothing (standard input included): each run\n"
            "                       first finishes the sessions an earlier run left in DIR (same\n"
            "                       instance, resent from what the collector holds; a session\n"
            "                       whose input was cut short ends after its last spooled\n"
            "                       buffer), then sends its inputs; no input is needed\n"
            "  --spool-max BYTES    disk the spool may use before reading waits for ACKs\n"
            "                       (K/M/G suffixes; default 1G)\n"
            "  --retry SECONDS      keep reconnecting this long without progress (default 60)\n"
            "  --tls-cert F --tls-key F --tls-ca F   mutual TLS (the default transport)\n"
            "  --tls-server-name N  name the collector's certificate must carry\n"
            "  --plain              unencrypted TCP, loopback addresses only (tests)\n"
            "  -v                   log connections and resends\n");
#ifdef ETWIRE_HAVE_RDKAFKA
    fprintf(out,
            "       etwire send --kafka BROKERS --topic T [--source N] [--session N] FILE... | -\n"
            "  --kafka BROKERS      publish to Kafka instead: one record per buffer, keyed\n"
            "  --topic T            source/session/instance (docs/wire-protocol.md); --rate\n"
            "                       paces publishing; --zstd: zstd record batches (else lz4)\n");
#endif
}

static int on_buffer(void *ctx, const uint8_t *buf, uint32_t size, const relay_input_clock *clk)
{
    return etwire_relay_sender_push(ctx, buf, size, clk->frequency);
}

static void report(relay_sender *s, const relay_sender_opts *o, int rc, const char *err)
{
    const relay_sender_stats *st = relay_sender_get_stats(s);
    if (rc != 0)
        fprintf(stderr, "etwire send: %s/%s: %s%s%s\n", o->source, o->session, err,
                *err ? "; " : "", relay_sender_error(s));
    else if (o->verbose)
        fprintf(stderr, "etwire send: %s/%s: instance %016llx, %llu buffers, %llu bytes (%llu on the wire), "
                "%llu resent, %llu reconnects, %llu already held\n",
                o->source, o->session, (unsigned long long)o->instance, (unsigned long long)st->buffers,
                (unsigned long long)st->bytes, (unsigned long long)st->wire_bytes,
                (unsigned long long)st->resent, (unsigned long long)st->reconnects,
                (unsigned long long)st->skipped);
}

/* Finishes every session an earlier run left in the spool directory; the number that failed. */
static int resume_spooled(const char *dir, relay_sender_opts base)
{
    char **paths = calloc(MAX_SPOOLED_SESSIONS, sizeof *paths);
    int n = 0, failures = 0;
    if (!paths || relay_spool_list(dir, paths, MAX_SPOOLED_SESSIONS, &n) != 0) {
        fprintf(stderr, "etwire send: spool %s: cannot list it\n", dir);
        free(paths);
        return 1;
    }
    for (int i = 0; i < n; i++) {
        relay_spool_info info;
        char err[640] = "";
        int state;
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
        report(s, &o, rc, "");
        failures += rc != 0;
        relay_sender_destroy(s);
    }
    for (int i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
    return failures;
}

/* One input as one session, through the public sender (include/etwire/relay.h). */
static int send_one(const char *input, ETWIRE_RELAY_SENDER_OPTIONS *po, int raw)
{
    char err[512] = "";
    etwire_relay_sender *x = etwire_relay_sender_new(po, err, sizeof err);
    if (!x) {
        fprintf(stderr, "etwire send: %s/%s: %s\n", po->Source, po->Session, err);
        return 1;
    }
    int rc;
    if (!strcmp(input, "-")) {
        rc = relay_input_stream(stdin, on_buffer, x, err, sizeof err);
    } else if (raw) {
        FILE *f = fopen(input, "rb");
        rc = f ? relay_input_stream(f, on_buffer, x, err, sizeof err) : -1;
        if (!f)
            snprintf(err, sizeof err, "%s: cannot open", input);
        else
            fclose(f);
    } else {
        rc = etwire_relay_send_file(x, input, err, sizeof err); /* from the index, no events */
    }
    if (rc == 0)
        rc = etwire_relay_sender_finish(x);
    ETWIRE_RELAY_SENDER_STATS st;
    etwire_relay_sender_stats(x, &st);
    if (rc != 0)
        fprintf(stderr, "etwire send: %s/%s: %s%s%s\n", po->Source, po->Session, err, *err ? "; " : "",
                etwire_relay_sender_error(x));
    else if (po->Verbose)
        fprintf(stderr, "etwire send: %s/%s: instance %016llx, %llu buffers, %llu bytes (%llu on the wire), "
                "%llu resent, %llu reconnects, %llu already held\n",
                po->Source, po->Session, (unsigned long long)etwire_relay_sender_instance(x),
                (unsigned long long)st.Buffers, (unsigned long long)st.Bytes, (unsigned long long)st.WireBytes,
                (unsigned long long)st.Resent, (unsigned long long)st.Reconnects, (unsigned long long)st.Skipped);
    etwire_relay_sender_free(x);
    return rc == 0 ? 0 : 1;
}

int cmd_send(int argc, char **argv)
{
    relay_sender_opts o = {.window = 64, .retry_seconds = 60, .spool_max = 1ull << 30};
    const char *spool_dir = NULL;
    relay_tls_files tls = {0};
    const char *source = NULL, *session = NULL, *server_name = NULL, *kafka = NULL, *topic = NULL;
    double rate = 0;
    int plain = 0, raw = 0, instance_set = 0, first_input = argc;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--to") && more) {
            o.to = argv[++i];
        } else if (!strcmp(a, "--kafka") && more) {
            kafka = argv[++i];
        } else if (!strcmp(a, "--topic") && more) {
            topic = argv[++i];
        } else if (!strcmp(a, "--source") && more) {
            source = argv[++i];
        } else if (!strcmp(a, "--session") && more) {
            session = argv[++i];
        } else if (!strcmp(a, "--instance") && more) {
            o.instance = strtoull(argv[++i], NULL, 16);
            instance_set = 1;
            o.resume = 1;
        } else if (!strcmp(a, "--window") && more) {
            o.window = (uint32_t)strtoul(argv[++i], NULL, 10);
        } else if (!strcmp(a, "--retry") && more) {
            o.retry_seconds = atoi(argv[++i]);
        } else if (!strcmp(a, "--zstd")) {
            o.zstd = 1;
        } else if (!strcmp(a, "--rate")) {
            rate = 1;
        } else if (!strncmp(a, "--rate=", 7)) {
            rate = atof(a + 7);
        } else if (!strcmp(a, "--spool") && more) {
            spool_dir = argv[++i];
        } else if (!strcmp(a, "--spool-max") && more) {
            char *end;
            o.spool_max = strtoull(argv[++i], &end, 10);
            o.spool_max <<= *end == 'K' || *end == 'k' ? 10 : *end == 'M' || *end == 'm' ? 20 : *end == 'G' || *end == 'g' ? 30 : 0;
        } else if (!strcmp(a, "--raw")) {
            raw = 1;
        } else if (!strcmp(a, "--plain")) {
            plain = 1;
        } else if (!strcmp(a, "--tls-server-name") && more) {
            server_name = argv[++i];
        } else if (!strcmp(a, "-v")) {
            o.verbose = 1;
        } else if (relay_tls_option(argc, argv, &i, &tls)) {
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "etwire send: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        } else {
            first_input = i;
            break;
        }
    }
    if ((!o.to && !kafka) || (kafka && (o.to || !topic || spool_dir)) || (first_input >= argc && !spool_dir) ||
        (session && argc - first_input > 1) || o.window == 0 || (spool_dir && o.spool_max < 2 * RELAY_SPOOL_SEGMENT)) {
        usage(stderr);
        return 2;
    }
    if (plain && !relay_addr_is_loopback(o.to)) {
        fprintf(stderr, "etwire send: --plain is only for loopback addresses; use TLS\n");
        return 2;
    }
    char host[256], tls_host[256], src[ETW_RELAY_NAME_MAX + 1], ses[ETW_RELAY_NAME_MAX + 1];
#ifndef ETWIRE_HAVE_RDKAFKA
    if (kafka) {
        fprintf(stderr, "etwire send: this etwire was built without Kafka support (librdkafka)\n");
        return 2;
    }
#else
    relay_kafka_producer *kp = NULL;
    if (kafka) {
        char err[512];
        if (!(kp = relay_kafka_producer_new(kafka, topic, o.zstd, o.verbose, err, sizeof err))) {
            fprintf(stderr, "etwire send: kafka: %s\n", err);
            return 2;
        }
        plain = 1; /* librdkafka owns the connections */
    }
#endif
    if (!plain) {
        char err[512];
        o.tls_ctx = relay_tls_ctx_new(0, &tls, err, sizeof err);
        if (!o.tls_ctx) {
            fprintf(stderr, "etwire send: %s\n", err);
            return 2;
        }
        relay_addr_host(o.to, tls_host, sizeof tls_host);
        o.tls_host = server_name ? server_name : tls_host;
    }
    if (!source && gethostname(host, sizeof host) == 0) {
        host[sizeof host - 1] = 0;
        source = host;
    }
    relay_name_from(source ? source : "localhost", src, sizeof src);
    o.source = src;
    int failures = 0;
    if (spool_dir)
        failures += resume_spooled(spool_dir, o);
    for (int i = first_input; i < argc; i++) {
        if (session) {
            relay_name_from(session, ses, sizeof ses);
        } else {
            const char *base = strrchr(argv[i], '/');
            char stem[256];
            snprintf(stem, sizeof stem, "%s", !strcmp(argv[i], "-") ? "stdin" : base ? base + 1 : argv[i]);
            char *dot = strrchr(stem, '.');
            if (dot && dot != stem)
                *dot = 0;
            relay_name_from(stem, ses, sizeof ses);
        }
        o.session = ses;
        if (!instance_set)
            o.instance = relay_random64();
#ifdef ETWIRE_HAVE_RDKAFKA
        if (kp) {
            failures += relay_kafka_send_one(kp, argv[i], raw, src, ses, o.instance, rate);
            continue;
        }
#endif
        ETWIRE_RELAY_SENDER_OPTIONS po = {.To = o.to, .Plain = plain, .TlsCert = tls.cert, .TlsKey = tls.key,
                                          .TlsCa = tls.ca, .TlsServerName = server_name, .Source = src,
                                          .Session = ses, .Instance = o.instance, .Resume = o.resume,
                                          .Window = o.window, .Zstd = o.zstd,
                                          .RetrySeconds = (ULONG)o.retry_seconds, .SpoolDir = spool_dir,
                                          .SpoolMax = o.spool_max, .Rate = rate, .Verbose = o.verbose};
        failures += send_one(argv[i], &po, raw);
    }
#ifdef ETWIRE_HAVE_RDKAFKA
    if (kp && relay_kafka_producer_finish(kp, 120000) != 0)
        failures++;
#endif
    relay_tls_ctx_free(o.tls_ctx);
    return failures ? 1 : 0;
}
