#!/usr/bin/env python3
"""Independent check of a patch image written by `hotpe build` (no pe/ code: own struct
unpacking of the PE headers, .hotp1, the load config and IMAGE_HOT_PATCH_INFO).

    check_hotp.py PATCH.dll BASE.exe

Checks: .hotp1 header (HOT1, 0x00010000, bases, target name); every hook has a hook-target
validation whose bytes equal the base file's bytes at the hooked RVA, of the hook's size; the
entry hooks are X86_JMP2B with disp8 = -(padding hook size + 2) and sit right after their
padding hook; padding hooks point at code of the patch; each fixup slot's file bytes hold
OrigTargetBaseAddress + an RVA inside the base; data directory 10 -> load config ->
HotPatchTableOffset -> IMAGE_HOT_PATCH_INFO whose one base carries the base file's
TimeDateStamp and CheckSum; hotpe's build record (HPB1 at .hotp1 + 0x50) holds the base's
TimeDateStamp, SizeOfImage, CheckSum and machine, and its CodeView flag, GUID and age agree
with the base's own RSDS debug record (read through PointerToRawData); the PE checksum of the
patch is right. Prints one line per problem, then the identity it checked ("codeview GUID
<hex> age N" or "codeview none"), and exits 1 when there is any problem."""
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


def main():
    patch, base = PE(sys.argv[1]), PE(sys.argv[2])
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
    if patch.pe_checksum() != patch.checksum:
        problems.append('PE checksum 0x%x, computed 0x%x' % (patch.checksum, patch.pe_checksum()))
    for p in problems:
        print(p)
    print('checked %d hooks against the base file, %d fixups' % (checked, nfixups))
    print('codeview GUID %s age %d' % (cv[0].hex(), cv[1]) if cv else 'codeview none')
    return 1 if problems or checked == 0 else 0


if __name__ == '__main__':
    sys.exit(main())
