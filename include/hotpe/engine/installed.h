/*
 * hotpe: the machine's installed patches (`hotpe install`), as hotpe writes them and the shim
 * reads them in every process that loads a patched image: one key per patch,
 * HKLM\Software\hotpe\Installed\NAME (NAME: the patch's name, engine/patch.h), always in the
 * registry's 64-bit view, so a 32-bit and a 64-bit hotpe and shim see the same list. Like the
 * wire ABI (wire.h) these names cross a process boundary: they do not change.
 *
 * Only an administrator can write HKLM; the patch file a key names may lie where others can
 * write (the stored copy under %ProgramData%\hotpe\patches), so the key also holds the file's
 * SHA-256, and the shim loads only a file with those bytes.
 */
#ifndef HOTPE_ENGINE_INSTALLED_H
#define HOTPE_ENGINE_INSTALLED_H

#include <stdbool.h>
#include <stdint.h>

#include "hotpe/engine/patch.h"
#include "hotpe/engine/sha256.h"
#include "hotpe/engine/wire.h"
#include "hotpe/status.h"

#define HP_INST_KEY L"Software\\hotpe\\Installed"
#define HP_INST_TARGET L"Target"       /* REG_SZ: the module the patch is for */
#define HP_INST_SEQUENCE L"Sequence"   /* REG_DWORD */
#define HP_INST_MACHINE L"Machine"     /* REG_DWORD: IMAGE_FILE_MACHINE_* of the patch */
#define HP_INST_FILE L"File"           /* REG_SZ: the stored copy of the patch DLL */
#define HP_INST_SHA256 L"Sha256"       /* REG_BINARY, 32 bytes: the file's */
#define HP_INST_IMAGES L"Images"       /* REG_MULTI_SZ: image files hotpe gave its import */
#define HP_INST_WHEN L"Installed"      /* REG_QWORD: FILETIME of the install */

/* What gets a key read in full: more than this is a damaged registry, not a machine. */
#define HP_INST_MAX 4096u

/** One installed patch. */
typedef struct hp_inst {
    char name[HP_PATCH_NAME_MAX];
    char target[HP_WIRE_NAME_MAX];
    uint32_t sequence;
    uint32_t machine;
    uint16_t file[HP_WIRE_PATH_MAX]; /* UTF-16, NUL-terminated */
    uint8_t sha256[HP_SHA256_LEN];
} hp_inst;

#ifdef _WIN32
/**
 * Every installed patch whose key is whole (a key with a value missing or malformed is
 * skipped: it names nothing the shim could load), highest sequence first within a target.
 * *out is malloc'd (NULL when none); free() it.
 * @return HP_OK (also when nothing is installed), HP_E_NOMEM, HP_E_IO (the key exists but
 *         cannot be read).
 */
hp_status hp_inst_read(hp_inst **out, uint32_t *n);
#endif

/** Whether installed patch i is for the module named name (a file name or path). */
bool hp_inst_for(const hp_inst *i, const char *name);

#endif
