/*
 * Synthetic fuzzing seeds: the mkpe_sample image (every directory hotpe parses) for x86 and
 * x64, in file and loaded layout, and the mkcoff sample object (x86, x64, /bigobj) and an
 * archive of each style holding objects, written as files into the directory given.
 * Built and run by tests/fuzz/run.sh.
 */
#include <stdio.h>

#include "mkcoff.h"
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
    static const char *const obj_names[3] = { "sample-x86.o", "sample-x64.o", "sample-x64-bigobj.o" };
    mkpe_image objs[3];
    for (int k = 0; k < 3; k++) {
        mkcoff_spec spec;
        mkcoff_sample(&spec, k ? HP_IMAGE_FILE_MACHINE_AMD64 : HP_IMAGE_FILE_MACHINE_I386, k == 2);
        objs[k] = mkcoff_build(&spec, NULL);
        rc |= write_file(argv[1], obj_names[k], &objs[k]);
    }
    static const char *const ar_names[3] = { "sample-gnu.a", "sample-ms.lib", "sample-bsd.a" };
    mkcoff_member members[3] = {
        { "x86.o", objs[0].data, objs[0].size },
        { "a_member_with_a_long_name.obj", objs[1].data, objs[1].size },
        { "bigobj.o", objs[2].data, objs[2].size },
    };
    for (int style = 0; style < 3; style++) {
        mkpe_image ar = mkcoff_ar(members, 3, (mkcoff_ar_style)style, NULL);
        rc |= write_file(argv[1], ar_names[style], &ar);
        mkpe_free(&ar);
    }
    for (int k = 0; k < 3; k++)
        mkpe_free(&objs[k]);
    return rc;
}
