/* etwire generate: writes a synthetic, seeded .etl trace (src/gen, docs/generator.md). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "gen/trace_gen.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: etwire generate [options] [-o FILE]\n"
            "Writes a synthetic .etl trace; the same options always give the same bytes.\n\n"
            "  --seed N              random seed (default 1)\n"
            "  --events N            data events after the header records (default 10000)\n"
            "  --processors N        1..64 (default 4)\n"
            "  --pointer-size 4|8    producer pointer size (default 8)\n"
            "  --clock qpc|system|cycles   session clock (default qpc)\n"
            "  --buffer-size BYTES   512 .. 16M, K/M suffixes allowed (default 64K)\n"
            "  --kinds LIST|all      comma-separated header kinds, e.g. SYSTEM64,EVENT64,MESSAGE\n"
            "                        (default: every kind of the pointer size)\n"
            "  --legacy-context      Windows 7 style buffers (no PROC_INDEX flag)\n"
            "  --max-lag TICKS       flush timer in raw clock ticks (default 0.25 s),\n"
            "                        0 = flush only when full\n"
            "  --lost-every N        flag every Nth data buffer EVENTS_LOST\n"
            "  --idle-processors N   processors that log nothing\n"
            "  -o, --output FILE     output file ('-' = standard output, the default\n"
            "                        when it is not a terminal)\n"
            "  -h, --help            this text\n");
}

/* Unsigned number with an optional K/M/G suffix (binary multiples). */
static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-')
        return -1;
    unsigned long long v = strtoull(s, &end, 0);
    unsigned shift = 0;
    if (*end == 'K' || *end == 'k')
        shift = 10, end++;
    else if (*end == 'M' || *end == 'm')
        shift = 20, end++;
    else if (*end == 'G' || *end == 'g')
        shift = 30, end++;
    if (errno || *end || v > (max >> shift))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

static int parse_kinds(const char *s, uint32_t *out)
{
    char buf[256];
    if (strlen(s) >= sizeof buf)
        return -1;
    strcpy(buf, s);
    uint32_t kinds = 0;
    for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        uint32_t k = etw_gen_kind_parse(tok);
        if (!k)
            return -1;
        kinds |= k;
    }
    *out = kinds;
    return kinds ? 0 : -1;
}

static int bad(const char *opt, const char *val)
{
    fprintf(stderr, "etwire generate: invalid value for %s: '%s'\n", opt, val ? val : "");
    return 2;
}

int cmd_generate(int argc, char **argv)
{
    enum { O_SEED = 256, O_EVENTS, O_PROCS, O_PTR, O_CLOCK, O_BUFSIZE, O_KINDS, O_LEGACY,
           O_LAG, O_LOST, O_IDLE };
    static const struct option opts[] = {
        {"seed", required_argument, NULL, O_SEED},
        {"events", required_argument, NULL, O_EVENTS},
        {"processors", required_argument, NULL, O_PROCS},
        {"pointer-size", required_argument, NULL, O_PTR},
        {"clock", required_argument, NULL, O_CLOCK},
        {"buffer-size", required_argument, NULL, O_BUFSIZE},
        {"kinds", required_argument, NULL, O_KINDS},
        {"legacy-context", no_argument, NULL, O_LEGACY},
        {"max-lag", required_argument, NULL, O_LAG},
        {"lost-every", required_argument, NULL, O_LOST},
        {"idle-processors", required_argument, NULL, O_IDLE},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    etw_gen_config cfg;
    etw_gen_config_default(&cfg);
    cfg.kinds = 0;
    const char *path = NULL;
    uint64_t v;
    int lag_given = 0;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
        switch (c) {
        case O_SEED:
            if (parse_u64(optarg, UINT64_MAX, &cfg.seed))
                return bad("--seed", optarg);
            break;
        case O_EVENTS:
            if (parse_u64(optarg, UINT64_MAX, &cfg.events))
                return bad("--events", optarg);
            break;
        case O_PROCS:
            if (parse_u64(optarg, 64, &v) || v < 1)
                return bad("--processors", optarg);
            cfg.processors = (unsigned)v;
            break;
        case O_PTR:
            if (parse_u64(optarg, 8, &v) || (v != 4 && v != 8))
                return bad("--pointer-size", optarg);
            cfg.pointer_size = (unsigned)v;
            break;
        case O_CLOCK:
            if (!strcmp(optarg, "qpc"))
                cfg.clock_type = ETW_GEN_CLOCK_QPC;
            else if (!strcmp(optarg, "system"))
                cfg.clock_type = ETW_GEN_CLOCK_SYSTEM;
            else if (!strcmp(optarg, "cycles"))
                cfg.clock_type = ETW_GEN_CLOCK_CYCLES;
            else
                return bad("--clock", optarg);
            break;
        case O_BUFSIZE:
            if (parse_u64(optarg, 16u << 20, &v))
                return bad("--buffer-size", optarg);
            cfg.buffer_size = (uint32_t)v;
            break;
        case O_KINDS:
            if (parse_kinds(optarg, &cfg.kinds))
                return bad("--kinds", optarg);
            break;
        case O_LEGACY:
            cfg.legacy_context = 1;
            break;
        case O_LAG:
            if (parse_u64(optarg, UINT64_MAX, &cfg.max_lag))
                return bad("--max-lag", optarg);
            lag_given = 1;
            break;
        case O_LOST:
            if (parse_u64(optarg, UINT32_MAX, &v))
                return bad("--lost-every", optarg);
            cfg.lost_every = (unsigned)v;
            break;
        case O_IDLE:
            if (parse_u64(optarg, 63, &v))
                return bad("--idle-processors", optarg);
            cfg.idle_processors = (unsigned)v;
            break;
        case 'o':
            path = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case ':':
            fprintf(stderr, "etwire generate: option '%s' needs a value\n", argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "etwire generate: unknown option '%s'\n", argv[optind - 1]);
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "etwire generate: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!path || !strcmp(path, "-")) {
        if (isatty(STDOUT_FILENO)) {
            fprintf(stderr, "etwire generate: refusing to write binary data to a terminal; use -o FILE\n");
            return 2;
        }
        path = NULL;
    }
    if (!lag_given) /* a quarter second of trace time in whatever clock was chosen */
        cfg.max_lag = etw_gen_ticks_per_second(&cfg) / 4;
    const char *why = etw_gen_config_check(&cfg);
    if (why) {
        fprintf(stderr, "etwire generate: %s\n", why);
        return 2;
    }
    etw_gen_summary sum;
    int rc = path ? etw_gen_write_file_ex(&cfg, path, &sum)
                  : etw_gen_run_ex(&cfg, &(etw_gen_sinks){etw_gen_emit_stdio, NULL, stdout, &sum});
    if (rc) {
        fprintf(stderr, "etwire generate: writing %s failed: %s\n", path ? path : "standard output",
                errno ? strerror(errno) : "out of memory");
        return 1;
    }
    if (!path && fflush(stdout)) {
        fprintf(stderr, "etwire generate: writing standard output failed: %s\n", strerror(errno));
        return 1;
    }
    fprintf(stderr,
            "etwire generate: %s: %llu buffers of %u bytes, %llu events (%llu header records), "
            "%u processors, seed %llu, max lag %llu ticks\n",
            path ? path : "<stdout>", (unsigned long long)sum.buffers, cfg.buffer_size,
            (unsigned long long)sum.events, (unsigned long long)sum.header_records, cfg.processors,
            (unsigned long long)cfg.seed, (unsigned long long)sum.max_lag);
    return 0;
}
