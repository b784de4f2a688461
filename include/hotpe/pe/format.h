/*
 * hotpe: on-disk layouts of the PE structures hotpe reads and writes.
 *
 * Field names mirror winnt.h; type and constant names carry the HP_ prefix so they never clash
 * with <windows.h> under MinGW. These structs are never overlaid on file memory: the reader
 * takes each field at offsetof() (HP_RD_FIELD), and the static asserts pin the layouts to the
 * offsets Windows uses (winnt.h).
 */
#ifndef HOTPE_FORMAT_H
#define HOTPE_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define HP_CHECK_LAYOUT(type, field, off) \
    _Static_assert(offsetof(type, field) == (off), #type "." #field " at " #off)
#define HP_CHECK_SIZE(type, size) _Static_assert(sizeof(type) == (size), "sizeof " #type)

#pragma pack(push, 1)

typedef struct HP_IMAGE_DOS_HEADER {
    uint16_t e_magic; /* 00: MZ */
    uint16_t e_cblp, e_cp, e_crlc, e_cparhdr, e_minalloc, e_maxalloc, e_ss, e_sp, e_csum, e_ip,
        e_cs, e_lfarlc, e_ovno, e_res[4], e_oemid, e_oeminfo, e_res2[10];
    uint32_t e_lfanew; /* 3c: offset to the NT headers */
} HP_IMAGE_DOS_HEADER;
HP_CHECK_SIZE(HP_IMAGE_DOS_HEADER, 64);
HP_CHECK_LAYOUT(HP_IMAGE_DOS_HEADER, e_lfanew, 0x3c);

typedef struct HP_IMAGE_FILE_HEADER {
    uint16_t Machine;              /* 00 */
    uint16_t NumberOfSections;     /* 02 */
    uint32_t TimeDateStamp;        /* 04 */
    uint32_t PointerToSymbolTable; /* 08 */
    uint32_t NumberOfSymbols;      /* 0c */
    uint16_t SizeOfOptionalHeader; /* 10 */
    uint16_t Characteristics;      /* 12 */
} HP_IMAGE_FILE_HEADER;
HP_CHECK_SIZE(HP_IMAGE_FILE_HEADER, 20);

typedef struct HP_IMAGE_DATA_DIRECTORY {
    uint32_t VirtualAddress, Size;
} HP_IMAGE_DATA_DIRECTORY;

/* The part of the optional headers before the data directories. */
typedef struct HP_IMAGE_OPTIONAL_HEADER32 {
    uint16_t Magic;                                                 /* 00 */
    uint8_t MajorLinkerVersion, MinorLinkerVersion;                 /* 02 */
    uint32_t SizeOfCode, SizeOfInitializedData, SizeOfUninitializedData; /* 04 */
    uint32_t AddressOfEntryPoint;                                   /* 10 */
    uint32_t BaseOfCode;                                            /* 14 */
    uint32_t BaseOfData;                                            /* 18: PE32 only */
    uint32_t ImageBase;                                             /* 1c */
    uint32_t SectionAlignment, FileAlignment;                       /* 20 */
    uint16_t MajorOperatingSystemVersion, MinorOperatingSystemVersion;
    uint16_t MajorImageVersion, MinorImageVersion;
    uint16_t MajorSubsystemVersion, MinorSubsystemVersion;
    uint32_t Win32VersionValue;
    uint32_t SizeOfImage;   /* 38 */
    uint32_t SizeOfHeaders; /* 3c */
    uint32_t CheckSum;      /* 40 */
    uint16_t Subsystem, DllCharacteristics;
    uint32_t SizeOfStackReserve, SizeOfStackCommit, SizeOfHeapReserve, SizeOfHeapCommit;
    uint32_t LoaderFlags;
    uint32_t NumberOfRvaAndSizes; /* 5c */
} HP_IMAGE_OPTIONAL_HEADER32;
HP_CHECK_SIZE(HP_IMAGE_OPTIONAL_HEADER32, 0x60);
HP_CHECK_LAYOUT(HP_IMAGE_OPTIONAL_HEADER32, CheckSum, 0x40);

typedef struct HP_IMAGE_OPTIONAL_HEADER64 {
    uint16_t Magic;
    uint8_t MajorLinkerVersion, MinorLinkerVersion;
    uint32_t SizeOfCode, SizeOfInitializedData, SizeOfUninitializedData;
    uint32_t AddressOfEntryPoint;
    uint32_t BaseOfCode;
    uint64_t ImageBase; /* 18 */
    uint32_t SectionAlignment, FileAlignment;
    uint16_t MajorOperatingSystemVersion, MinorOperatingSystemVersion;
    uint16_t MajorImageVersion, MinorImageVersion;
    uint16_t MajorSubsystemVersion, MinorSubsystemVersion;
    uint32_t Win32VersionValue;
    uint32_t SizeOfImage;
    uint32_t SizeOfHeaders;
    uint32_t CheckSum; /* 40 */
    uint16_t Subsystem, DllCharacteristics;
    uint64_t SizeOfStackReserve, SizeOfStackCommit, SizeOfHeapReserve, SizeOfHeapCommit;
    uint32_t LoaderFlags;
    uint32_t NumberOfRvaAndSizes; /* 6c */
} HP_IMAGE_OPTIONAL_HEADER64;
HP_CHECK_SIZE(HP_IMAGE_OPTIONAL_HEADER64, 0x70);
HP_CHECK_LAYOUT(HP_IMAGE_OPTIONAL_HEADER64, CheckSum, 0x40);

#define HP_IMAGE_DOS_SIGNATURE 0x5A4Du
#define HP_IMAGE_NT_SIGNATURE 0x00004550u
#define HP_IMAGE_NT_OPTIONAL_HDR32_MAGIC 0x10bu
#define HP_IMAGE_NT_OPTIONAL_HDR64_MAGIC 0x20bu
#define HP_IMAGE_FILE_MACHINE_I386 0x014cu
#define HP_IMAGE_FILE_MACHINE_AMD64 0x8664u
#define HP_IMAGE_FILE_DLL 0x2000u
#define HP_IMAGE_DLLCHARACTERISTICS_GUARD_CF 0x4000u
#define HP_IMAGE_NUMBEROF_DIRECTORY_ENTRIES 16

enum {
    HP_IMAGE_DIRECTORY_ENTRY_EXPORT = 0,
    HP_IMAGE_DIRECTORY_ENTRY_IMPORT = 1,
    HP_IMAGE_DIRECTORY_ENTRY_RESOURCE = 2,
    HP_IMAGE_DIRECTORY_ENTRY_EXCEPTION = 3,
    HP_IMAGE_DIRECTORY_ENTRY_SECURITY = 4,
    HP_IMAGE_DIRECTORY_ENTRY_BASERELOC = 5,
    HP_IMAGE_DIRECTORY_ENTRY_DEBUG = 6,
    HP_IMAGE_DIRECTORY_ENTRY_ARCHITECTURE = 7,
    HP_IMAGE_DIRECTORY_ENTRY_GLOBALPTR = 8,
    HP_IMAGE_DIRECTORY_ENTRY_TLS = 9,
    HP_IMAGE_DIRECTORY_ENTRY_LOAD_CONFIG = 10,
    HP_IMAGE_DIRECTORY_ENTRY_BOUND_IMPORT = 11,
    HP_IMAGE_DIRECTORY_ENTRY_IAT = 12,
    HP_IMAGE_DIRECTORY_ENTRY_DELAY_IMPORT = 13,
    HP_IMAGE_DIRECTORY_ENTRY_COM_DESCRIPTOR = 14,
};

typedef struct HP_IMAGE_SECTION_HEADER {
    uint8_t Name[8];              /* 00 */
    uint32_t VirtualSize;         /* 08: Misc.VirtualSize */
    uint32_t VirtualAddress;      /* 0c */
    uint32_t SizeOfRawData;       /* 10 */
    uint32_t PointerToRawData;    /* 14 */
    uint32_t PointerToRelocations, PointerToLinenumbers;
    uint16_t NumberOfRelocations, NumberOfLinenumbers;
    uint32_t Characteristics; /* 24 */
} HP_IMAGE_SECTION_HEADER;
HP_CHECK_SIZE(HP_IMAGE_SECTION_HEADER, 40);

#define HP_IMAGE_SCN_CNT_CODE 0x00000020u
#define HP_IMAGE_SCN_CNT_INITIALIZED_DATA 0x00000040u
#define HP_IMAGE_SCN_CNT_UNINITIALIZED_DATA 0x00000080u
#define HP_IMAGE_SCN_MEM_DISCARDABLE 0x02000000u
#define HP_IMAGE_SCN_MEM_EXECUTE 0x20000000u
#define HP_IMAGE_SCN_MEM_READ 0x40000000u
#define HP_IMAGE_SCN_MEM_WRITE 0x80000000u

typedef struct HP_IMAGE_EXPORT_DIRECTORY {
    uint32_t Characteristics, TimeDateStamp;
    uint16_t MajorVersion, MinorVersion;
    uint32_t Name;                  /* 0c */
    uint32_t Base;                  /* 10 */
    uint32_t NumberOfFunctions;     /* 14 */
    uint32_t NumberOfNames;         /* 18 */
    uint32_t AddressOfFunctions;    /* 1c */
    uint32_t AddressOfNames;        /* 20 */
    uint32_t AddressOfNameOrdinals; /* 24 */
} HP_IMAGE_EXPORT_DIRECTORY;
HP_CHECK_SIZE(HP_IMAGE_EXPORT_DIRECTORY, 40);

typedef struct HP_IMAGE_IMPORT_DESCRIPTOR {
    uint32_t OriginalFirstThunk; /* 00: import lookup table */
    uint32_t TimeDateStamp;
    uint32_t ForwarderChain;
    uint32_t Name;       /* 0c */
    uint32_t FirstThunk; /* 10: import address table */
} HP_IMAGE_IMPORT_DESCRIPTOR;
HP_CHECK_SIZE(HP_IMAGE_IMPORT_DESCRIPTOR, 20);

typedef struct HP_IMAGE_DELAYLOAD_DESCRIPTOR {
    uint32_t Attributes;                 /* 00: bit 0 set = RVAs, clear = VAs (old) */
    uint32_t DllNameRVA;                 /* 04 */
    uint32_t ModuleHandleRVA;            /* 08 */
    uint32_t ImportAddressTableRVA;      /* 0c */
    uint32_t ImportNameTableRVA;         /* 10 */
    uint32_t BoundImportAddressTableRVA; /* 14 */
    uint32_t UnloadInformationTableRVA;  /* 18 */
    uint32_t TimeDateStamp;              /* 1c */
} HP_IMAGE_DELAYLOAD_DESCRIPTOR;
HP_CHECK_SIZE(HP_IMAGE_DELAYLOAD_DESCRIPTOR, 32);

typedef struct HP_IMAGE_BASE_RELOCATION {
    uint32_t VirtualAddress;
    uint32_t SizeOfBlock;
} HP_IMAGE_BASE_RELOCATION;
HP_CHECK_SIZE(HP_IMAGE_BASE_RELOCATION, 8);

#define HP_IMAGE_REL_BASED_ABSOLUTE 0
#define HP_IMAGE_REL_BASED_HIGH 1
#define HP_IMAGE_REL_BASED_LOW 2
#define HP_IMAGE_REL_BASED_HIGHLOW 3
#define HP_IMAGE_REL_BASED_HIGHADJ 4
#define HP_IMAGE_REL_BASED_DIR64 10

typedef struct HP_IMAGE_RUNTIME_FUNCTION_ENTRY {
    uint32_t BeginAddress, EndAddress, UnwindData;
} HP_IMAGE_RUNTIME_FUNCTION_ENTRY;
HP_CHECK_SIZE(HP_IMAGE_RUNTIME_FUNCTION_ENTRY, 12);

/* x64 UNWIND_INFO header; followed by CountOfCodes u16 slots (padded to even), then either the
 * exception handler RVA or, with UNW_FLAG_CHAININFO, a RUNTIME_FUNCTION of the parent. */
typedef struct HP_UNWIND_INFO {
    uint8_t VersionAndFlags; /* Version:3, Flags:5 */
    uint8_t SizeOfProlog;
    uint8_t CountOfCodes;
    uint8_t FrameRegisterAndOffset;
} HP_UNWIND_INFO;
HP_CHECK_SIZE(HP_UNWIND_INFO, 4);
#define HP_UNW_FLAG_EHANDLER 0x1u
#define HP_UNW_FLAG_UHANDLER 0x2u
#define HP_UNW_FLAG_CHAININFO 0x4u

typedef struct HP_IMAGE_DEBUG_DIRECTORY {
    uint32_t Characteristics, TimeDateStamp;
    uint16_t MajorVersion, MinorVersion;
    uint32_t Type;             /* 0c */
    uint32_t SizeOfData;       /* 10 */
    uint32_t AddressOfRawData; /* 14 */
    uint32_t PointerToRawData; /* 18 */
} HP_IMAGE_DEBUG_DIRECTORY;
HP_CHECK_SIZE(HP_IMAGE_DEBUG_DIRECTORY, 28);
#define HP_IMAGE_DEBUG_TYPE_CODEVIEW 2u
#define HP_CODEVIEW_RSDS 0x53445352u /* "RSDS" */

typedef struct HP_CV_INFO_PDB70 {
    uint32_t CvSignature; /* RSDS */
    uint8_t Signature[16];
    uint32_t Age;
    /* char PdbFileName[] */
} HP_CV_INFO_PDB70;
HP_CHECK_SIZE(HP_CV_INFO_PDB70, 24);

typedef struct HP_IMAGE_SYMBOL {
    union {
        uint8_t ShortName[8];
        struct {
            uint32_t Short; /* zero when the name is in the string table */
            uint32_t Long;  /* offset into the string table */
        } Name;
    } N;
    uint32_t Value;           /* 08 */
    int16_t SectionNumber;    /* 0c: 1-based; 0 undefined, -1 absolute, -2 debug */
    uint16_t Type;            /* 0e: 0x20 = function */
    uint8_t StorageClass;     /* 10 */
    uint8_t NumberOfAuxSymbols; /* 11 */
} HP_IMAGE_SYMBOL;
HP_CHECK_SIZE(HP_IMAGE_SYMBOL, 18);
#define HP_IMAGE_SYM_DTYPE_FUNCTION 2u
#define HP_IMAGE_SYM_CLASS_EXTERNAL 2u
#define HP_IMAGE_SYM_CLASS_STATIC 3u
#define HP_IMAGE_SYM_CLASS_FILE 103u /* aux records: the source file's name */

/* COFF objects (pe/coff.c). An object starts with an IMAGE_FILE_HEADER (no optional header),
 * or, built with /bigobj or -mbig-obj, with this header: more sections, 20-byte symbols
 * whose SectionNumber is 32 bits. Both start Sig1 = 0 (Machine UNKNOWN), Sig2 = 0xFFFF
 * (NumberOfSections), like a short import object (IMPORT_OBJECT_HEADER, Version 0), which an
 * import library holds for each name it imports. */
typedef struct HP_ANON_OBJECT_HEADER_BIGOBJ {
    uint16_t Sig1;                 /* 00: 0 */
    uint16_t Sig2;                 /* 02: 0xFFFF */
    uint16_t Version;              /* 04: 2 or more (an import object's is 0) */
    uint16_t Machine;              /* 06 */
    uint32_t TimeDateStamp;        /* 08 */
    uint8_t ClassID[16];           /* 0c: HP_BIGOBJ_CLASSID */
    uint32_t SizeOfData, Flags, MetaDataSize, MetaDataOffset; /* 1c */
    uint32_t NumberOfSections;     /* 2c */
    uint32_t PointerToSymbolTable; /* 30 */
    uint32_t NumberOfSymbols;      /* 34 */
} HP_ANON_OBJECT_HEADER_BIGOBJ;
HP_CHECK_SIZE(HP_ANON_OBJECT_HEADER_BIGOBJ, 56);
/* {D1BAA1C7-BAEE-4ba9-AF20-FAF66AA4DCB8} as stored */
#define HP_BIGOBJ_CLASSID                                                                      \
    { 0xC7, 0xA1, 0xBA, 0xD1, 0xEE, 0xBA, 0xA9, 0x4B, 0xAF, 0x20, 0xFA, 0xF6, 0x6A, 0xA4, 0xDC, \
      0xB8 }
#define HP_IMPORT_OBJECT_HDR_SIG2 0xFFFFu

typedef struct HP_IMAGE_SYMBOL_EX {
    union {
        uint8_t ShortName[8];
        struct {
            uint32_t Short;
            uint32_t Long;
        } Name;
    } N;
    uint32_t Value;             /* 08 */
    int32_t SectionNumber;      /* 0c */
    uint16_t Type;              /* 10 */
    uint8_t StorageClass;       /* 12 */
    uint8_t NumberOfAuxSymbols; /* 13 */
} HP_IMAGE_SYMBOL_EX;
HP_CHECK_SIZE(HP_IMAGE_SYMBOL_EX, 20);

/* Static archives (.a, .lib; pe/archive.c): "!<arch>\n", then members, each a 60-byte header
 * of space-padded text fields and its data, the next header at an even offset. */
#define HP_IMAGE_ARCHIVE_START "!<arch>\n"
#define HP_IMAGE_ARCHIVE_THIN_START "!<thin>\n"
#define HP_IMAGE_ARCHIVE_START_SIZE 8
typedef struct HP_IMAGE_ARCHIVE_MEMBER_HEADER {
    uint8_t Name[16];  /* 00: "name/" (GNU, MS), "/N" (long name at N), "/", "//", "#1/N" (BSD) */
    uint8_t Date[12];  /* 10 */
    uint8_t UserID[6]; /* 1c */
    uint8_t GroupID[6]; /* 22 */
    uint8_t Mode[8];   /* 28 */
    uint8_t Size[10];  /* 30: decimal, the data's size */
    uint8_t EndHeader[2]; /* 3a: "`\n" */
} HP_IMAGE_ARCHIVE_MEMBER_HEADER;
HP_CHECK_SIZE(HP_IMAGE_ARCHIVE_MEMBER_HEADER, 60);

/* Load config: every field up to the newest SDK's, both layouts (winnt.h). */
typedef struct HP_IMAGE_LOAD_CONFIG_DIRECTORY32 {
    uint32_t Size, TimeDateStamp;
    uint16_t MajorVersion, MinorVersion;
    uint32_t GlobalFlagsClear, GlobalFlagsSet, CriticalSectionDefaultTimeout;
    uint32_t DeCommitFreeBlockThreshold, DeCommitTotalFreeThreshold, LockPrefixTable;
    uint32_t MaximumAllocationSize, VirtualMemoryThreshold, ProcessHeapFlags, ProcessAffinityMask;
    uint16_t CSDVersion, DependentLoadFlags;
    uint32_t EditList, SecurityCookie, SEHandlerTable, SEHandlerCount;
    uint32_t GuardCFCheckFunctionPointer, GuardCFDispatchFunctionPointer;
    uint32_t GuardCFFunctionTable, GuardCFFunctionCount;
    uint32_t GuardFlags;
    uint16_t CodeIntegrityFlags, CodeIntegrityCatalog;
    uint32_t CodeIntegrityCatalogOffset, CodeIntegrityReserved;
    uint32_t GuardAddressTakenIatEntryTable, GuardAddressTakenIatEntryCount;
    uint32_t GuardLongJumpTargetTable, GuardLongJumpTargetCount;
    uint32_t DynamicValueRelocTable, CHPEMetadataPointer;
    uint32_t GuardRFFailureRoutine, GuardRFFailureRoutineFunctionPointer;
    uint32_t DynamicValueRelocTableOffset;
    uint16_t DynamicValueRelocTableSection, Reserved2;
    uint32_t GuardRFVerifyStackPointerFunctionPointer;
    uint32_t HotPatchTableOffset;
    uint32_t Reserved3;
    uint32_t EnclaveConfigurationPointer, VolatileMetadataPointer;
    uint32_t GuardEHContinuationTable, GuardEHContinuationCount;
    uint32_t GuardXFGCheckFunctionPointer, GuardXFGDispatchFunctionPointer;
    uint32_t GuardXFGTableDispatchFunctionPointer;
    uint32_t CastGuardOsDeterminedFailureMode;
    uint32_t GuardMemcpyFunctionPointer;
    uint32_t UmaFunctionPointers;
} HP_IMAGE_LOAD_CONFIG_DIRECTORY32;
HP_CHECK_LAYOUT(HP_IMAGE_LOAD_CONFIG_DIRECTORY32, ProcessHeapFlags, 0x2c);
HP_CHECK_LAYOUT(HP_IMAGE_LOAD_CONFIG_DIRECTORY32, SEHandlerTable, 0x40);
HP_CHECK_LAYOUT(HP_IMAGE_LOAD_CONFIG_DIRECTORY32, GuardCFFunctionTable, 0x50);
HP_CHECK_LAYOUT(HP_IMAGE_LOAD_CONFIG_DIRECTORY32, GuardFlags, 0x58);
HP_CHECK_LAYOUT(HP_IMAGE_LOAD_CONFIG_DIRECTORY32, GuardAddressTakenIatEntryTable, 0x68);
HP_CHECK_LAYOUT(HP_IMAGE_LOAD_CONFIG_DIRECTORY32, GuardLongJumpTargetTable, 0x70);
HP_CHECK_LAYOUT(HP_IMAGE_LOAD_CONFIG_DIRECTORY32, DynamicValueRelocTableOffset, 0x88);
HP_CHECK_LAYOUT(HP_IMAGE_LOAD_CONFIG_DIRECTORY32, HotPatchTableOffset, 0x94);
HP_CHECK_LAYOUT(HP_IMAGE_LOAD_CONFIG_DIRECTORY32, GuardEHContinuationTable, 0xa4);
HP_CHECK_LAYOUT(HP_IMAGE_LOAD_CONFIG_DIRECTORY32, GuardMemcpyFunctionPointer, 0xbc);
HP_CHECK_SIZE(HP_IMAGE_LOAD_CONFIG_DIRECTORY32, 0xc4);

typedef struct HP_IMAGE_LOAD_CONFIG_DIRECTORY64 {
    uint32_t Size, TimeDateStamp;
    uint16_t MajorVersion, MinorVersion;
    uint32_t GlobalFlagsClear, GlobalFlagsSet, CriticalSectionDefaultTimeout;
    uint64_t DeCommitFreeBlockThreshold, DeCommitTotalFreeThreshold, LockPrefixTable;
    uint64_t MaximumAllocationSize, VirtualMemoryThreshold, ProcessAffinityMask;
    uint32_t ProcessHeapFlags;
    uint16_t CSDVersion, DependentLoadFlags;
    uint64_t EditList, SecurityCookie, SEHandlerTable, SEHandlerCount;
    uint64_t GuardCFCheckFunctionPointer, GuardCFDispatchFunctionPointer;
    uint64_t GuardCFFunctionTable, GuardCFFunctionCount;
    uint32_t GuardFlags;
    uint16_t CodeIntegrityFlags, CodeIntegrityCatalog;
    uint32_t CodeIntegrityCatalogOffset, CodeIntegrityReserved;
    uint64_t GuardAddressTakenIatEntryTable, GuardAddressTakenIatEntryCount;
    uint64_t GuardLongJumpTargetTable, GuardLongJumpTargetCount;
    uint64_t DynamicValueRelocTable, CHPEMetadataPointer;
    uint64_t GuardRFFailureRoutine, GuardRFFailureRoutineFunctionPointer;
    uint32_t DynamicValueRelocTableOffset;
    uint16_t DynamicValueRelocTableSection, Reserved2;
    uint64_t GuardRFVerifyStackPointerFunctionPointer;
    uint32_t HotPatchTableOffset;
    uint32_t Reserved3;
    uint64_t EnclaveConfigurationPointer, VolatileMetadataPointer;
    uint64_t GuardEHContinuationTable, GuardEHContinuationCount;
    uint64_t GuardXFGCheckFunctionPointer, GuardXFGDispatchFunctionPointer;
    uint64_t GuardXFGTableDispatchFunctionPointer;
    uint64_t CastGuardOsDeterminedFailureMode;
    uint64_t GuardMemcpyFunctionPointer;
    uint64_t UmaFunctionPointers;
} HP_IMAGE_LOAD_CONFIG_DIRECTORY64;
HP_CHECK_LAYOUT(HP_IMAGE_LOAD_CONFIG_DIRECTORY64, ProcessAffinityMask, 0x40);
HP_CHECK_LAYOUT(HP_IMAGE_LOAD_CONFIG_DIRECTORY64, ProcessHeapFlags, 0x48);
HP_CHECK_LAYOUT(HP_IMAGE_LOAD_CONFIG_DIRECTORY64, SEHandlerTable, 0x60);
HP_CHECK_LAYOUT(HP_IMAGE_LOAD_CONFIG_DIRECTORY64, GuardCFFunctionTable, 0x80);
HP_CHECK_LAYOUT(HP_IMAGE_LOAD_CONFIG_DIRECTORY64, GuardFlags, 0x90);
HP_CHECK_LAYOUT(HP_IMAGE_LOAD_CONFIG_DIRECTORY64, GuardAddressTakenIatEntryTable, 0xa0);
HP_CHECK_LAYOUT(HP_IMAGE_LOAD_CONFIG_DIRECTORY64, GuardLongJumpTargetTable, 0xb0);
HP_CHECK_LAYOUT(HP_IMAGE_LOAD_CONFIG_DIRECTORY64, DynamicValueRelocTable, 0xc0);
HP_CHECK_LAYOUT(HP_IMAGE_LOAD_CONFIG_DIRECTORY64, DynamicValueRelocTableOffset, 0xe0);
HP_CHECK_LAYOUT(HP_IMAGE_LOAD_CONFIG_DIRECTORY64, HotPatchTableOffset, 0xf0);
HP_CHECK_LAYOUT(HP_IMAGE_LOAD_CONFIG_DIRECTORY64, GuardEHContinuationTable, 0x108);
HP_CHECK_LAYOUT(HP_IMAGE_LOAD_CONFIG_DIRECTORY64, GuardMemcpyFunctionPointer, 0x138);
HP_CHECK_SIZE(HP_IMAGE_LOAD_CONFIG_DIRECTORY64, 0x148);

#define HP_IMAGE_GUARD_CF_INSTRUMENTED 0x00000100u
#define HP_IMAGE_GUARD_CFW_INSTRUMENTED 0x00000200u
#define HP_IMAGE_GUARD_CF_FUNCTION_TABLE_PRESENT 0x00000400u
#define HP_IMAGE_GUARD_CF_EXPORT_SUPPRESSION_INFO_PRESENT 0x00004000u
#define HP_IMAGE_GUARD_CF_LONGJUMP_TABLE_PRESENT 0x00010000u
#define HP_IMAGE_GUARD_EH_CONTINUATION_TABLE_PRESENT 0x00400000u
#define HP_IMAGE_GUARD_CF_FUNCTION_TABLE_SIZE_MASK 0xF0000000u
#define HP_IMAGE_GUARD_CF_FUNCTION_TABLE_SIZE_SHIFT 28

/* Legacy hotpatch metadata (.hotp1): docs/sdk.md. */
#define HP_HOTP_SECTION_NAME ".hotp1  "
#define HP_HOTP_SIGNATURE 0x31544F48u /* "HOT1" */
#define HP_HOTP_VERSION 0x00010000u

typedef struct HP_HOTPATCH_HEADER {
    uint32_t Signature;            /* 00 */
    uint32_t Version;              /* 04 */
    uint32_t FixupRgnCount;        /* 08 */
    uint32_t FixupRgnRva;          /* 0c */
    uint32_t ValidationCount;      /* 10 */
    uint32_t ValidationArrayRva;   /* 14 */
    uint32_t HookCount;            /* 18 */
    uint32_t HookArrayRva;         /* 1c */
    uint64_t OrigHotpBaseAddress;  /* 20 */
    uint64_t OrigTargetBaseAddress; /* 28 */
    uint32_t TargetNameRva;        /* 30 */
    uint32_t ModuleIdMethod;       /* 34 */
    uint8_t TargetModuleIdValue[20]; /* 38: Quad / GUID / {GUID, Age} / Hash128 / Hash160 */
    uint32_t Padding;              /* 4c */
} HP_HOTPATCH_HEADER;
HP_CHECK_SIZE(HP_HOTPATCH_HEADER, 0x50);
HP_CHECK_LAYOUT(HP_HOTPATCH_HEADER, OrigHotpBaseAddress, 0x20);
HP_CHECK_LAYOUT(HP_HOTPATCH_HEADER, TargetNameRva, 0x30);
HP_CHECK_LAYOUT(HP_HOTPATCH_HEADER, TargetModuleIdValue, 0x38);

enum {
    HP_HOTP_ID_None = 0,
    HP_HOTP_ID_PeHeaderHash1 = 1,
    HP_HOTP_ID_PeHeaderHash2 = 2,
    HP_HOTP_ID_PeChecksum = 3,
    HP_HOTP_ID_PeDebugSignature = 16,
};

typedef struct HP_HOTPATCH_HOOK {
    uint16_t HookType;      /* 00 */
    uint16_t HookOptions;   /* 02: low 5 bits = bytes replaced */
    uint32_t HookRva;       /* 04: in the target */
    uint32_t HotpRva;       /* 08: in the patch; X86_JMP2B: signed 8-bit displacement */
    uint32_t ValidationRva; /* 0c: in the patch, 0 = none */
} HP_HOTPATCH_HOOK;
HP_CHECK_SIZE(HP_HOTPATCH_HOOK, 16);

enum {
    HP_HOTP_Hook_None = 0,
    HP_HOTP_Hook_VA32 = 1,
    HP_HOTP_Hook_X86_JMP = 2,
    HP_HOTP_Hook_PCREL32 = 3,
    HP_HOTP_Hook_X86_JMP2B = 4,
    HP_HOTP_Hook_VA64 = 0x10,
    HP_HOTP_Hook_IA64_BRL = 0x20,
    HP_HOTP_Hook_IA64_BR = 0x21,
    HP_HOTP_Hook_AMD64_IND = 0x30,
    HP_HOTP_Hook_AMD64_CNT = 0x31,
};
#define HP_HOTP_HOOK_OPTIONS_SIZE_MASK 0x1Fu

typedef struct HP_HOTPATCH_VALIDATION {
    uint32_t SourceRva;   /* 00: expected bytes, in the patch */
    uint32_t TargetRva;   /* 04: in the target */
    uint16_t ByteCount;   /* 08 */
    uint16_t OptionFlags; /* 0a */
} HP_HOTPATCH_VALIDATION;
HP_CHECK_SIZE(HP_HOTPATCH_VALIDATION, 12);
#define HP_HOTP_Valid_Hook_Target 0x1u

/* Fixup region: u32 {RvaHi:20, Count:12} then Count u16 {RvaOffset:12, FixupType:4}. */
#define HP_HOTP_FIXUP_REGION_RVAHI(v) ((v) & 0xFFFFFu)
#define HP_HOTP_FIXUP_REGION_COUNT(v) ((v) >> 20)
#define HP_HOTP_FIXUP_OFFSET(e) ((e) & 0xFFFu)
#define HP_HOTP_FIXUP_TYPE(e) ((e) >> 12)
enum {
    HP_HOTP_Fixup_None = 0,
    HP_HOTP_Fixup_VA32 = 1,
    HP_HOTP_Fixup_PC32 = 2,
    HP_HOTP_Fixup_VA64 = 3,
    HP_HOTP_Fixup_PC64 = 4,
};

/* Modern metadata, reached through the load config's HotPatchTableOffset. */
typedef struct HP_IMAGE_HOT_PATCH_INFO {
    uint32_t Version;           /* 00 */
    uint32_t Size;              /* 04 */
    uint32_t SequenceNumber;    /* 08 */
    uint32_t BaseImageList;     /* 0c */
    uint32_t BaseImageCount;    /* 10 */
    uint32_t BufferOffset;      /* 14: v2+ */
    uint32_t ExtraPatchSize;    /* 18: v3+ */
    uint32_t MinSequenceNumber; /* 1c: v4+ */
    uint32_t Flags;             /* 20: v4+ */
} HP_IMAGE_HOT_PATCH_INFO;
HP_CHECK_SIZE(HP_IMAGE_HOT_PATCH_INFO, 0x24);

typedef struct HP_IMAGE_HOT_PATCH_BASE {
    uint32_t SequenceNumber;        /* 00 */
    uint32_t Flags;                 /* 04 */
    uint32_t OriginalTimeDateStamp; /* 08 */
    uint32_t OriginalCheckSum;      /* 0c */
    uint32_t CodeIntegrityInfo;     /* 10 */
    uint32_t CodeIntegritySize;     /* 14 */
    uint32_t PatchTable;            /* 18 */
    uint32_t BufferOffset;          /* 1c: v2+ */
} HP_IMAGE_HOT_PATCH_BASE;
HP_CHECK_SIZE(HP_IMAGE_HOT_PATCH_BASE, 32);

#define HP_IMAGE_HOT_PATCH_BASE_OBLIGATORY 0x1u
#define HP_IMAGE_HOT_PATCH_BASE_CAN_ROLL_BACK 0x2u
#define HP_IMAGE_HOT_PATCH_BASE_MACHINE_I386 0x4u
#define HP_IMAGE_HOT_PATCH_BASE_MACHINE_ARM64 0x8u
#define HP_IMAGE_HOT_PATCH_BASE_MACHINE_AMD64 0x10u

/* hotpe's import section (.hotpei, pe/setdll.c; docs/sdk.md): an image rewritten so that the
 * loader brings in hotpe-shim.dll. This header starts the section and records what the
 * rewrite changed, so the image still names the build it was. A later version appends fields
 * (Size grows) and keeps these where they are. */
#define HP_SETDLL_SECTION_NAME ".hotpei"
#define HP_SETDLL_MAGIC 0x44535048u /* "HPSD" */
#define HP_SETDLL_VERSION 1u

typedef struct HP_SETDLL_HEADER {
    uint32_t Magic;                 /* 00: HP_SETDLL_MAGIC */
    uint32_t Version;               /* 04: HP_SETDLL_VERSION */
    uint32_t Size;                  /* 08: of this header */
    uint32_t OrigSizeOfImage;       /* 0c: the optional header's, before the rewrite */
    uint32_t OrigCheckSum;          /* 10 */
    uint32_t OrigImportRva;         /* 14: data directory 1 */
    uint32_t OrigImportSize;        /* 18 */
    uint32_t OrigBoundImportRva;    /* 1c: data directory 11, cleared */
    uint32_t OrigBoundImportSize;   /* 20 */
    uint32_t OrigSecurityOffset;    /* 24: data directory 4 (a file offset), cleared */
    uint32_t OrigSecuritySize;      /* 28 */
    uint32_t Reserved[5];           /* 2c: zero */
} HP_SETDLL_HEADER;
HP_CHECK_SIZE(HP_SETDLL_HEADER, 0x40);
HP_CHECK_LAYOUT(HP_SETDLL_HEADER, OrigSizeOfImage, 0x0c);
HP_CHECK_LAYOUT(HP_SETDLL_HEADER, OrigImportRva, 0x14);
HP_CHECK_LAYOUT(HP_SETDLL_HEADER, OrigSecurityOffset, 0x24);
HP_CHECK_LAYOUT(HP_SETDLL_HEADER, Reserved, 0x2c);

#pragma pack(pop)

#endif
