/*
 * cfg_plan BASE PATCH: the CFG plan apply computes (engine/cfg.h) for a patch against a base
 * image, printed for tests/oracle/test_cfg_plan.sh to compare with llvm-readobj, the linker's
 * map and the patch's own symbols:
 *   instrumented 0|1
 *   guard_flags 0x...
 *   functions N                       (the base's GuardCFFunctionTable entries)
 *   target 0xOFFSET 0xFLAGS           (each call target, in order)
 *   site 0xENTRY_RVA 0xREPLACEMENT_RVA STATE   (STATE: pending, unaligned, not-instrumented)
 * Exit 0, or 1 with "error WHAT STATUS".
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "hotpe/engine/cfg.h"
#include "hotpe/pe/file.h"
#include "hotpe/engine/patch.h"
#include "hotpe/pe/pe.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: cfg_plan BASE PATCH\n");
        return 2;
    }
    uint8_t *base = NULL, *patch = NULL;
    size_t bsize = 0, psize = 0;
    hp_arena arena = HP_ARENA_INIT;
    hp_pe pe;
    hp_patch_info pi;
    hp_patch_site *sites = NULL;
    uint32_t n = 0;
    hp_cfg_plan plan;
    hp_status s;
    const char *what = "read";
    if ((s = hp_file_read(argv[1], &base, &bsize, NULL)) != HP_OK ||
        (s = hp_file_read(argv[2], &patch, &psize, NULL)) != HP_OK)
        goto out;
    what = "base";
    if ((s = hp_pe_parse(&pe, &arena, base, bsize, HP_PE_LAYOUT_FILE)) != HP_OK)
        goto out;
    what = "patch";
    if ((s = hp_patch_load(&pi, &arena, patch, psize)) != HP_OK ||
        (s = hp_patch_sites(&pi, &arena, &sites, &n)) != HP_OK)
        goto out;
    what = "plan";
    if ((s = hp_cfg_plan_make(&pe, &arena, sites, n, &plan)) != HP_OK)
        goto out;
    printf("instrumented %d\nguard_flags 0x%" PRIx32 "\nfunctions %" PRIu64 "\n",
           plan.instrumented, plan.guard_flags, plan.function_count);
    for (uint32_t i = 0; i < plan.count; i++)
        printf("target 0x%" PRIx64 " 0x%" PRIx64 "\n", plan.targets[i].offset,
               plan.targets[i].flags);
    for (uint32_t k = 0; k < n; k++) {
        const char *st = hp_cfg_state_name(plan.site[k]);
        printf("site 0x%" PRIx32 " 0x%" PRIx32 " %s\n", sites[k].entry_rva,
               sites[k].replacement_rva, st ? st : "pending");
    }
out:
    if (s != HP_OK)
        printf("error %s %s\n", what, hp_status_name(s));
    hp_arena_free(&arena);
    free(base);
    free(patch);
    return s == HP_OK ? 0 : 1;
}
