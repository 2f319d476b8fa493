/* Compiling parsed TMF messages into blobs, and checking blobs (see tmf_model.h). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tdh/sources/tmf_build.h"

typedef struct item_name {
    const char *name;
    uint8_t type, width;
} item_name;

static const item_name items[] = {
    {"Char", ETW_WPP_CHAR, 0},          {"CharSign", ETW_WPP_CHAR, 0},
    {"UChar", ETW_WPP_UCHAR, 0},        {"Short", ETW_WPP_SHORT, 0},
    {"UShort", ETW_WPP_USHORT, 0},      {"CharShort", ETW_WPP_USHORT, 0},
    {"Long", ETW_WPP_LONG, 0},          {"ULong", ETW_WPP_ULONG, 0},
    {"ULongX", ETW_WPP_ULONGX, 0},      {"LongLong", ETW_WPP_LONGLONG, 0},
    {"ULongLong", ETW_WPP_ULONGLONG, 0}, {"ULongLongX", ETW_WPP_ULONGLONGX, 0},
    {"LongLongX", ETW_WPP_ULONGLONGX, 0}, {"Ptr", ETW_WPP_PTR, 0},
    {"Double", ETW_WPP_DOUBLE, 0},      {"String", ETW_WPP_STRING, 0},
    {"RString", ETW_WPP_STRING, 0},     {"MLString", ETW_WPP_STRING, 0},
    {"WString", ETW_WPP_WSTRING, 0},    {"PString", ETW_WPP_PSTRING, 0},
    {"PWString", ETW_WPP_PWSTRING, 0},  {"Guid", ETW_WPP_GUID, 0},
    {"CLSID", ETW_WPP_GUID, 0},         {"IID", ETW_WPP_GUID, 0},
    {"NTSTATUS", ETW_WPP_NTSTATUS, 0},  {"HRESULT", ETW_WPP_HRESULT, 0},
    {"WINERROR", ETW_WPP_WINERROR, 0},  {"IPAddr", ETW_WPP_IPADDR, 0},
    {"Port", ETW_WPP_PORT, 0},          {"Sid", ETW_WPP_SID, 0},
    {"HEXDump", ETW_WPP_HEXDUMP, 0},    {"Timestamp", ETW_WPP_TIMESTAMP, 0},
    {"Char4", ETW_WPP_CHAR4, 0},        {"Enum", ETW_WPP_ENUM, 4},
    {"ListLong", ETW_WPP_LIST, 4},      {"ListShort", ETW_WPP_LIST, 2},
    {"ListByte", ETW_WPP_LIST, 1},      {"SetLong", ETW_WPP_SET, 4},
    {"SetShort", ETW_WPP_SET, 2},       {"SetByte", ETW_WPP_SET, 1},
};

enum etw_wpp_item etw_wpp_item_parse(const char *s, size_t n, uint8_t *width)
{
    *width = 0;
    if (n < 4 || memcmp(s, "Item", 4) != 0)
        return ETW_WPP_UNKNOWN;
    s += 4, n -= 4;
    size_t base = 0;
    while (base < n && s[base] != '(')
        base++;
    int has_list = base < n;
    for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
        if (strlen(items[i].name) != base || strncasecmp(items[i].name, s, base) != 0)
            continue;
        if (has_list != (items[i].width != 0) || (has_list && s[n - 1] != ')'))
            return ETW_WPP_UNKNOWN;
        *width = items[i].width;
        return (enum etw_wpp_item)items[i].type;
    }
    return ETW_WPP_UNKNOWN;
}

/* ------------------------------------------------------------------ compiling */

typedef struct blob {
    uint8_t *p;
    size_t len, cap;
} blob;

static uint32_t put_str(blob *b, const char *s, size_t n)
{
    if (!s)
        return 0;
    if (b->len + n + 1 > b->cap)
        return 0;
    uint32_t off = (uint32_t)b->len;
    memcpy(b->p + off, s, n);
    b->p[off + n] = 0;
    b->len += n + 1;
    return off;
}

static const tmf_enum *find_enum(const tmf_doc *d, const char *name, size_t n)
{
    for (size_t i = 0; i < d->nenums; i++)
        if (d->enums[i].name_len == n && memcmp(d->enums[i].name, name, n) == 0)
            return &d->enums[i];
    return NULL;
}

/* The inside of "Item...(x, y)". */
static const char *list_of(const tmf_arg *a, size_t *n)
{
    const char *open = memchr(a->item, '(', a->item_len);
    if (!open || a->item_len < 2 || a->item[a->item_len - 1] != ')') {
        *n = 0;
        return NULL;
    }
    *n = (size_t)(a->item + a->item_len - 1 - open - 1);
    return open + 1;
}

static size_t count_list(const char *s, size_t n)
{
    size_t c = n ? 1 : 0;
    for (size_t i = 0; i < n; i++)
        c += s[i] == ',';
    return c;
}

static void trim_span(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t'))
        (*s)++, (*n)--;
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

static uint32_t line_of(const char *name, size_t n)
{
    size_t i = n;
    while (i > 0 && name[i - 1] >= '0' && name[i - 1] <= '9')
        i--;
    uint32_t v = 0;
    for (size_t k = i; k < n && k < i + 9; k++)
        v = v * 10 + (uint32_t)(name[k] - '0');
    return v;
}

static etw_wpp_msg *compile_one(const tmf_doc *d, const tmf_message *m)
{
    const tmf_section *sec = &d->sections[m->section];
    static const char *const keys[] = {"FUNC", "LEVEL", "FLAGS", "COMPNAME", "SUBCOMP"};
    const char *kv[5] = {0};
    size_t kn[5] = {0};
    for (int i = 0; i < 5; i++)
        tmf_tail_value(m->tail, m->tail_len, keys[i], &kv[i], &kn[i]);
    size_t need = sizeof(etw_wpp_msg) + m->nargs * sizeof(etw_wpp_arg) + 8;
    need += sec->provider_len + sec->file_len + m->name_len + m->format_len + m->tail_len + 16;
    for (int i = 0; i < 5; i++)
        need += kn[i] + 1;
    for (size_t i = 0; i < m->nargs; i++) {
        const tmf_arg *a = &m->args[i];
        need += a->expr_len + 1 + 4;
        uint8_t w;
        enum etw_wpp_item t = etw_wpp_item_parse(a->item, a->item_len, &w);
        size_t ln;
        const char *l = list_of(a, &ln);
        if (t == ETW_WPP_ENUM) {
            const tmf_enum *e = find_enum(d, l, ln);
            for (size_t k = 0; e && k < e->nvalues; k++)
                need += sizeof(etw_wpp_value) + e->values[k].name_len + 1;
        } else if (t == ETW_WPP_LIST || t == ETW_WPP_SET) {
            need += count_list(l, ln) * (sizeof(etw_wpp_value) + 1) + ln + 4;
        }
    }
    if (need > UINT32_MAX / 2)
        return NULL;
    blob b = {calloc(1, need), sizeof(etw_wpp_msg) + m->nargs * sizeof(etw_wpp_arg), need};
    if (!b.p)
        return NULL;
    etw_wpp_msg *msg = (etw_wpp_msg *)b.p;
    msg->number = m->number;
    msg->nargs = (uint16_t)m->nargs;
    msg->guid = sec->guid;
    msg->line = line_of(m->name, m->name_len);
    msg->str[ETW_WPP_S_PROVIDER] = put_str(&b, sec->provider, sec->provider_len);
    msg->str[ETW_WPP_S_NAME] = put_str(&b, m->name, m->name_len);
    msg->str[ETW_WPP_S_FILE] = put_str(&b, sec->file, sec->file_len);
    msg->str[ETW_WPP_S_FORMAT] = put_str(&b, m->format, m->format_len);
    msg->str[ETW_WPP_S_TAIL] = put_str(&b, m->tail, m->tail_len);
    static const enum etw_wpp_str slot[] = {ETW_WPP_S_FUNC, ETW_WPP_S_LEVEL, ETW_WPP_S_FLAGS,
                                            ETW_WPP_S_COMPNAME, ETW_WPP_S_SUBCOMP};
    for (int i = 0; i < 5; i++)
        msg->str[slot[i]] = put_str(&b, kv[i], kn[i]);
    for (size_t i = 0; i < m->nargs; i++) {
        const tmf_arg *a = &m->args[i];
        etw_wpp_arg *o = &msg->args[i];
        o->type = (uint8_t)etw_wpp_item_parse(a->item, a->item_len, &o->width);
        o->number = a->number;
        o->name = put_str(&b, a->expr, a->expr_len);
        size_t ln;
        const char *l = list_of(a, &ln);
        if (o->type == ETW_WPP_ENUM) {
            const tmf_enum *e = find_enum(d, l, ln);
            if (!e || !e->nvalues)
                continue; /* an enum without names: its values print as numbers */
            size_t first = (b.len + 3) & ~(size_t)3;
            b.len = first + e->nvalues * sizeof(etw_wpp_value);
            for (size_t k = 0; k < e->nvalues; k++) {
                etw_wpp_value v = {e->values[k].value, put_str(&b, e->values[k].name, e->values[k].name_len)};
                memcpy(b.p + first + k * sizeof v, &v, sizeof v);
            }
            o->values = (uint32_t)first;
            o->nvalues = (uint32_t)e->nvalues;
        } else if (o->type == ETW_WPP_LIST || o->type == ETW_WPP_SET) {
            size_t count = count_list(l, ln);
            size_t first = (b.len + 3) & ~(size_t)3;
            b.len = first + count * sizeof(etw_wpp_value);
            const char *s = l;
            for (size_t k = 0; k < count; k++) {
                const char *e = memchr(s, ',', (size_t)(l + ln - s));
                size_t n = e ? (size_t)(e - s) : (size_t)(l + ln - s);
                const char *ns = s;
                size_t nn = n;
                trim_span(&ns, &nn);
                etw_wpp_value v = {(uint32_t)k, put_str(&b, ns, nn)};
                memcpy(b.p + first + k * sizeof v, &v, sizeof v);
                s += n + 1;
            }
            o->values = (uint32_t)first;
            o->nvalues = (uint32_t)count;
        }
    }
    msg->size = (uint32_t)b.len;
    return msg;
}

long tmf_doc_compile(const tmf_doc *d, etw_tmf_sink sink, void *ctx)
{
    long n = 0;
    for (size_t i = 0; i < d->nmessages; i++) {
        if (d->messages[i].nargs > 0xFFFF)
            continue;
        etw_wpp_msg *m = compile_one(d, &d->messages[i]);
        if (!m)
            return -1;
        n++;
        if (sink(ctx, m))
            break;
    }
    return n;
}

void tmf_doc_free(tmf_doc *d)
{
    for (size_t i = 0; i < d->nmessages; i++)
        free(d->messages[i].args);
    for (size_t i = 0; i < d->nenums; i++)
        free(d->enums[i].values);
    free(d->messages);
    free(d->enums);
    free(d->sections);
    memset(d, 0, sizeof *d);
}

/* ------------------------------------------------------------------ checking */

static int str_ok(const uint8_t *p, size_t n, uint32_t off)
{
    return off == 0 || (off >= sizeof(etw_wpp_msg) && off < n && memchr(p + off, 0, n - off) != NULL);
}

int etw_wpp_msg_check(const void *v, size_t n)
{
    const uint8_t *p = v;
    etw_wpp_msg h;
    if (!p || n < sizeof h || n > UINT32_MAX)
        return 0;
    memcpy(&h, p, sizeof h);
    if (h.size != n || (n - sizeof h) / sizeof(etw_wpp_arg) < h.nargs)
        return 0;
    for (int i = 0; i < ETW_WPP_S_COUNT; i++)
        if (!str_ok(p, n, h.str[i]))
            return 0;
    for (size_t i = 0; i < h.nargs; i++) {
        etw_wpp_arg a;
        memcpy(&a, p + sizeof h + i * sizeof a, sizeof a);
        if (a.type >= ETW_WPP_ITEM_COUNT || !str_ok(p, n, a.name))
            return 0;
        int valued = a.type == ETW_WPP_ENUM || a.type == ETW_WPP_LIST || a.type == ETW_WPP_SET;
        if (valued && a.width != 1 && a.width != 2 && a.width != 4)
            return 0;
        if (!valued && (a.width || a.nvalues))
            return 0;
        if (!a.nvalues)
            continue;
        if (a.values % 4 || a.values < sizeof h || a.values > n || (n - a.values) / sizeof(etw_wpp_value) < a.nvalues)
            return 0;
        for (size_t k = 0; k < a.nvalues; k++) {
            etw_wpp_value val;
            memcpy(&val, p + a.values + k * sizeof val, sizeof val);
            if (!str_ok(p, n, val.name))
                return 0;
        }
    }
    return 1;
}
