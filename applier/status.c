/*
 * hotpe status [--json]: this machine's compliance with its installed patches (docs/install.md).
 * For each installed patch, the newest of its target, every process that has the target loaded
 * is one row: hotpatched (that patch, or a newer one of the target, is live), other-build (the
 * patch is not for this build of the target: not applicable), failed (the patch would be
 * refused: why), not-up-to-date (it would apply, and is not live: why). Read with
 * ReadProcessMemory and the outside check alone: status changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const char hp_verb_status_help[] =
    "usage: hotpe status [--json]\n"
    "\n"
    "This machine's compliance with its installed patches (hotpe install). For the newest\n"
    "installed patch of each target, one row per process that has the target loaded:\n"
    "  hotpatched       the patch is live (or a newer patch of the same target is)\n"
    "  not-up-to-date   it is not live, and would apply: why (e.g. the process started before\n"
    "                   the install from an image file install could not cover, or the patch was\n"
    "                   reverted there)\n"
    "  failed           it is not live, and would be refused: the refusal\n"
    "  other-build      the process runs another build of the target: the patch does not apply\n"
    "                   to it (not counted against compliance)\n"
    "then the counts. Reads the processes with ReadProcessMemory and checks from outside, as\n"
    "`hotpe check` does: nothing is written. A 64-bit hotpe reports the 64-bit processes, a\n"
    "32-bit one the 32-bit processes.\n"
    "\n"
    "  --json   one JSON document (docs/json.md): installed, processes, summary, compliant\n"
    "\n"
    "Exit codes: 0 compliant (every row hotpatched or other-build; also when nothing is\n"
    "installed), 4 not compliant (some row not-up-to-date or failed), 1 failed (the installed\n"
    "patches cannot be read), 2 bad usage.\n";

#ifndef _WIN32

int hp_verb_status(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--json") != 0)
            return hp_cli_usage(argv[0], "status takes --json alone");
    return hp_cli_fail(argv[0], HP_E_LIVE_NEEDS_WINDOWS, NULL);
}

#else /* _WIN32 */

#include <windows.h>

#include "apply.h"
#include "hotpe/engine/installed.h"
#include "print.h"
#include "shimclient.h"
#include "target.h"

#ifdef _WIN64
#define OWN_MACHINE 0x8664
#else
#define OWN_MACHINE 0x014c
#endif

enum { ST_HOTPATCHED, ST_NOT_UP_TO_DATE, ST_FAILED, ST_OTHER_BUILD, ST_COUNT };
static const char *const state_names[ST_COUNT] = { "hotpatched", "not-up-to-date", "failed",
                                                   "other-build" };

/* One installed patch being checked: the newest of its target. */
typedef struct checked {
    const hp_inst *e;
    hp_apply_patch *pf;      /* its stored copy, read and checked once; NULL: unreadable */
    hp_status load;          /* why pf is NULL */
    const char *load_detail;
} checked;

/* The row of process t for patch c. */
static int row_state(const hp_target *t, const checked *c, char *why, size_t cap)
{
    why[0] = 0;
    hp_shimc_reg reg;
    if (hp_shimc_registry(t->sc, &reg) == HP_OK && reg.shim_base) {
        int state = -1;
        for (uint32_t i = 0; i < reg.count && state < 0; i++) {
            const hp_wire_patch *p = &reg.patches[i];
            char name[HP_PATCH_NAME_MAX];
            if (memcmp(p->file_sha256, c->e->sha256, HP_SHA256_LEN) == 0) {
                state = ST_HOTPATCHED;
            } else if (hp_patch_same_module(p->target_name, c->e->target)) {
                hp_patch_name(name, p->target_name, p->sequence, p->file_sha256);
                state = p->sequence > c->e->sequence ? ST_HOTPATCHED : ST_NOT_UP_TO_DATE;
                snprintf(why, cap, "%s %s is live", p->sequence > c->e->sequence ? "a newer patch"
                                                                               : "an older patch",
                         name);
            }
        }
        hp_shimc_reg_free(&reg);
        if (state >= 0)
            return state;
    } else {
        hp_shimc_reg_free(&reg);
    }
    if (!c->pf) {
        hp_cli_message(why, cap, c->e->name, c->load, c->load_detail);
        return ST_FAILED;
    }
    /* not live: what `hotpe check` would say */
    hp_target_verdict v = { HP_OK, "", true };
    hp_target q = *t;
    q.verdict = &v;
    q.j = NULL;
    hp_apply_one(&q, c->pf, NULL);
    if (v.s == HP_OK) {
        snprintf(why, cap, "not live: it would apply (started before the install, from an image "
                           "file not covered, or reverted)");
        return ST_NOT_UP_TO_DATE;
    }
    snprintf(why, cap, "%s", v.line);
    return v.s == HP_E_LIVE_IDENTITY || v.s == HP_E_LIVE_FUNC_HASH ? ST_OTHER_BUILD : ST_FAILED;
}

int hp_verb_status(int argc, char **argv)
{
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") != 0)
            return hp_cli_usage(argv[0], "status takes --json alone");
        json = true;
    }
    hp_inst *list;
    uint32_t n;
    if (hp_inst_read(&list, &n) != HP_OK)
        return hp_cli_fail("status", HP_E_INST_STORE, NULL);

    /* the newest installed patch of each target, of this hotpe's width */
    checked *cs = calloc(n ? n : 1, sizeof *cs);
    size_t nc = 0;
    for (uint32_t i = 0; cs && i < n; i++) {
        if (list[i].machine != OWN_MACHINE ||
            (nc && _stricmp(cs[nc - 1].e->target, list[i].target) == 0))
            continue;
        checked *c = &cs[nc++];
        char file[HP_WIRE_PATH_MAX * 3];
        hp_print_utf8(list[i].file, file, sizeof file);
        c->e = &list[i];
        c->pf = calloc(1, sizeof *c->pf);
        if (c->pf)
            c->pf->quiet = true;
        c->load = c->pf ? hp_apply_load(c->pf, file, &c->load_detail) : HP_E_NOMEM;
        if (c->load == HP_OK && memcmp(c->pf->sha256, list[i].sha256, HP_SHA256_LEN) != 0)
            c->load = HP_E_LIVE_FILE_CHANGED;
        if (c->load != HP_OK) {
            hp_apply_free(c->pf);
            c->pf = NULL;
        }
        if (c->pf)
            c->pf->dry_run = true;
    }

    hp_json j;
    if (json) {
        hp_json_doc_begin(&j, stdout);
        hp_json_key(&j, "installed");
        hp_json_array_begin(&j);
        for (uint32_t i = 0; i < n; i++) {
            char file[HP_WIRE_PATH_MAX * 3];
            hp_print_utf8(list[i].file, file, sizeof file);
            hp_json_object_begin(&j);
            hp_json_key(&j, "name");
            hp_json_str(&j, list[i].name);
            hp_json_key(&j, "target");
            hp_json_str(&j, list[i].target);
            hp_json_key(&j, "sequence");
            hp_json_u64(&j, list[i].sequence);
            hp_json_key(&j, "file");
            hp_json_str(&j, file);
            hp_json_object_end(&j);
        }
        hp_json_array_end(&j);
        hp_json_key(&j, "processes");
        hp_json_array_begin(&j);
    } else if (!n) {
        printf("no patches installed\n");
    } else {
        for (uint32_t i = 0; i < n; i++)
            printf("installed %s\n", list[i].name);
    }

    /* per patch, the processes that have its target (the selection of --module TARGET) */
    unsigned counts[ST_COUNT] = { 0 };
    for (size_t i = 0; i < nc; i++) {
        hp_target_opts o = { .verb = "status", .module = cs[i].e->target };
        hp_target_select(&o);
        for (size_t p = 0; p < o.nnative; p++) {
            hp_target t;
            char why[1024];
            if (hp_target_open(&t, o.native[p]) != HP_OK) {
                hp_target_close(&t);
                continue; /* gone, or not ours to see */
            }
            int st = row_state(&t, &cs[i], why, sizeof why);
            counts[st]++;
            if (json) {
                hp_json_object_begin(&j);
                hp_json_key(&j, "pid");
                hp_json_u64(&j, t.pid);
                hp_json_key(&j, "image");
                hp_json_str(&j, t.image[0] ? t.image : NULL);
                hp_json_key(&j, "patch");
                hp_json_str(&j, cs[i].e->name);
                hp_json_key(&j, "state");
                hp_json_str(&j, state_names[st]);
                hp_json_key(&j, "reason");
                hp_json_str(&j, why[0] ? why : NULL);
                hp_json_object_end(&j);
            } else {
                printf("%-28s %-16s %s%s%s\n", t.object, state_names[st], cs[i].e->name,
                       why[0] ? ": " : "", why);
            }
            hp_target_close(&t);
        }
        hp_target_opts_free(&o);
    }
    unsigned total = 0;
    for (int s = 0; s < ST_COUNT; s++)
        total += counts[s];
    bool compliant = counts[ST_NOT_UP_TO_DATE] == 0 && counts[ST_FAILED] == 0;
    if (json) {
        hp_json_array_end(&j);
        hp_json_key(&j, "summary");
        hp_json_object_begin(&j);
        hp_json_key(&j, "processes");
        hp_json_u64(&j, total);
        for (int s = 0; s < ST_COUNT; s++) {
            hp_json_key(&j, state_names[s]);
            hp_json_u64(&j, counts[s]);
        }
        hp_json_object_end(&j);
        hp_json_key(&j, "compliant");
        hp_json_bool(&j, compliant);
        hp_json_doc_end(&j);
    } else if (n) {
        printf("%u process%s: %u hotpatched, %u not up to date, %u failed, %u other build: %s\n",
               total, total == 1 ? "" : "es", counts[ST_HOTPATCHED], counts[ST_NOT_UP_TO_DATE],
               counts[ST_FAILED], counts[ST_OTHER_BUILD], compliant ? "compliant" : "NOT compliant");
    }
    for (size_t i = 0; i < nc; i++)
        hp_apply_free(cs[i].pf);
    free(cs);
    free(list);
    return compliant ? HP_EXIT_OK : HP_EXIT_NONCOMPLIANT;
}

#endif /* _WIN32 */
