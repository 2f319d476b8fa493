/* Fuzz target: MOF class text (etwire_tdh_load_mof's parser and compiler). */
#include <stdint.h>

#include <etwire/tdh.h>

#include "tdh/sources/mof_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    etw_mof_load_text(data, size, 1, err, sizeof err);
    etwire_tdh_reset();
    return 0;
}
