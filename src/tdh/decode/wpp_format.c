/* WPP message formatting (see wpp_format.h). Format strings follow FormatMessage as tracefmt
 * uses it: `%N!spec!` inserts argument N (10 = the first argument, 1-9 are the prefix items)
 * formatted by the printf-style spec, `%N` alone is `%N!s!`, `%!NAME!` is a value of the
 * TMF line's comment (FUNC, LEVEL, FLAGS, COMPNAME, SUBCOMP, ...), `%0` is where tracefmt puts
 * its prefix (nothing here: dump prints those fields itself). Numbers are formatted by hand:
 * this runs once per event. */
#include "tdh/decode/wpp_format.h"

#include <string.h>

#include "base/fmt_spec.h"
#include "base/text.h"
#include "tdh/store/wpp_table.h"

#define MAX_ARGS 128

typedef struct arg_span {
    uint32_t off, size;
} arg_span;

static uint64_t rd_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = n; i > 0; i--)
        v = v << 8 | p[i - 1];
    return v;
}

/* Bytes argument a takes at p (n available), 0 if it does not fit or is unknown. */
static uint32_t arg_size(const etw_wpp_arg *a, const uint8_t *p, size_t n, unsigned ptr)
{
    size_t need;
    int terminated = 0;
    switch (a->type) {
    case ETW_WPP_CHAR: case ETW_WPP_UCHAR: need = 1; break;
    case ETW_WPP_SHORT: case ETW_WPP_USHORT: case ETW_WPP_PORT: need = 2; break;
    case ETW_WPP_LONG: case ETW_WPP_ULONG: case ETW_WPP_ULONGX: case ETW_WPP_NTSTATUS:
    case ETW_WPP_HRESULT: case ETW_WPP_WINERROR: case ETW_WPP_IPADDR: case ETW_WPP_CHAR4: need = 4; break;
    case ETW_WPP_LONGLONG: case ETW_WPP_ULONGLONG: case ETW_WPP_ULONGLONGX: case ETW_WPP_DOUBLE:
    case ETW_WPP_TIMESTAMP: need = 8; break;
    case ETW_WPP_PTR: need = ptr; break;
    case ETW_WPP_GUID: need = 16; break;
    case ETW_WPP_ENUM: case ETW_WPP_LIST: case ETW_WPP_SET: need = a->width; break;
    case ETW_WPP_STRING: {
        const uint8_t *z = memchr(p, 0, n);
        need = z ? (size_t)(z - p) + 1 : 0;
        break;
    }
    case ETW_WPP_WSTRING:
        need = etw_utf16_span(p, n, &terminated) + 2;
        if (!terminated)
            need = 0;
        break;
    case ETW_WPP_PSTRING: case ETW_WPP_PWSTRING: case ETW_WPP_HEXDUMP:
        need = n >= 2 ? 2u + (size_t)rd_le(p, 2) : 0;
        break;
    case ETW_WPP_SID:
        need = n >= 8 && p[1] <= 15 ? 8u + 4u * p[1] : 0;
        break;
    default:
        need = 0;
    }
    return need && need <= n ? (uint32_t)need : 0;
}

typedef struct spec {
    etw_fmt_spec f; /* flags, width, precision (-1: none) */
    char conv;      /* 0: none */
    int wide;       /* S, ws, ls: a UTF-16 string */
} spec;

static void parse_spec(const char *s, size_t n, spec *sp)
{
    memset(sp, 0, sizeof *sp);
    sp->f.width = sp->f.precision = -1;
    size_t i = 0;
    while (i < n && s[i] && strchr("-+ #0", s[i]))
        i++;
    sp->f.flags = etw_fmt_flags(s, i);
    if (i < n && s[i] >= '0' && s[i] <= '9') {
        sp->f.width = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9' && sp->f.width < 1000)
            sp->f.width = sp->f.width * 10 + (s[i++] - '0');
    }
    if (i < n && s[i] == '.') {
        i++;
        sp->f.precision = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9' && sp->f.precision < 1000)
            sp->f.precision = sp->f.precision * 10 + (s[i++] - '0');
    }
    for (; i < n; i++) {
        char c = s[i];
        if (c == 'w' || c == 'l')
            sp->wide = 1; /* ws/ls: wide string; l on numbers changes nothing here */
        if (c && strchr("diuxXoscSCpeEfgGaAZ", c)) {
            sp->conv = c;
            sp->wide |= c == 'S' || c == 'C';
            break;
        }
    }
}

static void put_text(etw_strbuf *out, const spec *sp, const char *s, size_t n)
{
    etw_strbuf_fmt_text(out, &sp->f, s, n);
}

/* The text appended to out from mark on, cut to the spec's precision and padded to its width
 * in place. */
static void put_via(etw_strbuf *out, const spec *sp, size_t mark)
{
    size_t n = out->len - mark;
    if (sp->f.precision >= 0 && (size_t)sp->f.precision < n) {
        n = (size_t)sp->f.precision;
        out->len = mark + n;
        out->data[out->len] = 0;
    }
    size_t w = sp->f.width > 0 ? (size_t)sp->f.width : 0;
    if (w <= n || etw_strbuf_reserve(out, w - n) != 0)
        return;
    char *t = out->data + mark;
    if (sp->f.flags & ETW_FMT_LEFT) {
        memset(t + n, ' ', w - n);
    } else {
        memmove(t + (w - n), t, n);
        memset(t, ' ', w - n);
    }
    out->len = mark + w;
    out->data[out->len] = 0;
}

static const char *value_name(const etw_wpp_msg *m, const etw_wpp_arg *a, uint32_t value)
{
    const etw_wpp_value *v = (const etw_wpp_value *)((const uint8_t *)m + a->values);
    for (uint32_t i = 0; a->nvalues && i < a->nvalues; i++)
        if (v[i].value == value)
            return etw_wpp_str_at(m, v[i].name);
    return NULL;
}

static void put_guid_text(etw_strbuf *out, const uint8_t *p)
{
    GUID g = etw_guid_read(p);
    char s[37];
    etw_guid_format(&g, s);
    etw_strbuf_putc(out, '{');
    etw_strbuf_append(out, s, 36);
    etw_strbuf_putc(out, '}');
}

static void put_sid(etw_strbuf *out, const uint8_t *p)
{
    uint64_t auth = 0;
    for (int i = 2; i < 8; i++)
        auth = auth << 8 | p[i];
    etw_strbuf_puts(out, "S-");
    etw_strbuf_u64(out, p[0]);
    etw_strbuf_putc(out, '-');
    etw_strbuf_u64(out, auth);
    for (unsigned i = 0; i < p[1]; i++) {
        etw_strbuf_putc(out, '-');
        etw_strbuf_u64(out, rd_le(p + 8 + 4 * i, 4));
    }
}

static int is_signed(uint8_t t)
{
    return t == ETW_WPP_CHAR || t == ETW_WPP_SHORT || t == ETW_WPP_LONG || t == ETW_WPP_LONGLONG;
}

static void put_number(etw_strbuf *out, const spec *sp, const etw_wpp_arg *a, const uint8_t *p, uint32_t size)
{
    uint64_t v = rd_le(p, size > 8 ? 8 : size);
    char c = sp->conv;
    if (c == 0 || c == 's' || c == 'S' || c == 'Z') { /* the type's natural form */
        switch (a->type) {
        case ETW_WPP_ULONGX: case ETW_WPP_ULONGLONGX: case ETW_WPP_NTSTATUS: case ETW_WPP_HRESULT:
            c = 'X';
            break;
        case ETW_WPP_PTR:
            c = 'p';
            break;
        default:
            c = is_signed(a->type) ? 'd' : 'u';
        }
        if (c == 'X' && !sp->f.flags && sp->f.width < 0) { /* 0x and every digit: 0x0000001F */
            etw_fmt_spec hex = {0, -1, (int)size * 2};
            etw_strbuf_puts(out, "0x");
            etw_strbuf_fmt_int(out, &hex, 'X', v, 0);
            return;
        }
    }
    switch (c) {
    case 'd': case 'i': {
        int neg = 0;
        if (size < 8 && (v >> (size * 8 - 1)) & 1)
            v |= ~0ull << (size * 8);
        if ((int64_t)v < 0) {
            neg = 1;
            v = (uint64_t)0 - v;
        }
        etw_strbuf_fmt_int(out, &sp->f, 'd', v, neg);
        break;
    }
    case 'x': case 'X': case 'o': etw_strbuf_fmt_int(out, &sp->f, c, v, 0); break;
    case 'p': { /* as Windows prints pointers: every digit, upper case */
        etw_fmt_spec ps = sp->f;
        if (ps.precision < 0)
            ps.precision = (int)size * 2;
        etw_strbuf_fmt_int(out, &ps, 'X', v, 0);
        break;
    }
    case 'c': {
        char ch = (char)(v & 0x7F);
        put_text(out, sp, &ch, 1);
        break;
    }
    case 'u': etw_strbuf_fmt_int(out, &sp->f, 'u', v, 0); break;
    default: /* a conversion for another type (%+.3f of an integer): unsigned, the sign flag kept */
        etw_strbuf_fmt_int(out, &sp->f, 'd', v, 0);
        break;
    }
}

/* One argument's value through its spec. */
static void put_arg(etw_strbuf *out, const spec *sp, const etw_wpp_msg *m, const etw_wpp_arg *a,
                    const uint8_t *p, uint32_t size)
{
    size_t mark = out->len;
    switch (a->type) {
    case ETW_WPP_STRING:
        put_text(out, sp, (const char *)p, size - 1);
        return;
    case ETW_WPP_PSTRING:
        put_text(out, sp, (const char *)p + 2, size - 2);
        return;
    case ETW_WPP_WSTRING:
        etw_utf16_to_utf8(out, p, size - 2);
        break;
    case ETW_WPP_PWSTRING:
        etw_utf16_to_utf8(out, p + 2, size - 2);
        break;
    case ETW_WPP_GUID:
        put_guid_text(out, p);
        break;
    case ETW_WPP_SID:
        put_sid(out, p);
        break;
    case ETW_WPP_HEXDUMP:
        etw_strbuf_hex(out, p + 2, size - 2);
        break;
    case ETW_WPP_IPADDR:
        for (int i = 0; i < 4; i++) {
            if (i)
                etw_strbuf_putc(out, '.');
            etw_strbuf_u64(out, p[i]);
        }
        break;
    case ETW_WPP_PORT:
        etw_strbuf_u64(out, (unsigned)p[0] << 8 | p[1]);
        break;
    case ETW_WPP_CHAR4:
        for (int i = 0; i < 4; i++)
            etw_strbuf_putc(out, p[i] >= 0x20 && p[i] < 0x7F ? (char)p[i] : '.');
        break;
    case ETW_WPP_DOUBLE: {
        double d;
        uint64_t bits = rd_le(p, 8);
        memcpy(&d, &bits, sizeof d);
        etw_fmt_spec fs = sp->f;
        if (fs.precision > 60) /* as before: the TMF's precision is capped */
            fs.precision = 60;
        etw_strbuf_fmt_float(out, &fs, sp->conv && strchr("eEfFgGaA", sp->conv) ? sp->conv : 'g', d);
        return;
    }
    case ETW_WPP_ENUM: case ETW_WPP_LIST: {
        const char *name = value_name(m, a, (uint32_t)rd_le(p, size));
        if (name) {
            put_text(out, sp, name, strlen(name));
            return;
        }
        put_number(out, sp, a, p, size);
        return;
    }
    case ETW_WPP_SET: {
        uint32_t v = (uint32_t)rd_le(p, size);
        int any = 0;
        for (uint32_t bit = 0; bit < 32; bit++) {
            const char *name = (v >> bit) & 1 ? value_name(m, a, bit) : NULL;
            if (!name)
                continue;
            if (any++)
                etw_strbuf_putc(out, '|');
            etw_strbuf_puts(out, name);
        }
        if (!any)
            put_number(out, sp, a, p, size);
        break;
    }
    default:
        put_number(out, sp, a, p, size);
        return;
    }
    put_via(out, sp, mark);
}

/* %1..%9: what tracefmt's prefix would show. */
static void put_prefix_item(etw_strbuf *out, const spec *sp, unsigned n, const etw_wpp_msg *m,
                            const EVENT_RECORD *rec)
{
    const char *s = NULL;
    uint64_t v = 0;
    switch (n) {
    case 1: s = etw_wpp_msg_str(m, ETW_WPP_S_PROVIDER); break;
    case 2: s = etw_wpp_msg_str(m, ETW_WPP_S_NAME); break;
    case 3: v = rec->EventHeader.ThreadId; break;
    case 8: v = rec->EventHeader.ProcessId; break;
    case 9: v = GetEventProcessorIndex(rec); break;
    default: return; /* times and the sequence number: the dump line has them */
    }
    if (s) {
        put_text(out, sp, s, strlen(s));
        return;
    }
    spec d = *sp;
    if (!d.conv || d.conv == 's')
        d.conv = 'u';
    etw_wpp_arg a = {.type = ETW_WPP_ULONG};
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put_number(out, &d, &a, b, 4);
}

/* %!NAME!: the TMF's own fields first, then any KEY= of the comment tail. */
static void put_named(etw_strbuf *out, const etw_wpp_msg *m, const char *name, size_t n)
{
    static const struct {
        const char *key;
        enum etw_wpp_str which;
    } known[] = {{"FUNC", ETW_WPP_S_FUNC}, {"LEVEL", ETW_WPP_S_LEVEL}, {"FLAGS", ETW_WPP_S_FLAGS},
                 {"COMPNAME", ETW_WPP_S_COMPNAME}, {"SUBCOMP", ETW_WPP_S_SUBCOMP}, {"FILE", ETW_WPP_S_FILE}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strlen(known[i].key) == n && memcmp(known[i].key, name, n) == 0) {
            etw_strbuf_puts(out, etw_wpp_msg_str(m, known[i].which));
            return;
        }
    if (n == 4 && memcmp(name, "LINE", 4) == 0) {
        etw_strbuf_u64(out, m->line);
        return;
    }
    const char *tail = etw_wpp_msg_str(m, ETW_WPP_S_TAIL);
    size_t tn = strlen(tail);
    for (size_t i = 0; i + n < tn; i++) {
        if (memcmp(tail + i, name, n) != 0 || tail[i + n] != '=' || (i && tail[i - 1] != ' '))
            continue;
        size_t e = i + n + 1;
        while (e < tn && tail[e] != ' ')
            e++;
        etw_strbuf_append(out, tail + i + n + 1, e - (i + n + 1));
        return;
    }
    etw_strbuf_puts(out, "%!");
    etw_strbuf_append(out, name, n);
    etw_strbuf_putc(out, '!');
}

int etw_wpp_format_message(const etw_wpp_msg *m, const EVENT_RECORD *rec, etw_strbuf *out, size_t *used)
{
    const uint8_t *p = rec->UserData;
    size_t n = p ? rec->UserDataLength : 0;
    unsigned ptr = (rec->EventHeader.Flags & EVENT_HEADER_FLAG_32_BIT_HEADER) ? 4 : 8;
    arg_span spans[MAX_ARGS];
    size_t nargs = m->nargs < MAX_ARGS ? m->nargs : MAX_ARGS, ok = 0, off = 0;
    int complete = m->nargs <= MAX_ARGS;
    for (; ok < nargs; ok++) {
        uint32_t size = arg_size(&m->args[ok], p + off, n - off, ptr);
        if (!size) {
            complete = 0;
            break;
        }
        spans[ok] = (arg_span){(uint32_t)off, size};
        off += size;
    }
    *used = off;
    const char *f = etw_wpp_msg_str(m, ETW_WPP_S_FORMAT);
    size_t fn = strlen(f);
    for (size_t i = 0; i < fn;) {
        const char *pc = memchr(f + i, '%', fn - i);
        size_t lit = pc ? (size_t)(pc - (f + i)) : fn - i;
        etw_strbuf_append(out, f + i, lit);
        i += lit;
        if (!pc)
            break;
        i++; /* past % */
        if (i >= fn) {
            etw_strbuf_putc(out, '%');
            break;
        }
        char c = f[i];
        if (c == '!') { /* %!NAME! */
            const char *e = memchr(f + i + 1, '!', fn - i - 1);
            if (!e) {
                etw_strbuf_puts(out, "%!");
                i++;
                continue;
            }
            put_named(out, m, f + i + 1, (size_t)(e - (f + i + 1)));
            i = (size_t)(e - f) + 1;
            continue;
        }
        if (c < '0' || c > '9') { /* FormatMessage escapes */
            const char *esc = c == 'n' ? "\n" : c == 't' ? "\t" : c == 'r' ? "\r" : c == 'b' ? " " : NULL;
            if (esc)
                etw_strbuf_puts(out, esc);
            else
                etw_strbuf_putc(out, c); /* %% %. %! and anything else: the character */
            i++;
            continue;
        }
        unsigned num = 0;
        while (i < fn && f[i] >= '0' && f[i] <= '9' && num < 100000)
            num = num * 10 + (unsigned)(f[i++] - '0');
        spec sp;
        parse_spec("s", 1, &sp);
        if (i < fn && f[i] == '!') {
            const char *e = memchr(f + i + 1, '!', fn - i - 1);
            if (e) {
                parse_spec(f + i + 1, (size_t)(e - (f + i + 1)), &sp);
                i = (size_t)(e - f) + 1;
            }
        }
        if (num == 0)
            continue; /* tracefmt's prefix */
        if (num < 10) {
            put_prefix_item(out, &sp, num, m, rec);
            continue;
        }
        size_t k = 0;
        while (k < nargs && m->args[k].number != num)
            k++;
        if (k < ok)
            put_arg(out, &sp, m, &m->args[k], p + spans[k].off, spans[k].size);
        else
            etw_strbuf_puts(out, "?"); /* not in the TMF, or its bytes did not decode */
    }
    return complete;
}

static void put_guid_braced(etw_strbuf *out, const GUID *g)
{
    char s[37];
    etw_guid_format(g, s);
    etw_strbuf_putc(out, '{');
    etw_strbuf_append(out, s, 36);
    etw_strbuf_putc(out, '}');
}

int etw_wpp_describe(const EVENT_RECORD *rec, etw_strbuf *provider, etw_strbuf *event_name)
{
    const EVENT_HEADER *h = &rec->EventHeader;
    const etw_wpp_msg *m = etw_wpp_find(&h->ProviderId, h->EventDescriptor.Id);
    const char *prov = m ? etw_wpp_msg_str(m, ETW_WPP_S_PROVIDER) : "";
    const char *name = m ? etw_wpp_msg_str(m, ETW_WPP_S_NAME) : "";
    if (prov[0])
        etw_strbuf_puts(provider, prov);
    else
        put_guid_braced(provider, &h->ProviderId);
    if (name[0]) {
        etw_strbuf_puts(event_name, name);
    } else {
        etw_strbuf_puts(event_name, "Message(");
        etw_strbuf_u64(event_name, h->EventDescriptor.Id);
        etw_strbuf_putc(event_name, ')');
    }
    return m != NULL;
}

static void field(etw_strbuf *out, int json, int *first, const char *name, const char *v, size_t n)
{
    if (!*first)
        etw_strbuf_puts(out, json ? "," : "; ");
    *first = 0;
    if (json) {
        etw_strbuf_putc(out, '"');
        etw_strbuf_puts(out, name);
        etw_strbuf_puts(out, "\":\"");
        etw_strbuf_json_string(out, v, n);
        etw_strbuf_putc(out, '"');
    } else {
        etw_strbuf_puts(out, name);
        etw_strbuf_putc(out, '=');
        etw_strbuf_append(out, v, n);
    }
}

int etw_wpp_format_fields(const EVENT_RECORD *rec, int json, etw_strbuf *out)
{
    const EVENT_HEADER *h = &rec->EventHeader;
    const uint8_t *p = rec->UserData;
    size_t n = p ? rec->UserDataLength : 0;
    const etw_wpp_msg *m = etw_wpp_find(&h->ProviderId, h->EventDescriptor.Id);
    if (!m) {
        etw_strbuf_hex(out, p, n);
        return 0;
    }
    /* The message is formatted in place after its key; JSON then escapes it into the space
     * after it (reserved first, so the buffer does not move) and moves it back down. */
    etw_strbuf_puts(out, json ? "\"Message\":\"" : "Message=");
    size_t raw = out->len, used = 0;
    int complete = etw_wpp_format_message(m, rec, out, &used);
    size_t raw_len = out->len - raw;
    if (json && etw_strbuf_reserve(out, raw_len * 6 + 8) == 0 && !out->failed) {
        size_t esc = out->len;
        etw_strbuf_json_string(out, out->data + raw, raw_len);
        memmove(out->data + raw, out->data + esc, out->len - esc);
        out->len = raw + (out->len - esc);
        out->data[out->len] = 0;
    }
    if (json)
        etw_strbuf_putc(out, '"');
    int first = 0;
    static const struct {
        const char *name;
        enum etw_wpp_str which;
    } extra[] = {{"Function", ETW_WPP_S_FUNC}, {"File", ETW_WPP_S_FILE}};
    for (size_t i = 0; i < 2; i++) {
        const char *v = etw_wpp_msg_str(m, extra[i].which);
        if (v[0])
            field(out, json, &first, extra[i].name, v, strlen(v));
    }
    if (m->line) {
        etw_strbuf_puts(out, json ? ",\"Line\":" : "; Line=");
        etw_strbuf_u64(out, m->line);
    }
    static const struct {
        const char *name;
        enum etw_wpp_str which;
    } more[] = {{"Level", ETW_WPP_S_LEVEL}, {"Flags", ETW_WPP_S_FLAGS}, {"Component", ETW_WPP_S_COMPNAME},
                {"SubComponent", ETW_WPP_S_SUBCOMP}};
    for (size_t i = 0; i < 4; i++) {
        const char *v = etw_wpp_msg_str(m, more[i].which);
        if (v[0])
            field(out, json, &first, more[i].name, v, strlen(v));
    }
    if (!complete) {
        etw_strbuf_puts(out, json ? ",\"_undecoded\":\"" : "; _undecoded=");
        etw_strbuf_hex(out, p + used, n - used);
        if (json)
            etw_strbuf_putc(out, '"');
    }
    return complete && !out->failed;
}
