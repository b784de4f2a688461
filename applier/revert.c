/*
 * hotpe revert TARGET (PATCH-ID | --all) [--unload] [--json] [--no-freeze]: the shim reverts
 * live patches in the target; with --unload it frees the reverted patches' DLLs (docs/live.md:
 * when, and exit 3 when one is kept).
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "target.h"

const char hp_verb_revert_help[] =
    "usage: hotpe revert TARGET (PATCH-ID | --all) [--unload] [--json] [--no-freeze]\n"
    "                    [--jobs N]\n"
    "\n"
    "Reverts live patches (ids from `hotpe list`): in the target, the shim restores each site\n"
    "from its journal, the entry bytes first and then the padding, with the other threads\n"
    "frozen, and runs HOTPE_ON_REVERT. --all reverts every live patch, newest first. Without\n"
    "--unload the patch DLL stays loaded (threads may still run its code).\n"
    "\n"
    "  --unload   then free each reverted patch's DLL and its HOTPE_ORIGINAL stubs, only when\n"
    "             no thread is in its code or has a return address into it on its stack\n"
    "             (threads frozen, stacks scanned from SP to their base) and no other live\n"
    "             patch is that DLL. Otherwise the revert stands, the DLL stays loaded, and\n"
    "             one line says why. With --all, also the patch DLLs earlier reverts kept\n"
    "             loaded: `revert TARGET --all --unload` is how a kept DLL is freed later.\n"
    "\n" HP_TARGET_HELP "\n" HP_TARGET_NATIVE_HELP
    "Exit codes: 0 reverted (and unloaded), 1 refused or failed, 2 bad usage, 3 partly done\n"
    "(some processes failed, or reverted but a patch DLL was kept loaded).\n";

#ifndef _WIN32

int hp_verb_revert(int argc, char **argv) { return hp_target_native(argc, argv); }

#else /* _WIN32 */

#include "hotpe/engine/patch.h"
#include "hotpe/engine/wire.h"
#include "print.h"
#include "shimclient.h"

/* Why a patch DLL stayed loaded (shim: HP_WIRE_KEPT_*, who: thread or patch id). */
static void kept_reason(char *out, size_t cap, uint32_t reason, uint32_t who)
{
    switch (reason) {
    case HP_WIRE_KEPT_IP:
        snprintf(out, cap, "thread %u is executing its code", who);
        break;
    case HP_WIRE_KEPT_STACK:
        snprintf(out, cap, "a return address into it on thread %u's stack", who);
        break;
    case HP_WIRE_KEPT_SHARED:
        snprintf(out, cap, "live patch %u is the same DLL", who);
        break;
    case HP_WIRE_KEPT_REFERENCED:
        snprintf(out, cap, "still loaded after releasing every reference (pinned)");
        break;
    default:
        snprintf(out, cap, "the threads could not be frozen or read");
        break;
    }
}

/* The file name of live patch id's DLL, from a registry copy taken before the revert. */
static void patch_dll_name(const hp_shimc_reg *reg, uint32_t id, char *out, size_t cap)
{
    snprintf(out, cap, "a patch DLL kept by an earlier revert");
    for (uint32_t i = 0; id && i < reg->count; i++) {
        if (reg->patches[i].id != id)
            continue;
        char path[HP_WIRE_PATH_MAX * 3];
        hp_print_utf8(reg->patches[i].path, path, sizeof path);
        snprintf(out, cap, "%s", hp_print_file_name(path));
    }
}

/* What was reverted; kept: the DLL that stayed loaded (dll) and why. */
static void print_reverted(const hp_target *t, const hp_target_opts *o, const hp_wire_result *res,
                           bool kept, const char *dll, const char *why, hp_json *j)
{
    if (!j) {
        const char *unl = !o->unload ? "" : kept ? ", a patch DLL kept loaded" : ", patch DLL unloaded";
        if (o->patch_id == HP_WIRE_REVERT_ALL)
            hp_outbuf_printf(t->out, stdout, "%s: reverted %u patch%s%s\n", t->object,
                             res->reverted, res->reverted == 1 ? "" : "es", unl);
        else
            hp_outbuf_printf(t->out, stdout, "%s: reverted patch %u (freeze %.1f us)%s\n",
                             t->object, o->patch_id, (double)res->freeze_ns / 1e3, unl);
        return;
    }
    hp_target_json_begin(t, j, "reverted");
    hp_json_key(j, "reverted");
    hp_json_u64(j, res->reverted);
    hp_json_key(j, "freeze_ns");
    hp_json_u64(j, res->freeze_ns);
    hp_json_key(j, "threads_moved");
    hp_json_u64(j, res->moved);
    hp_json_key(j, "channel");
    hp_json_bool(j, res->via_channel != 0);
    if (o->unload) {
        hp_json_key(j, "unloaded");
        hp_json_bool(j, !kept);
        hp_json_key(j, "kept");
        if (kept) {
            hp_json_object_begin(j);
            hp_json_key(j, "patch_id"); /* 0: a DLL an earlier revert kept */
            if (res->kept_patch_id)
                hp_json_u64(j, res->kept_patch_id);
            else
                hp_json_null(j);
            hp_json_key(j, "dll");
            hp_json_str(j, dll);
            hp_json_key(j, "reason");
            hp_json_str(j, why);
            hp_json_object_end(j);
        } else {
            hp_json_null(j);
        }
    }
    hp_json_object_end(j);
}

/* No shim in the process: nothing to revert. */
static int revert_nothing(const hp_target *t, const hp_target_opts *o, const char *detail,
                          hp_json *j)
{
    if (o->patch_id != HP_WIRE_REVERT_ALL)
        return hp_target_refuse(t, NULL, NULL, HP_E_LIVE_NO_PATCH, detail);
    if (j) {
        hp_wire_result none = { 0 };
        print_reverted(t, o, &none, false, NULL, NULL, j);
    } else {
        hp_outbuf_printf(t->out, stdout, "%s: no live patches\n", t->object);
    }
    return 0;
}

static int revert_cb(const hp_target *t, const void *arg, hp_json *j)
{
    const hp_target_opts *o = arg;
    char detail[32];
    snprintf(detail, sizeof detail, "patch id %u", o->patch_id);
    /* the channel, and (--unload) the kept DLL's name from the tables; unreadable, the request
     * goes on a remote thread and a kept DLL is "a patch DLL" */
    hp_shimc_reg reg;
    (void)(o->unload ? hp_shimc_registry : hp_shimc_registry_head)(t->sc, &reg);
    if (!reg.shim_base && !hp_shimc_find_module(t->sc, HP_WIRE_SHIM_NAME, NULL))
        return revert_nothing(t, o, detail, j);
    hp_wire_request *req = calloc(1, sizeof *req);
    hp_wire_result res;
    if (!req) {
        hp_shimc_reg_free(&reg);
        return hp_target_refuse(t, NULL, NULL, HP_E_NOMEM, NULL);
    }
    req->verb = HP_WIRE_VERB_REVERT;
    req->flags = (o->no_freeze ? HP_WIRE_REQ_F_NO_FREEZE : 0) | (o->unload ? HP_WIRE_REQ_F_UNLOAD : 0);
    req->patch_id = o->patch_id;
    hp_status s = hp_shimc_request(t->sc, &reg, req, &res);
    free(req);
    if (s != HP_OK && s != HP_E_LIVE_KEPT) {
        hp_shimc_reg_free(&reg);
        return hp_target_refuse(t, NULL, NULL, s, o->patch_id == HP_WIRE_REVERT_ALL ? NULL : detail);
    }
    bool kept = s == HP_E_LIVE_KEPT;
    char dll[HP_WIRE_PATH_MAX * 3] = "", why[96] = "";
    if (kept) {
        patch_dll_name(&reg, res.kept_patch_id, dll, sizeof dll);
        kept_reason(why, sizeof why, res.kept_reason, res.kept_by);
    }
    hp_shimc_reg_free(&reg);
    print_reverted(t, o, &res, kept, dll, why, j);
    if (!kept)
        return HP_EXIT_OK;
    hp_outbuf_flush(t->out, stdout);
    hp_outbuf_printf(t->out, stderr, "hotpe: %s: %s: kept loaded: %s\n", t->object, dll, why);
    return HP_EXIT_PARTIAL;
}

int hp_verb_revert(int argc, char **argv)
{
    hp_target_opts o;
    int rc = hp_target_parse(argc, argv, &o);
    if (!rc && !hp_target_handed_whole(&o, &rc))
        rc = hp_target_each_doc(&o, revert_cb, &o, NULL);
    hp_target_opts_free(&o);
    return rc;
}

#endif /* _WIN32 */
