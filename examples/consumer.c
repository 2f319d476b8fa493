/* A consumer written the Windows way — OpenTrace with EVENT_TRACE_LOGFILE, ProcessTrace,
 * CloseTrace, an EventRecordCallback and a BufferCallback — that builds unchanged against the
 * Windows SDK or against etwire. Prints one line per event and the totals. */
#ifdef _WIN32
#include <windows.h>
#include <evntcons.h>
#include <evntrace.h>
#else
#include <etwire/etwire.h>
#endif
#include <stdio.h>

static ULONG events, buffers;

static VOID WINAPI on_event(PEVENT_RECORD ev)
{
    events++;
    if (events <= 5)
        printf("event: pid %lu tid %lu opcode %u, %u payload bytes\n",
               (unsigned long)ev->EventHeader.ProcessId, (unsigned long)ev->EventHeader.ThreadId,
               ev->EventHeader.EventDescriptor.Opcode, ev->UserDataLength);
}

static ULONG WINAPI on_buffer(PEVENT_TRACE_LOGFILEA logfile)
{
    buffers = logfile->BuffersRead;
    return TRUE;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: consumer FILE.etl\n");
        return 2;
    }
    EVENT_TRACE_LOGFILEA logfile = {0};
    logfile.LogFileName = argv[1];
    logfile.ProcessTraceMode = PROCESS_TRACE_MODE_EVENT_RECORD;
    logfile.EventRecordCallback = on_event;
    logfile.BufferCallback = on_buffer;
    PROCESSTRACE_HANDLE h = OpenTraceA(&logfile);
    if (h == INVALID_PROCESSTRACE_HANDLE) {
        fprintf(stderr, "OpenTrace failed: %lu\n", (unsigned long)GetLastError());
        return 1;
    }
    printf("%lu processors, pointer size %lu\n", (unsigned long)logfile.LogfileHeader.NumberOfProcessors,
           (unsigned long)logfile.LogfileHeader.PointerSize);
    ULONG rc = ProcessTrace(&h, 1, NULL, NULL);
    CloseTrace(h);
    printf("%lu events in %lu buffers, ProcessTrace returned %lu\n", (unsigned long)events,
           (unsigned long)buffers, (unsigned long)rc);
    return rc == ERROR_SUCCESS ? 0 : 1;
}
