/* One table of everything that can go wrong: a stable name, the Win32 code the Windows-named
 * API returns for it, and the message the CLI prints (with buffer and offset added by the
 * caller). Defined once in ETW_STATUS_TABLE so the three never drift apart. */
#ifndef ETWIRE_BASE_STATUS_H
#define ETWIRE_BASE_STATUS_H

#include <etwire/wintypes.h>

#define ETW_STATUS_TABLE(X)                                                                      \
    X(ETW_OK, ERROR_SUCCESS, "success")                                                          \
    X(ETW_E_NOMEM, ERROR_NOT_ENOUGH_MEMORY, "out of memory")                                     \
    X(ETW_E_PARAM, ERROR_INVALID_PARAMETER, "invalid parameter")                                 \
    X(ETW_E_HANDLE, ERROR_INVALID_HANDLE, "invalid or closed handle")                            \
    X(ETW_E_IO, ERROR_READ_FAULT, "cannot read the file")                                        \
    X(ETW_E_NOFILE, ERROR_FILE_NOT_FOUND, "no such file")                                        \
    X(ETW_E_BUF_SHORT, ERROR_INVALID_DATA, "buffer shorter than its 72-byte header")             \
    X(ETW_E_BUF_SIZE, ERROR_INVALID_DATA, "buffer size field disagrees with the data")           \
    X(ETW_E_BUF_FILLED, ERROR_INVALID_DATA, "buffer filled offset outside the buffer")           \
    X(ETW_E_BUF_TRUNCATED, ERROR_INVALID_DATA, "buffer truncated by the end of the file")        \
    X(ETW_E_BUF_ORDER, ERROR_INVALID_DATA, "buffer out of time order")                           \
    X(ETW_E_BUF_NO_HEADER, ERROR_BAD_FORMAT, "first buffer does not carry the log-file header")  \
    X(ETW_E_BUF_COMPRESSED, ERROR_NOT_SUPPORTED, "compressed buffer in an unsupported format")   \
    X(ETW_E_BUF_DECOMPRESS, ERROR_INVALID_DATA, "compressed buffer does not decompress")         \
    X(ETW_E_BUF_PROCESSOR, ERROR_INVALID_DATA, "buffer processor index out of range")            \
    X(ETW_E_REC_SHORT, ERROR_INVALID_DATA, "record truncated by the end of the buffer's data")   \
    X(ETW_E_REC_SIZE, ERROR_INVALID_DATA, "record size smaller than its header")                 \
    X(ETW_E_REC_MARKER, ERROR_INVALID_DATA, "unknown record header type")                        \
    X(ETW_E_REC_EXT, ERROR_INVALID_DATA, "extended data items overrun the record")               \
    X(ETW_E_HDR_EVENT, ERROR_BAD_FORMAT, "log-file header event is malformed")                   \
    X(ETW_E_STOPPED, ERROR_CANCELLED, "processing stopped by the buffer callback")                \
    X(ETW_E_CLOSED, ERROR_INVALID_HANDLE, "session is closed")                                   \
    X(ETW_E_NOT_SUPPORTED, ERROR_NOT_SUPPORTED, "not supported on this platform")                \
    X(ETW_E_BAD_TIME, ERROR_INVALID_TIME, "EndTime is earlier than StartTime")                   \
    X(ETW_E_CORRUPT, ERROR_FILE_CORRUPT, "the trace holds records or buffers that could not be read")

typedef enum etw_status {
#define ETW_STATUS_ENUM(name, win32, msg) name,
    ETW_STATUS_TABLE(ETW_STATUS_ENUM)
#undef ETW_STATUS_ENUM
        ETW_STATUS_COUNT
} etw_status;

ULONG etw_status_win32(etw_status s);
const char *etw_status_message(etw_status s);
const char *etw_status_name(etw_status s);

#endif
