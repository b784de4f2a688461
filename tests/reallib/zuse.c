/* zpipe: a small line-driven user of zlib1.dll, the target of live patching tests.
 *
 * Prints "pid <id>" first, then reads commands from stdin, one a line:
 *   c TEXT   crc32 of TEXT, 8 hex digits
 *   a TEXT   adler32 of TEXT, 8 hex digits
 *   z TEXT   compress then uncompress TEXT: "ok <compressed size>" or "error <step> <code>"
 *   q        exit
 * Anything else prints "error unknown command". stdout is flushed after every line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>
#include "zlib.h"

static void roundtrip(const char *text, size_t n) {
    uLongf clen = compressBound((uLong)n);
    uLongf dlen = (uLongf)n + 1;
    Bytef *cbuf = malloc(clen);
    Bytef *dbuf = malloc(dlen);
    int rc;

    if (cbuf == NULL || dbuf == NULL) {
        printf("error memory 0\n");
    } else if ((rc = compress(cbuf, &clen, (const Bytef *)text, (uLong)n)) != Z_OK) {
        printf("error compress %d\n", rc);
    } else if ((rc = uncompress(dbuf, &dlen, cbuf, clen)) != Z_OK) {
        printf("error uncompress %d\n", rc);
    } else if (dlen != n || memcmp(dbuf, text, n) != 0) {
        printf("error mismatch 0\n");
    } else {
        printf("ok %lu\n", (unsigned long)clen);
    }
    free(cbuf);
    free(dbuf);
}

int main(void) {
    static char line[1 << 16];

    printf("pid %lu\n", (unsigned long)GetCurrentProcessId());
    fflush(stdout);
    while (fgets(line, sizeof line, stdin) != NULL) {
        size_t n = strcspn(line, "\r\n");
        const char *text;

        line[n] = '\0';
        if (n == 0 || (line[1] != '\0' && line[1] != ' ')) {
            printf("error unknown command\n");
            fflush(stdout);
            continue;
        }
        text = line[1] == ' ' ? line + 2 : line + 1;
        n = strlen(text);
        switch (line[0]) {
        case 'c':
            printf("%08lx\n", (unsigned long)crc32(crc32(0L, Z_NULL, 0), (const Bytef *)text, (uInt)n));
            break;
        case 'a':
            printf("%08lx\n", (unsigned long)adler32(adler32(0L, Z_NULL, 0), (const Bytef *)text, (uInt)n));
            break;
        case 'z':
            roundtrip(text, n);
            break;
        case 'q':
            fflush(stdout);
            return 0;
        default:
            printf("error unknown command\n");
            break;
        }
        fflush(stdout);
    }
    return 0;
}
