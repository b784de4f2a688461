/*
 * hotpe: a process's output kept in memory (outbuf.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "outbuf.h"

/* A record's header, copied in and out (the buffer is bytes: no alignment). */
typedef struct rec {
    FILE *stream;
    size_t n;                /* FLUSH: fflush(stream) */
} rec;
#define FLUSH SIZE_MAX

static bool grow(hp_outbuf *b, size_t more)
{
    if (b->len + more <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more)
        cap *= 2;
    char *p = realloc(b->buf, cap);
    if (!p)
        return false;
    b->buf = p;
    b->cap = cap;
    return true;
}

/* n bytes of stream's text, or a flush (n FLUSH, p NULL); false: out of memory. */
static bool add(hp_outbuf *b, FILE *stream, const void *p, size_t n)
{
    rec r;
    if (p && b->last) { /* the same stream as the last record: one longer record */
        memcpy(&r, b->buf + b->last - 1, sizeof r);
        if (r.stream == stream && r.n != FLUSH) {
            if (!grow(b, n))
                return false;
            memcpy(b->buf + b->len, p, n);
            b->len += n;
            r.n += n;
            memcpy(b->buf + b->last - 1, &r, sizeof r);
            return true;
        }
    }
    if (!grow(b, sizeof r + (p ? n : 0)))
        return false;
    r = (rec){ stream, p ? n : FLUSH };
    memcpy(b->buf + b->len, &r, sizeof r);
    b->last = b->len + 1;
    b->len += sizeof r;
    if (p) {
        memcpy(b->buf + b->len, p, n);
        b->len += n;
    }
    return true;
}

void hp_outbuf_write(hp_outbuf *b, FILE *stream, const void *p, size_t n)
{
    if (n && (!b || !add(b, stream, p, n)))
        fwrite(p, 1, n, stream);
}

void hp_outbuf_putc(hp_outbuf *b, FILE *stream, char c)
{
    if (!b)
        fputc(c, stream);
    else
        hp_outbuf_write(b, stream, &c, 1);
}

void hp_outbuf_vprintf(hp_outbuf *b, FILE *stream, const char *fmt, va_list ap)
{
    if (!b) {
        vfprintf(stream, fmt, ap);
        return;
    }
    char small[512], *text = small;
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    if (n >= (int)sizeof small) {
        if ((text = malloc((size_t)n + 1)) != NULL)
            vsnprintf(text, (size_t)n + 1, fmt, again);
        else /* no memory for the line: straight out, as hp_outbuf_write does */
            vfprintf(stream, fmt, again);
    }
    va_end(again);
    if (n > 0 && text)
        hp_outbuf_write(b, stream, text, (size_t)n);
    if (text != small)
        free(text);
}

void hp_outbuf_printf(hp_outbuf *b, FILE *stream, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hp_outbuf_vprintf(b, stream, fmt, ap);
    va_end(ap);
}

void hp_outbuf_flush(hp_outbuf *b, FILE *stream)
{
    if (!b || !add(b, stream, NULL, 0))
        fflush(stream);
}

void hp_outbuf_emit(hp_outbuf *b)
{
    for (size_t at = 0; at < b->len;) {
        rec r;
        memcpy(&r, b->buf + at, sizeof r);
        at += sizeof r;
        if (r.n == FLUSH) {
            fflush(r.stream);
            continue;
        }
        fwrite(b->buf + at, 1, r.n, r.stream);
        at += r.n;
    }
    b->len = 0;
    b->last = 0;
}

bool hp_outbuf_empty(const hp_outbuf *b)
{
    return b->len == 0;
}

void hp_outbuf_free(hp_outbuf *b)
{
    free(b->buf);
    memset(b, 0, sizeof *b);
}
