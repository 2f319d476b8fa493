/* Sample: relay raw ETW buffers and consume them as a buffer stream (the Windows 11 API).
 * First OpenTraceFromFile with a BufferCallback that writes every buffer it is given to a spool
 * file, as a relay would send it; then the spool is read back and replayed into
 * OpenTraceFromBufferStream from a feeder thread while ProcessTrace runs, and the feeder ends the
 * session with CloseTrace. On Windows it builds with the include lines below replaced by
 *     #include <windows.h>
 *     #include <stdio.h>
 *     #include <evntrace.h>
 *     #include <evntcons.h>
 * Usage: stream_consumer FILE.etl SPOOL_FILE. It checks its own work and says so on the last
 * line: the stream delivered the same events as the file (count and an order-independent digest
 * of time, provider, descriptor, ids, processor and payload), every buffer added was completed
 * exactly once, and the file pass's BufferCallback saw consecutive BuffersRead counts. */
#define UNICODE
#include <etwire/evntcons.h>
#include <etwire/evntrace.h>
#include <stdio.h>
#include <stdlib.h>
#include "compat/win32_compat.h"

typedef struct _DIGEST {
    ULONG Events;
    ULONGLONG Sum;      /* sum of per-event hashes: independent of delivery order */
    ULONG OutOfOrder;   /* events older than the one before */
    LONGLONG LastTime;
} DIGEST;

typedef struct _SPOOLED {
    PBYTE Data;
    ULONG Size;
} SPOOLED;

static DIGEST g_File, g_Stream;
static HANDLE g_Spool = INVALID_HANDLE_VALUE;
static ULONG g_BuffersSpooled, g_BufferSequenceErrors, g_SpoolErrors;
static SPOOLED *g_Buffers;
static ULONG g_BufferCount;
static volatile LONG g_Completions;
static PROCESSTRACE_HANDLE g_StreamHandle;
static HANDLE g_Feeder;
static ULONG g_AddFailures;

static ULONGLONG Fnv(ULONGLONG h, const void *p, SIZE_T n)
{
    const BYTE *b = (const BYTE *)p;
    for (SIZE_T i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

static void Digest(DIGEST *d, PEVENT_RECORD pEvent)
{
    ULONGLONG h = 14695981039346656037ull;
    USHORT Cpu = (USHORT)GetEventProcessorIndex(pEvent);
    h = Fnv(h, &pEvent->EventHeader.TimeStamp, sizeof(LARGE_INTEGER));
    h = Fnv(h, &pEvent->EventHeader.ProviderId, sizeof(GUID));
    h = Fnv(h, &pEvent->EventHeader.EventDescriptor, sizeof(EVENT_DESCRIPTOR));
    h = Fnv(h, &pEvent->EventHeader.ProcessId, sizeof(ULONG));
    h = Fnv(h, &pEvent->EventHeader.ThreadId, sizeof(ULONG));
    h = Fnv(h, &Cpu, sizeof(Cpu));
    h = Fnv(h, pEvent->UserData, pEvent->UserDataLength);
    d->Sum += h;
    if (d->Events > 0 && pEvent->EventHeader.TimeStamp.QuadPart < d->LastTime)
        d->OutOfOrder++;
    d->LastTime = pEvent->EventHeader.TimeStamp.QuadPart;
    d->Events++;
}

static VOID WINAPI FileEvent(PEVENT_RECORD pEvent)
{
    Digest(&g_File, pEvent);
}

/* The relay side: each buffer as the file session gives it, with its size in front. */
static BOOL WINAPI SpoolBuffer(const ETW_BUFFER_HEADER *Buffer, ULONG BufferSize,
                               const ETW_BUFFER_CALLBACK_INFORMATION *ConsumerInfo, void *Context)
{
    DWORD Written = 0;
    (void)Context;
    g_BuffersSpooled++;
    if (ConsumerInfo->BuffersRead != g_BuffersSpooled)
        g_BufferSequenceErrors++;
    if (!WriteFile(g_Spool, &BufferSize, sizeof(BufferSize), &Written, NULL) || Written != sizeof(BufferSize) ||
        !WriteFile(g_Spool, Buffer, BufferSize, &Written, NULL) || Written != BufferSize) {
        g_SpoolErrors++;
        return FALSE;
    }
    return TRUE;
}

static BOOL ReadSpool(LPCWSTR SpoolName)
{
    HANDLE h = CreateFileW(SpoolName, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    ULONG Capacity = 0;
    if (h == INVALID_HANDLE_VALUE)
        return FALSE;
    for (;;) {
        ULONG Size = 0;
        DWORD Read = 0;
        if (!ReadFile(h, &Size, sizeof(Size), &Read, NULL) || Read == 0)
            break;
        if (Read != sizeof(Size) || Size == 0 || Size > 64 * 1024 * 1024)
            break;
        if (g_BufferCount == Capacity) {
            Capacity = Capacity ? Capacity * 2 : 64;
            SPOOLED *Bigger = (SPOOLED *)realloc(g_Buffers, Capacity * sizeof(SPOOLED));
            if (Bigger == NULL)
                break;
            g_Buffers = Bigger;
        }
        /* ETW buffers are 8-aligned; malloc gives at least that. */
        PBYTE Data = (PBYTE)malloc(Size);
        if (Data == NULL || !ReadFile(h, Data, Size, &Read, NULL) || Read != Size) {
            free(Data);
            break;
        }
        g_Buffers[g_BufferCount].Data = Data;
        g_Buffers[g_BufferCount].Size = Size;
        g_BufferCount++;
    }
    CloseHandle(h);
    return g_BufferCount == g_BuffersSpooled;
}

static VOID WINAPI BufferCompleted(const ETW_BUFFER_HEADER *Buffer, void *Context)
{
    (void)Buffer;
    (void)Context;
    g_Completions++;
}

/* Adds the rest of the buffers while ProcessTrace runs, then ends the session. */
static DWORD WINAPI Feeder(LPVOID Parameter)
{
    (void)Parameter;
    for (ULONG i = 1; i < g_BufferCount; i++)
        if (ProcessTraceAddBufferToBufferStream(g_StreamHandle, (const ETW_BUFFER_HEADER *)g_Buffers[i].Data,
                                                g_Buffers[i].Size) != ERROR_SUCCESS)
            g_AddFailures++;
    CloseTrace(g_StreamHandle); /* ProcessTrace delivers what was added, then returns */
    return 0;
}

static VOID WINAPI StreamEvent(PEVENT_RECORD pEvent)
{
    /* The first event means ProcessTrace is running: start feeding the rest. */
    if (g_Stream.Events == 0 && g_Feeder == NULL)
        g_Feeder = CreateThread(NULL, 0, Feeder, NULL, 0, NULL);
    Digest(&g_Stream, pEvent);
}

int wmain(int argc, WCHAR **argv)
{
    ETW_OPEN_TRACE_OPTIONS Options;
    TRACE_LOGFILE_HEADER Header;
    PROCESSTRACE_HANDLE hTrace;
    ULONG status, StreamStatus = ERROR_SUCCESS;

    if (argc != 3) {
        wprintf(L"usage: stream_consumer FILE.etl SPOOL_FILE\n");
        return 2;
    }

    /* 1. Read the file; spool every buffer. */
    g_Spool = CreateFileW(argv[2], GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    if (g_Spool == INVALID_HANDLE_VALUE) {
        wprintf(L"cannot create %s: %lu\n", argv[2], GetLastError());
        return 1;
    }
    ZeroMemory(&Options, sizeof(Options));
    Options.EventCallback = FileEvent;
    Options.BufferCallback = SpoolBuffer;
    hTrace = OpenTraceFromFile(argv[1], &Options, &Header);
    if (hTrace == INVALID_PROCESSTRACE_HANDLE) {
        wprintf(L"OpenTraceFromFile failed with %lu\n", GetLastError());
        CloseHandle(g_Spool);
        return 1;
    }
    status = ProcessTrace(&hTrace, 1, NULL, NULL);
    CloseTrace(hTrace);
    CloseHandle(g_Spool);
    wprintf(L"%s: %lu events in %lu buffers (file), %lu processors\n", argv[1], g_File.Events,
            g_BuffersSpooled, Header.NumberOfProcessors);

    /* 2. Replay the spool as a buffer stream. */
    BOOL Spooled = ReadSpool(argv[2]);
    if (Spooled && g_BufferCount > 0) {
        ZeroMemory(&Options, sizeof(Options));
        Options.EventCallback = StreamEvent;
        g_StreamHandle = OpenTraceFromBufferStream(&Options, BufferCompleted, NULL);
        if (g_StreamHandle == INVALID_PROCESSTRACE_HANDLE) {
            wprintf(L"OpenTraceFromBufferStream failed with %lu\n", GetLastError());
            return 1;
        }
        /* The first buffer (with the log-file header) goes in before ProcessTrace starts. */
        if (ProcessTraceAddBufferToBufferStream(g_StreamHandle, (const ETW_BUFFER_HEADER *)g_Buffers[0].Data,
                                                g_Buffers[0].Size) != ERROR_SUCCESS)
            g_AddFailures++;
        StreamStatus = ProcessTrace(&g_StreamHandle, 1, NULL, NULL);
        if (g_Feeder != NULL) {
            WaitForSingleObject(g_Feeder, INFINITE);
            CloseHandle(g_Feeder);
        } else {
            CloseTrace(g_StreamHandle);
        }
    }
    for (ULONG i = 0; i < g_BufferCount; i++)
        free(g_Buffers[i].Data);
    free(g_Buffers);
    DeleteFileW(argv[2]);

    BOOL ok = status == ERROR_SUCCESS && Spooled && g_SpoolErrors == 0 && g_BufferSequenceErrors == 0 &&
              g_AddFailures == 0 && g_File.Events > 0 && g_Stream.Events == g_File.Events &&
              g_Stream.Sum == g_File.Sum && (ULONG)g_Completions == g_BufferCount &&
              (StreamStatus == ERROR_SUCCESS || StreamStatus == ERROR_CANCELLED);
    wprintf(L"%lu events: stream gave %lu events (digest %s, %lu out of time order), %lu of %lu buffers "
            L"completed, ProcessTrace on the stream returned %lu: %s\n",
            g_File.Events, g_Stream.Events, g_Stream.Sum == g_File.Sum ? TEXT("equal") : TEXT("different"),
            g_Stream.OutOfOrder, (ULONG)g_Completions, g_BufferCount, StreamStatus, ok ? TEXT("ok") : TEXT("FAILED"));
    return ok ? 0 : 1;
}
