/* XML instrumentation manifests (format notes §3.1) read with expat into the manifest model.
 * Element names are matched without their namespace prefix; only the elements decoding needs
 * are kept, the rest (messages, channels, filters ...) is skipped. */
#include "tdh/sources/manifest.h"
#include "tdh/sources/manifest_model.h"

#include <stdio.h>

#ifndef ETWIRE_HAVE_EXPAT
etw_tdh_status etw_manifest_load_xml(const uint8_t *p, size_t n, uint32_t origin, char *why, size_t why_len)
{
    (void)p;
    (void)n;
    (void)origin;
    if (why && why_len)
        snprintf(why, why_len, "%s", etw_tdh_status_message(ETW_TDH_E_NO_EXPAT));
    return ETW_TDH_E_NO_EXPAT;
}
#else
#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/text.h"

typedef struct reader {
    etw_manifest *m;
    XML_Parser parser;
    int32_t provider;     /* current provider index, -1 outside */
    int32_t task;         /* current task (for nested opcodes), -1 outside */
    int32_t tmpl;         /* current template, -1 outside */
    int32_t item_parent;  /* struct item being filled, -1 at template top level */
    int32_t map;          /* current valueMap/bitMap, -1 outside */
    unsigned depth;
    char root[64];        /* the document element's local name */
    unsigned long root_line;
} reader;

static const char *local(const char *name)
{
    const char *c = strrchr(name, ':');
    return c ? c + 1 : name;
}

static const char *attr(const char **atts, const char *name)
{
    for (size_t i = 0; atts[i]; i += 2)
        if (strcmp(local(atts[i]), name) == 0)
            return atts[i + 1];
    return NULL;
}

static char *dup(etw_manifest *m, const char *s)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        m->failed = 1;
    return d;
}

static uint64_t num(const char *s)
{
    return s ? strtoull(s, NULL, 0) : 0;
}

static void named(reader *r, void *list_v, const char **atts, int32_t owner, const char *value_attr)
{
    etw_man_named *e = list_v;
    if (!e)
        return;
    e->name = dup(r->m, attr(atts, "name"));
    e->message = dup(r->m, attr(atts, "message"));
    e->value = num(attr(atts, value_attr));
    e->owner = owner;
}

static void on_start(void *ud, const char *el, const char **atts)
{
    reader *r = ud;
    etw_manifest *m = r->m;
    const char *n = local(el);
    if (r->depth++ == 0) {
        snprintf(r->root, sizeof r->root, "%s", n);
        r->root_line = (unsigned long)XML_GetCurrentLineNumber(r->parser);
    }
    if (m->failed || r->depth > 64)
        return;
    if (strcmp(n, "provider") == 0) {
        etw_man_provider *p = ETW_MAN_PUSH(m, providers);
        if (p && etw_guid_parse(attr(atts, "guid"), &p->guid)) {
            p->name = dup(m, attr(atts, "name"));
            r->provider = (int32_t)(m->providers.n - 1);
        } else if (p) {
            m->providers.n--;
            r->provider = -1;
        }
    } else if (r->provider < 0) {
        if (strcmp(n, "string") == 0) {
            etw_man_string *s = ETW_MAN_PUSH(m, strings);
            if (s) {
                s->id = dup(m, attr(atts, "id"));
                s->value = dup(m, attr(atts, "value"));
            }
        }
    } else if (strcmp(n, "task") == 0) {
        named(r, ETW_MAN_PUSH(m, tasks), atts, r->provider, "value");
        r->task = (int32_t)(m->tasks.n - 1);
    } else if (strcmp(n, "opcode") == 0) {
        /* Task-level opcodes belong to their task; provider-level ones to the provider. */
        named(r, ETW_MAN_PUSH(m, opcodes), atts, r->task >= 0 ? r->task : -2 - r->provider, "value");
    } else if (strcmp(n, "valueMap") == 0 || strcmp(n, "bitMap") == 0) {
        etw_man_map *mp = ETW_MAN_PUSH(m, maps);
        if (mp) {
            mp->provider = (uint32_t)r->provider;
            mp->name = dup(m, attr(atts, "name"));
            mp->bitmap = n[0] == 'b';
            r->map = (int32_t)(m->maps.n - 1);
        }
    } else if (strcmp(n, "map") == 0 && r->map >= 0) {
        etw_man_map_entry *e = ETW_MAN_PUSH(m, entries);
        if (e) {
            e->map = (uint32_t)r->map;
            e->value = (uint32_t)num(attr(atts, "value"));
            e->message = dup(m, attr(atts, "message"));
        }
    } else if (strcmp(n, "template") == 0) {
        char **t = ETW_MAN_PUSH(m, templates);
        if (t) {
            *t = dup(m, attr(atts, "tid"));
            r->tmpl = (int32_t)(m->templates.n - 1);
        }
    } else if ((strcmp(n, "data") == 0 || strcmp(n, "struct") == 0) && r->tmpl >= 0) {
        etw_man_item *it = ETW_MAN_PUSH(m, items);
        if (!it)
            return;
        it->tmpl = r->tmpl;
        it->parent = r->item_parent;
        it->is_struct = n[0] == 's';
        it->name = dup(m, attr(atts, "name"));
        it->in_type = dup(m, attr(atts, "inType"));
        it->out_type = dup(m, attr(atts, "outType"));
        it->map = dup(m, attr(atts, "map"));
        it->length = dup(m, attr(atts, "length"));
        it->count = dup(m, attr(atts, "count"));
        it->line = (uint32_t)XML_GetCurrentLineNumber(r->parser);
        if (it->is_struct)
            r->item_parent = (int32_t)(m->items.n - 1);
    } else if (strcmp(n, "event") == 0) {
        etw_man_event *e = ETW_MAN_PUSH(m, events);
        if (!e)
            return;
        e->provider = (uint32_t)r->provider;
        e->id = (uint16_t)num(attr(atts, "value"));
        e->version = (uint8_t)num(attr(atts, "version"));
        e->task_name = dup(m, attr(atts, "task"));
        e->opcode_name = dup(m, attr(atts, "opcode"));
        e->level_name = dup(m, attr(atts, "level"));
        e->tmpl = dup(m, attr(atts, "template"));
        e->symbol = dup(m, attr(atts, "symbol"));
        e->name = dup(m, attr(atts, "name"));
        e->message = dup(m, attr(atts, "message"));
        e->line = (uint32_t)XML_GetCurrentLineNumber(r->parser);
    }
}

static void on_end(void *ud, const char *el)
{
    reader *r = ud;
    const char *n = local(el);
    if (r->depth)
        r->depth--;
    if (strcmp(n, "provider") == 0)
        r->provider = -1;
    else if (strcmp(n, "task") == 0)
        r->task = -1;
    else if (strcmp(n, "template") == 0)
        r->tmpl = r->item_parent = -1;
    else if (strcmp(n, "struct") == 0 && r->item_parent >= 0)
        r->item_parent = r->m->items.v[r->item_parent].parent;
    else if (strcmp(n, "valueMap") == 0 || strcmp(n, "bitMap") == 0)
        r->map = -1;
}

/* One strict expat pass over (p, n) into m; 0 with why set on a parse error. */
static etw_tdh_status parse(etw_manifest *m, const char *p, size_t n, char *root, unsigned long *root_line, char *why,
                   size_t why_len)
{
    reader r = {m, XML_ParserCreate(NULL), -1, -1, -1, -1, -1, 0, "", 0};
    if (!r.parser)
        return ETW_TDH_E_NOMEM;
    XML_SetUserData(r.parser, &r);
    XML_SetElementHandler(r.parser, on_start, on_end);
    etw_tdh_status err = ETW_TDH_OK;
    if (XML_Parse(r.parser, p, (int)n, 1) == XML_STATUS_ERROR) {
        err = ETW_TDH_E_XML;
        if (why && why_len)
            snprintf(why, why_len, "line %lu, column %lu: %s", (unsigned long)XML_GetCurrentLineNumber(r.parser),
                     (unsigned long)XML_GetCurrentColumnNumber(r.parser) + 1,
                     XML_ErrorString(XML_GetErrorCode(r.parser)));
    } else if (m->failed) {
        err = ETW_TDH_E_NOMEM;
        if (why && why_len)
            snprintf(why, why_len, "line %lu: out of memory or more than %u items in a list",
                     (unsigned long)XML_GetCurrentLineNumber(r.parser), ETW_MAN_MAX_ITEMS);
    }
    XML_ParserFree(r.parser);
    memcpy(root, r.root, sizeof r.root);
    *root_line = r.root_line;
    return err;
}

etw_tdh_status etw_manifest_load_xml(const uint8_t *p, size_t n, uint32_t origin, char *why, size_t why_len)
{
    if (why && why_len)
        why[0] = 0;
    if (n > ETW_MANIFEST_MAX_FILE || n > INT32_MAX) {
        if (why && why_len)
            snprintf(why, why_len, "larger than %u MiB", ETW_MANIFEST_MAX_FILE >> 20);
        return ETW_TDH_E_TOO_LARGE;
    }
    etw_manifest m;
    memset(&m, 0, sizeof m);
    char root[64] = "";
    unsigned long root_line = 0;
    etw_tdh_status err = parse(&m, (const char *)p, n, root, &root_line, why, why_len);
    if (err == ETW_TDH_E_XML) {
        /* Manifests regenerated from provider metadata can hold raw quotes inside attribute
         * values; parse a repaired copy, but report the original position if that fails too. */
        size_t fixed_n = 0;
        char *fixed = etw_manifest_repair((const char *)p, n, &fixed_n);
        if (fixed && fixed_n <= INT32_MAX) {
            etw_manifest_free(&m);
            if (parse(&m, fixed, fixed_n, root, &root_line, NULL, 0) == ETW_TDH_OK)
                err = ETW_TDH_OK;
        }
        free(fixed);
        if (err == ETW_TDH_OK && why && why_len)
            why[0] = 0;
    }
    if (err == ETW_TDH_OK) {
        if (m.providers.n) {
            err = etw_manifest_compile(&m, origin, why, why_len);
        } else if (strcmp(root, "instrumentationManifest") != 0) {
            err = ETW_TDH_E_NOT_MANIFEST;
            if (why && why_len)
                snprintf(why, why_len, "line %lu: not an instrumentation manifest (document element <%s>)",
                         root_line, root);
        } else {
            err = ETW_TDH_E_UNUSABLE;
            if (why && why_len)
                snprintf(why, why_len, "line %lu: no <provider> element with a valid guid attribute", root_line);
        }
    }
    etw_manifest_free(&m);
    return err;
}
#endif
