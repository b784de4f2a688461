#!/usr/bin/env python3
"""Checks of pe-dump's load config and CFG tables on the CFG test DLL, against lld-link's map.

    check_cfg.py full  PE_DUMP DLL MAP           the full load config
    check_cfg.py short PE_DUMP DLL FULL_DLL      Size through GuardFlags only
    check_cfg.py dirsize DLL OUT SIZE            copy DLL with the load config directory size set

The map (lld-link /map) gives the RVA of every function, of the IAT slot of the imported
function, and of the labels clang puts at longjmp and EH continuation targets: the tables pe/
reads must hold exactly those. Prints "ok ..." / "FAIL ..." per check, then "N passed, M failed".
"""
import re
import struct
import subprocess
import sys

GUARD_CF_INSTRUMENTED = 0x100
GUARD_CF_FUNCTION_TABLE_PRESENT = 0x400
GUARD_CF_LONGJUMP_TABLE_PRESENT = 0x10000
GUARD_EH_CONTINUATION_TABLE_PRESENT = 0x400000

# The marker values loadcfg64.S / loadcfg32.S store in the plain numeric fields.
MARKERS = {
    "TimeDateStamp": 0x5f5e1000, "MajorVersion": 1, "MinorVersion": 2, "GlobalFlagsClear": 0x10,
    "GlobalFlagsSet": 0x20, "CriticalSectionDefaultTimeout": 0x30,
    "DeCommitFreeBlockThreshold": 0x40, "DeCommitTotalFreeThreshold": 0x50,
    "MaximumAllocationSize": 0x60, "VirtualMemoryThreshold": 0x70, "ProcessAffinityMask": 0x80,
    "ProcessHeapFlags": 0x90, "CSDVersion": 0xa0, "DependentLoadFlags": 0x800,
}

# Functions whose address is taken or that are exported: the CFG function table must have them.
IN_FID_TABLE = ["cfg_exported", "cfg_taken", "cfg_static_taken", "cfg_call", "cfg_get_ext",
                "cfg_setjmp", "cfg_catch"]


class Results:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
            print("ok   %s" % what)
        else:
            self.failed += 1
            print("FAIL %s%s" % (what, ": " + detail if detail else ""))

    def finish(self):
        print("%d passed, %d failed" % (self.passed, self.failed))
        return 1 if self.failed else 0


def dump(pe_dump, dll):
    out = subprocess.run([pe_dump, "--loadcfg", dll], stdout=subprocess.PIPE, text=True)
    d = {"rc": out.returncode, "lc": None, "fields": {}, "errors": [], "seh": [], "base": 0}
    for kind in ("guard-fid", "guard-iat", "guard-longjmp", "guard-ehcont"):
        d[kind] = []
    for line in out.stdout.splitlines():
        w = line.split()
        if w[0] == "image":
            d["base"] = int(w[3], 16)
        elif w[0] == "loadcfg":
            d["lc"] = {"dir_size": int(w[2], 16), "size": int(w[4], 16), "stride": int(w[6])}
        elif w[0] == "loadcfg-field":
            d["fields"][w[1]] = int(w[2], 16)
        elif w[0].startswith("guard-"):
            d[w[0]].append((int(w[1], 16), int(w[2], 16)))
        elif w[0] == "seh":
            d["seh"].append(int(w[1], 16))
        elif w[0] == "error":
            d["errors"].append(line)
    return d


def read_map(path):
    """Symbol -> RVA from an lld-link map; C names lose the x86 leading underscore."""
    base = None
    syms = {}
    for line in open(path):
        m = re.match(r"\s*Preferred load address is ([0-9a-fA-F]+)", line)
        if m:
            base = int(m.group(1), 16)
        m = re.match(r"\s*[0-9a-fA-F]{4}:[0-9a-fA-F]{8}\s+(\S+)\s+([0-9a-fA-F]{16})\s", line)
        if m and not line.rstrip().endswith("<absolute>"):
            syms[m.group(1)] = int(m.group(2), 16)
    rvas = {}
    for name, va in syms.items():
        rvas[name] = va - base
        if name.startswith("_") and not name.startswith("__"):
            rvas.setdefault(name[1:], va - base)
        if name.startswith("__imp__"):
            rvas.setdefault("__imp_" + name[7:], va - base)
        if name.startswith("___") and not name.startswith("____"):
            rvas.setdefault(name[1:], va - base)
    return rvas


def check_full(pe_dump, dll, map_path):
    r = Results()
    d = dump(pe_dump, dll)
    syms = read_map(map_path)
    r.check(d["rc"] == 0 and not d["errors"], "pe-dump parses the load config", " ".join(d["errors"]))
    lc = d["lc"]
    r.check(lc is not None, "load config present")
    if lc is None:
        return r.finish()
    pe32 = lc["size"] == 0xc4
    r.check(lc["size"] in (0xc4, 0x148) and lc["dir_size"] == lc["size"],
            "Size is the whole structure and the directory size equals it", str(lc))
    flags = d["fields"].get("GuardFlags", 0)
    want = (GUARD_CF_INSTRUMENTED | GUARD_CF_FUNCTION_TABLE_PRESENT |
            GUARD_CF_LONGJUMP_TABLE_PRESENT | GUARD_EH_CONTINUATION_TABLE_PRESENT)
    r.check(flags & want == want, "GuardFlags: instrumented, function, longjmp and EH tables",
            hex(flags))
    r.check(lc["stride"] == 4 + (flags >> 28), "stride follows GuardFlags", str(lc["stride"]))
    for name, value in MARKERS.items():
        r.check(d["fields"].get(name) == value, "field %s = 0x%x" % (name, value),
                "ours %s" % d["fields"].get(name))
    cookie = d["fields"].get("SecurityCookie", 0) - d["base"]
    r.check(cookie == syms.get("__security_cookie"), "SecurityCookie is __security_cookie",
            "0x%x" % cookie)
    check = d["fields"].get("GuardCFCheckFunctionPointer", 0) - d["base"]
    r.check(check == syms.get("__guard_check_icall_fptr"),
            "GuardCFCheckFunctionPointer is __guard_check_icall_fptr", "0x%x" % check)

    fids = [rva for rva, _ in d["guard-fid"]]
    r.check(len(fids) == d["fields"].get("GuardCFFunctionCount"), "function table has Count entries")
    r.check(fids == sorted(set(fids)), "function table sorted, no duplicates")
    for name in IN_FID_TABLE:
        r.check(syms.get(name) in fids, "%s in the function table" % name,
                "RVA %s" % (hex(syms[name]) if name in syms else "not in the map"))
    r.check("cfg_direct_only" in syms and syms["cfg_direct_only"] not in fids,
            "cfg_direct_only (never address-taken) not in the function table")
    r.check(all(f == 0 for _, f in d["guard-fid"]) or lc["stride"] > 4,
            "no metadata bytes without a stride above 4")
    iat = [rva for rva, _ in d["guard-iat"]]
    r.check(iat == [syms.get("__imp_ext_func")], "IAT table is the IAT slot of ext_func",
            str(list(map(hex, iat))))
    ljmp = [rva for rva, _ in d["guard-longjmp"]]
    r.check(ljmp == [syms.get("$cfgsj_cfg_setjmp0")], "longjmp table is the return from _setjmp",
            str(list(map(hex, ljmp))))
    ehgcr = [rva for name, rva in syms.items() if name.startswith("$ehgcr_")]
    ehcont = [rva for rva, _ in d["guard-ehcont"]]
    r.check(len(ehgcr) == 1 and ehcont == ehgcr, "EH continuation table is the catch's continuation",
            "ours %s, map %s" % (list(map(hex, ehcont)), list(map(hex, ehgcr))))
    if pe32:
        handler = syms.get("__ehhandler$cfg_catch")
        r.check(handler in d["seh"], "SEH table holds cfg_catch's handler",
                str(list(map(hex, d["seh"]))))
    return r.finish()


def check_short(pe_dump, dll, full_dll):
    r = Results()
    d = dump(pe_dump, dll)
    full = dump(pe_dump, full_dll)
    r.check(d["rc"] == 0 and not d["errors"], "pe-dump parses the short load config",
            " ".join(d["errors"]))
    lc = d["lc"]
    if lc is None:
        r.check(False, "load config present")
        return r.finish()
    want = 0x5c if lc["size"] < 0x94 else 0x94
    r.check(lc["size"] == want and lc["dir_size"] == want, "Size and directory size through GuardFlags",
            str(lc))
    r.check("GuardFlags" in d["fields"], "GuardFlags present")
    later = [n for n in ("CodeIntegrityFlags", "GuardAddressTakenIatEntryTable",
                         "GuardEHContinuationTable", "HotPatchTableOffset") if n in d["fields"]]
    r.check(not later, "no field past Size", ", ".join(later))
    r.check(d["guard-fid"] == full["guard-fid"] and d["guard-fid"],
            "function table as in the full load config")
    r.check(not d["guard-iat"] and not d["guard-longjmp"] and not d["guard-ehcont"],
            "no IAT, longjmp or EH continuation table past Size")
    return r.finish()


def set_dirsize(dll, out, size):
    data = bytearray(open(dll, "rb").read())
    nt = struct.unpack_from("<I", data, 0x3c)[0]
    magic = struct.unpack_from("<H", data, nt + 24)[0]
    dirs = nt + 24 + (112 if magic == 0x20b else 96)
    struct.pack_into("<I", data, dirs + 8 * 10 + 4, size)
    open(out, "wb").write(data)
    return 0


def main(argv):
    if len(argv) == 5 and argv[1] == "full":
        return check_full(argv[2], argv[3], argv[4])
    if len(argv) == 5 and argv[1] == "short":
        return check_short(argv[2], argv[3], argv[4])
    if len(argv) == 5 and argv[1] == "dirsize":
        return set_dirsize(argv[2], argv[3], int(argv[4], 0))
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
