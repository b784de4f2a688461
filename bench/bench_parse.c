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

#include "pe.h"
#include "file.h"

typedef struct image {
    uint8_t *data;
    size_t size;
} image;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}


/* One image; returns whether its headers parsed. Directory failures are results, not errors. */
static int parse_one(const image *img, uint64_t *sink)
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

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int reps = 5, first = 1;
    if (argc > 2 && strcmp(argv[1], "-r") == 0) {
        reps = atoi(argv[2]);
        first = 3;
    }
    if (reps < 1)
        reps = 1;

    size_t cap = 2048, count = 0;
    uint64_t bytes = 0;
    image *imgs = malloc(cap * sizeof *imgs);
    char line[4096];
    for (int i = first;; i++) {
        const char *path;
        if (first < argc) {
            if (i >= argc)
                break;
            path = argv[i];
        } else {
            if (!fgets(line, sizeof line, stdin))
                break;
            line[strcspn(line, "\n")] = 0;
            if (!line[0])
                continue;
            path = line;
        }
        if (count == cap) {
            cap *= 2;
            imgs = realloc(imgs, cap * sizeof *imgs);
        }
        if (!imgs) {
            fprintf(stderr, "bench_parse: out of memory\n");
            return 1;
        }
        if (hp_file_read(path, &imgs[count].data, &imgs[count].size, NULL) != HP_OK) {
            fprintf(stderr, "bench_parse: cannot read %s\n", path);
            return 1;
        }
        bytes += imgs[count].size;
        count++;
    }
    if (count == 0) {
        fprintf(stderr, "usage: bench_parse [-r REPS] FILE... (or the list on stdin)\n");
        return 2;
    }

    double *times = malloc((size_t)reps * sizeof *times);
    uint64_t sink = 0;
    size_t failed = 0;
    /* One untimed pass warms caches and the allocator. */
    for (size_t i = 0; i < count; i++)
        failed += !parse_one(&imgs[i], &sink);
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        for (size_t i = 0; i < count; i++)
            parse_one(&imgs[i], &sink);
        times[r] = now() - t0;
    }
    qsort(times, (size_t)reps, sizeof *times, cmp_double);
    double best = times[0], median = times[reps / 2];
    printf("images=%zu bytes=%llu failed=%zu reps=%d best_s=%.4f median_s=%.4f images_per_s=%.0f "
           "mb_per_s=%.0f sink=%llu\n",
           count, (unsigned long long)bytes, failed, reps, best, median, (double)count / best,
           (double)bytes / 1e6 / best, (unsigned long long)sink);

    for (size_t i = 0; i < count; i++)
        free(imgs[i].data);
    free(imgs);
    free(times);
    return 0;
}
