/*
 * hotpe: a process's output kept in memory while other processes are worked on beside it
 * (target.c runs a live verb on several at once): its stdout and stderr text in the order it
 * was written, written out later, in the order of the processes, by hp_outbuf_emit.
 *
 * Every writer takes an hp_outbuf * and the stream the text is for: NULL writes straight to
 * the stream, so the same code prints directly (one process, `hotpe run`) or into a buffer.
 */
#ifndef HOTPE_OUTBUF_H
#define HOTPE_OUTBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#ifdef __MINGW_PRINTF_FORMAT
#define HP_OUTBUF_PRINTF(f, a) __attribute__((format(__MINGW_PRINTF_FORMAT, f, a)))
#else
#define HP_OUTBUF_PRINTF(f, a) __attribute__((format(printf, f, a)))
#endif

/** Records, each [stream, length, bytes]; zero it to start (or hp_outbuf_free). */
typedef struct hp_outbuf {
    char *buf;
    size_t len, cap;
    size_t last;             /* the last record's offset + 1; 0: none */
} hp_outbuf;

/** n bytes for stream (stdout or stderr). A record that cannot be kept (out of memory) goes
 * straight to its stream: out of order, but not lost. */
void hp_outbuf_write(hp_outbuf *b, FILE *stream, const void *p, size_t n);
void hp_outbuf_putc(hp_outbuf *b, FILE *stream, char c);
void hp_outbuf_vprintf(hp_outbuf *b, FILE *stream, const char *fmt, va_list ap);
void hp_outbuf_printf(hp_outbuf *b, FILE *stream, const char *fmt, ...) HP_OUTBUF_PRINTF(3, 4);
/** fflush(stream) now (NULL) or when emitted: the point where text written so far must be out
 * before what follows on another stream. */
void hp_outbuf_flush(hp_outbuf *b, FILE *stream);

/** Write what b kept to its streams, in order, and empty it. */
void hp_outbuf_emit(hp_outbuf *b);
/** True when b holds nothing. */
bool hp_outbuf_empty(const hp_outbuf *b);
void hp_outbuf_free(hp_outbuf *b);

#endif
