#!/usr/bin/env python3
"""Check `hotpe scan --json` output (argv[1]) against expectation lines on stdin, in the
format described in test_sites.sh. Prints ok:/FAIL: lines and a final "RESULT passed failed"."""
import json
import sys

doc = json.load(open(sys.argv[1]))
fns = doc["functions"]
ok = bad = 0
for line in sys.stdin:
    f, name, cls, pad, ln, insn, srcs = line.split()
    cands = [x for x in fns if x["name"] == (None if name == "-" else name)
             or (x["name"] or "").lstrip("_").split("@")[0] == name]
    if not cands:
        print(f"FAIL: {f}: {name}: not listed"); bad += 1; continue
    x = dict(cands[0])
    # the compilers' hotpatch classes: a trampoline site (the entry form's check, which
    # test_tramp_corpus.sh covers) is short-first or no-padding here
    if x["class"] == "trampoline":
        x["class"] = "short-first" if x["first_insn_len"] < 2 else "no-padding"
    why = []
    if cls == "marker":
        cls = "prologue" if x["padding"] >= 5 else "no-padding"
    elif cls == "long":
        cls = "padded" if x["padding"] >= 5 else "no-padding"
    if cls.startswith("!"):
        if x["class"] == cls[1:]: why.append(f"class {x['class']}")
    elif cls != "*" and x["class"] != cls:
        why.append(f"class {x['class']}, expected {cls}")
    if pad.startswith(">="):
        if x["padding"] < int(pad[2:]): why.append(f"padding {x['padding']} < {pad[2:]}")
    elif pad != "*" and x["padding"] != int(pad):
        why.append(f"padding {x['padding']}, expected {pad}")
    if ln != "*" and x["first_insn_len"] != int(ln):
        why.append(f"first_insn_len {x['first_insn_len']}, expected {ln}")
    if insn != "*" and x["first_insn"] != insn:
        why.append(f"first_insn {x['first_insn']}, expected {insn}")
    if srcs != "*" and not set(srcs.split(",")) <= set(x["sources"]):
        why.append(f"sources {x['sources']}, expected {srcs}")
    if why:
        print(f"FAIL: {f}: {name}: " + "; ".join(why)); bad += 1
    else:
        print(f"ok: {f}: {name}: {x['class']} padding {x['padding']} len {x['first_insn_len']} {x['first_insn']}"); ok += 1
print(f"RESULT {ok} {bad}")
