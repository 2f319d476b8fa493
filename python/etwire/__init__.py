"""etwire: read Windows ETW traces (.etl files) on any OS, in Python.

    import etwire
    for ev in etwire.open("trace.etl", provider="Microsoft-Windows-Kernel-Process"):
        print(ev.time, ev.process, ev.name, ev.fields)
    df = pandas.DataFrame(etwire.to_records(etwire.open("trace.etl")))

Pure Python over the etwire C library (ctypes); nothing to build. Events come in time order
with .timestamp (FILETIME), .time (ISO-8601), .provider, .provider_guid, .name, .id, .level,
.opcode, .task, .keyword, .pid, .tid, .cpu, .process (image name), .fields (decoded values, as
`etwire dump -f json` gives them) and .payload (the raw bytes).
"""
from ._native import _paths
from ._reader import Event, Trace, TraceError, filetime_to_iso, open, to_records

# The installed project's version (a source-tree checkout says so).
__version__ = getattr(_paths, "VERSION", "0+source")
__all__ = ["Event", "Trace", "TraceError", "filetime_to_iso", "open", "to_records", "__version__"]
