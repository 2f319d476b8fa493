/* Option helpers shared by `etwire send` and `etwire collect`: relay names made from host and
 * file names, the loopback check behind --plain, and the TLS options. */
#ifndef ETWIRE_RELAY_OPTS_H
#define ETWIRE_RELAY_OPTS_H

#include <stddef.h>
#include <stdint.h>

#include "relay/tls.h"

/* Turns any text into a valid relay name ([A-Za-z0-9._-], 1..128 bytes). */
void relay_name_from(const char *text, char *out, size_t outlen);
/* True when HOST:PORT names a loopback address (127.0.0.0/8, ::1, localhost). */
int relay_addr_is_loopback(const char *addr);
/* The host part of HOST:PORT. */
void relay_addr_host(const char *addr, char *out, size_t outlen);
uint64_t relay_random64(void);
/* Consumes --tls-cert/--tls-key/--tls-ca FILE at argv[*i]; 1 if it was one of them. */
int relay_tls_option(int argc, char **argv, int *i, relay_tls_files *f);

#endif
