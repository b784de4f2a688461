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
    "usage: hotpe revert [TARGET] PATCH [--unload] [--json] [--no-freeze] [--jobs N]\n"
    "       hotpe revert TARGET (PATCH-ID | --all) [--unload] [--json] [--no-freeze]\n"
    "                    [--jobs N]\n"
    "\n"
    "Reverts live patches: in the target, the shim restores each site from its journal, the\n"
    "entry bytes first and then the padding, with the other threads frozen, and runs\n"
    "HOTPE_ON_REVERT. Without --unload the patch DLL stays loaded (threads may still run its\n"
    "code).\n"
    "\n"
    "PATCH is a patch's name as `hotpe info` and `hotpe list` print it (TARGET#SEQUENCE@HASH)\n"
    "or its file: that patch is reverted in every process of TARGET where it is live, and\n"
    "without a TARGET wherever it is live. Where it is not live there is nothing to do (exit 0).\n"
    "When the patch is installed machine-wide (`hotpe install`) and superseded another\n"
    "installed patch of the same target, that one is applied again in its place, and the line\n"
    "says which patch is live now. PATCH-ID is a number from `hotpe list`, one process's own;\n"
    "--all reverts every live patch, newest first.\n"
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

#include <string.h>
#include <windows.h>

#include "hotpe/engine/patch.h"
#include "hotpe/engine/sha256.h"
#include "hotpe/engine/wire.h"
#include "install.h"
#include "print.h"
#include "shimclient.h"

/* What revert was asked to revert: an id (ref NULL), --all, or a patch by name or file. */
typedef struct revert_job {
    const hp_target_opts *o;
    const char *ref;         /* the name or file as given, or NULL */
    bool by_file;            /* ref is a file: match its SHA-256 */
    uint8_t sha[HP_SHA256_LEN];
    char name[HP_PATCH_NAME_MAX]; /* the file's patch name, for the lines (by_file) */
    struct revert_seen *seen; /* where it was reverted (a name or file): for the restack */
} revert_job;

/* Where a patch named by name or file was reverted, written by the workers under lock. */
typedef struct revert_seen {
    CRITICAL_SECTION lock;
    uint32_t *pids;          /* room for every selected process */
    size_t npids;
    hp_wire_patch what;      /* the patch reverted (its target, sequence, file hash) */
} revert_seen;

/* Resolve o->patch_ref: a name, else a readable file. @return 0 or the exit code. */
static int job_resolve(revert_job *jb)
{
    if (!jb->ref || hp_patch_name_shaped(jb->ref))
        return 0;
    uint8_t *data;
    size_t size;
    const char *detail;
    hp_status s = hp_cli_read_file(jb->ref, &data, &size, &detail);
    if (s != HP_OK)
        return hp_cli_fail(jb->ref, s,
                           "neither a patch name (TARGET#SEQUENCE@HASH, from hotpe info) nor a "
                           "readable patch file");
    hp_arena arena = HP_ARENA_INIT;
    hp_patch_info pi;
    s = hp_sha256_of(data, size, jb->sha);
    if (s == HP_OK)
        s = hp_patch_load(&pi, &arena, data, size);
    if (s == HP_OK)
        hp_patch_name(jb->name, pi.hotp.target_name, pi.pb.rec.Sequence, jb->sha);
    hp_arena_free(&arena);
    free(data);
    if (s != HP_OK)
        return hp_cli_fail(jb->ref, s, NULL);
    jb->by_file = true;
    return 0;
}

static bool job_matches(const revert_job *jb, const hp_wire_patch *p)
{
    return jb->by_file ? memcmp(p->file_sha256, jb->sha, HP_SHA256_LEN) == 0
                       : hp_patch_name_matches(jb->ref, p->target_name, p->sequence,
                                               p->file_sha256);
}

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

/* What was reverted (id: the patch, or HP_WIRE_REVERT_ALL; name: its name, or NULL); kept:
 * the DLL that stayed loaded (dll) and why. */
static void print_reverted(const hp_target *t, const hp_target_opts *o, uint32_t id,
                           const char *name, const hp_wire_result *res, bool kept,
                           const char *dll, const char *why, hp_json *j)
{
    if (!j) {
        const char *unl = !o->unload ? "" : kept ? ", a patch DLL kept loaded" : ", patch DLL unloaded";
        if (id == HP_WIRE_REVERT_ALL)
            hp_outbuf_printf(t->out, stdout, "%s: reverted %u patch%s%s\n", t->object,
                             res->reverted, res->reverted == 1 ? "" : "es", unl);
        else if (name)
            hp_outbuf_printf(t->out, stdout, "%s: reverted %s (patch %u, freeze %.1f us)%s\n",
                             t->object, name, id, (double)res->freeze_ns / 1e3, unl);
        else
            hp_outbuf_printf(t->out, stdout, "%s: reverted patch %u (freeze %.1f us)%s\n",
                             t->object, id, (double)res->freeze_ns / 1e3, unl);
        return;
    }
    hp_target_json_begin(t, j, "reverted");
    hp_json_key(j, "reverted");
    hp_json_u64(j, res->reverted);
    if (name) {
        hp_json_key(j, "name");
        hp_json_str(j, name);
        hp_json_key(j, "patch_id");
        hp_json_u64(j, id);
    }
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

/* Nothing to revert here: no shim, or the patch named is not live. An id is refused (ids are
 * one process's own); --all and a name or file have nothing to do. */
static int revert_nothing(const hp_target *t, const revert_job *jb, const char *detail,
                          hp_json *j)
{
    const hp_target_opts *o = jb->o;
    if (!jb->ref && o->patch_id != HP_WIRE_REVERT_ALL)
        return hp_target_refuse(t, NULL, NULL, HP_E_LIVE_NO_PATCH, detail);
    if (jb->ref && o->every)
        return 0; /* every process hotpe served: only those where it is live are named */
    if (j) {
        hp_target_json_begin(t, j, jb->ref ? "not-live" : "reverted");
        hp_json_key(j, "reverted");
        hp_json_u64(j, 0);
        hp_json_object_end(j);
    } else if (jb->ref) {
        hp_outbuf_printf(t->out, stdout, "%s: %s is not live: nothing to do\n", t->object,
                         jb->by_file ? jb->name : jb->ref);
    } else {
        hp_outbuf_printf(t->out, stdout, "%s: no live patches\n", t->object);
    }
    return 0;
}

static int revert_cb(const hp_target *t, const void *arg, hp_json *j)
{
    const revert_job *jb = arg;
    const hp_target_opts *o = jb->o;
    uint32_t id = o->patch_id;
    char detail[32], name[HP_PATCH_NAME_MAX] = "";
    snprintf(detail, sizeof detail, "patch id %u", id);
    /* the channel, the patch named and (--unload) the kept DLL's name from the tables;
     * unreadable, the request goes on a remote thread and a kept DLL is "a patch DLL" */
    hp_shimc_reg reg;
    (void)(o->unload || jb->ref ? hp_shimc_registry : hp_shimc_registry_head)(t->sc, &reg);
    if (!reg.shim_base && !hp_shimc_find_module(t->sc, HP_WIRE_SHIM_NAME, NULL))
        return revert_nothing(t, jb, detail, j);
    if (jb->ref) {
        id = 0;
        for (uint32_t i = 0; i < reg.count && !id; i++)
            if (job_matches(jb, &reg.patches[i])) {
                id = reg.patches[i].id;
                hp_patch_name(name, reg.patches[i].target_name, reg.patches[i].sequence,
                              reg.patches[i].file_sha256);
            }
        if (!id) {
            hp_shimc_reg_free(&reg);
            return revert_nothing(t, jb, detail, j);
        }
    }
    hp_wire_request *req = calloc(1, sizeof *req);
    hp_wire_result res;
    if (!req) {
        hp_shimc_reg_free(&reg);
        return hp_target_refuse(t, NULL, NULL, HP_E_NOMEM, NULL);
    }
    req->verb = HP_WIRE_VERB_REVERT;
    req->flags = (o->no_freeze ? HP_WIRE_REQ_F_NO_FREEZE : 0) | (o->unload ? HP_WIRE_REQ_F_UNLOAD : 0);
    req->patch_id = id;
    hp_status s = hp_shimc_request(t->sc, &reg, req, &res);
    free(req);
    if (s != HP_OK && s != HP_E_LIVE_KEPT) {
        hp_shimc_reg_free(&reg);
        return hp_target_refuse(t, NULL, NULL, s, id == HP_WIRE_REVERT_ALL ? NULL
                                                  : jb->ref                ? name
                                                                           : detail);
    }
    bool kept = s == HP_E_LIVE_KEPT;
    char dll[HP_WIRE_PATH_MAX * 3] = "", why[96] = "";
    if (kept) {
        patch_dll_name(&reg, res.kept_patch_id, dll, sizeof dll);
        kept_reason(why, sizeof why, res.kept_reason, res.kept_by);
    }
    revert_seen *seen = jb->seen;
    if (jb->ref && seen->pids) {
        EnterCriticalSection(&seen->lock);
        for (uint32_t i = 0; i < reg.count; i++)
            if (reg.patches[i].id == id)
                seen->what = reg.patches[i];
        seen->pids[seen->npids++] = t->pid;
        LeaveCriticalSection(&seen->lock);
    }
    hp_shimc_reg_free(&reg);
    print_reverted(t, o, id, jb->ref ? name : NULL, &res, kept, dll, why, j);
    if (!kept)
        return HP_EXIT_OK;
    hp_outbuf_flush(t->out, stdout);
    hp_outbuf_printf(t->out, stderr, "hotpe: %s: %s: kept loaded: %s\n", t->object, dll, why);
    return HP_EXIT_PARTIAL;
}

/* Revert jb's patch in o's processes (selected by the caller), then bring back the installed
 * patch it superseded where it was reverted (live: its name). @return the exit code. */
static int revert_run(hp_target_opts *o, revert_job *jb, hp_json *j, char *live, size_t cap)
{
    revert_seen seen = { .pids = jb->ref ? calloc(o->nnative + 1, sizeof *seen.pids) : NULL };
    live[0] = 0;
    InitializeCriticalSection(&seen.lock);
    jb->seen = &seen;
    int rc = hp_target_each(o, revert_cb, jb, j);
    if (seen.npids) {
        char target[HP_WIRE_NAME_MAX];
        snprintf(target, sizeof target, "%s", seen.what.target_name);
        int src = hp_install_restack(target, seen.what.sequence, seen.what.file_sha256, seen.pids,
                                     seen.npids, j, live, cap);
        if (src && rc == HP_EXIT_OK)
            rc = HP_EXIT_PARTIAL;
        if (!j && live[0])
            printf("%s is live now where %s was reverted\n", live,
                   jb->by_file ? jb->name : jb->ref);
    } else if (!rc && jb->ref && o->every && !j) {
        printf("%s is not live in any process: nothing to do\n", jb->by_file ? jb->name : jb->ref);
    }
    free(seen.pids);
    DeleteCriticalSection(&seen.lock);
    return rc;
}

int hp_revert_everywhere(const char *name, hp_json *j, char *live, size_t cap)
{
    char *argv[] = { "revert", (char *)name, "--json", NULL };
    hp_target_opts o = { .verb = "revert", .module = HP_WIRE_SHIM_NAME, .every = true,
                         .patch_ref = name, .have_id = true, .json = j != NULL,
                         .jobs = HP_TARGET_JOBS, .argc = j ? 3 : 2, .argv = argv };
    revert_job jb = { .o = &o, .ref = name };
    hp_target_select(&o);
    int rc = revert_run(&o, &jb, j, live, cap);
    hp_target_opts_free(&o);
    return rc;
}

int hp_verb_revert(int argc, char **argv)
{
    hp_target_opts o;
    char live[HP_PATCH_NAME_MAX];
    int rc = hp_target_parse(argc, argv, &o);
    revert_job jb = { .o = &o, .ref = o.patch_ref };
    if (!rc)
        rc = job_resolve(&jb);
    if (!rc && !hp_target_handed_whole(&o, &rc)) {
        hp_json j;
        if (o.json) {
            hp_json_doc_begin(&j, stdout);
            hp_json_key(&j, "processes");
            hp_json_array_begin(&j);
        }
        rc = revert_run(&o, &jb, o.json ? &j : NULL, live, sizeof live);
        if (o.json) {
            hp_json_array_end(&j);
            if (jb.ref) {
                hp_json_key(&j, "live_now");
                hp_json_str(&j, live[0] ? live : NULL);
            }
            hp_json_doc_end(&j);
        }
    }
    hp_target_opts_free(&o);
    return rc;
}

#endif /* _WIN32 */
