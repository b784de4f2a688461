/*
 * hotpe apply / check: applying a patch to running processes, or only checking it
 * (README.md, docs/live.md).
 *
 *   apply TARGET PATCH.dll [--json] [--no-freeze]
 *   check TARGET PATCH.dll [--json]
 *
 * apply validates from outside first: the target module's bytes are copied with
 * ReadProcessMemory and checked (machine, target name, identity, every validation, every
 * replaced function's hash, hook pairing, the registry for the same patch or a sequence not
 * above a live one), so a patch
 * that would be refused loads nothing into the target. A live patch of the same module with a
 * lower sequence is superseded: the validations are checked against its journal's bytes. Then
 * the shim is injected and asked to apply the patch (shimclient.h). check stops after the
 * outside validation.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "target.h"

const char hp_verb_apply_help[] =
    "usage: hotpe apply TARGET PATCH.dll [--json] [--no-freeze] [--jobs N]\n"
    "\n"
    "Applies a patch image (made with `hotpe build`) to running processes without restarting\n"
    "them. First, from outside, it reads the target module's bytes and checks the machine, the\n"
    "target name, the identity (TimeDateStamp, SizeOfImage, CheckSum, CodeView GUID and age),\n"
    "every validation and the SHA-256 of each replaced function's bytes; a refused patch loads\n"
    "nothing into the target. Then it injects hotpe-shim.dll (found next to hotpe.exe, once\n"
    "per process), which loads the patch, re-validates (hashes included), applies fixups,\n"
    "runs HOTPE_ON_APPLY (non-zero vetoes), and writes every site as one transaction:\n"
    "threads frozen, padding jumps, then the 2-byte entry jumps. A process where the same\n"
    "patch (this file, or one with the same bytes) is live already needs nothing: it says so\n"
    "and counts as done, so a rollout can be run again. Every patch file passes the\n"
    "signature policy first (hotpe trust --help).\n"
    "\n" HP_TARGET_HELP
    "  --json        one JSON document: {\"patch\", \"processes\": [{\"pid\", \"status\",\n"
    "                \"patch_id\", \"sites\", \"froze\", \"freeze_ns\", \"phases_ns\",\n"
    "                \"hotpe_ns\": {\"validate\", \"inject\", \"request\"}, \"module_read\",\n"
    "                \"cfg\", \"cfg_error\", \"site_cfg\": [{\"entry_rva\", \"function\", \"cfg\"}]}]};\n"
    "                cfg says what was done for Control Flow Guard (docs/live.md):\n"
    "                not-instrumented, registered, no-api, failed, unaligned, not-enforced\n"
    "  --no-freeze   do not suspend threads when every site is fresh (padding all CC)\n"
    "\n" HP_TARGET_NATIVE_HELP
    "Exit codes: 0 applied (or live already), 1 refused or failed (one line: pid,\n"
    "image!function, reason),\n"
    "2 bad usage, 3 applied in some processes only.\n";

const char hp_verb_check_help[] =
    "usage: hotpe check TARGET PATCH.dll [--json] [--jobs N]\n"
    "\n"
    "A dry run of `hotpe apply`: everything apply checks from outside (the same patch live\n"
    "already: status already, exit 0; a live patch with an equal or higher sequence; the\n"
    "patch's signature; the target module's machine, name, identity,\n"
    "every validation and every replaced function's hash), read with ReadProcessMemory alone.\n"
    "Nothing is injected, loaded or written.\n"
    "\n" HP_TARGET_HELP
    "  --json   one JSON document: {\"patch\", \"processes\": [{\"pid\", \"status\",\n"
    "           \"sites\", \"supersedes\"}]}\n"
    "\n" HP_TARGET_NATIVE_HELP
    "Exit codes: 0 every process would accept the patch, 1 refused (one line: pid,\n"
    "image!function, reason), 2 bad usage, 3 some processes only.\n";

#ifndef _WIN32

int hp_verb_apply(int argc, char **argv) { return hp_target_native(argc, argv); }
int hp_verb_check(int argc, char **argv) { return hp_target_native(argc, argv); }

#else /* _WIN32 */

#include <windows.h>

#include "apply.h"
#include "hotpe/engine/admit.h"
#include "hotpe/engine/cfg.h"
#include "hotpe/engine/sha256.h"
#include "hotpe/engine/win.h"
#include "print.h"
#include "shimclient.h"

/* ------------------------------------------------------------------------------------------ */
/* Admission: what is checked from outside                                                    */
/* ------------------------------------------------------------------------------------------ */

/* The one admission policy (engine/admit.h) on a copy of the process's registry: HP_OK with
 * *under the live patch the new one supersedes (or -1), else why it is refused (detail). */
static hp_status apply_decide(const hp_shimc_reg *reg, const hp_apply_patch *pf, int64_t *under,
                              uint32_t *already, char *detail, size_t cap)
{
    hp_admit_patch me = { (const uint16_t *)pf->wpath, pf->sha256, pf->pi.hotp.target_name,
                          pf->pi.pb.rec.Sequence };
    uint32_t at = HP_WIRE_NONE;
    hp_status s = hp_admit(reg->patches, reg->count, &me, &at);
    *under = s == HP_OK && at != HP_WIRE_NONE ? (int64_t)at : -1;
    if (s == HP_E_LIVE_ALREADY)
        *already = reg->patches[at].id;
    else if (s == HP_E_LIVE_SEQUENCE)
        snprintf(detail, cap, "patch id %u has sequence %u", reg->patches[at].id,
                 reg->patches[at].sequence);
    return s;
}

/* A validation's bytes that differ, or that lie outside the module: a refusal in words of its
 * own. Returns HP_EXIT_FAILED. */
static int refuse_validation(const hp_target *t, const char *name, const hp_patch_failure *why)
{
    char exp[32], got[32], obj[256], line[512];
    hp_print_hex(exp, sizeof exp, why->expected, why->count);
    hp_print_hex(got, sizeof got, why->found, why->count);
    if (why->function)
        snprintf(obj, sizeof obj, "%s: %s!%s", t->object, name, why->function);
    else
        snprintf(obj, sizeof obj, "%s: %s", t->object, name);
    if (why->what)
        snprintf(line, sizeof line, "%s: the patch's validation of %u bytes at RVA 0x%x lies %s",
                 obj, why->count, why->rva, why->what);
    else
        snprintf(line, sizeof line, "%s: bytes at RVA 0x%x differ from the patch's validation "
                 "(%s expected, %s found)", obj, why->rva, exp, got);
    return hp_target_refuse_line(t, HP_E_TXN_VALIDATION, line);
}

/* A replaced function whose bytes do not hash as the base's did (or lie outside the module).
 * Returns HP_EXIT_FAILED. */
static int refuse_fn_hash(const hp_target *t, const char *name, const hp_patch_failure *why)
{
    char detail[160], exp[20], got[20];
    for (unsigned i = 0; i < 8; i++) {
        snprintf(exp + 2 * i, 3, "%02x", why->expected[i]);
        snprintf(got + 2 * i, 3, "%02x", why->found[i]);
    }
    if (why->what)
        snprintf(detail, sizeof detail, "%u bytes at RVA 0x%x lie %s", why->count, why->rva,
                 why->what);
    else
        snprintf(detail, sizeof detail, "%u bytes at RVA 0x%x: sha256 %s.. expected, %s.. found",
                 why->count, why->rva, exp, got);
    return hp_target_refuse(t, name, why->function, HP_E_LIVE_FUNC_HASH, detail);
}

/* hotpe's side of one apply, for --json's "hotpe_ns" and "module_read" */
typedef struct apply_times {
    uint64_t start, validated, injected, done;
    uint64_t module_read; /* bytes of the target module read to check it */
} apply_times;

/* The running module as the check reads it, in a zeroed copy of its size (pages never touched
 * cost nothing): the headers, the .hotpei header of a module hotpe install rewrote (the
 * identity it was built with), the debug directory and CodeView record when the build recorded
 * one, the bytes of every validation, and, for function hashes, every replaced function's
 * bytes and the .reloc directory. A patch of 3 sites in a 30 MB module reads a few pages (and
 * the .reloc directory) in 3 to 5 round trips, not 30 MB. *pe is parsed on it; free *img. */
static hp_status copy_for_check(const hp_target *t, uint64_t base, uint32_t size,
                                const hp_patch_info *pi, hp_arena *a, hp_pe *pe, uint8_t **img,
                                uint64_t *read)
{
    uint8_t *buf = calloc(1, size ? size : 1);
    uint32_t nv = pi->hotp.validation_count, nh = pi->pb.rec.HashCount;
    hp_shimc_range *r = calloc((size_t)nv + nh + 4, sizeof *r);
    hp_status s = buf && r ? HP_OK : HP_E_NOMEM;
    if (s == HP_OK) {
        r[0] = (hp_shimc_range){ 0, 0x1000 };
        *read += hp_shimc_read_ranges(t->h, base, buf, size, r, 1);
        s = hp_pe_parse(pe, a, buf, size, HP_PE_LAYOUT_LOADED);
    }
    if (s == HP_OK && pe->size_of_headers > 0x1000) {
        r[0] = (hp_shimc_range){ 0, pe->size_of_headers };
        *read += hp_shimc_read_ranges(t->h, base, buf, size, r, 1);
        s = hp_pe_parse(pe, a, buf, size, HP_PE_LAYOUT_LOADED);
    }
    bool codeview = pi->pb.rec.Flags & HOTPE_BUILD_F_CODEVIEW;
    if (s == HP_OK) {
        size_t n = 0;
        for (uint32_t i = 0; i < nv; i++)
            r[n++] = (hp_shimc_range){ pi->hotp.validations[i].target_rva,
                                       pi->hotp.validations[i].byte_count };
        hp_pe_dir dd = hp_pe_dir_get(pe, HP_IMAGE_DIRECTORY_ENTRY_DEBUG);
        if (codeview)
            r[n++] = (hp_shimc_range){ dd.rva, dd.size };
        for (uint32_t i = 0; i < nh; i++)
            r[n++] = (hp_shimc_range){ pi->pb.hashes[i].BaseRva, pi->pb.hashes[i].Length };
        hp_pe_dir rd = hp_pe_dir_get(pe, HP_IMAGE_DIRECTORY_ENTRY_BASERELOC);
        if (nh)
            r[n++] = (hp_shimc_range){ rd.rva, rd.size };
        const hp_pe_section *hi = hp_pe_section_by_name(pe, HP_SETDLL_SECTION_NAME);
        if (hi)
            r[n++] = (hp_shimc_range){ hi->virtual_address, sizeof(HP_SETDLL_HEADER) };
        *read += hp_shimc_read_ranges(t->h, base, buf, size, r, n);
    }
    hp_pe_debug dbg;
    if (s == HP_OK && codeview && hp_pe_debug_parse(pe, a, &dbg) == HP_OK) {
        size_t n = 0;
        for (uint32_t i = 0; i < dbg.count && n < (size_t)nv + nh + 3; i++)
            if (dbg.entries[i].type == HP_IMAGE_DEBUG_TYPE_CODEVIEW)
                r[n++] = (hp_shimc_range){ dbg.entries[i].rva, dbg.entries[i].size };
        *read += hp_shimc_read_ranges(t->h, base, buf, size, r, n);
    }
    free(r);
    if (s != HP_OK) {
        free(buf);
        buf = NULL;
    }
    *img = buf;
    return s;
}

/* Check the running module from outside; 0 when the shim may be asked, else the exit code
 * after the refusal. under: a live patch the new one supersedes (registry copy), or NULL. */
static int check_outside(const hp_target *t, const hp_apply_patch *pf, const char *name,
                         const hp_patch_live *under, uint64_t *read)
{
    uint32_t size = 0;
    uint64_t base = hp_shimc_find_module(t->sc, name, &size);
    if (!base)
        return hp_target_refuse(t, name, NULL, HP_E_LIVE_MODULE, NULL);
    hp_arena a = HP_ARENA_INIT;
    hp_pe pe;
    hp_patch_failure why;
    uint8_t *img = NULL;
    int rc = 0;
    hp_status s = copy_for_check(t, base, size, &pf->pi, &a, &pe, &img, read);
    if (s == HP_E_NOMEM)
        rc = hp_target_refuse(t, name, NULL, s, NULL);
    else if (s != HP_OK)
        rc = hp_target_refuse(t, name, NULL, s, "the running module");
    else if ((s = hp_patch_check(&pf->pi, &pe, name, under, &a, &why)) == HP_E_TXN_VALIDATION)
        rc = refuse_validation(t, name, &why);
    else if (s == HP_E_LIVE_FUNC_HASH)
        rc = refuse_fn_hash(t, name, &why);
    else if (s != HP_OK)
        rc = hp_target_refuse(t, name, NULL, s, why.what);
    hp_arena_free(&a);
    free(img);
    return rc;
}

/* The registry's verdict, then the module's bytes. 0 when the shim may be asked (*superseded:
 * the id of the live patch the new one supersedes, or 0) or when the patch is live already
 * (*already: its id), else the exit code. reg: the registry as read (the caller frees it). */
static int admit(const hp_target *t, const hp_apply_patch *pf, hp_shimc_reg *reg,
                 uint32_t *superseded, uint32_t *already, uint64_t *read)
{
    const char *name = pf->pi.hotp.target_name;
    char detail[64] = "";
    int64_t under = -1;
    *already = 0;
    hp_status s = hp_shimc_registry(t->sc, reg);
    if (s == HP_OK && reg->shim_base)
        s = apply_decide(reg, pf, &under, already, detail, sizeof detail);
    if (s == HP_E_LIVE_ALREADY) /* done before: the same patch, perhaps from another path */
        return 0;
    if (s != HP_OK)
        return hp_target_refuse(t, name, NULL, s, detail[0] ? detail : NULL);
    if (!reg->shim_base && pf->shim != HP_OK) /* apply would inject it: check says it cannot */
        return hp_target_refuse(t, HP_WIRE_SHIM_NAME, NULL, pf->shim, pf->shim_looked);
    hp_patch_live live = { 0 };
    if (under >= 0)
        live = hp_shimc_live(reg, (uint32_t)under);
    *superseded = under >= 0 ? live.rec->id : 0;
    return check_outside(t, pf, name, under >= 0 ? &live : NULL, read);
}

/* The patch is live in this process already: nothing to do, and that is success (a rollout
 * run again, or the same patch from another path). */
static void print_already(const hp_target *t, const hp_apply_patch *pf, uint32_t id, hp_json *j)
{
    if (t->verdict && t->verdict->silent) /* asked, not told */
        return;
    if (j) {
        hp_target_json_begin(t, j, "already");
        hp_json_key(j, "patch_id");
        hp_json_u64(j, id);
        hp_json_object_end(j);
    } else {
        hp_outbuf_printf(t->out, pf->out, "%s: %s: %s is live already as patch %u: nothing to do\n",
                         t->object, pf->pi.hotp.target_name, pf->path, id);
    }
}

/* hotpe check: what apply would do. */
static void print_would_apply(const hp_target *t, const hp_apply_patch *pf, uint32_t superseded,
                              hp_json *j)
{
    const char *name = pf->pi.hotp.target_name;
    if (t->verdict && t->verdict->silent)
        return;
    if (j) {
        hp_target_json_begin(t, j, "would-apply");
        hp_json_key(j, "sites");
        hp_json_u64(j, pf->nsites);
        hp_json_key(j, "supersedes");
        if (superseded)
            hp_json_u64(j, superseded);
        else
            hp_json_null(j);
        hp_json_object_end(j);
    } else if (superseded) {
        hp_outbuf_printf(t->out, pf->out,
                         "%s: %s: %s would apply (%u site%s), superseding patch %u\n", t->object,
                         name, pf->path, pf->nsites, HP_PLURAL_S(pf->nsites), superseded);
    } else {
        hp_outbuf_printf(t->out, pf->out, "%s: %s: %s would apply (%u site%s)\n", t->object, name,
                         pf->path, pf->nsites, HP_PLURAL_S(pf->nsites));
    }
}

/* ------------------------------------------------------------------------------------------ */
/* The request, and what it did                                                               */
/* ------------------------------------------------------------------------------------------ */


#ifdef HP_TEST_HOOKS
/* Test builds only (hotpe-testhooks.exe, wine-tests/test_trust.sh): HOTPE_TEST_SWAP=FILE does
 * what someone able to write the patch file would do between hotpe's checks and the shim's
 * load: hotpe's hold on the file is dropped and FILE copied over it, once (the first process
 * to get here takes the hold: several run at once). */
static void test_swap(const hp_target *t, const hp_apply_patch *pf)
{
    const char *with = getenv("HOTPE_TEST_SWAP");
    wchar_t w[HP_WIRE_PATH_MAX];
    if (!with || !MultiByteToWideChar(CP_ACP, 0, with, -1, w, HP_WIRE_PATH_MAX))
        return;
    HANDLE lock = InterlockedExchangePointer(&((hp_apply_patch *)pf)->lock, NULL);
    if (!lock)
        return;
    CloseHandle(lock);
    if (!CopyFileW(w, pf->wpath, FALSE))
        hp_outbuf_printf(t->out, stderr, "hotpe: test hook: copy failed (%lu)\n",
                         (unsigned long)GetLastError());
}
#endif

/* apply_request's answer when the shim found the patch live already (not an exit code). */
#define HP_EXIT_ALREADY (-1)

/* Inject the shim and ask it to apply the patch; 0, HP_EXIT_ALREADY, or the exit code after
 * the refusal. */
static int apply_request(const hp_target *t, const hp_apply_patch *pf, const hp_shimc_reg *reg,
                         hp_wire_result *res, apply_times *tm)
{
    const char *name = pf->pi.hotp.target_name;
    tm->injected = hp_win_clock_ns(); /* the request's own thread loads the shim: inject 0 */
    hp_wire_request *req = calloc(1, sizeof *req);
    if (!req)
        return hp_target_refuse(t, NULL, NULL, HP_E_NOMEM, NULL);
    req->verb = HP_WIRE_VERB_APPLY;
    req->flags = pf->no_freeze ? HP_WIRE_REQ_F_NO_FREEZE : 0;
    memcpy(req->path, pf->wpath, sizeof req->path);
    memcpy(req->file_sha256, pf->sha256, sizeof req->file_sha256);
#ifdef HP_TEST_HOOKS
    test_swap(t, pf);
#endif
    hp_status s = hp_shimc_request(t->sc, reg, req, res);
    tm->done = hp_win_clock_ns();
    free(req);
    if (s == HP_OK)
        return 0;
    if (s == HP_E_LIVE_ALREADY && res->patch_id)
        return HP_EXIT_ALREADY;
    if (s == HP_E_LIVE_INJECT || s == HP_E_LIVE_SHIM)
        return hp_target_refuse(t, HP_WIRE_SHIM_NAME, NULL, s, NULL);
    const char *fn = NULL;
    if (s == HP_E_TXN_VALIDATION || s == HP_E_LIVE_FUNC_HASH || res->failing_site != HP_WIRE_NONE)
        fn = hp_patch_function_at(&pf->pi, res->failing_rva);
    char d[96] = "";
    if (res->win32_error)
        snprintf(d, sizeof d, "error %u", res->win32_error);
    else if (s == HP_E_LIVE_ALREADY || s == HP_E_LIVE_SEQUENCE)
        snprintf(d, sizeof d, "patch id %u", res->patch_id);
    return hp_target_refuse(t, name, fn, s, d[0] ? d : NULL);
}

/* Per site CFG state of a patch just applied, from the registry the shim wrote (the result's
 * one state for every site when the registry cannot be read). */
static void applied_cfg(const hp_target *t, const hp_apply_patch *pf, const hp_wire_result *res,
                        uint8_t *states, uint32_t *rvas)
{
    for (uint32_t k = 0; k < pf->nsites; k++) {
        states[k] = (uint8_t)res->cfg;
        rvas[k] = pf->sites[k].entry_rva;
    }
    if (res->cfg == HP_WIRE_CFG_NOT_INSTRUMENTED)
        return; /* the module's state, every site's: no registry to read */
    hp_shimc_reg reg;
    if (hp_shimc_registry(t->sc, &reg) == HP_OK)
        for (uint32_t i = 0; i < reg.count; i++)
            if (reg.patches[i].id == res->patch_id && reg.patches[i].site_count == pf->nsites)
                for (uint32_t k = 0; k < pf->nsites; k++) {
                    states[k] = reg.sites[i][k].cfg;
                    rvas[k] = reg.sites[i][k].entry_rva;
                }
    hp_shimc_reg_free(&reg);
}

static const char *phase_names[HP_WIRE_PH_COUNT] = { "validate", "load",   "fixup",
                                                    "callback", "commit", "total" };

/* --json: the shim's phases, what was done for CFG per site, and hotpe's side. */
static void applied_json(const hp_target *t, const hp_apply_patch *pf, const hp_wire_result *res,
                         const uint8_t *states, const uint32_t *rvas, const apply_times *tm,
                         hp_json *j)
{
    hp_target_json_begin(t, j, "applied");
    hp_json_key(j, "patch_id");
    hp_json_u64(j, res->patch_id);
    hp_json_key(j, "sites");
    hp_json_u64(j, pf->nsites);
    hp_json_key(j, "froze");
    hp_json_bool(j, (res->flags & HP_WIRE_RES_F_FROZE) != 0);
    hp_json_key(j, "freeze_ns");
    hp_json_u64(j, res->freeze_ns);
    hp_json_key(j, "threads_moved");
    hp_json_u64(j, res->moved);
    hp_json_key(j, "channel");
    hp_json_bool(j, res->via_channel != 0);
    hp_json_key(j, "phases_ns");
    hp_json_object_begin(j);
    for (unsigned k = 0; k < HP_WIRE_PH_COUNT; k++) {
        hp_json_key(j, phase_names[k]);
        hp_json_u64(j, res->phase_ns[k]);
    }
    hp_json_object_end(j);
    hp_json_key(j, "cfg");
    hp_json_str(j, hp_cfg_state_name((uint8_t)res->cfg));
    hp_json_key(j, "cfg_error"); /* GetLastError of a failed SetProcessValidCallTargets */
    if (res->cfg == HP_WIRE_CFG_FAILED && res->cfg_error)
        hp_json_u64(j, res->cfg_error);
    else
        hp_json_null(j);
    hp_json_key(j, "site_cfg");
    hp_json_array_begin(j);
    for (uint32_t k = 0; k < pf->nsites; k++) {
        hp_json_object_begin(j);
        hp_json_key(j, "entry_rva");
        hp_json_u64(j, rvas[k]);
        hp_json_key(j, "function");
        hp_json_str(j, hp_patch_function_at(&pf->pi, rvas[k]));
        hp_json_key(j, "cfg");
        hp_json_str(j, hp_cfg_state_name(states[k]));
        hp_json_object_end(j);
    }
    hp_json_array_end(j);
    /* hotpe's side: outside validation, injecting the shim, the request (the shim's phases
     * above, and the remote thread around them) */
    hp_json_key(j, "hotpe_ns");
    hp_json_object_begin(j);
    hp_json_key(j, "file"); /* once per patch file, before any process */
    hp_json_u64(j, pf->file_ns);
    hp_json_key(j, "signature");
    hp_json_u64(j, pf->signature_ns);
    hp_json_key(j, "validate");
    hp_json_u64(j, tm->validated - tm->start);
    hp_json_key(j, "inject");
    hp_json_u64(j, tm->injected - tm->validated);
    hp_json_key(j, "request");
    hp_json_u64(j, tm->done - tm->injected);
    hp_json_object_end(j);
    hp_json_key(j, "module_read");
    hp_json_u64(j, tm->module_read);
    hp_json_object_end(j);
}

static void applied_text(const hp_target *t, const hp_apply_patch *pf, const hp_wire_result *res,
                         const uint8_t *states)
{
    const char *name = pf->pi.hotp.target_name;
    hp_outbuf_printf(t->out, pf->out, "%s: %s: applied %s as patch %u (%u site%s, %s, "
                     "freeze %.1f us, total %.1f ms)\n", t->object, name, pf->path,
                     res->patch_id, pf->nsites, HP_PLURAL_S(pf->nsites),
                     (res->flags & HP_WIRE_RES_F_FROZE) ? "threads frozen" : "no freeze",
                     (double)res->freeze_ns / 1e3, (double)res->phase_ns[HP_WIRE_PH_TOTAL] / 1e6);
    char prefix[96];
    snprintf(prefix, sizeof prefix, "%s: %s: ", t->object, name);
    hp_print_cfg(t->out, pf->out, prefix, states, 1, pf->nsites, res->cfg_error);
}

int hp_apply_one(const hp_target *t, const hp_apply_patch *pf, hp_json *j)
{
    apply_times tm = { .start = hp_win_clock_ns() };
    uint32_t superseded = 0, already = 0;
    hp_shimc_reg reg;
    int rc = admit(t, pf, &reg, &superseded, &already, &tm.module_read);
    if (!rc && already) {
        hp_shimc_reg_free(&reg);
        print_already(t, pf, already, j);
        return 0;
    }
    if (!rc && pf->dry_run)
        print_would_apply(t, pf, superseded, j);
    tm.validated = hp_win_clock_ns();
    hp_wire_result res;
    if (!rc && !pf->dry_run)
        rc = apply_request(t, pf, &reg, &res, &tm);
    hp_shimc_reg_free(&reg);
    if (rc == HP_EXIT_ALREADY) { /* the shim found it live (another hotpe was quicker) */
        print_already(t, pf, res.patch_id, j);
        return 0;
    }
    if (rc || pf->dry_run)
        return rc;
    uint8_t *cfg_states = malloc(pf->nsites ? pf->nsites : 1);
    uint32_t *cfg_rvas = malloc((pf->nsites ? pf->nsites : 1) * sizeof *cfg_rvas);
    if (!cfg_states || !cfg_rvas) {
        free(cfg_states);
        free(cfg_rvas);
        return hp_target_refuse(t, NULL, NULL, HP_E_NOMEM, "applied; its CFG report is lost");
    }
    applied_cfg(t, pf, &res, cfg_states, cfg_rvas);
    if (j)
        applied_json(t, pf, &res, cfg_states, cfg_rvas, &tm, j);
    else
        applied_text(t, pf, &res, cfg_states);
    free(cfg_states);
    free(cfg_rvas);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* The patch file, and the verbs                                                              */
/* ------------------------------------------------------------------------------------------ */

/* The file at pf->wpath read through one handle that stays open with no sharing but reading
 * (pf->lock): nobody writes, renames or deletes it while hotpe uses it; and its hash. */
static hp_status read_locked(hp_apply_patch *pf, const char **err)
{
    HANDLE h = CreateFileW(pf->wpath, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        if (GetLastError() == ERROR_SHARING_VIOLATION) {
            *err = "it is open for writing elsewhere";
            return HP_E_IO;
        }
        /* the C library's words for the usual reasons (no such file, a directory, ...) */
        hp_status s = hp_cli_read_file(pf->path, &pf->data, &pf->size, err);
        free(pf->data);
        pf->data = NULL;
        return s == HP_OK ? HP_E_IO : s;
    }
    pf->lock = h;
    LARGE_INTEGER sz;
    DWORD got = 0;
    if (!GetFileSizeEx(h, &sz) || sz.QuadPart <= 0 || sz.QuadPart > (1 << 30))
        return *err = "empty or larger than 1 GiB", HP_E_IO;
    if (!(pf->data = malloc((size_t)sz.QuadPart)))
        return HP_E_NOMEM;
    pf->size = (size_t)sz.QuadPart;
    if (!ReadFile(h, pf->data, (DWORD)pf->size, &got, NULL) || got != pf->size)
        return HP_E_IO;
    return hp_sha256_of(pf->data, pf->size, pf->sha256);
}

hp_status hp_apply_load(hp_apply_patch *pf, const char *path, const char **err)
{
    pf->path = path;
    pf->out = stdout;
    *err = NULL;
    wchar_t wrel[HP_WIRE_PATH_MAX];
    hp_status s = HP_OK;
    if (!MultiByteToWideChar(CP_ACP, 0, path, -1, wrel, HP_WIRE_PATH_MAX) ||
        !GetFullPathNameW(wrel, HP_WIRE_PATH_MAX, pf->wpath, NULL))
        s = HP_E_ARG, *err = "path too long";
    uint64_t t0 = hp_win_clock_ns();
    if (s == HP_OK)
        s = read_locked(pf, err);
    uint64_t t1 = hp_win_clock_ns();
    pf->file_ns = t1 - t0;
    if (s == HP_OK) {
        s = hp_trust_check(pf->wpath, &pf->trust);
        pf->signature_ns = hp_win_clock_ns() - t1;
        if (s != HP_OK)
            *err = pf->trust.detail[0] ? pf->trust.detail : NULL;
    }
    if (s == HP_OK)
        s = hp_patch_load(&pf->pi, &pf->arena, pf->data, pf->size);
    if (s == HP_OK)
        s = hp_patch_sites(&pf->pi, &pf->arena, &pf->sites, &pf->nsites);
    if (s == HP_OK && !pf->pi.hotp.target_name)
        s = HP_E_LIVE_TARGET_NAME;
    if (s == HP_OK && pf->pi.pe.pe32plus != (sizeof(void *) == 8))
        s = HP_E_LIVE_PATCH_ARCH, *err = sizeof(void *) == 8 ? "patch x86, process x64"
                                                               : "patch x64, process x86";
    if (s == HP_OK && pf->trust.warn_unsigned && !pf->quiet) /* the line the policy asks for */
        fprintf(stderr, "hotpe: %s: warning: %s; accepted because no trusted signer is "
                        "configured (hotpe trust add)\n",
                path, pf->trust.unchecked ? "signatures cannot be checked on this system "
                                            "(no WinVerifyTrust)"
                                          : "not signed");
    wchar_t shim[HP_WIRE_PATH_MAX] = L"";
    pf->shim = hp_shimc_shim_path(shim, HP_WIRE_PATH_MAX);
    snprintf(pf->shim_looked, sizeof pf->shim_looked, "looked for %ls", shim);
    return s;
}

void hp_apply_free(hp_apply_patch *pf)
{
    if (!pf)
        return;
    if (pf->lock)
        CloseHandle(pf->lock);
    hp_arena_free(&pf->arena);
    free(pf->data);
    free(pf);
}

static int apply_cb(const hp_target *t, const void *arg, hp_json *j)
{
    return hp_apply_one(t, arg, j);
}

/* A patch that cannot be used by this hotpe while 32-bit processes go on: one refusal each. */
typedef struct patch_refusal {
    const char *patch;
    hp_status s;
    const char *detail;
} patch_refusal;

static int patch_refused_cb(const hp_target *t, const void *arg, hp_json *j)
{
    (void)j;
    const patch_refusal *pr = arg;
    return hp_target_refuse(t, pr->patch, NULL, pr->s, pr->detail);
}

/* The selected processes, the patch file read once for all of them. */
static int apply_patch_file(const hp_target_opts *o, bool dry_run)
{
    hp_apply_patch *pf = calloc(1, sizeof *pf);
    if (!pf)
        return hp_cli_fail(o->patch, HP_E_NOMEM, NULL);
    const char *err;
    int rc;
    hp_status s = hp_apply_load(pf, o->patch, &err);
    if (s == HP_OK) {
        pf->no_freeze = o->no_freeze;
        pf->dry_run = dry_run;
        rc = hp_target_each_doc(o, apply_cb, pf, o->patch);
    } else if (o->json || o->nhanded || s == HP_E_LIVE_PATCH_ARCH) { /* per process: which refused */
        patch_refusal pr = { o->patch, s, err };
        rc = hp_target_each_doc(o, patch_refused_cb, &pr, o->patch);
    } else {
        rc = hp_cli_fail(o->patch, s, err);
    }
    hp_apply_free(pf);
    return rc;
}

static int apply_or_check(int argc, char **argv, bool dry_run)
{
    hp_target_opts o;
    int rc = hp_target_parse(argc, argv, &o);
    if (!rc && !hp_target_handed_whole(&o, &rc))
        rc = apply_patch_file(&o, dry_run);
    hp_target_opts_free(&o);
    return rc;
}

int hp_verb_apply(int argc, char **argv)
{
    return apply_or_check(argc, argv, false);
}

int hp_verb_check(int argc, char **argv)
{
    return apply_or_check(argc, argv, true);
}

#endif /* _WIN32 */
