/* The smallest Windows-API consumer a user would write: OpenTraceFromFile, ProcessTrace with
 * an empty EventCallback, CloseTrace, exit. bench_process runs it as a whole process (start-up,
 * dynamic loading of libetwire included) and compares it with `cat FILE > /dev/null`.
 * usage: min_consumer [--buffers] FILE.etl; exit status 0 when ProcessTrace succeeded.
 * --buffers adds an empty BufferCallback, as a consumer that also shows progress or forwards
 * buffers has: the library then keeps buffers until their callbacks in flush order (the
 * memory bench_process reports as "cb RSS"). */
#include <stdio.h>
#include <string.h>

#include <etwire/etwire.h>

static VOID WINAPI on_event(PEVENT_RECORD er)
{
    (void)er;
}

static BOOL WINAPI on_buffer(const ETW_BUFFER_HEADER *b, ULONG size,
                             const ETW_BUFFER_CALLBACK_INFORMATION *info, void *ctx)
{
    (void)b, (void)size, (void)info, (void)ctx;
    return TRUE;
}

int main(int argc, char **argv)
{
    int buffers = argc == 3 && !strcmp(argv[1], "--buffers");
    if (argc != 2 + buffers) {
        fprintf(stderr, "usage: min_consumer [--buffers] FILE.etl\n");
        return 2;
    }
    const char *file = argv[1 + buffers];
    /* The file name as the UTF-16 string the Windows API takes (ASCII paths here). */
    WCHAR path[4096];
    size_t n = strlen(file);
    if (n >= sizeof path / sizeof path[0])
        return 2;
    for (size_t i = 0; i <= n; i++)
        path[i] = (WCHAR)(unsigned char)file[i];
    ETW_OPEN_TRACE_OPTIONS options;
    memset(&options, 0, sizeof options);
    options.EventCallback = on_event;
    if (buffers)
        options.BufferCallback = on_buffer;
    PROCESSTRACE_HANDLE h = OpenTraceFromFile(path, &options, NULL);
    if (h == INVALID_PROCESSTRACE_HANDLE)
        return 1;
    ULONG rc = ProcessTrace(&h, 1, NULL, NULL);
    CloseTrace(h);
    return rc == ERROR_SUCCESS || rc == ERROR_FILE_CORRUPT ? 0 : 1;
}
