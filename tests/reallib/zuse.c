/* zpipe: a small line-driven user of zlib1.dll, the target of live patching tests.
 *
 * Prints "pid <id>" first, then reads commands from stdin, one a line, and answers each with one
 * line starting with the command's letter and a space:
 *   c TEXT    crc32 of TEXT, 8 hex digits
 *   a TEXT    adler32 of TEXT, 8 hex digits
 *   z TEXT    compress then uncompress TEXT: "ok <compressed size>" or "error <step> <code>"
 *   b L M N   deflateBound() of N bytes for level L and memLevel M, then deflate N bytes into a
 *             buffer of exactly that size: "<bound> end" when it fits, "<bound> short" when not
 *             (zlib before 1.3 underestimates level 0 with memLevel 9)
 *   t N       start N threads calling deflateBound(L 0, M 9, 1 byte) and compress() in a loop
 *   s         what they saw: "calls <n> bounds <distinct values, in first-seen order> bad <n>";
 *             bad counts roundtrips that failed
 *   q         exit
 * Anything else prints "? unknown command". stdout is flushed after every line. */
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
        printf("z error memory 0\n");
    } else if ((rc = compress(cbuf, &clen, (const Bytef *)text, (uLong)n)) != Z_OK) {
        printf("z error compress %d\n", rc);
    } else if ((rc = uncompress(dbuf, &dlen, cbuf, clen)) != Z_OK) {
        printf("z error uncompress %d\n", rc);
    } else if (dlen != n || memcmp(dbuf, text, n) != 0) {
        printf("z error mismatch 0\n");
    } else {
        printf("z ok %lu\n", (unsigned long)clen);
    }
    free(cbuf);
    free(dbuf);
}

/* deflateBound(level, memLevel, n) and whether a deflate of n bytes fits in it; -1 on error */
static long bound_fits(int level, int mem_level, uLong n, int *fits) {
    z_stream s;
    Bytef in[256], out[512];
    uLong bound;
    int rc;

    if (n > sizeof in)
        return -1;
    memset(&s, 0, sizeof s);
    memset(in, 'x', sizeof in);
    if (deflateInit2(&s, level, Z_DEFLATED, 15, mem_level, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    bound = deflateBound(&s, n);
    if (bound > sizeof out) {
        deflateEnd(&s);
        return -1;
    }
    s.next_in = in;
    s.avail_in = (uInt)n;
    s.next_out = out;
    s.avail_out = (uInt)bound;
    rc = deflate(&s, Z_FINISH);
    *fits = rc == Z_STREAM_END;
    deflateEnd(&s);
    return (long)bound;
}

#define MAX_SEEN 4
static volatile LONG g_calls, g_bad, g_seen_n;
static volatile LONG g_seen[MAX_SEEN];

static void note_bound(long b) {
    LONG n = g_seen_n;
    for (LONG i = 0; i < n && i < MAX_SEEN; i++)
        if (g_seen[i] == b)
            return;
    /* one writer wins each slot; a racing duplicate is harmless (printed once per value) */
    if (n < MAX_SEEN && InterlockedCompareExchange(&g_seen[n], (LONG)b, 0) == 0)
        InterlockedIncrement(&g_seen_n);
}

static DWORD WINAPI hammer(void *arg) {
    static const char text[] = "hotpe patches zlib live";
    (void)arg;
    for (;;) {
        int fits;
        long b = bound_fits(0, 9, 1, &fits);
        Bytef cbuf[128], dbuf[sizeof text];
        uLongf clen = sizeof cbuf, dlen = sizeof dbuf;

        note_bound(b);
        if (compress(cbuf, &clen, (const Bytef *)text, sizeof text) != Z_OK ||
            uncompress(dbuf, &dlen, cbuf, clen) != Z_OK || dlen != sizeof text ||
            memcmp(dbuf, text, sizeof text) != 0)
            InterlockedIncrement(&g_bad);
        InterlockedIncrement(&g_calls);
    }
    return 0;
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
            printf("? unknown command\n");
            fflush(stdout);
            continue;
        }
        text = line[1] == ' ' ? line + 2 : line + 1;
        n = strlen(text);
        switch (line[0]) {
        case 'c':
            printf("c %08lx\n", (unsigned long)crc32(crc32(0L, Z_NULL, 0), (const Bytef *)text, (uInt)n));
            break;
        case 'a':
            printf("a %08lx\n", (unsigned long)adler32(adler32(0L, Z_NULL, 0), (const Bytef *)text, (uInt)n));
            break;
        case 'z':
            roundtrip(text, n);
            break;
        case 'b': {
            int level, mem_level, fits = 0;
            unsigned long len;
            long b = -1;
            if (sscanf(text, "%d %d %lu", &level, &mem_level, &len) == 3)
                b = bound_fits(level, mem_level, len, &fits);
            if (b < 0)
                printf("b error\n");
            else
                printf("b %ld %s\n", b, fits ? "end" : "short");
            break;
        }
        case 't': {
            int k = atoi(text), started = 0;
            for (int i = 0; i < k && i < 16; i++)
                if (CreateThread(NULL, 0, hammer, NULL, 0, NULL) != NULL)
                    started++;
            printf("t %d\n", started);
            break;
        }
        case 's': {
            LONG m = g_seen_n;
            printf("s calls %ld bounds", (long)g_calls);
            for (LONG i = 0; i < m && i < MAX_SEEN; i++)
                printf(" %ld", (long)g_seen[i]);
            printf(" bad %ld\n", (long)g_bad);
            break;
        }
        case 'q':
            fflush(stdout);
            return 0;
        default:
            printf("? unknown command\n");
            break;
        }
        fflush(stdout);
    }
    return 0;
}
