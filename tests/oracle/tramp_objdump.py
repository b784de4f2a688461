#!/usr/bin/env python3
"""Independent check of the trampoline check (pe/tramp.c, through tests/tools/pe-tramp): decide
each entry's verdict again from llvm-objdump's disassembly of the same bytes, and compare the
verdict, the bytes moved and the deciding instruction.

usage: tramp_objdump.py LLVM_OBJDUMP IMAGE PE_TRAMP_OUTPUT
The rules, in hotpe's order: fewer than 5 bytes checked, an instruction covering the first
5 bytes cut by the end, or a ret, jmp, int3, ud2 or hlt before the 5th byte: too-short; one of them <unknown>: undecodable; one of them a direct
branch other than E8/E9 rel32, EB rel8 or a jcc rel8/rel32 (loop, jrcxz, prefixed): unmovable; then over every instruction checked, in address
order: <unknown>: undecodable; a direct jmp, jcc, loop or call landing after the entry and
before the end of the moved bytes: branch-into. Branches from other fragments of the function
(pe-tramp's FRAGS) are not seen here: hotpe may refuse such an entry where this script does
not, never the other way round.
Prints "tramp FILE entries=N agree=N fragment-only=N mismatches=N" and up to 5 mismatches; exit
status 1 on any mismatch."""
import re
import subprocess
import sys

objdump, path, listing = sys.argv[1:4]
lines = open(listing).read().split("\n")
machine = lines[0].split()[-1]
entries = [l.split()[1:] for l in lines if l.startswith("entry ")]

image_base = None
line_re = re.compile(r"^\s*([0-9a-f]+):\s([0-9a-f]{2}(?: [0-9a-f]{2})*)\s*\t(.*)$")
PREFIXES = {"lock", "rep", "repe", "repne", "repz", "repnz", "data16", "data32", "addr32",
            "cs", "ds", "es", "fs", "gs", "ss", "notrack", "xacquire", "xrelease"}
BRANCH = re.compile(r"^(j[a-z]+|call[lqw]?|loop[a-z]*)\s+(0x[0-9a-f]+|[0-9a-f]+)\b")
# instructions after which the next bytes need not be this function's
ENDS = {"ret", "retq", "retl", "retw", "jmp", "jmpq", "jmpl", "jmpw", "int3", "ud2", "hlt"}

def disassemble(start=None, stop=None):
    """address -> (length, unknown, first byte, direct branch target or None, ends the flow)"""
    args = [objdump, "-d"]
    if start is not None:
        args += [f"--start-address={start:#x}", f"--stop-address={stop:#x}"]
    out = subprocess.run(args + [path], capture_output=True, text=True).stdout
    got, pending = {}, None
    for line in out.splitlines():
        m = line_re.match(line)
        if not m:
            pending = None
            continue
        addr, raw, text = int(m.group(1), 16), m.group(2).split(), m.group(3).strip()
        if pending and pending[0] + pending[1] == addr:
            start_at, n, first = pending[0], pending[1] + len(raw), pending[2]
        else:
            start_at, n, first = addr, len(raw), int(raw[0], 16)
        if text in PREFIXES:
            pending = (start_at, n, first)
            continue
        pending = None
        b = BRANCH.match(text.replace("\t", " "))
        target = int(b.group(2), 16) if b else None
        ends = text.split()[0] in ENDS if text else False
        got.setdefault(start_at, (n, "<unknown>" in text, first, target, ends))
    return got

whole = disassemble()

def image_base_of():
    import struct
    data = open(path, "rb").read(4096)
    lfanew = struct.unpack_from("<I", data, 0x3C)[0]
    opt = lfanew + 24
    magic = struct.unpack_from("<H", data, opt)[0]
    return struct.unpack_from("<Q", data, opt + 24)[0] if magic == 0x20B else struct.unpack_from("<I", data, opt + 28)[0]
image_base = image_base_of()

def walk(table, start, size):
    """instructions from start while inside [start, start + size): (addr, len, unknown, first, target, ends)"""
    out, a = [], start
    while a < start + size:
        if a not in table:
            return None
        n, unknown, first, target, ends = table[a]
        out.append((a, n, unknown, first, target, ends))
        if unknown:
            break
        a += n
    return out

def movable_branch(n, first):
    """the direct branches a trampoline rebuilds: call/jmp rel32, jmp rel8, jcc rel8/rel32
    (0F with a target and 6 bytes can only be 0F 8x); not loop or jrcxz (E0-E3), nor a
    prefixed one"""
    return ((n == 5 and first in (0xE8, 0xE9)) or (n == 2 and first == 0xEB) or
            (n == 2 and 0x70 <= first <= 0x7F) or (n == 6 and first == 0x0F))

def verdict(rva, size):
    va = image_base + rva
    if size < 5:
        return "too-short", 0, va
    insns = walk(whole, va, size)
    if insns is None:  # the sweep did not stop here: disassemble the function on its own
        insns = walk(disassemble(va, va + size), va, size)
        if insns is None:
            return "undecodable", 0, va
    length = 0
    for a, n, unknown, first, target, ends in insns:
        if length >= 5:
            break
        if unknown:
            return ("too-short" if a + n > va + size else "undecodable"), 0, a
        if a + n > va + size:
            return "too-short", 0, a
        if target is not None and not movable_branch(n, first):
            return "unmovable", 0, a
        if ends and length + n < 5:
            return "too-short", 0, a
        length += n
    if length < 5:
        return "too-short", 0, va + length
    for a, n, unknown, first, target, ends in insns:
        if unknown or a + n > va + size:
            return "undecodable", 0, a
        if target is not None and va < target < va + length:
            return "branch-into", 0, a
    return "movable", length, 0

agree = fragment_only = 0
mismatches = []
for rva, size, v, length, at, frags, exported in entries:
    rva, size, length, at, frags = (int(x, 16) for x in (rva, size, length, at, frags))
    mine, mylen, myat = verdict(rva, size)
    myat = myat - image_base if myat else 0
    if (mine, mylen, myat) == (v, length, at):
        agree += 1
    elif mine == "movable" and v == "branch-into" and frags and not rva <= at < rva + size:
        fragment_only += 1
    else:
        mismatches.append(f"  rva {rva:#x} size {size:#x}: hotpe {v}/{length}/{at:#x}, "
                          f"objdump {mine}/{mylen}/{myat:#x}")
print(f"tramp {path} entries={len(entries)} agree={agree} fragment-only={fragment_only} "
      f"mismatches={len(mismatches)}")
for m in mismatches[:5]:
    print(m)
sys.exit(1 if mismatches else 0)
