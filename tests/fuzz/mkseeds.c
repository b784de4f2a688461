/*
 * Synthetic fuzzing seeds: the mkpe_sample image (every directory hotpe parses) for x86 and
 * x64, in file and loaded layout, written as files into the directory given.
 * Built and run by tests/fuzz/run.sh.
 */
#include <stdio.h>

#include "mkpe_sample.h"

static int write_file(const char *dir, const char *name, const mkpe_image *img)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(img->data, 1, img->size, f) != img->size || fclose(f) != 0) {
        perror(path);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: mkseeds DIR\n");
        return 2;
    }
    int rc = 0;
    for (int a = 0; a < 2; a++) {
        mkpe_sample m;
        mkpe_sample_init(&m, a ? MKPE_X64 : MKPE_X86);
        mkpe_image file = mkpe_build(&m.spec), loaded = mkpe_build_loaded(&m.spec);
        rc |= write_file(argv[1], a ? "sample-x64.dll" : "sample-x86.dll", &file);
        rc |= write_file(argv[1], a ? "sample-x64.loaded" : "sample-x86.loaded", &loaded);
        mkpe_free(&file);
        mkpe_free(&loaded);
        mkpe_sample_free(&m);
    }
    return rc;
}
