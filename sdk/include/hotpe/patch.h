/*
 * hotpe SDK: what a patch DLL says it replaces (docs/sdk.md).
 *
 *   #include <hotpe/patch.h>
 *   HOTPE_PATCH("quote-server.exe", 2, "fix rounding in compute_price");
 *   HOTPE_BASE_DATA(long, g_requests);              long *g_requests: the base's global
 *   HOTPE_BASE_FUNC(int, log_line, (const char *)); int (*log_line)(const char *)
 *   HOTPE_BASE_FUNC_AS(int, base_log, (const char *), "log_line");
 *                         the same slot under a name of the patch's own (also
 *                         HOTPE_BASE_DATA_AS): the library's headers can then be included
 *   HOTPE_ORIGINAL(int, compute_price, (const struct order *));
 *                         int (*hotpe_original_compute_price)(const struct order *), also
 *                         spelled HOTPE_ORIGINAL_FN(compute_price): the code being replaced
 *   int compute_price_v2(const struct order *o) { ... }
 *   HOTPE_REPLACE(compute_price, compute_price_v2);
 *   HOTPE_ON_APPLY(migrate_state);                  int migrate_state(void): non-zero vetoes
 *   HOTPE_ON_REVERT(unmigrate_state);               void unmigrate_state(void)
 *
 * Every macro is used at file scope and emits one hotpe_desc record (descriptor.h) into the
 * section ".hotpe". Slots (BASE_DATA, BASE_FUNC, ORIGINAL) live in .data so that they have file
 * bytes: `hotpe build` stores the base address into them and records a fixup; the applier
 * adds the base's real load delta before any patch code runs.
 */
#ifndef HOTPE_PATCH_H
#define HOTPE_PATCH_H

#include <stdint.h>

#include "descriptor.h"

#if !defined(__GNUC__) && !defined(__clang__)
#error "hotpe/patch.h needs GCC or clang (MinGW-w64 targets)"
#endif

typedef void (*hotpe_fn)(void);

/* A pointer stored in 64 bits on every target (little-endian: the high half is zero). */
#if UINTPTR_MAX > 0xffffffffu
#define HOTPE__PTR(type, name) type name
#else
#define HOTPE__PTR(type, name) type name; uint32_t name##_hi
#endif

/* The SDK's view of hotpe_desc_disk. */
typedef struct hotpe_desc {
    uint32_t magic, kind, version, sequence;
    HOTPE__PTR(const char *, name);
    HOTPE__PTR(const void *, object);
    HOTPE__PTR(hotpe_fn, function);
    HOTPE__PTR(const char *, text);
} hotpe_desc;
HOTPE__STATIC_ASSERT(sizeof(hotpe_desc) == HOTPE_DESC_SIZE, "hotpe_desc size");
HOTPE__STATIC_ASSERT(offsetof(hotpe_desc, name) == offsetof(hotpe_desc_disk, Name), "name");
HOTPE__STATIC_ASSERT(offsetof(hotpe_desc, object) == offsetof(hotpe_desc_disk, Object), "object");
HOTPE__STATIC_ASSERT(offsetof(hotpe_desc, function) == offsetof(hotpe_desc_disk, Function), "function");
HOTPE__STATIC_ASSERT(offsetof(hotpe_desc, text) == offsetof(hotpe_desc_disk, Text), "text");

#define HOTPE__CAT2(a, b) a##b
#define HOTPE__CAT(a, b) HOTPE__CAT2(a, b)
#define HOTPE__UNIQUE(prefix) HOTPE__CAT(prefix, __COUNTER__)
#define HOTPE__SLOT __attribute__((section(".data")))

#define HOTPE__RECORD(id, kind_, seq_, name_, obj_, fn_, text_)                              \
    __attribute__((section(HOTPE_DESC_SECTION), used, aligned(8)))                          \
    static const hotpe_desc id = {                                                          \
        .magic = HOTPE_DESC_MAGIC, .kind = (kind_), .version = HOTPE_DESC_VERSION,          \
        .sequence = (seq_), .name = (name_), .object = (obj_), .function = (fn_),           \
        .text = (text_) }

/** The patch's target module, its sequence number (higher supersedes lower) and a text. */
#define HOTPE_PATCH(target, sequence, text) \
    HOTPE__RECORD(HOTPE__UNIQUE(hotpe__patch_), HOTPE_DESC_PATCH, (sequence), (target), 0, 0, (text))

/** Replace the base's function base_fn with this DLL's function replacement. */
#define HOTPE_REPLACE(base_fn, replacement) \
    HOTPE__RECORD(HOTPE__UNIQUE(hotpe__replace_), HOTPE_DESC_REPLACE, 0, #base_fn, 0, \
                  (hotpe_fn)(replacement), #replacement)

/** `type *name`: the address of the base's global `name`. */
#define HOTPE_BASE_DATA(type, name) HOTPE_BASE_DATA_AS(type, name, #name)
/** `type *name`: the address of the base's global whose symbol is the string base_name. */
#define HOTPE_BASE_DATA_AS(type, name, base_name)                                       \
    HOTPE__SLOT type *name = 0;                                                         \
    HOTPE__RECORD(HOTPE__UNIQUE(hotpe__data_), HOTPE_DESC_BASE_DATA, 0, (base_name), &name, \
                  0, #type)

/** `ret (*name) params`: the base's function `name` (exported or not). */
#define HOTPE_BASE_FUNC(ret, name, params) HOTPE_BASE_FUNC_AS(ret, name, params, #name)
/** `ret (*name) params`: the base's function whose symbol is the string base_name. */
#define HOTPE_BASE_FUNC_AS(ret, name, params, base_name)                                \
    HOTPE__SLOT ret(*name) params = 0;                                                  \
    HOTPE__RECORD(HOTPE__UNIQUE(hotpe__func_), HOTPE_DESC_BASE_FUNC, 0, (base_name), &name, \
                  0, #ret " " #params)

/** The name of the pointer HOTPE_ORIGINAL(ret, name, params) declares. */
#define HOTPE_ORIGINAL_FN(name) hotpe_original_##name

/** `ret (*hotpe_original_name) params`: calls the base's code of `name` as it was. */
#define HOTPE_ORIGINAL(ret, name, params)                                               \
    HOTPE__SLOT ret(*HOTPE_ORIGINAL_FN(name)) params = 0;                               \
    HOTPE__RECORD(HOTPE__UNIQUE(hotpe__orig_), HOTPE_DESC_ORIGINAL, 0, #name,           \
                  &HOTPE_ORIGINAL_FN(name), 0, #ret " " #params)

/** `int fn(void)`, run in the target before the sites are written; non-zero vetoes. */
#define HOTPE_ON_APPLY(fn)                                                              \
    _Static_assert(__builtin_types_compatible_p(__typeof__(&(fn)), int (*)(void)),      \
                   "HOTPE_ON_APPLY: " #fn " must be int " #fn "(void)");                \
    HOTPE__RECORD(HOTPE__UNIQUE(hotpe__apply_), HOTPE_DESC_ON_APPLY, 0, #fn, 0, (hotpe_fn)(fn), 0)

/** `void fn(void)`, run in the target after the sites are restored. */
#define HOTPE_ON_REVERT(fn)                                                             \
    _Static_assert(__builtin_types_compatible_p(__typeof__(&(fn)), void (*)(void)),     \
                   "HOTPE_ON_REVERT: " #fn " must be void " #fn "(void)");              \
    HOTPE__RECORD(HOTPE__UNIQUE(hotpe__revert_), HOTPE_DESC_ON_REVERT, 0, #fn, 0, (hotpe_fn)(fn), 0)

#endif
