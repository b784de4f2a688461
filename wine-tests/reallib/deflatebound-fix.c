/* zlib 1.3's fix of deflateBound() ("Fix bug in deflateBound() for level 0 and memLevel 9"),
 * as a live patch for zlib 1.2.13's zlib1.dll built plainly (no hotpatch padding: the entry
 * form). With level 0 the data goes out in stored blocks, but a memLevel of 9 made the bound
 * the one for fixed blocks, which is smaller for short input: a deflate into a buffer of the
 * returned size could not finish. Built against zlib's own source (deflate.h is internal). */
#include <hotpe/patch.h>
#include "deflate.h"

HOTPE_PATCH("zlib1.dll", 1, "deflateBound: stored-block bound for level 0 (zlib 1.3)");

/* deflate.c's deflateStateCheck() is static (and inlined at -O2): the same check, here */
static int state_check(z_streamp strm)
{
    deflate_state *s;
    if (strm == Z_NULL || strm->zalloc == (alloc_func)0 || strm->zfree == (free_func)0)
        return 1;
    s = strm->state;
    if (s == Z_NULL || s->strm != strm ||
        (s->status != INIT_STATE && s->status != GZIP_STATE && s->status != EXTRA_STATE &&
         s->status != NAME_STATE && s->status != COMMENT_STATE && s->status != HCRC_STATE &&
         s->status != BUSY_STATE && s->status != FINISH_STATE))
        return 1;
    return 0;
}

uLong deflateBound_fixed(z_streamp strm, uLong sourceLen);
uLong deflateBound_fixed(z_streamp strm, uLong sourceLen)
{
    deflate_state *s;
    uLong fixedlen, storelen, wraplen;

    fixedlen = sourceLen + (sourceLen >> 3) + (sourceLen >> 8) + (sourceLen >> 9) + 4;
    storelen = sourceLen + (sourceLen >> 5) + (sourceLen >> 7) + (sourceLen >> 11) + 7;
    if (state_check(strm))
        return (fixedlen > storelen ? fixedlen : storelen) + 6;

    s = strm->state;
    switch (s->wrap) {
    case 0:
        wraplen = 0;
        break;
    case 1:
        wraplen = 6 + (s->strstart ? 4 : 0);
        break;
    case 2:
        wraplen = 18;
        if (s->gzhead != Z_NULL) {
            Bytef *str;
            if (s->gzhead->extra != Z_NULL)
                wraplen += 2 + s->gzhead->extra_len;
            str = s->gzhead->name;
            if (str != Z_NULL)
                do {
                    wraplen++;
                } while (*str++);
            str = s->gzhead->comment;
            if (str != Z_NULL)
                do {
                    wraplen++;
                } while (*str++);
            if (s->gzhead->hcrc)
                wraplen += 2;
        }
        break;
    default:
        wraplen = 6;
    }

    if (s->w_bits != 15 || s->hash_bits != 8 + 7)
        /* the fix: "&& s->level" */
        return (s->w_bits <= s->hash_bits && s->level ? fixedlen : storelen) + wraplen;
    return sourceLen + (sourceLen >> 12) + (sourceLen >> 14) + (sourceLen >> 25) + 13 - 6 + wraplen;
}

HOTPE_REPLACE(deflateBound, deflateBound_fixed);
