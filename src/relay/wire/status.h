/* Status codes of the relay wire protocol (docs/wire-protocol.md): one table gives each code
 * its name, its message and the CLOSE reason a peer is told, so every error path in the
 * decoder, the collector state machine and the CLI reports the same words. */
#ifndef ETWIRE_RELAY_STATUS_H
#define ETWIRE_RELAY_STATUS_H

#include <stdint.h>

/* CLOSE reasons (wire values, docs/wire-protocol.md §9). */
enum {
    ETW_RELAY_CLOSE_DONE = 0,
    ETW_RELAY_CLOSE_PROTOCOL = 1,
    ETW_RELAY_CLOSE_VERSION = 2,
    ETW_RELAY_CLOSE_TOO_LARGE = 3,
    ETW_RELAY_CLOSE_AUTH = 4,
    ETW_RELAY_CLOSE_SEQUENCE = 5,
    ETW_RELAY_CLOSE_WINDOW = 6,
    ETW_RELAY_CLOSE_BAD_BUFFER = 7,
    ETW_RELAY_CLOSE_BUSY = 8,
    ETW_RELAY_CLOSE_SHUTDOWN = 9,
    ETW_RELAY_CLOSE_IDLE = 10,
    ETW_RELAY_CLOSE_RESOURCES = 11,
    ETW_RELAY_CLOSE_COMPLETE = 12, /* the session already ended: it is never reopened */
    ETW_RELAY_CLOSE_COUNT_
};

/* X(name, value, close reason, message). Errors are negative so a decoder can return either a
 * progress value (>= 0) or an error from one int. */
#define ETW_RELAY_STATUS_TABLE(X)                                                                 \
    X(OK, 0, DONE, "success")                                                                     \
    X(E_MAGIC, -1, PROTOCOL, "frame does not start with the magic 'ETWR'")                        \
    X(E_VERSION, -2, VERSION, "unsupported protocol version")                                     \
    X(E_TYPE, -3, PROTOCOL, "unknown frame type")                                                 \
    X(E_FLAGS, -4, PROTOCOL, "reserved frame flag set")                                           \
    X(E_TOO_LARGE, -5, TOO_LARGE, "frame length over the announced limit")                        \
    X(E_LAYOUT, -6, PROTOCOL, "frame payload does not match its type's layout")                   \
    X(E_NAME, -7, PROTOCOL, "invalid source or session name")                                     \
    X(E_STATE, -8, PROTOCOL, "frame not allowed at this point of the session")                    \
    X(E_SEQUENCE, -9, SEQUENCE, "buffer sequence number out of order")                            \
    X(E_WINDOW, -10, WINDOW, "more unacknowledged buffers than the window allows")                \
    X(E_RESOURCES, -11, RESOURCES, "no memory for the frame within the source's quota")           \
    X(E_BUFFER_SIZE, -12, BAD_BUFFER, "buffer raw size outside 72 bytes .. 16 MiB")               \
    X(E_FAILED, -13, PROTOCOL, "decoder already failed; the connection must be closed")           \
    X(E_REFUSED, -14, AUTH, "the collector refused the session")                                  \
    X(E_BUFFER, -15, BAD_BUFFER, "the buffer-stream session refused the buffer")                  \
    X(E_CLOSED, -16, DONE, "the peer closed the session")

typedef enum etw_relay_status {
#define ETW_RELAY_X_ENUM(name, value, reason, msg) ETW_RELAY_##name = value,
    ETW_RELAY_STATUS_TABLE(ETW_RELAY_X_ENUM)
#undef ETW_RELAY_X_ENUM
} etw_relay_status;

#define ETW_RELAY_STATUS_MIN (-16)

const char *etw_relay_status_name(int status);
const char *etw_relay_status_message(int status);
/* The CLOSE reason to send for an error status. */
uint32_t etw_relay_status_close_reason(int status);
const char *etw_relay_close_reason_name(uint32_t reason);

#endif
