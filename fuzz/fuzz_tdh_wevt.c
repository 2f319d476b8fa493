/* Fuzz target: PE images and bare CRIM blobs as TdhLoadManifestFromBinary reads them
 * (resource directory walk, WEVT_TEMPLATE elements, template items). */
#include <stdint.h>

#include <etwire/tdh.h>

#include "tdh/sources/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    etw_wevt_load_pe(data, size, 1);
    etwire_tdh_reset();
    return 0;
}
