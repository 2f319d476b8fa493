/* Ending a session at the API layer: the session goes, and so do the schemas its trace taught
 * the decoder (the session itself knows nothing of decoding). */
#ifndef ETWIRE_WINAPI_SESSION_END_H
#define ETWIRE_WINAPI_SESSION_END_H

#include "session/session.h"

void etw_api_session_destroy(etw_session *s);

#endif
