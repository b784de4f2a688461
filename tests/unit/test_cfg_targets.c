/* Unit tests: the CFG plan of an apply (engine/cfg.h): whether the target module is
 * CFG-instrumented, and the call targets made valid in the patch image. */
#include <string.h>

#include "hotpe/engine/cfg.h"
#include "harness.h"
#include "mkpe.h"
#include "hotpe/engine/proc.h"
#include "hotpe/engine/txn.h"

typedef HP_IMAGE_LOAD_CONFIG_DIRECTORY32 lc32;
typedef HP_IMAGE_LOAD_CONFIG_DIRECTORY64 lc64;

#define LC_PUT(f, at, field, v)                                                                \
    do {                                                                                       \
        if ((f)->spec.pe32plus)                                                                \
            MKPE_BLOB_PUT(&(f)->b, (at), lc64, field, (v));                                    \
        else                                                                                   \
            MKPE_BLOB_PUT(&(f)->b, (at), lc32, field, (v));                                    \
    } while (0)

/* A target module: .text, and .rdata holding a load config (or not). */
typedef struct fixture {
    mkpe_spec spec;
    unsigned rdata;
    uint32_t text_rva;
    mkpe_blob b;
    mkpe_image img;
    hp_arena arena;
    hp_pe pe;
} fixture;

static uint8_t code[0x200];

enum { LC_NONE, LC_NO_GUARD, LC_INSTRUMENTED, LC_NO_TABLE, LC_TABLE_NOT_INSTRUMENTED,
       LC_SHORT };

/* kind: which load config; the function table has 2 entries of stride 5. */
static void fx_make(fixture *f, mkpe_arch arch, int kind)
{
    memset(f, 0, sizeof *f);
    memset(code, 0xcc, sizeof code);
    mkpe_init(&f->spec, arch);
    unsigned text = mkpe_add_section(&f->spec, ".text", MKPE_CODE, code, sizeof code, 0);
    f->rdata = mkpe_add_section(&f->spec, ".rdata", MKPE_RDATA, NULL, 0, 0);
    f->text_rva = mkpe_section_rva(&f->spec, text);
    mkpe_blob_init(&f->b, mkpe_section_rva(&f->spec, f->rdata));
    if (kind == LC_NONE) {
        mkpe_blob_zero(&f->b, 16);
    } else {
        uint32_t full = f->spec.pe32plus ? sizeof(lc64) : sizeof(lc32);
        uint32_t lc = mkpe_blob_zero(&f->b, full);
        uint32_t fid = mkpe_blob_zero(&f->b, 10);
        mkpe_blob_put32(&f->b, fid, f->text_rva);
        mkpe_blob_put32(&f->b, fid + 5, f->text_rva + 0x40);
        uint32_t size = full;
        if (kind == LC_SHORT) /* Size stops before GuardFlags */
            size = f->spec.pe32plus ? offsetof(lc64, GuardFlags) : offsetof(lc32, GuardFlags);
        LC_PUT(f, lc, Size, size);
        uint32_t flags = 1u << HP_IMAGE_GUARD_CF_FUNCTION_TABLE_SIZE_SHIFT;
        if (kind != LC_NO_GUARD && kind != LC_TABLE_NOT_INSTRUMENTED)
            flags |= HP_IMAGE_GUARD_CF_INSTRUMENTED | HP_IMAGE_GUARD_CF_FUNCTION_TABLE_PRESENT;
        if (kind != LC_NO_GUARD)
            LC_PUT(f, lc, GuardFlags, flags);
        if (kind != LC_NO_TABLE && kind != LC_NO_GUARD) {
            LC_PUT(f, lc, GuardCFFunctionTable, f->spec.image_base + fid);
            LC_PUT(f, lc, GuardCFFunctionCount, 2);
        }
        mkpe_set_dir(&f->spec, HP_IMAGE_DIRECTORY_ENTRY_LOAD_CONFIG, lc, size);
    }
    mkpe_set_section_blob(&f->spec, f->rdata, &f->b);
    f->img = mkpe_build_loaded(&f->spec);
    ck_assert_int_eq(hp_pe_parse(&f->pe, &f->arena, f->img.data, f->img.size,
                                 HP_PE_LAYOUT_LOADED), HP_OK);
}

static void fx_free(fixture *f)
{
    hp_arena_free(&f->arena);
    mkpe_free(&f->img);
    mkpe_blob_free(&f->b);
}

#define MANY 2000u

/* n sites with these replacement RVAs (entry RVAs made up: they do not matter here). */
static uint32_t sites_of(hp_patch_site *s, const uint32_t *repl, uint32_t n)
{
    memset(s, 0, sizeof *s * n);
    for (uint32_t i = 0; i < n; i++) {
        s[i].entry_rva = 0x1000 + 0x40 * i;
        s[i].pad_rva = s[i].entry_rva - 6;
        s[i].pad_len = 6;
        s[i].form = HP_PLAN_X64_IND;
        s[i].replacement_rva = repl[i];
    }
    return n;
}

/* Instrumented: sorted, unique, 16-byte aligned, VALID; unaligned entries left out and named. */
START_TEST(instrumented_targets_sorted_unique_aligned)
{
    fixture f;
    fx_make(&f, _i ? MKPE_X64 : MKPE_X86, LC_INSTRUMENTED);
    hp_patch_site s[8];
    static const uint32_t repl[] = { 0x1230, 0x1010, 0x1234, 0x1230, 0x2000, 0x1008 };
    uint32_t n = sites_of(s, repl, 6);
    hp_cfg_plan p;
    memset(&p, 0xee, sizeof p);
    ck_assert_int_eq(hp_cfg_plan_make(&f.pe, &f.arena, s, n, &p), HP_OK);
    ck_assert(p.instrumented);
    ck_assert_uint_eq(p.function_count, 2);
    ck_assert_uint_eq(p.guard_flags & HP_IMAGE_GUARD_CF_INSTRUMENTED, HP_IMAGE_GUARD_CF_INSTRUMENTED);
    ck_assert_uint_eq(p.count, 3);
    static const uint64_t want[] = { 0x1010, 0x1230, 0x2000 };
    for (uint32_t i = 0; i < 3; i++) {
        ck_assert_uint_eq(p.targets[i].offset, want[i]);
        ck_assert_uint_eq(p.targets[i].flags, HP_CFG_CALL_TARGET_VALID);
    }
    static const uint8_t planned[] = { HP_WIRE_CFG_UNKNOWN, HP_WIRE_CFG_UNKNOWN,
                                       HP_WIRE_CFG_UNALIGNED, HP_WIRE_CFG_UNKNOWN,
                                       HP_WIRE_CFG_UNKNOWN, HP_WIRE_CFG_UNALIGNED };
    for (uint32_t k = 0; k < n; k++) {
        ck_assert_uint_eq(p.site[k], planned[k]);
        uint8_t st = hp_cfg_site_state(&p, k, HP_WIRE_CFG_NO_API);
        ck_assert_uint_eq(st, planned[k] == HP_WIRE_CFG_UNALIGNED ? HP_WIRE_CFG_UNALIGNED
                                                                    : HP_WIRE_CFG_NO_API);
    }
    fx_free(&f);
}
END_TEST

/* Not instrumented: no load config, no GuardFlags, Size before GuardFlags, the flag without a
 * table, a table without the flag. No targets; every site says so whatever the outcome. */
START_TEST(not_instrumented_means_no_targets)
{
    static const int kinds[] = { LC_NONE, LC_NO_GUARD, LC_SHORT, LC_NO_TABLE,
                                 LC_TABLE_NOT_INSTRUMENTED };
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
        fixture f;
        fx_make(&f, _i ? MKPE_X64 : MKPE_X86, kinds[i]);
        hp_patch_site s[8];
        static const uint32_t repl[] = { 0x1010, 0x1234 };
        uint32_t n = sites_of(s, repl, 2);
        hp_cfg_plan p;
        ck_assert_int_eq(hp_cfg_plan_make(&f.pe, &f.arena, s, n, &p), HP_OK);
        ck_assert_msg(!p.instrumented, "kind %d", kinds[i]);
        ck_assert_uint_eq(p.count, 0);
        for (uint32_t k = 0; k < n; k++)
            ck_assert_uint_eq(hp_cfg_site_state(&p, k, HP_WIRE_CFG_REGISTERED),
                              HP_WIRE_CFG_NOT_INSTRUMENTED);
        fx_free(&f);
    }
}
END_TEST

/* No fixed limit: thousands of sites, every one planned, in order. */
START_TEST(every_site_kept_and_bad_arguments)
{
    fixture f;
    fx_make(&f, MKPE_X64, LC_INSTRUMENTED);
    static hp_patch_site s[MANY];
    static uint32_t repl[MANY];
    for (uint32_t i = 0; i < MANY; i++)
        repl[i] = 0x100000 - 0x10 * i; /* descending */
    uint32_t n = sites_of(s, repl, MANY);
    hp_cfg_plan p;
    ck_assert_int_eq(hp_cfg_plan_make(&f.pe, &f.arena, s, n, &p), HP_OK);
    ck_assert_uint_eq(p.count, MANY);
    ck_assert_uint_eq(p.nsites, MANY);
    for (uint32_t i = 1; i < p.count; i++)
        ck_assert_uint_gt(p.targets[i].offset, p.targets[i - 1].offset);
    ck_assert_int_eq(hp_cfg_plan_make(NULL, &f.arena, s, 1, &p), HP_E_ARG);
    ck_assert_int_eq(hp_cfg_plan_make(&f.pe, &f.arena, NULL, 1, &p), HP_E_ARG);
    ck_assert_int_eq(hp_cfg_plan_make(&f.pe, &f.arena, s, 0, &p), HP_OK);
    ck_assert_uint_eq(p.count, 0);
    ck_assert(p.instrumented);
    ck_assert_uint_eq(hp_cfg_site_state(&p, MANY, HP_WIRE_CFG_REGISTERED), HP_WIRE_CFG_UNKNOWN);
    fx_free(&f);
}
END_TEST

/* A load config the parser refuses is reported, not taken as "not instrumented". */
START_TEST(damaged_load_config_is_an_error)
{
    fixture f;
    fx_make(&f, MKPE_X64, LC_INSTRUMENTED);
    /* the function table's count far past the image */
    hp_pe_loadcfg lc;
    ck_assert_int_eq(hp_pe_loadcfg_parse(&f.pe, &f.arena, &lc), HP_OK);
    uint32_t dir = f.pe.dirs[HP_IMAGE_DIRECTORY_ENTRY_LOAD_CONFIG].rva;
    mkpe_w64(&f.img, dir + offsetof(lc64, GuardCFFunctionCount), 0x10000000);
    hp_patch_site s[8];
    static const uint32_t repl[] = { 0x1010 };
    uint32_t n = sites_of(s, repl, 1);
    hp_cfg_plan p;
    ck_assert_int_eq(hp_cfg_plan_make(&f.pe, &f.arena, s, n, &p), HP_E_LOADCFG_TABLE);
    fx_free(&f);
}
END_TEST

START_TEST(state_names)
{
    ck_assert_ptr_null(hp_cfg_state_name(HP_WIRE_CFG_UNKNOWN));
    ck_assert_str_eq(hp_cfg_state_name(HP_WIRE_CFG_NOT_INSTRUMENTED), "not-instrumented");
    ck_assert_str_eq(hp_cfg_state_name(HP_WIRE_CFG_REGISTERED), "registered");
    ck_assert_str_eq(hp_cfg_state_name(HP_WIRE_CFG_NO_API), "no-api");
    ck_assert_str_eq(hp_cfg_state_name(HP_WIRE_CFG_FAILED), "failed");
    ck_assert_str_eq(hp_cfg_state_name(HP_WIRE_CFG_UNALIGNED), "unaligned");
    ck_assert_str_eq(hp_cfg_state_name(HP_WIRE_CFG_NOT_ENFORCED), "not-enforced");
    ck_assert_str_eq(hp_cfg_state_name(200), "?");
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* The transaction's CFG step (txn.h: opts.cfg), on the fake process                          */
/* ------------------------------------------------------------------------------------------ */

#define X86_CODE 0x00401000ull
#define X86_ENTRY 0x20u

typedef struct cfg_probe {
    hp_proc_fake *fake;
    unsigned calls;
    unsigned reads, writes, stores, freezes; /* fake operations seen when it ran */
    hp_status answer;
} cfg_probe;

static hp_status probe_cfg(void *ctx)
{
    cfg_probe *c = ctx;
    c->calls++;
    c->reads = hp_proc_fake_ops(c->fake, HP_FAKE_OP_READ);
    c->writes = hp_proc_fake_ops(c->fake, HP_FAKE_OP_WRITE);
    c->stores = hp_proc_fake_ops(c->fake, HP_FAKE_OP_STORE2);
    c->freezes = hp_proc_fake_ops(c->fake, HP_FAKE_OP_FREEZE);
    return c->answer;
}

/* An x86 site: 5 x CC, then 8B FF at X86_ENTRY; staged to jump to 0x10002000. */
static void stage_x86(hp_txn *txn, hp_proc *proc, hp_proc_fake **fake, hp_arena *arena,
                      uint8_t *code)
{
    memset(code, 0xCC, 0x100);
    code[X86_ENTRY] = 0x8B;
    code[X86_ENTRY + 1] = 0xFF;
    code[X86_ENTRY + 2] = 0xC3;
    ck_assert_int_eq(hp_proc_fake_open(proc, fake, false), HP_OK);
    ck_assert_int_eq(hp_proc_fake_map(*fake, X86_CODE, 0x100, HP_FAKE_R | HP_FAKE_X, code), HP_OK);
    ck_assert_int_eq(hp_txn_begin(txn, proc, arena), HP_OK);
    hp_txn_site t;
    memset(&t, 0, sizeof t);
    t.entry = X86_CODE + X86_ENTRY;
    t.entry_len = 2;
    t.pad_addr = t.entry - 5;
    t.pad_len = 5;
    memset(t.old_pad, 0xCC, 5);
    t.old_entry[0] = 0x8B;
    t.old_entry[1] = 0xFF;
    uint32_t rel = (uint32_t)(0x10002000u - (uint32_t)t.entry);
    t.new_pad[0] = 0xE9;
    memcpy(t.new_pad + 1, &rel, 4);
    t.new_entry[0] = 0xEB;
    t.new_entry[1] = 0xF9;
    ck_assert_int_eq(hp_txn_stage_site(txn, &t), HP_OK);
}

/* Runs once, after validation, before the freeze and the first write. */
START_TEST(txn_cfg_step_before_freeze_and_writes)
{
    hp_proc proc;
    hp_proc_fake *fake;
    hp_arena arena = HP_ARENA_INIT;
    hp_txn txn;
    uint8_t code[0x100];
    stage_x86(&txn, &proc, &fake, &arena, code);
    cfg_probe c = { .fake = fake, .answer = HP_OK };
    hp_txn_options o = { .cfg = probe_cfg, .cfg_ctx = &c };
    hp_txn_result r;
    ck_assert_int_eq(hp_txn_commit(&txn, &o, &r), HP_OK);
    ck_assert_uint_eq(c.calls, 1);
    ck_assert_uint_gt(c.reads, 0);   /* validated first */
    ck_assert_uint_eq(c.freezes, 0);
    ck_assert_uint_eq(c.writes, 0);
    ck_assert_uint_eq(c.stores, 0);
    ck_assert_uint_eq(hp_proc_fake_ops(fake, HP_FAKE_OP_STORE2), 1);
    const uint8_t *e = hp_proc_fake_mem(fake, X86_CODE + X86_ENTRY, 2);
    ck_assert(e[0] == 0xEB && e[1] == 0xF9);
    hp_proc_close(&proc);
    hp_arena_free(&arena);
}
END_TEST

/* A refusal stops the commit with nothing written; a failed validation never reaches it. */
START_TEST(txn_cfg_step_refusal_and_validation_first)
{
    for (int v = 0; v < 2; v++) {
        hp_proc proc;
        hp_proc_fake *fake;
        hp_arena arena = HP_ARENA_INIT;
        hp_txn txn;
        uint8_t code[0x100];
        stage_x86(&txn, &proc, &fake, &arena, code);
        if (v) /* the entry changed since planning */
            hp_proc_fake_mem(fake, X86_CODE + X86_ENTRY, 1)[0] = 0x90;
        cfg_probe c = { .fake = fake, .answer = HP_E_UNSUPPORTED };
        hp_txn_options o = { .cfg = probe_cfg, .cfg_ctx = &c };
        hp_txn_result r;
        hp_status s = hp_txn_commit(&txn, &o, &r);
        if (v) {
            ck_assert_int_eq(s, HP_E_TXN_VALIDATION);
            ck_assert_uint_eq(c.calls, 0);
        } else {
            ck_assert_int_eq(s, HP_E_UNSUPPORTED);
            ck_assert_int_eq(r.failed_step, HP_TXN_STEP_CFG);
            ck_assert_str_eq(hp_txn_step_name(r.failed_step), "cfg");
            ck_assert_uint_eq(c.calls, 1);
            ck_assert_int_eq(memcmp(hp_proc_fake_mem(fake, X86_CODE, 0x100), code, 0x100), 0);
        }
        ck_assert_uint_eq(hp_proc_fake_ops(fake, HP_FAKE_OP_WRITE), 0);
        ck_assert_uint_eq(hp_proc_fake_ops(fake, HP_FAKE_OP_STORE2), 0);
        ck_assert_uint_eq(hp_proc_fake_ops(fake, HP_FAKE_OP_FREEZE), 0);
        hp_proc_close(&proc);
        hp_arena_free(&arena);
    }
}
END_TEST

static Suite *cfg_suite(void)
{
    Suite *s = suite_create("cfg_targets");
    TCase *tc = tcase_create("plan");
    tcase_add_loop_test(tc, instrumented_targets_sorted_unique_aligned, 0, 2);
    tcase_add_loop_test(tc, not_instrumented_means_no_targets, 0, 2);
    tcase_add_test(tc, every_site_kept_and_bad_arguments);
    tcase_add_test(tc, damaged_load_config_is_an_error);
    tcase_add_test(tc, state_names);
    suite_add_tcase(s, tc);
    TCase *tx = tcase_create("txn");
    tcase_add_test(tx, txn_cfg_step_before_freeze_and_writes);
    tcase_add_test(tx, txn_cfg_step_refusal_and_validation_first);
    suite_add_tcase(s, tx);
    return s;
}

HP_TEST_MAIN(cfg_suite)
