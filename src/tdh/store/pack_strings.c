/* String interning for the schema pack writer: every distinct string of every schema is kept
 * once (a pack of 2,000 manifests repeats provider, task, field and map names thousands of
 * times). Strings are converted from the schemas' UTF-16 to the pack's stored form, UTF-8
 * that keeps lone surrogates, so they read back unit for unit (pack_codec.h). */
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "tdh/store/pack_write_internal.h"

void *etw_pw_push(void **v, size_t *n, size_t *cap, size_t elem)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        void *g = realloc(*v, c * elem);
        if (!g)
            return NULL;
        *v = g;
        *cap = c;
    }
    void *e = (char *)*v + *n * elem;
    memset(e, 0, elem);
    (*n)++;
    return e;
}

static uint64_t str_hash(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
    return h;
}

int etw_pw_strings_init(etw_pw_strings *t)
{
    memset(t, 0, sizeof *t);
    t->nslots = 1024;
    t->slots = calloc(t->nslots, sizeof *t->slots);
    t->cap = 256;
    t->v = calloc(t->cap, sizeof *t->v);
    t->n = 1; /* id 0 = absent */
    if (!t->slots || !t->v) {
        etw_pw_strings_free(t);
        return 0;
    }
    return 1;
}

void etw_pw_strings_free(etw_pw_strings *t)
{
    for (uint32_t i = 1; i < t->n && t->v; i++)
        free(t->v[i].s);
    free(t->v);
    free(t->slots);
    free(t->scratch);
    memset(t, 0, sizeof *t);
}

static uint32_t *slot_of(etw_pw_strings *t, const char *s, size_t n, uint64_t h)
{
    for (uint32_t i = (uint32_t)h & (t->nslots - 1);; i = (i + 1) & (t->nslots - 1)) {
        uint32_t id = t->slots[i];
        if (!id || (t->v[id].hash == h && t->v[id].len == n && memcmp(t->v[id].s, s, n) == 0))
            return &t->slots[i];
    }
}

static int grow(etw_pw_strings *t)
{
    uint32_t n = t->nslots * 2;
    uint32_t *s = calloc(n, sizeof *s);
    if (!s)
        return 0;
    free(t->slots);
    t->slots = s;
    t->nslots = n;
    for (uint32_t id = 1; id < t->n; id++)
        *slot_of(t, t->v[id].s, t->v[id].len, t->v[id].hash) = id;
    return 1;
}

static int intern(etw_pw_strings *t, const char *s, size_t n, uint32_t *id)
{
    if (n >= ETW_PACK_MAX_BLOB || (((size_t)t->n + 1) * 2 > t->nslots && !grow(t)))
        return 0;
    uint64_t h = str_hash(s, n);
    uint32_t *slot = slot_of(t, s, n, h);
    if (*slot) {
        *id = *slot;
        return 1;
    }
    if (t->n == t->cap) {
        etw_pw_string *g = realloc(t->v, (size_t)t->cap * 2 * sizeof *g);
        if (!g)
            return 0;
        t->v = g;
        t->cap *= 2;
    }
    char *copy = malloc(n + 1);
    if (!copy)
        return 0;
    memcpy(copy, s, n);
    copy[n] = 0;
    t->v[t->n] = (etw_pw_string){copy, (uint32_t)n, 0, h};
    *slot = *id = t->n++;
    return 1;
}

int etw_pw_intern_utf8(etw_pw_strings *t, const char *s, uint32_t *id)
{
    *id = 0;
    return !s || intern(t, s, strlen(s), id);
}

/* One UTF-16 unit or pair as 1-4 bytes; a lone surrogate as its 3-byte form. */
static size_t put_unit(char *o, uint32_t c)
{
    if (c < 0x80) {
        o[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (char)(0xc0 | c >> 6);
        o[1] = (char)(0x80 | (c & 0x3f));
        return 2;
    }
    if (c < 0x10000) {
        o[0] = (char)(0xe0 | c >> 12);
        o[1] = (char)(0x80 | (c >> 6 & 0x3f));
        o[2] = (char)(0x80 | (c & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | c >> 18);
    o[1] = (char)(0x80 | (c >> 12 & 0x3f));
    o[2] = (char)(0x80 | (c >> 6 & 0x3f));
    o[3] = (char)(0x80 | (c & 0x3f));
    return 4;
}

int etw_pw_intern_utf16(etw_pw_strings *t, const uint8_t *le, size_t units, uint32_t *id)
{
    if (units > ETW_PACK_MAX_BLOB / 2)
        return 0;
    size_t need = units * 3 + 1;
    if (need > t->scratch_cap) {
        char *g = realloc(t->scratch, need);
        if (!g)
            return 0;
        t->scratch = g;
        t->scratch_cap = need;
    }
    size_t o = 0;
    for (size_t i = 0; i < units; i++) {
        uint32_t c = etw_rd16(le + 2 * i);
        if (c >= 0xd800 && c < 0xdc00 && i + 1 < units) {
            uint32_t lo = etw_rd16(le + 2 * i + 2);
            if (lo >= 0xdc00 && lo < 0xe000) {
                c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
                i++;
            }
        }
        o += put_unit(t->scratch + o, c);
    }
    return intern(t, t->scratch, o, id);
}
