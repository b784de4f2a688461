/*
 * coff-syms: the functions COFF objects and static archives define, as pe/coff.c reads them, in
 * a line-oriented text format tests/oracle/test_coff.sh compares with llvm-nm and MinGW's nm.
 *
 *   coff-syms FILE...          (objects .o/.obj, archives .a/.lib)
 *
 * For each file, then each archive member:
 *
 *   file PATH
 *   object NAME MACHINE BIGOBJ SOURCE   (NAME: PATH, or the member's name; MACHINE x86 or x64;
 *                                        BIGOBJ 0 or 1; SOURCE the .file name or "-")
 *   skipped NAME STATUS_NAME            (an import library's member)
 *   func NAME CLASS C_NAME              (each defined function in table order; CLASS T for
 *                                        EXTERNAL, t for STATIC, as nm prints them)
 *   error NAME STATUS_NAME: message
 *
 * Exit status: 0 when every file parsed, 1 otherwise, 2 on bad usage or I/O.
 */
#include <stdio.h>
#include <stdlib.h>

#include "hotpe/pe/coff.h"
#include "hotpe/pe/file.h"

static int object(const char *name, const void *data, size_t size, bool member)
{
    hp_arena arena = HP_ARENA_INIT;
    hp_coff obj;
    hp_status s = hp_coff_parse(&obj, &arena, data, size);
    int rc = 0;
    if (s == HP_OK && obj.import_stub)
        s = HP_E_COFF_IMPORT;
    if (s == HP_E_COFF_IMPORT && member) {
        printf("skipped %s %s\n", name, hp_status_name(s));
    } else if (s != HP_OK) {
        printf("error %s %s: %s\n", name, hp_status_name(s), hp_status_str(s));
        rc = 1;
    } else {
        printf("object %s %s %d %s\n", name,
               obj.machine == HP_IMAGE_FILE_MACHINE_AMD64 ? "x64" : "x86", obj.bigobj,
               obj.source ? obj.source : "-");
        for (uint32_t i = 0; i < obj.symbol_count; i++) {
            const hp_coff_symbol *sym = &obj.symbols[i];
            if (!hp_coff_is_function(&obj, sym))
                continue;
            printf("func %s %c %s\n", sym->name,
                   sym->storage_class == HP_IMAGE_SYM_CLASS_EXTERNAL ? 'T' : 't',
                   hp_coff_c_name(&arena, obj.machine, sym->name, true));
        }
    }
    hp_arena_free(&arena);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: coff-syms FILE...\n");
        return 2;
    }
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        uint8_t *data;
        size_t size;
        if (hp_file_read(argv[i], &data, &size, NULL) != HP_OK) {
            fprintf(stderr, "coff-syms: %s: cannot read\n", argv[i]);
            return 2;
        }
        printf("file %s\n", argv[i]);
        if (hp_ar_is_archive(data, size)) {
            hp_arena arena = HP_ARENA_INIT;
            hp_ar ar;
            hp_status s = hp_ar_parse(&ar, &arena, data, size);
            if (s != HP_OK) {
                printf("error %s %s: %s\n", argv[i], hp_status_name(s), hp_status_str(s));
                rc = 1;
            }
            for (uint32_t k = 0; s == HP_OK && k < ar.count; k++)
                rc |= object(ar.members[k].name, ar.members[k].data.data, ar.members[k].data.size,
                             true);
            hp_arena_free(&arena);
        } else {
            rc |= object(argv[i], data, size, false);
        }
        free(data);
    }
    return rc;
}
