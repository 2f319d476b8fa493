/* etwire send: streams .etl files or standard input to a collector as relay sessions
 * (docs/wire-protocol.md), one connection per session, in flush order, optionally at the
 * trace's own pace. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <etwire/relay.h>

#include "commands.h"
#include "relay_opts.h"
#include "send_live.h"

#define ETW_RELAY_NAME_MAX 128

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
            "  --live SOURCE/SESSION  forward a live session of the collector at $ETWIRE_LIVE\n"
            "                       (collect --live) instead of files, until its sender ends it;\n"
            "                       --source and --session default to the live name's parts\n"
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
    if (etwire_relay_kafka_available())
        fprintf(out,
            "       etwire send --kafka BROKERS --topic T [--source N] [--session N] FILE... | -\n"
            "  --kafka BROKERS      publish to Kafka instead: one record per buffer, keyed\n"
            "  --topic T            source/session/instance (docs/wire-protocol.md); --rate\n"
            "                       paces publishing; --zstd: zstd record batches (else lz4)\n");
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
        rc = etwire_relay_send_stream(x, stdin, err, sizeof err);
    } else if (raw) {
        FILE *f = fopen(input, "rb");
        rc = f ? etwire_relay_send_stream(x, f, err, sizeof err) : -1;
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

/* --live: the session's names default to the live name's parts. */
static int send_live_named(const char *live, const char *source, const char *session,
                           ETWIRE_RELAY_SENDER_OPTIONS *o, const cli_tls_files *tls)
{
    char src[ETW_RELAY_NAME_MAX + 1], ses[ETW_RELAY_NAME_MAX + 1], part[ETW_RELAY_NAME_MAX + 1];
    const char *slash = strchr(live, '/');
    if (!slash || (size_t)(slash - live) > ETW_RELAY_NAME_MAX) {
        fprintf(stderr, "etwire send: --live %s: expected SOURCE/SESSION\n", live);
        return 2;
    }
    if (o->Plain && !etwire_relay_address_is_loopback(o->To)) {
        fprintf(stderr, "etwire send: --plain is only for loopback addresses; use TLS\n");
        return 2;
    }
    snprintf(part, sizeof part, "%.*s", (int)(slash - live), live);
    etwire_relay_make_name(source ? source : part, src, sizeof src);
    etwire_relay_make_name(session ? session : slash + 1, ses, sizeof ses);
    o->Source = src;
    o->Session = ses;
    o->Rate = 0; /* the live session sets the pace */
    o->TlsCert = tls->cert, o->TlsKey = tls->key, o->TlsCa = tls->ca;
    return send_live(live, o);
}

int cmd_send(int argc, char **argv)
{
    ETWIRE_RELAY_SENDER_OPTIONS o = {.Window = 64, .RetrySeconds = 60, .SpoolMax = 1ull << 30};
    cli_tls_files tls = {0};
    const char *source = NULL, *session = NULL, *kafka = NULL, *topic = NULL, *live = NULL;
    int raw = 0, instance_set = 0, first_input = argc;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--to") && more) {
            o.To = argv[++i];
        } else if (!strcmp(a, "--kafka") && more) {
            kafka = argv[++i];
        } else if (!strcmp(a, "--topic") && more) {
            topic = argv[++i];
        } else if (!strcmp(a, "--source") && more) {
            source = argv[++i];
        } else if (!strcmp(a, "--session") && more) {
            session = argv[++i];
        } else if (!strcmp(a, "--instance") && more) {
            o.Instance = strtoull(argv[++i], NULL, 16);
            instance_set = 1;
            o.Resume = 1;
        } else if (!strcmp(a, "--window") && more) {
            o.Window = (ULONG)strtoul(argv[++i], NULL, 10);
        } else if (!strcmp(a, "--retry") && more) {
            o.RetrySeconds = (ULONG)atoi(argv[++i]);
        } else if (!strcmp(a, "--live") && more) {
            live = argv[++i];
        } else if (!strcmp(a, "--zstd")) {
            o.Zstd = 1;
        } else if (!strcmp(a, "--rate")) {
            o.Rate = 1;
        } else if (!strncmp(a, "--rate=", 7)) {
            o.Rate = atof(a + 7);
        } else if (!strcmp(a, "--spool") && more) {
            o.SpoolDir = argv[++i];
        } else if (!strcmp(a, "--spool-max") && more) {
            char *end;
            o.SpoolMax = strtoull(argv[++i], &end, 10);
            o.SpoolMax <<= *end == 'K' || *end == 'k' ? 10 : *end == 'M' || *end == 'm' ? 20 : *end == 'G' || *end == 'g' ? 30 : 0;
        } else if (!strcmp(a, "--raw")) {
            raw = 1;
        } else if (!strcmp(a, "--plain")) {
            o.Plain = 1;
        } else if (!strcmp(a, "--tls-server-name") && more) {
            o.TlsServerName = argv[++i];
        } else if (!strcmp(a, "-v")) {
            o.Verbose = 1;
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
    if (live && first_input >= argc && !kafka && o.To && !o.SpoolDir)
        return send_live_named(live, source, session, &o, &tls);
    if ((!o.To && !kafka) || (kafka && (o.To || !topic || o.SpoolDir)) || (first_input >= argc && !o.SpoolDir) ||
        live ||
        (session && argc - first_input > 1) || o.Window == 0 || (o.SpoolDir && o.SpoolMax < (8u << 20)) ||
        (instance_set && o.Instance == 0)) {
        usage(stderr);
        return 2;
    }
    if (o.Plain && !kafka && !etwire_relay_address_is_loopback(o.To)) {
        fprintf(stderr, "etwire send: --plain is only for loopback addresses; use TLS\n");
        return 2;
    }
    o.TlsCert = tls.cert, o.TlsKey = tls.key, o.TlsCa = tls.ca;
    char host[256], src[ETW_RELAY_NAME_MAX + 1], ses[ETW_RELAY_NAME_MAX + 1];
    etwire_relay_kafka_producer *kp = NULL;
    if (kafka) {
        char err[512];
        if (!(kp = etwire_relay_kafka_producer_new(kafka, topic, o.Zstd, o.Verbose, err, sizeof err))) {
            fprintf(stderr, "etwire send: kafka: %s\n", err);
            return 2;
        }
    }
    if (!source && gethostname(host, sizeof host) == 0) {
        host[sizeof host - 1] = 0;
        source = host;
    }
    etwire_relay_make_name(source ? source : "localhost", src, sizeof src);
    o.Source = src;
    int failures = 0;
    if (o.SpoolDir)
        failures += etwire_relay_resume_spool(&o);
    for (int i = first_input; i < argc; i++) {
        if (session) {
            etwire_relay_make_name(session, ses, sizeof ses);
        } else {
            const char *base = strrchr(argv[i], '/');
            char stem[256];
            snprintf(stem, sizeof stem, "%s", !strcmp(argv[i], "-") ? "stdin" : base ? base + 1 : argv[i]);
            char *dot = strrchr(stem, '.');
            if (dot && dot != stem)
                *dot = 0;
            etwire_relay_make_name(stem, ses, sizeof ses);
        }
        o.Session = ses;
        if (!instance_set)
            o.Instance = 0; /* a random one per session */
        if (kp) {
            uint64_t instance = o.Instance ? o.Instance : etwire_relay_random_instance();
            failures += etwire_relay_kafka_send(kp, argv[i], raw, src, ses, instance, o.Rate);
            continue;
        }
        failures += send_one(argv[i], &o, raw);
    }
    if (kp && etwire_relay_kafka_producer_finish(kp, 120000) != 0)
        failures++;
    return failures ? 1 : 0;
}
