/* The live-subscription protocol (docs/wire-protocol.md, "Live subscriptions"): how a consumer
 * asks a collector for one of the sessions it is receiving and gets that session's header
 * buffer, then every later buffer, drop counts and the end. Pure: frames in, decisions out; no
 * sockets, no allocation. Compiled into libetwire (the consumer side, OpenTraceFromRealTime-
 * Logger) and into libetwire-relay (the publishing side), so libetwire needs no relay code. */
#ifndef ETWIRE_RELAY_LIVE_PROTO_H
#define ETWIRE_RELAY_LIVE_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define ETW_LIVE_HEADER_SIZE 8u
#define ETW_LIVE_MAX_BUFFER (16u << 20) /* the largest ETW buffer Windows allows */
#define ETW_LIVE_MIN_BUFFER 72u
#define ETW_LIVE_MAX_CONTROL 65536u     /* every frame but BUFFER and ATTACHED */
#define ETW_LIVE_MAX_NAME 257u          /* SOURCE/SESSION, 128 bytes each */

enum {
    ETW_LIVE_LIST = 1,      /* client: which sessions are live (empty body) */
    ETW_LIVE_SUBSCRIBE = 2, /* client: SOURCE/SESSION */
    ETW_LIVE_SESSIONS = 3,  /* server: one text line per live session, then the end */
    ETW_LIVE_ATTACHED = 4,  /* server: instance u64, then the session's header buffer */
    ETW_LIVE_BUFFER = 5,    /* server: one raw ETW buffer */
    ETW_LIVE_DROPPED = 6,   /* server: buffers dropped for this subscriber so far, u64 */
    ETW_LIVE_END = 7,       /* server: reason u32 (ETW_LIVE_END_*) */
    ETW_LIVE_REFUSED = 8,   /* server: Win32 code u32, then a UTF-8 reason */
};

enum {
    ETW_LIVE_END_SENDER = 0,  /* the sender ended the session: every buffer was published */
    ETW_LIVE_END_CLOSED = 1,  /* the collector closed it without an end (idle, shutdown) */
};

/* Writes a frame header: "EL", type, flags (0), body length, little-endian. */
void etw_live_header_format(uint8_t out[ETW_LIVE_HEADER_SIZE], uint8_t type, uint32_t length);
/* Checks magic, flags, type and the length limit of the type; 0, or -1 with why filled. */
int etw_live_header_parse(const uint8_t *p, size_t n, uint8_t *type, uint32_t *length,
                          const char **why);

/* A relay name pair "SOURCE/SESSION": both parts [A-Za-z0-9._-], 1..128 bytes. Splits it into
 * the two NUL-terminated parts (each 129 bytes); 0, or -1 when malformed. */
int etw_live_name_split(const char *name, size_t n, char source[129], char session[129]);

/* The consumer's side: what arrived, checked against what may arrive now. */
typedef enum etw_live_client_state {
    ETW_LIVE_C_WAIT_ATTACH, /* after SUBSCRIBE */
    ETW_LIVE_C_WAIT_LIST,   /* after LIST */
    ETW_LIVE_C_STREAMING,
    ETW_LIVE_C_DONE,        /* END, REFUSED or SESSIONS seen: nothing more may come */
} etw_live_client_state;

typedef struct etw_live_client {
    etw_live_client_state state;
    uint64_t buffers;
    uint64_t dropped;
} etw_live_client;

typedef struct etw_live_msg {
    uint8_t type;
    uint64_t instance;       /* ATTACHED */
    const uint8_t *data;     /* ATTACHED, BUFFER: the ETW buffer; SESSIONS, REFUSED: text */
    uint32_t size;
    uint64_t dropped_new;    /* DROPPED: buffers dropped since the previous count */
    uint32_t code;           /* END: reason; REFUSED: Win32 code */
} etw_live_msg;

void etw_live_client_init(etw_live_client *c, int listing);
/* One whole frame; 0 with *out filled, or -1 with why filled (a protocol violation: the
 * consumer drops the connection). */
int etw_live_client_frame(etw_live_client *c, uint8_t type, const uint8_t *body, uint32_t len,
                          etw_live_msg *out, const char **why);

/* The collector's side: the one request a subscriber sends. */
typedef struct etw_live_request {
    int list;               /* LIST rather than SUBSCRIBE */
    char source[129], session[129];
} etw_live_request;

/* The request frame; 0 with *out filled, or -1 with why filled. */
int etw_live_server_request(uint8_t type, const uint8_t *body, uint32_t len,
                            etw_live_request *out, const char **why);

#endif
