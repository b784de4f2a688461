/*
 * hotpe SDK: the on-disk records shared by the SDK macros (patch.h), `hotpe build` and the PE
 * library (pe/patchdesc.c). Defined once, here.
 *
 * 1. Descriptor records (HOTPE_DESC_*), 0x30 bytes each, written by the macros of patch.h into
 *    the patch DLL's section ".hotpe". Pointer fields are 64-bit in both architectures: the
 *    SDK's struct hotpe_desc stores a pointer and, on 32-bit targets, a zero high half. They
 *    are VAs of the unrelocated patch image (the loader relocates them like any pointer);
 *    readers convert them to RVAs with the patch's ImageBase. The linker may leave zero bytes
 *    between records: readers skip zero u32s at 4-byte steps.
 *
 * 2. The build record (HOTPE_BUILD_*), written by `hotpe build` into .hotp1 right after the
 *    HOTPATCH_HEADER: the base's identity, every resolved reference, the stubs' recipes and
 *    the SHA-256 of every replaced function's bytes.
 *
 * All fields little-endian. Layouts are checked at compile time below.
 */
#ifndef HOTPE_DESCRIPTOR_H
#define HOTPE_DESCRIPTOR_H

#include <stddef.h>
#include <stdint.h>

#define HOTPE_DESC_SECTION ".hotpe"
#define HOTPE_DESC_MAGIC 0x31455048u /* "HPE1" */
#define HOTPE_DESC_VERSION 1u
#define HOTPE_DESC_SIZE 0x30u

/* Kinds of descriptor records. */
enum hotpe_desc_kind {
    HOTPE_DESC_PATCH = 1,     /* Name: target module; Text: description; Sequence */
    HOTPE_DESC_REPLACE = 2,   /* Name: base function; Function: the replacement; Text: its name */
    HOTPE_DESC_BASE_DATA = 3, /* Name: base global; Object: the `type *` slot; Text: the type */
    HOTPE_DESC_BASE_FUNC = 4, /* Name: base function; Object: the pointer slot; Text: signature */
    HOTPE_DESC_ORIGINAL = 5,  /* Name: replaced base function; Object: the pointer slot; Text: signature */
    HOTPE_DESC_ON_APPLY = 6,  /* Name: callback name; Function: int fn(void), non-zero vetoes */
    HOTPE_DESC_ON_REVERT = 7, /* Name: callback name; Function: void fn(void) */
};
#define HOTPE_DESC_KIND_MAX 7

/* The record as readers see it: fixed-width fields at fixed offsets. */
typedef struct hotpe_desc_disk {
    uint32_t Magic;    /* 00: HOTPE_DESC_MAGIC */
    uint32_t Kind;     /* 04: HOTPE_DESC_* */
    uint32_t Version;  /* 08: HOTPE_DESC_VERSION */
    uint32_t Sequence; /* 0c: HOTPE_DESC_PATCH only, else 0 */
    uint64_t Name;     /* 10: VA of a NUL-terminated string */
    uint64_t Object;   /* 18: VA of a pointer slot in the patch's data, or 0 */
    uint64_t Function; /* 20: VA of a function of the patch, or 0 */
    uint64_t Text;     /* 28: VA of a NUL-terminated string, or 0 */
} hotpe_desc_disk;

/* hotpe build's record, at the .hotp1 header + 0x50. */
#define HOTPE_BUILD_MAGIC 0x31425048u /* "HPB1" */
#define HOTPE_BUILD_VERSION 4u /* 3: no function hashes, the record ends at HashCount;
                                  2: stub recipes in the reference flags, no entry form;
                                  1: ORIGINAL stubs without their recipe */
#define HOTPE_BUILD_V3_SIZE 0x48u /* the record of version 3 (still read: no hashes) */
#define HOTPE_BUILD_F_CODEVIEW 0x1u  /* BaseGuid/BaseAge hold the base's CodeView RSDS identity */

typedef struct hotpe_build_disk {
    uint32_t Magic;             /* 00: HOTPE_BUILD_MAGIC */
    uint32_t Version;           /* 04 */
    uint32_t Size;              /* 08: this record and its reference, recipe and hash arrays */
    uint32_t Sequence;          /* 0c */
    uint32_t BaseTimeDateStamp; /* 10 */
    uint32_t BaseSizeOfImage;   /* 14 */
    uint32_t BaseCheckSum;      /* 18 */
    uint32_t Flags;             /* 1c: HOTPE_BUILD_F_* */
    uint8_t BaseGuid[16];       /* 20 */
    uint32_t BaseAge;           /* 30 */
    uint16_t BaseMachine;       /* 34 */
    uint16_t Reserved;          /* 36 */
    uint32_t RefCount;          /* 38 */
    uint32_t RefArrayOffset;    /* 3c: from the start of this record */
    uint32_t RecipeCount;       /* 40 */
    uint32_t RecipeArrayOffset; /* 44: from the start of this record */
    uint32_t HashCount;         /* 48: version 4 on */
    uint32_t HashArrayOffset;   /* 4c: from the start of this record; version 4 on */
} hotpe_build_disk;

/* Where a name was resolved. */
enum hotpe_build_source {
    HOTPE_SRC_NONE = 0,
    HOTPE_SRC_EXPORT = 1,
    HOTPE_SRC_SYMBOL = 2,
    HOTPE_SRC_MAP = 3,
};
/* ORIGINAL of a function whose first instruction(s) the applier moves into a stub, by the
 * recipe recorded for BaseRva (a padded site: its first instruction; the entry form: those
 * covering the 5-byte jump). */
#define HOTPE_REF_F_STUB 0x1u
/* REPLACE/ORIGINAL of a function without hotpatch padding (the entry form: E9 rel32 over its
 * first 5 bytes); FirstInsnLen is then the number of bytes moved. */
#define HOTPE_REF_F_TRAMP 0x2u

typedef struct hotpe_build_ref {
    uint16_t Kind;       /* 00: HOTPE_DESC_* */
    uint16_t Flags;      /* 02: HOTPE_REF_F_* */
    uint32_t BaseRva;    /* 04: the name in the base (ORIGINAL: the replaced entry) */
    uint32_t PatchRva;   /* 08: REPLACE: the replacement; slots: the slot; callbacks: the function */
    uint32_t NameRva;    /* 0c: the name string in the patch */
    uint8_t Source;      /* 10: HOTPE_SRC_* */
    uint8_t SiteClass;   /* 11: REPLACE/ORIGINAL: the site's class (pe/site.h order), else 0 */
    uint8_t Padding;     /* 12: REPLACE/ORIGINAL: padding bytes before the entry */
    uint8_t FirstInsnLen;/* 13: REPLACE/ORIGINAL: length of the first instruction; the entry
                            form (HOTPE_REF_F_TRAMP): bytes moved */
} hotpe_build_ref;

/* How one moved instruction is rebuilt in a stub (hotpe build decoded it from the base file,
 * so that the applier needs no decoder). */
enum hotpe_move_kind {
    HOTPE_MOVE_PLAIN = 0, /* copied */
    HOTPE_MOVE_REL32 = 1, /* E8/E9 rel32, re-aimed */
    HOTPE_MOVE_RIP32 = 2, /* x64 RIP-relative disp32 at DispOffset, re-aimed */
    HOTPE_MOVE_JCC = 3,   /* jcc rel8 or rel32, rebuilt as 0F 8x rel32 */
    HOTPE_MOVE_JMP8 = 4,  /* EB rel8, rebuilt as E9 rel32 */
    HOTPE_MOVE_KIND_MAX = 4,
};
#define HOTPE_RECIPE_MAX 5

/* The recipe of one function's stub: the instructions moved, in order. Sorted by BaseRva,
 * one per function. */
typedef struct hotpe_build_recipe {
    uint32_t BaseRva;                      /* 00 */
    uint8_t Count;                         /* 04: 1..HOTPE_RECIPE_MAX */
    uint8_t Length[HOTPE_RECIPE_MAX];      /* 05: each instruction's length, 1..15 */
    uint8_t Kind[HOTPE_RECIPE_MAX];        /* 0a: HOTPE_MOVE_* */
    uint8_t DispOffset[HOTPE_RECIPE_MAX];  /* 0f: HOTPE_MOVE_RIP32: where its disp32 starts */
} hotpe_build_recipe;

/* The SHA-256 of one replaced function's bytes, as they are in the base file and must be in the
 * running module: from its entry, Length bytes, with every field a base relocation rewrites and
 * every byte the patch's hooks overwrite taken as zero (docs/live.md "Function hashes"). One
 * per HOTPE_REPLACE reference, sorted by BaseRva. */
#define HOTPE_HASH_LENGTH_MAX 0x10000u
typedef struct hotpe_build_hash {
    uint32_t BaseRva;    /* 00: the replaced function's entry */
    uint32_t Length;     /* 04: bytes hashed, 1..HOTPE_HASH_LENGTH_MAX */
    uint8_t Sha256[32];  /* 08 */
} hotpe_build_hash;

#if defined(__cplusplus)
#define HOTPE__STATIC_ASSERT(c, m) static_assert(c, m)
#else
#define HOTPE__STATIC_ASSERT(c, m) _Static_assert(c, m)
#endif
HOTPE__STATIC_ASSERT(sizeof(hotpe_desc_disk) == HOTPE_DESC_SIZE, "hotpe_desc_disk size");
HOTPE__STATIC_ASSERT(offsetof(hotpe_desc_disk, Name) == 0x10, "hotpe_desc_disk.Name");
HOTPE__STATIC_ASSERT(offsetof(hotpe_desc_disk, Text) == 0x28, "hotpe_desc_disk.Text");
HOTPE__STATIC_ASSERT(sizeof(hotpe_build_disk) == 0x50, "hotpe_build_disk size");
HOTPE__STATIC_ASSERT(offsetof(hotpe_build_disk, RecipeArrayOffset) == 0x44,
                     "hotpe_build_disk.RecipeArrayOffset");
HOTPE__STATIC_ASSERT(offsetof(hotpe_build_disk, HashCount) == HOTPE_BUILD_V3_SIZE,
                     "hotpe_build_disk.HashCount: version 4 appends to version 3");
HOTPE__STATIC_ASSERT(offsetof(hotpe_build_disk, HashArrayOffset) == 0x4c,
                     "hotpe_build_disk.HashArrayOffset");
HOTPE__STATIC_ASSERT(sizeof(hotpe_build_hash) == 0x28, "hotpe_build_hash size");
HOTPE__STATIC_ASSERT(offsetof(hotpe_build_hash, Sha256) == 0x08, "hotpe_build_hash.Sha256");
HOTPE__STATIC_ASSERT(sizeof(hotpe_build_recipe) == 0x14, "hotpe_build_recipe size");
HOTPE__STATIC_ASSERT(offsetof(hotpe_build_recipe, DispOffset) == 0x0f, "hotpe_build_recipe.DispOffset");
HOTPE__STATIC_ASSERT(offsetof(hotpe_build_disk, BaseAge) == 0x30, "hotpe_build_disk.BaseAge");
HOTPE__STATIC_ASSERT(sizeof(hotpe_build_ref) == 0x14, "hotpe_build_ref size");

#endif
