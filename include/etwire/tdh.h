/* Trace Data Helper (tdh.h) with the Windows SDK's names, values and layouts: what a consumer
 * uses to turn an EVENT_RECORD's payload into named, typed properties. Strings inside the
 * returned TRACE_EVENT_INFO / EVENT_MAP_INFO / PROVIDER_ENUMERATION_INFO blobs are UTF-16
 * (WCHAR = uint16_t, host order) at byte offsets from the start of the blob, as on Windows.
 * Where schemas come from and how values are rendered: docs/decoding.md. */
#ifndef ETWIRE_TDH_H
#define ETWIRE_TDH_H

#include <etwire/evntrace.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef ANYSIZE_ARRAY
#define ANYSIZE_ARRAY 1
#endif

/* Win32 codes TDH returns beyond those of wintypes.h. */
#ifndef ERROR_RESOURCE_TYPE_NOT_FOUND
#define ERROR_RESOURCE_TYPE_NOT_FOUND 1813u
#endif
#ifndef ERROR_WMI_SERVER_UNAVAILABLE
#define ERROR_WMI_SERVER_UNAVAILABLE 4208u
#endif
#ifndef ERROR_EVT_MESSAGE_NOT_FOUND
#define ERROR_EVT_MESSAGE_NOT_FOUND 15027u
#endif
#ifndef ERROR_MUI_FILE_NOT_FOUND
#define ERROR_MUI_FILE_NOT_FOUND 15100u
#endif
#ifndef ERROR_XML_PARSE_ERROR
#define ERROR_XML_PARSE_ERROR 1465u
#endif

typedef enum _TDH_IN_TYPE {
    TDH_INTYPE_NULL = 0,
    TDH_INTYPE_UNICODESTRING = 1,
    TDH_INTYPE_ANSISTRING = 2,
    TDH_INTYPE_INT8 = 3,
    TDH_INTYPE_UINT8 = 4,
    TDH_INTYPE_INT16 = 5,
    TDH_INTYPE_UINT16 = 6,
    TDH_INTYPE_INT32 = 7,
    TDH_INTYPE_UINT32 = 8,
    TDH_INTYPE_INT64 = 9,
    TDH_INTYPE_UINT64 = 10,
    TDH_INTYPE_FLOAT = 11,
    TDH_INTYPE_DOUBLE = 12,
    TDH_INTYPE_BOOLEAN = 13, /* 4 bytes */
    TDH_INTYPE_BINARY = 14,
    TDH_INTYPE_GUID = 15,
    TDH_INTYPE_POINTER = 16, /* the event's pointer size */
    TDH_INTYPE_FILETIME = 17,
    TDH_INTYPE_SYSTEMTIME = 18,
    TDH_INTYPE_SID = 19,
    TDH_INTYPE_HEXINT32 = 20,
    TDH_INTYPE_HEXINT64 = 21,
    TDH_INTYPE_MANIFEST_COUNTEDSTRING = 22,
    TDH_INTYPE_MANIFEST_COUNTEDANSISTRING = 23,
    TDH_INTYPE_RESERVED24 = 24,
    TDH_INTYPE_MANIFEST_COUNTEDBINARY = 25,
    TDH_INTYPE_COUNTEDSTRING = 300,
    TDH_INTYPE_COUNTEDANSISTRING = 301,
    TDH_INTYPE_REVERSEDCOUNTEDSTRING = 302,
    TDH_INTYPE_REVERSEDCOUNTEDANSISTRING = 303,
    TDH_INTYPE_NONNULLTERMINATEDSTRING = 304,
    TDH_INTYPE_NONNULLTERMINATEDANSISTRING = 305,
    TDH_INTYPE_UNICODECHAR = 306,
    TDH_INTYPE_ANSICHAR = 307,
    TDH_INTYPE_SIZET = 308,
    TDH_INTYPE_HEXDUMP = 309,
    TDH_INTYPE_WBEMSID = 310 /* TOKEN_USER (2 pointers) then a SID */
} TDH_IN_TYPE;

typedef enum _TDH_OUT_TYPE {
    TDH_OUTTYPE_NULL = 0,
    TDH_OUTTYPE_STRING = 1,
    TDH_OUTTYPE_DATETIME = 2,
    TDH_OUTTYPE_BYTE = 3,
    TDH_OUTTYPE_UNSIGNEDBYTE = 4,
    TDH_OUTTYPE_SHORT = 5,
    TDH_OUTTYPE_UNSIGNEDSHORT = 6,
    TDH_OUTTYPE_INT = 7,
    TDH_OUTTYPE_UNSIGNEDINT = 8,
    TDH_OUTTYPE_LONG = 9,
    TDH_OUTTYPE_UNSIGNEDLONG = 10,
    TDH_OUTTYPE_FLOAT = 11,
    TDH_OUTTYPE_DOUBLE = 12,
    TDH_OUTTYPE_BOOLEAN = 13,
    TDH_OUTTYPE_GUID = 14,
    TDH_OUTTYPE_HEXBINARY = 15,
    TDH_OUTTYPE_HEXINT8 = 16,
    TDH_OUTTYPE_HEXINT16 = 17,
    TDH_OUTTYPE_HEXINT32 = 18,
    TDH_OUTTYPE_HEXINT64 = 19,
    TDH_OUTTYPE_PID = 20,
    TDH_OUTTYPE_TID = 21,
    TDH_OUTTYPE_PORT = 22, /* UINT16 in network byte order */
    TDH_OUTTYPE_IPV4 = 23,
    TDH_OUTTYPE_IPV6 = 24,
    TDH_OUTTYPE_SOCKETADDRESS = 25,
    TDH_OUTTYPE_CIMDATETIME = 26,
    TDH_OUTTYPE_ETWTIME = 27,
    TDH_OUTTYPE_XML = 28,
    TDH_OUTTYPE_ERRORCODE = 29,
    TDH_OUTTYPE_WIN32ERROR = 30,
    TDH_OUTTYPE_NTSTATUS = 31,
    TDH_OUTTYPE_HRESULT = 32,
    TDH_OUTTYPE_CULTURE_INSENSITIVE_DATETIME = 33,
    TDH_OUTTYPE_JSON = 34,
    TDH_OUTTYPE_UTF8 = 35,
    TDH_OUTTYPE_PKCS7_WITH_TYPE_INFO = 36,
    TDH_OUTTYPE_CODE_POINTER = 37,
    TDH_OUTTYPE_DATETIME_UTC = 38,
    TDH_OUTTYPE_REDUCEDSTRING = 300,
    TDH_OUTTYPE_NOPRINT = 301
} TDH_OUT_TYPE;

typedef enum _DECODING_SOURCE {
    DecodingSourceXMLFile = 0,
    DecodingSourceWbem = 1,
    DecodingSourceWPP = 2,
    DecodingSourceTlg = 3,
    DecodingSourceMax = 4
} DECODING_SOURCE;

typedef enum _TEMPLATE_FLAGS {
    TEMPLATE_EVENT_DATA = 1,
    TEMPLATE_USER_DATA = 2,
    TEMPLATE_CONTROL_GUID = 4
} TEMPLATE_FLAGS;

typedef enum _PROPERTY_FLAGS {
    PropertyStruct = 0x1,
    PropertyParamLength = 0x2,
    PropertyParamCount = 0x4,
    PropertyWBEMXmlFragment = 0x8,
    PropertyParamFixedLength = 0x10,
    PropertyParamFixedCount = 0x20,
    PropertyHasTags = 0x40,
    PropertyHasCustomSchema = 0x80
} PROPERTY_FLAGS;

typedef enum _MAP_FLAGS {
    EVENTMAP_INFO_FLAG_MANIFEST_VALUEMAP = 0x1,
    EVENTMAP_INFO_FLAG_MANIFEST_BITMAP = 0x2,
    EVENTMAP_INFO_FLAG_MANIFEST_PATTERNMAP = 0x4,
    EVENTMAP_INFO_FLAG_WBEM_VALUEMAP = 0x8,
    EVENTMAP_INFO_FLAG_WBEM_BITMAP = 0x10,
    EVENTMAP_INFO_FLAG_WBEM_FLAG = 0x20,
    EVENTMAP_INFO_FLAG_WBEM_NO_MAP = 0x40
} MAP_FLAGS;

typedef enum _MAP_VALUETYPE {
    EVENTMAP_ENTRY_VALUETYPE_ULONG = 0,
    EVENTMAP_ENTRY_VALUETYPE_STRING = 1
} MAP_VALUETYPE;

typedef enum _TDH_CONTEXT_TYPE {
    TDH_CONTEXT_WPP_TMFFILE = 0,
    TDH_CONTEXT_WPP_TMFSEARCHPATH = 1,
    TDH_CONTEXT_WPP_GMT = 2,
    TDH_CONTEXT_POINTERSIZE = 3, /* ParameterValue 4 or 8, when the header gives no size */
    TDH_CONTEXT_PDB_PATH = 4,
    TDH_CONTEXT_MAXIMUM = 5
} TDH_CONTEXT_TYPE;

typedef struct _TDH_CONTEXT {
    ULONGLONG ParameterValue;
    TDH_CONTEXT_TYPE ParameterType;
    ULONG ParameterSize;
} TDH_CONTEXT, *PTDH_CONTEXT;

/* 24 bytes. For struct properties the InType/OutType slots hold the member range. */
typedef struct _EVENT_PROPERTY_INFO {
    PROPERTY_FLAGS Flags;
    ULONG NameOffset;
    union {
        struct {
            USHORT InType;
            USHORT OutType;
            ULONG MapNameOffset;
        } nonStructType;
        struct {
            USHORT StructStartIndex;
            USHORT NumOfStructMembers;
            ULONG padding;
        } structType;
        struct {
            USHORT InType;
            USHORT OutType;
            ULONG CustomSchemaOffset;
        } customSchemaType;
    };
    union {
        USHORT count;
        USHORT countPropertyIndex;
    };
    union {
        USHORT length;
        USHORT lengthPropertyIndex;
    };
    union {
        ULONG Reserved;
        struct {
            ULONG Tags : 28;
        };
    };
} EVENT_PROPERTY_INFO, *PEVENT_PROPERTY_INFO;

/* 112-byte header followed by PropertyCount EVENT_PROPERTY_INFO. Offsets are from the start
 * of this structure; 0 means absent. */
typedef struct _TRACE_EVENT_INFO {
    GUID ProviderGuid;
    GUID EventGuid;
    EVENT_DESCRIPTOR EventDescriptor;
    DECODING_SOURCE DecodingSource;
    ULONG ProviderNameOffset;
    ULONG LevelNameOffset;
    ULONG ChannelNameOffset;
    ULONG KeywordsNameOffset;
    ULONG TaskNameOffset;
    ULONG OpcodeNameOffset;
    ULONG EventMessageOffset;
    ULONG ProviderMessageOffset;
    ULONG BinaryXMLOffset;
    ULONG BinaryXMLSize;
    union {
        ULONG EventNameOffset;
        ULONG ActivityIDNameOffset;
    };
    union {
        ULONG EventAttributesOffset;
        ULONG RelatedActivityIDNameOffset;
    };
    ULONG PropertyCount;
    ULONG TopLevelPropertyCount;
    union {
        TEMPLATE_FLAGS Flags;
        struct {
            ULONG Reserved : 4;
            ULONG Tags : 28;
        };
    };
    EVENT_PROPERTY_INFO EventPropertyInfoArray[ANYSIZE_ARRAY];
} TRACE_EVENT_INFO, *PTRACE_EVENT_INFO;

typedef struct _EVENT_MAP_ENTRY {
    ULONG OutputOffset;
    union {
        ULONG Value;
        ULONG InputOffset; /* pattern maps */
    };
} EVENT_MAP_ENTRY, *PEVENT_MAP_ENTRY;

/* 16-byte header then EntryCount entries; offsets from the start of this structure. */
typedef struct _EVENT_MAP_INFO {
    ULONG NameOffset;
    MAP_FLAGS Flag;
    ULONG EntryCount;
    union {
        MAP_VALUETYPE MapEntryValueType;
        ULONG FormatStringOffset;
    };
    EVENT_MAP_ENTRY MapEntryArray[ANYSIZE_ARRAY];
} EVENT_MAP_INFO, *PEVENT_MAP_INFO;

/* PropertyName is a pointer (as an integer) to a NUL-terminated WCHAR name. ArrayIndex
 * ULONG_MAX selects the whole property. */
typedef struct _PROPERTY_DATA_DESCRIPTOR {
    ULONGLONG PropertyName;
    ULONG ArrayIndex;
    ULONG Reserved;
} PROPERTY_DATA_DESCRIPTOR, *PPROPERTY_DATA_DESCRIPTOR;

typedef struct _TRACE_PROVIDER_INFO {
    GUID ProviderGuid;
    ULONG SchemaSource; /* 0 manifest (and TraceLogging), 1 MOF */
    ULONG ProviderNameOffset; /* from the start of PROVIDER_ENUMERATION_INFO */
} TRACE_PROVIDER_INFO;

typedef struct _PROVIDER_ENUMERATION_INFO {
    ULONG NumberOfProviders;
    ULONG Reserved;
    TRACE_PROVIDER_INFO TraceProviderInfoArray[ANYSIZE_ARRAY];
} PROVIDER_ENUMERATION_INFO, *PPROVIDER_ENUMERATION_INFO;

typedef TRACE_PROVIDER_INFO *PTRACE_PROVIDER_INFO;

/* What the TDH functions return: a Win32 code. */
typedef ULONG TDHSTATUS;
typedef HANDLE TDH_HANDLE, *PTDH_HANDLE;

/* Strings inside the blobs, as tdh.h names them: NULL where the offset is 0. Property is a
 * PEVENT_PROPERTY_INFO, Map a PEVENT_MAP_ENTRY. */
static inline PWSTR etwire_blob_string_(const void *Base, ULONG Offset)
{
    return Offset == 0 ? (PWSTR)0 : (PWSTR)((PBYTE)Base + Offset);
}
#define ETWIRE_BLOB_STRING_(base, off) etwire_blob_string_((base), (off))
#define EMI_MAP_NAME(MapInfo) ETWIRE_BLOB_STRING_(MapInfo, (MapInfo)->NameOffset)
#define EMI_MAP_FORMAT(MapInfo)                                                                 \
    (((MapInfo)->Flag & EVENTMAP_INFO_FLAG_MANIFEST_PATTERNMAP)                                \
         ? ETWIRE_BLOB_STRING_(MapInfo, (MapInfo)->FormatStringOffset)                         \
         : (PWSTR)0)
#define EMI_MAP_OUTPUT(MapInfo, Map) ETWIRE_BLOB_STRING_(MapInfo, (Map)->OutputOffset)
#define EMI_MAP_INPUT(MapInfo, Map)                                                             \
    (((MapInfo)->Flag & EVENTMAP_INFO_FLAG_MANIFEST_PATTERNMAP)                                \
         ? ETWIRE_BLOB_STRING_(MapInfo, (Map)->InputOffset)                                    \
         : (PWSTR)0)
#define TEI_MAP_NAME(EventInfo, Property)                                                       \
    ETWIRE_BLOB_STRING_(EventInfo, (Property)->nonStructType.MapNameOffset)
#define TEI_PROPERTY_NAME(EventInfo, Property) ETWIRE_BLOB_STRING_(EventInfo, (Property)->NameOffset)
#define TEI_PROVIDER_NAME(EventInfo) ETWIRE_BLOB_STRING_(EventInfo, (EventInfo)->ProviderNameOffset)
#define TEI_LEVEL_NAME(EventInfo) ETWIRE_BLOB_STRING_(EventInfo, (EventInfo)->LevelNameOffset)
#define TEI_CHANNEL_NAME(EventInfo) ETWIRE_BLOB_STRING_(EventInfo, (EventInfo)->ChannelNameOffset)
#define TEI_KEYWORDS_NAME(EventInfo) ETWIRE_BLOB_STRING_(EventInfo, (EventInfo)->KeywordsNameOffset)
#define TEI_TASK_NAME(EventInfo) ETWIRE_BLOB_STRING_(EventInfo, (EventInfo)->TaskNameOffset)
#define TEI_OPCODE_NAME(EventInfo) ETWIRE_BLOB_STRING_(EventInfo, (EventInfo)->OpcodeNameOffset)
#define TEI_EVENT_MESSAGE(EventInfo) ETWIRE_BLOB_STRING_(EventInfo, (EventInfo)->EventMessageOffset)
#define TEI_PROVIDER_MESSAGE(EventInfo)                                                         \
    ETWIRE_BLOB_STRING_(EventInfo, (EventInfo)->ProviderMessageOffset)
#define TEI_ACTIVITYID_NAME(EventInfo) ETWIRE_BLOB_STRING_(EventInfo, (EventInfo)->ActivityIDNameOffset)
#define TEI_RELATEDACTIVITYID_NAME(EventInfo)                                                   \
    ETWIRE_BLOB_STRING_(EventInfo, (EventInfo)->RelatedActivityIDNameOffset)
/* etwire extension: the event's name (EventNameOffset, Windows 10 1709+ blobs). */
#define TEI_EVENT_NAME(EventInfo) ETWIRE_BLOB_STRING_(EventInfo, (EventInfo)->EventNameOffset)

/* The schema of Event as TRACE_EVENT_INFO. *BufferSize 0 (Buffer may be NULL) asks for the
 * size. Errors: ERROR_INSUFFICIENT_BUFFER (*BufferSize set to the size needed),
 * ERROR_NOT_FOUND (no schema known), ERROR_INVALID_PARAMETER. */
ETWIRE_API TDHSTATUS WINAPI TdhGetEventInformation(PEVENT_RECORD Event, ULONG TdhContextCount,
                                               PTDH_CONTEXT TdhContext, PTRACE_EVENT_INFO Buffer,
                                               PULONG BufferSize);
/* The map named MapName (a property's MapNameOffset string) for Event's provider.
 * Errors: ERROR_INSUFFICIENT_BUFFER, ERROR_NOT_FOUND, ERROR_INVALID_PARAMETER. */
ETWIRE_API TDHSTATUS WINAPI TdhGetEventMapInformation(PEVENT_RECORD pEvent, PWSTR pMapName,
                                                  PEVENT_MAP_INFO pBuffer, ULONG *pBufferSize);
/* Size in bytes of the property the descriptors select (see PROPERTY_DATA_DESCRIPTOR).
 * Errors: ERROR_NOT_FOUND (schema or property), ERROR_EVT_INVALID_EVENT_DATA (payload shorter
 * than the schema says), ERROR_INVALID_PARAMETER. */
ETWIRE_API TDHSTATUS WINAPI TdhGetPropertySize(PEVENT_RECORD pEvent, ULONG TdhContextCount,
                                           PTDH_CONTEXT pTdhContext, ULONG PropertyDataCount,
                                           PPROPERTY_DATA_DESCRIPTOR pPropertyData,
                                           ULONG *pPropertySize);
/* Copies the selected property's bytes. Errors as TdhGetPropertySize, plus
 * ERROR_INSUFFICIENT_BUFFER. */
ETWIRE_API TDHSTATUS WINAPI TdhGetProperty(PEVENT_RECORD pEvent, ULONG TdhContextCount,
                                       PTDH_CONTEXT pTdhContext, ULONG PropertyDataCount,
                                       PPROPERTY_DATA_DESCRIPTOR pPropertyData, ULONG BufferSize,
                                       PBYTE pBuffer);
/* Formats one value (one array element) at UserData as NUL-terminated UTF-16 text and says
 * how many bytes it consumed. *BufferSize is in bytes. Errors: ERROR_INSUFFICIENT_BUFFER,
 * ERROR_INVALID_PARAMETER, ERROR_EVT_INVALID_EVENT_DATA (data does not fit the type, or a
 * value map has no entry for the value: call again with MapInfo NULL). */
ETWIRE_API TDHSTATUS WINAPI TdhFormatProperty(PTRACE_EVENT_INFO EventInfo, PEVENT_MAP_INFO MapInfo,
                                          ULONG PointerSize, USHORT PropertyInType,
                                          USHORT PropertyOutType, USHORT PropertyLength,
                                          USHORT UserDataLength, PBYTE UserData,
                                          PULONG BufferSize, PWCHAR Buffer,
                                          PUSHORT UserDataConsumed);
/* Loads an instrumentation manifest (.man XML) into the process-wide schema store.
 * Errors: ERROR_FILE_NOT_FOUND, ERROR_XML_PARSE_ERROR, ERROR_NOT_SUPPORTED (built without
 * expat), ERROR_INVALID_PARAMETER. */
ETWIRE_API TDHSTATUS WINAPI TdhLoadManifest(PWSTR Manifest);
/* Loads the WEVT_TEMPLATE resource of a PE file (.dll/.exe/.sys). Errors:
 * ERROR_FILE_NOT_FOUND, ERROR_RESOURCE_TYPE_NOT_FOUND, ERROR_INVALID_DATA. */
ETWIRE_API TDHSTATUS WINAPI TdhLoadManifestFromBinary(PWSTR BinaryPath);
ETWIRE_API TDHSTATUS WINAPI TdhUnloadManifest(PWSTR Manifest);
/* The providers TDH can decode by provider on the calling thread: loaded (manifests, MOF),
 * built in (kernel classes, the built-in pack) and the schema store's; from inside a session's
 * callbacks also what its trace taught (embedded EventInfo schemas, EventSource manifests,
 * TraceLogging providers it delivered). SchemaSource is a DECODING_SOURCE: 0 manifest, 1 MOF,
 * 3 TraceLogging. docs/api/tdh-providers.md. */
ETWIRE_API TDHSTATUS WINAPI TdhEnumerateProviders(PPROVIDER_ENUMERATION_INFO pBuffer, ULONG *pBufferSize);
/* The same list, only the providers of one decoding source (DecodingSourceWPP: none).
 * ERROR_INVALID_PARAMETER for another filter or a NULL bufferRequired; *bufferRequired gets
 * the size needed (ERROR_INSUFFICIENT_BUFFER when bufferSize is less). */
ETWIRE_API TDHSTATUS WINAPI TdhEnumerateProvidersForDecodingSource(DECODING_SOURCE filter,
                                                                    PPROVIDER_ENUMERATION_INFO buffer,
                                                                    ULONG bufferSize, PULONG bufferRequired);

/* etwire extensions. */

/* Learns the schema events a merged trace embeds (KernelTraceControl "MetaData" EventInfo and
 * EventMapInfo, provider bbccf6c1-6cd1-48c4-80ff-839482e37671; EventSource manifests) so later
 * events of those providers decode. ProcessTrace shows every event to the learner before the
 * callback, so a consumer never needs it; it is for records decoded outside a session. Returns
 * 1 if rec was such an event and its schema was stored (a record already learned: 0). */
ETWIRE_API int etwire_tdh_observe(PCEVENT_RECORD rec);
/* UTF-8 path variants of TdhLoadManifest / TdhLoadManifestFromBinary. */
ETWIRE_API ULONG etwire_tdh_load_manifest(const char *PathUtf8);
ETWIRE_API ULONG etwire_tdh_load_binary(const char *PathUtf8);
/* Loads classic event classes from MOF text (schema source 5): classes with Guid,
 * EventVersion, EventType{...} and EventTypeName{...} qualifiers and typed properties in
 * WmiDataId order, as the Windows SDK and the ETW class documentation write them
 * (docs/decoding.md lists the accepted subset). Kernel classes the built-in tables know are
 * not overridden. Unload with TdhUnloadManifest(path). Errors: ERROR_FILE_NOT_FOUND,
 * ERROR_INVALID_DATA (etwire_last_error_message() names the line, class and property). */
ETWIRE_API ULONG etwire_tdh_load_mof(const char *PathUtf8);
/* Adds WPP message formats from TMF text (docs/decoding.md, "WPP"): a file is read now; a
 * directory is searched, as tracefmt does, for <message GUID>.tmf when a message GUID is first
 * seen (other *.tmf files in it are read now). TMFs loaded this way rank above the schema store.
 * Errors: ERROR_FILE_NOT_FOUND, ERROR_INVALID_DATA (etwire_last_error_message() names the file,
 * line and reason). */
ETWIRE_API ULONG etwire_tdh_load_tmf(const char *PathUtf8);
/* Opens the schema store (docs/decoding.md, "The schema store"): the directory
 * `etwire schemas import` fills. Dir NULL or "" means the default: $ETWIRE_SCHEMAS, else
 * $XDG_DATA_HOME/etwire/schemas, else ~/.local/share/etwire/schemas. Its schemas then serve the
 * TDH functions and etwire's decoding after the trace's own schemas and what was loaded with
 * TdhLoadManifest and the etwire_tdh_load_* calls; its TMF message formats serve WPP events
 * after TMFs loaded with etwire_tdh_load_tmf. Replaces a store opened before. Call it before
 * decoding starts (not while other threads decode). Errors: ERROR_FILE_NOT_FOUND (no store
 * there), ERROR_INVALID_DATA (a damaged store: etwire_last_error_message() names the file,
 * offset and reason). */
ETWIRE_API ULONG etwire_schemas_open(const char *DirUtf8);
/* Closes the schema store (not while other threads decode). */
ETWIRE_API void etwire_schemas_close(void);
/* Forgets every learned and loaded schema (built-in tables stay). Not safe while other threads
 * decode. */
ETWIRE_API void etwire_tdh_reset(void);
/* Turns the built-in schemas (the compiled manifests of Windows' own providers and the .NET
 * runtime, consulted after everything learned or loaded) on or off; on by default, and off
 * when the environment variable ETWIRE_BUILTIN_SCHEMAS is "0" at the first lookup. Schemas
 * already looked up stay until etwire_tdh_reset(). */
ETWIRE_API void etwire_tdh_use_builtin_schemas(int Enable);

#ifdef __cplusplus
}
#endif
#endif
