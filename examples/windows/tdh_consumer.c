/* Sample: consume events from a log file and decode them with TDH, written the way the Windows
 * SDK documentation teaches ("Using TdhFormatProperty to consume event data"): OpenTrace with an
 * EventRecordCallback, then for each event TdhGetEventInformation, and for each property
 * TdhGetEventMapInformation, TdhGetPropertySize / TdhGetProperty (for lengths and array counts
 * held in other properties) and TdhFormatProperty, walking the payload by what each call says
 * it consumed. On Windows it builds with the include lines below replaced by
 *     #include <windows.h>
 *     #include <stdio.h>
 *     #include <evntrace.h>
 *     #include <tdh.h>
 * Usage: tdh_consumer FILE.etl [EVENTS_TO_PRINT]. It checks its own work and says so on the
 * last line: every event was seen once, the header event came first, and every event whose
 * schema TDH returned had all of its properties formatted without error. */
#define UNICODE
#define _UNICODE
#include <etwire/evntrace.h>
#include <etwire/tdh.h>
#include <stdio.h>
#include <stdlib.h>
#include "compat/win32_compat.h"

static ULONG g_Events;         /* EventRecordCallback calls */
static ULONG g_HeaderEvents;   /* the log-file header event (EventTraceGuid, type INFO) */
static ULONG g_HeaderFirst;    /* ... and it came first */
static ULONG g_Decoded;        /* TdhGetEventInformation succeeded */
static ULONG g_NoSchema;       /* ERROR_NOT_FOUND: no schema for the event */
static ULONG g_StringOnly;     /* EVENT_HEADER_FLAG_STRING_ONLY events */
static ULONG g_Properties;     /* values formatted by TdhFormatProperty */
static ULONG g_ShortPayloads;  /* payload ended before the schema's last properties */
static ULONG g_Failures;       /* any other TDH error, or a payload that does not add up */
static ULONG g_ToPrint = 10;   /* events printed in full */
static PWCHAR g_Formatted;     /* TdhFormatProperty output, grown as needed */
static ULONG g_FormattedSize;

static DWORD PrintProperties(PEVENT_RECORD pEvent, PTRACE_EVENT_INFO pInfo, DWORD PointerSize,
                             USHORT i, LPWSTR pStructureName, USHORT StructIndex, PBYTE *ppUserData,
                             PBYTE pEndOfUserData, BOOL Print);

/* The value of the integer property `j` (a count or a length). Inside a structure the
 * property is a sibling member: it is addressed through the structure's element first. */
static DWORD GetIntegerProperty(PEVENT_RECORD pEvent, PTRACE_EVENT_INFO pInfo, USHORT j,
                                LPWSTR pStructureName, USHORT StructIndex, PDWORD Value)
{
    PROPERTY_DATA_DESCRIPTOR DataDescriptors[2];
    ULONG DescriptorCount = 0;
    DWORD PropertySize = 0, status;

    ZeroMemory(DataDescriptors, sizeof(DataDescriptors));
    if (pStructureName != NULL) {
        DataDescriptors[0].PropertyName = (ULONGLONG)(ULONG_PTR)pStructureName;
        DataDescriptors[0].ArrayIndex = StructIndex;
        DescriptorCount++;
    }
    DataDescriptors[DescriptorCount].PropertyName =
        (ULONGLONG)(ULONG_PTR)TEI_PROPERTY_NAME(pInfo, &pInfo->EventPropertyInfoArray[j]);
    DataDescriptors[DescriptorCount].ArrayIndex = ULONG_MAX;
    DescriptorCount++;
    *Value = 0;
    status = TdhGetPropertySize(pEvent, 0, NULL, DescriptorCount, DataDescriptors, &PropertySize);
    if (status != ERROR_SUCCESS)
        return status;
    if (PropertySize > sizeof(*Value))
        return ERROR_INVALID_DATA;
    return TdhGetProperty(pEvent, 0, NULL, DescriptorCount, DataDescriptors, PropertySize, (PBYTE)Value);
}

/* The count of an array property: fixed, or held in another property. */
static DWORD GetArraySize(PEVENT_RECORD pEvent, PTRACE_EVENT_INFO pInfo, USHORT i, LPWSTR pStructureName,
                          USHORT StructIndex, PUSHORT ArraySize)
{
    if ((pInfo->EventPropertyInfoArray[i].Flags & PropertyParamCount) == PropertyParamCount) {
        DWORD Count = 0;
        DWORD status = GetIntegerProperty(pEvent, pInfo, pInfo->EventPropertyInfoArray[i].countPropertyIndex,
                                          pStructureName, StructIndex, &Count);
        *ArraySize = (USHORT)Count;
        return status;
    }
    *ArraySize = pInfo->EventPropertyInfoArray[i].count;
    return ERROR_SUCCESS;
}

/* The map a property's values are shown through, if it names one. */
static DWORD GetMapInfo(PEVENT_RECORD pEvent, LPWSTR pMapName, DWORD DecodingSource, PEVENT_MAP_INFO *pMapInfo)
{
    DWORD status = ERROR_SUCCESS;
    DWORD MapSize = 0;

    *pMapInfo = NULL;
    status = TdhGetEventMapInformation(pEvent, pMapName, *pMapInfo, &MapSize);
    if (status == ERROR_INSUFFICIENT_BUFFER) {
        *pMapInfo = (PEVENT_MAP_INFO)malloc(MapSize);
        if (*pMapInfo == NULL)
            return ERROR_OUTOFMEMORY;
        status = TdhGetEventMapInformation(pEvent, pMapName, *pMapInfo, &MapSize);
    }
    if (status == ERROR_NOT_FOUND) /* a map the schema names but no one defined: show numbers */
        status = ERROR_SUCCESS;
    (void)DecodingSource;
    return status;
}

static DWORD PrintProperties(PEVENT_RECORD pEvent, PTRACE_EVENT_INFO pInfo, DWORD PointerSize,
                             USHORT i, LPWSTR pStructureName, USHORT StructIndex, PBYTE *ppUserData,
                             PBYTE pEndOfUserData, BOOL Print)
{
    DWORD status = ERROR_SUCCESS;
    USHORT PropertyLength = 0;
    USHORT ArraySize = 0;
    USHORT UserDataConsumed = 0;
    PEVENT_MAP_INFO pMapInfo = NULL;
    PEVENT_PROPERTY_INFO pProperty = &pInfo->EventPropertyInfoArray[i];

    status = GetArraySize(pEvent, pInfo, i, pStructureName, StructIndex, &ArraySize);
    if (status != ERROR_SUCCESS)
        return status;

    for (USHORT k = 0; k < ArraySize; k++) {
        if ((pProperty->Flags & PropertyStruct) == PropertyStruct) {
            USHORT LastMember = pProperty->structType.StructStartIndex + pProperty->structType.NumOfStructMembers;
            for (USHORT j = pProperty->structType.StructStartIndex; j < LastMember; j++) {
                status = PrintProperties(pEvent, pInfo, PointerSize, j, TEI_PROPERTY_NAME(pInfo, pProperty), k,
                                         ppUserData, pEndOfUserData, Print);
                if (status != ERROR_SUCCESS)
                    return status;
            }
            continue;
        }

        /* The length: fixed in the schema, or held in another property. */
        if ((pProperty->Flags & PropertyParamLength) == PropertyParamLength) {
            DWORD Length = 0;
            status = GetIntegerProperty(pEvent, pInfo, pProperty->lengthPropertyIndex, pStructureName,
                                        StructIndex, &Length);
            if (status != ERROR_SUCCESS)
                return status;
            PropertyLength = (USHORT)Length;
        } else {
            PropertyLength = pProperty->length;
        }

        if (pProperty->nonStructType.MapNameOffset != 0) {
            status = GetMapInfo(pEvent, TEI_MAP_NAME(pInfo, pProperty), pInfo->DecodingSource, &pMapInfo);
            if (status != ERROR_SUCCESS)
                return status;
        }

        for (;;) {
            ULONG FormattedSize = g_FormattedSize;
            status = TdhFormatProperty(pInfo, pMapInfo, PointerSize, pProperty->nonStructType.InType,
                                       pProperty->nonStructType.OutType, PropertyLength,
                                       (USHORT)(pEndOfUserData - *ppUserData), *ppUserData,
                                       &FormattedSize, g_Formatted, &UserDataConsumed);
            if (status == ERROR_INSUFFICIENT_BUFFER) {
                PWCHAR Bigger = (PWCHAR)realloc(g_Formatted, FormattedSize);
                if (Bigger == NULL) {
                    status = ERROR_OUTOFMEMORY;
                    break;
                }
                g_Formatted = Bigger;
                g_FormattedSize = FormattedSize;
                continue;
            }
            if (status == ERROR_EVT_INVALID_EVENT_DATA && pMapInfo != NULL) {
                /* A value the map has no name for: format the number itself. */
                free(pMapInfo);
                pMapInfo = NULL;
                continue;
            }
            break;
        }
        free(pMapInfo);
        pMapInfo = NULL;
        if (status != ERROR_SUCCESS)
            return status;
        if (Print) {
            if (pStructureName != NULL)
                wprintf(L"    %s[%hu].%s: %s\n", pStructureName, StructIndex, TEI_PROPERTY_NAME(pInfo, pProperty), g_Formatted);
            else if (ArraySize > 1 || (pProperty->Flags & (PropertyParamCount | PropertyParamFixedCount)))
                wprintf(L"    %s[%hu]: %s\n", TEI_PROPERTY_NAME(pInfo, pProperty), k, g_Formatted);
            else
                wprintf(L"    %s: %s\n", TEI_PROPERTY_NAME(pInfo, pProperty), g_Formatted);
        }
        g_Properties++;
        *ppUserData += UserDataConsumed;
    }
    return ERROR_SUCCESS;
}

static VOID WINAPI ProcessEvent(PEVENT_RECORD pEvent)
{
    DWORD status = ERROR_SUCCESS;
    PTRACE_EVENT_INFO pInfo = NULL;
    DWORD BufferSize = 0;
    BOOL Print = g_Events < g_ToPrint;

    g_Events++;
    /* The first event of a file is the log-file header event (classic, EventTraceGuid). */
    if (IsEqualGUID(&pEvent->EventHeader.ProviderId, &EventTraceGuid) &&
        pEvent->EventHeader.EventDescriptor.Opcode == EVENT_TRACE_TYPE_INFO) {
        g_HeaderEvents++;
        if (g_Events == 1)
            g_HeaderFirst = 1;
    }

    if (pEvent->EventHeader.Flags & EVENT_HEADER_FLAG_STRING_ONLY) {
        g_StringOnly++;
        if (Print)
            wprintf(L"event %lu: string: %.*s\n", g_Events, (int)(pEvent->UserDataLength / sizeof(WCHAR)),
                    (PWCHAR)pEvent->UserData);
        return;
    }

    status = TdhGetEventInformation(pEvent, 0, NULL, pInfo, &BufferSize);
    if (status == ERROR_INSUFFICIENT_BUFFER) {
        pInfo = (PTRACE_EVENT_INFO)malloc(BufferSize);
        if (pInfo == NULL) {
            g_Failures++;
            return;
        }
        status = TdhGetEventInformation(pEvent, 0, NULL, pInfo, &BufferSize);
    }
    if (status == ERROR_NOT_FOUND) {
        g_NoSchema++;
        if (Print)
            wprintf(L"event %lu: no schema (provider %08lX, id %hu, opcode %u)\n", g_Events,
                    pEvent->EventHeader.ProviderId.Data1, pEvent->EventHeader.EventDescriptor.Id,
                    pEvent->EventHeader.EventDescriptor.Opcode);
        free(pInfo);
        return;
    }
    if (status != ERROR_SUCCESS) {
        fwprintf(stderr, L"event %lu: TdhGetEventInformation failed with %lu\n", g_Events, status);
        g_Failures++;
        free(pInfo);
        return;
    }
    g_Decoded++;
    if (DecodingSourceWPP == pInfo->DecodingSource) { /* WPP events need TMF files: not here */
        free(pInfo);
        return;
    }

    if (Print) {
        wprintf(L"event %lu: %s", g_Events, TEI_PROVIDER_NAME(pInfo) ? TEI_PROVIDER_NAME(pInfo) : TEXT("?"));
        if (TEI_TASK_NAME(pInfo))
            wprintf(L"/%s", TEI_TASK_NAME(pInfo));
        if (TEI_OPCODE_NAME(pInfo))
            wprintf(L"/%s", TEI_OPCODE_NAME(pInfo));
        wprintf(L" (id %hu, version %u, level %u, pid %lu, tid %lu, %hu payload bytes)\n",
                pInfo->EventDescriptor.Id, pInfo->EventDescriptor.Version, pInfo->EventDescriptor.Level,
                pEvent->EventHeader.ProcessId, pEvent->EventHeader.ThreadId, pEvent->UserDataLength);
    }

    DWORD PointerSize = (pEvent->EventHeader.Flags & EVENT_HEADER_FLAG_32_BIT_HEADER) ? 4 : 8;
    PBYTE pUserData = (PBYTE)pEvent->UserData;
    PBYTE pEndOfUserData = (PBYTE)pEvent->UserData + pEvent->UserDataLength;
    for (USHORT i = 0; i < pInfo->TopLevelPropertyCount; i++) {
        /* Classic (MOF) classes may declare more than a given event carries (StackWalk lists
         * 192 frames): the payload ends first. */
        if (pUserData == pEndOfUserData && i > 0) {
            g_ShortPayloads++;
            break;
        }
        status = PrintProperties(pEvent, pInfo, PointerSize, i, NULL, 0, &pUserData, pEndOfUserData, Print);
        if (status != ERROR_SUCCESS) {
            fwprintf(stderr, L"event %lu (%s): property %hu: error %lu\n", g_Events,
                                   TEI_PROVIDER_NAME(pInfo) ? TEI_PROVIDER_NAME(pInfo) : TEXT("?"), i, status);
            g_Failures++;
            break;
        }
    }
    if (pUserData > pEndOfUserData) {
        fwprintf(stderr, L"event %lu: properties consumed more than the payload\n", g_Events);
        g_Failures++;
    }
    free(pInfo);
}

int wmain(int argc, WCHAR **argv)
{
    EVENT_TRACE_LOGFILE trace;
    TRACEHANDLE hTrace = 0;
    ULONG status = ERROR_SUCCESS;

    if (argc < 2) {
        wprintf(L"usage: tdh_consumer FILE.etl [EVENTS_TO_PRINT]\n");
        return 2;
    }
    if (argc > 2)
        g_ToPrint = (ULONG)_wtoi(argv[2]);

    ZeroMemory(&trace, sizeof(EVENT_TRACE_LOGFILE));
    trace.LogFileName = argv[1];
    trace.EventRecordCallback = (PEVENT_RECORD_CALLBACK)(ProcessEvent);
    trace.ProcessTraceMode = PROCESS_TRACE_MODE_EVENT_RECORD;

    hTrace = OpenTrace(&trace);
    if (INVALID_PROCESSTRACE_HANDLE == hTrace) {
        wprintf(L"OpenTrace failed with %lu\n", GetLastError());
        return 1;
    }
    wprintf(L"%s: %lu processors, pointer size %lu, %lu buffers written, %lu events lost\n", argv[1],
            trace.LogfileHeader.NumberOfProcessors, trace.LogfileHeader.PointerSize,
            trace.LogfileHeader.BuffersWritten, trace.LogfileHeader.EventsLost);

    status = ProcessTrace(&hTrace, 1, 0, 0);
    if (status != ERROR_SUCCESS && status != ERROR_CANCELLED)
        wprintf(L"ProcessTrace failed with %lu\n", status);
    CloseTrace(hTrace);
    free(g_Formatted);

    BOOL ok = status == ERROR_SUCCESS && g_Events > 0 && g_HeaderEvents == 1 && g_HeaderFirst &&
              g_Failures == 0 && (g_Decoded == 0 || g_Properties > 0) &&
              g_Decoded + g_NoSchema + g_StringOnly == g_Events;
    wprintf(L"%lu events: %lu decoded with TDH (%lu property values formatted, %lu payloads shorter than "
            L"their class), %lu without a schema, %lu string-only, %lu failures: %s\n",
            g_Events, g_Decoded, g_Properties, g_ShortPayloads, g_NoSchema, g_StringOnly, g_Failures,
            ok ? TEXT("ok") : TEXT("FAILED"));
    return ok ? 0 : 1;
}
