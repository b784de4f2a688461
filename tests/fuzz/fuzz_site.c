/*
 * libFuzzer harness for site analysis (pe/site.c, pe/insn.c): parse the input in both layouts,
 * analyze every entry, and check what the analysis promises: sites sorted and unique by RVA,
 * counts by class that add up, padding and instruction lengths within their limits, and a plan
 * for every patchable site whose jumps land where they should. Then the trampoline check
 * (pe/tramp.c) on every entry: a verdict in range, and for a movable one whole instructions
 * covering the jump whose trampoline (insn.c) can be built next to the function.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotpe/engine/plan.h"
#include "hotpe/pe/insn.h"
#include "hotpe/pe/pe.h"
#include "hotpe/pe/site.h"
#include "hotpe/pe/tramp.h"

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
        CHECK(s->cls == HP_SITE_TRAMP ? s->tramp == HP_TRAMP_MOVABLE && s->moved_len >= 5
                                      : s->moved_len == 0);
        if (!hp_site_class_patchable(s->cls))
            continue;
        bool entry_form = s->cls == HP_SITE_TRAMP;
        CHECK(entry_form || (s->padding >= 5 && s->first_insn_len >= 2));
        /* A target next to the entry is always in range. */
        hp_plan_site ps = { .entry = pe->image_base + s->rva };
        ps.replacement = ps.aux = ps.entry;
        hp_txn_site plan;
        if (entry_form)
            ps.form = hp_plan_entry_form(pe->pe32plus);
        else
            CHECK(hp_plan_form_for(pe->pe32plus, s->padding, &ps.form) == HP_OK);
        hp_status st = hp_plan_make(&ps, &plan);
        if (!pe->pe32plus && ps.entry > UINT32_MAX)
            CHECK(st == HP_E_OVERFLOW);
        else if (st == HP_OK && entry_form) {
            CHECK(plan.pad_len == 0 && plan.entry_len == 5 && plan.new_entry[0] == 0xE9);
        } else if (st == HP_OK) {
            CHECK(plan.pad_addr + plan.pad_len == ps.entry && plan.entry_len == 2);
            CHECK(plan.new_entry[0] == 0xEB &&
                  (int8_t)plan.new_entry[1] == -(int)(plan.pad_len + 2));
        }
    }
}

static void check_tramp(const hp_pe *pe, hp_arena *arena, const hp_site_list *list)
{
    uint32_t *entries = hp_arena_array(arena, list->count ? list->count : 1, sizeof *entries);
    if (!entries)
        return;
    for (uint32_t i = 0; i < list->count; i++)
        entries[i] = list->sites[i].rva;
    hp_tramp_image ti;
    if (hp_tramp_image_init(&ti, pe, arena, entries, list->count) != HP_OK)
        return;
    for (uint32_t i = 0; i < list->count; i++) {
        hp_tramp_plan p;
        CHECK(hp_tramp_examine(&ti, arena, list->sites[i].rva, &p) == HP_OK);
        CHECK((unsigned)p.verdict < HP_TRAMP_VERDICT_COUNT);
        if (p.verdict != HP_TRAMP_MOVABLE)
            continue;
        unsigned sum = 0;
        for (unsigned k = 0; k < p.count; k++)
            sum += p.moved[k].len;
        CHECK(p.count >= 1 && p.count <= HP_TRAMP_MOVED_MAX && sum == p.len &&
              p.len >= HP_TRAMP_JUMP_LEN && p.len < HP_TRAMP_JUMP_LEN + 15);
        hp_rd code;
        CHECK(hp_pe_rva_view(pe, list->sites[i].rva, p.len, &code) == HP_OK);
        uint8_t out[HP_INSN_TRAMP_MAX];
        size_t len = 0;
        uint64_t entry = pe->image_base + list->sites[i].rva;
        hp_status st = hp_insn_tramp_make(pe->pe32plus, code.data, code.size, p.moved, p.count,
                                          entry, entry + 0x1000, out, &len);
        CHECK(st == HP_OK || st == HP_E_INSN_RELOC_RANGE);
        CHECK(st != HP_OK || (len > p.len && len <= HP_INSN_TRAMP_MAX));
        /* scan's class agrees: a site that is not a hotpatch site and movable is a trampoline
         * site */
        const hp_site *site = &list->sites[i];
        if (site->cls == HP_SITE_SHORT_FIRST || site->cls == HP_SITE_NO_PADDING)
            CHECK(0);
        if (site->tramp < HP_TRAMP_VERDICT_COUNT)
            CHECK(site->cls == HP_SITE_TRAMP && site->moved_len == p.len);
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
            hp_site_analyze(&ctx, &pe, &arena, &list) == HP_OK) {
            check_list(&ctx, &pe, &list);
            check_tramp(&pe, &arena, &list);
        }
        hp_arena_free(&arena);
    }
    return 0;
}
