/* gen_schema_pack: compiles instrumentation manifests into the built-in schema pack
 * (docs/format/schema-pack.md) with the library's own manifest loader.
 *
 *   gen_schema_pack -o OUT.pack [--names NAMES.tsv] DIR...
 *
 * DIRs are given oldest first (e.g. the Windows builds 10240, 17134, 18990 of
 * ../shared/reference/windows-provider-manifests.tar.xz); the .xml/.man files of each are read
 * in name order. Schemas are merged by provider GUID and key (event id + version, maps by
 * name): every version is kept, and a later definition of the same key replaces an earlier
 * one, so the newest build wins. XML that is not an instrumentation manifest (the reference
 * set has two .NET documentation files) is skipped with a note; a manifest that does not
 * load is reported (file, line, reason) and makes the exit code 1 after the pack is written. Output is byte-for-byte reproducible. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <etwire/tdh.h>

#include "base/text.h"
#include "pack_fixups.h"
#include "tdh/sources/manifest.h"
#include "tdh/store/pack_write.h"
#include "tdh/store/schema_cache.h"

typedef struct gen {
    etw_pack_writer *w;
    const char *origin; /* "DIR-NAME/FILE" */
    size_t added;
    int failed;
} gen;

static uint8_t *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 1 << 16;
            uint8_t *g = cap <= ETW_MANIFEST_MAX_FILE ? realloc(buf, cap) : NULL;
            if (!g) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = g;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        if (!got)
            break;
        len += got;
    }
    fclose(f);
    *n = len;
    return buf;
}

static void collect(const etw_schema_key *key, const etw_schema *s, void *ctx)
{
    gen *g = ctx;
    const char *why = NULL;
    if (!s->info || (key->kind != ETW_KEY_MANIFEST && key->kind != ETW_KEY_MAP))
        return;
    if (!etw_pack_writer_add(g->w, key, s->info, s->size, &why)) {
        char guid[37];
        etw_guid_format(&key->guid, guid);
        fprintf(stderr, "gen_schema_pack: %s: provider %s key %u/%u: %s\n", g->origin, guid, key->a, key->b, why);
        g->failed = 1;
        return;
    }
    if (key->kind == ETW_KEY_MANIFEST && !etw_pack_writer_provider(g->w, &key->guid, NULL, g->origin))
        g->failed = 1;
    g->added++;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_manifest(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && (strcmp(name + n - 4, ".xml") == 0 || strcmp(name + n - 4, ".man") == 0);
}

static int load_dir(gen *g, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "gen_schema_pack: cannot open %s\n", dir);
        return 0;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!is_manifest(de->d_name))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            char **gr = realloc(names, cap * sizeof *gr);
            if (!gr)
                break;
            names = gr;
        }
        if (!(names[n] = strdup(de->d_name)))
            break;
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, by_name);
    const char *base = strrchr(dir, '/');
    base = base && base[1] ? base + 1 : dir;
    for (size_t i = 0; i < n; i++) {
        char path[4096], origin[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        snprintf(origin, sizeof origin, "%s/%s", base, names[i]);
        size_t len = 0;
        uint8_t *data = read_all(path, &len);
        char why[256] = "";
        etw_tdh_status err = data ? etw_manifest_load_xml(data, len, 1, why, sizeof why) : ETW_TDH_E_NOFILE;
        free(data);
        if (err == ETW_TDH_E_NOT_MANIFEST) {
            fprintf(stderr, "gen_schema_pack: %s: skipped: %s\n", path, why);
        } else if (err != ETW_TDH_OK) {
            fprintf(stderr, "gen_schema_pack: %s: %s (%s)\n", path, why[0] ? why : etw_tdh_status_message(err),
                    etw_tdh_status_name(err));
            g->failed = 1;
        } else {
            if (why[0])
                fprintf(stderr, "gen_schema_pack: %s: %s\n", path, why);
            g->origin = origin;
            etw_schema_each(collect, g);
        }
        etwire_tdh_reset();
        free(names[i]);
    }
    free(names);
    return 1;
}

/* Adds the providers of a names file; 0 if it cannot be read or a line is malformed. */
static int load_names(gen *g, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "gen_schema_pack: cannot open %s\n", path);
        return 0;
    }
    char line[1024];
    unsigned lineno = 0;
    int ok = 1;
    while (ok && fgets(line, sizeof line, f)) {
        lineno++;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        char *name = strchr(line, '\t'), *end;
        GUID guid;
        if (name)
            *name++ = 0;
        if (!name || !etw_guid_parse(line, &guid) || !(end = strchr(name, '\t'))) {
            fprintf(stderr, "gen_schema_pack: %s:%u: expected GUID<TAB>name<TAB>evidence\n", path, lineno);
            ok = 0;
            break;
        }
        *end = 0;
        ok = etw_pack_writer_provider(g->w, &guid, name, NULL);
    }
    fclose(f);
    return ok;
}

int main(int argc, char **argv)
{
    const char *out = NULL, *names = NULL;
    int first = 1;
    for (; first + 1 < argc && argv[first][0] == '-'; first += 2) {
        if (strcmp(argv[first], "-o") == 0)
            out = argv[first + 1];
        else if (strcmp(argv[first], "--names") == 0)
            names = argv[first + 1];
        else
            break;
    }
    if (!out || first >= argc) {
        fprintf(stderr, "usage: gen_schema_pack -o OUT.pack [--names NAMES.tsv] DIR... (oldest first)\n");
        return 2;
    }
    gen g = {etw_pack_writer_create(), NULL, 0, 0};
    if (!g.w)
        return 1;
    if (names && !load_names(&g, names))
        g.failed = 1;
    etwire_tdh_reset();
    for (int i = first; i < argc; i++)
        if (!load_dir(&g, argv[i]))
            g.failed = 1;
    pack_fixup_counts fx;
    pack_fixups_apply(g.w, &fx);
    fprintf(stderr, "gen_schema_pack: repaired %zu maps from other versions, %zu by name, %zu field types\n",
            fx.version_maps, fx.named_maps, fx.types);
    uint8_t *bytes = NULL;
    size_t n = 0;
    int ok = etw_pack_writer_finish(g.w, &bytes, &n);
    etw_pack_writer_destroy(g.w);
    FILE *f = ok ? fopen(out, "wb") : NULL;
    if (!f || fwrite(bytes, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "gen_schema_pack: cannot write %s\n", out);
        free(bytes);
        return 1;
    }
    free(bytes);
    fprintf(stderr, "gen_schema_pack: %zu schemas, %zu bytes -> %s\n", g.added, n, out);
    return g.failed;
}
