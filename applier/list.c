/*
 * hotpe list TARGET [--json]: the patches live in the target processes, read from the shim's
 * registry with ReadProcessMemory alone (README.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "target.h"

const char hp_verb_list_help[] =
    "usage: hotpe list [TARGET] [--json] [--jobs N]\n"
    "\n"
    "Lists the patches live in the target processes, read from hotpe-shim.dll's registry with\n"
    "ReadProcessMemory alone: id, sequence, target module, patch DLL, and each site (entry RVA\n"
    "and address, state, original bytes kept for revert, the function, and what was done for\n"
    "CFG; the function's name comes from the patch file, when it can still be read).\n"
    "Without a TARGET: every process that has live patches (every process with hotpe-shim.dll\n"
    "loaded and a patch live in it), or \"no process has live patches\".\n"
    "\n" HP_TARGET_HELP
    "  --json   {\"processes\": [{\"pid\", \"shim\", \"patches\": [{\"id\", \"sequence\",\n"
    "           \"target\", \"target_base\", \"patch\", \"patch_base\", \"sites\": [...]}]}]}\n"
    "\n" HP_TARGET_NATIVE_HELP
    "Exit codes: 0 done, 1 failed, 2 bad usage, 3 some processes could not be read.\n";

#ifndef _WIN32

int hp_verb_list(int argc, char **argv) { return hp_target_native(argc, argv); }

#else /* _WIN32 */

#include <stdatomic.h>

#include "hotpe/engine/cfg.h"
#include "hotpe/engine/patch.h"
#include "hotpe/engine/wire.h"
#include "hotpe/pe/file.h"
#include "print.h"
#include "shimclient.h"

static const char *site_state(uint8_t s)
{
    switch (s) {
    case HP_WIRE_SITE_WRITING: return "writing";
    case HP_WIRE_SITE_LIVE: return "live";
    case HP_WIRE_SITE_REVERTING: return "reverting";
    default: return "empty";
    }
}

/* The patch file a live patch was loaded from, parsed for its functions' names (NULL: it
 * cannot be read any more, or is not that patch now). */
typedef struct patch_names {
    uint8_t *data;
    hp_arena arena;
    hp_patch_info pi;
    bool ok;
} patch_names;

static void names_load(patch_names *pn, const hp_wire_patch *p)
{
    memset(pn, 0, sizeof *pn);
    pn->arena = (hp_arena)HP_ARENA_INIT;
    char path[HP_WIRE_PATH_MAX * 3];
    size_t size;
    int err;
    hp_print_utf8(p->path, path, sizeof path);
    pn->ok = path[0] && hp_file_read(path, &pn->data, &size, &err) == HP_OK &&
             hp_patch_load(&pn->pi, &pn->arena, pn->data, size) == HP_OK;
}

static void names_free(patch_names *pn)
{
    hp_arena_free(&pn->arena);
    free(pn->data);
}

static void print_site(const hp_target *t, const hp_wire_patch *p, const hp_wire_site *st,
                       const patch_names *pn, hp_json *j)
{
    char ob[40], nb[40];
    unsigned pad = st->pad_len, n = hp_wire_site_sane(st) ? st->entry_len : 0;
    const char *fn = pn->ok ? hp_patch_function_at(&pn->pi, st->entry_rva) : NULL;
    hp_print_hex(ob, sizeof ob, st->orig + pad, n);
    hp_print_hex(nb, sizeof nb, st->bytes + pad, n);
    if (!j) {
        hp_outbuf_printf(t->out, stdout,
                         "    RVA 0x%08x  %-9s  entry %s -> %s  replacement 0x%llx  %s\n",
                         st->entry_rva, site_state(st->state), ob, nb,
                         (unsigned long long)hp_wire_site_replacement(p, st), fn ? fn : "?");
        return;
    }
    hp_json_object_begin(j);
    hp_json_key(j, "entry_rva");
    hp_json_u64(j, st->entry_rva);
    hp_json_key(j, "entry");
    hp_json_u64(j, hp_wire_site_entry(p, st));
    hp_json_key(j, "replacement");
    hp_json_u64(j, hp_wire_site_replacement(p, st));
    hp_json_key(j, "slot");
    hp_json_u64(j, hp_wire_site_aux(p, st));
    hp_json_key(j, "function");
    hp_json_str(j, fn);
    hp_json_key(j, "state");
    hp_json_str(j, site_state(st->state));
    hp_json_key(j, "original_entry");
    hp_json_hex(j, st->orig + pad, n);
    hp_json_key(j, "new_entry");
    hp_json_hex(j, st->bytes + pad, n);
    hp_json_key(j, "cfg");
    hp_json_str(j, hp_cfg_state_name(st->cfg));
    hp_json_object_end(j);
}

static void print_patch(const hp_target *t, const hp_wire_patch *p, const hp_wire_site *sites,
                        hp_json *j)
{
    char path[HP_WIRE_PATH_MAX * 3], name[HP_PATCH_NAME_MAX];
    hp_print_utf8(p->path, path, sizeof path);
    hp_patch_name(name, p->target_name, p->sequence, p->file_sha256);
    if (j) {
        hp_json_object_begin(j);
        hp_json_key(j, "id");
        hp_json_u64(j, p->id);
        hp_json_key(j, "name");
        hp_json_str(j, name);
        hp_json_key(j, "sequence");
        hp_json_u64(j, p->sequence);
        hp_json_key(j, "target");
        hp_json_str(j, p->target_name);
        hp_json_key(j, "target_base");
        hp_json_u64(j, p->target_base);
        hp_json_key(j, "patch");
        hp_json_str(j, path);
        hp_json_key(j, "patch_base");
        hp_json_u64(j, p->patch_base);
        hp_json_key(j, "stub_page");
        hp_json_u64(j, p->stub_page);
        hp_json_key(j, "froze");
        hp_json_bool(j, (p->flags & HP_WIRE_PATCH_F_FROZE) != 0);
        hp_json_key(j, "sites");
        hp_json_array_begin(j);
    } else {
        hp_outbuf_printf(t->out, stdout, "  patch %u  sequence %u  %s  %s  (%u site%s)\n", p->id,
                         p->sequence, p->target_name, path, p->site_count,
                         HP_PLURAL_S(p->site_count));
        hp_outbuf_printf(t->out, stdout, "    name %s\n", name);
    }
    patch_names pn;
    names_load(&pn, p);
    for (uint32_t k = 0; k < p->site_count; k++)
        print_site(t, p, &sites[k], &pn, j);
    names_free(&pn);
    if (j) {
        hp_json_array_end(j);
        hp_json_object_end(j);
    } else if (p->site_count) {
        hp_print_cfg(t->out, stdout, "    ", &sites[0].cfg, sizeof *sites, p->site_count, 0);
    }
}

/* list's state over the processes: without a TARGET, how many had something live (counted
 * by the processes' threads at once). */
typedef struct list_ctx {
    const hp_target_opts *o;
    atomic_uint *shown;
} list_ctx;

static int list_cb(const hp_target *t, const void *arg, hp_json *j)
{
    const list_ctx *c = arg;
    const hp_target_opts *o = c->o;
    hp_shimc_reg reg;
    hp_status s = hp_shimc_registry(t->sc, &reg);
    if (s != HP_OK)
        return hp_target_refuse(t, HP_WIRE_SHIM_NAME, NULL, s, NULL);
    uint64_t shim = reg.shim_base;
    uint32_t count = reg.count;
    if (o->every && count == 0) { /* served once, nothing live now */
        hp_shimc_reg_free(&reg);
        return 0;
    }
    atomic_fetch_add(c->shown, 1);
    if (j) {
        hp_target_json_begin(t, j, "listed");
        hp_json_key(j, "shim");
        hp_json_bool(j, shim != 0);
        hp_json_key(j, "patches");
        hp_json_array_begin(j);
    } else {
        hp_outbuf_printf(t->out, stdout, "%s: %u live patch%s%s\n", t->object, count,
                         count == 1 ? "" : "es", shim ? "" : " (no shim loaded)");
    }
    for (uint32_t i = 0; i < count; i++)
        print_patch(t, &reg.patches[i], reg.sites[i], j);
    if (j) {
        hp_json_array_end(j);
        hp_json_object_end(j);
    }
    hp_shimc_reg_free(&reg);
    return 0;
}

int hp_verb_list(int argc, char **argv)
{
    hp_target_opts o;
    int rc = hp_target_parse(argc, argv, &o);
    atomic_uint shown = 0;
    list_ctx c = { &o, &shown };
    if (!rc && !hp_target_handed_whole(&o, &rc)) {
        rc = hp_target_each_doc(&o, list_cb, &c, NULL);
        if (o.every && !o.json && !atomic_load(&shown) && rc == HP_EXIT_OK && !o.nhanded)
            printf("no process has live patches\n");
    }
    hp_target_opts_free(&o);
    return rc;
}

#endif /* _WIN32 */
