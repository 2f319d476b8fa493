/* Repairs applied by gen_schema_pack to what the reference manifests lost (pack_fixups.c). */
#ifndef ETWIRE_TOOLS_PACK_FIXUPS_H
#define ETWIRE_TOOLS_PACK_FIXUPS_H

#include <stddef.h>

#include "tdh/store/pack_write.h"

typedef struct pack_fixup_counts {
    size_t version_maps; /* maps taken from another version of the same event */
    size_t named_maps;   /* maps taken by the <field>Map name */
    size_t types;        /* field types (lengths, out-types) restored */
} pack_fixup_counts;

/* Call after every schema was added and before etw_pack_writer_finish. */
void pack_fixups_apply(etw_pack_writer *w, pack_fixup_counts *out);

#endif
