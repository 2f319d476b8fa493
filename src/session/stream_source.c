/* The buffer-stream source (see source.h): buffers arrive through etw_session_accept from
 * ProcessTraceAddBufferToBufferStream on any thread and belong to their caller, who gets each
 * back through its completion callback; the merge can only wait for more. */
#include "session/source.h"

static etw_source_result stream_next(void *impl, etw_session *s, uint32_t slot)
{
    (void)impl;
    (void)s;
    (void)slot;
    return ETW_SOURCE_WAIT;
}

const etw_source_ops etw_stream_source_ops = {
    .caller_adds = 1,
    .next = stream_next,
};
