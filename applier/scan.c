/*
 * hotpe scan IMAGE [--json]: the functions of an image and whether each can be hotpatched
 * (README.md, docs/scan-example.md). The analysis is pe/site.c; this file only prints it.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "cover.h"
#include "json.h"
#include "hotpe/pe/pe.h"
#include "hotpe/engine/plan.h"
#include "hotpe/pe/site.h"

const char hp_verb_scan_help[] =
    "usage: hotpe scan IMAGE [--detail] [--json] [--objects FILE...] [--names FILE]\n"
    "                        [--require NAME[,NAME...]]... [--require-file FILE]\n"
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
    "One library inside the image, and a gate for CI:\n"
    "  --objects FILE...    only the functions a library's COFF objects (.o, .obj)\n"
    "                       or static archives (.a, .lib) define, external and\n"
    "                       static: every file after it up to the next option\n"
    "  --names FILE         the same from a list: one name a line, # comments\n"
    "  --require NAME       exit 1 unless NAME is in the image and patchable, with\n"
    "                       one line on stderr per name that is not; repeatable,\n"
    "                       or a comma list\n"
    "  --require-file FILE  --require for each name of FILE (as --names reads it)\n"
    "With --objects or --names the rows are that library's functions the image\n"
    "has, then the names it has not (inlined or discarded by the linker), and the\n"
    "last line is \"LIB: N functions, P patchable (X%), M not in the image\", LIB\n"
    "the inputs' common name or \"objects\". Names are C names: on x86, _f, _f@8,\n"
    "f@8 and @f@8 all name f. The image's names are its exports and its COFF\n"
    "symbols: in an image without symbols only exported functions are found.\n"
    "\n"
    "Exit codes: 0 done, 1 the image or an input cannot be read or parsed, or a\n"
    "required function is not patchable (one line each says why), 2 bad usage.\n";

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

/* What --objects, --names and --require add to both outputs; NULL parts are absent. */
typedef struct scan_extra {
    uint32_t image_total;            /* the image's functions, when the rows are a library's */
    const hp_cover *cv;              /* --objects, --names */
    const hp_cover_input *inputs;
    uint32_t ninputs;
    bool image_symbols;              /* the image has COFF function symbols */
    const hp_cover_fn *req;          /* --require, --require-file */
    uint32_t nreq;
} scan_extra;

static double percent(uint32_t part, uint32_t whole)
{
    return whole ? 100.0 * part / whole : 0.0;
}

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

/* The class that decides whether fn can be patched; NULL when it is not in the image. */
static const char *decides_class(const hp_cover_fn *fn)
{
    return fn->decides ? hp_site_class_name(fn->decides->cls) : NULL;
}

/* "library": the names of --objects and --names, where each is. */
static void json_library(const scan_extra *x, hp_json *j)
{
    const hp_cover *cv = x->cv;
    hp_json_key(j, "library");
    hp_json_object_begin(j);
    hp_json_key(j, "name");
    hp_json_str(j, cv->lib);
    hp_json_key(j, "inputs");
    hp_json_array_begin(j);
    for (uint32_t i = 0; i < x->ninputs; i++)
        hp_json_str(j, x->inputs[i].path);
    hp_json_array_end(j);
    hp_json_key(j, "image_symbols");
    hp_json_bool(j, x->image_symbols);
    hp_json_key(j, "functions");
    hp_json_u64(j, cv->count);
    hp_json_key(j, "in_image");
    hp_json_u64(j, cv->in_image);
    hp_json_key(j, "patchable");
    hp_json_u64(j, cv->patchable);
    hp_json_key(j, "not_in_image");
    hp_json_u64(j, cv->missing);
    hp_json_key(j, "names");
    hp_json_array_begin(j);
    for (uint32_t i = 0; i < cv->count; i++) {
        const hp_cover_fn *fn = &cv->fns[i];
        hp_json_object_begin(j);
        hp_json_key(j, "name");
        hp_json_str(j, fn->name);
        hp_json_key(j, "defined_in");
        hp_json_str(j, fn->defined_in);
        hp_json_key(j, "in_image");
        hp_json_bool(j, fn->site_count > 0);
        hp_json_key(j, "rvas");
        hp_json_array_begin(j);
        for (uint32_t k = 0; k < fn->site_count; k++)
            hp_json_u64(j, fn->sites[k]->rva);
        hp_json_array_end(j);
        hp_json_key(j, "class");
        hp_json_str(j, decides_class(fn));
        hp_json_key(j, "patchable");
        hp_json_bool(j, fn->patchable);
        hp_json_object_end(j);
    }
    hp_json_array_end(j);
    hp_json_object_end(j);
}

/* The one line a failing required name gets, without "hotpe: IMAGE!NAME: ". */
static void require_reason(const hp_cover_fn *fn, char *buf, size_t cap)
{
    char detail[256];
    hp_cover_reason(fn, detail, sizeof detail);
    if (fn->site_count == 0)
        snprintf(buf, cap, "%s", hp_status_str(HP_E_SCAN_NOT_IN_IMAGE));
    else
        snprintf(buf, cap, "%s (%s)", hp_status_str(HP_E_SCAN_NOT_PATCHABLE), detail);
}

static void json_require(const scan_extra *x, hp_json *j)
{
    hp_json_key(j, "require");
    hp_json_array_begin(j);
    for (uint32_t i = 0; i < x->nreq; i++) {
        const hp_cover_fn *fn = &x->req[i];
        char reason[512];
        require_reason(fn, reason, sizeof reason);
        hp_json_object_begin(j);
        hp_json_key(j, "name");
        hp_json_str(j, fn->name);
        hp_json_key(j, "ok");
        hp_json_bool(j, fn->patchable);
        hp_json_key(j, "class");
        hp_json_str(j, decides_class(fn));
        hp_json_key(j, "reason");
        hp_json_str(j, fn->patchable ? NULL : reason);
        hp_json_object_end(j);
    }
    hp_json_array_end(j);
}

static void print_json(const char *path, const hp_pe *pe, const hp_site_ctx *ctx,
                       const hp_site_list *list, const scan_extra *x)
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
    if (x->cv)
        json_library(x, &j);
    if (x->req)
        json_require(x, &j);
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

/* Untrusted text on one line: printable ASCII only, nothing wrapped. */
static void print_plain(const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        putchar(*p >= 0x20 && *p < 0x7f ? *p : '?');
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

/* The library's names the image does not have, then its line. */
static void print_missing(const char *path, const scan_extra *x)
{
    const hp_cover *cv = x->cv;
    if (!cv->missing)
        return;
    printf("\nnot in the image (inlined or discarded): %u\n", cv->missing);
    for (uint32_t i = 0; i < cv->count; i++) {
        const hp_cover_fn *fn = &cv->fns[i];
        if (fn->site_count)
            continue;
        printf("  ");
        print_plain(fn->name);
        if (fn->defined_in) {
            printf("%*s  ", strlen(fn->name) < 40 ? (int)(40 - strlen(fn->name)) : 0, "");
            print_plain(fn->defined_in);
        }
        putchar('\n');
    }
    if (!x->image_symbols)
        printf("note: %s has no COFF symbols: only its exported functions can be found\n",
               path);
}

static void print_table(const char *path, const hp_pe *pe, const hp_site_ctx *ctx,
                        const hp_site_list *list, bool detail, const scan_extra *x)
{
    if (x->cv)
        printf("%s: %s, %u function%s, %u of them %s's\n\n", path, hp_pe_machine_name(pe),
               x->image_total, HP_PLURAL_S(x->image_total), list->count, x->cv->lib);
    else
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

    if (x->cv)
        print_missing(path, x);

    scan_summary sum;
    summarize(list, &sum);
    printf("\nsummary by class:\n");
    for (size_t i = 0; i < HP_SITE_CLASS_COUNT; i++)
        printf("  %-11s  %7u\n", hp_site_class_name(summary_order[i]),
               list->by_class[summary_order[i]]);
    printf("  %-11s  %7u\n", "total", list->count);
    printf("hotpatch sites (prologue + nop-pair + padded): %u of %u (%.1f%%)\n", sum.hotpatch,
           list->count, percent(sum.hotpatch, list->count));
    printf("patchable (with trampolines): %u of %u (%.1f%%)\n", sum.patchable, list->count,
           percent(sum.patchable, list->count));
    printf("exported functions patchable: %u of %u (%.1f%%)\n", sum.exported_patchable,
           sum.exported, percent(sum.exported_patchable, sum.exported));
    if (x->req) {
        uint32_t ok = 0;
        for (uint32_t i = 0; i < x->nreq; i++)
            ok += x->req[i].patchable;
        printf("required functions patchable: %u of %u\n", ok, x->nreq);
    }
    if (x->cv)
        printf("%s: %u function%s, %u patchable (%.1f%%), %u not in the image\n", x->cv->lib,
               x->cv->count, HP_PLURAL_S(x->cv->count), x->cv->patchable,
               percent(x->cv->patchable, x->cv->count), x->cv->missing);
}

/* The command line of scan. */
typedef struct scan_opts {
    const char *path;
    bool json, detail;
    hp_cover_input *inputs;          /* --objects files and --names lists, in order */
    uint32_t ninputs;
    const char **req;                /* --require names */
    uint32_t nreq, req_cap;
    const char **req_files;          /* --require-file */
    uint32_t nreq_files;
} scan_opts;

/* --require's value: names separated by commas (empty ones skipped). */
static hp_status add_required(scan_opts *o, hp_arena *arena, const char *list)
{
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n) {
            if (o->nreq == o->req_cap) {
                uint32_t cap = o->req_cap ? 2 * o->req_cap : 16;
                const char **grown = hp_arena_array(arena, cap, sizeof *grown);
                if (!grown)
                    return HP_E_NOMEM;
                if (o->nreq)
                    memcpy(grown, o->req, o->nreq * sizeof *grown);
                o->req = grown;
                o->req_cap = cap;
            }
            if (!(o->req[o->nreq++] = hp_arena_strndup(arena, p, n)))
                return HP_E_NOMEM;
        }
        p += n + (e != NULL);
    }
    return HP_OK;
}

static int scan_args(int argc, char **argv, hp_arena *arena, scan_opts *o)
{
    enum { O_JSON, O_DETAIL, O_OBJECTS, O_NAMES, O_REQUIRE, O_REQUIRE_FILE };
    static const hp_args_opt opts[] = { { "--json", false },   { "--detail", false },
                                        { "--objects", true }, { "--names", true },
                                        { "--require", true }, { "--require-file", true },
                                        { NULL, false } };
    memset(o, 0, sizeof *o);
    /* every argument is at most one input or one --require-file */
    o->inputs = hp_arena_array(arena, (size_t)argc, sizeof *o->inputs);
    o->req_files = hp_arena_array(arena, (size_t)argc, sizeof *o->req_files);
    if (!o->inputs || !o->req_files)
        return hp_cli_fail("scan", HP_E_NOMEM, NULL);
    hp_args a;
    const char *v;
    int k;
    bool objects = false; /* operands are --objects files until the next option */
    hp_args_init(&a, argc, argv);
    while ((k = hp_args_next(&a, opts, &v)) != HP_ARGS_END) {
        if (k == HP_ARGS_BAD)
            return HP_EXIT_USAGE;
        if (k == HP_ARGS_DASHDASH)
            continue;
        if (k == HP_ARGS_OPERAND) {
            if (objects)
                o->inputs[o->ninputs++] = (hp_cover_input){ v, false };
            else if (o->path)
                return hp_cli_usage(a.verb, "one IMAGE only (object files go after --objects)");
            else
                o->path = v;
            continue;
        }
        objects = k == O_OBJECTS;
        if (k == O_JSON)
            o->json = true;
        else if (k == O_DETAIL)
            o->detail = true;
        else if (k == O_OBJECTS || k == O_NAMES)
            o->inputs[o->ninputs++] = (hp_cover_input){ v, k == O_NAMES };
        else if (k == O_REQUIRE_FILE)
            o->req_files[o->nreq_files++] = v;
        else if (add_required(o, arena, v) != HP_OK)
            return hp_cli_fail("scan", HP_E_NOMEM, NULL);
    }
    if (!o->path)
        return hp_cli_usage(a.verb, "IMAGE missing");
    return 0;
}

/* Where each --require name is; one line on stderr for each that cannot be patched. */
static int require(const hp_cover_index *ix, scan_opts *o, hp_arena *arena, hp_cover_fn **out)
{
    for (uint32_t i = 0; i < o->nreq_files; i++) {
        const char *err = NULL, **names = NULL;
        uint32_t count = 0;
        hp_status s = hp_cover_read_names(o->req_files[i], arena, &names, &count, &err);
        for (uint32_t k = 0; s == HP_OK && k < count; k++)
            s = add_required(o, arena, names[k]);
        if (s != HP_OK)
            return hp_cli_fail(o->req_files[i], s, err);
    }
    hp_cover_fn *fns = hp_arena_array(arena, o->nreq ? o->nreq : 1, sizeof *fns);
    if (!fns)
        return hp_cli_fail("scan", HP_E_NOMEM, NULL);
    for (uint32_t i = 0; i < o->nreq; i++) {
        fns[i].name = o->req[i];
        if (hp_cover_lookup(ix, arena, o->req[i], false, &fns[i]) != HP_OK)
            return hp_cli_fail("scan", HP_E_NOMEM, NULL);
    }
    *out = fns;
    return HP_EXIT_OK;
}

/* The failing required names, one line each: "hotpe: IMAGE!NAME: not patchable (class ...)". */
static int require_verdict(const char *path, const scan_extra *x)
{
    int rc = HP_EXIT_OK;
    for (uint32_t i = 0; i < x->nreq; i++) {
        const hp_cover_fn *fn = &x->req[i];
        if (fn->patchable)
            continue;
        char object[1024], detail[256];
        snprintf(object, sizeof object, "%s!%s", path, fn->name);
        hp_cover_reason(fn, detail, sizeof detail);
        rc = hp_cli_fail(object, fn->site_count ? HP_E_SCAN_NOT_PATCHABLE : HP_E_SCAN_NOT_IN_IMAGE,
                         fn->site_count ? detail : NULL);
    }
    return rc;
}

int hp_verb_scan(int argc, char **argv)
{
    hp_arena arena = HP_ARENA_INIT;
    scan_opts o;
    int rc = scan_args(argc, argv, &arena, &o);
    if (rc) {
        hp_arena_free(&arena);
        return rc;
    }
    const char *path = o.path;

    uint8_t *data;
    size_t size;
    const char *detail;
    hp_status s = hp_cli_read_file(path, &data, &size, &detail);
    if (s != HP_OK) {
        hp_arena_free(&arena);
        return hp_cli_fail(path, s, detail);
    }

    hp_pe pe;
    hp_site_ctx ctx;
    hp_site_list list = { 0 };
    s = hp_pe_parse(&pe, &arena, data, size, HP_PE_LAYOUT_FILE);
    if (s == HP_OK)
        s = hp_site_ctx_init(&ctx, &pe);
    if (s == HP_OK)
        s = hp_site_analyze(&ctx, &pe, &arena, &list);
    hp_cover_index ix;
    hp_cover cv;
    hp_cover_fn *req = NULL;
    scan_extra x = { .image_total = list.count };
    bool names = o.ninputs || o.nreq || o.nreq_files;
    if (s == HP_OK && names)
        s = hp_cover_index_init(&ix, &pe, &list, &arena);
    if (s != HP_OK) {
        rc = hp_cli_fail(path, s, NULL);
    } else if (names) {
        x.image_symbols = ix.symbols;
        if (o.ninputs && (rc = hp_cover_load(&cv, &ix, o.inputs, o.ninputs, &arena)) == 0) {
            x.cv = &cv;
            x.inputs = o.inputs;
            x.ninputs = o.ninputs;
        }
        if (rc == 0 && (o.nreq || o.nreq_files) && (rc = require(&ix, &o, &arena, &req)) == 0) {
            x.req = req;
            x.nreq = o.nreq;
        }
    }
    if (s == HP_OK && rc == HP_EXIT_OK) {
        const hp_site_list *rows = x.cv ? &cv.rows : &list;
        if (o.json)
            print_json(path, &pe, &ctx, rows, &x);
        else
            print_table(path, &pe, &ctx, rows, o.detail, &x);
        rc = fflush(stdout) == 0 ? HP_EXIT_OK : hp_cli_fail("stdout", HP_E_IO_WRITE, NULL);
        if (rc == HP_EXIT_OK)
            rc = require_verdict(path, &x);
    }
    hp_arena_free(&arena);
    free(data);
    return rc;
}
