/* etwire send --live (send_live.c). */
#ifndef ETWIRE_CLI_SEND_LIVE_H
#define ETWIRE_CLI_SEND_LIVE_H

#include <etwire/relay.h>

/* Forwards the live session `name` (SOURCE/SESSION at $ETWIRE_LIVE) as po's session; the exit
 * code. */
int send_live(const char *name, ETWIRE_RELAY_SENDER_OPTIONS *po);

#endif
