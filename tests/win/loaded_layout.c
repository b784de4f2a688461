/*
 * Reads modules of this very process the way hotpe reads a target: copies each module's
 * mapped bytes with ReadProcessMemory, parses them in loaded layout, and checks that the model
 * agrees with the same DLL parsed from its file. Exit 0 when every module agrees.
 *
 * Usage: loaded_layout.exe DLL...
 */
#include <windows.h>
#include <psapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotpe/pe/pe.h"
#include "hotpe/pe/file.h"

static int failures;

#define EXPECT(cond, ...)                                  \
    do {                                                   \
        if (!(cond)) {                                     \
            printf("  FAIL %s: ", name);                   \
            printf(__VA_ARGS__);                           \
            printf("\n");                                  \
            failures++;                                    \
            return;                                        \
        }                                                  \
    } while (0)

/* Page by page, so a page the process cannot read becomes zeros rather than a failed copy. */
static uint8_t *copy_module(HMODULE mod, size_t size)
{
    uint8_t *buf = calloc(1, size);
    const uint8_t *base = (const uint8_t *)mod;
    for (size_t off = 0; buf && off < size; off += 0x1000) {
        SIZE_T got = 0;
        size_t n = size - off < 0x1000 ? size - off : 0x1000;
        ReadProcessMemory(GetCurrentProcess(), base + off, buf + off, n, &got);
    }
    return buf;
}

static uint8_t *read_file(const char *path, size_t *size)
{
    uint8_t *data;
    return hp_file_read(path, &data, size, NULL) == HP_OK ? data : NULL;
}

/*
 * Known run-time edits of export tables (like Wine's todo_wine: each names who and why).
 * Wine's i386 kernel32 clears FT_Thunk's entry in its DllMain when the reported version is NT,
 * because SecuROM probes for it (dlls/kernel32/kernel_main.c, set_entry_point).
 */
static bool rewritten_at_run_time(const char *module, const char *export_name)
{
    return sizeof(void *) == 4 && export_name && _stricmp(module, "kernel32.dll") == 0 &&
           strcmp(export_name, "FT_Thunk") == 0;
}

static void check_module(const char *name)
{
    HMODULE mod = LoadLibraryA(name);
    MODULEINFO mi;
    char path[MAX_PATH];
    EXPECT(mod, "LoadLibrary failed (%lu)", GetLastError());
    EXPECT(GetModuleInformation(GetCurrentProcess(), mod, &mi, sizeof mi), "no module info");
    EXPECT(GetModuleFileNameA(mod, path, sizeof path), "no module path");

    size_t file_size = 0;
    uint8_t *file = read_file(path, &file_size);
    uint8_t *mem = copy_module(mod, mi.SizeOfImage);
    hp_arena a = HP_ARENA_INIT;
    hp_pe fpe, mpe;
    hp_pe_exports fex, mex;
    hp_pe_imports fim, mim;
    hp_pe_pdata fpd, mpd;
    hp_status s;

    EXPECT(file && mem, "cannot read %s", path);
    EXPECT((s = hp_pe_parse(&fpe, &a, file, file_size, HP_PE_LAYOUT_FILE)) == HP_OK,
           "file: %s", hp_status_str(s));
    EXPECT((s = hp_pe_parse(&mpe, &a, mem, mi.SizeOfImage, HP_PE_LAYOUT_LOADED)) == HP_OK,
           "memory: %s", hp_status_str(s));
    EXPECT(fpe.section_count == mpe.section_count && fpe.size_of_image == mpe.size_of_image &&
               fpe.timestamp == mpe.timestamp && fpe.checksum == mpe.checksum,
           "headers differ");
    EXPECT(mpe.image_base == (uint64_t)(uintptr_t)mod, "loaded ImageBase %#llx, module at %p",
           (unsigned long long)mpe.image_base, (void *)mod);

    EXPECT(hp_pe_exports_parse(&fpe, &a, &fex) == HP_OK &&
               hp_pe_exports_parse(&mpe, &a, &mex) == HP_OK, "exports do not parse");
    EXPECT(fex.count == mex.count && fex.name_count == mex.name_count, "export counts differ");
    for (uint32_t i = 0; i < fex.count; i++) {
        const hp_pe_export *f = &fex.entries[i], *m = &mex.entries[i];
        if (rewritten_at_run_time(name, f->name))
            continue;
        EXPECT(f->rva == m->rva && f->ordinal == m->ordinal, "export %u: file %#x, memory %#x", i,
               f->rva, m->rva);
        EXPECT(!f->name == !m->name && (!f->name || strcmp(f->name, m->name) == 0),
               "export %u: file name %s, memory name %s", i, f->name ? f->name : "-",
               m->name ? m->name : "-");
        EXPECT(!f->forwarder == !m->forwarder &&
                   (!f->forwarder || strcmp(f->forwarder, m->forwarder) == 0),
               "export %u: file forwards to %s, memory to %s", i,
               f->forwarder ? f->forwarder : "-", m->forwarder ? m->forwarder : "-");
        /* What hotpe will rely on: the loader resolves a named export to base + RVA. */
        if (f->name && !f->forwarder && f->rva)
            EXPECT((uintptr_t)GetProcAddress(mod, f->name) == (uintptr_t)mod + f->rva,
                   "GetProcAddress(%s) is not base + RVA", f->name);
    }

    EXPECT(hp_pe_imports_parse(&fpe, &a, false, &fim) == HP_OK &&
               hp_pe_imports_parse(&mpe, &a, false, &mim) == HP_OK, "imports do not parse");
    EXPECT(fim.count == mim.count, "import DLL counts differ");
    for (uint32_t i = 0; i < fim.count; i++) {
        EXPECT(fim.dlls[i].count == mim.dlls[i].count &&
                   strcmp(fim.dlls[i].dll_name, mim.dlls[i].dll_name) == 0,
               "import DLL %u differs", i);
    }

    EXPECT(hp_pe_pdata_parse(&fpe, &a, &fpd) == HP_OK && hp_pe_pdata_parse(&mpe, &a, &mpd) == HP_OK,
           "pdata does not parse");
    EXPECT(fpd.count == mpd.count, "pdata counts differ");

    printf("  ok %s: %u exports, %u import DLLs, %u pdata entries\n", name, mex.count, mim.count,
           mpd.count);
    hp_arena_free(&a);
    free(file);
    free(mem);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        check_module(argv[i]);
    printf("%d passed, %d failed\n", argc - 1 - failures, failures);
    return failures ? 1 : 0;
}
