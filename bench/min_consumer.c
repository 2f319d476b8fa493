/* The smallest Windows-API consumer a user would write: OpenTraceFromFile, ProcessTrace with
 * an empty EventCallback, CloseTrace, exit. bench_process runs it as a whole process (start-up,
 * dynamic loading of libetwire included) and compares it with `cat FILE > /dev/null`.
 * usage: min_consumer FILE.etl; exit status 0 when ProcessTrace succeeded. */
#include <stdio.h>
#include <string.h>

#include <etwire/etwire.h>

static VOID WINAPI on_event(PEVENT_RECORD er)
{
    (void)er;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: min_consumer FILE.etl\n");
        return 2;
    }
    /* The file name as the UTF-16 string the Windows API takes (ASCII paths here). */
    WCHAR path[4096];
    size_t n = strlen(argv[1]);
    if (n >= sizeof path / sizeof path[0])
        return 2;
    for (size_t i = 0; i <= n; i++)
        path[i] = (WCHAR)(unsigned char)argv[1][i];
    ETW_OPEN_TRACE_OPTIONS options;
    memset(&options, 0, sizeof options);
    options.EventCallback = on_event;
    PROCESSTRACE_HANDLE h = OpenTraceFromFile(path, &options, NULL);
    if (h == INVALID_PROCESSTRACE_HANDLE)
        return 1;
    ULONG rc = ProcessTrace(&h, 1, NULL, NULL);
    CloseTrace(h);
    return rc == ERROR_SUCCESS || rc == ERROR_FILE_CORRUPT ? 0 : 1;
}
