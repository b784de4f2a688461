#!/usr/bin/env python3
"""Independent check of a patch image written by `hotpe build` (no pe/ code: own struct
unpacking of the PE headers, .hotp1, the load config and IMAGE_HOT_PATCH_INFO).

    check_hotp.py PATCH.dll BASE.exe [--scan SCAN.json]

Checks: .hotp1 header (HOT1, 0x00010000, bases, target name); every hook has a hook-target
validation whose bytes equal the base file's bytes at the hooked RVA, of the hook's size; the
entry hooks are X86_JMP2B with disp8 = -(padding hook size + 2) and sit right after their
padding hook; padding hooks point at code of the patch; each fixup slot's file bytes hold
OrigTargetBaseAddress + an RVA inside the base; data directory 10 -> load config ->
HotPatchTableOffset -> IMAGE_HOT_PATCH_INFO whose one base carries the base file's
TimeDateStamp and CheckSum; hotpe's build record (HPB1 at .hotp1 + 0x50) holds the base's
TimeDateStamp, SizeOfImage, CheckSum and machine, and its CodeView flag, GUID and age agree
with the base's own RSDS debug record (read through PointerToRawData); the PE checksum of the
patch is right. With --scan (`hotpe scan BASE --json`: the function entries the definition
bounds functions by), the function hashes (build record version 4, docs/live.md "Function
hashes") are computed here from the base file: each replaced function's bytes from its entry
to its x64 .pdata primary entry's end, else to the next entry, within its section's file
bytes, at most 64 KiB, with the fields of the base's .reloc directory and the bytes of the
patch's hooks zeroed, then hashlib's SHA-256; the record must hold one per replaced function,
with that length and hash. Prints one line per problem, then "hash RVA LENGTH SHA256" per
function it computed, then the identity it checked ("codeview GUID <hex> age N" or "codeview
none"), and exits 1 when there is any problem."""
import hashlib
import json
import struct
import sys


class PE:
    def __init__(self, path):
        self.b = open(path, 'rb').read()
        b = self.b
        nt = struct.unpack_from('<I', b, 0x3c)[0]
        assert b[nt:nt + 4] == b'PE\0\0'
        self.machine, nsec, self.timestamp = struct.unpack_from('<HHI', b, nt + 4)
        optsize = struct.unpack_from('<H', b, nt + 20)[0]
        self.opt = opt = nt + 24
        magic = struct.unpack_from('<H', b, opt)[0]
        self.plus = magic == 0x20b
        self.image_base = struct.unpack_from('<Q' if self.plus else '<I', b, opt + (24 if self.plus else 28))[0]
        self.size_of_image, = struct.unpack_from('<I', b, opt + 56)
        self.checksum, = struct.unpack_from('<I', b, opt + 64)
        dirs = opt + (112 if self.plus else 96)
        self.dirs = [struct.unpack_from('<II', b, dirs + 8 * i) for i in range(16)]
        st = opt + optsize
        self.secs = []
        for i in range(nsec):
            name, vsize, va, rsize, roff = struct.unpack_from('<8sIIII', b, st + 40 * i)
            chars, = struct.unpack_from('<I', b, st + 40 * i + 36)
            self.secs.append((name, vsize, va, rsize, roff, chars))

    def off(self, rva, n=1):
        for name, vsize, va, rsize, roff, chars in self.secs:
            if va <= rva and rva + n <= va + min(max(vsize, 1), rsize):
                return roff + rva - va
        raise ValueError('RVA 0x%x not backed' % rva)

    def read(self, rva, n):
        o = self.off(rva, n)
        return self.b[o:o + n]

    def u(self, fmt, rva):
        return struct.unpack_from(fmt, self.b, self.off(rva, struct.calcsize(fmt)))

    def exec_rva(self, rva):
        return any(va <= rva < va + vsize and chars & 0x20000000
                   for name, vsize, va, rsize, roff, chars in self.secs)

    def pe_checksum(self):
        b = bytearray(self.b)
        struct.pack_into('<I', b, self.opt + 64, 0)
        if len(b) % 2:
            b += b'\0'
        s = 0
        for (w,) in struct.iter_unpack('<H', b):
            s += w
            s = (s & 0xffff) + (s >> 16)
        s = (s & 0xffff) + (s >> 16)
        return (s + len(self.b)) & 0xffffffff


def codeview(pe):
    """The base's CodeView RSDS record: (GUID bytes in file order, age), or None."""
    rva, size = pe.dirs[6]
    if rva == 0:
        return None
    for i in range(size // 28):
        typ, n, _, raw = struct.unpack_from('<IIII', pe.b, pe.off(rva + 28 * i, 28) + 12)
        if typ == 2 and n >= 24 and pe.b[raw:raw + 4] == b'RSDS':
            return pe.b[raw + 4:raw + 20], struct.unpack_from('<I', pe.b, raw + 20)[0]
    return None


def reloc_fields(pe):
    """(rva, width) of every field the base relocations rewrite: HIGH, LOW, HIGHADJ 2 bytes,
    HIGHLOW 4, DIR64 8; ABSOLUTE none; HIGHADJ's parameter slot is no entry."""
    rva, size = pe.dirs[5]
    out = []
    if rva == 0 or size == 0:
        return out
    o = pe.off(rva, size)
    p, end = o, o + size
    while p < end:
        va, bs = struct.unpack_from('<II', pe.b, p)
        q = p + 8
        while q < p + bs:
            e, = struct.unpack_from('<H', pe.b, q)
            t, w = e >> 12, {1: 2, 2: 2, 3: 4, 4: 2, 10: 8}.get(e >> 12, 0)
            if w:
                out.append((va + (e & 0xfff), w))
            q += 4 if t == 4 else 2
        p += bs
    return out


def pdata_ends(pe):
    """x64: {begin: end} of the primary .pdata entries (a chained one is a fragment of another
    function; unreadable unwind info does not make an entry a fragment); the first non-empty
    entry of a begin wins, in (begin, end) order."""
    if not pe.plus:
        return {}
    rva, size = pe.dirs[3]
    ents = [pe.u('<III', rva + 12 * i) for i in range(size // 12)] if rva else []

    def primary_begin(b, e, u):
        for _ in range(33):
            try:
                if u & 1:
                    parent = u & ~1
                else:
                    vf, _, codes = pe.u('<BBB', u)
                    if not (vf >> 3) & 4:
                        return b
                    parent = u + 4 + ((codes + 1) & ~1) * 2
                b, e, u = pe.u('<III', parent)
            except (ValueError, struct.error):
                return None
        return None

    ends = {}
    for b, e, u in sorted(ents, key=lambda x: (x[0], x[1])):
        pb = primary_begin(b, e, u)
        if (pb is None or pb == b) and e > b and b not in ends:
            ends[b] = e
    return ends


def function_hashes(patch, base, hooks, entries):
    """{rva: (length, sha256 hex)} of each replaced function, computed from the base file."""
    fields = reloc_fields(base)
    ends = pdata_ends(base)
    entries = sorted(set(entries))
    hooked = [(h[2], h[1] & 0x1f) for h in hooks]
    out = {}
    for rva in replaced(patch):
        sec = [x for x in base.secs if x[2] <= rva < x[2] + (x[1] or x[3])][0]
        backed = sec[1] if sec[1] and sec[1] < sec[3] else sec[3]
        limit = sec[2] + backed
        end = ends.get(rva) or next((x for x in entries if x > rva), limit)
        end = min(end, limit, rva + 0x10000)
        data = bytearray(base.read(rva, end - rva))
        for at, w in fields + hooked:
            for a in range(max(at, rva), min(at + w, end)):
                data[a - rva] = 0
        out[rva] = (end - rva, hashlib.sha256(bytes(data)).hexdigest())
    return out


def build_record(patch):
    h = [s for s in patch.secs if s[0] == b'.hotp1  '][0][2] + 0x50
    return h, patch.u('<II', h)[1]


def replaced(patch):
    """The base RVAs of the build record's REPLACE references."""
    h, _ = build_record(patch)
    count, off = patch.u('<II', h + 0x38)
    return sorted({patch.u('<HHI', h + off + 0x14 * i)[2] for i in range(count)
                   if patch.u('<H', h + off + 0x14 * i)[0] == 2})


def recorded_hashes(patch):
    """{rva: (length, sha256 hex)} from the build record (none before version 4)."""
    h, version = build_record(patch)
    if version < 4:
        return {}
    count, off = patch.u('<II', h + 0x48)
    out = {}
    for i in range(count):
        rva, n, sha = patch.u('<II32s', h + off + 0x28 * i)
        out[rva] = (n, sha.hex())
    return out


def main():
    patch, base = PE(sys.argv[1]), PE(sys.argv[2])
    scan = json.load(open(sys.argv[4])) if len(sys.argv) > 4 and sys.argv[3] == '--scan' else None
    problems = []
    hot = [s for s in patch.secs if s[0] == b'.hotp1  ']
    if len(hot) != 1:
        print('no .hotp1 section')
        return 1
    h = hot[0][2]
    (sig, ver, nfix, fixrva, nval, valrva, nhook, hookrva, hotpbase, tgtbase, namerva,
     idmethod) = patch.u('<IIIIIIIIQQII', h)
    if sig != 0x31544F48 or ver != 0x00010000:
        problems.append('header signature/version 0x%x 0x%x' % (sig, ver))
    if hotpbase != patch.image_base or tgtbase != base.image_base:
        problems.append('header bases 0x%x 0x%x' % (hotpbase, tgtbase))
    # hotpe's build record: the base's identity
    (magic, _, _, _, ts, soi, cs, flags, guid, age, mach) = patch.u('<IIIIIIII16sIH', h + 0x50)
    cv = codeview(base)
    if magic != 0x31425048:
        problems.append('build record magic 0x%x' % magic)
    elif (ts, soi, cs, mach) != (base.timestamp, base.size_of_image, base.checksum, base.machine):
        problems.append('build record identity ts 0x%x soi 0x%x cs 0x%x machine 0x%x vs base 0x%x 0x%x 0x%x 0x%x' %
                        (ts, soi, cs, mach, base.timestamp, base.size_of_image, base.checksum, base.machine))
    elif bool(flags & 1) != bool(cv) or (cv and (guid, age) != cv):
        problems.append('build record CodeView flag %d GUID %s age %d vs base %s' %
                        (flags & 1, guid.hex(), age, '%s age %d' % (cv[0].hex(), cv[1]) if cv else 'none'))
    vals = {}
    for i in range(nval):
        src, tgt, cnt, opts = patch.u('<IIHH', valrva + 12 * i)
        vals[valrva + 12 * i] = (src, tgt, cnt, opts)
    hooks = [patch.u('<HHIII', hookrva + 16 * i) for i in range(nhook)]
    checked = 0
    for k, (typ, opts, hrva, hotp, vrva) in enumerate(hooks):
        size = opts & 0x1f
        if vrva not in vals:
            problems.append('hook %d: no validation' % k)
            continue
        src, tgt, cnt, vopts = vals[vrva]
        if tgt != hrva or cnt != size or not vopts & 1:
            problems.append('hook %d: validation 0x%x/%d does not cover the hook' % (k, tgt, cnt))
        want = base.read(hrva, size)
        got = patch.read(src, cnt)
        if want != got:
            problems.append('hook %d at RVA 0x%x: validation %s, base file %s' % (k, hrva, got.hex(), want.hex()))
        else:
            checked += 1
        if typ == 4:  # X86_JMP2B
            prev = hooks[k - 1] if k else None
            disp = struct.unpack('<i', struct.pack('<I', hotp))[0]
            if not prev or prev[2] + (prev[1] & 0x1f) != hrva or disp != -((prev[1] & 0x1f) + 2):
                problems.append('hook %d: JMP2B disp %d does not reach its padding hook' % (k, disp))
        elif typ in (2, 0x30):  # X86_JMP, AMD64_IND
            if not patch.exec_rva(hotp):
                problems.append('hook %d: replacement RVA 0x%x not code of the patch' % (k, hotp))
            if (typ == 2) == patch.plus:
                problems.append('hook %d: type %d for this machine' % (k, typ))
        else:
            problems.append('hook %d: unexpected type %d' % (k, typ))
    # fixups
    at, nfixups = fixrva, 0
    for r in range(nfix):
        head, = patch.u('<I', at)
        page, count = (head & 0xfffff) << 12, head >> 20
        at += 4
        for e in range(count):
            ent, = patch.u('<H', at)
            at += 2
            typ, rva = ent >> 12, page | (ent & 0xfff)
            if typ == 0:
                continue
            nfixups += 1
            width = {1: 4, 3: 8}.get(typ)
            if not width or (width == 8) != patch.plus:
                problems.append('fixup at 0x%x: type %d' % (rva, typ))
                continue
            v = int.from_bytes(patch.read(rva, width), 'little')
            if not tgtbase <= v < tgtbase + base.size_of_image:
                problems.append('fixup at 0x%x: slot holds 0x%x, not an address in the base' % (rva, v))
    # modern metadata
    lcrva, lcsize = patch.dirs[10]
    hpt_off = 0xf0 if patch.plus else 0x94
    if lcrva == 0 or lcsize < hpt_off + 4:
        problems.append('load config directory missing or short (0x%x, 0x%x)' % (lcrva, lcsize))
    else:
        size, = patch.u('<I', lcrva)
        info, = patch.u('<I', lcrva + hpt_off)
        if size < hpt_off + 4 or info == 0:
            problems.append('load config Size 0x%x / HotPatchTableOffset 0x%x' % (size, info))
        else:
            v, isize, seq, lst, cnt = patch.u('<IIIII', info)
            if cnt != 1:
                problems.append('IMAGE_HOT_PATCH_INFO: %d bases' % cnt)
            else:
                b0, = patch.u('<I', info + lst)
                bseq, flags, ts, cs = patch.u('<IIII', info + b0)
                if ts != base.timestamp or cs != base.checksum or bseq != seq:
                    problems.append('IMAGE_HOT_PATCH_BASE: ts 0x%x cs 0x%x seq %d vs base ts 0x%x cs 0x%x' %
                                    (ts, cs, bseq, base.timestamp, base.checksum))
                if flags & (0x10 if patch.plus else 0x4) == 0:
                    problems.append('IMAGE_HOT_PATCH_BASE: machine flag 0x%x' % flags)
    # function hashes, from the base file alone (the entries: scan's list, as defined)
    computed = {}
    if scan is not None:
        computed = function_hashes(patch, base, hooks, [f['rva'] for f in scan['functions']])
        recorded = recorded_hashes(patch)
        if sorted(recorded) != sorted(computed):
            problems.append('function hashes recorded for %s, replaced functions %s' %
                            ([hex(r) for r in sorted(recorded)], [hex(r) for r in sorted(computed)]))
        for rva in sorted(set(recorded) & set(computed)):
            if recorded[rva] != computed[rva]:
                problems.append('function hash at RVA 0x%x: recorded %d bytes %s, computed %d bytes %s' %
                                ((rva,) + recorded[rva] + computed[rva]))
    if patch.pe_checksum() != patch.checksum:
        problems.append('PE checksum 0x%x, computed 0x%x' % (patch.checksum, patch.pe_checksum()))
    for p in problems:
        print(p)
    print('checked %d hooks against the base file, %d fixups' % (checked, nfixups))
    for rva in sorted(computed):
        print('hash 0x%x %d %s' % ((rva,) + computed[rva]))
    print('codeview GUID %s age %d' % (cv[0].hex(), cv[1]) if cv else 'codeview none')
    return 1 if problems or checked == 0 else 0


if __name__ == '__main__':
    sys.exit(main())
