/*
 * hotpe: the wire ABI, the bytes that cross the process boundary between hotpe and the loader
 * shim in a target. Fixed-width fields, one layout on x86 and x64 (checked at compile time),
 * no pointers to hotpe's own model: addresses are uint64_t addresses in the target.
 *
 * 1. The registry: the shim's one exported object (`hotpe_registry`), every live patch with
 *    its sites and their original bytes (the undo journal). Its tables grow: the header holds
 *    the address of the patch table, each patch record the address of its site table and of
 *    its aux block list. `hotpe list` reads it all with ReadProcessMemory alone, under a
 *    seqlock: `seq` is odd while the shim changes anything (the header, a table, or which
 *    tables there are); a reader reads `seq`, the header, the tables, `seq` again, and retries
 *    when the two differ or are odd. A table the shim freed meanwhile makes ReadProcessMemory
 *    fail or read garbage; either way `seq` moved, so the copy is dropped. `lock` is held (1)
 *    by the one request running.
 * 2. The request block: written by hotpe into the target (VirtualAllocEx) and handed to the
 *    shim; the shim answers in its `result` part (an hp_status: values pinned in status.h).
 *    Both sides treat the other's bytes as untrusted: magic, version and size are checked,
 *    strings are bounded. The first request of a process starts `hotpe_shim_run` on the block
 *    with CreateRemoteThread (its exit code is the status too), and offers the channel
 *    (hp_wire_channel): two events and a mutex hotpe created and duplicated into the target
 *    (`offer_*`). That thread answers, sets the done event and stays on as the shim's worker,
 *    through which every later request comes: hotpe duplicates the channel's handles out of
 *    the target (DuplicateHandle: only a process that may open the target for that can),
 *    takes the mutex, writes the block's address into `mailbox`, sets `request_event` and
 *    waits for `done_event` (and for the worker's end), then checks the answer carries its own
 *    nonce. One thread in all: under Wine each thread costs its process about 1 MB.
 *
 * HP_WIRE_VERSION changes with any layout: an older shim still injected in a running process
 * answers a newer hotpe with a version it refuses (and the other way round), never with bytes
 * it misreads.
 */
#ifndef HOTPE_ENGINE_WIRE_H
#define HOTPE_ENGINE_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define HP_WIRE_REGISTRY_EXPORT "hotpe_registry"
#define HP_WIRE_RUN_EXPORT "hotpe_shim_run"
#define HP_WIRE_SHIM_NAME "hotpe-shim.dll"

#define HP_WIRE_REGISTRY_MAGIC 0x47455048u /* "HPEG" */
#define HP_WIRE_REQUEST_MAGIC 0x51455048u  /* "HPEQ" */
#define HP_WIRE_VERSION 8u                 /* 7: no file hash in the patch record; 6: nor in the
                                              request; 5: no entry form;
                                              4: 64-byte sites; 3: no channel; 2: fixed tables */
#define HP_WIRE_MAX_PENDING 16u            /* answered request blocks kept for a sweep */
#define HP_WIRE_PATH_MAX 260u              /* UTF-16 units, NUL included */
#define HP_WIRE_NAME_MAX 64u               /* target module name, NUL included */
#define HP_WIRE_NONE 0xffffffffu           /* no site, no index */

/* What a reader accepts before it copies tables out of a target: not limits of the shim (its
 * tables grow), a bound on what a damaged registry can make hotpe allocate. */
#define HP_WIRE_READ_MAX_PATCHES 65536u
#define HP_WIRE_READ_MAX_SITES 4194304u

/* ------------------------------------------------------------------------------------------ */
/* The registry                                                                               */
/* ------------------------------------------------------------------------------------------ */

/* Site states: the operation in progress at a site (journal). */
enum {
    HP_WIRE_SITE_EMPTY = 0,
    HP_WIRE_SITE_WRITING = 1,   /* apply in progress: original bytes recorded, write under way */
    HP_WIRE_SITE_LIVE = 2,      /* both jumps written */
    HP_WIRE_SITE_REVERTING = 3, /* revert in progress */
};

/* Control Flow Guard at a site (hp_wire_site.cfg, hp_wire_result.cfg): what apply did to make
 * the replacement entry a valid call target (engine/cfg.h, docs/live.md). */
enum {
    HP_WIRE_CFG_UNKNOWN = 0,          /* not recorded */
    HP_WIRE_CFG_NOT_INSTRUMENTED = 1, /* the target module has no CFG function table */
    HP_WIRE_CFG_REGISTERED = 2,       /* SetProcessValidCallTargets made the entry valid */
    HP_WIRE_CFG_NO_API = 3,           /* the system lacks SetProcessValidCallTargets (Wine 8) */
    HP_WIRE_CFG_FAILED = 4,           /* the call failed (result: cfg_error) */
    HP_WIRE_CFG_UNALIGNED = 5,        /* the entry is not 16-byte aligned: the call cannot take it */
    HP_WIRE_CFG_NOT_ENFORCED = 6,     /* the process runs without CFG: nothing to do */
};

/* Patch flags. */
#define HP_WIRE_PATCH_F_FROZE 0x1u  /* threads were frozen while writing */
#define HP_WIRE_PATCH_F_SLOTS 0x2u  /* x64: each site's padding jump goes through its aux */

/* 32 bytes a site: addresses are kept as offsets from the patch record's bases (the entry,
 * the padding jump and the aux from target_base, the replacement from patch_base); the
 * hp_wire_site_* helpers below give them back. A site writes the bytes [entry - pad_len,
 * entry + entry_len): a padding jump and EB disp8 (a hotpatch site), or E9 rel32 alone over a
 * function's first 5 bytes (the entry form, pe/tramp.h). */
typedef struct hp_wire_site {
    uint32_t entry_rva;      /* 00: the function's entry in the target module */
    uint32_t replacement_rva;/* 04: in the patch DLL */
    int32_t aux_off;         /* 08: x64: the aux (the 8-byte slot FF 25 reads or, pad_len 5 or
                                the entry form, the near stub E9 reaches) from the entry: placed
                                within 2 GB of it; 0 on x86 */
    uint8_t pad_len;         /* 0c: 5 or 6; 0 for the entry form. The padding jump is at
                                entry - pad_len */
    uint8_t state;           /* 0d: HP_WIRE_SITE_* */
    uint8_t cfg;             /* 0e: HP_WIRE_CFG_* */
    uint8_t entry_len;       /* 0f: 2 (EB disp8) or 5 (the entry form's E9 rel32) */
    uint8_t orig[8];         /* 10: the undo journal: the written bytes before the first patch */
    uint8_t bytes[8];        /* 18: what apply wrote there */
} hp_wire_site;

#define HP_WIRE_SITE_SPAN_MAX 8u

/* Bytes a site writes; a registry whose site says more than HP_WIRE_SITE_SPAN_MAX, or an
 * entry length of neither form, is damaged. */
static inline unsigned hp_wire_site_span(const hp_wire_site *s)
{
    return (unsigned)s->pad_len + s->entry_len;
}

static inline int hp_wire_site_sane(const hp_wire_site *s)
{
    return (s->entry_len == 2 && s->pad_len != 0 && hp_wire_site_span(s) <= HP_WIRE_SITE_SPAN_MAX) ||
           (s->entry_len == 5 && s->pad_len == 0);
}

typedef struct hp_wire_patch {
    uint32_t id;             /* 000: > 0 */
    uint32_t sequence;       /* 004 */
    uint32_t flags;          /* 008: HP_WIRE_PATCH_F_* */
    uint32_t site_count;     /* 00c */
    uint64_t patch_base;     /* 010: the patch DLL's HMODULE */
    uint64_t target_base;    /* 018: the target module's base */
    uint64_t stub_page;      /* 020: HOTPE_ORIGINAL stubs of padded sites, or 0; kept after a
                                revert: the patch's code may still call them */
    uint64_t applied_at;     /* 028: FILETIME of the apply */
    uint64_t sites;          /* 030: address of hp_wire_site[site_count] */
    uint64_t aux_blocks;     /* 038: address of uint64_t[aux_block_count]: the blocks holding
                                the sites' aux (x64), freed when the patch goes */
    uint32_t aux_block_count;/* 040 */
    uint32_t on_revert_rva;  /* 044: HOTPE_ON_REVERT in the patch, or 0 */
    char target_name[HP_WIRE_NAME_MAX];    /* 048 */
    uint16_t path[HP_WIRE_PATH_MAX];       /* 088: the patch DLL, UTF-16 */
    uint8_t file_sha256[32];               /* 290: its bytes when it was applied: the same patch
                                              from another path is the same patch */
} hp_wire_patch;

/* A site's addresses in the target, from the patch record it belongs to. */
static inline uint64_t hp_wire_site_entry(const hp_wire_patch *p, const hp_wire_site *s)
{
    return p->target_base + s->entry_rva;
}

static inline uint64_t hp_wire_site_pad(const hp_wire_patch *p, const hp_wire_site *s)
{
    return hp_wire_site_entry(p, s) - s->pad_len;
}

static inline uint64_t hp_wire_site_aux(const hp_wire_patch *p, const hp_wire_site *s)
{
    return s->aux_off ? hp_wire_site_entry(p, s) + (uint64_t)(int64_t)s->aux_off : 0;
}

static inline uint64_t hp_wire_site_replacement(const hp_wire_patch *p, const hp_wire_site *s)
{
    return p->patch_base + s->replacement_rva;
}

/* An answered request block whose requester may still read it: the shim frees it when the
 * requester has ended and the block is still that request's (hotpe frees its own). */
typedef struct hp_wire_pending {
    uint64_t block;          /* 00: the request block (its allocation base); 0: unused */
    uint64_t owner_created;  /* 08: the requester's start (FILETIME): a reused pid is not it */
    uint64_t nonce;          /* 10: the request's own nonce, to tell it from a later block */
    uint32_t owner_pid;      /* 18 */
    uint32_t reserved;       /* 1c */
} hp_wire_pending;

/* The worker's channel: HANDLE values in the target, set (under the seqlock) by the request
 * whose thread became the worker; all 0 while there is none. */
typedef struct hp_wire_channel {
    uint64_t request_event;  /* 00: auto-reset: a request's address is in mailbox */
    uint64_t done_event;     /* 08: auto-reset: the worker answered (some) request */
    uint64_t mutex;          /* 10: held by one requester from mailbox to answer */
    uint64_t worker;         /* 18: the worker thread (a requester also waits on its end) */
    volatile uint64_t mailbox; /* 20: the request block the worker serves next */
    volatile uint64_t last_block; /* 28: the block the worker took last, and the status of */
    volatile uint32_t last_status;/* 30:   it (a block refused unanswered, e.g. bad magic) */
    uint32_t worker_tid;     /* 34 */
} hp_wire_channel;

typedef struct hp_wire_registry {
    uint32_t magic;          /* 00: HP_WIRE_REGISTRY_MAGIC */
    uint32_t version;        /* 04: HP_WIRE_VERSION */
    uint32_t size;           /* 08: sizeof(hp_wire_registry) */
    volatile uint32_t lock;  /* 0c: 1 while a request runs */
    volatile uint32_t seq;   /* 10: odd while the registry changes */
    uint32_t count;          /* 14: live patches: patches[0..count) */
    uint32_t next_id;        /* 18 */
    uint32_t requests;       /* 1c: requests served */
    uint64_t patches;        /* 20: address of hp_wire_patch[capacity], 0 before the first */
    uint32_t capacity;       /* 28 */
    uint32_t patch_size;     /* 2c: sizeof(hp_wire_patch) */
    uint32_t site_size;      /* 30: sizeof(hp_wire_site) */
    uint32_t pending_count;  /* 34: HP_WIRE_MAX_PENDING */
    hp_wire_pending pending[HP_WIRE_MAX_PENDING]; /* 38 */
    hp_wire_channel channel; /* 238 */
} hp_wire_registry;

_Static_assert(sizeof(hp_wire_site) == 0x20, "hp_wire_site layout");
_Static_assert(offsetof(hp_wire_site, cfg) == 0x0e, "hp_wire_site.cfg");
_Static_assert(offsetof(hp_wire_site, bytes) == 0x18, "hp_wire_site.bytes");
_Static_assert(offsetof(hp_wire_patch, sites) == 0x30, "hp_wire_patch.sites");
_Static_assert(offsetof(hp_wire_patch, target_name) == 0x48, "hp_wire_patch.target_name");
_Static_assert(offsetof(hp_wire_patch, file_sha256) == 0x290, "hp_wire_patch.file_sha256");
_Static_assert(offsetof(hp_wire_patch, path) == 0x88, "hp_wire_patch.path");
_Static_assert(sizeof(hp_wire_patch) == 0x2b0, "hp_wire_patch size");
_Static_assert(sizeof(hp_wire_pending) == 0x20, "hp_wire_pending layout");
_Static_assert(offsetof(hp_wire_registry, patches) == 0x20, "hp_wire_registry.patches");
_Static_assert(offsetof(hp_wire_registry, pending) == 0x38, "hp_wire_registry.pending");
_Static_assert(sizeof(hp_wire_channel) == 0x38, "hp_wire_channel layout");
_Static_assert(offsetof(hp_wire_registry, channel) == 0x238, "hp_wire_registry.channel");
_Static_assert(sizeof(hp_wire_registry) == 0x238 + 0x38, "hp_wire_registry size");

/* ------------------------------------------------------------------------------------------ */
/* The request block and its result                                                           */
/* ------------------------------------------------------------------------------------------ */

enum { HP_WIRE_VERB_APPLY = 1, HP_WIRE_VERB_REVERT = 2 };
#define HP_WIRE_REQ_F_NO_FREEZE 0x1u
/* Revert: then free each reverted patch's DLL (FreeLibrary until unmapped) and its stub page,
 * when no thread's IP or stack (SP up to StackBase) holds an address in the DLL's executable
 * sections or the stub page, and no other live patch is that DLL. With HP_WIRE_REVERT_ALL,
 * also the patch DLLs earlier reverts kept loaded (modules with a .hotp1 section that no live
 * patch uses). A DLL kept loaded does not undo the revert: status HP_E_LIVE_KEPT with the
 * result's kept_* fields saying which and why. */
#define HP_WIRE_REQ_F_UNLOAD 0x2u
#define HP_WIRE_REVERT_ALL 0xffffffffu

/* Why a patch DLL stayed loaded (hp_wire_result.kept_reason). */
enum {
    HP_WIRE_KEPT_IP = 1,         /* a thread's instruction pointer is in it (kept_by: the tid) */
    HP_WIRE_KEPT_STACK = 2,      /* a return address into it on a thread's stack (kept_by: tid) */
    HP_WIRE_KEPT_SHARED = 3,     /* another live patch is that DLL (kept_by: its id) */
    HP_WIRE_KEPT_UNCHECKED = 4,  /* the threads could not be frozen or read */
    HP_WIRE_KEPT_REFERENCED = 5, /* still loaded after every release (pinned) */
};

/* Phases timed by the shim (nanoseconds). */
enum {
    HP_WIRE_PH_VALIDATE = 0, /* parse the patch, re-validate against the live module */
    HP_WIRE_PH_LOAD,         /* LoadLibraryW of the patch */
    HP_WIRE_PH_FIXUP,        /* fixups, HOTPE_ORIGINAL stubs, slots */
    HP_WIRE_PH_CALLBACK,     /* HOTPE_ON_APPLY / HOTPE_ON_REVERT */
    HP_WIRE_PH_COMMIT,       /* the transaction: freeze, IP check, writes, thaw */
    HP_WIRE_PH_TOTAL,
    HP_WIRE_PH_COUNT
};

#define HP_WIRE_RES_F_FROZE 0x1u
#define HP_WIRE_RES_F_NO_CFG_API 0x2u /* SetProcessValidCallTargets missing (CFG module) */

typedef struct hp_wire_result {
    uint32_t done;           /* 00: 1 when the shim finished */
    uint32_t status;         /* 04: hp_status */
    uint32_t failing_site;   /* 08: site index, or HP_WIRE_NONE */
    uint32_t failing_rva;    /* 0c: target RVA of the failing site or validation */
    uint32_t patch_id;       /* 10: apply: the new patch's id; refused as already applied or
                                for its sequence: the live patch's id */
    uint32_t reverted;       /* 14: revert: how many patches were reverted */
    uint32_t flags;          /* 18: HP_WIRE_RES_F_* */
    uint32_t win32_error;    /* 1c: GetLastError of a failed system call, else 0 */
    uint64_t freeze_ns;      /* 20: every other thread suspended */
    uint64_t phase_ns[HP_WIRE_PH_COUNT]; /* 28 */
    uint32_t cfg;            /* 58: apply: HP_WIRE_CFG_* of the sites whose entry is aligned */
    uint32_t cfg_error;      /* 5c: GetLastError of a failed SetProcessValidCallTargets */
    uint32_t kept_reason;    /* 60: unload: HP_WIRE_KEPT_* of the first DLL kept, else 0 */
    uint32_t kept_patch_id;  /* 64: its patch's id (0: a DLL an earlier revert kept) */
    uint32_t kept_by;        /* 68: the thread (IP, STACK) or the other patch (SHARED) */
    uint32_t site_count;     /* 6c: apply: sites written */
    uint64_t nonce;          /* 70: the request's nonce, echoed: this answer is that request's */
    uint32_t moved;          /* 78: threads moved off a padding jump being changed */
    uint32_t via_channel;    /* 7c: 1: served by the worker, 0: by a remote thread */
} hp_wire_result;

typedef struct hp_wire_request {
    uint32_t magic;          /* 000: HP_WIRE_REQUEST_MAGIC */
    uint32_t version;        /* 004 */
    uint32_t size;           /* 008: sizeof(hp_wire_request) */
    uint32_t verb;           /* 00c: HP_WIRE_VERB_* */
    uint32_t flags;          /* 010: HP_WIRE_REQ_F_* */
    uint32_t patch_id;       /* 014: revert: the id, or HP_WIRE_REVERT_ALL */
    uint32_t owner_pid;      /* 018: the requester (hotpe); 0: the shim never frees the block */
    uint32_t reserved;       /* 01c */
    uint64_t owner_created;  /* 020: its start, FILETIME (GetProcessTimes) */
    uint64_t nonce;          /* 028: unique per request of that requester */
    uint64_t offer_request;  /* 030: on a remote thread: the channel's handles, valid in the */
    uint64_t offer_done;     /* 038:   target, for that thread to serve as the worker when */
    uint64_t offer_mutex;    /* 040:   there is none (else 0; hotpe closes them after) */
    uint16_t path[HP_WIRE_PATH_MAX]; /* 048: apply: the patch DLL, UTF-16, NUL-terminated */
    uint8_t file_sha256[32]; /* 250: apply: SHA-256 of the file hotpe checked; the shim loads
                                only a file with these bytes */
    hp_wire_result result;   /* 270 */
} hp_wire_request;

_Static_assert(sizeof(hp_wire_result) == 0x80, "hp_wire_result layout");
_Static_assert(offsetof(hp_wire_result, cfg) == 0x58, "hp_wire_result.cfg");
_Static_assert(offsetof(hp_wire_request, path) == 0x48, "hp_wire_request.path");
_Static_assert(offsetof(hp_wire_request, file_sha256) == 0x250, "hp_wire_request.file_sha256");
_Static_assert(offsetof(hp_wire_request, result) == 0x270, "hp_wire_request.result");
_Static_assert(sizeof(hp_wire_request) == 0x2f0, "hp_wire_request layout");

#endif
