/* TMF files and directories named by the user (etwire_tdh_load_tmf, `--tmf`). */
#ifndef ETWIRE_TDH_TMF_LOAD_H
#define ETWIRE_TDH_TMF_LOAD_H

#include <stddef.h>

#include "tdh/tdh_status.h"

/* A file is parsed now; a directory becomes a search directory for <guid>.tmf and its other
 * *.tmf files (not named by a GUID) are parsed now. ETW_TDH_OK, ETW_TDH_E_NOFILE,
 * ETW_TDH_E_TOO_LARGE or ETW_TDH_E_UNUSABLE (why: "file: line N: reason"). */
etw_tdh_status etw_tmf_load_path(const char *path, char *why, size_t whylen);

#endif
