/* What can go wrong in decoding, in one table (name, the Win32 code the Windows-named layer
 * returns for it, message), like base/status.h for the pipeline: src/tdh speaks only these
 * codes; src/winapi maps them (etw_tdh_status_win32) and never the reverse. */
#ifndef ETWIRE_TDH_STATUS_H
#define ETWIRE_TDH_STATUS_H

#include <etwire/tdh.h>

#define ETW_TDH_STATUS_TABLE(X)                                                                        \
    X(ETW_TDH_OK, ERROR_SUCCESS, "success")                                                            \
    X(ETW_TDH_E_NOMEM, ERROR_NOT_ENOUGH_MEMORY, "out of memory")                                       \
    X(ETW_TDH_E_PARAM, ERROR_INVALID_PARAMETER, "invalid parameter")                                   \
    X(ETW_TDH_E_NOFILE, ERROR_FILE_NOT_FOUND, "cannot open the file")                                  \
    X(ETW_TDH_E_TOO_LARGE, ERROR_INVALID_DATA, "larger than the loader accepts")                       \
    X(ETW_TDH_E_NOT_LOADED, ERROR_NOT_FOUND, "no file of that name is loaded")                         \
    X(ETW_TDH_E_NO_SCHEMA, ERROR_NOT_FOUND, "no schema for the event")                                 \
    X(ETW_TDH_E_NO_EXPAT, ERROR_NOT_SUPPORTED, "XML manifests need expat (etwire was built without it)") \
    X(ETW_TDH_E_XML, ERROR_XML_PARSE_ERROR, "malformed XML")                                           \
    X(ETW_TDH_E_NOT_MANIFEST, ERROR_BAD_FORMAT, "not an instrumentation manifest")                     \
    X(ETW_TDH_E_UNUSABLE, ERROR_INVALID_DATA, "nothing in it could be compiled")                       \
    X(ETW_TDH_E_NOT_PE, ERROR_BAD_FORMAT, "not a PE image, or a damaged one")                          \
    X(ETW_TDH_E_NO_RESOURCE, ERROR_RESOURCE_TYPE_NOT_FOUND, "no WEVT_TEMPLATE resource")               \
    X(ETW_TDH_E_BAD_TEMPLATE, ERROR_INVALID_DATA, "the WEVT_TEMPLATE resource is damaged")             \
    X(ETW_TDH_E_MOF, ERROR_INVALID_DATA, "MOF text that cannot be compiled")                           \
    X(ETW_TDH_E_PAYLOAD, ERROR_EVT_INVALID_EVENT_DATA, "the payload does not fit the schema")          \
    X(ETW_TDH_E_NOT_IN_MAP, ERROR_EVT_INVALID_EVENT_DATA, "the value is not in its value map")         \
    X(ETW_TDH_E_STOPPED, ERROR_CANCELLED, "stopped by the callback")

typedef enum etw_tdh_status {
#define ETW_TDH_STATUS_ENUM(name, win32, msg) name,
    ETW_TDH_STATUS_TABLE(ETW_TDH_STATUS_ENUM)
#undef ETW_TDH_STATUS_ENUM
        ETW_TDH_STATUS_COUNT
} etw_tdh_status;

ULONG etw_tdh_status_win32(etw_tdh_status s);
const char *etw_tdh_status_message(etw_tdh_status s);
const char *etw_tdh_status_name(etw_tdh_status s);

#endif
