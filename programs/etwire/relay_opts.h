/* Option helpers shared by `etwire send` and `etwire collect`: relay names made from host and
 * file names, the loopback check behind --plain, and the TLS options. */
#ifndef ETWIRE_RELAY_OPTS_H
#define ETWIRE_RELAY_OPTS_H

#include <stddef.h>
#include <stdint.h>

#include "relay/names.h"
#include "relay/tls.h"

/* Consumes --tls-cert/--tls-key/--tls-ca FILE at argv[*i]; 1 if it was one of them. */
int relay_tls_option(int argc, char **argv, int *i, relay_tls_files *f);

#endif
