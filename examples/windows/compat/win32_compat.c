/* The sample programs' Win32 layer (see win32_compat.h): POSIX underneath. */
#include "win32_compat.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- text ---- */

/* Appends UTF-16 text as UTF-8, at most max_units code units (-1: to the NUL). */
static void put_utf16(FILE *out, const WCHAR *s, long max_units, int width, int left)
{
    char buf[4096];
    size_t n = 0;
    long units = 0;
    if (!s)
        s = u"(null)";
    for (; s[units] && (max_units < 0 || units < max_units); units++) {
        uint32_t c = s[units];
        if (c >= 0xD800 && c < 0xDC00 && s[units + 1] >= 0xDC00 && s[units + 1] < 0xE000) {
            c = 0x10000 + ((c - 0xD800) << 10) + (s[units + 1] - 0xDC00u);
            units++;
        }
        if (n + 4 >= sizeof buf)
            break;
        if (c < 0x80) {
            buf[n++] = (char)c;
        } else if (c < 0x800) {
            buf[n++] = (char)(0xC0 | c >> 6);
            buf[n++] = (char)(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            buf[n++] = (char)(0xE0 | c >> 12);
            buf[n++] = (char)(0x80 | (c >> 6 & 0x3F));
            buf[n++] = (char)(0x80 | (c & 0x3F));
        } else {
            buf[n++] = (char)(0xF0 | c >> 18);
            buf[n++] = (char)(0x80 | (c >> 12 & 0x3F));
            buf[n++] = (char)(0x80 | (c >> 6 & 0x3F));
            buf[n++] = (char)(0x80 | (c & 0x3F));
        }
    }
    int pad = width > (int)units ? width - (int)units : 0;
    if (!left)
        fprintf(out, "%*s", pad, "");
    fwrite(buf, 1, n, out);
    if (left)
        fprintf(out, "%*s", pad, "");
}

static int vformat(FILE *out, const wchar_t *f, va_list ap)
{
    for (; *f; f++) {
        if (*f != L'%') {
            WCHAR c = (WCHAR)*f;
            WCHAR one[2] = {c, 0};
            put_utf16(out, one, -1, 0, 0);
            continue;
        }
        char spec[32] = "%";
        size_t k = 1;
        f++;
        while (*f && wcschr(L"-+ #0", *f) && k < 8)
            spec[k++] = (char)*f++;
        int left = strchr(spec, '-') != NULL;
        int width = -1, precision = -1;
        if (*f == L'*') {
            width = va_arg(ap, int);
            f++;
        } else if (*f >= L'0' && *f <= L'9') {
            width = 0;
            while (*f >= L'0' && *f <= L'9')
                width = width * 10 + (int)(*f++ - L'0');
        }
        if (*f == L'.') {
            f++;
            precision = 0;
            if (*f == L'*') {
                precision = va_arg(ap, int);
                f++;
            } else {
                while (*f >= L'0' && *f <= L'9')
                    precision = precision * 10 + (int)(*f++ - L'0');
            }
        }
        /* Length: Windows sizes, not the host's. */
        int bits = 32, narrow = 0, wide = 0;
        if (*f == L'h') {
            f++;
            narrow = 1;
            bits = 16;
            if (*f == L'h') {
                f++;
                bits = 8;
            }
        } else if (*f == L'l') {
            f++;
            wide = 1;
            if (*f == L'l') {
                f++;
                bits = 64;
                wide = 0;
            }
        } else if (*f == L'I' && f[1] == L'6' && f[2] == L'4') {
            f += 3;
            bits = 64;
        } else if (*f == L'I' && f[1] == L'3' && f[2] == L'2') {
            f += 3;
        } else if (*f == L'z' || *f == L'I') {
            f++;
            bits = (int)(sizeof(size_t) * 8);
        } else if (*f == L'w') {
            f++;
            wide = 1;
        }
        wchar_t conv = *f;
        if (!conv)
            break;
        if (width >= 0)
            k += (size_t)snprintf(spec + k, sizeof spec - k, "%d", width);
        if (precision >= 0)
            k += (size_t)snprintf(spec + k, sizeof spec - k, ".%d", precision);
        switch (conv) {
        case L'%':
            fputc('%', out);
            break;
        case L'd':
        case L'i':
        case L'u':
        case L'x':
        case L'X':
        case L'o': {
            int is_signed = conv == L'd' || conv == L'i';
            snprintf(spec + k, sizeof spec - k, "ll%c", (char)(conv == L'i' ? 'd' : conv));
            if (bits == 64) {
                long long v = va_arg(ap, long long);
                fprintf(out, spec, v);
            } else {
                unsigned v = va_arg(ap, unsigned); /* promoted 8/16/32-bit argument */
                if (bits == 16)
                    v &= 0xFFFF;
                if (bits == 8)
                    v &= 0xFF;
                long long w = is_signed ? (bits == 32 ? (long long)(int32_t)v
                                                      : bits == 16 ? (long long)(int16_t)v : (long long)(int8_t)v)
                                        : (long long)v;
                fprintf(out, spec, w);
            }
            break;
        }
        case L'p':
            fprintf(out, "%p", va_arg(ap, void *));
            break;
        case L'f':
        case L'g':
        case L'e':
        case L'G':
        case L'E':
            snprintf(spec + k, sizeof spec - k, "%c", (char)conv);
            fprintf(out, spec, va_arg(ap, double));
            break;
        case L'c':
        case L'C': {
            WCHAR one[2] = {(WCHAR)va_arg(ap, int), 0};
            if ((conv == L'c' && narrow) || (conv == L'C' && !wide))
                fputc(one[0] & 0xFF, out);
            else
                put_utf16(out, one, -1, width, left);
            break;
        }
        case L's':
        case L'S':
            if ((conv == L's' && narrow) || (conv == L'S' && !wide)) {
                snprintf(spec + k, sizeof spec - k, "s");
                const char *s = va_arg(ap, const char *);
                fprintf(out, spec, s ? s : "(null)");
            } else {
                put_utf16(out, va_arg(ap, const WCHAR *), precision, width, left);
            }
            break;
        default:
            fputc('?', out);
            break;
        }
    }
    return 0;
}

int compat_wprintf(const wchar_t *format, ...)
{
    va_list ap;
    va_start(ap, format);
    int r = vformat(stdout, format, ap);
    va_end(ap);
    return r;
}

int compat_fwprintf(FILE *stream, const wchar_t *format, ...)
{
    va_list ap;
    va_start(ap, format);
    int r = vformat(stream, format, ap);
    va_end(ap);
    return r;
}

int compat_wtoi(const WCHAR *s)
{
    int v = 0, neg = 0;
    if (*s == '-') {
        neg = 1;
        s++;
    }
    for (; *s >= '0' && *s <= '9'; s++)
        v = v * 10 + (*s - '0');
    return neg ? -v : v;
}

/* UTF-8 to a new NUL-terminated UTF-16 string. */
static WCHAR *to_utf16(const char *s)
{
    size_t n = strlen(s);
    WCHAR *w = malloc((n + 1) * sizeof *w);
    size_t k = 0;
    if (!w)
        return NULL;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        uint32_t cp;
        int len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        if (i + (size_t)len > n)
            len = 1;
        cp = len == 1 ? c : len == 2 ? c & 0x1Fu : len == 3 ? c & 0x0Fu : c & 0x07u;
        for (int j = 1; j < len; j++)
            cp = cp << 6 | ((unsigned char)s[i + (size_t)j] & 0x3Fu);
        i += (size_t)len;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            w[k++] = (WCHAR)(0xD800 + (cp >> 10));
            w[k++] = (WCHAR)(0xDC00 + (cp & 0x3FF));
        } else {
            w[k++] = (WCHAR)cp;
        }
    }
    w[k] = 0;
    return w;
}

/* UTF-16 to a new UTF-8 string (for POSIX paths). */
static char *to_utf8(const WCHAR *w)
{
    size_t n = 0;
    while (w[n])
        n++;
    char *s = malloc(n * 3 + 1), *p = s;
    if (!s)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = w[i];
        if (c < 0x80) {
            *p++ = (char)c;
        } else if (c < 0x800) {
            *p++ = (char)(0xC0 | c >> 6);
            *p++ = (char)(0x80 | (c & 0x3F));
        } else { /* surrogates pass through as 3-byte units: paths here are BMP */
            *p++ = (char)(0xE0 | c >> 12);
            *p++ = (char)(0x80 | (c >> 6 & 0x3F));
            *p++ = (char)(0x80 | (c & 0x3F));
        }
    }
    *p = 0;
    return s;
}

int main(int argc, char **argv)
{
    WCHAR **wargv = calloc((size_t)argc + 1, sizeof *wargv);
    if (!wargv)
        return 1;
    for (int i = 0; i < argc; i++)
        if (!(wargv[i] = to_utf16(argv[i])))
            return 1;
    int rc = wmain(argc, wargv);
    for (int i = 0; i < argc; i++)
        free(wargv[i]);
    free(wargv);
    return rc;
}

/* ---- handles: files and threads ---- */

typedef struct compat_handle {
    int is_thread;
    int fd;
    pthread_t thread;
    LPTHREAD_START_ROUTINE start;
    LPVOID parameter;
    DWORD result;
} compat_handle;

static DWORD win32_from_errno(int e)
{
    switch (e) {
    case ENOENT: return ERROR_FILE_NOT_FOUND;
    case EACCES:
    case EPERM: return ERROR_ACCESS_DENIED;
    case ENOMEM: return ERROR_NOT_ENOUGH_MEMORY;
    case EEXIST: return ERROR_ALREADY_EXISTS;
    default: return ERROR_INVALID_FUNCTION;
    }
}

HANDLE CreateFileW(LPCWSTR FileName, DWORD DesiredAccess, DWORD ShareMode, LPVOID Security,
                   DWORD CreationDisposition, DWORD FlagsAndAttributes, HANDLE Template)
{
    (void)ShareMode, (void)Security, (void)FlagsAndAttributes, (void)Template;
    char *path = to_utf8(FileName);
    if (!path) {
        SetLastError(ERROR_NOT_ENOUGH_MEMORY);
        return INVALID_HANDLE_VALUE;
    }
    int flags = (DesiredAccess & GENERIC_WRITE) ? ((DesiredAccess & GENERIC_READ) ? O_RDWR : O_WRONLY) : O_RDONLY;
    if (CreationDisposition == CREATE_ALWAYS)
        flags |= O_CREAT | O_TRUNC;
    int fd = open(path, flags | O_CLOEXEC, 0644);
    int e = errno;
    free(path);
    compat_handle *h = fd >= 0 ? calloc(1, sizeof *h) : NULL;
    if (!h) {
        if (fd >= 0)
            close(fd);
        SetLastError(fd >= 0 ? ERROR_NOT_ENOUGH_MEMORY : win32_from_errno(e));
        return INVALID_HANDLE_VALUE;
    }
    h->fd = fd;
    return h;
}

BOOL ReadFile(HANDLE File, LPVOID Buffer, DWORD ToRead, LPDWORD Read, LPVOID Overlapped)
{
    (void)Overlapped;
    compat_handle *h = File;
    size_t got = 0;
    while (got < ToRead) {
        ssize_t r = read(h->fd, (char *)Buffer + got, ToRead - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            SetLastError(win32_from_errno(errno));
            return FALSE;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    *Read = (DWORD)got;
    return TRUE;
}

BOOL WriteFile(HANDLE File, LPCVOID Buffer, DWORD ToWrite, LPDWORD Written, LPVOID Overlapped)
{
    (void)Overlapped;
    compat_handle *h = File;
    size_t put = 0;
    while (put < ToWrite) {
        ssize_t r = write(h->fd, (const char *)Buffer + put, ToWrite - put);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            SetLastError(win32_from_errno(errno));
            return FALSE;
        }
        put += (size_t)r;
    }
    *Written = (DWORD)put;
    return TRUE;
}

BOOL DeleteFileW(LPCWSTR FileName)
{
    char *path = to_utf8(FileName);
    int r = path ? unlink(path) : -1;
    free(path);
    if (r != 0)
        SetLastError(win32_from_errno(errno));
    return r == 0;
}

static void *thread_main(void *p)
{
    compat_handle *h = p;
    h->result = h->start(h->parameter);
    return NULL;
}

HANDLE CreateThread(LPVOID Security, SIZE_T StackSize, LPTHREAD_START_ROUTINE Start,
                    LPVOID Parameter, DWORD Flags, LPDWORD ThreadId)
{
    (void)Security, (void)StackSize, (void)Flags;
    compat_handle *h = calloc(1, sizeof *h);
    if (!h) {
        SetLastError(ERROR_NOT_ENOUGH_MEMORY);
        return NULL;
    }
    h->is_thread = 1;
    h->start = Start;
    h->parameter = Parameter;
    if (pthread_create(&h->thread, NULL, thread_main, h) != 0) {
        free(h);
        SetLastError(ERROR_NOT_ENOUGH_MEMORY);
        return NULL;
    }
    if (ThreadId)
        *ThreadId = 0;
    return h;
}

/* Threads only, and only INFINITE: what the samples need. */
DWORD WaitForSingleObject(HANDLE Handle, DWORD Milliseconds)
{
    compat_handle *h = Handle;
    if (!h || !h->is_thread || Milliseconds != INFINITE || pthread_join(h->thread, NULL) != 0)
        return WAIT_FAILED;
    h->is_thread = 2; /* joined */
    return WAIT_OBJECT_0;
}

BOOL CloseHandle(HANDLE Handle)
{
    compat_handle *h = Handle;
    if (!h || h == INVALID_HANDLE_VALUE)
        return FALSE;
    if (h->is_thread == 1)
        pthread_detach(h->thread);
    if (!h->is_thread)
        close(h->fd);
    free(h);
    return TRUE;
}

BOOL FileTimeToSystemTime(const FILETIME *FileTime, LPSYSTEMTIME SystemTime)
{
    uint64_t ft = (uint64_t)FileTime->dwHighDateTime << 32 | FileTime->dwLowDateTime;
    int64_t secs = (int64_t)(ft / 10000000u) - 11644473600LL;
    time_t t = (time_t)secs;
    struct tm tm;
    if ((int64_t)t != secs || !gmtime_r(&t, &tm))
        return FALSE;
    SystemTime->wYear = (WORD)(tm.tm_year + 1900);
    SystemTime->wMonth = (WORD)(tm.tm_mon + 1);
    SystemTime->wDayOfWeek = (WORD)tm.tm_wday;
    SystemTime->wDay = (WORD)tm.tm_mday;
    SystemTime->wHour = (WORD)tm.tm_hour;
    SystemTime->wMinute = (WORD)tm.tm_min;
    SystemTime->wSecond = (WORD)tm.tm_sec;
    SystemTime->wMilliseconds = (WORD)(ft / 10000u % 1000u);
    return TRUE;
}
