/* The non-ETW Win32 calls the Windows-style sample programs use, for Linux: wide printf with
 * Windows' rules, the wmain entry point, files and threads. This is the "small layer for
 * non-ETW Win32 calls" a ported program brings along; everything ETW comes from etwire's
 * headers. Not part of libetwire. */
#ifndef ETWIRE_EXAMPLES_WIN32_COMPAT_H
#define ETWIRE_EXAMPLES_WIN32_COMPAT_H

#include <stdarg.h>
#include <stdio.h>
#include <wchar.h>

#include <limits.h>

#include <etwire/wintypes.h>

/* Windows is LLP64: long is 32 bits there, and programs use the limits.h names with that
 * meaning (ULONG_MAX as PROPERTY_DATA_DESCRIPTOR.ArrayIndex, for one). */
#undef LONG_MAX
#undef LONG_MIN
#undef ULONG_MAX
#define LONG_MAX 2147483647L
#define LONG_MIN (-LONG_MAX - 1)
#define ULONG_MAX 0xffffffffUL

/* Windows' wprintf: %s and %ls are UTF-16 (WCHAR) strings, %hs and %S narrow ones, %c a WCHAR,
 * l is 32 bits (LLP64) and ll / I64 64 bits. Output is UTF-8. */
int compat_wprintf(const wchar_t *format, ...);
int compat_fwprintf(FILE *stream, const wchar_t *format, ...);
#define wprintf compat_wprintf
#define fwprintf compat_fwprintf

/* The program's entry point: argv arrives as UTF-16, as on Windows. */
int wmain(int argc, WCHAR **argv);

/* _wtoi on a WCHAR string. */
int compat_wtoi(const WCHAR *s);
#define _wtoi compat_wtoi

/* Files (CreateFileW, ReadFile, WriteFile, DeleteFileW) and threads (CreateThread,
 * WaitForSingleObject); CloseHandle closes either. Failures set the thread's last error. */
#define GENERIC_READ 0x80000000u
#define GENERIC_WRITE 0x40000000u
#define FILE_SHARE_READ 0x00000001u
#define CREATE_ALWAYS 2u
#define OPEN_EXISTING 3u
#define FILE_ATTRIBUTE_NORMAL 0x00000080u
#define INFINITE 0xFFFFFFFFu
#define WAIT_OBJECT_0 0u
#define WAIT_FAILED 0xFFFFFFFFu
typedef DWORD(WINAPI *LPTHREAD_START_ROUTINE)(LPVOID Parameter);

HANDLE CreateFileW(LPCWSTR FileName, DWORD DesiredAccess, DWORD ShareMode, LPVOID Security,
                   DWORD CreationDisposition, DWORD FlagsAndAttributes, HANDLE Template);
BOOL ReadFile(HANDLE File, LPVOID Buffer, DWORD ToRead, LPDWORD Read, LPVOID Overlapped);
BOOL WriteFile(HANDLE File, LPCVOID Buffer, DWORD ToWrite, LPDWORD Written, LPVOID Overlapped);
BOOL DeleteFileW(LPCWSTR FileName);
HANDLE CreateThread(LPVOID Security, SIZE_T StackSize, LPTHREAD_START_ROUTINE Start,
                    LPVOID Parameter, DWORD Flags, LPDWORD ThreadId);
DWORD WaitForSingleObject(HANDLE Handle, DWORD Milliseconds);
BOOL CloseHandle(HANDLE Handle);
BOOL FileTimeToSystemTime(const FILETIME *FileTime, LPSYSTEMTIME SystemTime);

#endif
