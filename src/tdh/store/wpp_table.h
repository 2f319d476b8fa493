/* The process-wide table of WPP message formats, keyed by (message GUID, message number), and
 * where they come from, in order of precedence: TMF files and directories the user loaded
 * (etwire_tdh_load_tmf, `--tmf`), then the schema store. A directory is searched lazily, as
 * tracefmt does: the first message of a GUID looks for `<guid>.tmf` in it. Messages live until
 * etwire_tdh_reset(), so a pointer a lookup returns stays valid while events are decoded. */
#ifndef ETWIRE_TDH_WPP_TABLE_H
#define ETWIRE_TDH_WPP_TABLE_H

#include <stddef.h>

#include <etwire/tdh.h>

#include "tdh/sources/tmf_model.h"
#include "tdh/tdh_status.h"

/* The format of message (guid, number), or NULL. */
const etw_wpp_msg *etw_wpp_find(const GUID *guid, uint16_t number);
/* Takes ownership of msg (a checked blob). A message already known keeps its first format (the
 * source loaded first wins: user TMFs are registered before the store is asked). 0 on no
 * memory (msg freed). */
int etw_wpp_put(etw_wpp_msg *msg);
/* Parses a TMF file and registers its messages: ETW_TDH_OK, ETW_TDH_E_NOFILE,
 * ETW_TDH_E_TOO_LARGE or ETW_TDH_E_UNUSABLE (not a TMF, or no message in it; why gets
 * "file: line N: reason"). *count gets the number of messages. */
etw_tdh_status etw_wpp_load_file(const char *path, size_t *count, char *why, size_t whylen);
/* Remembers a directory to search for <guid>.tmf: ETW_TDH_OK, ETW_TDH_E_NOFILE (not a
 * directory) or ETW_TDH_E_NOMEM. */
etw_tdh_status etw_wpp_add_dir(const char *dir);
/* Asked once per GUID no TMF directory knows (the schema store registers its WPP messages for
 * that GUID through etw_wpp_put). */
void etw_wpp_set_fallback(void (*fn)(const GUID *guid));
/* The TRACE_EVENT_INFO of a WPP event (DecodingSourceWPP), built from its TMF message and
 * cached under ETW_KEY_WPP: the TDH functions see the message's arguments as properties named
 * by their source expressions (wpp_tei.c). 1 and *out if the message is known. */
struct etw_schema;
int etw_wpp_schema(const EVENT_RECORD *rec, struct etw_schema *out);
/* The WPP contexts of a TDH call (TDH_CONTEXT_WPP_TMFFILE: a TMF path; TDH_CONTEXT_WPP_
 * TMFSEARCHPATH: directories separated by ';'), as NUL-terminated WCHAR strings: each path is
 * loaded or searched from then on, once however often it is passed. */
void etw_wpp_use_contexts(ULONG n, const TDH_CONTEXT *ctx);
/* Forgets every message and directory. */
void etw_wpp_clear(void);

#endif
