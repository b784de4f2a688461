/* hotpe: the trampoline form's safety check (tramp.h), decoded with Zydis. */
#include "hotpe/pe/tramp.h"

#include <string.h>

#include <Zydis/Zydis.h>

const char *hp_tramp_verdict_name(hp_tramp_verdict v)
{
    static const char *const names[] = {
#define HP_TRAMP_VERDICT_NAME(e, name) name,
        HP_TRAMP_VERDICT_LIST(HP_TRAMP_VERDICT_NAME)
#undef HP_TRAMP_VERDICT_NAME
    };
    return (unsigned)v < HP_TRAMP_VERDICT_COUNT ? names[v] : "?";
}

static hp_status refuse(hp_tramp_plan *out, hp_tramp_verdict v, uint32_t at)
{
    out->verdict = v;
    out->at = at;
    return HP_OK;
}

hp_status hp_tramp_analyze(bool x64, const uint8_t *code, uint32_t size, uint32_t rva,
                           hp_tramp_plan *out)
{
    if (!code || !out)
        return HP_E_ARG;
    memset(out, 0, sizeof *out);
    if (size < HP_TRAMP_JUMP_LEN)
        return refuse(out, HP_TRAMP_TOO_SHORT, rva);

    ZydisDecoder dec;
    if (!ZYAN_SUCCESS(x64 ? ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64)
                          : ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LEGACY_32,
                                             ZYDIS_STACK_WIDTH_32)))
        return HP_E_UNSUPPORTED;

    /* the range: whole instructions covering the jump, each with its recipe; one cut by the
     * function's end means the range crosses it */
    uint32_t len = 0;
    while (len < HP_TRAMP_JUMP_LEN) {
        ZydisDecodedInstruction in;
        ZydisDecoderContext zctx;
        ZyanStatus zs = ZydisDecoderDecodeInstruction(&dec, &zctx, code + len, size - len, &in);
        if (zs == ZYDIS_STATUS_NO_MORE_DATA)
            return refuse(out, HP_TRAMP_TOO_SHORT, rva + len);
        hp_insn_moved m;
        if (!ZYAN_SUCCESS(zs))
            return refuse(out, HP_TRAMP_UNDECODABLE, rva + len);
        if (hp_insn_moved_of(x64, code + len, size - len, &m) != HP_OK)
            return refuse(out, HP_TRAMP_UNMOVABLE, rva + len);
        out->moved[out->count++] = m;
        len += m.len;
    }

    /* every direct branch of the function, against the range's inside (rva, rva + len) */
    for (uint32_t off = 0; off < size;) {
        ZydisDecodedInstruction in;
        ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
        if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, code + off, size - off, &in, ops)))
            return refuse(out, HP_TRAMP_UNDECODABLE, rva + off);
        bool branch = in.meta.category == ZYDIS_CATEGORY_COND_BR ||
                      in.meta.category == ZYDIS_CATEGORY_UNCOND_BR ||
                      in.meta.category == ZYDIS_CATEGORY_CALL;
        if (branch && ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE && ops[0].imm.is_relative) {
            ZyanU64 to;
            if (ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&in, &ops[0], (ZyanU64)rva + off, &to)) &&
                to > rva && to < (ZyanU64)rva + len)
                return refuse(out, HP_TRAMP_BRANCH_INTO, rva + off);
        }
        off += in.length;
    }
    out->len = (uint8_t)len;
    out->verdict = HP_TRAMP_MOVABLE;
    return HP_OK;
}
