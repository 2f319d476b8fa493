/* etwire collect: the long-running collector. Accepts relay connections (TLS with client
 * certificates, or plain TCP on loopback for tests), runs one buffer-stream session and one
 * ProcessTrace thread per source/session, and writes .etl, JSON lines and statistics. SIGTERM
 * or SIGINT: stop accepting, drain every session, acknowledge, close the files, exit 0. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "relay/relay_msg.h"
#include "event_view.h"
#include "relay_collect.h"
#include "relay_kafka.h"
#include "relay_net.h"
#include "relay_opts.h"
#include "relay_quota.h"
#include "relay_zstd.h"

#define MAX_ALLOW 256

static atomic_int stop_flag;

static void on_signal(int sig)
{
    atomic_store(&stop_flag, 1);
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: etwire collect --listen HOST:PORT [options]\n"
            "  --out DIR             save each session as DIR/<source>/<session>-<instance>.etl\n"
            "  --json DIR|-          decoded events as JSON lines, per session under DIR, or stdout\n"
            "  --schemas DIR         the schema store for --json (default: see etwire schemas)\n"
            "  --stats FILE|-        one JSON line of statistics per session (- = stderr)\n"
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
            "  --zstd                accept zstd-compressed frames\n"
            "  --reorder 100NS|unbounded   reorder window of each buffer stream (default 2 s);\n"
            "                        unbounded makes a replay match reading the file\n"
            "  --port-file FILE      write the port listened on (for --listen HOST:0)\n"
            "  -v                    log connections and session ends\n");
#ifdef ETWIRE_HAVE_RDKAFKA
    fprintf(out,
            "       etwire collect --kafka BROKERS --topic T --group G --out DIR [options]\n"
            "  --kafka BROKERS --topic T --group G   consume from Kafka as a member of group G;\n"
            "                        a session met mid-stream without its .etl in DIR starts\n"
            "                        from its header in T.headers, the gap is logged and counted\n");
#endif
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

/* Joins finished connection threads; with all set, waits for every one. */
static uint32_t reap(relay_conn_job **jobs, uint32_t n, int all)
{
    uint32_t kept = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (all || atomic_load(&jobs[i]->finished)) {
            pthread_join(jobs[i]->thread, NULL);
            free(jobs[i]);
        } else {
            jobs[kept++] = jobs[i];
        }
    }
    return kept;
}

static int serve(int lfd, relay_collect_cfg *cfg, uint32_t max_conns)
{
    relay_registry *reg = relay_registry_create(cfg->max_sessions);
    relay_conn_job **jobs = calloc(max_conns, sizeof *jobs);
    if (!reg || !jobs) {
        fprintf(stderr, "etwire collect: out of memory\n");
        free(jobs);
        relay_registry_destroy(reg, cfg);
        return 1;
    }
    uint32_t n = 0;
    while (!atomic_load(&stop_flag)) {
        n = reap(jobs, n, 0);
        char peer[64];
        int fd = relay_accept(lfd, 200, peer, sizeof peer);
        if (fd < 0)
            continue;
        relay_conn_job *job = n < max_conns ? calloc(1, sizeof *job) : NULL;
        if (!job) {
            relay_log("%s: refused: %u connections already", peer, max_conns);
            close(fd);
            continue;
        }
        job->fd = fd;
        snprintf(job->peer, sizeof job->peer, "%s", peer);
        job->cfg = cfg;
        job->reg = reg;
        if (pthread_create(&job->thread, NULL, relay_collect_conn_main, job) != 0) {
            close(fd);
            free(job);
            continue;
        }
        jobs[n++] = job;
    }
    reap(jobs, n, 1);
    free(jobs);
    relay_registry_destroy(reg, cfg);
    return 0;
}

/* --kafka: the sink options apply as they are; the TCP-only ones are ignored. */
static int collect_kafka(const char *brokers, const char *topic, const char *group,
                         relay_collect_cfg *cfg, const char *stats)
{
#ifdef ETWIRE_HAVE_RDKAFKA
    if (!topic || !group || !cfg->sink.out_dir || cfg->max_memory == 0) {
        usage(stderr);
        return 2;
    }
    relay_kafka_collect_opts ko = {.brokers = brokers, .topic = topic, .group = group,
                                   .sink = cfg->sink, .stop = &stop_flag, .verbose = cfg->verbose};
    ko.sink.window = cfg->window;
    ko.sink.memory_limit = cfg->max_memory;
    if (stats && !(ko.stats = !strcmp(stats, "-") ? stderr : fopen(stats, "a"))) {
        fprintf(stderr, "etwire collect: cannot open the statistics file\n");
        return 1;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    int rc = relay_kafka_collect(&ko);
    if (ko.stats && ko.stats != stderr)
        fclose(ko.stats);
    return rc;
#else
    (void)brokers, (void)topic, (void)group, (void)cfg, (void)stats;
    fprintf(stderr, "etwire collect: this etwire was built without Kafka support (librdkafka)\n");
    return 2;
#endif
}

int cmd_collect(int argc, char **argv)
{
    relay_collect_cfg cfg = {.window = 64, .max_memory = 256ull << 20, .idle_ms = 60000,
                             .max_sessions = 1024, .stop = &stop_flag};
    relay_tls_files tls = {0};
    const char *listen_addr = NULL, *stats = NULL, *port_file = NULL;
    const char *kafka = NULL, *topic = NULL, *group = NULL, *schemas = NULL;
    char *allow[MAX_ALLOW + 1] = {0};
    int nallow = 0, plain = 0, zstd = 0;
    uint32_t max_conns = 256;
    uint64_t source_memory = 0, source_rate = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--listen") && more) {
            listen_addr = argv[++i];
        } else if (!strcmp(a, "--kafka") && more) {
            kafka = argv[++i];
        } else if (!strcmp(a, "--topic") && more) {
            topic = argv[++i];
        } else if (!strcmp(a, "--group") && more) {
            group = argv[++i];
        } else if (!strcmp(a, "--out") && more) {
            cfg.sink.out_dir = argv[++i];
        } else if (!strcmp(a, "--json") && more) {
            cfg.sink.json_dir = argv[++i];
        } else if (!strcmp(a, "--schemas") && more) {
            schemas = argv[++i];
        } else if (!strcmp(a, "--stats") && more) {
            stats = argv[++i];
        } else if (!strcmp(a, "--allow") && more && nallow < MAX_ALLOW) {
            allow[nallow++] = argv[++i];
        } else if (!strcmp(a, "--window") && more) {
            cfg.window = (uint32_t)strtoul(argv[++i], NULL, 10);
        } else if (!strcmp(a, "--max-memory") && more) {
            cfg.max_memory = parse_size(argv[++i]);
        } else if (!strcmp(a, "--max-rate") && more) {
            cfg.max_rate = parse_size(argv[++i]);
        } else if (!strcmp(a, "--source-memory") && more) {
            source_memory = parse_size(argv[++i]);
        } else if (!strcmp(a, "--source-rate") && more) {
            source_rate = parse_size(argv[++i]);
        } else if (!strcmp(a, "--max-sessions") && more) {
            cfg.max_sessions = (uint32_t)strtoul(argv[++i], NULL, 10);
        } else if (!strcmp(a, "--max-connections") && more) {
            max_conns = (uint32_t)strtoul(argv[++i], NULL, 10);
        } else if (!strcmp(a, "--idle") && more) {
            cfg.idle_ms = atoi(argv[++i]) * 1000;
        } else if (!strcmp(a, "--reorder") && more) {
            const char *v = argv[++i];
            cfg.sink.reorder = !strcmp(v, "unbounded") ? ETWIRE_REORDER_UNBOUNDED : strtoull(v, NULL, 10);
        } else if (!strcmp(a, "--port-file") && more) {
            port_file = argv[++i];
        } else if (!strcmp(a, "--plain")) {
            plain = 1;
        } else if (!strcmp(a, "--zstd")) {
            zstd = 1;
        } else if (!strcmp(a, "-v")) {
            cfg.verbose = 1;
        } else if (relay_tls_option(argc, argv, &i, &tls)) {
        } else {
            fprintf(stderr, "etwire collect: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (event_view_open_store(schemas) != 0) /* before any session decodes */
        return 2;
    if (kafka)
        return collect_kafka(kafka, topic, group, &cfg, stats);
    if (!listen_addr || cfg.window == 0 || cfg.max_memory == 0 || max_conns == 0 || cfg.idle_ms <= 0) {
        usage(stderr);
        return 2;
    }
    if (plain && !relay_addr_is_loopback(listen_addr)) {
        fprintf(stderr, "etwire collect: --plain is only for loopback addresses; use TLS\n");
        return 2;
    }
    for (int i = 0; i < nallow; i++)
        if (!etw_relay_name_valid(allow[i], strlen(allow[i]))) {
            fprintf(stderr, "etwire collect: '%s' is not a valid source name\n", allow[i]);
            return 2;
        }
    if (!plain && nallow == 0) {
        fprintf(stderr, "etwire collect: TLS needs at least one --allow SOURCE\n");
        return 2;
    }
    /* A session's reserve is what its stream may hold waiting for data (relay_sink.h). */
    if (source_memory && source_memory < cfg.max_memory / 2) {
        fprintf(stderr, "etwire collect: --source-memory must be at least half of --max-memory\n");
        return 2;
    }
    cfg.allow = nallow ? allow : NULL;
    cfg.sink.window = cfg.window;
    cfg.sink.memory_limit = cfg.max_memory;
    cfg.caps = zstd && relay_zstd_available() ? ETW_RELAY_CAP_ZSTD : 0;
    char err[512];
    if (!plain && !(cfg.tls_ctx = relay_tls_ctx_new(1, &tls, err, sizeof err))) {
        fprintf(stderr, "etwire collect: %s\n", err);
        return 2;
    }
    if (stats)
        cfg.stats = !strcmp(stats, "-") ? stderr : fopen(stats, "a");
    int lfd = relay_listen(listen_addr, err, sizeof err);
    if (lfd < 0 || (stats && !cfg.stats)) {
        fprintf(stderr, "etwire collect: %s\n", lfd < 0 ? err : "cannot open the statistics file");
        relay_tls_ctx_free(cfg.tls_ctx);
        return 1;
    }
    if (port_file) {
        FILE *pf = fopen(port_file, "w");
        if (pf) {
            fprintf(pf, "%d\n", relay_local_port(lfd));
            fclose(pf);
        }
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (cfg.verbose)
        relay_log("listening on %s (%s)", listen_addr, plain ? "plain TCP" : "TLS");
    if (!(cfg.quota = relay_quota_create(source_memory, source_rate, cfg.max_memory / 2))) {
        fprintf(stderr, "etwire collect: out of memory\n");
        close(lfd);
        relay_tls_ctx_free(cfg.tls_ctx);
        return 1;
    }
    int rc = serve(lfd, &cfg, max_conns);
    if (source_memory || source_rate) /* per-session lines only unless source quotas are in use */
        relay_quota_stats(cfg.quota, cfg.stats);
    relay_quota_destroy(cfg.quota);
    close(lfd);
    if (cfg.stats && cfg.stats != stderr)
        fclose(cfg.stats);
    relay_tls_ctx_free(cfg.tls_ctx);
    return rc;
}
