/* The store import (see store_import.h): one pack writer fed first with the store's current
 * contents, then with every schema each imported file yields; providers keep a list of the
 * files they came from; TMF messages are collected and sorted into the pack's WPP section. */
#include "tdh/store/store_import.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <etwire/tdh.h>

#include "base/text.h"
#include "base/bytes.h"
#include "tdh/sources/manifest.h"
#include "tdh/sources/pe_resource.h"
#include "tdh/sources/mof_model.h"
#include "tdh/sources/tmf_model.h"
#include "tdh/store/pack_read.h"
#include "tdh/store/pack_write.h"
#include "tdh/store/schema_cache.h"
#include "tdh/store/schema_store.h"

#define ORIGIN_MAX 400   /* bytes of "where it came from" kept per provider */
#define IMPORT_ORIGIN 0x7E000001u /* the cache origin of the file being imported */
#define MAX_DEPTH 64

typedef struct provider {
    GUID guid;
    char *name;   /* from the old store, NULL for providers this import touched */
    char *origin; /* "file; file; ... (+N more)" */
    size_t more;
} provider;

struct etw_store_import {
    char *dir;
    int lock_fd; /* dir/.lock, held (flock) from begin to free: imports take turns */
    etw_pack_writer *w;
    provider *prov;
    size_t nprov, capprov;
    etw_wpp_msg **msgs;
    size_t nmsgs, capmsgs;
    etw_import_counts counts;
    /* the file being imported */
    const char *path;
    size_t taken;
    const char *add_error;
};

static provider *find_provider(etw_store_import *imp, const GUID *g, int create)
{
    for (size_t i = imp->nprov; i > 0; i--) /* the latest first: a file's providers are recent */
        if (memcmp(&imp->prov[i - 1].guid, g, sizeof *g) == 0)
            return &imp->prov[i - 1];
    if (!create)
        return NULL;
    if (imp->nprov == imp->capprov) {
        size_t c = imp->capprov ? imp->capprov * 2 : 256;
        provider *np = realloc(imp->prov, c * sizeof *np);
        if (!np)
            return NULL;
        imp->prov = np;
        imp->capprov = c;
    }
    provider *p = &imp->prov[imp->nprov++];
    memset(p, 0, sizeof *p);
    p->guid = *g;
    return p;
}

/* Appends a source to a provider's origin list (each file once, the list bounded). */
static void add_origin(provider *p, const char *src)
{
    size_t have = p->origin ? strlen(p->origin) : 0, n = strlen(src);
    if (p->origin) {
        const char *f = strstr(p->origin, src);
        if (f && (f == p->origin || f[-1] == ' ') && (f[n] == 0 || f[n] == ';'))
            return;
    }
    if (have + n + 2 > ORIGIN_MAX) {
        p->more++;
        return;
    }
    char *o = realloc(p->origin, have + n + 3);
    if (!o)
        return;
    if (have)
        memcpy(o + have, "; ", 2), have += 2;
    memcpy(o + have, src, n + 1);
    p->origin = o;
}

static int add_msg(etw_store_import *imp, etw_wpp_msg *m)
{
    if (imp->nmsgs == imp->capmsgs) {
        size_t c = imp->capmsgs ? imp->capmsgs * 2 : 256;
        etw_wpp_msg **nm = realloc(imp->msgs, c * sizeof *nm);
        if (!nm) {
            free(m);
            return 0;
        }
        imp->msgs = nm;
        imp->capmsgs = c;
    }
    imp->msgs[imp->nmsgs++] = m;
    return 1;
}

static int mkdirs(const char *dir);

/* ------------------------------------------------------------------ the old store */

static int load_old(etw_store_import *imp, const uint8_t *p, size_t n, char *why, size_t whylen)
{
    etw_pack pk;
    if (!etw_pack_open(&pk, p, n, why, whylen))
        return 0;
    for (uint32_t i = 0; i < etw_pack_provider_count(&pk); i++) {
        etw_pack_provider_info info;
        etw_pack_provider(&pk, i, &info);
        provider *pr = find_provider(imp, &info.guid, 1);
        if (!pr)
            return 0;
        pr->name = strdup(info.name);
        pr->origin = strdup(info.origin);
        for (uint32_t e = 0; e < info.event_count; e++) {
            uint8_t kind;
            uint16_t a, b;
            size_t size;
            const char *err = NULL;
            etw_pack_event_key(&pk, i, e, &kind, &a, &b);
            TRACE_EVENT_INFO *t = etw_pack_build_event(&pk, i, kind, a, b, &size);
            etw_schema_key k = {.guid = info.guid, .kind = kind, .a = a, .b = b};
            if (t)
                etw_pack_writer_add(imp->w, &k, t, size, &err);
            free(t);
        }
        for (uint32_t m = 0; m < info.map_count; m++) {
            const char *name = etw_pack_map_name(&pk, i, m);
            WCHAR w16[1024];
            size_t units = etw_utf8_to_utf16(name, w16, sizeof w16 / sizeof w16[0]);
            if (units == (size_t)-1)
                continue;
            size_t size;
            const char *err = NULL;
            EVENT_MAP_INFO *mi = etw_pack_build_map(&pk, i, (const uint8_t *)w16, units * 2, &size);
            etw_schema_key k = {.guid = info.guid, .kind = ETW_KEY_MAP, .blob = (const uint8_t *)w16,
                                .blob_len = (uint32_t)(units * 2)};
            if (mi)
                etw_pack_writer_add(imp->w, &k, mi, size, &err);
            free(mi);
        }
    }
    size_t wn = 0;
    const uint8_t *wp = etw_pack_section(&pk, ETW_STORE_SEC_WPP, &wn);
    etw_store_wpp wpp;
    if (wp) {
        if (!etw_store_wpp_open(&wpp, wp, wn, why, whylen))
            return 0;
        for (uint32_t i = 0; i < wpp.count; i++) {
            etw_wpp_msg *m = etw_store_wpp_copy(&wpp, i);
            if (m && !add_msg(imp, m))
                return 0;
        }
    }
    return 1;
}

etw_store_import *etw_store_import_begin(const char *dir, char *why, size_t whylen)
{
    etw_store_import *imp = calloc(1, sizeof *imp);
    if (imp)
        imp->lock_fd = -1;
    if (!imp || !(imp->dir = strdup(dir)) || !(imp->w = etw_pack_writer_create())) {
        snprintf(why, whylen, "out of memory");
        etw_store_import_free(imp);
        return NULL;
    }
    char path[4200];
    imp->lock_fd = -1;
    snprintf(path, sizeof path, "%s/.lock", dir);
    if (mkdirs(dir) != 0 || (imp->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0 ||
        flock(imp->lock_fd, LOCK_EX) != 0) {
        snprintf(why, whylen, "%s: cannot create or lock the store: %s", dir, strerror(errno));
        etw_store_import_free(imp);
        return NULL;
    }
    snprintf(path, sizeof path, "%s/%s", dir, ETW_STORE_FILE);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return imp; /* a new store */
    struct stat st;
    int ok = 0;
    char err[256] = "not a regular file";
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 && (uint64_t)st.st_size <= (1u << 30)) {
        void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m != MAP_FAILED) {
            ok = load_old(imp, m, (size_t)st.st_size, err, sizeof err);
            munmap(m, (size_t)st.st_size);
        }
    }
    close(fd);
    if (!ok) {
        snprintf(why, whylen, "%s: %s", path, err);
        etw_store_import_free(imp);
        return NULL;
    }
    return imp;
}

/* ------------------------------------------------------------------ one file */

static void collect(const etw_schema_key *key, const etw_schema *s, void *ctx)
{
    etw_store_import *imp = ctx;
    if (!s->info || s->origin != IMPORT_ORIGIN || key->scope)
        return;
    if (key->kind != ETW_KEY_MANIFEST && key->kind != ETW_KEY_CLASSIC && key->kind != ETW_KEY_MAP)
        return;
    const char *why = NULL;
    etw_schema_key k = *key;
    if (k.kind == ETW_KEY_CLASSIC && k.b == ETW_ANY_VERSION)
        k.b = 0; /* a MOF class without EventVersion: version 0, which the packs' lookup of an
                    absent version falls back to (the newest older one) */
    key = &k;
    if (!etw_pack_writer_add(imp->w, key, s->info, s->size, &why)) {
        if (!imp->add_error)
            imp->add_error = why;
        return;
    }
    imp->taken++;
    if (key->kind == ETW_KEY_MAP)
        return;
    provider *p = find_provider(imp, &key->guid, 1);
    if (p) {
        free(p->name);
        p->name = NULL; /* named by its newest events */
        add_origin(p, imp->path);
    }
}

static int take_msg(void *ctx, etw_wpp_msg *m)
{
    etw_store_import *imp = ctx;
    if (!add_msg(imp, m))
        return 1;
    imp->taken++;
    return 0;
}

enum kind { K_NONE, K_XML, K_PE, K_MOF, K_TMF };

static int ends_with(const char *s, const char *ext)
{
    size_t n = strlen(s), e = strlen(ext);
    return n > e && strcasecmp(s + n - e, ext) == 0;
}

static enum kind kind_of(const char *path, const uint8_t *p, size_t n, int explicit_file)
{
    if (n >= 2 && p[0] == 'M' && p[1] == 'Z')
        return K_PE;
    if (ends_with(path, ".man") || ends_with(path, ".xml"))
        return K_XML;
    if (ends_with(path, ".mof"))
        return K_MOF;
    if (ends_with(path, ".tmf"))
        return K_TMF;
    if (explicit_file) { /* named on the command line: look at the text */
        size_t i = n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF ? 3 : 0;
        while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
            i++;
        if (i < n && p[i] == '<')
            return K_XML;
        GUID g;
        char head[37];
        if (n - i >= 36) {
            memcpy(head, p + i, 36);
            head[36] = 0;
            if (etw_guid_parse(head, &g))
                return K_TMF;
        }
        if (i < n && (p[i] == '#' || p[i] == '[' || (p[i] == '/' && i + 1 < n && p[i + 1] == '/')))
            return K_MOF;
    }
    return K_NONE;
}

/* Why a PE image gave no schemas, with the offset at fault (the WEVT reader says only which
 * Win32 error). */
static void explain_pe(const uint8_t *p, size_t n, etw_tdh_status err, char *why, size_t len)
{
    const uint8_t *res = NULL;
    size_t res_size = 0;
    size_t pe = n >= 64 ? (size_t)etw_rd32(p + 0x3C) : 0;
    if (err == ETW_TDH_E_NO_RESOURCE)
        snprintf(why, len, "no WEVT_TEMPLATE resource");
    else if (n < 64)
        snprintf(why, len, "offset 0: %zu bytes, too short for a DOS header", n);
    else if (pe > n - 4 || n - pe < 24 || memcmp(p + pe, "PE\0\0", 4) != 0)
        snprintf(why, len, "offset 0x%zx (from 0x3C): no PE header there", pe);
    else if (etw_pe_find_resource(p, n, "WEVT_TEMPLATE", &res, &res_size) != ETW_TDH_OK)
        snprintf(why, len, "offset 0x%zx: the optional header, section table or resource tree leaves the file", pe);
    else
        snprintf(why, len, "offset 0x%zx: WEVT_TEMPLATE resource (%zu bytes) holds no usable provider or event",
                 (size_t)(res - p), res_size);
}

static void import_file(etw_store_import *imp, const char *path, int explicit_file, etw_import_report report,
                        void *ctx)
{
    char what[600] = "";
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK); /* a FIFO swapped in must not block */
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
        close(fd);
        imp->counts.files_skipped++;
        report(ctx, path, ETW_IMPORT_SKIPPED, "not a regular file");
        return;
    }
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0)
            close(fd);
        imp->counts.files_failed++;
        snprintf(what, sizeof what, "cannot open: %s", strerror(errno));
        report(ctx, path, ETW_IMPORT_FAILED, what);
        return;
    }
    size_t n = (size_t)st.st_size;
    if (n == 0 || (uint64_t)st.st_size > ETW_MANIFEST_MAX_FILE) {
        close(fd);
        int failed = explicit_file;
        imp->counts.files_failed += failed;
        imp->counts.files_skipped += !failed;
        snprintf(what, sizeof what, "%s", n ? "larger than 64 MiB" : "empty file");
        report(ctx, path, failed ? ETW_IMPORT_FAILED : ETW_IMPORT_SKIPPED, what);
        return;
    }
    uint8_t *p = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
        imp->counts.files_failed++;
        report(ctx, path, ETW_IMPORT_FAILED, "cannot map the file");
        return;
    }
    enum kind k = kind_of(path, p, n, explicit_file);
    etw_tdh_status err = ETW_TDH_OK;
    int skipped = 0;
    char *full = realpath(path, NULL); /* providers remember where they came from, absolutely */
    imp->path = full ? full : path;
    imp->taken = 0;
    imp->add_error = NULL;
    char why[512] = "";
    size_t wpp_before = imp->nmsgs;
    switch (k) {
    case K_XML:
        err = etw_manifest_load_xml(p, n, IMPORT_ORIGIN, why, sizeof why);
        skipped = err == ETW_TDH_E_NOT_MANIFEST && !explicit_file; /* XML that is not a manifest */
        break;
    case K_PE:
        err = etw_wevt_load_pe(p, n, IMPORT_ORIGIN);
        skipped = err == ETW_TDH_E_NO_RESOURCE && !explicit_file;
        if (err != ETW_TDH_OK)
            explain_pe(p, n, err, why, sizeof why);
        break;
    case K_MOF:
        err = etw_mof_load_text(p, n, IMPORT_ORIGIN, why, sizeof why);
        break;
    case K_TMF: {
        unsigned skipped_lines = 0;
        long got = etw_tmf_parse((const char *)p, n, take_msg, imp, why, sizeof why, &skipped_lines);
        err = got > 0 ? ETW_TDH_OK : ETW_TDH_E_UNUSABLE;
        if (got == 0 && !why[0])
            snprintf(why, sizeof why, "no #typev message in it");
        if (got > 0 && skipped_lines) {
            char first[sizeof why];
            memcpy(first, why, sizeof why);
            snprintf(why, sizeof why, "%u line(s) skipped, first at %.400s", skipped_lines, first);
        } else if (got > 0) {
            why[0] = 0;
        }
        break;
    }
    default:
        skipped = 1;
        err = ETW_TDH_E_UNUSABLE;
        snprintf(why, sizeof why, explicit_file ? "not a manifest, PE, MOF or TMF file" : "not a schema file");
        if (explicit_file)
            skipped = 0;
        break;
    }
    munmap(p, n);
    if (err == ETW_TDH_OK && k != K_TMF)
        etw_schema_each(collect, imp);
    etwire_tdh_reset();
    if (err == ETW_TDH_OK && imp->add_error && !imp->taken) {
        err = ETW_TDH_E_UNUSABLE;
        snprintf(why, sizeof why, "no schema could be stored: %s", imp->add_error);
    }
    if (err == ETW_TDH_OK && !imp->taken) {
        err = ETW_TDH_E_UNUSABLE;
        snprintf(why, sizeof why, "no event or message defined in it");
    }
    if (err == ETW_TDH_OK) {
        imp->counts.files_ok++;
        if (k == K_TMF) {
            imp->counts.wpp_messages += imp->nmsgs - wpp_before;
            for (size_t i = wpp_before; i < imp->nmsgs; i++) {
                provider *pr = find_provider(imp, &imp->msgs[i]->guid, 1);
                if (pr) {
                    if (!pr->name)
                        pr->name = strdup(etw_wpp_msg_str(imp->msgs[i], ETW_WPP_S_PROVIDER));
                    add_origin(pr, imp->path);
                }
            }
        } else {
            imp->counts.schemas += imp->taken;
        }
        snprintf(what, sizeof what, "%zu %s%s%s", imp->taken, k == K_TMF ? "WPP messages" : "schemas",
                 why[0] ? "; " : "", why);
        report(ctx, path, ETW_IMPORT_OK, what);
    } else if (skipped) {
        imp->counts.files_skipped++;
        report(ctx, path, ETW_IMPORT_SKIPPED, why);
    } else {
        imp->counts.files_failed++;
        report(ctx, path, ETW_IMPORT_FAILED, why[0] ? why : "cannot be loaded");
    }
    imp->path = NULL;
    free(full);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void import_tree(etw_store_import *imp, const char *dir, int depth, etw_import_report report, void *ctx)
{
    DIR *d = opendir(dir);
    if (!d) {
        imp->counts.files_failed++;
        report(ctx, dir, ETW_IMPORT_FAILED, strerror(errno));
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **g = realloc(names, cap * sizeof *g);
            if (!g)
                break;
            names = g;
        }
        if (!(names[n] = strdup(e->d_name)))
            break;
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        struct stat st;
        int len = snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        free(names[i]);
        if (len <= 0 || (size_t)len >= sizeof path || lstat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (depth < MAX_DEPTH)
                import_tree(imp, path, depth + 1, report, ctx);
        } else if (S_ISREG(st.st_mode) || (S_ISLNK(st.st_mode) && stat(path, &st) == 0 && S_ISREG(st.st_mode))) {
            import_file(imp, path, 0, report, ctx);
        }
    }
    free(names);
}

void etw_store_import_path(etw_store_import *imp, const char *path, etw_import_report report, void *ctx)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        imp->counts.files_failed++;
        report(ctx, path, ETW_IMPORT_FAILED, strerror(errno));
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        import_tree(imp, path, 0, report, ctx);
    } else if (!S_ISREG(st.st_mode)) { /* a FIFO or device: opening it could block */
        imp->counts.files_failed++;
        report(ctx, path, ETW_IMPORT_FAILED, "not a regular file or directory");
    } else {
        import_file(imp, path, 1, report, ctx);
    }
}

const etw_import_counts *etw_store_import_counts(const etw_store_import *imp)
{
    return &imp->counts;
}

/* ------------------------------------------------------------------ writing */

typedef struct ranked {
    etw_wpp_msg *m;
    size_t seq; /* arrival order: a later import of the same key wins */
} ranked;

static int ranked_cmp(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    int c = memcmp(&x->m->guid, &y->m->guid, sizeof x->m->guid);
    if (c)
        return c;
    if (x->m->number != y->m->number)
        return x->m->number < y->m->number ? -1 : 1;
    return x->seq > y->seq ? -1 : 1; /* the latest first */
}

/* Sorts the messages by (GUID, number) and keeps the latest of each key; 0 on no memory. */
static int unique_messages(etw_store_import *imp)
{
    size_t n = imp->nmsgs, u = 0;
    if (!n)
        return 1;
    ranked *r = malloc(n * sizeof *r);
    if (!r)
        return 0;
    for (size_t i = 0; i < n; i++)
        r[i] = (ranked){imp->msgs[i], i};
    qsort(r, n, sizeof *r, ranked_cmp);
    for (size_t i = 0; i < n; i++) {
        if (u && r[i].m->number == imp->msgs[u - 1]->number &&
            memcmp(&r[i].m->guid, &imp->msgs[u - 1]->guid, sizeof r[i].m->guid) == 0)
            free(r[i].m);
        else
            imp->msgs[u++] = r[i].m;
    }
    imp->nmsgs = u;
    free(r);
    return 1;
}

static int mkdirs(const char *dir)
{
    char p[4096];
    int n = snprintf(p, sizeof p, "%s", dir);
    if (n <= 0 || (size_t)n >= sizeof p)
        return -1;
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            if (mkdir(p, 0755) != 0 && errno != EEXIST)
                return -1;
            *s = '/';
        }
    return mkdir(p, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

int etw_store_import_commit(etw_store_import *imp, char *why, size_t whylen)
{
    if (!unique_messages(imp)) {
        snprintf(why, whylen, "out of memory sorting WPP messages");
        return 0;
    }
    etw_wpp_msg **v = imp->msgs;
    size_t n = imp->nmsgs;
    if (n) {
        size_t size = 0;
        uint8_t *sec = etw_store_wpp_build(v, n, &size);
        if (!sec || !etw_pack_writer_section(imp->w, ETW_STORE_SEC_WPP, sec, size)) {
            free(sec);
            snprintf(why, whylen, "out of memory building the WPP section");
            return 0;
        }
        free(sec);
    }
    for (size_t i = 0; i < imp->nprov; i++) {
        provider *p = &imp->prov[i];
        char origin[ORIGIN_MAX + 64];
        snprintf(origin, sizeof origin, "%s", p->origin ? p->origin : "");
        if (p->more)
            snprintf(origin + strlen(origin), sizeof origin - strlen(origin), " (+%zu more)", p->more);
        if (!etw_pack_writer_provider(imp->w, &p->guid, p->name, origin)) {
            snprintf(why, whylen, "out of memory naming providers");
            return 0;
        }
    }
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (!etw_pack_writer_finish(imp->w, &bytes, &len)) {
        snprintf(why, whylen, "the pack could not be laid out (out of memory?)");
        return 0;
    }
    char tmp[4200], dst[4200];
    snprintf(dst, sizeof dst, "%s/%s", imp->dir, ETW_STORE_FILE);
    snprintf(tmp, sizeof tmp, "%s/.%s.%ld.tmp", imp->dir, ETW_STORE_FILE, (long)getpid());
    int ok = 0;
    if (mkdirs(imp->dir) != 0) {
        snprintf(why, whylen, "%s: cannot create the directory: %s", imp->dir, strerror(errno));
    } else {
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        size_t off = 0;
        while (fd >= 0 && off < len) {
            ssize_t w = write(fd, bytes + off, len - off);
            if (w <= 0)
                break;
            off += (size_t)w;
        }
        if (fd >= 0 && off == len && fsync(fd) == 0 && close(fd) == 0 && rename(tmp, dst) == 0) {
            ok = 1;
        } else {
            snprintf(why, whylen, "%s: cannot write: %s", dst, strerror(errno));
            if (fd >= 0)
                close(fd);
            unlink(tmp);
        }
    }
    free(bytes);
    return ok;
}

void etw_store_import_free(etw_store_import *imp)
{
    if (!imp)
        return;
    for (size_t i = 0; i < imp->nprov; i++) {
        free(imp->prov[i].name);
        free(imp->prov[i].origin);
    }
    for (size_t i = 0; i < imp->nmsgs; i++)
        free(imp->msgs[i]);
    free(imp->prov);
    free(imp->msgs);
    etw_pack_writer_destroy(imp->w);
    free(imp->dir);
    if (imp->lock_fd >= 0)
        close(imp->lock_fd); /* releases the lock */
    free(imp);
}
