/*
 * Scan throughput: bench_scan [-r REPS] FILE... (or the list on stdin), single thread.
 * Per image, what `hotpe scan` does before printing: parse the headers, init the Zydis
 * context, analyze every entry (exports, .pdata, COFF symbols, CFG table, entry point; one
 * decode per entry). Two measurements:
 *   mem:  images read into memory first, then timed (the analysis alone);
 *   mmap: each image opened, mapped, analyzed and unmapped (page cache warm), as a scan that
 *         touches only the pages it needs.
 * Prints one line of key=value pairs: images, bytes, functions, failed, reps, best and median
 * seconds, MB/s and functions/s of the best repetition, and mmap_best_s / mmap_mb_per_s.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hotpe/pe/pe.h"
#include "bench.h"
#include "hotpe/pe/site.h"

/* Functions found, or -1 when the image is refused. */
static long scan_one(const uint8_t *data, size_t size)
{
    hp_arena arena = HP_ARENA_INIT;
    hp_pe pe;
    hp_site_ctx ctx;
    hp_site_list list;
    long n = -1;
    if (hp_pe_parse(&pe, &arena, data, size, HP_PE_LAYOUT_FILE) == HP_OK &&
        hp_site_ctx_init(&ctx, &pe) == HP_OK && hp_site_analyze(&ctx, &pe, &arena, &list) == HP_OK)
        n = (long)list.count;
    hp_arena_free(&arena);
    return n;
}

static long scan_mapped(const char *path)
{
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size == 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return -1;
    long n = scan_one(p, (size_t)st.st_size);
    munmap(p, (size_t)st.st_size);
    return n;
}

int main(int argc, char **argv)
{
    bench_set set = bench_load("bench_scan", argc, argv);
    int reps = set.reps;
    size_t count = set.count;
    uint64_t bytes = set.bytes;
    const bench_image *imgs = set.images;

    double *times = malloc((size_t)reps * sizeof *times);
    double *mtimes = malloc((size_t)reps * sizeof *mtimes);
    uint64_t functions = 0;
    size_t failed = 0;
    /* One untimed pass warms caches and counts. */
    for (size_t i = 0; i < count; i++) {
        long n = scan_one(imgs[i].data, imgs[i].size);
        if (n < 0)
            failed++;
        else
            functions += (uint64_t)n;
    }
    volatile long sink = 0;
    for (int r = 0; r < reps; r++) {
        double t0 = bench_now();
        for (size_t i = 0; i < count; i++)
            sink += scan_one(imgs[i].data, imgs[i].size);
        times[r] = bench_now() - t0;
        t0 = bench_now();
        for (size_t i = 0; i < count; i++)
            sink += scan_mapped(imgs[i].path);
        mtimes[r] = bench_now() - t0;
    }
    qsort(times, (size_t)reps, sizeof *times, bench_cmp_double);
    qsort(mtimes, (size_t)reps, sizeof *mtimes, bench_cmp_double);
    double best = times[0], median = times[reps / 2];
    printf("images=%zu bytes=%llu functions=%llu failed=%zu reps=%d best_s=%.4f median_s=%.4f "
           "mb_per_s=%.0f functions_per_s=%.0f mmap_best_s=%.4f mmap_mb_per_s=%.0f\n",
           count, (unsigned long long)bytes, (unsigned long long)functions, failed, reps, best,
           median, (double)bytes / 1e6 / best, (double)functions / best, mtimes[0],
           (double)bytes / 1e6 / mtimes[0]);

    bench_free(&set);
    free(times);
    free(mtimes);
    return 0;
}
