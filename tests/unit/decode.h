/* hotpe: decoding what the applier writes, with Zydis, in the unit tests (an independent check
 * of pe/insn.c's encodings). */
#ifndef HOTPE_TEST_DECODE_H
#define HOTPE_TEST_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <Zydis/Zydis.h>
#include <check.h>

/* The one instruction of n bytes at `at` is `mnemonic`; *target gets its destination (for a
 * memory operand, the address of the memory it reads). */
static inline void hp_test_jump_target(bool x64, const uint8_t *bytes, size_t n, uint64_t at,
                                       ZydisMnemonic mnemonic, uint64_t *target)
{
    ZydisDecoder dec;
    ck_assert(ZYAN_SUCCESS(ZydisDecoderInit(&dec, x64 ? ZYDIS_MACHINE_MODE_LONG_64 : ZYDIS_MACHINE_MODE_LEGACY_32,
                                            x64 ? ZYDIS_STACK_WIDTH_64 : ZYDIS_STACK_WIDTH_32)));
    ZydisDecodedInstruction insn;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    ck_assert(ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, bytes, n, &insn, ops)));
    ck_assert_uint_eq(insn.length, n);
    ck_assert_int_eq(insn.mnemonic, mnemonic);
    ZyanU64 abs;
    ck_assert(ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&insn, &ops[0], at, &abs)));
    *target = x64 ? abs : (uint32_t)abs;
}

#endif
