/* hotpe: JSON writer (see json.h). */
#include "json.h"

#include <assert.h>
#include <inttypes.h>
#include <string.h>

/* Every byte goes through these: to j->out, or kept in j->mem for it. */
static void put(hp_json *j, const char *s) { hp_outbuf_write(j->mem, j->out, s, strlen(s)); }
static void putch(hp_json *j, char c) { hp_outbuf_putc(j->mem, j->out, c); }

void hp_json_init(hp_json *j, FILE *out)
{
    j->out = out;
    j->mem = NULL;
    j->depth = 0;
    j->after_key = false;
    for (unsigned i = 0; i <= HP_JSON_MAX_DEPTH; i++)
        j->need_comma[i] = false;
}

/* Separator before a value or key at the current level. */
static void sep(hp_json *j)
{
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (j->need_comma[j->depth])
        putch(j, ',');
    j->need_comma[j->depth] = true;
}

static void open_(hp_json *j, char c)
{
    sep(j);
    assert(j->depth < HP_JSON_MAX_DEPTH);
    putch(j, c);
    j->need_comma[++j->depth] = false;
}

static void close_(hp_json *j, char c)
{
    assert(j->depth > 0 && !j->after_key);
    j->depth--;
    putch(j, c);
}

void hp_json_object_begin(hp_json *j) { open_(j, '{'); }
void hp_json_object_end(hp_json *j) { close_(j, '}'); }
void hp_json_array_begin(hp_json *j) { open_(j, '['); }
void hp_json_array_end(hp_json *j) { close_(j, ']'); }

static void put_string(hp_json *j, const char *s)
{
    putch(j, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        size_t plain = 0; /* a run that needs no escape: one write */
        while (p[plain] >= 0x20 && p[plain] < 0x7f && p[plain] != '"' && p[plain] != '\\')
            plain++;
        if (plain) {
            hp_outbuf_write(j->mem, j->out, p, plain);
            p += plain - 1;
            continue;
        }
        switch (*p) {
        case '"': put(j, "\\\""); break;
        case '\\': put(j, "\\\\"); break;
        case '\b': put(j, "\\b"); break;
        case '\f': put(j, "\\f"); break;
        case '\n': put(j, "\\n"); break;
        case '\r': put(j, "\\r"); break;
        case '\t': put(j, "\\t"); break;
        default: {
            /* Control bytes escaped; bytes >= 0x80 (names from untrusted images need not be
             * UTF-8) as \u00XX so the document stays valid whatever they are. */
            char u[8];
            snprintf(u, sizeof u, "\\u%04x", *p);
            put(j, u);
        }
        }
    }
    putch(j, '"');
}

void hp_json_key(hp_json *j, const char *key)
{
    sep(j);
    put_string(j, key);
    putch(j, ':');
    j->after_key = true;
}

void hp_json_str(hp_json *j, const char *s)
{
    sep(j);
    if (s)
        put_string(j, s);
    else
        put(j, "null");
}

void hp_json_u64(hp_json *j, uint64_t v)
{
    char d[24];
    sep(j);
    snprintf(d, sizeof d, "%" PRIu64, v);
    put(j, d);
}

void hp_json_i64(hp_json *j, int64_t v)
{
    char d[24];
    sep(j);
    snprintf(d, sizeof d, "%" PRId64, v);
    put(j, d);
}

void hp_json_hex(hp_json *j, const uint8_t *bytes, size_t n)
{
    sep(j);
    static const char digits[] = "0123456789abcdef";
    putch(j, '"');
    for (size_t i = 0; i < n; i++) {
        putch(j, digits[bytes[i] >> 4]);
        putch(j, digits[bytes[i] & 15]);
    }
    putch(j, '"');
}

void hp_json_bool(hp_json *j, bool v)
{
    sep(j);
    put(j, v ? "true" : "false");
}

void hp_json_null(hp_json *j)
{
    sep(j);
    put(j, "null");
}

void hp_json_finish(hp_json *j)
{
    assert(j->depth == 0);
    putch(j, '\n');
}

void hp_json_doc_begin(hp_json *j, FILE *out)
{
    hp_json_init(j, out);
    hp_json_object_begin(j);
    hp_json_key(j, "schema");
    hp_json_u64(j, HP_JSON_SCHEMA);
}

void hp_json_doc_end(hp_json *j)
{
    hp_json_object_end(j);
    hp_json_finish(j);
}

void hp_json_part(hp_json *part, const hp_json *j, hp_outbuf *mem)
{
    hp_json_init(part, j->out);
    part->mem = mem;
    part->depth = j->depth; /* its own commas from here; the first one is hp_json_join's */
}

void hp_json_join(hp_json *j, const hp_json *part)
{
    assert(part->depth == j->depth && !j->after_key);
    if (!part->need_comma[j->depth])
        return; /* it wrote nothing */
    if (j->need_comma[j->depth])
        putch(j, ',');
    j->need_comma[j->depth] = true;
}
