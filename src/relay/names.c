/* Relay names and addresses (see names.h). */
#include "relay/names.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "relay/wire/msg.h"

void relay_name_from(const char *text, char *out, size_t outlen)
{
    size_t n = 0, max = outlen - 1 < ETW_RELAY_NAME_MAX ? outlen - 1 : ETW_RELAY_NAME_MAX;
    for (const char *p = text; *p && n < max; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-';
        out[n++] = ok ? c : '_';
    }
    if (n == 0)
        out[n++] = 'x';
    if (out[0] == '.')
        out[0] = '_';
    out[n] = 0;
}

void relay_addr_host(const char *addr, char *out, size_t outlen)
{
    const char *colon = strrchr(addr, ':');
    size_t len = colon ? (size_t)(colon - addr) : strlen(addr);
    if (len >= 2 && addr[0] == '[' && addr[len - 1] == ']') {
        addr++;
        len -= 2;
    }
    if (len >= outlen)
        len = outlen - 1;
    memcpy(out, addr, len);
    out[len] = 0;
    if (len == 0)
        snprintf(out, outlen, "127.0.0.1");
}

int relay_addr_is_loopback(const char *addr)
{
    char host[256];
    relay_addr_host(addr, host, sizeof host);
    return !strncmp(host, "127.", 4) || !strcmp(host, "::1") || !strcmp(host, "localhost");
}

uint64_t relay_random64(void)
{
    uint64_t v = 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, &v, sizeof v) != (ssize_t)sizeof v)
        v = (uint64_t)time(NULL) * 0x9E3779B97F4A7C15ull ^ (uint64_t)getpid();
    if (fd >= 0)
        close(fd);
    return v;
}
