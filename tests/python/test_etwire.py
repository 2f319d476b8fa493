"""The Python package against `etwire dump -f json` on corpus traces: the same events in the
same order with the same header values, names, decoded fields and payload bytes; the filters
against the same selection made on dump's output; early stops, several files, bad paths."""
import json
import os
import subprocess
import sys
import unittest

import etwire

SHARED = os.environ.get("ETWIRE_SHARED", "")
CLI = os.environ["ETWIRE_CLI"]
CORPUS = os.path.join(SHARED, "corpus")
TRACES = ["tx/Process.etl", "traceevent/diaghub/diaghub.kernel.1.etl", "pktmon/demikernel-PktMon-compressed.etl",
          "traceevent/gcevents.etl", "perfview-merged/msbuild-PerfViewData-ptr32-compressed.etl",
          "sawbuck-win7-ptr32/process_data_32_v1.etl"]


def dump(*args):
    out = subprocess.run([CLI, "dump", "-f", "json", *args], check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def path(rel):
    return os.path.join(CORPUS, rel)


class AgainstDump(unittest.TestCase):
    def compare(self, rel):
        want = dump(path(rel))
        got = list(etwire.open(path(rel)))
        self.assertEqual(len(got), len(want), rel)
        for i, (e, d) in enumerate(zip(got, want)):
            where = "%s event %d" % (rel, i)
            self.assertEqual(e.time, d["time"], where)
            self.assertEqual(e.provider_guid, d["provider_guid"], where)
            self.assertEqual((e.id, e.version, e.level, e.opcode, e.task), (d["id"], d["version"], d["level"],
                             d["opcode"], d["task"]), where)
            self.assertEqual(hex(e.keyword), d["keyword"], where)
            self.assertEqual((e.pid, e.tid, e.cpu, e.flags), (d["pid"], d["tid"], d["cpu"], d["flags"]), where)
            self.assertEqual(len(e.payload), d["payload_length"], where)
            self.assertEqual((e.provider, e.name, e.decoded), (d["provider"], d["event"], d["decoded"]), where)
            self.assertEqual(e.process, d["process"], where)
            if "fields" in d:
                self.assertEqual(e.fields, d["fields"], where)
            if "payload_hex" in d:
                self.assertEqual(e.payload.hex(), d["payload_hex"], where)
        return got

    def test_corpus_traces(self):
        for rel in TRACES:
            if os.path.exists(path(rel)):
                self.compare(rel)

    def test_process_names(self):
        got = self.compare("traceevent/diaghub/diaghub.kernel.1.etl")
        by_pid = {e.pid: e.process for e in got if e.process}
        self.assertEqual(by_pid.get(1112, "").lower()[-4:], ".exe")
        named = sum(1 for e in got if e.process)
        self.assertGreater(named, len(got) * 95 // 100)
        # The names come from the trace's own rundown events.
        rundown = {e.fields["ProcessId"]: e.fields["ImageFileName"] for e in got if e.name == "Process/DCStart"}
        for e in got:
            if e.pid in rundown and e.process:
                self.assertEqual(e.process, rundown[e.pid])


class Filters(unittest.TestCase):
    trace = "tx/Process.etl"

    def setUp(self):
        self.all = list(etwire.open(path(self.trace)))

    def check(self, pick, **filters):
        want = [(e.timestamp, e.id, e.tid) for e in self.all if pick(e)]
        got = [(e.timestamp, e.id, e.tid) for e in etwire.open(path(self.trace), **filters)]
        self.assertTrue(want, filters)
        self.assertEqual(got, want, filters)

    def test_each_filter(self):
        kp = "22fb2cd6-0e7b-422b-a0c7-2fad1fd0e716"
        self.check(lambda e: e.provider_guid == kp, provider="Microsoft-Windows-Kernel-Process")
        self.check(lambda e: e.provider_guid == kp, provider="{%s}" % kp.upper())
        self.check(lambda e: e.id in (5, 6), event=[5, "6"])
        self.check(lambda e: e.name == "EventTrace", event="EventTrace")
        self.check(lambda e: e.level <= 3, level="warning")
        self.check(lambda e: e.keyword == 0 or e.keyword & 0x10, keyword="0x10")
        self.check(lambda e: e.pid == 3324, pid=3324)
        self.check(lambda e: e.tid in (8048, 5724), tid=[8048, 5724])
        self.check(lambda e: e.process.lower() == "devenv.exe", process="DEVENV")
        self.check(lambda e: e.process.lower() == "devenv.exe" and e.id in (5, 6), process="devenv.exe",
                   event=[5, 6])
        t = self.all[len(self.all) // 2]
        # (The log-file header event comes first whatever the window, as in ProcessTrace.)
        self.check(lambda e: e.timestamp >= t.timestamp or e.name == "EventTrace", start=t.timestamp)
        self.check(lambda e: e.timestamp <= t.timestamp, end=t.time)


class Behaviour(unittest.TestCase):
    def test_early_stop_and_reuse(self):
        trace = etwire.open(path("traceevent/diaghub/diaghub.kernel.1.etl"))
        first = []
        for e in trace:
            first.append(e)
            if len(first) == 10:
                break
        trace.close()
        again = list(etwire.open(path("traceevent/diaghub/diaghub.kernel.1.etl")))
        self.assertEqual([e.timestamp for e in first], [e.timestamp for e in again[:10]])

    def test_several_files_merge_in_time_order(self):
        a, b = path("sawbuck-win7-ptr32/process_data_32_v1.etl"), path("tx/Process.etl")
        both = list(etwire.open([a, b]))
        self.assertEqual(len(both), len(list(etwire.open(a))) + len(list(etwire.open(b))))
        self.assertEqual([e.time for e in both], [d["time"] for d in dump(a, b)])

    def test_records(self):
        records = etwire.to_records(etwire.open(path("tx/Process.etl"), event=1))
        self.assertEqual(len(records), 4)
        for r in records:
            self.assertEqual(set(r), {"timestamp", "time", "provider", "provider_guid", "name", "id", "version",
                                      "level", "opcode", "task", "keyword", "pid", "tid", "cpu", "process",
                                      "flags", "decoded", "fields"})
        try:
            import pandas
        except ImportError:
            return
        self.assertEqual(len(pandas.DataFrame(records)), 4)

    def test_bad_path(self):
        with self.assertRaises(etwire.TraceError):
            list(etwire.open("/nonexistent/trace.etl"))


if __name__ == "__main__":
    if not os.path.isdir(CORPUS):
        print("SKIP: %s absent" % CORPUS)
        sys.exit(77)
    unittest.main()
