#!/usr/bin/env python3
"""Check cfg_plan's output (the CFG plan apply computes, engine/cfg.h) against readers that are
not ours: llvm-readobj for the base's GuardFlags, function table and ImageBase, lld-link's map for
where compute and label are, and MinGW nm for where the patch's replacements are.

usage: check_plan.py PLAN READOBJ_BASE MAP READOBJ_PATCH NM_PATCH KIND
KIND: cfg (the base is built with /guard:cf) or plain. Prints one line per check, then
"N passed, M failed".
"""
import re
import sys

plan_txt, lc_txt, map_txt, patch_hdr, nm_txt, kind = (
    open(sys.argv[i]).read() if i < 6 else sys.argv[i] for i in range(1, 7))
passed = failed = 0


def check(what, ok):
    global passed, failed
    print(("ok   " if ok else "FAIL ") + what)
    if ok:
        passed += 1
    else:
        failed += 1


def field(txt, name):
    m = re.search(r"^\s*%s: (0x[0-9A-Fa-f]+|\d+)" % name, txt, re.M)
    return int(m.group(1), 0) if m else None


# the plan
plan = {"target": [], "site": []}
for line in plan_txt.splitlines():
    w = line.split()
    if w[0] in ("instrumented", "functions"):
        plan[w[0]] = int(w[1])
    elif w[0] == "guard_flags":
        plan[w[0]] = int(w[1], 16)
    elif w[0] == "target":
        plan["target"].append((int(w[1], 16), int(w[2], 16)))
    elif w[0] == "site":
        plan["site"].append((int(w[1], 16), int(w[2], 16), w[3]))
    elif w[0] == "error":
        check("cfg_plan: " + line, False)

# the base, as llvm-readobj and the linker see it
flags = field(lc_txt, "GuardFlags") or 0
fid = re.search(r"GuardFidTable \[(.*?)\]", lc_txt, re.S)
fids = [int(x, 16) for x in re.findall(r"0x[0-9A-Fa-f]+", fid.group(1))] if fid else []
base = field(lc_txt, "ImageBase")
funcs = {}
for line in map_txt.splitlines():
    w = line.split()
    if len(w) >= 3 and w[1].lstrip("_") in ("compute", "label") and re.fullmatch(r"[0-9a-fA-F]+", w[2]):
        funcs.setdefault(w[1].lstrip("_"), int(w[2], 16))
check("map: compute and label found (%s)" % funcs, len(funcs) == 2)
instrumented = bool(flags & 0x100) and len(fids) > 0
check("kind %s: readobj says instrumented=%s (GuardFlags 0x%x, %d functions)"
      % (kind, instrumented, flags, len(fids)), instrumented == (kind == "cfg"))
check("plan: instrumented %s" % plan.get("instrumented"), plan.get("instrumented") == instrumented)
check("plan: guard_flags 0x%x" % plan.get("guard_flags", -1), plan.get("guard_flags") == flags)
check("plan: functions %s == %d" % (plan.get("functions"), len(fids)),
      plan.get("functions") == len(fids))
for name, va in sorted(funcs.items()):
    check("base: %s (0x%x) in the function table: %s" % (name, va, va in fids),
          (va in fids) == (kind == "cfg"))

# the patch's replacements, from its COFF symbols
pbase = field(patch_hdr, "ImageBase")
repl = {}
for line in nm_txt.splitlines():
    w = line.split()
    if len(w) == 3 and w[2].lstrip("_") in ("compute_v2", "label_v2"):
        repl[w[2].lstrip("_")[:-3]] = int(w[0], 16) - pbase
check("nm: compute_v2 and label_v2 found (%s)" % {k: hex(v) for k, v in repl.items()},
      len(repl) == 2)

# each site: entry from the map, replacement from nm, state from the alignment rule
by_entry = {funcs[n] - base: n for n in funcs}
check("plan: 2 sites", len(plan["site"]) == 2)
for entry, r, state in plan["site"]:
    name = by_entry.get(entry)
    check("site 0x%x is %s" % (entry, name), name is not None)
    if name is None or name not in repl:
        continue
    check("site %s: replacement 0x%x == nm 0x%x" % (name, r, repl[name]), r == repl[name])
    want = ("pending" if r % 16 == 0 else "unaligned") if instrumented else "not-instrumented"
    check("site %s: state %s == %s" % (name, state, want), state == want)

want = sorted({r for r in repl.values() if r % 16 == 0}) if instrumented else []
got = [o for o, _ in plan["target"]]
check("targets %s == %s (sorted, unique, 16-byte aligned)" % ([hex(x) for x in got],
                                                              [hex(x) for x in want]), got == want)
check("every target flag is CFG_CALL_TARGET_VALID",
      all(f == 1 for _, f in plan["target"]))
print("%d passed, %d failed" % (passed, failed))
