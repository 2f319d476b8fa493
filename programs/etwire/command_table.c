/* The subcommand table (one line per command; the implementations live in cmd_*.c). */
#include <stddef.h>

#include "commands.h"

const cli_command cli_commands[] = {
    {"dump", cmd_dump, "print every event, in time order (text or JSON lines)"},
    {"stats", cmd_stats, "summarise a trace: buffers, events per provider, time span, losses"},
    {"export", cmd_export, "convert traces: pcapng (packet captures), timeline (Perfetto JSON)"},
    {"generate", cmd_generate, "write a synthetic .etl trace (seeded, deterministic)"},
    {"send", cmd_send, "stream .etl files or stdin to a collector (relay protocol)"},
    {"schemas", cmd_schemas, "the schema store: import manifests, provider binaries, MOF and TMF; list; show"},
    {"collect", cmd_collect, "receive buffer streams: save .etl, decode to JSON lines, stats"},
    {"sessions", cmd_sessions, "list the live sessions a collector publishes (collect --live)"},
    {NULL, NULL, NULL},
};
