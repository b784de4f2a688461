#!/usr/bin/env python3
"""Runs the commands the README shows and checks that the output it shows is still what they print.

A command is a line "$ CMD" inside a fenced block; the lines after it, up to the next command
or the block's end, are its output as shown ("..." marks a cut). Each shown line must appear
in the real output, hex numbers aside (build timestamps and checksums change from build to
build). Lines run under Wine ("$ wine ...") are the demo's transcript: scripts/demo.sh prints
and checks them, and wine-tests/test_demo.sh runs it. The two commands at the top
(make deps && make demo / make test) are what CI runs.
"""
import os
import re
import subprocess
import sys
import tempfile

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
hexnum = re.compile(r"0x[0-9a-fA-F]+")


def norm(line):
    return " ".join(hexnum.sub("0x#", line).split())


def commands(text):
    """(line number, command, shown output lines) for each "$ " line in a fenced block."""
    out, block, cur = [], False, None
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith("```"):
            if cur:
                out.append(cur)
            cur, block = None, not block
            continue
        if not block:
            continue
        if line.startswith("$ "):
            if cur:
                out.append(cur)
            cur = (n, line[2:].split("    #")[0].strip(), [])
        elif cur is not None:
            cur[2].append(line)
    return out


def main():
    text = open(os.path.join(root, "README.md")).read()
    passed = failed = skipped = 0
    with tempfile.TemporaryDirectory() as scratch:
        # Commands name build/...: run them in a scratch folder that sees the build tree, so
        # what they write (-o p.dll) stays out of the repository.
        os.symlink(os.path.join(root, "build"), os.path.join(scratch, "build"))
        for n, cmd, shown in commands(text):
            if cmd.startswith("wine "):
                skipped += 1
                continue
            r = subprocess.run(cmd, shell=True, cwd=scratch, capture_output=True, text=True,
                               timeout=120)
            got = {norm(l) for l in (r.stdout + r.stderr).splitlines()}
            missing = [l for l in shown if l.strip() and l.strip() != "..." and norm(l) not in got]
            if r.returncode != 0 or missing:
                failed += 1
                print(f"FAIL README.md:{n}: {cmd}: exit {r.returncode}")
                for l in missing[:5]:
                    print(f"   shown but not printed: {l.strip()}")
            else:
                passed += 1
                print(f"ok   README.md:{n}: {cmd}")
    print(f"({skipped} demo transcript lines are checked by test_demo.sh)")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
