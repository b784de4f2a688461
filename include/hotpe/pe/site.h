/*
 * hotpe: site analysis. Which functions of an image can be hotpatched, and why not the others
 * (docs/scan-example.md).
 *
 * Entries come from the exports (code, not forwarders), the x64 exception directory (primary
 * RUNTIME_FUNCTIONs; chained ones are fragments of a function, not entries), COFF function
 * symbols, the CFG function table and the entry point, merged by RVA. Each entry is examined
 * in its own section's file-backed bytes: Zydis decodes the first instruction, the padding is
 * counted backwards from it. Only entries are decoded, never whole sections.
 *
 * Zydis is used through an hp_site_ctx the caller owns, initialised once per image. Its bytes
 * are opaque so that Zydis' headers stay private to pe/site.c: callers of this header need
 * neither them nor their include flags.
 */
#ifndef HOTPE_SITE_H
#define HOTPE_SITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hotpe/pe/pe.h"
#include "hotpe/pe/tramp.h"

/* ------------------------------------------------------------------------------------------ */
/* Types                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/* X(enum, name): classes in the order they are decided (docs/scan-example.md), nop-pair beside
 * prologue; then a short-first or no-padding site whose first instructions can move
 * (pe/tramp.h) is a trampoline site. Values are recorded in patch files: new classes go at
 * the end. A nop-pair site's two 1-byte NOPs count as one 2-byte first instruction: the
 * transaction's IP check keeps a thread between them from seeing the jump's second byte. */
#define HP_SITE_CLASS_LIST(X)                                                                   \
    X(HP_SITE_NOT_CODE, "not-code")       /* not in an executable section or not file-backed */ \
    X(HP_SITE_UNDECODABLE, "undecodable") /* Zydis rejects the first instruction */             \
    X(HP_SITE_SHORT_FIRST, "short-first") /* first instruction shorter than 2 bytes */          \
    X(HP_SITE_NO_PADDING, "no-padding")   /* fewer than 5 CC/90 bytes before the entry */       \
    X(HP_SITE_PROLOGUE, "prologue")       /* 8B FF, 66 90 or 48 8D A4 24 00 00 00 00 */          \
    X(HP_SITE_PADDED, "padded")           /* any other >= 2-byte first instruction */           \
    X(HP_SITE_TRAMP, "trampoline")        /* no hotpatch site, first instructions movable */ \
    X(HP_SITE_NOP_PAIR, "nop-pair")       /* 90 90 first, decided where prologue is */

typedef enum hp_site_class {
#define HP_SITE_CLASS_ENUM(e, name) e,
    HP_SITE_CLASS_LIST(HP_SITE_CLASS_ENUM)
#undef HP_SITE_CLASS_ENUM
    HP_SITE_CLASS_COUNT
} hp_site_class;

/* X(enum, bit, name): where an entry was found; a site's sources are OR'ed. */
#define HP_SITE_SOURCE_LIST(X)              \
    X(HP_SITE_SRC_EXPORT, 0x01u, "export") \
    X(HP_SITE_SRC_PDATA, 0x02u, "pdata")   \
    X(HP_SITE_SRC_SYMBOL, 0x04u, "symbol") \
    X(HP_SITE_SRC_CFG, 0x08u, "cfg")       \
    X(HP_SITE_SRC_ENTRY, 0x10u, "entry")   \
    X(HP_SITE_SRC_MAP, 0x20u, "map")

enum {
#define HP_SITE_SOURCE_ENUM(e, bit, name) e = bit,
    HP_SITE_SOURCE_LIST(HP_SITE_SOURCE_ENUM)
#undef HP_SITE_SOURCE_ENUM
};
#define HP_SITE_SOURCE_COUNT 6

/** Padding is counted up to this many bytes. */
#define HP_SITE_PADDING_MAX 64
/** Longest x86 instruction. */
#define HP_SITE_INSN_MAX 15

/** One entry and its verdict. */
typedef struct hp_site {
    uint32_t rva;
    const char *name;        /* first export name, else a COFF symbol name, else NULL */
    uint8_t sources;         /* HP_SITE_SRC_* bits */
    hp_site_class cls;
    uint8_t padding;         /* CC/90 bytes right before the entry, 0..HP_SITE_PADDING_MAX */
    uint8_t first_insn_len;  /* 0 when not decoded (not-code, undecodable) */
    uint8_t insn[HP_SITE_INSN_MAX]; /* the first instruction's bytes (first_insn_len of them) */
    /* The entry form's check (pe/tramp.h), run by hp_site_analyze on short-first and
     * no-padding sites; HP_TRAMP_VERDICT_COUNT when not run. */
    uint8_t tramp;           /* hp_tramp_verdict */
    uint8_t moved_len;       /* class trampoline: bytes moved */
    uint8_t moved_count;     /* class trampoline: instructions moved, and how (the recipe) */
    hp_insn_moved moved[HP_TRAMP_MOVED_MAX];
    uint32_t tramp_at;       /* a refusal's deciding instruction (RVA) */
} hp_site;

typedef struct hp_site_list {
    uint32_t count;
    hp_site *sites;          /* sorted by RVA, one per RVA */
    uint32_t by_class[HP_SITE_CLASS_COUNT];
} hp_site_list;

/** Bytes of the opaque state; pe/site.c checks at compile time that Zydis' decoder fits. */
#define HP_SITE_CTX_SIZE 64
/** Room for hp_site_format_insn's text, terminating NUL included. */
#define HP_SITE_TEXT_MAX 256

/** The caller-owned decoder state for one image: opaque, no resources, nothing to free. */
typedef struct hp_site_ctx {
    _Alignas(8) unsigned char opaque[HP_SITE_CTX_SIZE];
} hp_site_ctx;

/* ------------------------------------------------------------------------------------------ */
/* Functions                                                                                  */
/* ------------------------------------------------------------------------------------------ */

/** "not-code", "undecodable", ... ; "?" for a value out of range. */
const char *hp_site_class_name(hp_site_class c);
/** Whether sites of this class can be patched (prologue, nop-pair, padded, trampoline). */
bool hp_site_class_patchable(hp_site_class c);
/** Name of one source bit ("export", ...), or NULL when bit is not exactly one known source. */
const char *hp_site_source_name(unsigned bit);

/**
 * Prepare the decoder for an image's machine.
 * @param ctx  out: the context; no resources, nothing to free
 * @param pe   in: a parsed image
 * @return HP_OK, HP_E_ARG, HP_E_UNSUPPORTED (machine neither i386 nor AMD64).
 */
hp_status hp_site_ctx_init(hp_site_ctx *ctx, const hp_pe *pe);

/**
 * Examine one entry: padding, first instruction, class. out->name and out->sources are left
 * as they were.
 * @param ctx  in: from hp_site_ctx_init for this image
 * @param pe   in: the image
 * @param rva  in: the entry
 * @param out  out: rva, cls, padding, first_insn_len, insn
 * @return HP_OK (every verdict, not-code included), HP_E_ARG.
 */
hp_status hp_site_examine(const hp_site_ctx *ctx, const hp_pe *pe, uint32_t rva, hp_site *out);

/**
 * A site's first instruction (site->insn) in Intel syntax, at address image_base + rva, so
 * that relative targets print as absolute addresses.
 * @param ctx   in: from hp_site_ctx_init for this image
 * @param pe    in: the image (its image_base)
 * @param site  in: from hp_site_examine or hp_site_analyze
 * @param text  out: NUL-terminated; "" on failure
 * @param size  in: bytes at text (HP_SITE_TEXT_MAX is enough for any instruction)
 * @return HP_OK, HP_E_ARG, HP_E_NOT_FOUND (no instruction decoded: first_insn_len 0),
 *         HP_E_INSN_DECODE (the bytes do not decode again), HP_E_UNSUPPORTED (the formatter
 *         fails, e.g. text too small).
 */
hp_status hp_site_format_insn(const hp_site_ctx *ctx, const hp_pe *pe, const hp_site *site,
                              char *text, size_t size);

/**
 * Every entry of the image, merged by RVA and examined; then every short-first or no-padding
 * entry by the entry form's check (pe/tramp.h, function bounds from all the entries): class
 * trampoline when its first instructions can move.
 * @param ctx    in: from hp_site_ctx_init for this image
 * @param pe     in: the image
 * @param arena  in/out: holds the list and names
 * @param out    out: the sites, sorted by RVA, and counts by class
 * @return HP_OK, HP_E_ARG, HP_E_NOMEM, or the status of a directory that does not parse
 *         (HP_E_EXPORT_*, HP_E_PDATA, HP_E_UNWIND, HP_E_LOADCFG_*, HP_E_SYMBOLS, ...).
 */
hp_status hp_site_analyze(const hp_site_ctx *ctx, const hp_pe *pe, hp_arena *arena,
                          hp_site_list *out);

/**
 * hp_site_analyze with more entries the caller knows (a GNU ld map file's functions): source
 * HP_SITE_SRC_MAP, names as given (may be NULL). Entries outside executable sections are
 * dropped.
 */
hp_status hp_site_analyze_with(const hp_site_ctx *ctx, const hp_pe *pe, const uint32_t *more,
                               const char *const *more_names, uint32_t nmore, hp_arena *arena,
                               hp_site_list *out);

/** The site at rva in a list from hp_site_analyze, or NULL. */
const hp_site *hp_site_find(const hp_site_list *list, uint32_t rva);

#endif
