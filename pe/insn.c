/* hotpe: encodings of the emitted jumps (see insn.h). */
#include "hotpe/pe/insn.h"

#include <string.h>

/* The structs are copied byte for byte: their multi-byte fields must already be little-endian. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "hp_insn_* structs assume little-endian");

/* target - next as a signed displacement that fits in [lo, hi]; the difference is taken modulo
 * 2^64 so that it cannot overflow, then read as two's complement. */
static int disp_fits(uint64_t next, uint64_t target, int64_t lo, int64_t hi, int64_t *disp)
{
    uint64_t d = target - next;
    int64_t s = d <= (uint64_t)INT64_MAX ? (int64_t)d : -(int64_t)(~d) - 1;
    if (s < lo || s > hi)
        return 0;
    *disp = s;
    return 1;
}

hp_status hp_insn_jmp_rel32_encode(uint64_t at, uint64_t target, uint8_t out[5])
{
    int64_t d;
    if (!out)
        return HP_E_ARG;
    if (at > UINT64_MAX - HP_INSN_JMP_REL32_LEN ||
        !disp_fits(at + HP_INSN_JMP_REL32_LEN, target, INT32_MIN, INT32_MAX, &d))
        return HP_E_INSN_RANGE;
    hp_insn_jmp_rel32 j = { 0xE9, (int32_t)d };
    memcpy(out, &j, sizeof j);
    return HP_OK;
}

hp_status hp_insn_jmp_rel32_encode_x86(uint32_t at, uint32_t target, uint8_t out[5])
{
    if (!out)
        return HP_E_ARG;
    uint32_t d = target - (at + HP_INSN_JMP_REL32_LEN); /* wraps on purpose, like EIP */
    hp_insn_jmp_rel32 j = { 0xE9, (int32_t)d };
    memcpy(out, &j, sizeof j);
    return HP_OK;
}

hp_status hp_insn_jmp_rip_encode(uint64_t at, uint64_t slot, uint8_t out[6])
{
    int64_t d;
    if (!out)
        return HP_E_ARG;
    if (at > UINT64_MAX - HP_INSN_JMP_RIP_LEN ||
        !disp_fits(at + HP_INSN_JMP_RIP_LEN, slot, INT32_MIN, INT32_MAX, &d))
        return HP_E_INSN_RANGE;
    hp_insn_jmp_rip j = { 0xFF, 0x25, (int32_t)d };
    memcpy(out, &j, sizeof j);
    return HP_OK;
}

hp_status hp_insn_jmp_rel8_encode(uint64_t at, uint64_t target, uint8_t out[2])
{
    int64_t d;
    if (!out)
        return HP_E_ARG;
    if (at > UINT64_MAX - HP_INSN_JMP_REL8_LEN ||
        !disp_fits(at + HP_INSN_JMP_REL8_LEN, target, INT8_MIN, INT8_MAX, &d))
        return HP_E_INSN_RANGE;
    hp_insn_jmp_rel8 j = { 0xEB, (int8_t)d };
    memcpy(out, &j, sizeof j);
    return HP_OK;
}

hp_status hp_insn_jmp_abs64_encode(uint64_t target, uint8_t out[14])
{
    if (!out)
        return HP_E_ARG;
    hp_insn_jmp_abs64 j = { 0xFF, 0x25, 0, target };
    memcpy(out, &j, sizeof j);
    return HP_OK;
}

/* Store a little-endian 32-bit value at p. */
static void put32(uint8_t *p, int32_t v)
{
    memcpy(p, &v, 4);
}

hp_status hp_insn_stub_make(bool x64, const uint8_t *code, size_t code_len,
                            const hp_insn_moved *m, uint64_t entry, uint64_t stub_at,
                            uint8_t out[HP_INSN_STUB_MAX], size_t *out_len)
{
    if (!code || !m || !out || !out_len || !m->len || m->len > 15 || m->len > code_len)
        return HP_E_ARG;
    unsigned n = m->len;
    uint64_t next = entry + n, stub_next = stub_at + n;
    memcpy(out, code, n);
    switch (m->kind) {
    case HP_INSN_MOVE_PLAIN:
        break;
    case HP_INSN_MOVE_REL32: { /* E9 or E8: the same displacement rule; the opcode stays */
        if (n != 5 || (code[0] != 0xE9 && code[0] != 0xE8))
            return HP_E_ARG;
        int32_t rel;
        memcpy(&rel, code + 1, 4);
        uint64_t target = next + (uint64_t)(int64_t)rel;
        if (!x64)
            hp_insn_jmp_rel32_encode_x86((uint32_t)stub_at, (uint32_t)target, out);
        else if (hp_insn_jmp_rel32_encode(stub_at, target, out) != HP_OK)
            return HP_E_INSN_RELOC_RANGE;
        out[0] = code[0];
        break;
    }
    case HP_INSN_MOVE_RIP32: {
        if (!x64 || m->disp_offset + 4u > n)
            return HP_E_ARG;
        int32_t disp;
        int64_t d;
        memcpy(&disp, code + m->disp_offset, 4);
        uint64_t target = next + (uint64_t)(int64_t)disp;
        if (!disp_fits(stub_next, target, INT32_MIN, INT32_MAX, &d))
            return HP_E_INSN_RELOC_RANGE;
        put32(out + m->disp_offset, (int32_t)d);
        break;
    }
    default:
        return HP_E_ARG;
    }
    size_t len = n;
    if (x64) {
        hp_insn_jmp_abs64_encode(next, out + len);
        len += HP_INSN_JMP_ABS64_LEN;
    } else {
        hp_insn_jmp_rel32_encode_x86((uint32_t)(stub_at + len), (uint32_t)next, out + len);
        len += HP_INSN_JMP_REL32_LEN;
    }
    *out_len = len;
    return HP_OK;
}
