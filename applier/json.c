/* hotpe: JSON writer (see json.h). */
#include "json.h"

#include <assert.h>
#include <inttypes.h>

void hp_json_init(hp_json *j, FILE *out)
{
    j->out = out;
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
        fputc(',', j->out);
    j->need_comma[j->depth] = true;
}

static void open_(hp_json *j, char c)
{
    sep(j);
    assert(j->depth < HP_JSON_MAX_DEPTH);
    fputc(c, j->out);
    j->need_comma[++j->depth] = false;
}

static void close_(hp_json *j, char c)
{
    assert(j->depth > 0 && !j->after_key);
    j->depth--;
    fputc(c, j->out);
}

void hp_json_object_begin(hp_json *j) { open_(j, '{'); }
void hp_json_object_end(hp_json *j) { close_(j, '}'); }
void hp_json_array_begin(hp_json *j) { open_(j, '['); }
void hp_json_array_end(hp_json *j) { close_(j, ']'); }

static void put_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\b': fputs("\\b", out); break;
        case '\f': fputs("\\f", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            /* Control bytes escaped; bytes >= 0x80 (names from untrusted images need not be
             * UTF-8) as \u00XX so the document stays valid whatever they are. */
            if (*p < 0x20 || *p >= 0x7f)
                fprintf(out, "\\u%04x", *p);
            else
                fputc(*p, out);
        }
    }
    fputc('"', out);
}

void hp_json_key(hp_json *j, const char *key)
{
    sep(j);
    put_string(j->out, key);
    fputc(':', j->out);
    j->after_key = true;
}

void hp_json_str(hp_json *j, const char *s)
{
    sep(j);
    if (s)
        put_string(j->out, s);
    else
        fputs("null", j->out);
}

void hp_json_u64(hp_json *j, uint64_t v)
{
    sep(j);
    fprintf(j->out, "%" PRIu64, v);
}

void hp_json_i64(hp_json *j, int64_t v)
{
    sep(j);
    fprintf(j->out, "%" PRId64, v);
}

void hp_json_hex(hp_json *j, const uint8_t *bytes, size_t n)
{
    sep(j);
    fputc('"', j->out);
    for (size_t i = 0; i < n; i++)
        fprintf(j->out, "%02x", bytes[i]);
    fputc('"', j->out);
}

void hp_json_bool(hp_json *j, bool v)
{
    sep(j);
    fputs(v ? "true" : "false", j->out);
}

void hp_json_null(hp_json *j)
{
    sep(j);
    fputs("null", j->out);
}

void hp_json_finish(hp_json *j)
{
    assert(j->depth == 0);
    fputc('\n', j->out);
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
