/*
 * Parse throughput over a set of images: bench_parse [-r REPS] FILE... (or the list on stdin).
 * Every file is read into memory once, before any timing. Each repetition then parses every
 * image, single-threaded, the way `scan` does before decoding: headers and section table,
 * exports, the x64 exception directory and the load config with its CFG tables. The arena is
 * freed after each image (that cost is part of parsing).
 *
 * Prints one line of key=value pairs: images, bytes, failed (images whose headers do not
 * parse; their time still counts), reps, best and median seconds per repetition, and the
 * images/s and MB/s of the best repetition.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hotpe/pe/pe.h"
#include "bench.h"

/* One image; returns whether its headers parsed. Directory failures are results, not errors. */
static int parse_one(const bench_image *img, uint64_t *sink)
{
    hp_arena arena = HP_ARENA_INIT;
    hp_pe pe;
    int ok = hp_pe_parse(&pe, &arena, img->data, img->size, HP_PE_LAYOUT_FILE) == HP_OK;
    if (ok) {
        hp_pe_exports ex;
        hp_pe_pdata pd;
        hp_pe_loadcfg lc;
        if (hp_pe_exports_parse(&pe, &arena, &ex) == HP_OK)
            *sink += ex.count + ex.name_count;
        if (hp_pe_pdata_parse(&pe, &arena, &pd) == HP_OK)
            *sink += pd.count;
        if (hp_pe_loadcfg_parse(&pe, &arena, &lc) == HP_OK)
            *sink += lc.cf_functions.count;
    }
    hp_arena_free(&arena);
    return ok;
}

int main(int argc, char **argv)
{
    bench_set set = bench_load("bench_parse", argc, argv);
    int reps = set.reps;
    size_t count = set.count;
    uint64_t bytes = set.bytes;
    const bench_image *imgs = set.images;

    double *times = malloc((size_t)reps * sizeof *times);
    uint64_t sink = 0;
    size_t failed = 0;
    /* One untimed pass warms caches and the allocator. */
    for (size_t i = 0; i < count; i++)
        failed += !parse_one(&imgs[i], &sink);
    for (int r = 0; r < reps; r++) {
        double t0 = bench_now();
        for (size_t i = 0; i < count; i++)
            parse_one(&imgs[i], &sink);
        times[r] = bench_now() - t0;
    }
    qsort(times, (size_t)reps, sizeof *times, bench_cmp_double);
    double best = times[0], median = times[reps / 2];
    printf("images=%zu bytes=%llu failed=%zu reps=%d best_s=%.4f median_s=%.4f images_per_s=%.0f "
           "mb_per_s=%.0f sink=%llu\n",
           count, (unsigned long long)bytes, failed, reps, best, median, (double)count / best,
           (double)bytes / 1e6 / best, (unsigned long long)sink);

    bench_free(&set);
    free(times);
    return 0;
}
