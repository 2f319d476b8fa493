/* Windows base types with their Windows sizes on any platform (Windows is LLP64: ULONG is 32
 * bits, WCHAR is a UTF-16 code unit). Consumer code written against the Windows SDK compiles
 * unchanged against these names. See docs/api/types.md. */
#ifndef ETWIRE_WINTYPES_H
#define ETWIRE_WINTYPES_H

#include <stdint.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef _WIN32
#define ETWIRE_WINTYPES_DEFINED 1
typedef void VOID;
typedef void *PVOID;
typedef void *HANDLE;
typedef uint8_t UCHAR, BYTE, BOOLEAN;
typedef uint8_t *PUCHAR;
typedef char CHAR;
typedef uint16_t USHORT, WORD;
typedef uint16_t WCHAR;
typedef WCHAR *PWCHAR, *LPWSTR, *PWSTR;
typedef const WCHAR *LPCWSTR, *PCWSTR;
typedef char *LPSTR, *PSTR;
typedef const char *LPCSTR, *PCSTR;
typedef uint32_t ULONG, DWORD, UINT, ULONG32;
typedef uint32_t *PULONG;
typedef int32_t LONG, BOOL, INT;
typedef int64_t LONGLONG, LONG64;
typedef uint64_t ULONGLONG, ULONG64, DWORD64;
typedef uintptr_t ULONG_PTR, SIZE_T;

typedef union _LARGE_INTEGER {
    struct {
        ULONG LowPart;
        LONG HighPart;
    };
    struct {
        ULONG LowPart;
        LONG HighPart;
    } u;
    LONGLONG QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER;

typedef struct _GUID {
    ULONG Data1;
    USHORT Data2;
    USHORT Data3;
    UCHAR Data4[8];
} GUID, *LPGUID;
typedef const GUID *LPCGUID;

typedef struct _FILETIME {
    DWORD dwLowDateTime;
    DWORD dwHighDateTime;
} FILETIME, *PFILETIME, *LPFILETIME;

typedef struct _SYSTEMTIME {
    WORD wYear;
    WORD wMonth;
    WORD wDayOfWeek;
    WORD wDay;
    WORD wHour;
    WORD wMinute;
    WORD wSecond;
    WORD wMilliseconds;
} SYSTEMTIME, *PSYSTEMTIME;

typedef struct _TIME_ZONE_INFORMATION {
    LONG Bias;
    WCHAR StandardName[32];
    SYSTEMTIME StandardDate;
    LONG StandardBias;
    WCHAR DaylightName[32];
    SYSTEMTIME DaylightDate;
    LONG DaylightBias;
} TIME_ZONE_INFORMATION;

#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif
#define WINAPI
#define WMIAPI
#define EVNTAPI

/* Win32 error codes the consumer API returns (winerror.h values). */
#define ERROR_SUCCESS 0u
#define ERROR_FILE_NOT_FOUND 2u
#define ERROR_ACCESS_DENIED 5u
#define ERROR_INVALID_HANDLE 6u
#define ERROR_NOT_ENOUGH_MEMORY 8u
#define ERROR_BAD_FORMAT 11u
#define ERROR_INVALID_DATA 13u
#define ERROR_OUTOFMEMORY 14u
#define ERROR_READ_FAULT 30u
#define ERROR_HANDLE_EOF 38u
#define ERROR_NOT_SUPPORTED 50u
#define ERROR_INVALID_PARAMETER 87u
#define ERROR_INSUFFICIENT_BUFFER 122u
#define ERROR_BAD_LENGTH 24u
#define ERROR_BAD_NETPATH 53u
#define ERROR_BAD_PATHNAME 161u
#define ERROR_BUSY 170u
#define ERROR_MORE_DATA 234u
#define ERROR_NOACCESS 998u
#define ERROR_CANCELLED 1223u
#define ERROR_CONNECTION_REFUSED 1225u
#define ERROR_CONNECTION_ABORTED 1236u
#define ERROR_NOT_FOUND 1168u
#define ERROR_FILE_CORRUPT 1392u
#define ERROR_INVALID_TIME 1901u
#define ERROR_WMI_INSTANCE_NOT_FOUND 4201u
#define ERROR_CTX_CLOSE_PENDING 7007u
#define ERROR_EVT_INVALID_EVENT_DATA 15005u

/* The thread's last error, as set by OpenTrace* on failure. Define ETWIRE_NO_GETLASTERROR to
 * keep the Windows name out of the program (etwire_last_error() is always there). */
#ifndef ETWIRE_NO_GETLASTERROR
ULONG GetLastError(void);
#endif
#endif /* !_WIN32 */

#ifdef __cplusplus
}
#endif
#endif
