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

#include "hotpe/pe/arena.h"
#include "hotpe/pe/insn.h"
#include "hotpe/pe/pe.h"
#include "hotpe/status.h"

/* X(enum, name): the verdicts, in the order they are decided. */
#define HP_TRAMP_VERDICT_LIST(X)                                                                 \
    X(HP_TRAMP_MOVABLE, "movable")         /* the first instructions can move */                \
    X(HP_TRAMP_UNDECODABLE, "undecodable") /* a byte of the function does not decode */         \
    X(HP_TRAMP_TOO_SHORT, "too-short")     /* the function (or its flow: ret, jmp) ends first */ \
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
    uint32_t size;           /* bytes of the entry's part that were checked (its bounds) */
    uint16_t frags;          /* other parts of the function whose branches were checked */
} hp_tramp_plan;

/** "movable", "undecodable", ...; "?" for a value out of range. */
const char *hp_tramp_verdict_name(hp_tramp_verdict v);

/** Code of the same function outside the part that holds its entry (x64: a fragment whose
 * chained unwind info leads to the function's primary entry). */
typedef struct hp_tramp_frag {
    const uint8_t *code;
    uint32_t rva, size;
} hp_tramp_frag;

/**
 * Decide whether the function at `rva` can be patched through a trampoline.
 * @param code    in: the bytes of the function's part that holds its entry, code[0] at rva
 * @param size    in: that part's size in bytes (its bounds: .pdata, symbols, next entry)
 * @param frags   in: the function's other parts, whose branches are checked as well
 * @param nfrags  in: how many
 * @param out     out: the verdict; for HP_TRAMP_MOVABLE, what moves
 * @return HP_OK (every verdict), HP_E_ARG.
 */
hp_status hp_tramp_analyze(bool x64, const uint8_t *code, uint32_t size, uint32_t rva,
                           const hp_tramp_frag *frags, unsigned nfrags, hp_tramp_plan *out);

/** A .pdata entry (rf index) and the begin of the primary entry its chain leads to. */
typedef struct hp_tramp_owned {
    uint32_t owner, index;
} hp_tramp_owned;

/** An image's function bounds, gathered once: x64 .pdata by address, each entry with the
 * function it belongs to, and the caller's other entries (exports, symbols), sorted, which end
 * a function that has no unwind data (x64 leaf functions, every x86 function). */
typedef struct hp_tramp_image {
    const hp_pe *pe;
    bool x64;
    uint32_t nrf;
    hp_pe_runtime_function *rf;   /* sorted by begin */
    hp_tramp_owned *owned;        /* nrf of them, sorted by owner: a function's fragments */
    uint32_t nentries;
    uint32_t *entries;            /* sorted, unique */
} hp_tramp_image;

/**
 * @param entries   in: every known function entry (RVAs, any order, repeats allowed)
 * @return HP_OK, HP_E_ARG, HP_E_NOMEM, the statuses of hp_pe_pdata_parse.
 */
hp_status hp_tramp_image_init(hp_tramp_image *ti, const hp_pe *pe, hp_arena *arena,
                              const uint32_t *entries, uint32_t nentries);

/**
 * hp_tramp_analyze on the function at rva, its bounds from ti: on x64 the .pdata entry that
 * starts at rva and every fragment chained to it; else from rva to the next entry (or .pdata
 * start), within the section's file-backed bytes.
 * @return HP_OK (every verdict; rva outside executable file-backed code: undecodable with
 *         at = rva), HP_E_ARG, HP_E_NOMEM.
 */
hp_status hp_tramp_examine(const hp_tramp_image *ti, hp_arena *arena, uint32_t rva,
                           hp_tramp_plan *out);

#endif
