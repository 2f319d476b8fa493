/* etwire collect: the long-running collector. Accepts relay connections (TLS with client
 * certificates, or plain TCP on loopback for tests), runs one buffer-stream session and one
 * ProcessTrace thread per source/session, and writes .etl, JSON lines and statistics. SIGTERM
 * or SIGINT: stop accepting, drain every session, acknowledge, close the files, exit 0. */
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <etwire/relay.h>

#include "commands.h"
#include "relay_json.h"
#include "event_view.h"
#include "relay_opts.h"

#define MAX_ALLOW 256

static atomic_int stop_flag;
static etwire_relay_collector *running;
static etwire_relay_kafka_collector *running_kafka;

static void on_signal(int sig)
{
    atomic_store(&stop_flag, 1);
    if (running)
        etwire_relay_collector_stop(running);
    if (running_kafka)
        etwire_relay_kafka_collector_stop(running_kafka);
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: etwire collect --listen HOST:PORT [options]\n"
            "  --out DIR             save each session as DIR/<source>/<session>-<instance>.etl\n"
            "  --json DIR|-          decoded events as JSON lines, per session under DIR, or stdout\n"
            "  --schemas DIR         the schema store for --json (default: see etwire schemas)\n"
            "  --stats FILE|-        JSON lines of statistics per session, then the collector's (- = stderr)\n"
            "  --allow NAME          accept this source (repeatable; required with TLS)\n"
            "  --tls-cert F --tls-key F --tls-ca F   TLS 1.3, client certificates from that CA\n"
            "  --plain               unencrypted TCP, loopback addresses only (tests)\n"
            "  --window N            buffers in flight per session (default 64)\n"
            "  --max-memory BYTES    buffer bytes in flight per connection (default 256M)\n"
            "  --max-rate BYTES      bytes per second per connection (default unlimited)\n"
            "  --source-memory BYTES buffer bytes in flight per source, shared by all its sessions;\n"
            "                        each session is guaranteed half of --max-memory, and a session\n"
            "                        beyond what the quota holds is refused until one ends\n"
            "                        (RESOURCES; default unlimited)\n"
            "  --source-rate BYTES   bytes per second per source, shared by its sessions\n"
            "                        (default unlimited)\n"
            "  --max-sessions N      sessions held at once; beyond, the one idle longest is\n"
            "                        closed (it resumes from its .etl) (default 1024)\n"
            "  --max-connections N   connections served at once (default 256)\n"
            "  --idle SECONDS        close connections silent this long (default 60)\n"
            "  --frame-deadline S    a frame must arrive whole S seconds after its first byte\n"
            "                        (default 30)\n"
            "  --handshake-deadline S  TLS handshake and HELLO, in total (default 10)\n"
            "  --session-idle S      close sessions without a connection after S seconds; they\n"
            "                        resume from their .etl (default 300)\n"
            "  --unauth-per-address N  connections not yet authenticated per address (default 8)\n"
            "  --unauth-share PERCENT  ... and in all, as a share of --max-connections (default 25)\n"
            "  --zstd                accept zstd-compressed frames\n"
            "  --reorder 100NS|unbounded   reorder window of each buffer stream (default 2 s);\n"
            "                        unbounded makes a replay match reading the file\n"
            "  --port-file FILE      write the port listened on (for --listen HOST:0); the file\n"
            "                        appears whole (written aside, then renamed)\n"
            "  --ready-fd N          once listening (live socket included), write the port and a\n"
            "                        newline to descriptor N and close it: a script waits for that\n"
            "                        line (a pipe or FIFO), or for end of file if startup failed;\n"
            "                        with --kafka the line is 0, once the live socket (if any)\n"
            "                        listens and before the consumer joins its group\n"
            "  --live unix:PATH|default  publish every session live to real-time consumers\n"
            "                        (OpenTraceFromRealTimeLogger, etwire dump --live, etwire\n"
            "                        sessions); default: unix:$XDG_RUNTIME_DIR/etwire/live.sock\n"
            "  --live-mode OCTAL     permissions of the live socket (default 0660: owner, group)\n"
            "  --live-remote HOST:PORT  also serve remote subscribers, over TLS with the\n"
            "                        collector's --tls-* files (client certificates from its CA)\n"
            "  --live-allow NAME=SRC[,SRC...]  remote subscriber NAME (its certificate name) may\n"
            "                        see these sources (* for all); repeatable, required\n"
            "  --live-queue N        buffers queued per live subscriber before its drops begin\n"
            "                        (default 256)\n"
            "  -v                    log connections and session ends\n");
    if (etwire_relay_kafka_available())
        fprintf(out,
            "       etwire collect --kafka BROKERS --topic T --group G --out DIR [options]\n"
            "  --kafka BROKERS --topic T --group G   consume from Kafka as a member of group G;\n"
            "                        a session met mid-stream without its .etl in DIR starts\n"
            "                        from its header in T.headers, the gap is logged and counted\n");
}

/* --live: "default" is where consumers look without ETWIRE_LIVE; its folder is created
 * private to the user. */
static const char *live_address(const char *v, char *buf, size_t n)
{
    if (strcmp(v, "default") != 0)
        return v;
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    if (!xdg || !*xdg) {
        fprintf(stderr, "etwire collect: --live default needs XDG_RUNTIME_DIR\n");
        return NULL;
    }
    snprintf(buf, n, "%s/etwire", xdg);
    mkdir(buf, 0700);
    snprintf(buf, n, "unix:%s/etwire/live.sock", xdg);
    return buf;
}

static uint64_t parse_size(const char *s)
{
    char *end;
    uint64_t v = strtoull(s, &end, 10);
    if (*end == 'K' || *end == 'k')
        v <<= 10;
    else if (*end == 'M' || *end == 'm')
        v <<= 20;
    else if (*end == 'G' || *end == 'g')
        v <<= 30;
    return v;
}

/* --kafka: the session options apply as they are; the TCP-only ones are ignored. */
static int collect_kafka(const char *brokers, const char *topic, const char *group,
                         const ETWIRE_RELAY_COLLECTOR_OPTIONS *o, const char *stats, int ready_fd)
{
    if (!topic || !group || !o->OutDir) {
        usage(stderr);
        return 2;
    }
    ETWIRE_RELAY_KAFKA_OPTIONS ko = {.Brokers = brokers, .Topic = topic, .Group = group, .OutDir = o->OutDir,
                                     .Window = o->Window, .MaxMemory = o->MaxMemory, .Reorder = o->Reorder,
                                     .Verbose = o->Verbose, .Sessions = o->Sessions,
                                     .Live = o->Live, .LiveMode = o->LiveMode, .LiveQueue = o->LiveQueue};
    if (stats && !(ko.Stats = !strcmp(stats, "-") ? stderr : fopen(stats, "a"))) {
        fprintf(stderr, "etwire collect: cannot open the statistics file\n");
        return 1;
    }
    char err[512];
    etwire_relay_kafka_collector *k = etwire_relay_kafka_collector_new(&ko, err, sizeof err);
    if (!k) {
        fprintf(stderr, "etwire collect: %s\n", err);
        if (ko.Stats && ko.Stats != stderr)
            fclose(ko.Stats);
        return 2;
    }
    if (ready_fd >= 0) { /* no port: "0", so that one reader serves both kinds */
        dprintf(ready_fd, "0\n");
        close(ready_fd);
    }
    running_kafka = k;
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    if (atomic_load(&stop_flag))
        etwire_relay_kafka_collector_stop(k);
    int rc = etwire_relay_kafka_collector_run(k);
    running_kafka = NULL;
    etwire_relay_kafka_collector_free(k);
    if (ko.Stats && ko.Stats != stderr)
        fclose(ko.Stats);
    return rc;
}

/* Written aside and renamed, so that whoever sees the file sees it whole. */
static void write_port_file(const char *path, int port)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    FILE *pf = fopen(tmp, "w");
    if (!pf)
        return;
    int ok = fprintf(pf, "%d\n", port) > 0;
    ok &= fclose(pf) == 0;
    if (!ok || rename(tmp, path) != 0) {
        fprintf(stderr, "etwire collect: %s: cannot write the port file\n", path);
        unlink(tmp);
    }
}

static ULONG seconds_ms(const char *s)
{
    long v = atol(s);
    return v > 0 && v < 4000000 ? (ULONG)v * 1000 : 0;
}

int cmd_collect(int argc, char **argv)
{
    ETWIRE_RELAY_COLLECTOR_OPTIONS o = {0};
    cli_tls_files tls = {0};
    const char *stats = NULL, *port_file = NULL;
    int ready_fd = -1;
    const char *kafka = NULL, *topic = NULL, *group = NULL, *json_dir = NULL, *schemas = NULL;
    const char *allow[MAX_ALLOW + 1] = {0}, *live_allow[MAX_ALLOW + 1] = {0};
    int nlive_allow = 0;
    int nallow = 0, bad = 0;
    char live_buf[512];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--listen") && more) {
            o.Listen = argv[++i];
        } else if (!strcmp(a, "--kafka") && more) {
            kafka = argv[++i];
        } else if (!strcmp(a, "--topic") && more) {
            topic = argv[++i];
        } else if (!strcmp(a, "--group") && more) {
            group = argv[++i];
        } else if (!strcmp(a, "--out") && more) {
            o.OutDir = argv[++i];
        } else if (!strcmp(a, "--json") && more) {
            json_dir = argv[++i];
        } else if (!strcmp(a, "--schemas") && more) {
            schemas = argv[++i];
        } else if (!strcmp(a, "--stats") && more) {
            stats = argv[++i];
        } else if (!strcmp(a, "--allow") && more && nallow < MAX_ALLOW) {
            allow[nallow++] = argv[++i];
        } else if (!strcmp(a, "--window") && more) {
            bad |= !(o.Window = (ULONG)strtoul(argv[++i], NULL, 10));
        } else if (!strcmp(a, "--max-memory") && more) {
            bad |= !(o.MaxMemory = parse_size(argv[++i]));
        } else if (!strcmp(a, "--max-rate") && more) {
            o.MaxRate = parse_size(argv[++i]);
        } else if (!strcmp(a, "--source-memory") && more) {
            o.SourceMemory = parse_size(argv[++i]);
        } else if (!strcmp(a, "--source-rate") && more) {
            o.SourceRate = parse_size(argv[++i]);
        } else if (!strcmp(a, "--max-sessions") && more) {
            bad |= !(o.MaxSessions = (ULONG)strtoul(argv[++i], NULL, 10));
        } else if (!strcmp(a, "--max-connections") && more) {
            bad |= !(o.MaxConnections = (ULONG)strtoul(argv[++i], NULL, 10));
        } else if (!strcmp(a, "--idle") && more) {
            bad |= !(o.IdleMs = seconds_ms(argv[++i]));
        } else if (!strcmp(a, "--frame-deadline") && more) {
            bad |= !(o.FrameDeadlineMs = seconds_ms(argv[++i]));
        } else if (!strcmp(a, "--handshake-deadline") && more) {
            bad |= !(o.HandshakeDeadlineMs = seconds_ms(argv[++i]));
        } else if (!strcmp(a, "--session-idle") && more) {
            bad |= !(o.SessionIdleMs = seconds_ms(argv[++i]));
        } else if (!strcmp(a, "--unauth-per-address") && more) {
            bad |= !(o.UnauthPerAddress = (ULONG)strtoul(argv[++i], NULL, 10));
        } else if (!strcmp(a, "--unauth-share") && more) {
            o.UnauthPercent = (ULONG)strtoul(argv[++i], NULL, 10);
            bad |= o.UnauthPercent == 0 || o.UnauthPercent > 100;
        } else if (!strcmp(a, "--reorder") && more) {
            const char *v = argv[++i];
            o.Reorder = !strcmp(v, "unbounded") ? ETWIRE_REORDER_UNBOUNDED : strtoull(v, NULL, 10);
        } else if (!strcmp(a, "--live") && more) {
            o.Live = live_address(argv[++i], live_buf, sizeof live_buf);
            bad |= o.Live == NULL;
        } else if (!strcmp(a, "--live-remote") && more) {
            o.LiveRemote = argv[++i];
        } else if (!strcmp(a, "--live-allow") && more && nlive_allow < MAX_ALLOW) {
            live_allow[nlive_allow++] = argv[++i];
            bad |= strchr(live_allow[nlive_allow - 1], '=') == NULL;
        } else if (!strcmp(a, "--live-mode") && more) {
            o.LiveMode = (unsigned)strtoul(argv[++i], NULL, 8);
            bad |= o.LiveMode == 0 || o.LiveMode > 0777;
        } else if (!strcmp(a, "--live-queue") && more) {
            o.LiveQueue = (ULONG)strtoul(argv[++i], NULL, 10);
            bad |= o.LiveQueue == 0;
        } else if (!strcmp(a, "--port-file") && more) {
            port_file = argv[++i];
        } else if (!strcmp(a, "--ready-fd") && more) {
            char *end;
            long fd = strtol(argv[++i], &end, 10);
            bad |= *end || fd < 0 || fd > 65535 || fcntl((int)fd, F_GETFD) < 0;
            ready_fd = (int)fd;
        } else if (!strcmp(a, "--plain")) {
            o.Plain = 1;
        } else if (!strcmp(a, "--zstd")) {
            o.Zstd = 1;
        } else if (!strcmp(a, "-v")) {
            o.Verbose = 1;
        } else if (relay_tls_option(argc, argv, &i, &tls)) {
        } else {
            fprintf(stderr, "etwire collect: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (event_view_open_store(schemas) != 0) /* before any session decodes */
        return 2;
    if (json_dir)
        o.Sessions = relay_json_callbacks(json_dir);
    if (bad) {
        usage(stderr);
        return 2;
    }
    if (kafka)
        return collect_kafka(kafka, topic, group, &o, stats, ready_fd);
    if (!o.Listen) {
        usage(stderr);
        return 2;
    }
    o.Allow = nallow ? allow : NULL;
    o.LiveAllow = nlive_allow ? live_allow : NULL;
    o.TlsCert = tls.cert, o.TlsKey = tls.key, o.TlsCa = tls.ca;
    if (stats && !(o.Stats = !strcmp(stats, "-") ? stderr : fopen(stats, "a"))) {
        fprintf(stderr, "etwire collect: cannot open the statistics file\n");
        return 1;
    }
    char err[512];
    etwire_relay_collector *c = etwire_relay_collector_new(&o, err, sizeof err);
    if (!c) {
        fprintf(stderr, "etwire collect: %s\n", err);
        if (o.Stats && o.Stats != stderr)
            fclose(o.Stats);
        return strstr(err, "listen on") ? 1 : 2;
    }
    if (port_file)
        write_port_file(port_file, etwire_relay_collector_port(c));
    if (ready_fd >= 0) {
        /* A reader that went away costs nothing: SIGPIPE is ignored by main. */
        dprintf(ready_fd, "%d\n", etwire_relay_collector_port(c));
        close(ready_fd);
    }
    running = c;
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    if (atomic_load(&stop_flag))
        etwire_relay_collector_stop(c);
    int rc = etwire_relay_collector_run(c);
    etwire_relay_collector_free(c);
    running = NULL;
    if (o.Stats && o.Stats != stderr)
        fclose(o.Stats);
    return rc;
}
