/* See session_end.h. */
#include "winapi/session_end.h"

#include "tdh/store/schema_lookup.h"
#include "winapi/tdh_learned_tlg.h"

void etw_api_session_destroy(etw_session *s)
{
    if (!s)
        return;
    /* Completion callbacks fire while the session is destroyed and may still decode with the
     * trace's schemas: forget them only afterwards. */
    uint32_t scope = s->decode_scope;
    etw_session_destroy(s);
    etw_tdh_forget_scope(scope);
    etw_tlg_learned_forget(scope);
}
