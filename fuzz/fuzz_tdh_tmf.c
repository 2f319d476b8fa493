/* Fuzz target: TMF text (the WPP message format parser) and the formatting of a message's
 * arguments. The input's first two bytes give a payload length n; its last n bytes are the
 * payload every compiled message is formatted against, the bytes between are the TMF text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <etwire/tdh.h>

#include "base/strbuf.h"
#include "tdh/decode/wpp_format.h"
#include "tdh/decode/event_text.h"
#include "tdh/sources/tmf_model.h"
#include "tdh/store/wpp_table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct payload {
    const uint8_t *p;
    size_t n;
    etw_strbuf out;
    _Alignas(8) uint8_t tei[8192];
} payload;

static int format_each(void *ctx, etw_wpp_msg *m)
{
    payload *pl = ctx;
    if (!etw_wpp_msg_check(m, m->size))
        abort(); /* the compiler must only make well-formed blobs */
    for (int ptr32 = 0; ptr32 < 2; ptr32++) {
        EVENT_RECORD r;
        memset(&r, 0, sizeof r);
        r.EventHeader.Flags = EVENT_HEADER_FLAG_TRACE_MESSAGE |
                              (ptr32 ? EVENT_HEADER_FLAG_32_BIT_HEADER : EVENT_HEADER_FLAG_64_BIT_HEADER);
        r.UserData = (void *)(uintptr_t)pl->p;
        r.UserDataLength = (USHORT)pl->n;
        size_t used = 0;
        etw_strbuf_reset(&pl->out);
        etw_wpp_format_message(m, &r, &pl->out, &used);
        if (used > pl->n)
            abort();
    }
    /* Through the WPP table too: the TDH view (wpp_tei.c) and the CLI's fields. */
    EVENT_RECORD r;
    memset(&r, 0, sizeof r);
    r.EventHeader.Flags = EVENT_HEADER_FLAG_TRACE_MESSAGE | EVENT_HEADER_FLAG_64_BIT_HEADER;
    r.EventHeader.ProviderId = m->guid;
    r.EventHeader.EventDescriptor.Id = m->number;
    r.UserData = (void *)(uintptr_t)pl->p;
    r.UserDataLength = (USHORT)pl->n;
    etw_wpp_put(m); /* takes it */
    ULONG size = sizeof pl->tei;
    TdhGetEventInformation(&r, 0, NULL, (PTRACE_EVENT_INFO)(void *)pl->tei, &size);
    etw_strbuf_reset(&pl->out);
    etw_event_format_fields(&r, 1, &pl->out);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t n = (size_t)data[0] | (size_t)data[1] << 8;
    if (n > size - 2)
        n = size - 2;
    static payload pl;
    pl.p = data + size - n;
    pl.n = n;
    char err[256];
    unsigned skipped;
    etw_tmf_parse((const char *)data + 2, size - 2 - n, format_each, &pl, err, sizeof err, &skipped);
    etw_strbuf_free(&pl.out);
    etwire_tdh_reset();
    return 0;
}
