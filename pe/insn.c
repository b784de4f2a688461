/* hotpe: encodings of the emitted jumps (see insn.h). */
#include "insn.h"

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
