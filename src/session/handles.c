/* The handle table (see handles.h). A handle is (generation << 32) | (slot + 1): never 0,
 * never INVALID_PROCESSTRACE_HANDLE, and a reused slot gets a new generation. */
#include "session/handles.h"

#include <stdlib.h>

typedef struct slot {
    etw_session *s;
    uint32_t generation;
} slot;

static pthread_mutex_t table_mu = PTHREAD_MUTEX_INITIALIZER;
static slot *table;
static uint32_t table_len;

void etw_handles_lock(void) { pthread_mutex_lock(&table_mu); }
void etw_handles_unlock(void) { pthread_mutex_unlock(&table_mu); }

PROCESSTRACE_HANDLE etw_handle_add(etw_session *s)
{
    PROCESSTRACE_HANDLE h = INVALID_PROCESSTRACE_HANDLE;
    pthread_mutex_lock(&table_mu);
    uint32_t i = 0;
    while (i < table_len && table[i].s)
        i++;
    if (i == table_len) {
        uint32_t n = table_len ? table_len * 2 : 16;
        slot *grown = n < (1u << 24) ? realloc(table, n * sizeof *grown) : NULL;
        if (grown) {
            for (uint32_t k = table_len; k < n; k++)
                grown[k] = (slot){NULL, 0};
            table = grown;
            table_len = n;
        }
    }
    if (i < table_len) {
        slot *e = &table[i];
        e->generation = e->generation + 1 == 0xFFFFFFFFu ? 1 : e->generation + 1;
        e->s = s;
        h = ((PROCESSTRACE_HANDLE)e->generation << 32) | (i + 1);
        s->handle = h;
    }
    pthread_mutex_unlock(&table_mu);
    return h;
}

etw_session *etw_handle_find_locked(PROCESSTRACE_HANDLE h)
{
    uint32_t i = (uint32_t)(h & 0xFFFFFFFFu);
    uint32_t gen = (uint32_t)(h >> 32);
    if (i == 0 || i > table_len || !table[i - 1].s || table[i - 1].generation != gen)
        return NULL;
    return table[i - 1].s;
}

etw_session *etw_handle_remove(PROCESSTRACE_HANDLE h)
{
    pthread_mutex_lock(&table_mu);
    etw_session *s = etw_handle_find_locked(h);
    if (s)
        table[(h & 0xFFFFFFFFu) - 1].s = NULL;
    pthread_mutex_unlock(&table_mu);
    return s;
}

etw_session *etw_handle_lock_session(PROCESSTRACE_HANDLE h)
{
    pthread_mutex_lock(&table_mu);
    etw_session *s = etw_handle_find_locked(h);
    if (s)
        pthread_mutex_lock(&s->mu);
    pthread_mutex_unlock(&table_mu);
    return s;
}
