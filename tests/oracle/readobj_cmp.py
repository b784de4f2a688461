#!/usr/bin/env python3
"""Compare pe-dump (pe/) with llvm-readobj, image by image.

    readobj_cmp.py [--loaded] PE_DUMP LLVM_READOBJ IMAGE...

For each image both tools run once (with --loaded, pe-dump also parses the image mapped to its
loaded layout, and that must agree too); these must agree:
  exports   every slot: ordinal, RVA and name (readobj prints no forwarders: ours must name one
            exactly when the RVA lies in the export directory, and it must equal the string
            there, read here from the file through readobj's section table)
  relocs    every entry, in order: RVA and type
  pdata     every RUNTIME_FUNCTION, in order: begin, end, unwind RVA; for chained unwind info,
            readobj's parent entry must be the start of our chain
  loadcfg   every field readobj prints, and the SEH, CFG function, IAT, longjmp and EH
            continuation tables (RVA, and the metadata byte where both read the same stride);
            readobj 14 swaps two PE32 fields (see LC_RENAME_PE32)
Each disagreement is printed as "IMAGE: PART: ...". The last line is "N passed, M failed"
(images); the exit status is 1 when any image failed.
"""
import os
import re
import subprocess
import sys

RELOC_TYPES = {"ABSOLUTE": 0, "HIGH": 1, "LOW": 2, "HIGHLOW": 3, "HIGHADJ": 4, "DIR64": 10}

# readobj's load config names -> the winnt.h names pe/ uses.
LC_RENAME = {
    "GuardCFCheckFunction": "GuardCFCheckFunctionPointer",
    "GuardCFCheckDispatch": "GuardCFDispatchFunctionPointer",
}

# llvm-readobj 14's coff_load_configuration32 has these two in the PE64 order; winnt.h's
# IMAGE_LOAD_CONFIG_DIRECTORY32 (and Windows) put ProcessHeapFlags at 0x2c, ProcessAffinityMask
# at 0x30. The CFG test DLL stores different values in them, so a readobj that fixes this makes
# the swap below fail visibly.
LC_RENAME_PE32 = {
    "ProcessHeapFlags": "ProcessAffinityMask",
    "ProcessAffinityMask": "ProcessHeapFlags",
}

# readobj's table names -> pe-dump's line kinds.
GUARD_TABLES = {
    "GuardFidTable": "guard-fid",
    "GuardIatTable": "guard-iat",
    "GuardLJmpTable": "guard-longjmp",
    "GuardEHContTable": "guard-ehcont",
}


class Node:
    def __init__(self, name):
        self.name = name
        self.fields = []    # (key, value) in order
        self.children = []  # Node, in order
        self.lines = []     # bare lines (table entries)

    def get(self, key, default=None):
        for k, v in self.fields:
            if k == key:
                return v
        return default

    def kids(self, name):
        return [c for c in self.children if c.name == name]


def parse_readobj(text):
    """readobj's ScopedPrinter output as a tree of nodes."""
    root = Node("")
    stack = [root]
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        # "Flags [ (0x0)" opens a list whose value sits on the same line.
        flags = re.match(r"^(\w+) \[ \((0x[0-9A-Fa-f]+)\)$", line)
        if flags or line.endswith("{") or line.endswith("["):
            name = flags.group(1) if flags else line[:-1].strip()
            if flags:
                stack[-1].fields.append((name, flags.group(2)))
            node = Node(name)
            stack[-1].children.append(node)
            stack.append(node)
        elif line in ("}", "]"):
            if len(stack) > 1:
                stack.pop()
        elif ": " in line or line.endswith(":"):
            key, _, value = line.partition(":")
            stack[-1].fields.append((key.strip(), value.strip()))
        else:
            stack[-1].lines.append(line)
    return root


def num(value):
    """A readobj number: "0x1A", "12", "name (0x1A)", "1970-01-01 00:00:00 (0x0)"."""
    m = re.search(r"\((0x[0-9A-Fa-f]+)\)\s*$", value)
    if m:
        return int(m.group(1), 16)
    value = value.split()[0]
    return int(value, 16) if value.lower().startswith("0x") else int(value)


def unescape(name):
    if name == "-":
        return None
    return re.sub(r"\\x([0-9a-f]{2})", lambda m: chr(int(m.group(1), 16)), name).replace("\0", "")


def parse_dump(text):
    d = {"exports": [], "relocs": [], "pdata": [], "primary": {}, "loadcfg": None, "fields": {},
         "seh": [], "errors": [], "base": None}
    for k in GUARD_TABLES.values():
        d[k] = []
    for line in text.splitlines():
        w = line.split(" ")
        kind = w[0]
        if kind == "image":
            d["base"] = int(w[3], 16)
        elif kind == "export":
            d["exports"].append((int(w[1]), int(w[2], 16), unescape(w[3]), unescape(w[4])))
        elif kind == "reloc":
            d["relocs"].append((int(w[1], 16), int(w[2])))
        elif kind == "pdata":
            d["pdata"].append(tuple(int(x, 16) for x in w[1:4]))
        elif kind == "pdata-primary":
            d["primary"][int(w[1], 16)] = tuple(int(x, 16) for x in w[2:5])
        elif kind == "loadcfg":
            d["loadcfg"] = {"dir_size": int(w[2], 16), "size": int(w[4], 16), "stride": int(w[6])}
        elif kind == "loadcfg-field":
            d["fields"][w[1]] = int(w[2], 16)
        elif kind in d and kind.startswith("guard-"):
            d[kind].append((int(w[1], 16), int(w[2], 16)))
        elif kind == "seh":
            d["seh"].append(int(w[1], 16))
        elif kind == "error":
            d["errors"].append(line)
    return d


class Image:
    """What readobj says about the headers, and raw reads of the file through its sections."""

    def __init__(self, path, tree):
        self.path = path
        self.data = open(path, "rb").read()
        hdr = tree.kids("ImageOptionalHeader")[0]
        self.base = num(hdr.get("ImageBase"))
        dirs = hdr.kids("DataDirectory")[0] if hdr.kids("DataDirectory") else hdr
        self.export_rva = num(dirs.get("ExportTableRVA", "0"))
        self.export_size = num(dirs.get("ExportTableSize", "0"))
        self.sections = []
        for s in tree.kids("Sections")[0].kids("Section"):
            self.sections.append((num(s.get("VirtualAddress")), num(s.get("VirtualSize")),
                                  num(s.get("RawDataSize")), num(s.get("PointerToRawData"))))

    def cstring(self, rva):
        for va, vsize, rsize, rptr in self.sections:
            backed = min(vsize, rsize) if vsize else rsize
            if va <= rva < va + backed:
                off = rptr + rva - va
                end = self.data.find(b"\0", off, rptr + backed)
                return None if end < 0 else self.data[off:end].decode("latin-1")
        return None


def compare(image, dump, tree):
    errs = []

    def err(part, msg):
        errs.append("%s: %s: %s" % (image.path, part, msg))

    for e in dump["errors"]:
        err("pe-dump", e)
    if dump["base"] is not None and dump["base"] != image.base:
        err("headers", "ImageBase ours 0x%x vs readobj 0x%x" % (dump["base"], image.base))

    # Exports.
    theirs = [(num(x.get("Ordinal")), num(x.get("RVA")), x.get("Name") or None)
              for x in tree.kids("Export")]
    ours = dump["exports"]
    if len(ours) != len(theirs):
        err("exports", "%d slots ours vs %d readobj" % (len(ours), len(theirs)))
    for (o_ord, o_rva, o_name, o_fwd), t in zip(ours, theirs):
        if (o_ord, o_rva, o_name) != t:
            err("exports", "ours %s vs readobj %s" % ((o_ord, hex(o_rva), o_name),
                                                     (t[0], hex(t[1]), t[2])))
            continue
        in_dir = o_rva and image.export_rva <= o_rva < image.export_rva + image.export_size
        if in_dir:
            want = image.cstring(o_rva)
            if o_fwd != want:
                err("exports", "ordinal %d: forwarder ours %r vs file %r" % (o_ord, o_fwd, want))
        elif o_fwd is not None:
            err("exports", "ordinal %d: forwarder %r for an RVA outside the directory"
                % (o_ord, o_fwd))

    # Base relocations.
    theirs = []
    for blk in tree.kids("BaseReloc"):
        for e in blk.kids("Entry"):
            t = e.get("Type")
            theirs.append((num(e.get("Address")), RELOC_TYPES.get(t, t)))
    ours = dump["relocs"]
    if len(ours) != len(theirs):
        err("relocs", "%d entries ours vs %d readobj" % (len(ours), len(theirs)))
    for i, (o, t) in enumerate(zip(ours, theirs)):
        if o != t:
            err("relocs", "entry %d: ours (0x%x, %s) vs readobj (0x%x, %s)"
                % (i, o[0], o[1], t[0], t[1]))
            break

    # Exception directory.
    theirs = []
    chained = {}
    for uw in tree.kids("UnwindInformation"):
        for rf in uw.kids("RuntimeFunction"):
            entry = tuple(num(rf.get(k)) - image.base
                          for k in ("StartAddress", "EndAddress", "UnwindInfoAddress"))
            theirs.append(entry)
            for ui in rf.kids("UnwindInfo"):
                for ch in ui.kids("Chained"):
                    chained[entry[0]] = tuple(num(ch.get(k)) - image.base for k in
                                              ("StartAddress", "EndAddress", "UnwindInfoAddress"))
    ours = dump["pdata"]
    if len(ours) != len(theirs):
        err("pdata", "%d entries ours vs %d readobj" % (len(ours), len(theirs)))
    for i, (o, t) in enumerate(zip(ours, theirs)):
        if o != t:
            err("pdata", "entry %d: ours %s vs readobj %s"
                % (i, tuple(map(hex, o)), tuple(map(hex, t))))
            break
    by_begin = {t[0]: t for t in theirs}
    for begin, parent in chained.items():
        if begin not in dump["primary"]:
            err("pdata", "0x%x: readobj chains it to 0x%x, ours does not" % (begin, parent[0]))
        elif parent[0] not in chained and dump["primary"][begin] != parent:
            err("pdata", "0x%x: primary ours 0x%x vs readobj 0x%x"
                % (begin, dump["primary"][begin][0], parent[0]))
    for begin in dump["primary"]:
        if begin not in chained and begin in by_begin:
            err("pdata", "0x%x: ours chained, readobj not" % begin)

    # Load config.
    lcs = tree.kids("LoadConfig")
    if bool(lcs) != (dump["loadcfg"] is not None):
        err("loadcfg", "present: ours %s vs readobj %s" % (dump["loadcfg"] is not None, bool(lcs)))
    if lcs and dump["loadcfg"] is not None:
        lc = dump["loadcfg"]
        pe32 = tree.kids("ImageOptionalHeader")[0].get("Magic") == "0x10B"
        for key, value in lcs[0].fields:
            name = LC_RENAME.get(key, key)
            if pe32:
                name = LC_RENAME_PE32.get(name, name)
            if name not in dump["fields"]:
                err("loadcfg", "%s: readobj prints %s, ours has no such field" % (name, value))
            elif dump["fields"][name] != num(value):
                err("loadcfg", "%s: ours 0x%x vs readobj %s" % (name, dump["fields"][name], value))
        gflags = dump["fields"].get("GuardFlags", 0)
        # readobj reads each table with a fixed stride of its own; the metadata byte is compared
        # where it agrees with the stride of GuardFlags, the RVAs wherever it cannot shift them.
        their_stride = {"guard-fid": 5 if gflags & 0x10000000 else 4, "guard-iat": 4,
                        "guard-longjmp": 4, "guard-ehcont": 5}
        for rname, kind in GUARD_TABLES.items():
            tbl = tree.kids(rname)
            theirs = []
            for line in (tbl[0].lines if tbl else []):
                m = re.match(r"^0x([0-9A-Fa-f]+)(?: flags ([0-9A-Fa-f]+))?$", line)
                if not m:
                    err(kind, "unreadable readobj line %r" % line)
                    continue
                theirs.append((int(m.group(1), 16) - image.base, int(m.group(2) or "0", 16)))
            ours = dump[kind]
            same_stride = their_stride[kind] == lc["stride"]
            if not same_stride:
                ours, theirs = ours[:1], theirs[:1]
            if len(ours) != len(theirs):
                err(kind, "%d entries ours vs %d readobj" % (len(ours), len(theirs)))
            for o, t in zip(ours, theirs):
                if o[0] != t[0] or (same_stride and o[1] != t[1]):
                    err(kind, "ours (0x%x, flags 0x%x) vs readobj (0x%x, flags 0x%x)"
                        % (o[0], o[1], t[0], t[1]))
        seh = tree.kids("SEHTable")
        theirs = [int(x, 16) - image.base for x in (seh[0].lines if seh else [])]
        if dump["seh"] != theirs:
            err("seh", "ours %s vs readobj %s" % (list(map(hex, dump["seh"])),
                                                 list(map(hex, theirs))))
    return errs


def run(cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          errors="replace")


def main(argv):
    args = argv[1:]
    loaded = "--loaded" in args
    args = [a for a in args if a != "--loaded"]
    if len(args) < 3:
        sys.stderr.write(__doc__)
        return 2
    pe_dump, readobj, images = args[0], args[1], args[2:]
    passed = failed = 0
    for path in images:
        ro = run([readobj, "--file-headers", "--sections", "--coff-exports", "--coff-basereloc",
                  "--unwind", "--coff-load-config", path])
        errs = []
        if ro.returncode != 0:
            errs.append("%s: llvm-readobj failed: %s" % (path, ro.stderr.strip()))
        else:
            tree = parse_readobj(ro.stdout)
            image = Image(path, tree)
            for mode in ([], ["--loaded"]) if loaded else ([],):
                pd = run([pe_dump] + mode + [path])
                tag = " (loaded layout)" if mode else ""
                if pd.returncode not in (0, 1):
                    errs.append("%s%s: pe-dump failed: %s" % (path, tag, pd.stderr.strip()))
                    continue
                errs += [e.replace(path + ":", path + tag + ":", 1)
                         for e in compare(image, parse_dump(pd.stdout), tree)]
        if errs:
            failed += 1
            for e in errs[:20]:
                print(e)
            if len(errs) > 20:
                print("%s: ... %d more" % (path, len(errs) - 20))
        else:
            passed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
