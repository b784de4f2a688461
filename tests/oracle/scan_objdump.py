#!/usr/bin/env python3
"""Independent check of `hotpe scan`: classify each entry hotpe lists with llvm-objdump as the
decoder and this script's own PE reading (section table, padding bytes), and compare class,
padding and first instruction length with hotpe's JSON.

usage: scan_objdump.py LLVM_OBJDUMP IMAGE SCAN.json
Prints one line "counts FILE hotpe=... objdump=... mismatches=N [fallbacks=K]" and up to 5
mismatch details; exit status 1 when the counts by class differ."""
import json
import re
import struct
import subprocess
import sys

objdump, path, scan = sys.argv[1:4]
data = open(path, "rb").read()
doc = json.load(open(scan))

# ---- PE headers, read here independently of pe/ --------------------------------------------
lfanew = struct.unpack_from("<I", data, 0x3C)[0]
nsec, = struct.unpack_from("<H", data, lfanew + 6)
optsize, = struct.unpack_from("<H", data, lfanew + 20)
opt = lfanew + 24
magic, = struct.unpack_from("<H", data, opt)
image_base = struct.unpack_from("<Q" if magic == 0x20B else "<I", data, opt + (24 if magic == 0x20B else 28))[0]
sections = []
for i in range(nsec):
    h = opt + optsize + 40 * i
    vsize, va, rawsize, rawptr = struct.unpack_from("<IIII", data, h + 8)
    chars, = struct.unpack_from("<I", data, h + 36)
    backed = min(vsize, rawsize) if vsize else rawsize
    sections.append((va, vsize or rawsize, backed, rawptr, chars))

def section_of(rva):
    for s in sections:
        if s[0] <= rva < s[0] + s[1]:
            return s
    return None

# ---- one linear disassembly of the image: address -> (length, unknown) ---------------------
insn = {}
# llvm-objdump prints some prefixes (lock, rep, data16, segment) as instructions of their own:
# they belong to the instruction that follows, as for any decoder that executes them.
PREFIXES = {"lock", "rep", "repe", "repne", "repz", "repnz", "data16", "data32", "addr32",
            "cs", "ds", "es", "fs", "gs", "ss", "notrack", "xacquire", "xrelease"}
line_re = re.compile(r"^\s*([0-9a-f]+):\s([0-9a-f]{2}(?: [0-9a-f]{2})*)\s*\t(.*)$")
def disassemble(args):
    out = subprocess.run([objdump, "-d", *args, path], capture_output=True, text=True).stdout
    pending = None  # (address, byte count) of prefixes waiting for their instruction
    for line in out.splitlines():
        m = line_re.match(line)
        if not m:
            pending = None
            continue
        addr, n, text = int(m.group(1), 16), len(m.group(2).split()), m.group(3).strip()
        if pending and pending[0] + pending[1] == addr:
            start, n = pending[0], pending[1] + n
        else:
            start = addr
        if text in PREFIXES:
            pending = (start, n)
            continue
        pending = None
        insn.setdefault(start, (n, "<unknown>" in text))
disassemble([])

MARKERS = {b"\x8b\xff", b"\x66\x90", b"\x48\x8d\xa4\x24\x00\x00\x00\x00"}
fallbacks = 0
def classify(rva):
    global fallbacks
    s = section_of(rva)
    if not s or not (s[4] & 0x20000000):
        return "not-code", 0, 0
    va, extent, backed, rawptr, _ = s
    if rva - va >= backed:
        return "not-code", 0, 0
    off = rawptr + (rva - va)
    pad = 0
    while pad < 64 and rva - pad - 1 >= va and data[off - pad - 1] in (0xCC, 0x90):
        pad += 1
    vaddr = image_base + rva
    if vaddr not in insn:
        # the sweep did not stop here: decode this entry on its own
        fallbacks += 1
        disassemble([f"--start-address={vaddr:#x}", f"--stop-address={vaddr + 16:#x}"])
    n, unknown = insn.get(vaddr, (0, True))
    avail = min(15, backed - (rva - va))
    if unknown or n == 0 or n > avail:
        return "undecodable", pad, 0
    pair = n == 1 and avail >= 2 and data[off] == 0x90 and data[off + 1] == 0x90
    if pair:  # two 1-byte NOPs: one 2-byte site
        n = 2
    if n < 2:
        return "short-first", pad, n
    if pad < 5:
        return "no-padding", pad, n
    if pair:
        return "nop-pair", pad, n
    if bytes(data[off:off + n]) in MARKERS:
        return "prologue", pad, n
    return "padded", pad, n

classes = ["not-code", "undecodable", "short-first", "no-padding", "prologue", "nop-pair",
           "padded"]
mine = dict.fromkeys(classes, 0)
theirs = dict.fromkeys(classes, 0)
mismatches = []
def hotpatch_class(f):
    """hotpe's class before the entry form's check: a trampoline site is short-first or
    no-padding (test_tramp_corpus.sh checks that check against objdump)"""
    if f["class"] != "trampoline":
        return f["class"]
    return "short-first" if f["first_insn_len"] < 2 else "no-padding"

for f in doc["functions"]:
    c, pad, n = classify(f["rva"])
    hc = hotpatch_class(f)
    mine[c] += 1
    theirs[hc] += 1
    if (c, pad, n) != (hc, f["padding"], f["first_insn_len"]):
        mismatches.append(f"  rva {f['rva']:#x} {f['name']}: hotpe {hc}/{f['padding']}/"
                          f"{f['first_insn_len']}, objdump {c}/{pad}/{n}")
fmt = lambda d: ",".join(f"{k}:{d[k]}" for k in classes)
print(f"counts {path} hotpe={fmt(theirs)} objdump={fmt(mine)} mismatches={len(mismatches)} fallbacks={fallbacks}")
for m in mismatches[:5]:
    print(m)
sys.exit(0 if mine == theirs else 1)
