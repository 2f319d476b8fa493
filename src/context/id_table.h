/* A hash table from a 32-bit id (process or thread id) to a fixed-size value, with forgetting
 * of ended ids in the order they ended: the process tracker's memory bound. */
#ifndef ETWIRE_CONTEXT_ID_TABLE_H
#define ETWIRE_CONTEXT_ID_TABLE_H

#include <stddef.h>
#include <stdint.h>

typedef struct etw_id_table {
    uint8_t *slots;     /* cap slots of slot_size bytes: id_slot header, then the value */
    size_t cap, count, slot_size, value_size;
    size_t max_count;   /* inserts beyond this are refused (a trace that never says "ended") */
    uint32_t *ended_ids, *ended_stamps; /* ring of ended ids, oldest first */
    size_t ended_cap, ended_head, ended_len;
    uint32_t stamp;     /* last stamp handed out */
    size_t last;        /* slot of the last id found: events come in runs of one thread */
    uint64_t changes;   /* counts inserts and removals (memos of what ids map to check it) */
} etw_id_table;

int etw_id_table_init(etw_id_table *t, size_t value_size, size_t max_count, size_t keep_ended);
void etw_id_table_free(etw_id_table *t);
/* The value of id, or NULL. Remembers where it was found (a table is used by one thread at
 * a time). */
void *etw_id_table_find(const etw_id_table *t, uint32_t id);
/* The value of id, inserted zeroed (and marked alive) if absent; NULL when full or out of memory. */
void *etw_id_table_put(etw_id_table *t, uint32_t id);
/* Slot i (0 <= i < t->cap) for walking the table: its value and id, or NULL when empty. */
void *etw_id_table_slot(const etw_id_table *t, size_t i, uint32_t *id);
/* Marks id ended: it stays findable until keep_ended other ids ended after it. */
void etw_id_table_end(etw_id_table *t, uint32_t id);

#endif
