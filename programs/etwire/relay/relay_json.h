/* `etwire collect --json DIR|-`: the collector's session callbacks (include/etwire/relay.h)
 * that write each session's decoded events as JSON lines, the same lines as `etwire dump -f
 * json`, to DIR/<source>/<session>-<instance>.jsonl, or all to stdout, each line then naming
 * its session. */
#ifndef ETWIRE_CLI_RELAY_JSON_H
#define ETWIRE_CLI_RELAY_JSON_H

#include <etwire/relay.h>

/* Callbacks writing under dir ("-": stdout); dir must outlive them. */
ETWIRE_RELAY_SESSION_CALLBACKS relay_json_callbacks(const char *dir);

#endif
