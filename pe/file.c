/* hotpe: whole-file reads (see file.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "hotpe/pe/file.h"

hp_status hp_file_read(const char *path, uint8_t **data, size_t *size, int *err)
{
    int dummy;
    if (!err)
        err = &dummy;
    *data = NULL;
    *size = 0;
    *err = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        *err = errno;
        /* a directory: msvcrt's fopen says only EACCES ("Permission denied") */
        struct stat st;
        if (*err == EACCES && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            *err = EISDIR;
        return HP_E_IO;
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    hp_status s = buf ? HP_OK : HP_E_NOMEM;
    while (s == HP_OK) {
        if (n == cap) {
            /* Doubling cannot overflow before malloc fails on any real file. */
            uint8_t *bigger = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
            if (!bigger) {
                s = HP_E_NOMEM;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                *err = errno ? errno : EIO;
                s = HP_E_IO;
            }
            break;
        }
    }
    fclose(f);
    if (s != HP_OK) {
        free(buf);
        return s;
    }
    *data = buf;
    *size = n;
    return HP_OK;
}
