/* A session reading an .etl file: the file source (file_source.h) behind the session's
 * buffer-source interface (session/source.h). */
#ifndef ETWIRE_ETL_FILE_SESSION_H
#define ETWIRE_ETL_FILE_SESSION_H

#include <stddef.h>

#include "session/session.h"

/* Opens and indexes the file and takes its header buffer, so the caller has the trace's header
 * at once. NULL on failure, with the status and a message naming the file and offset. */
etw_session *etw_file_session_open(const char *path, etw_status *st, char *err, size_t errlen);

#endif
