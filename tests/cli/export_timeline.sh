#!/usr/bin/env bash
# etwire export timeline: valid Chrome trace-event JSON whose content matches the trace. On a
# generated trace: one slice per context switch on its CPU's track and on the thread's own,
# slices of a CPU that follow each other without gaps, one instant event per other event. On a
# corpus kernel trace: process names from the rundown, lifetimes from process events, and every
# instant event's args equal to the fields `etwire dump -f json` decodes.
set -uo pipefail
. "$(dirname "$0")/common.bash"
py=/usr/bin/python3
[ -x "$py" ] || skip "Debian's python3 absent"

"$ETWIRE" generate --seed 11 --events 20000 --processors 4 -o "$WORK/g.etl" 2> /dev/null || fail "generate"
"$ETWIRE" export timeline "$WORK/g.etl" -o "$WORK/g.json" 2> "$WORK/err" || fail "export: $(cat "$WORK/err")"
"$ETWIRE" dump -f json "$WORK/g.etl" > "$WORK/g.dump" || fail "dump"
"$py" - "$WORK/g.json" "$WORK/g.dump" <<'PY' || fail "generated trace: structure"
import json, sys, collections
doc = json.load(open(sys.argv[1]))
ev = doc["traceEvents"]
dump = [json.loads(l) for l in open(sys.argv[2])]
cs_all = [e for e in dump if e["event"] == "Thread/CSwitch"]
# (The generator also writes payloads cut short: a switch needs both thread ids.)
cs = [e for e in cs_all if e["payload_length"] >= 8]
assert cs, "the generator writes context switches"
for e in ev:
    assert e["ph"] in "MXibe", e
    assert isinstance(e["pid"], int) and isinstance(e["tid"], int), e
    if e["ph"] != "M":
        assert isinstance(e["ts"], (int, float)) and e["ts"] >= 0, e
CPU = 2147483646
# Expected slices: every switch after a CPU's first whose previous thread is not the idle thread.
seen, want = set(), 0
for e in cs:
    if e["cpu"] in seen and e["fields"]["OldThreadId"] != 0:
        want += 1
    seen.add(e["cpu"])
cpu_slices = [e for e in ev if e["ph"] == "X" and e["pid"] == CPU]
running = [e for e in ev if e["ph"] == "X" and e["name"] == "Running"]
assert len(cpu_slices) == want, (len(cpu_slices), want)
assert len(running) == want
by_cpu = collections.defaultdict(list)
for e in cpu_slices:
    by_cpu[e["tid"]].append(e)
for cpu, sl in by_cpu.items():
    for a, b in zip(sl, sl[1:]):
        assert abs(a["ts"] + a["dur"] - b["ts"]) < 0.15, (a, b)
names = {e["tid"] for e in ev if e["ph"] == "M" and e["pid"] == CPU and e["name"] == "thread_name"}
assert set(by_cpu) <= names, "every CPU track is named"
inst = [e for e in ev if e["ph"] == "i"]
assert len(inst) == len(dump) - len(cs_all), (len(inst), len(dump), len(cs_all))
PY

trace=$SHARED/corpus/traceevent/diaghub/diaghub.kernel.1.etl
[ -f "$trace" ] || skip "corpus absent (generated trace passed)"
"$ETWIRE" export timeline "$trace" -o "$WORK/k.json" 2> "$WORK/err" || fail "export: $(cat "$WORK/err")"
"$ETWIRE" dump -f json "$trace" > "$WORK/k.dump" || fail "dump"
"$py" - "$WORK/k.json" "$WORK/k.dump" <<'PY' || fail "corpus trace: content"
import json, sys
ev = json.load(open(sys.argv[1]))["traceEvents"]
dump = [json.loads(l) for l in open(sys.argv[2])]
meta = {(e["pid"], e["args"]["name"]) for e in ev if e["ph"] == "M" and e["name"] == "process_name"}
assert (4, "System") in meta and (540, "smss.exe") in meta, sorted(meta)[:10]
inst = [e for e in ev if e["ph"] == "i"]
assert len(inst) == len(dump), (len(inst), len(dump))
for i, (t, d) in enumerate(zip(inst, dump)):
    want = d.get("fields", {"payload_hex": d["payload_hex"]} if "payload_hex" in d else {})
    assert t["args"] == want, (i, t["args"], want)
    assert t["cat"] == d["provider"] and (t["name"] == d["event"] or t["name"] == "CPU sample"), (t, d)
starts = sum(1 for d in dump if d["event"] in ("Process/Start", "Process/DCStart"))
ends = sum(1 for d in dump if d["event"] in ("Process/Stop", "Process/DCStop"))
assert sum(1 for e in ev if e["ph"] == "b") == starts
assert sum(1 for e in ev if e["ph"] == "e") == ends
ts = [t["ts"] for t in inst]
assert ts == sorted(ts), "instants in time order"
PY
echo "export timeline: generated and corpus traces checked"
