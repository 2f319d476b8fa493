/* TMF text to message blobs (see tmf_model.h). The text is read line by line, bounded by its
 * length; everything the lines say is collected first (pointers into the text), because an
 * #enumv block may come after the messages that use it, then each message is compiled into
 * one blob (tmf_blob.c). Lines the parser does not understand are skipped and counted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "tdh/sources/tmf_build.h"

typedef struct span {
    const char *p;
    size_t n;
} span;

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

static span trim(span s)
{
    while (s.n && is_space(s.p[0]))
        s.p++, s.n--;
    while (s.n && is_space(s.p[s.n - 1]))
        s.n--;
    return s;
}

static int starts(span s, const char *w)
{
    size_t n = strlen(w);
    return s.n >= n && memcmp(s.p, w, n) == 0;
}

/* The next whitespace-separated word of *s (advancing *s past it). */
static span word(span *s)
{
    *s = trim(*s);
    if (!s->n)
        return (span){s->p, 0};
    size_t i = 0;
    while (i < s->n && !is_space(s->p[i]))
        i++;
    span w = {s->p, i};
    s->p += i, s->n -= i;
    return w;
}

static int parse_uint(span w, unsigned long max, unsigned long *out)
{
    unsigned long v = 0;
    if (!w.n)
        return 0;
    for (size_t i = 0; i < w.n; i++) {
        if (w.p[i] < '0' || w.p[i] > '9')
            return 0;
        v = v * 10 + (unsigned long)(w.p[i] - '0');
        if (v > max)
            return 0;
    }
    *out = v;
    return 1;
}

static int parse_guid(span w, GUID *g)
{
    char buf[40];
    if (w.n != 36)
        return 0;
    memcpy(buf, w.p, 36);
    buf[36] = 0;
    return etw_guid_parse(buf, g);
}

typedef struct parser {
    tmf_doc doc;
    char *err;
    size_t errlen;
    unsigned *skipped;
    unsigned line_no;
    enum { IN_NONE, IN_MESSAGE, IN_ENUM } block; /* what a { } block that follows belongs to */
    int in_block;
} parser;

static void problem(parser *ps, const char *why)
{
    if (*ps->skipped == 0 && ps->errlen)
        snprintf(ps->err, ps->errlen, "line %u: %s", ps->line_no, why);
    (*ps->skipped)++;
}

static void *grow(void *v, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return v;
    size_t c = *cap ? *cap * 2 : 8;
    void *nv = realloc(v, c * elem);
    if (nv)
        *cap = c;
    return nv;
}

/* `// KEY=value KEY=value ...` after a GUID or #typev line: the value of key, which runs up
 * to the next word that looks like `KEY=` (values may hold spaces: FUNC=A::operator ()). */
int tmf_tail_value(const char *tail, size_t n, const char *key, const char **v, size_t *vn)
{
    size_t kn = strlen(key);
    for (size_t i = 0; i + kn < n; i++) {
        if ((i > 0 && !is_space(tail[i - 1]) && tail[i - 1] != '/') || memcmp(tail + i, key, kn) != 0 ||
            tail[i + kn] != '=')
            continue;
        size_t s = i + kn + 1, e = s;
        while (e < n) {
            if (is_space(tail[e])) {
                /* does a KEY= word start after these spaces? */
                size_t w = e;
                while (w < n && is_space(tail[w]))
                    w++;
                size_t k = w;
                while (k < n && ((tail[k] >= 'A' && tail[k] <= 'Z') || tail[k] == '_' || (tail[k] >= '0' && tail[k] <= '9')))
                    k++;
                if (k > w && k < n && tail[k] == '=')
                    break;
            }
            e++;
        }
        span r = trim((span){tail + s, e - s});
        *v = r.p;
        *vn = r.n;
        return 1;
    }
    return 0;
}

static span tail_of(span rest)
{
    rest = trim(rest);
    if (starts(rest, "//"))
        rest.p += 2, rest.n -= 2;
    return trim(rest);
}

/* `<guid> <friendly name> // SRC=<file> MJ= MN=` */
static void guid_line(parser *ps, span line)
{
    span rest = line;
    span g = word(&rest);
    tmf_section *sec;
    ps->doc.sections = grow(ps->doc.sections, &ps->doc.cap_sections, ps->doc.nsections, sizeof *sec);
    if (!ps->doc.sections) {
        ps->doc.oom = 1;
        return;
    }
    sec = &ps->doc.sections[ps->doc.nsections];
    memset(sec, 0, sizeof *sec);
    parse_guid(g, &sec->guid);
    span name = word(&rest);
    if (starts(name, "//")) { /* no friendly name */
        rest = (span){name.p, name.n + rest.n};
        name.n = 0;
    }
    sec->provider = name.p;
    sec->provider_len = name.n;
    span t = tail_of(rest);
    tmf_tail_value(t.p, t.n, "SRC", &sec->file, &sec->file_len);
    ps->doc.nsections++;
}

/* `#typev <name> <number> "<format>" // LEVEL=... FLAGS=... FUNC=...` */
static void message_line(parser *ps, span line)
{
    span rest = {line.p + 6, line.n - 6};
    if (!ps->doc.nsections) {
        problem(ps, "#typev before any message GUID line");
        return;
    }
    span name = word(&rest), num = word(&rest);
    unsigned long number;
    if (!name.n || !parse_uint(num, 0xFFFF, &number)) {
        problem(ps, "#typev without a name and a message number (0-65535)");
        return;
    }
    rest = trim(rest);
    const char *q1 = rest.n && rest.p[0] == '"' ? rest.p : NULL;
    const char *q2 = NULL;
    for (size_t i = rest.n; q1 && i > 1; i--)
        if (rest.p[i - 1] == '"') {
            q2 = rest.p + i - 1;
            break;
        }
    if (!q1 || !q2 || q2 == q1) {
        problem(ps, "#typev without a quoted format string");
        return;
    }
    ps->doc.messages = grow(ps->doc.messages, &ps->doc.cap_messages, ps->doc.nmessages, sizeof *ps->doc.messages);
    if (!ps->doc.messages) {
        ps->doc.oom = 1;
        return;
    }
    tmf_message *m = &ps->doc.messages[ps->doc.nmessages++];
    memset(m, 0, sizeof *m);
    m->section = ps->doc.nsections - 1;
    m->number = (uint16_t)number;
    m->name = name.p;
    m->name_len = name.n;
    m->format = q1 + 1;
    m->format_len = (size_t)(q2 - q1 - 1);
    span t = tail_of((span){q2 + 1, (size_t)(rest.p + rest.n - q2 - 1)});
    m->tail = t.p;
    m->tail_len = t.n;
    ps->block = IN_MESSAGE;
}

/* Inside a message's block: `<expression>, Item<Type> -- <N>` (the expression may hold
 * commas, the item's parentheses too, so the line is read from its end). */
static void argument_line(parser *ps, span line)
{
    tmf_message *m = &ps->doc.messages[ps->doc.nmessages - 1];
    const char *dash = NULL;
    for (size_t i = line.n; i >= 2; i--)
        if (line.p[i - 1] == '-' && line.p[i - 2] == '-') {
            dash = line.p + i - 2;
            break;
        }
    unsigned long number;
    span after = dash ? trim((span){dash + 2, (size_t)(line.p + line.n - dash - 2)}) : (span){0};
    span numw = word(&after);
    if (!dash || !parse_uint(numw, 0xFFFF, &number)) {
        problem(ps, "argument line without `-- <number>`");
        return;
    }
    span head = trim((span){line.p, (size_t)(dash - line.p)});
    const char *item = NULL;
    for (size_t i = head.n >= 4 ? head.n - 4 : 0; i > 0 && !item; i--) {
        size_t k = i;
        while (k > 0 && is_space(head.p[k - 1]))
            k--;
        if (memcmp(head.p + i, "Item", 4) == 0 && k > 0 && head.p[k - 1] == ',')
            item = head.p + i;
    }
    if (!item) {
        problem(ps, "argument line without `, Item<Type>`");
        return;
    }
    m->args = grow(m->args, &m->cap_args, m->nargs, sizeof *m->args);
    if (!m->args) {
        ps->doc.oom = 1;
        return;
    }
    tmf_arg *a = &m->args[m->nargs++];
    span expr = {head.p, (size_t)(item - head.p)};
    while (expr.n && (is_space(expr.p[expr.n - 1]) || expr.p[expr.n - 1] == ','))
        expr.n--;
    a->expr = expr.p;
    a->expr_len = expr.n;
    a->item = item;
    a->item_len = (size_t)(head.p + head.n - item);
    a->number = (uint16_t)number;
}

/* `#enumv <name>` then a block of `<NAME> = <value>` lines. */
static void enum_line(parser *ps, span line)
{
    span rest = {line.p + 6, line.n - 6};
    span name = word(&rest);
    if (!name.n) {
        problem(ps, "#enumv without a name");
        return;
    }
    ps->doc.enums = grow(ps->doc.enums, &ps->doc.cap_enums, ps->doc.nenums, sizeof *ps->doc.enums);
    if (!ps->doc.enums) {
        ps->doc.oom = 1;
        return;
    }
    tmf_enum *e = &ps->doc.enums[ps->doc.nenums++];
    memset(e, 0, sizeof *e);
    e->name = name.p;
    e->name_len = name.n;
    ps->block = IN_ENUM;
}

static void enum_value_line(parser *ps, span line)
{
    tmf_enum *e = &ps->doc.enums[ps->doc.nenums - 1];
    const char *eq = memchr(line.p, '=', line.n);
    span name = trim((span){line.p, eq ? (size_t)(eq - line.p) : 0});
    span v = eq ? trim((span){eq + 1, (size_t)(line.p + line.n - eq - 1)}) : (span){0};
    while (v.n && (v.p[v.n - 1] == ',' || v.p[v.n - 1] == ';'))
        v.n--;
    char buf[24];
    char *end;
    if (!name.n || !v.n || v.n >= sizeof buf) {
        problem(ps, "enum value line is not `NAME = value`");
        return;
    }
    memcpy(buf, v.p, v.n);
    buf[v.n] = 0;
    long long val = strtoll(buf, &end, 0);
    if (*end || val < -2147483648LL || val > 4294967295LL) {
        problem(ps, "enum value is not a 32-bit number");
        return;
    }
    e->values = grow(e->values, &e->cap_values, e->nvalues, sizeof *e->values);
    if (!e->values) {
        ps->doc.oom = 1;
        return;
    }
    tmf_enum_value *ev = &e->values[e->nvalues++];
    ev->name = name.p;
    ev->name_len = name.n;
    ev->value = (uint32_t)val;
}

static void one_line(parser *ps, span line)
{
    line = trim(line);
    if (!line.n)
        return;
    if (ps->in_block) {
        if (line.p[0] == '}') {
            ps->in_block = 0;
            ps->block = IN_NONE;
        } else if (ps->block == IN_MESSAGE) {
            argument_line(ps, line);
        } else if (ps->block == IN_ENUM) {
            enum_value_line(ps, line);
        }
        return;
    }
    if (line.p[0] == '{') {
        if (ps->block == IN_NONE)
            problem(ps, "`{` without a #typev or #enumv line before it");
        ps->in_block = 1;
        return;
    }
    ps->block = IN_NONE;
    GUID g;
    span rest = line;
    if (starts(line, "//"))
        return;
    if (starts(line, "#typev") && line.n > 6 && is_space(line.p[6]))
        message_line(ps, line);
    else if (starts(line, "#enumv") && line.n > 6 && is_space(line.p[6]))
        enum_line(ps, line);
    else if (parse_guid(word(&rest), &g))
        guid_line(ps, line);
    else
        problem(ps, "not a GUID, #typev or #enumv line");
}

long etw_tmf_parse(const char *p, size_t n, etw_tmf_sink sink, void *ctx, char *err, size_t errlen,
                   unsigned *skipped)
{
    parser ps;
    memset(&ps, 0, sizeof ps);
    unsigned dummy = 0;
    ps.skipped = skipped ? skipped : &dummy;
    *ps.skipped = 0;
    ps.err = err;
    ps.errlen = errlen;
    if (errlen)
        err[0] = 0;
    size_t pos = 0;
    while (pos < n && !ps.doc.oom) {
        const char *nl = memchr(p + pos, '\n', n - pos);
        size_t len = nl ? (size_t)(nl - (p + pos)) : n - pos;
        ps.line_no++;
        one_line(&ps, (span){p + pos, len});
        pos += len + (nl != NULL);
    }
    long r;
    if (ps.doc.oom) {
        r = -1;
        if (errlen)
            snprintf(err, errlen, "out of memory");
    } else if (!ps.doc.nsections) {
        r = -1;
        char first[160];
        snprintf(first, sizeof first, "%s", *ps.skipped && errlen ? err : "");
        if (errlen)
            snprintf(err, errlen, "not a TMF file: no message GUID line (`<guid> <name> // SRC=<file>`)%s%s",
                     first[0] ? "; first problem at " : "", first);
    } else {
        r = tmf_doc_compile(&ps.doc, sink, ctx);
    }
    tmf_doc_free(&ps.doc);
    return r;
}
