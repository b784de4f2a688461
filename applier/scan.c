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
    "usage: hotpe scan IMAGE [--detail] [--json]\n"
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
    "  nop-pair     two 1-byte NOPs, 90 90 (GCC's -fpatchable-function-entry=N,N-2)\n"
    "  padded       any other first instruction of 2 bytes or more\n"
    "  trampoline   short-first or no-padding, but the first instructions covering a 5-byte\n"
    "               jump can move to a trampoline (docs/trampolines.md)\n"
    "prologue, nop-pair, padded and trampoline can be patched. A short-first or no-padding\n"
    "function that cannot take a trampoline has a reason: a byte that does not decode,\n"
    "too-short, unmovable (a relative branch in the moved bytes), or branch-into (a branch\n"
    "lands inside them), with the deciding instruction's RVA. Rows fit 100 columns: a long\n"
    "instruction is cut with \"..\", a long name wraps under its column.\n"
    "\n"
    "  --detail  under each row: where the entry was found, its first bytes, the whole\n"
    "            instruction when cut, and what the applier writes (or why no trampoline)\n"
    "  --json    one JSON document: every function with its class, bytes, decoded instruction,\n"
    "            trampoline verdict and write plan, and the summary counts (docs/json.md)\n"
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

/* The classes as the summaries list them: the patchable ones first, the rest in the reverse
 * of the order they are decided (class values are recorded in patch files, not in this order). */
static const hp_site_class summary_order[] = {
    HP_SITE_TRAMP,      HP_SITE_PADDED,    HP_SITE_NOP_PAIR,  HP_SITE_PROLOGUE,
    HP_SITE_NO_PADDING, HP_SITE_SHORT_FIRST, HP_SITE_UNDECODABLE, HP_SITE_NOT_CODE,
};
_Static_assert(sizeof summary_order / sizeof summary_order[0] == HP_SITE_CLASS_COUNT,
               "every class in the summary");

/* The class counts and coverage both outputs end with. */
typedef struct scan_summary {
    uint32_t hotpatch, patchable, exported, exported_patchable;
} scan_summary;

static void summarize(const hp_site_list *list, scan_summary *sum)
{
    sum->hotpatch = list->by_class[HP_SITE_PROLOGUE] + list->by_class[HP_SITE_NOP_PAIR] +
                    list->by_class[HP_SITE_PADDED];
    sum->patchable = sum->hotpatch + list->by_class[HP_SITE_TRAMP];
    export_coverage(list, &sum->exported, &sum->exported_patchable);
}

static void json_write(const hp_pe *pe, const hp_site *s, hp_json *j)
{
    hp_plan_form form;
    hp_txn_site plan;
    if (!plan_of(pe, s, &form, &plan)) {
        hp_json_null(j);
        return;
    }
    bool entry_form = hp_plan_form_is_entry(form);
    hp_json_object_begin(j);
    hp_json_key(j, "form");
    hp_json_str(j, hp_plan_form_name(form));
    hp_json_key(j, "to");
    hp_json_str(j, hp_plan_form_target(form));
    hp_json_key(j, "padding_rva");
    if (entry_form)
        hp_json_null(j);
    else
        hp_json_u64(j, s->rva - plan.pad_len);
    hp_json_key(j, "padding_len");
    hp_json_u64(j, entry_form ? 0 : plan.pad_len);
    hp_json_key(j, "entry");
    if (entry_form) /* E9 rel32: the displacement is the applier's to choose */
        hp_json_null(j);
    else
        hp_json_hex(j, plan.new_entry, 2);
    hp_json_object_end(j);
}

static void print_json(const char *path, const hp_pe *pe, const hp_site_ctx *ctx,
                       const hp_site_list *list)
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
        hp_json_hex(&j, s->insn, s->first_insn_len);
        hp_json_key(&j, "first_insn_text");
        char text[HP_SITE_TEXT_MAX];
        if (hp_site_format_insn(ctx, pe, s, text, sizeof text) == HP_OK)
            hp_json_str(&j, text);
        else
            hp_json_null(&j);
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
        json_write(pe, s, &j);
        hp_json_object_end(&j);
    }
    hp_json_array_end(&j);
    scan_summary sum;
    summarize(list, &sum);
    hp_json_key(&j, "summary");
    hp_json_object_begin(&j);
    hp_json_key(&j, "classes");
    hp_json_object_begin(&j);
    for (size_t i = 0; i < HP_SITE_CLASS_COUNT; i++) {
        hp_json_key(&j, hp_site_class_name(summary_order[i]));
        hp_json_u64(&j, list->by_class[summary_order[i]]);
    }
    hp_json_object_end(&j);
    hp_json_key(&j, "total");
    hp_json_u64(&j, list->count);
    hp_json_key(&j, "hotpatch");
    hp_json_u64(&j, sum.hotpatch);
    hp_json_key(&j, "patchable");
    hp_json_u64(&j, sum.patchable);
    hp_json_key(&j, "exports");
    hp_json_u64(&j, sum.exported);
    hp_json_key(&j, "exports_patchable");
    hp_json_u64(&j, sum.exported_patchable);
    hp_json_object_end(&j);
    hp_json_doc_end(&j);
}

/* Rows fit 100 columns: the fixed columns, then the name, wrapped under itself when longer
 * than the rest of the row (never cut: it is what users grep for). */
#define SCAN_COLUMNS 100
#define SCAN_INSN_WIDTH 26
#define SCAN_NAME_AT (10 + 2 + 11 + 2 + 3 + 2 + 3 + 2 + SCAN_INSN_WIDTH + 2)

/* Names and instructions from the image are untrusted: print only printable ASCII. */
static void print_name(const char *name)
{
    int n = 0;
    if (!name)
        name = "-";
    for (const unsigned char *p = (const unsigned char *)name; *p; p++, n++) {
        if (n && n % (SCAN_COLUMNS - SCAN_NAME_AT) == 0)
            printf("\n%*s", SCAN_NAME_AT, "");
        putchar(*p >= 0x20 && *p < 0x7f ? *p : '?');
    }
}

/* The first instruction's text in its column: cut with ".." when longer. */
static void print_insn(const char *text)
{
    size_t n = strlen(text);
    if (n <= SCAN_INSN_WIDTH)
        printf("%-*s", SCAN_INSN_WIDTH, text);
    else
        printf("%.*s..", SCAN_INSN_WIDTH - 2, text);
}

/* --detail: the lines under a row: sources, the whole instruction, the write or why none. */
static void print_detail(const hp_pe *pe, const hp_site *s, const char *text)
{
    printf("%12s", "");
    printf("sources ");
    print_sources(stdout, s->sources, false, NULL);
    printf("; bytes");
    for (unsigned k = 0; k < s->first_insn_len; k++)
        printf(" %02x", s->insn[k]);
    putchar('\n');
    if (strlen(text) > SCAN_INSN_WIDTH)
        printf("%12s%s\n", "", text);
    hp_plan_form form;
    hp_txn_site plan;
    bool planned = plan_of(pe, s, &form, &plan);
    if (planned && hp_plan_form_is_entry(form))
        printf("%12swrites %s -> %s at the entry, %u bytes to a trampoline\n", "",
               hp_plan_form_text(form), hp_plan_form_target(form), s->moved_len);
    else if (planned)
        printf("%12swrites %s -> %s at -%u, %02X %02X at the entry\n", "",
               hp_plan_form_text(form), hp_plan_form_target(form), plan.pad_len,
               plan.new_entry[0], plan.new_entry[1]);
    else if (s->tramp < HP_TRAMP_VERDICT_COUNT)
        printf("%12sno trampoline: %s at 0x%x\n", "",
               hp_tramp_verdict_name((hp_tramp_verdict)s->tramp), s->tramp_at);
}

static void print_table(const char *path, const hp_pe *pe, const hp_site_ctx *ctx,
                        const hp_site_list *list, bool detail)
{
    printf("%s: %s, %u function%s\n\n", path, hp_pe_machine_name(pe), list->count,
           HP_PLURAL_S(list->count));
    printf("%-10s  %-11s  %3s  %3s  %-*s  %s\n", "RVA", "CLASS", "PAD", "LEN", SCAN_INSN_WIDTH,
           "FIRST INSTRUCTION", "NAME");
    for (uint32_t i = 0; i < list->count; i++) {
        const hp_site *s = &list->sites[i];
        printf("0x%08x  %-11s  %3u  %3u  ", s->rva, hp_site_class_name(s->cls), s->padding,
               s->first_insn_len);
        char text[HP_SITE_TEXT_MAX];
        if (hp_site_format_insn(ctx, pe, s, text, sizeof text) != HP_OK)
            snprintf(text, sizeof text, "%s",
                     s->cls == HP_SITE_NOT_CODE ? "(not code)" : "(undecodable)");
        print_insn(text);
        printf("  ");
        print_name(s->name);
        putchar('\n');
        if (detail)
            print_detail(pe, s, text);
    }

    scan_summary sum;
    summarize(list, &sum);
    printf("\nsummary by class:\n");
    for (size_t i = 0; i < HP_SITE_CLASS_COUNT; i++)
        printf("  %-11s  %7u\n", hp_site_class_name(summary_order[i]),
               list->by_class[summary_order[i]]);
    printf("  %-11s  %7u\n", "total", list->count);
    printf("hotpatch sites (prologue + nop-pair + padded): %u of %u (%.1f%%)\n", sum.hotpatch,
           list->count, list->count ? 100.0 * sum.hotpatch / list->count : 0.0);
    printf("patchable (with trampolines): %u of %u (%.1f%%)\n", sum.patchable, list->count,
           list->count ? 100.0 * sum.patchable / list->count : 0.0);
    printf("exported functions patchable: %u of %u (%.1f%%)\n", sum.exported_patchable,
           sum.exported, sum.exported ? 100.0 * sum.exported_patchable / sum.exported : 0.0);
}

int hp_verb_scan(int argc, char **argv)
{
    const char *path;
    bool json, rows_detail;
    int usage = hp_cli_file_args("IMAGE", "--detail", argc, argv, &path, &json, &rows_detail);
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
            print_json(path, &pe, &ctx, &list);
        else
            print_table(path, &pe, &ctx, &list, rows_detail);
        rc = fflush(stdout) == 0 ? HP_EXIT_OK : hp_cli_fail("stdout", HP_E_IO_WRITE, NULL);
    }
    hp_arena_free(&arena);
    free(data);
    return rc;
}
