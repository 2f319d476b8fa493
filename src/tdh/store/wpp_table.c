/* WPP message table (see wpp_table.h): open addressing behind a reader-writer lock. Each GUID
 * also gets a "searched" entry (number WPP_SEARCHED) once its TMF directories and the store were
 * asked, so a GUID without any TMF costs one probe per event, not a file lookup. Directories
 * come from etwire_tdh_load_tmf, the WPP contexts of TDH calls and TRACE_FORMAT_SEARCH_PATH. */
#include "tdh/store/wpp_table.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/strbuf.h"
#include "base/text.h"

#define WPP_SEARCHED 0x10000u
#define MAX_DIRS 64
#define TMF_MAX_FILE (64u << 20)

typedef struct slot {
    GUID guid;
    uint32_t number; /* a message number, or WPP_SEARCHED */
    etw_wpp_msg *msg;
} slot;

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static pthread_mutex_t search_lock = PTHREAD_MUTEX_INITIALIZER;
static slot *slots;
static size_t nslots, nused;
static char *dirs[MAX_DIRS];
static size_t ndirs;
static void (*fallback)(const GUID *);

static size_t hash(const GUID *g, uint32_t number)
{
    uint64_t h = 0xcbf29ce484222325ull;
    const uint8_t *b = (const uint8_t *)g;
    for (size_t i = 0; i < sizeof *g; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    h = (h ^ number) * 0x9e3779b97f4a7c15ull;
    return (size_t)(h ^ (h >> 29));
}

static slot *probe(const GUID *g, uint32_t number)
{
    if (!nslots)
        return NULL;
    for (size_t i = hash(g, number) & (nslots - 1);; i = (i + 1) & (nslots - 1)) {
        slot *s = &slots[i];
        if (!s->msg || (s->number == number && memcmp(&s->guid, g, sizeof *g) == 0))
            return s;
    }
}

static int grow(void)
{
    size_t n = nslots ? nslots * 2 : 256;
    slot *ns = calloc(n, sizeof *ns);
    if (!ns)
        return 0;
    slot *old = slots;
    size_t on = nslots;
    slots = ns;
    nslots = n;
    for (size_t i = 0; i < on; i++)
        if (old[i].msg)
            *probe(&old[i].guid, old[i].number) = old[i];
    free(old);
    return 1;
}

/* A placeholder message for "searched" entries (never returned by etw_wpp_find). */
static etw_wpp_msg searched_marker;

static int insert_locked(const GUID *g, uint32_t number, etw_wpp_msg *m)
{
    if ((nused + 1) * 4 > nslots * 3 && !grow())
        return 0;
    slot *s = probe(g, number);
    if (s->msg)
        return 2; /* already there */
    s->guid = *g;
    s->number = number;
    s->msg = m;
    nused++;
    return 1;
}

int etw_wpp_put(etw_wpp_msg *m)
{
    pthread_rwlock_wrlock(&lock);
    int r = insert_locked(&m->guid, m->number, m);
    pthread_rwlock_unlock(&lock);
    if (r != 1)
        free(m);
    return r != 0;
}

static int put_sink(void *ctx, etw_wpp_msg *m)
{
    (void)ctx;
    return !etw_wpp_put(m);
}

etw_tdh_status etw_wpp_load_file(const char *path, size_t *count, char *why, size_t whylen)
{
    *count = 0;
    if (whylen)
        why[0] = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, whylen, "%s: cannot open it", path);
        return ETW_TDH_E_NOFILE;
    }
    struct stat st;
    char *text = NULL;
    size_t n = 0;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 0 && (uint64_t)st.st_size <= TMF_MAX_FILE &&
        (text = malloc((size_t)st.st_size + 1)) != NULL)
        n = fread(text, 1, (size_t)st.st_size, f);
    fclose(f);
    if (!text) {
        snprintf(why, whylen, "%s: not a regular file of at most %u MiB", path, TMF_MAX_FILE >> 20);
        return ETW_TDH_E_TOO_LARGE;
    }
    char err[200];
    unsigned skipped = 0;
    long got = etw_tmf_parse(text, n, put_sink, NULL, err, sizeof err, &skipped);
    free(text);
    if (got <= 0) {
        snprintf(why, whylen, "%s: %s", path, got < 0 ? err : skipped ? err : "no #typev message in it");
        return ETW_TDH_E_UNUSABLE;
    }
    if (skipped)
        snprintf(why, whylen, "%s: %u line(s) skipped, first at %s", path, skipped, err);
    *count = (size_t)got;
    return ETW_TDH_OK;
}

/* GUIDs already searched may find their messages in a new place: search them again. Called
 * with search_lock held. */
static void forget_searches(void)
{
    pthread_rwlock_wrlock(&lock);
    for (size_t i = 0; i < nslots; i++)
        if (slots[i].msg == &searched_marker)
            slots[i].number = WPP_SEARCHED + 1; /* a tombstone no lookup matches */
    pthread_rwlock_unlock(&lock);
}

etw_tdh_status etw_wpp_add_dir(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return ETW_TDH_E_NOFILE;
    pthread_mutex_lock(&search_lock);
    etw_tdh_status r = ETW_TDH_OK;
    if (ndirs < MAX_DIRS && (dirs[ndirs] = strdup(dir)) != NULL) {
        ndirs++;
        forget_searches();
    } else {
        r = ETW_TDH_E_NOMEM;
    }
    pthread_mutex_unlock(&search_lock);
    return r;
}

void etw_wpp_set_fallback(void (*fn)(const GUID *))
{
    pthread_mutex_lock(&search_lock);
    fallback = fn;
    if (fn)
        forget_searches();
    pthread_mutex_unlock(&search_lock);
}

/* Paths TDH contexts named (each used once), and whether TRACE_FORMAT_SEARCH_PATH was read:
 * TDH searches it when a call names no TMF. */
#define MAX_CONTEXT_PATHS 64
static char *context_paths[MAX_CONTEXT_PATHS];
static size_t ncontext_paths;
static int env_read;

static void add_search_path(char *list) /* "dir;dir;..." */
{
    for (char *save = NULL, *d = strtok_r(list, ";", &save); d; d = strtok_r(NULL, ";", &save))
        if (d[0])
            etw_wpp_add_dir(d);
}

static void read_env_once(void)
{
    pthread_mutex_lock(&search_lock);
    int first = !env_read;
    env_read = 1;
    pthread_mutex_unlock(&search_lock);
    const char *env = first ? getenv("TRACE_FORMAT_SEARCH_PATH") : NULL;
    char *copy = env && env[0] ? strdup(env) : NULL;
    if (copy)
        add_search_path(copy);
    free(copy);
}

void etw_wpp_use_contexts(ULONG n, const TDH_CONTEXT *ctx)
{
    for (ULONG i = 0; ctx && i < n; i++) {
        if ((ctx[i].ParameterType != TDH_CONTEXT_WPP_TMFFILE && ctx[i].ParameterType != TDH_CONTEXT_WPP_TMFSEARCHPATH) ||
            !ctx[i].ParameterValue)
            continue;
        etw_strbuf sb = {0};
        etw_wstr_to_utf8(&sb, (const WCHAR *)(uintptr_t)ctx[i].ParameterValue);
        if (!sb.data || sb.failed) {
            etw_strbuf_free(&sb);
            continue;
        }
        pthread_mutex_lock(&search_lock);
        int seen = 0;
        for (size_t k = 0; k < ncontext_paths && !seen; k++)
            seen = strcmp(context_paths[k], sb.data) == 0;
        int take = !seen && ncontext_paths < MAX_CONTEXT_PATHS && (context_paths[ncontext_paths] = strdup(sb.data));
        ncontext_paths += take;
        pthread_mutex_unlock(&search_lock);
        if (take) {
            size_t count;
            char why[8];
            if (ctx[i].ParameterType == TDH_CONTEXT_WPP_TMFFILE)
                etw_wpp_load_file(sb.data, &count, why, sizeof why);
            else
                add_search_path(sb.data);
        }
        etw_strbuf_free(&sb);
    }
}

static const etw_wpp_msg *find_locked(const GUID *g, uint32_t number)
{
    slot *s = probe(g, number);
    return s && s->msg ? s->msg : NULL;
}

/* The first message of a GUID: <dir>/<guid>.tmf in each directory (lower, then upper case),
 * then the store. Serialized by search_lock so one GUID is searched once. */
static void search(const GUID *g)
{
    pthread_mutex_lock(&search_lock);
    pthread_rwlock_rdlock(&lock);
    int done = find_locked(g, WPP_SEARCHED) != NULL;
    pthread_rwlock_unlock(&lock);
    if (!done) {
        char name[37];
        etw_guid_format(g, name);
        for (size_t i = 0; i < ndirs; i++) {
            for (int upper = 0; upper < 2; upper++) {
                char path[4200];
                if (upper)
                    for (char *c = name; *c; c++)
                        *c = (*c >= 'a' && *c <= 'f') ? (char)(*c - 32) : *c;
                snprintf(path, sizeof path, "%s/%s.tmf", dirs[i], name);
                size_t count;
                char why[8];
                if (etw_wpp_load_file(path, &count, why, sizeof why) != ETW_TDH_E_NOFILE)
                    break;
            }
            etw_guid_format(g, name);
        }
        if (fallback)
            fallback(g);
        pthread_rwlock_wrlock(&lock);
        insert_locked(g, WPP_SEARCHED, &searched_marker);
        pthread_rwlock_unlock(&lock);
    }
    pthread_mutex_unlock(&search_lock);
}

const etw_wpp_msg *etw_wpp_find(const GUID *g, uint16_t number)
{
    pthread_rwlock_rdlock(&lock);
    const etw_wpp_msg *m = find_locked(g, number);
    int searched = m || find_locked(g, WPP_SEARCHED) != NULL;
    pthread_rwlock_unlock(&lock);
    if (m || searched)
        return m;
    read_env_once();
    search(g);
    pthread_rwlock_rdlock(&lock);
    m = find_locked(g, number);
    pthread_rwlock_unlock(&lock);
    return m;
}

void etw_wpp_clear(void)
{
    pthread_mutex_lock(&search_lock);
    pthread_rwlock_wrlock(&lock);
    for (size_t i = 0; i < nslots; i++)
        if (slots[i].msg != &searched_marker)
            free(slots[i].msg);
    free(slots);
    slots = NULL;
    nslots = nused = 0;
    for (size_t i = 0; i < ndirs; i++)
        free(dirs[i]);
    ndirs = 0;
    for (size_t i = 0; i < ncontext_paths; i++)
        free(context_paths[i]);
    ncontext_paths = 0;
    env_read = 0;
    pthread_rwlock_unlock(&lock);
    pthread_mutex_unlock(&search_lock);
}
