/* Relay names made from host and file names, and the address helpers behind --plain (loopback
 * only) and certificate host names. */
#ifndef ETWIRE_RELAY_NAMES_H
#define ETWIRE_RELAY_NAMES_H

#include <stddef.h>
#include <stdint.h>

/* Turns any text into a valid relay name ([A-Za-z0-9._-], 1..128 bytes). */
void relay_name_from(const char *text, char *out, size_t outlen);
/* True when HOST:PORT names a loopback address (127.0.0.0/8, ::1, localhost). */
int relay_addr_is_loopback(const char *addr);
/* The host part of HOST:PORT. */
void relay_addr_host(const char *addr, char *out, size_t outlen);
uint64_t relay_random64(void);

#endif
