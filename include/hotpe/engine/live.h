/*
 * hotpe: live patching shared by the CLI (applier/apply.c) and the loader shim
 * (loader-shim/shim.c).
 *
 * 1. The two blocks that cross the process boundary, with fixed-width fields so that they
 *    have one layout on x86 and x64 (checked at compile time):
 *    - hp_live_registry: the shim's one exported object (`hotpe_registry`), every live patch
 *      with its sites and their original bytes (the undo journal). `hotpe list` reads it with
 *      ReadProcessMemory alone: `seq` is odd while the shim changes it (a seqlock), `lock` is
 *      held (1) by the one request running.
 *    - hp_live_request: written by hotpe into the target (VirtualAllocEx), handed to
 *      `hotpe_shim_run`; the shim answers in its `result` part. Both sides treat the other's
 *      bytes as untrusted: magic, version and size are checked, strings are bounded.
 *      hotpe frees the block once it has read the result; the shim keeps the answered blocks
 *      in the registry's `pending` table and frees one itself when its requester has ended
 *      without doing so (a hotpe killed mid-request), at the next request.
 * 2. The checks both sides run on a patch against a module: target name, identity, every
 *    validation, hook pairing (hp_live_patch_load, hp_live_check, hp_live_sites). Untrusted
 *    bytes are read through pe/ only.
 */
#ifndef HOTPE_LIVE_H
#define HOTPE_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hotpe/pe/arena.h"
#include "hotpe/pe/patchdesc.h"
#include "hotpe/pe/pe.h"
#include "hotpe/status.h"

/* ------------------------------------------------------------------------------------------ */
/* Types: the registry (exported by the shim as `hotpe_registry`)                             */
/* ------------------------------------------------------------------------------------------ */

#define HP_LIVE_REGISTRY_EXPORT "hotpe_registry"
#define HP_LIVE_RUN_EXPORT "hotpe_shim_run"
#define HP_LIVE_SHIM_NAME "hotpe-shim.dll"

#define HP_LIVE_REGISTRY_MAGIC 0x47455048u /* "HPEG" */
#define HP_LIVE_REQUEST_MAGIC 0x51455048u  /* "HPEQ" */
#define HP_LIVE_VERSION 2u
#define HP_LIVE_MAX_PATCHES 16u
#define HP_LIVE_MAX_PENDING 16u
#define HP_LIVE_MAX_SITES 32u
#define HP_LIVE_PATH_MAX 260u              /* UTF-16 units, NUL included */
#define HP_LIVE_NAME_MAX 64u               /* target module name, NUL included */

/* Site states: the operation in progress at a site (journal). */
enum {
    HP_LIVE_SITE_EMPTY = 0,
    HP_LIVE_SITE_WRITING = 1,   /* apply in progress: original bytes recorded, write under way */
    HP_LIVE_SITE_LIVE = 2,      /* both jumps written */
    HP_LIVE_SITE_REVERTING = 3, /* revert in progress */
};

/* Control Flow Guard at a site (hp_live_site.cfg, hp_live_result.cfg): what apply did to make
 * the replacement entry a valid call target (applier/cfg.h, docs/live.md). */
enum {
    HP_LIVE_CFG_UNKNOWN = 0,          /* not recorded */
    HP_LIVE_CFG_NOT_INSTRUMENTED = 1, /* the target module has no CFG function table */
    HP_LIVE_CFG_REGISTERED = 2,       /* SetProcessValidCallTargets made the entry valid */
    HP_LIVE_CFG_NO_API = 3,           /* the system lacks SetProcessValidCallTargets (Wine 8) */
    HP_LIVE_CFG_FAILED = 4,           /* the call failed (result: win32_error) */
    HP_LIVE_CFG_UNALIGNED = 5,        /* the entry is not 16-byte aligned: the call cannot take it */
    HP_LIVE_CFG_NOT_ENFORCED = 6,     /* the process runs without CFG: nothing to do */
};

/* Patch flags. */
#define HP_LIVE_PATCH_F_FROZE 0x1u  /* threads were frozen while writing */
#define HP_LIVE_PATCH_F_SLOTS 0x2u  /* x64: each site's FF 25 reads its slot_va */

typedef struct hp_live_site {
    uint64_t entry_va;       /* 00: the function's entry (EB disp8 there) */
    uint64_t pad_va;         /* 08: the padding jump (entry - pad_len) */
    uint64_t slot_va;        /* 10: x64: the 8-byte slot FF 25 reads, or (pad_len 5) the near
                                stub E9 reaches; 0 on x86 */
    uint64_t replacement_va; /* 18 */
    uint32_t entry_rva;      /* 20: in the target module */
    uint8_t pad_len;         /* 24: 5 or 6 */
    uint8_t state;           /* 25: HP_LIVE_SITE_* */
    uint8_t orig_entry[2];   /* 26: the undo journal: bytes before apply */
    uint8_t orig_pad[8];     /* 28 */
    uint8_t new_pad[8];      /* 30: what apply wrote */
    uint8_t new_entry[2];    /* 38 */
    uint8_t cfg;             /* 3a: HP_LIVE_CFG_*: what apply did for Control Flow Guard */
    uint8_t reserved[5];     /* 3b */
} hp_live_site;

typedef struct hp_live_patch {
    uint32_t id;             /* 000: > 0 while the entry is used */
    uint32_t sequence;       /* 004 */
    uint32_t flags;          /* 008: HP_LIVE_PATCH_F_* */
    uint32_t site_count;     /* 00c */
    uint64_t patch_base;     /* 010: the patch DLL's HMODULE */
    uint64_t target_base;    /* 018: the target module's base */
    uint64_t slot_page;      /* 020: HOTPE_ORIGINAL stubs of padded sites (alloc_near), or 0;
                                kept after a revert: the patch's code may still call them */
    uint64_t applied_at;     /* 028: FILETIME of the apply */
    uint32_t on_revert_rva;  /* 030: HOTPE_ON_REVERT in the patch, or 0 */
    uint32_t reserved;       /* 034 */
    char target_name[HP_LIVE_NAME_MAX];   /* 038 */
    uint16_t path[HP_LIVE_PATH_MAX];      /* 078: the patch DLL, UTF-16 */
    hp_live_site sites[HP_LIVE_MAX_SITES];/* 280 */
} hp_live_patch;

/* An answered request block whose requester may still read it: the shim frees it when the
 * requester has ended and the block is still that request's (hotpe frees its own). */
typedef struct hp_live_pending {
    uint64_t block;          /* 00: the request block (its allocation base); 0: unused */
    uint64_t owner_created;  /* 08: the requester's start (FILETIME): a reused pid is not it */
    uint64_t nonce;          /* 10: the request's own nonce, to tell it from a later block */
    uint32_t owner_pid;      /* 18 */
    uint32_t reserved;       /* 1c */
} hp_live_pending;

typedef struct hp_live_registry {
    uint32_t magic;          /* 00: HP_LIVE_REGISTRY_MAGIC */
    uint32_t version;        /* 04: HP_LIVE_VERSION */
    uint32_t size;           /* 08: sizeof(hp_live_registry) */
    volatile uint32_t lock;  /* 0c: 1 while a request runs */
    volatile uint32_t seq;   /* 10: odd while the registry changes */
    uint32_t count;          /* 14: used entries (patches[0..count)) */
    uint32_t next_id;        /* 18 */
    uint32_t capacity;       /* 1c: HP_LIVE_MAX_PATCHES */
    uint32_t max_sites;      /* 20: HP_LIVE_MAX_SITES */
    uint32_t requests;       /* 24: requests served */
    hp_live_patch patches[HP_LIVE_MAX_PATCHES]; /* 28 */
    hp_live_pending pending[HP_LIVE_MAX_PENDING]; /* after the patches */
} hp_live_registry;

_Static_assert(sizeof(hp_live_site) == 0x40, "hp_live_site layout");
_Static_assert(offsetof(hp_live_site, cfg) == 0x3a, "hp_live_site.cfg");
_Static_assert(offsetof(hp_live_patch, path) == 0x78, "hp_live_patch.path");
_Static_assert(offsetof(hp_live_patch, sites) == 0x280, "hp_live_patch.sites");
_Static_assert(sizeof(hp_live_patch) == 0x280 + 0x40 * HP_LIVE_MAX_SITES, "hp_live_patch size");
_Static_assert(offsetof(hp_live_registry, patches) == 0x28, "hp_live_registry.patches");
_Static_assert(sizeof(hp_live_pending) == 0x20, "hp_live_pending layout");
_Static_assert(offsetof(hp_live_registry, pending) ==
                   0x28 + sizeof(hp_live_patch) * HP_LIVE_MAX_PATCHES,
               "hp_live_registry.pending");

/* ------------------------------------------------------------------------------------------ */
/* Types: the request block and its result                                                    */
/* ------------------------------------------------------------------------------------------ */

enum { HP_LIVE_VERB_APPLY = 1, HP_LIVE_VERB_REVERT = 2 };
#define HP_LIVE_REQ_F_NO_FREEZE 0x1u
/* Revert: then free each reverted patch's DLL (FreeLibrary until unmapped) and its stub page,
 * when no thread's IP or stack (SP up to StackBase) holds an address in the DLL's executable
 * sections or the stub page, and no other live patch is that DLL. With HP_LIVE_REVERT_ALL,
 * also the patch DLLs earlier reverts kept loaded (modules with a .hotp1 section that no live
 * patch uses). A DLL kept loaded does not undo the revert: status HP_E_LIVE_KEPT, patch_id =
 * patches reverted, failing_site = the kept patch's id (0: one found by the sweep),
 * failing_rva = HP_LIVE_KEPT_*, win32_error = the thread id (IP, STACK) or the other patch's
 * id (SHARED). */
#define HP_LIVE_REQ_F_UNLOAD 0x2u
enum {
    HP_LIVE_KEPT_IP = 1,         /* a thread's instruction pointer is in it */
    HP_LIVE_KEPT_STACK = 2,      /* a return address into it on a thread's stack */
    HP_LIVE_KEPT_SHARED = 3,     /* another live patch is that DLL */
    HP_LIVE_KEPT_UNCHECKED = 4,  /* the threads could not be frozen or read */
    HP_LIVE_KEPT_REFERENCED = 5, /* still loaded after every release (pinned) */
};
#define HP_LIVE_REVERT_ALL 0xffffffffu

/* Phases timed by the shim (nanoseconds). */
enum {
    HP_LIVE_PH_VALIDATE = 0, /* parse the patch, re-validate against the live module */
    HP_LIVE_PH_LOAD,         /* LoadLibraryW of the patch */
    HP_LIVE_PH_FIXUP,        /* fixups and slots */
    HP_LIVE_PH_CALLBACK,     /* HOTPE_ON_APPLY / HOTPE_ON_REVERT */
    HP_LIVE_PH_COMMIT,       /* the transaction: freeze, IP check, writes, thaw */
    HP_LIVE_PH_TOTAL,
    HP_LIVE_PH_COUNT
};

typedef struct hp_live_result {
    uint32_t done;           /* 00: 1 when the shim finished */
    uint32_t status;         /* 04: hp_status, a pinned value (status.h) */
    uint32_t failing_site;   /* 08: site index, or 0xffffffff */
    uint32_t failing_rva;    /* 0c: target RVA of the failing site or validation */
    uint32_t patch_id;       /* 10: apply: the new id; revert: how many reverted */
    uint32_t flags;          /* 14: HP_LIVE_RES_F_* */
    uint64_t freeze_ns;      /* 18: every other thread suspended */
    uint64_t phase_ns[HP_LIVE_PH_COUNT]; /* 20 */
    uint32_t win32_error;    /* 50: GetLastError of a failed system call, else 0 */
    uint32_t cfg;            /* 54: apply: HP_LIVE_CFG_* of the sites whose entry is aligned */
} hp_live_result;
#define HP_LIVE_RES_F_FROZE 0x1u
#define HP_LIVE_RES_F_NO_CFG_API 0x2u /* SetProcessValidCallTargets missing (CFG module) */

typedef struct hp_live_request {
    uint32_t magic;          /* 00: HP_LIVE_REQUEST_MAGIC */
    uint32_t version;        /* 04 */
    uint32_t size;           /* 08: sizeof(hp_live_request) */
    uint32_t verb;           /* 0c: HP_LIVE_VERB_* */
    uint32_t flags;          /* 10: HP_LIVE_REQ_F_* */
    uint32_t patch_id;       /* 14: revert: the id, or HP_LIVE_REVERT_ALL */
    uint16_t path[HP_LIVE_PATH_MAX]; /* 18: apply: the patch DLL, UTF-16, NUL-terminated */
    hp_live_result result;   /* 220 */
    uint32_t owner_pid;      /* 278: the requester (hotpe); 0: the shim never frees the block */
    uint32_t reserved;       /* 27c */
    uint64_t owner_created;  /* 280: its start, FILETIME (GetProcessTimes) */
    uint64_t nonce;          /* 288: unique per request of that requester */
} hp_live_request;
_Static_assert(sizeof(hp_live_result) == 0x58, "hp_live_result layout");
_Static_assert(offsetof(hp_live_request, result) == 0x220, "hp_live_request.result");
_Static_assert(sizeof(hp_live_request) == 0x290, "hp_live_request layout");

/* ------------------------------------------------------------------------------------------ */
/* Types: a patch checked against a module                                                    */
/* ------------------------------------------------------------------------------------------ */

/** A patch image parsed from its file bytes. */
typedef struct hp_live_patchinfo {
    hp_pe pe;
    hp_pe_hotp hotp;
    hp_pe_patchbuild pb;
    uint32_t on_apply_rva, on_revert_rva; /* 0 when absent */
} hp_live_patchinfo;

/** One site: a padding hook and its entry hook. */
typedef struct hp_live_site_plan {
    uint32_t entry_rva;       /* in the target */
    uint32_t pad_rva;         /* entry_rva - pad_len */
    uint8_t pad_len;          /* 5 (E9: x86 to the replacement, x64 to a near stub) or 6 (x64 FF 25) */
    uint32_t replacement_rva; /* in the patch */
    const char *name;         /* the base function (build record), or NULL */
} hp_live_site_plan;

/** Why a check failed: which validation, and the bytes (first 16 of each). */
typedef struct hp_live_failure {
    uint32_t rva;             /* in the target */
    uint32_t count;           /* bytes compared */
    uint8_t expected[16], found[16];
    const char *function;     /* base function whose site holds rva, or NULL */
    const char *what;         /* identity: which field differs; a validation: why its bytes
                                 could not be read (not backed by the module), else NULL */
} hp_live_failure;

/* ------------------------------------------------------------------------------------------ */
/* Functions                                                                                  */
/* ------------------------------------------------------------------------------------------ */

/**
 * Parse a patch image (file layout): .hotp1, hotpe's build record, the callbacks.
 * @param data  in: the file's bytes; must outlive out
 * @return HP_OK, the pe/ parsers' statuses, HP_E_NOT_A_PATCH (no .hotp1 or no build record),
 *         HP_E_LIVE_HOOKS (no hooks).
 */
hp_status hp_live_patch_load(hp_live_patchinfo *out, hp_arena *arena, const void *data,
                             size_t size);

/**
 * Check a patch against a live module copied in loaded layout: machine, target name
 * (module_name compared case-insensitively, path stripped), identity (TimeDateStamp,
 * SizeOfImage, CheckSum, CodeView GUID and age when recorded), then every validation.
 * @param why  out (opt): details of a refusal
 * @return HP_OK, HP_E_LIVE_TARGET_NAME, HP_E_LIVE_IDENTITY, HP_E_BUILD_MACHINE,
 *         HP_E_TXN_VALIDATION (a validation's bytes differ or are not backed), HP_E_NOMEM.
 */
hp_status hp_live_check(const hp_live_patchinfo *pi, const hp_pe *module, const char *module_name,
                        hp_arena *arena, hp_live_failure *why);

/**
 * hp_live_check for a patch that supersedes `under` (a live patch of the same module, e.g. a
 * registry entry): validations are compared with the bytes as they were before `under` was
 * applied (its journal laid over the live bytes). under NULL: hp_live_check.
 * @return as hp_live_check.
 */
hp_status hp_live_check_under(const hp_live_patchinfo *pi, const hp_pe *module,
                              const char *module_name, hp_arena *arena, hp_live_failure *why,
                              const hp_live_patch *under);

/**
 * Pair the hooks into sites: each X86_JMP2B entry hook with the padding hook its displacement
 * reaches (x86: X86_JMP of 5 bytes; x64: AMD64_IND of 6 bytes, the FF 25 form, or of 5, the
 * E9-to-a-near-stub form).
 * @return HP_OK, HP_E_LIVE_HOOKS (unpaired or unknown hooks, more than cap sites),
 *         HP_E_UNSUPPORTED (PC-relative fixups: not built yet).
 */
hp_status hp_live_sites(const hp_live_patchinfo *pi, hp_live_site_plan *out, uint32_t cap,
                        uint32_t *count);

/** The build record's name for the site holding target RVA rva, or NULL. */
const char *hp_live_function_at(const hp_live_patchinfo *pi, uint32_t rva);

/** ASCII case-insensitive compare of the last path component of path with name. */
bool hp_live_same_module_name(const char *path, const char *name);

#endif
