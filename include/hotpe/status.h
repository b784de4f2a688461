/*
 * hotpe: the one status type of the whole project.
 *
 * Every fallible function returns an hp_status. The list below is the single source of both
 * the enum and the message strings (X-macro), so the two cannot drift apart. A message names
 * the structure and the reason; callers add the object (file, pid, symbol) in front of it.
 */
#ifndef HOTPE_STATUS_H
#define HOTPE_STATUS_H

/* X(name, message) */
#define HP_STATUS_LIST(X)                                                                       \
    X(HP_OK, "success")                                                                          \
    /* generic */                                                                                \
    X(HP_E_ARG, "invalid argument")                                                              \
    X(HP_E_NOMEM, "out of memory")                                                               \
    X(HP_E_IO, "cannot read or write the file")                                                  \
    X(HP_E_BOUNDS, "read past the end of the data")                                              \
    X(HP_E_OVERFLOW, "offset or size arithmetic overflows")                                      \
    X(HP_E_UNSUPPORTED, "not supported")                                                         \
    X(HP_E_NOT_FOUND, "not found")                                                               \
    /* headers */                                                                                \
    X(HP_E_DOS_TRUNCATED, "DOS header: file is shorter than the 64-byte DOS header")             \
    X(HP_E_DOS_MAGIC, "DOS header: no MZ signature")                                             \
    X(HP_E_LFANEW, "DOS header: e_lfanew points outside the file")                               \
    X(HP_E_NT_SIGNATURE, "NT headers: no PE\\0\\0 signature")                                    \
    X(HP_E_FILE_HEADER_TRUNCATED, "file header: truncated")                                      \
    X(HP_E_OPT_HEADER_TRUNCATED, "optional header: truncated or SizeOfOptionalHeader too small") \
    X(HP_E_OPT_MAGIC, "optional header: Magic is neither PE32 (0x10b) nor PE32+ (0x20b)")        \
    X(HP_E_MACHINE, "file header: Machine does not match the optional header")                   \
    X(HP_E_ALIGNMENT, "optional header: SectionAlignment or FileAlignment invalid")              \
    X(HP_E_IMAGE_SIZE, "optional header: SizeOfImage or SizeOfHeaders invalid")                  \
    X(HP_E_DIR_COUNT, "optional header: NumberOfRvaAndSizes past the optional header")           \
    X(HP_E_SECTION_COUNT, "file header: NumberOfSections above 96")                   \
    X(HP_E_SECTION_TABLE, "section table: extends past the end of the headers or file")          \
    X(HP_E_SECTION_RAW, "section table: raw data outside the file")                              \
    X(HP_E_SECTION_VIRTUAL, "section table: virtual range wraps or lies past SizeOfImage")       \
    X(HP_E_SECTION_OVERLAP, "section table: virtual ranges overlap or are out of order")         \
    X(HP_E_RVA, "RVA is not backed by the image")                                                \
    X(HP_E_DIR_RANGE, "data directory: range lies outside the image")                            \
    /* directories */                                                                            \
    X(HP_E_EXPORT_DIR, "export directory: truncated or inconsistent counts")                     \
    X(HP_E_EXPORT_NAME, "export directory: name outside the image or unterminated")              \
    X(HP_E_EXPORT_ORDINAL, "export directory: name ordinal past NumberOfFunctions")              \
    X(HP_E_EXPORT_FORWARDER_LOOP, "export directory: forwarder chain loops back on itself")      \
    X(HP_E_IMPORT_DIR, "import directory: descriptor or thunk array outside the image")          \
    X(HP_E_IMPORT_NAME, "import directory: name outside the image or unterminated")              \
    X(HP_E_DELAY_IMPORT_DIR, "delay-load import directory: descriptor outside the image")        \
    X(HP_E_DELAY_IMPORT_THUNK, "delay-load import directory: thunk array outside the image")     \
    X(HP_E_DELAY_IMPORT_NAME, "delay-load import directory: name outside the image or unterminated") \
    X(HP_E_RELOC_BLOCK, "base relocations: block size invalid or outside the directory")         \
    X(HP_E_RELOC_TYPE, "base relocations: unknown relocation type")                              \
    X(HP_E_RELOC_TARGET, "base relocations: target RVA past SizeOfImage")                        \
    X(HP_E_PDATA, "exception directory: size not a multiple of 12 or entries invalid")           \
    X(HP_E_UNWIND, "exception directory: unwind info outside the image or chain too deep")       \
    X(HP_E_LOADCFG_SIZE, "load config: Size field larger than the directory or the image")       \
    X(HP_E_LOADCFG_TABLE, "load config: a CFG table lies outside the image")                     \
    X(HP_E_SYMBOLS, "COFF symbol table: outside the file")                                       \
    X(HP_E_SYMBOL_AUX, "COFF symbol table: auxiliary records run past NumberOfSymbols")          \
    X(HP_E_STRING_TABLE, "COFF string table: size invalid or name offset outside it")            \
    X(HP_E_DEBUG_DIR, "debug directory: entry data outside the file")                            \
    X(HP_E_DEBUG_DIR_SIZE, "debug directory: size not a multiple of 28 or outside the image")    \
    X(HP_E_CODEVIEW, "debug directory: CodeView record truncated or not RSDS")                   \
    X(HP_E_HOTP_SECTION, "hotpatch: .hotp1 section too small")                                   \
    X(HP_E_HOTP_HEADER, "hotpatch: HOTPATCH_HEADER signature or version wrong")                  \
    X(HP_E_HOTP_ARRAY, "hotpatch: hook, validation or fixup array outside the image")            \
    X(HP_E_HOTP_HOOK, "hotpatch: hook points outside the patch image")                           \
    X(HP_E_HOTP_VALIDATION, "hotpatch: validation bytes outside the patch image")                \
    X(HP_E_HOTP_FIXUP, "hotpatch: fixup region truncated, or fixup type or RVA invalid")         \
    X(HP_E_HOTP_NAME, "hotpatch: target name outside the patch image or unterminated")           \
    X(HP_E_HOTP_INFO, "hotpatch: IMAGE_HOT_PATCH_INFO outside the image or inconsistent")        \
    /* writer */                                                                                 \
    X(HP_E_WRITE_LAYOUT, "writer: the image must be in file layout")                             \
    X(HP_E_WRITE_NO_ROOM, "writer: no room in the headers for another section header")           \
    X(HP_E_WRITE_NAME, "writer: section name longer than 8 bytes")                           \
    /* sites and emitted instructions */                                                         \
    X(HP_E_SITE_NOT_PATCHABLE, "site: function is not hotpatchable (see its class)")             \
    X(HP_E_INSN_RANGE, "instruction: jump target out of range of its displacement")           \
    /* SDK descriptors, hotpe build and hotpe info (issue 4) */                                  \
    X(HP_E_PATCHDESC, "hotpe descriptors: record truncated, unknown, or a pointer outside the image") \
    X(HP_E_PATCHDESC_STRING, "hotpe descriptors: name or text outside the image or unterminated") \
    X(HP_E_PATCHBUILD, "hotpe build record: outside the image or inconsistent")                 \
    X(HP_E_NOT_A_PATCH, "not a patch: no .hotp1 section")                                       \
    X(HP_E_BUILD_NO_PATCH, "build: no HOTPE_PATCH record (target, sequence, text)")             \
    X(HP_E_BUILD_NO_REPLACE, "build: the patch replaces no function (no HOTPE_REPLACE)")        \
    X(HP_E_BUILD_DUPLICATE, "build: the same base function is replaced twice")                  \
    X(HP_E_BUILD_UNRESOLVED, "build: name not found in the base (exports, COFF symbols, map)")  \
    X(HP_E_BUILD_MACHINE, "build: the patch and the base are for different machines")          \
    X(HP_E_BUILD_ALREADY, "build: the image already has a .hotp1 section")                      \
    X(HP_E_BUILD_SLOT, "build: a slot is not backed by file bytes in the patch")                \
    X(HP_E_BUILD_LOADCFG, "build: the patch's load config is too short for HotPatchTableOffset") \
    X(HP_E_BUILD_MAP, "build: linker map file unreadable")                                   \
    /* process access and the applier's transaction (issue 5) */                                 \
    X(HP_E_PROC_OPEN, "process: cannot open it (no such pid or access denied)")                 \
    X(HP_E_PROC_READ, "process: memory cannot be read")                                         \
    X(HP_E_PROC_WRITE, "process: memory cannot be written")                                     \
    X(HP_E_PROC_PROTECT, "process: page protection cannot be changed or restored")              \
    X(HP_E_PROC_STRADDLE, "process: the 2-byte entry store would straddle a cache line")        \
    X(HP_E_PROC_ALLOC, "process: no executable memory free within 2 GiB of the site")          \
    X(HP_E_PROC_FREE, "process: memory cannot be released")                                     \
    X(HP_E_PROC_FLUSH, "process: the instruction cache cannot be flushed")                      \
    X(HP_E_PROC_FREEZE, "process: the other threads cannot be suspended")                       \
    X(HP_E_PROC_CONTEXT, "process: a suspended thread's context cannot be read")                \
    X(HP_E_PROC_THAW, "process: a suspended thread cannot be resumed")                          \
    X(HP_E_PROC_THREADS, "process: more threads than the freeze can hold")                      \
    X(HP_E_TXN_STATE, "transaction: call out of order (not begun, or already committed or aborted)") \
    X(HP_E_TXN_VALIDATION, "transaction: bytes at a site differ from the expected ones")        \
    X(HP_E_TXN_OVERLAP, "transaction: two staged sites share bytes")                            \
    X(HP_E_TXN_BUSY, "transaction: a thread keeps executing bytes about to change")             \
    X(HP_E_TXN_UNDO, "transaction: undo failed, a site may be left half-written") \
    /* live patching: the loader shim, apply, list, revert (issue 5) */                        \
    X(HP_E_LIVE_NEEDS_WINDOWS, "live patching needs the Windows build (build/x64/hotpe.exe or build/x86/hotpe.exe)") \
    X(HP_E_LIVE_ARCH, "process: its architecture differs from this hotpe's (use the other build)") \
    X(HP_E_LIVE_MODULE, "process: the patch's target module is not loaded")                    \
    X(HP_E_LIVE_IDENTITY, "identity: the running module is not the build the patch was made for") \
    X(HP_E_LIVE_TARGET_NAME, "patch: its target is another module")                            \
    X(HP_E_LIVE_HOOKS, "patch: hooks do not pair up as padding jump + 2-byte entry jump")      \
    X(HP_E_LIVE_ALREADY, "patch: already applied in this process")                             \
    X(HP_E_LIVE_SEQUENCE, "patch: a live patch of the same target has an equal or higher sequence") \
    X(HP_E_LIVE_INJECT, "shim: hotpe-shim.dll cannot be loaded into the process")             \
    X(HP_E_LIVE_SHIM, "shim: hotpe-shim.dll is missing, damaged or of another version")        \
    X(HP_E_LIVE_TIMEOUT, "shim: the target did not finish the request in time")                \
    X(HP_E_LIVE_REQUEST, "shim: request block malformed, truncated or of another version")    \
    X(HP_E_LIVE_REGISTRY, "shim: registry full, busy or of another version")                   \
    X(HP_E_LIVE_LOAD, "shim: the patch DLL cannot be loaded in the target")                    \
    X(HP_E_LIVE_VETO, "patch: its HOTPE_ON_APPLY callback vetoed the apply")                   \
    X(HP_E_LIVE_NO_PATCH, "registry: no such live patch in this process")                                  \
    /* call-original stubs for padded sites (issue 5) */                                        \
    X(HP_E_INSN_DECODE, "instruction: the first instruction does not decode")                 \
    X(HP_E_INSN_RELOC_BRANCH, "instruction: the first instruction is a relative branch that cannot be moved into a stub") \
    X(HP_E_INSN_RELOC_RANGE, "instruction: moved into the stub, its RIP-relative target is beyond +-2 GiB") \
    /* revert --unload and the 64->32 hand-off (issue 5) */                                     \
    X(HP_E_LIVE_KEPT, "unload: reverted, but the patch DLL was kept loaded")                    \
    X(HP_E_LIVE_HANDOFF, "process: 32-bit, and no 32-bit hotpe.exe beside this one to hand it to") \
    /* hotpe run */                                                                             \
    X(HP_E_RUN_START, "program: cannot be started")                                            \
    X(HP_E_RUN_ENTRY, "program: did not reach its entry point")

typedef enum hp_status {
#define HP_STATUS_ENUM(name, msg) name,
    HP_STATUS_LIST(HP_STATUS_ENUM)
#undef HP_STATUS_ENUM
    HP_STATUS_COUNT
} hp_status;

/** Message of a status: "structure: reason". Never NULL. */
const char *hp_status_str(hp_status s);
/** Enum name of a status, e.g. "HP_E_LFANEW". Never NULL. */
const char *hp_status_name(hp_status s);

#define HP_FAILED(s) ((s) != HP_OK)

/** Propagate a failure. */
#define HP_CHECK(expr)                        \
    do {                                      \
        hp_status hp_check_s_ = (expr);       \
        if (hp_check_s_ != HP_OK)             \
            return hp_check_s_;               \
    } while (0)

/** Propagate a failure of a low-level read as the status that names the structure. */
#define HP_CHECK_AS(expr, status)             \
    do {                                      \
        if ((expr) != HP_OK)                  \
            return (status);                  \
    } while (0)

#endif
