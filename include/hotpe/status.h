/*
 * hotpe: the one status type of the whole project.
 *
 * Every fallible function returns an hp_status. The lists below are the single source of the
 * enum, the message strings and the names (X-macros), so none can drift from another. A
 * message names the structure and the reason; callers add the object (file, pid, symbol) in
 * front of it.
 *
 * Values: module and code, pinned. A status is HP_STATUS_MAKE(module, code), that is
 * (module << 8) | code: the module (bits 8-15) is the layer that owns the status, the code
 * (bits 0-7, 1..0xFF) numbers it within that layer, and HP_OK is 0 (module 0, code 0). "Module"
 * is Zycore's word for such a group (ZYAN_MAKE_STATUS, ZYAN_MODULE_*), not a loaded PE module.
 * Every value is written out in its list and never moves, because statuses cross the process
 * boundary: hotpe-shim.dll returns one as the exit code of hotpe_shim_run's thread and in the
 * result block of a request (engine/wire.h, hp_wire_result.status), and the shim stays injected
 * in a live process for as long as that process runs, so the hotpe that reads its answer may be
 * newer than the shim that wrote it (or older). (The enum used to be ordinal: adding a status
 * renumbered every later one.) A value read from another process is checked with
 * hp_status_known; hotpe takes an unknown one as HP_E_LIVE_REQUEST (another version).
 *
 * Adding a status: choose the module by the layer that returns it and append it at the end of
 * that module's list with the next code after the highest one the module has ever used. Never
 * renumber, never reuse a code: a removed status leaves its code as a hole, with a comment
 * (`0xNN: was HP_E_..., removed`). A new layer gets the next module id, a list of its own and a
 * line in HP_STATUS_MODULES. pe/status.c checks at compile time that no two statuses share a
 * value (a switch over all of them), that codes lie in 1..0xFF, and the holes below;
 * tests/unit/test_status.c pins some values literally, so a renumbering fails it.
 *
 * Holes that are not removals:
 * - generic codes 0x08..0x71: the ordinals that the statuses after HP_E_NOT_FOUND had in the
 *   flat list before values were pinned (0..7 are the same in both schemes). A shim built before
 *   the change answers with those ordinals; unassigned, they are unknown here instead of being
 *   taken for another status. The next generic code is 0x73.
 * - pe code 0x03: 0x0103 is 259, STILL_ACTIVE, which GetExitCodeThread reports for a thread
 *   that has not ended; a status is a thread's exit code, so none may be 259.
 * - live code 0x10: kept free for a status another branch adds (HP_E_LIVE_FUNC_HASH took 0x11).
 *
 *   module    id    values  holds
 *   generic   0x00  0x00xx  HP_OK and the errors any layer may return
 *   pe        0x01  0x01xx  PE headers, section table, data directories; COFF objects and
 *                           static archives
 *   hotpatch  0x02  0x02xx  a patch's metadata: .hotp1, hotpe descriptors and build record
 *   writer    0x03  0x03xx  the PE writer (adding a section), hotpe's import section
 *   site      0x04  0x04xx  hotpatch sites, the instructions decoded, moved or emitted
 *   build     0x05  0x05xx  refusals of `hotpe build`
 *   proc      0x06  0x06xx  process access: memory, protection, threads
 *   txn       0x07  0x07xx  the patch transaction
 *   live      0x08  0x08xx  live patching: a patch checked against the running module, the
 *                           shim, its request and registry, revert --unload
 *   cli       0x09  0x09xx  the CLI's own refusals: which hotpe binary to use, `hotpe run`,
 *                           `hotpe scan --require`; never produced by the shim
 *   trust     0x0A  0x0Axx  a patch's signature against the trusted signers, `hotpe trust`
 *
 * HP_E_LIVE_ARCH is in cli, not live: like HP_E_LIVE_NEEDS_WINDOWS and HP_E_LIVE_HANDOFF it
 * tells the user to run another hotpe binary, and only the CLI returns it.
 */
#ifndef HOTPE_STATUS_H
#define HOTPE_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** A status value from its module and its code within the module. */
#define HP_STATUS_MAKE(module, code) (((module) << 8) | (code))
/** The module of a status value. */
#define HP_STATUS_MODULE(s) (((uint32_t)(s) >> 8) & 0xFFu)
/** The code of a status value within its module. */
#define HP_STATUS_CODE(s) ((uint32_t)(s) & 0xFFu)

/** Module ids: pinned like the codes, a new module gets the next one. */
enum {
    HP_STATUS_MODULE_GENERIC = 0x00,
    HP_STATUS_MODULE_PE = 0x01,
    HP_STATUS_MODULE_HOTPATCH = 0x02,
    HP_STATUS_MODULE_WRITER = 0x03,
    HP_STATUS_MODULE_SITE = 0x04,
    HP_STATUS_MODULE_BUILD = 0x05,
    HP_STATUS_MODULE_PROC = 0x06,
    HP_STATUS_MODULE_TXN = 0x07,
    HP_STATUS_MODULE_LIVE = 0x08,
    HP_STATUS_MODULE_CLI = 0x09,
    HP_STATUS_MODULE_TRUST = 0x0A,
    HP_STATUS_MODULE_INSTALL = 0x0B,
};

/*
 * One list per module: HP_STATUS_<MODULE>(X, m) expands X(m, name, code, message) for each of
 * its statuses, m being the module id it is given (HP_STATUS_MODULES passes the right one).
 */

/* generic, module 0x00: HP_OK and errors any layer may return. Codes 0x08..0x71: never used
 * (see above); the next code is 0x73. */
#define HP_STATUS_GENERIC(X, m)                                                                    \
    X(m, HP_OK, 0x00, "success")                                                                   \
    X(m, HP_E_ARG, 0x01, "invalid argument")                                                       \
    X(m, HP_E_NOMEM, 0x02, "out of memory")                                                        \
    X(m, HP_E_IO, 0x03, "cannot read the file")                                                    \
    X(m, HP_E_BOUNDS, 0x04, "read past the end of the data")                                       \
    X(m, HP_E_OVERFLOW, 0x05, "offset or size arithmetic overflows")                               \
    X(m, HP_E_UNSUPPORTED, 0x06, "not supported")                                                  \
    X(m, HP_E_NOT_FOUND, 0x07, "not found")                                                        \
    X(m, HP_E_IO_WRITE, 0x72, "cannot write the file")                                             \
    /* next: 0x73 */

/* pe, module 0x01: headers and section table, then data directories (pe/). */
#define HP_STATUS_PE(X, m)                                                                         \
    /* headers and section table */                                                                \
    X(m, HP_E_DOS_TRUNCATED, 0x01, "not a PE file: shorter than the 64-byte DOS header")           \
    X(m, HP_E_DOS_MAGIC, 0x02, "not a PE file: no MZ signature at its start")                      \
    /* 0x03: never used (0x0103 is STILL_ACTIVE) */                                                \
    X(m, HP_E_LFANEW, 0x04, "DOS header: e_lfanew points outside the file")                        \
    X(m, HP_E_NT_SIGNATURE, 0x05, "not a PE file: no PE\\0\\0 signature at e_lfanew")              \
    X(m, HP_E_FILE_HEADER_TRUNCATED, 0x06, "file header: truncated")                               \
    X(m, HP_E_OPT_HEADER_TRUNCATED, 0x07, "optional header: truncated or SizeOfOptionalHeader too small") \
    X(m, HP_E_OPT_MAGIC, 0x08, "optional header: Magic is neither PE32 (0x10b) nor PE32+ (0x20b)") \
    X(m, HP_E_MACHINE, 0x09, "file header: Machine does not match the optional header")            \
    X(m, HP_E_ALIGNMENT, 0x0A, "optional header: SectionAlignment or FileAlignment invalid")       \
    X(m, HP_E_IMAGE_SIZE, 0x0B, "optional header: SizeOfImage or SizeOfHeaders invalid")           \
    X(m, HP_E_DIR_COUNT, 0x0C, "optional header: NumberOfRvaAndSizes past the optional header")    \
    X(m, HP_E_SECTION_COUNT, 0x0D, "file header: NumberOfSections above 96")                       \
    X(m, HP_E_SECTION_TABLE, 0x0E, "section table: extends past the end of the headers or file")   \
    X(m, HP_E_SECTION_RAW, 0x0F, "section table: raw data outside the file")                       \
    X(m, HP_E_SECTION_VIRTUAL, 0x10, "section table: virtual range wraps or lies past SizeOfImage") \
    X(m, HP_E_SECTION_OVERLAP, 0x11, "section table: virtual ranges overlap or are out of order")  \
    X(m, HP_E_RVA, 0x12, "RVA is not backed by the image")                                         \
    X(m, HP_E_DIR_RANGE, 0x13, "data directory: range lies outside the image")                     \
    /* data directories */                                                                         \
    X(m, HP_E_EXPORT_DIR, 0x14, "export directory: truncated or inconsistent counts")              \
    X(m, HP_E_EXPORT_NAME, 0x15, "export directory: name outside the image or unterminated")       \
    X(m, HP_E_EXPORT_ORDINAL, 0x16, "export directory: name ordinal past NumberOfFunctions")       \
    X(m, HP_E_EXPORT_FORWARDER_LOOP, 0x17, "export directory: forwarder chain loops back on itself") \
    X(m, HP_E_IMPORT_DIR, 0x18, "import directory: descriptor or thunk array outside the image")   \
    X(m, HP_E_IMPORT_NAME, 0x19, "import directory: name outside the image or unterminated")       \
    X(m, HP_E_DELAY_IMPORT_DIR, 0x1A, "delay-load import directory: descriptor outside the image") \
    X(m, HP_E_DELAY_IMPORT_THUNK, 0x1B, "delay-load import directory: thunk array outside the image") \
    X(m, HP_E_DELAY_IMPORT_NAME, 0x1C, "delay-load import directory: name outside the image or unterminated") \
    X(m, HP_E_RELOC_BLOCK, 0x1D, "base relocations: block size invalid or outside the directory")  \
    X(m, HP_E_RELOC_TYPE, 0x1E, "base relocations: unknown relocation type")                       \
    X(m, HP_E_RELOC_TARGET, 0x1F, "base relocations: target RVA past SizeOfImage")                 \
    X(m, HP_E_PDATA, 0x20, "exception directory: size not a multiple of 12 or entries invalid")    \
    X(m, HP_E_UNWIND, 0x21, "exception directory: unwind info outside the image or chain too deep") \
    X(m, HP_E_LOADCFG_SIZE, 0x22, "load config: Size field larger than the directory or the image") \
    X(m, HP_E_LOADCFG_TABLE, 0x23, "load config: a CFG table lies outside the image")              \
    X(m, HP_E_SYMBOLS, 0x24, "COFF symbol table: outside the file")                                \
    X(m, HP_E_SYMBOL_AUX, 0x25, "COFF symbol table: auxiliary records run past NumberOfSymbols")   \
    X(m, HP_E_STRING_TABLE, 0x26, "COFF string table: size invalid or name offset outside it")     \
    X(m, HP_E_DEBUG_DIR, 0x27, "debug directory: entry data outside the file")                     \
    X(m, HP_E_DEBUG_DIR_SIZE, 0x28, "debug directory: size not a multiple of 28 or outside the image") \
    X(m, HP_E_CODEVIEW, 0x29, "debug directory: CodeView record truncated or not RSDS")            \
    /* COFF objects and static archives (pe/coff.c, pe/archive.c) */                             \
    X(m, HP_E_COFF_HEADER, 0x2A, "COFF object: shorter than its file header")                     \
    X(m, HP_E_COFF_MACHINE, 0x2B, "COFF object: not an x86 or x64 object (Machine is neither i386 nor AMD64)") \
    X(m, HP_E_COFF_SECTIONS, 0x2C, "COFF object: section table outside the file")                 \
    X(m, HP_E_COFF_IMPORT, 0x2D, "COFF object: an import library's member, no code of its own") \
    X(m, HP_E_AR_HEADER, 0x2E, "archive: member header malformed or member data outside the file") \
    X(m, HP_E_AR_NAME, 0x2F, "archive: member name outside the long-name table or unterminated")  \
    X(m, HP_E_AR_THIN, 0x30, "archive: a thin archive (its members are other files: give those)") \
    /* next: 0x31 */

/* hotpatch, module 0x02: a patch image's metadata, .hotp1 (pe/hotpatch.c), the SDK's
 * descriptors and build record (pe/patchdesc.c, hotpe build and hotpe info). */
#define HP_STATUS_HOTPATCH(X, m)                                                                   \
    X(m, HP_E_HOTP_SECTION, 0x01, "hotpatch: .hotp1 section too small")                            \
    X(m, HP_E_HOTP_HEADER, 0x02, "hotpatch: HOTPATCH_HEADER signature or version wrong")           \
    X(m, HP_E_HOTP_ARRAY, 0x03, "hotpatch: hook, validation or fixup array outside the image")     \
    X(m, HP_E_HOTP_HOOK, 0x04, "hotpatch: hook points outside the patch image")                    \
    X(m, HP_E_HOTP_VALIDATION, 0x05, "hotpatch: validation bytes outside the patch image")         \
    X(m, HP_E_HOTP_FIXUP, 0x06, "hotpatch: fixup region truncated, or fixup type or RVA invalid")  \
    X(m, HP_E_HOTP_NAME, 0x07, "hotpatch: target name outside the patch image or unterminated")    \
    X(m, HP_E_HOTP_INFO, 0x08, "hotpatch: IMAGE_HOT_PATCH_INFO outside the image or inconsistent") \
    X(m, HP_E_PATCHDESC, 0x09, "hotpe descriptors: record truncated, unknown, or a pointer outside the image") \
    X(m, HP_E_PATCHDESC_STRING, 0x0A, "hotpe descriptors: name or text outside the image or unterminated") \
    X(m, HP_E_PATCHBUILD, 0x0B, "hotpe build record: outside the image or inconsistent")           \
    X(m, HP_E_NOT_A_PATCH, 0x0C, "not a patch: no .hotp1 section")                                 \
    /* next: 0x0D */

/* writer, module 0x03: the PE writer (pe/writer.c) and hotpe's import section, .hotpei
 * (pe/setdll.c). */
#define HP_STATUS_WRITER(X, m)                                                                     \
    X(m, HP_E_WRITE_LAYOUT, 0x01, "writer: the image must be in file layout")                      \
    X(m, HP_E_WRITE_NO_ROOM, 0x02, "writer: no room in the headers for another section header")    \
    X(m, HP_E_WRITE_NAME, 0x03, "writer: section name longer than 8 bytes")                        \
    X(m, HP_E_SETDLL_ALREADY, 0x04, "writer: the image already carries hotpe's import (a .hotpei section)") \
    X(m, HP_E_SETDLL_MARKER, 0x05, ".hotpei: hotpe's import section damaged, not the last section, or not the import directory's") \
    /* next: 0x06 */

/* site, module 0x04: hotpatch sites (pe/site.c) and the instructions decoded, moved into a
 * call-original stub or emitted (pe/insn.c). */
#define HP_STATUS_SITE(X, m)                                                                       \
    X(m, HP_E_SITE_NOT_PATCHABLE, 0x01, "site: function is not hotpatchable (see its class)")      \
    X(m, HP_E_INSN_RANGE, 0x02, "instruction: jump target out of range of its displacement")       \
    X(m, HP_E_INSN_DECODE, 0x03, "instruction: the first instruction does not decode")             \
    X(m, HP_E_INSN_RELOC_BRANCH, 0x04, "instruction: the first instruction is a relative branch that cannot be moved into a stub") \
    X(m, HP_E_INSN_RELOC_RANGE, 0x05, "instruction: moved into the stub, its RIP-relative target is beyond +-2 GiB") \
    /* next: 0x06 */

/* build, module 0x05: refusals of `hotpe build` (issue 4). */
#define HP_STATUS_BUILD(X, m)                                                                      \
    X(m, HP_E_BUILD_NO_PATCH, 0x01, "build: no HOTPE_PATCH record (target, sequence, text)")       \
    X(m, HP_E_BUILD_NO_REPLACE, 0x02, "build: the patch replaces no function (no HOTPE_REPLACE)")  \
    X(m, HP_E_BUILD_DUPLICATE, 0x03, "build: the same base function is replaced twice")            \
    X(m, HP_E_BUILD_UNRESOLVED, 0x04, "build: name not found in the base (exports, COFF symbols, map)") \
    X(m, HP_E_BUILD_MACHINE, 0x05, "build: the patch and the base are for different machines")     \
    X(m, HP_E_BUILD_ALREADY, 0x06, "build: the image already has a .hotp1 section")                \
    X(m, HP_E_BUILD_SLOT, 0x07, "build: a slot is not backed by file bytes in the patch")          \
    X(m, HP_E_BUILD_LOADCFG, 0x08, "build: the patch's load config is too short for HotPatchTableOffset") \
    X(m, HP_E_BUILD_MAP, 0x09, "build: linker map file unreadable")                                \
    X(m, HP_E_BUILD_TARGET_NAME, 0x0A, "build: HOTPE_PATCH names another module than the base")  \
    /* next: 0x0B */

/* proc, module 0x06: process access (engine/proc*.c, engine/win.c; issue 5). */
#define HP_STATUS_PROC(X, m)                                                                       \
    X(m, HP_E_PROC_OPEN, 0x01, "process: cannot open it (no such pid or access denied)")           \
    X(m, HP_E_PROC_READ, 0x02, "process: memory cannot be read")                                   \
    X(m, HP_E_PROC_WRITE, 0x03, "process: memory cannot be written")                               \
    X(m, HP_E_PROC_PROTECT, 0x04, "process: page protection cannot be changed or restored")        \
    X(m, HP_E_PROC_STRADDLE, 0x05, "process: the 2-byte entry store would straddle a cache line")  \
    X(m, HP_E_PROC_ALLOC, 0x06, "process: no executable memory free within 2 GiB of the site")     \
    X(m, HP_E_PROC_FREE, 0x07, "process: memory cannot be released")                               \
    X(m, HP_E_PROC_FLUSH, 0x08, "process: the instruction cache cannot be flushed")                \
    X(m, HP_E_PROC_FREEZE, 0x09, "process: the other threads cannot be suspended")                 \
    X(m, HP_E_PROC_CONTEXT, 0x0A, "process: a suspended thread's context cannot be read")          \
    X(m, HP_E_PROC_THAW, 0x0B, "process: a suspended thread cannot be resumed")                    \
    X(m, HP_E_PROC_THREADS, 0x0C, "process: more threads than the freeze can hold")                \
    X(m, HP_E_PROC_DENIED, 0x0D, "process: access denied: it does not let this user write into it") \
    /* next: 0x0E */

/* txn, module 0x07: the patch transaction (engine/txn.c; issue 5). */
#define HP_STATUS_TXN(X, m)                                                                        \
    X(m, HP_E_TXN_STATE, 0x01, "transaction: call out of order (not begun, or already committed or aborted)") \
    X(m, HP_E_TXN_VALIDATION, 0x02, "transaction: bytes at a site differ from the expected ones")  \
    X(m, HP_E_TXN_OVERLAP, 0x03, "transaction: two staged sites share bytes")                      \
    X(m, HP_E_TXN_BUSY, 0x04, "transaction: a thread keeps executing bytes about to change")       \
    X(m, HP_E_TXN_UNDO, 0x05, "transaction: undo failed, a site may be left half-written")         \
    /* next: 0x06 */

/* live, module 0x08: live patching, the checks of a patch against the running module
 * (engine/live.c), the loader shim with its request and registry, apply, list, revert and
 * revert --unload (issue 5). */
#define HP_STATUS_LIVE(X, m)                                                                       \
    X(m, HP_E_LIVE_MODULE, 0x01, "process: the patch's target module is not loaded")               \
    X(m, HP_E_LIVE_IDENTITY, 0x02, "identity: the running module is not the build the patch was made for") \
    X(m, HP_E_LIVE_TARGET_NAME, 0x03, "patch: its target is another module")                       \
    X(m, HP_E_LIVE_HOOKS, 0x04, "patch: hooks do not pair up as padding jump + 2-byte entry jump, or as a marked entry-form jump") \
    X(m, HP_E_LIVE_ALREADY, 0x05, "patch: already applied in this process")                        \
    X(m, HP_E_LIVE_SEQUENCE, 0x06, "patch: a live patch of the same target has an equal or higher sequence") \
    X(m, HP_E_LIVE_INJECT, 0x07, "shim: hotpe-shim.dll cannot be loaded into the process")         \
    X(m, HP_E_LIVE_SHIM, 0x08, "shim: hotpe-shim.dll is missing, damaged or of another version")   \
    X(m, HP_E_LIVE_TIMEOUT, 0x09, "shim: the target did not finish the request in time")           \
    X(m, HP_E_LIVE_REQUEST, 0x0A, "shim: request block malformed, truncated or of another version") \
    X(m, HP_E_LIVE_REGISTRY, 0x0B, "shim: registry full, busy or of another version")              \
    X(m, HP_E_LIVE_LOAD, 0x0C, "shim: the patch DLL cannot be loaded in the target")               \
    X(m, HP_E_LIVE_VETO, 0x0D, "patch: its HOTPE_ON_APPLY callback vetoed the apply")              \
    X(m, HP_E_LIVE_NO_PATCH, 0x0E, "registry: no such live patch in this process")                 \
    X(m, HP_E_LIVE_KEPT, 0x0F, "unload: reverted, but the patch DLL was kept loaded")              \
    X(m, HP_E_LIVE_FILE_CHANGED, 0x10, "patch: the file changed after hotpe checked it; nothing loaded") \
    X(m, HP_E_LIVE_FUNC_HASH, 0x11, "validation: a replaced function's bytes are not the base's the patch was built for") \
    /* next: 0x12 */

/* cli, module 0x09: the CLI's own refusals, the hotpe binary to use and `hotpe run`. */
#define HP_STATUS_CLI(X, m)                                                                        \
    X(m, HP_E_LIVE_NEEDS_WINDOWS, 0x01, "live patching needs the Windows build (build/x64/hotpe.exe or build/x86/hotpe.exe)") \
    X(m, HP_E_LIVE_ARCH, 0x02, "process: its architecture is not this hotpe's (x64 and x86 builds each patch their own)") \
    X(m, HP_E_LIVE_HANDOFF, 0x03, "process: 32-bit, and no 32-bit hotpe.exe beside this one to hand it to") \
    X(m, HP_E_RUN_START, 0x04, "program: cannot be started")                                       \
    X(m, HP_E_RUN_ENTRY, 0x05, "program: did not reach its entry point")                           \
    X(m, HP_E_LIVE_PATCH_ARCH, 0x06, "patch: built for another architecture than the process")     \
    /* hotpe scan --objects, --names, --require (applier/cover.c) */                              \
    X(m, HP_E_SCAN_MACHINE, 0x07, "object: built for another machine than the image")            \
    X(m, HP_E_SCAN_NOT_IN_IMAGE, 0x08, "not in the image (inlined or discarded)")                 \
    X(m, HP_E_SCAN_NOT_PATCHABLE, 0x09, "not patchable")                                          \
    /* next: 0x0A */

/* trust, module 0x0A: a patch image's Authenticode signature, judged by WinVerifyTrust, and its
 * signer against the trusted signers `hotpe trust` keeps (applier/trust.c). */
#define HP_STATUS_TRUST(X, m)                                                                      \
    X(m, HP_E_TRUST_UNSIGNED, 0x01, "signature: the patch is not signed, and signed patches are required (a trusted signer is configured)") \
    X(m, HP_E_TRUST_SIGNER, 0x02, "signature: signed by a signer that is not trusted (hotpe trust list)") \
    X(m, HP_E_TRUST_TAMPERED, 0x03, "signature: the file's bytes changed after it was signed")     \
    X(m, HP_E_TRUST_EXPIRED, 0x04, "signature: the signing certificate has expired or is not valid yet") \
    X(m, HP_E_TRUST_REVOKED, 0x05, "signature: the signing certificate is revoked")                \
    X(m, HP_E_TRUST_INVALID, 0x06, "signature: Windows does not accept it")                        \
    X(m, HP_E_TRUST_UNAVAILABLE, 0x07, "signature: this system cannot verify signatures (no WinVerifyTrust)") \
    X(m, HP_E_TRUST_STORE, 0x08, "trust: the trusted signers' registry key cannot be read or written") \
    X(m, HP_E_TRUST_CERT, 0x09, "trust: not a certificate, a signed file or a 40-digit SHA-1 thumbprint") \
    X(m, HP_E_TRUST_NOT_LISTED, 0x0A, "trust: no such trusted signer")                             \
    /* next: 0x0B */

/* install, module 0x0B: patches installed machine-wide (`hotpe install`, applier/install.c,
 * engine/installed.h). */
#define HP_STATUS_INSTALL(X, m)                                                                    \
    X(m, HP_E_INST_STORE, 0x01, "install: the machine's installed patches (HKLM\\Software\\hotpe\\Installed) cannot be read or written (run as administrator)") \
    X(m, HP_E_INST_NOT_INSTALLED, 0x02, "install: no such installed patch (hotpe status lists them)") \
    X(m, HP_E_INST_IMAGE, 0x03, "install: the image file cannot be given hotpe's import")           \
    X(m, HP_E_INST_OTHER_BUILD, 0x04, "install: the image file is another build than the patch's base") \
    X(m, HP_E_INST_NO_IMAGE, 0x05, "install: no image file of the target found (no process has it loaded): processes started later are not covered; give --image PATH") \
    X(m, HP_E_INST_SHIM, 0x06, "install: hotpe-shim.dll cannot be placed in the system folder")     \
    /* next: 0x07 */

/* Every module with its list: M(X, module id, list). */
#define HP_STATUS_MODULES(M, X)                                                                    \
    M(X, HP_STATUS_MODULE_GENERIC, HP_STATUS_GENERIC)                                              \
    M(X, HP_STATUS_MODULE_PE, HP_STATUS_PE)                                                        \
    M(X, HP_STATUS_MODULE_HOTPATCH, HP_STATUS_HOTPATCH)                                            \
    M(X, HP_STATUS_MODULE_WRITER, HP_STATUS_WRITER)                                                \
    M(X, HP_STATUS_MODULE_SITE, HP_STATUS_SITE)                                                    \
    M(X, HP_STATUS_MODULE_BUILD, HP_STATUS_BUILD)                                                  \
    M(X, HP_STATUS_MODULE_PROC, HP_STATUS_PROC)                                                    \
    M(X, HP_STATUS_MODULE_TXN, HP_STATUS_TXN)                                                      \
    M(X, HP_STATUS_MODULE_LIVE, HP_STATUS_LIVE)                                                    \
    M(X, HP_STATUS_MODULE_CLI, HP_STATUS_CLI)                                                      \
    M(X, HP_STATUS_MODULE_TRUST, HP_STATUS_TRUST)                                                  \
    M(X, HP_STATUS_MODULE_INSTALL, HP_STATUS_INSTALL)

/* Every status of every module: X(module id, name, code, message). */
#define HP_STATUS_EACH_(X, m, list) list(X, m)
#define HP_STATUS_LIST(X) HP_STATUS_MODULES(HP_STATUS_EACH_, X)

typedef enum hp_status {
#define HP_STATUS_ENUM_(m, name, code, msg) name = HP_STATUS_MAKE(m, code),
    HP_STATUS_LIST(HP_STATUS_ENUM_)
#undef HP_STATUS_ENUM_
} hp_status;

/** Message of a status: "structure: reason"; "unknown status" for a value not listed. Never
 *  NULL. */
const char *hp_status_str(hp_status s);
/** Enum name of a status, e.g. "HP_E_LFANEW"; "HP_E_UNKNOWN" for a value not listed. Never
 *  NULL. */
const char *hp_status_name(hp_status s);
/** True when value is a listed status: check a value received from another process (the
 *  shim's exit code or result) before taking it as an hp_status. */
bool hp_status_known(uint32_t value);

/** Every status, module by module in list order (for tests). */
extern const hp_status hp_status_all[];
extern const size_t hp_status_all_count;

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
