/* cli_live_tls for etwire-relay (see cli_common.h): registers libetwire-relay's TLS connector
 * for remote live collectors when ETWIRE_LIVE_TLS_* name the client's files. */
#include "cli_common.h"

#include <stdlib.h>

#include <etwire/relay.h>

int cli_live_tls(void)
{
    const char *cert = getenv("ETWIRE_LIVE_TLS_CERT"), *key = getenv("ETWIRE_LIVE_TLS_KEY"),
               *ca = getenv("ETWIRE_LIVE_TLS_CA");
    if (!cert && !key && !ca)
        return 0;
    char err[512];
    if (etwire_relay_live_use_tls(cert, key, ca, err, sizeof err) != 0) {
        fprintf(stderr, "etwire: live TLS (ETWIRE_LIVE_TLS_*): %s\n", err);
        return -1;
    }
    return 0;
}
