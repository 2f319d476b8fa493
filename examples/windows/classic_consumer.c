/* Sample: the classic consumer of the Windows 2000 era, still the most common in the field -
 * OpenTrace with an EVENT_TRACE_LOGFILE whose EventCallback receives EVENT_TRACE structures
 * (MOF data, EVENT_TRACE_HEADER) and whose BufferCallback sees each buffer, then a second
 * session over the same file that asks ProcessTrace for a time window only. On Windows it builds
 * with the include lines below replaced by
 *     #include <windows.h>
 *     #include <stdio.h>
 *     #include <evntrace.h>
 * Usage: classic_consumer FILE.etl [SECOND.etl]. With a second file, both are also processed
 * by one ProcessTrace call over two handles (merged in time order). It checks its own work and
 * says so on the last line: the header event first, its payload (read as
 * TRACE_LOGFILE_HEADER32 or 64 by the producer's pointer size) agreeing with what OpenTrace
 * filled in, BuffersRead counting up by one per BufferCallback, events in time order, the
 * windowed pass delivering exactly the events of the first pass inside the window plus the
 * header buffer's events, which etwire always delivers (docs/api/lifetime.md), and the merged
 * pass delivering every event of both files in time order. */
#define UNICODE
#include <etwire/evntrace.h>
#include <stdio.h>
#include <stdlib.h>
#include "compat/win32_compat.h"

#define MAX_CPUS 256

typedef struct _PASS {
    ULONG Events;
    ULONG Buffers;
    ULONG BufferSequenceErrors; /* BuffersRead not counting up by one */
    ULONG OutOfOrder;           /* an event older than the one before */
    ULONG OrderFrom;            /* events before this one are not order-checked */
    ULONG HeaderFirst;
    ULONG HeaderClassEvents;    /* events of EventTraceGuid */
    ULONG EventsBeforeFirstBuffer; /* the header buffer's events: its BufferCallback comes first */
    ULONG HeaderPointerSize;    /* from the header event's MofData, read as the producer wrote it */
    ULONG HeaderBuffersWritten;
    LONGLONG HeaderStartTime;
    ULONGLONG MofBytes;
    LONGLONG LastTime;
    ULONG PerCpu[MAX_CPUS];
    LONGLONG *Times;            /* first pass: every timestamp, for the window check */
    ULONG Capacity;
} PASS;

static PASS g_Pass[4];
static PASS *g_Current;

static VOID WINAPI EventCallback(PEVENT_TRACE pEvent)
{
    PASS *p = g_Current;
    BOOL HeaderClass = IsEqualGUID(&pEvent->Header.Guid, &EventTraceGuid);

    if (p->Events == 0 && HeaderClass && pEvent->Header.Class.Type == EVENT_TRACE_TYPE_INFO &&
        pEvent->MofLength >= FIELD_OFFSET(TRACE_LOGFILE_HEADER, LoggerName)) {
        /* The payload is TRACE_LOGFILE_HEADER with the producer's pointer size, which may not
         * be this program's: read it as TRACE_LOGFILE_HEADER32 or 64. */
        TRACE_LOGFILE_HEADER64 h64;
        TRACE_LOGFILE_HEADER32 h32;
        p->HeaderFirst = 1;
        CopyMemory(&h32, pEvent->MofData, FIELD_OFFSET(TRACE_LOGFILE_HEADER32, LoggerName));
        p->HeaderPointerSize = h32.PointerSize;
        p->HeaderBuffersWritten = h32.BuffersWritten;
        if (h32.PointerSize == 4 && pEvent->MofLength >= sizeof(h32)) {
            CopyMemory(&h32, pEvent->MofData, sizeof(h32));
            p->HeaderStartTime = h32.StartTime.QuadPart;
        } else if (h32.PointerSize == 8 && pEvent->MofLength >= sizeof(h64)) {
            CopyMemory(&h64, pEvent->MofData, sizeof(h64));
            p->HeaderStartTime = h64.StartTime.QuadPart;
        }
    }
    if (p->Events > p->OrderFrom && pEvent->Header.TimeStamp.QuadPart < p->LastTime)
        p->OutOfOrder++;
    p->LastTime = pEvent->Header.TimeStamp.QuadPart;
    p->HeaderClassEvents += HeaderClass;
    p->MofBytes += pEvent->MofLength;
    p->PerCpu[pEvent->BufferContext.ProcessorNumber % MAX_CPUS]++;
    if (p->Times != NULL || p->Capacity == 0) {
        if (p->Events == p->Capacity) {
            ULONG NewCapacity = p->Capacity ? p->Capacity * 2 : 4096;
            LONGLONG *Times = (LONGLONG *)realloc(p->Times, NewCapacity * sizeof(LONGLONG));
            if (Times == NULL) {
                free(p->Times);
                p->Times = NULL;
                p->Capacity = 1; /* stop recording */
                p->Events++;
                return;
            }
            p->Times = Times;
            p->Capacity = NewCapacity;
        }
        p->Times[p->Events] = pEvent->Header.TimeStamp.QuadPart;
    }
    p->Events++;
}

static ULONG WINAPI BufferCallback(PEVENT_TRACE_LOGFILE pLogFile)
{
    PASS *p = g_Current;
    if (p->Buffers++ == 0)
        p->EventsBeforeFirstBuffer = p->Events;
    if (pLogFile->BuffersRead != p->Buffers)
        p->BufferSequenceErrors++;
    return TRUE;
}

static ULONG RunPass(LPWSTR FileName, PASS *p, LPFILETIME StartTime, LPFILETIME EndTime,
                     EVENT_TRACE_LOGFILE *pTrace)
{
    TRACEHANDLE hTrace;
    ULONG status;

    ZeroMemory(pTrace, sizeof(*pTrace));
    pTrace->LogFileName = FileName;
    pTrace->EventCallback = EventCallback;
    pTrace->BufferCallback = BufferCallback;
    g_Current = p;
    hTrace = OpenTrace(pTrace);
    if (hTrace == INVALID_PROCESSTRACE_HANDLE) {
        wprintf(L"OpenTrace failed with %lu\n", GetLastError());
        return GetLastError();
    }
    status = ProcessTrace(&hTrace, 1, StartTime, EndTime);
    CloseTrace(hTrace);
    return status;
}

static void PrintTime(LPCWSTR Label, LONGLONG Time)
{
    FILETIME ft;
    SYSTEMTIME st;
    ft.dwLowDateTime = (DWORD)Time;
    ft.dwHighDateTime = (DWORD)((ULONGLONG)Time >> 32);
    if (FileTimeToSystemTime(&ft, &st))
        wprintf(L"%s %04hu-%02hu-%02hu %02hu:%02hu:%02hu.%03hu UTC\n", Label, st.wYear, st.wMonth, st.wDay,
                st.wHour, st.wMinute, st.wSecond, st.wMilliseconds);
}

int wmain(int argc, WCHAR **argv)
{
    EVENT_TRACE_LOGFILE trace;
    ULONG status, status2, cpus = 0;

    if (argc != 2 && argc != 3) {
        wprintf(L"usage: classic_consumer FILE.etl [SECOND.etl]\n");
        return 2;
    }

    status = RunPass(argv[1], &g_Pass[0], NULL, NULL, &trace);
    if (status != ERROR_SUCCESS && g_Pass[0].Events == 0)
        return 1;
    wprintf(L"%s: logger %s, %lu processors, pointer size %lu, log file mode 0x%08lX, %lu events lost\n",
            argv[1], trace.LoggerName ? trace.LoggerName : TEXT("(none)"),
            trace.LogfileHeader.NumberOfProcessors, trace.LogfileHeader.PointerSize,
            trace.LogfileHeader.LogFileMode, trace.LogfileHeader.EventsLost);
    PrintTime(TEXT("  started"), trace.LogfileHeader.StartTime.QuadPart);
    PrintTime(TEXT("  ended  "), trace.LogfileHeader.EndTime.QuadPart);
    for (ULONG c = 0; c < MAX_CPUS; c++)
        cpus += g_Pass[0].PerCpu[c] != 0;
    wprintf(L"  %lu buffers, %I64u bytes of MOF data, events on %lu processors\n", g_Pass[0].Buffers,
            g_Pass[0].MofBytes, cpus);

    /* The second session: the middle half of the trace's time. */
    BOOL WindowOk = TRUE;
    ULONG InWindow = 0, HeaderOutside = 0;
    if (g_Pass[0].Times != NULL && g_Pass[0].Events > 1) {
        LONGLONG First = g_Pass[0].Times[0], Last = g_Pass[0].Times[g_Pass[0].Events - 1];
        LONGLONG From = First + (Last - First) / 4, To = Last - (Last - First) / 4;
        FILETIME Start, End;
        Start.dwLowDateTime = (DWORD)From;
        Start.dwHighDateTime = (DWORD)((ULONGLONG)From >> 32);
        End.dwLowDateTime = (DWORD)To;
        End.dwHighDateTime = (DWORD)((ULONGLONG)To >> 32);
        /* The header buffer's events come whatever the window. */
        for (ULONG i = 0; i < g_Pass[0].Events; i++) {
            if (g_Pass[0].Times[i] >= From && g_Pass[0].Times[i] <= To)
                InWindow++;
            else if (i < g_Pass[0].EventsBeforeFirstBuffer)
                HeaderOutside++;
        }
        g_Pass[1].Capacity = 1; /* no recording */
        status2 = RunPass(argv[1], &g_Pass[1], &Start, &End, &trace);
        WindowOk = status2 == ERROR_SUCCESS && g_Pass[1].Events == InWindow + HeaderOutside;
        wprintf(L"  window pass: %lu events (%lu inside the window in the first pass, %lu header events)\n",
                g_Pass[1].Events, InWindow, HeaderOutside);
    }

    /* With a second file: both handles in one ProcessTrace call, which merges them in time
     * order - every event of each, none twice. */
    BOOL MergeOk = TRUE;
    if (argc == 3) {
        EVENT_TRACE_LOGFILE second, both[2];
        TRACEHANDLE Handles[2];
        g_Pass[2].Capacity = 1;
        ULONG s2 = RunPass(argv[2], &g_Pass[2], NULL, NULL, &second);
        ZeroMemory(both, sizeof(both));
        g_Current = &g_Pass[3];
        g_Pass[3].Capacity = 1;
        /* The header buffers' events of both files come first (docs/api/lifetime.md); the
         * order is checked after them. */
        g_Pass[3].OrderFrom = g_Pass[0].EventsBeforeFirstBuffer + g_Pass[2].EventsBeforeFirstBuffer;
        for (int k = 0; k < 2; k++) {
            both[k].LogFileName = argv[1 + k];
            both[k].EventCallback = EventCallback;
            both[k].BufferCallback = BufferCallback;
            Handles[k] = OpenTrace(&both[k]);
        }
        ULONG s3 = Handles[0] != INVALID_PROCESSTRACE_HANDLE && Handles[1] != INVALID_PROCESSTRACE_HANDLE
                       ? ProcessTrace(Handles, 2, NULL, NULL)
                       : GetLastError();
        for (int k = 0; k < 2; k++)
            if (Handles[k] != INVALID_PROCESSTRACE_HANDLE)
                CloseTrace(Handles[k]);
        MergeOk = s2 == ERROR_SUCCESS && s3 == ERROR_SUCCESS &&
                  g_Pass[3].Events == g_Pass[0].Events + g_Pass[2].Events && g_Pass[3].OutOfOrder == 0;
        wprintf(L"  both files in one ProcessTrace: %lu events (%lu + %lu), %lu out of order\n", g_Pass[3].Events,
                g_Pass[0].Events, g_Pass[2].Events, g_Pass[3].OutOfOrder);
    }

    /* What OpenTrace filled in must be what the header event carries. */
    BOOL HeaderOk = g_Pass[0].HeaderPointerSize == trace.LogfileHeader.PointerSize &&
                    g_Pass[0].HeaderBuffersWritten == trace.LogfileHeader.BuffersWritten &&
                    g_Pass[0].HeaderStartTime == trace.LogfileHeader.StartTime.QuadPart;
    if (!HeaderOk)
        wprintf(L"  header event: pointer size %lu, %lu buffers, start %I64d; OpenTrace gave %lu, %lu, %I64d\n",
                g_Pass[0].HeaderPointerSize, g_Pass[0].HeaderBuffersWritten, g_Pass[0].HeaderStartTime,
                trace.LogfileHeader.PointerSize, trace.LogfileHeader.BuffersWritten,
                trace.LogfileHeader.StartTime.QuadPart);

    BOOL ok = HeaderOk && MergeOk && status == ERROR_SUCCESS && g_Pass[0].Events > 0 && g_Pass[0].HeaderFirst &&
              g_Pass[0].BufferSequenceErrors == 0 && g_Pass[0].OutOfOrder == 0 && g_Pass[0].Buffers > 0 &&
              WindowOk;
    wprintf(L"%lu events: header first %s, %lu buffer callbacks, %lu out of order, window pass %s: %s\n",
            g_Pass[0].Events, g_Pass[0].HeaderFirst ? TEXT("yes") : TEXT("no"), g_Pass[0].Buffers,
            g_Pass[0].OutOfOrder, WindowOk ? TEXT("ok") : TEXT("wrong"), ok ? TEXT("ok") : TEXT("FAILED"));
    free(g_Pass[0].Times);
    return ok ? 0 : 1;
}
