/* Image names from the strings process and image events carry (see image_name.h). */
#include "context/image_name.h"

#include <string.h>

#include "base/bytes.h"

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
    size_t o = 0;
    for (size_t i = start; i < end; i++) {
        uint32_t c = etw_rd16(p + 2 * i);
        if (c >= 0xD800 && c <= 0xDBFF && i + 1 < end) {
            uint32_t lo = etw_rd16(p + 2 * (i + 1));
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
                i++;
            }
        }
        if (c >= 0xD800 && c <= 0xDFFF)
            c = 0xFFFD;
        uint8_t enc[4];
        size_t len;
        if (c < 0x80) {
            enc[0] = (uint8_t)c;
            len = 1;
        } else if (c < 0x800) {
            enc[0] = (uint8_t)(0xC0 | (c >> 6));
            enc[1] = (uint8_t)(0x80 | (c & 0x3F));
            len = 2;
        } else if (c < 0x10000) {
            enc[0] = (uint8_t)(0xE0 | (c >> 12));
            enc[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
            enc[2] = (uint8_t)(0x80 | (c & 0x3F));
            len = 3;
        } else {
            enc[0] = (uint8_t)(0xF0 | (c >> 18));
            enc[1] = (uint8_t)(0x80 | ((c >> 12) & 0x3F));
            enc[2] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
            enc[3] = (uint8_t)(0x80 | (c & 0x3F));
            len = 4;
        }
        if (o + len >= ETW_IMAGE_NAME_BYTES)
            break;
        memcpy(out + o, enc, len);
        o += len;
    }
    out[o] = '\0';
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
