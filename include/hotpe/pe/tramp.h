/*
 * hotpe: can a function that was never built for hotpatching be patched through a trampoline?
 *
 * The trampoline form overwrites a function's first instructions with a jump (5 bytes: x86
 * `E9 rel32`; x64 `E9` to a stub placed near) and moves those instructions, whole, into a
 * trampoline that HOTPE_ORIGINAL calls, followed by a jump back. That is safe only when:
 *   - every moved instruction can run from elsewhere: plain ones as they are, `E8`/`E9 rel32`
 *     and x64 RIP-relative operands re-aimed (insn.h's recipe); any other relative branch (a
 *     jcc, loop, jrcxz, a short jmp) is refused;
 *   - the moved range lies inside the function: it ends before the function does;
 *   - nothing else in the function branches into the middle of the range (a direct jmp, jcc or
 *     call landing after its first byte): such a branch would land inside the new jump.
 * The whole function is decoded for the last check, so its bounds must be known: .pdata on
 * x64, symbols or the next entry on x86 (the caller's choice). A byte that does not decode
 * inside the function is a refusal too: what cannot be read cannot be proved safe.
 *
 * Not seen by this check: indirect branches (jump tables) into the range. Compilers put
 * switch targets at case labels, which are never in a function's first 5 bytes unless a loop
 * starts there, and a loop head at the entry is reached by a direct branch, which is seen.
 */
#ifndef HOTPE_TRAMP_H
#define HOTPE_TRAMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hotpe/pe/insn.h"
#include "hotpe/status.h"

/* X(enum, name): the verdicts, in the order they are decided. */
#define HP_TRAMP_VERDICT_LIST(X)                                                                 \
    X(HP_TRAMP_MOVABLE, "movable")         /* the first instructions can move */                \
    X(HP_TRAMP_UNDECODABLE, "undecodable") /* a byte of the function does not decode */         \
    X(HP_TRAMP_TOO_SHORT, "too-short")     /* the function ends before the jump's bytes do */   \
    X(HP_TRAMP_UNMOVABLE, "unmovable")     /* a relative branch other than E8/E9 rel32 moves */ \
    X(HP_TRAMP_BRANCH_INTO, "branch-into") /* a branch lands inside the overwritten range */

typedef enum hp_tramp_verdict {
#define HP_TRAMP_VERDICT_ENUM(e, name) e,
    HP_TRAMP_VERDICT_LIST(HP_TRAMP_VERDICT_ENUM)
#undef HP_TRAMP_VERDICT_ENUM
    HP_TRAMP_VERDICT_COUNT
} hp_tramp_verdict;

/** Bytes the entry jump overwrites, both architectures. */
#define HP_TRAMP_JUMP_LEN 5u
/** Most instructions moved: 5 bytes are covered by at most 5 instructions. */
#define HP_TRAMP_MOVED_MAX HP_INSN_TRAMP_MOVED_MAX

typedef struct hp_tramp_plan {
    hp_tramp_verdict verdict;
    uint8_t len;             /* bytes moved: whole instructions, >= HP_TRAMP_JUMP_LEN */
    uint8_t count;           /* instructions moved */
    hp_insn_moved moved[HP_TRAMP_MOVED_MAX]; /* how each moves (insn.h) */
    uint32_t at;             /* the instruction that decided a refusal (its RVA): the one that
                                does not decode or move, or the branch into the range */
} hp_tramp_plan;

/** "movable", "undecodable", ...; "?" for a value out of range. */
const char *hp_tramp_verdict_name(hp_tramp_verdict v);

/**
 * Decide whether the function at `rva` can be patched through a trampoline.
 * @param code   in: the function's bytes, code[0] at rva
 * @param size   in: the function's size in bytes (its bounds: .pdata, symbols, next entry)
 * @param out    out: the verdict; for HP_TRAMP_MOVABLE, what moves
 * @return HP_OK (every verdict), HP_E_ARG.
 */
hp_status hp_tramp_analyze(bool x64, const uint8_t *code, uint32_t size, uint32_t rva,
                           hp_tramp_plan *out);

#endif
