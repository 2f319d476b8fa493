/* etwire schemas: fill and inspect the schema store (docs/decoding.md, "The schema store").
 *   import PATH...   manifests, provider binaries (WEVT_TEMPLATE), MOF and TMF files, or trees
 *   list             providers: GUID, name, events, versions, WPP messages, where from
 *   show PROVIDER    a provider's events with their fields, maps, WPP messages */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <etwire/etwire.h>
#include <etwire/tdh.h>

#include "base/strbuf.h"
#include "base/text.h"
#include "commands.h"
#include "tdh/sources/tmf_model.h"
#include "tdh/store/schema_store.h"
#include "tdh/store/store_import.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: etwire schemas [--schemas DIR] import [-v] PATH...\n"
               "       etwire schemas [--schemas DIR] list [--provider NAME|GUID]\n"
               "       etwire schemas [--schemas DIR] show NAME|GUID\n"
               "The schema store adds the schemas of providers a trace does not carry.\n"
               "  import PATH...   instrumentation manifests (.man, .xml), provider binaries with a\n"
               "                   WEVT_TEMPLATE resource (any PE file), MOF (.mof) and TMF (.tmf) files,\n"
               "                   or directory trees of them (a mounted Windows/System32 works); files\n"
               "                   that cannot be used are reported and the rest imported\n"
               "  list             providers: GUID, name, events, versions, WPP messages, origin\n"
               "  show PROVIDER    its events and fields, value maps and WPP messages\n"
               "  --schemas DIR    the store (default: $ETWIRE_SCHEMAS, else $XDG_DATA_HOME/etwire/schemas,\n"
               "                   else ~/.local/share/etwire/schemas)\n"
               "  -v               import: also list every file imported or skipped\n");
}

typedef struct import_ctx {
    int verbose;
} import_ctx;

static void on_file(void *ctx, const char *path, enum etw_import_result r, const char *what)
{
    const import_ctx *c = ctx;
    if (r == ETW_IMPORT_FAILED)
        fprintf(stderr, "etwire schemas: %s: %s\n", path, what);
    else if (c->verbose)
        printf("%s %s: %s\n", r == ETW_IMPORT_OK ? "imported" : "skipped", path, what);
}

static int do_import(const char *dir, int argc, char **argv, int verbose)
{
    char why[512];
    if (argc == 0) {
        usage(stderr);
        return 2;
    }
    etw_store_import *imp = etw_store_import_begin(dir, why, sizeof why);
    if (!imp) {
        fprintf(stderr, "etwire schemas: %s\n", why);
        return 1;
    }
    import_ctx ctx = {verbose};
    for (int i = 0; i < argc; i++)
        etw_store_import_path(imp, argv[i], on_file, &ctx);
    etw_import_counts c = *etw_store_import_counts(imp);
    int rc = 0;
    if (c.files_ok == 0) {
        fprintf(stderr, "etwire schemas: nothing could be imported (%zu files not usable, %zu skipped)\n",
                c.files_failed, c.files_skipped);
        rc = 1;
    } else if (!etw_store_import_commit(imp, why, sizeof why)) {
        fprintf(stderr, "etwire schemas: %s\n", why);
        rc = 1;
    } else {
        printf("imported %zu files (%zu schemas, %zu WPP messages) into %s; %zu files not usable, %zu skipped\n",
               c.files_ok, c.schemas, c.wpp_messages, dir, c.files_failed, c.files_skipped);
    }
    etw_store_import_free(imp);
    return rc;
}

/* Messages of guid in the store's WPP section. */
static uint32_t wpp_count(const etw_store_wpp *w, const GUID *g, uint32_t *first)
{
    uint32_t i = w ? etw_store_wpp_first(w, g) : 0, n = 0;
    *first = i;
    for (; w && i < w->count; i++, n++) {
        GUID eg;
        uint16_t num;
        const uint8_t *b;
        uint32_t size;
        etw_store_wpp_entry(w, i, &eg, &num, &b, &size);
        if (memcmp(&eg, g, sizeof eg) != 0)
            break;
    }
    return n;
}

static int matches(const GUID *g, const char *name, const char *want)
{
    GUID wg;
    if (!want)
        return 1;
    if (etw_guid_parse(want, &wg))
        return etw_guid_equal(&wg, g);
    return strcasecmp(name, want) == 0;
}

/* A WPP-only GUID's name: its messages' friendly name. */
static const char *wpp_name(const etw_store_wpp *w, uint32_t first, etw_strbuf *sb)
{
    etw_strbuf_reset(sb);
    etw_wpp_msg *m = etw_store_wpp_copy(w, first);
    if (m)
        etw_strbuf_puts(sb, etw_wpp_msg_str(m, ETW_WPP_S_PROVIDER));
    free(m);
    return sb->data ? sb->data : "";
}

static void provider_line(const etw_pack *pk, uint32_t i, const etw_store_wpp *w)
{
    etw_pack_provider_info info;
    etw_pack_provider(pk, i, &info);
    uint32_t events = 0, first;
    uint8_t last_kind = 0;
    uint16_t last_a = 0;
    for (uint32_t e = 0; e < info.event_count; e++) {
        uint8_t kind;
        uint16_t a, b;
        etw_pack_event_key(pk, i, e, &kind, &a, &b);
        events += e == 0 || kind != last_kind || a != last_a;
        last_kind = kind;
        last_a = a;
    }
    char g[37];
    etw_guid_format(&info.guid, g);
    uint32_t msgs = wpp_count(w, &info.guid, &first);
    etw_strbuf sb = {0};
    const char *name = info.name[0] || !msgs ? info.name : wpp_name(w, first, &sb);
    printf("{%s}  %s  events=%u versions=%u", g, name[0] ? name : "(unnamed)", events, info.event_count);
    if (info.map_count)
        printf(" maps=%u", info.map_count);
    if (msgs)
        printf(" wpp_messages=%u", msgs);
    printf("  from %s\n", info.origin[0] ? info.origin : "(unknown)");
    etw_strbuf_free(&sb);
}

static int do_list(const char *want)
{
    const etw_pack *pk = etw_store_pack();
    const etw_store_wpp *w = etw_store_wpp_section();
    size_t shown = 0;
    etw_strbuf sb = {0};
    for (uint32_t i = 0; i < etw_pack_provider_count(pk); i++) {
        etw_pack_provider_info info;
        etw_pack_provider(pk, i, &info);
        uint32_t first;
        const char *name = info.name;
        if (!name[0] && wpp_count(w, &info.guid, &first))
            name = wpp_name(w, first, &sb);
        if (!matches(&info.guid, name, want))
            continue;
        provider_line(pk, i, w);
        shown++;
    }
    /* WPP GUIDs the provider table does not list */
    for (uint32_t i = 0; w && i < w->count;) {
        GUID g;
        uint16_t num;
        const uint8_t *b;
        uint32_t size, first, prov;
        etw_store_wpp_entry(w, i, &g, &num, &b, &size);
        uint32_t n = wpp_count(w, &g, &first);
        if (!etw_pack_find_provider(pk, &g, &prov) && matches(&g, wpp_name(w, first, &sb), want)) {
            char gs[37];
            etw_guid_format(&g, gs);
            printf("{%s}  %s  events=0 versions=0 wpp_messages=%u  from (unknown)\n", gs, sb.data ? sb.data : "", n);
            shown++;
        }
        i += n ? n : 1;
    }
    etw_strbuf_free(&sb);
    if (want && !shown) {
        fprintf(stderr, "etwire schemas: no provider %s in the store\n", want);
        return 1;
    }
    return 0;
}

static const char *in_type_name(unsigned t)
{
    static const char *const names[] = {
        "Null", "UnicodeString", "AnsiString", "Int8", "UInt8", "Int16", "UInt16", "Int32", "UInt32", "Int64",
        "UInt64", "Float", "Double", "Boolean", "Binary", "GUID", "Pointer", "FILETIME", "SYSTEMTIME", "SID",
        "HexInt32", "HexInt64", "ManifestCountedString", "ManifestCountedAnsiString", "Reserved24",
        "ManifestCountedBinary"};
    static const char *const high[] = {"CountedString", "CountedAnsiString", "ReversedCountedString",
                                       "ReversedCountedAnsiString", "NonNullTerminatedString",
                                       "NonNullTerminatedAnsiString", "UnicodeChar", "AnsiChar", "SizeT",
                                       "HexDump", "WbemSID"};
    if (t < sizeof names / sizeof names[0])
        return names[t];
    if (t >= 300 && t - 300 < sizeof high / sizeof high[0])
        return high[t - 300];
    return "?";
}

/* A NUL-terminated UTF-16 string at offset off of a blob, as UTF-8 into sb ("" if none). */
static const char *blob_str(const void *blob, size_t size, ULONG off, etw_strbuf *sb)
{
    etw_strbuf_reset(sb);
    if (off && off < size) {
        int term = 0;
        size_t n = etw_utf16_span((const uint8_t *)blob + off, size - off, &term);
        etw_utf16_to_utf8(sb, (const uint8_t *)blob + off, n);
    }
    return sb->data ? sb->data : "";
}

static void show_event(const etw_pack *pk, uint32_t prov, uint8_t kind, uint16_t a, uint16_t b)
{
    size_t size = 0;
    TRACE_EVENT_INFO *t = etw_pack_build_event(pk, prov, kind, a, b, &size);
    if (!t) {
        printf("  %s %u version %u: (damaged in the store)\n", kind == 2 ? "opcode" : "event", a, b);
        return;
    }
    etw_strbuf s = {0};
    printf("  %s %u version %u", kind == 2 ? "opcode" : "event", a, b);
    const char *task = blob_str(t, size, t->TaskNameOffset, &s);
    if (task[0])
        printf("  %s", task);
    const char *op = blob_str(t, size, t->OpcodeNameOffset, &s);
    if (op[0])
        printf("/%s", op);
    const char *ev = blob_str(t, size, t->EventNameOffset, &s);
    if (ev[0])
        printf("  (%s)", ev);
    printf(":");
    const EVENT_PROPERTY_INFO *props = t->EventPropertyInfoArray;
    for (ULONG i = 0; i < t->PropertyCount; i++) {
        const EVENT_PROPERTY_INFO *p = &props[i];
        printf("%s %s", i ? "," : "", blob_str(t, size, p->NameOffset, &s));
        if (p->Flags & PropertyStruct)
            printf(" struct{%u members}", p->structType.NumOfStructMembers);
        else
            printf(" %s", in_type_name(p->nonStructType.InType));
        if (p->Flags & PropertyParamCount)
            printf("[%s]", blob_str(t, size, props[p->countPropertyIndex < t->PropertyCount ? p->countPropertyIndex : 0].NameOffset, &s));
        else if (p->count > 1)
            printf("[%u]", p->count);
    }
    printf("%s\n", t->PropertyCount ? "" : " (no fields)");
    etw_strbuf_free(&s);
    free(t);
}

static void show_wpp(const etw_store_wpp *w, uint32_t first, uint32_t n)
{
    static const char *const items[ETW_WPP_ITEM_COUNT] = {
        "?", "Char", "UChar", "Short", "UShort", "Long", "ULong", "ULongX", "LongLong", "ULongLong", "ULongLongX",
        "Ptr", "Double", "String", "WString", "PString", "PWString", "Guid", "NTSTATUS", "HRESULT", "WINERROR",
        "IPAddr", "Port", "Sid", "HEXDump", "Timestamp", "Char4", "Enum", "List", "Set"};
    for (uint32_t i = first; i < first + n; i++) {
        etw_wpp_msg *m = etw_store_wpp_copy(w, i);
        if (!m) {
            printf("  message (damaged in the store)\n");
            continue;
        }
        printf("  message %u  %s  %s", m->number, etw_wpp_msg_str(m, ETW_WPP_S_NAME), etw_wpp_msg_str(m, ETW_WPP_S_FUNC));
        printf("  \"%s\"", etw_wpp_msg_str(m, ETW_WPP_S_FORMAT));
        for (uint16_t k = 0; k < m->nargs; k++)
            printf("%s %%%u %s %s", k ? "," : " args:", m->args[k].number, etw_wpp_str_at(m, m->args[k].name),
                   items[m->args[k].type]);
        printf("\n");
        free(m);
    }
}

static int do_show(const char *want)
{
    const etw_pack *pk = etw_store_pack();
    const etw_store_wpp *w = etw_store_wpp_section();
    etw_strbuf sb = {0};
    int found = 0;
    for (uint32_t i = 0; i < etw_pack_provider_count(pk); i++) {
        etw_pack_provider_info info;
        etw_pack_provider(pk, i, &info);
        uint32_t first, msgs = wpp_count(w, &info.guid, &first);
        const char *name = info.name[0] || !msgs ? info.name : wpp_name(w, first, &sb);
        if (!matches(&info.guid, name, want))
            continue;
        found = 1;
        provider_line(pk, i, w);
        for (uint32_t e = 0; e < info.event_count; e++) {
            uint8_t kind;
            uint16_t a, b;
            etw_pack_event_key(pk, i, e, &kind, &a, &b);
            show_event(pk, i, kind, a, b);
        }
        for (uint32_t m = 0; m < info.map_count; m++)
            printf("  map %s\n", etw_pack_map_name(pk, i, m));
        show_wpp(w, first, msgs);
    }
    for (uint32_t i = 0; w && i < w->count;) {
        GUID g;
        uint16_t num;
        const uint8_t *b;
        uint32_t size, first, prov;
        etw_store_wpp_entry(w, i, &g, &num, &b, &size);
        uint32_t n = wpp_count(w, &g, &first);
        if (!etw_pack_find_provider(pk, &g, &prov) && matches(&g, wpp_name(w, first, &sb), want)) {
            char gs[37];
            etw_guid_format(&g, gs);
            printf("{%s}  %s  wpp_messages=%u\n", gs, sb.data ? sb.data : "", n);
            show_wpp(w, first, n);
            found = 1;
        }
        i += n ? n : 1;
    }
    etw_strbuf_free(&sb);
    if (!found) {
        fprintf(stderr, "etwire schemas: no provider %s in the store\n", want);
        return 1;
    }
    return 0;
}

int cmd_schemas(int argc, char **argv)
{
    const char *dir_opt = NULL, *provider = NULL, *sub = NULL;
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    int nrest = 0, verbose = 0;
    if (!rest)
        return 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            free(rest);
            return 0;
        } else if (!strcmp(a, "--schemas") && i + 1 < argc) {
            dir_opt = argv[++i];
        } else if (!strcmp(a, "--provider") && i + 1 < argc) {
            provider = argv[++i];
        } else if (!strcmp(a, "-v")) {
            verbose = 1;
        } else if (a[0] == '-' && a[1] && !(sub && !strcmp(sub, "import") && !strcmp(a, "-"))) {
            fprintf(stderr, "etwire schemas: unknown option '%s'\n", a);
            usage(stderr);
            free(rest);
            return 2;
        } else if (!sub) {
            sub = a;
        } else {
            rest[nrest++] = argv[i];
        }
    }
    char dir[4000];
    int rc = 2;
    if (!etw_store_default_dir(dir_opt, dir, sizeof dir)) {
        fprintf(stderr, "etwire schemas: no store directory: give --schemas DIR (HOME is not set)\n");
        rc = 1;
    } else if (sub && !strcmp(sub, "import")) {
        rc = do_import(dir, nrest, rest, verbose);
    } else if (sub && (!strcmp(sub, "list") || !strcmp(sub, "show"))) {
        int show = !strcmp(sub, "show");
        if ((show && nrest != 1) || (!show && nrest != 0)) {
            usage(stderr);
        } else if (etwire_schemas_open(dir) != ERROR_SUCCESS) {
            fprintf(stderr, "etwire schemas: %s\n", etwire_last_error_message());
            rc = 1;
        } else {
            rc = show ? do_show(rest[0]) : do_list(provider);
            etwire_schemas_close();
        }
    } else {
        usage(stderr);
    }
    free(rest);
    return rc;
}
