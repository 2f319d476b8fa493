/* Repairs the one defect found in real regenerated manifests: attribute values holding raw
 * quotes and angle brackets (Windows' own provider metadata turned into XML without escaping,
 * e.g. message="$(string.map_ModeMap"No loopback mode")" or "...Token<Property>)"; 12 of the
 * 2,007 reference manifests). Used only after a strict parse failed. Inside a start tag, a
 * quote closes the value only where XML could go on — before whitespace and `name=`, `/>`,
 * `>` or `?>` — and other quotes, `<` and stray `&` in the value are escaped; everything else
 * is copied. The result is a new malloc'd buffer; the input is never read past n. */
#include <stdlib.h>
#include <string.h>

#include "tdh/sources/manifest_model.h"

typedef struct out {
    char *p;
    size_t n, cap;
} out;

static int put(out *o, const char *s, size_t n)
{
    if (n > o->cap - o->n) {
        size_t c = o->cap * 2 + n;
        char *g = realloc(o->p, c);
        if (!g)
            return 0;
        o->p = g;
        o->cap = c;
    }
    memcpy(o->p + o->n, s, n);
    o->n += n;
    return 1;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int is_name(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == ':' ||
           c == '-' || c == '.';
}

/* Does the quote at i close an attribute value? */
static int closes(const char *p, size_t n, size_t i)
{
    size_t j = i + 1;
    if (j >= n || p[j] == '>' || (p[j] == '/' && j + 1 < n && p[j + 1] == '>') ||
        (p[j] == '?' && j + 1 < n && p[j + 1] == '>'))
        return 1;
    if (!is_space(p[j]))
        return 0;
    while (j < n && is_space(p[j]))
        j++;
    if (j >= n || p[j] == '>' || p[j] == '/' || p[j] == '?')
        return 1;
    size_t k = j;
    while (k < n && is_name(p[k]))
        k++;
    while (k < n && is_space(p[k]))
        k++;
    return k > j && k + 1 < n && p[k] == '=' && (p[k + 1] == '"' || p[k + 1] == '\'' || is_space(p[k + 1]));
}

/* An entity or character reference starts at i ("&name;" / "&#...;")? */
static int is_reference(const char *p, size_t n, size_t i)
{
    size_t j = i + 1;
    if (j < n && p[j] == '#')
        j++;
    size_t start = j;
    while (j < n && j - start < 32 && is_name(p[j]))
        j++;
    return j > start && j < n && p[j] == ';';
}

/* Copies a construct that runs to the terminator end (comment, CDATA, PI, doctype). */
static size_t skip_to(const char *p, size_t n, size_t i, const char *end)
{
    size_t el = strlen(end);
    for (size_t j = i; j + el <= n; j++)
        if (memcmp(p + j, end, el) == 0)
            return j + el;
    return n;
}

char *etw_manifest_repair(const char *p, size_t n, size_t *out_n)
{
    out o = {malloc(n + n / 8 + 64), 0, n + n / 8 + 64};
    if (!o.p)
        return NULL;
    size_t i = 0;
    int ok = 1;
    while (i < n && ok) {
        if (p[i] != '<') {
            size_t j = i;
            while (j < n && p[j] != '<')
                j++;
            ok = put(&o, p + i, j - i);
            i = j;
            continue;
        }
        size_t end = 0;
        if (n - i >= 4 && memcmp(p + i, "<!--", 4) == 0)
            end = skip_to(p, n, i + 4, "-->");
        else if (n - i >= 9 && memcmp(p + i, "<![CDATA[", 9) == 0)
            end = skip_to(p, n, i + 9, "]]>");
        else if (n - i >= 2 && (p[i + 1] == '?' || p[i + 1] == '!'))
            end = skip_to(p, n, i + 2, ">");
        if (end) {
            ok = put(&o, p + i, end - i);
            i = end;
            continue;
        }
        /* A tag: copy up to its end, repairing quoted values. */
        for (; i < n && ok; i++) {
            char c = p[i];
            ok = put(&o, &c, 1);
            if (c == '>')
                break;
            if (c != '"' && c != '\'')
                continue;
            char q = c;
            for (i++; i < n && ok; i++) {
                if (p[i] == q && closes(p, n, i)) {
                    ok = put(&o, &q, 1);
                    break;
                }
                if (p[i] == '"')
                    ok = put(&o, "&quot;", 6);
                else if (p[i] == '\'')
                    ok = put(&o, "&apos;", 6);
                else if (p[i] == '<')
                    ok = put(&o, "&lt;", 4);
                else if (p[i] == '&' && !is_reference(p, n, i))
                    ok = put(&o, "&amp;", 5);
                else
                    ok = put(&o, p + i, 1);
            }
        }
        i++;
    }
    if (!ok) {
        free(o.p);
        return NULL;
    }
    *out_n = o.n;
    return o.p;
}
