/* Fuzz target: XML instrumentation manifests (needs expat; without it the loader refuses all
 * input and the target only checks that it does so cleanly). */
#include <stdint.h>

#include <etwire/tdh.h>

#include "tdh/sources/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[256];
    etw_manifest_load_xml(data, size, 1, why, sizeof why);
    etwire_tdh_reset();
    return 0;
}
