/* Installs the decoder's hooks on a new session (tdh_session_hooks.c). */
#ifndef ETWIRE_WINAPI_TDH_SESSION_HOOKS_H
#define ETWIRE_WINAPI_TDH_SESSION_HOOKS_H

#include "session/session.h"

void etw_tdh_install_session_hooks(etw_session *s);

#endif
