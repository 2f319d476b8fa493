/* Sample: list the providers TDH can decode, as the Windows SDK documentation's "enumerating
 * providers" sample does - TdhEnumerateProviders, growing the buffer on
 * ERROR_INSUFFICIENT_BUFFER, then each TRACE_PROVIDER_INFO's GUID, name and schema source. With
 * a trace given, its events are read first with TdhGetEventInformation on each; the provider of
 * each decoded event (other than string-only ones, whose schema any provider has) must be
 * listed by a TdhEnumerateProviders call made in the event callback - where etwire also lists
 * what the trace itself teaches (embedded schemas, TraceLogging providers:
 * docs/api/tdh-providers.md). On Windows it builds with the include lines below replaced by
 *     #include <windows.h>
 *     #include <stdio.h>
 *     #include <evntrace.h>
 *     #include <tdh.h>
 * Usage: enum_providers [FILE.etl]. Last line: "N providers: ...: ok" when every provider has a
 * name, no GUID is listed twice and every decoded event's provider was listed. */
#define UNICODE
#include <etwire/evntrace.h>
#include <etwire/tdh.h>
#include <stdio.h>
#include <stdlib.h>
#include "compat/win32_compat.h"

#define MAX_SEEN 4096

static GUID g_Decoded[MAX_SEEN]; /* providers of the events TDH decoded */
static ULONG g_DecodedCount, g_Events, g_Missing;

/* TdhEnumerateProviders into a buffer grown as it asks; NULL on failure (printed). */
static PROVIDER_ENUMERATION_INFO *EnumerateProviders(void)
{
    PROVIDER_ENUMERATION_INFO *penum = NULL, *ptemp = NULL;
    DWORD BufferSize = 0;
    TDHSTATUS status = TdhEnumerateProviders(penum, &BufferSize);
    while (status == ERROR_INSUFFICIENT_BUFFER) {
        ptemp = (PROVIDER_ENUMERATION_INFO *)realloc(penum, BufferSize);
        if (ptemp == NULL) {
            wprintf(L"Allocation failed (size=%lu).\n", BufferSize);
            free(penum);
            return NULL;
        }
        penum = ptemp;
        ptemp = NULL;
        status = TdhEnumerateProviders(penum, &BufferSize);
    }
    if (status != ERROR_SUCCESS) {
        wprintf(L"TdhEnumerateProviders failed with %lu.\n", status);
        free(penum);
        return NULL;
    }
    return penum;
}

static BOOL Listed(const PROVIDER_ENUMERATION_INFO *penum, const GUID *Provider)
{
    for (ULONG i = 0; i < penum->NumberOfProviders; i++)
        if (IsEqualGUID(&penum->TraceProviderInfoArray[i].ProviderGuid, Provider))
            return TRUE;
    return FALSE;
}

static VOID WINAPI ProcessEvent(PEVENT_RECORD pEvent)
{
    ULONG Size = 0;
    g_Events++;
    if (TdhGetEventInformation(pEvent, 0, NULL, NULL, &Size) != ERROR_INSUFFICIENT_BUFFER)
        return; /* no schema */
    if (pEvent->EventHeader.Flags & EVENT_HEADER_FLAG_STRING_ONLY)
        return;
    for (ULONG i = 0; i < g_DecodedCount; i++)
        if (IsEqualGUID(&g_Decoded[i], &pEvent->EventHeader.ProviderId))
            return;
    if (g_DecodedCount < MAX_SEEN)
        g_Decoded[g_DecodedCount++] = pEvent->EventHeader.ProviderId;
    /* A provider decoded for the first time: it is listed now, while its trace is processed. */
    PROVIDER_ENUMERATION_INFO *penum = EnumerateProviders();
    if (penum == NULL || !Listed(penum, &pEvent->EventHeader.ProviderId)) {
        g_Missing++;
        wprintf(L"decoded but not listed: {%08lX-%04hX-%04hX-...}\n", pEvent->EventHeader.ProviderId.Data1,
                pEvent->EventHeader.ProviderId.Data2, pEvent->EventHeader.ProviderId.Data3);
    }
    free(penum);
}

int wmain(int argc, WCHAR **argv)
{
    PROVIDER_ENUMERATION_INFO *penum = NULL;
    TDHSTATUS status = ERROR_SUCCESS;

    if (argc > 1) {
        EVENT_TRACE_LOGFILE trace;
        ZeroMemory(&trace, sizeof(trace));
        trace.LogFileName = argv[1];
        trace.ProcessTraceMode = PROCESS_TRACE_MODE_EVENT_RECORD;
        trace.EventRecordCallback = ProcessEvent;
        TRACEHANDLE h = OpenTrace(&trace);
        if (h == INVALID_PROCESSTRACE_HANDLE) {
            wprintf(L"OpenTrace failed with %lu\n", GetLastError());
            return 1;
        }
        status = ProcessTrace(&h, 1, NULL, NULL);
        CloseTrace(h);
        if (status != ERROR_SUCCESS) {
            wprintf(L"ProcessTrace failed with %lu\n", status);
            return 1;
        }
    }

    penum = EnumerateProviders();
    if (penum == NULL)
        return 1;

    ULONG Unnamed = 0, Duplicates = 0, Missing = g_Missing;
    for (ULONG i = 0; i < penum->NumberOfProviders; i++) {
        TRACE_PROVIDER_INFO *p = &penum->TraceProviderInfoArray[i];
        LPWSTR Name = p->ProviderNameOffset ? (LPWSTR)((PBYTE)penum + p->ProviderNameOffset) : NULL;
        if (Name == NULL || Name[0] == 0)
            Unnamed++;
        for (ULONG j = 0; j < i; j++)
            if (IsEqualGUID(&penum->TraceProviderInfoArray[j].ProviderGuid, &p->ProviderGuid))
                Duplicates++;
        if (i < 20)
            wprintf(L"{%08lX-%04hX-%04hX-%02X%02X-%02X%02X%02X%02X%02X%02X}  %s (%s)\n", p->ProviderGuid.Data1,
                    p->ProviderGuid.Data2, p->ProviderGuid.Data3, p->ProviderGuid.Data4[0],
                    p->ProviderGuid.Data4[1], p->ProviderGuid.Data4[2], p->ProviderGuid.Data4[3],
                    p->ProviderGuid.Data4[4], p->ProviderGuid.Data4[5], p->ProviderGuid.Data4[6],
                    p->ProviderGuid.Data4[7], Name ? Name : TEXT("?"),
                    p->SchemaSource == 0   ? TEXT("XML manifest")
                    : p->SchemaSource == 1 ? TEXT("WMI MOF class")
                                           : TEXT("TraceLogging"));
    }
    BOOL ok = penum->NumberOfProviders > 0 && Unnamed == 0 && Duplicates == 0 && Missing == 0;
    wprintf(L"%lu providers: %lu unnamed, %lu listed twice; %lu events read, %lu providers decoded, %lu of them "
            L"not listed: %s\n",
            penum->NumberOfProviders, Unnamed, Duplicates, g_Events, g_DecodedCount, Missing,
            ok ? TEXT("ok") : TEXT("FAILED"));
    free(penum);
    return ok ? 0 : 1;
}
