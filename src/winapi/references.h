/* ProcessTraceBufferIncrementReference / DecrementReference bookkeeping: ProcessTrace does not
 * return while a buffer it handed to a BufferCallback is still referenced. */
#ifndef ETWIRE_WINAPI_REFERENCES_H
#define ETWIRE_WINAPI_REFERENCES_H

#include "session/session.h"

void etw_references_wait(etw_session *s);
void etw_session_wake(etw_session *s);

#endif
