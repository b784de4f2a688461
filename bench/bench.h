/*
 * hotpe benchmarks: what every benchmark program shares. Images are read into memory before any
 * timing, so the numbers measure hotpe, not the disk.
 */
#ifndef HOTPE_BENCH_H
#define HOTPE_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hotpe/pe/file.h"

typedef struct bench_image {
    char *path;
    uint8_t *data;
    size_t size;
} bench_image;

typedef struct bench_set {
    int reps;             /* -r REPS, default 5 */
    size_t count;
    uint64_t bytes;
    bench_image *images;
} bench_set;

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/*
 * `tool [-r REPS] FILE...`, or the file list one per line on stdin: reads every file into
 * memory. Exits with a message on bad usage (2) or a file it cannot read (1).
 */
static inline bench_set bench_load(const char *tool, int argc, char **argv)
{
    bench_set set = { 5, 0, 0, NULL };
    int first = 1;
    if (argc > 2 && strcmp(argv[1], "-r") == 0) {
        set.reps = atoi(argv[2]) > 0 ? atoi(argv[2]) : 1;
        first = 3;
    }
    size_t cap = 0;
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
        if (set.count == cap) {
            cap = cap ? cap * 2 : 2048;
            set.images = realloc(set.images, cap * sizeof *set.images);
        }
        bench_image *img = set.images ? &set.images[set.count] : NULL;
        if (!img || !(img->path = strdup(path))) {
            fprintf(stderr, "%s: out of memory\n", tool);
            exit(1);
        }
        if (hp_file_read(path, &img->data, &img->size, NULL) != HP_OK) {
            fprintf(stderr, "%s: cannot read %s\n", tool, path);
            exit(1);
        }
        set.bytes += img->size;
        set.count++;
    }
    if (set.count == 0) {
        fprintf(stderr, "usage: %s [-r REPS] FILE... (or the list on stdin)\n", tool);
        exit(2);
    }
    return set;
}

static inline void bench_free(bench_set *set)
{
    for (size_t i = 0; i < set->count; i++) {
        free(set->images[i].path);
        free(set->images[i].data);
    }
    free(set->images);
}

#endif
