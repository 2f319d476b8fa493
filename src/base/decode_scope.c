/* Scope ids of trace sessions (see decode_scope.h). */
#include "base/decode_scope.h"

#include <stdatomic.h>

_Thread_local uint32_t etw_decode_scope;
static _Atomic uint32_t next_scope = 1;

uint32_t etw_decode_scope_new(void)
{
    uint32_t id;
    do
        id = atomic_fetch_add(&next_scope, 1);
    while (id == 0); /* after 2^32 sessions the counter wraps: skip 0, which means "none" */
    return id;
}
