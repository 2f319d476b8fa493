/* Remote live subscribers over TLS (live_tls.c): the bridge between a TLS connection and a
 * socketpair end, used by the publisher for each remote subscriber and by the consumer-side
 * connector. */
#ifndef ETWIRE_RELAY_LIVE_TLS_H
#define ETWIRE_RELAY_LIVE_TLS_H

#include "relay/net.h"

/* Moves bytes both ways until either side closes or fails; then shuts the pair end down. The
 * caller closes both afterwards. */
void relay_live_bridge(relay_conn *c, int pair);

#endif
