/* The log-file header event: the first record of a trace (a SYSTEM header, hook 0x0000) whose
 * payload is TRACE_LOGFILE_HEADER32 or 64 followed by the logger and log-file names
 * (docs/etw-format.md A.8.5, B.9). */
#ifndef ETWIRE_FORMAT_LOGFILE_HEADER_H
#define ETWIRE_FORMAT_LOGFILE_HEADER_H

#include <stddef.h>
#include <stdint.h>

#include <etwire/evntrace.h>

#include "base/status.h"
#include "format/record.h"

#define ETW_LOGFILE_HEADER32_SIZE 0x110u
#define ETW_LOGFILE_HEADER64_SIZE 0x118u
#define ETW_HOOK_LOGFILE_HEADER 0x0000u

typedef struct etw_logfile_info {
    TRACE_LOGFILE_HEADER header; /* LoggerName / LogFileName left NULL */
    uint32_t logger_name_off;    /* payload-relative UTF-16 name spans (bytes, no NUL) */
    uint32_t logger_name_len;
    uint32_t file_name_off;
    uint32_t file_name_len;
} etw_logfile_info;

/* True if rec (parsed from p) is a log-file header event. */
int etw_record_is_logfile_header(const etw_record *rec);
/* Parses the payload of a log-file header event (payload[0..n)); is64 from the header type. */
etw_status etw_logfile_header_parse(const uint8_t *payload, size_t n, int is64,
                                    etw_logfile_info *out);

#endif
