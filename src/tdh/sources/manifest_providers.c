/* Which provider an XML manifest describes, found without parsing it (manifest.h): a trace's
 * EventSource manifest is kept raw until a lookup of its provider needs it (embedded_pending.h),
 * and that is only right when it can describe no other provider. The scan over-approximates
 * what manifest_xml.c finds: once DOCTYPEs, comments and CDATA are ruled out, markup starts only
 * at a '<', so every element the parser sees, also in the repaired copy of a malformed manifest
 * (manifest_repair.c only escapes), is a '<' followed by its name, and the scan finds every such
 * name whose local part is "provider"; and it accepts a provider's start tag only when its
 * attributes read the same whichever of the two parses runs. */
#include <string.h>

#include "base/text.h"
#include "tdh/sources/manifest.h"

static int is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* XML name characters, and every non-ASCII byte (names may be UTF-8); letters first, as
 * every element name of a manifest is read. */
static int is_name(uint8_t c)
{
    return (unsigned)((c | 0x20) - 'a') < 26u || (unsigned)(c - '0') < 10u || c >= 0x80 || c == '_' || c == ':' ||
           c == '-' || c == '.';
}

/* Is the name (p, n) "local" after its last ':' (as manifest_xml.c compares names)? */
static int local_is(const uint8_t *p, size_t n, const char *local)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++)
        if (p[i] == ':')
            start = i + 1;
    size_t len = strlen(local);
    return n - start == len && memcmp(p + start, local, len) == 0;
}

static size_t skip_space(const uint8_t *p, size_t n, size_t i)
{
    while (i < n && is_space(p[i]))
        i++;
    return i;
}

/* The attributes of a start tag from i: 1 and *guid if exactly one is named guid, it parses,
 * and every value is plain (no quote, reference, '<' or whitespace to normalize). */
static int start_tag_guid(const uint8_t *p, size_t n, size_t i, GUID *guid)
{
    int have = 0;
    for (;;) {
        if (i >= n || !is_space(p[i])) {
            if (i < n && (p[i] == '>' || (p[i] == '/' && i + 1 < n && p[i + 1] == '>')))
                return have;
            return 0;
        }
        i = skip_space(p, n, i);
        if (i < n && (p[i] == '>' || (p[i] == '/' && i + 1 < n && p[i + 1] == '>')))
            return have;
        size_t name = i;
        while (i < n && is_name(p[i]))
            i++;
        size_t name_len = i - name;
        i = skip_space(p, n, i);
        if (!name_len || i >= n || p[i] != '=')
            return 0;
        i = skip_space(p, n, i + 1);
        if (i >= n || (p[i] != '"' && p[i] != '\''))
            return 0;
        size_t value = ++i;
        while (i < n && p[i] != '"' && p[i] != '\'' && p[i] != '<' && p[i] != '&' && (p[i] == ' ' || !is_space(p[i])))
            i++;
        if (i >= n || p[i] != p[value - 1])
            return 0;
        size_t value_len = i++ - value;
        if (local_is(p + name, name_len, "guid")) {
            char text[64];
            if (have || value_len >= sizeof text)
                return 0;
            memcpy(text, p + value, value_len);
            text[value_len] = '\0';
            if (!etw_guid_parse(text, guid))
                return 0;
            have = 1;
        }
    }
}

int etw_manifest_sole_provider(const uint8_t *p, size_t n, GUID *guid)
{
    int found = 0;
    for (const uint8_t *lt = memchr(p, '<', n); lt; lt = memchr(lt + 1, '<', n - (size_t)(lt + 1 - p))) {
        size_t name = (size_t)(lt - p) + 1, end = name, local = name;
        if (name < n && p[name] == '!')
            return 0; /* DOCTYPE (its entities may hold markup), comment, CDATA: the parser's job */
        for (; end < n && is_name(p[end]); end++)
            if (p[end] == ':')
                local = end + 1;
        if (end - local != 8 || memcmp(p + local, "provider", 8) != 0)
            continue;
        if (found || !start_tag_guid(p, n, end, guid))
            return 0;
        found = 1;
    }
    return found;
}
