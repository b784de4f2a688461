#!/usr/bin/env python3
"""Check `hotpe VERB --json` output against docs/json.md: every key in the output is documented
for that verb with the type it has, and every documented key appears in at least one output.

usage: json_doc.py [--no-cover] [--cover SECTION]... DOC VERB FILE...

docs/json.md marks each key table with a line "<!-- json-keys: SECTION -->"; its rows are
"| `path` | type | meaning |", a path like `functions[].write.form` (`[]`: every element of an
array), a type like "number", "string or null", "object", "array". The live verbs' refused
processes (status "refused") are checked against the section "refused" instead of the verb's.
Coverage is checked for VERB and each --cover SECTION, over all the files together; an array's
element row (a path ending in `[]`) needs none, as the array may be empty.
Prints one line per problem and exits 1 when there is one.
"""
import json
import re
import sys

LIVE = {"check", "apply", "list", "revert"}
TYPES = {dict: "object", list: "array", str: "string", bool: "bool", int: "number",
         float: "number", type(None): "null"}


def load_doc(path):
    sections, name = {}, None
    for line in open(path, encoding="utf-8"):
        m = re.match(r"<!-- json-keys: (\S+) -->", line)
        if m:
            name = m.group(1)
            sections.setdefault(name, {})
            continue
        if name is None:
            continue
        if not line.startswith("|"):
            if line.strip() and sections[name]:
                name = None  # the table ended
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        m = re.fullmatch(r"`([^`]+)`", cells[0])
        if not m or len(cells) < 3:
            continue  # header or separator row
        sections[name][m.group(1)] = {t.strip() for t in cells[1].split(" or ")}
    return sections


def walk(value, path, seen):
    """seen: path -> set of types observed there."""
    if path:
        seen.setdefault(path, set()).add(TYPES[type(value)])
    if isinstance(value, dict):
        for k, v in value.items():
            walk(v, path + "." + k if path else k, seen)
    elif isinstance(value, list):
        for v in value:
            walk(v, path + "[]", seen)


def main(argv):
    cover, no_cover = [], False
    while argv and argv[0].startswith("--"):
        if argv[0] == "--no-cover":
            no_cover = True
            argv = argv[1:]
        elif argv[0] == "--cover":
            cover.append(argv[1])
            argv = argv[2:]
        else:
            sys.exit("json_doc.py: unknown option " + argv[0])
    doc_path, verb, files = argv[0], argv[1], argv[2:]
    doc = load_doc(doc_path)
    problems = []
    for section in [verb] + cover:
        if section not in doc:
            problems.append("%s: no key table for %r" % (doc_path, section))
    if problems:
        print("\n".join(problems))
        return 1
    seen = {verb: {}, "refused": {}}
    for f in files:
        try:
            d = json.load(open(f, encoding="utf-8"))
        except (OSError, ValueError) as e:
            problems.append("%s: not a JSON document: %s" % (f, e))
            continue
        per_file = {verb: {}, "refused": {}}
        procs = d.get("processes") if verb in LIVE and isinstance(d, dict) else None
        if isinstance(procs, list):
            rest = dict(d, processes=[p for p in procs if p.get("status") != "refused"])
            walk(rest, "", per_file[verb])
            per_file[verb].setdefault("processes", set()).add("array")
            for p in procs:
                if p.get("status") == "refused":
                    walk(p, "processes[]", per_file["refused"])
        else:
            walk(d, "", per_file[verb])
        for section, paths in per_file.items():
            documented = doc.get(section, {})
            for path, types in sorted(paths.items()):
                if path.endswith("[]") and types == {"object"}:
                    continue  # an array's object elements: their keys are what is documented
                if path not in documented:
                    problems.append("%s: key %s (%s) is not documented for %s" %
                                    (f, path, "/".join(sorted(types)), section))
                elif not types <= documented[path]:
                    problems.append("%s: key %s is %s, documented as %s" %
                                    (f, path, "/".join(sorted(types - documented[path])),
                                     " or ".join(sorted(documented[path]))))
                seen[section].setdefault(path, set()).update(types)
    if not no_cover:
        for section in [verb] + cover:
            for path in doc[section]:
                if not path.endswith("[]") and path not in seen.get(section, {}):
                    problems.append("%s: documented key %s of %s is in none of the outputs" %
                                    (doc_path, path, section))
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
