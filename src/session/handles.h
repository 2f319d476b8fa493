/* Processing handles are table slots with a generation (docs/style.md 6), never pointers: a
 * stale, closed or forged handle is found invalid, never dereferenced. */
#ifndef ETWIRE_SESSION_HANDLES_H
#define ETWIRE_SESSION_HANDLES_H

#include "session/session.h"

PROCESSTRACE_HANDLE etw_handle_add(etw_session *s);
/* Lookup and removal take the table lock themselves; the _locked variant expects it held. */
void etw_handles_lock(void);
void etw_handles_unlock(void);
etw_session *etw_handle_find_locked(PROCESSTRACE_HANDLE h);
etw_session *etw_handle_remove(PROCESSTRACE_HANDLE h);
/* The open session behind h with its mu held (the caller unlocks it), or NULL. */
etw_session *etw_handle_lock_session(PROCESSTRACE_HANDLE h);

#endif
