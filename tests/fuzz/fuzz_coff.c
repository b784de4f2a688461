/*
 * libFuzzer harness for COFF objects and static archives (pe/coff.c, pe/archive.c): the input
 * is parsed as an object, and when it starts like an archive, as an archive whose every member
 * is parsed as an object. Then what the parsers promise: names everywhere, aux records never
 * taken for symbols, a function only in one of the object's code sections, C names no longer
 * than the names they come from, members inside the archive's bytes.
 *
 * Run through tests/fuzz/run.sh (make fuzz, make fuzz-smoke).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotpe/pe/coff.h"

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "fuzz_coff: invariant broken at line %d: %s\n", __LINE__, #cond); \
            abort();                                                                  \
        }                                                                             \
    } while (0)

static void object(hp_arena *arena, const uint8_t *data, size_t size)
{
    hp_coff c;
    hp_status s = hp_coff_parse(&c, arena, data, size);
    CHECK(hp_status_known((uint32_t)s) && hp_status_str(s) != NULL);
    if (s != HP_OK)
        return;
    CHECK(c.machine == HP_IMAGE_FILE_MACHINE_I386 || c.machine == HP_IMAGE_FILE_MACHINE_AMD64);
    /* every primary record takes at least one record of the table */
    CHECK(c.symbol_count <= size / 18);
    CHECK(c.section_count <= size / 40);
    for (uint32_t i = 0; i < c.symbol_count; i++) {
        const hp_coff_symbol *sym = &c.symbols[i];
        CHECK(sym->name != NULL);
        if (!hp_coff_is_function(&c, sym))
            continue;
        CHECK(!c.import_stub && sym->name[0] != '.' && sym->name[0] != '\0');
        CHECK(sym->section >= 1 && (uint32_t)sym->section <= c.section_count);
        CHECK(c.sections[sym->section - 1].characteristics &
              (HP_IMAGE_SCN_CNT_CODE | HP_IMAGE_SCN_MEM_EXECUTE));
        for (int symbol = 0; symbol < 2; symbol++) {
            const char *cn = hp_coff_c_name(arena, c.machine, sym->name, symbol);
            CHECK(cn != NULL && strlen(cn) <= strlen(sym->name));
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hp_arena arena = HP_ARENA_INIT;
    object(&arena, data, size);
    if (hp_ar_is_archive(data, size)) {
        hp_ar ar;
        hp_status s = hp_ar_parse(&ar, &arena, data, size);
        CHECK(hp_status_known((uint32_t)s));
        for (uint32_t k = 0; s == HP_OK && k < ar.count; k++) {
            const hp_ar_member *m = &ar.members[k];
            CHECK(m->name != NULL);
            CHECK(m->offset <= size && m->data.size <= size - m->offset &&
                  m->data.data == data + m->offset);
            object(&arena, m->data.data, m->data.size);
        }
    }
    hp_arena_free(&arena);
    return 0;
}
