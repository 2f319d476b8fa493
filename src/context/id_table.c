/* Open addressing with linear probing; removal shifts the following run back so lookups never
 * need tombstones. An ended id carries the stamp of its end; the ring remembers (id, stamp) and
 * removes the id when it falls out of the ring, unless it was started again since (stamp 0). */
#include "context/id_table.h"

#include <stdlib.h>
#include <string.h>

typedef struct id_slot {
    uint32_t id;
    uint32_t used;
    uint32_t ended_stamp; /* 0 while alive */
    uint32_t pad;
} id_slot;

static id_slot *slot_at(const etw_id_table *t, size_t i)
{
    return (id_slot *)(void *)(t->slots + i * t->slot_size);
}

static size_t home_of(const etw_id_table *t, uint32_t id)
{
    return (size_t)((id * 2654435761u) & (uint32_t)(t->cap - 1));
}

int etw_id_table_init(etw_id_table *t, size_t value_size, size_t max_count, size_t keep_ended)
{
    memset(t, 0, sizeof *t);
    t->value_size = value_size;
    t->slot_size = sizeof(id_slot) + ((value_size + 7) & ~(size_t)7);
    t->max_count = max_count;
    t->cap = 64;
    t->ended_cap = keep_ended;
    t->slots = calloc(t->cap, t->slot_size);
    t->ended_ids = calloc(keep_ended, sizeof *t->ended_ids);
    t->ended_stamps = calloc(keep_ended, sizeof *t->ended_stamps);
    if (!t->slots || !t->ended_ids || !t->ended_stamps) {
        etw_id_table_free(t);
        return -1;
    }
    return 0;
}

void etw_id_table_free(etw_id_table *t)
{
    free(t->slots);
    free(t->ended_ids);
    free(t->ended_stamps);
    memset(t, 0, sizeof *t);
}

static size_t find_index(const etw_id_table *t, uint32_t id, int *found)
{
    size_t i = home_of(t, id);
    for (;;) {
        id_slot *s = slot_at(t, i);
        if (!s->used) {
            *found = 0;
            return i;
        }
        if (s->id == id) {
            *found = 1;
            return i;
        }
        i = (i + 1) & (t->cap - 1);
    }
}

void *etw_id_table_find(const etw_id_table *t, uint32_t id)
{
    if (!t->slots)
        return NULL;
    /* Ids are unique in the table, so a used slot holding id is id's slot wherever moves and
     * growth put it since. */
    id_slot *s = slot_at(t, t->last);
    if (s->used && s->id == id)
        return (uint8_t *)s + sizeof(id_slot);
    int found;
    size_t i = find_index(t, id, &found);
    if (!found)
        return NULL;
    ((etw_id_table *)t)->last = i;
    return (uint8_t *)slot_at(t, i) + sizeof(id_slot);
}

void *etw_id_table_slot(const etw_id_table *t, size_t i, uint32_t *id)
{
    if (!t->slots || i >= t->cap || !slot_at(t, i)->used)
        return NULL;
    *id = slot_at(t, i)->id;
    return (uint8_t *)slot_at(t, i) + sizeof(id_slot);
}

static int grow(etw_id_table *t)
{
    etw_id_table bigger = *t;
    bigger.cap = t->cap * 2;
    bigger.slots = calloc(bigger.cap, t->slot_size);
    if (!bigger.slots)
        return -1;
    for (size_t i = 0; i < t->cap; i++) {
        id_slot *s = slot_at(t, i);
        if (!s->used)
            continue;
        int found;
        size_t j = find_index(&bigger, s->id, &found);
        memcpy(slot_at(&bigger, j), s, t->slot_size);
    }
    free(t->slots);
    t->slots = bigger.slots;
    t->cap = bigger.cap;
    return 0;
}

void *etw_id_table_put(etw_id_table *t, uint32_t id)
{
    if (!t->slots)
        return NULL;
    int found;
    size_t i = find_index(t, id, &found);
    if (!found) {
        if (t->count >= t->max_count)
            return NULL;
        if ((t->count + 1) * 2 > t->cap) {
            if (grow(t) != 0)
                return NULL;
            i = find_index(t, id, &found);
        }
        memset(slot_at(t, i), 0, t->slot_size);
        slot_at(t, i)->id = id;
        slot_at(t, i)->used = 1;
        t->count++;
        t->changes++;
    }
    slot_at(t, i)->ended_stamp = 0;
    return (uint8_t *)slot_at(t, i) + sizeof(id_slot);
}

static void remove_at(etw_id_table *t, size_t i)
{
    /* Backward shift: move later members of the probe run into the hole when their home
     * position allows it. */
    size_t hole = i;
    size_t j = i;
    for (;;) {
        j = (j + 1) & (t->cap - 1);
        id_slot *s = slot_at(t, j);
        if (!s->used)
            break;
        size_t home = home_of(t, s->id);
        int movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
        if (movable) {
            memcpy(slot_at(t, hole), s, t->slot_size);
            hole = j;
        }
    }
    memset(slot_at(t, hole), 0, t->slot_size);
    t->count--;
    t->changes++;
}

void etw_id_table_end(etw_id_table *t, uint32_t id)
{
    if (!t->slots || t->ended_cap == 0)
        return;
    int found;
    size_t i = find_index(t, id, &found);
    if (!found || slot_at(t, i)->ended_stamp)
        return;
    if (++t->stamp == 0)
        t->stamp = 1;
    slot_at(t, i)->ended_stamp = t->stamp;
    if (t->ended_len == t->ended_cap) {
        /* Forget the oldest ended id, unless it was started again since. */
        uint32_t old = t->ended_ids[t->ended_head], old_stamp = t->ended_stamps[t->ended_head];
        t->ended_head = (t->ended_head + 1) % t->ended_cap;
        t->ended_len--;
        size_t k = find_index(t, old, &found);
        if (found && slot_at(t, k)->ended_stamp == old_stamp)
            remove_at(t, k);
    }
    size_t tail = (t->ended_head + t->ended_len) % t->ended_cap;
    t->ended_ids[tail] = id;
    t->ended_stamps[tail] = t->stamp;
    t->ended_len++;
}
