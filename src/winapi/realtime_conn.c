/* The consumer's connection to a collector's live publisher (realtime_conn.h): the address
 * ($ETWIRE_LIVE, or the default under XDG_RUNTIME_DIR), unix sockets or a registered connector,
 * whole frames read with deadlines (base/fd_io.c) and a wake-up descriptor that ends a wait at
 * once, and the LIST request behind etwire_live_sessions. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "relay/wire/live_proto.h"
#include "winapi/last_error.h"
#include "winapi/realtime_conn.h"

/* The reader's results from an etw_fd_result. */
static int frame_result(etw_fd_result r, const char **why)
{
    if (r == ETW_FD_WOKEN)
        return -2;
    *why = r == ETW_FD_DEADLINE ? "the collector did not answer in time"
                                : "connection to the collector lost";
    return -1;
}

int rt_read_frame(int fd, int64_t deadline, int wake_fd, size_t prefix, uint8_t *type,
                  uint8_t **block, uint32_t *len, const char **why)
{
    uint8_t hdr[ETW_LIVE_HEADER_SIZE];
    *block = NULL;
    etw_fd_result r = etw_fd_recv_all(fd, hdr, sizeof hdr, deadline, wake_fd);
    if (r != ETW_FD_OK)
        return frame_result(r, why);
    if (etw_live_header_parse(hdr, sizeof hdr, type, len, why) != 0)
        return -1;
    if (*len) {
        int64_t body_deadline = etw_mono_ms() + FRAME_DEADLINE_MS;
        if (deadline != ETW_FD_NO_DEADLINE && deadline < body_deadline)
            body_deadline = deadline;
        if (!(*block = malloc(prefix + *len))) {
            *why = "out of memory";
            return -1;
        }
        r = etw_fd_recv_all(fd, *block + prefix, *len, body_deadline, wake_fd);
        if (r != ETW_FD_OK) {
            free(*block);
            *block = NULL;
            return frame_result(r, why);
        }
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
    return etw_fd_send_all(fd, frame, ETW_LIVE_HEADER_SIZE + n, etw_mono_ms() + ATTACH_DEADLINE_MS) == ETW_FD_OK ? 0 : -1;
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
        rt_read_frame(fd, etw_mono_ms() + ATTACH_DEADLINE_MS, -1, 0, &type, &body, &len, &why) != 0 ||
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
