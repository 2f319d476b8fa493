/* The consumer's connection to a collector's live publisher (realtime_conn.h): the address
 * ($ETWIRE_LIVE, or the default under XDG_RUNTIME_DIR), unix sockets or a registered connector,
 * whole frames read with deadlines and the handle's liveness checked while waiting, and the
 * LIST request behind etwire_live_sessions. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "relay/wire/live_proto.h"
#include "winapi/last_error.h"
#include "winapi/realtime_conn.h"

int64_t rt_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int rt_handle_alive(PROCESSTRACE_HANDLE h)
{
    ETWIRE_SESSION_STATS st;
    return etwire_session_get_stats(h, &st) != ERROR_INVALID_HANDLE;
}

/* Reads exactly n bytes. Gives up at the deadline (-1: none), or when h (if any) was closed.
 * 0; -1 connection lost or deadline; -2 handle closed. */
int rt_read_full(int fd, uint8_t *p, size_t n, int64_t deadline, PROCESSTRACE_HANDLE h)
{
    while (n) {
        int wait = ALIVE_CHECK_MS;
        if (deadline >= 0) {
            int64_t left = deadline - rt_mono_ms();
            if (left <= 0)
                return -1;
            if (left < wait)
                wait = (int)left;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int pr = poll(&pfd, 1, wait);
        if (pr < 0 && errno != EINTR)
            return -1;
        if (pr <= 0) {
            if (h && !rt_handle_alive(h))
                return -2;
            continue;
        }
        ssize_t got = recv(fd, p, n, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return -1;
        p += got;
        n -= (size_t)got;
    }
    return 0;
}

/* One whole frame, its body malloc'd (NULL when empty). */
int rt_read_frame(int fd, int64_t deadline, PROCESSTRACE_HANDLE h, uint8_t *type,
                      uint8_t **body, uint32_t *len, const char **why)
{
    uint8_t hdr[ETW_LIVE_HEADER_SIZE];
    *body = NULL;
    int rc = rt_read_full(fd, hdr, sizeof hdr, deadline, h);
    if (rc != 0) {
        *why = "connection to the collector lost";
        return rc;
    }
    if (etw_live_header_parse(hdr, sizeof hdr, type, len, why) != 0)
        return -1;
    if (*len) {
        if (!(*body = malloc(*len))) {
            *why = "out of memory";
            return -1;
        }
        rc = rt_read_full(fd, *body, *len, deadline, h);
        if (rc != 0) {
            free(*body);
            *body = NULL;
            *why = "connection to the collector lost";
            return rc;
        }
    }
    return 0;
}

static int rt_send_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int rt_send_request(int fd, uint8_t type, const char *body)
{
    uint8_t frame[ETW_LIVE_HEADER_SIZE + ETW_LIVE_MAX_NAME];
    size_t n = body ? strlen(body) : 0;
    if (n > ETW_LIVE_MAX_NAME)
        return -1;
    etw_live_header_format(frame, type, (uint32_t)n);
    if (n)
        memcpy(frame + ETW_LIVE_HEADER_SIZE, body, n);
    return rt_send_all(fd, frame, ETW_LIVE_HEADER_SIZE + n);
}

static ETWIRE_LIVE_CONNECTOR connector;
static void *connector_ctx;

ETWIRE_API void etwire_live_set_connector(ETWIRE_LIVE_CONNECTOR Connect, void *Context)
{
    connector = Connect;
    connector_ctx = Context;
}

/* $ETWIRE_LIVE, or unix:$XDG_RUNTIME_DIR/etwire/live.sock; connects. -1 with the last error
 * set (a code and a message naming the address). */
int rt_connect_live(const char *address)
{
    char def[512], msg[700];
    if (!address || !*address)
        address = getenv("ETWIRE_LIVE");
    if (!address || !*address) {
        const char *xdg = getenv("XDG_RUNTIME_DIR");
        if (!xdg || !*xdg) {
            etw_set_last_win32(ERROR_BAD_NETPATH,
                               "no collector to attach to: set ETWIRE_LIVE=unix:PATH (XDG_RUNTIME_DIR is not set either)");
            return -1;
        }
        snprintf(def, sizeof def, "unix:%s/etwire/live.sock", xdg);
        address = def;
    }
    if (strncmp(address, "unix:", 5) != 0 && connector) {
        ULONG code = ERROR_CONNECTION_REFUSED;
        msg[0] = 0;
        int fd = connector(address, &code, msg, sizeof msg, connector_ctx);
        if (fd < 0)
            etw_set_last_win32(code, msg[0] ? msg : "cannot reach the collector");
        return fd;
    }
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if (strncmp(address, "unix:", 5) != 0 || strlen(address + 5) >= sizeof a.sun_path ||
        !address[5]) {
        snprintf(msg, sizeof msg, "collector address %s: expected unix:PATH (tls:HOST:PORT needs libetwire-relay's etwire_relay_live_use_tls)", address);
        etw_set_last_win32(ERROR_BAD_NETPATH, msg);
        return -1;
    }
    snprintf(a.sun_path, sizeof a.sun_path, "%s", address + 5);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        snprintf(msg, sizeof msg, "cannot reach the collector at %s: %s", address, strerror(e));
        etw_set_last_win32(e == EACCES || e == EPERM ? ERROR_ACCESS_DENIED : ERROR_CONNECTION_REFUSED, msg);
        return -1;
    }
    return fd;
}

ETWIRE_API ULONG etwire_live_sessions(const char *Address, char **Text)
{
    if (!Text)
        return ERROR_INVALID_PARAMETER;
    *Text = NULL;
    int fd = rt_connect_live(Address);
    if (fd < 0)
        return etwire_last_error();
    ULONG rc = ERROR_SUCCESS;
    uint8_t type, *body = NULL;
    uint32_t len = 0;
    const char *why = NULL;
    etw_live_client pc;
    etw_live_msg m;
    etw_live_client_init(&pc, 1);
    if (rt_send_request(fd, ETW_LIVE_LIST, NULL) != 0 ||
        rt_read_frame(fd, rt_mono_ms() + ATTACH_DEADLINE_MS, 0, &type, &body, &len, &why) != 0 ||
        etw_live_client_frame(&pc, type, body, len, &m, &why) != 0) {
        etw_set_last_win32(ERROR_INVALID_DATA, why ? why : "the collector closed the connection");
        rc = ERROR_INVALID_DATA;
    } else if (type == ETW_LIVE_REFUSED) {
        etw_set_last_win32(m.code, "the collector refused the listing");
        rc = m.code;
    } else if ((*Text = malloc((size_t)m.size + 1)) != NULL) {
        if (m.size) /* an empty listing has no body at all */
            memcpy(*Text, m.data, m.size);
        (*Text)[m.size] = 0;
    } else {
        rc = ERROR_NOT_ENOUGH_MEMORY;
    }
    free(body);
    close(fd);
    return rc;
}
