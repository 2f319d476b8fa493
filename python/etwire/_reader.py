"""Reading traces: etwire.open() runs ProcessTrace on a worker thread and hands its events over
in batches, so a trace is read once, in time order, without holding it in memory."""
import calendar
import ctypes
import datetime
import json
import queue
import re
import threading
import time as _time

from . import _native
from ._filters import Filter

_UNIX_EPOCH = 116444736000000000
_BATCH = 256
_ISO = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z?$")


def filetime_to_iso(ft):
    """FILETIME (100 ns since 1601) as etwire dump prints it: 2021-09-09T14:59:32.8512345Z."""
    rel = ft - _UNIX_EPOCH
    secs, frac = divmod(rel, 10000000)
    return _time.strftime("%Y-%m-%dT%H:%M:%S", _time.gmtime(secs)) + ".%07dZ" % frac


def _to_filetime(t):
    if t is None:
        return None
    if isinstance(t, int):
        ft = t
    elif isinstance(t, str):
        # As the CLI's --start/--end: ISO-8601 UTC to the 100 ns.
        m = _ISO.match(t)
        if not m:
            raise ValueError("not an ISO-8601 UTC time: %r" % t)
        secs = calendar.timegm(_time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S"))
        ft = secs * 10000000 + int((m.group(2) or "").ljust(7, "0")[:7]) + _UNIX_EPOCH
    else:
        if t.tzinfo is None:
            t = t.replace(tzinfo=datetime.timezone.utc)
        secs = calendar.timegm(t.utctimetuple())
        ft = secs * 10000000 + t.microsecond * 10 + _UNIX_EPOCH
    return _native.FILETIME(ft & 0xFFFFFFFF, ft >> 32)


class Event:
    """One event. timestamp: FILETIME (100 ns units since 1601, UTC; exact); time: the same as
    dump's ISO-8601 text; datetime: a timezone-aware datetime (to the microsecond)."""
    __slots__ = ("timestamp", "provider", "provider_guid", "name", "id", "version", "level", "opcode",
                 "task", "keyword", "pid", "tid", "cpu", "process", "flags", "decoded", "fields", "payload")

    @property
    def time(self):
        return filetime_to_iso(self.timestamp)

    @property
    def datetime(self):
        secs, frac = divmod(self.timestamp - _UNIX_EPOCH, 10000000)
        return (datetime.datetime.fromtimestamp(secs, datetime.timezone.utc) +
                datetime.timedelta(microseconds=frac // 10))

    def as_dict(self):
        d = {k: getattr(self, k) for k in self.__slots__ if k != "payload"}
        d["time"] = self.time
        return d

    def __repr__(self):
        return "<Event %s %s/%s pid=%d tid=%d %s>" % (self.time, self.provider, self.name, self.pid, self.tid,
                                                      self.process)


class TraceError(Exception):
    pass


def _load_schemas(manifest, mof, provider_binary):
    from ._filters import _values
    for paths, fn in ((manifest, _native.lib.etwire_tdh_load_manifest), (mof, _native.lib.etwire_tdh_load_mof),
                      (provider_binary, _native.lib.etwire_tdh_load_binary)):
        for p in _values(paths):
            rc = fn(str(p).encode())
            if rc != _native.ERROR_SUCCESS:
                raise TraceError("cannot load %s: %s" % (p, _native.lib.etwire_strerror(rc).decode()))


class Trace:
    """Iterable over the events of one or more traces, merged in time order. Iterating again
    reads the files again. Closing (or leaving a `with` block) stops a read in progress."""

    def __init__(self, paths, start=None, end=None, manifest=None, mof=None, provider_binary=None,
                 fields=True, **filters):
        self.paths = [paths] if isinstance(paths, (str, bytes)) or hasattr(paths, "__fspath__") else list(paths)
        self.start, self.end = start, end
        self.fields = fields
        self.filter = Filter(**filters)
        self.status = None
        self._stop = threading.Event()
        _load_schemas(manifest, mof, provider_binary)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._stop.set()

    def __iter__(self):
        return self._events()

    def _events(self):
        out = queue.Queue(maxsize=64)
        stop = self._stop
        stop.clear()
        filt = self.fields, self.filter
        tracker = _native.lib.etwire_process_tracker_create()
        if not tracker:
            raise MemoryError("etwire process tracker")
        text = ctypes.create_string_buffer(1 << 16)
        needed = ctypes.c_uint32()
        batch = []
        lib = _native.lib

        def send(item):
            while not stop.is_set():
                try:
                    out.put(item, timeout=0.1)
                    return
                except queue.Full:
                    pass

        def on_event(rec):
            nonlocal text, batch
            if stop.is_set():
                return
            r = rec.contents
            h = r.EventHeader
            lib.etwire_process_tracker_add(tracker, rec)
            pid = lib.etwire_process_tracker_pid(tracker, rec)
            process = lib.etwire_process_tracker_name_of(tracker, pid).decode("utf-8", "replace")
            d = h.EventDescriptor
            guid = str(h.ProviderId)
            f = filt[1]
            if not f.header_match(guid, d, pid, h.ProcessId, h.ThreadId, process):
                # Embedded schema events must still be seen to be learned.
                lib.etwire_event_format_json(rec, text, len(text), ctypes.byref(needed))
                return
            rc = lib.etwire_event_format_json(rec, text, len(text), ctypes.byref(needed))
            if rc == _native.ERROR_INSUFFICIENT_BUFFER:
                text = ctypes.create_string_buffer(needed.value * 2)
                rc = lib.etwire_event_format_json(rec, text, len(text), ctypes.byref(needed))
            info = json.loads(text.value) if rc == _native.ERROR_SUCCESS else {"provider": "", "event": ""}
            if not f.provider_match(guid, info["provider"]) or not f.event_match(d.Id, info["event"]):
                return
            e = Event()
            e.timestamp = h.TimeStamp
            e.provider, e.provider_guid, e.name = info["provider"], guid, info["event"]
            e.id, e.version, e.level, e.opcode, e.task = d.Id, d.Version, d.Level, d.Opcode, d.Task
            e.keyword = d.Keyword
            e.pid, e.tid = h.ProcessId, h.ThreadId
            e.cpu = (r.ProcessorNumber | r.Alignment << 8) if h.Flags & _native.EVENT_HEADER_FLAG_PROCESSOR_INDEX \
                else r.ProcessorNumber
            e.process, e.flags = process, h.Flags
            e.decoded = info.get("decoded", False)
            e.fields = info.get("fields", {}) if filt[0] else {}
            e.payload = ctypes.string_at(r.UserData, r.UserDataLength) if r.UserDataLength else b""
            batch.append(e)
            if len(batch) >= _BATCH:
                send(batch)
                batch = []

        def on_buffer(buf, size, info, ctx):
            return 0 if stop.is_set() else 1

        ev_cb = _native.EVENT_RECORD_CALLBACK(on_event)
        buf_cb = _native.BUFFER_CALLBACK(on_buffer)
        opts = _native.ETW_OPEN_TRACE_OPTIONS(0, ev_cb, None, buf_cb, None)
        handles = []
        try:
            for p in self.paths:
                h = lib.etwire_trace_open_file(str(p).encode(), ctypes.byref(opts), None)
                if h == _native.INVALID_HANDLE:
                    raise TraceError("%s: %s" % (p, lib.etwire_last_error_message().decode("utf-8", "replace")))
                handles.append(h)
            arr = (ctypes.c_uint64 * len(handles))(*handles)
            start, end = _to_filetime(self.start), _to_filetime(self.end)

            def run():
                nonlocal batch
                rc = lib.ProcessTrace(arr, len(handles), ctypes.byref(start) if start else None,
                                      ctypes.byref(end) if end else None)
                if batch:
                    send(batch)
                    batch = []
                send(rc)

            worker = threading.Thread(target=run, name="etwire ProcessTrace", daemon=True)
            worker.start()
            try:
                while True:
                    item = out.get()
                    if isinstance(item, int):
                        self.status = item
                        break
                    yield from item
            finally:
                stop.set()
                worker.join()
        finally:
            for h in handles:
                lib.CloseTrace(h)
            lib.etwire_process_tracker_destroy(tracker)
        if self.status not in (_native.ERROR_SUCCESS, _native.ERROR_CANCELLED, None):
            if self.status != 1392:  # ERROR_FILE_CORRUPT: bad records were skipped, the rest delivered
                raise TraceError("processing failed: %s" % lib.etwire_strerror(self.status).decode())


def open(paths, **options):
    """The events of one or more .etl files, merged in time order (see Trace).

    Options: start/end (datetime, ISO-8601 text or FILETIME int); filters as the CLI's:
    provider (name or GUID), event (name or id), level, keyword, pid, tid, process (image name,
    ".exe" optional), each a value or a list; manifest/mof/provider_binary (schema files);
    fields=False to skip decoding into .fields."""
    return Trace(paths, **options)


def to_records(events):
    """A list of dicts, one per event (header values, process, decoded fields as a dict):
    pandas.DataFrame(etwire.to_records(etwire.open(path)))."""
    return [e.as_dict() for e in events]
