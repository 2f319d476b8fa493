"""The CLI's event filters (programs/etwire/event_filters.c) for Python: providers by name or
GUID, events by name or id, level, keyword, pid, tid, process image name. Each option takes one
value or a list (any of them matches)."""
import re

_GUID = re.compile(r"^\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?$")
_LEVELS = {"always": 0, "critical": 1, "error": 2, "warning": 3, "info": 4, "informational": 4, "verbose": 5}
# Providers etwire reads specially, whose schemas traces rarely carry (as the CLI).
WELL_KNOWN = {
    "microsoft-windows-kernel-process": "22fb2cd6-0e7b-422b-a0c7-2fad1fd0e716",
    "microsoft-windows-pktmon": "4d4f80d9-c8bd-4d73-bb5b-19c90402c5ac",
    "microsoft-windows-ndis-packetcapture": "2ed6006e-4729-4609-b423-3ee7bcd678ef",
}


def _values(v):
    if v is None:
        return []
    if isinstance(v, (list, tuple, set, frozenset)):
        return list(v)
    return [v]


class Filter:
    def __init__(self, provider=None, event=None, level=None, keyword=None, pid=None, tid=None,
                 process=None):
        self.guids, self.provider_names = set(), set()
        for p in _values(provider):
            m = _GUID.match(str(p))
            if m:
                self.guids.add(m.group(1).lower())
            else:
                self.provider_names.add(str(p).lower())
                if str(p).lower() in WELL_KNOWN:
                    self.guids.add(WELL_KNOWN[str(p).lower()])
        self.event_ids, self.event_names = set(), set()
        for e in _values(event):
            if isinstance(e, int) or (isinstance(e, str) and e.isdigit()):
                self.event_ids.add(int(e))
            else:
                self.event_names.add(str(e).lower())
        if level is None:
            self.level = None
        elif isinstance(level, str) and level.lower() in _LEVELS:
            self.level = _LEVELS[level.lower()]
        else:
            self.level = int(level)
        self.keyword = None if keyword is None else int(keyword, 0) if isinstance(keyword, str) else int(keyword)
        self.pids = {int(p) for p in _values(pid)}
        self.tids = {int(t) for t in _values(tid)}
        self.processes = {str(p).lower() for p in _values(process)}
        self.needs_names = bool(self.provider_names or self.event_names)

    def header_match(self, guid, desc, pid, header_pid, tid, process):
        """What can be decided without decoding; None when names must be looked at."""
        if self.level is not None and desc.Level > self.level:
            return False
        # As ETW's MatchAnyKeyword: events with no keyword at all pass.
        if self.keyword is not None and desc.Keyword and not desc.Keyword & self.keyword:
            return False
        if self.pids and pid not in self.pids and header_pid not in self.pids:
            return False
        if self.tids and tid not in self.tids:
            return False
        if self.processes:
            name = process.lower()
            if not name or (name not in self.processes and
                            not (name.endswith(".exe") and name[:-4] in self.processes)):
                return False
        return True

    def provider_match(self, guid, provider_name):
        if not self.guids and not self.provider_names:
            return True
        return guid in self.guids or provider_name.lower() in self.provider_names

    def event_match(self, event_id, event_name):
        if not self.event_ids and not self.event_names:
            return True
        if event_id in self.event_ids:
            return True
        name = event_name.lower()
        if name in self.event_names:
            return True
        task, _, opcode = name.partition("/")
        return bool(opcode) and (task in self.event_names or opcode in self.event_names)
