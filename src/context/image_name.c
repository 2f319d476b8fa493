/* Image names from the strings process and image events carry (see image_name.h). */
#include "context/image_name.h"

#include <string.h>

#include "base/bytes.h"
#include "base/text.h"

/* The last path component of a UTF-16 string (n bytes, may lack its NUL) as UTF-8. */
void etw_image_name_utf16(const uint8_t *p, size_t n, char out[ETW_IMAGE_NAME_BYTES])
{
    size_t units = n / 2, start = 0, end = units;
    for (size_t i = 0; i < units; i++) {
        uint16_t c = etw_rd16(p + 2 * i);
        if (c == 0) {
            end = i;
            break;
        }
        if (c == '\\' || c == '/')
            start = i + 1;
    }
    etw_utf16_to_utf8_cut(p + 2 * start, 2 * (end - start), out, ETW_IMAGE_NAME_BYTES);
}

/* An 8-bit string (classic ImageFileName), NUL-terminated or not, kept as it is where it is
 * ASCII (the kernel writes the image's base name in the system code page). */
void etw_image_name_ansi(const uint8_t *p, size_t n, char out[ETW_IMAGE_NAME_BYTES])
{
    size_t o = 0;
    for (size_t i = 0; i < n && p[i] && o + 1 < ETW_IMAGE_NAME_BYTES; i++)
        out[o++] = p[i] < 0x80 ? (char)p[i] : '?';
    out[o] = '\0';
}

int etw_image_name_is_exe(const char *s)
{
    size_t n = strlen(s);
    return n > 4 && (s[n - 4] == '.') && (s[n - 3] | 0x20) == 'e' && (s[n - 2] | 0x20) == 'x' &&
           (s[n - 1] | 0x20) == 'e';
}
