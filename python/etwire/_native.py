"""ctypes declarations of the etwire C library: the EVENT_RECORD layout, the open/process
calls, the process tracker and the JSON formatting extension (include/etwire/*.h)."""
import ctypes
import ctypes.util
import os

try:
    from . import _paths  # written by `cmake --install`: where the library was installed
except ImportError:  # running from the source tree
    _paths = None


class GUID(ctypes.Structure):
    _fields_ = [("Data1", ctypes.c_uint32), ("Data2", ctypes.c_uint16),
                ("Data3", ctypes.c_uint16), ("Data4", ctypes.c_uint8 * 8)]

    def __str__(self):
        d = bytes(self.Data4)
        return "%08x-%04x-%04x-%s-%s" % (self.Data1, self.Data2, self.Data3, d[:2].hex(), d[2:].hex())


class EVENT_DESCRIPTOR(ctypes.Structure):
    _fields_ = [("Id", ctypes.c_uint16), ("Version", ctypes.c_uint8), ("Channel", ctypes.c_uint8),
                ("Level", ctypes.c_uint8), ("Opcode", ctypes.c_uint8), ("Task", ctypes.c_uint16),
                ("Keyword", ctypes.c_uint64)]


class EVENT_HEADER(ctypes.Structure):
    _fields_ = [("Size", ctypes.c_uint16), ("HeaderType", ctypes.c_uint16),
                ("Flags", ctypes.c_uint16), ("EventProperty", ctypes.c_uint16),
                ("ThreadId", ctypes.c_uint32), ("ProcessId", ctypes.c_uint32),
                ("TimeStamp", ctypes.c_int64), ("ProviderId", GUID),
                ("EventDescriptor", EVENT_DESCRIPTOR), ("ProcessorTime", ctypes.c_uint64),
                ("ActivityId", GUID)]


class EVENT_RECORD(ctypes.Structure):
    _fields_ = [("EventHeader", EVENT_HEADER), ("ProcessorNumber", ctypes.c_uint8),
                ("Alignment", ctypes.c_uint8), ("LoggerId", ctypes.c_uint16),
                ("ExtendedDataCount", ctypes.c_uint16), ("UserDataLength", ctypes.c_uint16),
                ("ExtendedData", ctypes.c_void_p), ("UserData", ctypes.c_void_p),
                ("UserContext", ctypes.c_void_p)]


EVENT_RECORD_CALLBACK = ctypes.CFUNCTYPE(None, ctypes.POINTER(EVENT_RECORD))
BUFFER_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p,
                                   ctypes.c_void_p)


class ETW_OPEN_TRACE_OPTIONS(ctypes.Structure):
    _fields_ = [("ProcessTraceModes", ctypes.c_int), ("EventCallback", EVENT_RECORD_CALLBACK),
                ("EventCallbackContext", ctypes.c_void_p), ("BufferCallback", BUFFER_CALLBACK),
                ("BufferCallbackContext", ctypes.c_void_p)]


class FILETIME(ctypes.Structure):
    _fields_ = [("dwLowDateTime", ctypes.c_uint32), ("dwHighDateTime", ctypes.c_uint32)]


INVALID_HANDLE = 0xFFFFFFFFFFFFFFFF
EVENT_HEADER_FLAG_PROCESSOR_INDEX = 0x0200
ERROR_SUCCESS = 0
ERROR_INSUFFICIENT_BUFFER = 122
ERROR_CANCELLED = 1223


def _candidates():
    env = os.environ.get("ETWIRE_LIBRARY")
    if env:
        yield env
    if _paths is not None:
        yield os.path.normpath(os.path.join(os.path.dirname(__file__), _paths.LIBRARY))
    found = ctypes.util.find_library("etwire")
    if found:
        yield found
    yield "libetwire.so.0"


def _load():
    errors = []
    for path in _candidates():
        try:
            return ctypes.CDLL(path)
        except OSError as e:
            errors.append("%s: %s" % (path, e))
    raise OSError("cannot load the etwire library (set ETWIRE_LIBRARY): " + "; ".join(errors))


lib = _load()
lib.etwire_trace_open_file.argtypes = [ctypes.c_char_p, ctypes.POINTER(ETW_OPEN_TRACE_OPTIONS), ctypes.c_void_p]
lib.etwire_trace_open_file.restype = ctypes.c_uint64
lib.ProcessTrace.argtypes = [ctypes.POINTER(ctypes.c_uint64), ctypes.c_uint32, ctypes.POINTER(FILETIME),
                             ctypes.POINTER(FILETIME)]
lib.ProcessTrace.restype = ctypes.c_uint32
lib.CloseTrace.argtypes = [ctypes.c_uint64]
lib.CloseTrace.restype = ctypes.c_uint32
lib.etwire_last_error_message.restype = ctypes.c_char_p
lib.etwire_strerror.argtypes = [ctypes.c_uint32]
lib.etwire_strerror.restype = ctypes.c_char_p
lib.etwire_event_format_json.argtypes = [ctypes.POINTER(EVENT_RECORD), ctypes.c_char_p, ctypes.c_uint32,
                                         ctypes.POINTER(ctypes.c_uint32)]
lib.etwire_event_format_json.restype = ctypes.c_uint32
lib.etwire_process_tracker_create.restype = ctypes.c_void_p
lib.etwire_process_tracker_destroy.argtypes = [ctypes.c_void_p]
lib.etwire_process_tracker_add.argtypes = [ctypes.c_void_p, ctypes.POINTER(EVENT_RECORD)]
lib.etwire_process_tracker_pid.argtypes = [ctypes.c_void_p, ctypes.POINTER(EVENT_RECORD)]
lib.etwire_process_tracker_pid.restype = ctypes.c_uint32
lib.etwire_process_tracker_name_of.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
lib.etwire_process_tracker_name_of.restype = ctypes.c_char_p
for name, args in (("etwire_tdh_load_manifest", [ctypes.c_char_p]), ("etwire_tdh_load_mof", [ctypes.c_char_p]),
                   ("etwire_tdh_load_binary", [ctypes.c_char_p])):
    getattr(lib, name).argtypes = args
    getattr(lib, name).restype = ctypes.c_uint32
