/* hotpe: site analysis with Zydis (see site.h and docs/scan-example.md). */
#include "hotpe/pe/site.h"

#include <assert.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include <Zydis/Zydis.h>

#include "hotpe/pe/insn.h"
#include "internal.h"

/* hp_site_ctx holds a ZydisDecoder in bytes of its own so that site.h needs no Zydis header. */
_Static_assert(sizeof(ZydisDecoder) <= HP_SITE_CTX_SIZE, "HP_SITE_CTX_SIZE: ZydisDecoder fits");
_Static_assert(alignof(ZydisDecoder) <= 8, "hp_site_ctx's alignment suits ZydisDecoder");

/* The decoder is copied in and out rather than aliased, so no effective-type rule is bent. */
static void decoder_of(const hp_site_ctx *ctx, ZydisDecoder *out)
{
    memcpy(out, ctx->opaque, sizeof *out);
}

static const char *const class_names[] = {
#define HP_SITE_CLASS_NAME(e, name) name,
    HP_SITE_CLASS_LIST(HP_SITE_CLASS_NAME)
#undef HP_SITE_CLASS_NAME
};
_Static_assert(sizeof class_names / sizeof class_names[0] == HP_SITE_CLASS_COUNT,
               "one name per site class");

const char *hp_site_class_name(hp_site_class c)
{
    return (unsigned)c < HP_SITE_CLASS_COUNT ? class_names[c] : "?";
}

bool hp_site_class_patchable(hp_site_class c)
{
    return c == HP_SITE_PROLOGUE || c == HP_SITE_NOP_PAIR || c == HP_SITE_PADDED ||
           c == HP_SITE_TRAMP;
}

const char *hp_site_source_name(unsigned bit)
{
    switch (bit) {
#define HP_SITE_SOURCE_CASE(e, b, name) \
    case b:                             \
        return name;
        HP_SITE_SOURCE_LIST(HP_SITE_SOURCE_CASE)
#undef HP_SITE_SOURCE_CASE
    default:
        return NULL;
    }
}

hp_status hp_site_ctx_init(hp_site_ctx *ctx, const hp_pe *pe)
{
    if (!ctx || !pe)
        return HP_E_ARG;
    memset(ctx, 0, sizeof *ctx);
    ZydisDecoder dec;
    ZyanStatus zs;
    if (pe->machine == HP_IMAGE_FILE_MACHINE_AMD64)
        zs = ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    else if (pe->machine == HP_IMAGE_FILE_MACHINE_I386)
        zs = ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LEGACY_32, ZYDIS_STACK_WIDTH_32);
    else
        return HP_E_UNSUPPORTED;
    if (!ZYAN_SUCCESS(zs))
        return HP_E_UNSUPPORTED;
    memcpy(ctx->opaque, &dec, sizeof dec);
    return HP_OK;
}

/* The explicit hotpatch markers of section 4: mov edi,edi; xchg ax,ax; lea rsp,[rsp+0]. */
static bool is_marker(const uint8_t *insn, unsigned len)
{
    static const uint8_t mov_edi_edi[] = { 0x8B, 0xFF };
    static const uint8_t xchg_ax_ax[] = { 0x66, 0x90 };
    static const uint8_t lea_rsp[] = { 0x48, 0x8D, 0xA4, 0x24, 0x00, 0x00, 0x00, 0x00 };
    return (len == sizeof mov_edi_edi && memcmp(insn, mov_edi_edi, len) == 0) ||
           (len == sizeof xchg_ax_ax && memcmp(insn, xchg_ax_ax, len) == 0) ||
           (len == sizeof lea_rsp && memcmp(insn, lea_rsp, len) == 0);
}

hp_status hp_site_examine(const hp_site_ctx *ctx, const hp_pe *pe, uint32_t rva, hp_site *out)
{
    if (!ctx || !pe || !out)
        return HP_E_ARG;
    out->rva = rva;
    out->cls = HP_SITE_NOT_CODE;
    out->padding = 0;
    out->first_insn_len = 0;
    memset(out->insn, 0, sizeof out->insn);
    out->tramp = HP_TRAMP_VERDICT_COUNT;
    out->moved_len = 0;
    out->moved_count = 0;
    out->tramp_at = 0;

    const hp_pe_section *s = hp_pe_section_of(pe, rva);
    if (!s || !(s->characteristics & HP_IMAGE_SCN_MEM_EXECUTE))
        return HP_OK;
    uint64_t off, avail;
    if (hp_pe_rva_to_offset(pe, rva, &off, &avail) != HP_OK)
        return HP_OK; /* past the section's file bytes */
    /* hp_pe_section_of put rva inside the section, so this cannot wrap. */
    uint64_t in_section = (uint64_t)s->virtual_address + hp_pe_section_extent(s) - rva;
    uint64_t n = avail < in_section ? avail : in_section;
    if (n > HP_SITE_INSN_MAX)
        n = HP_SITE_INSN_MAX;

    /* Padding: backwards from the entry, never before the section's first byte. Those bytes
     * are file-backed whenever the entry is (a section's backed bytes start at its start). */
    uint32_t back = rva - s->virtual_address;
    if (back > HP_SITE_PADDING_MAX)
        back = HP_SITE_PADDING_MAX;
    hp_rd before;
    if (back && hp_pe_rva_view(pe, rva - back, back, &before) == HP_OK) {
        unsigned pad = 0;
        uint8_t b;
        while (pad < back && hp_rd_u8(&before, back - 1 - pad, &b) == HP_OK &&
               (b == 0xCC || b == 0x90))
            pad++;
        out->padding = (uint8_t)pad;
    }

    hp_rd at;
    if (hp_pe_rva_view(pe, rva, n, &at) != HP_OK)
        return HP_OK;
    out->cls = HP_SITE_UNDECODABLE;
    ZydisDecoder dec;
    decoder_of(ctx, &dec);
    ZydisDecodedInstruction insn;
    ZydisDecoderContext zctx;
    if (!ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&dec, &zctx, at.data, at.size, &insn)))
        return HP_OK;
    out->first_insn_len = insn.length;
    HP_CHECK(hp_rd_bytes(&at, 0, insn.length, out->insn));
    uint8_t second;
    bool nop_pair = insn.length == 1 && out->insn[0] == 0x90 &&
                    hp_rd_u8(&at, 1, &second) == HP_OK && second == 0x90;
    if (nop_pair) { /* GCC's -fpatchable-function-entry=N,N-2: one 2-byte instruction to us */
        out->insn[1] = 0x90;
        out->first_insn_len = HP_INSN_JMP_REL8_LEN;
    }

    if (out->first_insn_len < HP_INSN_JMP_REL8_LEN)
        out->cls = HP_SITE_SHORT_FIRST;
    else if (out->padding < HP_INSN_JMP_REL32_LEN)
        out->cls = HP_SITE_NO_PADDING;
    else if (nop_pair)
        out->cls = HP_SITE_NOP_PAIR;
    else if (is_marker(out->insn, insn.length))
        out->cls = HP_SITE_PROLOGUE;
    else
        out->cls = HP_SITE_PADDED;
    return HP_OK;
}

hp_status hp_site_format_insn(const hp_site_ctx *ctx, const hp_pe *pe, const hp_site *site,
                              char *text, size_t size)
{
    if (!ctx || !pe || !site || !text || size == 0 || site->first_insn_len > HP_SITE_INSN_MAX)
        return HP_E_ARG;
    text[0] = '\0';
    if (site->first_insn_len == 0)
        return HP_E_NOT_FOUND;
    ZydisDecoder dec;
    decoder_of(ctx, &dec);
    ZydisDecodedInstruction insn;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, site->insn, site->first_insn_len, &insn, ops)))
        return HP_E_INSN_DECODE;
    ZydisFormatter fmt;
    if (!ZYAN_SUCCESS(ZydisFormatterInit(&fmt, ZYDIS_FORMATTER_STYLE_INTEL)) ||
        !ZYAN_SUCCESS(ZydisFormatterFormatInstruction(&fmt, &insn, ops, insn.operand_count_visible,
                                                      text, size, pe->image_base + site->rva,
                                                      NULL))) {
        text[0] = '\0';
        return HP_E_UNSUPPORTED;
    }
    return HP_OK;
}

/* One entry before merging. prio orders the name sources: exports before symbols. */
typedef struct raw_entry {
    uint32_t rva;
    uint8_t source;
    uint8_t prio;
    uint32_t seq;            /* insertion order, for a deterministic sort */
    const char *name;
} raw_entry;

static int raw_cmp(const void *a, const void *b)
{
    const raw_entry *x = a, *y = b;
    if (x->rva != y->rva)
        return x->rva < y->rva ? -1 : 1;
    if (x->prio != y->prio)
        return x->prio < y->prio ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

typedef struct collector {
    raw_entry *items;
    uint64_t count, cap;
} collector;

/* Precondition: the capacity was computed from the same sources, so there is room. */
static void add(collector *c, uint32_t rva, uint8_t source, const char *name)
{
    assert(c->count < c->cap);
    raw_entry *e = &c->items[c->count];
    e->rva = rva;
    e->source = source;
    e->prio = name ? (source == HP_SITE_SRC_EXPORT ? 0 : 1) : 2;
    e->seq = (uint32_t)c->count;
    e->name = name;
    c->count++;
}

static bool in_code(const hp_pe *pe, uint32_t rva)
{
    const hp_pe_section *s = hp_pe_section_of(pe, rva);
    return s && (s->characteristics & HP_IMAGE_SCN_MEM_EXECUTE);
}

/* The entry form's check on the sites that are not hotpatch sites, with every entry as a
 * function bound. */
static hp_status examine_tramps(const hp_pe *pe, hp_arena *arena, hp_site_list *l)
{
    uint32_t *rvas = hp_arena_array(arena, l->count ? l->count : 1, sizeof *rvas);
    if (!rvas)
        return HP_E_NOMEM;
    for (uint32_t i = 0; i < l->count; i++)
        rvas[i] = l->sites[i].rva;
    hp_tramp_image ti;
    HP_CHECK(hp_tramp_image_init(&ti, pe, arena, rvas, l->count));
    for (uint32_t i = 0; i < l->count; i++) {
        hp_site *site = &l->sites[i];
        if (site->cls != HP_SITE_SHORT_FIRST && site->cls != HP_SITE_NO_PADDING)
            continue;
        hp_tramp_plan plan;
        HP_CHECK(hp_tramp_examine(&ti, arena, site->rva, &plan));
        site->tramp = (uint8_t)plan.verdict;
        if (plan.verdict == HP_TRAMP_MOVABLE) {
            l->by_class[site->cls]--;
            site->cls = HP_SITE_TRAMP;
            l->by_class[site->cls]++;
            site->moved_len = plan.len;
            site->moved_count = plan.count;
            memcpy(site->moved, plan.moved, sizeof site->moved);
        } else {
            site->tramp_at = plan.at;
        }
    }
    return HP_OK;
}

static int cmp_site_rva(const void *key, const void *site)
{
    uint32_t k = *(const uint32_t *)key, r = ((const hp_site *)site)->rva;
    return k < r ? -1 : k > r;
}

const hp_site *hp_site_find(const hp_site_list *list, uint32_t rva)
{
    if (!list || !list->count)
        return NULL;
    return bsearch(&rva, list->sites, list->count, sizeof *list->sites, cmp_site_rva);
}

hp_status hp_site_analyze(const hp_site_ctx *ctx, const hp_pe *pe, hp_arena *arena,
                          hp_site_list *out)
{
    return hp_site_analyze_with(ctx, pe, NULL, NULL, 0, arena, out);
}

hp_status hp_site_analyze_with(const hp_site_ctx *ctx, const hp_pe *pe, const uint32_t *more,
                               const char *const *more_names, uint32_t nmore, hp_arena *arena,
                               hp_site_list *out)
{
    if (!ctx || !pe || !arena || !out || (nmore && !more))
        return HP_E_ARG;
    memset(out, 0, sizeof *out);

    hp_pe_exports ex;
    HP_CHECK(hp_pe_exports_parse(pe, arena, &ex));
    hp_pe_pdata pd = { 0, NULL };
    if (pe->machine == HP_IMAGE_FILE_MACHINE_AMD64)
        HP_CHECK(hp_pe_pdata_parse(pe, arena, &pd));
    hp_pe_symbols sy = { 0, NULL };
    if (pe->layout == HP_PE_LAYOUT_FILE)
        HP_CHECK(hp_pe_symbols_parse(pe, arena, &sy));
    hp_pe_loadcfg lc;
    HP_CHECK(hp_pe_loadcfg_parse(pe, arena, &lc));
    uint64_t cfg_count = lc.present ? lc.cf_functions.count : 0;

    uint64_t cap = 1;
    if (!hp_add_u64(cap, ex.present ? ex.count : 0, &cap) || !hp_add_u64(cap, pd.count, &cap) ||
        !hp_add_u64(cap, sy.count, &cap) || !hp_add_u64(cap, cfg_count, &cap) ||
        !hp_add_u64(cap, nmore, &cap) || cap > UINT32_MAX)
        return HP_E_OVERFLOW;
    collector c = { hp_arena_array(arena, (size_t)cap, sizeof(raw_entry)), 0, cap };
    if (!c.items)
        return HP_E_NOMEM;

    for (uint32_t i = 0; ex.present && i < ex.count; i++) {
        const hp_pe_export *e = &ex.entries[i];
        /* Forwarders and data exports are not functions of this image. */
        if (e->rva && !e->forwarder && in_code(pe, e->rva))
            add(&c, e->rva, HP_SITE_SRC_EXPORT, e->name);
    }
    for (uint32_t i = 0; i < pd.count; i++) {
        const hp_pe_runtime_function *rf = &pd.entries[i];
        hp_pe_runtime_function primary;
        /* A chained entry is a fragment of the function its chain ends at, not an entry.
         * Unreadable unwind info does not hide the entry. */
        if (hp_pe_unwind_primary(pe, rf, &primary) == HP_OK && primary.begin != rf->begin)
            continue;
        add(&c, rf->begin, HP_SITE_SRC_PDATA, NULL);
    }
    for (uint32_t i = 0; i < sy.count; i++) {
        uint32_t rva;
        if (hp_pe_symbol_function_rva(pe, &sy.entries[i], &rva))
            add(&c, rva, HP_SITE_SRC_SYMBOL, sy.entries[i].name);
    }
    for (uint64_t i = 0; i < cfg_count; i++)
        add(&c, lc.cf_functions.entries[i].rva, HP_SITE_SRC_CFG, NULL);
    if (pe->entry_point)
        add(&c, pe->entry_point, HP_SITE_SRC_ENTRY, NULL);
    for (uint32_t i = 0; i < nmore; i++)
        if (in_code(pe, more[i]))
            add(&c, more[i], HP_SITE_SRC_MAP, more_names ? more_names[i] : NULL);

    if (c.count == 0)
        return HP_OK;
    qsort(c.items, (size_t)c.count, sizeof(raw_entry), raw_cmp);

    uint32_t unique = 1;
    for (uint64_t i = 1; i < c.count; i++)
        unique += c.items[i].rva != c.items[i - 1].rva;
    hp_site *sites = hp_arena_array(arena, unique, sizeof *sites);
    if (!sites)
        return HP_E_NOMEM;

    uint32_t k = 0;
    for (uint64_t i = 0; i < c.count;) {
        hp_site *site = &sites[k++];
        uint32_t rva = c.items[i].rva;
        /* The sort put the best name first among the entries of one RVA. */
        site->name = c.items[i].name;
        for (; i < c.count && c.items[i].rva == rva; i++)
            site->sources |= c.items[i].source;
        HP_CHECK(hp_site_examine(ctx, pe, rva, site));
        out->by_class[site->cls]++;
    }
    out->count = unique;
    out->sites = sites;
    return examine_tramps(pe, arena, out);
}
