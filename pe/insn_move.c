/*
 * hotpe: how a first instruction moves into a call-original stub (insn.h), decoded with Zydis.
 * Kept apart from the encoders (insn.c) so that the shim, which only follows the recipe hotpe
 * build recorded, links no decoder.
 */
#include "hotpe/pe/insn.h"

#include <Zydis/Zydis.h>

hp_status hp_insn_moved_of(bool x64, const uint8_t *code, size_t code_len, hp_insn_moved *out)
{
    if (!code || !out)
        return HP_E_ARG;
    ZydisDecoder dec;
    ZydisDecodedInstruction in;
    ZydisDecoderContext zctx;
    if (!ZYAN_SUCCESS(x64 ? ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64)
                          : ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LEGACY_32,
                                             ZYDIS_STACK_WIDTH_32)) ||
        !ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&dec, &zctx, code,
                                                    code_len < 15 ? code_len : 15, &in)))
        return HP_E_INSN_DECODE;
    *out = (hp_insn_moved){ in.length, HP_INSN_MOVE_PLAIN, 0 };
    if (!(in.attributes & ZYDIS_ATTRIB_IS_RELATIVE))
        return HP_OK;
    /* branches without prefixes: jmp/call rel32 re-aimed, short jmp and jcc re-encoded in their
     * rel32 forms; loop and jrcxz have none */
    if (in.raw.imm[0].is_relative && in.raw.imm[0].size == 32 && in.length == 5 &&
        (code[0] == 0xE9 || code[0] == 0xE8)) {
        out->kind = HP_INSN_MOVE_REL32;
        return HP_OK;
    }
    if (in.raw.imm[0].is_relative && in.length == 2 && code[0] == 0xEB) {
        out->kind = HP_INSN_MOVE_JMP8;
        return HP_OK;
    }
    if (in.raw.imm[0].is_relative && in.meta.category == ZYDIS_CATEGORY_COND_BR &&
        ((in.length == 2 && code[0] >= 0x70 && code[0] <= 0x7F) ||
         (in.length == 6 && code[0] == 0x0F && code[1] >= 0x80 && code[1] <= 0x8F))) {
        out->kind = HP_INSN_MOVE_JCC;
        return HP_OK;
    }
    if (in.raw.disp.size == 32 && x64 && !in.raw.imm[0].is_relative) {
        out->kind = HP_INSN_MOVE_RIP32; /* a RIP-relative memory operand */
        out->disp_offset = in.raw.disp.offset;
        return HP_OK;
    }
    return HP_E_INSN_RELOC_BRANCH;
}

hp_status hp_insn_stub_build(bool x64, const uint8_t *code, size_t code_len, uint64_t entry,
                             uint64_t stub_at, uint8_t out[HP_INSN_STUB_MAX], size_t *out_len,
                             unsigned *insn_len)
{
    if (!out || !out_len)
        return HP_E_ARG;
    hp_insn_moved m;
    HP_CHECK(hp_insn_moved_of(x64, code, code_len, &m));
    HP_CHECK(hp_insn_stub_make(x64, code, code_len, &m, entry, stub_at, out, out_len));
    if (insn_len)
        *insn_len = m.len;
    return HP_OK;
}
