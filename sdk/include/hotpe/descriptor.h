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
 *    HOTPATCH_HEADER: the base's identity and every resolved reference.
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
#define HOTPE_BUILD_VERSION 2u /* 1: ORIGINAL stubs without their recipe (HOTPE_REF_F_MOVE_*) */
#define HOTPE_BUILD_F_CODEVIEW 0x1u  /* BaseGuid/BaseAge hold the base's CodeView RSDS identity */

typedef struct hotpe_build_disk {
    uint32_t Magic;             /* 00: HOTPE_BUILD_MAGIC */
    uint32_t Version;           /* 04 */
    uint32_t Size;              /* 08: this record and its reference array */
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
} hotpe_build_disk;

/* Where a name was resolved. */
enum hotpe_build_source {
    HOTPE_SRC_NONE = 0,
    HOTPE_SRC_EXPORT = 1,
    HOTPE_SRC_SYMBOL = 2,
    HOTPE_SRC_MAP = 3,
};
#define HOTPE_REF_F_STUB 0x1u /* ORIGINAL of a padded site: the applier builds a stub */
/* How that stub's first instruction (FirstInsnLen bytes) moves, as hotpe build decoded it, so
 * that the applier builds the stub without a decoder: an E8/E9 rel32 re-aimed, or a
 * RIP-relative disp32 (at offset HOTPE_REF_MOVE_DISP(Flags) in it) re-aimed; neither: copied. */
#define HOTPE_REF_F_MOVE_REL32 0x2u
#define HOTPE_REF_F_MOVE_RIP32 0x4u
#define HOTPE_REF_MOVE_DISP_SHIFT 8
#define HOTPE_REF_MOVE_DISP_MASK 0xf00u
#define HOTPE_REF_MOVE_DISP(flags) (((flags) & HOTPE_REF_MOVE_DISP_MASK) >> HOTPE_REF_MOVE_DISP_SHIFT)

typedef struct hotpe_build_ref {
    uint16_t Kind;       /* 00: HOTPE_DESC_* */
    uint16_t Flags;      /* 02: HOTPE_REF_F_* */
    uint32_t BaseRva;    /* 04: the name in the base (ORIGINAL: the replaced entry) */
    uint32_t PatchRva;   /* 08: REPLACE: the replacement; slots: the slot; callbacks: the function */
    uint32_t NameRva;    /* 0c: the name string in the patch */
    uint8_t Source;      /* 10: HOTPE_SRC_* */
    uint8_t SiteClass;   /* 11: REPLACE/ORIGINAL: the site's class (pe/site.h order), else 0 */
    uint8_t Padding;     /* 12: REPLACE/ORIGINAL: padding bytes before the entry */
    uint8_t FirstInsnLen;/* 13: REPLACE/ORIGINAL: length of the first instruction */
} hotpe_build_ref;

#if defined(__cplusplus)
#define HOTPE__STATIC_ASSERT(c, m) static_assert(c, m)
#else
#define HOTPE__STATIC_ASSERT(c, m) _Static_assert(c, m)
#endif
HOTPE__STATIC_ASSERT(sizeof(hotpe_desc_disk) == HOTPE_DESC_SIZE, "hotpe_desc_disk size");
HOTPE__STATIC_ASSERT(offsetof(hotpe_desc_disk, Name) == 0x10, "hotpe_desc_disk.Name");
HOTPE__STATIC_ASSERT(offsetof(hotpe_desc_disk, Text) == 0x28, "hotpe_desc_disk.Text");
HOTPE__STATIC_ASSERT(sizeof(hotpe_build_disk) == 0x40, "hotpe_build_disk size");
HOTPE__STATIC_ASSERT(offsetof(hotpe_build_disk, BaseAge) == 0x30, "hotpe_build_disk.BaseAge");
HOTPE__STATIC_ASSERT(sizeof(hotpe_build_ref) == 0x14, "hotpe_build_ref size");

#endif
