#!/usr/bin/env python3
"""The README cannot drift: every command it shows is run, and the output it shows is checked.

A command is a line "$ CMD" inside a fenced block; the lines after it, up to the next command
or the block's end, are its output as shown ("..." marks a cut).

- A block right after a line "<!-- transcript: SCRIPT ARGS -->" is a transcript of that script
  (scripts/demo.sh or scripts/tour.sh, which print each command as "$ CMD" and run it as
  printed). Its commands must appear in the script's real output, in the README's order, and
  the lines shown after each, in order, between that command and the next one the README shows
  (lines before the first command: before it). Needs Wine: with --wine the scripts are run
  (exit 0 required), or their saved output is given with --transcript "SCRIPT ARGS=FILE";
  without either these blocks are counted as left to wine-tests/test_tour.sh.
- Any other block's commands are run (in a scratch folder that sees build/, sdk/ and samples/,
  so what they write stays out of the repository) and each line shown must be in the output.
- A "$ wine ..." command outside a transcript block is an error: nothing would check it.

Lines are compared normalised: pids, ports, timings, sizes, tick counts, dates, hex numbers,
certificate thumbprints and the checkout's absolute path vary from run to run; everything else
must match.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NORM = [
    (re.compile(r"0x[0-9a-fA-F]+"), "0x#"),
    (re.compile(r"\b[0-9a-f]{40}\b"), "THUMBPRINT"),  # a certificate made for the run
    (re.compile(r"\bpid \d+"), "pid #"),
    (re.compile(r"\blistening on \d+"), "listening on #"),
    (re.compile(r"(quote-client\.exe) \d+"), r"\1 #"),
    (re.compile(r"\btick \d+"), "tick #"),
    (re.compile(r"\b\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\b"), "DATE"),
    (re.compile(r"\b\d+(\.\d+)? ?(us|ms|s)\b"), r"# \2"),
    (re.compile(r"\(\d+ bytes\)"), "(# bytes)"),
    (re.compile(r"\b[A-Z]:\\\S*?\\build\\"), r"ROOT\\build\\"),
]
DOC = "README.md"  # the file checked, in messages
TRANSCRIPT = re.compile(r"^<!--\s*transcript:\s*(.+?)\s*-->\s*$")


def norm(line):
    line = line.replace("\r", "")
    for rx, to in NORM:
        line = rx.sub(to, line)
    return " ".join(line.split())


def strip_comment(cmd):
    return cmd.split("    #")[0].strip()


def blocks(text):
    """(transcript script or None, [(line number, command, shown lines)], prelude lines)."""
    out, cur, pending = [], None, None
    for n, line in enumerate(text.splitlines(), 1):
        if cur is None:
            if line.startswith("```"):
                cur = (pending, [], [])
                pending = None
                continue
            m = TRANSCRIPT.match(line)
            if m:
                pending = m.group(1)
            elif line.strip():
                pending = None
            continue
        if line.startswith("```"):
            out.append(cur)
            cur = None
        elif line.startswith("$ "):
            cur[1].append((n, strip_comment(line[2:]), []))
        elif cur[1]:
            cur[1][-1][2].append(line)
        else:
            cur[2].append(line)
    return out


def shown_lines(lines):
    return [norm(l) for l in lines if l.strip() and l.strip() != "..."]


def subsequence(want, have):
    """The first line of want not found in have in order, or None."""
    i = 0
    for w in want:
        while i < len(have) and have[i] != w:
            i += 1
        if i == len(have):
            return w
        i += 1
    return None


def check_transcript(cmds, prelude, lines):
    """Matches a transcript block against a script's output; returns a list of errors."""
    t = [norm(l) for l in lines]
    where = {}
    for i, l in enumerate(t):
        if l.startswith("$ "):
            where.setdefault(norm(strip_comment(lines[i].replace("\r", "")[2:])), []).append(i)

    def place(k, after):
        # positions for commands k.. (each after the previous) such that every shown block fits
        if k == len(cmds):
            return []
        for p in where.get(norm(cmds[k][1]), []):
            if p <= after:
                continue
            rest = place(k + 1, p)
            if rest is None:
                continue
            end = rest[0] if rest else len(t)
            if subsequence(shown_lines(cmds[k][2]), t[p + 1:end]) is None:
                return [p] + rest
        return None

    errs = []
    pos = place(0, -1)
    if pos is None:
        # say which command fails, the first one that cannot be placed after the previous
        after = -1
        for n, cmd, shown in cmds:
            ps = [p for p in where.get(norm(cmd), []) if p > after]
            if not ps:
                errs.append(f"{DOC}:{n}: not in the transcript (after the previous command): $ {cmd}")
                break
            miss = subsequence(shown_lines(shown), t[ps[0] + 1:])
            if miss is not None:
                errs.append(f"{DOC}:{n}: $ {cmd}: shown but not printed (in order): {miss}")
                break
            after = ps[0]
        return errs or ["the commands cannot all be placed in order"]
    first = pos[0] if pos else len(t)
    miss = subsequence(shown_lines(prelude), t[:first])
    if miss is not None:
        errs.append(f"shown before the first command but not printed: {miss}")
    return errs


def run_script(script):
    r = subprocess.run(["bash"] + script.split(), cwd=root, capture_output=True, text=True, timeout=600)
    lines = (r.stdout + r.stderr).splitlines()
    return r.returncode, lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wine", action="store_true", help="run the transcript scripts not given")
    ap.add_argument("--transcript", action="append", default=[], metavar="SCRIPT ARGS=FILE")
    ap.add_argument("--readme", default=os.path.join(root, "README.md"))
    args = ap.parse_args()
    saved = {}
    for spec in args.transcript:
        script, _, path = spec.rpartition("=")
        with open(path, errors="replace") as f:
            saved[" ".join(script.split())] = f.read().splitlines()

    global DOC
    DOC = os.path.relpath(args.readme, root)
    text = open(args.readme).read()
    passed = failed = skipped = 0
    with tempfile.TemporaryDirectory() as scratch:
        for d in ("build", "sdk", "samples"):
            os.symlink(os.path.join(root, d), os.path.join(scratch, d))
        for script, cmds, prelude in blocks(text):
            if script is None:
                for n, cmd, shown in cmds:
                    if cmd.startswith("wine "):
                        failed += 1
                        print(f"FAIL {DOC}:{n}: {cmd}: a Wine command outside a transcript block")
                        continue
                    r = subprocess.run(cmd, shell=True, cwd=scratch, capture_output=True, text=True,
                                       timeout=120)
                    got = {norm(l) for l in (r.stdout + r.stderr).splitlines()}
                    missing = [l for l in shown_lines(shown) if l not in got]
                    if r.returncode != 0 or missing:
                        failed += 1
                        print(f"FAIL {DOC}:{n}: {cmd}: exit {r.returncode}")
                        for l in missing[:5]:
                            print(f"   shown but not printed: {l}")
                    else:
                        passed += 1
                        print(f"ok   {DOC}:{n}: {cmd}")
                continue
            key = " ".join(script.split())
            first = cmds[0][0] if cmds else "?"
            if key not in saved:
                if not args.wine:
                    skipped += len(cmds)
                    continue
                rc, saved[key] = run_script(key)
                if rc != 0:
                    failed += 1
                    print(f"FAIL {key}: exit {rc}")
                    print("\n".join("   " + l for l in saved[key][-10:]))
                    continue
            errs = check_transcript(cmds, prelude, saved[key])
            if errs:
                failed += 1
                print(f"FAIL {DOC}:{first}: transcript of {key} ({len(cmds)} commands)")
                for e in errs:
                    print("   " + e)
            else:
                passed += len(cmds)
                print(f"ok   {DOC}:{first}: transcript of {key} ({len(cmds)} commands)")
    if skipped:
        print(f"({skipped} commands in transcript blocks need Wine: wine-tests/test_tour.sh checks them)")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
