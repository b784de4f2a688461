/*
 * hotpe: reading the machine's installed patches (installed.h), for hotpe and the shim.
 */
#include <stdlib.h>
#include <string.h>

#include "hotpe/engine/installed.h"

bool hp_inst_for(const hp_inst *i, const char *name)
{
    return hp_patch_same_module(name, i->target);
}

#ifdef _WIN32

#include <windows.h>

/* A higher sequence first within one target; targets in name order. */
static int by_target_then_newest(const void *a, const void *b)
{
    const hp_inst *x = a, *y = b;
    int c = _stricmp(x->target, y->target);
    if (c)
        return c;
    return x->sequence > y->sequence ? -1 : x->sequence < y->sequence;
}

/* A REG_SZ value into out (cap units), terminated; false when absent, not a string or too
 * long. */
static bool get_sz(HKEY k, const wchar_t *value, wchar_t *out, DWORD cap)
{
    DWORD type = 0, bytes = (cap - 1) * sizeof(wchar_t); /* room for a terminator we add */
    if (RegQueryValueExW(k, value, NULL, &type, (BYTE *)out, &bytes) != ERROR_SUCCESS ||
        type != REG_SZ)
        return false;
    out[bytes / sizeof(wchar_t)] = 0;
    return out[0] != 0;
}

static bool get_u32(HKEY k, const wchar_t *value, uint32_t *out)
{
    DWORD type = 0, bytes = sizeof *out;
    return RegQueryValueExW(k, value, NULL, &type, (BYTE *)out, &bytes) == ERROR_SUCCESS &&
           type == REG_DWORD && bytes == sizeof *out;
}

/* One key's values into e; false when any is missing or malformed. */
static bool read_one(HKEY root, const wchar_t *sub, hp_inst *e)
{
    HKEY k;
    if (RegOpenKeyExW(root, sub, 0, KEY_READ | KEY_WOW64_64KEY, &k) != ERROR_SUCCESS)
        return false;
    wchar_t target[HP_WIRE_NAME_MAX];
    DWORD type = 0, bytes = sizeof e->sha256;
    bool ok = get_sz(k, HP_INST_TARGET, target, HP_WIRE_NAME_MAX) &&
              get_sz(k, HP_INST_FILE, (wchar_t *)e->file, HP_WIRE_PATH_MAX) &&
              get_u32(k, HP_INST_SEQUENCE, &e->sequence) &&
              get_u32(k, HP_INST_MACHINE, &e->machine) &&
              RegQueryValueExW(k, HP_INST_SHA256, NULL, &type, e->sha256, &bytes) == ERROR_SUCCESS &&
              type == REG_BINARY && bytes == sizeof e->sha256;
    RegCloseKey(k);
    if (!ok ||
        !WideCharToMultiByte(CP_UTF8, 0, target, -1, e->target, sizeof e->target, NULL, NULL) ||
        !WideCharToMultiByte(CP_UTF8, 0, sub, -1, e->name, sizeof e->name, NULL, NULL))
        return false;
    /* the key's name is the patch's name: a key renamed by hand names another patch */
    return hp_patch_name_matches(e->name, e->target, e->sequence, e->sha256);
}

hp_status hp_inst_read(hp_inst **out, uint32_t *n)
{
    *out = NULL;
    *n = 0;
    HKEY root;
    LONG e = RegOpenKeyExW(HKEY_LOCAL_MACHINE, HP_INST_KEY, 0, KEY_READ | KEY_WOW64_64KEY, &root);
    if (e == ERROR_FILE_NOT_FOUND)
        return HP_OK;
    if (e != ERROR_SUCCESS)
        return HP_E_IO;
    DWORD subkeys = 0;
    if (RegQueryInfoKeyW(root, NULL, NULL, NULL, &subkeys, NULL, NULL, NULL, NULL, NULL, NULL,
                         NULL) != ERROR_SUCCESS) {
        RegCloseKey(root);
        return HP_E_IO;
    }
    if (subkeys > HP_INST_MAX)
        subkeys = HP_INST_MAX;
    hp_inst *a = subkeys ? calloc(subkeys, sizeof *a) : NULL;
    if (subkeys && !a) {
        RegCloseKey(root);
        return HP_E_NOMEM;
    }
    uint32_t got = 0;
    for (DWORD i = 0; i < subkeys; i++) {
        wchar_t sub[HP_PATCH_NAME_MAX];
        DWORD len = HP_PATCH_NAME_MAX;
        if (RegEnumKeyExW(root, i, sub, &len, NULL, NULL, NULL, NULL) != ERROR_SUCCESS)
            break;
        if (read_one(root, sub, &a[got]))
            got++;
    }
    RegCloseKey(root);
    if (!got) {
        free(a);
        return HP_OK;
    }
    qsort(a, got, sizeof *a, by_target_then_newest);
    *out = a;
    *n = got;
    return HP_OK;
}

#endif /* _WIN32 */
