#!/usr/bin/env python3
"""Writes the seed corpora of fuzz/fuzz_relay_frame.c and fuzz/fuzz_relay_session.c: valid
relay sessions (docs/wire-protocol.md) and damaged variants, each prefixed with the chunk-size
byte both targets read first. Deterministic, so re-running it changes nothing."""
import os
import struct
import sys

def frame(ftype, payload=b"", flags=0, version=1, magic=b"ETWR", length=None):
    n = len(payload) if length is None else length
    return magic + struct.pack("<BBHI", version, ftype, flags, n) + payload

def name(s):
    return bytes([len(s)]) + s

def hello(window=4, instance=0, source=b"host-1", session=b"Kernel"):
    return frame(1, struct.pack("<IIIQ", 1 << 20, window, 1, instance) + name(source) + name(session))

def welcome(next_seq=0):
    return frame(2, struct.pack("<IIIQ", (16 << 20) + 16, 4, 1, next_seq))

def buffer(seq, size=128, fill=None, flags=0, raw_size=None):
    data = bytes([(seq + i) & 0xFF if fill is None else fill for i in range(size)])
    return frame(3, struct.pack("<QI", seq, size if raw_size is None else raw_size) + data, flags)

def u64(ftype, v):
    return frame(ftype, struct.pack("<Q", v))

def close(reason=0, text=b"done"):
    return frame(6, struct.pack("<IH", reason, len(text)) + text)

def session(n, window=4, instance=0):
    s = hello(window, instance)
    for i in range(n):
        s += buffer(i)
        if i == 2:
            s += buffer(1)  # a duplicate
    return s + frame(7) + u64(5, n) + close()

SEEDS = {
    "valid_session": session(5),
    "valid_resume": session(6, instance=3),
    "valid_all_types": hello() + welcome(3) + buffer(0) + u64(4, 1) + u64(5, 1) + frame(7) + close(),
    "valid_zstd_flag": hello() + buffer(0, 40, flags=1, raw_size=4096),
    "valid_large_buffer": hello() + buffer(0, 70000, fill=0xFF),
    "bad_magic": b"ETWX" + hello()[4:],
    "bad_version": hello()[:4] + b"\x02" + hello()[5:],
    "bad_type": frame(9),
    "bad_flags": frame(4, b"\0" * 8, flags=2),
    "bad_oversized_length": hello() + frame(3, b"", length=0xFFFFFFF0),
    "bad_control_too_large": frame(6, b"", length=5000),
    "bad_truncated": session(3)[:-7],
    "bad_gap": hello() + buffer(0) + buffer(2),
    "bad_window": hello(window=2) + buffer(0) + buffer(1) + buffer(2),
    "bad_before_hello": buffer(0) + hello(),
    "bad_name": frame(1, struct.pack("<IIIQ", 1 << 20, 4, 0, 0) + name(b"../etc") + name(b"x")),
    "bad_end_count": hello() + buffer(0) + u64(5, 7),
    "bad_after_close": hello() + close() + frame(7),
    "bad_raw_size": hello() + buffer(0, 64),
    "bad_refused": session(2, instance=0x100),
}

def ack(v):
    return u64(4, v)

# Collector -> sender byte streams for fuzz/fuzz_relay_sender.c (prefix: chunk byte, then the
# sender's situation byte: window-1 | zstd<<4 | resume<<5 | spool_cut<<6 | end_sent<<7, with
# the low 3 bits also the buffers already numbered).
SENDER_SEEDS = {
    "welcome_acks_done": (0x43, welcome(0) + ack(1) + ack(3) + frame(7) + close()),
    "welcome_resume": (0x23, welcome(5) + ack(6) + close(8, b"busy")),
    "welcome_cut_spool": (0x43, welcome(9) + ack(9) + close()),
    "welcome_mismatch": (0x03, welcome(7)),
    "ack_before_welcome": (0x03, ack(1)),
    "ack_too_far": (0x03, welcome(0) + ack(9)),
    "complete_after_end": (0x83, close(12, b"complete")),
    "refused_auth": (0x03, close(4, b"not allowed")),
    "buffer_frame": (0x03, welcome(0) + frame(3, struct.pack("<QI", 0, 128) + bytes(128))),
    "garbage": (0x03, b"HTTP/1.0 200 OK\r\n\r\n"),
}

def main(root):
    for target in ("relay_frame", "relay_session"):
        out = os.path.join(root, target)
        os.makedirs(out, exist_ok=True)
        for label, data in SEEDS.items():
            for chunk in ((255,) if label.startswith("valid_large") else (0, 7, 255)):
                with open(os.path.join(out, "%s_c%d" % (label, chunk)), "wb") as f:
                    f.write(bytes([chunk]) + data)
    out = os.path.join(root, "relay_sender")
    os.makedirs(out, exist_ok=True)
    for label, (how, data) in SENDER_SEEDS.items():
        for chunk in (0, 7, 255):
            with open(os.path.join(out, "%s_c%d" % (label, chunk)), "wb") as f:
                f.write(bytes([chunk, how]) + data)

if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "fuzz", "corpus"))
