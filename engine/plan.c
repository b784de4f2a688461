/*
 * hotpe: the one site plan (plan.h).
 */
#include <string.h>

#include "hotpe/engine/plan.h"
#include "hotpe/pe/insn.h"
#include "hotpe/pe/reader.h"

/* A cell this close to a site's entry is within reach of its padding jump's rel32/disp32
 * (a bit under 2 GiB, as the allocator's own limit). */
#define NEAR_RANGE 0x7FF00000ull
#define BLOCK_CELLS (HP_PLAN_BLOCK_BYTES / HP_PLAN_AUX_CELL)

hp_status hp_plan_form_for(bool x64, unsigned padding, hp_plan_form *out)
{
    if (!out)
        return HP_E_ARG;
    if (padding < HP_INSN_JMP_REL32_LEN)
        return HP_E_SITE_NOT_PATCHABLE;
    if (!x64)
        *out = HP_PLAN_X86_JMP;
    else
        *out = padding >= HP_INSN_JMP_RIP_LEN ? HP_PLAN_X64_IND : HP_PLAN_X64_STUB;
    return HP_OK;
}

hp_status hp_plan_form_of_hook(bool x64, unsigned pad_len, hp_plan_form *out)
{
    if (!out)
        return HP_E_ARG;
    if (!x64 && pad_len == HP_INSN_JMP_REL32_LEN)
        *out = HP_PLAN_X86_JMP;
    else if (x64 && pad_len == HP_INSN_JMP_RIP_LEN)
        *out = HP_PLAN_X64_IND;
    else if (x64 && pad_len == HP_INSN_JMP_REL32_LEN)
        *out = HP_PLAN_X64_STUB;
    else
        return HP_E_LIVE_HOOKS;
    return HP_OK;
}

hp_plan_form hp_plan_entry_form(bool x64)
{
    return x64 ? HP_PLAN_X64_ENTRY : HP_PLAN_X86_ENTRY;
}

bool hp_plan_form_is_entry(hp_plan_form f)
{
    return f == HP_PLAN_X86_ENTRY || f == HP_PLAN_X64_ENTRY;
}

unsigned hp_plan_pad_len(hp_plan_form f)
{
    switch (f) {
    case HP_PLAN_X86_JMP:
    case HP_PLAN_X64_STUB:
        return HP_INSN_JMP_REL32_LEN;
    case HP_PLAN_X64_IND:
        return HP_INSN_JMP_RIP_LEN;
    case HP_PLAN_X86_ENTRY:
    case HP_PLAN_X64_ENTRY:
        return 0;
    }
    return 0;
}

unsigned hp_plan_entry_len(hp_plan_form f)
{
    switch (f) {
    case HP_PLAN_X86_JMP:
    case HP_PLAN_X64_STUB:
    case HP_PLAN_X64_IND:
        return HP_INSN_JMP_REL8_LEN;
    case HP_PLAN_X86_ENTRY:
    case HP_PLAN_X64_ENTRY:
        return HP_INSN_JMP_REL32_LEN;
    }
    return 0;
}

unsigned hp_plan_aux_len(hp_plan_form f)
{
    switch (f) {
    case HP_PLAN_X86_JMP:
    case HP_PLAN_X86_ENTRY:
        return 0;
    case HP_PLAN_X64_IND:
        return 8;
    case HP_PLAN_X64_STUB:
    case HP_PLAN_X64_ENTRY:
        return HP_INSN_JMP_ABS64_LEN;
    }
    return 0;
}

const char *hp_plan_form_name(hp_plan_form f)
{
    switch (f) {
    case HP_PLAN_X86_JMP: return "x86-jmp";
    case HP_PLAN_X64_IND: return "x64-ind";
    case HP_PLAN_X64_STUB: return "x64-stub";
    case HP_PLAN_X86_ENTRY: return "x86-entry";
    case HP_PLAN_X64_ENTRY: return "x64-entry";
    }
    return "?";
}

const char *hp_plan_form_text(hp_plan_form f)
{
    switch (f) {
    case HP_PLAN_X86_JMP:
    case HP_PLAN_X86_ENTRY:
        return "E9 rel32";
    case HP_PLAN_X64_IND:
        return "FF 25 disp32";
    case HP_PLAN_X64_STUB:
    case HP_PLAN_X64_ENTRY:
        return "E9 rel32 stub";
    }
    return "?";
}

const char *hp_plan_form_target(hp_plan_form f)
{
    switch (f) {
    case HP_PLAN_X86_JMP:
    case HP_PLAN_X86_ENTRY:
        return "replacement";
    case HP_PLAN_X64_IND:
        return "slot";
    case HP_PLAN_X64_STUB:
    case HP_PLAN_X64_ENTRY:
        return "stub";
    }
    return "?";
}

hp_status hp_plan_make(const hp_plan_site *site, hp_txn_site *out)
{
    if (!site || !out)
        return HP_E_ARG;
    memset(out, 0, sizeof *out);
    unsigned pad_len = hp_plan_pad_len(site->form), aux_len = hp_plan_aux_len(site->form);
    unsigned entry_len = hp_plan_entry_len(site->form);
    if (!entry_len || (aux_len && !site->aux))
        return HP_E_ARG;
    if (site->entry < pad_len || site->entry + entry_len < site->entry)
        return HP_E_OVERFLOW;
    out->entry = site->entry;
    out->entry_len = (uint8_t)entry_len;
    out->pad_addr = site->entry - pad_len;
    out->pad_len = (uint8_t)pad_len;
    out->aux_addr = site->aux;
    out->aux_len = (uint8_t)aux_len;
    out->new_to = site->replacement;
    switch (site->form) {
    case HP_PLAN_X86_ENTRY:
        if (site->entry > UINT32_MAX || site->replacement > UINT32_MAX)
            return HP_E_OVERFLOW;
        return hp_insn_jmp_rel32_encode_x86((uint32_t)site->entry, (uint32_t)site->replacement,
                                            out->new_entry);
    case HP_PLAN_X64_ENTRY:
        HP_CHECK(hp_insn_jmp_abs64_encode(site->replacement, out->aux));
        return hp_insn_jmp_rel32_encode(site->entry, site->aux, out->new_entry);
    case HP_PLAN_X86_JMP:
        if (site->entry > UINT32_MAX || site->replacement > UINT32_MAX)
            return HP_E_OVERFLOW;
        HP_CHECK(hp_insn_jmp_rel32_encode_x86((uint32_t)out->pad_addr,
                                              (uint32_t)site->replacement, out->new_pad));
        break;
    case HP_PLAN_X64_IND: {
        HP_CHECK(hp_insn_jmp_rip_encode(out->pad_addr, site->aux, out->new_pad));
        hp_wr w = hp_wr_make(out->aux, sizeof out->aux);
        HP_CHECK(hp_wr_u64(&w, 0, site->replacement)); /* the slot FF 25 reads */
        break;
    }
    case HP_PLAN_X64_STUB:
        HP_CHECK(hp_insn_jmp_rel32_encode(out->pad_addr, site->aux, out->new_pad));
        HP_CHECK(hp_insn_jmp_abs64_encode(site->replacement, out->aux));
        break;
    }
    return hp_insn_jmp_rel8_encode(out->entry, out->pad_addr, out->new_entry);
}

hp_status hp_plan_expect_current(const hp_proc *proc, hp_txn_site *site)
{
    uint8_t cur[HP_TXN_PAD_MAX + HP_TXN_ENTRY_MAX];
    if (!site || site->pad_len > HP_TXN_PAD_MAX || !site->entry_len ||
        site->entry_len > HP_TXN_ENTRY_MAX)
        return HP_E_ARG;
    HP_CHECK(hp_proc_read(proc, site->pad_addr, cur, (size_t)site->pad_len + site->entry_len));
    memcpy(site->old_pad, cur, site->pad_len);
    memcpy(site->old_entry, cur + site->pad_len, site->entry_len);
    return HP_OK;
}

static bool reaches(uint64_t cell, uint64_t entry)
{
    uint64_t d = cell > entry ? cell - entry : entry - cell;
    return d + HP_PLAN_AUX_CELL < NEAR_RANGE;
}

hp_status hp_plan_place(hp_txn *txn, hp_arena *arena, hp_plan_site *sites, uint32_t n,
                        uint64_t **blocks, uint32_t *nblocks)
{
    if (!txn || !arena || (n && !sites))
        return HP_E_ARG;
    uint32_t need = 0;
    for (uint32_t i = 0; i < n; i++)
        need += hp_plan_aux_len(sites[i].form) != 0;
    uint64_t *list = hp_arena_array(arena, need ? need : 1, sizeof *list);
    if (!list)
        return HP_E_NOMEM;
    uint32_t count = 0, left = need, used = 0, cells = 0;
    uint64_t block = 0;
    for (uint32_t i = 0; i < n; i++) {
        hp_plan_site *s = &sites[i];
        s->aux = 0;
        if (!hp_plan_aux_len(s->form))
            continue;
        if (!block || used == cells || !reaches(block + (uint64_t)used * HP_PLAN_AUX_CELL, s->entry)) {
            cells = left < BLOCK_CELLS ? left : BLOCK_CELLS;
            HP_CHECK(hp_txn_alloc(txn, s->entry, (size_t)cells * HP_PLAN_AUX_CELL, &block));
            list[count++] = block;
            used = 0;
        }
        s->aux = block + (uint64_t)used++ * HP_PLAN_AUX_CELL;
        left--;
    }
    if (blocks)
        *blocks = list;
    if (nblocks)
        *nblocks = count;
    return HP_OK;
}
