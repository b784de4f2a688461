/* Unit tests of pe/insn.c: the call-original stub (first instruction moved, jump back),
 * checked by decoding the stub with Zydis at its own address. */
#include <string.h>

#include <Zydis/Zydis.h>

#include "harness.h"
#include "hotpe/pe/insn.h"

/* Decode one instruction of buf at runtime address `at`. */
static ZydisDecodedInstruction decode(bool x64, const uint8_t *buf, size_t n,
                                      ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT])
{
    ZydisDecoder d;
    ZydisDecodedInstruction in;
    ck_assert(ZYAN_SUCCESS(x64 ? ZydisDecoderInit(&d, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64)
                               : ZydisDecoderInit(&d, ZYDIS_MACHINE_MODE_LEGACY_32, ZYDIS_STACK_WIDTH_32)));
    ck_assert(ZYAN_SUCCESS(ZydisDecoderDecodeFull(&d, buf, n, &in, ops)));
    return in;
}

/* The absolute address operand i refers to (memory or branch target). */
static uint64_t abs_of(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *op, uint64_t at)
{
    ZyanU64 a = 0;
    ck_assert(ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(in, op, at, &a)));
    return a;
}

/* The stub's jump back, at stub + off, must land on want. */
static void check_jump_back(bool x64, const uint8_t *stub, size_t len, size_t off, uint64_t at,
                            uint64_t want)
{
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    ZydisDecodedInstruction in = decode(x64, stub + off, len - off, ops);
    ck_assert_int_eq(in.mnemonic, ZYDIS_MNEMONIC_JMP);
    if (x64) {
        /* jmp qword [rip+0]: the pointer is the 8 bytes after it */
        ck_assert_uint_eq(in.length, 6);
        ck_assert_uint_eq(abs_of(&in, &ops[0], at + off), at + off + 6);
        uint64_t ptr;
        ck_assert_uint_eq(len, off + 14);
        memcpy(&ptr, stub + off + 6, 8);
        ck_assert_uint_eq(ptr, want);
    } else {
        ck_assert_uint_eq(in.length, 5);
        ck_assert_uint_eq(len, off + 5);
        ck_assert_uint_eq((uint32_t)abs_of(&in, &ops[0], at + off), (uint32_t)want);
    }
}

START_TEST(x64_rip_relative_is_relocated)
{
    const uint8_t code[] = { 0x48, 0x8B, 0x05, 0x00, 0x10, 0x00, 0x00, 0xCC, 0xCC }; /* mov rax,[rip+0x1000] */
    uint64_t entry = 0x140001000ull, stub = 0x140801000ull;
    uint8_t out[HP_INSN_STUB_MAX];
    size_t len;
    unsigned n;
    ck_assert_int_eq(hp_insn_stub_build(true, code, sizeof code, entry, stub, out, &len, &n), HP_OK);
    ck_assert_uint_eq(n, 7);
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    ZydisDecodedInstruction in = decode(true, out, len, ops);
    ck_assert_int_eq(in.mnemonic, ZYDIS_MNEMONIC_MOV);
    ck_assert_uint_eq(abs_of(&in, &ops[1], stub), entry + 7 + 0x1000);
    check_jump_back(true, out, len, 7, stub, entry + 7);
    /* below the entry too */
    stub = 0x13ff00000ull;
    ck_assert_int_eq(hp_insn_stub_build(true, code, sizeof code, entry, stub, out, &len, NULL), HP_OK);
    in = decode(true, out, len, ops);
    ck_assert_uint_eq(abs_of(&in, &ops[1], stub), entry + 7 + 0x1000);
}
END_TEST

START_TEST(x64_rip_relative_out_of_range_is_refused)
{
    const uint8_t code[] = { 0x48, 0x8B, 0x05, 0x00, 0x10, 0x00, 0x00 };
    uint8_t out[HP_INSN_STUB_MAX];
    size_t len;
    ck_assert_int_eq(hp_insn_stub_build(true, code, sizeof code, 0x140001000ull,
                                        0x140001000ull + 0xC0000000ull, out, &len, NULL),
                     HP_E_INSN_RELOC_RANGE);
    ck_assert_int_eq(hp_insn_stub_build(true, code, sizeof code, 0x140001000ull,
                                        0x140001000ull - 0x90000000ull, out, &len, NULL),
                     HP_E_INSN_RELOC_RANGE);
}
END_TEST

START_TEST(x64_plain_instruction_is_copied)
{
    const uint8_t code[] = { 0x48, 0x83, 0xEC, 0x28, 0x90 }; /* sub rsp,0x28 */
    uint8_t out[HP_INSN_STUB_MAX];
    size_t len;
    uint64_t entry = 0x7ff600001000ull, stub = 0x7ff5fff00000ull;
    ck_assert_int_eq(hp_insn_stub_build(true, code, sizeof code, entry, stub, out, &len, NULL), HP_OK);
    ck_assert(memcmp(out, code, 4) == 0);
    check_jump_back(true, out, len, 4, stub, entry + 4);
}
END_TEST

START_TEST(rel32_jmp_and_call_are_reencoded)
{
    for (int x64 = 0; x64 < 2; x64++)
        for (int op = 0; op < 2; op++) {
            uint8_t code[] = { op ? 0xE8 : 0xE9, 0x00, 0x20, 0x00, 0x00 };
            uint64_t entry = x64 ? 0x140001000ull : 0x401000u;
            uint64_t stub = x64 ? 0x140801000ull : 0x10000000u;
            uint8_t out[HP_INSN_STUB_MAX];
            size_t len;
            ck_assert_int_eq(hp_insn_stub_build(x64, code, sizeof code, entry, stub, out, &len, NULL),
                             HP_OK);
            ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
            ZydisDecodedInstruction in = decode(x64, out, len, ops);
            ck_assert_int_eq(in.mnemonic, op ? ZYDIS_MNEMONIC_CALL : ZYDIS_MNEMONIC_JMP);
            uint64_t t = abs_of(&in, &ops[0], stub);
            ck_assert_uint_eq(x64 ? t : (uint32_t)t, entry + 5 + 0x2000);
            check_jump_back(x64, out, len, 5, stub, entry + 5);
        }
    /* x64: the branch target beyond ±2 GiB of the stub */
    const uint8_t call[] = { 0xE8, 0x00, 0x20, 0x00, 0x00 };
    uint8_t out[HP_INSN_STUB_MAX];
    size_t len;
    ck_assert_int_eq(hp_insn_stub_build(true, call, sizeof call, 0x140001000ull, 0x240001000ull,
                                        out, &len, NULL),
                     HP_E_INSN_RELOC_RANGE);
}
END_TEST

/* jcc rel8, jmp rel8 and jcc rel32 move as their rel32 forms, aimed at the same target; loop,
 * jrcxz and a jcc with a 16-bit displacement (66 prefix, x86) have no such form. */
START_TEST(short_branches_grow_to_rel32)
{
    const uint8_t jz8[] = { 0x74, 0x05 }, jmp8[] = { 0xEB, 0xF0 },
                  jnz32[] = { 0x0F, 0x85, 0x00, 0x01, 0x00, 0x00 };
    const uint8_t *cases[] = { jz8, jmp8, jnz32 };
    const size_t lens[] = { sizeof jz8, sizeof jmp8, sizeof jnz32 };
    const ZydisMnemonic mn[] = { ZYDIS_MNEMONIC_JZ, ZYDIS_MNEMONIC_JMP, ZYDIS_MNEMONIC_JNZ };
    const uint64_t from = 0x401000u, at = 0x500000u;
    for (int x64 = 0; x64 < 2; x64++) {
        for (size_t i = 0; i < 3; i++) {
            uint8_t out[HP_INSN_STUB_MAX];
            size_t len;
            unsigned n;
            ck_assert_int_eq(hp_insn_stub_build(x64, cases[i], lens[i], from, at, out, &len, &n),
                             HP_OK);
            ck_assert_uint_eq(n, lens[i]);
            ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT], ops0[ZYDIS_MAX_OPERAND_COUNT];
            ZydisDecodedInstruction in = decode(x64, out, len, ops);
            ZydisDecodedInstruction in0 = decode(x64, cases[i], lens[i], ops0);
            ck_assert_int_eq(in.mnemonic, mn[i]);
            ck_assert_uint_eq(in.length, i == 1 ? 5 : 6);
            ck_assert_uint_eq(abs_of(&in, &ops[0], at), abs_of(&in0, &ops0[0], from));
        }
    }
    const uint8_t loop8[] = { 0xE2, 0xFE }, jrcxz[] = { 0xE3, 0x10 },
                  jz16[] = { 0x66, 0x0F, 0x84, 0x10, 0x00 };
    uint8_t out[HP_INSN_STUB_MAX];
    size_t len;
    for (int x64 = 0; x64 < 2; x64++) {
        ck_assert_int_eq(hp_insn_stub_build(x64, loop8, 2, from, at, out, &len, NULL),
                         HP_E_INSN_RELOC_BRANCH);
        ck_assert_int_eq(hp_insn_stub_build(x64, jrcxz, 2, from, at, out, &len, NULL),
                         HP_E_INSN_RELOC_BRANCH);
    }
    ck_assert_int_eq(hp_insn_stub_build(false, jz16, sizeof jz16, from, at, out, &len, NULL),
                     HP_E_INSN_RELOC_BRANCH);
    /* x64: a target beyond 2 GiB of the stub */
    ck_assert_int_eq(hp_insn_stub_build(true, jz8, 2, 0x140001000ull, 0x240001000ull, out, &len,
                                        NULL),
                     HP_E_INSN_RELOC_RANGE);
}
END_TEST

/* The recipe hotpe build records, then the stub the shim builds from it without decoding:
 * the same bytes as decoding at apply time gave. */
START_TEST(recipe_then_stub_without_decoder)
{
    const uint8_t rip[] = { 0x48, 0x8B, 0x05, 0x00, 0x10, 0x00, 0x00 }, /* mov rax,[rip+0x1000] */
        jmp[] = { 0xE9, 0x00, 0x20, 0x00, 0x00 }, sub[] = { 0x48, 0x83, 0xEC, 0x28 };
    const uint8_t *cases[] = { rip, jmp, sub };
    const size_t lens[] = { sizeof rip, sizeof jmp, sizeof sub };
    const uint8_t kinds[] = { HP_INSN_MOVE_RIP32, HP_INSN_MOVE_REL32, HP_INSN_MOVE_PLAIN };
    for (size_t i = 0; i < 3; i++) {
        hp_insn_moved m;
        ck_assert_int_eq(hp_insn_moved_of(true, cases[i], lens[i], &m), HP_OK);
        ck_assert_uint_eq(m.len, lens[i]);
        ck_assert_uint_eq(m.kind, kinds[i]);
        ck_assert_uint_eq(m.disp_offset, i == 0 ? 3 : 0);
        uint8_t a[HP_INSN_STUB_MAX], b[HP_INSN_STUB_MAX];
        size_t na, nb;
        ck_assert_int_eq(hp_insn_stub_build(true, cases[i], lens[i], 0x140001000ull,
                                            0x140801000ull, a, &na, NULL), HP_OK);
        ck_assert_int_eq(hp_insn_stub_make(true, cases[i], lens[i], &m, 0x140001000ull,
                                           0x140801000ull, b, &nb), HP_OK);
        ck_assert_uint_eq(na, nb);
        ck_assert(memcmp(a, b, na) == 0);
    }
    /* recipes that do not fit the bytes: refused, nothing decoded */
    uint8_t out[HP_INSN_STUB_MAX];
    size_t len;
    const hp_insn_moved too_long = { 8, HP_INSN_MOVE_PLAIN, 0 }, rel_not_e9 = { 4, HP_INSN_MOVE_REL32, 0 },
                        rip_past = { 7, HP_INSN_MOVE_RIP32, 4 }, bad_kind = { 4, 9, 0 },
                        none = { 0, HP_INSN_MOVE_PLAIN, 0 };
    ck_assert_int_eq(hp_insn_stub_make(true, rip, sizeof rip, &too_long, 0x1000, 0x2000, out, &len), HP_E_ARG);
    ck_assert_int_eq(hp_insn_stub_make(true, sub, sizeof sub, &rel_not_e9, 0x1000, 0x2000, out, &len), HP_E_ARG);
    ck_assert_int_eq(hp_insn_stub_make(true, rip, sizeof rip, &rip_past, 0x1000, 0x2000, out, &len), HP_E_ARG);
    ck_assert_int_eq(hp_insn_stub_make(false, rip, sizeof rip, &(hp_insn_moved){ 7, HP_INSN_MOVE_RIP32, 3 },
                                       0x1000, 0x2000, out, &len), HP_E_ARG);
    ck_assert_int_eq(hp_insn_stub_make(true, sub, sizeof sub, &bad_kind, 0x1000, 0x2000, out, &len), HP_E_ARG);
    ck_assert_int_eq(hp_insn_stub_make(true, sub, sizeof sub, &none, 0x1000, 0x2000, out, &len), HP_E_ARG);
    ck_assert_int_eq(hp_insn_moved_of(true, (const uint8_t[]){ 0xE2, 0xFE }, 2, &(hp_insn_moved){ 0 }),
                     HP_E_INSN_RELOC_BRANCH);
}
END_TEST

START_TEST(x86_stub_copies_and_jumps_back)
{
    const uint8_t code[] = { 0x8B, 0x44, 0x24, 0x04 }; /* mov eax,[esp+4] */
    uint8_t out[HP_INSN_STUB_MAX];
    size_t len;
    unsigned n;
    /* a stub above and one below the entry (the x86 displacement wraps) */
    ck_assert_int_eq(hp_insn_stub_build(false, code, sizeof code, 0x401000u, 0x7ff00000u, out, &len, &n),
                     HP_OK);
    ck_assert_uint_eq(n, 4);
    ck_assert(memcmp(out, code, 4) == 0);
    check_jump_back(false, out, len, 4, 0x7ff00000u, 0x401004u);
    ck_assert_int_eq(hp_insn_stub_build(false, code, sizeof code, 0x80401000u, 0x10000u, out, &len, NULL),
                     HP_OK);
    check_jump_back(false, out, len, 4, 0x10000u, 0x80401004u);
}
END_TEST

START_TEST(bad_input)
{
    const uint8_t partial[] = { 0x48, 0x8B };
    uint8_t out[HP_INSN_STUB_MAX];
    size_t len;
    ck_assert_int_eq(hp_insn_stub_build(true, partial, sizeof partial, 0x1000, 0x2000, out, &len, NULL),
                     HP_E_INSN_DECODE);
    ck_assert_int_eq(hp_insn_stub_build(true, partial, 0, 0x1000, 0x2000, out, &len, NULL),
                     HP_E_INSN_DECODE);
    ck_assert_int_eq(hp_insn_stub_build(true, NULL, 2, 0x1000, 0x2000, out, &len, NULL), HP_E_ARG);
    uint8_t j[14];
    ck_assert_int_eq(hp_insn_jmp_abs64_encode(0x1122334455667788ull, j), HP_OK);
    const uint8_t want[14] = { 0xFF, 0x25, 0, 0, 0, 0, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11 };
    ck_assert(memcmp(j, want, 14) == 0);
}
END_TEST

/* The boot stub decodes, instruction by instruction, to what insn.h says it does: both jz
 * reach the fail path, and it ends in a tail jump (success) or a return of `fail`. */
static void check_boot(bool x64)
{
    hp_insn_boot_args a = { 0x7ff01000, 0x7ff02000, 0x00501000, 0x00501800, 0x00602000, 0x517 };
    uint8_t out[HP_INSN_BOOT_MAX];
    size_t len = 0;
    ck_assert_int_eq(hp_insn_boot_encode(x64, &a, out, &len), HP_OK);
    static const ZydisMnemonic want64[] = {
        ZYDIS_MNEMONIC_SUB, ZYDIS_MNEMONIC_MOV, ZYDIS_MNEMONIC_MOV, ZYDIS_MNEMONIC_CALL,
        ZYDIS_MNEMONIC_TEST, ZYDIS_MNEMONIC_JZ, ZYDIS_MNEMONIC_MOV, ZYDIS_MNEMONIC_MOV,
        ZYDIS_MNEMONIC_MOV, ZYDIS_MNEMONIC_CALL, ZYDIS_MNEMONIC_TEST, ZYDIS_MNEMONIC_JZ,
        ZYDIS_MNEMONIC_MOV, ZYDIS_MNEMONIC_ADD, ZYDIS_MNEMONIC_JMP, ZYDIS_MNEMONIC_MOV,
        ZYDIS_MNEMONIC_ADD, ZYDIS_MNEMONIC_RET,
    };
    static const ZydisMnemonic want32[] = {
        ZYDIS_MNEMONIC_PUSH, ZYDIS_MNEMONIC_MOV, ZYDIS_MNEMONIC_CALL, ZYDIS_MNEMONIC_TEST,
        ZYDIS_MNEMONIC_JZ, ZYDIS_MNEMONIC_PUSH, ZYDIS_MNEMONIC_PUSH, ZYDIS_MNEMONIC_MOV,
        ZYDIS_MNEMONIC_CALL, ZYDIS_MNEMONIC_TEST, ZYDIS_MNEMONIC_JZ, ZYDIS_MNEMONIC_MOV,
        ZYDIS_MNEMONIC_JMP, ZYDIS_MNEMONIC_MOV, ZYDIS_MNEMONIC_RET,
    };
    const ZydisMnemonic *want = x64 ? want64 : want32;
    size_t nwant = x64 ? sizeof want64 / sizeof *want64 : sizeof want32 / sizeof *want32;
    uint64_t imms[8], jz_to[2], fail_at = 0;
    size_t nimm = 0, njz = 0, k = 0, off = 0;
    while (off < len) {
        ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
        ZydisDecodedInstruction in = decode(x64, out + off, len - off, ops);
        ck_assert_uint_lt(k, nwant);
        ck_assert_int_eq(in.mnemonic, want[k]);
        if (in.mnemonic == ZYDIS_MNEMONIC_JZ)
            jz_to[njz++] = abs_of(&in, &ops[0], off);
        else if (in.mnemonic == ZYDIS_MNEMONIC_MOV && ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
                 ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER && nimm < 8) {
            if (ops[1].imm.value.u == a.fail)
                fail_at = off;
            imms[nimm++] = ops[1].imm.value.u;
        } else if ((in.mnemonic == ZYDIS_MNEMONIC_PUSH || in.mnemonic == ZYDIS_MNEMONIC_MOV) &&
                   ops[0].type != ZYDIS_OPERAND_TYPE_REGISTER && nimm < 8 &&
                   ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
            imms[nimm++] = ops[1].imm.value.u; /* x86: mov [esp+4], arg */
        } else if (in.mnemonic == ZYDIS_MNEMONIC_PUSH && ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
                   nimm < 8) {
            imms[nimm++] = (uint32_t)ops[0].imm.value.u;
        }
        off += in.length;
        k++;
    }
    ck_assert_uint_eq(off, len);
    ck_assert_uint_eq(k, nwant);
    /* in order: path, LoadLibraryW, name, GetProcAddress, arg, fail */
    const uint64_t order[] = { a.path, a.load_library, a.name, a.get_proc, a.arg, a.fail };
    ck_assert_uint_eq(nimm, 6);
    for (size_t i = 0; i < 6; i++)
        ck_assert_uint_eq(imms[i] & (x64 ? UINT64_MAX : UINT32_MAX), order[i]);
    ck_assert_uint_eq(njz, 2);
    ck_assert(fail_at != 0);
    ck_assert_uint_eq(jz_to[0], fail_at);
    ck_assert_uint_eq(jz_to[1], fail_at);
}

START_TEST(boot_stub_x64)
{
    check_boot(true);
}
END_TEST

START_TEST(boot_stub_x86)
{
    check_boot(false);
    hp_insn_boot_args high = { 0x100000000ull, 1, 1, 1, 1, 1 };
    uint8_t out[HP_INSN_BOOT_MAX];
    size_t len;
    ck_assert_int_eq(hp_insn_boot_encode(false, &high, out, &len), HP_E_ARG);
    ck_assert_int_eq(hp_insn_boot_encode(true, NULL, out, &len), HP_E_ARG);
}
END_TEST

/* A trampoline of several instructions: each moved by its recipe to its new address, the
 * same absolute targets, then the jump back past all of them. */
START_TEST(trampoline_moves_several)
{
    /* x64: push rbx; mov rax,[rip+0x10] */
    static const uint8_t f64[] = { 0x53, 0x48, 0x8B, 0x05, 0x10, 0x00, 0x00, 0x00 };
    const hp_insn_moved m64[] = { { 1, HP_INSN_MOVE_PLAIN, 0 }, { 7, HP_INSN_MOVE_RIP32, 3 } };
    uint64_t entry = 0x140001000ull, at = 0x140801000ull;
    uint8_t out[HP_INSN_TRAMP_MAX];
    size_t len = 0;
    ck_assert_int_eq(hp_insn_tramp_make(true, f64, sizeof f64, m64, 2, entry, at, out, &len), HP_OK);
    ck_assert_uint_eq(out[0], 0x53);
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    ZydisDecodedInstruction in = decode(true, out + 1, len - 1, ops);
    ck_assert_int_eq(in.mnemonic, ZYDIS_MNEMONIC_MOV);
    ck_assert_uint_eq(abs_of(&in, &ops[1], at + 1), entry + 8 + 0x10);
    check_jump_back(true, out, len, 8, at, entry + 8);
    /* x86: push ebp; mov ebp,esp; call rel32 */
    static const uint8_t f32[] = { 0x55, 0x8B, 0xEC, 0xE8, 0x00, 0x01, 0x00, 0x00 };
    const hp_insn_moved m32[] = { { 1, HP_INSN_MOVE_PLAIN, 0 }, { 2, HP_INSN_MOVE_PLAIN, 0 },
                                  { 5, HP_INSN_MOVE_REL32, 0 } };
    ck_assert_int_eq(hp_insn_tramp_make(false, f32, sizeof f32, m32, 3, 0x401000, 0x10000, out, &len),
                     HP_OK);
    ck_assert(memcmp(out, f32, 3) == 0);
    in = decode(false, out + 3, len - 3, ops);
    ck_assert_int_eq(in.mnemonic, ZYDIS_MNEMONIC_CALL);
    ck_assert_uint_eq((uint32_t)abs_of(&in, &ops[0], 0x10003), 0x401008u + 0x100u);
    check_jump_back(false, out, len, 8, 0x10000, 0x401008);
    /* recipes that do not fit the bytes, or none */
    ck_assert_int_eq(hp_insn_tramp_make(true, f64, 7, m64, 2, entry, at, out, &len), HP_E_ARG);
    ck_assert_int_eq(hp_insn_tramp_make(true, f64, sizeof f64, m64, 0, entry, at, out, &len), HP_E_ARG);
    ck_assert_int_eq(hp_insn_tramp_make(true, f64, sizeof f64, m64, 2, entry, 0x1000, out, &len),
                     HP_E_INSN_RELOC_RANGE);
}
END_TEST

static Suite *insn_suite(void)
{
    Suite *s = suite_create("insn");
    TCase *tc = tcase_create("stub");
    tcase_add_test(tc, x64_rip_relative_is_relocated);
    tcase_add_test(tc, x64_rip_relative_out_of_range_is_refused);
    tcase_add_test(tc, x64_plain_instruction_is_copied);
    tcase_add_test(tc, rel32_jmp_and_call_are_reencoded);
    tcase_add_test(tc, short_branches_grow_to_rel32);
    tcase_add_test(tc, x86_stub_copies_and_jumps_back);
    tcase_add_test(tc, recipe_then_stub_without_decoder);
    tcase_add_test(tc, bad_input);
    tcase_add_test(tc, boot_stub_x64);
    tcase_add_test(tc, trampoline_moves_several);
    tcase_add_test(tc, boot_stub_x86);
    suite_add_tcase(s, tc);
    return s;
}

HP_TEST_MAIN(insn_suite)
