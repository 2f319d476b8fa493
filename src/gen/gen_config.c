/* Generator configuration: defaults, validation, and kind names for the CLI and tests. */
#include <string.h>
#include <strings.h>

#include <etwire/evntrace.h>

#include "gen/gen_internal.h"

void etw_gen_config_default(etw_gen_config *c)
{
    memset(c, 0, sizeof *c);
    c->seed = 1;
    c->processors = 4;
    c->pointer_size = 8;
    c->clock_type = ETW_GEN_CLOCK_QPC;
    c->perf_freq = 10000000;
    c->cpu_mhz = 2995;
    c->buffer_size = 64 * 1024;
    c->events = 10000;
    c->kinds = ETW_GEN_KINDS_64;
    c->log_file_mode = EVENT_TRACE_FILE_MODE_SEQUENTIAL;
    c->max_lag = 2500000; /* 0.25 s at 10 MHz */
    c->header_extension_records = 1;
    c->logger_id = 0x21;
}

const char *etw_gen_config_check(const etw_gen_config *c)
{
    if (!c)
        return "no configuration";
    if (c->processors < 1 || c->processors > 64)
        return "processors must be 1..64";
    if (c->pointer_size != 4 && c->pointer_size != 8)
        return "pointer size must be 4 or 8";
    if (c->clock_type < ETW_GEN_CLOCK_QPC || c->clock_type > ETW_GEN_CLOCK_CYCLES)
        return "clock type must be 1 (QPC), 2 (system time) or 3 (CPU cycles)";
    if (c->buffer_size < 512 || c->buffer_size > (16u << 20) || c->buffer_size % 8)
        return "buffer size must be a multiple of 8 in 512 .. 16 MiB";
    if (c->kinds & ~(uint32_t)ETW_GEN_KINDS_ALL)
        return "unknown header kind bits";
    if (c->idle_processors >= c->processors)
        return "at least one processor must log";
    if (c->perf_freq && c->perf_freq < 1000)
        return "perf_freq below 1 kHz";
    if (c->cpu_mhz > 100000)
        return "cpu_mhz out of range";
    if (c->append_sessions > 1 && c->append_sessions > c->events)
        return "more appended sessions than events";
    return NULL;
}

static const char *const names[ETW_GEN_KIND_COUNT] = {
    "SYSTEM32", "SYSTEM64", "COMPACT32", "COMPACT64", "PERFINFO32", "PERFINFO64", "FULL32",
    "FULL64", "INSTANCE32", "INSTANCE64", "EVENT32", "EVENT64", "MESSAGE"};

const char *etw_gen_kind_name(uint32_t kind)
{
    if (kind == ETW_GEN_KIND_HEADER)
        return "HEADER";
    for (unsigned i = 0; i < ETW_GEN_KIND_COUNT; i++)
        if (kind == 1u << i)
            return names[i];
    return "?";
}

uint32_t etw_gen_kind_parse(const char *name)
{
    for (unsigned i = 0; i < ETW_GEN_KIND_COUNT; i++)
        if (!strcasecmp(name, names[i]))
            return 1u << i;
    if (!strcasecmp(name, "all"))
        return ETW_GEN_KINDS_ALL;
    return 0;
}
