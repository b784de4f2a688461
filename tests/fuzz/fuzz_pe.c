/*
 * libFuzzer harness for the PE library: the input is an image, parsed in file and in loaded
 * layout; when the headers parse, every directory parser and accessor of pe.h runs on it, site
 * analysis (site.h: Zydis over each entry's bytes) runs with a plan and a function hash
 * (fnhash.h: its length, the .reloc mask and the hash) for each patchable site, hotpe's import
 * section is looked for, and in file layout the writer adds a section, and hotpe's import. A
 * few invariants the parsers promise are checked with abort(), so a broken promise is
 * reported like a crash.
 *
 * Run through tests/fuzz/run.sh (make fuzz, make fuzz-smoke).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotpe/engine/patch.h"
#include "hotpe/engine/plan.h"
#include "hotpe/pe/fnhash.h"
#include "hotpe/pe/patchdesc.h"
#include "hotpe/pe/pe.h"
#include "hotpe/pe/site.h"

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "fuzz_pe: invariant broken at line %d: %s\n", __LINE__, #cond); \
            abort();                                                                  \
        }                                                                             \
    } while (0)

static void status_ok(hp_status s)
{
    CHECK(hp_status_known((uint32_t)s));
    CHECK(hp_status_str(s) != NULL && hp_status_name(s) != NULL);
}

static void headers(const hp_pe *pe, hp_arena *arena)
{
    (void)hp_pe_machine_name(pe);
    (void)hp_pe_section_by_name(pe, ".text");
    (void)hp_pe_section_by_name(pe, HP_HOTP_SECTION_NAME);
    for (unsigned i = 0; i <= HP_IMAGE_NUMBEROF_DIRECTORY_ENTRIES; i++)
        (void)hp_pe_dir_get(pe, i);

    uint32_t probes[] = { pe->entry_point, pe->size_of_headers - 1, pe->size_of_image - 1,
                          pe->dirs[HP_IMAGE_DIRECTORY_ENTRY_EXPORT].rva, 0xfffffffcu };
    for (size_t i = 0; i < sizeof probes / sizeof *probes; i++) {
        uint64_t off, avail;
        hp_rd view;
        uint16_t u16;
        uint32_t u32;
        uint64_t u64;
        const char *str;
        uint32_t rva = probes[i];
        const hp_pe_section *s = hp_pe_section_of(pe, rva);
        if (s)
            CHECK(rva >= s->virtual_address);
        if (hp_pe_rva_to_offset(pe, rva, &off, &avail) == HP_OK)
            CHECK(avail > 0 && off < pe->rd.size && avail <= pe->rd.size - off);
        if (hp_pe_rva_view(pe, rva, 16, &view) == HP_OK)
            CHECK(view.size == 16);
        status_ok(hp_pe_rva_u16(pe, rva, &u16));
        status_ok(hp_pe_rva_u32(pe, rva, &u32));
        status_ok(hp_pe_rva_u64(pe, rva, &u64));
        status_ok(hp_pe_rva_ptr(pe, rva, &u64));
        if (hp_pe_rva_str(pe, arena, rva, 64, &str) == HP_OK)
            CHECK(strlen(str) < 64);
        uint32_t back;
        if (hp_pe_va_to_rva(pe, pe->image_base + rva, &back) == HP_OK)
            CHECK(back == rva);
    }
}

static void exports(const hp_pe *pe, hp_arena *arena)
{
    hp_pe_exports ex;
    hp_status s = hp_pe_exports_parse(pe, arena, &ex);
    status_ok(s);
    if (s != HP_OK || !ex.present)
        return;
    for (uint32_t i = 0; i < ex.name_count; i++)
        CHECK(ex.names[i].index < ex.count && ex.names[i].name);
    /* A few names: the first, the last, any forwarder's own name, one that is not there. */
    const char *names[8] = { "DllMain", "no such export" };
    unsigned n = 2;
    if (ex.name_count) {
        names[n++] = ex.names[0].name;
        names[n++] = ex.names[ex.name_count - 1].name;
    }
    for (uint32_t i = 0; i < ex.count && n < 8; i++)
        if (ex.entries[i].forwarder && ex.entries[i].name)
            names[n++] = ex.entries[i].name;
    for (unsigned i = 0; i < n; i++) {
        const hp_pe_export *e = hp_pe_exports_find(&ex, names[i]);
        const hp_pe_export *r = NULL;
        s = hp_pe_exports_resolve(&ex, names[i], &r);
        status_ok(s);
        if (s == HP_OK)
            CHECK(e && r >= ex.entries && r < ex.entries + ex.count);
    }
}

static void imports(const hp_pe *pe, hp_arena *arena)
{
    for (int delay = 0; delay < 2; delay++) {
        hp_pe_imports im;
        hp_status s = hp_pe_imports_parse(pe, arena, delay, &im);
        status_ok(s);
        for (uint32_t i = 0; s == HP_OK && i < im.count; i++) {
            CHECK(im.dlls[i].dll_name != NULL);
            for (uint32_t k = 0; k < im.dlls[i].count; k++)
                CHECK(im.dlls[i].imports[k].by_ordinal || im.dlls[i].imports[k].name);
        }
    }
}

static void relocs(const hp_pe *pe, hp_arena *arena)
{
    hp_pe_relocs r;
    hp_status s = hp_pe_relocs_parse(pe, arena, &r);
    status_ok(s);
    for (uint32_t i = 0; s == HP_OK && i < r.count; i++)
        CHECK(r.entries[i].type == HP_IMAGE_REL_BASED_ABSOLUTE ||
              r.entries[i].rva < pe->size_of_image);
}

static void pdata(const hp_pe *pe, hp_arena *arena)
{
    hp_pe_pdata pd;
    hp_status s = hp_pe_pdata_parse(pe, arena, &pd);
    status_ok(s);
    for (uint32_t i = 0; s == HP_OK && i < pd.count; i++) {
        hp_pe_runtime_function primary;
        CHECK(pd.entries[i].begin <= pd.entries[i].end);
        status_ok(hp_pe_unwind_primary(pe, &pd.entries[i], &primary));
    }
}

static void loadcfg_and_hotpatch_info(const hp_pe *pe, hp_arena *arena)
{
    hp_pe_loadcfg lc;
    hp_status s = hp_pe_loadcfg_parse(pe, arena, &lc);
    status_ok(s);
    if (s != HP_OK)
        return;
    size_t nfields;
    const hp_pe_loadcfg_field *fields = hp_pe_loadcfg_fields(&nfields);
    for (size_t i = 0; i < nfields; i++)
        if (hp_pe_loadcfg_has(pe, &lc, fields[i].offset64))
            (void)hp_pe_loadcfg_value(&lc, &fields[i]);
    (void)HP_PE_LOADCFG_HAS(pe, &lc, GuardCFFunctionTable);

    hp_pe_hotpatch_info hpi;
    s = hp_pe_hotpatch_info_parse(pe, &lc, arena, &hpi);
    status_ok(s);
    if (s == HP_OK && hpi.present)
        CHECK(hpi.base_count == 0 || hpi.bases);
}

static void symbols(const hp_pe *pe, hp_arena *arena)
{
    hp_pe_symbols sy;
    hp_status s = hp_pe_symbols_parse(pe, arena, &sy);
    status_ok(s);
    for (uint32_t i = 0; s == HP_OK && i < sy.count; i++) {
        uint32_t rva;
        CHECK(sy.entries[i].name != NULL);
        if (hp_pe_symbol_function_rva(pe, &sy.entries[i], &rva))
            CHECK(rva < pe->size_of_image);
    }
}

static void debug(const hp_pe *pe, hp_arena *arena)
{
    hp_pe_debug d;
    hp_status s = hp_pe_debug_parse(pe, arena, &d);
    status_ok(s);
    if (s == HP_OK && d.codeview.present)
        CHECK(d.codeview.path != NULL);
}

static void hotp(const hp_pe *pe, hp_arena *arena)
{
    hp_pe_hotp h;
    hp_status s = hp_pe_hotp_parse(pe, arena, &h);
    status_ok(s);
    for (uint32_t i = 0; s == HP_OK && i < h.validation_count; i++)
        CHECK(h.validations[i].byte_count == 0 || h.validations[i].bytes);
    /* hotpe build's own record follows the legacy header. */
    hp_pe_patchbuild pb;
    if (s == HP_OK && h.present) {
        s = hp_pe_patchbuild_parse(pe, arena, h.header_rva + sizeof(HP_HOTPATCH_HEADER), &pb);
        status_ok(s);
        for (uint32_t i = 0; s == HP_OK && pb.present && i < pb.rec.HashCount; i++)
            CHECK(pb.hashes[i].Length >= 1 && pb.hashes[i].Length <= HOTPE_HASH_LENGTH_MAX &&
                  (i == 0 || pb.hashes[i - 1].BaseRva < pb.hashes[i].BaseRva));
    }
    hp_pe_patchdesc pd;
    status_ok(hp_pe_patchdesc_parse(pe, arena, &pd));
}

static void sites(const hp_pe *pe, hp_arena *arena)
{
    hp_site_ctx ctx;
    hp_site_list list;
    hp_site one;
    if (hp_site_ctx_init(&ctx, pe) != HP_OK)
        return;
    status_ok(hp_site_examine(&ctx, pe, pe->entry_point, &one));
    hp_status s = hp_site_analyze(&ctx, pe, arena, &list);
    status_ok(s);
    /* function hashes as hotpe build makes them: each entry bounds the one before */
    uint32_t *entries = s == HP_OK ? hp_arena_array(arena, list.count + 1, sizeof *entries) : NULL;
    hp_pe_fn_bounds bounds;
    hp_pe_fn_mask mask;
    bool hashes = entries != NULL;
    for (uint32_t i = 0; hashes && i < list.count; i++)
        entries[i] = list.sites[i].rva;
    if (hashes) {
        hp_status b = hp_pe_fn_bounds_make(pe, entries, list.count, arena, &bounds);
        hp_status m = hp_pe_fn_mask_make(pe, NULL, 0, arena, &mask);
        status_ok(b);
        status_ok(m);
        hashes = b == HP_OK && m == HP_OK;
    }
    for (uint32_t i = 0; s == HP_OK && i < list.count; i++) {
        const hp_site *site = &list.sites[i];
        CHECK(site->cls < HP_SITE_CLASS_COUNT && site->first_insn_len <= HP_SITE_INSN_MAX &&
              site->padding <= HP_SITE_PADDING_MAX);
        CHECK(i == 0 || list.sites[i - 1].rva < site->rva);
        if (hp_site_class_patchable(site->cls)) {
            hp_plan_site ps = { .entry = pe->image_base + site->rva };
            hp_txn_site plan;
            ps.replacement = ps.aux = ps.entry + 0x10000;
            status_ok(hp_plan_form_for(pe->pe32plus, site->padding, &ps.form));
            status_ok(hp_plan_make(&ps, &plan));
            uint32_t len = 0;
            hp_rd view;
            static uint8_t buf[HOTPE_HASH_LENGTH_MAX];
            uint8_t sha[HP_SHA256_LEN];
            if (hashes && hp_pe_fn_length(&bounds, site->rva, &len) == HP_OK) {
                CHECK(len >= 1 && len <= HOTPE_HASH_LENGTH_MAX);
                if (hp_pe_rva_view(pe, site->rva, len, &view) == HP_OK) {
                    memcpy(buf, view.data, len);
                    status_ok(hp_patch_fn_hash(&mask, site->rva, buf, len, sha));
                }
            }
        }
    }
}

/* The writer's output of a parsed image must parse again, with the new section last. */
static void writer(const hp_pe *pe)
{
    static const uint8_t payload[] = "hotpe fuzz section \xcc\xcc\xc3";
    hp_pe_new_section sec = { ".fuzz", HP_IMAGE_SCN_CNT_INITIALIZED_DATA | HP_IMAGE_SCN_MEM_READ,
                              payload, sizeof payload, 0 };
    uint8_t *out = NULL;
    size_t out_size = 0;
    uint32_t rva = 0;
    (void)hp_pe_checksum(pe);
    hp_status s = hp_pe_add_section(pe, &sec, &out, &out_size, &rva);
    status_ok(s);
    if (s != HP_OK)
        return;
    CHECK(out != NULL);
    hp_arena arena = HP_ARENA_INIT;
    hp_pe again;
    s = hp_pe_parse(&again, &arena, out, out_size, HP_PE_LAYOUT_FILE);
    if (s != HP_OK)
        fprintf(stderr, "fuzz_pe: writer output does not parse: %s\n", hp_status_name(s));
    CHECK(s == HP_OK);
    CHECK(again.section_count == pe->section_count + 1);
    const hp_pe_section *last = &again.sections[again.section_count - 1];
    CHECK(last->virtual_address == rva && strcmp(last->name, ".fuzz") == 0);
    hp_arena_free(&arena);
    free(out);
}

/* hotpe's import section: the marker found or not in either layout; in file layout, an image
 * that takes the rewrite parses again, names the same build and imports one DLL more. */
static void setdll(const hp_pe *pe, hp_arena *arena)
{
    hp_pe_setdll m;
    hp_pe_identity id;
    hp_status found = hp_pe_setdll_find(pe, &m);
    status_ok(found);
    hp_status s = hp_pe_build_identity(pe, &id);
    CHECK(s == (found == HP_E_NOT_FOUND ? HP_OK : found));
    if (pe->layout != HP_PE_LAYOUT_FILE || found != HP_E_NOT_FOUND)
        return;
    uint8_t *out = NULL;
    size_t out_size = 0;
    s = hp_pe_setdll_add(pe, "hotpe-shim.dll", "hotpe_registry", &out, &out_size);
    status_ok(s);
    if (s != HP_OK)
        return;
    hp_pe again;
    hp_pe_imports before, after;
    hp_pe_identity nid;
    CHECK(hp_pe_imports_parse(pe, arena, false, &before) == HP_OK);
    CHECK(hp_pe_parse(&again, arena, out, out_size, HP_PE_LAYOUT_FILE) == HP_OK);
    CHECK(hp_pe_setdll_find(&again, &m) == HP_OK);
    CHECK(hp_pe_build_identity(&again, &nid) == HP_OK && nid.rewritten);
    CHECK(nid.timestamp == id.timestamp && nid.size_of_image == id.size_of_image &&
          nid.checksum == id.checksum);
    CHECK(again.checksum == hp_pe_checksum(&again));
    CHECK(hp_pe_imports_parse(&again, arena, false, &after) == HP_OK);
    CHECK(after.count == before.count + 1);
    CHECK(strcmp(after.dlls[before.count].dll_name, "hotpe-shim.dll") == 0);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int layout = HP_PE_LAYOUT_FILE; layout <= HP_PE_LAYOUT_LOADED; layout++) {
        hp_arena arena = HP_ARENA_INIT;
        hp_pe pe;
        hp_status s = hp_pe_parse(&pe, &arena, data, size, (hp_pe_layout)layout);
        status_ok(s);
        if (s == HP_OK) {
            headers(&pe, &arena);
            exports(&pe, &arena);
            imports(&pe, &arena);
            relocs(&pe, &arena);
            pdata(&pe, &arena);
            loadcfg_and_hotpatch_info(&pe, &arena);
            symbols(&pe, &arena);
            debug(&pe, &arena);
            hotp(&pe, &arena);
            sites(&pe, &arena);
            setdll(&pe, &arena);
            if (layout == HP_PE_LAYOUT_FILE)
                writer(&pe);
        }
        hp_arena_free(&arena);
    }
    return 0;
}
