/* Image names as the process tracker keeps them: the last path component, UTF-8, at most
 * ETW_IMAGE_NAME_BYTES - 1 bytes (longer names are cut at a character boundary). */
#ifndef ETWIRE_CONTEXT_IMAGE_NAME_H
#define ETWIRE_CONTEXT_IMAGE_NAME_H

#include <stddef.h>
#include <stdint.h>

#define ETW_IMAGE_NAME_BYTES 64

/* From n bytes of UTF-16LE (a full path or a bare name, NUL-terminated or not). */
void etw_image_name_utf16(const uint8_t *p, size_t n, char out[ETW_IMAGE_NAME_BYTES]);
/* From an 8-bit string (non-ASCII bytes become '?'). */
void etw_image_name_ansi(const uint8_t *p, size_t n, char out[ETW_IMAGE_NAME_BYTES]);
/* 1 if the name ends in ".exe" (any case). */
int etw_image_name_is_exe(const char *s);

#endif
