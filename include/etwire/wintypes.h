/* Windows base types with their Windows sizes on any platform (Windows is LLP64: ULONG is 32
 * bits, WCHAR is a UTF-16 code unit). Consumer code written against the Windows SDK compiles
 * unchanged against these names. See docs/api/windows-headers.md. */
#ifndef ETWIRE_WINTYPES_H
#define ETWIRE_WINTYPES_H

#include <stdint.h>
#include <stddef.h>
#include <string.h> /* IsEqualGUID */

#ifdef __cplusplus
extern "C" {
#endif

#ifndef _WIN32
#define ETWIRE_WINTYPES_DEFINED 1

/* Windows aligns 64-bit members to 8 bytes on every target; the i386 System V ABI would align
 * them to 4. Requesting 8 keeps every structure at its Windows x86 layout on i386 (checked in
 * src/winapi/layout_checks.c) and changes nothing on 64-bit targets. */
#define ETWIRE_ALIGN8 __attribute__((aligned(8)))

typedef void VOID;
typedef void *PVOID, *LPVOID;
typedef const void *LPCVOID, *PCVOID;
typedef void *HANDLE, *PHANDLE;
typedef uint8_t UCHAR, BYTE, BOOLEAN;
typedef uint8_t *PUCHAR, *PBOOLEAN, *PBYTE, *LPBYTE;
typedef char CHAR, CCHAR;
typedef char *PCHAR;
typedef int16_t SHORT;
typedef int16_t *PSHORT;
typedef uint16_t USHORT, WORD;
typedef uint16_t *PWORD, *PUSHORT;
/* A UTF-16 code unit, as on Windows (wchar_t is 32 bits on Linux): u"..." literals are WCHAR
 * strings, L"..." are not. */
typedef uint16_t WCHAR;
typedef WCHAR *PWCHAR, *LPWSTR, *PWSTR, *LPWCH, *PWCH;
typedef const WCHAR *LPCWSTR, *PCWSTR, *LPCWCH, *PCWCH;
typedef char *LPSTR, *PSTR, *LPCH, *PCH;
typedef const char *LPCSTR, *PCSTR, *LPCCH, *PCCH;
typedef uint32_t ULONG, DWORD, UINT, ULONG32, DWORD32, UINT32;
typedef uint32_t *PULONG, *PDWORD, *LPDWORD, *PUINT;
typedef int32_t LONG, BOOL, INT, LONG32, INT32, HRESULT;
typedef int32_t *PLONG, *PBOOL, *LPBOOL, *PINT;
typedef float FLOAT;
typedef double DOUBLE;
typedef int64_t LONGLONG ETWIRE_ALIGN8;
typedef int64_t LONG64 ETWIRE_ALIGN8;
typedef int64_t INT64 ETWIRE_ALIGN8;
typedef uint64_t ULONGLONG ETWIRE_ALIGN8;
typedef uint64_t ULONG64 ETWIRE_ALIGN8;
typedef uint64_t DWORD64 ETWIRE_ALIGN8;
typedef uint64_t UINT64 ETWIRE_ALIGN8;
typedef LONGLONG *PLONGLONG;
typedef LONG64 *PLONG64;
typedef ULONGLONG *PULONGLONG;
typedef ULONG64 *PULONG64;
typedef DWORD64 *PDWORD64;
typedef uintptr_t ULONG_PTR, SIZE_T, DWORD_PTR, UINT_PTR;
typedef intptr_t LONG_PTR, SSIZE_T, INT_PTR;
typedef ULONG_PTR *PULONG_PTR;
typedef SIZE_T *PSIZE_T;
typedef PVOID PSID;

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
#ifndef REFGUID
#define REFGUID const GUID *
#endif
/* guiddef.h: C callers pass pointers. */
#define IsEqualGUID(a, b) (memcmp((a), (b), sizeof(GUID)) == 0)
#define InlineIsEqualGUID(a, b) IsEqualGUID(a, b)
/* A GUID constant, as guiddef.h with INITGUID defines one (here always static). */
#define DEFINE_GUID(name, l, w1, w2, b1, b2, b3, b4, b5, b6, b7, b8)                            \
    static const GUID name __attribute__((unused)) = {l, w1, w2, {b1, b2, b3, b4, b5, b6, b7, b8}}

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
} SYSTEMTIME, *PSYSTEMTIME, *LPSYSTEMTIME;

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
/* Calling conventions and annotations: one convention on these targets. */
#define WINAPI
#define WMIAPI
#define EVNTAPI
#ifndef CALLBACK
#define CALLBACK
#endif
#ifndef APIENTRY
#define APIENTRY
#endif
#ifndef __stdcall
#define __stdcall
#endif
#ifndef __cdecl
#define __cdecl
#endif
#ifndef CONST
#define CONST const
#endif
#ifndef IN
#define IN
#endif
#ifndef OUT
#define OUT
#endif
#ifndef OPTIONAL
#define OPTIONAL
#endif
#define UNREFERENCED_PARAMETER(P) ((void)(P))
#define FIELD_OFFSET(type, field) ((LONG)offsetof(type, field))
#ifndef ANYSIZE_ARRAY
#define ANYSIZE_ARRAY 1
#endif
#ifndef MAX_PATH
#define MAX_PATH 260
#endif
#define INVALID_HANDLE_VALUE ((HANDLE)(LONG_PTR)-1)
#define RtlZeroMemory(Destination, Length) memset((Destination), 0, (Length))
#define RtlCopyMemory(Destination, Source, Length) memcpy((Destination), (Source), (Length))
#define ZeroMemory RtlZeroMemory
#define CopyMemory RtlCopyMemory

/* Text: with UNICODE defined the generic names are the UTF-16 ones, as in winnt.h. */
#if defined(UNICODE) || defined(_UNICODE)
typedef WCHAR TCHAR, TBYTE;
#define __TEXT(quote) u##quote
#else
typedef char TCHAR;
typedef unsigned char TBYTE;
#define __TEXT(quote) quote
#endif
typedef TCHAR *PTCHAR, *LPTSTR, *PTSTR;
typedef const TCHAR *LPCTSTR, *PCTSTR;
#define TEXT(quote) __TEXT(quote)

/* Win32 error codes the consumer API returns (winerror.h values). */
#define ERROR_SUCCESS 0u
#define NO_ERROR 0u
#define ERROR_INVALID_FUNCTION 1u
#define ERROR_FILE_NOT_FOUND 2u
#define ERROR_PATH_NOT_FOUND 3u
#define ERROR_TOO_MANY_OPEN_FILES 4u
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
#define ERROR_ALREADY_EXISTS 183u
#define ERROR_NO_MORE_ITEMS 259u
#define ERROR_ARITHMETIC_OVERFLOW 534u
#define ERROR_MORE_DATA 234u
#define ERROR_NOACCESS 998u
#define ERROR_CANCELLED 1223u
#define ERROR_CONNECTION_REFUSED 1225u
#define ERROR_CONNECTION_ABORTED 1236u
#define ERROR_NOT_FOUND 1168u
#define ERROR_FILE_CORRUPT 1392u
#define ERROR_INVALID_TIME 1901u
#define ERROR_WMI_GUID_NOT_FOUND 4200u
#define ERROR_WMI_INSTANCE_NOT_FOUND 4201u
#define ERROR_WMI_INVALID_MOF 4210u
#define ERROR_WMI_ALREADY_ENABLED 4206u
#define ERROR_CTX_CLOSE_PENDING 7007u
#define ERROR_EVT_INVALID_EVENT_DATA 15005u

/* The thread's last error, as set by OpenTrace* on failure. A program may define its own
 * GetLastError/SetLastError instead: etwire keeps its slot, readable with etwire_last_error()
 * (docs/api/last-error.md). Define ETWIRE_NO_GETLASTERROR to keep these declarations out. */
#ifndef ETWIRE_NO_GETLASTERROR
ULONG GetLastError(void);
VOID SetLastError(ULONG dwErrCode);
#endif
#endif /* !_WIN32 */

#ifdef __cplusplus
}
#endif
#endif
