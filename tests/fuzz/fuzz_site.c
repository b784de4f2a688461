/*
 * libFuzzer harness for site analysis (pe/site.c, pe/insn.c): parse the input in both layouts,
 * analyze every entry, and check what the analysis promises: sites sorted and unique by RVA,
 * counts by class that add up, padding and instruction lengths within their limits, and a plan
 * for every patchable site whose jumps land where they should.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotpe/engine/plan.h"
#include "hotpe/pe/insn.h"
#include "hotpe/pe/pe.h"
#include "hotpe/pe/site.h"

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "fuzz_site: %s:%d: check failed: %s\n", __FILE__,    \
                    __LINE__, #cond);                                            \
            abort();                                                             \
        }                                                                        \
    } while (0)

static void check_list(const hp_site_ctx *ctx, const hp_pe *pe, const hp_site_list *list)
{
    uint64_t sum = 0;
    for (int c = 0; c < HP_SITE_CLASS_COUNT; c++)
        sum += list->by_class[c];
    CHECK(sum == list->count);
    for (uint32_t i = 0; i < list->count; i++) {
        const hp_site *s = &list->sites[i];
        CHECK(i == 0 || list->sites[i - 1].rva < s->rva);
        CHECK(s->sources != 0 && s->sources < (1u << HP_SITE_SOURCE_COUNT));
        CHECK((unsigned)s->cls < HP_SITE_CLASS_COUNT);
        CHECK(s->padding <= HP_SITE_PADDING_MAX);
        CHECK(s->first_insn_len <= HP_SITE_INSN_MAX);
        CHECK((s->first_insn_len == 0) ==
              (s->cls == HP_SITE_NOT_CODE || s->cls == HP_SITE_UNDECODABLE));
        if (!hp_site_class_patchable(s->cls))
            continue;
        CHECK(s->padding >= 5 && s->first_insn_len >= 2);
        /* A target next to the entry is always in range. */
        hp_plan_site ps = { .entry = pe->image_base + s->rva };
        ps.replacement = ps.aux = ps.entry;
        hp_txn_site plan;
        CHECK(hp_plan_form_for(pe->pe32plus, s->padding, &ps.form) == HP_OK);
        hp_status st = hp_plan_make(&ps, &plan);
        if (!pe->pe32plus && ps.entry > UINT32_MAX)
            CHECK(st == HP_E_OVERFLOW);
        else if (st == HP_OK) {
            CHECK(plan.pad_addr + plan.pad_len == ps.entry);
            CHECK(plan.new_entry[0] == 0xEB &&
                  (int8_t)plan.new_entry[1] == -(int)(plan.pad_len + 2));
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int layout = HP_PE_LAYOUT_FILE; layout <= HP_PE_LAYOUT_LOADED; layout++) {
        hp_arena arena = HP_ARENA_INIT;
        hp_pe pe;
        hp_site_ctx ctx;
        hp_site_list list;
        if (hp_pe_parse(&pe, &arena, data, size, (hp_pe_layout)layout) == HP_OK &&
            hp_site_ctx_init(&ctx, &pe) == HP_OK &&
            hp_site_analyze(&ctx, &pe, &arena, &list) == HP_OK)
            check_list(&ctx, &pe, &list);
        hp_arena_free(&arena);
    }
    return 0;
}
