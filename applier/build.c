/*
 * hotpe build --base BASE PATCH.dll [-o OUT.dll] [--map BASE.map] [--target-name NAME]: the
 * SDK's post-link step (docs/sdk.md). Reads the SDK descriptors of the patch DLL,
 * resolves every name against the base (names.c: exports, then COFF symbols, then a GNU ld map
 * file), checks every replaced site, and writes the patch with its new section ".hotp1"
 * (hotp1.c: the section's layout and contents, the slots, the load config, the checksum).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "hotp1.h"
#include "names.h"
#include "hotpe/engine/patch.h"
#include "hotpe/pe/fnhash.h"
#include "hotpe/pe/insn.h"
#include "hotpe/pe/patchdesc.h"
#include "hotpe/pe/pe.h"
#include "hotpe/pe/site.h"

const char hp_verb_build_help[] =
    "usage: hotpe build --base BASE PATCH.dll [-o OUT.dll] [--map BASE.map] [--target-name NAME]\n"
    "\n"
    "The SDK's post-link step. Reads the HOTPE_* records of PATCH.dll, resolves each name\n"
    "against BASE (exports, then COFF symbols, then the GNU ld map file given with --map),\n"
    "checks that every replaced function can be patched (class prologue, nop-pair, padded or\n"
    "trampoline, see hotpe scan; hotpatch sites are used wherever they exist), records the\n"
    "bytes each hook overwrites or a trampoline moves, the SHA-256 of each replaced function's\n"
    "bytes and the base's identity (TimeDateStamp, SizeOfImage, CheckSum, CodeView GUID and\n"
    "age), and writes the .hotp1 section, the fixups of the base-data/base-function slots and\n"
    "IMAGE_HOT_PATCH_INFO (adding a load config when the DLL has none). Writes OUT.dll, or\n"
    "PATCH.dll in place. A BASE rewritten to load hotpe-shim.dll (a .hotpei section) is\n"
    "recorded with the identity it had before.\n"
    "\n"
    "HOTPE_PATCH's module name must be BASE's file name (case-insensitive, extension optional);\n"
    "--target-name NAME gives the module's name when the base file was renamed.\n"
    "\n"
    "Refused (exit 1, one line naming the object): a name not found, a site that cannot be\n"
    "patched (with its class), different machines, a function replaced twice, no HOTPE_REPLACE,\n"
    "no HOTPE_PATCH or one naming another module, a DLL that already has .hotp1.\n"
    "\n"
    "Exit codes: 0 written, 1 refused or failed, 2 bad usage.\n";

typedef struct build_ctx {
    const char *base_path, *patch_path;
    const char *target_name;  /* --target-name: the module's name when the base file has another */
    hp_arena *arena;
    hp_pe base, patch;
    hp_names names;
    hp_site_ctx sctx;
    hp_site_list sites;     /* every entry of the base, map file's included */
    hp_pe_fn_bounds bounds; /* where the replaced functions end, for their hashes */
    char object[600];       /* the object of the last refusal */
    char detail[200];
} build_ctx;

static void set_object(build_ctx *c, const char *name)
{
    snprintf(c->object, sizeof c->object, "%s!%s", c->base_path, name);
}

/* ---- resolving and checking every descriptor ------------------------------------------ */

/* How the first instruction at rva moves into the stub the applier builds for an ORIGINAL
 * reference (HOTPE_REF_F_STUB): decoded here, recorded as the stub's recipe, so that the shim
 * follows it without a decoder. A first instruction that cannot be moved is refused now rather
 * than at apply time. */
static hp_status stub_recipe(const hp_pe *base, uint32_t rva, hp_hotp1_ref *f)
{
    hp_rd view = { 0 };
    size_t avail = 15;
    while (avail && hp_pe_rva_view(base, rva, avail, &view) != HP_OK)
        avail--;
    HP_CHECK(hp_insn_moved_of(base->pe32plus, view.data, avail, &f->moves[0]));
    if (f->moves[0].len != f->site.first_insn_len)
        return HP_E_INSN_DECODE;
    f->nmoves = 1;
    f->flags |= HOTPE_REF_F_STUB;
    return HP_OK;
}

/* The recipe of an entry-form site's trampoline: the instructions covering the 5-byte jump,
 * as the check that classed the site found them (pe/tramp.h, through hp_site_analyze). */
static hp_status tramp_recipe(hp_hotp1_ref *f)
{
    if (!f->site.moved_count || f->site.moved_count > HP_TRAMP_MOVED_MAX)
        return HP_E_SITE_NOT_PATCHABLE;
    memcpy(f->moves, f->site.moved, f->site.moved_count * sizeof *f->site.moved);
    f->nmoves = f->site.moved_count;
    f->flags |= HOTPE_REF_F_STUB;
    return HP_OK;
}

/* Resolve and check one descriptor (not HOTPE_PATCH) into f. */
static hp_status check_one(build_ctx *c, const hp_pe_patchdesc_entry *d, hp_hotp1_ref *f)
{
    memset(f, 0, sizeof *f);
    f->d = d;
    if (d->kind == HOTPE_DESC_ON_APPLY || d->kind == HOTPE_DESC_ON_REVERT)
        return HP_OK;
    bool function = d->kind != HOTPE_DESC_BASE_DATA;
    set_object(c, d->name);
    if (!hp_names_resolve(&c->names, d->name, function, &f->base_rva, &f->source)) {
        /* a stripped base knows only its exports */
        bool stripped = c->names.syms.count == 0 && c->names.map_count == 0;
        snprintf(c->detail, sizeof c->detail, "%s of %s%s", function ? "function" : "data",
                 hp_pe_patchdesc_kind_name(d->kind),
                 stripped ? "; the base has no symbols: build it without -s, or give --map" : "");
        return HP_E_BUILD_UNRESOLVED;
    }
    f->slot_value_rva = f->base_rva;
    if (d->kind == HOTPE_DESC_REPLACE || d->kind == HOTPE_DESC_ORIGINAL) {
        const hp_site *known = hp_site_find(&c->sites, f->base_rva);
        if (known)
            f->site = *known;
        else /* every resolved function is an entry; this is a fallback */
            HP_CHECK(hp_site_examine(&c->sctx, &c->base, f->base_rva, &f->site));
        if (!hp_site_class_patchable(f->site.cls)) {
            int n = snprintf(c->detail, sizeof c->detail, "class %s at RVA 0x%x",
                             hp_site_class_name(f->site.cls), f->base_rva);
            if (f->site.tramp < HP_TRAMP_VERDICT_COUNT && n > 0 && (size_t)n < sizeof c->detail)
                snprintf(c->detail + n, sizeof c->detail - (size_t)n,
                         "; no trampoline: %s at RVA 0x%x",
                         hp_tramp_verdict_name((hp_tramp_verdict)f->site.tramp),
                         f->site.tramp_at);
            return HP_E_SITE_NOT_PATCHABLE;
        }
        if (f->site.cls == HP_SITE_TRAMP)
            f->flags |= HOTPE_REF_F_TRAMP;
        else if (f->site.padding < 5 || f->base_rva < 6)
            return HP_E_SITE_NOT_PATCHABLE;
        if (d->kind == HOTPE_DESC_REPLACE)
            HP_CHECK(hp_pe_fn_length(&c->bounds, f->base_rva, &f->hash_len));
    }
    if (d->kind == HOTPE_DESC_REPLACE && !d->function_rva)
        return HP_E_PATCHDESC;
    if (d->kind == HOTPE_DESC_ORIGINAL) {
        if (f->site.cls == HP_SITE_PROLOGUE || f->site.cls == HP_SITE_NOP_PAIR) /* no-ops */
            f->slot_value_rva = f->base_rva + f->site.first_insn_len;
        else if (f->site.cls == HP_SITE_TRAMP) /* the applier builds the trampoline */
            HP_CHECK(tramp_recipe(f));
        else /* the applier builds the stub */
            HP_CHECK(stub_recipe(&c->base, f->base_rva, f));
    }
    if (d->kind != HOTPE_DESC_REPLACE && !d->object_rva)
        return HP_E_PATCHDESC;
    return HP_OK;
}

/* A replaced site and the position of its HOTPE_REPLACE among the references. */
typedef struct replace_at {
    uint32_t rva, pos;
} replace_at;

static int replace_cmp(const void *a, const void *b)
{
    const replace_at *x = a, *y = b;
    if (x->rva != y->rva)
        return x->rva < y->rva ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/*
 * A site replaced twice is refused at its second HOTPE_REPLACE (in descriptor order), naming
 * the first: sorting (site, position) puts each site's replacements together, earliest first,
 * and the refusal goes to the earliest second one.
 */
static hp_status check_duplicates(build_ctx *c, const hp_hotp1_ref *refs, uint32_t n)
{
    replace_at *r = n ? hp_arena_array(c->arena, n, sizeof *r) : NULL;
    if (n && !r)
        return HP_E_NOMEM;
    uint32_t m = 0, first = 0, second = UINT32_MAX;
    for (uint32_t i = 0; i < n; i++)
        if (refs[i].d->kind == HOTPE_DESC_REPLACE)
            r[m++] = (replace_at){ refs[i].base_rva, i };
    if (m > 1)
        qsort(r, m, sizeof *r, replace_cmp);
    for (uint32_t i = 1, g = 0; i < m; i++) {
        if (r[i].rva != r[i - 1].rva)
            g = i; /* a new site; r[g] is its first replacement */
        else if (i == g + 1 && r[i].pos < second) {
            first = r[g].pos;
            second = r[i].pos;
        }
    }
    if (second == UINT32_MAX)
        return HP_OK;
    const hp_pe_patchdesc_entry *a = refs[first].d, *b = refs[second].d;
    set_object(c, b->name);
    snprintf(c->detail, sizeof c->detail, "by %s and %s", a->text ? a->text : "?",
             b->text ? b->text : "?");
    return HP_E_BUILD_DUPLICATE;
}

static hp_status check_refs(build_ctx *c, const hp_pe_patchdesc *pd, hp_hotp1_ref *refs,
                            uint32_t *nrefs, const hp_pe_patchdesc_entry **patch)
{
    uint32_t n = 0;
    hp_status s = HP_OK;
    *patch = NULL;
    for (uint32_t i = 0; s == HP_OK && i < pd->count; i++) {
        const hp_pe_patchdesc_entry *d = &pd->entries[i];
        if (d->kind != HOTPE_DESC_PATCH) {
            s = check_one(c, d, &refs[n]);
            n += s == HP_OK;
        } else if (*patch) {
            snprintf(c->object, sizeof c->object, "%s", c->patch_path);
            snprintf(c->detail, sizeof c->detail, "two HOTPE_PATCH records");
            s = HP_E_PATCHDESC;
        } else {
            *patch = d;
        }
    }
    /* A duplicate among the references checked so far came before any later refusal. */
    HP_CHECK(check_duplicates(c, refs, n));
    HP_CHECK(s);
    c->detail[0] = 0;
    uint32_t replaces = 0;
    for (uint32_t i = 0; i < n; i++)
        replaces += refs[i].d->kind == HOTPE_DESC_REPLACE;
    if (!*patch) {
        snprintf(c->object, sizeof c->object, "%s", c->patch_path);
        return HP_E_BUILD_NO_PATCH;
    }
    if (replaces == 0) {
        snprintf(c->object, sizeof c->object, "%s", c->patch_path);
        return HP_E_BUILD_NO_REPLACE;
    }
    *nrefs = n;
    return HP_OK;
}

static hp_status write_file(const char *path, const uint8_t *data, size_t size,
                            const char **detail)
{
    size_t len = strlen(path);
    char *tmp = malloc(len + 8);
    if (!tmp)
        return HP_E_NOMEM;
    memcpy(tmp, path, len);
    memcpy(tmp + len, ".tmp", 5);
    FILE *f = fopen(tmp, "wb");
    bool ok = f && fwrite(data, 1, size, f) == size;
    if (f && fclose(f) != 0)
        ok = false;
    if (ok && rename(tmp, path) != 0)
        ok = false;
    if (!ok) {
        remove(tmp);
        *detail = "cannot write the output";
    }
    free(tmp);
    return ok ? HP_OK : HP_E_IO_WRITE;
}

/* Every entry of the base, with the map file's symbols as entries too (more function bounds
 * for the entry form's check). */
static hp_status analyze_base(build_ctx *c)
{
    uint32_t n = 0, *more = NULL;
    const char **names = NULL;
    if (c->names.map_count) {
        more = hp_arena_array(c->arena, c->names.map_count, sizeof *more);
        names = hp_arena_array(c->arena, c->names.map_count, sizeof *names);
        if (!more || !names)
            return HP_E_NOMEM;
    }
    for (uint32_t i = 0; i < c->names.map_count; i++) {
        uint64_t va = c->names.map[i].va;
        if (va > c->base.image_base && va - c->base.image_base < c->base.size_of_image) {
            more[n] = (uint32_t)(va - c->base.image_base);
            names[n++] = c->names.map[i].name;
        }
    }
    HP_CHECK(hp_site_analyze_with(&c->sctx, &c->base, more, names, n, c->arena, &c->sites));
    /* every entry bounds the function before it (function hashes) */
    uint32_t *entries = hp_arena_array(c->arena, c->sites.count ? c->sites.count : 1,
                                       sizeof *entries);
    if (!entries)
        return HP_E_NOMEM;
    for (uint32_t i = 0; i < c->sites.count; i++)
        entries[i] = c->sites.sites[i].rva;
    return hp_pe_fn_bounds_make(&c->base, entries, c->sites.count, c->arena, &c->bounds);
}

static hp_status run(build_ctx *c, const char *map_path, uint8_t **out, size_t *out_size)
{
    *out = NULL;
    hp_arena *A = c->arena;
    snprintf(c->object, sizeof c->object, "%s", c->patch_path);
    if (c->patch.machine != c->base.machine) {
        snprintf(c->detail, sizeof c->detail, "patch %s, base %s", hp_pe_machine_name(&c->patch),
                 hp_pe_machine_name(&c->base));
        return HP_E_BUILD_MACHINE;
    }
    if (hp_pe_section_by_name(&c->patch, HP_HOTP_SECTION_NAME))
        return HP_E_BUILD_ALREADY;
    hp_pe_patchdesc pd;
    HP_CHECK(hp_pe_patchdesc_parse(&c->patch, A, &pd));
    snprintf(c->object, sizeof c->object, "%s", c->base_path);
    HP_CHECK(hp_names_init(&c->names, &c->base, A));
    HP_CHECK(hp_site_ctx_init(&c->sctx, &c->base));
    if (map_path) {
        snprintf(c->object, sizeof c->object, "%s", map_path);
        HP_CHECK(hp_names_load_map(&c->names, A, map_path, c->detail, sizeof c->detail));
    }
    snprintf(c->object, sizeof c->object, "%s", c->base_path);
    HP_CHECK(analyze_base(c));
    hp_pe_relocs rel; /* read again by the hashes: a bad directory is the base's fault */
    HP_CHECK(hp_pe_relocs_parse(&c->base, A, &rel));

    hp_hotp1_ref *refs = pd.count ? hp_arena_array(A, pd.count, sizeof *refs) : NULL;
    if (pd.count && !refs)
        return HP_E_NOMEM;
    uint32_t nrefs = 0;
    const hp_pe_patchdesc_entry *patch;
    HP_CHECK(check_refs(c, &pd, refs, &nrefs, &patch));
    snprintf(c->object, sizeof c->object, "%s", c->patch_path);
    /* caught here, not as "target module is not loaded" at apply time */
    const char *module = c->target_name ? c->target_name : c->base_path;
    if (!hp_patch_same_module(module, patch->name)) {
        snprintf(c->detail, sizeof c->detail, "HOTPE_PATCH(\"%.60s\"), base %.60s%s", patch->name,
                 module, c->target_name ? "" : "; --target-name NAME if the file was renamed");
        return HP_E_BUILD_TARGET_NAME;
    }

    hp_hotp1_input in = { &c->base, &c->patch, refs, nrefs, patch };
    const hp_hotp1_ref *culprit;
    hp_status s = hp_hotp1_stamp(&in, A, out, out_size, &culprit);
    if (s == HP_E_RVA && culprit)
        set_object(c, culprit->d->name);
    else if (s == HP_E_BUILD_SLOT && culprit)
        snprintf(c->detail, sizeof c->detail, "slot of %s at RVA 0x%x", culprit->d->name,
                 culprit->d->object_rva);
    return s;
}

int hp_verb_build(int argc, char **argv)
{
    static const hp_args_opt opts[] = { { "--base", true }, { "-o", true }, { "--map", true },
                                        { "--target-name", true }, { NULL, false } };
    const char *base_path = NULL, *patch_path = NULL, *out_path = NULL, *map_path = NULL;
    const char *target_name = NULL;
    const char **slot[] = { &base_path, &out_path, &map_path, &target_name };
    hp_args a;
    const char *v;
    int k;
    hp_args_init(&a, argc, argv);
    while ((k = hp_args_next(&a, opts, &v)) != HP_ARGS_END) {
        if (k == HP_ARGS_BAD)
            return HP_EXIT_USAGE;
        if (k >= 0)
            *slot[k] = v;
        else if (k == HP_ARGS_OPERAND && patch_path)
            return hp_cli_usage("build", "one PATCH.dll only");
        else if (k == HP_ARGS_OPERAND)
            patch_path = v;
    }
    if (!base_path || !patch_path)
        return hp_cli_usage("build", "needs --base BASE and PATCH.dll");
    if (!out_path)
        out_path = patch_path;

    uint8_t *bdata = NULL, *pdata = NULL, *img = NULL;
    size_t bsize = 0, psize = 0, img_size = 0;
    const char *detail = NULL;
    hp_status s = hp_cli_read_file(base_path, &bdata, &bsize, &detail);
    if (s != HP_OK)
        return hp_cli_fail(base_path, s, detail);
    s = hp_cli_read_file(patch_path, &pdata, &psize, &detail);
    if (s != HP_OK) {
        free(bdata);
        return hp_cli_fail(patch_path, s, detail);
    }
    hp_arena arena = HP_ARENA_INIT;
    build_ctx *c = calloc(1, sizeof *c);
    int rc;
    if (!c) {
        rc = hp_cli_fail(patch_path, HP_E_NOMEM, NULL);
        goto done;
    }
    c->base_path = base_path;
    c->patch_path = patch_path;
    c->target_name = target_name;
    c->arena = &arena;
    s = hp_pe_parse(&c->base, &arena, bdata, bsize, HP_PE_LAYOUT_FILE);
    if (s != HP_OK) {
        rc = hp_cli_fail(base_path, s, NULL);
        goto done;
    }
    s = hp_pe_parse(&c->patch, &arena, pdata, psize, HP_PE_LAYOUT_FILE);
    if (s != HP_OK) {
        rc = hp_cli_fail(patch_path, s, NULL);
        goto done;
    }
    s = run(c, map_path, &img, &img_size);
    if (s != HP_OK) {
        rc = hp_cli_fail(c->object, s, c->detail[0] ? c->detail : NULL);
        goto done;
    }
    s = write_file(out_path, img, img_size, &detail);
    rc = s == HP_OK ? HP_EXIT_OK : hp_cli_fail(out_path, s, detail);
done:
    free(img);
    free(c);
    hp_arena_free(&arena);
    free(bdata);
    free(pdata);
    return rc;
}
