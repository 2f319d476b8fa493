/* Opening the schema store and looking schemas up in it (see schema_store.h). The pack file is
 * mapped read-only and validated once (index only: bodies are checked when a schema is
 * rebuilt, by pack_sources.c, which serves lookups from it and caches what it finds).
 * WPP messages are registered with the WPP table the first time their GUID is seen. */
#include "tdh/store/schema_store.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/text.h"
#include "tdh/store/pack_sources.h"
#include "tdh/store/schema_lookup.h"
#include "tdh/store/wpp_table.h"

typedef struct store {
    void *map;
    size_t len;
    etw_pack pk;
    etw_store_wpp wpp;
} store;

/* Opened and closed only while nothing decodes (etwire_schemas_open's contract); lookups
 * only read it. */
static store *current;

const char *etw_store_default_dir(const char *dir, char *out, size_t cap)
{
    const char *env = getenv("ETWIRE_SCHEMAS");
    const char *xdg = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    int n;
    if (dir && dir[0])
        n = snprintf(out, cap, "%s", dir);
    else if (env && env[0])
        n = snprintf(out, cap, "%s", env);
    else if (xdg && xdg[0] == '/')
        n = snprintf(out, cap, "%s/etwire/schemas", xdg);
    else if (home && home[0])
        n = snprintf(out, cap, "%s/.local/share/etwire/schemas", home);
    else
        return NULL;
    return n > 0 && (size_t)n < cap ? out : NULL;
}

const etw_pack *etw_store_pack(void)
{
    return current ? &current->pk : NULL;
}

const etw_store_wpp *etw_store_wpp_section(void)
{
    return current ? &current->wpp : NULL;
}

static void free_store(store *s)
{
    if (!s)
        return;
    if (s->map)
        munmap(s->map, s->len);
    free(s);
}

/* Schemas the cache holds from an old store, and misses a new one may fill, are forgotten. */
static void forget_cached(void)
{
    etw_schema_drop_source(ETW_SRC_STORE);
    etw_schema_drop_source(ETW_SRC_NONE);
    etw_schema_forget_misses();
}

void etw_store_close(void)
{
    etw_wpp_set_fallback(NULL);
    etw_pack_sources_clear(ETW_SRC_STORE);
    if (current)
        forget_cached();
    free_store(current);
    current = NULL;
}

/* Every message of a GUID the WPP table has not met yet. */
static void wpp_fallback(const GUID *g)
{
    const store *s = current;
    if (!s || !s->wpp.count)
        return;
    for (uint32_t i = etw_store_wpp_first(&s->wpp, g); i < s->wpp.count; i++) {
        GUID eg;
        uint16_t number;
        const uint8_t *blob;
        uint32_t size;
        etw_store_wpp_entry(&s->wpp, i, &eg, &number, &blob, &size);
        if (memcmp(&eg, g, sizeof eg) != 0)
            break;
        etw_wpp_msg *m = etw_store_wpp_copy(&s->wpp, i);
        if (m)
            etw_wpp_put(m); /* a TMF the user gave for this message keeps precedence */
    }
}

etw_tdh_status etw_store_open(const char *dir, char *whyout, size_t whylen)
{
    char path[4096], d[4000], why[256] = "";
    if (!etw_store_default_dir(dir, d, sizeof d)) {
        snprintf(whyout, whylen, "no schema store directory (HOME is not set)");
        return ETW_TDH_E_NOFILE;
    }
    snprintf(path, sizeof path, "%s/%s", d, ETW_STORE_FILE);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(whyout, whylen, "%s: no schema store here (etwire schemas import creates it)", path);
        return ETW_TDH_E_NOFILE;
    }
    struct stat st;
    store *s = calloc(1, sizeof *s);
    etw_tdh_status rc = ETW_TDH_E_UNUSABLE;
    if (!s) {
        rc = ETW_TDH_E_NOMEM;
    } else if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 || (uint64_t)st.st_size > (1u << 30)) {
        snprintf(why, sizeof why, "not a regular file of 1 byte to 1 GiB");
    } else {
        s->len = (size_t)st.st_size;
        s->map = mmap(NULL, s->len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (s->map == MAP_FAILED) {
            s->map = NULL;
            snprintf(why, sizeof why, "cannot map it");
        } else if (etw_pack_open(&s->pk, s->map, s->len, why, sizeof why)) {
            size_t wn = 0;
            const uint8_t *w = etw_pack_section(&s->pk, ETW_STORE_SEC_WPP, &wn);
            if (!w || etw_store_wpp_open(&s->wpp, w, wn, why, sizeof why))
                rc = ETW_TDH_OK;
        }
    }
    close(fd);
    if (rc != ETW_TDH_OK) {
        snprintf(whyout, whylen, "%s: %s", path, why[0] ? why : "out of memory");
        free_store(s);
        return rc;
    }
    etw_store_close();
    if (!etw_pack_sources_add(&s->pk, ETW_SRC_STORE)) {
        free_store(s);
        snprintf(whyout, whylen, "too many schema packs registered");
        return ETW_TDH_E_NOMEM;
    }
    current = s;
    forget_cached();
    etw_wpp_set_fallback(wpp_fallback);
    return ETW_TDH_OK;
}
