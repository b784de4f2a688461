/*
 * hotpe: the instructions the applier writes, in one place.
 *
 * Each emitted form is a packed struct whose layout is the byte encoding (MinHook's JMP_REL,
 * Wine's struct stub), and one function that encodes it at a given address and checks that
 * the target is reachable. Addresses are virtual addresses of the bytes as they will run.
 */
#ifndef HOTPE_INSN_H
#define HOTPE_INSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hotpe/status.h"

#pragma pack(push, 1)
/** E9 rel32: jmp rel32; rel32 = target - (at + 5). */
typedef struct hp_insn_jmp_rel32 {
    uint8_t opcode;   /* E9 */
    int32_t rel;
} hp_insn_jmp_rel32;

/** FF 25 disp32: jmp qword [rip+disp32] (x64 only); disp32 = slot - (at + 6). */
typedef struct hp_insn_jmp_rip {
    uint8_t opcode;   /* FF */
    uint8_t modrm;    /* 25: mod 00, reg 100 (/4 = jmp near indirect), rm 101 (rip+disp32) */
    int32_t disp;
} hp_insn_jmp_rip;

/** EB disp8: jmp rel8; disp8 = target - (at + 2). */
typedef struct hp_insn_jmp_rel8 {
    uint8_t opcode;   /* EB */
    int8_t rel;
} hp_insn_jmp_rel8;

/** 0F 80+cc rel32: jcc rel32; rel32 = target - (at + 6). */
typedef struct hp_insn_jcc_rel32 {
    uint8_t escape;   /* 0F */
    uint8_t opcode;   /* 80 + condition */
    int32_t rel;
} hp_insn_jcc_rel32;

/** FF 25 00000000 + 8-byte address: jmp qword [rip+0] with the target right after (x64). */
typedef struct hp_insn_jmp_abs64 {
    uint8_t opcode;   /* FF */
    uint8_t modrm;    /* 25 */
    int32_t disp;     /* 0: the slot is the next 8 bytes */
    uint64_t target;
} hp_insn_jmp_abs64;
#pragma pack(pop)
_Static_assert(sizeof(hp_insn_jmp_abs64) == 14, "FF 25 0 + abs64 is 14 bytes");

_Static_assert(sizeof(hp_insn_jmp_rel32) == 5, "E9 rel32 is 5 bytes");
_Static_assert(sizeof(hp_insn_jmp_rip) == 6, "FF 25 disp32 is 6 bytes");
_Static_assert(sizeof(hp_insn_jmp_rel8) == 2, "EB disp8 is 2 bytes");
_Static_assert(sizeof(hp_insn_jcc_rel32) == 6, "0F 8x rel32 is 6 bytes");

#define HP_INSN_JMP_REL32_LEN ((unsigned)sizeof(hp_insn_jmp_rel32))
#define HP_INSN_JMP_RIP_LEN ((unsigned)sizeof(hp_insn_jmp_rip))
#define HP_INSN_JMP_REL8_LEN ((unsigned)sizeof(hp_insn_jmp_rel8))
#define HP_INSN_JMP_ABS64_LEN ((unsigned)sizeof(hp_insn_jmp_abs64))
#define HP_INSN_JCC_REL32_LEN ((unsigned)sizeof(hp_insn_jcc_rel32))
/** Longest call-original stub: a 15-byte instruction + the 14-byte jump back. */
#define HP_INSN_STUB_MAX 32

/**
 * Encode `E9 rel32` placed at `at` jumping to `target`.
 * @param at      in: address of the E9 byte
 * @param target  in: jump destination
 * @param out     out: 5 bytes
 * @return HP_OK, HP_E_ARG (out NULL), HP_E_INSN_RANGE (target beyond ±2 GiB of at + 5).
 */
hp_status hp_insn_jmp_rel32_encode(uint64_t at, uint64_t target, uint8_t out[5]);

/**
 * Encode `E9 rel32` in a 32-bit address space, where the displacement wraps modulo 2^32 as
 * the CPU's does, so every target is reachable.
 * @return HP_OK or HP_E_ARG.
 */
hp_status hp_insn_jmp_rel32_encode_x86(uint32_t at, uint32_t target, uint8_t out[5]);

/**
 * Encode `FF 25 disp32` (jmp qword [rip+disp32]) placed at `at`, reading the target from the
 * 8-byte slot at `slot`.
 * @return HP_OK, HP_E_ARG, HP_E_INSN_RANGE (slot beyond ±2 GiB of at + 6).
 */
hp_status hp_insn_jmp_rip_encode(uint64_t at, uint64_t slot, uint8_t out[6]);

/**
 * Encode `EB disp8` placed at `at` jumping to `target`.
 * @return HP_OK, HP_E_ARG, HP_E_INSN_RANGE (target beyond -128..127 of at + 2).
 */
hp_status hp_insn_jmp_rel8_encode(uint64_t at, uint64_t target, uint8_t out[2]);

/**
 * Encode `FF 25 00000000` + the 8-byte target (x64): reaches any address.
 * @return HP_OK, HP_E_ARG.
 */
hp_status hp_insn_jmp_abs64_encode(uint64_t target, uint8_t out[14]);

/** How a function's first instruction moves into a call-original stub (hotpe build decodes
 * it; the shim only follows the recipe, without a decoder). The values are recorded in patch
 * files (HOTPE_MOVE_* in sdk/include/hotpe/descriptor.h). */
typedef enum hp_insn_move_kind {
    HP_INSN_MOVE_PLAIN = 0,  /* copied as it is */
    HP_INSN_MOVE_REL32 = 1,  /* E8/E9 rel32: re-aimed at the same target from the stub */
    HP_INSN_MOVE_RIP32 = 2,  /* x64: a RIP-relative disp32 at disp_offset, re-aimed likewise */
    HP_INSN_MOVE_JCC = 3,    /* jcc rel8 (70+cc) or rel32 (0F 80+cc): 0F 80+cc rel32 re-aimed */
    HP_INSN_MOVE_JMP8 = 4,   /* EB rel8: E9 rel32 re-aimed */
    HP_INSN_MOVE_KIND_COUNT
} hp_insn_move_kind;

typedef struct hp_insn_moved {
    uint8_t len;             /* the instruction's length, 1..15 */
    uint8_t kind;            /* hp_insn_move_kind */
    uint8_t disp_offset;     /* HP_INSN_MOVE_RIP32: where the disp32 starts in it */
} hp_insn_moved;

/** Bytes a moved instruction takes in the stub (a short branch grows to its rel32 form);
 * 0 for a recipe that does not fit. */
unsigned hp_insn_moved_size(const hp_insn_moved *m);

/**
 * Decode the first instruction of code (Zydis; pe/insn_move.c): how it moves into a stub.
 * @param code      in: the bytes at the entry (up to 15 read)
 * @param code_len  in: bytes available at code
 * @return HP_OK, HP_E_ARG, HP_E_INSN_DECODE, HP_E_INSN_RELOC_BRANCH (a relative branch
 *         without a rel32 form: loop, jrcxz; or one with prefixes or a 16-bit displacement).
 */
hp_status hp_insn_moved_of(bool x64, const uint8_t *code, size_t code_len, hp_insn_moved *out);

/**
 * Build a call-original stub at `stub_at` for the function whose entry is `entry`, from a
 * recipe (no decoding): its first instruction, moved (a RIP-relative disp32 recomputed; an
 * `E9`/`E8 rel32` re-encoded for the new address), then a jump back to entry + the
 * instruction's length (x86: `E9 rel32`; x64: `FF 25 00000000` + address, so the stub may be
 * anywhere).
 * @param code      in: the bytes at entry, at least m->len of them
 * @param code_len  in: bytes available at code
 * @param out       out: the stub, HP_INSN_STUB_MAX bytes of room
 * @param out_len   out: stub length
 * @return HP_OK, HP_E_ARG (a recipe that does not fit the bytes), HP_E_INSN_RELOC_RANGE
 *         (target beyond ±2 GiB of the stub).
 */
hp_status hp_insn_stub_make(bool x64, const uint8_t *code, size_t code_len,
                            const hp_insn_moved *m, uint64_t entry, uint64_t stub_at,
                            uint8_t out[HP_INSN_STUB_MAX], size_t *out_len);

/** Room for a trampoline: moved instructions covering a 5-byte jump (at most 4 + 15 bytes, the
 * short branches among them grown by 4) and the jump back. */
#define HP_INSN_TRAMP_MAX 48u
#define HP_INSN_TRAMP_MOVED_MAX 5u

/**
 * hp_insn_stub_make for several instructions: the trampoline of a function patched without
 * hotpatch padding (tramp.h), at `at`: each of count instructions moved by its recipe, then a
 * jump back to entry + their total length.
 * @return HP_OK, HP_E_ARG (count 0 or past HP_INSN_TRAMP_MOVED_MAX, a recipe that does not fit
 *         the bytes), HP_E_INSN_RELOC_RANGE.
 */
hp_status hp_insn_tramp_make(bool x64, const uint8_t *code, size_t code_len,
                             const hp_insn_moved *m, unsigned count, uint64_t entry,
                             uint64_t at, uint8_t out[HP_INSN_TRAMP_MAX], size_t *out_len);

/**
 * hp_insn_moved_of, then hp_insn_stub_make (pe/insn_move.c).
 * @param insn_len  out (opt): length of the moved instruction
 * @return the statuses of both.
 */
hp_status hp_insn_stub_build(bool x64, const uint8_t *code, size_t code_len, uint64_t entry,
                             uint64_t stub_at, uint8_t out[HP_INSN_STUB_MAX], size_t *out_len,
                             unsigned *insn_len);

/** What the boot stub (below) calls, as addresses in the target. */
typedef struct hp_insn_boot_args {
    uint64_t load_library;   /* kernel32!LoadLibraryW */
    uint64_t get_proc;       /* kernel32!GetProcAddress */
    uint64_t path;           /* the DLL's path, UTF-16, NUL-terminated */
    uint64_t name;           /* the entry's export name, ASCII, NUL-terminated */
    uint64_t arg;            /* the entry's one argument */
    uint32_t fail;           /* the thread's exit code when either call fails */
} hp_insn_boot_args;

#define HP_INSN_BOOT_MAX 96u

/**
 * The start of a remote thread that loads a DLL and runs one of its exports on the same
 * thread: `LoadLibraryW(path)`, `GetProcAddress(module, name)`, then a tail jump to
 * `entry(arg)` (a WINAPI thread procedure: its return is the thread's exit code, and nothing of
 * the stub stays on the stack, so its memory may be freed once the entry runs). x64: Microsoft
 * x64 convention with 0x28 bytes of shadow space; x86: stdcall, arg replaces the thread's own.
 * @return HP_OK, HP_E_ARG (NULL, or an x86 address above 4 GiB).
 */
hp_status hp_insn_boot_encode(bool x64, const hp_insn_boot_args *a,
                              uint8_t out[HP_INSN_BOOT_MAX], size_t *out_len);

#endif
