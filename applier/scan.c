/*
 * hotpe scan IMAGE [--json]: the functions of an image and whether each can be hotpatched
 * (README.md, docs/scan-example.md). The analysis is pe/site.c; this file only prints it.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "hotpe/pe/pe.h"
#include "hotpe/engine/plan.h"
#include "hotpe/pe/site.h"

const char hp_verb_scan_help[] =
    "usage: hotpe scan IMAGE [--json]\n"
    "\n"
    "Lists the functions of a PE image (x86 or x64) and whether each can be hotpatched.\n"
    "Entries come from exports, .pdata, COFF function symbols, the CFG function table and the\n"
    "entry point, merged by RVA. For each: the CC/90 padding before it, the first instruction\n"
    "(decoded by Zydis) and a class:\n"
    "  not-code     not in an executable section, or not backed by file bytes\n"
    "  undecodable  the first instruction does not decode\n"
    "  short-first  the first instruction is 1 byte (no room for the 2-byte entry jump)\n"
    "  no-padding   fewer than 5 padding bytes\n"
    "  prologue     an explicit hotpatch marker: 8B FF, 66 90 or 48 8D A4 24 00 00 00 00\n"
    "  padded       any other first instruction of 2 bytes or more\n"
    "  trampoline   short-first or no-padding, but the first instructions covering a 5-byte\n"
    "               jump can move to a trampoline (docs/trampolines.md)\n"
    "prologue, padded and trampoline can be patched; WRITE says what the applier writes there.\n"
    "A short-first or no-padding function that cannot take a trampoline says why: a byte that\n"
    "does not decode, too-short, unmovable (a relative branch in the moved bytes), or\n"
    "branch-into (a branch lands inside them), with the deciding instruction's RVA.\n"
    "\n"
    "  --json   one JSON document: {\"image\", \"machine\", \"functions\": [{\"rva\", \"name\",\n"
    "           \"sources\", \"class\", \"padding\", \"first_insn_len\", \"first_insn\" (hex),\n"
    "           \"trampoline\" (the check's verdict, or null when not run), \"trampoline_at\"\n"
    "           (a refusal's deciding RVA, or null), \"moved\" (bytes a trampoline takes),\n"
    "           \"write\" (what the applier writes, or null)}], \"exports\", \"exports_patchable\"}\n"
    "\n"
    "Exit codes: 0 done, 1 the image cannot be read or parsed (one line says why), 2 bad usage.\n";

/* What the applier would write at a patchable site (plan.h): the padding jump's form, and the
 * entry's 2 bytes; or, the entry form, its jump's form. The jumps' own bytes depend on where
 * the replacement and the slot or stub are, which only the applier knows: only the forms and
 * a hotpatch site's entry bytes (EB back to its padding) are printed. */
static bool plan_of(const hp_pe *pe, const hp_site *site, hp_plan_form *form, hp_txn_site *out)
{
    uint64_t entry = pe->image_base + site->rva;
    hp_plan_site ps = { .entry = entry, .replacement = entry, .aux = entry };
    if (!hp_site_class_patchable(site->cls))
        return false;
    if (site->cls == HP_SITE_TRAMP)
        *form = hp_plan_entry_form(pe->pe32plus);
    else if (hp_plan_form_for(pe->pe32plus, site->padding, form) != HP_OK)
        return false;
    ps.form = *form;
    return hp_plan_make(&ps, out) == HP_OK;
}

/* Exported functions, and how many of them can be patched. */
static void export_coverage(const hp_site_list *list, uint32_t *exported, uint32_t *patchable)
{
    *exported = *patchable = 0;
    for (uint32_t i = 0; i < list->count; i++)
        if (list->sites[i].sources & HP_SITE_SRC_EXPORT) {
            (*exported)++;
            *patchable += hp_site_class_patchable(list->sites[i].cls);
        }
}

static void print_sources(FILE *out, unsigned sources, bool json, hp_json *j)
{
    bool first = true;
    for (unsigned bit = 1; bit < (1u << HP_SITE_SOURCE_COUNT); bit <<= 1) {
        if (!(sources & bit))
            continue;
        if (json) {
            hp_json_str(j, hp_site_source_name(bit));
        } else {
            fprintf(out, "%s%s", first ? "" : ",", hp_site_source_name(bit));
            first = false;
        }
    }
}

static void print_json(const char *path, const hp_pe *pe, const hp_site_list *list)
{
    hp_json j;
    hp_json_doc_begin(&j, stdout);
    hp_json_key(&j, "image");
    hp_json_str(&j, path);
    hp_json_key(&j, "machine");
    hp_json_str(&j, hp_pe_machine_name(pe));
    hp_json_key(&j, "functions");
    hp_json_array_begin(&j);
    for (uint32_t i = 0; i < list->count; i++) {
        const hp_site *s = &list->sites[i];
        hp_json_object_begin(&j);
        hp_json_key(&j, "rva");
        hp_json_u64(&j, s->rva);
        hp_json_key(&j, "name");
        hp_json_str(&j, s->name);
        hp_json_key(&j, "sources");
        hp_json_array_begin(&j);
        print_sources(NULL, s->sources, true, &j);
        hp_json_array_end(&j);
        hp_json_key(&j, "class");
        hp_json_str(&j, hp_site_class_name(s->cls));
        hp_json_key(&j, "padding");
        hp_json_u64(&j, s->padding);
        hp_json_key(&j, "first_insn_len");
        hp_json_u64(&j, s->first_insn_len);
        hp_json_key(&j, "first_insn");
        char hex[2 * HP_SITE_INSN_MAX + 1];
        for (unsigned k = 0; k < s->first_insn_len; k++)
            snprintf(hex + 2 * k, 3, "%02x", s->insn[k]);
        hex[2 * s->first_insn_len] = '\0';
        hp_json_str(&j, hex);
        bool ran = s->tramp < HP_TRAMP_VERDICT_COUNT;
        hp_json_key(&j, "trampoline");
        if (ran)
            hp_json_str(&j, hp_tramp_verdict_name((hp_tramp_verdict)s->tramp));
        else
            hp_json_null(&j);
        hp_json_key(&j, "trampoline_at");
        if (ran && s->tramp != HP_TRAMP_MOVABLE)
            hp_json_u64(&j, s->tramp_at);
        else
            hp_json_null(&j);
        hp_json_key(&j, "moved");
        hp_json_u64(&j, s->moved_len);
        hp_json_key(&j, "write");
        hp_plan_form form;
        hp_txn_site plan;
        if (plan_of(pe, s, &form, &plan) && hp_plan_form_is_entry(form)) {
            hp_json_object_begin(&j);
            hp_json_key(&j, "entry");
            hp_json_str(&j, hp_plan_form_text(form));
            hp_json_key(&j, "to");
            hp_json_str(&j, hp_plan_form_target(form));
            hp_json_object_end(&j);
        } else if (plan_of(pe, s, &form, &plan)) {
            char entry[8];
            snprintf(entry, sizeof entry, "%02X %02X", plan.new_entry[0], plan.new_entry[1]);
            hp_json_object_begin(&j);
            hp_json_key(&j, "padding_rva");
            hp_json_u64(&j, s->rva - plan.pad_len);
            hp_json_key(&j, "padding");
            hp_json_str(&j, hp_plan_form_text(form));
            hp_json_key(&j, "to");
            hp_json_str(&j, hp_plan_form_target(form));
            hp_json_key(&j, "entry");
            hp_json_str(&j, entry);
            hp_json_object_end(&j);
        } else {
            hp_json_null(&j);
        }
        hp_json_object_end(&j);
    }
    hp_json_array_end(&j);
    uint32_t exported, patchable;
    export_coverage(list, &exported, &patchable);
    hp_json_key(&j, "exports");
    hp_json_u64(&j, exported);
    hp_json_key(&j, "exports_patchable");
    hp_json_u64(&j, patchable);
    hp_json_doc_end(&j);
}

/* Names from the image are untrusted: print only printable ASCII. */
static void print_name(const char *name, int width)
{
    int n = 0;
    if (!name)
        name = "-";
    for (const unsigned char *p = (const unsigned char *)name; *p; p++, n++)
        putchar(*p >= 0x20 && *p < 0x7f ? *p : '?');
    for (; n < width; n++)
        putchar(' ');
}

static void print_table(const char *path, const hp_pe *pe, const hp_site_ctx *ctx,
                        const hp_site_list *list)
{
    int width = 4;
    for (uint32_t i = 0; i < list->count; i++) {
        size_t n = list->sites[i].name ? strlen(list->sites[i].name) : 1;
        if ((int)n > width)
            width = n > 48 ? 48 : (int)n;
    }
    printf("%s: %s, %u functions\n\n", path, hp_pe_machine_name(pe), list->count);
    printf("%-10s  %-11s  %3s  %3s  %-26s  %-*s  %s\n", "RVA", "CLASS", "PAD", "LEN", "SOURCES",
           width, "NAME", "FIRST INSTRUCTION / WRITE");
    for (uint32_t i = 0; i < list->count; i++) {
        const hp_site *s = &list->sites[i];
        char sources[64] = "";
        for (unsigned bit = 1; bit < (1u << HP_SITE_SOURCE_COUNT); bit <<= 1) {
            if (s->sources & bit) {
                if (sources[0])
                    strcat(sources, ",");
                strcat(sources, hp_site_source_name(bit));
            }
        }
        printf("0x%08x  %-11s  %3u  %3u  %-26s  ", s->rva, hp_site_class_name(s->cls), s->padding,
               s->first_insn_len, sources);
        print_name(s->name, width);
        printf("  ");

        char text[HP_SITE_TEXT_MAX];
        if (hp_site_format_insn(ctx, pe, s, text, sizeof text) == HP_OK)
            fputs(text, stdout);
        else if (s->cls == HP_SITE_UNDECODABLE)
            fputs("(undecodable)", stdout);
        else if (s->cls == HP_SITE_NOT_CODE)
            fputs("(not code)", stdout);

        hp_plan_form form;
        hp_txn_site plan;
        if (plan_of(pe, s, &form, &plan) && hp_plan_form_is_entry(form))
            printf("  => %s -> %s at entry, %u bytes to a trampoline", hp_plan_form_text(form),
                   hp_plan_form_target(form), s->moved_len);
        else if (plan_of(pe, s, &form, &plan))
            printf("  => %s -> %s at -%u, %02X %02X at entry", hp_plan_form_text(form),
                   hp_plan_form_target(form), plan.pad_len, plan.new_entry[0], plan.new_entry[1]);
        else if (s->tramp < HP_TRAMP_VERDICT_COUNT)
            printf("  (no trampoline: %s at 0x%x)",
                   hp_tramp_verdict_name((hp_tramp_verdict)s->tramp), s->tramp_at);
        putchar('\n');
    }

    uint32_t hotpatch = list->by_class[HP_SITE_PROLOGUE] + list->by_class[HP_SITE_PADDED];
    uint32_t patchable = hotpatch + list->by_class[HP_SITE_TRAMP];
    printf("\nsummary by class:\n");
    for (int c = HP_SITE_CLASS_COUNT - 1; c >= 0; c--)
        printf("  %-11s  %7u\n", hp_site_class_name((hp_site_class)c), list->by_class[c]);
    printf("  %-11s  %7u\n", "total", list->count);
    printf("hotpatch sites (prologue + padded): %u of %u (%.1f%%)\n", hotpatch, list->count,
           list->count ? 100.0 * hotpatch / list->count : 0.0);
    printf("patchable (with trampolines): %u of %u (%.1f%%)\n", patchable, list->count,
           list->count ? 100.0 * patchable / list->count : 0.0);
    uint32_t exported, exp_ok;
    export_coverage(list, &exported, &exp_ok);
    printf("exported functions patchable: %u of %u (%.1f%%)\n", exp_ok, exported,
           exported ? 100.0 * exp_ok / exported : 0.0);
}

int hp_verb_scan(int argc, char **argv)
{
    const char *path;
    bool json;
    int usage = hp_cli_file_args("IMAGE", argc, argv, &path, &json);
    if (usage)
        return usage;

    uint8_t *data;
    size_t size;
    const char *detail;
    hp_status s = hp_cli_read_file(path, &data, &size, &detail);
    if (s != HP_OK)
        return hp_cli_fail(path, s, detail);

    hp_arena arena = HP_ARENA_INIT;
    hp_pe pe;
    hp_site_ctx ctx;
    hp_site_list list;
    s = hp_pe_parse(&pe, &arena, data, size, HP_PE_LAYOUT_FILE);
    if (s == HP_OK)
        s = hp_site_ctx_init(&ctx, &pe);
    if (s == HP_OK)
        s = hp_site_analyze(&ctx, &pe, &arena, &list);
    int rc;
    if (s != HP_OK) {
        rc = hp_cli_fail(path, s, NULL);
    } else {
        if (json)
            print_json(path, &pe, &list);
        else
            print_table(path, &pe, &ctx, &list);
        rc = fflush(stdout) == 0 ? HP_EXIT_OK : hp_cli_fail("stdout", HP_E_IO_WRITE, NULL);
    }
    hp_arena_free(&arena);
    free(data);
    return rc;
}
