/*
 * hotpe info PATCH.dll [--json]: a patch image's metadata (README.md, docs/sdk.md):
 * target, identity, sequence, description, hooks, validations, fixups, references and
 * callbacks, function hashes. Reads the legacy .hotp1 structures, hotpe's build record, the SDK
 * descriptors and
 * the modern IMAGE_HOT_PATCH_INFO, and says where the legacy and modern structures disagree.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "hotpe/engine/patch.h"
#include "hotpe/engine/sha256.h"
#include "hotpe/pe/patchdesc.h"
#include "hotpe/pe/pe.h"
#include "hotpe/pe/site.h"

const char hp_verb_info_help[] =
    "usage: hotpe info PATCH.dll [--json]\n"
    "\n"
    "Prints a patch image's metadata: target module, the base identity it was built for\n"
    "(TimeDateStamp, SizeOfImage, CheckSum, CodeView GUID and age), sequence, description,\n"
    "hooks (base function, RVA, kind, replacement), validations (RVA and expected bytes),\n"
    "fixups, references to base data and functions, callbacks, and the SHA-256 of each\n"
    "replaced function's bytes in the base (what check and apply compare with the running\n"
    "module). Reads the legacy .hotp1 structures and the modern IMAGE_HOT_PATCH_INFO, and lists\n"
    "every disagreement between them under \"disagreements\".\n"
    "\n"
    "  --json   one JSON document: {\"image\", \"machine\", \"target\", \"sequence\",\n"
    "           \"description\", \"identity\", \"modern\", \"hooks\", \"validations\", \"fixups\",\n"
    "           \"references\", \"callbacks\", \"function_hashes\", \"disagreements\"}\n"
    "           (every key: docs/json.md)\n"
    "\n"
    "Exit codes: 0 done, 1 not a patch (no .hotp1) or damaged metadata (the status says which\n"
    "structure), 2 bad usage.\n";

typedef struct info {
    hp_pe pe;
    hp_pe_hotp hotp;
    hp_pe_patchbuild pb;
    hp_pe_patchdesc pd;
    hp_pe_loadcfg lc;
    hp_pe_hotpatch_info hi;
    const char *description;
    char name[HP_PATCH_NAME_MAX]; /* the patch's name (engine/patch.h) */
    const char *problems[8];
    unsigned nproblems;
} info;

static const char *hook_kind(uint16_t t)
{
    switch (t) {
    case HP_HOTP_Hook_VA32: return "VA32";
    case HP_HOTP_Hook_X86_JMP: return "X86_JMP";
    case HP_HOTP_Hook_PCREL32: return "PCREL32";
    case HP_HOTP_Hook_X86_JMP2B: return "X86_JMP2B";
    case HP_HOTP_Hook_VA64: return "VA64";
    case HP_HOTP_Hook_AMD64_IND: return "AMD64_IND";
    case HP_HOTP_Hook_AMD64_CNT: return "AMD64_CNT";
    default: return "?";
    }
}

static const char *fixup_kind(uint8_t t)
{
    switch (t) {
    case HP_HOTP_Fixup_VA32: return "VA32";
    case HP_HOTP_Fixup_PC32: return "PC32";
    case HP_HOTP_Fixup_VA64: return "VA64";
    case HP_HOTP_Fixup_PC64: return "PC64";
    default: return "?";
    }
}

static const char *source_name(uint8_t s)
{
    switch (s) {
    case HOTPE_SRC_EXPORT: return "export";
    case HOTPE_SRC_SYMBOL: return "symbol";
    case HOTPE_SRC_MAP: return "map";
    default: return NULL;
    }
}

/* The build reference of kind at base_rva, or NULL. */
static const hotpe_build_ref *ref_at(const info *in, uint32_t kind, uint32_t base_rva,
                                     const char **name)
{
    for (uint32_t i = 0; in->pb.present && i < in->pb.rec.RefCount; i++)
        if (in->pb.refs[i].Kind == kind && in->pb.refs[i].BaseRva == base_rva) {
            *name = in->pb.ref_names[i];
            return &in->pb.refs[i];
        }
    return NULL;
}

/* The SDK name of the patch function at rva (the REPLACE record's text), or NULL. */
static const char *patch_fn_name(const info *in, uint32_t rva)
{
    for (uint32_t i = 0; i < in->pd.count; i++)
        if (in->pd.entries[i].function_rva == rva && in->pd.entries[i].kind == HOTPE_DESC_REPLACE)
            return in->pd.entries[i].text;
    return NULL;
}

/* The base function a hook belongs to: its entry is HookRva (JMP2B) or HookRva + size. */
static const char *hook_base_name(const info *in, const hp_pe_hotp_hook *h, uint32_t *entry)
{
    uint32_t e = h->type == HP_HOTP_Hook_X86_JMP2B
                     ? h->hook_rva
                     : h->hook_rva + (h->options & HP_HOTP_HOOK_OPTIONS_SIZE_MASK);
    *entry = e;
    const char *n = NULL;
    return ref_at(in, HOTPE_DESC_REPLACE, e, &n) ? n : NULL;
}

static void check_agreement(info *in)
{
    if (!in->hi.present) {
        in->problems[in->nproblems++] = "no IMAGE_HOT_PATCH_INFO (load config HotPatchTableOffset)";
        return;
    }
    if (in->hi.base_count != 1) {
        in->problems[in->nproblems++] = "IMAGE_HOT_PATCH_INFO lists other than one base";
        return;
    }
    const HP_IMAGE_HOT_PATCH_BASE *b = &in->hi.bases[0];
    if (in->pb.present) {
        if (b->OriginalTimeDateStamp != in->pb.rec.BaseTimeDateStamp)
            in->problems[in->nproblems++] = "TimeDateStamp: IMAGE_HOT_PATCH_BASE and build record differ";
        if (b->OriginalCheckSum != in->pb.rec.BaseCheckSum)
            in->problems[in->nproblems++] = "CheckSum: IMAGE_HOT_PATCH_BASE and build record differ";
        if (in->hi.info.SequenceNumber != in->pb.rec.Sequence ||
            b->SequenceNumber != in->pb.rec.Sequence)
            in->problems[in->nproblems++] = "SequenceNumber: IMAGE_HOT_PATCH_INFO/BASE and build record differ";
        uint32_t want = in->pe.machine == HP_IMAGE_FILE_MACHINE_AMD64
                            ? HP_IMAGE_HOT_PATCH_BASE_MACHINE_AMD64
                            : HP_IMAGE_HOT_PATCH_BASE_MACHINE_I386;
        if (!(b->Flags & want))
            in->problems[in->nproblems++] = "IMAGE_HOT_PATCH_BASE machine flag does not match the image";
    }
    if (b->PatchTable && b->PatchTable != in->hotp.header_rva)
        in->problems[in->nproblems++] = "IMAGE_HOT_PATCH_BASE.PatchTable is not the .hotp1 header";
}

static void hex(char *buf, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sprintf(buf + 2 * i, "%02x", p[i]);
    buf[2 * n] = 0;
}

/* --json: the base's identity from the build record. */
static void json_identity(const info *in, hp_json *j)
{
    hp_json_key(j, "identity");
    if (in->pb.present) {
        hp_json_object_begin(j);
        hp_json_key(j, "timestamp");
        hp_json_u64(j, in->pb.rec.BaseTimeDateStamp);
        hp_json_key(j, "size_of_image");
        hp_json_u64(j, in->pb.rec.BaseSizeOfImage);
        hp_json_key(j, "checksum");
        hp_json_u64(j, in->pb.rec.BaseCheckSum);
        hp_json_key(j, "codeview_guid");
        if (in->pb.rec.Flags & HOTPE_BUILD_F_CODEVIEW)
            hp_json_hex(j, in->pb.rec.BaseGuid, 16);
        else
            hp_json_null(j);
        hp_json_key(j, "codeview_age");
        if (in->pb.rec.Flags & HOTPE_BUILD_F_CODEVIEW)
            hp_json_u64(j, in->pb.rec.BaseAge);
        else
            hp_json_null(j);
        hp_json_object_end(j);
    } else {
        hp_json_null(j);
    }
}

/* --json: IMAGE_HOT_PATCH_INFO and its bases. */
static void json_modern(const info *in, hp_json *j)
{
    hp_json_key(j, "modern");
    if (in->hi.present) {
        hp_json_object_begin(j);
        hp_json_key(j, "version");
        hp_json_u64(j, in->hi.info.Version);
        hp_json_key(j, "sequence");
        hp_json_u64(j, in->hi.info.SequenceNumber);
        hp_json_key(j, "bases");
        hp_json_array_begin(j);
        for (uint32_t i = 0; i < in->hi.base_count; i++) {
            const HP_IMAGE_HOT_PATCH_BASE *b = &in->hi.bases[i];
            hp_json_object_begin(j);
            hp_json_key(j, "sequence");
            hp_json_u64(j, b->SequenceNumber);
            hp_json_key(j, "flags");
            hp_json_u64(j, b->Flags);
            hp_json_key(j, "timestamp");
            hp_json_u64(j, b->OriginalTimeDateStamp);
            hp_json_key(j, "checksum");
            hp_json_u64(j, b->OriginalCheckSum);
            hp_json_key(j, "patch_table");
            hp_json_u64(j, b->PatchTable);
            hp_json_object_end(j);
        }
        hp_json_array_end(j);
        hp_json_object_end(j);
    } else {
        hp_json_null(j);
    }
}

/* --json: the .hotp1 hooks, with the base function each one belongs to. */
static void json_hooks(const info *in, hp_json *j)
{
    hp_json_key(j, "hooks");
    hp_json_array_begin(j);
    for (uint32_t i = 0; i < in->hotp.hook_count; i++) {
        const hp_pe_hotp_hook *h = &in->hotp.hooks[i];
        uint32_t entry;
        const char *base = hook_base_name(in, h, &entry);
        hp_json_object_begin(j);
        hp_json_key(j, "base_symbol");
        hp_json_str(j, base);
        hp_json_key(j, "entry_rva");
        hp_json_u64(j, entry);
        hp_json_key(j, "rva");
        hp_json_u64(j, h->hook_rva);
        hp_json_key(j, "kind");
        hp_json_str(j, hook_kind(h->type));
        hp_json_key(j, "size");
        hp_json_u64(j, h->options & HP_HOTP_HOOK_OPTIONS_SIZE_MASK);
        if (h->type == HP_HOTP_Hook_X86_JMP2B) {
            hp_json_key(j, "disp8");
            hp_json_i64(j, (int32_t)h->hotp_rva);
        } else {
            hp_json_key(j, "replacement_rva");
            hp_json_u64(j, h->hotp_rva);
            hp_json_key(j, "replacement");
            hp_json_str(j, patch_fn_name(in, h->hotp_rva));
        }
        hp_json_key(j, "validation_rva");
        hp_json_u64(j, h->validation_rva);
        hp_json_object_end(j);
    }
    hp_json_array_end(j);
}

/* --json: the validations and their bytes. */
static void json_validations(const info *in, hp_json *j)
{
    hp_json_key(j, "validations");
    hp_json_array_begin(j);
    for (uint32_t i = 0; i < in->hotp.validation_count; i++) {
        const hp_pe_hotp_validation *v = &in->hotp.validations[i];
        hp_json_object_begin(j);
        hp_json_key(j, "target_rva");
        hp_json_u64(j, v->target_rva);
        hp_json_key(j, "source_rva");
        hp_json_u64(j, v->source_rva);
        hp_json_key(j, "hook_target");
        hp_json_bool(j, (v->options & HP_HOTP_Valid_Hook_Target) != 0);
        hp_json_key(j, "bytes");
        hp_json_hex(j, v->bytes, v->byte_count);
        hp_json_object_end(j);
    }
    hp_json_array_end(j);
}

/* --json: the fixup regions' entries. */
static void json_fixups(const info *in, hp_json *j)
{
    hp_json_key(j, "fixups");
    hp_json_array_begin(j);
    for (uint32_t i = 0; i < in->hotp.fixup_count; i++) {
        hp_json_object_begin(j);
        hp_json_key(j, "rva");
        hp_json_u64(j, in->hotp.fixups[i].rva);
        hp_json_key(j, "type");
        hp_json_str(j, fixup_kind(in->hotp.fixups[i].type));
        hp_json_object_end(j);
    }
    hp_json_array_end(j);
}

/* --json: the build record's resolved references. */
static void json_references(const info *in, hp_json *j)
{
    hp_json_key(j, "references");
    hp_json_array_begin(j);
    for (uint32_t i = 0; in->pb.present && i < in->pb.rec.RefCount; i++) {
        const hotpe_build_ref *r = &in->pb.refs[i];
        if (r->Kind == HOTPE_DESC_ON_APPLY || r->Kind == HOTPE_DESC_ON_REVERT)
            continue;
        hp_json_object_begin(j);
        hp_json_key(j, "kind");
        hp_json_str(j, hp_pe_patchdesc_kind_name(r->Kind));
        hp_json_key(j, "name");
        hp_json_str(j, in->pb.ref_names[i]);
        hp_json_key(j, "base_rva");
        hp_json_u64(j, r->BaseRva);
        hp_json_key(j, "patch_rva");
        hp_json_u64(j, r->PatchRva);
        hp_json_key(j, "source");
        hp_json_str(j, source_name(r->Source));
        if (r->Kind == HOTPE_DESC_REPLACE || r->Kind == HOTPE_DESC_ORIGINAL) {
            hp_json_key(j, "class");
            hp_json_str(j, hp_site_class_name((hp_site_class)r->SiteClass));
        }
        if (r->Kind == HOTPE_DESC_ORIGINAL) {
            hp_json_key(j, "stub");
            hp_json_bool(j, (r->Flags & HOTPE_REF_F_STUB) != 0);
        }
        hp_json_object_end(j);
    }
    hp_json_array_end(j);
}

/* --json: HOTPE_ON_APPLY / HOTPE_ON_REVERT. */
static void json_callbacks(const info *in, hp_json *j)
{
    hp_json_key(j, "callbacks");
    hp_json_array_begin(j);
    for (uint32_t i = 0; i < in->pd.count; i++) {
        const hp_pe_patchdesc_entry *e = &in->pd.entries[i];
        if (e->kind != HOTPE_DESC_ON_APPLY && e->kind != HOTPE_DESC_ON_REVERT)
            continue;
        hp_json_object_begin(j);
        hp_json_key(j, "kind");
        hp_json_str(j, hp_pe_patchdesc_kind_name(e->kind));
        hp_json_key(j, "name");
        hp_json_str(j, e->name);
        hp_json_key(j, "rva");
        hp_json_u64(j, e->function_rva);
        hp_json_object_end(j);
    }
    hp_json_array_end(j);
}

/* The name of the replaced function at base_rva, or NULL. */
static const char *replaced_name(const info *in, uint32_t base_rva)
{
    const char *n = NULL;
    return ref_at(in, HOTPE_DESC_REPLACE, base_rva, &n) ? n : NULL;
}

/* --json: the SHA-256 of each replaced function's bytes (build record version 4). */
static void json_function_hashes(const info *in, hp_json *j)
{
    hp_json_key(j, "function_hashes");
    hp_json_array_begin(j);
    for (uint32_t i = 0; in->pb.present && i < in->pb.rec.HashCount; i++) {
        const hotpe_build_hash *h = &in->pb.hashes[i];
        hp_json_object_begin(j);
        hp_json_key(j, "rva");
        hp_json_u64(j, h->BaseRva);
        hp_json_key(j, "name");
        hp_json_str(j, replaced_name(in, h->BaseRva));
        hp_json_key(j, "length");
        hp_json_u64(j, h->Length);
        hp_json_key(j, "sha256");
        hp_json_hex(j, h->Sha256, sizeof h->Sha256);
        hp_json_object_end(j);
    }
    hp_json_array_end(j);
}

static void print_json(const info *in, const char *path)
{
    hp_json j;
    hp_json_doc_begin(&j, stdout);
    hp_json_key(&j, "image");
    hp_json_str(&j, path);
    hp_json_key(&j, "machine");
    hp_json_str(&j, hp_pe_machine_name(&in->pe));
    hp_json_key(&j, "target");
    hp_json_str(&j, in->hotp.target_name);
    hp_json_key(&j, "name");
    hp_json_str(&j, in->name);
    hp_json_key(&j, "sequence");
    if (in->pb.present)
        hp_json_u64(&j, in->pb.rec.Sequence);
    else
        hp_json_null(&j);
    hp_json_key(&j, "description");
    hp_json_str(&j, in->description);
    hp_json_key(&j, "orig_hotp_base");
    hp_json_u64(&j, in->hotp.orig_hotp_base);
    hp_json_key(&j, "orig_target_base");
    hp_json_u64(&j, in->hotp.orig_target_base);
    hp_json_key(&j, "module_id_method");
    hp_json_u64(&j, in->hotp.module_id_method);

    json_identity(in, &j);
    json_modern(in, &j);
    json_hooks(in, &j);
    json_validations(in, &j);
    json_fixups(in, &j);
    json_references(in, &j);
    json_callbacks(in, &j);
    json_function_hashes(in, &j);

    hp_json_key(&j, "disagreements");
    hp_json_array_begin(&j);
    for (unsigned i = 0; i < in->nproblems; i++)
        hp_json_str(&j, in->problems[i]);
    hp_json_array_end(&j);
    hp_json_doc_end(&j);
}

static void print_text(const info *in, const char *path)
{
    char buf[2 * 64 + 1];
    printf("%s: %s patch for %s\n", path, hp_pe_machine_name(&in->pe),
           in->hotp.target_name ? in->hotp.target_name : "(no target name)");
    if (in->pb.present)
        printf("sequence     %u\n", in->pb.rec.Sequence);
    printf("name         %s\n", in->name);
    printf("description  %s\n", in->description ? in->description : "(none)");
    if (in->pb.present) {
        printf("identity     TimeDateStamp 0x%08x  SizeOfImage 0x%x  CheckSum 0x%08x",
               in->pb.rec.BaseTimeDateStamp, in->pb.rec.BaseSizeOfImage, in->pb.rec.BaseCheckSum);
        if (in->pb.rec.Flags & HOTPE_BUILD_F_CODEVIEW) {
            hex(buf, in->pb.rec.BaseGuid, 16);
            printf("  CodeView %s age %u", buf, in->pb.rec.BaseAge);
        }
        printf("\n");
    } else {
        printf("identity     (no hotpe build record)\n");
    }
    printf("bases        patch 0x%llx, target 0x%llx\n",
           (unsigned long long)in->hotp.orig_hotp_base, (unsigned long long)in->hotp.orig_target_base);
    printf("\nhooks (%u)\n", in->hotp.hook_count);
    for (uint32_t i = 0; i < in->hotp.hook_count; i++) {
        const hp_pe_hotp_hook *h = &in->hotp.hooks[i];
        uint32_t entry;
        const char *base = hook_base_name(in, h, &entry);
        printf("  %-24s RVA 0x%08x  %-9s %u bytes  ", base ? base : "?", h->hook_rva,
               hook_kind(h->type), h->options & HP_HOTP_HOOK_OPTIONS_SIZE_MASK);
        if (h->type == HP_HOTP_Hook_X86_JMP2B) {
            printf("jmp %d\n", (int)(int32_t)h->hotp_rva);
        } else {
            const char *r = patch_fn_name(in, h->hotp_rva);
            printf("-> %s (RVA 0x%x)\n", r ? r : "?", h->hotp_rva);
        }
    }
    printf("\nvalidations (%u)\n", in->hotp.validation_count);
    for (uint32_t i = 0; i < in->hotp.validation_count; i++) {
        const hp_pe_hotp_validation *v = &in->hotp.validations[i];
        size_t n = v->byte_count < 64 ? v->byte_count : 64;
        hex(buf, v->bytes, n);
        printf("  RVA 0x%08x  %s\n", v->target_rva, buf);
    }
    printf("\nfixups (%u)\n", in->hotp.fixup_count);
    for (uint32_t i = 0; i < in->hotp.fixup_count; i++)
        printf("  RVA 0x%08x  %s\n", in->hotp.fixups[i].rva, fixup_kind(in->hotp.fixups[i].type));
    printf("\nreferences\n");
    for (uint32_t i = 0; in->pb.present && i < in->pb.rec.RefCount; i++) {
        const hotpe_build_ref *r = &in->pb.refs[i];
        const char *src = source_name(r->Source);
        printf("  %-10s %-24s base RVA 0x%08x  patch RVA 0x%08x  %s%s\n",
               hp_pe_patchdesc_kind_name(r->Kind), in->pb.ref_names[i] ? in->pb.ref_names[i] : "?",
               r->BaseRva, r->PatchRva, src ? src : "",
               (r->Flags & HOTPE_REF_F_STUB) ? " (stub at apply time)" : "");
    }
    if (in->pb.present && in->pb.rec.HashCount)
        printf("\n");
    for (uint32_t i = 0; in->pb.present && i < in->pb.rec.HashCount; i++) {
        const hotpe_build_hash *h = &in->pb.hashes[i];
        const char *name = replaced_name(in, h->BaseRva);
        hex(buf, h->Sha256, sizeof h->Sha256);
        printf("hash  %s  RVA 0x%08x  %u bytes  sha256 %s\n", name ? name : "?", h->BaseRva,
               h->Length, buf);
    }
    for (unsigned i = 0; i < in->nproblems; i++)
        printf("disagreement: %s\n", in->problems[i]);
}

int hp_verb_info(int argc, char **argv)
{
    const char *path;
    bool json, unused;
    int usage = hp_cli_file_args("PATCH.dll", NULL, argc, argv, &path, &json, &unused);
    if (usage)
        return usage;
    uint8_t *data;
    size_t size;
    const char *detail;
    hp_status s = hp_cli_read_file(path, &data, &size, &detail);
    if (s != HP_OK)
        return hp_cli_fail(path, s, detail);
    hp_arena arena = HP_ARENA_INIT;
    info *in = calloc(1, sizeof *in);
    s = in ? hp_pe_parse(&in->pe, &arena, data, size, HP_PE_LAYOUT_FILE) : HP_E_NOMEM;
    if (s == HP_OK)
        s = hp_pe_hotp_parse(&in->pe, &arena, &in->hotp);
    if (s == HP_OK && !in->hotp.present)
        s = HP_E_NOT_A_PATCH;
    if (s == HP_OK)
        s = hp_pe_patchbuild_parse(&in->pe, &arena, in->hotp.header_rva + sizeof(HP_HOTPATCH_HEADER),
                                   &in->pb);
    if (s == HP_OK)
        s = hp_pe_patchdesc_parse(&in->pe, &arena, &in->pd);
    if (s == HP_OK)
        s = hp_pe_loadcfg_parse(&in->pe, &arena, &in->lc);
    if (s == HP_OK)
        s = hp_pe_hotpatch_info_parse(&in->pe, &in->lc, &arena, &in->hi);
    int rc;
    if (s == HP_OK) {
        for (uint32_t i = 0; i < in->pd.count; i++)
            if (in->pd.entries[i].kind == HOTPE_DESC_PATCH)
                in->description = in->pd.entries[i].text;
        check_agreement(in);
        uint8_t sha[HP_SHA256_LEN];
        s = hp_sha256_of(data, size, sha);
        hp_patch_name(in->name, in->hotp.target_name, in->pb.present ? in->pb.rec.Sequence : 0,
                      sha);
    }
    if (s != HP_OK) {
        rc = hp_cli_fail(path, s, NULL);
    } else {
        if (json)
            print_json(in, path);
        else
            print_text(in, path);
        rc = fflush(stdout) == 0 ? HP_EXIT_OK : hp_cli_fail("stdout", HP_E_IO_WRITE, NULL);
    }
    free(in);
    hp_arena_free(&arena);
    free(data);
    return rc;
}
