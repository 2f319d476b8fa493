/* etwire_event_format_json (include/etwire/event_json.h): the names and fields of dump's JSON
 * lines for one event, into the caller's buffer. The text is built in a per-thread scratch
 * string; when the caller's buffer is too small the text is kept, so the retry with a bigger
 * buffer copies it instead of decoding again. */
#include <etwire/event_json.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "tdh/decode/event_text.h"
#include "tdh/decode/winsat.h"

typedef struct json_scratch {
    etw_strbuf provider, event, fields, out;
    etw_winsat_scratch winsat;
    /* The event out holds, for the retry after a short buffer (the record's address alone
     * does not say: sessions reuse one EVENT_RECORD for every event). */
    int held;
    EVENT_HEADER last_header;
    const void *last_data;
    USHORT last_length;
} json_scratch;

static pthread_key_t key;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void free_scratch(void *p)
{
    json_scratch *s = p;
    etw_strbuf_free(&s->provider);
    etw_strbuf_free(&s->event);
    etw_strbuf_free(&s->fields);
    etw_strbuf_free(&s->out);
    etw_winsat_scratch_free(&s->winsat);
    free(s);
}

static void make_key(void)
{
    pthread_key_create(&key, free_scratch);
}

static json_scratch *scratch(void)
{
    pthread_once(&once, make_key);
    json_scratch *s = pthread_getspecific(key);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (s && pthread_setspecific(key, s) != 0) {
            free(s);
            s = NULL;
        }
    }
    return s;
}

/* A name inside a JSON string (escaped unless the decoder said it needs none). */
static void json_name(etw_strbuf *out, const etw_strbuf *name, int plain)
{
    if (!name->data)
        return;
    if (plain)
        etw_strbuf_append(out, name->data, name->len);
    else
        etw_strbuf_json_string(out, name->data, name->len);
}

static void format(json_scratch *s, const EVENT_RECORD *er)
{
    etw_strbuf_reset(&s->provider);
    etw_strbuf_reset(&s->event);
    etw_strbuf_reset(&s->fields);
    etw_strbuf_reset(&s->out);
    int plain;
    int decoded = etw_event_decode(er, 1, &s->provider, &s->event, &s->fields, &plain);
    /* WinSAT and PerfTrack events: the compressed XML after the schema's fields, inflated as
     * "Xml" (dump does the same; an XML that does not inflate counts as undecoded). */
    if (decoded && etw_winsat_append_xml(er, 1, &s->winsat, &s->fields) == 0)
        decoded = 0;
    etw_strbuf_puts(&s->out, "{\"provider\":\"");
    json_name(&s->out, &s->provider, plain);
    etw_strbuf_puts(&s->out, "\",\"event\":\"");
    json_name(&s->out, &s->event, plain);
    etw_strbuf_puts(&s->out, decoded ? "\",\"decoded\":true" : "\",\"decoded\":false");
    /* As dump: a schema that did not fit still gives its fields (and "_undecoded"). */
    if (decoded || (s->fields.data && strchr(s->fields.data, '"'))) {
        etw_strbuf_puts(&s->out, ",\"fields\":{");
        if (s->fields.data)
            etw_strbuf_append(&s->out, s->fields.data, s->fields.len);
        etw_strbuf_putc(&s->out, '}');
    } else if (s->fields.len) {
        etw_strbuf_puts(&s->out, ",\"payload_hex\":\"");
        etw_strbuf_append(&s->out, s->fields.data, s->fields.len);
        etw_strbuf_putc(&s->out, '"');
    }
    etw_strbuf_putc(&s->out, '}');
}

ULONG etwire_event_format_json(PCEVENT_RECORD er, char *buf, ULONG size, ULONG *needed)
{
    if (!er || !needed || (size && !buf))
        return ERROR_INVALID_PARAMETER;
    json_scratch *s = scratch();
    if (!s)
        return ERROR_NOT_ENOUGH_MEMORY;
    if (!s->held || s->last_data != er->UserData || s->last_length != er->UserDataLength ||
        memcmp(&s->last_header, &er->EventHeader, sizeof s->last_header) != 0)
        format(s, er);
    s->held = 0;
    if (s->out.failed)
        return ERROR_NOT_ENOUGH_MEMORY;
    if ((size_t)size < s->out.len + 1) {
        s->held = 1;
        s->last_header = er->EventHeader;
        s->last_data = er->UserData;
        s->last_length = er->UserDataLength;
        *needed = (ULONG)(s->out.len + 1);
        return ERROR_INSUFFICIENT_BUFFER;
    }
    memcpy(buf, s->out.data, s->out.len + 1);
    *needed = (ULONG)s->out.len;
    return ERROR_SUCCESS;
}
